#version 450
#extension GL_GOOGLE_include_directive : require
#extension GL_EXT_scalar_block_layout : require
// conv2d_ubo.comp with the input read from uniform buffers too: VKS_X_UBOS bindings of CPB
// channel planes each (planes of at most VKS_UBO_BYTES). Lavapipe compiles a storage-buffer load
// into a per-lane loop with a bounds check per element and a uniform-buffer load into plain
// loads: the 3x3 convolutions run 1.3x faster there (benchmarks/README.md). Needs
// scalarBlockLayout (float arrays without the std140 16-byte stride). fp32 activations only.
#include "common.glsl"

layout(std140, binding = 1) uniform Wt { vec4 wt4[VKS_UBO_BYTES / 16]; };
#define WEIGHT(i) wt4[(i) >> 2][(i) & 3u]

layout(constant_id = 7) const uint CPB = 1;   // channel planes per input uniform buffer
layout(scalar, binding = 4) uniform Xu { float v[VKS_UBO_BYTES / 4]; } xu[VKS_X_UBOS];
#define XLOAD(ci, i) xu[min((ci) / CPB, VKS_X_UBOS - 1)].v[((ci) % CPB) * pc.in_stride + (i)]

#include "conv2d_body.glsl"
