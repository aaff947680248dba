/* wb-tune.h: launch tuning per device and kernel, measured at first use and
 * cached on disk.
 *
 * A solver lists candidate launch configurations (a kernel variant, a
 * work-group size, a variant parameter such as a column length) with the
 * default first, and a function that times one of them.  wb_tune_choose
 * returns the cached choice for this device and key, or times every
 * candidate, keeps the fastest, and stores it in the cache.
 *
 * The cache is a key file, $WAVEBENCH_CACHE_DIR/tuning.ini (else
 * g_get_user_cache_dir()/wavebench/tuning.ini), one group per device
 * (name, driver and platform), one key per kernel key (the solver puts the
 * grid and the build switches that matter in it), written atomically.
 *
 * WAVEBENCH_TUNE selects the policy:
 *   auto   (default) the cache, else measure; CPU devices only measure
 *          when the solver says the candidates are cheap to time
 *   off    no measuring and no cache: the first candidate (the default)
 *   force  measure now and overwrite the cache
 * WAVEBENCH_TUNE_PIN="prefix=variant:LXxLYxLZ:param;..." pins the choice
 * for every key starting with prefix (tests use it to run each variant;
 * "0x0x0" local means the implementation's choice).
 */
#pragma once

#include <glib.h>

#include "wb-device.h"

G_BEGIN_DECLS

typedef struct
{
  char   variant[32];  /* kernel variant name, "" when there is one */
  gsize  local[3];     /* work-group size; local[0] == 0: the implementation's */
  guint  param;        /* variant parameter (e.g. cells per work-item), 0 if none */
} WbTuneChoice;

typedef enum
{
  WB_TUNE_AUTO,
  WB_TUNE_OFF,
  WB_TUNE_FORCE,
} WbTunePolicy;

typedef struct
{
  WbTuneChoice choice;
  double       seconds;   /* per launch (median), < 0 when it failed */
  char        *failure;   /* why it failed, or NULL */
} WbTuneTrial;

typedef struct
{
  WbTuneChoice choice;    /* what to use */
  const char  *source;    /* "default", "cache", "measured", "pinned" */
  GArray      *trials;    /* WbTuneTrial, filled when measured; may be NULL */
} WbTuneResult;

/* Times @choice: runs it a few times and sets *seconds to the median
 * seconds per launch.  Returns FALSE with @error when the choice cannot
 * run (too large a work-group for this kernel, a build error of the
 * variant): that candidate is skipped and its failure kept. */
typedef gboolean (*WbTuneMeasureFunc) (const WbTuneChoice *choice,
                                       double             *seconds,
                                       gpointer            user_data,
                                       GError            **error);

WbTunePolicy wb_tune_policy        (void);

/* Chooses among @candidates (@n >= 1, the default first) for @device and
 * @key.  @cheap: candidates are cheap enough to time on a CPU device too.
 * Fails only when every candidate failed to run. */
gboolean     wb_tune_choose        (const WbDevice      *device,
                                    const char          *key,
                                    const WbTuneChoice  *candidates,
                                    guint                n,
                                    gboolean             cheap,
                                    WbTuneMeasureFunc    measure,
                                    gpointer             user_data,
                                    WbTuneResult        *result,
                                    GError             **error);

void         wb_tune_result_clear  (WbTuneResult        *result);

/* "variant:64x4x1:16" (variant may be empty; local and param optional). */
gboolean     wb_tune_choice_parse  (const char          *text,
                                    WbTuneChoice        *choice,
                                    GError             **error);
char        *wb_tune_choice_format (const WbTuneChoice  *choice);

/* The cache file in use (for messages and tests). */
char        *wb_tune_cache_path    (void);

/* Median of @n values (sorts @values in place). */
double       wb_tune_median        (double              *values,
                                    guint                n);

/* The last results of wb_tune_choose in this process, newest last, as
 * "key: choice (source)" lines with the trial times, for `bench` reports. */
char        *wb_tune_report        (void);

G_END_DECLS
