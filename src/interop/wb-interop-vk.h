/* wb-interop-vk.h: Vulkan as the allocator of memory that OpenCL and GL
 * share (VK_KHR_external_memory_fd, opaque file descriptors).
 *
 * Vulkan draws nothing here: it allocates a device-local buffer with an
 * export, hands out file descriptors of it, and keeps it alive while CL and
 * GL use their imports.  Devices are chosen by UUID so that the memory is on
 * the GPU that both the OpenCL device and the GL context run on.
 */
#pragma once

#include <glib.h>
#include "wb-interop.h"

G_BEGIN_DECLS

/* Fills caps->vk_*: every physical device with its UUID and external
 * memory/semaphore support.  Never fails: with no loader or no driver,
 * caps->vk_available is FALSE and caps->vk_error says why. */
void          wb_vk_probe              (WbInteropCaps *caps);

typedef struct _WbVkContext WbVkContext;
typedef struct _WbVkExport  WbVkExport;

/* A logical device on the physical device whose UUID is @uuid. */
WbVkContext  *wb_vk_context_new        (const guint8 *uuid,
                                        GError      **error);
void          wb_vk_context_free       (WbVkContext  *vk);
const char   *wb_vk_context_get_name   (WbVkContext  *vk);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (WbVkContext, wb_vk_context_free)

/* A buffer of at least @size bytes, allocated exportable as an opaque fd,
 * preferably device-local. */
WbVkExport   *wb_vk_export_new         (WbVkContext  *vk,
                                        gsize         size,
                                        GError      **error);
void          wb_vk_export_free        (WbVkExport   *exp);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (WbVkExport, wb_vk_export_free)

/* The buffer size asked for, and the allocation's (>= size; GL imports
 * need the allocation size). */
gsize         wb_vk_export_get_size            (WbVkExport *exp);
gsize         wb_vk_export_get_allocation_size (WbVkExport *exp);
/* The driver wants this memory imported as a dedicated allocation. */
gboolean      wb_vk_export_get_dedicated       (WbVkExport *exp);
gboolean      wb_vk_export_is_host_visible     (WbVkExport *exp);

/* A new file descriptor of the memory; the caller owns it until an import
 * succeeds (importers take ownership). */
int           wb_vk_export_get_fd      (WbVkExport   *exp,
                                        GError      **error);

/* Binary semaphores exportable as opaque fds (VK_KHR_external_semaphore_fd),
 * for GPU-side hand-offs between CL and GL. */
typedef struct _WbVkSemaphore WbVkSemaphore;

gboolean       wb_vk_context_has_semaphores (WbVkContext *vk);
WbVkSemaphore *wb_vk_semaphore_new     (WbVkContext  *vk,
                                        GError      **error);
/* A new fd of the semaphore; importers take ownership on success. */
int            wb_vk_semaphore_get_fd  (WbVkSemaphore *sem,
                                        GError      **error);
void           wb_vk_semaphore_free    (WbVkSemaphore *sem);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (WbVkSemaphore, wb_vk_semaphore_free)

/* Maps the memory on the host (tests only; NULL with @error when the
 * memory type is not host-visible, as device-local memory usually is not). */
gpointer      wb_vk_export_map         (WbVkExport   *exp,
                                        GError      **error);
void          wb_vk_export_unmap       (WbVkExport   *exp);

G_END_DECLS
