/* wb-launch.h: launch geometry and the solvers' kernel debugging state.
 *
 * A WbKernelConfig says how a solver builds and launches its main kernel:
 * a kernel file (an edited copy, say), a named variant, the
 * checkpoint probes of wb-common.h (-DWB_PROBES), and a local-size
 * override.  Presets may carry one as their "debug" section:
 *
 *   "debug": { "kernel": "my-bhte.cl", "variant": "early-bounds",
 *              "local_size": [8, 8, 1], "probes": true }
 *
 * Variants (teaching bugs, docs/debugging.md):
 *   "early-bounds"    the kernel file's WB_VARIANT_EARLY_BOUNDS branch: a
 *                     bounds check that returns too early (vwe.cl has one
 *                     in vwe_stress, bhte.cl in bhte_step);
 *   "grid-in-groups"  the host passes the number of work-groups where
 *                     OpenCL wants the number of work-items (the CUDA
 *                     grid/block habit), so only the first groups' worth of
 *                     cells along each axis get a work-item.
 *
 * A WbKernelDebug lives in each solver that supports the hooks; the solver
 * launches its main kernel through wb_kernel_debug_enqueue(), which applies
 * the override and the variant, clears the probe buffer and records the
 * launch, and fills a sentinel into an output when asked
 * (wb_kernel_debug_sentinel()).  WbLaunchReport turns a launch, planned or
 * done, into the numbers the tools print: work-items against cells,
 * padding, groups, and flags for launches that cannot cover the grid or
 * exceed the kernel's work-group limit.
 */
#pragma once

#include <glib.h>
#include <json-glib/json-glib.h>

#include "wb-cl.h"
#include "wb-preset.h"
#include "wb-sim.h"

G_BEGIN_DECLS

typedef struct _WbKernelConfig WbKernelConfig;
typedef struct _WbKernelDebug WbKernelDebug;

struct _WbKernelConfig
{
  char     *kernel_file;  /* NULL: the solver's own file */
  char     *variant;      /* NULL, "early-bounds" or "grid-in-groups" */
  gboolean  probes;       /* build with -DWB_PROBES */
  gsize     local[3];     /* all 0: the solver's own choice */
  char     *kernel_dir;   /* override directory, NULL: keep the context's */
};

void      wb_kernel_config_init         (WbKernelConfig       *config);
void      wb_kernel_config_clear        (WbKernelConfig       *config);
void      wb_kernel_config_copy         (WbKernelConfig       *dst,
                                         const WbKernelConfig *src);
/* Reads the preset's "debug" section; *present tells whether it exists. */
gboolean  wb_kernel_config_from_preset  (const WbPreset       *preset,
                                         WbKernelConfig       *config,
                                         gboolean             *present,
                                         GError              **error);
/* A copy of @preset without its "debug" section, or NULL if it has none. */
WbPreset *wb_kernel_config_strip_preset (const WbPreset       *preset);
/* For wb-sim.c: checks the "debug" section and replaces *@stripped by a
 * copy of @preset without it (when it has one). */
gboolean  wb_kernel_config_validate     (const WbPreset       *preset,
                                         WbPreset            **stripped,
                                         GError              **error);
typedef WbSim *(*WbSimCtor) (const WbPreset *, WbDevice *, const char *, gboolean, GError **);
/* For wb-sim.c: creates the sim from @preset without its "debug" section,
 * then applies that section on OpenCL backends (the reference backend has
 * no kernels, so it runs the plain solver: the oracle for the diff). */
WbSim    *wb_kernel_config_new_sim      (WbSimCtor             ctor,
                                         const WbPreset       *preset,
                                         WbDevice             *device,
                                         const char           *kernel_dir,
                                         GError              **error);
/* Parses "8", "8x8" or "8x8x1" into @local (missing axes 1). */
gboolean  wb_kernel_config_parse_local  (const char           *spec,
                                         gsize                *local,
                                         GError              **error);

struct _WbKernelDebug
{
  WbKernelConfig config;          /* in effect */
  char          *file;            /* the solver's own kernel file, "bhte.cl" */
  char          *base_defines;    /* the solver's #define lines */
  char          *kernel_name;     /* the main kernel, "bhte_step" */
  cl_kernel      kernel;          /* borrowed: the main kernel in use */
  guint          work_dim;
  gsize          cells[3];
  gsize          default_local[3];/* the solver's choice, 0: implementation's */
  WbLaunch       last;            /* the last launch of the main kernel */
  gboolean       launched;
  gsize          n_cells;
  cl_mem         probe_buf;       /* uchar per cell, when probes are on */
  cl_mem         probe_scratch;   /* for the program's other kernels */
  char          *sentinel_field;  /* NULL: no sentinel */
  float          sentinel_value;
  gboolean       sentinel_filled; /* set when a launch filled it */
  char          *sentinel_fields; /* fields that can take one, "T" */
  /* Set by wb_launch_plan: a tool looks at this sim's launches, so a solver
   * that tunes alternative kernels launches its main one (the report's). */
  gboolean       inspected;
  /* Kernel timing (wb_kernel_debug_time_launches): profiling events of
   * the launches, and whether the main kernel is the solver's only launch
   * per step (so that their sum is the step's whole kernel time). */
  GArray        *events;          /* cl_event, NULL when not timing */
  gboolean       single_kernel;
};

WbKernelDebug *wb_kernel_debug_new      (const char      *file,
                                         const char      *kernel_name,
                                         const char      *sentinel_fields,
                                         const char      *base_defines,
                                         guint            work_dim,
                                         const gsize     *cells,
                                         const gsize     *default_local);
void           wb_kernel_debug_free     (WbKernelDebug   *dbg);

/* Builds the program @config asks for (file, variant defines, probes);
 * NULL with the compiler's message on failure, nothing else changed. */
cl_program     wb_kernel_debug_build    (WbKernelDebug        *dbg,
                                         WbClContext          *ctx,
                                         const WbKernelConfig *config,
                                         GError              **error);
/* With probes on, allocates the probe buffer and binds it as argument
 * @index of @kernel. */
gboolean       wb_kernel_debug_bind_probes (WbKernelDebug        *dbg,
                                            WbClContext          *ctx,
                                            const WbKernelConfig *config,
                                            cl_kernel             kernel,
                                            guint                 index,
                                            GError              **error);
/* With probes on, every kernel of a program has the probe argument last:
 * @kernels[0] (the main one) gets the probe map, the others a scratch
 * buffer of @scratch_size bytes (their own indices, not cells). */
gboolean       wb_kernel_debug_bind_probes_all (WbKernelDebug *dbg,
                                                WbClContext   *ctx,
                                                cl_kernel     *kernels,
                                                guint          n_kernels,
                                                gsize          scratch_size,
                                                GError       **error);
/* Makes @config and @kernel (the new main kernel) the ones in effect. */
void           wb_kernel_debug_commit   (WbKernelDebug        *dbg,
                                         const WbKernelConfig *config,
                                         cl_kernel             kernel);
/* The local size a launch will use (override, variant or solver's). */
void           wb_kernel_debug_local    (const WbKernelDebug  *dbg,
                                         gsize                *local);
/* Launches the main kernel over dbg->cells as configured. */
gboolean       wb_kernel_debug_enqueue  (WbKernelDebug   *dbg,
                                         WbClContext     *ctx,
                                         GError         **error);
/* TRUE when a debugging option is in effect: a variant, probes, a
 * local-size override, another kernel file or directory, an armed
 * sentinel, or a launch report asked for (wb_launch_plan).  Solvers with
 * tuned alternative kernels launch the main kernel through
 * wb_kernel_debug_enqueue then, so the tools keep their meaning. */
gboolean       wb_kernel_debug_active   (const WbKernelDebug  *dbg);
/* Kernel timing for benchmarks: while on, every launch of the solver's
 * step (wb_kernel_debug_enqueue, or the solver's own launches through
 * wb_kernel_debug_event) keeps its profiling event. */
void           wb_kernel_debug_time_launches (WbKernelDebug *dbg,
                                              gboolean       on);
/* Where a solver launching its own kernels puts the event: NULL when
 * timing is off (pass it to clEnqueueNDRangeKernel or wb_cl_enqueue). */
cl_event      *wb_kernel_debug_event    (WbKernelDebug        *dbg);
/* After the queue has drained: the summed device time (START to END) of
 * the kept events, which are released; *@n_launches gets their number. */
double         wb_kernel_debug_kernel_seconds (WbKernelDebug *dbg,
                                               guint         *n_launches);
/* Fills @buffer (@n floats) with the sentinel if one is armed on @field. */
gboolean       wb_kernel_debug_sentinel (WbKernelDebug   *dbg,
                                         WbClContext     *ctx,
                                         const char      *field,
                                         cl_mem           buffer,
                                         gsize            n,
                                         GError         **error);

/* The sim's debug state, NULL when its solver (or the reference backend)
 * has none. */
WbKernelDebug *wb_sim_kernel_debug      (WbSim                *sim);
/* Rebuilds @sim's program as @config says; on failure (WB_ERROR_BUILD with
 * file and line) the previous program keeps running. */
gboolean       wb_sim_configure_kernels (WbSim                *sim,
                                         const WbKernelConfig *config,
                                         GError              **error);

/* --- reports -------------------------------------------------------- */

typedef enum
{
  WB_LAUNCH_UNDERCOVERS    = 1 << 0,  /* fewer work-items than cells on an axis */
  WB_LAUNCH_OVER_WG_LIMIT  = 1 << 1,  /* local size above CL_KERNEL_WORK_GROUP_SIZE */
  WB_LAUNCH_OVER_ITEM_SIZE = 1 << 2,  /* local[d] above CL_DEVICE_MAX_WORK_ITEM_SIZES */
} WbLaunchFlags;

typedef struct
{
  char      kernel[64];
  char      variant[32];
  gboolean  done;            /* TRUE: a launch that ran; FALSE: planned */
  WbLaunch  launch;          /* cells, global, local (0: implementation's), kernel_max_wg */
  gsize     device_max_wg;
  gsize     device_max_item[3];
  gsize     groups[3];
  guint64   n_cells;
  guint64   work_items;
  guint64   covered;         /* cells that get a work-item */
  guint64   uncovered;
  guint64   padding;         /* work-items beyond the grid */
  guint     flags;           /* WbLaunchFlags */
} WbLaunchReport;

/* Fills the derived numbers and flags of @report from its launch. */
void      wb_launch_report_compute (WbLaunchReport       *report);
/* The next launch of @sim's main kernel, computed without running it. */
gboolean  wb_launch_plan           (WbSim                *sim,
                                    WbLaunchReport       *report,
                                    GError              **error);
/* The last launch that ran, FALSE if none yet. */
gboolean  wb_launch_last           (WbSim                *sim,
                                    WbLaunchReport       *report);
char     *wb_launch_report_format  (const WbLaunchReport *report);
void      wb_launch_report_to_json (const WbLaunchReport *report,
                                    JsonBuilder          *builder);

G_END_DECLS
