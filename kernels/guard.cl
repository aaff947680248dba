/* guard.cl: the blow-up check.  One pass over a float buffer gives, per
 * work-group, the largest finite |x|, the count of non-finite values, the
 * count of finite values above MAX_ABS, and the first index that is either.
 * The host reduces the few per-group results (wb-guard.c).
 *
 * Work-items stride through the buffer (item g reads g, g + G, g + 2G...)
 * so reads coalesce; each item's first bad index is therefore its smallest.
 * GUARD_WG (work-group size, a power of two) is prepended by the host.
 * Built without -cl-finite-math-only, so isfinite() is honest.
 */
#include "wb-common.h"

#define GUARD_NONE ((ulong) 0xffffffffffffffffUL)

__kernel void
wb_guard_scan (__global const float *restrict x,
               const ulong n,
               const float max_abs,
               __global float *restrict group_max,
               __global uint *restrict group_nonfinite,
               __global uint *restrict group_over,
               __global ulong *restrict group_first)
{
  __local float lmax[GUARD_WG];
  __local uint lnf[GUARD_WG];
  __local uint lov[GUARD_WG];
  __local ulong lfirst[GUARD_WG];
  const size_t lid = get_local_id (0);
  const ulong stride = get_global_size (0);
  float m = 0.0f;
  uint nf = 0, ov = 0;
  ulong first = GUARD_NONE;

  for (ulong i = get_global_id (0); i < n; i += stride)
    {
      const float v = x[i];
      if (!isfinite (v))
        {
          nf++;
          if (first == GUARD_NONE)
            first = i;
        }
      else
        {
          const float a = fabs (v);
          m = fmax (m, a);
          if (a > max_abs)
            {
              ov++;
              if (first == GUARD_NONE)
                first = i;
            }
        }
    }
  lmax[lid] = m;
  lnf[lid] = nf;
  lov[lid] = ov;
  lfirst[lid] = first;
  barrier (CLK_LOCAL_MEM_FENCE);
  for (size_t s = GUARD_WG / 2; s > 0; s >>= 1)
    {
      if (lid < s)
        {
          lmax[lid] = fmax (lmax[lid], lmax[lid + s]);
          lnf[lid] += lnf[lid + s];
          lov[lid] += lov[lid + s];
          lfirst[lid] = min (lfirst[lid], lfirst[lid + s]);
        }
      barrier (CLK_LOCAL_MEM_FENCE);
    }
  if (lid == 0)
    {
      const size_t g = get_group_id (0);
      group_max[g] = lmax[0];
      group_nonfinite[g] = lnf[0];
      group_over[g] = lov[0];
      group_first[g] = lfirst[0];
    }
}
