/* wb-guard.h: blow-up detection for any WbSim.
 *
 * Every N steps the guard scans the fields it watches (the solver's default
 * field unless the preset names others): on an OpenCL backend with one
 * reduction launch per field over the field's own buffer (kernels/guard.cl;
 * a few dozen numbers come back), on the reference backend over the host
 * copy.  A non-finite value, or a finite one above max_abs, stops the run
 * with WB_ERROR_DIVERGED naming the step, the field and the first bad cell.
 *
 * After each good check the guard keeps a snapshot of the fields it was
 * asked to keep (device-side copies on OpenCL), so that the last good state
 * stays readable after a blow-up: for inspection in the app, for the
 * outputs the CLI was asked to write.
 *
 * Preset section (docs/presets.md), read by every solver through wb_sim_new:
 *   "guard": { "every": 100, "max_abs": 1e30, "fields": ["T"] }
 * every = 0 turns the guard off.
 */
#pragma once

#include <glib.h>
#include "wb-cl.h"
#include "wb-field.h"
#include "wb-preset.h"
#include "wb-sim.h"

G_BEGIN_DECLS

#define WB_GUARD_DEFAULT_EVERY   100
#define WB_GUARD_DEFAULT_MAX_ABS 1e30

typedef struct
{
  guint64  every;      /* steps between checks; 0: no checks */
  double   max_abs;    /* finite values above this count as a blow-up */
  char   **fields;     /* fields to check; NULL: the solver's default field */
} WbGuardConfig;

void      wb_guard_config_init        (WbGuardConfig  *config);
void      wb_guard_config_clear       (WbGuardConfig  *config);
/* Reads the preset's "guard" section (defaults when absent); messages name
 * the member ("guard.every: ..."). */
gboolean  wb_guard_config_from_preset (const WbPreset *preset,
                                       WbGuardConfig  *config,
                                       GError        **error);
/* A copy of @preset without its "guard" member, for the solver's parser
 * (which refuses keys it does not know), or NULL if it has none. */
WbPreset *wb_guard_strip_preset       (const WbPreset *preset);

/* What one scan found. */
typedef struct
{
  double   max_abs;      /* largest finite |x| */
  guint64  n_nonfinite;  /* NaN or Inf */
  guint64  n_over;       /* finite, |x| > the threshold */
  gint64   first_bad;    /* smallest index of either kind, -1 if none */
} WbGuardStats;

/* Plain C scan of @n floats (the reference path, and the tests' oracle). */
void      wb_guard_scan_host          (const float    *x,
                                       gsize           n,
                                       double          max_abs,
                                       WbGuardStats   *stats);

/* The device scan on its own: builds kernels/guard.cl on @ctx. */
typedef struct _WbGuardKernel WbGuardKernel;

WbGuardKernel *wb_guard_kernel_new    (WbClContext    *ctx,
                                       const char     *kernel_dir,
                                       GError        **error);
void      wb_guard_kernel_free        (WbGuardKernel  *kernel);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (WbGuardKernel, wb_guard_kernel_free)
/* Scans the first @n floats of @buffer. */
gboolean  wb_guard_kernel_scan        (WbGuardKernel  *kernel,
                                       cl_mem          buffer,
                                       gsize           n,
                                       double          max_abs,
                                       WbGuardStats   *stats,
                                       GError        **error);

/* --- the guard of one simulation ----------------------------------- */

typedef struct _WbGuard WbGuard;

/* @keep: extra fields whose last good state must stay readable (NULL or
 * NULL-terminated); the checked fields are always kept.  Unknown field
 * names are refused ("guard.fields[0]: ..."). */
WbGuard  *wb_guard_new                (WbSim          *sim,
                                       const WbGuardConfig *config,
                                       const char * const *keep,
                                       const char     *kernel_dir,
                                       GError        **error);
void      wb_guard_free               (WbGuard        *guard);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (WbGuard, wb_guard_free)

/* Steps the caller may take before the next check is due (G_MAXUINT64
 * when the guard is off).  0 means: call wb_guard_check now. */
guint64   wb_guard_steps_until_check  (const WbGuard  *guard);
/* Checks the current state (the sim is finished first).  FALSE with
 * WB_ERROR_DIVERGED on a blow-up; on success the state becomes the last
 * good one. */
gboolean  wb_guard_check              (WbGuard        *guard,
                                       GError        **error);
/* Checks the current state unless it is the one last checked: the end of
 * a run, so that nothing is exported from a state nobody checked. */
gboolean  wb_guard_finish             (WbGuard        *guard,
                                       GError        **error);
/* Checks only if a check is due. */
gboolean  wb_guard_poll               (WbGuard        *guard,
                                       GError        **error);
/* Step of the last good check, or -1 if none passed yet. */
gint64    wb_guard_last_good_step     (const WbGuard  *guard);
/* The field as it was at the last good check.  NOT_FOUND if it is not
 * kept or no check has passed. */
WbField  *wb_guard_read_last_good     (WbGuard        *guard,
                                       const char     *name,
                                       GError        **error);
/* Number of checks run so far. */
guint64   wb_guard_n_checks           (const WbGuard  *guard);

/* --- device faults -------------------------------------------------- */

/* Turns an OpenCL failure during a run (CL_OUT_OF_RESOURCES,
 * CL_MEM_OBJECT_ALLOCATION_FAILURE, a lost device...) into WB_ERROR_DEVICE
 * with the step, the device and what to do; other errors pass unchanged. */
void      wb_guard_explain_device_error (WbSim        *sim,
                                         GError      **error);
/* TRUE for errors after which the run might succeed on another backend. */
gboolean  wb_guard_is_device_error    (const GError   *error);

/* Refuses, with the numbers, a run whose buffers need @bytes in all on a
 * device with less global memory (the per-buffer limit is checked by
 * wb_cl_buffer_new). */
gboolean  wb_guard_check_device_memory (const WbDevice *device,
                                        guint64         bytes,
                                        const char     *what,
                                        GError        **error);

G_END_DECLS
