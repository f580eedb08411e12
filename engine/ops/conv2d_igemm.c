/* The implicit-GEMM convolution (conv2d_igemm.comp): conv2d and conv2d_transpose as tiled GEMMs
 * through shared memory, the form GPUs run fastest without Winograd. The tuner offers it as a
 * variant of both ops (VKS_CONV_IGEMM); vks_op_conv2d and vks_op_conv2d_transpose dispatch it
 * when their params ask for it. */
#include "op.h"

#include <stdio.h>

/* Workgroup tiles: output channels x pixels per workgroup (BM x BN), the k depth of a
 * shared-memory stage (BK), the register tile (TM x TN). Each keeps its invocations a multiple
 * of BN and of BK (the shader's staging assumes it) and its shared memory (4 BK (BM + 1 + BN) bytes)
 * within the 16 KiB every device has. Few-channel layers (RGB in or out) take the narrow ones. */
static const struct igemm_tile {
    uint32_t bm, bn, bk, tm, tn;
} tiles[] = {
    {64, 64, 16, 4, 4},    /* 256 invocations, 8 KiB */
    {32, 128, 16, 4, 4},   /* 256, 10 KiB */
    {16, 128, 16, 2, 4},   /* 256, 9 KiB */
    {8, 128, 16, 2, 4},    /* 128, 8.5 KiB */
};
#define NTILES (sizeof tiles / sizeof *tiles)

/* Push constants of conv2d_igemm.comp (mirrored field for field). */
typedef struct igemm_push {
    uint32_t h, w, in_stride;
    uint32_t oh, ow, out_stride;
    uint32_t c_total;
    uint32_t ci0, nci, co0, nco;
    int32_t pad_top, pad_left;
    uint32_t first, last;
    uint32_t wofs;
    uint32_t ry, rx;
    uint32_t wg_base[3];
} igemm_push_t;
_Static_assert(sizeof(igemm_push_t) <= 128, "push constants");

static bool tile_fits(const vks_context_t *ctx, const struct igemm_tile *t)
{
    const VkPhysicalDeviceLimits *l = &ctx->props.limits;
    uint32_t nt = t->bm * t->bn / (t->tm * t->tn);
    return nt <= l->maxComputeWorkGroupInvocations && nt <= l->maxComputeWorkGroupSize[0] &&
           4u * t->bk * (t->bm + 1 + t->bn) <= l->maxComputeSharedMemorySize;
}

/* The heuristic's tile for cout output channels: the widest whose BM the layer fills. */
static uint32_t default_tile(const vks_context_t *ctx, uint32_t cout)
{
    for (uint32_t i = 0; i < NTILES; i++)
        if ((tiles[i].bm <= cout || i == NTILES - 1) && tile_fits(ctx, &tiles[i])) return i;
    return NTILES;
}

bool vks_conv_igemm_offered(const vks_context_t *ctx)
{
    return ctx->props.deviceType != VK_PHYSICAL_DEVICE_TYPE_CPU || vks_env_is("VKSTYLE_IGEMM", "1");
}

uint32_t vks_conv_igemm_variants(const vks_context_t *ctx, uint32_t cout, vks_conv_variant_t *v, uint32_t max)
{
    /* the heuristic's tile and the next narrower one */
    uint32_t n = 0;
    for (uint32_t i = default_tile(ctx, cout); i < NTILES && n < 2 && n < max; i++)
        if (tile_fits(ctx, &tiles[i])) v[n++] = (vks_conv_variant_t){VKS_CONV_IGEMM, i + 1, 0};
    return n;
}

void vks_conv_igemm_name(const vks_conv_variant_t *v, char *buf, size_t size)
{
    if (v->px >= 1 && v->px <= NTILES) {
        const struct igemm_tile *t = &tiles[v->px - 1];
        snprintf(buf, size, "igemm %ux%u", t->bm, t->bn);
    } else {
        snprintf(buf, size, "igemm");
    }
}

vks_status_t vks_conv_igemm_record(vks_rec_t *rec, const char *op, const vks_conv_igemm_t *g, const vks_tensor_t *in,
                                   const vks_tensor_t *wt, const vks_tensor_t *bias, const vks_tensor_t *out)
{
    uint32_t ti = g->var.px >= 1 && g->var.px <= NTILES ? g->var.px - 1 : default_tile(rec->ctx, out->c);
    if (ti >= NTILES || !tile_fits(rec->ctx, &tiles[ti]))
        return vks_fail(VKS_ERR_UNSUPPORTED, "%s: the implicit-GEMM tile does not fit %s's compute limits", op,
                        rec->ctx->props.deviceName);
    const struct igemm_tile *t = &tiles[ti];
    uint32_t ci_chunk = 0, co_chunk = 0;
    vks_status_t st = vks_chunk_channels(rec->ctx, op, &in, 1, &ci_chunk);
    if (!st) st = vks_chunk_channels(rec->ctx, op, &out, 1, &co_chunk);
    if (st) return st;
    if (vks_tensor_bytes(wt) > rec->ctx->max_binding)
        return vks_fail(VKS_ERR_SHAPE, "%s: weights (%llu bytes) exceed the device's binding limit", op,
                        (unsigned long long)vks_tensor_bytes(wt));
    uint32_t spec[14] = {g->kh, g->kw, g->sx, g->sy, g->pad_mode, g->act, bias != NULL, g->transposed,
                         t->bm, t->bn, t->bk, t->tm, t->tn, t->bm * t->bn / (t->tm * t->tn)};
    const vks_tensor_t *act_ts[2] = {in, out};
    const vks_pipeline_t *pipe;
    st = vks_act_pipeline(rec, op, VKS_SHADER_CONV2D_IGEMM, act_ts, 2, spec, 14, 4, sizeof(igemm_push_t), &pipe);
    if (st) return st;
    uint64_t row = ((uint64_t)wt->n * wt->c * wt->h * wt->w) / out->c;   /* weights per output channel */
    igemm_push_t push = {
        .h = in->h, .w = in->w, .in_stride = in->plane_stride,
        .oh = out->h, .ow = out->w, .out_stride = out->plane_stride,
        .c_total = in->c, .pad_top = g->pad_top, .pad_left = g->pad_left,
    };
    uint32_t phases_y = g->transposed ? g->sy : 1, phases_x = g->transposed ? g->sx : 1;
    for (uint32_t n = 0; n < in->n; n++)
        for (uint32_t co = 0; co < out->c; co += co_chunk)
            for (uint32_t ci = 0; ci < in->c; ci += ci_chunk) {
                push.ci0 = ci;
                push.nci = in->c - ci < ci_chunk ? in->c - ci : ci_chunk;
                push.co0 = co;
                push.nco = out->c - co < co_chunk ? out->c - co : co_chunk;
                push.first = ci == 0;
                push.last = ci + push.nci == in->c;
                push.wofs = (uint32_t)(co * row);
                vks_binding_t b[4] = {
                    vks_bind_channels(in, n, ci, push.nci, false),
                    vks_bind(wt, false),
                    vks_bind(bias ? bias : wt, false),
                    vks_bind_channels(out, n, co, push.nco, true),
                };
                for (push.ry = 0; push.ry < phases_y; push.ry++)
                    for (push.rx = 0; push.rx < phases_x; push.rx++) {
                        /* the pixels of this phase (all of them for conv2d) */
                        uint32_t gh = out->h, gw = out->w;
                        if (g->transposed) {
                            gh = push.ry < out->h ? vks_div_up(out->h - push.ry, g->sy) : 0;
                            gw = push.rx < out->w ? vks_div_up(out->w - push.rx, g->sx) : 0;
                        }
                        if (!gh || !gw) continue;
                        st = vks_rec_dispatch(rec, pipe, b, 4, &push, vks_div_up(gh * gw, t->bn), 1,
                                              vks_div_up(push.nco, t->bm));
                        if (st) return st;
                    }
            }
    return VKS_OK;
}
