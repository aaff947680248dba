/* GUI tests of the migration wizard: the real application in scripted mode
 * (`wavebench --migrate-synthetic|--migrate-segy ... --wizard-set KEY=VALUE
 * --wizard-export-image ... --wizard-screenshot ...`) under a display
 * (xvfb-run in CI).  The values are typed into the wizard's pages, as a user
 * would; the image and fold it writes must equal the engine's migration of
 * the same data with the same values, and the run page must show something. */
#include "config.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <glib/gstdio.h>
#include <gtk/gtk.h>

#include "wb-device.h"
#include "wb-error.h"
#include "wb-npy.h"
#include "wb-pstm.h"
#include "wb-render.h"
#include "wb-segy.h"
#include "wb-synth.h"
#include "wb-test-app.h"

static char *app_path;
static char *tmp;
static const char *opencl_id;

static void
run_app (AppRun *run, const char * const *args)
{
  wb_test_run (run, app_path, args, NULL);
}

static gboolean
has_line (const char *out, const char *prefix)
{
  g_autofree char *needle = g_strconcat ("wavebench: ", prefix, NULL);
  const char *p = out;

  while ((p = strstr (p, needle)) != NULL)
    {
      if (p == out || p[-1] == '\n')
        return TRUE;
      p++;
    }
  return FALSE;
}

/* The values typed into the wizard (beyond its defaults), and the same
 * values for the engine.  Tiles of 5 x 5 columns over a 15 x 15 grid give
 * 9 tiles; the aperture, taper, spreading and the v(t) table differ from
 * the defaults so that a page that dropped one would change the image. */
static const char * const settings[] = {
  "synth-midpoints=15", "synth-offsets=0,300",
  "tile-nx=5", "tile-ny=5",
  "aperture-max=500", "taper=0.2", "spreading=true", "obliquity=false",
  "velocity-table=0:1900,1:2100",
  NULL
};

static void
engine_params (WbPstmParams *p,
               WbPstmInput  *input,
               guint         tile)
{
  g_autoptr(GError) error = NULL;

  wb_pstm_params_init (p);
  g_assert_true (wb_pstm_params_auto_grid (p, input, 0, 0, &error));
  g_assert_no_error (error);
  p->tile_nx = p->tile_ny = tile;
  p->aperture_max = 500;
  p->taper = 0.2;
  p->spreading = TRUE;
  p->obliquity = FALSE;
}

static WbPstmInput *
engine_input (const char *path)
{
  g_autoptr(GError) error = NULL;
  WbSegyLayout layout;
  WbPstmInput *input;

  wb_segy_layout_init (&layout);
  input = wb_pstm_input_new_segy (path, &layout, NULL, NULL, NULL, &error);
  g_assert_no_error (error);
  return input;
}

static WbVelocity *
engine_velocity (void)
{
  const double t[] = { 0, 1 }, v[] = { 1900, 2100 };

  return wb_velocity_new (2, t, v, NULL);
}

/* Migrates @input on @backend with engine_params (); returns the job run. */
static WbPstmJob *
engine_migrate_tiles (WbPstmInput *input,
                      const char  *backend,
                      guint        tile,
                      guint        n_tiles)
{
  g_autoptr(GPtrArray) all = wb_device_list (NULL);
  g_autoptr(GPtrArray) devices = g_ptr_array_new_with_free_func ((GDestroyNotify) wb_device_unref);
  g_autoptr(WbVelocity) velocity = engine_velocity ();
  g_autoptr(GError) error = NULL;
  WbPstmParams p;
  WbPstmJob *job;

  g_ptr_array_add (devices, wb_device_lookup (all, backend, NULL, &error));
  g_assert_no_error (error);
  engine_params (&p, input, tile);
  job = wb_pstm_job_new (input, &p, velocity, devices, NULL, &error);
  g_assert_no_error (error);
  g_assert_true (wb_pstm_job_run (job, NULL, &error));
  g_assert_no_error (error);
  g_assert_cmpuint (wb_pstm_job_n_tiles (job), ==, n_tiles);
  wb_pstm_params_clear (&p);
  return job;
}

static WbPstmJob *
engine_migrate (WbPstmInput *input,
                const char  *backend)
{
  return engine_migrate_tiles (input, backend, 5, 9);
}

/* The GUI and the engine run the same code on the same inputs with the
 * same parameters, so they must agree exactly: any difference means a page
 * passed a value wrongly. */
static void
assert_same_field (const WbField *expected,
                   const char    *npy_path)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(WbNpyArray) a = wb_npy_read (npy_path, &error);
  gsize n = wb_field_n_elements (expected), differ = 0;
  double peak = 0;

  g_assert_no_error (error);
  g_assert_cmpuint (a->ndim, ==, 3);
  for (int k = 0; k < 3; k++)
    g_assert_cmpuint (a->shape[k], ==, expected->shape[k]);
  for (gsize s = 0; s < n; s++)
    {
      differ += a->data[s] != (double) expected->data[s];
      peak = MAX (peak, fabs (expected->data[s]));
    }
  g_test_message ("%s: %" G_GSIZE_FORMAT " samples, %" G_GSIZE_FORMAT " differ, peak %g",
                  npy_path, n, differ, peak);
  g_assert_cmpfloat (peak, >, 0);
  g_assert_cmpuint (differ, ==, 0);
}

/* The run page: not one flat colour, and the image slice (the right half)
 * is not blank either. */
static void
assert_screenshot_shows (const char *path)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(WbImage) image = wb_png_read (path, &error);
  g_autoptr(GHashTable) colours = g_hash_table_new (NULL, NULL);
  double sum = 0, sum2 = 0;
  gsize n = 0, coloured = 0;

  g_assert_no_error (error);
  g_assert_cmpuint (image->width, >=, 600);
  g_assert_cmpuint (image->height, >=, 400);
  for (guint y = 0; y < image->height; y++)
    for (guint x = 0; x < image->width; x++)
      {
        const guint8 *px = image->rgba + 4 * ((gsize) y * image->width + x);
        double l = 0.2126 * px[0] + 0.7152 * px[1] + 0.0722 * px[2];
        guint key = px[0] << 16 | px[1] << 8 | px[2];

        g_hash_table_add (colours, GUINT_TO_POINTER (key));
        sum += l;
        sum2 += l * l;
        n++;
        /* Saturated pixels: the diverging map's blues and reds, the tiles'
         * greens. */
        if (MAX (MAX (px[0], px[1]), px[2]) - MIN (MIN (px[0], px[1]), px[2]) > 80)
          coloured++;
      }
  g_test_message ("%s: %ux%u, %u colours, luminance std %.1f, %" G_GSIZE_FORMAT " saturated pixels",
                  path, image->width, image->height, g_hash_table_size (colours),
                  sqrt (sum2 / n - (sum / n) * (sum / n)), coloured);
  g_assert_cmpuint (g_hash_table_size (colours), >, 50);
  g_assert_cmpfloat (sqrt (sum2 / n - (sum / n) * (sum / n)), >, 10);
  /* Nine green tiles of ~130 x 130 pixels alone are far beyond this. */
  g_assert_cmpuint (coloured, >, 20000);
}

static void
test_synthetic (gconstpointer data)
{
  const char *backend = data;
  const char *tag = g_str_equal (backend, "reference") ? "reference" : "opencl";
  g_autofree char *sgy = g_strdup_printf ("%s/synthetic-%s.sgy", tmp, tag);
  g_autofree char *image_path = g_strdup_printf ("%s/image-%s.npy", tmp, tag);
  g_autofree char *fold_path = g_strdup_printf ("%s/fold-%s.npy", tmp, tag);
  g_autofree char *shot = g_strdup_printf ("%s/run-page-%s.png", tmp, tag);
  g_autoptr(GPtrArray) args = g_ptr_array_new ();
  g_auto(AppRun) run = { 0 };
  g_autoptr(GError) error = NULL;
  g_autoptr(WbPstmInput) input = NULL;
  g_autoptr(WbPstmJob) job = NULL;
  g_autoptr(WbField) image = NULL;
  g_autoptr(WbField) fold = NULL;

  g_ptr_array_add (args, "--migrate-synthetic");
  g_ptr_array_add (args, "--backend");
  g_ptr_array_add (args, (char *) backend);
  for (guint i = 0; settings[i]; i++)
    {
      g_ptr_array_add (args, "--wizard-set");
      g_ptr_array_add (args, (char *) settings[i]);
    }
  g_ptr_array_add (args, "--wizard-save-synthetic");
  g_ptr_array_add (args, sgy);
  g_ptr_array_add (args, "--wizard-export-image");
  g_ptr_array_add (args, image_path);
  g_ptr_array_add (args, "--wizard-export-fold");
  g_ptr_array_add (args, fold_path);
  g_ptr_array_add (args, "--wizard-screenshot");
  g_ptr_array_add (args, shot);
  g_ptr_array_add (args, NULL);
  run_app (&run, (const char * const *) args->pdata);
  g_assert_cmpint (run.status, ==, 0);
  g_assert_true (has_line (run.out, "migrate input synthetic: traces=450 samples=250"));
  g_assert_true (has_line (run.out, "migrate planned tiles=9 devices="));
  g_assert_true (has_line (run.out, "migrate done tiles=9 computed=9 resumed=0"));
  g_assert_true (has_line (run.out, "run page screenshot "));

  /* The same data (as saved by the wizard, read back through SEG-Y, which
   * wb_synth_to_input mirrors) migrated by the engine directly. */
  input = engine_input (sgy);
  g_assert_cmpuint (wb_pstm_input_geometry (input)->n_traces, ==, 15 * 15 * 2);
  job = engine_migrate (input, backend);
  image = wb_pstm_job_get_image (job);
  fold = wb_pstm_job_get_fold (job);
  assert_same_field (image, image_path);
  assert_same_field (fold, fold_path);
  assert_screenshot_shows (shot);
}

/* A SEG-Y file written here, opened by the wizard through its header scan,
 * with the image exported as SEG-Y: one trace per output column. */
static void
test_segy (void)
{
  g_autofree char *sgy = g_strdup_printf ("%s/input.sgy", tmp);
  g_autofree char *image_path = g_strdup_printf ("%s/image.sgy", tmp);
  g_autofree char *vel = g_strdup_printf ("%s/velocity.txt", tmp);
  g_autofree char *vel_setting = g_strdup_printf ("velocity-file=%s", vel);
  const char *args[32] = { "--migrate-segy", sgy, "--backend", "reference" };
  guint n = 4;
  g_auto(AppRun) run = { 0 };
  g_autoptr(GError) error = NULL;
  g_autoptr(WbPstmInput) input = NULL;
  g_autoptr(WbPstmJob) job = NULL;
  g_autoptr(WbField) image = NULL;
  g_autoptr(WbSegyReader) reader = NULL;
  g_autofree float *trace = NULL;
  WbSynthParams sp;
  WbDiffractor d = { 175, 175, 0.5, 1 };
  gsize differ = 0;

  /* 15 x 15 midpoints 25 m apart at UTM-like coordinates, two offsets. */
  wb_synth_params_init (&sp);
  sp.mnx = sp.mny = 15;
  sp.origin_x = 500000;
  sp.origin_y = 6000000;
  g_array_set_size (sp.offsets, 0);
  g_array_append_vals (sp.offsets, (double[]) { 0, 300 }, 2);
  g_array_append_val (sp.diffractors, d);
  g_assert_true (wb_synth_write_segy (&sp, sgy, WB_SEGY_IBM_FLOAT, NULL, NULL, NULL, NULL, &error));
  g_assert_no_error (error);
  wb_synth_params_clear (&sp);

  /* The same v(t) as a file of "t v" lines this time. */
  g_assert_true (g_file_set_contents (vel, "# t v\n0 1900\n1 2100\n", -1, NULL));
  for (guint i = 2; settings[i]; i++)   /* the synthetic data's settings do not apply */
    if (!g_str_has_prefix (settings[i], "velocity-table="))
      {
        args[n++] = "--wizard-set";
        args[n++] = settings[i];
      }
  args[n++] = "--wizard-set";
  args[n++] = vel_setting;
  args[n++] = "--wizard-export-image";
  args[n++] = image_path;
  args[n] = NULL;
  run_app (&run, args);
  g_assert_cmpint (run.status, ==, 0);
  g_assert_true (has_line (run.out, "migrate done tiles=9 computed=9"));

  input = engine_input (sgy);
  job = engine_migrate (input, "reference");
  image = wb_pstm_job_get_image (job);

  reader = wb_segy_reader_open (image_path, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (wb_segy_reader_n_traces (reader), ==, image->shape[0] * image->shape[1]);
  g_assert_cmpuint (wb_segy_reader_n_samples (reader), ==, image->shape[2]);
  trace = g_new (float, image->shape[2]);
  for (gsize j = 0; j < image->shape[1]; j++)
    for (gsize i = 0; i < image->shape[0]; i++)
      {
        guint8 header[240];
        gsize t = i + image->shape[0] * j;

        g_assert_true (wb_segy_reader_header (reader, t, header, &error));
        g_assert_true (wb_segy_reader_trace (reader, t, trace, &error));
        g_assert_no_error (error);
        /* Inline j+1 at 189, crossline i+1 at 193 (wb_segy_write_volume). */
        g_assert_cmpint (wb_segy_get_int (header, 189, 4), ==, (gint32) j + 1);
        g_assert_cmpint (wb_segy_get_int (header, 193, 4), ==, (gint32) i + 1);
        for (gsize k = 0; k < image->shape[2]; k++)
          differ += trace[k] != image->data[wb_field_index (image, i, j, k)];
      }
  /* IEEE floats out and in: exact. */
  g_assert_cmpuint (differ, ==, 0);
}

/* Pause after a few tiles, Cancel while paused, then Resume: the wizard
 * keeps the tiles done, computes only the others, and the image is the one
 * an uninterrupted run gives. */
static void
test_interrupt (void)
{
  g_autofree char *sgy = g_strdup_printf ("%s/synthetic-interrupt.sgy", tmp);
  g_autofree char *image_path = g_strdup_printf ("%s/image-interrupt.npy", tmp);
  g_autofree char *shot = g_strdup_printf ("%s/run-page-interrupt.png", tmp);
  g_autofree char *paused = g_strdup_printf ("%s/run-page-interrupt-paused.png", tmp);
  g_autoptr(GPtrArray) args = g_ptr_array_new ();
  g_auto(AppRun) run = { 0 };
  g_autoptr(WbPstmInput) input = NULL;
  g_autoptr(WbPstmJob) job = NULL;
  g_autoptr(WbField) image = NULL;
  const char *done;
  guint computed = 0;

  g_ptr_array_add (args, "--migrate-synthetic");
  g_ptr_array_add (args, "--backend");
  g_ptr_array_add (args, "reference");
  for (guint i = 0; settings[i]; i++)
    if (!g_str_has_prefix (settings[i], "tile-") && !g_str_has_prefix (settings[i], "synth-midpoints"))
      {
        g_ptr_array_add (args, "--wizard-set");
        g_ptr_array_add (args, (char *) settings[i]);
      }
  /* 49 tiles of 3 x 3 columns over 21 x 21 (about 6 s on the reference
   * backend here): the main loop, sharing two cores with the workers and
   * a software renderer, sees its first progress after 3 or 4 tiles (8
   * when there were 25), and pauses there, so most tiles are left for
   * after the Resume. */
  g_ptr_array_add (args, "--wizard-set");
  g_ptr_array_add (args, "synth-midpoints=21");
  g_ptr_array_add (args, "--wizard-set");
  g_ptr_array_add (args, "tile-nx=3");
  g_ptr_array_add (args, "--wizard-set");
  g_ptr_array_add (args, "tile-ny=3");
  g_ptr_array_add (args, "--wizard-interrupt");
  g_ptr_array_add (args, "2");
  g_ptr_array_add (args, "--wizard-save-synthetic");
  g_ptr_array_add (args, sgy);
  g_ptr_array_add (args, "--wizard-export-image");
  g_ptr_array_add (args, image_path);
  g_ptr_array_add (args, "--wizard-screenshot");
  g_ptr_array_add (args, shot);
  g_ptr_array_add (args, NULL);
  run_app (&run, (const char * const *) args->pdata);
  g_assert_cmpint (run.status, ==, 0);
  g_assert_true (has_line (run.out, "migrate planned tiles=49"));
  {
    /* The live image had taken every tile done by then (events reach the
     * main loop coalesced: it must look at the tile states). */
    const char *pause = strstr (run.out, "wavebench: migrate pause pressed tiles-done=");
    guint tiles_done, tiles_shown;

    g_assert_nonnull (pause);
    g_assert_cmpint (sscanf (pause, "wavebench: migrate pause pressed tiles-done=%u tiles-shown=%u",
                             &tiles_done, &tiles_shown), ==, 2);
    g_assert_cmpuint (tiles_done, >=, 1);
    g_assert_cmpuint (tiles_shown, >=, tiles_done);
  }
  g_assert_true (has_line (run.out, "migrate cancelled tiles-done="));
  g_assert_true (has_line (run.out, "migrate resume pressed"));
  done = strstr (run.out, "wavebench: migrate done tiles=49 computed=");
  g_assert_nonnull (done);
  computed = atoi (done + strlen ("wavebench: migrate done tiles=49 computed="));
  /* The second run computed only the tiles the first left. */
  g_assert_cmpuint (computed, >=, 1);
  g_assert_cmpuint (computed, <, 49);

  input = engine_input (sgy);
  job = engine_migrate_tiles (input, "reference", 3, 49);
  image = wb_pstm_job_get_image (job);
  assert_same_field (image, image_path);
  g_assert_true (g_file_test (paused, G_FILE_TEST_EXISTS));
}

/* Closing the wizard in the middle of a run cancels it; the application
 * waits for the worker, and nothing touches the window after it has gone
 * (the sanitizer build would see it). */
static void
test_close_while_running (void)
{
  g_auto(AppRun) run = { 0 };
  gint64 start = g_get_monotonic_time ();

  run_app (&run, (const char *[]) { "--migrate-synthetic", "--backend", "reference",
                                    "--wizard-set", "synth-midpoints=21",
                                    "--wizard-set", "tile-nx=3", "--wizard-set", "tile-ny=3",
                                    "--wizard-close-after", "1", NULL });
  g_assert_cmpint (run.status, ==, 0);
  g_assert_true (has_line (run.out, "migrate closing tiles-done="));
  g_assert_true (has_line (run.out, "migrate window closed while running: cancelling"));
  g_assert_false (has_line (run.out, "migrate done"));
  /* For the log: the whole run would take about 6 s here. */
  g_test_message ("closed and exited in %.2f s", (g_get_monotonic_time () - start) / 1e6);
}

/* Refusals come back as messages and exit status 2, never a crash. */
static void
test_refusals (void)
{
  g_auto(AppRun) unknown = { 0 };
  g_auto(AppRun) refused = { 0 };
  g_auto(AppRun) lone = { 0 };

  run_app (&unknown, (const char *[]) { "--migrate-synthetic", "--backend", "reference",
                                        "--wizard-set", "aperture-maximum=500", NULL });
  g_assert_cmpint (unknown.status, ==, 2);
  g_assert_nonnull (strstr (unknown.out, "unknown key “aperture-maximum”"));

  /* The spin button clamps a negative radius to 0: the script says so. */
  run_app (&refused, (const char *[]) { "--migrate-synthetic", "--backend", "reference",
                                        "--wizard-set", "aperture-max=-5", NULL });
  g_assert_cmpint (refused.status, ==, 2);
  g_assert_nonnull (strstr (refused.out, "aperture-max: “-5” refused (the row holds 0)"));

  run_app (&lone, (const char *[]) { "--wizard-screenshot", "x.png", NULL });
  g_assert_cmpint (lone.status, ==, 2);
  g_assert_nonnull (strstr (lone.err, "need --migrate-synthetic or --migrate-segy"));
}

int
main (int argc, char **argv)
{
  g_autoptr(GPtrArray) devices = NULL;
  int status;

  g_test_init (&argc, &argv, NULL);

  app_path = wb_test_gui_app ("wb-test-gui-migrate-XXXXXX", &tmp);
  if (app_path == NULL)
    return 77;

  devices = wb_device_list (NULL);
  for (guint d = 0; d < devices->len; d++)
    if (!wb_device_is_reference (devices->pdata[d]))
      {
        opencl_id = ((WbDevice *) devices->pdata[d])->id;
        break;
      }

  g_test_add_data_func ("/wavebench/gui-migrate/synthetic/reference", "reference", test_synthetic);
  if (opencl_id != NULL)
    g_test_add_data_func ("/wavebench/gui-migrate/synthetic/opencl", opencl_id, test_synthetic);
  g_test_add_func ("/wavebench/gui-migrate/segy", test_segy);
  g_test_add_func ("/wavebench/gui-migrate/refusals", test_refusals);
  g_test_add_func ("/wavebench/gui-migrate/interrupt", test_interrupt);
  g_test_add_func ("/wavebench/gui-migrate/close-while-running", test_close_while_running);

  status = g_test_run ();
  if (g_getenv ("WB_KEEP_SCREENSHOTS") == NULL)
    {
      GDir *dir = g_dir_open (tmp, 0, NULL);
      const char *name;

      while (dir && (name = g_dir_read_name (dir)))
        {
          g_autofree char *path = g_build_filename (tmp, name, NULL);
          g_unlink (path);
        }
      if (dir)
        g_dir_close (dir);
      g_rmdir (tmp);
    }
  else
    g_print ("# screenshots kept in %s\n", tmp);
  return status;
}
