/* wb-seismogram.h: the sensor traces of a simulation (the vwe solver's
 * seismograms), live, as variable-area wiggles or as an image of columns
 * through the diverging colormap; gain and normalisation; export as CSV
 * and as .npy.
 *
 * Traces are read on the runner's worker (wb_runner_read_traces_async), at
 * most one read in flight and only while the widget is on screen, so the
 * main thread never touches the OpenCL queue.  The widget lives as a page
 * beside the probe plot; wb_seismogram_attach() puts it there and shows the
 * page switcher only for simulations that have sensors. */
#pragma once

#include <gtk/gtk.h>
#include "wb-runner.h"

G_BEGIN_DECLS

#define WB_TYPE_SEISMOGRAM (wb_seismogram_get_type ())
G_DECLARE_FINAL_TYPE (WbSeismogram, wb_seismogram, WB, SEISMOGRAM, GtkWidget)

typedef enum
{
  WB_SEISMOGRAM_WIGGLE,
  WB_SEISMOGRAM_IMAGE,
} WbSeismogramMode;

typedef enum
{
  WB_SEISMOGRAM_NORM_TRACE,    /* each trace by its own peak */
  WB_SEISMOGRAM_NORM_COMMON,   /* all shown traces by their common peak */
} WbSeismogramNorm;

GtkWidget        *wb_seismogram_new          (WbRunner         *runner);

/* Makes the probe plot's panel (the parent of @plot, the end child of a
 * GtkPaned) and a new seismogram two pages of a stack, with a switcher
 * shown while the loaded simulation has sensor traces. */
WbSeismogram     *wb_seismogram_attach       (GtkWidget        *plot,
                                              WbRunner         *runner);

void              wb_seismogram_set_mode     (WbSeismogram     *self,
                                              WbSeismogramMode  mode);
WbSeismogramMode  wb_seismogram_get_mode     (WbSeismogram     *self);
void              wb_seismogram_set_gain     (WbSeismogram     *self,
                                              double            gain);
void              wb_seismogram_set_norm     (WbSeismogram     *self,
                                              WbSeismogramNorm  norm);
gboolean          wb_seismogram_has_traces   (WbSeismogram     *self);
/* Shows the seismogram's page (when attached). */
void              wb_seismogram_present      (WbSeismogram     *self);

/* Scripted mode (tests, documentation): reads the traces afresh, writes
 * each of @exports (.csv or .npy by suffix), then shows the seismogram
 * page and saves a PNG of the widget for each "MODE:PATH" of @screenshots
 * (MODE wiggle or image with time across, wiggle-down or image-down with
 * time down), printing one "wavebench: seismogram …" line per
 * file on stdout.  @callback gets TRUE when every file was written. */
typedef void (*WbSeismogramScriptDone) (gboolean ok,
                                        gpointer user_data);
void              wb_seismogram_run_script   (WbSeismogram     *self,
                                              const char * const *exports,
                                              const char * const *screenshots,
                                              WbSeismogramScriptDone callback,
                                              gpointer          user_data);

/* Exports, the same formats as `wavebench-cli run --csv`: a header
 * "time_s,NAME [UNITS],…" then one row per sample, values with %.9g (which
 * round-trips float32); and a float32 .npy of shape (traces, samples) in C
 * order, NaN past the end of a shorter trace.  Written atomically. */
char             *wb_traces_to_csv           (GPtrArray        *traces);
gboolean          wb_traces_write_csv        (GPtrArray        *traces,
                                              const char       *path,
                                              GError          **error);
gboolean          wb_traces_write_npy        (GPtrArray        *traces,
                                              const char       *path,
                                              GError          **error);

G_END_DECLS
