#version 450
#extension GL_GOOGLE_include_directive : require
// Direct 2-D convolution, NCHW, one sample. Each invocation computes VKS_CONV_OC output
// channels x VKS_CONV_PX consecutive output pixels of one row (register tile).
// Input channels may come in chunks (split-K): the first chunk adds the bias, later chunks
// accumulate into the output, the last applies the activation.
#include "common.glsl"

layout(local_size_x = VKS_CONV_LOCAL_X, local_size_y = VKS_CONV_LOCAL_Y, local_size_z = 1) in;

layout(constant_id = 0) const uint KH = 3;
layout(constant_id = 1) const uint KW = 3;
layout(constant_id = 2) const uint STRIDE = 1;
layout(constant_id = 3) const uint REFLECT = 0;   // 1: reflection padding, 0: zeros
layout(constant_id = 4) const uint ACT = 0;
layout(constant_id = 5) const uint HAS_BIAS = 0;

layout(std430, binding = 0) readonly buffer In { float x[]; };
layout(std430, binding = 1) readonly buffer Wt { float wt[]; };   // [cout][cin][kh][kw]
layout(std430, binding = 2) readonly buffer Bias { float bias[]; };
layout(std430, binding = 3) buffer Out { float y[]; };

layout(push_constant) uniform Push {
    uint h, w, in_stride;       // input plane size and plane stride (floats)
    uint oh, ow, out_stride;
    uint cin_total;             // input channels of the whole layer (weight row length / KK)
    uint ci0, nci;              // this chunk: input channels [ci0, ci0 + nci), bound from ci0
    uint co0, nco;              // this chunk: output channels [co0, co0 + nco), bound from co0
    int pad_top, pad_left;
    uint first, last;           // first / last input chunk
} pc;

float load_x(uint ci, int iy, int ix)
{
    if (REFLECT != 0) {
        iy = iy < 0 ? -iy : (iy >= int(pc.h) ? 2 * int(pc.h) - 2 - iy : iy);
        ix = ix < 0 ? -ix : (ix >= int(pc.w) ? 2 * int(pc.w) - 2 - ix : ix);
    } else if (iy < 0 || ix < 0 || iy >= int(pc.h) || ix >= int(pc.w)) {
        return 0.0;
    }
    return x[ci * pc.in_stride + uint(iy) * pc.w + uint(ix)];
}

void main()
{
    uint ox0 = gl_GlobalInvocationID.x * VKS_CONV_PX;
    uint oy = gl_GlobalInvocationID.y;
    uint oc0 = gl_GlobalInvocationID.z * VKS_CONV_OC;   // relative to co0
    if (ox0 >= pc.ow || oy >= pc.oh || oc0 >= pc.nco) return;

    float acc[VKS_CONV_OC][VKS_CONV_PX];
    for (uint o = 0; o < VKS_CONV_OC; o++)
        for (uint p = 0; p < VKS_CONV_PX; p++) acc[o][p] = 0.0;

    const uint KK = KH * KW;
    int iy0 = int(oy * STRIDE) - pc.pad_top;
    for (uint ci = 0; ci < pc.nci; ci++) {
        uint wrow = (pc.ci0 + ci) * KK;
        for (uint ky = 0; ky < KH; ky++) {
            int iy = iy0 + int(ky);
            for (uint kx = 0; kx < KW; kx++) {
                float xv[VKS_CONV_PX];
                for (uint p = 0; p < VKS_CONV_PX; p++)
                    xv[p] = load_x(ci, iy, int((ox0 + p) * STRIDE + kx) - pc.pad_left);
                for (uint o = 0; o < VKS_CONV_OC; o++) {
                    uint oc = min(pc.co0 + oc0 + o, pc.co0 + pc.nco - 1);
                    float wv = wt[oc * pc.cin_total * KK + wrow + ky * KW + kx];
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
