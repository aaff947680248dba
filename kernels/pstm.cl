/* pstm.cl: Kirchhoff pre-stack time migration, output-stationary.
 *
 * Each work-item owns one output sample (k, c) of a tile: time sample k of
 * output column c.  It loops over a batch of traces and adds their
 * contributions to its own image and fold values, so no atomics are needed;
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

__kernel void
pstm_migrate (__global float        *image,     /* [ncol * NT] */
              __global uint         *fold,      /* [ncol * NT] */
              __global const float2 *column_xy, /* [ncol] local metres */
              const int              ncol,
              __global const float4 *otab,      /* [NT]: t0, vrms, radius, inner radius */
              __global const float4 *geom,      /* [ntr]: sx, sy, rx, ry */
              __global const float  *first,     /* [ntr]: time of sample 0 */
              __global const float  *traces,    /* [ntr * NS]: derivative-filtered */
              __global const float  *integ,     /* [ntr * NSA]: double-integrated (ANTIALIAS) */
              const int              ntr,
              const float            inv_dt,    /* 1 / input sample interval */
              const float            aa_scale)  /* trace spacing / input sample interval */
{
  const int k = get_global_id (0);
  const int c = get_global_id (1);

  if (k >= NT || c >= ncol)
    return;

  const float2 xy = column_xy[c];
  const float4 o = otab[k];
  const float t0 = o.x;
  const float v = o.y;
  const float radius = o.z;
  const float inner = o.w;
  const float r2 = radius * radius;
  const float th2 = 0.25f * t0 * t0;
  const float inv_v2 = 1.0f / (v * v);
  const size_t out = (size_t) c * NT + k;

  float acc = image[out];
  uint n = fold[out];

  for (int j = 0; j < ntr; j++)
    {
      const float4 g = geom[j];
      const float mdx = 0.5f * (g.x + g.z) - xy.x;
      const float mdy = 0.5f * (g.y + g.w) - xy.y;
      const float d2 = mdx * mdx + mdy * mdy;

      if (d2 > r2)
        continue;

      const float sdx = g.x - xy.x, sdy = g.y - xy.y;
      const float rdx = g.z - xy.x, rdy = g.w - xy.y;
      const float ts = sqrt (th2 + (sdx * sdx + sdy * sdy) * inv_v2);
      const float tr = sqrt (th2 + (rdx * rdx + rdy * rdy) * inv_v2);
      const float t = ts + tr;
      const float u = (t - first[j]) * inv_dt;

      if (!(u >= 0.0f && u <= (float) (NS - 1)))
        continue;
      n++;

      /* Cosine taper over the outer ring of the aperture. */
      const float d = sqrt (d2);
      float w = 1.0f;
      if (d > inner)
        w = 0.5f * (1.0f + cos (M_PI_F * (d - inner) / (radius - inner)));
#if OBLIQUITY
      if (t > 0.0f)
        w *= t0 / t;
#endif
#if SPREADING
      if (t > 0.0f)
        w /= v * t;
#endif

#if ANTIALIAS
      /* Triangle filter of half-width L samples (Lumley-Claerbout): from the
       * double-integrated trace, (2 A(u) - A(u - L) - A(u + L)) / L^2.  L is
       * the operator's time dip times the trace spacing, at least 1. */
      const float gx = (sdx / ts + rdx / tr) * inv_v2;
      const float gy = (sdy / ts + rdy / tr) * inv_v2;
      const float L = fmax (1.0f, sqrt (gx * gx + gy * gy) * aa_scale);
      __global const float *a = integ + (size_t) j * NSA;
      const float s = (2.0f * sample_padded (a, u) - sample_padded (a, u - L)
                       - sample_padded (a, u + L)) / (L * L);
#else
      __global const float *trace = traces + (size_t) j * NS;
      const int i = min ((int) u, NS - 2);
      const float f = u - (float) i;
      const float s = trace[i] + f * (trace[i + 1] - trace[i]);
#endif
      acc += w * s;
    }

  image[out] = acc;
  fold[out] = n;
}
