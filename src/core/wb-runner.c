#define G_LOG_DOMAIN "wb-runner"
#include "config.h"

#include <math.h>

#include "wb-error.h"
#include "wb-guard.h"
#include "wb-runner.h"

/* Steps are enqueued in chunks sized to take about this long, so that the
 * OpenCL queue stays full within a chunk while commands (pause, a frame
 * request) are still answered promptly. */
#define CHUNK_TARGET_SECONDS 0.025
#define CHUNK_MAX            100000
/* Rates are averaged over windows of this length. */
#define RATE_WINDOW_SECONDS  0.5
/* Probe fields are sampled at most this often (wall clock), and always at
 * the end of a step request or run. */
#define PROBE_INTERVAL_SECONDS 0.05

struct _WbRunner
{
  GObject       parent_instance;

  /* Owned, main thread only */
  GMainContext *context;
  WbRunnerInfo *info;
  GError       *error;
  WbField      *shown;                /* the last frame handed out */
  WbRunnerState state_seen;
  gboolean      running_seen;
  guint64       step_seen;
  double        time_seen;
  double        sps_seen;
  double        fps_seen;

  GThread      *thread;

  /* Everything below is shared with the worker, under @lock. */
  GMutex        lock;
  GCond         cond;
  gboolean      quit;
  guint         generation;           /* bumped by load/cancel/unload */
  guint         probe_generation;     /* bumped when the probe set changes */

  /* Commands */
  WbPreset     *load_preset;
  WbDevice     *load_device;
  char         *load_kernel_dir;
  WbSim        *load_sim;
  gboolean      load_pending;
  gboolean      loading;              /* the worker is building a sim */
  gboolean      unload_pending;
  gboolean      running;
  guint64       steps_requested;
  GQueue        read_requests;        /* GTask* */

  /* State */
  WbSim        *sim;                  /* worker-owned; the pointer is read under lock only */
  WbGuard      *guard;                /* blow-up checks of @sim (wb-guard.h), worker-owned */
  gboolean      diverged;             /* @sim blew up: reads give the last good state */
  WbRunnerState state;
  guint64       step;
  double        sim_time;
  double        steps_per_second;
  double        frames_per_second;
  guint64       frames_read;
  gboolean      loaded_notice;        /* "loaded" to emit */
  WbRunnerInfo *loaded_info;          /* passed to the main thread with it */
  GError       *failed_notice;        /* "failed" to emit */

  /* Frames */
  char         *display_field;
  double        max_fps;
  gboolean      frame_dirty;          /* sim changed since the last frame */
  gboolean      frame_consumed;       /* the consumer wants the next one */
  WbField      *frame;                /* back slot */
  guint64       frame_step;
  double        frame_time;
  gboolean      frame_notice;

  /* Publishing (wb_runner_set_publish_func) */
  WbRunnerPublishFunc publish_func;
  gpointer      publish_data;
  GDestroyNotify publish_destroy;
  gboolean      publish_busy;         /* the worker is calling it */
  gboolean      publish_dirty;        /* not published since the sim changed */
  gboolean      publish_serving;      /* the last call returned TRUE */
  guint64       frames_published;
  double        host_interval;        /* seconds between host frames while serving */
  WbSnapshot   *snap;                 /* worker-owned: the low-rate host frames */
  char         *snap_field;
  WbClContext  *snap_cl;              /* the context @snap was made in (compared only) */
  WbClContext  *sim_cl;               /* wb_runner_set_cl_context */

  /* Probes */
  GStrv         probe_fields;
  GPtrArray    *probes;               /* WbProbe* */
  gboolean      probes_notice;
  gboolean      probes_dirty;         /* stepped since the last sample */
  gboolean      probes_initial;       /* a new probe set owes a sample now */

  GSource      *notice_source;        /* the one pending idle, or NULL */
};

G_DEFINE_FINAL_TYPE (WbRunner, wb_runner, G_TYPE_OBJECT)

enum {
  PROP_0,
  PROP_STATE,
  PROP_RUNNING,
  PROP_STEP,
  PROP_SIM_TIME,
  PROP_STEPS_PER_SECOND,
  PROP_FRAMES_PER_SECOND,
  N_PROPS
};

enum {
  SIGNAL_LOADED,
  SIGNAL_FAILED,
  SIGNAL_FRAME_READY,
  SIGNAL_PROBES_UPDATED,
  N_SIGNALS
};

static GParamSpec *properties[N_PROPS];
static guint signals[N_SIGNALS];

static void
wb_runner_info_free (WbRunnerInfo *info)
{
  if (info == NULL)
    return;
  g_free (info->solver);
  g_free (info->device_id);
  g_free (info->device_name);
  g_strfreev (info->field_names);
  g_free (info->default_field);
  g_clear_pointer (&info->preset, wb_preset_free);
  g_free (info);
}

static WbRunnerInfo *
wb_runner_info_new (WbSim *sim)
{
  WbRunnerInfo *info = g_new0 (WbRunnerInfo, 1);

  info->solver = g_strdup (sim->klass && sim->klass->name ? sim->klass->name : "");
  info->device_id = g_strdup (sim->device ? sim->device->id : "");
  info->device_name = g_strdup (sim->device ? sim->device->name : "");
  info->ndim = sim->ndim;
  for (guint a = 0; a < 3; a++)
    {
      info->shape[a] = sim->shape[a] ? sim->shape[a] : 1;
      info->spacing[a] = sim->spacing[a];
    }
  info->dt = sim->dt;
  info->total_steps = sim->total_steps;
  info->field_names = g_strdupv ((char **) sim->field_names);
  info->default_field = g_strdup (sim->default_field);
  info->preset = sim->preset ? wb_preset_copy (sim->preset) : NULL;
  return info;
}

void
wb_probe_free (WbProbe *probe)
{
  if (probe == NULL)
    return;
  g_clear_pointer (&probe->times, g_array_unref);
  g_clear_pointer (&probe->values, g_array_unref);
  g_free (probe);
}

static WbProbe *
wb_probe_new (gsize i, gsize j, gsize k)
{
  WbProbe *probe = g_new0 (WbProbe, 1);

  probe->cell[0] = i;
  probe->cell[1] = j;
  probe->cell[2] = k;
  probe->times = g_array_new (FALSE, FALSE, sizeof (double));
  probe->values = g_array_new (FALSE, FALSE, sizeof (double));
  return probe;
}

static WbProbe *
wb_probe_copy (const WbProbe *probe)
{
  WbProbe *copy = wb_probe_new (probe->cell[0], probe->cell[1], probe->cell[2]);

  g_array_append_vals (copy->times, probe->times->data, probe->times->len);
  g_array_append_vals (copy->values, probe->values->data, probe->values->len);
  return copy;
}

/* --- notices ------------------------------------------------------------ */

static gboolean wb_runner_dispatch_notice (gpointer data);

/* Called with the lock held, from either thread. */
static void
wb_runner_schedule_notice_locked (WbRunner *self)
{
  if (self->notice_source != NULL)
    return;

  self->notice_source = g_idle_source_new ();
  g_source_set_priority (self->notice_source, G_PRIORITY_DEFAULT);
  /* No reference: dispose joins the worker and destroys this source on the
   * main thread, the only thread where the callback can run. */
  g_source_set_callback (self->notice_source, wb_runner_dispatch_notice, self, NULL);
  g_source_set_static_name (self->notice_source, "[wb-runner notice]");
  g_source_attach (self->notice_source, self->context);
}

static gboolean
wb_runner_dispatch_notice (gpointer data)
{
  WbRunner *self = data;
  WbRunnerInfo *loaded = NULL;
  GError *failed = NULL;
  gboolean frame, probes;
  WbRunnerState state;
  gboolean running;
  guint64 step;
  double sim_time, sps, fps;

  g_mutex_lock (&self->lock);
  g_source_unref (self->notice_source);
  self->notice_source = NULL;
  if (self->loaded_notice)
    {
      loaded = g_steal_pointer (&self->loaded_info);
      self->loaded_notice = FALSE;
    }
  failed = g_steal_pointer (&self->failed_notice);
  frame = self->frame_notice;
  self->frame_notice = FALSE;
  probes = self->probes_notice;
  self->probes_notice = FALSE;
  state = self->state;
  running = self->running;
  step = self->step;
  sim_time = self->sim_time;
  sps = self->steps_per_second;
  fps = self->frames_per_second;
  g_mutex_unlock (&self->lock);

  g_object_ref (self);
  g_object_freeze_notify (G_OBJECT (self));

  if (loaded != NULL)
    {
      wb_runner_info_free (self->info);
      self->info = loaded;
      g_clear_error (&self->error);
      g_clear_pointer (&self->shown, wb_field_unref);
    }

#define UPDATE(field, value, prop) \
  if (self->field != (value)) { self->field = (value); g_object_notify_by_pspec (G_OBJECT (self), properties[prop]); }
  UPDATE (state_seen, state, PROP_STATE);
  UPDATE (running_seen, running, PROP_RUNNING);
  UPDATE (step_seen, step, PROP_STEP);
  UPDATE (time_seen, sim_time, PROP_SIM_TIME);
  UPDATE (sps_seen, sps, PROP_STEPS_PER_SECOND);
  UPDATE (fps_seen, fps, PROP_FRAMES_PER_SECOND);
#undef UPDATE

  if (loaded != NULL)
    g_signal_emit (self, signals[SIGNAL_LOADED], 0);
  if (failed != NULL)
    {
      g_clear_error (&self->error);
      self->error = g_error_copy (failed);
      g_signal_emit (self, signals[SIGNAL_FAILED], 0, failed);
      g_error_free (failed);
    }
  if (probes)
    g_signal_emit (self, signals[SIGNAL_PROBES_UPDATED], 0);
  if (frame)
    g_signal_emit (self, signals[SIGNAL_FRAME_READY], 0);

  g_object_thaw_notify (G_OBJECT (self));
  g_object_unref (self);
  return G_SOURCE_REMOVE;
}

/* --- worker ------------------------------------------------------------- */

static void
wb_runner_set_state_locked (WbRunner     *self,
                            WbRunnerState state)
{
  if (self->state != state)
    {
      self->state = state;
      wb_runner_schedule_notice_locked (self);
    }
}

static void
wb_runner_fail_locked (WbRunner *self,
                       GError   *error)
{
  g_clear_error (&self->failed_notice);
  self->failed_notice = error;
  self->running = FALSE;
  self->steps_requested = 0;
  self->state = WB_RUNNER_FAILED;
  wb_runner_schedule_notice_locked (self);
}

/* Installs @sim (may be NULL) as the current simulation. */
static void
wb_runner_install_locked (WbRunner *self,
                          WbSim    *sim)
{
  WbSim *old = self->sim;

  /* The guard and the snapshot hold the old sim: they go first. */
  g_clear_pointer (&self->guard, wb_guard_free);
  g_clear_pointer (&self->snap, wb_snapshot_free);
  g_clear_pointer (&self->snap_field, g_free);
  self->snap_cl = NULL;
  self->publish_dirty = TRUE;
  self->publish_serving = FALSE;
  self->frames_published = 0;
  self->diverged = FALSE;
  self->sim = sim;
  self->step = sim ? sim->step : 0;
  self->sim_time = sim ? wb_sim_time (sim) : 0;
  self->steps_per_second = 0;
  self->frames_per_second = 0;
  self->frames_read = 0;
  self->frame_dirty = TRUE;
  self->frame_consumed = TRUE;
  g_clear_pointer (&self->frame, wb_field_unref);
  self->frame_notice = FALSE;
  self->probes_dirty = TRUE;
  self->probes_initial = TRUE;
  for (guint p = 0; p < self->probes->len; p++)
    {
      WbProbe *probe = g_ptr_array_index (self->probes, p);
      g_array_set_size (probe->times, 0);
      g_array_set_size (probe->values, 0);
    }
  if (sim != NULL)
    {
      g_clear_pointer (&self->loaded_info, wb_runner_info_free);
      self->loaded_info = wb_runner_info_new (sim);
      self->loaded_notice = TRUE;
      self->state = WB_RUNNER_IDLE;
    }
  else
    self->state = WB_RUNNER_EMPTY;
  wb_runner_schedule_notice_locked (self);

  if (old != NULL)
    {
      /* Freeing may wait for the device; do it without the lock. */
      g_mutex_unlock (&self->lock);
      wb_sim_free (old);
      g_mutex_lock (&self->lock);
    }
}

static gboolean
wb_runner_cell_ok (WbField *field, const gsize *cell)
{
  return cell[0] < field->shape[0] && cell[1] < field->shape[1] && cell[2] < field->shape[2];
}

/* Records one sample of every probe field at every probe.  Called with the
 * lock held; reads the fields without it. */
static void
wb_runner_sample_probes_locked (WbRunner *self)
{
  g_auto(GStrv) names = NULL;
  g_autoptr(GPtrArray) fields = NULL;
  guint n_fields;
  double t;
  guint gen = self->probe_generation;

  if (self->probes->len == 0 || self->probe_fields == NULL || self->probe_fields[0] == NULL)
    {
      self->probes_dirty = FALSE;
      return;
    }

  names = g_strdupv (self->probe_fields);
  n_fields = g_strv_length (names);
  t = wb_sim_time (self->sim);
  fields = g_ptr_array_new_with_free_func ((GDestroyNotify) wb_field_unref);

  g_mutex_unlock (&self->lock);
  for (guint f = 0; f < n_fields; f++)
    {
      g_autoptr(GError) error = NULL;
      WbField *field = NULL;

      if (wb_sim_has_field (self->sim, names[f]))
        field = wb_sim_read_field (self->sim, names[f], &error);
      if (error != NULL)
        g_warning ("probe field %s: %s", names[f], error->message);
      g_ptr_array_add (fields, field);
    }
  g_mutex_lock (&self->lock);

  /* The probe set may have changed meanwhile: only record into a set that
   * still matches. */
  if (gen != self->probe_generation || self->probe_fields == NULL
      || !g_strv_equal ((const char * const *) names, (const char * const *) self->probe_fields))
    return;

  for (guint p = 0; p < self->probes->len; p++)
    {
      WbProbe *probe = g_ptr_array_index (self->probes, p);

      g_array_append_val (probe->times, t);
      for (guint f = 0; f < n_fields; f++)
        {
          WbField *field = g_ptr_array_index (fields, f);
          double v = NAN;

          if (field != NULL && wb_runner_cell_ok (field, probe->cell))
            v = field->data[wb_field_index (field, probe->cell[0], probe->cell[1], probe->cell[2])];
          g_array_append_val (probe->values, v);
        }
    }
  self->probes_dirty = FALSE;
  self->probes_notice = TRUE;
  wb_runner_schedule_notice_locked (self);
}

/* Reads the displayed field into the back slot.  Lock held on entry and exit. */
static void
wb_runner_read_frame_locked (WbRunner *self)
{
  g_autofree char *name = g_strdup (self->display_field);
  g_autoptr(GError) error = NULL;
  WbField *field;
  guint gen = self->generation;
  guint64 step = self->step;
  double t = self->sim_time;

  g_mutex_unlock (&self->lock);
  field = wb_sim_read_field (self->sim, name, &error);
  g_mutex_lock (&self->lock);

  if (field == NULL)
    {
      /* A field the solver does not have: report once and stop asking. */
      g_clear_pointer (&self->display_field, g_free);
      wb_runner_fail_locked (self, g_steal_pointer (&error));
      self->state = WB_RUNNER_IDLE;
      return;
    }
  if (gen != self->generation || g_strcmp0 (name, self->display_field) != 0)
    {
      wb_field_unref (field);
      return;
    }
  g_clear_pointer (&self->frame, wb_field_unref);
  self->frame = field;
  self->frame_step = step;
  self->frame_time = t;
  self->frame_consumed = FALSE;
  self->frame_dirty = FALSE;
  self->frame_notice = TRUE;
  self->frames_read++;
  wb_runner_schedule_notice_locked (self);
}

/* Calls the publish func for the current step.  Lock held on entry and
 * exit; the func runs without it. */
static gboolean
wb_runner_publish_locked (WbRunner *self)
{
  WbRunnerPublishFunc func = self->publish_func;
  gpointer data = self->publish_data;
  g_autofree char *name = g_strdup (self->display_field);
  WbSim *sim = self->sim;
  guint64 step = self->step;
  gboolean served;

  self->publish_dirty = FALSE;
  if (func == NULL || name == NULL || sim == NULL)
    {
      self->publish_serving = FALSE;
      return FALSE;
    }
  self->publish_busy = TRUE;
  g_mutex_unlock (&self->lock);
  served = func (sim, name, step, data);
  g_mutex_lock (&self->lock);
  self->publish_busy = FALSE;
  /* wb_runner_set_publish_func () may be waiting for this call. */
  g_cond_broadcast (&self->cond);
  self->publish_serving = served;
  if (served)
    self->frames_published++;
  return served;
}

/* Hands @field (a new reference) over as the next host frame.  Lock held. */
static void
wb_runner_hand_over_locked (WbRunner *self,
                            WbField  *field,
                            guint64   step)
{
  g_clear_pointer (&self->frame, wb_field_unref);
  self->frame = field;
  self->frame_step = step;
  self->frame_time = step * self->sim->dt;
  self->frame_consumed = FALSE;
  self->frame_notice = TRUE;
  self->frames_read++;
  wb_runner_schedule_notice_locked (self);
}

/* Host frames while the publish func serves the display: through a
 * WbSnapshot (a device copy in order after the steps, then a read on a
 * second queue).  While running, a capture is taken at the host-frame
 * interval and collected after the next chunk, by when it has landed:
 * the solver's queue never waits on the bus.  When stepping has stopped
 * (@now), the current step is read at once.  Lock held on entry and exit. */
static void
wb_runner_snapshot_frame_locked (WbRunner *self,
                                 gboolean  capture,
                                 gboolean  now)
{
  g_autofree char *name = g_strdup (self->display_field);
  g_autoptr(GError) error = NULL;
  WbSim *sim = self->sim;
  guint gen = self->generation;
  WbField *field = NULL;
  guint64 step = 0;

  if (name == NULL)
    return;
  g_mutex_unlock (&self->lock);
  /* A new display field, or a sim that remade its OpenCL state (kernel
   * debugging): a new snapshot. */
  if (self->snap != NULL && (g_strcmp0 (self->snap_field, name) != 0 || self->snap_cl != sim->cl))
    g_clear_pointer (&self->snap, wb_snapshot_free);
  if (self->snap == NULL && (capture || now))
    {
      g_free (self->snap_field);
      self->snap_field = g_strdup (name);
      self->snap_cl = sim->cl;
      self->snap = wb_snapshot_new (sim, name, &error);
    }
  if (self->snap != NULL)
    {
      if (wb_snapshot_pending (self->snap) > 0)
        {
          field = wb_snapshot_wait (self->snap, &step, &error);
          /* An older step than the one to show now: read again. */
          if (field != NULL && now && step != sim->step)
            g_clear_pointer (&field, wb_field_unref);
        }
      if (field == NULL && error == NULL && (capture || now)
          && wb_snapshot_capture (self->snap, &error) && now)
        field = wb_snapshot_wait (self->snap, &step, &error);
    }
  g_mutex_lock (&self->lock);

  if (error != NULL)
    {
      /* As wb_runner_read_frame_locked (): report once, stop asking. */
      g_clear_pointer (&self->display_field, g_free);
      wb_runner_fail_locked (self, g_steal_pointer (&error));
      self->state = WB_RUNNER_IDLE;
      g_clear_pointer (&field, wb_field_unref);
      return;
    }
  if (field == NULL)
    return;
  if (gen != self->generation || g_strcmp0 (name, self->display_field) != 0)
    {
      wb_field_unref (field);
      return;
    }
  if (now)
    self->frame_dirty = FALSE;
  wb_runner_hand_over_locked (self, field, step);
}

static gpointer
wb_runner_worker (gpointer data)
{
  WbRunner *self = data;
  guint chunk = 1;
  gint64 last_frame = 0, last_probe = 0, last_publish = 0;
  gint64 rate_start = g_get_monotonic_time ();
  guint64 rate_steps = 0, rate_frames = 0;

  g_mutex_lock (&self->lock);
  while (!self->quit)
    {
      gint64 now = g_get_monotonic_time ();
      gboolean want_frame;

      if (self->unload_pending)
        {
          self->unload_pending = FALSE;
          wb_runner_install_locked (self, NULL);
          continue;
        }

      if (self->load_pending)
        {
          g_autoptr(WbPreset) preset = g_steal_pointer (&self->load_preset);
          g_autoptr(WbDevice) device = g_steal_pointer (&self->load_device);
          g_autofree char *kernel_dir = g_steal_pointer (&self->load_kernel_dir);
          WbSim *sim = g_steal_pointer (&self->load_sim);
          WbGuard *guard = NULL;
          g_autoptr(GError) error = NULL;
          guint gen = self->generation;
          g_autoptr(WbClContext) cl = self->sim_cl ? wb_cl_context_ref (self->sim_cl) : NULL;

          self->load_pending = FALSE;
          self->loading = TRUE;
          if (sim == NULL)
            {
              /* Drop the old simulation first: the new one may need its memory. */
              wb_runner_install_locked (self, NULL);
              self->state = WB_RUNNER_LOADING;
              wb_runner_schedule_notice_locked (self);
              g_mutex_unlock (&self->lock);
              sim = wb_sim_new_full (preset, device, kernel_dir, cl, &error);
              if (sim != NULL)
                {
                  /* The preset's "guard" section (wb_sim_new checked it). */
                  WbGuardConfig config;
                  if (wb_guard_config_from_preset (preset, &config, &error))
                    {
                      guard = wb_guard_new (sim, &config, NULL, kernel_dir, &error);
                      wb_guard_config_clear (&config);
                    }
                  if (guard == NULL)
                    g_clear_pointer (&sim, wb_sim_free);
                }
              g_mutex_lock (&self->lock);
            }
          self->loading = FALSE;
          if (gen != self->generation)
            {
              g_clear_pointer (&guard, wb_guard_free);
              g_clear_pointer (&sim, wb_sim_free);
              continue;
            }
          if (sim == NULL)
            {
              wb_runner_fail_locked (self, g_steal_pointer (&error));
              continue;
            }
          wb_runner_install_locked (self, sim);
          self->guard = guard;
          chunk = 1;
          continue;
        }

      if (!g_queue_is_empty (&self->read_requests))
        {
          GTask *task = g_queue_pop_head (&self->read_requests);
          const char *name = g_task_get_task_data (task);
          WbSim *sim = self->sim;

          if (sim == NULL)
            g_task_return_new_error (task, WB_ERROR, WB_ERROR_NOT_FOUND,
                                     "No simulation is loaded");
          else if (g_task_get_source_tag (task) == wb_runner_read_traces_async)
            {
              GError *error = NULL;
              GPtrArray *traces;

              g_mutex_unlock (&self->lock);
              traces = wb_sim_read_traces (sim, &error);
              g_mutex_lock (&self->lock);
              if (traces != NULL)
                g_task_return_pointer (task, traces, (GDestroyNotify) g_ptr_array_unref);
              else
                g_task_return_error (task, error);
            }
          else
            {
              GError *error = NULL;
              WbField *field;

              WbGuard *guard = self->diverged ? self->guard : NULL;

              g_mutex_unlock (&self->lock);
              /* After a blow-up, the kept fields read as they were at the
               * last good check; the others as they are. */
              field = guard != NULL ? wb_guard_read_last_good (guard, name, NULL) : NULL;
              if (field == NULL)
                field = wb_sim_read_field (sim, name, &error);
              g_mutex_lock (&self->lock);
              if (field != NULL)
                g_task_return_pointer (task, field, (GDestroyNotify) wb_field_unref);
              else
                g_task_return_error (task, error);
            }
          g_object_unref (task);
          continue;
        }

      want_frame = self->sim != NULL && self->display_field != NULL
                   && self->frame_consumed && self->frame_dirty;

      /* Rates decay to zero when nothing happens. */
      if (now - rate_start >= RATE_WINDOW_SECONDS * G_USEC_PER_SEC)
        {
          double secs = (now - rate_start) / (double) G_USEC_PER_SEC;
          double sps = rate_steps / secs, fps = rate_frames / secs;

          if (sps != self->steps_per_second || fps != self->frames_per_second)
            {
              self->steps_per_second = sps;
              self->frames_per_second = fps;
              wb_runner_schedule_notice_locked (self);
            }
          rate_start = now;
          rate_steps = rate_frames = 0;
        }

      if (self->sim == NULL || self->state == WB_RUNNER_FAILED
          || (!self->running && self->steps_requested == 0))
        {
          if (self->sim != NULL && self->state == WB_RUNNER_BUSY)
            wb_runner_set_state_locked (self, WB_RUNNER_IDLE);
          if (self->sim != NULL && self->state != WB_RUNNER_FAILED && self->probes_dirty)
            {
              wb_runner_sample_probes_locked (self);
              last_probe = now;
              continue;
            }
          /* Stepping stopped: the display gets the final state, published
           * and (for the readout) as a host frame. */
          if (self->sim != NULL && self->state != WB_RUNNER_FAILED && self->display_field != NULL
              && self->publish_func != NULL && self->publish_dirty)
            {
              if (wb_runner_publish_locked (self))
                rate_frames++;
              last_publish = now;
              continue;
            }
          if (want_frame && self->state != WB_RUNNER_FAILED)
            {
              if (self->publish_serving)
                wb_runner_snapshot_frame_locked (self, FALSE, TRUE);
              else
                {
                  wb_runner_read_frame_locked (self);
                  rate_frames++;
                }
              last_frame = now;
              continue;
            }
          /* Wake up for the rate window while rates are non-zero. */
          if (self->steps_per_second > 0 || self->frames_per_second > 0)
            g_cond_wait_until (&self->cond, &self->lock,
                               rate_start + RATE_WINDOW_SECONDS * G_USEC_PER_SEC + 1000);
          else
            g_cond_wait (&self->cond, &self->lock);
          continue;
        }

      /* A new probe (or a new sim) gets its sample at the current step
       * before more steps: short runs still plot from their start. */
      if (self->probes_initial)
        {
          self->probes_initial = FALSE;
          wb_runner_sample_probes_locked (self);
          last_probe = now;
          continue;
        }

      /* Step a chunk. */
      {
        g_autoptr(GError) error = NULL;
        WbSim *sim = self->sim;
        WbGuard *guard = self->guard;
        guint n = chunk;
        gboolean ok;
        gint64 t0, t1;

        if (!self->running)
          n = (guint) MIN ((guint64) n, self->steps_requested);
        if (sim->total_steps > 0 && sim->step < sim->total_steps && self->running)
          n = (guint) MIN ((guint64) n, sim->total_steps - sim->step);
        n = MAX (n, 1);
        wb_runner_set_state_locked (self, WB_RUNNER_BUSY);

        g_mutex_unlock (&self->lock);
        t0 = g_get_monotonic_time ();
        /* Blow-up checks fall on multiples of guard.every and at the end
         * of the preset's run: a chunk never steps past one. */
        ok = guard == NULL || wb_guard_poll (guard, &error);
        if (ok && guard != NULL)
          n = (guint) MIN ((guint64) n, wb_guard_steps_until_check (guard));
        ok = ok && wb_sim_step (sim, n, &error) && wb_sim_finish (sim, &error);
        if (ok && guard != NULL && sim->total_steps > 0 && sim->step == sim->total_steps)
          ok = wb_guard_finish (guard, &error);
        t1 = g_get_monotonic_time ();
        g_mutex_lock (&self->lock);

        /* Only the worker replaces the sim, so @sim is still current. */
        self->step = sim->step;
        self->sim_time = wb_sim_time (sim);
        if (!ok)
          {
            if (guard != NULL && g_error_matches (error, WB_ERROR, WB_ERROR_DIVERGED)
                && wb_guard_last_good_step (guard) >= 0)
              {
                /* Show the state before the blow-up, not the garbage. */
                self->diverged = TRUE;
                if (self->display_field != NULL)
                  {
                    g_autofree char *name = g_strdup (self->display_field);
                    WbField *field;

                    g_mutex_unlock (&self->lock);
                    field = wb_guard_read_last_good (guard, name, NULL);
                    g_mutex_lock (&self->lock);
                    if (field != NULL)
                      {
                        g_clear_pointer (&self->frame, wb_field_unref);
                        self->frame = field;
                        self->frame_step = (guint64) wb_guard_last_good_step (guard);
                        self->frame_time = self->frame_step * sim->dt;
                        self->frame_consumed = FALSE;
                        self->frame_notice = TRUE;
                      }
                  }
              }
            wb_runner_fail_locked (self, g_steal_pointer (&error));
            continue;
          }
        rate_steps += n;
        self->frame_dirty = TRUE;
        self->probes_dirty = TRUE;
        self->publish_dirty = TRUE;
        if (self->steps_requested > 0 && !self->running)
          self->steps_requested -= MIN ((guint64) n, self->steps_requested);
        if (self->running && sim->total_steps > 0 && sim->step == sim->total_steps)
          self->running = FALSE;     /* the preset's run is complete */

        /* Aim the next chunk at the target duration. */
        {
          double secs = MAX ((t1 - t0) / (double) G_USEC_PER_SEC, 1e-6);
          double next = n * CHUNK_TARGET_SECONDS / secs;

          next = CLAMP (next, n / 2.0, n * 2.0);
          chunk = (guint) CLAMP (next, 1, CHUNK_MAX);
        }

        now = g_get_monotonic_time ();
        if (now - last_probe >= PROBE_INTERVAL_SECONDS * G_USEC_PER_SEC)
          {
            wb_runner_sample_probes_locked (self);
            last_probe = now;
          }
        if (self->display_field != NULL && self->publish_func != NULL
            && now - last_publish >= G_USEC_PER_SEC / self->max_fps)
          {
            if (wb_runner_publish_locked (self))
              rate_frames++;
            last_publish = now;
          }
        if (self->display_field != NULL && self->publish_serving)
          {
            /* Host frames at a low rate: the capture taken after the last
             * chunk is collected now; a new one at the interval. */
            gboolean capture = self->frame_consumed
                               && now - last_frame >= self->host_interval * G_USEC_PER_SEC;

            wb_runner_snapshot_frame_locked (self, capture, FALSE);
            if (capture)
              last_frame = now;
          }
        else if (self->display_field != NULL && self->frame_consumed
                 && now - last_frame >= G_USEC_PER_SEC / self->max_fps)
          {
            wb_runner_read_frame_locked (self);
            last_frame = now;
            rate_frames++;
          }
        wb_runner_schedule_notice_locked (self);
      }
    }

  /* Answer what is left so no caller waits forever. */
  while (!g_queue_is_empty (&self->read_requests))
    {
      GTask *task = g_queue_pop_head (&self->read_requests);
      g_task_return_new_error (task, WB_ERROR, WB_ERROR_CANCELLED, "The runner was closed");
      g_object_unref (task);
    }
  g_mutex_unlock (&self->lock);
  return NULL;
}

/* --- GObject ------------------------------------------------------------ */

static void
wb_runner_dispose (GObject *object)
{
  WbRunner *self = WB_RUNNER (object);

  if (self->thread != NULL)
    {
      g_mutex_lock (&self->lock);
      self->quit = TRUE;
      g_cond_broadcast (&self->cond);
      g_mutex_unlock (&self->lock);
      g_thread_join (g_steal_pointer (&self->thread));
    }
  if (self->notice_source != NULL)
    {
      g_source_destroy (self->notice_source);
      g_clear_pointer (&self->notice_source, g_source_unref);
    }
  g_clear_pointer (&self->guard, wb_guard_free);
  g_clear_pointer (&self->snap, wb_snapshot_free);
  g_clear_pointer (&self->sim, wb_sim_free);
  g_clear_pointer (&self->load_sim, wb_sim_free);
  g_clear_pointer (&self->sim_cl, wb_cl_context_unref);
  if (self->publish_destroy != NULL)
    self->publish_destroy (self->publish_data);
  self->publish_func = NULL;
  self->publish_data = NULL;
  self->publish_destroy = NULL;
  g_clear_pointer (&self->load_preset, wb_preset_free);
  g_clear_pointer (&self->load_device, wb_device_unref);
  g_clear_pointer (&self->frame, wb_field_unref);
  g_clear_pointer (&self->shown, wb_field_unref);

  G_OBJECT_CLASS (wb_runner_parent_class)->dispose (object);
}

static void
wb_runner_finalize (GObject *object)
{
  WbRunner *self = WB_RUNNER (object);

  g_clear_pointer (&self->info, wb_runner_info_free);
  g_clear_pointer (&self->loaded_info, wb_runner_info_free);
  g_clear_error (&self->error);
  g_clear_error (&self->failed_notice);
  g_free (self->load_kernel_dir);
  g_free (self->display_field);
  g_free (self->snap_field);
  g_strfreev (self->probe_fields);
  g_ptr_array_unref (self->probes);
  g_main_context_unref (self->context);
  g_mutex_clear (&self->lock);
  g_cond_clear (&self->cond);

  G_OBJECT_CLASS (wb_runner_parent_class)->finalize (object);
}

static void
wb_runner_get_property (GObject    *object,
                        guint       prop_id,
                        GValue     *value,
                        GParamSpec *pspec)
{
  WbRunner *self = WB_RUNNER (object);

  switch (prop_id)
    {
    case PROP_STATE:
      g_value_set_int (value, self->state_seen);
      break;
    case PROP_RUNNING:
      g_value_set_boolean (value, self->running_seen);
      break;
    case PROP_STEP:
      g_value_set_uint64 (value, self->step_seen);
      break;
    case PROP_SIM_TIME:
      g_value_set_double (value, self->time_seen);
      break;
    case PROP_STEPS_PER_SECOND:
      g_value_set_double (value, self->sps_seen);
      break;
    case PROP_FRAMES_PER_SECOND:
      g_value_set_double (value, self->fps_seen);
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
wb_runner_class_init (WbRunnerClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);

  object_class->dispose = wb_runner_dispose;
  object_class->finalize = wb_runner_finalize;
  object_class->get_property = wb_runner_get_property;

  properties[PROP_STATE] =
    g_param_spec_int ("state", NULL, NULL, WB_RUNNER_EMPTY, WB_RUNNER_FAILED, WB_RUNNER_EMPTY,
                      G_PARAM_READABLE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS);
  properties[PROP_RUNNING] =
    g_param_spec_boolean ("running", NULL, NULL, FALSE,
                          G_PARAM_READABLE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS);
  properties[PROP_STEP] =
    g_param_spec_uint64 ("step", NULL, NULL, 0, G_MAXUINT64, 0,
                         G_PARAM_READABLE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS);
  properties[PROP_SIM_TIME] =
    g_param_spec_double ("sim-time", NULL, NULL, -G_MAXDOUBLE, G_MAXDOUBLE, 0,
                         G_PARAM_READABLE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS);
  properties[PROP_STEPS_PER_SECOND] =
    g_param_spec_double ("steps-per-second", NULL, NULL, 0, G_MAXDOUBLE, 0,
                         G_PARAM_READABLE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS);
  properties[PROP_FRAMES_PER_SECOND] =
    g_param_spec_double ("frames-per-second", NULL, NULL, 0, G_MAXDOUBLE, 0,
                         G_PARAM_READABLE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS);
  g_object_class_install_properties (object_class, N_PROPS, properties);

  signals[SIGNAL_LOADED] =
    g_signal_new ("loaded", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST,
                  0, NULL, NULL, NULL, G_TYPE_NONE, 0);
  signals[SIGNAL_FAILED] =
    g_signal_new ("failed", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST,
                  0, NULL, NULL, NULL, G_TYPE_NONE, 1, G_TYPE_ERROR);
  signals[SIGNAL_FRAME_READY] =
    g_signal_new ("frame-ready", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST,
                  0, NULL, NULL, NULL, G_TYPE_NONE, 0);
  signals[SIGNAL_PROBES_UPDATED] =
    g_signal_new ("probes-updated", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST,
                  0, NULL, NULL, NULL, G_TYPE_NONE, 0);
}

static void
wb_runner_init (WbRunner *self)
{
  g_mutex_init (&self->lock);
  g_cond_init (&self->cond);
  g_queue_init (&self->read_requests);
  self->context = g_main_context_ref_thread_default ();
  self->probes = g_ptr_array_new_with_free_func ((GDestroyNotify) wb_probe_free);
  self->max_fps = 60;
  self->host_interval = 0.5;
  self->frame_consumed = TRUE;
  self->thread = g_thread_new ("wb-runner", wb_runner_worker, self);
}

WbRunner *
wb_runner_new (void)
{
  return g_object_new (WB_TYPE_RUNNER, NULL);
}

/* --- commands ----------------------------------------------------------- */

#define LOCKED(self) for (gboolean _once = (g_mutex_lock (&(self)->lock), TRUE); _once; \
                          _once = (g_cond_broadcast (&(self)->cond), g_mutex_unlock (&(self)->lock), FALSE))

void
wb_runner_load (WbRunner       *self,
                const WbPreset *preset,
                WbDevice       *device,
                const char     *kernel_dir)
{
  g_return_if_fail (WB_IS_RUNNER (self));
  g_return_if_fail (preset != NULL);
  g_return_if_fail (device != NULL);

  LOCKED (self)
    {
      self->generation++;
      g_clear_pointer (&self->load_preset, wb_preset_free);
      g_clear_pointer (&self->load_device, wb_device_unref);
      g_clear_pointer (&self->load_sim, wb_sim_free);
      g_clear_pointer (&self->load_kernel_dir, g_free);
      self->load_preset = wb_preset_copy (preset);
      self->load_device = wb_device_ref (device);
      self->load_kernel_dir = g_strdup (kernel_dir);
      self->load_pending = TRUE;
      self->running = FALSE;
      self->steps_requested = 0;
      self->state = WB_RUNNER_LOADING;
      wb_runner_schedule_notice_locked (self);
    }
}

void
wb_runner_set_sim (WbRunner *self,
                   WbSim    *sim)
{
  g_return_if_fail (WB_IS_RUNNER (self));
  g_return_if_fail (sim != NULL);

  LOCKED (self)
    {
      self->generation++;
      g_clear_pointer (&self->load_preset, wb_preset_free);
      g_clear_pointer (&self->load_device, wb_device_unref);
      g_clear_pointer (&self->load_sim, wb_sim_free);
      self->load_sim = sim;
      self->load_pending = TRUE;
      self->running = FALSE;
      self->steps_requested = 0;
    }
}

void
wb_runner_unload (WbRunner *self)
{
  g_return_if_fail (WB_IS_RUNNER (self));

  LOCKED (self)
    {
      self->generation++;
      self->load_pending = FALSE;
      g_clear_pointer (&self->load_preset, wb_preset_free);
      g_clear_pointer (&self->load_device, wb_device_unref);
      g_clear_pointer (&self->load_sim, wb_sim_free);
      self->unload_pending = TRUE;
      self->running = FALSE;
      self->steps_requested = 0;
    }
}

void
wb_runner_run (WbRunner *self)
{
  g_return_if_fail (WB_IS_RUNNER (self));

  LOCKED (self)
    {
      if (self->sim != NULL && self->state != WB_RUNNER_FAILED)
        {
          self->running = TRUE;
          wb_runner_schedule_notice_locked (self);
        }
    }
}

void
wb_runner_pause (WbRunner *self)
{
  g_return_if_fail (WB_IS_RUNNER (self));

  LOCKED (self)
    {
      self->running = FALSE;
      self->steps_requested = 0;
      wb_runner_schedule_notice_locked (self);
    }
}

void
wb_runner_step (WbRunner *self,
                guint     n_steps)
{
  g_return_if_fail (WB_IS_RUNNER (self));

  LOCKED (self)
    {
      /* Steps asked for while a load is pending or being built apply to
       * the new sim (the worker may have taken the load already). */
      if ((self->sim != NULL && self->state != WB_RUNNER_FAILED)
          || self->load_pending || self->loading)
        {
          self->steps_requested += n_steps;
          if (n_steps > 0 && self->state == WB_RUNNER_IDLE)
            self->state = WB_RUNNER_BUSY;
          wb_runner_schedule_notice_locked (self);
        }
    }
}

void
wb_runner_cancel (WbRunner *self)
{
  g_return_if_fail (WB_IS_RUNNER (self));

  LOCKED (self)
    {
      self->running = FALSE;
      self->steps_requested = 0;
      if (self->load_pending)
        {
          self->generation++;
          self->load_pending = FALSE;
          g_clear_pointer (&self->load_preset, wb_preset_free);
          g_clear_pointer (&self->load_device, wb_device_unref);
          g_clear_pointer (&self->load_sim, wb_sim_free);
        }
      wb_runner_schedule_notice_locked (self);
    }
}

WbRunnerState
wb_runner_get_state (WbRunner *self)
{
  g_return_val_if_fail (WB_IS_RUNNER (self), WB_RUNNER_EMPTY);
  return self->state_seen;
}

gboolean
wb_runner_get_running (WbRunner *self)
{
  g_return_val_if_fail (WB_IS_RUNNER (self), FALSE);
  return self->running_seen;
}

guint64
wb_runner_get_step (WbRunner *self)
{
  g_return_val_if_fail (WB_IS_RUNNER (self), 0);
  return self->step_seen;
}

double
wb_runner_get_sim_time (WbRunner *self)
{
  g_return_val_if_fail (WB_IS_RUNNER (self), 0);
  return self->time_seen;
}

double
wb_runner_get_steps_per_second (WbRunner *self)
{
  g_return_val_if_fail (WB_IS_RUNNER (self), 0);
  return self->sps_seen;
}

double
wb_runner_get_frames_per_second (WbRunner *self)
{
  g_return_val_if_fail (WB_IS_RUNNER (self), 0);
  return self->fps_seen;
}

const WbRunnerInfo *
wb_runner_get_info (WbRunner *self)
{
  g_return_val_if_fail (WB_IS_RUNNER (self), NULL);
  return self->info;
}

const GError *
wb_runner_get_error (WbRunner *self)
{
  g_return_val_if_fail (WB_IS_RUNNER (self), NULL);
  return self->error;
}

void
wb_runner_set_display_field (WbRunner   *self,
                             const char *name)
{
  g_return_if_fail (WB_IS_RUNNER (self));

  LOCKED (self)
    {
      if (g_strcmp0 (self->display_field, name) != 0)
        {
          g_free (self->display_field);
          self->display_field = g_strdup (name);
          g_clear_pointer (&self->frame, wb_field_unref);
          self->frame_notice = FALSE;
          self->frame_consumed = TRUE;
          self->frame_dirty = TRUE;
          /* The display (back) on: publish the current step even while
           * paused, or it would show what it last had. */
          self->publish_dirty = TRUE;
        }
    }
}

void
wb_runner_set_max_fps (WbRunner *self,
                       double    fps)
{
  g_return_if_fail (WB_IS_RUNNER (self));
  g_return_if_fail (fps > 0);

  LOCKED (self)
    self->max_fps = fps;
}

WbField *
wb_runner_take_frame (WbRunner *self,
                      guint64  *step,
                      double   *sim_time)
{
  WbField *frame = NULL;

  g_return_val_if_fail (WB_IS_RUNNER (self), NULL);

  LOCKED (self)
    {
      frame = g_steal_pointer (&self->frame);
      if (frame != NULL)
        {
          if (step)
            *step = self->frame_step;
          if (sim_time)
            *sim_time = self->frame_time;
        }
      self->frame_consumed = TRUE;
    }
  if (frame != NULL)
    {
      g_clear_pointer (&self->shown, wb_field_unref);
      self->shown = wb_field_ref (frame);
    }
  return frame;
}

void
wb_runner_set_publish_func (WbRunner            *self,
                            WbRunnerPublishFunc  func,
                            gpointer             user_data,
                            GDestroyNotify       destroy)
{
  gpointer old_data;
  GDestroyNotify old_destroy;

  g_return_if_fail (WB_IS_RUNNER (self));

  g_mutex_lock (&self->lock);
  /* The worker calls the func without the lock: let a call end first. */
  while (self->publish_busy)
    g_cond_wait (&self->cond, &self->lock);
  old_data = self->publish_data;
  old_destroy = self->publish_destroy;
  self->publish_func = func;
  self->publish_data = user_data;
  self->publish_destroy = destroy;
  self->publish_dirty = TRUE;
  self->publish_serving = FALSE;
  self->frame_dirty = TRUE;
  g_cond_broadcast (&self->cond);
  g_mutex_unlock (&self->lock);
  if (old_destroy != NULL)
    old_destroy (old_data);
}

void
wb_runner_request_publish (WbRunner *self)
{
  g_return_if_fail (WB_IS_RUNNER (self));

  LOCKED (self)
    self->publish_dirty = TRUE;
}

void
wb_runner_set_host_frame_interval (WbRunner *self,
                                   double    seconds)
{
  g_return_if_fail (WB_IS_RUNNER (self));
  g_return_if_fail (seconds >= 0);

  LOCKED (self)
    self->host_interval = seconds;
}

guint64
wb_runner_get_frames_published (WbRunner *self)
{
  guint64 n = 0;

  g_return_val_if_fail (WB_IS_RUNNER (self), 0);
  LOCKED (self)
    n = self->frames_published;
  return n;
}

void
wb_runner_set_cl_context (WbRunner    *self,
                          WbClContext *cl)
{
  g_return_if_fail (WB_IS_RUNNER (self));

  LOCKED (self)
    {
      if (cl != NULL)
        wb_cl_context_ref (cl);
      g_clear_pointer (&self->sim_cl, wb_cl_context_unref);
      self->sim_cl = cl;
    }
}

guint64
wb_runner_get_frames_read (WbRunner *self)
{
  guint64 n = 0;

  g_return_val_if_fail (WB_IS_RUNNER (self), 0);
  LOCKED (self)
    n = self->frames_read;
  return n;
}

void
wb_runner_set_probe_fields (WbRunner           *self,
                            const char * const *names)
{
  g_return_if_fail (WB_IS_RUNNER (self));

  LOCKED (self)
    {
      g_strfreev (self->probe_fields);
      self->probe_fields = g_strdupv ((char **) names);
      for (guint p = 0; p < self->probes->len; p++)
        {
          WbProbe *probe = g_ptr_array_index (self->probes, p);
          g_array_set_size (probe->times, 0);
          g_array_set_size (probe->values, 0);
        }
      self->probe_generation++;
      self->probes_dirty = TRUE;
      self->probes_initial = TRUE;
    }
}

guint
wb_runner_add_probe (WbRunner *self,
                     gsize     i,
                     gsize     j,
                     gsize     k)
{
  guint index = 0;

  g_return_val_if_fail (WB_IS_RUNNER (self), 0);

  LOCKED (self)
    {
      index = self->probes->len;
      g_ptr_array_add (self->probes, wb_probe_new (i, j, k));
      /* Bump so a sample in flight for the old set is not recorded half. */
      self->probe_generation++;
      self->probes_dirty = TRUE;
      self->probes_initial = TRUE;
    }
  return index;
}

void
wb_runner_clear_probes (WbRunner *self)
{
  g_return_if_fail (WB_IS_RUNNER (self));

  LOCKED (self)
    {
      g_ptr_array_set_size (self->probes, 0);
      self->probe_generation++;
      self->probes_notice = TRUE;
      wb_runner_schedule_notice_locked (self);
    }
}

GPtrArray *
wb_runner_copy_probes (WbRunner *self,
                       char   ***fields)
{
  GPtrArray *copy;

  g_return_val_if_fail (WB_IS_RUNNER (self), NULL);

  copy = g_ptr_array_new_with_free_func ((GDestroyNotify) wb_probe_free);
  LOCKED (self)
    {
      for (guint p = 0; p < self->probes->len; p++)
        g_ptr_array_add (copy, wb_probe_copy (g_ptr_array_index (self->probes, p)));
      if (fields)
        *fields = g_strdupv (self->probe_fields);
    }
  return copy;
}

void
wb_runner_read_field_async (WbRunner           *self,
                            const char         *name,
                            GCancellable       *cancellable,
                            GAsyncReadyCallback callback,
                            gpointer            user_data)
{
  GTask *task;

  g_return_if_fail (WB_IS_RUNNER (self));
  g_return_if_fail (name != NULL);

  task = g_task_new (self, cancellable, callback, user_data);
  g_task_set_source_tag (task, wb_runner_read_field_async);
  g_task_set_task_data (task, g_strdup (name), g_free);
  LOCKED (self)
    g_queue_push_tail (&self->read_requests, task);
}

WbField *
wb_runner_read_field_finish (WbRunner      *self,
                             GAsyncResult  *result,
                             GError       **error)
{
  g_return_val_if_fail (g_task_is_valid (result, self), NULL);
  return g_task_propagate_pointer (G_TASK (result), error);
}

void
wb_runner_read_traces_async (WbRunner           *self,
                             GCancellable       *cancellable,
                             GAsyncReadyCallback callback,
                             gpointer            user_data)
{
  GTask *task;

  g_return_if_fail (WB_IS_RUNNER (self));

  task = g_task_new (self, cancellable, callback, user_data);
  /* The tag tells the worker what to read (the queue is shared with
   * field reads, so both keep their order). */
  g_task_set_source_tag (task, wb_runner_read_traces_async);
  LOCKED (self)
    g_queue_push_tail (&self->read_requests, task);
}

GPtrArray *
wb_runner_read_traces_finish (WbRunner      *self,
                              GAsyncResult  *result,
                              GError       **error)
{
  g_return_val_if_fail (g_task_is_valid (result, self), NULL);
  return g_task_propagate_pointer (G_TASK (result), error);
}
