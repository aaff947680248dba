/* wb-common.h: shared by every kernel file.  Expanded in place by the host
 * (with #line markers) so compiler messages keep their file and line.
 *
 * Indexing: x fastest, IDX3(i, j, k) = i + NX * (j + NY * k), where NX, NY,
 * NZ are #defines the host prepends for each build.
 *
 * Checkpoint probes: WB_PROBE(n) marks stage n of a kernel.  It compiles to
 * nothing unless the program is built with -DWB_PROBES, in which case each
 * work-item records the highest checkpoint it reached in wb_probe_buf (a
 * uchar per work-item, indexed by WB_PROBE_ID, which a kernel defines
 * before its first probe; the buffer is passed as the kernel's last
 * argument through WB_PROBE_ARG).
 */
#ifndef WB_COMMON_H
#define WB_COMMON_H

#define IDX3(i, j, k) ((size_t) (i) + (size_t) NX * ((size_t) (j) + (size_t) NY * (size_t) (k)))
#define IDX2(i, j) ((size_t) (i) + (size_t) NX * (size_t) (j))

#ifdef WB_PROBES
#define WB_PROBE_ARG , __global uchar *wb_probe_buf
#define WB_PROBE(n) do { wb_probe_buf[WB_PROBE_ID] = (uchar) (n); } while (0)
#else
#define WB_PROBE_ARG
#define WB_PROBE(n) do { } while (0)
#endif

#endif
