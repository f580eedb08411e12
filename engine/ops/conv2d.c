/* conv2d: direct convolution, any kernel, stride 1 or 2, zero or reflection padding. */
#include "ops.h"

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

vks_status_t vks_op_conv2d(vks_rec_t *rec, const vks_conv2d_params_t *p, const vks_tensor_t *in,
                           const vks_tensor_t *wt, const vks_tensor_t *bias, const vks_tensor_t *out)
{
    const char *op = "conv2d";
    if (p->stride < 1 || p->kh < 1 || p->kw < 1 || p->pad_top < 0 || p->pad_bottom < 0 ||
        p->pad_left < 0 || p->pad_right < 0)
        return vks_fail(VKS_ERR_INVALID_ARGUMENT, "%s: invalid kernel/stride/padding", op);
    if (in->n == 0 || in->c == 0 || in->h == 0 || in->w == 0)
        return vks_fail(VKS_ERR_SHAPE, "%s: zero-size input [%u,%u,%u,%u]", op, in->n, in->c, in->h, in->w);
    uint32_t oh = vks_conv2d_out_side(in->h, p->kh, p->stride, p->pad_top, p->pad_bottom);
    uint32_t ow = vks_conv2d_out_side(in->w, p->kw, p->stride, p->pad_left, p->pad_right);
    if (oh == 0 || ow == 0 || out->h != oh || out->w != ow || out->n != in->n)
        return vks_fail(VKS_ERR_SHAPE, "%s: input %ux%u, kernel %ux%u, stride %u gives %ux%u, output is %ux%u",
                        op, in->h, in->w, p->kh, p->kw, p->stride, oh, ow, out->h, out->w);
    if ((uint64_t)wt->w * wt->h * wt->c * wt->n != (uint64_t)out->c * in->c * p->kh * p->kw ||
        (bias && (uint64_t)bias->w * bias->h * bias->c * bias->n != out->c))
        return vks_fail(VKS_ERR_SHAPE, "%s: weight/bias size does not match %u->%u channels, %ux%u kernel",
                        op, in->c, out->c, p->kh, p->kw);
    if (p->reflect && ((uint32_t)p->pad_top >= in->h || (uint32_t)p->pad_bottom >= in->h ||
                       (uint32_t)p->pad_left >= in->w || (uint32_t)p->pad_right >= in->w))
        return vks_fail(VKS_ERR_SHAPE, "%s: reflection padding %d,%d,%d,%d needs an input larger than %ux%u",
                        op, p->pad_top, p->pad_bottom, p->pad_left, p->pad_right, in->h, in->w);
    uint32_t oct = vks_conv_oc_tile(out->c), ubo_rows = vks_conv_ubo_rows(rec->ctx, wt, out->c);
    if (ubo_rows && ubo_rows < oct) oct = ubo_rows;
    uint32_t x_cpb = vks_conv_x_cpb(rec->ctx, in, ubo_rows);
    uint32_t spec[8] = {p->kh, p->kw, p->stride, p->reflect, p->act, bias != NULL, oct, x_cpb};
    const vks_shader_id_t variants[3] = {VKS_SHADER_CONV2D, VKS_SHADER_CONV2D_UBO, VKS_SHADER_CONV2D_XUBO};
    const vks_pipeline_t *pipe;
    vks_status_t st = vks_conv_pipeline(rec, op, variants, spec, 7, ubo_rows, x_cpb, in, out, &pipe);
    if (st) return st;
    vks_conv_push_t push = {
        .h = in->h, .w = in->w, .in_stride = in->plane_stride,
        .oh = oh, .ow = ow, .out_stride = out->plane_stride,
        .c_total = in->c, .pad0 = p->pad_top, .pad1 = p->pad_left,
    };
    return vks_conv_record_chunks(rec, op, pipe, push, 0, oct, ubo_rows, x_cpb, in, wt, bias, out);
}
