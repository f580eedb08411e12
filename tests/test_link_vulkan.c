/* A program that links the Vulkan loader (-lvulkan) and vkstyle, and calls both (issue 10):
 * the library defines no vk* symbol, so the program's vkEnumerateInstanceVersion is the
 * loader's (with volk's pointers exported it bound to a data pointer and crashed). It also
 * calls the loader's exports on the engine's own device and runs a model on it. */
#undef VK_NO_PROTOTYPES   /* this program uses the loader's prototypes; the engine does not */
#include <vulkan/vulkan.h>

#include "vkstyle/vkstyle.h"
#include "vkstyle/vkstyle_vulkan.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define CHECK(cond, ...)                                         \
    do {                                                         \
        if (!(cond)) {                                           \
            fprintf(stderr, "FAIL: " __VA_ARGS__);               \
            fprintf(stderr, " (%s)\n", vks_last_error());        \
            return 1;                                            \
        }                                                        \
    } while (0)

/* vks_context_memory_type (what window.c allocates with) against the device's memory types, as
 * the loader reports them, for a buffer of the program's own: each use gets a type the buffer
 * allows, with the properties that use needs, preferring device-local (DEVICE) and cached
 * (READBACK) where the buffer allows one; no allowed type gives -1. */
static int check_memory_types(vks_context_t *ctx, const vks_vulkan_handles_t *h)
{
    VkPhysicalDeviceMemoryProperties mp;
    vkGetPhysicalDeviceMemoryProperties(h->physical_device, &mp);
    VkBufferCreateInfo bi = {.sType = VK_STRUCTURE_TYPE_BUFFER_CREATE_INFO, .size = 4096,
                             .usage = VK_BUFFER_USAGE_STORAGE_BUFFER_BIT | VK_BUFFER_USAGE_TRANSFER_DST_BIT,
                             .sharingMode = VK_SHARING_MODE_EXCLUSIVE};
    VkBuffer buf;
    CHECK(vkCreateBuffer(h->device, &bi, NULL, &buf) == VK_SUCCESS, "vkCreateBuffer");
    VkMemoryRequirements req;
    vkGetBufferMemoryRequirements(h->device, buf, &req);
    vkDestroyBuffer(h->device, buf, NULL);
    const VkMemoryPropertyFlags hv = VK_MEMORY_PROPERTY_HOST_VISIBLE_BIT | VK_MEMORY_PROPERTY_HOST_COHERENT_BIT;
    VkMemoryPropertyFlags any = 0;
    for (uint32_t i = 0; i < mp.memoryTypeCount; i++)
        if (req.memoryTypeBits & (1u << i))
            any |= (mp.memoryTypes[i].propertyFlags & hv) == hv ? mp.memoryTypes[i].propertyFlags : 0;
    VkMemoryPropertyFlags dev_any = 0;
    for (uint32_t i = 0; i < mp.memoryTypeCount; i++)
        if (req.memoryTypeBits & (1u << i)) dev_any |= mp.memoryTypes[i].propertyFlags & VK_MEMORY_PROPERTY_DEVICE_LOCAL_BIT;
    const int d = vks_context_memory_type(ctx, req.memoryTypeBits, VKS_MEMORY_DEVICE);
    const int u = vks_context_memory_type(ctx, req.memoryTypeBits, VKS_MEMORY_UPLOAD);
    const int r = vks_context_memory_type(ctx, req.memoryTypeBits, VKS_MEMORY_READBACK);
    printf("memory types of %u: device %d, upload %d, readback %d\n", mp.memoryTypeCount, d, u, r);
    CHECK(d >= 0 && (req.memoryTypeBits & (1u << d)), "a device type the buffer allows");
    CHECK((mp.memoryTypes[d].propertyFlags & dev_any) == dev_any, "device-local for DEVICE where allowed");
    CHECK(u >= 0 && (req.memoryTypeBits & (1u << u)) && (mp.memoryTypes[u].propertyFlags & hv) == hv,
          "a host-visible, coherent type for UPLOAD");
    CHECK(r >= 0 && (req.memoryTypeBits & (1u << r)) && (mp.memoryTypes[r].propertyFlags & hv) == hv,
          "a host-visible, coherent type for READBACK");
    CHECK(!(any & VK_MEMORY_PROPERTY_HOST_CACHED_BIT) || (mp.memoryTypes[r].propertyFlags & VK_MEMORY_PROPERTY_HOST_CACHED_BIT),
          "a cached type for READBACK where there is one");
    CHECK(vks_context_memory_type(ctx, 0, VKS_MEMORY_DEVICE) == -1 && vks_context_memory_type(NULL, ~0u, VKS_MEMORY_DEVICE) == -1,
          "no type when none is allowed");
    return 0;
}

int main(void)
{
    uint32_t version = 0;
    CHECK(vkEnumerateInstanceVersion(&version) == VK_SUCCESS && version >= VK_API_VERSION_1_0,
          "vkEnumerateInstanceVersion from libvulkan");
    printf("loader: Vulkan %u.%u.%u\n", VK_API_VERSION_MAJOR(version), VK_API_VERSION_MINOR(version),
           VK_API_VERSION_PATCH(version));

    vks_context_options_t o = {.validation = 1, .cache_dir = ""};
    vks_context_t *ctx = NULL;
    CHECK(vks_context_create(&o, &ctx) == VKS_OK, "vks_context_create");
    vks_device_info_t info;
    vks_context_device_info(ctx, &info);

    /* the loader's own exports work on the engine's objects */
    vks_vulkan_handles_t h;
    vks_context_vulkan(ctx, &h);
    VkPhysicalDeviceProperties props;
    vkGetPhysicalDeviceProperties(h.physical_device, &props);
    CHECK(strcmp(props.deviceName, info.name) == 0, "device name '%s' vs '%s'", props.deviceName, info.name);
    CHECK(vkDeviceWaitIdle(h.device) == VK_SUCCESS, "vkDeviceWaitIdle from libvulkan on the engine's device");
    CHECK(h.get_instance_proc_addr && h.get_device_proc_addr, "loaders in vks_vulkan_handles_t");
    PFN_vkDeviceWaitIdle wait = (PFN_vkDeviceWaitIdle)h.get_device_proc_addr(h.device, "vkDeviceWaitIdle");
    CHECK(wait && wait(h.device) == VK_SUCCESS, "vkDeviceWaitIdle through get_device_proc_addr");

    char path[1024];
    snprintf(path, sizeof path, "%s/models/la_muse.safetensors", VKS_SOURCE_DIR);
    vks_model_t *m = NULL;
    vks_session_t *s = NULL;
    uint8_t img[16 * 16 * 3];
    for (size_t i = 0; i < sizeof img; i++) img[i] = (uint8_t)(i * 7);
    CHECK(vks_model_load(ctx, path, &m) == VKS_OK, "vks_model_load");
    CHECK(vks_session_create(m, 16, 16, &s) == VKS_OK, "vks_session_create");
    CHECK(vks_session_run(s, img, img, 3) == VKS_OK, "vks_session_run");
    vks_session_destroy(s);
    vks_model_destroy(m);
    CHECK(check_memory_types(ctx, &h) == 0, "vks_context_memory_type");
    uint32_t messages = vks_context_validation_messages(ctx);
    vks_context_destroy(ctx);
    CHECK(messages == 0, "%u validation messages", messages);
    printf("ok: libvulkan and vkstyle in one program, on %s (%s)\n", info.name, info.driver);
    return 0;
}
