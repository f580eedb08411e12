/* conv2d: direct convolution, any kernel, strides 1..4 per axis, zero, reflection or edge padding. */
#include "op.h"

#include <string.h>

uint32_t vks_conv2d_out_side(uint32_t in, uint32_t k, uint32_t stride, int32_t pad_a, int32_t pad_b)
{
    int64_t padded = (int64_t)in + pad_a + pad_b;
    if (stride == 0 || padded < (int64_t)k) return 0;
    return (uint32_t)((padded - k) / stride + 1);
}

void vks_same_padding(uint32_t in, uint32_t k, uint32_t stride, int32_t *before, int32_t *after)
{
    int64_t out = (in + stride - 1) / stride;
    int64_t total = (out - 1) * stride + k - in;
    if (total < 0) total = 0;
    *before = (int32_t)(total / 2);
    *after = (int32_t)(total - total / 2);
}

bool vks_conv2d_padding_fits(const vks_conv2d_params_t *p, const vks_tensor_t *in)
{
    return p->pad_mode != VKS_PAD_REFLECT || ((uint32_t)p->pad_top < in->h && (uint32_t)p->pad_bottom < in->h &&
                           (uint32_t)p->pad_left < in->w && (uint32_t)p->pad_right < in->w);
}

vks_status_t vks_op_conv2d(vks_rec_t *rec, const vks_conv2d_params_t *p, const vks_tensor_t *in,
                           const vks_tensor_t *wt, const vks_tensor_t *bias, const vks_tensor_t *out)
{
    const char *op = "conv2d";
    uint32_t sw = p->stride_w ? p->stride_w : p->stride;
    if (p->stride < 1 || p->kh < 1 || p->kw < 1 || p->pad_top < 0 || p->pad_bottom < 0 ||
        p->pad_left < 0 || p->pad_right < 0)
        return vks_fail(VKS_ERR_INVALID_ARGUMENT, "%s: invalid kernel/stride/padding", op);
    if (in->n == 0 || in->c == 0 || in->h == 0 || in->w == 0)
        return vks_fail(VKS_ERR_SHAPE, "%s: zero-size input [%u,%u,%u,%u]", op, in->n, in->c, in->h, in->w);
    uint32_t oh = vks_conv2d_out_side(in->h, p->kh, p->stride, p->pad_top, p->pad_bottom);
    uint32_t ow = vks_conv2d_out_side(in->w, p->kw, sw, p->pad_left, p->pad_right);
    if (oh == 0 || ow == 0 || out->h != oh || out->w != ow || out->n != in->n)
        return vks_fail(VKS_ERR_SHAPE, "%s: input %ux%u, kernel %ux%u, stride %ux%u gives %ux%u, output is %ux%u",
                        op, in->h, in->w, p->kh, p->kw, p->stride, sw, oh, ow, out->h, out->w);
    if ((uint64_t)wt->w * wt->h * wt->c * wt->n != (uint64_t)out->c * in->c * p->kh * p->kw ||
        (bias && (uint64_t)bias->w * bias->h * bias->c * bias->n != out->c))
        return vks_fail(VKS_ERR_SHAPE, "%s: weight/bias size does not match %u->%u channels, %ux%u kernel",
                        op, in->c, out->c, p->kh, p->kw);
    if (!vks_conv2d_padding_fits(p, in))
        return vks_fail(VKS_ERR_SHAPE, "%s: reflection padding %d,%d,%d,%d needs an input larger than %ux%u",
                        op, p->pad_top, p->pad_bottom, p->pad_left, p->pad_right, in->h, in->w);
    if (p->var.algo == VKS_CONV_IGEMM) {
        vks_conv_igemm_t g = {p->kh, p->kw, p->stride, sw, p->pad_top, p->pad_left, p->pad_mode, p->act, false, p->var};
        return vks_conv_igemm_record(rec, op, &g, in, wt, bias, out);
    }
    vks_conv_tile_t tile = vks_conv_tile(out->c, ow, &p->var);
    uint32_t ubo_rows = vks_conv_ubo_rows(rec->ctx, wt, out->c);
    if (ubo_rows && ubo_rows < tile.oc) tile.oc = ubo_rows;
    uint32_t x_cpb = vks_conv_x_cpb(rec->ctx, in, ubo_rows);
    vks_conv_band_t band = {x_cpb ? 0 : vks_conv_x_band(rec->ctx, in, ubo_rows, p->kh, p->stride, tile), p->kh, p->stride,
                            p->pad_mode};
    if (band.rows) x_cpb = 1;   /* one channel's band a binding */
    uint32_t spec[11] = {p->kh, p->kw, sw, p->pad_mode, p->act, bias != NULL, tile.oc, p->stride,
                         tile.px, tile.lx, tile.ly};
    const vks_shader_id_t variants[3] = {VKS_SHADER_CONV2D, VKS_SHADER_CONV2D_UBO, VKS_SHADER_CONV2D_XUBO};
    const vks_pipeline_t *pipe;
    vks_status_t st = vks_conv_pipeline(rec, op, variants, spec, 11, ubo_rows, x_cpb, in, out, &pipe);
    if (st) return st;
    vks_conv_push_t push = {
        .h = in->h, .w = in->w, .in_stride = in->plane_stride,
        .oh = oh, .ow = ow, .out_stride = out->plane_stride,
        .c_total = in->c, .pad0 = p->pad_top, .pad1 = p->pad_left,
    };
    return vks_conv_record_chunks(rec, op, pipe, push, 0, 0, tile, ubo_rows, x_cpb, band.rows ? &band : NULL, NULL, in, wt, bias, out);
}

/* ------------------------------------------------------------------ the layer */

static vks_status_t parse(const vks_loader_t *L, json_t *o, vks_layer_t *ly, vks_layer_refs_t *r, uint32_t cin)
{
    vks_status_t st;
    uint64_t wd[4] = {0, cin, 0, 0};
    if ((st = vks_ld_tensor(L, o, "weight", false, 4, wd, &r->weight))) return st;
    if (wd[2] > VKS_MAX_KERNEL || wd[3] > VKS_MAX_KERNEL) return vks_ld_fail(L, "kernel larger than %d", VKS_MAX_KERNEL);
    ly->channels = (uint32_t)wd[0];
    ly->kh = (uint32_t)wd[2];
    ly->kw = (uint32_t)wd[3];
    uint64_t bd[1] = {ly->channels};
    if ((st = vks_ld_tensor(L, o, "bias", true, 1, bd, &r->bias))) return st;
    ly->has_bias = r->bias != NULL;
    if ((st = vks_ld_stride(L, o, 1, 4, &ly->stride, &ly->stride_w))) return st;
    json_t *pad = json_object_get(o, "padding");
    if (!pad || (json_is_string(pad) && !strcmp(json_string_value(pad), "same"))) {
        ly->pad_same = true;
    } else if (json_is_array(pad) && json_array_size(pad) == 4) {
        for (int d = 0; d < 4; d++) {
            json_t *p = json_array_get(pad, d);
            if (!json_is_integer(p) || json_integer_value(p) < 0 || json_integer_value(p) > VKS_MAX_KERNEL)
                return vks_ld_fail(L, "'padding' entries must be integers in 0..%d", VKS_MAX_KERNEL);
            ly->pad[d] = (int32_t)json_integer_value(p);
        }
    } else {
        return vks_ld_fail(L, "'padding' must be \"same\" or [top, bottom, left, right]");
    }
    json_t *pm = json_object_get(o, "pad_mode");
    static const char *const modes[3] = {"zero", "reflect", "edge"};
    ly->pmode = VKS_PAD_ZERO;
    if (pm) {
        uint32_t k = 0;
        while (k < 3 && !(json_is_string(pm) && !strcmp(json_string_value(pm), modes[k]))) k++;
        if (k == 3) return vks_ld_fail(L, "'pad_mode' must be \"zero\", \"reflect\" or \"edge\"");
        ly->pmode = k;
    }
    return VKS_OK;
}

/* The layer's padding for an input (explicit, or TensorFlow 'SAME'). */
static void pads(const vks_layer_t *ly, const vks_tensor_t *in, int32_t *pt, int32_t *pb, int32_t *pl, int32_t *pr)
{
    *pt = ly->pad[0], *pb = ly->pad[1], *pl = ly->pad[2], *pr = ly->pad[3];
    if (ly->pad_same) {
        vks_same_padding(in->h, ly->kh, ly->stride, pt, pb);
        vks_same_padding(in->w, ly->kw, ly->stride_w, pl, pr);
    }
}

static vks_status_t shape(const vks_layer_t *ly, const vks_tensor_t *in, const vks_tensor_t *in2, uint32_t *oh,
                          uint32_t *ow)
{
    (void)in2;
    int32_t pt, pb, pl, pr;
    pads(ly, in, &pt, &pb, &pl, &pr);
    *oh = vks_conv2d_out_side(in->h, ly->kh, ly->stride, pt, pb);
    *ow = vks_conv2d_out_side(in->w, ly->kw, ly->stride_w, pl, pr);
    if (!*oh || !*ow)
        return vks_fail(VKS_ERR_SHAPE, "a %ux%u input is smaller than the %ux%u kernel", in->h, in->w, ly->kh, ly->kw);
    if (ly->pmode == VKS_PAD_REFLECT && ((uint32_t)pt >= in->h || (uint32_t)pb >= in->h || (uint32_t)pl >= in->w || (uint32_t)pr >= in->w))
        return vks_fail(VKS_ERR_SHAPE, "reflection padding needs an input larger than %ux%u (kernel %ux%u)", in->h, in->w,
                        ly->kh, ly->kw);
    return VKS_OK;
}

/* A band of output rows reads exactly the input rows they depend on (the halo), with the
 * image's padding where the halo crosses its border. */
static void band(const vks_layer_t *ly, const vks_tensor_t *in, uint32_t r0, uint32_t r1, vks_band_rows_t *b)
{
    int32_t pt, pb, pl, pr;
    pads(ly, in, &pt, &pb, &pl, &pr);
    int64_t lo = (int64_t)r0 * ly->stride - pt, hi = (int64_t)(r1 - 1) * ly->stride - pt + ly->kh;
    b->a = (uint32_t)(lo < 0 ? 0 : lo);
    b->b = (uint32_t)(hi > in->h ? in->h : hi);
    b->pad_top = (int32_t)(b->a - lo);
    b->pad_bottom = (int32_t)(hi - b->b);
    b->oh = r1 - r0;
    b->d0 = 0;
}

/* 3x3 stride-1 layers also keep their weights Winograd-transformed (conv2d_winograd.c), unless
 * VKSTYLE_WINOGRAD=0 at load. */
static bool winograd_layer(const vks_layer_t *ly) { return ly->kh == 3 && ly->kw == 3 && ly->stride == 1 && ly->stride_w == 1; }

static void reserve_derived(vks_wbuild_t *wb, uint32_t layer)
{
    vks_layer_t *ly = &wb->m->layers[layer];
    const vks_st_tensor_t *w = wb->refs[layer].weight;
    uint32_t cin = w ? (uint32_t)(w->count / ((uint64_t)ly->channels * 9)) : 0;
    if (winograd_layer(ly) && vks_winograd_enabled() && w && vks_winograd_weights_fit(wb->m->ctx, ly->channels, cin))
        ly->wino = vks_wb_reserve(wb, (uint64_t)VKS_WINO_WEIGHT_PLANES * ly->channels * cin);
}

/* Tile m's transformed weights, computed from the uploaded ones (vks_op_winograd_weights) the
 * first time a recording runs the layer by that tile, in a submission of their own that has
 * finished before the recording's can run. A session reads one or two of the three tiles: all
 * three at load touched 76 MB for udnie, and cost 0.4 s of every vkstyle start on lavapipe
 * (1.45 s under ASan). Sessions of one model may record on several threads: ctx->weights_lock. */
static vks_status_t ensure_tile(vks_rec_t *rec, const vks_layer_t *ly, uint32_t m)
{
    vks_context_t *ctx = rec->ctx;
    uint32_t bit = vks_wino_tile_bit(m);
    if (rec->dry) return VKS_OK;
    if (mtx_lock(&ctx->weights_lock) != thrd_success) return vks_fail(VKS_ERR_VULKAN, "conv2d: cannot lock the context's derived weights");
    vks_status_t st = VKS_OK;
    if (!(ly->wino_ready & bit)) {
        uint32_t cin = (uint32_t)(ly->wino.w / VKS_WINO_WEIGHT_PLANES / ly->channels);
        vks_rec_t r;
        if (!(st = vks_rec_begin(ctx, &r, false))) {
            st = vks_op_winograd_weights(&r, &ly->weight, ly->channels, cin, &ly->wino, bit);
            if (!st) st = vks_rec_end(&r);
            if (!st) st = vks_submit_wait(ctx, &r.cmd, 1);
            vks_rec_destroy(&r);
        }
        if (!st) ((vks_layer_t *)ly)->wino_ready |= bit;   /* model.h: the one field written after load */
    }
    mtx_unlock(&ctx->weights_lock);
    return st;
}

static VkDeviceSize scratch(const vks_layer_t *ly, const vks_tensor_t *in, const vks_tensor_t *out)
{
    if (!winograd_layer(ly) || !ly->wino.block) return 0;
    return vks_winograd_scratch_bytes(in->c, out->c, out->h, out->w, out->esize);
}

static vks_status_t record(vks_rec_t *rec, const vks_layer_t *ly, const vks_layer_io_t *io)
{
    vks_conv2d_params_t p = {ly->kh, ly->kw, ly->stride, 0, 0, 0, 0, ly->pmode, ly->act, ly->stride_w, {0}};
    pads(ly, io->whole_in, &p.pad_top, &p.pad_bottom, &p.pad_left, &p.pad_right);
    if (io->band) {
        p.pad_top = io->band->pad_top;
        p.pad_bottom = io->band->pad_bottom;
    }
    if (io->var) p.var = *io->var;
    const vks_tensor_t *bias = ly->has_bias ? &ly->bias : NULL;
    bool wino = p.var.algo == VKS_CONV_AUTO || vks_conv_wino_m(p.var.algo);
    if (wino && ly->wino.block && vks_winograd_fits(rec->ctx, &p, io->in, &ly->wino, io->out, io->scratch)) {
        vks_status_t st = ensure_tile(rec, ly, vks_winograd_tile_of(&p, io->in->esize, io->out->h, io->out->w));
        return st ? st : vks_op_conv2d_winograd(rec, &p, io->in, &ly->wino, bias, io->out, io->scratch);
    }
    return vks_op_conv2d(rec, &p, io->in, &ly->weight, bias, io->out);
}

/* The tuner's candidates: Winograd F(2x2) and, in fp32, F(4x4) and F(6x6) where they fit, then the direct
 * convolution's tiles, then the implicit GEMM's. */
static uint32_t variants(const vks_context_t *ctx, const vks_layer_t *ly, const vks_layer_io_t *io,
                         vks_conv_variant_t *v, uint32_t max, uint32_t *heuristic)
{
    uint32_t n = 0, m = vks_winograd_tile(io->in->esize, io->out->h, io->out->w);
    vks_conv2d_params_t p = {ly->kh, ly->kw, ly->stride, 0, 0, 0, 0, ly->pmode, ly->act, ly->stride_w, {0}};
    pads(ly, io->in, &p.pad_top, &p.pad_bottom, &p.pad_left, &p.pad_right);
    static const uint32_t tiles[3] = {VKS_CONV_WINO2, VKS_CONV_WINO4, VKS_CONV_WINO6};
    for (uint32_t k = 0; k < 3 && ly->wino.block && n < max && (k == 0 || io->in->esize == 4); k++) {
        p.var = (vks_conv_variant_t){tiles[k], 0, 0, 0};
        if (vks_winograd_fits(ctx, &p, io->in, &ly->wino, io->out, io->scratch)) v[n++] = p.var;
    }
    /* the heuristic: Winograd with its tile where that fits, else the first direct tile */
    *heuristic = n;
    for (uint32_t k = 0; k < n; k++)
        if (v[k].algo == tiles[m / 2 - 1]) *heuristic = k;
    n += vks_conv_direct_variants(io->out->c, io->out->w, VKS_CONV_OC, v + n, max - n);
    return n + (vks_conv_igemm_offered(ctx) ? vks_conv_igemm_variants(ctx, io->out->c, v + n, max - n) : 0);
}

static void cost(const vks_layer_t *ly, const vks_tensor_t *in, const vks_tensor_t *out, vks_layer_profile_t *lp)
{
    vks_conv_cost(ly, in, out, (double)out->c * out->h * out->w * in->c * ly->kh * ly->kw, lp);
}

const vks_op_desc_t vks_op_conv2d_desc = {
    .name = "conv2d",
    .flags = VKS_OPF_FOLD_TARGET,
    .parse = parse,
    .reserve_derived = reserve_derived,
    .shape = shape,
    .band = band,
    .record = record,
    .scratch = scratch,
    .variants = variants,
    .cost = cost,
};
