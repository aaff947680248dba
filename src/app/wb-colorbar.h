/* wb-colorbar.h: the colorbar beside the field view: the colormap over the
 * range in use, tick labels, and the field name with its units. */
#pragma once

#include <gtk/gtk.h>
#include "wb-colormap.h"

G_BEGIN_DECLS

#define WB_TYPE_COLORBAR (wb_colorbar_get_type ())
G_DECLARE_FINAL_TYPE (WbColorbar, wb_colorbar, WB, COLORBAR, GtkWidget)

GtkWidget *wb_colorbar_new (void);
void       wb_colorbar_set (WbColorbar *self,
                            WbColormap  cmap,
                            double      vmin,
                            double      vmax,
                            const char *name,
                            const char *units);

/* "Nice" tick positions covering [vmin, vmax]: a step of 1, 2 or 5 times a
 * power of ten giving about @target ticks.  Returns the count written. */
guint      wb_nice_ticks   (double      vmin,
                            double      vmax,
                            guint       target,
                            double     *ticks,
                            guint       max_ticks);
char      *wb_format_tick  (double      value,
                            double      step);

G_END_DECLS
