#version 450
#extension GL_GOOGLE_include_directive : require
#extension GL_EXT_control_flow_attributes : require
// vks:wg-base
// Winograd F(6x6, 3x3), step 3 of 3 (engine/ops/conv2d_winograd.c): the output transform, as
// conv2d_wino4_out.comp does it for F(4x4, 3x3). One invocation per (tile, output channel): the 64
// values M[pos][co][t] become the 6x6 outputs A^T M A, plus the bias, through the activation,
// written where they fall inside the output. fp32 only.
#include "common.glsl"

layout(local_size_x = VKS_WINO_LOCAL, local_size_y = 1, local_size_z = 1) in;

layout(constant_id = 0) const uint ACT = 0;
layout(constant_id = 1) const uint HAS_BIAS = 0;

layout(std430, binding = 0) readonly buffer M { float m[]; };
layout(std430, binding = 1) readonly buffer Bias { float bias[]; };
layout(std430, binding = 2) writeonly buffer Out { float y[]; };

#include "wino_push.glsl"

// A^T = [1 1 1 1 1 1 1 0; 0 1 -1 2 -2 1/2 -1/2 0; 0 1 1 4 4 1/4 1/4 0; 0 1 -1 8 -8 1/8 -1/8 0;
//        0 1 1 16 16 1/16 1/16 0; 0 1 -1 32 -32 1/32 -1/32 1]
void at(float a[8], out float r[6])
{
    float p1 = a[1] + a[2], q1 = a[1] - a[2], p2 = a[3] + a[4], q2 = a[3] - a[4], p3 = a[5] + a[6], q3 = a[5] - a[6];
    r[0] = a[0] + p1 + p2 + p3;
    r[1] = q1 + 2.0 * q2 + 0.5 * q3;
    r[2] = p1 + 4.0 * p2 + 0.25 * p3;
    r[3] = q1 + 8.0 * q2 + 0.125 * q3;
    r[4] = p1 + 16.0 * p2 + 0.0625 * p3;
    r[5] = q1 + 32.0 * q2 + 0.03125 * q3 + a[7];
}

void main()
{
    uint t = VKS_GID.x, co = VKS_WG_ID.y;
    if (t >= pc.tp || pc.chunk0 + t >= pc.ntiles) return;
    float s[6][8], a[8], r[6];
    uint stride = pc.cout * pc.tp, o = co * pc.tp + t;
    [[unroll]] for (uint j = 0; j < 8; j++) {   // A^T M: the rows
        [[unroll]] for (uint i = 0; i < 8; i++) a[i] = m[(8 * i + j) * stride + o];
        at(a, r);
        [[unroll]] for (uint i = 0; i < 6; i++) s[i][j] = r[i];
    }
    float b = HAS_BIAS != 0 ? bias[co] : 0.0;
    uint ta = pc.chunk0 + t;
    uint oy = (ta / pc.tiles_w) * 6, ox = (ta % pc.tiles_w) * 6;
    [[unroll]] for (uint i = 0; i < 6; i++) {
        if (oy + i >= pc.oh) break;
        at(s[i], r);   // (A^T M) A: the columns
        uint row = co * pc.out_stride + (oy + i) * pc.ow + ox;
        [[unroll]] for (uint j = 0; j < 6; j++)
            if (ox + j < pc.ow) y[row + j] = vks_act(r[j] + b, ACT);
    }
}
