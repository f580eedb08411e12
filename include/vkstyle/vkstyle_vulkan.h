/* Vulkan interop: for tools that present the engine's output themselves (a swapchain on the
 * engine's device) without reading it back to the CPU. Include after <vulkan/vulkan.h> or
 * <volk.h>.
 *
 * The library exports no vk* (or volk*) symbol and its function tables are its own: a program
 * loads the commands it calls on the context's objects with the two loaders in
 * vks_vulkan_handles_t (or links the Vulkan loader and calls its exports). */
#ifndef VKSTYLE_VULKAN_H
#define VKSTYLE_VULKAN_H

#include "vkstyle/vkstyle.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct vks_vulkan_handles {
    VkInstance instance;
    VkPhysicalDevice physical_device;
    VkDevice device;
    VkQueue queue;               /* the engine's queue: hold vks_context_lock_queue around your
                                  * own vkQueueSubmit / vkQueuePresentKHR on it */
    uint32_t queue_family;
    /* The Vulkan loader's vkGetInstanceProcAddr, for the instance's commands:
     * get_instance_proc_addr(instance, "vkDestroySurfaceKHR"). */
    PFN_vkGetInstanceProcAddr get_instance_proc_addr;
    /* The instance's vkGetDeviceProcAddr, for the device's commands (straight to its driver):
     * get_device_proc_addr(device, "vkQueuePresentKHR"). */
    PFN_vkGetDeviceProcAddr get_device_proc_addr;
} vks_vulkan_handles_t;

/* The context's Vulkan objects (owned by the context: do not destroy them). */
void vks_context_vulkan(const vks_context_t *ctx, vks_vulkan_handles_t *out);

/* Vulkan wants every use of a queue externally synchronized, and sessions on other threads
 * submit to the context's queue at any time: a program that submits or presents on it itself
 * holds this lock around each such call (not around waits). The engine takes it around its own
 * vkQueueSubmit only, so do not call vkstyle functions while holding it. */
void vks_context_lock_queue(vks_context_t *ctx);
void vks_context_unlock_queue(vks_context_t *ctx);

/* The device buffer range holding the last vks_session_run_raw output: width*height pixels,
 * 4 bytes each, in the session's output format, rows tightly packed. It is written by the
 * session's submissions and valid after vks_session_run_raw returns; copy it (e.g. with
 * vkCmdCopyBufferToImage) before the next run. A tiled session or one of VKS_TENSOR_F32 output
 * has none: VK_NULL_HANDLE and 0. */
void vks_session_output_buffer(const vks_session_t *session, VkBuffer *buffer, VkDeviceSize *offset,
                               VkDeviceSize *size);

/* What a buffer or image of the caller's is for, to choose its memory type as the engine does. */
typedef enum vks_memory_use {
    VKS_MEMORY_DEVICE,   /* used by the GPU only: device-local where the type bits allow, else any */
    VKS_MEMORY_UPLOAD,   /* written by the host: host-visible and coherent */
    VKS_MEMORY_READBACK, /* read by the host: host-visible and coherent, cached where one is */
} vks_memory_use_t;

/* The index of the memory type the engine would allocate from for this use, among the types
 * in type_bits (VkMemoryRequirements.memoryTypeBits of the caller's buffer or image on the
 * context's device); -1 if none of them fits. */
int vks_context_memory_type(const vks_context_t *ctx, uint32_t type_bits, vks_memory_use_t use);

#ifdef __cplusplus
}
#endif
#endif
