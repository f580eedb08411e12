#version 450
#extension GL_GOOGLE_include_directive : require
// Transposed 2-D convolution as a gather: out[s*i + k - pad] += x[i] * w[k], output stride x
// the input. Register tile and input-channel chunks as in conv2d.comp.
#include "common.glsl"

layout(local_size_x = VKS_CONV_LOCAL_X, local_size_y = VKS_CONV_LOCAL_Y, local_size_z = 1) in;

layout(constant_id = 0) const uint KH = 3;
layout(constant_id = 1) const uint KW = 3;
layout(constant_id = 2) const uint STRIDE = 2;
layout(constant_id = 3) const uint ACT = 0;
layout(constant_id = 4) const uint HAS_BIAS = 0;

layout(std430, binding = 0) readonly buffer In { float x[]; };
layout(std430, binding = 1) readonly buffer Wt { float wt[]; };   // [cin][cout][kh][kw]
layout(std430, binding = 2) readonly buffer Bias { float bias[]; };
layout(std430, binding = 3) buffer Out { float y[]; };

layout(push_constant) uniform Push {
    uint h, w, in_stride;
    uint oh, ow, out_stride;
    uint cout_total;            // output channels of the whole layer
    uint ci0, nci;
    uint co0, nco;
    int pad, unused;
    uint first, last;
} pc;

void main()
{
    uint ox0 = gl_GlobalInvocationID.x * VKS_CONV_PX;
    uint oy = gl_GlobalInvocationID.y;
    uint oc0 = gl_GlobalInvocationID.z * VKS_CONV_OC;
    if (ox0 >= pc.ow || oy >= pc.oh || oc0 >= pc.nco) return;

    float acc[VKS_CONV_OC][VKS_CONV_PX];
    for (uint o = 0; o < VKS_CONV_OC; o++)
        for (uint p = 0; p < VKS_CONV_PX; p++) acc[o][p] = 0.0;

    const uint KK = KH * KW;
    for (uint ky = 0; ky < KH; ky++) {
        int ty = int(oy) + pc.pad - int(ky);
        if (ty < 0 || ty % int(STRIDE) != 0 || ty / int(STRIDE) >= int(pc.h)) continue;
        uint iy = uint(ty) / STRIDE;
        for (uint kx = 0; kx < KW; kx++) {
            for (uint ci = 0; ci < pc.nci; ci++) {
                float xv[VKS_CONV_PX];
                for (uint p = 0; p < VKS_CONV_PX; p++) {
                    int tx = int(ox0 + p) + pc.pad - int(kx);
                    xv[p] = 0.0;
                    if (tx >= 0 && tx % int(STRIDE) == 0 && tx / int(STRIDE) < int(pc.w))
                        xv[p] = x[ci * pc.in_stride + iy * pc.w + uint(tx) / STRIDE];
                }
                for (uint o = 0; o < VKS_CONV_OC; o++) {
                    uint oc = min(pc.co0 + oc0 + o, pc.co0 + pc.nco - 1);
                    float wv = wt[((pc.ci0 + ci) * pc.cout_total + oc) * KK + ky * KW + kx];
                    for (uint p = 0; p < VKS_CONV_PX; p++) acc[o][p] = fma(xv[p], wv, acc[o][p]);
                }
            }
        }
    }
    for (uint o = 0; o < VKS_CONV_OC; o++) {
        uint oc = oc0 + o;
        if (oc >= pc.nco) break;
        float b = (HAS_BIAS != 0 && pc.first != 0) ? bias[pc.co0 + oc] : 0.0;
        for (uint p = 0; p < VKS_CONV_PX; p++) {
            uint ox = ox0 + p;
            if (ox >= pc.ow) break;
            uint idx = oc * pc.out_stride + oy * pc.ow + ox;
            float v = acc[o][p] + b;
            if (pc.first == 0) v += y[idx];
            if (pc.last != 0) v = vks_act(v, ACT);
            y[idx] = v;
        }
    }
}
