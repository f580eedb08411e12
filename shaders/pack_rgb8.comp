#version 450
#extension GL_GOOGLE_include_directive : require
// vks:variant pack_rgb8_f16 VKS_F16
// vks:wg-base
// 8-bit interleaved pixels (RGB or RGBA; BGR(A) when SWAP_RB) -> planar RGB float tensor:
// x = byte * scale + offset.
#include "common.glsl"

layout(local_size_x = VKS_LOCAL_1D) in;

layout(constant_id = 0) const uint CHANNELS = 4;   // bytes per pixel: 3 or 4
layout(constant_id = 1) const uint SWAP_RB = 0;

layout(std430, binding = 0) readonly buffer Px { uint px[]; };
layout(std430, binding = 1) writeonly buffer Out { vtype y[]; };

layout(push_constant) uniform Push { uint w, h, stride; float scale, offset; VKS_WG_BASE; } pc;

uint byte_at(uint i) { return (px[i >> 2] >> ((i & 3u) * 8u)) & 0xffu; }

void main()
{
    uint i = VKS_GID.x;
    if (i >= pc.w * pc.h) return;
    for (uint k = 0; k < 3; k++) {
        uint src = SWAP_RB != 0 ? 2 - k : k;
        y[k * pc.stride + i] = vtype(fma(float(byte_at(i * CHANNELS + src)), pc.scale, pc.offset));
    }
}
