#define G_LOG_DOMAIN "wb-migration-wizard"
#include "config.h"

#include <math.h>
#include <string.h>
#include <glib/gi18n.h>

#include "wb-colormap.h"
#include "wb-device.h"
#include "wb-error.h"
#include "wb-io.h"
#include "wb-npy.h"
#include "wb-pstm.h"
#include "wb-segy.h"
#include "wb-synth.h"
#include "wb-migration-wizard.h"

/* The pages, in order (names of the GtkStack children). */
static const char * const page_names[] = { "data", "velocity", "parameters", "backend", "run" };
#define N_PAGES G_N_ELEMENTS (page_names)

enum
{
  SUMMARY_SOURCE,
  SUMMARY_TRACES,
  SUMMARY_SAMPLES,
  SUMMARY_INTERVAL,
  SUMMARY_FORMAT,
  SUMMARY_MID_X,
  SUMMARY_MID_Y,
  SUMMARY_OFFSET,
  SUMMARY_EXTENT,
  SUMMARY_ORIGIN,
  N_SUMMARY
};

/* Output grid rows, filled from the data's midpoint extent. */
enum
{
  GRID_X0, GRID_Y0, GRID_DX, GRID_DY, GRID_NX, GRID_NY, GRID_T0, GRID_DT, GRID_NT, N_GRID
};
static const char * const grid_keys[N_GRID] = {
  "grid-x0", "grid-y0", "grid-dx", "grid-dy", "grid-nx", "grid-ny",
  "time-t0", "time-dt-ms", "time-nt",
};

/* --- a run of the job, shared between the main thread and its worker ---- */

typedef struct
{
  gatomicrefcount    ref_count;
  WbPstmJob         *job;
  guint              n_tiles;
  GCancellable      *cancellable;

  /* Written by the job's threads (progress callback) under @lock. */
  GMutex             lock;
  WbPstmProgress     last;
  char               device_id[64];
  gboolean           idle_pending;     /* at most one progress idle queued */
  guint8            *started;          /* per tile: started, not yet done */
  gboolean           ok;
  GError            *error;

  /* Main thread only. */
  WbMigrationWizard *wizard;           /* NULL once the wizard is gone */
  gboolean           running;
  guint8            *failed;           /* per tile, after a failed run */
  GApplication      *held;             /* held while a cancelled worker ends */
} Run;

static Run *
run_ref (Run *run)
{
  g_atomic_ref_count_inc (&run->ref_count);
  return run;
}

static void
run_unref (Run *run)
{
  if (!g_atomic_ref_count_dec (&run->ref_count))
    return;
  g_clear_pointer (&run->job, wb_pstm_job_free);
  g_clear_object (&run->cancellable);
  g_clear_error (&run->error);
  g_free (run->started);
  g_free (run->failed);
  g_mutex_clear (&run->lock);
  g_free (run);
}

/* --- the wizard ---------------------------------------------------------- */

typedef struct
{
  /* Written by the scanning thread, polled by a main-thread timer. */
  gint done;
  gint total;
} ScanProgress;

struct _WbMigrationWizard
{
  AdwWindow            parent_instance;

  /* Template widgets */
  GtkButton           *back_button;
  GtkButton           *next_button;
  AdwWindowTitle      *window_title;
  GtkRevealer         *error_revealer;
  GtkLabel            *error_label;
  GtkStack            *stack;
  AdwActionRow        *file_row;
  GtkButton           *save_synth_button;
  GtkProgressBar      *scan_progress;
  AdwPreferencesGroup *summary_group;
  AdwPreferencesGroup *layout_group;
  AdwPreferencesGroup *synth_group;
  GtkDrawingArea      *map_area;
  AdwComboRow         *velocity_mode_row;
  AdwPreferencesGroup *velocity_constant_group;
  AdwPreferencesGroup *velocity_table_group;
  AdwPreferencesGroup *velocity_file_group;
  GtkListBox          *velocity_list;
  AdwActionRow        *velocity_file_row;
  GtkLabel            *velocity_status;
  GtkDrawingArea      *velocity_area;
  AdwPreferencesPage  *params_page;
  GtkLabel            *params_status;
  AdwPreferencesGroup *device_group;
  GtkButton           *start_button;
  GtkButton           *pause_button;
  GtkButton           *cancel_button;
  GtkProgressBar      *run_progress;
  GtkButton           *export_image_button;
  GtkButton           *export_fold_button;
  GtkLabel            *run_stats;
  GtkDrawingArea      *tiles_area;
  GtkLabel            *slice_label;
  GtkDropDown         *slice_axis;
  GtkSpinButton       *slice_index;
  GtkDrawingArea      *slice_area;

  /* Borrowed: widgets made in code */
  GHashTable          *settings;           /* key -> GtkSpinButton/GtkSwitch/GtkEntry */
  GtkLabel            *summary[N_SUMMARY];
  GtkSpinButton       *velocity_constant;
  GPtrArray           *device_checks;      /* GtkCheckButton, as self->devices */

  /* Owned */
  GPtrArray           *devices;            /* WbDevice* */
  WbPstmInput         *input;
  char                *input_format;
  WbSynthParams       *synth;              /* the synthetic set loaded, or NULL */
  GCancellable        *load_cancellable;
  ScanProgress        *scan;               /* while a load runs */
  guint                scan_timer;
  WbVelocity          *velocity;           /* valid, or NULL */
  char                *velocity_file;
  char                *velocity_error;
  double               grid_exact[N_GRID]; /* values from the data's extent ... */
  double               grid_shown[N_GRID]; /* ... and as the spin buttons hold them */
  double               map_min[2], map_max[2];
  Run                 *run;
  WbField             *shown;              /* the job's image: read only where copied[] */
  guint8              *copied;             /* per tile: seen done, its samples final */
  guint32             *column_tile;        /* per output column (i + nx j): its tile */
  cairo_surface_t     *slice_surface;
  double               slice_absmax;
  gboolean             paused;

  /* Scripted mode */
  gboolean             scripted;
  WbMigrationScript    script;
  char                *script_backend;
  int                 *exit_status;
  gboolean             script_interrupted;
  gboolean             script_resumed;
};

G_DEFINE_FINAL_TYPE (WbMigrationWizard, wb_migration_wizard, ADW_TYPE_WINDOW)

static void update_navigation (WbMigrationWizard *self);
static void update_velocity (WbMigrationWizard *self);
static void on_params_changed (WbMigrationWizard *self);
static void script_continue (WbMigrationWizard *self);
static void script_finish (WbMigrationWizard *self, int status);
static gboolean close_idle (gpointer data);
static void refresh_image (WbMigrationWizard *self, gboolean all);
static void discard_run (WbMigrationWizard *self);
static gboolean save_window_png (GtkWidget *widget, const char *path, guint *width,
                                 guint *height, GError **error);

static void
script_say (WbMigrationWizard *self,
            const char        *format,
            ...) G_GNUC_PRINTF (2, 3);

/* Scripted mode reports on stdout, one line per fact, for tests. */
static void
script_say (WbMigrationWizard *self,
            const char        *format,
            ...)
{
  va_list args;
  g_autofree char *line = NULL;

  if (!self->scripted)
    return;
  va_start (args, format);
  line = g_strdup_vprintf (format, args);
  va_end (args);
  g_print ("wavebench: %s\n", line);
}

static void
show_message (WbMigrationWizard *self,
              const char        *text,
              gboolean           error)
{
  GtkWidget *bar;

  script_say (self, "migrate %s: %s", error ? "error shown" : "message", text);
  /* An export or a load can end after the window has gone. */
  if (self->error_revealer == NULL)
    return;
  bar = gtk_revealer_get_child (self->error_revealer);
  gtk_label_set_text (self->error_label, text);
  if (error)
    gtk_widget_add_css_class (bar, "wb-error-bar");
  else
    gtk_widget_remove_css_class (bar, "wb-error-bar");
  gtk_revealer_set_reveal_child (self->error_revealer, TRUE);
}

static void
on_error_dismiss (WbMigrationWizard *self)
{
  gtk_revealer_set_reveal_child (self->error_revealer, FALSE);
}

static char *
format_duration (double s)
{
  if (s < 0 || !isfinite (s))
    return g_strdup ("--:--");
  if (s >= 3600)
    return g_strdup_printf ("%d:%02d:%02d", (int) (s / 3600), ((int) s / 60) % 60, (int) s % 60);
  return g_strdup_printf ("%02d:%02d", (int) s / 60, (int) s % 60);
}

/* --- rows made in code --------------------------------------------------- */

static GtkWidget *
add_row (AdwPreferencesGroup *group,
         const char          *title,
         const char          *subtitle,
         GtkWidget           *suffix)
{
  GtkWidget *row = adw_action_row_new ();

  adw_preferences_row_set_title (ADW_PREFERENCES_ROW (row), title);
  if (subtitle != NULL)
    adw_action_row_set_subtitle (ADW_ACTION_ROW (row), subtitle);
  gtk_widget_set_valign (suffix, GTK_ALIGN_CENTER);
  adw_action_row_add_suffix (ADW_ACTION_ROW (row), suffix);
  adw_action_row_set_activatable_widget (ADW_ACTION_ROW (row), suffix);
  adw_preferences_group_add (group, row);
  return row;
}

static GtkSpinButton *
add_spin (WbMigrationWizard   *self,
          AdwPreferencesGroup *group,
          const char          *key,
          const char          *title,
          const char          *subtitle,
          double               min,
          double               max,
          double               step,
          guint                digits,
          double               value,
          GCallback            changed)
{
  GtkWidget *spin = gtk_spin_button_new_with_range (min, max, step);

  gtk_spin_button_set_digits (GTK_SPIN_BUTTON (spin), digits);
  gtk_spin_button_set_value (GTK_SPIN_BUTTON (spin), value);
  gtk_editable_set_width_chars (GTK_EDITABLE (spin), 10);
  add_row (group, title, subtitle, spin);
  if (key != NULL)
    g_hash_table_insert (self->settings, (gpointer) key, spin);
  if (changed != NULL)
    g_signal_connect_swapped (spin, "value-changed", changed, self);
  return GTK_SPIN_BUTTON (spin);
}

static GtkSwitch *
add_switch (WbMigrationWizard   *self,
            AdwPreferencesGroup *group,
            const char          *key,
            const char          *title,
            const char          *subtitle,
            gboolean             active,
            GCallback            changed)
{
  GtkWidget *sw = gtk_switch_new ();

  gtk_switch_set_active (GTK_SWITCH (sw), active);
  add_row (group, title, subtitle, sw);
  g_hash_table_insert (self->settings, (gpointer) key, sw);
  if (changed != NULL)
    g_signal_connect_swapped (sw, "notify::active", changed, self);
  return GTK_SWITCH (sw);
}

static GtkEntry *
add_entry (WbMigrationWizard   *self,
           AdwPreferencesGroup *group,
           const char          *key,
           const char          *title,
           const char          *subtitle,
           const char          *text)
{
  GtkWidget *entry = gtk_entry_new ();

  gtk_editable_set_text (GTK_EDITABLE (entry), text);
  gtk_editable_set_width_chars (GTK_EDITABLE (entry), 14);
  add_row (group, title, subtitle, entry);
  g_hash_table_insert (self->settings, (gpointer) key, entry);
  return GTK_ENTRY (entry);
}

static double
spin_value (WbMigrationWizard *self,
            const char        *key)
{
  GtkWidget *w = g_hash_table_lookup (self->settings, key);

  g_assert (GTK_IS_SPIN_BUTTON (w));
  return gtk_spin_button_get_value (GTK_SPIN_BUTTON (w));
}

static gboolean
switch_value (WbMigrationWizard *self,
              const char        *key)
{
  GtkWidget *w = g_hash_table_lookup (self->settings, key);

  g_assert (GTK_IS_SWITCH (w));
  return gtk_switch_get_active (GTK_SWITCH (w));
}

static void
set_spin (WbMigrationWizard *self,
          const char        *key,
          double             value)
{
  gtk_spin_button_set_value (GTK_SPIN_BUTTON (g_hash_table_lookup (self->settings, key)), value);
}

/* --- data page ---------------------------------------------------------- */

static void
layout_from_widgets (WbMigrationWizard *self,
                     WbSegyLayout      *layout)
{
  wb_segy_layout_init (layout);
  layout->source_x = spin_value (self, "source-x-byte");
  layout->source_y = spin_value (self, "source-y-byte");
  layout->receiver_x = spin_value (self, "receiver-x-byte");
  layout->receiver_y = spin_value (self, "receiver-y-byte");
  layout->cdp_x = spin_value (self, "cdp-x-byte");
  layout->cdp_y = spin_value (self, "cdp-y-byte");
  layout->scalar = spin_value (self, "scalar-byte");
  layout->delay = spin_value (self, "delay-byte");
  layout->geometry = switch_value (self, "cdp-geometry") ? WB_SEGY_GEOMETRY_CDP
                                                         : WB_SEGY_GEOMETRY_SOURCE_RECEIVER;
}

/* The synthetic set the data page describes: a midpoint grid with the
 * offsets given (one azimuth, along x), three diffractors placed relative
 * to the grid (centre, and two off-centre at other times) and, optionally,
 * a reflector dipping 10 degrees towards 30 degrees azimuth. */
static WbSynthParams *
synth_from_widgets (WbMigrationWizard *self,
                    GError           **error)
{
  g_autofree WbSynthParams *p = g_new0 (WbSynthParams, 1);
  GtkWidget *entry = g_hash_table_lookup (self->settings, "synth-offsets");
  g_auto(GStrv) parts = g_strsplit (gtk_editable_get_text (GTK_EDITABLE (entry)), ",", -1);
  guint n = spin_value (self, "synth-midpoints");
  double tmax, xc, yc, ext;

  wb_synth_params_init (p);
  p->mnx = p->mny = n;
  p->mdx = p->mdy = spin_value (self, "synth-spacing");
  p->n_samples = spin_value (self, "synth-samples");
  p->dt = spin_value (self, "synth-dt-ms") / 1000.0;
  p->frequency = spin_value (self, "synth-frequency");
  p->noise = spin_value (self, "synth-noise");
  wb_velocity_free (p->velocity);
  p->velocity = wb_velocity_new_constant (spin_value (self, "synth-velocity"));
  g_array_set_size (p->offsets, 0);
  for (guint i = 0; parts[i]; i++)
    {
      char *s = g_strstrip (parts[i]), *end;
      double h;

      if (*s == '\0')
        continue;
      h = g_ascii_strtod (s, &end);
      if (end == s || *end != '\0' || !isfinite (h) || h < 0)
        {
          g_set_error (error, WB_ERROR, WB_ERROR_INVALID,
                       _("Offsets: “%s” is not a distance in metres"), s);
          wb_synth_params_clear (p);
          return NULL;
        }
      g_array_append_val (p->offsets, h);
    }
  if (p->offsets->len == 0)
    {
      double zero = 0;
      g_array_append_val (p->offsets, zero);
    }

  tmax = p->n_samples * p->dt;
  ext = (n - 1) * p->mdx;
  xc = p->mx0 + 0.5 * ext;
  yc = p->my0 + 0.5 * ext;
  {
    WbDiffractor d[3] = {
      { xc, yc, 0.4 * tmax, 1.0 },
      { p->mx0 + 0.25 * ext, p->my0 + 0.3 * ext, 0.6 * tmax, 0.8 },
      { p->mx0 + 0.75 * ext, p->my0 + 0.7 * ext, 0.25 * tmax, 0.8 },
    };
    g_array_append_vals (p->diffractors, d, 3);
  }
  if (switch_value (self, "synth-reflector"))
    {
      WbReflector r = { xc, yc, 0.8 * tmax, 10, 30, 0.5 };
      g_array_append_val (p->reflectors, r);
    }
  if (!wb_synth_params_check (p, error))
    {
      wb_synth_params_clear (p);
      return NULL;
    }
  return g_steal_pointer (&p);
}

static void
synth_free (WbSynthParams *p)
{
  if (p == NULL)
    return;
  wb_synth_params_clear (p);
  g_free (p);
}

typedef struct
{
  char          *path;           /* NULL: synthetic */
  WbSegyLayout   layout;
  WbSynthParams *synth;          /* owned */
  ScanProgress  *scan;           /* owned */
} LoadData;

typedef struct
{
  WbPstmInput *input;
  char        *format;
} LoadResult;

static void
load_data_free (LoadData *d)
{
  g_free (d->path);
  synth_free (d->synth);
  g_free (d->scan);
  g_free (d);
}

static void
load_result_free (LoadResult *r)
{
  g_clear_pointer (&r->input, wb_pstm_input_unref);
  g_free (r->format);
  g_free (r);
}

static void
scan_progress (gsize done, gsize total, gpointer user_data)
{
  ScanProgress *scan = user_data;

  g_atomic_int_set (&scan->total, (gint) MIN (total, G_MAXINT));
  g_atomic_int_set (&scan->done, (gint) MIN (done, G_MAXINT));
}

static void
load_thread (GTask        *task,
             gpointer      source,
             gpointer      task_data,
             GCancellable *cancellable)
{
  LoadData *d = task_data;
  LoadResult *r = g_new0 (LoadResult, 1);
  GError *error = NULL;

  if (d->path != NULL)
    {
      g_autoptr(WbSegyReader) reader = wb_segy_reader_open (d->path, &error);

      if (reader != NULL)
        {
          r->format = g_strdup (wb_segy_format_name (wb_segy_reader_format (reader)));
          g_clear_pointer (&reader, wb_segy_reader_free);
          r->input = wb_pstm_input_new_segy (d->path, &d->layout, scan_progress, d->scan,
                                             cancellable, &error);
        }
    }
  else
    {
      r->format = g_strdup (_("synthetic, in memory"));
      r->input = wb_synth_to_input (d->synth, &error);
    }
  if (r->input == NULL)
    {
      load_result_free (r);
      g_task_return_error (task, error);
      return;
    }
  g_task_return_pointer (task, r, (GDestroyNotify) load_result_free);
}

static gboolean
poll_scan (gpointer data)
{
  WbMigrationWizard *self = data;
  gsize done, total;

  if (self->scan == NULL)
    return G_SOURCE_CONTINUE;
  done = g_atomic_int_get (&self->scan->done);
  total = g_atomic_int_get (&self->scan->total);
  if (total > 0)
    {
      g_autofree char *text = g_strdup_printf (_("Scanning trace headers: %u of %u"),
                                               (guint) done, (guint) total);
      gtk_progress_bar_set_fraction (self->scan_progress, (double) done / total);
      gtk_progress_bar_set_text (self->scan_progress, text);
    }
  else
    gtk_progress_bar_pulse (self->scan_progress);
  return G_SOURCE_CONTINUE;
}

static void
set_summary (WbMigrationWizard *self,
             guint              row,
             const char        *text)
{
  gtk_label_set_text (self->summary[row], text);
}

static void
show_summary (WbMigrationWizard *self,
              const char        *source)
{
  const WbSegyGeometry *g = wb_pstm_input_geometry (self->input);
  g_autofree char *traces = g_strdup_printf ("%" G_GSIZE_FORMAT, g->n_traces);
  g_autofree char *samples = g_strdup_printf ("%u", g->n_samples);
  g_autofree char *interval = g_strdup_printf (_("%.3g ms (%.3g s per trace)"), g->dt * 1e3,
                                               g->dt * g->n_samples);
  g_autofree char *mx = g_strdup_printf (_("%.1f to %.1f m"), g->origin_x + g->mid_min[0],
                                         g->origin_x + g->mid_max[0]);
  g_autofree char *my = g_strdup_printf (_("%.1f to %.1f m"), g->origin_y + g->mid_min[1],
                                         g->origin_y + g->mid_max[1]);
  g_autofree char *offset = g_strdup_printf (_("%.1f m"), g->max_offset);
  g_autofree char *origin = g_strdup_printf ("%.2f, %.2f", g->origin_x, g->origin_y);

  set_summary (self, SUMMARY_SOURCE, source);
  set_summary (self, SUMMARY_TRACES, traces);
  set_summary (self, SUMMARY_SAMPLES, samples);
  set_summary (self, SUMMARY_INTERVAL, interval);
  set_summary (self, SUMMARY_FORMAT, self->input_format);
  set_summary (self, SUMMARY_MID_X, mx);
  set_summary (self, SUMMARY_MID_Y, my);
  set_summary (self, SUMMARY_OFFSET, offset);
  set_summary (self, SUMMARY_ORIGIN, origin);
  {
    g_autofree char *extent = g_strdup_printf (_("x %.1f to %.1f, y %.1f to %.1f m"),
                                               g->origin_x + self->map_min[0], g->origin_x + self->map_max[0],
                                               g->origin_y + self->map_min[1], g->origin_y + self->map_max[1]);
    set_summary (self, SUMMARY_EXTENT, extent);
  }
}

/* The output grid rows take the data's midpoint extent and time axis. */
static void
reset_grid (WbMigrationWizard *self)
{
  WbPstmParams p;
  g_autoptr(GError) error = NULL;

  if (self->input == NULL)
    return;
  wb_pstm_params_init (&p);
  if (!wb_pstm_params_auto_grid (&p, self->input, 0, 0, &error))
    {
      show_message (self, error->message, TRUE);
      wb_pstm_params_clear (&p);
      return;
    }
  self->grid_exact[GRID_X0] = p.x0;
  self->grid_exact[GRID_Y0] = p.y0;
  self->grid_exact[GRID_DX] = p.dx;
  self->grid_exact[GRID_DY] = p.dy;
  self->grid_exact[GRID_NX] = p.nx;
  self->grid_exact[GRID_NY] = p.ny;
  self->grid_exact[GRID_T0] = p.t0;
  self->grid_exact[GRID_DT] = p.dt * 1e3;
  self->grid_exact[GRID_NT] = p.nt;
  for (guint i = 0; i < N_GRID; i++)
    {
      set_spin (self, grid_keys[i], self->grid_exact[i]);
      self->grid_shown[i] = spin_value (self, grid_keys[i]);
    }
  wb_pstm_params_clear (&p);
}

/* A grid row as the user left it: the exact value from the data while the
 * row still shows it (spin buttons round to their digits). */
static double
grid_value (WbMigrationWizard *self,
            guint              i)
{
  double v = spin_value (self, grid_keys[i]);

  if (self->input != NULL && v == self->grid_shown[i])
    return self->grid_exact[i];
  return v;
}

static void
load_done (GObject      *source,
           GAsyncResult *result,
           gpointer      user_data)
{
  WbMigrationWizard *self = WB_MIGRATION_WIZARD (source);
  g_autoptr(GError) error = NULL;
  GTask *task = G_TASK (result);
  LoadData *d = g_task_get_task_data (task);
  LoadResult *r = g_task_propagate_pointer (task, &error);
  gboolean synthetic = d->path == NULL;
  g_autofree char *name = NULL;

  if (g_task_get_cancellable (task) != self->load_cancellable)
    {
      /* A later load (or the wizard's end) superseded this one. */
      g_clear_pointer (&r, load_result_free);
      return;
    }
  g_clear_handle_id (&self->scan_timer, g_source_remove);
  self->scan = NULL;
  g_clear_object (&self->load_cancellable);
  gtk_widget_set_visible (GTK_WIDGET (self->scan_progress), FALSE);
  if (r == NULL)
    {
      g_autofree char *msg = g_strdup_printf (_("Cannot load the data: %s"), error->message);
      show_message (self, msg, TRUE);
      if (self->scripted)
        script_finish (self, 1);
      return;
    }

  discard_run (self);
  g_clear_pointer (&self->input, wb_pstm_input_unref);
  g_clear_pointer (&self->synth, synth_free);
  g_free (self->input_format);
  self->input = g_steal_pointer (&r->input);
  self->input_format = g_steal_pointer (&r->format);
  load_result_free (r);
  if (synthetic)
    {
      self->synth = g_steal_pointer (&d->synth);
      name = g_strdup (_("Synthetic data"));
    }
  else
    name = g_path_get_basename (d->path);
  adw_action_row_set_subtitle (self->file_row, synthetic ? _("None opened") : d->path);
  gtk_widget_set_sensitive (GTK_WIDGET (self->save_synth_button), synthetic);
  on_error_dismiss (self);

  {
    const WbSegyGeometry *g = wb_pstm_input_geometry (self->input);

    self->map_min[0] = self->map_min[1] = G_MAXDOUBLE;
    self->map_max[0] = self->map_max[1] = -G_MAXDOUBLE;
    for (gsize i = 0; i < g->n_traces; i++)
      {
        double xs[2] = { g->sx[i], g->rx[i] }, ys[2] = { g->sy[i], g->ry[i] };
        for (int k = 0; k < 2; k++)
          {
            self->map_min[0] = MIN (self->map_min[0], xs[k]);
            self->map_max[0] = MAX (self->map_max[0], xs[k]);
            self->map_min[1] = MIN (self->map_min[1], ys[k]);
            self->map_max[1] = MAX (self->map_max[1], ys[k]);
          }
      }
    show_summary (self, name);
    script_say (self, "migrate input %s: traces=%" G_GSIZE_FORMAT " samples=%u dt=%g",
                synthetic ? "synthetic" : d->path, g->n_traces, g->n_samples, g->dt);
  }
  reset_grid (self);
  on_params_changed (self);
  gtk_widget_queue_draw (GTK_WIDGET (self->map_area));
  gtk_widget_queue_draw (GTK_WIDGET (self->velocity_area));
  update_navigation (self);
  if (self->scripted)
    script_continue (self);
}

static void
start_load (WbMigrationWizard *self,
            const char        *path)
{
  g_autoptr(GTask) task = NULL;
  LoadData *d = g_new0 (LoadData, 1);
  g_autoptr(GError) error = NULL;

  if (self->run != NULL && self->run->running)
    return;
  if (path != NULL)
    {
      layout_from_widgets (self, &d->layout);
      if (!wb_segy_layout_check (&d->layout, &error))
        {
          show_message (self, error->message, TRUE);
          load_data_free (d);
          if (self->scripted)
            script_finish (self, 2);
          return;
        }
      d->path = g_strdup (path);
    }
  else if ((d->synth = synth_from_widgets (self, &error)) == NULL)
    {
      show_message (self, error->message, TRUE);
      load_data_free (d);
      if (self->scripted)
        script_finish (self, 2);
      return;
    }
  d->scan = g_new0 (ScanProgress, 1);

  if (self->load_cancellable != NULL)
    g_cancellable_cancel (self->load_cancellable);
  g_clear_object (&self->load_cancellable);
  self->load_cancellable = g_cancellable_new ();
  self->scan = d->scan;
  gtk_progress_bar_set_fraction (self->scan_progress, 0);
  gtk_progress_bar_set_text (self->scan_progress, path ? _("Opening…") : _("Generating…"));
  gtk_widget_set_visible (GTK_WIDGET (self->scan_progress), TRUE);
  g_clear_handle_id (&self->scan_timer, g_source_remove);
  self->scan_timer = g_timeout_add (100, poll_scan, self);

  task = g_task_new (self, self->load_cancellable, load_done, NULL);
  g_task_set_task_data (task, d, (GDestroyNotify) load_data_free);
  g_task_run_in_thread (task, load_thread);
}

static void
on_open_response (GtkNativeDialog   *dialog,
                  int                response,
                  WbMigrationWizard *self)
{
  if (response == GTK_RESPONSE_ACCEPT)
    {
      g_autoptr(GFile) file = gtk_file_chooser_get_file (GTK_FILE_CHOOSER (dialog));
      g_autofree char *path = g_file_get_path (file);

      if (path != NULL)
        start_load (self, path);
    }
  g_object_unref (dialog);
}

static void
add_filter (GtkFileChooser *chooser,
            const char     *name,
            const char     *pattern1,
            const char     *pattern2)
{
  GtkFileFilter *filter = gtk_file_filter_new ();

  gtk_file_filter_set_name (filter, name);
  gtk_file_filter_add_pattern (filter, pattern1);
  if (pattern2 != NULL)
    gtk_file_filter_add_pattern (filter, pattern2);
  gtk_file_chooser_add_filter (chooser, filter);
  g_object_unref (filter);
}

static void
on_open_clicked (WbMigrationWizard *self)
{
  GtkFileChooserNative *dialog;

  dialog = gtk_file_chooser_native_new (_("Open SEG-Y"), GTK_WINDOW (self),
                                        GTK_FILE_CHOOSER_ACTION_OPEN, _("_Open"), _("_Cancel"));
  add_filter (GTK_FILE_CHOOSER (dialog), _("SEG-Y files"), "*.sgy", "*.segy");
  add_filter (GTK_FILE_CHOOSER (dialog), _("All files"), "*", NULL);
  g_signal_connect (dialog, "response", G_CALLBACK (on_open_response), self);
  gtk_native_dialog_show (GTK_NATIVE_DIALOG (dialog));
}

static void
on_generate_clicked (WbMigrationWizard *self)
{
  start_load (self, NULL);
}

static gboolean
save_synthetic (WbMigrationWizard *self,
                const char        *path,
                GError           **error)
{
  if (self->synth == NULL)
    {
      g_set_error (error, WB_ERROR, WB_ERROR_INVALID, _("No synthetic data has been generated"));
      return FALSE;
    }
  return wb_synth_write_segy (self->synth, path, WB_SEGY_IEEE_FLOAT, NULL, NULL, NULL, NULL, error);
}

static void
on_save_synth_response (GtkNativeDialog   *dialog,
                        int                response,
                        WbMigrationWizard *self)
{
  if (response == GTK_RESPONSE_ACCEPT)
    {
      g_autoptr(GFile) file = gtk_file_chooser_get_file (GTK_FILE_CHOOSER (dialog));
      g_autofree char *path = g_file_get_path (file);
      g_autoptr(GError) error = NULL;

      if (path != NULL && !save_synthetic (self, path, &error))
        show_message (self, error->message, TRUE);
      else if (path != NULL)
        {
          g_autofree char *msg = g_strdup_printf (_("Saved %s"), path);
          show_message (self, msg, FALSE);
        }
    }
  g_object_unref (dialog);
}

static void
on_save_synth_clicked (WbMigrationWizard *self)
{
  GtkFileChooserNative *dialog;

  dialog = gtk_file_chooser_native_new (_("Save Synthetic Data"), GTK_WINDOW (self),
                                        GTK_FILE_CHOOSER_ACTION_SAVE, _("_Save"), _("_Cancel"));
  gtk_file_chooser_set_current_name (GTK_FILE_CHOOSER (dialog), "synthetic.sgy");
  g_signal_connect (dialog, "response", G_CALLBACK (on_save_synth_response), self);
  gtk_native_dialog_show (GTK_NATIVE_DIALOG (dialog));
}

/* Text with Pango, so that it follows the theme and the translation. */
static void
draw_text (GtkWidget  *widget,
           cairo_t    *cr,
           double      x,
           double      y,
           double      align,
           const char *text)
{
  PangoLayout *layout = gtk_widget_create_pango_layout (widget, text);
  int w, h;

  pango_layout_get_pixel_size (layout, &w, &h);
  cairo_move_to (cr, x - align * w, y);
  pango_cairo_show_layout (cr, layout);
  g_object_unref (layout);
}

static void
set_fg (GtkWidget *widget,
        cairo_t   *cr,
        double     alpha)
{
  GdkRGBA fg;

  /* GTK 4.8: gtk_widget_get_color () is 4.10. */
  gtk_style_context_get_color (gtk_widget_get_style_context (widget), &fg);
  cairo_set_source_rgba (cr, fg.red, fg.green, fg.blue, fg.alpha * alpha);
}

/* Sources (red), receivers (blue) and midpoints (grey) in survey
 * coordinates, with the output grid outlined. */
static void
draw_map (GtkDrawingArea *area,
          cairo_t        *cr,
          int             width,
          int             height,
          gpointer        data)
{
  WbMigrationWizard *self = data;
  GtkWidget *widget = GTK_WIDGET (area);
  const WbSegyGeometry *g;
  double x0, y0, x1, y1, span, scale, ox, oy;
  const double margin = 48;
  gsize stride;
  char buf[64];

  if (self->input == NULL)
    {
      set_fg (widget, cr, 0.55);
      draw_text (widget, cr, width / 2.0, height / 2.0 - 10, 0.5,
                 _("Open a SEG-Y file or generate synthetic data"));
      return;
    }
  g = wb_pstm_input_geometry (self->input);
  x0 = self->map_min[0]; x1 = self->map_max[0];
  y0 = self->map_min[1]; y1 = self->map_max[1];
  span = MAX (MAX (x1 - x0, y1 - y0), 1.0);
  scale = MIN (width - 2 * margin, height - 2 * margin - 24) / span;
  if (scale <= 0)
    return;
  ox = margin + 0.5 * ((width - 2 * margin) - (x1 - x0) * scale);
  oy = margin + 0.5 * ((height - 2 * margin - 24) - (y1 - y0) * scale);
#define MAP_X(x) (ox + ((x) - x0) * scale)
#define MAP_Y(y) (oy + (y1 - (y)) * scale)

  /* Frame with the extent in survey coordinates. */
  set_fg (widget, cr, 0.35);
  cairo_set_line_width (cr, 1);
  cairo_rectangle (cr, MAP_X (x0) - 4.5, MAP_Y (y1) - 4.5, (x1 - x0) * scale + 9, (y1 - y0) * scale + 9);
  cairo_stroke (cr);
  set_fg (widget, cr, 0.8);
  g_snprintf (buf, sizeof buf, "%.0f", g->origin_x + x0);
  draw_text (widget, cr, MAP_X (x0), MAP_Y (y0) + 8, 0.0, buf);
  g_snprintf (buf, sizeof buf, "%.0f", g->origin_x + x1);
  draw_text (widget, cr, MAP_X (x1), MAP_Y (y0) + 8, 1.0, buf);
  g_snprintf (buf, sizeof buf, "%.0f", g->origin_y + y0);
  draw_text (widget, cr, MAP_X (x0) - 8, MAP_Y (y0) - 16, 1.0, buf);
  g_snprintf (buf, sizeof buf, "%.0f", g->origin_y + y1);
  draw_text (widget, cr, MAP_X (x0) - 8, MAP_Y (y1) - 4, 1.0, buf);

  /* At most about 30000 traces drawn: enough to see the layout. */
  stride = MAX (1, g->n_traces / 30000);
  cairo_set_source_rgba (cr, 0.11, 0.44, 0.85, 0.8);
  for (gsize i = 0; i < g->n_traces; i += stride)
    cairo_rectangle (cr, MAP_X (g->rx[i]) - 1.5, MAP_Y (g->ry[i]) - 1.5, 3, 3);
  cairo_fill (cr);
  cairo_set_source_rgba (cr, 0.88, 0.11, 0.14, 0.8);
  for (gsize i = 0; i < g->n_traces; i += stride)
    {
      cairo_new_sub_path (cr);
      cairo_arc (cr, MAP_X (g->sx[i]), MAP_Y (g->sy[i]), 1.8, 0, 2 * G_PI);
    }
  cairo_fill (cr);
  /* Midpoints last: they decide which traces each tile gathers. */
  cairo_set_source_rgba (cr, 0.35, 0.35, 0.35, 0.9);
  for (gsize i = 0; i < g->n_traces; i += stride)
    cairo_rectangle (cr, MAP_X (0.5 * (g->sx[i] + g->rx[i])) - 1, MAP_Y (0.5 * (g->sy[i] + g->ry[i])) - 1, 2, 2);
  cairo_fill (cr);

  /* The output grid (its bins' centres span it). */
  {
    double gx0 = grid_value (self, GRID_X0) - g->origin_x, gy0 = grid_value (self, GRID_Y0) - g->origin_y;
    double gx1 = gx0 + grid_value (self, GRID_DX) * (grid_value (self, GRID_NX) - 1);
    double gy1 = gy0 + grid_value (self, GRID_DY) * (grid_value (self, GRID_NY) - 1);
    double dash = 4;

    cairo_set_source_rgba (cr, 0.2, 0.75, 0.4, 0.9);
    cairo_set_line_width (cr, 1.5);
    cairo_set_dash (cr, &dash, 1, 0);
    cairo_rectangle (cr, MAP_X (gx0), MAP_Y (gy1), (gx1 - gx0) * scale, (gy1 - gy0) * scale);
    cairo_stroke (cr);
    cairo_set_dash (cr, NULL, 0, 0);
  }
#undef MAP_X
#undef MAP_Y

  /* Legend */
  {
    static const double colours[4][3] = { { 0.88, 0.11, 0.14 }, { 0.11, 0.44, 0.85 },
                                          { 0.35, 0.35, 0.35 }, { 0.2, 0.75, 0.4 } };
    const char *names[4] = { _("Sources"), _("Receivers"), _("Midpoints"), _("Output grid") };
    double x = margin, y = height - 22;

    for (int k = 0; k < 4; k++)
      {
        PangoLayout *layout = gtk_widget_create_pango_layout (widget, names[k]);
        int w, h;

        pango_layout_get_pixel_size (layout, &w, &h);
        cairo_set_source_rgb (cr, colours[k][0], colours[k][1], colours[k][2]);
        cairo_rectangle (cr, x, y + h / 2.0 - 4, 8, 8);
        cairo_fill (cr);
        set_fg (widget, cr, 0.85);
        cairo_move_to (cr, x + 12, y);
        pango_cairo_show_layout (cr, layout);
        x += 12 + w + 18;
        g_object_unref (layout);
      }
  }
}

/* --- velocity page ------------------------------------------------------- */

enum { VELOCITY_CONSTANT, VELOCITY_TABLE, VELOCITY_FILE };

static void
on_velocity_changed (WbMigrationWizard *self)
{
  update_velocity (self);
}

static void
on_velocity_row_remove (GtkWidget *button)
{
  GtkWidget *row = gtk_widget_get_ancestor (button, GTK_TYPE_LIST_BOX_ROW);
  GtkListBox *list = GTK_LIST_BOX (gtk_widget_get_parent (row));
  WbMigrationWizard *self = WB_MIGRATION_WIZARD (gtk_widget_get_root (button));

  gtk_list_box_remove (list, row);
  update_velocity (self);
}

static void
add_velocity_row (WbMigrationWizard *self,
                  double             t,
                  double             v)
{
  GtkWidget *box = gtk_box_new (GTK_ORIENTATION_HORIZONTAL, 8);
  GtkWidget *ts = gtk_spin_button_new_with_range (0, 100, 0.05);
  GtkWidget *vs = gtk_spin_button_new_with_range (100, 20000, 10);
  GtkWidget *remove = gtk_button_new_from_icon_name ("list-remove-symbolic");
  GtkWidget *label;

  gtk_widget_set_margin_start (box, 12);
  gtk_widget_set_margin_end (box, 8);
  gtk_widget_set_margin_top (box, 6);
  gtk_widget_set_margin_bottom (box, 6);
  gtk_spin_button_set_digits (GTK_SPIN_BUTTON (ts), 3);
  gtk_spin_button_set_digits (GTK_SPIN_BUTTON (vs), 1);
  gtk_spin_button_set_value (GTK_SPIN_BUTTON (ts), t);
  gtk_spin_button_set_value (GTK_SPIN_BUTTON (vs), v);
  label = gtk_label_new (_("t (s)"));
  gtk_box_append (GTK_BOX (box), label);
  gtk_box_append (GTK_BOX (box), ts);
  label = gtk_label_new (_("v (m/s)"));
  gtk_widget_set_margin_start (label, 12);
  gtk_box_append (GTK_BOX (box), label);
  gtk_widget_set_hexpand (vs, TRUE);
  gtk_box_append (GTK_BOX (box), vs);
  gtk_widget_set_tooltip_text (remove, _("Remove this row"));
  gtk_widget_add_css_class (remove, "flat");
  gtk_box_append (GTK_BOX (box), remove);
  g_object_set_data (G_OBJECT (box), "t", ts);
  g_object_set_data (G_OBJECT (box), "v", vs);
  g_signal_connect_swapped (ts, "value-changed", G_CALLBACK (update_velocity), self);
  g_signal_connect_swapped (vs, "value-changed", G_CALLBACK (update_velocity), self);
  g_signal_connect (remove, "clicked", G_CALLBACK (on_velocity_row_remove), NULL);
  gtk_list_box_append (self->velocity_list, box);
}

static void
clear_velocity_rows (WbMigrationWizard *self)
{
  GtkWidget *row;

  while ((row = gtk_widget_get_first_child (GTK_WIDGET (self->velocity_list))) != NULL)
    gtk_list_box_remove (self->velocity_list, row);
}

static void
on_velocity_add_row (WbMigrationWizard *self)
{
  GtkWidget *last = gtk_widget_get_last_child (GTK_WIDGET (self->velocity_list));
  double t = 0, v = gtk_spin_button_get_value (self->velocity_constant);

  if (last != NULL)
    {
      GtkWidget *box = gtk_list_box_row_get_child (GTK_LIST_BOX_ROW (last));
      t = gtk_spin_button_get_value (g_object_get_data (G_OBJECT (box), "t")) + 0.5;
      v = gtk_spin_button_get_value (g_object_get_data (G_OBJECT (box), "v"));
    }
  add_velocity_row (self, t, v);
  update_velocity (self);
}

static WbVelocity *
velocity_from_widgets (WbMigrationWizard *self,
                       GError           **error)
{
  switch (adw_combo_row_get_selected (self->velocity_mode_row))
    {
    case VELOCITY_TABLE:
      {
        g_autoptr(GArray) t = g_array_new (FALSE, FALSE, sizeof (double));
        g_autoptr(GArray) v = g_array_new (FALSE, FALSE, sizeof (double));

        for (GtkWidget *row = gtk_widget_get_first_child (GTK_WIDGET (self->velocity_list));
             row != NULL; row = gtk_widget_get_next_sibling (row))
          {
            GtkWidget *box = gtk_list_box_row_get_child (GTK_LIST_BOX_ROW (row));
            double tv = gtk_spin_button_get_value (g_object_get_data (G_OBJECT (box), "t"));
            double vv = gtk_spin_button_get_value (g_object_get_data (G_OBJECT (box), "v"));
            g_array_append_val (t, tv);
            g_array_append_val (v, vv);
          }
        if (t->len == 0)
          {
            g_set_error (error, WB_ERROR, WB_ERROR_INVALID, _("The table has no rows"));
            return NULL;
          }
        return wb_velocity_new (t->len, (double *) t->data, (double *) v->data, error);
      }
    case VELOCITY_FILE:
      if (self->velocity_file == NULL)
        {
          g_set_error (error, WB_ERROR, WB_ERROR_INVALID, _("No velocity file chosen"));
          return NULL;
        }
      return wb_velocity_parse (self->velocity_file, error);
    default:
      return wb_velocity_new_constant (gtk_spin_button_get_value (self->velocity_constant));
    }
}

static void
update_velocity (WbMigrationWizard *self)
{
  g_autoptr(GError) error = NULL;
  guint mode;

  if (self->velocity_constant == NULL)
    return;   /* still building the rows */
  mode = adw_combo_row_get_selected (self->velocity_mode_row);
  gtk_widget_set_visible (GTK_WIDGET (self->velocity_constant_group), mode == VELOCITY_CONSTANT);
  gtk_widget_set_visible (GTK_WIDGET (self->velocity_table_group), mode == VELOCITY_TABLE);
  gtk_widget_set_visible (GTK_WIDGET (self->velocity_file_group), mode == VELOCITY_FILE);
  if (mode == VELOCITY_TABLE && gtk_widget_get_first_child (GTK_WIDGET (self->velocity_list)) == NULL)
    {
      double v = gtk_spin_button_get_value (self->velocity_constant);
      add_velocity_row (self, 0, v);
      add_velocity_row (self, 1, v);
    }

  g_clear_pointer (&self->velocity, wb_velocity_free);
  g_clear_pointer (&self->velocity_error, g_free);
  self->velocity = velocity_from_widgets (self, &error);
  if (self->velocity == NULL)
    {
      self->velocity_error = g_strdup (error->message);
      gtk_label_set_text (self->velocity_status, error->message);
      gtk_widget_add_css_class (GTK_WIDGET (self->velocity_status), "error");
    }
  else
    {
      double vmin = G_MAXDOUBLE, vmax = 0;
      g_autofree char *text = NULL;

      for (guint i = 0; i < self->velocity->n; i++)
        {
          vmin = MIN (vmin, self->velocity->v[i]);
          vmax = MAX (vmax, self->velocity->v[i]);
        }
      if (vmin == vmax)
        text = g_strdup_printf (_("vrms %.0f m/s at all times"), vmin);
      else
        text = g_strdup_printf (g_dngettext (GETTEXT_PACKAGE, "vrms from %.0f to %.0f m/s, %u knot",
                                             "vrms from %.0f to %.0f m/s, %u knots", self->velocity->n),
                                vmin, vmax, self->velocity->n);
      gtk_label_set_text (self->velocity_status, text);
      gtk_widget_remove_css_class (GTK_WIDGET (self->velocity_status), "error");
    }
  discard_run (self);
  gtk_widget_queue_draw (GTK_WIDGET (self->velocity_area));
  update_navigation (self);
}

static void
on_velocity_file_response (GtkNativeDialog   *dialog,
                           int                response,
                           WbMigrationWizard *self)
{
  if (response == GTK_RESPONSE_ACCEPT)
    {
      g_autoptr(GFile) file = gtk_file_chooser_get_file (GTK_FILE_CHOOSER (dialog));

      g_free (self->velocity_file);
      self->velocity_file = g_file_get_path (file);
      adw_action_row_set_subtitle (self->velocity_file_row, self->velocity_file);
      update_velocity (self);
    }
  g_object_unref (dialog);
}

static void
on_velocity_open_clicked (WbMigrationWizard *self)
{
  GtkFileChooserNative *dialog;

  dialog = gtk_file_chooser_native_new (_("Open Velocity File"), GTK_WINDOW (self),
                                        GTK_FILE_CHOOSER_ACTION_OPEN, _("_Open"), _("_Cancel"));
  g_signal_connect (dialog, "response", G_CALLBACK (on_velocity_file_response), self);
  gtk_native_dialog_show (GTK_NATIVE_DIALOG (dialog));
}

/* vrms(t0) with time downwards, as velocity functions are drawn. */
static void
draw_velocity (GtkDrawingArea *area,
               cairo_t        *cr,
               int             width,
               int             height,
               gpointer        data)
{
  WbMigrationWizard *self = data;
  GtkWidget *widget = GTK_WIDGET (area);
  const double ml = 60, mr = 20, mt = 36, mb = 20;
  double tmax = 1, vmin = G_MAXDOUBLE, vmax = 0, pw = width - ml - mr, ph = height - mt - mb;
  char buf[64];

  if (self->velocity == NULL || pw <= 10 || ph <= 10)
    return;
  if (self->input != NULL)
    {
      const WbSegyGeometry *g = wb_pstm_input_geometry (self->input);
      tmax = g->dt * g->n_samples;
    }
  tmax = MAX (tmax, self->velocity->t[self->velocity->n - 1] * 1.1);
  for (int s = 0; s <= 200; s++)
    {
      double v = wb_velocity_at (self->velocity, tmax * s / 200.0);
      vmin = MIN (vmin, v);
      vmax = MAX (vmax, v);
    }
  if (vmax - vmin < 1)
    {
      vmin -= 100;
      vmax += 100;
    }
  else
    {
      double pad = 0.1 * (vmax - vmin);
      vmin -= pad;
      vmax += pad;
    }

  set_fg (widget, cr, 0.35);
  cairo_set_line_width (cr, 1);
  cairo_rectangle (cr, ml + 0.5, mt + 0.5, pw, ph);
  cairo_stroke (cr);
  set_fg (widget, cr, 0.8);
  draw_text (widget, cr, ml, 4, 0, _("vrms (m/s)"));
  g_snprintf (buf, sizeof buf, "%.0f", vmin);
  draw_text (widget, cr, ml, mt - 18, 0, buf);
  g_snprintf (buf, sizeof buf, "%.0f", vmax);
  draw_text (widget, cr, ml + pw, mt - 18, 1, buf);
  draw_text (widget, cr, ml - 6, mt, 1, "0 s");
  g_snprintf (buf, sizeof buf, "%.2f s", tmax);
  draw_text (widget, cr, ml - 6, mt + ph - 16, 1, buf);

  cairo_set_source_rgb (cr, 0.21, 0.52, 0.89);
  cairo_set_line_width (cr, 2);
  for (int s = 0; s <= 200; s++)
    {
      double t = tmax * s / 200.0, v = wb_velocity_at (self->velocity, t);
      double x = ml + (v - vmin) / (vmax - vmin) * pw, y = mt + t / tmax * ph;
      if (s == 0)
        cairo_move_to (cr, x, y);
      else
        cairo_line_to (cr, x, y);
    }
  cairo_stroke (cr);
  for (guint i = 0; i < self->velocity->n; i++)
    if (self->velocity->t[i] <= tmax)
      {
        cairo_arc (cr, ml + (self->velocity->v[i] - vmin) / (vmax - vmin) * pw,
                   mt + self->velocity->t[i] / tmax * ph, 3.5, 0, 2 * G_PI);
        cairo_fill (cr);
      }
}

/* --- parameters page ---------------------------------------------------- */

static void
params_from_widgets (WbMigrationWizard *self,
                     WbPstmParams      *p)
{
  wb_pstm_params_init (p);
  p->x0 = grid_value (self, GRID_X0);
  p->y0 = grid_value (self, GRID_Y0);
  p->dx = grid_value (self, GRID_DX);
  p->dy = grid_value (self, GRID_DY);
  p->nx = (guint) grid_value (self, GRID_NX);
  p->ny = (guint) grid_value (self, GRID_NY);
  p->t0 = grid_value (self, GRID_T0);
  p->dt = grid_value (self, GRID_DT) / 1e3;
  p->nt = (guint) grid_value (self, GRID_NT);
  p->aperture_min = spin_value (self, "aperture-min");
  p->aperture_max = spin_value (self, "aperture-max");
  p->max_dip = spin_value (self, "max-dip");
  p->taper = spin_value (self, "taper");
  p->derivative = switch_value (self, "derivative");
  p->obliquity = switch_value (self, "obliquity");
  p->spreading = switch_value (self, "spreading");
  p->antialias = switch_value (self, "antialias");
  p->normalize_fold = switch_value (self, "normalize-fold");
  p->tile_nx = (guint) spin_value (self, "tile-nx");
  p->tile_ny = (guint) spin_value (self, "tile-ny");
  /* A tile size of 0 on one axis alone means "from the budget" on both. */
  if (p->tile_nx == 0 || p->tile_ny == 0)
    p->tile_nx = p->tile_ny = 0;
  p->memory_budget = (guint64) (spin_value (self, "memory-mib") * 1048576.0);
}

static gboolean
params_valid (WbMigrationWizard *self,
              GError           **error)
{
  WbPstmParams p;
  gboolean ok;

  params_from_widgets (self, &p);
  ok = wb_pstm_params_check (&p, error);
  wb_pstm_params_clear (&p);
  return ok;
}

static void
on_params_changed (WbMigrationWizard *self)
{
  g_autoptr(GError) error = NULL;

  if (self->params_status == NULL)
    return;   /* still building the rows */
  if (!params_valid (self, &error))
    {
      gtk_label_set_text (self->params_status, error->message);
      gtk_widget_add_css_class (GTK_WIDGET (self->params_status), "error");
    }
  else
    {
      g_autofree char *text = NULL;
      g_autofree char *size = g_format_size ((guint64) (8.0 * grid_value (self, GRID_NX)
                                                         * grid_value (self, GRID_NY)
                                                         * grid_value (self, GRID_NT)));

      text = g_strdup_printf (_("Output: %.0f × %.0f columns of %.0f samples (image and fold: %s in memory)"),
                              grid_value (self, GRID_NX), grid_value (self, GRID_NY),
                              grid_value (self, GRID_NT), size);
      gtk_label_set_text (self->params_status, text);
      gtk_widget_remove_css_class (GTK_WIDGET (self->params_status), "error");
    }
  discard_run (self);
  gtk_widget_queue_draw (GTK_WIDGET (self->map_area));
  update_navigation (self);
}

static void
on_grid_reset (WbMigrationWizard *self)
{
  reset_grid (self);
  on_params_changed (self);
}

/* --- backend page -------------------------------------------------------- */

static guint
n_devices_chosen (WbMigrationWizard *self)
{
  guint n = 0;

  for (guint i = 0; i < self->device_checks->len; i++)
    n += gtk_check_button_get_active (self->device_checks->pdata[i]);
  return n;
}

static void
on_device_toggled (WbMigrationWizard *self)
{
  discard_run (self);
  update_navigation (self);
}

static void
build_device_rows (WbMigrationWizard *self)
{
  g_autofree char *notice = NULL;
  g_autoptr(WbDevice) chosen = NULL;

  self->devices = wb_device_list (&notice);
  chosen = wb_device_choose_auto (self->devices, NULL);
  for (guint i = 0; i < self->devices->len; i++)
    {
      WbDevice *d = self->devices->pdata[i];
      GtkWidget *row = adw_expander_row_new ();
      GtkWidget *check = gtk_check_button_new ();
      g_autofree char *text = wb_device_describe (d);
      g_autofree char *subtitle = g_strdup_printf ("%s · %s", d->id, wb_device_kind_to_string (d->kind));
      GtkWidget *label = gtk_label_new (g_strchomp (text));

      adw_preferences_row_set_title (ADW_PREFERENCES_ROW (row), d->name);
      adw_expander_row_set_subtitle (ADW_EXPANDER_ROW (row), subtitle);
      gtk_widget_set_valign (check, GTK_ALIGN_CENTER);
      gtk_check_button_set_active (GTK_CHECK_BUTTON (check), chosen != NULL && g_str_equal (chosen->id, d->id));
      /* The automatic choice shows what it is. */
      adw_expander_row_set_expanded (ADW_EXPANDER_ROW (row), chosen != NULL && g_str_equal (chosen->id, d->id));
      adw_expander_row_add_prefix (ADW_EXPANDER_ROW (row), check);
      g_signal_connect_swapped (check, "toggled", G_CALLBACK (on_device_toggled), self);
      gtk_label_set_xalign (GTK_LABEL (label), 0);
      gtk_label_set_selectable (GTK_LABEL (label), TRUE);
      gtk_label_set_wrap (GTK_LABEL (label), TRUE);
      gtk_widget_set_margin_start (label, 12);
      gtk_widget_set_margin_end (label, 12);
      gtk_widget_set_margin_top (label, 8);
      gtk_widget_set_margin_bottom (label, 8);
      gtk_widget_add_css_class (label, "monospace");
      adw_expander_row_add_row (ADW_EXPANDER_ROW (row), label);
      adw_preferences_group_add (self->device_group, row);
      g_ptr_array_add (self->device_checks, check);
    }
  if (notice != NULL)
    adw_preferences_group_set_description (self->device_group, notice);
}

static GPtrArray *
chosen_devices (WbMigrationWizard *self)
{
  GPtrArray *out = g_ptr_array_new_with_free_func ((GDestroyNotify) wb_device_unref);

  for (guint i = 0; i < self->device_checks->len; i++)
    if (gtk_check_button_get_active (self->device_checks->pdata[i]))
      g_ptr_array_add (out, wb_device_ref (self->devices->pdata[i]));
  return out;
}

/* Ticks the devices @ids names ("auto" or ids separated by commas). */
static gboolean
choose_devices (WbMigrationWizard *self,
                const char        *ids,
                GError           **error)
{
  g_auto(GStrv) parts = g_strsplit (ids ? ids : "auto", ",", -1);

  for (guint i = 0; i < self->device_checks->len; i++)
    gtk_check_button_set_active (self->device_checks->pdata[i], FALSE);
  for (guint k = 0; parts[k]; k++)
    {
      g_autoptr(WbDevice) d = wb_device_lookup (self->devices, g_strstrip (parts[k]), NULL, error);

      if (d == NULL)
        return FALSE;
      for (guint i = 0; i < self->devices->len; i++)
        if (g_str_equal (((WbDevice *) self->devices->pdata[i])->id, d->id))
          gtk_check_button_set_active (self->device_checks->pdata[i], TRUE);
    }
  return TRUE;
}

/* --- run page ------------------------------------------------------------ */

static void
set_run_buttons (WbMigrationWizard *self)
{
  Run *run = self->run;
  gboolean running = run != NULL && run->running;
  gboolean some_done = FALSE, all_done = run != NULL;

  if (run != NULL)
    for (guint i = 0; i < run->n_tiles; i++)
      {
        WbPstmTileState s = wb_pstm_job_tile_state (run->job, i);
        gboolean done = s == WB_PSTM_TILE_DONE || s == WB_PSTM_TILE_RESUMED;
        some_done |= done;
        all_done &= done;
      }
  gtk_widget_set_sensitive (GTK_WIDGET (self->start_button), run != NULL && !running && !all_done);
  gtk_button_set_label (self->start_button, some_done && !all_done && !running ? _("_Resume") : _("_Start"));
  gtk_widget_set_sensitive (GTK_WIDGET (self->pause_button), running);
  gtk_button_set_label (self->pause_button, self->paused ? _("_Continue") : _("_Pause"));
  gtk_widget_set_sensitive (GTK_WIDGET (self->cancel_button), running);
  gtk_widget_set_sensitive (GTK_WIDGET (self->export_image_button), run != NULL && !running && some_done);
  gtk_widget_set_sensitive (GTK_WIDGET (self->export_fold_button), run != NULL && !running && some_done);
}

static void
update_slice_range (WbMigrationWizard *self)
{
  guint axis = gtk_drop_down_get_selected (self->slice_axis);
  /* Inline: fixed y; crossline: fixed x; time slice: fixed t. */
  gsize n = self->shown == NULL ? 1 : self->shown->shape[axis == 0 ? 1 : axis == 1 ? 0 : 2];
  GtkAdjustment *adj = gtk_spin_button_get_adjustment (self->slice_index);

  gtk_adjustment_set_upper (adj, n - 1);
  if (gtk_adjustment_get_value (adj) > n - 1)
    gtk_adjustment_set_value (adj, n / 2);
}

/* The slice shown, through the diverging map, symmetric about zero. */
static void
rebuild_slice (WbMigrationWizard *self)
{
  guint axis = gtk_drop_down_get_selected (self->slice_axis);
  guint field_axis = axis == 0 ? 1 : axis == 1 ? 0 : 2;
  gsize index = gtk_spin_button_get_value_as_int (self->slice_index);
  g_autofree float *vals = NULL;
  g_autofree char *text = NULL;
  const WbField *f = self->shown;
  guint8 *pixels;
  int stride, w, h;
  double absmax = 0;

  g_clear_pointer (&self->slice_surface, cairo_surface_destroy);
  if (self->shown == NULL)
    {
      gtk_label_set_text (self->slice_label, _("Image"));
      gtk_widget_queue_draw (GTK_WIDGET (self->slice_area));
      return;
    }
  index = MIN (index, f->shape[field_axis] - 1);
  /* The two remaining axes, in order: (x, t), (y, t) or (x, y).  Only the
   * columns of tiles seen done are read: the others may be being written. */
  w = f->shape[field_axis == 0 ? 1 : 0];
  h = f->shape[field_axis == 2 ? 1 : 2];
  vals = g_new0 (float, (gsize) w * h);
  for (int b = 0; b < h; b++)
    for (int a = 0; a < w; a++)
      {
        gsize i = field_axis == 0 ? index : (gsize) a;
        gsize j = field_axis == 1 ? index : field_axis == 0 ? (gsize) a : (gsize) b;
        gsize k = field_axis == 2 ? index : (gsize) b;

        if (self->copied[self->column_tile[i + f->shape[0] * j]])
          vals[a + (gsize) w * b] = f->data[wb_field_index (f, i, j, k)];
      }
  for (gsize s = 0; s < (gsize) w * h; s++)
    if (isfinite (vals[s]))
      absmax = MAX (absmax, fabs (vals[s]));
  self->slice_absmax = absmax;
  if (absmax == 0)
    absmax = 1;

  /* Sections: the first slice axis across, time down.  Time slices: x
   * across, y up. */
  self->slice_surface = cairo_image_surface_create (CAIRO_FORMAT_RGB24, w, h);
  cairo_surface_flush (self->slice_surface);
  pixels = cairo_image_surface_get_data (self->slice_surface);
  stride = cairo_image_surface_get_stride (self->slice_surface);
  for (int r = 0; r < h; r++)
    for (int c = 0; c < w; c++)
      {
        gsize j = field_axis == 2 ? (gsize) (h - 1 - r) : (gsize) r;
        float v = vals[c + (gsize) w * j];
        guint8 rgb[3];
        guint32 *px = (guint32 *) (pixels + (gsize) r * stride) + c;

        wb_colormap_map (WB_COLORMAP_DIVERGING, 0.5 + 0.5 * v / absmax, rgb);
        *px = 0xff000000u | (rgb[0] << 16) | (rgb[1] << 8) | rgb[2];
      }
  cairo_surface_mark_dirty (self->slice_surface);

  switch (field_axis)
    {
    case 1:
      text = g_strdup_printf (_("Inline %u (y = %.1f m)"), (guint) index,
                              self->shown->origin[1] + index * self->shown->spacing[1]);
      break;
    case 0:
      text = g_strdup_printf (_("Crossline %u (x = %.1f m)"), (guint) index,
                              self->shown->origin[0] + index * self->shown->spacing[0]);
      break;
    default:
      text = g_strdup_printf (_("Time slice %u (t = %.3f s)"), (guint) index,
                              self->shown->origin[2] + index * self->shown->spacing[2]);
      break;
    }
  {
    g_autofree char *full = g_strdup_printf (_("%s, largest amplitude %.3g"), text, self->slice_absmax);
    gtk_label_set_text (self->slice_label, full);
  }
  gtk_widget_queue_draw (GTK_WIDGET (self->slice_area));
}

static void
on_slice_axis_changed (WbMigrationWizard *self)
{
  update_slice_range (self);
  rebuild_slice (self);
}

static void
on_slice_index_changed (WbMigrationWizard *self)
{
  rebuild_slice (self);
}

static void
draw_slice (GtkDrawingArea *area,
            cairo_t        *cr,
            int             width,
            int             height,
            gpointer        data)
{
  WbMigrationWizard *self = data;
  int w, h;

  cairo_set_source_rgb (cr, 0.13, 0.13, 0.15);
  cairo_paint (cr);
  if (self->slice_surface == NULL)
    return;
  w = cairo_image_surface_get_width (self->slice_surface);
  h = cairo_image_surface_get_height (self->slice_surface);
  /* Stretched to the area, as seismic sections are displayed. */
  cairo_scale (cr, (double) width / w, (double) height / h);
  cairo_set_source_surface (cr, self->slice_surface, 0, 0);
  cairo_pattern_set_filter (cairo_get_source (cr), CAIRO_FILTER_NEAREST);
  cairo_paint (cr);
}

static const double tile_colours[5][3] = {
  { 0.60, 0.60, 0.59 },   /* pending */
  { 0.96, 0.76, 0.07 },   /* running */
  { 0.20, 0.82, 0.48 },   /* done */
  { 0.13, 0.56, 0.64 },   /* resumed */
  { 0.88, 0.11, 0.14 },   /* failed */
};

/* The output grid (y up) split into its tiles, each coloured by state. */
static void
draw_tiles (GtkDrawingArea *area,
            cairo_t        *cr,
            int             width,
            int             height,
            gpointer        data)
{
  WbMigrationWizard *self = data;
  GtkWidget *widget = GTK_WIDGET (area);
  Run *run = self->run;
  const double legend = 50, margin = 6;
  double nx, ny, scale, ox, oy;
  const char *names[5] = { _("Pending"), _("Running"), _("Done"), _("Resumed"), _("Failed") };

  if (run == NULL)
    {
      set_fg (widget, cr, 0.55);
      draw_text (widget, cr, width / 2.0, height / 2.0 - 10, 0.5, _("No job planned"));
      return;
    }
  nx = self->shown->shape[0];
  ny = self->shown->shape[1];
  scale = MIN ((width - 2 * margin) / nx, (height - 2 * margin - legend) / ny);
  if (scale <= 0)
    return;
  ox = margin + 0.5 * (width - 2 * margin - nx * scale);
  oy = margin;
  for (guint t = 0; t < run->n_tiles; t++)
    {
      guint i0, j0, ni, nj, c;
      WbPstmTileState s = wb_pstm_job_tile_state (run->job, t);

      wb_pstm_job_tile_rect (run->job, t, &i0, &j0, &ni, &nj);
      c = run->failed != NULL && run->failed[t] ? 4
        : s == WB_PSTM_TILE_RUNNING ? 1 : s == WB_PSTM_TILE_DONE ? 2 : s == WB_PSTM_TILE_RESUMED ? 3 : 0;
      cairo_set_source_rgb (cr, tile_colours[c][0], tile_colours[c][1], tile_colours[c][2]);
      cairo_rectangle (cr, ox + i0 * scale, oy + (ny - j0 - nj) * scale, ni * scale, nj * scale);
      cairo_fill_preserve (cr);
      cairo_set_source_rgba (cr, 0, 0, 0, 0.6);
      cairo_set_line_width (cr, 1);
      cairo_stroke (cr);
      if (ni * scale > 28 && nj * scale > 20)
        {
          char buf[16];
          g_snprintf (buf, sizeof buf, "%u", t + 1);
          cairo_set_source_rgba (cr, 0, 0, 0, 0.75);
          draw_text (widget, cr, ox + (i0 + 0.5 * ni) * scale, oy + (ny - j0 - 0.5 * nj) * scale - 8, 0.5, buf);
        }
    }

  {
    double x = margin, y = height - legend + 4;

    for (int k = 0; k < 5; k++)
      {
        PangoLayout *layout = gtk_widget_create_pango_layout (widget, names[k]);
        int w, h;

        pango_layout_get_pixel_size (layout, &w, &h);
        /* Two lines where one is too narrow (longer words in German). */
        if (x > margin && x + 14 + w > width - margin)
          {
            x = margin;
            y += h + 4;
          }
        cairo_set_source_rgb (cr, tile_colours[k][0], tile_colours[k][1], tile_colours[k][2]);
        cairo_rectangle (cr, x, y + h / 2.0 - 5, 10, 10);
        cairo_fill (cr);
        set_fg (widget, cr, 0.85);
        cairo_move_to (cr, x + 14, y);
        pango_cairo_show_layout (cr, layout);
        x += 14 + w + 14;
        g_object_unref (layout);
      }
  }
}

/* Marks the tiles newly seen done, whose samples the slice may then read:
 * the job stores a tile's samples before it marks the tile done under its
 * lock, and reading the state takes that lock.  No copy of the image is
 * kept (it may be gigabytes).  @all: after the run has returned (fold
 * normalisation, if asked for, has then rewritten every sample). */
static void
refresh_image (WbMigrationWizard *self,
               gboolean           all)
{
  Run *run = self->run;
  gboolean changed = all;

  if (run == NULL)
    return;
  for (guint t = 0; t < run->n_tiles; t++)
    {
      WbPstmTileState s;

      if (self->copied[t])
        continue;
      s = wb_pstm_job_tile_state (run->job, t);
      if (s == WB_PSTM_TILE_DONE || s == WB_PSTM_TILE_RESUMED)
        {
          self->copied[t] = TRUE;
          changed = TRUE;
        }
    }
  if (changed)
    rebuild_slice (self);
}

static void on_pause_clicked (WbMigrationWizard *self);
static void start_run (WbMigrationWizard *self);
static void on_cancel_clicked (WbMigrationWizard *self);

static gboolean
script_cancel (gpointer data)
{
  WbMigrationWizard *self = data;

  /* The paused run page (tiles of every state, the image so far). */
  if (self->script.screenshot != NULL && g_str_has_suffix (self->script.screenshot, ".png"))
    {
      g_autofree char *base = g_strndup (self->script.screenshot, strlen (self->script.screenshot) - 4);
      g_autofree char *path = g_strconcat (base, "-paused.png", NULL);
      g_autoptr(GError) error = NULL;
      guint w = 0, h = 0;

      if (save_window_png (GTK_WIDGET (self), path, &w, &h, &error))
        script_say (self, "paused run page screenshot %s %ux%u", path, w, h);
      else
        script_say (self, "paused run page screenshot failed: %s", error->message);
    }
  script_say (self, "migrate cancel pressed");
  on_cancel_clicked (self);
  return G_SOURCE_REMOVE;
}

static void
show_progress (WbMigrationWizard    *self,
               const WbPstmProgress *p,
               const char           *device_id)
{
  g_autofree char *eta = format_duration (p->eta);
  g_autofree char *elapsed = format_duration (p->elapsed);
  g_autofree char *stats = NULL;
  g_autofree char *bar = NULL;
  double fraction = p->traces_total > 0 ? (double) p->traces_done / p->traces_total
                  : p->n_tiles > 0 ? (double) p->tiles_done / p->n_tiles : 0;

  stats = g_strdup_printf (_("Tile %u of %u on %s · %u done · %.3g traces/s · %.3g contributions/s · "
                             "elapsed %s · ETA %s"),
                           p->tile + 1, p->n_tiles, device_id, p->tiles_done,
                           p->traces_per_s, p->contributions_per_s, elapsed, eta);
  bar = g_strdup_printf (_("%u of %u tiles"), p->tiles_done, p->n_tiles);
  gtk_label_set_text (self->run_stats, stats);
  gtk_progress_bar_set_fraction (self->run_progress, CLAMP (fraction, 0, 1));
  gtk_progress_bar_set_text (self->run_progress, bar);
  /* Events are coalesced (only the latest reaches here), so look at the
   * tile states rather than at the kind of event. */
  refresh_image (self, FALSE);
  gtk_widget_queue_draw (GTK_WIDGET (self->tiles_area));

  /* --wizard-close-after N: close the window in the middle of the run. */
  if (self->scripted && self->script.close_after > 0 && p->tiles_done >= self->script.close_after
      && self->exit_status != NULL)
    {
      script_say (self, "migrate closing tiles-done=%u", p->tiles_done);
      *self->exit_status = 0;
      self->exit_status = NULL;
      g_idle_add_full (G_PRIORITY_DEFAULT, close_idle, g_object_ref (self), g_object_unref);
      return;
    }

  /* --wizard-interrupt N: Pause once N tiles are done, then Cancel while
   * paused (the workers must notice), then Resume (in run_finished). */
  if (self->scripted && self->script.interrupt_after > 0 && !self->script_interrupted
      && p->tiles_done >= self->script.interrupt_after)
    {
      guint shown = 0;

      for (guint t = 0; t < self->run->n_tiles; t++)
        shown += self->copied[t];
      self->script_interrupted = TRUE;
      on_pause_clicked (self);
      /* tiles-shown: tiles whose samples the live slice has taken. */
      script_say (self, "migrate pause pressed tiles-done=%u tiles-shown=%u", p->tiles_done, shown);
      g_timeout_add_full (G_PRIORITY_DEFAULT, 300, script_cancel, g_object_ref (self), g_object_unref);
    }
}

static gboolean
run_progress_idle (gpointer data)
{
  Run *run = data;
  WbPstmProgress p;
  char device_id[64];

  g_mutex_lock (&run->lock);
  p = run->last;
  memcpy (device_id, run->device_id, sizeof device_id);
  run->idle_pending = FALSE;
  g_mutex_unlock (&run->lock);
  if (run->wizard != NULL && run->running && run->wizard->run == run)
    show_progress (run->wizard, &p, device_id);
  return G_SOURCE_REMOVE;
}

/* From the job's threads, with the job's lock held: copy, and post at most
 * one idle to the main loop. */
static void
run_progress_cb (const WbPstmProgress *p,
                 gpointer              data)
{
  Run *run = data;

  g_mutex_lock (&run->lock);
  run->last = *p;
  run->last.device_id = NULL;
  g_strlcpy (run->device_id, p->device_id ? p->device_id : "", sizeof run->device_id);
  if (p->tile < run->n_tiles)
    {
      if (p->kind == WB_PSTM_EVENT_TILE_STARTED)
        run->started[p->tile] = TRUE;
      else if (p->kind == WB_PSTM_EVENT_TILE_DONE)
        run->started[p->tile] = FALSE;
    }
  if (!run->idle_pending)
    {
      run->idle_pending = TRUE;
      g_idle_add_full (G_PRIORITY_DEFAULT, run_progress_idle, run_ref (run),
                       (GDestroyNotify) run_unref);
    }
  g_mutex_unlock (&run->lock);
}

static void
run_finished (WbMigrationWizard *self,
              Run               *run)
{
  g_autoptr(GError) error = NULL;
  WbPstmStats st;
  gboolean ok;

  g_mutex_lock (&run->lock);
  ok = run->ok;
  error = g_steal_pointer (&run->error);
  g_mutex_unlock (&run->lock);
  run->running = FALSE;
  self->paused = FALSE;
  wb_pstm_job_get_stats (run->job, &st);
  refresh_image (self, TRUE);

  if (ok)
    {
      g_autofree char *stats = NULL;
      double rate = st.seconds > 0 ? st.contributions / st.seconds : 0;
      double trate = st.seconds > 0 ? st.traces / st.seconds : 0;

      stats = g_strdup_printf (_("Finished: %u tiles (%u resumed) in %.2f s · %.3g traces/s · "
                                 "%.3g contributions/s"),
                               run->n_tiles, st.tiles_resumed, st.seconds, trate, rate);
      gtk_label_set_text (self->run_stats, stats);
      gtk_progress_bar_set_fraction (self->run_progress, 1);
      {
        g_autofree char *bar = g_strdup_printf (_("%u of %u tiles"), run->n_tiles, run->n_tiles);
        gtk_progress_bar_set_text (self->run_progress, bar);
      }
      script_say (self, "migrate done tiles=%u computed=%u resumed=%u traces=%" G_GUINT64_FORMAT
                  " contributions=%" G_GUINT64_FORMAT " seconds=%.3f traces/s=%.4g contributions/s=%.4g",
                  run->n_tiles, st.tiles_computed, st.tiles_resumed, st.traces, st.contributions,
                  st.seconds, trate, rate);
    }
  else
    {
      g_autofree char *msg = NULL;

      if (g_error_matches (error, WB_ERROR, WB_ERROR_CANCELLED))
        {
          guint done = 0;
          for (guint t = 0; t < run->n_tiles; t++)
            done += self->copied[t];
          msg = g_strdup_printf (_("Cancelled with %u of %u tiles done: Resume computes the others."),
                                 done, run->n_tiles);
          gtk_label_set_text (self->run_stats, msg);
          script_say (self, "migrate cancelled tiles-done=%u", done);
        }
      else
        {
          /* The tiles being computed when a device failed. */
          g_free (run->failed);
          g_mutex_lock (&run->lock);
          run->failed = g_memdup2 (run->started, run->n_tiles);
          memset (run->started, 0, run->n_tiles);
          g_mutex_unlock (&run->lock);
          msg = g_strdup_printf (_("The migration failed: %s"), error->message);
          show_message (self, msg, TRUE);
        }
    }
  set_run_buttons (self);
  update_navigation (self);
  gtk_widget_queue_draw (GTK_WIDGET (self->tiles_area));

  if (self->scripted)
    {
      if (ok)
        script_continue (self);
      else if (self->script_interrupted && !self->script_resumed
               && g_error_matches (error, WB_ERROR, WB_ERROR_CANCELLED))
        {
          self->script_resumed = TRUE;
          script_say (self, "migrate resume pressed");
          start_run (self);
        }
      else
        script_finish (self, 1);
    }
}

static gboolean
run_finished_idle (gpointer data)
{
  Run *run = data;

  if (run->wizard != NULL && run->wizard->run == run)
    run_finished (run->wizard, run);
  if (run->held != NULL)
    {
      g_application_release (run->held);
      g_clear_object (&run->held);
    }
  return G_SOURCE_REMOVE;
}

static gpointer
run_thread (gpointer data)
{
  Run *run = data;
  GError *error = NULL;
  gboolean ok = wb_pstm_job_run (run->job, run->cancellable, &error);

  g_mutex_lock (&run->lock);
  run->ok = ok;
  g_clear_error (&run->error);
  run->error = error;
  g_mutex_unlock (&run->lock);
  /* Hands this thread's reference to the main loop. */
  g_idle_add_full (G_PRIORITY_DEFAULT, run_finished_idle, run, (GDestroyNotify) run_unref);
  return NULL;
}

static void
discard_run (WbMigrationWizard *self)
{
  if (self->run == NULL || self->run->running)
    return;
  self->run->wizard = NULL;
  g_clear_pointer (&self->run, run_unref);
  g_clear_pointer (&self->shown, wb_field_unref);
  g_clear_pointer (&self->copied, g_free);
  g_clear_pointer (&self->column_tile, g_free);
  rebuild_slice (self);
  gtk_label_set_text (self->run_stats, "");
  gtk_progress_bar_set_fraction (self->run_progress, 0);
  gtk_progress_bar_set_text (self->run_progress, "");
  set_run_buttons (self);
  gtk_widget_queue_draw (GTK_WIDGET (self->tiles_area));
}

/* Plans the job from the pages (nothing is computed yet). */
static gboolean
plan_run (WbMigrationWizard *self,
          GError           **error)
{
  g_autoptr(GPtrArray) devices = chosen_devices (self);
  WbPstmParams p;
  WbPstmJob *job;
  Run *run;
  if (self->run != NULL)
    return TRUE;
  params_from_widgets (self, &p);
  job = wb_pstm_job_new (self->input, &p, self->velocity, devices, NULL, error);
  wb_pstm_params_clear (&p);
  if (job == NULL)
    return FALSE;

  run = g_new0 (Run, 1);
  g_atomic_ref_count_init (&run->ref_count);
  g_mutex_init (&run->lock);
  run->job = job;
  run->n_tiles = wb_pstm_job_n_tiles (job);
  run->started = g_new0 (guint8, run->n_tiles);
  run->wizard = self;
  self->run = run;
  wb_pstm_job_set_progress (job, run_progress_cb, run);

  self->shown = wb_pstm_job_get_image (job);
  self->copied = g_new0 (guint8, run->n_tiles);
  self->column_tile = g_new0 (guint32, self->shown->shape[0] * self->shown->shape[1]);
  for (guint t = 0; t < run->n_tiles; t++)
    {
      guint i0, j0, ni, nj;

      wb_pstm_job_tile_rect (job, t, &i0, &j0, &ni, &nj);
      for (guint b = 0; b < nj; b++)
        for (guint a = 0; a < ni; a++)
          self->column_tile[(i0 + a) + self->shown->shape[0] * (j0 + b)] = t;
    }
  update_slice_range (self);
  gtk_spin_button_set_value (self->slice_index,
                             self->shown->shape[gtk_drop_down_get_selected (self->slice_axis) == 0 ? 1
                                                : gtk_drop_down_get_selected (self->slice_axis) == 1 ? 0 : 2] / 2);
  rebuild_slice (self);
  {
    g_autofree char *text = NULL;
    g_autoptr(GString) ids = g_string_new (NULL);

    for (guint d = 0; d < devices->len; d++)
      g_string_append_printf (ids, "%s%s", d ? ", " : "", ((WbDevice *) devices->pdata[d])->id);
    text = g_strdup_printf (g_dngettext (GETTEXT_PACKAGE, "%u tile planned on %s",
                                         "%u tiles planned on %s", run->n_tiles),
                            run->n_tiles, ids->str);
    gtk_label_set_text (self->run_stats, text);
    script_say (self, "migrate planned tiles=%u devices=%s", run->n_tiles, ids->str);
  }
  gtk_progress_bar_set_fraction (self->run_progress, 0);
  gtk_progress_bar_set_text (self->run_progress, "");
  set_run_buttons (self);
  gtk_widget_queue_draw (GTK_WIDGET (self->tiles_area));
  return TRUE;
}

static void
start_run (WbMigrationWizard *self)
{
  Run *run = self->run;

  if (run == NULL || run->running)
    return;
  g_clear_object (&run->cancellable);
  run->cancellable = g_cancellable_new ();
  g_clear_pointer (&run->failed, g_free);
  memset (run->started, 0, run->n_tiles);
  run->running = TRUE;
  self->paused = FALSE;
  wb_pstm_job_set_paused (run->job, FALSE);
  on_error_dismiss (self);
  set_run_buttons (self);
  update_navigation (self);
  g_thread_unref (g_thread_new ("wb-migrate", run_thread, run_ref (run)));
}

static void
on_start_clicked (WbMigrationWizard *self)
{
  start_run (self);
}

static void
on_pause_clicked (WbMigrationWizard *self)
{
  if (self->run == NULL || !self->run->running)
    return;
  self->paused = !self->paused;
  wb_pstm_job_set_paused (self->run->job, self->paused);
  set_run_buttons (self);
  if (self->paused)
    gtk_progress_bar_set_text (self->run_progress, _("Paused"));
}

static void
on_cancel_clicked (WbMigrationWizard *self)
{
  if (self->run == NULL || !self->run->running)
    return;
  g_cancellable_cancel (self->run->cancellable);
  /* Paused workers look at the cancellable while they wait. */
  gtk_progress_bar_set_text (self->run_progress, _("Cancelling…"));
}

/* .npy, .sgy/.segy (IEEE floats) or .png (PREFIX-inline/-crossline/-time.png). */
static gboolean
export_field (WbField    *field,
              const char *path,
              GError    **error)
{
  g_autofree char *lower = g_ascii_strdown (path, -1);

  if (g_str_has_suffix (lower, ".npy"))
    return wb_npy_write_field (field, path, error);
  if (g_str_has_suffix (lower, ".sgy") || g_str_has_suffix (lower, ".segy"))
    return wb_segy_write_volume (field, path, WB_SEGY_IEEE_FLOAT, error);
  if (g_str_has_suffix (lower, ".png"))
    {
      g_autofree char *prefix = g_strndup (path, strlen (path) - 4);
      return wb_pstm_write_png_slices (field, prefix, -1, error);
    }
  g_set_error (error, WB_ERROR, WB_ERROR_INVALID,
               _("“%s”: name the file .sgy, .npy or .png"), path);
  return FALSE;
}

typedef struct
{
  WbField *field;
  char    *path;
} ExportData;

static void
export_data_free (ExportData *d)
{
  wb_field_unref (d->field);
  g_free (d->path);
  g_free (d);
}

static void
export_thread (GTask        *task,
               gpointer      source,
               gpointer      task_data,
               GCancellable *cancellable)
{
  ExportData *d = task_data;
  GError *error = NULL;

  if (export_field (d->field, d->path, &error))
    g_task_return_boolean (task, TRUE);
  else
    g_task_return_error (task, error);
}

static void
export_done (GObject      *source,
             GAsyncResult *result,
             gpointer      user_data)
{
  WbMigrationWizard *self = WB_MIGRATION_WIZARD (source);
  ExportData *d = g_task_get_task_data (G_TASK (result));
  g_autoptr(GError) error = NULL;
  g_autofree char *msg = NULL;

  if (!g_task_propagate_boolean (G_TASK (result), &error))
    {
      msg = g_strdup_printf (_("Cannot export: %s"), error->message);
      show_message (self, msg, TRUE);
      return;
    }
  msg = g_strdup_printf (_("Saved %s"), d->path);
  show_message (self, msg, FALSE);
}

static void
on_export_response (GtkNativeDialog   *dialog,
                    int                response,
                    WbMigrationWizard *self)
{
  gboolean fold = GPOINTER_TO_INT (g_object_get_data (G_OBJECT (dialog), "fold"));

  if (response == GTK_RESPONSE_ACCEPT && self->run != NULL && !self->run->running)
    {
      g_autoptr(GFile) file = gtk_file_chooser_get_file (GTK_FILE_CHOOSER (dialog));
      g_autoptr(GTask) task = g_task_new (self, NULL, export_done, NULL);
      ExportData *d = g_new0 (ExportData, 1);

      /* A copy: a later Resume would write into the job's image. */
      {
        g_autoptr(WbField) f = fold ? wb_pstm_job_get_fold (self->run->job)
                                    : wb_pstm_job_get_image (self->run->job);
        d->field = wb_field_copy (f);
      }
      d->path = g_file_get_path (file);
      g_task_set_task_data (task, d, (GDestroyNotify) export_data_free);
      g_task_run_in_thread (task, export_thread);
    }
  g_object_unref (dialog);
}

static void
export_dialog (WbMigrationWizard *self,
               gboolean           fold)
{
  GtkFileChooserNative *dialog;

  dialog = gtk_file_chooser_native_new (fold ? _("Export Fold") : _("Export Image"), GTK_WINDOW (self),
                                        GTK_FILE_CHOOSER_ACTION_SAVE, _("_Save"), _("_Cancel"));
  add_filter (GTK_FILE_CHOOSER (dialog), _("SEG-Y files"), "*.sgy", "*.segy");
  add_filter (GTK_FILE_CHOOSER (dialog), _("NumPy arrays"), "*.npy", NULL);
  add_filter (GTK_FILE_CHOOSER (dialog), _("PNG slices (inline, crossline, time)"), "*.png", NULL);
  gtk_file_chooser_set_current_name (GTK_FILE_CHOOSER (dialog), fold ? "fold.sgy" : "image.sgy");
  g_object_set_data (G_OBJECT (dialog), "fold", GINT_TO_POINTER (fold));
  g_signal_connect (dialog, "response", G_CALLBACK (on_export_response), self);
  gtk_native_dialog_show (GTK_NATIVE_DIALOG (dialog));
}

static void
on_export_image_clicked (WbMigrationWizard *self)
{
  export_dialog (self, FALSE);
}

static void
on_export_fold_clicked (WbMigrationWizard *self)
{
  export_dialog (self, TRUE);
}

/* --- navigation ---------------------------------------------------------- */

static guint
current_page (WbMigrationWizard *self)
{
  const char *name = gtk_stack_get_visible_child_name (self->stack);

  for (guint i = 0; i < N_PAGES; i++)
    if (g_strcmp0 (name, page_names[i]) == 0)
      return i;
  return 0;
}

/* Whether page @i is complete, with the reason when it is not. */
static gboolean
page_ready (WbMigrationWizard *self,
            guint              i,
            GError           **error)
{
  switch (i)
    {
    case 0:
      if (self->input == NULL)
        {
          g_set_error (error, WB_ERROR, WB_ERROR_INVALID, _("Open a SEG-Y file or generate synthetic data first"));
          return FALSE;
        }
      return TRUE;
    case 1:
      if (self->velocity == NULL)
        {
          g_set_error_literal (error, WB_ERROR, WB_ERROR_INVALID,
                               self->velocity_error ? self->velocity_error : _("No velocity"));
          return FALSE;
        }
      return TRUE;
    case 2:
      return params_valid (self, error);
    case 3:
      if (n_devices_chosen (self) == 0)
        {
          g_set_error (error, WB_ERROR, WB_ERROR_INVALID, _("Choose at least one device"));
          return FALSE;
        }
      return TRUE;
    default:
      return TRUE;
    }
}

static void
update_navigation (WbMigrationWizard *self)
{
  guint page = current_page (self);
  gboolean running = self->run != NULL && self->run->running;
  g_autofree char *subtitle = NULL;
  GtkWidget *child = gtk_stack_get_visible_child (self->stack);
  const char *title = child ? gtk_stack_page_get_title (gtk_stack_get_page (self->stack, child)) : "";

  if (self->window_title == NULL || self->params_status == NULL)
    return;
  subtitle = g_strdup_printf (_("Step %u of %u: %s"), page + 1, (guint) N_PAGES, title);
  adw_window_title_set_subtitle (self->window_title, subtitle);
  gtk_widget_set_sensitive (GTK_WIDGET (self->back_button), page > 0 && !running);
  gtk_widget_set_visible (GTK_WIDGET (self->next_button), page + 1 < N_PAGES);
  gtk_widget_set_sensitive (GTK_WIDGET (self->next_button), page_ready (self, page, NULL));
}

static void
on_page_changed (WbMigrationWizard *self)
{
  update_navigation (self);
}

/* Moves one page on; entering the run page plans the job. */
static gboolean
go_next (WbMigrationWizard *self,
         GError           **error)
{
  guint page = current_page (self);

  if (page + 1 >= N_PAGES || !page_ready (self, page, error))
    return FALSE;
  if (page + 1 == N_PAGES - 1 && !plan_run (self, error))
    return FALSE;
  gtk_stack_set_visible_child_name (self->stack, page_names[page + 1]);
  return TRUE;
}

static void
on_next_clicked (WbMigrationWizard *self)
{
  g_autoptr(GError) error = NULL;

  if (!go_next (self, &error) && error != NULL)
    show_message (self, error->message, TRUE);
}

static void
on_back_clicked (WbMigrationWizard *self)
{
  guint page = current_page (self);

  if (page == 0 || (self->run != NULL && self->run->running))
    return;
  gtk_stack_set_visible_child_name (self->stack, page_names[page - 1]);
}

/* --- scripted mode ------------------------------------------------------- */

static const GOptionEntry script_options[] = {
  { "migrate-synthetic", 0, 0, G_OPTION_ARG_NONE, NULL, N_("Scripted: open the migration wizard, generate its synthetic data and migrate it"), NULL },
  { "migrate-segy", 0, 0, G_OPTION_ARG_FILENAME, NULL, N_("Scripted: open the migration wizard and migrate this SEG-Y file"), N_("PATH") },
  { "wizard-set", 0, 0, G_OPTION_ARG_STRING_ARRAY, NULL, N_("Scripted: set a value in the migration wizard (velocity, velocity-table=T:V,…, aperture-max, …)"), N_("KEY=VALUE") },
  { "wizard-save-synthetic", 0, 0, G_OPTION_ARG_FILENAME, NULL, N_("Scripted: save the synthetic data as SEG-Y"), N_("PATH") },
  { "wizard-export-image", 0, 0, G_OPTION_ARG_FILENAME, NULL, N_("Scripted: export the migrated image (.npy, .sgy or .png)"), N_("PATH") },
  { "wizard-export-fold", 0, 0, G_OPTION_ARG_FILENAME, NULL, N_("Scripted: export the fold (.npy, .sgy or .png)"), N_("PATH") },
  { "wizard-screenshot", 0, 0, G_OPTION_ARG_FILENAME, NULL, N_("Scripted: save the wizard's run page as PNG at the end"), N_("PATH") },
  { "wizard-interrupt", 0, 0, G_OPTION_ARG_INT, NULL, N_("Scripted: pause once N tiles are done, cancel, then resume"), N_("N") },
  { "wizard-close-after", 0, 0, G_OPTION_ARG_INT, NULL, N_("Scripted: close the wizard once N tiles are done"), N_("N") },
  { "wizard-page-screenshots", 0, 0, G_OPTION_ARG_FILENAME, NULL, N_("Scripted: save each page before the run as PREFIX-PAGE.png"), N_("PREFIX") },
  { NULL }
};

void
wb_migration_script_add_options (GApplication *app)
{
  g_application_add_main_option_entries (app, script_options);
}

int
wb_migration_script_parse (WbMigrationScript *script,
                           GVariantDict      *dict)
{
  script->synthetic = g_variant_dict_contains (dict, "migrate-synthetic");
  g_variant_dict_lookup (dict, "migrate-segy", "^ay", &script->segy);
  g_variant_dict_lookup (dict, "wizard-set", "^as", &script->settings);
  g_variant_dict_lookup (dict, "wizard-save-synthetic", "^ay", &script->save_synthetic);
  g_variant_dict_lookup (dict, "wizard-export-image", "^ay", &script->export_image);
  g_variant_dict_lookup (dict, "wizard-export-fold", "^ay", &script->export_fold);
  g_variant_dict_lookup (dict, "wizard-screenshot", "^ay", &script->screenshot);
  g_variant_dict_lookup (dict, "wizard-page-screenshots", "^ay", &script->page_screenshots);
  {
    gint32 n = 0;
    if (g_variant_dict_lookup (dict, "wizard-interrupt", "i", &n) && n < 1)
      {
        g_printerr (_("--wizard-interrupt must be 1 or more\n"));
        return 2;
      }
    script->interrupt_after = n;
    n = 0;
    if (g_variant_dict_lookup (dict, "wizard-close-after", "i", &n) && n < 1)
      {
        g_printerr (_("--wizard-close-after must be 1 or more\n"));
        return 2;
      }
    script->close_after = n;
  }
  if (script->synthetic && script->segy)
    {
      g_printerr (_("--migrate-synthetic and --migrate-segy exclude each other\n"));
      return 2;
    }
  script->active = script->synthetic || script->segy != NULL;
  if (!script->active && (script->settings || script->save_synthetic || script->export_image
                          || script->export_fold || script->screenshot || script->page_screenshots
                          || script->interrupt_after || script->close_after))
    {
      g_printerr (_("The --wizard-* options need --migrate-synthetic or --migrate-segy\n"));
      return 2;
    }
  return -1;
}

void
wb_migration_script_clear (WbMigrationScript *script)
{
  g_clear_pointer (&script->segy, g_free);
  g_clear_pointer (&script->settings, g_strfreev);
  g_clear_pointer (&script->save_synthetic, g_free);
  g_clear_pointer (&script->export_image, g_free);
  g_clear_pointer (&script->export_fold, g_free);
  g_clear_pointer (&script->screenshot, g_free);
  g_clear_pointer (&script->page_screenshots, g_free);
  script->active = script->synthetic = FALSE;
}

/* "KEY=VALUE" into the page's widget, as typing it would. */
static gboolean
apply_setting (WbMigrationWizard *self,
               const char        *setting,
               GError           **error)
{
  g_auto(GStrv) kv = g_strsplit (setting, "=", 2);
  GtkWidget *w;
  char *end;
  double v;

  if (kv[0] == NULL || kv[1] == NULL)
    {
      g_set_error (error, WB_ERROR, WB_ERROR_INVALID, "--wizard-set takes KEY=VALUE, not “%s”", setting);
      return FALSE;
    }
  if (g_str_equal (kv[0], "velocity-table"))
    {
      g_auto(GStrv) rows = g_strsplit (kv[1], ",", -1);

      clear_velocity_rows (self);
      for (guint i = 0; rows[i]; i++)
        {
          double t, vv;
          if (sscanf (rows[i], "%lf:%lf", &t, &vv) != 2)
            {
              g_set_error (error, WB_ERROR, WB_ERROR_INVALID, "velocity-table: “%s” is not T:V", rows[i]);
              return FALSE;
            }
          add_velocity_row (self, t, vv);
        }
      adw_combo_row_set_selected (self->velocity_mode_row, VELOCITY_TABLE);
      update_velocity (self);
      return TRUE;
    }
  if (g_str_equal (kv[0], "slice-axis"))
    {
      static const char * const axes[] = { "inline", "crossline", "time" };

      for (guint a = 0; a < G_N_ELEMENTS (axes); a++)
        if (g_str_equal (kv[1], axes[a]))
          {
            gtk_drop_down_set_selected (self->slice_axis, a);
            return TRUE;
          }
      g_set_error (error, WB_ERROR, WB_ERROR_INVALID, "slice-axis: expected inline, crossline or time, not “%s”", kv[1]);
      return FALSE;
    }
  if (g_str_equal (kv[0], "slice-index"))
    {
      gtk_editable_set_text (GTK_EDITABLE (self->slice_index), kv[1]);
      gtk_spin_button_update (self->slice_index);
      return TRUE;
    }
  if (g_str_equal (kv[0], "velocity-file"))
    {
      g_free (self->velocity_file);
      self->velocity_file = g_strdup (kv[1]);
      adw_combo_row_set_selected (self->velocity_mode_row, VELOCITY_FILE);
      update_velocity (self);
      return TRUE;
    }
  if (g_str_equal (kv[0], "velocity"))
    {
      v = g_ascii_strtod (kv[1], &end);
      if (end == kv[1] || *end != '\0')
        {
          g_set_error (error, WB_ERROR, WB_ERROR_INVALID, "velocity: “%s” is not a number", kv[1]);
          return FALSE;
        }
      gtk_spin_button_set_value (self->velocity_constant, v);
      adw_combo_row_set_selected (self->velocity_mode_row, VELOCITY_CONSTANT);
      update_velocity (self);
      return TRUE;
    }

  w = g_hash_table_lookup (self->settings, kv[0]);
  if (w == NULL)
    {
      g_autoptr(GList) keys = g_list_sort (g_hash_table_get_keys (self->settings), (GCompareFunc) strcmp);
      g_autoptr(GString) known = g_string_new ("velocity, velocity-table, velocity-file");

      for (GList *l = keys; l; l = l->next)
        g_string_append_printf (known, ", %s", (char *) l->data);
      g_set_error (error, WB_ERROR, WB_ERROR_INVALID, "--wizard-set: unknown key “%s” (known: %s)",
                   kv[0], known->str);
      return FALSE;
    }
  if (GTK_IS_SWITCH (w))
    {
      if (g_str_equal (kv[1], "true") || g_str_equal (kv[1], "1"))
        gtk_switch_set_active (GTK_SWITCH (w), TRUE);
      else if (g_str_equal (kv[1], "false") || g_str_equal (kv[1], "0"))
        gtk_switch_set_active (GTK_SWITCH (w), FALSE);
      else
        {
          g_set_error (error, WB_ERROR, WB_ERROR_INVALID, "%s: expected true or false, not “%s”", kv[0], kv[1]);
          return FALSE;
        }
      return TRUE;
    }
  if (GTK_IS_ENTRY (w))
    {
      gtk_editable_set_text (GTK_EDITABLE (w), kv[1]);
      return TRUE;
    }
  /* Typed into the spin button's text, then committed: the value a user
   * would get, clamped and rounded by the widget. */
  gtk_editable_set_text (GTK_EDITABLE (w), kv[1]);
  gtk_spin_button_update (GTK_SPIN_BUTTON (w));
  v = g_ascii_strtod (kv[1], &end);
  if (end == kv[1] || *end != '\0' || fabs (gtk_spin_button_get_value (GTK_SPIN_BUTTON (w)) - v) > 1e-9 * MAX (1, fabs (v)))
    {
      g_set_error (error, WB_ERROR, WB_ERROR_INVALID, "%s: “%s” refused (the row holds %g)",
                   kv[0], kv[1], gtk_spin_button_get_value (GTK_SPIN_BUTTON (w)));
      return FALSE;
    }
  return TRUE;
}

/* Every setting, or (@slice) only the run page's slice-axis and
 * slice-index, which the run page sets itself when it plans the job. */
static gboolean
apply_settings_full (WbMigrationWizard *self,
                     gboolean           slice,
                     GError           **error)
{
  for (guint i = 0; self->script.settings && self->script.settings[i]; i++)
    if (slice == g_str_has_prefix (self->script.settings[i], "slice-")
        && !apply_setting (self, self->script.settings[i], error))
      return FALSE;
  return TRUE;
}

static gboolean
apply_settings (WbMigrationWizard *self,
                GError           **error)
{
  return apply_settings_full (self, FALSE, error);
}

/* Renders @widget as it is on screen into a PNG (atomically). */
static gboolean
save_window_png (GtkWidget  *widget,
                 const char *path,
                 guint      *width,
                 guint      *height,
                 GError    **error)
{
  int w = gtk_widget_get_width (widget), h = gtk_widget_get_height (widget);
  g_autoptr(GdkPaintable) paintable = NULL;
  g_autoptr(GdkTexture) texture = NULL;
  g_autoptr(GBytes) png = NULL;
  GskRenderNode *node;
  GtkSnapshot *snapshot;

  if (w <= 0 || h <= 0 || gtk_widget_get_native (widget) == NULL)
    {
      g_set_error (error, WB_ERROR, WB_ERROR_IO, _("The window is not on screen"));
      return FALSE;
    }
  paintable = gtk_widget_paintable_new (widget);
  snapshot = gtk_snapshot_new ();
  gdk_paintable_snapshot (paintable, snapshot, w, h);
  node = gtk_snapshot_free_to_node (snapshot);
  if (node == NULL)
    {
      g_set_error (error, WB_ERROR, WB_ERROR_IO, _("The window drew nothing"));
      return FALSE;
    }
  texture = gsk_renderer_render_texture (gtk_native_get_renderer (gtk_widget_get_native (widget)),
                                         node, &GRAPHENE_RECT_INIT (0, 0, w, h));
  gsk_render_node_unref (node);
  png = gdk_texture_save_to_png_bytes (texture);
  *width = gdk_texture_get_width (texture);
  *height = gdk_texture_get_height (texture);
  return wb_file_write_atomic (path, g_bytes_get_data (png, NULL), g_bytes_get_size (png), error);
}

static gboolean
close_idle (gpointer data)
{
  gtk_window_destroy (GTK_WINDOW (data));
  return G_SOURCE_REMOVE;
}

static void
script_finish (WbMigrationWizard *self,
               int                status)
{
  if (!self->scripted || self->exit_status == NULL)
    return;
  *self->exit_status = status;
  self->exit_status = NULL;
  g_idle_add_full (G_PRIORITY_LOW, close_idle, g_object_ref (self), g_object_unref);
}

static gboolean
script_screenshot (gpointer data)
{
  WbMigrationWizard *self = data;
  g_autoptr(GError) error = NULL;
  guint w = 0, h = 0;

  if (save_window_png (GTK_WIDGET (self), self->script.screenshot, &w, &h, &error))
    {
      script_say (self, "run page screenshot %s %ux%u", self->script.screenshot, w, h);
      script_finish (self, 0);
    }
  else
    {
      script_say (self, "run page screenshot failed: %s", error->message);
      script_finish (self, 1);
    }
  return G_SOURCE_REMOVE;
}

/* Start, once the run page has been shown (as a user would press it), so
 * that its first layout does not delay the first progress updates. */
static gboolean
script_start (gpointer data)
{
  WbMigrationWizard *self = data;

  if (self->exit_status != NULL)
    start_run (self);
  return G_SOURCE_REMOVE;
}

/* With --wizard-page-screenshots: saves the page shown, then moves on (the
 * run starts from the last page). */
static gboolean
script_page_step (gpointer data)
{
  WbMigrationWizard *self = data;
  g_autoptr(GError) error = NULL;
  g_autofree char *path = NULL;
  guint page = current_page (self), w = 0, h = 0;

  if (self->exit_status == NULL)
    return G_SOURCE_REMOVE;
  path = g_strdup_printf ("%s-%s.png", self->script.page_screenshots, page_names[page]);
  if (!save_window_png (GTK_WIDGET (self), path, &w, &h, &error))
    goto fail;
  script_say (self, "page screenshot %s %ux%u", path, w, h);
  if (page + 1 == N_PAGES - 1)
    {
      if (!go_next (self, &error))
        goto fail;
      g_timeout_add_full (G_PRIORITY_DEFAULT, 300, script_start, g_object_ref (self), g_object_unref);
      return G_SOURCE_REMOVE;
    }
  if (!go_next (self, &error))
    goto fail;
  return G_SOURCE_CONTINUE;

fail:
  show_message (self, error->message, TRUE);
  script_finish (self, 1);
  return G_SOURCE_REMOVE;
}

/* The next step of a scripted run: after the data loaded, walk the pages;
 * after the run, export and take the screenshot. */
static void
script_continue (WbMigrationWizard *self)
{
  g_autoptr(GError) error = NULL;

  if (self->exit_status == NULL)
    return;
  if (self->run == NULL || !self->run->running)
    {
      if (self->run != NULL && current_page (self) == N_PAGES - 1)
        {
          /* The run has ended well. */
          if (!apply_settings_full (self, TRUE, &error))
            goto fail;
          if (self->script.export_image != NULL)
            {
              g_autoptr(WbField) image = wb_pstm_job_get_image (self->run->job);
              if (!export_field (image, self->script.export_image, &error))
                goto fail;
              script_say (self, "migrate export image %s", self->script.export_image);
            }
          if (self->script.export_fold != NULL)
            {
              g_autoptr(WbField) fold = wb_pstm_job_get_fold (self->run->job);
              if (!export_field (fold, self->script.export_fold, &error))
                goto fail;
              script_say (self, "migrate export fold %s", self->script.export_fold);
            }
          if (self->script.screenshot != NULL)
            {
              /* Let the tile grid and the slice draw their last state. */
              gtk_widget_queue_draw (GTK_WIDGET (self));
              g_timeout_add_full (G_PRIORITY_LOW, 500, script_screenshot, g_object_ref (self), g_object_unref);
              return;
            }
          script_finish (self, 0);
          return;
        }

      /* The data has loaded: the values asked for, then page after page. */
      if (!apply_settings (self, &error) || !choose_devices (self, self->script_backend, &error))
        goto fail;
      if (self->script.save_synthetic != NULL)
        {
          if (!save_synthetic (self, self->script.save_synthetic, &error))
            goto fail;
          script_say (self, "migrate saved synthetic %s", self->script.save_synthetic);
        }
      if (self->script.page_screenshots != NULL)
        {
          /* Page by page, each drawn before it is captured. */
          gtk_stack_set_transition_type (self->stack, GTK_STACK_TRANSITION_TYPE_NONE);
          g_timeout_add_full (G_PRIORITY_LOW, 400, script_page_step, g_object_ref (self), g_object_unref);
          return;
        }
      while (current_page (self) < N_PAGES - 1)
        if (!go_next (self, &error))
          goto fail;
      g_timeout_add_full (G_PRIORITY_DEFAULT, 300, script_start, g_object_ref (self), g_object_unref);
    }
  return;

fail:
  show_message (self, error->message, TRUE);
  script_finish (self, g_error_matches (error, WB_ERROR, WB_ERROR_INVALID) ? 2 : 1);
}

void
wb_migration_wizard_run_script (WbMigrationWizard *self,
                                WbMigrationScript *script,
                                const char        *backend,
                                int               *exit_status)
{
  g_autoptr(GError) error = NULL;

  g_return_if_fail (WB_IS_MIGRATION_WIZARD (self));
  self->scripted = TRUE;
  self->script = *script;
  memset (script, 0, sizeof *script);
  self->script_backend = g_strdup (backend);
  self->exit_status = exit_status;
  *exit_status = 1;
  /* Settings first (the synthetic data's among them); the grid's are
   * applied again once the data has set the default grid. */
  if (!apply_settings (self, &error))
    {
      show_message (self, error->message, TRUE);
      script_finish (self, 2);
      return;
    }
  start_load (self, self->script.synthetic ? NULL : self->script.segy);
}

/* --- construction -------------------------------------------------------- */

static void
build_rows (WbMigrationWizard *self)
{
  static const char *summary_titles[N_SUMMARY] = {
    N_("Source"), N_("Traces"), N_("Samples per trace"), N_("Sample interval"), N_("Sample format"),
    N_("Midpoint x"), N_("Midpoint y"), N_("Largest offset"),
    N_("Sources and receivers"), N_("Local origin"),
  };
  WbPstmParams defaults;
  WbSegyLayout layout;
  AdwPreferencesGroup *g;
  GCallback changed = G_CALLBACK (on_params_changed);

  for (guint i = 0; i < N_SUMMARY; i++)
    {
      GtkWidget *label = gtk_label_new ("–");
      gtk_label_set_selectable (GTK_LABEL (label), TRUE);
      gtk_label_set_ellipsize (GTK_LABEL (label), PANGO_ELLIPSIZE_START);
      add_row (self->summary_group, _(summary_titles[i]), NULL, label);
      self->summary[i] = GTK_LABEL (label);
    }

  wb_segy_layout_init (&layout);
  g = self->layout_group;
  add_spin (self, g, "source-x-byte", _("Source x"), NULL, 1, 237, 1, 0, layout.source_x, NULL);
  add_spin (self, g, "source-y-byte", _("Source y"), NULL, 1, 237, 1, 0, layout.source_y, NULL);
  add_spin (self, g, "receiver-x-byte", _("Receiver x"), NULL, 1, 237, 1, 0, layout.receiver_x, NULL);
  add_spin (self, g, "receiver-y-byte", _("Receiver y"), NULL, 1, 237, 1, 0, layout.receiver_y, NULL);
  add_spin (self, g, "cdp-x-byte", _("CDP x"), NULL, 1, 237, 1, 0, layout.cdp_x, NULL);
  add_spin (self, g, "cdp-y-byte", _("CDP y"), NULL, 1, 237, 1, 0, layout.cdp_y, NULL);
  add_spin (self, g, "scalar-byte", _("Coordinate scalar"), _("2-byte integer"), 1, 239, 1, 0, layout.scalar, NULL);
  add_spin (self, g, "delay-byte", _("Recording delay"), _("2-byte integer, ms"), 1, 239, 1, 0, layout.delay, NULL);
  add_switch (self, g, "cdp-geometry", _("Use CDP coordinates"), _("Traces taken as zero offset at the CDP"), FALSE, NULL);

  g = self->synth_group;
  add_spin (self, g, "synth-midpoints", _("Midpoints per axis"), NULL, 2, 1000, 1, 0, 21, NULL);
  add_spin (self, g, "synth-spacing", _("Midpoint spacing"), _("metres"), 1, 1000, 1, 1, 25, NULL);
  add_entry (self, g, "synth-offsets", _("Offsets"), _("metres, separated by commas"), "0,400");
  add_spin (self, g, "synth-samples", _("Samples per trace"), NULL, 16, 100000, 10, 0, 250, NULL);
  add_spin (self, g, "synth-dt-ms", _("Sample interval"), _("milliseconds"), 0.1, 100, 0.5, 1, 4, NULL);
  add_spin (self, g, "synth-frequency", _("Peak frequency"), _("Hz (Ricker wavelet)"), 1, 500, 1, 1, 15, NULL);
  add_spin (self, g, "synth-velocity", _("Velocity"), _("m/s, constant"), 100, 20000, 10, 0, 2000, NULL);
  add_spin (self, g, "synth-noise", _("Noise"), _("standard deviation relative to the largest amplitude"), 0, 10, 0.01, 2, 0, NULL);
  add_switch (self, g, "synth-reflector", _("Dipping reflector"), _("10° towards 30° azimuth"), TRUE, NULL);

  self->velocity_constant = add_spin (self, self->velocity_constant_group, NULL, _("Velocity"), _("m/s"),
                                      100, 20000, 10, 0, 2000, G_CALLBACK (on_velocity_changed));

  wb_pstm_params_init (&defaults);
  g = ADW_PREFERENCES_GROUP (adw_preferences_group_new ());
  adw_preferences_group_set_title (g, _("Aperture"));
  adw_preferences_group_set_description (g, _("Radius v t0/2 tan(max dip) around each midpoint, clamped to [min, max], "
                                              "with a cosine taper over its outer part."));
  add_spin (self, g, "aperture-min", _("Minimum radius"), _("metres"), 0, 1e6, 10, 0, defaults.aperture_min, changed);
  add_spin (self, g, "aperture-max", _("Maximum radius"), _("metres"), 0, 1e6, 10, 0, defaults.aperture_max, changed);
  add_spin (self, g, "max-dip", _("Largest dip"), _("degrees"), 0, 89, 1, 1, defaults.max_dip, changed);
  add_spin (self, g, "taper", _("Taper"), _("fraction of the radius"), 0, 1, 0.05, 2, defaults.taper, changed);
  adw_preferences_page_add (self->params_page, g);

  g = ADW_PREFERENCES_GROUP (adw_preferences_group_new ());
  adw_preferences_group_set_title (g, _("Weights and filters"));
  add_switch (self, g, "derivative", _("Time derivative"), _("Pre-filter −d/dt (3D)"), defaults.derivative, changed);
  add_switch (self, g, "obliquity", _("Obliquity"), _("Weight t0/t"), defaults.obliquity, changed);
  add_switch (self, g, "spreading", _("Spreading"), _("Weight 1/(v t)"), defaults.spreading, changed);
  add_switch (self, g, "antialias", _("Anti-aliasing"), _("Triangle filter"), defaults.antialias, changed);
  add_switch (self, g, "normalize-fold", _("Fold normalisation"), _("Divide the image by the fold"),
              defaults.normalize_fold, changed);
  adw_preferences_page_add (self->params_page, g);

  g = ADW_PREFERENCES_GROUP (adw_preferences_group_new ());
  adw_preferences_group_set_title (g, _("Output grid"));
  adw_preferences_group_set_description (g, _("Columns at x0 + i dx, y0 + j dy (survey coordinates), samples at t0 + k dt."));
  {
    GtkWidget *button = gtk_button_new_with_mnemonic (_("_Data Extent"));
    gtk_widget_set_tooltip_text (button, _("The midpoint extent and the data's time axis"));
    gtk_widget_add_css_class (button, "flat");
    g_signal_connect_swapped (button, "clicked", G_CALLBACK (on_grid_reset), self);
    adw_preferences_group_set_header_suffix (g, button);
  }
  add_spin (self, g, "grid-x0", _("First x"), _("metres"), -1e9, 1e9, 1, 2, defaults.x0, changed);
  add_spin (self, g, "grid-y0", _("First y"), _("metres"), -1e9, 1e9, 1, 2, defaults.y0, changed);
  add_spin (self, g, "grid-dx", _("Bin size x"), _("metres"), 0.01, 1e5, 1, 2, defaults.dx, changed);
  add_spin (self, g, "grid-dy", _("Bin size y"), _("metres"), 0.01, 1e5, 1, 2, defaults.dy, changed);
  add_spin (self, g, "grid-nx", _("Columns along x"), NULL, 1, 1e6, 1, 0, defaults.nx, changed);
  add_spin (self, g, "grid-ny", _("Columns along y"), NULL, 1, 1e6, 1, 0, defaults.ny, changed);
  add_spin (self, g, "time-t0", _("First time"), _("seconds"), 0, 100, 0.01, 4, defaults.t0, changed);
  add_spin (self, g, "time-dt-ms", _("Time step"), _("milliseconds"), 0.01, 1000, 0.5, 3, defaults.dt * 1e3, changed);
  add_spin (self, g, "time-nt", _("Samples per column"), NULL, 1, 1e6, 1, 0, defaults.nt, changed);
  adw_preferences_page_add (self->params_page, g);

  g = ADW_PREFERENCES_GROUP (adw_preferences_group_new ());
  adw_preferences_group_set_title (g, _("Tiles"));
  adw_preferences_group_set_description (g, _("Each tile is one unit of work for one device; 0 sizes the tiles from the memory budget."));
  add_spin (self, g, "tile-nx", _("Tile columns along x"), NULL, 0, 1e6, 1, 0, 0, changed);
  add_spin (self, g, "tile-ny", _("Tile columns along y"), NULL, 0, 1e6, 1, 0, 0, changed);
  add_spin (self, g, "memory-mib", _("Memory budget"), _("MiB per device"), 1, 1 << 20, 16, 0,
            defaults.memory_budget / 1048576.0, changed);
  adw_preferences_page_add (self->params_page, g);
  wb_pstm_params_clear (&defaults);
}

static void
wb_migration_wizard_dispose (GObject *object)
{
  WbMigrationWizard *self = WB_MIGRATION_WIZARD (object);

  if (self->load_cancellable != NULL)
    g_cancellable_cancel (self->load_cancellable);
  g_clear_object (&self->load_cancellable);
  g_clear_handle_id (&self->scan_timer, g_source_remove);
  self->scan = NULL;
  if (self->run != NULL)
    {
      /* The worker ends at its next batch and drops its reference; the
       * application waits for it (its last window may be this one), so the
       * process never exits under a worker still using the device. */
      self->run->wizard = NULL;
      if (self->run->running)
        {
          GtkApplication *app = gtk_window_get_application (GTK_WINDOW (self));

          g_cancellable_cancel (self->run->cancellable);
          wb_pstm_job_set_paused (self->run->job, FALSE);
          if (app != NULL && self->run->held == NULL)
            {
              self->run->held = g_object_ref (G_APPLICATION (app));
              g_application_hold (self->run->held);
            }
          script_say (self, "migrate window closed while running: cancelling");
        }
      g_clear_pointer (&self->run, run_unref);
    }
  gtk_widget_dispose_template (GTK_WIDGET (self), WB_TYPE_MIGRATION_WIZARD);
  G_OBJECT_CLASS (wb_migration_wizard_parent_class)->dispose (object);
}

static void
wb_migration_wizard_finalize (GObject *object)
{
  WbMigrationWizard *self = WB_MIGRATION_WIZARD (object);

  g_clear_pointer (&self->settings, g_hash_table_unref);
  g_clear_pointer (&self->device_checks, g_ptr_array_unref);
  g_clear_pointer (&self->devices, g_ptr_array_unref);
  g_clear_pointer (&self->input, wb_pstm_input_unref);
  g_clear_pointer (&self->synth, synth_free);
  g_free (self->input_format);
  g_clear_pointer (&self->velocity, wb_velocity_free);
  g_free (self->velocity_file);
  g_free (self->velocity_error);
  g_clear_pointer (&self->shown, wb_field_unref);
  g_free (self->copied);
  g_free (self->column_tile);
  g_clear_pointer (&self->slice_surface, cairo_surface_destroy);
  wb_migration_script_clear (&self->script);
  g_free (self->script_backend);
  G_OBJECT_CLASS (wb_migration_wizard_parent_class)->finalize (object);
}

static void
wb_migration_wizard_class_init (WbMigrationWizardClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  GtkWidgetClass *widget_class = GTK_WIDGET_CLASS (klass);

  object_class->dispose = wb_migration_wizard_dispose;
  object_class->finalize = wb_migration_wizard_finalize;

  gtk_widget_class_set_template_from_resource (widget_class, RESOURCE_PREFIX "/ui/wb-migration-wizard.ui");
#define BIND(name) gtk_widget_class_bind_template_child (widget_class, WbMigrationWizard, name)
  BIND (back_button);
  BIND (next_button);
  BIND (window_title);
  BIND (error_revealer);
  BIND (error_label);
  BIND (stack);
  BIND (file_row);
  BIND (save_synth_button);
  BIND (scan_progress);
  BIND (summary_group);
  BIND (layout_group);
  BIND (synth_group);
  BIND (map_area);
  BIND (velocity_mode_row);
  BIND (velocity_constant_group);
  BIND (velocity_table_group);
  BIND (velocity_file_group);
  BIND (velocity_list);
  BIND (velocity_file_row);
  BIND (velocity_status);
  BIND (velocity_area);
  BIND (params_page);
  BIND (params_status);
  BIND (device_group);
  BIND (start_button);
  BIND (pause_button);
  BIND (cancel_button);
  BIND (run_progress);
  BIND (export_image_button);
  BIND (export_fold_button);
  BIND (run_stats);
  BIND (tiles_area);
  BIND (slice_label);
  BIND (slice_axis);
  BIND (slice_index);
  BIND (slice_area);
#undef BIND
  gtk_widget_class_bind_template_callback (widget_class, on_back_clicked);
  gtk_widget_class_bind_template_callback (widget_class, on_next_clicked);
  gtk_widget_class_bind_template_callback (widget_class, on_error_dismiss);
  gtk_widget_class_bind_template_callback (widget_class, on_page_changed);
  gtk_widget_class_bind_template_callback (widget_class, on_open_clicked);
  gtk_widget_class_bind_template_callback (widget_class, on_generate_clicked);
  gtk_widget_class_bind_template_callback (widget_class, on_save_synth_clicked);
  gtk_widget_class_bind_template_callback (widget_class, on_velocity_changed);
  gtk_widget_class_bind_template_callback (widget_class, on_velocity_add_row);
  gtk_widget_class_bind_template_callback (widget_class, on_velocity_open_clicked);
  gtk_widget_class_bind_template_callback (widget_class, on_start_clicked);
  gtk_widget_class_bind_template_callback (widget_class, on_pause_clicked);
  gtk_widget_class_bind_template_callback (widget_class, on_cancel_clicked);
  gtk_widget_class_bind_template_callback (widget_class, on_export_image_clicked);
  gtk_widget_class_bind_template_callback (widget_class, on_export_fold_clicked);
  gtk_widget_class_bind_template_callback (widget_class, on_slice_axis_changed);
  gtk_widget_class_bind_template_callback (widget_class, on_slice_index_changed);
}

static void
wb_migration_wizard_init (WbMigrationWizard *self)
{
  /* Rows made in code need these before the template's signals fire. */
  self->settings = g_hash_table_new (g_str_hash, g_str_equal);
  self->device_checks = g_ptr_array_new ();
  gtk_widget_init_template (GTK_WIDGET (self));

  build_rows (self);
  build_device_rows (self);
  gtk_drawing_area_set_draw_func (self->map_area, draw_map, self, NULL);
  gtk_drawing_area_set_draw_func (self->velocity_area, draw_velocity, self, NULL);
  gtk_drawing_area_set_draw_func (self->tiles_area, draw_tiles, self, NULL);
  gtk_drawing_area_set_draw_func (self->slice_area, draw_slice, self, NULL);
  update_velocity (self);
  on_params_changed (self);
  set_run_buttons (self);
  rebuild_slice (self);
  update_navigation (self);
}

WbMigrationWizard *
wb_migration_wizard_new (GtkApplication *app,
                         GtkWindow      *parent)
{
  return g_object_new (WB_TYPE_MIGRATION_WIZARD,
                       "application", app,
                       "transient-for", parent,
                       NULL);
}
