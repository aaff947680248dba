/* The workbench's display paths (docs/interop.md, "In the GTK workbench"):
 * the real application in scripted mode under Xvfb.  Frames reach the view
 * through WbInteropFrames, published on the runner's worker; this machine
 * (PoCL, Mesa llvmpipe) offers neither GL sharing nor external memory, so
 * they take the frames' host-copy path and the app says exactly why, with
 * GDK's EGL and GLX alike.  Forced paths fall back with the reason; the
 * reference backend and a field with no device buffer keep the runner's
 * read-back; what the display received is the engine's slice bit for bit
 * and what it drew is its colormap. */
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
static WbDevice *opencl;

static void
run_app (AppRun             *run,
         const char * const *args,
         const char * const *extra_env)
{
  wb_test_run (run, app_path, args, extra_env);
}

/* The line of @out starting with "wavebench: @prefix" (without the
 * newline), or NULL. */
static char *
find_line (const char *out, const char *prefix)
{
  g_autofree char *needle = g_strconcat ("wavebench: ", prefix, NULL);
  const char *p = out;

  while ((p = strstr (p, needle)) != NULL)
    {
      if (p == out || p[-1] == '\n')
        return g_strndup (p, strcspn (p, "\n"));
      p++;
    }
  return NULL;
}

/* "key=value" from a line (value up to the next space); "reason" and
 * "status" run to the end of the line or the next key. */
static char *
field_of (const char *line, const char *key)
{
  g_autofree char *needle = g_strconcat (" ", key, "=", NULL);
  const char *p = strstr (line, needle);
  const char *end;

  if (p == NULL)
    return NULL;
  p += strlen (needle);
  if (g_str_equal (key, "reason"))
    return g_strdup (p);
  if (g_str_equal (key, "status"))
    {
      end = strstr (p, " reason=");
      return end ? g_strndup (p, end - p) : g_strdup (p);
    }
  end = strpbrk (p, " \n");
  return end ? g_strndup (p, end - p) : g_strdup (p);
}

/* What the app printed about its display at the end. */
typedef struct
{
  char    *frames;         /* read-back, gl-sharing, external-memory, host-copy */
  guint64  host_bytes;
  char    *sync;
  char    *drawn;          /* published or host */
  guint64  published;
  guint64  host_reads;
  char    *status;
  char    *reason;
} Display;

static void
display_clear (Display *d)
{
  g_free (d->frames);
  g_free (d->sync);
  g_free (d->drawn);
  g_free (d->status);
  g_free (d->reason);
}

G_DEFINE_AUTO_CLEANUP_CLEAR_FUNC (Display, display_clear)

static void
display_parse (Display    *d,
               const char *out)
{
  g_autofree char *line = find_line (out, "display-path ");
  g_autofree char *bytes = NULL, *pub = NULL, *reads = NULL;

  g_assert_nonnull (line);
  d->frames = field_of (line, "frames");
  d->sync = field_of (line, "sync");
  d->drawn = field_of (line, "drawn");
  d->status = field_of (line, "status");
  d->reason = field_of (line, "reason");
  bytes = field_of (line, "host-bytes-per-frame");
  pub = field_of (line, "frames-published");
  reads = field_of (line, "host-reads");
  g_assert_nonnull (d->reason);
  g_assert_nonnull (bytes);
  d->host_bytes = g_ascii_strtoull (bytes, NULL, 10);
  d->published = g_ascii_strtoull (pub, NULL, 10);
  d->host_reads = g_ascii_strtoull (reads, NULL, 10);
}

/* The host-copy reason on this machine, or NULL where the OpenCL device
 * offers a sharing path (the exact text is then not this one). */
static char *
ci_reason (void)
{
  if (wb_device_has_extension (opencl, "cl_khr_gl_sharing")
      || wb_device_has_extension (opencl, "cl_khr_external_memory_opaque_fd"))
    return NULL;
  return g_strdup_printf ("host copy: no gl-sharing (the OpenCL device '%s' lacks cl_khr_gl_sharing); "
                          "no external-memory (the OpenCL device '%s' lacks cl_khr_external_memory_opaque_fd)",
                          opencl->name, opencl->name);
}

static WbSim *
engine_run (const char *preset_name,
            const char *backend,
            guint       steps)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(WbPreset) preset = wb_preset_load (preset_name, &error);
  g_autoptr(GPtrArray) devices = wb_device_list (NULL);
  g_autoptr(WbDevice) device = NULL;
  WbSim *sim;

  g_assert_no_error (error);
  device = wb_device_lookup (devices, backend, NULL, &error);
  g_assert_no_error (error);
  sim = wb_sim_new (preset, device, NULL, &error);
  g_assert_no_error (error);
  g_assert_true (wb_sim_step (sim, steps, &error));
  g_assert_true (wb_sim_finish (sim, &error));
  return sim;
}

/* The frame file equals @want bit for bit. */
static void
assert_frame_equals (const char *path,
                     WbField    *want)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(WbNpyArray) npy = wb_npy_read (path, &error);
  gsize n = wb_field_n_elements (want);

  g_assert_no_error (error);
  g_assert_cmpuint (npy->shape[0], ==, want->shape[0]);
  g_assert_cmpuint (npy->shape[1], ==, want->shape[1]);
  for (gsize i = 0; i < n; i++)
    if ((float) npy->data[i] != want->data[i] && !(isnan (npy->data[i]) && isnan (want->data[i])))
      g_error ("frame cell %" G_GSIZE_FORMAT ": %.9g, engine %.9g", i, npy->data[i], want->data[i]);
}

/* Each readout: the value is the engine's, the pixel its colour. */
static guint
check_readouts (const char *out,
                WbSim      *sim,
                const char *shot)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(WbImage) image = wb_png_read (shot, &error);
  guint n = 0;

  g_assert_no_error (error);
  for (const char *p = out; (p = strstr (p, "wavebench: readout ")) != NULL; p++)
    {
      g_autofree char *line = g_strndup (p, strcspn (p, "\n"));
      g_autofree char *field_name = field_of (line, "field");
      g_autofree char *cmap_name = field_of (line, "colormap");
      g_autofree char *si = field_of (line, "i"), *sj = field_of (line, "j"), *sk = field_of (line, "k");
      g_autofree char *sv = field_of (line, "value"), *smin = field_of (line, "vmin"), *smax = field_of (line, "vmax");
      g_autofree char *scx = field_of (line, "cell-x"), *scy = field_of (line, "cell-y");
      g_autoptr(WbField) field = wb_sim_read_field (sim, field_name, &error);
      double value = g_ascii_strtod (sv, NULL), vmin = g_ascii_strtod (smin, NULL), vmax = g_ascii_strtod (smax, NULL);
      guint cx = (guint) floor (g_ascii_strtod (scx, NULL)), cy = (guint) floor (g_ascii_strtod (scy, NULL));
      const guint8 *table, *px;
      WbColormap cmap;
      double t;
      int index;
      gboolean ok = FALSE;

      g_assert_no_error (error);
      g_assert_cmpfloat ((float) value, ==,
                         field->data[wb_field_index (field, g_ascii_strtoull (si, NULL, 10),
                                                     g_ascii_strtoull (sj, NULL, 10),
                                                     g_ascii_strtoull (sk, NULL, 10))]);
      g_assert_true (wb_colormap_from_string (cmap_name, &cmap));
      g_assert_cmpuint (cx, <, image->width);
      g_assert_cmpuint (cy, <, image->height);
      px = image->rgba + 4 * ((gsize) cy * image->width + cx);
      table = wb_colormap_table (cmap);
      t = vmax > vmin ? CLAMP ((value - vmin) / (vmax - vmin), 0, 1) : 0.5;
      index = (int) floor (t * 255 + 0.5);
      /* The shader computes t in float: one entry either way at a
       * rounding boundary, nothing more. */
      for (int d = -1; d <= 1; d++)
        if (memcmp (table + 3 * CLAMP (index + d, 0, 255), px, 3) == 0)
          ok = TRUE;
      if (!ok)
        g_error ("pixel (%u, %u) is #%02x%02x%02x, not the %s colour of %g in [%g, %g]",
                 cx, cy, px[0], px[1], px[2], cmap_name, value, vmin, vmax);
      n++;
    }
  return n;
}

/* OpenCL on CI: frames published through the new path (host copy of the
 * slice), the exact reason, under GDK's EGL, GLX and GLES; what the view
 * received is the engine's slice and what it drew is its colormap. */
static void
test_display_opencl (gconstpointer data)
{
  const char *mode = data;
  g_autofree char *shot = g_strdup_printf ("%s/opencl-%s.png", tmp, mode);
  g_autofree char *frame = g_strdup_printf ("%s/opencl-%s.npy", tmp, mode);
  g_autofree char *debug = g_strdup_printf ("GDK_DEBUG=%s", mode);
  g_autofree char *steps = g_strdup_printf ("%d", RUN_STEPS);
  const char *env[] = { debug, NULL };
  const char *args[] = { "--preset", "bhte-gaussian", "--backend", opencl->id, "--run-steps", steps,
                         "--slice", "y:20", "--screenshot", shot, "--export-frame", frame,
                         "--readout", "center", "--readout", "250,120", NULL };
  g_auto(AppRun) run = { 0 };
  g_auto(Display) d = { 0 };
  g_autofree char *want = ci_reason ();
  g_autofree char *frame_line = NULL;
  g_autoptr(WbSim) sim = NULL;
  g_autoptr(WbField) T = NULL;
  g_autoptr(WbField) slice = NULL;
  g_autoptr(GError) error = NULL;

  run_app (&run, args, env);
  g_assert_cmpint (run.status, ==, 0);
  display_parse (&d, run.out);
  g_test_message ("%s: %s; %s", mode, d.status, d.reason);
  g_assert_cmpstr (d.drawn, ==, "published");
  g_assert_cmpuint (d.published, >, 0);
  frame_line = find_line (run.out, "display-frame ");
  g_assert_cmpstr (frame_line, ==, "wavebench: display-frame step=8");
  if (want == NULL)
    {
      g_test_message ("this OpenCL device offers a sharing path: %s", d.reason);
      g_assert_cmpstr (d.frames, !=, "read-back");
    }
  else
    {
      g_assert_cmpstr (d.frames, ==, "host-copy");
      g_assert_cmpstr (d.reason, ==, want);
      g_assert_cmpstr (d.sync, ==, "finish");
      /* The slice (48 x 48 floats) read back and uploaded: 18432 bytes,
       * not the whole field. */
      g_assert_cmpuint (d.host_bytes, ==, 2 * 48 * 48 * sizeof (float));
      g_assert_cmpstr (d.status, ==, "Display: host copy, 0.02 MiB/frame");
    }

  sim = engine_run ("bhte-gaussian", opencl->id, RUN_STEPS);
  T = wb_sim_read_field (sim, "T", &error);
  g_assert_no_error (error);
  slice = wb_field_slice (T, 1, 20, &error);
  g_assert_no_error (error);
  assert_frame_equals (frame, slice);
  g_assert_cmpuint (check_readouts (run.out, sim, shot), ==, 2);
}

/* Slices across x, y and z of a 3D field, published through the hook
 * (strided device copies for x and y): what the display received is the
 * engine's slice, bit for bit. */
static void
test_display_slices (void)
{
  const char *slices[] = { "x:5", "y:47", "z:0", "z:30" };
  const guint axes[] = { 0, 1, 2, 2 };
  const gsize index[] = { 5, 47, 0, 30 };
  g_autoptr(WbSim) sim = engine_run ("bhte-gaussian", opencl->id, RUN_STEPS);
  g_autoptr(GError) error = NULL;
  g_autoptr(WbField) T = wb_sim_read_field (sim, "T", &error);
  g_autofree char *steps = g_strdup_printf ("%d", RUN_STEPS);

  g_assert_no_error (error);
  for (guint s = 0; s < G_N_ELEMENTS (slices); s++)
    {
      g_autofree char *frame = g_strdup_printf ("%s/slice-%u.npy", tmp, s);
      g_autofree char *said = g_strdup_printf ("wavebench: slice axis=%c index=%" G_GSIZE_FORMAT,
                                               "xyz"[axes[s]], index[s]);
      g_autofree char *line = NULL;
      const char *args[] = { "--preset", "bhte-gaussian", "--backend", opencl->id, "--run-steps", steps,
                             "--slice", slices[s], "--export-frame", frame, NULL };
      g_auto(AppRun) run = { 0 };
      g_auto(Display) d = { 0 };
      g_autoptr(WbField) want = wb_field_slice (T, axes[s], index[s], &error);

      g_assert_no_error (error);
      run_app (&run, args, NULL);
      g_assert_cmpint (run.status, ==, 0);
      line = find_line (run.out, "slice ");
      g_assert_cmpstr (line, ==, said);
      display_parse (&d, run.out);
      g_assert_cmpstr (d.drawn, ==, "published");
      g_assert_cmpstr (d.frames, !=, "read-back");
      assert_frame_equals (frame, want);
    }
}

/* WAVEBENCH_DISPLAY_PATH forcing a path the drivers lack: host copy (of
 * the published frames), saying why; forcing host copy says so; a value
 * that is no path is ignored with a warning in the reason. */
static void
test_display_forced (void)
{
  const char *values[] = { "external-memory", "gl-sharing", "host-copy", "bogus" };
  g_autofree char *steps = g_strdup_printf ("%d", 2);

  if (wb_device_has_extension (opencl, "cl_khr_gl_sharing")
      || wb_device_has_extension (opencl, "cl_khr_external_memory_opaque_fd"))
    {
      g_test_skip ("this OpenCL device offers a sharing path");
      return;
    }
  for (guint v = 0; v < G_N_ELEMENTS (values); v++)
    {
      g_autofree char *var = g_strdup_printf ("WAVEBENCH_DISPLAY_PATH=%s", values[v]);
      const char *env[] = { var, NULL };
      const char *args[] = { "--preset", "bhte-gaussian", "--backend", opencl->id, "--run-steps", steps, NULL };
      g_auto(AppRun) run = { 0 };
      g_auto(Display) d = { 0 };
      g_autofree char *want = NULL;
      g_autofree char *ci = ci_reason ();

      run_app (&run, args, env);
      g_assert_cmpint (run.status, ==, 0);
      display_parse (&d, run.out);
      g_assert_cmpstr (d.frames, ==, "host-copy");
      g_assert_cmpstr (d.drawn, ==, "published");
      if (v == 0)
        want = g_strdup_printf ("host copy: WAVEBENCH_DISPLAY_PATH asks for external-memory, which is "
                                "unavailable: the OpenCL device '%s' lacks cl_khr_external_memory_opaque_fd",
                                opencl->name);
      else if (v == 1)
        want = g_strdup_printf ("host copy: WAVEBENCH_DISPLAY_PATH asks for gl-sharing, which is "
                                "unavailable: the OpenCL device '%s' lacks cl_khr_gl_sharing", opencl->name);
      else if (v == 2)
        want = g_strdup ("host copy, forced by WAVEBENCH_DISPLAY_PATH");
      else
        want = g_strdup_printf ("%s; WAVEBENCH_DISPLAY_PATH='bogus' is not one of auto, gl-sharing, "
                                "external-memory, host-copy; ignored", ci);
      g_assert_cmpstr (d.reason, ==, want);
    }
}

/* The display-path preference (GSettings, here a keyfile) forces a path
 * as the variable does, and the variable wins over it. */
static void
test_display_preference (void)
{
  g_autofree char *config = g_build_filename (tmp, "config", NULL);
  g_autofree char *dir = g_build_filename (config, "glib-2.0", "settings", NULL);
  g_autofree char *keyfile = g_build_filename (dir, "keyfile", NULL);
  g_autofree char *xdg = g_strconcat ("XDG_CONFIG_HOME=", config, NULL);
  g_autoptr(GError) error = NULL;

  if (wb_device_has_extension (opencl, "cl_khr_gl_sharing"))
    {
      g_test_skip ("this OpenCL device offers cl_khr_gl_sharing");
      return;
    }
  g_assert_cmpint (g_mkdir_with_parents (dir, 0700), ==, 0);
  g_assert_true (g_file_set_contents (keyfile, "[org/wavebench/Wavebench]\ndisplay-path='gl-sharing'\n", -1, &error));
  for (guint v = 0; v < 2; v++)
    {
      const char *env[] = { "GSETTINGS_BACKEND=keyfile", xdg, v ? "WAVEBENCH_DISPLAY_PATH=host-copy" : NULL, NULL };
      const char *args[] = { "--preset", "bhte-gaussian", "--backend", opencl->id, "--run-steps", "2", NULL };
      g_auto(AppRun) run = { 0 };
      g_auto(Display) d = { 0 };
      g_autofree char *want = NULL;

      run_app (&run, args, env);
      g_assert_cmpint (run.status, ==, 0);
      display_parse (&d, run.out);
      g_assert_cmpstr (d.frames, ==, "host-copy");
      if (v == 0)
        want = g_strdup_printf ("host copy: the display-path preference asks for gl-sharing, which is "
                                "unavailable: the OpenCL device '%s' lacks cl_khr_gl_sharing", opencl->name);
      else
        want = g_strdup ("host copy, forced by WAVEBENCH_DISPLAY_PATH");
      g_assert_cmpstr (d.reason, ==, want);
    }
  g_unlink (keyfile);
  g_rmdir (dir);
  {
    g_autofree char *glib = g_build_filename (config, "glib-2.0", NULL);
    g_rmdir (glib);
  }
  g_rmdir (config);
}

/* The reference backend computes on the host: the runner's read-back, as
 * before, and the reason says so. */
static void
test_display_reference (void)
{
  g_autofree char *shot = g_strdup_printf ("%s/reference.png", tmp);
  const char *args[] = { "--preset", "bhte-gaussian", "--backend", "reference", "--run-steps", "4",
                         "--screenshot", shot, "--readout", "center", NULL };
  g_auto(AppRun) run = { 0 };
  g_auto(Display) d = { 0 };
  g_autoptr(WbSim) sim = NULL;

  run_app (&run, args, NULL);
  g_assert_cmpint (run.status, ==, 0);
  display_parse (&d, run.out);
  g_assert_cmpstr (d.frames, ==, "read-back");
  g_assert_cmpstr (d.drawn, ==, "host");
  g_assert_cmpstr (d.sync, ==, "none");
  g_assert_cmpuint (d.published, ==, 0);
  g_assert_cmpstr (d.reason, ==, "host copy through the runner's read-back: the reference backend computes "
                   "on the host");
  /* The whole 48^3 field is read back per frame. */
  g_assert_cmpuint (d.host_bytes, ==, 48 * 48 * 48 * sizeof (float));
  g_assert_cmpstr (d.status, ==, "Display: host copy, 0.42 MiB/frame");
  sim = engine_run ("bhte-gaussian", "reference", 4);
  g_assert_cmpuint (check_readouts (run.out, sim, shot), ==, 1);
}

/* A 2D field is published whole; a field the solver derives on read-back
 * (vwe's Pressure) has no device buffer: read-back, saying so. */
static void
test_display_2d (void)
{
  const char *fields[] = { "Vy", "Pressure" };

  for (guint f = 0; f < G_N_ELEMENTS (fields); f++)
    {
      g_autofree char *frame = g_strdup_printf ("%s/2d-%s.npy", tmp, fields[f]);
      g_autofree char *shot = g_strdup_printf ("%s/2d-%s.png", tmp, fields[f]);
      const char *args[] = { "--preset", "vwe-point-source-2d", "--backend", opencl->id, "--run-steps", "30",
                             "--field", fields[f], "--export-frame", frame, "--screenshot", shot,
                             "--readout", "center", NULL };
      g_auto(AppRun) run = { 0 };
      g_auto(Display) d = { 0 };
      g_autoptr(WbSim) sim = engine_run ("vwe-point-source-2d", opencl->id, 30);
      g_autoptr(GError) error = NULL;
      g_autoptr(WbField) want = wb_sim_read_field (sim, fields[f], &error);

      g_assert_no_error (error);
      run_app (&run, args, NULL);
      g_assert_cmpint (run.status, ==, 0);
      display_parse (&d, run.out);
      g_test_message ("%s: %s; %s", fields[f], d.status, d.reason);
      if (f == 0)
        {
          g_assert_cmpstr (d.drawn, ==, "published");
          g_assert_cmpstr (d.frames, !=, "read-back");
        }
      else
        {
          g_assert_cmpstr (d.frames, ==, "read-back");
          g_assert_cmpstr (d.drawn, ==, "host");
          g_assert_cmpstr (d.reason, ==, "host copy through the runner's read-back: the solver has no device "
                           "buffer holding 'Pressure' (it derives the field when reading it back)");
        }
      assert_frame_equals (frame, want);
      g_assert_cmpuint (check_readouts (run.out, sim, shot), ==, 1);
    }
}

/* A free run with the display on and off: frames are published at the
 * display's rate, host reads stay at the low rate (the readout's), and
 * the solver's rate is reported both ways. */
static void
test_display_benchmark (void)
{
  double sps[2] = { 0, 0 };

  for (int live = 1; live >= 0; live--)
    {
      const char *args[] = { "--preset", "bhte-focused-ultrasound", "--backend", opencl->id,
                             "--benchmark", "3", live ? NULL : "--no-live-view", NULL };
      g_auto(AppRun) run = { 0 };
      g_autofree char *line = NULL, *s = NULL, *frames = NULL, *reads = NULL, *secs = NULL;

      run_app (&run, args, NULL);
      g_assert_cmpint (run.status, ==, 0);
      line = find_line (run.out, "benchmark ");
      g_assert_nonnull (line);
      g_test_message ("%s", line);
      s = field_of (line, "steps/s");
      secs = field_of (line, "seconds");
      frames = field_of (line, "frames");
      reads = field_of (line, "frames-read");
      sps[live] = g_ascii_strtod (s, NULL);
      if (live)
        {
          g_auto(Display) d = { 0 };

          display_parse (&d, run.out);
          g_test_message ("display on: %" G_GUINT64_FORMAT " frames published, %" G_GUINT64_FORMAT
                          " host reads (%s)", d.published, d.host_reads, d.reason);
          g_assert_cmpstr (d.frames, !=, "read-back");
          g_assert_cmpuint (d.published, >=, 10);
          /* Host reads: the low rate (each 0.5 s and when stepping stops)
           * plus those of the load, not one per frame. */
          g_assert_cmpuint (g_ascii_strtoull (reads, NULL, 10), <=, g_ascii_strtod (secs, NULL) / 0.5 + 4);
          g_assert_cmpuint (g_ascii_strtoull (reads, NULL, 10), <, d.published);
          g_assert_cmpuint (g_ascii_strtoull (frames, NULL, 10), >, 0);
        }
    }
  g_test_message ("bhte-focused-ultrasound 64^3 on %s: %.1f steps/s with the display on, %.1f off (%.1f %%)",
                  opencl->id, sps[1], sps[0], 100.0 * sps[1] / sps[0]);
  g_assert_cmpfloat (sps[1], >, 0);
  g_assert_cmpfloat (sps[0], >, 0);
}

int
main (int argc, char **argv)
{
  g_autoptr(GPtrArray) devices = NULL;
  int status;

  g_test_init (&argc, &argv, NULL);

  app_path = wb_test_gui_app ("wb-test-gui-display-XXXXXX", &tmp);
  if (app_path == NULL)
    return 77;

  devices = wb_device_list (NULL);
  for (guint d = 0; d < devices->len && opencl == NULL; d++)
    if (!wb_device_is_reference (g_ptr_array_index (devices, d)))
      opencl = wb_device_ref (g_ptr_array_index (devices, d));

  g_test_add_func ("/wavebench/gui-display/reference", test_display_reference);
  if (opencl != NULL)
    {
      g_test_add_data_func ("/wavebench/gui-display/opencl/gl-egl", "gl-egl", test_display_opencl);
      g_test_add_data_func ("/wavebench/gui-display/opencl/gl-glx", "gl-glx", test_display_opencl);
      /* GLES: the frames' fences and pixel-unpack uploads are GLES 3.0 too. */
      g_test_add_data_func ("/wavebench/gui-display/opencl/gl-gles", "gl-gles", test_display_opencl);
      g_test_add_func ("/wavebench/gui-display/slices", test_display_slices);
      g_test_add_func ("/wavebench/gui-display/forced", test_display_forced);
      g_test_add_func ("/wavebench/gui-display/preference", test_display_preference);
      g_test_add_func ("/wavebench/gui-display/2d", test_display_2d);
      g_test_add_func ("/wavebench/gui-display/benchmark", test_display_benchmark);
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
  g_clear_pointer (&opencl, wb_device_unref);
  return status;
}
