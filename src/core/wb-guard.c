#define G_LOG_DOMAIN "wb-guard"
#include "config.h"

#include <float.h>
#include <math.h>
#include <string.h>

#include "wb-error.h"
#include "wb-guard.h"

/* --- configuration --------------------------------------------------- */

void
wb_guard_config_init (WbGuardConfig *config)
{
  memset (config, 0, sizeof *config);
  config->every = WB_GUARD_DEFAULT_EVERY;
  config->max_abs = WB_GUARD_DEFAULT_MAX_ABS;
}

void
wb_guard_config_clear (WbGuardConfig *config)
{
  g_clear_pointer (&config->fields, g_strfreev);
}

static gboolean
config_parse (const WbPreset  *preset,
              WbGuardConfig   *config,
              GError         **error)
{
  g_autoptr(WbObj) root = NULL;
  g_autoptr(WbObj) guard = NULL;
  JsonArray *fields = NULL;
  gint64 every = WB_GUARD_DEFAULT_EVERY;

  wb_guard_config_init (config);
  root = wb_obj_new (preset->root, "", error);
  if (root == NULL)
    return FALSE;
  if (!wb_obj_get_obj (root, "guard", FALSE, &guard, error))
    return FALSE;
  if (guard == NULL)
    return TRUE;
  if (!wb_obj_get_int (guard, "every", FALSE, 0, G_GINT64_CONSTANT (1000000000), &every, error) ||
      !wb_obj_get_double (guard, "max_abs", FALSE, 1e-30, 3e38, &config->max_abs, error) ||
      !wb_obj_get_array (guard, "fields", FALSE, &fields, error))
    return FALSE;
  config->every = (guint64) every;
  if (fields != NULL)
    {
      guint n = json_array_get_length (fields);
      GPtrArray *names = g_ptr_array_new ();

      if (n == 0)
        {
          g_ptr_array_free (names, TRUE);
          g_set_error (error, WB_ERROR, WB_ERROR_INVALID,
                       "guard.fields: expected at least one field name (or leave it out for the default field)");
          return FALSE;
        }
      for (guint i = 0; i < n; i++)
        {
          JsonNode *e = json_array_get_element (fields, i);
          if (!JSON_NODE_HOLDS_VALUE (e) || json_node_get_value_type (e) != G_TYPE_STRING)
            {
              g_ptr_array_add (names, NULL);
              g_strfreev ((char **) g_ptr_array_free (names, FALSE));
              g_set_error (error, WB_ERROR, WB_ERROR_INVALID,
                           "guard.fields[%u]: expected a field name (a string)", i);
              return FALSE;
            }
          g_ptr_array_add (names, g_strdup (json_node_get_string (e)));
        }
      g_ptr_array_add (names, NULL);
      config->fields = (char **) g_ptr_array_free (names, FALSE);
    }
  return wb_obj_finish (guard, error);
}

gboolean
wb_guard_config_from_preset (const WbPreset  *preset,
                             WbGuardConfig   *config,
                             GError         **error)
{
  if (config_parse (preset, config, error))
    return TRUE;
  /* Nothing to free on failure: callers may simply return. */
  wb_guard_config_clear (config);
  return FALSE;
}

WbPreset *
wb_guard_strip_preset (const WbPreset *preset)
{
  WbPreset *copy;

  if (preset == NULL || preset->root == NULL || !JSON_NODE_HOLDS_OBJECT (preset->root) ||
      !json_object_has_member (json_node_get_object (preset->root), "guard"))
    return NULL;
  copy = wb_preset_copy (preset);
  json_object_remove_member (json_node_get_object (copy->root), "guard");
  return copy;
}

/* --- scans ----------------------------------------------------------- */

void
wb_guard_scan_host (const float  *x,
                    gsize         n,
                    double        max_abs,
                    WbGuardStats *stats)
{
  memset (stats, 0, sizeof *stats);
  stats->first_bad = -1;
  for (gsize i = 0; i < n; i++)
    {
      double v = x[i];
      gboolean bad;

      if (!isfinite (v))
        {
          stats->n_nonfinite++;
          bad = TRUE;
        }
      else
        {
          double a = fabs (v);
          if (a > stats->max_abs)
            stats->max_abs = a;
          bad = a > max_abs;
          if (bad)
            stats->n_over++;
        }
      if (bad && stats->first_bad < 0)
        stats->first_bad = (gint64) i;
    }
}

#define GUARD_MAX_GROUPS 256

struct _WbGuardKernel
{
  WbClContext *ctx;
  cl_program   program;
  cl_kernel    kernel;
  gsize        wg;
  cl_mem       group_max;
  cl_mem       group_nonfinite;
  cl_mem       group_over;
  cl_mem       group_first;
};

void
wb_guard_kernel_free (WbGuardKernel *gk)
{
  if (gk == NULL)
    return;
  WB_CL_RELEASE (gk->group_max, clReleaseMemObject);
  WB_CL_RELEASE (gk->group_nonfinite, clReleaseMemObject);
  WB_CL_RELEASE (gk->group_over, clReleaseMemObject);
  WB_CL_RELEASE (gk->group_first, clReleaseMemObject);
  WB_CL_RELEASE (gk->kernel, clReleaseKernel);
  WB_CL_RELEASE (gk->program, clReleaseProgram);
  g_clear_pointer (&gk->ctx, wb_cl_context_unref);
  g_free (gk);
}

WbGuardKernel *
wb_guard_kernel_new (WbClContext  *ctx,
                     const char   *kernel_dir,
                     GError      **error)
{
  g_autoptr(WbGuardKernel) gk = g_new0 (WbGuardKernel, 1);
  g_autofree char *defines = NULL;
  g_autofree char *old_dir = g_strdup (ctx->kernel_dir);

  gk->ctx = wb_cl_context_ref (ctx);
  /* A power of two the device takes; 64 suits GPUs and CPUs alike. */
  gk->wg = 64;
  while (gk->wg > 1 && gk->wg > ctx->device->max_work_group_size)
    gk->wg /= 2;
  defines = g_strdup_printf ("#define GUARD_WG %" G_GSIZE_FORMAT "\n", gk->wg);
  /* wb_cl_build_program reads the context's override directory. */
  if (kernel_dir != NULL)
    wb_cl_context_set_kernel_dir (ctx, kernel_dir);
  gk->program = wb_cl_build_program (ctx, "guard.cl", defines, NULL, error);
  if (kernel_dir != NULL)
    wb_cl_context_set_kernel_dir (ctx, old_dir);
  if (gk->program == NULL)
    return NULL;
  gk->kernel = wb_cl_create_kernel (gk->program, "wb_guard_scan", error);
  if (gk->kernel == NULL)
    return NULL;
  gk->group_max = wb_cl_buffer_new (ctx, CL_MEM_WRITE_ONLY, GUARD_MAX_GROUPS * sizeof (float), NULL,
                                    "guard results", error);
  if (gk->group_max == NULL)
    return NULL;
  gk->group_nonfinite = wb_cl_buffer_new (ctx, CL_MEM_WRITE_ONLY, GUARD_MAX_GROUPS * sizeof (cl_uint), NULL,
                                          "guard results", error);
  if (gk->group_nonfinite == NULL)
    return NULL;
  gk->group_over = wb_cl_buffer_new (ctx, CL_MEM_WRITE_ONLY, GUARD_MAX_GROUPS * sizeof (cl_uint), NULL,
                                     "guard results", error);
  if (gk->group_over == NULL)
    return NULL;
  gk->group_first = wb_cl_buffer_new (ctx, CL_MEM_WRITE_ONLY, GUARD_MAX_GROUPS * sizeof (cl_ulong), NULL,
                                      "guard results", error);
  if (gk->group_first == NULL)
    return NULL;
  return g_steal_pointer (&gk);
}

gboolean
wb_guard_kernel_scan (WbGuardKernel  *gk,
                      cl_mem          buffer,
                      gsize           n,
                      double          max_abs,
                      WbGuardStats   *stats,
                      GError        **error)
{
  cl_ulong n64 = n;
  /* A threshold beyond float range means "finite is fine". */
  float thr = max_abs >= FLT_MAX ? INFINITY : (float) max_abs;
  gsize groups = MIN ((gsize) GUARD_MAX_GROUPS, MAX ((gsize) 1, (n + gk->wg - 1) / gk->wg));
  gsize global = groups * gk->wg;
  float gmax[GUARD_MAX_GROUPS];
  cl_uint gnf[GUARD_MAX_GROUPS], gov[GUARD_MAX_GROUPS];
  cl_ulong gfirst[GUARD_MAX_GROUPS];
  cl_ulong first = G_MAXUINT64;

  memset (stats, 0, sizeof *stats);
  stats->first_bad = -1;
  if (n == 0)
    return TRUE;
  if (!wb_cl_set_arg (gk->kernel, 0, sizeof (cl_mem), &buffer, error) ||
      !wb_cl_set_arg (gk->kernel, 1, sizeof (cl_ulong), &n64, error) ||
      !wb_cl_set_arg (gk->kernel, 2, sizeof (float), &thr, error) ||
      !wb_cl_set_arg (gk->kernel, 3, sizeof (cl_mem), &gk->group_max, error) ||
      !wb_cl_set_arg (gk->kernel, 4, sizeof (cl_mem), &gk->group_nonfinite, error) ||
      !wb_cl_set_arg (gk->kernel, 5, sizeof (cl_mem), &gk->group_over, error) ||
      !wb_cl_set_arg (gk->kernel, 6, sizeof (cl_mem), &gk->group_first, error) ||
      !wb_cl_enqueue (gk->ctx, gk->kernel, 1, &global, &gk->wg, NULL, NULL, error) ||
      !wb_cl_read (gk->ctx, gk->group_max, 0, groups * sizeof (float), gmax, error) ||
      !wb_cl_read (gk->ctx, gk->group_nonfinite, 0, groups * sizeof (cl_uint), gnf, error) ||
      !wb_cl_read (gk->ctx, gk->group_over, 0, groups * sizeof (cl_uint), gov, error) ||
      !wb_cl_read (gk->ctx, gk->group_first, 0, groups * sizeof (cl_ulong), gfirst, error))
    return FALSE;
  for (gsize g = 0; g < groups; g++)
    {
      stats->max_abs = MAX (stats->max_abs, (double) gmax[g]);
      stats->n_nonfinite += gnf[g];
      stats->n_over += gov[g];
      first = MIN (first, gfirst[g]);
    }
  stats->first_bad = first == G_MAXUINT64 ? -1 : (gint64) first;
  return TRUE;
}

/* --- the guard of one simulation -------------------------------------- */

typedef struct
{
  char     *name;
  gboolean  checked;
  cl_mem    snapshot;      /* device copy of the last good state */
  WbField  *host;          /* or its host copy */
  gboolean  no_room;       /* the device had no memory for the copy */
} GuardField;

struct _WbGuard
{
  WbSim         *sim;              /* borrowed */
  WbGuardConfig  config;
  WbGuardKernel *kernel;           /* NULL on the reference backend */
  char          *kernel_dir;
  GArray        *fields;           /* GuardField */
  gint64         last_good;        /* step, -1: none yet */
  gint64         last_checked;
  guint64        n_checks;
};

static void
guard_field_clear (gpointer data)
{
  GuardField *f = data;
  g_free (f->name);
  WB_CL_RELEASE (f->snapshot, clReleaseMemObject);
  g_clear_pointer (&f->host, wb_field_unref);
}

void
wb_guard_free (WbGuard *guard)
{
  if (guard == NULL)
    return;
  g_array_unref (guard->fields);
  wb_guard_kernel_free (guard->kernel);
  g_free (guard->kernel_dir);
  wb_guard_config_clear (&guard->config);
  g_free (guard);
}

static GuardField *
find_field (WbGuard    *guard,
            const char *name)
{
  for (guint i = 0; i < guard->fields->len; i++)
    {
      GuardField *f = &g_array_index (guard->fields, GuardField, i);
      if (g_str_equal (f->name, name))
        return f;
    }
  return NULL;
}

static gboolean
add_field (WbGuard     *guard,
           const char  *name,
           gboolean     checked,
           const char  *where,
           GError     **error)
{
  GuardField f = { NULL, FALSE, NULL, NULL, FALSE };
  GuardField *have;

  if (!wb_sim_has_field (guard->sim, name))
    {
      g_autofree char *list = g_strjoinv (", ", (char **) guard->sim->field_names);
      g_set_error (error, WB_ERROR, WB_ERROR_NOT_FOUND,
                   "%s: solver %s has no field '%s' (fields: %s)", where,
                   guard->sim->klass->name, name, list);
      return FALSE;
    }
  have = find_field (guard, name);
  if (have != NULL)
    {
      have->checked |= checked;
      return TRUE;
    }
  f.name = g_strdup (name);
  f.checked = checked;
  g_array_append_val (guard->fields, f);
  return TRUE;
}

WbGuard *
wb_guard_new (WbSim               *sim,
              const WbGuardConfig *config,
              const char * const  *keep,
              const char          *kernel_dir,
              GError             **error)
{
  g_autoptr(WbGuard) guard = g_new0 (WbGuard, 1);

  g_return_val_if_fail (sim != NULL && config != NULL, NULL);

  guard->sim = sim;
  guard->kernel_dir = g_strdup (kernel_dir);
  guard->config.every = config->every;
  guard->config.max_abs = config->max_abs;
  guard->config.fields = g_strdupv (config->fields);
  guard->fields = g_array_new (FALSE, TRUE, sizeof (GuardField));
  g_array_set_clear_func (guard->fields, guard_field_clear);
  guard->last_good = -1;
  guard->last_checked = -1;

  if (config->every == 0)
    return g_steal_pointer (&guard);

  if (config->fields != NULL)
    {
      for (guint i = 0; config->fields[i]; i++)
        {
          g_autofree char *where = g_strdup_printf ("guard.fields[%u]", i);
          if (!add_field (guard, config->fields[i], TRUE, where, error))
            return NULL;
        }
    }
  else if (sim->default_field != NULL &&
           !add_field (guard, sim->default_field, TRUE, "guard", error))
    return NULL;
  for (guint i = 0; keep && keep[i]; i++)
    if (!add_field (guard, keep[i], FALSE, "field", error))
      return NULL;

  if (sim->cl != NULL)
    {
      guard->kernel = wb_guard_kernel_new (sim->cl, kernel_dir, error);
      if (guard->kernel == NULL)
        return NULL;
    }
  return g_steal_pointer (&guard);
}

guint64
wb_guard_steps_until_check (const WbGuard *guard)
{
  guint64 step = guard->sim->step;
  guint64 next;

  if (guard->config.every == 0 || guard->fields->len == 0)
    return G_MAXUINT64;
  /* The first check is of the initial state. */
  if (guard->last_checked < 0)
    return 0;
  next = ((guint64) guard->last_checked / guard->config.every + 1) * guard->config.every;
  return next > step ? next - step : 0;
}

/* The field's device buffer when it holds exactly the field's cells. */
static cl_mem
usable_buffer (WbGuard    *guard,
               const char *name)
{
  cl_mem buf;
  size_t size = 0;

  if (guard->kernel == NULL)
    return NULL;
  buf = wb_sim_field_buffer (guard->sim, name);
  if (buf == NULL)
    return NULL;
  if (clGetMemObjectInfo (buf, CL_MEM_SIZE, sizeof size, &size, NULL) != CL_SUCCESS ||
      size < wb_sim_n_cells (guard->sim) * sizeof (float))
    return NULL;
  return buf;
}

static void
index_to_cell (const WbSim *sim,
               gint64       index,
               gsize        cell[3])
{
  gsize rest = (gsize) index;
  for (guint d = 0; d < 3; d++)
    {
      gsize n = d < sim->ndim ? MAX (sim->shape[d], (gsize) 1) : 1;
      cell[d] = rest % n;
      rest /= n;
    }
}

static gboolean
diverged_error (WbGuard            *guard,
                const char         *name,
                const WbGuardStats *st,
                float               value,
                GError            **error)
{
  WbSim *sim = guard->sim;
  gsize cell[3];
  g_autoptr(GString) where = g_string_new (NULL);
  g_autofree char *last = NULL;

  index_to_cell (sim, st->first_bad, cell);
  for (guint d = 0; d < MAX (sim->ndim, 1u); d++)
    g_string_append_printf (where, "%s%" G_GSIZE_FORMAT, d ? ", " : "", cell[d]);
  if (guard->last_good >= 0)
    last = g_strdup_printf ("the last good state is step %" G_GINT64_FORMAT, guard->last_good);
  else
    last = g_strdup ("no good state was seen");
  g_set_error (error, WB_ERROR, WB_ERROR_DIVERGED,
               "the run diverged at step %" G_GUINT64_FORMAT " (t = %.6g s): field %s, first bad cell (%s) = %g "
               "(cells non-finite: %" G_GUINT64_FORMAT ", above %g: %" G_GUINT64_FORMAT "; largest finite |%s| %g); %s. "
               "Reduce the time step or check the material values",
               (guint64) sim->step, wb_sim_time (sim), name, where->str, value,
               st->n_nonfinite, guard->config.max_abs, st->n_over, name, st->max_abs, last);
  return FALSE;
}

gboolean
wb_guard_check (WbGuard  *guard,
                GError  **error)
{
  WbSim *sim = guard->sim;
  gsize n = wb_sim_n_cells (sim);

  if (guard->config.every == 0 || guard->fields->len == 0)
    return TRUE;
  if (!wb_sim_finish (sim, error))
    return FALSE;
  /* A solver may rebuild its OpenCL state (kernel debugging swaps in a
   * new context): follow it, dropping what lived in the old one. */
  if (guard->kernel != NULL && guard->kernel->ctx != sim->cl)
    {
      g_clear_pointer (&guard->kernel, wb_guard_kernel_free);
      for (guint i = 0; i < guard->fields->len; i++)
        {
          GuardField *f = &g_array_index (guard->fields, GuardField, i);
          WB_CL_RELEASE (f->snapshot, clReleaseMemObject);
          g_clear_pointer (&f->host, wb_field_unref);
          f->no_room = FALSE;
        }
      guard->last_good = -1;
    }
  if (guard->kernel == NULL && sim->cl != NULL)
    {
      guard->kernel = wb_guard_kernel_new (sim->cl, guard->kernel_dir, error);
      if (guard->kernel == NULL)
        return FALSE;
    }
  guard->n_checks++;
  guard->last_checked = (gint64) sim->step;

  /* Check every watched field first; snapshots only of a good state. */
  for (guint i = 0; i < guard->fields->len; i++)
    {
      GuardField *f = &g_array_index (guard->fields, GuardField, i);
      cl_mem buf;
      WbGuardStats st;

      if (!f->checked)
        continue;
      buf = usable_buffer (guard, f->name);
      if (buf != NULL)
        {
          if (!wb_guard_kernel_scan (guard->kernel, buf, n, guard->config.max_abs, &st, error))
            return FALSE;
          if (st.first_bad >= 0)
            {
              float v = 0;
              if (!wb_cl_read (sim->cl, buf, st.first_bad * sizeof (float), sizeof (float), &v, error))
                return FALSE;
              return diverged_error (guard, f->name, &st, v, error);
            }
        }
      else
        {
          g_autoptr(WbField) field = wb_sim_read_field (sim, f->name, error);
          if (field == NULL)
            return FALSE;
          wb_guard_scan_host (field->data, wb_field_n_elements (field), guard->config.max_abs, &st);
          if (st.first_bad >= 0)
            return diverged_error (guard, f->name, &st, field->data[st.first_bad], error);
        }
    }

  for (guint i = 0; i < guard->fields->len; i++)
    {
      GuardField *f = &g_array_index (guard->fields, GuardField, i);
      cl_mem buf = usable_buffer (guard, f->name);

      if (buf != NULL)
        {
          if (f->no_room)
            continue;
          if (f->snapshot == NULL)
            {
              g_autofree char *what = g_strdup_printf ("last good %s", f->name);
              /* The copy is a convenience: a run that fits without it
               * must not fail for it. */
              f->snapshot = wb_cl_buffer_new (sim->cl, CL_MEM_READ_WRITE, n * sizeof (float), NULL, what, NULL);
              if (f->snapshot == NULL)
                {
                  f->no_room = TRUE;
                  continue;
                }
            }
          if (!wb_cl_check (clEnqueueCopyBuffer (sim->cl->queue, buf, f->snapshot, 0, 0,
                                                 n * sizeof (float), 0, NULL, NULL),
                            "clEnqueueCopyBuffer", error))
            return FALSE;
        }
      else
        {
          WbField *field = wb_sim_read_field (sim, f->name, error);
          if (field == NULL)
            return FALSE;
          g_clear_pointer (&f->host, wb_field_unref);
          f->host = field;
        }
    }
  guard->last_good = (gint64) sim->step;
  return TRUE;
}

gboolean
wb_guard_poll (WbGuard  *guard,
               GError  **error)
{
  if (wb_guard_steps_until_check (guard) != 0)
    return TRUE;
  return wb_guard_check (guard, error);
}

gboolean
wb_guard_finish (WbGuard  *guard,
                 GError  **error)
{
  if (guard->last_checked == (gint64) guard->sim->step)
    return TRUE;
  return wb_guard_check (guard, error);
}

gint64
wb_guard_last_good_step (const WbGuard *guard)
{
  return guard->last_good;
}

guint64
wb_guard_n_checks (const WbGuard *guard)
{
  return guard->n_checks;
}

WbField *
wb_guard_read_last_good (WbGuard     *guard,
                         const char  *name,
                         GError     **error)
{
  GuardField *f = find_field (guard, name);
  g_autoptr(WbField) field = NULL;

  if (f == NULL || guard->last_good < 0 || f->no_room)
    {
      g_set_error (error, WB_ERROR, WB_ERROR_NOT_FOUND,
                   "no last good state of field '%s' was kept%s", name,
                   f != NULL && f->no_room ? " (the device had no memory for a copy)" : "");
      return NULL;
    }
  if (f->host != NULL)
    return wb_field_copy (f->host);
  /* The current (bad) field gives shape, spacing and units; the snapshot
   * gives the values. */
  field = wb_sim_read_field (guard->sim, name, error);
  if (field == NULL)
    return NULL;
  if (!wb_cl_read (guard->sim->cl, f->snapshot, 0, wb_field_n_elements (field) * sizeof (float),
                   field->data, error))
    return NULL;
  return g_steal_pointer (&field);
}

/* --- device faults ---------------------------------------------------- */

gboolean
wb_guard_is_device_error (const GError *error)
{
  return error != NULL &&
         (error->domain == WB_CL_ERROR || g_error_matches (error, WB_ERROR, WB_ERROR_DEVICE));
}

void
wb_guard_explain_device_error (WbSim   *sim,
                               GError **error)
{
  GError *e;
  const char *why;

  if (error == NULL || *error == NULL || (*error)->domain != WB_CL_ERROR)
    return;
  e = *error;
  switch (e->code)
    {
    case CL_OUT_OF_RESOURCES:
    case CL_MEM_OBJECT_ALLOCATION_FAILURE:
    case CL_OUT_OF_HOST_MEMORY:
      why = "the device ran out of memory or resources during the run";
      break;
    case CL_DEVICE_NOT_AVAILABLE:
    case CL_INVALID_COMMAND_QUEUE:
    case CL_INVALID_CONTEXT:
      why = "the device was lost during the run (a driver reset or a watchdog)";
      break;
    default:
      why = "the device failed during the run";
      break;
    }
  *error = g_error_new (WB_ERROR, WB_ERROR_DEVICE,
                        "%s (%s) at step %" G_GUINT64_FORMAT ": %s: %s. The run stopped; try a smaller grid, "
                        "another backend (--backend) or --fallback-reference",
                        sim->device->id, sim->device->name, (guint64) sim->step, why, e->message);
  g_error_free (e);
}

gboolean
wb_guard_check_device_memory (const WbDevice *device,
                              guint64         bytes,
                              const char     *what,
                              GError        **error)
{
  if (device == NULL || wb_device_is_reference (device) || bytes <= device->global_mem_size)
    return TRUE;
  g_set_error (error, WB_ERROR, WB_ERROR_TOO_LARGE,
               "%s needs %.1f MiB of device memory in all but %s has %.1f MiB",
               what, bytes / 1048576.0, device->name, device->global_mem_size / 1048576.0);
  return FALSE;
}
