/* test-guard: blow-up detection (wb-guard.c, kernels/guard.cl).
 *
 * The device scan is checked against the plain C scan on arrays with bad
 * values planted at known places; the guard of a real solver must stop at
 * the first check past the threshold, name the same step and cell that an
 * independent host scan of the read-back field finds, and keep the state
 * of the check before it. */
#include "config.h"

#include <math.h>
#include <string.h>
#include <glib/gstdio.h>

#include "wb-cl.h"
#include "wb-device.h"
#include "wb-error.h"
#include "wb-guard.h"
#include "wb-launch.h"
#include "wb-preset.h"
#include "wb-runner.h"
#include "wb-sim.h"
#include "wb-test-devices.h"

/* --- scans ------------------------------------------------------------ */

static void
test_scan_host (void)
{
  float x[10] = { 1, -2, 3, -4, 5, 6, 7, 8, 9, 10 };
  WbGuardStats st;

  wb_guard_scan_host (x, 10, 1e30, &st);
  g_assert_cmpfloat (st.max_abs, ==, 10);
  g_assert_cmpuint (st.n_nonfinite, ==, 0);
  g_assert_cmpuint (st.n_over, ==, 0);
  g_assert_cmpint (st.first_bad, ==, -1);

  /* Above the threshold counts; so does a NaN, which is not in the max. */
  x[7] = NAN;
  x[2] = -INFINITY;
  wb_guard_scan_host (x, 10, 8.5, &st);
  g_assert_cmpfloat (st.max_abs, ==, 10);
  g_assert_cmpuint (st.n_nonfinite, ==, 2);
  g_assert_cmpuint (st.n_over, ==, 2);      /* 9 and 10 */
  g_assert_cmpint (st.first_bad, ==, 2);
}

static void
test_scan_device (void)
{
  g_autoptr(WbDevice) dev = opencl_device ();
  g_autoptr(WbClContext) ctx = NULL;
  g_autoptr(WbGuardKernel) gk = NULL;
  g_autoptr(GError) error = NULL;
  /* Sizes below, at and above the work-group and group counts. */
  const gsize sizes[] = { 1, 63, 64, 65, 1000, 16384, 16385, 1000003 };
  GRand *rand = g_rand_new_with_seed (9);

  if (dev == NULL)
    {
      g_test_skip ("no OpenCL device");
      g_rand_free (rand);
      return;
    }
  ctx = wb_cl_context_new (dev, &error);
  g_assert_no_error (error);
  gk = wb_guard_kernel_new (ctx, NULL, &error);
  g_assert_no_error (error);

  for (guint s = 0; s < G_N_ELEMENTS (sizes); s++)
    for (guint trial = 0; trial < 4; trial++)
      {
        gsize n = sizes[s];
        g_autofree float *x = g_new (float, n);
        cl_mem buf;
        WbGuardStats host, device;
        double thr = trial == 3 ? 0.9 : 1e30;

        for (gsize i = 0; i < n; i++)
          x[i] = (float) g_rand_double_range (rand, -1.0, 1.0);
        /* trial 0: clean; 1: one NaN; 2: Infs and NaNs at random places;
         * 3: a low threshold so that many finite values are over it. */
        if (trial == 1)
          x[g_rand_int_range (rand, 0, n)] = NAN;
        if (trial == 2)
          for (guint b = 0; b < 5; b++)
            x[g_rand_int_range (rand, 0, n)] = b % 2 ? INFINITY : -NAN;
        buf = wb_cl_buffer_new (ctx, CL_MEM_READ_WRITE | CL_MEM_COPY_HOST_PTR, n * sizeof (float), x,
                                "test", &error);
        g_assert_no_error (error);
        g_assert_true (wb_guard_kernel_scan (gk, buf, n, thr, &device, &error));
        g_assert_no_error (error);
        clReleaseMemObject (buf);
        wb_guard_scan_host (x, n, thr, &host);
        /* Exact: both take the max of the same float magnitudes, and
         * counts and indices are integers. */
        g_assert_cmpfloat (device.max_abs, ==, host.max_abs);
        g_assert_cmpuint (device.n_nonfinite, ==, host.n_nonfinite);
        g_assert_cmpuint (device.n_over, ==, host.n_over);
        g_assert_cmpint (device.first_bad, ==, host.first_bad);
        if (trial == 0)
          g_assert_cmpint (device.first_bad, ==, -1);
        else if (trial < 3)
          g_assert_cmpint (device.first_bad, >=, 0);
      }
  g_rand_free (rand);
}

/* --- configuration ------------------------------------------------------ */

static void
test_config (void)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(WbPreset) p = wb_preset_load ("bhte-gaussian", &error);
  g_autoptr(WbPreset) stripped = NULL;
  WbGuardConfig c;

  g_assert_no_error (error);
  g_assert_true (wb_guard_config_from_preset (p, &c, &error));
  g_assert_cmpuint (c.every, ==, WB_GUARD_DEFAULT_EVERY);
  g_assert_cmpfloat (c.max_abs, ==, WB_GUARD_DEFAULT_MAX_ABS);
  g_assert_null (c.fields);
  g_assert_null (wb_guard_strip_preset (p));

  g_assert_true (wb_preset_set (p, "guard={\"every\": 7, \"max_abs\": 50, \"fields\": [\"T\", \"dose\"]}", &error));
  g_assert_true (wb_guard_config_from_preset (p, &c, &error));
  g_assert_cmpuint (c.every, ==, 7);
  g_assert_cmpfloat (c.max_abs, ==, 50);
  g_assert_cmpstr (c.fields[1], ==, "dose");
  wb_guard_config_clear (&c);
  stripped = wb_guard_strip_preset (p);
  g_assert_nonnull (stripped);
  g_assert_null (wb_preset_lookup (stripped, "guard"));
  g_assert_nonnull (wb_preset_lookup (p, "guard.every"));
  /* The solver accepts the preset with a guard (wb_sim_new strips it). */
  g_assert_true (wb_sim_validate (p, &error));
  g_assert_no_error (error);

  g_assert_true (wb_preset_set (p, "guard.every=-1", &error));
  g_assert_false (wb_guard_config_from_preset (p, &c, &error));
  g_assert_error (error, WB_ERROR, WB_ERROR_INVALID);
  g_assert_nonnull (strstr (error->message, "guard.every = -1 is out of range"));
  g_clear_error (&error);
  g_assert_false (wb_sim_validate (p, &error));
  g_assert_error (error, WB_ERROR, WB_ERROR_INVALID);
  g_clear_error (&error);

  g_assert_true (wb_preset_set (p, "guard={\"evry\": 5}", &error));
  g_assert_false (wb_guard_config_from_preset (p, &c, &error));
  g_assert_nonnull (strstr (error->message, "unknown key 'guard.evry'"));
  g_clear_error (&error);
  wb_guard_config_clear (&c);
}

/* --- a real solver ------------------------------------------------------ */

/* The run loop of the CLI, reduced: step up to each due check. */
static gboolean
run_guarded (WbSim    *sim,
             WbGuard  *guard,
             guint64   steps,
             GError  **error)
{
  while (sim->step < steps)
    {
      guint64 n;
      if (!wb_guard_poll (guard, error))
        return FALSE;
      n = MIN (steps - sim->step, wb_guard_steps_until_check (guard));
      if (!wb_sim_step (sim, (guint) n, error))
        return FALSE;
    }
  return wb_guard_finish (guard, error);
}

static void
guard_threshold_on (WbDevice *dev)
{
  const guint every = 20;
  const double thr = 40.0;
  g_autoptr(GError) error = NULL;
  g_autoptr(WbPreset) p = wb_preset_load ("bhte-uniform-source", &error);
  g_autoptr(WbSim) plain = NULL;
  g_autoptr(WbSim) sim = NULL;
  g_autoptr(WbGuard) guard = NULL;
  g_autoptr(WbField) before = NULL;
  g_autoptr(WbField) kept = NULL;
  WbGuardConfig c;
  WbGuardStats st = { 0 };
  guint64 expect_step = 0;
  g_autofree char *want = NULL;
  gsize ci, cj, ck;

  g_assert_no_error (error);
  /* The oracle: step by hand, scan each read-back field on the host. */
  plain = wb_sim_new (p, dev, NULL, &error);
  g_assert_no_error (error);
  while (plain->step < 600)
    {
      g_autoptr(WbField) f = wb_sim_read_field (plain, "T", &error);
      g_assert_no_error (error);
      wb_guard_scan_host (f->data, wb_field_n_elements (f), thr, &st);
      if (st.first_bad >= 0)
        break;
      g_clear_pointer (&before, wb_field_unref);
      before = g_steal_pointer (&f);
      g_assert_true (wb_sim_step (plain, every, &error));
    }
  /* The uniform source heats 37 -> ~42 C: the run crosses 40 C. */
  g_assert_cmpint (st.first_bad, >=, 0);
  g_assert_nonnull (before);
  expect_step = plain->step;
  ci = st.first_bad % 32;
  cj = (st.first_bad / 32) % 32;
  ck = st.first_bad / (32 * 32);

  wb_guard_config_init (&c);
  c.every = every;
  c.max_abs = thr;
  sim = wb_sim_new (p, dev, NULL, &error);
  g_assert_no_error (error);
  guard = wb_guard_new (sim, &c, NULL, NULL, &error);
  g_assert_no_error (error);
  g_assert_false (run_guarded (sim, guard, 600, &error));
  g_assert_error (error, WB_ERROR, WB_ERROR_DIVERGED);
  g_assert_cmpint (wb_error_exit_code (error), ==, 1);
  want = g_strdup_printf ("the run diverged at step %" G_GUINT64_FORMAT " ", expect_step);
  g_assert_nonnull (strstr (error->message, want));
  g_clear_pointer (&want, g_free);
  want = g_strdup_printf ("field T, first bad cell (%" G_GSIZE_FORMAT ", %" G_GSIZE_FORMAT ", %" G_GSIZE_FORMAT ") = ",
                          ci, cj, ck);
  g_assert_nonnull (strstr (error->message, want));
  g_clear_pointer (&want, g_free);
  want = g_strdup_printf ("the last good state is step %" G_GUINT64_FORMAT, expect_step - every);
  g_assert_nonnull (strstr (error->message, want));
  g_assert_cmpint (wb_guard_last_good_step (guard), ==, (gint64) (expect_step - every));
  g_clear_error (&error);
  /* Checks at 0, 20, ... up to the failing one. */
  g_assert_cmpuint (wb_guard_n_checks (guard), ==, expect_step / every + 1);

  /* The kept state is the field at the check before, bit for bit (the
   * same backend ran the same steps). */
  kept = wb_guard_read_last_good (guard, "T", &error);
  g_assert_no_error (error);
  g_assert_cmpuint (wb_field_n_elements (kept), ==, wb_field_n_elements (before));
  g_assert_cmpint (memcmp (kept->data, before->data, wb_field_n_elements (kept) * sizeof (float)), ==, 0);
  g_assert_cmpstr (kept->units, ==, "degC");
  g_assert_null (wb_guard_read_last_good (guard, "dose", &error));
  g_assert_error (error, WB_ERROR, WB_ERROR_NOT_FOUND);
}

static void
test_threshold_reference (void)
{
  g_autoptr(WbDevice) dev = reference_device ();
  guard_threshold_on (dev);
}

static void
test_threshold_opencl (void)
{
  g_autoptr(WbDevice) dev = opencl_device ();

  if (dev == NULL)
    {
      g_test_skip ("no OpenCL device");
      return;
    }
  guard_threshold_on (dev);
}

/* A kernel that writes NaN into one cell: the guard names that cell at the
 * first check after the first step. */
static void
test_nan_kernel (void)
{
  g_autoptr(WbDevice) dev = opencl_device ();
  g_autoptr(GError) error = NULL;
  g_autoptr(WbPreset) p = NULL;
  g_autoptr(WbSim) sim = NULL;
  g_autoptr(WbGuard) guard = NULL;
  g_autoptr(WbField) kept = NULL;
  g_autofree char *dir = NULL;
  g_autofree char *src = NULL;
  g_autofree char *path = NULL;
  char *last;
  WbGuardConfig c;
  GString *s;

  if (dev == NULL)
    {
      g_test_skip ("no OpenCL device");
      return;
    }
  dir = g_dir_make_tmp ("wb-guard-XXXXXX", &error);
  g_assert_no_error (error);
  src = wb_kernel_source_load (NULL, "bhte.cl", NULL, &error);
  g_assert_no_error (error);
  /* The expanded source already holds wb-common.h: insert before the
   * kernel's last closing brace. */
  last = strrchr (src, '}');
  g_assert_nonnull (last);
  s = g_string_new_len (src, last - src);
  g_string_append (s, "  if (i == 5 && j == 6 && k == 7) T_out[IDX3 (i, j, k)] = NAN;\n}\n");
  path = g_build_filename (dir, "bhte.cl", NULL);
  g_assert_true (g_file_set_contents (path, s->str, s->len, &error));
  g_string_free (s, TRUE);

  p = wb_preset_load ("bhte-gaussian", &error);
  g_assert_no_error (error);
  sim = wb_sim_new (p, dev, dir, &error);
  g_assert_no_error (error);
  wb_guard_config_init (&c);
  c.every = 1;
  guard = wb_guard_new (sim, &c, NULL, dir, &error);
  g_assert_no_error (error);
  g_assert_false (run_guarded (sim, guard, 50, &error));
  g_assert_error (error, WB_ERROR, WB_ERROR_DIVERGED);
  g_assert_nonnull (strstr (error->message, "the run diverged at step 1 (t = 0.1 s): field T, first bad cell (5, 6, 7) = nan "
                                            "(cells non-finite: 1, above 1e+30: 0; largest finite |T| "));
  g_assert_nonnull (strstr (error->message, "the last good state is step 0"));
  g_clear_error (&error);
  kept = wb_guard_read_last_good (guard, "T", &error);
  g_assert_no_error (error);
  /* Step 0 is the initial state: 37 C plus the Gaussian of amplitude 8 K
   * and 1/e radius 3 mm centred at 23.5 cells, so cell 24 is half a cell
   * (0.25 mm) off on each axis; float32 holds it to ~4e-6 K. */
  g_assert_false (isnan (kept->data[5 + 48 * (6 + 48 * 7)]));
  g_assert_cmpfloat_with_epsilon (kept->data[24 + 48 * (24 + 48 * 24)],
                                  37.0 + 8.0 * exp (-3 * 0.25e-3 * 0.25e-3 / (3e-3 * 3e-3)), 1e-4);

  g_unlink (path);
  g_rmdir (dir);
}

static void
test_guard_off (void)
{
  g_autoptr(WbDevice) dev = reference_device ();
  g_autoptr(GError) error = NULL;
  g_autoptr(WbPreset) p = wb_preset_load ("bhte-uniform-source", &error);
  g_autoptr(WbSim) sim = NULL;
  g_autoptr(WbGuard) guard = NULL;
  WbGuardConfig c;

  wb_guard_config_init (&c);
  c.every = 0;
  c.max_abs = 1.0;     /* would fail at once if checks ran */
  sim = wb_sim_new (p, dev, NULL, &error);
  g_assert_no_error (error);
  guard = wb_guard_new (sim, &c, NULL, NULL, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (wb_guard_steps_until_check (guard), ==, G_MAXUINT64);
  g_assert_true (run_guarded (sim, guard, 10, &error));
  g_assert_cmpuint (wb_guard_n_checks (guard), ==, 0);

  /* An unknown field is refused with the list. */
  c.every = 5;
  c.fields = (char *[]) { "T", "Temp", NULL };
  g_assert_null (wb_guard_new (sim, &c, NULL, NULL, &error));
  g_assert_error (error, WB_ERROR, WB_ERROR_NOT_FOUND);
  g_assert_cmpstr (error->message, ==, "guard.fields[1]: solver bhte has no field 'Temp' (fields: T, dose, Q, material)");
}

static void
test_device_memory (void)
{
  g_autoptr(WbDevice) dev = opencl_device ();
  g_autoptr(WbDevice) ref = reference_device ();
  g_autoptr(GError) error = NULL;
  g_autofree char *want = NULL;
  guint64 have;

  /* The reference backend is limited by host memory, checked elsewhere. */
  g_assert_true (wb_guard_check_device_memory (ref, G_MAXUINT64, "run", &error));
  if (dev == NULL)
    {
      g_test_skip ("no OpenCL device");
      return;
    }
  have = dev->global_mem_size;
  g_assert_true (wb_guard_check_device_memory (dev, have, "run", &error));
  g_assert_no_error (error);
  g_assert_false (wb_guard_check_device_memory (dev, have + 2 * 1048576, "grid.shape [10, 10, 10]", &error));
  g_assert_error (error, WB_ERROR, WB_ERROR_TOO_LARGE);
  g_assert_cmpint (wb_error_exit_code (error), ==, 2);
  want = g_strdup_printf ("grid.shape [10, 10, 10] needs %.1f MiB of device memory in all but %s has %.1f MiB",
                          have / 1048576.0 + 2, dev->name, have / 1048576.0);
  g_assert_cmpstr (error->message, ==, want);
}

/* Kernel debugging rebuilds a solver's OpenCL state (vwe swaps in a new
 * context): the guard follows instead of scanning buffers of another
 * context. */
static void
test_reconfigured (void)
{
  g_autoptr(WbDevice) dev = opencl_device ();
  g_autoptr(GError) error = NULL;
  g_autoptr(WbPreset) p = NULL;
  g_autoptr(WbSim) sim = NULL;
  g_autoptr(WbGuard) guard = NULL;
  WbKernelConfig kc;
  WbGuardConfig c;
  WbClContext *before;

  if (dev == NULL)
    {
      g_test_skip ("no OpenCL device");
      return;
    }
  p = wb_preset_load ("vwe-point-source-2d", &error);
  g_assert_no_error (error);
  g_assert_true (wb_preset_set (p, "grid.shape=[64,64]", &error));
  sim = wb_sim_new (p, dev, NULL, &error);
  g_assert_no_error (error);
  wb_guard_config_init (&c);
  c.every = 5;
  guard = wb_guard_new (sim, &c, NULL, NULL, &error);
  g_assert_no_error (error);
  g_assert_true (wb_guard_check (guard, &error));
  g_assert_no_error (error);
  before = sim->cl;
  wb_kernel_config_init (&kc);
  kc.probes = TRUE;
  if (!wb_sim_configure_kernels (sim, &kc, &error))
    {
      g_test_skip_printf ("no kernel reconfiguration: %s", error->message);
      wb_kernel_config_clear (&kc);
      return;
    }
  wb_kernel_config_clear (&kc);
  if (sim->cl == before)
    g_test_message ("the solver kept its context");
  g_assert_true (run_guarded (sim, guard, 20, &error));
  g_assert_no_error (error);
  g_assert_cmpint (wb_guard_last_good_step (guard), ==, 20);
}

static gboolean
runner_failed (WbRunner *runner)
{
  return wb_runner_get_state (runner) == WB_RUNNER_FAILED;
}

static void
read_done (GObject      *source,
           GAsyncResult *result,
           gpointer      user_data)
{
  WbField **out = user_data;
  g_autoptr(GError) error = NULL;

  *out = wb_runner_read_field_finish (WB_RUNNER (source), result, &error);
  g_assert_no_error (error);
}

/* The app's path: a runner whose preset has a guard stops at the blow-up,
 * shows the last good frame, and reads the last good state. */
static void
test_runner (void)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(WbPreset) p = wb_preset_load ("bhte-uniform-source", &error);
  g_autoptr(GPtrArray) devices = wb_device_list (NULL);
  g_autoptr(WbDevice) dev = wb_device_lookup (devices, "reference", NULL, &error);
  g_autoptr(WbRunner) runner = wb_runner_new ();
  g_autoptr(WbField) frame = NULL;
  g_autoptr(WbField) read = NULL;
  const GError *failure;
  guint64 frame_step = 0;
  float lo, hi;
  gint64 end;

  g_assert_no_error (error);
  g_assert_true (wb_preset_set (p, "guard={\"every\": 20, \"max_abs\": 40}", &error));
  wb_runner_set_display_field (runner, "T");
  wb_runner_load (runner, p, dev, NULL);
  end = g_get_monotonic_time () + 20 * G_USEC_PER_SEC;
  while ((wb_runner_get_info (runner) == NULL || wb_runner_get_state (runner) != WB_RUNNER_IDLE) &&
         g_get_monotonic_time () < end)
    {
      g_main_context_iteration (NULL, FALSE);
      g_usleep (1000);
    }
  wb_runner_run (runner);
  while (!runner_failed (runner) && g_get_monotonic_time () < end)
    {
      g_main_context_iteration (NULL, FALSE);
      g_usleep (1000);
    }
  if (!runner_failed (runner))
    g_test_message ("state %d step %" G_GUINT64_FORMAT " error %s", wb_runner_get_state (runner),
                    wb_runner_get_step (runner),
                    wb_runner_get_error (runner) ? wb_runner_get_error (runner)->message : "none");
  g_assert_true (runner_failed (runner));
  failure = wb_runner_get_error (runner);
  g_assert_error ((GError *) failure, WB_ERROR, WB_ERROR_DIVERGED);
  g_assert_nonnull (strstr (failure->message, "field T, first bad cell ("));
  /* Same step as the CLI-style loop finds (threshold-reference). */
  g_assert_nonnull (strstr (failure->message, "the last good state is step "));

  /* The frame shown is the last good state, not the first bad one. */
  end = g_get_monotonic_time () + 10 * G_USEC_PER_SEC;
  while (frame == NULL && g_get_monotonic_time () < end)
    {
      g_main_context_iteration (NULL, FALSE);
      frame = wb_runner_take_frame (runner, &frame_step, NULL);
      if (frame != NULL && frame_step % 20 != 0)
        g_clear_pointer (&frame, wb_field_unref);
    }
  g_assert_nonnull (frame);
  wb_field_range (frame, &lo, &hi);
  g_assert_cmpfloat (hi, <=, 40.0f);
  g_assert_cmpfloat (hi, >, 39.0f);
  g_assert_cmpuint (frame_step % 20, ==, 0);

  wb_runner_read_field_async (runner, "T", NULL, read_done, &read);
  end = g_get_monotonic_time () + 10 * G_USEC_PER_SEC;
  while (read == NULL && g_get_monotonic_time () < end)
    g_main_context_iteration (NULL, TRUE);
  g_assert_nonnull (read);
  wb_field_range (read, &lo, &hi);
  g_assert_cmpfloat (hi, <=, 40.0f);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/wavebench/guard/scan-host", test_scan_host);
  g_test_add_func ("/wavebench/guard/scan-device", test_scan_device);
  g_test_add_func ("/wavebench/guard/config", test_config);
  g_test_add_func ("/wavebench/guard/threshold-reference", test_threshold_reference);
  g_test_add_func ("/wavebench/guard/threshold-opencl", test_threshold_opencl);
  g_test_add_func ("/wavebench/guard/nan-kernel", test_nan_kernel);
  g_test_add_func ("/wavebench/guard/off", test_guard_off);
  g_test_add_func ("/wavebench/guard/device-memory", test_device_memory);
  g_test_add_func ("/wavebench/guard/reconfigured", test_reconfigured);
  g_test_add_func ("/wavebench/guard/runner", test_runner);
  return g_test_run ();
}
