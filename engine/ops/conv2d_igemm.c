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
        if (tile_fits(ctx, &tiles[i])) v[n++] = (vks_conv_variant_t){VKS_CONV_IGEMM, i + 1, 0, 0};
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
    uint32_t spec[14] = {g->kh, g->kw, g->sx, g->sy, g->pad_mode, g->act, bias != NULL, g->transposed,
                         t->bm, t->bn, t->bk, t->tm, t->tn, t->bm * t->bn / (t->tm * t->tn)};
    const vks_tensor_t *act_ts[2] = {in, out};
    const vks_pipeline_t *pipe;
    vks_status_t st = vks_act_pipeline(rec, op, VKS_SHADER_CONV2D_IGEMM, act_ts, 2, spec, 14, 4, sizeof(vks_conv_push_t),
                                       &pipe);
    if (st) return st;
    vks_conv_push_t push = {
        .h = in->h, .w = in->w, .in_stride = in->plane_stride,
        .oh = out->h, .ow = out->w, .out_stride = out->plane_stride,
        .c_total = in->c, .pad0 = g->pad_top, .pad1 = g->pad_left,
    };
    vks_conv_gemm_t grid = {t->bm, t->bn, g->sy, g->sx, g->transposed};
    return vks_conv_record_chunks(rec, op, pipe, push, 0, 0, (vks_conv_tile_t){0}, 0, 0, NULL, &grid, in, wt, bias, out);
}
