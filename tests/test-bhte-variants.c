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
#include <json-glib/json-glib.h>
#include <math.h>
#include <string.h>

#include "wb-device.h"
#include "wb-error.h"
#include "wb-launch.h"
#include "wb-probe.h"
#include "wb-sim.h"
#include "wb-tune.h"
#include "wb-test-devices.h"

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
  /* the same kernels built with their z loops not unrolled */
  { "grid.shape=[37,29,23]", "bhte=zmarch_v4.u1:4x4x1:5" },
  { "grid.shape=[37,29,23]", "bhte=zmarch2.u1:5x3x1:4" },
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
        guint per = strstr (cases[i].pin, "=zmarch2") ? 2 : 1;
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
      {
        /* The pinned kernel is the one that runs: a two-step one launches once
         * per pair (kernel timing counts the launches). */
        WbKernelDebug *dbg = wb_sim_kernel_debug (sim);
        g_autoptr(GError) error = NULL;
        guint launches = 0;

        wb_kernel_debug_time_launches (dbg, TRUE);
        g_assert_true (wb_sim_step (sim, 4, &error) && wb_sim_finish (sim, &error));
        g_assert_no_error (error);
        g_assert_cmpfloat (wb_kernel_debug_kernel_seconds (dbg, &launches), >, 0.0);
        wb_kernel_debug_time_launches (dbg, FALSE);
        g_assert_cmpuint (launches, ==, strstr (cases[i].pin, "=zmarch2") ? 2 : 4);
      }
    }
  g_test_message ("worst against the cell kernel: %.3g K (%.1f ulp), dose relative %.3g",
                  worst_t_cell, worst_t_cell / T_ULP, worst_d_cell);
}

/* Pins that cannot run are errors that name the pin, not crashes or a
 * silent fallback; a work-group over the kernel's limit says so. */
static void
test_bad_pins (void)
{
  g_autoptr(WbDevice) dev = opencl_device ();
  static const struct { const char *pin; const char *message; } bad[] = {
    { "bhte=zmarch_v8:8x4x1:5",
      "tuning bhte:37x29x23:src1: pinned choice zmarch_v8: bhte has no kernel variant 'zmarch_v8' "
      "(cell, zmarch, zmarch_v2, zmarch_v4, zmarch_lds, zmarch2; options .u1, .rN)" },
    { "bhte=zmarch.u2:8x4x1:5",
      "tuning bhte:37x29x23:src1: pinned choice zmarch.u2: bhte has no kernel variant 'zmarch.u2' "
      "(cell, zmarch, zmarch_v2, zmarch_v4, zmarch_lds, zmarch2; options .u1, .rN)" },
    { "bhte=zmarch:8x4x1:0",
      "tuning bhte:37x29x23:src1: pinned choice zmarch: bhte variant zmarch needs a column length (VARIANT:LXxLYx1:ZC)" },
    { "bhte=zmarch_v4:8x4x2:8",
      "tuning bhte:37x29x23:src1: pinned choice zmarch_v4: bhte variant zmarch_v4 takes work-groups of LXxLYx1" },
    { "bhte=zmarch_lds:0x0x0:8",
      "tuning bhte:37x29x23:src1: pinned choice zmarch_lds: bhte variant zmarch_lds needs a work-group size for its tile" },
    { "bhte=zmarch:8x4x1x2:8",
      "WAVEBENCH_TUNE_PIN: tuning choice 'zmarch:8x4x1x2:8': expected VARIANT[:LXxLYxLZ[:PARAM]] like zmarch:32x8x1:64" },
  };

  if (dev == NULL)
    {
      g_test_skip ("no OpenCL device");
      return;
    }
  for (guint i = 0; i < G_N_ELEMENTS (bad); i++)
    {
      g_autoptr(GError) error = NULL;
      g_autoptr(WbPreset) preset = wb_preset_load ("bhte-focused-ultrasound", &error);
      g_autoptr(WbSim) sim = NULL;

      g_assert_true (wb_preset_set (preset, "grid.shape=[37,29,23]", &error));
      g_setenv ("WAVEBENCH_TUNE_PIN", bad[i].pin, TRUE);
      sim = wb_sim_new (preset, dev, NULL, &error);
      g_unsetenv ("WAVEBENCH_TUNE_PIN");
      g_assert_null (sim);
      g_assert_nonnull (error);
      g_assert_cmpstr (error->message, ==, bad[i].message);
    }

  /* A register cap is an NVIDIA compiler option. */
  if (strstr (dev->name, "NVIDIA") == NULL)
    {
      g_autoptr(GError) error = NULL;
      g_autoptr(WbPreset) preset = wb_preset_load ("bhte-focused-ultrasound", &error);
      g_autoptr(WbSim) sim = NULL;

      g_assert_true (wb_preset_set (preset, "grid.shape=[37,29,23]", &error));
      g_setenv ("WAVEBENCH_TUNE_PIN", "bhte=zmarch2.r64:30x6x1:8", TRUE);
      sim = wb_sim_new (preset, dev, NULL, &error);
      g_unsetenv ("WAVEBENCH_TUNE_PIN");
      g_assert_null (sim);
      g_assert_cmpstr (error->message, ==, "tuning bhte:37x29x23:src1: pinned choice zmarch2.r64: "
                       "a register cap (.r64) needs a device with cl_nv_compiler_options");
    }

  /* Over CL_KERNEL_WORK_GROUP_SIZE: the limit is the device's, so the
   * pin is made from it. */
  {
    g_autoptr(GError) error = NULL;
    g_autoptr(WbPreset) preset = wb_preset_load ("bhte-focused-ultrasound", &error);
    g_autoptr(WbSim) sim = NULL;
    g_autofree char *pin = g_strdup_printf ("bhte=zmarch:%" G_GSIZE_FORMAT "x2x1:8",
                                            dev->max_work_group_size);
    g_autofree char *expect = g_strdup_printf ("work-group of %" G_GSIZE_FORMAT " exceeds CL_KERNEL_WORK_GROUP_SIZE",
                                               2 * dev->max_work_group_size);

    g_assert_true (wb_preset_set (preset, "grid.shape=[37,29,23]", &error));
    g_setenv ("WAVEBENCH_TUNE_PIN", pin, TRUE);
    sim = wb_sim_new (preset, dev, NULL, &error);
    g_unsetenv ("WAVEBENCH_TUNE_PIN");
    g_assert_null (sim);
    g_assert_nonnull (strstr (error->message, expect));
  }
}

/* The debugging tools keep looking at the cell kernel whatever the tuned
 * choice: coverage, probes and the launch report on a sim pinned to a
 * z-marching kernel see bhte_step's launches, as before the tuning. */
static void
test_debug_uses_cell_kernel (void)
{
  g_autoptr(WbDevice) dev = opencl_device ();
  const gsize n = 37 * 29 * 23;

  if (dev == NULL)
    {
      g_test_skip ("no OpenCL device");
      return;
    }
  {
    g_autoptr(WbSim) sim = focused_sim (dev, "grid.shape=[37,29,23]", "bhte=zmarch2:30x6x1:8");
    g_autoptr(GError) error = NULL;
    g_autoptr(WbCoverage) cov = NULL;
    WbLaunchReport plan, last;

    step (sim, 3);
    g_assert_false (wb_launch_last (sim, &last));
    cov = wb_coverage_measure (sim, "T", wb_sentinel_default (), &error);
    g_assert_no_error (error);
    g_assert_cmpuint (cov->n_unwritten, ==, 0);
    g_assert_cmpuint (cov->step, ==, 4);
    g_assert_true (wb_launch_last (sim, &last));
    g_assert_cmpstr (last.kernel, ==, "bhte_step");
    g_assert_cmpuint (last.covered, ==, n);
    g_assert_cmpuint (last.launch.global[2], ==, 23);

    /* A launch report asked for: the planned launch is the one that runs. */
    g_assert_true (wb_launch_plan (sim, &plan, &error));
    step (sim, 1);
    g_assert_true (wb_launch_last (sim, &last));
    g_assert_cmpuint (last.launch.global[0], ==, plan.launch.global[0]);
    g_assert_cmpuint (last.launch.global[2], ==, plan.launch.global[2]);
    g_assert_cmpuint (last.flags, ==, 0);
  }
  {
    g_autoptr(WbSim) sim = focused_sim (dev, "grid.shape=[37,29,23]", "bhte=zmarch_v4:8x4x1:8");
    g_autoptr(GError) error = NULL;
    g_autoptr(WbProbeReport) probes = NULL;

    g_assert_true (wb_probe_enable (sim, &error));
    g_assert_no_error (error);
    probes = wb_probe_measure (sim, &error);
    g_assert_no_error (error);
    /* bhte_step's checkpoints: the interior reaches 4 through 2, the
     * faces skip 2 but reach 4 as well. */
    g_assert_cmpuint (probes->counts[4], ==, n);
  }
}

/* The tuning path on this device: forced, it times every candidate on
 * the sim's own buffers, keeps the fastest in the cache, and leaves the
 * simulation as if nothing had run. */
static void
test_tuning_force (void)
{
  g_autoptr(WbDevice) dev = opencl_device ();
  g_autoptr(GError) error = NULL;
  g_autofree char *dir = NULL;
  g_autofree char *cache = NULL;
  g_autofree char *report = NULL;
  g_autofree char *cached = NULL;
  g_autofree char *choice = NULL;
  g_autoptr(GKeyFile) kf = g_key_file_new ();
  g_auto(GStrv) groups = NULL;
  g_autoptr(WbSim) tuned = NULL;
  g_autoptr(WbSim) plain = NULL;
  g_autoptr(WbField) T1 = NULL;
  g_autoptr(WbField) T2 = NULL;
  g_autoptr(WbField) D1 = NULL;
  const char *line, *key = "bhte:24x20x18:src1: ";
  guint trials = 0;

  if (dev == NULL)
    {
      g_test_skip ("no OpenCL device");
      return;
    }
  dir = g_dir_make_tmp ("wb-tune-XXXXXX", &error);
  g_assert_no_error (error);
  g_setenv ("WAVEBENCH_CACHE_DIR", dir, TRUE);
  g_setenv ("WAVEBENCH_TUNE", "force", TRUE);
  tuned = focused_sim (dev, "grid.shape=[24,20,18]", NULL);
  report = wb_tune_report ();
  g_setenv ("WAVEBENCH_TUNE", "off", TRUE);
  plain = focused_sim (dev, "grid.shape=[24,20,18]", NULL);
  g_unsetenv ("WAVEBENCH_TUNE");

  /* The report: this key measured, every candidate timed. */
  line = g_strrstr (report, key);
  g_assert_nonnull (line);
  {
    const char *end = strstr (line, " (measured)\n");
    g_auto(GStrv) lines = NULL;

    g_assert_nonnull (end);
    g_assert_true (end < strchr (line, '\n') + 1);
    choice = g_strndup (line + strlen (key), end - line - strlen (key));
    lines = g_strsplit (strchr (line, '\n') + 1, "\n", -1);
    for (guint i = 0; lines[i] && g_str_has_prefix (lines[i], "  "); i++)
      {
        g_assert_nonnull (strstr (lines[i], " us"));
        trials++;
      }
  }
  g_test_message ("forced tuning chose %s among %u candidates", choice, trials);
  g_assert_cmpuint (trials, >=, 6);
  /* Every variant of the device's default list is among them (GPUs leave
   * zmarch2 to WAVEBENCH_BHTE_SWEEP until it wins on one). */
  for (guint v = 0; v < 6; v++)
    {
      static const char *names[] = { "cell:", "zmarch:", "zmarch_v2:", "zmarch_v4:", "zmarch_lds:", "zmarch2:" };
      if (v == 2 || (v == 5 && dev->kind != WB_DEVICE_KIND_CPU))
        continue;
      g_assert_nonnull (strstr (line, names[v]));
    }

  /* The cache holds the same choice for this device and key. */
  cache = g_build_filename (dir, "tuning.ini", NULL);
  g_assert_true (g_key_file_load_from_file (kf, cache, G_KEY_FILE_NONE, &error));
  groups = g_key_file_get_groups (kf, NULL);
  g_assert_cmpuint (g_strv_length (groups), ==, 1);
  cached = g_key_file_get_string (kf, groups[0], "bhte:24x20x18:src1", &error);
  g_assert_no_error (error);
  g_assert_true (g_str_has_prefix (cached, choice));

  /* Measuring ran the kernels on the sim's buffers: they are back to the
   * initial state, exactly. */
  T1 = read_field (tuned, "T");
  T2 = read_field (plain, "T");
  D1 = read_field (tuned, "dose");
  g_assert_cmpint (memcmp (T1->data, T2->data, wb_field_n_elements (T1) * 4), ==, 0);
  for (gsize c = 0; c < wb_field_n_elements (D1); c++)
    g_assert_cmpfloat (D1->data[c], ==, 0.0f);
  g_clear_pointer (&T1, wb_field_unref);
  g_clear_pointer (&T2, wb_field_unref);
  step (tuned, 9);
  step (plain, 9);
  T1 = read_field (tuned, "T");
  T2 = read_field (plain, "T");
  for (gsize c = 0; c < wb_field_n_elements (T1); c++)
    g_assert_cmpfloat (fabs (T1->data[c] - T2->data[c]), <=, 4 * T_ULP);

  g_unlink (cache);
  g_rmdir (dir);
  g_unsetenv ("WAVEBENCH_CACHE_DIR");
}

/* `bench --tune`: the policy for that run, and the report in the table's
 * output and in --json. */
static void
test_bench_tune (void)
{
  g_autoptr(WbDevice) dev = opencl_device ();
  const char *cli = g_getenv ("WAVEBENCH_CLI");
  g_autofree char *dir = NULL;

  if (dev == NULL || cli == NULL)
    {
      g_test_skip (dev == NULL ? "no OpenCL device" : "WAVEBENCH_CLI not set");
      return;
    }
  dir = g_dir_make_tmp ("wb-bench-tune-XXXXXX", NULL);
  for (guint force = 0; force < 2; force++)
    {
      g_autoptr(GError) error = NULL;
      g_autofree char *out = NULL;
      g_autofree char *err = NULL;
      g_auto(GStrv) env = g_environ_setenv (g_get_environ (), "WAVEBENCH_CACHE_DIR", dir, TRUE);
      const char *argv[] = { cli, "bench", "bhte", "--grid", "20", "--steps", "3", "--no-bandwidth",
                             "--backend", dev->id, "--tune", force ? "force" : "off", "--json", NULL };
      int status = 0;
      g_autoptr(JsonParser) parser = json_parser_new ();
      const char *tuning;

      env = g_environ_unsetenv (env, "WAVEBENCH_TUNE_PIN");
      env = g_environ_unsetenv (env, "WAVEBENCH_TUNE");
      g_assert_true (g_spawn_sync (NULL, (char **) argv, env, G_SPAWN_DEFAULT, NULL, NULL,
                                   &out, &err, &status, &error));
      g_assert_no_error (error);
      if (status != 0)
        g_error ("bench failed: %s", err);
      g_assert_true (json_parser_load_from_data (parser, out, -1, &error));
      tuning = json_object_get_string_member (json_node_get_object (json_parser_get_root (parser)), "tuning");
      g_assert_nonnull (tuning);
      if (force)
        {
          /* measured: the choice, then one timed line per candidate */
          g_assert_nonnull (strstr (tuning, "bhte:20x20x20:src1: "));
          g_assert_nonnull (strstr (tuning, " (measured)\n"));
          g_assert_nonnull (strstr (tuning, "  zmarch2:30x6x1:16 "));
          g_assert_nonnull (strstr (tuning, " us\n"));
        }
      else
        g_assert_cmpstr (tuning, ==, "bhte:20x20x20:src1: cell:0x0x0:0 (default)\n");
    }
  {
    g_autofree char *cache = g_build_filename (dir, "tuning.ini", NULL);
    g_unlink (cache);
    g_rmdir (dir);
  }
  {
    g_autofree char *err = NULL;
    const char *argv[] = { cli, "bench", "bhte", "--tune", "sometimes", NULL };
    int status = 0;

    g_assert_true (g_spawn_sync (NULL, (char **) argv, NULL, G_SPAWN_DEFAULT, NULL, NULL,
                                 NULL, &err, &status, NULL));
    g_assert_false (g_spawn_check_wait_status (status, NULL));
    g_assert_nonnull (strstr (err, "--tune sometimes: expected auto, off or force"));
  }
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/wavebench/bhte-variants/agree", test_variants);
  g_test_add_func ("/wavebench/bhte-variants/bad-pins", test_bad_pins);
  g_test_add_func ("/wavebench/bhte-variants/debug-uses-cell-kernel", test_debug_uses_cell_kernel);
  g_test_add_func ("/wavebench/bhte-variants/tuning-force", test_tuning_force);
  g_test_add_func ("/wavebench/bhte-variants/bench-tune", test_bench_tune);
  return g_test_run ();
}
