/* wb-interop-frames.h: the displayed field, handed from OpenCL to GL
 * through a ring of slots on the chosen display path.
 *
 * The producer (the thread that owns the CL queue) publishes a field: a
 * device-to-device copy of n_cells floats into a free slot, enqueued after
 * the solver's steps, never waited for.  The consumer (the GL thread)
 * shows the newest slot whose copy has finished: a GPU-side upload into the
 * renderer's texture on the sharing paths, or from the host buffer the copy
 * read into on the host-copy path.  A GL fence marks when the upload has
 * read the slot; only then can the producer reuse it.  With external
 * semaphores (WB_INTEROP_SYNC_SEMAPHORE) both hand-offs are GPU-side waits
 * instead and the consumer shows the newest slot at once.  Neither side
 * waits on the other; a frame with no free slot is skipped and counted.
 */
#pragma once

#include <glib.h>
#include "wb-cl.h"
#include "wb-interop.h"
#include "wb-interop-gl.h"

G_BEGIN_DECLS

typedef struct _WbInteropFrames WbInteropFrames;

/* With the GL context current.  @cl is the context the solver's buffers
 * live in (for gl-sharing it must have been made by
 * wb_interop_cl_context_new_gl).  @n_slots >= 2. */
WbInteropFrames *wb_interop_frames_new    (WbClContext          *cl,
                                           const WbInteropCaps  *caps,
                                           const WbInteropChoice *choice,
                                           gsize                 n_cells,
                                           guint                 n_slots,
                                           GError              **error);
/* As wb_interop_frames_new (), but when the chosen path fails at setup
 * (an import the driver refuses), falls back to the next path the caps
 * allow, host copy last, updating @choice's path and reason. */
WbInteropFrames *wb_interop_frames_new_with_fallback (WbClContext         *cl,
                                                      const WbInteropCaps *caps,
                                                      WbInteropChoice     *choice,
                                                      gsize                n_cells,
                                                      guint                n_slots,
                                                      GError             **error);
/* With the GL context current. */
void         wb_interop_frames_free       (WbInteropFrames *f);

WbDisplayPath wb_interop_frames_get_path  (WbInteropFrames *f);
/* The hand-off in use (semaphores may have fallen back to finishing). */
WbInteropSync wb_interop_frames_get_sync  (WbInteropFrames *f);

/* Producer: enqueues the copy of @n_cells floats of @src from byte
 * @src_offset into a free slot, tagged @tag.  *published is FALSE when
 * every slot was busy (the frame is skipped). */
gboolean     wb_interop_frames_publish    (WbInteropFrames *f,
                                           cl_mem           src,
                                           gsize            src_offset,
                                           guint64          tag,
                                           gboolean        *published,
                                           GError         **error);

/* Producer: the same for a slice of a 3D field of @shape (x fastest)
 * normal to @axis at @index, in wb_field_slice ()'s layout; slices along x
 * and y are strided copies (clEnqueueCopyBufferRect). */
gboolean     wb_interop_frames_publish_slice (WbInteropFrames *f,
                                              cl_mem           src,
                                              const gsize     *shape,
                                              guint            axis,
                                              gsize            index,
                                              guint64          tag,
                                              gboolean        *published,
                                              GError         **error);

/* Consumer (GL thread): uploads the newest finished slot with a tag up to
 * @max_tag into @r.  With @wait, waits for that slot's copy and for older
 * GL fences instead of skipping.  *tag gets the shown tag; returns FALSE
 * only on error; *shown says whether a new frame was uploaded. */
gboolean     wb_interop_frames_show       (WbInteropFrames *f,
                                           WbFieldRenderer *r,
                                           guint64          max_tag,
                                           gboolean         wait,
                                           guint64         *tag,
                                           gboolean        *shown,
                                           GError         **error);

/* Reads the slot shown last, as the producer wrote it (for checks). */
gboolean     wb_interop_frames_read_shown (WbInteropFrames *f,
                                           float           *dst,
                                           GError         **error);

/* Host bytes copied per shown frame on this path, and totals. */
guint64      wb_interop_frames_host_bytes_per_frame (WbInteropFrames *f);
guint64      wb_interop_frames_get_n_published (WbInteropFrames *f);
guint64      wb_interop_frames_get_n_shown     (WbInteropFrames *f);
guint64      wb_interop_frames_get_n_skipped   (WbInteropFrames *f);

/* A CL context on @device made against the current GL context
 * (cl_khr_gl_sharing), after checking with clGetGLContextInfoKHR that
 * @device is the one the GL context runs on. */
WbClContext *wb_interop_cl_context_new_gl (WbDevice        *device,
                                           WbGlApi          api,
                                           gpointer         gl_display,
                                           gpointer         gl_context,
                                           GError         **error);

G_END_DECLS
