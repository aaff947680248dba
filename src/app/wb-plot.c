#define G_LOG_DOMAIN "wb-plot"
#include "config.h"

#include <math.h>
#include <glib/gi18n.h>

#include "wb-colorbar.h"
#include "wb-plot.h"
#include "wb-runner.h"

struct _WbPlot
{
  GtkWidget  parent_instance;

  GPtrArray *probes;
  guint      n_fields;
  guint      field_index;
  char      *quantity;
  char      *units;
};

G_DEFINE_FINAL_TYPE (WbPlot, wb_plot, GTK_TYPE_WIDGET)

void
wb_plot_series_color (guint    index,
                      GdkRGBA *color)
{
  /* Okabe-Ito: distinguishable with common colour-vision deficiencies. */
  static const char *palette[] = {
    "#E69F00", "#56B4E9", "#009E73", "#F0E442", "#0072B2", "#D55E00", "#CC79A7", "#FFFFFF",
  };

  gdk_rgba_parse (color, palette[index % G_N_ELEMENTS (palette)]);
}

static double
value_at (WbProbe *probe, guint n_fields, guint f, guint s)
{
  return g_array_index (probe->values, double, s * n_fields + f);
}

static void
wb_plot_snapshot (GtkWidget   *widget,
                  GtkSnapshot *snapshot)
{
  WbPlot *self = WB_PLOT (widget);
  int W = gtk_widget_get_width (widget), H = gtk_widget_get_height (widget);
  double left = 64, right = 12, top = 22, bottom = 26;
  double tmin = INFINITY, tmax = -INFINITY, vmin = INFINITY, vmax = -INFINITY;
  double ticks[16];
  double tscale = 1;
  const char *time_label = _("time [s]");
  g_autoptr(PangoLayout) layout = NULL;
  GdkRGBA fg, grid;
  cairo_t *cr;
  guint n;
  int lw, lh;

G_GNUC_BEGIN_IGNORE_DEPRECATIONS
  gtk_style_context_get_color (gtk_widget_get_style_context (widget), &fg);
G_GNUC_END_IGNORE_DEPRECATIONS
  grid = fg;
  grid.alpha = 0.15;

  cr = gtk_snapshot_append_cairo (snapshot, &GRAPHENE_RECT_INIT (0, 0, W, H));
  layout = gtk_widget_create_pango_layout (widget, NULL);

  for (guint p = 0; self->probes && p < self->probes->len; p++)
    {
      WbProbe *probe = g_ptr_array_index (self->probes, p);

      for (guint s = 0; s < probe->times->len; s++)
        {
          double t = g_array_index (probe->times, double, s);
          double v = value_at (probe, self->n_fields, self->field_index, s);

          tmin = MIN (tmin, t);
          tmax = MAX (tmax, t);
          if (isfinite (v))
            {
              vmin = MIN (vmin, v);
              vmax = MAX (vmax, v);
            }
        }
    }

  if (!isfinite (tmin) || !isfinite (vmin))
    {
      pango_layout_set_text (layout, self->probes && self->probes->len
                                     ? _("Waiting for samples…")
                                     : _("Click the field to add a probe"), -1);
      pango_layout_get_pixel_size (layout, &lw, &lh);
      fg.alpha = 0.6;
      gdk_cairo_set_source_rgba (cr, &fg);
      cairo_move_to (cr, (W - lw) / 2.0, (H - lh) / 2.0);
      pango_cairo_show_layout (cr, layout);
      cairo_destroy (cr);
      return;
    }
  if (tmax <= tmin)
    tmax = tmin + 1;
  if (vmax <= vmin)
    {
      double pad = fabs (vmin) > 0 ? fabs (vmin) * 0.01 : 1;
      vmin -= pad;
      vmax += pad;
    }
  else
    {
      double pad = (vmax - vmin) * 0.05;
      vmin -= pad;
      vmax += pad;
    }

  /* Time in the unit that suits the run: a wave run lasts microseconds,
   * a sonication minutes. */
  {
    double span = MAX (fabs (tmax), fabs (tmin));

    if (span < 1e-3)
      {
        tscale = 1e6;
        time_label = _("time [µs]");
      }
    else if (span < 1)
      {
        tscale = 1e3;
        time_label = _("time [ms]");
      }
  }

#define X(t) (left + ((t) - tmin) / (tmax - tmin) * (W - left - right))
#define Y(v) (H - bottom - ((v) - vmin) / (vmax - vmin) * (H - top - bottom))

  cairo_set_line_width (cr, 1);
  /* Axes and grid */
  n = wb_nice_ticks (vmin, vmax, 4, ticks, G_N_ELEMENTS (ticks));
  for (guint i = 0; i < n; i++)
    {
      g_autofree char *label = wb_format_tick (ticks[i], n > 1 ? ticks[1] - ticks[0] : 0);
      double y = round (Y (ticks[i])) + 0.5;

      gdk_cairo_set_source_rgba (cr, &grid);
      cairo_move_to (cr, left, y);
      cairo_line_to (cr, W - right, y);
      cairo_stroke (cr);
      gdk_cairo_set_source_rgba (cr, &fg);
      pango_layout_set_text (layout, label, -1);
      pango_layout_get_pixel_size (layout, &lw, &lh);
      cairo_move_to (cr, left - 6 - lw, y - lh / 2.0);
      pango_cairo_show_layout (cr, layout);
    }
  n = wb_nice_ticks (tmin * tscale, tmax * tscale, 6, ticks, G_N_ELEMENTS (ticks));
  for (guint i = 0; i < n; i++)
    {
      g_autofree char *label = wb_format_tick (ticks[i], n > 1 ? ticks[1] - ticks[0] : 0);
      double x = round (X (ticks[i] / tscale)) + 0.5;

      gdk_cairo_set_source_rgba (cr, &grid);
      cairo_move_to (cr, x, top);
      cairo_line_to (cr, x, H - bottom);
      cairo_stroke (cr);
      gdk_cairo_set_source_rgba (cr, &fg);
      pango_layout_set_text (layout, label, -1);
      pango_layout_get_pixel_size (layout, &lw, &lh);
      cairo_move_to (cr, x - lw / 2.0, H - bottom + 3);
      pango_cairo_show_layout (cr, layout);
    }
  gdk_cairo_set_source_rgba (cr, &fg);
  cairo_rectangle (cr, left + 0.5, top + 0.5, W - left - right - 1, H - top - bottom - 1);
  cairo_stroke (cr);

  /* Axis titles */
  {
    g_autofree char *title = NULL;

    title = self->units && *self->units
            ? g_strdup_printf ("%s [%s]   ·   %s", self->quantity, self->units, time_label)
            : g_strdup_printf ("%s   ·   %s", self->quantity ? self->quantity : "", time_label);
    pango_layout_set_text (layout, title, -1);
    pango_layout_get_pixel_size (layout, &lw, &lh);
    cairo_move_to (cr, left, 2);
    pango_cairo_show_layout (cr, layout);
  }

  /* Series, clipped to the frame */
  cairo_save (cr);
  cairo_rectangle (cr, left, top, W - left - right, H - top - bottom);
  cairo_clip (cr);
  cairo_set_line_width (cr, 2);
  for (guint p = 0; p < self->probes->len; p++)
    {
      WbProbe *probe = g_ptr_array_index (self->probes, p);
      gboolean pen_down = FALSE;
      GdkRGBA color;

      wb_plot_series_color (p, &color);
      gdk_cairo_set_source_rgba (cr, &color);
      for (guint s = 0; s < probe->times->len; s++)
        {
          double t = g_array_index (probe->times, double, s);
          double v = value_at (probe, self->n_fields, self->field_index, s);

          if (!isfinite (v))
            {
              pen_down = FALSE;
              continue;
            }
          if (pen_down)
            cairo_line_to (cr, X (t), Y (v));
          else
            cairo_move_to (cr, X (t), Y (v));
          pen_down = TRUE;
        }
      if (probe->times->len == 1)
        cairo_rectangle (cr, X (g_array_index (probe->times, double, 0)) - 2,
                         Y (value_at (probe, self->n_fields, self->field_index, 0)) - 2, 4, 4);
      cairo_stroke (cr);
    }
  cairo_restore (cr);

  /* Legend */
  {
    double y = top + 4;

    for (guint p = 0; p < self->probes->len; p++)
      {
        WbProbe *probe = g_ptr_array_index (self->probes, p);
        g_autofree char *label = g_strdup_printf ("P%u (%" G_GSIZE_FORMAT ", %" G_GSIZE_FORMAT ", %" G_GSIZE_FORMAT ")",
                                                  p + 1, probe->cell[0], probe->cell[1], probe->cell[2]);
        GdkRGBA color;

        wb_plot_series_color (p, &color);
        pango_layout_set_text (layout, label, -1);
        pango_layout_get_pixel_size (layout, &lw, &lh);
        gdk_cairo_set_source_rgba (cr, &color);
        cairo_rectangle (cr, left + 8, y + lh / 2.0 - 2, 14, 4);
        cairo_fill (cr);
        gdk_cairo_set_source_rgba (cr, &fg);
        cairo_move_to (cr, left + 26, y);
        pango_cairo_show_layout (cr, layout);
        y += lh + 2;
        if (y > H - bottom - lh)
          break;
      }
  }
#undef X
#undef Y
  cairo_destroy (cr);
}

static void
wb_plot_measure (GtkWidget      *widget,
                 GtkOrientation  orientation,
                 int             for_size,
                 int            *minimum,
                 int            *natural,
                 int            *minimum_baseline,
                 int            *natural_baseline)
{
  *minimum = orientation == GTK_ORIENTATION_HORIZONTAL ? 200 : 120;
  *natural = orientation == GTK_ORIENTATION_HORIZONTAL ? 400 : 180;
}

static void
wb_plot_finalize (GObject *object)
{
  WbPlot *self = WB_PLOT (object);

  g_clear_pointer (&self->probes, g_ptr_array_unref);
  g_free (self->quantity);
  g_free (self->units);
  G_OBJECT_CLASS (wb_plot_parent_class)->finalize (object);
}

static void
wb_plot_class_init (WbPlotClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  GtkWidgetClass *widget_class = GTK_WIDGET_CLASS (klass);

  object_class->finalize = wb_plot_finalize;
  widget_class->snapshot = wb_plot_snapshot;
  widget_class->measure = wb_plot_measure;
  gtk_widget_class_set_css_name (widget_class, "wbplot");
}

static void
wb_plot_init (WbPlot *self)
{
  gtk_widget_set_hexpand (GTK_WIDGET (self), TRUE);
  gtk_widget_set_vexpand (GTK_WIDGET (self), TRUE);
}

GtkWidget *
wb_plot_new (void)
{
  return g_object_new (WB_TYPE_PLOT, NULL);
}

void
wb_plot_set_data (WbPlot     *self,
                  GPtrArray  *probes,
                  guint       n_fields,
                  guint       field_index,
                  const char *quantity,
                  const char *units)
{
  g_return_if_fail (WB_IS_PLOT (self));

  if (probes)
    g_ptr_array_ref (probes);
  g_clear_pointer (&self->probes, g_ptr_array_unref);
  self->probes = probes;
  self->n_fields = MAX (n_fields, 1);
  self->field_index = MIN (field_index, self->n_fields - 1);
  g_free (self->quantity);
  self->quantity = g_strdup (quantity);
  g_free (self->units);
  self->units = g_strdup (units);
  gtk_widget_queue_draw (GTK_WIDGET (self));
}

char *
wb_probes_to_csv (GPtrArray          *probes,
                  const char * const *fields,
                  const char * const *units)
{
  GString *csv = g_string_new ("time_s");
  guint n_fields = fields ? g_strv_length ((char **) fields) : 0;
  guint rows = 0;

  for (guint p = 0; p < probes->len; p++)
    {
      WbProbe *probe = g_ptr_array_index (probes, p);

      rows = MAX (rows, probe->times->len);
      for (guint f = 0; f < n_fields; f++)
        g_string_append_printf (csv, ",P%u %s [%s] (i=%" G_GSIZE_FORMAT " j=%" G_GSIZE_FORMAT " k=%" G_GSIZE_FORMAT ")",
                                p + 1, fields[f], units && units[f] ? units[f] : "",
                                probe->cell[0], probe->cell[1], probe->cell[2]);
    }
  g_string_append_c (csv, '\n');

  /* All probes are sampled together, so row s is the same time for each;
   * a probe added later has fewer rows and leaves its cells empty. */
  for (guint s = 0; s < rows; s++)
    {
      gboolean have_time = FALSE;
      GString *row = g_string_new (NULL);
      char buf[G_ASCII_DTOSTR_BUF_SIZE];

      for (guint p = 0; p < probes->len; p++)
        {
          WbProbe *probe = g_ptr_array_index (probes, p);
          guint offset = rows - probe->times->len;   /* align the ends */

          if (!have_time && s >= offset)
            {
              g_string_append (csv, g_ascii_formatd (buf, sizeof buf, "%.9g",
                                                     g_array_index (probe->times, double, s - offset)));
              have_time = TRUE;
            }
          for (guint f = 0; f < n_fields; f++)
            {
              g_string_append_c (row, ',');
              if (s >= offset)
                g_string_append (row, g_ascii_formatd (buf, sizeof buf, "%.9g",
                                                       g_array_index (probe->values, double,
                                                                      (s - offset) * n_fields + f)));
            }
        }
      g_string_append (csv, row->str);
      g_string_append_c (csv, '\n');
      g_string_free (row, TRUE);
    }
  return g_string_free (csv, FALSE);
}
