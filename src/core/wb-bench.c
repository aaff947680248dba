#define G_LOG_DOMAIN "wb-bench"
#include "config.h"

#include <string.h>

#include "wb-bench.h"
#include "wb-error.h"
#include "wb-launch.h"

static double
now (void)
{
  return g_get_monotonic_time () * 1e-6;
}

gboolean
wb_bench_sim (WbSim          *sim,
              guint           steps,
              guint           warmup,
              WbBenchResult  *out,
              GError        **error)
{
  double t0, t1;

  memset (out, 0, sizeof *out);
  if (!wb_sim_step (sim, warmup, error) || !wb_sim_finish (sim, error))
    return FALSE;
  t0 = now ();
  if (!wb_sim_step (sim, steps, error) || !wb_sim_finish (sim, error))
    return FALSE;
  t1 = now ();
  out->steps = steps;
  out->cells = wb_sim_n_cells (sim);
  out->seconds = t1 - t0;
  out->bytes_per_cell = sim->bytes_per_cell;
  if (out->seconds > 0)
    {
      out->cell_updates_per_s = (double) out->cells * steps / out->seconds;
      out->gbytes_per_s = out->cell_updates_per_s * sim->bytes_per_cell / 1e9;
    }
  out->copy_bandwidth = sim->device->copy_bandwidth;
  if (out->copy_bandwidth > 0)
    out->percent_of_copy = 100.0 * out->gbytes_per_s / out->copy_bandwidth;
  return TRUE;
}

gboolean
wb_bench_readback (WbSim            *sim,
                   const char       *field,
                   guint             steps,
                   guint             every,
                   WbReadbackResult *out,
                   GError          **error)
{
  g_autoptr(WbSnapshot) snap = NULL;
  WbKernelDebug *dbg = NULL;
  double t0;

  memset (out, 0, sizeof *out);
  if (every == 0)
    every = steps;
  out->steps = steps;
  out->every = every;

  /* Warm-up: build, first launches, first read. */
  if (!wb_sim_step (sim, MIN (every, 10u), error) || !wb_sim_finish (sim, error))
    return FALSE;

  /* Kernel time from the launches' profiling events, where each step is
   * one launch the debug hooks see. */
  dbg = wb_sim_kernel_debug (sim);
  if (dbg != NULL && !dbg->single_kernel)
    dbg = NULL;
  if (dbg)
    wb_kernel_debug_time_launches (dbg, TRUE);
  t0 = now ();
  if (!wb_sim_step (sim, steps, error) || !wb_sim_finish (sim, error))
    goto fail;
  out->seconds_plain = now () - t0;
  if (dbg)
    out->kernel_seconds_plain = wb_kernel_debug_kernel_seconds (dbg, NULL);

  /* The treatment-planning pattern: every @every steps the field is
   * captured (device copy + asynchronous read on a second queue) and the
   * previous capture collected, so the solver never waits on the bus. */
  snap = wb_snapshot_new (sim, field, error);
  if (snap == NULL)
    goto fail;
  out->bytes_per_readback = wb_snapshot_bytes (snap);
  t0 = now ();
  for (guint done = 0; done < steps; )
    {
      guint n = MIN (every, steps - done);

      double t1 = now (), t2;

      if (!wb_sim_step (sim, n, error))
        goto fail;
      out->host_step_seconds += now () - t1;
      done += n;
      if (wb_snapshot_pending (snap) > 0)
        {
          g_autoptr(WbField) f = wb_snapshot_wait (snap, NULL, error);
          if (f == NULL)
            goto fail;
        }
      t2 = now ();
      if (!wb_snapshot_capture (snap, error))
        goto fail;
      out->host_capture_seconds += now () - t2;
    }
  while (wb_snapshot_pending (snap) > 0)
    {
      g_autoptr(WbField) f = wb_snapshot_wait (snap, NULL, error);
      if (f == NULL)
        goto fail;
    }
  if (!wb_sim_finish (sim, error))
    goto fail;
  out->seconds_readback = now () - t0;
  wb_snapshot_device_times (snap, &out->copy_seconds, &out->read_seconds, &out->captures);
  wb_snapshot_host_times (snap, &out->mode, &out->host_wait_seconds, &out->host_memcpy_seconds);
  if (out->seconds_plain > 0)
    out->overhead = out->seconds_readback / out->seconds_plain - 1.0;
  if (dbg)
    {
      out->kernel_seconds_readback = wb_kernel_debug_kernel_seconds (dbg, &out->launches_readback);
      wb_kernel_debug_time_launches (dbg, FALSE);
    }
  return TRUE;

fail:
  if (dbg)
    {
      /* Events of launches still queued may be released: OpenCL keeps
       * them until their commands complete. */
      wb_kernel_debug_time_launches (dbg, FALSE);
    }
  return FALSE;
}
