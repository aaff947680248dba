#define G_LOG_DOMAIN "wb-debug-editor"
#include "config.h"

#include <errno.h>
#include <string.h>
#include <glib/gi18n.h>
#include <glib/gstdio.h>
#include <gtksourceview/gtksource.h>

#include "wb-debug-editor.h"
#include "wb-error.h"
#include "wb-io.h"
#include "wb-sim.h"

struct _WbDebugEditor
{
  GtkWindow        parent_instance;

  /* Owned widgets (built in code: one view, a list, a status line) */
  GtkSourceBuffer *buffer;
  GtkSourceView   *view;
  GtkListBox      *errors;
  GtkLabel        *status;
  GtkLabel        *origin;

  /* Borrowed */
  WbRunner        *runner;

  /* Owned */
  char            *file;         /* "bhte.cl" */
  GArray          *error_lines;  /* guint */
  GCancellable    *cancellable;
  gboolean         building;
};

G_DEFINE_FINAL_TYPE (WbDebugEditor, wb_debug_editor, GTK_TYPE_WINDOW)

char *
wb_debug_editor_user_dir (void)
{
  return g_build_filename (g_get_user_data_dir (), "wavebench", "kernels", NULL);
}

GArray *
wb_debug_parse_build_errors (const char *log,
                             const char *file,
                             GPtrArray  *messages)
{
  GArray *lines = g_array_new (FALSE, FALSE, sizeof (guint));
  g_auto(GStrv) parts = g_strsplit (log ? log : "", "\n", -1);
  g_autofree char *prefix = g_strdup_printf ("%s:", file);

  for (guint i = 0; parts[i]; i++)
    {
      const char *l = strstr (parts[i], prefix);
      guint64 line;
      char *end;

      /* "bhte.cl:97:20: error: expected ';'" (clang), "error:
       * bhte.cl:116:18: expected ';'" (PoCL), maybe with a path before the
       * name; warnings are not listed. */
      if (l == NULL || (l != parts[i] && l[-1] != '/' && l[-1] != ' '))
        continue;
      l += strlen (prefix);
      line = g_ascii_strtoull (l, &end, 10);
      if (end == l || line == 0 || strstr (parts[i], "error") == NULL)
        continue;
      g_array_append_val (lines, (guint) { line });
      if (messages)
        g_ptr_array_add (messages, g_strstrip (g_strdup (parts[i])));
    }
  return lines;
}

static char *
kernel_file_for (const WbRunnerInfo *info)
{
  JsonNode *node = info->preset ? wb_preset_lookup (info->preset, "debug.kernel") : NULL;

  if (node && JSON_NODE_HOLDS_VALUE (node) && json_node_get_value_type (node) == G_TYPE_STRING)
    return g_strdup (json_node_get_string (node));
  return g_strdup_printf ("%s.cl", info->solver);
}

static void
clear_marks (WbDebugEditor *self)
{
  GtkTextIter a, b;
  GtkWidget *row;

  gtk_text_buffer_get_bounds (GTK_TEXT_BUFFER (self->buffer), &a, &b);
  gtk_text_buffer_remove_tag_by_name (GTK_TEXT_BUFFER (self->buffer), "wb-error", &a, &b);
  while ((row = gtk_widget_get_first_child (GTK_WIDGET (self->errors))))
    gtk_list_box_remove (self->errors, row);
  g_array_set_size (self->error_lines, 0);
  gtk_widget_set_visible (GTK_WIDGET (self->errors), FALSE);
}

static void
load_source (WbDebugEditor *self)
{
  const WbRunnerInfo *info = wb_runner_get_info (self->runner);
  g_autofree char *dir = wb_debug_editor_user_dir ();
  g_autofree char *path = NULL;
  g_autofree char *text = NULL;
  g_autofree char *resource = NULL;
  g_autofree char *title = NULL;
  g_autoptr(GError) error = NULL;
  GtkTextIter start;

  g_free (self->file);
  self->file = info ? kernel_file_for (info) : g_strdup ("bhte.cl");
  path = g_build_filename (dir, self->file, NULL);
  if (g_file_get_contents (path, &text, NULL, NULL))
    gtk_label_set_text (self->origin, path);
  else
    {
      g_autoptr(GBytes) bytes = NULL;

      resource = g_strdup_printf ("/org/wavebench/Wavebench/kernels/%s", self->file);
      bytes = g_resources_lookup_data (resource, 0, &error);
      if (bytes == NULL)
        {
          gtk_label_set_text (self->status, error->message);
          return;
        }
      text = g_strndup (g_bytes_get_data (bytes, NULL), g_bytes_get_size (bytes));
      {
        g_autofree char *msg = g_strdup_printf (_("bundled %s (edits are saved in %s)"), self->file, dir);
        gtk_label_set_text (self->origin, msg);
      }
    }
  gtk_text_buffer_begin_irreversible_action (GTK_TEXT_BUFFER (self->buffer));
  gtk_text_buffer_set_text (GTK_TEXT_BUFFER (self->buffer), text, -1);
  gtk_text_buffer_end_irreversible_action (GTK_TEXT_BUFFER (self->buffer));
  gtk_text_buffer_get_start_iter (GTK_TEXT_BUFFER (self->buffer), &start);
  gtk_text_buffer_place_cursor (GTK_TEXT_BUFFER (self->buffer), &start);
  clear_marks (self);
  title = g_strdup_printf (_("Kernel editor — %s"), self->file);
  gtk_window_set_title (GTK_WINDOW (self), title);
}

typedef struct
{
  WbPreset *preset;
  WbDevice *device;
  char     *dir;
} BuildJob;

static void
build_job_free (BuildJob *job)
{
  g_clear_pointer (&job->preset, wb_preset_free);
  g_clear_pointer (&job->device, wb_device_unref);
  g_free (job->dir);
  g_free (job);
}

static void
build_thread (GTask        *task,
              gpointer      source,
              gpointer      data,
              GCancellable *cancellable)
{
  BuildJob *job = data;
  GError *error = NULL;
  WbSim *sim = wb_sim_new (job->preset, job->device, job->dir, &error);

  if (sim == NULL)
    g_task_return_error (task, error);
  else
    g_task_return_pointer (task, sim, (GDestroyNotify) wb_sim_free);
}

static void
on_error_row_activated (WbDebugEditor *self,
                        GtkListBoxRow *row)
{
  guint index = gtk_list_box_row_get_index (row);
  GtkTextIter it;

  if (index >= self->error_lines->len)
    return;
  gtk_text_buffer_get_iter_at_line (GTK_TEXT_BUFFER (self->buffer), &it,
                                    g_array_index (self->error_lines, guint, index) - 1);
  gtk_text_buffer_place_cursor (GTK_TEXT_BUFFER (self->buffer), &it);
  gtk_text_view_scroll_to_iter (GTK_TEXT_VIEW (self->view), &it, 0.2, FALSE, 0, 0);
  gtk_widget_grab_focus (GTK_WIDGET (self->view));
}

static void
show_build_errors (WbDebugEditor *self,
                   const GError  *error)
{
  g_autoptr(GPtrArray) messages = g_ptr_array_new_with_free_func (g_free);
  g_autoptr(GArray) lines = wb_debug_parse_build_errors (error->message, self->file, messages);

  clear_marks (self);
  for (guint i = 0; i < lines->len; i++)
    {
      guint line = g_array_index (lines, guint, i);
      GtkTextIter a, b;
      GtkWidget *label = gtk_label_new (messages->pdata[i]);

      g_array_append_val (self->error_lines, line);
      gtk_text_buffer_get_iter_at_line (GTK_TEXT_BUFFER (self->buffer), &a, line - 1);
      b = a;
      gtk_text_iter_forward_to_line_end (&b);
      gtk_text_buffer_apply_tag_by_name (GTK_TEXT_BUFFER (self->buffer), "wb-error", &a, &b);
      gtk_label_set_xalign (GTK_LABEL (label), 0);
      gtk_label_set_wrap (GTK_LABEL (label), TRUE);
      gtk_widget_add_css_class (label, "monospace");
      gtk_list_box_append (self->errors, label);
    }
  if (lines->len > 0)
    {
      /* Go to the first error; scroll_to_mark works before layout is done. */
      GtkTextIter it;

      gtk_text_buffer_get_iter_at_line (GTK_TEXT_BUFFER (self->buffer), &it,
                                        g_array_index (lines, guint, 0) - 1);
      gtk_text_buffer_place_cursor (GTK_TEXT_BUFFER (self->buffer), &it);
      gtk_text_view_scroll_to_mark (GTK_TEXT_VIEW (self->view),
                                    gtk_text_buffer_get_insert (GTK_TEXT_BUFFER (self->buffer)),
                                    0.2, TRUE, 0.0, 0.3);
    }
  if (lines->len == 0)
    {
      /* No FILE:LINE: lines (a link error, a missing kernel): the whole
       * message is the diagnosis. */
      GtkWidget *label = gtk_label_new (error->message);
      gtk_label_set_xalign (GTK_LABEL (label), 0);
      gtk_label_set_wrap (GTK_LABEL (label), TRUE);
      gtk_list_box_append (self->errors, label);
    }
  gtk_widget_set_visible (GTK_WIDGET (self->errors), TRUE);
}

static void
build_done (GObject      *source,
            GAsyncResult *result,
            gpointer      data)
{
  WbDebugEditor *self = data;
  g_autoptr(GError) error = NULL;
  WbSim *sim = g_task_propagate_pointer (G_TASK (result), &error);

  self->building = FALSE;
  if (sim == NULL)
    {
      if (!g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
        {
          g_autofree char *msg = NULL;

          show_build_errors (self, error);
          msg = g_strdup_printf (_("Build failed (%u error line(s)); the previous program keeps running."),
                                 self->error_lines->len);
          gtk_label_set_text (self->status, msg);
        }
      g_object_unref (self);
      return;
    }
  clear_marks (self);
  gtk_label_set_text (self->status, _("Built; the simulation restarted with the new kernel."));
  wb_runner_set_sim (self->runner, sim);
  wb_runner_run (self->runner);
  g_object_unref (self);
}

void
wb_debug_editor_rebuild (WbDebugEditor *self)
{
  const WbRunnerInfo *info = wb_runner_get_info (self->runner);
  g_autofree char *dir = wb_debug_editor_user_dir ();
  g_autofree char *path = NULL;
  g_autofree char *text = NULL;
  g_autoptr(GError) error = NULL;
  g_autoptr(GPtrArray) devices = NULL;
  g_autoptr(GTask) task = NULL;
  GtkTextIter a, b;
  BuildJob *job;

  g_return_if_fail (WB_IS_DEBUG_EDITOR (self));
  if (self->building)
    return;
  if (info == NULL || info->preset == NULL)
    {
      gtk_label_set_text (self->status, _("Load a preset first."));
      return;
    }
  gtk_text_buffer_get_bounds (GTK_TEXT_BUFFER (self->buffer), &a, &b);
  text = gtk_text_buffer_get_text (GTK_TEXT_BUFFER (self->buffer), &a, &b, FALSE);
  path = g_build_filename (dir, self->file, NULL);
  if (g_mkdir_with_parents (dir, 0755) != 0 ||
      !wb_file_write_atomic (path, text, strlen (text), &error))
    {
      g_autofree char *msg = g_strdup_printf (_("Could not save %s: %s"), path,
                                              error ? error->message : g_strerror (errno));
      gtk_label_set_text (self->status, msg);
      return;
    }
  gtk_label_set_text (self->origin, path);
  devices = wb_device_list (NULL);
  job = g_new0 (BuildJob, 1);
  job->preset = wb_preset_copy (info->preset);
  job->device = wb_device_lookup (devices, info->device_id, NULL, NULL);
  job->dir = g_steal_pointer (&dir);
  if (job->device == NULL)
    {
      build_job_free (job);
      gtk_label_set_text (self->status, _("The backend of the loaded simulation is gone."));
      return;
    }
  self->building = TRUE;
  gtk_label_set_text (self->status, _("Building…"));
  task = g_task_new (NULL, self->cancellable, build_done, g_object_ref (self));
  g_task_set_task_data (task, job, (GDestroyNotify) build_job_free);
  g_task_run_in_thread (task, build_thread);
}

gboolean
wb_debug_editor_is_building (WbDebugEditor *self)
{
  return self->building;
}

gboolean
wb_debug_editor_replace (WbDebugEditor *self,
                         const char    *find,
                         const char    *replace)
{
  GtkTextIter start, a, b;

  gtk_text_buffer_get_start_iter (GTK_TEXT_BUFFER (self->buffer), &start);
  if (!gtk_text_iter_forward_search (&start, find, GTK_TEXT_SEARCH_TEXT_ONLY, &a, &b, NULL))
    return FALSE;
  gtk_text_buffer_delete (GTK_TEXT_BUFFER (self->buffer), &a, &b);
  gtk_text_buffer_insert (GTK_TEXT_BUFFER (self->buffer), &a, replace, -1);
  gtk_text_buffer_place_cursor (GTK_TEXT_BUFFER (self->buffer), &a);
  gtk_text_view_scroll_to_iter (GTK_TEXT_VIEW (self->view), &a, 0.2, FALSE, 0, 0);
  return TRUE;
}

GArray *
wb_debug_editor_get_error_lines (WbDebugEditor *self)
{
  return self->error_lines;
}

static void
action_rebuild (GtkWidget  *widget,
                const char *name,
                GVariant   *param)
{
  wb_debug_editor_rebuild (WB_DEBUG_EDITOR (widget));
}

static void
action_revert (GtkWidget  *widget,
               const char *name,
               GVariant   *param)
{
  WbDebugEditor *self = WB_DEBUG_EDITOR (widget);
  g_autofree char *dir = wb_debug_editor_user_dir ();
  g_autofree char *path = g_build_filename (dir, self->file, NULL);

  g_unlink (path);
  load_source (self);
  wb_debug_editor_rebuild (self);
}

static void
wb_debug_editor_dispose (GObject *object)
{
  WbDebugEditor *self = WB_DEBUG_EDITOR (object);

  g_cancellable_cancel (self->cancellable);
  G_OBJECT_CLASS (wb_debug_editor_parent_class)->dispose (object);
}

static void
wb_debug_editor_finalize (GObject *object)
{
  WbDebugEditor *self = WB_DEBUG_EDITOR (object);

  g_clear_object (&self->cancellable);
  g_clear_pointer (&self->error_lines, g_array_unref);
  g_free (self->file);
  G_OBJECT_CLASS (wb_debug_editor_parent_class)->finalize (object);
}

static void
wb_debug_editor_class_init (WbDebugEditorClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  GtkWidgetClass *widget_class = GTK_WIDGET_CLASS (klass);

  object_class->dispose = wb_debug_editor_dispose;
  object_class->finalize = wb_debug_editor_finalize;
  gtk_widget_class_install_action (widget_class, "editor.rebuild", NULL, action_rebuild);
  gtk_widget_class_install_action (widget_class, "editor.revert", NULL, action_revert);
  gtk_widget_class_add_binding_action (widget_class, GDK_KEY_b, GDK_CONTROL_MASK, "editor.rebuild", NULL);
}

static void
wb_debug_editor_init (WbDebugEditor *self)
{
  GtkSourceLanguageManager *lm;
  GtkSourceStyleSchemeManager *sm;
  GtkWidget *header, *button, *box, *scroll, *paned, *errors_scroll;

  gtk_source_init ();
  self->cancellable = g_cancellable_new ();
  self->error_lines = g_array_new (FALSE, FALSE, sizeof (guint));
  gtk_window_set_default_size (GTK_WINDOW (self), 900, 700);

  header = gtk_header_bar_new ();
  button = gtk_button_new_with_label (_("Rebuild and rerun"));
  gtk_actionable_set_action_name (GTK_ACTIONABLE (button), "editor.rebuild");
  gtk_widget_set_tooltip_text (button, _("Save, build and rerun (Ctrl+B)"));
  gtk_widget_add_css_class (button, "suggested-action");
  gtk_header_bar_pack_start (GTK_HEADER_BAR (header), button);
  button = gtk_button_new_with_label (_("Revert to bundled"));
  gtk_actionable_set_action_name (GTK_ACTIONABLE (button), "editor.revert");
  gtk_widget_set_tooltip_text (button, _("Delete your copy and go back to the bundled kernel"));
  gtk_header_bar_pack_end (GTK_HEADER_BAR (header), button);
  gtk_window_set_titlebar (GTK_WINDOW (self), header);

  lm = gtk_source_language_manager_get_default ();
  self->buffer = gtk_source_buffer_new_with_language (gtk_source_language_manager_get_language (lm, "c"));
  sm = gtk_source_style_scheme_manager_get_default ();
  gtk_source_buffer_set_style_scheme (self->buffer,
                                      gtk_source_style_scheme_manager_get_scheme (sm, "classic"));
  gtk_text_buffer_create_tag (GTK_TEXT_BUFFER (self->buffer), "wb-error",
                              "background", "#f6c6c6",
                              "underline", PANGO_UNDERLINE_ERROR, NULL);
  self->view = GTK_SOURCE_VIEW (gtk_source_view_new_with_buffer (self->buffer));
  g_object_unref (self->buffer);
  gtk_source_view_set_show_line_numbers (self->view, TRUE);
  gtk_source_view_set_highlight_current_line (self->view, TRUE);
  gtk_source_view_set_auto_indent (self->view, TRUE);
  gtk_source_view_set_tab_width (self->view, 2);
  gtk_text_view_set_monospace (GTK_TEXT_VIEW (self->view), TRUE);

  box = gtk_box_new (GTK_ORIENTATION_VERTICAL, 0);
  self->origin = GTK_LABEL (gtk_label_new (""));
  gtk_label_set_xalign (self->origin, 0);
  gtk_label_set_ellipsize (self->origin, PANGO_ELLIPSIZE_START);
  gtk_widget_set_margin_start (GTK_WIDGET (self->origin), 6);
  gtk_widget_add_css_class (GTK_WIDGET (self->origin), "dim-label");
  gtk_box_append (GTK_BOX (box), GTK_WIDGET (self->origin));

  paned = gtk_paned_new (GTK_ORIENTATION_VERTICAL);
  scroll = gtk_scrolled_window_new ();
  gtk_scrolled_window_set_child (GTK_SCROLLED_WINDOW (scroll), GTK_WIDGET (self->view));
  gtk_widget_set_vexpand (scroll, TRUE);
  gtk_paned_set_start_child (GTK_PANED (paned), scroll);
  self->errors = GTK_LIST_BOX (gtk_list_box_new ());
  gtk_widget_set_visible (GTK_WIDGET (self->errors), FALSE);
  g_signal_connect_swapped (self->errors, "row-activated", G_CALLBACK (on_error_row_activated), self);
  errors_scroll = gtk_scrolled_window_new ();
  gtk_widget_set_size_request (errors_scroll, -1, 120);
  gtk_scrolled_window_set_child (GTK_SCROLLED_WINDOW (errors_scroll), GTK_WIDGET (self->errors));
  gtk_paned_set_end_child (GTK_PANED (paned), errors_scroll);
  gtk_paned_set_position (GTK_PANED (paned), 520);
  gtk_widget_set_vexpand (paned, TRUE);
  gtk_box_append (GTK_BOX (box), paned);

  self->status = GTK_LABEL (gtk_label_new (_("Ctrl+B: save, rebuild and rerun")));
  gtk_label_set_xalign (self->status, 0);
  gtk_widget_set_margin_start (GTK_WIDGET (self->status), 6);
  gtk_widget_set_margin_top (GTK_WIDGET (self->status), 4);
  gtk_widget_set_margin_bottom (GTK_WIDGET (self->status), 4);
  gtk_box_append (GTK_BOX (box), GTK_WIDGET (self->status));
  gtk_window_set_child (GTK_WINDOW (self), box);
}

GtkWidget *
wb_debug_editor_new (GtkWindow *parent,
                     WbRunner  *runner)
{
  WbDebugEditor *self = g_object_new (WB_TYPE_DEBUG_EDITOR, "transient-for", parent, NULL);

  self->runner = runner;
  load_source (self);
  return GTK_WIDGET (self);
}
