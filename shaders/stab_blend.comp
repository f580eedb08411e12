#version 450
#extension GL_GOOGLE_include_directive : require
// vks:variant stab_blend_f16 VKS_F16
// vks:wg-base
// Stabilization, last step (engine/stabilize.c): motion-compensated recursive blending of the
// network's output with the previous (stabilized) output. The previous output is warped along the
// flow (stab_flow.comp, at the input's size: the output pixel's position clamped into it): sampled
// bilinearly at p + flow(p), clamped into the output. Where the input did not change along the
// motion beyond noise (the mean of stab_motion.comp's diff over a (2r+1)^2 window, below lo) the
// output moves toward the warped previous one by `keep`; above hi it is the new output; between,
// a smoothstep. On a cut (cut[0], the mean input change, above cut_thr, or not a number) the new
// output is taken everywhere. The result stays within `tol` of the new output (a bound on the lag
// and on how far a frame strays from its own stylization). dev (float32, y's shape) receives
// result - new output (0 where nothing was blended), for stab_limit.comp. prev (of y's type) is only
// read: the engine copies the result over it afterwards.
#include "common.glsl"

layout(local_size_x = VKS_LOCAL_1D) in;

layout(std430, binding = 0) buffer Out { vtype y[]; };
layout(std430, binding = 1) readonly buffer Prev { vtype prev[]; };
layout(std430, binding = 2) readonly buffer Diff { float d[]; };
layout(std430, binding = 3) readonly buffer Cut { float cut[]; };
layout(std430, binding = 4) readonly buffer Flow { float f[]; };
layout(std430, binding = 5) writeonly buffer Dev { float dev[]; };

layout(push_constant) uniform Push {
    uint w, h;                  // the diff and flow (input) size
    uint ow, oh;                // the output tensor's size (the network may add rows/columns)
    uint stride, prev_stride, flow_stride, dev_stride;   // plane strides of y, prev, flow and dev (elements)
    int radius;                 // window radius
    float keep;                 // weight of the previous output where nothing changed, 0..1
    float lo, hi;               // input change (0..255) below which nothing changed, above which all did
    float cut_thr;
    float tol;                  // largest |result - new output| (tensor units)
    VKS_WG_BASE;
} pc;

void main()
{
    uint i = VKS_GID.x;
    if (i >= pc.ow * pc.oh) return;
    uint ox = i % pc.ow, oy = i / pc.ow;
    int x = int(min(ox, pc.w - 1)), yy = int(min(oy, pc.h - 1));
    int x0 = max(x - pc.radius, 0), x1 = min(x + pc.radius, int(pc.w) - 1);
    int y0 = max(yy - pc.radius, 0), y1 = min(yy + pc.radius, int(pc.h) - 1);
    float s = 0.0;
    for (int v = y0; v <= y1; v++)
        for (int u = x0; u <= x1; u++) s += d[v * int(pc.w) + u];
    float m = s / float((x1 - x0 + 1) * (y1 - y0 + 1));
    float k = cut[0] <= pc.cut_thr ? pc.keep * (1.0 - smoothstep(pc.lo, pc.hi, m)) : 0.0;
    if (!(k > 0.0)) {   // the new output as it is
        for (uint c = 0; c < 3; c++) dev[c * pc.dev_stride + i] = 0.0;
        return;
    }
    uint j = uint(yy) * pc.w + uint(x);
    float fx = clamp(float(ox) + f[j], 0.0, float(pc.ow - 1)), fy = clamp(float(oy) + f[pc.flow_stride + j], 0.0, float(pc.oh - 1));
    uint px0 = uint(fx), py0 = uint(fy), px1 = min(px0 + 1, pc.ow - 1), py1 = min(py0 + 1, pc.oh - 1);
    float a = fx - float(px0), b = fy - float(py0);
    for (uint c = 0; c < 3; c++) {
        uint o = c * pc.prev_stride;
        float p = mix(mix(float(prev[o + py0 * pc.ow + px0]), float(prev[o + py0 * pc.ow + px1]), a),
                      mix(float(prev[o + py1 * pc.ow + px0]), float(prev[o + py1 * pc.ow + px1]), a), b);
        float n = float(y[c * pc.stride + i]);
        float r = float(vtype(clamp(mix(n, p, k), n - pc.tol, n + pc.tol)));   // as stored
        y[c * pc.stride + i] = vtype(r);
        dev[c * pc.dev_stride + i] = r - n;
    }
}
