#version 450
#extension GL_GOOGLE_include_directive : require
// The statistics of whole planes from those of their ranges (channel_stats.comp on a plane split
// into pc.parts ranges of pc.count elements, the last one cut at pc.hw): one invocation per
// channel combines the ranges' (count, mean, M2) pairwise (Chan, Golub, LeVeque: no cancellation)
// and writes the plane's mean and biased variance, the table instance_norm.comp's GIVEN_STATS reads.
#include "common.glsl"
layout(local_size_x = 64) in;

layout(std430, binding = 0) readonly buffer Parts { float part[]; };   // [channel][range][2]: mean, M2
layout(std430, binding = 1) writeonly buffer Stats { float st[]; };    // [channel][2]: mean, variance

layout(push_constant) uniform Push {
    uint hw, count, parts;   // plane size, elements a range, ranges a plane
    uint nc;                 // channels
} pc;

void main()
{
    uint c = gl_GlobalInvocationID.x;
    if (c >= pc.nc) return;
    uint o = c * pc.parts;
    float n = float(min(pc.count, pc.hw)), mean = part[2 * o], m2 = part[2 * o + 1];
    for (uint k = 1; k < pc.parts; k++) {
        float nb = float(min(pc.count, pc.hw - k * pc.count)), t = n + nb;
        float d = part[2 * (o + k)] - mean;
        mean += d * (nb / t);
        m2 += part[2 * (o + k) + 1] + d * d * (n * nb / t);
        n = t;
    }
    st[2 * c] = mean;
    st[2 * c + 1] = m2 / float(pc.hw);
}
