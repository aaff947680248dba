/* wb-sim.h: a time-stepping simulation on one backend.
 *
 * One implementation per solver ("bhte" in wb-bhte.c, "vwe" in wb-vwe.c),
 * each with an OpenCL path and an independent C reference path.  Creation
 * validates the preset and refuses unstable parameters with a message
 * naming the bound.  step() enqueues work without waiting for it on OpenCL
 * backends; read_field() waits and copies only the field asked for.
 */
#pragma once

#include <glib.h>
#include "wb-cl.h"
#include "wb-device.h"
#include "wb-field.h"
#include "wb-preset.h"

G_BEGIN_DECLS

typedef struct _WbSim WbSim;
typedef struct _WbSimClass WbSimClass;
/* Kernel debugging (wb-launch.h). */
struct _WbKernelConfig;
struct _WbKernelDebug;

/* A recorded time series (sensor or probe). */
typedef struct
{
  char   *name;          /* "sensor 3 Pressure" */
  char   *units;
  guint   n;             /* samples recorded so far */
  double  dt;            /* sample spacing in seconds */
  float  *values;
} WbTrace;

void     wb_trace_free (WbTrace *trace);

struct _WbSimClass
{
  const char *name;                              /* "bhte" */
  void      (*free)         (WbSim *sim);
  gboolean  (*step)         (WbSim *sim, guint n, GError **error);
  gboolean  (*finish)       (WbSim *sim, GError **error);
  WbField  *(*read_field)   (WbSim *sim, const char *name, GError **error);
  /* Optional: sensor traces (GPtrArray of WbTrace*), NULL if none. */
  GPtrArray *(*read_traces) (WbSim *sim, GError **error);
  /* Optional: the OpenCL buffer holding field @name (borrowed), whose first
   * n_cells * 4 bytes are the field in WbField layout (x fastest). */
  cl_mem    (*field_buffer) (WbSim *sim, const char *name);
  /* Optional kernel debugging hooks (wb-launch.h), NULL when a solver has
   * none: configure() rebuilds the solver's program with a kernel variant,
   * probes or a local-size override, keeping the previous program (and
   * the state) when the build fails; kernel_debug() gives the solver's
   * debug state (main kernel, last launch, probe buffer, sentinel). */
  gboolean  (*configure)    (WbSim *sim, const struct _WbKernelConfig *config, GError **error);
  struct _WbKernelDebug *(*kernel_debug) (WbSim *sim);
};

struct _WbSim
{
  const WbSimClass *klass;
  WbDevice     *device;       /* owned reference */
  WbClContext  *cl;           /* NULL on the reference backend */
  WbPreset     *preset;       /* owned copy of the validated preset */

  guint         ndim;
  gsize         shape[3];     /* cells */
  double        spacing[3];   /* metres */
  double        dt;           /* seconds */
  guint64       step;         /* steps done (enqueued) */
  guint64       total_steps;  /* from the preset's time section */

  const char  **field_names;  /* NULL-terminated, static per solver */
  const char   *default_field;

  /* For benchmarks: minimal bytes moved per cell per step (each input read
   * once, each output written once) and flops per cell per step. */
  double        bytes_per_cell;
  double        flops_per_cell;
};

/* Creates the solver named by the preset's "solver" on @device. */
WbSim     *wb_sim_new          (const WbPreset *preset,
                                WbDevice     *device,
                                const char   *kernel_dir,
                                GError      **error);
/* As wb_sim_new (), on the OpenCL context @cl (NULL: the solver makes its
 * own) when @cl is on @device: for example one made against the display's
 * GL context (cl_khr_gl_sharing), so that the solver's buffers can be
 * shared with GL.  The sim takes its own reference. */
WbSim     *wb_sim_new_full     (const WbPreset *preset,
                                WbDevice     *device,
                                const char   *kernel_dir,
                                WbClContext  *cl,
                                GError      **error);
/* Validates without allocating anything big (no device needed). */
gboolean   wb_sim_validate     (const WbPreset *preset,
                                GError      **error);
void       wb_sim_free         (WbSim        *sim);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (WbSim, wb_sim_free)

gboolean   wb_sim_step         (WbSim        *sim,
                                guint         n,
                                GError      **error);
gboolean   wb_sim_finish       (WbSim        *sim,
                                GError      **error);
WbField   *wb_sim_read_field   (WbSim        *sim,
                                const char   *name,
                                GError      **error);
GPtrArray *wb_sim_read_traces  (WbSim        *sim,
                                GError      **error);
cl_mem     wb_sim_field_buffer (WbSim        *sim,
                                const char   *name);
double     wb_sim_time         (const WbSim  *sim);
gsize      wb_sim_n_cells      (const WbSim  *sim);
gboolean   wb_sim_has_field    (const WbSim  *sim,
                                const char   *name);

/* Snapshots: double-buffered, asynchronous read-back of one field.
 *
 * capture() enqueues, in order after the steps enqueued so far, a device
 * copy of the field into a staging buffer (microseconds), then a
 * non-blocking read of that buffer into pinned host memory on a second
 * queue: the solver's queue never waits on the bus.  wait() returns the
 * field of the oldest capture not yet collected.  Two captures may be in
 * flight; a third waits for the first.  On the reference backend (or for
 * a field with no device buffer) capture() reads synchronously. */
typedef struct _WbSnapshot WbSnapshot;

WbSnapshot *wb_snapshot_new     (WbSim        *sim,
                                 const char   *field,
                                 GError      **error);
gboolean    wb_snapshot_capture (WbSnapshot   *snap,
                                 GError      **error);
/* The oldest uncollected capture (and the step it was taken at), or NULL
 * with an error if none is pending.  The field's memory is reused by a
 * later wait() once the caller has dropped its reference: treat it as
 * read-only and unref it when done. */
WbField    *wb_snapshot_wait    (WbSnapshot   *snap,
                                 guint64      *step,
                                 GError      **error);
guint       wb_snapshot_pending (WbSnapshot   *snap);
/* Bytes copied through the host per capture. */
gsize       wb_snapshot_bytes   (WbSnapshot   *snap);
/* Device time of the collected captures (profiling events): the staging
 * copies on the solver's queue and the reads on the read-back queue, and
 * how many captures they cover (0 on the reference backend). */
void        wb_snapshot_device_times (WbSnapshot *snap,
                                      double     *copy_seconds,
                                      double     *read_seconds,
                                      guint      *captures);
/* Host time of the collected captures: blocked waiting for a read, and
 * copying into the returned fields; @mode: how reads were made
 * (WAVEBENCH_SNAPSHOT_MODE: thread, event, inline, map; "synchronous" on the
 * reference backend). */
void        wb_snapshot_host_times   (WbSnapshot  *snap,
                                      const char **mode,
                                      double      *wait_seconds,
                                      double      *memcpy_seconds);
void        wb_snapshot_free    (WbSnapshot   *snap);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (WbSnapshot, wb_snapshot_free)

/* Solver constructors, dispatched by wb_sim_new.  @validate_only: parse and
 * check everything, allocate nothing, return a sim with no buffers (freed
 * by the caller) so that validation shares the parser. */
WbSim     *wb_bhte_new         (const WbPreset *preset,
                                WbDevice     *device,
                                const char   *kernel_dir,
                                gboolean      validate_only,
                                GError      **error);
WbSim     *wb_vwe_new          (const WbPreset *preset,
                                WbDevice     *device,
                                const char   *kernel_dir,
                                gboolean      validate_only,
                                GError      **error);

G_END_DECLS
