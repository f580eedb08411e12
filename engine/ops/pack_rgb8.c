/* pack_rgb8: 8-bit interleaved pixels -> planar float RGB, on the GPU. */
#include "ops.h"

typedef struct { uint32_t w, h, stride; float scale, offset; uint32_t wg_base[3]; } pack_push_t;

vks_status_t vks_op_pack_rgb8(vks_rec_t *rec, const vks_binding_t *px, uint32_t w, uint32_t h,
                              uint32_t channels, bool swap_rb, float scale, float offset,
                              const vks_tensor_t *out)
{
    const char *op = "pack_rgb8";
    if ((channels != 3 && channels != 4) || w == 0 || h == 0 || out->c != 3 || out->h != h || out->w != w ||
        out->n != 1 || px->size < (VkDeviceSize)w * h * channels)
        return vks_fail(VKS_ERR_SHAPE, "%s: %ux%u x%u pixels into [%u,%u,%u,%u]", op, w, h, channels, out->n,
                        out->c, out->h, out->w);
    if (px->size > rec->ctx->max_binding || vks_tensor_bytes(out) > rec->ctx->max_binding)
        return vks_fail(VKS_ERR_SHAPE, "%s: a %ux%u image exceeds the device's binding limit", op, w, h);
    uint32_t spec[2] = {channels, swap_rb};
    const vks_pipeline_t *pipe;
    const vks_tensor_t *ts[1] = {out};
    vks_status_t st = vks_act_pipeline(rec, op, VKS_SHADER_PACK_RGB8, ts, 1,
                                       spec, 2, 2, sizeof(pack_push_t), &pipe);
    if (st) return st;
    pack_push_t push = {w, h, out->plane_stride, scale, offset, {0}};
    vks_binding_t b[2] = {*px, vks_bind(out, true)};
    return vks_rec_dispatch(rec, pipe, b, 2, &push, vks_div_up(w * h, VKS_LOCAL_1D), 1, 1);
}
