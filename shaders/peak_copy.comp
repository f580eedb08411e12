#version 450
#extension GL_GOOGLE_include_directive : require
// Copy bandwidth: one vec4 read and written per invocation.
#include "common.glsl"
layout(local_size_x = 256) in;
layout(std430, binding = 0) readonly buffer In { vec4 x[]; };
layout(std430, binding = 1) writeonly buffer Out { vec4 y[]; };
layout(push_constant) uniform Push { uint n; } pc;
void main()
{
    uint i = gl_GlobalInvocationID.x;
    if (i < pc.n) y[i] = x[i];
}
