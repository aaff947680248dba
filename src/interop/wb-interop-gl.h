/* wb-interop-gl.h: the GL side of the display paths, and the field renderer
 * shared by the GTK field view and the headless proof.
 *
 * Every function here needs a current GL context (3.2 core or later, or
 * GLES 3.0 for the renderer) and must run on the thread that owns it.
 */
#pragma once

#include <glib.h>
#include <epoxy/gl.h>
#include "wb-interop.h"

G_BEGIN_DECLS

/* Fills caps->gl_*: renderer, GL_EXT_memory_object_fd, GL_EXT_semaphore_fd
 * and the device UUIDs of the current context.  @api says how the context
 * was made current (EGL or GLX) for cl_khr_gl_sharing. */
void      wb_gl_probe              (WbInteropCaps *caps,
                                    WbGlApi        api);

/* Imports *@fd (opaque, from Vulkan) as a GL memory object of
 * @allocation_size bytes and makes *buffer a GL buffer of @size bytes
 * backed by it.  Once GL has taken the fd, *@fd is set to -1 (even if a
 * later step fails); otherwise the caller still owns it. */
gboolean  wb_gl_import_memory_fd   (int           *fd,
                                    gsize          allocation_size,
                                    gboolean       dedicated,
                                    gsize          size,
                                    GLuint        *memory_object,
                                    GLuint        *buffer,
                                    GError       **error);

/* Checks glGetError; sets @error naming @what on any error. */
gboolean  wb_gl_check              (const char    *what,
                                    GError       **error);

/* The field renderer: an R32F texture of the displayed cells drawn through
 * shaders/field.vert.glsl and shaders/field.frag.glsl (the app's shaders). */
typedef struct _WbFieldRenderer WbFieldRenderer;

/* @version: the "#version" line to prepend ("#version 150\n" for core GL,
 * "#version 300 es\n" for GLES). NULL: the bundled shader sources. */
WbFieldRenderer *wb_field_renderer_new   (const char    *version,
                                          const char    *vertex_source,
                                          const char    *fragment_source,
                                          GError       **error);
/* An upload target only: uploads (wb_field_renderer_upload_host,
 * _upload_buffer, wb_interop_frames_show) replace the contents of
 * @texture, an R32F texture of @nx x @ny cells that the caller allocated,
 * owns and draws (the GTK field view, with its own shaders and overlays).
 * Not for wb_field_renderer_draw () or _set_size (). */
WbFieldRenderer *wb_field_renderer_new_for_texture (GLuint texture,
                                                    guint  nx,
                                                    guint  ny);
void      wb_field_renderer_free         (WbFieldRenderer *r);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (WbFieldRenderer, wb_field_renderer_free)

/* The shader sources bundled with the interop library. */
char     *wb_field_renderer_shader_source (const char  *name,
                                           GError     **error);

/* (Re)allocates the field texture for @nx x @ny cells. */
void      wb_field_renderer_set_size     (WbFieldRenderer *r,
                                          guint            nx,
                                          guint            ny);
void      wb_field_renderer_set_colormap (WbFieldRenderer *r,
                                          const guint8    *rgb256);
void      wb_field_renderer_set_range    (WbFieldRenderer *r,
                                          double           vmin,
                                          double           vmax);
/* Host copy: uploads @data (nx * ny floats) from host memory. */
void      wb_field_renderer_upload_host  (WbFieldRenderer *r,
                                          const float     *data);
/* Sharing paths: copies from GL buffer @buffer at @offset into the texture
 * on the GPU (a pixel-unpack transfer, no host memory involved). */
void      wb_field_renderer_upload_buffer (WbFieldRenderer *r,
                                           GLuint           buffer,
                                           gsize            offset);
/* Draws into the current framebuffer and viewport, the field filling
 * @rect (x0, y0, x1, y1 in normalised device coordinates). */
void      wb_field_renderer_draw         (WbFieldRenderer *r,
                                          const float     *rect);
guint64   wb_field_renderer_get_host_bytes (WbFieldRenderer *r);

G_END_DECLS
