/* conv2d_transpose: out[s*i + k - pad] += x[i] * w[k], output exactly stride x the input. */
#include "op.h"

#include <stdio.h>
#include <string.h>

vks_status_t vks_op_conv2d_transpose(vks_rec_t *rec, const vks_conv2d_transpose_params_t *p,
                                     const vks_tensor_t *in, const vks_tensor_t *wt,
                                     const vks_tensor_t *bias, const vks_tensor_t *out)
{
    const char *op = "conv2d_transpose";
    if (p->stride < 1 || p->kh < 1 || p->kw < 1 || p->pad < 0 || (uint32_t)p->pad >= p->kh ||
        (uint32_t)p->pad >= p->kw)
        return vks_fail(VKS_ERR_INVALID_ARGUMENT, "%s: invalid kernel/stride/padding", op);
    if (in->n == 0 || in->c == 0 || in->h == 0 || in->w == 0)
        return vks_fail(VKS_ERR_SHAPE, "%s: zero-size input [%u,%u,%u,%u]", op, in->n, in->c, in->h, in->w);
    if (out->h != in->h * p->stride || out->w != in->w * p->stride || out->n != in->n)
        return vks_fail(VKS_ERR_SHAPE, "%s: input %ux%u with stride %u gives %ux%u, output is %ux%u", op,
                        in->h, in->w, p->stride, in->h * p->stride, in->w * p->stride, out->h, out->w);
    if ((uint64_t)wt->w * wt->h * wt->c * wt->n != (uint64_t)out->c * in->c * p->kh * p->kw ||
        (bias && (uint64_t)bias->w * bias->h * bias->c * bias->n != out->c))
        return vks_fail(VKS_ERR_SHAPE, "%s: weight/bias size does not match %u->%u channels, %ux%u kernel",
                        op, in->c, out->c, p->kh, p->kw);
    uint32_t oct = vks_conv_oc_tile(out->c), ubo_rows = vks_conv_ubo_rows(rec->ctx, wt, out->c);
    if (ubo_rows && ubo_rows < oct) oct = ubo_rows;
    uint32_t x_cpb = vks_conv_x_cpb(rec->ctx, in, ubo_rows);
    uint32_t spec[7] = {p->kh, p->kw, p->stride, p->act, bias != NULL, oct, x_cpb};
    const vks_shader_id_t variants[3] = {VKS_SHADER_CONV2D_TRANSPOSE, VKS_SHADER_CONV2D_TRANSPOSE_UBO,
                                         VKS_SHADER_CONV2D_TRANSPOSE_XUBO};
    const vks_pipeline_t *pipe;
    vks_status_t st = vks_conv_pipeline(rec, op, variants, spec, 6, ubo_rows, x_cpb, in, out, &pipe);
    if (st) return st;
    vks_conv_push_t push = {
        .h = in->h, .w = in->w, .in_stride = in->plane_stride,
        .oh = out->h, .ow = out->w, .out_stride = out->plane_stride,
        .c_total = in->c, .pad0 = p->pad,
    };
    return vks_conv_record_chunks(rec, op, pipe, push, p->stride, oct, ubo_rows, x_cpb, in, wt, bias, out);
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
    if ((st = vks_ld_uint(L, o, "stride", 2, 1, 2, &ly->stride))) return st;
    uint32_t p;
    if ((st = vks_ld_uint(L, o, "padding", 0, 0, (uint32_t)(ly->kh < ly->kw ? ly->kh : ly->kw) - 1, &p))) return st;
    ly->tpad = (int32_t)p;
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
    *oh = in->h * ly->stride;
    *ow = in->w * ly->stride;
    return VKS_OK;
}

static void band(const vks_layer_t *ly, const vks_tensor_t *in, uint32_t r0, uint32_t r1, vks_band_rows_t *b)
{
    vks_band_scatter(ly->stride, ly->kh, ly->tpad, in, r0, r1, b);
}

static vks_status_t record(vks_rec_t *rec, const vks_layer_t *ly, const vks_layer_io_t *io)
{
    vks_conv2d_transpose_params_t p = {ly->kh, ly->kw, ly->stride, ly->tpad, ly->act};
    return vks_op_conv2d_transpose(rec, &p, io->in, &ly->weight, ly->has_bias ? &ly->bias : NULL, io->out);
}

static void cost(const vks_layer_t *ly, const vks_tensor_t *in, const vks_tensor_t *out, vks_layer_profile_t *lp)
{
    double taps = (double)ly->kh * ly->kw, nin = (double)in->c * in->h * in->w, nout = (double)out->c * out->h * out->w;
    lp->flops = 2 * (nin * out->c * taps);
    lp->bytes = in->esize * (nin + nout) + 4 * (double)in->c * out->c * taps;
    size_t n = strlen(lp->shape);
    snprintf(lp->shape + n, sizeof lp->shape - n, " k%u s%u", ly->kh, ly->stride);
}

const vks_op_desc_t vks_op_conv2d_transpose_desc = {
    .name = "conv2d_transpose",
    .parse = parse,
    .load = load,
    .shape = shape,
    .band = band,
    .record = record,
    .cost = cost,
};
