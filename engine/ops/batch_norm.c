/* batch_norm: inference batch norm with running statistics; and its folding into a conv. */
#include "ops.h"

#include <math.h>

typedef struct { uint32_t hw, stride, channels, c0; float eps; uint32_t wg_base[3]; } bn_push_t;
_Static_assert(sizeof(bn_push_t) <= 128, "push constants");

void vks_fold_batch_norm(float *wt, float *bias, uint32_t cout, uint32_t per_out, const float *mean,
                         const float *var, const float *gamma, const float *beta, float eps)
{
    for (uint32_t o = 0; o < cout; o++) {
        double scale = gamma[o] / sqrt((double)var[o] + eps);
        for (uint32_t i = 0; i < per_out; i++) wt[(size_t)o * per_out + i] = (float)(wt[(size_t)o * per_out + i] * scale);
        bias[o] = (float)((bias[o] - mean[o]) * scale + beta[o]);
    }
}

vks_status_t vks_op_batch_norm(vks_rec_t *rec, const vks_tensor_t *in, const vks_tensor_t *out,
                               const vks_tensor_t *params, float eps, uint32_t act,
                               const vks_tensor_t *residual)
{
    const char *op = "batch_norm";
    vks_status_t st = vks_check_same_shape(op, in, out);
    if (!st && residual) st = vks_check_same_shape(op, residual, out);
    if (st) return st;
    if (!(eps > 0.0f) || eps > 1e30f)
        return vks_fail(VKS_ERR_INVALID_ARGUMENT, "%s: eps must be a positive finite number", op);
    if ((uint64_t)params->n * params->c * params->h * params->w != 4ull * in->c)
        return vks_fail(VKS_ERR_SHAPE, "%s: parameters are not [4][%u]", op, in->c);
    uint32_t spec[2] = {act, residual != NULL};
    const vks_tensor_t *ts[3] = {in, out, residual};
    const vks_pipeline_t *pipe;
    if ((st = vks_act_pipeline(rec, op, VKS_SHADER_BATCH_NORM, ts, 3,
                               spec, 2, 4, sizeof(bn_push_t), &pipe))) return st;
    uint32_t chunk = 0;
    if ((st = vks_chunk_channels(rec->ctx, op, ts, 3, &chunk))) return st;
    uint32_t hw = in->h * in->w;
    for (uint32_t n = 0; n < in->n; n++)
        for (uint32_t c = 0; c < in->c; c += chunk) {
            uint32_t nc = in->c - c < chunk ? in->c - c : chunk;
            bn_push_t push = {hw, in->plane_stride, in->c, c, eps, {0}};
            vks_binding_t b[4] = {
                vks_bind_channels(in, n, c, nc, false),
                vks_bind_channels(out, n, c, nc, true),
                vks_bind(params, false),
                vks_bind_channels(residual ? residual : in, n, c, nc, false),
            };
            if ((st = vks_rec_dispatch(rec, pipe, b, 4, &push, vks_div_up(hw, VKS_LOCAL_1D), nc, 1))) return st;
        }
    return VKS_OK;
}
