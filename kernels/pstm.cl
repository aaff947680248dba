/* pstm.cl: Kirchhoff pre-stack time migration, output-stationary.
 *
 * Each work-item owns KPW output samples of one output column c of a tile.
 * It loops over a batch of traces and adds their contributions to its own
 * image and fold values, so no atomics are needed; the host launches once
 * per trace batch and the running sums stay in global memory between
 * launches.  Traces are summed in the order given, so a result does not
 * depend on how traces were cut into batches.
 *
 * Build-time constants (prepended as #define lines):
 *   NT        output samples per column
 *   NS        input samples per trace (>= 2)
 *   OBLIQUITY 1: weight t0 / t
 *   SPREADING 1: weight 1 / (v t)
 *   ANTIALIAS 1: triangle filter read from the double-integrated trace
 *   AAPAD     samples of padding at each end of the integrated traces
 *   KPW       output samples per work-item (default 4)
 *   CONTIG    0: a work-item owns times kk, kk + NKW, kk + 2 NKW... so that
 *             neighbouring work-items hold neighbouring times and their
 *             trace reads coalesce (GPUs);
 *             1: it owns KPW consecutive times kk KPW + m, so that the loop
 *             over m is a plain vectorisable loop over contiguous samples
 *             (CPUs: the compiler turns it into SIMD lanes)
 *   NATIVE    1: native_sqrt and native_recip for the travel times and
 *             weights (faster on some GPUs; less accurate, see
 *             docs/performance.md)
 *   PREFETCH  1: the trace loop loads the next trace's geometry ahead
 *   BRANCH    1: samples outside the aperture or the trace are skipped by
 *             branches rather than zeroed by selects (GPUs)
 *
 * The per-sample work is straight-line code: every test is a select, the
 * interpolation index comes from a rounding trick rather than a
 * conversion, and the cosine taper is a polynomial; the only branch in
 * the trace loop is the per-(trace, column) aperture test, the same for
 * every sample a work-item owns.  Travel times, the aperture and the
 * in-trace tests use the same float expressions as the C reference, so
 * the fold agrees exactly.
 *
 * Layouts: image and fold are [c * NT + k] (time fastest).
 *
 * Culling: the host groups the tile's columns into square blocks and
 * lists, for each block, the launch's traces whose midpoint lies within
 * the largest aperture of the block (slots of the trace buffers, in trace
 * order); a column loops over its block's list only, instead of over
 * every trace the tile gathered (most of which lie beyond its aperture).
 * A trace left out of a list is one the aperture test would reject, so
 * the sums and their order are those of the whole list.
 */

#ifndef NT
#error "NT must be defined"
#endif
#ifndef NS
#error "NS must be defined"
#endif
#ifndef AAPAD
#define AAPAD 0
#endif
#ifndef KPW
#define KPW 4
#endif
#ifndef CONTIG
#define CONTIG 0
#endif
#ifndef NATIVE
#define NATIVE 0
#endif
#ifndef PREFETCH
#define PREFETCH 0
#endif
#ifndef BRANCH
#define BRANCH 0
#endif

/* Samples per double-integrated trace: AAPAD more at each end, so that
 * reads at u +- L (L <= AAPAD - 2) stay inside and the trace is exactly
 * the running sums of the zero-padded trace there. */
#define NSA (NS + 2 * AAPAD)

/* Work-items per column. */
#define NKW ((NT + KPW - 1) / KPW)

#if CONTIG
#define SAMPLE(kk, m) ((kk) * KPW + (m))
#else
#define SAMPLE(kk, m) ((kk) + (m) * NKW)
#endif

#if NATIVE
#define WB_SQRT(x) native_sqrt (x)
#define WB_RECIP(x) native_recip (x)
#else
#define WB_SQRT(x) sqrt (x)
#define WB_RECIP(x) (1.0f / (x))
#endif

/* 1.5 * 2^23: adding it to a float in [-2^22, 2^22] leaves the nearest
 * integer in the low mantissa bits. */
#define WB_ROUND_MAGIC 12582912.0f

/* Linear interpolation of @trace (@n samples) at @u, clamped to [0, n-1]:
 * index and fraction with float adds and an integer subtract (conversions
 * are slow on GPUs and break vector code on CPUs).  (u - 0.5) rounded to
 * nearest is floor (u) or, on a tie, floor (u) - 1 with fraction 1: the
 * same value. */
static inline __attribute__((always_inline)) float
wb_interp (__global const float *trace, float u, const int n)
{
  const float uc = clamp (u, 0.0f, (float) (n - 1));
  const float y = (uc - 0.5f) + WB_ROUND_MAGIC;
  const int i = min (as_int (y) - as_int (WB_ROUND_MAGIC), n - 2);
  const float f = uc - fmin (y - WB_ROUND_MAGIC, (float) (n - 2));
  const float s0 = trace[i];

  return fma (f, trace[i + 1] - s0, s0);
}

/* 0.5 (1 + cos (pi x)) for x in [0, 1]: 0.5 - 0.5 sin (pi (x - 1/2)),
 * an odd polynomial in y = x - 1/2 (Taylor to y^11, error < 3e-8). */
static inline __attribute__((always_inline)) float
wb_taper (float x)
{
  const float y = clamp (x, 0.0f, 1.0f) - 0.5f;
  const float z = y * y;
  /* sin (pi y) / y = pi - pi^3/6 z + pi^5/120 z^2 - ... */
  float p = -2.5202042373060605e-02f;      /* -pi^11 / 11! */
  p = fma (p, z, 1.6044118478735982e-01f);  /* pi^9 / 9! */
  p = fma (p, z, -5.9926452932079207e-01f); /* -pi^7 / 7! */
  p = fma (p, z, 2.5501640398773455e+00f);  /* pi^5 / 5! */
  p = fma (p, z, -5.1677127800499703e+00f); /* -pi^3 / 3! */
  p = fma (p, z, 3.1415926535897932e+00f);  /* pi */
  return fma (-0.5f * y, p, 0.5f);
}

__kernel void
pstm_migrate (__global float        *image,     /* [ncol * NT] */
              __global uint         *fold,      /* [ncol * NT] */
              __global const float2 *column_xy, /* [ncol] local metres */
              const int              ncol,
              __global const float4 *otab,      /* [NT]: t0, vrms, radius, inner radius */
              __global const float4 *geom,      /* [slots]: sx, sy, rx, ry */
              __global const float  *first,     /* [slots]: time of sample 0 */
              __global const float  *traces,    /* [slots * NS]: pre-filtered */
              __global const float  *integ,     /* [slots * NSA]: double-integrated (ANTIALIAS) */
              __global const uint   *column_block, /* [ncol]: the column's block */
              __global const uint2  *block_range,  /* [blocks]: its entries in block_list */
              __global const uint   *block_list,   /* trace slots, in summation order */
              const float            inv_dt,    /* 1 / input sample interval */
              const float            aa_scale)  /* trace spacing / input sample interval */
{
  const int kk = get_global_id (0);
  const int c = get_global_id (1);

  if (kk >= NKW || c >= ncol)
    return;

  const float2 xy = column_xy[c];
  /* Per owned sample: what depends on t0 only. */
  float th2[KPW], inv_v2[KPW], r2[KPW], inner[KPW], inv_ring[KPW];
#if OBLIQUITY
  float t0[KPW];
#endif
#if SPREADING
  float inv_v[KPW];
#endif
  float acc[KPW];
  uint n[KPW];
  float r2max = -1.0f;

#if !CONTIG
#pragma unroll
#endif
  for (int m = 0; m < KPW; m++)
    {
      const int k = SAMPLE (kk, m);
      const int kc = min (k, NT - 1);
      const float4 o = otab[kc];

      th2[m] = 0.25f * o.x * o.x;
      inv_v2[m] = 1.0f / (o.y * o.y);
      r2[m] = k < NT ? o.z * o.z : -1.0f;   /* a sample past NT takes nothing */
      inner[m] = o.w;
      inv_ring[m] = o.z > o.w ? 1.0f / (o.z - o.w) : 0.0f;
#if OBLIQUITY
      t0[m] = o.x;
#endif
#if SPREADING
      inv_v[m] = 1.0f / o.y;
#endif
      acc[m] = image[(size_t) c * NT + kc];
      n[m] = fold[(size_t) c * NT + kc];
      r2max = fmax (r2max, r2[m]);
    }

  const uint2 range = block_range[column_block[c]];
#if PREFETCH
  /* The next trace's slot and geometry are loaded while this one is
   * summed, and the slot after that one before: the loop carries no load
   * latency (most traces of a list are rejected after a few operations,
   * so the loads would otherwise set the pace). */
  uint slot_n = range.x < range.y ? block_list[range.x] : 0;
  uint slot_nn = range.x + 1 < range.y ? block_list[range.x + 1] : slot_n;
  float4 g_n = geom[slot_n];
  float tf_n = first[slot_n];
#endif

  for (uint e = range.x; e < range.y; e++)
    {
#if PREFETCH
      const uint slot = slot_n;
      const float4 g = g_n;
      const float tfirst = tf_n;
      slot_n = slot_nn;
      slot_nn = e + 2 < range.y ? block_list[e + 2] : slot_nn;
      g_n = geom[slot_n];
      tf_n = first[slot_n];
#else
      const uint slot = block_list[e];
      const float4 g = geom[slot];
#endif
      const float mdx = 0.5f * (g.x + g.z) - xy.x;
      const float mdy = 0.5f * (g.y + g.w) - xy.y;
      const float d2 = mdx * mdx + mdy * mdy;

      /* The one branch: this trace is outside every owned sample's aperture. */
      if (d2 > r2max)
        continue;

      const float sdx = g.x - xy.x, sdy = g.y - xy.y;
      const float rdx = g.z - xy.x, rdy = g.w - xy.y;
      const float s2 = sdx * sdx + sdy * sdy;
      const float q2 = rdx * rdx + rdy * rdy;
#if !PREFETCH
      const float tfirst = first[slot];
#endif
      const float d = sqrt (d2);
#if ANTIALIAS
      __global const float *a = integ + (size_t) slot * NSA;
#else
      __global const float *trace = traces + (size_t) slot * NS;
#endif

#if !CONTIG
#pragma unroll
#endif
      for (int m = 0; m < KPW; m++)
        {
#if BRANCH
          /* Branches where selects would compute dead samples: in the
           * strided layout the lanes of a warp hold neighbouring times, so
           * they nearly always agree (small times have small apertures;
           * late times fall past the trace's end). */
          if (d2 > r2[m])
            continue;
#endif
          const float ts = WB_SQRT (th2[m] + s2 * inv_v2[m]);
          const float tr = WB_SQRT (th2[m] + q2 * inv_v2[m]);
          const float t = ts + tr;
          const float u = (t - tfirst) * inv_dt;
#if BRANCH
          if (!(u >= 0.0f && u <= (float) (NS - 1)))
            continue;
          const int live = 1;
#else
          const int live = (d2 <= r2[m]) & (u >= 0.0f) & (u <= (float) (NS - 1));
#endif

          /* Cosine taper over the outer ring of the aperture (exactly 1
           * inside it, as in the reference).  A select for vector lanes;
           * a branch on GPUs, where d is the same for a whole warp (one
           * column) and inner[m] nearly always too. */
#if CONTIG
          float w = d > inner[m] ? wb_taper ((d - inner[m]) * inv_ring[m]) : 1.0f;
#else
          float w = 1.0f;
          if (d > inner[m])
            w = wb_taper ((d - inner[m]) * inv_ring[m]);
#endif
#if OBLIQUITY || SPREADING
          const float rt = t > 0.0f ? WB_RECIP (t) : 0.0f;
#endif
#if OBLIQUITY
          w *= t > 0.0f ? t0[m] * rt : 1.0f;
#endif
#if SPREADING
          w *= t > 0.0f ? inv_v[m] * rt : 1.0f;
#endif

#if ANTIALIAS
          /* Triangle filter of half-width L samples (Lumley-Claerbout):
           * from the double-integrated trace, (2 A(u) - A(u - L) -
           * A(u + L)) / L^2.  L is the operator's time dip times the trace
           * spacing, at least 1. */
          const float rts = WB_RECIP (ts), rtr = WB_RECIP (tr);
          const float gx = (sdx * rts + rdx * rtr) * inv_v2[m];
          const float gy = (sdy * rts + rdy * rtr) * inv_v2[m];
          const float L = fmax (1.0f, WB_SQRT (gx * gx + gy * gy) * aa_scale);
          const float up = u + (float) AAPAD;
          const float sv = (2.0f * wb_interp (a, up, NSA) - wb_interp (a, up - L, NSA)
                            - wb_interp (a, up + L, NSA)) * WB_RECIP (L * L);
#else
          const float sv = wb_interp (trace, u, NS);
#endif
          acc[m] += live ? w * sv : 0.0f;
          n[m] += live ? 1u : 0u;
        }
    }

#if !CONTIG
#pragma unroll
#endif
  for (int m = 0; m < KPW; m++)
    {
      const int k = SAMPLE (kk, m);
      if (k < NT)
        {
          image[(size_t) c * NT + k] = acc[m];
          fold[(size_t) c * NT + k] = n[m];
        }
    }
}
