/* wb-device.h: backends, one per OpenCL device of every platform plus the
 * plain C "reference" backend.
 *
 * Ids are stable strings used by the CLI, presets and GSettings alike:
 * "opencl:P:D" (platform index P, device index D within it) and "reference".
 * "auto" picks a discrete GPU, then an integrated GPU, then an OpenCL CPU,
 * then the reference backend.
 */
#pragma once

#include <glib.h>
#include "wb-cl-headers.h"

G_BEGIN_DECLS

typedef enum
{
  WB_DEVICE_KIND_DISCRETE_GPU,
  WB_DEVICE_KIND_INTEGRATED_GPU,
  WB_DEVICE_KIND_CPU,
  WB_DEVICE_KIND_ACCELERATOR,
  WB_DEVICE_KIND_REFERENCE,
} WbDeviceKind;

typedef struct _WbDevice WbDevice;

struct _WbDevice
{
  char          *id;                  /* "opencl:0:1" or "reference" */
  WbDeviceKind   kind;
  int            platform_index;      /* -1 for the reference backend */
  int            device_index;

  char          *name;
  char          *vendor;
  char          *driver_version;
  char          *device_version;      /* "OpenCL 3.0 ..." */
  char          *platform_name;
  char          *extensions;          /* space separated, may be "" */

  guint          compute_units;
  guint64        global_mem_size;     /* bytes */
  guint64        max_alloc_size;      /* bytes */
  gsize          max_work_group_size;
  gboolean       fp64;
  gboolean       gl_sharing;          /* cl_khr_gl_sharing */
  gboolean       external_memory_opaque_fd; /* cl_khr_external_memory_opaque_fd */
  gboolean       has_uuid;
  guint8         uuid[16];            /* cl_khr_device_uuid */

  cl_platform_id platform;            /* NULL for the reference backend */
  cl_device_id   device;

  double         copy_bandwidth;      /* GB/s (read + write), 0 until measured */
};

WbDevice     *wb_device_ref                  (WbDevice     *device);
void          wb_device_unref                (WbDevice     *device);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (WbDevice, wb_device_unref)

/* Every backend: all OpenCL devices of all platforms, then "reference".
 * Never fails: with no usable OpenCL platform, *notice (if not NULL) gets a
 * one-line explanation and the list holds only the reference backend.
 * Elements are WbDevice*, owned by the array. */
GPtrArray    *wb_device_list                 (char        **notice);

/* Looks @id up in @devices ("auto" included).  For "auto", *why (if not
 * NULL) explains the choice.  Returns a new reference. */
WbDevice     *wb_device_lookup               (GPtrArray    *devices,
                                              const char   *id,
                                              char        **why,
                                              GError      **error);

WbDevice     *wb_device_choose_auto          (GPtrArray    *devices,
                                              char        **why);

const char   *wb_device_kind_to_string       (WbDeviceKind  kind);
gboolean      wb_device_is_reference         (const WbDevice *device);
gboolean      wb_device_has_extension        (const WbDevice *device,
                                              const char   *extension);

/* Measures device-to-device copy bandwidth (bytes read + bytes written per
 * second, in GB/s) with a large buffer and profiling events; for the
 * reference backend, a memcpy on the host.  Stores it in copy_bandwidth. */
double        wb_device_measure_bandwidth    (WbDevice     *device,
                                              GError      **error);

/* The ceiling for a kernel that streams @reads arrays in and @writes arrays
 * out, one float per array and work-item, @cells long (kernels/bench.cl,
 * wb_streams); with @in_place the writes go back into the first @writes
 * arrays read (@writes <= @reads), as a solver updates its fields.  Bytes
 * read + written per second in GB/s, median of seven launches.  Checks
 * what it wrote; 0 with @error set on failure. */
double        wb_device_measure_streams      (WbDevice     *device,
                                              guint         reads,
                                              guint         writes,
                                              gboolean      in_place,
                                              gsize         cells,
                                              GError      **error);

/* Multi-line human-readable description (for `devices` and info popovers). */
char         *wb_device_describe             (const WbDevice *device);

G_END_DECLS
