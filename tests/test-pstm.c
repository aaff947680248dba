/* Kirchhoff pre-stack time migration: focusing of point diffractors and
 * dipping reflectors, defocusing under a 5% velocity error, OpenCL against
 * the C reference, a single trace against its analytic image, apertures
 * covering everything or almost nothing, tiles without traces, v(t)
 * against constant velocity, batch and tile independence, several devices
 * at once, cancel then resume, progress events, and the CLI. */
#include "config.h"

#include <math.h>
#include <string.h>
#include <sys/wait.h>
#include <glib/gstdio.h>

#include "wb-device.h"
#include "wb-error.h"
#include "wb-npy.h"
#include "wb-pstm.h"
#include "wb-segy.h"
#include "wb-synth.h"

static char *tmpdir;

static WbDevice *
find_device (gboolean reference)
{
  g_autoptr(GPtrArray) devices = wb_device_list (NULL);

  for (guint i = 0; i < devices->len; i++)
    {
      WbDevice *d = g_ptr_array_index (devices, i);
      if (wb_device_is_reference (d) == reference)
        return wb_device_ref (d);
    }
  return NULL;
}

static GPtrArray *
device_list (WbDevice *a, WbDevice *b)
{
  GPtrArray *list = g_ptr_array_new_with_free_func ((GDestroyNotify) wb_device_unref);

  g_ptr_array_add (list, wb_device_ref (a));
  if (b != NULL)
    g_ptr_array_add (list, wb_device_ref (b));
  return list;
}

/* The standard survey: 15 x 15 midpoints 25 m apart, offsets 100 and
 * 300 m along x and along y (900 traces), 200 samples of 4 ms, Ricker
 * 15 Hz, 2000 m/s; two diffractors. */
static void
survey_init (WbSynthParams *p)
{
  double offsets[2] = { 100, 300 }, azimuths[2] = { 0, 90 };
  WbDiffractor d[2] = { { 175, 175, 0.3, 1 }, { 100, 250, 0.5, 2 } };

  wb_synth_params_init (p);
  g_array_set_size (p->offsets, 0);
  g_array_append_vals (p->offsets, offsets, 2);
  g_array_set_size (p->azimuths, 0);
  g_array_append_vals (p->azimuths, azimuths, 2);
  p->mnx = p->mny = 15;
  p->n_samples = 200;
  g_array_append_vals (p->diffractors, d, 2);
}

static WbPstmInput *
survey_input (const WbSynthParams *p)
{
  g_autoptr(GError) error = NULL;
  WbPstmInput *input = wb_synth_to_input (p, &error);

  g_assert_no_error (error);
  return input;
}

/* Output grid on the midpoints, times 0.2 .. 0.596 s. */
static void
params_init (WbPstmParams *pp, WbPstmInput *input)
{
  g_autoptr(GError) error = NULL;

  wb_pstm_params_init (pp);
  g_assert_true (wb_pstm_params_auto_grid (pp, input, 25, 25, &error));
  g_assert_no_error (error);
  pp->t0 = 0.2;
  pp->nt = 100;
}

typedef struct
{
  guint   events[5];
  guint   tiles_done_events;
  guint   cancel_after;          /* cancel at this TILE_DONE, 0: never */
  GCancellable *cancellable;
  WbPstmProgress last;
  GHashTable *devices;           /* device id -> tiles */
} Events;

static void
on_progress (const WbPstmProgress *p, gpointer data)
{
  Events *ev = data;

  g_assert_cmpint (p->kind, <, 5);
  ev->events[p->kind]++;
  g_assert_cmpuint (p->tile, <, p->n_tiles);
  g_assert_cmpuint (p->tile_traces_done, <=, p->tile_traces);
  g_assert_cmpuint (p->traces_done, <=, p->traces_total);
  g_assert_cmpuint (p->contributions_done, <=, p->contributions_total);
  if (p->kind == WB_PSTM_EVENT_TILE_DONE)
    {
      ev->tiles_done_events++;
      g_assert_cmpuint (p->tile_traces_done, ==, p->tile_traces);
      if (ev->devices != NULL)
        g_hash_table_insert (ev->devices, g_strdup (p->device_id),
                             GUINT_TO_POINTER (GPOINTER_TO_UINT (g_hash_table_lookup (ev->devices, p->device_id)) + 1));
      if (ev->cancel_after != 0 && ev->tiles_done_events == ev->cancel_after)
        g_cancellable_cancel (ev->cancellable);
    }
  ev->last = *p;
}

static WbField *
migrate_full (WbPstmInput        *input,
              const WbPstmParams *pp,
              const WbVelocity   *v,
              GPtrArray          *devices,
              WbField           **fold,
              Events             *events,
              WbPstmStats        *stats)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(WbPstmJob) job = wb_pstm_job_new (input, pp, v, devices, NULL, &error);

  g_assert_no_error (error);
  if (events != NULL)
    wb_pstm_job_set_progress (job, on_progress, events);
  g_assert_true (wb_pstm_job_run (job, events ? events->cancellable : NULL, &error));
  g_assert_no_error (error);
  if (fold != NULL)
    *fold = wb_pstm_job_get_fold (job);
  if (stats != NULL)
    wb_pstm_job_get_stats (job, stats);
  return wb_pstm_job_get_image (job);
}

static WbField *
migrate_on (WbPstmInput *input, const WbPstmParams *pp, const WbVelocity *v,
            WbDevice *device, WbField **fold)
{
  g_autoptr(GPtrArray) devices = device_list (device, NULL);
  return migrate_full (input, pp, v, devices, fold, NULL, NULL);
}

/* Output sample nearest to (x, y, t0) of the image. */
static void
nearest (const WbField *f, double x, double y, double t, int *i, int *j, int *k)
{
  *i = (int) lround ((x - f->origin[0]) / f->spacing[0]);
  *j = (int) lround ((y - f->origin[1]) / f->spacing[1]);
  *k = (int) lround ((t - f->origin[2]) / f->spacing[2]);
}

/* Largest |value| of @f within +-@r columns and +-@rt samples of (i, j, k);
 * its position in *pi, *pj, *pk. */
static double
peak_near (const WbField *f, int i, int j, int k, int r, int rt, int *pi, int *pj, int *pk)
{
  double best = -1;

  for (int c = MAX (k - rt, 0); c <= MIN (k + rt, (int) f->shape[2] - 1); c++)
    for (int b = MAX (j - r, 0); b <= MIN (j + r, (int) f->shape[1] - 1); b++)
      for (int a = MAX (i - r, 0); a <= MIN (i + r, (int) f->shape[0] - 1); a++)
        {
          double v = fabs (f->data[wb_field_index (f, a, b, c)]);
          if (v > best)
            {
              best = v;
              *pi = a; *pj = b; *pk = c;
            }
        }
  return best;
}

/* Envelope (magnitude of the analytic signal, by a direct DFT) of every
 * column: the derivative pre-filter makes a diffractor's apex wavelet
 * antisymmetric (the whole aperture is in phase there, so no stationary-
 * phase integration undoes the derivative), and its envelope peaks at the
 * diffractor. */
static WbField *
envelope (const WbField *f)
{
  WbField *e = wb_field_copy (f);
  gsize n = f->shape[2], plane = f->shape[0] * f->shape[1];
  g_autofree double *re = g_new (double, n);
  g_autofree double *im = g_new (double, n);

  for (gsize c = 0; c < plane; c++)
    {
      for (gsize k = 0; k < n; k++)
        {
          double sr = 0, si = 0;
          for (gsize m = 0; m < n; m++)
            {
              double a = -2 * G_PI * k * m / n;
              sr += f->data[c + plane * m] * cos (a);
              si += f->data[c + plane * m] * sin (a);
            }
          double h = (k == 0 || 2 * k == n) ? 1 : (2 * k < n ? 2 : 0);
          re[k] = sr * h;
          im[k] = si * h;
        }
      for (gsize m = 0; m < n; m++)
        {
          double sr = 0, si = 0;
          for (gsize k = 0; k < n; k++)
            {
              double a = 2 * G_PI * k * m / n;
              sr += re[k] * cos (a) - im[k] * sin (a);
              si += re[k] * sin (a) + im[k] * cos (a);
            }
          e->data[c + plane * m] = hypot (sr, si) / n;
        }
    }
  return e;
}

static double
rel_l2 (const WbField *a, const WbField *b)
{
  double num = 0, den = 0;

  g_assert_cmpuint (wb_field_n_elements (a), ==, wb_field_n_elements (b));
  for (gsize s = 0; s < wb_field_n_elements (a); s++)
    {
      num += ((double) a->data[s] - b->data[s]) * ((double) a->data[s] - b->data[s]);
      den += (double) a->data[s] * a->data[s];
    }
  g_assert_cmpfloat (den, >, 0);
  return sqrt (num / den);
}

static void
assert_fields_identical (const WbField *a, const WbField *b)
{
  g_assert_cmpuint (wb_field_n_elements (a), ==, wb_field_n_elements (b));
  g_assert_cmpmem (a->data, sizeof (float) * wb_field_n_elements (a),
                   b->data, sizeof (float) * wb_field_n_elements (b));
}

/* --- focusing --------------------------------------------------------- */

static void
test_focus (void)
{
  g_autoptr(WbDevice) ref = find_device (TRUE);
  g_autoptr(WbVelocity) v = wb_velocity_new_constant (2000);
  g_autoptr(WbVelocity) v5 = wb_velocity_scaled (v, 1.05);
  WbSynthParams sp;
  WbPstmParams pp;
  g_autoptr(WbPstmInput) input = NULL;
  g_autoptr(WbField) img = NULL;
  g_autoptr(WbField) img5 = NULL;
  g_autoptr(WbField) imgd = NULL;
  g_autoptr(WbField) env = NULL;

  /* A wider survey than the other tests' (21 x 21 midpoints, 1764
   * traces): the velocity error shows more in a wider aperture. */
  survey_init (&sp);
  sp.mnx = sp.mny = 21;
  g_array_index (sp.diffractors, WbDiffractor, 0).x = 250;
  g_array_index (sp.diffractors, WbDiffractor, 0).y = 250;
  g_array_index (sp.diffractors, WbDiffractor, 1).x = 150;
  g_array_index (sp.diffractors, WbDiffractor, 1).y = 350;
  input = survey_input (&sp);
  params_init (&pp, input);
  g_assert_cmpuint (pp.nx, ==, 21);
  g_assert_cmpuint (pp.ny, ==, 21);
  g_assert_cmpfloat (pp.dx, ==, 25);

  /* Without the derivative the apex wavelet is the data's (zero phase). */
  pp.derivative = FALSE;
  img = migrate_on (input, &pp, v, ref, NULL);
  img5 = migrate_on (input, &pp, v5, ref, NULL);
  pp.derivative = TRUE;
  imgd = migrate_on (input, &pp, v, ref, NULL);
  env = envelope (imgd);

  for (guint d = 0; d < sp.diffractors->len; d++)
    {
      const WbDiffractor *df = &g_array_index (sp.diffractors, WbDiffractor, d);
      int i, j, k, pi, pj, pk;
      double peak, peak5, at5;

      nearest (img, df->x, df->y, df->t0, &i, &j, &k);
      /* The strongest sample within 4 bins and 20 samples is at the
       * diffractor: within one bin and one sample. */
      peak = peak_near (img, i, j, k, 4, 20, &pi, &pj, &pk);
      g_test_message ("diffractor %u at (%d, %d, %d): peak %g at (%d, %d, %d)", d, i, j, k, peak, pi, pj, pk);
      g_assert_cmpint (abs (pi - i), <=, 1);
      g_assert_cmpint (abs (pj - j), <=, 1);
      g_assert_cmpint (abs (pk - k), <=, 1);
      g_assert_cmpfloat (img->data[wb_field_index (img, pi, pj, pk)], >, 0);

      peak = peak_near (env, i, j, k, 4, 20, &pi, &pj, &pk);
      g_test_message ("derivative: envelope peak %g at (%d, %d, %d)", peak, pi, pj, pk);
      g_assert_cmpint (abs (pi - i), <=, 1);
      g_assert_cmpint (abs (pj - j), <=, 1);
      g_assert_cmpint (abs (pk - k), <=, 1);

      /* 5% too fast: the value at the diffractor drops by a quarter
       * (measured 26% and 24%); the strongest nearby sample, moved down in
       * time, is weaker too (measured 5% and 10%). */
      peak = peak_near (img, i, j, k, 4, 20, &pi, &pj, &pk);
      peak5 = peak_near (img5, i, j, k, 4, 20, &pi, &pj, &pk);
      at5 = fabs (img5->data[wb_field_index (img5, i, j, k)]);
      g_test_message ("5%% velocity error: peak %g -> %g, at the diffractor %g", peak, peak5, at5);
      g_assert_cmpfloat (peak5, <, 0.97 * peak);
      g_assert_cmpfloat (at5, <, 0.85 * peak);
    }
  wb_synth_params_clear (&sp);
}

static void
test_reflector (void)
{
  /* A plane dipping 10 degrees towards +x, t0 = 0.4 s under (175, 175):
   * with the derivative pre-filter, each column's image peaks at the
   * plane's vertical time 2 z(x) / v within one sample. */
  g_autoptr(WbDevice) dev = find_device (FALSE);
  g_autoptr(WbVelocity) v = wb_velocity_new_constant (2000);
  WbReflector r = { 175, 175, 0.4, 10, 0, 1 };
  WbSynthParams sp;
  WbPstmParams pp;
  g_autoptr(WbPstmInput) input = NULL;
  g_autoptr(WbField) img = NULL;
  double tan_dip = tan (10 * G_PI / 180);
  guint checked = 0;

  if (dev == NULL)
    dev = find_device (TRUE);
  survey_init (&sp);
  g_array_set_size (sp.diffractors, 0);
  g_array_append_val (sp.reflectors, r);
  input = survey_input (&sp);
  params_init (&pp, input);
  img = migrate_on (input, &pp, v, dev, NULL);

  /* Constant velocity: time migration puts the plane at its true place,
   * t0(x) = 2 z(x) / v with z the depth under the column.  Columns away
   * from the survey edges, where the operator is not cut in half. */
  for (int i = 3; i <= 11; i++)
    for (int j = 3; j <= 11; j++)
      {
        double x = img->origin[0] + i * img->spacing[0];
        double z = 0.5 * 2000 * 0.4 + tan_dip * (x - 175);
        int k = (int) lround ((2 * z / 2000 - img->origin[2]) / img->spacing[2]);
        int pi = 0, pj = 0, pk = 0;

        peak_near (img, i, j, k, 0, 12, &pi, &pj, &pk);
        g_assert_cmpint (abs (pk - k), <=, 1);
        g_assert_cmpfloat (img->data[wb_field_index (img, pi, pj, pk)], >, 0);
        checked++;
      }
  g_assert_cmpuint (checked, ==, 81);
  wb_synth_params_clear (&sp);
}

/* --- OpenCL against the reference -------------------------------------- */

static void
compare_backends (WbPstmParams *pp, const WbVelocity *v, WbPstmInput *input, double tolerance)
{
  g_autoptr(WbDevice) ref = find_device (TRUE);
  g_autoptr(WbDevice) cl = find_device (FALSE);
  g_autoptr(WbField) fold_ref = NULL;
  g_autoptr(WbField) fold_cl = NULL;
  g_autoptr(WbField) a = NULL;
  g_autoptr(WbField) b = NULL;
  double err;

  a = migrate_on (input, pp, v, ref, &fold_ref);
  b = migrate_on (input, pp, v, cl, &fold_cl);
  err = rel_l2 (a, b);
  g_test_message ("relative L2 %.3g (tolerance %.1g)", err, tolerance);
  g_assert_cmpfloat (err, <=, tolerance);
  /* Both decide "in aperture" and "within the trace" from the same float32
   * numbers, on coordinates that are whole metres: identical fold. */
  assert_fields_identical (fold_ref, fold_cl);
}

static void
test_opencl_vs_reference (void)
{
  g_autoptr(WbDevice) cl = find_device (FALSE);
  g_autoptr(WbVelocity) v = wb_velocity_new_constant (2000);
  double t[3] = { 0, 0.4, 1.0 }, vv[3] = { 1800, 2200, 2600 };
  g_autoptr(WbVelocity) vt = NULL;
  g_autoptr(GError) error = NULL;
  g_autoptr(WbPstmInput) input = NULL;
  WbSynthParams sp;
  WbPstmParams pp;

  if (cl == NULL)
    {
      g_test_skip ("no OpenCL device");
      return;
    }
  vt = wb_velocity_new (3, t, vv, &error);
  g_assert_no_error (error);
  survey_init (&sp);
  sp.noise = 0.1;       /* energy everywhere, not only along two curves */
  input = survey_input (&sp);
  params_init (&pp, input);
  pp.tile_nx = pp.tile_ny = 8;       /* 9 tiles */

  /* float32 travel times (t ~ 0.5 s, relative rounding 6e-8) move the
   * interpolation by ~1e-5 samples; sums of ~1000 terms in float32 on the
   * device and in double in the reference differ by ~sqrt(1000) * 6e-8:
   * both well under 1e-5 relative L2. */
  compare_backends (&pp, v, input, 1e-5);

  /* v(t), spreading, no obliquity, fixed batches. */
  pp.spreading = TRUE;
  pp.obliquity = FALSE;
  pp.batch_traces = 97;
  compare_backends (&pp, vt, input, 1e-5);

  /* Anti-aliasing: the kernel reads the triangle from the double-integrated
   * zero-padded trace (three reads, a second difference over L^2), the
   * reference sums the triangle directly; the same numbers in exact
   * arithmetic.  The integrated trace, stored in float32, is ~10x larger
   * than the difference taken from it, which costs a decimal digit: a few
   * 1e-6 (measured 1.3e-6), still under 1e-5. */
  pp.antialias = TRUE;
  pp.batch_traces = 0;
  compare_backends (&pp, vt, input, 1e-5);
  wb_synth_params_clear (&sp);
}

/* Every kernel variant and launch configuration (pinned through
 * WAVEBENCH_TUNE_PIN as a tuning run would pick it) against the
 * reference: the same bound and the same fold as the default; with the
 * traces resident on the device and streamed in batches (a memory budget
 * too small to hold them all), in several batches per tile, with v(t) and
 * spreading, and with anti-aliasing. */
static void
test_variants (void)
{
  static const char *pins[] = {
    "pstm=strided:64x1x1:4",
    "pstm=strided-native:64x1x1:8",
    "pstm=contig:4x1x1:7",           /* 500 samples are not a multiple of 7 */
    "pstm=contig-pf:0x0x0:16",
    "pstm=strided-native-pf:64x1x1:4",
    "pstm=strided:32x1x1:16",
    "pstm=strided-native-br:64x1x1:8",
  };

  g_autoptr(WbDevice) ref = find_device (TRUE);
  g_autoptr(WbDevice) cl = find_device (FALSE);
  g_autoptr(WbVelocity) v = wb_velocity_new_constant (2000);
  double t[3] = { 0, 0.4, 1.0 }, vv[3] = { 1800, 2200, 2600 };
  g_autoptr(WbVelocity) vt = NULL;
  g_autoptr(GError) error = NULL;
  g_autoptr(WbPstmInput) input = NULL;
  WbSynthParams sp;
  WbPstmParams pp;

  if (cl == NULL)
    {
      g_test_skip ("no OpenCL device");
      return;
    }
  vt = wb_velocity_new (3, t, vv, &error);
  g_assert_no_error (error);
  survey_init (&sp);
  sp.noise = 0.1;
  input = survey_input (&sp);

  for (guint setting = 0; setting < 3; setting++)
    {
      g_autoptr(WbField) fold_ref = NULL;
      g_autoptr(WbField) a = NULL;
      const WbVelocity *vel = setting == 0 ? v : vt;

      params_init (&pp, input);
      pp.tile_nx = pp.tile_ny = 8;
      if (setting >= 1)
        {
          pp.spreading = TRUE;
          pp.obliquity = FALSE;
        }
      if (setting == 2)
        pp.antialias = TRUE;
      a = migrate_on (input, &pp, vel, ref, &fold_ref);

      for (guint i = 0; i < G_N_ELEMENTS (pins); i++)
        for (guint streamed = 0; streamed < 2; streamed++)
          {
            g_autoptr(WbField) fold = NULL;
            g_autoptr(WbField) b = NULL;
            WbPstmParams q = pp;
            double err;

            /* Beyond the first setting, and when streaming, the first
             * and the last (the options and the batch path are the same
             * code in all; the contiguous layout runs every setting in
             * opencl-vs-reference, as PoCL's default). */
            if ((setting > 0 || streamed) && i != 0 && i != G_N_ELEMENTS (pins) - 1)
              continue;
            if (streamed)
              {
                /* 512 KiB for traces of 820 bytes: 639 of the 900 fit,
                 * so batches of at most 319 are streamed through two sets;
                 * 61 per batch makes several per tile. */
                q.memory_budget = 1u << 20;
                q.batch_traces = 61;
              }
            g_setenv ("WAVEBENCH_TUNE_PIN", pins[i], TRUE);
            b = migrate_on (input, &q, vel, cl, &fold);
            g_unsetenv ("WAVEBENCH_TUNE_PIN");
            err = rel_l2 (a, b);
            g_test_message ("%s, setting %u%s: relative L2 %.3g", pins[i], setting,
                            streamed ? ", streamed" : "", err);
            g_assert_cmpfloat (err, <=, 1e-5);
            assert_fields_identical (fold_ref, fold);
          }
    }
  wb_synth_params_clear (&sp);
}

/* --- edge cases ----------------------------------------------------- */

static void
check_single_trace (WbDevice *device)
{
  /* One zero-offset trace at (0, 0) and one output column there: t = t0,
   * obliquity t0/t = 1 and no taper (distance 0), so the image is the
   * pre-filtered trace (-d/dt) itself, sample for sample, and the fold is 1
   * wherever t0 lies within the trace. */
  g_autoptr(WbVelocity) v = wb_velocity_new_constant (2000);
  g_autoptr(WbPstmInput) input = NULL;
  g_autoptr(WbField) img = NULL;
  g_autoptr(WbField) fold = NULL;
  WbDiffractor d = { 30, -40, 0.2, 1 };
  WbSynthParams sp;
  WbPstmParams pp;
  g_autofree float *trace = NULL;
  double sx, sy, rx, ry;

  wb_synth_params_init (&sp);
  sp.mnx = sp.mny = 1;
  sp.n_samples = 100;
  g_array_append_val (sp.diffractors, d);
  input = survey_input (&sp);
  trace = g_new (float, sp.n_samples);
  wb_synth_trace (&sp, 0, &sx, &sy, &rx, &ry, trace);

  wb_pstm_params_init (&pp);
  pp.x0 = pp.y0 = 0;
  pp.nx = pp.ny = 1;
  pp.t0 = 0;
  pp.dt = 0.004;
  pp.nt = 120;               /* past the end of the trace */
  img = migrate_on (input, &pp, v, device, &fold);

  for (guint k = 0; k < pp.nt; k++)
    {
      double want = 0;

      if (k < sp.n_samples)
        {
          double next = k + 1 < sp.n_samples ? trace[k + 1] : 0;
          double prev = k > 0 ? trace[k - 1] : 0;
          want = -(next - prev) / (2 * 0.004);
        }
      /* t = 2 sqrt(t0^2 / 4) is t0 to a float rounding: the interpolation
       * may move by ~1e-5 sample. */
      g_assert_cmpfloat (fabs (img->data[k] - want), <=, 2.5e-3 + 1e-6 * fabs (want));
      /* The last sample sits on the edge of the trace, in or out by a
       * rounding. */
      if (k != sp.n_samples - 1)
        g_assert_cmpfloat (fold->data[k], ==, k < sp.n_samples ? 1 : 0);
    }
  wb_synth_params_clear (&sp);
}

static void
test_single_trace (void)
{
  g_autoptr(WbDevice) ref = find_device (TRUE);
  g_autoptr(WbDevice) cl = find_device (FALSE);

  check_single_trace (ref);
  if (cl != NULL)
    check_single_trace (cl);
}

static void
test_apertures (void)
{
  g_autoptr(WbDevice) ref = find_device (TRUE);
  g_autoptr(WbDevice) cl = find_device (FALSE);
  g_autoptr(WbVelocity) v = wb_velocity_new_constant (2000);
  g_autoptr(WbPstmInput) input = NULL;
  WbSynthParams sp;
  WbPstmParams pp;
  const WbSegyGeometry *g;
  WbDevice *dev = cl ? cl : ref;
  guint tested = 0;

  survey_init (&sp);
  sp.mnx = sp.mny = 9;
  sp.n_samples = 500;
  input = survey_input (&sp);
  g = wb_pstm_input_geometry (input);

  /* An aperture covering everything: every trace counts wherever its DSR
   * time lies within it. */
  {
    g_autoptr(WbField) fold = NULL;
    g_autoptr(WbField) img = NULL;

    wb_pstm_params_init (&pp);
    g_assert_true (wb_pstm_params_auto_grid (&pp, input, 25, 25, NULL));
    pp.nt = 100;
    pp.aperture_min = pp.aperture_max = 1e5;
    img = migrate_on (input, &pp, v, dev, &fold);
    for (guint c = 0; c < pp.nx * pp.ny; c++)
      for (guint k = 0; k < pp.nt; k++)
        {
          double x = pp.x0 - g->origin_x + (c % pp.nx) * pp.dx;
          double y = pp.y0 - g->origin_y + (c / pp.nx) * pp.dy;
          double t0 = pp.t0 + k * pp.dt, tmax = 0;

          for (gsize t = 0; t < g->n_traces; t++)
            {
              double ts = sqrt (t0 * t0 / 4 + (pow (g->sx[t] - x, 2) + pow (g->sy[t] - y, 2)) / 4e6);
              double tr = sqrt (t0 * t0 / 4 + (pow (g->rx[t] - x, 2) + pow (g->ry[t] - y, 2)) / 4e6);
              tmax = MAX (tmax, ts + tr);
            }
          if (tmax < (sp.n_samples - 1) * sp.dt - 1e-4)
            {
              g_assert_cmpfloat (fold->data[c + pp.nx * pp.ny * k], ==, g->n_traces);
              tested++;
            }
        }
    g_assert_cmpuint (tested, >, 1000);
  }

  /* An aperture of 1 m: only the traces of a column's own midpoint (4)
   * count; half a bin away, none does. */
  {
    g_autoptr(WbField) fold = NULL;
    g_autoptr(WbField) img = NULL;
    g_autoptr(WbField) fold2 = NULL;
    g_autoptr(WbField) img2 = NULL;

    pp.aperture_min = 0;
    pp.aperture_max = 1;
    img = migrate_on (input, &pp, v, dev, &fold);
    for (gsize s = 0; s < wb_field_n_elements (fold); s++)
      g_assert_cmpfloat (fold->data[s], ==, 4);
    pp.x0 += 12.5;
    img2 = migrate_on (input, &pp, v, dev, &fold2);
    for (gsize s = 0; s < wb_field_n_elements (fold2); s++)
      {
        g_assert_cmpfloat (fold2->data[s], ==, 0);
        g_assert_cmpfloat (img2->data[s], ==, 0);
      }
  }
  wb_synth_params_clear (&sp);
}

static void
test_tiles_without_traces (void)
{
  /* The grid reaches 2 km beyond the survey with a 200 m aperture: the far
   * tiles gather no trace, stay zero, and the near ones equal a run on the
   * survey alone (tiling does not change a sum: traces are added in file
   * order everywhere). */
  g_autoptr(WbDevice) ref = find_device (TRUE);
  g_autoptr(WbVelocity) v = wb_velocity_new_constant (2000);
  g_autoptr(WbPstmInput) input = NULL;
  g_autoptr(GError) error = NULL;
  g_autoptr(WbPstmJob) job = NULL;
  g_autoptr(GPtrArray) devices = device_list (ref, NULL);
  g_autoptr(WbField) small = NULL;
  g_autoptr(WbField) big = NULL;
  WbSynthParams sp;
  WbPstmParams pp;
  guint empty = 0, nx;

  survey_init (&sp);
  sp.mnx = sp.mny = 9;
  input = survey_input (&sp);
  params_init (&pp, input);
  pp.nx = pp.ny = 9;
  pp.nt = 40;
  pp.aperture_max = 200;
  small = migrate_on (input, &pp, v, ref, NULL);

  nx = pp.nx = 9 + 80;
  pp.tile_nx = pp.tile_ny = 6;
  job = wb_pstm_job_new (input, &pp, v, devices, NULL, &error);
  g_assert_no_error (error);
  for (guint i = 0; i < wb_pstm_job_n_tiles (job); i++)
    {
      guint i0;
      wb_pstm_job_tile_rect (job, i, &i0, NULL, NULL, NULL);
      if (i0 * 25.0 > 200 + 200 + 25)
        {
          g_assert_cmpuint (wb_pstm_job_tile_traces (job, i), ==, 0);
          empty++;
        }
    }
  g_assert_cmpuint (empty, >, 10);
  g_assert_true (wb_pstm_job_run (job, NULL, &error));
  g_assert_no_error (error);
  big = wb_pstm_job_get_image (job);
  for (guint k = 0; k < pp.nt; k++)
    for (guint j = 0; j < pp.ny; j++)
      for (guint i = 0; i < nx; i++)
        {
          float b = big->data[wb_field_index (big, i, j, k)];
          if (i < 9)
            g_assert_cmpfloat (b, ==, small->data[wb_field_index (small, i, j, k)]);
          else if (i * 25.0 > 200 + 200)
            g_assert_cmpfloat (b, ==, 0);
        }
  wb_synth_params_clear (&sp);
}

static void
test_velocity_function (void)
{
  g_autoptr(WbDevice) ref = find_device (TRUE);
  g_autoptr(WbDevice) cl = find_device (FALSE);
  WbDevice *dev = cl ? cl : ref;
  g_autoptr(GError) error = NULL;
  double t2[2] = { 0, 1 }, v2[2] = { 2000, 2000 };
  double t3[2] = { 0, 1 }, v3[2] = { 1700, 2700 };
  g_autoptr(WbVelocity) vc = wb_velocity_new_constant (2000);
  g_autoptr(WbVelocity) vtab = wb_velocity_new (2, t2, v2, &error);
  g_autoptr(WbVelocity) vlin = wb_velocity_new (2, t3, v3, &error);
  g_autoptr(WbPstmInput) input = NULL;
  g_autoptr(WbPstmInput) input_vt = NULL;
  g_autoptr(WbField) a = NULL;
  g_autoptr(WbField) b = NULL;
  g_autoptr(WbField) c = NULL;
  g_autoptr(WbField) d = NULL;
  WbSynthParams sp;
  WbPstmParams pp;
  g_autofree char *path = g_build_filename (tmpdir, "v.txt", NULL);

  g_assert_no_error (error);
  g_assert_cmpfloat (wb_velocity_at (vlin, 0.3), ==, 2000);
  g_assert_cmpfloat (wb_velocity_at (vlin, 2), ==, 2700);
  g_assert_cmpfloat (wb_velocity_at (vlin, -1), ==, 1700);

  /* A table that is constant gives the constant's image, bit for bit. */
  survey_init (&sp);
  sp.mnx = sp.mny = 11;
  input = survey_input (&sp);
  params_init (&pp, input);
  pp.nx = pp.ny = 11;
  pp.nt = 60;
  a = migrate_on (input, &pp, vc, dev, NULL);
  b = migrate_on (input, &pp, vtab, dev, NULL);
  assert_fields_identical (a, b);

  /* Data modelled in v(t) = 1700 + 1000 t focus under the same v(t): at
   * 0.3 s v is 2000 (as the constant), at 0.5 s it is 2200, where the
   * constant 2000 m/s is 9% slow and defocuses. */
  {
    WbDiffractor dd[2] = { { 125, 125, 0.3, 1 }, { 125, 125, 0.5, 1 } };
    int i, j, k, pi, pj, pk;
    double pc, pd;

    g_array_set_size (sp.diffractors, 0);
    g_array_append_vals (sp.diffractors, dd, 2);
    wb_velocity_free (sp.velocity);
    sp.velocity = wb_velocity_new (2, t3, v3, &error);
    input_vt = survey_input (&sp);
    pp.nt = 100;
    pp.derivative = FALSE;
    c = migrate_on (input_vt, &pp, vlin, dev, NULL);
    d = migrate_on (input_vt, &pp, vc, dev, NULL);
    for (guint n = 0; n < 2; n++)
      {
        nearest (c, dd[n].x, dd[n].y, dd[n].t0, &i, &j, &k);
        pc = peak_near (c, i, j, k, 2, 15, &pi, &pj, &pk);
        g_assert_cmpint (abs (pi - i), <=, 1);
        g_assert_cmpint (abs (pj - j), <=, 1);
        g_assert_cmpint (abs (pk - k), <=, 1);
        pd = fabs (d->data[wb_field_index (d, i, j, k)]);
        g_test_message ("v(t) focus %g at t0 %g; constant 2000 m/s gives %g there", pc, dd[n].t0, pd);
        if (n == 0)
          g_assert_cmpfloat (pd, >, 0.95 * pc);
        else
          g_assert_cmpfloat (pd, <, 0.92 * pc);   /* measured 0.87 */
      }
  }

  /* Velocity files: "t v" lines, comments; errors name the line. */
  g_assert_true (g_file_set_contents (path, "# t v\n0 1700\n\n1.0 2700\n", -1, NULL));
  {
    g_autoptr(WbVelocity) vf = wb_velocity_parse (path, &error);
    g_assert_no_error (error);
    g_assert_cmpuint (vf->n, ==, 2);
    g_assert_cmpfloat (wb_velocity_at (vf, 0.5), ==, 2200);
  }
  g_assert_true (g_file_set_contents (path, "0 1700\n0.5 x\n", -1, NULL));
  g_assert_null (wb_velocity_parse (path, &error));
  g_assert_error (error, WB_ERROR, WB_ERROR_INVALID);
  {
    g_autofree char *msg = g_strdup_printf ("%s:2: expected two numbers \"t v\" (seconds, m/s)", path);
    g_assert_cmpstr (error->message, ==, msg);
  }
  g_clear_error (&error);
  g_assert_true (g_file_set_contents (path, "0 1700\n0 1800\n", -1, NULL));
  g_assert_null (wb_velocity_parse (path, &error));
  g_assert_error (error, WB_ERROR, WB_ERROR_INVALID);
  g_clear_error (&error);
  g_assert_null (wb_velocity_parse ("-5", &error));
  g_assert_cmpstr (error->message, ==, "velocity: must be > 0 m/s, got -5");
  g_clear_error (&error);
  g_assert_null (wb_velocity_parse ("/nonexistent/v.txt", &error));
  g_assert_error (error, WB_ERROR, WB_ERROR_NOT_FOUND);
  wb_synth_params_clear (&sp);
}

static void
test_batches_and_devices (void)
{
  /* Batch sizes do not change a result (each output sample adds traces in
   * the same order), on either backend; two devices at once split the
   * tiles and agree with one. */
  g_autoptr(WbDevice) ref = find_device (TRUE);
  g_autoptr(WbDevice) cl = find_device (FALSE);
  g_autoptr(WbVelocity) v = wb_velocity_new_constant (2000);
  g_autoptr(WbPstmInput) input = NULL;
  WbSynthParams sp;
  WbPstmParams pp;
  WbDevice *dev = cl ? cl : ref;

  survey_init (&sp);
  sp.mnx = sp.mny = 11;
  input = survey_input (&sp);
  params_init (&pp, input);
  pp.nx = pp.ny = 11;
  pp.nt = 50;
  {
    g_autoptr(WbField) a = NULL;
    g_autoptr(WbField) b = NULL;
    g_autoptr(WbField) c = NULL;
    g_autoptr(WbField) d = NULL;

    a = migrate_on (input, &pp, v, dev, NULL);
    pp.batch_traces = 1;
    b = migrate_on (input, &pp, v, dev, NULL);
    pp.batch_traces = 33;
    pp.tile_nx = 3;
    pp.tile_ny = 5;
    c = migrate_on (input, &pp, v, dev, NULL);
    assert_fields_identical (a, b);
    assert_fields_identical (a, c);
    pp.batch_traces = 0;
    pp.tile_nx = pp.tile_ny = 0;
    pp.batch_seconds = 1e-4;   /* tiny adaptive batches */
    d = migrate_on (input, &pp, v, ref, NULL);
    pp.batch_seconds = 0.2;
    if (dev == ref)
      assert_fields_identical (a, d);
  }
  if (cl != NULL)
    {
      g_autoptr(GPtrArray) both = device_list (ref, cl);
      g_autoptr(WbField) one = NULL;
      g_autoptr(WbField) two = NULL;
      g_autoptr(WbField) fold1 = NULL;
      g_autoptr(WbField) fold2 = NULL;
      Events ev = { 0 };
      WbPstmStats st;

      ev.devices = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
      pp.tile_nx = pp.tile_ny = 3;   /* 16 tiles */
      one = migrate_on (input, &pp, v, ref, &fold1);
      two = migrate_full (input, &pp, v, both, &fold2, &ev, &st);
      g_test_message ("tiles per device: reference %u, %s %u",
                      GPOINTER_TO_UINT (g_hash_table_lookup (ev.devices, "reference")), cl->id,
                      GPOINTER_TO_UINT (g_hash_table_lookup (ev.devices, cl->id)));
      g_assert_cmpuint (ev.tiles_done_events, ==, 16);
      g_assert_cmpuint (st.tiles_computed, ==, 16);
      g_assert_cmpfloat (rel_l2 (one, two), <=, 1e-5);
      assert_fields_identical (fold1, fold2);
      g_hash_table_unref (ev.devices);
    }
  wb_synth_params_clear (&sp);
}

/* --- progress, cancel and resume ------------------------------------------ */

static void
test_progress (void)
{
  g_autoptr(WbDevice) ref = find_device (TRUE);
  g_autoptr(WbVelocity) v = wb_velocity_new_constant (2000);
  g_autoptr(WbPstmInput) input = NULL;
  g_autoptr(GPtrArray) devices = device_list (ref, NULL);
  g_autoptr(WbField) img = NULL;
  WbSynthParams sp;
  WbPstmParams pp;
  WbPstmStats st;
  Events ev = { 0 };

  survey_init (&sp);
  sp.mnx = sp.mny = 11;
  input = survey_input (&sp);
  params_init (&pp, input);
  pp.nx = pp.ny = 11;
  pp.nt = 50;
  pp.tile_nx = pp.tile_ny = 4;      /* 9 tiles */
  pp.batch_traces = 50;
  img = migrate_full (input, &pp, v, devices, NULL, &ev, &st);

  g_assert_cmpuint (ev.events[WB_PSTM_EVENT_TILE_STARTED], ==, 9);
  g_assert_cmpuint (ev.events[WB_PSTM_EVENT_TILE_DONE], ==, 9);
  g_assert_cmpuint (ev.events[WB_PSTM_EVENT_BATCH_DONE], >=, 9);
  g_assert_cmpuint (ev.last.tiles_done, ==, 9);
  g_assert_cmpuint (ev.last.traces_done, ==, ev.last.traces_total);
  g_assert_cmpuint (ev.last.contributions_done, ==, ev.last.contributions_total);
  g_assert_cmpfloat (ev.last.eta, ==, 0);
  g_assert_cmpfloat (ev.last.traces_per_s, >, 0);
  g_assert_cmpfloat (ev.last.contributions_per_s, >, 0);
  g_assert_cmpuint (st.traces, ==, ev.last.traces_total);
  g_assert_cmpuint (st.contributions, ==, ev.last.contributions_total);
  g_assert_cmpuint (st.live_contributions, <=, st.contributions);
  g_assert_cmpuint (st.live_contributions, >, 0);

  /* Fold normalisation: image / fold where the fold is not zero, once,
   * even if the finished job runs again. */
  {
    g_autoptr(GError) error = NULL;
    g_autoptr(WbPstmJob) job = NULL;
    g_autoptr(WbField) norm = NULL;
    g_autoptr(WbField) fold = NULL;
    guint zero = 0;

    pp.normalize_fold = TRUE;
    pp.nt = 200;              /* past the traces' end: zero fold there */
    job = wb_pstm_job_new (input, &pp, v, devices, NULL, &error);
    g_assert_no_error (error);
    g_assert_true (wb_pstm_job_run (job, NULL, &error));
    g_assert_true (wb_pstm_job_run (job, NULL, &error));
    norm = wb_pstm_job_get_image (job);
    fold = wb_pstm_job_get_fold (job);
    pp.normalize_fold = FALSE;
    g_clear_pointer (&img, wb_field_unref);
    img = migrate_full (input, &pp, v, devices, NULL, NULL, NULL);
    for (gsize s = 0; s < wb_field_n_elements (img); s++)
      {
        if (fold->data[s] == 0)
          {
            g_assert_cmpfloat (norm->data[s], ==, 0);
            zero++;
          }
        else
          g_assert_cmpfloat (norm->data[s], ==, img->data[s] / fold->data[s]);
      }
    g_assert_cmpuint (zero, >, 0);
  }
  wb_synth_params_clear (&sp);
}

static void
test_cancel_resume (void)
{
  g_autoptr(WbDevice) ref = find_device (TRUE);
  g_autoptr(WbVelocity) v = wb_velocity_new_constant (2000);
  g_autoptr(WbPstmInput) input = NULL;
  g_autoptr(GPtrArray) devices = device_list (ref, NULL);
  g_autoptr(WbField) whole = NULL;
  g_autoptr(WbField) whole_fold = NULL;
  g_autofree char *ckpt = g_build_filename (tmpdir, "image.ckpt", NULL);
  g_autoptr(GError) error = NULL;
  WbSynthParams sp;
  WbPstmParams pp;
  WbPstmStats st;

  survey_init (&sp);
  sp.mnx = sp.mny = 11;
  input = survey_input (&sp);
  params_init (&pp, input);
  pp.nx = pp.ny = 11;
  pp.nt = 50;
  pp.tile_nx = pp.tile_ny = 3;      /* 16 tiles */
  whole = migrate_on (input, &pp, v, ref, &whole_fold);

  pp.checkpoint = g_strdup (ckpt);
  pp.checkpoint_interval = 0;
  {
    g_autoptr(WbPstmJob) job = wb_pstm_job_new (input, &pp, v, devices, NULL, &error);
    g_autoptr(GCancellable) c = g_cancellable_new ();
    g_autofree char *msg = NULL;
    Events ev = { 0 };

    g_assert_no_error (error);
    ev.cancel_after = 5;
    ev.cancellable = c;
    wb_pstm_job_set_progress (job, on_progress, &ev);
    g_assert_false (wb_pstm_job_run (job, c, &error));
    g_assert_error (error, WB_ERROR, WB_ERROR_CANCELLED);
    msg = g_strdup_printf ("migration cancelled: 5 of 16 tiles saved to %s; Operation was cancelled", ckpt);
    g_assert_cmpstr (error->message, ==, msg);
    g_clear_error (&error);
    g_assert_true (g_file_test (ckpt, G_FILE_TEST_EXISTS));
    g_assert_cmpint (wb_pstm_job_tile_state (job, 4), ==, WB_PSTM_TILE_DONE);
    g_assert_cmpint (wb_pstm_job_tile_state (job, 5), ==, WB_PSTM_TILE_PENDING);
  }

  /* Other parameters refuse the checkpoint. */
  {
    WbPstmParams other = pp;
    other.aperture_max = 1500;
    other.resume = TRUE;
    g_assert_null (wb_pstm_job_new (input, &other, v, devices, NULL, &error));
    g_assert_error (error, WB_ERROR, WB_ERROR_INVALID);
    {
      g_autofree char *msg = g_strdup_printf ("checkpoint %s: made for other parameters, tiles or input; "
                                              "delete it or run without resuming", ckpt);
      g_assert_cmpstr (error->message, ==, msg);
    }
    g_clear_error (&error);
  }

  /* Resume: 5 tiles come from the checkpoint, 11 are computed, and the
   * image and fold are those of the uninterrupted run, bit for bit. */
  pp.resume = TRUE;
  {
    g_autoptr(WbPstmJob) job = wb_pstm_job_new (input, &pp, v, devices, NULL, &error);
    g_autoptr(WbField) img = NULL;
    g_autoptr(WbField) fold = NULL;
    Events ev = { 0 };
    guint resumed = 0;

    g_assert_no_error (error);
    for (guint i = 0; i < 16; i++)
      resumed += wb_pstm_job_tile_state (job, i) == WB_PSTM_TILE_RESUMED;
    g_assert_cmpuint (resumed, ==, 5);
    wb_pstm_job_set_progress (job, on_progress, &ev);
    g_assert_true (wb_pstm_job_run (job, NULL, &error));
    g_assert_no_error (error);
    wb_pstm_job_get_stats (job, &st);
    g_assert_cmpuint (st.tiles_resumed, ==, 5);
    g_assert_cmpuint (st.tiles_computed, ==, 11);
    g_assert_cmpuint (ev.events[WB_PSTM_EVENT_TILE_RESUMED], ==, 5);
    img = wb_pstm_job_get_image (job);
    fold = wb_pstm_job_get_fold (job);
    assert_fields_identical (whole, img);
    assert_fields_identical (whole_fold, fold);
    /* A finished run removes its checkpoint. */
    g_assert_false (g_file_test (ckpt, G_FILE_TEST_EXISTS));
  }
  wb_pstm_params_clear (&pp);
  wb_synth_params_clear (&sp);
}

typedef struct
{
  WbPstmJob *job;
  gboolean   ok;
} PauseRun;

static gpointer
pause_thread (gpointer data)
{
  PauseRun *r = data;
  r->ok = wb_pstm_job_run (r->job, NULL, NULL);
  return NULL;
}

static void
test_pause (void)
{
  /* Paused before it starts, a run sets up, takes a tile and waits before
   * its first batch; unpaused, it finishes. */
  g_autoptr(WbDevice) ref = find_device (TRUE);
  g_autoptr(WbVelocity) v = wb_velocity_new_constant (2000);
  g_autoptr(WbPstmInput) input = NULL;
  g_autoptr(GPtrArray) devices = device_list (ref, NULL);
  g_autoptr(GError) error = NULL;
  g_autoptr(WbPstmJob) job = NULL;
  WbSynthParams sp;
  WbPstmParams pp;
  Events ev = { 0 };
  PauseRun run = { 0 };
  GThread *thread;

  survey_init (&sp);
  sp.mnx = sp.mny = 9;
  input = survey_input (&sp);
  params_init (&pp, input);
  pp.nt = 20;
  pp.tile_nx = pp.tile_ny = 3;
  job = wb_pstm_job_new (input, &pp, v, devices, NULL, &error);
  g_assert_no_error (error);
  wb_pstm_job_set_progress (job, on_progress, &ev);
  wb_pstm_job_set_paused (job, TRUE);
  run.job = job;
  thread = g_thread_new ("pause", pause_thread, &run);
  for (int i = 0; i < 1000 && wb_pstm_job_tile_state (job, 0) != WB_PSTM_TILE_RUNNING; i++)
    g_usleep (10000);
  g_assert_cmpint (wb_pstm_job_tile_state (job, 0), ==, WB_PSTM_TILE_RUNNING);
  /* A tile of 81 traces takes milliseconds: still running 0.3 s later
   * means the worker is holding. */
  g_usleep (300000);
  g_assert_cmpint (wb_pstm_job_tile_state (job, 0), ==, WB_PSTM_TILE_RUNNING);
  g_assert_cmpint (wb_pstm_job_tile_state (job, 1), ==, WB_PSTM_TILE_PENDING);
  wb_pstm_job_set_paused (job, FALSE);
  g_thread_join (thread);
  g_assert_true (run.ok);
  /* Read after the join: the worker wrote the counters under the job's
   * lock while the test thread slept. */
  g_assert_cmpuint (ev.events[WB_PSTM_EVENT_TILE_DONE], ==, 9);
  wb_synth_params_clear (&sp);
}

static void
test_params (void)
{
  g_autoptr(WbDevice) ref = find_device (TRUE);
  g_autoptr(WbVelocity) v = wb_velocity_new_constant (2000);
  g_autoptr(WbPstmInput) input = NULL;
  g_autoptr(GPtrArray) devices = device_list (ref, NULL);
  g_autoptr(GError) error = NULL;
  WbSynthParams sp;
  WbPstmParams pp;

  survey_init (&sp);
  sp.mnx = sp.mny = 3;
  input = survey_input (&sp);
  params_init (&pp, input);
  pp.max_dip = 90;
  g_assert_false (wb_pstm_params_check (&pp, &error));
  g_assert_cmpstr (error->message, ==, "max_dip: must be in (0, 90) degrees, got 90");
  g_clear_error (&error);
  pp.max_dip = 60;
  pp.aperture_min = 500;
  pp.aperture_max = 100;
  g_assert_null (wb_pstm_job_new (input, &pp, v, devices, NULL, &error));
  g_assert_cmpstr (error->message, ==, "aperture: need 0 <= min <= max and max > 0, got min 500 m, max 100 m");
  g_clear_error (&error);
  pp.aperture_min = 0;
  pp.aperture_max = 1000;
  pp.memory_budget = 1 << 20;
  pp.nt = 100000;
  g_assert_null (wb_pstm_job_new (input, &pp, v, devices, NULL, &error));
  g_assert_error (error, WB_ERROR, WB_ERROR_TOO_LARGE);
  g_clear_error (&error);
  pp.nt = 100;
  pp.tile_nx = pp.tile_ny = 1000;
  pp.nx = pp.ny = 1000;
  g_assert_null (wb_pstm_job_new (input, &pp, v, devices, NULL, &error));
  g_assert_error (error, WB_ERROR, WB_ERROR_TOO_LARGE);
  g_assert_true (g_str_has_prefix (error->message, "tile: 1000 x 1000 columns of 100 samples need"));
  g_clear_error (&error);
  /* The memory budget sizes tiles: half of 1 MiB holds 648 columns of 100
   * samples (4 bytes each for image and fold, plus 8 per column): 25 x 25. */
  pp.tile_nx = pp.tile_ny = 0;
  pp.nx = pp.ny = 100;
  {
    g_autoptr(WbPstmJob) job = wb_pstm_job_new (input, &pp, v, devices, NULL, &error);
    guint ni, nj;
    g_assert_no_error (error);
    wb_pstm_job_tile_rect (job, 0, NULL, NULL, &ni, &nj);
    g_assert_cmpuint ((guint64) ni * nj * (8 * 100 + 8), <=, 1 << 19);
    g_assert_cmpuint (ni, ==, 25);
    g_assert_cmpuint (wb_pstm_job_n_tiles (job), ==, 4 * ((100 + nj - 1) / nj));
  }
  wb_synth_params_clear (&sp);
}

/* --- SEG-Y input and the CLI ------------------------------------------------ */

static void
test_segy_input_matches_memory (void)
{
  /* The same survey through a SEG-Y file (UTM-sized coordinates, IBM
   * floats) and in memory: same geometry, and images within IBM rounding. */
  g_autoptr(WbDevice) ref = find_device (TRUE);
  g_autoptr(WbVelocity) v = wb_velocity_new_constant (2000);
  g_autoptr(WbPstmInput) mem = NULL;
  g_autoptr(WbPstmInput) file = NULL;
  g_autoptr(GError) error = NULL;
  g_autoptr(WbField) a = NULL;
  g_autoptr(WbField) b = NULL;
  g_autofree char *path = g_build_filename (tmpdir, "survey.sgy", NULL);
  WbSynthParams sp;
  WbPstmParams pp, pp2;
  WbSegyLayout layout;
  const WbSegyGeometry *ga, *gb;

  survey_init (&sp);
  sp.mnx = sp.mny = 9;
  sp.origin_x = 431234;
  sp.origin_y = 6543210;
  mem = survey_input (&sp);
  wb_segy_layout_init (&layout);
  g_assert_true (wb_synth_write_segy (&sp, path, WB_SEGY_IBM_FLOAT, &layout, NULL, NULL, NULL, &error));
  g_assert_no_error (error);
  file = wb_pstm_input_new_segy (path, &layout, NULL, NULL, NULL, &error);
  g_assert_no_error (error);
  ga = wb_pstm_input_geometry (mem);
  gb = wb_pstm_input_geometry (file);
  g_assert_cmpuint (ga->n_traces, ==, gb->n_traces);
  g_assert_cmpfloat (ga->origin_x, ==, gb->origin_x);
  g_assert_cmpfloat (ga->origin_y, ==, gb->origin_y);
  g_assert_cmpmem (ga->sx, 4 * ga->n_traces, gb->sx, 4 * gb->n_traces);
  g_assert_cmpmem (ga->ry, 4 * ga->n_traces, gb->ry, 4 * gb->n_traces);

  params_init (&pp, mem);
  pp.nx = pp.ny = 9;
  pp.nt = 60;
  params_init (&pp2, file);
  pp2.nx = pp2.ny = 9;
  pp2.nt = 60;
  g_assert_cmpfloat (pp.x0, ==, pp2.x0);
  g_assert_cmpfloat (pp.x0, ==, 431234);         /* the first midpoint */
  g_assert_cmpfloat (ga->origin_x, ==, 431234 - 50);   /* the first source, 50 m west of it */
  a = migrate_on (mem, &pp, v, ref, NULL);
  b = migrate_on (file, &pp2, v, ref, NULL);
  /* IBM floats carry 2^-21 relative rounding per sample. */
  g_assert_cmpfloat (rel_l2 (a, b), <=, 1e-6);
  wb_synth_params_clear (&sp);
}

/* Resident traces are filtered by several threads when the input is in
 * memory and in file order through one handle when it is a file: the same
 * survey both ways (IEEE floats, so the samples are the same) gives the
 * same image and fold on the device, bit for bit. */
static void
test_resident_load (void)
{
  g_autoptr(WbDevice) cl = find_device (FALSE);
  g_autoptr(WbVelocity) v = wb_velocity_new_constant (2000);
  g_autoptr(WbPstmInput) mem = NULL;
  g_autoptr(WbPstmInput) file = NULL;
  g_autoptr(GError) error = NULL;
  g_autoptr(WbField) a = NULL;
  g_autoptr(WbField) b = NULL;
  g_autoptr(WbField) fa = NULL;
  g_autoptr(WbField) fb = NULL;
  g_autofree char *path = g_build_filename (tmpdir, "resident.sgy", NULL);
  WbSynthParams sp;
  WbPstmParams pp;
  WbSegyLayout layout;

  if (cl == NULL)
    {
      g_test_skip ("no OpenCL device");
      return;
    }
  survey_init (&sp);
  sp.noise = 0.1;
  mem = survey_input (&sp);
  wb_segy_layout_init (&layout);
  g_assert_true (wb_synth_write_segy (&sp, path, WB_SEGY_IEEE_FLOAT, &layout, NULL, NULL, NULL, &error));
  g_assert_no_error (error);
  file = wb_pstm_input_new_segy (path, &layout, NULL, NULL, NULL, &error);
  g_assert_no_error (error);
  params_init (&pp, mem);
  pp.tile_nx = pp.tile_ny = 8;
  a = migrate_on (mem, &pp, v, cl, &fa);
  b = migrate_on (file, &pp, v, cl, &fb);
  assert_fields_identical (a, b);
  assert_fields_identical (fa, fb);
  wb_synth_params_clear (&sp);
}

static int
run_cli (const char *args, char **err_out)
{
  const char *cli = g_getenv ("WAVEBENCH_CLI");
  g_autofree char *cmd = g_strdup_printf ("%s %s", cli, args);
  g_autoptr(GError) error = NULL;
  g_autofree char *out = NULL;
  int status = 0;

  g_assert_true (g_spawn_command_line_sync (cmd, &out, err_out, &status, &error));
  g_assert_no_error (error);
  return WIFEXITED (status) ? WEXITSTATUS (status) : -1;
}

static void
test_cli (void)
{
  g_autofree char *sgy = g_build_filename (tmpdir, "cli.sgy", NULL);
  g_autofree char *img = g_build_filename (tmpdir, "cli-image.sgy", NULL);
  g_autofree char *prefix = g_build_filename (tmpdir, "cli", NULL);
  g_autofree char *args = NULL;
  g_autofree char *err = NULL;
  g_autofree char *fold = g_build_filename (tmpdir, "cli-image-fold.sgy", NULL);
  g_autofree char *npy = g_strdup_printf ("%s-image.npy", prefix);
  g_autofree char *png = g_strdup_printf ("%s-inline.png", prefix);
  g_autoptr(GError) error = NULL;

  if (g_getenv ("WAVEBENCH_CLI") == NULL)
    {
      g_test_skip ("WAVEBENCH_CLI not set");
      return;
    }
  args = g_strdup_printf ("synth -q -o %s --midpoints 0,0,25,25,9,9 --offsets 0,200 --samples 100 "
                          "--diffractor 100,100,0.2 --reflector 100,100,0.3,5,45 --origin 500000,6000000", sgy);
  g_assert_cmpint (run_cli (args, &err), ==, 0);
  g_clear_pointer (&args, g_free);
  g_clear_pointer (&err, g_free);
  args = g_strdup_printf ("migrate %s -v 2000 -o %s -b reference --npy %s --png %s --tile 4x4 -q", sgy, img, prefix, prefix);
  g_assert_cmpint (run_cli (args, &err), ==, 0);
  g_assert_true (g_file_test (img, G_FILE_TEST_EXISTS));
  g_assert_true (g_file_test (fold, G_FILE_TEST_EXISTS));
  g_assert_true (g_file_test (npy, G_FILE_TEST_EXISTS));
  g_assert_true (g_file_test (png, G_FILE_TEST_EXISTS));
  {
    g_autoptr(WbSegyReader) r = wb_segy_reader_open (img, &error);
    g_autoptr(WbNpyArray) a = wb_npy_read (npy, &error);
    g_assert_no_error (error);
    g_assert_cmpuint (wb_segy_reader_n_traces (r), ==, 81);
    g_assert_cmpuint (wb_segy_reader_n_samples (r), ==, 100);
    g_assert_cmpuint (a->shape[0], ==, 9);
    g_assert_cmpuint (a->shape[2], ==, 100);
  }

  /* Bad input: exit 2 and the reader's message. */
  g_clear_pointer (&args, g_free);
  g_clear_pointer (&err, g_free);
  {
    g_autofree char *raw = NULL;
    gsize len;
    g_autofree char *cut = g_build_filename (tmpdir, "cut.sgy", NULL);
    g_assert_true (g_file_get_contents (sgy, &raw, &len, NULL));
    g_assert_true (g_file_set_contents (cut, raw, len - 100, NULL));
    args = g_strdup_printf ("migrate %s -v 2000 -o %s -q", cut, img);
    g_assert_cmpint (run_cli (args, &err), ==, 2);
    g_assert_nonnull (strstr (err, "truncated or inconsistent"));
  }
  g_clear_pointer (&args, g_free);
  g_clear_pointer (&err, g_free);
  args = g_strdup_printf ("migrate %s -v 2000 -o %s --tile 4y4", sgy, img);
  g_assert_cmpint (run_cli (args, &err), ==, 2);
  g_assert_nonnull (strstr (err, "--tile: expected NXxNY (for example 64x64), got '4y4'"));
  g_clear_pointer (&args, g_free);
  g_clear_pointer (&err, g_free);
  args = g_strdup_printf ("migrate %s -v fast -o %s", sgy, img);
  g_assert_cmpint (run_cli (args, &err), ==, 2);
  g_assert_nonnull (strstr (err, "velocity 'fast': neither a number nor a readable file"));
}

int
main (int argc, char **argv)
{
  int rc;

  g_test_init (&argc, &argv, NULL);
  tmpdir = g_dir_make_tmp ("wb-test-pstm-XXXXXX", NULL);
  g_assert_nonnull (tmpdir);

  g_test_add_func ("/wavebench/pstm/focus", test_focus);
  g_test_add_func ("/wavebench/pstm/reflector", test_reflector);
  g_test_add_func ("/wavebench/pstm/opencl-vs-reference", test_opencl_vs_reference);
  g_test_add_func ("/wavebench/pstm/variants", test_variants);
  g_test_add_func ("/wavebench/pstm/single-trace", test_single_trace);
  g_test_add_func ("/wavebench/pstm/apertures", test_apertures);
  g_test_add_func ("/wavebench/pstm/tiles-without-traces", test_tiles_without_traces);
  g_test_add_func ("/wavebench/pstm/velocity-function", test_velocity_function);
  g_test_add_func ("/wavebench/pstm/batches-devices", test_batches_and_devices);
  g_test_add_func ("/wavebench/pstm/progress", test_progress);
  g_test_add_func ("/wavebench/pstm/cancel-resume", test_cancel_resume);
  g_test_add_func ("/wavebench/pstm/pause", test_pause);
  g_test_add_func ("/wavebench/pstm/params", test_params);
  g_test_add_func ("/wavebench/pstm/segy-input", test_segy_input_matches_memory);
  g_test_add_func ("/wavebench/pstm/resident-load", test_resident_load);
  g_test_add_func ("/wavebench/pstm/cli", test_cli);
  rc = g_test_run ();

  {
    g_autoptr(GDir) dir = g_dir_open (tmpdir, 0, NULL);
    const char *name;
    while (dir && (name = g_dir_read_name (dir)) != NULL)
      {
        g_autofree char *p = g_build_filename (tmpdir, name, NULL);
        g_unlink (p);
      }
    g_rmdir (tmpdir);
  }
  g_free (tmpdir);
  return rc;
}
