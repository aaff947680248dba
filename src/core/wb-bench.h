/* wb-bench.h: benchmarks of time-stepping solvers, measured against the
 * device's copy bandwidth taken in the same run (clpeak method: warm up,
 * then time). */
#pragma once

#include <glib.h>
#include "wb-sim.h"

G_BEGIN_DECLS

typedef struct
{
  guint   steps;
  gsize   cells;
  double  seconds;            /* wall time of the timed steps, queue drained */
  double  cell_updates_per_s;
  double  bytes_per_cell;     /* minimal bytes per cell per step */
  double  gbytes_per_s;       /* effective: cells * bytes_per_cell * steps / seconds */
  double  copy_bandwidth;     /* GB/s measured in this run, 0 if not */
  double  percent_of_copy;    /* 100 * gbytes_per_s / copy_bandwidth */
} WbBenchResult;

/* Runs @warmup steps, then @steps timed steps. */
gboolean wb_bench_sim       (WbSim         *sim,
                             guint          steps,
                             guint          warmup,
                             WbBenchResult *out,
                             GError       **error);

typedef struct
{
  guint   steps;
  guint   every;
  double  seconds_plain;      /* @steps steps, no read-back */
  double  seconds_readback;   /* @steps steps, @field read back every @every */
  double  overhead;           /* seconds_readback / seconds_plain - 1 */
  gsize   bytes_per_readback;
  /* The summed device time (profiling events) of the step launches of
   * each run, 0 when the solver cannot give it (no debug hooks, or more
   * than its main kernel per step): wall time over it is the cost of
   * everything that is not a kernel. */
  double  kernel_seconds_plain;
  double  kernel_seconds_readback;
  guint   launches_readback;
  /* Device time of the read-backs' staging copies (solver's queue) and
   * reads (read-back queue) over @captures captures, 0 when unknown. */
  double  copy_seconds;
  double  read_seconds;
  guint   captures;
  /* Host clock of the read-back run: in wb_sim_step, in capture, blocked
   * waiting for reads, copying into fields; how reads were made. */
  double      host_step_seconds;
  double      host_capture_seconds;
  double      host_wait_seconds;
  double      host_memcpy_seconds;
  const char *mode;
} WbReadbackResult;

gboolean wb_bench_readback  (WbSim           *sim,
                             const char      *field,
                             guint            steps,
                             guint            every,
                             WbReadbackResult *out,
                             GError         **error);

G_END_DECLS
