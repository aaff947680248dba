/* wb-param-panel.h: an editor generated from the preset's JSON: one row per
 * value, grouped by object.  Every keystroke is validated by the engine
 * itself (wb_preset_set on a copy, then wb_sim_validate), so the message
 * under a refused value is exactly the solver's; valid edits collect in the
 * panel's preset and apply when the simulation is reset. */
#pragma once

#include <gtk/gtk.h>
#include "wb-preset.h"

G_BEGIN_DECLS

#define WB_TYPE_PARAM_PANEL (wb_param_panel_get_type ())
G_DECLARE_FINAL_TYPE (WbParamPanel, wb_param_panel, WB, PARAM_PANEL, GtkWidget)

void            wb_param_panel_set_preset (WbParamPanel   *self,
                                           const WbPreset *preset);
/* The preset with every accepted edit (borrowed), or NULL. */
const WbPreset *wb_param_panel_get_preset (WbParamPanel   *self);
/* Whether accepted edits are waiting for a reset. */
gboolean        wb_param_panel_get_dirty  (WbParamPanel   *self);
void            wb_param_panel_set_dirty  (WbParamPanel   *self,
                                           gboolean        dirty);
/* Types @text into the row for @path ("time.dt") as a user would; returns
 * the message the row then shows (NULL: accepted), or sets @error if there
 * is no such row.  For tests and scripted mode. */
gboolean        wb_param_panel_type_value (WbParamPanel   *self,
                                           const char     *path,
                                           const char     *text,
                                           char          **message,
                                           GError        **error);

G_END_DECLS
