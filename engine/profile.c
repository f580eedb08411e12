/* Benchmarking: per-step GPU times from timestamp queries, and the device's own peaks. */
#include "session.h"
#include "ops/op.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static double now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

static void stats(double *v, uint32_t n, double *med, double *lo, double *hi)
{
    qsort(v, n, sizeof *v, cmp_double);
    *med = n % 2 ? v[n / 2] : 0.5 * (v[n / 2 - 1] + v[n / 2]);
    *lo = v[0];
    *hi = v[n - 1];
}

/* Name, op, shape, FLOPs and bytes of one layer: the costs analytically, by its op. */
void vks_session_layer_describe(const vks_session_t *s, uint32_t i, vks_layer_profile_t *lp)
{
    const vks_layer_t *ly = &s->model->layers[i];
    const vks_tensor_t *in = &s->plan.vals[ly->src], *out = &s->plan.vals[i + 1];
    vks_escape_controls(lp->name, sizeof lp->name, ly->name);   /* from the model file */
    snprintf(lp->op, sizeof lp->op, "%s", vks_op_label(ly->op));
    snprintf(lp->shape, sizeof lp->shape, "%ux%ux%u -> %ux%ux%u", in->c, in->h, in->w, out->c, out->h, out->w);
    ly->op->cost(ly, in, out, lp);
}

/* The sessions neither profile times (vks_session_profile, vks_session_profile_shaders): one that
 * runs in tiles, and one that takes float tensors instead of pixels. */
static vks_status_t profile_refusal(const vks_session_t *s, const char *fn)
{
    if (s->tiled) return vks_fail(VKS_ERR_UNSUPPORTED, "%s: the session runs in tiles", fn);
    if (s->opts.input == VKS_TENSOR_F32)
        return vks_fail(VKS_ERR_UNSUPPORTED, "%s: the session takes float tensors, not pixels", fn);
    return VKS_OK;
}

/* The command buffers of one profiled frame: the style mix's (multi-style models), then rec's. */
static uint32_t frame_cmds(const vks_session_t *s, const vks_rec_t *rec, VkCommandBuffer cmds[2])
{
    uint32_t n = 0;
    if (s->model->cin_channels) cmds[n++] = s->style.cmd;
    cmds[n++] = rec->cmd;
    return n;
}

vks_status_t vks_session_profile(vks_session_t *s, uint32_t warmup, uint32_t iters, vks_profile_t *out)
{
    if (!s || !out || iters == 0) return vks_fail(VKS_ERR_INVALID_ARGUMENT, "vks_session_profile: bad argument");
    vks_status_t st = profile_refusal(s, "vks_session_profile");
    if (st) return st;
    memset(out, 0, sizeof *out);
    vks_context_t *ctx = s->ctx;
    const vks_model_t *m = s->model;
    uint32_t nsteps = m->nlayers + 2, nq = nsteps + 1;
    VkQueryPool pool = VK_NULL_HANDLE;
    vks_rec_t rec = {0};
    double *t = calloc((size_t)iters * (nsteps + 1), sizeof *t), *wall = calloc(iters, sizeof *wall);
    uint64_t *q = calloc(nq, sizeof *q), *marks = calloc(nq, sizeof *marks);
    out->steps = calloc(nsteps, sizeof *out->steps);
    if (!t || !wall || !q || !marks || !out->steps) { st = vks_fail(VKS_ERR_OUT_OF_HOST_MEMORY, "out of host memory"); goto fail; }
    out->count = nsteps;
    out->timestamps = ctx->info.timestamps;
    if (out->timestamps) {
        VkQueryPoolCreateInfo qi = {.sType = VK_STRUCTURE_TYPE_QUERY_POOL_CREATE_INFO, .queryType = VK_QUERY_TYPE_TIMESTAMP, .queryCount = nq};
        VKS_VK_NEW(ctx->vk.vkCreateQueryPool(ctx->device, &qi, NULL, &pool), pool);
    }
    VKS_TRY(vks_rec_begin(ctx, &rec, false));
    rec.marks = marks;
    VKS_TRY(vks_session_record(s, &rec, pool));
    rec.marks = NULL;
    VkCommandBuffer cmds[2];
    uint32_t ncmd = frame_cmds(s, &rec, cmds);
    double period = ctx->props.limits.timestampPeriod * 1e-6;   /* ticks -> ms */
    for (uint32_t it = 0; it < warmup + iters; it++) {
        double t0 = now_ms();
        VKS_TRY(vks_submit_wait(ctx, cmds, ncmd));
        double t1 = now_ms();
        if (it < warmup) continue;
        uint32_t k = it - warmup;
        wall[k] = t1 - t0;
        if (pool) {
            VKS_VK(ctx->vk.vkGetQueryPoolResults(ctx->device, pool, 0, nq, nq * sizeof *q, q, sizeof *q,
                                         VK_QUERY_RESULT_64_BIT | VK_QUERY_RESULT_WAIT_BIT));
            for (uint32_t i = 0; i < nsteps; i++) t[(size_t)i * iters + k] = (double)(q[i + 1] - q[i]) * period;
            t[(size_t)nsteps * iters + k] = (double)(q[nsteps] - q[0]) * period;
        }
    }
    double lo, hi;
    stats(wall, iters, &out->wall_ms_resident, &lo, &hi);
    for (uint32_t i = 0; i < nsteps; i++) {
        vks_layer_profile_t *lp = &out->steps[i];
        if (i == 0 || i == nsteps - 1) {
            double np = (double)s->w * s->h;
            snprintf(lp->name, sizeof lp->name, "%s", i == 0 ? "input" : "output");
            snprintf(lp->op, sizeof lp->op, "%s", i == 0 ? (s->opts.input == VKS_PIXELS_YUYV ? "yuyv_to_rgb" : "pack_rgb8") : "unpack_rgba8");
            snprintf(lp->shape, sizeof lp->shape, "%ux%u pixels", s->w, s->h);
            lp->bytes = np * (4 + 3 * s->plan.vals[0].esize);
            lp->flops = 3 * np;
        } else {
            vks_session_layer_describe(s, i - 1, lp);
        }
        lp->dispatches = (uint32_t)(marks[i + 1] - marks[i]);
        out->flops += lp->flops;
        out->bytes += lp->bytes;
        out->dispatches += lp->dispatches;
        if (pool) stats(t + (size_t)i * iters, iters, &lp->gpu_ms_median, &lp->gpu_ms_min, &lp->gpu_ms_max);
    }
    if (pool) stats(t + (size_t)nsteps * iters, iters, &out->gpu_ms_median, &out->gpu_ms_min, &out->gpu_ms_max);
    /* with upload and download, through the public path */
    uint8_t *px = calloc(1, vks_session_input_bytes(s));
    if (!px) { st = vks_fail(VKS_ERR_OUT_OF_HOST_MEMORY, "out of host memory"); goto fail; }
    for (uint32_t it = 0; it < iters && !st; it++) {
        double t0 = now_ms();
        st = vks_session_run_raw(s, px, NULL);
        wall[it] = now_ms() - t0;
        if (!st) memcpy(px, s->stage_out.map, 4);   /* touch the result like a caller would */
    }
    free(px);
    if (st) goto fail;
    stats(wall, iters, &out->wall_ms_io, &lo, &hi);
fail:
    vks_rec_destroy(&rec);
    if (pool) ctx->vk.vkDestroyQueryPool(ctx->device, pool, NULL);
    free(t);
    free(wall);
    free(q);
    free(marks);
    if (st) vks_profile_free(out);
    return st;
}

static int cmp_time_desc(const void *a, const void *b)
{
    double x = ((const vks_shader_time_t *)a)->gpu_ms, y = ((const vks_shader_time_t *)b)->gpu_ms;
    return (x < y) - (x > y);
}

/* The frame recorded into rec with the steps' timestamps (as vks_session_profile records it: no
 * staging copies) and one after every dispatch into ts, cap queries; *needed: the queries that
 * took (more than cap: record again with a larger pool). */
static vks_status_t record_timed(vks_session_t *s, VkQueryPool steps, VkQueryPool ts, uint32_t cap,
                                 vks_shader_id_t *shader, vks_rec_t *rec, uint32_t *needed)
{
    vks_context_t *ctx = s->ctx;
    vks_status_t st = vks_rec_begin(ctx, rec, false);
    if (st) return st;
    ctx->vk.vkCmdResetQueryPool(rec->cmd, ts, 0, cap);
    ctx->vk.vkCmdWriteTimestamp(rec->cmd, VK_PIPELINE_STAGE_BOTTOM_OF_PIPE_BIT, ts, 0);
    rec->dispatch_ts = ts;
    rec->dispatch_ts_cap = cap;
    rec->dispatch_shader = shader;
    st = vks_session_record(s, rec, steps);
    *needed = rec->dispatch_ts_n + 1;
    rec->dispatch_ts = VK_NULL_HANDLE;
    return st;
}

vks_status_t vks_session_profile_shaders(vks_session_t *s, uint32_t warmup, uint32_t iters, vks_shader_time_t **out,
                                         uint32_t *count)
{
    const char *fn = "vks_session_profile_shaders";
    if (!s || !out || !count || iters == 0) return vks_fail(VKS_ERR_INVALID_ARGUMENT, "%s: bad argument", fn);
    *out = NULL;
    *count = 0;
    vks_status_t st = profile_refusal(s, fn);
    if (st) return st;
    vks_context_t *ctx = s->ctx;
    if (!ctx->info.timestamps) return vks_fail(VKS_ERR_UNSUPPORTED, "%s: the device has no timestamps on its compute queue", fn);
    uint32_t nsteps = s->model->nlayers + 2, cap = 8 * nsteps, needed = 0;
    VkQueryPool steps = VK_NULL_HANDLE, ts = VK_NULL_HANDLE;
    vks_rec_t rec = {0};
    vks_shader_id_t *shader = NULL;
    uint64_t *q = NULL;
    double *t = NULL;
    VkQueryPoolCreateInfo qi = {.sType = VK_STRUCTURE_TYPE_QUERY_POOL_CREATE_INFO, .queryType = VK_QUERY_TYPE_TIMESTAMP, .queryCount = nsteps + 1};
    VKS_VK_NEW(ctx->vk.vkCreateQueryPool(ctx->device, &qi, NULL, &steps), steps);
    for (;;) {   /* a pool for every dispatch: twice at most */
        qi.queryCount = cap;
        free(shader);
        if (!(shader = calloc(cap, sizeof *shader))) { st = vks_fail(VKS_ERR_OUT_OF_HOST_MEMORY, "out of host memory"); goto fail; }
        VKS_VK_NEW(ctx->vk.vkCreateQueryPool(ctx->device, &qi, NULL, &ts), ts);
        VKS_TRY(record_timed(s, steps, ts, cap, shader, &rec, &needed));
        if (needed <= cap) break;
        vks_rec_destroy(&rec);
        ctx->vk.vkDestroyQueryPool(ctx->device, ts, NULL);
        ts = VK_NULL_HANDLE;
        cap = needed;
    }
    uint32_t nd = needed - 1;   /* dispatches */
    q = calloc(needed, sizeof *q);
    t = calloc((size_t)VKS_SHADER_COUNT * iters, sizeof *t);
    if (!q || !t) { st = vks_fail(VKS_ERR_OUT_OF_HOST_MEMORY, "out of host memory"); goto fail; }
    VkCommandBuffer cmds[2];
    uint32_t ncmd = frame_cmds(s, &rec, cmds);
    double period = ctx->props.limits.timestampPeriod * 1e-6;   /* ticks -> ms */
    for (uint32_t it = 0; it < warmup + iters; it++) {
        VKS_TRY(vks_submit_wait(ctx, cmds, ncmd));
        if (it < warmup) continue;
        VKS_VK(ctx->vk.vkGetQueryPoolResults(ctx->device, ts, 0, needed, needed * sizeof *q, q, sizeof *q,
                                             VK_QUERY_RESULT_64_BIT | VK_QUERY_RESULT_WAIT_BIT));
        for (uint32_t d = 0; d < nd; d++) t[(size_t)shader[d] * iters + it - warmup] += (double)(q[d + 1] - q[d]) * period;
    }
    uint32_t used = 0, n = 0, per[VKS_SHADER_COUNT] = {0};
    for (uint32_t d = 0; d < nd; d++) used += !per[shader[d]]++;
    if (!(*out = calloc(used ? used : 1, sizeof **out))) { st = vks_fail(VKS_ERR_OUT_OF_HOST_MEMORY, "out of host memory"); goto fail; }
    for (uint32_t i = 0; i < VKS_SHADER_COUNT; i++) {
        if (!per[i]) continue;
        vks_shader_time_t *o = &(*out)[n++];
        snprintf(o->shader, sizeof o->shader, "%s", vks_shader_table[i].name);
        o->dispatches = per[i];
        double lo, hi;
        stats(t + (size_t)i * iters, iters, &o->gpu_ms, &lo, &hi);
    }
    qsort(*out, n, sizeof **out, cmp_time_desc);
    *count = n;
fail:
    vks_rec_destroy(&rec);
    if (ts) ctx->vk.vkDestroyQueryPool(ctx->device, ts, NULL);
    if (steps) ctx->vk.vkDestroyQueryPool(ctx->device, steps, NULL);
    free(shader);
    free(q);
    free(t);
    if (st) {
        free(*out);
        *out = NULL;
        *count = 0;
    }
    return st;
}

void vks_shader_times_free(vks_shader_time_t *times)
{
    free(times);
}

void vks_profile_free(vks_profile_t *p)
{
    if (!p) return;
    free(p->steps);
    memset(p, 0, sizeof *p);
}

/* ------------------------------------------------------------------ peaks */

typedef struct { uint32_t iters; } peak_push_t;

/* Time `chain` dispatches of `groups` workgroups of a peak shader, each after the one before
 * (with chain > 1 the first two bindings trade ranges at every step: each reads what the one
 * before wrote, so the recorder puts a barrier between them); the best of three runs, in ms, by
 * GPU timestamps when available. */
static vks_status_t time_dispatch(vks_context_t *ctx, const vks_pipeline_t *p, const vks_binding_t *b, uint32_t nb,
                                  const void *push, uint32_t groups, uint32_t chain, double *ms)
{
    vks_status_t st = VKS_OK;
    VkQueryPool pool = VK_NULL_HANDLE;
    vks_rec_t rec = {0};
    if (ctx->info.timestamps) {
        VkQueryPoolCreateInfo qi = {.sType = VK_STRUCTURE_TYPE_QUERY_POOL_CREATE_INFO, .queryType = VK_QUERY_TYPE_TIMESTAMP, .queryCount = 2};
        VKS_VK_NEW(ctx->vk.vkCreateQueryPool(ctx->device, &qi, NULL, &pool), pool);
    }
    VKS_TRY(vks_rec_begin(ctx, &rec, false));
    if (pool) {
        ctx->vk.vkCmdResetQueryPool(rec.cmd, pool, 0, 2);
        ctx->vk.vkCmdWriteTimestamp(rec.cmd, VK_PIPELINE_STAGE_TOP_OF_PIPE_BIT, pool, 0);
    }
    for (uint32_t i = 0; i < chain; i++) {
        vks_binding_t bi[VKS_MAX_BINDINGS];
        memcpy(bi, b, nb * sizeof *b);
        if (i % 2 && nb >= 2) bi[0].offset = b[1].offset, bi[1].offset = b[0].offset;
        VKS_TRY(vks_rec_dispatch(&rec, p, bi, nb, push, groups, 1, 1));
    }
    if (pool) ctx->vk.vkCmdWriteTimestamp(rec.cmd, VK_PIPELINE_STAGE_BOTTOM_OF_PIPE_BIT, pool, 1);
    VKS_TRY(vks_rec_end(&rec));
    double best = 1e30;
    for (int rep = 0; rep < 3; rep++) {
        double t0 = now_ms();
        VKS_TRY(vks_submit_wait(ctx, &rec.cmd, 1));
        double t = now_ms() - t0;
        if (pool) {
            uint64_t q[2];
            VKS_VK(ctx->vk.vkGetQueryPoolResults(ctx->device, pool, 0, 2, sizeof q, q, 8, VK_QUERY_RESULT_64_BIT | VK_QUERY_RESULT_WAIT_BIT));
            t = (double)(q[1] - q[0]) * ctx->props.limits.timestampPeriod * 1e-6;
        }
        if (t < best) best = t;
    }
    *ms = best;
fail:
    vks_rec_destroy(&rec);
    if (pool) ctx->vk.vkDestroyQueryPool(ctx->device, pool, NULL);
    return st;
}

/* FMA peak: grow the work until one dispatch takes >= 50 ms. */
static vks_status_t fma_peak(vks_context_t *ctx, vks_shader_id_t shader, vks_block_t *blk, double *gflops)
{
    const vks_pipeline_t *p;
    vks_status_t st = vks_pipeline_get(ctx, shader, NULL, 0, 1, 0, sizeof(peak_push_t), &p);
    if (st) return st;
    uint32_t groups = ctx->info.type[0] == 'c' ? 16 : 1024;
    peak_push_t push = {64};
    double ms = 0;
    for (int grow = 0; grow < 24; grow++) {
        vks_binding_t b = {blk, 0, (VkDeviceSize)groups * 256 * 16, true};
        if ((st = time_dispatch(ctx, p, &b, 1, &push, groups, 1, &ms))) return st;
        if (ms >= 50.0) break;
        if (push.iters < (1u << 16)) push.iters *= 2;
        else if (groups * 2 <= ctx->max_groups[0] && (VkDeviceSize)groups * 2 * 256 * 16 <= blk->size) groups *= 2;
        else break;
    }
    /* per invocation and iteration: 16 vec4 FMAs (VKS peak shaders) */
    *gflops = (double)groups * 256 * push.iters * 16 * 4 * 2 / (ms * 1e6);
    return VKS_OK;
}

/* The dispatch floor: DISPATCH_CHAIN dispatches of one workgroup copying 4 KiB from one half of
 * 8 KiB to the other and back, each reading what the one before wrote (a barrier between them, as
 * between a network's steps), per dispatch. */
#define DISPATCH_CHAIN 64
static vks_status_t dispatch_floor(vks_context_t *ctx, vks_block_t *blk, double *us)
{
    const vks_pipeline_t *p;
    vks_status_t st = vks_pipeline_get(ctx, VKS_SHADER_PEAK_COPY, NULL, 0, 2, 0, sizeof(peak_push_t), &p);
    if (st) return st;
    peak_push_t push = {256};
    vks_binding_t b[2] = {{blk, 0, 4096, false}, {blk, 4096, 4096, true}};
    double ms = 0;
    if ((st = time_dispatch(ctx, p, b, 2, &push, 1, DISPATCH_CHAIN, &ms))) return st;
    *us = ms * 1e3 / DISPATCH_CHAIN;
    return VKS_OK;
}

vks_status_t vks_measure_peak(vks_context_t *ctx, vks_peak_t *out)
{
    if (!ctx || !out) return vks_fail(VKS_ERR_INVALID_ARGUMENT, "vks_measure_peak: NULL argument");
    memset(out, 0, sizeof *out);
    out->timestamps = ctx->info.timestamps;
    VkDeviceSize copy_bytes = ctx->max_binding < (64u << 20) ? ctx->max_binding / 16 * 16 : (64u << 20);
    vks_block_t blk = {0};
    vks_status_t st = vks_block_create(ctx, 2 * copy_bytes, VKS_MEM_DEVICE, &blk);
    if (st) return st;
    VKS_TRY(fma_peak(ctx, VKS_SHADER_PEAK_FMA_F32, &blk, &out->fp32_gflops));
    if (ctx->fp16_enabled) VKS_TRY(fma_peak(ctx, VKS_SHADER_PEAK_FMA_F16, &blk, &out->fp16_gflops));
    const vks_pipeline_t *p;
    VKS_TRY(vks_pipeline_get(ctx, VKS_SHADER_PEAK_COPY, NULL, 0, 2, 0, sizeof(peak_push_t), &p));
    uint32_t vec4s = (uint32_t)(copy_bytes / 16);
    peak_push_t push = {vec4s};
    vks_binding_t b[2] = {{&blk, 0, copy_bytes, false}, {&blk, copy_bytes, copy_bytes, true}};
    double ms;
    VKS_TRY(time_dispatch(ctx, p, b, 2, &push, vks_div_up(vec4s, 256), 1, &ms));
    out->copy_gbs = 2.0 * (double)copy_bytes / (ms * 1e6);
    VKS_TRY(dispatch_floor(ctx, &blk, &out->dispatch_us));
fail:
    vks_block_destroy(ctx, &blk);
    return st;
}
