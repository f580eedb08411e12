/* The tuner: each convolution's variant chosen by timing them on the device (vks_tune_t in
 * vkstyle.h). The choices live in a text file beside the pipeline cache,
 * <cache dir>/<vendor>-<device>-<pipeline cache UUID>.tune:
 *
 *   vkstyle-tune N <vkstyle version> <shaders> <driverVersion> <device name>   (else the file is ignored)
 *   <layer key> TAB <algo> <px> <lx> <oc> TAB <ms>                             (one line per layer shape)
 *
 * The key names everything the variants and their speed depend on: the op, kernel, strides,
 * padding mode, activation, bias, residual, shapes, precision and the context's conv options.
 * N is TUNE_FORMAT, raised whenever the candidates or the way they are timed change (the version
 * alone does not move with every build): 2 added the implicit GEMM and the row bands, 3 the direct
 * tile's output channels (oc), 4 the shaders field, 5 the GPU warm-up before timing (choices a GPU
 * timed from idle clocks are timed again), 6 the transposed convolution's GEMM per tap. <shaders>
 * is a hash of the SPIR-V of every shader the library embeds, so that a build whose shaders changed times its layers again: a choice timed against
 * other shader code is stale (Mesa 25, udnie 64x64: a file written before two commits to the
 * transposed convolution kept conv1 at 3.5-4.4 ms and deconv1 at 4.0-5.1 where timing again chose
 * 2.8-3.0 and 3.8-4.0). */
#include "session.h"
#include "cache.h"
#include "ops/op.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <threads.h>
#include <time.h>

#define TUNE_REPS 3                  /* runs of a layer per timing: the first warms up */
#define TUNE_ROUNDS 3                /* timings per variant, alternating */
#define TUNE_KEEP 1.25               /* after the first round, variants within this of the best */
#define TUNE_MARGIN 0.95             /* another variant replaces the heuristic's only when this much
                                        faster: timed alone, layers within a few percent swapped
                                        places in the network (lavapipe, udnie 64x64) */
#define MAX_VARIANTS VKS_TUNE_MAX_TRIALS

typedef struct entry {
    char key[160];
    vks_conv_variant_t var;
    double ms;
    uint32_t report;                 /* timed by this session: its entry in s->tuning */
} entry_t;

typedef struct table {
    entry_t *e;
    uint32_t n, cap;
} table_t;

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec + ts.tv_nsec * 1e-9;
}

#define TUNE_FORMAT 7

/* FNV-1a over the SPIR-V of every shader in the library (vks_shader_table): a constant of the
 * build, about 480 KB to read, so computed once per process rather than at every header. */
static uint32_t g_shaders_hash;
static once_flag g_shaders_once = ONCE_FLAG_INIT;

static void hash_shaders(void)
{
    uint32_t h = VKS_FNV_BASIS;
    for (uint32_t i = 0; i < VKS_SHADER_COUNT; i++) h = vks_fnv1a(h, vks_shader_table[i].code, vks_shader_table[i].size);
    g_shaders_hash = h;
}

static uint32_t shaders_hash(void)
{
    call_once(&g_shaders_once, hash_shaders);
    return g_shaders_hash;
}

static void header(const vks_context_t *ctx, char *buf, size_t size)
{
    char name[256];
    vks_escape_controls(name, sizeof name, ctx->info.name);
    snprintf(buf, size, "vkstyle-tune %d %s %08x %u %s", TUNE_FORMAT, vks_version_string(), shaders_hash(),
             ctx->props.driverVersion, name);
}

static vks_status_t table_add(table_t *t, const char *key, const vks_conv_variant_t *v, double ms)
{
    for (uint32_t i = 0; i < t->n; i++)
        if (!strcmp(t->e[i].key, key)) {
            t->e[i].var = *v;
            t->e[i].ms = ms;
            return VKS_OK;
        }
    if (t->n == t->cap) {
        uint32_t cap = t->cap ? 2 * t->cap : 32;
        entry_t *grown = realloc(t->e, cap * sizeof *grown);
        if (!grown) return vks_fail(VKS_ERR_OUT_OF_HOST_MEMORY, "out of host memory");
        t->e = grown;
        t->cap = cap;
    }
    entry_t *e = &t->e[t->n++];
    snprintf(e->key, sizeof e->key, "%s", key);
    e->var = *v;
    e->ms = ms;
    return VKS_OK;
}

static const entry_t *table_find(const table_t *t, const char *key)
{
    for (uint32_t i = 0; i < t->n; i++)
        if (!strcmp(t->e[i].key, key)) return &t->e[i];
    return NULL;
}

/* The tune file's path (the pipeline cache's, .tune for .bin), or false: no disk cache. */
static bool tune_path(const vks_context_t *ctx, char *path, size_t size)
{
    size_t n = strlen(ctx->cache_path);
    if (n < 4 || n + 2 > size || strcmp(ctx->cache_path + n - 4, ".bin")) return false;
    snprintf(path, size, "%.*s.tune", (int)(n - 4), ctx->cache_path);
    return true;
}

/* The file's entries, when its header is this device's, driver's and vkstyle's; anything else
 * (absent, unreadable, stale, malformed lines) is left out: the layers are timed again. */
static vks_status_t table_load(const vks_context_t *ctx, const char *path, table_t *t)
{
    void *data = NULL;
    size_t size = 0;
    if (vks_cache_read(path, 4u << 20, &data, &size)) {
        vks_error_clear();
        return VKS_OK;
    }
    char want[400], *text = realloc(data, size + 1);
    if (!text) {
        free(data);
        return vks_fail(VKS_ERR_OUT_OF_HOST_MEMORY, "out of host memory");
    }
    text[size] = 0;
    header(ctx, want, sizeof want);
    vks_status_t st = VKS_OK;
    char *save = NULL, *line = strtok_r(text, "\n", &save);
    if (line && !strcmp(line, want)) {
        while (!st && (line = strtok_r(NULL, "\n", &save))) {
            char *tab1 = strchr(line, '\t'), *tab2 = tab1 ? strchr(tab1 + 1, '\t') : NULL;
            vks_conv_variant_t v;
            double ms;
            if (!tab2 || tab1 - line >= (long)sizeof t->e->key ||
                sscanf(tab1 + 1, "%u %u %u %u", &v.algo, &v.px, &v.lx, &v.oc) != 4 || v.algo > VKS_CONV_WINO6 ||
                v.oc > VKS_CONV_OC_WIDE || v.px > 1024 || v.lx > 1024 ||
                sscanf(tab2 + 1, "%lf", &ms) != 1 || !(ms >= 0 && ms < 1e6))   /* !: NaN too */
                continue;
            *tab1 = 0;
            st = table_add(t, line, &v, ms);
        }
    }
    free(text);
    return st;
}

/* Merge t into the file (entries other sessions wrote meanwhile are kept) and write it whole. */
static void table_save(const vks_context_t *ctx, const char *path, const table_t *t)
{
    table_t all = {0};
    vks_status_t st = table_load(ctx, path, &all);
    for (uint32_t i = 0; !st && i < t->n; i++) st = table_add(&all, t->e[i].key, &t->e[i].var, t->e[i].ms);
    size_t cap = 512 + (size_t)all.n * 256, len = 0;
    char *buf = st ? NULL : malloc(cap);
    if (buf) {
        header(ctx, buf, 400);
        len = strlen(buf);
        buf[len++] = '\n';
        for (uint32_t i = 0; i < all.n; i++) {
            const entry_t *e = &all.e[i];
            /* at most 256 bytes with table_load's bounds; never past buf whatever an entry holds */
            int k = snprintf(buf + len, cap - len, "%s\t%u %u %u %u\t%.4f\n", e->key, e->var.algo, e->var.px,
                             e->var.lx, e->var.oc, e->ms);
            if (k < 0 || (size_t)k >= cap - len) break;
            len += (size_t)k;
        }
        vks_cache_write(path, buf, len);   /* best effort, as the pipeline cache */
    }
    vks_error_clear();
    free(buf);
    free(all.e);
}

static void layer_key(const vks_session_t *s, uint32_t i, char *buf, size_t size)
{
    const vks_layer_t *ly = &s->model->layers[i];
    const vks_tensor_t *in = &s->plan.vals[ly->src], *out = &s->plan.vals[i + 1];
    snprintf(buf, size, "%s k%ux%u s%ux%u p%u a%u b%d r%d w%d %ux%ux%ux%u->%ux%ux%u fp%u sw%d", ly->op->name,
             ly->kh, ly->kw, ly->stride, ly->stride_w, ly->pmode, ly->act, ly->has_bias, ly->has_residual,
             ly->wino.block != NULL, in->n, in->c, in->h, in->w, out->c, out->h, out->w, 8 * in->esize,
             s->ctx->conv_storage_weights);
}

/* The GPU time of layer i with variant v: the best of TUNE_REPS - 1 runs after one to warm up,
 * by timestamps (or the wall time of all of them, on devices without). */
static vks_status_t time_variant(vks_session_t *s, VkQueryPool pool, uint32_t i, const vks_conv_variant_t *v,
                                 double *ms)
{
    vks_context_t *ctx = s->ctx;
    vks_status_t st = VKS_OK;
    vks_rec_t rec = {0};
    s->var[i] = *v;
    VKS_TRY(vks_rec_begin(ctx, &rec, false));
    if (pool) ctx->vk.vkCmdResetQueryPool(rec.cmd, pool, 0, TUNE_REPS + 1);
    for (uint32_t r = 0; r < TUNE_REPS; r++) {
        if (pool) ctx->vk.vkCmdWriteTimestamp(rec.cmd, VK_PIPELINE_STAGE_BOTTOM_OF_PIPE_BIT, pool, r);
        VKS_TRY(vks_session_record_layer(s, &rec, i));
    }
    if (pool) ctx->vk.vkCmdWriteTimestamp(rec.cmd, VK_PIPELINE_STAGE_BOTTOM_OF_PIPE_BIT, pool, TUNE_REPS);
    VKS_TRY(vks_rec_end(&rec));
    double t0 = now_s();
    VKS_TRY(vks_submit_wait(ctx, &rec.cmd, 1));
    *ms = (now_s() - t0) * 1e3 / TUNE_REPS;
    if (pool) {
        uint64_t q[TUNE_REPS + 1];
        VKS_VK(ctx->vk.vkGetQueryPoolResults(ctx->device, pool, 0, TUNE_REPS + 1, sizeof q, q, sizeof *q,
                                             VK_QUERY_RESULT_64_BIT | VK_QUERY_RESULT_WAIT_BIT));
        double period = ctx->props.limits.timestampPeriod * 1e-6, best = 0;
        for (uint32_t r = 1; r < TUNE_REPS; r++) {
            double t = (double)(q[r + 1] - q[r]) * period;
            if (r == 1 || t < best) best = t;
        }
        *ms = best;
    }
fail:
    vks_rec_destroy(&rec);
    return st;
}

/* Whether AUTO tunes: a disk cache, not VKSTYLE_TUNE=0, and none of the measurement knobs that
 * force a variant everywhere (VKSTYLE_WINOGRAD=2, 4 or 6, VKSTYLE_CONV_TILE): they act through the
 * heuristic, which the tuner's choices would bypass. */
static bool auto_enabled(const vks_context_t *ctx)
{
    const char *t = getenv("VKSTYLE_CONV_TILE");
    bool forced = vks_env_is("VKSTYLE_WINOGRAD", "2") || vks_env_is("VKSTYLE_WINOGRAD", "4") ||
                  vks_env_is("VKSTYLE_WINOGRAD", "6") || (t && *t);
    return ctx->cache_path[0] && !vks_env_is("VKSTYLE_TUNE", "0") && !forced;
}

/* How long the network runs before a layer's timings. A GPU idles at a fraction of its clock while
 * the tuner compiles a layer's pipelines, and timed from there the variants ranked wrongly: on an
 * H200 at 1280x720 fp32 the tuner took F(4x4) for the residual layers (1.25 ms against the
 * implicit GEMM's 1.51), yet with the implicit GEMM they ran at 0.87 ms (benchmarks/README.md).
 * A CPU device has no clock to raise: 0 there. */
static double warmup_ms(const vks_context_t *ctx)
{
    const char *e = getenv("VKSTYLE_TUNE_WARMUP_MS");
    if (e && *e) return atof(e) > 0 ? atof(e) : 0;
    return ctx->props.deviceType == VK_PHYSICAL_DEVICE_TYPE_CPU ? 0 : 250;
}

static double time_bound_s(void)
{
    const char *e = getenv("VKSTYLE_TUNE_SECONDS");
    double v = e ? atof(e) : 0;
    return v > 0 ? v : 20.0;
}

vks_status_t vks_tune_session(vks_session_t *s)
{
    vks_context_t *ctx = s->ctx;
    const vks_model_t *m = s->model;
    vks_tune_t mode = s->opts.tune;
    char path[1100];
    if (s->tiled || mode == VKS_TUNE_OFF || (mode == VKS_TUNE_AUTO && !auto_enabled(ctx))) return VKS_OK;
    bool have_file = tune_path(ctx, path, sizeof path);
    vks_status_t st = VKS_OK;
    table_t cache = {0}, fresh = {0};
    VkQueryPool pool = VK_NULL_HANDLE;
    /* before the first timing, one run of the network (recorded with the choices so far), so
     * that every layer reads activations, not whatever the arena held (declared before the
     * first jump to fail, which destroys it) */
    vks_rec_t net = {0};
    bool ran = false;
    vks_conv_variant_t cand[MAX_VARIANTS];
    /* the layers with a choice, and room for their report */
    uint32_t total = 0;
    for (uint32_t i = 0; i < m->nlayers; i++) total += m->layers[i].op->variants != NULL;
    if (!total) return VKS_OK;
    s->var = calloc(m->nlayers, sizeof *s->var);
    s->tuning = calloc(total, sizeof *s->tuning);
    if (!s->var || !s->tuning) return vks_fail(VKS_ERR_OUT_OF_HOST_MEMORY, "out of host memory");
    if (have_file && mode == VKS_TUNE_AUTO) VKS_TRY(table_load(ctx, path, &cache));
    if (ctx->info.timestamps) {
        VkQueryPoolCreateInfo qi = {.sType = VK_STRUCTURE_TYPE_QUERY_POOL_CREATE_INFO,
                                    .queryType = VK_QUERY_TYPE_TIMESTAMP, .queryCount = TUNE_REPS + 1};
        VKS_VK_NEW(ctx->vk.vkCreateQueryPool(ctx->device, &qi, NULL, &pool), pool);
    }
    double start = now_s(), bound = mode == VKS_TUNE_RETIME ? 1e30 : time_bound_s();
    uint32_t done = 0, timed = 0, shown = 0;
    for (uint32_t i = 0; i < m->nlayers; i++) {
        const vks_layer_t *ly = &m->layers[i];
        if (!ly->op->variants) continue;
        const vks_tensor_t *in = &s->plan.vals[ly->src];
        vks_tensor_t scratch;
        vks_layer_io_t io = {.in = in, .out = &s->plan.vals[i + 1], .whole_in = in,
                             .scratch = vks_session_layer_scratch(s, i, &scratch)};
        uint32_t h = 0, n = ly->op->variants(ctx, ly, &io, cand, MAX_VARIANTS, &h);
        done++;
        if (n < 2) continue;   /* nothing to choose */
        vks_tune_layer_t *tl = &s->tuning[s->ntuning++];
        vks_layer_profile_t lp = {0};
        vks_session_layer_describe(s, i, &lp);
        tl->layer = i;
        snprintf(tl->name, sizeof tl->name, "%s", lp.name);
        snprintf(tl->shape, sizeof tl->shape, "%s", lp.shape);
        char key[160];
        layer_key(s, i, key, sizeof key);
        const entry_t *hit = table_find(&cache, key), *now = table_find(&fresh, key);
        if (now) {   /* a layer of the same shape was timed a moment ago: its report and choice */
            const vks_tune_layer_t *first = &s->tuning[now->report];
            tl->count = first->count;
            tl->chosen = first->chosen;
            memcpy(tl->trials, first->trials, sizeof tl->trials);
            s->var[i] = now->var;
        } else if (hit) {
            s->var[i] = hit->var;
            tl->cached = 1;
            tl->count = 1;
            vks_conv_variant_name(&hit->var, tl->trials[0].variant, sizeof tl->trials[0].variant);
            tl->trials[0].ms = hit->ms;
        } else if (now_s() - start < bound) {
            if (!ran) {
                VkCommandBuffer cmds[2];
                uint32_t ncmd = 0;
                VKS_TRY(vks_rec_begin(ctx, &net, false));
                VKS_TRY(vks_session_record(s, &net, VK_NULL_HANDLE));
                if (m->cin_channels) cmds[ncmd++] = s->style.cmd;
                cmds[ncmd++] = net.cmd;
                VKS_TRY(vks_submit_wait(ctx, cmds, ncmd));
                ran = true;
            }
            /* rounds over the candidates, each keeping its best time; after the first only those
             * within TUNE_KEEP of the best go on (the machine's speed drifts: alternate them). On a
             * GPU an untimed round first (compiling the pipelines idles the GPU), then the network
             * until the clocks are up (warmup_ms). */
            double warm = warmup_ms(ctx);
            uint32_t best = 0;
            for (int round = warm > 0 ? -1 : 0; round < TUNE_ROUNDS; round++) {
                if (round == 0 && warm > 0) {
                    VkCommandBuffer cmds[2];
                    uint32_t ncmd = 0;
                    if (m->cin_channels) cmds[ncmd++] = s->style.cmd;
                    cmds[ncmd++] = net.cmd;
                    double w0 = now_s();
                    do {
                        VKS_TRY(vks_submit_wait(ctx, cmds, ncmd));
                    } while ((now_s() - w0) * 1e3 < warm);
                    tl->warmup_ms = (now_s() - w0) * 1e3;
                }
                for (uint32_t k = 0; k < n; k++) {
                    if (round > 0 && tl->trials[k].ms > TUNE_KEEP * tl->trials[best].ms) continue;
                    double ms = 0;
                    st = time_variant(s, pool, i, &cand[k], &ms);
                    if (st == VKS_ERR_SHAPE || st == VKS_ERR_INVALID_ARGUMENT || st == VKS_ERR_UNSUPPORTED) {
                        ms = INFINITY;   /* a variant that cannot record these tensors: never chosen */
                        st = VKS_OK;
                        vks_error_clear();
                    }
                    if (st) goto fail;
                    if (round < 0) continue;   /* the untimed round */
                    if (!round || ms < tl->trials[k].ms) tl->trials[k].ms = ms;
                    vks_conv_variant_name(&cand[k], tl->trials[k].variant, sizeof tl->trials[k].variant);
                    if (tl->trials[k].ms < tl->trials[best].ms) best = k;
                }
            }
            if (h < n && best != h && tl->trials[best].ms > TUNE_MARGIN * tl->trials[h].ms) best = h;
            tl->count = n;
            tl->chosen = best;
            timed++;
            s->var[i] = cand[best];
            VKS_TRY(table_add(&fresh, key, &cand[best], tl->trials[best].ms));
            fresh.e[fresh.n - 1].report = s->ntuning - 1;
        } else {
            s->var[i] = (vks_conv_variant_t){0};   /* over the bound: the heuristic, timed next time */
        }
        if (tl->count > 1 && !tl->cached && s->opts.tune_progress)
            s->opts.tune_progress(s->opts.progress_user, shown = done, total);
    }
    /* the progress line ends even when the last layers were cached or had nothing to choose */
    if (timed && shown != total && s->opts.tune_progress) s->opts.tune_progress(s->opts.progress_user, total, total);
    if (fresh.n && have_file) table_save(ctx, path, &fresh);
fail:
    vks_rec_destroy(&net);
    if (pool) ctx->vk.vkDestroyQueryPool(ctx->device, pool, NULL);
    free(cache.e);
    free(fresh.e);
    return st;
}

const vks_tune_layer_t *vks_session_tuning(const vks_session_t *s, uint32_t *count)
{
    if (count) *count = s && s->tuning ? s->ntuning : 0;
    return s && s->tuning && s->ntuning ? s->tuning : NULL;
}
