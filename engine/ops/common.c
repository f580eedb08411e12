/* Helpers shared by the op files. */
#include "op.h"

#include <math.h>

#include <stdio.h>
#include <string.h>

vks_status_t vks_chunk_channels(const vks_context_t *ctx, const char *op, const vks_tensor_t *const *ts,
                                uint32_t n, uint32_t *chunk)
{
    uint32_t best = UINT32_MAX;
    for (uint32_t i = 0; i < n; i++) {
        if (!ts[i]) continue;
        VkDeviceSize plane = (VkDeviceSize)ts[i]->plane_stride * ts[i]->esize;
        uint32_t k = vks_channels_per_binding(ctx, plane);
        if (k == 0)
            return vks_fail(VKS_ERR_SHAPE, "%s: one %ux%u channel plane (%.1f MiB) exceeds the device's "
                            "binding limit of %.1f MiB", op, ts[i]->h, ts[i]->w, (double)plane / 1048576.0,
                            (double)ctx->max_binding / 1048576.0);
        if (k < best) best = k;
    }
    *chunk = best;
    return VKS_OK;
}

vks_status_t vks_rec_channel_planes(vks_rec_t *rec, const char *op, const vks_pipeline_t *pipe,
                                    const vks_tensor_t *in, const vks_tensor_t *out, const void *push,
                                    uint32_t plane)
{
    const vks_tensor_t *ts[2] = {in, out};
    uint32_t chunk = 0;
    vks_status_t st = vks_chunk_channels(rec->ctx, op, ts, 2, &chunk);
    for (uint32_t n = 0; n < in->n && !st; n++)
        for (uint32_t c = 0; c < in->c && !st; c += chunk) {
            uint32_t nc = in->c - c < chunk ? in->c - c : chunk;
            vks_binding_t b[2] = {vks_bind_channels(in, n, c, nc, false), vks_bind_channels(out, n, c, nc, true)};
            st = vks_rec_dispatch(rec, pipe, b, 2, push, vks_div_up(plane, VKS_LOCAL_1D), nc, 1);
        }
    return st;
}

vks_status_t vks_act_shader(const vks_context_t *ctx, const char *op, vks_shader_id_t base,
                            const vks_tensor_t *const *ts, uint32_t n, vks_shader_id_t *out)
{
    uint32_t esize = 0;
    for (uint32_t i = 0; i < n; i++) {
        if (!ts[i]) continue;
        if (ts[i]->esize != 4 && ts[i]->esize != 2)
            return vks_fail(VKS_ERR_INVALID_ARGUMENT, "%s: element size %u (4: float32, 2: float16)", op, ts[i]->esize);
        if (esize && ts[i]->esize != esize)
            return vks_fail(VKS_ERR_INVALID_ARGUMENT, "%s: tensors mix float32 and float16", op);
        esize = ts[i]->esize;
    }
    *out = base;
    if (esize != 2) return VKS_OK;
    if (!ctx->fp16_enabled)
        return vks_fail(VKS_ERR_UNSUPPORTED, "%s: float16 tensors need shaderFloat16 and storageBuffer16BitAccess, "
                        "which %s lacks", op, ctx->props.deviceName);
    if (vks_shader_table[base].f16 < 0)
        return vks_fail(VKS_ERR_UNSUPPORTED, "%s: shader %s has no float16 variant", op, vks_shader_table[base].name);
    *out = (vks_shader_id_t)vks_shader_table[base].f16;
    return VKS_OK;
}

vks_status_t vks_act_pipeline(vks_rec_t *rec, const char *op, vks_shader_id_t base, const vks_tensor_t *const *ts,
                              uint32_t n, const uint32_t *spec, uint32_t nspec, uint32_t nbindings, uint32_t push_size,
                              const vks_pipeline_t **pipe)
{
    vks_shader_id_t shader;
    vks_status_t st = vks_act_shader(rec->ctx, op, base, ts, n, &shader);
    if (st) return st;
    return vks_rec_pipeline(rec, shader, spec, nspec, nbindings, 0, push_size, 1, pipe);
}

vks_status_t vks_check_same_shape(const char *op, const vks_tensor_t *a, const vks_tensor_t *b)
{
    if (a->n != b->n || a->c != b->c || a->h != b->h || a->w != b->w)
        return vks_fail(VKS_ERR_SHAPE, "%s: shape [%u,%u,%u,%u] does not match [%u,%u,%u,%u]", op, a->n,
                        a->c, a->h, a->w, b->n, b->c, b->h, b->w);
    if (a->n == 0 || a->c == 0 || a->h == 0 || a->w == 0)
        return vks_fail(VKS_ERR_SHAPE, "%s: zero-size tensor [%u,%u,%u,%u]", op, a->n, a->c, a->h, a->w);
    return VKS_OK;
}

/* The input row conv2d.comp reads for padded row i (fold(): reflection mirrors, zeros and edge
 * read the clamped row). */
static uint32_t fold_row(int64_t i, uint32_t n, uint32_t mode)
{
    if (mode == VKS_PAD_REFLECT) {
        if (i < 0) i = -i;
        if (i > 2 * (int64_t)n - 2 - i) i = 2 * (int64_t)n - 2 - i;
    }
    return (uint32_t)(i < 0 ? 0 : i >= n ? n - 1 : i);
}

uint32_t vks_conv_x_band(const vks_context_t *ctx, const vks_tensor_t *in, uint32_t ubo_rows, uint32_t kh, uint32_t sy,
                         vks_conv_tile_t tile)
{
    VkDeviceSize plane = (VkDeviceSize)in->plane_stride * in->esize, row = (VkDeviceSize)in->w * in->esize;
    VkDeviceSize align = ctx->props.limits.minUniformBufferOffsetAlignment;
    if (!vks_input_ubo(ctx) || !ubo_rows || !ctx->scalar_ubo ||
        ctx->conv_storage_weights || in->esize != 4 || plane <= VKS_UBO_BYTES || vks_env_is("VKSTYLE_ROW_BANDS", "0"))
        return 0;
    uint32_t in_rows = (uint32_t)((VKS_UBO_BYTES - align) / row);   /* from an aligned offset before the band */
    if (in_rows < kh) return 0;
    uint32_t rows = (in_rows - kh) / sy + 1;
    rows -= rows % tile.ly;
    return rows;
}

void vks_bind_ubo_planes(const vks_tensor_t *in, uint32_t n, uint32_t c, uint32_t nc, uint32_t cpb, vks_binding_t *b)
{
    for (uint32_t g = 0; g < VKS_X_UBOS; g++) {   /* cpb planes each; unused: the first plane */
        uint32_t c0 = g * cpb < nc ? g * cpb : 0;
        b[g] = vks_bind_channels(in, n, c + c0, nc - c0 < cpb ? nc - c0 : cpb, false);
    }
}

/* conv2d_xubo in row bands: one dispatch per band of output rows, its input bindings (b[4..],
 * one channel each) moved to the first row the band reads. */
static vks_status_t dispatch_bands(vks_rec_t *rec, const char *op, const vks_pipeline_t *pipe, vks_binding_t *b,
                                   uint32_t nb, const vks_conv_push_t *push, const vks_conv_band_t *band,
                                   const vks_tensor_t *in, uint32_t gx, uint32_t ly, uint32_t gz)
{
    VkDeviceSize ubo_align = rec->ctx->props.limits.minUniformBufferOffsetAlignment, row = (VkDeviceSize)in->w * in->esize;
    vks_binding_t planes[VKS_X_UBOS];
    memcpy(planes, b + 4, sizeof planes);
    vks_conv_push_t bp = *push;
    for (uint32_t oy0 = 0; oy0 < push->oh; oy0 += band->rows) {
        uint32_t oy1 = push->oh - oy0 < band->rows ? push->oh : oy0 + band->rows, lo = in->h, hi = 0;
        for (uint32_t oy = oy0; oy < oy1; oy++)
            for (uint32_t ky = 0; ky < band->kh; ky++) {
                uint32_t r = fold_row((int64_t)oy * band->sy + ky - push->pad0, in->h, band->pad_mode);
                if (r < lo) lo = r;
                if (r > hi) hi = r;
            }
        VkDeviceSize slack = (planes[0].offset + lo * row) % ubo_align, size = slack + (hi + 1 - lo) * row;
        if (size > VKS_UBO_BYTES)
            return vks_fail(VKS_ERR_SHAPE, "%s: a row band of %u input rows exceeds a uniform buffer", op, hi + 1 - lo);
        for (uint32_t g = 0; g < VKS_X_UBOS; g++) {
            b[4 + g].offset = planes[g].offset + lo * row - slack;
            b[4 + g].size = size;
        }
        bp.oy0 = oy0;
        bp.oh = oy1;
        bp.xbase = (int32_t)((VkDeviceSize)lo * in->w - slack / in->esize);
        vks_status_t st = vks_rec_dispatch(rec, pipe, b, nb, &bp, gx, vks_div_up(oy1 - oy0, ly), gz);
        if (st) return st;
    }
    return VKS_OK;
}

/* The implicit GEMM: one dispatch (a transposed convolution's: one per stride phase) of workgroups
 * of gemm->bn output pixels x gemm->bm output channels. */
static vks_status_t dispatch_gemm(vks_rec_t *rec, const vks_pipeline_t *pipe, const vks_binding_t *b, uint32_t nb,
                                  vks_conv_push_t push, const vks_conv_gemm_t *gemm)
{
    uint32_t phases_y = gemm->transposed ? gemm->sy : 1, phases_x = gemm->transposed ? gemm->sx : 1;
    for (push.ry = 0; push.ry < phases_y; push.ry++)
        for (push.rx = 0; push.rx < phases_x; push.rx++) {
            /* the pixels of this phase (all of them for conv2d) */
            uint32_t gh = push.oh, gw = push.ow;
            if (gemm->transposed) {
                gh = push.ry < push.oh ? vks_div_up(push.oh - push.ry, gemm->sy) : 0;
                gw = push.rx < push.ow ? vks_div_up(push.ow - push.rx, gemm->sx) : 0;
            }
            if (!gh || !gw) continue;
            vks_status_t st = vks_rec_dispatch(rec, pipe, b, nb, &push, vks_div_up(gh * gw, gemm->bn), 1,
                                               vks_div_up(push.nco, gemm->bm));
            if (st) return st;
        }
    return VKS_OK;
}

vks_status_t vks_conv_record_chunks(vks_rec_t *rec, const char *op, const vks_pipeline_t *pipe,
                                    vks_conv_push_t push, uint32_t parity_groups, uint32_t parity_rows,
                                    vks_conv_tile_t tile,
                                    uint32_t ubo_rows, uint32_t x_cpb, const vks_conv_band_t *band,
                                    const vks_conv_gemm_t *gemm, const vks_tensor_t *in, const vks_tensor_t *wt,
                                    const vks_tensor_t *bias, const vks_tensor_t *out)
{
    uint32_t ci_chunk = 0, co_chunk = 0;
    vks_status_t st = vks_chunk_channels(rec->ctx, op, &in, 1, &ci_chunk);
    if (!st) st = vks_chunk_channels(rec->ctx, op, &out, 1, &co_chunk);
    if (st) return st;
    if (vks_tensor_bytes(wt) > rec->ctx->max_binding)
        return vks_fail(VKS_ERR_SHAPE, "%s: weights (%llu bytes) exceed the device's binding limit", op,
                        (unsigned long long)vks_tensor_bytes(wt));
    uint64_t row = ((uint64_t)wt->n * wt->c * wt->h * wt->w) / out->c;   /* weights per output channel */
    if (ubo_rows) {
        if (ubo_rows < co_chunk) co_chunk = ubo_rows;
        if (co_chunk > tile.oc) co_chunk -= co_chunk % tile.oc;
    }
    if (x_cpb && ci_chunk > x_cpb * VKS_X_UBOS) ci_chunk = x_cpb * VKS_X_UBOS;
    push.cpb = x_cpb;
    VkDeviceSize ubo_align = rec->ctx->props.limits.minUniformBufferOffsetAlignment;
    for (uint32_t n = 0; n < in->n; n++)
        for (uint32_t co = 0; co < out->c; co += co_chunk)
            for (uint32_t ci = 0; ci < in->c; ci += ci_chunk) {
                push.ci0 = ci;
                push.nci = in->c - ci < ci_chunk ? in->c - ci : ci_chunk;
                push.co0 = co;
                push.nco = out->c - co < co_chunk ? out->c - co : co_chunk;
                push.first = ci == 0;
                push.last = ci + push.nci == in->c;
                vks_binding_t wb = vks_bind(wt, false);
                push.wofs = (uint32_t)(co * row);
                if (ubo_rows) {   /* this chunk's weights, from an aligned offset */
                    VkDeviceSize start = wt->offset + co * row * sizeof(float);
                    wb.offset = start / ubo_align * ubo_align;
                    wb.size = VKS_UBO_BYTES;
                    push.wofs = (uint32_t)((start - wb.offset) / sizeof(float));
                }
                vks_binding_t b[4 + VKS_X_UBOS] = {
                    vks_bind_channels(in, n, ci, push.nci, false),
                    wb,
                    vks_bind(bias ? bias : wt, false),
                    vks_bind_channels(out, n, co, push.nco, true),
                };
                uint32_t nb = 4;
                if (x_cpb) {
                    vks_bind_ubo_planes(in, n, ci, push.nci, x_cpb, b + 4);
                    nb += VKS_X_UBOS;
                }
                if (gemm) {
                    if ((st = dispatch_gemm(rec, pipe, b, nb, push, gemm))) return st;
                    continue;
                }
                /* the transposed conv splits x into `stride` column parities and y into row parities,
                 * one of each per workgroup */
                uint32_t gx = parity_groups ? parity_groups * vks_div_up(vks_div_up(push.ow, parity_groups), tile.lx * tile.px)
                                            : vks_div_up(push.ow, tile.lx * tile.px);
                uint32_t gy = parity_rows ? parity_rows * vks_div_up(vks_div_up(push.oh, parity_rows), tile.ly)
                                          : vks_div_up(push.oh, tile.ly);
                uint32_t gz = vks_div_up(push.nco, tile.oc);
                st = band ? dispatch_bands(rec, op, pipe, b, nb, &push, band, in, gx, tile.ly, gz)
                          : vks_rec_dispatch(rec, pipe, b, nb, &push, gx, gy, gz);
                if (st) return st;
            }
    return VKS_OK;
}

uint32_t vks_conv_ubo_rows(const vks_context_t *ctx, const vks_tensor_t *wt, uint32_t cout)
{
    uint64_t row_bytes = (uint64_t)wt->n * wt->c * wt->h * wt->w / cout * sizeof(float);
    VkDeviceSize align = ctx->props.limits.minUniformBufferOffsetAlignment;
    /* the ubo variants declare subgroup shuffles (WSHUF, used on CPU devices) */
    if (ctx->conv_storage_weights || !ctx->subgroup_shuffle || ctx->props.limits.maxUniformBufferRange < VKS_UBO_BYTES ||
        row_bytes + align > VKS_UBO_BYTES ||
        wt->offset + vks_tensor_bytes(wt) + VKS_UBO_BYTES > wt->block->size)
        return 0;
    return (uint32_t)((VKS_UBO_BYTES - align) / row_bytes);
}

bool vks_input_ubo(const vks_context_t *ctx)
{
    return ctx->props.deviceType == VK_PHYSICAL_DEVICE_TYPE_CPU || vks_env_is("VKSTYLE_INPUT_UBO", "1");
}

bool vks_weight_shuffle(const vks_context_t *ctx)
{
    return ctx->props.deviceType == VK_PHYSICAL_DEVICE_TYPE_CPU && ctx->subgroup_shuffle && ctx->info.subgroup_size >= VKS_SHUFFLE_N;
}

uint32_t vks_ubo_planes(const vks_context_t *ctx, const vks_tensor_t *in)
{
    VkDeviceSize plane = (VkDeviceSize)in->plane_stride * in->esize;
    if (!vks_input_ubo(ctx) || !ctx->scalar_ubo || in->esize != 4 || plane > VKS_UBO_BYTES) return 0;
    return (uint32_t)(VKS_UBO_BYTES / plane);
}

uint32_t vks_conv_x_cpb(const vks_context_t *ctx, const vks_tensor_t *in, uint32_t ubo_rows)
{
    return ubo_rows && !ctx->conv_storage_weights ? vks_ubo_planes(ctx, in) : 0;
}

vks_status_t vks_conv_pipeline(vks_rec_t *rec, const char *op, const vks_shader_id_t variants[3],
                               const uint32_t *spec, uint32_t nspec, uint32_t ubo_rows, uint32_t x_cpb,
                               const vks_tensor_t *in, const vks_tensor_t *out, const vks_pipeline_t **pipe)
{
    const vks_context_t *ctx = rec->ctx;
    const vks_tensor_t *act_ts[2] = {in, out};
    vks_shader_id_t shader = variants[0];
    vks_status_t st = vks_act_shader(ctx, op, variants[x_cpb ? 2 : ubo_rows ? 1 : 0], act_ts, 2, &shader);
    if (st) return st;
    /* the uniform-weight variants: spec, then the driver workaround's constant (the xubo
     * variant's; the planes per buffer are a push constant) and WSHUF (vks_weight_shuffle) */
    uint32_t xspec[VKS_MAX_SPEC];
    if (nspec + 2 > VKS_MAX_SPEC) return vks_fail(VKS_ERR_INVALID_ARGUMENT, "%s: too many specialization constants", op);
    memcpy(xspec, spec, nspec * sizeof *spec);
    xspec[nspec] = ctx->clamp_ubo_array_index;
    xspec[nspec + 1] = vks_weight_shuffle(ctx) && !vks_env_is("VKSTYLE_CONV_SHUFFLE", "0");
    if (x_cpb)
        return vks_rec_pipeline(rec, shader, xspec, nspec + 2, 5, 1u << 1 | 1u << 4, sizeof(vks_conv_push_t),
                                VKS_X_UBOS, pipe);
    if (ubo_rows) return vks_rec_pipeline(rec, shader, xspec, nspec + 2, 4, 1u << 1, sizeof(vks_conv_push_t), 1, pipe);
    return vks_rec_pipeline(rec, shader, spec, nspec, 4, 0, sizeof(vks_conv_push_t), 1, pipe);
}

uint32_t vks_env_pow2(const char *name, uint32_t lo, uint32_t hi)
{
    const char *e = getenv(name);
    unsigned v = e ? (unsigned)atoi(e) : 0;
    return v >= lo && v <= hi && !(v & (v - 1)) ? v : 0;
}

bool vks_env_is(const char *name, const char *value)
{
    const char *e = getenv(name);
    return e && !strcmp(e, value);
}

vks_conv_tile_t vks_conv_tile(uint32_t cout, uint32_t cols, const vks_conv_variant_t *var)
{
    const uint32_t invocations = VKS_CONV_LOCAL_X * VKS_CONV_LOCAL_Y;   /* lx * ly, whatever the shape */
    uint32_t voc = var && var->oc ? var->oc : VKS_CONV_OC;
    vks_conv_tile_t t = {cout < voc ? cout : voc, VKS_CONV_PX, VKS_CONV_LOCAL_X, VKS_CONV_LOCAL_Y};
    if (cols <= 64) {   /* narrow planes: a workgroup row spans about the plane, not 128 columns */
        t.lx = 8;
        while (t.px > 1 && t.lx * t.px / 2 >= cols) t.px /= 2;
    }
    if (var && var->px >= 1 && var->px <= VKS_CONV_PX && var->lx >= 1 && var->lx <= invocations && !(var->lx & (var->lx - 1))) {
        t.px = var->px;
        t.lx = var->lx;
    }
    const char *e = getenv("VKSTYLE_CONV_TILE");
    unsigned oc, px, lx = t.lx;
    int n = e ? sscanf(e, "%ux%ux%u", &oc, &px, &lx) : 0;
    if (n >= 2 && oc >= 1 && oc <= VKS_CONV_OC && px >= 1 && px <= VKS_CONV_PX && lx >= 1 && lx <= 64 && !(lx & (lx - 1))) {
        if (t.oc > oc) t.oc = oc;
        t.px = px;
        t.lx = lx;   /* the layer's own unless given */
    }
    t.ly = invocations / t.lx;
    return t;
}

uint32_t vks_conv_direct_variants(uint32_t cout, uint32_t cols, uint32_t oc, vks_conv_variant_t *v, uint32_t max)
{
    /* the heuristic's; the wide default (8 pixels, 16 x 4 invocations); 4 pixels on it, and on
     * 8 x 8 (the narrow planes' shape); the heuristic's with the other channel count: each
     * compiles a pipeline per layer kind, so few */
    static const uint32_t shapes[][2] = {{VKS_CONV_PX, VKS_CONV_LOCAL_X}, {VKS_CONV_PX / 2, VKS_CONV_LOCAL_X},
                                         {VKS_CONV_PX / 2, 8}};
    vks_conv_tile_t h = vks_conv_tile(cout, cols, NULL);
    uint32_t n = 0;
    if (max) v[n++] = (vks_conv_variant_t){VKS_CONV_DIRECT, h.px, h.lx, oc};
    for (uint32_t i = 0; i < sizeof shapes / sizeof *shapes && n < max; i++) {
        bool seen = false;
        for (uint32_t j = 0; j < n; j++) seen |= v[j].px == shapes[i][0] && v[j].lx == shapes[i][1];
        if (!seen) v[n++] = (vks_conv_variant_t){VKS_CONV_DIRECT, shapes[i][0], shapes[i][1], oc};
    }
    if (cout > VKS_CONV_OC && n < max)
        v[n++] = (vks_conv_variant_t){VKS_CONV_DIRECT, h.px, h.lx, oc == VKS_CONV_OC_WIDE ? VKS_CONV_OC : VKS_CONV_OC_WIDE};
    return n;
}

uint32_t vks_conv_transpose_oc(const vks_context_t *ctx, uint32_t cout, uint32_t cols)
{
    /* not where the heuristic's tile is 8 pixels wide: 16 x 8 accumulators compile 1.5-2x as long
     * (udnie cold on Mesa 25: 10.3 -> 16.6 s); the tuner offers it there */
    return ctx->props.deviceType == VK_PHYSICAL_DEVICE_TYPE_CPU && vks_conv_tile(cout, cols, NULL).px <= VKS_CONV_PX / 2
               ? VKS_CONV_OC_WIDE : VKS_CONV_OC;
}

void vks_conv_variant_name(const vks_conv_variant_t *v, char *buf, size_t size)
{
    const uint32_t invocations = VKS_CONV_LOCAL_X * VKS_CONV_LOCAL_Y;
    if (v->algo == VKS_CONV_IGEMM)
        vks_conv_igemm_name(v, buf, size);
    else if (v->algo == VKS_CONV_TGEMM)
        snprintf(buf, size, "GEMM per tap");
    else if (vks_conv_wino_m(v->algo))
        snprintf(buf, size, "winograd F(%ux%u)", vks_conv_wino_m(v->algo), vks_conv_wino_m(v->algo));
    else if (v->algo == VKS_CONV_DIRECT && v->px && v->lx && v->oc && v->oc != VKS_CONV_OC)
        snprintf(buf, size, "direct %upx %ux%u %uch", v->px, v->lx, invocations / v->lx, v->oc);
    else if (v->algo == VKS_CONV_DIRECT && v->px && v->lx)
        snprintf(buf, size, "direct %upx %ux%u", v->px, v->lx, invocations / v->lx);
    else if (v->algo == VKS_CONV_DIRECT)
        snprintf(buf, size, "direct");
    else
        snprintf(buf, size, "heuristic");
}

void vks_band_scatter(uint32_t stride, uint32_t kh, int32_t pad, const vks_tensor_t *in, uint32_t r0, uint32_t r1,
                      vks_band_rows_t *b)
{
    /* out[s*i + k - pad] += in[i] * w[k], k < kh: the input rows that reach [r0, r1), widened to
     * rows r0/s .. ceil(r1/s) so that every row of the band is written */
    int64_t s2 = stride, k = kh, p = pad;
    int64_t lo = (int64_t)floor((double)(r0 + p - (k - 1)) / s2), hi = (r1 - 1 + p) / s2 + 1;
    if (lo > r0 / s2) lo = r0 / s2;
    if (hi < ((int64_t)r1 + s2 - 1) / s2) hi = ((int64_t)r1 + s2 - 1) / s2;
    b->a = (uint32_t)(lo < 0 ? 0 : lo);
    b->b = (uint32_t)(hi > in->h ? in->h : hi);
    b->oh = (b->b - b->a) * stride;
    b->d0 = r0 - b->a * stride;
    b->pad_top = b->pad_bottom = 0;
}

void vks_conv_cost(const vks_layer_t *ly, const vks_tensor_t *in, const vks_tensor_t *out, double macs,
                   vks_layer_profile_t *lp)
{
    double taps = (double)ly->kh * ly->kw, nin = (double)in->c * in->h * in->w, nout = (double)out->c * out->h * out->w;
    lp->flops = 2 * macs;
    lp->bytes = in->esize * (nin + nout) + 4 * (double)in->c * out->c * taps;
    size_t n = strlen(lp->shape);
    if (ly->stride_w != ly->stride) snprintf(lp->shape + n, sizeof lp->shape - n, " k%u s%ux%u", ly->kh, ly->stride, ly->stride_w);
    else snprintf(lp->shape + n, sizeof lp->shape - n, " k%u s%u", ly->kh, ly->stride);
}
