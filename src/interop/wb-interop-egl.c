#define G_LOG_DOMAIN "wb-interop"
#include "config.h"

#include <epoxy/gl.h>
#include <string.h>

#include "wb-error.h"
#include "wb-interop-egl.h"

#ifndef EGL_PLATFORM_SURFACELESS_MESA
#define EGL_PLATFORM_SURFACELESS_MESA 0x31DD
#endif

static const char *
egl_error_name (EGLint e)
{
  switch (e)
    {
    case EGL_SUCCESS: return "EGL_SUCCESS";
    case EGL_NOT_INITIALIZED: return "EGL_NOT_INITIALIZED";
    case EGL_BAD_ACCESS: return "EGL_BAD_ACCESS";
    case EGL_BAD_ALLOC: return "EGL_BAD_ALLOC";
    case EGL_BAD_ATTRIBUTE: return "EGL_BAD_ATTRIBUTE";
    case EGL_BAD_CONFIG: return "EGL_BAD_CONFIG";
    case EGL_BAD_CONTEXT: return "EGL_BAD_CONTEXT";
    case EGL_BAD_DISPLAY: return "EGL_BAD_DISPLAY";
    case EGL_BAD_MATCH: return "EGL_BAD_MATCH";
    case EGL_BAD_PARAMETER: return "EGL_BAD_PARAMETER";
    case EGL_BAD_SURFACE: return "EGL_BAD_SURFACE";
    default: return "EGL error";
    }
}

/* Initialises @display and makes a 4.5 core context current on it. */
static gboolean
try_display (EGLDisplay  display,
             EGLContext *context,
             GString    *log)
{
  static const EGLint ctx_attribs[] = {
    EGL_CONTEXT_MAJOR_VERSION, 4,
    EGL_CONTEXT_MINOR_VERSION, 5,
    EGL_CONTEXT_OPENGL_PROFILE_MASK, EGL_CONTEXT_OPENGL_CORE_PROFILE_BIT,
    EGL_NONE
  };
  static const EGLint cfg_attribs[] = {
    EGL_RENDERABLE_TYPE, EGL_OPENGL_BIT,
    EGL_SURFACE_TYPE, EGL_PBUFFER_BIT,
    EGL_RED_SIZE, 8, EGL_GREEN_SIZE, 8, EGL_BLUE_SIZE, 8,
    EGL_NONE
  };
  EGLint major = 0, minor = 0, n = 0;
  EGLConfig config = NULL;

  if (display == EGL_NO_DISPLAY)
    {
      g_string_append_printf (log, "no display (%s); ", egl_error_name (eglGetError ()));
      return FALSE;
    }
  if (!eglInitialize (display, &major, &minor))
    {
      g_string_append_printf (log, "eglInitialize: %s; ", egl_error_name (eglGetError ()));
      return FALSE;
    }
  if (!epoxy_has_egl_extension (display, "EGL_KHR_surfaceless_context"))
    {
      g_string_append (log, "no EGL_KHR_surfaceless_context; ");
      eglTerminate (display);
      return FALSE;
    }
  eglBindAPI (EGL_OPENGL_API);
  /* A config is not needed with EGL_KHR_no_config_context, but some
   * drivers want one for desktop GL; either works for FBO rendering. */
  if (!eglChooseConfig (display, cfg_attribs, &config, 1, &n) || n < 1)
    config = EGL_NO_CONFIG_KHR;
  *context = eglCreateContext (display, config, EGL_NO_CONTEXT, ctx_attribs);
  if (*context == EGL_NO_CONTEXT)
    {
      g_string_append_printf (log, "eglCreateContext (4.5 core): %s; ", egl_error_name (eglGetError ()));
      eglTerminate (display);
      return FALSE;
    }
  if (!eglMakeCurrent (display, EGL_NO_SURFACE, EGL_NO_SURFACE, *context))
    {
      g_string_append_printf (log, "eglMakeCurrent: %s; ", egl_error_name (eglGetError ()));
      eglDestroyContext (display, *context);
      eglTerminate (display);
      return FALSE;
    }
  return TRUE;
}

static gboolean
uuid_matches (const guint8 *want)
{
  GLint n = 0;

  if (want == NULL)
    return TRUE;
  if (!epoxy_has_gl_extension ("GL_EXT_memory_object"))
    return FALSE;
  glGetIntegerv (GL_NUM_DEVICE_UUIDS_EXT, &n);
  for (GLint i = 0; i < n; i++)
    {
      guint8 u[16];

      glGetUnsignedBytei_vEXT (GL_DEVICE_UUID_EXT, i, u);
      if (memcmp (u, want, 16) == 0)
        return TRUE;
    }
  return FALSE;
}

static WbEglHeadless *
headless_new (EGLDisplay  display,
              EGLContext  context,
              const char *how,
              GString    *log)
{
  WbEglHeadless *egl = g_new0 (WbEglHeadless, 1);

  egl->display = display;
  egl->context = context;
  egl->description = g_strdup_printf ("%s, GL %s, %s%s%s%s", how,
                                      (const char *) glGetString (GL_VERSION),
                                      (const char *) glGetString (GL_RENDERER),
                                      log->len ? " (tried before: " : "",
                                      log->str, log->len ? ")" : "");
  return egl;
}

WbEglHeadless *
wb_egl_headless_new (const guint8 *want_uuid,
                     GError      **error)
{
  g_autoptr(GString) log = g_string_new (NULL);
  EGLContext context = EGL_NO_CONTEXT;
  EGLDisplay display;
  WbEglHeadless *first = NULL;

  /* Client extensions are queried on EGL_NO_DISPLAY. */
  if ((epoxy_has_egl_extension (EGL_NO_DISPLAY, "EGL_EXT_device_enumeration")
       || epoxy_has_egl_extension (EGL_NO_DISPLAY, "EGL_EXT_device_base"))
      && epoxy_has_egl_extension (EGL_NO_DISPLAY, "EGL_EXT_platform_device"))
    {
      EGLDeviceEXT devices[16];
      EGLint n = 0;

      if (eglQueryDevicesEXT (G_N_ELEMENTS (devices), devices, &n))
        for (EGLint i = 0; i < n; i++)
          {
            g_autofree char *how = g_strdup_printf ("EGL device %d of %d", i, n);

            gsize mark = log->len;

            display = eglGetPlatformDisplayEXT (EGL_PLATFORM_DEVICE_EXT, devices[i], NULL);
            g_string_append_printf (log, "%s: ", how);
            if (!try_display (display, &context, log))
              continue;
            g_string_truncate (log, mark);
            if (uuid_matches (want_uuid))
              {
                WbEglHeadless *egl = headless_new (display, context, how, log);

                /* Freeing the first one unbinds whatever is current. */
                if (first)
                  {
                    wb_egl_headless_free (first);
                    eglMakeCurrent (display, EGL_NO_SURFACE, EGL_NO_SURFACE, context);
                  }
                return egl;
              }
            g_string_append (log, "not the OpenCL device; ");
            /* Keep the first working one in case none matches. */
            if (first == NULL)
              first = headless_new (display, context, how, log);
            else
              {
                eglMakeCurrent (display, EGL_NO_SURFACE, EGL_NO_SURFACE, EGL_NO_CONTEXT);
                eglDestroyContext (display, context);
              }
          }
    }
  else
    g_string_append (log, "no EGL device enumeration; ");

  if (first != NULL)
    {
      eglMakeCurrent (first->display, EGL_NO_SURFACE, EGL_NO_SURFACE, first->context);
      return first;
    }

  if (epoxy_has_egl_extension (EGL_NO_DISPLAY, "EGL_MESA_platform_surfaceless"))
    {
      gsize mark = log->len;

      g_string_append (log, "surfaceless: ");
      display = eglGetPlatformDisplayEXT (EGL_PLATFORM_SURFACELESS_MESA, EGL_DEFAULT_DISPLAY, NULL);
      if (try_display (display, &context, log) && (g_string_truncate (log, mark), TRUE))
        return headless_new (display, context, "EGL surfaceless platform", log);
    }

  g_string_append (log, "default display: ");
  display = eglGetDisplay (EGL_DEFAULT_DISPLAY);
  if (try_display (display, &context, log))
    return headless_new (display, context, "EGL default display", log);

  g_set_error (error, WB_ERROR, WB_ERROR_DEVICE, "no headless GL 4.5 context: %s", log->str);
  return NULL;
}

void
wb_egl_headless_free (WbEglHeadless *egl)
{
  if (egl == NULL)
    return;
  eglMakeCurrent (egl->display, EGL_NO_SURFACE, EGL_NO_SURFACE, EGL_NO_CONTEXT);
  eglDestroyContext (egl->display, egl->context);
  /* No eglTerminate: another context (a test's second one) may share the
   * display, which EGL reference-counts per process, not per caller. */
  g_free (egl->description);
  g_free (egl);
}

gboolean
wb_egl_headless_ensure_current (WbEglHeadless *egl,
                                const char    *after)
{
  static guint times;

  if (eglGetCurrentContext () == egl->context)
    return FALSE;
  if (++times > 3)
    {
      if (times == 4)
        g_printerr ("note: (further rebinds not reported)\n");
      eglMakeCurrent (egl->display, EGL_NO_SURFACE, EGL_NO_SURFACE, egl->context);
      return TRUE;
    }
  /* Seen with NVIDIA's driver: OpenCL or Vulkan calls leaving the thread
   * with no current context, after which every new GL entry point fails
   * to resolve.  Saying so keeps the symptom visible. */
  g_printerr ("note: the EGL context was not current after %s; made current again\n", after);
  eglMakeCurrent (egl->display, EGL_NO_SURFACE, EGL_NO_SURFACE, egl->context);
  return TRUE;
}
