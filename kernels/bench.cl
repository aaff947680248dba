/* bench.cl: device copy bandwidth, the ceiling solver kernels are measured
 * against.  Each work-item copies VEC float4 values: one read and one write
 * per element, counted as 2 * bytes. */
#include "wb-common.h"

__kernel void
wb_copy (__global const float4 *restrict src,
         __global float4 *restrict dst,
         const ulong n)
{
  size_t i = get_global_id (0);
  if (i >= n)
    return;
  dst[i] = src[i];
}

/* Streams: the access pattern of a stencil kernel without its stencil.
 * Each work-item reads one float from each of NR arrays and writes one to
 * each of NW arrays, all n floats long and laid end to end in @base (reads
 * first), or with INPLACE back into the first NW it read: what a solver
 * kernel that loads NR fields and stores NW, one cell per work-item, can
 * move at best on this device. */
#ifdef NR
__kernel void
wb_streams (__global float *restrict base,
            const ulong n)
{
  size_t i = get_global_id (0);
  float s = 0.0f;

  if (i >= n)
    return;
#if INPLACE
  /* In place (NW <= NR): the first NW arrays read are written back, each
   * value + 1, as a solver updates its fields (s[c] += ...).  0 * s keeps
   * every read live (not foldable: s may be NaN). */
  float v[NR];
  for (int k = 0; k < NR; k++)
    {
      v[k] = base[k * n + i];
      s += v[k];
    }
  for (int k = 0; k < NW; k++)
    base[k * n + i] = v[k] + 1.0f + 0.0f * s;
#else
  for (int k = 0; k < NR; k++)
    s += base[k * n + i];
  for (int k = 0; k < NW; k++)
    base[(NR + k) * n + i] = s + (float) k;
#endif
}
#endif
