/* pad: the input with rows and columns added at its borders, a constant (zero mode), mirrored
 * (reflect) or repeated (edge). ONNX Pad and PyTorch's ReflectionPad2d / ReplicationPad2d. */
#include "op.h"

#include <stdio.h>
#include <string.h>

typedef struct {
    uint32_t h, w, in_stride, oh, ow, out_stride, whole_h, mode;
    int32_t top, left, oy0, iy0;
    float value;
    uint32_t wg_base[3];
} pad_push_t;
_Static_assert(sizeof(pad_push_t) <= 128, "push constants");

static const char *const mode_names[] = {"zero", "reflect", "edge"};

bool vks_pad_fits(uint32_t mode, const uint32_t pads[4], uint32_t h, uint32_t w)
{
    return mode != VKS_PAD_REFLECT || (pads[0] < h && pads[1] < h && pads[2] < w && pads[3] < w);
}

vks_status_t vks_op_pad(vks_rec_t *rec, const vks_pad_params_t *p, const vks_tensor_t *in, const vks_tensor_t *out)
{
    const char *op = "pad";
    if (p->mode > VKS_PAD_EDGE) return vks_fail(VKS_ERR_INVALID_ARGUMENT, "%s: unknown mode %u", op, p->mode);
    if (in->n == 0 || in->c == 0 || in->h == 0 || in->w == 0 || out->n != in->n || out->c != in->c)
        return vks_fail(VKS_ERR_SHAPE, "%s: [%u,%u,%u,%u] -> [%u,%u,%u,%u]", op, in->n, in->c, in->h, in->w, out->n,
                        out->c, out->h, out->w);
    bool whole = p->whole_h == 0;
    uint32_t wh = whole ? in->h : p->whole_h;
    uint64_t want_h = (uint64_t)wh + p->pads[0] + p->pads[1], want_w = (uint64_t)in->w + p->pads[2] + p->pads[3];
    if ((whole && out->h != want_h) || out->w != want_w || (!whole && (uint64_t)p->oy0 + out->h > want_h) ||
        p->iy0 + in->h > wh)
        return vks_fail(VKS_ERR_SHAPE, "%s: a %ux%u input padded by %u,%u,%u,%u is %llux%llu, the output is %ux%u", op,
                        wh, in->w, p->pads[0], p->pads[1], p->pads[2], p->pads[3], (unsigned long long)want_h,
                        (unsigned long long)want_w, out->h, out->w);
    if (!vks_pad_fits(p->mode, p->pads, wh, in->w))
        return vks_fail(VKS_ERR_SHAPE, "%s: reflection padding %u,%u,%u,%u needs an input larger than %ux%u", op,
                        p->pads[0], p->pads[1], p->pads[2], p->pads[3], wh, in->w);
    const vks_tensor_t *ts[2] = {in, out};
    const vks_pipeline_t *pipe;
    vks_status_t st = vks_act_pipeline(rec, op, VKS_SHADER_PAD, ts, 2, NULL, 0, 2, sizeof(pad_push_t), &pipe);
    if (st) return st;
    pad_push_t push = {in->h, in->w, in->plane_stride, out->h, out->w, out->plane_stride, wh, p->mode,
                       (int32_t)p->pads[0], (int32_t)p->pads[2], (int32_t)p->oy0, (int32_t)p->iy0,
                       p->mode == VKS_PAD_ZERO ? p->value : 0.0f, {0}};
    return vks_rec_channel_planes(rec, op, pipe, in, out, &push, out->h * out->w);
}

/* ------------------------------------------------------------------ the layer */

static vks_status_t parse(const vks_loader_t *L, json_t *o, vks_layer_t *ly, vks_layer_refs_t *r, uint32_t cin)
{
    (void)r, (void)cin;
    uint32_t pads[4];
    vks_status_t st = vks_ld_ints(L, o, "pads", 4, 0, 64, NULL, pads);
    if (st) return st;
    for (int d = 0; d < 4; d++) ly->pad[d] = (int32_t)pads[d];
    json_t *m = json_object_get(o, "mode");
    ly->pmode = VKS_PAD_ZERO;
    if (m) {
        uint32_t k = 0;
        while (k < 3 && !(json_is_string(m) && !strcmp(json_string_value(m), mode_names[k]))) k++;
        if (k == 3) return vks_ld_fail(L, "'mode' must be \"zero\", \"reflect\" or \"edge\"");
        ly->pmode = k;
    }
    if (ly->pmode != VKS_PAD_ZERO && json_object_get(o, "value"))
        return vks_ld_fail(L, "'value' is only for mode \"zero\"");
    return vks_ld_float(L, o, "value", 0.0f, -3.4e38f, 3.4e38f, &ly->pvalue);
}

static void pads_of(const vks_layer_t *ly, uint32_t pads[4])
{
    for (int d = 0; d < 4; d++) pads[d] = (uint32_t)ly->pad[d];
}

static vks_status_t shape(const vks_layer_t *ly, const vks_tensor_t *in, const vks_tensor_t *in2, uint32_t *oh,
                          uint32_t *ow)
{
    (void)in2;
    uint32_t pads[4];
    pads_of(ly, pads);
    if (!vks_pad_fits(ly->pmode, pads, in->h, in->w))
        return vks_fail(VKS_ERR_SHAPE, "reflection padding %u,%u,%u,%u needs an input larger than %ux%u", pads[0], pads[1],
                        pads[2], pads[3], in->h, in->w);
    *oh = in->h + pads[0] + pads[1];
    *ow = in->w + pads[2] + pads[3];
    return VKS_OK;
}

/* The whole input's row an output row reads (clamped into the input in zero mode). */
static int64_t src_row(const vks_layer_t *ly, const vks_tensor_t *in, int64_t r)
{
    int64_t i = r - ly->pad[0], n = in->h;
    if (ly->pmode == VKS_PAD_REFLECT) {
        i = i < 0 ? -i : i;
        return i < 2 * n - 2 - i ? i : 2 * n - 2 - i;
    }
    return i < 0 ? 0 : i >= n ? n - 1 : i;
}

/* A band of output rows [r0, r1) reads the input rows they come from (the source row is monotonic
 * but for the mirrored rows at the top and bottom: the band reads from the lowest to the highest);
 * it writes exactly its rows. */
static void band(const vks_layer_t *ly, const vks_tensor_t *in, uint32_t r0, uint32_t r1, vks_band_rows_t *b)
{
    int64_t lo = INT64_MAX, hi = -1;
    for (uint32_t r = r0; r < r1; r++) {
        int64_t s = src_row(ly, in, r);
        lo = s < lo ? s : lo;
        hi = s > hi ? s : hi;
    }
    b->a = (uint32_t)lo;
    b->b = (uint32_t)hi + 1;
    b->oh = r1 - r0;
    b->d0 = 0;
    b->pad_top = b->pad_bottom = 0;
}

static vks_status_t record(vks_rec_t *rec, const vks_layer_t *ly, const vks_layer_io_t *io)
{
    vks_pad_params_t p = {.mode = ly->pmode, .value = ly->pvalue};
    pads_of(ly, p.pads);
    if (io->band) {   /* a band of rows of the whole image (tiles) */
        p.whole_h = io->whole_in->h;
        p.oy0 = io->band->r0;
        p.iy0 = io->band->a;
    }
    return vks_op_pad(rec, &p, io->in, io->out);
}

static void cost(const vks_layer_t *ly, const vks_tensor_t *in, const vks_tensor_t *out, vks_layer_profile_t *lp)
{
    (void)in;
    lp->flops = 0;
    lp->bytes = 2.0 * out->esize * out->c * out->h * out->w;
    size_t n = strlen(lp->shape);
    snprintf(lp->shape + n, sizeof lp->shape - n, " %s", mode_names[ly->pmode]);
}

const vks_op_desc_t vks_op_pad_desc = {
    .name = "pad",
    .parse = parse,
    .shape = shape,
    .band = band,
    .record = record,
    .cost = cost,
};
