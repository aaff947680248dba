/* wb-field-view.h: a GtkGLArea that draws a 2D field, or a slice of a 3D
 * one, through a colormap, with zoom, pan, hover readout and a material
 * outline overlay. */
#pragma once

#include <gtk/gtk.h>
#include "wb-colormap.h"
#include "wb-device.h"
#include "wb-field.h"
#include "wb-runner.h"

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

/* Frames (docs/interop.md, "In the GTK workbench"): the view publishes
 * the displayed field (or slice) through WbInteropFrames on @runner's
 * worker (wb_runner_set_publish_func), on the best display path the
 * drivers allow; host frames (wb_field_view_set_field) then come at a low
 * rate, for the readout and the colour range, and are drawn only where
 * the view cannot publish (the reference backend, a field with no device
 * buffer, a failure).  NULL detaches.  The view keeps no reference. */
void        wb_field_view_set_runner       (WbFieldView  *self,
                                            WbRunner     *runner);

/* Where the drawn frames come from now. */
typedef enum
{
  WB_FIELD_VIEW_FRAMES_READ_BACK,         /* host frames from the runner */
  WB_FIELD_VIEW_FRAMES_GL_SHARING,        /* published, cl_khr_gl_sharing */
  WB_FIELD_VIEW_FRAMES_EXTERNAL_MEMORY,   /* published, Vulkan-allocated memory */
  WB_FIELD_VIEW_FRAMES_HOST_COPY,         /* published, through a host buffer */
} WbFieldViewFrames;

/* The frames' path and the host bytes each published frame costs (0 on
 * the sharing paths; the read-back and the upload of the slice on host
 * copy; 0 for READ_BACK, whose cost the runner's frames tell). */
WbFieldViewFrames wb_field_view_get_frames (WbFieldView *self,
                                            guint64     *host_bytes_per_frame);
/* The hand-off between OpenCL and GL in use ("finish", "gl-event",
 * "semaphore"), or NULL when frames are not published. */
const char *wb_field_view_get_display_sync (WbFieldView *self);
/* TRUE when the view draws a published frame; *step gets its step. */
gboolean    wb_field_view_get_published_step (WbFieldView *self,
                                              guint64     *step);
/* Draw host frames even where frames are published (after a blow-up the
 * runner's host frame is the last good state, older than the last
 * published one).  Cleared by the next published frame after a load. */
void        wb_field_view_set_prefer_host_frames (WbFieldView *self,
                                                  gboolean     prefer);
/* For cl_khr_gl_sharing: where the display path for @device would be
 * gl-sharing, a CL context on @device made against this view's GL context
 * (wb_interop_cl_context_new_gl), for the runner to make the next sim on
 * (wb_runner_set_cl_context); NULL otherwise or when that fails (the
 * reason then says why, and frames take the next path). */
WbClContext *wb_field_view_make_shared_context (WbFieldView *self,
                                                WbDevice    *device);

/* The frame drawn now, as the display received it: the slot last shown
 * (wb_interop_frames_read_shown) where frames are published, else the
 * host slice.  A 2-D field of the slice's shape. */
WbField    *wb_field_view_read_frame       (WbFieldView  *self,
                                            GError      **error);

/* Frames drawn since creation (for frames/s). */
guint64     wb_field_view_get_frames_drawn (WbFieldView  *self);

G_END_DECLS
