#version 450
#extension GL_GOOGLE_include_directive : require
#if VKS_INPUT_UBO
#extension GL_EXT_scalar_block_layout : require
#endif
// vks:wg-base
// vks:variant conv2d_wino_in_f16 VKS_F16
// vks:variant conv2d_wino_in_xubo VKS_INPUT_UBO
// Winograd F(2x2, 3x3), step 1 of 3 (engine/ops/conv2d_winograd.c): the input transform. One
// invocation per (tile, input channel): the 4x4 input patch d of output tile t (2x2 outputs at
// 2*ty, 2*tx), padding folded in as in conv2d.comp, becomes V = B^T d B, written as 16 values
// V[pos][t / blk][ci][t % blk] (pos = 4 * row + column; blk: conv2d_wino_gemm.comp), stored as
// the activations are (fp32, or fp16 in the _f16 variant). Tiles past the image's (up
// to TP) are written as zeros, so that the GEMM reads no uninitialized memory.
#include "common.glsl"

layout(local_size_x = VKS_WINO_LOCAL, local_size_y = 1, local_size_z = 1) in;

#include "wino_in.glsl"

void main()
{
    uint t = VKS_GID.x, ci = VKS_WG_ID.y;
    if (t >= pc.tp) return;
    float d[4][4];
    uint ta = pc.chunk0 + t;
    if (ta < pc.ntiles) {
        int y0 = int(ta / pc.tiles_w) * 2 - pc.pad_top, x0 = int(ta % pc.tiles_w) * 2 - pc.pad_left;
        int ro[4], co[4];
        float rm[4], cm[4];
        for (int i = 0; i < 4; i++) {
            ro[i] = fold(y0 + i, int(pc.h), rm[i]) * int(pc.w);
            co[i] = fold(x0 + i, int(pc.w), cm[i]);
        }
        WINO_IN_PLANE(ci);
        for (int i = 0; i < 4; i++)
            for (int j = 0; j < 4; j++) d[i][j] = float(XLOAD(uint(ro[i] + co[j]))) * (rm[i] * cm[j]);
    } else {
        for (int i = 0; i < 4; i++)
            for (int j = 0; j < 4; j++) d[i][j] = 0.0;
    }
    // B^T = [1 0 -1 0; 0 1 1 0; 0 -1 1 0; 0 1 0 -1], applied to the rows, then to the columns
    float e[4][4];
    for (int j = 0; j < 4; j++) {
        e[0][j] = d[0][j] - d[2][j];
        e[1][j] = d[1][j] + d[2][j];
        e[2][j] = d[2][j] - d[1][j];
        e[3][j] = d[1][j] - d[3][j];
    }
    // V[pos][t / blk][ci][t % blk] (conv2d_wino_gemm.comp)
    uint stride = pc.cin * pc.tp, o = (t / pc.blk) * pc.cin * pc.blk + (pc.ci0 + ci) * pc.blk + t % pc.blk;
    for (uint i = 0; i < 4; i++) {
        v[(4 * i + 0) * stride + o] = vtype(e[i][0] - e[i][2]);
        v[(4 * i + 1) * stride + o] = vtype(e[i][1] + e[i][2]);
        v[(4 * i + 2) * stride + o] = vtype(e[i][2] - e[i][1]);
        v[(4 * i + 3) * stride + o] = vtype(e[i][1] - e[i][3]);
    }
}
