#define G_LOG_DOMAIN "wb-launch"
#include "config.h"

#include <string.h>

#include "wb-error.h"
#include "wb-launch.h"

/* Without an override the grid-in-groups teaching bug needs a group size
 * to count in; 8 x 8 x 1 is what a CUDA port typically carries. */
static const gsize variant_default_local[3] = { 8, 8, 1 };

static const char * const variants[] = { "none", "early-bounds", "grid-in-groups", NULL };

/* --- config ----------------------------------------------------------- */

void
wb_kernel_config_init (WbKernelConfig *config)
{
  memset (config, 0, sizeof *config);
}

void
wb_kernel_config_clear (WbKernelConfig *config)
{
  g_clear_pointer (&config->kernel_file, g_free);
  g_clear_pointer (&config->variant, g_free);
  g_clear_pointer (&config->kernel_dir, g_free);
  memset (config, 0, sizeof *config);
}

void
wb_kernel_config_copy (WbKernelConfig       *dst,
                       const WbKernelConfig *src)
{
  WbKernelConfig tmp = *src;

  tmp.kernel_file = g_strdup (src->kernel_file);
  tmp.variant = g_strdup (src->variant);
  tmp.kernel_dir = g_strdup (src->kernel_dir);
  wb_kernel_config_clear (dst);
  *dst = tmp;
}

static gboolean
is_variant (const WbKernelConfig *config,
            const char           *name)
{
  return config->variant != NULL && g_str_equal (config->variant, name);
}

gboolean
wb_kernel_config_from_preset (const WbPreset  *preset,
                              WbKernelConfig  *config,
                              gboolean        *present,
                              GError         **error)
{
  g_autoptr(WbObj) root = NULL;
  g_autoptr(WbObj) dbg = NULL;
  JsonArray *local = NULL;

  wb_kernel_config_init (config);
  if (present)
    *present = FALSE;
  root = wb_obj_new (preset->root, "", error);
  if (root == NULL || !wb_obj_get_obj (root, "debug", FALSE, &dbg, error))
    return FALSE;
  if (dbg == NULL)
    return TRUE;
  if (present)
    *present = TRUE;
  if (!wb_obj_get_string (dbg, "kernel", FALSE, NULL, &config->kernel_file, error) ||
      !wb_obj_get_string (dbg, "variant", FALSE, variants, &config->variant, error) ||
      !wb_obj_get_bool (dbg, "probes", FALSE, &config->probes, error) ||
      !wb_obj_get_array (dbg, "local_size", FALSE, &local, error) ||
      !wb_obj_finish (dbg, error))
    goto fail;
  if (config->kernel_file != NULL &&
      (!g_str_has_suffix (config->kernel_file, ".cl") || strchr (config->kernel_file, '/') ||
       strlen (config->kernel_file) > 64))
    {
      g_set_error (error, WB_ERROR, WB_ERROR_INVALID,
                   "debug.kernel: expected a kernel file name like \"my-bhte.cl\", got \"%s\"",
                   config->kernel_file);
      goto fail;
    }
  if (local != NULL)
    {
      guint n = json_array_get_length (local);

      if (n < 1 || n > 3)
        {
          g_set_error (error, WB_ERROR, WB_ERROR_INVALID,
                       "debug.local_size: expected 1 to 3 sizes, got %u", n);
          goto fail;
        }
      for (guint d = 0; d < 3; d++)
        config->local[d] = 1;
      for (guint d = 0; d < n; d++)
        {
          JsonNode *e = json_array_get_element (local, d);
          gint64 v = 0;

          if (JSON_NODE_HOLDS_VALUE (e) && json_node_get_value_type (e) == G_TYPE_INT64)
            v = json_node_get_int (e);
          if (v < 1 || v > 65536)
            {
              g_set_error (error, WB_ERROR, WB_ERROR_INVALID,
                           "debug.local_size[%u]: expected an integer from 1 to 65536", d);
              goto fail;
            }
          config->local[d] = (gsize) v;
        }
    }
  if (is_variant (config, "none"))
    g_clear_pointer (&config->variant, g_free);
  return TRUE;

fail:
  wb_kernel_config_clear (config);
  return FALSE;
}

WbPreset *
wb_kernel_config_strip_preset (const WbPreset *preset)
{
  WbPreset *copy;

  if (preset == NULL || preset->root == NULL || !JSON_NODE_HOLDS_OBJECT (preset->root) ||
      !json_object_has_member (json_node_get_object (preset->root), "debug"))
    return NULL;
  copy = wb_preset_copy (preset);
  json_object_remove_member (json_node_get_object (copy->root), "debug");
  return copy;
}

gboolean
wb_kernel_config_validate (const WbPreset  *preset,
                           WbPreset       **stripped,
                           GError         **error)
{
  WbKernelConfig config;
  WbPreset *plain;

  if (!wb_kernel_config_from_preset (preset, &config, NULL, error))
    return FALSE;
  wb_kernel_config_clear (&config);
  plain = wb_kernel_config_strip_preset (preset);
  if (plain != NULL)
    {
      g_clear_pointer (stripped, wb_preset_free);
      *stripped = plain;
    }
  return TRUE;
}

WbSim *
wb_kernel_config_new_sim (WbSimCtor        ctor,
                          const WbPreset  *preset,
                          WbDevice        *device,
                          const char      *kernel_dir,
                          GError         **error)
{
  g_autoptr(WbPreset) plain = NULL;
  WbKernelConfig config;
  gboolean present = FALSE;
  WbSim *sim;

  if (!wb_kernel_config_from_preset (preset, &config, &present, error))
    return NULL;
  plain = wb_kernel_config_strip_preset (preset);
  sim = ctor (plain ? plain : preset, device, kernel_dir, FALSE, error);
  if (sim != NULL && present && sim->cl != NULL)
    {
      if (config.kernel_dir == NULL && kernel_dir != NULL)
        config.kernel_dir = g_strdup (kernel_dir);
      if (!wb_sim_configure_kernels (sim, &config, error))
        g_clear_pointer (&sim, wb_sim_free);
    }
  /* Keep the section in the sim's copy, so that a sim made again from it
   * (the app's runner, the debugging tools) has the same kernels. */
  if (sim != NULL && present && sim->preset != NULL)
    {
      JsonNode *node = json_object_get_member (json_node_get_object (preset->root), "debug");
      json_object_set_member (json_node_get_object (sim->preset->root), "debug",
                              json_node_copy (node));
    }
  wb_kernel_config_clear (&config);
  return sim;
}

gboolean
wb_kernel_config_parse_local (const char  *spec,
                              gsize       *local,
                              GError     **error)
{
  g_auto(GStrv) parts = g_strsplit (spec, "x", -1);
  guint n = g_strv_length (parts);

  if (n < 1 || n > 3)
    goto bad;
  for (guint d = 0; d < 3; d++)
    local[d] = 1;
  for (guint d = 0; d < n; d++)
    {
      guint64 v;

      if (!g_ascii_string_to_unsigned (parts[d], 10, 1, 65536, &v, NULL))
        goto bad;
      local[d] = (gsize) v;
    }
  return TRUE;

bad:
  g_set_error (error, WB_ERROR, WB_ERROR_INVALID,
               "local size '%s': expected 1 to 3 sizes from 1 to 65536 like 8x8x1", spec);
  return FALSE;
}

/* --- debug state ------------------------------------------------------ */

WbKernelDebug *
wb_kernel_debug_new (const char  *file,
                     const char  *kernel_name,
                     const char  *sentinel_fields,
                     const char  *base_defines,
                     guint        work_dim,
                     const gsize *cells,
                     const gsize *default_local)
{
  WbKernelDebug *dbg;

  g_return_val_if_fail (work_dim >= 1 && work_dim <= 3, NULL);
  dbg = g_new0 (WbKernelDebug, 1);
  dbg->file = g_strdup (file);
  dbg->kernel_name = g_strdup (kernel_name);
  dbg->sentinel_fields = g_strdup (sentinel_fields);
  dbg->base_defines = g_strdup (base_defines);
  dbg->work_dim = work_dim;
  dbg->n_cells = 1;
  for (guint d = 0; d < 3; d++)
    {
      dbg->cells[d] = d < work_dim ? cells[d] : 1;
      dbg->default_local[d] = default_local && d < work_dim ? default_local[d] : 0;
      dbg->n_cells *= dbg->cells[d];
    }
  return dbg;
}

void
wb_kernel_debug_free (WbKernelDebug *dbg)
{
  if (dbg == NULL)
    return;
  wb_kernel_config_clear (&dbg->config);
  WB_CL_RELEASE (dbg->probe_buf, clReleaseMemObject);
  WB_CL_RELEASE (dbg->probe_scratch, clReleaseMemObject);
  wb_kernel_debug_time_launches (dbg, FALSE);
  g_free (dbg->file);
  g_free (dbg->kernel_name);
  g_free (dbg->base_defines);
  g_free (dbg->sentinel_field);
  g_free (dbg->sentinel_fields);
  g_free (dbg);
}

cl_program
wb_kernel_debug_build (WbKernelDebug        *dbg,
                       WbClContext          *ctx,
                       const WbKernelConfig *config,
                       GError              **error)
{
  g_autofree char *defines = NULL;
  g_autofree char *file = NULL;

  /* The early-bounds variant is a WB_VARIANT_EARLY_BOUNDS branch in the
   * kernel file: the solver's own, or the one the config names. */
  file = g_strdup (config->kernel_file ? config->kernel_file : dbg->file);
  defines = g_strconcat (dbg->base_defines ? dbg->base_defines : "",
                         is_variant (config, "early-bounds") ? "#define WB_VARIANT_EARLY_BOUNDS 1\n" : "",
                         NULL);
  if (config->kernel_dir)
    {
      g_autofree char *previous = g_strdup (ctx->kernel_dir);
      cl_program program;

      if (!wb_kernel_dir_check (config->kernel_dir, error))
        return NULL;
      /* A failed build leaves the context as it was: the old program and
       * every later build keep reading the old directory. */
      wb_cl_context_set_kernel_dir (ctx, config->kernel_dir);
      program = wb_cl_build_program (ctx, file, defines, config->probes ? "-DWB_PROBES" : NULL, error);
      if (program == NULL)
        wb_cl_context_set_kernel_dir (ctx, previous);
      return program;
    }
  return wb_cl_build_program (ctx, file, defines, config->probes ? "-DWB_PROBES" : NULL, error);
}

gboolean
wb_kernel_debug_bind_probes (WbKernelDebug        *dbg,
                             WbClContext          *ctx,
                             const WbKernelConfig *config,
                             cl_kernel             kernel,
                             guint                 index,
                             GError              **error)
{
  if (!config->probes)
    return TRUE;
  if (dbg->probe_buf == NULL)
    {
      dbg->probe_buf = wb_cl_buffer_new (ctx, CL_MEM_READ_WRITE, dbg->n_cells, NULL,
                                         "probe map", error);
      if (dbg->probe_buf == NULL)
        return FALSE;
    }
  return wb_cl_set_arg (kernel, index, sizeof (cl_mem), &dbg->probe_buf, error);
}

gboolean
wb_kernel_debug_bind_probes_all (WbKernelDebug  *dbg,
                                 WbClContext    *ctx,
                                 cl_kernel      *kernels,
                                 guint           n_kernels,
                                 gsize           scratch_size,
                                 GError        **error)
{
  if (!dbg->config.probes)
    return TRUE;
  for (guint i = 0; i < n_kernels; i++)
    {
      cl_uint nargs = 0;

      if (!wb_cl_check (clGetKernelInfo (kernels[i], CL_KERNEL_NUM_ARGS, sizeof nargs, &nargs, NULL),
                        "clGetKernelInfo", error))
        return FALSE;
      g_assert (nargs > 0);
      if (i == 0)
        {
          if (!wb_kernel_debug_bind_probes (dbg, ctx, &dbg->config, kernels[0], nargs - 1, error))
            return FALSE;
          continue;
        }
      if (dbg->probe_scratch == NULL)
        {
          dbg->probe_scratch = wb_cl_buffer_new (ctx, CL_MEM_READ_WRITE, MAX (scratch_size, 1), NULL,
                                                 "probe scratch", error);
          if (dbg->probe_scratch == NULL)
            return FALSE;
        }
      if (!wb_cl_set_arg (kernels[i], nargs - 1, sizeof (cl_mem), &dbg->probe_scratch, error))
        return FALSE;
    }
  return TRUE;
}

void
wb_kernel_debug_commit (WbKernelDebug        *dbg,
                        const WbKernelConfig *config,
                        cl_kernel             kernel)
{
  wb_kernel_config_copy (&dbg->config, config);
  dbg->kernel = kernel;
}

void
wb_kernel_debug_local (const WbKernelDebug *dbg,
                       gsize               *local)
{
  gboolean over = dbg->config.local[0] > 0;
  gboolean groups = is_variant (&dbg->config, "grid-in-groups");

  for (guint d = 0; d < 3; d++)
    {
      if (over)
        local[d] = dbg->config.local[d];
      else if (groups && dbg->default_local[0] == 0)
        local[d] = variant_default_local[d];
      else
        local[d] = dbg->default_local[d];
      if (d >= dbg->work_dim)
        local[d] = local[0] ? 1 : 0;
    }
}

/* The grid the launch is sized for: the cells, or with the grid-in-groups
 * bug the number of work-groups along each axis. */
static void
launch_extent (const WbKernelDebug *dbg,
               const gsize         *local,
               gsize               *extent)
{
  for (guint d = 0; d < 3; d++)
    {
      extent[d] = dbg->cells[d];
      if (is_variant (&dbg->config, "grid-in-groups") && local[d] > 0)
        extent[d] = (dbg->cells[d] + local[d] - 1) / local[d];
    }
}

gboolean
wb_kernel_debug_enqueue (WbKernelDebug  *dbg,
                         WbClContext    *ctx,
                         GError        **error)
{
  gsize local[3], extent[3];

  g_return_val_if_fail (dbg->kernel != NULL, FALSE);

  wb_kernel_debug_local (dbg, local);
  launch_extent (dbg, local, extent);
  /* Zero means "never reached checkpoint 1": cleared before every launch
   * so the map shows the last launch only. */
  if (dbg->config.probes && dbg->probe_buf)
    {
      const cl_uchar zero = 0;
      if (!wb_cl_check (clEnqueueFillBuffer (ctx->queue, dbg->probe_buf, &zero, 1, 0,
                                             dbg->n_cells, 0, NULL, NULL),
                        "clEnqueueFillBuffer (probe map)", error))
        return FALSE;
    }
  if (!wb_cl_enqueue (ctx, dbg->kernel, dbg->work_dim, extent, local[0] ? local : NULL,
                      &dbg->last, wb_kernel_debug_event (dbg), error))
    return FALSE;
  /* Report against the grid the kernel had to cover. */
  for (guint d = 0; d < dbg->work_dim; d++)
    dbg->last.cells[d] = dbg->cells[d];
  dbg->launched = TRUE;
  return TRUE;
}

gboolean
wb_kernel_debug_active (const WbKernelDebug *dbg)
{
  const WbKernelConfig *c = &dbg->config;

  return c->variant != NULL || c->probes || c->local[0] > 0 || c->kernel_file != NULL
         || c->kernel_dir != NULL || dbg->sentinel_field != NULL || dbg->inspected;
}

void
wb_kernel_debug_time_launches (WbKernelDebug *dbg,
                               gboolean       on)
{
  if (dbg->events != NULL)
    {
      for (guint i = 0; i < dbg->events->len; i++)
        {
          cl_event e = g_array_index (dbg->events, cl_event, i);
          if (e)
            clReleaseEvent (e);
        }
      g_clear_pointer (&dbg->events, g_array_unref);
    }
  if (on)
    dbg->events = g_array_new (FALSE, TRUE, sizeof (cl_event));
}

cl_event *
wb_kernel_debug_event (WbKernelDebug *dbg)
{
  cl_event none = NULL;

  if (dbg == NULL || dbg->events == NULL)
    return NULL;
  /* A slot the launch fills; a failed launch leaves it NULL. */
  g_array_append_val (dbg->events, none);
  return &g_array_index (dbg->events, cl_event, dbg->events->len - 1);
}

double
wb_kernel_debug_kernel_seconds (WbKernelDebug *dbg,
                                guint         *n_launches)
{
  double sum = 0.0;
  guint n = 0;

  for (guint i = 0; dbg->events && i < dbg->events->len; i++)
    {
      cl_event e = g_array_index (dbg->events, cl_event, i);

      if (e == NULL)
        continue;
      sum += wb_cl_event_seconds (e);
      clReleaseEvent (e);
      g_array_index (dbg->events, cl_event, i) = NULL;
      n++;
    }
  if (dbg->events)
    g_array_set_size (dbg->events, 0);
  if (n_launches)
    *n_launches = n;
  return sum;
}

gboolean
wb_kernel_debug_sentinel (WbKernelDebug  *dbg,
                          WbClContext    *ctx,
                          const char     *field,
                          cl_mem          buffer,
                          gsize           n,
                          GError        **error)
{
  if (dbg == NULL || dbg->sentinel_field == NULL || !g_str_equal (dbg->sentinel_field, field))
    return TRUE;
  dbg->sentinel_filled = TRUE;
  /* A pattern fill copies the bits, so a NaN payload survives. */
  return wb_cl_check (clEnqueueFillBuffer (ctx->queue, buffer, &dbg->sentinel_value,
                                           sizeof (float), 0, n * sizeof (float), 0, NULL, NULL),
                      "clEnqueueFillBuffer (sentinel)", error);
}

WbKernelDebug *
wb_sim_kernel_debug (WbSim *sim)
{
  g_return_val_if_fail (sim != NULL, NULL);
  if (sim->cl == NULL || sim->klass->kernel_debug == NULL)
    return NULL;
  return sim->klass->kernel_debug (sim);
}

gboolean
wb_sim_configure_kernels (WbSim                *sim,
                          const WbKernelConfig *config,
                          GError              **error)
{
  g_return_val_if_fail (sim != NULL, FALSE);
  g_return_val_if_fail (config != NULL, FALSE);

  if (sim->cl == NULL)
    {
      g_set_error (error, WB_ERROR, WB_ERROR_INVALID,
                   "kernel debugging needs an OpenCL backend; %s runs on the reference backend",
                   sim->klass->name);
      return FALSE;
    }
  if (sim->klass->configure == NULL)
    {
      g_set_error (error, WB_ERROR, WB_ERROR_INVALID,
                   "solver %s has no kernel debugging hooks", sim->klass->name);
      return FALSE;
    }
  return sim->klass->configure (sim, config, error);
}

/* --- reports ---------------------------------------------------------- */

void
wb_launch_report_compute (WbLaunchReport *r)
{
  const WbLaunch *l = &r->launch;
  guint64 covered = 1, items = 1, cells = 1;
  gsize wg = 1;

  r->flags = 0;
  for (guint d = 0; d < 3; d++)
    {
      gsize c = d < l->work_dim ? l->cells[d] : 1;
      gsize g = d < l->work_dim ? l->global[d] : 1;
      gsize lo = d < l->work_dim ? l->local[d] : 0;

      cells *= c;
      items *= g;
      covered *= MIN (c, g);
      if (g < c)
        r->flags |= WB_LAUNCH_UNDERCOVERS;
      r->groups[d] = lo > 0 ? (g + lo - 1) / lo : 0;
      if (lo > 0)
        {
          wg *= lo;
          if (r->device_max_item[d] > 0 && lo > r->device_max_item[d])
            r->flags |= WB_LAUNCH_OVER_ITEM_SIZE;
        }
    }
  if (l->local[0] > 0 && l->kernel_max_wg > 0 && wg > l->kernel_max_wg)
    r->flags |= WB_LAUNCH_OVER_WG_LIMIT;
  r->n_cells = cells;
  r->work_items = items;
  r->covered = covered;
  r->uncovered = cells - covered;
  r->padding = items - covered;
}

static void
report_init (WbLaunchReport *r,
             WbSim          *sim,
             WbKernelDebug  *dbg)
{
  size_t sizes[3] = { 0, 0, 0 };

  memset (r, 0, sizeof *r);
  g_strlcpy (r->kernel, dbg->kernel_name, sizeof r->kernel);
  g_strlcpy (r->variant, dbg->config.variant ? dbg->config.variant : "none", sizeof r->variant);
  r->device_max_wg = sim->device->max_work_group_size;
  clGetDeviceInfo (sim->device->device, CL_DEVICE_MAX_WORK_ITEM_SIZES, sizeof sizes, sizes, NULL);
  for (guint d = 0; d < 3; d++)
    r->device_max_item[d] = sizes[d];
}

gboolean
wb_launch_plan (WbSim           *sim,
                WbLaunchReport  *r,
                GError         **error)
{
  WbKernelDebug *dbg = wb_sim_kernel_debug (sim);
  gsize local[3], extent[3];
  size_t wg = 0;

  if (dbg == NULL)
    {
      g_set_error (error, WB_ERROR, WB_ERROR_INVALID,
                   "launch geometry needs an OpenCL backend and a solver with debugging hooks (%s on %s)",
                   sim->klass->name, sim->device->id);
      return FALSE;
    }
  report_init (r, sim, dbg);
  /* From now on the sim launches the kernel this report describes. */
  dbg->inspected = TRUE;
  wb_kernel_debug_local (dbg, local);
  launch_extent (dbg, local, extent);
  /* The same rounding wb_cl_enqueue applies. */
  r->launch.work_dim = dbg->work_dim;
  for (guint d = 0; d < dbg->work_dim; d++)
    {
      r->launch.cells[d] = dbg->cells[d];
      r->launch.local[d] = local[d];
      r->launch.global[d] = MAX (extent[d], 1);
      if (local[d] > 0)
        r->launch.global[d] = (r->launch.global[d] + local[d] - 1) / local[d] * local[d];
    }
  clGetKernelWorkGroupInfo (dbg->kernel, sim->device->device, CL_KERNEL_WORK_GROUP_SIZE,
                            sizeof wg, &wg, NULL);
  r->launch.kernel_max_wg = wg;
  wb_launch_report_compute (r);
  return TRUE;
}

gboolean
wb_launch_last (WbSim          *sim,
                WbLaunchReport *r)
{
  WbKernelDebug *dbg = wb_sim_kernel_debug (sim);

  if (dbg == NULL || !dbg->launched)
    return FALSE;
  report_init (r, sim, dbg);
  r->done = TRUE;
  r->launch = dbg->last;
  wb_launch_report_compute (r);
  return TRUE;
}

static void
append_dims (GString     *s,
             const gsize *v,
             guint        n)
{
  for (guint d = 0; d < n; d++)
    g_string_append_printf (s, "%s%" G_GSIZE_FORMAT, d ? " x " : "", v[d]);
}

char *
wb_launch_report_format (const WbLaunchReport *r)
{
  GString *s = g_string_new (NULL);
  const WbLaunch *l = &r->launch;
  guint n = l->work_dim;

  g_string_append_printf (s, "kernel %s (%s launch, variant %s)\n", r->kernel,
                          r->done ? "last" : "planned", r->variant);
  g_string_append (s, "  cells:        ");
  append_dims (s, l->cells, n);
  g_string_append_printf (s, " = %" G_GUINT64_FORMAT "\n", r->n_cells);
  g_string_append (s, "  global size:  ");
  append_dims (s, l->global, n);
  g_string_append_printf (s, " = %" G_GUINT64_FORMAT " work-items\n", r->work_items);
  g_string_append (s, "  local size:   ");
  if (l->local[0] > 0)
    {
      append_dims (s, l->local, n);
      g_string_append (s, " (groups ");
      append_dims (s, r->groups, n);
      g_string_append (s, ")\n");
    }
  else
    g_string_append (s, "left to the implementation\n");
  g_string_append_printf (s, "  work-group limit: %" G_GSIZE_FORMAT " (CL_KERNEL_WORK_GROUP_SIZE), "
                          "device %" G_GSIZE_FORMAT "\n", l->kernel_max_wg, r->device_max_wg);
  g_string_append_printf (s, "  covered cells: %" G_GUINT64_FORMAT " of %" G_GUINT64_FORMAT
                          " (%.2f%%), padding %" G_GUINT64_FORMAT " work-items\n",
                          r->covered, r->n_cells,
                          r->n_cells ? 100.0 * r->covered / r->n_cells : 100.0, r->padding);
  if (r->flags & WB_LAUNCH_UNDERCOVERS)
    g_string_append_printf (s, "  FLAG: the global size is smaller than the grid: %" G_GUINT64_FORMAT
                            " cells get no work-item and keep their previous value\n", r->uncovered);
  if (r->flags & WB_LAUNCH_OVER_WG_LIMIT)
    g_string_append_printf (s, "  FLAG: the local size exceeds the kernel's work-group limit of %"
                            G_GSIZE_FORMAT "; the launch will fail\n", l->kernel_max_wg);
  if (r->flags & WB_LAUNCH_OVER_ITEM_SIZE)
    g_string_append (s, "  FLAG: a local size exceeds CL_DEVICE_MAX_WORK_ITEM_SIZES; the launch will fail\n");
  if (r->flags == 0)
    g_string_append (s, "  ok: every cell gets a work-item\n");
  return g_string_free (s, FALSE);
}

static void
json_dims (JsonBuilder *b,
           const char  *name,
           const gsize *v,
           guint        n)
{
  json_builder_set_member_name (b, name);
  json_builder_begin_array (b);
  for (guint d = 0; d < n; d++)
    json_builder_add_int_value (b, (gint64) v[d]);
  json_builder_end_array (b);
}

void
wb_launch_report_to_json (const WbLaunchReport *r,
                          JsonBuilder          *b)
{
  const WbLaunch *l = &r->launch;

  json_builder_begin_object (b);
  json_builder_set_member_name (b, "kernel");
  json_builder_add_string_value (b, r->kernel);
  json_builder_set_member_name (b, "variant");
  json_builder_add_string_value (b, r->variant);
  json_builder_set_member_name (b, "ran");
  json_builder_add_boolean_value (b, r->done);
  json_dims (b, "cells", l->cells, l->work_dim);
  json_dims (b, "global", l->global, l->work_dim);
  json_dims (b, "local", l->local, l->work_dim);
  json_dims (b, "groups", r->groups, l->work_dim);
  json_builder_set_member_name (b, "kernel_work_group_size");
  json_builder_add_int_value (b, (gint64) l->kernel_max_wg);
  json_builder_set_member_name (b, "device_max_work_group_size");
  json_builder_add_int_value (b, (gint64) r->device_max_wg);
  json_builder_set_member_name (b, "n_cells");
  json_builder_add_int_value (b, (gint64) r->n_cells);
  json_builder_set_member_name (b, "work_items");
  json_builder_add_int_value (b, (gint64) r->work_items);
  json_builder_set_member_name (b, "covered");
  json_builder_add_int_value (b, (gint64) r->covered);
  json_builder_set_member_name (b, "uncovered");
  json_builder_add_int_value (b, (gint64) r->uncovered);
  json_builder_set_member_name (b, "padding");
  json_builder_add_int_value (b, (gint64) r->padding);
  json_builder_set_member_name (b, "flags");
  json_builder_begin_array (b);
  if (r->flags & WB_LAUNCH_UNDERCOVERS)
    json_builder_add_string_value (b, "undercovers");
  if (r->flags & WB_LAUNCH_OVER_WG_LIMIT)
    json_builder_add_string_value (b, "over-work-group-limit");
  if (r->flags & WB_LAUNCH_OVER_ITEM_SIZE)
    json_builder_add_string_value (b, "over-item-size");
  json_builder_end_array (b);
  json_builder_end_object (b);
}
