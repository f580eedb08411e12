#version 450
#extension GL_GOOGLE_include_directive : require
// vks:variant f16
// Element-wise y = a + b over the planes of two tensors of one shape.
#include "common.glsl"

layout(local_size_x = VKS_LOCAL_1D) in;

layout(std430, binding = 0) readonly buffer A { vtype a[]; };
layout(std430, binding = 1) readonly buffer B { vtype b[]; };
layout(std430, binding = 2) writeonly buffer Out { vtype y[]; };

layout(push_constant) uniform Push { uint hw, stride; } pc;

void main()
{
    uint i = gl_GlobalInvocationID.x, c = gl_GlobalInvocationID.y;
    if (i >= pc.hw) return;
    uint idx = c * pc.stride + i;
    y[idx] = vtype(float(a[idx]) + float(b[idx]));
}
