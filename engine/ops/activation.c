/* activation: y = act(x) * scale + offset, element-wise; act one of the fused activations, or
 * leaky_relu and clip (this op's own). */
#include "op.h"

#include <string.h>

typedef struct { uint32_t hw, stride; float scale, offset, p0, p1; uint32_t wg_base[3]; } act_push_t;
_Static_assert(sizeof(act_push_t) <= 128, "push constants");

vks_status_t vks_op_activation(vks_rec_t *rec, const vks_tensor_t *in, const vks_tensor_t *out,
                               uint32_t act, float scale, float offset)
{
    return vks_op_activation_ex(rec, in, out, act, 0.0f, 0.0f, scale, offset);
}

vks_status_t vks_op_activation_ex(vks_rec_t *rec, const vks_tensor_t *in, const vks_tensor_t *out, uint32_t act,
                                  float p0, float p1, float scale, float offset)
{
    const char *op = "activation";
    if (act > VKS_ACT_CLIP) return vks_fail(VKS_ERR_INVALID_ARGUMENT, "%s: unknown activation %u", op, act);
    vks_status_t st = vks_check_same_shape(op, in, out);
    if (st) return st;
    const vks_tensor_t *ts[2] = {in, out};
    const vks_pipeline_t *pipe;
    if ((st = vks_act_pipeline(rec, op, VKS_SHADER_ACTIVATION, ts, 2,
                               &act, 1, 2, sizeof(act_push_t), &pipe))) return st;
    uint32_t hw = in->h * in->w;
    act_push_t push = {hw, in->plane_stride, scale, offset, p0, p1, {0}};
    return vks_rec_channel_planes(rec, op, pipe, in, out, &push, hw);
}

/* ------------------------------------------------------------------ the layer */

static vks_status_t parse(const vks_loader_t *L, json_t *o, vks_layer_t *ly, vks_layer_refs_t *r, uint32_t cin)
{
    (void)r, (void)cin;
    /* "activation": the fused ones (model_parse.c), or leaky_relu and clip with their parameters */
    json_t *a = json_object_get(o, "activation");
    const char *name = json_is_string(a) ? json_string_value(a) : "";
    vks_status_t st = VKS_OK;
    bool leaky = !strcmp(name, "leaky_relu"), clip = !strcmp(name, "clip");
    if (leaky) {
        ly->act = VKS_ACT_LEAKY_RELU;
        st = vks_ld_float(L, o, "alpha", 0.01f, -1e6f, 1e6f, &ly->act_p[0]);
    } else if (clip) {
        ly->act = VKS_ACT_CLIP;
        if (!(st = vks_ld_float(L, o, "min", -3.4e38f, -3.4e38f, 3.4e38f, &ly->act_p[0])))
            st = vks_ld_float(L, o, "max", 3.4e38f, -3.4e38f, 3.4e38f, &ly->act_p[1]);
        if (!st && ly->act_p[0] > ly->act_p[1])
            return vks_ld_fail(L, "clip 'min' %g is larger than 'max' %g", (double)ly->act_p[0], (double)ly->act_p[1]);
    } else {
        if ((st = vks_ld_act(L, o, &ly->act))) return st;
    }
    if (st) return st;
    static const char *const own[3] = {"alpha", "min", "max"};
    for (int k = 0; k < 3; k++)
        if (json_object_get(o, own[k]) && !(k == 0 ? leaky : clip))
            return vks_ld_fail(L, "'%s' is for activation \"%s\" only", own[k], k == 0 ? "leaky_relu" : "clip");
    if ((st = vks_ld_float(L, o, "scale", 1.0f, -1e6f, 1e6f, &ly->scale))) return st;
    return vks_ld_float(L, o, "offset", 0.0f, -1e6f, 1e6f, &ly->offset);
}

static vks_status_t record(vks_rec_t *rec, const vks_layer_t *ly, const vks_layer_io_t *io)
{
    return vks_op_activation_ex(rec, io->in, io->out, ly->act, ly->act_p[0], ly->act_p[1], ly->scale, ly->offset);
}

static void cost(const vks_layer_t *ly, const vks_tensor_t *in, const vks_tensor_t *out, vks_layer_profile_t *lp)
{
    (void)ly;
    double nout = (double)out->c * out->h * out->w;
    lp->flops = 2 * nout;
    lp->bytes = 2 * in->esize * nout;
}

const vks_op_desc_t vks_op_activation_desc = {
    .name = "activation",
    .flags = VKS_OPF_OWN_ACT,
    .parse = parse,
    .record = record,
    .cost = cost,
};
