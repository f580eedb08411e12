/* Sessions: a model at one input size. The plan (plan.c) gives every tensor its shape and its
 * place in one activation arena; a session checks that it fits the device, allocates, and
 * records the whole network once into a command buffer, each layer through its op's descriptor
 * (ops/op.h). A frame is: copy pixels into staging, one submit, copy pixels out. */
#include "session.h"
#include "ops/op.h"
#include "stabilize.h"
#include "vkstyle/vkstyle_vulkan.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Whether the session takes and gives float tensors (VKS_TENSOR_F32) instead of pixels. */
static bool tensor_io(const vks_session_t *s) { return s->opts.input == VKS_TENSOR_F32; }

/* Bytes of the staging buffers: pixels w*h*4 (YUYV input fits in that), tensors C*H*W*4 of
 * the plan's input and output values. */
static void stage_bytes(const plan_t *p, uint32_t w, uint32_t h, bool tensors, VkDeviceSize *in, VkDeviceSize *out)
{
    if (!tensors) {
        *in = *out = (VkDeviceSize)w * h * 4;
        return;
    }
    const vks_tensor_t *a = &p->vals[0], *b = &p->vals[p->nvals - 1];
    *in = (VkDeviceSize)a->c * a->h * a->w * 4;
    *out = (VkDeviceSize)b->c * b->h * b->w * 4;
}

/* Copy a float32 tensor between a packed [C][H][W] staging buffer and its planes in the arena
 * (one copy when its planes are packed too). */
static vks_status_t copy_planes(vks_rec_t *rec, const vks_block_t *stage, const vks_tensor_t *t, bool to_tensor)
{
    VkDeviceSize plane = (VkDeviceSize)t->h * t->w * 4;
    uint32_t n = t->plane_stride == t->h * t->w ? 1 : t->c;
    VkDeviceSize size = n == 1 ? plane * t->c : plane;
    for (uint32_t c = 0; c < n; c++) {
        VkDeviceSize so = c * plane, to = t->offset + (VkDeviceSize)c * t->plane_stride * 4;
        vks_status_t st = to_tensor ? vks_rec_copy(rec, stage, so, t->block, to, size)
                                    : vks_rec_copy(rec, t->block, to, stage, so, size);
        if (st) return st;
    }
    return VKS_OK;
}

vks_status_t vks_session_memory_estimate(const vks_model_t *model, uint32_t width, uint32_t height,
                                         uint64_t *bytes)
{
    if (!model || !bytes) return vks_fail(VKS_ERR_INVALID_ARGUMENT, "vks_session_memory_estimate: NULL argument");
    plan_t p;
    vks_status_t st = vks_plan_build(model, width, height, 4, true, &p);
    if (!st) *bytes = p.arena + 2 * vks_align((VkDeviceSize)width * height * 4, 256);
    vks_plan_free(&p);
    return st;
}

const vks_tensor_t *vks_session_layer_scratch(vks_session_t *s, uint32_t i, vks_tensor_t *buf)
{
    const item_t *sc = &s->plan.items[s->plan.nvals + 3 + i];   /* the layer's scratch (plan.h) */
    *buf = vks_tensor_flat(&s->arena, sc->off, (uint32_t)(sc->size / sizeof(float)));
    return sc->size ? buf : NULL;
}

vks_status_t vks_session_record_layer(vks_session_t *s, vks_rec_t *rec, uint32_t i)
{
    const vks_model_t *m = s->model;
    const vks_layer_t *ly = &m->layers[i];
    const vks_tensor_t *in = &s->plan.vals[ly->src];
    vks_tensor_t scratch;
    vks_layer_io_t io = {
        .in = in,
        .out = &s->plan.vals[i + 1],
        .in2 = ly->op->flags & VKS_OPF_TWO_INPUTS ? &s->plan.vals[ly->src2] : NULL,
        .res = ly->has_residual ? &s->plan.vals[ly->residual] : NULL,
        .whole_in = in,
        .mix = &s->eff,
        .mix_channels = m->cin_channels,
        .scratch = vks_session_layer_scratch(s, i, &scratch),
        .var = s->var ? &s->var[i] : NULL,
    };
    /* stabilized: the norm takes its input's statistics averaged across frames */
    if (s->stab && (ly->op->flags & VKS_OPF_WHOLE_STATS)) {
        vks_status_t st = vks_stab_record_stats(s, rec, i, in, &io.stats, &io.stats_off);
        if (st) return st;
    }
    return ly->op->record(rec, ly, &io);
}

static void timestamp(vks_rec_t *rec, VkQueryPool pool, uint32_t q)
{
    if (pool) rec->ctx->vk.vkCmdWriteTimestamp(rec->cmd, VK_PIPELINE_STAGE_BOTTOM_OF_PIPE_BIT, pool, q);
    if (pool && rec->marks) rec->marks[q] = rec->dispatches;   /* vks_session_profile's dispatches per step */
}

vks_status_t vks_session_record(vks_session_t *s, vks_rec_t *rec, VkQueryPool pool)
{
    vks_status_t st;
    const vks_model_t *m = s->model;
    VkDeviceSize px = (VkDeviceSize)s->w * s->h * 4;
    bool tensors = tensor_io(s);
    if (pool) {
        rec->ctx->vk.vkCmdResetQueryPool(rec->cmd, pool, 0, m->nlayers + 3);
        timestamp(rec, pool, 0);
    } else if ((st = tensors ? copy_planes(rec, &s->stage_in, &s->plan.vals[0], true)
                             : vks_rec_copy(rec, &s->stage_in, 0, s->px_in.block, s->px_in.offset, vks_session_input_bytes(s)))) {
        return st;
    }
    if (!pool && s->frame_ts) {   /* the frame's GPU time (vks_session_last_gpu_ms) */
        rec->ctx->vk.vkCmdResetQueryPool(rec->cmd, s->frame_ts, 0, 2);
        rec->ctx->vk.vkCmdWriteTimestamp(rec->cmd, VK_PIPELINE_STAGE_TOP_OF_PIPE_BIT, s->frame_ts, 0);
    }
    if (tensors)
        st = VKS_OK;   /* the first layer reads the input as it is */
    else if (s->opts.input == VKS_PIXELS_YUYV)
        st = vks_op_yuyv_to_rgb(rec, &s->px_in, s->w, s->h, m->in_scale, m->in_offset, &s->plan.vals[0]);
    else
        st = vks_op_pack_rgb8(rec, &s->px_in, s->w, s->h, 4, s->opts.input == VKS_PIXELS_BGRA8, m->in_scale,
                              m->in_offset, &s->plan.vals[0]);
    if (!st && s->stab) st = vks_stab_record_input(s, rec);
    if (st) return st;
    timestamp(rec, pool, 1);
    for (uint32_t i = 0; i < m->nlayers; i++) {
        if ((st = vks_session_record_layer(s, rec, i))) {
            vks_error_prefix("layer %u (%s)", i, m->layers[i].name);
            return st;
        }
        timestamp(rec, pool, i + 2);
    }
    if (s->stab && (st = vks_stab_record_output(s, rec))) return st;
    if (!tensors && (st = vks_op_unpack_rgba8(rec, &s->plan.vals[m->nlayers], s->w, s->h, s->opts.output == VKS_PIXELS_BGRA8,
                                  m->out_scale, m->out_offset, &s->px_out)))
        return st;
    timestamp(rec, pool, m->nlayers + 2);
    if (!pool && s->frame_ts) rec->ctx->vk.vkCmdWriteTimestamp(rec->cmd, VK_PIPELINE_STAGE_BOTTOM_OF_PIPE_BIT, s->frame_ts, 1);
    if (!pool && (st = tensors ? copy_planes(rec, &s->stage_out, &s->plan.vals[m->nlayers], false)
                               : vks_rec_copy(rec, s->px_out.block, s->px_out.offset, &s->stage_out, 0, px)))
        return st;
    return vks_rec_end(rec);
}

vks_status_t vks_session_create(vks_model_t *model, uint32_t width, uint32_t height, vks_session_t **out)
{
    return vks_session_create_ex(model, width, height, NULL, out);
}

vks_precision_t vks_session_precision(const vks_session_t *s)
{
    return s->opts.precision;
}

size_t vks_session_input_bytes(const vks_session_t *s)
{
    if (tensor_io(s)) return (size_t)s->model->in_channels * s->w * s->h * 4;
    return (size_t)s->w * s->h * (s->opts.input == VKS_PIXELS_YUYV ? 2 : 4);
}

void vks_session_output_shape(const vks_session_t *s, uint32_t *c, uint32_t *h, uint32_t *w)
{
    const vks_tensor_t *o = &s->plan.vals[s->plan.nvals - 1];
    *c = tensor_io(s) ? o->c : 4;
    *h = tensor_io(s) ? o->h : s->h;
    *w = tensor_io(s) ? o->w : s->w;
}

size_t vks_session_output_bytes(const vks_session_t *s)
{
    uint32_t c, h, w;
    vks_session_output_shape(s, &c, &h, &w);
    return (size_t)c * h * w * (tensor_io(s) ? 4 : 1);
}

/* Check the options and resolve them for this model's device (AUTO precision, the budget). */
static vks_status_t resolve_options(const vks_model_t *model, uint32_t width, const vks_session_options_t *opts,
                                    vks_session_options_t *out)
{
    vks_session_options_t defaults = {.input = VKS_PIXELS_RGBA8, .output = VKS_PIXELS_RGBA8, .precision = VKS_PRECISION_FP32};
    if (!opts) opts = &defaults;
    bool tensors = opts->input == VKS_TENSOR_F32;
    if ((opts->output == VKS_TENSOR_F32) != tensors)
        return vks_fail(VKS_ERR_INVALID_ARGUMENT, "session: VKS_TENSOR_F32 must be both the input and the output format");
    if ((unsigned)opts->input > VKS_TENSOR_F32 ||
        (opts->output != VKS_PIXELS_RGBA8 && opts->output != VKS_PIXELS_BGRA8 && !tensors))
        return vks_fail(VKS_ERR_INVALID_ARGUMENT, "session: unsupported pixel format");
    if (!tensors && (model->in_channels != 3 || model->out_channels != 3))
        return vks_fail(VKS_ERR_UNSUPPORTED, "session: the model takes %u channels and outputs %u; a pixel session "
                        "needs 3 (RGB) of each (use VKS_TENSOR_F32 input and output)", model->in_channels,
                        model->out_channels);
    if ((unsigned)opts->precision > VKS_PRECISION_AUTO)
        return vks_fail(VKS_ERR_INVALID_ARGUMENT, "session: unknown precision %d", (int)opts->precision);
    if ((unsigned)opts->tiling > VKS_TILING_ALWAYS)
        return vks_fail(VKS_ERR_INVALID_ARGUMENT, "session: unknown tiling mode %d", (int)opts->tiling);
    if (tensors && opts->precision == VKS_PRECISION_FP16)
        return vks_fail(VKS_ERR_UNSUPPORTED, "session: VKS_TENSOR_F32 input and output run in fp32 (not fp16)");
    if (tensors && opts->tiling == VKS_TILING_ALWAYS)
        return vks_fail(VKS_ERR_UNSUPPORTED, "session: VKS_TENSOR_F32 input and output cannot run in tiles");
    *out = *opts;
    if (out->precision == VKS_PRECISION_AUTO)
        out->precision = model->ctx->fp16_enabled && !tensors ? VKS_PRECISION_FP16 : VKS_PRECISION_FP32;
    if (out->precision == VKS_PRECISION_FP16 && !model->ctx->fp16_enabled)
        return vks_fail(VKS_ERR_UNSUPPORTED, "fp16 needs shaderFloat16 and storageBuffer16BitAccess, which %s "
                        "lacks (use fp32 or auto)", model->ctx->props.deviceName);
    if (opts->input == VKS_PIXELS_YUYV && width % 2)
        return vks_fail(VKS_ERR_SHAPE, "session: YUYV input needs an even width, not %u", width);
    uint64_t budget = vks_context_memory_budget(model->ctx);
    if (!out->max_memory || out->max_memory > budget) out->max_memory = budget;
    return VKS_OK;
}

/* Point the planned values, pixel buffers and the style mix at their places in s->arena. */
static void session_layout(vks_session_t *s)
{
    for (uint32_t v = 0; v < s->plan.nvals; v++) {
        s->plan.vals[v].block = &s->arena;
        s->plan.vals[v].offset = s->plan.items[s->plan.alias[v]].off;
    }
    VkDeviceSize px = (VkDeviceSize)s->w * s->h * 4;
    if (tensor_io(s)) {   /* no pixels: the staging buffers are copied to and from the values */
        s->px_in = s->px_out = (vks_binding_t){0};
    } else {
        s->px_in = (vks_binding_t){&s->arena, s->plan.items[s->plan.nvals].off, px, false};
        s->px_out = (vks_binding_t){&s->arena, s->plan.items[s->plan.nvals + 1].off, px, true};
    }
    s->eff = vks_tensor_flat(&s->arena, s->plan.items[s->plan.nvals + 2].off, 2 * s->model->cin_channels);
}

/* Device memory of an untiled session: the arena and the two staging buffers. */
static uint64_t session_bytes(const plan_t *p, uint32_t w, uint32_t h, bool tensors)
{
    VkDeviceSize in, out;
    stage_bytes(p, w, h, tensors, &in, &out);
    return p->arena + vks_align(in, 256) + vks_align(out, 256);
}

/* The style mix a session starts with: all of the first style. */
static const float first_style[1] = {1.0f};

/* Whether the planned session s (plan built, options resolved) fits the device: memory within
 * the budget, each allocation within the largest one, and every dispatch of its recordings
 * within the device's limits, checked by recording them dry. VKS_ERR_TOO_LARGE if not. */
static vks_status_t check_fit(vks_session_t *s)
{
    const vks_context_t *ctx = s->ctx;
    VkDeviceSize px_in, px_out;
    stage_bytes(&s->plan, s->w, s->h, tensor_io(s), &px_in, &px_out);
    uint64_t need = session_bytes(&s->plan, s->w, s->h, tensor_io(s)), px = px_in > px_out ? px_in : px_out;
    if (need > s->opts.max_memory)
        return vks_fail(VKS_ERR_TOO_LARGE, "a %ux%u session needs %.1f MiB of device memory; %s allows %.1f MiB",
                        s->w, s->h, need / 1048576.0, s->opts.max_memory == vks_context_memory_budget(ctx)
                        ? ctx->info.name : "the budget", s->opts.max_memory / 1048576.0);
    if (s->plan.arena > ctx->info.max_allocation || px > ctx->info.max_allocation)
        return vks_fail(VKS_ERR_TOO_LARGE, "a %ux%u session needs one allocation of %.1f MiB; %s allows %.1f MiB",
                        s->w, s->h, s->plan.arena / 1048576.0, ctx->info.name, ctx->info.max_allocation / 1048576.0);
    vks_session_t d = *s;   /* the same session, laid out in a block that does not exist */
    d.arena = (vks_block_t){.size = s->plan.arena};
    session_layout(&d);
    vks_rec_t rec;
    vks_status_t st = vks_rec_begin_dry(s->ctx, &rec);
    if (!st) st = vks_session_record(&d, &rec, VK_NULL_HANDLE);
    if (!st && s->model->cin_channels)
        st = vks_op_cin_mix(&rec, &s->model->cin_table, s->model->nstyles, s->model->cin_channels, &d.eff,
                            first_style, 1);
    vks_rec_destroy(&rec);
    if (st) {
        vks_error_prefix("a %ux%u session does not fit %s", s->w, s->h, ctx->info.name);
        return VKS_ERR_TOO_LARGE;
    }
    return VKS_OK;
}

/* Plan an untiled session of w x h (options resolved) and check that it fits: with the layers'
 * scratch (Winograd), or else without it (the direct convolution), which needs less memory. */
static vks_status_t plan_fit(vks_model_t *model, uint32_t w, uint32_t h, const vks_session_options_t *o,
                             vks_session_t *s)
{
    memset(s, 0, sizeof *s);
    s->opts = *o;
    s->ctx = model->ctx;
    s->model = model;
    s->w = w;
    s->h = h;
    uint32_t esize = o->precision == VKS_PRECISION_FP16 ? 2 : 4;
    bool tensors = o->input == VKS_TENSOR_F32;
    vks_status_t st = vks_plan_build_io(model, w, h, esize, true, tensors, &s->plan);
    if (!st) st = check_fit(s);
    bool had_scratch = false;
    for (uint32_t i = s->plan.nvals + 3; i < s->plan.nitems; i++) had_scratch |= s->plan.items[i].size > 0;
    if (st != VKS_ERR_TOO_LARGE || !had_scratch) return st;   /* without scratch: the same plan */
    char why[768];   /* the error of the plan with scratch, if the one without does not fit either */
    snprintf(why, sizeof why, "%s", vks_last_error());
    vks_plan_free(&s->plan);
    st = vks_plan_build_io(model, w, h, esize, false, tensors, &s->plan);
    if (!st) st = check_fit(s);
    if (st == VKS_ERR_TOO_LARGE) vks_error_set("%s", why);
    return st;
}

vks_status_t vks_session_fit(const vks_model_t *model, uint32_t width, uint32_t height,
                             const vks_session_options_t *opts, uint64_t *bytes)
{
    if (!model) return vks_fail(VKS_ERR_INVALID_ARGUMENT, "vks_session_fit: NULL argument");
    vks_session_options_t o;
    vks_status_t st = resolve_options(model, width, opts, &o);
    if (st) return st;
    vks_session_t s;
    st = plan_fit((vks_model_t *)model, width, height, &o, &s);
    if (!st && bytes) *bytes = session_bytes(&s.plan, width, height, o.input == VKS_TENSOR_F32);
    vks_plan_free(&s.plan);
    return st;
}

vks_status_t vks_session_largest_size(const vks_model_t *model, uint32_t width, uint32_t height,
                                      const vks_session_options_t *opts, uint32_t *fit_width, uint32_t *fit_height)
{
    if (!model || !fit_width || !fit_height || !width || !height)
        return vks_fail(VKS_ERR_INVALID_ARGUMENT, "vks_session_largest_size: NULL or zero argument");
    /* binary search on the longer side for the last size that fits or is too small for the
     * network (VKS_ERR_SHAPE): lo is such a size (0: none known), hi is too large (long + 1: none
     * known). If lo is too small, none fits. */
    uint32_t lng = width >= height ? width : height, sht = width >= height ? height : width;
    uint32_t lo = 0, hi = lng + 1;
    bool lo_fits = false;
    while (hi - lo > 1) {
        uint32_t mid = lo + (hi - lo) / 2;
        uint32_t other = (uint32_t)fmax(1.0, round((double)mid * sht / lng));
        vks_status_t st = width >= height ? vks_session_fit(model, mid, other, opts, NULL)
                                          : vks_session_fit(model, other, mid, opts, NULL);
        if (st == VKS_OK || st == VKS_ERR_SHAPE) {
            lo = mid;
            lo_fits = st == VKS_OK;
        } else if (st == VKS_ERR_TOO_LARGE) {
            hi = mid;
        } else {
            return st;
        }
    }
    if (!lo_fits) return vks_fail(VKS_ERR_TOO_LARGE, "no %ux%u-shaped size fits the device", width, height);
    uint32_t other = (uint32_t)fmax(1.0, round((double)lo * sht / lng));
    *fit_width = width >= height ? lo : other;
    *fit_height = width >= height ? other : lo;
    return VKS_OK;
}

vks_status_t vks_session_create_ex(vks_model_t *model, uint32_t width, uint32_t height,
                                   const vks_session_options_t *opts, vks_session_t **out)
{
    if (!model || !out) return vks_fail(VKS_ERR_INVALID_ARGUMENT, "vks_session_create: NULL argument");
    *out = NULL;
    vks_session_options_t o;
    vks_status_t st = resolve_options(model, width, opts, &o);
    if (st) return st;
    vks_session_t *s = calloc(1, sizeof *s);
    if (!s) return vks_fail(VKS_ERR_OUT_OF_HOST_MEMORY, "out of host memory");
    st = plan_fit(model, width, height, &o, s);
    bool tensors = o.input == VKS_TENSOR_F32;   /* never tiled (resolve_options refused ALWAYS) */
    if ((st == VKS_ERR_TOO_LARGE && o.tiling == VKS_TILING_AUTO && !tensors) || (st == VKS_OK && o.tiling == VKS_TILING_ALWAYS)) {
        VKS_TRY(vks_tiled_create(s));   /* in tiles: plan_fit built the shapes; check_fit refused the one piece */
        goto style;
    }
    if (st == VKS_ERR_TOO_LARGE) {   /* say which size would fit */
        char why[768];
        snprintf(why, sizeof why, "%s", vks_last_error());
        uint32_t fw = 0, fh = 0;
        if (vks_session_largest_size(model, width, height, &o, &fw, &fh) == VKS_OK)
            vks_error_set("%s (about %ux%u fits)", why, fw, fh);
        else
            vks_error_set("%s", why);
    }
    if (st) goto fail;
    VKS_TRY(vks_block_create(s->ctx, s->plan.arena, VKS_MEM_DEVICE, &s->arena));
    session_layout(s);
    if (s->ctx->info.timestamps) {
        VkQueryPoolCreateInfo qi = {.sType = VK_STRUCTURE_TYPE_QUERY_POOL_CREATE_INFO, .queryType = VK_QUERY_TYPE_TIMESTAMP,
                                    .queryCount = 2};
        VKS_VK_NEW(s->ctx->vk.vkCreateQueryPool(s->ctx->device, &qi, NULL, &s->frame_ts), s->frame_ts);
    }
    VkDeviceSize px_in, px_out;
    stage_bytes(&s->plan, width, height, tensors, &px_in, &px_out);
    VKS_TRY(vks_block_create(s->ctx, px_in, VKS_MEM_UPLOAD, &s->stage_in));
    VKS_TRY(vks_block_create(s->ctx, px_out, VKS_MEM_READBACK, &s->stage_out));
style:
    if (model->cin_channels) {
        VKS_TRY(vks_rec_begin(s->ctx, &s->style, false));
        VKS_TRY(vks_op_cin_mix(&s->style, &model->cin_table, model->nstyles, model->cin_channels, &s->eff,
                               first_style, 1));
        VKS_TRY(vks_rec_end(&s->style));
        s->style_recordings++;
    }
    if (!s->tiled) {   /* the network, with each convolution's variant chosen first */
        VKS_TRY(vks_tune_session(s));
        VKS_TRY(vks_rec_begin(s->ctx, &s->main, false));
        VKS_TRY(vks_session_record(s, &s->main, VK_NULL_HANDLE));
        s->main_recordings++;
    }
    *out = s;
    return VKS_OK;
fail:
    if (st == VKS_ERR_OUT_OF_DEVICE_MEMORY)
        vks_error_prefix("a %ux%u session needs %.1f MiB of device memory", width, height,
                         (double)session_bytes(&s->plan, width, height, tensors) / 1048576.0);
    vks_session_destroy(s);
    return st;
}

void vks_session_destroy(vks_session_t *s)
{
    if (!s) return;
    vks_tiled_destroy(s);
    vks_stab_destroy(s);
    vks_rec_destroy(&s->main);
    vks_rec_destroy(&s->style);
    if (s->frame_ts) s->ctx->vk.vkDestroyQueryPool(s->ctx->device, s->frame_ts, NULL);
    vks_block_destroy(s->ctx, &s->stage_out);
    vks_block_destroy(s->ctx, &s->stage_in);
    vks_block_destroy(s->ctx, &s->arena);
    vks_plan_free(&s->plan);
    free(s->var);
    free(s->tuning);
    free(s);
}

vks_status_t vks_session_set_style_weights(vks_session_t *s, const float *weights, uint32_t count)
{
    if (!s || (!weights && count)) return vks_fail(VKS_ERR_INVALID_ARGUMENT, "vks_session_set_style_weights: NULL argument");
    const vks_model_t *m = s->model;
    if (count > m->nstyles)
        return vks_fail(VKS_ERR_STYLE, "%u style weights given, the model has %u style%s", count, m->nstyles,
                        m->nstyles == 1 ? "" : "s");
    for (uint32_t i = 0; i < count; i++)
        if (!isfinite(weights[i])) return vks_fail(VKS_ERR_STYLE, "style weight %u is not finite", i);
    if (!m->cin_channels) {
        /* single-style network: nothing to mix; only the one-hot weight is meaningful */
        if (count && weights[0] != 1.0f)
            return vks_fail(VKS_ERR_STYLE, "this model has a single style; its weight must be 1");
        return VKS_OK;
    }
    vks_status_t st = vks_op_cin_mix_update(&s->style, weights, count);
    if (st) return st;
    s->style_recordings++;
    return VKS_OK;
}

static vks_status_t submit(vks_session_t *s)
{
    VkCommandBuffer cmds[3];
    uint32_t ncmd = 0;
    /* a re-recording that failed (out of memory, a pipeline that did not compile) leaves a buffer
     * that must not be submitted: the session stays unusable, its error said then */
    if (!s->main.ended || (s->model->cin_channels && !s->style.ended))
        return vks_fail(VKS_ERR_INVALID_ARGUMENT, "the session's commands failed to record (an earlier error); "
                                                  "destroy it and create another");
    if (vks_stab_pre_submit(s)) cmds[ncmd++] = vks_stab_pre_submit(s);
    if (s->model->cin_channels) cmds[ncmd++] = s->style.cmd;
    cmds[ncmd++] = s->main.cmd;
    vks_status_t st = vks_submit_wait(s->ctx, cmds, ncmd);
    if (!st) {
        s->ran = true;
        vks_stab_submitted(s);
    }
    return st;
}

vks_status_t vks_session_run_raw(vks_session_t *s, const void *in, void *out)
{
    if (!s || !in) return vks_fail(VKS_ERR_INVALID_ARGUMENT, "vks_session_run_raw: NULL argument");
    if (s->tiled) {
        if (!out) return vks_fail(VKS_ERR_INVALID_ARGUMENT, "vks_session_run_raw: a tiled session needs an output buffer");
        return vks_tiled_run(s, in, s->opts.input == VKS_PIXELS_YUYV ? 2 : 4, out);
    }
    memcpy(s->stage_in.map, in, vks_session_input_bytes(s));
    vks_status_t st = submit(s);
    if (!st && out) memcpy(out, s->stage_out.map, vks_session_output_bytes(s));
    return st;
}

vks_status_t vks_session_last_gpu_ms(const vks_session_t *s, double *ms)
{
    if (!s || !ms) return vks_fail(VKS_ERR_INVALID_ARGUMENT, "vks_session_last_gpu_ms: NULL argument");
    *ms = 0;
    if (s->tiled) return vks_fail(VKS_ERR_UNSUPPORTED, "a tiled session has no frame time");
    if (!s->frame_ts) return vks_fail(VKS_ERR_UNSUPPORTED, "the device has no timestamps on its compute queue");
    if (!s->ran) return vks_fail(VKS_ERR_UNSUPPORTED, "no frame has run yet");
    uint64_t q[2];
    VkResult r = s->ctx->vk.vkGetQueryPoolResults(s->ctx->device, s->frame_ts, 0, 2, sizeof q, q, sizeof *q, VK_QUERY_RESULT_64_BIT);
    if (r != VK_SUCCESS) return vks_fail(VKS_ERR_VULKAN, "vkGetQueryPoolResults failed (%d)", (int)r);
    *ms = (double)(q[1] - q[0]) * s->ctx->props.limits.timestampPeriod * 1e-6;
    return VKS_OK;
}

void vks_session_output_buffer(const vks_session_t *s, VkBuffer *buffer, VkDeviceSize *offset, VkDeviceSize *size)
{
    if (s->tiled || tensor_io(s)) {
        *buffer = VK_NULL_HANDLE;
        *offset = *size = 0;
        return;
    }
    *buffer = s->px_out.block->buffer;
    *offset = s->px_out.offset;
    *size = s->px_out.size;
}

vks_status_t vks_session_run(vks_session_t *s, const uint8_t *in, uint8_t *out, uint32_t channels)
{
    if (!s || !in || !out) return vks_fail(VKS_ERR_INVALID_ARGUMENT, "vks_session_run: NULL argument");
    if (channels != 3 && channels != 4)
        return vks_fail(VKS_ERR_INVALID_ARGUMENT, "vks_session_run: %u channels (3 or 4 supported)", channels);
    if (s->opts.input != VKS_PIXELS_RGBA8 || s->opts.output != VKS_PIXELS_RGBA8)
        return vks_fail(VKS_ERR_INVALID_ARGUMENT, "vks_session_run: the session has other pixel formats; use vks_session_run_raw");
    size_t n = (size_t)s->w * s->h;
    if (s->tiled) {   /* RGBA straight through; RGB in, and out through an RGBA buffer */
        if (channels == 4) return vks_tiled_run(s, in, 4, out);
        uint8_t *rgba = malloc(n * 4);
        if (!rgba) return vks_fail(VKS_ERR_OUT_OF_HOST_MEMORY, "out of host memory");
        vks_status_t st = vks_tiled_run(s, in, 3, rgba);
        for (size_t i = 0; !st && i < n; i++) memcpy(out + 3 * i, rgba + 4 * i, 3);
        free(rgba);
        return st;
    }
    uint8_t *stage = s->stage_in.map;
    if (channels == 4) {
        memcpy(stage, in, n * 4);
    } else {
        for (size_t i = 0; i < n; i++) {
            stage[4 * i] = in[3 * i];
            stage[4 * i + 1] = in[3 * i + 1];
            stage[4 * i + 2] = in[3 * i + 2];
            stage[4 * i + 3] = 255;
        }
    }
    vks_status_t st = submit(s);
    if (st) return st;
    const uint8_t *res = s->stage_out.map;
    if (channels == 4) {
        memcpy(out, res, n * 4);
    } else {
        for (size_t i = 0; i < n; i++) {
            out[3 * i] = res[4 * i];
            out[3 * i + 1] = res[4 * i + 1];
            out[3 * i + 2] = res[4 * i + 2];
        }
    }
    return VKS_OK;
}

void vks_session_stats(const vks_session_t *s, vks_stats_t *st)
{
    memset(st, 0, sizeof *st);
    if (!s) return;
    st->uploads = vks_counted(&s->ctx->stats.uploads);
    st->pipelines_created = vks_counted(&s->ctx->stats.pipelines_created);
    st->descriptor_writes = s->main.descriptor_writes + s->style.descriptor_writes;
    st->main_recordings = s->main_recordings;
    st->style_recordings = s->style_recordings;
    st->submits = vks_counted(&s->ctx->stats.submits);
}
