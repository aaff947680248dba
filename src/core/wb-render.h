/* wb-render.h: a 2D field (or a slice of a 3D one) through a colormap into
 * an RGBA image with a colorbar, labels and units; and PNG files of it
 * through libpng, written atomically. */
#pragma once

#include <glib.h>
#include "wb-colormap.h"
#include "wb-field.h"

G_BEGIN_DECLS

typedef struct
{
  WbColormap  colormap;
  gboolean    fixed_range;  /* else automatic: min..max, symmetric for diverging maps */
  double      vmin;
  double      vmax;
  guint       slice_axis;   /* for 3D fields: 0 x, 1 y, 2 z */
  gssize      slice_index;  /* -1: the middle */
  guint       scale;        /* pixels per cell, 0: automatic */
  gboolean    colorbar;
  const char *title;        /* NULL: the field name */
} WbRenderOptions;

void      wb_render_options_init   (WbRenderOptions *opts);

typedef struct
{
  guint   width;
  guint   height;
  guint8 *rgba;             /* width * height * 4 */
  /* Where the field is drawn and the range used, for pixel round trips. */
  guint   field_x, field_y, field_w, field_h;
  double  vmin, vmax;
} WbImage;

void      wb_image_free            (WbImage      *image);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (WbImage, wb_image_free)

/* The range the options give for @field (auto: finite min/max; symmetric
 * about zero for diverging maps). */
void      wb_render_range          (const WbField *field,
                                    const WbRenderOptions *opts,
                                    double       *vmin,
                                    double       *vmax);

/* @field is 2D, or 3D (sliced per @opts).  Row 0 of the image is the top;
 * the y axis points up (j = ny-1 at the top). */
WbImage  *wb_render_field          (const WbField *field,
                                    const WbRenderOptions *opts,
                                    GError      **error);

/* Draws @text with the built-in 5x7 font at (x, y), scale @s. */
void      wb_image_draw_text       (WbImage      *image,
                                    int           x,
                                    int           y,
                                    int           s,
                                    const char   *text,
                                    const guint8 *rgb);

gboolean  wb_png_write             (const WbImage *image,
                                    const char   *path,
                                    GError      **error);
/* Reads an 8-bit RGB(A) PNG into RGBA. */
WbImage  *wb_png_read              (const char   *path,
                                    GError      **error);

gboolean  wb_png_write_field       (const WbField *field,
                                    const WbRenderOptions *opts,
                                    const char   *path,
                                    GError      **error);

G_END_DECLS
