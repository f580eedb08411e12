#version 450
#extension GL_GOOGLE_include_directive : require
// Conditional instance normalization, the style mix: for every CIN channel of the network
// (all layers' tables concatenated, [2][styles][channels]: gamma rows then beta rows),
// gamma_eff[c] = sum_s w[s] * gamma[s][c] and beta_eff likewise. The weights are the whole
// push-constant block, so changing the mix re-records this one dispatch and nothing else;
// instance_norm.comp then normalizes with gamma_eff/beta_eff. The push block is full (the 32
// weights), so instead of split dispatches (common.glsl) each invocation loops over the channels
// in steps of the whole grid: any number of workgroups covers them.
#include "common.glsl"

layout(local_size_x = VKS_LOCAL_1D) in;

layout(constant_id = 0) const uint STYLES = 1;
layout(constant_id = 1) const uint CHANNELS = 1;   // all CIN channels of the network

layout(std430, binding = 0) readonly buffer Table { float table[]; };
layout(std430, binding = 1) writeonly buffer Eff { float eff[]; };   // [2][CHANNELS]

layout(push_constant) uniform Push { float w[VKS_MAX_STYLES]; } pc;

void main()
{
    // i = 0 .. 2*CHANNELS-1: gamma then beta
    for (uint i = gl_GlobalInvocationID.x; i < 2 * CHANNELS; i += gl_NumWorkGroups.x * VKS_LOCAL_1D) {
        uint which = i / CHANNELS, c = i % CHANNELS;
        float acc = 0.0;
        for (uint s = 0; s < STYLES; s++) acc = fma(pc.w[s], table[(which * STYLES + s) * CHANNELS + c], acc);
        eff[i] = acc;
    }
}
