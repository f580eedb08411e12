#version 450
#extension GL_GOOGLE_include_directive : require
// Stabilization (engine/stabilize.c): an exponential moving average, across frames, of an instance
// norm's per-channel statistics. cur holds this frame's (mean, M2) per channel (channel_stats.comp
// over the whole plane of `count` elements); ema holds the running (mean, variance), updated in
// place and then read by instance_norm.comp with GIVEN_STATS. On a cut (the mean input change in
// cut[0], from channel_stats.comp over stab_motion.comp's diff, above cut_thr, or not a number)
// the average restarts from this frame's statistics.
#include "common.glsl"

layout(local_size_x = VKS_LOCAL_1D) in;

layout(std430, binding = 0) readonly buffer Cur { float cur[]; };
layout(std430, binding = 1) buffer Ema { float ema[]; };
layout(std430, binding = 2) readonly buffer Cut { float cut[]; };

layout(push_constant) uniform Push {
    uint channels, cur_off, ema_off;   // channels; pair index of the first in cur and in ema
    float count;                       // elements per plane (M2 / count = variance)
    float alpha;                       // weight of the past, 0..1
    float cut_thr;                     // mean input change (0..255) above which a frame is a cut
} pc;

void main()
{
    uint c = gl_GlobalInvocationID.x;
    if (c >= pc.channels) return;
    float mean = cur[2 * (pc.cur_off + c)];
    float var = cur[2 * (pc.cur_off + c) + 1] / pc.count;
    uint e = 2 * (pc.ema_off + c);
    if (cut[0] <= pc.cut_thr && pc.alpha > 0.0) {   // false for NaN: a cut
        mean = mix(mean, ema[e], pc.alpha);
        var = mix(var, ema[e + 1], pc.alpha);
    }
    ema[e] = mean;
    ema[e + 1] = var;
}
