#define G_LOG_DOMAIN "wavebench-cli"
#include "config.h"

#include "wb-cli-common.h"
#include "wb-error.h"

int
wb_cli_fail (GError *error)
{
  int code = wb_error_exit_code (error);

  g_printerr ("wavebench-cli: error: %s\n", error->message);
  g_error_free (error);
  return code ? code : 1;
}

int
wb_cli_usage_error (const char *fmt,
                    ...)
{
  va_list ap;
  g_autofree char *msg = NULL;

  va_start (ap, fmt);
  msg = g_strdup_vprintf (fmt, ap);
  va_end (ap);
  g_printerr ("wavebench-cli: error: %s\n", msg);
  return 2;
}

gboolean
wb_cli_parse_options (const char   *usage,
                      const char   *summary,
                      GOptionEntry *entries,
                      int          *argc,
                      char       ***argv)
{
  g_autoptr(GOptionContext) ctx = g_option_context_new (usage);
  g_autoptr(GError) error = NULL;

  g_option_context_set_summary (ctx, summary);
  g_option_context_add_main_entries (ctx, entries, NULL);
  if (!g_option_context_parse (ctx, argc, argv, &error))
    {
      g_printerr ("wavebench-cli: error: %s\n", error->message);
      return FALSE;
    }
  return TRUE;
}

void
wb_cli_print_json (JsonBuilder *builder)
{
  g_autoptr(JsonGenerator) gen = json_generator_new ();
  g_autoptr(JsonNode) root = json_builder_get_root (builder);
  g_autofree char *s = NULL;

  json_generator_set_pretty (gen, TRUE);
  json_generator_set_root (gen, root);
  s = json_generator_to_data (gen, NULL);
  g_print ("%s\n", s);
}
