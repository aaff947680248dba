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
