#version 450
#extension GL_GOOGLE_include_directive : require
#extension GL_EXT_shader_explicit_arithmetic_types_float16 : require
// Peak fp16 FMA throughput: as peak_fma_f32.comp with f16vec4 (needs shaderFloat16).
#include "common.glsl"
layout(local_size_x = 256) in;
layout(std430, binding = 0) writeonly buffer Out { vec4 o[]; };
layout(push_constant) uniform Push { uint iters; } pc;
void main()
{
    f16vec4 x = f16vec4(float16_t(gl_GlobalInvocationID.x & 7u) * float16_t(1e-3));
    f16vec4 a = f16vec4(float16_t(0.999)), b = f16vec4(float16_t(1e-4));
    f16vec4 r[16];
    for (int k = 0; k < 16; k++) r[k] = x + float16_t(k);
    for (uint i = 0; i < pc.iters; i++)
        for (int k = 0; k < 16; k++) r[k] = fma(r[k], a, b);
    f16vec4 s = f16vec4(0);
    for (int k = 0; k < 16; k++) s += r[k];
    o[gl_GlobalInvocationID.x] = vec4(s);
}
