#define G_LOG_DOMAIN "wavebench"
#include "config.h"

#include <locale.h>
#include <glib/gi18n.h>

#include "wb-application.h"

/* Running from the build tree, before `meson install`: use the schema
 * compiled there, so the app works without installing anything.  The
 * default schema source is cached on first use, so look with sources of
 * our own and only set GSETTINGS_SCHEMA_DIR before GSettings starts. */
static gboolean
schema_installed (void)
{
  const char * const *system_dirs = g_get_system_data_dirs ();
  g_autoptr(GPtrArray) dirs = g_ptr_array_new ();

  if (g_getenv ("GSETTINGS_SCHEMA_DIR") != NULL)
    return TRUE;
  g_ptr_array_add (dirs, (gpointer) g_get_user_data_dir ());
  for (guint i = 0; system_dirs[i]; i++)
    g_ptr_array_add (dirs, (gpointer) system_dirs[i]);
  for (guint i = 0; i < dirs->len; i++)
    {
      g_autofree char *path = g_build_filename (dirs->pdata[i], "glib-2.0", "schemas", NULL);
      g_autofree char *compiled = g_build_filename (path, "gschemas.compiled", NULL);
      g_autoptr(GSettingsSchemaSource) source = NULL;
      g_autoptr(GSettingsSchema) schema = NULL;

      if (!g_file_test (compiled, G_FILE_TEST_EXISTS))
        continue;
      source = g_settings_schema_source_new_from_directory (path, NULL, TRUE, NULL);
      if (source != NULL)
        schema = g_settings_schema_source_lookup (source, APP_ID, FALSE);
      if (schema != NULL)
        return TRUE;
    }
  return FALSE;
}

static void
find_schemas (void)
{
  g_autofree char *dir = g_build_filename (WB_BUILD_DIR, "data", NULL);
  g_autofree char *compiled = g_build_filename (dir, "gschemas.compiled", NULL);

  if (!schema_installed () && g_file_test (compiled, G_FILE_TEST_EXISTS))
    g_setenv ("GSETTINGS_SCHEMA_DIR", dir, TRUE);
}

int
main (int   argc,
      char *argv[])
{
  g_autoptr(WbApplication) app = NULL;
  const char *localedir = g_getenv ("WAVEBENCH_LOCALEDIR");
  int status;

  setlocale (LC_ALL, "");
  bindtextdomain (GETTEXT_PACKAGE, localedir ? localedir : LOCALEDIR);
  bind_textdomain_codeset (GETTEXT_PACKAGE, "UTF-8");
  textdomain (GETTEXT_PACKAGE);

  find_schemas ();
  app = wb_application_new ();
  status = g_application_run (G_APPLICATION (app), argc, argv);
  return status != 0 ? status : wb_application_exit_status (app);
}
