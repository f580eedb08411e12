#version 450
#extension GL_GOOGLE_include_directive : require
#extension GL_EXT_control_flow_attributes : require
#if VKS_INPUT_UBO || VKS_MULTI_POS
#extension GL_EXT_scalar_block_layout : require
#extension GL_KHR_shader_subgroup_shuffle : require
#endif
// vks:wg-base
// vks:variant conv2d_wino_gemm_f16 VKS_F16
// vks:variant conv2d_wino_gemm_xubo VKS_INPUT_UBO
// vks:variant conv2d_wino_gemm_mpos VKS_MULTI_POS
// Winograd F(2x2, 3x3) and F(4x4, 3x3), step 2 of 3 (engine/ops/conv2d_winograd.c): one of the
// 16 (or 36) GEMMs,
// M[pos][co][t] = sum over ci of U[pos][co][ci] * V[pos][ci][t], for the output channels
// [co0, co0 + nco) whose transformed weights one uniform binding holds, and the tiles
// [tile0, tile0 + this dispatch's). Each invocation computes a register tile of TM output
// channels x TN tiles (tiles strided by the workgroup width, so that neighbouring invocations read
// neighbouring floats). The weights come from a uniform buffer: every invocation of a workgroup
// reads the same weight (on CPU devices 8 at a time, shuffled: WSHUF below). Arithmetic in fp32; V and M
// are stored as the activations are (the _f16 variant: fp16, half the scratch memory).
// V is laid out in blocks of BLK tiles, [pos][t / BLK][ci][t % BLK]; rows of M are TP floats, TP
// a multiple of the workgroup's tiles and of BLK: no bounds checks on tiles.
//   conv2d_wino_gemm       V from a storage buffer bound from this position (one block, BLK = TP).
//   conv2d_wino_gemm_xubo  V from VKS_X_UBOS uniform buffers, one block of cin x BLK floats each
//                          (lavapipe turns storage loads into a per-lane loop, uniform loads into
//                          plain loads: the storage loads of V were 45% of the layer's time at
//                          256x256, see docs/winograd-status.md). fp32 only (scalarBlockLayout).
//   conv2d_wino_gemm_mpos  NQ positions a dispatch (workgroup z = position in the dispatch x
//                          output-channel tiles): each position's weights and its V's NVB blocks
//                          of BLK tiles from uniform buffers of their own, one array of
//                          2 x VKS_WINO_NPOS: [0, NQ) the weights, then position q's blocks at
//                          NQ + q NVB. For small planes, where a position's GEMM is too little
//                          work to pay for its dispatch (on lavapipe each costs about 0.1 ms).
//                          fp32 only; every position's weights start at their binding (wofs 0)
//                          and take all output channels (nco = cout).
// WSHUF (the xubo and mpos variants, on CPU devices): each invocation loads the weight of one of
// 8 input channels, and subgroupShuffle hands it to the others. lavapipe compiles a uniform load
// whose address depends on the loop counter into one load per lane (a gather of 8 equal values):
// without the shuffle the weights' loads were a third of the GEMM's time there.
#include "common.glsl"

layout(local_size_x_id = 4, local_size_y = 1, local_size_z = 1) in;   // VKS_WINO_LOCAL, or fewer for small planes

layout(constant_id = 0) const uint TN = VKS_WINO_TN_MAX;   // tiles per invocation
layout(constant_id = 1) const uint BLK = 64;               // tiles per block of V (xubo)
// the driver workaround of conv2d.comp's xubo variant (engine/context.c, driver_workarounds())
layout(constant_id = 2) const uint CLAMP_INDEX = 1;
layout(constant_id = 3) const uint TM = VKS_WINO_TM;       // output channels per invocation
layout(constant_id = 5) const uint NVB = 1;                // mpos: blocks of V a position
layout(constant_id = 6) const uint WSHUF = 0;              // xubo, mpos: weights loaded 8 at a time and shuffled
const uint NQ = 2u * VKS_WINO_NPOS / (1u + NVB);           // mpos: positions a dispatch

layout(std430, binding = 0) readonly buffer V { vtype v[]; };
#if VKS_INPUT_UBO
layout(scalar, binding = 1) uniform U { float uf[VKS_UBO_BYTES / 4]; };
#define WEIGHT(i) uf[i]
#elif !VKS_MULTI_POS
layout(std140, binding = 1) uniform U { vec4 u4[VKS_UBO_BYTES / 16]; };
#define WEIGHT(i) u4[(i) >> 2][(i) & 3u]
#endif
layout(std430, binding = 2) writeonly buffer M { vtype m[]; };

#include "wino_push.glsl"

#if VKS_MULTI_POS
// [0, NQ): the positions' weights; then NVB blocks of V a position. q: the position in this
// dispatch; the indices are workgroup-uniform (BLK a multiple of the workgroup), clamped as the
// xubo variant's block index is
layout(scalar, binding = 3) uniform Ub { float f[VKS_UBO_BYTES / 4]; } ub[2 * VKS_WINO_NPOS];
#define UI(i) (CLAMP_INDEX != 0 ? min(i, 2u * VKS_WINO_NPOS - 1u) : (i))
#define WEIGHT(i) ub[UI(q)].f[i]
#define VLOAD(ci, t) ub[UI(NQ + q * NVB + (t) / BLK)].f[(ci) * BLK + (t) % BLK]
#elif VKS_INPUT_UBO
layout(scalar, binding = 3) uniform Vu { float v[VKS_UBO_BYTES / 4]; } vu[VKS_X_UBOS];
// tile t of the dispatch (its blocks from 0), input channel ci; the block index is workgroup-uniform
#define VLOAD(ci, t) vu[CLAMP_INDEX != 0 ? min((t) / BLK, VKS_X_UBOS - 1) : (t) / BLK].v[(ci) * BLK + (t) % BLK]
#else
#define VLOAD(ci, t) float(v[(ci) * pc.tp + pc.tile0 + (t)])
#endif

void main()
{
    uint t0 = VKS_WG_ID.x * (gl_WorkGroupSize.x * TN) + gl_LocalInvocationID.x;   // relative to tile0
#if VKS_MULTI_POS
    uint q = VKS_WG_ID.z / pc.zg, o0 = VKS_WG_ID.z % pc.zg * TM, mrow = q * pc.cout;   // M rows of position q
#else
    uint o0 = VKS_WG_ID.z * TM, mrow = 0;   // relative to co0 (workgroup-uniform)
#endif
    if (o0 >= pc.nco) return;
    uint wb[TM];
    for (uint o = 0; o < TM; o++) wb[o] = pc.wofs + min(o0 + o, pc.nco - 1) * pc.cin;
    float acc[TM][TN];
    for (uint o = 0; o < TM; o++)
        for (uint j = 0; j < TN; j++) acc[o][j] = 0.0;
    uint ci = 0;
#if VKS_INPUT_UBO || VKS_MULTI_POS
    if (WSHUF != 0) {
        uint lane = gl_SubgroupInvocationID % VKS_SHUFFLE_N;
        for (; ci + VKS_SHUFFLE_N <= pc.cin; ci += VKS_SHUFFLE_N) {
            float wl[TM];   // invocation l: the weight of input channel ci + l (o0 + o's row)
            [[unroll]] for (uint o = 0; o < TM; o++) wl[o] = WEIGHT(wb[o] + ci + lane);
            [[unroll]] for (uint k = 0; k < VKS_SHUFFLE_N; k++) {
                float xv[TN];
                [[unroll]] for (uint j = 0; j < TN; j++) xv[j] = VLOAD(ci + k, t0 + j * gl_WorkGroupSize.x);
                [[unroll]] for (uint o = 0; o < TM; o++) {
                    float wv = subgroupShuffle(wl[o], k);
                    [[unroll]] for (uint j = 0; j < TN; j++) acc[o][j] = fma(wv, xv[j], acc[o][j]);
                }
            }
        }
    }
#endif
    for (; ci < pc.cin; ci++) {
        float xv[TN];
        for (uint j = 0; j < TN; j++) xv[j] = VLOAD(ci, t0 + j * gl_WorkGroupSize.x);
        for (uint o = 0; o < TM; o++) {
            float wv = WEIGHT(wb[o] + ci);
            for (uint j = 0; j < TN; j++) acc[o][j] = fma(wv, xv[j], acc[o][j]);
        }
    }
    for (uint o = 0; o < TM; o++) {
        if (o0 + o >= pc.nco) break;
        uint base = (mrow + o0 + o) * pc.tp + pc.tile0 + t0;
        for (uint j = 0; j < TN; j++) m[base + j * gl_WorkGroupSize.x] = vtype(acc[o][j]);
    }
}
