/* test-debug.c: the kernel debugging tools (wb-probe, wb-compare,
 * wb-launch) on the bhte solver and its deliberately broken variants.
 *
 * The counts are exact, not approximate: a cell is written or it is not,
 * a work-item reached a checkpoint or it did not, so every assertion on
 * coverage and probes is an equality derived independently from the
 * launch geometry or the kernel's conditions.  Tests need an OpenCL
 * device and skip cleanly without one. */
#include "config.h"

#include <glib/gstdio.h>
#include <math.h>
#include <string.h>

#include "wb-compare.h"
#include "wb-device.h"
#include "wb-error.h"
#include "wb-launch.h"
#include "wb-probe.h"
#include "wb-render.h"
#include "wb-sim.h"
#include "wb-test-devices.h"

#define NEED_OPENCL(dev)                          \
  g_autoptr(WbDevice) dev = opencl_device ();     \
  if (dev == NULL)                                \
    {                                             \
      g_test_skip ("no OpenCL device");           \
      return;                                     \
    }

static WbSim *
sim_from (const char *preset_name,
          WbDevice   *device,
          const char *set1,
          const char *set2)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(WbPreset) preset = wb_preset_load (preset_name, &error);
  WbSim *sim;

  g_assert_no_error (error);
  if (set1)
    g_assert_true (wb_preset_set (preset, set1, &error));
  if (set2)
    g_assert_true (wb_preset_set (preset, set2, &error));
  g_assert_no_error (error);
  sim = wb_sim_new (preset, device, NULL, &error);
  g_assert_no_error (error);
  g_assert_nonnull (sim);
  return sim;
}

/* Cells that get a work-item when the host passes ceil(n/l) (work-groups)
 * as the global size, which the runtime rounds up to a multiple of l. */
static guint64
covered_by_groups (const gsize *n,
                   const gsize *l)
{
  guint64 covered = 1;

  for (guint d = 0; d < 3; d++)
    {
      gsize groups = (n[d] + l[d] - 1) / l[d];
      gsize global = (groups + l[d] - 1) / l[d] * l[d];
      covered *= MIN (global, n[d]);
    }
  return covered;
}

static void
test_grid_in_groups (void)
{
  NEED_OPENCL (dev);
  g_autoptr(GError) error = NULL;
  g_autoptr(WbSim) sim = sim_from ("early-return", dev, NULL, NULL);
  g_autoptr(WbCoverage) cov = NULL;
  g_autoptr(WbProbeReport) probes = NULL;
  const gsize n[3] = { 40, 40, 24 }, l[3] = { 8, 8, 1 };
  guint64 covered = covered_by_groups (n, l);
  WbLaunchReport plan, last;

  g_assert_cmpuint (sim->shape[0], ==, 40);
  /* 5 x 5 x 24 groups' worth of work-items, rounded up to 8 x 8 x 24. */
  g_assert_cmpuint (covered, ==, 8 * 8 * 24);

  /* Flagged before running. */
  g_assert_true (wb_launch_plan (sim, &plan, &error));
  g_assert_no_error (error);
  g_assert_true (plan.flags & WB_LAUNCH_UNDERCOVERS);
  g_assert_cmpuint (plan.covered, ==, covered);
  g_assert_cmpuint (plan.uncovered, ==, 40 * 40 * 24 - covered);
  g_assert_cmpuint (plan.launch.global[0], ==, 8);
  g_assert_cmpuint (plan.launch.global[2], ==, 24);
  g_assert_false (wb_launch_last (sim, &last));

  /* Coverage confirms after: exactly the uncovered cells keep the sentinel,
   * and they span the whole grid's bounding box. */
  cov = wb_coverage_measure (sim, "T", wb_sentinel_default (), &error);
  g_assert_no_error (error);
  g_assert_cmpuint (cov->n_cells, ==, 40 * 40 * 24);
  g_assert_cmpuint (cov->n_unwritten, ==, 40 * 40 * 24 - covered);
  g_assert_cmpuint (cov->bbox_min[0], ==, 0);
  g_assert_cmpuint (cov->bbox_max[0], ==, 39);
  g_assert_cmpuint (cov->bbox_max[2], ==, 23);
  /* The written cells are exactly i < 8, j < 8. */
  for (gsize k = 0; k < 24; k += 7)
    for (gsize j = 0; j < 40; j++)
      for (gsize i = 0; i < 40; i++)
        g_assert_cmpfloat (cov->map->data[wb_field_index (cov->map, i, j, k)], ==,
                           (i < 8 && j < 8) ? 1.0 : 0.0);
  g_assert_true (wb_launch_last (sim, &last));
  g_assert_true (last.done);
  g_assert_cmpuint (last.uncovered, ==, cov->n_unwritten);

  /* The preset builds with probes: work-items that never ran read 0, the
   * others went through to checkpoint 4. */
  probes = wb_probe_read (sim, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (probes->counts[0], ==, 40 * 40 * 24 - covered);
  g_assert_cmpuint (probes->counts[4], ==, covered);
  g_assert_cmpuint (probes->max_checkpoint, ==, 4);
}

static void
test_early_bounds (void)
{
  NEED_OPENCL (dev);
  g_autoptr(GError) error = NULL;
  g_autoptr(WbSim) sim = sim_from ("early-return-bounds", dev, NULL, NULL);
  g_autoptr(WbCoverage) cov = NULL;
  g_autoptr(WbProbeReport) probes = NULL;
  g_autofree char *text = NULL;
  WbLaunchReport plan;

  /* The launch is right: the bug is in the kernel, so geometry says ok
   * and only coverage and probes see it. */
  g_assert_true (wb_launch_plan (sim, &plan, &error));
  g_assert_cmpuint (plan.flags, ==, 0);
  g_assert_cmpuint (plan.uncovered, ==, 0);

  cov = wb_coverage_measure (sim, "T", wb_sentinel_default (), &error);
  g_assert_no_error (error);
  /* Only the first z plane passes a bounds check made for one plane. */
  g_assert_cmpuint (cov->n_unwritten, ==, 40 * 40 * 23);
  g_assert_cmpuint (cov->bbox_min[2], ==, 1);
  g_assert_cmpuint (cov->bbox_max[2], ==, 23);
  g_assert_cmpuint (cov->bbox_min[0], ==, 0);
  g_assert_cmpuint (cov->bbox_max[1], ==, 39);
  text = wb_coverage_format (cov);
  g_assert_nonnull (strstr (text, "unwritten: 36800 cells, bounding box i 0..39, j 0..39, k 1..23"));

  probes = wb_probe_read (sim, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (probes->counts[0], ==, 40 * 40 * 23);
  g_assert_cmpuint (probes->counts[4], ==, 40 * 40);
  for (guint c = 1; c < 4; c++)
    g_assert_cmpuint (probes->counts[c], ==, 0);

  /* Without its variant the teaching preset runs the solver's kernel: it
   * stays with the reference. */
  {
    g_autoptr(WbDevice) ref = reference_device ();
    g_autoptr(WbSim) a = sim_from ("early-return-bounds", dev, "debug.variant=none", NULL);
    g_autoptr(WbSim) b = sim_from ("early-return-bounds", ref, NULL, NULL);
    g_autoptr(WbCompareReport) r = wb_compare_run (a, b, 4, NULL, 1e-4, TRUE, NULL, NULL, &error);

    g_assert_no_error (error);
    g_assert_false (r->exceeded);
  }
}

/* The same presets with the variant switched off cover every cell: the
 * tools report no false positives, whatever the local size. */
static void
test_fixed_covers (void)
{
  NEED_OPENCL (dev);
  const char *presets[] = { "early-return", "early-return-bounds" };

  for (guint p = 0; p < G_N_ELEMENTS (presets); p++)
    for (guint twice = 0; twice < 2; twice++)
      {
        g_autoptr(GError) error = NULL;
        g_autoptr(WbSim) sim = sim_from (presets[p], dev, "debug.variant=none",
                                         twice ? "debug.local_size=[16,4,2]" : NULL);
        g_autoptr(WbCoverage) cov = NULL;
        g_autoptr(WbProbeReport) probes = NULL;
        WbLaunchReport last;

        /* Measure the second launch too: the ping-pong buffers alternate. */
        for (guint s = 0; s < 2; s++)
          {
            g_clear_pointer (&cov, wb_coverage_free);
            cov = wb_coverage_measure (sim, "T", wb_sentinel_default (), &error);
            g_assert_no_error (error);
            g_assert_cmpuint (cov->n_unwritten, ==, 0);
            g_assert_cmpuint (cov->n_cells, ==, 40 * 40 * 24);
          }
        g_assert_true (wb_launch_last (sim, &last));
        g_assert_cmpuint (last.flags, ==, 0);
        g_assert_cmpuint (last.covered, ==, 40 * 40 * 24);
        if (twice)
          g_assert_cmpuint (last.padding, ==, 48 * 40 * 24 - 40 * 40 * 24);
        probes = wb_probe_read (sim, &error);
        g_assert_no_error (error);
        g_assert_cmpuint (probes->counts[4], ==, 40 * 40 * 24);
      }
}

static void
test_user_sentinel (void)
{
  NEED_OPENCL (dev);
  g_autoptr(GError) error = NULL;
  g_autoptr(WbSim) sim = sim_from ("early-return-bounds", dev, NULL, NULL);
  g_autoptr(WbCoverage) cov = NULL;
  g_autoptr(WbCoverage) none = NULL;
  float v;

  /* A user value works like the NaN payload (-1e30 is no temperature). */
  g_assert_true (wb_sentinel_parse ("-1e30", &v, &error));
  cov = wb_coverage_measure (sim, "T", v, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (cov->n_unwritten, ==, 40 * 40 * 23);

  /* dose is updated in place: a sentinel would flow into it. */
  none = wb_coverage_measure (sim, "dose", v, &error);
  g_assert_null (none);
  g_assert_error (error, WB_ERROR, WB_ERROR_INVALID);
  g_assert_cmpstr (error->message, ==,
                   "bhte cannot take a sentinel in field 'dose': only outputs that the kernel "
                   "writes without reading them can (T)");
  g_clear_error (&error);

  g_assert_false (wb_sentinel_parse ("inf", &v, &error));
  g_assert_error (error, WB_ERROR, WB_ERROR_INVALID);
}

/* A test kernel with known conditional returns: the distribution of the
 * highest checkpoint is known exactly for every N. */
static const char probe_kernel[] =
  "#include \"wb-common.h\"\n"
  "__kernel void probe_test (__global float *out WB_PROBE_ARG)\n"
  "{\n"
  "  const int i = get_global_id (0);\n"
  "  if (i >= N)\n"
  "    return;\n"
  "#define WB_PROBE_ID i\n"
  "  WB_PROBE (1);\n"
  "  if (i % 5 == 0)\n"
  "    return;\n"
  "  WB_PROBE (2);\n"
  "  if (i % 5 == 1)\n"
  "    return;\n"
  "  out[i] = 1.0f;\n"
  "  WB_PROBE (3);\n"
  "  if (i < N / 2)\n"
  "    return;\n"
  "  WB_PROBE (4);\n"
  "}\n";

static void
test_probe_distribution (void)
{
  NEED_OPENCL (dev);
  g_autoptr(GError) error = NULL;
  g_autoptr(WbClContext) ctx = wb_cl_context_new (dev, &error);
  g_autofree char *dir = g_dir_make_tmp ("wb-probe-XXXXXX", &error);
  g_autofree char *path = g_build_filename (dir, "probe-test.cl", NULL);
  g_autoptr(WbProbeReport) r = NULL;
  g_autofree char *text = NULL;
  const gsize n = 1000, local = 64;
  guint8 map[1000];
  cl_program prog, plain;
  cl_kernel k, kp;
  cl_mem out, pb;
  gsize expect[5] = { 0 };

  g_assert_no_error (error);
  g_assert_true (g_file_set_contents (path, probe_kernel, -1, &error));
  wb_cl_context_set_kernel_dir (ctx, dir);
  prog = wb_cl_build_program (ctx, "probe-test.cl", "#define N 1000\n", "-DWB_PROBES", &error);
  g_assert_no_error (error);
  k = wb_cl_create_kernel (prog, "probe_test", &error);
  out = wb_cl_buffer_new (ctx, CL_MEM_READ_WRITE, n * 4, NULL, "out", &error);
  pb = wb_cl_buffer_new (ctx, CL_MEM_READ_WRITE, n, NULL, "probes", &error);
  g_assert_no_error (error);
  memset (map, 0xff, sizeof map);
  g_assert_true (wb_cl_write (ctx, pb, 0, n, map, &error));
  memset (map, 0, sizeof map);
  g_assert_true (wb_cl_write (ctx, pb, 0, n, map, &error));
  g_assert_true (wb_cl_set_arg (k, 0, sizeof (cl_mem), &out, &error));
  g_assert_true (wb_cl_set_arg (k, 1, sizeof (cl_mem), &pb, &error));
  /* 1024 work-items for 1000 cells: the padding returns before any probe. */
  g_assert_true (wb_cl_enqueue (ctx, k, 1, &n, &local, NULL, NULL, &error));
  g_assert_true (wb_cl_read (ctx, pb, 0, n, map, &error));
  g_assert_no_error (error);

  for (gsize i = 0; i < n; i++)
    expect[i % 5 == 0 ? 1 : i % 5 == 1 ? 2 : i < n / 2 ? 3 : 4]++;
  g_assert_cmpuint (expect[1], ==, 200);
  g_assert_cmpuint (expect[2], ==, 200);
  g_assert_cmpuint (expect[3], ==, 300);
  g_assert_cmpuint (expect[4], ==, 300);

  r = wb_probe_report_from_map (map, 1, &n, NULL);
  g_assert_cmpuint (r->n_cells, ==, n);
  g_assert_cmpuint (r->counts[0], ==, 0);
  for (guint c = 1; c <= 4; c++)
    g_assert_cmpuint (r->counts[c], ==, expect[c]);
  g_assert_cmpuint (r->max_checkpoint, ==, 4);
  g_assert_cmpfloat (wb_probe_report_percent (r, 3), ==, 30.0);
  text = wb_probe_report_format (r);
  g_assert_nonnull (strstr (text, "after checkpoint 1, 20.00% of the work-items stopped (200)"));
  g_assert_nonnull (strstr (text, "after checkpoint 3, 30.00% of the work-items stopped (300)"));
  g_assert_nonnull (strstr (text, "30.00% reached checkpoint 4, the last one reached (300)"));

  /* Without -DWB_PROBES the probes compile away, and so does the argument. */
  plain = wb_cl_build_program (ctx, "probe-test.cl", "#define N 1000\n", NULL, &error);
  g_assert_no_error (error);
  kp = wb_cl_create_kernel (plain, "probe_test", &error);
  g_assert_no_error (error);
  {
    cl_uint nargs = 0;
    clGetKernelInfo (kp, CL_KERNEL_NUM_ARGS, sizeof nargs, &nargs, NULL);
    g_assert_cmpuint (nargs, ==, 1);
  }

  clReleaseKernel (kp);
  clReleaseProgram (plain);
  clReleaseMemObject (out);
  clReleaseMemObject (pb);
  clReleaseKernel (k);
  clReleaseProgram (prog);
  g_unlink (path);
  g_rmdir (dir);
}

typedef struct
{
  guint64 step;
  gsize   ijk[3];
  float   delta;
} Inject;

static gboolean
inject_error (WbSim    *a,
              WbSim    *b,
              guint64   step,
              gpointer  user_data,
              GError  **error)
{
  Inject *in = user_data;
  cl_mem buf;
  gsize at;
  float v;

  if (step != in->step)
    return TRUE;
  buf = wb_sim_field_buffer (a, "T");
  g_assert_nonnull (buf);
  at = in->ijk[0] + a->shape[0] * (in->ijk[1] + a->shape[1] * in->ijk[2]);
  return wb_cl_read (a->cl, buf, at * 4, 4, &v, error) &&
         (v += in->delta, wb_cl_write (a->cl, buf, at * 4, 4, &v, error));
}

static void
test_diff_injected (void)
{
  NEED_OPENCL (dev);
  g_autoptr(WbDevice) ref = reference_device ();
  g_autoptr(GError) error = NULL;
  const char *grid = "grid.shape=[20,18,16]";
  Inject in = { 4, { 5, 6, 7 }, 0.05f };

  /* Control: float kernel against the double reference, 6 steps.  The
   * temperature is near 45 C and float rounding leaves errors near 1e-5,
   * well under the tolerance of 1e-4 x 45 C = 4.5 mK; 0.05 K is far over. */
  {
    g_autoptr(WbSim) a = sim_from ("bhte-gaussian", dev, grid, NULL);
    g_autoptr(WbSim) b = sim_from ("bhte-gaussian", ref, grid, NULL);
    g_autoptr(WbCompareReport) r = wb_compare_run (a, b, 6, NULL, 1e-4, TRUE, NULL, NULL, &error);
    WbCompareField *t;

    g_assert_no_error (error);
    g_assert_false (r->exceeded);
    g_assert_cmpuint (r->steps, ==, 6);
    t = wb_compare_report_field (r, "T");
    g_assert_nonnull (t);
    g_assert_cmpfloat (t->max_abs, <, 1e-4);
    g_assert_cmpfloat (t->max_abs, >, 0.0);
    g_assert_cmpfloat (t->rms, <=, t->max_abs);
    g_assert_nonnull (wb_compare_report_field (r, "dose"));
  }
  /* One cell of T perturbed after step 4: found at step 4, in T, at that
   * cell, and the run stops there. */
  {
    g_autoptr(WbSim) a = sim_from ("bhte-gaussian", dev, grid, NULL);
    g_autoptr(WbSim) b = sim_from ("bhte-gaussian", ref, grid, NULL);
    g_autoptr(WbCompareReport) r = wb_compare_run (a, b, 6, NULL, 1e-4, TRUE, inject_error, &in,
                                                   &error);
    g_autofree char *text = NULL;
    WbCompareField *t;

    g_assert_no_error (error);
    g_assert_true (r->exceeded);
    g_assert_cmpuint (r->first_step, ==, 4);
    g_assert_cmpuint (r->steps, ==, 4);
    g_assert_cmpstr (r->first_field, ==, "T");
    g_assert_cmpuint (r->first_ijk[0], ==, 5);
    g_assert_cmpuint (r->first_ijk[1], ==, 6);
    g_assert_cmpuint (r->first_ijk[2], ==, 7);
    g_assert_cmpfloat (fabs (r->first_a - r->first_b - 0.05), <, 1e-4);
    t = wb_compare_report_field (r, "T");
    g_assert_cmpuint (t->n_exceeding, ==, 1);
    g_assert_cmpuint (t->max_cell, ==, r->first_cell);
    g_assert_cmpfloat (fabs (t->error_map->data[r->first_cell] - 0.05), <, 1e-4);
    text = wb_compare_report_format (r);
    g_assert_nonnull (strstr (text, "FIRST EXCEEDED at step 4, field T, cell (5, 6, 7)"));
  }
  /* The broken launch differs from the reference from the first step on,
   * outside the covered 8 x 8 block and only there.  (Which uncovered cell
   * comes first depends on what the never-written buffer held.) */
  {
    g_autoptr(WbSim) a = sim_from ("early-return", dev, NULL, NULL);
    g_autoptr(WbSim) b = sim_from ("early-return", ref, NULL, NULL);
    g_autoptr(WbCompareReport) r = wb_compare_run (a, b, 3, NULL, 1e-4, TRUE, NULL, NULL, &error);
    WbCompareField *t;

    g_assert_no_error (error);
    g_assert_true (r->exceeded);
    g_assert_cmpuint (r->first_step, ==, 1);
    g_assert_cmpstr (r->first_field, ==, "T");
    g_assert_true (r->first_ijk[0] >= 8 || r->first_ijk[1] >= 8);
    t = wb_compare_report_field (r, "T");
    g_assert_cmpuint (t->n_exceeding, >, 0);
    g_assert_cmpuint (t->n_exceeding, <=, 40 * 40 * 24 - 8 * 8 * 24);
    for (gsize k = 0; k < 24; k++)
      for (gsize j = 0; j < 8; j++)
        for (gsize i = 0; i < 8; i++)
          g_assert_cmpfloat (t->error_map->data[wb_field_index (t->error_map, i, j, k)], <=,
                             1e-4 * t->scale);
  }
}

/* An edit with a syntax error: the build error names the file and line,
 * and the previous program keeps running with its state. */
static void
test_edit_syntax_error (void)
{
  NEED_OPENCL (dev);
  g_autoptr(GError) error = NULL;
  g_autoptr(WbSim) sim = sim_from ("bhte-gaussian", dev, "grid.shape=[16,16,16]", NULL);
  g_autoptr(WbSim) twin = sim_from ("bhte-gaussian", dev, "grid.shape=[16,16,16]", NULL);
  g_autofree char *dir = g_dir_make_tmp ("wb-edit-XXXXXX", &error);
  g_autofree char *path = g_build_filename (dir, "bhte.cl", NULL);
  g_autofree char *src = NULL;
  g_autofree char *needle = NULL;
  g_auto(GStrv) lines = NULL;
  g_autoptr(GString) edited = g_string_new (NULL);
  g_autoptr(WbField) t1 = NULL;
  g_autoptr(WbField) t2 = NULL;
  WbKernelConfig cfg;
  guint bad_line = 0;
  GBytes *bytes;

  g_assert_no_error (error);
  bytes = g_resources_lookup_data ("/org/wavebench/Wavebench/kernels/bhte.cl", 0, &error);
  g_assert_no_error (error);
  src = g_strndup (g_bytes_get_data (bytes, NULL), g_bytes_get_size (bytes));
  g_bytes_unref (bytes);
  lines = g_strsplit (src, "\n", -1);
  /* Drop the semicolon after "Tn = T + dT" (a typical slip). */
  for (guint i = 0; lines[i]; i++)
    {
      if (bad_line == 0 && strstr (lines[i], "Tn = T + dT;"))
        {
          char *semi = strrchr (lines[i], ';');
          *semi = ' ';
          bad_line = i + 1;
        }
      g_string_append (edited, lines[i]);
      if (lines[i + 1])
        g_string_append_c (edited, '\n');
    }
  g_assert_cmpuint (bad_line, >, 0);
  g_assert_true (g_file_set_contents (path, edited->str, -1, &error));

  g_assert_true (wb_sim_step (sim, 3, &error));
  g_assert_true (wb_sim_step (twin, 3, &error));
  g_assert_no_error (error);

  wb_kernel_config_init (&cfg);
  cfg.kernel_dir = g_strdup (dir);
  g_assert_false (wb_sim_configure_kernels (sim, &cfg, &error));
  g_assert_error (error, WB_ERROR, WB_ERROR_BUILD);
  /* The compiler reports the statement's end on the next line or the same
   * one, depending on the compiler: either names this file and line. */
  needle = g_strdup_printf ("bhte.cl:%u:", bad_line);
  {
    g_autofree char *next = g_strdup_printf ("bhte.cl:%u:", bad_line + 1);
    g_assert_true (strstr (error->message, needle) != NULL || strstr (error->message, next) != NULL);
  }
  g_clear_error (&error);
  wb_kernel_config_clear (&cfg);

  /* Still running, bit-identical to a twin that never saw the edit. */
  g_assert_true (wb_sim_step (sim, 3, &error));
  g_assert_true (wb_sim_step (twin, 3, &error));
  t1 = wb_sim_read_field (sim, "T", &error);
  t2 = wb_sim_read_field (twin, "T", &error);
  g_assert_no_error (error);
  g_assert_cmpint (memcmp (t1->data, t2->data, 16 * 16 * 16 * 4), ==, 0);
  g_assert_cmpuint (sim->step, ==, 6);

  /* Fixing the file rebuilds from it and runs on. */
  g_assert_true (g_file_set_contents (path, src, -1, &error));
  wb_kernel_config_init (&cfg);
  cfg.kernel_dir = g_strdup (dir);
  g_assert_true (wb_sim_configure_kernels (sim, &cfg, &error));
  g_assert_no_error (error);
  wb_kernel_config_clear (&cfg);
  g_assert_true (wb_sim_step (sim, 1, &error));
  g_assert_true (wb_sim_step (twin, 1, &error));
  g_clear_pointer (&t1, wb_field_unref);
  g_clear_pointer (&t2, wb_field_unref);
  t1 = wb_sim_read_field (sim, "T", &error);
  t2 = wb_sim_read_field (twin, "T", &error);
  g_assert_cmpint (memcmp (t1->data, t2->data, 16 * 16 * 16 * 4), ==, 0);

  g_unlink (path);
  g_rmdir (dir);
}

static void
test_launch_override (void)
{
  NEED_OPENCL (dev);
  g_autoptr(GError) error = NULL;
  g_autoptr(WbSim) sim = sim_from ("bhte-gaussian", dev, "grid.shape=[20,18,16]", NULL);
  WbKernelConfig cfg;
  WbLaunchReport plan;
  g_autofree char *text = NULL;

  /* An override past the kernel's work-group limit is flagged before it
   * runs. */
  g_assert_true (wb_launch_plan (sim, &plan, &error));
  wb_kernel_config_init (&cfg);
  cfg.local[0] = plan.launch.kernel_max_wg;
  cfg.local[1] = 2;
  cfg.local[2] = 1;
  g_assert_true (wb_sim_configure_kernels (sim, &cfg, &error));
  g_assert_no_error (error);
  g_assert_true (wb_launch_plan (sim, &plan, &error));
  g_assert_true (plan.flags & WB_LAUNCH_OVER_WG_LIMIT);
  text = wb_launch_report_format (&plan);
  g_assert_nonnull (strstr (text, "FLAG: the local size exceeds the kernel's work-group limit"));

  /* A valid one pads: 20 x 18 x 16 in 8 x 4 x 4 groups is 24 x 20 x 16. */
  cfg.local[0] = 8;
  cfg.local[1] = 4;
  cfg.local[2] = 4;
  g_assert_true (wb_sim_configure_kernels (sim, &cfg, &error));
  g_assert_true (wb_launch_plan (sim, &plan, &error));
  g_assert_cmpuint (plan.flags, ==, 0);
  g_assert_cmpuint (plan.work_items, ==, 24 * 20 * 16);
  g_assert_cmpuint (plan.padding, ==, 24 * 20 * 16 - 20 * 18 * 16);
  g_assert_cmpuint (plan.groups[0], ==, 3);
  {
    g_autoptr(WbCoverage) cov = wb_coverage_measure (sim, "T", wb_sentinel_default (), &error);
    g_assert_no_error (error);
    g_assert_cmpuint (cov->n_unwritten, ==, 0);
  }
  wb_kernel_config_clear (&cfg);

  {
    gsize l[3];
    g_assert_true (wb_kernel_config_parse_local ("16x4", l, &error));
    g_assert_cmpuint (l[0], ==, 16);
    g_assert_cmpuint (l[2], ==, 1);
    g_assert_false (wb_kernel_config_parse_local ("16x0", l, &error));
    g_assert_cmpstr (error->message, ==,
                     "local size '16x0': expected 1 to 3 sizes from 1 to 65536 like 8x8x1");
  }
}

static void
test_reference_and_preset (void)
{
  g_autoptr(WbDevice) ref = reference_device ();
  g_autoptr(GError) error = NULL;
  g_autoptr(WbSim) sim = sim_from ("early-return", ref, NULL, NULL);
  g_autoptr(WbPreset) bad = NULL;

  /* The reference backend has no kernels: it runs the plain solver (the
   * oracle of the diff) and the tools say why they cannot look at it. */
  g_assert_null (wb_sim_kernel_debug (sim));
  g_assert_null (wb_coverage_measure (sim, "T", wb_sentinel_default (), &error));
  g_assert_error (error, WB_ERROR, WB_ERROR_INVALID);
  g_assert_cmpstr (error->message, ==,
                   "coverage needs an OpenCL backend and a solver with debugging hooks (bhte on reference)");
  g_clear_error (&error);

  bad = wb_preset_load ("early-return", &error);
  g_assert_true (wb_preset_set (bad, "debug.variant=off-by-one", &error));
  g_assert_false (wb_sim_validate (bad, &error));
  g_assert_error (error, WB_ERROR, WB_ERROR_INVALID);
  g_assert_nonnull (strstr (error->message, "debug.variant"));
  g_clear_error (&error);
  g_assert_true (wb_preset_set (bad, "debug.variant=none", &error));
  g_assert_true (wb_preset_set (bad, "debug.probe=true", &error));
  g_assert_false (wb_sim_validate (bad, &error));
  g_assert_cmpstr (error->message, ==,
                   "unknown key 'debug.probe' (known keys in debug: kernel, variant, probes, local_size)");
}

/* The same bug on the viscoelastic stress kernel, whose stresses are
 * updated in place: no sentinel can go there, so probes, the launch report
 * and the diff find it.  12 x 12 groups of 8 x 8 rounded up to 16 x 16
 * work-items: 256 of the 96 x 96 cells. */
static void
test_vwe_grid_in_groups (void)
{
  NEED_OPENCL (dev);
  g_autoptr(WbDevice) ref = reference_device ();
  g_autoptr(GError) error = NULL;
  g_autoptr(WbSim) sim = sim_from ("early-return-vwe", dev, NULL, NULL);
  g_autoptr(WbProbeReport) probes = NULL;
  g_autoptr(WbCoverage) cov = NULL;
  const gsize n[3] = { 96, 96, 1 }, l[3] = { 8, 8, 1 };
  guint64 covered = covered_by_groups (n, l);
  WbLaunchReport plan;
  WbKernelConfig cfg;

  g_assert_cmpuint (covered, ==, 256);
  g_assert_true (wb_launch_plan (sim, &plan, &error));
  g_assert_cmpstr (plan.kernel, ==, "vwe_stress");
  g_assert_cmpuint (plan.launch.work_dim, ==, 2);
  g_assert_true (plan.flags & WB_LAUNCH_UNDERCOVERS);
  g_assert_cmpuint (plan.uncovered, ==, 96 * 96 - covered);

  probes = wb_probe_measure (sim, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (probes->counts[0], ==, 96 * 96 - covered);
  g_assert_cmpuint (probes->counts[4], ==, covered);
  /* Unreached cells are exactly those outside the 16 x 16 corner. */
  for (gsize j = 0; j < 96; j += 5)
    for (gsize i = 0; i < 96; i++)
      g_assert_cmpfloat (probes->map->data[i + 96 * j], ==, (i < 16 && j < 16) ? 4.0 : 0.0);

  cov = wb_coverage_measure (sim, "Sigma_xy", wb_sentinel_default (), &error);
  g_assert_null (cov);
  g_assert_cmpstr (error->message, ==,
                   "vwe cannot take a sentinel in field 'Sigma_xy': only outputs that the kernel "
                   "writes without reading them can (none)");
  g_clear_error (&error);

  /* vwe rebuilds only before its first step; the running program stays. */
  wb_kernel_config_init (&cfg);
  g_assert_false (wb_sim_configure_kernels (sim, &cfg, &error));
  g_assert_error (error, WB_ERROR, WB_ERROR_INVALID);
  g_assert_nonnull (strstr (error->message, "before the first step only"));
  g_clear_error (&error);
  g_assert_true (wb_sim_step (sim, 1, &error));
  g_assert_no_error (error);

  /* Against the reference the first excess is at step 1, in a stress,
   * outside the covered corner. */
  {
    g_autoptr(WbSim) a = sim_from ("early-return-vwe", dev, NULL, NULL);
    g_autoptr(WbSim) b = sim_from ("early-return-vwe", ref, NULL, NULL);
    g_autoptr(WbCompareReport) r = wb_compare_run (a, b, 5, NULL, 1e-4, TRUE, NULL, NULL, &error);

    g_assert_no_error (error);
    g_assert_true (r->exceeded);
    g_assert_cmpuint (r->first_step, ==, 1);
    g_assert_true (g_str_has_prefix (r->first_field, "Sigma_"));
    g_assert_true (r->first_ijk[0] >= 16 || r->first_ijk[1] >= 16);
  }
  /* Probes turned on by the tool rebuild vwe (before its first step): the
   * variant stays, and the sim still carries its debug section. */
  {
    g_autoptr(WbSim) c = sim_from ("early-return-vwe", dev, "debug.probes=false", NULL);
    g_autoptr(WbProbeReport) p = wb_probe_measure (c, &error);

    g_assert_no_error (error);
    g_assert_cmpuint (p->counts[0], ==, 96 * 96 - covered);
    g_assert_nonnull (wb_preset_lookup (c->preset, "debug.variant"));
  }
  /* Fixed: every work-item runs the whole kernel, and float against the
   * double reference stays within 1e-3 of each field's largest value over
   * 20 steps (rounding, not a missing update, which is of order 1). */
  {
    g_autoptr(WbSim) a = sim_from ("early-return-vwe", dev, "debug.variant=none", NULL);
    g_autoptr(WbSim) b = sim_from ("early-return-vwe", ref, "debug.variant=none", NULL);
    g_autoptr(WbProbeReport) p = wb_probe_measure (a, &error);
    g_autoptr(WbCompareReport) r = NULL;

    g_assert_no_error (error);
    g_assert_cmpuint (p->counts[4], ==, 96 * 96);
    g_assert_true (wb_sim_step (b, 1, &error));
    r = wb_compare_run (a, b, 20, NULL, 1e-3, TRUE, NULL, NULL, &error);
    g_assert_no_error (error);
    g_assert_false (r->exceeded);
  }
}

/* vwe_stress's early-bounds branch returns after checkpoint 1 for every
 * row j >= NY / 2: probes report exactly half the work-items stopping
 * there, the other half going through, and the rows they stopped on. */
static void
test_vwe_early_bounds (void)
{
  NEED_OPENCL (dev);
  g_autoptr(GError) error = NULL;
  g_autoptr(WbSim) sim = sim_from ("early-return-vwe-bounds", dev, NULL, NULL);
  g_autoptr(WbProbeReport) probes = NULL;
  g_autofree char *text = NULL;
  WbLaunchReport plan;

  g_assert_true (wb_launch_plan (sim, &plan, &error));
  g_assert_cmpuint (plan.flags, ==, 0);
  probes = wb_probe_measure (sim, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (probes->counts[0], ==, 0);
  g_assert_cmpuint (probes->counts[1], ==, 96 * 48);
  g_assert_cmpuint (probes->counts[2], ==, 0);
  g_assert_cmpuint (probes->counts[3], ==, 0);
  g_assert_cmpuint (probes->counts[4], ==, 96 * 48);
  for (gsize j = 0; j < 96; j++)
    g_assert_cmpfloat (probes->map->data[17 + 96 * j], ==, j < 48 ? 4.0 : 1.0);
  text = wb_probe_report_format (probes);
  g_assert_nonnull (strstr (text, "after checkpoint 1, 50.00% of the work-items stopped (4608)"));
}

/* The overlays in the app, under Xvfb: the app runs a tool on a preset,
 * saves the window and the view alone, and prints where cell (0, 0) of the
 * overlay is in the view and the pixel steps of i and j.  Every cell of the slice is then checked in the
 * screenshot: covered cells are left alone, uncovered ones tinted red. */
typedef enum { EXPECT_COVERAGE, EXPECT_PROBES } Expect;

static void
check_overlay (WbDevice   *dev,
               const char *tool,
               const char *preset,
               const char *slice,
               gsize       ni,
               gsize       nj,
               gsize       block,
               Expect      expect)
{
  const char *build = g_getenv ("WB_BUILD_DIR");
  g_autofree char *app = build ? g_build_filename (build, "src", "app", "wavebench", NULL) : NULL;
  g_autofree char *schemas = build ? g_build_filename (build, "data", NULL) : NULL;
  g_autofree char *xvfb = g_find_program_in_path ("xvfb-run");
  g_autofree char *dir = NULL;
  g_autofree char *png = NULL;
  g_autofree char *demo = NULL;
  g_autofree char *out = NULL;
  g_autofree char *err = NULL;
  g_autoptr(GError) error = NULL;
  g_autoptr(WbImage) image = NULL;
  g_auto(GStrv) env = NULL;
  const char *line;
  double x0, y0, ax, ay, bx, by, lx, ly, lw, lh;
  int status = 0;

  g_autofree char *compiled = schemas ? g_build_filename (schemas, "gschemas.compiled", NULL) : NULL;

  if (app == NULL || !g_file_test (app, G_FILE_TEST_IS_EXECUTABLE) || xvfb == NULL ||
      !g_file_test (compiled, G_FILE_TEST_EXISTS))
    {
      g_test_skip ("no app, no compiled settings schema or no xvfb-run");
      return;
    }
  dir = g_dir_make_tmp ("wb-overlay-XXXXXX", &error);
  g_assert_no_error (error);
  png = g_build_filename (dir, "shot-view.png", NULL);
  {
    g_autofree char *window_png = g_build_filename (dir, "shot.png", NULL);
    demo = g_strdup_printf ("%s:%s", tool, window_png);
  }
  env = g_get_environ ();
  env = g_environ_setenv (env, "WB_DEBUG_DEMO", demo, TRUE);
  env = g_environ_setenv (env, "WB_DEBUG_DEMO_SLICE", slice, TRUE);
  env = g_environ_setenv (env, "GSETTINGS_BACKEND", "memory", TRUE);
  env = g_environ_setenv (env, "GSETTINGS_SCHEMA_DIR", schemas, TRUE);
  env = g_environ_setenv (env, "GTK_A11Y", "none", TRUE);
  env = g_environ_setenv (env, "NO_AT_BRIDGE", "1", TRUE);
  env = g_environ_setenv (env, "XDG_DATA_HOME", dir, TRUE);
  {
    const char *argv[] = { xvfb, "-a", "-s", "-screen 0 1600x1000x24", app, "--preset", preset,
                           "--backend", dev->id, NULL };
    g_assert_true (g_spawn_sync (NULL, (char **) argv, env, G_SPAWN_DEFAULT, NULL, NULL,
                                 &out, &err, &status, &error));
  }
  g_assert_no_error (error);
  line = strstr (out, "overlay-geometry ");
  if (line == NULL)
    g_error ("no overlay geometry; stderr: %s", err);
  g_assert_cmpint (sscanf (line, "overlay-geometry %lf %lf %lf %lf %lf %lf %lf %lf %lf %lf",
                           &x0, &y0, &ax, &ay, &bx, &by, &lx, &ly, &lw, &lh), ==, 10);
  /* Cells are several pixels wide, so the centre is unambiguous. */
  g_assert_cmpfloat (hypot (ax, ay), >, 4.0);
  image = wb_png_read (png, &error);
  g_assert_no_error (error);

  for (gsize j = 0; j < nj; j++)
    for (gsize i = 0; i < ni; i++)
      {
        int px = (int) lround (x0 + i * ax + j * bx), py = (int) lround (y0 + i * ay + j * by);
        const guint8 *p;
        gboolean inside = i < block && j < block;

        g_assert_true (px >= 0 && py >= 0 && px < (int) image->width && py < (int) image->height);
        /* The legend darkens the cells under it. */
        if (px >= lx - 1 && px <= lx + lw + 1 && py >= ly - 1 && py <= ly + lh + 1)
          continue;
        p = image->rgba + 4 * ((gsize) py * image->width + px);
        if (expect == EXPECT_COVERAGE)
          {
            /* Uncovered: red at 60% over the field; covered: the field,
             * near 37 C in this corner, which the colormap makes dark. */
            if (inside)
              g_assert_cmpint (p[0], <, 100);
            else
              g_assert_true (p[0] > 120 && p[0] > 1.4 * p[1] && p[0] > 1.4 * p[2]);
          }
        else
          {
            /* Checkpoint 4 in blue, checkpoint 0 in red, at 55%. */
            if (inside ? !(p[2] > p[0] + 40) : !(p[0] > p[2] + 40))
              g_error ("probe overlay: cell (%" G_GSIZE_FORMAT ", %" G_GSIZE_FORMAT ") at pixel (%d, %d) "
                       "is (%d, %d, %d)", i, j, px, py, p[0], p[1], p[2]);
          }
      }
  g_unlink (png);
  {
    g_autofree char *window_png = g_build_filename (dir, "shot.png", NULL);
    g_unlink (window_png);
  }
  g_rmdir (dir);
}

static void
test_gui_overlays (void)
{
  NEED_OPENCL (dev);

  /* early-return: z = 12 plane, the 8 x 8 corner covered. */
  check_overlay (dev, "coverage", "early-return", "z:12", 40, 40, 8, EXPECT_COVERAGE);
  /* early-return-vwe: probes, the 16 x 16 corner reached checkpoint 4. */
  check_overlay (dev, "probes", "early-return-vwe", "z:0", 96, 96, 16, EXPECT_PROBES);
}

/* The CLI prints the same findings; --json for scripts. */
static void
test_cli_json (void)
{
  NEED_OPENCL (dev);
  const char *cli = g_getenv ("WAVEBENCH_CLI");
  g_autoptr(GError) error = NULL;
  g_autofree char *out = NULL;
  g_autofree char *err = NULL;
  g_autoptr(JsonParser) parser = json_parser_new ();
  JsonObject *cov;
  int status = 0;

  if (cli == NULL)
    {
      g_test_skip ("WAVEBENCH_CLI not set");
      return;
    }
  {
    const char *argv[] = { cli, "debug", "coverage", "early-return", "--json", NULL };
    g_assert_true (g_spawn_sync (NULL, (char **) argv, NULL, G_SPAWN_DEFAULT, NULL, NULL,
                                 &out, &err, &status, &error));
  }
  g_assert_no_error (error);
  g_assert_true (g_spawn_check_wait_status (status, NULL));
  g_assert_true (json_parser_load_from_data (parser, out, -1, &error));
  cov = json_object_get_object_member (json_node_get_object (json_parser_get_root (parser)),
                                       "coverage");
  g_assert_cmpint (json_object_get_int_member (cov, "unwritten"), ==, 40 * 40 * 24 - 8 * 8 * 24);
  g_assert_cmpstr (json_object_get_string_member (cov, "sentinel_bits"), ==, "0x7fc0dead");
  g_clear_pointer (&out, g_free);
  g_clear_pointer (&err, g_free);
  {
    const char *argv[] = { cli, "debug", "launch", "early-return", NULL };
    g_assert_true (g_spawn_sync (NULL, (char **) argv, NULL, G_SPAWN_DEFAULT, NULL, NULL,
                                 &out, &err, &status, &error));
  }
  g_assert_nonnull (strstr (out, "FLAG: the global size is smaller than the grid: 36864 cells get no work-item"));
  g_clear_pointer (&out, g_free);
  g_clear_pointer (&err, g_free);
  {
    const char *argv[] = { cli, "debug", "probes", "early-return-bounds", NULL };
    g_assert_true (g_spawn_sync (NULL, (char **) argv, NULL, G_SPAWN_DEFAULT, NULL, NULL,
                                 &out, &err, &status, &error));
  }
  g_assert_nonnull (strstr (out, "before checkpoint 1, 95.83% of the work-items stopped (36800"));
  g_clear_pointer (&out, g_free);
  g_clear_pointer (&err, g_free);
  {
    const char *argv[] = { cli, "debug", "nonsense", "early-return", NULL };
    g_assert_true (g_spawn_sync (NULL, (char **) argv, NULL, G_SPAWN_DEFAULT, NULL, NULL,
                                 &out, &err, &status, &error));
  }
  g_assert_cmpint (WEXITSTATUS (status), ==, 2);
  g_assert_nonnull (strstr (err, "debug: expected coverage, probes, diff or launch"));
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);

  g_test_add_func ("/wavebench/debug/grid-in-groups", test_grid_in_groups);
  g_test_add_func ("/wavebench/debug/early-bounds", test_early_bounds);
  g_test_add_func ("/wavebench/debug/fixed-covers", test_fixed_covers);
  g_test_add_func ("/wavebench/debug/user-sentinel", test_user_sentinel);
  g_test_add_func ("/wavebench/debug/probe-distribution", test_probe_distribution);
  g_test_add_func ("/wavebench/debug/diff-injected", test_diff_injected);
  g_test_add_func ("/wavebench/debug/edit-syntax-error", test_edit_syntax_error);
  g_test_add_func ("/wavebench/debug/launch-override", test_launch_override);
  g_test_add_func ("/wavebench/debug/reference-and-preset", test_reference_and_preset);
  g_test_add_func ("/wavebench/debug/vwe-grid-in-groups", test_vwe_grid_in_groups);
  g_test_add_func ("/wavebench/debug/vwe-early-bounds", test_vwe_early_bounds);
  g_test_add_func ("/wavebench/debug/cli", test_cli_json);
  g_test_add_func ("/wavebench/debug/gui-overlays", test_gui_overlays);
  return g_test_run ();
}
