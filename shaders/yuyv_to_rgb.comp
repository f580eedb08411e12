#version 450
#extension GL_GOOGLE_include_directive : require
// vks:variant yuyv_to_rgb_f16 VKS_F16
// vks:wg-base
// Packed 4:2:2 YUYV (Y0 U Y1 V per pair of pixels; BT.601 limited range, as webcams deliver)
// -> planar RGB float tensor in 0..255: x = rgb * scale + offset. One invocation per pixel pair.
#include "common.glsl"

layout(local_size_x = VKS_LOCAL_1D) in;

layout(std430, binding = 0) readonly buffer Px { uint px[]; };
layout(std430, binding = 1) writeonly buffer Out { vtype y[]; };

layout(push_constant) uniform Push { uint w, h, stride; float scale, offset; VKS_WG_BASE; } pc;

void main()
{
    uint pair = VKS_GID.x;
    if (pair >= (pc.w / 2) * pc.h) return;
    uint v = px[pair];
    float y0 = float(v & 0xffu), u = float((v >> 8) & 0xffu) - 128.0;
    float y1 = float((v >> 16) & 0xffu), vv = float(v >> 24) - 128.0;
    uint i = pair * 2;
    for (uint k = 0; k < 2; k++) {
        float c = 1.164383 * ((k == 0 ? y0 : y1) - 16.0);
        vec3 rgb = clamp(vec3(c + 1.596027 * vv, c - 0.391762 * u - 0.812968 * vv, c + 2.017232 * u), 0.0, 255.0);
        for (uint ch = 0; ch < 3; ch++) y[ch * pc.stride + i + k] = vtype(fma(rgb[ch], pc.scale, pc.offset));
    }
}
