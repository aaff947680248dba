/* The vwe solver in the workbench: sensor traces read through the runner
 * (on its worker) equal the engine's; the window shows Sigma_xy by
 * default; its seismogram exports (CSV, .npy) equal wb_sim_read_traces of
 * the same preset, steps and backend, bit for bit; both display modes
 * draw something.  GUI cases run `wavebench` in scripted mode under a
 * display (xvfb-run in CI) and skip without one. */
#include "config.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <glib/gstdio.h>
#include <gtk/gtk.h>

#include "wb-device.h"
#include "wb-error.h"
#include "wb-npy.h"
#include "wb-render.h"
#include "wb-runner.h"
#include "wb-sim.h"
#include "wb-test-app.h"

/* 400 steps of vwe-point-source-2d (dt 0.18 us, a sample every 2 steps)
 * reach 72.7 us: past the P arrivals (about 34 us at the sensor on the x
 * axis) and the S arrivals (about 53 us on the y axis), so the traces are
 * far from zero and a wrong sample shows. */
#define PRESET    "vwe-point-source-2d"
#define RUN_STEPS 400

static char *app_path;
static char *tmp;

/* --- the engine directly ------------------------------------------------ */

static GPtrArray *
engine_traces_run (const char *preset_name, const char *backend, guint steps)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(WbPreset) preset = wb_preset_load (preset_name, &error);
  g_autoptr(GPtrArray) devices = wb_device_list (NULL);
  g_autoptr(WbDevice) device = NULL;
  g_autoptr(WbSim) sim = NULL;
  GPtrArray *traces;

  g_assert_no_error (error);
  device = wb_device_lookup (devices, backend, NULL, &error);
  g_assert_no_error (error);
  sim = wb_sim_new (preset, device, NULL, &error);
  g_assert_no_error (error);
  g_assert_cmpstr (sim->default_field, ==, "Sigma_xy");
  g_assert_true (wb_sim_step (sim, steps, &error));
  g_assert_true (wb_sim_finish (sim, &error));
  traces = wb_sim_read_traces (sim, &error);
  g_assert_no_error (error);
  return traces;
}

static void
assert_traces_equal (GPtrArray *a, GPtrArray *b)
{
  g_assert_cmpuint (a->len, ==, b->len);
  for (guint t = 0; t < a->len; t++)
    {
      WbTrace *ta = g_ptr_array_index (a, t), *tb = g_ptr_array_index (b, t);

      g_assert_cmpstr (ta->name, ==, tb->name);
      g_assert_cmpstr (ta->units, ==, tb->units);
      g_assert_cmpuint (ta->n, ==, tb->n);
      g_assert_cmpfloat (ta->dt, ==, tb->dt);
      /* Same kernels (or the same reference code), same steps: the same
       * floats, whatever the chunking of the steps. */
      g_assert_cmpmem (ta->values, ta->n * sizeof (float), tb->values, tb->n * sizeof (float));
    }
}

/* Each backend's run once per test binary (both cases compare with it). */
static GHashTable *engine_cache;

static GPtrArray *
engine_traces (const char *preset_name, const char *backend, guint steps)
{
  g_autofree char *key = g_strdup_printf ("%s/%s/%u", preset_name, backend, steps);
  GPtrArray *traces = g_hash_table_lookup (engine_cache, key);

  if (traces == NULL)
    {
      traces = engine_traces_run (preset_name, backend, steps);
      g_hash_table_insert (engine_cache, g_steal_pointer (&key), traces);
    }
  return g_ptr_array_ref (traces);
}

/* --- the runner: traces read on the worker --------------------------------- */

static void
got_traces (GObject *source, GAsyncResult *result, gpointer data)
{
  GPtrArray **out = data;
  g_autoptr(GError) error = NULL;

  *out = wb_runner_read_traces_finish (WB_RUNNER (source), result, &error);
  g_assert_no_error (error);
}

static void
test_runner_traces (gconstpointer data)
{
  const char *backend = data;
  g_autoptr(GError) error = NULL;
  g_autoptr(WbPreset) preset = wb_preset_load (PRESET, &error);
  g_autoptr(GPtrArray) devices = wb_device_list (NULL);
  g_autoptr(WbDevice) device = NULL;
  g_autoptr(WbRunner) runner = wb_runner_new ();
  g_autoptr(GPtrArray) first = NULL;
  g_autoptr(GPtrArray) traces = NULL;
  g_autoptr(GPtrArray) expected = NULL;
  gint64 deadline = g_get_monotonic_time () + 60 * G_USEC_PER_SEC;

  g_assert_no_error (error);
  device = wb_device_lookup (devices, backend, NULL, &error);
  g_assert_no_error (error);

  /* Right after loading: one sample (t = 0) of every channel, all zero. */
  wb_runner_load (runner, preset, device, NULL);
  while (wb_runner_get_info (runner) == NULL && g_get_monotonic_time () < deadline)
    g_main_context_iteration (NULL, TRUE);
  g_assert_nonnull (wb_runner_get_info (runner));
  g_assert_cmpstr (wb_runner_get_info (runner)->default_field, ==, "Sigma_xy");
  wb_runner_read_traces_async (runner, NULL, got_traces, &first);
  while (first == NULL && g_get_monotonic_time () < deadline)
    g_main_context_iteration (NULL, TRUE);
  g_assert_nonnull (first);
  g_assert_cmpuint (first->len, ==, 12);    /* 3 points x 4 quantities */
  for (guint t = 0; t < first->len; t++)
    {
      WbTrace *tr = g_ptr_array_index (first, t);

      g_assert_cmpuint (tr->n, ==, 1);
      g_assert_cmpfloat (tr->values[0], ==, 0);
    }

  /* The worker answers reads between chunks of steps, so a read queued
   * during the steps sees some of them: wait for all, then read. */
  wb_runner_step (runner, RUN_STEPS);
  while ((wb_runner_get_step (runner) < RUN_STEPS || wb_runner_get_state (runner) != WB_RUNNER_IDLE)
         && g_get_monotonic_time () < deadline)
    g_main_context_iteration (NULL, TRUE);
  g_assert_cmpuint (wb_runner_get_step (runner), ==, RUN_STEPS);
  wb_runner_read_traces_async (runner, NULL, got_traces, &traces);
  while (traces == NULL && g_get_monotonic_time () < deadline)
    g_main_context_iteration (NULL, TRUE);
  g_assert_nonnull (traces);

  expected = engine_traces (PRESET, backend, RUN_STEPS);
  g_assert_cmpuint (((WbTrace *) g_ptr_array_index (expected, 0))->n, ==, RUN_STEPS / 2 + 1);
  assert_traces_equal (traces, expected);
  wb_runner_cancel (runner);
}

/* --- the window in scripted mode ------------------------------------------- */

static void
run_argv (AppRun *run, const char *program, const char * const *args)
{
  wb_test_run (run, program, args, NULL);
}

/* The line of @out starting with "wavebench: @prefix", or NULL. */
static const char *
find_line (const char *out, const char *prefix)
{
  g_autofree char *needle = g_strconcat ("wavebench: ", prefix, NULL);
  const char *p = out;

  while ((p = strstr (p, needle)) != NULL)
    {
      if (p == out || p[-1] == '\n')
        return p;
      p++;
    }
  return NULL;
}

/* Parses the CSV the seismogram wrote into traces (names with units in
 * brackets, as `wavebench-cli run --csv` writes them). */
static GPtrArray *
parse_csv (const char *path, double *dt_out)
{
  g_autofree char *text = NULL;
  g_autoptr(GError) error = NULL;
  g_auto(GStrv) lines = NULL;
  g_auto(GStrv) header = NULL;
  GPtrArray *traces = g_ptr_array_new_with_free_func ((GDestroyNotify) wb_trace_free);
  guint rows = 0;

  g_assert_true (g_file_get_contents (path, &text, NULL, &error));
  g_assert_no_error (error);
  lines = g_strsplit (text, "\n", -1);
  header = g_strsplit (lines[0], ",", -1);
  g_assert_cmpstr (header[0], ==, "time_s");
  for (guint i = 1; lines[i] && *lines[i]; i++)
    rows++;
  for (guint c = 1; header[c]; c++)
    {
      WbTrace *tr = g_new0 (WbTrace, 1);
      const char *bracket = strstr (header[c], " [");

      g_assert_nonnull (bracket);
      tr->name = g_strndup (header[c], bracket - header[c]);
      tr->units = g_strndup (bracket + 2, strlen (bracket + 2) - 1);
      tr->n = rows;
      tr->values = g_new (float, rows);
      g_ptr_array_add (traces, tr);
    }
  for (guint r = 0; r < rows; r++)
    {
      g_auto(GStrv) cells = g_strsplit (lines[r + 1], ",", -1);

      g_assert_cmpuint (g_strv_length (cells), ==, traces->len + 1);
      if (r == 1)
        *dt_out = g_ascii_strtod (cells[0], NULL);
      for (guint c = 0; c < traces->len; c++)
        /* %.9g round-trips a float32 exactly. */
        ((WbTrace *) g_ptr_array_index (traces, c))->values[r] = (float) g_ascii_strtod (cells[c + 1], NULL);
    }
  return traces;
}

/* Pixels of the trace area (below the toolbar) that are strongly red,
 * strongly blue, or dark. */
static void
count_pixels (const WbImage *image, guint *red, guint *blue, guint *dark)
{
  *red = *blue = *dark = 0;
  for (guint y = 60; y < image->height; y++)
    for (guint x = 0; x < image->width; x++)
      {
        const guint8 *p = image->rgba + 4 * ((gsize) y * image->width + x);

        if (p[0] > p[2] + 80 && p[0] > p[1] + 60)
          (*red)++;
        else if (p[2] > p[0] + 80)
          (*blue)++;
        else if (p[0] < 80 && p[1] < 80 && p[2] < 80)
          (*dark)++;
      }
}

static WbImage *
check_screenshot (const char *out, const char *path, const char *mode, const char *time)
{
  g_autofree char *prefix = g_strdup_printf ("seismogram screenshot %s ", path);
  const char *line = find_line (out, prefix);
  g_autoptr(GError) error = NULL;
  g_autofree char *want_mode = g_strdup_printf (" mode=%s time=%s traces=3\n", mode, time);
  WbImage *image;
  guint w = 0, h = 0;

  g_assert_nonnull (line);
  g_assert_true (g_str_has_prefix (strstr (line, " mode="), want_mode));
  g_assert_cmpint (sscanf (line + strlen ("wavebench: ") + strlen (prefix), "%ux%u", &w, &h), ==, 2);
  image = wb_png_read (path, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (image->width, ==, w);
  g_assert_cmpuint (image->height, ==, h);
  g_assert_cmpuint (w, >=, 300);
  g_assert_cmpuint (h, >=, 100);
  return image;
}

static void
test_gui_seismogram (gconstpointer data)
{
  const char *backend = data;
  g_autofree char *tag = g_strdelimit (g_strdup (backend), ":", '-');
  g_autofree char *preset_path = g_strdup_printf ("%s/%s-nodisplay.json", tmp, PRESET);
  g_autofree char *csv = g_strdup_printf ("%s/traces-%s.csv", tmp, tag);
  g_autofree char *npy = g_strdup_printf ("%s/traces-%s.npy", tmp, tag);
  g_autofree char *cli_csv = g_strdup_printf ("%s/cli-%s.csv", tmp, tag);
  g_autofree char *wiggle = g_strdup_printf ("%s/seismogram-wiggle-%s.png", tmp, tag);
  g_autofree char *image_png = g_strdup_printf ("%s/seismogram-image-%s.png", tmp, tag);
  g_autofree char *wiggle_down = g_strdup_printf ("%s/seismogram-wiggle-down-%s.png", tmp, tag);
  g_autofree char *image_down = g_strdup_printf ("%s/seismogram-image-down-%s.png", tmp, tag);
  g_autofree char *wiggle_arg = g_strdup_printf ("wiggle:%s", wiggle);
  g_autofree char *image_arg = g_strdup_printf ("image:%s", image_png);
  g_autofree char *wiggle_down_arg = g_strdup_printf ("wiggle-down:%s", wiggle_down);
  g_autofree char *image_down_arg = g_strdup_printf ("image-down:%s", image_down);
  g_autofree char *steps = g_strdup_printf ("%d", RUN_STEPS);
  const char *args[] = { "--preset", preset_path, "--backend", backend, "--run-steps", steps,
                         "--readout", "center",
                         "--export-seismogram", csv, "--export-seismogram", npy,
                         "--seismogram-screenshot", wiggle_arg, "--seismogram-screenshot", image_arg,
                         "--seismogram-screenshot", wiggle_down_arg, "--seismogram-screenshot", image_down_arg,
                         NULL };
  g_auto(AppRun) run = { 0 };
  g_autoptr(GError) error = NULL;
  g_autoptr(WbPreset) preset = NULL;
  g_autoptr(GPtrArray) expected = NULL;
  g_autoptr(GPtrArray) from_csv = NULL;
  g_autoptr(WbNpyArray) array = NULL;
  g_autoptr(WbImage) wimg = NULL;
  g_autoptr(WbImage) iimg = NULL;
  const char *line;
  double dt = 0;
  guint n, red, blue, dark;

  /* The preset without its display section: the window must show
   * Sigma_xy because the solver says so, not because the preset does. */
  preset = wb_preset_load (PRESET, &error);
  g_assert_no_error (error);
  g_assert_nonnull (wb_preset_lookup (preset, "display"));
  json_object_remove_member (json_node_get_object (preset->root), "display");
  g_assert_true (wb_preset_save (preset, preset_path, &error));
  g_assert_no_error (error);

  run_argv (&run, app_path, args);
  g_assert_cmpint (run.status, ==, 0);
  g_assert_null (find_line (run.out, "error shown"));
  g_assert_null (find_line (run.out, "seismogram export failed"));
  g_assert_null (find_line (run.out, "seismogram screenshot failed"));
  line = find_line (run.out, "readout ");
  g_assert_nonnull (line);
  g_assert_nonnull (strstr (line, " field=Sigma_xy "));
  g_assert_nonnull (strstr (line, " colormap=diverging "));
  g_assert_nonnull (find_line (run.out, "seismogram read 12 traces of 201 samples\n"));
  g_assert_nonnull (find_line (run.out, "done step=400 "));
  /* The page was shown during the steps: its live reads (on the runner's
   * worker, at most ten a second) brought new samples.  The reference
   * backend takes seconds for the steps, so several; OpenCL may finish
   * before the first. */
  line = find_line (run.out, "seismogram live reads ");
  g_assert_nonnull (line);
  g_test_message ("%.*s", (int) strcspn (line, "\n"), line);
  if (g_str_equal (backend, "reference"))
    g_assert_cmpint (atoi (line + strlen ("wavebench: seismogram live reads ")), >=, 2);

  expected = engine_traces (PRESET, backend, RUN_STEPS);
  n = ((WbTrace *) g_ptr_array_index (expected, 0))->n;
  g_assert_cmpuint (n, ==, RUN_STEPS / 2 + 1);

  /* CSV: every channel, every sample, exactly. */
  {
    g_autofree char *prefix = g_strdup_printf ("seismogram exported %s\n", csv);
    g_assert_nonnull (find_line (run.out, prefix));
  }
  from_csv = parse_csv (csv, &dt);
  for (guint t = 0; t < from_csv->len; t++)
    ((WbTrace *) g_ptr_array_index (from_csv, t))->dt = ((WbTrace *) g_ptr_array_index (expected, t))->dt;
  assert_traces_equal (from_csv, expected);
  g_assert_cmpfloat_with_epsilon (dt, ((WbTrace *) g_ptr_array_index (expected, 0))->dt, 1e-9 * dt);

  /* .npy: (traces, samples) float32, exactly. */
  {
    g_autofree char *prefix = g_strdup_printf ("seismogram exported %s\n", npy);
    g_assert_nonnull (find_line (run.out, prefix));
  }
  array = wb_npy_read (npy, &error);
  g_assert_no_error (error);
  g_assert_cmpstr (array->dtype, ==, "<f4");
  g_assert_cmpuint (array->ndim, ==, 2);
  g_assert_cmpuint (array->shape[0], ==, expected->len);
  g_assert_cmpuint (array->shape[1], ==, n);
  for (guint t = 0; t < expected->len; t++)
    for (guint s = 0; s < n; s++)
      /* Our layout: the first index fastest. */
      g_assert_cmpfloat ((float) array->data[t + expected->len * s], ==,
                         ((WbTrace *) g_ptr_array_index (expected, t))->values[s]);

  /* And the same file as the command line's `run --csv`, byte for byte. */
  if (g_getenv ("WAVEBENCH_CLI") != NULL)
    {
      const char *cli_args[] = { "run", preset_path, "--backend", backend, "--steps", steps,
                                 "--csv", cli_csv, "--quiet", NULL };
      g_auto(AppRun) cli = { 0 };
      g_autofree char *a = NULL, *b = NULL;

      run_argv (&cli, g_getenv ("WAVEBENCH_CLI"), cli_args);
      g_assert_cmpint (cli.status, ==, 0);
      g_assert_true (g_file_get_contents (csv, &a, NULL, NULL));
      g_assert_true (g_file_get_contents (cli_csv, &b, NULL, NULL));
      g_assert_cmpstr (a, ==, b);
    }

  /* Screenshots: wiggles are dark strokes and fills on the light panel;
   * the image shows both signs of the diverging map.  Each mode's look is
   * missing from the other. */
  for (guint down = 0; down < 2; down++)
    {
      wimg = check_screenshot (run.out, down ? wiggle_down : wiggle, "wiggle", down ? "down" : "across");
      iimg = check_screenshot (run.out, down ? image_down : image_png, "image", down ? "down" : "across");
      count_pixels (wimg, &red, &blue, &dark);
      g_test_message ("wiggle, time %s: %u red, %u blue, %u dark pixels", down ? "down" : "across",
                      red, blue, dark);
      g_assert_cmpuint (dark, >, 1000);
      g_assert_cmpuint (red + blue, <, 50);
      count_pixels (iimg, &red, &blue, &dark);
      g_test_message ("image, time %s: %u red, %u blue, %u dark pixels", down ? "down" : "across",
                      red, blue, dark);
      g_assert_cmpuint (red, >, 300);
      g_assert_cmpuint (blue, >, 300);
      g_clear_pointer (&wimg, wb_image_free);
      g_clear_pointer (&iimg, wb_image_free);
    }
}

/* A solver without sensors: nothing to export, said plainly, and the
 * window carries on. */
static void
test_gui_no_sensors (void)
{
  g_autofree char *npy = g_build_filename (tmp, "none.npy", NULL);
  const char *args[] = { "--preset", "bhte-gaussian", "--backend", "reference", "--run-steps", "2",
                         "--export-seismogram", npy, NULL };
  g_auto(AppRun) run = { 0 };

  run_argv (&run, app_path, args);
  g_assert_cmpint (run.status, ==, 0);
  g_assert_nonnull (find_line (run.out, "seismogram read 0 traces of 0 samples\n"));
  g_assert_nonnull (find_line (run.out, "seismogram export failed: The simulation has no sensor traces\n"));
  g_assert_false (g_file_test (npy, G_FILE_TEST_EXISTS));
  g_assert_nonnull (find_line (run.out, "done step=2 "));
}

int
main (int argc, char **argv)
{
  g_autoptr(GPtrArray) devices = NULL;
  const char *opencl = NULL;
  gboolean display;
  int status;

  g_test_init (&argc, &argv, NULL);
  engine_cache = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, (GDestroyNotify) g_ptr_array_unref);

  devices = wb_device_list (NULL);
  for (guint d = 0; d < devices->len && opencl == NULL; d++)
    {
      WbDevice *dev = g_ptr_array_index (devices, d);

      if (g_str_has_prefix (dev->id, "opencl:"))
        opencl = dev->id;
    }

  g_test_add_data_func ("/wavebench/gui-vwe/runner-traces/reference", "reference", test_runner_traces);
  if (opencl != NULL)
    g_test_add_data_func ("/wavebench/gui-vwe/runner-traces/opencl", opencl, test_runner_traces);

  app_path = g_strdup (g_getenv ("WAVEBENCH_APP"));
  if (app_path == NULL)
    app_path = g_build_filename (WB_BUILD_DIR, "src", "app", "wavebench", NULL);
  /* GUI cases only where a display can be opened; xvfb-run gives one in CI. */
  display = (g_getenv ("DISPLAY") != NULL || g_getenv ("WAYLAND_DISPLAY") != NULL) && gtk_init_check ()
            && g_file_test (app_path, G_FILE_TEST_IS_EXECUTABLE);
  tmp = g_dir_make_tmp ("wb-test-gui-vwe-XXXXXX", NULL);
  if (display)
    {
      g_test_add_data_func ("/wavebench/gui-vwe/seismogram/reference", "reference", test_gui_seismogram);
      if (opencl != NULL)
        g_test_add_data_func ("/wavebench/gui-vwe/seismogram/opencl", opencl, test_gui_seismogram);
      g_test_add_func ("/wavebench/gui-vwe/no-sensors", test_gui_no_sensors);
    }
  else
    g_test_message ("no display: GUI cases skipped (run under xvfb-run)");

  status = g_test_run ();
  if (g_getenv ("WB_KEEP_SCREENSHOTS") == NULL)
    {
      g_autoptr(GDir) dir = g_dir_open (tmp, 0, NULL);
      const char *name;

      while (dir && (name = g_dir_read_name (dir)) != NULL)
        {
          g_autofree char *path = g_build_filename (tmp, name, NULL);
          g_unlink (path);
        }
      g_rmdir (tmp);
    }
  else
    g_print ("# screenshots kept in %s\n", tmp);
  g_free (app_path);
  g_free (tmp);
  g_hash_table_unref (engine_cache);
  return status;
}
