#version 450
#extension GL_GOOGLE_include_directive : require
#extension GL_EXT_control_flow_attributes : require
// vks:variant channel_stats_f16 VKS_F16
// vks:wg-base
// Per-channel statistics of a range of each plane (rows of a tile, for instance norm over an
// image run in tiles): one workgroup per channel plane writes the range's mean and the sum of
// squared deviations from it (M2), in fp32, with the shifted two-pass sums of instance_norm.comp.
// The host combines the tiles' (count, mean, M2) into the image's mean and variance.
#include "common.glsl"
layout(local_size_x = VKS_NORM_LOCAL) in;   // before norm_common.glsl, which reads gl_WorkGroupSize
#include "norm_common.glsl"

layout(std430, binding = 0) readonly buffer In { vtype x[]; };
layout(std430, binding = 1) writeonly buffer Stats { float st[]; };   // [channel][2]: mean, M2

layout(push_constant) uniform Push {
    uint count, stride;   // elements of the range; plane stride
    uint first;           // first element of the range in each plane
    uint out_off;         // pair of this chunk's first channel in st
    VKS_WG_BASE;
} pc;

void main()
{
    uint c = VKS_WG_ID.x;
    uint base = c * pc.stride + pc.first;
    float pilot = float(x[base]);
    float s = 0.0;
    PLANE_LOOP(i, pc.count, s += float(x[base + i]) - pilot;)
    float mean = pilot + workgroup_sum(s) / float(pc.count);
    float q = 0.0;
    PLANE_LOOP(i, pc.count, float d = float(x[base + i]) - mean; q = fma(d, d, q);)
    q = workgroup_sum(q);
    if (gl_LocalInvocationID.x == 0) {
        st[2 * (pc.out_off + c)] = mean;
        st[2 * (pc.out_off + c) + 1] = q;
    }
}
