#define G_LOG_DOMAIN "wb-device"
#include "config.h"

#include <string.h>
#include <unistd.h>

#include "wb-cl.h"
#include "wb-device.h"
#include "wb-error.h"
#include "wb-io.h"

#ifndef CL_DEVICE_UUID_KHR
#define CL_DEVICE_UUID_KHR 0x106A
#endif

WbDevice *
wb_device_ref (WbDevice *device)
{
  return g_atomic_rc_box_acquire (device);
}

static void
device_clear (gpointer data)
{
  WbDevice *d = data;
  g_free (d->id);
  g_free (d->name);
  g_free (d->vendor);
  g_free (d->driver_version);
  g_free (d->device_version);
  g_free (d->platform_name);
  g_free (d->extensions);
}

void
wb_device_unref (WbDevice *device)
{
  if (device != NULL)
    g_atomic_rc_box_release_full (device, device_clear);
}

gboolean
wb_device_is_reference (const WbDevice *device)
{
  return device->kind == WB_DEVICE_KIND_REFERENCE;
}

gboolean
wb_device_has_extension (const WbDevice *device,
                         const char     *extension)
{
  g_auto(GStrv) exts = NULL;

  if (device->extensions == NULL)
    return FALSE;
  exts = g_strsplit (device->extensions, " ", -1);
  return g_strv_contains ((const char * const *) exts, extension);
}

const char *
wb_device_kind_to_string (WbDeviceKind kind)
{
  switch (kind)
    {
    case WB_DEVICE_KIND_DISCRETE_GPU: return "discrete GPU";
    case WB_DEVICE_KIND_INTEGRATED_GPU: return "integrated GPU";
    case WB_DEVICE_KIND_CPU: return "CPU";
    case WB_DEVICE_KIND_ACCELERATOR: return "accelerator";
    case WB_DEVICE_KIND_REFERENCE: return "reference (C, threads)";
    default: return "unknown";
    }
}

static char *
device_string (cl_device_id dev,
               cl_device_info param)
{
  size_t size = 0;
  char *s;

  if (clGetDeviceInfo (dev, param, 0, NULL, &size) != CL_SUCCESS || size == 0)
    return g_strdup ("");
  s = g_malloc0 (size + 1);
  clGetDeviceInfo (dev, param, size, s, NULL);
  return g_strstrip (s);
}

static char *
platform_string (cl_platform_id p,
                 cl_platform_info param)
{
  size_t size = 0;
  char *s;

  if (clGetPlatformInfo (p, param, 0, NULL, &size) != CL_SUCCESS || size == 0)
    return g_strdup ("");
  s = g_malloc0 (size + 1);
  clGetPlatformInfo (p, param, size, s, NULL);
  return g_strstrip (s);
}

static WbDevice *
device_new_reference (void)
{
  WbDevice *d = g_atomic_rc_box_new0 (WbDevice);

  d->id = g_strdup ("reference");
  d->kind = WB_DEVICE_KIND_REFERENCE;
  d->platform_index = -1;
  d->device_index = -1;
  d->name = g_strdup ("Reference (plain C)");
  d->vendor = g_strdup ("Wavebench");
  d->driver_version = g_strdup (PACKAGE_VERSION);
  d->device_version = g_strdup ("C11, GLib threads");
  d->platform_name = g_strdup ("reference");
  d->extensions = g_strdup ("");
  d->compute_units = wb_parallel_threads ();
  /* Host memory: the reference backend is bounded by what malloc gives. */
  d->global_mem_size = (guint64) sysconf (_SC_PHYS_PAGES) * (guint64) sysconf (_SC_PAGE_SIZE);
  d->max_alloc_size = d->global_mem_size;
  d->max_work_group_size = 1;
  d->fp64 = TRUE;
  return d;
}

static WbDevice *
device_new_opencl (cl_platform_id platform,
                   cl_device_id   dev,
                   int            pi,
                   int            di,
                   const char    *platform_name)
{
  WbDevice *d = g_atomic_rc_box_new0 (WbDevice);
  cl_device_type type = 0;
  cl_bool unified = CL_FALSE;
  cl_uint cu = 0;
  cl_ulong gmem = 0, maxalloc = 0;
  size_t maxwg = 0;
  cl_device_fp_config fp64 = 0;

  d->id = g_strdup_printf ("opencl:%d:%d", pi, di);
  d->platform_index = pi;
  d->device_index = di;
  d->platform = platform;
  d->device = dev;
  d->platform_name = g_strdup (platform_name);
  d->name = device_string (dev, CL_DEVICE_NAME);
  d->vendor = device_string (dev, CL_DEVICE_VENDOR);
  d->driver_version = device_string (dev, CL_DRIVER_VERSION);
  d->device_version = device_string (dev, CL_DEVICE_VERSION);
  d->extensions = device_string (dev, CL_DEVICE_EXTENSIONS);

  clGetDeviceInfo (dev, CL_DEVICE_TYPE, sizeof type, &type, NULL);
  G_GNUC_BEGIN_IGNORE_DEPRECATIONS
  clGetDeviceInfo (dev, CL_DEVICE_HOST_UNIFIED_MEMORY, sizeof unified, &unified, NULL);
  G_GNUC_END_IGNORE_DEPRECATIONS
  clGetDeviceInfo (dev, CL_DEVICE_MAX_COMPUTE_UNITS, sizeof cu, &cu, NULL);
  clGetDeviceInfo (dev, CL_DEVICE_GLOBAL_MEM_SIZE, sizeof gmem, &gmem, NULL);
  clGetDeviceInfo (dev, CL_DEVICE_MAX_MEM_ALLOC_SIZE, sizeof maxalloc, &maxalloc, NULL);
  clGetDeviceInfo (dev, CL_DEVICE_MAX_WORK_GROUP_SIZE, sizeof maxwg, &maxwg, NULL);
  clGetDeviceInfo (dev, CL_DEVICE_DOUBLE_FP_CONFIG, sizeof fp64, &fp64, NULL);

  if (type & CL_DEVICE_TYPE_GPU)
    d->kind = unified ? WB_DEVICE_KIND_INTEGRATED_GPU : WB_DEVICE_KIND_DISCRETE_GPU;
  else if (type & CL_DEVICE_TYPE_CPU)
    d->kind = WB_DEVICE_KIND_CPU;
  else
    d->kind = WB_DEVICE_KIND_ACCELERATOR;
  d->compute_units = cu;
  d->global_mem_size = gmem;
  d->max_alloc_size = maxalloc;
  d->max_work_group_size = maxwg;
  d->fp64 = fp64 != 0 || wb_device_has_extension (d, "cl_khr_fp64");
  d->gl_sharing = wb_device_has_extension (d, "cl_khr_gl_sharing") ||
                  wb_device_has_extension (d, "cl_APPLE_gl_sharing");
  d->external_memory_opaque_fd = wb_device_has_extension (d, "cl_khr_external_memory_opaque_fd");
  if (wb_device_has_extension (d, "cl_khr_device_uuid") &&
      clGetDeviceInfo (dev, CL_DEVICE_UUID_KHR, 16, d->uuid, NULL) == CL_SUCCESS)
    d->has_uuid = TRUE;
  return d;
}

GPtrArray *
wb_device_list (char **notice)
{
  GPtrArray *list = g_ptr_array_new_with_free_func ((GDestroyNotify) wb_device_unref);
  cl_uint n_platforms = 0;
  cl_int status;
  g_autofree cl_platform_id *platforms = NULL;
  guint n_devices = 0;

  if (notice)
    *notice = NULL;

  /* Lets tests and users see the no-OpenCL path on a machine that has one. */
  if (g_strcmp0 (g_getenv ("WAVEBENCH_NO_OPENCL"), "1") == 0)
    status = CL_PLATFORM_NOT_FOUND_KHR;
  else
    status = clGetPlatformIDs (0, NULL, &n_platforms);

  if (status == CL_SUCCESS && n_platforms > 0)
    {
      platforms = g_new0 (cl_platform_id, n_platforms);
      status = clGetPlatformIDs (n_platforms, platforms, NULL);
    }
  if (status == CL_SUCCESS)
    {
      for (cl_uint p = 0; p < n_platforms; p++)
        {
          cl_uint nd = 0;
          g_autofree cl_device_id *devs = NULL;
          g_autofree char *pname = platform_string (platforms[p], CL_PLATFORM_NAME);

          if (clGetDeviceIDs (platforms[p], CL_DEVICE_TYPE_ALL, 0, NULL, &nd) != CL_SUCCESS || nd == 0)
            continue;
          devs = g_new0 (cl_device_id, nd);
          if (clGetDeviceIDs (platforms[p], CL_DEVICE_TYPE_ALL, nd, devs, NULL) != CL_SUCCESS)
            continue;
          for (cl_uint d = 0; d < nd; d++)
            {
              g_ptr_array_add (list, device_new_opencl (platforms[p], devs[d], (int) p, (int) d, pname));
              n_devices++;
            }
        }
    }

  if (n_devices == 0 && notice)
    {
      if (status != CL_SUCCESS && status != CL_PLATFORM_NOT_FOUND_KHR)
        *notice = g_strdup_printf ("OpenCL is unavailable (clGetPlatformIDs: %s); running on the reference backend",
                                   wb_cl_error_name (status));
      else
        *notice = g_strdup ("no OpenCL platform found (install an OpenCL driver, e.g. pocl-opencl-icd); running on the reference backend");
    }

  g_ptr_array_add (list, device_new_reference ());
  return list;
}

static int
kind_rank (WbDeviceKind kind)
{
  switch (kind)
    {
    case WB_DEVICE_KIND_DISCRETE_GPU: return 0;
    case WB_DEVICE_KIND_INTEGRATED_GPU: return 1;
    case WB_DEVICE_KIND_CPU: return 2;
    case WB_DEVICE_KIND_ACCELERATOR: return 3;
    case WB_DEVICE_KIND_REFERENCE:
    default: return 4;
    }
}

WbDevice *
wb_device_choose_auto (GPtrArray  *devices,
                       char      **why)
{
  WbDevice *best = NULL;

  for (guint i = 0; i < devices->len; i++)
    {
      WbDevice *d = g_ptr_array_index (devices, i);
      /* Within a kind, more memory first: the bigger card takes bigger runs. */
      if (best == NULL || kind_rank (d->kind) < kind_rank (best->kind) ||
          (kind_rank (d->kind) == kind_rank (best->kind) && d->global_mem_size > best->global_mem_size))
        best = d;
    }
  g_assert (best != NULL);
  if (why)
    {
      if (best->kind == WB_DEVICE_KIND_REFERENCE)
        *why = g_strdup ("auto chose the reference backend: no OpenCL device is available");
      else
        *why = g_strdup_printf ("auto chose %s (%s, %s): %s", best->id, best->name,
                                wb_device_kind_to_string (best->kind),
                                best->kind == WB_DEVICE_KIND_DISCRETE_GPU ? "a discrete GPU is preferred" :
                                best->kind == WB_DEVICE_KIND_INTEGRATED_GPU ? "no discrete GPU; an integrated GPU comes next" :
                                best->kind == WB_DEVICE_KIND_CPU ? "no GPU; an OpenCL CPU device beats the reference backend" :
                                "no GPU or CPU device; the accelerator comes next");
    }
  return wb_device_ref (best);
}

WbDevice *
wb_device_lookup (GPtrArray   *devices,
                  const char  *id,
                  char       **why,
                  GError     **error)
{
  g_autoptr(GString) known = g_string_new (NULL);

  if (why)
    *why = NULL;
  if (id == NULL || g_str_equal (id, "auto"))
    return wb_device_choose_auto (devices, why);
  for (guint i = 0; i < devices->len; i++)
    {
      WbDevice *d = g_ptr_array_index (devices, i);
      if (g_str_equal (d->id, id))
        return wb_device_ref (d);
      g_string_append_printf (known, "%s%s", known->len ? ", " : "", d->id);
    }
  g_set_error (error, WB_ERROR, WB_ERROR_NOT_FOUND,
               "unknown backend '%s' (available: %s, auto)", id, known->str);
  return NULL;
}

/* --- copy bandwidth ------------------------------------------------- */

typedef struct
{
  const guint8 *src;
  guint8       *dst;
  gsize         n;
} CopyJob;

static void
copy_range (gsize begin, gsize end, gpointer data)
{
  CopyJob *j = data;
  memcpy (j->dst + begin, j->src + begin, end - begin);
}

static int
cmp_double (const void *a, const void *b)
{
  double x = *(const double *) a, y = *(const double *) b;
  return x < y ? -1 : x > y;
}

#define BW_REPEATS 7

static double
reference_bandwidth (void)
{
  gsize n = 256u << 20;
  CopyJob job;
  double t[BW_REPEATS];

  job.src = g_malloc (n);
  job.dst = g_malloc (n);
  job.n = n;
  memset ((void *) job.src, 1, n);
  memset (job.dst, 0, n);
  for (int r = 0; r < BW_REPEATS; r++)
    {
      gint64 t0 = g_get_monotonic_time ();
      wb_parallel_for (n, copy_range, &job);
      t[r] = (g_get_monotonic_time () - t0) * 1e-6;
    }
  g_free ((void *) job.src);
  g_free (job.dst);
  qsort (t, BW_REPEATS, sizeof t[0], cmp_double);
  return 2.0 * n / t[BW_REPEATS / 2] / 1e9;
}

/* One warm-up and BW_REPEATS timed launches of @kernel over @global
 * work-items, each waited for; the median time from profiling events. */
static gboolean
median_launch (WbClContext  *ctx,
               cl_kernel     kernel,
               gsize         global,
               gsize         local,
               double       *seconds,
               GError      **error)
{
  double t[BW_REPEATS];

  for (int r = -1; r < BW_REPEATS; r++)
    {
      cl_event ev = NULL;

      if (!wb_cl_enqueue (ctx, kernel, 1, &global, &local, NULL, &ev, error))
        return FALSE;
      if (!wb_cl_check (clWaitForEvents (1, &ev), "clWaitForEvents", error))
        {
          clReleaseEvent (ev);
          return FALSE;
        }
      if (r >= 0)
        t[r] = wb_cl_event_seconds (ev);
      clReleaseEvent (ev);
    }
  qsort (t, BW_REPEATS, sizeof t[0], cmp_double);
  *seconds = t[BW_REPEATS / 2];
  return TRUE;
}

double
wb_device_measure_bandwidth (WbDevice  *device,
                             GError   **error)
{
  g_autoptr(WbClContext) ctx = NULL;
  cl_program program = NULL;
  cl_kernel kernel = NULL;
  cl_mem a = NULL, b = NULL;
  gsize bytes;
  cl_ulong n4;
  double seconds = 0.0;
  double result = 0.0;
  gsize cells, local = 256;

  if (wb_device_is_reference (device))
    return device->copy_bandwidth = reference_bandwidth ();

  ctx = wb_cl_context_new (device, error);
  if (ctx == NULL)
    return 0.0;
  /* Big enough to leave every cache behind, small enough for any device. */
  bytes = MIN ((gsize) 512 << 20, device->max_alloc_size / 2);
  bytes = bytes / 4096 * 4096;
  n4 = bytes / 16;
  program = wb_cl_build_program (ctx, "bench.cl", NULL, NULL, error);
  if (program == NULL)
    return 0.0;
  kernel = wb_cl_create_kernel (program, "wb_copy", error);
  if (kernel == NULL)
    goto out;
  a = wb_cl_buffer_new (ctx, CL_MEM_READ_WRITE, bytes, NULL, "bandwidth source", error);
  if (a == NULL)
    goto out;
  b = wb_cl_buffer_new (ctx, CL_MEM_READ_WRITE, bytes, NULL, "bandwidth destination", error);
  if (b == NULL)
    goto out;
  if (!wb_cl_fill_float (ctx, a, 1.5f, bytes / 4, error) ||
      !wb_cl_set_arg (kernel, 0, sizeof a, &a, error) ||
      !wb_cl_set_arg (kernel, 1, sizeof b, &b, error) ||
      !wb_cl_set_arg (kernel, 2, sizeof n4, &n4, error))
    goto out;
  local = MIN (local, device->max_work_group_size);
  cells = n4;
  if (!median_launch (ctx, kernel, cells, local, &seconds, error))
    goto out;
  if (seconds > 0)
    result = 2.0 * bytes / seconds / 1e9;
  device->copy_bandwidth = result;

out:
  WB_CL_RELEASE (a, clReleaseMemObject);
  WB_CL_RELEASE (b, clReleaseMemObject);
  WB_CL_RELEASE (kernel, clReleaseKernel);
  WB_CL_RELEASE (program, clReleaseProgram);
  return result;
}

double
wb_device_measure_streams (WbDevice  *device,
                           guint      reads,
                           guint      writes,
                           gboolean   in_place,
                           gsize      cells,
                           GError   **error)
{
  g_autoptr(WbClContext) ctx = NULL;
  g_autofree char *defines = NULL;
  cl_program program = NULL;
  cl_kernel kernel = NULL;
  cl_mem base = NULL;
  cl_ulong n = cells;
  gsize bytes, local = 256;
  guint arrays;
  double seconds = 0.0;
  double result = 0.0;

  if (reads < 1 || writes < 1 || reads + writes > 64 || cells == 0)
    {
      g_set_error (error, WB_ERROR, WB_ERROR_INVALID,
                   "streams: %u reads and %u writes of %" G_GSIZE_FORMAT " cells: expected 1 to 63 of each, at most 64 in all, and cells > 0",
                   reads, writes, cells);
      return 0.0;
    }
  if (in_place && writes > reads)
    {
      g_set_error (error, WB_ERROR, WB_ERROR_INVALID,
                   "streams: %u writes in place need as many reads, not %u", writes, reads);
      return 0.0;
    }
  if (wb_device_is_reference (device))
    {
      g_set_error (error, WB_ERROR, WB_ERROR_INVALID, "streams: measured on OpenCL devices only, not on %s",
                   device->id);
      return 0.0;
    }
  arrays = in_place ? reads : reads + writes;
  bytes = (gsize) arrays * cells * sizeof (float);
  if (cells > G_MAXSIZE / sizeof (float) / 64 || bytes > device->max_alloc_size)
    {
      g_set_error (error, WB_ERROR, WB_ERROR_TOO_LARGE,
                   "streams: %u arrays of %" G_GSIZE_FORMAT " cells need %.1f MiB in one buffer, over %s's largest allocation (%.1f MiB)",
                   arrays, cells, bytes / 1048576.0, device->id, device->max_alloc_size / 1048576.0);
      return 0.0;
    }
  ctx = wb_cl_context_new (device, error);
  if (ctx == NULL)
    return 0.0;
  defines = g_strdup_printf ("#define NR %u\n#define NW %u\n#define INPLACE %d\n", reads, writes, in_place ? 1 : 0);
  program = wb_cl_build_program (ctx, "bench.cl", defines, NULL, error);
  if (program == NULL)
    return 0.0;
  kernel = wb_cl_create_kernel (program, "wb_streams", error);
  if (kernel == NULL)
    goto out;
  base = wb_cl_buffer_new (ctx, CL_MEM_READ_WRITE, bytes, NULL, "streams", error);
  if (base == NULL)
    goto out;
  if (!wb_cl_fill_float (ctx, base, 0.5f, bytes / sizeof (float), error) ||
      !wb_cl_set_arg (kernel, 0, sizeof base, &base, error) ||
      !wb_cl_set_arg (kernel, 1, sizeof n, &n, error))
    goto out;
  local = MIN (local, device->max_work_group_size);
  if (!median_launch (ctx, kernel, (cells + local - 1) / local * local, local, &seconds, error))
    goto out;
  /* Every written array holds reads x 0.5 + its index (in place: 0.5 + 1
   * per launch): its first and last cells are checked (a launch that
   * covered nothing fails here). */
  for (guint k = 0; k < writes; k++)
    for (int end = 0; end < 2; end++)
      {
        gsize at = ((gsize) (in_place ? k : reads + k) * cells + (end ? cells - 1 : 0)) * sizeof (float);
        float want = in_place ? 0.5f + BW_REPEATS + 1 : 0.5f * reads + k;
        float probe = 0.0f;

        if (!wb_cl_check (clEnqueueReadBuffer (ctx->queue, base, CL_TRUE, at, sizeof (float), &probe, 0, NULL, NULL),
                          "clEnqueueReadBuffer (streams)", error))
          goto out;
        if (probe != want)
          {
            g_set_error (error, WB_ERROR, WB_ERROR_DEVICE,
                         "streams: written array %u holds %g at cell %" G_GSIZE_FORMAT ", expected %g", k, probe,
                         end ? cells - 1 : 0, want);
            goto out;
          }
      }
  if (seconds > 0)
    result = (double) (reads + writes) * cells * sizeof (float) / seconds / 1e9;

out:
  WB_CL_RELEASE (base, clReleaseMemObject);
  WB_CL_RELEASE (kernel, clReleaseKernel);
  WB_CL_RELEASE (program, clReleaseProgram);
  return result;
}

char *
wb_device_describe (const WbDevice *d)
{
  GString *s = g_string_new (NULL);

  g_string_append_printf (s, "%s\n", d->id);
  g_string_append_printf (s, "  name:            %s\n", d->name);
  g_string_append_printf (s, "  kind:            %s\n", wb_device_kind_to_string (d->kind));
  g_string_append_printf (s, "  vendor:          %s\n", d->vendor);
  g_string_append_printf (s, "  platform:        %s\n", d->platform_name);
  g_string_append_printf (s, "  version:         %s\n", d->device_version);
  g_string_append_printf (s, "  driver:          %s\n", d->driver_version);
  g_string_append_printf (s, "  compute units:   %u\n", d->compute_units);
  g_string_append_printf (s, "  global memory:   %.1f MiB\n", d->global_mem_size / 1048576.0);
  g_string_append_printf (s, "  max allocation:  %.1f MiB\n", d->max_alloc_size / 1048576.0);
  g_string_append_printf (s, "  max work-group:  %" G_GSIZE_FORMAT "\n", d->max_work_group_size);
  g_string_append_printf (s, "  fp64:            %s\n", d->fp64 ? "yes" : "no");
  g_string_append_printf (s, "  cl_khr_gl_sharing: %s\n", d->gl_sharing ? "yes" : "no");
  g_string_append_printf (s, "  cl_khr_external_memory_opaque_fd: %s\n",
                          d->external_memory_opaque_fd ? "yes" : "no");
  if (d->has_uuid)
    {
      g_string_append (s, "  uuid:            ");
      for (int i = 0; i < 16; i++)
        g_string_append_printf (s, "%02x%s", d->uuid[i], (i == 3 || i == 5 || i == 7 || i == 9) ? "-" : "");
      g_string_append_c (s, '\n');
    }
  if (d->copy_bandwidth > 0)
    g_string_append_printf (s, "  copy bandwidth:  %.1f GB/s (read + write)\n", d->copy_bandwidth);
  return g_string_free (s, FALSE);
}
