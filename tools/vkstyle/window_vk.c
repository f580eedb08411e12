/* The window's Vulkan commands, buffers and barriers (see window_vk.h). */
#include "window_vk.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

int win_vk_load(win_vk_t *v, const vks_context_t *ctx, char *err, size_t errsz)
{
    memset(v, 0, sizeof *v);
    v->ctx = ctx;
    vks_context_vulkan(ctx, &v->vk);
    const char *missing = NULL;
#define WIN_LOAD(name, get, handle) \
    if (!(v->name = (PFN_##name)v->vk.get(v->vk.handle, #name)) && !missing) missing = #name;
#define WIN_LOAD_INSTANCE(name) WIN_LOAD(name, get_instance_proc_addr, instance)
#define WIN_LOAD_DEVICE(name) WIN_LOAD(name, get_device_proc_addr, device)
    WIN_INSTANCE_FNS(WIN_LOAD_INSTANCE)
    WIN_DEVICE_FNS(WIN_LOAD_DEVICE)
#undef WIN_LOAD_DEVICE
#undef WIN_LOAD_INSTANCE
#undef WIN_LOAD
    if (missing) return ERR("the Vulkan context was created without window support (%s missing)", missing);
    return 0;
}

void win_buf_free(const win_vk_t *v, win_buf_t *b)
{
    if (b->buf) v->vkDestroyBuffer(v->vk.device, b->buf, NULL);
    if (b->mem) v->vkFreeMemory(v->vk.device, b->mem, NULL);
    memset(b, 0, sizeof *b);
}

int win_buf_ensure(const win_vk_t *v, win_buf_t *b, VkDeviceSize size, VkBufferUsageFlags usage, win_buf_use_t use,
                   char *err, size_t errsz)
{
    if (b->buf && b->size >= size) return 0;
    win_buf_free(v, b);
    VkBufferCreateInfo bi = {.sType = VK_STRUCTURE_TYPE_BUFFER_CREATE_INFO, .size = size, .usage = usage,
                             .sharingMode = VK_SHARING_MODE_EXCLUSIVE};
    VKCHECK(v->vkCreateBuffer(v->vk.device, &bi, NULL, &b->buf));
    VkMemoryRequirements req;
    v->vkGetBufferMemoryRequirements(v->vk.device, b->buf, &req);
    const vks_memory_use_t mu = use == WIN_BUF_UPLOAD ? VKS_MEMORY_UPLOAD : use == WIN_BUF_READBACK ? VKS_MEMORY_READBACK
                                                                                                   : VKS_MEMORY_DEVICE;
    int type = vks_context_memory_type(v->ctx, req.memoryTypeBits, mu);
    if (type < 0) return ERR("no suitable memory type for a %s buffer", use == WIN_BUF_DEVICE ? "device" : "host");
    VkMemoryAllocateInfo ai = {.sType = VK_STRUCTURE_TYPE_MEMORY_ALLOCATE_INFO, .allocationSize = req.size,
                               .memoryTypeIndex = (uint32_t)type};
    VKCHECK(v->vkAllocateMemory(v->vk.device, &ai, NULL, &b->mem));
    VKCHECK(v->vkBindBufferMemory(v->vk.device, b->buf, b->mem, 0));
    if (use != WIN_BUF_DEVICE) VKCHECK(v->vkMapMemory(v->vk.device, b->mem, 0, VK_WHOLE_SIZE, 0, &b->map));
    b->size = size;
    return 0;
}

void win_memory_barrier(const win_vk_t *v, VkCommandBuffer cmd, VkPipelineStageFlags src_stage, VkAccessFlags src_access,
                        VkPipelineStageFlags dst_stage, VkAccessFlags dst_access)
{
    VkMemoryBarrier m = {.sType = VK_STRUCTURE_TYPE_MEMORY_BARRIER, .srcAccessMask = src_access, .dstAccessMask = dst_access};
    v->vkCmdPipelineBarrier(cmd, src_stage, dst_stage, 0, 1, &m, 0, NULL, 0, NULL);
}
