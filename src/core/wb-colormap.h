/* wb-colormap.h: colormaps as 256-entry RGB tables: viridis (perceptual
 * sequential), hot (temperature), a diverging blue-white-red map centred
 * on zero (stresses) and grey.  The same tables feed PNG export and the GL
 * view's 1D texture. */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

typedef enum
{
  WB_COLORMAP_VIRIDIS,
  WB_COLORMAP_HOT,
  WB_COLORMAP_DIVERGING,
  WB_COLORMAP_GRAY,
  WB_COLORMAP_N
} WbColormap;

/* 256 * 3 bytes. */
const guint8 *wb_colormap_table       (WbColormap    cmap);
/* @t in [0, 1], clamped; NaN maps to magenta. */
void          wb_colormap_map         (WbColormap    cmap,
                                       double        t,
                                       guint8       *rgb);
const char   *wb_colormap_to_string   (WbColormap    cmap);
gboolean      wb_colormap_from_string (const char   *name,
                                       WbColormap   *out);
gboolean      wb_colormap_is_diverging (WbColormap   cmap);
/* CIE L* of an sRGB colour, for tests of monotonic lightness. */
double        wb_colormap_lightness   (const guint8 *rgb);

G_END_DECLS
