#version 450
#extension GL_GOOGLE_include_directive : require
#extension GL_EXT_control_flow_attributes : require
// vks:variant channel_stats_f16 VKS_F16
// vks:wg-base
// Per-channel statistics of ranges of each plane: one workgroup per (channel plane, range) writes
// the range's mean and the sum of squared deviations from it (M2), in fp32, with the shifted
// two-pass sums of instance_norm.comp. Two uses: rows of a tile, for instance norm over an image
// run in tiles (one range a plane; the host combines the tiles' (count, mean, M2) into the image's
// mean and variance); and a large plane split into pc.parts ranges of pc.count elements (the last
// one shorter), workgroup y the range, for instance norm on a GPU (channel_stats_combine.comp
// combines them; engine/ops/instance_norm.c).
#include "common.glsl"
layout(local_size_x = VKS_NORM_LOCAL) in;   // before norm_common.glsl, which reads gl_WorkGroupSize
#include "norm_common.glsl"

layout(std430, binding = 0) readonly buffer In { vtype x[]; };
layout(std430, binding = 1) writeonly buffer Stats { float st[]; };   // [channel][range][2]: mean, M2

layout(push_constant) uniform Push {
    uint count, stride;   // elements of a range; plane stride
    uint first;           // first element of the first range in each plane
    uint out_off;         // pair of this chunk's first channel's first range in st
    uint end;             // the ranges end here in each plane (the last range is cut there)
    uint parts;           // ranges a plane
    VKS_WG_BASE;
} pc;

void main()
{
    uint c = VKS_WG_ID.x, k = VKS_WG_ID.y;
    uint r0 = pc.first + k * pc.count;
    uint n = min(pc.count, pc.end - r0);
    uint base = c * pc.stride + r0;
    float pilot = float(x[base]);
    float s = 0.0;
    PLANE_LOOP(i, n, s += float(x[base + i]) - pilot;)
    float mean = pilot + workgroup_sum(s) / float(n);
    float q = 0.0;
    PLANE_LOOP(i, n, float d = float(x[base + i]) - mean; q = fma(d, d, q);)
    q = workgroup_sum(q);
    if (gl_LocalInvocationID.x == 0) {
        uint o = pc.out_off + c * pc.parts + k;
        st[2 * o] = mean;
        st[2 * o + 1] = q;
    }
}
