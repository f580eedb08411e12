/* Inside window.c and window_blend.c: the Vulkan commands the window uses, host/device buffers
 * and barriers. Not for other files (the window's interface is window.h). */
#ifndef VKSTYLE_TOOLS_WINDOW_VK_H
#define VKSTYLE_TOOLS_WINDOW_VK_H

#include "errbuf.h"
#include "window.h"

#include "vkstyle/vkstyle_vulkan.h"

#include <stdbool.h>
#include <stddef.h>

#define VKCHECK(call)                                                              \
    do {                                                                           \
        VkResult r_ = (call);                                                      \
        if (r_ < 0) return ERR("%s failed (VkResult %d)", #call, (int)r_);          \
    } while (0)

/* The Vulkan commands the window uses, loaded for the context's own instance and device with
 * the loaders the interop header hands out (the library exports no vk* symbols). */
#define WIN_INSTANCE_FNS(X) \
    X(vkDestroySurfaceKHR) \
    X(vkGetPhysicalDeviceSurfaceCapabilitiesKHR) X(vkGetPhysicalDeviceSurfaceFormatsKHR) \
    X(vkGetPhysicalDeviceSurfacePresentModesKHR) X(vkGetPhysicalDeviceSurfaceSupportKHR)
#define WIN_DEVICE_FNS(X) \
    X(vkAcquireNextImageKHR) X(vkAllocateCommandBuffers) X(vkAllocateDescriptorSets) X(vkAllocateMemory) \
    X(vkBeginCommandBuffer) X(vkBindBufferMemory) X(vkBindImageMemory) X(vkCmdBindDescriptorSets) \
    X(vkCmdBindPipeline) X(vkCmdBlitImage) X(vkCmdClearColorImage) X(vkCmdCopyBuffer) \
    X(vkCmdCopyBufferToImage) X(vkCmdDispatch) X(vkCmdPipelineBarrier) X(vkCmdPushConstants) \
    X(vkCreateBuffer) X(vkCreateCommandPool) X(vkCreateComputePipelines) X(vkCreateDescriptorPool) \
    X(vkCreateDescriptorSetLayout) X(vkCreateFence) X(vkCreateImage) X(vkCreatePipelineLayout) \
    X(vkCreateSemaphore) X(vkCreateShaderModule) X(vkCreateSwapchainKHR) X(vkDestroyBuffer) \
    X(vkDestroyCommandPool) X(vkDestroyDescriptorPool) X(vkDestroyDescriptorSetLayout) X(vkDestroyFence) \
    X(vkDestroyImage) X(vkDestroyPipeline) X(vkDestroyPipelineLayout) X(vkDestroySemaphore) \
    X(vkDestroyShaderModule) X(vkDestroySwapchainKHR) X(vkDeviceWaitIdle) X(vkEndCommandBuffer) \
    X(vkFreeMemory) X(vkGetBufferMemoryRequirements) X(vkGetImageMemoryRequirements) X(vkGetSwapchainImagesKHR) \
    X(vkMapMemory) X(vkQueuePresentKHR) X(vkQueueSubmit) X(vkResetCommandBuffer) \
    X(vkResetFences) X(vkUpdateDescriptorSets) X(vkWaitForFences)

typedef struct win_vk {
    const vks_context_t *ctx;
    vks_vulkan_handles_t vk;
#define WIN_X_FN(name) PFN_##name name;
    WIN_INSTANCE_FNS(WIN_X_FN)
    WIN_DEVICE_FNS(WIN_X_FN)
#undef WIN_X_FN
} win_vk_t;

/* Load the commands for the context's instance and device; fails naming one that is missing
 * (a context created without the window's instance extensions or swapchain = 1). */
int win_vk_load(win_vk_t *v, const vks_context_t *ctx, char *err, size_t errsz);

/* A buffer with its own memory; host ones are mapped. */
typedef struct {
    VkBuffer buf;
    VkDeviceMemory mem;
    VkDeviceSize size;
    void *map;
} win_buf_t;

/* Make b at least size bytes: for the GPU (host false), or mapped for the host to write
 * (WIN_BUF_UPLOAD) or read (WIN_BUF_READBACK), memory types chosen as the engine chooses them
 * (vks_context_memory_type). */
typedef enum { WIN_BUF_DEVICE, WIN_BUF_UPLOAD, WIN_BUF_READBACK } win_buf_use_t;
int win_buf_ensure(const win_vk_t *v, win_buf_t *b, VkDeviceSize size, VkBufferUsageFlags usage, win_buf_use_t use,
                   char *err, size_t errsz);
void win_buf_free(const win_vk_t *v, win_buf_t *b);

void win_memory_barrier(const win_vk_t *v, VkCommandBuffer cmd, VkPipelineStageFlags src_stage, VkAccessFlags src_access,
                        VkPipelineStageFlags dst_stage, VkAccessFlags dst_access);

/* Blending the stylized frame with the source frame below strength 1 (window_blend.c): a
 * compute pipeline, the uploaded source frame and the blended frame. */
typedef struct win_blend {
    VkDescriptorSetLayout dsl;
    VkPipelineLayout playout;
    VkPipeline pipeline;
    VkDescriptorPool dpool;
    VkDescriptorSet dset;
    win_buf_t src, mixed;
} win_blend_t;

/* Make the pipeline and buffers (once, or larger), upload f's source frame and point the
 * descriptors at f's stylized frame. The blended frame will be in b->mixed.buf at offset 0. */
int win_blend_prepare(win_blend_t *b, const win_vk_t *v, const win_frame_t *f, char *err, size_t errsz);
/* Record the blend into cmd, writing out_format's layout, and a barrier for the copies after it. */
void win_blend_record(const win_blend_t *b, const win_vk_t *v, VkCommandBuffer cmd, const win_frame_t *f,
                      vks_pixel_format_t out_format);
void win_blend_destroy(win_blend_t *b, const win_vk_t *v);

#endif
