#define G_LOG_DOMAIN "wb-sim"
#include "config.h"

#include <string.h>

#include "wb-error.h"
#include "wb-guard.h"
#include "wb-sim.h"

void
wb_trace_free (WbTrace *trace)
{
  if (trace == NULL)
    return;
  g_free (trace->name);
  g_free (trace->units);
  g_free (trace->values);
  g_free (trace);
}

typedef WbSim *(*SimCtor) (const WbPreset *, WbDevice *, const char *, gboolean, GError **);

static SimCtor
find_solver (const WbPreset  *preset,
             GError         **error)
{
  const char *solver = wb_preset_get_solver (preset, error);

  if (solver == NULL)
    return NULL;
#ifdef WB_HAVE_BHTE
  if (g_str_equal (solver, "bhte"))
    return wb_bhte_new;
#endif
#ifdef WB_HAVE_VWE
  if (g_str_equal (solver, "vwe"))
    return wb_vwe_new;
#endif
  if (g_str_equal (solver, "pstm"))
    g_set_error (error, WB_ERROR, WB_ERROR_INVALID,
                 "preset '%s': solver 'pstm' is a migration job, not a time-stepping simulation; "
                 "run it with `wavebench-cli migrate`", preset->name);
  else
    g_set_error (error, WB_ERROR, WB_ERROR_INVALID,
                 "preset '%s': unknown solver '%s' (one of bhte, vwe, pstm)", preset->name, solver);
  return NULL;
}

WbSim *
wb_sim_new (const WbPreset  *preset,
            WbDevice        *device,
            const char      *kernel_dir,
            GError         **error)
{
  g_autoptr(WbPreset) stripped = NULL;
  WbGuardConfig guard;
  SimCtor ctor;

  g_return_val_if_fail (preset != NULL, NULL);
  g_return_val_if_fail (device != NULL, NULL);

  ctor = find_solver (preset, error);
  if (ctor == NULL)
    return NULL;
  /* The "guard" section belongs to the run loop (wb-guard.h), not to the
   * solver, whose parser refuses keys it does not know. */
  if (!wb_guard_config_from_preset (preset, &guard, error))
    return NULL;
  wb_guard_config_clear (&guard);
  stripped = wb_guard_strip_preset (preset);
  return ctor (stripped ? stripped : preset, device, kernel_dir, FALSE, error);
}

gboolean
wb_sim_validate (const WbPreset  *preset,
                 GError         **error)
{
  g_autoptr(WbDevice) ref = NULL;
  g_autoptr(GPtrArray) devices = NULL;
  g_autoptr(WbPreset) stripped = NULL;
  WbGuardConfig guard;
  SimCtor ctor = find_solver (preset, error);
  WbSim *sim;

  if (ctor == NULL)
    return FALSE;
  if (!wb_guard_config_from_preset (preset, &guard, error))
    return FALSE;
  wb_guard_config_clear (&guard);
  stripped = wb_guard_strip_preset (preset);
  /* Validation needs no device: parse against the reference backend. */
  devices = wb_device_list (NULL);
  ref = wb_device_lookup (devices, "reference", NULL, NULL);
  sim = ctor (stripped ? stripped : preset, ref, NULL, TRUE, error);
  if (sim == NULL)
    return FALSE;
  wb_sim_free (sim);
  return TRUE;
}

void
wb_sim_free (WbSim *sim)
{
  if (sim == NULL)
    return;
  sim->klass->free (sim);
}

gboolean
wb_sim_step (WbSim    *sim,
             guint     n,
             GError  **error)
{
  g_return_val_if_fail (sim != NULL, FALSE);
  if (n == 0)
    return TRUE;
  return sim->klass->step (sim, n, error);
}

gboolean
wb_sim_finish (WbSim    *sim,
               GError  **error)
{
  g_return_val_if_fail (sim != NULL, FALSE);
  return sim->klass->finish ? sim->klass->finish (sim, error) : TRUE;
}

WbField *
wb_sim_read_field (WbSim       *sim,
                   const char  *name,
                   GError     **error)
{
  g_return_val_if_fail (sim != NULL, NULL);
  if (!wb_sim_has_field (sim, name))
    {
      g_autofree char *list = g_strjoinv (", ", (char **) sim->field_names);
      g_set_error (error, WB_ERROR, WB_ERROR_NOT_FOUND,
                   "solver %s has no field '%s' (fields: %s)", sim->klass->name, name, list);
      return NULL;
    }
  return sim->klass->read_field (sim, name, error);
}

GPtrArray *
wb_sim_read_traces (WbSim    *sim,
                    GError  **error)
{
  if (sim->klass->read_traces == NULL)
    return g_ptr_array_new_with_free_func ((GDestroyNotify) wb_trace_free);
  return sim->klass->read_traces (sim, error);
}

cl_mem
wb_sim_field_buffer (WbSim      *sim,
                     const char *name)
{
  if (sim->klass->field_buffer == NULL || !wb_sim_has_field (sim, name))
    return NULL;
  return sim->klass->field_buffer (sim, name);
}

double
wb_sim_time (const WbSim *sim)
{
  return sim->step * sim->dt;
}

gsize
wb_sim_n_cells (const WbSim *sim)
{
  gsize n = 1;
  for (guint d = 0; d < sim->ndim; d++)
    n *= sim->shape[d];
  return n;
}

gboolean
wb_sim_has_field (const WbSim *sim,
                  const char  *name)
{
  if (sim->field_names == NULL || name == NULL)
    return FALSE;
  return g_strv_contains (sim->field_names, name);
}
