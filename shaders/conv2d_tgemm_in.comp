#version 450
#extension GL_GOOGLE_include_directive : require
#if VKS_INPUT_UBO
#extension GL_EXT_scalar_block_layout : require
#endif
// vks:wg-base
// vks:variant conv2d_tgemm_in_xubo VKS_INPUT_UBO
// The transposed convolution as a GEMM (engine/ops/conv2d_winograd.c,
// vks_op_conv2d_transpose_gemm), step 1 of 3: the input pixels of a range of input rows, as the
// GEMM reads them. One invocation per (pixel t of the range, NC input channels): V[t / blk][ci][t %
// blk] = x[ci][chunk0 + t] (pc.chunk0: the range's first pixel, pc.ntiles: the pixel past its
// last); pixels past the range (up to TP) are written as zeros, so that the GEMM reads no
// uninitialized memory. NC > 1 on CPU devices, where a workgroup of one value an invocation cost
// more to start than to run. The _xubo variant reads the input from uniform buffers (wino_in.glsl).
#include "common.glsl"

layout(local_size_x = VKS_WINO_LOCAL, local_size_y = 1, local_size_z = 1) in;

#include "wino_in.glsl"

layout(constant_id = 1) const uint NC = 1;   // input channels an invocation

void main()
{
    uint t = VKS_GID.x;
    if (t >= pc.tp) return;
    bool inside = pc.chunk0 + t < pc.ntiles;
    uint o = (t / pc.blk) * pc.cin * pc.blk + t % pc.blk;
#if VKS_INPUT_UBO
    uint nci = min(pc.cin - pc.ci0, VKS_X_UBOS * pc.cpb);   // this dispatch's channels
#else
    uint nci = pc.cin;
#endif
    for (uint k = 0; k < NC; k++) {
        uint ci = VKS_WG_ID.y * NC + k;
        if (ci >= nci) break;
        WINO_IN_PLANE(ci);
        float x = inside ? float(XLOAD(pc.chunk0 + t)) : 0.0;
        v[o + (pc.ci0 + ci) * pc.blk] = vtype(x);
    }
}
