#version 450
#extension GL_GOOGLE_include_directive : require
// vks:variant f16
// vks:wg-base
// conv2d with the weights in a storage buffer: any size. See conv2d_body.glsl.
#include "common.glsl"

layout(std430, binding = 1) readonly buffer Wt { float wt[]; };
#define WEIGHT(i) wt[i]

#include "conv2d_body.glsl"
