/* wavebench-cli: the headless front end.  Links no GTK, so it runs on GPU
 * servers with no desktop.  Exit status: 0 success, 2 bad input, 1 run-time
 * failure. */
#define G_LOG_DOMAIN "wavebench-cli"
#include "config.h"

#include <locale.h>
#include <math.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include <json-glib/json-glib.h>

#include "wb-bench.h"
#include "wb-cl.h"
#include "wb-device.h"
#include "wb-error.h"
#include "wb-guard.h"
#include "wb-io.h"
#include "wb-npy.h"
#include "wb-preset.h"
#include "wb-render.h"
#include "wb-sim.h"
#include "wb-tune.h"
#include "wb-cli.h"
#include "wb-cli-pstm.h"
#include "wb-cli-common.h"

/* --- devices --------------------------------------------------------- */

static void
device_to_json (JsonBuilder    *b,
                const WbDevice *d)
{
  json_builder_begin_object (b);
  json_builder_set_member_name (b, "id");
  json_builder_add_string_value (b, d->id);
  json_builder_set_member_name (b, "name");
  json_builder_add_string_value (b, d->name);
  json_builder_set_member_name (b, "kind");
  json_builder_add_string_value (b, wb_device_kind_to_string (d->kind));
  json_builder_set_member_name (b, "vendor");
  json_builder_add_string_value (b, d->vendor);
  json_builder_set_member_name (b, "platform");
  json_builder_add_string_value (b, d->platform_name);
  json_builder_set_member_name (b, "version");
  json_builder_add_string_value (b, d->device_version);
  json_builder_set_member_name (b, "driver_version");
  json_builder_add_string_value (b, d->driver_version);
  json_builder_set_member_name (b, "compute_units");
  json_builder_add_int_value (b, d->compute_units);
  json_builder_set_member_name (b, "global_memory");
  json_builder_add_int_value (b, (gint64) d->global_mem_size);
  json_builder_set_member_name (b, "max_allocation");
  json_builder_add_int_value (b, (gint64) d->max_alloc_size);
  json_builder_set_member_name (b, "fp64");
  json_builder_add_boolean_value (b, d->fp64);
  json_builder_set_member_name (b, "cl_khr_gl_sharing");
  json_builder_add_boolean_value (b, d->gl_sharing);
  json_builder_set_member_name (b, "cl_khr_external_memory_opaque_fd");
  json_builder_add_boolean_value (b, d->external_memory_opaque_fd);
  if (d->copy_bandwidth > 0)
    {
      json_builder_set_member_name (b, "copy_bandwidth_gbs");
      json_builder_add_double_value (b, d->copy_bandwidth);
    }
  json_builder_end_object (b);
}

static int
cmd_devices (int argc, char **argv)
{
  gboolean bandwidth = FALSE, json = FALSE;
  GOptionEntry entries[] = {
    { "bandwidth", 'b', 0, G_OPTION_ARG_NONE, &bandwidth, "Measure each device's copy bandwidth", NULL },
    { "json", 0, 0, G_OPTION_ARG_NONE, &json, "Print JSON", NULL },
    { NULL }
  };
  g_autoptr(GPtrArray) devices = NULL;
  g_autofree char *notice = NULL;
  g_autofree char *why = NULL;
  g_autoptr(WbDevice) chosen = NULL;

  if (!wb_cli_parse_options ("", "List every backend: each OpenCL device of every platform, and the reference.",
                      entries, &argc, &argv))
    return 2;
  devices = wb_device_list (&notice);
  if (notice)
    g_printerr ("wavebench-cli: %s\n", notice);
  if (bandwidth)
    for (guint i = 0; i < devices->len; i++)
      {
        g_autoptr(GError) error = NULL;
        WbDevice *d = g_ptr_array_index (devices, i);
        if (wb_device_measure_bandwidth (d, &error) <= 0 && error)
          g_printerr ("wavebench-cli: %s: bandwidth not measured: %s\n", d->id, error->message);
      }
  chosen = wb_device_choose_auto (devices, &why);

  if (json)
    {
      g_autoptr(JsonBuilder) b = json_builder_new ();
      json_builder_begin_object (b);
      json_builder_set_member_name (b, "devices");
      json_builder_begin_array (b);
      for (guint i = 0; i < devices->len; i++)
        device_to_json (b, g_ptr_array_index (devices, i));
      json_builder_end_array (b);
      json_builder_set_member_name (b, "auto");
      json_builder_add_string_value (b, chosen->id);
      json_builder_set_member_name (b, "auto_reason");
      json_builder_add_string_value (b, why);
      json_builder_end_object (b);
      wb_cli_print_json (b);
      return 0;
    }
  for (guint i = 0; i < devices->len; i++)
    {
      g_autofree char *desc = wb_device_describe (g_ptr_array_index (devices, i));
      g_print ("%s\n", desc);
    }
  g_print ("%s\n", why);
  return 0;
}

/* --- shared run helpers ---------------------------------------------- */

static WbPreset *
load_preset_with_overrides (const char  *name,
                            char       **sets,
                            GError     **error)
{
  g_autoptr(WbPreset) preset = wb_preset_load (name, error);

  if (preset == NULL)
    return NULL;
  for (guint i = 0; sets && sets[i]; i++)
    if (!wb_preset_set (preset, sets[i], error))
      return NULL;
  return g_steal_pointer (&preset);
}

static WbDevice *
pick_device (const char  *id,
             gboolean     quiet,
             GError     **error)
{
  g_autoptr(GPtrArray) devices = NULL;
  g_autofree char *notice = NULL;
  g_autofree char *why = NULL;
  WbDevice *dev;

  devices = wb_device_list (&notice);
  if (notice)
    g_printerr ("wavebench-cli: %s\n", notice);
  dev = wb_device_lookup (devices, id ? id : "auto", &why, error);
  if (dev && why && !quiet)
    g_printerr ("wavebench-cli: %s\n", why);
  return dev;
}

static WbColormap
default_colormap (const char *field)
{
  if (g_str_equal (field, "T") || g_str_equal (field, "Q"))
    return WB_COLORMAP_HOT;
  if (g_str_has_prefix (field, "Sigma_") || g_str_equal (field, "Pressure") ||
      g_str_equal (field, "Vx") || g_str_equal (field, "Vy") || g_str_equal (field, "Vz") ||
      g_str_equal (field, "image"))
    return WB_COLORMAP_DIVERGING;
  return WB_COLORMAP_VIRIDIS;
}

static gboolean
parse_slice (const char      *spec,
             WbRenderOptions *opts,
             GError         **error)
{
  char axis;
  const char *colon;

  if (spec == NULL)
    return TRUE;
  axis = g_ascii_tolower (spec[0]);
  colon = strchr (spec, ':');
  if ((axis != 'x' && axis != 'y' && axis != 'z') || (spec[1] != '\0' && spec[1] != ':'))
    {
      g_set_error (error, WB_ERROR, WB_ERROR_INVALID,
                   "--slice '%s': expected AXIS or AXIS:INDEX with AXIS x, y or z", spec);
      return FALSE;
    }
  opts->slice_axis = axis - 'x';
  opts->slice_index = -1;
  if (colon)
    {
      char *end = NULL;
      gint64 idx = g_ascii_strtoll (colon + 1, &end, 10);
      if (end == colon + 1 || *end != '\0' || idx < 0)
        {
          g_set_error (error, WB_ERROR, WB_ERROR_INVALID,
                       "--slice '%s': the index must be a non-negative integer", spec);
          return FALSE;
        }
      opts->slice_index = idx;
    }
  return TRUE;
}

/* "FIELD:PATH" */
static gboolean
split_output (const char  *spec,
              const char  *option,
              char       **field,
              char       **path,
              GError     **error)
{
  const char *colon = strchr (spec, ':');
  if (colon == NULL || colon == spec || colon[1] == '\0')
    {
      g_set_error (error, WB_ERROR, WB_ERROR_INVALID,
                   "%s '%s': expected FIELD:PATH, e.g. T:temperature.png", option, spec);
      return FALSE;
    }
  *field = g_strndup (spec, colon - spec);
  *path = g_strdup (colon + 1);
  return TRUE;
}

static gboolean
write_traces_csv (GPtrArray   *traces,
                  const char  *path,
                  GError     **error)
{
  GString *s = g_string_new ("time_s");
  guint n = 0;
  double dt = 0;
  gboolean ok;

  for (guint t = 0; t < traces->len; t++)
    {
      WbTrace *tr = g_ptr_array_index (traces, t);
      g_string_append_printf (s, ",%s%s%s%s", tr->name, tr->units && *tr->units ? " [" : "",
                              tr->units ? tr->units : "", tr->units && *tr->units ? "]" : "");
      n = MAX (n, tr->n);
      dt = tr->dt;
    }
  g_string_append_c (s, '\n');
  for (guint i = 0; i < n; i++)
    {
      char buf[G_ASCII_DTOSTR_BUF_SIZE];
      g_string_append (s, g_ascii_formatd (buf, sizeof buf, "%.9g", i * dt));
      for (guint t = 0; t < traces->len; t++)
        {
          WbTrace *tr = g_ptr_array_index (traces, t);
          g_string_append_c (s, ',');
          if (i < tr->n)
            g_string_append (s, g_ascii_formatd (buf, sizeof buf, "%.9g", tr->values[i]));
        }
      g_string_append_c (s, '\n');
    }
  ok = wb_file_write_atomic (path, s->str, s->len, error);
  g_string_free (s, TRUE);
  return ok;
}

static void
format_duration (char *buf, gsize size, double s)
{
  if (!isfinite (s) || s < 0)
    g_snprintf (buf, size, "--");
  else if (s < 60)
    g_snprintf (buf, size, "%.0f s", s);
  else if (s < 3600)
    g_snprintf (buf, size, "%d min %02d s", (int) s / 60, (int) s % 60);
  else
    g_snprintf (buf, size, "%d h %02d min", (int) s / 3600, ((int) s % 3600) / 60);
}

static void
draw_progress (guint64 done, guint64 total, double sim_time, double rate, double eta)
{
  char bar[31];
  char etas[32];
  int filled = total ? (int) (30.0 * done / total) : 30;

  for (int i = 0; i < 30; i++)
    bar[i] = i < filled ? '#' : '-';
  bar[30] = '\0';
  format_duration (etas, sizeof etas, eta);
  g_printerr ("\r[%s] %3.0f%%  step %" G_GUINT64_FORMAT "/%" G_GUINT64_FORMAT
              "  t = %.4g s  %.1f steps/s  ETA %s   ",
              bar, total ? 100.0 * done / total : 100.0, done, total, sim_time, rate, etas);
}

/* Steps in chunks sized to ~0.1 s so progress is live while the queue stays
 * full within each chunk.  Blow-up checks (wb-guard.h) fall on multiples of
 * guard.every: a chunk never steps past one. */
static gboolean
run_steps (WbSim    *sim,
           WbGuard  *guard,
           guint64   steps,
           gboolean  progress,
           double   *seconds,
           GError  **error)
{
  double t0 = g_get_monotonic_time () * 1e-6;
  double last_draw = 0;
  guint64 done = 0;
  guint chunk = 1;

  while (done < steps)
    {
      guint n = (guint) MIN ((guint64) chunk, steps - done);
      double c0 = g_get_monotonic_time () * 1e-6, c1;

      gboolean ok = guard == NULL || wb_guard_poll (guard, error);

      if (ok && guard != NULL)
        n = (guint) MIN ((guint64) n, wb_guard_steps_until_check (guard));
      if (!ok || !wb_sim_step (sim, n, error) || !wb_sim_finish (sim, error))
        {
          if (progress)
            g_printerr ("\n");
          wb_guard_explain_device_error (sim, error);
          return FALSE;
        }
      done += n;
      c1 = g_get_monotonic_time () * 1e-6;
      if (c1 - c0 < 0.05 && chunk < (1u << 20))
        chunk *= 2;
      else if (c1 - c0 > 0.2 && chunk > 1)
        chunk /= 2;
      if (progress && (c1 - last_draw > 0.1 || done == steps))
        {
          double rate = done / MAX (c1 - t0, 1e-9);
          draw_progress (done, steps, wb_sim_time (sim), rate, (steps - done) / MAX (rate, 1e-9));
          last_draw = c1;
        }
    }
  if (progress)
    g_printerr ("\n");
  *seconds = g_get_monotonic_time () * 1e-6 - t0;
  if (guard != NULL && !wb_guard_finish (guard, error))
    {
      wb_guard_explain_device_error (sim, error);
      return FALSE;
    }
  return TRUE;
}

/* Fields named by --png and --npy: the guard keeps their last good state. */
static char **
output_fields (char **pngs,
               char **npys)
{
  GPtrArray *names = g_ptr_array_new ();
  char **lists[2] = { pngs, npys };

  for (guint l = 0; l < 2; l++)
    for (guint i = 0; lists[l] && lists[l][i]; i++)
      {
        g_autofree char *p = NULL;
        char *f = NULL;
        if (split_output (lists[l][i], "", &f, &p, NULL))
          g_ptr_array_add (names, f);
      }
  g_ptr_array_add (names, NULL);
  return (char **) g_ptr_array_free (names, FALSE);
}

/* Creates the simulation and its guard on @device. */
static gboolean
start_sim (WbPreset    *preset,
           WbDevice    *device,
           const char  *kernels,
           char       **keep,
           WbSim      **sim,
           WbGuard    **guard,
           GError     **error)
{
  WbGuardConfig config;
  gboolean ok;

  if (!wb_guard_config_from_preset (preset, &config, error))
    return FALSE;
  *sim = wb_sim_new (preset, device, kernels, error);
  ok = *sim != NULL;
  if (ok)
    {
      /* Unknown output fields are reported below with the field list. */
      g_auto(GStrv) known = g_new0 (char *, 1);
      guint n = 0;
      for (guint i = 0; keep && keep[i]; i++)
        if (wb_sim_has_field (*sim, keep[i]))
          {
            known = g_renew (char *, known, n + 2);
            known[n++] = g_strdup (keep[i]);
            known[n] = NULL;
          }
      *guard = wb_guard_new (*sim, &config, (const char * const *) known, kernels, error);
      ok = *guard != NULL;
    }
  wb_guard_config_clear (&config);
  return ok;
}

/* --- run ------------------------------------------------------------- */

static int
cmd_run (int argc, char **argv)
{
  /* GOption allocates the values: free them on every return. */
  g_autofree char *backend = NULL, *kernels = NULL, *slice = NULL, *cmap_name = NULL, *csv = NULL;
  g_auto(GStrv) sets = NULL, pngs = NULL, npys = NULL;
  gint64 steps = -1;
  gboolean quiet = FALSE, json = FALSE, fallback = FALSE;
  GOptionEntry entries[] = {
    { "backend", 'b', 0, G_OPTION_ARG_STRING, &backend, "Backend id (see `devices`) or auto", "ID" },
    { "fallback-reference", 0, 0, G_OPTION_ARG_NONE, &fallback,
      "If the OpenCL device fails or is lost, run again on the reference backend", NULL },
    { "steps", 'n', 0, G_OPTION_ARG_INT64, &steps, "Number of steps (default: the preset's)", "N" },
    { "set", 's', 0, G_OPTION_ARG_STRING_ARRAY, &sets, "Override a preset value", "KEY=VALUE" },
    { "png", 0, 0, G_OPTION_ARG_STRING_ARRAY, &pngs, "Write a field as PNG", "FIELD:PATH" },
    { "npy", 0, 0, G_OPTION_ARG_STRING_ARRAY, &npys, "Write a field as .npy", "FIELD:PATH" },
    { "csv", 0, 0, G_OPTION_ARG_FILENAME, &csv, "Write sensor traces as CSV", "PATH" },
    { "slice", 0, 0, G_OPTION_ARG_STRING, &slice, "Slice of 3D fields for PNG (default z, middle)", "AXIS[:INDEX]" },
    { "colormap", 0, 0, G_OPTION_ARG_STRING, &cmap_name, "viridis, hot, diverging or gray", "NAME" },
    { "kernels", 'k', 0, G_OPTION_ARG_FILENAME, &kernels, "Load kernels from this directory", "DIR" },
    { "quiet", 'q', 0, G_OPTION_ARG_NONE, &quiet, "No progress output", NULL },
    { "json", 0, 0, G_OPTION_ARG_NONE, &json, "Print a JSON summary", NULL },
    { NULL }
  };
  g_autoptr(GError) error = NULL;
  g_autoptr(WbPreset) preset = NULL;
  g_autoptr(WbDevice) device = NULL;
  g_autoptr(WbSim) sim = NULL;
  g_autoptr(WbGuard) guard = NULL;     /* freed before the sim it watches */
  g_autoptr(GError) diverged = NULL;
  g_auto(GStrv) keep = NULL;
  WbRenderOptions ropts;
  WbColormap forced_cmap = WB_COLORMAP_VIRIDIS;
  double seconds = 0;
  gboolean progress;
  int rc = 0;
  g_autoptr(JsonBuilder) jb = json_builder_new ();

  if (!wb_cli_parse_options ("PRESET", "Run a preset (a bundled name or a .json file) on a backend.",
                      entries, &argc, &argv))
    return 2;
  if (argc != 2)
    return wb_cli_usage_error ("run: expected exactly one PRESET (a bundled name or a .json file)");
  if (cmap_name && !wb_colormap_from_string (cmap_name, &forced_cmap))
    return wb_cli_usage_error ("--colormap '%s': expected viridis, hot, diverging or gray", cmap_name);
  if (kernels && !wb_kernel_dir_check (kernels, &error))
    return wb_cli_fail (g_steal_pointer (&error));

  wb_render_options_init (&ropts);
  if (!parse_slice (slice, &ropts, &error))
    return wb_cli_fail (g_steal_pointer (&error));

  preset = load_preset_with_overrides (argv[1], sets, &error);
  if (preset == NULL)
    return wb_cli_fail (g_steal_pointer (&error));
  /* Validate output specs before the (maybe long) run. */
  for (guint i = 0; pngs && pngs[i]; i++)
    {
      g_autofree char *f = NULL, *p = NULL;
      if (!split_output (pngs[i], "--png", &f, &p, &error))
        return wb_cli_fail (g_steal_pointer (&error));
    }
  for (guint i = 0; npys && npys[i]; i++)
    {
      g_autofree char *f = NULL, *p = NULL;
      if (!split_output (npys[i], "--npy", &f, &p, &error))
        return wb_cli_fail (g_steal_pointer (&error));
    }
  device = pick_device (backend, quiet || json, &error);
  if (device == NULL)
    return wb_cli_fail (g_steal_pointer (&error));
  keep = output_fields (pngs, npys);
  if (!start_sim (preset, device, kernels, keep, &sim, &guard, &error))
    return wb_cli_fail (g_steal_pointer (&error));
  for (guint i = 0; pngs && pngs[i]; i++)
    {
      g_autofree char *f = NULL, *p = NULL;
      split_output (pngs[i], "--png", &f, &p, NULL);
      if (!wb_sim_has_field (sim, f))
        {
          g_autofree char *list = g_strjoinv (", ", (char **) sim->field_names);
          return wb_cli_usage_error ("--png %s: solver %s has no field '%s' (fields: %s)", pngs[i], sim->klass->name, f, list);
        }
    }
  for (guint i = 0; npys && npys[i]; i++)
    {
      g_autofree char *f = NULL, *p = NULL;
      split_output (npys[i], "--npy", &f, &p, NULL);
      if (!wb_sim_has_field (sim, f))
        {
          g_autofree char *list = g_strjoinv (", ", (char **) sim->field_names);
          return wb_cli_usage_error ("--npy %s: solver %s has no field '%s' (fields: %s)", npys[i], sim->klass->name, f, list);
        }
    }
  if (steps < 0)
    steps = (gint64) sim->total_steps;

  progress = !quiet && !json && isatty (STDERR_FILENO);
  if (!quiet && !json)
    g_printerr ("wavebench-cli: %s on %s (%s): %" G_GINT64_FORMAT " steps of %.4g s, %" G_GSIZE_FORMAT " cells\n",
                preset->name, device->id, device->name, steps, sim->dt, wb_sim_n_cells (sim));
  if (!run_steps (sim, guard, (guint64) steps, progress, &seconds, &error))
    {
      if (fallback && wb_guard_is_device_error (error) && !wb_device_is_reference (device))
        {
          /* A lost or exhausted device: start over on the reference. */
          g_printerr ("wavebench-cli: %s\nwavebench-cli: --fallback-reference: running again on the reference backend\n",
                      error->message);
          g_clear_error (&error);
          g_clear_pointer (&guard, wb_guard_free);
          g_clear_pointer (&sim, wb_sim_free);
          g_clear_pointer (&device, wb_device_unref);
          device = pick_device ("reference", TRUE, &error);
          if (device == NULL || !start_sim (preset, device, kernels, keep, &sim, &guard, &error))
            return wb_cli_fail (g_steal_pointer (&error));
          if (!run_steps (sim, guard, (guint64) steps, progress, &seconds, &error) &&
              !g_error_matches (error, WB_ERROR, WB_ERROR_DIVERGED))
            return wb_cli_fail (g_steal_pointer (&error));
        }
      else if (!g_error_matches (error, WB_ERROR, WB_ERROR_DIVERGED))
        return wb_cli_fail (g_steal_pointer (&error));
      /* A blow-up: the outputs get the last good state, then exit 1. */
      diverged = g_steal_pointer (&error);
      if (diverged != NULL && wb_guard_last_good_step (guard) < 0)
        return wb_cli_fail (g_steal_pointer (&diverged));
    }
  if (!quiet && !json && !progress)
    g_printerr ("wavebench-cli: %" G_GINT64_FORMAT " steps in %.3f s (%.1f steps/s), simulated time %.6g s\n",
                steps, seconds, steps / MAX (seconds, 1e-9), wb_sim_time (sim));

  json_builder_begin_object (jb);
  json_builder_set_member_name (jb, "preset");
  json_builder_add_string_value (jb, preset->name);
  json_builder_set_member_name (jb, "solver");
  json_builder_add_string_value (jb, sim->klass->name);
  json_builder_set_member_name (jb, "backend");
  json_builder_add_string_value (jb, device->id);
  json_builder_set_member_name (jb, "device");
  json_builder_add_string_value (jb, device->name);
  json_builder_set_member_name (jb, "steps");
  json_builder_add_int_value (jb, steps);
  json_builder_set_member_name (jb, "dt");
  json_builder_add_double_value (jb, sim->dt);
  json_builder_set_member_name (jb, "time");
  json_builder_add_double_value (jb, wb_sim_time (sim));
  json_builder_set_member_name (jb, "seconds");
  json_builder_add_double_value (jb, seconds);
  json_builder_set_member_name (jb, "steps_per_second");
  json_builder_add_double_value (jb, steps / MAX (seconds, 1e-9));
  json_builder_set_member_name (jb, "outputs");
  json_builder_begin_array (jb);

  for (guint i = 0; pngs && pngs[i]; i++)
    {
      g_autofree char *f = NULL, *p = NULL;
      g_autoptr(WbField) field = NULL;
      WbRenderOptions o = ropts;

      split_output (pngs[i], "--png", &f, &p, NULL);
      field = diverged ? wb_guard_read_last_good (guard, f, &error) : wb_sim_read_field (sim, f, &error);
      if (field == NULL && diverged != NULL)
        {
          /* Nothing good to write: say so, and still report the blow-up. */
          g_printerr ("wavebench-cli: %s not written: %s\n", p, error->message);
          g_clear_error (&error);
          continue;
        }
      if (field == NULL)
        return wb_cli_fail (g_steal_pointer (&error));
      o.colormap = cmap_name ? forced_cmap : default_colormap (f);
      if (!wb_png_write_field (field, &o, p, &error))
        return wb_cli_fail (g_steal_pointer (&error));
      json_builder_add_string_value (jb, p);
      if (!quiet && !json)
        g_printerr ("wavebench-cli: wrote %s (%s%s)\n", p, f, diverged ? ", the last good state" : "");
    }
  for (guint i = 0; npys && npys[i]; i++)
    {
      g_autofree char *f = NULL, *p = NULL;
      g_autoptr(WbField) field = NULL;

      split_output (npys[i], "--npy", &f, &p, NULL);
      field = diverged ? wb_guard_read_last_good (guard, f, &error) : wb_sim_read_field (sim, f, &error);
      if (field == NULL && diverged != NULL)
        {
          /* Nothing good to write: say so, and still report the blow-up. */
          g_printerr ("wavebench-cli: %s not written: %s\n", p, error->message);
          g_clear_error (&error);
          continue;
        }
      if (field == NULL)
        return wb_cli_fail (g_steal_pointer (&error));
      if (!wb_npy_write_field (field, p, &error))
        return wb_cli_fail (g_steal_pointer (&error));
      json_builder_add_string_value (jb, p);
      if (!quiet && !json)
        g_printerr ("wavebench-cli: wrote %s (%s%s)\n", p, f, diverged ? ", the last good state" : "");
    }
  if (csv)
    {
      g_autoptr(GPtrArray) traces = wb_sim_read_traces (sim, &error);
      if (traces == NULL)
        return wb_cli_fail (g_steal_pointer (&error));
      if (!write_traces_csv (traces, csv, &error))
        return wb_cli_fail (g_steal_pointer (&error));
      json_builder_add_string_value (jb, csv);
    }
  json_builder_end_array (jb);
  if (diverged != NULL)
    return wb_cli_fail (g_steal_pointer (&diverged));

  json_builder_set_member_name (jb, "fields");
  json_builder_begin_object (jb);
  for (guint i = 0; sim->field_names[i]; i++)
    {
      g_autoptr(WbField) field = NULL;
      float lo, hi;
      gsize bad;

      if (!json)
        break;
      field = wb_sim_read_field (sim, sim->field_names[i], &error);
      if (field == NULL)
        return wb_cli_fail (g_steal_pointer (&error));
      bad = wb_field_range (field, &lo, &hi);
      json_builder_set_member_name (jb, sim->field_names[i]);
      json_builder_begin_object (jb);
      json_builder_set_member_name (jb, "min");
      json_builder_add_double_value (jb, lo);
      json_builder_set_member_name (jb, "max");
      json_builder_add_double_value (jb, hi);
      json_builder_set_member_name (jb, "non_finite");
      json_builder_add_int_value (jb, (gint64) bad);
      json_builder_set_member_name (jb, "units");
      json_builder_add_string_value (jb, field->units);
      json_builder_end_object (jb);
    }
  json_builder_end_object (jb);
  json_builder_end_object (jb);
  if (json)
    wb_cli_print_json (jb);
  return rc;
}

/* --- validate -------------------------------------------------------- */

static int
cmd_validate (int argc, char **argv)
{
  g_auto(GStrv) sets = NULL;
  GOptionEntry entries[] = {
    { "set", 's', 0, G_OPTION_ARG_STRING_ARRAY, &sets, "Override a preset value", "KEY=VALUE" },
    { NULL }
  };
  g_autoptr(GError) error = NULL;
  g_autoptr(WbPreset) preset = NULL;

  if (!wb_cli_parse_options ("PRESET", "Check a preset without running it.", entries, &argc, &argv))
    return 2;
  if (argc != 2)
    return wb_cli_usage_error ("validate: expected exactly one PRESET");
  preset = load_preset_with_overrides (argv[1], sets, &error);
  if (preset == NULL)
    return wb_cli_fail (g_steal_pointer (&error));
  if (g_strcmp0 (json_object_get_string_member_with_default (json_node_get_object (preset->root), "solver", ""), "pstm") != 0
      && !wb_sim_validate (preset, &error))
    return wb_cli_fail (g_steal_pointer (&error));
  g_print ("%s: valid\n", preset->name);
  return 0;
}

/* --- presets --------------------------------------------------------- */

static int
cmd_presets (int argc, char **argv)
{
  g_auto(GStrv) names = wb_preset_list_bundled ();

  for (guint i = 0; names[i]; i++)
    {
      g_autoptr(WbPreset) p = wb_preset_load (names[i], NULL);
      JsonObject *o = p ? json_node_get_object (p->root) : NULL;
      g_print ("%-28s %-5s %s\n", names[i],
               o ? json_object_get_string_member_with_default (o, "solver", "?") : "?",
               o ? json_object_get_string_member_with_default (o, "title", "") : "");
    }
  return 0;
}

/* --- bench ----------------------------------------------------------- */

typedef struct
{
  const char *solver;
  guint       dim;
  gsize       grid;
  guint       steps;
} BenchCase;

/* The read-back lines of `bench --readback`. */
static void
print_readback (WbSim                  *sim,
                const WbReadbackResult *rb)
{
  g_print ("      read-back of %s (%.1f MiB) every %u of %u steps, %s reads: %.3f s vs %.3f s without: "
           "overhead %+.1f%%\n", sim->default_field, rb->bytes_per_readback / 1048576.0, rb->every, rb->steps,
           rb->mode ? rb->mode : "?", rb->seconds_readback, rb->seconds_plain, 100.0 * rb->overhead);
  if (rb->kernel_seconds_readback > 0)
    g_print ("      kernel time (profiling events, %u launches): %.3f s with read-back, %.3f s without; "
             "wall / kernel = %.3f with read-back, %.3f without\n",
             rb->launches_readback, rb->kernel_seconds_readback, rb->kernel_seconds_plain,
             rb->seconds_readback / rb->kernel_seconds_readback,
             rb->kernel_seconds_plain > 0 ? rb->seconds_plain / rb->kernel_seconds_plain : 0.0);
  if (rb->captures > 0)
    {
      g_print ("      read-backs (profiling events, %u): staging copy %.1f us each (%.0f GB/s), "
               "read %.1f us each (%.1f GB/s)\n", rb->captures,
               1e6 * rb->copy_seconds / rb->captures,
               rb->copy_seconds > 0 ? 2e-9 * rb->bytes_per_readback * rb->captures / rb->copy_seconds : 0.0,
               1e6 * rb->read_seconds / rb->captures,
               rb->read_seconds > 0 ? 1e-9 * rb->bytes_per_readback * rb->captures / rb->read_seconds : 0.0);
      g_print ("      host clock per read-back: %.0f us stepping %u steps, %.0f us capturing, "
               "%.0f us waiting for a read, %.0f us copying into the field\n",
               1e6 * rb->host_step_seconds / rb->captures, rb->every,
               1e6 * rb->host_capture_seconds / rb->captures,
               1e6 * rb->host_wait_seconds / rb->captures, 1e6 * rb->host_memcpy_seconds / rb->captures);
    }
}

static gboolean
bench_case (const BenchCase *bc,
            WbDevice        *device,
            const char      *kernels,
            guint            readback,
            guint            readback_steps,
            const char      *readback_mode,
            JsonBuilder     *jb,
            gboolean         print,
            GError         **error)
{
  const char *preset_name;
  g_autoptr(WbPreset) preset = NULL;
  g_autoptr(WbSim) sim = NULL;
  g_autofree char *shape = NULL;
  g_autofree char *steps = NULL;
  WbBenchResult r;

  if (g_str_equal (bc->solver, "bhte"))
    preset_name = "bhte-focused-ultrasound";
  else if (g_str_equal (bc->solver, "vwe"))
    preset_name = bc->dim == 2 ? "vwe-point-source-2d" : "vwe-homogeneous-3d";
  else
    {
      g_set_error (error, WB_ERROR, WB_ERROR_INVALID,
                   "bench: unknown solver '%s' (bhte, vwe, pstm or all)", bc->solver);
      return FALSE;
    }
  preset = wb_preset_load (preset_name, error);
  if (preset == NULL)
    return FALSE;
  shape = bc->dim == 2 ? g_strdup_printf ("grid.shape=[%" G_GSIZE_FORMAT ",%" G_GSIZE_FORMAT "]", bc->grid, bc->grid)
                       : g_strdup_printf ("grid.shape=[%" G_GSIZE_FORMAT ",%" G_GSIZE_FORMAT ",%" G_GSIZE_FORMAT "]",
                                          bc->grid, bc->grid, bc->grid);
  steps = g_strdup_printf ("time.steps=%u", bc->steps);
  if (!wb_preset_set (preset, shape, error) || !wb_preset_set (preset, steps, error))
    return FALSE;
  /* vwe 3D, the issue 8 case: lossy (a memory variable per stress, Q about
   * 10 for P and S at the 150 kHz centre frequency), with the preset's
   * 10-cell PML on every face. */
  if (g_str_equal (bc->solver, "vwe") && bc->dim == 3
      && (!wb_preset_set (preset, "materials[0].alphaL=20", error)
          || !wb_preset_set (preset, "materials[0].alphaS=40", error)))
    return FALSE;
  sim = wb_sim_new (preset, device, kernels, error);
  if (sim == NULL)
    return FALSE;
  if (!wb_bench_sim (sim, bc->steps, MIN (bc->steps, 5u), &r, error))
    return FALSE;

  if (print && g_str_equal (bc->solver, "vwe"))
    g_print ("case: %s%s\n", preset_name,
             bc->dim == 3 ? " with attenuation (alphaL 20, alphaS 40 Np/m), PML 10 cells" : "");
  if (print)
    {
      g_print ("%-5s %dD %5" G_GSIZE_FORMAT "^%d  %-12s %6u steps  %10.4g cell updates/s  %5.1f B/cell  %8.2f GB/s",
               bc->solver, bc->dim, bc->grid, bc->dim, device->id, r.steps, r.cell_updates_per_s,
               r.bytes_per_cell, r.gbytes_per_s);
      if (r.copy_bandwidth > 0)
        g_print ("  %5.1f%% of copy (%.1f GB/s)", r.percent_of_copy, r.copy_bandwidth);
      g_print ("\n");
    }
  json_builder_begin_object (jb);
  json_builder_set_member_name (jb, "solver");
  json_builder_add_string_value (jb, bc->solver);
  json_builder_set_member_name (jb, "dim");
  json_builder_add_int_value (jb, bc->dim);
  json_builder_set_member_name (jb, "grid");
  json_builder_add_int_value (jb, bc->grid);
  json_builder_set_member_name (jb, "steps");
  json_builder_add_int_value (jb, r.steps);
  json_builder_set_member_name (jb, "seconds");
  json_builder_add_double_value (jb, r.seconds);
  json_builder_set_member_name (jb, "cell_updates_per_s");
  json_builder_add_double_value (jb, r.cell_updates_per_s);
  json_builder_set_member_name (jb, "bytes_per_cell");
  json_builder_add_double_value (jb, r.bytes_per_cell);
  json_builder_set_member_name (jb, "gbytes_per_s");
  json_builder_add_double_value (jb, r.gbytes_per_s);
  json_builder_set_member_name (jb, "percent_of_copy");
  json_builder_add_double_value (jb, r.percent_of_copy);

  if (readback > 0)
    {
      /* --readback-mode all: one run per WAVEBENCH_SNAPSHOT_MODE (how the
       * host gets the field), the first one's numbers as the members. */
      static const char * const all_modes[] = { "thread", "event", "inline", "map" };
      gboolean all = readback_mode != NULL && g_str_equal (readback_mode, "all");
      guint n_runs = all ? G_N_ELEMENTS (all_modes) : 1;
      g_autofree WbReadbackResult *runs = g_new0 (WbReadbackResult, n_runs);
      WbReadbackResult rb;

      for (guint m = 0; m < n_runs; m++)
        {
          WbReadbackResult *r = &runs[m];

          if (all)
            g_setenv ("WAVEBENCH_SNAPSHOT_MODE", all_modes[m], TRUE);
          else if (readback_mode != NULL)
            g_setenv ("WAVEBENCH_SNAPSHOT_MODE", readback_mode, TRUE);
          if (!wb_bench_readback (sim, sim->default_field, readback_steps, readback, r, error))
            return FALSE;
          if (print)
            print_readback (sim, r);
        }
      rb = runs[0];
      json_builder_set_member_name (jb, "readback_runs");
      json_builder_begin_array (jb);
      for (guint m = 0; m < n_runs; m++)
        {
          const WbReadbackResult *r = &runs[m];

          json_builder_begin_object (jb);
          json_builder_set_member_name (jb, "mode");
          json_builder_add_string_value (jb, r->mode ? r->mode : "");
          json_builder_set_member_name (jb, "seconds_plain");
          json_builder_add_double_value (jb, r->seconds_plain);
          json_builder_set_member_name (jb, "seconds_readback");
          json_builder_add_double_value (jb, r->seconds_readback);
          json_builder_set_member_name (jb, "kernel_seconds_readback");
          json_builder_add_double_value (jb, r->kernel_seconds_readback);
          json_builder_set_member_name (jb, "host_step_seconds");
          json_builder_add_double_value (jb, r->host_step_seconds);
          json_builder_set_member_name (jb, "host_capture_seconds");
          json_builder_add_double_value (jb, r->host_capture_seconds);
          json_builder_set_member_name (jb, "host_wait_seconds");
          json_builder_add_double_value (jb, r->host_wait_seconds);
          json_builder_set_member_name (jb, "host_memcpy_seconds");
          json_builder_add_double_value (jb, r->host_memcpy_seconds);
          json_builder_end_object (jb);
        }
      json_builder_end_array (jb);
      json_builder_set_member_name (jb, "readback_every");
      json_builder_add_int_value (jb, rb.every);
      json_builder_set_member_name (jb, "readback_steps");
      json_builder_add_int_value (jb, rb.steps);
      json_builder_set_member_name (jb, "seconds_plain");
      json_builder_add_double_value (jb, rb.seconds_plain);
      json_builder_set_member_name (jb, "seconds_readback");
      json_builder_add_double_value (jb, rb.seconds_readback);
      json_builder_set_member_name (jb, "readback_overhead");
      json_builder_add_double_value (jb, rb.overhead);
      if (rb.kernel_seconds_readback > 0)
        {
          json_builder_set_member_name (jb, "kernel_seconds_plain");
          json_builder_add_double_value (jb, rb.kernel_seconds_plain);
          json_builder_set_member_name (jb, "kernel_seconds_readback");
          json_builder_add_double_value (jb, rb.kernel_seconds_readback);
          json_builder_set_member_name (jb, "readback_wall_over_kernel");
          json_builder_add_double_value (jb, rb.seconds_readback / rb.kernel_seconds_readback);
        }
      if (rb.captures > 0)
        {
          json_builder_set_member_name (jb, "readback_copy_seconds");
          json_builder_add_double_value (jb, rb.copy_seconds);
          json_builder_set_member_name (jb, "readback_read_seconds");
          json_builder_add_double_value (jb, rb.read_seconds);
          json_builder_set_member_name (jb, "readback_captures");
          json_builder_add_int_value (jb, rb.captures);
        }
    }
  json_builder_end_object (jb);
  return TRUE;
}

static int
cmd_bench (int argc, char **argv)
{
  g_autofree char *backend = NULL, *kernels = NULL, *tune = NULL, *report = NULL, *cache_path = NULL;
  g_autofree char *readback_mode = NULL;
  gint grid = 0, dim = 3, steps = 0, readback = 0, readback_steps = 12000, reads = 17, writes = 14;
  gboolean json = FALSE, no_bw = FALSE, in_place = FALSE;
  GOptionEntry entries[] = {
    { "backend", 'b', 0, G_OPTION_ARG_STRING, &backend, "Backend id or auto", "ID" },
    { "grid", 'g', 0, G_OPTION_ARG_INT, &grid, "Cells per axis", "N" },
    { "dim", 'd', 0, G_OPTION_ARG_INT, &dim, "2 or 3 (vwe)", "D" },
    { "steps", 'n', 0, G_OPTION_ARG_INT, &steps, "Timed steps", "S" },
    { "readback", 'r', 0, G_OPTION_ARG_INT, &readback, "Also time reading the field back every K steps", "K" },
    { "readback-steps", 0, 0, G_OPTION_ARG_INT, &readback_steps, "Steps of the read-back run (default 12000)", "S" },
    { "readback-mode", 0, 0, G_OPTION_ARG_STRING, &readback_mode,
      "How the host gets the field: thread (default), event, inline, map, or all (one run each)", "MODE" },
    { "no-bandwidth", 0, 0, G_OPTION_ARG_NONE, &no_bw, "Skip measuring copy bandwidth", NULL },
    { "reads", 0, 0, G_OPTION_ARG_INT, &reads, "streams: arrays read per cell (default 17, vwe's stress kernel)", "R" },
    { "writes", 0, 0, G_OPTION_ARG_INT, &writes, "streams: arrays written per cell (default 14)", "W" },
    { "in-place", 0, 0, G_OPTION_ARG_NONE, &in_place, "streams: write back into the first W arrays read", NULL },
    { "kernels", 'k', 0, G_OPTION_ARG_FILENAME, &kernels, "Load kernels from this directory", "DIR" },
    { "tune", 0, 0, G_OPTION_ARG_STRING, &tune,
      "Launch tuning for this run: auto (cache, else measure), off (defaults) or force (measure now)", "POLICY" },
    { "json", 0, 0, G_OPTION_ARG_NONE, &json, "Print JSON", NULL },
    { NULL }
  };
  g_autoptr(GError) error = NULL;
  g_autoptr(WbDevice) device = NULL;
  g_autoptr(JsonBuilder) jb = json_builder_new ();
  const char *what;
  /* Freed on every return, the usage errors included (ASan found the leak). */
  g_autoptr(GArray) cases = g_array_new (FALSE, TRUE, sizeof (BenchCase));

  if (argc >= 2 && g_str_equal (argv[1], "pstm"))
    return wb_cli_bench_pstm (argc - 1, argv + 1);

  if (!wb_cli_parse_options ("SOLVER|all|streams", "Measure cell updates/s against the device's copy bandwidth.\n"
                      "Minimal bytes per cell per step are stated by each solver.\n"
                      "streams: the bandwidth of a kernel reading R and writing W arrays of grid^3 floats,\n"
                      "one float of each per work-item (a solver kernel's access pattern, no stencil).",
                      entries, &argc, &argv))
    return 2;
  if (argc != 2)
    return wb_cli_usage_error ("bench: expected one of bhte, vwe, pstm, all");
  what = argv[1];
  if (dim != 2 && dim != 3)
    return wb_cli_usage_error ("--dim %d: expected 2 or 3", dim);
  if (grid < 0 || grid > 65536 || steps < 0 || readback < 0 || readback_steps <= 0)
    return wb_cli_usage_error ("bench: --grid, --steps and --readback must be positive");
  if (readback_mode != NULL && !g_str_equal (readback_mode, "thread") && !g_str_equal (readback_mode, "inline")
      && !g_str_equal (readback_mode, "map") && !g_str_equal (readback_mode, "event")
      && !g_str_equal (readback_mode, "all"))
    return wb_cli_usage_error ("--readback-mode %s: expected thread, event, inline, map or all", readback_mode);
  if (tune != NULL)
    {
      if (!g_str_equal (tune, "auto") && !g_str_equal (tune, "off") && !g_str_equal (tune, "force"))
        return wb_cli_usage_error ("--tune %s: expected auto, off or force", tune);
      /* wb-tune reads the policy from the environment at each choice. */
      g_setenv ("WAVEBENCH_TUNE", tune, TRUE);
    }

  if (g_str_equal (what, "all"))
    {
      BenchCase all[] = {
        { "bhte", 3, grid ? grid : 256, steps ? steps : 50 },
        { "vwe", 2, grid ? grid : 4096, steps ? steps : 20 },
        { "vwe", 3, grid ? grid : 256, steps ? steps : 10 },
      };
      g_array_append_vals (cases, all, G_N_ELEMENTS (all));
    }
  else if (g_str_equal (what, "bhte"))
    {
      BenchCase c = { "bhte", 3, grid ? grid : 128, steps ? steps : 50 };
      g_array_append_val (cases, c);
    }
  else if (g_str_equal (what, "vwe"))
    {
      BenchCase c = { "vwe", dim, grid ? grid : (dim == 2 ? 1024 : 128), steps ? steps : 20 };
      g_array_append_val (cases, c);
    }
  else if (g_str_equal (what, "streams"))
    {
      if (reads < 1 || writes < 1 || reads + writes > 64)
        return wb_cli_usage_error ("bench streams: --reads %d --writes %d: expected 1 or more of each, at most 64 in all",
                                   reads, writes);
      if (in_place && writes > reads)
        return wb_cli_usage_error ("bench streams --in-place: --writes %d is more than --reads %d", writes, reads);
    }
  else
    return wb_cli_usage_error ("bench: unknown solver '%s' (bhte, vwe, pstm, all or streams)", what);

  device = pick_device (backend, json, &error);
  if (device == NULL)
    return wb_cli_fail (g_steal_pointer (&error));
  if (g_str_equal (what, "all") && grid == 0 && steps == 0 && !wb_device_is_reference (device)
      && device->kind != WB_DEVICE_KIND_CPU)
    {
      /* GPUs: issue 8's sizes, bhte at 256^3 and 512^3, and runs long
       * enough (tens of ms) that a launch's jitter does not move the
       * figure; CPU devices keep the short defaults. */
      BenchCase gpu[] = {
        { "bhte", 3, 256, 400 },
        { "bhte", 3, 512, 50 },
        { "vwe", 2, 4096, 100 },
        { "vwe", 3, 256, 50 },
      };
      g_array_set_size (cases, 0);
      for (guint i = 0; i < G_N_ELEMENTS (gpu); i++)
        /* 512^3 needs ~2.3 GB (two T, dose, source, material): asked of
         * devices with 8 GiB or more. */
        if (gpu[i].grid < 512 || device->global_mem_size >= ((guint64) 8 << 30))
          g_array_append_val (cases, gpu[i]);
    }
  if (!no_bw && wb_device_measure_bandwidth (device, &error) <= 0 && error)
    {
      g_printerr ("wavebench-cli: copy bandwidth not measured: %s\n", error->message);
      g_clear_error (&error);
    }
  if (!json)
    {
      g_print ("device: %s (%s), driver %s, %s\n", device->id, device->name, device->driver_version,
               device->device_version);
      g_print ("build options: %s\n", wb_device_is_reference (device) ? "(reference: C compiler flags)" : WB_CL_BUILD_OPTIONS);
      if (device->copy_bandwidth > 0)
        g_print ("copy bandwidth: %.2f GB/s (bytes read + written)\n", device->copy_bandwidth);
    }
  json_builder_begin_object (jb);
  json_builder_set_member_name (jb, "backend");
  json_builder_add_string_value (jb, device->id);
  json_builder_set_member_name (jb, "device");
  json_builder_add_string_value (jb, device->name);
  json_builder_set_member_name (jb, "driver");
  json_builder_add_string_value (jb, device->driver_version);
  json_builder_set_member_name (jb, "build_options");
  json_builder_add_string_value (jb, WB_CL_BUILD_OPTIONS);
  json_builder_set_member_name (jb, "copy_bandwidth_gbs");
  json_builder_add_double_value (jb, device->copy_bandwidth);
  if (g_str_equal (what, "streams"))
    {
      gsize n = grid ? grid : 256;
      double gbs, percent;

      n = n * n * n;
      gbs = wb_device_measure_streams (device, reads, writes, in_place, n, &error);
      if (gbs <= 0)
        return wb_cli_fail (g_steal_pointer (&error));
      percent = device->copy_bandwidth > 0 ? 100.0 * gbs / device->copy_bandwidth : 0.0;
      if (!json)
        g_print ("streams  %d reads + %d writes%s of %" G_GSIZE_FORMAT " floats   %.2f GB/s   %.1f%% of copy\n",
                 reads, writes, in_place ? " in place" : "", n, gbs, percent);
      json_builder_set_member_name (jb, "streams");
      json_builder_begin_object (jb);
      json_builder_set_member_name (jb, "reads");
      json_builder_add_int_value (jb, reads);
      json_builder_set_member_name (jb, "writes");
      json_builder_add_int_value (jb, writes);
      json_builder_set_member_name (jb, "in_place");
      json_builder_add_boolean_value (jb, in_place);
      json_builder_set_member_name (jb, "cells");
      json_builder_add_int_value (jb, n);
      json_builder_set_member_name (jb, "gbytes_per_s");
      json_builder_add_double_value (jb, gbs);
      json_builder_set_member_name (jb, "percent_of_copy");
      json_builder_add_double_value (jb, percent);
      json_builder_end_object (jb);
      json_builder_end_object (jb);
      if (json)
        wb_cli_print_json (jb);
      return 0;
    }
  json_builder_set_member_name (jb, "results");
  json_builder_begin_array (jb);
  for (guint i = 0; i < cases->len; i++)
    {
      BenchCase *bc = &g_array_index (cases, BenchCase, i);
      if (!bench_case (bc, device, kernels, readback, readback_steps, readback_mode, jb, !json, &error))
        return wb_cli_fail (g_steal_pointer (&error));
    }
  /* Migration: arithmetic-bound, in contributions/s (its own row). */
  if (g_str_equal (what, "all") && !wb_cli_bench_pstm_row (device, kernels, jb, !json, &error))
    return wb_cli_fail (g_steal_pointer (&error));
  json_builder_end_array (jb);
  /* Which launch configurations ran, and every candidate's time when
   * they were measured in this run. */
  report = wb_tune_report ();
  json_builder_set_member_name (jb, "tuning");
  json_builder_add_string_value (jb, report);
  if (!json && *report)
    g_print ("tuning (WAVEBENCH_TUNE=%s, cache %s):\n%s", g_getenv ("WAVEBENCH_TUNE") ? g_getenv ("WAVEBENCH_TUNE") : "auto",
             cache_path = wb_tune_cache_path (), report);
  json_builder_end_object (jb);
  if (json)
    wb_cli_print_json (jb);
  return 0;
}

/* --- main ------------------------------------------------------------ */

typedef struct
{
  const char *name;
  int       (*func) (int argc, char **argv);
  const char *help;
} Command;

static const Command commands[] = {
  { "run", cmd_run, "Run a preset and export fields" },
  { "validate", cmd_validate, "Check a preset without running it" },
  { "devices", cmd_devices, "List backends (--bandwidth to measure them)" },
  { "bench", cmd_bench, "Benchmark a solver (bhte, vwe, pstm, all)" },
  { "presets", cmd_presets, "List the bundled presets" },
  { "debug", wb_cli_debug, "Kernel debugging: coverage, probes, diff, launch" },
  { "synth", wb_cli_synth, "Write synthetic seismic data as SEG-Y" },
  { "migrate", wb_cli_migrate, "Kirchhoff pre-stack time migration of a SEG-Y file" },
};

static void
print_usage (FILE *out)
{
  fprintf (out, "Usage: wavebench-cli COMMAND [OPTIONS...]\n\nCommands:\n");
  for (guint i = 0; i < G_N_ELEMENTS (commands); i++)
    fprintf (out, "  %-10s %s\n", commands[i].name, commands[i].help);
  fprintf (out, "\nRun `wavebench-cli COMMAND --help` for a command's options.\n");
}

int
main (int argc, char **argv)
{
  setlocale (LC_ALL, "");
  /* Numbers in files and JSON stay in the C locale whatever the user's. */
  setlocale (LC_NUMERIC, "C");

  if (argc < 2)
    {
      print_usage (stderr);
      return 2;
    }
  if (g_str_equal (argv[1], "--help") || g_str_equal (argv[1], "-h") || g_str_equal (argv[1], "help"))
    {
      print_usage (stdout);
      return 0;
    }
  if (g_str_equal (argv[1], "--version"))
    {
      g_print ("wavebench-cli %s\n", PACKAGE_VERSION);
      return 0;
    }
  for (guint i = 0; i < G_N_ELEMENTS (commands); i++)
    if (g_str_equal (argv[1], commands[i].name))
      return commands[i].func (argc - 1, argv + 1);
  g_printerr ("wavebench-cli: error: unknown command '%s'\n\n", argv[1]);
  print_usage (stderr);
  return 2;
}
