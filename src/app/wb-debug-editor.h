/* wb-debug-editor.h: the live kernel editor.
 *
 * Opens the kernel of the loaded solver (kernels/SOLVER.cl, or the file
 * its preset's "debug" section names) in a GtkSourceView with C
 * highlighting: the user's copy from g_get_user_data_dir()/wavebench/
 * kernels when there is one, else the bundled source.  Ctrl+B saves the
 * edit there, builds a new simulation from it on a worker thread and, if it
 * builds, hands it to the runner and runs it (rerun in place); if not, the
 * compiler's errors are listed with their line numbers and marked in the
 * text, and the simulation that was running keeps running.  "Revert"
 * removes the user's copy and goes back to the bundled kernel.
 */
#pragma once

#include <gtk/gtk.h>

#include "wb-runner.h"

G_BEGIN_DECLS

#define WB_TYPE_DEBUG_EDITOR (wb_debug_editor_get_type ())
G_DECLARE_FINAL_TYPE (WbDebugEditor, wb_debug_editor, WB, DEBUG_EDITOR, GtkWindow)

GtkWidget *wb_debug_editor_new            (GtkWindow     *parent,
                                           WbRunner      *runner);
/* The user's kernel directory, g_get_user_data_dir()/wavebench/kernels. */
char      *wb_debug_editor_user_dir       (void);
/* Rebuilds from the text in the editor (what Ctrl+B does). */
void       wb_debug_editor_rebuild        (WbDebugEditor *self);
gboolean   wb_debug_editor_is_building    (WbDebugEditor *self);
/* Replaces the first occurrence of @find in the text (documentation and
 * tests script an edit this way); FALSE if it is not there. */
gboolean   wb_debug_editor_replace        (WbDebugEditor *self,
                                           const char    *find,
                                           const char    *replace);
/* Lines the last failed build reported (1-based), for tests. */
GArray    *wb_debug_editor_get_error_lines (WbDebugEditor *self);

/* Parses "FILE:LINE:COL: error: ..." lines of a build log for @file:
 * returns the line numbers (guint, 1-based) and the messages. */
GArray    *wb_debug_parse_build_errors    (const char    *log,
                                           const char    *file,
                                           GPtrArray     *messages);

G_END_DECLS
