#define G_LOG_DOMAIN "wb-synth"
#include "config.h"

#include <math.h>
#include <string.h>

#include "wb-error.h"
#include "wb-synth.h"

void
wb_synth_params_init (WbSynthParams *p)
{
  double zero = 0;

  memset (p, 0, sizeof *p);
  p->mdx = p->mdy = 25;
  p->mnx = p->mny = 21;
  p->offsets = g_array_new (FALSE, FALSE, sizeof (double));
  p->azimuths = g_array_new (FALSE, FALSE, sizeof (double));
  g_array_append_val (p->offsets, zero);
  g_array_append_val (p->azimuths, zero);
  p->n_samples = 250;
  p->dt = 0.004;
  p->frequency = 15;
  p->seed = 1;
  p->velocity = wb_velocity_new_constant (2000);
  p->diffractors = g_array_new (FALSE, FALSE, sizeof (WbDiffractor));
  p->reflectors = g_array_new (FALSE, FALSE, sizeof (WbReflector));
}

void
wb_synth_params_clear (WbSynthParams *p)
{
  g_clear_pointer (&p->offsets, g_array_unref);
  g_clear_pointer (&p->azimuths, g_array_unref);
  g_clear_pointer (&p->velocity, wb_velocity_free);
  g_clear_pointer (&p->diffractors, g_array_unref);
  g_clear_pointer (&p->reflectors, g_array_unref);
}

gboolean
wb_synth_params_check (const WbSynthParams *p,
                       GError             **error)
{
#define REFUSE(...) G_STMT_START { \
    g_set_error (error, WB_ERROR, WB_ERROR_INVALID, __VA_ARGS__); \
    return FALSE; } G_STMT_END

  if (p->mnx == 0 || p->mny == 0)
    REFUSE ("synth: midpoint grid of %u x %u; each must be >= 1", p->mnx, p->mny);
  if (!(p->mdx > 0) || !(p->mdy > 0))
    REFUSE ("synth: midpoint spacing must be > 0 m, got %g x %g", p->mdx, p->mdy);
  if (p->offsets->len == 0 || p->azimuths->len == 0)
    REFUSE ("synth: need at least one offset and one azimuth");
  for (guint i = 0; i < p->offsets->len; i++)
    if (!(g_array_index (p->offsets, double, i) >= 0))
      REFUSE ("synth: offsets must be >= 0 m, got %g", g_array_index (p->offsets, double, i));
  if (p->n_samples < 2 || p->n_samples > 65535)
    REFUSE ("synth: samples per trace must be in 2..65535, got %u", p->n_samples);
  if (!(p->dt >= 1e-6 && p->dt <= 0.065535))
    REFUSE ("synth: sample interval must be in [1 µs, 65.535 ms], got %g s", p->dt);
  if (!(p->delay >= 0 && p->delay <= 32.767))
    REFUSE ("synth: delay must be in [0, 32.767] s, got %g", p->delay);
  if (!(p->frequency > 0 && p->frequency < 0.5 / p->dt))
    REFUSE ("synth: Ricker frequency must be in (0, %g) Hz (Nyquist), got %g",
            0.5 / p->dt, p->frequency);
  if (!(p->noise >= 0))
    REFUSE ("synth: noise must be >= 0, got %g", p->noise);
  for (guint i = 0; i < p->reflectors->len; i++)
    {
      const WbReflector *r = &g_array_index (p->reflectors, WbReflector, i);
      if (!(r->dip >= 0 && r->dip < 90))
        REFUSE ("synth: reflector %u: dip must be in [0, 90) degrees, got %g", i + 1, r->dip);
      if (!(r->t0 > 0))
        REFUSE ("synth: reflector %u: t0 must be > 0 s, got %g", i + 1, r->t0);
    }
  for (guint i = 0; i < p->diffractors->len; i++)
    if (!(g_array_index (p->diffractors, WbDiffractor, i).t0 >= 0))
      REFUSE ("synth: diffractor %u: t0 must be >= 0 s", i + 1);
  return TRUE;
#undef REFUSE
}

gsize
wb_synth_n_traces (const WbSynthParams *p)
{
  return (gsize) p->mnx * p->mny * p->offsets->len * p->azimuths->len;
}

double
wb_ricker (double f,
           double tau)
{
  double a = G_PI * G_PI * f * f * tau * tau;
  return (1 - 2 * a) * exp (-a);
}

static void
add_ricker (const WbSynthParams *p, float *samples, double t, double amplitude)
{
  /* The wavelet is below 1e-6 of its peak beyond 1.2 periods. */
  double half = 1.2 / p->frequency;
  long lo = (long) ceil ((t - half - p->delay) / p->dt);
  long hi = (long) floor ((t + half - p->delay) / p->dt);

  lo = MAX (lo, 0);
  hi = MIN (hi, (long) p->n_samples - 1);
  for (long i = lo; i <= hi; i++)
    samples[i] += amplitude * wb_ricker (p->frequency, p->delay + i * p->dt - t);
}

static guint64
splitmix64 (guint64 *state)
{
  guint64 z = (*state += 0x9E3779B97F4A7C15ull);
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
  return z ^ (z >> 31);
}

static double
uniform01 (guint64 *state)
{
  return ((splitmix64 (state) >> 11) + 0.5) * (1.0 / 9007199254740992.0);
}

void
wb_synth_trace (const WbSynthParams *p,
                gsize                index,
                double              *sx,
                double              *sy,
                double              *rx,
                double              *ry,
                float               *samples)
{
  guint naz = p->azimuths->len, noff = p->offsets->len;
  guint ia = index % naz;
  guint io = (index / naz) % noff;
  gsize m = index / naz / noff;
  guint ix = m % p->mnx, iy = m / p->mnx;
  double mx = p->mx0 + ix * p->mdx, my = p->my0 + iy * p->mdy;
  double h = 0.5 * g_array_index (p->offsets, double, io);
  double az = g_array_index (p->azimuths, double, ia) * G_PI / 180;
  double hx = h * cos (az), hy = h * sin (az);

  /* Offsets along the axes give exact half-offsets (no 1e-17 residues). */
  if (fabs (hx) < 1e-9 * MAX (h, 1)) hx = 0;
  if (fabs (hy) < 1e-9 * MAX (h, 1)) hy = 0;
  *sx = mx - hx;
  *sy = my - hy;
  *rx = mx + hx;
  *ry = my + hy;
  if (samples == NULL)
    return;

  memset (samples, 0, sizeof (float) * p->n_samples);
  for (guint d = 0; d < p->diffractors->len; d++)
    {
      const WbDiffractor *df = &g_array_index (p->diffractors, WbDiffractor, d);
      double v = wb_velocity_at (p->velocity, df->t0);
      double th2 = 0.25 * df->t0 * df->t0;
      double ts = sqrt (th2 + ((*sx - df->x) * (*sx - df->x) + (*sy - df->y) * (*sy - df->y)) / (v * v));
      double tr = sqrt (th2 + ((*rx - df->x) * (*rx - df->x) + (*ry - df->y) * (*ry - df->y)) / (v * v));

      add_ricker (p, samples, ts + tr, df->amplitude);
    }
  for (guint r = 0; r < p->reflectors->len; r++)
    {
      const WbReflector *rf = &g_array_index (p->reflectors, WbReflector, r);
      double v = wb_velocity_at (p->velocity, rf->t0);
      double tan_dip = tan (rf->dip * G_PI / 180);
      double a = rf->azimuth * G_PI / 180;
      double norm = sqrt (1 + tan_dip * tan_dip);
      /* Unit normal of z = z0 + tan(dip) ((x - x0) cos a + (y - y0) sin a). */
      double n[3] = { -tan_dip * cos (a) / norm, -tan_dip * sin (a) / norm, 1 / norm };
      double p0[3] = { rf->x, rf->y, 0.5 * v * rf->t0 };
      double s[3] = { *sx, *sy, 0 };
      double dist = (s[0] - p0[0]) * n[0] + (s[1] - p0[1]) * n[1] + (s[2] - p0[2]) * n[2];
      double img[3], t;

      for (int c = 0; c < 3; c++)
        img[c] = s[c] - 2 * dist * n[c];
      t = sqrt ((*rx - img[0]) * (*rx - img[0]) + (*ry - img[1]) * (*ry - img[1])
                + img[2] * img[2]) / v;
      add_ricker (p, samples, t, rf->amplitude);
    }
  if (p->noise > 0)
    {
      double peak = 0;
      guint64 state = p->seed * 0x100000001B3ull + index;

      for (guint d = 0; d < p->diffractors->len; d++)
        peak = MAX (peak, fabs (g_array_index (p->diffractors, WbDiffractor, d).amplitude));
      for (guint r = 0; r < p->reflectors->len; r++)
        peak = MAX (peak, fabs (g_array_index (p->reflectors, WbReflector, r).amplitude));
      if (peak == 0)
        peak = 1;
      for (guint i = 0; i < p->n_samples; i++)
        {
          /* Box-Muller */
          double u1 = uniform01 (&state), u2 = uniform01 (&state);
          samples[i] += p->noise * peak * sqrt (-2 * log (u1)) * cos (2 * G_PI * u2);
        }
    }
}

static double
max_abs_coordinate (const WbSynthParams *p)
{
  double hmax = 0;

  for (guint i = 0; i < p->offsets->len; i++)
    hmax = MAX (hmax, 0.5 * g_array_index (p->offsets, double, i));
  return MAX (fabs (p->origin_x), fabs (p->origin_y))
         + MAX (fabs (p->mx0), fabs (p->my0))
         + MAX (p->mnx * p->mdx, p->mny * p->mdy) + hmax;
}

gboolean
wb_synth_write_segy (const WbSynthParams *p,
                     const char          *path,
                     int                  format,
                     const WbSegyLayout  *layout,
                     WbSegyScanFunc       progress,
                     gpointer             user_data,
                     GCancellable        *cancellable,
                     GError             **error)
{
  WbSegyLayout standard;
  WbSegyWriter *writer;
  g_autofree float *samples = NULL;
  g_autofree char *text = NULL;
  gsize n = wb_synth_n_traces (p);
  gint32 scalar = wb_segy_choose_scalar (max_abs_coordinate (p));
  guint naz = p->azimuths->len, noff = p->offsets->len;
  int delay_ms = (int) lround (p->delay * 1e3);

  if (!wb_synth_params_check (p, error))
    return FALSE;
  if (layout == NULL)
    {
      wb_segy_layout_init (&standard);
      layout = &standard;
    }
  if (!wb_segy_layout_check (layout, error))
    return FALSE;

  text = g_strdup_printf ("Wavebench synthetic pre-stack data\n"
                          "%u x %u midpoints, %u offsets, %u azimuths, %" G_GSIZE_FORMAT " traces\n"
                          "%u diffractors, %u reflectors, Ricker %g Hz, noise %g\n"
                          "source x/y at bytes %d/%d, receiver x/y at %d/%d, scalar at %d",
                          p->mnx, p->mny, noff, naz, n,
                          p->diffractors->len, p->reflectors->len, p->frequency, p->noise,
                          layout->source_x, layout->source_y,
                          layout->receiver_x, layout->receiver_y, layout->scalar);
  writer = wb_segy_writer_open (path, p->n_samples, p->dt, format, text, error);
  if (writer == NULL)
    return FALSE;
  samples = g_new (float, p->n_samples);

  for (gsize i = 0; i < n; i++)
    {
      guint8 header[240] = { 0 };
      double sx, sy, rx, ry;
      gsize m = i / naz / noff;

      if (i % 4096 == 0)
        {
          if (g_cancellable_set_error_if_cancelled (cancellable, error))
            {
              wb_segy_writer_abort (writer);
              return FALSE;
            }
          if (progress != NULL && i > 0)
            progress (i, n, user_data);
        }
      wb_synth_trace (p, i, &sx, &sy, &rx, &ry, samples);
      sx += p->origin_x; rx += p->origin_x;
      sy += p->origin_y; ry += p->origin_y;

      /* Fields with no configurable place first; the coordinates, scalar
       * and delay only where the layout puts them (last, so that they win
       * where they overlap), so that a reader with another layout finds
       * nothing there. */
      wb_segy_set_int (header, 69, 2, 1);
      wb_segy_set_int (header, 37, 4, (gint32) lround (hypot (rx - sx, ry - sy)));
      wb_segy_set_coordinate (header, 181, scalar, 0.5 * (sx + rx));
      wb_segy_set_coordinate (header, 185, scalar, 0.5 * (sy + ry));
      wb_segy_set_int (header, 21, 4, (gint32) (m + 1));
      wb_segy_set_int (header, 189, 4, (gint32) (m / p->mnx + 1));
      wb_segy_set_int (header, 193, 4, (gint32) (m % p->mnx + 1));
      wb_segy_set_int (header, layout->scalar, 2, scalar);
      wb_segy_set_int (header, layout->delay, 2, delay_ms);
      if (layout->geometry == WB_SEGY_GEOMETRY_CDP)
        {
          wb_segy_set_coordinate (header, layout->cdp_x, scalar, 0.5 * (sx + rx));
          wb_segy_set_coordinate (header, layout->cdp_y, scalar, 0.5 * (sy + ry));
        }
      else
        {
          wb_segy_set_coordinate (header, layout->source_x, scalar, sx);
          wb_segy_set_coordinate (header, layout->source_y, scalar, sy);
          wb_segy_set_coordinate (header, layout->receiver_x, scalar, rx);
          wb_segy_set_coordinate (header, layout->receiver_y, scalar, ry);
        }
      if (!wb_segy_writer_add (writer, header, samples, error))
        {
          wb_segy_writer_abort (writer);
          return FALSE;
        }
    }
  if (progress != NULL)
    progress (n, n, user_data);
  return wb_segy_writer_commit (writer, error);
}

WbPstmInput *
wb_synth_to_input (const WbSynthParams *p,
                   GError             **error)
{
  WbSegyGeometry *g;
  float *samples;
  gsize n = wb_synth_n_traces (p);
  gint32 scalar = wb_segy_choose_scalar (max_abs_coordinate (p));

  if (!wb_synth_params_check (p, error))
    return NULL;

  g = g_new0 (WbSegyGeometry, 1);
  g->n_traces = n;
  g->n_samples = p->n_samples;
  /* As read back from SEG-Y: whole microseconds, whole milliseconds. */
  g->dt = lround (p->dt * 1e6) * 1e-6;
  g->sx = g_new (float, n);
  g->sy = g_new (float, n);
  g->rx = g_new (float, n);
  g->ry = g_new (float, n);
  g->delay = g_new (float, n);
  g->mid_min[0] = g->mid_min[1] = G_MAXDOUBLE;
  g->mid_max[0] = g->mid_max[1] = -G_MAXDOUBLE;
  samples = g_new (float, n * p->n_samples);

  for (gsize i = 0; i < n; i++)
    {
      double c[4], mx, my;

      wb_synth_trace (p, i, &c[0], &c[1], &c[2], &c[3], samples + i * p->n_samples);
      /* Same rounding as the SEG-Y path: coordinates in scalar units. */
      for (int k = 0; k < 4; k++)
        {
          double abs_c = c[k] + (k % 2 == 0 ? p->origin_x : p->origin_y);
          c[k] = scalar < 0 ? round (abs_c * -scalar) / -scalar
                            : round (abs_c / scalar) * scalar;
        }
      if (i == 0)
        {
          g->origin_x = round (c[0]);
          g->origin_y = round (c[1]);
        }
      g->sx[i] = c[0] - g->origin_x;
      g->sy[i] = c[1] - g->origin_y;
      g->rx[i] = c[2] - g->origin_x;
      g->ry[i] = c[3] - g->origin_y;
      g->delay[i] = lround (p->delay * 1e3) * 1e-3;
      mx = 0.5 * ((double) g->sx[i] + g->rx[i]);
      my = 0.5 * ((double) g->sy[i] + g->ry[i]);
      g->mid_min[0] = MIN (g->mid_min[0], mx);
      g->mid_min[1] = MIN (g->mid_min[1], my);
      g->mid_max[0] = MAX (g->mid_max[0], mx);
      g->mid_max[1] = MAX (g->mid_max[1], my);
      g->max_offset = MAX (g->max_offset, hypot ((double) g->rx[i] - g->sx[i],
                                                  (double) g->ry[i] - g->sy[i]));
    }
  return wb_pstm_input_new_memory (g, samples);
}
