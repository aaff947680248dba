#define G_LOG_DOMAIN "wb-backend-selector"
#include "config.h"

#include <glib/gi18n.h>

#include "wb-backend-selector.h"

struct _WbBackendSelector
{
  GtkWidget     parent_instance;

  /* Template widgets */
  GtkWidget    *box;
  GtkDropDown  *dropdown;
  GtkLabel     *why_label;
  GtkLabel     *info_label;
  GtkButton    *measure_button;
  GtkSpinner   *spinner;
  GtkLabel     *bandwidth_label;

  /* Owned */
  GPtrArray    *devices;            /* WbDevice* */
  GStrv         ids;                /* "auto", then every device id */
  char         *notice;             /* why there is no OpenCL, or NULL */
  GCancellable *cancellable;
};

G_DEFINE_FINAL_TYPE (WbBackendSelector, wb_backend_selector, GTK_TYPE_WIDGET)

enum { PROP_0, PROP_DEVICE_ID, N_PROPS };
static GParamSpec *properties[N_PROPS];

static const char *
selected_id (WbBackendSelector *self)
{
  guint i = gtk_drop_down_get_selected (self->dropdown);

  return i < g_strv_length (self->ids) ? self->ids[i] : "auto";
}

WbDevice *
wb_backend_selector_get_device (WbBackendSelector *self)
{
  g_return_val_if_fail (WB_IS_BACKEND_SELECTOR (self), NULL);
  return wb_device_lookup (self->devices, selected_id (self), NULL, NULL);
}

static void
update_info (WbBackendSelector *self)
{
  g_autoptr(WbDevice) device = NULL;
  g_autofree char *why = NULL;
  g_autofree char *text = NULL;
  const char *id = selected_id (self);

  device = wb_device_lookup (self->devices, id, &why, NULL);
  if (device == NULL)
    return;
  text = wb_device_describe (device);
  gtk_label_set_text (self->info_label, g_strchomp (text));
  if (g_str_equal (id, "auto"))
    {
      g_autofree char *msg = g_strdup_printf (_("Automatic choice: %s. %s"), device->name, why ? why : "");
      gtk_label_set_text (self->why_label, msg);
    }
  else if (self->notice != NULL)
    gtk_label_set_text (self->why_label, self->notice);
  else
    gtk_label_set_text (self->why_label, _("Chosen by you."));
  if (device->copy_bandwidth > 0)
    {
      g_autofree char *bw = g_strdup_printf (_("Copy bandwidth: %.1f GB/s"), device->copy_bandwidth);
      gtk_label_set_text (self->bandwidth_label, bw);
    }
  else
    gtk_label_set_text (self->bandwidth_label, "");
}

static void
measure_thread (GTask        *task,
                gpointer      source,
                gpointer      task_data,
                GCancellable *cancellable)
{
  WbDevice *device = task_data;
  GError *error = NULL;
  double bw = wb_device_measure_bandwidth (device, &error);

  if (error != NULL)
    g_task_return_error (task, error);
  else
    g_task_return_boolean (task, bw > 0);
}

static void
measure_done (GObject      *source,
              GAsyncResult *result,
              gpointer      user_data)
{
  WbBackendSelector *self = WB_BACKEND_SELECTOR (source);
  g_autoptr(GError) error = NULL;
  g_task_propagate_boolean (G_TASK (result), &error);

  if (g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
    return;
  gtk_spinner_stop (self->spinner);
  gtk_widget_set_sensitive (GTK_WIDGET (self->measure_button), TRUE);
  if (error != NULL)
    {
      g_autofree char *msg = g_strdup_printf (_("Measuring failed: %s"), error->message);
      gtk_label_set_text (self->bandwidth_label, msg);
      return;
    }
  update_info (self);
}

static void
on_measure_clicked (WbBackendSelector *self)
{
  g_autoptr(GTask) task = NULL;
  WbDevice *device = wb_backend_selector_get_device (self);

  if (device == NULL)
    return;
  gtk_spinner_start (self->spinner);
  gtk_widget_set_sensitive (GTK_WIDGET (self->measure_button), FALSE);
  gtk_label_set_text (self->bandwidth_label, _("Measuring…"));
  task = g_task_new (self, self->cancellable, measure_done, NULL);
  g_task_set_task_data (task, device, (GDestroyNotify) wb_device_unref);
  g_task_run_in_thread (task, measure_thread);
}

static void
on_selected_changed (WbBackendSelector *self)
{
  update_info (self);
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_DEVICE_ID]);
}

const char *
wb_backend_selector_get_device_id (WbBackendSelector *self)
{
  g_return_val_if_fail (WB_IS_BACKEND_SELECTOR (self), NULL);
  return selected_id (self);
}

void
wb_backend_selector_set_device_id (WbBackendSelector *self,
                                   const char        *id)
{
  g_return_if_fail (WB_IS_BACKEND_SELECTOR (self));

  for (guint i = 0; self->ids[i]; i++)
    if (g_strcmp0 (self->ids[i], id) == 0)
      {
        gtk_drop_down_set_selected (self->dropdown, i);
        return;
      }
  /* An id from settings that no longer exists (device gone) means auto. */
  gtk_drop_down_set_selected (self->dropdown, 0);
}

GPtrArray *
wb_backend_selector_get_devices (WbBackendSelector *self)
{
  g_return_val_if_fail (WB_IS_BACKEND_SELECTOR (self), NULL);
  return self->devices;
}

static void
wb_backend_selector_get_property (GObject    *object,
                                  guint       prop_id,
                                  GValue     *value,
                                  GParamSpec *pspec)
{
  WbBackendSelector *self = WB_BACKEND_SELECTOR (object);

  switch (prop_id)
    {
    case PROP_DEVICE_ID:
      g_value_set_string (value, selected_id (self));
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
wb_backend_selector_set_property (GObject      *object,
                                  guint         prop_id,
                                  const GValue *value,
                                  GParamSpec   *pspec)
{
  WbBackendSelector *self = WB_BACKEND_SELECTOR (object);

  switch (prop_id)
    {
    case PROP_DEVICE_ID:
      wb_backend_selector_set_device_id (self, g_value_get_string (value));
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
wb_backend_selector_dispose (GObject *object)
{
  WbBackendSelector *self = WB_BACKEND_SELECTOR (object);

  g_cancellable_cancel (self->cancellable);
  g_clear_pointer (&self->box, gtk_widget_unparent);
  G_OBJECT_CLASS (wb_backend_selector_parent_class)->dispose (object);
}

static void
wb_backend_selector_finalize (GObject *object)
{
  WbBackendSelector *self = WB_BACKEND_SELECTOR (object);

  g_clear_object (&self->cancellable);
  g_clear_pointer (&self->devices, g_ptr_array_unref);
  g_strfreev (self->ids);
  g_free (self->notice);
  G_OBJECT_CLASS (wb_backend_selector_parent_class)->finalize (object);
}

static void
wb_backend_selector_class_init (WbBackendSelectorClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  GtkWidgetClass *widget_class = GTK_WIDGET_CLASS (klass);

  object_class->dispose = wb_backend_selector_dispose;
  object_class->finalize = wb_backend_selector_finalize;
  object_class->get_property = wb_backend_selector_get_property;
  object_class->set_property = wb_backend_selector_set_property;

  properties[PROP_DEVICE_ID] =
    g_param_spec_string ("device-id", NULL, NULL, "auto",
                         G_PARAM_READWRITE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS);
  g_object_class_install_properties (object_class, N_PROPS, properties);

  gtk_widget_class_set_template_from_resource (widget_class, RESOURCE_PREFIX "/ui/wb-backend-selector.ui");
  gtk_widget_class_bind_template_child (widget_class, WbBackendSelector, box);
  gtk_widget_class_bind_template_child (widget_class, WbBackendSelector, dropdown);
  gtk_widget_class_bind_template_child (widget_class, WbBackendSelector, why_label);
  gtk_widget_class_bind_template_child (widget_class, WbBackendSelector, info_label);
  gtk_widget_class_bind_template_child (widget_class, WbBackendSelector, measure_button);
  gtk_widget_class_bind_template_child (widget_class, WbBackendSelector, spinner);
  gtk_widget_class_bind_template_child (widget_class, WbBackendSelector, bandwidth_label);
  gtk_widget_class_bind_template_callback (widget_class, on_measure_clicked);
  gtk_widget_class_set_layout_manager_type (widget_class, GTK_TYPE_BIN_LAYOUT);
}

static void
wb_backend_selector_init (WbBackendSelector *self)
{
  g_autoptr(GStrvBuilder) ids = g_strv_builder_new ();
  g_autoptr(GtkStringList) labels = gtk_string_list_new (NULL);
  g_autoptr(WbDevice) chosen = NULL;
  g_autofree char *auto_label = NULL;

  gtk_widget_init_template (GTK_WIDGET (self));
  self->cancellable = g_cancellable_new ();
  self->devices = wb_device_list (&self->notice);

  chosen = wb_device_choose_auto (self->devices, NULL);
  auto_label = g_strdup_printf (_("Automatic (%s)"), chosen ? chosen->id : "reference");
  g_strv_builder_add (ids, "auto");
  gtk_string_list_append (labels, auto_label);
  for (guint i = 0; i < self->devices->len; i++)
    {
      WbDevice *d = g_ptr_array_index (self->devices, i);
      g_autofree char *label = NULL;

      if (wb_device_is_reference (d))
        label = g_strdup (_("Reference (plain C)"));
      else
        {
          /* Device names can be long ("pthread-skylake-avx512-Intel(R) Xeon(R)
           * Processor"): the header bar keeps the start, the popover has all. */
          g_autofree char *head = g_utf8_substring (d->name, 0, 22);
          g_autofree char *name = g_utf8_strlen (d->name, -1) > 24
                                  ? g_strconcat (head, "…", NULL) : g_strdup (d->name);
          label = g_strdup_printf ("%s (%s)", name, d->id);
        }
      g_strv_builder_add (ids, d->id);
      gtk_string_list_append (labels, label);
    }
  self->ids = g_strv_builder_end (ids);
  gtk_drop_down_set_model (self->dropdown, G_LIST_MODEL (labels));
  g_signal_connect_swapped (self->dropdown, "notify::selected", G_CALLBACK (on_selected_changed), self);
  update_info (self);
}
