/* conv2d_transpose: out[s*i + k - pad] += x[i] * w[k], output exactly stride x the input. */
#include "ops.h"

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
