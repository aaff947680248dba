/* pstm.cl: Kirchhoff pre-stack time migration, output-stationary.
 *
 * Each work-item owns KPW output samples of one output column c of a tile
 * (times kk, kk + NKW, kk + 2 NKW...).  It loops over a batch of traces
 * and adds their contributions to its own image and fold values, so no
 * atomics are needed;
 * the host launches once per trace batch and the running sums stay in
 * global memory between launches.  Traces are summed in the order given,
 * so a result does not depend on how traces were cut into batches.
 *
 * Build-time constants (prepended as #define lines):
 *   NT        output samples per column
 *   NS        input samples per trace (>= 2)
 *   OBLIQUITY 1: weight t0 / t
 *   SPREADING 1: weight 1 / (v t)
 *   ANTIALIAS 1: triangle filter read from the double-integrated trace
 *   AAPAD     samples of padding at each end of the integrated traces
 *   KPW       output samples per work-item (default 4)
 *
 * Layouts: image and fold are [c * NT + k] (time fastest, so neighbouring
 * work-items share a column and read the same trace headers).
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
/* Samples per double-integrated trace: AAPAD more at each end, so that
 * reads at u +- L (L <= AAPAD - 2) stay inside and the trace is exactly
 * the running sums of the zero-padded trace there. */
#define NSA (NS + 2 * AAPAD)

/* Linear interpolation of a padded integrated trace at sample u of the
 * original trace (clamped only as a guard). */
static float
sample_padded (__global const float *trace, float u)
{
  u = clamp (u + (float) AAPAD, 0.0f, (float) (NSA - 1));
  int i = min ((int) u, NSA - 2);
  float f = u - (float) i;
  return trace[i] + f * (trace[i + 1] - trace[i]);
}

#ifndef KPW
#define KPW 4
#endif
/* Work-items per column: each owns KPW output samples, k = kk + m * NKW,
 * so that neighbouring work-items still hold neighbouring times. */
#define NKW ((NT + KPW - 1) / KPW)

__kernel void
pstm_migrate (__global float        *image,     /* [ncol * NT] */
              __global uint         *fold,      /* [ncol * NT] */
              __global const float2 *column_xy, /* [ncol] local metres */
              const int              ncol,
              __global const float4 *otab,      /* [NT]: t0, vrms, radius, inner radius */
              __global const float4 *geom,      /* [ntr]: sx, sy, rx, ry */
              __global const float  *first,     /* [ntr]: time of sample 0 */
              __global const float  *traces,    /* [ntr * NS]: pre-filtered */
              __global const float  *integ,     /* [ntr * NSA]: double-integrated (ANTIALIAS) */
              const int              ntr,
              const float            inv_dt,    /* 1 / input sample interval */
              const float            aa_scale)  /* trace spacing / input sample interval */
{
  const int kk = get_global_id (0);
  const int c = get_global_id (1);

  if (kk >= NKW || c >= ncol)
    return;

  const float2 xy = column_xy[c];
  /* Per owned sample: what depends on t0 only.  A trace's midpoint
   * distance and its squared source and receiver distances are computed
   * once for all of them. */
  float t0[KPW], v[KPW], radius[KPW], inner[KPW], r2[KPW], th2[KPW], inv_v2[KPW];
  float acc[KPW];
  uint n[KPW];
  float r2max = -1.0f;

  for (int m = 0; m < KPW; m++)
    {
      const int k = kk + m * NKW;
      const float4 o = otab[min (k, NT - 1)];

      t0[m] = o.x;
      v[m] = o.y;
      radius[m] = o.z;
      inner[m] = o.w;
      r2[m] = k < NT ? o.z * o.z : -1.0f;   /* a sample past NT takes nothing */
      th2[m] = 0.25f * o.x * o.x;
      inv_v2[m] = 1.0f / (o.y * o.y);
      acc[m] = k < NT ? image[(size_t) c * NT + k] : 0.0f;
      n[m] = k < NT ? fold[(size_t) c * NT + k] : 0u;
      r2max = fmax (r2max, r2[m]);
    }

  for (int j = 0; j < ntr; j++)
    {
      const float4 g = geom[j];
      const float mdx = 0.5f * (g.x + g.z) - xy.x;
      const float mdy = 0.5f * (g.y + g.w) - xy.y;
      const float d2 = mdx * mdx + mdy * mdy;

      if (d2 > r2max)
        continue;

      const float sdx = g.x - xy.x, sdy = g.y - xy.y;
      const float rdx = g.z - xy.x, rdy = g.w - xy.y;
      const float s2 = sdx * sdx + sdy * sdy;
      const float q2 = rdx * rdx + rdy * rdy;
      const float tfirst = first[j];
      const float d = sqrt (d2);
#if ANTIALIAS
      __global const float *a = integ + (size_t) j * NSA;
#else
      __global const float *trace = traces + (size_t) j * NS;
#endif

      for (int m = 0; m < KPW; m++)
        {
          if (d2 > r2[m])
            continue;

          const float ts = sqrt (th2[m] + s2 * inv_v2[m]);
          const float tr = sqrt (th2[m] + q2 * inv_v2[m]);
          const float t = ts + tr;
          const float u = (t - tfirst) * inv_dt;

          if (!(u >= 0.0f && u <= (float) (NS - 1)))
            continue;
          n[m]++;

          /* Cosine taper over the outer ring of the aperture. */
          float w = 1.0f;
          if (d > inner[m])
            w = 0.5f * (1.0f + cos (M_PI_F * (d - inner[m]) / (radius[m] - inner[m])));
#if OBLIQUITY
          if (t > 0.0f)
            w *= t0[m] / t;
#endif
#if SPREADING
          if (t > 0.0f)
            w /= v[m] * t;
#endif

#if ANTIALIAS
          /* Triangle filter of half-width L samples (Lumley-Claerbout):
           * from the double-integrated trace, (2 A(u) - A(u - L) -
           * A(u + L)) / L^2.  L is the operator's time dip times the trace
           * spacing, at least 1. */
          const float gx = (sdx / ts + rdx / tr) * inv_v2[m];
          const float gy = (sdy / ts + rdy / tr) * inv_v2[m];
          const float L = fmax (1.0f, sqrt (gx * gx + gy * gy) * aa_scale);
          const float sv = (2.0f * sample_padded (a, u) - sample_padded (a, u - L)
                            - sample_padded (a, u + L)) / (L * L);
#else
          const int i = min ((int) u, NS - 2);
          const float f = u - (float) i;
          const float sv = trace[i] + f * (trace[i + 1] - trace[i]);
#endif
          acc[m] += w * sv;
        }
    }

  for (int m = 0; m < KPW; m++)
    {
      const int k = kk + m * NKW;
      if (k < NT)
        {
          image[(size_t) c * NT + k] = acc[m];
          fold[(size_t) c * NT + k] = n[m];
        }
    }
}
