/* bhte.cl: one explicit step of the Pennes bioheat equation with the CEM43
 * thermal dose.  bhte_step (last in the file) takes one work-item per
 * cell; the z-marching kernels before it compute the same step laid out
 * for bandwidth, and the host measures which one runs (wb-tune.h).
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

/* 2^y for the dose integrand.  On CPUs: PoCL's exp2/expm1 are scalar library calls
 * that cost several times the whole stencil on a CPU, so this is plain
 * arithmetic that vectorises: 2^y = 2^n 2^f with n = floor(y + 1/2), |f| <= 1/2
 * and a degree-7 Taylor polynomial for 2^f (relative error below 6e-9,
 * under float rounding).  y is clamped to the normal range [-126, 127]:
 * the integrand is then wrong only below -20 C or above 170 C. */
#ifndef WB_HW_EXP2
#define WB_HW_EXP2 0
#endif

BHTE_INLINE float
wb_exp2 (float y)
{
  y = fmin (fmax (y, -126.0f), 127.0f);
#if WB_HW_EXP2 == 2
  /* NVIDIA (WB_HW_EXP2 2): the hardware's ex2.approx, 2 ulp; y is in the
   * normal range, so its flushing of subnormals never applies. */
  return native_exp2 (y);
#elif WB_HW_EXP2
  /* Other GPUs (the host defines WB_HW_EXP2 1 there): the built-in, within
   * 3 ulp by the OpenCL spec and a few instructions against the
   * polynomial's ~15 (on the H200 the dose arithmetic held a 256^3 step
   * at 81% of copy, 87% with it reduced to one multiply). */
  return exp2 (y);
#endif
  const float n = floor (y + 0.5f);
  const float f = (y - n) * M_LN2_F;
  const float p = 1.0f + f * (1.0f + f * (1.0f / 2 + f * (1.0f / 6 + f * (1.0f / 24 + f *
                  (1.0f / 120 + f * (1.0f / 720 + f * (1.0f / 5040)))))));
  return p * as_float ((int) (n + 127.0f) << 23);
}

/* Mean over a step part of 2^(c (T - 43)) while T goes linearly from a to
 * b on one side of 43, given fa = f(a) and fb = f(b): (fb - fa)/x with
 * x = c ln2 (b - a).  For |x| < 1/2 that difference cancels, and fa
 * expm1(x)/x is summed as its series instead (cem43_series). */
/* expm1(x)/x for |x| < 1/2 by its series: to x^7/8! (relative error below
 * 2e-8), or to x^3/4! where |x| < 1/64 (the rest is below 6e-10, under
 * float rounding), which is every cell but the hottest few in a step. */
BHTE_INLINE float
cem43_series4 (float x)
{
  return 1.0f + x * (1.0f / 2 + x * (1.0f / 6 + x * (1.0f / 24)));
}

BHTE_INLINE float
cem43_series8 (float x)
{
  return 1.0f + x * (1.0f / 2 + x * (1.0f / 6 + x * (1.0f / 24 + x * (1.0f / 120 + x *
         (1.0f / 720 + x * (1.0f / 5040 + x * (1.0f / 40320)))))));
}

BHTE_INLINE float
cem43_series (float x)
{
  return fabs (x) < 1.0f / 64 ? cem43_series4 (x) : cem43_series8 (x);
}

BHTE_INLINE float
cem43_mean_part (float a, float b, float c, float fa, float fb)
{
  const float x = c * M_LN2_F * (b - a);
  const float g = cem43_series (x);
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

/* --- z-marching kernels ---------------------------------------------------
 *
 * The same step as bhte_step, laid out for bandwidth (docs/performance.md):
 * a 2D grid of work-items over (x, y), each walking a column of zc cells
 * in z (the third global dimension counts the columns' chunks).  T(k-1),
 * T(k) and T(k+1) stay in registers, so each T value is read from memory
 * once per column instead of three times through the caches; T(k+2) and
 * the next cell's dose, material and source are loaded before the current
 * cell is computed, so that a work-item has a step's loads in flight while
 * it computes.  The x/y neighbours are global loads (the L1 catches them),
 * or in bhte_zmarch_lds a local-memory tile.  bhte_zmarch_v2/_v4 give each
 * work-item 2 or 4 cells along x with vector loads: more bytes in flight
 * per work-item, fewer instructions per cell.
 *
 * The host chooses among them and the cell kernel by measuring (wb-tune.h)
 * and prepends BHTE_IDX32 (1 when every index fits in 31 bits).  The
 * arithmetic of a cell is bhte_step's, in the same order (bhte_update), so
 * the kernels agree to a few float ulps (tests/test-bhte-variants.c).
 * They come before bhte_step, which stays the file's last kernel (tools
 * and tests edit its end). */

#ifndef BHTE_IDX32
#define BHTE_IDX32 0
#endif
#if BHTE_IDX32
typedef int bhte_idx;
#else
typedef long bhte_idx;
#endif
#define BHTE_PLANE ((bhte_idx) NX * (bhte_idx) NY)

/* BHTE_UNROLL1 (a tuning option, ".u1"): the z loops are not unrolled,
 * which keeps a compiler from multiplying the registers of the loop body
 * (fewer registers, more work-items resident). */
#if BHTE_UNROLL1
#define BHTE_ZLOOP _Pragma ("unroll 1")
#else
#define BHTE_ZLOOP
#endif

/* cem43_mean with the rare cases behind branches, for the tuned kernels:
 * a step that crosses 43 C (the full form above) and one whose x reaches
 * 1/2 (the quotient form) are taken only where they occur, so the common
 * step costs one power of two and one series instead of two powers of
 * two, three series and three divisions (on the H200 the dose arithmetic
 * is about half of a one-step kernel's instructions).  Same expressions
 * in the same order: the same value as cem43_mean (s = 1 and the second
 * part 0 when the step does not cross). */
BHTE_INLINE float
cem43_mean_lean (float a,
                 float b)
{
  const int hot_a = a >= 43.0f, hot_b = b >= 43.0f;

  if (hot_a != hot_b)
    return cem43_mean (a, b);
  {
    const float c = hot_a ? 1.0f : 2.0f;
    const float fa = wb_exp2 (c * (a - 43.0f));
    const float x = c * M_LN2_F * (b - a);

    if (fabs (x) < 1.0f / 64)
      return fa * cem43_series4 (x);
    if (fabs (x) < 0.5f)
      return fa * cem43_series8 (x);
    return (wb_exp2 (c * (b - 43.0f)) - fa) / x;
  }
}

/* The new temperature of an interior cell from its six neighbours, in
 * bhte_step's order of operations. */
BHTE_INLINE float
bhte_update (float              T,
             float              xm,
             float              xp,
             float              ym,
             float              yp,
             float              zm,
             float              zp,
             uint               m,
             float              qc,
             float              factor,
             __constant float  *bh,
             __constant float  *perf)
{
  const float lap = (xm - T) + (xp - T) + (ym - T) + (yp - T) + (zm - T) + (zp - T);
  float dT = bh[m] * lap + perf[m] * (T_BLOOD - T);
#if HAS_SOURCE
  dT += factor * qc;
#endif
  return T + dT;
}

/* Loads n (1..V) consecutive floats at p[c] into out[0..V-1] (the rest 0).
 * V is a constant after inlining; a whole vector uses one vector load,
 * aligned when NX is a multiple of V (c is then a multiple of V). */
BHTE_INLINE void
bhte_load_f (__global const float *p,
             bhte_idx              c,
             int                   n,
             const int             V,
             float                *out)
{
  if (V == 4 && n == 4)
    {
      const float4 v = (NX % 4 == 0) ? *(__global const float4 *) (p + c) : vload4 (0, p + c);
      out[0] = v.s0; out[1] = v.s1; out[2] = v.s2; out[3] = v.s3;
    }
  else if (V == 2 && n == 2)
    {
      const float2 v = (NX % 2 == 0) ? *(__global const float2 *) (p + c) : vload2 (0, p + c);
      out[0] = v.s0; out[1] = v.s1;
    }
  else
    for (int e = 0; e < V; e++)
      out[e] = e < n ? p[c + e] : 0.0f;
}

BHTE_INLINE void
bhte_load_u (__global const uchar *p,
             bhte_idx              c,
             int                   n,
             const int             V,
             uint                 *out)
{
  if (V == 4 && n == 4)
    {
      const uchar4 v = (NX % 4 == 0) ? *(__global const uchar4 *) (p + c) : vload4 (0, p + c);
      out[0] = v.s0; out[1] = v.s1; out[2] = v.s2; out[3] = v.s3;
    }
  else if (V == 2 && n == 2)
    {
      const uchar2 v = (NX % 2 == 0) ? *(__global const uchar2 *) (p + c) : vload2 (0, p + c);
      out[0] = v.s0; out[1] = v.s1;
    }
  else
    for (int e = 0; e < V; e++)
      out[e] = e < n ? p[c + e] : 0u;
}

BHTE_INLINE void
bhte_store_f (__global float *p,
              bhte_idx        c,
              int             n,
              const int       V,
              const float    *v)
{
  if (V == 4 && n == 4)
    {
      const float4 w = (float4) (v[0], v[1], v[2], v[3]);
      if (NX % 4 == 0)
        *(__global float4 *) (p + c) = w;
      else
        vstore4 (w, 0, p + c);
    }
  else if (V == 2 && n == 2)
    {
      const float2 w = (float2) (v[0], v[1]);
      if (NX % 2 == 0)
        *(__global float2 *) (p + c) = w;
      else
        vstore2 (w, 0, p + c);
    }
  else
    for (int e = 0; e < V; e++)
      if (e < n)
        p[c + e] = v[e];
}

/* One column of zc cells along z, V cells wide along x, from (i0, j, k0). */
BHTE_INLINE void
bhte_zmarch_body (__global const float * restrict T_in,
                  __global float * restrict       T_out,
                  __global float * restrict       dose,
                  __global const uchar * restrict mat,
                  __global const float * restrict q,
                  __constant float *              bh,
                  __constant float *              perf,
                  const float                     factor,
                  const int                       zc,
                  const int                       V)
{
  const int i0 = (int) get_global_id (0) * V;
  const int j = get_global_id (1);
  const int k0 = (int) get_global_id (2) * zc;

  if (i0 >= NX || j >= NY || k0 >= NZ)
    return;

  const int k1 = min (k0 + zc, NZ);
  const int n = min (V, NX - i0);
  const bool y_in = j > 0 && j < NY - 1;
  bhte_idx c = (bhte_idx) i0 + (bhte_idx) NX * ((bhte_idx) j + (bhte_idx) NY * (bhte_idx) k0);
  float tm[4], tc[4], tp[4], dc[4], qc[4];
  uint mc[4];

  if (k0 > 0)
    bhte_load_f (T_in, c - BHTE_PLANE, n, V, tm);
  else
    for (int e = 0; e < V; e++)
      tm[e] = 0.0f;
  bhte_load_f (T_in, c, n, V, tc);
  if (k0 + 1 < NZ)
    bhte_load_f (T_in, c + BHTE_PLANE, n, V, tp);
  else
    for (int e = 0; e < V; e++)
      tp[e] = 0.0f;
  bhte_load_f (dose, c, n, V, dc);
  bhte_load_u (mat, c, n, V, mc);
#if HAS_SOURCE
  bhte_load_f (q, c, n, V, qc);
#else
  for (int e = 0; e < V; e++)
    qc[e] = 0.0f;
#endif

  BHTE_ZLOOP
  for (int k = k0; k < k1; k++, c += BHTE_PLANE)
    {
      float tpp[4], dn[4], qn[4], ym[4], yp[4], Tn[4], Dn[4];
      uint mn[4];
      const bool more = k + 1 < k1;
      const bool z_in = k > 0 && k < NZ - 1;
      float xm = 0.0f, xp = 0.0f;

      /* The next step's loads first: they are in flight while this cell
       * is computed. */
      for (int e = 0; e < V; e++)
        {
          tpp[e] = 0.0f;
          dn[e] = 0.0f;
          qn[e] = 0.0f;
          mn[e] = 0u;
        }
      if (more && k + 2 < NZ)
        bhte_load_f (T_in, c + 2 * BHTE_PLANE, n, V, tpp);
      if (more)
        {
          bhte_load_f (dose, c + BHTE_PLANE, n, V, dn);
          bhte_load_u (mat, c + BHTE_PLANE, n, V, mn);
#if HAS_SOURCE
          bhte_load_f (q, c + BHTE_PLANE, n, V, qn);
#endif
        }

      if (y_in && z_in)
        {
          bhte_load_f (T_in, c - NX, n, V, ym);
          bhte_load_f (T_in, c + NX, n, V, yp);
          if (i0 > 0)
            xm = T_in[c - 1];
          if (i0 + V < NX)
            xp = T_in[c + V];
        }
      else
        for (int e = 0; e < V; e++)
          ym[e] = yp[e] = 0.0f;

      for (int e = 0; e < V; e++)
        {
          const int i = i0 + e;
          const bool interior = y_in && z_in && i > 0 && i < NX - 1;
          const float left = e == 0 ? xm : tc[e > 0 ? e - 1 : 0];
          const float right = e == V - 1 ? xp : tc[e < V - 1 ? e + 1 : 0];

          Tn[e] = interior ? bhte_update (tc[e], left, right, ym[e], yp[e], tm[e], tp[e],
                                          mc[e], qc[e], factor, bh, perf)
                           : tc[e];
          Dn[e] = dc[e] + DOSE_DT * cem43_mean_lean (tc[e], Tn[e]);
        }
      bhte_store_f (T_out, c, n, V, Tn);
      bhte_store_f (dose, c, n, V, Dn);

      for (int e = 0; e < V; e++)
        {
          tm[e] = tc[e];
          tc[e] = tp[e];
          tp[e] = tpp[e];
          dc[e] = dn[e];
          mc[e] = mn[e];
          qc[e] = qn[e];
        }
    }
}

#define BHTE_ZMARCH_ARGS                                  \
  __global const float * restrict T_in,                   \
  __global float * restrict       T_out,                  \
  __global float * restrict       dose,                   \
  __global const uchar * restrict mat,                    \
  __global const float * restrict q,                      \
  __constant float *              bh,                     \
  __constant float *              perf,                   \
  const float                     factor,                 \
  const int                       zc

__kernel void
bhte_zmarch (BHTE_ZMARCH_ARGS)
{
  bhte_zmarch_body (T_in, T_out, dose, mat, q, bh, perf, factor, zc, 1);
}

__kernel void
bhte_zmarch_v2 (BHTE_ZMARCH_ARGS)
{
  bhte_zmarch_body (T_in, T_out, dose, mat, q, bh, perf, factor, zc, 2);
}

__kernel void
bhte_zmarch_v4 (BHTE_ZMARCH_ARGS)
{
  bhte_zmarch_body (T_in, T_out, dose, mat, q, bh, perf, factor, zc, 4);
}

/* The halo values a tile-edge work-item writes (left, right, below,
 * above in x/y), loaded a plane ahead so that their latency is not paid
 * at the barrier. */
BHTE_INLINE void
bhte_halo_load (__global const float *T,
                bhte_idx              c,
                const bool           *side,
                float                *h)
{
  h[0] = side[0] ? T[c - 1] : 0.0f;
  h[1] = side[1] ? T[c + 1] : 0.0f;
  h[2] = side[2] ? T[c - NX] : 0.0f;
  h[3] = side[3] ? T[c + NX] : 0.0f;
}

/* The z-march with the plane's x/y neighbours from local memory: a tile of
 * (LX + 2) x (LY + 2) with a one-cell halo, two of them alternating so that
 * one barrier per plane suffices (a tile is rewritten two planes later,
 * after every work-item has passed the barrier in between).  No early
 * return: work-items outside the grid take part in the barriers and skip
 * their loads and stores.  @tile: 2 (LX + 2) (LY + 2) floats. */
__kernel void
bhte_zmarch_lds (BHTE_ZMARCH_ARGS,
                 __local float *tile)
{
  const int lx = get_local_id (0), ly = get_local_id (1);
  const int LX = get_local_size (0), LY = get_local_size (1);
  const int i = get_global_id (0), j = get_global_id (1);
  const int k0 = (int) get_global_id (2) * zc;
  const int k1 = min (k0 + zc, NZ);
  const bool in = i < NX && j < NY;
  const bool y_in = j > 0 && j < NY - 1;
  const bool x_in = i > 0 && i < NX - 1;
  const int pitch = LX + 2;
  const int tsize = pitch * (LY + 2);
  const int at = (ly + 1) * pitch + lx + 1;
  bhte_idx c = in ? (bhte_idx) i + (bhte_idx) NX * ((bhte_idx) j + (bhte_idx) NY * (bhte_idx) k0) : 0;
  const bool side[4] = { in && lx == 0 && i > 0, in && lx == LX - 1 && i + 1 < NX,
                         in && ly == 0 && j > 0, in && ly == LY - 1 && j + 1 < NY };
  float tm = 0.0f, tc = 0.0f, tp = 0.0f, dc = 0.0f, qc = 0.0f, h[4];
  uint mc = 0u;

  bhte_halo_load (T_in, c, side, h);
  if (in && k0 < NZ)
    {
      if (k0 > 0)
        tm = T_in[c - BHTE_PLANE];
      tc = T_in[c];
      if (k0 + 1 < NZ)
        tp = T_in[c + BHTE_PLANE];
      dc = dose[c];
      mc = mat[c];
#if HAS_SOURCE
      qc = q[c];
#endif
    }

  BHTE_ZLOOP
  for (int k = k0; k < k1; k++)
    {
      __local float *t = tile + (k & 1) * tsize;
      const bool more = k + 1 < k1;
      const bool z_in = k > 0 && k < NZ - 1;
      float tpp = 0.0f, dn = 0.0f, qn = 0.0f, hn[4] = { 0.0f, 0.0f, 0.0f, 0.0f };
      uint mn = 0u;

      if (in && more)
        {
          if (k + 2 < NZ)
            tpp = T_in[c + 2 * BHTE_PLANE];
          dn = dose[c + BHTE_PLANE];
          mn = mat[c + BHTE_PLANE];
#if HAS_SOURCE
          qn = q[c + BHTE_PLANE];
#endif
          bhte_halo_load (T_in, c + BHTE_PLANE, side, hn);
        }
      t[at] = tc;
      if (side[0])
        t[at - 1] = h[0];
      if (side[1])
        t[at + 1] = h[1];
      if (side[2])
        t[at - pitch] = h[2];
      if (side[3])
        t[at + pitch] = h[3];
      barrier (CLK_LOCAL_MEM_FENCE);

      if (in)
        {
          const bool interior = x_in && y_in && z_in;
          const float Tn = interior ? bhte_update (tc, t[at - 1], t[at + 1], t[at - pitch], t[at + pitch],
                                                   tm, tp, mc, qc, factor, bh, perf)
                                    : tc;
          T_out[c] = Tn;
          dose[c] = dc + DOSE_DT * cem43_mean_lean (tc, Tn);
          c += BHTE_PLANE;
        }
      tm = tc;
      tc = tp;
      tp = tpp;
      dc = dn;
      mc = mn;
      qc = qn;
      for (int e = 0; e < 4; e++)
        h[e] = hn[e];
    }
}

/* Two time steps per launch (temporal blocking): each work-group owns an
 * LX x LY tile of columns and walks ZC planes along z; its work-items
 * cover the tile plus a one-cell ring, (LX + 2) x (LY + 2) of them.  At
 * plane p every work-item computes the intermediate temperature T1 (step
 * one, @factor) of its cell, the ring included, from T0 in registers (z)
 * and a local tile of plane p with a two-cell halo (x/y); the tile's own
 * work-items then compute step two (@factor2) at plane p - 1 from T1 in
 * registers (z) and a local tile of T1 (x/y), and update the dose with
 * both steps' terms in the order two launches of bhte_step would.  T, the
 * dose, the material and the source are read once and written once per
 * two steps.  One barrier per plane: the tiles alternate between two
 * planes' buffers, each rewritten only after every work-item has passed
 * the barrier that follows its last read.  Work-items outside the grid
 * take part in every barrier.  @tile0: 2 (LX + 4)(LY + 4) floats, @tile1:
 * 2 (LX + 2)(LY + 2) floats. */
__kernel void
bhte_zmarch2 (BHTE_ZMARCH_ARGS,
              const float     factor2,
              __local float  *tile0,
              __local float  *tile1)
{
  const int tx = get_local_id (0), ty = get_local_id (1);
  const int GX = get_local_size (0), GY = get_local_size (1);
  const int LX = GX - 2, LY = GY - 2;
  const int i = (int) get_group_id (0) * LX - 1 + tx;
  const int j = (int) get_group_id (1) * LY - 1 + ty;
  const int k0 = (int) get_group_id (2) * zc;
  const int k1 = min (k0 + zc, NZ);
  const bool in = i >= 0 && j >= 0 && i < NX && j < NY;
  /* a cell of the tile proper: it gets step two */
  const bool own = in && tx > 0 && ty > 0 && tx <= LX && ty <= LY;
  const bool xy_in = i > 0 && j > 0 && i < NX - 1 && j < NY - 1;
  const int pitch0 = GX + 2, size0 = pitch0 * (GY + 2);
  const int pitch1 = GX, size1 = pitch1 * GY;
  const int at0 = (ty + 1) * pitch0 + tx + 1;
  const int at1 = ty * pitch1 + tx;
  /* c: this column at plane p (only dereferenced when in the grid) */
  bhte_idx c = in ? (bhte_idx) i + (bhte_idx) NX * ((bhte_idx) j + (bhte_idx) NY * (bhte_idx) (k0 - 1)) : 0;
  float t0m = 0.0f, t0c = 0.0f, t0p = 0.0f;  /* T0 at p - 1, p, p + 1 */
  float t1m = 0.0f, t1c = 0.0f;              /* T1 at p - 2, p - 1 */
  float qc = 0.0f, qprev = 0.0f;             /* source at p, p - 1 */
  uint mc = 0u, mprev = 0u;                  /* material at p, p - 1 */
  float dprev = 0.0f;                        /* dose at p - 1 */
  /* the tile's halo this work-item writes, a plane ahead */
  const bool side[4] = { in && tx == 0 && i > 0, in && tx == GX - 1 && i + 1 < NX,
                         in && ty == 0 && j > 0, in && ty == GY - 1 && j + 1 < NY };
  float h[4] = { 0.0f, 0.0f, 0.0f, 0.0f };

  if (in)
    {
      if (k0 >= 1)
        bhte_halo_load (T_in, c, side, h);
      if (k0 >= 2)
        t0m = T_in[c - BHTE_PLANE];
      if (k0 >= 1)
        {
          t0c = T_in[c];
          mc = mat[c];
#if HAS_SOURCE
          qc = q[c];
#endif
        }
      t0p = T_in[c + BHTE_PLANE];
    }

  BHTE_ZLOOP
  for (int p = k0 - 1; p <= k1; p++, c += BHTE_PLANE)
    {
      __local float *a = tile0 + (p & 1) * size0;
      __local float *b1 = tile1 + (p & 1) * size1;
      __local float *b0 = tile1 + ((p - 1) & 1) * size1;
      const bool plane = p >= 0 && p < NZ;
      const bool second = own && p - 1 >= k0 && p - 1 < k1;
      float t0pp = 0.0f, qn = 0.0f, dn = 0.0f, T1 = 0.0f, hn[4] = { 0.0f, 0.0f, 0.0f, 0.0f };
      uint mn = 0u;

      /* Loads for the next plane and the dose of this one, in flight
       * while this plane is computed. */
      if (in && p + 1 <= k1 && p + 2 < NZ)
        t0pp = T_in[c + 2 * BHTE_PLANE];
      if (in && p + 1 <= k1 && p + 1 < NZ)
        {
          mn = mat[c + BHTE_PLANE];
#if HAS_SOURCE
          qn = q[c + BHTE_PLANE];
#endif
          bhte_halo_load (T_in, c + BHTE_PLANE, side, hn);
        }
      if (own && p >= k0 && p < k1)
        dn = dose[c];

      if (in && plane)
        {
          a[at0] = t0c;
          if (side[0])
            a[at0 - 1] = h[0];
          if (side[1])
            a[at0 + 1] = h[1];
          if (side[2])
            a[at0 - pitch0] = h[2];
          if (side[3])
            a[at0 + pitch0] = h[3];
        }
      barrier (CLK_LOCAL_MEM_FENCE);

      /* Step one at plane p, ring included. */
      if (in && plane)
        {
          T1 = xy_in && p > 0 && p < NZ - 1
               ? bhte_update (t0c, a[at0 - 1], a[at0 + 1], a[at0 - pitch0], a[at0 + pitch0],
                              t0m, t0p, mc, qc, factor, bh, perf)
               : t0c;
          b1[at1] = T1;
        }

      /* Step two at plane p - 1: its T1 plane was written last iteration,
       * before this iteration's barrier. */
      if (second)
        {
          const int kk = p - 1;
          const float T2 = xy_in && kk > 0 && kk < NZ - 1
                           ? bhte_update (t1c, b0[at1 - 1], b0[at1 + 1], b0[at1 - pitch1], b0[at1 + pitch1],
                                          t1m, T1, mprev, qprev, factor2, bh, perf)
                           : t1c;
          const float d1 = dprev + DOSE_DT * cem43_mean_lean (t0m, t1c);

          T_out[c - BHTE_PLANE] = T2;
          dose[c - BHTE_PLANE] = d1 + DOSE_DT * cem43_mean_lean (t1c, T2);
        }

      t0m = t0c;
      t0c = t0p;
      t0p = t0pp;
      t1m = t1c;
      t1c = T1;
      qprev = qc;
      qc = qn;
      mprev = mc;
      mc = mn;
      dprev = dn;
      for (int e = 0; e < 4; e++)
        h[e] = hn[e];
    }
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

