/* wb-plot.h: live time series of probe points (one quantity at a time),
 * drawn with cairo; series colours match the probe markers on the field. */
#pragma once

#include <gtk/gtk.h>

G_BEGIN_DECLS

#define WB_TYPE_PLOT (wb_plot_get_type ())
G_DECLARE_FINAL_TYPE (WbPlot, wb_plot, WB, PLOT, GtkWidget)

GtkWidget *wb_plot_new          (void);
/* @probes: GPtrArray of WbProbe* (wb-runner.h), kept by reference;
 * @field_index selects the quantity among @n_fields interleaved values. */
void       wb_plot_set_data     (WbPlot      *self,
                                 GPtrArray   *probes,
                                 guint        n_fields,
                                 guint        field_index,
                                 const char  *quantity,
                                 const char  *units);
void       wb_plot_series_color (guint        index,
                                 GdkRGBA     *color);

/* Writes every probe's series as CSV: time_s, then one column per probe
 * and field ("P1 T [degC] (i=3 j=4 k=5)").  Rows are the sample times. */
char      *wb_probes_to_csv     (GPtrArray   *probes,
                                 const char * const *fields,
                                 const char * const *units);

G_END_DECLS
