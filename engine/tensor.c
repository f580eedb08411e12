/* Tensor descriptions, binding ranges, host <-> device copies of activations. */
#include "engine.h"
#include "half.h"

#include <stdlib.h>
#include <string.h>

uint32_t vks_plane_stride(uint32_t h, uint32_t w, uint32_t esize)
{
    return (uint32_t)vks_align((VkDeviceSize)h * w, VKS_PLANE_ALIGN * 4 / esize);
}

VkDeviceSize vks_tensor_bytes(const vks_tensor_t *t)
{
    return (VkDeviceSize)t->n * t->c * t->plane_stride * t->esize;
}

vks_tensor_t vks_tensor_act(vks_block_t *b, VkDeviceSize off, uint32_t n, uint32_t c, uint32_t h,
                            uint32_t w, uint32_t esize)
{
    return (vks_tensor_t){b, off, n, c, h, w, vks_plane_stride(h, w, esize), esize};
}

vks_tensor_t vks_tensor_flat(vks_block_t *b, VkDeviceSize off, uint32_t count)
{
    return (vks_tensor_t){b, off, 1, 1, 1, count, count, 4};
}


uint32_t vks_channels_per_binding(const vks_context_t *ctx, VkDeviceSize plane_bytes)
{
    VkDeviceSize n = plane_bytes ? ctx->max_binding / plane_bytes : 0;
    return n > UINT32_MAX ? UINT32_MAX : (uint32_t)n;
}

vks_binding_t vks_bind(const vks_tensor_t *t, bool write)
{
    return (vks_binding_t){t->block, t->offset, vks_tensor_bytes(t), write};
}

vks_binding_t vks_bind_channels(const vks_tensor_t *t, uint32_t n, uint32_t c0, uint32_t nc,
                                bool write)
{
    VkDeviceSize plane = (VkDeviceSize)t->plane_stride * t->esize;
    return (vks_binding_t){t->block, t->offset + ((VkDeviceSize)n * t->c + c0) * plane,
                           (VkDeviceSize)nc * plane, write};
}

/* Dense NCHW float <-> plane-padded layout of the tensor's element type (float or half): to_padded
 * reads floats from src and writes the padded layout to dst, else the other way round. */
static void repack(const vks_tensor_t *t, const void *src, void *dst, bool to_padded)
{
    size_t hw = (size_t)t->h * t->w, planes = (size_t)t->n * t->c;
    for (size_t p = 0; p < planes; p++) {
        if (t->esize == 4) {
            if (to_padded) memcpy((float *)dst + p * t->plane_stride, (const float *)src + p * hw, hw * sizeof(float));
            else memcpy((float *)dst + p * hw, (const float *)src + p * t->plane_stride, hw * sizeof(float));
        } else if (to_padded) {
            uint16_t *d = (uint16_t *)dst + p * t->plane_stride;
            const float *s = (const float *)src + p * hw;
            for (size_t i = 0; i < hw; i++) d[i] = vks_float_to_half(s[i]);
        } else {
            const uint16_t *s = (const uint16_t *)src + p * t->plane_stride;
            for (size_t i = 0; i < hw; i++) ((float *)dst)[p * hw + i] = vks_half_to_float(s[i]);
        }
    }
}

void vks_tensor_pack(const vks_tensor_t *t, const float *data, void *dst) { repack(t, data, dst, true); }

vks_status_t vks_tensor_upload(vks_context_t *ctx, const vks_tensor_t *t, const float *data)
{
    VkDeviceSize bytes = vks_tensor_bytes(t);
    void *tmp = calloc(1, bytes ? bytes : 1);
    if (!tmp) return vks_fail(VKS_ERR_OUT_OF_HOST_MEMORY, "out of host memory");
    repack(t, data, tmp, true);
    vks_status_t st = vks_block_upload(ctx, t->block, t->offset, tmp, bytes);
    free(tmp);
    return st;
}

vks_status_t vks_tensor_download(vks_context_t *ctx, const vks_tensor_t *t, float *data)
{
    VkDeviceSize bytes = vks_tensor_bytes(t);
    void *tmp = malloc(bytes ? bytes : 1);
    if (!tmp) return vks_fail(VKS_ERR_OUT_OF_HOST_MEMORY, "out of host memory");
    vks_status_t st = vks_block_download(ctx, t->block, t->offset, tmp, bytes);
    if (!st) repack(t, tmp, data, false);
    free(tmp);
    return st;
}
