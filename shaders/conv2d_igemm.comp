#version 450
#extension GL_GOOGLE_include_directive : require
// vks:variant conv2d_igemm_f16 VKS_F16
// vks:wg-base
// Implicit-GEMM convolution (engine/ops/conv2d_igemm.c), for GPUs: the convolution as the GEMM
//   Y[co][n] = sum over k of W[co][k] * X[k][n],
// n an output pixel, k an (input channel, kernel tap) pair, X never stored (the im2col matrix is
// read from the input as its tiles are needed). A workgroup computes BM output channels x BN
// pixels: for each BK-deep slice of k it stages W's BM x BK and X's BK x BN tiles in shared memory
// (every element loaded once, by neighbouring invocations from neighbouring addresses), then each
// invocation accumulates its TM x TN register tile from them. No assumption about the subgroup
// size. The same input-channel chunks (split-K) as conv2d.comp: the first adds the bias, later
// ones accumulate into the output, the last applies the activation.
// TRANSPOSED: the transposed convolution, by its stride phases. Output pixels (oy, ox) with
// oy % SY = ry, ox % S = rx (this dispatch's phase, push constants) take exactly the taps
// ky = ky0 + SY ty, kx = kx0 + S tx, from input row i + dy - ty and column j + dx - tx
// (oy = ry + SY i, ox = rx + S j): an ordinary convolution over the input with a smaller kernel,
// no multiply by a zero that a stride inserted.
// conv2d_igemm_f16: activations stored in float16 (common.glsl); the tiles and the arithmetic fp32.
#include "common.glsl"

layout(local_size_x_id = 13, local_size_y = 1, local_size_z = 1) in;   // BM x BN / (TM x TN)

layout(constant_id = 0) const uint KH = 3;
layout(constant_id = 1) const uint KW = 3;
layout(constant_id = 2) const uint STRIDE = 1;     // horizontal
layout(constant_id = 3) const uint STRIDE_Y = 1;   // vertical
layout(constant_id = 4) const uint PAD_MODE = 0;   // 0: zeros, 1: reflection, 2: the edge repeated
layout(constant_id = 5) const uint ACT = 0;
layout(constant_id = 6) const uint HAS_BIAS = 0;
layout(constant_id = 7) const uint TRANSPOSED = 0;
layout(constant_id = 8) const uint BM = 64;        // output channels a workgroup
layout(constant_id = 9) const uint BN = 64;        // output pixels a workgroup
layout(constant_id = 10) const uint BK = 16;       // k a shared-memory stage
layout(constant_id = 11) const uint TM = 4;        // output channels an invocation
layout(constant_id = 12) const uint TN = 4;        // output pixels an invocation
// The host keeps NT (the invocations) a multiple of BN and of BK, so each invocation loads the
// same pixel column of X and the same k column of W at every stage.
const uint NT = BM * BN / (TM * TN);
const uint KK = KH * KW;

layout(std430, binding = 0) readonly buffer In { vtype x[]; };
layout(std430, binding = 1) readonly buffer Wt { float wt[]; };
layout(std430, binding = 2) readonly buffer Bias { float bias[]; };
layout(std430, binding = 3) buffer Out { vtype y[]; };

layout(push_constant) uniform Push {
    uint h, w, in_stride;       // input plane size and plane stride (elements)
    uint oh, ow, out_stride;
    uint cin_total;             // input channels of the whole layer (weight row length / KK)
    uint ci0, nci;              // this chunk: input channels [ci0, ci0 + nci), bound from ci0
    uint co0, nco;              // this chunk: output channels [co0, co0 + nco), bound from co0
    int pad_top, pad_left;
    uint first, last;           // first / last input chunk
    uint wofs;                  // element of the bound weights where output channel co0 starts
    uint cpb, oy0;              // conv2d.comp's (the push block is the convolutions' one, vks_conv_push_t)
    int xbase;
    uint ry, rx;                // TRANSPOSED: the stride phase
    VKS_WG_BASE;
} pc;

const uint SWS = BM + 1;     // sw's row stride: the staging stores (k across neighbouring invocations) hit distinct banks
shared float sw[BK * SWS];  // [k][m]
shared float sx[BK * BN];   // [k][n]

int fold(int i, int n, out float valid)
{
    if (PAD_MODE == 1) {
        valid = 1.0;
        i = abs(i);
        return min(i, 2 * n - 2 - i);
    }
    if (PAD_MODE == 2) {
        valid = 1.0;
        return clamp(i, 0, n - 1);
    }
    valid = float(i >= 0 && i < n);
    return clamp(i, 0, n - 1);
}

void main()
{
    const uint tid = gl_LocalInvocationID.x;
    const uint n0 = VKS_WG_ID.x * BN, m0 = VKS_WG_ID.z * BM;   // m relative to co0

    // This dispatch's output grid: the whole output, or one stride phase of it, and its taps.
    uint gh = pc.oh, gw = pc.ow, ky0 = 0, kx0 = 0, nty = KH, ntx = KW;
    int dy = 0, dx = 0;
    if (TRANSPOSED != 0) {
        gh = pc.ry < pc.oh ? (pc.oh - pc.ry + STRIDE_Y - 1) / STRIDE_Y : 0;
        gw = pc.rx < pc.ow ? (pc.ow - pc.rx + STRIDE - 1) / STRIDE : 0;
        ky0 = (pc.ry + uint(pc.pad_top)) % STRIDE_Y;
        kx0 = (pc.rx + uint(pc.pad_left)) % STRIDE;
        nty = ky0 < KH ? (KH - ky0 + STRIDE_Y - 1) / STRIDE_Y : 0;
        ntx = kx0 < KW ? (KW - kx0 + STRIDE - 1) / STRIDE : 0;
        dy = int((pc.ry + uint(pc.pad_top) - ky0) / STRIDE_Y);
        dx = int((pc.rx + uint(pc.pad_left) - kx0) / STRIDE);
    }
    const uint npix = gh * gw, taps = nty * ntx, K = pc.nci * taps;
    if (n0 >= npix || m0 >= pc.nco) return;   // workgroup-uniform

    // The X column this invocation stages: pixel n0 + xn, k rows xk0, xk0 + NT / BN, ...
    const uint xn = tid % BN, xk0 = tid / BN;
    const uint pn = n0 + xn;
    const bool pvalid = pn < npix;
    const int pi = int(pvalid ? pn / gw : 0), pj = int(pvalid ? pn % gw : 0);
    // The W column: k xwk, output channels xwm0, xwm0 + NT / BK, ...
    const uint xwk = tid % BK, xwm0 = tid / BK;
    const uint wrow = pc.cin_total * KK;

    // The register tile: channels tm + a BM / TM, pixels tn + b BN / TN.
    const uint tm = tid / (BN / TN), tn = tid % (BN / TN);
    float acc[TM][TN];
    for (uint a = 0; a < TM; a++)
        for (uint b = 0; b < TN; b++) acc[a][b] = 0.0;

    for (uint k0 = 0; k0 < K; k0 += BK) {
        for (uint r = xwm0; r < BM; r += NT / BK) {
            uint k = k0 + xwk, m = m0 + r;
            float v = 0.0;
            if (k < K && m < pc.nco) {
                uint wi;
                if (TRANSPOSED != 0) {
                    uint ci = k / taps, t = k % taps;
                    wi = (pc.ci0 + ci) * KK + (ky0 + t / ntx * STRIDE_Y) * KW + kx0 + t % ntx * STRIDE;
                } else {
                    wi = pc.ci0 * KK + k;
                }
                v = wt[pc.wofs + m * wrow + wi];
            }
            sw[xwk * SWS + r] = v;
        }
        for (uint r = xk0; r < BK; r += NT / BN) {
            uint k = k0 + r;
            float v = 0.0;
            if (k < K && pvalid) {
                uint ci = k / taps, t = k % taps;
                int iy, ix;
                float valid;
                if (TRANSPOSED != 0) {
                    iy = pi + dy - int(t / ntx);
                    ix = pj + dx - int(t % ntx);
                    valid = float(iy >= 0 && iy < int(pc.h) && ix >= 0 && ix < int(pc.w));
                    iy = clamp(iy, 0, int(pc.h) - 1);
                    ix = clamp(ix, 0, int(pc.w) - 1);
                } else {
                    float vy, vx;
                    iy = fold(pi * int(STRIDE_Y) + int(t / KW) - pc.pad_top, int(pc.h), vy);
                    ix = fold(pj * int(STRIDE) + int(t % KW) - pc.pad_left, int(pc.w), vx);
                    valid = vy * vx;
                }
                v = float(x[ci * pc.in_stride + uint(iy) * pc.w + uint(ix)]) * valid;
            }
            sx[r * BN + xn] = v;
        }
        barrier();
        for (uint kk = 0; kk < BK; kk++) {
            float xv[TN];
            for (uint b = 0; b < TN; b++) xv[b] = sx[kk * BN + tn + b * (BN / TN)];
            for (uint a = 0; a < TM; a++) {
                float wv = sw[kk * SWS + tm + a * (BM / TM)];
                for (uint b = 0; b < TN; b++) acc[a][b] = fma(wv, xv[b], acc[a][b]);
            }
        }
        barrier();
    }

    for (uint a = 0; a < TM; a++) {
        uint m = m0 + tm + a * (BM / TM);
        if (m >= pc.nco) break;
        float bv = (HAS_BIAS != 0 && pc.first != 0) ? bias[pc.co0 + m] : 0.0;
        for (uint b = 0; b < TN; b++) {
            uint n = n0 + tn + b * (BN / TN);
            if (n >= npix) break;
            uint oy = n / gw, ox = n % gw;
            if (TRANSPOSED != 0) {
                oy = pc.ry + oy * STRIDE_Y;
                ox = pc.rx + ox * STRIDE;
            }
            uint idx = m * pc.out_stride + oy * pc.ow + ox;
            float v = acc[a][b] + bv;
            if (pc.first == 0) v += float(y[idx]);
            if (pc.last != 0) v = vks_act(v, ACT);
            y[idx] = vtype(v);
        }
    }
}
