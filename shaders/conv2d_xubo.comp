#version 450
#extension GL_GOOGLE_include_directive : require
#extension GL_EXT_scalar_block_layout : require
// vks:wg-base
// conv2d_ubo.comp with the input read from uniform buffers too: VKS_X_UBOS bindings of CPB
// channel planes each (planes of at most VKS_UBO_BYTES). Lavapipe compiles a storage-buffer load
// into a per-lane loop with a bounds check per element and a uniform-buffer load into plain
// loads: the 3x3 convolutions run 1.3x faster there (benchmarks/README.md). Needs
// scalarBlockLayout (float arrays without the std140 16-byte stride). fp32 activations only.
#include "common.glsl"

layout(std140, binding = 1) uniform Wt { vec4 wt4[VKS_UBO_BYTES / 16]; };
#define WEIGHT(i) wt4[(i) >> 2][(i) & 3u]

layout(constant_id = 7) const uint CPB = 1;   // channel planes per input uniform buffer
// Driver workaround (engine/context.c, driver_workarounds()): 1 clamps the array index, which
// is always in range, so that a driver that runs the loop's exiting iteration's load (Mesa 25
// lavapipe, tests/driver_bugs/ubo_array_speculation.c) does not read a descriptor past the array.
layout(constant_id = 8) const uint CLAMP_INDEX = 1;
layout(scalar, binding = 4) uniform Xu { float v[VKS_UBO_BYTES / 4]; } xu[VKS_X_UBOS];
#define XLOAD(ci, i) xu[CLAMP_INDEX != 0 ? min((ci) / CPB, VKS_X_UBOS - 1) : (ci) / CPB].v[((ci) % CPB) * pc.in_stride + (i)]

#include "conv2d_body.glsl"
