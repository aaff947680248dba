#define G_LOG_DOMAIN "wb-probe"
#include "config.h"

#include <math.h>
#include <string.h>

#include "wb-error.h"
#include "wb-launch.h"
#include "wb-probe.h"

float
wb_sentinel_default (void)
{
  guint32 bits = WB_SENTINEL_BITS;
  float v;

  memcpy (&v, &bits, sizeof v);
  return v;
}

gboolean
wb_sentinel_parse (const char  *spec,
                   float       *value,
                   GError     **error)
{
  char *end = NULL;
  double v;

  if (g_ascii_strcasecmp (spec, "nan") == 0)
    {
      *value = wb_sentinel_default ();
      return TRUE;
    }
  v = g_ascii_strtod (spec, &end);
  if (end == spec || *end != '\0' || !isfinite (v) || fabs (v) > 3.4e38)
    {
      g_set_error (error, WB_ERROR, WB_ERROR_INVALID,
                   "sentinel '%s': expected \"nan\" or a finite float", spec);
      return FALSE;
    }
  *value = (float) v;
  return TRUE;
}

/* --- coverage --------------------------------------------------------- */

void
wb_coverage_free (WbCoverage *c)
{
  if (c == NULL)
    return;
  g_free (c->field);
  g_clear_pointer (&c->map, wb_field_unref);
  g_free (c);
}

WbCoverage *
wb_coverage_from_field (const WbField *field,
                        float          sentinel)
{
  WbCoverage *c = g_new0 (WbCoverage, 1);
  g_autofree char *name = g_strdup_printf ("coverage of %s", field->name);
  guint32 sbits;
  gsize nx = field->shape[0], ny = field->shape[1], nz = field->shape[2];

  memcpy (&sbits, &sentinel, sizeof sbits);
  c->field = g_strdup (field->name);
  c->sentinel = sentinel;
  c->map = wb_field_new (name, "", field->ndim, field->shape, field->spacing);
  memcpy (c->map->origin, field->origin, sizeof c->map->origin);
  c->n_cells = (guint64) nx * ny * nz;
  for (guint d = 0; d < 3; d++)
    c->bbox_min[d] = G_MAXSIZE;
  for (gsize k = 0; k < nz; k++)
    for (gsize j = 0; j < ny; j++)
      for (gsize i = 0; i < nx; i++)
        {
          gsize at = i + nx * (j + ny * k);
          guint32 bits;
          gsize ijk[3] = { i, j, k };

          /* Bits, not values: NaN != NaN, and a kernel's own NaN must not
           * count as unwritten. */
          memcpy (&bits, &field->data[at], sizeof bits);
          if (bits != sbits)
            {
              c->map->data[at] = 1.0f;
              continue;
            }
          c->n_unwritten++;
          for (guint d = 0; d < 3; d++)
            {
              c->bbox_min[d] = MIN (c->bbox_min[d], ijk[d]);
              c->bbox_max[d] = MAX (c->bbox_max[d], ijk[d]);
            }
        }
  if (c->n_unwritten == 0)
    memset (c->bbox_min, 0, sizeof c->bbox_min);
  return c;
}

WbCoverage *
wb_coverage_measure (WbSim       *sim,
                     const char  *field,
                     float        sentinel,
                     GError     **error)
{
  WbKernelDebug *dbg = wb_sim_kernel_debug (sim);
  g_autoptr(WbField) f = NULL;
  WbCoverage *c;
  gboolean ok;

  if (dbg == NULL)
    {
      g_set_error (error, WB_ERROR, WB_ERROR_INVALID,
                   "coverage needs an OpenCL backend and a solver with debugging hooks (%s on %s)",
                   sim->klass->name, sim->device->id);
      return NULL;
    }
  if (!wb_sim_has_field (sim, field))
    {
      g_autofree char *list = g_strjoinv (", ", (char **) sim->field_names);
      g_set_error (error, WB_ERROR, WB_ERROR_NOT_FOUND,
                   "solver %s has no field '%s' (fields: %s)", sim->klass->name, field, list);
      return NULL;
    }
  g_free (dbg->sentinel_field);
  dbg->sentinel_field = g_strdup (field);
  dbg->sentinel_value = sentinel;
  dbg->sentinel_filled = FALSE;
  ok = wb_sim_step (sim, 1, error) && wb_sim_finish (sim, error);
  g_clear_pointer (&dbg->sentinel_field, g_free);
  if (!ok)
    return NULL;
  if (!dbg->sentinel_filled)
    {
      g_set_error (error, WB_ERROR, WB_ERROR_INVALID,
                   "%s cannot take a sentinel in field '%s': only outputs that the kernel writes "
                   "without reading them can (%s)", sim->klass->name, field,
                   dbg->sentinel_fields ? dbg->sentinel_fields : "none");
      return NULL;
    }
  f = wb_sim_read_field (sim, field, error);
  if (f == NULL)
    return NULL;
  c = wb_coverage_from_field (f, sentinel);
  c->step = sim->step;
  return c;
}

static char *
sentinel_string (float v)
{
  guint32 bits;

  memcpy (&bits, &v, sizeof bits);
  if (isnan (v))
    return g_strdup_printf ("NaN 0x%08x", bits);
  return g_strdup_printf ("%.9g", v);
}

char *
wb_coverage_format (const WbCoverage *c)
{
  GString *s = g_string_new (NULL);
  g_autofree char *sent = sentinel_string (c->sentinel);
  guint nd = c->map->ndim;

  g_string_append_printf (s, "coverage of %s at step %" G_GUINT64_FORMAT " (sentinel %s)\n",
                          c->field, c->step, sent);
  g_string_append_printf (s, "  written:   %" G_GUINT64_FORMAT " of %" G_GUINT64_FORMAT
                          " cells (%.2f%%)\n", c->n_cells - c->n_unwritten, c->n_cells,
                          c->n_cells ? 100.0 * (c->n_cells - c->n_unwritten) / c->n_cells : 100.0);
  g_string_append_printf (s, "  unwritten: %" G_GUINT64_FORMAT " cells", c->n_unwritten);
  if (c->n_unwritten > 0)
    {
      g_string_append (s, ", bounding box ");
      for (guint d = 0; d < nd; d++)
        g_string_append_printf (s, "%s%c %" G_GSIZE_FORMAT "..%" G_GSIZE_FORMAT,
                                d ? ", " : "", "ijk"[d], c->bbox_min[d], c->bbox_max[d]);
    }
  g_string_append_c (s, '\n');
  return g_string_free (s, FALSE);
}

void
wb_coverage_to_json (const WbCoverage *c,
                     JsonBuilder      *b)
{
  guint32 bits;

  memcpy (&bits, &c->sentinel, sizeof bits);
  json_builder_begin_object (b);
  json_builder_set_member_name (b, "field");
  json_builder_add_string_value (b, c->field);
  json_builder_set_member_name (b, "step");
  json_builder_add_int_value (b, (gint64) c->step);
  json_builder_set_member_name (b, "sentinel_bits");
  {
    g_autofree char *hex = g_strdup_printf ("0x%08x", bits);
    json_builder_add_string_value (b, hex);
  }
  json_builder_set_member_name (b, "n_cells");
  json_builder_add_int_value (b, (gint64) c->n_cells);
  json_builder_set_member_name (b, "unwritten");
  json_builder_add_int_value (b, (gint64) c->n_unwritten);
  json_builder_set_member_name (b, "written_percent");
  json_builder_add_double_value (b, c->n_cells ? 100.0 * (c->n_cells - c->n_unwritten) / c->n_cells : 100.0);
  json_builder_set_member_name (b, "bbox");
  if (c->n_unwritten == 0)
    json_builder_add_null_value (b);
  else
    {
      json_builder_begin_object (b);
      json_builder_set_member_name (b, "min");
      json_builder_begin_array (b);
      for (guint d = 0; d < c->map->ndim; d++)
        json_builder_add_int_value (b, (gint64) c->bbox_min[d]);
      json_builder_end_array (b);
      json_builder_set_member_name (b, "max");
      json_builder_begin_array (b);
      for (guint d = 0; d < c->map->ndim; d++)
        json_builder_add_int_value (b, (gint64) c->bbox_max[d]);
      json_builder_end_array (b);
      json_builder_end_object (b);
    }
  json_builder_end_object (b);
}

/* --- probes ----------------------------------------------------------- */

void
wb_probe_report_free (WbProbeReport *r)
{
  if (r == NULL)
    return;
  g_free (r->kernel);
  g_clear_pointer (&r->map, wb_field_unref);
  g_free (r);
}

WbProbeReport *
wb_probe_report_from_map (const guint8 *map,
                          guint         ndim,
                          const gsize  *shape,
                          const double *spacing)
{
  WbProbeReport *r = g_new0 (WbProbeReport, 1);
  gsize n;

  r->map = wb_field_new ("checkpoint", "", ndim, shape, spacing);
  n = wb_field_n_elements (r->map);
  r->n_cells = n;
  for (gsize c = 0; c < n; c++)
    {
      r->counts[map[c]]++;
      r->map->data[c] = map[c];
      r->max_checkpoint = MAX (r->max_checkpoint, map[c]);
    }
  return r;
}

WbProbeReport *
wb_probe_read (WbSim   *sim,
               GError **error)
{
  WbKernelDebug *dbg = wb_sim_kernel_debug (sim);
  g_autofree guint8 *map = NULL;
  WbProbeReport *r;

  if (dbg == NULL || !dbg->config.probes || dbg->probe_buf == NULL || !dbg->launched)
    {
      g_set_error (error, WB_ERROR, WB_ERROR_INVALID,
                   "no probe map: %s",
                   dbg == NULL ? "the solver has no debugging hooks on this backend"
                   : !dbg->config.probes ? "the kernel is not built with probes"
                   : "the kernel has not run yet");
      return NULL;
    }
  map = g_malloc (dbg->n_cells);
  if (!wb_cl_read (sim->cl, dbg->probe_buf, 0, dbg->n_cells, map, error))
    return NULL;
  r = wb_probe_report_from_map (map, sim->ndim, sim->shape, sim->spacing);
  r->kernel = g_strdup (dbg->kernel_name);
  r->step = sim->step;
  return r;
}

gboolean
wb_probe_enable (WbSim   *sim,
                 GError **error)
{
  WbKernelDebug *dbg = wb_sim_kernel_debug (sim);
  WbKernelConfig config;
  gboolean ok;

  if (dbg == NULL)
    {
      g_set_error (error, WB_ERROR, WB_ERROR_INVALID,
                   "probes need an OpenCL backend and a solver with debugging hooks (%s on %s)",
                   sim->klass->name, sim->device->id);
      return FALSE;
    }
  if (dbg->config.probes)
    return TRUE;
  wb_kernel_config_init (&config);
  wb_kernel_config_copy (&config, &dbg->config);
  config.probes = TRUE;
  ok = wb_sim_configure_kernels (sim, &config, error);
  wb_kernel_config_clear (&config);
  return ok;
}

WbProbeReport *
wb_probe_measure (WbSim   *sim,
                  GError **error)
{
  if (!wb_probe_enable (sim, error))
    return NULL;
  if (!wb_sim_step (sim, 1, error) || !wb_sim_finish (sim, error))
    return NULL;
  return wb_probe_read (sim, error);
}

double
wb_probe_report_percent (const WbProbeReport *r,
                         guint                n)
{
  if (n >= WB_PROBE_MAX || r->n_cells == 0)
    return 0.0;
  return 100.0 * r->counts[n] / r->n_cells;
}

char *
wb_probe_report_format (const WbProbeReport *r)
{
  GString *s = g_string_new (NULL);

  g_string_append_printf (s, "probes of %s at step %" G_GUINT64_FORMAT ", %" G_GUINT64_FORMAT
                          " work-items (one per cell)\n",
                          r->kernel ? r->kernel : "kernel", r->step, r->n_cells);
  for (guint n = 0; n <= r->max_checkpoint; n++)
    {
      if (r->counts[n] == 0)
        continue;
      if (n == 0)
        g_string_append_printf (s, "  before checkpoint 1, %.2f%% of the work-items stopped "
                                "(%" G_GUINT64_FORMAT ", or never ran)\n",
                                wb_probe_report_percent (r, 0), r->counts[0]);
      else if (n < r->max_checkpoint)
        g_string_append_printf (s, "  after checkpoint %u, %.2f%% of the work-items stopped (%"
                                G_GUINT64_FORMAT ")\n", n, wb_probe_report_percent (r, n), r->counts[n]);
      else
        g_string_append_printf (s, "  %.2f%% reached checkpoint %u, the last one reached (%"
                                G_GUINT64_FORMAT ")\n", wb_probe_report_percent (r, n), n, r->counts[n]);
    }
  return g_string_free (s, FALSE);
}

void
wb_probe_report_to_json (const WbProbeReport *r,
                         JsonBuilder         *b)
{
  json_builder_begin_object (b);
  json_builder_set_member_name (b, "kernel");
  json_builder_add_string_value (b, r->kernel ? r->kernel : "");
  json_builder_set_member_name (b, "step");
  json_builder_add_int_value (b, (gint64) r->step);
  json_builder_set_member_name (b, "n_cells");
  json_builder_add_int_value (b, (gint64) r->n_cells);
  json_builder_set_member_name (b, "max_checkpoint");
  json_builder_add_int_value (b, r->max_checkpoint);
  json_builder_set_member_name (b, "checkpoints");
  json_builder_begin_array (b);
  for (guint n = 0; n <= r->max_checkpoint; n++)
    {
      json_builder_begin_object (b);
      json_builder_set_member_name (b, "checkpoint");
      json_builder_add_int_value (b, n);
      json_builder_set_member_name (b, "stopped");
      json_builder_add_int_value (b, (gint64) r->counts[n]);
      json_builder_set_member_name (b, "percent");
      json_builder_add_double_value (b, wb_probe_report_percent (r, n));
      json_builder_end_object (b);
    }
  json_builder_end_array (b);
  json_builder_end_object (b);
}
