/* The runner's publish hook (wb_runner_set_publish_func, docs/interop.md):
 * called on the worker thread after the steps of a frame with the sim at
 * that step, once more when stepping stops and on request; while it serves
 * the display, host frames are read at a low rate only.  And
 * wb_sim_new_full (): a sim made on a given OpenCL context. */
#include "config.h"

#include <math.h>
#include <string.h>

#include "wb-device.h"
#include "wb-error.h"
#include "wb-runner.h"

/* A fake solver whose field is u(i, j) = i + 100 j + step, counting the
 * host read-backs, with a step that takes a set time. */
typedef struct
{
  WbSim   parent;
  gulong  sleep_us;
  gint    reads;            /* atomic */
} FakeSim;

static const char *fake_fields[] = { "u", NULL };

static gboolean
fake_step (WbSim *sim, guint n, GError **error)
{
  FakeSim *fake = (FakeSim *) sim;

  for (guint s = 0; s < n; s++)
    {
      sim->step++;
      if (fake->sleep_us)
        g_usleep (fake->sleep_us);
    }
  return TRUE;
}

static gboolean
fake_finish (WbSim *sim, GError **error)
{
  return TRUE;
}

static WbField *
fake_read_field (WbSim *sim, const char *name, GError **error)
{
  FakeSim *fake = (FakeSim *) sim;
  WbField *field;

  g_atomic_int_inc (&fake->reads);
  field = wb_field_new ("u", "m", 2, sim->shape, sim->spacing);
  for (gsize j = 0; j < sim->shape[1]; j++)
    for (gsize i = 0; i < sim->shape[0]; i++)
      field->data[wb_field_index (field, i, j, 0)] = i + 100.0 * j + sim->step;
  return field;
}

static void
fake_free (WbSim *sim)
{
  g_free (sim);
}

static const WbSimClass fake_class = {
  .name = "fake",
  .free = fake_free,
  .step = fake_step,
  .finish = fake_finish,
  .read_field = fake_read_field,
};

static FakeSim *
fake_sim_new (gulong sleep_us)
{
  FakeSim *fake = g_new0 (FakeSim, 1);
  WbSim *sim = &fake->parent;

  sim->klass = &fake_class;
  sim->ndim = 2;
  sim->shape[0] = 8;
  sim->shape[1] = 4;
  sim->shape[2] = 1;
  sim->spacing[0] = sim->spacing[1] = sim->spacing[2] = 0.001;
  sim->dt = 0.5;
  sim->field_names = fake_fields;
  sim->default_field = "u";
  fake->sleep_us = sleep_us;
  return fake;
}

/* What the hook saw. */
typedef struct
{
  GMutex    lock;
  GThread  *main_thread;
  gboolean  serve;          /* what the hook returns */
  guint     calls;
  guint     off_main;       /* calls on a thread other than the test's */
  guint     mismatched;     /* the step passed was not the sim's step */
  guint     backwards;      /* a step older than the previous call's */
  guint     wrong_field;
  guint64   last_step;
  WbClContext *last_cl;     /* borrowed, compared only */
  gboolean  destroyed;
} HookLog;

static gboolean
hook (WbSim      *sim,
      const char *field,
      guint64     step,
      gpointer    data)
{
  HookLog *log = data;

  g_mutex_lock (&log->lock);
  log->calls++;
  if (g_thread_self () != log->main_thread)
    log->off_main++;
  if (step != sim->step)
    log->mismatched++;
  if (log->calls > 1 && step < log->last_step)
    log->backwards++;
  if (g_strcmp0 (field, "u") != 0 && sim->klass == &fake_class)
    log->wrong_field++;
  log->last_step = step;
  log->last_cl = sim->cl;
  g_mutex_unlock (&log->lock);
  return log->serve;
}

static void
hook_destroy (gpointer data)
{
  HookLog *log = data;

  log->destroyed = TRUE;
}

static void
hook_log_init (HookLog *log,
               gboolean serve)
{
  memset (log, 0, sizeof *log);
  g_mutex_init (&log->lock);
  log->main_thread = g_thread_self ();
  log->serve = serve;
}

static guint
hook_calls (HookLog *log)
{
  guint n;

  g_mutex_lock (&log->lock);
  n = log->calls;
  g_mutex_unlock (&log->lock);
  return n;
}

static guint64
hook_last_step (HookLog *log)
{
  guint64 step;

  g_mutex_lock (&log->lock);
  step = log->last_step;
  g_mutex_unlock (&log->lock);
  return step;
}

static void
iterate_until (gboolean (*done) (gpointer), gpointer data, double timeout_s)
{
  gint64 end = g_get_monotonic_time () + timeout_s * G_USEC_PER_SEC;

  while (!done (data))
    {
      g_assert_cmpint (g_get_monotonic_time (), <, end);
      g_main_context_iteration (NULL, FALSE);
      g_usleep (1000);
    }
}

static gboolean
loaded (gpointer data)
{
  WbRunner *runner = data;
  return wb_runner_get_info (runner) != NULL && wb_runner_get_state (runner) == WB_RUNNER_IDLE;
}

static guint64 target;

static gboolean
at_target (gpointer data)
{
  WbRunner *runner = data;
  return wb_runner_get_step (runner) >= target && wb_runner_get_state (runner) == WB_RUNNER_IDLE;
}

/* The hook runs on the worker, after steps, with the sim at the step it is
 * given, the final step included; never on the caller's thread. */
static void
test_publish_hook (void)
{
  g_autoptr(WbRunner) runner = wb_runner_new ();
  FakeSim *fake = fake_sim_new (2000);
  HookLog log;
  guint before;

  hook_log_init (&log, TRUE);
  wb_runner_set_publish_func (runner, hook, &log, hook_destroy);
  wb_runner_set_max_fps (runner, 100);
  wb_runner_set_display_field (runner, "u");
  wb_runner_set_sim (runner, &fake->parent);
  iterate_until (loaded, runner, 10);

  target = 300;
  wb_runner_step (runner, 300);
  iterate_until (at_target, runner, 30);
  /* The call at the final step comes once stepping has stopped. */
  for (int i = 0; i < 2000 && (hook_calls (&log) == 0 || hook_last_step (&log) != 300); i++)
    {
      g_main_context_iteration (NULL, FALSE);
      g_usleep (1000);
    }

  g_mutex_lock (&log.lock);
  g_test_message ("%u calls for 300 steps of 2 ms at most 100 frames/s", log.calls);
  /* 0.6 s of steps at 100 frames/s: tens of calls (one per frame, not
   * one per step), all on the worker, each with the sim at its step. */
  g_assert_cmpuint (log.calls, >=, 10);
  g_assert_cmpuint (log.calls, <, 150);
  g_assert_cmpuint (log.off_main, ==, log.calls);
  g_assert_cmpuint (log.mismatched, ==, 0);
  g_assert_cmpuint (log.backwards, ==, 0);
  g_assert_cmpuint (log.wrong_field, ==, 0);
  g_assert_cmpuint (log.last_step, ==, 300);
  before = log.calls;
  g_mutex_unlock (&log.lock);
  g_assert_cmpuint (wb_runner_get_frames_published (runner), ==, before);

  /* Idle: no more calls, until asked for. */
  g_usleep (50000);
  g_main_context_iteration (NULL, FALSE);
  g_assert_cmpuint (hook_calls (&log), ==, before);
  wb_runner_request_publish (runner);
  for (int i = 0; i < 2000 && hook_calls (&log) == before; i++)
    g_usleep (1000);
  g_assert_cmpuint (hook_calls (&log), ==, before + 1);
  g_assert_cmpuint (hook_last_step (&log), ==, 300);

  /* Cleared: the destroy notify ran and no call follows. */
  wb_runner_set_publish_func (runner, NULL, NULL, NULL);
  g_assert_true (log.destroyed);
  before = hook_calls (&log);
  target = 320;
  wb_runner_step (runner, 20);
  iterate_until (at_target, runner, 30);
  g_usleep (20000);
  g_assert_cmpuint (hook_calls (&log), ==, before);
  g_mutex_clear (&log.lock);
}

/* Display off: no calls while stepping; back on while paused: a call at
 * once with the current step (else the view would keep an old frame). */
static void
test_publish_display_toggle (void)
{
  g_autoptr(WbRunner) runner = wb_runner_new ();
  FakeSim *fake = fake_sim_new (100);
  HookLog log;
  guint before;

  hook_log_init (&log, TRUE);
  wb_runner_set_publish_func (runner, hook, &log, NULL);
  wb_runner_set_display_field (runner, "u");
  wb_runner_set_sim (runner, &fake->parent);
  iterate_until (loaded, runner, 10);
  for (int i = 0; i < 2000 && hook_calls (&log) == 0; i++)
    g_usleep (1000);
  g_assert_cmpuint (hook_calls (&log), >, 0);

  wb_runner_set_display_field (runner, NULL);
  before = hook_calls (&log);
  target = 50;
  wb_runner_step (runner, 50);
  iterate_until (at_target, runner, 30);
  g_usleep (20000);
  g_assert_cmpuint (hook_calls (&log), ==, before);

  wb_runner_set_display_field (runner, "u");
  for (int i = 0; i < 2000 && hook_calls (&log) == before; i++)
    g_usleep (1000);
  g_assert_cmpuint (hook_calls (&log), ==, before + 1);
  g_assert_cmpuint (hook_last_step (&log), ==, 50);
  wb_runner_set_publish_func (runner, NULL, NULL, NULL);
  g_mutex_clear (&log.lock);
}

/* While the hook serves the display, host frames come at the low rate
 * (every 0.5 s and at the end); when it does not, at the frame rate. */
static void
test_publish_host_rate (void)
{
  guint reads[2];
  guint calls[2];
  double secs[2];

  for (int serve = 0; serve < 2; serve++)
    {
      g_autoptr(WbRunner) runner = wb_runner_new ();
      FakeSim *fake = fake_sim_new (2000);
      g_autoptr(WbField) frame = NULL;
      HookLog log;
      guint64 step = 0;
      gint64 t0;

      hook_log_init (&log, serve);
      wb_runner_set_publish_func (runner, hook, &log, NULL);
      wb_runner_set_max_fps (runner, 100);
      wb_runner_set_display_field (runner, "u");
      wb_runner_set_sim (runner, &fake->parent);
      iterate_until (loaded, runner, 10);
      /* The consumer takes every host frame offered (as the window does). */
      t0 = g_get_monotonic_time ();
      target = 600;
      wb_runner_step (runner, 600);
      while (!at_target (runner))
        {
          g_clear_pointer (&frame, wb_field_unref);
          frame = wb_runner_take_frame (runner, &step, NULL);
          g_main_context_iteration (NULL, FALSE);
          g_usleep (1000);
          g_assert_cmpint (g_get_monotonic_time () - t0, <, 30 * G_USEC_PER_SEC);
        }
      /* The host frame of the final step arrives, served or not. */
      for (int i = 0; i < 3000 && step != 600; i++)
        {
          WbField *f = wb_runner_take_frame (runner, &step, NULL);
          if (f != NULL)
            {
              g_clear_pointer (&frame, wb_field_unref);
              frame = f;
            }
          g_main_context_iteration (NULL, FALSE);
          g_usleep (1000);
        }
      g_assert_cmpuint (step, ==, 600);
      g_assert_cmpfloat (frame->data[wb_field_index (frame, 3, 2, 0)], ==, 3 + 200 + 600);
      reads[serve] = g_atomic_int_get (&fake->reads);
      calls[serve] = hook_calls (&log);
      secs[serve] = (g_get_monotonic_time () - t0) / 1e6;
      g_test_message ("hook %s: %u host reads, %u hook calls, %.2f s",
                      serve ? "serving" : "not serving", reads[serve], calls[serve],
                      (g_get_monotonic_time () - t0) / 1e6);
      g_mutex_clear (&log.lock);
    }
  /* 1.2 s or more of steps.  Serving: one read for the snapshot's layout,
   * one each 0.5 s, one at the end (and the load's): a handful.  Not
   * serving: one per frame, tens (the run is as long either way: the
   * steps sleep). */
  g_assert_cmpuint (reads[1], <=, secs[1] / 0.5 + 4);
  g_assert_cmpuint (reads[0], >=, 2 * reads[1]);
  g_assert_cmpuint (calls[1], >=, 20);
}

/* A sim made on a given context uses it; the runner makes its sims on the
 * context it was given. */
static void
test_sim_new_full (void)
{
  g_autoptr(GPtrArray) devices = wb_device_list (NULL);
  g_autoptr(WbPreset) preset = NULL;
  g_autoptr(GError) error = NULL;
  g_autoptr(WbClContext) cl = NULL;
  g_autoptr(WbSim) own = NULL;
  g_autoptr(WbSim) given = NULL;
  g_autoptr(WbRunner) runner = NULL;
  WbDevice *device = NULL;
  HookLog log;

  for (guint i = 0; i < devices->len && device == NULL; i++)
    if (!wb_device_is_reference (g_ptr_array_index (devices, i)))
      device = g_ptr_array_index (devices, i);
  if (device == NULL)
    {
      g_test_skip ("no OpenCL device");
      return;
    }
  preset = wb_preset_load ("bhte-gaussian", &error);
  g_assert_no_error (error);
  g_assert_true (wb_preset_set (preset, "grid.shape=[16,16,16]", &error));
  cl = wb_cl_context_new (device, &error);
  g_assert_no_error (error);

  own = wb_sim_new_full (preset, device, NULL, NULL, &error);
  g_assert_no_error (error);
  g_assert_true (own->cl != cl);
  given = wb_sim_new_full (preset, device, NULL, cl, &error);
  g_assert_no_error (error);
  g_assert_true (given->cl == cl);
  /* The thread default is gone afterwards. */
  {
    g_autoptr(WbClContext) other = wb_cl_context_new (device, &error);
    g_assert_no_error (error);
    g_assert_true (other != cl);
  }
  /* Both compute the same. */
  {
    g_autoptr(WbField) a = NULL;
    g_autoptr(WbField) b = NULL;

    g_assert_true (wb_sim_step (own, 3, &error) && wb_sim_step (given, 3, &error));
    a = wb_sim_read_field (own, "T", &error);
    b = wb_sim_read_field (given, "T", &error);
    g_assert_no_error (error);
    g_assert_cmpmem (a->data, wb_field_n_elements (a) * 4, b->data, wb_field_n_elements (b) * 4);
  }

  runner = wb_runner_new ();
  hook_log_init (&log, FALSE);
  wb_runner_set_cl_context (runner, cl);
  wb_runner_set_publish_func (runner, hook, &log, NULL);
  wb_runner_set_display_field (runner, "T");
  wb_runner_load (runner, preset, device, NULL);
  iterate_until (loaded, runner, 60);
  for (int i = 0; i < 2000 && hook_calls (&log) == 0; i++)
    g_usleep (1000);
  g_assert_cmpuint (hook_calls (&log), >, 0);
  /* Cleared first: no call runs once this returns. */
  wb_runner_set_publish_func (runner, NULL, NULL, NULL);
  g_assert_true (log.last_cl == cl);
  g_mutex_clear (&log.lock);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/wavebench/runner-publish/hook", test_publish_hook);
  g_test_add_func ("/wavebench/runner-publish/host-rate", test_publish_host_rate);
  g_test_add_func ("/wavebench/runner-publish/display-toggle", test_publish_display_toggle);
  g_test_add_func ("/wavebench/runner-publish/sim-new-full", test_sim_new_full);
  return g_test_run ();
}
