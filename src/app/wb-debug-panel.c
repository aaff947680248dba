#define G_LOG_DOMAIN "wb-debug-panel"
#include "config.h"

#include <math.h>
#include <string.h>
#include <glib/gi18n.h>

#include "wb-compare.h"
#include "wb-debug-editor.h"
#include "wb-debug-panel.h"
#include "wb-error.h"
#include "wb-launch.h"
#include "wb-probe.h"
#include "wb-render.h"
#include "wb-window.h"

struct _WbDebugPanel
{
  GtkBox          parent_instance;

  /* Template widgets */
  GtkDropDown    *variant_dropdown;
  GtkEntry       *local_entry;
  GtkButton      *launch_button;
  GtkButton      *coverage_button;
  GtkButton      *probes_button;
  GtkButton      *diff_button;
  GtkDropDown    *overlay_dropdown;
  GtkSpinner     *spinner;
  GtkLabel       *result_label;
  GtkPicture     *diff_picture;

  /* Borrowed */
  GtkWindow      *window;
  WbFieldView    *view;
  WbRunner       *runner;
  GtkStack       *stack;

  /* Owned */
  GtkDrawingArea *overlay_area;
  WbField        *coverage;     /* 1 written, 0 unwritten */
  WbField        *probes;       /* highest checkpoint per cell */
  guint           probe_max;
  char           *overlay_caption;
  GCancellable   *cancellable;
  GtkWindow      *editor;
  gboolean        busy;

  /* Documentation mode (WB_DEBUG_DEMO="tool:path.png") */
  char           *demo_tool;
  char           *demo_path;
  char           *demo_geometry;  /* cell (0, 0) and the two cell steps, window pixels */
  gboolean        demo_started;
};

G_DEFINE_FINAL_TYPE (WbDebugPanel, wb_debug_panel, GTK_TYPE_BOX)

/* --- overlay ---------------------------------------------------------- */

/* Checkpoint colours: 0 (stopped before the first checkpoint) is red, then
 * warm to cool as work-items got further. */
static const double probe_rgb[][3] = {
  { 0.90, 0.10, 0.10 }, { 1.00, 0.55, 0.00 }, { 0.95, 0.85, 0.10 },
  { 0.30, 0.75, 0.30 }, { 0.15, 0.55, 0.95 }, { 0.55, 0.30, 0.85 },
};

static void
probe_colour (guint n, double *rgb)
{
  memcpy (rgb, probe_rgb[MIN (n, G_N_ELEMENTS (probe_rgb) - 1)], sizeof probe_rgb[0]);
}

static WbField *
overlay_map (WbDebugPanel *self)
{
  switch (gtk_drop_down_get_selected (self->overlay_dropdown))
    {
    case WB_DEBUG_OVERLAY_COVERAGE:
      return self->coverage;
    case WB_DEBUG_OVERLAY_PROBES:
      return self->probes;
    default:
      return NULL;
    }
}

/* For GUI tests: where cell (0, 0) of the overlay is in the view (the
 * field view with its overlays, captured alone as PATH-view.png), the
 * pixel steps of the slice's two axes, and the legend's box. */
static char *
overlay_geometry (WbDebugPanel *self)
{
  WbField *map = overlay_map (self);
  GtkWidget *area = GTK_WIDGET (self->overlay_area);
  g_auto(GStrv) caption = g_strsplit (self->overlay_caption ? self->overlay_caption : "", "\n", -1);
  guint n_lines = self->overlay_caption ? g_strv_length (caption) : 0;
  guint axis = 2, a0 = 0, a1 = 1;
  gsize c00[3] = { 0 }, c10[3], c01[3];
  double x[3], y[3], wx[3], wy[3], lx = 0, ly = 0;

  if (map == NULL)
    return NULL;
  if (map->ndim == 3)
    {
      axis = wb_field_view_get_slice_axis (self->view);
      c00[axis] = wb_field_view_get_slice_index (self->view);
      a0 = axis == 0 ? 1 : 0;
      a1 = axis == 2 ? 1 : 2;
    }
  memcpy (c10, c00, sizeof c00);
  memcpy (c01, c00, sizeof c00);
  c10[a0] = 1;
  c01[a1] = 1;
  if (!wb_field_view_cell_to_widget (self->view, c00, &x[0], &y[0]) ||
      !wb_field_view_cell_to_widget (self->view, c10, &x[1], &y[1]) ||
      !wb_field_view_cell_to_widget (self->view, c01, &x[2], &y[2]))
    return NULL;
  for (guint p = 0; p < 3; p++)
    gtk_widget_translate_coordinates (area, gtk_widget_get_parent (area), x[p], y[p], &wx[p], &wy[p]);
  gtk_widget_translate_coordinates (area, gtk_widget_get_parent (area), 6, 4, &lx, &ly);
  return g_strdup_printf ("%.2f %.2f %.3f %.3f %.3f %.3f %.0f %.0f %d %u",
                          wx[0], wy[0], wx[1] - wx[0], wy[1] - wy[0], wx[2] - wx[0], wy[2] - wy[0],
                          lx, ly, MIN (gtk_widget_get_width (area) - 12, 420), 18 * n_lines + 8);
}

static void
draw_overlay (GtkDrawingArea *area,
              cairo_t        *cr,
              int             width,
              int             height,
              gpointer        data)
{
  WbDebugPanel *self = data;
  WbField *map = overlay_map (self);
  WbField *shown = wb_field_view_get_field (self->view);
  g_autoptr(WbField) slice = NULL;
  const WbField *s2;
  guint axis = 2, a0 = 0, a1 = 1;
  gsize index = 0, c00[3] = { 0 }, c10[3], c01[3];
  double x0, y0, x1, y1, x2, y2;
  cairo_surface_t *surf;
  guint8 *pix;
  int stride;
  gboolean coverage = map == self->coverage;

  if (map == NULL || shown == NULL)
    return;
  for (guint d = 0; d < 3; d++)
    if (map->shape[d] != shown->shape[d])
      return;
  s2 = map;
  if (map->ndim == 3)
    {
      axis = wb_field_view_get_slice_axis (self->view);
      index = wb_field_view_get_slice_index (self->view);
      slice = wb_field_slice (map, axis, index, NULL);
      if (slice == NULL)
        return;
      s2 = slice;
      a0 = axis == 0 ? 1 : 0;
      a1 = axis == 2 ? 1 : 2;
    }
  /* The view's mapping from cells to widget points, from three cells. */
  c00[axis] = index;
  memcpy (c10, c00, sizeof c00);
  memcpy (c01, c00, sizeof c00);
  c10[a0] = 1;
  c01[a1] = 1;
  if (s2->shape[0] < 2 || s2->shape[1] < 2 ||
      !wb_field_view_cell_to_widget (self->view, c00, &x0, &y0) ||
      !wb_field_view_cell_to_widget (self->view, c10, &x1, &y1) ||
      !wb_field_view_cell_to_widget (self->view, c01, &x2, &y2))
    return;

  surf = cairo_image_surface_create (CAIRO_FORMAT_ARGB32, s2->shape[0], s2->shape[1]);
  pix = cairo_image_surface_get_data (surf);
  stride = cairo_image_surface_get_stride (surf);
  cairo_surface_flush (surf);
  for (gsize j = 0; j < s2->shape[1]; j++)
    for (gsize i = 0; i < s2->shape[0]; i++)
      {
        float v = s2->data[i + s2->shape[0] * j];
        guint32 *px = (guint32 *) (pix + j * stride) + i;
        double rgb[3], a;

        if (coverage)
          {
            /* Unwritten cells in red; written ones left as they are. */
            a = v < 0.5f ? 0.6 : 0.0;
            rgb[0] = 0.95; rgb[1] = 0.05; rgb[2] = 0.05;
          }
        else
          {
            probe_colour ((guint) v, rgb);
            a = 0.55;
          }
        *px = ((guint32) (a * 255) << 24) | ((guint32) (rgb[0] * a * 255) << 16) |
              ((guint32) (rgb[1] * a * 255) << 8) | (guint32) (rgb[2] * a * 255);
      }
  cairo_surface_mark_dirty (surf);

  cairo_save (cr);
  {
    /* Cell (i, j) of the slice image maps to c00 + i (c10 - c00) + j (c01 -
     * c00) at its centre: shift by half a cell for the corner. */
    cairo_matrix_t m;
    cairo_matrix_init (&m, x1 - x0, y1 - y0, x2 - x0, y2 - y0, x0, y0);
    cairo_transform (cr, &m);
    cairo_translate (cr, -0.5, -0.5);
    cairo_set_source_surface (cr, surf, 0, 0);
    cairo_pattern_set_filter (cairo_get_source (cr), CAIRO_FILTER_NEAREST);
    cairo_paint (cr);
  }
  cairo_restore (cr);
  cairo_surface_destroy (surf);

  /* Legend. */
  if (self->overlay_caption)
    {
      g_auto(GStrv) lines = g_strsplit (self->overlay_caption, "\n", -1);
      guint n = g_strv_length (lines);
      double y = 10;

      cairo_select_font_face (cr, "monospace", CAIRO_FONT_SLANT_NORMAL, CAIRO_FONT_WEIGHT_NORMAL);
      cairo_set_font_size (cr, 13);
      cairo_set_source_rgba (cr, 0, 0, 0, 0.65);
      cairo_rectangle (cr, 6, 4, MIN (width - 12, 420), 18.0 * n + 8);
      cairo_fill (cr);
      for (guint l = 0; l < n; l++)
        {
          double rgb[3] = { 1, 1, 1 };
          if (!coverage && g_str_has_prefix (lines[l], "cp "))
            {
              probe_colour ((guint) g_ascii_strtoull (lines[l] + 3, NULL, 10), rgb);
              cairo_set_source_rgb (cr, rgb[0], rgb[1], rgb[2]);
              cairo_rectangle (cr, 12, y + 3, 12, 12);
              cairo_fill (cr);
              rgb[0] = rgb[1] = rgb[2] = 1;
            }
          else if (coverage && l > 0)
            {
              cairo_set_source_rgb (cr, 0.95, 0.05, 0.05);
              cairo_rectangle (cr, 12, y + 3, 12, 12);
              cairo_fill (cr);
            }
          cairo_set_source_rgb (cr, rgb[0], rgb[1], rgb[2]);
          cairo_move_to (cr, 30, y + 14);
          cairo_show_text (cr, lines[l]);
          y += 18;
        }
    }
}

static void
on_overlay_selected (WbDebugPanel *self)
{
  gtk_widget_queue_draw (GTK_WIDGET (self->overlay_area));
}

void
wb_debug_panel_set_overlay (WbDebugPanel  *self,
                            WbDebugOverlay overlay)
{
  g_return_if_fail (WB_IS_DEBUG_PANEL (self));
  gtk_drop_down_set_selected (self->overlay_dropdown, overlay);
}

void
wb_debug_panel_present (WbDebugPanel *self)
{
  if (self->stack)
    gtk_stack_set_visible_child (self->stack, GTK_WIDGET (self));
}

/* --- tools on a worker ------------------------------------------------ */

typedef struct
{
  WbDebugTool      tool;
  WbPreset        *preset;
  WbDevice        *device;
  WbDevice        *reference;
  /* results */
  char            *text;
  WbCoverage      *coverage;
  WbProbeReport   *probes;
  WbCompareReport *diff;
  char            *diff_field;
} ToolJob;

static void
tool_job_free (ToolJob *job)
{
  g_clear_pointer (&job->preset, wb_preset_free);
  g_clear_pointer (&job->device, wb_device_unref);
  g_clear_pointer (&job->reference, wb_device_unref);
  g_free (job->text);
  g_clear_pointer (&job->coverage, wb_coverage_free);
  g_clear_pointer (&job->probes, wb_probe_report_free);
  g_clear_pointer (&job->diff, wb_compare_report_free);
  g_free (job->diff_field);
  g_free (job);
}

static void
tool_thread (GTask        *task,
             gpointer      source,
             gpointer      data,
             GCancellable *cancellable)
{
  ToolJob *job = data;
  GError *error = NULL;
  g_autoptr(WbSim) sim = wb_sim_new (job->preset, job->device, NULL, &error);
  WbLaunchReport plan, last;

  if (sim == NULL)
    {
      g_task_return_error (task, error);
      return;
    }
  switch (job->tool)
    {
    case WB_DEBUG_TOOL_LAUNCH:
      if (!wb_launch_plan (sim, &plan, &error))
        break;
      if (!(plan.flags & (WB_LAUNCH_OVER_WG_LIMIT | WB_LAUNCH_OVER_ITEM_SIZE)) &&
          wb_sim_step (sim, 1, &error) && wb_sim_finish (sim, &error) && wb_launch_last (sim, &last))
        job->text = wb_launch_report_format (&last);
      else if (error == NULL)
        job->text = wb_launch_report_format (&plan);
      break;
    case WB_DEBUG_TOOL_COVERAGE:
      job->coverage = wb_coverage_measure (sim, sim->default_field, wb_sentinel_default (), &error);
      if (job->coverage)
        {
          g_autofree char *a = wb_coverage_format (job->coverage);
          g_autofree char *b = NULL;
          if (wb_launch_last (sim, &last))
            b = wb_launch_report_format (&last);
          job->text = g_strconcat (a, b ? b : "", NULL);
        }
      break;
    case WB_DEBUG_TOOL_PROBES:
      job->probes = wb_probe_measure (sim, &error);
      if (job->probes)
        job->text = wb_probe_report_format (job->probes);
      break;
    case WB_DEBUG_TOOL_DIFF:
      {
        g_autoptr(WbSim) ref = wb_sim_new (job->preset, job->reference, NULL, &error);
        if (ref == NULL)
          break;
        job->diff = wb_compare_run (sim, ref, 10, NULL, 1e-4, TRUE, NULL, NULL, &error);
        if (job->diff)
          {
            g_autofree char *table = wb_compare_report_format (job->diff);
            const WbCompareReport *r = job->diff;

            /* The finding first: the table can be wider than the panel.
             * Numbers are formatted before translation: xgettext cannot
             * read G_GUINT64_FORMAT inside a msgid. */
            if (r->exceeded)
              {
                g_autofree char *step = g_strdup_printf ("%" G_GUINT64_FORMAT, r->first_step);
                g_autofree char *cell = g_strdup_printf ("%" G_GSIZE_FORMAT ", %" G_GSIZE_FORMAT
                                                         ", %" G_GSIZE_FORMAT, r->first_ijk[0],
                                                         r->first_ijk[1], r->first_ijk[2]);

                job->text = g_strdup_printf (_("First over tolerance: step %s, %s, cell (%s)\n\n%s"),
                                             step, r->first_field, cell, table);
              }
            else
              {
                g_autofree char *steps = g_strdup_printf ("%" G_GUINT64_FORMAT, r->steps);

                job->text = g_strdup_printf (_("Within tolerance for %s steps\n\n%s"), steps, table);
              }
            job->diff_field = g_strdup (job->diff->exceeded ? job->diff->first_field
                                                            : sim->default_field);
          }
      }
      break;
    }
  if (error)
    g_task_return_error (task, error);
  else
    g_task_return_boolean (task, TRUE);
}

static void demo_capture (WbDebugPanel *self);
static void demo_editor (WbDebugPanel *self);

static void
set_busy (WbDebugPanel *self,
          gboolean      busy)
{
  self->busy = busy;
  gtk_spinner_set_spinning (self->spinner, busy);
  gtk_widget_set_sensitive (GTK_WIDGET (self->launch_button), !busy);
  gtk_widget_set_sensitive (GTK_WIDGET (self->coverage_button), !busy);
  gtk_widget_set_sensitive (GTK_WIDGET (self->probes_button), !busy);
  gtk_widget_set_sensitive (GTK_WIDGET (self->diff_button), !busy);
}

static char *
probe_caption (const WbProbeReport *r)
{
  GString *s = g_string_new (NULL);

  g_string_append_printf (s, "probes of %s", r->kernel ? r->kernel : "kernel");
  for (guint n = 0; n <= r->max_checkpoint; n++)
    if (r->counts[n] > 0)
      {
        if (n == 0)
          g_string_append_printf (s, "\ncp 0: %.1f%% stopped before checkpoint 1",
                                  wb_probe_report_percent (r, 0));
        else if (n < r->max_checkpoint)
          g_string_append_printf (s, "\ncp %u: after checkpoint %u, %.1f%% stopped", n, n,
                                  wb_probe_report_percent (r, n));
        else
          g_string_append_printf (s, "\ncp %u: %.1f%% reached checkpoint %u", n,
                                  wb_probe_report_percent (r, n), n);
      }
  return g_string_free (s, FALSE);
}

static void
show_diff_map (WbDebugPanel *self,
               ToolJob      *job)
{
  WbCompareField *f = wb_compare_report_field (job->diff, job->diff_field);
  g_autoptr(WbImage) image = NULL;
  g_autoptr(GBytes) bytes = NULL;
  g_autoptr(GdkTexture) texture = NULL;
  g_autoptr(WbField) logmap = NULL;
  WbRenderOptions opts;

  gtk_widget_set_visible (GTK_WIDGET (self->diff_picture), FALSE);
  if (f == NULL || f->error_map == NULL)
    return;
  /* log10 of the error around the tolerance, non-finite errors (one side
   * NaN: a sentinel or garbage) at the top: a few wrong cells stand out
   * next to rounding noise. */
  {
    double thr = job->diff->tolerance * (f->scale > 0 ? f->scale : 1.0);
    gsize n = wb_field_n_elements (f->error_map);
    g_autofree char *title = g_strdup_printf ("log10 %s", f->error_map->name);

    logmap = wb_field_copy (f->error_map);
    g_free (logmap->name);
    logmap->name = g_strdup (title);
    for (gsize c = 0; c < n; c++)
      {
        double e = f->error_map->data[c];
        logmap->data[c] = isfinite (e) ? (float) log10 (MAX (e, thr * 1e-6)) : (float) log10 (thr * 1e6);
      }
    wb_render_options_init (&opts);
    opts.fixed_range = TRUE;
    opts.vmin = log10 (thr) - 6;
    opts.vmax = log10 (thr) + 6;
  }
  opts.colormap = WB_COLORMAP_HOT;
  opts.slice_axis = 2;
  /* The slice through the first excess, else the middle. */
  opts.slice_index = job->diff->exceeded && f->error_map->ndim == 3 ? (gssize) job->diff->first_ijk[2] : -1;
  opts.title = logmap->name;
  image = wb_render_field (logmap, &opts, NULL);
  if (image == NULL)
    return;
  bytes = g_bytes_new (image->rgba, (gsize) image->width * image->height * 4);
  texture = gdk_memory_texture_new (image->width, image->height, GDK_MEMORY_R8G8B8A8,
                                    bytes, (gsize) image->width * 4);
  gtk_picture_set_paintable (self->diff_picture, GDK_PAINTABLE (texture));
  gtk_widget_set_visible (GTK_WIDGET (self->diff_picture), TRUE);
}

static void
tool_done (GObject      *source,
           GAsyncResult *result,
           gpointer      data)
{
  WbDebugPanel *self = data;
  GTask *task = G_TASK (result);
  ToolJob *job = g_task_get_task_data (task);
  g_autoptr(GError) error = NULL;

  if (!g_task_propagate_boolean (task, &error))
    {
      if (!g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
        {
          g_autofree char *msg = g_strdup_printf (_("Error: %s"), error->message);
          gtk_label_set_text (self->result_label, msg);
          set_busy (self, FALSE);
        }
      g_object_unref (self);
      return;
    }
  set_busy (self, FALSE);
  gtk_label_set_text (self->result_label, job->text ? job->text : "");
  if (job->coverage)
    {
      g_clear_pointer (&self->coverage, wb_field_unref);
      self->coverage = wb_field_ref (job->coverage->map);
      g_free (self->overlay_caption);
      self->overlay_caption = g_strdup_printf ("coverage of %s (sentinel)\nunwritten: %"
                                               G_GUINT64_FORMAT " of %" G_GUINT64_FORMAT " cells (%.1f%%)",
                                               job->coverage->field, job->coverage->n_unwritten,
                                               job->coverage->n_cells,
                                               100.0 * job->coverage->n_unwritten / MAX (job->coverage->n_cells, 1));
      gtk_drop_down_set_selected (self->overlay_dropdown, WB_DEBUG_OVERLAY_COVERAGE);
    }
  if (job->probes)
    {
      g_clear_pointer (&self->probes, wb_field_unref);
      self->probes = wb_field_ref (job->probes->map);
      self->probe_max = job->probes->max_checkpoint;
      g_free (self->overlay_caption);
      self->overlay_caption = probe_caption (job->probes);
      gtk_drop_down_set_selected (self->overlay_dropdown, WB_DEBUG_OVERLAY_PROBES);
    }
  if (job->diff)
    show_diff_map (self, job);
  gtk_widget_queue_draw (GTK_WIDGET (self->overlay_area));
  if (self->demo_path)
    {
      /* Let the overlay and the view draw before the capture. */
      g_timeout_add_once (800, (GSourceOnceFunc) demo_capture, self);
    }
  g_object_unref (self);
}

static WbDevice *
lookup_device (const char *id)
{
  g_autoptr(GPtrArray) devices = wb_device_list (NULL);
  return wb_device_lookup (devices, id, NULL, NULL);
}

void
wb_debug_panel_run_tool (WbDebugPanel *self,
                         WbDebugTool   tool)
{
  const WbRunnerInfo *info = wb_runner_get_info (self->runner);
  g_autoptr(GTask) task = NULL;
  g_autoptr(GError) error = NULL;
  const char *local = gtk_editable_get_text (GTK_EDITABLE (self->local_entry));
  guint variant = gtk_drop_down_get_selected (self->variant_dropdown);
  JsonObject *root, *dbg;
  ToolJob *job;

  g_return_if_fail (WB_IS_DEBUG_PANEL (self));
  if (self->busy)
    return;
  if (info == NULL || info->preset == NULL)
    {
      gtk_label_set_text (self->result_label, _("Load a preset first."));
      return;
    }
  job = g_new0 (ToolJob, 1);
  job->tool = tool;
  job->preset = wb_preset_copy (info->preset);
  job->device = lookup_device (info->device_id);
  job->reference = lookup_device ("reference");
  if (job->device == NULL || wb_device_is_reference (job->device))
    {
      /* The tools look at kernels: pick an OpenCL device. */
      g_clear_pointer (&job->device, wb_device_unref);
      job->device = lookup_device ("auto");
    }
  if (job->device == NULL || wb_device_is_reference (job->device))
    {
      gtk_label_set_text (self->result_label,
                          _("The debugging tools need an OpenCL device; none was found."));
      tool_job_free (job);
      return;
    }
  /* The panel's variant and local size go into the copy's "debug" section. */
  root = json_node_get_object (job->preset->root);
  if (variant > 0 || (local && *local))
    {
      if (!json_object_has_member (root, "debug"))
        json_object_set_object_member (root, "debug", json_object_new ());
      dbg = json_object_get_object_member (root, "debug");
      if (variant > 0)
        json_object_set_string_member (dbg, "variant",
                                       variant == 1 ? "none" : variant == 2 ? "early-bounds" : "grid-in-groups");
      if (local && *local)
        {
          gsize l[3];
          JsonArray *a;

          if (!wb_kernel_config_parse_local (local, l, &error))
            {
              gtk_label_set_text (self->result_label, error->message);
              tool_job_free (job);
              return;
            }
          a = json_array_new ();
          for (guint d = 0; d < 3; d++)
            json_array_add_int_element (a, (gint64) l[d]);
          json_object_set_array_member (dbg, "local_size", a);
        }
    }
  set_busy (self, TRUE);
  gtk_label_set_text (self->result_label, _("Running…"));
  task = g_task_new (NULL, self->cancellable, tool_done, g_object_ref (self));
  g_task_set_task_data (task, job, (GDestroyNotify) tool_job_free);
  g_task_run_in_thread (task, tool_thread);
}

static void
on_launch_clicked (WbDebugPanel *self)
{
  wb_debug_panel_run_tool (self, WB_DEBUG_TOOL_LAUNCH);
}

static void
on_coverage_clicked (WbDebugPanel *self)
{
  wb_debug_panel_run_tool (self, WB_DEBUG_TOOL_COVERAGE);
}

static void
on_probes_clicked (WbDebugPanel *self)
{
  wb_debug_panel_run_tool (self, WB_DEBUG_TOOL_PROBES);
}

static void
on_diff_clicked (WbDebugPanel *self)
{
  wb_debug_panel_run_tool (self, WB_DEBUG_TOOL_DIFF);
}

static void
on_edit_clicked (WbDebugPanel *self)
{
  if (self->editor == NULL)
    {
      self->editor = GTK_WINDOW (wb_debug_editor_new (self->window, self->runner));
      g_object_add_weak_pointer (G_OBJECT (self->editor), (gpointer *) &self->editor);
    }
  gtk_window_present (self->editor);
}

static void
on_loaded (WbDebugPanel *self)
{
  /* Maps of another preset would not line up. */
  const WbRunnerInfo *info = wb_runner_get_info (self->runner);
  WbField *map = self->coverage ? self->coverage : self->probes;

  if (map && info && memcmp (map->shape, info->shape, sizeof info->shape) != 0)
    {
      g_clear_pointer (&self->coverage, wb_field_unref);
      g_clear_pointer (&self->probes, wb_field_unref);
      gtk_drop_down_set_selected (self->overlay_dropdown, WB_DEBUG_OVERLAY_NONE);
    }
  if (self->demo_tool && !self->demo_started)
    {
      WbDebugTool tool = g_str_equal (self->demo_tool, "probes") ? WB_DEBUG_TOOL_PROBES
                       : g_str_equal (self->demo_tool, "diff") ? WB_DEBUG_TOOL_DIFF
                       : g_str_equal (self->demo_tool, "launch") ? WB_DEBUG_TOOL_LAUNCH
                       : WB_DEBUG_TOOL_COVERAGE;
      const char *slice = g_getenv ("WB_DEBUG_DEMO_SLICE");

      self->demo_started = TRUE;
      if (g_str_equal (self->demo_tool, "editor"))
        {
          g_timeout_add_once (500, (GSourceOnceFunc) demo_editor, self);
          return;
        }
      /* "z:12": the window's slice controls, so that they show it too. */
      if (slice && strlen (slice) > 2 && slice[1] == ':' && strchr ("xyz", slice[0]))
        {
          GObject *axis = gtk_widget_get_template_child (GTK_WIDGET (self->window), WB_TYPE_WINDOW,
                                                         "slice_axis_dropdown");
          GObject *index = gtk_widget_get_template_child (GTK_WIDGET (self->window), WB_TYPE_WINDOW,
                                                          "slice_spin");
          if (GTK_IS_DROP_DOWN (axis) && GTK_IS_SPIN_BUTTON (index))
            {
              gtk_drop_down_set_selected (GTK_DROP_DOWN (axis), slice[0] - 'x');
              gtk_spin_button_set_value (GTK_SPIN_BUTTON (index), g_ascii_strtod (slice + 2, NULL));
            }
        }
      wb_debug_panel_present (self);
      wb_debug_panel_run_tool (self, tool);
    }
}

/* --- documentation screenshots ------------------------------------------ */

static void demo_capture_widget (WbDebugPanel *self, GtkWidget *widget);

/* Editor demo: a slip (a missing semicolon) rebuilt with Ctrl+B. */
static gboolean
demo_editor_poll (gpointer data)
{
  WbDebugPanel *self = data;

  if (self->editor == NULL)
    return G_SOURCE_REMOVE;
  if (wb_debug_editor_is_building (WB_DEBUG_EDITOR (self->editor)))
    return G_SOURCE_CONTINUE;
  demo_capture_widget (self, GTK_WIDGET (self->editor));
  return G_SOURCE_REMOVE;
}

static void
demo_editor (WbDebugPanel *self)
{
  on_edit_clicked (self);
  if (!wb_debug_editor_replace (WB_DEBUG_EDITOR (self->editor), "Tn = T + dT;", "Tn = T + dT"))
    g_printerr ("wavebench: the demo edit found nothing to change\n");
  wb_debug_editor_rebuild (WB_DEBUG_EDITOR (self->editor));
  g_timeout_add_full (G_PRIORITY_DEFAULT, 1500, demo_editor_poll, self, NULL);
}

static void
demo_capture (WbDebugPanel *self)
{
  demo_capture_widget (self, gtk_widget_get_parent (GTK_WIDGET (self->overlay_area)));
  demo_capture_widget (self, GTK_WIDGET (self->window));
}

static void
demo_capture_widget (WbDebugPanel *self,
                     GtkWidget    *widget)
{
  int w = gtk_widget_get_width (widget), h = gtk_widget_get_height (widget);
  g_autoptr(GdkPaintable) paintable = gtk_widget_paintable_new (widget);
  g_autoptr(GdkTexture) texture = NULL;
  GtkSnapshot *snapshot = gtk_snapshot_new ();
  GskRenderNode *node;

  g_autofree char *path = NULL;
  gboolean view = widget != GTK_WIDGET (self->window);

  if (view)
    {
      g_free (self->demo_geometry);
      self->demo_geometry = overlay_geometry (self);
      path = g_str_has_suffix (self->demo_path, ".png")
             ? g_strdup_printf ("%.*s-view.png", (int) strlen (self->demo_path) - 4, self->demo_path)
             : g_strdup_printf ("%s-view.png", self->demo_path);
    }
  else
    path = g_strdup (self->demo_path);
  gdk_paintable_snapshot (paintable, snapshot, w, h);
  node = gtk_snapshot_free_to_node (snapshot);
  if (node != NULL)
    {
      texture = gsk_renderer_render_texture (gtk_native_get_renderer (gtk_widget_get_native (widget)), node,
                                             &GRAPHENE_RECT_INIT (0, 0, w, h));
      gsk_render_node_unref (node);
      if (gdk_texture_save_to_png (texture, path))
        {
          g_printerr ("wavebench: wrote %s\n", path);
          if (view && self->demo_geometry)
            g_print ("overlay-geometry %s\n", self->demo_geometry);
        }
      else
        g_printerr ("wavebench: could not write %s\n", path);
    }
  if (!view)
    g_application_quit (g_application_get_default ());
}

/* --- class ------------------------------------------------------------ */

static void
wb_debug_panel_dispose (GObject *object)
{
  WbDebugPanel *self = WB_DEBUG_PANEL (object);

  g_cancellable_cancel (self->cancellable);
  if (self->editor)
    gtk_window_destroy (self->editor);
  if (self->runner)
    g_signal_handlers_disconnect_by_data (self->runner, self);
  gtk_widget_dispose_template (GTK_WIDGET (self), WB_TYPE_DEBUG_PANEL);
  G_OBJECT_CLASS (wb_debug_panel_parent_class)->dispose (object);
}

static void
wb_debug_panel_finalize (GObject *object)
{
  WbDebugPanel *self = WB_DEBUG_PANEL (object);

  g_clear_object (&self->cancellable);
  g_clear_pointer (&self->coverage, wb_field_unref);
  g_clear_pointer (&self->probes, wb_field_unref);
  g_free (self->overlay_caption);
  g_free (self->demo_tool);
  g_free (self->demo_path);
  g_free (self->demo_geometry);
  G_OBJECT_CLASS (wb_debug_panel_parent_class)->finalize (object);
}

static void
wb_debug_panel_class_init (WbDebugPanelClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  GtkWidgetClass *widget_class = GTK_WIDGET_CLASS (klass);

  object_class->dispose = wb_debug_panel_dispose;
  object_class->finalize = wb_debug_panel_finalize;

  gtk_widget_class_set_template_from_resource (widget_class, "/org/wavebench/Wavebench/ui/wb-debug-panel.ui");
  gtk_widget_class_bind_template_child (widget_class, WbDebugPanel, variant_dropdown);
  gtk_widget_class_bind_template_child (widget_class, WbDebugPanel, local_entry);
  gtk_widget_class_bind_template_child (widget_class, WbDebugPanel, launch_button);
  gtk_widget_class_bind_template_child (widget_class, WbDebugPanel, coverage_button);
  gtk_widget_class_bind_template_child (widget_class, WbDebugPanel, probes_button);
  gtk_widget_class_bind_template_child (widget_class, WbDebugPanel, diff_button);
  gtk_widget_class_bind_template_child (widget_class, WbDebugPanel, overlay_dropdown);
  gtk_widget_class_bind_template_child (widget_class, WbDebugPanel, spinner);
  gtk_widget_class_bind_template_child (widget_class, WbDebugPanel, result_label);
  gtk_widget_class_bind_template_child (widget_class, WbDebugPanel, diff_picture);
  gtk_widget_class_bind_template_callback (widget_class, on_launch_clicked);
  gtk_widget_class_bind_template_callback (widget_class, on_coverage_clicked);
  gtk_widget_class_bind_template_callback (widget_class, on_probes_clicked);
  gtk_widget_class_bind_template_callback (widget_class, on_diff_clicked);
  gtk_widget_class_bind_template_callback (widget_class, on_edit_clicked);
}

static void
wb_debug_panel_init (WbDebugPanel *self)
{
  const char *demo = g_getenv ("WB_DEBUG_DEMO");

  gtk_widget_init_template (GTK_WIDGET (self));
  self->cancellable = g_cancellable_new ();
  g_signal_connect_swapped (self->overlay_dropdown, "notify::selected",
                            G_CALLBACK (on_overlay_selected), self);
  if (demo && strchr (demo, ':'))
    {
      const char *colon = strchr (demo, ':');
      self->demo_tool = g_strndup (demo, colon - demo);
      self->demo_path = g_strdup (colon + 1);
    }
}

WbDebugPanel *
wb_debug_panel_attach (GtkWindow   *window,
                       GtkWidget   *param_panel,
                       WbFieldView *view,
                       WbRunner    *runner)
{
  WbDebugPanel *self = g_object_new (WB_TYPE_DEBUG_PANEL, NULL);
  GtkWidget *paned = gtk_widget_get_parent (param_panel);
  GtkWidget *overlay = gtk_widget_get_parent (GTK_WIDGET (view));
  GtkWidget *box, *switcher;

  g_return_val_if_fail (GTK_IS_PANED (paned), NULL);
  g_return_val_if_fail (GTK_IS_OVERLAY (overlay), NULL);

  self->window = window;
  self->view = view;
  self->runner = runner;

  /* Parameters and Debug become two pages where the parameters were. */
  self->stack = GTK_STACK (gtk_stack_new ());
  gtk_stack_set_transition_type (self->stack, GTK_STACK_TRANSITION_TYPE_CROSSFADE);
  g_object_ref (param_panel);
  gtk_paned_set_end_child (GTK_PANED (paned), NULL);
  gtk_stack_add_titled (self->stack, param_panel, "parameters", _("Parameters"));
  g_object_unref (param_panel);
  gtk_stack_add_titled (self->stack, GTK_WIDGET (self), "debug", _("Debug"));
  switcher = gtk_stack_switcher_new ();
  gtk_stack_switcher_set_stack (GTK_STACK_SWITCHER (switcher), self->stack);
  gtk_widget_set_halign (switcher, GTK_ALIGN_CENTER);
  gtk_widget_set_margin_top (switcher, 6);
  box = gtk_box_new (GTK_ORIENTATION_VERTICAL, 0);
  gtk_box_append (GTK_BOX (box), switcher);
  gtk_widget_set_vexpand (GTK_WIDGET (self->stack), TRUE);
  gtk_box_append (GTK_BOX (box), GTK_WIDGET (self->stack));
  gtk_paned_set_end_child (GTK_PANED (paned), box);

  self->overlay_area = GTK_DRAWING_AREA (gtk_drawing_area_new ());
  gtk_widget_set_can_target (GTK_WIDGET (self->overlay_area), FALSE);
  gtk_drawing_area_set_draw_func (self->overlay_area, draw_overlay, self, NULL);
  gtk_overlay_add_overlay (GTK_OVERLAY (overlay), GTK_WIDGET (self->overlay_area));
  g_signal_connect_object (view, "view-changed", G_CALLBACK (gtk_widget_queue_draw),
                           self->overlay_area, G_CONNECT_SWAPPED);
  g_signal_connect_swapped (runner, "loaded", G_CALLBACK (on_loaded), self);
  return self;
}
