#version 450
#extension GL_GOOGLE_include_directive : require
// vks:variant unpack_rgba8_f16 VKS_F16
// vks:wg-base
// Planar RGB float tensor (th x tw, cropped top-left to h x w) -> RGBA8 (BGRA when SWAP_RB),
// one uint per pixel: byte = round(clamp(x * scale + offset, 0, 255)), alpha 255.
#include "common.glsl"

layout(local_size_x = VKS_LOCAL_1D) in;

layout(constant_id = 0) const uint SWAP_RB = 0;

layout(std430, binding = 0) readonly buffer In { vtype x[]; };
layout(std430, binding = 1) writeonly buffer Px { uint px[]; };

layout(push_constant) uniform Push { uint w, h, tw, stride; float scale, offset; VKS_WG_BASE; } pc;

void main()
{
    uint i = VKS_GID.x;
    if (i >= pc.w * pc.h) return;
    uint src = (i / pc.w) * pc.tw + i % pc.w;
    uint v = 0xff000000u;
    for (uint k = 0; k < 3; k++) {
        float f = clamp(fma(float(x[k * pc.stride + src]), pc.scale, pc.offset), 0.0, 255.0);
        uint dst = SWAP_RB != 0 ? 2 - k : k;
        v |= uint(floor(f + 0.5)) << (dst * 8u);
    }
    px[i] = v;
}
