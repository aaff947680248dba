/* wb-synth.h: synthetic pre-stack data for migration tests and demos.
 *
 * Midpoints on a regular grid; at each midpoint one trace per chosen
 * offset and azimuth (source and receiver half an offset either side).
 * Events:
 *   - point diffractors at (x, y, t0): a Ricker wavelet centred on the DSR
 *     time of PHYSICS.md with v = vrms(t0);
 *   - plane dipping reflectors, given by their vertical time t0 at (x, y),
 *     dip and dip azimuth: the exact reflection time of a plane in a
 *     constant velocity vrms(t0) (mirror-source construction).
 * Optional Gaussian noise (deterministic per trace and seed).  Written as
 * SEG-Y, streamed trace by trace, or kept in memory as a migration input.
 */
#pragma once

#include <gio/gio.h>
#include "wb-pstm.h"
#include "wb-segy.h"

G_BEGIN_DECLS

typedef struct
{
  double x, y, t0, amplitude;
} WbDiffractor;

typedef struct
{
  double x, y, t0;       /* a point of the plane, at vertical two-way time t0 */
  double dip;            /* degrees */
  double azimuth;        /* degrees from +x towards +y, direction of descent */
  double amplitude;
} WbReflector;

typedef struct
{
  /* Survey coordinates of the local (0, 0): added to every coordinate
   * written, to exercise large (UTM-like) coordinates. */
  double      origin_x, origin_y;
  /* Midpoint grid, local metres. */
  double      mx0, my0, mdx, mdy;
  guint       mnx, mny;
  GArray     *offsets;      /* double, metres */
  GArray     *azimuths;     /* double, degrees */
  guint       n_samples;
  double      dt;           /* seconds */
  double      delay;        /* time of the first sample, seconds (whole ms in SEG-Y) */
  double      frequency;    /* Ricker peak frequency, Hz */
  double      noise;        /* standard deviation relative to the largest amplitude */
  guint64     seed;
  WbVelocity *velocity;     /* owned */
  GArray     *diffractors;  /* WbDiffractor */
  GArray     *reflectors;   /* WbReflector */
} WbSynthParams;

/* Defaults: 21 x 21 midpoints 25 m apart, zero offset, 250 samples of 4 ms,
 * 15 Hz, 2000 m/s, no events (add some). */
void          wb_synth_params_init   (WbSynthParams *params);
void          wb_synth_params_clear  (WbSynthParams *params);
gboolean      wb_synth_params_check  (const WbSynthParams *params,
                                      GError       **error);
gsize         wb_synth_n_traces      (const WbSynthParams *params);

/* Ricker wavelet of peak frequency @f at time @tau from its centre. */
double        wb_ricker              (double        f,
                                      double        tau);

/* Trace @index: source and receiver in local metres, and its samples. */
void          wb_synth_trace         (const WbSynthParams *params,
                                      gsize         index,
                                      double       *sx,
                                      double       *sy,
                                      double       *rx,
                                      double       *ry,
                                      float        *samples);

/* Writes every trace to @path (atomically).  @layout (NULL: standard byte
 * positions) says where the coordinates, their scalar and the delay go, and
 * nothing else holds them; CDP x/y (181/185, with the layout's scalar),
 * offset, ensemble and inline/crossline numbers go to their standard
 * places (under the layout's fields where they overlap). */
gboolean      wb_synth_write_segy    (const WbSynthParams *params,
                                      const char   *path,
                                      int           format,
                                      const WbSegyLayout *layout,
                                      WbSegyScanFunc progress,
                                      gpointer      user_data,
                                      GCancellable *cancellable,
                                      GError      **error);

/* The same traces in memory, as a migration input (local origin as the
 * SEG-Y scan would choose it). */
WbPstmInput  *wb_synth_to_input      (const WbSynthParams *params,
                                      GError      **error);

G_END_DECLS
