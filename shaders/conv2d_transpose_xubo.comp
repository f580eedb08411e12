#version 450
#extension GL_GOOGLE_include_directive : require
#extension GL_EXT_scalar_block_layout : require
// conv2d_transpose_ubo.comp with the input read from uniform buffers too (see conv2d_xubo.comp).
#include "common.glsl"

layout(std140, binding = 1) uniform Wt { vec4 wt4[VKS_UBO_BYTES / 16]; };
#define WEIGHT(i) wt4[(i) >> 2][(i) & 3u]

layout(constant_id = 6) const uint CPB = 1;   // channel planes per input uniform buffer
layout(scalar, binding = 4) uniform Xu { float v[VKS_UBO_BYTES / 4]; } xu[VKS_X_UBOS];
#define XLOAD(ci, i) xu[min((ci) / CPB, VKS_X_UBOS - 1)].v[((ci) % CPB) * pc.in_stride + (i)]

#include "conv2d_transpose_body.glsl"
