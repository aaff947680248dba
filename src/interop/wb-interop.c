#define G_LOG_DOMAIN "wb-interop"
#include "config.h"

#include <stdio.h>
#include <string.h>

#include "wb-error.h"
#include "wb-cl-headers.h"
#include <CL/cl_gl.h>
#include "wb-interop.h"

static const char *path_strings[WB_DISPLAY_PATH_N] = {
  "gl-sharing", "external-memory", "host-copy",
};
static const char *path_labels[WB_DISPLAY_PATH_N] = {
  "GL sharing", "external memory", "host copy",
};

const char *
wb_display_path_to_string (WbDisplayPath path)
{
  if (path == WB_DISPLAY_PATH_AUTO)
    return "auto";
  g_return_val_if_fail (path >= 0 && path < WB_DISPLAY_PATH_N, "auto");
  return path_strings[path];
}

const char *
wb_display_path_to_label (WbDisplayPath path)
{
  if (path == WB_DISPLAY_PATH_AUTO)
    return "automatic";
  g_return_val_if_fail (path >= 0 && path < WB_DISPLAY_PATH_N, "automatic");
  return path_labels[path];
}

gboolean
wb_display_path_from_string (const char    *str,
                             WbDisplayPath *out)
{
  if (str == NULL)
    return FALSE;
  if (g_str_equal (str, "auto"))
    {
      *out = WB_DISPLAY_PATH_AUTO;
      return TRUE;
    }
  for (int p = 0; p < WB_DISPLAY_PATH_N; p++)
    if (g_str_equal (str, path_strings[p]))
      {
        *out = p;
        return TRUE;
      }
  return FALSE;
}

const char *
wb_interop_sync_to_string (WbInteropSync sync)
{
  switch (sync)
    {
    case WB_INTEROP_SYNC_GL_EVENT:
      return "cl_khr_gl_event";
    case WB_INTEROP_SYNC_SEMAPHORE:
      return "external semaphores";
    case WB_INTEROP_SYNC_FINISH:
    default:
      return "finish";
    }
}

void
wb_interop_caps_init (WbInteropCaps *caps)
{
  memset (caps, 0, sizeof *caps);
}

void
wb_interop_caps_clear (WbInteropCaps *caps)
{
  g_free (caps->cl_name);
  g_free (caps->gl_renderer);
  g_free (caps->vk_error);
  for (guint i = 0; i < caps->vk_n_devices; i++)
    g_free (caps->vk_devices[i].name);
  wb_interop_caps_init (caps);
}

/* The platform version string is "OpenCL M.N vendor"; the ICD loader
 * dispatches clCreateBufferWithProperties only to 3.0 platforms. */
static gboolean
platform_is_cl30 (cl_platform_id platform)
{
  char version[256] = "";
  int major = 0, minor = 0;

  if (platform == NULL)
    return FALSE;
  if (clGetPlatformInfo (platform, CL_PLATFORM_VERSION, sizeof version - 1, version, NULL) != CL_SUCCESS)
    return FALSE;
  if (sscanf (version, "OpenCL %d.%d", &major, &minor) != 2)
    return FALSE;
  return major >= 3;
}

void
wb_interop_caps_set_device (WbInteropCaps  *caps,
                            const WbDevice *device)
{
  g_free (caps->cl_name);
  caps->cl_name = g_strdup (device->name);
  caps->cl_is_reference = wb_device_is_reference (device);
  if (caps->cl_is_reference)
    return;
  caps->cl_gl_sharing = wb_device_has_extension (device, "cl_khr_gl_sharing");
  caps->cl_gl_event = wb_device_has_extension (device, "cl_khr_gl_event");
  caps->cl_external_memory_fd = wb_device_has_extension (device, "cl_khr_external_memory_opaque_fd");
  caps->cl_external_semaphore_fd = wb_device_has_extension (device, "cl_khr_external_semaphore_opaque_fd");
  caps->cl_create_buffer_with_properties = platform_is_cl30 (device->platform);
  caps->cl_has_uuid = device->has_uuid;
  memcpy (caps->cl_uuid, device->uuid, WB_UUID_SIZE);
}

void
wb_interop_choice_clear (WbInteropChoice *choice)
{
  g_clear_pointer (&choice->reason, g_free);
}

char *
wb_uuid_to_string (const guint8 *uuid)
{
  GString *s = g_string_new (NULL);

  for (int i = 0; i < WB_UUID_SIZE; i++)
    {
      g_string_append_printf (s, "%02x", uuid[i]);
      if (i == 3 || i == 5 || i == 7 || i == 9)
        g_string_append_c (s, '-');
    }
  return g_string_free (s, FALSE);
}

gboolean
wb_uuid_equal (const guint8 *a,
               const guint8 *b)
{
  return memcmp (a, b, WB_UUID_SIZE) == 0;
}

gboolean
wb_uuid_is_zero (const guint8 *uuid)
{
  static const guint8 zero[WB_UUID_SIZE] = { 0 };
  return memcmp (uuid, zero, WB_UUID_SIZE) == 0;
}

int
wb_interop_match_uuid (const WbInteropCaps *caps,
                       char               **why)
{
  g_autofree char *cl = NULL;
  gboolean in_gl = FALSE;

  /* An all-zero UUID is what some drivers report when they have none; two
   * such devices are not the same device. */
  if (!caps->cl_has_uuid || wb_uuid_is_zero (caps->cl_uuid))
    {
      if (why)
        *why = g_strdup_printf ("the OpenCL device '%s' reports no UUID (cl_khr_device_uuid)",
                                caps->cl_name ? caps->cl_name : "?");
      return -1;
    }
  cl = wb_uuid_to_string (caps->cl_uuid);
  if (caps->gl_n_uuids == 0)
    {
      if (why)
        *why = g_strdup ("the GL context reports no device UUID (GL_EXT_memory_object)");
      return -1;
    }
  for (guint i = 0; i < caps->gl_n_uuids && i < G_N_ELEMENTS (caps->gl_uuids); i++)
    if (wb_uuid_equal (caps->gl_uuids[i], caps->cl_uuid))
      in_gl = TRUE;
  if (!in_gl)
    {
      if (why)
        {
          g_autofree char *gl = wb_uuid_to_string (caps->gl_uuids[0]);
          *why = g_strdup_printf ("the OpenCL device (UUID %s) is not the GL context's device (UUID %s)",
                                  cl, gl);
        }
      return -1;
    }
  for (guint i = 0; i < caps->vk_n_devices && i < G_N_ELEMENTS (caps->vk_devices); i++)
    if (wb_uuid_equal (caps->vk_devices[i].uuid, caps->cl_uuid))
      {
        if (!caps->vk_devices[i].external_memory_fd)
          {
            if (why)
              *why = g_strdup_printf ("the Vulkan device '%s' lacks VK_KHR_external_memory_fd",
                                      caps->vk_devices[i].name);
            return -1;
          }
        return (int) i;
      }
  if (why)
    *why = g_strdup_printf ("no Vulkan device has the OpenCL device's UUID %s", cl);
  return -1;
}

char *
wb_interop_path_unavailable (const WbInteropCaps *caps,
                             WbDisplayPath        path,
                             int                 *vk_device)
{
  const char *cl_name = caps->cl_name ? caps->cl_name : "?";
  char *why = NULL;
  int vk;

  if (vk_device)
    *vk_device = -1;
  if (path == WB_DISPLAY_PATH_HOST_COPY)
    return NULL;
  if (caps->cl_is_reference)
    return g_strdup ("the reference backend computes on the host");
  if (!caps->gl_available)
    return g_strdup ("no GL context");

  switch (path)
    {
    case WB_DISPLAY_PATH_GL_SHARING:
      if (!caps->cl_gl_sharing)
        return g_strdup_printf ("the OpenCL device '%s' lacks cl_khr_gl_sharing", cl_name);
      if (caps->gl_api == WB_GL_API_NONE)
        return g_strdup ("the GL context is neither EGL nor GLX");
      return NULL;

    case WB_DISPLAY_PATH_EXTERNAL_MEMORY:
      if (!caps->cl_external_memory_fd)
        return g_strdup_printf ("the OpenCL device '%s' lacks cl_khr_external_memory_opaque_fd", cl_name);
      if (!caps->cl_create_buffer_with_properties)
        return g_strdup_printf ("the OpenCL platform of '%s' is older than 3.0 (no clCreateBufferWithProperties)",
                                cl_name);
      if (!caps->gl_memory_object_fd)
        return g_strdup_printf ("the GL renderer '%s' lacks GL_EXT_memory_object_fd",
                                caps->gl_renderer ? caps->gl_renderer : "?");
      if (!caps->vk_available)
        return g_strdup_printf ("no Vulkan device to allocate shared memory (%s)",
                                caps->vk_error ? caps->vk_error : "not probed");
      vk = wb_interop_match_uuid (caps, &why);
      if (vk < 0)
        return why;
      if (vk_device)
        *vk_device = vk;
      return NULL;

    case WB_DISPLAY_PATH_HOST_COPY:
    case WB_DISPLAY_PATH_AUTO:
    case WB_DISPLAY_PATH_N:
    default:
      break;
    }
  g_return_val_if_reached (g_strdup ("unknown display path"));
}

WbDisplayPath
wb_interop_forced_path (const char  *env_value,
                        const char  *preference,
                        const char **source,
                        char       **warning)
{
  WbDisplayPath path = WB_DISPLAY_PATH_AUTO;

  if (source)
    *source = NULL;
  if (warning)
    *warning = NULL;

  if (env_value != NULL && *env_value != '\0')
    {
      if (wb_display_path_from_string (env_value, &path))
        {
          if (source && path != WB_DISPLAY_PATH_AUTO)
            *source = WB_INTEROP_ENV;
          return path;
        }
      if (warning)
        *warning = g_strdup_printf ("%s='%s' is not one of auto, gl-sharing, external-memory, "
                                    "host-copy; ignored", WB_INTEROP_ENV, env_value);
    }
  if (preference != NULL && *preference != '\0'
      && wb_display_path_from_string (preference, &path))
    {
      if (source && path != WB_DISPLAY_PATH_AUTO)
        *source = "the display-path preference";
      return path;
    }
  return WB_DISPLAY_PATH_AUTO;
}

static WbInteropSync
sync_for (const WbInteropCaps *caps,
          WbDisplayPath        path,
          int                  vk_device)
{
  /* External memory hands over through binary semaphores where CL, GL and
   * the Vulkan device that allocates can all share them; otherwise CL's
   * event and a GL fence, which the ring keeps off the solver's path. */
  if (path == WB_DISPLAY_PATH_EXTERNAL_MEMORY && !caps->prefer_finish
      && caps->cl_external_semaphore_fd && caps->gl_semaphore_fd
      && vk_device >= 0 && caps->vk_devices[vk_device].external_semaphore_fd)
    return WB_INTEROP_SYNC_SEMAPHORE;
  if (path == WB_DISPLAY_PATH_GL_SHARING && caps->cl_gl_event)
    return WB_INTEROP_SYNC_GL_EVENT;
  return WB_INTEROP_SYNC_FINISH;
}

void
wb_interop_choose (const WbInteropCaps *caps,
                   WbDisplayPath        forced,
                   const char          *forced_source,
                   WbInteropChoice     *choice)
{
  GString *reason;

  memset (choice, 0, sizeof *choice);
  choice->vk_device = -1;

  if (forced != WB_DISPLAY_PATH_AUTO)
    {
      const char *src = forced_source ? forced_source : "the caller";
      g_autofree char *why = wb_interop_path_unavailable (caps, forced, &choice->vk_device);

      if (why == NULL)
        {
          choice->path = forced;
          choice->reason = g_strdup_printf ("%s, forced by %s", path_labels[forced], src);
        }
      else
        {
          choice->path = WB_DISPLAY_PATH_HOST_COPY;
          choice->reason = g_strdup_printf ("host copy: %s asks for %s, which is unavailable: %s",
                                            src, path_strings[forced], why);
        }
      choice->sync = sync_for (caps, choice->path, choice->vk_device);
      return;
    }

  reason = g_string_new (NULL);
  for (int p = 0; p < WB_DISPLAY_PATH_N; p++)
    {
      g_autofree char *why = wb_interop_path_unavailable (caps, p, &choice->vk_device);

      if (why == NULL)
        {
          choice->path = p;
          if (reason->len == 0)
            g_string_append_printf (reason, "%s: the best path this driver offers", path_labels[p]);
          else
            {
              g_string_prepend (reason, ": ");
              g_string_prepend (reason, path_labels[p]);
            }
          break;
        }
      if (reason->len > 0)
        g_string_append (reason, "; ");
      g_string_append_printf (reason, "no %s (%s)", path_strings[p], why);
    }
  choice->sync = sync_for (caps, choice->path, choice->vk_device);
  choice->reason = g_string_free (reason, FALSE);
}

void
wb_interop_choose_excluding (const WbInteropCaps *caps,
                             WbDisplayPath        forced,
                             const char          *forced_source,
                             WbDisplayPath        excluded,
                             const char          *why,
                             WbInteropChoice     *choice)
{
  WbInteropCaps without = *caps;    /* shallow: nothing of it is freed */
  g_autofree char *sub = NULL;

  g_return_if_fail (excluded == WB_DISPLAY_PATH_GL_SHARING || excluded == WB_DISPLAY_PATH_EXTERNAL_MEMORY);

  if (excluded == WB_DISPLAY_PATH_GL_SHARING)
    without.cl_gl_sharing = FALSE;
  else
    without.cl_external_memory_fd = FALSE;

  if (forced == excluded)
    {
      memset (choice, 0, sizeof *choice);
      choice->vk_device = -1;
      choice->path = WB_DISPLAY_PATH_HOST_COPY;
      choice->sync = sync_for (&without, choice->path, -1);
      choice->reason = g_strdup_printf ("host copy: %s asks for %s, which is unavailable: %s",
                                        forced_source ? forced_source : "the caller",
                                        path_strings[forced], why);
      return;
    }
  wb_interop_choose (&without, forced, forced_source, choice);
  if (forced != WB_DISPLAY_PATH_AUTO)
    return;     /* another path forced: its reason stands */

  /* The reason names @excluded as the caps without it would ("no
   * gl-sharing (the OpenCL device ... lacks ...)"): put @why there. */
  sub = g_steal_pointer (&choice->reason);
  {
    g_autofree char *orig = wb_interop_path_unavailable (&without, excluded, NULL);
    g_autofree char *clause = g_strdup_printf ("no %s (%s)", path_strings[excluded], orig);
    const char *at = orig ? strstr (sub, clause) : NULL;

    if (at != NULL)
      choice->reason = g_strdup_printf ("%.*sno %s (%s)%s", (int) (at - sub), sub, path_strings[excluded],
                                        why, at + strlen (clause));
    else
      choice->reason = g_strdup_printf ("%s; no %s (%s)", sub, path_strings[excluded], why);
  }
}

guint64
wb_interop_host_bytes_per_frame (WbDisplayPath path,
                                 gsize         n_cells)
{
  if (path == WB_DISPLAY_PATH_HOST_COPY)
    return (guint64) n_cells * sizeof (float) * 2;
  return 0;
}

char *
wb_interop_status_line (WbDisplayPath path,
                        guint64       host_bytes)
{
  /* Plain spaces (g_format_size uses a no-break space), for status bars
   * and logs alike. */
  if (host_bytes == 0)
    return g_strdup_printf ("Display: %s, 0 host bytes/frame", wb_display_path_to_label (path));
  if (host_bytes < 1024 * 1024)
    return g_strdup_printf ("Display: %s, %.1f KiB host bytes/frame (%" G_GUINT64_FORMAT ")",
                            wb_display_path_to_label (path), host_bytes / 1024.0, host_bytes);
  return g_strdup_printf ("Display: %s, %.1f MiB host bytes/frame (%" G_GUINT64_FORMAT ")",
                          wb_display_path_to_label (path), host_bytes / 1048576.0, host_bytes);
}

cl_context_properties *
wb_interop_gl_context_properties (cl_platform_id platform,
                                  WbGlApi        api,
                                  gpointer       gl_display,
                                  gpointer       gl_context,
                                  guint         *n_props,
                                  GError       **error)
{
  cl_context_properties *props;
  guint n = 0;

  if (api == WB_GL_API_NONE)
    {
      g_set_error (error, WB_ERROR, WB_ERROR_DEVICE,
                   "cl_khr_gl_sharing needs an EGL or GLX context");
      return NULL;
    }
  if (gl_display == NULL || gl_context == NULL)
    {
      g_set_error (error, WB_ERROR, WB_ERROR_DEVICE,
                   "cl_khr_gl_sharing needs the %s display and the current context",
                   api == WB_GL_API_EGL ? "EGL" : "GLX");
      return NULL;
    }
  if (platform == NULL)
    {
      g_set_error (error, WB_ERROR, WB_ERROR_DEVICE,
                   "cl_khr_gl_sharing needs an OpenCL platform");
      return NULL;
    }

  props = g_new0 (cl_context_properties, 7);
  props[n++] = CL_GL_CONTEXT_KHR;
  props[n++] = (cl_context_properties) gl_context;
  props[n++] = api == WB_GL_API_EGL ? CL_EGL_DISPLAY_KHR : CL_GLX_DISPLAY_KHR;
  props[n++] = (cl_context_properties) gl_display;
  props[n++] = CL_CONTEXT_PLATFORM;
  props[n++] = (cl_context_properties) platform;
  props[n] = 0;
  if (n_props)
    *n_props = n;
  return props;
}

cl_mem_properties *
wb_interop_external_memory_properties (int           fd,
                                       cl_device_id  device,
                                       guint        *n_props,
                                       GError      **error)
{
  cl_mem_properties *props;
  guint n = 0;

  if (fd < 0)
    {
      g_set_error (error, WB_ERROR, WB_ERROR_DEVICE,
                   "no file descriptor to import (%d)", fd);
      return NULL;
    }
  props = g_new0 (cl_mem_properties, 6);
  props[n++] = CL_EXTERNAL_MEMORY_HANDLE_OPAQUE_FD_KHR;
  props[n++] = (cl_mem_properties) fd;
  /* Without a device list the import is for every device of the context;
   * naming ours keeps drivers from mapping it on devices it is not for. */
  if (device != NULL)
    {
      props[n++] = CL_DEVICE_HANDLE_LIST_KHR;
      props[n++] = (cl_mem_properties) device;
      props[n++] = CL_DEVICE_HANDLE_LIST_END_KHR;
    }
  props[n] = 0;
  if (n_props)
    *n_props = n;
  return props;
}

cl_semaphore_properties_khr *
wb_interop_semaphore_properties (int           fd,
                                 cl_device_id  device,
                                 guint        *n_props,
                                 GError      **error)
{
  cl_semaphore_properties_khr *props;
  guint n = 0;

  if (fd < 0)
    {
      g_set_error (error, WB_ERROR, WB_ERROR_DEVICE,
                   "no file descriptor to import (%d)", fd);
      return NULL;
    }
  props = g_new0 (cl_semaphore_properties_khr, 8);
  props[n++] = CL_SEMAPHORE_TYPE_KHR;
  props[n++] = CL_SEMAPHORE_TYPE_BINARY_KHR;
  props[n++] = CL_SEMAPHORE_HANDLE_OPAQUE_FD_KHR;
  props[n++] = (cl_semaphore_properties_khr) fd;
  if (device != NULL)
    {
      props[n++] = CL_DEVICE_HANDLE_LIST_KHR;
      props[n++] = (cl_semaphore_properties_khr) device;
      props[n++] = CL_DEVICE_HANDLE_LIST_END_KHR;
    }
  props[n] = 0;
  if (n_props)
    *n_props = n;
  return props;
}
