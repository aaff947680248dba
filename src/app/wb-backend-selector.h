/* wb-backend-selector.h: picks the backend ("auto", "reference" or an
 * OpenCL device) and explains it in an info popover: vendor, memory,
 * extensions, why "auto" chose what it chose, and a measured copy
 * bandwidth on request. */
#pragma once

#include <gtk/gtk.h>
#include "wb-device.h"

G_BEGIN_DECLS

#define WB_TYPE_BACKEND_SELECTOR (wb_backend_selector_get_type ())
G_DECLARE_FINAL_TYPE (WbBackendSelector, wb_backend_selector, WB, BACKEND_SELECTOR, GtkWidget)

/* "auto", "reference", "opencl:P:D"; the property "device-id". */
const char *wb_backend_selector_get_device_id (WbBackendSelector *self);
void        wb_backend_selector_set_device_id (WbBackendSelector *self,
                                               const char        *id);
/* The device the selection stands for ("auto" resolved); a new reference. */
WbDevice   *wb_backend_selector_get_device    (WbBackendSelector *self);
/* Every backend (WbDevice*), borrowed. */
GPtrArray  *wb_backend_selector_get_devices   (WbBackendSelector *self);

G_END_DECLS
