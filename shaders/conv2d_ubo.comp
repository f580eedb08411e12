#version 450
#extension GL_GOOGLE_include_directive : require
// vks:variant f16
// vks:wg-base
// conv2d with the weights of a group of output channels in a uniform buffer (VKS_UBO_BYTES):
// every invocation of a workgroup reads the same weight; lavapipe compiles uniform-buffer loads
// to plain loads, storage-buffer loads to a branchy per-lane loop (2-3x slower here; see
// docs/architecture.md, Convolutions). See conv2d_body.glsl.
#include "common.glsl"

layout(std140, binding = 1) uniform Wt { vec4 wt4[VKS_UBO_BYTES / 16]; };
#define WEIGHT(i) wt4[(i) >> 2][(i) & 3u]

#include "conv2d_body.glsl"
