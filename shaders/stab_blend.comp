#version 450
#extension GL_GOOGLE_include_directive : require
// vks:variant stab_blend_f16 VKS_F16
// vks:wg-base
// Stabilization, last step (engine/stabilize.c): motion-aware blending of the network's output
// with the previous output. Where the input did not change beyond noise (the mean of
// stab_motion.comp's diff over a (2r+1)^2 window, below lo) the output moves toward the previous
// one by `keep`; above hi it is the new output; between, a smoothstep. On a cut (cut[0], the mean
// input change, above cut_thr, or not a number) the new output is taken everywhere. The result
// stays within `tol` of the new output (a bound on the lag where the input drifts slowly, and on
// how far a frame strays from its own stylization). prev (float32) is overwritten with it.
#include "common.glsl"

layout(local_size_x = VKS_LOCAL_1D) in;

layout(std430, binding = 0) buffer Out { vtype y[]; };
layout(std430, binding = 1) buffer Prev { float prev[]; };
layout(std430, binding = 2) readonly buffer Diff { float d[]; };
layout(std430, binding = 3) readonly buffer Cut { float cut[]; };

layout(push_constant) uniform Push {
    uint w, h;                  // the diff (input) size
    uint ow, oh;                // the output tensor's size (the network may add rows/columns)
    uint stride, prev_stride;   // plane strides of y and prev (elements)
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
    int x = int(min(i % pc.ow, pc.w - 1)), yy = int(min(i / pc.ow, pc.h - 1));
    int x0 = max(x - pc.radius, 0), x1 = min(x + pc.radius, int(pc.w) - 1);
    int y0 = max(yy - pc.radius, 0), y1 = min(yy + pc.radius, int(pc.h) - 1);
    float s = 0.0;
    for (int v = y0; v <= y1; v++)
        for (int u = x0; u <= x1; u++) s += d[v * int(pc.w) + u];
    float m = s / float((x1 - x0 + 1) * (y1 - y0 + 1));
    float k = cut[0] <= pc.cut_thr ? pc.keep * (1.0 - smoothstep(pc.lo, pc.hi, m)) : 0.0;
    for (uint c = 0; c < 3; c++) {
        float n = float(y[c * pc.stride + i]);
        float o = k > 0.0 ? clamp(mix(n, prev[c * pc.prev_stride + i], k), n - pc.tol, n + pc.tol) : n;
        y[c * pc.stride + i] = vtype(o);
        prev[c * pc.prev_stride + i] = o;
    }
}
