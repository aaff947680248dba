#include "config.h"

#include <math.h>

#include "wb-device.h"
#include "wb-error.h"
#include "wb-runner.h"

/* A fake solver with an exactly known state: u(i, j) = i + 100 j + step.
 * It counts read-backs so the tests can check that frames are only copied
 * when wanted, and can fail at a chosen step like a diverging run. */
typedef struct
{
  WbSim   parent;
  guint64 fail_at;          /* 0: never */
  gulong  sleep_us;         /* per step, to make runs take time */
  gint    reads;            /* atomic */
} FakeSim;

static const char *fake_fields[] = { "u", NULL };

static gboolean
fake_step (WbSim *sim, guint n, GError **error)
{
  FakeSim *fake = (FakeSim *) sim;

  for (guint s = 0; s < n; s++)
    {
      if (fake->fail_at != 0 && sim->step + 1 >= fake->fail_at)
        {
          g_set_error (error, WB_ERROR, WB_ERROR_DIVERGED,
                       "fake: non-finite value at step %" G_GUINT64_FORMAT,
                       sim->step + 1);
          return FALSE;
        }
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

  if (g_strcmp0 (name, "u") != 0)
    {
      g_set_error (error, WB_ERROR, WB_ERROR_NOT_FOUND, "fake: no field '%s'", name);
      return NULL;
    }
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
fake_sim_new (guint64 total_steps)
{
  FakeSim *fake = g_new0 (FakeSim, 1);
  WbSim *sim = &fake->parent;

  sim->klass = &fake_class;
  sim->device = NULL;
  sim->ndim = 2;
  sim->shape[0] = 8;
  sim->shape[1] = 4;
  sim->shape[2] = 1;
  sim->spacing[0] = sim->spacing[1] = sim->spacing[2] = 0.001;
  sim->dt = 0.5;
  sim->total_steps = total_steps;
  sim->field_names = fake_fields;
  sim->default_field = "u";
  return fake;
}

/* Iterates the default context until @done is TRUE or @timeout_s passes. */
static gboolean
wait_for (gboolean (*done) (WbRunner *), WbRunner *runner, double timeout_s)
{
  gint64 end = g_get_monotonic_time () + timeout_s * G_USEC_PER_SEC;

  while (!done (runner))
    {
      if (g_get_monotonic_time () > end)
        return FALSE;
      g_main_context_iteration (NULL, FALSE);
      g_usleep (1000);
    }
  return TRUE;
}

static gboolean
is_loaded (WbRunner *runner)
{
  return wb_runner_get_info (runner) != NULL && wb_runner_get_state (runner) == WB_RUNNER_IDLE;
}

static guint64 target_step;

static gboolean
reached_target (WbRunner *runner)
{
  return wb_runner_get_step (runner) >= target_step
         && wb_runner_get_state (runner) == WB_RUNNER_IDLE;
}

static gboolean
reached_target_or_failed (WbRunner *runner)
{
  return reached_target (runner) || wb_runner_get_state (runner) == WB_RUNNER_FAILED;
}

static gboolean
is_failed (WbRunner *runner)
{
  return wb_runner_get_state (runner) == WB_RUNNER_FAILED;
}

static void
test_runner_step (void)
{
  g_autoptr(WbRunner) runner = wb_runner_new ();
  FakeSim *fake = fake_sim_new (0);
  const WbRunnerInfo *info;
  g_autoptr(WbField) frame = NULL;
  guint64 step = 0;
  double t = 0;

  wb_runner_set_display_field (runner, "u");
  wb_runner_set_sim (runner, &fake->parent);
  g_assert_true (wait_for (is_loaded, runner, 10));
  info = wb_runner_get_info (runner);
  g_assert_cmpstr (info->solver, ==, "fake");
  g_assert_cmpuint (info->shape[0], ==, 8);
  g_assert_cmpstr (info->default_field, ==, "u");

  target_step = 7;
  wb_runner_step (runner, 7);
  g_assert_true (wait_for (reached_target, runner, 10));
  /* Exactly the steps asked for, not a chunk more. */
  g_assert_cmpuint (wb_runner_get_step (runner), ==, 7);
  g_assert_cmpfloat_with_epsilon (wb_runner_get_sim_time (runner), 3.5, 1e-12);

  /* The frame after the request shows step 7 (the worker reads one when
   * it goes idle with a changed state). */
  for (int tries = 0; tries < 5000; tries++)
    {
      g_clear_pointer (&frame, wb_field_unref);
      frame = wb_runner_take_frame (runner, &step, &t);
      if (frame != NULL && step == 7)
        break;
      g_main_context_iteration (NULL, FALSE);
      g_usleep (1000);
    }
  g_assert_nonnull (frame);
  g_assert_cmpuint (step, ==, 7);
  g_assert_cmpfloat (frame->data[wb_field_index (frame, 3, 2, 0)], ==, 3 + 200 + 7);
}

static gboolean
notify_counter (gpointer data)
{
  return TRUE;
}

static void
count_notify (GObject *object, GParamSpec *pspec, guint *count)
{
  (*count)++;
}

static void
test_runner_run_pause (void)
{
  g_autoptr(WbRunner) runner = wb_runner_new ();
  FakeSim *fake = fake_sim_new (40);
  guint64 paused_at;

  fake->sleep_us = 200;
  wb_runner_set_sim (runner, &fake->parent);
  g_assert_true (wait_for (is_loaded, runner, 10));

  /* A run stops by itself at the preset's step count. */
  target_step = 40;
  wb_runner_run (runner);
  g_assert_true (wait_for (reached_target, runner, 10));
  g_assert_cmpuint (wb_runner_get_step (runner), ==, 40);
  g_assert_false (wb_runner_get_running (runner));

  /* Past the end, run continues until paused. */
  fake->sleep_us = 1000;
  wb_runner_run (runner);
  while (wb_runner_get_step (runner) < 60)
    g_main_context_iteration (NULL, TRUE);
  wb_runner_pause (runner);
  g_assert_true (wait_for (reached_target, runner, 10));
  g_usleep (100000);
  while (g_main_context_iteration (NULL, FALSE));
  paused_at = wb_runner_get_step (runner);
  g_usleep (100000);
  while (g_main_context_iteration (NULL, FALSE));
  g_assert_cmpuint (wb_runner_get_step (runner), ==, paused_at);
  g_assert_cmpuint (paused_at, >, 60);
  (void) notify_counter;
}

/* However fast the solver, notices are coalesced: one pending idle at most. */
static void
test_runner_coalesced (void)
{
  g_autoptr(WbRunner) runner = wb_runner_new ();
  FakeSim *fake = fake_sim_new (0);
  guint notifies = 0;
  guint64 before;

  fake->sleep_us = 20;
  wb_runner_set_sim (runner, &fake->parent);
  g_assert_true (wait_for (is_loaded, runner, 10));
  g_signal_connect (runner, "notify::step", G_CALLBACK (count_notify), &notifies);

  before = wb_runner_get_step (runner);
  wb_runner_run (runner);
  /* The main loop is not iterated for 300 ms while the worker runs many
   * chunks (each about 25 ms): they must all fold into one notice. */
  g_usleep (300000);
  g_main_context_iteration (NULL, FALSE);
  g_assert_cmpuint (notifies, ==, 1);
  g_assert_cmpuint (wb_runner_get_step (runner) - before, >, 1000);
  wb_runner_pause (runner);
}

/* Without a display field nothing is read back; with one that nobody takes,
 * exactly one frame is read and the solver keeps going. */
static void
test_runner_frames_when_wanted (void)
{
  g_autoptr(WbRunner) runner = wb_runner_new ();
  FakeSim *fake = fake_sim_new (0);

  /* 100 us per step caps chunks near 250 steps, so the 2000 steps below
   * take several chunks and the first frame is not the final state. */
  fake->sleep_us = 100;
  wb_runner_set_sim (runner, &fake->parent);
  g_assert_true (wait_for (is_loaded, runner, 10));

  target_step = 2000;
  wb_runner_step (runner, 2000);
  g_assert_true (wait_for (reached_target, runner, 10));
  g_assert_cmpint (g_atomic_int_get (&fake->reads), ==, 0);

  wb_runner_set_display_field (runner, "u");
  target_step = 4000;
  wb_runner_step (runner, 2000);
  g_assert_true (wait_for (reached_target, runner, 10));
  g_usleep (50000);
  g_assert_cmpint (g_atomic_int_get (&fake->reads), ==, 1);
  g_assert_cmpuint (wb_runner_get_frames_read (runner), ==, 1);

  /* Taking it asks for the next one, which shows the final state. */
  {
    g_autoptr(WbField) first = wb_runner_take_frame (runner, NULL, NULL);
    g_autoptr(WbField) second = NULL;
    guint64 step = 0;

    g_assert_nonnull (first);
    for (int tries = 0; tries < 5000 && second == NULL; tries++)
      {
        g_main_context_iteration (NULL, FALSE);
        g_usleep (1000);
        second = wb_runner_take_frame (runner, &step, NULL);
      }
    g_assert_nonnull (second);
    g_assert_cmpuint (step, ==, 4000);
    g_assert_cmpfloat (second->data[0], ==, 4000);
    g_assert_cmpint (g_atomic_int_get (&fake->reads), ==, 2);
  }
}

static void
on_failed (WbRunner *runner, const GError *error, GError **out)
{
  g_clear_error (out);
  *out = g_error_copy (error);
}

static void
test_runner_error (void)
{
  g_autoptr(WbRunner) runner = wb_runner_new ();
  FakeSim *fake = fake_sim_new (0);
  g_autoptr(GError) failed = NULL;

  fake->fail_at = 5;
  g_signal_connect (runner, "failed", G_CALLBACK (on_failed), &failed);
  wb_runner_set_sim (runner, &fake->parent);
  g_assert_true (wait_for (is_loaded, runner, 10));
  wb_runner_step (runner, 10);
  g_assert_true (wait_for (is_failed, runner, 10));
  while (g_main_context_iteration (NULL, FALSE));
  g_assert_error (failed, WB_ERROR, WB_ERROR_DIVERGED);
  g_assert_cmpstr (failed->message, ==, "fake: non-finite value at step 5");
  g_assert_cmpuint (wb_runner_get_step (runner), ==, 4);
  g_assert_nonnull (wb_runner_get_error (runner));

  /* Further steps are refused until a new simulation is loaded. */
  wb_runner_step (runner, 1);
  g_usleep (20000);
  while (g_main_context_iteration (NULL, FALSE));
  g_assert_cmpuint (wb_runner_get_step (runner), ==, 4);

  /* The runner stays usable. */
  wb_runner_set_sim (runner, &fake_sim_new (0)->parent);
  g_assert_true (wait_for (is_loaded, runner, 10));
  g_assert_null (wb_runner_get_error (runner));
  target_step = 3;
  wb_runner_step (runner, 3);
  g_assert_true (wait_for (reached_target, runner, 10));
  g_assert_cmpuint (wb_runner_get_step (runner), ==, 3);
}

static void
test_runner_probes (void)
{
  g_autoptr(WbRunner) runner = wb_runner_new ();
  const char *fields[] = { "u", NULL };
  g_autoptr(GPtrArray) probes = NULL;
  g_auto(GStrv) names = NULL;
  WbProbe *probe;
  guint n;

  wb_runner_set_probe_fields (runner, fields);
  g_assert_cmpuint (wb_runner_add_probe (runner, 2, 1, 0), ==, 0);
  g_assert_cmpuint (wb_runner_add_probe (runner, 7, 3, 0), ==, 1);
  wb_runner_set_sim (runner, &fake_sim_new (0)->parent);
  g_assert_true (wait_for (is_loaded, runner, 10));
  target_step = 10;
  wb_runner_step (runner, 10);
  g_assert_true (wait_for (reached_target, runner, 10));
  g_usleep (20000);
  while (g_main_context_iteration (NULL, FALSE));

  probes = wb_runner_copy_probes (runner, &names);
  g_assert_cmpstrv (names, fields);
  g_assert_cmpuint (probes->len, ==, 2);
  probe = g_ptr_array_index (probes, 0);
  n = probe->times->len;
  g_assert_cmpuint (n, >=, 2);     /* at least step 0 and the end */
  /* The first sample is taken before any step. */
  g_assert_cmpfloat (g_array_index (probe->times, double, 0), ==, 0.0);
  g_assert_cmpfloat (g_array_index (probe->values, double, 0), ==, 102);
  g_assert_cmpuint (probe->values->len, ==, n);
  /* The last sample is at the final step: t = 10 dt, u = 2 + 100 + 10. */
  g_assert_cmpfloat (g_array_index (probe->times, double, n - 1), ==, 5.0);
  g_assert_cmpfloat (g_array_index (probe->values, double, n - 1), ==, 112);
  probe = g_ptr_array_index (probes, 1);
  g_assert_cmpfloat (g_array_index (probe->values, double, probe->values->len - 1), ==, 7 + 300 + 10);
  /* Samples are in time order, each value consistent with its time. */
  for (guint s = 0; s < probe->times->len; s++)
    {
      double t = g_array_index (probe->times, double, s);
      g_assert_cmpfloat (g_array_index (probe->values, double, s), ==, 307 + t / 0.5);
    }
}

static void
read_done (GObject *source, GAsyncResult *result, gpointer data)
{
  WbField **out = data;
  GError *error = NULL;

  *out = wb_runner_read_field_finish (WB_RUNNER (source), result, &error);
  g_assert_no_error (error);
}

static void
test_runner_read_field (void)
{
  g_autoptr(WbRunner) runner = wb_runner_new ();
  g_autoptr(WbField) field = NULL;

  wb_runner_set_sim (runner, &fake_sim_new (0)->parent);
  g_assert_true (wait_for (is_loaded, runner, 10));
  target_step = 4;
  wb_runner_step (runner, 4);
  g_assert_true (wait_for (reached_target, runner, 10));
  wb_runner_read_field_async (runner, "u", NULL, read_done, &field);
  while (field == NULL)
    g_main_context_iteration (NULL, TRUE);
  g_assert_cmpfloat (field->data[wb_field_index (field, 5, 3, 0)], ==, 5 + 300 + 4);
}

/* A real solver through wb_runner_load: the frame equals what the engine
 * computes directly for the same preset and step count on the reference
 * backend (same code path, so exactly equal). */
static void
test_runner_bhte (void)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(WbPreset) preset = wb_preset_load ("bhte-gaussian", &error);
  g_autoptr(GPtrArray) devices = NULL;
  g_autoptr(WbDevice) device = NULL;
  g_autoptr(WbRunner) runner = NULL;
  g_autoptr(WbSim) sim = NULL;
  g_autoptr(WbField) direct = NULL;
  g_autoptr(WbField) frame = NULL;
  const WbRunnerInfo *info;
  guint64 step = 0;
  gsize n;

  if (preset == NULL)
    {
      g_test_skip_printf ("bhte-gaussian: %s", error->message);
      return;
    }
  g_assert_true (wb_preset_set (preset, "time.steps=3", &error));
  devices = wb_device_list (NULL);
  device = wb_device_lookup (devices, "reference", NULL, &error);
  g_assert_no_error (error);

  runner = wb_runner_new ();
  wb_runner_set_display_field (runner, "T");
  wb_runner_load (runner, preset, device, NULL);
  target_step = 3;
  wb_runner_step (runner, 3);
  g_assert_true (wait_for (reached_target_or_failed, runner, 60));
  g_assert_no_error ((GError *) wb_runner_get_error (runner));
  info = wb_runner_get_info (runner);
  g_assert_cmpstr (info->solver, ==, "bhte");
  g_assert_true (g_strv_contains ((const char * const *) info->field_names, "T"));
  g_assert_true (g_strv_contains ((const char * const *) info->field_names, "dose"));

  for (int tries = 0; tries < 10000; tries++)
    {
      g_clear_pointer (&frame, wb_field_unref);
      frame = wb_runner_take_frame (runner, &step, NULL);
      if (frame != NULL && step == 3)
        break;
      g_main_context_iteration (NULL, FALSE);
      g_usleep (1000);
    }
  g_assert_nonnull (frame);
  g_assert_cmpuint (step, ==, 3);

  sim = wb_sim_new (preset, device, NULL, &error);
  g_assert_no_error (error);
  g_assert_true (wb_sim_step (sim, 3, &error));
  direct = wb_sim_read_field (sim, "T", &error);
  g_assert_no_error (error);
  n = wb_field_n_elements (direct);
  g_assert_cmpuint (wb_field_n_elements (frame), ==, n);
  g_assert_cmpmem (frame->data, n * sizeof (float), direct->data, n * sizeof (float));
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/wavebench/runner/step", test_runner_step);
  g_test_add_func ("/wavebench/runner/run-pause", test_runner_run_pause);
  g_test_add_func ("/wavebench/runner/coalesced", test_runner_coalesced);
  g_test_add_func ("/wavebench/runner/frames-when-wanted", test_runner_frames_when_wanted);
  g_test_add_func ("/wavebench/runner/error", test_runner_error);
  g_test_add_func ("/wavebench/runner/probes", test_runner_probes);
  g_test_add_func ("/wavebench/runner/read-field", test_runner_read_field);
  g_test_add_func ("/wavebench/runner/bhte", test_runner_bhte);
  return g_test_run ();
}
