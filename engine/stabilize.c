/* Temporal stabilization of a session's frames, on the GPU, inside the session's one command
 * buffer (no read-back, no host work per frame):
 *   1. optical flow from this frame's input back to the last one's: this frame's grey pyramid
 *      (stab_grey; the last frame's is kept from then), coarse-to-fine block matching with a
 *      Lucas-Kanade step for the sub-pixel part (stab_flow);
 *   2. stab_motion: each input pixel's change along the motion (|in(p) - prev_in(p + flow)|,
 *      diff, 0..255), and the frame's mean change (channel_stats over diff): above a threshold,
 *      a scene cut; then this frame's input is kept (a copy) for the next;
 *   3. optionally (off by default), every instance norm normalizes with an exponential moving
 *      average of its per-channel mean and variance (channel_stats -> stats_ema -> instance_norm
 *      with GIVEN_STATS), restarted on a cut;
 *   4. stab_blend: motion-compensated recursive filtering: where the input did not change along
 *      the motion beyond noise, the output moves toward the previous (stabilized) output warped
 *      along the flow; where it changed (occlusions, flow mismatches), the new output is taken
 *      (no trails); all new on a cut. Each pixel stays within a bound of the new output, and
 *      stab_limit scales the blend back where its root mean square over the frame exceeds
 *      another (channel_stats of stab_blend's deviation), so every frame stays near its own
 *      stylization; both bounds grow with the strength. The result is kept (a copy) for the
 *      next frame.
 * The state (previous input and output, deviation, pyramids, flows, the averages) lives in a block of its
 * own that persists across frames. A reset fills the previous input with a huge value: the next
 * frame is a cut. */
#include "stabilize.h"
#include "ops/op.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAX_LEVELS 6

typedef struct vks_stab_params {
    float keep;         /* stab_blend keep at strength 1; at strength S, 1 - (1 - keep)^S */
    float alpha;        /* stats_ema alpha at strength 1; at strength S, 1 - (1 - alpha)^S */
    float lo, hi;       /* stab_blend thresholds (0..255) */
    float cut;          /* cut threshold: mean input change (0..255) */
    float clamp;        /* each output pixel stays within this of the unstabilized one at strength 1 (0..255);
                         * at strength S, S times this */
    float rms;          /* and the whole frame within this root mean square (0..255; 0: no bound); S times.
                         * 12.15: 20 log10(255 / 12.15) = 26.44 dB from its own stylization; the
                         * 1.4 dB above 25 are for the encoder (README: "Stable video") */
    uint32_t radius;    /* stab_blend window radius */
    uint32_t levels;    /* optical flow: pyramid levels at most (the coarsest at least 8 pixels a side) */
    uint32_t search;    /* stab_flow search radius at each level */
    uint32_t win;       /* stab_flow window radius */
    float penalty;      /* stab_flow cost of a pixel away from the coarser level's flow (0..255) */
    float trunc;        /* stab_flow truncation of a pixel's difference (0..255) */
    float still;        /* stab_flow: no motion where it matches within this of the best (0..255) */
    float reg;          /* stab_flow: the Lucas-Kanade step's regularization (0..255 squared) */
    float dead;         /* stab_flow: a sub-pixel flow from no motion shorter than this is dropped (pixels) */
    bool stats, blend, flow;   /* which parts are on (flow off: the flow is 0) */
} vks_stab_params_t;

/* Chosen from benchmarks/stabilize.sh (README: "Stable video"). At strength S the averages'
 * time constants grow geometrically: the past's weight is 1 - (1 - w)^S, 0 at S = 0. */
static const vks_stab_params_t defaults = {
    .keep = 0.99f, .alpha = 0.5f, .lo = 6.0f, .hi = 24.0f, .cut = 30.0f, .clamp = 120.0f, .rms = 12.15f, .radius = 1, .levels = 4,
    .search = 1, .win = 3, .penalty = 0.5f, .trunc = 32.0f, .still = 0.3f, .reg = 25.0f, .dead = 0.1f, .stats = false, .blend = true, .flow = true,
};

static float at_strength(float w, float s)
{
    return 1.0f - powf(1.0f - w, s);
}

struct vks_stab {
    float strength;
    vks_stab_params_t p;
    vks_block_t block;
    vks_tensor_t prev_in, diff, prev_out, cut, cur, ema, dev, dstats;
    uint32_t levels;
    vks_tensor_t grey[MAX_LEVELS], pgrey[MAX_LEVELS], flow[MAX_LEVELS];   /* per pyramid level */
    uint32_t *norm_off;     /* per layer: the pair index of its first channel in cur and ema */
    vks_rec_t reset;        /* fills prev_in with a huge value (and the flow with 0) */
    bool reset_pending;
};

/* VKSTYLE_STABILIZE_TUNE="keep=0.99,alpha=0.5,lo=6,hi=24,cut=30,clamp=120,rms=12.15,radius=1,levels=4,search=1,win=3,
 * penalty=0.5,trunc=32,still=0.3,reg=25,dead=0.1,stats=0,blend=1,flow=1" overrides the defaults, for the measurements
 * (benchmarks/stabilize.sh); unknown keys are an error. */
static vks_status_t tune(vks_stab_params_t *p)
{
    const char *env = getenv("VKSTYLE_STABILIZE_TUNE");
    if (!env || !*env) return VKS_OK;
    char buf[512];
    snprintf(buf, sizeof buf, "%s", env);
    for (char *save = NULL, *tok = strtok_r(buf, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
        char *eq = strchr(tok, '=');
        if (!eq) return vks_fail(VKS_ERR_INVALID_ARGUMENT, "VKSTYLE_STABILIZE_TUNE: '%s' is not key=value", tok);
        *eq = 0;
        char *end;
        double v = strtod(eq + 1, &end);
        if (*end || end == eq + 1 || !isfinite(v) || v < 0 || v > 1e6)
            return vks_fail(VKS_ERR_INVALID_ARGUMENT, "VKSTYLE_STABILIZE_TUNE: %s=%s", tok, eq + 1);
        if (!strcmp(tok, "keep")) p->keep = (float)v;
        else if (!strcmp(tok, "alpha")) p->alpha = (float)v;
        else if (!strcmp(tok, "lo")) p->lo = (float)v;
        else if (!strcmp(tok, "hi")) p->hi = (float)v;
        else if (!strcmp(tok, "cut")) p->cut = (float)v;
        else if (!strcmp(tok, "clamp")) p->clamp = (float)v;
        else if (!strcmp(tok, "rms")) p->rms = (float)v;
        else if (!strcmp(tok, "radius")) p->radius = (uint32_t)v;
        else if (!strcmp(tok, "levels")) p->levels = (uint32_t)v;
        else if (!strcmp(tok, "search")) p->search = (uint32_t)v;
        else if (!strcmp(tok, "win")) p->win = (uint32_t)v;
        else if (!strcmp(tok, "penalty")) p->penalty = (float)v;
        else if (!strcmp(tok, "trunc")) p->trunc = (float)v;
        else if (!strcmp(tok, "still")) p->still = (float)v;
        else if (!strcmp(tok, "reg")) p->reg = (float)v;
        else if (!strcmp(tok, "dead")) p->dead = (float)v;
        else if (!strcmp(tok, "stats")) p->stats = v != 0;
        else if (!strcmp(tok, "blend")) p->blend = v != 0;
        else if (!strcmp(tok, "flow")) p->flow = v != 0;
        else return vks_fail(VKS_ERR_INVALID_ARGUMENT, "VKSTYLE_STABILIZE_TUNE: unknown key %s", tok);
    }
    if (p->keep > 1 || p->alpha > 1 || !(p->hi > p->lo) || p->cut >= VKS_STAB_DIFF_MAX || p->radius > 16 ||
        p->levels < 1 || p->levels > MAX_LEVELS || p->search > VKS_STAB_SEARCH_MAX || p->win > VKS_STAB_WIN_MAX || !(p->trunc > 0))
        return vks_fail(VKS_ERR_INVALID_ARGUMENT, "VKSTYLE_STABILIZE_TUNE: keep, alpha <= 1, lo < hi, cut < %g, "
                        "radius <= 16, levels 1..%d, search <= %d, win <= %d, trunc > 0", VKS_STAB_DIFF_MAX, MAX_LEVELS,
                        VKS_STAB_SEARCH_MAX, VKS_STAB_WIN_MAX);
    return VKS_OK;
}

static bool is_norm(const vks_layer_t *ly)
{
    return (ly->op->flags & VKS_OPF_WHOLE_STATS) != 0;
}

static VkDeviceSize place_tensor(vks_tensor_t *t, vks_block_t *b, VkDeviceSize off)
{
    t->block = b;
    t->offset = off;
    return vks_align(off + vks_tensor_bytes(t), 256);
}

/* the bytes of a grey pyramid, its levels laid out one after the other (stab_create) */
static VkDeviceSize pyramid_bytes(const vks_stab_t *t)
{
    const vks_tensor_t *last = &t->grey[t->levels - 1];
    return last->offset + vks_tensor_bytes(last) - t->grey[0].offset;
}

static void stab_free(vks_context_t *ctx, vks_stab_t *t)
{
    if (!t) return;
    vks_rec_destroy(&t->reset);
    vks_block_destroy(ctx, &t->block);
    free(t->norm_off);
    free(t);
}

static vks_status_t stab_create(vks_session_t *s, vks_stab_t **out)
{
    vks_status_t st = VKS_OK;
    const vks_model_t *m = s->model;
    vks_stab_t *t = calloc(1, sizeof *t);
    if (!t || !(t->norm_off = calloc(m->nlayers, sizeof *t->norm_off))) {
        st = vks_fail(VKS_ERR_OUT_OF_HOST_MEMORY, "out of host memory");
        goto fail;
    }
    t->p = defaults;
    VKS_TRY(tune(&t->p));
    uint32_t pairs = 0;
    for (uint32_t i = 0; i < m->nlayers; i++)
        if (is_norm(&m->layers[i])) {
            t->norm_off[i] = pairs;
            pairs += s->plan.vals[i + 1].c;
        }
    const vks_tensor_t *in = &s->plan.vals[0], *o = &s->plan.vals[m->nlayers];
    /* the previous input and output: the layout of the input and output tensors, copied over */
    t->prev_in = vks_tensor_act(NULL, 0, 1, 3, in->h, in->w, in->esize);
    t->prev_in.plane_stride = in->plane_stride;
    t->diff = vks_tensor_act(NULL, 0, 1, 1, s->h, s->w, 4);
    t->prev_out = vks_tensor_act(NULL, 0, 1, 3, o->h, o->w, o->esize);
    t->prev_out.plane_stride = o->plane_stride;
    t->cut = vks_tensor_flat(NULL, 0, 2);
    t->cur = vks_tensor_flat(NULL, 0, 2 * (pairs ? pairs : 1));
    t->ema = t->cur;
    t->dev = vks_tensor_act(NULL, 0, 1, 3, o->h, o->w, 4);
    t->dstats = vks_tensor_flat(NULL, 0, 6);
    t->levels = 1;
    while (t->levels < t->p.levels && vks_div_up(s->h < s->w ? s->h : s->w, 1u << t->levels) >= 8) t->levels++;
    vks_tensor_t *ts[8 + 3 * MAX_LEVELS] = {&t->prev_in, &t->diff, &t->prev_out, &t->cut, &t->cur, &t->ema, &t->dev,
                                            &t->dstats};
    int nts = 8;
    /* the levels of each pyramid one after the other, the two pyramids laid out alike: one copy
     * moves this frame's pyramid over the last one's */
    for (uint32_t l = 0; l < t->levels; l++) {
        uint32_t lh = vks_div_up(s->h, 1u << l), lw = vks_div_up(s->w, 1u << l);
        t->grey[l] = vks_tensor_act(NULL, 0, 1, 1, lh, lw, 4);
        t->pgrey[l] = t->grey[l];
        t->flow[l] = vks_tensor_act(NULL, 0, 1, 2, lh, lw, 4);
        ts[nts + l] = &t->grey[l];
        ts[nts + t->levels + l] = &t->pgrey[l];
        ts[nts + 2 * t->levels + l] = &t->flow[l];
    }
    nts += 3 * t->levels;
    VkDeviceSize off = 0;
    for (int i = 0; i < nts; i++) off = place_tensor(ts[i], NULL, off);
    VKS_TRY(vks_block_create(s->ctx, off, VKS_MEM_DEVICE, &t->block));
    for (int i = 0; i < nts; i++) ts[i]->block = &t->block;
    VKS_TRY(vks_rec_begin(s->ctx, &t->reset, false));
    /* every pixel changed: 3.4e38 (float32) or 65504 (float16) */
    s->ctx->vk.vkCmdFillBuffer(t->reset.cmd, t->block.buffer, t->prev_in.offset, vks_tensor_bytes(&t->prev_in),
                               in->esize == 2 ? 0x7bff7bffu : 0x7f7f7f7fu);
    /* the flow stays 0 when it is not computed (flow=0); the last pyramid is finite (the flow of a
     * frame after a reset, a cut, is not used) */
    s->ctx->vk.vkCmdFillBuffer(t->reset.cmd, t->block.buffer, t->flow[0].offset, vks_tensor_bytes(&t->flow[0]), 0);
    s->ctx->vk.vkCmdFillBuffer(t->reset.cmd, t->block.buffer, t->pgrey[0].offset, pyramid_bytes(t), 0);
    VKS_TRY(vks_rec_end(&t->reset));
    t->reset_pending = true;
    *out = t;
    return VKS_OK;
fail:
    stab_free(s->ctx, t);
    return st;
}

vks_status_t vks_stab_record_input(vks_session_t *s, vks_rec_t *rec)
{
    vks_stab_t *t = s->stab;
    const vks_tensor_t *in = &s->plan.vals[0];
    float inv = 1.0f / fabsf(s->model->in_scale);
    vks_status_t st = VKS_OK;
    if (t->p.flow) {
        /* the last frame's pyramid (pgrey) is the one it made: stab_grey of its input, which
         * prev_in holds; after a reset it is 0, and the frame is a cut */
        for (uint32_t l = 0; l < t->levels && !st; l++) st = vks_op_stab_grey(rec, in, &t->grey[l], 1u << l, inv);
        for (uint32_t l = t->levels; l-- > 0 && !st;) {
            vks_stab_flow_t fp = {t->p.search, t->p.win, t->p.penalty, t->p.trunc,
                                  (float)(t->grey[l].w > t->grey[l].h ? t->grey[l].w : t->grey[l].h), t->p.still, t->p.reg, t->p.dead};
            st = vks_op_stab_flow(rec, &t->grey[l], &t->pgrey[l], l + 1 < t->levels ? &t->flow[l + 1] : NULL,
                                  &t->flow[l], &fp);
        }
        if (!st) st = vks_rec_copy(rec, &t->block, t->grey[0].offset, &t->block, t->pgrey[0].offset, pyramid_bytes(t));
    }
    if (!st) st = vks_op_stab_motion(rec, in, &t->prev_in, &t->flow[0], &t->diff, inv);
    if (!st) st = vks_rec_copy(rec, in->block, in->offset, &t->block, t->prev_in.offset, vks_tensor_bytes(in));
    if (!st) st = vks_op_channel_stats(rec, &t->diff, 0, t->diff.h, &t->cut, 0);
    if (st) vks_error_prefix("stabilization");
    return st;
}

vks_status_t vks_stab_record_stats(vks_session_t *s, vks_rec_t *rec, uint32_t layer, const vks_tensor_t *in,
                                   const vks_tensor_t **stats, uint32_t *stats_off)
{
    vks_stab_t *t = s->stab;
    *stats = NULL;
    *stats_off = 0;
    if (!t->p.stats) return VKS_OK;
    uint32_t off = t->norm_off[layer];
    vks_status_t st = vks_op_channel_stats(rec, in, 0, in->h, &t->cur, off);
    if (!st) st = vks_op_stats_ema(rec, &t->cur, off, &t->ema, off, in->c, in->h * in->w, &t->cut,
                                   at_strength(t->p.alpha, t->strength), t->p.cut);
    if (st) return st;
    *stats = &t->ema;
    *stats_off = off;
    return VKS_OK;
}

vks_status_t vks_stab_record_output(vks_session_t *s, vks_rec_t *rec)
{
    vks_stab_t *t = s->stab;
    if (!t->p.blend) return VKS_OK;
    const vks_tensor_t *out = &s->plan.vals[s->model->nlayers];
    vks_stab_blend_t b = {t->p.radius, at_strength(t->p.keep, t->strength), t->p.lo, t->p.hi, t->p.cut,
                          t->strength * t->p.clamp / fabsf(s->model->out_scale)};
    vks_status_t st = vks_op_stab_blend(rec, out, &t->prev_out, &t->diff, &t->cut, &t->flow[0], &t->dev, &b);
    if (!st && t->p.rms > 0) {
        st = vks_op_channel_stats(rec, &t->dev, 0, t->dev.h, &t->dstats, 0);
        if (!st) st = vks_op_stab_limit(rec, out, &t->dev, &t->dstats, t->strength * t->p.rms / fabsf(s->model->out_scale));
    }
    if (!st) st = vks_rec_copy(rec, out->block, out->offset, &t->block, t->prev_out.offset, vks_tensor_bytes(out));
    if (st) vks_error_prefix("stabilization");
    return st;
}

VkCommandBuffer vks_stab_pre_submit(const vks_session_t *s)
{
    return s->stab && s->stab->reset_pending ? s->stab->reset.cmd : VK_NULL_HANDLE;
}

void vks_stab_submitted(vks_session_t *s)
{
    if (s->stab) s->stab->reset_pending = false;
}

void vks_stab_destroy(vks_session_t *s)
{
    stab_free(s->ctx, s->stab);
    s->stab = NULL;
}

static vks_status_t rerecord(vks_session_t *s)
{
    vks_status_t st = vks_rec_reset(&s->main);
    if (!st) st = vks_session_record(s, &s->main, VK_NULL_HANDLE);
    if (!st) s->main_recordings++;
    return st;
}

vks_status_t vks_session_set_stabilize(vks_session_t *s, float strength)
{
    if (!s) return vks_fail(VKS_ERR_INVALID_ARGUMENT, "vks_session_set_stabilize: NULL session");
    if (!(strength >= 0.0f && strength <= 1.0f))
        return vks_fail(VKS_ERR_INVALID_ARGUMENT, "stabilization strength %g: must be in [0, 1]", strength);
    if (s->tiled && strength > 0)
        return vks_fail(VKS_ERR_UNSUPPORTED, "a session run in tiles cannot be stabilized");
    if (s->opts.input == VKS_TENSOR_F32 && strength > 0)
        return vks_fail(VKS_ERR_UNSUPPORTED, "a session of VKS_TENSOR_F32 input cannot be stabilized");
    if (strength == 0.0f) {
        if (!s->stab) return VKS_OK;
        vks_stab_destroy(s);
        return rerecord(s);
    }
    if (s->stab && s->stab->strength == strength) return VKS_OK;
    bool fresh = !s->stab;
    if (fresh) {
        vks_status_t cs = stab_create(s, &s->stab);
        if (cs) return cs;
    }
    float old = s->stab->strength;
    s->stab->strength = strength;
    vks_status_t st = rerecord(s);
    if (st) {   /* back to how it was */
        char why[768];
        snprintf(why, sizeof why, "%s", vks_last_error());
        if (fresh) vks_stab_destroy(s);
        else s->stab->strength = old;
        if (rerecord(s) == VKS_OK) vks_error_set("%s", why);
    }
    return st;
}

float vks_session_stabilize(const vks_session_t *s)
{
    return s && s->stab ? s->stab->strength : 0.0f;
}

vks_status_t vks_session_reset_stabilize(vks_session_t *s)
{
    if (!s) return vks_fail(VKS_ERR_INVALID_ARGUMENT, "vks_session_reset_stabilize: NULL session");
    if (s->stab) s->stab->reset_pending = true;
    return VKS_OK;
}
