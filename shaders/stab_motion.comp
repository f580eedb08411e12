#version 450
#extension GL_GOOGLE_include_directive : require
// vks:variant stab_motion_f16 VKS_F16
// vks:wg-base
// Stabilization, step 1 (engine/stabilize.c): how much each input pixel changed since the last
// frame. diff = max over R, G, B of |x - prev| / scale (0..255 units of the input pixels), capped
// at VKS_STAB_DIFF_MAX; prev (float32, the last frame's input tensor) is then overwritten with x.
// A reset fills prev with a huge value, so the next frame's diff is the cap everywhere: a cut.
#include "common.glsl"

layout(local_size_x = VKS_LOCAL_1D) in;

layout(std430, binding = 0) readonly buffer In { vtype x[]; };
layout(std430, binding = 1) buffer Prev { float prev[]; };
layout(std430, binding = 2) writeonly buffer Diff { float d[]; };

layout(push_constant) uniform Push {
    uint hw, stride, prev_stride;   // pixels; plane strides of x and prev (elements)
    float inv_scale;                // 1 / the input's scale (tensor units -> 0..255)
    VKS_WG_BASE;
} pc;

void main()
{
    uint i = VKS_GID.x;
    if (i >= pc.hw) return;
    float m = 0.0;
    for (uint k = 0; k < 3; k++) {
        float v = float(x[k * pc.stride + i]);
        m = max(m, abs(v - prev[k * pc.prev_stride + i]));
        prev[k * pc.prev_stride + i] = v;
    }
    d[i] = min(m * pc.inv_scale, VKS_STAB_DIFF_MAX);
}
