/* wb-test-devices.h: the backends the tests run on, found the way users
 * find them (wb_device_list): the first OpenCL device, if any, and the
 * reference backend. */
#pragma once

#include "wb-device.h"

/* The first OpenCL device of the first platform, or NULL (a new reference). */
static inline WbDevice *
opencl_device (void)
{
  g_autoptr(GPtrArray) devices = wb_device_list (NULL);

  for (guint i = 0; i < devices->len; i++)
    {
      WbDevice *d = g_ptr_array_index (devices, i);
      if (!wb_device_is_reference (d))
        return wb_device_ref (d);
    }
  return NULL;
}

/* The plain C backend (a new reference). */
static inline WbDevice *
reference_device (void)
{
  g_autoptr(GPtrArray) devices = wb_device_list (NULL);

  return wb_device_lookup (devices, "reference", NULL, NULL);
}
