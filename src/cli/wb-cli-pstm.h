/* wb-cli-pstm.h: the migration subcommands of wavebench-cli: `synth`,
 * `migrate` and `bench pstm`.  Each takes its own argv (argv[0] is the
 * subcommand's name) and returns the exit status. */
#pragma once

#include <json-glib/json-glib.h>
#include "wb-device.h"

int wb_cli_synth      (int argc, char **argv);
int wb_cli_migrate    (int argc, char **argv);
int wb_cli_bench_pstm (int argc, char **argv);

/* One row of `bench all` (the default case, calibrated to the device):
 * printed when @print, and one object added to the array open in @jb. */
gboolean wb_cli_bench_pstm_row (WbDevice     *device,
                                const char   *kernels,
                                JsonBuilder  *jb,
                                gboolean      print,
                                GError      **error);
