#version 450
#extension GL_GOOGLE_include_directive : require
// vks:wg-base
// vks:variant conv2d_wino_out_f16 VKS_F16
// Winograd F(2x2, 3x3), step 3 of 3 (engine/ops/conv2d_winograd.c): the output transform. One
// invocation per (tile, output channel): the 16 values M[pos][co][t] become the 2x2 outputs
// A^T M A, plus the bias, through the activation, written where they fall inside the output.
#include "common.glsl"

layout(local_size_x = VKS_WINO_LOCAL, local_size_y = 1, local_size_z = 1) in;

layout(constant_id = 0) const uint ACT = 0;
layout(constant_id = 1) const uint HAS_BIAS = 0;

layout(std430, binding = 0) readonly buffer M { vtype m[]; };
layout(std430, binding = 1) readonly buffer Bias { float bias[]; };
layout(std430, binding = 2) writeonly buffer Out { vtype y[]; };

#include "wino_push.glsl"

void main()
{
    uint t = VKS_GID.x, co = VKS_WG_ID.y;
    if (t >= pc.tp || pc.chunk0 + t >= pc.ntiles) return;
    float s[2][4];
    uint stride = pc.cout * pc.tp, o = co * pc.tp + t;
    // A^T = [1 1 1 0; 0 1 -1 -1], applied to the rows, then to the columns
    for (uint j = 0; j < 4; j++) {
        float m0 = float(m[j * stride + o]), m1 = float(m[(4 + j) * stride + o]);
        float m2 = float(m[(8 + j) * stride + o]), m3 = float(m[(12 + j) * stride + o]);
        s[0][j] = m0 + m1 + m2;
        s[1][j] = m1 - m2 - m3;
    }
    float b = HAS_BIAS != 0 ? bias[co] : 0.0;
    uint ta = pc.chunk0 + t;
    uint oy = (ta / pc.tiles_w) * 2, ox = (ta % pc.tiles_w) * 2;
    for (uint i = 0; i < 2; i++) {
        if (oy + i >= pc.oh) break;
        uint row = co * pc.out_stride + (oy + i) * pc.ow + ox;
        y[row] = vtype(vks_act(s[i][0] + s[i][1] + s[i][2] + b, ACT));
        if (ox + 1 < pc.ow) y[row + 1] = vtype(vks_act(s[i][1] - s[i][2] - s[i][3] + b, ACT));
    }
}
