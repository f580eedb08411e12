/* Plain-C reference implementations of the vkstyle engine ops (see docs/model-format.md).
 *
 * These are the ground truth the GPU shaders are tested against: straightforward loops, sums
 * accumulated in double, no cleverness. Tensors are float32, NCHW, contiguous. Nothing here
 * allocates except ref_conditional_instance_norm (two [c] scratch arrays) and
 * ref_conv2d_transpose_ex (one output plane of doubles); they abort if malloc fails. Pointer arguments documented as "or NULL" may be NULL; all others must be valid.
 */
#ifndef VKSTYLE_TESTS_REF_OPS_H
#define VKSTYLE_TESTS_REF_OPS_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef enum { REF_ACT_NONE, REF_ACT_RELU, REF_ACT_TANH, REF_ACT_SIGMOID } ref_act_t;
/* The standalone activation op's own (ref_activation_ex). */
enum { REF_ACT_LEAKY_RELU = 4, REF_ACT_CLIP = 5 };

/* none: x; relu: max(x, 0); tanh; sigmoid: 1/(1+exp(-x)) (evaluated in double). */
float ref_activate(float x, ref_act_t act);

/* conv2d: in [n,cin,h,w], w [cout,cin,kh,kw], bias [cout] or NULL, padding top/bottom/left/right,
 * pad_mode 0: zeros, 1: reflection padding (PyTorch ReflectionPad2d, pad < side), 2: the edge
 * repeated (ReplicationPad2d). out [n,cout,oh,ow], oh = (h+pt+pb-kh)/stride+1 (floor); ow likewise. */
void ref_conv2d(const float *in, int n, int cin, int h, int w, const float *wt, const float *bias,
                int cout, int kh, int kw, int stride, int pt, int pb, int pl, int pr, int pad_mode,
                ref_act_t act, float *out);
/* ref_conv2d with strides per axis: oh = (h+pt+pb-kh)/sh+1, ow = (w+pl+pr-kw)/sw+1. */
void ref_conv2d_ex(const float *in, int n, int cin, int h, int w, const float *wt, const float *bias, int cout,
                   int kh, int kw, int sh, int sw, int pt, int pb, int pl, int pr, int pad_mode, ref_act_t act,
                   float *out);

/* TensorFlow SAME padding amounts for one axis: out = ceil(in/stride),
 * total = max((out-1)*stride+k-in,0), before = total/2, after = total - before */
void ref_same_padding(int in, int k, int stride, int *before, int *after);

/* transposed conv: w [cin,cout,kh,kw]; out [n,cout,stride*h,stride*w];
 * out[stride*i + ky - pad][...] += in[i]*w[ky], positions outside dropped; then bias, act */
void ref_conv2d_transpose(const float *in, int n, int cin, int h, int w, const float *wt, const float *bias,
                          int cout, int kh, int kw, int stride, int pad, ref_act_t act, float *out);

/* transposed conv, ONNX ConvTranspose / PyTorch ConvTranspose2d: w [cin,cout,kh,kw], strides sh, sw,
 * pads top/bottom/left/right, output padding oph, opw; out [n,cout,oh,ow] with
 * oh = (h-1)*sh + kh - pt - pb + oph (ow likewise): out[sh*i + ky - pt][sw*j + kx - pl] += in[i][j]*w[ky][kx],
 * positions outside dropped (scatter form); then bias, act. */
void ref_conv2d_transpose_ex(const float *in, int n, int cin, int h, int w, const float *wt, const float *bias,
                             int cout, int kh, int kw, int sh, int sw, int pt, int pb, int pl, int pr, int oph,
                             int opw, ref_act_t act, float *out);

/* pad: out [n,c,h+pt+pb,w+pl+pr]; inside out[y][x] = in[y-pt][x-pl]; outside mode 0: value,
 * 1: reflection (no edge repeat; pads < sides), 2: the nearest edge pixel. */
void ref_pad(const float *in, int n, int c, int h, int w, int pt, int pb, int pl, int pr, int mode, float value,
             float *out);

/* nearest-neighbour x2: out [n,c,2h,2w], out[y][x] = in[y/2][x/2] */
void ref_upsample_nearest2(const float *in, int n, int c, int h, int w, float *out);
/* nearest-neighbour by sh, sw: out [n,c,sh*h,sw*w], out[y][x] = in[y/sh][x/sw] */
void ref_upsample_nearest(const float *in, int n, int c, int h, int w, int sh, int sw, float *out);

/* instance norm: per (n,c) over h*w, biased variance,
 * y = act(gamma*(x-mean)/sqrt(var+eps)+beta) (+ residual if not NULL, added after act).
 * gamma/beta [c]; NULL means 1 / 0. */
void ref_instance_norm(const float *in, int n, int c, int h, int w, const float *gamma, const float *beta,
                       float eps, ref_act_t act, const float *residual, float *out);

/* Statistics of rows [row0, row0 + rows) of each (n,c) plane: out[2*(n*c+ch)] = their mean, out[2*(n*c+ch)+1]
 * = the sum of squared deviations from it (M2), in double. */
void ref_channel_stats(const float *in, int n, int c, int h, int w, int row0, int rows, double *out);
/* instance norm with given statistics: mean[n*c+ch], var[n*c+ch] instead of the plane's own. */
void ref_instance_norm_given(const float *in, int n, int c, int h, int w, const double *mean, const double *var,
                             const float *gamma, const float *beta, float eps, ref_act_t act, const float *residual,
                             float *out);

/* Stabilization (engine/stabilize.c). stab_grey: in [3,h,w]; out [ceil(h/f), ceil(w/f)]: the mean over each
 * f x f block (cut at the edge) of clamp((0.299 R + 0.587 G + 0.114 B) * inv_scale, +-10000). */
void ref_stab_grey(const float *in, int h, int w, int factor, float inv_scale, float *out);
/* stab_flow: cur, prev [h,w]; coarse NULL or [2,ceil(h/2),ceil(w/2)]; flow [2,h,w] (shaders/stab_flow.comp).
 * margin[i] (if not NULL): how much worse the second-best integer displacement scored than the best, 0 where
 * the still test (no motion within `still` of the best) or the dead zone (a sub-pixel flow from no motion
 * shorter than `dead`) is a near-tie (a near-tie may go either way on the GPU). */
void ref_stab_flow(const float *cur, const float *prev, int h, int w, const float *coarse, int search, int win,
                   float penalty, float trunc, float maxflow, float still, float reg, float dead, float *flow,
                   float *margin);
/* stab_motion: in, prev [3,h,w], flow [2,h,w]: diff[p] = min(max over channels of |in(p) - prev(p + flow(p))|
 * * inv_scale, 1000), prev bilinear with the position clamped into the frame; 255 where p + flow(p) is more
 * than half a pixel outside it. */
void ref_stab_motion(const float *in, const float *prev, const float *flow, int h, int w, float inv_scale,
                     float *diff);
/* stats_ema: for each channel, (m, v) = (cur[2c], cur[2c+1] / count); ema[2c], ema[2c+1] = cut ? (m, v) :
 * alpha * ema + (1 - alpha) * (m, v). */
void ref_stats_ema(const double *cur, int channels, double count, float alpha, int cut, float *ema);
/* stab_blend: out, prev [3,oh,ow]; diff [h,w]; flow [2,h,w]. For each output pixel (x, y), (x, y) clamped
 * into diff as (cx, cy): m = the mean of diff over the (2r+1)^2 window around it, clipped to the image;
 * k = cut ? 0 : keep * (1 - smoothstep(lo, hi, m)); where k > 0, p = prev sampled bilinearly at (x, y) +
 * flow(cx, cy) (clamped into the output), out = out + k * (p - out), within tol of out. dev (if not NULL,
 * [3,oh,ow]) = the new out - the old. */
void ref_stab_blend(float *out, const float *prev, int oh, int ow, const float *diff, const float *flow, int h,
                    int w, int radius, float keep, float lo, float hi, int cut, float tol, float *dev);
/* stab_limit: out, dev [3,n]: with r the root mean square of dev, where r > limit, out -= dev * (1 - limit / r). */
void ref_stab_limit(float *out, const float *dev, int n, float limit);

/* conditional: gamma/beta [styles, c]; effective gamma = sum_s weights[s]*gamma[s], same for beta */
void ref_cin_mix(const float *gamma, const float *beta, int styles, int c, const float *weights,
                 float *gamma_eff, float *beta_eff);
void ref_conditional_instance_norm(const float *in, int n, int c, int h, int w, const float *gamma, const float *beta,
                                   int styles, const float *weights, float eps, ref_act_t act,
                                   const float *residual, float *out);

/* batch norm inference: y = act(gamma*(x-mean)/sqrt(var+eps)+beta) (+ residual if not NULL).
 * gamma/beta [c]; NULL means 1 / 0. */
void ref_batch_norm(const float *in, int n, int c, int h, int w, const float *mean, const float *var,
                    const float *gamma, const float *beta, float eps, ref_act_t act, const float *residual, float *out);

/* Fold an inference batch norm into the directly preceding conv (one without activation):
 * s = gamma/sqrt(var+eps); wt[o][*] *= s[o]; bias[o] = (bias[o]-mean[o])*s[o] + beta[o].
 * wt [cout, per_out] (per_out = cin*kh*kw), bias [cout] (not NULL: a conv without bias needs a
 * zeroed array from the caller). gamma/beta NULL means 1 / 0. */
void ref_fold_batch_norm(float *wt, float *bias, int cout, int per_out, const float *mean, const float *var,
                         const float *gamma, const float *beta, float eps);

/* y = act(x)*scale + offset */
void ref_activation(const float *in, size_t count, ref_act_t act, float scale, float offset, float *out);

/* y = f(x)*scale + offset with the standalone activation op's own functions: leaky ReLU
 * (x < 0 ? alpha*x : x; act REF_ACT_LEAKY_RELU, p0 alpha) and clip (min(max(x, p0), p1);
 * REF_ACT_CLIP); other acts as ref_activation (p0, p1 unused). */
void ref_activation_ex(const float *in, size_t count, int act, float p0, float p1, float scale, float offset,
                       float *out);

/* out = a + b (out may alias a or b) */
void ref_add(const float *a, const float *b, size_t count, float *out);

/* pack 8-bit interleaved pixels (channels 3 or 4, bgr!=0 means BGR(A) order) into planar RGB float
 * [1,3,h,w]: v*scale+offset (alpha ignored) */
void ref_pack_rgb8(const uint8_t *px, int w, int h, int channels, int bgr, float scale, float offset, float *out);

/* unpack planar [1,3,th,tw] (th>=h, tw>=w) cropped top-left to h x w into interleaved 8-bit
 * (channels 3 or 4; alpha 255): round(clamp(x*scale+offset,0,255)).
 * Rounding is half away from zero (C round(); after the clamp only .5 -> up matters); NaN gives 0. */
void ref_unpack_rgb8(const float *in, int th, int tw, int w, int h, int channels, int bgr, float scale, float offset,
                     uint8_t *px);

/* test utilities */

/* Deterministic uniform values in [lo, hi) from a xorshift32 generator; *seed is advanced
 * (a zero seed is replaced by a fixed non-zero constant). */
void ref_fill_random(float *x, size_t count, uint32_t *seed, float lo, float hi);

/* mixed tolerance compare: ok if |a-b| <= atol + rtol*|b| for all; NaN/Inf in a where b is finite is
 * a failure (where b is NaN, a must be NaN; where b is infinite, a must equal it).
 * returns number of mismatches; on mismatch prints the first few mismatches and a summary line with
 * the count and the worst index (largest error relative to its tolerance) to stderr, prefixed by
 * label. Prints nothing when everything matches. */
size_t ref_compare(const char *label, const float *got, const float *want, size_t count, float atol, float rtol);

/* YUYV 4:2:2 (Y0 U Y1 V; BT.601 limited range; even w) -> planar RGB [1,3,h,w] in 0..255
 * (clamped), then *scale + offset. */
void ref_yuyv_to_rgb(const uint8_t *yuyv, int w, int h, float scale, float offset, float *out);

#ifdef __cplusplus
}
#endif

#endif
