#define G_LOG_DOMAIN "wb-interop"
#include "config.h"

#include <string.h>
#include <unistd.h>

#include "wb-error.h"
#include "wb-cl-headers.h"
#include <CL/cl_gl.h>
#include "wb-interop-frames.h"
#include "wb-interop-vk.h"
#include <epoxy/egl.h>

/* Vulkan and OpenCL drivers that share a GL driver's core (NVIDIA's) may
 * leave the thread's EGL context unbound after creating their own
 * objects; GL calls that follow would then go nowhere.  Remember the
 * current EGL context around such calls and restore it.  A GLX context
 * is left alone (eglGetCurrentContext () is then EGL_NO_CONTEXT). */
typedef struct
{
  EGLDisplay display;
  EGLSurface draw, read;
  EGLContext context;
} EglCurrent;

static void
egl_current_save (EglCurrent *c)
{
  c->context = eglGetCurrentContext ();
  c->display = eglGetCurrentDisplay ();
  c->draw = eglGetCurrentSurface (EGL_DRAW);
  c->read = eglGetCurrentSurface (EGL_READ);
}

static void
egl_current_restore (const EglCurrent *c)
{
  if (c->context != EGL_NO_CONTEXT && eglGetCurrentContext () != c->context)
    {
      g_message ("the EGL context was unbound by the Vulkan or OpenCL driver; rebinding it");
      eglMakeCurrent (c->display, c->draw, c->read, c->context);
    }
}

typedef enum
{
  SLOT_FREE,       /* the producer may write it */
  SLOT_WRITING,    /* the producer is enqueueing into it */
  SLOT_WRITTEN,    /* copy enqueued; done when its event completes */
  SLOT_SHOWN,      /* GL uploaded it; reusable once the fence signals */
} SlotState;

typedef struct
{
  SlotState   state;
  guint64     tag;
  guint64     seq;
  cl_mem      mem;          /* CL view (import, GL buffer or plain buffer) */
  cl_event    event;        /* the copy (and release) of the last publish */
  GLuint      gl_buffer;    /* sharing paths */
  GLuint      gl_memory;    /* external memory: the GL memory object */
  GLsync      fence;        /* SHOWN: the upload that read the slot */
  WbVkExport *vk;           /* external memory: the allocation */
  float      *host;         /* host copy: where the read lands */

  /* WB_INTEROP_SYNC_SEMAPHORE: "written" is signalled by CL after the copy
   * and waited for by GL before the upload; "read" the other way round.
   * Binary semaphores: every signal must be waited for once before the
   * next, which the *_signaled flags keep track of. */
  WbVkSemaphore   *vk_written, *vk_read;
  cl_semaphore_khr cl_written, cl_read;
  GLuint           gl_written, gl_read;
  gboolean         written_signaled, read_signaled;
} Slot;

struct _WbInteropFrames
{
  WbClContext  *cl;
  WbDisplayPath path;
  gsize         n_cells;
  gsize         size;
  guint         n_slots;
  Slot         *slots;
  WbVkContext  *vk;
  GMutex        lock;
  guint64       seq;
  int           shown;       /* slot index shown last, -1 */
  guint64       n_published, n_shown, n_skipped;

  clEnqueueAcquireExternalMemObjectsKHR_fn acquire_ext;
  clEnqueueReleaseExternalMemObjectsKHR_fn release_ext;

  WbInteropSync sync;
  clCreateSemaphoreWithPropertiesKHR_fn create_sem;
  clEnqueueWaitSemaphoresKHR_fn wait_sem;
  clEnqueueSignalSemaphoresKHR_fn signal_sem;
  clReleaseSemaphoreKHR_fn release_sem;
};

static void *
cl_ext_fn (WbClContext *cl,
           const char  *name)
{
  return clGetExtensionFunctionAddressForPlatform (cl->device->platform, name);
}

static gboolean
slots_external_memory (WbInteropFrames       *f,
                       const WbInteropCaps   *caps,
                       const WbInteropChoice *choice,
                       GError               **error)
{
  typedef cl_mem (CL_API_CALL *CreateBufferWithProperties) (cl_context, const cl_mem_properties *,
                                                           cl_mem_flags, size_t, void *, cl_int *);
  CreateBufferWithProperties create = clCreateBufferWithProperties;
  EglCurrent current;

  g_assert (choice->vk_device >= 0);
  egl_current_save (&current);
  f->vk = wb_vk_context_new (caps->vk_devices[choice->vk_device].uuid, error);
  egl_current_restore (&current);
  if (f->vk == NULL)
    return FALSE;
  f->acquire_ext = cl_ext_fn (f->cl, "clEnqueueAcquireExternalMemObjectsKHR");
  f->release_ext = cl_ext_fn (f->cl, "clEnqueueReleaseExternalMemObjectsKHR");

  for (guint i = 0; i < f->n_slots; i++)
    {
      Slot *s = &f->slots[i];
      g_autofree cl_mem_properties *props = NULL;
      int gl_fd, cl_fd;
      cl_int status = CL_SUCCESS;
      gboolean ok;

      s->vk = wb_vk_export_new (f->vk, f->size, error);
      if (s->vk == NULL)
        return FALSE;

      gl_fd = wb_vk_export_get_fd (s->vk, error);
      egl_current_restore (&current);
      if (gl_fd < 0)
        return FALSE;
      ok = wb_gl_import_memory_fd (&gl_fd, wb_vk_export_get_allocation_size (s->vk),
                                   wb_vk_export_get_dedicated (s->vk), f->size,
                                   &s->gl_memory, &s->gl_buffer, error);
      if (gl_fd >= 0)
        close (gl_fd);
      if (!ok)
        return FALSE;

      /* A second descriptor of the same memory for CL.  NVIDIA's drivers,
       * like CUDA's cudaImportExternalMemory, take ownership of an fd
       * imported successfully, so it is not closed here after success. */
      cl_fd = wb_vk_export_get_fd (s->vk, error);
      if (cl_fd < 0)
        return FALSE;
      props = wb_interop_external_memory_properties (cl_fd, f->cl->device->device, NULL, error);
      if (props == NULL)
        {
          close (cl_fd);
          return FALSE;
        }
      s->mem = create (f->cl->context, props, CL_MEM_READ_WRITE, f->size, NULL, &status);
      egl_current_restore (&current);
      if (!wb_cl_check (status, "clCreateBufferWithProperties (external memory)", error))
        {
          close (cl_fd);
          return FALSE;
        }
    }
  return TRUE;
}

static gboolean
import_semaphore (WbInteropFrames  *f,
                  WbVkSemaphore   **vk,
                  cl_semaphore_khr *cl,
                  GLuint           *gl,
                  GError          **error)
{
  g_autofree cl_semaphore_properties_khr *props = NULL;
  cl_int status = CL_SUCCESS;
  int fd;

  *vk = wb_vk_semaphore_new (f->vk, error);
  if (*vk == NULL)
    return FALSE;
  fd = wb_vk_semaphore_get_fd (*vk, error);
  if (fd < 0)
    return FALSE;
  while (glGetError () != GL_NO_ERROR)
    ;
  glGenSemaphoresEXT (1, gl);
  glImportSemaphoreFdEXT (*gl, GL_HANDLE_TYPE_OPAQUE_FD_EXT, fd);
  if (!wb_gl_check ("glImportSemaphoreFdEXT", error))
    {
      close (fd);
      return FALSE;
    }
  fd = wb_vk_semaphore_get_fd (*vk, error);
  if (fd < 0)
    return FALSE;
  props = wb_interop_semaphore_properties (fd, f->cl->device->device, NULL, error);
  *cl = f->create_sem (f->cl->context, props, &status);
  if (status == CL_INVALID_PROPERTY)
    {
      /* NVIDIA 580 refuses the (optional) device list on semaphores:
       * the context has one device anyway. */
      g_clear_pointer (&props, g_free);
      props = wb_interop_semaphore_properties (fd, NULL, NULL, error);
      *cl = f->create_sem (f->cl->context, props, &status);
    }
  if (!wb_cl_check (status, "clCreateSemaphoreWithPropertiesKHR", error))
    {
      *cl = NULL;
      close (fd);
      return FALSE;
    }
  return TRUE;
}

static void
slots_semaphores_clear (WbInteropFrames *f)
{
  for (guint i = 0; i < f->n_slots; i++)
    {
      Slot *s = &f->slots[i];

      if (s->cl_written && f->release_sem)
        f->release_sem (s->cl_written);
      if (s->cl_read && f->release_sem)
        f->release_sem (s->cl_read);
      s->cl_written = s->cl_read = NULL;
      if (s->gl_written)
        glDeleteSemaphoresEXT (1, &s->gl_written);
      if (s->gl_read)
        glDeleteSemaphoresEXT (1, &s->gl_read);
      s->gl_written = s->gl_read = 0;
      g_clear_pointer (&s->vk_written, wb_vk_semaphore_free);
      g_clear_pointer (&s->vk_read, wb_vk_semaphore_free);
      s->written_signaled = s->read_signaled = FALSE;
    }
}

/* Two semaphores per slot.  Any failure keeps the memory path and hands
 * over by finishing instead, saying so. */
static void
slots_semaphores (WbInteropFrames *f)
{
  g_autoptr(GError) error = NULL;
  EglCurrent current;
  gboolean ok = TRUE;

  f->create_sem = cl_ext_fn (f->cl, "clCreateSemaphoreWithPropertiesKHR");
  f->wait_sem = cl_ext_fn (f->cl, "clEnqueueWaitSemaphoresKHR");
  f->signal_sem = cl_ext_fn (f->cl, "clEnqueueSignalSemaphoresKHR");
  f->release_sem = cl_ext_fn (f->cl, "clReleaseSemaphoreKHR");
  if (!f->create_sem || !f->wait_sem || !f->signal_sem || !f->release_sem)
    {
      g_set_error (&error, WB_ERROR, WB_ERROR_DEVICE, "the OpenCL platform lacks the cl_khr_semaphore entry points");
      ok = FALSE;
    }
  egl_current_save (&current);
  for (guint i = 0; ok && i < f->n_slots; i++)
    {
      Slot *s = &f->slots[i];

      ok = import_semaphore (f, &s->vk_written, &s->cl_written, &s->gl_written, &error)
           && import_semaphore (f, &s->vk_read, &s->cl_read, &s->gl_read, &error);
      egl_current_restore (&current);
    }
  if (!ok)
    {
      g_message ("external semaphores unavailable (%s); handing frames over by finishing", error->message);
      slots_semaphores_clear (f);
      f->sync = WB_INTEROP_SYNC_FINISH;
    }
}

static gboolean
slots_gl_sharing (WbInteropFrames *f,
                  GError         **error)
{
  for (guint i = 0; i < f->n_slots; i++)
    {
      Slot *s = &f->slots[i];
      cl_int status = CL_SUCCESS;

      /* GL 3.x / GLES 3.0 calls, not 4.5 DSA: GTK's context (the app's
       * view) may be any version from 3.0; clCreateFromGLBuffer needs a
       * buffer whose data store exists (glBufferData). */
      glGenBuffers (1, &s->gl_buffer);
      glBindBuffer (GL_COPY_WRITE_BUFFER, s->gl_buffer);
      glBufferData (GL_COPY_WRITE_BUFFER, f->size, NULL, GL_DYNAMIC_COPY);
      glBindBuffer (GL_COPY_WRITE_BUFFER, 0);
      if (!wb_gl_check ("glBufferData (GL sharing)", error))
        return FALSE;
      s->mem = clCreateFromGLBuffer (f->cl->context, CL_MEM_READ_WRITE, s->gl_buffer, &status);
      if (!wb_cl_check (status, "clCreateFromGLBuffer", error))
        return FALSE;
    }
  /* GL must be done with the buffers before CL first acquires them. */
  glFinish ();
  return TRUE;
}

WbInteropFrames *
wb_interop_frames_new (WbClContext           *cl,
                       const WbInteropCaps   *caps,
                       const WbInteropChoice *choice,
                       gsize                  n_cells,
                       guint                  n_slots,
                       GError               **error)
{
  WbInteropFrames *f;
  gboolean ok = TRUE;

  g_return_val_if_fail (cl != NULL && n_cells > 0 && n_slots >= 2, NULL);

  f = g_new0 (WbInteropFrames, 1);
  f->cl = wb_cl_context_ref (cl);
  f->path = choice->path;
  f->n_cells = n_cells;
  f->size = n_cells * sizeof (float);
  f->n_slots = n_slots;
  f->slots = g_new0 (Slot, n_slots);
  f->shown = -1;
  /* Semaphores are set up for external memory only. */
  f->sync = choice->sync == WB_INTEROP_SYNC_SEMAPHORE && f->path != WB_DISPLAY_PATH_EXTERNAL_MEMORY
            ? WB_INTEROP_SYNC_FINISH : choice->sync;
  g_mutex_init (&f->lock);

  switch (f->path)
    {
    case WB_DISPLAY_PATH_EXTERNAL_MEMORY:
      ok = slots_external_memory (f, caps, choice, error);
      if (ok && f->sync == WB_INTEROP_SYNC_SEMAPHORE)
        slots_semaphores (f);
      else if (f->sync == WB_INTEROP_SYNC_SEMAPHORE)
        f->sync = WB_INTEROP_SYNC_FINISH;
      break;
    case WB_DISPLAY_PATH_GL_SHARING:
      ok = slots_gl_sharing (f, error);
      break;
    case WB_DISPLAY_PATH_HOST_COPY:
    default:
      for (guint i = 0; i < n_slots; i++)
        f->slots[i].host = g_malloc (f->size);
      break;
    }
  if (!ok)
    {
      g_prefix_error (error, "%s display path: ", wb_display_path_to_label (f->path));
      wb_interop_frames_free (f);
      return NULL;
    }
  return f;
}

void
wb_interop_frames_free (WbInteropFrames *f)
{
  EglCurrent current;

  if (f == NULL)
    return;
  clFinish (f->cl->queue);
  if (f->sync == WB_INTEROP_SYNC_SEMAPHORE)
    {
      glFinish ();
      slots_semaphores_clear (f);
    }
  /* GL objects first: releasing imported CL memory was seen (NVIDIA 580)
   * to leave no EGL context current, after which GL entry points not yet
   * resolved by epoxy cannot be. */
  for (guint i = 0; i < f->n_slots; i++)
    {
      Slot *s = &f->slots[i];

      if (s->fence)
        glDeleteSync (s->fence);
      if (s->gl_buffer)
        glDeleteBuffers (1, &s->gl_buffer);
      if (s->gl_memory)
        glDeleteMemoryObjectsEXT (1, &s->gl_memory);
    }
  egl_current_save (&current);
  for (guint i = 0; i < f->n_slots; i++)
    {
      Slot *s = &f->slots[i];

      WB_CL_RELEASE (s->event, clReleaseEvent);
      WB_CL_RELEASE (s->mem, clReleaseMemObject);
      g_clear_pointer (&s->vk, wb_vk_export_free);
      g_free (s->host);
    }
  g_clear_pointer (&f->vk, wb_vk_context_free);
  egl_current_restore (&current);
  g_free (f->slots);
  g_mutex_clear (&f->lock);
  wb_cl_context_unref (f->cl);
  g_free (f);
}

WbDisplayPath
wb_interop_frames_get_path (WbInteropFrames *f)
{
  return f->path;
}

/* One device-side copy of the shown cells: contiguous (an offset), or a
 * rectangle for slices across the fastest axis (clEnqueue*BufferRect). */
typedef struct
{
  gboolean rect;
  gsize    offset;
  size_t   src_origin[3], region[3];
  size_t   src_row_pitch, src_slice_pitch, dst_row_pitch, dst_slice_pitch;
} CopyOp;

static cl_int
enqueue_copy (WbInteropFrames *f,
              cl_mem           src,
              Slot            *s,
              const CopyOp    *op,
              cl_event        *event)
{
  static const size_t zero[3] = { 0, 0, 0 };
  cl_command_queue q = f->cl->queue;

  if (f->path == WB_DISPLAY_PATH_HOST_COPY)
    {
      if (!op->rect)
        return clEnqueueReadBuffer (q, src, CL_FALSE, op->offset, f->size, s->host, 0, NULL, event);
      return clEnqueueReadBufferRect (q, src, CL_FALSE, op->src_origin, zero, op->region,
                                      op->src_row_pitch, op->src_slice_pitch,
                                      op->dst_row_pitch, op->dst_slice_pitch, s->host, 0, NULL, event);
    }
  if (!op->rect)
    return clEnqueueCopyBuffer (q, src, s->mem, op->offset, 0, f->size, 0, NULL, event);
  return clEnqueueCopyBufferRect (q, src, s->mem, op->src_origin, zero, op->region,
                                  op->src_row_pitch, op->src_slice_pitch,
                                  op->dst_row_pitch, op->dst_slice_pitch, 0, NULL, event);
}

static gboolean
publish (WbInteropFrames *f,
         cl_mem           src,
         const CopyOp    *op,
         guint64          tag,
         gboolean        *published,
         GError         **error)
{
  cl_command_queue q = f->cl->queue;
  cl_event event = NULL;
  cl_int status;
  int pick = -1;
  Slot *s;

  *published = FALSE;
  g_mutex_lock (&f->lock);
  /* A free slot, else the oldest written one that nobody shows (its frame
   * was never displayed and a newer one replaces it). */
  for (guint i = 0; i < f->n_slots; i++)
    if (f->slots[i].state == SLOT_FREE)
      {
        pick = i;
        break;
      }
  if (pick < 0)
    for (guint i = 0; i < f->n_slots; i++)
      if (f->slots[i].state == SLOT_WRITTEN
          && (pick < 0 || f->slots[i].seq < f->slots[pick].seq))
        pick = i;
  if (pick < 0)
    {
      f->n_skipped++;
      g_mutex_unlock (&f->lock);
      return TRUE;
    }
  s = &f->slots[pick];
  s->state = SLOT_WRITING;
  g_mutex_unlock (&f->lock);

  switch (f->path)
    {
    case WB_DISPLAY_PATH_EXTERNAL_MEMORY:
      if (f->sync == WB_INTEROP_SYNC_SEMAPHORE)
        {
          cl_semaphore_khr waits[2];
          cl_uint n_waits = 0;

          /* GL's upload of this slot must be done (read), and a signal
           * that GL never consumed (the frame was replaced unshown) is
           * consumed here so that the next signal is legal. */
          if (s->read_signaled)
            waits[n_waits++] = s->cl_read;
          if (s->written_signaled)
            waits[n_waits++] = s->cl_written;
          if (n_waits > 0)
            {
              status = f->wait_sem (q, n_waits, waits, NULL, 0, NULL, NULL);
              if (!wb_cl_check (status, "clEnqueueWaitSemaphoresKHR", error))
                goto fail;
              s->read_signaled = s->written_signaled = FALSE;
            }
        }
      if (f->acquire_ext)
        {
          status = f->acquire_ext (q, 1, &s->mem, 0, NULL, NULL);
          if (!wb_cl_check (status, "clEnqueueAcquireExternalMemObjectsKHR", error))
            goto fail;
        }
      status = enqueue_copy (f, src, s, op, f->release_ext ? NULL : &event);
      if (!wb_cl_check (status, "copy to the shared slot", error))
        goto fail;
      if (f->release_ext)
        {
          WB_CL_RELEASE (event, clReleaseEvent);
          status = f->release_ext (q, 1, &s->mem, 0, NULL, &event);
          if (!wb_cl_check (status, "clEnqueueReleaseExternalMemObjectsKHR", error))
            goto fail;
        }
      if (f->sync == WB_INTEROP_SYNC_SEMAPHORE)
        {
          WB_CL_RELEASE (event, clReleaseEvent);
          status = f->signal_sem (q, 1, &s->cl_written, NULL, 0, NULL, &event);
          if (!wb_cl_check (status, "clEnqueueSignalSemaphoresKHR", error))
            goto fail;
          s->written_signaled = TRUE;
        }
      break;

    case WB_DISPLAY_PATH_GL_SHARING:
      status = clEnqueueAcquireGLObjects (q, 1, &s->mem, 0, NULL, NULL);
      if (!wb_cl_check (status, "clEnqueueAcquireGLObjects", error))
        goto fail;
      status = enqueue_copy (f, src, s, op, NULL);
      if (!wb_cl_check (status, "copy to the GL buffer", error))
        goto fail;
      status = clEnqueueReleaseGLObjects (q, 1, &s->mem, 0, NULL, &event);
      if (!wb_cl_check (status, "clEnqueueReleaseGLObjects", error))
        goto fail;
      break;

    case WB_DISPLAY_PATH_HOST_COPY:
    default:
      status = enqueue_copy (f, src, s, op, &event);
      if (!wb_cl_check (status, "read back (frame)", error))
        goto fail;
      break;
    }
  clFlush (q);

  g_mutex_lock (&f->lock);
  WB_CL_RELEASE (s->event, clReleaseEvent);
  s->event = event;
  s->tag = tag;
  s->seq = ++f->seq;
  s->state = SLOT_WRITTEN;
  f->n_published++;
  g_mutex_unlock (&f->lock);
  *published = TRUE;
  return TRUE;

fail:
  WB_CL_RELEASE (event, clReleaseEvent);
  g_mutex_lock (&f->lock);
  s->state = SLOT_FREE;
  g_mutex_unlock (&f->lock);
  return FALSE;
}

gboolean
wb_interop_frames_publish (WbInteropFrames *f,
                           cl_mem           src,
                           gsize            src_offset,
                           guint64          tag,
                           gboolean        *published,
                           GError         **error)
{
  CopyOp op = { .rect = FALSE, .offset = src_offset };

  return publish (f, src, &op, tag, published, error);
}

gboolean
wb_interop_frames_publish_slice (WbInteropFrames *f,
                                 cl_mem           src,
                                 const gsize     *shape,
                                 guint            axis,
                                 gsize            index,
                                 guint64          tag,
                                 gboolean        *published,
                                 GError         **error)
{
  const gsize fs = sizeof (float);
  gsize cells;
  CopyOp op = { .rect = TRUE };

  *published = FALSE;
  if (axis > 2 || index >= shape[axis])
    {
      g_set_error (error, WB_ERROR, WB_ERROR_INVALID,
                   "slice %" G_GSIZE_FORMAT " along %c is outside the grid", index, "xyz"[MIN (axis, 2)]);
      return FALSE;
    }
  cells = shape[0] * shape[1] * shape[2] / shape[axis];
  if (cells != f->n_cells)
    {
      g_set_error (error, WB_ERROR, WB_ERROR_INVALID,
                   "a slice of %" G_GSIZE_FORMAT " cells does not fit frames of %" G_GSIZE_FORMAT,
                   cells, f->n_cells);
      return FALSE;
    }

  /* The slice's axes are the two remaining ones in order (wb_field_slice).
   * z: one contiguous block.  y: nz rows of nx cells.  x: a column of
   * single cells per (j, k), rows 4 bytes wide. */
  op.src_row_pitch = shape[0] * fs;
  op.src_slice_pitch = shape[0] * shape[1] * fs;
  switch (axis)
    {
    case 2:
      return wb_interop_frames_publish (f, src, index * op.src_slice_pitch, tag, published, error);
    case 1:
      op.src_origin[0] = 0;
      op.src_origin[1] = index;
      op.src_origin[2] = 0;
      op.region[0] = shape[0] * fs;
      op.region[1] = 1;
      op.region[2] = shape[2];
      op.dst_row_pitch = shape[0] * fs;
      op.dst_slice_pitch = shape[0] * fs;
      break;
    case 0:
    default:
      op.src_origin[0] = index * fs;
      op.src_origin[1] = 0;
      op.src_origin[2] = 0;
      op.region[0] = fs;
      op.region[1] = shape[1];
      op.region[2] = shape[2];
      op.dst_row_pitch = fs;
      op.dst_slice_pitch = shape[1] * fs;
      break;
    }
  return publish (f, src, &op, tag, published, error);
}

static gboolean
event_done (cl_event event)
{
  cl_int st = CL_QUEUED;

  if (event == NULL)
    return TRUE;
  if (clGetEventInfo (event, CL_EVENT_COMMAND_EXECUTION_STATUS, sizeof st, &st, NULL) != CL_SUCCESS)
    return TRUE;
  return st <= CL_COMPLETE;   /* CL_COMPLETE (0) or an error (< 0) */
}

/* Slots whose upload GL has finished go back to the producer; the one
 * shown last stays, for wb_interop_frames_read_shown (). */
static void
release_shown (WbInteropFrames *f,
               gboolean         wait)
{
  for (guint i = 0; i < f->n_slots; i++)
    {
      Slot *o = &f->slots[i];
      GLenum res;

      if (o->state != SLOT_SHOWN || (int) i == f->shown)
        continue;
      if (o->fence == NULL)
        {
          /* Semaphore hand-off: the producer's GPU-side wait on "read"
           * orders its next write after GL's upload. */
          if (f->sync == WB_INTEROP_SYNC_SEMAPHORE)
            {
              g_mutex_lock (&f->lock);
              o->state = SLOT_FREE;
              g_mutex_unlock (&f->lock);
            }
          continue;
        }
      res = glClientWaitSync (o->fence, 0, wait ? G_GUINT64_CONSTANT (5000000000) : 0);
      if (res == GL_ALREADY_SIGNALED || res == GL_CONDITION_SATISFIED)
        {
          glDeleteSync (o->fence);
          o->fence = NULL;
          g_mutex_lock (&f->lock);
          o->state = SLOT_FREE;
          g_mutex_unlock (&f->lock);
        }
    }
}

gboolean
wb_interop_frames_show (WbInteropFrames *f,
                        WbFieldRenderer *r,
                        guint64          max_tag,
                        gboolean         wait,
                        guint64         *tag,
                        gboolean        *shown,
                        GError         **error)
{
  int pick = -1;
  cl_event ev = NULL;
  Slot *s;
  cl_int st = CL_COMPLETE;

  *shown = FALSE;

  release_shown (f, wait);

  g_mutex_lock (&f->lock);
  for (guint i = 0; i < f->n_slots; i++)
    {
      Slot *c = &f->slots[i];

      if (c->state != SLOT_WRITTEN || c->tag > max_tag)
        continue;
      if (!wait && f->sync != WB_INTEROP_SYNC_SEMAPHORE && !event_done (c->event))
        continue;
      if (pick < 0 || c->seq > f->slots[pick].seq)
        pick = i;
    }
  if (pick >= 0)
    {
      s = &f->slots[pick];
      s->state = SLOT_SHOWN;
      /* Written slots older than this one would go back in time if shown
       * later (a consumer that shows less often than the producer
       * publishes): they return to the producer, as if overwritten.  The
       * queue is in order, so their copies are done or before its next. */
      for (guint i = 0; i < f->n_slots; i++)
        if (f->slots[i].state == SLOT_WRITTEN && f->slots[i].seq < s->seq)
          f->slots[i].state = SLOT_FREE;
      if (s->event && f->sync != WB_INTEROP_SYNC_SEMAPHORE)
        ev = s->event, clRetainEvent (ev);
    }
  g_mutex_unlock (&f->lock);
  if (pick < 0)
    return TRUE;

  if (ev)
    {
      st = clWaitForEvents (1, &ev);
      if (st == CL_SUCCESS)
        clGetEventInfo (ev, CL_EVENT_COMMAND_EXECUTION_STATUS, sizeof st, &st, NULL);
      clReleaseEvent (ev);
      if (!wb_cl_check (st, "frame copy", error))
        {
          g_mutex_lock (&f->lock);
          s->state = SLOT_FREE;
          g_mutex_unlock (&f->lock);
          return FALSE;
        }
    }

  if (f->sync == WB_INTEROP_SYNC_SEMAPHORE && s->written_signaled)
    {
      glWaitSemaphoreEXT (s->gl_written, 1, &s->gl_buffer, 0, NULL, NULL);
      s->written_signaled = FALSE;
    }
  if (f->path == WB_DISPLAY_PATH_HOST_COPY)
    wb_field_renderer_upload_host (r, s->host);
  else
    wb_field_renderer_upload_buffer (r, s->gl_buffer, 0);
  if (f->sync == WB_INTEROP_SYNC_SEMAPHORE)
    {
      glSignalSemaphoreEXT (s->gl_read, 1, &s->gl_buffer, 0, NULL, NULL);
      s->read_signaled = TRUE;
    }
  else
    s->fence = glFenceSync (GL_SYNC_GPU_COMMANDS_COMPLETE, 0);
  if (!wb_gl_check ("frame upload", error))
    return FALSE;
  glFlush ();

  /* The previously shown slot is now an ordinary shown one: freed when its
   * fence signals (on this call or a later one). */
  f->shown = pick;
  f->n_shown++;
  /* With @wait, the slot shown before this one is freed now rather than on
   * the next call, so that a producer running one frame ahead finds one. */
  if (wait)
    release_shown (f, TRUE);
  if (tag)
    *tag = s->tag;
  *shown = TRUE;
  return TRUE;
}

gboolean
wb_interop_frames_read_shown (WbInteropFrames *f,
                              float           *dst,
                              GError         **error)
{
  Slot *s;

  if (f->shown < 0)
    {
      g_set_error (error, WB_ERROR, WB_ERROR_NOT_FOUND, "no frame has been shown yet");
      return FALSE;
    }
  s = &f->slots[f->shown];
  if (f->path == WB_DISPLAY_PATH_HOST_COPY)
    {
      memcpy (dst, s->host, f->size);
      return TRUE;
    }
  /* Read through CL, the producer's view, so a check compares what CL
   * wrote with what GL drew. */
  if (f->path == WB_DISPLAY_PATH_GL_SHARING)
    {
      glFinish ();
      if (!wb_cl_check (clEnqueueAcquireGLObjects (f->cl->queue, 1, &s->mem, 0, NULL, NULL),
                        "clEnqueueAcquireGLObjects", error))
        return FALSE;
    }
  else
    {
      if (f->sync == WB_INTEROP_SYNC_SEMAPHORE && s->read_signaled)
        {
          if (!wb_cl_check (f->wait_sem (f->cl->queue, 1, &s->cl_read, NULL, 0, NULL, NULL),
                            "clEnqueueWaitSemaphoresKHR", error))
            return FALSE;
          s->read_signaled = FALSE;
        }
      if (f->acquire_ext)
        f->acquire_ext (f->cl->queue, 1, &s->mem, 0, NULL, NULL);
    }
  if (!wb_cl_check (clEnqueueReadBuffer (f->cl->queue, s->mem, CL_TRUE, 0, f->size, dst, 0, NULL, NULL),
                    "clEnqueueReadBuffer (shown slot)", error))
    return FALSE;
  if (f->path == WB_DISPLAY_PATH_GL_SHARING)
    clEnqueueReleaseGLObjects (f->cl->queue, 1, &s->mem, 0, NULL, NULL);
  else if (f->release_ext)
    f->release_ext (f->cl->queue, 1, &s->mem, 0, NULL, NULL);
  return wb_cl_finish (f->cl, error);
}

WbInteropSync
wb_interop_frames_get_sync (WbInteropFrames *f)
{
  return f->sync;
}

guint64
wb_interop_frames_host_bytes_per_frame (WbInteropFrames *f)
{
  return wb_interop_host_bytes_per_frame (f->path, f->n_cells);
}

guint64
wb_interop_frames_get_n_published (WbInteropFrames *f)
{
  return f->n_published;
}

guint64
wb_interop_frames_get_n_shown (WbInteropFrames *f)
{
  return f->n_shown;
}

guint64
wb_interop_frames_get_n_skipped (WbInteropFrames *f)
{
  return f->n_skipped;
}

WbClContext *
wb_interop_cl_context_new_gl (WbDevice *device,
                              WbGlApi   api,
                              gpointer  gl_display,
                              gpointer  gl_context,
                              GError  **error)
{
  g_autofree cl_context_properties *props = NULL;
  clGetGLContextInfoKHR_fn get_info;
  cl_device_id gl_dev = NULL;
  cl_context context;
  cl_command_queue queue;
  cl_int status = CL_SUCCESS;
  WbClContext *ctx;

  props = wb_interop_gl_context_properties (device->platform, api, gl_display, gl_context, NULL, error);
  if (props == NULL)
    return NULL;
  get_info = clGetExtensionFunctionAddressForPlatform (device->platform, "clGetGLContextInfoKHR");
  if (get_info == NULL)
    {
      g_set_error (error, WB_ERROR, WB_ERROR_DEVICE,
                   "the OpenCL platform of '%s' has no clGetGLContextInfoKHR", device->name);
      return NULL;
    }
  status = get_info (props, CL_CURRENT_DEVICE_FOR_GL_CONTEXT_KHR, sizeof gl_dev, &gl_dev, NULL);
  if (!wb_cl_check (status, "clGetGLContextInfoKHR", error))
    return NULL;
  if (gl_dev == NULL)
    {
      /* PoCL answers so: an entry point, and no device behind it. */
      g_set_error (error, WB_ERROR, WB_ERROR_DEVICE,
                   "clGetGLContextInfoKHR names no OpenCL device for this GL context (the platform of '%s' "
                   "does not share with it)", device->name);
      return NULL;
    }
  if (gl_dev != device->device)
    {
      g_set_error (error, WB_ERROR, WB_ERROR_DEVICE,
                   "the GL context does not run on the OpenCL device '%s'", device->name);
      return NULL;
    }
  context = clCreateContext (props, 1, &device->device, NULL, NULL, &status);
  if (!wb_cl_check (status, "clCreateContext (GL sharing)", error))
    return NULL;
  queue = clCreateCommandQueue (context, device->device, CL_QUEUE_PROFILING_ENABLE, &status);
  if (!wb_cl_check (status, "clCreateCommandQueue", error))
    {
      clReleaseContext (context);
      return NULL;
    }
  /* Same layout and ownership as wb_cl_context_new () makes, so that
   * wb_cl_context_unref () releases it. */
  ctx = g_new0 (WbClContext, 1);
  g_atomic_ref_count_init (&ctx->ref_count);
  ctx->device = wb_device_ref (device);
  ctx->context = context;
  ctx->queue = queue;
  return ctx;
}

WbInteropFrames *
wb_interop_frames_new_with_fallback (WbClContext         *cl,
                                     const WbInteropCaps *caps,
                                     WbInteropChoice     *choice,
                                     gsize                n_cells,
                                     guint                n_slots,
                                     GError             **error)
{
  for (;;)
    {
      g_autoptr(GError) local = NULL;
      WbInteropFrames *f;
      WbDisplayPath failed = choice->path;
      char *reason;
      int p;

      f = wb_interop_frames_new (cl, caps, choice, n_cells, n_slots,
                                 failed == WB_DISPLAY_PATH_HOST_COPY ? error : &local);
      if (f != NULL || failed == WB_DISPLAY_PATH_HOST_COPY)
        return f;

      /* The driver said yes and then failed: take the next path that the
       * caps allow and say why in the reason the user sees. */
      g_warning ("%s", local->message);
      for (p = failed + 1; p < WB_DISPLAY_PATH_HOST_COPY; p++)
        {
          g_autofree char *why = wb_interop_path_unavailable (caps, p, &choice->vk_device);
          if (why == NULL)
            break;
        }
      reason = g_strdup_printf ("%s: %s failed at setup (%s); before that: %s",
                                wb_display_path_to_label (p), wb_display_path_to_string (failed),
                                local->message, choice->reason);
      g_free (choice->reason);
      choice->reason = reason;
      choice->path = p;
      choice->sync = WB_INTEROP_SYNC_FINISH;
    }
}
