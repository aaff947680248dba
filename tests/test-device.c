/* Backends: listing, stable ids, auto selection order, lookups, the
 * no-OpenCL path, kernel sources from an override directory, build errors
 * with file and line, buffer limits, and measured copy bandwidth. */
#include "config.h"

#include <string.h>
#include <glib/gstdio.h>

#include "wb-cl.h"
#include "wb-device.h"
#include "wb-error.h"
#include "wb-test-devices.h"

static void
test_list (void)
{
  g_autoptr(GPtrArray) devices = wb_device_list (NULL);
  WbDevice *last;

  g_assert_cmpuint (devices->len, >=, 1);
  last = g_ptr_array_index (devices, devices->len - 1);
  g_assert_cmpstr (last->id, ==, "reference");
  g_assert_true (wb_device_is_reference (last));
  for (guint i = 0; i + 1 < devices->len; i++)
    {
      WbDevice *d = g_ptr_array_index (devices, i);
      g_autofree char *expect = g_strdup_printf ("opencl:%d:%d", d->platform_index, d->device_index);
      g_assert_cmpstr (d->id, ==, expect);
      g_assert_cmpuint (d->global_mem_size, >, 0);
      g_assert_cmpuint (d->max_alloc_size, <=, d->global_mem_size);
      g_assert_cmpuint (d->compute_units, >, 0);
    }
}

static WbDevice *
fake (const char *id, WbDeviceKind kind, guint64 mem)
{
  WbDevice *d = g_atomic_rc_box_new0 (WbDevice);
  d->id = g_strdup (id);
  d->name = g_strdup (id);
  d->kind = kind;
  d->global_mem_size = mem;
  return d;
}

static void
test_auto_order (void)
{
  g_autoptr(GPtrArray) list = g_ptr_array_new_with_free_func ((GDestroyNotify) wb_device_unref);
  g_autofree char *why = NULL;
  g_autoptr(WbDevice) a = NULL;

  g_ptr_array_add (list, fake ("opencl:0:0", WB_DEVICE_KIND_CPU, 8));
  g_ptr_array_add (list, fake ("reference", WB_DEVICE_KIND_REFERENCE, 8));
  a = wb_device_choose_auto (list, &why);
  g_assert_cmpstr (a->id, ==, "opencl:0:0");
  g_assert_cmpstr (why, ==, "auto chose opencl:0:0 (opencl:0:0, CPU): no GPU; an OpenCL CPU device beats the reference backend");
  g_clear_pointer (&why, g_free);
  g_clear_pointer (&a, wb_device_unref);

  g_ptr_array_insert (list, 0, fake ("opencl:1:0", WB_DEVICE_KIND_INTEGRATED_GPU, 4));
  a = wb_device_choose_auto (list, NULL);
  g_assert_cmpstr (a->id, ==, "opencl:1:0");
  g_clear_pointer (&a, wb_device_unref);

  /* Two discrete GPUs: the one with more memory. */
  g_ptr_array_add (list, fake ("opencl:2:0", WB_DEVICE_KIND_DISCRETE_GPU, 16));
  g_ptr_array_add (list, fake ("opencl:2:1", WB_DEVICE_KIND_DISCRETE_GPU, 80));
  a = wb_device_choose_auto (list, &why);
  g_assert_cmpstr (a->id, ==, "opencl:2:1");
  g_assert_true (g_str_has_suffix (why, "a discrete GPU is preferred"));
  g_clear_pointer (&a, wb_device_unref);

  /* Lookup by id, and a clear error for an unknown one. */
  {
    g_autoptr(GError) error = NULL;
    g_autoptr(WbDevice) b = wb_device_lookup (list, "opencl:1:0", NULL, &error);
    g_autoptr(WbDevice) c = NULL;
    g_assert_no_error (error);
    g_assert_cmpstr (b->id, ==, "opencl:1:0");
    c = wb_device_lookup (list, "opencl:9:9", NULL, &error);
    g_assert_null (c);
    g_assert_error (error, WB_ERROR, WB_ERROR_NOT_FOUND);
    g_assert_cmpstr (error->message, ==,
                     "unknown backend 'opencl:9:9' (available: opencl:1:0, opencl:0:0, reference, opencl:2:0, opencl:2:1, auto)");
    g_assert_cmpint (wb_error_exit_code (error), ==, 2);
  }
}

static void
test_no_opencl (void)
{
  g_autofree char *notice = NULL;
  g_autoptr(GPtrArray) devices = NULL;
  g_autoptr(WbDevice) a = NULL;

  g_setenv ("WAVEBENCH_NO_OPENCL", "1", TRUE);
  devices = wb_device_list (&notice);
  g_unsetenv ("WAVEBENCH_NO_OPENCL");
  g_assert_cmpuint (devices->len, ==, 1);
  g_assert_cmpstr (notice, ==, "no OpenCL platform found (install an OpenCL driver, e.g. pocl-opencl-icd); running on the reference backend");
  a = wb_device_choose_auto (devices, NULL);
  g_assert_cmpstr (a->id, ==, "reference");
}

static char *
make_kernel_dir (const char *file,
                 const char *contents)
{
  g_autoptr(GError) error = NULL;
  char *dir = g_dir_make_tmp ("wb-kernels-XXXXXX", &error);
  g_autofree char *path = g_build_filename (dir, file, NULL);
  g_assert_no_error (error);
  g_assert_true (g_file_set_contents (path, contents, -1, &error));
  return dir;
}

static void
remove_dir (const char *dir)
{
  g_autoptr(GDir) d = g_dir_open (dir, 0, NULL);
  const char *n;
  while (d && (n = g_dir_read_name (d)))
    {
      g_autofree char *p = g_build_filename (dir, n, NULL);
      g_unlink (p);
    }
  g_rmdir (dir);
}

static void
test_source_override (void)
{
  g_autofree char *dir = make_kernel_dir ("bench.cl", "#include \"wb-common.h\"\n__kernel void k (void) {}\n");
  g_autofree char *origin = NULL;
  g_autofree char *src = NULL;
  g_autoptr(GError) error = NULL;

  src = wb_kernel_source_load (dir, "bench.cl", &origin, &error);
  g_assert_no_error (error);
  g_assert_true (g_str_has_prefix (origin, dir));
  /* wb-common.h comes from the bundle and is expanded with #line markers. */
  g_assert_nonnull (strstr (src, "#line 1 \"wb-common.h\""));
  g_assert_nonnull (strstr (src, "#define IDX3"));
  g_assert_nonnull (strstr (src, "#line 2 \"bench.cl\"\n__kernel void k"));
  g_clear_pointer (&origin, g_free);
  g_clear_pointer (&src, g_free);

  /* The bundled file when the directory lacks it. */
  src = wb_kernel_source_load (NULL, "bench.cl", &origin, &error);
  g_assert_no_error (error);
  g_assert_cmpstr (origin, ==, "resource:///org/wavebench/Wavebench/kernels/bench.cl");
  g_assert_nonnull (strstr (src, "wb_copy"));
  g_clear_pointer (&src, g_free);

  src = wb_kernel_source_load (dir, "../etc/passwd", NULL, &error);
  g_assert_null (src);
  g_assert_cmpstr (error->message, ==, "kernel file name '../etc/passwd' must not contain a directory");
  g_clear_error (&error);

  g_assert_false (wb_kernel_dir_check ("/nonexistent-kernels", &error));
  g_assert_cmpstr (error->message, ==, "kernel directory '/nonexistent-kernels' does not exist or is not a directory");
  remove_dir (dir);
}

static void
test_build_error (void)
{
  g_autoptr(WbDevice) dev = opencl_device ();
  g_autoptr(WbClContext) ctx = NULL;
  g_autoptr(GError) error = NULL;
  g_autofree char *dir = NULL;
  cl_program prog;

  if (dev == NULL)
    {
      g_test_skip ("no OpenCL device");
      return;
    }
  /* Line 4 has the error: an undeclared identifier. */
  dir = make_kernel_dir ("bench.cl",
                         "#include \"wb-common.h\"\n"
                         "__kernel void wb_copy (__global float *a)\n"
                         "{\n"
                         "  a[0] = undeclared_thing;\n"
                         "}\n");
  ctx = wb_cl_context_new (dev, &error);
  g_assert_no_error (error);
  wb_cl_context_set_kernel_dir (ctx, dir);
  prog = wb_cl_build_program (ctx, "bench.cl", NULL, NULL, &error);
  g_assert_null (prog);
  g_assert_error (error, WB_ERROR, WB_ERROR_BUILD);
  g_test_message ("build error: %s", error->message);
  g_assert_true (g_str_has_prefix (error->message, "building kernel bench.cl (from "));
  g_assert_nonnull (strstr (error->message, "CL_BUILD_PROGRAM_FAILURE"));
  /* The compiler names the user's file and line 4, not the expanded source. */
  g_assert_nonnull (strstr (error->message, "bench.cl:4:"));
  g_assert_nonnull (strstr (error->message, "undeclared_thing"));
  g_assert_cmpint (wb_error_exit_code (error), ==, 1);
  remove_dir (dir);
}

/* NVIDIA's compiler ignores #line and numbers the source as built: the
 * log is mapped back to the user's file (the same case as build-error,
 * as that compiler reported it on the H200). */
static void
test_log_map_lines (void)
{
  g_autofree char *dir = make_kernel_dir ("bench.cl",
                                          "#include \"wb-common.h\"\n"
                                          "__kernel void wb_copy (__global float *a)\n"
                                          "{\n"
                                          "  a[0] = undeclared_thing;\n"
                                          "}\n");
  g_autoptr(GError) error = NULL;
  g_autofree char *body = wb_kernel_source_load (dir, "bench.cl", NULL, &error);
  g_autofree char *source = NULL;
  g_autofree char *log = NULL;
  g_autofree char *mapped = NULL;
  g_auto(GStrv) lines = NULL;
  guint phys = 0;

  g_assert_no_error (error);
  /* As wb_cl_build_program builds it: the defines, a newline, the body. */
  source = g_strconcat ("#define NX 8\n#define NY 8\n", "\n", body, NULL);
  lines = g_strsplit (source, "\n", -1);
  for (guint i = 0; lines[i]; i++)
    if (strstr (lines[i], "undeclared_thing"))
      phys = i + 1;
  g_assert_cmpuint (phys, >, 4);
  log = g_strdup_printf ("<kernel>:%u:10: error: use of undeclared identifier 'undeclared_thing'\n"
                         "<kernel>:1:2: note: in the defines\n"
                         "<kernel>:x: left alone", phys);
  mapped = wb_cl_log_map_lines (source, log);
  g_assert_cmpstr (mapped, ==,
                   "bench.cl:4:10: error: use of undeclared identifier 'undeclared_thing'\n"
                   "<kernel>:1:2: note: in the defines\n"
                   "<kernel>:x: left alone");
  g_clear_pointer (&mapped, g_free);
  /* A line inside the expanded header names the header. */
  for (guint i = 0; lines[i]; i++)
    if (g_str_has_prefix (lines[i], "#define IDX3"))
      phys = i + 1;
  g_clear_pointer (&log, g_free);
  log = g_strdup_printf ("<source>:%u:1: warning", phys);
  mapped = wb_cl_log_map_lines (source, log);
  g_assert_true (g_str_has_prefix (mapped, "wb-common.h:"));
  remove_dir (dir);
}

static void
test_buffer_limit (void)
{
  g_autoptr(WbDevice) dev = opencl_device ();
  g_autoptr(WbClContext) ctx = NULL;
  g_autoptr(GError) error = NULL;
  g_autofree char *expect = NULL;
  cl_mem m;

  if (dev == NULL)
    {
      g_test_skip ("no OpenCL device");
      return;
    }
  ctx = wb_cl_context_new (dev, &error);
  m = wb_cl_buffer_new (ctx, CL_MEM_READ_WRITE, dev->max_alloc_size + 1, NULL, "temperature", &error);
  g_assert_null (m);
  g_assert_error (error, WB_ERROR, WB_ERROR_TOO_LARGE);
  expect = g_strdup_printf ("buffer 'temperature' needs %.1f MiB but %s allows at most %.1f MiB in one allocation",
                            (dev->max_alloc_size + 1) / 1048576.0, dev->name, dev->max_alloc_size / 1048576.0);
  g_assert_cmpstr (error->message, ==, expect);
}

static void
test_cl_errors (void)
{
  g_autoptr(GError) error = NULL;

  g_assert_cmpstr (wb_cl_error_name (-5), ==, "CL_OUT_OF_RESOURCES");
  g_assert_cmpstr (wb_cl_error_name (-4), ==, "CL_MEM_OBJECT_ALLOCATION_FAILURE");
  g_assert_cmpstr (wb_cl_error_name (-11), ==, "CL_BUILD_PROGRAM_FAILURE");
  g_assert_cmpstr (wb_cl_error_name (12345), ==, "CL_UNKNOWN_ERROR");
  g_assert_false (wb_cl_check (CL_OUT_OF_RESOURCES, "clEnqueueNDRangeKernel", &error));
  g_assert_cmpstr (error->message, ==, "clEnqueueNDRangeKernel: CL_OUT_OF_RESOURCES");
  g_assert_true (error->domain == WB_CL_ERROR);
  g_assert_cmpint (error->code, ==, CL_OUT_OF_RESOURCES);
}

static void
test_bandwidth (void)
{
  g_autoptr(WbDevice) dev = opencl_device ();
  g_autoptr(GError) error = NULL;
  double bw;

  if (dev == NULL)
    {
      g_test_skip ("no OpenCL device");
      return;
    }
  bw = wb_device_measure_bandwidth (dev, &error);
  g_assert_no_error (error);
  g_test_message ("copy bandwidth of %s: %.2f GB/s", dev->name, bw);
  /* Any real device copies faster than 0.1 GB/s and slower than 100 TB/s. */
  g_assert_cmpfloat (bw, >, 0.1);
  g_assert_cmpfloat (bw, <, 1e5);
  g_assert_cmpfloat (dev->copy_bandwidth, ==, bw);
}

static void
test_streams (void)
{
  g_autoptr(WbDevice) dev = opencl_device ();
  g_autoptr(WbDevice) ref = NULL;
  g_autoptr(GPtrArray) all = wb_device_list (NULL);
  g_autoptr(GError) error = NULL;
  double gbs;

  if (dev == NULL)
    {
      g_test_skip ("no OpenCL device");
      return;
    }
  /* 1001 cells: the last work-group is partial; the last cell of both
   * written arrays is checked (3 x 0.5 + k). */
  gbs = wb_device_measure_streams (dev, 3, 2, FALSE, 1001, &error);
  g_assert_no_error (error);
  g_assert_cmpfloat (gbs, >, 0.0);
  g_assert_cmpfloat (gbs, <, 1e5);

  /* In place: both arrays written back, 0.5 + 1 per launch (8 launches). */
  gbs = wb_device_measure_streams (dev, 3, 2, TRUE, 1001, &error);
  g_assert_no_error (error);
  g_assert_cmpfloat (gbs, >, 0.0);
  g_assert_cmpfloat (wb_device_measure_streams (dev, 2, 3, TRUE, 1001, &error), ==, 0.0);
  g_assert_cmpstr (error->message, ==, "streams: 3 writes in place need as many reads, not 2");
  g_clear_error (&error);

  g_assert_cmpfloat (wb_device_measure_streams (dev, 0, 2, FALSE, 1001, &error), ==, 0.0);
  g_assert_error (error, WB_ERROR, WB_ERROR_INVALID);
  g_assert_cmpstr (error->message, ==,
                   "streams: 0 reads and 2 writes of 1001 cells: expected 1 to 63 of each, at most 64 in all, and cells > 0");
  g_clear_error (&error);
  g_assert_cmpfloat (wb_device_measure_streams (dev, 40, 20, FALSE, (gsize) 1 << 40, &error), ==, 0.0);
  g_assert_error (error, WB_ERROR, WB_ERROR_TOO_LARGE);
  g_assert_true (g_str_has_prefix (error->message, "streams: 60 arrays of 1099511627776 cells need "));
  g_clear_error (&error);
  ref = wb_device_lookup (all, "reference", NULL, &error);
  g_assert_no_error (error);
  g_assert_cmpfloat (wb_device_measure_streams (ref, 1, 1, FALSE, 16, &error), ==, 0.0);
  g_assert_cmpstr (error->message, ==, "streams: measured on OpenCL devices only, not on reference");
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/wavebench/device/list", test_list);
  g_test_add_func ("/wavebench/device/auto-order", test_auto_order);
  g_test_add_func ("/wavebench/device/no-opencl", test_no_opencl);
  g_test_add_func ("/wavebench/device/source-override", test_source_override);
  g_test_add_func ("/wavebench/device/build-error", test_build_error);
  g_test_add_func ("/wavebench/device/log-map-lines", test_log_map_lines);
  g_test_add_func ("/wavebench/device/buffer-limit", test_buffer_limit);
  g_test_add_func ("/wavebench/device/cl-errors", test_cl_errors);
  g_test_add_func ("/wavebench/device/bandwidth", test_bandwidth);
  g_test_add_func ("/wavebench/device/streams", test_streams);
  return g_test_run ();
}
