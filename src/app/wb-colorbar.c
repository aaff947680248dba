#define G_LOG_DOMAIN "wb-colorbar"
#include "config.h"

#include <math.h>

#include "wb-colorbar.h"

#define BAR_WIDTH 18
#define PAD 8

struct _WbColorbar
{
  GtkWidget   parent_instance;

  WbColormap  cmap;
  double      vmin, vmax;
  char       *name;
  char       *units;
};

G_DEFINE_FINAL_TYPE (WbColorbar, wb_colorbar, GTK_TYPE_WIDGET)

guint
wb_nice_ticks (double  vmin,
               double  vmax,
               guint   target,
               double *ticks,
               guint   max_ticks)
{
  double span = vmax - vmin, raw, mag, step, first;
  guint n = 0;

  if (!(span > 0) || !isfinite (span) || target == 0)
    {
      if (max_ticks > 0 && isfinite (vmin))
        {
          ticks[0] = vmin;
          return 1;
        }
      return 0;
    }
  raw = span / target;
  mag = pow (10, floor (log10 (raw)));
  if (raw / mag < 1.5)
    step = mag;
  else if (raw / mag < 3.5)
    step = 2 * mag;
  else if (raw / mag < 7.5)
    step = 5 * mag;
  else
    step = 10 * mag;
  first = ceil (vmin / step - 1e-9) * step;
  for (double t = first; t <= vmax + step * 1e-9 && n < max_ticks; t += step)
    ticks[n++] = fabs (t) < step * 1e-9 ? 0 : t;
  return n;
}

char *
wb_format_tick (double value,
                double step)
{
  double a = fabs (value);

  if (value == 0 || a < fabs (step) * 1e-6)
    return g_strdup ("0");
  if (value != 0 && (a >= 1e5 || a < 1e-3))
    return g_strdup_printf ("%.3g", value);
  if (step >= 1 || step <= 0)
    return g_strdup_printf ("%.0f", value);
  return g_strdup_printf ("%.*f", (int) CLAMP (ceil (-log10 (step) - 1e-9), 0, 6), value);
}

static void
wb_colorbar_snapshot (GtkWidget   *widget,
                      GtkSnapshot *snapshot)
{
  WbColorbar *self = WB_COLORBAR (widget);
  int W = gtk_widget_get_width (widget), H = gtk_widget_get_height (widget);
  const guint8 *table = wb_colormap_table (self->cmap);
  g_autoptr(PangoLayout) layout = NULL;
  g_autofree char *title = NULL;
  GdkRGBA fg;
  cairo_t *cr;
  cairo_surface_t *strip;
  double ticks[16];
  guint n;
  int tw, th, bar_top, bar_bottom;

G_GNUC_BEGIN_IGNORE_DEPRECATIONS
  gtk_style_context_get_color (gtk_widget_get_style_context (widget), &fg);
G_GNUC_END_IGNORE_DEPRECATIONS

  cr = gtk_snapshot_append_cairo (snapshot, &GRAPHENE_RECT_INIT (0, 0, W, H));

  title = self->units && *self->units ? g_strdup_printf ("%s [%s]", self->name ? self->name : "", self->units)
                                      : g_strdup (self->name ? self->name : "");
  layout = gtk_widget_create_pango_layout (widget, title);
  pango_layout_get_pixel_size (layout, &tw, &th);
  gdk_cairo_set_source_rgba (cr, &fg);
  cairo_move_to (cr, MAX (2, (W - tw) / 2.0), PAD / 2.0);
  pango_cairo_show_layout (cr, layout);

  bar_top = PAD + th + 6;
  bar_bottom = H - PAD - th / 2;
  if (bar_bottom - bar_top < 10)
    {
      cairo_destroy (cr);
      return;
    }

  /* The same 256 entries the GL view and PNG export use, top = vmax. */
  strip = cairo_image_surface_create (CAIRO_FORMAT_RGB24, 1, 256);
  {
    guint8 *data = cairo_image_surface_get_data (strip);
    int stride = cairo_image_surface_get_stride (strip);

    cairo_surface_flush (strip);
    for (int i = 0; i < 256; i++)
      {
        guint32 *px = (guint32 *) (data + (255 - i) * stride);
        *px = (table[3 * i] << 16) | (table[3 * i + 1] << 8) | table[3 * i + 2];
      }
    cairo_surface_mark_dirty (strip);
  }
  cairo_save (cr);
  cairo_translate (cr, PAD, bar_top);
  cairo_scale (cr, BAR_WIDTH, (bar_bottom - bar_top) / 256.0);
  cairo_set_source_surface (cr, strip, 0, 0);
  cairo_pattern_set_filter (cairo_get_source (cr), CAIRO_FILTER_NEAREST);
  cairo_rectangle (cr, 0, 0, 1, 256);
  cairo_fill (cr);
  cairo_restore (cr);
  cairo_surface_destroy (strip);

  gdk_cairo_set_source_rgba (cr, &fg);
  cairo_set_line_width (cr, 1);
  cairo_rectangle (cr, PAD + 0.5, bar_top + 0.5, BAR_WIDTH - 1, bar_bottom - bar_top - 1);
  cairo_stroke (cr);

  n = wb_nice_ticks (self->vmin, self->vmax, 5, ticks, G_N_ELEMENTS (ticks));
  for (guint t = 0; t < n; t++)
    {
      double frac = self->vmax > self->vmin ? (ticks[t] - self->vmin) / (self->vmax - self->vmin) : 0.5;
      double y = bar_bottom - frac * (bar_bottom - bar_top);
      g_autofree char *label = wb_format_tick (ticks[t], n > 1 ? ticks[1] - ticks[0] : 0);
      int lw, lh;

      cairo_move_to (cr, PAD + BAR_WIDTH, round (y) + 0.5);
      cairo_line_to (cr, PAD + BAR_WIDTH + 4, round (y) + 0.5);
      cairo_stroke (cr);
      pango_layout_set_text (layout, label, -1);
      pango_layout_get_pixel_size (layout, &lw, &lh);
      cairo_move_to (cr, PAD + BAR_WIDTH + 6, y - lh / 2.0);
      pango_cairo_show_layout (cr, layout);
    }
  cairo_destroy (cr);
}

static void
wb_colorbar_measure (GtkWidget      *widget,
                     GtkOrientation  orientation,
                     int             for_size,
                     int            *minimum,
                     int            *natural,
                     int            *minimum_baseline,
                     int            *natural_baseline)
{
  if (orientation == GTK_ORIENTATION_HORIZONTAL)
    *minimum = *natural = 96;
  else
    {
      *minimum = 120;
      *natural = 200;
    }
}

static void
wb_colorbar_finalize (GObject *object)
{
  WbColorbar *self = WB_COLORBAR (object);

  g_free (self->name);
  g_free (self->units);
  G_OBJECT_CLASS (wb_colorbar_parent_class)->finalize (object);
}

static void
wb_colorbar_class_init (WbColorbarClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  GtkWidgetClass *widget_class = GTK_WIDGET_CLASS (klass);

  object_class->finalize = wb_colorbar_finalize;
  widget_class->snapshot = wb_colorbar_snapshot;
  widget_class->measure = wb_colorbar_measure;
  gtk_widget_class_set_css_name (widget_class, "wbcolorbar");
}

static void
wb_colorbar_init (WbColorbar *self)
{
  self->vmax = 1;
}

GtkWidget *
wb_colorbar_new (void)
{
  return g_object_new (WB_TYPE_COLORBAR, NULL);
}

void
wb_colorbar_set (WbColorbar *self,
                 WbColormap  cmap,
                 double      vmin,
                 double      vmax,
                 const char *name,
                 const char *units)
{
  g_return_if_fail (WB_IS_COLORBAR (self));

  self->cmap = cmap;
  self->vmin = vmin;
  self->vmax = vmax;
  g_free (self->name);
  self->name = g_strdup (name);
  g_free (self->units);
  self->units = g_strdup (units);
  gtk_widget_queue_draw (GTK_WIDGET (self));
}
