#version 450
#extension GL_GOOGLE_include_directive : require
#extension GL_EXT_control_flow_attributes : require
// vks:wg-base
// The transposed convolution as a GEMM (engine/ops/conv2d_winograd.c,
// vks_op_conv2d_transpose_gemm), step 3 of 3: the GEMM gave, per kernel tap k = KW ky + kx,
// M[k][co][t] = sum over ci of w[ci][co][ky][kx] x[ci][pixel t] for the input pixels of a range
// of rows (pixel t: row pc.row0 + t / w); out[SY iy + ky - PT][SX ix + kx - PL] gathers them. One
// invocation per (block, output channel): block (b, j) is the SY x SX outputs from (SY b, SX j),
// which the same taps reach from the same relative input pixels, known at compile time
// (iy = b + (dy + PT - ky) / SY where that divides), for NC output channels (NC > 1 on CPU
// devices, where a workgroup costs more to start than one channel's work). Plus the bias, through
// the activation.
// pc.chunk0 / pc.ntiles: this range's first block and the block past its last; pc.tiles_w:
// blocks along x.
#include "common.glsl"

layout(local_size_x = VKS_WINO_LOCAL, local_size_y = 1, local_size_z = 1) in;

layout(constant_id = 0) const uint ACT = 0;
layout(constant_id = 1) const uint HAS_BIAS = 0;
layout(constant_id = 2) const uint KH = 3;
layout(constant_id = 3) const uint KW = 3;
layout(constant_id = 4) const uint SY = 2;
layout(constant_id = 5) const uint SX = 2;
layout(constant_id = 6) const int PT = 1;
layout(constant_id = 7) const int PL = 1;
layout(constant_id = 8) const uint NC = 1;   // output channels an invocation

layout(std430, binding = 0) readonly buffer M { vtype m[]; };
layout(std430, binding = 1) readonly buffer Bias { float bias[]; };
layout(std430, binding = 2) writeonly buffer Out { vtype y[]; };

#include "wino_push.glsl"

void main()
{
    uint ta = pc.chunk0 + VKS_GID.x;
    if (ta >= pc.ntiles) return;
    int b = int(ta / pc.tiles_w), j = int(ta % pc.tiles_w);
    uint plane = pc.cout * pc.tp;
    for (uint k = 0; k < NC; k++) {
        uint co = VKS_WG_ID.y * NC + k;
        if (co >= pc.cout) break;
        float bv = HAS_BIAS != 0 ? bias[co] : 0.0;
        uint row = co * pc.tp;
        [[unroll]] for (uint dy = 0; dy < SY; dy++) {
            uint oy = SY * uint(b) + dy;
            if (oy >= pc.oh) break;
            [[unroll]] for (uint dx = 0; dx < SX; dx++) {
                uint ox = SX * uint(j) + dx;
                if (ox >= pc.ow) break;
                float s = bv;
                [[unroll]] for (uint ky = 0; ky < KH; ky++) {
                    // ey = SY (iy - b): a tap applies where it is a multiple of SY (ey + SY KH > 0:
                    // an exact division of a positive value)
                    int ey = int(dy) + PT - int(ky);
                    if ((ey + int(SY * KH)) % int(SY) != 0) continue;
                    int iy = b + (ey + int(SY * KH)) / int(SY) - int(KH);
                    if (iy < 0 || iy >= int(pc.h)) continue;
                    [[unroll]] for (uint kx = 0; kx < KW; kx++) {
                        int ex = int(dx) + PL - int(kx);
                        if ((ex + int(SX * KW)) % int(SX) != 0) continue;
                        int ix = j + (ex + int(SX * KW)) / int(SX) - int(KW);
                        if (ix < 0 || ix >= int(pc.w)) continue;
                        s += float(m[(ky * KW + kx) * plane + row + uint(iy - int(pc.row0)) * pc.w + uint(ix)]);
                    }
                }
                y[co * pc.out_stride + oy * pc.ow + ox] = vtype(vks_act(s, ACT));
            }
        }
    }
}
