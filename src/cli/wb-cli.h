/* wb-cli.h: subcommands of wavebench-cli implemented outside the main file. */
#pragma once

int wb_cli_synth      (int argc, char **argv);
int wb_cli_migrate    (int argc, char **argv);
int wb_cli_bench_pstm (int argc, char **argv);
int wb_cli_debug      (int argc, char **argv);
