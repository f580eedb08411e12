/* upsample_nearest: x2 nearest-neighbour. */
#include "op.h"

typedef struct { uint32_t h, w, in_stride, out_stride, wg_base[3]; } up_push_t;

vks_status_t vks_op_upsample_nearest(vks_rec_t *rec, const vks_tensor_t *in, const vks_tensor_t *out)
{
    const char *op = "upsample_nearest";
    if (in->n == 0 || in->c == 0 || in->h == 0 || in->w == 0 || out->n != in->n || out->c != in->c ||
        out->h != 2 * in->h || out->w != 2 * in->w)
        return vks_fail(VKS_ERR_SHAPE, "%s: [%u,%u,%u,%u] -> [%u,%u,%u,%u] is not x2", op, in->n, in->c, in->h,
                        in->w, out->n, out->c, out->h, out->w);
    const vks_tensor_t *ts[2] = {in, out};
    const vks_pipeline_t *pipe;
    vks_status_t st = vks_act_pipeline(rec, op, VKS_SHADER_UPSAMPLE_NEAREST, ts, 2,
                                       NULL, 0, 2, sizeof(up_push_t), &pipe);
    if (st) return st;
    uint32_t chunk = 0;
    if ((st = vks_chunk_channels(rec->ctx, op, ts, 2, &chunk))) return st;
    uint32_t ohw = out->h * out->w;
    for (uint32_t n = 0; n < in->n; n++)
        for (uint32_t c = 0; c < in->c; c += chunk) {
            uint32_t nc = in->c - c < chunk ? in->c - c : chunk;
            up_push_t push = {in->h, in->w, in->plane_stride, out->plane_stride, {0}};
            vks_binding_t b[2] = {vks_bind_channels(in, n, c, nc, false), vks_bind_channels(out, n, c, nc, true)};
            if ((st = vks_rec_dispatch(rec, pipe, b, 2, &push, vks_div_up(ohw, VKS_LOCAL_1D), nc, 1))) return st;
        }
    return VKS_OK;
}

/* ------------------------------------------------------------------ the layer */

static vks_status_t parse(const vks_loader_t *L, json_t *o, vks_layer_t *ly, vks_layer_refs_t *r, uint32_t cin)
{
    (void)r, (void)cin;
    return vks_ld_uint(L, o, "scale", 2, 2, 2, &ly->stride);
}

static vks_status_t shape(const vks_layer_t *ly, const vks_tensor_t *in, const vks_tensor_t *in2, uint32_t *oh,
                          uint32_t *ow)
{
    (void)in2;
    *oh = in->h * ly->stride;
    *ow = in->w * ly->stride;
    return VKS_OK;
}

static void band(const vks_layer_t *ly, const vks_tensor_t *in, uint32_t r0, uint32_t r1, vks_band_rows_t *b)
{
    vks_band_scatter(ly->stride, 1, 0, in, r0, r1, b);
}

static vks_status_t record(vks_rec_t *rec, const vks_layer_t *ly, const vks_layer_io_t *io)
{
    (void)ly;
    return vks_op_upsample_nearest(rec, io->in, io->out);
}

static void cost(const vks_layer_t *ly, const vks_tensor_t *in, const vks_tensor_t *out, vks_layer_profile_t *lp)
{
    (void)ly;
    lp->flops = 0;
    lp->bytes = in->esize * ((double)in->c * in->h * in->w + (double)out->c * out->h * out->w);
}

const vks_op_desc_t vks_op_upsample_nearest_desc = {
    .name = "upsample_nearest",
    .parse = parse,
    .shape = shape,
    .band = band,
    .record = record,
    .cost = cost,
};
