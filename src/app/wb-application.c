#define G_LOG_DOMAIN "wb-application"
#include "config.h"

#include <stdio.h>
#include <glib/gi18n.h>

#include "wb-application.h"
#include "wb-migration-wizard.h"
#include "wb-window.h"

struct _WbApplication
{
  AdwApplication  parent_instance;

  /* Owned: what the command line asked for */
  char           *preset;
  char           *backend;
  char           *field;
  char           *colormap;
  char           *kernel_dir;
  WbScript        script;
  WbMigrationScript migrate;
  int             exit_status;
};

G_DEFINE_FINAL_TYPE (WbApplication, wb_application, ADW_TYPE_APPLICATION)

static const GOptionEntry options[] = {
  { "preset", 'p', 0, G_OPTION_ARG_STRING, NULL, N_("Preset to open: a bundled name or a file"), N_("NAME") },
  { "backend", 'b', 0, G_OPTION_ARG_STRING, NULL, N_("Backend: auto, reference or opencl:P:D"), N_("ID") },
  { "field", 0, 0, G_OPTION_ARG_STRING, NULL, N_("Field to show"), N_("NAME") },
  { "colormap", 0, 0, G_OPTION_ARG_STRING, NULL, N_("Colormap: auto, viridis, hot, diverging, gray"), N_("NAME") },
  { "kernel-dir", 0, 0, G_OPTION_ARG_FILENAME, NULL, N_("Load kernels from this directory"), N_("DIR") },
  { "run-steps", 0, 0, G_OPTION_ARG_INT, NULL, N_("Scripted: run this many steps"), N_("N") },
  { "screenshot", 0, 0, G_OPTION_ARG_FILENAME, NULL, N_("Scripted: save the view (with colorbar) as PNG, then quit"), N_("PATH") },
  { "window-screenshot", 0, 0, G_OPTION_ARG_FILENAME, NULL, N_("Scripted: save the whole window as PNG, then quit"), N_("PATH") },
  { "readout", 0, 0, G_OPTION_ARG_STRING_ARRAY, NULL, N_("Scripted: print the hover readout at view pixel X,Y (or \"center\")"), N_("X,Y") },
  { "type", 0, 0, G_OPTION_ARG_STRING_ARRAY, NULL, N_("Scripted: type a value into the parameter panel"), N_("PATH=VALUE") },
  { "probe", 0, 0, G_OPTION_ARG_STRING_ARRAY, NULL, N_("Scripted: add a probe at cell I,J,K"), N_("I,J,K") },
  { "export-csv", 0, 0, G_OPTION_ARG_FILENAME, NULL, N_("Scripted: save the probes as CSV after the steps"), N_("PATH") },
  { "export-field", 0, 0, G_OPTION_ARG_STRING_ARRAY, NULL, N_("Scripted: save a field as .npy or .png after the steps"), N_("NAME:PATH") },
  { "export-seismogram", 0, 0, G_OPTION_ARG_FILENAME_ARRAY, NULL, N_("Scripted: save the sensor traces as .csv or .npy after the steps"), N_("PATH") },
  { "seismogram-screenshot", 0, 0, G_OPTION_ARG_STRING_ARRAY, NULL, N_("Scripted: save the seismogram as PNG in a mode: wiggle, image, wiggle-down or image-down"), N_("MODE:PATH") },
  { "benchmark", 0, 0, G_OPTION_ARG_DOUBLE, NULL, N_("Scripted: run freely this many seconds and print steps/s and frames/s"), N_("SECONDS") },
  { "no-live-view", 0, 0, G_OPTION_ARG_NONE, NULL, N_("Scripted: benchmark with the display off"), NULL },
  { "slice", 0, 0, G_OPTION_ARG_STRING, NULL, N_("Scripted: show the slice normal to AXIS (x, y or z) at INDEX (default: the middle)"), N_("AXIS[:INDEX]") },
  { "export-frame", 0, 0, G_OPTION_ARG_FILENAME, NULL, N_("Scripted: save the frame drawn, as the display received it, as .npy"), N_("PATH") },
  { "version", 0, 0, G_OPTION_ARG_NONE, NULL, N_("Print the version and exit"), NULL },
  { NULL }
};

static int
wb_application_handle_local_options (GApplication *app,
                                     GVariantDict *dict)
{
  WbApplication *self = WB_APPLICATION (app);
  g_auto(GStrv) readouts = NULL;
  g_auto(GStrv) probes = NULL;
  gint32 steps = 0;
  double seconds = 0;

  if (g_variant_dict_contains (dict, "version"))
    {
      g_print ("wavebench %s\n", PACKAGE_VERSION);
      return 0;
    }
  g_variant_dict_lookup (dict, "preset", "s", &self->preset);
  g_variant_dict_lookup (dict, "backend", "s", &self->backend);
  g_variant_dict_lookup (dict, "field", "s", &self->field);
  g_variant_dict_lookup (dict, "colormap", "s", &self->colormap);
  g_variant_dict_lookup (dict, "kernel-dir", "^ay", &self->kernel_dir);
  g_variant_dict_lookup (dict, "screenshot", "^ay", &self->script.screenshot);
  g_variant_dict_lookup (dict, "window-screenshot", "^ay", &self->script.window_screenshot);
  g_variant_dict_lookup (dict, "type", "^as", &self->script.type_values);
  if (g_variant_dict_lookup (dict, "run-steps", "i", &steps))
    {
      if (steps < 0)
        {
          g_printerr (_("--run-steps must be 0 or more\n"));
          return 2;
        }
      self->script.run_steps = steps;
    }
  if (g_variant_dict_lookup (dict, "benchmark", "d", &seconds))
    self->script.benchmark_seconds = seconds;
  self->script.live_view = !g_variant_dict_contains (dict, "no-live-view");
  if (g_variant_dict_lookup (dict, "readout", "^as", &readouts))
    {
      self->script.readouts = g_array_new (FALSE, FALSE, sizeof (graphene_point_t));
      for (guint i = 0; readouts[i]; i++)
        {
          graphene_point_t p;
          char *end = NULL;

          if (g_str_equal (readouts[i], "center"))
            {
              p.x = p.y = -1;
              g_array_append_val (self->script.readouts, p);
              continue;
            }
          p.x = g_ascii_strtod (readouts[i], &end);
          if (end == NULL || *end != ',')
            {
              g_printerr (_("--readout takes X,Y, not “%s”\n"), readouts[i]);
              return 2;
            }
          p.y = g_ascii_strtod (end + 1, &end);
          if (*end != '\0')
            {
              g_printerr (_("--readout takes X,Y, not “%s”\n"), readouts[i]);
              return 2;
            }
          g_array_append_val (self->script.readouts, p);
        }
    }
  g_variant_dict_lookup (dict, "export-csv", "^ay", &self->script.export_csv);
  g_variant_dict_lookup (dict, "export-field", "^as", &self->script.export_fields);
  g_variant_dict_lookup (dict, "slice", "s", &self->script.slice);
  g_variant_dict_lookup (dict, "export-frame", "^ay", &self->script.export_frame);
  g_variant_dict_lookup (dict, "export-seismogram", "^aay", &self->script.seismogram_exports);
  g_variant_dict_lookup (dict, "seismogram-screenshot", "^as", &self->script.seismogram_screenshots);
  if (g_variant_dict_lookup (dict, "probe", "^as", &probes))
    {
      self->script.probes = g_array_new (FALSE, FALSE, sizeof (guint));
      for (guint i = 0; probes[i]; i++)
        {
          guint cell[3];
          char extra;

          if (sscanf (probes[i], "%u,%u,%u%c", &cell[0], &cell[1], &cell[2], &extra) != 3)
            {
              g_printerr (_("--probe takes I,J,K, not “%s”\n"), probes[i]);
              return 2;
            }
          g_array_append_vals (self->script.probes, cell, 3);
        }
    }
  self->script.active = self->script.screenshot || self->script.window_screenshot
                        || self->script.benchmark_seconds > 0 || self->script.run_steps > 0
                        || self->script.readouts || self->script.type_values
                        || self->script.probes || self->script.export_csv || self->script.export_fields
                        || self->script.seismogram_exports || self->script.seismogram_screenshots
                        || self->script.export_frame;
  if (wb_migration_script_parse (&self->migrate, dict) >= 0)
    return 2;
  /* A command line that names things opens its own window, even where the
   * app already runs (a remote instance would drop these options). */
  if (self->script.active || self->preset || self->backend || self->migrate.active)
    g_application_set_flags (app, g_application_get_flags (app) | G_APPLICATION_NON_UNIQUE);
  return -1;
}

static void
wb_application_activate (GApplication *app)
{
  WbApplication *self = WB_APPLICATION (app);
  GtkWindow *window = gtk_application_get_active_window (GTK_APPLICATION (app));
  WbWindow *win;
  g_autoptr(GSettings) settings = NULL;
  g_autofree char *preset = NULL;

  if (window != NULL)
    {
      gtk_window_present (window);
      return;
    }
  if (self->migrate.active)
    {
      WbMigrationWizard *wizard = wb_migration_wizard_new (GTK_APPLICATION (app), NULL);

      gtk_window_present (GTK_WINDOW (wizard));
      wb_migration_wizard_run_script (wizard, &self->migrate, self->backend, &self->exit_status);
      return;
    }

  win = wb_window_new (GTK_APPLICATION (app), self->script.active);
  if (self->kernel_dir)
    wb_window_set_kernel_dir (win, self->kernel_dir);
  if (self->backend)
    wb_window_set_backend (win, self->backend);
  if (self->field)
    wb_window_set_field (win, self->field);
  if (self->colormap)
    wb_window_set_colormap (win, self->colormap);
  gtk_window_present (GTK_WINDOW (win));

  if (self->preset)
    preset = g_strdup (self->preset);
  else
    {
      settings = g_settings_new (APP_ID);
      preset = g_settings_get_string (settings, "preset");
    }
  if (self->script.active)
    wb_window_run_script (win, &self->script, &self->exit_status);
  wb_window_open_preset (win, preset);
}

static void
action_quit (GSimpleAction *action,
             GVariant      *param,
             gpointer       data)
{
  GApplication *app = data;
  GList *windows = gtk_application_get_windows (GTK_APPLICATION (app));

  /* Close (not destroy) so windows save their size. */
  g_autoptr(GList) copy = g_list_copy (windows);

  for (GList *l = copy; l; l = l->next)
    gtk_window_close (l->data);
  g_application_quit (app);
}

static void
action_migrate (GSimpleAction *action,
                GVariant      *param,
                gpointer       data)
{
  GtkApplication *app = data;
  WbMigrationWizard *wizard = wb_migration_wizard_new (app, gtk_application_get_active_window (app));

  gtk_window_present (GTK_WINDOW (wizard));
}

static void
action_about (GSimpleAction *action,
              GVariant      *param,
              gpointer       data)
{
  GtkApplication *app = data;
  static const char *developers[] = { "The Wavebench developers", NULL };

  adw_show_about_window (gtk_application_get_active_window (app),
                         "application-name", _("Wavebench"),
                         "application-icon", APP_ID,
                         "version", PACKAGE_VERSION,
                         "comments", _("A workbench for GPU stencil and imaging kernels: "
                                       "run, watch, probe and export simulations on any OpenCL device."),
                         "license-type", GTK_LICENSE_GPL_3_0,
                         "developers", developers,
                         "translator-credits", _("translator-credits"),
                         NULL);
}

static void
wb_application_startup (GApplication *app)
{
  static const GActionEntry entries[] = {
    { "quit", action_quit },
    { "about", action_about },
    { "migrate", action_migrate },
  };
  static const struct { const char *action; const char *accels[3]; } accels[] = {
    { "app.quit", { "<Control>q", NULL } },
    { "win.reset", { "<Control>r", NULL } },
    { "win.open-preset", { "<Control>o", NULL } },
    { "app.migrate", { "<Control>m", NULL } },
    { "win.save-preset", { "<Control>s", NULL } },
    { "win.export", { "<Control>e", NULL } },
    { "win.screenshot", { "<Control><Shift>s", NULL } },
    { "win.show-help-overlay", { "F1", "<Control>question", NULL } },
  };

  G_APPLICATION_CLASS (wb_application_parent_class)->startup (app);

  g_action_map_add_action_entries (G_ACTION_MAP (app), entries, G_N_ELEMENTS (entries), app);
  for (guint i = 0; i < G_N_ELEMENTS (accels); i++)
    gtk_application_set_accels_for_action (GTK_APPLICATION (app), accels[i].action, accels[i].accels);
  gtk_window_set_default_icon_name (APP_ID);
}

static void
wb_application_finalize (GObject *object)
{
  WbApplication *self = WB_APPLICATION (object);

  g_free (self->preset);
  g_free (self->backend);
  g_free (self->field);
  g_free (self->colormap);
  g_free (self->kernel_dir);
  wb_script_clear (&self->script);
  wb_migration_script_clear (&self->migrate);
  G_OBJECT_CLASS (wb_application_parent_class)->finalize (object);
}

static void
wb_application_class_init (WbApplicationClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  GApplicationClass *app_class = G_APPLICATION_CLASS (klass);

  object_class->finalize = wb_application_finalize;
  app_class->handle_local_options = wb_application_handle_local_options;
  app_class->activate = wb_application_activate;
  app_class->startup = wb_application_startup;
}

static void
wb_application_init (WbApplication *self)
{
  g_application_add_main_option_entries (G_APPLICATION (self), options);
  wb_migration_script_add_options (G_APPLICATION (self));
  g_application_set_option_context_summary (G_APPLICATION (self),
                                            _("Run simulations live and watch their fields."));
  g_application_set_option_context_description (G_APPLICATION (self),
    _("Scripted mode, for tests and documentation:\n"
      "  wavebench --preset NAME --backend ID --run-steps N --screenshot PATH\n"
      "runs N steps, saves the view and exits."));
}

WbApplication *
wb_application_new (void)
{
  return g_object_new (WB_TYPE_APPLICATION,
                       "application-id", APP_ID,
                       "flags", G_APPLICATION_DEFAULT_FLAGS,
                       "resource-base-path", RESOURCE_PREFIX,
                       NULL);
}

int
wb_application_exit_status (WbApplication *self)
{
  g_return_val_if_fail (WB_IS_APPLICATION (self), 1);
  return self->exit_status;
}
