#version 450
#extension GL_GOOGLE_include_directive : require
#if VKS_INPUT_UBO
#extension GL_EXT_scalar_block_layout : require
#endif
// vks:wg-base
// vks:variant conv2d_wino4_in_xubo VKS_INPUT_UBO
// Winograd F(4x4, 3x3), step 1 of 3 (engine/ops/conv2d_winograd.c): the input transform, as
// conv2d_wino_in.comp does it for F(2x2, 3x3), with 4x4 output tiles: the 6x6 input patch d of
// output tile t (4x4 outputs at 4*ty, 4*tx), padding folded in as in conv2d.comp, becomes
// V = B^T d B, written as 36 values V[pos][t / blk][ci][t % blk] (pos = 6 * row + column).
// fp32 only: B's and A's larger constants (up to 5 and 8) would take fp16 storage of V and M
// past the tolerances the tests hold, so fp16 sessions run F(2x2, 3x3).
#include "common.glsl"

layout(local_size_x = VKS_WINO_LOCAL, local_size_y = 1, local_size_z = 1) in;

#include "wino_in.glsl"

// B^T = [4 0 -5 0 1 0; 0 -4 -4 1 1 0; 0 4 -4 -1 1 0; 0 -2 -1 2 1 0; 0 2 -1 -2 1 0; 0 4 0 -5 0 1]
void bt(float a0, float a1, float a2, float a3, float a4, float a5, out float r[6])
{
    r[0] = 4.0 * a0 - 5.0 * a2 + a4;
    r[1] = a3 + a4 - 4.0 * (a1 + a2);
    r[2] = a4 - a3 + 4.0 * (a1 - a2);
    r[3] = a4 - a2 + 2.0 * (a3 - a1);
    r[4] = a4 - a2 + 2.0 * (a1 - a3);
    r[5] = 4.0 * a1 - 5.0 * a3 + a5;
}

void main()
{
    uint t = VKS_GID.x, ci = VKS_WG_ID.y;
    if (t >= pc.tp) return;
    float d[6][6];
    uint ta = pc.chunk0 + t;
    if (ta < pc.ntiles) {
        int y0 = int(ta / pc.tiles_w) * 4 - pc.pad_top, x0 = int(ta % pc.tiles_w) * 4 - pc.pad_left;
        int ro[6], co[6];
        float rm[6], cm[6];
        for (int i = 0; i < 6; i++) {
            ro[i] = fold(y0 + i, int(pc.h), rm[i]) * int(pc.w);
            co[i] = fold(x0 + i, int(pc.w), cm[i]);
        }
        WINO_IN_PLANE(ci);
        for (int i = 0; i < 6; i++)
            for (int j = 0; j < 6; j++) d[i][j] = XLOAD(uint(ro[i] + co[j])) * (rm[i] * cm[j]);
    } else {
        for (int i = 0; i < 6; i++)
            for (int j = 0; j < 6; j++) d[i][j] = 0.0;
    }
    float e[6][6], r[6];
    for (int j = 0; j < 6; j++) {   // B^T d: the rows
        bt(d[0][j], d[1][j], d[2][j], d[3][j], d[4][j], d[5][j], r);
        for (int i = 0; i < 6; i++) e[i][j] = r[i];
    }
    // V[pos][t / blk][ci][t % blk] (conv2d_wino_gemm.comp)
    uint stride = pc.cin * pc.tp, o = (t / pc.blk) * pc.cin * pc.blk + (pc.ci0 + ci) * pc.blk + t % pc.blk;
    for (uint i = 0; i < 6; i++) {   // (B^T d) B: the columns
        bt(e[i][0], e[i][1], e[i][2], e[i][3], e[i][4], e[i][5], r);
        for (uint j = 0; j < 6; j++) v[(6 * i + j) * stride + o] = r[j];
    }
}
