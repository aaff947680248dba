/* wb-cli-pstm.h: the migration subcommands of wavebench-cli: `synth`,
 * `migrate` and `bench pstm`.  Each takes its own argv (argv[0] is the
 * subcommand's name) and returns the exit status. */
#pragma once

int wb_cli_synth      (int argc, char **argv);
int wb_cli_migrate    (int argc, char **argv);
int wb_cli_bench_pstm (int argc, char **argv);
