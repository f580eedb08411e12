#version 450
#extension GL_GOOGLE_include_directive : require
#extension GL_EXT_control_flow_attributes : require
#if VKS_INPUT_UBO
#extension GL_EXT_scalar_block_layout : require
#endif
// vks:wg-base
// vks:variant conv2d_wino6_in_xubo VKS_INPUT_UBO
// Winograd F(6x6, 3x3), step 1 of 3 (engine/ops/conv2d_winograd.c): the input transform, as
// conv2d_wino4_in.comp does it for F(4x4, 3x3), with 6x6 output tiles: the 8x8 input patch d of
// output tile t (6x6 outputs at 6*ty, 6*tx), padding folded in as in conv2d.comp, becomes
// V = B^T d B, written as 64 values V[pos][t / blk][ci][t % blk] (pos = 8 * row + column).
// B^T is Lavin's and ncnn's for the points 0, +-1, +-2, +-1/2 (docs/winograd-status.md). fp32 only,
// as F(4x4).
#include "common.glsl"

layout(local_size_x = VKS_WINO_LOCAL, local_size_y = 1, local_size_z = 1) in;

#include "wino_in.glsl"

// B^T = [1 0 -21/4 0 21/4 0 -1 0; 0 1 1 -17/4 -17/4 1 1 0; 0 -1 1 17/4 -17/4 -1 1 0;
//        0 1/2 1/4 -5/2 -5/4 2 1 0; 0 -1/2 1/4 5/2 -5/4 -2 1 0; 0 2 4 -5/2 -5 1/2 1 0;
//        0 -2 4 5/2 -5 -1/2 1 0; 0 -1 0 21/4 0 -21/4 0 1]
void bt(float a[8], out float r[8])
{
    r[0] = a[0] - a[6] + 5.25 * (a[4] - a[2]);
    r[7] = a[7] - a[1] + 5.25 * (a[3] - a[5]);
    float u = a[1] + a[5] - 4.25 * a[3], v = a[2] + a[6] - 4.25 * a[4];
    r[1] = v + u;
    r[2] = v - u;
    u = 0.5 * a[1] - 2.5 * a[3] + 2.0 * a[5];
    v = 0.25 * a[2] - 1.25 * a[4] + a[6];
    r[3] = v + u;
    r[4] = v - u;
    u = 2.0 * a[1] - 2.5 * a[3] + 0.5 * a[5];
    v = 4.0 * a[2] - 5.0 * a[4] + a[6];
    r[5] = v + u;
    r[6] = v - u;
}

void main()
{
    uint t = VKS_GID.x, ci = VKS_WG_ID.y;
    if (t >= pc.tp) return;
    float d[8][8];
    uint ta = pc.chunk0 + t;
    if (ta < pc.ntiles) {
        int y0 = int(ta / pc.tiles_w) * 6 - pc.pad_top, x0 = int(ta % pc.tiles_w) * 6 - pc.pad_left;
        int ro[8], co[8];
        float rm[8], cm[8];
        [[unroll]] for (int i = 0; i < 8; i++) {
            ro[i] = fold(y0 + i, int(pc.h), rm[i]) * int(pc.w);
            co[i] = fold(x0 + i, int(pc.w), cm[i]);
        }
        WINO_IN_PLANE(ci);
        [[unroll]] for (int i = 0; i < 8; i++)
            [[unroll]] for (int j = 0; j < 8; j++) d[i][j] = XLOAD(uint(ro[i] + co[j])) * (rm[i] * cm[j]);
    } else {
        [[unroll]] for (int i = 0; i < 8; i++)
            [[unroll]] for (int j = 0; j < 8; j++) d[i][j] = 0.0;
    }
    float e[8][8], a[8], r[8];
    [[unroll]] for (int j = 0; j < 8; j++) {   // B^T d: the rows
        [[unroll]] for (int i = 0; i < 8; i++) a[i] = d[i][j];
        bt(a, r);
        [[unroll]] for (int i = 0; i < 8; i++) e[i][j] = r[i];
    }
    // V[pos][t / blk][ci][t % blk] (conv2d_wino_gemm.comp)
    uint stride = pc.cin * pc.tp, o = (t / pc.blk) * pc.cin * pc.blk + (pc.ci0 + ci) * pc.blk + t % pc.blk;
    [[unroll]] for (uint i = 0; i < 8; i++) {   // (B^T d) B: the columns
        bt(e[i], r);
        [[unroll]] for (uint j = 0; j < 8; j++) v[(8 * i + j) * stride + o] = r[j];
    }
}
