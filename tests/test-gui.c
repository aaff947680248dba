/* GUI tests: the real application in scripted mode under a display
 * (xvfb-run in CI).  Each case runs `wavebench --preset P --backend B
 * --run-steps N --screenshot PATH --readout ...`, reads what it printed and
 * the PNG it wrote, and checks them against the engine run directly. */
#include "config.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <glib/gstdio.h>
#include <gtk/gtk.h>

#include "wb-colormap.h"
#include "wb-device.h"
#include "wb-error.h"
#include "wb-npy.h"
#include "wb-render.h"
#include "wb-sim.h"
#include "wb-test-app.h"

#define RUN_STEPS 8

static char *app_path;
static char *tmp;

static void
run_app_env (AppRun *run, const char * const *args, const char * const *extra_env)
{
  wb_test_run (run, app_path, args, extra_env);
}

static void
run_app (AppRun *run, const char * const *args)
{
  wb_test_run (run, app_path, args, NULL);
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

/* "key=value" from a readout line (value up to the next space). */
static char *
field_of (const char *line, const char *key)
{
  g_autofree char *needle = g_strconcat (" ", key, "=", NULL);
  const char *p = strstr (line, needle);
  const char *end;

  if (p == NULL)
    return NULL;
  p += strlen (needle);
  end = strpbrk (p, " \n");
  return end ? g_strndup (p, end - p) : g_strdup (p);
}

static double
num_of (const char *line, const char *key)
{
  g_autofree char *v = field_of (line, key);

  g_assert_nonnull (v);
  return g_ascii_strtod (v, NULL);
}

typedef struct
{
  char *preset;
  char *backend;
  char *field;              /* NULL: the preset's display field */
} Case;

static void
case_free (gpointer data)
{
  Case *c = data;

  g_free (c->preset);
  g_free (c->backend);
  g_free (c->field);
  g_free (c);
}

/* Is the colour one of the colormap's entries at index (t * 255) rounded,
 * or a neighbour?  The shader computes t in float and the test in double,
 * so a value on a rounding boundary may land one entry over. */
static gboolean
colour_matches (WbColormap cmap, double t, const guint8 *rgb)
{
  const guint8 *table = wb_colormap_table (cmap);
  int index;

  if (isnan (t))
    return rgb[0] == 255 && rgb[1] == 0 && rgb[2] == 255;
  t = CLAMP (t, 0, 1);
  index = (int) floor (t * 255 + 0.5);
  for (int d = -1; d <= 1; d++)
    {
      int i = CLAMP (index + d, 0, 255);
      if (memcmp (table + 3 * i, rgb, 3) == 0)
        return TRUE;
    }
  return FALSE;
}

static void
test_gui_preset (gconstpointer data)
{
  const Case *c = data;
  g_autofree char *backend = g_strdelimit (g_strdup (c->backend), ":", '-');
  g_autofree char *shot = g_strdup_printf ("%s/%s-%s.png", tmp, c->preset, backend);
  g_autofree char *steps = g_strdup_printf ("%d", RUN_STEPS);
  /* Wave presets show Sigma_xy by default, which is still zero everywhere
   * a few steps in (shear appears only where the wave meets an interface):
   * look at the pressure, non-zero from the first steps. */
  const char *args[] = { "--preset", c->preset, "--backend", c->backend, "--run-steps", steps,
                         "--screenshot", shot, "--readout", "center", "--readout", "250,120",
                         c->field ? "--field" : NULL, c->field, NULL };
  g_auto(AppRun) run = { 0 };
  g_autoptr(WbImage) image = NULL;
  g_autoptr(GError) error = NULL;
  g_autoptr(WbPreset) preset = NULL;
  g_autoptr(GPtrArray) devices = NULL;
  g_autoptr(WbDevice) device = NULL;
  g_autoptr(WbSim) sim = NULL;
  g_autoptr(GHashTable) colours = g_hash_table_new (NULL, NULL);
  const char *line;
  guint w = 0, h = 0, n_readouts = 0;

  run_app (&run, args);
  g_assert_cmpint (run.status, ==, 0);
  g_assert_null (find_line (run.out, "error shown"));
  g_assert_nonnull (find_line (run.out, "loaded"));

  /* The screenshot: as reported, at least the view's minimum size. */
  line = find_line (run.out, "screenshot ");
  g_assert_nonnull (line);
  {
    g_autofree char *text = g_strndup (line, strcspn (line, "\n"));
    g_assert_cmpint (sscanf (strrchr (text, ' ') + 1, "%ux%u", &w, &h), ==, 2);
  }
  image = wb_png_read (shot, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (image->width, ==, w);
  g_assert_cmpuint (image->height, ==, h);
  g_assert_cmpuint (w, >=, 400);
  g_assert_cmpuint (h, >=, 200);

  /* The engine, directly, on the same backend for the same steps. */
  preset = wb_preset_load (c->preset, &error);
  g_assert_no_error (error);
  devices = wb_device_list (NULL);
  device = wb_device_lookup (devices, c->backend, NULL, &error);
  g_assert_no_error (error);
  sim = wb_sim_new (preset, device, NULL, &error);
  g_assert_no_error (error);
  g_assert_true (wb_sim_step (sim, RUN_STEPS, &error));
  g_assert_true (wb_sim_finish (sim, &error));

  for (const char *p = run.out; (p = strstr (p, "wavebench: readout ")) != NULL; p++)
    {
      g_autofree char *field_name = field_of (p, "field");
      g_autofree char *cmap_name = field_of (p, "colormap");
      g_autoptr(WbField) field = NULL;
      WbColormap cmap;
      gsize i = num_of (p, "i"), j = num_of (p, "j"), k = num_of (p, "k");
      double value = num_of (p, "value"), vmin = num_of (p, "vmin"), vmax = num_of (p, "vmax");
      guint cx = (guint) floor (num_of (p, "cell-x")), cy = (guint) floor (num_of (p, "cell-y"));
      float engine;
      const guint8 *px;

      g_assert_cmpuint (num_of (p, "step"), ==, RUN_STEPS);
      field = wb_sim_read_field (sim, field_name, &error);
      g_assert_no_error (error);
      engine = field->data[wb_field_index (field, i, j, k)];
      /* Same backend, same kernels, same step count: the value the window
       * shows is bit for bit the engine's (printed with %.9g, which
       * round-trips a float). */
      g_assert_cmpfloat ((float) value, ==, engine);

      /* And the screen shows that value's colour at the cell's centre. */
      g_assert_true (wb_colormap_from_string (cmap_name, &cmap));
      g_assert_cmpuint (cx, <, w);
      g_assert_cmpuint (cy, <, h);
      px = image->rgba + 4 * ((gsize) cy * w + cx);
      if (!colour_matches (cmap, vmax > vmin ? (value - vmin) / (vmax - vmin) : 0.5, px))
        g_error ("pixel (%u, %u) is #%02x%02x%02x, not the %s colour of %g in [%g, %g]",
                 cx, cy, px[0], px[1], px[2], cmap_name, value, vmin, vmax);
      n_readouts++;
    }
  g_assert_cmpuint (n_readouts, ==, 2);

  /* The field area is not uniform: count the distinct colours left of the
   * colorbar (the rightmost 100 pixels), leaving out the view's background
   * (glClearColor 0.13, 0.13, 0.15). */
  for (guint y = 0; y < h; y++)
    for (guint x = 0; x + 100 < w; x++)
      {
        const guint8 *px = image->rgba + 4 * ((gsize) y * w + x);
        guint key = (px[0] << 16) | (px[1] << 8) | px[2];

        if (abs (px[0] - 33) <= 1 && abs (px[1] - 33) <= 1 && abs (px[2] - 38) <= 1)
          continue;
        g_hash_table_add (colours, GUINT_TO_POINTER (key));
      }
  g_test_message ("%s on %s: %u colours in the field area", c->preset, c->backend,
                  g_hash_table_size (colours));
  /* A uniform field would give one colour; the smoothest preset here
   * (uniform source, heated evenly inside fixed-temperature walls) gives a
   * handful after a few steps, the others dozens. */
  if (wb_preset_lookup (preset, "debug.variant") != NULL && !g_str_equal (c->backend, "reference"))
    /* Teaching presets launch a deliberately broken kernel on OpenCL: the
     * field may stay at its initial value, which is the lesson. */
    g_test_message ("%s: broken launch by design, uniformity not required", c->preset);
  else
    g_assert_cmpuint (g_hash_table_size (colours), >=, 3);
}

/* A preset that fails validation: the window shows the engine's message,
 * stays up (it still draws and answers the scripted capture) and exits
 * cleanly. */
static void
test_gui_invalid_preset (void)
{
  g_autofree char *path = g_build_filename (tmp, "unstable.json", NULL);
  g_autofree char *shot = g_build_filename (tmp, "unstable-window.png", NULL);
  const char *args[] = { "--preset", path, "--backend", "reference", "--run-steps", "5",
                         "--window-screenshot", shot, NULL };
  g_auto(AppRun) run = { 0 };
  g_autoptr(WbPreset) preset = NULL;
  g_autoptr(GError) error = NULL;
  g_autoptr(GError) expected = NULL;
  g_autofree char *want = NULL;
  g_autoptr(WbImage) image = NULL;
  const char *line;

  preset = wb_preset_load ("bhte-gaussian", &error);
  g_assert_no_error (error);
  g_assert_true (wb_preset_set (preset, "time.dt=1000", &error));
  g_assert_true (wb_preset_save (preset, path, &error));
  g_assert_false (wb_sim_validate (preset, &expected));
  g_assert_nonnull (expected);

  run_app (&run, args);
  g_assert_cmpint (run.status, ==, 0);
  line = find_line (run.out, "error shown: ");
  g_assert_nonnull (line);
  want = g_strdup_printf (": %s\n", expected->message);
  g_assert_nonnull (strstr (line, want));
  g_assert_nonnull (strstr (line, "unstable"));
  g_assert_nonnull (find_line (run.out, "done step=0"));
  image = wb_png_read (shot, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (image->width, >=, 800);
}

/* Typing an invalid value into the parameter panel is refused with the
 * engine's message and the run goes on; a valid one is accepted. */
static void
test_gui_param_panel (void)
{
  const char *args[] = { "--preset", "bhte-gaussian", "--backend", "reference", "--run-steps", "3",
                         "--type", "time.dt=1000", "--type", "grid.spacing=-1",
                         "--type", "time.steps=50", NULL };
  g_auto(AppRun) run = { 0 };
  g_autoptr(WbPreset) preset = NULL;
  g_autoptr(GError) error = NULL;
  g_autoptr(GError) dt_error = NULL;
  g_autoptr(GError) h_error = NULL;
  g_autoptr(WbPreset) a = NULL;
  g_autoptr(WbPreset) b = NULL;
  g_autofree char *want_dt = NULL;
  g_autofree char *want_h = NULL;

  preset = wb_preset_load ("bhte-gaussian", &error);
  g_assert_no_error (error);
  a = wb_preset_copy (preset);
  g_assert_true (wb_preset_set (a, "time.dt=1000", &error));
  g_assert_false (wb_sim_validate (a, &dt_error));
  b = wb_preset_copy (preset);
  if (!wb_preset_set (b, "grid.spacing=-1", &h_error))
    g_assert_nonnull (h_error);
  else
    g_assert_false (wb_sim_validate (b, &h_error));

  run_app (&run, args);
  g_assert_cmpint (run.status, ==, 0);
  want_dt = g_strdup_printf ("wavebench: param time.dt: refused: %s\n", dt_error->message);
  want_h = g_strdup_printf ("wavebench: param grid.spacing: refused: %s\n", h_error->message);
  g_assert_nonnull (strstr (run.out, want_dt));
  g_assert_nonnull (strstr (run.out, want_h));
  g_assert_nonnull (strstr (run.out, "wavebench: param time.steps: accepted\n"));
  /* The run was not lost. */
  g_assert_nonnull (find_line (run.out, "done step=3 "));
  g_assert_null (find_line (run.out, "error shown"));
}

/* Probes and exports: a probe's last CSV row and an exported .npy hold the
 * engine's own values at the final step. */
static void
test_gui_probes_export (void)
{
  g_autofree char *csv_path = g_build_filename (tmp, "probes.csv", NULL);
  g_autofree char *npy_path = g_build_filename (tmp, "T.npy", NULL);
  g_autofree char *export_arg = g_strconcat ("T:", npy_path, NULL);
  const char *args[] = { "--preset", "bhte-gaussian", "--backend", "reference", "--run-steps", "10",
                         "--probe", "24,24,24", "--probe", "20,26,24", "--export-csv", csv_path,
                         "--export-field", export_arg, NULL };
  g_auto(AppRun) run = { 0 };
  g_autoptr(GError) error = NULL;
  g_autoptr(WbPreset) preset = NULL;
  g_autoptr(GPtrArray) devices = NULL;
  g_autoptr(WbDevice) device = NULL;
  g_autoptr(WbSim) sim = NULL;
  g_autoptr(WbField) T = NULL;
  g_autoptr(WbField) dose = NULL;
  g_autoptr(WbNpyArray) npy = NULL;
  g_autofree char *csv = NULL;
  g_auto(GStrv) lines = NULL;
  g_auto(GStrv) header = NULL;
  g_auto(GStrv) last = NULL;
  guint n_lines;
  const gsize cells[2][3] = { { 24, 24, 24 }, { 20, 26, 24 } };

  run_app (&run, args);
  g_assert_cmpint (run.status, ==, 0);
  g_assert_nonnull (find_line (run.out, "exported probes "));
  g_assert_nonnull (find_line (run.out, "exported T "));

  preset = wb_preset_load ("bhte-gaussian", &error);
  g_assert_no_error (error);
  devices = wb_device_list (NULL);
  device = wb_device_lookup (devices, "reference", NULL, &error);
  g_assert_no_error (error);
  sim = wb_sim_new (preset, device, NULL, &error);
  g_assert_no_error (error);
  g_assert_true (wb_sim_step (sim, 10, &error));
  T = wb_sim_read_field (sim, "T", &error);
  g_assert_no_error (error);
  dose = wb_sim_read_field (sim, "dose", &error);
  g_assert_no_error (error);

  g_assert_true (g_file_get_contents (csv_path, &csv, NULL, &error));
  lines = g_strsplit (g_strstrip (csv), "\n", -1);
  n_lines = g_strv_length (lines);
  g_assert_cmpuint (n_lines, >=, 2);
  header = g_strsplit (lines[0], ",", -1);
  g_assert_cmpuint (g_strv_length (header), ==, 5);
  g_assert_cmpstr (header[0], ==, "time_s");
  g_assert_true (g_str_has_prefix (header[1], "P1 T ["));
  g_assert_true (g_str_has_suffix (header[1], "(i=24 j=24 k=24)"));
  g_assert_true (g_str_has_prefix (header[4], "P2 dose ["));
  last = g_strsplit (lines[n_lines - 1], ",", -1);
  g_assert_cmpfloat_with_epsilon (g_ascii_strtod (last[0], NULL), 10 * sim->dt, 1e-9);
  for (guint p = 0; p < 2; p++)
    {
      gsize idx = wb_field_index (T, cells[p][0], cells[p][1], cells[p][2]);

      /* %.9g round-trips float32 exactly. */
      g_assert_cmpfloat ((float) g_ascii_strtod (last[1 + 2 * p], NULL), ==, T->data[idx]);
      g_assert_cmpfloat ((float) g_ascii_strtod (last[2 + 2 * p], NULL), ==, dose->data[idx]);
    }
  /* Samples are in time order and the temperature at the centre of the
   * cooling Gaussian falls. */
  {
    g_auto(GStrv) first = g_strsplit (lines[1], ",", -1);
    g_assert_cmpfloat (g_ascii_strtod (first[0], NULL), <, g_ascii_strtod (last[0], NULL));
    g_assert_cmpfloat (g_ascii_strtod (first[1], NULL), >, g_ascii_strtod (last[1], NULL));
  }

  npy = wb_npy_read (npy_path, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (npy->shape[0], ==, T->shape[0]);
  g_assert_cmpuint (npy->shape[1], ==, T->shape[1]);
  g_assert_cmpuint (npy->shape[2], ==, T->shape[2]);
  for (gsize i = 0; i < wb_field_n_elements (T); i++)
    if ((float) npy->data[i] != T->data[i])
      g_error ("T.npy[%" G_GSIZE_FORMAT "] = %g, engine %g", i, npy->data[i], T->data[i]);
}

/* A kernel that fails to build: the window shows the compiler's log with
 * file and line, and the app keeps running. */
static void
test_gui_build_error (gconstpointer data)
{
  const char *backend = data;
  g_autofree char *dir = g_build_filename (tmp, "broken-kernels", NULL);
  g_autofree char *src = g_build_filename (WB_SOURCE_DIR, "kernels", "bhte.cl", NULL);
  g_autofree char *dst = g_build_filename (dir, "bhte.cl", NULL);
  g_autofree char *code = NULL;
  g_autofree char *broken = NULL;
  g_autoptr(GError) error = NULL;
  const char *args[] = { "--preset", "bhte-gaussian", "--backend", backend, "--run-steps", "2",
                         "--kernel-dir", dir, NULL };
  g_auto(AppRun) run = { 0 };
  const char *line;

  g_assert_true (g_file_get_contents (src, &code, NULL, &error));
  /* An undeclared identifier on the first line of the file. */
  broken = g_strconcat ("float wb_broken (void) { return undeclared_thing; }\n", code, NULL);
  g_mkdir_with_parents (dir, 0755);
  g_assert_true (g_file_set_contents (dst, broken, -1, &error));

  run_app (&run, args);
  g_assert_cmpint (run.status, ==, 0);
  line = find_line (run.out, "error shown: A kernel failed to build: ");
  g_assert_nonnull (line);
  g_assert_nonnull (strstr (line, "undeclared_thing"));
  g_assert_nonnull (strstr (line, "bhte.cl:1"));
  g_assert_nonnull (find_line (run.out, "done step=0"));
  g_unlink (dst);
  g_rmdir (dir);
}

/* A grid larger than the device: the window shows the engine's message
 * (the same as wb_sim_new gives here) and keeps running. */
static void
test_gui_too_large (gconstpointer data)
{
  const char *backend = data;
  g_autofree char *path = g_build_filename (tmp, "huge.json", NULL);
  const char *args[] = { "--preset", path, "--backend", backend, "--run-steps", "2", NULL };
  g_auto(AppRun) run = { 0 };
  g_autoptr(WbPreset) preset = NULL;
  g_autoptr(GPtrArray) devices = NULL;
  g_autoptr(WbDevice) device = NULL;
  g_autoptr(GError) error = NULL;
  g_autoptr(GError) expected = NULL;
  g_autofree char *want = NULL;
  WbSim *sim;

  preset = wb_preset_load ("bhte-gaussian", &error);
  g_assert_no_error (error);
  g_assert_true (wb_preset_set (preset, "grid.shape=[2048,2048,2048]", &error));
  g_assert_true (wb_preset_save (preset, path, &error));
  devices = wb_device_list (NULL);
  device = wb_device_lookup (devices, backend, NULL, &error);
  g_assert_no_error (error);
  sim = wb_sim_new (preset, device, NULL, &expected);
  g_assert_null (sim);
  g_assert_error (expected, WB_ERROR, WB_ERROR_TOO_LARGE);

  run_app (&run, args);
  g_assert_cmpint (run.status, ==, 0);
  want = g_strdup_printf ("wavebench: error shown: The simulation does not fit the device: %s\n",
                          expected->message);
  g_assert_nonnull (strstr (run.out, want));
  g_assert_nonnull (find_line (run.out, "done step=0 state=Failed"));
}

/* The app follows the locale: with German selected, the window's messages
 * come from po/de.po (the catalogue built in the build tree). */
static void
test_gui_locale (void)
{
  g_autofree char *path = g_build_filename (tmp, "instabil.json", NULL);
  g_autofree char *localedir = g_build_filename (WB_BUILD_DIR, "po", NULL);
  g_autofree char *mo = g_build_filename (localedir, "de", "LC_MESSAGES", "wavebench.mo", NULL);
  g_autofree char *env_dir = g_strconcat ("WAVEBENCH_LOCALEDIR=", localedir, NULL);
  const char *env[] = { "LANGUAGE=de", env_dir, NULL };
  const char *args[] = { "--preset", path, "--backend", "reference", "--run-steps", "1", NULL };
  g_auto(AppRun) run = { 0 };
  g_autoptr(WbPreset) preset = NULL;
  g_autoptr(GError) error = NULL;

  if (!g_file_test (mo, G_FILE_TEST_EXISTS))
    {
      g_test_skip ("po/de/LC_MESSAGES/wavebench.mo not built");
      return;
    }
  preset = wb_preset_load ("bhte-gaussian", &error);
  g_assert_no_error (error);
  g_assert_true (wb_preset_set (preset, "time.dt=1000", &error));
  g_assert_true (wb_preset_save (preset, path, &error));

  run_app_env (&run, args, env);
  g_assert_cmpint (run.status, ==, 0);
  g_assert_nonnull (find_line (run.out, "error shown: Vorlage „instabil“ kann nicht laufen: "));
  g_assert_nonnull (find_line (run.out, "done step=0 state=Keine Simulation"));
}

/* GDK may give the view EGL or GLX, desktop GL or GLES: each must draw the
 * same pixels (the shaders build for GLSL 150 and 300 es alike). */
static void
test_gui_gl_apis (void)
{
  const char *modes[] = { "gl-egl", "gl-glx", "gl-gles" };
  g_autoptr(WbImage) first = NULL;

  for (guint m = 0; m < G_N_ELEMENTS (modes); m++)
    {
      g_autofree char *shot = g_strdup_printf ("%s/%s.png", tmp, modes[m]);
      g_autofree char *debug = g_strdup_printf ("GDK_DEBUG=%s", modes[m]);
      const char *env[] = { debug, NULL };
      const char *args[] = { "--preset", "bhte-gaussian", "--backend", "reference", "--run-steps", "5",
                             "--screenshot", shot, NULL };
      g_auto(AppRun) run = { 0 };
      g_autoptr(WbImage) image = NULL;
      g_autoptr(GError) error = NULL;

      run_app_env (&run, args, env);
      g_assert_cmpint (run.status, ==, 0);
      image = wb_png_read (shot, &error);
      g_assert_no_error (error);
      if (first == NULL)
        {
          first = g_steal_pointer (&image);
          continue;
        }
      g_assert_cmpuint (image->width, ==, first->width);
      g_assert_cmpuint (image->height, ==, first->height);
      if (memcmp (image->rgba, first->rgba, (gsize) image->width * image->height * 4) != 0)
        g_error ("%s draws different pixels than %s", modes[m], modes[0]);
    }
}

int
main (int argc, char **argv)
{
  g_auto(GStrv) names = NULL;
  g_autoptr(GPtrArray) devices = NULL;
  g_autoptr(GPtrArray) cases = g_ptr_array_new_with_free_func (case_free);
  const char *opencl = NULL;
  int status;

  g_test_init (&argc, &argv, NULL);

  app_path = wb_test_gui_app ("wb-test-gui-XXXXXX", &tmp);
  if (app_path == NULL)
    return 77;

  devices = wb_device_list (NULL);
  for (guint d = 0; d < devices->len; d++)
    {
      WbDevice *device = g_ptr_array_index (devices, d);
      if (!wb_device_is_reference (device))
        {
          opencl = device->id;
          break;
        }
    }

  names = wb_preset_list_bundled ();
  for (guint n = 0; names[n]; n++)
    {
      g_autoptr(WbPreset) preset = wb_preset_load (names[n], NULL);
      const char *solver = preset ? wb_preset_get_solver (preset, NULL) : NULL;
      const char *backends[] = { "reference", opencl };

      /* Migration jobs are not time-stepping simulations: no live view. */
      if (solver == NULL || g_str_equal (solver, "pstm"))
        continue;
      for (guint b = 0; b < G_N_ELEMENTS (backends) && backends[b]; b++)
        {
          Case *c = g_new0 (Case, 1);
          g_autofree char *path = NULL;

          c->preset = g_strdup (names[n]);
          c->backend = g_strdup (backends[b]);
          c->field = g_str_equal (solver, "vwe") ? g_strdup ("Pressure") : NULL;
          g_ptr_array_add (cases, c);
          path = g_strdup_printf ("/wavebench/gui/preset/%s/%s", c->preset,
                                  g_str_equal (c->backend, "reference") ? "reference" : "opencl");
          g_test_add_data_func (path, c, test_gui_preset);
        }
    }
  g_test_add_func ("/wavebench/gui/invalid-preset", test_gui_invalid_preset);
  g_test_add_func ("/wavebench/gui/param-panel", test_gui_param_panel);
  g_test_add_func ("/wavebench/gui/probes-export", test_gui_probes_export);
  g_test_add_func ("/wavebench/gui/locale-de", test_gui_locale);
  g_test_add_func ("/wavebench/gui/gl-apis", test_gui_gl_apis);
  if (opencl != NULL)
    {
      g_test_add_data_func ("/wavebench/gui/build-error/opencl", opencl, test_gui_build_error);
      g_test_add_data_func ("/wavebench/gui/too-large/opencl", opencl, test_gui_too_large);
    }

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
