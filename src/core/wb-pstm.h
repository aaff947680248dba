/* wb-pstm.h: Kirchhoff pre-stack time migration as a job of tiles.
 *
 * The output grid (x, y, t0) is split into tiles sized to a memory budget.
 * Each tile gathers the traces whose midpoint lies within the largest
 * aperture of its edges and sums them in trace batches: on an OpenCL device
 * through kernels/pstm.cl (output-stationary, no atomics), or on the
 * "reference" backend through an independent plain C loop.  Batches are
 * sized to last a fraction of a second so that progress, pause and cancel
 * respond quickly and no GPU watchdog fires.  Several devices take tiles at
 * once, one thread each.  Finished tiles go to a checkpoint file so that a
 * cancelled run resumes where it stopped.
 *
 * Physics (see docs/migration.md): DSR time
 *   t = sqrt(t0^2/4 + |s-x|^2/v^2) + sqrt(t0^2/4 + |r-x|^2/v^2),  v = vrms(t0)
 * with linear interpolation; a full time-derivative pre-filter, -d/dt (3D);
 * aperture radius v t0/2 tan(max_dip) clamped to [min, max] around the
 * midpoint, with a cosine taper on its outer ring; optional obliquity t0/t,
 * spreading 1/(v t), triangle anti-aliasing; fold per output sample.
 */
#pragma once

#include <gio/gio.h>
#include "wb-field.h"
#include "wb-segy.h"

G_BEGIN_DECLS

/* --- velocity vrms(t) --------------------------------------------------- */

typedef struct
{
  guint   n;
  double *t;     /* seconds, increasing */
  double *v;     /* m/s, > 0 */
} WbVelocity;

WbVelocity *wb_velocity_new_constant (double        v);
/* From pairs (t, v), t increasing. */
WbVelocity *wb_velocity_new          (guint         n,
                                      const double *t,
                                      const double *v,
                                      GError      **error);
/* "2000" (constant), or a text file of "t v" lines ('#' comments). */
WbVelocity *wb_velocity_parse        (const char   *spec,
                                      GError      **error);
WbVelocity *wb_velocity_scaled       (const WbVelocity *velocity,
                                      double        factor);
/* Linear between knots, constant beyond. */
double      wb_velocity_at           (const WbVelocity *velocity,
                                      double        t);
void        wb_velocity_free         (WbVelocity   *velocity);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (WbVelocity, wb_velocity_free)

/* --- input traces ------------------------------------------------------- */

typedef struct _WbPstmInput WbPstmInput;

/* Scans @path once (progress through @progress) and keeps its geometry;
 * samples are read later, per batch, by each worker's own file handle. */
WbPstmInput *wb_pstm_input_new_segy   (const char         *path,
                                       const WbSegyLayout *layout,
                                       WbSegyScanFunc      progress,
                                       gpointer            user_data,
                                       GCancellable       *cancellable,
                                       GError            **error);
/* Traces held in memory (tests, benchmarks, synthetic data): takes
 * ownership of @geometry and of @samples (n_traces * n_samples floats). */
WbPstmInput *wb_pstm_input_new_memory (WbSegyGeometry     *geometry,
                                       float              *samples);
WbPstmInput *wb_pstm_input_ref        (WbPstmInput        *input);
void         wb_pstm_input_unref      (WbPstmInput        *input);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (WbPstmInput, wb_pstm_input_unref)

const WbSegyGeometry *wb_pstm_input_geometry (const WbPstmInput *input);

/* --- parameters --------------------------------------------------------- */

typedef struct
{
  /* Output grid, in file coordinates; columns at x0 + i dx, y0 + j dy. */
  double   x0, y0, dx, dy;
  guint    nx, ny;
  /* Output times t0 + k dt, k < nt. */
  double   t0, dt;
  guint    nt;

  /* Aperture: radius v t0/2 tan(max_dip) clamped to [aperture_min,
   * aperture_max], cosine taper over its outer @taper fraction. */
  double   max_dip;          /* degrees, default 60 */
  double   aperture_min;     /* metres, default 0 */
  double   aperture_max;     /* metres, default 2000 */
  double   taper;            /* fraction of the radius, default 0.1 */

  gboolean derivative;       /* pre-filter -d/dt (full derivative, 3D), default on */
  gboolean obliquity;        /* weight t0/t, default on */
  gboolean spreading;        /* weight 1/(v t), default off */
  gboolean antialias;        /* triangle filter, default off */
  double   aa_dx;            /* trace spacing for anti-aliasing, 0: max(dx, dy) */
  gboolean normalize_fold;   /* divide by fold at the end, default off */

  /* Work split. */
  guint    tile_nx, tile_ny; /* 0: from the memory budget */
  guint64  memory_budget;    /* bytes per device, default 256 MiB */
  double   batch_seconds;    /* target duration of one launch, default 0.2 */
  guint    batch_traces;     /* fixed batch size, 0: adaptive */

  /* Checkpoint: finished tiles are saved to this file (atomically) at most
   * every @checkpoint_interval seconds and when a run stops early; with
   * @resume, a matching checkpoint's tiles are not computed again. */
  char    *checkpoint;       /* NULL: none */
  double   checkpoint_interval; /* seconds, default 30; 0: after every tile */
  gboolean resume;
} WbPstmParams;

void         wb_pstm_params_init      (WbPstmParams *params);
void         wb_pstm_params_clear     (WbPstmParams *params);
/* Sets the output grid to the midpoint extent with bins @dx x @dy (0: the
 * smallest midpoint spacing found) and the time axis to the input's. */
gboolean     wb_pstm_params_auto_grid (WbPstmParams *params,
                                       const WbPstmInput *input,
                                       double        dx,
                                       double        dy,
                                       GError      **error);
gboolean     wb_pstm_params_check     (const WbPstmParams *params,
                                       GError      **error);

/* --- the job ------------------------------------------------------------ */

typedef enum
{
  WB_PSTM_TILE_PENDING,
  WB_PSTM_TILE_RUNNING,
  WB_PSTM_TILE_DONE,
  WB_PSTM_TILE_RESUMED,      /* done in an earlier run, read from the checkpoint */
} WbPstmTileState;

typedef enum
{
  WB_PSTM_EVENT_TILE_STARTED,
  WB_PSTM_EVENT_BATCH_DONE,
  WB_PSTM_EVENT_TILE_DONE,
  WB_PSTM_EVENT_TILE_RESUMED,
  WB_PSTM_EVENT_CHECKPOINT,
} WbPstmEventKind;

typedef struct
{
  WbPstmEventKind kind;
  guint     tile;              /* the tile concerned */
  guint     n_tiles;
  guint     tiles_done;        /* done or resumed */
  const char *device_id;       /* the device that sent it ("reference", "opencl:0:0") */
  gsize     tile_traces;       /* traces gathered for this tile */
  gsize     tile_traces_done;
  guint64   traces_done;       /* over the whole job, this run */
  guint64   traces_total;      /* planned over the tiles still to do at start */
  guint64   contributions_done;/* traces x output samples, this run */
  guint64   contributions_total;
  double    elapsed;           /* seconds since the run started */
  double    traces_per_s;
  double    contributions_per_s;
  double    eta;               /* seconds, < 0 when unknown */
  guint     batch_traces;      /* size of the last batch */
} WbPstmProgress;

/* Called from worker threads, one call at a time: the job calls it with its
 * lock held, so it must not call back into the job, nor block for long.  A
 * GUI copies the struct and posts it to its main context (g_idle_add_full /
 * g_main_context_invoke), and reads tile states and the image from there. */
typedef void (*WbPstmProgressFunc) (const WbPstmProgress *progress,
                                    gpointer              user_data);

typedef struct _WbPstmJob WbPstmJob;

/* @devices: WbDevice* (OpenCL devices and/or the reference backend), one
 * worker thread each.  Validates and plans the tiles (counts the traces
 * each will take) but computes nothing yet. */
WbPstmJob   *wb_pstm_job_new          (WbPstmInput        *input,
                                       const WbPstmParams *params,
                                       const WbVelocity   *velocity,
                                       GPtrArray          *devices,
                                       const char         *kernel_dir,
                                       GError            **error);
void         wb_pstm_job_free         (WbPstmJob    *job);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (WbPstmJob, wb_pstm_job_free)

void         wb_pstm_job_set_progress (WbPstmJob    *job,
                                       WbPstmProgressFunc func,
                                       gpointer      user_data);
/* Workers wait between batches while paused (thread-safe). */
void         wb_pstm_job_set_paused   (WbPstmJob    *job,
                                       gboolean      paused);

guint        wb_pstm_job_n_tiles      (const WbPstmJob *job);
/* Tile @index covers columns [i0, i0+ni) x [j0, j0+nj). */
void         wb_pstm_job_tile_rect    (const WbPstmJob *job,
                                       guint         index,
                                       guint        *i0,
                                       guint        *j0,
                                       guint        *ni,
                                       guint        *nj);
WbPstmTileState wb_pstm_job_tile_state (WbPstmJob   *job,
                                       guint         index);
/* Traces the planning found within aperture of tile @index. */
gsize        wb_pstm_job_tile_traces  (const WbPstmJob *job,
                                       guint         index);

/* Runs every tile not done yet; blocks until done, cancelled or failed.
 * Cancellation is checked between batches: the error is WB_ERROR_CANCELLED
 * and, with a checkpoint path, the finished tiles are saved first. */
gboolean     wb_pstm_job_run          (WbPstmJob    *job,
                                       GCancellable *cancellable,
                                       GError      **error);

/* The image (x, y, t0) and the fold, as fields with file-coordinate
 * origins; new references.  Tiles not done yet read as zero. */
WbField     *wb_pstm_job_get_image    (WbPstmJob    *job);
WbField     *wb_pstm_job_get_fold     (WbPstmJob    *job);

typedef struct
{
  guint64 traces;              /* trace-tile pairs processed this run */
  guint64 contributions;       /* traces x output samples evaluated this run */
  guint64 live_contributions;  /* of those, within aperture and trace (the fold sum) */
  double  seconds;             /* wall time of the run */
  double  kernel_seconds;      /* device time of the launches (OpenCL), or compute time */
  double  setup_seconds;        /* context, program and buffers (the slowest device) */
  double  tune_seconds;         /* measuring launch configurations (first use on a device) */
  double  load_seconds;         /* host: reading and pre-filtering traces */
  double  store_seconds;        /* host: finished tiles into the image (overlaps the device) */
  double  lists_seconds;        /* host: per-block trace lists of the launches (overlaps the device) */
  double  teardown_seconds;     /* releasing contexts after the run (not in @seconds) */
  guint64 tune_trial_contributions; /* per tuning trial launch, 0 if none measured */
  guint   tiles_computed;
  guint   tiles_resumed;
} WbPstmStats;

void         wb_pstm_job_get_stats    (WbPstmJob    *job,
                                       WbPstmStats  *stats);

/* Floating-point operations per live contribution (a trace within the
 * aperture and the trace's time range of an output sample) in
 * kernels/pstm.cl with these options: adds, multiplies, square roots and
 * reciprocals count one each, a fused multiply-add two; comparisons,
 * selects, clamps and index arithmetic count nothing.  The cosine taper
 * (16) is weighted by the share of the aperture's area in its ring,
 * 1 - (1 - taper)^2.  Per (trace, column) work (about 14, shared by every
 * sample of the column) is left out.  See docs/performance.md. */
double       wb_pstm_flops_per_contribution (const WbPstmParams *params);

/* PNG slices of an (x, y, t) image: PREFIX-inline.png (the middle y),
 * PREFIX-crossline.png (the middle x), PREFIX-time.png (time slice @k, or
 * the one with the largest energy when @k < 0). */
gboolean     wb_pstm_write_png_slices (const WbField *image,
                                       const char   *prefix,
                                       gssize        k,
                                       GError      **error);

G_END_DECLS
