/* yuyv_to_rgb: webcam 4:2:2 YUYV -> planar float RGB, on the GPU. */
#include "ops.h"

typedef struct { uint32_t w, h, stride; float scale, offset; uint32_t wg_base[3]; } yuyv_push_t;

vks_status_t vks_op_yuyv_to_rgb(vks_rec_t *rec, const vks_binding_t *px, uint32_t w, uint32_t h, float scale,
                                float offset, const vks_tensor_t *out)
{
    const char *op = "yuyv_to_rgb";
    if (w == 0 || h == 0 || w % 2 || out->c != 3 || out->h != h || out->w != w || out->n != 1 ||
        px->size < (VkDeviceSize)w * h * 2)
        return vks_fail(VKS_ERR_SHAPE, "%s: %ux%u YUYV (width must be even) into [%u,%u,%u,%u]", op, w, h, out->n,
                        out->c, out->h, out->w);
    if (px->size > rec->ctx->max_binding || vks_tensor_bytes(out) > rec->ctx->max_binding)
        return vks_fail(VKS_ERR_SHAPE, "%s: a %ux%u frame exceeds the device's binding limit", op, w, h);
    const vks_pipeline_t *pipe;
    const vks_tensor_t *ts[1] = {out};
    vks_status_t st = vks_act_pipeline(rec, op, VKS_SHADER_YUYV_TO_RGB, ts, 1,
                                       NULL, 0, 2, sizeof(yuyv_push_t), &pipe);
    if (st) return st;
    yuyv_push_t push = {w, h, out->plane_stride, scale, offset, {0}};
    vks_binding_t b[2] = {*px, vks_bind(out, true)};
    return vks_rec_dispatch(rec, pipe, b, 2, &push, vks_div_up(w / 2 * h, VKS_LOCAL_1D), 1, 1);
}
