#define G_LOG_DOMAIN "wb-param-panel"
#include "config.h"

#include <glib/gi18n.h>

#include "wb-error.h"
#include "wb-param-panel.h"
#include "wb-sim.h"

typedef enum { ROW_NUMBER, ROW_STRING, ROW_BOOL, ROW_JSON } RowKind;

typedef struct
{
  WbParamPanel *panel;              /* borrowed */
  char         *path;
  RowKind       kind;
  GtkWidget    *editor;             /* GtkEntry or GtkSwitch, borrowed */
  GtkLabel     *message;            /* borrowed */
} Row;

struct _WbParamPanel
{
  GtkWidget   parent_instance;

  /* Template widgets */
  GtkWidget  *box;
  GtkBox     *rows;
  GtkLabel   *status_label;

  /* Owned */
  WbPreset   *preset;
  GHashTable *row_table;            /* path -> Row* */
  gboolean    dirty;
  gboolean    building;
};

G_DEFINE_FINAL_TYPE (WbParamPanel, wb_param_panel, GTK_TYPE_WIDGET)

enum { SIGNAL_CHANGED, N_SIGNALS };
static guint signals[N_SIGNALS];

static void
row_free (Row *row)
{
  g_free (row->path);
  g_free (row);
}

static char *
scalar_text (JsonNode *node)
{
  if (JSON_NODE_HOLDS_NULL (node))
    return g_strdup ("null");
  switch (json_node_get_value_type (node))
    {
    case G_TYPE_STRING:
      return g_strdup (json_node_get_string (node));
    case G_TYPE_BOOLEAN:
      return g_strdup (json_node_get_boolean (node) ? "true" : "false");
    case G_TYPE_INT64:
      return g_strdup_printf ("%" G_GINT64_FORMAT, json_node_get_int (node));
    default:
      {
        char buf[G_ASCII_DTOSTR_BUF_SIZE];
        return g_strdup (g_ascii_formatd (buf, sizeof buf, "%.10g", json_node_get_double (node)));
      }
    }
}

/* The assignment wb_preset_set () takes for what the user typed. */
static char *
row_assignment (Row *row, const char *text)
{
  if (row->kind == ROW_STRING)
    {
      /* Quoted, so "12" stays the string the preset had. */
      g_autoptr(JsonNode) node = json_node_init_string (json_node_alloc (), text);
      g_autofree char *quoted = json_to_string (node, FALSE);
      return g_strdup_printf ("%s=%s", row->path, quoted);
    }
  return g_strdup_printf ("%s=%s", row->path, text);
}

/* Returns NULL when accepted, else the engine's message. */
static char *
row_try (Row *row, const char *text)
{
  WbParamPanel *self = row->panel;
  g_autofree char *assignment = row_assignment (row, text);
  g_autoptr(WbPreset) copy = NULL;
  g_autoptr(GError) error = NULL;

  if (self->preset == NULL)
    return g_strdup (_("No preset is loaded"));
  copy = wb_preset_copy (self->preset);
  if (!wb_preset_set (copy, assignment, &error) || !wb_sim_validate (copy, &error))
    {
      gtk_widget_add_css_class (row->editor, "error");
      gtk_label_set_text (row->message, error->message);
      gtk_widget_set_visible (GTK_WIDGET (row->message), TRUE);
      return g_strdup (error->message);
    }
  gtk_widget_remove_css_class (row->editor, "error");
  gtk_widget_set_visible (GTK_WIDGET (row->message), FALSE);
  {
    /* Accepted: keep it unless it changes nothing. */
    g_autofree char *before = wb_preset_to_data (self->preset, NULL);
    g_autofree char *after = wb_preset_to_data (copy, NULL);

    if (g_strcmp0 (before, after) != 0)
      {
        wb_preset_free (self->preset);
        self->preset = g_steal_pointer (&copy);
        wb_param_panel_set_dirty (self, TRUE);
        g_signal_emit (self, signals[SIGNAL_CHANGED], 0);
      }
  }
  return NULL;
}

static void
on_entry_changed (GtkEditable *editable,
                  Row         *row)
{
  g_autofree char *message = NULL;

  if (row->panel->building)
    return;
  message = row_try (row, gtk_editable_get_text (editable));
}

static void
on_switch_active (GtkSwitch  *sw,
                  GParamSpec *pspec,
                  Row        *row)
{
  g_autofree char *message = NULL;

  if (row->panel->building)
    return;
  message = row_try (row, gtk_switch_get_active (sw) ? "true" : "false");
}

static void
add_row (WbParamPanel *self,
         GtkBox       *parent,
         const char   *key,
         const char   *path,
         JsonNode     *node)
{
  Row *row = g_new0 (Row, 1);
  GtkWidget *vbox, *hbox, *label, *message;

  row->panel = self;
  row->path = g_strdup (path);

  vbox = gtk_box_new (GTK_ORIENTATION_VERTICAL, 2);
  hbox = gtk_box_new (GTK_ORIENTATION_HORIZONTAL, 8);
  label = gtk_label_new (key);
  gtk_label_set_xalign (GTK_LABEL (label), 0);
  gtk_label_set_ellipsize (GTK_LABEL (label), PANGO_ELLIPSIZE_END);
  gtk_widget_set_hexpand (label, TRUE);
  gtk_widget_set_tooltip_text (label, path);
  gtk_box_append (GTK_BOX (hbox), label);

  if (JSON_NODE_HOLDS_VALUE (node) && json_node_get_value_type (node) == G_TYPE_BOOLEAN)
    {
      row->kind = ROW_BOOL;
      row->editor = gtk_switch_new ();
      gtk_switch_set_active (GTK_SWITCH (row->editor), json_node_get_boolean (node));
      gtk_widget_set_valign (row->editor, GTK_ALIGN_CENTER);
      g_signal_connect (row->editor, "notify::active", G_CALLBACK (on_switch_active), row);
    }
  else
    {
      g_autofree char *text = NULL;

      if (JSON_NODE_HOLDS_VALUE (node) || JSON_NODE_HOLDS_NULL (node))
        {
          text = scalar_text (node);
          row->kind = (JSON_NODE_HOLDS_VALUE (node) && json_node_get_value_type (node) == G_TYPE_STRING)
                      ? ROW_STRING : ROW_NUMBER;
        }
      else
        {
          text = json_to_string (node, FALSE);
          row->kind = ROW_JSON;
        }
      row->editor = gtk_entry_new ();
      gtk_editable_set_text (GTK_EDITABLE (row->editor), text);
      gtk_editable_set_width_chars (GTK_EDITABLE (row->editor), row->kind == ROW_NUMBER ? 10 : 16);
      gtk_accessible_update_property (GTK_ACCESSIBLE (row->editor),
                                      GTK_ACCESSIBLE_PROPERTY_LABEL, path, -1);
      g_signal_connect (row->editor, "changed", G_CALLBACK (on_entry_changed), row);
    }
  gtk_widget_set_name (row->editor, path);
  gtk_box_append (GTK_BOX (hbox), row->editor);
  gtk_box_append (GTK_BOX (vbox), hbox);

  message = gtk_label_new (NULL);
  gtk_label_set_xalign (GTK_LABEL (message), 0);
  gtk_label_set_wrap (GTK_LABEL (message), TRUE);
  gtk_label_set_selectable (GTK_LABEL (message), TRUE);
  gtk_widget_add_css_class (message, "error");
  gtk_widget_add_css_class (message, "caption");
  gtk_widget_set_visible (message, FALSE);
  row->message = GTK_LABEL (message);
  gtk_box_append (GTK_BOX (vbox), message);

  gtk_box_append (parent, vbox);
  g_hash_table_replace (self->row_table, row->path, row);
}

static void build_object (WbParamPanel *self, GtkBox *parent, JsonObject *object,
                          const char *prefix, guint depth);

static GtkBox *
add_group (GtkBox     *parent,
           const char *title,
           gboolean    expanded)
{
  GtkWidget *expander = gtk_expander_new (title);
  GtkWidget *box = gtk_box_new (GTK_ORIENTATION_VERTICAL, 4);

  gtk_widget_set_margin_start (box, 12);
  gtk_expander_set_child (GTK_EXPANDER (expander), box);
  gtk_expander_set_expanded (GTK_EXPANDER (expander), expanded);
  gtk_box_append (parent, expander);
  return GTK_BOX (box);
}

static gboolean
array_is_scalar (JsonArray *array)
{
  for (guint i = 0; i < json_array_get_length (array); i++)
    {
      JsonNode *e = json_array_get_element (array, i);
      if (JSON_NODE_HOLDS_OBJECT (e) || JSON_NODE_HOLDS_ARRAY (e))
        return FALSE;
    }
  return TRUE;
}

static void
build_member (WbParamPanel *self,
              GtkBox       *parent,
              const char   *key,
              const char   *path,
              JsonNode     *node,
              guint         depth)
{
  if (JSON_NODE_HOLDS_OBJECT (node))
    build_object (self, add_group (parent, key, depth == 0), json_node_get_object (node),
                  path, depth + 1);
  else if (JSON_NODE_HOLDS_ARRAY (node) && !array_is_scalar (json_node_get_array (node)))
    {
      JsonArray *array = json_node_get_array (node);
      GtkBox *group = add_group (parent, key, depth == 0);

      for (guint i = 0; i < json_array_get_length (array); i++)
        {
          JsonNode *e = json_array_get_element (array, i);
          g_autofree char *epath = g_strdup_printf ("%s[%u]", path, i);
          g_autofree char *title = NULL;

          if (JSON_NODE_HOLDS_OBJECT (e) && json_object_has_member (json_node_get_object (e), "name")
              && JSON_NODE_HOLDS_VALUE (json_object_get_member (json_node_get_object (e), "name")))
            title = g_strdup_printf ("[%u] %s", i,
                                     json_object_get_string_member (json_node_get_object (e), "name"));
          else
            title = g_strdup_printf ("[%u]", i);
          if (JSON_NODE_HOLDS_OBJECT (e))
            build_object (self, add_group (group, title, FALSE), json_node_get_object (e),
                          epath, depth + 1);
          else
            add_row (self, group, title, epath, e);
        }
    }
  else
    add_row (self, parent, key, path, node);
}

static void
build_object (WbParamPanel *self,
              GtkBox       *parent,
              JsonObject   *object,
              const char   *prefix,
              guint         depth)
{
  g_autoptr(GList) members = json_object_get_members (object);

  for (GList *l = members; l; l = l->next)
    {
      const char *key = l->data;
      g_autofree char *path = prefix ? g_strdup_printf ("%s.%s", prefix, key) : g_strdup (key);
      JsonNode *node = json_object_get_member (object, key);

      if (depth == 0 && g_str_equal (key, "solver"))
        {
          /* The solver decides every other key: not editable here. */
          g_autofree char *text = g_strdup_printf (_("Solver: %s"), json_node_get_string (node));
          GtkWidget *label = gtk_label_new (text);

          gtk_label_set_xalign (GTK_LABEL (label), 0);
          gtk_widget_add_css_class (label, "dim-label");
          gtk_box_append (parent, label);
          continue;
        }
      build_member (self, parent, key, path, node, depth);
    }
}

void
wb_param_panel_set_preset (WbParamPanel   *self,
                           const WbPreset *preset)
{
  GtkWidget *child;

  g_return_if_fail (WB_IS_PARAM_PANEL (self));

  g_clear_pointer (&self->preset, wb_preset_free);
  g_hash_table_remove_all (self->row_table);
  while ((child = gtk_widget_get_first_child (GTK_WIDGET (self->rows))))
    gtk_box_remove (self->rows, child);

  if (preset == NULL)
    return;
  self->preset = wb_preset_copy (preset);
  self->building = TRUE;
  if (JSON_NODE_HOLDS_OBJECT (preset->root))
    build_object (self, self->rows, json_node_get_object (self->preset->root), NULL, 0);
  self->building = FALSE;
  wb_param_panel_set_dirty (self, FALSE);
}

const WbPreset *
wb_param_panel_get_preset (WbParamPanel *self)
{
  g_return_val_if_fail (WB_IS_PARAM_PANEL (self), NULL);
  return self->preset;
}

gboolean
wb_param_panel_get_dirty (WbParamPanel *self)
{
  g_return_val_if_fail (WB_IS_PARAM_PANEL (self), FALSE);
  return self->dirty;
}

void
wb_param_panel_set_dirty (WbParamPanel *self,
                          gboolean      dirty)
{
  g_return_if_fail (WB_IS_PARAM_PANEL (self));
  self->dirty = dirty;
  gtk_label_set_text (self->status_label,
                      dirty ? _("Changes accepted: press Reset (Ctrl+R) to apply them.")
                            : _("Values are checked as you type; accepted changes apply on Reset."));
  if (dirty)
    gtk_widget_add_css_class (GTK_WIDGET (self->status_label), "accent");
  else
    gtk_widget_remove_css_class (GTK_WIDGET (self->status_label), "accent");
}

gboolean
wb_param_panel_type_value (WbParamPanel *self,
                           const char   *path,
                           const char   *text,
                           char        **message,
                           GError      **error)
{
  Row *row;

  g_return_val_if_fail (WB_IS_PARAM_PANEL (self), FALSE);

  row = g_hash_table_lookup (self->row_table, path);
  if (row == NULL)
    {
      g_set_error (error, WB_ERROR, WB_ERROR_NOT_FOUND, _("No parameter '%s'"), path);
      return FALSE;
    }
  if (row->kind == ROW_BOOL)
    gtk_switch_set_active (GTK_SWITCH (row->editor), g_str_equal (text, "true"));
  else
    gtk_editable_set_text (GTK_EDITABLE (row->editor), text);
  if (message)
    *message = gtk_widget_get_visible (GTK_WIDGET (row->message))
               ? g_strdup (gtk_label_get_text (row->message)) : NULL;
  return TRUE;
}

static void
wb_param_panel_dispose (GObject *object)
{
  WbParamPanel *self = WB_PARAM_PANEL (object);

  g_clear_pointer (&self->box, gtk_widget_unparent);
  G_OBJECT_CLASS (wb_param_panel_parent_class)->dispose (object);
}

static void
wb_param_panel_finalize (GObject *object)
{
  WbParamPanel *self = WB_PARAM_PANEL (object);

  g_clear_pointer (&self->preset, wb_preset_free);
  g_clear_pointer (&self->row_table, g_hash_table_unref);
  G_OBJECT_CLASS (wb_param_panel_parent_class)->finalize (object);
}

static void
wb_param_panel_class_init (WbParamPanelClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  GtkWidgetClass *widget_class = GTK_WIDGET_CLASS (klass);

  object_class->dispose = wb_param_panel_dispose;
  object_class->finalize = wb_param_panel_finalize;

  signals[SIGNAL_CHANGED] =
    g_signal_new ("changed", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST, 0,
                  NULL, NULL, NULL, G_TYPE_NONE, 0);

  gtk_widget_class_set_template_from_resource (widget_class, RESOURCE_PREFIX "/ui/wb-param-panel.ui");
  gtk_widget_class_bind_template_child (widget_class, WbParamPanel, box);
  gtk_widget_class_bind_template_child (widget_class, WbParamPanel, rows);
  gtk_widget_class_bind_template_child (widget_class, WbParamPanel, status_label);
  gtk_widget_class_set_layout_manager_type (widget_class, GTK_TYPE_BIN_LAYOUT);
}

static void
wb_param_panel_init (WbParamPanel *self)
{
  gtk_widget_init_template (GTK_WIDGET (self));
  self->row_table = g_hash_table_new_full (g_str_hash, g_str_equal, NULL, (GDestroyNotify) row_free);
}
