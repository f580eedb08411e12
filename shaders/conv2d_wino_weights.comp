#version 450
#extension GL_GOOGLE_include_directive : require
#extension GL_EXT_control_flow_attributes : require
// vks:wg-base
// The Winograd convolutions' transformed weights (engine/ops/conv2d_winograd.c), computed on the
// device from a layer's uploaded 3x3 weights g [cout][cin][3][3] the first time a recording runs
// the layer by that tile (engine/ops/conv2d.c, ensure_tile): for the tile
// with A x A positions (A = m + 2: 4, 6 or 8), planes [q0, q0 + nq) of
// U[q][co][ci] = (G g[co][ci] G^T)[q / A][q % A], written from float ubase of the binding on.
// One invocation per (ci, co). vks_winograd_weights is its plain-C reference (test_ops), with the
// same G and the same order of operations.
#include "common.glsl"

layout(local_size_x = VKS_LOCAL_1D) in;

layout(constant_id = 0) const uint A = 4;

layout(std430, binding = 0) readonly buffer G_ { float g[]; };
layout(std430, binding = 1) writeonly buffer U_ { float u[]; };

layout(push_constant) uniform Push { uint cout, cin, q0, nq, ubase; VKS_WG_BASE; } pc;

// G of F(2x2, 3x3), F(4x4, 3x3) and F(6x6, 3x3), row by row (A x 3)
const float G2[12] = float[](1.0, 0.0, 0.0, 0.5, 0.5, 0.5, 0.5, -0.5, 0.5, 0.0, 0.0, 1.0);
const float G4[18] = float[](1.0 / 4.0, 0.0, 0.0, -1.0 / 6.0, -1.0 / 6.0, -1.0 / 6.0, -1.0 / 6.0, 1.0 / 6.0, -1.0 / 6.0,
                             1.0 / 24.0, 1.0 / 12.0, 1.0 / 6.0, 1.0 / 24.0, -1.0 / 12.0, 1.0 / 6.0, 0.0, 0.0, 1.0);
const float G6[24] = float[](1.0, 0.0, 0.0, -2.0 / 9.0, -2.0 / 9.0, -2.0 / 9.0, -2.0 / 9.0, 2.0 / 9.0, -2.0 / 9.0,
                             1.0 / 90.0, 1.0 / 45.0, 2.0 / 45.0, 1.0 / 90.0, -1.0 / 45.0, 2.0 / 45.0,
                             32.0 / 45.0, 16.0 / 45.0, 8.0 / 45.0, 32.0 / 45.0, -16.0 / 45.0, 8.0 / 45.0, 0.0, 0.0, 1.0);

float gm(uint i, uint j)
{
    return A == 4u ? G2[i * 3u + j] : A == 6u ? G4[i * 3u + j] : G6[i * 3u + j];
}

void main()
{
    uint ci = VKS_GID.x, co = VKS_WG_ID.y;
    if (ci >= pc.cin) return;
    uint k0 = (co * pc.cin + ci) * 9u;
    float t[8][3];   // G g
    [[unroll]] for (uint i = 0; i < A; i++)
        [[unroll]] for (uint j = 0; j < 3u; j++)
            t[i][j] = gm(i, 0) * g[k0 + j] + gm(i, 1) * g[k0 + 3u + j] + gm(i, 2) * g[k0 + 6u + j];
    uint plane = pc.cout * pc.cin, o = pc.ubase + co * pc.cin + ci;
    for (uint q = pc.q0; q < pc.q0 + pc.nq; q++) {
        uint i = q / A, j = q % A;
        u[o + (q - pc.q0) * plane] = t[i][0] * gm(j, 0) + t[i][1] * gm(j, 1) + t[i][2] * gm(j, 2);
    }
}
