/* wb-interop-egl.h: a GL 4.5 core context with no window, for the
 * headless proof and the tests: EGL's device platform (one display per
 * GPU, EGL_EXT_platform_device), else Mesa's surfaceless platform, made
 * current with no surface (EGL_KHR_surfaceless_context).
 */
#pragma once

#include <glib.h>
#include <epoxy/egl.h>

G_BEGIN_DECLS

typedef struct
{
  EGLDisplay display;
  EGLContext context;
  char      *description;   /* "EGL device 0 (NVIDIA), GL 4.5 ..." */
} WbEglHeadless;

/* @want_uuid: prefer the EGL device whose GL context reports this device
 * UUID (NULL: the first that works).  The context is left current. */
WbEglHeadless *wb_egl_headless_new  (const guint8  *want_uuid,
                                     GError       **error);
void           wb_egl_headless_free (WbEglHeadless *egl);
/* Makes the context current again if something (a driver) unbound it;
 * returns TRUE (and says so on stderr) when it had to. */
gboolean       wb_egl_headless_ensure_current (WbEglHeadless *egl,
                                               const char    *after);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (WbEglHeadless, wb_egl_headless_free)

G_END_DECLS
