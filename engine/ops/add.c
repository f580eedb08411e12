/* add: y = a + b, element-wise (residual connections not fused into a norm). */
#include "op.h"

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

/* ------------------------------------------------------------------ the layer */

static vks_status_t parse(const vks_loader_t *L, json_t *o, vks_layer_t *ly, vks_layer_refs_t *r, uint32_t cin)
{
    (void)o, (void)r;
    if (vks_ld_channels(L, ly->src2) != cin)
        return vks_ld_fail(L, "adds %u channels to %u", vks_ld_channels(L, ly->src2), cin);
    return VKS_OK;
}

static vks_status_t shape(const vks_layer_t *ly, const vks_tensor_t *in, const vks_tensor_t *in2, uint32_t *oh,
                          uint32_t *ow)
{
    (void)ly;
    if (in2->h != in->h || in2->w != in->w)
        return vks_fail(VKS_ERR_SHAPE, "adds %ux%u to %ux%u", in2->h, in2->w, in->h, in->w);
    *oh = in->h;
    *ow = in->w;
    return VKS_OK;
}

static vks_status_t record(vks_rec_t *rec, const vks_layer_t *ly, const vks_layer_io_t *io)
{
    (void)ly;
    return vks_op_add(rec, io->in, io->in2, io->out);
}

static void cost(const vks_layer_t *ly, const vks_tensor_t *in, const vks_tensor_t *out, vks_layer_profile_t *lp)
{
    (void)ly;
    double nout = (double)out->c * out->h * out->w;
    lp->flops = nout;
    lp->bytes = 3 * in->esize * nout;
}

const vks_op_desc_t vks_op_add_desc = {
    .name = "add",
    .flags = VKS_OPF_TWO_INPUTS,
    .parse = parse,
    .shape = shape,
    .record = record,
    .cost = cost,
};
