/* wb-debug-panel.h: the kernel debugging tools in the workbench.
 *
 * A "Debug" page next to the parameter panel runs the tools of
 * src/core/wb-probe.h, wb-compare.h and wb-launch.h on a copy of the loaded
 * preset, on a worker thread (its own sim, so the running one is never
 * touched): launch geometry, sentinel coverage, checkpoint probes and a
 * lockstep diff against the reference backend.  Coverage and probe maps are
 * drawn as an overlay on the field view, following its slice, zoom and pan;
 * the diff shows its error map and per-field errors.  "Edit kernel" opens
 * the kernel editor (wb-debug-editor.h).
 */
#pragma once

#include <gtk/gtk.h>

#include "wb-field-view.h"
#include "wb-runner.h"

G_BEGIN_DECLS

#define WB_TYPE_DEBUG_PANEL (wb_debug_panel_get_type ())
G_DECLARE_FINAL_TYPE (WbDebugPanel, wb_debug_panel, WB, DEBUG_PANEL, GtkBox)

typedef enum
{
  WB_DEBUG_OVERLAY_NONE,
  WB_DEBUG_OVERLAY_COVERAGE,
  WB_DEBUG_OVERLAY_PROBES,
} WbDebugOverlay;

/* Puts the panel beside @param_panel (which must be the end child of a
 * GtkPaned: both become pages of a stack there) and its overlay over
 * @view (whose parent must be a GtkOverlay).  The window owns the panel. */
WbDebugPanel *wb_debug_panel_attach      (GtkWindow      *window,
                                          GtkWidget      *param_panel,
                                          WbFieldView    *view,
                                          WbRunner       *runner);

typedef enum
{
  WB_DEBUG_TOOL_LAUNCH,
  WB_DEBUG_TOOL_COVERAGE,
  WB_DEBUG_TOOL_PROBES,
  WB_DEBUG_TOOL_DIFF,
} WbDebugTool;

/* Runs a tool on the loaded preset, as the buttons do. */
void          wb_debug_panel_run_tool    (WbDebugPanel   *self,
                                          WbDebugTool     tool);
void          wb_debug_panel_set_overlay (WbDebugPanel   *self,
                                          WbDebugOverlay  overlay);
/* Shows the debug page. */
void          wb_debug_panel_present     (WbDebugPanel   *self);

G_END_DECLS
