#version 450
#extension GL_GOOGLE_include_directive : require
// vks:variant upsample_nearest_f16 VKS_F16
// vks:wg-base
// Nearest-neighbour upsampling by integer factors: out[y][x] = in[y/sh][x/sw].
#include "common.glsl"

layout(local_size_x = VKS_LOCAL_1D) in;

layout(std430, binding = 0) readonly buffer In { vtype x[]; };
layout(std430, binding = 1) writeonly buffer Out { vtype y[]; };

layout(push_constant) uniform Push { uint h, w, in_stride, out_stride, sh, sw; VKS_WG_BASE; } pc;

void main()
{
    uint i = VKS_GID.x, c = VKS_GID.y;
    uint ow = pc.sw * pc.w;
    if (i >= pc.sh * pc.h * ow) return;
    uint oy = i / ow, ox = i % ow;
    y[c * pc.out_stride + i] = x[c * pc.in_stride + (oy / pc.sh) * pc.w + ox / pc.sw];
}
