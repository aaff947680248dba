/* bhte.cl: one explicit step of the Pennes bioheat equation with the CEM43
 * thermal dose, one work-item per cell.
 *
 *   T' = T + bh[m] (sum of the 6 neighbours - 6 T) + perf[m] (T_BLOOD - T)
 *          + factor q
 *
 * bh = k dt/(rho c h^2) and perf = w dt per material m (tables in constant
 * memory, a uchar material index per cell), q = Q dt/(rho c) per cell, and
 * factor the sonication timeline's power fraction for this step (a kernel
 * argument, so steps are enqueued back to back without host waits).  The
 * outer faces keep their temperature (Dirichlet).  The dose is updated in
 * the same pass: T is linear within a step, and R^(43 - T) is integrated
 * exactly, splitting a step that crosses 43 C.
 *
 * The host prepends: NX NY NZ (grid), N_MAT, HAS_SOURCE (0/1), T_BLOOD
 * (degC) and DOSE_DT (dt in minutes), all as float literals where real.
 *
 * Probes: 1 inside the grid, 2 interior update done, 3 T written, 4 dose
 * written (boundary cells skip 2).
 */
#include "wb-common.h"

/* PoCL leaves plain `inline` helpers as calls, which stops it from
 * vectorising the work-group loop (5x slower); force them in. */
#define BHTE_INLINE static inline __attribute__ ((always_inline))

/* 2^y for the dose integrand.  PoCL's exp2/expm1 are scalar library calls
 * that cost several times the whole stencil on a CPU, so this is plain
 * arithmetic that vectorises: 2^y = 2^n 2^f with n = floor(y + 1/2), |f| <= 1/2
 * and a degree-7 Taylor polynomial for 2^f (relative error below 6e-9,
 * under float rounding).  y is clamped to the normal range [-126, 127]:
 * the integrand is then wrong only below -20 C or above 170 C. */
BHTE_INLINE float
wb_exp2 (float y)
{
  y = fmin (fmax (y, -126.0f), 127.0f);
  const float n = floor (y + 0.5f);
  const float f = (y - n) * M_LN2_F;
  const float p = 1.0f + f * (1.0f + f * (1.0f / 2 + f * (1.0f / 6 + f * (1.0f / 24 + f *
                  (1.0f / 120 + f * (1.0f / 720 + f * (1.0f / 5040)))))));
  return p * as_float ((int) (n + 127.0f) << 23);
}

/* Mean over a step part of 2^(c (T - 43)) while T goes linearly from a to
 * b on one side of 43, given fa = f(a) and fb = f(b): (fb - fa)/x with
 * x = c ln2 (b - a).  For |x| < 1/2 that difference cancels, and fa
 * expm1(x)/x is summed as its series instead (to x^7/8!, relative error
 * below 2e-8). */
BHTE_INLINE float
cem43_mean_part (float a, float b, float c, float fa, float fb)
{
  const float x = c * M_LN2_F * (b - a);
  const float g = 1.0f + x * (1.0f / 2 + x * (1.0f / 6 + x * (1.0f / 24 + x * (1.0f / 120 + x *
                  (1.0f / 720 + x * (1.0f / 5040 + x * (1.0f / 40320)))))));
  return fabs (x) < 0.5f ? fa * g : (fb - fa) / x;
}

/* CEM43 integrand R^(43 - T) averaged over a step, T linear from a to b
 * (c = 1 above 43: R = 1/2; c = 2 below: R = 1/4).  A step that crosses
 * 43 C is split where T = 43, each part with its own R; the integrand is 1
 * there, so two powers of two serve both parts.  No branches, so that
 * work-items stay in lockstep. */
BHTE_INLINE float
cem43_mean (float a, float b)
{
  const int hot_a = a >= 43.0f, hot_b = b >= 43.0f;
  const int cross = hot_a != hot_b;
  const float ca = hot_a ? 1.0f : 2.0f, cb = hot_b ? 1.0f : 2.0f;
  const float fa = wb_exp2 (ca * (a - 43.0f));
  const float fb = wb_exp2 (cb * (b - 43.0f));
  /* s: fraction of the step on a's side of 43. */
  const float s = cross ? (43.0f - a) / (b - a) : 1.0f;
  const float first = cem43_mean_part (a, cross ? 43.0f : b, ca, fa, cross ? 1.0f : fb);
  const float second = cem43_mean_part (43.0f, b, cb, 1.0f, fb);
  return s * first + (cross ? (1.0f - s) * second : 0.0f);
}

__kernel void
bhte_step (__global const float * restrict T_in,
           __global float * restrict       T_out,
           __global float * restrict       dose,
           __global const uchar * restrict mat,
           __global const float * restrict q,
           __constant float *              bh,
           __constant float *              perf,
           const float                     factor
           WB_PROBE_ARG)
{
  const int i = get_global_id (0);
  const int j = get_global_id (1);
  const int k = get_global_id (2);

#if WB_VARIANT_EARLY_BOUNDS
  /* BROKEN on purpose, for the early-return-bounds teaching preset
   * (docs/debugging.md): the bounds check of a 2D version kept in the 3D
   * port compares the cell index with ONE plane, so every work-item past
   * the first z plane returns before writing and nothing reports it. */
  if (i >= NX || j >= NY || IDX3 (i, j, k) >= (size_t) NX * NY)
    return;
#else
  /* The global size is rounded up to the work-group size. */
  if (i >= NX || j >= NY || k >= NZ)
    return;
#endif

  const size_t c = IDX3 (i, j, k);
#define WB_PROBE_ID c
  WB_PROBE (1);

  const float T = T_in[c];
  float Tn = T;

  if (i > 0 && j > 0 && k > 0 && i < NX - 1 && j < NY - 1 && k < NZ - 1)
    {
      const uint m = mat[c];
      /* Differences first: neighbours are close to T, so each difference
       * is exact in float and the Laplacian keeps its small digits. */
      const float lap = (T_in[c - 1] - T) + (T_in[c + 1] - T)
                      + (T_in[c - NX] - T) + (T_in[c + NX] - T)
                      + (T_in[c - (size_t) NX * NY] - T) + (T_in[c + (size_t) NX * NY] - T);
      float dT = bh[m] * lap + perf[m] * (T_BLOOD - T);
#if HAS_SOURCE
      dT += factor * q[c];
#endif
      Tn = T + dT;
      WB_PROBE (2);
    }

  T_out[c] = Tn;
  WB_PROBE (3);
  dose[c] += DOSE_DT * cem43_mean (T, Tn);
  WB_PROBE (4);
}
