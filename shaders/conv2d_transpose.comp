#version 450
#extension GL_GOOGLE_include_directive : require
#extension GL_EXT_control_flow_attributes : require
#if VKS_INPUT_UBO
#extension GL_EXT_scalar_block_layout : require
#endif
// vks:variant conv2d_transpose_f16 VKS_F16
// vks:variant conv2d_transpose_ubo VKS_WEIGHTS_UBO
// vks:variant conv2d_transpose_ubo_f16 VKS_WEIGHTS_UBO VKS_F16
// vks:variant conv2d_transpose_xubo VKS_WEIGHTS_UBO VKS_INPUT_UBO
// vks:wg-base
// Transposed 2-D convolution as a gather: out[sh*i + ky - pad_top][sw*j + kx - pad_left] +=
// x[i][j] * w[ky][kx], over the output size given (outputs no input reaches get the bias only).
// Each workgroup takes one output column parity (ox mod STRIDE, the horizontal stride) and one
// row parity (oy mod STRIDE_Y), so every invocation's PX outputs (ox = STRIDE*j + parity) share
// the same kernel taps and read consecutive input columns, and which taps apply is known from the
// workgroup alone (no divergent tap loop where a GPU's subgroup spans rows of both parities; on
// lavapipe, whose 8-lane vectors each hold one row, it measured the same as per-invocation rows). Register tile OCT channels x PX pixels; input-channel chunks as in
// conv2d. The variants differ only in where weights (WEIGHT(i); [cout][cin][kh][kw], PyTorch's
// [cin][cout] permuted at load) and input come from, as conv2d's (conv2d.comp):
// conv2d_transpose storage buffers; _ubo a group of output channels' weights in a uniform buffer;
// _xubo the input from uniform buffers too (fp32 only); *_f16 float16 activations.
#include "common.glsl"

#if VKS_WEIGHTS_UBO
#extension GL_KHR_shader_subgroup_shuffle : require
layout(std140, binding = 1) uniform Wt { vec4 wt4[VKS_UBO_BYTES / 16]; };
#define WEIGHT(i) wt4[(i) >> 2][(i) & 3u]
// WSHUF (CPU devices, vks_weight_shuffle): each invocation loads a tap's weight for one of 8 input
// channels and subgroupShuffle hands them out (see conv2d.comp): one load serves 8 channels.
layout(constant_id = 11) const uint WSHUF = 0;
#else
layout(std430, binding = 1) readonly buffer Wt { float wt[]; };
#define WEIGHT(i) wt[i]
#endif

#if VKS_INPUT_UBO
// Driver workaround (engine/context.c, driver_workarounds()): 1 clamps the array index, which
// is always in range, so that a driver that runs the loop's exiting iteration's load (Mesa 25
// lavapipe, tests/driver_bugs/ubo_array_speculation.c) does not read a descriptor past the array.
layout(constant_id = 10) const uint CLAMP_INDEX = 1;
layout(scalar, binding = 4) uniform Xu { float v[VKS_UBO_BYTES / 4]; } xu[VKS_X_UBOS];
// The channel loop keeps xg (the buffer) and xc (the plane in it) with ci: no division by the
// planes per buffer (pc.cpb, a push constant: one pipeline serves every plane size).
#define XLOAD(ci, i) xu[CLAMP_INDEX != 0 ? min(xg, VKS_X_UBOS - 1) : xg].v[xc * pc.in_stride + (i)]
#define XNEXT() if (++xc == pc.cpb) { xc = 0; xg++; }
#endif

// The workgroup's shape is specialized with the register tile (vks_conv_tile, engine/ops/common.c).
layout(local_size_x_id = 8, local_size_y_id = 9, local_size_z = 1) in;

layout(constant_id = 0) const uint KH = 3;
layout(constant_id = 1) const uint KW = 3;
layout(constant_id = 2) const uint STRIDE = 2;     // horizontal
layout(constant_id = 6) const uint STRIDE_Y = 2;   // vertical
layout(constant_id = 3) const uint ACT = 0;
layout(constant_id = 4) const uint HAS_BIAS = 0;
layout(constant_id = 5) const uint OCT = VKS_CONV_OC;   // output channels per invocation (<= VKS_CONV_OC)
layout(constant_id = 7) const uint PX = VKS_CONV_PX;    // input-side columns per invocation (<= VKS_CONV_PX)

layout(std430, binding = 0) readonly buffer In { vtype x[]; };
layout(std430, binding = 2) readonly buffer Bias { float bias[]; };
layout(std430, binding = 3) buffer Out { vtype y[]; };

layout(push_constant) uniform Push {
    uint h, w, in_stride;
    uint oh, ow, out_stride;
    uint cin_total;             // input channels of the whole layer (weight row length / KK)
    uint ci0, nci;
    uint co0, nco;
    int pad_top, pad_left;
    uint first, last;
    uint wofs;                  // element of the bound weights where output channel co0 starts
    uint cpb;                   // *_xubo: input planes per uniform buffer
    uint oy0;                   // conv2d.comp's row bands: 0 here
    int xbase;
    uint ry, rx;                // conv2d_igemm.comp's stride phase: 0 here
    VKS_WG_BASE;
} pc;

// Input element i of channel ci of the bound chunk (conv2d_transpose_xubo: uniform buffers).
#ifndef XLOAD
#define XLOAD(ci, i) x[(ci) * pc.in_stride + (i)]
#define XNEXT()
#endif

// v / s for a v that is a multiple of s, of either sign, with no signed / or % on a negative value:
// GLSL leaves those undefined, and NVIDIA's driver takes a negative dividend as unsigned (-1 % 3
// gave 0: a stride-3 layer took taps it must not).
int div_exact(int v, uint s)
{
    return v >= 0 ? v / int(s) : -((-v) / int(s));
}

void main()
{
    uint parity = VKS_WG_ID.x % STRIDE, py = VKS_WG_ID.y % STRIDE_Y;
    uint j0 = ((VKS_WG_ID.x / STRIDE) * gl_WorkGroupSize.x + gl_LocalInvocationID.x) * PX;
    uint i0 = (VKS_WG_ID.y / STRIDE_Y) * gl_WorkGroupSize.y + gl_LocalInvocationID.y;   // row i0 of parity py
    uint oy = py + STRIDE_Y * i0;
    uint oc0 = VKS_WG_ID.z * OCT;
    if (oc0 >= pc.nco) return;
    // An invocation past the output computes on clamped addresses and stores nothing: WSHUF's
    // shuffles read every invocation of the subgroup, so none may leave before them.
    bool live = parity + STRIDE * j0 < pc.ow && oy < pc.oh;

    const uint KK = KH * KW;
    uint wbase[OCT];
    for (uint o = 0; o < OCT; o++)
        wbase[o] = min(oc0 + o, pc.nco - 1) * pc.cin_total * KK + pc.ci0 * KK + pc.wofs;

    float acc[OCT][PX];
    for (uint o = 0; o < OCT; o++)
        for (uint p = 0; p < PX; p++) acc[o][p] = 0.0;

    for (uint ky = 0; ky < KH; ky++) {
        // oy + pad_top - ky = STRIDE_Y * i0 + dy: the tap applies where dy is a multiple of the
        // stride (workgroup-uniform), at input row i0 + dy / STRIDE_Y (masked outside the input).
        // dy >= 1 - KH, so dy + STRIDE_Y * KH is positive: an unsigned % (see div_exact).
        int dy = int(py) + pc.pad_top - int(ky);
        if (uint(dy + int(STRIDE_Y * KH)) % STRIDE_Y != 0) continue;
        int iy = int(i0) + div_exact(dy, STRIDE_Y);
        float rmask = float(iy >= 0 && iy < int(pc.h));
        int rowoff = clamp(iy, 0, int(pc.h) - 1) * int(pc.w);
        for (uint kx = 0; kx < KW; kx++) {
            int d = int(parity) + pc.pad_left - int(kx);      // workgroup-uniform
            if (uint(d + int(STRIDE * KW)) % STRIDE != 0) continue;   // d >= 1 - KW (see dy)
            int shift = div_exact(d, STRIDE);
            int off[PX];
            float mask[PX];
            for (uint p = 0; p < PX; p++) {
                int ix = int(j0 + p) + shift;
                mask[p] = float(ix >= 0 && ix < int(pc.w)) * rmask;
                off[p] = rowoff + clamp(ix, 0, int(pc.w) - 1);
            }
            uint xg = 0, xc = 0;   // *_xubo: the buffer and the plane in it of channel ci
            uint ci = 0;
#if VKS_WEIGHTS_UBO
            if (WSHUF != 0) {
                uint lane = gl_SubgroupInvocationID % VKS_SHUFFLE_N;
                for (; ci + VKS_SHUFFLE_N <= pc.nci; ci += VKS_SHUFFLE_N) {
                    float wl[OCT];   // invocation l: this tap's weight for input channel ci + l
                    [[unroll]] for (uint o = 0; o < OCT; o++) wl[o] = WEIGHT(wbase[o] + (ci + lane) * KK + ky * KW + kx);
                    [[unroll]] for (uint k = 0; k < VKS_SHUFFLE_N; k++) {
                        float xv[PX];
                        [[unroll]] for (uint p = 0; p < PX; p++) xv[p] = float(XLOAD(ci + k, uint(off[p]))) * mask[p];
                        [[unroll]] for (uint o = 0; o < OCT; o++) {
                            float wv = subgroupShuffle(wl[o], k);
                            [[unroll]] for (uint p = 0; p < PX; p++) acc[o][p] = fma(xv[p], wv, acc[o][p]);
                        }
                        XNEXT();
                    }
                }
            }
#endif
            for (; ci < pc.nci; ci++) {
                uint wk = ci * KK + ky * KW + kx;
                float xv[PX];
                for (uint p = 0; p < PX; p++) xv[p] = float(XLOAD(ci, uint(off[p]))) * mask[p];
                for (uint o = 0; o < OCT; o++) {
                    float wv = WEIGHT(wbase[o] + wk);
                    for (uint p = 0; p < PX; p++) acc[o][p] = fma(xv[p], wv, acc[o][p]);
                }
                XNEXT();
            }
        }
    }
    if (!live) return;
    for (uint o = 0; o < OCT; o++) {
        uint oc = oc0 + o;
        if (oc >= pc.nco) break;
        float b = (HAS_BIAS != 0 && pc.first != 0) ? bias[pc.co0 + oc] : 0.0;
        for (uint p = 0; p < PX; p++) {
            uint ox = parity + STRIDE * (j0 + p);
            if (ox >= pc.ow) break;
            uint idx = oc * pc.out_stride + oy * pc.ow + ox;
            float v = acc[o][p] + b;
            if (pc.first == 0) v += float(y[idx]);
            if (pc.last != 0) v = vks_act(v, ACT);
            y[idx] = vtype(v);
        }
    }
}
