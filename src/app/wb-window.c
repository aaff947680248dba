#define G_LOG_DOMAIN "wb-window"
#include "config.h"

#include <math.h>
#include <stdio.h>
#include <glib/gi18n.h>

#include "wb-backend-selector.h"
#include "wb-colorbar.h"
#include "wb-debug-panel.h"
#include "wb-error.h"
#include "wb-field-view.h"
#include "wb-io.h"
#include "wb-npy.h"
#include "wb-param-panel.h"
#include "wb-plot.h"
#include "wb-render.h"
#include "wb-runner.h"
#include "wb-seismogram.h"
#include "wb-solver-ui.h"
#include "wb-window.h"

/* One preset the choosers offer: a bundled name or a file the user opened. */
typedef struct
{
  char *id;
  char *solver;
  char *title;
} PresetEntry;

typedef enum
{
  SCRIPT_WAIT_LOAD,
  SCRIPT_WAIT_STEPS,
  SCRIPT_WAIT_FRAME,
  SCRIPT_EXPORTS,
  SCRIPT_BENCHMARK,
  SCRIPT_CAPTURE,
  SCRIPT_DONE,
} ScriptPhase;

struct _WbWindow
{
  AdwApplicationWindow parent_instance;

  /* Template widgets */
  GtkDropDown       *sim_dropdown;
  GtkDropDown       *preset_dropdown;
  WbBackendSelector *backend_selector;
  AdwWindowTitle    *window_title;
  GtkButton         *run_button;
  GtkRevealer       *error_revealer;
  GtkLabel          *error_label;
  GtkLabel          *error_details;
  GtkExpander       *error_expander;
  AdwToastOverlay   *toast_overlay;
  GtkDropDown       *field_dropdown;
  GtkDropDown       *colormap_dropdown;
  GtkCheckButton    *auto_range_check;
  GtkSpinButton     *min_spin;
  GtkSpinButton     *max_spin;
  GtkLabel          *slice_label;
  GtkDropDown       *slice_axis_dropdown;
  GtkSpinButton     *slice_spin;
  GtkToggleButton   *outline_toggle;
  GtkToggleButton   *live_toggle;
  GtkWidget         *view_box;
  GtkPaned          *main_paned;
  WbFieldView       *field_view;
  GtkDrawingArea    *marker_area;
  GtkLabel          *readout_label;
  WbColorbar        *colorbar;
  GtkDropDown       *quantity_dropdown;
  WbPlot            *plot;
  WbSeismogram      *seismogram;        /* a page beside the plot (wb-seismogram.h) */
  WbParamPanel      *param_panel;
  GtkLabel          *status_step;
  GtkLabel          *status_time;
  GtkLabel          *status_sps;
  GtkLabel          *status_fps;
  GtkLabel          *status_state;
  GtkLabel          *status_backend;
  GtkLabel          *status_display;

  /* Owned */
  GSettings         *settings;
  WbRunner          *runner;
  WbPreset          *preset;            /* as opened; the panel holds the edits */
  GPtrArray         *catalog;           /* PresetEntry* */
  GStrv              solvers;           /* rows of sim_dropdown */
  GArray            *preset_rows;       /* guint indices into catalog */
  GStrv              field_names;       /* rows of field_dropdown */
  GStrv              probe_fields;      /* rows of quantity_dropdown */
  GStrv              probe_units;
  GPtrArray         *probes;            /* last snapshot, WbProbe* */
  char              *display_field;
  char              *kernel_dir;
  WbField           *material;
  GCancellable      *cancellable;
  gboolean           updating;
  gboolean           live_view;
  gboolean           scripted;
  guint              rate_timer;
  guint              status_timer;
  guint              probes_timer;
  guint64            frames_mark;
  gint64             frames_mark_time;
  double             display_fps;
  gsize              bytes_per_frame;
  guint64            shown_step;

  /* Scripted mode */
  WbScript           script;
  ScriptPhase        script_phase;
  int               *script_status;
  guint              script_timer;
  gint64             script_deadline;
  gint64             script_mark_time;
  guint64            script_mark_step;
  guint64            script_frames_mark;
  gboolean           script_saw_error;
  guint              script_pending;
};

G_DEFINE_FINAL_TYPE (WbWindow, wb_window, ADW_TYPE_APPLICATION_WINDOW)

static void start_simulation (WbWindow *self, const WbPreset *preset);
static void update_plot (WbWindow *self);

void
wb_script_clear (WbScript *script)
{
  g_clear_pointer (&script->screenshot, g_free);
  g_clear_pointer (&script->window_screenshot, g_free);
  g_clear_pointer (&script->readouts, g_array_unref);
  g_clear_pointer (&script->type_values, g_strfreev);
  g_clear_pointer (&script->probes, g_array_unref);
  g_clear_pointer (&script->export_csv, g_free);
  g_clear_pointer (&script->seismogram_exports, g_strfreev);
  g_clear_pointer (&script->seismogram_screenshots, g_strfreev);
  g_clear_pointer (&script->export_fields, g_strfreev);
  g_clear_pointer (&script->slice, g_free);
  g_clear_pointer (&script->export_frame, g_free);
}

static void
preset_entry_free (PresetEntry *entry)
{
  g_free (entry->id);
  g_free (entry->solver);
  g_free (entry->title);
  g_free (entry);
}

static void
script_say (WbWindow   *self,
            const char *format,
            ...) G_GNUC_PRINTF (2, 3);

/* Scripted mode reports on stdout, one line per fact, for tests. */
static void
script_say (WbWindow   *self,
            const char *format,
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
  fflush (stdout);
}

/* --- errors ------------------------------------------------------------- */

static void
show_error (WbWindow   *self,
            const char *title,
            const char *details)
{
  gtk_label_set_text (self->error_label, title);
  gtk_label_set_text (self->error_details, details ? details : "");
  gtk_widget_set_visible (GTK_WIDGET (self->error_expander), details != NULL && *details);
  /* Short messages are shown in full; long ones (build logs) stay folded. */
  gtk_expander_set_expanded (self->error_expander, details != NULL && strlen (details) < 400);
  gtk_revealer_set_reveal_child (self->error_revealer, TRUE);
  self->script_saw_error = TRUE;
  script_say (self, "error shown: %s: %s", title, details ? details : "");
}

static void
on_error_dismiss (WbWindow *self)
{
  gtk_revealer_set_reveal_child (self->error_revealer, FALSE);
}

static const char *
error_title (const GError *error)
{
  if (error->domain == WB_ERROR)
    switch ((WbErrorCode) error->code)
      {
      case WB_ERROR_INVALID: return _("The preset is not valid");
      case WB_ERROR_UNSTABLE: return _("The parameters are unstable");
      case WB_ERROR_NOT_FOUND: return _("Something was not found");
      case WB_ERROR_TOO_LARGE: return _("The simulation does not fit the device");
      case WB_ERROR_IO: return _("Reading or writing a file failed");
      case WB_ERROR_BUILD: return _("A kernel failed to build");
      case WB_ERROR_DEVICE: return _("The device failed");
      case WB_ERROR_DIVERGED: return _("The simulation diverged");
      case WB_ERROR_CANCELLED: return _("Cancelled");
      default: break;
      }
  if (error->domain == WB_CL_ERROR)
    return _("OpenCL reported an error");
  return _("Something went wrong");
}

static void
toast (WbWindow   *self,
       const char *text)
{
  adw_toast_overlay_add_toast (self->toast_overlay, adw_toast_new (text));
}

/* --- status ------------------------------------------------------------- */

static char *
format_seconds (double t)
{
  double a = fabs (t);

  if (a == 0)
    return g_strdup ("0 s");
  if (a < 1e-3)
    return g_strdup_printf ("%.2f µs", t * 1e6);
  if (a < 1)
    return g_strdup_printf ("%.3f ms", t * 1e3);
  return g_strdup_printf ("%.2f s", t);
}

/* The status bar's display tooltip (English, as the reasons are). */
static char *
display_tooltip (WbWindow *self)
{
  GString *tip = g_string_new (wb_field_view_get_display_reason (self->field_view));
  const char *sync = wb_field_view_get_display_sync (self->field_view);
  WbFieldViewFrames frames = wb_field_view_get_frames (self->field_view, NULL);

  if (sync != NULL && frames != WB_FIELD_VIEW_FRAMES_READ_BACK)
    g_string_append_printf (tip, "\nHand-off: %s%s", sync,
                            g_str_equal (sync, "semaphore") ? " (external semaphores, no CPU wait)"
                            : g_str_equal (sync, "gl-event") ? " (cl_khr_gl_event; the ring waits for the copy)"
                            : " (the display waits for the copy, a GL fence before a slot is reused)");
  if (frames != WB_FIELD_VIEW_FRAMES_READ_BACK)
    g_string_append_printf (tip, "\nReadout and colour range: whole-field host reads of %.2f MiB, at most "
                            "every 0.5 s and when stepping stops (%" G_GUINT64_FORMAT " so far), not counted "
                            "in the bytes per frame",
                            self->bytes_per_frame / 1048576.0, wb_runner_get_frames_read (self->runner));
  return g_string_free (tip, FALSE);
}

static void
update_status (WbWindow *self)
{
  const WbRunnerInfo *info = wb_runner_get_info (self->runner);
  WbRunnerState state = wb_runner_get_state (self->runner);
  g_autofree char *step = NULL, *time = NULL, *time_s = NULL, *sps = NULL, *fps = NULL;
  g_autofree char *backend = NULL, *display = NULL;
  const char *state_text = "";

  {
    /* Numbers first: xgettext cannot read G_GUINT64_FORMAT in a msgid. */
    g_autofree char *now = g_strdup_printf ("%" G_GUINT64_FORMAT, wb_runner_get_step (self->runner));
    g_autofree char *total = g_strdup_printf ("%" G_GUINT64_FORMAT, info ? info->total_steps : 0);

    if (info != NULL && info->total_steps > 0)
      step = g_strdup_printf (_("Step %s / %s"), now, total);
    else
      step = g_strdup_printf (_("Step %s"), now);
  }
  time_s = format_seconds (wb_runner_get_sim_time (self->runner));
  time = g_strdup_printf (_("t = %s"), time_s);
  sps = g_strdup_printf (_("%.0f steps/s"), wb_runner_get_steps_per_second (self->runner));
  fps = g_strdup_printf (_("%.1f frames/s"), self->display_fps);

  switch (state)
    {
    case WB_RUNNER_EMPTY: state_text = _("No simulation"); break;
    case WB_RUNNER_LOADING: state_text = _("Building…"); break;
    case WB_RUNNER_IDLE:
      state_text = info && info->total_steps > 0 && wb_runner_get_step (self->runner) >= info->total_steps
                   ? _("Finished") : _("Paused");
      break;
    case WB_RUNNER_BUSY: state_text = _("Running"); break;
    case WB_RUNNER_FAILED: state_text = _("Failed"); break;
    }

  if (info != NULL)
    backend = g_strdup_printf (_("Backend: %s (%s)"), info->device_name, info->device_id);
  else
    backend = g_strdup ("");
  if (self->live_view)
    {
      guint64 bytes = 0;

      switch (wb_field_view_get_frames (self->field_view, &bytes))
        {
        case WB_FIELD_VIEW_FRAMES_GL_SHARING:
          display = g_strdup (_("Display: GL sharing, 0 B/frame"));
          break;
        case WB_FIELD_VIEW_FRAMES_EXTERNAL_MEMORY:
          display = g_strdup (_("Display: external memory, 0 B/frame"));
          break;
        case WB_FIELD_VIEW_FRAMES_HOST_COPY:
          /* The slice read back into a host buffer and uploaded. */
          display = g_strdup_printf (_("Display: host copy, %.2f MiB/frame"), bytes / 1048576.0);
          break;
        case WB_FIELD_VIEW_FRAMES_READ_BACK:
        default:
          /* The runner reads the whole field back for each frame. */
          display = g_strdup_printf (_("Display: host copy, %.2f MiB/frame"), self->bytes_per_frame / 1048576.0);
          break;
        }
    }
  else
    display = g_strdup (_("Display: off"));

  gtk_label_set_text (self->status_step, step);
  gtk_label_set_text (self->status_time, time);
  gtk_label_set_text (self->status_sps, sps);
  gtk_label_set_text (self->status_fps, fps);
  gtk_label_set_text (self->status_state, state_text);
  gtk_label_set_text (self->status_backend, backend);
  gtk_label_set_text (self->status_display, display);
  /* Why frames take this path, what the drivers would allow, the
   * hand-off, and the host reads counted apart from the frames. */
  {
    g_autofree char *tip = display_tooltip (self);
    gtk_widget_set_tooltip_text (GTK_WIDGET (self->status_display), tip);
  }

  gtk_button_set_icon_name (self->run_button,
                            wb_runner_get_running (self->runner)
                            ? "media-playback-pause-symbolic" : "media-playback-start-symbolic");
}

static gboolean
status_timeout (gpointer data)
{
  WbWindow *self = data;

  self->status_timer = 0;
  update_status (self);
  return G_SOURCE_REMOVE;
}

/* Step counts change up to 40 times a second; relabelling the status bar
 * that often makes GTK lay the window out again each time, which costs
 * frames on a software renderer.  Five updates a second read as live. */
static void
queue_status (WbWindow *self)
{
  if (self->status_timer == 0)
    self->status_timer = g_timeout_add (200, status_timeout, self);
}

static gboolean
rate_tick (gpointer data)
{
  WbWindow *self = data;
  guint64 frames = wb_field_view_get_frames_drawn (self->field_view);
  gint64 now = g_get_monotonic_time ();

  if (self->frames_mark_time > 0 && now > self->frames_mark_time)
    self->display_fps = (frames - self->frames_mark) * (double) G_USEC_PER_SEC / (now - self->frames_mark_time);
  self->frames_mark = frames;
  self->frames_mark_time = now;
  update_status (self);
  return G_SOURCE_CONTINUE;
}

/* --- colormap, range, slices ---------------------------------------------- */

static WbColormap
effective_colormap (WbWindow *self)
{
  guint i = gtk_drop_down_get_selected (self->colormap_dropdown);

  if (i == 0 || i == GTK_INVALID_LIST_POSITION)
    return wb_field_default_colormap (self->display_field);
  return (WbColormap) (i - 1);
}

static void
update_colorbar (WbWindow *self)
{
  WbField *field = wb_field_view_get_field (self->field_view);
  double vmin, vmax;

  /* No field, no scale to explain. */
  gtk_widget_set_visible (GTK_WIDGET (self->colorbar), field != NULL);
  wb_field_view_get_range (self->field_view, &vmin, &vmax);
  wb_colorbar_set (self->colorbar, wb_field_view_get_colormap (self->field_view), vmin, vmax,
                   field ? field->name : self->display_field, field ? field->units : NULL);
}

static void
on_range_changed (WbWindow *self)
{
  double vmin, vmax;

  wb_field_view_get_range (self->field_view, &vmin, &vmax);
  if (gtk_check_button_get_active (self->auto_range_check))
    {
      self->updating = TRUE;
      gtk_spin_button_set_value (self->min_spin, vmin);
      gtk_spin_button_set_value (self->max_spin, vmax);
      self->updating = FALSE;
    }
  update_colorbar (self);
}

static void
apply_range (WbWindow *self)
{
  gboolean fixed = !gtk_check_button_get_active (self->auto_range_check);

  gtk_widget_set_sensitive (GTK_WIDGET (self->min_spin), fixed);
  gtk_widget_set_sensitive (GTK_WIDGET (self->max_spin), fixed);
  if (self->updating)
    return;
  wb_field_view_set_range (self->field_view, fixed,
                           gtk_spin_button_get_value (self->min_spin),
                           gtk_spin_button_get_value (self->max_spin));
  update_colorbar (self);
}

static void
on_colormap_selected (WbWindow *self)
{
  guint i = gtk_drop_down_get_selected (self->colormap_dropdown);

  wb_field_view_set_colormap (self->field_view, effective_colormap (self));
  update_colorbar (self);
  if (!self->updating && !self->scripted)
    g_settings_set_string (self->settings, "colormap",
                           i == 0 ? "auto" : wb_colormap_to_string ((WbColormap) (i - 1)));
}

static void
update_slice_controls (WbWindow *self)
{
  const WbRunnerInfo *info = wb_runner_get_info (self->runner);
  gboolean is3d = info != NULL && info->ndim >= 3;
  guint axis = gtk_drop_down_get_selected (self->slice_axis_dropdown);

  gtk_widget_set_visible (GTK_WIDGET (self->slice_label), is3d);
  gtk_widget_set_visible (GTK_WIDGET (self->slice_axis_dropdown), is3d);
  gtk_widget_set_visible (GTK_WIDGET (self->slice_spin), is3d);
  if (is3d && axis < 3)
    {
      gsize index = wb_field_view_get_field (self->field_view) != NULL
                    ? wb_field_view_get_slice_index (self->field_view) : info->shape[axis] / 2;

      self->updating = TRUE;
      gtk_spin_button_set_range (self->slice_spin, 0, info->shape[axis] - 1);
      gtk_spin_button_set_value (self->slice_spin, index);
      self->updating = FALSE;
    }
}

static void
on_slice_axis_selected (WbWindow *self)
{
  const WbRunnerInfo *info = wb_runner_get_info (self->runner);
  guint axis = gtk_drop_down_get_selected (self->slice_axis_dropdown);

  if (self->updating || axis >= 3)
    return;
  wb_field_view_set_slice (self->field_view, axis,
                           info ? (gssize) (info->shape[axis] / 2) : -1);
  update_slice_controls (self);
  gtk_widget_queue_draw (GTK_WIDGET (self->marker_area));
}

static void
on_slice_index_changed (WbWindow *self)
{
  guint axis = gtk_drop_down_get_selected (self->slice_axis_dropdown);

  if (self->updating || axis >= 3)
    return;
  wb_field_view_set_slice (self->field_view, axis, gtk_spin_button_get_value_as_int (self->slice_spin));
  gtk_widget_queue_draw (GTK_WIDGET (self->marker_area));
}

static void
on_outline_toggled (WbWindow *self)
{
  wb_field_view_set_show_outline (self->field_view, gtk_toggle_button_get_active (self->outline_toggle));
}

/* --- fields, frames, probes ----------------------------------------------- */

static void
set_display_field (WbWindow   *self,
                   const char *name)
{
  g_free (self->display_field);
  self->display_field = g_strdup (name);
  wb_runner_set_display_field (self->runner, self->live_view ? name : NULL);
  wb_field_view_set_colormap (self->field_view, effective_colormap (self));
  update_colorbar (self);
}

static void
on_field_selected (WbWindow *self)
{
  guint i = gtk_drop_down_get_selected (self->field_dropdown);

  if (self->updating || self->field_names == NULL || i >= g_strv_length (self->field_names))
    return;
  set_display_field (self, self->field_names[i]);
}

static void
on_frame_ready (WbRunner *runner,
                WbWindow *self)
{
  g_autoptr(WbField) frame = NULL;
  guint64 step = 0;

  /* A view nobody can see takes no frames, so the runner copies no more
   * until it is shown again ("map" takes the one waiting). */
  if (!gtk_widget_get_mapped (GTK_WIDGET (self->field_view)))
    return;
  frame = wb_runner_take_frame (runner, &step, NULL);
  if (frame == NULL || g_strcmp0 (frame->name, self->display_field) != 0)
    return;
  self->shown_step = step;
  self->bytes_per_frame = wb_field_n_elements (frame) * sizeof (float);
  /* The solver's own units win over the table's guess. */
  for (guint i = 0; self->probe_fields && self->probe_fields[i]; i++)
    if (g_str_equal (self->probe_fields[i], frame->name) && frame->units && *frame->units
        && g_strcmp0 (self->probe_units[i], frame->units) != 0)
      {
        g_free (self->probe_units[i]);
        self->probe_units[i] = g_strdup (frame->units);
        update_plot (self);
      }
  wb_field_view_set_field (self->field_view, frame);
  update_colorbar (self);
  gtk_widget_queue_draw (GTK_WIDGET (self->marker_area));
}

static void
on_view_map (WbWindow *self)
{
  on_frame_ready (self->runner, self);
}

static void
update_plot (WbWindow *self)
{
  guint q = gtk_drop_down_get_selected (self->quantity_dropdown);
  guint n = self->probe_fields ? g_strv_length (self->probe_fields) : 0;

  if (q >= n)
    q = 0;
  wb_plot_set_data (self->plot, self->probes, n, q,
                    n ? self->probe_fields[q] : "",
                    n && self->probe_units ? self->probe_units[q] : "");
}

static void
on_probes_updated (WbRunner *runner,
                   WbWindow *self)
{
  g_clear_pointer (&self->probes, g_ptr_array_unref);
  self->probes = wb_runner_copy_probes (runner, NULL);
  update_plot (self);
  gtk_widget_queue_draw (GTK_WIDGET (self->marker_area));
}

static gboolean
probes_timeout (gpointer data)
{
  WbWindow *self = data;

  self->probes_timer = 0;
  on_probes_updated (self->runner, self);
  return G_SOURCE_REMOVE;
}

/* Samples arrive up to 20 times a second; redrawing the plot (cairo, text)
 * that often costs display frames on a software renderer. */
static void
queue_probes (WbWindow *self)
{
  if (self->probes_timer == 0)
    self->probes_timer = g_timeout_add (200, probes_timeout, self);
}

static void
on_cell_clicked (WbFieldView *view,
                 guint        i,
                 guint        j,
                 guint        k,
                 WbWindow    *self)
{
  wb_runner_add_probe (self->runner, i, j, k);
  on_probes_updated (self->runner, self);
}

static void
draw_markers (GtkDrawingArea *area,
              cairo_t        *cr,
              int             width,
              int             height,
              gpointer        data)
{
  WbWindow *self = data;

  if (self->probes == NULL)
    return;
  cairo_select_font_face (cr, "Sans", CAIRO_FONT_SLANT_NORMAL, CAIRO_FONT_WEIGHT_BOLD);
  cairo_set_font_size (cr, 11);
  for (guint p = 0; p < self->probes->len; p++)
    {
      WbProbe *probe = g_ptr_array_index (self->probes, p);
      g_autofree char *label = g_strdup_printf ("P%u", p + 1);
      GdkRGBA color;
      double x, y;

      if (!wb_field_view_cell_to_widget (self->field_view, probe->cell, &x, &y))
        continue;
      wb_plot_series_color (p, &color);
      /* A dark halo keeps marker and label readable on any colour. */
      cairo_new_path (cr);
      cairo_set_line_width (cr, 3);
      cairo_set_source_rgba (cr, 0, 0, 0, 0.7);
      cairo_arc (cr, x, y, 5, 0, 2 * G_PI);
      cairo_stroke (cr);
      cairo_move_to (cr, x + 7, y - 7);
      cairo_text_path (cr, label);
      cairo_stroke (cr);
      cairo_set_line_width (cr, 1.5);
      gdk_cairo_set_source_rgba (cr, &color);
      cairo_arc (cr, x, y, 5, 0, 2 * G_PI);
      cairo_stroke (cr);
      cairo_move_to (cr, x + 7, y - 7);
      cairo_show_text (cr, label);
      cairo_new_path (cr);
    }
}

static void
on_hover_changed (WbFieldView *view,
                  const char  *text,
                  WbWindow    *self)
{
  gtk_widget_set_visible (GTK_WIDGET (self->readout_label), text != NULL);
  if (text != NULL)
    gtk_label_set_text (self->readout_label, text);
}

static void
material_read (GObject      *source,
               GAsyncResult *result,
               gpointer      data)
{
  WbWindow *self = data;
  g_autoptr(WbField) field = wb_runner_read_field_finish (WB_RUNNER (source), result, NULL);

  if (field == NULL || g_cancellable_is_cancelled (self->cancellable))
    {
      g_object_unref (self);
      return;
    }
  g_clear_pointer (&self->material, wb_field_unref);
  self->material = wb_field_ref (field);
  wb_field_view_set_material (self->field_view, field);
  g_object_unref (self);
}

static void
on_loaded (WbRunner *runner,
           WbWindow *self)
{
  const WbRunnerInfo *info = wb_runner_get_info (runner);
  g_autoptr(GtkStringList) fields = gtk_string_list_new ((const char * const *) info->field_names);
  g_autoptr(GStrvBuilder) probe_fields = g_strv_builder_new ();
  g_autoptr(GtkStringList) quantities = gtk_string_list_new (NULL);
  const char * const *wanted = wb_solver_probe_fields (info->solver);
  const char *field = NULL;
  guint field_index = 0;
  JsonNode *display;

  /* The field to show: the one shown before if the solver has it, else the
   * preset's display.field, else the solver's default. */
  display = info->preset ? wb_preset_lookup (info->preset, "display.field") : NULL;
  if (self->display_field && g_strv_contains ((const char * const *) info->field_names, self->display_field))
    field = self->display_field;
  else if (display && JSON_NODE_HOLDS_VALUE (display) && json_node_get_value_type (display) == G_TYPE_STRING
           && g_strv_contains ((const char * const *) info->field_names, json_node_get_string (display)))
    field = json_node_get_string (display);
  else
    field = info->default_field;
  for (guint i = 0; info->field_names[i]; i++)
    if (g_strcmp0 (info->field_names[i], field) == 0)
      field_index = i;

  self->updating = TRUE;
  g_strfreev (self->field_names);
  self->field_names = g_strdupv (info->field_names);
  gtk_drop_down_set_model (self->field_dropdown, G_LIST_MODEL (fields));
  gtk_drop_down_set_selected (self->field_dropdown, field_index);
  self->updating = FALSE;
  set_display_field (self, self->field_names[field_index]);

  /* Probe quantities */
  for (guint i = 0; wanted && wanted[i]; i++)
    if (g_strv_contains ((const char * const *) info->field_names, wanted[i]))
      g_strv_builder_add (probe_fields, wanted[i]);
  g_strfreev (self->probe_fields);
  self->probe_fields = g_strv_builder_end (probe_fields);
  if (self->probe_fields[0] == NULL)
    {
      g_strfreev (self->probe_fields);
      self->probe_fields = g_strdupv ((char *[]) { info->default_field, NULL });
    }
  g_strfreev (self->probe_units);
  self->probe_units = g_new0 (char *, g_strv_length (self->probe_fields) + 1);
  for (guint i = 0; self->probe_fields[i]; i++)
    {
      /* Units arrive with the first frames; until then the name alone. */
      self->probe_units[i] = g_strdup (wb_field_default_units (self->probe_fields[i]));
      gtk_string_list_append (quantities, self->probe_fields[i]);
    }
  self->updating = TRUE;
  gtk_drop_down_set_model (self->quantity_dropdown, G_LIST_MODEL (quantities));
  self->updating = FALSE;
  wb_runner_set_probe_fields (runner, (const char * const *) self->probe_fields);
  on_probes_updated (runner, self);

  /* Slices start in the middle of the axis chosen (y by default: the x-z
   * plane shows layered media and a focus below the surface). */
  {
    guint axis = MIN (gtk_drop_down_get_selected (self->slice_axis_dropdown), 2);

    wb_field_view_set_slice (self->field_view, axis, info->shape[axis] / 2);
    update_slice_controls (self);
  }

  g_clear_pointer (&self->material, wb_field_unref);
  wb_field_view_set_material (self->field_view, NULL);
  if (g_strv_contains ((const char * const *) info->field_names, "material"))
    wb_runner_read_field_async (runner, "material", self->cancellable, material_read, g_object_ref (self));

  gtk_revealer_set_reveal_child (self->error_revealer, FALSE);
  /* A new sim: its published frames are the ones to draw again. */
  wb_field_view_set_prefer_host_frames (self->field_view, FALSE);
  update_status (self);
  script_say (self, "loaded %s on %s: %s, %u-D, %" G_GSIZE_FORMAT " x %" G_GSIZE_FORMAT " x %" G_GSIZE_FORMAT,
              info->preset ? info->preset->name : "?", info->device_id, info->solver, info->ndim,
              info->shape[0], info->shape[1], info->shape[2]);
  script_say (self, "display %s", wb_field_view_get_display_reason (self->field_view));
}

static void
on_failed (WbRunner     *runner,
           const GError *error,
           WbWindow     *self)
{
  show_error (self, error_title (error), error->message);
  /* After a blow-up the runner's host frame is the last good state. */
  if (g_error_matches (error, WB_ERROR, WB_ERROR_DIVERGED))
    wb_field_view_set_prefer_host_frames (self->field_view, TRUE);
  update_status (self);
}

/* --- presets ------------------------------------------------------------ */

static void
fill_preset_dropdown (WbWindow   *self,
                      const char *solver,
                      const char *select_id)
{
  g_autoptr(GtkStringList) labels = gtk_string_list_new (NULL);
  guint selected = 0;

  g_array_set_size (self->preset_rows, 0);
  for (guint i = 0; i < self->catalog->len; i++)
    {
      PresetEntry *entry = g_ptr_array_index (self->catalog, i);

      if (g_strcmp0 (entry->solver, solver) != 0)
        continue;
      if (g_strcmp0 (entry->id, select_id) == 0)
        selected = self->preset_rows->len;
      g_array_append_val (self->preset_rows, i);
      /* GtkDropDown (4.8) cannot ellipsize: keep long titles short. */
      if (g_utf8_strlen (entry->title, -1) > 34)
        {
          g_autofree char *head = g_utf8_substring (entry->title, 0, 32);
          g_autofree char *label = g_strconcat (head, "…", NULL);
          gtk_string_list_append (labels, label);
        }
      else
        gtk_string_list_append (labels, entry->title);
    }
  gtk_drop_down_set_model (self->preset_dropdown, G_LIST_MODEL (labels));
  gtk_drop_down_set_selected (self->preset_dropdown, selected);
}

static void
fill_sim_dropdown (WbWindow *self)
{
  g_autoptr(GStrvBuilder) builder = g_strv_builder_new ();
  g_autoptr(GPtrArray) seen = g_ptr_array_new ();

  for (guint i = 0; i < self->catalog->len; i++)
    {
      PresetEntry *entry = g_ptr_array_index (self->catalog, i);

      if (!g_ptr_array_find_with_equal_func (seen, entry->solver, g_str_equal, NULL))
        {
          g_ptr_array_add (seen, entry->solver);
          g_strv_builder_add (builder, entry->solver);
        }
    }
  g_strfreev (self->solvers);
  self->solvers = g_strv_builder_end (builder);
  {
    g_autoptr(GtkStringList) labels = gtk_string_list_new (NULL);

    for (guint i = 0; self->solvers[i]; i++)
      {
        const char *s = self->solvers[i];
        const char *label = g_str_equal (s, "bhte") ? _("Bioheat (bhte)")
                          : g_str_equal (s, "vwe") ? _("Viscoelastic wave (vwe)")
                          : g_str_equal (s, "pstm") ? _("Migration (pstm)")
                          : s;
        gtk_string_list_append (labels, label);
      }
    gtk_drop_down_set_model (self->sim_dropdown, G_LIST_MODEL (labels));
  }
}

/* Adds @preset's entry to the catalog if new; returns it. */
static PresetEntry *
catalog_add (WbWindow       *self,
             const char     *id,
             const WbPreset *preset)
{
  PresetEntry *entry;
  JsonNode *title, *solver;

  for (guint i = 0; i < self->catalog->len; i++)
    {
      entry = g_ptr_array_index (self->catalog, i);
      if (g_strcmp0 (entry->id, id) == 0)
        return entry;
    }
  entry = g_new0 (PresetEntry, 1);
  entry->id = g_strdup (id);
  solver = wb_preset_lookup (preset, "solver");
  title = wb_preset_lookup (preset, "title");
  entry->solver = g_strdup (solver && JSON_NODE_HOLDS_VALUE (solver)
                            && json_node_get_value_type (solver) == G_TYPE_STRING
                            ? json_node_get_string (solver) : "?");
  if (title && JSON_NODE_HOLDS_VALUE (title) && json_node_get_value_type (title) == G_TYPE_STRING)
    entry->title = g_strdup_printf ("%s", json_node_get_string (title));
  else
    entry->title = g_strdup (preset->name);
  if (strchr (id, '/') != NULL)
    {
      /* A file: say so, so it is not mistaken for the bundled one. */
      g_autofree char *base = g_path_get_basename (id);
      char *t = g_strdup_printf ("%s (%s)", entry->title, base);
      g_free (entry->title);
      entry->title = t;
    }
  g_ptr_array_add (self->catalog, entry);
  return entry;
}

static void
load_catalog (WbWindow *self)
{
  g_auto(GStrv) names = wb_preset_list_bundled ();

  for (guint i = 0; names && names[i]; i++)
    {
      g_autoptr(WbPreset) preset = wb_preset_load (names[i], NULL);

      if (preset != NULL)
        catalog_add (self, names[i], preset);
    }
  self->updating = TRUE;
  fill_sim_dropdown (self);
  /* Until a preset opens, offer the first solver's presets. */
  if (self->solvers[0] != NULL)
    fill_preset_dropdown (self, self->solvers[0], NULL);
  self->updating = FALSE;
}

static void
select_in_choosers (WbWindow    *self,
                    PresetEntry *entry)
{
  self->updating = TRUE;
  fill_sim_dropdown (self);
  for (guint i = 0; self->solvers[i]; i++)
    if (g_str_equal (self->solvers[i], entry->solver))
      gtk_drop_down_set_selected (self->sim_dropdown, i);
  fill_preset_dropdown (self, entry->solver, entry->id);
  self->updating = FALSE;
}

/* Shows @preset (validating it) and starts it if it is valid. */
static void
use_preset (WbWindow       *self,
            const WbPreset *preset)
{
  g_autoptr(GError) error = NULL;
  JsonNode *title = wb_preset_lookup (preset, "title");

  g_clear_pointer (&self->preset, wb_preset_free);
  self->preset = wb_preset_copy (preset);
  wb_param_panel_set_preset (self->param_panel, preset);
  adw_window_title_set_title (self->window_title, _("Wavebench"));
  adw_window_title_set_subtitle (self->window_title, preset->name);
  gtk_widget_set_tooltip_text (GTK_WIDGET (self->preset_dropdown),
                               title && JSON_NODE_HOLDS_VALUE (title) ? json_node_get_string (title) : preset->name);
  if (!self->scripted)
    g_settings_set_string (self->settings, "preset", preset->name);

  if (!wb_sim_validate (preset, &error))
    {
      g_autofree char *title_text = g_strdup_printf (_("Preset “%s” cannot run"), preset->name);

      /* The run in progress, if any, goes on; the panel shows the preset so
       * the offending value can be fixed and the run started with Reset. */
      show_error (self, title_text, error->message);
      return;
    }
  start_simulation (self, preset);
}

void
wb_window_open_preset (WbWindow   *self,
                       const char *id)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(WbPreset) preset = NULL;
  PresetEntry *entry;

  g_return_if_fail (WB_IS_WINDOW (self));

  preset = wb_preset_load (id, &error);
  if (preset == NULL)
    {
      g_autofree char *title = g_strdup_printf (_("Could not open preset “%s”"), id);
      show_error (self, title, error->message);
      return;
    }
  entry = catalog_add (self, id, preset);
  select_in_choosers (self, entry);
  use_preset (self, preset);
}

static void
on_sim_selected (WbWindow *self)
{
  guint i = gtk_drop_down_get_selected (self->sim_dropdown);

  if (self->updating || self->solvers == NULL || i >= g_strv_length (self->solvers))
    return;
  self->updating = TRUE;
  fill_preset_dropdown (self, self->solvers[i], NULL);
  self->updating = FALSE;
  if (self->preset_rows->len > 0)
    {
      PresetEntry *entry = g_ptr_array_index (self->catalog, g_array_index (self->preset_rows, guint, 0));
      wb_window_open_preset (self, entry->id);
    }
}

static void
on_preset_selected (WbWindow *self)
{
  guint i = gtk_drop_down_get_selected (self->preset_dropdown);
  PresetEntry *entry;

  if (self->updating || i >= self->preset_rows->len)
    return;
  entry = g_ptr_array_index (self->catalog, g_array_index (self->preset_rows, guint, i));
  wb_window_open_preset (self, entry->id);
}

static void
start_simulation (WbWindow       *self,
                  const WbPreset *preset)
{
  g_autoptr(WbDevice) device = wb_backend_selector_get_device (self->backend_selector);
  g_autoptr(WbClContext) shared = NULL;

  if (device == NULL)
    {
      show_error (self, _("No backend is available"), NULL);
      return;
    }
  /* cl_khr_gl_sharing: the sim's buffers in a context made against the
   * view's GL context, where that is the display path (NULL elsewhere). */
  shared = wb_field_view_make_shared_context (self->field_view, device);
  wb_runner_set_cl_context (self->runner, shared);
  gtk_revealer_set_reveal_child (self->error_revealer, FALSE);
  script_say (self, "loading %s on %s", preset->name, device->id);
  wb_runner_load (self->runner, preset, device, self->kernel_dir);
  wb_field_view_set_device (self->field_view, device);
  wb_param_panel_set_dirty (self->param_panel, FALSE);
  update_status (self);
}

static void
on_backend_changed (WbWindow *self)
{
  const WbPreset *preset = wb_param_panel_get_preset (self->param_panel);

  if (self->updating || preset == NULL)
    return;
  if (wb_sim_validate (preset, NULL))
    start_simulation (self, preset);
}

void
wb_window_set_backend (WbWindow   *self,
                       const char *id)
{
  self->updating = TRUE;
  wb_backend_selector_set_device_id (self->backend_selector, id);
  self->updating = FALSE;
  if (g_strcmp0 (wb_backend_selector_get_device_id (self->backend_selector), id) != 0)
    {
      g_autofree char *msg = g_strdup_printf (_("There is no backend “%s”; using automatic choice."), id);
      show_error (self, msg, NULL);
    }
}

void
wb_window_set_field (WbWindow   *self,
                     const char *field)
{
  g_free (self->display_field);
  self->display_field = g_strdup (field);
}

void
wb_window_set_colormap (WbWindow   *self,
                        const char *name)
{
  WbColormap cmap;

  if (name == NULL || g_str_equal (name, "auto"))
    gtk_drop_down_set_selected (self->colormap_dropdown, 0);
  else if (wb_colormap_from_string (name, &cmap))
    gtk_drop_down_set_selected (self->colormap_dropdown, cmap + 1);
}

void
wb_window_set_kernel_dir (WbWindow   *self,
                          const char *dir)
{
  g_free (self->kernel_dir);
  self->kernel_dir = g_strdup (dir);
}

/* --- actions ------------------------------------------------------------ */

static void
action_run_pause (GtkWidget *widget, const char *name, GVariant *param)
{
  WbWindow *self = WB_WINDOW (widget);

  if (wb_runner_get_running (self->runner))
    wb_runner_pause (self->runner);
  else
    wb_runner_run (self->runner);
}

static void
action_step (GtkWidget *widget, const char *name, GVariant *param)
{
  WbWindow *self = WB_WINDOW (widget);

  wb_runner_pause (self->runner);
  wb_runner_step (self->runner, 1);
}

static void
action_reset (GtkWidget *widget, const char *name, GVariant *param)
{
  WbWindow *self = WB_WINDOW (widget);
  const WbPreset *preset = wb_param_panel_get_preset (self->param_panel);
  g_autoptr(GError) error = NULL;

  if (preset == NULL)
    return;
  if (!wb_sim_validate (preset, &error))
    {
      show_error (self, error_title (error), error->message);
      return;
    }
  start_simulation (self, preset);
}

static void
action_reset_view (GtkWidget *widget, const char *name, GVariant *param)
{
  wb_field_view_reset_view (WB_WINDOW (widget)->field_view);
}

static void
action_clear_probes (GtkWidget *widget, const char *name, GVariant *param)
{
  WbWindow *self = WB_WINDOW (widget);

  wb_runner_clear_probes (self->runner);
  on_probes_updated (self->runner, self);
}

static void
set_live_view (WbWindow *self,
               gboolean  live)
{
  self->live_view = live;
  /* Off means no read-back at all: the solver runs at full speed. */
  wb_runner_set_display_field (self->runner, live ? self->display_field : NULL);
  if (gtk_toggle_button_get_active (self->live_toggle) != live)
    gtk_toggle_button_set_active (self->live_toggle, live);
  update_status (self);
}

static void
on_live_toggled (WbWindow *self)
{
  if (gtk_toggle_button_get_active (self->live_toggle) != self->live_view)
    set_live_view (self, gtk_toggle_button_get_active (self->live_toggle));
}

/* Renders @widget as it is on screen (a GtkGLArea's last frame included)
 * into an RGBA image. */
static WbImage *
capture_widget (GtkWidget  *widget,
                GError    **error)
{
  int w = gtk_widget_get_width (widget), h = gtk_widget_get_height (widget);
  g_autoptr(GdkPaintable) paintable = NULL;
  g_autoptr(GdkTexture) texture = NULL;
  GskRenderNode *node;
  GtkSnapshot *snapshot;
  GskRenderer *renderer;
  WbImage *image;
  g_autofree guint8 *bgra = NULL;

  if (w <= 0 || h <= 0 || gtk_widget_get_native (widget) == NULL)
    {
      g_set_error (error, WB_ERROR, WB_ERROR_IO, _("The view is not on screen"));
      return NULL;
    }
  paintable = gtk_widget_paintable_new (widget);
  snapshot = gtk_snapshot_new ();
  gdk_paintable_snapshot (paintable, snapshot, w, h);
  node = gtk_snapshot_free_to_node (snapshot);
  if (node == NULL)
    {
      g_set_error (error, WB_ERROR, WB_ERROR_IO, _("The view drew nothing"));
      return NULL;
    }
  renderer = gtk_native_get_renderer (gtk_widget_get_native (widget));
  texture = gsk_renderer_render_texture (renderer, node, &GRAPHENE_RECT_INIT (0, 0, w, h));
  gsk_render_node_unref (node);

  w = gdk_texture_get_width (texture);
  h = gdk_texture_get_height (texture);
  bgra = g_malloc ((gsize) w * h * 4);
  /* Cairo's ARGB32: premultiplied, native-endian 32-bit words. */
  gdk_texture_download (texture, bgra, (gsize) w * 4);
  image = g_new0 (WbImage, 1);
  image->width = w;
  image->height = h;
  image->rgba = g_malloc ((gsize) w * h * 4);
  for (gsize i = 0; i < (gsize) w * h; i++)
    {
      guint32 px = ((guint32 *) bgra)[i];
      guint a = px >> 24;
      guint r = (px >> 16) & 0xff, g = (px >> 8) & 0xff, b = px & 0xff;

      if (a > 0 && a < 255)
        {
          r = MIN (255, (r * 255 + a / 2) / a);
          g = MIN (255, (g * 255 + a / 2) / a);
          b = MIN (255, (b * 255 + a / 2) / a);
        }
      image->rgba[4 * i] = r;
      image->rgba[4 * i + 1] = g;
      image->rgba[4 * i + 2] = b;
      image->rgba[4 * i + 3] = a;
    }
  return image;
}

static gboolean
save_capture (GtkWidget  *widget,
              const char *path,
              guint      *width,
              guint      *height,
              GError    **error)
{
  g_autoptr(WbImage) image = capture_widget (widget, error);

  if (image == NULL)
    return FALSE;
  if (width)
    *width = image->width;
  if (height)
    *height = image->height;
  return wb_png_write (image, path, error);
}

typedef enum
{
  FILE_SCREENSHOT,
  FILE_EXPORT,
  FILE_SAVE_PRESET,
  FILE_OPEN_PRESET,
  FILE_CSV,
} FileJob;

typedef struct
{
  WbWindow *window;
  char     *path;
  WbRenderOptions opts;
} ExportJob;

static void
export_read_done (GObject      *source,
                  GAsyncResult *result,
                  gpointer      data)
{
  ExportJob *job = data;
  WbWindow *self = job->window;
  g_autoptr(GError) error = NULL;
  g_autoptr(WbField) field = wb_runner_read_field_finish (WB_RUNNER (source), result, &error);
  gboolean ok = FALSE;

  if (field != NULL)
    {
      if (g_str_has_suffix (job->path, ".npy"))
        ok = wb_npy_write_field (field, job->path, &error);
      else
        ok = wb_png_write_field (field, &job->opts, job->path, &error);
    }
  if (ok)
    {
      g_autofree char *msg = g_strdup_printf (_("Exported %s to %s"), field->name, job->path);
      toast (self, msg);
    }
  else
    show_error (self, _("Export failed"), error ? error->message : NULL);
  g_object_unref (job->window);
  g_free (job->path);
  g_free (job);
}

static void
on_file_response (GtkNativeDialog *dialog,
                  int              response,
                  gpointer         data)
{
  WbWindow *self = g_object_get_data (G_OBJECT (dialog), "window");
  FileJob kind = GPOINTER_TO_INT (data);
  g_autoptr(GFile) file = NULL;
  g_autofree char *path = NULL;
  g_autoptr(GError) error = NULL;

  if (response != GTK_RESPONSE_ACCEPT)
    goto out;
  file = gtk_file_chooser_get_file (GTK_FILE_CHOOSER (dialog));
  path = g_file_get_path (file);
  if (path == NULL)
    goto out;

  switch (kind)
    {
    case FILE_OPEN_PRESET:
      wb_window_open_preset (self, path);
      break;

    case FILE_SAVE_PRESET:
      if (!wb_preset_save (wb_param_panel_get_preset (self->param_panel), path, &error))
        show_error (self, _("Saving the preset failed"), error->message);
      else
        toast (self, _("Parameters saved"));
      break;

    case FILE_SCREENSHOT:
      if (!save_capture (self->view_box, path, NULL, NULL, &error))
        show_error (self, _("The screenshot failed"), error->message);
      else
        toast (self, _("Screenshot saved"));
      break;

    case FILE_CSV:
      {
        g_autofree char *csv = wb_probes_to_csv (self->probes ? self->probes : g_ptr_array_new (),
                                                 (const char * const *) self->probe_fields,
                                                 (const char * const *) self->probe_units);
        if (!wb_file_write_atomic (path, csv, strlen (csv), &error))
          show_error (self, _("Exporting the probes failed"), error->message);
        else
          toast (self, _("Probes exported"));
      }
      break;

    case FILE_EXPORT:
      {
        const char *field = gtk_file_chooser_get_choice (GTK_FILE_CHOOSER (dialog), "field");
        ExportJob *job = g_new0 (ExportJob, 1);
        double vmin, vmax;

        job->window = g_object_ref (self);
        job->path = g_strdup (path);
        wb_render_options_init (&job->opts);
        /* The picture shows what the view shows: same map, range, slice. */
        job->opts.colormap = g_strcmp0 (field, self->display_field) == 0
                             ? wb_field_view_get_colormap (self->field_view)
                             : wb_field_default_colormap (field);
        if (g_strcmp0 (field, self->display_field) == 0
            && !gtk_check_button_get_active (self->auto_range_check))
          {
            wb_field_view_get_range (self->field_view, &vmin, &vmax);
            job->opts.fixed_range = TRUE;
            job->opts.vmin = vmin;
            job->opts.vmax = vmax;
          }
        job->opts.slice_axis = wb_field_view_get_slice_axis (self->field_view);
        job->opts.slice_index = wb_field_view_get_slice_index (self->field_view);
        wb_runner_read_field_async (self->runner, field ? field : self->display_field,
                                    NULL, export_read_done, job);
      }
      break;
    }

out:
  gtk_native_dialog_destroy (dialog);
  g_object_unref (dialog);
}

static void
run_file_dialog (WbWindow   *self,
                 FileJob     kind,
                 const char *title,
                 gboolean    save,
                 const char *suggested,
                 const char *pattern,
                 const char *pattern_name)
{
  GtkFileChooserNative *dialog;
  g_autoptr(GtkFileFilter) filter = gtk_file_filter_new ();

  dialog = gtk_file_chooser_native_new (title, GTK_WINDOW (self),
                                        save ? GTK_FILE_CHOOSER_ACTION_SAVE : GTK_FILE_CHOOSER_ACTION_OPEN,
                                        save ? _("_Save") : _("_Open"), _("_Cancel"));
  gtk_native_dialog_set_modal (GTK_NATIVE_DIALOG (dialog), TRUE);
  g_object_set_data (G_OBJECT (dialog), "window", self);
  if (pattern != NULL)
    {
      gtk_file_filter_add_pattern (filter, pattern);
      gtk_file_filter_set_name (filter, pattern_name);
      gtk_file_chooser_add_filter (GTK_FILE_CHOOSER (dialog), filter);
    }
  if (suggested != NULL)
    gtk_file_chooser_set_current_name (GTK_FILE_CHOOSER (dialog), suggested);
  if (kind == FILE_EXPORT && self->field_names != NULL)
    {
      gtk_file_chooser_add_choice (GTK_FILE_CHOOSER (dialog), "field", _("Field"),
                                   (const char **) self->field_names, (const char **) self->field_names);
      if (self->display_field)
        gtk_file_chooser_set_choice (GTK_FILE_CHOOSER (dialog), "field", self->display_field);
    }
  g_signal_connect (dialog, "response", G_CALLBACK (on_file_response), GINT_TO_POINTER (kind));
  gtk_native_dialog_show (GTK_NATIVE_DIALOG (dialog));
}

static void
action_open_preset (GtkWidget *widget, const char *name, GVariant *param)
{
  run_file_dialog (WB_WINDOW (widget), FILE_OPEN_PRESET, _("Open Preset"), FALSE, NULL,
                   "*.json", _("Presets (*.json)"));
}

static void
action_save_preset (GtkWidget *widget, const char *name, GVariant *param)
{
  WbWindow *self = WB_WINDOW (widget);
  const WbPreset *preset = wb_param_panel_get_preset (self->param_panel);
  g_autofree char *suggested = g_strdup_printf ("%s.json", preset ? preset->name : "preset");

  if (preset == NULL)
    return;
  run_file_dialog (self, FILE_SAVE_PRESET, _("Save Parameters as Preset"), TRUE, suggested,
                   "*.json", _("Presets (*.json)"));
}

static void
action_export (GtkWidget *widget, const char *name, GVariant *param)
{
  WbWindow *self = WB_WINDOW (widget);
  g_autofree char *suggested = g_strdup_printf ("%s-%" G_GUINT64_FORMAT ".png",
                                                self->display_field ? self->display_field : "field",
                                                self->shown_step);

  if (wb_runner_get_info (self->runner) == NULL)
    return;
  run_file_dialog (self, FILE_EXPORT, _("Export Field (.png or .npy)"), TRUE, suggested, NULL, NULL);
}

static void
action_screenshot (GtkWidget *widget, const char *name, GVariant *param)
{
  WbWindow *self = WB_WINDOW (widget);
  g_autofree char *suggested = g_strdup_printf ("wavebench-%" G_GUINT64_FORMAT ".png", self->shown_step);

  run_file_dialog (self, FILE_SCREENSHOT, _("Save Screenshot"), TRUE, suggested, "*.png", _("PNG images"));
}

static void
action_export_csv (GtkWidget *widget, const char *name, GVariant *param)
{
  run_file_dialog (WB_WINDOW (widget), FILE_CSV, _("Export Probes"), TRUE, "probes.csv",
                   "*.csv", _("CSV files"));
}

/* --- scripted mode ------------------------------------------------------ */

static void
script_finish (WbWindow *self,
               int       status)
{
  self->script_phase = SCRIPT_DONE;
  if (self->script_status)
    *self->script_status = status;
  g_clear_handle_id (&self->script_timer, g_source_remove);
  gtk_window_destroy (GTK_WINDOW (self));
}

static void
script_capture (WbWindow *self)
{
  g_autoptr(GError) error = NULL;
  int status = 0;
  guint w, h;

  for (guint r = 0; self->script.readouts && r < self->script.readouts->len; r++)
    {
      graphene_point_t *p = &g_array_index (self->script.readouts, graphene_point_t, r);
      g_autofree char *text = NULL;
      double cx = 0, cy = 0;
      WbField *field = wb_field_view_get_field (self->field_view);
      gsize cell[3];
      float value;
      double vmin, vmax;

      /* A negative coordinate means the centre of the view. */
      if (p->x < 0)
        p->x = gtk_widget_get_width (GTK_WIDGET (self->field_view)) / 2.0;
      if (p->y < 0)
        p->y = gtk_widget_get_height (GTK_WIDGET (self->field_view)) / 2.0;
      text = wb_field_view_readout (self->field_view, p->x, p->y);
      wb_field_view_get_range (self->field_view, &vmin, &vmax);
      if (field != NULL && wb_field_view_pick (self->field_view, p->x, p->y, cell, &value)
          && wb_field_view_cell_to_widget (self->field_view, cell, &cx, &cy))
        script_say (self, "readout x=%g y=%g i=%" G_GSIZE_FORMAT " j=%" G_GSIZE_FORMAT " k=%" G_GSIZE_FORMAT
                    " value=%.9g vmin=%.9g vmax=%.9g colormap=%s field=%s step=%" G_GUINT64_FORMAT
                    " cell-x=%.1f cell-y=%.1f text=%s",
                    p->x, p->y, cell[0], cell[1], cell[2], value, vmin, vmax,
                    wb_colormap_to_string (wb_field_view_get_colormap (self->field_view)),
                    field->name, self->shown_step, cx, cy, text);
      else
        script_say (self, "readout x=%g y=%g outside", p->x, p->y);
    }

  if (self->script.screenshot)
    {
      if (save_capture (self->view_box, self->script.screenshot, &w, &h, &error))
        script_say (self, "screenshot %s %ux%u", self->script.screenshot, w, h);
      else
        {
          script_say (self, "screenshot failed: %s", error->message);
          status = 1;
          g_clear_error (&error);
        }
    }
  if (self->script.export_frame)
    {
      g_autoptr(WbField) frame = wb_field_view_read_frame (self->field_view, &error);

      if (frame != NULL && wb_npy_write_field (frame, self->script.export_frame, &error))
        script_say (self, "exported frame %s %" G_GSIZE_FORMAT "x%" G_GSIZE_FORMAT, self->script.export_frame,
                    frame->shape[0], frame->shape[1]);
      else
        {
          script_say (self, "export failed: %s", error->message);
          status = 1;
          g_clear_error (&error);
        }
    }
  if (self->script.window_screenshot)
    {
      if (save_capture (GTK_WIDGET (self), self->script.window_screenshot, &w, &h, &error))
        script_say (self, "window screenshot %s %ux%u", self->script.window_screenshot, w, h);
      else
        {
          script_say (self, "window screenshot failed: %s", error->message);
          status = 1;
        }
    }
  update_status (self);
  {
    guint64 bytes = 0, step = 0;
    WbFieldViewFrames frames = wb_field_view_get_frames (self->field_view, &bytes);
    static const char *names[] = { "read-back", "gl-sharing", "external-memory", "host-copy" };
    gboolean published = wb_field_view_get_published_step (self->field_view, &step);
    const char *sync = wb_field_view_get_display_sync (self->field_view);

    if (frames == WB_FIELD_VIEW_FRAMES_READ_BACK)
      bytes = self->bytes_per_frame;
    script_say (self, "display-path frames=%s host-bytes-per-frame=%" G_GUINT64_FORMAT " sync=%s"
                " drawn=%s frames-published=%" G_GUINT64_FORMAT " host-reads=%" G_GUINT64_FORMAT
                " status=%s reason=%s",
                names[frames], bytes, frames == WB_FIELD_VIEW_FRAMES_READ_BACK || !sync ? "none" : sync,
                published ? "published" : "host", wb_runner_get_frames_published (self->runner),
                wb_runner_get_frames_read (self->runner), gtk_label_get_text (self->status_display),
                wb_field_view_get_display_reason (self->field_view));
    if (published)
      script_say (self, "display-frame step=%" G_GUINT64_FORMAT, step);
  }
  script_say (self, "done step=%" G_GUINT64_FORMAT " state=%s", wb_runner_get_step (self->runner),
              gtk_label_get_text (self->status_state));
  script_finish (self, status);
}

static void
script_after_paint (WbWindow      *self,
                    GdkFrameClock *clock)
{
  g_signal_handlers_disconnect_by_func (clock, script_after_paint, self);
  script_capture (self);
}

/* Probes have a sample at the final step (they are sampled after frames). */
static gboolean
script_probes_current (WbWindow *self)
{
  const WbRunnerInfo *info = wb_runner_get_info (self->runner);
  double t_end;

  if (self->script.probes == NULL || self->script.probes->len == 0)
    return TRUE;
  if (info == NULL || self->probes == NULL || self->probes->len < self->script.probes->len / 3)
    return FALSE;
  t_end = info->dt * self->script.run_steps;
  for (guint p = 0; p < self->probes->len; p++)
    {
      WbProbe *probe = g_ptr_array_index (self->probes, p);

      if (probe->times->len == 0
          || fabs (g_array_index (probe->times, double, probe->times->len - 1) - t_end) > 1e-9 * MAX (1, t_end))
        return FALSE;
    }
  return TRUE;
}

typedef struct
{
  WbWindow *window;
  char     *path;
} ScriptExport;

static void
script_export_done (GObject      *source,
                    GAsyncResult *result,
                    gpointer      data)
{
  ScriptExport *job = data;
  WbWindow *self = job->window;
  g_autoptr(GError) error = NULL;
  g_autoptr(WbField) field = wb_runner_read_field_finish (WB_RUNNER (source), result, &error);
  gboolean ok = FALSE;

  if (field != NULL)
    {
      if (g_str_has_suffix (job->path, ".npy"))
        ok = wb_npy_write_field (field, job->path, &error);
      else
        {
          WbRenderOptions opts;

          wb_render_options_init (&opts);
          opts.colormap = wb_field_default_colormap (field->name);
          opts.slice_axis = wb_field_view_get_slice_axis (self->field_view);
          opts.slice_index = wb_field_view_get_slice_index (self->field_view);
          ok = wb_png_write_field (field, &opts, job->path, &error);
        }
    }
  if (ok)
    script_say (self, "exported %s %s", field->name, job->path);
  else
    script_say (self, "export failed: %s", error->message);
  self->script_pending--;
  g_object_unref (job->window);
  g_free (job->path);
  g_free (job);
}

static void
script_seismogram_done (gboolean ok,
                        gpointer data)
{
  WbWindow *self = data;

  self->script_pending--;
  g_object_unref (self);
}

static void
script_start_exports (WbWindow *self)
{
  if (self->seismogram != NULL && (self->script.seismogram_exports || self->script.seismogram_screenshots))
    {
      self->script_pending++;
      wb_seismogram_run_script (self->seismogram, (const char * const *) self->script.seismogram_exports,
                                (const char * const *) self->script.seismogram_screenshots,
                                script_seismogram_done, g_object_ref (self));
    }
  if (self->script.export_csv != NULL)
    {
      g_autofree char *csv = wb_probes_to_csv (self->probes, (const char * const *) self->probe_fields,
                                               (const char * const *) self->probe_units);
      g_autoptr(GError) error = NULL;

      if (wb_file_write_atomic (self->script.export_csv, csv, strlen (csv), &error))
        script_say (self, "exported probes %s", self->script.export_csv);
      else
        script_say (self, "export failed: %s", error->message);
    }
  for (guint i = 0; self->script.export_fields && self->script.export_fields[i]; i++)
    {
      g_auto(GStrv) parts = g_strsplit (self->script.export_fields[i], ":", 2);
      ScriptExport *job;

      if (parts[1] == NULL)
        {
          script_say (self, "export failed: not NAME:PATH: %s", self->script.export_fields[i]);
          continue;
        }
      job = g_new0 (ScriptExport, 1);
      job->window = g_object_ref (self);
      job->path = g_strdup (parts[1]);
      self->script_pending++;
      wb_runner_read_field_async (self->runner, parts[0], NULL, script_export_done, job);
    }
}

/* --slice AXIS[:INDEX], through the window's own controls. */
static void
script_set_slice (WbWindow *self)
{
  const WbRunnerInfo *info = wb_runner_get_info (self->runner);
  g_auto(GStrv) parts = g_strsplit (self->script.slice, ":", 2);
  const char *axes = "xyz";
  const char *a = strchr (axes, parts[0][0]);
  guint axis;
  gsize index;

  if (a == NULL || parts[0][0] == '\0' || parts[0][1] != '\0' || info == NULL || info->ndim < 3)
    {
      script_say (self, "slice %s: not x, y or z of a 3-D field", self->script.slice);
      return;
    }
  axis = a - axes;
  index = parts[1] != NULL ? g_ascii_strtoull (parts[1], NULL, 10) : info->shape[axis] / 2;
  if (index >= info->shape[axis])
    {
      script_say (self, "slice %s: outside the grid", self->script.slice);
      return;
    }
  gtk_drop_down_set_selected (self->slice_axis_dropdown, axis);
  wb_field_view_set_slice (self->field_view, axis, index);
  update_slice_controls (self);
  self->updating = TRUE;
  gtk_spin_button_set_value (self->slice_spin, index);
  self->updating = FALSE;
  script_say (self, "slice axis=%c index=%" G_GSIZE_FORMAT, axes[axis], index);
}

/* Where frames are published, the one drawn must be of the final step
 * too (the readout's host frame is); where they are not, no published
 * frame may be drawn. */
static gboolean
script_drawn_current (WbWindow *self)
{
  guint64 published = 0;

  if (wb_field_view_get_published_step (self->field_view, &published))
    return published >= self->script.run_steps;
  return wb_field_view_get_frames (self->field_view, NULL) == WB_FIELD_VIEW_FRAMES_READ_BACK;
}

static gboolean
script_tick (gpointer data)
{
  WbWindow *self = data;
  WbRunnerState state = wb_runner_get_state (self->runner);
  gint64 now = g_get_monotonic_time ();

  if (now > self->script_deadline)
    {
      script_say (self, "timed out in phase %d", self->script_phase);
      self->script_timer = 0;
      script_finish (self, 1);
      return G_SOURCE_REMOVE;
    }

  switch (self->script_phase)
    {
    case SCRIPT_WAIT_LOAD:
      if (self->script_saw_error && state != WB_RUNNER_LOADING && state != WB_RUNNER_BUSY)
        {
          /* The error is on screen: show that the window lives on, then capture. */
          self->script_phase = SCRIPT_CAPTURE;
          self->script_mark_time = now;
          self->script_frames_mark = wb_field_view_get_frames_drawn (self->field_view);
          break;
        }
      if (wb_runner_get_info (self->runner) != NULL && state == WB_RUNNER_IDLE)
        {
          if (self->script.benchmark_seconds > 0)
            {
              set_live_view (self, self->script.live_view);
              self->script_mark_time = now;
              self->script_mark_step = wb_runner_get_step (self->runner);
              self->script_frames_mark = wb_field_view_get_frames_drawn (self->field_view);
              wb_runner_run (self->runner);
              self->script_phase = SCRIPT_BENCHMARK;
              break;
            }
          if (self->script.slice != NULL)
            script_set_slice (self);
          for (guint p = 0; self->script.probes && p < self->script.probes->len / 3; p++)
            {
              guint *cell = &g_array_index (self->script.probes, guint, 3 * p);
              on_cell_clicked (self->field_view, cell[0], cell[1], cell[2], self);
            }
          if (self->script.run_steps > 0)
            wb_runner_step (self->runner, self->script.run_steps);
          self->script_phase = SCRIPT_WAIT_STEPS;
        }
      break;

    case SCRIPT_WAIT_STEPS:
      if (state == WB_RUNNER_FAILED)
        {
          self->script_phase = SCRIPT_CAPTURE;
          self->script_mark_time = now;
          break;
        }
      if (state == WB_RUNNER_IDLE && wb_runner_get_step (self->runner) >= self->script.run_steps)
        self->script_phase = SCRIPT_WAIT_FRAME;
      break;

    case SCRIPT_WAIT_FRAME:
      {
        gboolean need_material = self->field_names
                                 && g_strv_contains ((const char * const *) self->field_names, "material");

        gboolean drawn = script_drawn_current (self);

        if (!drawn)
          gtk_gl_area_queue_render (GTK_GL_AREA (self->field_view));
        if (drawn && self->shown_step >= self->script.run_steps && (!need_material || self->material != NULL)
            && script_probes_current (self))
          {
            for (guint i = 0; self->script.type_values && self->script.type_values[i]; i++)
              {
                g_auto(GStrv) kv = g_strsplit (self->script.type_values[i], "=", 2);
                g_autofree char *message = NULL;
                g_autoptr(GError) error = NULL;

                if (kv[1] == NULL)
                  script_say (self, "param %s: not PATH=VALUE", kv[0]);
                else if (!wb_param_panel_type_value (self->param_panel, kv[0], kv[1], &message, &error))
                  script_say (self, "param %s: %s", kv[0], error->message);
                else if (message)
                  script_say (self, "param %s: refused: %s", kv[0], message);
                else
                  script_say (self, "param %s: accepted", kv[0]);
              }
            script_start_exports (self);
            self->script_phase = SCRIPT_EXPORTS;
          }
      }
      break;

    case SCRIPT_EXPORTS:
      if (self->script_pending == 0)
        {
          gtk_gl_area_queue_render (GTK_GL_AREA (self->field_view));
          self->script_phase = SCRIPT_CAPTURE;
          self->script_mark_time = now;
          self->script_frames_mark = wb_field_view_get_frames_drawn (self->field_view);
        }
      break;

    case SCRIPT_BENCHMARK:
      if (now - self->script_mark_time >= self->script.benchmark_seconds * G_USEC_PER_SEC
          || state == WB_RUNNER_FAILED || (state == WB_RUNNER_IDLE && !wb_runner_get_running (self->runner)
                                           && now - self->script_mark_time > G_USEC_PER_SEC / 2))
        {
          double secs = (now - self->script_mark_time) / (double) G_USEC_PER_SEC;
          guint64 steps = wb_runner_get_step (self->runner) - self->script_mark_step;
          guint64 frames = wb_field_view_get_frames_drawn (self->field_view) - self->script_frames_mark;

          wb_runner_pause (self->runner);
          script_say (self, "benchmark live-view=%s seconds=%.2f steps=%" G_GUINT64_FORMAT
                      " steps/s=%.1f frames=%" G_GUINT64_FORMAT " frames/s=%.1f frames-read=%" G_GUINT64_FORMAT,
                      self->live_view ? "on" : "off", secs, steps, steps / secs, frames, frames / secs,
                      wb_runner_get_frames_read (self->runner));
          set_live_view (self, TRUE);
          self->script_phase = SCRIPT_CAPTURE;
          self->script_mark_time = now;
          self->script_frames_mark = wb_field_view_get_frames_drawn (self->field_view);
        }
      break;

    case SCRIPT_CAPTURE:
      /* Wait until the view has drawn what it was given (or, with nothing
       * to draw, a moment for the window to show the error), then capture
       * right after a paint, when no relayout is pending (a widget waiting
       * for allocation snapshots to nothing). */
      if (!script_drawn_current (self))
        gtk_gl_area_queue_render (GTK_GL_AREA (self->field_view));
      if ((wb_field_view_get_field (self->field_view) != NULL
           && wb_field_view_get_frames_drawn (self->field_view) > self->script_frames_mark
           && script_drawn_current (self)
           && now - self->script_mark_time > G_USEC_PER_SEC / 10)
          || now - self->script_mark_time > G_USEC_PER_SEC)
        {
          GdkFrameClock *clock = gtk_widget_get_frame_clock (GTK_WIDGET (self));

          self->script_timer = 0;
          self->script_phase = SCRIPT_DONE;
          g_signal_connect_swapped (clock, "after-paint", G_CALLBACK (script_after_paint), self);
          gtk_widget_queue_draw (GTK_WIDGET (self));
          return G_SOURCE_REMOVE;
        }
      break;

    case SCRIPT_DONE:
      self->script_timer = 0;
      return G_SOURCE_REMOVE;
    }
  return G_SOURCE_CONTINUE;
}

void
wb_window_run_script (WbWindow *self,
                      WbScript *script,
                      int      *exit_status)
{
  self->script = *script;
  memset (script, 0, sizeof *script);
  self->script_status = exit_status;
  self->script_phase = SCRIPT_WAIT_LOAD;
  self->script_deadline = g_get_monotonic_time () + 300 * G_USEC_PER_SEC;
  self->script_timer = g_timeout_add (20, script_tick, self);
  /* Seismogram screenshots: show its page from the start, so its live
   * reads run during the steps as they do for a user watching. */
  if (self->seismogram != NULL && self->script.seismogram_screenshots != NULL)
    wb_seismogram_present (self->seismogram);
}

/* --- GObject ------------------------------------------------------------ */

static gboolean
wb_window_close_request (GtkWindow *window)
{
  WbWindow *self = WB_WINDOW (window);

  if (!self->scripted)
    {
      int w, h;

      gtk_window_get_default_size (window, &w, &h);
      g_settings_set_int (self->settings, "window-width", w);
      g_settings_set_int (self->settings, "window-height", h);
      g_settings_set_boolean (self->settings, "window-maximized", gtk_window_is_maximized (window));
    }
  wb_runner_cancel (self->runner);
  return GTK_WINDOW_CLASS (wb_window_parent_class)->close_request (window);
}

static void
wb_window_dispose (GObject *object)
{
  WbWindow *self = WB_WINDOW (object);

  g_cancellable_cancel (self->cancellable);
  g_clear_handle_id (&self->rate_timer, g_source_remove);
  g_clear_handle_id (&self->status_timer, g_source_remove);
  g_clear_handle_id (&self->probes_timer, g_source_remove);
  g_clear_handle_id (&self->script_timer, g_source_remove);
  if (self->runner != NULL)
    {
      g_signal_handlers_disconnect_by_data (self->runner, self);
      wb_runner_cancel (self->runner);
    }
  g_clear_object (&self->settings);
  gtk_widget_dispose_template (GTK_WIDGET (self), WB_TYPE_WINDOW);

  G_OBJECT_CLASS (wb_window_parent_class)->dispose (object);
}

static void
wb_window_finalize (GObject *object)
{
  WbWindow *self = WB_WINDOW (object);

  /* Dropped last: widgets that borrow it (the debug panel) let go of it
   * when the window's children are disposed, after our dispose. */
  g_clear_object (&self->runner);
  g_clear_object (&self->cancellable);
  g_clear_pointer (&self->preset, wb_preset_free);
  g_clear_pointer (&self->catalog, g_ptr_array_unref);
  g_clear_pointer (&self->preset_rows, g_array_unref);
  g_clear_pointer (&self->probes, g_ptr_array_unref);
  g_clear_pointer (&self->material, wb_field_unref);
  g_strfreev (self->solvers);
  g_strfreev (self->field_names);
  g_strfreev (self->probe_fields);
  g_strfreev (self->probe_units);
  g_free (self->display_field);
  g_free (self->kernel_dir);
  wb_script_clear (&self->script);

  G_OBJECT_CLASS (wb_window_parent_class)->finalize (object);
}

static void
wb_window_class_init (WbWindowClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  GtkWidgetClass *widget_class = GTK_WIDGET_CLASS (klass);
  GtkWindowClass *window_class = GTK_WINDOW_CLASS (klass);

  object_class->dispose = wb_window_dispose;
  object_class->finalize = wb_window_finalize;
  window_class->close_request = wb_window_close_request;

  g_type_ensure (WB_TYPE_BACKEND_SELECTOR);
  g_type_ensure (WB_TYPE_COLORBAR);
  g_type_ensure (WB_TYPE_FIELD_VIEW);
  g_type_ensure (WB_TYPE_PARAM_PANEL);
  g_type_ensure (WB_TYPE_PLOT);

  gtk_widget_class_set_template_from_resource (widget_class, RESOURCE_PREFIX "/ui/wb-window.ui");
#define CHILD(name) gtk_widget_class_bind_template_child (widget_class, WbWindow, name)
  CHILD (sim_dropdown);
  CHILD (preset_dropdown);
  CHILD (backend_selector);
  CHILD (window_title);
  CHILD (run_button);
  CHILD (error_revealer);
  CHILD (error_label);
  CHILD (error_details);
  CHILD (error_expander);
  CHILD (toast_overlay);
  CHILD (field_dropdown);
  CHILD (colormap_dropdown);
  CHILD (auto_range_check);
  CHILD (min_spin);
  CHILD (max_spin);
  CHILD (slice_label);
  CHILD (slice_axis_dropdown);
  CHILD (slice_spin);
  CHILD (outline_toggle);
  CHILD (live_toggle);
  CHILD (view_box);
  CHILD (main_paned);
  CHILD (field_view);
  CHILD (marker_area);
  CHILD (readout_label);
  CHILD (colorbar);
  CHILD (quantity_dropdown);
  CHILD (plot);
  CHILD (param_panel);
  CHILD (status_step);
  CHILD (status_time);
  CHILD (status_sps);
  CHILD (status_fps);
  CHILD (status_state);
  CHILD (status_backend);
  CHILD (status_display);
#undef CHILD
  gtk_widget_class_bind_template_callback (widget_class, on_error_dismiss);

  gtk_widget_class_install_action (widget_class, "win.run-pause", NULL, action_run_pause);
  gtk_widget_class_install_action (widget_class, "win.step", NULL, action_step);
  gtk_widget_class_install_action (widget_class, "win.reset", NULL, action_reset);
  gtk_widget_class_install_action (widget_class, "win.reset-view", NULL, action_reset_view);
  gtk_widget_class_install_action (widget_class, "win.clear-probes", NULL, action_clear_probes);
  gtk_widget_class_install_action (widget_class, "win.open-preset", NULL, action_open_preset);
  gtk_widget_class_install_action (widget_class, "win.save-preset", NULL, action_save_preset);
  gtk_widget_class_install_action (widget_class, "win.export", NULL, action_export);
  gtk_widget_class_install_action (widget_class, "win.screenshot", NULL, action_screenshot);
  gtk_widget_class_install_action (widget_class, "win.export-csv", NULL, action_export_csv);

  /* Plain keys are class shortcuts, handled in the bubble phase: a focused
   * entry gets them first, so typing "0.5" in the parameter panel never
   * steps the simulation.  Ctrl shortcuts are application accelerators. */
  gtk_widget_class_add_binding_action (widget_class, GDK_KEY_space, 0, "win.run-pause", NULL);
  gtk_widget_class_add_binding_action (widget_class, GDK_KEY_period, 0, "win.step", NULL);
  gtk_widget_class_add_binding_action (widget_class, GDK_KEY_KP_Decimal, 0, "win.step", NULL);
  gtk_widget_class_add_binding_action (widget_class, GDK_KEY_Home, 0, "win.reset-view", NULL);
}

static void
on_quantity_selected (WbWindow *self)
{
  if (!self->updating)
    update_plot (self);
}

static void
wb_window_init (WbWindow *self)
{
  g_autofree char *cmap = NULL;
  g_autofree char *backend = NULL;

  gtk_widget_init_template (GTK_WIDGET (self));

  self->cancellable = g_cancellable_new ();
  self->catalog = g_ptr_array_new_with_free_func ((GDestroyNotify) preset_entry_free);
  self->preset_rows = g_array_new (FALSE, FALSE, sizeof (guint));
  self->live_view = TRUE;
  self->settings = g_settings_new (APP_ID);
  self->runner = wb_runner_new ();

  g_signal_connect (self->runner, "loaded", G_CALLBACK (on_loaded), self);
  g_signal_connect (self->runner, "failed", G_CALLBACK (on_failed), self);
  g_signal_connect (self->runner, "frame-ready", G_CALLBACK (on_frame_ready), self);
  g_signal_connect_swapped (self->runner, "probes-updated", G_CALLBACK (queue_probes), self);
  g_signal_connect_swapped (self->runner, "notify::state", G_CALLBACK (update_status), self);
  g_signal_connect_swapped (self->runner, "notify::running", G_CALLBACK (update_status), self);
  g_signal_connect_swapped (self->runner, "notify::step", G_CALLBACK (queue_status), self);
  g_signal_connect_swapped (self->runner, "notify::steps-per-second", G_CALLBACK (queue_status), self);

  g_signal_connect_swapped (self->sim_dropdown, "notify::selected", G_CALLBACK (on_sim_selected), self);
  g_signal_connect_swapped (self->preset_dropdown, "notify::selected", G_CALLBACK (on_preset_selected), self);
  g_signal_connect_swapped (self->field_dropdown, "notify::selected", G_CALLBACK (on_field_selected), self);
  g_signal_connect_swapped (self->colormap_dropdown, "notify::selected", G_CALLBACK (on_colormap_selected), self);
  g_signal_connect_swapped (self->quantity_dropdown, "notify::selected", G_CALLBACK (on_quantity_selected), self);
  g_signal_connect_swapped (self->auto_range_check, "toggled", G_CALLBACK (apply_range), self);
  g_signal_connect_swapped (self->min_spin, "value-changed", G_CALLBACK (apply_range), self);
  g_signal_connect_swapped (self->max_spin, "value-changed", G_CALLBACK (apply_range), self);
  g_signal_connect_swapped (self->slice_axis_dropdown, "notify::selected", G_CALLBACK (on_slice_axis_selected), self);
  g_signal_connect_swapped (self->slice_spin, "value-changed", G_CALLBACK (on_slice_index_changed), self);
  g_signal_connect_swapped (self->outline_toggle, "toggled", G_CALLBACK (on_outline_toggled), self);
  g_signal_connect_swapped (self->live_toggle, "toggled", G_CALLBACK (on_live_toggled), self);
  /* Frames through the display paths (docs/interop.md): published by the
   * runner's worker into the view's frames, host frames at a low rate. */
  wb_field_view_set_runner (self->field_view, self->runner);
  g_signal_connect_swapped (self->field_view, "range-changed", G_CALLBACK (on_range_changed), self);
  g_signal_connect (self->field_view, "hover-changed", G_CALLBACK (on_hover_changed), self);
  g_signal_connect (self->field_view, "cell-clicked", G_CALLBACK (on_cell_clicked), self);
  g_signal_connect_swapped (self->field_view, "view-changed", G_CALLBACK (gtk_widget_queue_draw), self->marker_area);
  gtk_drawing_area_set_draw_func (self->marker_area, draw_markers, self, NULL);
  g_signal_connect_object (self->field_view, "map", G_CALLBACK (on_view_map), self, G_CONNECT_SWAPPED);
  /* The field view holds the focus, so Space and "." reach the window's
   * bindings instead of activating a header-bar button. */
  {
    GtkGesture *focus_click = gtk_gesture_click_new ();

    gtk_event_controller_set_propagation_phase (GTK_EVENT_CONTROLLER (focus_click), GTK_PHASE_CAPTURE);
    g_signal_connect_swapped (focus_click, "pressed", G_CALLBACK (gtk_widget_grab_focus), self->field_view);
    gtk_widget_add_controller (GTK_WIDGET (self->field_view), GTK_EVENT_CONTROLLER (focus_click));
    gtk_window_set_focus (GTK_WINDOW (self), GTK_WIDGET (self->field_view));
  }
  g_signal_connect_swapped (self->backend_selector, "notify::device-id", G_CALLBACK (on_backend_changed), self);

  gtk_window_set_default_size (GTK_WINDOW (self),
                               g_settings_get_int (self->settings, "window-width"),
                               g_settings_get_int (self->settings, "window-height"));
  if (g_settings_get_boolean (self->settings, "window-maximized"))
    gtk_window_maximize (GTK_WINDOW (self));

  self->updating = TRUE;
  /* After the model: GtkBuilder applies "selected" before "model". */
  gtk_drop_down_set_selected (self->slice_axis_dropdown, 1);
  backend = g_settings_get_string (self->settings, "backend");
  wb_backend_selector_set_device_id (self->backend_selector, backend);
  cmap = g_settings_get_string (self->settings, "colormap");
  wb_window_set_colormap (self, cmap);
  self->updating = FALSE;
  apply_range (self);

  /* Kernel debugging tools beside the parameters (wb-debug-panel.h). */
  wb_debug_panel_attach (GTK_WINDOW (self), GTK_WIDGET (self->param_panel), self->field_view,
                         self->runner);
  /* The field gets two thirds: restate the split after the panels above
   * replaced the paned's end child. */
  gtk_paned_set_position (self->main_paned, 860);
  /* Sensor traces (vwe) on a page beside the probe plot. */
  self->seismogram = wb_seismogram_attach (GTK_WIDGET (self->plot), self->runner);
  load_catalog (self);
  update_slice_controls (self);
  update_status (self);
  self->rate_timer = g_timeout_add (1000, rate_tick, self);
}

WbWindow *
wb_window_new (GtkApplication *app,
               gboolean        scripted)
{
  WbWindow *self = g_object_new (WB_TYPE_WINDOW, "application", app, NULL);

  self->scripted = scripted;
  if (scripted)
    {
      /* A scripted run must not change the user's preferences. */
      g_settings_delay (self->settings);
      gtk_window_set_default_size (GTK_WINDOW (self), 1200, 800);
      gtk_window_unmaximize (GTK_WINDOW (self));
    }
  else
    g_settings_bind (self->settings, "backend", self->backend_selector, "device-id",
                     G_SETTINGS_BIND_SET);
  return self;
}
