/* conv2d_transpose: out[s*i + k - pad] += x[i] * w[k]. Two forms in the model: "padding" p (the
 * output exactly stride x the input), or ONNX ConvTranspose's "pads" and "output_padding" (the
 * output (in - 1) * s + k - pads + output padding), strides per axis. */
#include "op.h"

#include <string.h>

vks_status_t vks_op_conv2d_transpose(vks_rec_t *rec, const vks_conv2d_transpose_params_t *p,
                                     const vks_tensor_t *in, const vks_tensor_t *wt,
                                     const vks_tensor_t *bias, const vks_tensor_t *out)
{
    const char *op = "conv2d_transpose";
    if (p->stride_h < 1 || p->stride_w < 1 || p->kh < 1 || p->kw < 1 || p->pad_top < 0 || p->pad_left < 0)
        return vks_fail(VKS_ERR_INVALID_ARGUMENT, "%s: invalid kernel/stride/padding", op);
    if (in->n == 0 || in->c == 0 || in->h == 0 || in->w == 0)
        return vks_fail(VKS_ERR_SHAPE, "%s: zero-size input [%u,%u,%u,%u]", op, in->n, in->c, in->h, in->w);
    /* the largest output: the input's last row's taps plus stride - 1 rows of output padding */
    int64_t max_h = (int64_t)(in->h - 1) * p->stride_h + p->kh - p->pad_top + p->stride_h - 1;
    int64_t max_w = (int64_t)(in->w - 1) * p->stride_w + p->kw - p->pad_left + p->stride_w - 1;
    if (out->h == 0 || out->w == 0 || out->h > max_h || out->w > max_w || out->n != in->n)
        return vks_fail(VKS_ERR_SHAPE, "%s: input %ux%u with stride %ux%u and padding %d,%d gives at most %lldx%lld, "
                        "output is %ux%u", op, in->h, in->w, p->stride_h, p->stride_w, p->pad_top, p->pad_left,
                        (long long)max_h, (long long)max_w, out->h, out->w);
    if ((uint64_t)wt->w * wt->h * wt->c * wt->n != (uint64_t)out->c * in->c * p->kh * p->kw ||
        (bias && (uint64_t)bias->w * bias->h * bias->c * bias->n != out->c))
        return vks_fail(VKS_ERR_SHAPE, "%s: weight/bias size does not match %u->%u channels, %ux%u kernel",
                        op, in->c, out->c, p->kh, p->kw);
    if (p->var.algo == VKS_CONV_IGEMM) {
        vks_conv_igemm_t g = {p->kh, p->kw, p->stride_h, p->stride_w, p->pad_top, p->pad_left, VKS_PAD_ZERO, p->act,
                              true, p->var};
        return vks_conv_igemm_record(rec, op, &g, in, wt, bias, out);
    }
    vks_conv_variant_t var = p->var;
    uint32_t cols = vks_div_up(out->w, p->stride_w);
    if (!var.oc) var.oc = vks_conv_transpose_oc(rec->ctx, out->c, cols);
    vks_conv_tile_t tile = vks_conv_tile(out->c, cols, &var);
    uint32_t ubo_rows = vks_conv_ubo_rows(rec->ctx, wt, out->c);
    if (ubo_rows && ubo_rows < tile.oc) tile.oc = ubo_rows;
    /* the input from uniform buffers only where one holds at least 2 planes: with 1, a layer of many
     * input channels runs in chunks of 11 that each read and write the whole output, 4x the input's
     * pixels at stride 2 (udnie's deconv2 at 256x256, 6 chunks: 63.5 ms, from storage 48.4; deconv1
     * at 512x512, 12 chunks: 262 ms, from storage 196; benchmarks/README.md) */
    uint32_t x_cpb = vks_conv_x_cpb(rec->ctx, in, ubo_rows);
    if (x_cpb < 2) x_cpb = 0;
    uint32_t spec[10] = {p->kh, p->kw, p->stride_w, p->act, bias != NULL, tile.oc, p->stride_h,
                         tile.px, tile.lx, tile.ly};
    const vks_shader_id_t variants[3] = {VKS_SHADER_CONV2D_TRANSPOSE, VKS_SHADER_CONV2D_TRANSPOSE_UBO,
                                         VKS_SHADER_CONV2D_TRANSPOSE_XUBO};
    const vks_pipeline_t *pipe;
    vks_status_t st = vks_conv_pipeline(rec, op, variants, spec, 10, ubo_rows, x_cpb, in, out, &pipe);
    if (st) return st;
    vks_conv_push_t push = {
        .h = in->h, .w = in->w, .in_stride = in->plane_stride,
        .oh = out->h, .ow = out->w, .out_stride = out->plane_stride,
        .c_total = in->c, .pad0 = p->pad_top, .pad1 = p->pad_left,
    };
    return vks_conv_record_chunks(rec, op, pipe, push, p->stride_w, p->stride_h, tile, ubo_rows, x_cpb, NULL, NULL, in, wt, bias, out);
}

void vks_conv2d_transpose_permute(const float *src, float *dst, uint32_t cin, uint32_t cout, uint32_t taps)
{
    for (uint32_t i = 0; i < cin; i++)
        for (uint32_t o = 0; o < cout; o++)
            for (uint32_t t = 0; t < taps; t++)
                dst[((size_t)o * cin + i) * taps + t] = src[((size_t)i * cout + o) * taps + t];
}

/* ------------------------------------------------------------------ the layer */

static vks_status_t parse(const vks_loader_t *L, json_t *o, vks_layer_t *ly, vks_layer_refs_t *r, uint32_t cin)
{
    vks_status_t st;
    uint64_t wd[4] = {cin, 0, 0, 0};
    if ((st = vks_ld_tensor(L, o, "weight", false, 4, wd, &r->weight))) return st;
    if (wd[2] > VKS_MAX_KERNEL || wd[3] > VKS_MAX_KERNEL) return vks_ld_fail(L, "kernel larger than %d", VKS_MAX_KERNEL);
    ly->channels = (uint32_t)wd[1];
    ly->kh = (uint32_t)wd[2];
    ly->kw = (uint32_t)wd[3];
    uint64_t bd[1] = {ly->channels};
    if ((st = vks_ld_tensor(L, o, "bias", true, 1, bd, &r->bias))) return st;
    ly->has_bias = r->bias != NULL;
    if ((st = vks_ld_stride(L, o, 2, 4, &ly->stride, &ly->stride_w))) return st;
    json_t *pads = json_object_get(o, "pads");
    ly->tpads = pads != NULL;
    if (!pads) {   /* the output stride x the input */
        uint32_t p;
        if ((st = vks_ld_uint(L, o, "padding", 0, 0, (uint32_t)(ly->kh < ly->kw ? ly->kh : ly->kw) - 1, &p))) return st;
        if (json_object_get(o, "output_padding")) return vks_ld_fail(L, "'output_padding' needs 'pads'");
        ly->tpad = (int32_t)p;
        return VKS_OK;
    }
    if (json_object_get(o, "padding")) return vks_ld_fail(L, "'padding' and 'pads' exclude each other");
    uint32_t pads4[4];
    if ((st = vks_ld_ints(L, o, "pads", 4, 0, VKS_MAX_KERNEL, NULL, pads4))) return st;
    for (int d = 0; d < 4; d++) {
        uint32_t k = d < 2 ? ly->kh : ly->kw;
        if (pads4[d] >= k) return vks_ld_fail(L, "'pads' entry %d (%u) must be smaller than the kernel's side %u", d, pads4[d], k);
        ly->pad[d] = (int32_t)pads4[d];
    }
    uint32_t zero[2] = {0, 0};
    if ((st = vks_ld_ints(L, o, "output_padding", 2, 0, 3, zero, ly->opad))) return st;
    if (ly->opad[0] >= ly->stride || ly->opad[1] >= ly->stride_w)
        return vks_ld_fail(L, "'output_padding' [%u, %u] must be smaller than the stride [%u, %u]", ly->opad[0], ly->opad[1],
                           ly->stride, ly->stride_w);
    return VKS_OK;
}

/* The weights as read are PyTorch's [cin][cout][kh][kw]: permuted to [cout][cin][kh][kw]. */
static vks_status_t load(vks_wbuild_t *wb, uint32_t i)
{
    const vks_layer_t *ly = &wb->m->layers[i];
    const vks_st_tensor_t *t = wb->refs[i].weight;
    float *w = vks_wb_at(wb, &ly->weight), *tmp = vks_wb_tmp(wb, t->count);
    if (!tmp) return VKS_ERR_OUT_OF_HOST_MEMORY;
    memcpy(tmp, w, t->count * sizeof(float));
    vks_conv2d_transpose_permute(tmp, w, (uint32_t)t->shape[0], ly->channels, ly->kh * ly->kw);
    return VKS_OK;
}

static vks_status_t shape(const vks_layer_t *ly, const vks_tensor_t *in, const vks_tensor_t *in2, uint32_t *oh,
                          uint32_t *ow)
{
    (void)in2;
    if (!ly->tpads) {
        *oh = in->h * ly->stride;
        *ow = in->w * ly->stride_w;
        return VKS_OK;
    }
    int64_t h = (int64_t)(in->h - 1) * ly->stride + ly->kh - ly->pad[0] - ly->pad[1] + ly->opad[0];
    int64_t w = (int64_t)(in->w - 1) * ly->stride_w + ly->kw - ly->pad[2] - ly->pad[3] + ly->opad[1];
    if (h < 1 || w < 1)
        return vks_fail(VKS_ERR_SHAPE, "a %ux%u input gives no output with pads %d,%d,%d,%d", in->h, in->w, ly->pad[0],
                        ly->pad[1], ly->pad[2], ly->pad[3]);
    *oh = (uint32_t)h;
    *ow = (uint32_t)w;
    return VKS_OK;
}

static int32_t pad_top(const vks_layer_t *ly) { return ly->tpads ? ly->pad[0] : ly->tpad; }
static int32_t pad_left(const vks_layer_t *ly) { return ly->tpads ? ly->pad[2] : ly->tpad; }

static void band(const vks_layer_t *ly, const vks_tensor_t *in, uint32_t r0, uint32_t r1, vks_band_rows_t *b)
{
    vks_band_scatter(ly->stride, ly->kh, pad_top(ly), in, r0, r1, b);
    /* "pads": the output may reach further than stride x the input (a kernel larger than the
     * stride, output padding): the band's output runs to r1 */
    if (b->oh < r1 - b->a * ly->stride) b->oh = r1 - b->a * ly->stride;
}

/* The transposed convolution also keeps its weights per kernel tap for the GEMM
 * (vks_op_conv2d_transpose_gemm), unless VKSTYLE_WINOGRAD=0 or VKSTYLE_TGEMM=0 at load. */
static bool tgemm_enabled(void) { return vks_winograd_enabled() && !vks_env_is("VKSTYLE_TGEMM", "0"); }

static void reserve(vks_wbuild_t *wb, uint32_t layer)
{
    vks_layer_t *ly = &wb->m->layers[layer];
    const vks_st_tensor_t *w = wb->refs[layer].weight;
    if (tgemm_enabled() && w && ly->kh <= 7 && ly->kw <= 7) ly->wino = vks_wb_reserve(wb, w->count);
}

static vks_status_t finish(vks_wbuild_t *wb, uint32_t layer)
{
    const vks_layer_t *ly = &wb->m->layers[layer];
    if (!ly->wino.block) return VKS_OK;
    uint32_t taps = ly->kh * ly->kw, cin = (uint32_t)(ly->wino.w / taps / ly->channels);
    vks_conv2d_transpose_gemm_weights(vks_wb_at(wb, &ly->weight), ly->channels, cin, taps, vks_wb_at(wb, &ly->wino));
    return VKS_OK;
}

static vks_conv2d_transpose_params_t params(const vks_layer_t *ly)
{
    return (vks_conv2d_transpose_params_t){ly->kh, ly->kw, ly->stride, ly->stride_w, pad_top(ly), pad_left(ly), ly->act, {0}};
}

static VkDeviceSize scratch(const vks_layer_t *ly, const vks_tensor_t *in, const vks_tensor_t *out)
{
    if (!ly->wino.block) return 0;
    vks_conv2d_transpose_params_t p = params(ly);
    return vks_conv2d_transpose_gemm_scratch_bytes(&p, in->c, out->c, in->h, in->w, out->h, out->w, out->esize);
}

/* The heuristic: the GEMM per tap on CPU devices for inputs of at least 2^19 values, else the
 * direct convolution. Its GEMM reads the input as plain uniform loads where lavapipe's direct
 * transposed conv gathers per lane, but its input and output steps cost per pixel: on Mesa 22.3,
 * udnie at 256x256 both transposed layers (128 x 64 x 64 and 64 x 128 x 128 inputs) ran faster by
 * it, at 128x128 and 64x64 neither. (fp32 only: vks_conv2d_transpose_gemm_fits, which every caller
 * asks too, refuses fp16.) */
static bool tgemm_heuristic(const vks_context_t *ctx, const vks_tensor_t *in)
{
    return ctx->props.deviceType == VK_PHYSICAL_DEVICE_TYPE_CPU && (uint64_t)in->c * in->h * in->w >= (1u << 19);
}

static vks_status_t record(vks_rec_t *rec, const vks_layer_t *ly, const vks_layer_io_t *io)
{
    vks_conv2d_transpose_params_t p = params(ly);
    if (io->var) p.var = *io->var;
    const vks_tensor_t *bias = ly->has_bias ? &ly->bias : NULL;
    bool want = p.var.algo == VKS_CONV_TGEMM || (p.var.algo == VKS_CONV_AUTO && tgemm_heuristic(rec->ctx, io->in));
    if (want && ly->wino.block && vks_conv2d_transpose_gemm_fits(rec->ctx, &p, io->in, &ly->wino, io->out, io->scratch))
        return vks_op_conv2d_transpose_gemm(rec, &p, io->in, &ly->wino, bias, io->out, io->scratch);
    if (p.var.algo == VKS_CONV_TGEMM) p.var = (vks_conv_variant_t){0};
    return vks_op_conv2d_transpose(rec, &p, io->in, &ly->weight, bias, io->out);
}

/* The tuner's candidates: the GEMM per tap where it fits, the direct convolution's tiles, for the
 * columns of one parity, then the implicit GEMM's. */
static uint32_t variants(const vks_context_t *ctx, const vks_layer_t *ly, const vks_layer_io_t *io,
                         vks_conv_variant_t *v, uint32_t max, uint32_t *heuristic)
{
    uint32_t n = 0;
    vks_conv2d_transpose_params_t p = params(ly);
    if (ly->wino.block && max && vks_conv2d_transpose_gemm_fits(ctx, &p, io->in, &ly->wino, io->out, io->scratch))
        v[n++] = (vks_conv_variant_t){VKS_CONV_TGEMM, 0, 0, 0};
    /* the heuristic: the GEMM where it chooses that, else the direct convolution's first tile */
    *heuristic = n && tgemm_heuristic(ctx, io->in) ? 0 : n;
    uint32_t cols = vks_div_up(io->out->w, ly->stride_w);
    n += vks_conv_direct_variants(io->out->c, cols, vks_conv_transpose_oc(ctx, io->out->c, cols), v + n, max - n);
    return n + (vks_conv_igemm_offered(ctx) ? vks_conv_igemm_variants(ctx, io->out->c, v + n, max - n) : 0);
}

static void cost(const vks_layer_t *ly, const vks_tensor_t *in, const vks_tensor_t *out, vks_layer_profile_t *lp)
{
    vks_conv_cost(ly, in, out, (double)in->c * in->h * in->w * out->c * ly->kh * ly->kw, lp);
}

const vks_op_desc_t vks_op_conv2d_transpose_desc = {
    .name = "conv2d_transpose",
    .parse = parse,
    .load = load,
    .reserve = reserve,
    .finish = finish,
    .shape = shape,
    .band = band,
    .record = record,
    .scratch = scratch,
    .variants = variants,
    .cost = cost,
};
