#version 450
#extension GL_GOOGLE_include_directive : require
// vks:wg-base
// Winograd F(4x4, 3x3), step 3 of 3 (engine/ops/conv2d_winograd.c): the output transform, as
// conv2d_wino_out.comp does it for F(2x2, 3x3). One invocation per (tile, output channel): the 36
// values M[pos][co][t] become the 4x4 outputs A^T M A, plus the bias, through the activation,
// written where they fall inside the output. fp32 only (conv2d_wino4_in.comp says why).
#include "common.glsl"

layout(local_size_x = VKS_WINO_LOCAL, local_size_y = 1, local_size_z = 1) in;

layout(constant_id = 0) const uint ACT = 0;
layout(constant_id = 1) const uint HAS_BIAS = 0;

layout(std430, binding = 0) readonly buffer M { float m[]; };
layout(std430, binding = 1) readonly buffer Bias { float bias[]; };
layout(std430, binding = 2) writeonly buffer Out { float y[]; };

#include "wino_push.glsl"

// A^T = [1 1 1 1 1 0; 0 1 -1 2 -2 0; 0 1 1 4 4 0; 0 1 -1 8 -8 1]
void at(float a0, float a1, float a2, float a3, float a4, float a5, out float r[4])
{
    float p = a1 + a2, q = a1 - a2, u = a3 + a4, w = a3 - a4;
    r[0] = a0 + p + u;
    r[1] = q + 2.0 * w;
    r[2] = p + 4.0 * u;
    r[3] = q + 8.0 * w + a5;
}

void main()
{
    uint t = VKS_GID.x, co = VKS_WG_ID.y;
    if (t >= pc.tp || pc.chunk0 + t >= pc.ntiles) return;
    float s[4][6], r[4];
    uint stride = pc.cout * pc.tp, o = co * pc.tp + t;
    for (uint j = 0; j < 6; j++) {   // A^T M: the rows
        at(m[j * stride + o], m[(6 + j) * stride + o], m[(12 + j) * stride + o], m[(18 + j) * stride + o],
           m[(24 + j) * stride + o], m[(30 + j) * stride + o], r);
        for (uint i = 0; i < 4; i++) s[i][j] = r[i];
    }
    float b = HAS_BIAS != 0 ? bias[co] : 0.0;
    uint ta = pc.chunk0 + t;
    uint oy = (ta / pc.tiles_w) * 4, ox = (ta % pc.tiles_w) * 4;
    for (uint i = 0; i < 4; i++) {
        if (oy + i >= pc.oh) break;
        at(s[i][0], s[i][1], s[i][2], s[i][3], s[i][4], s[i][5], r);   // (A^T M) A: the columns
        uint row = co * pc.out_stride + (oy + i) * pc.ow + ox;
        for (uint j = 0; j < 4; j++)
            if (ox + j < pc.ow) y[row + j] = vks_act(r[j] + b, ACT);
    }
}
