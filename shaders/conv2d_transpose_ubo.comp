#version 450
#extension GL_GOOGLE_include_directive : require
// vks:variant f16
// vks:wg-base
// conv2d_transpose with a group of output channels' weights in a uniform buffer (see
// conv2d_ubo.comp for why). See conv2d_transpose_body.glsl.
#include "common.glsl"

layout(std140, binding = 1) uniform Wt { vec4 wt4[VKS_UBO_BYTES / 16]; };
#define WEIGHT(i) wt4[(i) >> 2][(i) & 3u]

#include "conv2d_transpose_body.glsl"
