#version 450
#extension GL_GOOGLE_include_directive : require
// vks:variant upsample_nearest_f16 VKS_F16
// vks:wg-base
// Nearest-neighbour x2 upsampling: out[y][x] = in[y/2][x/2].
#include "common.glsl"

layout(local_size_x = VKS_LOCAL_1D) in;

layout(std430, binding = 0) readonly buffer In { vtype x[]; };
layout(std430, binding = 1) writeonly buffer Out { vtype y[]; };

layout(push_constant) uniform Push { uint h, w, in_stride, out_stride; VKS_WG_BASE; } pc;

void main()
{
    uint i = VKS_GID.x, c = VKS_GID.y;
    uint ow = 2 * pc.w;
    if (i >= 4 * pc.h * pc.w) return;
    uint oy = i / ow, ox = i % ow;
    y[c * pc.out_stride + i] = x[c * pc.in_stride + (oy / 2) * pc.w + ox / 2];
}
