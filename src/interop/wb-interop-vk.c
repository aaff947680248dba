#define G_LOG_DOMAIN "wb-interop"
#include "config.h"

#include <string.h>
#include <unistd.h>
#include <vulkan/vulkan.h>

#include "wb-error.h"
#include "wb-interop-vk.h"

struct _WbVkContext
{
  VkInstance        instance;
  VkPhysicalDevice  physical;
  VkDevice          device;
  char             *name;
  PFN_vkGetMemoryFdKHR get_memory_fd;
  PFN_vkGetSemaphoreFdKHR get_semaphore_fd;   /* NULL without semaphores */
  VkPhysicalDeviceMemoryProperties mem_props;
};

struct _WbVkSemaphore
{
  WbVkContext *vk;          /* borrowed */
  VkSemaphore  semaphore;
};

struct _WbVkExport
{
  WbVkContext    *vk;            /* borrowed: must outlive the export */
  VkBuffer        buffer;
  VkDeviceMemory  memory;
  gsize           size;
  gsize           alloc_size;
  gboolean        dedicated;
  gboolean        host_visible;
  gboolean        mapped;
};

static const char *
vk_result_name (VkResult r)
{
  switch (r)
    {
    case VK_SUCCESS: return "VK_SUCCESS";
    case VK_ERROR_OUT_OF_HOST_MEMORY: return "VK_ERROR_OUT_OF_HOST_MEMORY";
    case VK_ERROR_OUT_OF_DEVICE_MEMORY: return "VK_ERROR_OUT_OF_DEVICE_MEMORY";
    case VK_ERROR_INITIALIZATION_FAILED: return "VK_ERROR_INITIALIZATION_FAILED";
    case VK_ERROR_EXTENSION_NOT_PRESENT: return "VK_ERROR_EXTENSION_NOT_PRESENT";
    case VK_ERROR_FEATURE_NOT_PRESENT: return "VK_ERROR_FEATURE_NOT_PRESENT";
    case VK_ERROR_INCOMPATIBLE_DRIVER: return "VK_ERROR_INCOMPATIBLE_DRIVER (no Vulkan driver)";
    case VK_ERROR_TOO_MANY_OBJECTS: return "VK_ERROR_TOO_MANY_OBJECTS";
    case VK_ERROR_INVALID_EXTERNAL_HANDLE: return "VK_ERROR_INVALID_EXTERNAL_HANDLE";
    case VK_ERROR_MEMORY_MAP_FAILED: return "VK_ERROR_MEMORY_MAP_FAILED";
    case VK_ERROR_DEVICE_LOST: return "VK_ERROR_DEVICE_LOST";
    default: return "VkResult";
    }
}

static gboolean
vk_check (VkResult    r,
          const char *what,
          GError    **error)
{
  if (r == VK_SUCCESS)
    return TRUE;
  g_set_error (error, WB_ERROR, WB_ERROR_DEVICE, "%s: %s (%d)", what, vk_result_name (r), (int) r);
  return FALSE;
}

static VkInstance
instance_new (GError **error)
{
  VkApplicationInfo app = {
    .sType = VK_STRUCTURE_TYPE_APPLICATION_INFO,
    .pApplicationName = "wavebench",
    .apiVersion = VK_API_VERSION_1_1,
  };
  VkInstanceCreateInfo info = {
    .sType = VK_STRUCTURE_TYPE_INSTANCE_CREATE_INFO,
    .pApplicationInfo = &app,
  };
  VkInstance instance = VK_NULL_HANDLE;
  uint32_t version = VK_API_VERSION_1_0;

  /* Device UUIDs and external memory are core in 1.1; a 1.0 loader has
   * no vkEnumerateInstanceVersion. */
  if (vkEnumerateInstanceVersion (&version) != VK_SUCCESS || version < VK_API_VERSION_1_1)
    {
      g_set_error (error, WB_ERROR, WB_ERROR_DEVICE, "the Vulkan loader is older than 1.1");
      return VK_NULL_HANDLE;
    }
  if (!vk_check (vkCreateInstance (&info, NULL, &instance), "vkCreateInstance", error))
    return VK_NULL_HANDLE;
  return instance;
}

static gboolean
has_device_extension (VkPhysicalDevice pd,
                      const char      *name)
{
  uint32_t n = 0;
  g_autofree VkExtensionProperties *ext = NULL;

  if (vkEnumerateDeviceExtensionProperties (pd, NULL, &n, NULL) != VK_SUCCESS)
    return FALSE;
  ext = g_new0 (VkExtensionProperties, MAX (n, 1));
  if (vkEnumerateDeviceExtensionProperties (pd, NULL, &n, ext) != VK_SUCCESS)
    return FALSE;
  for (uint32_t i = 0; i < n; i++)
    if (g_str_equal (ext[i].extensionName, name))
      return TRUE;
  return FALSE;
}

static void
device_uuid (VkPhysicalDevice pd,
             guint8          *uuid,
             char           **name)
{
  VkPhysicalDeviceIDProperties id = { .sType = VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_ID_PROPERTIES };
  VkPhysicalDeviceProperties2 props = {
    .sType = VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_PROPERTIES_2,
    .pNext = &id,
  };

  vkGetPhysicalDeviceProperties2 (pd, &props);
  memcpy (uuid, id.deviceUUID, WB_UUID_SIZE);
  if (name)
    *name = g_strdup (props.properties.deviceName);
}

void
wb_vk_probe (WbInteropCaps *caps)
{
  g_autoptr(GError) error = NULL;
  VkInstance instance;
  VkPhysicalDevice pds[G_N_ELEMENTS (caps->vk_devices)];
  uint32_t n = G_N_ELEMENTS (pds);
  VkResult r;

  for (guint i = 0; i < caps->vk_n_devices; i++)
    g_clear_pointer (&caps->vk_devices[i].name, g_free);
  caps->vk_n_devices = 0;
  caps->vk_available = FALSE;
  g_clear_pointer (&caps->vk_error, g_free);

  instance = instance_new (&error);
  if (instance == VK_NULL_HANDLE)
    {
      caps->vk_error = g_strdup (error->message);
      return;
    }
  r = vkEnumeratePhysicalDevices (instance, &n, pds);
  if (r != VK_SUCCESS && r != VK_INCOMPLETE)
    {
      caps->vk_error = g_strdup_printf ("vkEnumeratePhysicalDevices: %s", vk_result_name (r));
      vkDestroyInstance (instance, NULL);
      return;
    }
  for (uint32_t i = 0; i < n; i++)
    {
      WbVkDeviceInfo *d = &caps->vk_devices[caps->vk_n_devices++];

      device_uuid (pds[i], d->uuid, &d->name);
      d->external_memory_fd = has_device_extension (pds[i], VK_KHR_EXTERNAL_MEMORY_FD_EXTENSION_NAME);
      d->external_semaphore_fd = has_device_extension (pds[i], VK_KHR_EXTERNAL_SEMAPHORE_FD_EXTENSION_NAME);
    }
  if (n == 0)
    caps->vk_error = g_strdup ("the Vulkan loader found no device");
  caps->vk_available = n > 0;
  vkDestroyInstance (instance, NULL);
}

WbVkContext *
wb_vk_context_new (const guint8 *uuid,
                   GError      **error)
{
  g_autoptr(WbVkContext) vk = g_new0 (WbVkContext, 1);
  VkPhysicalDevice pds[16];
  uint32_t n = G_N_ELEMENTS (pds);
  const char *exts[] = { VK_KHR_EXTERNAL_MEMORY_FD_EXTENSION_NAME,
                         VK_KHR_EXTERNAL_SEMAPHORE_FD_EXTENSION_NAME };
  gboolean semaphores;
  float priority = 1.0f;
  VkDeviceQueueCreateInfo queue = {
    .sType = VK_STRUCTURE_TYPE_DEVICE_QUEUE_CREATE_INFO,
    .queueFamilyIndex = 0,
    .queueCount = 1,
    .pQueuePriorities = &priority,
  };
  VkDeviceCreateInfo info = {
    .sType = VK_STRUCTURE_TYPE_DEVICE_CREATE_INFO,
    .queueCreateInfoCount = 1,
    .pQueueCreateInfos = &queue,
    .enabledExtensionCount = 1,
    .ppEnabledExtensionNames = exts,
  };
  VkResult r;

  vk->instance = instance_new (error);
  if (vk->instance == VK_NULL_HANDLE)
    return NULL;
  r = vkEnumeratePhysicalDevices (vk->instance, &n, pds);
  if (r != VK_SUCCESS && r != VK_INCOMPLETE)
    {
      vk_check (r, "vkEnumeratePhysicalDevices", error);
      return NULL;
    }
  for (uint32_t i = 0; i < n && vk->physical == VK_NULL_HANDLE; i++)
    {
      guint8 u[WB_UUID_SIZE];
      g_autofree char *name = NULL;

      device_uuid (pds[i], u, &name);
      if (wb_uuid_equal (u, uuid))
        {
          vk->physical = pds[i];
          vk->name = g_steal_pointer (&name);
        }
    }
  if (vk->physical == VK_NULL_HANDLE)
    {
      g_autofree char *s = wb_uuid_to_string (uuid);
      g_set_error (error, WB_ERROR, WB_ERROR_NOT_FOUND, "no Vulkan device has UUID %s", s);
      return NULL;
    }
  semaphores = has_device_extension (vk->physical, VK_KHR_EXTERNAL_SEMAPHORE_FD_EXTENSION_NAME);
  if (semaphores)
    info.enabledExtensionCount = 2;
  if (!vk_check (vkCreateDevice (vk->physical, &info, NULL, &vk->device),
                 "vkCreateDevice (VK_KHR_external_memory_fd)", error))
    return NULL;
  vk->get_memory_fd = (PFN_vkGetMemoryFdKHR) vkGetDeviceProcAddr (vk->device, "vkGetMemoryFdKHR");
  if (vk->get_memory_fd == NULL)
    {
      g_set_error (error, WB_ERROR, WB_ERROR_DEVICE, "vkGetMemoryFdKHR is missing");
      return NULL;
    }
  if (semaphores)
    vk->get_semaphore_fd = (PFN_vkGetSemaphoreFdKHR) vkGetDeviceProcAddr (vk->device, "vkGetSemaphoreFdKHR");
  vkGetPhysicalDeviceMemoryProperties (vk->physical, &vk->mem_props);
  return g_steal_pointer (&vk);
}

void
wb_vk_context_free (WbVkContext *vk)
{
  if (vk == NULL)
    return;
  if (vk->device)
    vkDestroyDevice (vk->device, NULL);
  if (vk->instance)
    vkDestroyInstance (vk->instance, NULL);
  g_free (vk->name);
  g_free (vk);
}

const char *
wb_vk_context_get_name (WbVkContext *vk)
{
  return vk->name;
}

static int
pick_memory_type (WbVkContext *vk,
                  uint32_t     type_bits,
                  gboolean    *host_visible)
{
  int fallback = -1;

  /* Device-local first: the point is that the field never leaves the GPU. */
  for (uint32_t i = 0; i < vk->mem_props.memoryTypeCount; i++)
    {
      VkMemoryPropertyFlags f = vk->mem_props.memoryTypes[i].propertyFlags;

      if (!(type_bits & (1u << i)))
        continue;
      if (f & VK_MEMORY_PROPERTY_DEVICE_LOCAL_BIT)
        {
          *host_visible = (f & VK_MEMORY_PROPERTY_HOST_VISIBLE_BIT) != 0;
          return (int) i;
        }
      if (fallback < 0)
        fallback = (int) i;
    }
  if (fallback >= 0)
    *host_visible = (vk->mem_props.memoryTypes[fallback].propertyFlags
                     & VK_MEMORY_PROPERTY_HOST_VISIBLE_BIT) != 0;
  return fallback;
}

WbVkExport *
wb_vk_export_new (WbVkContext *vk,
                  gsize        size,
                  GError     **error)
{
  g_autoptr(WbVkExport) exp = g_new0 (WbVkExport, 1);
  const VkExternalMemoryHandleTypeFlagBits handle = VK_EXTERNAL_MEMORY_HANDLE_TYPE_OPAQUE_FD_BIT;
  VkPhysicalDeviceExternalBufferInfo ebi = {
    .sType = VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_EXTERNAL_BUFFER_INFO,
    .usage = VK_BUFFER_USAGE_TRANSFER_SRC_BIT | VK_BUFFER_USAGE_TRANSFER_DST_BIT
             | VK_BUFFER_USAGE_STORAGE_BUFFER_BIT,
    .handleType = handle,
  };
  VkExternalBufferProperties ebp = { .sType = VK_STRUCTURE_TYPE_EXTERNAL_BUFFER_PROPERTIES };
  VkExternalMemoryBufferCreateInfo ext_buf = {
    .sType = VK_STRUCTURE_TYPE_EXTERNAL_MEMORY_BUFFER_CREATE_INFO,
    .handleTypes = handle,
  };
  VkBufferCreateInfo buf_info = {
    .sType = VK_STRUCTURE_TYPE_BUFFER_CREATE_INFO,
    .pNext = &ext_buf,
    .size = size,
    .usage = ebi.usage,
    .sharingMode = VK_SHARING_MODE_EXCLUSIVE,
  };
  VkMemoryRequirements req;
  VkMemoryDedicatedAllocateInfo dedicated = {
    .sType = VK_STRUCTURE_TYPE_MEMORY_DEDICATED_ALLOCATE_INFO,
  };
  VkExportMemoryAllocateInfo export_info = {
    .sType = VK_STRUCTURE_TYPE_EXPORT_MEMORY_ALLOCATE_INFO,
    .handleTypes = handle,
  };
  VkMemoryAllocateInfo alloc = { .sType = VK_STRUCTURE_TYPE_MEMORY_ALLOCATE_INFO };
  int type;

  g_return_val_if_fail (vk != NULL && size > 0, NULL);
  exp->vk = vk;
  exp->size = size;

  vkGetPhysicalDeviceExternalBufferProperties (vk->physical, &ebi, &ebp);
  if (!(ebp.externalMemoryProperties.externalMemoryFeatures & VK_EXTERNAL_MEMORY_FEATURE_EXPORTABLE_BIT))
    {
      g_set_error (error, WB_ERROR, WB_ERROR_DEVICE,
                   "the Vulkan device '%s' cannot export buffers as opaque file descriptors", vk->name);
      return NULL;
    }
  exp->dedicated = (ebp.externalMemoryProperties.externalMemoryFeatures
                    & VK_EXTERNAL_MEMORY_FEATURE_DEDICATED_ONLY_BIT) != 0;

  if (!vk_check (vkCreateBuffer (vk->device, &buf_info, NULL, &exp->buffer), "vkCreateBuffer", error))
    return NULL;
  vkGetBufferMemoryRequirements (vk->device, exp->buffer, &req);
  type = pick_memory_type (vk, req.memoryTypeBits, &exp->host_visible);
  if (type < 0)
    {
      g_set_error (error, WB_ERROR, WB_ERROR_DEVICE, "no Vulkan memory type for an exportable buffer");
      return NULL;
    }
  if (exp->dedicated)
    {
      dedicated.buffer = exp->buffer;
      export_info.pNext = &dedicated;
    }
  alloc.pNext = &export_info;
  alloc.allocationSize = req.size;
  alloc.memoryTypeIndex = (uint32_t) type;
  if (!vk_check (vkAllocateMemory (vk->device, &alloc, NULL, &exp->memory), "vkAllocateMemory (exportable)", error))
    return NULL;
  exp->alloc_size = req.size;
  if (!vk_check (vkBindBufferMemory (vk->device, exp->buffer, exp->memory, 0), "vkBindBufferMemory", error))
    return NULL;
  return g_steal_pointer (&exp);
}

void
wb_vk_export_free (WbVkExport *exp)
{
  if (exp == NULL)
    return;
  if (exp->mapped)
    vkUnmapMemory (exp->vk->device, exp->memory);
  if (exp->buffer)
    vkDestroyBuffer (exp->vk->device, exp->buffer, NULL);
  if (exp->memory)
    vkFreeMemory (exp->vk->device, exp->memory, NULL);
  g_free (exp);
}

gsize
wb_vk_export_get_size (WbVkExport *exp)
{
  return exp->size;
}

gsize
wb_vk_export_get_allocation_size (WbVkExport *exp)
{
  return exp->alloc_size;
}

gboolean
wb_vk_export_get_dedicated (WbVkExport *exp)
{
  return exp->dedicated;
}

gboolean
wb_vk_export_is_host_visible (WbVkExport *exp)
{
  return exp->host_visible;
}

int
wb_vk_export_get_fd (WbVkExport *exp,
                     GError    **error)
{
  VkMemoryGetFdInfoKHR info = {
    .sType = VK_STRUCTURE_TYPE_MEMORY_GET_FD_INFO_KHR,
    .memory = exp->memory,
    .handleType = VK_EXTERNAL_MEMORY_HANDLE_TYPE_OPAQUE_FD_BIT,
  };
  int fd = -1;

  if (!vk_check (exp->vk->get_memory_fd (exp->vk->device, &info, &fd), "vkGetMemoryFdKHR", error))
    return -1;
  return fd;
}

gpointer
wb_vk_export_map (WbVkExport *exp,
                  GError    **error)
{
  void *ptr = NULL;

  if (!exp->host_visible)
    {
      g_set_error (error, WB_ERROR, WB_ERROR_DEVICE, "the shared memory is not host-visible");
      return NULL;
    }
  if (!vk_check (vkMapMemory (exp->vk->device, exp->memory, 0, VK_WHOLE_SIZE, 0, &ptr), "vkMapMemory", error))
    return NULL;
  exp->mapped = TRUE;
  return ptr;
}

void
wb_vk_export_unmap (WbVkExport *exp)
{
  if (exp->mapped)
    vkUnmapMemory (exp->vk->device, exp->memory);
  exp->mapped = FALSE;
}

gboolean
wb_vk_context_has_semaphores (WbVkContext *vk)
{
  return vk->get_semaphore_fd != NULL;
}

WbVkSemaphore *
wb_vk_semaphore_new (WbVkContext *vk,
                     GError     **error)
{
  g_autoptr(WbVkSemaphore) sem = g_new0 (WbVkSemaphore, 1);
  VkPhysicalDeviceExternalSemaphoreInfo esi = {
    .sType = VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_EXTERNAL_SEMAPHORE_INFO,
    .handleType = VK_EXTERNAL_SEMAPHORE_HANDLE_TYPE_OPAQUE_FD_BIT,
  };
  VkExternalSemaphoreProperties esp = { .sType = VK_STRUCTURE_TYPE_EXTERNAL_SEMAPHORE_PROPERTIES };
  VkExportSemaphoreCreateInfo export_info = {
    .sType = VK_STRUCTURE_TYPE_EXPORT_SEMAPHORE_CREATE_INFO,
    .handleTypes = VK_EXTERNAL_SEMAPHORE_HANDLE_TYPE_OPAQUE_FD_BIT,
  };
  VkSemaphoreCreateInfo info = {
    .sType = VK_STRUCTURE_TYPE_SEMAPHORE_CREATE_INFO,
    .pNext = &export_info,
  };

  sem->vk = vk;
  if (vk->get_semaphore_fd == NULL)
    {
      g_set_error (error, WB_ERROR, WB_ERROR_DEVICE,
                   "the Vulkan device '%s' lacks VK_KHR_external_semaphore_fd", vk->name);
      return NULL;
    }
  vkGetPhysicalDeviceExternalSemaphoreProperties (vk->physical, &esi, &esp);
  if (!(esp.externalSemaphoreFeatures & VK_EXTERNAL_SEMAPHORE_FEATURE_EXPORTABLE_BIT))
    {
      g_set_error (error, WB_ERROR, WB_ERROR_DEVICE,
                   "the Vulkan device '%s' cannot export semaphores as opaque file descriptors", vk->name);
      return NULL;
    }
  if (!vk_check (vkCreateSemaphore (vk->device, &info, NULL, &sem->semaphore), "vkCreateSemaphore", error))
    return NULL;
  return g_steal_pointer (&sem);
}

int
wb_vk_semaphore_get_fd (WbVkSemaphore *sem,
                        GError       **error)
{
  VkSemaphoreGetFdInfoKHR info = {
    .sType = VK_STRUCTURE_TYPE_SEMAPHORE_GET_FD_INFO_KHR,
    .semaphore = sem->semaphore,
    .handleType = VK_EXTERNAL_SEMAPHORE_HANDLE_TYPE_OPAQUE_FD_BIT,
  };
  int fd = -1;

  if (!vk_check (sem->vk->get_semaphore_fd (sem->vk->device, &info, &fd), "vkGetSemaphoreFdKHR", error))
    return -1;
  return fd;
}

void
wb_vk_semaphore_free (WbVkSemaphore *sem)
{
  if (sem == NULL)
    return;
  if (sem->semaphore)
    vkDestroySemaphore (sem->vk->device, sem->semaphore, NULL);
  g_free (sem);
}
