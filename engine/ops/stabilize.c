/* The stabilization ops (engine/stabilize.c puts them together): stab_motion, the input's change
 * since the last frame; stats_ema, a moving average of instance-norm statistics; stab_blend, the
 * motion-aware blend of the output with the previous output. */
#include "../stabilize.h"

typedef struct { uint32_t hw, stride, prev_stride; float inv_scale; uint32_t wg_base[3]; } motion_push_t;
_Static_assert(sizeof(motion_push_t) <= 128, "push constants");
typedef struct { uint32_t channels, cur_off, ema_off; float count, alpha, cut_thr; } ema_push_t;
_Static_assert(sizeof(ema_push_t) <= 128, "push constants");
typedef struct {
    uint32_t w, h, ow, oh, stride, prev_stride;
    int32_t radius;
    float keep, lo, hi, cut_thr, tol;
    uint32_t wg_base[3];
} blend_push_t;
_Static_assert(sizeof(blend_push_t) <= 128, "push constants");

static uint64_t flat_count(const vks_tensor_t *t)
{
    return (uint64_t)t->n * t->c * t->h * t->w;
}

static vks_status_t check_binding(const vks_rec_t *rec, const char *op, const vks_tensor_t *t)
{
    if (vks_tensor_bytes(t) > rec->ctx->max_binding)
        return vks_fail(VKS_ERR_SHAPE, "%s: a [%u,%u,%u,%u] tensor exceeds the device's binding limit", op, t->n, t->c,
                        t->h, t->w);
    return VKS_OK;
}

vks_status_t vks_op_stab_motion(vks_rec_t *rec, const vks_tensor_t *in, const vks_tensor_t *prev,
                                const vks_tensor_t *diff, float inv_scale)
{
    const char *op = "stab_motion";
    if (in->n != 1 || in->c != 3 || in->h == 0 || in->w == 0 || prev->n != 1 || prev->c != 3 || prev->h != in->h ||
        prev->w != in->w || prev->esize != 4 || diff->n != 1 || diff->c != 1 || diff->h != in->h || diff->w != in->w ||
        diff->esize != 4)
        return vks_fail(VKS_ERR_SHAPE, "%s: input [%u,%u,%u,%u], previous [%u,%u,%u,%u], diff [%u,%u,%u,%u] (float32 "
                        "previous and diff of the input's size)", op, in->n, in->c, in->h, in->w, prev->n, prev->c,
                        prev->h, prev->w, diff->n, diff->c, diff->h, diff->w);
    if (!(inv_scale > 0.0f) || !isfinite(inv_scale))
        return vks_fail(VKS_ERR_INVALID_ARGUMENT, "%s: the scale must be positive and finite", op);
    vks_status_t st = check_binding(rec, op, in);
    if (!st) st = check_binding(rec, op, prev);
    if (!st) st = check_binding(rec, op, diff);
    if (st) return st;
    const vks_tensor_t *ts[1] = {in};
    const vks_pipeline_t *pipe;
    if ((st = vks_act_pipeline(rec, op, VKS_SHADER_STAB_MOTION, ts, 1, NULL, 0, 3, sizeof(motion_push_t), &pipe)))
        return st;
    uint32_t hw = in->h * in->w;
    motion_push_t push = {hw, in->plane_stride, prev->plane_stride, inv_scale, {0}};
    vks_binding_t b[3] = {vks_bind(in, false), vks_bind(prev, true), vks_bind(diff, true)};
    return vks_rec_dispatch(rec, pipe, b, 3, &push, vks_div_up(hw, VKS_LOCAL_1D), 1, 1);
}

vks_status_t vks_op_stats_ema(vks_rec_t *rec, const vks_tensor_t *cur, uint32_t cur_off, const vks_tensor_t *ema,
                              uint32_t ema_off, uint32_t channels, uint32_t count, const vks_tensor_t *cut,
                              float alpha, float cut_thr)
{
    const char *op = "stats_ema";
    if (channels == 0 || count == 0 || 2 * ((uint64_t)cur_off + channels) > flat_count(cur) ||
        2 * ((uint64_t)ema_off + channels) > flat_count(ema) || flat_count(cut) < 1 || cur->esize != 4 ||
        ema->esize != 4 || cut->esize != 4)
        return vks_fail(VKS_ERR_SHAPE, "%s: %u channels at %u (of %llu pairs) into %u (of %llu pairs), %u elements",
                        op, channels, cur_off, (unsigned long long)flat_count(cur) / 2, ema_off,
                        (unsigned long long)flat_count(ema) / 2, count);
    if (!(alpha >= 0.0f && alpha <= 1.0f) || !(cut_thr >= 0.0f))
        return vks_fail(VKS_ERR_INVALID_ARGUMENT, "%s: alpha must be in [0, 1] and the cut threshold not negative", op);
    const vks_pipeline_t *pipe;
    vks_status_t st = vks_rec_pipeline(rec, VKS_SHADER_STATS_EMA, NULL, 0, 3, 0, sizeof(ema_push_t), 1, &pipe);
    if (st) return st;
    ema_push_t push = {channels, cur_off, ema_off, (float)count, alpha, cut_thr};
    vks_binding_t b[3] = {vks_bind(cur, false), vks_bind(ema, true), vks_bind(cut, false)};
    return vks_rec_dispatch(rec, pipe, b, 3, &push, vks_div_up(channels, VKS_LOCAL_1D), 1, 1);
}

vks_status_t vks_op_stab_blend(vks_rec_t *rec, const vks_tensor_t *out, const vks_tensor_t *prev,
                               const vks_tensor_t *diff, const vks_tensor_t *cut, const vks_stab_blend_t *p)
{
    const char *op = "stab_blend";
    if (out->n != 1 || out->c != 3 || out->h == 0 || out->w == 0 || prev->n != 1 || prev->c != 3 ||
        prev->h != out->h || prev->w != out->w || prev->esize != 4 || diff->n != 1 || diff->c != 1 || diff->h == 0 ||
        diff->w == 0 || diff->esize != 4 || flat_count(cut) < 1 || cut->esize != 4)
        return vks_fail(VKS_ERR_SHAPE, "%s: output [%u,%u,%u,%u], previous [%u,%u,%u,%u], diff [%u,%u,%u,%u]", op,
                        out->n, out->c, out->h, out->w, prev->n, prev->c, prev->h, prev->w, diff->n, diff->c, diff->h,
                        diff->w);
    if (!(p->keep >= 0.0f && p->keep <= 1.0f) || !(p->lo >= 0.0f) || !(p->hi > p->lo) || !isfinite(p->hi) ||
        !(p->cut_thr >= 0.0f) || !(p->tol >= 0.0f) || p->radius > 16)
        return vks_fail(VKS_ERR_INVALID_ARGUMENT, "%s: keep %g must be in [0, 1], 0 <= lo %g < hi %g, cut threshold "
                        "%g >= 0, tolerance %g >= 0, radius %u <= 16", op, p->keep, p->lo, p->hi, p->cut_thr, p->tol,
                        p->radius);
    vks_status_t st = check_binding(rec, op, out);
    if (!st) st = check_binding(rec, op, prev);
    if (!st) st = check_binding(rec, op, diff);
    if (st) return st;
    const vks_tensor_t *ts[1] = {out};
    const vks_pipeline_t *pipe;
    if ((st = vks_act_pipeline(rec, op, VKS_SHADER_STAB_BLEND, ts, 1, NULL, 0, 4, sizeof(blend_push_t), &pipe)))
        return st;
    uint32_t n = out->h * out->w;
    blend_push_t push = {diff->w, diff->h, out->w, out->h, out->plane_stride, prev->plane_stride, (int32_t)p->radius,
                         p->keep, p->lo, p->hi, p->cut_thr, p->tol, {0}};
    vks_binding_t b[4] = {vks_bind(out, true), vks_bind(prev, true), vks_bind(diff, false), vks_bind(cut, false)};
    return vks_rec_dispatch(rec, pipe, b, 4, &push, vks_div_up(n, VKS_LOCAL_1D), 1, 1);
}
