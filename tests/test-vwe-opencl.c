/* test-vwe-opencl.c: the OpenCL kernels of the viscoelastic wave solver
 * against the C reference, after hundreds of steps, on problems that use
 * every branch: interfaces (fluid/solid, harmonic means), attenuation,
 * PML on every face, a periodic axis, all source kinds and modes, sensors
 * of every quantity, peak/RMS maps.  Skips when no OpenCL device exists. */
#include "config.h"

#include <math.h>
#include <string.h>

#include "wb-cl.h"
#include "wb-error.h"
#include "wb-sim.h"

static WbDevice *
find_device (const char *which)
{
  g_autoptr(GPtrArray) devices = wb_device_list (NULL);

  for (guint i = 0; i < devices->len; i++)
    {
      WbDevice *d = g_ptr_array_index (devices, i);

      if (g_str_equal (which, "reference") == wb_device_is_reference (d))
        return wb_device_ref (d);
    }
  return NULL;
}

static WbSim *
make (const char *json,
      WbDevice   *dev)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(WbPreset) preset = wb_preset_load_data (json, -1, "agreement", NULL, &error);
  WbSim *sim;

  g_assert_no_error (error);
  sim = wb_sim_new (preset, dev, NULL, &error);
  g_assert_no_error (error);
  g_assert_nonnull (sim);
  return sim;
}

static void compare_sims (WbSim *a, WbSim *b, double tol);

/* Runs @json on the reference and on OpenCL; every field must agree
 * within @tol of its largest magnitude, and every sensor trace too. */
static void
compare (const char *json,
         double      tol)
{
  g_autoptr(WbDevice) cl_dev = find_device ("opencl");
  g_autoptr(WbDevice) ref_dev = find_device ("reference");
  g_autoptr(WbSim) a = NULL;
  g_autoptr(WbSim) b = NULL;
  g_autoptr(GError) error = NULL;

  if (cl_dev == NULL)
    {
      g_test_skip ("no OpenCL device");
      return;
    }
  a = make (json, ref_dev);
  b = make (json, cl_dev);
  g_assert_cmpfloat (a->dt, ==, b->dt);
  /* In chunks, as the GUI steps, to cover repeated step() calls. */
  for (guint64 done = 0; done < a->total_steps; done += 50)
    {
      guint n = (guint) MIN (50, a->total_steps - done);

      g_assert_true (wb_sim_step (a, n, &error));
      g_assert_true (wb_sim_step (b, n, &error));
      g_assert_no_error (error);
    }
  g_assert_true (wb_sim_finish (b, &error));
  compare_sims (a, b, tol);
}

/* Every field of @b within @tol of its largest magnitude in @a (the
 * reference), and every sensor trace too. */
static void
compare_sims (WbSim  *a,
              WbSim  *b,
              double  tol)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(GPtrArray) ta = NULL;
  g_autoptr(GPtrArray) tb = NULL;
  double worst = 0, worst_trace = 0;

  for (guint f = 0; a->field_names[f]; f++)
    {
      const char *name = a->field_names[f];
      g_autoptr(WbField) fa = wb_sim_read_field (a, name, &error);
      g_autoptr(WbField) fb = wb_sim_read_field (b, name, &error);
      double scale = 0, diff = 0;

      g_assert_no_error (error);
      for (gsize c = 0; c < wb_field_n_elements (fa); c++)
        {
          g_assert_true (isfinite (fb->data[c]));
          scale = MAX (scale, fabs (fa->data[c]));
          diff = MAX (diff, fabs ((double) fa->data[c] - fb->data[c]));
        }
      g_test_message ("%-14s max |ref| %.4g, max |cl - ref| %.3g (%.3g relative)",
                      name, scale, diff, scale > 0 ? diff / scale : 0);
      /* Every field is excited, or the comparison would prove nothing. */
      g_assert_cmpfloat (scale, >, 0);
      g_assert_cmpfloat (diff, <=, tol * scale);
      worst = MAX (worst, diff / scale);
    }

  ta = wb_sim_read_traces (a, &error);
  tb = wb_sim_read_traces (b, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (ta->len, ==, tb->len);
  g_assert_cmpuint (ta->len, >, 0);
  /* Traces are measured against the largest value of their quantity
   * over all sensors: a sensor in water records no shear at all. */
  {
    g_autoptr(GHashTable) qmax = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, g_free);

    for (guint pass = 0; pass < 2; pass++)
      for (guint i = 0; i < ta->len; i++)
        {
          const WbTrace *x = g_ptr_array_index (ta, i), *y = g_ptr_array_index (tb, i);
          const char *q = strrchr (x->name, ' ') + 1;
          double *m = g_hash_table_lookup (qmax, q);
          double diff = 0;

          if (m == NULL)
            {
              m = g_new0 (double, 1);
              g_hash_table_insert (qmax, g_strdup (q), m);
            }
          if (pass == 0)
            {
              g_assert_cmpstr (x->name, ==, y->name);
              g_assert_cmpuint (x->n, ==, y->n);
              g_assert_cmpuint (x->n, ==, a->total_steps / 2 + 1);
              for (guint s = 0; s < x->n; s++)
                *m = MAX (*m, fabs (x->values[s]));
              continue;
            }
          g_assert_cmpfloat (*m, >, 0);
          for (guint s = 0; s < x->n; s++)
            diff = MAX (diff, fabs ((double) x->values[s] - y->values[s]));
          g_assert_cmpfloat (diff, <=, tol * *m);
          worst_trace = MAX (worst_trace, diff / *m);
        }
  }
  g_test_message ("worst relative difference: fields %.3g, traces %.3g (tolerance %.1g)",
                  worst, worst_trace, tol);
}

/* Tolerance: both backends store float32; the reference computes each
 * update in double, the kernel in float with its own order of operations
 * (scaled coefficients, fused multiply-adds).  Each step therefore differs
 * by a few float32 roundings of the field (~1e-7 relative), and the
 * differences travel and add up with the waves over the run: a few
 * hundred steps leave them near 1e-5 of the field's peak (PoCL: 1.5e-5 at
 * worst over these two problems).  1e-4 leaves
 * margin for other OpenCL compilers while any indexing, coefficient or
 * ordering error (at least percent-level) still fails. */
#define TOLERANCE 1e-4

static void
test_agreement_2d (void)
{
  compare (
    "{\"solver\": \"vwe\", \"grid\": {\"shape\": [96, 80], \"spacing\": 0.0005},"
    " \"time\": {\"steps\": 400}, \"boundary\": {\"pml_cells\": 10},"
    " \"materials\": ["
    "   {\"name\": \"water\", \"density\": 1000, \"cL\": 1500, \"alphaL\": 2},"
    "   {\"name\": \"bone\", \"density\": 1900, \"cL\": 2800, \"cS\": 1400, \"alphaL\": 20, \"alphaS\": 40},"
    "   {\"name\": \"soft\", \"density\": 1100, \"cL\": 1600, \"cS\": 300}],"
    " \"layers\": [{\"material\": \"bone\", \"axis\": \"y\", \"from\": 0.02, \"to\": 0.028}],"
    " \"spheres\": [{\"material\": \"soft\", \"centre\": [0.03, 0.034], \"radius\": 0.004}],"
    " \"sources\": ["
    "   {\"type\": \"pressure\", \"position\": [0.02, 0.01],"
    "    \"signal\": {\"type\": \"tone_burst\", \"frequency\": 300000, \"cycles\": 2}},"
    "   {\"type\": \"velocity\", \"shape\": \"arc\", \"focus\": [0.024, 0.024], \"apex\": [0.024, 0.008],"
    "    \"aperture\": 0.02, \"amplitude\": 0.5,"
    "    \"signal\": {\"type\": \"ricker\", \"frequency\": 250000}},"
    "   {\"type\": \"velocity\", \"mode\": \"impose\", \"shape\": \"line\", \"start\": [0.04, 0.03],"
    "    \"end\": [0.04, 0.036], \"direction\": [1, 1], \"amplitude\": 0.001,"
    "    \"signal\": {\"type\": \"samples\", \"dt\": 1e-6, \"values\": [0, 0.5, 1, 0.5, 0, -0.5, -1, -0.5, 0]}}],"
    " \"sensors\": {\"every\": 2,"
    "   \"quantities\": [\"Vx\", \"Vy\", \"Sigma_xx\", \"Sigma_yy\", \"Sigma_xy\", \"Pressure\"],"
    "   \"points\": [[0.024, 0.024], [0.03, 0.034]],"
    "   \"lines\": [{\"start\": [0.01, 0.03], \"end\": [0.02, 0.03]}]}}",
    TOLERANCE);
}

static void
test_agreement_3d (void)
{
  compare (
    "{\"solver\": \"vwe\", \"grid\": {\"shape\": [36, 32, 24], \"spacing\": 0.0005},"
    " \"time\": {\"steps\": 200},"
    " \"boundary\": {\"pml_cells\": 8, \"periodic\": [\"z\"]},"
    " \"materials\": ["
    "   {\"name\": \"water\", \"density\": 1000, \"cL\": 1500},"
    "   {\"name\": \"bone\", \"density\": 1900, \"cL\": 2800, \"cS\": 1400, \"alphaL\": 20, \"alphaS\": 40}],"
    " \"boxes\": [{\"material\": \"bone\", \"min\": [0.0, 0.009, 0.0], \"max\": [0.02, 0.012, 0.006]}],"
    " \"sources\": ["
    "   {\"type\": \"pressure\", \"shape\": \"bowl\", \"focus\": [0.009, 0.011, 0.006],"
    "    \"apex\": [0.009, 0.004, 0.006], \"aperture\": 0.008,"
    "    \"signal\": {\"type\": \"tone_burst\", \"frequency\": 400000, \"cycles\": 2}},"
    "   {\"type\": \"velocity\", \"position\": [0.012, 0.01, 0.002], \"direction\": [0, 0, 1],"
    "    \"signal\": {\"type\": \"ricker\", \"frequency\": 300000}},"
    "   {\"type\": \"pressure\", \"mode\": \"impose\", \"shape\": \"plane\", \"axis\": \"x\", \"at\": 0.014,"
    "    \"amplitude\": 0.2, \"signal\": {\"type\": \"ricker\", \"frequency\": 300000, \"delay\": 8e-6}}],"
    " \"sensors\": {\"every\": 2,"
    "   \"quantities\": [\"Vx\", \"Vy\", \"Vz\", \"Sigma_xx\", \"Sigma_yy\", \"Sigma_zz\","
    "                    \"Sigma_xy\", \"Sigma_xz\", \"Sigma_yz\", \"Pressure\"],"
    "   \"points\": [[0.009, 0.0105, 0.004], [0.01, 0.011, 0.0]],"
    "   \"planes\": [{\"axis\": \"z\", \"at\": 0.003}]}}",
    TOLERANCE);
}

/* --- launch variants (wb-tune.h pins) ---------------------------------
 *
 * Every launch variant of the particle and stress kernels, pinned through
 * WAVEBENCH_TUNE_PIN, on an awkward grid (no axis a multiple of a work-group
 * or column length), lossy, with a PML on every face and two materials. */

#define VARIANT_PRESET \
  "{\"solver\": \"vwe\", \"grid\": {\"shape\": [45, 37, 29], \"spacing\": 0.0005}," \
  " \"time\": {\"steps\": 120}, \"boundary\": {\"pml_cells\": 6%s}," \
  " \"materials\": [" \
  "   {\"name\": \"water\", \"density\": 1000, \"cL\": 1500, \"alphaL\": 5}," \
  "   {\"name\": \"bone\", \"density\": 1900, \"cL\": 2800, \"cS\": 1400, \"alphaL\": 20, \"alphaS\": 40}]," \
  " \"boxes\": [{\"material\": \"bone\", \"min\": [0.0, 0.008, 0.004], \"max\": [0.016, 0.011, 0.009]}]," \
  " \"sources\": [" \
  "   {\"type\": \"pressure\", \"position\": [0.011, 0.006, 0.007]," \
  "    \"signal\": {\"type\": \"tone_burst\", \"frequency\": 400000, \"cycles\": 2}}," \
  "   {\"type\": \"velocity\", \"position\": [0.012, 0.01, 0.006], \"direction\": [0, 1, 1]," \
  "    \"signal\": {\"type\": \"ricker\", \"frequency\": 300000}}]," \
  " \"sensors\": {\"every\": 2, \"quantities\": [\"Vz\", \"Sigma_xz\", \"Pressure\"]," \
  "   \"points\": [[0.011, 0.0095, 0.006], [0.018, 0.006, 0.007]]}}"

/* Pins: the cell kernels with an explicit work-group (the baseline has
 * the implementation's), the z-marching kernels with and without tiles,
 * interior (as columns or cells) and shell, the split stress update, with column lengths that do not divide 29, one
 * longer than the grid, one cell per work-item, work-groups that overhang
 * the grid, and mixed. */
static const char *const variant_pins[] = {
  "vwe-=cell:8x4x2", "vwe-=zm:8x4x1:8", "vwe-=zm:16x2x1:5",
  "vwe-=zm:8x4x1:64", "vwe-=zm:8x4x1:1", "vwe-particle=cell:8x4x2;vwe-stress=zm:16x2x1:16",
  "vwe-=zl:16x2x1:5", "vwe-particle=zl:8x4x1:64;vwe-stress=zl:8x4x1:3", "vwe-=in:8x4x1:5",
  "vwe-particle=zm:16x2x1:7;vwe-stress=split:8x4x2", "vwe-=ic:8x4x2",
};

/* The cell and zm kernels compute the same float operations in the same
 * order; only a compiler's contraction into fused multiply-adds may
 * differ, by an ulp of an intermediate.  On PoCL they agree bit for bit.
 * Bounds, in ulps of the field's largest magnitude: one step from a
 * random state, 4; after the run's 120 steps, 64 (the differences of each
 * step travel with the waves and add up). */
#define ULP (1.0 / 8388608.0)

static WbSim *
make_pinned (const char *json,
             WbDevice   *dev,
             const char *pin)
{
  WbSim *sim;

  if (pin)
    g_setenv ("WAVEBENCH_TUNE_PIN", pin, TRUE);
  else
    g_unsetenv ("WAVEBENCH_TUNE_PIN");
  sim = make (json, dev);
  g_unsetenv ("WAVEBENCH_TUNE_PIN");
  return sim;
}

/* Largest |a - b| over every field and the largest |a| (per field: the
 * worst ratio is returned). */
static double
worst_field_ratio (WbSim *a,
                   WbSim *b)
{
  g_autoptr(GError) error = NULL;
  double worst = 0;

  for (guint f = 0; a->field_names[f]; f++)
    {
      g_autoptr(WbField) fa = wb_sim_read_field (a, a->field_names[f], &error);
      g_autoptr(WbField) fb = wb_sim_read_field (b, a->field_names[f], &error);
      double scale = 0, diff = 0;

      g_assert_no_error (error);
      for (gsize c = 0; c < wb_field_n_elements (fa); c++)
        {
          g_assert_true (isfinite (fb->data[c]));
          scale = MAX (scale, fabs (fa->data[c]));
          diff = MAX (diff, fabs ((double) fa->data[c] - fb->data[c]));
        }
      g_assert_cmpfloat (scale, >, 0);
      worst = MAX (worst, diff / scale);
    }
  return worst;
}

static void
test_variants_agree (void)
{
  g_autoptr(WbDevice) cl_dev = find_device ("opencl");
  g_autoptr(WbDevice) ref_dev = find_device ("reference");
  g_autofree char *json = g_strdup_printf (VARIANT_PRESET, "");
  g_autoptr(WbSim) ref = NULL;
  g_autoptr(WbSim) base = NULL;
  g_autoptr(GError) error = NULL;

  if (cl_dev == NULL)
    {
      g_test_skip ("no OpenCL device");
      return;
    }
  ref = make (json, ref_dev);
  g_assert_true (wb_sim_step (ref, ref->total_steps, &error));
  base = make_pinned (json, cl_dev, "vwe-=cell:0x0x0");
  g_assert_true (wb_sim_step (base, base->total_steps, &error));
  g_assert_no_error (error);
  /* Each variant against the reference, as for the other problems, and
   * against the cell kernels with today's launch. */
  for (guint v = 0; v < G_N_ELEMENTS (variant_pins); v++)
    {
      g_autoptr(WbSim) sim = make_pinned (json, cl_dev, variant_pins[v]);
      double r;

      /* In two calls, to cover the column state across step() calls. */
      g_assert_true (wb_sim_step (sim, 50, &error));
      g_assert_true (wb_sim_step (sim, sim->total_steps - 50, &error));
      g_assert_true (wb_sim_finish (sim, &error));
      g_assert_no_error (error);
      g_test_message ("pin %s: against the reference", variant_pins[v]);
      compare_sims (ref, sim, TOLERANCE);
      r = worst_field_ratio (base, sim);
      g_test_message ("pin %s: against the cell kernels %.3g of the peak (%.1f ulps)",
                      variant_pins[v], r, r / ULP);
      g_assert_cmpfloat (r, <=, 64 * ULP);
    }
}

/* Fills the velocities and stresses with the same random values in both
 * sims (velocities in [-1, 1] m/s, stresses in [-1, 1] MPa, so that both
 * kernels' updates are of the order of the fields), steps once, and
 * checks that they agree and that every cell the cell kernels changed,
 * the variant changed too: a cell that a launch misses keeps its random
 * value.  Velocities and normal stresses change everywhere; shear
 * stresses do not change in the fluid (the shear modulus is 0 there). */
static void
check_cover (const char *json,
             const char *pin)
{
  g_autoptr(WbDevice) cl_dev = find_device ("opencl");
  g_autoptr(WbSim) a = make_pinned (json, cl_dev, "vwe-=cell:0x0x0");
  g_autoptr(WbSim) b = make_pinned (json, cl_dev, pin);
  g_autoptr(GRand) rng = g_rand_new_with_seed (8);
  g_autoptr(GError) error = NULL;
  const gsize n = a->shape[0] * a->shape[1] * a->shape[2];
  g_autofree float *buf = g_new (float, n);
  g_autoptr(GHashTable) before = g_hash_table_new_full (g_str_hash, g_str_equal, NULL, g_free);
  const char *const fields[] = {
    "Vx", "Vy", "Vz", "Sigma_xx", "Sigma_yy", "Sigma_zz", "Sigma_xy", "Sigma_xz", "Sigma_yz"
  };
  double r;

  for (guint f = 0; f < G_N_ELEMENTS (fields); f++)
    {
      for (gsize c = 0; c < n; c++)
        buf[c] = (float) g_rand_double_range (rng, -1, 1) * (fields[f][0] == 'V' ? 1.0f : 1e6f);
      g_assert_true (wb_cl_write (a->cl, wb_sim_field_buffer (a, fields[f]), 0, n * sizeof (float),
                                  buf, &error));
      g_assert_true (wb_cl_write (b->cl, wb_sim_field_buffer (b, fields[f]), 0, n * sizeof (float),
                                  buf, &error));
      g_assert_no_error (error);
      g_hash_table_insert (before, (gpointer) fields[f], g_memdup2 (buf, n * sizeof (float)));
    }
  g_assert_true (wb_sim_step (a, 1, &error));
  g_assert_true (wb_sim_step (b, 1, &error));
  g_assert_true (wb_sim_finish (b, &error));
  g_assert_no_error (error);
  for (guint f = 0; f < G_N_ELEMENTS (fields); f++)
    {
      const float *old = g_hash_table_lookup (before, fields[f]);
      g_autoptr(WbField) fa = wb_sim_read_field (a, fields[f], &error);
      g_autoptr(WbField) fb = wb_sim_read_field (b, fields[f], &error);
      gsize same_a = 0, missed = 0;

      g_assert_no_error (error);
      for (gsize c = 0; c < n; c++)
        {
          same_a += fa->data[c] == old[c];
          missed += fb->data[c] == old[c] && fa->data[c] != old[c];
        }
      if (same_a || missed)
        g_test_message ("%s: %" G_GSIZE_FORMAT " cells unchanged by the cell kernels, %"
                        G_GSIZE_FORMAT " more by %s", fields[f], same_a, missed, pin);
      g_assert_cmpuint (missed, ==, 0);
      if (f < 6)
        g_assert_cmpuint (same_a, ==, 0);
      else
        g_assert_cmpuint (same_a, <, n);
    }
  r = worst_field_ratio (a, b);
  g_test_message ("pin %s: one step from a random state, %.3g of the peak (%.1f ulps)", pin, r,
                  r / ULP);
  g_assert_cmpfloat (r, <=, 4 * ULP);
}

static void
test_variants_cover (void)
{
  g_autoptr(WbDevice) cl_dev = find_device ("opencl");
  g_autofree char *json = g_strdup_printf (VARIANT_PRESET, "");
  g_autofree char *json_per = g_strdup_printf (VARIANT_PRESET, ", \"periodic\": [\"z\"]");

  if (cl_dev == NULL)
    {
      g_test_skip ("no OpenCL device");
      return;
    }
  /* The new kernels (variant_pins[0] is a cell kernel); the periodic z
   * edge with a column length and a work-group that do not divide the grid,
   * through the tiles' fill and through the shell kernel (zm's edge code is
   * the shell's; PoCL compiles each work-group size anew: a few, to keep
   * this short). */
  for (guint v = 1; v < G_N_ELEMENTS (variant_pins); v++)
    check_cover (json, variant_pins[v]);
  check_cover (json_per, "vwe-=zl:8x4x1:5");
  check_cover (json_per, "vwe-=in:8x4x1:5");
  check_cover (json_per, "vwe-=ic:8x4x2");
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/wavebench/vwe-opencl/agreement-2d", test_agreement_2d);
  g_test_add_func ("/wavebench/vwe-opencl/agreement-3d", test_agreement_3d);
  g_test_add_func ("/wavebench/vwe-opencl/variants-agree", test_variants_agree);
  g_test_add_func ("/wavebench/vwe-opencl/variants-cover", test_variants_cover);
  return g_test_run ();
}
