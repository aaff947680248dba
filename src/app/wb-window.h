/* wb-window.h: the workbench window: preset and backend choice, run
 * controls, field view with colorbar, probe plots, parameter panel, status
 * bar, exports; and a scripted mode for tests and documentation. */
#pragma once

#include <adwaita.h>

G_BEGIN_DECLS

#define WB_TYPE_WINDOW (wb_window_get_type ())
G_DECLARE_FINAL_TYPE (WbWindow, wb_window, WB, WINDOW, AdwApplicationWindow)

/* What a scripted run does (from the command line); all optional. */
typedef struct
{
  gboolean  active;
  guint     run_steps;
  char     *screenshot;         /* the view (field + colorbar) */
  char     *window_screenshot;  /* the whole window */
  GArray   *readouts;           /* graphene_point_t, view coordinates */
  GStrv     type_values;        /* "path=value" typed into the parameter panel */
  GArray   *probes;             /* guint[3] cells to probe from the start */
  char     *export_csv;         /* probes as CSV after the steps */
  GStrv     export_fields;      /* "NAME:PATH" (.npy or .png) after the steps */
  GStrv     seismogram_exports; /* sensor traces as .csv or .npy after the steps */
  GStrv     seismogram_screenshots; /* "wiggle:PATH" or "image:PATH" of the seismogram */
  double    benchmark_seconds;  /* > 0: free run this long, print rates */
  gboolean  live_view;          /* display on during the benchmark */
  char     *slice;              /* "AXIS[:INDEX]" (x, y, z) shown from the start */
  char     *export_frame;       /* the frame drawn, as .npy, at the end */
} WbScript;

void       wb_script_clear     (WbScript    *script);

WbWindow  *wb_window_new       (GtkApplication *app,
                                gboolean        scripted);
/* Opens @id (bundled name or path); errors are shown in the window. */
void       wb_window_open_preset (WbWindow   *self,
                                  const char *id);
void       wb_window_set_backend (WbWindow   *self,
                                  const char *id);
void       wb_window_set_field   (WbWindow   *self,
                                  const char *field);
void       wb_window_set_colormap (WbWindow  *self,
                                   const char *name);
void       wb_window_set_kernel_dir (WbWindow *self,
                                     const char *dir);
/* Runs @script (taking it over); the window closes when it is done and
 * *exit_status is set. */
void       wb_window_run_script  (WbWindow   *self,
                                  WbScript   *script,
                                  int        *exit_status);

G_END_DECLS
