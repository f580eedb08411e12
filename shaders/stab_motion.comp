#version 450
#extension GL_GOOGLE_include_directive : require
// vks:variant stab_motion_f16 VKS_F16
// vks:wg-base
// Stabilization, step 2 (engine/stabilize.c): how much each input pixel changed since the last
// frame along the motion. With p' = p + flow(p) (stab_flow.comp: where the pixel was in the last
// frame), diff = max over R, G, B of |x(p) - prev(p')| / scale (0..255 units of the input
// pixels; prev sampled bilinearly, p' clamped into the frame), capped at VKS_STAB_DIFF_MAX; where
// p' is more than half a pixel outside the last frame (content that just came in) it is
// VKS_STAB_DIFF_OUT. Pixels that moved and were tracked count as unchanged; occlusions and
// mismatches do not. prev (the last frame's input tensor, of x's type) is only read: the engine
// copies x over it afterwards. A reset fills prev with a huge value, so the next frame's diff is
// the cap everywhere: a cut.
#include "common.glsl"

layout(local_size_x = VKS_LOCAL_1D) in;

layout(std430, binding = 0) readonly buffer In { vtype x[]; };
layout(std430, binding = 1) readonly buffer Prev { vtype prev[]; };
layout(std430, binding = 2) readonly buffer Flow { float f[]; };
layout(std430, binding = 3) writeonly buffer Diff { float d[]; };

layout(push_constant) uniform Push {
    uint w, h;
    uint stride, prev_stride, flow_stride;   // plane strides of x, prev and flow (elements)
    float inv_scale;                         // 1 / the input's scale (tensor units -> 0..255)
    VKS_WG_BASE;
} pc;

void main()
{
    uint i = VKS_GID.x;
    if (i >= pc.w * pc.h) return;
    float fx = float(i % pc.w) + f[i], fy = float(i / pc.w) + f[pc.flow_stride + i];
    if (!(fx >= -0.5 && fx <= float(pc.w) - 0.5 && fy >= -0.5 && fy <= float(pc.h) - 0.5)) {
        d[i] = VKS_STAB_DIFF_OUT;
        return;
    }
    fx = clamp(fx, 0.0, float(pc.w - 1));
    fy = clamp(fy, 0.0, float(pc.h - 1));
    uint x0 = uint(fx), y0 = uint(fy), x1 = min(x0 + 1, pc.w - 1), y1 = min(y0 + 1, pc.h - 1);
    float a = fx - float(x0), b = fy - float(y0);
    float m = 0.0;
    for (uint k = 0; k < 3; k++) {
        uint o = k * pc.prev_stride;
        float p = mix(mix(float(prev[o + y0 * pc.w + x0]), float(prev[o + y0 * pc.w + x1]), a),
                      mix(float(prev[o + y1 * pc.w + x0]), float(prev[o + y1 * pc.w + x1]), a), b);
        m = max(m, abs(float(x[k * pc.stride + i]) - p));
    }
    d[i] = min(m * pc.inv_scale, VKS_STAB_DIFF_MAX);
}
