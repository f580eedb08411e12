#version 450
#extension GL_GOOGLE_include_directive : require
// vks:variant batch_norm_f16 VKS_F16
// vks:wg-base
// Inference batch normalization with running statistics, per channel:
// y = act(gamma * (x - mean) / sqrt(var + eps) + beta) (+ residual).
// params = [4][channels]: mean, var, gamma, beta. (Usually folded into the preceding conv.)
#include "common.glsl"

layout(local_size_x = VKS_LOCAL_1D) in;

layout(constant_id = 0) const uint ACT = 0;
layout(constant_id = 1) const uint HAS_RESIDUAL = 0;

layout(std430, binding = 0) readonly buffer In { vtype x[]; };
layout(std430, binding = 1) writeonly buffer Out { vtype y[]; };
layout(std430, binding = 2) readonly buffer Params { float prm[]; };
layout(std430, binding = 3) readonly buffer Res { vtype res[]; };

layout(push_constant) uniform Push {
    uint hw, stride, channels, c0;   // channels: of the layer; c0: first channel of this chunk
    float eps;
    VKS_WG_BASE;
} pc;

void main()
{
    uint i = VKS_GID.x, c = VKS_GID.y;
    if (i >= pc.hw) return;
    uint k = pc.c0 + c;
    float scale = prm[2 * pc.channels + k] * inversesqrt(prm[pc.channels + k] + pc.eps);
    float shift = prm[3 * pc.channels + k] - prm[k] * scale;
    uint idx = c * pc.stride + i;
    float v = vks_act(fma(float(x[idx]), scale, shift), ACT);
    if (HAS_RESIDUAL != 0) v += float(res[idx]);
    y[idx] = vtype(v);
}
