/* wb-cli-debug.c: `wavebench-cli debug coverage|probes|diff|launch PRESET`,
 * the kernel debugging tools (src/core/wb-probe.h, wb-compare.h,
 * wb-launch.h) as text or JSON.  docs/debugging.md walks through them. */
#define G_LOG_DOMAIN "wavebench-cli"
#include "config.h"

#include <locale.h>
#include <stdio.h>
#include <string.h>

#include "wb-cli.h"
#include "wb-cli-common.h"
#include "wb-compare.h"
#include "wb-error.h"
#include "wb-launch.h"
#include "wb-probe.h"
#include "wb-render.h"
#include "wb-sim.h"

typedef struct
{
  char     *backend;
  char     *against;
  char     *kernels;
  char    **sets;
  char     *variant;
  char     *local;
  char     *field;
  char     *sentinel;
  char     *png;
  gint64    steps;
  gint64    slice;
  double    tolerance;
  gboolean  all_steps;
  gboolean  json;
} DebugOptions;

/* Loads the preset, applies --set, --variant and --local into its "debug"
 * section (so that wb_sim_new applies them on OpenCL only), and creates
 * the sim on @backend. */
static WbSim *
make_sim (const DebugOptions  *o,
          const char          *preset_name,
          const char          *backend,
          gboolean             apply_debug,
          GError             **error)
{
  g_autoptr(WbPreset) preset = wb_preset_load (preset_name, error);
  g_autoptr(GPtrArray) devices = NULL;
  g_autoptr(WbDevice) device = NULL;
  g_autofree char *notice = NULL;
  JsonObject *root;

  if (preset == NULL)
    return NULL;
  for (guint i = 0; o->sets && o->sets[i]; i++)
    if (!wb_preset_set (preset, o->sets[i], error))
      return NULL;
  root = json_node_get_object (preset->root);
  if (!apply_debug)
    json_object_remove_member (root, "debug");
  else if (o->variant || o->local)
    {
      JsonObject *dbg;
      gsize local[3];

      if (!json_object_has_member (root, "debug"))
        json_object_set_object_member (root, "debug", json_object_new ());
      dbg = json_object_get_object_member (root, "debug");
      if (dbg == NULL)
        {
          g_set_error (error, WB_ERROR, WB_ERROR_INVALID, "debug: expected an object");
          return NULL;
        }
      if (o->variant)
        json_object_set_string_member (dbg, "variant", o->variant);
      if (o->local)
        {
          JsonArray *a = json_array_new ();

          if (!wb_kernel_config_parse_local (o->local, local, error))
            {
              json_array_unref (a);
              return NULL;
            }
          for (guint d = 0; d < 3; d++)
            json_array_add_int_element (a, (gint64) local[d]);
          json_object_set_array_member (dbg, "local_size", a);
        }
    }
  if (o->kernels && !wb_kernel_dir_check (o->kernels, error))
    return NULL;
  devices = wb_device_list (&notice);
  if (notice)
    g_printerr ("wavebench-cli: %s\n", notice);
  device = wb_device_lookup (devices, backend ? backend : "auto", NULL, error);
  if (device == NULL)
    return NULL;
  return wb_sim_new (preset, device, o->kernels, error);
}

static gboolean
write_png (const DebugOptions  *o,
           const WbField       *field,
           WbColormap           cmap,
           gboolean             fixed,
           double               vmin,
           double               vmax,
           const char          *title,
           GError             **error)
{
  WbRenderOptions ropts;

  if (o->png == NULL)
    return TRUE;
  wb_render_options_init (&ropts);
  ropts.colormap = cmap;
  ropts.fixed_range = fixed;
  ropts.vmin = vmin;
  ropts.vmax = vmax;
  ropts.slice_axis = 2;
  ropts.slice_index = o->slice;
  ropts.title = title;
  if (!wb_png_write_field (field, &ropts, o->png, error))
    return FALSE;
  g_printerr ("wavebench-cli: wrote %s\n", o->png);
  return TRUE;
}

/* Runs @steps plain steps first, so a measurement can look at a later
 * launch (the ping-pong buffers alternate). */
static gboolean
advance (WbSim        *sim,
         gint64        steps,
         GError      **error)
{
  return steps <= 0 || (wb_sim_step (sim, (guint) steps, error) && wb_sim_finish (sim, error));
}

static int
do_coverage (const DebugOptions *o,
             const char         *preset)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(WbSim) sim = make_sim (o, preset, o->backend, TRUE, &error);
  g_autoptr(WbCoverage) cov = NULL;
  g_autoptr(JsonBuilder) b = NULL;
  WbLaunchReport launch;
  float sentinel = wb_sentinel_default ();
  const char *field;

  if (sim == NULL)
    return wb_cli_fail (g_steal_pointer (&error));
  field = o->field ? o->field : sim->default_field;
  if (o->sentinel && !wb_sentinel_parse (o->sentinel, &sentinel, &error))
    return wb_cli_fail (g_steal_pointer (&error));
  if (!advance (sim, o->steps, &error))
    return wb_cli_fail (g_steal_pointer (&error));
  cov = wb_coverage_measure (sim, field, sentinel, &error);
  if (cov == NULL)
    return wb_cli_fail (g_steal_pointer (&error));
  if (!write_png (o, cov->map, WB_COLORMAP_GRAY, TRUE, 0.0, 1.0,
                  "coverage (white written, black unwritten)", &error))
    return wb_cli_fail (g_steal_pointer (&error));
  if (o->json)
    {
      b = json_builder_new ();
      json_builder_begin_object (b);
      json_builder_set_member_name (b, "coverage");
      wb_coverage_to_json (cov, b);
      if (wb_launch_last (sim, &launch))
        {
          json_builder_set_member_name (b, "launch");
          wb_launch_report_to_json (&launch, b);
        }
      json_builder_end_object (b);
      wb_cli_print_json (b);
    }
  else
    {
      g_autofree char *text = wb_coverage_format (cov);
      g_print ("%s", text);
      if (wb_launch_last (sim, &launch))
        {
          g_autofree char *lt = wb_launch_report_format (&launch);
          g_print ("%s", lt);
        }
    }
  return 0;
}

static int
do_probes (const DebugOptions *o,
           const char         *preset)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(WbSim) sim = make_sim (o, preset, o->backend, TRUE, &error);
  g_autoptr(WbProbeReport) rep = NULL;

  if (sim == NULL)
    return wb_cli_fail (g_steal_pointer (&error));
  if (!wb_probe_enable (sim, &error) || !advance (sim, o->steps, &error))
    return wb_cli_fail (g_steal_pointer (&error));
  rep = wb_probe_measure (sim, &error);
  if (rep == NULL)
    return wb_cli_fail (g_steal_pointer (&error));
  if (!write_png (o, rep->map, WB_COLORMAP_VIRIDIS, TRUE, 0.0, MAX (rep->max_checkpoint, 1),
                  "highest checkpoint reached", &error))
    return wb_cli_fail (g_steal_pointer (&error));
  if (o->json)
    {
      g_autoptr(JsonBuilder) b = json_builder_new ();
      json_builder_begin_object (b);
      json_builder_set_member_name (b, "probes");
      wb_probe_report_to_json (rep, b);
      json_builder_end_object (b);
      wb_cli_print_json (b);
    }
  else
    {
      g_autofree char *text = wb_probe_report_format (rep);
      g_print ("%s", text);
    }
  return 0;
}

static int
do_diff (const DebugOptions *o,
         const char         *preset)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(WbSim) a = make_sim (o, preset, o->backend, TRUE, &error);
  g_autoptr(WbSim) b = a ? make_sim (o, preset, o->against ? o->against : "reference", FALSE, &error) : NULL;
  g_autoptr(WbCompareReport) rep = NULL;
  const char *fields[2] = { o->field, NULL };
  gint64 steps = o->steps > 0 ? o->steps : 10;

  if (b == NULL)
    return wb_cli_fail (g_steal_pointer (&error));
  rep = wb_compare_run (a, b, (guint64) steps, o->field ? fields : NULL, o->tolerance,
                        !o->all_steps, NULL, NULL, &error);
  if (rep == NULL)
    return wb_cli_fail (g_steal_pointer (&error));
  if (o->png)
    {
      const char *name = rep->exceeded ? rep->first_field : o->field ? o->field : a->default_field;
      WbCompareField *f = wb_compare_report_field (rep, name);

      if (f && !write_png (o, f->error_map, WB_COLORMAP_HOT, FALSE, 0, 0, f->error_map->name, &error))
        return wb_cli_fail (g_steal_pointer (&error));
    }
  if (o->json)
    {
      g_autoptr(JsonBuilder) jb = json_builder_new ();
      json_builder_begin_object (jb);
      json_builder_set_member_name (jb, "diff");
      wb_compare_report_to_json (rep, jb);
      json_builder_end_object (jb);
      wb_cli_print_json (jb);
    }
  else
    {
      g_autofree char *text = wb_compare_report_format (rep);
      g_print ("%s", text);
    }
  return 0;
}

static int
do_launch (const DebugOptions *o,
           const char         *preset)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(WbSim) sim = make_sim (o, preset, o->backend, TRUE, &error);
  WbLaunchReport plan, last;
  gboolean ran;

  if (sim == NULL)
    return wb_cli_fail (g_steal_pointer (&error));
  if (!wb_launch_plan (sim, &plan, &error))
    return wb_cli_fail (g_steal_pointer (&error));
  /* Flags come before running; a launch over the limit is not attempted. */
  ran = !(plan.flags & (WB_LAUNCH_OVER_WG_LIMIT | WB_LAUNCH_OVER_ITEM_SIZE)) && o->steps != 0;
  if (ran && !advance (sim, MAX (o->steps, 1), &error))
    return wb_cli_fail (g_steal_pointer (&error));
  ran = ran && wb_launch_last (sim, &last);
  if (o->json)
    {
      g_autoptr(JsonBuilder) b = json_builder_new ();
      json_builder_begin_object (b);
      json_builder_set_member_name (b, "planned");
      wb_launch_report_to_json (&plan, b);
      json_builder_set_member_name (b, "last");
      if (ran)
        wb_launch_report_to_json (&last, b);
      else
        json_builder_add_null_value (b);
      json_builder_end_object (b);
      wb_cli_print_json (b);
    }
  else
    {
      g_autofree char *text = wb_launch_report_format (ran ? &last : &plan);
      g_print ("%s", text);
    }
  return 0;
}

int
wb_cli_debug (int argc, char **argv)
{
  DebugOptions o = { 0 };
  GOptionEntry entries[] = {
    { "backend", 'b', 0, G_OPTION_ARG_STRING, &o.backend, "Backend id (see `devices`) or auto", "ID" },
    { "against", 0, 0, G_OPTION_ARG_STRING, &o.against, "diff: the other backend (default reference)", "ID" },
    { "kernels", 'k', 0, G_OPTION_ARG_FILENAME, &o.kernels, "Load kernels from this directory", "DIR" },
    { "set", 's', 0, G_OPTION_ARG_STRING_ARRAY, &o.sets, "Override a preset value", "KEY=VALUE" },
    { "variant", 0, 0, G_OPTION_ARG_STRING, &o.variant,
      "Kernel variant: none, early-bounds or grid-in-groups", "NAME" },
    { "local", 0, 0, G_OPTION_ARG_STRING, &o.local, "Override the local size", "AxBxC" },
    { "steps", 'n', 0, G_OPTION_ARG_INT64, &o.steps,
      "coverage, probes, launch: steps before the measured one; diff: steps to compare (10)", "N" },
    { "field", 'f', 0, G_OPTION_ARG_STRING, &o.field,
      "coverage: the output to fill (default field); diff: compare only this field", "NAME" },
    { "sentinel", 0, 0, G_OPTION_ARG_STRING, &o.sentinel, "coverage: nan (default) or a value", "VALUE" },
    { "tolerance", 't', 0, G_OPTION_ARG_DOUBLE, &o.tolerance,
      "diff: allowed error relative to each field's max |value| (1e-4)", "REL" },
    { "all-steps", 0, 0, G_OPTION_ARG_NONE, &o.all_steps, "diff: keep going past the first excess", NULL },
    { "png", 0, 0, G_OPTION_ARG_FILENAME, &o.png, "Write the coverage, probe or error map as PNG", "PATH" },
    { "slice", 0, 0, G_OPTION_ARG_INT64, &o.slice, "z index of 3D maps for --png (default middle)", "K" },
    { "json", 0, 0, G_OPTION_ARG_NONE, &o.json, "Print JSON", NULL },
    { NULL }
  };
  g_autoptr(GOptionContext) ctx = g_option_context_new ("coverage|probes|diff|launch PRESET");
  g_autoptr(GError) error = NULL;
  int rc;

  o.tolerance = 1e-4;
  o.slice = -1;
  o.steps = -1;
  g_option_context_set_summary (ctx,
    "Kernel debugging tools (docs/debugging.md):\n"
    "  coverage  fill an output with a sentinel, run one launch, map the cells never written\n"
    "  probes    build with WB_PROBE checkpoints, map the highest checkpoint per work-item\n"
    "  diff      run two backends in lockstep, report errors and the first step/field/cell over tolerance\n"
    "  launch    global/local sizes, work-group limit, padding, cells without a work-item");
  g_option_context_add_main_entries (ctx, entries, NULL);
  if (!g_option_context_parse (ctx, &argc, &argv, &error))
    {
      g_printerr ("wavebench-cli: error: %s\n", error->message);
      return 2;
    }
  if (argc != 3)
    return wb_cli_usage_error ("debug: expected coverage, probes, diff or launch, then a PRESET");
  if (o.variant && !g_strv_contains ((const char * const[]) { "none", "early-bounds", "grid-in-groups", NULL },
                                      o.variant))
    return wb_cli_usage_error ("--variant: expected none, early-bounds or grid-in-groups");
  if (o.tolerance < 0)
    return wb_cli_usage_error ("--tolerance: must be 0 or more");
  if (g_str_equal (argv[1], "coverage"))
    rc = do_coverage (&o, argv[2]);
  else if (g_str_equal (argv[1], "probes"))
    rc = do_probes (&o, argv[2]);
  else if (g_str_equal (argv[1], "diff"))
    rc = do_diff (&o, argv[2]);
  else if (g_str_equal (argv[1], "launch"))
    rc = do_launch (&o, argv[2]);
  else
    rc = wb_cli_usage_error ("debug: expected coverage, probes, diff or launch");
  g_free (o.backend);
  g_free (o.against);
  g_free (o.kernels);
  g_strfreev (o.sets);
  g_free (o.variant);
  g_free (o.local);
  g_free (o.field);
  g_free (o.sentinel);
  g_free (o.png);
  return rc;
}
