#version 450
#extension GL_GOOGLE_include_directive : require
#extension GL_EXT_control_flow_attributes : require
// vks:variant instance_norm_f16 VKS_F16
// vks:wg-base
// Instance normalization, one workgroup per channel plane of one sample:
// y = act(gamma * (x - mean) / sqrt(var + eps) + beta) (+ residual), biased variance.
// gamma/beta come from a table at an element offset: the layer's own parameters, or the
// per-frame mix of a conditional instance norm (conditional_instance_norm.comp).
// GIVEN_STATS: the mean and variance are not computed from the plane but read from a table
// (an image run in tiles: the whole image's statistics, from channel_stats.comp over its tiles).
#include "common.glsl"
// The workgroup: VKS_NORM_LOCAL invocations, or one subgroup on a CPU device (engine/ops/instance_norm.c).
// Declared before norm_common.glsl, which reads gl_WorkGroupSize.
layout(local_size_x_id = 3) in;
#include "norm_common.glsl"

layout(constant_id = 0) const uint ACT = 0;
layout(constant_id = 1) const uint HAS_RESIDUAL = 0;
layout(constant_id = 2) const uint GIVEN_STATS = 0;

layout(std430, binding = 0) readonly buffer In { vtype x[]; };
layout(std430, binding = 1) writeonly buffer Out { vtype y[]; };
layout(std430, binding = 2) readonly buffer Gamma { float gamma[]; };
layout(std430, binding = 3) readonly buffer Beta { float beta[]; };
layout(std430, binding = 4) readonly buffer Res { vtype res[]; };
layout(std430, binding = 5) readonly buffer Stats { float st[]; };   // GIVEN_STATS: [channel][2] mean, variance

layout(push_constant) uniform Push {
    uint hw, stride;            // plane size and plane stride (floats)
    uint gamma_off, beta_off;   // element offsets of this chunk's first channel
    float eps;
    uint stats_off;             // GIVEN_STATS: pair of this chunk's first channel in st
    VKS_WG_BASE;
} pc;

void main()
{
    uint c = VKS_WG_ID.x;
    uint base = c * pc.stride;
    float mean, var;
    if (GIVEN_STATS != 0) {
        mean = st[2 * (pc.stats_off + c)];
        var = st[2 * (pc.stats_off + c) + 1];
    } else {
        // Shifted sums: subtracting one sample of the plane first keeps the partial sums small
        // when the mean is large compared to the spread (no catastrophic rounding in fp32).
        float pilot = float(x[base]);
        float s = 0.0;
        PLANE_LOOP(i, pc.hw, s += float(x[base + i]) - pilot;)
        mean = pilot + workgroup_sum(s) / float(pc.hw);
        float q = 0.0;
        PLANE_LOOP(i, pc.hw, float d = float(x[base + i]) - mean; q = fma(d, d, q);)
        var = workgroup_sum(q) / float(pc.hw);
    }
    float scale = gamma[pc.gamma_off + c] * inversesqrt(var + pc.eps);
    float shift = beta[pc.beta_off + c] - mean * scale;
    PLANE_LOOP(i, pc.hw,
        float v = vks_act(fma(float(x[base + i]), scale, shift), ACT);
        if (HAS_RESIDUAL != 0) v += float(res[base + i]);
        y[base + i] = vtype(v);
    )
}
