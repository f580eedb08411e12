/* Device memory: one VkBuffer + VkDeviceMemory per block; everything of one lifetime is
 * sub-allocated from a block by offset (tensor.c, graph.c). */
#include "engine.h"
#include "vkstyle/vkstyle_vulkan.h"

#include <string.h>
#include <sys/resource.h>

static int find_type(const vks_context_t *ctx, uint32_t bits, VkMemoryPropertyFlags want)
{
    for (uint32_t i = 0; i < ctx->mem.memoryTypeCount; i++)
        if ((bits & (1u << i)) && (ctx->mem.memoryTypes[i].propertyFlags & want) == want) return (int)i;
    return -1;
}

/* The memory type for a block of this kind among the types in bits; -1 if none fits. */
static int pick_type(const vks_context_t *ctx, uint32_t bits, vks_mem_kind_t kind)
{
    int type = -1;
    switch (kind) {
    case VKS_MEM_DEVICE:
        type = find_type(ctx, bits, VK_MEMORY_PROPERTY_DEVICE_LOCAL_BIT);
        if (type < 0) type = find_type(ctx, bits, 0);
        break;
    case VKS_MEM_UPLOAD:
        type = find_type(ctx, bits, VK_MEMORY_PROPERTY_HOST_VISIBLE_BIT | VK_MEMORY_PROPERTY_HOST_COHERENT_BIT);
        break;
    case VKS_MEM_DEVICE_MAPPED:
        type = find_type(ctx, bits, VK_MEMORY_PROPERTY_DEVICE_LOCAL_BIT | VK_MEMORY_PROPERTY_HOST_VISIBLE_BIT |
                                        VK_MEMORY_PROPERTY_HOST_COHERENT_BIT | VK_MEMORY_PROPERTY_HOST_CACHED_BIT);
        if (type < 0)
            type = find_type(ctx, bits, VK_MEMORY_PROPERTY_DEVICE_LOCAL_BIT | VK_MEMORY_PROPERTY_HOST_VISIBLE_BIT |
                                            VK_MEMORY_PROPERTY_HOST_COHERENT_BIT);
        break;
    case VKS_MEM_READBACK:
        type = find_type(ctx, bits,
                         VK_MEMORY_PROPERTY_HOST_VISIBLE_BIT | VK_MEMORY_PROPERTY_HOST_COHERENT_BIT |
                             VK_MEMORY_PROPERTY_HOST_CACHED_BIT);
        if (type < 0)
            type = find_type(ctx, bits,
                             VK_MEMORY_PROPERTY_HOST_VISIBLE_BIT | VK_MEMORY_PROPERTY_HOST_COHERENT_BIT);
        break;
    }
    return type;
}

int vks_context_memory_type(const vks_context_t *ctx, uint32_t type_bits, vks_memory_use_t use)
{
    if (!ctx) return -1;
    switch (use) {
    case VKS_MEMORY_DEVICE: return pick_type(ctx, type_bits, VKS_MEM_DEVICE);
    case VKS_MEMORY_UPLOAD: return pick_type(ctx, type_bits, VKS_MEM_UPLOAD);
    case VKS_MEMORY_READBACK: return pick_type(ctx, type_bits, VKS_MEM_READBACK);
    }
    return -1;
}

vks_status_t vks_block_create(vks_context_t *ctx, VkDeviceSize size, vks_mem_kind_t kind,
                              vks_block_t *out)
{
    vks_status_t st = VKS_OK;
    memset(out, 0, sizeof *out);
    if (size == 0) size = 256;
    VkBufferCreateInfo bci = {
        .sType = VK_STRUCTURE_TYPE_BUFFER_CREATE_INFO,
        .size = size,
        .usage = VK_BUFFER_USAGE_STORAGE_BUFFER_BIT | VK_BUFFER_USAGE_UNIFORM_BUFFER_BIT | VK_BUFFER_USAGE_TRANSFER_SRC_BIT |
                 VK_BUFFER_USAGE_TRANSFER_DST_BIT,
        .sharingMode = VK_SHARING_MODE_EXCLUSIVE,
    };
    VKS_VK_NEW(ctx->vk.vkCreateBuffer(ctx->device, &bci, NULL, &out->buffer), out->buffer);
    VkMemoryRequirements req;
    ctx->vk.vkGetBufferMemoryRequirements(ctx->device, out->buffer, &req);
    const int type = pick_type(ctx, req.memoryTypeBits, kind);
    if (type < 0) {
        st = vks_fail(VKS_ERR_UNSUPPORTED, "no suitable memory type for a %s block",
                      kind == VKS_MEM_DEVICE ? "device" : kind == VKS_MEM_DEVICE_MAPPED ? "mapped device" : "host-visible");
        goto fail;
    }
    if (ctx->workarounds & VKS_WA_MEMFD_FILE_SIZE_LIMIT) {   /* see driver_workarounds() in context.c */
        struct rlimit rl;
        if (getrlimit(RLIMIT_FSIZE, &rl) == 0 && rl.rlim_cur != RLIM_INFINITY && req.size > rl.rlim_cur) {
            st = vks_fail(VKS_ERR_OUT_OF_DEVICE_MEMORY, "%s backs device memory with a file, and the file-size "
                          "limit (ulimit -f) of %llu bytes is smaller than this %.1f MiB allocation",
                          ctx->info.name, (unsigned long long)rl.rlim_cur, (double)req.size / 1048576.0);
            goto fail;
        }
    }
    VkMemoryAllocateInfo mai = {
        .sType = VK_STRUCTURE_TYPE_MEMORY_ALLOCATE_INFO,
        .allocationSize = req.size,
        .memoryTypeIndex = (uint32_t)type,
    };
    VkResult r = ctx->vk.vkAllocateMemory(ctx->device, &mai, NULL, &out->memory);
    if (r < 0) out->memory = VK_NULL_HANDLE;   /* undefined on failure; the fail path frees it */
    if (r == VK_ERROR_OUT_OF_DEVICE_MEMORY || r == VK_ERROR_OUT_OF_HOST_MEMORY) {
        st = vks_fail(VKS_ERR_OUT_OF_DEVICE_MEMORY,
                      "out of device memory allocating %.1f MiB (%s)", (double)req.size / 1048576.0,
                      vks_vkresult_str(r));
        goto fail;
    }
    VKS_VK(r);
    VKS_VK(ctx->vk.vkBindBufferMemory(ctx->device, out->buffer, out->memory, 0));
    if (kind != VKS_MEM_DEVICE) VKS_VK(ctx->vk.vkMapMemory(ctx->device, out->memory, 0, VK_WHOLE_SIZE, 0, &out->map));
    out->size = size;
    return VKS_OK;
fail:
    vks_block_destroy(ctx, out);
    return st;
}

void vks_block_destroy(vks_context_t *ctx, vks_block_t *b)
{
    if (!b) return;
    if (b->map) ctx->vk.vkUnmapMemory(ctx->device, b->memory);
    if (b->buffer) ctx->vk.vkDestroyBuffer(ctx->device, b->buffer, NULL);
    if (b->memory) ctx->vk.vkFreeMemory(ctx->device, b->memory, NULL);
    memset(b, 0, sizeof *b);
}

/* One-shot copy between a staging block and a device block. */
static vks_status_t one_shot_copy(vks_context_t *ctx, const vks_block_t *src, VkDeviceSize so,
                                  const vks_block_t *dst, VkDeviceSize dof, VkDeviceSize size)
{
    vks_rec_t rec;
    vks_status_t st = vks_rec_begin(ctx, &rec, false);
    if (st) return st;
    VKS_TRY(vks_rec_copy(&rec, src, so, dst, dof, size));
    VKS_TRY(vks_rec_end(&rec));
    VKS_TRY(vks_submit_wait(ctx, &rec.cmd, 1));
fail:
    vks_rec_destroy(&rec);
    return st;
}

/* Uploads and downloads go through one staging block of at most VKS_STAGE_BYTES, a copy per
 * piece: a staging block the size of the transfer (83 MB for a model's weights) cost as much in
 * first-touch page faults as the copies themselves, on lavapipe where both are host memory. */
#define VKS_STAGE_BYTES ((VkDeviceSize)16 << 20)

static vks_status_t staged(vks_context_t *ctx, vks_block_t *blk, VkDeviceSize offset, void *data, VkDeviceSize size, bool up)
{
    if (offset + size > blk->size)
        return vks_fail(VKS_ERR_INVALID_ARGUMENT, "%s of %llu bytes at %llu past a %llu-byte block", up ? "upload" : "download",
                        (unsigned long long)size, (unsigned long long)offset, (unsigned long long)blk->size);
    if (size == 0) return VKS_OK;
    vks_block_t stage;
    VkDeviceSize piece = size < VKS_STAGE_BYTES ? size : VKS_STAGE_BYTES;
    vks_status_t st = vks_block_create(ctx, piece, up ? VKS_MEM_UPLOAD : VKS_MEM_READBACK, &stage);
    if (st) return st;
    for (VkDeviceSize done = 0; done < size && !st; done += piece) {
        VkDeviceSize n = size - done < piece ? size - done : piece;
        if (up) {
            memcpy(stage.map, (const char *)data + done, n);
            st = one_shot_copy(ctx, &stage, 0, blk, offset + done, n);
        } else {
            st = one_shot_copy(ctx, blk, offset + done, &stage, 0, n);
            if (!st) memcpy((char *)data + done, stage.map, n);
        }
    }
    if (!st && up) vks_count(&ctx->stats.uploads);
    vks_block_destroy(ctx, &stage);
    return st;
}

vks_status_t vks_block_upload(vks_context_t *ctx, vks_block_t *dst, VkDeviceSize offset,
                              const void *data, VkDeviceSize size)
{
    return staged(ctx, dst, offset, (void *)data, size, true);
}

vks_status_t vks_block_download(vks_context_t *ctx, vks_block_t *src, VkDeviceSize offset,
                                void *data, VkDeviceSize size)
{
    return staged(ctx, src, offset, data, size, false);
}
