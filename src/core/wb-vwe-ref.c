/* wb-vwe-ref.c: the reference backend of the viscoelastic wave solver.
 *
 * Written for clarity, as the oracle the OpenCL kernels are tested
 * against: physical units throughout (derivatives in 1/m, memory variables
 * in Pa/s), double arithmetic, every interface coefficient precomputed per
 * node, one full-grid array per PML memory variable.  It shares with
 * kernels/vwe.cl only the physical description (VweConfig) and the
 * conventions of wb-vwe-private.h.
 */
#define G_LOG_DOMAIN "wb-vwe"
#include "config.h"

#include <math.h>
#include <string.h>

#include "wb-io.h"
#include "wb-vwe-private.h"

enum { XX, YY, ZZ, XY, XZ, YZ };

/* PML memory variables, one per derivative that enters an update. */
enum
{
  /* stress update: velocity derivatives */
  P_VX_X, P_VY_Y, P_VZ_Z, P_VX_Y, P_VY_X, P_VX_Z, P_VZ_X, P_VY_Z, P_VZ_Y,
  /* particle update: stress derivatives */
  P_SXX_X, P_SYY_Y, P_SZZ_Z, P_SXY_X, P_SXY_Y, P_SXZ_X, P_SXZ_Z, P_SYZ_Y, P_SYZ_Z,
  N_PSI
};

struct _VweRef
{
  const VweConfig *cfg;       /* borrowed: the simulation owns it */
  int      n[3];
  gsize    cells;
  double   h, dt;

  float   *v[3];
  float   *s[6];
  float   *r[6];              /* NULL when lossless */
  float   *psi[N_PSI];        /* NULL when the axis has no PML */
  /* Per-axis PML factors b, a at positions x = m/2 cells (m = 2i: cell
   * centre, m = 2i + 1: the half node above it). */
  double  *pml_b[3], *pml_a[3];

  /* Coefficients per node. */
  float   *pi_u, *pi_r, *mu_u, *mu_r;      /* cell centres */
  float   *emu_u[3], *emu_r[3];            /* edges xy, xz, yz */
  float   *inv_rho[3];                     /* velocity nodes x, y, z */

  float   *peak, *sumsq;
  guint64  step;
  float   *traces;
  guint    n_samples, max_samples;
};

static inline gsize
at (const VweRef *ref, int i, int j, int k)
{
  return (gsize) i + (gsize) ref->n[0] * ((gsize) j + (gsize) ref->n[1] * (gsize) k);
}

/* Index along @axis of a neighbour, wrapped when periodic; -1 outside. */
static inline int
fold (const VweRef *ref, int axis, int i)
{
  if (ref->cfg->periodic[axis])
    return ((i % ref->n[axis]) + ref->n[axis]) % ref->n[axis];
  return (i >= 0 && i < ref->n[axis]) ? i : -1;
}

static inline double
get (const VweRef *ref, const float *f, int i, int j, int k)
{
  i = fold (ref, 0, i);
  j = fold (ref, 1, j);
  k = fold (ref, 2, k);
  if (i < 0 || j < 0 || k < 0)
    return 0;
  return f[at (ref, i, j, k)];
}

/* Material of a cell, clamped (or wrapped) at the grid's edge. */
static inline const VweMaterial *
material (const VweRef *ref, int i, int j, int k)
{
  int ijk[3] = { i, j, k };

  for (int a = 0; a < 3; a++)
    {
      if (ref->cfg->periodic[a])
        ijk[a] = ((ijk[a] % ref->n[a]) + ref->n[a]) % ref->n[a];
      else
        ijk[a] = CLAMP (ijk[a], 0, ref->n[a] - 1);
    }
  return g_ptr_array_index (ref->cfg->materials,
                            ref->cfg->map[at (ref, ijk[0], ijk[1], ijk[2])]);
}

/* d f / d axis by the 4th-order staggered stencil.  @forward: the result
 * sits half a cell above (i, j, k), from nodes at integer offsets;
 * otherwise it sits at (i, j, k) from nodes half a cell above each index. */
static double
deriv (const VweRef *ref, const float *f, int axis, gboolean forward,
       int i, int j, int k)
{
  int o[3] = { 0, 0, 0 };
  const int ijk[3] = { i, j, k };
  double f_m2, f_m1, f_0, f_p1;

  o[axis] = 1;
  if (ijk[axis] >= 2 && ijk[axis] + 2 < ref->n[axis])
    {
      /* Away from the faces: the stencil reads the array directly. */
      const gsize s = axis == 0 ? 1 : axis == 1 ? (gsize) ref->n[0]
                                                : (gsize) ref->n[0] * ref->n[1];
      const float *c = f + at (ref, i, j, k);

      if (forward)
        return (VWE_C1 * ((double) c[s] - c[0]) + VWE_C2 * ((double) c[2 * s] - c[-(gssize) s]))
               / ref->h;
      return (VWE_C1 * ((double) c[0] - c[-(gssize) s]) + VWE_C2 * ((double) c[s] - c[-2 * (gssize) s]))
             / ref->h;
    }
  if (forward)
    {
      /* nodes i-1, i, i+1, i+2 around i+1/2 */
      f_m2 = get (ref, f, i - o[0], j - o[1], k - o[2]);
      f_m1 = get (ref, f, i, j, k);
      f_0 = get (ref, f, i + o[0], j + o[1], k + o[2]);
      f_p1 = get (ref, f, i + 2 * o[0], j + 2 * o[1], k + 2 * o[2]);
    }
  else
    {
      /* half nodes i-3/2, i-1/2, i+1/2, i+3/2 around i */
      f_m2 = get (ref, f, i - 2 * o[0], j - 2 * o[1], k - 2 * o[2]);
      f_m1 = get (ref, f, i - o[0], j - o[1], k - o[2]);
      f_0 = get (ref, f, i, j, k);
      f_p1 = get (ref, f, i + o[0], j + o[1], k + o[2]);
    }
  return (VWE_C1 * (f_0 - f_m1) + VWE_C2 * (f_p1 - f_m2)) / ref->h;
}

/* The derivative @d seen through the PML of @axis: d + psi, psi updated. */
static double
stretch (VweRef *ref, int which, int axis, gboolean half,
         int i, int j, int k, double d)
{
  int ijk[3] = { i, j, k };
  int m = 2 * ijk[axis] + (half ? 1 : 0);
  float *psi = ref->psi[which];
  gsize c;
  double p;

  if (psi == NULL || ref->pml_a[axis][m] == 0)
    return d;
  c = at (ref, i, j, k);
  p = ref->pml_b[axis][m] * psi[c] + ref->pml_a[axis][m] * d;
  psi[c] = (float) p;
  return d + p;
}

static double
harmonic4 (double a, double b, double c, double d)
{
  if (a <= 0 || b <= 0 || c <= 0 || d <= 0)
    return 0;
  return 4 / (1 / a + 1 / b + 1 / c + 1 / d);
}

static float *
zeros (gsize n)
{
  return g_new0 (float, n);
}

VweRef *
vwe_ref_new (const VweConfig *cfg)
{
  VweRef *ref = g_new0 (VweRef, 1);
  const int nd = cfg->ndim;
  static const int psi_axis[N_PSI] = { 0, 1, 2, 1, 0, 2, 0, 2, 1,
                                       0, 1, 2, 0, 1, 0, 2, 1, 2 };

  ref->cfg = cfg;
  for (int a = 0; a < 3; a++)
    ref->n[a] = (int) cfg->n[a];
  ref->cells = cfg->n_cells;
  ref->h = cfg->h;
  ref->dt = cfg->dt;

  for (int a = 0; a < nd; a++)
    ref->v[a] = zeros (ref->cells);
  ref->s[XX] = zeros (ref->cells);
  ref->s[YY] = zeros (ref->cells);
  ref->s[XY] = zeros (ref->cells);
  if (nd == 3)
    {
      ref->s[ZZ] = zeros (ref->cells);
      ref->s[XZ] = zeros (ref->cells);
      ref->s[YZ] = zeros (ref->cells);
    }
  if (cfg->attenuation)
    for (int q = 0; q < 6; q++)
      if (ref->s[q])
        ref->r[q] = zeros (ref->cells);

  /* PML profile: quadratic damping d = d0 (depth/N)^2 with
   * d0 = 3 c_max ln(1/R) / (2 N h), and the CPML frequency shift
   * alpha = pi f0 (1 - depth/N), at every integer and half node. */
  for (int a = 0; a < nd; a++)
    {
      const int N = (int) vwe_config_pml_width (cfg, a);
      const double d0 = N ? 3 * cfg->c_max * log (1 / cfg->pml_reflection) / (2 * N * cfg->h) : 0;

      ref->pml_b[a] = g_new0 (double, 2 * ref->n[a]);
      ref->pml_a[a] = g_new0 (double, 2 * ref->n[a]);
      for (int m = 0; N && m < 2 * ref->n[a]; m++)
        {
          double x = m / 2.0;
          double inner_lo = N - 0.5, inner_hi = ref->n[a] - N - 0.5;
          double depth = x < inner_lo ? inner_lo - x : x > inner_hi ? x - inner_hi : 0;
          double frac = MIN (depth / N, 1.0), d, alpha, b;

          if (depth <= 0)
            continue;
          d = d0 * frac * frac;
          alpha = G_PI * cfg->f0 * (1 - frac);
          b = exp (-(d + alpha) * cfg->dt);
          ref->pml_b[a][m] = b;
          ref->pml_a[a][m] = d / (d + alpha) * (b - 1);
        }
    }
  for (int p = 0; p < N_PSI; p++)
    {
      gboolean used = psi_axis[p] < nd && vwe_config_pml_width (cfg, psi_axis[p]) > 0;

      if (nd == 2 && (p == P_VZ_Z || p == P_VX_Z || p == P_VZ_X || p == P_VY_Z || p == P_VZ_Y
                      || p == P_SZZ_Z || p == P_SXZ_X || p == P_SXZ_Z || p == P_SYZ_Y
                      || p == P_SYZ_Z))
        used = FALSE;
      if (used)
        ref->psi[p] = zeros (ref->cells);
    }

  /* Coefficients at every node. */
  ref->pi_u = zeros (ref->cells);
  ref->pi_r = zeros (ref->cells);
  ref->mu_u = zeros (ref->cells);
  ref->mu_r = zeros (ref->cells);
  for (int e = 0; e < 3; e++)
    {
      ref->emu_u[e] = zeros (ref->cells);
      ref->emu_r[e] = zeros (ref->cells);
      ref->inv_rho[e] = zeros (ref->cells);
    }
  for (int k = 0; k < ref->n[2]; k++)
    for (int j = 0; j < ref->n[1]; j++)
      for (int i = 0; i < ref->n[0]; i++)
        {
          const gsize c = at (ref, i, j, k);
          const VweMaterial *m = material (ref, i, j, k);
          const VweMaterial *mx = material (ref, i + 1, j, k);
          const VweMaterial *my = material (ref, i, j + 1, k);
          const VweMaterial *mz = material (ref, i, j, k + 1);
          const VweMaterial *mxy = material (ref, i + 1, j + 1, k);
          const VweMaterial *mxz = material (ref, i + 1, j, k + 1);
          const VweMaterial *myz = material (ref, i, j + 1, k + 1);

          ref->pi_u[c] = m->piU;
          ref->pi_r[c] = m->piR;
          ref->mu_u[c] = m->muU;
          ref->mu_r[c] = m->muR;
          /* Velocity nodes: arithmetic mean of 1/rho of the two cells. */
          ref->inv_rho[0][c] = 0.5 * (1 / m->rho + 1 / mx->rho);
          ref->inv_rho[1][c] = 0.5 * (1 / m->rho + 1 / my->rho);
          ref->inv_rho[2][c] = 0.5 * (1 / m->rho + 1 / mz->rho);
          /* Edge nodes: harmonic mean of the four cells' shear moduli. */
          ref->emu_u[0][c] = harmonic4 (m->muU, mx->muU, my->muU, mxy->muU);
          ref->emu_r[0][c] = harmonic4 (m->muR, mx->muR, my->muR, mxy->muR);
          ref->emu_u[1][c] = harmonic4 (m->muU, mx->muU, mz->muU, mxz->muU);
          ref->emu_r[1][c] = harmonic4 (m->muR, mx->muR, mz->muR, mxz->muR);
          ref->emu_u[2][c] = harmonic4 (m->muU, my->muU, mz->muU, myz->muU);
          ref->emu_r[2][c] = harmonic4 (m->muR, my->muR, mz->muR, myz->muR);
        }

  if (cfg->maps)
    {
      ref->peak = zeros (ref->cells);
      ref->sumsq = zeros (ref->cells);
    }
  ref->max_samples = vwe_config_n_samples (cfg);
  ref->traces = zeros ((gsize) ref->max_samples * MAX (cfg->channels->len, 1));
  ref->n_samples = 1;   /* t = 0: everything is at rest */
  return ref;
}

void
vwe_ref_free (VweRef *ref)
{
  if (ref == NULL)
    return;
  for (int a = 0; a < 3; a++)
    {
      g_free (ref->v[a]);
      g_free (ref->pml_a[a]);
      g_free (ref->pml_b[a]);
      g_free (ref->emu_u[a]);
      g_free (ref->emu_r[a]);
      g_free (ref->inv_rho[a]);
    }
  for (int q = 0; q < 6; q++)
    {
      g_free (ref->s[q]);
      g_free (ref->r[q]);
    }
  for (int p = 0; p < N_PSI; p++)
    g_free (ref->psi[p]);
  g_free (ref->pi_u);
  g_free (ref->pi_r);
  g_free (ref->mu_u);
  g_free (ref->mu_r);
  g_free (ref->peak);
  g_free (ref->sumsq);
  g_free (ref->traces);
  g_free (ref);
}

/* sigma += dt (M_U e + (r_old + r_new)/2), with the standard linear solid
 * dr/dt = -(r + (M_U - M_R) e)/tau_sigma by Crank-Nicolson. */
static void
relax (VweRef *ref, int q, gsize c, double e_u, double e_d)
{
  const double dt = ref->dt;
  double rate = e_u;

  if (ref->r[q])
    {
      const double tau = ref->cfg->tau_sigma;
      double r_old = ref->r[q][c];
      double r_new = ((1 - dt / (2 * tau)) * r_old - dt / tau * e_d) / (1 + dt / (2 * tau));

      ref->r[q][c] = (float) r_new;
      rate += 0.5 * (r_old + r_new);
    }
  ref->s[q][c] = (float) (ref->s[q][c] + dt * rate);
}

static void
stress_rows (gsize begin, gsize end, gpointer data)
{
  VweRef *ref = data;
  const gboolean three = ref->cfg->ndim == 3;

  for (gsize row = begin; row < end; row++)
    {
      const int j = (int) (row % ref->n[1]), k = (int) (row / ref->n[1]);

      for (int i = 0; i < ref->n[0]; i++)
        {
          const gsize c = at (ref, i, j, k);
          double exx, eyy, ezz = 0, div, piu, pir, muu, mur;

          exx = stretch (ref, P_VX_X, 0, FALSE, i, j, k, deriv (ref, ref->v[0], 0, FALSE, i, j, k));
          eyy = stretch (ref, P_VY_Y, 1, FALSE, i, j, k, deriv (ref, ref->v[1], 1, FALSE, i, j, k));
          if (three)
            ezz = stretch (ref, P_VZ_Z, 2, FALSE, i, j, k, deriv (ref, ref->v[2], 2, FALSE, i, j, k));
          div = exx + eyy + ezz;
          piu = ref->pi_u[c];
          pir = ref->pi_r[c];
          muu = ref->mu_u[c];
          mur = ref->mu_r[c];

          /* sigma_ii = (lambda + 2 mu) div - 2 mu (other normal strains) */
          relax (ref, XX, c, piu * div - 2 * muu * (eyy + ezz),
                 (piu - pir) * div - 2 * (muu - mur) * (eyy + ezz));
          relax (ref, YY, c, piu * div - 2 * muu * (exx + ezz),
                 (piu - pir) * div - 2 * (muu - mur) * (exx + ezz));
          if (three)
            relax (ref, ZZ, c, piu * div - 2 * muu * (exx + eyy),
                   (piu - pir) * div - 2 * (muu - mur) * (exx + eyy));

          if (ref->peak)
            {
              double p = three
                ? -((double) ref->s[XX][c] + ref->s[YY][c] + ref->s[ZZ][c]) / 3
                : -((double) ref->s[XX][c] + ref->s[YY][c]) / 2;

              ref->peak[c] = MAX (ref->peak[c], (float) fabs (p));
              ref->sumsq[c] = (float) (ref->sumsq[c] + p * p);
            }

          {
            double exy = stretch (ref, P_VX_Y, 1, TRUE, i, j, k, deriv (ref, ref->v[0], 1, TRUE, i, j, k))
                       + stretch (ref, P_VY_X, 0, TRUE, i, j, k, deriv (ref, ref->v[1], 0, TRUE, i, j, k));
            relax (ref, XY, c, ref->emu_u[0][c] * exy,
                   (ref->emu_u[0][c] - (double) ref->emu_r[0][c]) * exy);
          }
          if (three)
            {
              double exz = stretch (ref, P_VX_Z, 2, TRUE, i, j, k, deriv (ref, ref->v[0], 2, TRUE, i, j, k))
                         + stretch (ref, P_VZ_X, 0, TRUE, i, j, k, deriv (ref, ref->v[2], 0, TRUE, i, j, k));
              double eyz = stretch (ref, P_VY_Z, 2, TRUE, i, j, k, deriv (ref, ref->v[1], 2, TRUE, i, j, k))
                         + stretch (ref, P_VZ_Y, 1, TRUE, i, j, k, deriv (ref, ref->v[2], 1, TRUE, i, j, k));

              relax (ref, XZ, c, ref->emu_u[1][c] * exz,
                     (ref->emu_u[1][c] - (double) ref->emu_r[1][c]) * exz);
              relax (ref, YZ, c, ref->emu_u[2][c] * eyz,
                     (ref->emu_u[2][c] - (double) ref->emu_r[2][c]) * eyz);
            }
        }
    }
}

static void
particle_rows (gsize begin, gsize end, gpointer data)
{
  VweRef *ref = data;
  const gboolean three = ref->cfg->ndim == 3;

  for (gsize row = begin; row < end; row++)
    {
      const int j = (int) (row % ref->n[1]), k = (int) (row / ref->n[1]);

      for (int i = 0; i < ref->n[0]; i++)
        {
          const gsize c = at (ref, i, j, k);
          /* Divergence of the stress tensor at each velocity node. */
          double fx = stretch (ref, P_SXX_X, 0, TRUE, i, j, k, deriv (ref, ref->s[XX], 0, TRUE, i, j, k))
                    + stretch (ref, P_SXY_Y, 1, FALSE, i, j, k, deriv (ref, ref->s[XY], 1, FALSE, i, j, k));
          double fy = stretch (ref, P_SXY_X, 0, FALSE, i, j, k, deriv (ref, ref->s[XY], 0, FALSE, i, j, k))
                    + stretch (ref, P_SYY_Y, 1, TRUE, i, j, k, deriv (ref, ref->s[YY], 1, TRUE, i, j, k));

          if (three)
            {
              double fz = stretch (ref, P_SXZ_X, 0, FALSE, i, j, k, deriv (ref, ref->s[XZ], 0, FALSE, i, j, k))
                        + stretch (ref, P_SYZ_Y, 1, FALSE, i, j, k, deriv (ref, ref->s[YZ], 1, FALSE, i, j, k))
                        + stretch (ref, P_SZZ_Z, 2, TRUE, i, j, k, deriv (ref, ref->s[ZZ], 2, TRUE, i, j, k));

              fx += stretch (ref, P_SXZ_Z, 2, FALSE, i, j, k, deriv (ref, ref->s[XZ], 2, FALSE, i, j, k));
              fy += stretch (ref, P_SYZ_Z, 2, FALSE, i, j, k, deriv (ref, ref->s[YZ], 2, FALSE, i, j, k));
              ref->v[2][c] = (float) (ref->v[2][c] + ref->dt * ref->inv_rho[2][c] * fz);
            }
          ref->v[0][c] = (float) (ref->v[0][c] + ref->dt * ref->inv_rho[0][c] * fx);
          ref->v[1][c] = (float) (ref->v[1][c] + ref->dt * ref->inv_rho[1][c] * fy);
        }
    }
}

/* Source signal at time @t (seconds), from its half-step table. */
static double
source_signal (const VweSource *src, double t, double dt)
{
  double x = t / (dt / 2);
  gsize m;

  if (x < 0 || x > src->n_table - 1)
    return 0;
  m = (gsize) floor (x);
  if (m + 1 >= src->n_table)
    return src->table[src->n_table - 1];
  return src->table[m] + (x - m) * ((double) src->table[m + 1] - src->table[m]);
}

static void
apply_sources (VweRef *ref, VweSourceKind kind, double t)
{
  for (guint i = 0; i < ref->cfg->sources->len; i++)
    {
      const VweSource *src = g_ptr_array_index (ref->cfg->sources, i);

      if (src->kind != kind)
        continue;
      for (guint p = 0; p < src->points->len; p++)
        {
          const VwePoint *pt = &g_array_index (src->points, VwePoint, p);
          double s = source_signal (src, t - pt->delay, ref->dt);

          if (kind == VWE_SRC_VELOCITY)
            for (guint a = 0; a < ref->cfg->ndim; a++)
              ref->v[a][pt->cell] = (float) (src->impose ? pt->w[a] * s
                                             : ref->v[a][pt->cell] + pt->w[a] * s);
          else
            for (int q = XX; q <= ZZ; q++)
              if (ref->s[q])
                ref->s[q][pt->cell] = (float) (src->impose ? -pt->w[0] * s
                                               : ref->s[q][pt->cell] - pt->w[0] * s);
        }
    }
}

static double
sample_quantity (VweRef *ref, gsize cell, VweQuantity q)
{
  const int i = (int) (cell % ref->n[0]);
  const int j = (int) ((cell / ref->n[0]) % ref->n[1]);
  const int k = (int) (cell / ((gsize) ref->n[0] * ref->n[1]));

  switch (q)
    {
    case VWE_Q_VX: return (get (ref, ref->v[0], i - 1, j, k) + get (ref, ref->v[0], i, j, k)) / 2;
    case VWE_Q_VY: return (get (ref, ref->v[1], i, j - 1, k) + get (ref, ref->v[1], i, j, k)) / 2;
    case VWE_Q_VZ: return (get (ref, ref->v[2], i, j, k - 1) + get (ref, ref->v[2], i, j, k)) / 2;
    case VWE_Q_SXX: return ref->s[XX][cell];
    case VWE_Q_SYY: return ref->s[YY][cell];
    case VWE_Q_SZZ: return ref->s[ZZ][cell];
    case VWE_Q_SXY:
      return (get (ref, ref->s[XY], i, j, k) + get (ref, ref->s[XY], i - 1, j, k)
              + get (ref, ref->s[XY], i, j - 1, k) + get (ref, ref->s[XY], i - 1, j - 1, k)) / 4;
    case VWE_Q_SXZ:
      return (get (ref, ref->s[XZ], i, j, k) + get (ref, ref->s[XZ], i - 1, j, k)
              + get (ref, ref->s[XZ], i, j, k - 1) + get (ref, ref->s[XZ], i - 1, j, k - 1)) / 4;
    case VWE_Q_SYZ:
      return (get (ref, ref->s[YZ], i, j, k) + get (ref, ref->s[YZ], i, j - 1, k)
              + get (ref, ref->s[YZ], i, j, k - 1) + get (ref, ref->s[YZ], i, j - 1, k - 1)) / 4;
    case VWE_Q_PRESSURE:
    default:
      if (ref->cfg->ndim == 3)
        return -((double) ref->s[XX][cell] + ref->s[YY][cell] + ref->s[ZZ][cell]) / 3;
      return -((double) ref->s[XX][cell] + ref->s[YY][cell]) / 2;
    }
}

void
vwe_ref_step (VweRef *ref)
{
  const gsize rows = (gsize) ref->n[1] * ref->n[2];
  const double dt = ref->dt;
  const double t_half = (ref->step + 0.5) * dt, t_next = (ref->step + 1.0) * dt;

  /* Leapfrog: velocities to t + dt/2, then stresses to t + dt. */
  wb_parallel_for (rows, particle_rows, ref);
  apply_sources (ref, VWE_SRC_VELOCITY, t_half);
  wb_parallel_for (rows, stress_rows, ref);
  apply_sources (ref, VWE_SRC_PRESSURE, t_next);
  ref->step++;

  if (ref->step % ref->cfg->sensor_every == 0 && ref->n_samples < ref->max_samples)
    {
      const guint nc = ref->cfg->channels->len;
      float *row = ref->traces + (gsize) ref->n_samples * nc;

      for (guint ch = 0; ch < nc; ch++)
        {
          const VweChannel *c = &g_array_index (ref->cfg->channels, VweChannel, ch);
          row[ch] = (float) sample_quantity (ref, c->cell, c->quantity);
        }
      ref->n_samples++;
    }
}

gboolean
vwe_ref_read_field (VweRef     *ref,
                    const char *name,
                    float      *out)
{
  static const char * const stress_names[] = {
    "Sigma_xx", "Sigma_yy", "Sigma_zz", "Sigma_xy", "Sigma_xz", "Sigma_yz"
  };
  static const char * const velocity_names[] = { "Vx", "Vy", "Vz" };

  for (int a = 0; a < 3; a++)
    if (g_str_equal (name, velocity_names[a]) && ref->v[a])
      {
        memcpy (out, ref->v[a], ref->cells * sizeof (float));
        return TRUE;
      }
  for (int q = 0; q < 6; q++)
    if (g_str_equal (name, stress_names[q]) && ref->s[q])
      {
        memcpy (out, ref->s[q], ref->cells * sizeof (float));
        return TRUE;
      }
  if (g_str_equal (name, "Pressure"))
    {
      for (gsize c = 0; c < ref->cells; c++)
        out[c] = (float) sample_quantity (ref, c, VWE_Q_PRESSURE);
      return TRUE;
    }
  if (g_str_equal (name, "Pressure_peak") && ref->peak)
    {
      memcpy (out, ref->peak, ref->cells * sizeof (float));
      return TRUE;
    }
  if (g_str_equal (name, "Pressure_rms") && ref->sumsq)
    {
      for (gsize c = 0; c < ref->cells; c++)
        out[c] = ref->step ? sqrtf (ref->sumsq[c] / (float) ref->step) : 0;
      return TRUE;
    }
  return FALSE;
}

const float *
vwe_ref_traces (VweRef *ref,
                guint  *n_samples)
{
  *n_samples = ref->n_samples;
  return ref->traces;
}
