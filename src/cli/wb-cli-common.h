/* wb-cli-common.h: what every wavebench-cli subcommand shares: error exits
 * (2 for bad input, 1 for run-time failures), option parsing, JSON output. */
#pragma once

#include <glib.h>
#include <json-glib/json-glib.h>

G_BEGIN_DECLS

/* Prints "wavebench-cli: error: MESSAGE", frees @error, returns its exit code. */
int      wb_cli_fail          (GError       *error);
/* Prints the message and returns 2. */
int      wb_cli_usage_error   (const char   *fmt,
                               ...) G_GNUC_PRINTF (1, 2);
/* Parses a subcommand's options; FALSE (exit 2) with a message printed. */
gboolean wb_cli_parse_options (const char   *usage,
                               const char   *summary,
                               GOptionEntry *entries,
                               int          *argc,
                               char       ***argv);
/* Prints the builder's document, pretty, on stdout. */
void     wb_cli_print_json    (JsonBuilder  *builder);

G_END_DECLS
