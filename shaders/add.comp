#version 450
#extension GL_GOOGLE_include_directive : require
// vks:variant add_f16 VKS_F16
// vks:wg-base
// Element-wise y = a + b over the planes of two tensors of one shape.
#include "common.glsl"

layout(local_size_x = VKS_LOCAL_1D) in;

layout(std430, binding = 0) readonly buffer A { vtype a[]; };
layout(std430, binding = 1) readonly buffer B { vtype b[]; };
layout(std430, binding = 2) writeonly buffer Out { vtype y[]; };

layout(push_constant) uniform Push { uint hw, stride; VKS_WG_BASE; } pc;

void main()
{
    uint i = VKS_GID.x, c = VKS_GID.y;
    if (i >= pc.hw) return;
    uint idx = c * pc.stride + i;
    y[idx] = vtype(float(a[idx]) + float(b[idx]));
}
