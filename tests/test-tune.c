/* test-tune: launch tuning, its cache and its policies, with a measuring
 * function whose timings the test decides. */
#include "config.h"

#include <string.h>
#include <glib/gstdio.h>

#include "wb-error.h"
#include "wb-tune.h"

typedef struct
{
  const double *times;   /* per candidate, < 0: fails */
  guint         calls;
} Fake;

static const WbTuneChoice candidates[] = {
  { "cell", { 64, 4, 1 }, 0 },
  { "zmarch", { 32, 8, 1 }, 16 },
  { "zmarch", { 32, 8, 1 }, 64 },
  { "zmarch", { 256, 1, 1 }, 64 },
};

static gboolean
fake_measure (const WbTuneChoice *choice,
              double             *seconds,
              gpointer            user_data,
              GError            **error)
{
  Fake *f = user_data;

  f->calls++;
  for (guint i = 0; i < G_N_ELEMENTS (candidates); i++)
    if (memcmp (choice, &candidates[i], sizeof *choice) == 0)
      {
        if (f->times[i] < 0)
          {
            g_set_error (error, WB_ERROR, WB_ERROR_DEVICE, "CL_INVALID_WORK_GROUP_SIZE");
            return FALSE;
          }
        *seconds = f->times[i];
        return TRUE;
      }
  g_assert_not_reached ();
}

static WbDevice *
fake_device (WbDeviceKind kind)
{
  WbDevice *d = g_new0 (WbDevice, 1);

  d->kind = kind;
  d->name = g_strdup ("Test GPU [rev 2]");
  d->driver_version = g_strdup ("1.0");
  d->platform_name = g_strdup ("Test platform");
  return d;
}

static void
free_device (WbDevice *d)
{
  g_free (d->name);
  g_free (d->driver_version);
  g_free (d->platform_name);
  g_free (d);
}

static char *
use_temp_cache (void)
{
  char *dir = g_dir_make_tmp ("wb-tune-XXXXXX", NULL);

  g_setenv ("WAVEBENCH_CACHE_DIR", dir, TRUE);
  g_unsetenv ("WAVEBENCH_TUNE");
  g_unsetenv ("WAVEBENCH_TUNE_PIN");
  return dir;
}

static void
remove_temp_cache (char *dir)
{
  g_autofree char *path = wb_tune_cache_path ();

  g_remove (path);
  g_rmdir (dir);
  g_free (dir);
}

/* The fastest candidate wins, failures are kept and skipped, and the
 * second call reads the cache instead of measuring. */
static void
test_measure_then_cache (void)
{
  char *dir = use_temp_cache ();
  const double times[] = { 4e-4, -1, 2e-4, 3e-4 };
  Fake f = { times, 0 };
  WbDevice *dev = fake_device (WB_DEVICE_KIND_DISCRETE_GPU);
  WbTuneResult r;
  g_autoptr(GError) error = NULL;
  g_autofree char *path = wb_tune_cache_path ();
  g_autofree char *text = NULL;

  g_assert_true (wb_tune_choose (dev, "bhte:64x64x64", candidates, 4, FALSE,
                                 fake_measure, &f, &r, &error));
  g_assert_no_error (error);
  g_assert_cmpstr (r.source, ==, "measured");
  g_assert_cmpuint (f.calls, ==, 4);
  g_assert_true (memcmp (&r.choice, &candidates[2], sizeof r.choice) == 0);
  g_assert_cmpuint (r.trials->len, ==, 4);
  g_assert_cmpfloat (g_array_index (r.trials, WbTuneTrial, 1).seconds, <, 0);
  g_assert_cmpstr (g_array_index (r.trials, WbTuneTrial, 1).failure, ==,
                   "CL_INVALID_WORK_GROUP_SIZE");
  wb_tune_result_clear (&r);

  g_assert_true (g_file_get_contents (path, &text, NULL, NULL));
  g_assert_nonnull (strstr (text, "[Test GPU _rev 2_ | 1.0 | Test platform]"));
  g_assert_nonnull (strstr (text, "bhte:64x64x64=zmarch:32x8x1:64 0.0002"));

  f.calls = 0;
  g_assert_true (wb_tune_choose (dev, "bhte:64x64x64", candidates, 4, FALSE,
                                 fake_measure, &f, &r, &error));
  g_assert_cmpstr (r.source, ==, "cache");
  g_assert_cmpuint (f.calls, ==, 0);
  g_assert_true (memcmp (&r.choice, &candidates[2], sizeof r.choice) == 0);
  wb_tune_result_clear (&r);
  /* Read from the cache twice: reported once, after the measurement. */
  g_assert_true (wb_tune_choose (dev, "bhte:64x64x64", candidates, 4, FALSE,
                                 fake_measure, &f, &r, &error));
  wb_tune_result_clear (&r);
  {
    g_autofree char *report = wb_tune_report ();
    const char *line = "bhte:64x64x64: zmarch:32x8x1:64 (cache)\n";
    const char *first = strstr (report, line);

    g_assert_nonnull (strstr (report, "bhte:64x64x64: zmarch:32x8x1:64 (measured)\n"));
    g_assert_nonnull (first);
    g_assert_null (strstr (first + 1, line));
  }

  /* Another key is measured on its own; force measures again. */
  g_setenv ("WAVEBENCH_TUNE", "force", TRUE);
  g_assert_true (wb_tune_choose (dev, "bhte:64x64x64", candidates, 4, FALSE,
                                 fake_measure, &f, &r, &error));
  g_assert_cmpstr (r.source, ==, "measured");
  g_assert_cmpuint (f.calls, ==, 4);
  wb_tune_result_clear (&r);

  free_device (dev);
  remove_temp_cache (dir);
}

/* A cached choice that is no longer a candidate (a renamed variant) is
 * measured again rather than used. */
static void
test_stale_cache (void)
{
  char *dir = use_temp_cache ();
  const double times[] = { 1e-4, 2e-4, 3e-4, 4e-4 };
  Fake f = { times, 0 };
  WbDevice *dev = fake_device (WB_DEVICE_KIND_DISCRETE_GPU);
  g_autofree char *path = wb_tune_cache_path ();
  const char *stale = "[Test GPU _rev 2_ | 1.0 | Test platform]\nbhte:8=oldvariant:32x8x1:4 1e-5\n";
  WbTuneResult r;

  g_assert_true (g_file_set_contents (path, stale, -1, NULL));
  g_assert_true (wb_tune_choose (dev, "bhte:8", candidates, 4, FALSE, fake_measure, &f, &r, NULL));
  g_assert_cmpstr (r.source, ==, "measured");
  g_assert_cmpstr (r.choice.variant, ==, "cell");
  wb_tune_result_clear (&r);
  free_device (dev);
  remove_temp_cache (dir);
}

/* off: the default, nothing measured; CPU devices measure only cheap
 * candidates under auto; a pin wins over everything. */
static void
test_policies (void)
{
  char *dir = use_temp_cache ();
  const double times[] = { 4e-4, 3e-4, 2e-4, 1e-4 };
  Fake f = { times, 0 };
  WbDevice *gpu = fake_device (WB_DEVICE_KIND_DISCRETE_GPU);
  WbDevice *cpu = fake_device (WB_DEVICE_KIND_CPU);
  g_autofree char *path = wb_tune_cache_path ();
  g_autoptr(GError) error = NULL;
  WbTuneResult r;

  g_setenv ("WAVEBENCH_TUNE", "off", TRUE);
  g_assert_true (wb_tune_choose (gpu, "k", candidates, 4, TRUE, fake_measure, &f, &r, NULL));
  g_assert_cmpstr (r.source, ==, "default");
  g_assert_cmpuint (f.calls, ==, 0);
  g_assert_false (g_file_test (path, G_FILE_TEST_EXISTS));

  g_unsetenv ("WAVEBENCH_TUNE");
  g_assert_true (wb_tune_choose (cpu, "k", candidates, 4, FALSE, fake_measure, &f, &r, NULL));
  g_assert_cmpstr (r.source, ==, "default");
  g_assert_cmpuint (f.calls, ==, 0);
  g_assert_true (wb_tune_choose (cpu, "k", candidates, 4, TRUE, fake_measure, &f, &r, NULL));
  g_assert_cmpstr (r.source, ==, "measured");
  g_assert_true (memcmp (&r.choice, &candidates[3], sizeof r.choice) == 0);
  wb_tune_result_clear (&r);

  g_setenv ("WAVEBENCH_TUNE_PIN", "vwe=x:1x1x1:0;k=cell:0x0x0:3", TRUE);
  f.calls = 0;
  g_assert_true (wb_tune_choose (gpu, "k:64", candidates, 4, TRUE, fake_measure, &f, &r, NULL));
  g_assert_cmpstr (r.source, ==, "pinned");
  g_assert_cmpstr (r.choice.variant, ==, "cell");
  g_assert_cmpuint (r.choice.local[0], ==, 0);
  g_assert_cmpuint (r.choice.param, ==, 3);
  g_assert_cmpuint (f.calls, ==, 0);

  g_setenv ("WAVEBENCH_TUNE_PIN", "k=cell:4x0:1", TRUE);
  g_assert_false (wb_tune_choose (gpu, "k:64", candidates, 4, TRUE, fake_measure, &f, &r, &error));
  g_assert_error (error, WB_ERROR, WB_ERROR_INVALID);
  g_assert_cmpstr (error->message, ==,
                   "WAVEBENCH_TUNE_PIN: tuning choice 'cell:4x0:1': expected "
                   "VARIANT[:LXxLYxLZ[:PARAM]] like zmarch:32x8x1:64");
  g_unsetenv ("WAVEBENCH_TUNE_PIN");
  free_device (gpu);
  free_device (cpu);
  remove_temp_cache (dir);
}

static void
test_all_fail (void)
{
  char *dir = use_temp_cache ();
  const double times[] = { -1, -1, -1, -1 };
  Fake f = { times, 0 };
  WbDevice *dev = fake_device (WB_DEVICE_KIND_DISCRETE_GPU);
  g_autoptr(GError) error = NULL;
  WbTuneResult r;

  g_assert_false (wb_tune_choose (dev, "bhte:8", candidates, 4, FALSE, fake_measure, &f, &r, &error));
  g_assert_error (error, WB_ERROR, WB_ERROR_DEVICE);
  g_assert_cmpstr (error->message, ==,
                   "tuning bhte:8: none of 4 launch configurations ran (the default: "
                   "CL_INVALID_WORK_GROUP_SIZE)");
  wb_tune_result_clear (&r);
  free_device (dev);
  remove_temp_cache (dir);
}

static void
test_parse_format (void)
{
  WbTuneChoice c;
  g_autofree char *s = NULL;
  g_autoptr(GError) error = NULL;
  double v[] = { 5, 1, 4, 2, 3 };

  g_assert_true (wb_tune_choice_parse ("zmarch:32x8:64", &c, NULL));
  g_assert_cmpstr (c.variant, ==, "zmarch");
  g_assert_cmpuint (c.local[0], ==, 32);
  g_assert_cmpuint (c.local[1], ==, 8);
  g_assert_cmpuint (c.local[2], ==, 1);
  g_assert_cmpuint (c.param, ==, 64);
  s = wb_tune_choice_format (&c);
  g_assert_cmpstr (s, ==, "zmarch:32x8x1:64");
  g_assert_true (wb_tune_choice_parse ("", &c, NULL));
  g_assert_cmpstr (c.variant, ==, "");
  g_assert_cmpuint (c.local[0], ==, 0);
  g_assert_false (wb_tune_choice_parse ("a:1x2x3x4", &c, &error));
  g_assert_error (error, WB_ERROR, WB_ERROR_INVALID);
  g_clear_error (&error);
  g_assert_false (wb_tune_choice_parse ("a:8x8:-1", &c, NULL));
  g_assert_false (wb_tune_choice_parse ("a:8x8:1:2", &c, NULL));
  g_assert_cmpfloat (wb_tune_median (v, 5), ==, 3);
  g_assert_cmpfloat (wb_tune_median (v, 4), ==, 2.5);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/wavebench/tune/parse-format", test_parse_format);
  g_test_add_func ("/wavebench/tune/measure-then-cache", test_measure_then_cache);
  g_test_add_func ("/wavebench/tune/stale-cache", test_stale_cache);
  g_test_add_func ("/wavebench/tune/policies", test_policies);
  g_test_add_func ("/wavebench/tune/all-fail", test_all_fail);
  return g_test_run ();
}
