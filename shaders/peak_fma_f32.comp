#version 450
#extension GL_GOOGLE_include_directive : require
// Peak fp32 FMA throughput: 16 independent vec4 FMA chains per invocation, `iters` rounds.
#include "common.glsl"
layout(local_size_x = 256) in;
layout(std430, binding = 0) writeonly buffer Out { vec4 o[]; };
layout(push_constant) uniform Push { uint iters; } pc;
void main()
{
    vec4 x = vec4(gl_GlobalInvocationID.x) * 1e-9, a = vec4(0.999999), b = vec4(1e-7);
    vec4 r[16];
    for (int k = 0; k < 16; k++) r[k] = x + float(k);
    for (uint i = 0; i < pc.iters; i++)
        for (int k = 0; k < 16; k++) r[k] = fma(r[k], a, b);
    vec4 s = vec4(0);
    for (int k = 0; k < 16; k++) s += r[k];
    o[gl_GlobalInvocationID.x] = s;
}
