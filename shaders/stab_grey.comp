#version 450
#extension GL_GOOGLE_include_directive : require
// vks:variant stab_grey_f16 VKS_F16
// vks:wg-base
// Stabilization, optical flow (engine/stabilize.c): one level of the grey pyramid of an input
// tensor. Each output pixel is the mean, over the factor x factor block of input pixels it covers
// (cut at the image's edge), of the luma 0.299 R + 0.587 G + 0.114 B in 0..255 units (times
// 1 / the input's scale), clamped to +-VKS_STAB_GREY_MAX. Level l of the pyramid has factor 2^l
// and ceil(h / 2^l) x ceil(w / 2^l) pixels.
#include "common.glsl"

layout(local_size_x = VKS_LOCAL_1D) in;

layout(std430, binding = 0) readonly buffer In { vtype x[]; };
layout(std430, binding = 1) writeonly buffer Out { float g[]; };

layout(push_constant) uniform Push {
    uint w, h;          // input size
    uint ow, oh;        // output size: ceil(w / factor), ceil(h / factor)
    uint stride;        // the input's plane stride (elements)
    uint factor;
    float inv_scale;    // 1 / the input's scale (tensor units -> 0..255)
    VKS_WG_BASE;
} pc;

void main()
{
    uint i = VKS_GID.x;
    if (i >= pc.ow * pc.oh) return;
    uint x0 = (i % pc.ow) * pc.factor, y0 = (i / pc.ow) * pc.factor;
    uint x1 = min(x0 + pc.factor, pc.w), y1 = min(y0 + pc.factor, pc.h);
    float s = 0.0;
    for (uint y = y0; y < y1; y++)
        for (uint xx = x0; xx < x1; xx++) {
            uint j = y * pc.w + xx;
            float l = 0.299 * float(x[j]) + 0.587 * float(x[pc.stride + j]) + 0.114 * float(x[2 * pc.stride + j]);
            s += clamp(l * pc.inv_scale, -VKS_STAB_GREY_MAX, VKS_STAB_GREY_MAX);
        }
    g[i] = s / float((x1 - x0) * (y1 - y0));
}
