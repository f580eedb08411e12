#version 450
#extension GL_GOOGLE_include_directive : require
#extension GL_EXT_control_flow_attributes : require
#if VKS_INPUT_UBO
#extension GL_EXT_scalar_block_layout : require
#endif
// vks:variant conv2d_f16 VKS_F16
// vks:variant conv2d_ubo VKS_WEIGHTS_UBO
// vks:variant conv2d_ubo_f16 VKS_WEIGHTS_UBO VKS_F16
// vks:variant conv2d_xubo VKS_WEIGHTS_UBO VKS_INPUT_UBO
// vks:wg-base
// Direct 2-D convolution, NCHW, one sample. Each invocation computes OCT output channels x
// PX consecutive output pixels of one row (register tile). Input channels may come in
// chunks (split-K): the first chunk adds the bias, later chunks accumulate into the output, the
// last applies the activation. The variants differ only in where weights and input come from:
//   conv2d        weights (WEIGHT(i), [cout][cin][kh][kw] from the bound range) and input from
//                 storage buffers: any size.
//   conv2d_ubo    the weights of a group of output channels in a uniform buffer (VKS_UBO_BYTES):
//                 every invocation of a workgroup reads the same weight; lavapipe compiles
//                 uniform-buffer loads to plain loads, storage-buffer loads to a branchy per-lane
//                 loop (2-3x slower here; see docs/architecture.md, Convolutions).
//   conv2d_xubo   conv2d_ubo with the input read from uniform buffers too: VKS_X_UBOS bindings of
//                 pc.cpb channel planes each (planes of at most VKS_UBO_BYTES). Lavapipe compiles a
//                 storage-buffer load into a per-lane loop with a bounds check per element and a
//                 uniform-buffer load into plain loads: the 3x3 convolutions run 1.3x faster there
//                 (benchmarks/README.md). Needs scalarBlockLayout (float arrays without the std140
//                 16-byte stride). fp32 activations only. Planes larger than a uniform buffer
//                 come in row bands: one dispatch per band of output rows (pc.oy0 to pc.oh), each
//                 binding one channel's input rows for it (pc.cpb = 1), pc.xbase the plane element
//                 where the bindings start.
//   *_f16         float16 activations (common.glsl).
#include "common.glsl"

#if VKS_WEIGHTS_UBO
#extension GL_KHR_shader_subgroup_shuffle : require
layout(std140, binding = 1) uniform Wt { vec4 wt4[VKS_UBO_BYTES / 16]; };
#define WEIGHT(i) wt4[(i) >> 2][(i) & 3u]
// WSHUF (CPU devices, vks_weight_shuffle): each invocation loads one of 8 taps of a kernel row and
// subgroupShuffle hands them out. lavapipe compiles a uniform load whose address depends on a loop
// counter into one load per lane, 8 loads of one weight: now one load serves 8 taps.
layout(constant_id = 12) const uint WSHUF = 0;
#else
layout(std430, binding = 1) readonly buffer Wt { float wt[]; };
#define WEIGHT(i) wt[i]
#endif

#if VKS_INPUT_UBO
// Driver workaround (engine/context.c, driver_workarounds()): 1 clamps the array index, which
// is always in range, so that a driver that runs the loop's exiting iteration's load (Mesa 25
// lavapipe, tests/driver_bugs/ubo_array_speculation.c) does not read a descriptor past the array.
layout(constant_id = 11) const uint CLAMP_INDEX = 1;
layout(scalar, binding = 4) uniform Xu { float v[VKS_UBO_BYTES / 4]; } xu[VKS_X_UBOS];
// The channel loop keeps xg (the buffer) and xc (the plane in it) with ci: no division by the
// planes per buffer (pc.cpb, a push constant: one pipeline serves every plane size).
#define XLOAD(ci, i) xu[CLAMP_INDEX != 0 ? min(xg, VKS_X_UBOS - 1) : xg].v[xc * pc.in_stride + (i)]
#define XNEXT() if (++xc == pc.cpb) { xc = 0; xg++; }
#endif

// The workgroup's shape is specialized with the register tile (vks_conv_tile, engine/ops/common.c).
layout(local_size_x_id = 9, local_size_y_id = 10, local_size_z = 1) in;

layout(constant_id = 0) const uint KH = 3;
layout(constant_id = 1) const uint KW = 3;
layout(constant_id = 2) const uint STRIDE = 1;     // horizontal
layout(constant_id = 3) const uint PAD_MODE = 0;  // 0: zeros, 1: reflection, 2: the edge repeated
layout(constant_id = 4) const uint ACT = 0;
layout(constant_id = 5) const uint HAS_BIAS = 0;
layout(constant_id = 6) const uint OCT = VKS_CONV_OC;   // output channels per invocation (<= VKS_CONV_OC)
layout(constant_id = 7) const uint STRIDE_Y = 1;   // vertical
layout(constant_id = 8) const uint PX = VKS_CONV_PX;   // output pixels along x per invocation (<= VKS_CONV_PX)

layout(std430, binding = 0) readonly buffer In { vtype x[]; };
layout(std430, binding = 2) readonly buffer Bias { float bias[]; };
layout(std430, binding = 3) buffer Out { vtype y[]; };

layout(push_constant) uniform Push {
    uint h, w, in_stride;       // input plane size and plane stride (floats)
    uint oh, ow, out_stride;
    uint cin_total;             // input channels of the whole layer (weight row length / KK)
    uint ci0, nci;              // this chunk: input channels [ci0, ci0 + nci), bound from ci0
    uint co0, nco;              // this chunk: output channels [co0, co0 + nco), bound from co0
    int pad_top, pad_left;
    uint first, last;           // first / last input chunk
    uint wofs;                  // element of the bound weights where output channel co0 starts
    uint cpb;                   // *_xubo: input planes per uniform buffer
    uint oy0;                   // the first output row of this dispatch (a row band: oh is its end)
    int xbase;                  // *_xubo in row bands: plane element of the bindings' first element
    uint ry, rx;                // conv2d_igemm.comp's stride phase: 0 here
    VKS_WG_BASE;
} pc;

// Input element i of channel ci of the bound chunk (conv2d_xubo reads uniform buffers instead).
#ifndef XLOAD
#define XLOAD(ci, i) x[(ci) * pc.in_stride + (i)]
#define XNEXT()
#endif

// Input columns one invocation reads per kernel row: a sliding window shared by the kx taps.
const uint XN = (PX - 1) * STRIDE + KW;
const uint NWR = (KW + VKS_SHUFFLE_N - 1) / VKS_SHUFFLE_N;   // WSHUF: loads of a kernel row's taps

// Padding folded into offsets and masks, computed once per invocation (they do not depend on the
// input channel): zero padding reads a clamped address and multiplies by 0; reflection mirrors;
// edge padding reads the clamped address.
int fold(int i, int n, out float valid)
{
    if (PAD_MODE == 1) {
        valid = 1.0;
        i = abs(i);
        return min(i, 2 * n - 2 - i);
    }
    if (PAD_MODE == 2) {
        valid = 1.0;
        return clamp(i, 0, n - 1);
    }
    valid = float(i >= 0 && i < n);
    return clamp(i, 0, n - 1);
}

void main()
{
    uint ox0 = VKS_GID.x * PX;
    uint oy = VKS_GID.y + pc.oy0;
    uint oc0 = VKS_WG_ID.z * OCT;   // relative to co0 (workgroup-uniform)
    if (oc0 >= pc.nco) return;
    // An invocation past the output computes on clamped addresses and stores nothing: WSHUF's
    // shuffles read every invocation of the subgroup, so none may leave before them.
    bool live = ox0 < pc.ow && oy < pc.oh;
    uint oya = live ? oy : pc.oy0, oxa = live ? ox0 : 0u;   // the addresses: a live invocation's

    const uint KK = KH * KW;
    int rowoff[KH], coloff[XN];
    float rowmask[KH], colmask[XN];
    for (uint ky = 0; ky < KH; ky++) {
        int iy = fold(int(oya * STRIDE_Y + ky) - pc.pad_top, int(pc.h), rowmask[ky]);
        rowoff[ky] = iy * int(pc.w) - pc.xbase;
    }
    for (uint j = 0; j < XN; j++) coloff[j] = fold(int(oxa * STRIDE + j) - pc.pad_left, int(pc.w), colmask[j]);
    uint wbase[OCT];
    for (uint o = 0; o < OCT; o++)
        wbase[o] = min(oc0 + o, pc.nco - 1) * pc.cin_total * KK + pc.ci0 * KK + pc.wofs;

    float acc[OCT][PX];
    for (uint o = 0; o < OCT; o++)
        for (uint p = 0; p < PX; p++) acc[o][p] = 0.0;

    uint xg = 0, xc = 0;   // *_xubo: the buffer and the plane in it of channel ci
#if VKS_WEIGHTS_UBO
    uint lane = gl_SubgroupInvocationID % VKS_SHUFFLE_N;
#endif
    for (uint ci = 0; ci < pc.nci; ci++) {
        uint base = ci * pc.in_stride, wci = ci * KK;
        for (uint ky = 0; ky < KH; ky++) {
#if VKS_WEIGHTS_UBO
            float wr[OCT][NWR];   // WSHUF: invocation l holds tap min(VKS_SHUFFLE_N c + l, KW - 1) of kernel row ky
            if (WSHUF != 0)
                [[unroll]] for (uint o = 0; o < OCT; o++)
                    [[unroll]] for (uint c = 0; c < NWR; c++)
                        wr[o][c] = WEIGHT(wbase[o] + wci + ky * KW + min(VKS_SHUFFLE_N * c + lane, KW - 1u));
#endif
            float xv[XN];
            for (uint j = 0; j < XN; j++)
#ifdef VKS_PROBE_CONST_INPUT   // cost attribution only (benchmarks/conv_load_probe.sh): no input loads
                xv[j] = float(base + uint(rowoff[ky] + coloff[j])) * (rowmask[ky] * colmask[j]);
#else
                xv[j] = float(XLOAD(ci, uint(rowoff[ky] + coloff[j]))) * (rowmask[ky] * colmask[j]);
#endif
            for (uint kx = 0; kx < KW; kx++)
                for (uint o = 0; o < OCT; o++) {
#ifdef VKS_PROBE_CONST_WEIGHTS  // cost attribution only: no weight loads
                    float wv = 0.001 * float(wbase[o] + wci + ky * KW + kx);
#elif VKS_WEIGHTS_UBO
                    float wv = WSHUF != 0 ? subgroupShuffle(wr[o][kx / VKS_SHUFFLE_N], kx % VKS_SHUFFLE_N) : WEIGHT(wbase[o] + wci + ky * KW + kx);
#else
                    float wv = WEIGHT(wbase[o] + wci + ky * KW + kx);
#endif
                    for (uint p = 0; p < PX; p++) acc[o][p] = fma(xv[p * STRIDE + kx], wv, acc[o][p]);
                }
        }
        XNEXT();
    }
    if (!live) return;
    for (uint o = 0; o < OCT; o++) {
        uint oc = oc0 + o;
        if (oc >= pc.nco) break;
        float b = (HAS_BIAS != 0 && pc.first != 0) ? bias[pc.co0 + oc] : 0.0;
        for (uint p = 0; p < PX; p++) {
            uint ox = ox0 + p;
            if (ox >= pc.ow) break;
            uint idx = oc * pc.out_stride + oy * pc.ow + ox;
            float v = acc[o][p] + b;
            if (pc.first == 0) v += float(y[idx]);
            if (pc.last != 0) v = vks_act(v, ACT);
            y[idx] = vtype(v);
        }
    }
}
