#version 450
#extension GL_GOOGLE_include_directive : require
// vks:variant activation_f16 VKS_F16
// vks:wg-base
// Element-wise y = act(x) * scale + offset over the planes of a tensor. Besides the fused
// activations (vks_act), leaky ReLU (p0: alpha) and clip (p0, p1: the bounds).
#include "common.glsl"

layout(local_size_x = VKS_LOCAL_1D) in;

layout(constant_id = 0) const uint ACT = 0;

layout(std430, binding = 0) readonly buffer In { vtype x[]; };
layout(std430, binding = 1) writeonly buffer Out { vtype y[]; };

layout(push_constant) uniform Push { uint hw, stride; float scale, offset, p0, p1; VKS_WG_BASE; } pc;

void main()
{
    uint i = VKS_GID.x, c = VKS_GID.y;
    if (i >= pc.hw) return;
    uint idx = c * pc.stride + i;
    float v = float(x[idx]);
    if (ACT == VKS_ACT_LEAKY_RELU) v = v < 0.0 ? v * pc.p0 : v;
    else if (ACT == VKS_ACT_CLIP) v = min(max(v, pc.p0), pc.p1);
    else v = vks_act(v, ACT);
    y[idx] = vtype(fma(v, pc.scale, pc.offset));
}
