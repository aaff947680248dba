/* wb-interop.h: how a field computed by OpenCL reaches the GL view.
 *
 * Three display paths, tried in this order (DESIGN.md, "Rendering and GL
 * sharing"):
 *   1. gl-sharing: a CL context made against the GL context
 *      (cl_khr_gl_sharing); CL writes a GL buffer directly.
 *   2. external-memory: a buffer allocated exportable by Vulkan
 *      (VK_KHR_external_memory_fd), imported into CL
 *      (cl_khr_external_memory_opaque_fd, clCreateBufferWithProperties) and
 *      into GL (GL_EXT_memory_object_fd), the three devices matched by UUID.
 *   3. host-copy: read the field back and upload it (glTexSubImage2D).
 *
 * This unit is the pure part: what each API offers (WbInteropCaps, filled
 * by wb-interop-gl.c, wb-interop-vk.c and from a WbDevice), the choice with
 * a reason a user can read, the forced path from $WAVEBENCH_DISPLAY_PATH or
 * a preference, and the property lists handed to OpenCL.  No GL, Vulkan or
 * GTK call happens here, so every rule is unit tested on any machine.
 */
#pragma once

#include <glib.h>
#include "wb-cl-headers.h"
#include "wb-device.h"

G_BEGIN_DECLS

#define WB_INTEROP_ENV "WAVEBENCH_DISPLAY_PATH"
#define WB_UUID_SIZE 16

typedef enum
{
  WB_DISPLAY_PATH_AUTO = -1,
  WB_DISPLAY_PATH_GL_SHARING = 0,
  WB_DISPLAY_PATH_EXTERNAL_MEMORY,
  WB_DISPLAY_PATH_HOST_COPY,
  WB_DISPLAY_PATH_N
} WbDisplayPath;

/* "gl-sharing", "external-memory", "host-copy" ("auto" for AUTO). */
const char *wb_display_path_to_string   (WbDisplayPath  path);
/* Human-readable: "GL sharing", "external memory", "host copy". */
const char *wb_display_path_to_label    (WbDisplayPath  path);
/* Accepts the strings above (and "auto"); FALSE for anything else. */
gboolean    wb_display_path_from_string (const char    *str,
                                         WbDisplayPath *out);

/* Which window-system binding the GL context is current through; CL needs
 * the matching display and context handles for cl_khr_gl_sharing. */
typedef enum
{
  WB_GL_API_NONE,
  WB_GL_API_EGL,
  WB_GL_API_GLX,
} WbGlApi;

typedef struct
{
  char     *name;                     /* "NVIDIA H200" */
  guint8    uuid[WB_UUID_SIZE];
  gboolean  external_memory_fd;       /* VK_KHR_external_memory_fd */
  gboolean  external_semaphore_fd;    /* VK_KHR_external_semaphore_fd */
} WbVkDeviceInfo;

typedef struct
{
  /* OpenCL device (from WbDevice) */
  char     *cl_name;
  gboolean  cl_is_reference;          /* the plain C backend: no CL at all */
  gboolean  cl_gl_sharing;            /* cl_khr_gl_sharing */
  gboolean  cl_gl_event;              /* cl_khr_gl_event */
  gboolean  cl_external_memory_fd;    /* cl_khr_external_memory_opaque_fd */
  gboolean  cl_external_semaphore_fd; /* cl_khr_external_semaphore_opaque_fd */
  gboolean  cl_create_buffer_with_properties; /* platform is OpenCL >= 3.0 */
  gboolean  cl_has_uuid;              /* cl_khr_device_uuid */
  guint8    cl_uuid[WB_UUID_SIZE];

  /* GL context (current when the caps were read) */
  gboolean  gl_available;
  WbGlApi   gl_api;
  char     *gl_renderer;
  gboolean  gl_memory_object_fd;      /* GL_EXT_memory_object_fd */
  gboolean  gl_semaphore_fd;          /* GL_EXT_semaphore_fd */
  guint     gl_n_uuids;
  guint8    gl_uuids[4][WB_UUID_SIZE];

  /* Hand-offs by finishing even where semaphores are offered
   * ($WAVEBENCH_INTEROP_SYNC=finish) */
  gboolean  prefer_finish;

  /* Vulkan (NULL-named entries: none) */
  gboolean  vk_available;
  char     *vk_error;                 /* why not, when !vk_available */
  guint     vk_n_devices;
  WbVkDeviceInfo vk_devices[8];
} WbInteropCaps;

void        wb_interop_caps_init        (WbInteropCaps *caps);
void        wb_interop_caps_clear       (WbInteropCaps *caps);
/* Fills the cl_* members from @device (a reference backend gives none). */
void        wb_interop_caps_set_device  (WbInteropCaps *caps,
                                         const WbDevice *device);

/* How CL hands a frame to GL. */
typedef enum
{
  WB_INTEROP_SYNC_FINISH,        /* wait for the CL event, GL fence before reuse */
  WB_INTEROP_SYNC_GL_EVENT,      /* cl_khr_gl_event: implicit on acquire/release */
  WB_INTEROP_SYNC_SEMAPHORE,     /* external semaphores: GPU-side waits, no CPU wait */
} WbInteropSync;

const char *wb_interop_sync_to_string   (WbInteropSync sync);

typedef struct
{
  WbDisplayPath path;
  WbInteropSync sync;
  int           vk_device;       /* index into caps->vk_devices, -1 if none */
  char         *reason;          /* why this path (and why not the better ones) */
} WbInteropChoice;

void        wb_interop_choice_clear     (WbInteropChoice *choice);

/* Why @path cannot run with @caps, or NULL if it can.  Host copy always
 * can.  For external memory, *vk_device gets the matching Vulkan device. */
char       *wb_interop_path_unavailable (const WbInteropCaps *caps,
                                         WbDisplayPath  path,
                                         int           *vk_device);

/* The forced path: $WAVEBENCH_DISPLAY_PATH if set (@env_value, pass
 * g_getenv (WB_INTEROP_ENV)), else @preference (a GSettings string, may be
 * NULL or "auto").  An unknown value is ignored and *warning says so. */
WbDisplayPath wb_interop_forced_path    (const char    *env_value,
                                         const char    *preference,
                                         const char   **source,
                                         char         **warning);

/* Chooses the path: @forced if it can run (else host copy, saying why),
 * or the first of gl-sharing, external-memory, host-copy that can. */
void        wb_interop_choose           (const WbInteropCaps *caps,
                                         WbDisplayPath  forced,
                                         const char    *forced_source,
                                         WbInteropChoice *choice);

/* As wb_interop_choose (), but @excluded (gl-sharing or external memory)
 * cannot run after all for the reason @why, for example a cl_khr_gl_sharing
 * context that could not be made against the view's GL context, or a sim
 * made on a context of its own: the best of the others, the reason naming
 * @excluded in its place ("external memory: no gl-sharing (WHY)").  A
 * forced @excluded gives host copy, saying why. */
void        wb_interop_choose_excluding (const WbInteropCaps *caps,
                                         WbDisplayPath  forced,
                                         const char    *forced_source,
                                         WbDisplayPath  excluded,
                                         const char    *why,
                                         WbInteropChoice *choice);

/* Host bytes copied per displayed frame on @path for a slice of
 * @n_cells floats: 0 on the sharing paths; on host copy, the read back
 * and the upload (each n_cells * 4 bytes through host memory). */
guint64     wb_interop_host_bytes_per_frame (WbDisplayPath path,
                                             gsize         n_cells);

/* One status line: "Display: external memory, 0 host bytes/frame". */
char       *wb_interop_status_line      (WbDisplayPath path,
                                         guint64       host_bytes);

/* UUIDs */
char       *wb_uuid_to_string           (const guint8  *uuid);
gboolean    wb_uuid_equal               (const guint8  *a,
                                         const guint8  *b);
gboolean    wb_uuid_is_zero             (const guint8  *uuid);
/* Index of the Vulkan device whose UUID equals the CL device's and one of
 * the GL context's, or -1; *why says which match failed. */
int         wb_interop_match_uuid       (const WbInteropCaps *caps,
                                         char         **why);

/* Property lists (zero-terminated, caller frees with g_free). */

/* For clCreateContext with cl_khr_gl_sharing: CL_GL_CONTEXT_KHR, then
 * CL_EGL_DISPLAY_KHR or CL_GLX_DISPLAY_KHR, then CL_CONTEXT_PLATFORM.
 * NULL (with @error) when a handle is missing or @api is NONE. */
cl_context_properties *wb_interop_gl_context_properties (cl_platform_id platform,
                                                         WbGlApi        api,
                                                         gpointer       gl_display,
                                                         gpointer       gl_context,
                                                         guint         *n_props,
                                                         GError       **error);

/* For clCreateBufferWithProperties importing an opaque fd: the handle type
 * and fd, then the device list restricted to @device. */
cl_mem_properties     *wb_interop_external_memory_properties (int           fd,
                                                              cl_device_id  device,
                                                              guint        *n_props,
                                                              GError      **error);

/* For clCreateSemaphoreWithPropertiesKHR importing a binary semaphore from
 * an opaque fd, for @device only. */
cl_semaphore_properties_khr *wb_interop_semaphore_properties (int           fd,
                                                             cl_device_id  device,
                                                             guint        *n_props,
                                                             GError      **error);

G_END_DECLS
