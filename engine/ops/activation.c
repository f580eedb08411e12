/* activation: y = act(x) * scale + offset, element-wise. */
#include "op.h"

typedef struct { uint32_t hw, stride; float scale, offset; uint32_t wg_base[3]; } act_push_t;
_Static_assert(sizeof(act_push_t) <= 128, "push constants");

vks_status_t vks_op_activation(vks_rec_t *rec, const vks_tensor_t *in, const vks_tensor_t *out,
                               uint32_t act, float scale, float offset)
{
    const char *op = "activation";
    vks_status_t st = vks_check_same_shape(op, in, out);
    if (st) return st;
    const vks_tensor_t *ts[2] = {in, out};
    const vks_pipeline_t *pipe;
    if ((st = vks_act_pipeline(rec, op, VKS_SHADER_ACTIVATION, ts, 2,
                               &act, 1, 2, sizeof(act_push_t), &pipe))) return st;
    uint32_t chunk = 0;
    if ((st = vks_chunk_channels(rec->ctx, op, ts, 2, &chunk))) return st;
    uint32_t hw = in->h * in->w;
    for (uint32_t n = 0; n < in->n; n++)
        for (uint32_t c = 0; c < in->c; c += chunk) {
            uint32_t nc = in->c - c < chunk ? in->c - c : chunk;
            act_push_t push = {hw, in->plane_stride, scale, offset, {0}};
            vks_binding_t b[2] = {vks_bind_channels(in, n, c, nc, false), vks_bind_channels(out, n, c, nc, true)};
            if ((st = vks_rec_dispatch(rec, pipe, b, 2, &push, vks_div_up(hw, VKS_LOCAL_1D), nc, 1))) return st;
        }
    return VKS_OK;
}

/* ------------------------------------------------------------------ the layer */

static vks_status_t parse(const vks_loader_t *L, json_t *o, vks_layer_t *ly, vks_layer_refs_t *r, uint32_t cin)
{
    (void)r, (void)cin;
    vks_status_t st = vks_ld_float(L, o, "scale", 1.0f, -1e6f, 1e6f, &ly->scale);
    return st ? st : vks_ld_float(L, o, "offset", 0.0f, -1e6f, 1e6f, &ly->offset);
}

static vks_status_t record(vks_rec_t *rec, const vks_layer_t *ly, const vks_layer_io_t *io)
{
    return vks_op_activation(rec, io->in, io->out, ly->act, ly->scale, ly->offset);
}

static void cost(const vks_layer_t *ly, const vks_tensor_t *in, const vks_tensor_t *out, vks_layer_profile_t *lp)
{
    (void)ly;
    double nout = (double)out->c * out->h * out->w;
    lp->flops = 2 * nout;
    lp->bytes = 2 * in->esize * nout;
}

const vks_op_desc_t vks_op_activation_desc = {
    .name = "activation",
    .parse = parse,
    .record = record,
    .cost = cost,
};
