/* conditional_instance_norm: the per-frame style mix of all CIN layers' gamma/beta tables,
 * weights as push constants. The normalization itself is instance_norm reading the mix. */
#include "ops.h"

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
