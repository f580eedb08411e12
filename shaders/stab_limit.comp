#version 450
#extension GL_GOOGLE_include_directive : require
// vks:variant stab_limit_f16 VKS_F16
// vks:wg-base
// Stabilization, after stab_blend.comp (engine/stabilize.c): a bound on how far the whole frame
// strays from its own stylization. dev holds stab_blend's result - new output per pixel and
// channel, stats its per-channel (mean, M2) over the frame (channel_stats.comp); with r the root
// mean square of dev over the three channels, where r > limit the blend is scaled back to
// limit / r of itself: y -= dev * (1 - limit / r). Otherwise y stays as it is. So every frame's
// PSNR against the unstabilized one is at least 20 log10(255 / limit) (in 0..255 units), while a
// pixel may still stray up to stab_blend's per-pixel bound.
#include "common.glsl"

layout(local_size_x = VKS_LOCAL_1D) in;

layout(std430, binding = 0) buffer Out { vtype y[]; };
layout(std430, binding = 1) readonly buffer Dev { float dev[]; };
layout(std430, binding = 2) readonly buffer Stats { float st[]; };

layout(push_constant) uniform Push {
    uint n;                   // pixels
    uint stride, dev_stride;  // plane strides of y and dev (elements)
    float count;              // pixels, as a float (M2 / count = variance)
    float limit;              // largest root mean square of dev (tensor units)
    VKS_WG_BASE;
} pc;

void main()
{
    uint i = VKS_GID.x;
    if (i >= pc.n) return;
    float ms = 0.0;
    for (uint c = 0; c < 3; c++) ms += st[2 * c + 1] / pc.count + st[2 * c] * st[2 * c];
    float r = sqrt(ms / 3.0);
    if (!(r > pc.limit)) return;
    float f = 1.0 - pc.limit / r;
    for (uint c = 0; c < 3; c++) y[c * pc.stride + i] = vtype(float(y[c * pc.stride + i]) - dev[c * pc.dev_stride + i] * f);
}
