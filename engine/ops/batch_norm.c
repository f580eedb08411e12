/* batch_norm: inference batch norm with running statistics; and its folding into a conv. */
#include "op.h"

#include <math.h>
#include <string.h>

typedef struct { uint32_t hw, stride, channels, c0; float eps; uint32_t wg_base[3]; } bn_push_t;
_Static_assert(sizeof(bn_push_t) <= 128, "push constants");

void vks_fold_batch_norm(float *wt, float *bias, uint32_t cout, uint32_t per_out, const float *mean,
                         const float *var, const float *gamma, const float *beta, float eps)
{
    for (uint32_t o = 0; o < cout; o++) {
        double scale = gamma[o] / sqrt((double)var[o] + eps);
        for (uint32_t i = 0; i < per_out; i++) wt[(size_t)o * per_out + i] = (float)(wt[(size_t)o * per_out + i] * scale);
        bias[o] = (float)((bias[o] - mean[o]) * scale + beta[o]);
    }
}

vks_status_t vks_op_batch_norm(vks_rec_t *rec, const vks_tensor_t *in, const vks_tensor_t *out,
                               const vks_tensor_t *params, float eps, uint32_t act,
                               const vks_tensor_t *residual)
{
    const char *op = "batch_norm";
    vks_status_t st = vks_check_same_shape(op, in, out);
    if (!st && residual) st = vks_check_same_shape(op, residual, out);
    if (st) return st;
    if (!(eps >= 0.0f) || eps > 1e30f)   /* 0: a per-channel affine (var 1) */
        return vks_fail(VKS_ERR_INVALID_ARGUMENT, "%s: eps must be a finite number >= 0", op);
    if ((uint64_t)params->n * params->c * params->h * params->w != 4ull * in->c)
        return vks_fail(VKS_ERR_SHAPE, "%s: parameters are not [4][%u]", op, in->c);
    uint32_t spec[2] = {act, residual != NULL};
    const vks_tensor_t *ts[3] = {in, out, residual};
    const vks_pipeline_t *pipe;
    if ((st = vks_act_pipeline(rec, op, VKS_SHADER_BATCH_NORM, ts, 3,
                               spec, 2, 4, sizeof(bn_push_t), &pipe))) return st;
    uint32_t chunk = 0;
    if ((st = vks_chunk_channels(rec->ctx, op, ts, 3, &chunk))) return st;
    uint32_t hw = in->h * in->w;
    for (uint32_t n = 0; n < in->n; n++)
        for (uint32_t c = 0; c < in->c; c += chunk) {
            uint32_t nc = in->c - c < chunk ? in->c - c : chunk;
            bn_push_t push = {hw, in->plane_stride, in->c, c, eps, {0}};
            vks_binding_t b[4] = {
                vks_bind_channels(in, n, c, nc, false),
                vks_bind_channels(out, n, c, nc, true),
                vks_bind(params, false),
                vks_bind_channels(residual ? residual : in, n, c, nc, false),
            };
            if ((st = vks_rec_dispatch(rec, pipe, b, 4, &push, vks_div_up(hw, VKS_LOCAL_1D), nc, 1))) return st;
        }
    return VKS_OK;
}

/* ------------------------------------------------------------------ the layer
 * A batch norm that directly follows a conv2d without activation, and whose input nothing else
 * reads, is folded into the conv's weights at load (model_parse.c decides; load() folds): it
 * records nothing, and its output is the conv's. */

static vks_status_t parse(const vks_loader_t *L, json_t *o, vks_layer_t *ly, vks_layer_refs_t *r, uint32_t cin)
{
    vks_status_t st;
    uint64_t d[1] = {cin};
    if ((st = vks_ld_tensor(L, o, "mean", false, 1, d, &r->mean)) || (st = vks_ld_tensor(L, o, "var", false, 1, d, &r->var)) ||
        (st = vks_ld_tensor(L, o, "gamma", false, 1, d, &r->gamma)) || (st = vks_ld_tensor(L, o, "beta", false, 1, d, &r->beta)))
        return st;
    /* eps 0: ONNX Mul/Add by per-channel constants come as mean 0, var 1, eps 0 (load() checks var + eps > 0) */
    return vks_ld_float(L, o, "eps", 1e-5f, 0.0f, 1.0f, &ly->eps);
}

static void reserve(vks_wbuild_t *wb, uint32_t i)
{
    vks_layer_t *ly = &wb->m->layers[i];
    if (!ly->folded) ly->params = vks_wb_reserve(wb, 4ull * ly->channels);
}

static vks_status_t load(vks_wbuild_t *wb, uint32_t i)
{
    const vks_layer_t *ly = &wb->m->layers[i];
    const vks_layer_refs_t *r = &wb->refs[i];
    uint32_t C = ly->channels;
    float *tmp = vks_wb_tmp(wb, 4 * (size_t)C);
    if (!tmp) return VKS_ERR_OUT_OF_HOST_MEMORY;
    vks_status_t st = VKS_OK;
    const vks_st_tensor_t *parts[4] = {r->mean, r->var, r->gamma, r->beta};
    for (int p = 0; p < 4 && !st; p++) st = vks_st_read_f32(wb->f, parts[p], tmp + (size_t)p * C);
    for (uint32_t c = 0; c < C && !st; c++)
        if (tmp[C + c] < 0) st = vks_fail(VKS_ERR_MODEL_FORMAT, "layer %u (batch_norm): negative running variance", i);
        else if (!(tmp[C + c] + ly->eps > 0))
            st = vks_fail(VKS_ERR_MODEL_FORMAT, "layer %u (batch_norm): var + eps is 0 in channel %u (eps 0 needs a positive "
                          "variance)", i, c);
    if (st) return st;
    if (!ly->folded) {
        memcpy(vks_wb_at(wb, &ly->params), tmp, 4 * (size_t)C * sizeof(float));
        return VKS_OK;
    }
    const vks_layer_t *cv = &wb->m->layers[i - 1];
    float *w = vks_wb_at(wb, &cv->weight), *b = vks_wb_at(wb, &cv->bias);
    vks_fold_batch_norm(w, b, C, cv->weight.w / C, tmp, tmp + C, tmp + 2 * C, tmp + 3 * C, ly->eps);
    /* gamma / sqrt(var + eps) can overflow a float: huge gamma, zero variance */
    for (size_t k = 0; k < cv->weight.w + C; k++) {
        float v = k < cv->weight.w ? w[k] : b[k - cv->weight.w];
        if (!isfinite(v))
            return vks_fail(VKS_ERR_MODEL_FORMAT, "layer %u (batch_norm): folded into layer %u (conv2d), its scale gamma / "
                            "sqrt(var + eps) makes a %s that is not finite", i, i - 1, k < cv->weight.w ? "weight" : "bias");
    }
    return VKS_OK;
}

static vks_status_t record(vks_rec_t *rec, const vks_layer_t *ly, const vks_layer_io_t *io)
{
    return ly->folded ? VKS_OK : vks_op_batch_norm(rec, io->in, io->out, &ly->params, ly->eps, ly->act, io->res);
}

static void cost(const vks_layer_t *ly, const vks_tensor_t *in, const vks_tensor_t *out, vks_layer_profile_t *lp)
{
    double nin = (double)in->c * in->h * in->w, nout = (double)out->c * out->h * out->w;
    lp->flops = ly->folded ? 0 : 2 * nin;
    lp->bytes = ly->folded ? 0 : in->esize * (nin + nout + (ly->has_residual ? nout : 0));
}

const vks_op_desc_t vks_op_batch_norm_desc = {
    .name = "batch_norm",
    .flags = VKS_OPF_RESIDUAL | VKS_OPF_FOLDS,
    .parse = parse,
    .reserve = reserve,
    .load = load,
    .record = record,
    .cost = cost,
};
