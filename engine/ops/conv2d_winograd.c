/* conv2d by Winograd F(m x m, 3x3), m = 6, 4 or 2 (vks_winograd_tile), for 3x3 stride-1
 * convolutions: three steps, each its shader (F(6x6): conv2d_wino6_in/_out, F(4x4):
 * conv2d_wino4_in/_out, F(2x2): conv2d_wino_in/_out; one GEMM shader for all):
 *   1. input transform:  the input's (m+2)x(m+2) patch of every m x m output tile, padding folded
 *                        in, transformed to V = B^T d B: V[P][tp / blk][cin][blk], P = (m+2)^2
 *                        positions (blk = tp for the storage-buffer GEMM: V[P][cin][tp]).
 *   2. conv2d_wino_gemm: per position p, M[p] = U[p] V[p]: [cout][cin] x [cin][tp], U the
 *                        transformed weights G g G^T, computed on the device for each tile the
 *                        first time it runs (vks_op_winograd_weights, conv2d_wino_weights; its C
 *                        reference vks_winograd_weights: [16 + 36 + 64][cout][cin]), read from uniform
 *                        buffers; V from a storage buffer, or (conv2d_wino_gemm_xubo: fp32, at
 *                        most 256 input channels, scalarBlockLayout) from uniform buffers of
 *                        blocks of tiles.
 *   3. output transform: y = act(A^T M A + bias).
 * Arithmetic is fp32; V and M are stored as the activations are (fp16 in fp16 sessions, which run
 * F(2x2) only). V and M live in scratch memory the caller gives (a session plans it per layer:
 * plan.c), so planes of more than VKS_WINO_CHUNK tiles run the three steps over ranges of tiles
 * through the same scratch.
 * Multiplies: 9 per output and input channel directly, 64/36 = 1.78 by F(6x6), 36/16 = 2.25 by
 * F(4x4), 16/4 = 4 by F(2x2); the transforms cost O(channels x pixels).
 * Where it cannot run (channels past one binding, weight rows past a uniform binding, no
 * scratch), vks_winograd_fits says so and the caller runs the direct convolution.
 * The same GEMM also runs the transposed convolution per kernel tap (vks_op_conv2d_transpose_gemm,
 * at the end of this file: conv2d_tgemm_in, one GEMM of taps x cout rows, conv2d_tgemm_out). */
#include "op.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Push constants of the shaders (shaders/wino_push.glsl, field for field). */
typedef struct wino_push {
    uint32_t h, w, in_stride;
    uint32_t oh, ow, out_stride;
    uint32_t tiles_w, ntiles, tp;
    uint32_t cin, cout;
    int32_t pad_top, pad_left;
    uint32_t co0, nco, wofs;
    uint32_t pos, tile0, blk;
    uint32_t chunk0;       /* the first tile of this range (the transforms) */
    uint32_t zg;           /* the GEMM with several positions a dispatch: output-channel tiles per position */
    uint32_t ci0, cpb;     /* the input transform from uniform buffers: its first channel, planes per buffer */
    uint32_t row0;         /* the transposed GEMM's output step: the input row of M's tile 0 */
    uint32_t wg_base[3];   /* set by the recorder (split dispatches) */
} wino_push_t;
_Static_assert(sizeof(wino_push_t) <= 128, "push constants");

bool vks_winograd_enabled(void)
{
    return !vks_env_is("VKSTYLE_WINOGRAD", "0");
}

/* The GEMM's register tile: VKS_WINO_TM x VKS_WINO_TN_MAX (VKS_WINO_TM_CPU output channels on a
 * CPU device, ctx NULL: VKS_WINO_TM), or for measuring others VKSTYLE_WINO_TILE=TMxTN (TM a
 * multiple of 4 up to 32, TN a power of 2 up to 32). Only TN shapes the scratch and the dispatch
 * grid's tiles, so the plan needs no device. */
static void tile_shape(const vks_context_t *ctx, uint32_t *tm, uint32_t *tn_max)
{
    *tm = ctx && ctx->props.deviceType == VK_PHYSICAL_DEVICE_TYPE_CPU ? VKS_WINO_TM_CPU : VKS_WINO_TM;
    *tn_max = VKS_WINO_TN_MAX;
    const char *e = getenv("VKSTYLE_WINO_TILE");
    unsigned a, b;
    if (e && sscanf(e, "%ux%u", &a, &b) == 2 && a >= 4 && a <= 32 && a % 4 == 0 && b >= 1 && b <= 32 && !(b & (b - 1))) {
        *tm = a;
        *tn_max = b;
    }
}

/* The GEMM's workgroup (invocations) and tiles per invocation for a range of ntiles: TN tiles in
 * workgroups of VKS_WINO_LOCAL, and where the range has fewer tiles than that takes, narrower
 * workgroups first (down to VKS_WINO_LOCAL_MIN), then fewer tiles an invocation, so that small
 * planes keep the register tile and leave few lanes idle. VKSTYLE_WINO_LOCAL_MIN=N (a power of 2
 * up to VKS_WINO_LOCAL) sets the narrowest workgroup, to measure others. */
static void gemm_shape(uint32_t ntiles, uint32_t *local, uint32_t *tn)
{
    uint32_t tm, lmin = vks_env_pow2("VKSTYLE_WINO_LOCAL_MIN", 1, VKS_WINO_LOCAL);
    if (!lmin) lmin = VKS_WINO_LOCAL_MIN;
    tile_shape(NULL, &tm, tn);
    *local = VKS_WINO_LOCAL;
    while ((uint64_t)*local * *tn > ntiles) {
        if (*local > lmin) *local /= 2;
        else if (*tn > 1) *tn /= 2;
        else break;
    }
}

/* Rows of V and M for n tiles: whole GEMM workgroups of group tiles, 256-byte aligned (fp16: 128
 * tiles; the transforms' workgroups of VKS_WINO_LOCAL tiles divide that). */
static uint32_t row_tiles(uint32_t n, uint32_t group, uint32_t esize)
{
    uint32_t align = 256 / esize;
    if (group < align) group = align;
    return (n + group - 1) / group * group;
}

/* The tiles (m x m outputs) of an oh x ow output (tiles_w along x), the tiles a range takes
 * (chunk), the GEMM's workgroup and tiles per invocation and the row length of V and M for a full
 * range (tp). */
static void geometry(uint32_t m, uint32_t oh, uint32_t ow, uint32_t esize, uint32_t *tiles_w, uint32_t *ntiles,
                     uint32_t *chunk, uint32_t *tp, uint32_t *local, uint32_t *tn)
{
    *tiles_w = vks_div_up(ow, m);
    *ntiles = *tiles_w * vks_div_up(oh, m);
    *chunk = *ntiles < VKS_WINO_CHUNK ? *ntiles : VKS_WINO_CHUNK;
    gemm_shape(*chunk, local, tn);
    *tp = row_tiles(*chunk, *local * *tn, esize);
}

/* Positions (values of a transformed tile) of F(m x m, 3x3). */
static uint32_t positions(uint32_t m)
{
    return (m + 2) * (m + 2);
}

/* The tiles F(m x m)'s GEMMs compute for an oh x ow output: every range's, padded to whole
 * workgroups (as vks_op_conv2d_winograd runs them). */
static uint64_t padded_tiles(uint32_t m, uint32_t oh, uint32_t ow, uint32_t esize)
{
    uint32_t tw, nt, chunk, tp, local, tn;
    geometry(m, oh, ow, esize, &tw, &nt, &chunk, &tp, &local, &tn);
    uint64_t sum = 0;
    for (uint32_t c0 = 0; c0 < nt; c0 += chunk) sum += row_tiles(nt - c0 < chunk ? nt - c0 : chunk, local * tn, esize);
    return sum;
}

/* The tile whose GEMMs, padded to whole workgroups, take the fewest products: 64 positions x
 * F(6x6)'s padded tiles, 36 x F(4x4)'s or 16 x F(2x2)'s. F(4x4) from planes of 24x24 on, not 16x16
 * or 20x20, where its few tiles are mostly padding (udnie on lavapipe, residual convs: 16x16 2.1 ms
 * by F(2x2) against 6.5-8.7 by F(4x4); 20x20 4.4-4.5 against 7.2-8.7; 24x24 8.2-10.5 against
 * 6.9-8.6; 32x32 8.7-11.6 against 6.5-7.8; docs/winograd-status.md); F(6x6) on 64x64 (8,192
 * products against 9,216) and larger planes, not 32x32 (4,096 against 2,304). */
uint32_t vks_winograd_tile(uint32_t esize, uint32_t oh, uint32_t ow)
{
    if (esize != 4 || vks_env_is("VKSTYLE_WINOGRAD", "2")) return 2;
    if (vks_env_is("VKSTYLE_WINOGRAD", "4")) return 4;
    if (vks_env_is("VKSTYLE_WINOGRAD", "6")) return 6;
    uint64_t p2 = 16 * padded_tiles(2, oh, ow, esize), p4 = 36 * padded_tiles(4, oh, ow, esize);
    uint64_t p6 = 64 * padded_tiles(6, oh, ow, esize);
    return p6 < p4 && p6 < p2 ? 6 : p4 < p2 ? 4 : 2;
}

uint32_t vks_conv_wino_m(uint32_t algo)
{
    return algo == VKS_CONV_WINO2 ? 2 : algo == VKS_CONV_WINO4 ? 4 : algo == VKS_CONV_WINO6 ? 6 : 0;
}

uint32_t vks_wino_planes_before(uint32_t m)
{
    uint32_t n = 0;
    for (uint32_t k = 2; k < m; k += 2) n += (k + 2) * (k + 2);
    return n;
}

uint32_t vks_winograd_tile_of(const vks_conv2d_params_t *p, uint32_t esize, uint32_t oh, uint32_t ow)
{
    uint32_t m = vks_conv_wino_m(p->var.algo);
    if (m) return esize == 4 ? m : 2;
    return vks_winograd_tile(esize, oh, ow);
}

VkDeviceSize vks_winograd_scratch_bytes(uint32_t cin, uint32_t cout, uint32_t oh, uint32_t ow, uint32_t esize)
{
    VkDeviceSize most = 0;
    for (uint32_t m = 2; m <= (esize == 4 ? 6u : 2u); m += 2) {
        uint32_t tiles_w, ntiles, chunk, tp, local, tn;
        geometry(m, oh, ow, esize, &tiles_w, &ntiles, &chunk, &tp, &local, &tn);
        VkDeviceSize b = (VkDeviceSize)positions(m) * tp * esize * ((VkDeviceSize)cin + cout);
        if (b > most) most = b;
    }
    return most;
}

/* u[base + p][co][ci] = (G g G^T)[p / a][p % a] for the a x 3 matrix G, a = m + 2 */
static void transform_weights(const float *g, uint32_t cout, uint32_t cin, int a, const float (*G)[3], float *u)
{
    size_t plane = (size_t)cout * cin;
    for (uint32_t co = 0; co < cout; co++)
        for (uint32_t ci = 0; ci < cin; ci++) {
            const float *k = g + ((size_t)co * cin + ci) * 9;
            float t[8][3];   /* G g */
            for (int i = 0; i < a; i++)
                for (int j = 0; j < 3; j++) t[i][j] = G[i][0] * k[j] + G[i][1] * k[3 + j] + G[i][2] * k[6 + j];
            for (int i = 0; i < a; i++)
                for (int j = 0; j < a; j++)
                    u[(size_t)(a * i + j) * plane + (size_t)co * cin + ci] =
                        t[i][0] * G[j][0] + t[i][1] * G[j][1] + t[i][2] * G[j][2];
        }
}

void vks_winograd_weights(const float *g, uint32_t cout, uint32_t cin, float *u)
{
    static const float G2[4][3] = {{1, 0, 0}, {0.5f, 0.5f, 0.5f}, {0.5f, -0.5f, 0.5f}, {0, 0, 1}};
    static const float G4[6][3] = {{1.0f / 4, 0, 0},
                                   {-1.0f / 6, -1.0f / 6, -1.0f / 6},
                                   {-1.0f / 6, 1.0f / 6, -1.0f / 6},
                                   {1.0f / 24, 1.0f / 12, 1.0f / 6},
                                   {1.0f / 24, -1.0f / 12, 1.0f / 6},
                                   {0, 0, 1}};
    static const float G6[8][3] = {{1, 0, 0},
                                   {-2.0f / 9, -2.0f / 9, -2.0f / 9},
                                   {-2.0f / 9, 2.0f / 9, -2.0f / 9},
                                   {1.0f / 90, 1.0f / 45, 2.0f / 45},
                                   {1.0f / 90, -1.0f / 45, 2.0f / 45},
                                   {32.0f / 45, 16.0f / 45, 8.0f / 45},
                                   {32.0f / 45, -16.0f / 45, 8.0f / 45},
                                   {0, 0, 1}};
    transform_weights(g, cout, cin, 4, G2, u);
    transform_weights(g, cout, cin, 6, G4, u + vks_wino_planes_before(4) * (size_t)cout * cin);
    transform_weights(g, cout, cin, 8, G6, u + vks_wino_planes_before(6) * (size_t)cout * cin);
}

typedef struct { uint32_t cout, cin, q0, nq, ubase, wg_base[3]; } wweights_push_t;
_Static_assert(sizeof(wweights_push_t) <= 128, "push constants");

bool vks_winograd_weights_fit(const vks_context_t *ctx, uint32_t cout, uint32_t cin)
{
    VkDeviceSize plane = (VkDeviceSize)cout * cin * sizeof(float);
    return plane > 0 && plane * 9 <= ctx->max_binding &&
           plane + ctx->props.limits.minStorageBufferOffsetAlignment <= ctx->max_binding;
}

vks_status_t vks_op_winograd_weights(vks_rec_t *rec, const vks_tensor_t *g, uint32_t cout, uint32_t cin, const vks_tensor_t *u,
                                     uint32_t tiles)
{
    const char *op = "winograd_weights";
    vks_context_t *ctx = rec->ctx;
    VkDeviceSize plane = (VkDeviceSize)cout * cin * sizeof(float), align = ctx->props.limits.minStorageBufferOffsetAlignment;
    if (vks_tensor_bytes(g) != plane * 9 || vks_tensor_bytes(u) != plane * VKS_WINO_WEIGHT_PLANES)
        return vks_fail(VKS_ERR_SHAPE, "%s: %llu and %llu bytes of weights for %u -> %u channels", op,
                        (unsigned long long)vks_tensor_bytes(g), (unsigned long long)vks_tensor_bytes(u), cin, cout);
    if (!vks_winograd_weights_fit(ctx, cout, cin))
        return vks_fail(VKS_ERR_SHAPE, "%s: %u -> %u channels: the weights do not fit one binding of %llu bytes", op, cin,
                        cout, (unsigned long long)ctx->max_binding);
    /* as many planes a dispatch as one binding holds, from an aligned offset at most align - 1 bytes
       before the first */
    uint32_t per = (uint32_t)((ctx->max_binding - align) / plane);
    vks_binding_t bg = {g->block, g->offset, plane * 9, false};
    for (uint32_t a = 4; a <= 8; a += 2) {
        if (!(tiles & vks_wino_tile_bit(a - 2))) continue;
        uint32_t before = vks_wino_planes_before(a - 2);
        const vks_pipeline_t *pipe;
        vks_status_t st = vks_rec_pipeline(rec, VKS_SHADER_CONV2D_WINO_WEIGHTS, &a, 1, 2, 0, sizeof(wweights_push_t), 1, &pipe);
        if (st) return st;
        for (uint32_t q0 = 0; q0 < a * a; q0 += per) {
            uint32_t nq = a * a - q0 < per ? a * a - q0 : per;
            VkDeviceSize at = u->offset + (before + q0) * plane, start = at / align * align;
            wweights_push_t push = {cout, cin, q0, nq, (uint32_t)((at - start) / sizeof(float)), {0}};
            vks_binding_t b[2] = {bg, {u->block, start, at - start + nq * plane, true}};
            if ((st = vks_rec_dispatch(rec, pipe, b, 2, &push, vks_div_up(cin, VKS_LOCAL_1D), cout, 1))) return st;
        }
    }
    return VKS_OK;
}

/* Whether every position's U starts at a multiple of minUniformBufferOffsetAlignment (U, and its
 * planes of cout x cin floats, aligned). */
static bool u_aligned(const vks_context_t *ctx, const vks_tensor_t *u, uint32_t cin, uint32_t cout)
{
    VkDeviceSize align = ctx->props.limits.minUniformBufferOffsetAlignment;
    return u->offset % align == 0 && (VkDeviceSize)cout * cin * sizeof(float) % align == 0;
}

/* Output channels of U whose rows one uniform binding holds (a multiple of the GEMM's tile), or 0.
 * Where every binding of U would start aligned (U, its planes and groups of rows at multiples of
 * minUniformBufferOffsetAlignment), a whole binding: 128 rows of 128 channels, so a 128 -> 128
 * layer runs one GEMM dispatch per position instead of two (120 rows and 8). */
static uint32_t ubo_rows(const vks_context_t *ctx, const vks_tensor_t *u, uint32_t cin, uint32_t cout)
{
    VkDeviceSize align = ctx->props.limits.minUniformBufferOffsetAlignment;
    VkDeviceSize row = (VkDeviceSize)cin * sizeof(float);
    if (ctx->conv_storage_weights || ctx->props.limits.maxUniformBufferRange < VKS_UBO_BYTES ||
        u->offset + vks_tensor_bytes(u) + VKS_UBO_BYTES > u->block->size || row + align > VKS_UBO_BYTES)
        return 0;
    uint32_t tm, tn;
    tile_shape(ctx, &tm, &tn);
    uint32_t rows = (uint32_t)(VKS_UBO_BYTES / row);
    rows -= rows % tm;
    bool aligned = u_aligned(ctx, u, cin, cout) && (rows >= cout || (rows * row) % align == 0);
    if (!aligned) {   /* a binding may start up to align - 1 bytes before its first row */
        rows = (uint32_t)((VKS_UBO_BYTES - align) / row);
        rows -= rows % tm;
    }
    return rows < tm ? 0 : rows;
}

/* The GEMM with VKS_WINO_NPOS positions a dispatch (conv2d_wino_gemm_mpos), unless
 * VKSTYLE_WINO_MPOS=0 (to measure one against the other). */
static bool mpos_enabled(void)
{
    return !vks_env_is("VKSTYLE_WINO_MPOS", "0");
}

/* Whether the xubo and mpos GEMMs load their weights 8 input channels at a time and shuffle
 * them (WSHUF in conv2d_wino_gemm.comp): on CPU devices with subgroups of at least 8, unless
 * VKSTYLE_WINO_SHUFFLE=0 (to measure). */
static uint32_t wino_shuffle(const vks_context_t *ctx)
{
    return vks_weight_shuffle(ctx) && !vks_env_is("VKSTYLE_WINO_SHUFFLE", "0");
}

/* Tiles per block of V for the xubo GEMM (a block, cin x blk floats, fills at most one uniform
 * binding; a power of 2 times 64 up to a GEMM workgroup's tiles), or 0: the storage-buffer GEMM. */
static uint32_t xubo_blk(const vks_context_t *ctx, const vks_tensor_t *in, uint32_t group)
{
    if (!vks_input_ubo(ctx) || in->esize != 4 || !ctx->scalar_ubo || !ctx->subgroup_shuffle || ctx->conv_storage_weights ||
        (uint64_t)in->c * 64 * 4 > VKS_UBO_BYTES)
        return 0;
    uint32_t blk = 64;
    while (blk * 2 <= group && (uint64_t)in->c * blk * 2 * 4 <= VKS_UBO_BYTES) blk *= 2;
    return blk;
}

/* Input planes per uniform binding for the input transform (conv2d_wino*_in_xubo: CPU devices,
 * fp32, planes of at most VKS_UBO_BYTES; vks_ubo_planes), or 0: from a storage buffer. The
 * transform is per channel, so channels past what VKS_X_UBOS bindings hold take another dispatch
 * and nothing accumulates. VKSTYLE_WINO_IN_UBO=0: from a storage buffer (to measure). */
static uint32_t in_cpb(const vks_context_t *ctx, const vks_tensor_t *in)
{
    return vks_env_is("VKSTYLE_WINO_IN_UBO", "0") ? 0 : vks_ubo_planes(ctx, in);
}

/* The GEMM step, M[p] = U[p] V[p] for np positions over tp tiles, as both the Winograd and the
 * transposed convolution (vks_op_conv2d_transpose_gemm: one position of taps x cout rows) record
 * it: which of conv2d_wino_gemm's variants, its register tile and blocks of V. */
typedef struct gemm {
    const vks_pipeline_t *pipe;
    uint32_t np, cin, cout, es;
    uint32_t local, group, tm;      /* workgroup, tiles a workgroup takes, output channels an invocation */
    uint32_t rows;                  /* output channels one uniform binding of U holds */
    uint32_t xblk;                  /* the xubo variant's tiles per block of V, or 0 */
    uint32_t mblk, nvb, nq;         /* the mpos variant: tiles per block, blocks a position, positions a dispatch */
    bool mpos;
    uint32_t u_plane0;              /* planes of u before position 0's (F(4x4)'s follow F(2x2)'s, F(6x6)'s both) */
} gemm_t;

/* The GEMM for in (cin channels) -> cout channels, np positions of U from plane u_plane0 of u,
 * over ranges of tp tiles (one range: single), in workgroups of local x tn tiles. */
static vks_status_t gemm_setup(vks_rec_t *rec, const vks_tensor_t *in, const vks_tensor_t *u, uint32_t cout, uint32_t np,
                               uint32_t u_plane0, bool single, uint32_t tp, uint32_t local, uint32_t tn, gemm_t *g)
{
    vks_context_t *ctx = rec->ctx;
    uint32_t tn_max, es = in->esize;
    *g = (gemm_t){.np = np, .cin = in->c, .cout = cout, .es = es, .local = local, .group = local * tn,
                  .u_plane0 = u_plane0};
    g->rows = ubo_rows(ctx, u, in->c, cout);
    g->xblk = xubo_blk(ctx, in, g->group);
    tile_shape(ctx, &g->tm, &tn_max);
    /* small planes: several positions a GEMM dispatch, where all output channels take one
     * uniform binding of U, aligned, and a position's V a few more (nvb blocks of mblk tiles) */
    if (g->xblk && g->rows >= cout && single && u_aligned(ctx, u, in->c, cout) && mpos_enabled()) {
        g->mblk = 64;   /* a power of 2 times 64 (256-byte blocks, whole GEMM workgroups) that divides tp */
        while (tp % (g->mblk * 2) == 0 && (uint64_t)in->c * g->mblk * 2 * es <= VKS_UBO_BYTES) g->mblk *= 2;
        g->nvb = tp / g->mblk;
        g->nq = 2 * VKS_WINO_NPOS / (1 + g->nvb);
    }
    g->mpos = g->nq >= 2 && g->mblk % local == 0 && (uint64_t)in->c * g->mblk * es <= VKS_UBO_BYTES;
    uint32_t wshuf = wino_shuffle(ctx);
    if (g->mpos) {
        uint32_t mspec[7] = {tn, g->mblk, ctx->clamp_ubo_array_index, g->tm, local, g->nvb, wshuf};
        return vks_rec_pipeline(rec, VKS_SHADER_CONV2D_WINO_GEMM_MPOS, mspec, 7, 4, 1u << 3, sizeof(wino_push_t),
                                2 * VKS_WINO_NPOS, &g->pipe);
    }
    if (g->xblk) {
        uint32_t xspec[7] = {tn, g->xblk, ctx->clamp_ubo_array_index, g->tm, local, 1, wshuf};
        return vks_rec_pipeline(rec, VKS_SHADER_CONV2D_WINO_GEMM_XUBO, xspec, 7, 4, 1u << 1 | 1u << 3,
                                sizeof(wino_push_t), VKS_X_UBOS, &g->pipe);
    }
    vks_shader_id_t gemm = VKS_SHADER_CONV2D_WINO_GEMM;
    const vks_tensor_t *ts_gemm[1] = {in};
    vks_status_t st = vks_act_shader(ctx, "conv2d_wino_gemm", VKS_SHADER_CONV2D_WINO_GEMM, ts_gemm, 1, &gemm);
    uint32_t spec_gemm[5] = {tn, 64, 1, g->tm, local};
    return st ? st : vks_rec_pipeline(rec, gemm, spec_gemm, 5, 3, 1u << 1, sizeof(wino_push_t), 1, &g->pipe);
}

/* Tiles per block of V for a range of tpc tiles (push.blk: the input step writes V so). */
static uint32_t gemm_blk(const gemm_t *g, uint32_t tpc)
{
    return g->mpos ? g->mblk : g->xblk ? g->xblk : tpc;
}

/* The GEMM's dispatches for a range of tpc tiles: V from scratch at v0 (position p's at
 * v0 + p x cin x tpc), M to m0 ([np][cout][tpc]). */
static vks_status_t gemm_record(vks_rec_t *rec, const gemm_t *g, const vks_tensor_t *u, const vks_block_t *sb,
                                VkDeviceSize v0, VkDeviceSize m0, uint32_t tpc, wino_push_t *push)
{
    vks_status_t st;
    VkDeviceSize ubo_align = rec->ctx->props.limits.minUniformBufferOffsetAlignment;
    VkDeviceSize pos_v = (VkDeviceSize)tpc * g->es * g->cin, row_m = (VkDeviceSize)tpc * g->es;
    uint32_t blk = gemm_blk(g, tpc), range = g->xblk && !g->mpos ? VKS_X_UBOS * g->xblk / g->group * g->group : tpc;
    if (g->mpos) {   /* nq positions a dispatch; z = position x output-channel tile */
        push->co0 = push->tile0 = push->wofs = 0;
        push->nco = g->cout;
        push->zg = vks_div_up(g->cout, g->tm);
        VkDeviceSize blk_bytes = (VkDeviceSize)g->cin * g->mblk * g->es;
        for (uint32_t p0 = 0; p0 < g->np; p0 += g->nq) {
            uint32_t nd = g->np - p0 < g->nq ? g->np - p0 : g->nq;   /* positions in this dispatch */
            push->pos = p0;
            vks_binding_t b[3 + 2 * VKS_WINO_NPOS] = {{0}};
            b[0] = b[1] = (vks_binding_t){sb, v0 + p0 * pos_v, pos_v, false};   /* unused by this variant */
            b[2] = (vks_binding_t){sb, m0 + (VkDeviceSize)p0 * g->cout * row_m, nd * g->cout * row_m, true};
            for (uint32_t q = 0; q < g->nq; q++) {   /* past the last position: its first again */
                uint32_t pq = p0 + (q < nd ? q : 0);
                VkDeviceSize start = u->offset + (VkDeviceSize)(g->u_plane0 + pq) * g->cout * g->cin * sizeof(float);
                b[3 + q] = (vks_binding_t){u->block, start, VKS_UBO_BYTES, false};
                for (uint32_t k = 0; k < g->nvb; k++)
                    b[3 + g->nq + q * g->nvb + k] = (vks_binding_t){sb, v0 + pq * pos_v + k * blk_bytes, blk_bytes, false};
            }
            for (uint32_t i = g->nq * (1 + g->nvb); i < 2 * VKS_WINO_NPOS; i++) b[3 + i] = b[3];   /* unused */
            if ((st = vks_rec_dispatch(rec, g->pipe, b, 3 + 2 * VKS_WINO_NPOS, push, tpc / g->group, 1, push->zg * nd)))
                return st;
        }
        return VKS_OK;
    }
    /* otherwise one dispatch per group of output channels, range of tiles and position; the
     * positions write their own rows of M (disjoint bindings: no barriers between them) */
    for (uint32_t co = 0; co < g->cout; co += g->rows)
        for (uint32_t t0 = 0; t0 < tpc; t0 += range)
            for (uint32_t pos = 0; pos < g->np; pos++) {
                uint32_t nt = tpc - t0 < range ? tpc - t0 : range;
                push->pos = pos;
                push->tile0 = t0;
                push->co0 = co;
                push->nco = g->cout - co < g->rows ? g->cout - co : g->rows;
                VkDeviceSize start = u->offset + ((VkDeviceSize)(g->u_plane0 + pos) * g->cout + co) * g->cin * sizeof(float);
                vks_binding_t b[3 + VKS_X_UBOS] = {
                    {sb, v0 + pos * pos_v, pos_v, false},
                    {u->block, start / ubo_align * ubo_align, VKS_UBO_BYTES, false},
                    {sb, m0 + ((VkDeviceSize)pos * g->cout + co) * row_m, push->nco * row_m, true},
                };
                uint32_t nb = 3;
                VkDeviceSize blk_bytes = (VkDeviceSize)g->cin * blk * g->es;
                for (uint32_t k = 0; g->xblk && k < VKS_X_UBOS; k++) {   /* the range's blocks; unused: its first */
                    uint32_t bi = t0 / blk + (k * blk < nt ? k : 0);
                    b[nb++] = (vks_binding_t){sb, v0 + pos * pos_v + bi * blk_bytes, blk_bytes, false};
                }
                push->wofs = (uint32_t)((start - b[1].offset) / sizeof(float));
                if ((st = vks_rec_dispatch(rec, g->pipe, b, nb, push, nt / g->group, 1, vks_div_up(push->nco, g->tm))))
                    return st;
            }
    return VKS_OK;
}

/* The input step's dispatches for sample n: in_xubo (cpb planes a uniform buffer: one dispatch
 * per VKS_X_UBOS x cpb channels) or from a storage buffer; v: where V goes. Workgroups of
 * VKS_WINO_LOCAL tiles x nc channels. */
static vks_status_t record_in(vks_rec_t *rec, const vks_pipeline_t *pipe, uint32_t cpb, const vks_tensor_t *in, uint32_t n,
                              uint32_t nc, vks_binding_t v, wino_push_t *push)
{
    vks_status_t st;
    if (!cpb) {
        vks_binding_t b[2] = {vks_bind_channels(in, n, 0, in->c, false), v};
        return vks_rec_dispatch(rec, pipe, b, 2, push, push->tp / VKS_WINO_LOCAL, vks_div_up(in->c, nc), 1);
    }
    push->cpb = cpb;   /* the channels VKS_X_UBOS buffers of cpb planes hold, a dispatch */
    for (push->ci0 = 0; push->ci0 < in->c; push->ci0 += VKS_X_UBOS * cpb) {
        uint32_t nci = in->c - push->ci0 < VKS_X_UBOS * cpb ? in->c - push->ci0 : VKS_X_UBOS * cpb;
        vks_binding_t b[1 + VKS_X_UBOS] = {v};
        vks_bind_ubo_planes(in, n, push->ci0, nci, cpb, b + 1);
        if ((st = vks_rec_dispatch(rec, pipe, b, 1 + VKS_X_UBOS, push, push->tp / VKS_WINO_LOCAL, vks_div_up(nci, nc), 1)))
            return st;
    }
    return VKS_OK;
}

bool vks_winograd_fits(const vks_context_t *ctx, const vks_conv2d_params_t *p, const vks_tensor_t *in,
                       const vks_tensor_t *u, const vks_tensor_t *out, const vks_tensor_t *scratch)
{
    if (!vks_winograd_enabled() || p->kh != 3 || p->kw != 3 || p->stride != 1 || (p->stride_w && p->stride_w != 1) || !scratch || !u || !u->block)
        return false;
    uint32_t m = vks_winograd_tile_of(p, in->esize, out->h, out->w), tiles_w, ntiles, chunk, tp, local, tn;
    geometry(m, out->h, out->w, in->esize, &tiles_w, &ntiles, &chunk, &tp, &local, &tn);
    VkDeviceSize v_bytes = (VkDeviceSize)positions(m) * tp * in->esize * in->c;
    VkDeviceSize m_bytes = (VkDeviceSize)positions(m) * tp * in->esize * out->c;
    return in->esize == out->esize && vks_tensor_bytes(scratch) >= v_bytes + m_bytes && v_bytes <= ctx->max_binding &&
           m_bytes <= ctx->max_binding && (VkDeviceSize)in->plane_stride * in->esize * in->c <= ctx->max_binding &&
           (VkDeviceSize)out->plane_stride * out->esize * out->c <= ctx->max_binding && ubo_rows(ctx, u, in->c, out->c) > 0;
}

vks_status_t vks_op_conv2d_winograd(vks_rec_t *rec, const vks_conv2d_params_t *p, const vks_tensor_t *in,
                                    const vks_tensor_t *u, const vks_tensor_t *bias, const vks_tensor_t *out,
                                    const vks_tensor_t *scratch)
{
    const char *op = "conv2d_winograd";
    vks_context_t *ctx = rec->ctx;
    if (p->kh != 3 || p->kw != 3 || p->stride != 1 || (p->stride_w && p->stride_w != 1) || p->pad_top < 0 || p->pad_left < 0 || p->pad_bottom < 0 ||
        p->pad_right < 0)
        return vks_fail(VKS_ERR_INVALID_ARGUMENT, "%s: takes 3x3 stride-1 kernels", op);
    uint32_t oh = vks_conv2d_out_side(in->h, 3, 1, p->pad_top, p->pad_bottom);
    uint32_t ow = vks_conv2d_out_side(in->w, 3, 1, p->pad_left, p->pad_right);
    if (in->c == 0 || oh == 0 || ow == 0 || out->h != oh || out->w != ow || out->n != in->n)
        return vks_fail(VKS_ERR_SHAPE, "%s: input %ux%u gives %ux%u, output is %ux%u", op, in->h, in->w, oh, ow,
                        out->h, out->w);
    if ((uint64_t)u->w * u->h * u->c * u->n != (uint64_t)VKS_WINO_WEIGHT_PLANES * in->c * out->c || (bias && (uint64_t)bias->w * bias->h * bias->c * bias->n != out->c))
        return vks_fail(VKS_ERR_SHAPE, "%s: weight/bias size does not match %u->%u channels", op, in->c, out->c);
    if (!vks_conv2d_padding_fits(p, in))
        return vks_fail(VKS_ERR_SHAPE, "%s: reflection padding needs an input larger than %ux%u", op, in->h, in->w);
    if (!vks_winograd_fits(ctx, p, in, u, out, scratch))
        return vks_fail(VKS_ERR_SHAPE, "%s: does not fit this device's bindings or the scratch given (or is disabled)", op);
    uint32_t mt = vks_winograd_tile_of(p, in->esize, oh, ow), tiles_w, ntiles, chunk, tp, local, tn;
    geometry(mt, oh, ow, in->esize, &tiles_w, &ntiles, &chunk, &tp, &local, &tn);
    uint32_t es = in->esize, np = positions(mt);
    gemm_t g;
    vks_status_t st = gemm_setup(rec, in, u, out->c, np, vks_wino_planes_before(mt), ntiles == chunk, tp, local, tn, &g);
    if (st) return st;

    const vks_pipeline_t *p_in, *p_out;
    const vks_tensor_t *ts_in[1] = {in}, *ts_out[1] = {out};
    uint32_t spec_in[1] = {p->pad_mode}, spec_out[2] = {p->act, bias != NULL};
    /* each tile's transforms (F(2x2)'s storage-buffer ones have fp16 variants: vks_act_pipeline) */
    static const vks_shader_id_t shaders[3][3] = {
        {VKS_SHADER_CONV2D_WINO_IN, VKS_SHADER_CONV2D_WINO_IN_XUBO, VKS_SHADER_CONV2D_WINO_OUT},
        {VKS_SHADER_CONV2D_WINO4_IN, VKS_SHADER_CONV2D_WINO4_IN_XUBO, VKS_SHADER_CONV2D_WINO4_OUT},
        {VKS_SHADER_CONV2D_WINO6_IN, VKS_SHADER_CONV2D_WINO6_IN_XUBO, VKS_SHADER_CONV2D_WINO6_OUT},
    };
    const vks_shader_id_t *sh = shaders[mt / 2 - 1];
    uint32_t cpb = in_cpb(ctx, in);
    if (cpb)
        st = vks_rec_pipeline(rec, sh[1], spec_in, 1, 2, 1u << 1, sizeof(wino_push_t), VKS_X_UBOS, &p_in);
    else if (mt > 2)
        st = vks_rec_pipeline(rec, sh[0], spec_in, 1, 2, 0, sizeof(wino_push_t), 1, &p_in);
    else
        st = vks_act_pipeline(rec, op, VKS_SHADER_CONV2D_WINO_IN, ts_in, 1, spec_in, 1, 2, sizeof(wino_push_t), &p_in);
    if (!st && mt > 2)
        st = vks_rec_pipeline(rec, sh[2], spec_out, 2, 3, 0, sizeof(wino_push_t), 1, &p_out);
    else if (!st)
        st = vks_act_pipeline(rec, op, VKS_SHADER_CONV2D_WINO_OUT, ts_out, 1, spec_out, 2, 3, sizeof(wino_push_t), &p_out);
    if (st) return st;

    wino_push_t push = {
        .h = in->h, .w = in->w, .in_stride = in->plane_stride,
        .oh = oh, .ow = ow, .out_stride = out->plane_stride,
        .tiles_w = tiles_w, .ntiles = ntiles,
        .cin = in->c, .cout = out->c,
        .pad_top = p->pad_top, .pad_left = p->pad_left,
    };
    const vks_block_t *sb = scratch->block;
    VkDeviceSize s0 = scratch->offset, m_off = vks_align((VkDeviceSize)np * tp * es * in->c, 256);
    for (uint32_t n = 0; n < in->n; n++)
        for (uint32_t c0 = 0; c0 < ntiles; c0 += chunk) {   /* ranges of tiles through the same scratch */
            uint32_t nc = ntiles - c0 < chunk ? ntiles - c0 : chunk, tpc = row_tiles(nc, g.group, es);
            VkDeviceSize pos_v = (VkDeviceSize)tpc * es * in->c, row_m = (VkDeviceSize)tpc * es;
            push.chunk0 = c0;
            push.tp = tpc;
            push.blk = gemm_blk(&g, tpc);
            if ((st = record_in(rec, p_in, cpb, in, n, 1, (vks_binding_t){sb, s0, np * pos_v, true}, &push))) return st;
            if ((st = gemm_record(rec, &g, u, sb, s0, s0 + m_off, tpc, &push))) return st;
            vks_binding_t b_out[3] = {{sb, s0 + m_off, np * row_m * out->c, false}, vks_bind(bias ? bias : u, false),
                                      vks_bind_channels(out, n, 0, out->c, true)};
            if ((st = vks_rec_dispatch(rec, p_out, b_out, 3, &push, vks_div_up(nc, VKS_WINO_LOCAL), out->c, 1))) return st;
        }
    return VKS_OK;
}

/* ------------------------------------------------ the transposed convolution as a GEMM */

/* The transposed convolution's geometry: output blocks of sy x sx (bh x bw of them), the input
 * rows a block row reads (b + lo to b + hi), block rows a range (nbr), the most tiles (input
 * pixels) a range's GEMM takes and its GEMM's shape. */
typedef struct tgeom {
    int32_t lo, hi;
    uint32_t bh, bw, nbr, tiles, tp, local, tn;
} tgeom_t;

static void tgeometry(const vks_conv2d_transpose_params_t *p, uint32_t h, uint32_t w, uint32_t oh, uint32_t ow,
                      uint32_t esize, tgeom_t *g)
{
    g->lo = INT32_MAX;
    g->hi = INT32_MIN;
    for (int32_t dy = 0; dy < (int32_t)p->stride_h; dy++)
        for (int32_t ky = 0; ky < (int32_t)p->kh; ky++) {
            int32_t ey = dy + p->pad_top - ky, sy = (int32_t)p->stride_h;
            if ((ey + sy * (int32_t)p->kh) % sy) continue;
            int32_t d = (ey + sy * (int32_t)p->kh) / sy - (int32_t)p->kh;
            if (d < g->lo) g->lo = d;
            if (d > g->hi) g->hi = d;
        }
    g->bh = vks_div_up(oh, p->stride_h);
    g->bw = vks_div_up(ow, p->stride_w);
    uint32_t extra = (uint32_t)(g->hi - g->lo), per = VKS_WINO_CHUNK / w;   /* rows of a range beyond its blocks' */
    g->nbr = per > extra + 1 ? per - extra : 1;
    if (g->nbr > g->bh) g->nbr = g->bh;
    uint32_t rows = g->nbr + extra;
    g->tiles = (rows < h ? rows : h) * w;
    gemm_shape(g->tiles, &g->local, &g->tn);
    g->tp = row_tiles(g->tiles, g->local * g->tn, esize);
}

/* Kernels it takes: strides no larger than the kernel (every output block then has taps), sides
 * up to 7 (the output step unrolls the taps for each of a block's outputs), no negative padding. */
static bool tgemm_kernel_ok(const vks_conv2d_transpose_params_t *p)
{
    return p->stride_h >= 1 && p->stride_w >= 1 && p->stride_h <= p->kh && p->stride_w <= p->kw && p->kh <= 7 &&
           p->kw <= 7 && p->pad_top >= 0 && p->pad_left >= 0;
}

/* The scratch a range takes: V (cin x tp), then at *m_off M (taps x cout x tp); returns the bytes of
 * both, *m_bytes M's. */
static VkDeviceSize tgemm_scratch(const tgeom_t *g, uint32_t taps, uint32_t cin, uint32_t cout, uint32_t esize,
                                  VkDeviceSize *m_off, VkDeviceSize *m_bytes)
{
    *m_off = vks_align((VkDeviceSize)g->tp * esize * cin, 256);
    *m_bytes = (VkDeviceSize)taps * g->tp * esize * cout;
    return *m_off + *m_bytes;
}

VkDeviceSize vks_conv2d_transpose_gemm_scratch_bytes(const vks_conv2d_transpose_params_t *p, uint32_t cin, uint32_t cout,
                                                     uint32_t h, uint32_t w, uint32_t oh, uint32_t ow, uint32_t esize)
{
    if (!tgemm_kernel_ok(p) || esize != 4 || !h || !w || !oh || !ow) return 0;
    tgeom_t g;
    tgeometry(p, h, w, oh, ow, esize, &g);
    VkDeviceSize m_off, m_bytes;
    return tgemm_scratch(&g, p->kh * p->kw, cin, cout, esize, &m_off, &m_bytes);
}

void vks_conv2d_transpose_gemm_weights(const float *wt, uint32_t cout, uint32_t cin, uint32_t taps, float *u)
{
    for (uint32_t o = 0; o < cout; o++)
        for (uint32_t i = 0; i < cin; i++)
            for (uint32_t t = 0; t < taps; t++) u[((size_t)t * cout + o) * cin + i] = wt[((size_t)o * cin + i) * taps + t];
}

bool vks_conv2d_transpose_gemm_fits(const vks_context_t *ctx, const vks_conv2d_transpose_params_t *p, const vks_tensor_t *in,
                                    const vks_tensor_t *u, const vks_tensor_t *out, const vks_tensor_t *scratch)
{
    if (!vks_winograd_enabled() || vks_env_is("VKSTYLE_TGEMM", "0") || !scratch || !u || !u->block ||
        !tgemm_kernel_ok(p) || in->esize != 4 || out->esize != 4 || !in->h || !in->w || !out->h || !out->w)
        return false;
    tgeom_t g;
    tgeometry(p, in->h, in->w, out->h, out->w, in->esize, &g);
    VkDeviceSize m_off, m_bytes, need = tgemm_scratch(&g, p->kh * p->kw, in->c, out->c, in->esize, &m_off, &m_bytes);
    return vks_tensor_bytes(scratch) >= need && m_bytes <= ctx->max_binding &&
           (VkDeviceSize)in->plane_stride * in->esize * in->c <= ctx->max_binding &&
           (VkDeviceSize)out->plane_stride * out->esize * out->c <= ctx->max_binding && ubo_rows(ctx, u, in->c, p->kh * p->kw * out->c) > 0;
}

vks_status_t vks_op_conv2d_transpose_gemm(vks_rec_t *rec, const vks_conv2d_transpose_params_t *p, const vks_tensor_t *in,
                                          const vks_tensor_t *u, const vks_tensor_t *bias, const vks_tensor_t *out,
                                          const vks_tensor_t *scratch)
{
    const char *op = "conv2d_transpose_gemm";
    vks_context_t *ctx = rec->ctx;
    uint32_t taps = p->kh * p->kw;
    if (in->c == 0 || out->n != in->n || (uint64_t)u->w * u->h * u->c * u->n != (uint64_t)taps * in->c * out->c ||
        (bias && (uint64_t)bias->w * bias->h * bias->c * bias->n != out->c))
        return vks_fail(VKS_ERR_SHAPE, "%s: weight/bias size does not match %u->%u channels, %ux%u kernel", op, in->c,
                        out->c, p->kh, p->kw);
    if (!vks_conv2d_transpose_gemm_fits(ctx, p, in, u, out, scratch))
        return vks_fail(VKS_ERR_SHAPE, "%s: does not fit this device's bindings or the scratch given (or is disabled)", op);
    tgeom_t tg;
    uint32_t es = in->esize;
    tgeometry(p, in->h, in->w, out->h, out->w, es, &tg);
    gemm_t g;
    /* one GEMM of taps x cout rows: U [taps][cout][cin] and M [taps][cout][tiles] are the GEMM's
     * [rows][cin] and [rows][tiles] as they are */
    vks_status_t st = gemm_setup(rec, in, u, taps * out->c, 1, 0, tg.nbr >= tg.bh, tg.tp, tg.local, tg.tn, &g);
    if (st) return st;
    const vks_pipeline_t *p_in, *p_out;
    /* channels an invocation of the input and output steps: several on CPU devices */
    uint32_t nc = ctx->props.deviceType == VK_PHYSICAL_DEVICE_TYPE_CPU ? VKS_TGEMM_NC_CPU : 1;
    uint32_t spec_in[2] = {0, nc}, spec_out[9] = {p->act, bias != NULL, p->kh, p->kw, p->stride_h, p->stride_w,
                                                  (uint32_t)p->pad_top, (uint32_t)p->pad_left, nc};
    uint32_t cpb = in_cpb(ctx, in);
    if (cpb)
        st = vks_rec_pipeline(rec, VKS_SHADER_CONV2D_TGEMM_IN_XUBO, spec_in, 2, 2, 1u << 1, sizeof(wino_push_t), VKS_X_UBOS,
                              &p_in);
    else
        st = vks_rec_pipeline(rec, VKS_SHADER_CONV2D_TGEMM_IN, spec_in, 2, 2, 0, sizeof(wino_push_t), 1, &p_in);
    if (!st)
        st = vks_rec_pipeline(rec, VKS_SHADER_CONV2D_TGEMM_OUT, spec_out, 9, 3, 0, sizeof(wino_push_t), 1, &p_out);
    if (st) return st;

    wino_push_t push = {
        .h = in->h, .w = in->w, .in_stride = in->plane_stride,
        .oh = out->h, .ow = out->w, .out_stride = out->plane_stride,
        .tiles_w = tg.bw, .cin = in->c, .cout = out->c,
    };
    const vks_block_t *sb = scratch->block;
    VkDeviceSize m_off, m_bytes;
    tgemm_scratch(&tg, taps, in->c, out->c, es, &m_off, &m_bytes);
    VkDeviceSize s0 = scratch->offset, m0 = s0 + m_off;
    for (uint32_t n = 0; n < in->n; n++)
        for (uint32_t b0 = 0; b0 < tg.bh; b0 += tg.nbr) {   /* ranges of block rows through the same scratch */
            uint32_t b1 = tg.bh - b0 < tg.nbr ? tg.bh : b0 + tg.nbr;
            int64_t r0 = (int64_t)b0 + tg.lo, r1 = (int64_t)b1 - 1 + tg.hi + 1;   /* the input rows they read */
            uint32_t ir0 = r0 < 0 ? 0 : (uint32_t)r0, ir1 = r1 > in->h ? in->h : r1 < 0 ? 0 : (uint32_t)r1;
            if (ir1 < ir0) ir1 = ir0;
            uint32_t pixels = (ir1 - ir0) * in->w, tpc = row_tiles(pixels ? pixels : 1, g.group, es);
            push.tp = tpc;
            push.blk = gemm_blk(&g, tpc);
            push.chunk0 = ir0 * in->w;   /* the input step: pixels */
            push.ntiles = ir1 * in->w;
            push.row0 = ir0;
            VkDeviceSize v_bytes = (VkDeviceSize)tpc * es * in->c, row_m = (VkDeviceSize)tpc * es;
            if ((st = record_in(rec, p_in, cpb, in, n, nc, (vks_binding_t){sb, s0, v_bytes, true}, &push))) return st;
            if ((st = gemm_record(rec, &g, u, sb, s0, m0, tpc, &push))) return st;
            push.chunk0 = b0 * tg.bw;    /* the output step: blocks */
            push.ntiles = b1 * tg.bw;
            vks_binding_t b_out[3] = {{sb, m0, taps * row_m * out->c, false}, vks_bind(bias ? bias : u, false),
                                      vks_bind_channels(out, n, 0, out->c, true)};
            if ((st = vks_rec_dispatch(rec, p_out, b_out, 3, &push, vks_div_up((b1 - b0) * tg.bw, VKS_WINO_LOCAL),
                                       vks_div_up(out->c, nc), 1)))
                return st;
        }
    return VKS_OK;
}
