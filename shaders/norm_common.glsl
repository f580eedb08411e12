// Two-pass instance statistics over one plane (mean, then the centred sum of squares: no
// E[x^2]-E[x]^2 cancellation), shared by instance_norm.comp and channel_stats.comp.
// The shader declares its workgroup size (at most VKS_NORM_LOCAL, a power of 2) before including this.
shared float red[VKS_NORM_LOCAL];

// Loops over a plane: each iteration takes VKS_NORM_UNROLL elements a invocation (fully unrolled),
// so that an invocation's loops stay within llvmpipe's loop limiter: lavapipe stops any shader
// invocation's loops after 65535 iterations in all (gallivm's LP_MAX_TGSI_LOOP_ITERATIONS) and
// silently goes on, which cut instance norm short on planes over 5.6 MP (3 loops of hw / 256).
// VKS_NORM_MAX_PLANE (config.h) is the largest plane this allows, checked by the ops.
// A shader may set NORM_UNROLL lower before including this (instance_norm_xubo: its planes are
// at most VKS_UBO_BYTES, far within the limit).
#ifndef NORM_UNROLL
#define NORM_UNROLL VKS_NORM_UNROLL
#endif
#define PLANE_LOOP(i, count, body)                                                        \
    for (uint i##0 = gl_LocalInvocationID.x; i##0 < (count); i##0 += gl_WorkGroupSize.x * NORM_UNROLL) \
        [[unroll]] for (uint u_ = 0; u_ < NORM_UNROLL; u_++) {                            \
            uint i = i##0 + u_ * gl_WorkGroupSize.x;                                      \
            if (i < (count)) { body }                                                     \
        }

// VKS_SUBGROUP_SUM (instance_norm_xubo): where the host knows the workgroup is one subgroup
// (SUBGROUP_SUM, a specialization constant: one subgroup's invocations on a CPU device), the sum
// is a subgroupAdd and the shader has no barrier left. lavapipe runs a shader with barriers as
// coroutines, one a SIMD row, whether or not a barrier is reached: without them every norm of
// udnie at 64x64 took 0.6-0.7 of the time (2026-12-05).
float workgroup_sum(float v)
{
#if VKS_SUBGROUP_SUM
    if (SUBGROUP_SUM != 0) return subgroupAdd(v);
#endif
    red[gl_LocalInvocationID.x] = v;
    barrier();
    for (uint s = gl_WorkGroupSize.x / 2; s > 0; s >>= 1) {   // a power of 2, at most VKS_NORM_LOCAL
        if (gl_LocalInvocationID.x < s) red[gl_LocalInvocationID.x] += red[gl_LocalInvocationID.x + s];
        barrier();
    }
    float r = red[0];
    barrier();
    return r;
}
