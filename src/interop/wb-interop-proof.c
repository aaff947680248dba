/* wb-interop-proof: runs a solver headlessly (EGL, no window) through the
 * display path chosen as the app chooses it, with the app's shaders, and
 * proves the path right and measures it:
 *
 *  - check: for a few frames, the slot GL drew from holds exactly the
 *    solver's field (bitwise, against wb_sim_read_field), and every pixel
 *    drawn into an offscreen FBO equals the host-side colormap of that
 *    field (wb_colormap_map, the PNG export's code);
 *  - timing: solver steps/s without display, then frames/s and steps/s
 *    with one frame shown every K steps, and host bytes copied per frame;
 *    then the same with the host-copy path for comparison.
 *
 * Exit status 0 only if every check passed.
 */
#define G_LOG_DOMAIN "wb-interop-proof"
#include "config.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

#include "wb-colormap.h"
#include "wb-device.h"
#include "wb-error.h"
#include "wb-interop.h"
#include "wb-interop-egl.h"
#include "wb-interop-frames.h"
#include "wb-interop-gl.h"
#include "wb-interop-vk.h"
#include "wb-preset.h"
#include "wb-render.h"
#include "wb-runner.h"
#include "wb-sim.h"

static char *opt_preset = NULL;
static char *opt_device = NULL;
static char *opt_field = NULL;
static char *opt_path = NULL;
static char *opt_out = NULL;
static char **opt_set = NULL;
static int opt_frames = 200;
static int opt_steps = 10;
static int opt_checks = 3;
static int opt_slice = -1;
static gboolean opt_no_compare = FALSE;
static double opt_runner = 0;

static GOptionEntry entries[] = {
  { "preset", 'p', 0, G_OPTION_ARG_STRING, &opt_preset, "Preset name or file (bhte-focused-ultrasound)", "NAME" },
  { "set", 's', 0, G_OPTION_ARG_STRING_ARRAY, &opt_set, "Override a preset value (grid.shape=[128,128,128])", "KEY=VALUE" },
  { "device", 'd', 0, G_OPTION_ARG_STRING, &opt_device, "Backend id (auto)", "ID" },
  { "field", 'f', 0, G_OPTION_ARG_STRING, &opt_field, "Field shown (the solver's default)", "NAME" },
  { "slice", 0, 0, G_OPTION_ARG_INT, &opt_slice, "z index of the slice of a 3D field (middle)", "K" },
  { "path", 0, 0, G_OPTION_ARG_STRING, &opt_path, "Force a display path (like " WB_INTEROP_ENV ")", "PATH" },
  { "frames", 'n', 0, G_OPTION_ARG_INT, &opt_frames, "Frames timed (200)", "N" },
  { "steps-per-frame", 'k', 0, G_OPTION_ARG_INT, &opt_steps, "Solver steps between frames (10)", "K" },
  { "checks", 0, 0, G_OPTION_ARG_INT, &opt_checks, "Frames checked pixel by pixel (3)", "N" },
  { "no-compare", 0, 0, G_OPTION_ARG_NONE, &opt_no_compare, "Do not time the host-copy path too", NULL },
  { "out", 'o', 0, G_OPTION_ARG_FILENAME, &opt_out, "Write the drawn frames as PNG here", "DIR" },
  { "runner", 0, 0, G_OPTION_ARG_DOUBLE, &opt_runner, "Then run the app's arrangement this many seconds with the "
    "display on and as long off: the solver free-running on a WbRunner worker that publishes through its publish "
    "hook, this thread showing at most 60 frames/s (0: not)", "SECONDS" },
  { NULL }
};

typedef struct
{
  GLuint fbo, rb;
  guint  w, h;
} Target;

static gboolean
target_init (Target *t,
             guint   w,
             guint   h,
             GError **error)
{
  t->w = w;
  t->h = h;
  glGenFramebuffers (1, &t->fbo);
  glGenRenderbuffers (1, &t->rb);
  glBindRenderbuffer (GL_RENDERBUFFER, t->rb);
  glRenderbufferStorage (GL_RENDERBUFFER, GL_RGBA8, w, h);
  glBindFramebuffer (GL_FRAMEBUFFER, t->fbo);
  glFramebufferRenderbuffer (GL_FRAMEBUFFER, GL_COLOR_ATTACHMENT0, GL_RENDERBUFFER, t->rb);
  if (glCheckFramebufferStatus (GL_FRAMEBUFFER) != GL_FRAMEBUFFER_COMPLETE)
    {
      g_set_error (error, WB_ERROR, WB_ERROR_DEVICE, "offscreen framebuffer incomplete");
      return FALSE;
    }
  glViewport (0, 0, w, h);
  /* Resolved now, while the context is surely current (see
   * wb_interop_frames_free ()). */
  glDeleteFramebuffers (0, NULL);
  glDeleteRenderbuffers (0, NULL);
  return wb_gl_check ("offscreen framebuffer", error);
}

static void
draw (WbFieldRenderer *r)
{
  static const float rect[4] = { -1, -1, 1, 1 };

  glClearColor (0, 0, 0, 1);
  glClear (GL_COLOR_BUFFER_BIT);
  wb_field_renderer_draw (r, rect);
}

/* The expected colour of each cell, with the shader's float arithmetic so
 * that only GLSL's division (2.5 ULP) can move an index, by one at most. */
static int
expected_index (float v,
                float vmin,
                float vmax)
{
  float span = vmax - vmin;
  float t;

  if (isnan (v) || isinf (v))
    return -1;
  t = span > 0 ? CLAMP ((v - vmin) / span, 0.0f, 1.0f) : 0.5f;
  return (int) floorf (t * 255.0f + 0.5f);
}

typedef struct
{
  guint64 exact, neighbour, wrong;
} PixelStats;

static void
compare_pixels (const guint8 *rgba,
                const float  *field,
                guint         nx,
                guint         ny,
                WbColormap    cmap,
                float         vmin,
                float         vmax,
                PixelStats   *st)
{
  const guint8 *tab = wb_colormap_table (cmap);

  /* glReadPixels row 0 is the bottom of the FBO, which is j = 0 of the
   * field (the quad's uv.y grows upwards): pixel (i, j) is cell (i, j). */
  for (guint j = 0; j < ny; j++)
    for (guint i = 0; i < nx; i++)
      {
        const guint8 *px = rgba + 4 * ((gsize) j * nx + i);
        float v = field[(gsize) j * nx + i];
        int idx = expected_index (v, vmin, vmax);
        guint8 want[3];
        gboolean near = FALSE;

        if (idx < 0)
          wb_colormap_map (cmap, NAN, want);
        else
          memcpy (want, tab + 3 * idx, 3);
        if (memcmp (px, want, 3) == 0)
          {
            st->exact++;
            continue;
          }
        for (int d = -1; d <= 1 && idx >= 0; d += 2)
          if (idx + d >= 0 && idx + d < 256 && memcmp (px, tab + 3 * (idx + d), 3) == 0)
            near = TRUE;
        if (near)
          st->neighbour++;
        else
          st->wrong++;
      }
}

static gboolean
write_png (const char   *dir,
           const char   *name,
           const guint8 *rgba,
           guint         w,
           guint         h,
           GError      **error)
{
  g_autofree char *path = g_build_filename (dir, name, NULL);
  WbImage img = { 0 };
  g_autofree guint8 *flipped = g_malloc ((gsize) w * h * 4);
  gboolean ok;

  /* PNG row 0 is the top. */
  for (guint y = 0; y < h; y++)
    memcpy (flipped + (gsize) (h - 1 - y) * w * 4, rgba + (gsize) y * w * 4, (gsize) w * 4);
  img.width = w;
  img.height = h;
  img.rgba = flipped;
  ok = wb_png_write (&img, path, error);
  if (ok)
    g_print ("  wrote %s\n", path);
  return ok;
}

typedef struct
{
  double seconds;
  guint64 steps, frames_shown, frames_skipped;
  guint64 host_bytes_per_frame;
} Timing;

/* Steps only. */
static gboolean
time_solver (WbSim   *sim,
             Timing  *t,
             GError **error)
{
  gint64 t0;

  if (!wb_sim_step (sim, opt_steps, error) || !wb_sim_finish (sim, error))
    return FALSE;
  t0 = g_get_monotonic_time ();
  for (int f = 0; f < opt_frames; f++)
    if (!wb_sim_step (sim, opt_steps, error))
      return FALSE;
  if (!wb_sim_finish (sim, error))
    return FALSE;
  t->seconds = (g_get_monotonic_time () - t0) / 1e6;
  t->steps = (guint64) opt_frames * opt_steps;
  return TRUE;
}

/* Steps with a frame published every K steps and shown one frame later,
 * so that the GPU computes frame f while GL shows frame f - 1. */
static gboolean
time_display (WbEglHeadless   *egl,
              WbSim           *sim,
              WbInteropFrames *frames,
              WbFieldRenderer *r,
              const char      *field,
              gsize            offset,
              Timing          *t,
              GError         **error)
{
  guint64 shown0 = wb_interop_frames_get_n_shown (frames);
  guint64 skipped0 = wb_interop_frames_get_n_skipped (frames);
  gint64 t0;
  guint64 tag;
  gboolean done;

  t0 = g_get_monotonic_time ();
  for (int f = 0; f <= opt_frames; f++)
    {
      if (f < opt_frames)
        {
          if (!wb_sim_step (sim, opt_steps, error))
            return FALSE;
          if (!wb_interop_frames_publish (frames, wb_sim_field_buffer (sim, field), offset,
                                          f + 1, &done, error))
            return FALSE;
        }
      if (f > 0)
        {
          wb_egl_headless_ensure_current (egl, "solver steps");
          if (!wb_interop_frames_show (frames, r, f, TRUE, &tag, &done, error))
            return FALSE;
          if (done)
            draw (r);
        }
    }
  glFinish ();
  if (!wb_sim_finish (sim, error))
    return FALSE;
  t->seconds = (g_get_monotonic_time () - t0) / 1e6;
  t->steps = (guint64) opt_frames * opt_steps;
  t->frames_shown = wb_interop_frames_get_n_shown (frames) - shown0;
  t->frames_skipped = wb_interop_frames_get_n_skipped (frames) - skipped0;
  t->host_bytes_per_frame = wb_interop_frames_host_bytes_per_frame (frames);
  return TRUE;
}

/* The app's arrangement (src/app/wb-field-view.c): the runner's worker
 * publishes after the steps of each frame; this thread shows. */
typedef struct
{
  GMutex           lock;
  WbInteropFrames *frames;
  gsize            offset;
  guint64          published, skipped, last_tag;
  char            *error;
} Hook;

static gboolean
proof_hook (WbSim      *sim,
            const char *field,
            guint64     step,
            gpointer    data)
{
  Hook *h = data;
  g_autoptr(GError) error = NULL;
  gboolean published = FALSE, served;

  g_mutex_lock (&h->lock);
  if (h->error == NULL)
    {
      if (!wb_interop_frames_publish (h->frames, wb_sim_field_buffer (sim, field), h->offset, step,
                                      &published, &error))
        h->error = g_strdup (error->message);
      else if (published)
        {
          h->published++;
          h->last_tag = step;
        }
      else
        h->skipped++;
    }
  served = h->error == NULL;
  g_mutex_unlock (&h->lock);
  return served;
}

static gboolean
runner_idle (WbRunner *runner)
{
  return wb_runner_get_state (runner) == WB_RUNNER_IDLE && !wb_runner_get_running (runner);
}

/* Iterates the default context until @done or @seconds. */
static gboolean
iterate_until (gboolean (*done) (WbRunner *), WbRunner *runner, double seconds)
{
  gint64 end = g_get_monotonic_time () + seconds * G_USEC_PER_SEC;

  while (!done (runner))
    {
      if (g_get_monotonic_time () > end)
        return FALSE;
      g_main_context_iteration (NULL, FALSE);
      g_usleep (500);
    }
  return TRUE;
}

static void
read_done (GObject      *source,
           GAsyncResult *result,
           gpointer      data)
{
  WbField **out = data;
  g_autoptr(GError) error = NULL;

  *out = wb_runner_read_field_finish (WB_RUNNER (source), result, &error);
  if (*out == NULL)
    g_printerr ("runner: reading the field: %s\n", error->message);
}

/* Takes @sim over.  Prints the figures and a RESULT-RUNNER line; FALSE on
 * an error or a failed check (*failed counts it). */
static gboolean
run_runner (WbEglHeadless   *egl,
            WbSim           *sim,
            WbInteropFrames *frames,
            WbFieldRenderer *r,
            const char      *field,
            gsize            offset,
            gsize            n_cells,
            guint64         *failed,
            GError         **error)
{
  g_autoptr(WbRunner) runner = wb_runner_new ();
  g_autofree float *slot = g_new (float, n_cells);
  g_autoptr(WbField) full = NULL;
  g_autoptr(WbField) host_frame = NULL;
  Hook h = { .frames = frames, .offset = offset };
  double sps[2] = { 0, 0 }, fps = 0, pps = 0;
  guint64 host_reads = 0, final_step, tag = 0, mismatched = 0;
  gboolean done = FALSE, ok = FALSE;

  g_mutex_init (&h.lock);
  sim->total_steps = 0;                 /* free run */
  wb_runner_set_publish_func (runner, proof_hook, &h, NULL);
  wb_runner_set_display_field (runner, field);
  wb_runner_set_sim (runner, sim);
  if (!iterate_until (runner_idle, runner, 60) || wb_runner_get_info (runner) == NULL)
    {
      g_set_error (error, WB_ERROR, WB_ERROR_DEVICE, "runner: the sim did not load");
      goto out;
    }
  for (int on = 1; on >= 0; on--)
    {
      guint64 step0 = wb_runner_get_step (runner), shown0 = wb_interop_frames_get_n_shown (frames);
      guint64 pub0 = h.published, reads0 = wb_runner_get_frames_read (runner);
      gint64 t0, t1, next = 0;

      wb_runner_set_display_field (runner, on ? field : NULL);
      wb_runner_run (runner);
      t0 = g_get_monotonic_time ();
      while ((t1 = g_get_monotonic_time ()) - t0 < opt_runner * G_USEC_PER_SEC)
        {
          g_main_context_iteration (NULL, FALSE);
          /* The window takes the (low-rate) host frames as they come. */
          g_clear_pointer (&host_frame, wb_field_unref);
          host_frame = wb_runner_take_frame (runner, NULL, NULL);
          /* A display at 60 frames/s at most, as GTK's frame clock. */
          if (on && t1 >= next)
            {
              next = t1 + G_USEC_PER_SEC / 60;
              wb_egl_headless_ensure_current (egl, "the runner's steps");
              if (!wb_interop_frames_show (frames, r, G_MAXUINT64, FALSE, &tag, &done, error))
                goto out;
              if (done)
                draw (r);
            }
          g_usleep (200);
        }
      wb_runner_pause (runner);
      if (!iterate_until (runner_idle, runner, 60))
        {
          g_set_error (error, WB_ERROR, WB_ERROR_DEVICE, "runner: did not pause");
          goto out;
        }
      /* Steps are reported through notices: let the last arrive. */
      for (int i = 0; i < 100; i++)
        {
          g_main_context_iteration (NULL, FALSE);
          g_usleep (1000);
        }
      t1 = g_get_monotonic_time ();
      sps[on] = (wb_runner_get_step (runner) - step0) / ((t1 - t0) / 1e6);
      if (on)
        {
          fps = (wb_interop_frames_get_n_shown (frames) - shown0) / ((t1 - t0) / 1e6);
          pps = (h.published - pub0) / ((t1 - t0) / 1e6);
          host_reads = wb_runner_get_frames_read (runner) - reads0;
        }
    }
  if (h.error != NULL)
    {
      g_set_error (error, WB_ERROR, WB_ERROR_DEVICE, "runner: publishing failed: %s", h.error);
      goto out;
    }

  /* Check: the frame shown after the run is the solver's field at the
   * final step, bit for bit. */
  final_step = wb_runner_get_step (runner);
  wb_runner_set_display_field (runner, field);
  wb_runner_request_publish (runner);
  for (int i = 0; i < 20000; i++)
    {
      guint64 last;

      g_mutex_lock (&h.lock);
      last = h.last_tag;
      g_mutex_unlock (&h.lock);
      if (last == final_step)
        break;
      g_main_context_iteration (NULL, FALSE);
      g_usleep (500);
    }
  wb_egl_headless_ensure_current (egl, "the runner's steps");
  if (!wb_interop_frames_show (frames, r, G_MAXUINT64, TRUE, &tag, &done, error)
      || !wb_interop_frames_read_shown (frames, slot, error))
    goto out;
  wb_runner_read_field_async (runner, field, NULL, read_done, &full);
  for (int i = 0; i < 60000 && full == NULL; i++)
    {
      g_main_context_iteration (NULL, FALSE);
      g_usleep (500);
    }
  if (full == NULL)
    {
      g_set_error (error, WB_ERROR, WB_ERROR_DEVICE, "runner: the field could not be read");
      goto out;
    }
  for (gsize i = 0; i < n_cells; i++)
    if (memcmp (&slot[i], (const guint8 *) full->data + offset + i * sizeof (float), sizeof (float)) != 0)
      mismatched++;
  g_print ("runner: shown frame of step %" G_GUINT64_FORMAT " (final step %" G_GUINT64_FORMAT "): %"
           G_GUINT64_FORMAT " of %" G_GSIZE_FORMAT " cells differ from the solver's field\n",
           tag, final_step, mismatched, n_cells);
  if (mismatched > 0 || tag != final_step)
    (*failed)++;
  g_print ("runner: display on %.1f steps/s, %.1f frames/s shown, %.1f frames/s published (%" G_GUINT64_FORMAT
           " skipped), %" G_GUINT64_FORMAT " host bytes/frame, %" G_GUINT64_FORMAT " low-rate host reads in %.1f s; "
           "display off %.1f steps/s\n", sps[1], fps, pps, h.skipped, wb_interop_frames_host_bytes_per_frame (frames),
           host_reads, opt_runner, sps[0]);
  g_print ("RESULT-RUNNER path=%s sync=%s check=%s on_steps_per_s=%.1f off_steps_per_s=%.1f shown_per_s=%.1f "
           "published_per_s=%.1f host_bytes_per_frame=%" G_GUINT64_FORMAT " host_reads=%" G_GUINT64_FORMAT "\n",
           wb_display_path_to_string (wb_interop_frames_get_path (frames)),
           wb_interop_sync_to_string (wb_interop_frames_get_sync (frames)),
           mismatched == 0 && tag == final_step ? "exact" : "FAILED", sps[1], sps[0], fps, pps,
           wb_interop_frames_host_bytes_per_frame (frames), host_reads);
  ok = TRUE;

out:
  /* The worker must stop publishing before the frames go. */
  wb_runner_set_publish_func (runner, NULL, NULL, NULL);
  g_clear_object (&runner);
  g_free (h.error);
  g_mutex_clear (&h.lock);
  return ok;
}

static gboolean
run (GError **error)
{
  g_autoptr(WbPreset) preset = NULL;
  g_autoptr(GPtrArray) devices = NULL;
  g_autoptr(WbDevice) device = NULL;
  g_autoptr(WbEglHeadless) egl = NULL;
  g_autoptr(WbSim) sim = NULL;
  g_autoptr(WbFieldRenderer) renderer = NULL;
  g_autofree char *notice = NULL, *why = NULL, *warning = NULL;
  g_autofree float *slot = NULL;
  g_autofree guint8 *pixels = NULL;
  WbInteropCaps caps;
  WbInteropChoice choice = { 0 };
  WbInteropFrames *frames = NULL;
  const char *field, *source = NULL;
  WbDisplayPath forced;
  WbColormap cmap;
  Target target = { 0 };
  Timing solver_only = { 0 }, shown = { 0 }, host = { 0 };
  guint nx, ny;
  gsize offset = 0, n_cells;
  gboolean ok = FALSE;
  guint64 checks_failed = 0;

  preset = wb_preset_load (opt_preset ? opt_preset : "bhte-focused-ultrasound", error);
  if (preset == NULL)
    return FALSE;
  for (int i = 0; opt_set && opt_set[i]; i++)
    if (!wb_preset_set (preset, opt_set[i], error))
      return FALSE;

  devices = wb_device_list (&notice);
  if (notice)
    g_print ("note: %s\n", notice);
  device = wb_device_lookup (devices, opt_device ? opt_device : "auto", &why, error);
  if (device == NULL)
    return FALSE;
  if (wb_device_is_reference (device))
    {
      g_set_error (error, WB_ERROR, WB_ERROR_DEVICE,
                   "the proof needs an OpenCL device; the reference backend was chosen (%s)",
                   why ? why : "asked for");
      return FALSE;
    }
  g_print ("OpenCL device: %s (%s), %s\n", device->name, device->id, device->driver_version);

  /* The solver (OpenCL) and the Vulkan probe first, the GL context last:
   * nothing then runs between making it current and drawing but our own
   * calls, each followed by a check that it is still current. */
  sim = wb_sim_new (preset, device, NULL, error);
  if (sim == NULL)
    return FALSE;
  wb_interop_caps_init (&caps);
  wb_interop_caps_set_device (&caps, device);
  caps.prefer_finish = g_strcmp0 (g_getenv ("WAVEBENCH_INTEROP_SYNC"), "finish") == 0;
  wb_vk_probe (&caps);

  egl = wb_egl_headless_new (device->has_uuid ? device->uuid : NULL, error);
  if (egl == NULL)
    goto out;
  g_print ("GL: %s\n", egl->description);
  wb_gl_probe (&caps, WB_GL_API_EGL);
  {
    g_autofree char *cl_uuid = wb_uuid_to_string (caps.cl_uuid);
    g_autofree char *gl_uuid = caps.gl_n_uuids ? wb_uuid_to_string (caps.gl_uuids[0]) : g_strdup ("none");

    g_print ("caps: CL gl_sharing=%d gl_event=%d ext_mem_fd=%d ext_sem_fd=%d cl30=%d uuid=%s\n",
             caps.cl_gl_sharing, caps.cl_gl_event, caps.cl_external_memory_fd,
             caps.cl_external_semaphore_fd, caps.cl_create_buffer_with_properties,
             caps.cl_has_uuid ? cl_uuid : "none");
    g_print ("caps: GL memory_object_fd=%d semaphore_fd=%d uuid=%s\n",
             caps.gl_memory_object_fd, caps.gl_semaphore_fd, gl_uuid);
    if (!caps.vk_available)
      g_print ("caps: Vulkan unavailable: %s\n", caps.vk_error);
    for (guint i = 0; i < caps.vk_n_devices; i++)
      {
        g_autofree char *u = wb_uuid_to_string (caps.vk_devices[i].uuid);
        g_print ("caps: Vulkan %u '%s' ext_mem_fd=%d ext_sem_fd=%d uuid=%s\n", i,
                 caps.vk_devices[i].name, caps.vk_devices[i].external_memory_fd,
                 caps.vk_devices[i].external_semaphore_fd, u);
      }
  }

  forced = wb_interop_forced_path (g_getenv (WB_INTEROP_ENV), NULL, &source, &warning);
  if (opt_path != NULL)
    {
      if (!wb_display_path_from_string (opt_path, &forced))
        {
          g_set_error (error, WB_ERROR, WB_ERROR_INVALID,
                       "--path: '%s' is not one of auto, gl-sharing, external-memory, host-copy", opt_path);
          goto out;
        }
      source = "--path";
    }
  if (warning)
    g_print ("warning: %s\n", warning);
  wb_interop_choose (&caps, forced, source, &choice);
  if (choice.path == WB_DISPLAY_PATH_GL_SHARING)
    {
      /* The solver again, on a CL context made against this GL context
       * (wb_sim_new_full), as the app does; else the next path. */
      g_autoptr(GError) local = NULL;
      g_autoptr(WbClContext) glcl = wb_interop_cl_context_new_gl (device, WB_GL_API_EGL, egl->display,
                                                                  egl->context, &local);
      WbSim *shared = NULL;

      wb_egl_headless_ensure_current (egl, "the GL-shared OpenCL context");
      if (glcl != NULL)
        shared = wb_sim_new_full (preset, device, NULL, glcl, &local);
      wb_egl_headless_ensure_current (egl, "the solver's setup");
      if (shared != NULL)
        {
          wb_sim_free (sim);
          sim = shared;
          g_print ("note: the solver runs on a CL context made against the EGL context\n");
        }
      else
        {
          g_print ("note: gl-sharing offered, but no GL-shared solver: %s\n", local->message);
          wb_interop_choice_clear (&choice);
          wb_interop_choose_excluding (&caps, forced, source, WB_DISPLAY_PATH_GL_SHARING, local->message, &choice);
        }
    }
  g_print ("display path: %s (sync: %s)\n  why: %s\n", wb_display_path_to_string (choice.path),
           wb_interop_sync_to_string (choice.sync), choice.reason);

  field = opt_field ? opt_field : sim->default_field;
  if (!wb_sim_has_field (sim, field) || wb_sim_field_buffer (sim, field) == NULL)
    {
      g_set_error (error, WB_ERROR, WB_ERROR_NOT_FOUND,
                   "%s has no device field '%s'", sim->klass->name, field);
      goto out;
    }
  nx = sim->shape[0];
  ny = sim->ndim >= 2 ? sim->shape[1] : 1;
  n_cells = (gsize) nx * ny;
  if (sim->ndim == 3)
    {
      gsize k = opt_slice >= 0 ? (gsize) opt_slice : sim->shape[2] / 2;

      if (k >= sim->shape[2])
        {
          g_set_error (error, WB_ERROR, WB_ERROR_INVALID, "--slice %d: the grid has %" G_GSIZE_FORMAT " z cells",
                       opt_slice, sim->shape[2]);
          goto out;
        }
      offset = k * n_cells * sizeof (float);
    }
  g_print ("solver: %s, grid %" G_GSIZE_FORMAT "x%" G_GSIZE_FORMAT "x%" G_GSIZE_FORMAT
           ", field %s, slice %ux%u at byte %" G_GSIZE_FORMAT ", %d steps/frame\n",
           sim->klass->name, sim->shape[0], sim->shape[1], sim->shape[2], field, nx, ny,
           offset, opt_steps);

  if (!wb_colormap_from_string (g_str_equal (field, "T") ? "hot" : "viridis", &cmap))
    cmap = WB_COLORMAP_VIRIDIS;
  if (g_str_has_prefix (field, "Sigma") || g_str_has_prefix (field, "V"))
    cmap = WB_COLORMAP_DIVERGING;

  wb_egl_headless_ensure_current (egl, "the Vulkan probe and the solver's setup");
  renderer = wb_field_renderer_new ("#version 150\n", NULL, NULL, error);
  if (renderer == NULL)
    goto out;
  wb_field_renderer_set_size (renderer, nx, ny);
  wb_field_renderer_set_colormap (renderer, wb_colormap_table (cmap));
  if (!target_init (&target, nx, ny, error))
    goto out;

  frames = wb_interop_frames_new_with_fallback (sim->cl, &caps, &choice, n_cells, 3, error);
  wb_egl_headless_ensure_current (egl, "setting up the display path");
  if (frames == NULL)
    goto out;
  g_print ("display path in use: %s (sync: %s)\n  why: %s\n", wb_display_path_to_string (choice.path),
           wb_interop_sync_to_string (wb_interop_frames_get_sync (frames)), choice.reason);

  /* 1. Checks. */
  slot = g_new (float, n_cells);
  pixels = g_malloc ((gsize) n_cells * 4);
  for (int c = 0; c < opt_checks; c++)
    {
      g_autoptr(WbField) full = NULL;
      PixelStats st = { 0 };
      gboolean published, done;
      guint64 tag = 0;
      float vmin, vmax;
      gsize mismatched = 0;

      if (!wb_sim_step (sim, opt_steps * (c + 1) * 5, error))
        goto out;
      if (!wb_interop_frames_publish (frames, wb_sim_field_buffer (sim, field), offset,
                                      1000 + c, &published, error))
        goto out;
      wb_egl_headless_ensure_current (egl, "solver steps");
      if (!wb_interop_frames_show (frames, renderer, G_MAXUINT64, TRUE, &tag, &done, error))
        goto out;
      if (!published || !done || tag != (guint64) 1000 + c)
        {
          g_set_error (error, WB_ERROR, WB_ERROR_DEVICE, "check %d: the frame was not shown", c);
          goto out;
        }
      if (!wb_interop_frames_read_shown (frames, slot, error))
        goto out;
      full = wb_sim_read_field (sim, field, error);
      if (full == NULL)
        goto out;
      for (gsize i = 0; i < n_cells; i++)
        if (memcmp (&slot[i], (const guint8 *) full->data + offset + i * sizeof (float), sizeof (float)) != 0)
          mismatched++;

      vmin = G_MAXFLOAT;
      vmax = -G_MAXFLOAT;
      for (gsize i = 0; i < n_cells; i++)
        if (isfinite (slot[i]))
          {
            vmin = MIN (vmin, slot[i]);
            vmax = MAX (vmax, slot[i]);
          }
      wb_field_renderer_set_range (renderer, vmin, vmax);
      draw (renderer);
      glPixelStorei (GL_PACK_ALIGNMENT, 1);
      glReadPixels (0, 0, nx, ny, GL_RGBA, GL_UNSIGNED_BYTE, pixels);
      if (!wb_gl_check ("glReadPixels", error))
        goto out;
      compare_pixels (pixels, slot, nx, ny, cmap, vmin, vmax, &st);
      g_print ("check %d (step %" G_GUINT64_FORMAT "): slot vs solver field: %" G_GSIZE_FORMAT
               " of %" G_GSIZE_FORMAT " cells differ; range %.6g..%.6g; pixels: %" G_GUINT64_FORMAT
               " exact, %" G_GUINT64_FORMAT " one colormap entry off, %" G_GUINT64_FORMAT " wrong\n",
               c, sim->step, mismatched, n_cells, vmin, vmax, st.exact, st.neighbour, st.wrong);
      if (mismatched > 0 || st.wrong > 0 || vmax <= vmin)
        checks_failed++;
      if (opt_out)
        {
          g_autofree char *name = g_strdup_printf ("proof-%s-check%d.png",
                                                   wb_display_path_to_string (choice.path), c);
          if (!write_png (opt_out, name, pixels, nx, ny, error))
            goto out;
        }
    }

  /* 2. Timing.  The range stays that of the last check. */
  if (!time_solver (sim, &solver_only, error))
    goto out;
  if (!time_display (egl, sim, frames, renderer, field, offset, &shown, error))
    goto out;
  if (!opt_no_compare && choice.path != WB_DISPLAY_PATH_HOST_COPY)
    {
      WbInteropChoice hc = { .path = WB_DISPLAY_PATH_HOST_COPY, .vk_device = -1 };
      WbInteropFrames *hf = wb_interop_frames_new (sim->cl, &caps, &hc, n_cells, 3, error);

      if (hf == NULL)
        goto out;
      ok = time_display (egl, sim, hf, renderer, field, offset, &host, error);
      wb_interop_frames_free (hf);
      if (!ok)
        goto out;
      ok = FALSE;
    }

  g_print ("\n%-34s %12s %12s %10s %12s\n", "run", "steps/s", "frames/s", "shown", "host B/frame");
  g_print ("%-34s %12.1f %12s %10s %12s\n", "solver only", solver_only.steps / solver_only.seconds, "-", "-", "-");
  g_print ("%-34s %12.1f %12.1f %10" G_GUINT64_FORMAT " %12" G_GUINT64_FORMAT "\n",
           wb_display_path_to_string (choice.path), shown.steps / shown.seconds,
           shown.frames_shown / shown.seconds, shown.frames_shown, shown.host_bytes_per_frame);
  if (host.seconds > 0)
    g_print ("%-34s %12.1f %12.1f %10" G_GUINT64_FORMAT " %12" G_GUINT64_FORMAT "\n",
             "host-copy (comparison)", host.steps / host.seconds,
             host.frames_shown / host.seconds, host.frames_shown, host.host_bytes_per_frame);
  g_print ("RESULT path=%s sync=%s checks=%d failed=%" G_GUINT64_FORMAT " solver_steps_per_s=%.1f "
           "display_steps_per_s=%.1f frames_per_s=%.1f host_bytes_per_frame=%" G_GUINT64_FORMAT
           " hostcopy_steps_per_s=%.1f hostcopy_frames_per_s=%.1f hostcopy_bytes_per_frame=%" G_GUINT64_FORMAT "\n",
           wb_display_path_to_string (choice.path),
           wb_interop_sync_to_string (wb_interop_frames_get_sync (frames)), opt_checks, checks_failed,
           solver_only.steps / solver_only.seconds, shown.steps / shown.seconds,
           shown.frames_shown / shown.seconds, shown.host_bytes_per_frame,
           host.seconds > 0 ? host.steps / host.seconds : 0,
           host.seconds > 0 ? host.frames_shown / host.seconds : 0, host.host_bytes_per_frame);
  if (opt_runner > 0)
    {
      /* The runner takes the sim over. */
      if (!run_runner (egl, g_steal_pointer (&sim), frames, renderer, field, offset, n_cells,
                       &checks_failed, error))
        goto out;
      wb_egl_headless_ensure_current (egl, "the runner");
    }
  if (checks_failed > 0)
    g_set_error (error, WB_ERROR, WB_ERROR_DEVICE, "%" G_GUINT64_FORMAT " of %d checks failed",
                 checks_failed, opt_checks + (opt_runner > 0));
  else
    ok = TRUE;

out:
  g_clear_pointer (&frames, wb_interop_frames_free);
  if (egl)
    wb_egl_headless_ensure_current (egl, "freeing the display path");
  if (target.fbo)
    {
      glDeleteFramebuffers (1, &target.fbo);
      glDeleteRenderbuffers (1, &target.rb);
    }
  g_clear_pointer (&renderer, wb_field_renderer_free);
  g_clear_pointer (&sim, wb_sim_free);
  wb_interop_choice_clear (&choice);
  wb_interop_caps_clear (&caps);
  return ok;
}

int
main (int   argc,
      char *argv[])
{
  g_autoptr(GOptionContext) ctx = g_option_context_new ("- zero-copy display proof");
  g_autoptr(GError) error = NULL;

  g_option_context_add_main_entries (ctx, entries, NULL);
  if (!g_option_context_parse (ctx, &argc, &argv, &error))
    {
      g_printerr ("wb-interop-proof: %s\n", error->message);
      return 2;
    }
  if (opt_frames < 1 || opt_steps < 1 || opt_checks < 0)
    {
      g_printerr ("wb-interop-proof: --frames and --steps-per-frame must be at least 1\n");
      return 2;
    }
  if (!run (&error))
    {
      g_printerr ("wb-interop-proof: %s\n", error->message);
      return error->domain == WB_ERROR && error->code <= WB_ERROR_TOO_LARGE ? 2 : 1;
    }
  return 0;
}
