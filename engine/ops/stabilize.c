/* The stabilization ops (engine/stabilize.c puts them together): stab_grey, a level of the input's
 * grey pyramid; stab_flow, a level of coarse-to-fine block matching (the optical flow between two
 * frames); stab_motion, the input's change along the motion since the last frame; stats_ema, a
 * moving average of instance-norm statistics; stab_blend, the motion-compensated blend of the
 * output with the previous output; stab_limit, a bound on the blend's root mean square. */
#include "../stabilize.h"

typedef struct { uint32_t w, h, ow, oh, stride, factor; float inv_scale; uint32_t wg_base[3]; } grey_push_t;
_Static_assert(sizeof(grey_push_t) <= 128, "push constants");
typedef struct {
    uint32_t w, h, cw, ch, cstride, stride, has_coarse;
    float penalty, trunc, maxflow, still, reg, dead;
    uint32_t wg_base[3];
} flow_push_t;
_Static_assert(sizeof(flow_push_t) <= 128, "push constants");
typedef struct { uint32_t w, h, stride, prev_stride, flow_stride; float inv_scale; uint32_t wg_base[3]; } motion_push_t;
_Static_assert(sizeof(motion_push_t) <= 128, "push constants");
typedef struct { uint32_t channels, cur_off, ema_off; float count, alpha, cut_thr; } ema_push_t;
_Static_assert(sizeof(ema_push_t) <= 128, "push constants");
typedef struct {
    uint32_t w, h, ow, oh, stride, prev_stride, flow_stride, dev_stride;
    int32_t radius;
    float keep, lo, hi, cut_thr, tol;
    uint32_t wg_base[3];
} blend_push_t;
_Static_assert(sizeof(blend_push_t) <= 128, "push constants");
typedef struct { uint32_t n, stride, dev_stride; float count, limit; uint32_t wg_base[3]; } limit_push_t;
_Static_assert(sizeof(limit_push_t) <= 128, "push constants");

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

static bool is_grey(const vks_tensor_t *t, uint32_t h, uint32_t w)
{
    return t->n == 1 && t->c == 1 && t->h == h && t->w == w && t->esize == 4;
}

static bool is_flow(const vks_tensor_t *t, uint32_t h, uint32_t w)
{
    return t->n == 1 && t->c == 2 && t->h == h && t->w == w && t->esize == 4;
}

static bool is_rgb(const vks_tensor_t *t)
{
    return t->n == 1 && t->c == 3 && t->h > 0 && t->w > 0;
}

vks_status_t vks_op_stab_grey(vks_rec_t *rec, const vks_tensor_t *in, const vks_tensor_t *out, uint32_t factor,
                              float inv_scale)
{
    const char *op = "stab_grey";
    if (factor == 0 || factor > 1024)
        return vks_fail(VKS_ERR_INVALID_ARGUMENT, "%s: factor %u must be in 1..1024", op, factor);
    if (!(inv_scale > 0.0f) || !isfinite(inv_scale))
        return vks_fail(VKS_ERR_INVALID_ARGUMENT, "%s: the scale must be positive and finite", op);
    if (!is_rgb(in) || !is_grey(out, vks_div_up(in->h, factor), vks_div_up(in->w, factor)))
        return vks_fail(VKS_ERR_SHAPE, "%s: input [%u,%u,%u,%u], output [%u,%u,%u,%u] (float32 [1,1,ceil(h/%u),"
                        "ceil(w/%u)] of an RGB input)", op, in->n, in->c, in->h, in->w, out->n, out->c, out->h, out->w,
                        factor, factor);
    vks_status_t st = check_binding(rec, op, in);
    if (!st) st = check_binding(rec, op, out);
    if (st) return st;
    const vks_tensor_t *ts[1] = {in};
    const vks_pipeline_t *pipe;
    if ((st = vks_act_pipeline(rec, op, VKS_SHADER_STAB_GREY, ts, 1, NULL, 0, 2, sizeof(grey_push_t), &pipe)))
        return st;
    grey_push_t push = {in->w, in->h, out->w, out->h, in->plane_stride, factor, inv_scale, {0}};
    vks_binding_t b[2] = {vks_bind(in, false), vks_bind(out, true)};
    return vks_rec_dispatch(rec, pipe, b, 2, &push, vks_div_up(out->h * out->w, VKS_LOCAL_1D), 1, 1);
}

vks_status_t vks_op_stab_flow(vks_rec_t *rec, const vks_tensor_t *cur, const vks_tensor_t *prev,
                              const vks_tensor_t *coarse, const vks_tensor_t *flow, const vks_stab_flow_t *p)
{
    const char *op = "stab_flow";
    uint32_t h = cur->h, w = cur->w;
    if (!is_grey(cur, h, w) || h == 0 || w == 0 || !is_grey(prev, h, w) || !is_flow(flow, h, w) ||
        (coarse && (!is_flow(coarse, vks_div_up(h, 2), vks_div_up(w, 2)))))
        return vks_fail(VKS_ERR_SHAPE, "%s: current [%u,%u,%u,%u], previous [%u,%u,%u,%u], flow [%u,%u,%u,%u] (float32 "
                        "[1,1,h,w], [1,1,h,w], [1,2,h,w]; a coarser flow [1,2,ceil(h/2),ceil(w/2)])", op, cur->n,
                        cur->c, cur->h, cur->w, prev->n, prev->c, prev->h, prev->w, flow->n, flow->c, flow->h, flow->w);
    if (p->search > VKS_STAB_SEARCH_MAX || p->win > VKS_STAB_WIN_MAX || !(p->penalty >= 0.0f) || !isfinite(p->penalty) ||
        !(p->trunc > 0.0f) || !(p->maxflow >= 0.0f) || !(p->still >= 0.0f) || !(p->reg >= 0.0f) || !isfinite(p->reg) ||
        !(p->dead >= 0.0f))
        return vks_fail(VKS_ERR_INVALID_ARGUMENT, "%s: search %u <= %d, window radius %u <= %d, penalty %g >= 0, "
                        "truncation %g > 0, largest flow %g >= 0, still %g >= 0, regularization %g >= 0, dead zone %g >= 0",
                        op, p->search, VKS_STAB_SEARCH_MAX, p->win, VKS_STAB_WIN_MAX, p->penalty, p->trunc, p->maxflow,
                        p->still, p->reg, p->dead);
    vks_status_t st = VKS_OK;
    const vks_tensor_t *ts[4] = {cur, prev, coarse ? coarse : cur, flow};
    for (int i = 0; i < 4 && !st; i++) st = check_binding(rec, op, ts[i]);
    if (st) return st;
    const vks_pipeline_t *pipe;
    uint32_t spec[2] = {p->search, p->win};
    if ((st = vks_rec_pipeline(rec, VKS_SHADER_STAB_FLOW, spec, 2, 4, 0, sizeof(flow_push_t), 1, &pipe))) return st;
    flow_push_t push = {w, h, coarse ? coarse->w : 1, coarse ? coarse->h : 1, coarse ? coarse->plane_stride : 0,
                        flow->plane_stride, coarse != NULL, p->penalty, p->trunc, p->maxflow, p->still, p->reg, p->dead, {0}};
    vks_binding_t b[4] = {vks_bind(cur, false), vks_bind(prev, false), vks_bind(ts[2], false), vks_bind(flow, true)};
    return vks_rec_dispatch(rec, pipe, b, 4, &push, vks_div_up(h * w, VKS_LOCAL_1D), 1, 1);
}

vks_status_t vks_op_stab_motion(vks_rec_t *rec, const vks_tensor_t *in, const vks_tensor_t *prev,
                                const vks_tensor_t *flow, const vks_tensor_t *diff, float inv_scale)
{
    const char *op = "stab_motion";
    if (!is_rgb(in) || prev->n != 1 || prev->c != 3 || prev->h != in->h || prev->w != in->w ||
        !is_flow(flow, in->h, in->w) || !is_grey(diff, in->h, in->w))
        return vks_fail(VKS_ERR_SHAPE, "%s: input [%u,%u,%u,%u], previous [%u,%u,%u,%u], flow [%u,%u,%u,%u], diff "
                        "[%u,%u,%u,%u] (previous of the input's shape, float32 flow and diff of its size)", op, in->n,
                        in->c, in->h, in->w, prev->n, prev->c, prev->h, prev->w, flow->n, flow->c, flow->h, flow->w,
                        diff->n, diff->c, diff->h, diff->w);
    if (!(inv_scale > 0.0f) || !isfinite(inv_scale))
        return vks_fail(VKS_ERR_INVALID_ARGUMENT, "%s: the scale must be positive and finite", op);
    vks_status_t st = check_binding(rec, op, in);
    if (!st) st = check_binding(rec, op, prev);
    if (!st) st = check_binding(rec, op, flow);
    if (!st) st = check_binding(rec, op, diff);
    if (st) return st;
    const vks_tensor_t *ts[2] = {in, prev};
    const vks_pipeline_t *pipe;
    if ((st = vks_act_pipeline(rec, op, VKS_SHADER_STAB_MOTION, ts, 2, NULL, 0, 4, sizeof(motion_push_t), &pipe)))
        return st;
    uint32_t hw = in->h * in->w;
    motion_push_t push = {in->w, in->h, in->plane_stride, prev->plane_stride, flow->plane_stride, inv_scale, {0}};
    vks_binding_t b[4] = {vks_bind(in, false), vks_bind(prev, false), vks_bind(flow, false), vks_bind(diff, true)};
    return vks_rec_dispatch(rec, pipe, b, 4, &push, vks_div_up(hw, VKS_LOCAL_1D), 1, 1);
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
                               const vks_tensor_t *diff, const vks_tensor_t *cut, const vks_tensor_t *flow,
                               const vks_tensor_t *dev, const vks_stab_blend_t *p)
{
    const char *op = "stab_blend";
    if (!is_rgb(out) || prev->n != 1 || prev->c != 3 || prev->h != out->h || prev->w != out->w || diff->h == 0 ||
        diff->w == 0 || !is_grey(diff, diff->h, diff->w) || !is_flow(flow, diff->h, diff->w) || flat_count(cut) < 1 ||
        cut->esize != 4 || dev->n != 1 || dev->c != 3 || dev->h != out->h || dev->w != out->w || dev->esize != 4)
        return vks_fail(VKS_ERR_SHAPE, "%s: output [%u,%u,%u,%u], previous [%u,%u,%u,%u], diff [%u,%u,%u,%u], flow "
                        "[%u,%u,%u,%u], deviation [%u,%u,%u,%u] (float32, the output's shape)", op, out->n, out->c,
                        out->h, out->w, prev->n, prev->c, prev->h, prev->w, diff->n, diff->c, diff->h, diff->w, flow->n,
                        flow->c, flow->h, flow->w, dev->n, dev->c, dev->h, dev->w);
    if (!(p->keep >= 0.0f && p->keep <= 1.0f) || !(p->lo >= 0.0f) || !(p->hi > p->lo) || !isfinite(p->hi) ||
        !(p->cut_thr >= 0.0f) || !(p->tol >= 0.0f) || p->radius > 16)
        return vks_fail(VKS_ERR_INVALID_ARGUMENT, "%s: keep %g must be in [0, 1], 0 <= lo %g < hi %g, cut threshold "
                        "%g >= 0, tolerance %g >= 0, radius %u <= 16", op, p->keep, p->lo, p->hi, p->cut_thr, p->tol,
                        p->radius);
    vks_status_t st = check_binding(rec, op, out);
    if (!st) st = check_binding(rec, op, prev);
    if (!st) st = check_binding(rec, op, diff);
    if (!st) st = check_binding(rec, op, flow);
    if (!st) st = check_binding(rec, op, dev);
    if (st) return st;
    const vks_tensor_t *ts[2] = {out, prev};
    const vks_pipeline_t *pipe;
    if ((st = vks_act_pipeline(rec, op, VKS_SHADER_STAB_BLEND, ts, 2, NULL, 0, 6, sizeof(blend_push_t), &pipe)))
        return st;
    uint32_t n = out->h * out->w;
    blend_push_t push = {diff->w, diff->h, out->w, out->h, out->plane_stride, prev->plane_stride, flow->plane_stride,
                         dev->plane_stride, (int32_t)p->radius, p->keep, p->lo, p->hi, p->cut_thr, p->tol, {0}};
    vks_binding_t b[6] = {vks_bind(out, true), vks_bind(prev, false), vks_bind(diff, false), vks_bind(cut, false),
                          vks_bind(flow, false), vks_bind(dev, true)};
    return vks_rec_dispatch(rec, pipe, b, 6, &push, vks_div_up(n, VKS_LOCAL_1D), 1, 1);
}

vks_status_t vks_op_stab_limit(vks_rec_t *rec, const vks_tensor_t *out, const vks_tensor_t *dev,
                               const vks_tensor_t *stats, float limit)
{
    const char *op = "stab_limit";
    if (!is_rgb(out) || dev->n != 1 || dev->c != 3 || dev->h != out->h || dev->w != out->w || dev->esize != 4 ||
        flat_count(stats) < 6 || stats->esize != 4)
        return vks_fail(VKS_ERR_SHAPE, "%s: output [%u,%u,%u,%u], deviation [%u,%u,%u,%u] (float32, the output's "
                        "shape), statistics of %llu floats (6)", op, out->n, out->c, out->h, out->w, dev->n, dev->c,
                        dev->h, dev->w, (unsigned long long)flat_count(stats));
    if (!(limit >= 0.0f))
        return vks_fail(VKS_ERR_INVALID_ARGUMENT, "%s: the limit %g must not be negative", op, limit);
    vks_status_t st = check_binding(rec, op, out);
    if (!st) st = check_binding(rec, op, dev);
    if (st) return st;
    const vks_tensor_t *ts[1] = {out};
    const vks_pipeline_t *pipe;
    if ((st = vks_act_pipeline(rec, op, VKS_SHADER_STAB_LIMIT, ts, 1, NULL, 0, 3, sizeof(limit_push_t), &pipe)))
        return st;
    uint32_t n = out->h * out->w;
    limit_push_t push = {n, out->plane_stride, dev->plane_stride, (float)n, limit, {0}};
    vks_binding_t b[3] = {vks_bind(out, true), vks_bind(dev, false), vks_bind(stats, false)};
    return vks_rec_dispatch(rec, pipe, b, 3, &push, vks_div_up(n, VKS_LOCAL_1D), 1, 1);
}
