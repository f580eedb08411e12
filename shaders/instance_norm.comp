#version 450
#extension GL_GOOGLE_include_directive : require
#extension GL_EXT_control_flow_attributes : require
#if VKS_INPUT_UBO
#extension GL_EXT_scalar_block_layout : require
#endif
#if VKS_INPUT_UBO || VKS_NORM_V4
#extension GL_KHR_shader_subgroup_arithmetic : require
#define VKS_SUBGROUP_SUM 1
#endif
// vks:variant instance_norm_f16 VKS_F16
// vks:variant instance_norm_xubo VKS_INPUT_UBO
// vks:variant instance_norm_v4 VKS_NORM_V4
// vks:wg-base
// Instance normalization, one workgroup per channel plane of one sample:
// y = act(gamma * (x - mean) / sqrt(var + eps) + beta) (+ residual), biased variance.
// gamma/beta come from a table at an element offset: the layer's own parameters, or the
// per-frame mix of a conditional instance norm (conditional_instance_norm.comp).
// GIVEN_STATS: the mean and variance are not computed from the plane but read from a table
// (an image run in tiles: the whole image's statistics, from channel_stats.comp over its tiles;
// a large plane on a GPU: from channel_stats.comp over its ranges, channel_stats_combine.comp).
// Then pc.part > 0 splits each plane into ranges of pc.part elements, workgroup y the range, so
// that a large plane is not one workgroup's work.
// instance_norm_xubo: the input planes read from VKS_X_UBOS uniform buffers of pc.cpb planes each
// instead of a storage buffer (CPU devices, fp32, planes of at most VKS_UBO_BYTES: lavapipe
// compiles a storage load into a per-lane loop with a bounds check, a uniform load into plain
// loads; see conv2d.comp). The residual and the output stay storage buffers. Its reductions use
// subgroupAdd where the workgroup is one subgroup (norm_common.glsl): devices with subgroup
// arithmetic only (engine/ops/instance_norm.c).
// instance_norm_v4: fp32 planes too large for instance_norm_xubo, on CPU devices: the input,
// residual and output read and written 4 floats an invocation at a time (Mesa 22.3's lavapipe
// loads a storage buffer one lane at a time: a vec4 is one such load for 4 floats), and the
// reductions by subgroupAdd as in the xubo variant. Plane strides are multiples of 4 floats
// (VKS_PLANE_ALIGN); the last quad of a plane is masked.
#include "common.glsl"
// The workgroup: VKS_NORM_LOCAL invocations, or one subgroup on a CPU device (engine/ops/instance_norm.c).
// Declared before norm_common.glsl, which reads gl_WorkGroupSize.
layout(local_size_x_id = 3) in;
#if VKS_INPUT_UBO
// Its planes are at most VKS_UBO_BYTES: 4 elements an iteration keep far within the loop limit.
// As fast on lavapipe as 16 (udnie 128x128, alternately), and GPU-assisted validation's
// instrumented compile took 6 s instead of 20 (its 48 array-indexed uniform loads become 12).
#define NORM_UNROLL 4
#elif VKS_NORM_V4
// 4 quads an iteration: 16 floats, as the other variants' 16 elements, so the loop limit allows
// the same planes (VKS_NORM_MAX_PLANE); unrolled 16 times, GPU-assisted validation's
// instrumented compiles of the three loops took the instance-norm tests 31 s instead of 18
#define NORM_UNROLL 4
#endif
#if VKS_SUBGROUP_SUM
layout(constant_id = 5) const uint SUBGROUP_SUM = 0;   // the workgroup is one subgroup (norm_common.glsl)
#endif
#include "norm_common.glsl"

layout(constant_id = 0) const uint ACT = 0;
layout(constant_id = 1) const uint HAS_RESIDUAL = 0;
layout(constant_id = 2) const uint GIVEN_STATS = 0;
// instance_norm_xubo: conv2d.comp's driver workaround (engine/context.c, driver_workarounds())
layout(constant_id = 4) const uint CLAMP_INDEX = 1;

#if VKS_NORM_V4
layout(std430, binding = 0) readonly buffer In { vec4 x4[]; };
layout(std430, binding = 1) writeonly buffer Out { vec4 y4[]; };
#else
layout(std430, binding = 0) readonly buffer In { vtype x[]; };
layout(std430, binding = 1) writeonly buffer Out { vtype y[]; };
#endif
layout(std430, binding = 2) readonly buffer Gamma { float gamma[]; };
layout(std430, binding = 3) readonly buffer Beta { float beta[]; };
#if VKS_NORM_V4
layout(std430, binding = 4) readonly buffer Res { vec4 res4[]; };
#else
layout(std430, binding = 4) readonly buffer Res { vtype res[]; };
#endif
layout(std430, binding = 5) readonly buffer Stats { float st[]; };   // GIVEN_STATS: [channel][2] mean, variance

layout(push_constant) uniform Push {
    uint hw, stride;            // plane size and plane stride (floats)
    uint gamma_off, beta_off;   // element offsets of this chunk's first channel
    float eps;
    uint stats_off;             // GIVEN_STATS: pair of this chunk's first channel in st
    uint cpb;                   // instance_norm_xubo: planes per uniform buffer
    uint part;                  // GIVEN_STATS: elements a workgroup (0: the whole plane)
    VKS_WG_BASE;
} pc;

#if VKS_INPUT_UBO
layout(scalar, binding = 6) uniform Xu { float v[VKS_UBO_BYTES / 4]; } xu[VKS_X_UBOS];
#define XIN(i) xu[CLAMP_INDEX != 0 ? min(xg, VKS_X_UBOS - 1) : xg].v[xb + (i)]
#else
#define XIN(i) float(x[base + (i)])
#endif

#if VKS_NORM_V4
// The sum of v's first n components (the part of a plane's last quad that is in the plane):
// selected, never multiplied by 0, since the plane's padding is memory no op writes (a NaN there
// made the first frame of a new session wrong: 0 * NaN is NaN)
float head_sum(vec4 v, uint n) { return v.x + (n > 1u ? v.y : 0.0) + (n > 2u ? v.z : 0.0); }

// Quad k of the output (before it is stored)
vec4 out_quad(uint b4, uint k, float scale, float shift)
{
    vec4 a = fma(x4[b4 + k], vec4(scale), vec4(shift));
    vec4 v = vec4(vks_act(a.x, ACT), vks_act(a.y, ACT), vks_act(a.z, ACT), vks_act(a.w, ACT));
    if (HAS_RESIDUAL != 0) v += res4[b4 + k];
    return v;
}

void main()
{
    uint c = VKS_WG_ID.x;
    // The loops take the whole quads; the plane's last quad, when only part of it is in the
    // plane, is one invocation's outside them: a loop or branches in PLANE_LOOP's body kept Mesa
    // 22.3 from unrolling it, and llvmpipe's limit of 65535 loop iterations an invocation left
    // the end of planes of about 700K pixels unwritten (test_instance_norm's 1080x1000 plane)
    uint b4 = c * pc.stride / 4u, nfull = pc.hw / 4u, rest = pc.hw % 4u;
    bool tail = rest != 0u && gl_LocalInvocationID.x == 0u;
    float mean, var;
    if (GIVEN_STATS != 0) {
        mean = st[2 * (pc.stats_off + c)];
        var = st[2 * (pc.stats_off + c) + 1];
    } else {
        float pilot = x4[b4].x;   // shifted sums, as below
        float s = 0.0;
        PLANE_LOOP(k, nfull, s += dot(x4[b4 + k] - pilot, vec4(1.0));)
        if (tail) s += head_sum(x4[b4 + nfull] - pilot, rest);
        mean = pilot + workgroup_sum(s) / float(pc.hw);
        float q = 0.0;
        PLANE_LOOP(k, nfull, vec4 d = x4[b4 + k] - mean; q += dot(d, d);)
        if (tail) {
            vec4 d = x4[b4 + nfull] - mean;
            q += head_sum(d * d, rest);
        }
        var = workgroup_sum(q) / float(pc.hw);
    }
    float scale = gamma[pc.gamma_off + c] * inversesqrt(var + pc.eps);
    float shift = beta[pc.beta_off + c] - mean * scale;
    PLANE_LOOP(k, nfull, y4[b4 + k] = out_quad(b4, k, scale, shift);)
    if (tail) {   // the first `rest` components only
        vec4 v = out_quad(b4, nfull, scale, shift);
        y4[b4 + nfull].x = v.x;
        if (rest > 1u) y4[b4 + nfull].y = v.y;
        if (rest > 2u) y4[b4 + nfull].z = v.z;
    }
}
#else
void main()
{
    uint c = VKS_WG_ID.x;
    uint base = c * pc.stride;
#if VKS_INPUT_UBO
    uint xg = c / pc.cpb, xb = c % pc.cpb * pc.stride;   // the buffer and the plane in it (workgroup-uniform)
#endif
    float mean, var;
    if (GIVEN_STATS != 0) {
        mean = st[2 * (pc.stats_off + c)];
        var = st[2 * (pc.stats_off + c) + 1];
    } else {
        // Shifted sums: subtracting one sample of the plane first keeps the partial sums small
        // when the mean is large compared to the spread (no catastrophic rounding in fp32).
        float pilot = XIN(0);
        float s = 0.0;
        PLANE_LOOP(i, pc.hw, s += XIN(i) - pilot;)
        mean = pilot + workgroup_sum(s) / float(pc.hw);
        float q = 0.0;
        PLANE_LOOP(i, pc.hw, float d = XIN(i) - mean; q = fma(d, d, q);)
        var = workgroup_sum(q) / float(pc.hw);
    }
    float scale = gamma[pc.gamma_off + c] * inversesqrt(var + pc.eps);
    float shift = beta[pc.beta_off + c] - mean * scale;
    uint r0 = 0, n = pc.hw;
    if (GIVEN_STATS != 0 && pc.part != 0) {
        r0 = VKS_WG_ID.y * pc.part;
        n = min(pc.part, pc.hw - r0);
    }
    PLANE_LOOP(j, n,
        uint i = r0 + j;
        float v = vks_act(fma(XIN(i), scale, shift), ACT);
        if (HAS_RESIDUAL != 0) v += float(res[base + i]);
        y[base + i] = vtype(v);
    )
}
#endif
