/* add: y = a + b, element-wise (residual connections not fused into a norm). */
#include "ops.h"

typedef struct { uint32_t hw, stride, wg_base[3]; } add_push_t;

vks_status_t vks_op_add(vks_rec_t *rec, const vks_tensor_t *a, const vks_tensor_t *b,
                        const vks_tensor_t *out)
{
    const char *op = "add";
    vks_status_t st = vks_check_same_shape(op, a, out);
    if (!st) st = vks_check_same_shape(op, b, out);
    if (st) return st;
    const vks_tensor_t *ts[3] = {a, b, out};
    const vks_pipeline_t *pipe;
    if ((st = vks_act_pipeline(rec, op, VKS_SHADER_ADD, ts, 3,
                               NULL, 0, 3, sizeof(add_push_t), &pipe))) return st;
    uint32_t chunk = 0;
    if ((st = vks_chunk_channels(rec->ctx, op, ts, 3, &chunk))) return st;
    uint32_t hw = a->h * a->w;
    for (uint32_t n = 0; n < a->n; n++)
        for (uint32_t c = 0; c < a->c; c += chunk) {
            uint32_t nc = a->c - c < chunk ? a->c - c : chunk;
            add_push_t push = {hw, a->plane_stride, {0}};
            vks_binding_t bd[3] = {vks_bind_channels(a, n, c, nc, false), vks_bind_channels(b, n, c, nc, false),
                                   vks_bind_channels(out, n, c, nc, true)};
            if ((st = vks_rec_dispatch(rec, pipe, bd, 3, &push, vks_div_up(hw, VKS_LOCAL_1D), nc, 1))) return st;
        }
    return VKS_OK;
}
