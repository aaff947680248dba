/* test-bhte-variants.c: every bhte kernel the launch tuner can choose
 * (kernels/bhte.cl: the cell kernel and the z-marching ones) against the
 * C reference and against the cell kernel, on grids that no work-group
 * size or column length divides, and the tuning path itself on the
 * OpenCL device at hand (PoCL here).
 *
 * Each variant is pinned through WAVEBENCH_TUNE_PIN.  The tests need an
 * OpenCL device and skip cleanly without one. */
#include "config.h"

#include <glib/gstdio.h>
#include <math.h>
#include <string.h>

#include "wb-device.h"
#include "wb-error.h"
#include "wb-launch.h"
#include "wb-sim.h"
#include "wb-tune.h"

static WbDevice *
opencl_device (void)
{
  g_autoptr(GPtrArray) devices = wb_device_list (NULL);

  for (guint i = 0; i < devices->len; i++)
    {
      WbDevice *d = g_ptr_array_index (devices, i);
      if (!wb_device_is_reference (d))
        return wb_device_ref (d);
    }
  return NULL;
}

static WbDevice *
reference_device (void)
{
  g_autoptr(GPtrArray) devices = wb_device_list (NULL);
  return wb_device_lookup (devices, "reference", NULL, NULL);
}

/* The focused-ultrasound preset (skin, three skull layers, brain: the
 * material changes along z) on @shape, with the focus moved into the grid
 * near the trabecular/cortical interface and a long time step, so that a
 * few dozen steps heat the focus through 43 C. */
static WbSim *
focused_sim (WbDevice   *device,
             const char *shape,
             const char *pin)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(WbPreset) preset = wb_preset_load ("bhte-focused-ultrasound", &error);
  /* The timeline switches mid-step and mid-pair (5.125 s is 20.5 steps),
   * so the two factors of a two-step launch differ. */
  const char *sets[] = { shape, "source.centre=[0.009,0.007,0.0075]", "time.dt=0.25",
                         "timeline=[{\"duration\":5.125,\"on\":true},{\"duration\":1.5,\"on\":false},"
                         "{\"duration\":20,\"on\":true,\"duty_cycle\":0.5}]", NULL };
  WbSim *sim;

  g_assert_no_error (error);
  for (guint i = 0; sets[i]; i++)
    {
      g_assert_true (wb_preset_set (preset, sets[i], &error));
      g_assert_no_error (error);
    }
  if (pin)
    g_setenv ("WAVEBENCH_TUNE_PIN", pin, TRUE);
  else
    g_unsetenv ("WAVEBENCH_TUNE_PIN");
  sim = wb_sim_new (preset, device, NULL, &error);
  g_unsetenv ("WAVEBENCH_TUNE_PIN");
  g_assert_no_error (error);
  g_assert_nonnull (sim);
  return sim;
}

static WbField *
read_field (WbSim      *sim,
            const char *name)
{
  g_autoptr(GError) error = NULL;
  WbField *f = wb_sim_read_field (sim, name, &error);

  g_assert_no_error (error);
  return f;
}

static void
step (WbSim *sim,
      guint  n)
{
  g_autoptr(GError) error = NULL;

  g_assert_true (wb_sim_step (sim, n, &error) && wb_sim_finish (sim, &error));
  g_assert_no_error (error);
}

static void
fill_nan (WbSim  *sim,
          cl_mem  buffer)
{
  g_autoptr(GError) error = NULL;

  g_assert_true (wb_cl_fill_float (sim->cl, buffer, NAN, wb_sim_n_cells (sim), &error));
  g_assert_true (wb_cl_finish (sim->cl, &error));
  g_assert_no_error (error);
}

static guint64
count_nan (const WbField *f)
{
  guint64 n = 0;

  for (gsize c = 0; c < wb_field_n_elements (f); c++)
    n += isnan (f->data[c]) ? 1 : 0;
  return n;
}

#define STEPS 40
/* float ulp of the temperatures here (32 to 64 C): 2^-18 K. */
#define T_ULP (1.0 / 262144.0)

typedef struct
{
  const char *shape;
  const char *pin;
} Case;

/* Each variant at awkward sizes: 37 and 23 are prime, 29 too; the column
 * lengths 5, 1 and 64 leave a short last chunk, one cell per chunk, and
 * one chunk longer than the grid; 40 x ... takes the aligned vector loads
 * of the _v2/_v4 kernels, 37 x ... the unaligned ones and a partial
 * vector at the end of each row. */
static const Case cases[] = {
  { "grid.shape=[37,29,23]", "bhte=cell:0x0x0:0" },
  { "grid.shape=[37,29,23]", "bhte=cell:16x4x2:0" },
  { "grid.shape=[37,29,23]", "bhte=zmarch:8x4x1:5" },
  { "grid.shape=[37,29,23]", "bhte=zmarch:32x1x1:1" },
  { "grid.shape=[37,29,23]", "bhte=zmarch:0x0x0:64" },
  { "grid.shape=[37,29,23]", "bhte=zmarch_v2:8x8x1:7" },
  { "grid.shape=[37,29,23]", "bhte=zmarch_v4:4x4x1:5" },
  { "grid.shape=[37,29,23]", "bhte=zmarch_lds:8x4x1:5" },
  { "grid.shape=[37,29,23]", "bhte=zmarch_lds:16x3x1:64" },
  /* a tile edge at i = 35, j = 27: the halo holds the boundary cells */
  { "grid.shape=[37,29,23]", "bhte=zmarch_lds:12x4x1:5" },
  { "grid.shape=[40,29,23]", "bhte=zmarch_v2:8x4x1:6" },
  { "grid.shape=[40,29,23]", "bhte=zmarch_v4:4x8x1:9" },
  { "grid.shape=[40,29,23]", "bhte=zmarch_lds:32x2x1:8" },
  /* two steps per launch: tiles of 6 x 5 and 13 x 2 with their rings, and
   * an odd step count (the last step by the cell kernel) */
  { "grid.shape=[37,29,23]", "bhte=zmarch2:6x5x1:5" },
  { "grid.shape=[37,29,23]", "bhte=zmarch2:5x3x1:4" },
  { "grid.shape=[37,29,23]", "bhte=zmarch2:13x2x1:64" },
  { "grid.shape=[37,29,23]", "bhte=zmarch2:30x6x1:1" },
};

typedef struct
{
  double t_ref;     /* max |T - T_ref|, K */
  double d_ref;     /* max relative dose difference to the reference */
  double t_cell;    /* max |T - T_cell|, K */
  double d_cell;    /* max |dose - dose_cell| / dose_cell */
  double t_peak;
} Diffs;

static void
compare (const WbField *T,
         const WbField *D,
         const WbField *Tr,
         const WbField *Dr,
         const WbField *Tc,
         const WbField *Dc,
         Diffs         *out)
{
  memset (out, 0, sizeof *out);
  for (gsize c = 0; c < wb_field_n_elements (T); c++)
    {
      /* NaN (a cell never written) fails every comparison below. */
      g_assert_false (isnan (T->data[c]));
      g_assert_false (isnan (D->data[c]));
      out->t_peak = MAX (out->t_peak, T->data[c]);
      out->t_ref = MAX (out->t_ref, fabs (T->data[c] - Tr->data[c]));
      out->d_ref = MAX (out->d_ref, fabs (D->data[c] - Dr->data[c]) / Dr->data[c]);
      out->t_cell = MAX (out->t_cell, fabs (T->data[c] - Tc->data[c]));
      out->d_cell = MAX (out->d_cell, fabs (D->data[c] - Dc->data[c]) / Dc->data[c]);
    }
}

static void
test_variants (void)
{
  g_autoptr(WbDevice) dev = opencl_device ();
  g_autoptr(WbDevice) ref = reference_device ();
  const char *shape = NULL;
  g_autoptr(WbField) Tr = NULL;
  g_autoptr(WbField) Dr = NULL;
  g_autoptr(WbField) Tc = NULL;
  g_autoptr(WbField) Dc = NULL;
  double worst_t_cell = 0, worst_d_cell = 0;

  if (dev == NULL)
    {
      g_test_skip ("no OpenCL device");
      return;
    }
  for (guint i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      g_autoptr(WbSim) sim = NULL;
      g_autoptr(WbField) T = NULL;
      g_autoptr(WbField) D = NULL;
      Diffs d;

      if (shape == NULL || !g_str_equal (shape, cases[i].shape))
        {
          /* A new grid: the reference and the cell kernel (the
           * implementation's work-group, no tuning) as the baselines. */
          g_autoptr(WbSim) r = focused_sim (ref, cases[i].shape, NULL);
          g_autoptr(WbSim) c = focused_sim (dev, cases[i].shape, "bhte=cell:0x0x0:0");

          shape = cases[i].shape;
          step (r, STEPS);
          step (c, STEPS);
          g_clear_pointer (&Tr, wb_field_unref);
          g_clear_pointer (&Dr, wb_field_unref);
          g_clear_pointer (&Tc, wb_field_unref);
          g_clear_pointer (&Dc, wb_field_unref);
          Tr = read_field (r, "T");
          Dr = read_field (r, "dose");
          Tc = read_field (c, "T");
          Dc = read_field (c, "dose");
        }

      sim = focused_sim (dev, shape, cases[i].pin);
      {
        /* Two-step kernels launch once per pair of steps. */
        guint per = strstr (cases[i].pin, "=zmarch2:") ? 2 : 1;
        cl_mem a = wb_sim_field_buffer (sim, "T"), b;
        WbLaunchReport last;

        step (sim, 1);
        b = wb_sim_field_buffer (sim, "T");
        g_assert_true (a != b);
        step (sim, STEPS - 1 - 2 * per);
        /* The last launches write into a NaN-filled buffer, once into
         * each buffer of the ping-pong: a cell a kernel skips keeps its
         * NaN. */
        for (guint round = 0; round < 2; round++)
          {
            g_autoptr(WbField) Tw = NULL;
            cl_mem current = wb_sim_field_buffer (sim, "T");

            fill_nan (sim, current == a ? b : a);
            step (sim, per);
            g_assert_true (wb_sim_field_buffer (sim, "T") != current);
            Tw = read_field (sim, "T");
            g_assert_cmpuint (count_nan (Tw), ==, 0);
          }
        /* The tuned launch ran, not the debugging one (which records its
         * launches for the launch report). */
        g_assert_false (wb_launch_last (sim, &last));
      }
      T = read_field (sim, "T");
      D = read_field (sim, "dose");
      compare (T, D, Tr, Dr, Tc, Dc, &d);
      g_test_message ("%s %s: peak %.3f C, |T - T_ref| %.3g K, dose rel. %.3g; "
                      "|T - T_cell| %.3g K (%.1f ulp), dose rel. %.3g",
                      shape, cases[i].pin, d.t_peak, d.t_ref, d.d_ref, d.t_cell,
                      d.t_cell / T_ULP, d.d_cell);
      g_assert_cmpuint (sim->step, ==, STEPS);
      /* The focus must have crossed 43 C, so that the dose's split step
       * and both of its rates are exercised. */
      g_assert_cmpfloat (d.t_peak, >, 44.0);
      /* The bhte tolerance of test-bhte (backends-agree). */
      g_assert_cmpfloat (d.t_ref, <, 1.5e-3);
      g_assert_cmpfloat (d.d_ref, <, 2e-3);
      worst_t_cell = MAX (worst_t_cell, d.t_cell);
      worst_d_cell = MAX (worst_d_cell, d.d_cell);
      /* The same arithmetic in the same order: a few float ulps apart at
       * most (contractions into fma may differ between kernels). */
      g_assert_cmpfloat (d.t_cell, <=, 4 * T_ULP);
      g_assert_cmpfloat (d.d_cell, <=, 1e-6);
    }
  g_test_message ("worst against the cell kernel: %.3g K (%.1f ulp), dose relative %.3g",
                  worst_t_cell, worst_t_cell / T_ULP, worst_d_cell);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/wavebench/bhte-variants/agree", test_variants);
  return g_test_run ();
}
