#define G_LOG_DOMAIN "wb-solver-ui"
#include "config.h"

#include "wb-solver-ui.h"

typedef struct
{
  const char *solver;
  const char *probe_fields[4];
} SolverUi;

static const SolverUi solvers[] = {
  { "bhte", { "T", "dose", NULL } },
  { "vwe",  { "Pressure", "Vx", "Vy", NULL } },
};

const char * const *
wb_solver_probe_fields (const char *solver)
{
  for (guint i = 0; i < G_N_ELEMENTS (solvers); i++)
    if (g_strcmp0 (solvers[i].solver, solver) == 0)
      return solvers[i].probe_fields;
  return NULL;
}

WbColormap
wb_field_default_colormap (const char *field)
{
  if (field == NULL)
    return WB_COLORMAP_VIRIDIS;
  if (g_str_equal (field, "T"))
    return WB_COLORMAP_HOT;
  if (g_str_equal (field, "material"))
    return WB_COLORMAP_GRAY;
  if (g_str_has_prefix (field, "Sigma_") || g_str_equal (field, "Pressure")
      || g_str_equal (field, "Vx") || g_str_equal (field, "Vy") || g_str_equal (field, "Vz")
      || g_str_equal (field, "image"))
    return WB_COLORMAP_DIVERGING;
  return WB_COLORMAP_VIRIDIS;
}

const char *
wb_field_default_units (const char *field)
{
  if (field == NULL)
    return "";
  if (g_str_equal (field, "T"))
    return "°C";
  if (g_str_equal (field, "dose"))
    return "CEM43 min";
  if (g_str_equal (field, "Q"))
    return "W/m³";
  if (g_str_has_prefix (field, "Sigma_") || g_str_equal (field, "Pressure"))
    return "Pa";
  if (g_str_equal (field, "Vx") || g_str_equal (field, "Vy") || g_str_equal (field, "Vz"))
    return "m/s";
  return "";
}
