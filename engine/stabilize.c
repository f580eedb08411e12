/* Temporal stabilization of a session's frames, on the GPU, inside the session's one command
 * buffer (no read-back, no host work per frame):
 *   1. stab_motion: each input pixel's change since the last frame (diff, 0..255), and the
 *      frame's mean change (channel_stats over diff): above a threshold, a scene cut.
 *   2. every instance norm normalizes with an exponential moving average of its per-channel mean
 *      and variance (channel_stats -> stats_ema -> instance_norm with GIVEN_STATS), restarted
 *      on a cut, so that colours do not pump from frame to frame;
 *   3. stab_blend: where the input did not change beyond noise, the output moves toward the
 *      previous output; where it changed, the new output is taken (no trails); all new on a cut.
 * The state (previous input and output, the averages) lives in a block of its own that persists
 * across frames. A reset fills the previous input with a huge value: the next frame is a cut. */
#include "stabilize.h"
#include "ops/op.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct vks_stab_params {
    float keep;         /* stab_blend keep at strength 1; at strength S, 1 - (1 - keep)^S */
    float alpha;        /* stats_ema alpha at strength 1; at strength S, 1 - (1 - alpha)^S */
    float lo, hi;       /* stab_blend thresholds (0..255) */
    float cut;          /* cut threshold: mean input change (0..255) */
    float clamp;        /* the output stays within this of the unstabilized one (0..255) */
    uint32_t radius;    /* stab_blend window radius */
    bool stats, blend;  /* which parts are on */
} vks_stab_params_t;

/* Chosen from benchmarks/stabilize.sh (README: "Stable video"). At strength S the averages'
 * time constants grow geometrically: the past's weight is 1 - (1 - w)^S, 0 at S = 0. */
static const vks_stab_params_t defaults = {
    .keep = 0.98f, .alpha = 0.995f, .lo = 4.0f, .hi = 16.0f, .cut = 30.0f, .clamp = 16.0f, .radius = 2, .stats = true,
    .blend = true,
};

static float at_strength(float w, float s)
{
    return 1.0f - powf(1.0f - w, s);
}

struct vks_stab {
    float strength;
    vks_stab_params_t p;
    vks_block_t block;
    vks_tensor_t prev_in, diff, prev_out, cut, cur, ema;
    uint32_t *norm_off;     /* per layer: the pair index of its first channel in cur and ema */
    vks_rec_t reset;        /* fills prev_in with a huge value */
    bool reset_pending;
};

/* VKSTYLE_STABILIZE_TUNE="keep=0.98,alpha=0.995,lo=4,hi=16,cut=30,clamp=16,radius=2,stats=1,blend=1" overrides
 * the defaults, for the measurements (benchmarks/stabilize.sh); unknown keys are an error. */
static vks_status_t tune(vks_stab_params_t *p)
{
    const char *env = getenv("VKSTYLE_STABILIZE_TUNE");
    if (!env || !*env) return VKS_OK;
    char buf[256];
    snprintf(buf, sizeof buf, "%s", env);
    for (char *save = NULL, *tok = strtok_r(buf, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
        char *eq = strchr(tok, '=');
        if (!eq) return vks_fail(VKS_ERR_INVALID_ARGUMENT, "VKSTYLE_STABILIZE_TUNE: '%s' is not key=value", tok);
        *eq = 0;
        char *end;
        double v = strtod(eq + 1, &end);
        if (*end || end == eq + 1 || !isfinite(v) || v < 0)
            return vks_fail(VKS_ERR_INVALID_ARGUMENT, "VKSTYLE_STABILIZE_TUNE: %s=%s", tok, eq + 1);
        if (!strcmp(tok, "keep")) p->keep = (float)v;
        else if (!strcmp(tok, "alpha")) p->alpha = (float)v;
        else if (!strcmp(tok, "lo")) p->lo = (float)v;
        else if (!strcmp(tok, "hi")) p->hi = (float)v;
        else if (!strcmp(tok, "cut")) p->cut = (float)v;
        else if (!strcmp(tok, "clamp")) p->clamp = (float)v;
        else if (!strcmp(tok, "radius")) p->radius = (uint32_t)v;
        else if (!strcmp(tok, "stats")) p->stats = v != 0;
        else if (!strcmp(tok, "blend")) p->blend = v != 0;
        else return vks_fail(VKS_ERR_INVALID_ARGUMENT, "VKSTYLE_STABILIZE_TUNE: unknown key %s", tok);
    }
    if (p->keep > 1 || p->alpha > 1 || !(p->hi > p->lo) || p->cut >= VKS_STAB_DIFF_MAX || p->radius > 16)
        return vks_fail(VKS_ERR_INVALID_ARGUMENT, "VKSTYLE_STABILIZE_TUNE: keep, alpha <= 1, lo < hi, cut < %g, radius <= 16",
                        VKS_STAB_DIFF_MAX);
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
    const vks_tensor_t *o = &s->plan.vals[m->nlayers];
    t->prev_in = vks_tensor_act(NULL, 0, 1, 3, s->h, s->w, 4);
    t->diff = vks_tensor_act(NULL, 0, 1, 1, s->h, s->w, 4);
    t->prev_out = vks_tensor_act(NULL, 0, 1, 3, o->h, o->w, 4);
    t->cut = vks_tensor_flat(NULL, 0, 2);
    t->cur = vks_tensor_flat(NULL, 0, 2 * (pairs ? pairs : 1));
    t->ema = t->cur;
    VkDeviceSize off = 0;
    vks_tensor_t *ts[6] = {&t->prev_in, &t->diff, &t->prev_out, &t->cut, &t->cur, &t->ema};
    for (int i = 0; i < 6; i++) off = place_tensor(ts[i], NULL, off);
    VKS_TRY(vks_block_create(s->ctx, off, VKS_MEM_DEVICE, &t->block));
    for (int i = 0; i < 6; i++) ts[i]->block = &t->block;
    VKS_TRY(vks_rec_begin(s->ctx, &t->reset, false));
    s->ctx->vk.vkCmdFillBuffer(t->reset.cmd, t->block.buffer, t->prev_in.offset, vks_tensor_bytes(&t->prev_in),
                               0x7f7f7f7fu);   /* 3.4e38: every pixel changed */
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
    vks_status_t st = vks_op_stab_motion(rec, in, &t->prev_in, &t->diff, 1.0f / s->model->in_scale);
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
    vks_stab_blend_t b = {t->p.radius, at_strength(t->p.keep, t->strength), t->p.lo, t->p.hi, t->p.cut,
                          t->p.clamp / fabsf(s->model->out_scale)};
    vks_status_t st = vks_op_stab_blend(rec, &s->plan.vals[s->model->nlayers], &t->prev_out, &t->diff, &t->cut, &b);
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
        if (rerecord(s) == VKS_OK) vks_fail(st, "%s", why);
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
