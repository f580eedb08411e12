/* unpack_rgba8: planar float RGB -> 8-bit RGBA pixels (rounded, clamped), on the GPU. */
#include "ops.h"

typedef struct { uint32_t w, h, tw, stride; float scale, offset; uint32_t wg_base[3]; } unpack_push_t;

vks_status_t vks_op_unpack_rgba8(vks_rec_t *rec, const vks_tensor_t *in, uint32_t w, uint32_t h,
                                 bool swap_rb, float scale, float offset, const vks_binding_t *px)
{
    const char *op = "unpack_rgba8";
    if (w == 0 || h == 0 || in->c != 3 || in->n != 1 || in->h < h || in->w < w ||
        px->size < (VkDeviceSize)w * h * 4)
        return vks_fail(VKS_ERR_SHAPE, "%s: [%u,%u,%u,%u] into %ux%u pixels", op, in->n, in->c, in->h, in->w, w, h);
    if (px->size > rec->ctx->max_binding || vks_tensor_bytes(in) > rec->ctx->max_binding)
        return vks_fail(VKS_ERR_SHAPE, "%s: a %ux%u image exceeds the device's binding limit", op, w, h);
    uint32_t spec = swap_rb;
    const vks_pipeline_t *pipe;
    const vks_tensor_t *ts[1] = {in};
    vks_status_t st = vks_act_pipeline(rec, op, VKS_SHADER_UNPACK_RGBA8, ts, 1,
                                       &spec, 1, 2, sizeof(unpack_push_t), &pipe);
    if (st) return st;
    unpack_push_t push = {w, h, in->w, in->plane_stride, scale, offset, {0}};
    vks_binding_t b[2] = {vks_bind(in, false), *px};
    return vks_rec_dispatch(rec, pipe, b, 2, &push, vks_div_up(w * h, VKS_LOCAL_1D), 1, 1);
}
