/* wb-vwe.c: the viscoelastic wave solver (vwe) as a WbSim: 2D plane strain
 * and 3D staggered-grid velocity-stress, 4th order in space, leapfrog in
 * time, one standard-linear-solid memory variable per stress, CPML.
 *
 * The preset is parsed by wb-vwe-preset.c; the reference backend lives in
 * wb-vwe-ref.c; this file runs kernels/vwe.cl.  Per step the queue gets:
 * vwe_particle, one vwe_source_velocity per velocity source, vwe_stress,
 * one vwe_source_stress per pressure source, and vwe_sensors when a sample
 * is due; no host wait.
 */
#define G_LOG_DOMAIN "wb-vwe"
#include "config.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "wb-error.h"
#include "wb-launch.h"
#include "wb-tune.h"
#include "wb-vwe-private.h"

enum { XX, YY, ZZ, XY, XZ, YZ };

typedef struct
{
  cl_mem cells;     /* int per point */
  cl_mem prm;       /* float4: delay (half steps), w0, w1, w2 */
  cl_mem table;     /* half-step signal */
} VweClSource;

/* The kernels of one build of vwe.cl that the launch choices use. */
enum {
  K_STRESS, K_PARTICLE, K_STRESS_ZM, K_PARTICLE_ZM, K_STRESS_ZL, K_PARTICLE_ZL,
  K_STRESS_IN, K_PARTICLE_IN, K_STRESS_SHELL, K_PARTICLE_SHELL, K_STRESS_IC, K_PARTICLE_IC,
  K_STRESS_N, K_STRESS_S, K_N
};

/* Stress kernels at even indices, particle kernels at odd ones, except
 * the two halves of the split stress update at the end. */
static const char * const kernel_names[K_N] = {
  "vwe_stress", "vwe_particle", "vwe_stress_zm", "vwe_particle_zm", "vwe_stress_zl",
  "vwe_particle_zl", "vwe_stress_in", "vwe_particle_in", "vwe_stress_shell",
  "vwe_particle_shell", "vwe_stress_ic", "vwe_particle_ic", "vwe_stress_n", "vwe_stress_s"
};

#define IS_STRESS_KERNEL(i) ((i) % 2 == 0 || (i) >= K_STRESS_N)

/* A build with NVIDIA's register cap (-cl-nv-maxrregcount). */
typedef struct
{
  guint      cap;
  cl_program program;   /* NULL: the build failed (failure says why) */
  cl_kernel  k[K_N];
  char      *failure;
} VweProgram;

static void
vwe_program_free (gpointer p)
{
  VweProgram *vp = p;

  for (guint i = 0; i < K_N; i++)
    WB_CL_RELEASE (vp->k[i], clReleaseKernel);
  WB_CL_RELEASE (vp->program, clReleaseProgram);
  g_free (vp->failure);
  g_free (vp);
}

typedef struct
{
  WbSim       parent;
  VweConfig  *cfg;
  VweRef     *ref;

  /* OpenCL */
  cl_program  program;
  cl_kernel   k_stress, k_particle, k_src_v, k_src_s, k_sensors;
  cl_kernel   kv[K_N];                  /* the variants' kernels (K_STRESS, K_PARTICLE
                                           * borrowed from above), NULL where absent */
  cl_mem      mat, tab, pml, dummy;
  cl_mem      v[3], s[6], r[6], psi[3];
  cl_mem      peak, sumsq, chan, traces;
  VweClSource *src;
  guint       n_samples;
  /* Launch choices (wb-tune.h): variant "cell" (vwe_stress, vwe_particle)
   * or "zm" (the z-marching kernels, param = cells per work-item). */
  WbTuneChoice tune_stress, tune_particle;
  WbTuneChoice tune_default;              /* today's launch (default_cell) */
  cl_kernel   ks, kp;                     /* the chosen kernels, borrowed */
  cl_kernel   ks_shell, kp_shell;         /* and the shell's, for variant "in" */
  GPtrArray  *capped;                     /* VweProgram: builds with a register cap */
  char       *defines;                    /* of the program, for the capped builds */
  gboolean    regs_reported;              /* the uncapped build's registers printed */
  gboolean    stress_via_dbg;             /* the choice is vwe_stress of the main build */
  gboolean    debug_active;           /* kernel debugging: cell kernels as configured */
  WbKernelDebug *dbg;             /* kernel debugging (wb-launch.h) */
  const WbKernelConfig *pending;  /* the config cl_init builds, borrowed */
} WbVwe;

static const char *fields_2d[] = {
  "Vx", "Vy", "Sigma_xx", "Sigma_yy", "Sigma_xy", "Pressure",
  "Pressure_peak", "Pressure_rms", "material", NULL
};
static const char *fields_2d_nomaps[] = {
  "Vx", "Vy", "Sigma_xx", "Sigma_yy", "Sigma_xy", "Pressure", "material", NULL
};
static const char *fields_3d[] = {
  "Vx", "Vy", "Vz", "Sigma_xx", "Sigma_yy", "Sigma_zz", "Sigma_xy", "Sigma_xz",
  "Sigma_yz", "Pressure", "Pressure_peak", "Pressure_rms", "material", NULL
};
static const char *fields_3d_nomaps[] = {
  "Vx", "Vy", "Vz", "Sigma_xx", "Sigma_yy", "Sigma_zz", "Sigma_xy", "Sigma_xz",
  "Sigma_yz", "Pressure", "material", NULL
};

static const char * const stress_names[6] = {
  "Sigma_xx", "Sigma_yy", "Sigma_zz", "Sigma_xy", "Sigma_xz", "Sigma_yz"
};
static const char * const velocity_names[3] = { "Vx", "Vy", "Vz" };

static void
vwe_free (WbSim *sim)
{
  WbVwe *s = (WbVwe *) sim;

  if (s->src && s->cfg)
    {
      for (guint i = 0; i < s->cfg->sources->len; i++)
        {
          WB_CL_RELEASE (s->src[i].cells, clReleaseMemObject);
          WB_CL_RELEASE (s->src[i].prm, clReleaseMemObject);
          WB_CL_RELEASE (s->src[i].table, clReleaseMemObject);
        }
    }
  g_free (s->src);
  for (int a = 0; a < 3; a++)
    {
      WB_CL_RELEASE (s->v[a], clReleaseMemObject);
      WB_CL_RELEASE (s->psi[a], clReleaseMemObject);
    }
  for (int q = 0; q < 6; q++)
    {
      WB_CL_RELEASE (s->s[q], clReleaseMemObject);
      WB_CL_RELEASE (s->r[q], clReleaseMemObject);
    }
  WB_CL_RELEASE (s->mat, clReleaseMemObject);
  WB_CL_RELEASE (s->tab, clReleaseMemObject);
  WB_CL_RELEASE (s->pml, clReleaseMemObject);
  WB_CL_RELEASE (s->dummy, clReleaseMemObject);
  WB_CL_RELEASE (s->peak, clReleaseMemObject);
  WB_CL_RELEASE (s->sumsq, clReleaseMemObject);
  WB_CL_RELEASE (s->chan, clReleaseMemObject);
  WB_CL_RELEASE (s->traces, clReleaseMemObject);
  WB_CL_RELEASE (s->k_stress, clReleaseKernel);
  WB_CL_RELEASE (s->k_particle, clReleaseKernel);
  for (guint i = K_STRESS_ZM; i < K_N; i++)
    WB_CL_RELEASE (s->kv[i], clReleaseKernel);
  g_clear_pointer (&s->capped, g_ptr_array_unref);
  g_free (s->defines);
  WB_CL_RELEASE (s->k_src_v, clReleaseKernel);
  WB_CL_RELEASE (s->k_src_s, clReleaseKernel);
  WB_CL_RELEASE (s->k_sensors, clReleaseKernel);
  WB_CL_RELEASE (s->program, clReleaseProgram);
  g_clear_pointer (&s->dbg, wb_kernel_debug_free);
  g_clear_pointer (&s->ref, vwe_ref_free);
  g_clear_pointer (&s->cfg, vwe_config_free);

  /* wb_sim_free leaves the whole object to the class. */
  g_clear_pointer (&sim->cl, wb_cl_context_unref);
  g_clear_pointer (&sim->device, wb_device_unref);
  g_clear_pointer (&sim->preset, wb_preset_free);
  g_free (s);
}

/* A float literal that survives any locale. */
static char *
flit (double v)
{
  char buf[G_ASCII_DTOSTR_BUF_SIZE];

  g_ascii_formatd (buf, sizeof buf, "%.9e", v);
  return g_strdup_printf ("%sf", buf);
}

/* The CPML factors of kernels/vwe.cl, per axis: b and a at integer nodes,
 * then at half nodes.  Damping d0 (depth/N)^2, d0 = 3 c_max ln(1/R) / (2 N h)
 * (Collino and Tsogka), frequency shift pi f0 falling to 0 at the outer
 * edge (Komatitsch and Martin). */
static void
pml_factors (const VweConfig *cfg,
             guint            axis,
             float           *out)
{
  const gsize n = cfg->n[axis];
  const guint N = vwe_config_pml_width (cfg, axis);
  const double d0 = N ? 3 * cfg->c_max * log (1 / cfg->pml_reflection) / (2.0 * N * cfg->h) : 0;

  for (gsize i = 0; i < n; i++)
    for (int half = 0; half < 2; half++)
      {
        double x = i + 0.5 * half;
        double lo = N - 0.5, hi = (double) n - N - 0.5;
        double depth = N == 0 ? 0 : x < lo ? (lo - x) / N : x > hi ? (x - hi) / N : 0;
        double b = 1, a = 0;

        if (depth > 0)
          {
            double d = d0 * depth * depth;
            double al = G_PI * cfg->f0 * (1 - depth);

            b = exp (-(d + al) * cfg->dt);
            a = d / (d + al) * (b - 1);
          }
        out[(2 * half) * n + i] = (float) b;
        out[(2 * half + 1) * n + i] = (float) a;
      }
}

static cl_mem
new_zeroed (WbVwe      *s,
            gsize       n_floats,
            const char *what,
            GError    **error)
{
  WbClContext *cl = s->parent.cl;
  cl_mem m = wb_cl_buffer_new (cl, CL_MEM_READ_WRITE, n_floats * sizeof (float), NULL, what, error);

  if (m && !wb_cl_fill_float (cl, m, 0.0f, n_floats, error))
    {
      clReleaseMemObject (m);
      return NULL;
    }
  return m;
}

static gboolean
set_args (cl_kernel       kernel,
          const cl_mem  **bufs,
          guint           n,
          GError        **error)
{
  for (guint i = 0; i < n; i++)
    if (!wb_cl_set_arg (kernel, i, sizeof (cl_mem), bufs[i], error))
      return FALSE;
  return TRUE;
}

/* --- launch variants and their tuning (wb-tune.h) --------------------- */

/* Any kernel-debugging option: then the cell kernels run exactly as the
 * tools expect (their own launch, probes, variants, local override). */
static gboolean
debug_config_active (const WbKernelConfig *c)
{
  return c->kernel_file != NULL || c->variant != NULL || c->probes || c->local[0] > 0
         || c->kernel_dir != NULL;
}

/* The z-marching kernels index in 32 bits: every array must fit. */
static gboolean
zm_fits (const VweConfig *cfg)
{
  guint64 biggest = cfg->n_cells;

  for (guint a = 0; a < cfg->ndim; a++)
    biggest = MAX (biggest, (guint64) 2 * cfg->ndim * 2 * vwe_config_pml_width (cfg, a)
                            * (cfg->n_cells / cfg->n[a]));
  return biggest < G_MAXINT32 / 2;
}

static gboolean set_field_args (WbVwe *s, cl_kernel k, gboolean stress, GError **error);

/* A variant is a kernel family ("cell", "zm", "zl") with, on NVIDIA, an
 * optional register cap: "zm-r64" builds with -cl-nv-maxrregcount=64.
 * Copies the family into @base (32 bytes) and returns the cap (0: none). */
static guint
variant_split (const WbTuneChoice *c,
               char               *base)
{
  const char *r = strstr (c->variant, "-r");
  guint64 cap = 0;

  g_strlcpy (base, c->variant, 32);
  if (r == NULL)
    return 0;
  base[r - c->variant] = '\0';
  /* A malformed cap reads as 1: refused by capped_program. */
  if (!g_ascii_string_to_unsigned (r + 2, 10, 1, 255, &cap, NULL))
    return 1;
  return (guint) cap;
}

static gboolean
is_cell (const WbTuneChoice *c)
{
  char base[32];

  variant_split (c, base);
  return base[0] == '\0' || g_str_equal (base, "cell");
}

/* The column kernels: zm, zl (zm with local-memory tiles) and in (the
 * interior without PML or edges as columns, the shell cell by cell). */
static gboolean
is_zm (const WbTuneChoice *c)
{
  char base[32];

  variant_split (c, base);
  return g_str_equal (base, "zm") || g_str_equal (base, "zl") || g_str_equal (base, "in")
         || g_str_equal (base, "ic");
}

/* The interior in the cell layout (one cell per work-item), the shell as
 * for "in". */
static gboolean
is_ic (const WbTuneChoice *c)
{
  char base[32];

  variant_split (c, base);
  return g_str_equal (base, "ic");
}

/* The stress update in two cell-layout launches (the particle kernel of a
 * "split" choice is the cell one). */
static gboolean
is_split (const WbTuneChoice *c)
{
  char base[32];

  variant_split (c, base);
  return g_str_equal (base, "split");
}

static gboolean
has_caps (const WbVwe *s)
{
  return wb_device_has_extension (s->parent.device, "cl_nv_compiler_options");
}

/* Prints what ptxas says of the vwe kernels of a -cl-nv-verbose build:
 * registers per work-item and spills. */
static void
report_registers (WbVwe      *s,
                  cl_program  program,
                  guint       cap)
{
  size_t size = 0;
  g_autofree char *log = NULL;
  g_auto(GStrv) lines = NULL;
  g_autoptr(GString) out = g_string_new (NULL);
  g_autofree char *fn = NULL;
  g_autofree char *spill = NULL;

  if (clGetProgramBuildInfo (program, s->parent.device->device, CL_PROGRAM_BUILD_LOG, 0, NULL,
                             &size) != CL_SUCCESS || size == 0)
    return;
  log = g_malloc0 (size + 1);
  if (clGetProgramBuildInfo (program, s->parent.device->device, CL_PROGRAM_BUILD_LOG, size, log,
                             NULL) != CL_SUCCESS)
    return;
  lines = g_strsplit (log, "\n", -1);
  for (guint i = 0; lines[i]; i++)
    {
      const char *p;

      /* "Compiling entry function 'K' for 'sm_90'", then "Function
       * properties for K", its stack and spill line, "Used N registers". */
      if ((p = strstr (lines[i], "entry function '")) != NULL)
        {
          const char *e;

          p += strlen ("entry function '");
          e = strchr (p, '\'');
          g_free (fn);
          fn = e ? g_strndup (p, e - p) : NULL;
          g_clear_pointer (&spill, g_free);
        }
      else if ((p = strstr (lines[i], "Function properties for ")) != NULL)
        {
          g_free (fn);
          fn = g_strstrip (g_strdup (p + strlen ("Function properties for ")));
          g_clear_pointer (&spill, g_free);
        }
      else if (fn && (p = strstr (lines[i], "bytes spill stores")) != NULL)
        {
          guint st = 0, ld = 0;
          const char *q = strstr (lines[i], "stack frame, ");

          if (q && sscanf (q, "stack frame, %u bytes spill stores, %u bytes spill loads",
                           &st, &ld) == 2 && (st || ld))
            {
              g_free (spill);
              spill = g_strdup_printf (" spills %u/%u B", st, ld);
            }
        }
      else if (fn && (p = strstr (lines[i], "Used ")) != NULL && strstr (p, "registers"))
        {
          if (g_str_has_prefix (fn, "vwe_stress") || g_str_has_prefix (fn, "vwe_particle"))
            g_string_append_printf (out, "%s%s %d regs%s", out->len ? ", " : "", fn,
                                    atoi (p + 5), spill ? spill : "");
          g_clear_pointer (&fn, g_free);
          g_clear_pointer (&spill, g_free);
        }
    }
  if (out->len && cap >= 255)
    g_message ("vwe registers, no cap: %s", out->str);
  else if (out->len)
    g_message ("vwe registers, cap %u: %s", cap, out->str);
}

/* The build of vwe.cl with register cap @cap (255: none, for the report),
 * made at first use. */
static VweProgram *
capped_program (WbVwe   *s,
                guint    cap,
                GError **error)
{
  g_autofree char *opts = NULL;
  VweProgram *vp;

  for (guint i = 0; s->capped && i < s->capped->len; i++)
    {
      vp = g_ptr_array_index (s->capped, i);
      if (vp->cap != cap)
        continue;
      /* A failed build fails every candidate with its cap at once. */
      if (vp->program == NULL)
        {
          g_set_error (error, WB_ERROR, WB_ERROR_BUILD, "%s", vp->failure);
          return NULL;
        }
      return vp;
    }
  if (!has_caps (s) || cap < 16)
    {
      g_set_error (error, WB_ERROR, WB_ERROR_INVALID,
                   "vwe: a register cap (-rN, N from 16 to 255) needs NVIDIA's OpenCL "
                   "(cl_nv_compiler_options)");
      return NULL;
    }
  vp = g_new0 (VweProgram, 1);
  vp->cap = cap;
  opts = g_strdup_printf ("-cl-nv-maxrregcount=%u -cl-nv-verbose", cap);
  if (s->capped == NULL)
    s->capped = g_ptr_array_new_with_free_func (vwe_program_free);
  g_ptr_array_add (s->capped, vp);
  vp->program = wb_cl_build_program (s->parent.cl, "vwe.cl", s->defines, opts, error);
  for (guint i = 0; vp->program && i < K_N; i++)
    {
      /* Only what the main build has. */
      if (s->kv[i] == NULL)
        continue;
      if (!(vp->k[i] = wb_cl_create_kernel (vp->program, kernel_names[i], error))
          || !set_field_args (s, vp->k[i], IS_STRESS_KERNEL (i), error))
        {
          for (guint j = 0; j < K_N; j++)
            WB_CL_RELEASE (vp->k[j], clReleaseKernel);
          WB_CL_RELEASE (vp->program, clReleaseProgram);
        }
    }
  if (vp->program == NULL)
    {
      vp->failure = g_strdup (error && *error ? (*error)->message : "build failed");
      return NULL;
    }
  report_registers (s, vp->program, cap);
  return vp;
}

/* Cells per work-item of a zm choice (param 0: 16). */
static guint
zm_cells (const WbTuneChoice *c)
{
  return c->param ? c->param : 16;
}

static WbTuneChoice
make_choice (const char *variant,
             gsize       lx,
             gsize       ly,
             gsize       lz,
             guint       param)
{
  WbTuneChoice c = { "", { lx, ly, lz }, param };

  g_strlcpy (c.variant, variant, sizeof c.variant);
  return c;
}

/* Today's launch, the default: GPUs want x-contiguous groups of a warp's
 * multiple, a few rows deep so that the y (and z) neighbours are shared
 * in cache; CPU devices do better with the implementation's own choice,
 * which vectorises along x. */
static WbTuneChoice
default_cell (const WbVwe *s)
{
  const WbSim *sim = &s->parent;
  size_t wg = 0;

  clGetKernelWorkGroupInfo (s->k_stress, sim->device->device, CL_KERNEL_WORK_GROUP_SIZE,
                            sizeof wg, &wg, NULL);
  if (sim->device->kind == WB_DEVICE_KIND_CPU || wg < 256)
    return make_choice ("cell", 0, 0, 0, 0);
  return s->cfg->ndim == 3 ? make_choice ("cell", 32, 4, 2, 0) : make_choice ("cell", 32, 8, 1, 0);
}

/* The first candidate: today's launch, except on CPU devices in 3D, where
 * PoCL runs the interior without CPML or edge code (ic, particle) and the
 * stress update in two halves (split) about twice as fast as the cell
 * kernels (2.3-2.9e7 against 1.2-1.3e7 cell updates/s at 128^3 on this
 * 2-core machine, docs/performance.md). */
static WbTuneChoice
default_choice (const WbVwe *s,
                gboolean     stress)
{
  if (s->parent.device->kind == WB_DEVICE_KIND_CPU && s->kv[K_STRESS_IC] != NULL
      && s->kv[K_STRESS_N] != NULL)
    return stress ? make_choice ("split", 0, 0, 0, 0) : make_choice ("ic", 0, 0, 0, 0);
  return default_cell (s);
}

/* Candidates, the default first: the cell kernels over work-group shapes,
 * then (3D) the z-marching kernels over (x, y) shapes and column lengths;
 * zm with 1 cell per work-item is the lean cell kernel (no queue reuse)
 * and isolates what the folding and 32-bit indexing alone give. */
static GArray *
candidates_full (const WbVwe *s,
                 gboolean     stress)
{
  GArray *c = g_array_new (FALSE, TRUE, sizeof (WbTuneChoice));
  const gboolean cpu = s->parent.device->kind == WB_DEVICE_KIND_CPU;
  WbTuneChoice d = default_choice (s, stress), t;
  static const gsize cell3[][3] = {
    { 32, 4, 2 }, { 32, 8, 1 }, { 64, 4, 1 }, { 128, 2, 1 }, { 32, 2, 4 }, { 64, 2, 2 },
    { 256, 1, 1 }, { 0, 0, 0 },
  };
  static const gsize cell2[][3] = {
    { 32, 8, 1 }, { 32, 4, 1 }, { 64, 4, 1 }, { 128, 2, 1 }, { 256, 1, 1 }, { 16, 16, 1 },
    { 64, 8, 1 }, { 0, 0, 0 },
  };
  static const gsize zm_shapes[][2] = {
    { 32, 4 }, { 32, 8 }, { 64, 4 }, { 64, 2 }, { 128, 2 }, { 128, 1 }, { 256, 1 }, { 32, 16 },
  };
  static const guint zm_len[] = { 8, 16, 32, 64 };
  static const guint caps[] = { 24, 32, 40, 48, 64, 96 };
  static const struct { const char *variant; gsize l[3]; guint zc; } capped[] = {
    { "cell", { 32, 4, 2 }, 0 }, { "cell", { 64, 2, 2 }, 0 }, { "cell", { 64, 4, 1 }, 0 },
    { "cell", { 64, 4, 2 }, 0 }, { "cell", { 32, 8, 2 }, 0 },
    { "zm", { 32, 4, 1 }, 8 }, { "zm", { 64, 2, 1 }, 8 }, { "zm", { 128, 1, 1 }, 8 },
    { "zm", { 32, 8, 1 }, 8 }, { "zm", { 32, 16, 1 }, 8 }, { "zm", { 64, 4, 1 }, 16 },
    { "zl", { 32, 4, 1 }, 8 }, { "zl", { 32, 8, 1 }, 8 }, { "zl", { 64, 4, 1 }, 8 },
    { "in", { 32, 4, 1 }, 8 }, { "in", { 64, 2, 1 }, 8 }, { "in", { 128, 1, 1 }, 8 },
    { "in", { 32, 8, 1 }, 8 }, { "in", { 32, 16, 1 }, 8 }, { "in", { 64, 4, 1 }, 16 },
    { "split", { 32, 4, 2 }, 0 }, { "split", { 64, 2, 2 }, 0 }, { "split", { 64, 4, 1 }, 0 },
    { "ic", { 32, 4, 2 }, 0 }, { "ic", { 64, 2, 2 }, 0 }, { "ic", { 64, 4, 1 }, 0 },
  };
  static const gsize in_shapes[][2] = { { 32, 4 }, { 32, 8 }, { 64, 4 }, { 64, 2 }, { 128, 1 } };
  static const gsize split_shapes[][3] = {
    { 32, 4, 2 }, { 64, 2, 2 }, { 64, 4, 1 }, { 32, 8, 1 }, { 128, 2, 1 },
  };
  /* Tiles want rows: the halo costs (LX + 4)(LY + 4) / (LX LY). */
  static const gsize zl_shapes[][2] = { { 32, 4 }, { 32, 8 }, { 64, 4 }, { 32, 16 }, { 64, 8 } };

  g_array_append_val (c, d);
  for (guint i = 0; i < G_N_ELEMENTS (cell3); i++)
    {
      const gsize *l = s->cfg->ndim == 3 ? cell3[i] : cell2[i];

      t = make_choice ("cell", l[0], l[1], l[2], 0);
      if (!g_str_equal (d.variant, "cell") || memcmp (t.local, d.local, sizeof t.local) != 0)
        g_array_append_val (c, t);
    }
  if (s->kv[K_STRESS_ZM] == NULL)
    return c;
  if (cpu)
    {
      for (guint z = 0; z < G_N_ELEMENTS (zm_len); z++)
        {
          t = make_choice ("zm", 0, 0, 0, zm_len[z]);
          g_array_append_val (c, t);
        }
      t = make_choice ("zl", 16, 4, 1, 16);
      g_array_append_val (c, t);
      t = make_choice ("zl", 32, 4, 1, 16);
      g_array_append_val (c, t);
      if (s->kv[K_STRESS_IN])
        {
          t = make_choice ("in", 0, 0, 0, 16);
          g_array_append_val (c, t);
        }
      return c;
    }
  for (guint i = 0; i < G_N_ELEMENTS (zm_shapes); i++)
    for (guint z = 0; z < G_N_ELEMENTS (zm_len); z++)
      {
        t = make_choice ("zm", zm_shapes[i][0], zm_shapes[i][1], 1, zm_len[z]);
        g_array_append_val (c, t);
      }
  t = make_choice ("zm", 32, 8, 1, 1);
  g_array_append_val (c, t);
  t = make_choice ("zm", 64, 4, 1, 1);
  g_array_append_val (c, t);
  for (guint i = 0; i < G_N_ELEMENTS (zl_shapes); i++)
    for (guint z = 0; z < G_N_ELEMENTS (zm_len); z++)
      {
        t = make_choice ("zl", zl_shapes[i][0], zl_shapes[i][1], 1, zm_len[z]);
        g_array_append_val (c, t);
      }
  for (guint i = 0; stress && s->kv[K_STRESS_N] && i < G_N_ELEMENTS (split_shapes); i++)
    {
      t = make_choice ("split", split_shapes[i][0], split_shapes[i][1], split_shapes[i][2], 0);
      g_array_append_val (c, t);
    }
  for (guint i = 0; s->kv[K_STRESS_IC] && i < G_N_ELEMENTS (split_shapes); i++)
    {
      t = make_choice ("ic", split_shapes[i][0], split_shapes[i][1], split_shapes[i][2], 0);
      g_array_append_val (c, t);
    }
  for (guint i = 0; s->kv[K_STRESS_IN] && i < G_N_ELEMENTS (in_shapes); i++)
    for (guint z = 0; z < 3; z++)
      {
        t = make_choice ("in", in_shapes[i][0], in_shapes[i][1], 1, zm_len[z]);
        g_array_append_val (c, t);
      }
  /* NVIDIA: every kernel at 256 work-items at most without a cap (over
   * 128 registers, a quarter of the warps a bandwidth kernel wants);
   * capped builds trade spills for occupancy, and allow 512-item groups. */
  if (has_caps (s))
    for (guint r = 0; r < G_N_ELEMENTS (caps); r++)
      for (guint i = 0; i < G_N_ELEMENTS (capped); i++)
        {
          g_autofree char *v = g_strdup_printf ("%s-r%u", capped[i].variant, caps[r]);

          if ((g_str_equal (capped[i].variant, "in") && s->kv[K_STRESS_IN] == NULL)
              || (g_str_equal (capped[i].variant, "ic") && s->kv[K_STRESS_IC] == NULL)
              || (g_str_equal (capped[i].variant, "split") && (!stress || !s->kv[K_STRESS_N])))
            continue;

          t = make_choice (v, capped[i].l[0], capped[i].l[1], capped[i].l[2], capped[i].zc);
          g_array_append_val (c, t);
        }
  return c;
}

/* What a GPU tries at first use of a 3D grid: the default, then the
 * fastest of each family in the H200 sweeps (docs/performance.md), so
 * that the first run of a new grid measures a dozen candidates, not 250.
 * WAVEBENCH_VWE_SWEEP=full tries them all (for sweeps on new hardware). */
static const char * const short_list[] = {
  "cell:64x2x2", "cell:64x4x1",
  "cell-r32:64x2x2", "cell-r32:32x4x2", "cell-r32:64x4x1", "cell-r40:64x2x2",
  "in-r32:32x8x1:8", "in-r32:32x4x1:8", "in:128x1x1:16",
  "ic-r32:64x2x2", "ic-r32:32x4x2", "ic-r40:64x2x2", "ic:64x2x2",
  "split-r32:64x2x2", "zl:32x8x1:8",
};

static GArray *
candidates (const WbVwe *s,
            gboolean     stress)
{
  GArray *c;
  WbTuneChoice d = default_choice (s, stress);

  if (s->parent.device->kind == WB_DEVICE_KIND_CPU || s->cfg->ndim != 3
      || g_strcmp0 (g_getenv ("WAVEBENCH_VWE_SWEEP"), "full") == 0)
    return candidates_full (s, stress);
  c = g_array_new (FALSE, TRUE, sizeof (WbTuneChoice));
  g_array_append_val (c, d);
  for (guint i = 0; i < G_N_ELEMENTS (short_list); i++)
    {
      WbTuneChoice t;
      char base[32];
      guint cap;

      if (!wb_tune_choice_parse (short_list[i], &t, NULL))
        continue;
      cap = variant_split (&t, base);
      if ((cap > 0 && !has_caps (s))
          || (g_str_equal (base, "split") && (!stress || s->kv[K_STRESS_N] == NULL))
          || (g_str_equal (base, "in") && s->kv[K_STRESS_IN] == NULL)
          || (g_str_equal (base, "ic") && s->kv[K_STRESS_IC] == NULL)
          || (g_str_equal (base, "zl") && s->kv[K_STRESS_ZL] == NULL))
        continue;
      g_array_append_val (c, t);
    }
  return c;
}

/* The kernel for @choice, with its column length set; checks the
 * work-group size against the kernel's limit. */
static gboolean
choice_kernel (WbVwe              *s,
               gboolean            stress,
               const WbTuneChoice *choice,
               cl_kernel          *out,
               cl_kernel          *shell,
               GError            **error)
{
  cl_kernel k;
  size_t wg = 0;
  char base[32];
  const guint cap = variant_split (choice, base);
  const guint odd = stress ? 0 : 1;
  cl_kernel ks[K_N];

  memcpy (ks, s->kv, sizeof ks);
  *shell = NULL;
  if (cap > 0)
    {
      VweProgram *vp = capped_program (s, cap, error);

      if (vp == NULL)
        return FALSE;
      memcpy (ks, vp->k, sizeof ks);
    }
  if (is_cell (choice))
    k = ks[K_STRESS + odd];
  else if (is_split (choice))
    {
      k = stress ? ks[K_STRESS_N] : ks[K_PARTICLE];
      *shell = stress ? ks[K_STRESS_S] : NULL;
      if (k == NULL || (stress && *shell == NULL))
        {
          g_set_error (error, WB_ERROR, WB_ERROR_INVALID,
                       "vwe: launch variant '%s' needs a 3D grid, 32-bit indices and no kernel "
                       "debugging", choice->variant);
          return FALSE;
        }
    }
  else if (is_zm (choice))
    {
      const gboolean tiles = g_str_equal (base, "zl");
      cl_int zc = (cl_int) zm_cells (choice);

      if (tiles)
        k = ks[K_STRESS_ZL + odd];
      else if (g_str_equal (base, "in") || g_str_equal (base, "ic"))
        {
          k = ks[(base[1] == 'n' ? K_STRESS_IN : K_STRESS_IC) + odd];
          *shell = ks[K_STRESS_SHELL + odd];
        }

      else
        k = ks[K_STRESS_ZM + odd];
      if (k == NULL)
        {
          g_set_error (error, WB_ERROR, WB_ERROR_INVALID,
                       "vwe: launch variant '%s' needs a 3D grid, 32-bit indices, no kernel "
                       "debugging (and for 'in' an interior inside the PML)", choice->variant);
          return FALSE;
        }
      if (!g_str_equal (base, "ic") && !wb_cl_set_arg (k, stress ? 23 : 15, sizeof zc, &zc, error))
        return FALSE;
      if (tiles)
        {
          /* Two tiles per field (3 for the stress, 5 for the particle
           * kernel), (LX + 4) x (LY + 4) floats each. */
          const gsize bytes = 2 * (stress ? 3 : 5) * (choice->local[0] + 4)
                              * (choice->local[1] + 4) * sizeof (float);
          cl_ulong have = 0, used = 0;

          if (choice->local[0] == 0 || choice->local[2] != 1)
            {
              g_set_error (error, WB_ERROR, WB_ERROR_INVALID,
                           "vwe: launch variant 'zl' needs a work-group LXxLYx1");
              return FALSE;
            }
          clGetDeviceInfo (s->parent.device->device, CL_DEVICE_LOCAL_MEM_SIZE, sizeof have,
                           &have, NULL);
          clGetKernelWorkGroupInfo (k, s->parent.device->device, CL_KERNEL_LOCAL_MEM_SIZE,
                                    sizeof used, &used, NULL);
          if (bytes + used > have)
            {
              g_set_error (error, WB_ERROR, WB_ERROR_DEVICE,
                           "vwe: tiles of %" G_GSIZE_FORMAT " bytes exceed the device's local "
                           "memory (%" G_GUINT64_FORMAT " bytes)", bytes, (guint64) have);
              return FALSE;
            }
          if (!wb_cl_set_arg (k, stress ? 24 : 16, bytes, NULL, error))
            return FALSE;
        }
    }
  else
    {
      g_set_error (error, WB_ERROR, WB_ERROR_INVALID,
                   "vwe: no launch variant '%s' (cell, zm, zl, in, ic, split)", choice->variant);
      return FALSE;
    }
  if (clGetKernelWorkGroupInfo (k, s->parent.device->device, CL_KERNEL_WORK_GROUP_SIZE,
                                sizeof wg, &wg, NULL) == CL_SUCCESS
      && choice->local[0] * choice->local[1] * choice->local[2] > wg)
    {
      g_set_error (error, WB_ERROR, WB_ERROR_DEVICE,
                   "vwe: work-group %" G_GSIZE_FORMAT "x%" G_GSIZE_FORMAT "x%" G_GSIZE_FORMAT
                   " is over this kernel's limit of %" G_GSIZE_FORMAT,
                   choice->local[0], choice->local[1], choice->local[2], (gsize) wg);
      return FALSE;
    }
  *out = k;
  return TRUE;
}

/* Enqueues the particle or stress kernel as @choice says (the kernel's
 * column length must be set: choice_kernel). */
static gboolean
launch_choice (WbVwe              *s,
               cl_kernel           k,
               cl_kernel           shell,
               const WbTuneChoice *choice,
               cl_event           *events,
               GError            **error)
{
  const VweConfig *cfg = s->cfg;
  const gsize *local = choice->local[0] ? choice->local : NULL;
  cl_event *event = events;

  if (is_split (choice))
    return wb_cl_enqueue (s->parent.cl, k, 3, cfg->n, local, NULL, event, error)
           && (shell == NULL
               || wb_cl_enqueue (s->parent.cl, shell, 3, cfg->n, local, NULL,
                                 events ? events + 1 : NULL, error));
  if (shell != NULL)
    {
      /* The interior box as columns, then the shell, 1D. */
      const gsize zc = is_ic (choice) ? 1 : zm_cells (choice);
      gsize m[3], in[3], n_shell = cfg->n_cells, one = 128;

      for (guint a = 0; a < 3; a++)
        {
          m[a] = MAX (2, vwe_config_pml_width (cfg, a));
          in[a] = cfg->n[a] - 2 * m[a];
        }
      n_shell -= in[0] * in[1] * in[2];
      in[2] = (in[2] + zc - 1) / zc;
      return wb_cl_enqueue (s->parent.cl, k, 3, in, local, NULL, event, error)
             && wb_cl_enqueue (s->parent.cl, shell, 1, &n_shell, local ? &one : NULL, NULL,
                               events ? events + 1 : NULL, error);
    }
  if (is_zm (choice))
    {
      const gsize zc = zm_cells (choice);
      const gsize cells[3] = { cfg->n[0], cfg->n[1], (cfg->n[2] + zc - 1) / zc };

      return wb_cl_enqueue (s->parent.cl, k, 3, cells, local, NULL, event, error);
    }
  return wb_cl_enqueue (s->parent.cl, k, cfg->ndim, cfg->n, local, NULL, event, error);
}

typedef struct
{
  WbVwe    *s;
  gboolean  stress;
} VweTune;

/* wb-tune.h: one warm-up launch, then five timed by profiling events,
 * median.  The state is all zeros here (cl_init tunes before any source
 * has run), and the kernels map zeros to zeros; cl_init zeroes it again
 * anyway, so that no rounding (a negative zero) survives the tuning. */
static gboolean
tune_measure (const WbTuneChoice *choice,
              double             *seconds,
              gpointer            user_data,
              GError            **error)
{
  VweTune *t = user_data;
  cl_kernel k, shell;
  double times[5], first[5];

  /* On NVIDIA, the registers of the uncapped build too (once). */
  if (!t->s->regs_reported && has_caps (t->s))
    {
      t->s->regs_reported = TRUE;
      if (!capped_program (t->s, 255, error))
        return FALSE;
    }
  if (!choice_kernel (t->s, t->stress, choice, &k, &shell, error))
    return FALSE;
  for (guint r = 0; r < 6; r++)
    {
      cl_event ev[2] = { NULL, NULL };
      const guint nev = shell ? 2 : 1;
      cl_int err;

      if (!launch_choice (t->s, k, shell, choice, ev, error))
        {
          for (guint e = 0; e < 2; e++)
            if (ev[e])
              clReleaseEvent (ev[e]);
          return FALSE;
        }
      err = clWaitForEvents (nev, ev);
      if (r > 0)
        times[r - 1] = 0;
      for (guint e = 0; e < nev; e++)
        {
          if (r > 0)
            times[r - 1] += wb_cl_event_seconds (ev[e]);
          if (r > 0 && e == 0)
            first[r - 1] = wb_cl_event_seconds (ev[e]);
          clReleaseEvent (ev[e]);
        }
      if (!wb_cl_check (err, "clWaitForEvents", error))
        return FALSE;
    }
  *seconds = wb_tune_median (times, 5);
  /* Two launches: say how the time divides (interior and shell, or the
   * normal and shear halves). */
  if (shell != NULL)
    {
      g_autofree char *c = wb_tune_choice_format (choice);
      const double a = wb_tune_median (first, 5);

      g_message ("vwe-%s %s: %.1f us = %.1f + %.1f us (%s)", t->stress ? "stress" : "particle", c,
                 *seconds * 1e6, a * 1e6, (*seconds - a) * 1e6,
                 is_split (choice) ? "normal + shear" : "interior + shell");
    }
  return TRUE;
}

static gboolean
zero_state (WbVwe   *s,
            GError **error)
{
  const gsize n = s->cfg->n_cells;
  WbClContext *cl = s->parent.cl;

  for (guint a = 0; a < 3; a++)
    if (s->v[a] && !wb_cl_fill_float (cl, s->v[a], 0.0f, n, error))
      return FALSE;
  for (guint q = 0; q < 6; q++)
    if ((s->s[q] && !wb_cl_fill_float (cl, s->s[q], 0.0f, n, error))
        || (s->r[q] && !wb_cl_fill_float (cl, s->r[q], 0.0f, n, error)))
      return FALSE;
  for (guint a = 0; a < s->cfg->ndim; a++)
    {
      guint w = vwe_config_pml_width (s->cfg, a);

      if (s->psi[a]
          && !wb_cl_fill_float (cl, s->psi[a], 0.0f,
                                (gsize) 4 * s->cfg->ndim * w * (n / s->cfg->n[a]), error))
        return FALSE;
    }
  if ((s->peak && !wb_cl_fill_float (cl, s->peak, 0.0f, n, error))
      || (s->sumsq && !wb_cl_fill_float (cl, s->sumsq, 0.0f, n, error)))
    return FALSE;
  return wb_cl_finish (cl, error);
}

/* "vwe-stress:3d:256x256x256:atten1:pml10:maps1:mat1": what changes the
 * kernels' cost (the grid, the memory variables, the PML, the maps, and
 * one material, which the zm kernels fold). */
static char *
tune_key (const WbVwe *s,
          const char  *kernel)
{
  const VweConfig *cfg = s->cfg;

  return g_strdup_printf ("vwe-%s:%ud:%" G_GSIZE_FORMAT "x%" G_GSIZE_FORMAT "x%" G_GSIZE_FORMAT
                          ":atten%d:pml%u:maps%d:mat%s", kernel, cfg->ndim, cfg->n[0], cfg->n[1],
                          cfg->n[2], cfg->attenuation,
                          MAX (vwe_config_pml_width (cfg, 0), vwe_config_pml_width (cfg, 1)),
                          cfg->maps, cfg->materials->len == 1 ? "1" : "N");
}

/* Chooses the particle and stress launches: today's default while kernel
 * debugging; WB_VWE_LOCAL="X,Y,Z" (the old override) pins the cell
 * kernels' work-group; else wb_tune_choose (WAVEBENCH_TUNE,
 * WAVEBENCH_TUNE_PIN, the cache).  CPU devices measure only when forced:
 * PoCL's timings of a large grid take long. */
static gboolean
choose_launches (WbVwe   *s,
                 GError **error)
{
  const char *env = g_getenv ("WB_VWE_LOCAL");
  gboolean measured = FALSE;

  s->tune_default = s->tune_stress = s->tune_particle = default_cell (s);
  s->kp = s->k_particle;
  s->ks = s->k_stress;
  s->kp_shell = s->ks_shell = NULL;
  if (s->debug_active)
    return TRUE;
  if (env != NULL && *env != '\0')
    {
      g_auto(GStrv) parts = g_strsplit (env, ",", 3);
      WbTuneChoice c = make_choice ("cell", 1, 1, 1, 0);

      for (guint a = 0; a < 3 && parts[a]; a++)
        c.local[a] = MAX (1, g_ascii_strtoull (parts[a], NULL, 10));
      s->tune_stress = s->tune_particle = c;
    }
  else
    {
      const char *names[2] = { "particle", "stress" };

      for (guint i = 0; i < 2; i++)
        {
          g_autoptr(GArray) cand = candidates (s, i == 1);
          g_autofree char *key = tune_key (s, names[i]);
          VweTune t = { s, i == 1 };
          WbTuneResult r;

          if (!wb_tune_choose (s->parent.device, key, (WbTuneChoice *) cand->data, cand->len,
                               FALSE, tune_measure, &t, &r, error))
            return FALSE;
          measured = measured || g_str_equal (r.source, "measured");
          *(i == 1 ? &s->tune_stress : &s->tune_particle) = r.choice;
          wb_tune_result_clear (&r);
        }
    }
  /* Set the column lengths and tiles (and check a pinned choice). */
  if (!choice_kernel (s, FALSE, &s->tune_particle, &s->kp, &s->kp_shell, error)
      || !choice_kernel (s, TRUE, &s->tune_stress, &s->ks, &s->ks_shell, error))
    {
      g_prefix_error (error, "vwe launch choice: ");
      return FALSE;
    }
  {
    g_autofree char *a = wb_tune_choice_format (&s->tune_particle);
    g_autofree char *b = wb_tune_choice_format (&s->tune_stress);

    g_debug ("launches: particle %s, stress %s", a, b);
  }
  return measured ? zero_state (s, error) : TRUE;
}

/* The field arguments of a stress (@stress) or particle kernel, any
 * variant (the column kernels take their column length and tiles after
 * these). */
static gboolean
set_field_args (WbVwe     *s,
                cl_kernel  k,
                gboolean   stress,
                GError   **error)
{
#define B(x) ((x) ? &(x) : &s->dummy)
  const cl_mem *stress_args[] = {
    &s->mat, &s->tab, &s->pml, B (s->v[0]), B (s->v[1]), B (s->v[2]),
    B (s->s[XX]), B (s->s[YY]), B (s->s[ZZ]), B (s->s[XY]), B (s->s[XZ]), B (s->s[YZ]),
    B (s->r[XX]), B (s->r[YY]), B (s->r[ZZ]), B (s->r[XY]), B (s->r[XZ]), B (s->r[YZ]),
    B (s->psi[0]), B (s->psi[1]), B (s->psi[2]), B (s->peak), B (s->sumsq)
  };
  const cl_mem *particle_args[] = {
    &s->mat, &s->tab, &s->pml, B (s->v[0]), B (s->v[1]), B (s->v[2]),
    B (s->s[XX]), B (s->s[YY]), B (s->s[ZZ]), B (s->s[XY]), B (s->s[XZ]), B (s->s[YZ]),
    B (s->psi[0]), B (s->psi[1]), B (s->psi[2])
  };
#undef B

  return stress ? set_args (k, stress_args, G_N_ELEMENTS (stress_args), error)
                : set_args (k, particle_args, G_N_ELEMENTS (particle_args), error);
}

static gboolean
cl_init (WbVwe       *s,
         const char  *kernel_dir,
         GError     **error)
{
  WbSim *sim = &s->parent;
  const VweConfig *cfg = s->cfg;
  WbClContext *cl = sim->cl;
  const gsize n = cfg->n_cells;
  const guint nd = cfg->ndim, nmat = cfg->materials->len;
  const guint npsi = 2 * nd;
  const double tau = cfg->tau_sigma, dt = cfg->dt;
  g_autofree char *g1 = flit ((1 - dt / (2 * tau)) / (1 + dt / (2 * tau)));
  g_autofree char *g2 = flit ((dt / tau) / (1 + dt / (2 * tau)));
  g_autofree char *defines = NULL;
  g_autofree float *tab = g_new0 (float, 8 * nmat);
  g_autofree float *pml = g_new0 (float, 4 * (cfg->n[0] + cfg->n[1] + cfg->n[2]));
  char *tab_lit[5];
  guint64 need;
  guint n_stress = nd == 3 ? 6 : 3;

  /* Everything the state needs: velocities, stresses, memory variables,
   * maps, material, PML slabs. */
  need = (guint64) n * (4 * (nd + n_stress + (cfg->attenuation ? n_stress : 0)
                             + (cfg->maps ? 2 : 0)) + 1);
  for (guint a = 0; a < nd; a++)
    need += (guint64) 4 * npsi * 2 * vwe_config_pml_width (cfg, a) * (n / cfg->n[a]);
  if (need > sim->device->global_mem_size)
    {
      g_set_error (error, WB_ERROR, WB_ERROR_TOO_LARGE,
                   "grid.shape: %" G_GSIZE_FORMAT " cells need %.1f MiB on %s, which has %.1f MiB "
                   "of global memory", n, need / 1048576.0, sim->device->name,
                   sim->device->global_mem_size / 1048576.0);
      return FALSE;
    }

  /* Material table scaled by dt/h: kernels work in stencil differences. */
  for (guint m = 0; m < nmat; m++)
    {
      const VweMaterial *mt = g_ptr_array_index (cfg->materials, m);
      const double k = dt / cfg->h;

      tab[8 * m + 0] = (float) (k / mt->rho);
      tab[8 * m + 1] = (float) (k * mt->piU);
      tab[8 * m + 2] = (float) (k * mt->piR);
      tab[8 * m + 3] = (float) (k * mt->muU);
      tab[8 * m + 4] = (float) (k * mt->muR);
    }
  /* The first material's row as literals too: with one material the
   * z-marching kernels fold it (the same floats: %.9e round-trips). */
  for (guint q = 0; q < 5; q++)
    tab_lit[q] = flit (tab[q]);

  if (kernel_dir)
    wb_cl_context_set_kernel_dir (cl, kernel_dir);
  defines = g_strdup_printf ("#define DIM %u\n"
                             "#define NX %" G_GSIZE_FORMAT "\n"
                             "#define NY %" G_GSIZE_FORMAT "\n"
                             "#define NZ %" G_GSIZE_FORMAT "\n"
                             "#define WX %u\n#define WY %u\n#define WZ %u\n"
                             "#define PER_X %d\n#define PER_Y %d\n#define PER_Z %d\n"
                             "#define ATTEN %d\n#define MAPS %d\n"
                             "#define G1 %s\n#define G2 %s\n"
                             "#define NPSI %u\n"
                             "#define NMAT %u\n"
                             "#define TAB_0 %s\n#define TAB_1 %s\n#define TAB_2 %s\n"
                             "#define TAB_3 %s\n#define TAB_4 %s\n",
                             nd, cfg->n[0], cfg->n[1], cfg->n[2],
                             vwe_config_pml_width (cfg, 0), vwe_config_pml_width (cfg, 1),
                             vwe_config_pml_width (cfg, 2),
                             cfg->periodic[0], cfg->periodic[1], cfg->periodic[2],
                             cfg->attenuation, cfg->maps, g1, g2, npsi, nmat,
                             tab_lit[0], tab_lit[1], tab_lit[2], tab_lit[3], tab_lit[4]);
  for (guint q = 0; q < 5; q++)
    g_free (tab_lit[q]);
  {
    WbKernelConfig none = { 0 };

    s->dbg = wb_kernel_debug_new ("vwe.cl", "vwe_stress", NULL, defines, nd, cfg->n, NULL);
    s->defines = g_strdup (defines);
    wb_kernel_config_copy (&s->dbg->config, s->pending ? s->pending : &none);
    s->pending = NULL;
    s->program = wb_kernel_debug_build (s->dbg, cl, &s->dbg->config, error);
    s->debug_active = debug_config_active (&s->dbg->config);
  }
  if (s->program == NULL
      || !(s->k_stress = wb_cl_create_kernel (s->program, "vwe_stress", error))
      || !(s->k_particle = wb_cl_create_kernel (s->program, "vwe_particle", error))
      || !(s->k_src_v = wb_cl_create_kernel (s->program, "vwe_source_velocity", error))
      || !(s->k_src_s = wb_cl_create_kernel (s->program, "vwe_source_stress", error))
      || !(s->k_sensors = wb_cl_create_kernel (s->program, "vwe_sensors", error)))
    return FALSE;
  /* The z-marching kernels: 3D, 32-bit indices, and not while debugging
   * (the tools look at the cell kernels).  A kernel directory with an
   * older vwe.cl lacks them: then the cell kernels run. */
  s->kv[K_STRESS] = s->k_stress;
  s->kv[K_PARTICLE] = s->k_particle;
  if (nd == 3 && !s->debug_active && zm_fits (cfg))
    for (guint i = K_STRESS_ZM; i < K_N; i++)
      {
        g_autoptr(GError) local = NULL;

        /* Absent from an older vwe.cl, and "in" from a grid whose PML
         * leaves no interior. */
        if (!(s->kv[i] = wb_cl_create_kernel (s->program, kernel_names[i], &local)))
          g_debug ("%s not used: %s", kernel_names[i], local->message);
      }

  for (guint a = 0; a < nd; a++)
    {
      gsize off = 0;

      for (guint b = 0; b < a; b++)
        off += 4 * cfg->n[b];
      pml_factors (cfg, a, pml + off);
    }

  if (!(s->mat = wb_cl_buffer_new (cl, CL_MEM_READ_ONLY, n, NULL, "material map", error))
      || !(s->tab = wb_cl_buffer_new (cl, CL_MEM_READ_ONLY, 8 * nmat * sizeof (float), NULL,
                                      "material table", error))
      || !(s->pml = wb_cl_buffer_new (cl, CL_MEM_READ_ONLY,
                                      4 * (cfg->n[0] + cfg->n[1] + cfg->n[2]) * sizeof (float),
                                      NULL, "PML factors", error))
      || !(s->dummy = new_zeroed (s, 4, "placeholder", error))
      || !wb_cl_write (cl, s->mat, 0, n, cfg->map, error)
      || !wb_cl_write (cl, s->tab, 0, 8 * nmat * sizeof (float), tab, error)
      || !wb_cl_write (cl, s->pml, 0, 4 * (cfg->n[0] + cfg->n[1] + cfg->n[2]) * sizeof (float),
                       pml, error))
    return FALSE;

  for (guint a = 0; a < nd; a++)
    if (!(s->v[a] = new_zeroed (s, n, velocity_names[a], error)))
      return FALSE;
  for (int q = 0; q < 6; q++)
    {
      if (nd == 2 && (q == ZZ || q == XZ || q == YZ))
        continue;
      if (!(s->s[q] = new_zeroed (s, n, stress_names[q], error)))
        return FALSE;
      if (cfg->attenuation && !(s->r[q] = new_zeroed (s, n, "memory variable", error)))
        return FALSE;
    }
  for (guint a = 0; a < nd; a++)
    {
      guint w = vwe_config_pml_width (cfg, a);

      if (w > 0 && !(s->psi[a] = new_zeroed (s, (gsize) npsi * 2 * w * (n / cfg->n[a]),
                                             "PML memory", error)))
        return FALSE;
    }
  if (cfg->maps
      && (!(s->peak = new_zeroed (s, n, "Pressure_peak", error))
          || !(s->sumsq = new_zeroed (s, n, "Pressure_rms", error))))
    return FALSE;

  /* Kernels see a placeholder for what this problem lacks. */
  {
#define B(x) ((x) ? &(x) : &s->dummy)
    const cl_mem *sensor_fields[] = {
      B (s->v[0]), B (s->v[1]), B (s->v[2]),
      B (s->s[XX]), B (s->s[YY]), B (s->s[ZZ]), B (s->s[XY]), B (s->s[XZ]), B (s->s[YZ])
    };
    for (guint i = 0; i < K_N; i++)
      if (s->kv[i] && !set_field_args (s, s->kv[i], IS_STRESS_KERNEL (i), error))
        return FALSE;
    for (guint i = 0; i < 3; i++)
      if (!wb_cl_set_arg (s->k_src_v, 7 + i, sizeof (cl_mem), sensor_fields[i], error)
          || !wb_cl_set_arg (s->k_src_s, 7 + i, sizeof (cl_mem), sensor_fields[3 + i], error))
        return FALSE;
    for (guint i = 0; i < G_N_ELEMENTS (sensor_fields); i++)
      if (!wb_cl_set_arg (s->k_sensors, 3 + i, sizeof (cl_mem), sensor_fields[i], error))
        return FALSE;
#undef B
  }

  /* Sources: per source its cells, weights and delays, and its signal. */
  s->src = g_new0 (VweClSource, cfg->sources->len);
  for (guint i = 0; i < cfg->sources->len; i++)
    {
      const VweSource *src = g_ptr_array_index (cfg->sources, i);
      const guint np = src->points->len;
      g_autofree cl_int *cells = g_new (cl_int, np);
      g_autofree cl_float4 *prm = g_new0 (cl_float4, np);

      for (guint p = 0; p < np; p++)
        {
          const VwePoint *pt = &g_array_index (src->points, VwePoint, p);

          cells[p] = (cl_int) pt->cell;
          prm[p].s[0] = (float) (pt->delay / (dt / 2));
          prm[p].s[1] = (float) pt->w[0];
          prm[p].s[2] = (float) pt->w[1];
          prm[p].s[3] = (float) pt->w[2];
        }
      if (!(s->src[i].cells = wb_cl_buffer_new (cl, CL_MEM_READ_ONLY, np * sizeof (cl_int), NULL,
                                                "source cells", error))
          || !(s->src[i].prm = wb_cl_buffer_new (cl, CL_MEM_READ_ONLY, np * sizeof (cl_float4),
                                                 NULL, "source weights", error))
          || !(s->src[i].table = wb_cl_buffer_new (cl, CL_MEM_READ_ONLY,
                                                   src->n_table * sizeof (float), NULL,
                                                   "source signal", error))
          || !wb_cl_write (cl, s->src[i].cells, 0, np * sizeof (cl_int), cells, error)
          || !wb_cl_write (cl, s->src[i].prm, 0, np * sizeof (cl_float4), prm, error)
          || !wb_cl_write (cl, s->src[i].table, 0, src->n_table * sizeof (float), src->table,
                           error))
        return FALSE;
    }

  /* Sensor channels and their record (sample 0: at rest, zeros). */
  {
    const guint nc = cfg->channels->len;
    g_autofree cl_int2 *chan = g_new0 (cl_int2, MAX (nc, 1));
    gsize rec = (gsize) vwe_config_n_samples (cfg) * MAX (nc, 1);
    cl_int ncl = (cl_int) nc;

    for (guint c = 0; c < nc; c++)
      {
        const VweChannel *ch = &g_array_index (cfg->channels, VweChannel, c);

        chan[c].s[0] = (cl_int) ch->cell;
        chan[c].s[1] = (cl_int) ch->quantity;
      }
    if (!(s->chan = wb_cl_buffer_new (cl, CL_MEM_READ_ONLY, MAX (nc, 1) * sizeof (cl_int2), NULL,
                                      "sensor channels", error))
        || !wb_cl_write (cl, s->chan, 0, MAX (nc, 1) * sizeof (cl_int2), chan, error)
        || !(s->traces = new_zeroed (s, rec, "sensor traces", error))
        || !wb_cl_set_arg (s->k_sensors, 0, sizeof (cl_mem), &s->chan, error)
        || !wb_cl_set_arg (s->k_sensors, 1, sizeof (cl_int), &ncl, error)
        || !wb_cl_set_arg (s->k_sensors, 12, sizeof (cl_mem), &s->traces, error))
      return FALSE;
    s->n_samples = 1;
  }

  if (!choose_launches (s, error))
    return FALSE;
  /* Kernel debugging: the stress kernel is the one the tools look at; its
   * launches go through s->dbg with the chosen local size (cell variant). */
  s->dbg->kernel = s->k_stress;
  s->stress_via_dbg = s->ks == s->k_stress;
  if (s->stress_via_dbg)
    memcpy (s->dbg->default_local, s->tune_stress.local, sizeof s->tune_stress.local);
  else
    memcpy (s->dbg->default_local, default_cell (s).local, sizeof s->dbg->default_local);
  {
    cl_kernel all[] = { s->k_stress, s->k_particle, s->k_src_v, s->k_src_s, s->k_sensors };

    if (!wb_kernel_debug_bind_probes_all (s->dbg, cl, all, G_N_ELEMENTS (all),
                                          MAX (n, cfg->channels->len), error))
      return FALSE;
  }
  return wb_cl_finish (cl, error);
}

static gboolean
enqueue_sources (WbVwe        *s,
                 VweSourceKind kind,
                 cl_int        m,
                 GError      **error)
{
  const VweConfig *cfg = s->cfg;

  for (guint i = 0; i < cfg->sources->len; i++)
    {
      const VweSource *src = g_ptr_array_index (cfg->sources, i);
      cl_kernel k = kind == VWE_SRC_VELOCITY ? s->k_src_v : s->k_src_s;
      cl_int np = (cl_int) src->points->len, nt = (cl_int) src->n_table;
      cl_int impose = src->impose;
      gsize count = (gsize) np;

      if (src->kind != kind)
        continue;
      if (!wb_cl_set_arg (k, 0, sizeof (cl_mem), &s->src[i].cells, error)
          || !wb_cl_set_arg (k, 1, sizeof (cl_mem), &s->src[i].prm, error)
          || !wb_cl_set_arg (k, 2, sizeof (cl_int), &np, error)
          || !wb_cl_set_arg (k, 3, sizeof (cl_mem), &s->src[i].table, error)
          || !wb_cl_set_arg (k, 4, sizeof (cl_int), &nt, error)
          || !wb_cl_set_arg (k, 5, sizeof (cl_int), &m, error)
          || !wb_cl_set_arg (k, 6, sizeof (cl_int), &impose, error)
          || !wb_cl_enqueue (s->parent.cl, k, 1, &count, NULL, NULL, NULL, error))
        return FALSE;
    }
  return TRUE;
}

static gboolean
cl_step (WbVwe   *s,
         guint    n,
         GError **error)
{
  WbSim *sim = &s->parent;
  const VweConfig *cfg = s->cfg;
  const guint max_samples = vwe_config_n_samples (cfg);

  for (guint it = 0; it < n; it++)
    {
      const cl_int half = (cl_int) (2 * sim->step + 1);
      /* A tool looking at the launches (or any debugging option): the
       * cell kernels, the stress kernel through the debug hooks. */
      const gboolean debugging = wb_kernel_debug_active (s->dbg);
      const gboolean cell_p = debugging && s->kp != s->k_particle;

      if (!launch_choice (s, cell_p ? s->k_particle : s->kp, cell_p ? NULL : s->kp_shell,
                          cell_p ? &s->tune_default : &s->tune_particle, NULL, error)
          || !enqueue_sources (s, VWE_SRC_VELOCITY, half, error)
          || !(!debugging && !s->stress_via_dbg
               ? launch_choice (s, s->ks, s->ks_shell, &s->tune_stress, NULL, error)
               : wb_kernel_debug_enqueue (s->dbg, sim->cl, error))
          || !enqueue_sources (s, VWE_SRC_PRESSURE, half + 1, error))
        return FALSE;
      sim->step++;
      if (sim->step % cfg->sensor_every == 0 && s->n_samples < max_samples
          && cfg->channels->len > 0)
        {
          cl_int sample = (cl_int) s->n_samples;
          gsize count = cfg->channels->len;

          if (!wb_cl_set_arg (s->k_sensors, 2, sizeof (cl_int), &sample, error)
              || !wb_cl_enqueue (sim->cl, s->k_sensors, 1, &count, NULL, NULL, NULL, error))
            return FALSE;
          s->n_samples++;
        }
    }
  return wb_cl_check (clFlush (sim->cl->queue), "clFlush", error);
}

static gboolean
vwe_step (WbSim   *sim,
          guint    n,
          GError **error)
{
  WbVwe *s = (WbVwe *) sim;

  if (sim->cl)
    return cl_step (s, n, error);
  for (guint i = 0; i < n; i++)
    {
      vwe_ref_step (s->ref);
      sim->step++;
    }
  return TRUE;
}

static gboolean
vwe_finish (WbSim   *sim,
            GError **error)
{
  return sim->cl ? wb_cl_finish (sim->cl, error) : TRUE;
}

static gboolean
cl_read_floats (WbVwe      *s,
                cl_mem      buf,
                float      *out,
                GError    **error)
{
  return wb_cl_read (s->parent.cl, buf, 0, s->cfg->n_cells * sizeof (float), out, error);
}

static WbField *
vwe_read_field (WbSim       *sim,
                const char  *name,
                GError     **error)
{
  WbVwe *s = (WbVwe *) sim;
  const VweConfig *cfg = s->cfg;
  const gsize n = cfg->n_cells;
  const double spacing[3] = { cfg->h, cfg->h, cfg->h };
  gboolean is_velocity = name[0] == 'V';
  g_autoptr(WbField) f = wb_field_new (name, g_str_equal (name, "material") ? ""
                                       : is_velocity ? "m/s" : "Pa",
                                       cfg->ndim, cfg->n, spacing);

  if (g_str_equal (name, "material"))
    {
      for (gsize c = 0; c < n; c++)
        f->data[c] = cfg->map[c];
      return g_steal_pointer (&f);
    }
  if (sim->cl == NULL)
    {
      if (!vwe_ref_read_field (s->ref, name, f->data))
        {
          g_set_error (error, WB_ERROR, WB_ERROR_NOT_FOUND, "vwe: no field '%s'", name);
          return NULL;
        }
      return g_steal_pointer (&f);
    }

  for (int a = 0; a < 3; a++)
    if (g_str_equal (name, velocity_names[a]) && s->v[a])
      return cl_read_floats (s, s->v[a], f->data, error) ? g_steal_pointer (&f) : NULL;
  for (int q = 0; q < 6; q++)
    if (g_str_equal (name, stress_names[q]) && s->s[q])
      return cl_read_floats (s, s->s[q], f->data, error) ? g_steal_pointer (&f) : NULL;
  if (g_str_equal (name, "Pressure"))
    {
      g_autofree float *tmp = g_new (float, n);

      /* Pressure = -(trace of stress)/ndim: in 2D plane strain the in-plane
       * mean normal stress, equal to the pressure in fluids. */
      if (!cl_read_floats (s, s->s[XX], f->data, error))
        return NULL;
      for (int q = YY; q <= (cfg->ndim == 3 ? ZZ : YY); q++)
        {
          if (!cl_read_floats (s, s->s[q], tmp, error))
            return NULL;
          for (gsize c = 0; c < n; c++)
            f->data[c] += tmp[c];
        }
      for (gsize c = 0; c < n; c++)
        f->data[c] = -f->data[c] / cfg->ndim;
      return g_steal_pointer (&f);
    }
  if (g_str_equal (name, "Pressure_peak") && s->peak)
    return cl_read_floats (s, s->peak, f->data, error) ? g_steal_pointer (&f) : NULL;
  if (g_str_equal (name, "Pressure_rms") && s->sumsq)
    {
      if (!cl_read_floats (s, s->sumsq, f->data, error))
        return NULL;
      for (gsize c = 0; c < n; c++)
        f->data[c] = sim->step ? sqrtf (f->data[c] / (float) sim->step) : 0;
      return g_steal_pointer (&f);
    }
  g_set_error (error, WB_ERROR, WB_ERROR_NOT_FOUND, "vwe: no field '%s'", name);
  return NULL;
}

static GPtrArray *
vwe_read_traces (WbSim   *sim,
                 GError **error)
{
  WbVwe *s = (WbVwe *) sim;
  const VweConfig *cfg = s->cfg;
  const guint nc = cfg->channels->len;
  g_autoptr(GPtrArray) out = g_ptr_array_new_with_free_func ((GDestroyNotify) wb_trace_free);
  g_autofree float *buf = NULL;
  const float *values;
  guint ns;

  if (nc == 0)
    return g_steal_pointer (&out);
  if (sim->cl)
    {
      ns = s->n_samples;
      buf = g_new (float, (gsize) ns * nc);
      if (!wb_cl_read (sim->cl, s->traces, 0, (gsize) ns * nc * sizeof (float), buf, error))
        return NULL;
      values = buf;
    }
  else
    values = vwe_ref_traces (s->ref, &ns);

  for (guint c = 0; c < nc; c++)
    {
      const VweChannel *ch = &g_array_index (cfg->channels, VweChannel, c);
      WbTrace *t = g_new0 (WbTrace, 1);

      t->name = g_strdup (ch->name);
      t->units = g_strdup (ch->quantity <= VWE_Q_VZ ? "m/s" : "Pa");
      t->n = ns;
      t->dt = cfg->dt * cfg->sensor_every;
      t->values = g_new (float, MAX (ns, 1));
      for (guint i = 0; i < ns; i++)
        t->values[i] = values[(gsize) i * nc + c];
      g_ptr_array_add (out, t);
    }
  return g_steal_pointer (&out);
}

static cl_mem
vwe_field_buffer (WbSim      *sim,
                  const char *name)
{
  WbVwe *s = (WbVwe *) sim;

  if (sim->cl == NULL)
    return NULL;
  for (int a = 0; a < 3; a++)
    if (g_str_equal (name, velocity_names[a]))
      return s->v[a];
  for (int q = 0; q < 6; q++)
    if (g_str_equal (name, stress_names[q]))
      return s->s[q];
  if (g_str_equal (name, "Pressure_peak"))
    return s->peak;
  return NULL;
}

static WbSim *vwe_new_config (const WbPreset *preset, WbDevice *device, const char *kernel_dir,
                               gboolean validate_only, const WbKernelConfig *config,
                               GError **error);

/* Kernel debugging (wb-launch.h): a rebuild makes the OpenCL state again
 * from the preset with the new kernels, then takes this one's place; when
 * the build fails nothing changes and the old program keeps running. */
static gboolean
vwe_configure (WbSim                *sim,
               const WbKernelConfig *config,
               GError              **error)
{
  WbVwe *s = (WbVwe *) sim, *fresh, tmp;
  g_autoptr(WbPreset) plain = wb_kernel_config_strip_preset (sim->preset);

  if (sim->step > 0)
    {
      g_set_error (error, WB_ERROR, WB_ERROR_INVALID,
                   "vwe: kernels can be rebuilt before the first step only (this simulation is "
                   "at step %" G_GUINT64_FORMAT "); set them in the preset's debug section",
                   sim->step);
      return FALSE;
    }
  fresh = (WbVwe *) vwe_new_config (plain ? plain : sim->preset, sim->device, sim->cl->kernel_dir,
                                    FALSE, config, error);
  if (fresh == NULL)
    return FALSE;
  tmp = *s;
  *s = *fresh;
  *fresh = tmp;
  /* The sim keeps the preset it was made from, debug section included. */
  {
    WbPreset *preset = sim->preset;

    sim->preset = fresh->parent.preset;
    fresh->parent.preset = preset;
  }
  vwe_free (&fresh->parent);
  return TRUE;
}

static WbKernelDebug *
vwe_kernel_debug (WbSim *sim)
{
  return ((WbVwe *) sim)->dbg;
}

/* The reference backend keeps, per cell, every field, one float per PML
 * memory variable of each axis that has a PML (full grid: it is written
 * for clarity), 13 interface coefficients, the maps and the material.
 * Refuse what the host cannot hold rather than abort in g_malloc. */
static gboolean
ref_fits (const VweConfig *cfg,
          GError         **error)
{
  const guint nd = cfg->ndim, ns = nd == 3 ? 6 : 3;
  guint floats = nd + ns + (cfg->attenuation ? ns : 0) + 13 + (cfg->maps ? 2 : 0);
  double need, have;

  for (guint a = 0; a < nd; a++)
    if (vwe_config_pml_width (cfg, a) > 0)
      floats += 2 * nd;
  need = (double) cfg->n_cells * (4.0 * floats + 1);
  have = (double) sysconf (_SC_PHYS_PAGES) * (double) sysconf (_SC_PAGE_SIZE);
  if (have > 0 && need > 0.8 * have)
    {
      g_set_error (error, WB_ERROR, WB_ERROR_TOO_LARGE,
                   "grid.shape: %" G_GSIZE_FORMAT " cells need %.1f MiB on the reference backend "
                   "(%u floats per cell), more than 80%% of the host's %.1f MiB",
                   cfg->n_cells, need / 1048576.0, floats, have / 1048576.0);
      return FALSE;
    }
  return TRUE;
}

static const WbSimClass vwe_class = {
  .name = "vwe",
  .free = vwe_free,
  .step = vwe_step,
  .finish = vwe_finish,
  .read_field = vwe_read_field,
  .read_traces = vwe_read_traces,
  .field_buffer = vwe_field_buffer,
  .configure = vwe_configure,
  .kernel_debug = vwe_kernel_debug,
};

WbSim *
wb_vwe_new (const WbPreset  *preset,
            WbDevice        *device,
            const char      *kernel_dir,
            gboolean         validate_only,
            GError         **error)
{
  return vwe_new_config (preset, device, kernel_dir, validate_only, NULL, error);
}

static WbSim *
vwe_new_config (const WbPreset        *preset,
                WbDevice              *device,
                const char            *kernel_dir,
                gboolean               validate_only,
                const WbKernelConfig  *config,
                GError               **error)
{
  WbVwe *s;
  WbSim *sim;
  VweConfig *cfg;
  guint n_stress;

  g_return_val_if_fail (preset != NULL, NULL);
  g_return_val_if_fail (validate_only || device != NULL, NULL);

  s = g_new0 (WbVwe, 1);
  sim = &s->parent;
  sim->klass = &vwe_class;
  sim->preset = wb_preset_copy (preset);
  sim->device = device ? wb_device_ref (device) : NULL;

  s->cfg = cfg = vwe_config_parse (preset, error);
  if (cfg == NULL)
    goto fail;

  sim->ndim = cfg->ndim;
  for (guint a = 0; a < 3; a++)
    {
      sim->shape[a] = cfg->n[a];
      sim->spacing[a] = cfg->h;
    }
  sim->dt = cfg->dt;
  sim->step = 0;
  sim->total_steps = cfg->steps;
  sim->field_names = cfg->ndim == 2 ? (cfg->maps ? fields_2d : fields_2d_nomaps)
                                    : (cfg->maps ? fields_3d : fields_3d_nomaps);
  sim->default_field = "Sigma_xy";
  if (cfg->display_field)
    {
      if (!g_strv_contains (sim->field_names, cfg->display_field))
        {
          g_autofree char *list = g_strjoinv (", ", (char **) sim->field_names);
          g_set_error (error, WB_ERROR, WB_ERROR_INVALID,
                       "display.field: '%s' is not a field of this problem (fields: %s)",
                       cfg->display_field, list);
          goto fail;
        }
      for (guint i = 0; sim->field_names[i]; i++)
        if (g_str_equal (sim->field_names[i], cfg->display_field))
          sim->default_field = sim->field_names[i];
    }

  /* Minimal bytes per cell and step, each kernel reading its inputs once
   * and writing its outputs once (the two kernels cannot be fused: the
   * stress update needs the new velocities of the neighbours):
   *   particle: stresses read (3 in 2D, 6 in 3D), velocities read and
   *             written (2/3 each), material 1 byte;
   *   stress:   velocities read, stresses read and written, material 1,
   *             memory variables read and written when lossy (3/6 each),
   *             peak and sum of squares read and written with maps (16).
   * 2D lossless with maps: 29 + 33 + 16 = 78 bytes; 3D: 49 + 61 + 16 =
   * 126 bytes; lossy adds 24 (2D) or 48 (3D).
   * With one material the map need not be read (the zm kernels fold its
   * constants): 2 bytes less.
   * The CPML memory lives in slabs only (psi of axis a: 2 N cells deep
   * across the grid), 2 DIM floats per slab cell (DIM in each kernel), each
   * read and written: 16 DIM bytes per slab cell and axis, which averaged
   * over the grid adds 16 DIM * sum_a (2 N_a / n_a): at 256^3 with a
   * 10-cell PML the slabs hold 23% of the cells (counted per axis) and
   * add 11.25 bytes.  3D lossy with maps, one material, 256^3, PML 10:
   * 174 - 2 + 11.25 = 183.25 bytes. */
  n_stress = cfg->ndim == 3 ? 6 : 3;
  sim->bytes_per_cell = 4.0 * (n_stress + 2 * cfg->ndim) + 4.0 * (cfg->ndim + 2 * n_stress)
                        + (cfg->materials->len > 1 ? 2.0 : 0.0)
                        + (cfg->attenuation ? 8.0 * n_stress : 0)
                        + (cfg->maps ? 16.0 : 0);
  for (guint a = 0; a < cfg->ndim; a++)
    sim->bytes_per_cell += 16.0 * cfg->ndim * 2.0 * vwe_config_pml_width (cfg, a)
                           / (double) cfg->n[a];
  /* Flops: 4 per stencil difference (2 subtractions, a multiply, a fused
   * multiply-add), 2 per derivative term of an update; 2D: 8 derivatives
   * and about 30 for the updates and shear averaging; 3D: 18 and 80;
   * lossy: about 6 more per stress. */
  sim->flops_per_cell = (cfg->ndim == 3 ? 18 * 6 + 80 : 8 * 6 + 30)
                        + (cfg->attenuation ? 6.0 * n_stress : 0)
                        + (cfg->maps ? 5 : 0);

  if (validate_only)
    return sim;

  if (wb_device_is_reference (device))
    {
      if (!ref_fits (cfg, error))
        goto fail;
      s->ref = vwe_ref_new (cfg);
    }
  else
    {
      sim->cl = wb_cl_context_new (device, error);
      s->pending = config;
      if (sim->cl == NULL || !cl_init (s, kernel_dir, error))
        goto fail;
    }
  return sim;

fail:
  wb_sim_free (sim);
  return NULL;
}
