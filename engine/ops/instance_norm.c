/* instance_norm: per sample and channel over H x W, one workgroup per plane. */
#include "ops.h"

typedef struct { uint32_t hw, stride, gamma_off, beta_off; float eps; uint32_t wg_base[3]; } in_push_t;
_Static_assert(sizeof(in_push_t) <= 128, "push constants");

vks_status_t vks_op_instance_norm(vks_rec_t *rec, const vks_tensor_t *in, const vks_tensor_t *out,
                                  const vks_tensor_t *gamma, uint32_t gamma_off,
                                  const vks_tensor_t *beta, uint32_t beta_off, float eps,
                                  uint32_t act, const vks_tensor_t *residual)
{
    const char *op = "instance_norm";
    vks_status_t st = vks_check_same_shape(op, in, out);
    if (!st && residual) st = vks_check_same_shape(op, residual, out);
    if (st) return st;
    if (!(eps > 0.0f) || eps != eps || eps > 1e30f)
        return vks_fail(VKS_ERR_INVALID_ARGUMENT, "%s: eps must be a positive finite number", op);
    if ((uint64_t)gamma_off + in->c > (uint64_t)gamma->n * gamma->c * gamma->h * gamma->w ||
        (uint64_t)beta_off + in->c > (uint64_t)beta->n * beta->c * beta->h * beta->w)
        return vks_fail(VKS_ERR_SHAPE, "%s: gamma/beta have fewer than %u channels", op, in->c);
    uint32_t spec[2] = {act, residual != NULL};
    const vks_tensor_t *ts[3] = {in, out, residual};
    const vks_pipeline_t *pipe;
    if ((st = vks_act_pipeline(rec, op, VKS_SHADER_INSTANCE_NORM, ts, 3,
                               spec, 2, 5, sizeof(in_push_t), &pipe))) return st;
    uint32_t chunk = 0;
    if ((st = vks_chunk_channels(rec->ctx, op, ts, 3, &chunk))) return st;
    for (uint32_t n = 0; n < in->n; n++)
        for (uint32_t c = 0; c < in->c; c += chunk) {
            uint32_t nc = in->c - c < chunk ? in->c - c : chunk;
            in_push_t push = {in->h * in->w, in->plane_stride, gamma_off + c, beta_off + c, eps, {0}};
            vks_binding_t b[5] = {
                vks_bind_channels(in, n, c, nc, false),
                vks_bind_channels(out, n, c, nc, true),
                vks_bind(gamma, false),
                vks_bind(beta, false),
                vks_bind_channels(residual ? residual : in, n, c, nc, false),
            };
            if ((st = vks_rec_dispatch(rec, pipe, b, 5, &push, nc, 1, 1))) return st;
        }
    return VKS_OK;
}
