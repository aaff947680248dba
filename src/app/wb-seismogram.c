#define G_LOG_DOMAIN "wb-seismogram"
#include "config.h"

#include <math.h>
#include <string.h>
#include <adwaita.h>
#include <glib/gi18n.h>

#include "wb-colorbar.h"
#include "wb-colormap.h"
#include "wb-error.h"
#include "wb-io.h"
#include "wb-npy.h"
#include "wb-render.h"
#include "wb-seismogram.h"

/* Live reads are at most this often: a trace read waits for the device
 * queue, and ten a second is smooth enough for traces that grow. */
#define READ_INTERVAL_USEC (G_USEC_PER_SEC / 10)
/* A wiggle's peak at gain 1 spans this fraction of the trace spacing, and
 * a wiggle is clipped at this many spacings, as seismic displays do so
 * that a high gain shows weak arrivals without painting over the panel. */
#define WIGGLE_PEAK 0.8
#define WIGGLE_CLIP 1.5
/* Pixels between neighbouring wiggles at least (fewer traces drawn). */
#define WIGGLE_MIN_SPACING 5.0
/* Samples per trace drawn at most: more than any screen shows. */
#define IMAGE_MAX_SAMPLES 4096

struct _WbSeismogram
{
  GtkWidget         parent_instance;

  /* Template widgets */
  GtkWidget        *toolbar;
  GtkDropDown      *quantity_dropdown;
  GtkToggleButton  *wiggle_button;
  GtkToggleButton  *image_button;
  GtkToggleButton  *across_button;
  GtkDropDown      *norm_dropdown;
  GtkSpinButton    *gain_spin;
  GtkDrawingArea   *area;

  /* Owned */
  WbRunner         *runner;
  GCancellable     *cancellable;
  GPtrArray        *traces;           /* WbTrace*, the last read */
  GStrv             quantities;       /* rows of quantity_dropdown */
  GArray           *shown;            /* guint indices into traces */
  double            t_end;            /* planned duration of the run, s */
  guint             generation;       /* bumped per loaded simulation */
  gboolean          in_flight;        /* a live read is queued */
  gboolean          dirty;            /* stepped since the last read */
  gboolean          read_unmapped;    /* read once even while hidden */
  gint64            last_read;
  guint             read_timer;
  gboolean          has_traces;
  gboolean          updating;
  guint64           draws;            /* paints of the area, for scripts */
  guint             live_reads;       /* reads that brought new samples */

  /* Scripted mode */
  GStrv             script_shots;
  guint             script_shot;
  guint64           script_draws;
  gboolean          script_ok;
  WbSeismogramScriptDone script_done;
  gpointer          script_data;
  gulong            script_paint_id;
  GdkFrameClock    *script_clock;
};

G_DEFINE_FINAL_TYPE (WbSeismogram, wb_seismogram, GTK_TYPE_WIDGET)

enum {
  PROP_0,
  PROP_HAS_TRACES,
  N_PROPS
};

static GParamSpec *properties[N_PROPS];

static void maybe_read (WbSeismogram *self);

/* --- exports ------------------------------------------------------------ */

static guint
max_samples (GPtrArray *traces)
{
  guint n = 0;

  for (guint t = 0; t < traces->len; t++)
    n = MAX (n, ((WbTrace *) g_ptr_array_index (traces, t))->n);
  return n;
}

char *
wb_traces_to_csv (GPtrArray *traces)
{
  GString *s = g_string_new ("time_s");
  guint n;
  double dt = 0;
  char buf[G_ASCII_DTOSTR_BUF_SIZE];

  g_return_val_if_fail (traces != NULL, NULL);

  n = max_samples (traces);
  for (guint t = 0; t < traces->len; t++)
    {
      WbTrace *tr = g_ptr_array_index (traces, t);
      gboolean units = tr->units && *tr->units;

      g_string_append_printf (s, ",%s%s%s%s", tr->name, units ? " [" : "",
                              units ? tr->units : "", units ? "]" : "");
      dt = tr->dt;
    }
  g_string_append_c (s, '\n');
  for (guint i = 0; i < n; i++)
    {
      g_string_append (s, g_ascii_formatd (buf, sizeof buf, "%.9g", i * dt));
      for (guint t = 0; t < traces->len; t++)
        {
          WbTrace *tr = g_ptr_array_index (traces, t);

          g_string_append_c (s, ',');
          if (i < tr->n)
            g_string_append (s, g_ascii_formatd (buf, sizeof buf, "%.9g", tr->values[i]));
        }
      g_string_append_c (s, '\n');
    }
  return g_string_free (s, FALSE);
}

gboolean
wb_traces_write_csv (GPtrArray   *traces,
                     const char  *path,
                     GError     **error)
{
  g_autofree char *csv = NULL;

  g_return_val_if_fail (traces != NULL, FALSE);
  g_return_val_if_fail (path != NULL, FALSE);

  csv = wb_traces_to_csv (traces);
  return wb_file_write_atomic (path, csv, strlen (csv), error);
}

gboolean
wb_traces_write_npy (GPtrArray   *traces,
                     const char  *path,
                     GError     **error)
{
  guint n;
  g_autofree float *data = NULL;

  g_return_val_if_fail (traces != NULL, FALSE);
  g_return_val_if_fail (path != NULL, FALSE);

  if (traces->len == 0)
    {
      g_set_error (error, WB_ERROR, WB_ERROR_NOT_FOUND, _("The simulation has no sensor traces"));
      return FALSE;
    }
  n = max_samples (traces);
  data = g_new (float, MAX ((gsize) traces->len * n, 1));
  for (guint t = 0; t < traces->len; t++)
    {
      WbTrace *tr = g_ptr_array_index (traces, t);

      for (guint i = 0; i < n; i++)
        data[(gsize) t * n + i] = i < tr->n ? tr->values[i] : NAN;
    }
  return wb_npy_write_matrix (data, traces->len, n, path, error);
}

/* --- traces and what is shown -------------------------------------------- */

/* "sensor 3 Pressure" records "Pressure"; a name without a space is its
 * own quantity. */
static const char *
quantity_of (const WbTrace *trace)
{
  const char *space = strrchr (trace->name, ' ');

  return space ? space + 1 : trace->name;
}

/* "sensor 3 Pressure" -> "3", else the name without its quantity. */
static char *
short_label (const WbTrace *trace)
{
  const char *q = quantity_of (trace);
  g_autofree char *base = q > trace->name ? g_strndup (trace->name, q - 1 - trace->name)
                                          : g_strdup (trace->name);

  if (g_str_has_prefix (base, "sensor "))
    return g_strdup (base + strlen ("sensor "));
  return g_steal_pointer (&base);
}

static void
update_shown (WbSeismogram *self)
{
  guint q = gtk_drop_down_get_selected (self->quantity_dropdown);

  g_array_set_size (self->shown, 0);
  if (self->traces == NULL || self->quantities == NULL || q >= g_strv_length (self->quantities))
    return;
  for (guint t = 0; t < self->traces->len; t++)
    if (g_str_equal (quantity_of (g_ptr_array_index (self->traces, t)), self->quantities[q]))
      g_array_append_val (self->shown, t);
}

static void
set_has_traces (WbSeismogram *self,
                gboolean      has)
{
  if (self->has_traces == has)
    return;
  self->has_traces = has;
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_HAS_TRACES]);
}

/* Takes @traces (may be NULL: none). */
static void
set_traces (WbSeismogram *self,
            GPtrArray    *traces)
{
  g_autoptr(GStrvBuilder) builder = g_strv_builder_new ();
  g_auto(GStrv) quantities = NULL;

  g_clear_pointer (&self->traces, g_ptr_array_unref);
  self->traces = traces;

  for (guint t = 0; traces && t < traces->len; t++)
    {
      const char *q = quantity_of (g_ptr_array_index (traces, t));
      gboolean seen = FALSE;

      for (guint u = 0; u < t && !seen; u++)
        seen = g_str_equal (quantity_of (g_ptr_array_index (traces, u)), q);
      if (!seen)
        g_strv_builder_add (builder, q);
    }
  quantities = g_strv_builder_end (builder);

  /* The dropdown changes only with the set of quantities, so the user's
   * choice survives the live updates. */
  if (self->quantities == NULL
      || !g_strv_equal ((const char * const *) quantities, (const char * const *) self->quantities))
    {
      g_autoptr(GtkStringList) model = gtk_string_list_new ((const char * const *) quantities);
      g_autofree char *previous = NULL;
      guint selected = 0;

      if (self->quantities != NULL)
        {
          guint old = gtk_drop_down_get_selected (self->quantity_dropdown);

          if (old < g_strv_length (self->quantities))
            previous = g_strdup (self->quantities[old]);
        }
      for (guint i = 0; previous && quantities[i]; i++)
        if (g_str_equal (quantities[i], previous))
          selected = i;
      g_strfreev (self->quantities);
      self->quantities = g_steal_pointer (&quantities);
      self->updating = TRUE;
      gtk_drop_down_set_model (self->quantity_dropdown, G_LIST_MODEL (model));
      gtk_drop_down_set_selected (self->quantity_dropdown, selected);
      self->updating = FALSE;
    }
  update_shown (self);
  set_has_traces (self, traces != NULL && traces->len > 0);
  gtk_widget_queue_draw (GTK_WIDGET (self->area));
}

/* --- live reads ----------------------------------------------------------- */

typedef struct
{
  WbSeismogram *self;
  guint         generation;
} ReadJob;

static void
read_done (GObject      *source,
           GAsyncResult *result,
           gpointer      data)
{
  ReadJob *job = data;
  WbSeismogram *self = job->self;
  g_autoptr(GError) error = NULL;
  GPtrArray *traces = wb_runner_read_traces_finish (WB_RUNNER (source), result, &error);

  if (g_cancellable_is_cancelled (self->cancellable))
    {
      g_clear_pointer (&traces, g_ptr_array_unref);
      goto out;
    }
  if (job->generation != self->generation)
    g_clear_pointer (&traces, g_ptr_array_unref);   /* from the previous simulation */
  else
    self->in_flight = FALSE;
  if (traces != NULL)
    {
      if (traces->len > 0 && (self->traces == NULL || self->traces->len == 0
                              || ((WbTrace *) g_ptr_array_index (traces, 0))->n
                                 != ((WbTrace *) g_ptr_array_index (self->traces, 0))->n))
        self->live_reads++;
      set_traces (self, traces);
    }
  else if (error != NULL && !g_error_matches (error, WB_ERROR, WB_ERROR_CANCELLED))
    g_debug ("reading the traces: %s", error->message);
  maybe_read (self);

out:
  g_object_unref (self);
  g_free (job);
}

static void
start_read (WbSeismogram *self)
{
  ReadJob *job = g_new0 (ReadJob, 1);

  job->self = g_object_ref (self);
  job->generation = self->generation;
  self->in_flight = TRUE;
  self->dirty = FALSE;
  self->read_unmapped = FALSE;
  self->last_read = g_get_monotonic_time ();
  wb_runner_read_traces_async (self->runner, self->cancellable, read_done, job);
}

static gboolean
read_timeout (gpointer data)
{
  WbSeismogram *self = data;

  self->read_timer = 0;
  maybe_read (self);
  return G_SOURCE_REMOVE;
}

/* One read in flight at most, at most READ_INTERVAL apart, and only while
 * someone can see the traces (or once after a load, to learn whether the
 * simulation has sensors at all). */
static void
maybe_read (WbSeismogram *self)
{
  gint64 wait;

  if (self->in_flight || self->read_timer != 0 || !self->dirty
      || wb_runner_get_info (self->runner) == NULL)
    return;
  if (!self->read_unmapped && !gtk_widget_get_mapped (GTK_WIDGET (self)))
    return;
  wait = self->last_read + READ_INTERVAL_USEC - g_get_monotonic_time ();
  if (wait > 0)
    {
      self->read_timer = g_timeout_add ((guint) (wait / 1000) + 1, read_timeout, self);
      return;
    }
  start_read (self);
}

static void
on_step (WbSeismogram *self)
{
  self->dirty = TRUE;
  maybe_read (self);
}

static void
on_loaded (WbSeismogram *self)
{
  const WbRunnerInfo *info = wb_runner_get_info (self->runner);

  self->generation++;
  self->in_flight = FALSE;    /* a read of the old simulation is ignored */
  self->t_end = info ? info->total_steps * info->dt : 0;
  set_traces (self, NULL);
  self->dirty = TRUE;
  self->read_unmapped = TRUE;
  maybe_read (self);
}

static void
wb_seismogram_map (GtkWidget *widget)
{
  WbSeismogram *self = WB_SEISMOGRAM (widget);

  GTK_WIDGET_CLASS (wb_seismogram_parent_class)->map (widget);
  maybe_read (self);
}

/* --- drawing -------------------------------------------------------------- */

typedef struct
{
  gboolean across;           /* time along x */
  double   x0, y0, w, h;     /* data rectangle */
  double   t_end;
  guint    n;                /* traces shown */
} Geom;

/* Pixel of trace-axis position @u (pixels from the first trace's edge)
 * and time @t. */
static void
geom_point (const Geom *g, double u, double t, double *x, double *y)
{
  double f = g->t_end > 0 ? t / g->t_end : 0;

  if (g->across)
    {
      *x = g->x0 + f * g->w;
      *y = g->y0 + u;
    }
  else
    {
      *x = g->x0 + u;
      *y = g->y0 + f * g->h;
    }
}

static double
geom_spacing (const Geom *g)
{
  return (g->across ? g->h : g->w) / MAX (g->n, 1);
}

static double
peak_of (const WbTrace *tr)
{
  double p = 0;

  for (guint i = 0; i < tr->n; i++)
    if (isfinite (tr->values[i]))
      p = MAX (p, fabs (tr->values[i]));
  return p;
}

/* The amplitude each shown trace is divided by (never zero). */
static void
norms (WbSeismogram *self, double *out, double *common)
{
  gboolean per_trace = gtk_drop_down_get_selected (self->norm_dropdown) == WB_SEISMOGRAM_NORM_TRACE;
  double c = 0;

  for (guint k = 0; k < self->shown->len; k++)
    {
      out[k] = peak_of (g_ptr_array_index (self->traces, g_array_index (self->shown, guint, k)));
      c = MAX (c, out[k]);
    }
  for (guint k = 0; k < self->shown->len; k++)
    out[k] = per_trace ? (out[k] > 0 ? out[k] : 1) : (c > 0 ? c : 1);
  *common = c;
}

static void
draw_text (cairo_t *cr, PangoLayout *layout, const char *text, double x, double y,
           double xalign, double yalign)
{
  int lw, lh;

  pango_layout_set_text (layout, text, -1);
  pango_layout_get_pixel_size (layout, &lw, &lh);
  cairo_move_to (cr, round (x - xalign * lw), round (y - yalign * lh));
  pango_cairo_show_layout (cr, layout);
}

static void
draw_wiggles (WbSeismogram *self, cairo_t *cr, const Geom *g, const double *norm,
              const GdkRGBA *fg)
{
  double spacing = geom_spacing (g), gain = gtk_spin_button_get_value (self->gain_spin);
  /* Wiggles closer than a few pixels merge into a solid block: draw every
   * k-th trace, at its own place, with the room of k traces. */
  guint every = (guint) MAX (1, ceil (WIGGLE_MIN_SPACING / spacing));
  double room = every * spacing, clip = WIGGLE_CLIP * room;
  /* Likewise along time: about two samples per pixel are enough. */
  guint step = 1;
  /* Positive amplitudes deflect right (time down) or up (time across). */
  double sign = g->across ? -1 : 1;

  cairo_save (cr);
  cairo_rectangle (cr, g->x0, g->y0, g->w, g->h);
  cairo_clip (cr);
  for (guint k = every / 2; k < self->shown->len; k += every)
    {
      WbTrace *tr = g_ptr_array_index (self->traces, g_array_index (self->shown, guint, k));
      double base = (k + 0.5) * spacing, scale = sign * gain * WIGGLE_PEAK * room / norm[k];
      double x, y;

      if (tr->n == 0)
        continue;
      step = MAX (1, tr->n / (guint) MAX (2 * (g->across ? g->w : g->h), 1));
#define DEFL(i) (isfinite (tr->values[i]) ? CLAMP (tr->values[i] * scale, -clip, clip) : 0)

      /* Baseline */
      cairo_set_line_width (cr, 1);
      cairo_set_source_rgba (cr, fg->red, fg->green, fg->blue, 0.2);
      geom_point (g, base, 0, &x, &y);
      cairo_move_to (cr, x, y);
      geom_point (g, base, g->t_end, &x, &y);
      cairo_line_to (cr, x, y);
      cairo_stroke (cr);

      /* Variable area: the positive lobes filled, closed along the
       * baseline through the zero crossings. */
      geom_point (g, base, 0, &x, &y);
      cairo_move_to (cr, x, y);
      for (guint i = 0; i < tr->n; i += step)
        {
          double d = DEFL (i) * sign, t = i * tr->dt;

          if (i > 0)
            {
              double dp = DEFL (i - step) * sign;

              if ((dp > 0) != (d > 0) && dp != d)
                {
                  double tc = (i - step + step * dp / (dp - d)) * tr->dt;

                  geom_point (g, base, tc, &x, &y);
                  cairo_line_to (cr, x, y);
                }
            }
          geom_point (g, base + MAX (d, 0) * sign, t, &x, &y);
          cairo_line_to (cr, x, y);
        }
      geom_point (g, base, (tr->n - 1) * tr->dt, &x, &y);
      cairo_line_to (cr, x, y);
      cairo_close_path (cr);
      cairo_set_source_rgba (cr, fg->red, fg->green, fg->blue, 0.85);
      cairo_fill (cr);

      /* The whole wiggle */
      for (guint i = 0; i < tr->n; i += step)
        {
          geom_point (g, base + DEFL (i), i * tr->dt, &x, &y);
          if (i == 0)
            cairo_move_to (cr, x, y);
          else
            cairo_line_to (cr, x, y);
        }
      cairo_set_line_width (cr, 1);
      cairo_set_source_rgba (cr, fg->red, fg->green, fg->blue, 1);
      cairo_stroke (cr);
#undef DEFL
    }
  cairo_restore (cr);
}

/* Traces as columns (time down) or rows (time across); samples not yet
 * recorded are left transparent. */
static void
draw_image (WbSeismogram *self, cairo_t *cr, const Geom *g, const double *norm)
{
  double gain = gtk_spin_button_get_value (self->gain_spin);
  const guint8 *table = wb_colormap_table (WB_COLORMAP_DIVERGING);
  double dt = ((WbTrace *) g_ptr_array_index (self->traces, 0))->dt;
  guint ns = dt > 0 ? (guint) floor (g->t_end / dt + 1e-6) + 1 : 1;
  guint n = g->n, iw, ih, d;
  cairo_surface_t *surface;
  cairo_pattern_t *pattern;
  cairo_matrix_t matrix;
  guint8 *pixels;
  int stride;

  for (guint k = 0; k < n; k++)
    ns = MAX (ns, ((WbTrace *) g_ptr_array_index (self->traces, g_array_index (self->shown, guint, k)))->n);
  /* Long records: every d-th sample, so that the image stays within
   * cairo's size limit and costs no more than the screen can show. */
  d = (ns + IMAGE_MAX_SAMPLES - 1) / IMAGE_MAX_SAMPLES;
  ns = (ns + d - 1) / d;
  iw = g->across ? ns : n;
  ih = g->across ? n : ns;
  surface = cairo_image_surface_create (CAIRO_FORMAT_ARGB32, iw, ih);
  if (cairo_surface_status (surface) != CAIRO_STATUS_SUCCESS)
    {
      g_debug ("no image of %u x %u: %s", iw, ih, cairo_status_to_string (cairo_surface_status (surface)));
      cairo_surface_destroy (surface);
      return;
    }
  pixels = cairo_image_surface_get_data (surface);
  stride = cairo_image_surface_get_stride (surface);
  memset (pixels, 0, (gsize) stride * ih);
  for (guint k = 0; k < n; k++)
    {
      WbTrace *tr = g_ptr_array_index (self->traces, g_array_index (self->shown, guint, k));

      for (guint i = 0; i < (tr->n + d - 1) / d; i++)
        {
          double v = tr->values[(gsize) i * d] * gain / norm[k];
          guint32 *px = (guint32 *) (pixels + (gsize) (g->across ? k : i) * stride) + (g->across ? i : k);
          const guint8 *rgb;

          if (!isfinite (v))
            {
              *px = 0xffff00ff;   /* magenta, as the colormaps show NaN */
              continue;
            }
          rgb = table + 3 * (int) floor ((CLAMP (v, -1, 1) + 1) / 2 * 255 + 0.5);
          *px = 0xff000000u | (rgb[0] << 16) | (rgb[1] << 8) | rgb[2];
        }
    }
  cairo_surface_mark_dirty (surface);

  pattern = cairo_pattern_create_for_surface (surface);
  /* Sample i is the value at time i dt: centre it on its time. */
  {
    double per_sample = (g->across ? g->w : g->h) / MAX (g->t_end / MAX (dt, 1e-300), 1e-300);
    double sx = g->across ? per_sample * d : g->w / n;
    double sy = g->across ? g->h / n : per_sample * d;
    double ox = g->x0 - (g->across ? per_sample * d / 2 : 0);
    double oy = g->y0 - (g->across ? 0 : per_sample * d / 2);

    cairo_matrix_init_scale (&matrix, 1 / sx, 1 / sy);
    cairo_matrix_translate (&matrix, -ox, -oy);
  }
  cairo_pattern_set_matrix (pattern, &matrix);
  cairo_pattern_set_filter (pattern, CAIRO_FILTER_NEAREST);
  cairo_save (cr);
  cairo_rectangle (cr, g->x0, g->y0, g->w, g->h);
  cairo_clip (cr);
  cairo_set_source (cr, pattern);
  cairo_paint (cr);
  cairo_restore (cr);
  cairo_pattern_destroy (pattern);
  cairo_surface_destroy (surface);
}

static void
draw_colorbar (WbSeismogram *self, cairo_t *cr, PangoLayout *layout, double x, double y0,
               double h, double range, const char *units, const GdkRGBA *fg)
{
  const guint8 *table = wb_colormap_table (WB_COLORMAP_DIVERGING);
  char buf[64];

  for (int r = 0; r < (int) h; r++)
    {
      int i = (int) floor ((1 - (r + 0.5) / h) * 255 + 0.5);

      cairo_set_source_rgb (cr, table[3 * i] / 255.0, table[3 * i + 1] / 255.0, table[3 * i + 2] / 255.0);
      cairo_rectangle (cr, x, y0 + r, 10, 1);
      cairo_fill (cr);
    }
  gdk_cairo_set_source_rgba (cr, fg);
  g_snprintf (buf, sizeof buf, "%+.3g %s", range, units ? units : "");
  draw_text (cr, layout, buf, x + 14, y0, 0, 0);
  draw_text (cr, layout, "0", x + 14, y0 + h / 2, 0, 0.5);
  g_snprintf (buf, sizeof buf, "%+.3g", -range);
  draw_text (cr, layout, buf, x + 14, y0 + h, 0, 1);
}

static void
draw_area (GtkDrawingArea *area,
           cairo_t        *cr,
           int             W,
           int             H,
           gpointer        data)
{
  WbSeismogram *self = data;
  g_autoptr(PangoLayout) layout = gtk_widget_create_pango_layout (GTK_WIDGET (area), NULL);
  g_autofree double *norm = NULL;
  gboolean image = gtk_toggle_button_get_active (self->image_button);
  const WbTrace *first;
  double common, t_end, tscale, ticks[16], label_every;
  int label_w, label_h;
  const char *tunit;
  char buf[128];
  GdkRGBA fg;
  Geom g;
  guint nt;

  self->draws++;
G_GNUC_BEGIN_IGNORE_DEPRECATIONS
  gtk_style_context_get_color (gtk_widget_get_style_context (GTK_WIDGET (self)), &fg);
G_GNUC_END_IGNORE_DEPRECATIONS

  if (self->traces == NULL || self->shown->len == 0)
    {
      fg.alpha = 0.6;
      gdk_cairo_set_source_rgba (cr, &fg);
      draw_text (cr, layout, self->traces == NULL ? _("Waiting for traces…")
                                                  : _("This simulation has no sensors"),
                 W / 2.0, H / 2.0, 0.5, 0.5);
      return;
    }

  first = g_ptr_array_index (self->traces, g_array_index (self->shown, guint, 0));
  t_end = MAX (self->t_end, first->n > 0 ? (first->n - 1) * first->dt : 0);
  if (!(t_end > 0))
    t_end = MAX (first->dt, 1e-300);
  norm = g_new (double, self->shown->len);
  norms (self, norm, &common);

  /* The widest trace label sets the margin it needs (time across) and
   * how many labels fit (time down). */
  label_w = label_h = 0;
  for (guint k = 0; k < self->shown->len; k++)
    {
      g_autofree char *label = short_label (g_ptr_array_index (self->traces, g_array_index (self->shown, guint, k)));
      int lw, lh;

      pango_layout_set_text (layout, label, -1);
      pango_layout_get_pixel_size (layout, &lw, &lh);
      label_w = MAX (label_w, lw);
      label_h = MAX (label_h, lh);
    }
  label_w = MIN (label_w, 160);

  g.across = gtk_toggle_button_get_active (self->across_button);
  g.n = self->shown->len;
  g.t_end = t_end;
  /* Time down: title, then trace labels above the traces, time ticks on
   * the left.  Time across: title, trace labels on the left, time ticks
   * below. */
  g.x0 = g.across ? MAX (label_w + 12, 48) : 56;
  g.y0 = g.across ? label_h + 8 : 2 * label_h + 10;
  g.w = MAX (W - g.x0 - (image ? 110 : 12), 10);
  g.h = MAX (H - g.y0 - (g.across ? label_h + 10 : 8), 10);

  if (image)
    draw_image (self, cr, &g, norm);
  else
    draw_wiggles (self, cr, &g, norm, &fg);

  /* Frame */
  cairo_set_line_width (cr, 1);
  cairo_set_source_rgba (cr, fg.red, fg.green, fg.blue, 0.35);
  cairo_rectangle (cr, g.x0 + 0.5, g.y0 + 0.5, g.w - 1, g.h - 1);
  cairo_stroke (cr);

  /* Time axis, in the unit that keeps the numbers short. */
  if (t_end < 1e-3)
    tscale = 1e6, tunit = _("t (µs)");
  else if (t_end < 1)
    tscale = 1e3, tunit = _("t (ms)");
  else
    tscale = 1, tunit = _("t (s)");
  nt = wb_nice_ticks (0, t_end * tscale, g.across ? 6 : 4, ticks, G_N_ELEMENTS (ticks));
  gdk_cairo_set_source_rgba (cr, &fg);
  for (guint i = 0; i < nt; i++)
    {
      g_autofree char *label = wb_format_tick (ticks[i], nt > 1 ? ticks[1] - ticks[0] : ticks[0]);
      double x, y;

      if (ticks[i] < 0 || ticks[i] > t_end * tscale * (1 + 1e-9))
        continue;
      geom_point (&g, 0, ticks[i] / tscale, &x, &y);
      cairo_set_source_rgba (cr, fg.red, fg.green, fg.blue, 0.35);
      if (g.across)
        {
          cairo_move_to (cr, x + 0.5, g.y0 + g.h);
          cairo_line_to (cr, x + 0.5, g.y0 + g.h + 4);
        }
      else
        {
          cairo_move_to (cr, g.x0 - 4, y + 0.5);
          cairo_line_to (cr, g.x0, y + 0.5);
        }
      cairo_stroke (cr);
      gdk_cairo_set_source_rgba (cr, &fg);
      if (g.across)
        draw_text (cr, layout, label, x, g.y0 + g.h + 5, 0.5, 0);
      else
        draw_text (cr, layout, label, g.x0 - 6, y, 1, 0.5);
    }
  if (g.across)
    draw_text (cr, layout, tunit, 4, g.y0 + g.h + 5, 0, 0);
  else
    draw_text (cr, layout, tunit, 4, g.y0 - 2, 0, 1);

  /* Trace labels: every trace when they fit, else every k-th. */
  label_every = MAX (1, ceil (((g.across ? label_h : label_w) + 6.0) / geom_spacing (&g)));
  for (guint k = 0; k < g.n; k += (guint) label_every)
    {
      g_autofree char *label = short_label (g_ptr_array_index (self->traces, g_array_index (self->shown, guint, k)));
      double x, y, u = (k + 0.5) * geom_spacing (&g);

      geom_point (&g, u, 0, &x, &y);
      if (g.across)
        draw_text (cr, layout, label, g.x0 - 6, y, 1, 0.5);
      else
        draw_text (cr, layout, label, x, g.y0 - 2, 0.5, 1);
    }

  /* Title: the quantity, its units and the scale in use. */
  {
    const char *units = first->units && *first->units ? first->units : "";
    const char *q = self->quantities[gtk_drop_down_get_selected (self->quantity_dropdown)];
    gboolean per_trace = gtk_drop_down_get_selected (self->norm_dropdown) == WB_SEISMOGRAM_NORM_TRACE;

    if (per_trace)
      g_snprintf (buf, sizeof buf, _("%s, each trace by its peak, largest %.3g %s"), q, common, units);
    else
      g_snprintf (buf, sizeof buf, _("%s, all traces by the peak %.3g %s"), q, common, units);
    draw_text (cr, layout, buf, g.x0, 2, 0, 0);

    if (image)
      {
        double gain = gtk_spin_button_get_value (self->gain_spin);

        /* Per trace, the scale is relative (1 is each trace's peak). */
        draw_colorbar (self, cr, layout, g.x0 + g.w + 8, g.y0, g.h,
                       per_trace ? 1 / gain : (common > 0 ? common : 1) / gain,
                       per_trace ? _("of peak") : units, &fg);
      }
  }
}

/* --- controls ------------------------------------------------------------- */

static void
on_control_changed (WbSeismogram *self)
{
  if (self->updating)
    return;
  update_shown (self);
  gtk_widget_queue_draw (GTK_WIDGET (self->area));
}

void
wb_seismogram_set_mode (WbSeismogram     *self,
                        WbSeismogramMode  mode)
{
  g_return_if_fail (WB_IS_SEISMOGRAM (self));
  gtk_toggle_button_set_active (mode == WB_SEISMOGRAM_IMAGE ? self->image_button : self->wiggle_button, TRUE);
}

WbSeismogramMode
wb_seismogram_get_mode (WbSeismogram *self)
{
  g_return_val_if_fail (WB_IS_SEISMOGRAM (self), WB_SEISMOGRAM_WIGGLE);
  return gtk_toggle_button_get_active (self->image_button) ? WB_SEISMOGRAM_IMAGE : WB_SEISMOGRAM_WIGGLE;
}

void
wb_seismogram_set_gain (WbSeismogram *self,
                        double        gain)
{
  g_return_if_fail (WB_IS_SEISMOGRAM (self));
  gtk_spin_button_set_value (self->gain_spin, gain);
}

void
wb_seismogram_set_norm (WbSeismogram     *self,
                        WbSeismogramNorm  norm)
{
  g_return_if_fail (WB_IS_SEISMOGRAM (self));
  gtk_drop_down_set_selected (self->norm_dropdown, norm);
}

gboolean
wb_seismogram_has_traces (WbSeismogram *self)
{
  g_return_val_if_fail (WB_IS_SEISMOGRAM (self), FALSE);
  return self->has_traces;
}

void
wb_seismogram_present (WbSeismogram *self)
{
  GtkWidget *stack;

  g_return_if_fail (WB_IS_SEISMOGRAM (self));
  stack = gtk_widget_get_parent (GTK_WIDGET (self));
  if (GTK_IS_STACK (stack))
    gtk_stack_set_visible_child (GTK_STACK (stack), GTK_WIDGET (self));
}

/* --- exports from the UI -------------------------------------------------- */

typedef struct
{
  WbSeismogram *self;
  char         *path;
  gboolean      npy;
} ExportJob;

static void
export_job_free (ExportJob *job)
{
  g_object_unref (job->self);
  g_free (job->path);
  g_free (job);
}

static void
report (WbSeismogram *self,
        const char   *title,
        const GError *error,
        const char   *path)
{
  GtkWidget *overlay = gtk_widget_get_ancestor (GTK_WIDGET (self), ADW_TYPE_TOAST_OVERLAY);
  GtkRoot *root = gtk_widget_get_root (GTK_WIDGET (self));

  if (error != NULL)
    {
      GtkWidget *dialog = adw_message_dialog_new (GTK_IS_WINDOW (root) ? GTK_WINDOW (root) : NULL,
                                                  title, error->message);

      adw_message_dialog_add_response (ADW_MESSAGE_DIALOG (dialog), "close", _("_Close"));
      gtk_window_present (GTK_WINDOW (dialog));
    }
  else if (overlay != NULL)
    {
      g_autofree char *base = g_path_get_basename (path);
      g_autofree char *text = g_strdup_printf (_("Traces saved as %s"), base);

      adw_toast_overlay_add_toast (ADW_TOAST_OVERLAY (overlay), adw_toast_new (text));
    }
}

static void
export_read_done (GObject      *source,
                  GAsyncResult *result,
                  gpointer      data)
{
  ExportJob *job = data;
  g_autoptr(GError) error = NULL;
  g_autoptr(GPtrArray) traces = wb_runner_read_traces_finish (WB_RUNNER (source), result, &error);
  gboolean ok = FALSE;

  if (traces != NULL)
    ok = job->npy ? wb_traces_write_npy (traces, job->path, &error)
                  : wb_traces_write_csv (traces, job->path, &error);
  if (!g_cancellable_is_cancelled (job->self->cancellable))
    report (job->self, _("Exporting the traces failed"), ok ? NULL : error, job->path);
  export_job_free (job);
}

static void
on_export_response (GtkNativeDialog *dialog,
                    int              response,
                    gpointer         data)
{
  ExportJob *job = data;
  g_autoptr(GFile) file = NULL;

  if (response == GTK_RESPONSE_ACCEPT)
    file = gtk_file_chooser_get_file (GTK_FILE_CHOOSER (dialog));
  g_object_unref (dialog);
  if (file == NULL || g_file_peek_path (file) == NULL)
    {
      export_job_free (job);
      return;
    }
  job->path = g_file_get_path (file);
  if (!g_str_has_suffix (job->path, job->npy ? ".npy" : ".csv"))
    {
      char *with = g_strconcat (job->path, job->npy ? ".npy" : ".csv", NULL);

      g_free (job->path);
      job->path = with;
    }
  /* Read afresh on the worker: what is on screen may be 100 ms old. */
  wb_runner_read_traces_async (job->self->runner, job->self->cancellable, export_read_done, job);
}

static void
action_export (GtkWidget  *widget,
               const char *name,
               GVariant   *param)
{
  WbSeismogram *self = WB_SEISMOGRAM (widget);
  gboolean npy = g_str_equal (name, "seismogram.export-npy");
  GtkRoot *root = gtk_widget_get_root (widget);
  GtkFileChooserNative *dialog;
  GtkFileFilter *filter = gtk_file_filter_new ();
  ExportJob *job;

  dialog = gtk_file_chooser_native_new (npy ? _("Export Traces as NumPy Array") : _("Export Traces as CSV"),
                                        GTK_IS_WINDOW (root) ? GTK_WINDOW (root) : NULL,
                                        GTK_FILE_CHOOSER_ACTION_SAVE, _("_Export"), _("_Cancel"));
  gtk_native_dialog_set_modal (GTK_NATIVE_DIALOG (dialog), TRUE);
  gtk_file_filter_set_name (filter, npy ? _("NumPy arrays (.npy)") : _("CSV files"));
  gtk_file_filter_add_pattern (filter, npy ? "*.npy" : "*.csv");
  gtk_file_chooser_add_filter (GTK_FILE_CHOOSER (dialog), filter);
  g_object_unref (filter);
  gtk_file_chooser_set_current_name (GTK_FILE_CHOOSER (dialog), npy ? "traces.npy" : "traces.csv");

  job = g_new0 (ExportJob, 1);
  job->self = g_object_ref (self);
  job->npy = npy;
  g_signal_connect (dialog, "response", G_CALLBACK (on_export_response), job);
  gtk_native_dialog_show (GTK_NATIVE_DIALOG (dialog));
}

/* --- scripted mode --------------------------------------------------------- */

static void script_next_shot (WbSeismogram *self);

static void
script_say (const char *format,
            ...) G_GNUC_PRINTF (1, 2);

static void
script_say (const char *format,
            ...)
{
  va_list args;
  g_autofree char *line = NULL;

  va_start (args, format);
  line = g_strdup_vprintf (format, args);
  va_end (args);
  g_print ("wavebench: seismogram %s\n", line);
  fflush (stdout);
}

/* The widget as it is on screen (toolbar and traces) as RGBA. */
static WbImage *
capture (GtkWidget  *widget,
         GError    **error)
{
  int w = gtk_widget_get_width (widget), h = gtk_widget_get_height (widget);
  g_autoptr(GdkPaintable) paintable = NULL;
  g_autoptr(GdkTexture) texture = NULL;
  g_autofree guint8 *bgra = NULL;
  GskRenderNode *node;
  GtkSnapshot *snapshot;
  WbImage *image;

  if (w <= 0 || h <= 0 || gtk_widget_get_native (widget) == NULL)
    {
      g_set_error (error, WB_ERROR, WB_ERROR_IO, _("The seismogram is not on screen"));
      return NULL;
    }
  paintable = gtk_widget_paintable_new (widget);
  snapshot = gtk_snapshot_new ();
  /* The window's background first: the widget itself draws none. */
  {
    GdkRGBA bg;

    gdk_rgba_parse (&bg, adw_style_manager_get_dark (adw_style_manager_get_default ()) ? "#242424" : "#fafafa");
    gtk_snapshot_append_color (snapshot, &bg, &GRAPHENE_RECT_INIT (0, 0, w, h));
  }
  gdk_paintable_snapshot (paintable, snapshot, w, h);
  node = gtk_snapshot_free_to_node (snapshot);
  if (node == NULL)
    {
      g_set_error (error, WB_ERROR, WB_ERROR_IO, _("The seismogram drew nothing"));
      return NULL;
    }
  texture = gsk_renderer_render_texture (gtk_native_get_renderer (gtk_widget_get_native (widget)),
                                         node, &GRAPHENE_RECT_INIT (0, 0, w, h));
  gsk_render_node_unref (node);

  w = gdk_texture_get_width (texture);
  h = gdk_texture_get_height (texture);
  bgra = g_malloc ((gsize) w * h * 4);
  /* Cairo's ARGB32: premultiplied, native-endian words; opaque here. */
  gdk_texture_download (texture, bgra, (gsize) w * 4);
  image = g_new0 (WbImage, 1);
  image->width = w;
  image->height = h;
  image->rgba = g_malloc ((gsize) w * h * 4);
  for (gsize i = 0; i < (gsize) w * h; i++)
    {
      guint32 p = ((guint32 *) bgra)[i];
      guint a = p >> 24;

      image->rgba[4 * i + 0] = a ? MIN (255u, ((p >> 16) & 0xff) * 255 / a) : 0;
      image->rgba[4 * i + 1] = a ? MIN (255u, ((p >> 8) & 0xff) * 255 / a) : 0;
      image->rgba[4 * i + 2] = a ? MIN (255u, (p & 0xff) * 255 / a) : 0;
      image->rgba[4 * i + 3] = 255;
    }
  return image;
}

static void
script_finish (WbSeismogram *self)
{
  WbSeismogramScriptDone done = self->script_done;
  gpointer data = self->script_data;

  g_clear_pointer (&self->script_shots, g_strfreev);
  self->script_done = NULL;
  self->script_data = NULL;
  if (done)
    done (self->script_ok, data);
  g_object_unref (self);
}

static void
script_after_paint (GdkFrameClock *clock,
                    WbSeismogram  *self)
{
  const char *spec = self->script_shots[self->script_shot];
  const char *path = strchr (spec, ':') + 1;
  g_autoptr(GError) error = NULL;
  g_autoptr(WbImage) image = NULL;

  /* Wait for a paint of the area in the mode asked for, at its size. */
  if (self->draws <= self->script_draws || !gtk_widget_get_mapped (GTK_WIDGET (self->area)))
    {
      gtk_widget_queue_draw (GTK_WIDGET (self->area));
      return;
    }
  g_clear_signal_handler (&self->script_paint_id, clock);
  g_clear_object (&self->script_clock);

  image = capture (GTK_WIDGET (self), &error);
  if (image != NULL && wb_png_write (image, path, &error))
    script_say ("screenshot %s %ux%u mode=%s time=%s traces=%u", path, image->width, image->height,
                wb_seismogram_get_mode (self) == WB_SEISMOGRAM_IMAGE ? "image" : "wiggle",
                gtk_toggle_button_get_active (self->across_button) ? "across" : "down",
                self->shown->len);
  else
    {
      script_say ("screenshot failed: %s", error->message);
      self->script_ok = FALSE;
    }
  self->script_shot++;
  script_next_shot (self);
}

static void
script_next_shot (WbSeismogram *self)
{
  GdkFrameClock *clock;
  const char *spec;

  if (self->script_shots == NULL || self->script_shots[self->script_shot] == NULL)
    {
      script_finish (self);
      return;
    }
  spec = self->script_shots[self->script_shot];
  /* MODE[-down]:PATH, time across unless "-down". */
  gtk_toggle_button_set_active (self->across_button,
                                !g_str_has_prefix (spec, "wiggle-down:") && !g_str_has_prefix (spec, "image-down:"));
  if (g_str_has_prefix (spec, "wiggle:") || g_str_has_prefix (spec, "wiggle-down:"))
    wb_seismogram_set_mode (self, WB_SEISMOGRAM_WIGGLE);
  else if (g_str_has_prefix (spec, "image:") || g_str_has_prefix (spec, "image-down:"))
    wb_seismogram_set_mode (self, WB_SEISMOGRAM_IMAGE);
  else
    {
      script_say ("screenshot failed: not MODE:PATH (MODE wiggle, image, wiggle-down or image-down): %s", spec);
      self->script_ok = FALSE;
      self->script_shot++;
      script_next_shot (self);
      return;
    }
  wb_seismogram_present (self);
  clock = gtk_widget_get_frame_clock (GTK_WIDGET (gtk_widget_get_root (GTK_WIDGET (self))));
  if (clock == NULL)
    {
      script_say ("screenshot failed: the window is not shown");
      self->script_ok = FALSE;
      script_finish (self);
      return;
    }
  self->script_draws = self->draws;
  self->script_clock = g_object_ref (clock);
  self->script_paint_id = g_signal_connect (clock, "after-paint", G_CALLBACK (script_after_paint), self);
  gtk_widget_queue_draw (GTK_WIDGET (self->area));
}

static void
script_read_done (GObject      *source,
                  GAsyncResult *result,
                  gpointer      data)
{
  WbSeismogram *self = data;
  g_autoptr(GError) error = NULL;
  GPtrArray *traces = wb_runner_read_traces_finish (WB_RUNNER (source), result, &error);
  GStrv exports = g_object_steal_data (G_OBJECT (self), "wb-script-exports");

  if (traces == NULL)
    {
      script_say ("read failed: %s", error->message);
      self->script_ok = FALSE;
      g_strfreev (exports);
      script_finish (self);
      return;
    }
  set_traces (self, traces);
  script_say ("live reads %u", self->live_reads);
  script_say ("read %u traces of %u samples", traces->len, max_samples (traces));
  for (guint i = 0; exports && exports[i]; i++)
    {
      g_autoptr(GError) werror = NULL;
      gboolean ok;

      if (g_str_has_suffix (exports[i], ".npy"))
        ok = wb_traces_write_npy (traces, exports[i], &werror);
      else if (g_str_has_suffix (exports[i], ".csv"))
        ok = wb_traces_write_csv (traces, exports[i], &werror);
      else
        {
          ok = FALSE;
          g_set_error (&werror, WB_ERROR, WB_ERROR_INVALID, "not a .csv or .npy path: %s", exports[i]);
        }
      if (ok)
        script_say ("exported %s", exports[i]);
      else
        {
          script_say ("export failed: %s", werror->message);
          self->script_ok = FALSE;
        }
    }
  g_strfreev (exports);
  script_next_shot (self);
}

void
wb_seismogram_run_script (WbSeismogram           *self,
                          const char * const     *exports,
                          const char * const     *screenshots,
                          WbSeismogramScriptDone  callback,
                          gpointer                user_data)
{
  g_return_if_fail (WB_IS_SEISMOGRAM (self));
  g_return_if_fail (self->script_done == NULL && self->script_shots == NULL);

  g_object_ref (self);
  /* A screenshot must show the controls as set, not halfway through a
   * button's or the stack's transition. */
  g_object_set (gtk_widget_get_settings (GTK_WIDGET (self)), "gtk-enable-animations", FALSE, NULL);
  self->script_ok = TRUE;
  self->script_done = callback;
  self->script_data = user_data;
  self->script_shots = g_strdupv ((char **) screenshots);
  self->script_shot = 0;
  g_object_set_data_full (G_OBJECT (self), "wb-script-exports", g_strdupv ((char **) exports),
                          (GDestroyNotify) g_strfreev);
  wb_runner_read_traces_async (self->runner, NULL, script_read_done, self);
}

/* --- attaching -------------------------------------------------------------- */

/* Back to the probes when the new simulation has no sensors. */
static void
on_attached_has_traces (WbSeismogram *self,
                        GParamSpec   *pspec,
                        GtkStack     *stack)
{
  if (!self->has_traces)
    gtk_stack_set_visible_child_name (stack, "probes");
}

WbSeismogram *
wb_seismogram_attach (GtkWidget *plot,
                      WbRunner  *runner)
{
  GtkWidget *panel = gtk_widget_get_parent (plot);
  GtkWidget *paned = panel ? gtk_widget_get_parent (panel) : NULL;
  WbSeismogram *self;
  GtkWidget *box, *stack, *switcher;

  g_return_val_if_fail (GTK_IS_PANED (paned), NULL);
  g_return_val_if_fail (gtk_paned_get_end_child (GTK_PANED (paned)) == panel, NULL);

  self = WB_SEISMOGRAM (wb_seismogram_new (runner));
  stack = gtk_stack_new ();
  gtk_stack_set_transition_type (GTK_STACK (stack), GTK_STACK_TRANSITION_TYPE_CROSSFADE);
  /* Sized by the page shown: the hidden seismogram's toolbar must not
   * widen the window of a solver that has no sensors. */
  gtk_stack_set_hhomogeneous (GTK_STACK (stack), FALSE);
  gtk_stack_set_vhomogeneous (GTK_STACK (stack), FALSE);
  gtk_widget_set_vexpand (stack, TRUE);
  g_object_ref (panel);
  gtk_paned_set_end_child (GTK_PANED (paned), NULL);
  gtk_stack_add_titled (GTK_STACK (stack), panel, "probes", _("Probes"));
  g_object_unref (panel);
  gtk_stack_add_titled (GTK_STACK (stack), GTK_WIDGET (self), "seismogram", _("Seismogram"));

  switcher = gtk_stack_switcher_new ();
  gtk_stack_switcher_set_stack (GTK_STACK_SWITCHER (switcher), GTK_STACK (stack));
  gtk_widget_set_halign (switcher, GTK_ALIGN_CENTER);
  gtk_widget_set_margin_top (switcher, 4);
  /* Only simulations with sensors get the second page. */
  g_object_bind_property (self, "has-traces", switcher, "visible", G_BINDING_SYNC_CREATE);
  g_signal_connect_object (self, "notify::has-traces", G_CALLBACK (on_attached_has_traces),
                           stack, 0);

  box = gtk_box_new (GTK_ORIENTATION_VERTICAL, 0);
  gtk_box_append (GTK_BOX (box), switcher);
  gtk_box_append (GTK_BOX (box), stack);
  gtk_paned_set_end_child (GTK_PANED (paned), box);
  return self;
}

/* --- GObject ---------------------------------------------------------------- */

static void
wb_seismogram_dispose (GObject *object)
{
  WbSeismogram *self = WB_SEISMOGRAM (object);

  g_cancellable_cancel (self->cancellable);
  g_clear_handle_id (&self->read_timer, g_source_remove);
  if (self->script_clock != NULL)
    g_clear_signal_handler (&self->script_paint_id, self->script_clock);
  g_clear_object (&self->script_clock);
  if (self->runner != NULL)
    g_signal_handlers_disconnect_by_data (self->runner, self);
  g_clear_object (&self->runner);
  gtk_widget_dispose_template (GTK_WIDGET (self), WB_TYPE_SEISMOGRAM);

  G_OBJECT_CLASS (wb_seismogram_parent_class)->dispose (object);
}

static void
wb_seismogram_finalize (GObject *object)
{
  WbSeismogram *self = WB_SEISMOGRAM (object);

  g_clear_object (&self->cancellable);
  g_clear_pointer (&self->traces, g_ptr_array_unref);
  g_clear_pointer (&self->shown, g_array_unref);
  g_strfreev (self->quantities);
  g_strfreev (self->script_shots);

  G_OBJECT_CLASS (wb_seismogram_parent_class)->finalize (object);
}

static void
wb_seismogram_get_property (GObject    *object,
                            guint       prop_id,
                            GValue     *value,
                            GParamSpec *pspec)
{
  WbSeismogram *self = WB_SEISMOGRAM (object);

  switch (prop_id)
    {
    case PROP_HAS_TRACES:
      g_value_set_boolean (value, self->has_traces);
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
wb_seismogram_class_init (WbSeismogramClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  GtkWidgetClass *widget_class = GTK_WIDGET_CLASS (klass);

  object_class->dispose = wb_seismogram_dispose;
  object_class->finalize = wb_seismogram_finalize;
  object_class->get_property = wb_seismogram_get_property;
  widget_class->map = wb_seismogram_map;

  properties[PROP_HAS_TRACES] =
    g_param_spec_boolean ("has-traces", NULL, NULL, FALSE,
                          G_PARAM_READABLE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS);
  g_object_class_install_properties (object_class, N_PROPS, properties);

  gtk_widget_class_set_template_from_resource (widget_class, RESOURCE_PREFIX "/ui/wb-seismogram.ui");
  gtk_widget_class_bind_template_child (widget_class, WbSeismogram, toolbar);
  gtk_widget_class_bind_template_child (widget_class, WbSeismogram, quantity_dropdown);
  gtk_widget_class_bind_template_child (widget_class, WbSeismogram, wiggle_button);
  gtk_widget_class_bind_template_child (widget_class, WbSeismogram, image_button);
  gtk_widget_class_bind_template_child (widget_class, WbSeismogram, across_button);
  gtk_widget_class_bind_template_child (widget_class, WbSeismogram, norm_dropdown);
  gtk_widget_class_bind_template_child (widget_class, WbSeismogram, gain_spin);
  gtk_widget_class_bind_template_child (widget_class, WbSeismogram, area);

  gtk_widget_class_install_action (widget_class, "seismogram.export-csv", NULL, action_export);
  gtk_widget_class_install_action (widget_class, "seismogram.export-npy", NULL, action_export);
}

static void
on_has_traces (WbSeismogram *self)
{
  gtk_widget_action_set_enabled (GTK_WIDGET (self), "seismogram.export-csv", self->has_traces);
  gtk_widget_action_set_enabled (GTK_WIDGET (self), "seismogram.export-npy", self->has_traces);
}

static void
wb_seismogram_init (WbSeismogram *self)
{
  gtk_widget_init_template (GTK_WIDGET (self));

  self->cancellable = g_cancellable_new ();
  self->shown = g_array_new (FALSE, FALSE, sizeof (guint));
  gtk_drawing_area_set_draw_func (self->area, draw_area, self, NULL);
  g_signal_connect_swapped (self->quantity_dropdown, "notify::selected", G_CALLBACK (on_control_changed), self);
  g_signal_connect_swapped (self->norm_dropdown, "notify::selected", G_CALLBACK (on_control_changed), self);
  g_signal_connect_swapped (self->image_button, "toggled", G_CALLBACK (on_control_changed), self);
  g_signal_connect_swapped (self->across_button, "toggled", G_CALLBACK (on_control_changed), self);
  g_signal_connect_swapped (self->gain_spin, "value-changed", G_CALLBACK (on_control_changed), self);
  gtk_widget_action_set_enabled (GTK_WIDGET (self), "seismogram.export-csv", FALSE);
  gtk_widget_action_set_enabled (GTK_WIDGET (self), "seismogram.export-npy", FALSE);
  g_signal_connect_swapped (self, "notify::has-traces", G_CALLBACK (on_has_traces), self);
}

GtkWidget *
wb_seismogram_new (WbRunner *runner)
{
  WbSeismogram *self;

  g_return_val_if_fail (WB_IS_RUNNER (runner), NULL);

  self = g_object_new (WB_TYPE_SEISMOGRAM, NULL);
  self->runner = g_object_ref (runner);
  g_signal_connect_swapped (runner, "loaded", G_CALLBACK (on_loaded), self);
  g_signal_connect_swapped (runner, "notify::step", G_CALLBACK (on_step), self);
  if (wb_runner_get_info (runner) != NULL)
    on_loaded (self);
  return GTK_WIDGET (self);
}
