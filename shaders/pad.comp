#version 450
#extension GL_GOOGLE_include_directive : require
// vks:variant pad_f16 VKS_F16
// vks:wg-base
// Padding (the pad op): out[y][x] = in[y - top][x - left] inside; outside, mode 0 writes the
// constant, 1 mirrors (reflection without repeating the edge, pad < side), 2 repeats the edge.
// The mode is a push constant, not a specialization constant: one pipeline for all three (a
// pipeline costs far more to build than the uniform branch costs to run, most under GPU-assisted
// validation).
// The input may be a band of rows of the whole image (tiles): out row 0 is the whole output's
// row oy0, in row 0 the whole input's row iy0, and rows fold over the whole input's whole_h.
#include "common.glsl"

layout(local_size_x = VKS_LOCAL_1D) in;

layout(std430, binding = 0) readonly buffer In { vtype x[]; };
layout(std430, binding = 1) writeonly buffer Out { vtype y[]; };

layout(push_constant) uniform Push {
    uint h, w, in_stride;
    uint oh, ow, out_stride;
    uint whole_h, mode;         // mode: 0 zero (the constant), 1 reflect, 2 edge
    int top, left, oy0, iy0;
    float value;
    VKS_WG_BASE;
} pc;

int fold(int i, int n)
{
    if (pc.mode == 1) {
        i = abs(i);
        return min(i, 2 * n - 2 - i);
    }
    return clamp(i, 0, n - 1);
}

void main()
{
    uint i = VKS_GID.x, c = VKS_GID.y;
    if (i >= pc.oh * pc.ow) return;
    int sy = int(i / pc.ow) + pc.oy0 - pc.top, sx = int(i % pc.ow) - pc.left;   // in the whole input
    uint o = c * pc.out_stride + i;
    if (pc.mode == 0 && (sy < 0 || sy >= int(pc.whole_h) || sx < 0 || sx >= int(pc.w))) {
        y[o] = vtype(pc.value);
        return;
    }
    sy = fold(sy, int(pc.whole_h)) - pc.iy0;
    sx = fold(sx, int(pc.w));
    y[o] = x[c * pc.in_stride + uint(sy) * pc.w + uint(sx)];
}
