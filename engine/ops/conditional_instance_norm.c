/* conditional_instance_norm: the per-frame style mix of all CIN layers' gamma/beta tables,
 * weights as push constants. The normalization itself is instance_norm reading the mix. */
#include "op.h"

#include <math.h>
#include <string.h>

typedef struct { float w[VKS_MAX_STYLES]; } cin_push_t;
_Static_assert(sizeof(cin_push_t) <= 128, "push constants");

/* The push constants of a mix: the weights, then zeros. */
static vks_status_t make_push(const float *weights, uint32_t count, cin_push_t *push)
{
    if (count > VKS_MAX_STYLES)
        return vks_fail(VKS_ERR_STYLE, "conditional_instance_norm: %u style weights (at most %d)", count, VKS_MAX_STYLES);
    memset(push, 0, sizeof *push);
    for (uint32_t s = 0; s < count; s++) {
        if (!isfinite(weights[s]))
            return vks_fail(VKS_ERR_STYLE, "conditional_instance_norm: style weight %u is not finite", s);
        push->w[s] = weights[s];
    }
    return VKS_OK;
}

vks_status_t vks_op_cin_mix(vks_rec_t *rec, const vks_tensor_t *table, uint32_t styles,
                            uint32_t channels, const vks_tensor_t *eff, const float *weights,
                            uint32_t count)
{
    const char *op = "conditional_instance_norm";
    if (styles == 0 || styles > VKS_MAX_STYLES)
        return vks_fail(VKS_ERR_STYLE, "%s: %u styles (1..%d supported)", op, styles, VKS_MAX_STYLES);
    if (count > styles)
        return vks_fail(VKS_ERR_STYLE, "%s: %u style weights for a model with %u styles", op, count, styles);
    if (channels == 0 || vks_tensor_bytes(table) < (VkDeviceSize)2 * styles * channels * sizeof(float) ||
        vks_tensor_bytes(eff) < (VkDeviceSize)2 * channels * sizeof(float))
        return vks_fail(VKS_ERR_SHAPE, "%s: table/mix buffers too small for %u styles x %u channels", op,
                        styles, channels);
    cin_push_t push;
    vks_status_t st = make_push(weights, count, &push);
    if (st) return st;
    uint32_t spec[2] = {styles, channels};
    const vks_pipeline_t *pipe;
    st = vks_rec_pipeline(rec, VKS_SHADER_CONDITIONAL_INSTANCE_NORM, spec, 2, 2, 0, sizeof push, 1, &pipe);
    if (st) return st;
    vks_binding_t b[2] = {vks_bind(table, false), vks_bind(eff, true)};
    /* the shader loops over the channels in steps of the grid: any number of workgroups will do */
    uint32_t groups = vks_div_up(2 * channels, VKS_LOCAL_1D);
    if (groups > rec->ctx->max_groups[0]) groups = rec->ctx->max_groups[0];
    return vks_rec_dispatch(rec, pipe, b, 2, &push, groups, 1, 1);
}

vks_status_t vks_op_cin_mix_update(vks_rec_t *rec, const float *weights, uint32_t count)
{
    cin_push_t push;
    vks_status_t st = make_push(weights, count, &push);
    return st ? st : vks_rec_rerecord_single(rec, &push);
}

/* ------------------------------------------------------------------ the layer
 * Each layer's gamma and beta [styles][C] become rows of the model's table [2][styles][all CIN
 * channels], at the layer's cin_offset; the session mixes the table (vks_op_cin_mix) and the
 * layer normalizes with its columns of the mix. */

static vks_status_t parse(const vks_loader_t *L, json_t *o, vks_layer_t *ly, vks_layer_refs_t *r, uint32_t cin)
{
    vks_status_t st;
    uint64_t d[2] = {vks_ld_styles(L), cin};
    if ((st = vks_ld_tensor(L, o, "gamma", false, 2, d, &r->gamma))) return st;
    if ((st = vks_ld_tensor(L, o, "beta", false, 2, d, &r->beta))) return st;
    return vks_ld_float(L, o, "eps", 1e-5f, 1e-12f, 1.0f, &ly->eps);
}

static void reserve(vks_wbuild_t *wb, uint32_t i)
{
    vks_layer_t *ly = &wb->m->layers[i];
    ly->cin_offset = wb->m->cin_channels;
    wb->m->cin_channels += ly->channels;
}

static vks_status_t load(vks_wbuild_t *wb, uint32_t i)
{
    const vks_model_t *m = wb->m;
    const vks_layer_t *ly = &m->layers[i];
    const vks_layer_refs_t *r = &wb->refs[i];
    float *tmp = vks_wb_tmp(wb, 2 * r->gamma->count);
    if (!tmp) return VKS_ERR_OUT_OF_HOST_MEMORY;
    vks_status_t st = vks_st_read_f32(wb->f, r->gamma, tmp);
    if (!st) st = vks_st_read_f32(wb->f, r->beta, tmp + r->gamma->count);
    /* rows of the table: gamma[s] at (0*S + s)*Ctot + off, beta[s] at (1*S + s)*Ctot + off */
    float *tb = vks_wb_at(wb, &m->cin_table);
    for (uint32_t w = 0; w < 2 && !st; w++)
        for (uint32_t s = 0; s < m->nstyles; s++)
            memcpy(tb + ((size_t)w * m->nstyles + s) * m->cin_channels + ly->cin_offset,
                   tmp + (size_t)w * r->gamma->count + (size_t)s * ly->channels, ly->channels * sizeof(float));
    return st;
}

static vks_status_t record(vks_rec_t *rec, const vks_layer_t *ly, const vks_layer_io_t *io)
{
    uint32_t g = ly->cin_offset, b = io->mix_channels + ly->cin_offset;
    if (io->stats)
        return vks_op_instance_norm_given(rec, io->in, io->out, io->mix, g, io->mix, b, ly->eps, ly->act, io->res,
                                          io->stats, io->stats_off);
    return vks_op_instance_norm_scratch(rec, io->in, io->out, io->mix, g, io->mix, b, ly->eps, ly->act, io->res,
                                        io->scratch);
}

const vks_op_desc_t vks_op_conditional_instance_norm_desc = {
    .name = "conditional_instance_norm",
    .label = "cond_instance_norm",
    .flags = VKS_OPF_RESIDUAL | VKS_OPF_WHOLE_STATS,
    .parse = parse,
    .reserve = reserve,
    .load = load,
    .record = record,
    .scratch = vks_instance_norm_scratch,
    .cost = vks_instance_norm_cost,
};
