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
 * first): what a solver kernel that loads NR fields and stores NW, one cell
 * per work-item, can move at best on this device. */
#ifdef NR
__kernel void
wb_streams (__global float *restrict base,
            const ulong n)
{
  size_t i = get_global_id (0);
  float s = 0.0f;

  if (i >= n)
    return;
  for (int k = 0; k < NR; k++)
    s += base[k * n + i];
  for (int k = 0; k < NW; k++)
    base[(NR + k) * n + i] = s + (float) k;
}
#endif
