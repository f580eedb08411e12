/* upsample_nearest: nearest-neighbour by integer factors (x2 by default). */
#include "op.h"

#include <stdio.h>
#include <string.h>

typedef struct { uint32_t h, w, in_stride, out_stride, sh, sw, wg_base[3]; } up_push_t;
_Static_assert(sizeof(up_push_t) <= 128, "push constants");

vks_status_t vks_op_upsample_nearest(vks_rec_t *rec, const vks_tensor_t *in, const vks_tensor_t *out)
{
    const char *op = "upsample_nearest";
    if (in->n == 0 || in->c == 0 || in->h == 0 || in->w == 0 || out->n != in->n || out->c != in->c ||
        out->h % in->h || out->w % in->w || out->h / in->h < 1 || out->h / in->h > VKS_MAX_UPSAMPLE ||
        out->w / in->w < 1 || out->w / in->w > VKS_MAX_UPSAMPLE)
        return vks_fail(VKS_ERR_SHAPE, "%s: [%u,%u,%u,%u] -> [%u,%u,%u,%u] is not an upsampling by 1..%d", op, in->n,
                        in->c, in->h, in->w, out->n, out->c, out->h, out->w, VKS_MAX_UPSAMPLE);
    const vks_tensor_t *ts[2] = {in, out};
    const vks_pipeline_t *pipe;
    vks_status_t st = vks_act_pipeline(rec, op, VKS_SHADER_UPSAMPLE_NEAREST, ts, 2,
                                       NULL, 0, 2, sizeof(up_push_t), &pipe);
    if (st) return st;
    up_push_t push = {in->h, in->w, in->plane_stride, out->plane_stride, out->h / in->h, out->w / in->w, {0}};
    return vks_rec_channel_planes(rec, op, pipe, in, out, &push, out->h * out->w);
}

/* ------------------------------------------------------------------ the layer */

static vks_status_t parse(const vks_loader_t *L, json_t *o, vks_layer_t *ly, vks_layer_refs_t *r, uint32_t cin)
{
    (void)r, (void)cin;
    json_t *v = json_object_get(o, "scale");
    if (v && !json_is_integer(v)) {   /* [sh, sw] */
        uint32_t s[2];
        if (!json_is_array(v) || vks_ld_ints(L, o, "scale", 2, 1, VKS_MAX_UPSAMPLE, NULL, s))
            return vks_ld_fail(L, "'scale' must be an integer in 1..%d or [sh, sw] of them", VKS_MAX_UPSAMPLE);
        ly->stride = s[0];
        ly->stride_w = s[1];
        return VKS_OK;
    }
    vks_status_t st = vks_ld_uint(L, o, "scale", 2, 1, VKS_MAX_UPSAMPLE, &ly->stride);
    ly->stride_w = ly->stride;
    return st;
}

static vks_status_t shape(const vks_layer_t *ly, const vks_tensor_t *in, const vks_tensor_t *in2, uint32_t *oh,
                          uint32_t *ow)
{
    (void)in2;
    *oh = in->h * ly->stride;
    *ow = in->w * ly->stride_w;
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
    size_t n = strlen(lp->shape);
    snprintf(lp->shape + n, sizeof lp->shape - n, " x%ux%u", ly->stride, ly->stride_w);
}

const vks_op_desc_t vks_op_upsample_nearest_desc = {
    .name = "upsample_nearest",
    .parse = parse,
    .shape = shape,
    .band = band,
    .record = record,
    .cost = cost,
};
