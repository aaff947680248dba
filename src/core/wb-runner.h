/* wb-runner.h: a simulation on a worker thread.
 *
 * The runner owns one WbSim at a time and drives it from its own GThread:
 * run (until the preset's step count), pause, step N, cancel, load a new
 * preset (the kernel build happens on the worker too, so a slow compiler
 * never blocks the caller).  Notices (progress, "loaded", "failed",
 * "frame-ready", "probes-updated") reach the GMainContext that was the
 * thread default when the runner was created, through at most one pending
 * idle source, so the main loop is never flooded however fast the solver is.
 *
 * Frames: the displayed field is read back only while a consumer wants one.
 * The worker fills a back slot; wb_runner_take_frame() hands it over and
 * re-arms the request, so there are two buffers in flight (the one shown
 * and the one being filled) and the solver never waits for the display.
 *
 * GLib only, no GTK.  Every public function is for the main context's
 * thread; the object must be finalised there too.
 */
#pragma once

#include <glib-object.h>
#include "wb-device.h"
#include "wb-field.h"
#include "wb-preset.h"
#include "wb-sim.h"

G_BEGIN_DECLS

#define WB_TYPE_RUNNER (wb_runner_get_type ())
G_DECLARE_FINAL_TYPE (WbRunner, wb_runner, WB, RUNNER, GObject)

typedef enum
{
  WB_RUNNER_EMPTY,      /* no simulation */
  WB_RUNNER_LOADING,    /* building a simulation on the worker */
  WB_RUNNER_IDLE,       /* a simulation, nothing to do */
  WB_RUNNER_BUSY,       /* stepping (free run or a step request) */
  WB_RUNNER_FAILED,     /* the last load or step failed; see "failed" */
} WbRunnerState;

/* What the main thread may know about the loaded simulation (a copy made
 * when it was loaded; the sim itself belongs to the worker). */
typedef struct
{
  char      *solver;          /* "bhte" */
  char      *device_id;
  char      *device_name;
  guint      ndim;
  gsize      shape[3];
  double     spacing[3];
  double     dt;
  guint64    total_steps;
  char     **field_names;
  char      *default_field;
  WbPreset  *preset;          /* the validated preset the sim was made from */
} WbRunnerInfo;

/* One probe: a cell whose values of the probe fields are recorded. */
typedef struct
{
  gsize   cell[3];
  GArray *times;              /* double, seconds of simulated time */
  GArray *values;             /* double, n_fields per sample, interleaved */
} WbProbe;

WbRunner           *wb_runner_new               (void);

/* Loads a copy of @preset on @device (asynchronous; "loaded" or "failed"
 * follows).  A load supersedes any run and any earlier load. */
void                wb_runner_load              (WbRunner       *runner,
                                                 const WbPreset *preset,
                                                 WbDevice       *device,
                                                 const char     *kernel_dir);
/* Hands over an already created @sim (takes ownership); "loaded" follows. */
void                wb_runner_set_sim           (WbRunner       *runner,
                                                 WbSim          *sim);
/* Drops the simulation. */
void                wb_runner_unload            (WbRunner       *runner);

void                wb_runner_run               (WbRunner       *runner);
void                wb_runner_pause             (WbRunner       *runner);
void                wb_runner_step              (WbRunner       *runner,
                                                 guint           n_steps);
/* Stops a run and forgets pending steps and loads. */
void                wb_runner_cancel            (WbRunner       *runner);

WbRunnerState       wb_runner_get_state         (WbRunner       *runner);
gboolean            wb_runner_get_running       (WbRunner       *runner);
guint64             wb_runner_get_step          (WbRunner       *runner);
double              wb_runner_get_sim_time      (WbRunner       *runner);
double              wb_runner_get_steps_per_second  (WbRunner   *runner);
double              wb_runner_get_frames_per_second (WbRunner   *runner);
/* NULL until loaded. */
const WbRunnerInfo *wb_runner_get_info          (WbRunner       *runner);
/* The last error, or NULL. */
const GError       *wb_runner_get_error         (WbRunner       *runner);

/* Display: the field read back for frames; NULL turns frames off. */
void                wb_runner_set_display_field (WbRunner       *runner,
                                                 const char     *name);
/* Frames are read at most this often (default 60/s). */
void                wb_runner_set_max_fps       (WbRunner       *runner,
                                                 double          fps);
/* The newest frame (a new reference) or NULL; taking it asks for the next. */
WbField            *wb_runner_take_frame        (WbRunner       *runner,
                                                 guint64        *step,
                                                 double         *sim_time);
/* Number of frames read back since the sim was loaded. */
guint64             wb_runner_get_frames_read   (WbRunner       *runner);

/* Publishing: the display takes its frames from the device itself
 * (docs/interop.md).  @func runs on the worker thread, without the
 * runner's lock, with the sim, the display field and the step: after the
 * steps of a frame (at most max_fps times a second), when stepping stops,
 * when a sim is loaded and after wb_runner_request_publish ().  It must
 * not wait for the display.  It returns TRUE when it has sent that frame
 * on its way (a device-side copy); host frames (wb_runner_take_frame) are
 * then read only every host-frame interval while running and once when
 * stepping stops, for a readout and a colour range.  FALSE (a field or
 * backend it cannot serve) leaves the display to host frames at the full
 * rate.  Replacing or clearing @func waits for a call in progress; the old
 * @destroy runs on the caller's thread. */
typedef gboolean (*WbRunnerPublishFunc) (WbSim      *sim,
                                         const char *field,
                                         guint64     step,
                                         gpointer    user_data);

void                wb_runner_set_publish_func  (WbRunner       *runner,
                                                 WbRunnerPublishFunc func,
                                                 gpointer        user_data,
                                                 GDestroyNotify  destroy);
/* Calls the publish func once more (for example after the view changed
 * the slice while the run is paused). */
void                wb_runner_request_publish   (WbRunner       *runner);
/* While the publish func serves the display, host frames are read at most
 * this often while running (default 0.5 s), through a WbSnapshot. */
void                wb_runner_set_host_frame_interval (WbRunner *runner,
                                                       double    seconds);
/* Calls of the publish func that returned TRUE since the sim was loaded. */
guint64             wb_runner_get_frames_published (WbRunner     *runner);
/* Simulations loaded afterwards on @cl's device are made on @cl
 * (wb_sim_new_full), e.g. a context made against the display's GL context
 * for cl_khr_gl_sharing.  NULL: each makes its own. */
void                wb_runner_set_cl_context    (WbRunner       *runner,
                                                 WbClContext    *cl);

/* Probes: the fields recorded at every probe (set before or after adding
 * probes; changing them clears the series). */
void                wb_runner_set_probe_fields  (WbRunner       *runner,
                                                 const char * const *names);
/* Adds a probe at cell (i, j, k); returns its index. */
guint               wb_runner_add_probe         (WbRunner       *runner,
                                                 gsize           i,
                                                 gsize           j,
                                                 gsize           k);
void                wb_runner_clear_probes      (WbRunner       *runner);
/* A snapshot of every probe's series (WbProbe*), free with
 * g_ptr_array_unref.  *fields gets the probe field names (owned by caller). */
GPtrArray          *wb_runner_copy_probes       (WbRunner       *runner,
                                                 char         ***fields);
void                wb_probe_free               (WbProbe        *probe);

/* Reads any field of the current simulation on the worker. */
void                wb_runner_read_field_async  (WbRunner       *runner,
                                                 const char     *name,
                                                 GCancellable   *cancellable,
                                                 GAsyncReadyCallback callback,
                                                 gpointer        user_data);
WbField            *wb_runner_read_field_finish (WbRunner       *runner,
                                                 GAsyncResult   *result,
                                                 GError        **error);

/* Reads the simulation's sensor traces on the worker (wb_sim_read_traces:
 * a GPtrArray of WbTrace*, empty for a solver without sensors), so that
 * no OpenCL call happens on the caller's thread. */
void                wb_runner_read_traces_async (WbRunner       *runner,
                                                 GCancellable   *cancellable,
                                                 GAsyncReadyCallback callback,
                                                 gpointer        user_data);
GPtrArray          *wb_runner_read_traces_finish (WbRunner      *runner,
                                                  GAsyncResult  *result,
                                                  GError       **error);

G_END_DECLS
