/* wb-cl.h: the OpenCL runtime: contexts and queues, program builds from
 * kernels/NAME.cl, checked calls with readable errors, launches.
 *
 * Kernel sources are bundled as GResources under
 * /org/wavebench/Wavebench/kernels/ and can be overridden from a directory
 * (the context's kernel_dir, or $WAVEBENCH_KERNEL_DIR) so that users can
 * edit them.  `#include "wb-common.h"` is expanded by us, with #line markers,
 * so compiler messages name the right file and line.
 */
#pragma once

#include <glib.h>
#include "wb-cl-headers.h"
#include "wb-device.h"

G_BEGIN_DECLS

/* Build options, in one place, recorded with every benchmark.
 * No -cl-finite-math-only: NaN sentinels and blow-up checks rely on NaN. */
#define WB_CL_BUILD_OPTIONS "-cl-mad-enable -cl-no-signed-zeros -cl-std=CL1.2"

typedef struct _WbClContext WbClContext;

struct _WbClContext
{
  gatomicrefcount  ref_count;
  WbDevice        *device;
  cl_context       context;
  cl_command_queue queue;        /* in-order, profiling enabled */
  char            *kernel_dir;   /* override directory or NULL */
};

WbClContext *wb_cl_context_new        (WbDevice     *device,
                                       GError      **error);
/* While set on the calling thread, wb_cl_context_new () for @ctx's device
 * returns a new reference to @ctx instead of a new context: how
 * wb_sim_new_full () hands a given context (one made against a GL context
 * for cl_khr_gl_sharing) to solvers that make their own.  NULL unsets. */
void         wb_cl_context_set_thread_default (WbClContext *ctx);
WbClContext *wb_cl_context_ref        (WbClContext  *ctx);
void         wb_cl_context_unref      (WbClContext  *ctx);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (WbClContext, wb_cl_context_unref)

void         wb_cl_context_set_kernel_dir (WbClContext *ctx,
                                           const char  *dir);

/* Sets @error from @status when it is not CL_SUCCESS; message "@what: NAME". */
gboolean     wb_cl_check              (cl_int        status,
                                       const char   *what,
                                       GError      **error);

/* Loads kernels/@file ("bhte.cl"): from @kernel_dir if given and the file is
 * there, else $WAVEBENCH_KERNEL_DIR, else the bundled resource.  Includes of
 * "wb-common.h" are expanded.  *origin gets the path or resource used. */
char        *wb_kernel_source_load    (const char   *kernel_dir,
                                       const char   *file,
                                       char        **origin,
                                       GError      **error);

/* A compiler log with every "<kernel>:LINE:" (also "<source>:", "<stdin>:"),
 * a line of @source as built, rewritten as "FILE:LINE:" through @source's
 * #line markers, for compilers that do not apply them.  Newly allocated. */
char        *wb_cl_log_map_lines      (const char   *source,
                                       const char   *log);

/* Validates an override directory: it must exist and hold only readable
 * .cl/.h files of sane size; a missing directory is an error. */
gboolean     wb_kernel_dir_check      (const char   *dir,
                                       GError      **error);

/* Builds kernels/@file with @defines (lines like "#define NX 128\n",
 * prepended to the source, FluidX3D-style) and WB_CL_BUILD_OPTIONS plus
 * @extra_options.  A failed build gives WB_ERROR_BUILD with the compiler's
 * log, whose lines name @file and the line number. */
cl_program   wb_cl_build_program      (WbClContext  *ctx,
                                       const char   *file,
                                       const char   *defines,
                                       const char   *extra_options,
                                       GError      **error);

cl_kernel    wb_cl_create_kernel      (cl_program    program,
                                       const char   *name,
                                       GError      **error);

/* Allocates a buffer, refusing sizes beyond the device's max allocation or
 * global memory up front with the numbers in the message.  @what names the
 * buffer in messages ("temperature"). */
cl_mem       wb_cl_buffer_new         (WbClContext  *ctx,
                                       cl_mem_flags  flags,
                                       gsize         size,
                                       void         *host_ptr,
                                       const char   *what,
                                       GError      **error);

/* Fills a float buffer with @value (clEnqueueFillBuffer). */
gboolean     wb_cl_fill_float         (WbClContext  *ctx,
                                       cl_mem        buffer,
                                       float         value,
                                       gsize         n_floats,
                                       GError      **error);

gboolean     wb_cl_read               (WbClContext  *ctx,
                                       cl_mem        buffer,
                                       gsize         offset,
                                       gsize         size,
                                       void         *dst,
                                       GError      **error);
gboolean     wb_cl_write              (WbClContext  *ctx,
                                       cl_mem        buffer,
                                       gsize         offset,
                                       gsize         size,
                                       const void   *src,
                                       GError      **error);
gboolean     wb_cl_finish             (WbClContext  *ctx,
                                       GError      **error);

/* Launch geometry of one enqueue: what was asked and what ran. */
typedef struct
{
  guint  work_dim;
  gsize  cells[3];          /* the grid the kernel must cover */
  gsize  global[3];         /* work-items launched */
  gsize  local[3];          /* 0 when left to the implementation */
  gsize  kernel_max_wg;     /* CL_KERNEL_WORK_GROUP_SIZE on this device */
} WbLaunch;

/* Enqueues @kernel over @cells (work_dim 1..3), rounding the global size up
 * to a multiple of @local when @local is given (kernels bound-check).
 * Fills @launch if not NULL.  @event may be NULL. */
gboolean     wb_cl_enqueue            (WbClContext  *ctx,
                                       cl_kernel     kernel,
                                       guint         work_dim,
                                       const gsize  *cells,
                                       const gsize  *local,
                                       WbLaunch     *launch,
                                       cl_event     *event,
                                       GError      **error);

/* Elapsed device time of a finished event, in seconds. */
double       wb_cl_event_seconds      (cl_event      event);

/* clSetKernelArg, checked, naming the kernel and argument index. */
gboolean     wb_cl_set_arg            (cl_kernel     kernel,
                                       guint         index,
                                       gsize         size,
                                       const void   *value,
                                       GError      **error);

#define WB_CL_RELEASE(ptr, fn) G_STMT_START { if (ptr) { fn (ptr); ptr = NULL; } } G_STMT_END

G_END_DECLS
