/* wb-field-view.h: a GtkGLArea that draws a 2D field, or a slice of a 3D
 * one, through a colormap, with zoom, pan, hover readout and a material
 * outline overlay. */
#pragma once

#include <gtk/gtk.h>
#include "wb-colormap.h"
#include "wb-device.h"
#include "wb-field.h"

G_BEGIN_DECLS

#define WB_TYPE_FIELD_VIEW (wb_field_view_get_type ())
G_DECLARE_FINAL_TYPE (WbFieldView, wb_field_view, WB, FIELD_VIEW, GtkGLArea)

GtkWidget  *wb_field_view_new              (void);

/* The full field (2D or 3D); the view keeps a reference. */
void        wb_field_view_set_field        (WbFieldView  *self,
                                            WbField      *field);
WbField    *wb_field_view_get_field        (WbFieldView  *self);
/* The slice actually shown (2D), or NULL. */
WbField    *wb_field_view_get_slice        (WbFieldView  *self);
/* A "material" field of the same shape, for the outline overlay. */
void        wb_field_view_set_material     (WbFieldView  *self,
                                            WbField      *material);
void        wb_field_view_set_show_outline (WbFieldView  *self,
                                            gboolean      show);

void        wb_field_view_set_colormap     (WbFieldView  *self,
                                            WbColormap    cmap);
WbColormap  wb_field_view_get_colormap     (WbFieldView  *self);
/* @fixed FALSE: min..max of the field (symmetric for diverging maps). */
void        wb_field_view_set_range        (WbFieldView  *self,
                                            gboolean      fixed,
                                            double        vmin,
                                            double        vmax);
/* The range in use for the current field. */
void        wb_field_view_get_range        (WbFieldView  *self,
                                            double       *vmin,
                                            double       *vmax);

/* For 3D fields: the axis normal to the slice and the index (-1: middle). */
void        wb_field_view_set_slice        (WbFieldView  *self,
                                            guint         axis,
                                            gssize        index);
guint       wb_field_view_get_slice_axis   (WbFieldView  *self);
gsize       wb_field_view_get_slice_index  (WbFieldView  *self);

void        wb_field_view_reset_view       (WbFieldView  *self);
void        wb_field_view_zoom             (WbFieldView  *self,
                                            double        factor,
                                            double        x,
                                            double        y);

/* The cell under widget point (x, y) and its value; FALSE outside. */
gboolean    wb_field_view_pick             (WbFieldView  *self,
                                            double        x,
                                            double        y,
                                            gsize        *cell,
                                            float        *value);
/* "i 12  j 30  k 24   x 6.0 mm  y 15.0 mm  z 12.0 mm   T 41.23 degC" */
char       *wb_field_view_readout          (WbFieldView  *self,
                                            double        x,
                                            double        y);
/* Widget coordinates of the centre of @cell, if it lies in the slice shown. */
gboolean    wb_field_view_cell_to_widget   (WbFieldView  *self,
                                            const gsize  *cell,
                                            double       *x,
                                            double       *y);
/* The backend the frames come from, for the display path's choice. */
void        wb_field_view_set_device       (WbFieldView  *self,
                                            WbDevice     *device);
/* How frames reach the view and why (docs/interop.md), e.g. "host copy:
 * no gl-sharing (...); no external-memory (...)". */
const char *wb_field_view_get_display_reason (WbFieldView *self);

/* Frames drawn since creation (for frames/s). */
guint64     wb_field_view_get_frames_drawn (WbFieldView  *self);

G_END_DECLS
