#define G_LOG_DOMAIN "wb-sim"
#include "config.h"

#include <string.h>

#include "wb-error.h"
#include "wb-guard.h"
#include "wb-launch.h"
#include "wb-sim.h"

void
wb_trace_free (WbTrace *trace)
{
  if (trace == NULL)
    return;
  g_free (trace->name);
  g_free (trace->units);
  g_free (trace->values);
  g_free (trace);
}

typedef WbSim *(*SimCtor) (const WbPreset *, WbDevice *, const char *, gboolean, GError **);

static SimCtor
find_solver (const WbPreset  *preset,
             GError         **error)
{
  const char *solver = wb_preset_get_solver (preset, error);

  if (solver == NULL)
    return NULL;
  if (g_str_equal (solver, "bhte"))
    return wb_bhte_new;
  if (g_str_equal (solver, "vwe"))
    return wb_vwe_new;
  if (g_str_equal (solver, "pstm"))
    g_set_error (error, WB_ERROR, WB_ERROR_INVALID,
                 "preset '%s': solver 'pstm' is a migration job, not a time-stepping simulation; "
                 "run it with `wavebench-cli migrate`", preset->name);
  else
    g_set_error (error, WB_ERROR, WB_ERROR_INVALID,
                 "preset '%s': unknown solver '%s' (one of bhte, vwe, pstm)", preset->name, solver);
  return NULL;
}

WbSim *
wb_sim_new (const WbPreset  *preset,
            WbDevice        *device,
            const char      *kernel_dir,
            GError         **error)
{
  g_autoptr(WbPreset) stripped = NULL;
  WbGuardConfig guard;
  SimCtor ctor;

  g_return_val_if_fail (preset != NULL, NULL);
  g_return_val_if_fail (device != NULL, NULL);

  ctor = find_solver (preset, error);
  if (ctor == NULL)
    return NULL;
  /* The "guard" section belongs to the run loop (wb-guard.h), not to the
   * solver, whose parser refuses keys it does not know. */
  if (!wb_guard_config_from_preset (preset, &guard, error))
    return NULL;
  wb_guard_config_clear (&guard);
  stripped = wb_guard_strip_preset (preset);
  return wb_kernel_config_new_sim (ctor, stripped ? stripped : preset, device, kernel_dir, error);
}

WbSim *
wb_sim_new_full (const WbPreset  *preset,
                 WbDevice        *device,
                 const char      *kernel_dir,
                 WbClContext     *cl,
                 GError         **error)
{
  g_autoptr(WbClContext) given = cl ? wb_cl_context_ref (cl) : NULL;
  WbSim *sim;

  /* The solvers make their context with wb_cl_context_new (); while the
   * thread default is set, that returns @cl for its device. */
  wb_cl_context_set_thread_default (given);
  sim = wb_sim_new (preset, device, kernel_dir, error);
  wb_cl_context_set_thread_default (NULL);
  return sim;
}

gboolean
wb_sim_validate (const WbPreset  *preset,
                 GError         **error)
{
  g_autoptr(WbDevice) ref = NULL;
  g_autoptr(GPtrArray) devices = NULL;
  g_autoptr(WbPreset) stripped = NULL;
  WbGuardConfig guard;
  SimCtor ctor = find_solver (preset, error);
  WbSim *sim;

  if (ctor == NULL)
    return FALSE;
  if (!wb_guard_config_from_preset (preset, &guard, error))
    return FALSE;
  wb_guard_config_clear (&guard);
  stripped = wb_guard_strip_preset (preset);
  if (!wb_kernel_config_validate (stripped ? stripped : preset, &stripped, error))
    return FALSE;
  /* Validation needs no device: parse against the reference backend. */
  devices = wb_device_list (NULL);
  ref = wb_device_lookup (devices, "reference", NULL, NULL);
  sim = ctor (stripped ? stripped : preset, ref, NULL, TRUE, error);
  if (sim == NULL)
    return FALSE;
  wb_sim_free (sim);
  return TRUE;
}

void
wb_sim_free (WbSim *sim)
{
  if (sim == NULL)
    return;
  sim->klass->free (sim);
}

gboolean
wb_sim_step (WbSim    *sim,
             guint     n,
             GError  **error)
{
  g_return_val_if_fail (sim != NULL, FALSE);
  if (n == 0)
    return TRUE;
  if (!sim->klass->step (sim, n, error))
    return FALSE;
  /* Submit what was enqueued: drivers may hold commands until a flush, and
   * the host is about to do something else (a read-back, a progress
   * update) while the device should be busy. */
  if (sim->cl != NULL)
    return wb_cl_check (clFlush (sim->cl->queue), "clFlush", error);
  return TRUE;
}

gboolean
wb_sim_finish (WbSim    *sim,
               GError  **error)
{
  g_return_val_if_fail (sim != NULL, FALSE);
  return sim->klass->finish ? sim->klass->finish (sim, error) : TRUE;
}

WbField *
wb_sim_read_field (WbSim       *sim,
                   const char  *name,
                   GError     **error)
{
  g_return_val_if_fail (sim != NULL, NULL);
  if (!wb_sim_has_field (sim, name))
    {
      g_autofree char *list = g_strjoinv (", ", (char **) sim->field_names);
      g_set_error (error, WB_ERROR, WB_ERROR_NOT_FOUND,
                   "solver %s has no field '%s' (fields: %s)", sim->klass->name, name, list);
      return NULL;
    }
  return sim->klass->read_field (sim, name, error);
}

GPtrArray *
wb_sim_read_traces (WbSim    *sim,
                    GError  **error)
{
  if (sim->klass->read_traces == NULL)
    return g_ptr_array_new_with_free_func ((GDestroyNotify) wb_trace_free);
  return sim->klass->read_traces (sim, error);
}

cl_mem
wb_sim_field_buffer (WbSim      *sim,
                     const char *name)
{
  if (sim->klass->field_buffer == NULL || !wb_sim_has_field (sim, name))
    return NULL;
  return sim->klass->field_buffer (sim, name);
}

double
wb_sim_time (const WbSim *sim)
{
  return sim->step * sim->dt;
}

gsize
wb_sim_n_cells (const WbSim *sim)
{
  gsize n = 1;
  for (guint d = 0; d < sim->ndim; d++)
    n *= sim->shape[d];
  return n;
}

gboolean
wb_sim_has_field (const WbSim *sim,
                  const char  *name)
{
  if (sim->field_names == NULL || name == NULL)
    return FALSE;
  return g_strv_contains (sim->field_names, name);
}

/* --- snapshots ------------------------------------------------------- */

#define SNAP_SLOTS 2

typedef struct
{
  cl_mem   staging;      /* device copy of the field */
  cl_event done;         /* the read into @out's data */
  cl_event copied;       /* the device copy into @staging */
  cl_int   read_status;  /* the reader thread's result, once read_done */
  gboolean read_done;
  float   *mapped;       /* "map" mode: the staging buffer mapped for reading */
  WbField *field;        /* reference path: the field read synchronously */
  WbField *out;          /* device path: a field over pinned host memory
                          * (CL_MEM_ALLOC_HOST_PTR, mapped), which the read
                          * fills and collect() hands out with no host copy;
                          * replaced at capture while a caller holds it */
  guint64  step;
  gboolean busy;
} SnapSlot;

struct _WbSnapshot
{
  WbSim           *sim;        /* borrowed */
  char            *name;
  WbField         *templ;      /* shape, spacing, units */
  gsize            bytes;
  cl_command_queue read_queue;
  gboolean         device_path;
  SnapSlot         slots[SNAP_SLOTS];
  cl_program       copy_program;
  cl_kernel        copy_kernel; /* float4 copy on GPUs, NULL: clEnqueueCopyBuffer */
  double           copy_seconds;
  double           read_seconds;
  guint            timed;
  /* How the host gets the staging copy (WAVEBENCH_SNAPSHOT_MODE, for
   * measuring): "thread" (default) reads it into pinned memory on a thread
   * of the snapshot's own, so the thread that steps never calls into a
   * read (the H200 read-back bench lost ~1.2 ms of GPU time per 64 MiB
   * read-back with reads issued from the stepping thread), after waiting
   * for the staging copy on the host; "event" the same with the copy's
   * event as the read's dependency instead; "inline" issues the
   * non-blocking read from capture(); "map" maps the staging buffer on
   * the reader thread instead of reading it. */
  int              mode;
  double           wait_seconds;   /* host: blocked in collect () */
  double           memcpy_seconds; /* host: copying into the field */
  GThread         *reader;
  GAsyncQueue     *jobs;       /* slot index + 1; SNAP_SLOTS + 1 ends the thread */
  GMutex           lock;
  GCond            cond;
  guint            next;       /* slot of the next capture */
  guint            oldest;     /* slot of the oldest pending capture */
  guint            pending;
};

enum { SNAP_MODE_THREAD, SNAP_MODE_INLINE, SNAP_MODE_MAP, SNAP_MODE_EVENT };

/* Pinned host memory owned by the field over it: freed (unmapped and
 * released) when the last reference to that field goes, which may be after
 * the snapshot and on another thread. */
typedef struct
{
  cl_mem           pinned;
  void            *host;
  cl_command_queue queue;  /* retained: the unmap's queue */
} PinnedHost;

static void
pinned_host_free (gpointer data)
{
  PinnedHost *ph = data;
  cl_event unmapped = NULL;

  if (clEnqueueUnmapMemObject (ph->queue, ph->pinned, ph->host, 0, NULL, &unmapped) == CL_SUCCESS)
    {
      clFlush (ph->queue);
      clWaitForEvents (1, &unmapped);
      clReleaseEvent (unmapped);
    }
  clReleaseMemObject (ph->pinned);
  clReleaseCommandQueue (ph->queue);
  g_free (ph);
}

static WbField *
pinned_field_new (WbSnapshot  *snap,
                  GError     **error)
{
  PinnedHost *ph = g_new0 (PinnedHost, 1);
  const WbField *t = snap->templ;
  cl_int status = CL_SUCCESS;
  WbField *f;

  ph->pinned = wb_cl_buffer_new (snap->sim->cl, CL_MEM_READ_WRITE | CL_MEM_ALLOC_HOST_PTR, snap->bytes, NULL,
                                 "read-back host buffer", error);
  if (ph->pinned == NULL)
    {
      g_free (ph);
      return NULL;
    }
  ph->host = clEnqueueMapBuffer (snap->read_queue, ph->pinned, CL_TRUE, CL_MAP_READ | CL_MAP_WRITE, 0, snap->bytes,
                                 0, NULL, NULL, &status);
  if (!wb_cl_check (status, "clEnqueueMapBuffer (read-back)", error))
    {
      clReleaseMemObject (ph->pinned);
      g_free (ph);
      return NULL;
    }
  clRetainCommandQueue (snap->read_queue);
  ph->queue = snap->read_queue;
  f = wb_field_new_wrapped (t->name, t->units, t->ndim, t->shape, t->spacing, ph->host, pinned_host_free, ph);
  memcpy (f->origin, t->origin, sizeof f->origin);
  return f;
}

static gpointer
snapshot_reader (gpointer data)
{
  WbSnapshot *snap = data;

  for (;;)
    {
      guint s = GPOINTER_TO_UINT (g_async_queue_pop (snap->jobs)) - 1;
      SnapSlot *slot;
      cl_event done = NULL;
      cl_int status;

      if (s >= SNAP_SLOTS)
        break;
      slot = &snap->slots[s];
      /* The copy is waited for here, on the host, so that the read queue
       * holds no device-side dependency on the solver's queue (a driver
       * may order the two queues' work around it); "event" mode passes
       * the dependency to the driver instead. */
      status = snap->mode == SNAP_MODE_EVENT ? CL_SUCCESS : clWaitForEvents (1, &slot->copied);
      if (status != CL_SUCCESS)
        ;
      else if (snap->mode == SNAP_MODE_MAP)
        slot->mapped = clEnqueueMapBuffer (snap->read_queue, slot->staging, CL_FALSE, CL_MAP_READ, 0,
                                           snap->bytes, 0, NULL, &done, &status);
      else if (snap->mode == SNAP_MODE_EVENT)
        status = clEnqueueReadBuffer (snap->read_queue, slot->staging, CL_FALSE, 0, snap->bytes, slot->out->data,
                                      1, &slot->copied, &done);
      else
        status = clEnqueueReadBuffer (snap->read_queue, slot->staging, CL_FALSE, 0, snap->bytes, slot->out->data,
                                      0, NULL, &done);
      if (status == CL_SUCCESS)
        {
          clFlush (snap->read_queue);
          status = clWaitForEvents (1, &done);
        }
      g_mutex_lock (&snap->lock);
      slot->done = done;
      slot->read_status = status;
      slot->read_done = TRUE;
      g_cond_broadcast (&snap->cond);
      g_mutex_unlock (&snap->lock);
    }
  return NULL;
}

WbSnapshot *
wb_snapshot_new (WbSim       *sim,
                 const char  *field,
                 GError     **error)
{
  g_autoptr(WbField) templ = NULL;
  WbSnapshot *snap;
  cl_mem buf;

  templ = wb_sim_read_field (sim, field, error);
  if (templ == NULL)
    return NULL;
  snap = g_new0 (WbSnapshot, 1);
  snap->sim = sim;
  snap->name = g_strdup (field);
  snap->bytes = wb_field_n_elements (templ) * sizeof (float);
  snap->templ = g_steal_pointer (&templ);

  buf = sim->cl ? wb_sim_field_buffer (sim, field) : NULL;
  if (buf != NULL)
    {
      cl_int status = CL_SUCCESS;
      size_t size = 0;

      clGetMemObjectInfo (buf, CL_MEM_SIZE, sizeof size, &size, NULL);
      if (size < snap->bytes)
        {
          /* A buffer in some other layout: read through the solver. */
          return snap;
        }
      snap->read_queue = clCreateCommandQueue (sim->cl->context, sim->device->device,
                                               CL_QUEUE_PROFILING_ENABLE, &status);
      if (!wb_cl_check (status, "clCreateCommandQueue (read-back)", error))
        {
          wb_snapshot_free (snap);
          return NULL;
        }
      for (guint s = 0; s < SNAP_SLOTS; s++)
        {
          SnapSlot *slot = &snap->slots[s];
          slot->staging = wb_cl_buffer_new (sim->cl, CL_MEM_READ_WRITE, snap->bytes, NULL, "read-back staging", error);
          if (slot->staging == NULL)
            {
              wb_snapshot_free (snap);
              return NULL;
            }
          slot->out = pinned_field_new (snap, error);
          if (slot->out == NULL)
            {
              wb_snapshot_free (snap);
              return NULL;
            }
        }
      /* The staging copy as a kernel on GPUs: a buffer copy may run on
       * a copy engine far below the memory bandwidth (the suspect of the
       * H200 read-back bench's +10% wall time; `bench --readback` prints
       * both times), while a float4 kernel copies 64 MiB in ~35 us; the
       * solver's in-order queue waits for it either way. */
      if (sim->device->kind != WB_DEVICE_KIND_CPU && snap->bytes % 16 == 0)
        {
          snap->copy_program = wb_cl_build_program (sim->cl, "bench.cl", NULL, NULL, NULL);
          if (snap->copy_program)
            snap->copy_kernel = clCreateKernel (snap->copy_program, "wb_copy", &status);
          if (snap->copy_kernel == NULL || status != CL_SUCCESS)
            {
              WB_CL_RELEASE (snap->copy_kernel, clReleaseKernel);
              WB_CL_RELEASE (snap->copy_program, clReleaseProgram);
            }
        }
      {
        const char *mode = g_getenv ("WAVEBENCH_SNAPSHOT_MODE");

        if (mode && g_str_equal (mode, "inline"))
          snap->mode = SNAP_MODE_INLINE;
        else if (mode && g_str_equal (mode, "map"))
          snap->mode = SNAP_MODE_MAP;
        else if (mode && g_str_equal (mode, "event"))
          snap->mode = SNAP_MODE_EVENT;
        else if (mode && *mode && !g_str_equal (mode, "thread"))
          g_warning ("WAVEBENCH_SNAPSHOT_MODE='%s' is not one of thread, event, inline, map: using thread", mode);
      }
      g_mutex_init (&snap->lock);
      g_cond_init (&snap->cond);
      snap->jobs = g_async_queue_new ();
      snap->reader = g_thread_new ("wb-snapshot", snapshot_reader, snap);
      snap->device_path = TRUE;
    }
  return snap;
}

gsize
wb_snapshot_bytes (WbSnapshot *snap)
{
  return snap->bytes;
}

guint
wb_snapshot_pending (WbSnapshot *snap)
{
  return snap->pending;
}

static WbField *
collect (WbSnapshot  *snap,
         guint64     *step,
         GError     **error)
{
  SnapSlot *slot = &snap->slots[snap->oldest];
  WbField *f;

  g_assert (slot->busy);
  if (snap->device_path)
    {
      cl_int status;
      gint64 t0 = g_get_monotonic_time (), t1;

      if (snap->mode == SNAP_MODE_INLINE)
        {
          status = clWaitForEvents (1, &slot->done);
          slot->read_status = status;
        }
      else
        {
          g_mutex_lock (&snap->lock);
          while (!slot->read_done)
            g_cond_wait (&snap->cond, &snap->lock);
          status = slot->read_status;
          g_mutex_unlock (&snap->lock);
        }
      t1 = g_get_monotonic_time ();
      snap->wait_seconds += (t1 - t0) * 1e-6;
      if (status == CL_SUCCESS && slot->copied && slot->done)
        {
          snap->copy_seconds += wb_cl_event_seconds (slot->copied);
          snap->read_seconds += wb_cl_event_seconds (slot->done);
          snap->timed++;
        }
      WB_CL_RELEASE (slot->copied, clReleaseEvent);
      WB_CL_RELEASE (slot->done, clReleaseEvent);
      slot->busy = FALSE;
      snap->oldest = (snap->oldest + 1) % SNAP_SLOTS;
      snap->pending--;
      if (!wb_cl_check (status, "reading back a field", error))
        return NULL;
      /* The read landed in the pinned memory under slot->out: handed out
       * as it is.  (A host copy of 64 MiB took ~12 ms on the H200 machine,
       * more than the 100 solver steps between read-backs.) */
      f = wb_field_ref (slot->out);
      if (slot->mapped)
        {
          t0 = g_get_monotonic_time ();
          memcpy (f->data, slot->mapped, snap->bytes);
          /* Unmapped before a later capture's copy may write the buffer
           * (that copy is on the other queue). */
          clEnqueueUnmapMemObject (snap->read_queue, slot->staging, slot->mapped, 0, NULL, NULL);
          clFinish (snap->read_queue);
          slot->mapped = NULL;
          snap->memcpy_seconds += (g_get_monotonic_time () - t0) * 1e-6;
        }
    }
  else
    {
      f = g_steal_pointer (&slot->field);
      slot->busy = FALSE;
      snap->oldest = (snap->oldest + 1) % SNAP_SLOTS;
      snap->pending--;
    }
  if (step)
    *step = slot->step;
  return f;
}

gboolean
wb_snapshot_capture (WbSnapshot  *snap,
                     GError     **error)
{
  SnapSlot *slot;

  /* Both slots in flight: the oldest is dropped once it lands. */
  if (snap->pending == SNAP_SLOTS)
    {
      g_autoptr(WbField) dropped = collect (snap, NULL, error);
      if (dropped == NULL)
        return FALSE;
    }
  slot = &snap->slots[snap->next];
  slot->step = snap->sim->step;
  if (snap->device_path)
    {
      cl_mem src = wb_sim_field_buffer (snap->sim, snap->name);
      cl_event copied = NULL;
      cl_int status;

      /* A caller still holds this slot's last field: it keeps that pinned
       * memory (freed with the field), the slot reads into new memory. */
      if (!g_atomic_ref_count_compare (&slot->out->ref_count, 1))
        {
          WbField *fresh = pinned_field_new (snap, error);

          if (fresh == NULL)
            return FALSE;
          wb_field_unref (slot->out);
          slot->out = fresh;
        }

      if (snap->copy_kernel)
        {
          cl_ulong n4 = snap->bytes / 16;
          gsize n = n4;

          if (!wb_cl_set_arg (snap->copy_kernel, 0, sizeof (cl_mem), &src, error) ||
              !wb_cl_set_arg (snap->copy_kernel, 1, sizeof (cl_mem), &slot->staging, error) ||
              !wb_cl_set_arg (snap->copy_kernel, 2, sizeof n4, &n4, error) ||
              !wb_cl_enqueue (snap->sim->cl, snap->copy_kernel, 1, &n, NULL, NULL, &copied, error))
            return FALSE;
        }
      else
        {
          status = clEnqueueCopyBuffer (snap->sim->cl->queue, src, slot->staging, 0, 0, snap->bytes, 0, NULL,
                                        &copied);
          if (!wb_cl_check (status, "clEnqueueCopyBuffer (read-back)", error))
            return FALSE;
        }
      clFlush (snap->sim->cl->queue);
      /* The read waits for the copy on the reader thread; the copy's
       * event is kept for its profiling time, collected with the read. */
      WB_CL_RELEASE (slot->copied, clReleaseEvent);
      slot->copied = copied;
      slot->read_done = FALSE;
      if (snap->mode == SNAP_MODE_INLINE)
        {
          status = clEnqueueReadBuffer (snap->read_queue, slot->staging, CL_FALSE, 0, snap->bytes, slot->out->data,
                                        1, &copied, &slot->done);
          if (!wb_cl_check (status, "clEnqueueReadBuffer (read-back)", error))
            return FALSE;
          clFlush (snap->read_queue);
        }
      else
        g_async_queue_push (snap->jobs, GUINT_TO_POINTER (snap->next + 1));
    }
  else
    {
      slot->field = wb_sim_read_field (snap->sim, snap->name, error);
      if (slot->field == NULL)
        return FALSE;
    }
  slot->busy = TRUE;
  snap->next = (snap->next + 1) % SNAP_SLOTS;
  snap->pending++;
  return TRUE;
}

WbField *
wb_snapshot_wait (WbSnapshot  *snap,
                  guint64     *step,
                  GError     **error)
{
  if (snap->pending == 0)
    {
      g_set_error (error, WB_ERROR, WB_ERROR_INVALID, "no read-back of '%s' is pending", snap->name);
      return NULL;
    }
  return collect (snap, step, error);
}

void
wb_snapshot_free (WbSnapshot *snap)
{
  if (snap == NULL)
    return;
  if (snap->reader)
    {
      /* Pending reads finish first (the queue is in order). */
      g_async_queue_push (snap->jobs, GUINT_TO_POINTER (SNAP_SLOTS + 1));
      g_thread_join (snap->reader);
      g_async_queue_unref (snap->jobs);
      g_mutex_clear (&snap->lock);
      g_cond_clear (&snap->cond);
    }
  if (snap->read_queue)
    clFinish (snap->read_queue);
  for (guint s = 0; s < SNAP_SLOTS; s++)
    {
      SnapSlot *slot = &snap->slots[s];
      if (slot->done)
        clReleaseEvent (slot->done);
      if (slot->copied)
        clReleaseEvent (slot->copied);
      if (slot->mapped)
        {
          clEnqueueUnmapMemObject (snap->read_queue, slot->staging, slot->mapped, 0, NULL, NULL);
          clFinish (snap->read_queue);
        }
      WB_CL_RELEASE (slot->staging, clReleaseMemObject);
      g_clear_pointer (&slot->field, wb_field_unref);
      g_clear_pointer (&slot->out, wb_field_unref);
    }
  WB_CL_RELEASE (snap->read_queue, clReleaseCommandQueue);
  WB_CL_RELEASE (snap->copy_kernel, clReleaseKernel);
  WB_CL_RELEASE (snap->copy_program, clReleaseProgram);
  g_clear_pointer (&snap->templ, wb_field_unref);
  g_free (snap->name);
  g_free (snap);
}

void
wb_snapshot_device_times (WbSnapshot *snap,
                          double     *copy_seconds,
                          double     *read_seconds,
                          guint      *captures)
{
  *copy_seconds = snap->copy_seconds;
  *read_seconds = snap->read_seconds;
  *captures = snap->timed;
}

void
wb_snapshot_host_times (WbSnapshot  *snap,
                        const char **mode,
                        double      *wait_seconds,
                        double      *memcpy_seconds)
{
  static const char * const names[] = { "thread", "inline", "map", "event" };

  *mode = snap->device_path ? names[snap->mode] : "synchronous";
  *wait_seconds = snap->wait_seconds;
  *memcpy_seconds = snap->memcpy_seconds;
}
