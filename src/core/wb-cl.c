#define G_LOG_DOMAIN "wb-cl"
#include "config.h"

#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <gio/gio.h>
#include <glib/gstdio.h>

#include "wb-cl.h"
#include "wb-core-resources.h"
#include "wb-error.h"

#define KERNEL_RESOURCE_DIR RESOURCE_PREFIX "/kernels"
/* A kernel file bigger than this is not a kernel someone edits. */
#define MAX_KERNEL_FILE (4 * 1024 * 1024)

gboolean
wb_cl_check (cl_int      status,
             const char *what,
             GError    **error)
{
  if (status == CL_SUCCESS)
    return TRUE;
  g_set_error (error, WB_CL_ERROR, status, "%s: %s", what, wb_cl_error_name (status));
  return FALSE;
}

/* wb_cl_context_set_thread_default (): a borrowed pointer, valid while
 * wb_sim_new_full () holds its reference. */
static GPrivate thread_default_context;

void
wb_cl_context_set_thread_default (WbClContext *ctx)
{
  g_private_set (&thread_default_context, ctx);
}

WbClContext *
wb_cl_context_new (WbDevice  *device,
                   GError   **error)
{
  cl_context_properties props[] = {
    CL_CONTEXT_PLATFORM, (cl_context_properties) device->platform, 0
  };
  cl_int status = CL_SUCCESS;
  WbClContext *ctx;
  cl_context context;
  cl_command_queue queue;

  g_return_val_if_fail (device != NULL, NULL);

  ctx = g_private_get (&thread_default_context);
  if (ctx != NULL && !wb_device_is_reference (device) && ctx->device->device == device->device)
    return wb_cl_context_ref (ctx);

  if (wb_device_is_reference (device))
    {
      g_set_error (error, WB_ERROR, WB_ERROR_DEVICE,
                   "the reference backend has no OpenCL context");
      return NULL;
    }

  context = clCreateContext (props, 1, &device->device, NULL, NULL, &status);
  if (!wb_cl_check (status, "clCreateContext", error))
    return NULL;

  /* The 1.2 entry point: deprecated in 2.0 but offered by every driver,
   * including 1.2-only ones that lack clCreateCommandQueueWithProperties. */
  queue = clCreateCommandQueue (context, device->device, CL_QUEUE_PROFILING_ENABLE, &status);
  if (!wb_cl_check (status, "clCreateCommandQueue", error))
    {
      clReleaseContext (context);
      return NULL;
    }

  ctx = g_new0 (WbClContext, 1);
  g_atomic_ref_count_init (&ctx->ref_count);
  ctx->device = wb_device_ref (device);
  ctx->context = context;
  ctx->queue = queue;
  return ctx;
}

WbClContext *
wb_cl_context_ref (WbClContext *ctx)
{
  g_atomic_ref_count_inc (&ctx->ref_count);
  return ctx;
}

void
wb_cl_context_unref (WbClContext *ctx)
{
  if (ctx == NULL)
    return;
  if (g_atomic_ref_count_dec (&ctx->ref_count))
    {
      if (ctx->queue)
        {
          clFinish (ctx->queue);
          clReleaseCommandQueue (ctx->queue);
        }
      if (ctx->context)
        clReleaseContext (ctx->context);
      wb_device_unref (ctx->device);
      g_free (ctx->kernel_dir);
      g_free (ctx);
    }
}

void
wb_cl_context_set_kernel_dir (WbClContext *ctx,
                              const char  *dir)
{
  g_free (ctx->kernel_dir);
  ctx->kernel_dir = g_strdup (dir);
}

gboolean
wb_kernel_dir_check (const char  *dir,
                     GError     **error)
{
  g_autoptr(GDir) d = NULL;
  g_autoptr(GError) local = NULL;
  const char *name;

  if (!g_file_test (dir, G_FILE_TEST_IS_DIR))
    {
      g_set_error (error, WB_ERROR, WB_ERROR_NOT_FOUND,
                   "kernel directory '%s' does not exist or is not a directory", dir);
      return FALSE;
    }
  d = g_dir_open (dir, 0, &local);
  if (d == NULL)
    {
      g_set_error (error, WB_ERROR, WB_ERROR_IO,
                   "cannot read kernel directory '%s': %s", dir, local->message);
      return FALSE;
    }
  while ((name = g_dir_read_name (d)) != NULL)
    {
      g_autofree char *path = g_build_filename (dir, name, NULL);
      GStatBuf st;

      if (!g_str_has_suffix (name, ".cl") && !g_str_has_suffix (name, ".h"))
        continue;
      if (g_stat (path, &st) != 0 || !S_ISREG (st.st_mode))
        {
          g_set_error (error, WB_ERROR, WB_ERROR_INVALID,
                       "kernel directory '%s': '%s' is not a regular file", dir, name);
          return FALSE;
        }
      if (st.st_size > MAX_KERNEL_FILE)
        {
          g_set_error (error, WB_ERROR, WB_ERROR_INVALID,
                       "kernel file '%s' is %" G_GINT64_FORMAT " bytes; kernel files are limited to %d bytes",
                       path, (gint64) st.st_size, MAX_KERNEL_FILE);
          return FALSE;
        }
    }
  return TRUE;
}

/* Reads one file from the override directory (if it has it) or the bundled
 * resources. Returns NULL with NOT_FOUND if neither has it. */
static char *
load_raw (const char  *kernel_dir,
          const char  *file,
          char       **origin,
          GError     **error)
{
  const char *env = g_getenv ("WAVEBENCH_KERNEL_DIR");
  const char *dirs[2] = { kernel_dir, env && *env ? env : NULL };
  g_autofree char *res_path = NULL;
  g_autoptr(GBytes) bytes = NULL;

  if (strchr (file, '/') != NULL || strstr (file, "..") != NULL)
    {
      g_set_error (error, WB_ERROR, WB_ERROR_INVALID,
                   "kernel file name '%s' must not contain a directory", file);
      return NULL;
    }

  for (guint d = 0; d < G_N_ELEMENTS (dirs); d++)
    {
      g_autofree char *path = NULL;
      g_autoptr(GError) local = NULL;
      char *contents = NULL;
      gsize len = 0;

      if (dirs[d] == NULL)
        continue;
      path = g_build_filename (dirs[d], file, NULL);
      if (!g_file_test (path, G_FILE_TEST_EXISTS))
        continue;
      if (!g_file_get_contents (path, &contents, &len, &local))
        {
          g_set_error (error, WB_ERROR, WB_ERROR_IO,
                       "cannot read kernel file: %s", local->message);
          return NULL;
        }
      if (len > MAX_KERNEL_FILE || strlen (contents) != len)
        {
          g_free (contents);
          g_set_error (error, WB_ERROR, WB_ERROR_INVALID,
                       "kernel file '%s' is not a text file of at most %d bytes", path, MAX_KERNEL_FILE);
          return NULL;
        }
      if (origin)
        *origin = g_steal_pointer (&path);
      return contents;
    }

  /* Referencing the bundle links it in from the static library; its
   * constructor registers it. */
  (void) wb_core_get_resource ();
  res_path = g_strdup_printf ("%s/%s", KERNEL_RESOURCE_DIR, file);
  bytes = g_resources_lookup_data (res_path, G_RESOURCE_LOOKUP_FLAGS_NONE, NULL);
  if (bytes == NULL)
    {
      g_set_error (error, WB_ERROR, WB_ERROR_NOT_FOUND,
                   "kernel file '%s' not found (looked in %s%s%s%sthe bundled kernels)", file,
                   dirs[0] ? dirs[0] : "", dirs[0] ? ", " : "",
                   dirs[1] ? dirs[1] : "", dirs[1] ? ", " : "");
      return NULL;
    }
  if (origin)
    *origin = g_strdup_printf ("resource://%s", res_path);
  return g_strndup (g_bytes_get_data (bytes, NULL), g_bytes_get_size (bytes));
}

char *
wb_kernel_source_load (const char  *kernel_dir,
                       const char  *file,
                       char       **origin,
                       GError     **error)
{
  g_autofree char *raw = load_raw (kernel_dir, file, origin, error);
  g_auto(GStrv) lines = NULL;
  GString *out;
  guint lineno = 0;

  if (raw == NULL)
    return NULL;

  /* Expand our one shared header in place, with #line markers, so that the
   * compiler's messages point into the file the user edits. */
  out = g_string_new (NULL);
  g_string_append_printf (out, "#line 1 \"%s\"\n", file);
  lines = g_strsplit (raw, "\n", -1);
  for (guint i = 0; lines[i] != NULL; i++)
    {
      const char *l = lines[i];
      lineno++;
      while (*l == ' ' || *l == '\t')
        l++;
      if (g_str_has_prefix (l, "#include") && strstr (l, "\"wb-common.h\"") != NULL)
        {
          g_autofree char *inc = NULL;
          g_autoptr(GError) local = NULL;

          inc = load_raw (kernel_dir, "wb-common.h", NULL, &local);
          if (inc == NULL)
            {
              g_propagate_error (error, g_steal_pointer (&local));
              return g_string_free (out, TRUE), NULL;
            }
          g_string_append (out, "#line 1 \"wb-common.h\"\n");
          g_string_append (out, inc);
          g_string_append_printf (out, "\n#line %u \"%s\"\n", lineno + 1, file);
          continue;
        }
      g_string_append (out, lines[i]);
      if (lines[i + 1] != NULL)
        g_string_append_c (out, '\n');
    }
  return g_string_free (out, FALSE);
}

/* Where physical line @line (1-based) of @source comes from, by its #line
 * markers: *file and *logical, FALSE before the first marker. */
static gboolean
source_line_origin (const char  *source,
                    guint        line,
                    char       **file,
                    guint       *logical)
{
  g_autofree char *cur_file = NULL;
  guint cur_line = 0;   /* logical line of the next physical line; 0: none */
  guint phys = 1;

  for (const char *p = source; *p && phys < line; phys++)
    {
      const char *nl = strchr (p, '\n');
      guint n = 0;
      char name[256];

      if (sscanf (p, "#line %u \"%255[^\"]\"", &n, name) == 2)
        {
          g_free (cur_file);
          cur_file = g_strdup (name);
          cur_line = n;
        }
      else if (cur_line > 0)
        cur_line++;
      if (nl == NULL)
        break;
      p = nl + 1;
    }
  if (cur_file == NULL || phys != line)
    return FALSE;
  *file = g_steal_pointer (&cur_file);
  *logical = cur_line;
  return TRUE;
}

char *
wb_cl_log_map_lines (const char *source,
                     const char *log)
{
  static const char *const prefixes[] = { "<kernel>:", "<source>:", "<stdin>:" };
  GString *out = g_string_new (NULL);
  const char *p = log;

  while (*p)
    {
      const char *hit = NULL, *prefix = NULL;

      for (guint i = 0; i < G_N_ELEMENTS (prefixes); i++)
        {
          const char *h = strstr (p, prefixes[i]);
          if (h && (hit == NULL || h < hit))
            hit = h, prefix = prefixes[i];
        }
      if (hit == NULL)
        break;
      g_string_append_len (out, p, hit - p);
      {
        const char *num = hit + strlen (prefix);
        char *end = NULL;
        guint64 line = g_ascii_strtoull (num, &end, 10);
        g_autofree char *file = NULL;
        guint logical = 0;

        if (end != num && *end == ':' && line > 0 && line < G_MAXUINT
            && source_line_origin (source, (guint) line, &file, &logical))
          {
            g_string_append_printf (out, "%s:%u:", file, logical);
            p = end + 1;
          }
        else
          {
            g_string_append (out, prefix);
            p = num;
          }
      }
    }
  g_string_append (out, p);
  return g_string_free (out, FALSE);
}

cl_program
wb_cl_build_program (WbClContext  *ctx,
                     const char   *file,
                     const char   *defines,
                     const char   *extra_options,
                     GError      **error)
{
  g_autofree char *body = NULL;
  g_autofree char *origin = NULL;
  g_autofree char *options = NULL;
  g_autofree char *source = NULL;
  const char *src;
  cl_program program;
  cl_int status = CL_SUCCESS;

  body = wb_kernel_source_load (ctx->kernel_dir, file, &origin, error);
  if (body == NULL)
    return NULL;
  source = g_strconcat (defines ? defines : "", "\n", body, NULL);
  src = source;

  program = clCreateProgramWithSource (ctx->context, 1, &src, NULL, &status);
  if (!wb_cl_check (status, "clCreateProgramWithSource", error))
    return NULL;

  options = g_strdup_printf ("%s %s", WB_CL_BUILD_OPTIONS, extra_options ? extra_options : "");
  status = clBuildProgram (program, 1, &ctx->device->device, options, NULL, NULL);
  if (status != CL_SUCCESS)
    {
      size_t log_size = 0;
      g_autofree char *log = NULL;
      g_autofree char *mapped = NULL;

      clGetProgramBuildInfo (program, ctx->device->device, CL_PROGRAM_BUILD_LOG, 0, NULL, &log_size);
      log = g_malloc0 (log_size + 1);
      if (log_size > 0)
        clGetProgramBuildInfo (program, ctx->device->device, CL_PROGRAM_BUILD_LOG,
                               log_size, log, NULL);
      g_strstrip (log);
      /* Compilers that ignore #line (NVIDIA's says "<kernel>:36:10") get
       * their line numbers mapped to the user's file here. */
      mapped = wb_cl_log_map_lines (source, log);
      g_set_error (error, WB_ERROR, WB_ERROR_BUILD,
                   "building kernel %s (from %s) failed: %s\n%s", file, origin,
                   wb_cl_error_name (status), *mapped ? mapped : "(the compiler gave no log)");
      clReleaseProgram (program);
      return NULL;
    }
  return program;
}

cl_kernel
wb_cl_create_kernel (cl_program   program,
                     const char  *name,
                     GError     **error)
{
  cl_int status = CL_SUCCESS;
  cl_kernel kernel = clCreateKernel (program, name, &status);
  if (status != CL_SUCCESS)
    {
      g_set_error (error, WB_CL_ERROR, status, "clCreateKernel '%s': %s",
                   name, wb_cl_error_name (status));
      return NULL;
    }
  return kernel;
}

cl_mem
wb_cl_buffer_new (WbClContext  *ctx,
                  cl_mem_flags  flags,
                  gsize         size,
                  void         *host_ptr,
                  const char   *what,
                  GError      **error)
{
  cl_int status = CL_SUCCESS;
  cl_mem mem;

  if (size == 0)
    size = 4;
  if (size > ctx->device->max_alloc_size)
    {
      g_set_error (error, WB_ERROR, WB_ERROR_TOO_LARGE,
                   "buffer '%s' needs %.1f MiB but %s allows at most %.1f MiB in one allocation",
                   what, size / 1048576.0, ctx->device->name,
                   ctx->device->max_alloc_size / 1048576.0);
      return NULL;
    }
  mem = clCreateBuffer (ctx->context, flags, size, host_ptr, &status);
  if (status != CL_SUCCESS)
    {
      g_set_error (error, WB_CL_ERROR, status,
                   "allocating buffer '%s' (%.1f MiB) on %s: %s", what, size / 1048576.0,
                   ctx->device->name, wb_cl_error_name (status));
      return NULL;
    }
  return mem;
}

gboolean
wb_cl_fill_float (WbClContext  *ctx,
                  cl_mem        buffer,
                  float         value,
                  gsize         n_floats,
                  GError      **error)
{
  cl_int status = clEnqueueFillBuffer (ctx->queue, buffer, &value, sizeof value, 0,
                                       n_floats * sizeof (float), 0, NULL, NULL);
  return wb_cl_check (status, "clEnqueueFillBuffer", error);
}

gboolean
wb_cl_read (WbClContext  *ctx,
            cl_mem        buffer,
            gsize         offset,
            gsize         size,
            void         *dst,
            GError      **error)
{
  cl_int status = clEnqueueReadBuffer (ctx->queue, buffer, CL_TRUE, offset, size, dst,
                                       0, NULL, NULL);
  return wb_cl_check (status, "clEnqueueReadBuffer", error);
}

gboolean
wb_cl_write (WbClContext  *ctx,
             cl_mem        buffer,
             gsize         offset,
             gsize         size,
             const void   *src,
             GError      **error)
{
  cl_int status = clEnqueueWriteBuffer (ctx->queue, buffer, CL_TRUE, offset, size, src,
                                        0, NULL, NULL);
  return wb_cl_check (status, "clEnqueueWriteBuffer", error);
}

gboolean
wb_cl_finish (WbClContext  *ctx,
              GError      **error)
{
  return wb_cl_check (clFinish (ctx->queue), "clFinish", error);
}

gboolean
wb_cl_set_arg (cl_kernel    kernel,
               guint        index,
               gsize        size,
               const void  *value,
               GError     **error)
{
  cl_int status = clSetKernelArg (kernel, index, size, value);
  if (status != CL_SUCCESS)
    {
      char name[128] = "";
      clGetKernelInfo (kernel, CL_KERNEL_FUNCTION_NAME, sizeof name - 1, name, NULL);
      g_set_error (error, WB_CL_ERROR, status, "clSetKernelArg %s[%u]: %s",
                   name, index, wb_cl_error_name (status));
      return FALSE;
    }
  return TRUE;
}

/* Fault injection for tests: $WAVEBENCH_FAULT_ENQUEUE=N[:CODE] makes the
 * Nth kernel launch of the process, and every later one, fail with CODE
 * (CL_OUT_OF_RESOURCES unless CL_MEM_OBJECT_ALLOCATION_FAILURE,
 * CL_DEVICE_NOT_AVAILABLE or CL_INVALID_COMMAND_QUEUE is named), as a
 * device that ran out of resources or was lost mid-run would. */
static cl_int
injected_launch_fault (void)
{
  static gsize once = 0;
  static gint64 fail_at = -1;
  static cl_int code = CL_OUT_OF_RESOURCES;
  static gint launches = 0;

  if (g_once_init_enter (&once))
    {
      const char *env = g_getenv ("WAVEBENCH_FAULT_ENQUEUE");
      if (env != NULL && *env != '\0')
        {
          static const cl_int codes[] = { CL_OUT_OF_RESOURCES, CL_MEM_OBJECT_ALLOCATION_FAILURE,
                                          CL_DEVICE_NOT_AVAILABLE, CL_INVALID_COMMAND_QUEUE };
          char *end = NULL;
          fail_at = g_ascii_strtoll (env, &end, 10);
          if (end != NULL && *end == ':')
            for (guint c = 0; c < G_N_ELEMENTS (codes); c++)
              if (g_str_equal (end + 1, wb_cl_error_name (codes[c])))
                code = codes[c];
        }
      g_once_init_leave (&once, 1);
    }
  if (fail_at <= 0)
    return CL_SUCCESS;
  return g_atomic_int_add (&launches, 1) + 1 >= fail_at ? code : CL_SUCCESS;
}

gboolean
wb_cl_enqueue (WbClContext  *ctx,
               cl_kernel     kernel,
               guint         work_dim,
               const gsize  *cells,
               const gsize  *local,
               WbLaunch     *launch,
               cl_event     *event,
               GError      **error)
{
  size_t global[3] = { 1, 1, 1 };
  size_t loc[3] = { 1, 1, 1 };
  cl_int status;

  g_return_val_if_fail (work_dim >= 1 && work_dim <= 3, FALSE);

  for (guint d = 0; d < work_dim; d++)
    {
      global[d] = MAX (cells[d], 1);
      if (local && local[d] > 0)
        {
          loc[d] = local[d];
          global[d] = (global[d] + loc[d] - 1) / loc[d] * loc[d];
        }
    }
  if (launch)
    {
      memset (launch, 0, sizeof *launch);
      launch->work_dim = work_dim;
      for (guint d = 0; d < work_dim; d++)
        {
          launch->cells[d] = cells[d];
          launch->global[d] = global[d];
          launch->local[d] = local ? local[d] : 0;
        }
      clGetKernelWorkGroupInfo (kernel, ctx->device->device, CL_KERNEL_WORK_GROUP_SIZE,
                                sizeof launch->kernel_max_wg, &launch->kernel_max_wg, NULL);
    }
  status = injected_launch_fault ();
  if (status == CL_SUCCESS)
    status = clEnqueueNDRangeKernel (ctx->queue, kernel, work_dim, NULL, global,
                                     local ? loc : NULL, 0, NULL, event);
  if (status != CL_SUCCESS)
    {
      char name[128] = "";
      clGetKernelInfo (kernel, CL_KERNEL_FUNCTION_NAME, sizeof name - 1, name, NULL);
      g_set_error (error, WB_CL_ERROR, status, "launching kernel %s: %s",
                   name, wb_cl_error_name (status));
      return FALSE;
    }
  return TRUE;
}

double
wb_cl_event_seconds (cl_event event)
{
  cl_ulong t0 = 0, t1 = 0;

  if (clGetEventProfilingInfo (event, CL_PROFILING_COMMAND_START, sizeof t0, &t0, NULL) != CL_SUCCESS ||
      clGetEventProfilingInfo (event, CL_PROFILING_COMMAND_END, sizeof t1, &t1, NULL) != CL_SUCCESS)
    return 0.0;
  return (t1 - t0) * 1e-9;
}
