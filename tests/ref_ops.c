/* Plain-C reference implementations of the vkstyle engine ops. See ref_ops.h. */
#include "ref_ops.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>

float ref_activate(float x, ref_act_t act)
{
    switch (act) {
    case REF_ACT_RELU:
        return x > 0.0f ? x : 0.0f;
    case REF_ACT_TANH:
        return (float)tanh((double)x);
    case REF_ACT_SIGMOID:
        return (float)(1.0 / (1.0 + exp(-(double)x)));
    case REF_ACT_NONE:
    default:
        return x;
    }
}

/* Map a padded coordinate i (may be < 0 or >= n) back into [0, n) by reflection without
 * repeating the edge (PyTorch ReflectionPad2d). Valid for pad < n; reflects repeatedly beyond. */
static int reflect_index(int i, int n)
{
    if (n <= 1)
        return 0;
    while (i < 0 || i >= n) {
        if (i < 0)
            i = -i;
        if (i >= n)
            i = 2 * (n - 1) - i;
    }
    return i;
}

void ref_conv2d(const float *in, int n, int cin, int h, int w, const float *wt, const float *bias,
                int cout, int kh, int kw, int stride, int pt, int pb, int pl, int pr, int pad_mode,
                ref_act_t act, float *out)
{
    ref_conv2d_ex(in, n, cin, h, w, wt, bias, cout, kh, kw, stride, stride, pt, pb, pl, pr, pad_mode, act, out);
}

void ref_conv2d_ex(const float *in, int n, int cin, int h, int w, const float *wt, const float *bias, int cout,
                   int kh, int kw, int sh, int sw, int pt, int pb, int pl, int pr, int pad_mode, ref_act_t act,
                   float *out)
{
    const int oh = (h + pt + pb - kh) / sh + 1;
    const int ow = (w + pl + pr - kw) / sw + 1;
    const int reflect = pad_mode == 1, edge = pad_mode == 2;
    for (int b = 0; b < n; b++) {
        for (int co = 0; co < cout; co++) {
            for (int oy = 0; oy < oh; oy++) {
                for (int ox = 0; ox < ow; ox++) {
                    double acc = bias ? (double)bias[co] : 0.0;
                    for (int ci = 0; ci < cin; ci++) {
                        const float *plane = in + ((size_t)b * cin + ci) * h * w;
                        const float *k = wt + ((size_t)co * cin + ci) * kh * kw;
                        for (int ky = 0; ky < kh; ky++) {
                            int iy = oy * sh + ky - pt;
                            if (reflect)
                                iy = reflect_index(iy, h);
                            else if (edge)
                                iy = iy < 0 ? 0 : iy >= h ? h - 1 : iy;
                            else if (iy < 0 || iy >= h)
                                continue;
                            for (int kx = 0; kx < kw; kx++) {
                                int ix = ox * sw + kx - pl;
                                if (reflect)
                                    ix = reflect_index(ix, w);
                                else if (edge)
                                    ix = ix < 0 ? 0 : ix >= w ? w - 1 : ix;
                                else if (ix < 0 || ix >= w)
                                    continue;
                                acc += (double)plane[(size_t)iy * w + ix] * (double)k[ky * kw + kx];
                            }
                        }
                    }
                    out[(((size_t)b * cout + co) * oh + oy) * ow + ox] = ref_activate((float)acc, act);
                }
            }
        }
    }
}

void ref_same_padding(int in, int k, int stride, int *before, int *after)
{
    const int out = (in + stride - 1) / stride;
    int total = (out - 1) * stride + k - in;
    if (total < 0)
        total = 0;
    *before = total / 2;
    *after = total - *before;
}

void ref_conv2d_transpose(const float *in, int n, int cin, int h, int w, const float *wt, const float *bias,
                          int cout, int kh, int kw, int stride, int pad, ref_act_t act, float *out)
{
    const int oh = stride * h, ow = stride * w;
    /* Gather form of out[stride*i + k - pad] += in[i] * w[k]: for each output position o and tap
     * k, the contributing input is i = (o + pad - k) / stride when that divides exactly. */
    for (int b = 0; b < n; b++) {
        for (int co = 0; co < cout; co++) {
            for (int oy = 0; oy < oh; oy++) {
                for (int ox = 0; ox < ow; ox++) {
                    double acc = 0.0;
                    for (int ci = 0; ci < cin; ci++) {
                        const float *plane = in + ((size_t)b * cin + ci) * h * w;
                        const float *k = wt + ((size_t)ci * cout + co) * kh * kw;
                        for (int ky = 0; ky < kh; ky++) {
                            const int ty = oy + pad - ky;
                            if (ty < 0 || ty % stride != 0 || ty / stride >= h)
                                continue;
                            const int iy = ty / stride;
                            for (int kx = 0; kx < kw; kx++) {
                                const int tx = ox + pad - kx;
                                if (tx < 0 || tx % stride != 0 || tx / stride >= w)
                                    continue;
                                const int ix = tx / stride;
                                acc += (double)plane[(size_t)iy * w + ix] * (double)k[ky * kw + kx];
                            }
                        }
                    }
                    if (bias)
                        acc += (double)bias[co];
                    out[(((size_t)b * cout + co) * oh + oy) * ow + ox] = ref_activate((float)acc, act);
                }
            }
        }
    }
}

void ref_conv2d_transpose_ex(const float *in, int n, int cin, int h, int w, const float *wt, const float *bias,
                             int cout, int kh, int kw, int sh, int sw, int pt, int pb, int pl, int pr, int oph,
                             int opw, ref_act_t act, float *out)
{
    const int oh = (h - 1) * sh + kh - pt - pb + oph, ow = (w - 1) * sw + kw - pl - pr + opw;
    const size_t plane = (size_t)oh * ow;
    double *acc = calloc(plane, sizeof *acc);
    if (!acc) abort();
    for (int b = 0; b < n; b++)
        for (int co = 0; co < cout; co++) {
            for (size_t i = 0; i < plane; i++) acc[i] = bias ? (double)bias[co] : 0.0;
            for (int ci = 0; ci < cin; ci++) {
                const float *x = in + ((size_t)b * cin + ci) * h * w;
                const float *k = wt + ((size_t)ci * cout + co) * kh * kw;
                for (int iy = 0; iy < h; iy++)
                    for (int ix = 0; ix < w; ix++)
                        for (int ky = 0; ky < kh; ky++) {
                            const int oy = sh * iy + ky - pt;
                            if (oy < 0 || oy >= oh) continue;
                            for (int kx = 0; kx < kw; kx++) {
                                const int ox = sw * ix + kx - pl;
                                if (ox < 0 || ox >= ow) continue;
                                acc[(size_t)oy * ow + ox] += (double)x[(size_t)iy * w + ix] * (double)k[ky * kw + kx];
                            }
                        }
            }
            float *o = out + ((size_t)b * cout + co) * plane;
            for (size_t i = 0; i < plane; i++) o[i] = ref_activate((float)acc[i], act);
        }
    free(acc);
}

/* The source index of padded position i of an axis of n (-1: outside, zero mode). */
static int pad_source(int i, int n, int mode)
{
    if (i >= 0 && i < n) return i;
    if (mode == 0) return -1;
    if (mode == 2) return i < 0 ? 0 : n - 1;
    return i < 0 ? -i : 2 * (n - 1) - i;   /* reflection about the edge pixel */
}

void ref_pad(const float *in, int n, int c, int h, int w, int pt, int pb, int pl, int pr, int mode, float value,
             float *out)
{
    const int oh = h + pt + pb, ow = w + pl + pr;
    for (size_t p = 0; p < (size_t)n * c; p++)
        for (int y = 0; y < oh; y++)
            for (int x = 0; x < ow; x++) {
                const int sy = pad_source(y - pt, h, mode), sx = pad_source(x - pl, w, mode);
                out[(p * oh + y) * ow + x] = sy < 0 || sx < 0 ? value : in[(p * h + sy) * w + sx];
            }
}

void ref_upsample_nearest(const float *in, int n, int c, int h, int w, int sh, int sw, float *out)
{
    const int oh = sh * h, ow = sw * w;
    for (size_t p = 0; p < (size_t)n * c; p++)
        for (int y = 0; y < oh; y++)
            for (int x = 0; x < ow; x++) out[(p * oh + y) * ow + x] = in[(p * h + y / sh) * w + x / sw];
}

void ref_upsample_nearest2(const float *in, int n, int c, int h, int w, float *out)
{
    const int oh = 2 * h, ow = 2 * w;
    for (size_t p = 0; p < (size_t)n * c; p++) {
        const float *src = in + p * h * w;
        float *dst = out + p * oh * ow;
        for (int y = 0; y < oh; y++)
            for (int x = 0; x < ow; x++)
                dst[(size_t)y * ow + x] = src[(size_t)(y / 2) * w + x / 2];
    }
}

void ref_instance_norm(const float *in, int n, int c, int h, int w, const float *gamma, const float *beta,
                       float eps, ref_act_t act, const float *residual, float *out)
{
    const size_t hw = (size_t)h * w;
    for (int b = 0; b < n; b++) {
        for (int ch = 0; ch < c; ch++) {
            const size_t base = ((size_t)b * c + ch) * hw;
            const float *x = in + base;
            double sum = 0.0;
            for (size_t i = 0; i < hw; i++)
                sum += x[i];
            const double mean = sum / (double)hw;
            double sq = 0.0;
            for (size_t i = 0; i < hw; i++) {
                const double d = x[i] - mean;
                sq += d * d;
            }
            const double var = sq / (double)hw;
            const double inv = 1.0 / sqrt(var + (double)eps);
            const double g = gamma ? gamma[ch] : 1.0;
            const double bt = beta ? beta[ch] : 0.0;
            for (size_t i = 0; i < hw; i++) {
                float y = ref_activate((float)(g * ((x[i] - mean) * inv) + bt), act);
                if (residual)
                    y += residual[base + i];
                out[base + i] = y;
            }
        }
    }
}

void ref_channel_stats(const float *in, int n, int c, int h, int w, int row0, int rows, double *out)
{
    const size_t hw = (size_t)h * w, first = (size_t)row0 * w, count = (size_t)rows * w;
    for (int p = 0; p < n * c; p++) {
        const float *x = in + (size_t)p * hw + first;
        double sum = 0.0, sq = 0.0;
        for (size_t i = 0; i < count; i++) sum += x[i];
        const double mean = sum / (double)count;
        for (size_t i = 0; i < count; i++) sq += (x[i] - mean) * (x[i] - mean);
        out[2 * p] = mean;
        out[2 * p + 1] = sq;
    }
}

void ref_instance_norm_given(const float *in, int n, int c, int h, int w, const double *mean, const double *var,
                             const float *gamma, const float *beta, float eps, ref_act_t act, const float *residual,
                             float *out)
{
    const size_t hw = (size_t)h * w;
    for (int b = 0; b < n; b++)
        for (int ch = 0; ch < c; ch++) {
            const size_t p = (size_t)b * c + ch, base = p * hw;
            const double inv = 1.0 / sqrt(var[p] + (double)eps);
            const double g = gamma ? gamma[ch] : 1.0, bt = beta ? beta[ch] : 0.0;
            for (size_t i = 0; i < hw; i++) {
                float y = ref_activate((float)(g * ((in[base + i] - mean[p]) * inv) + bt), act);
                if (residual) y += residual[base + i];
                out[base + i] = y;
            }
        }
}

void ref_cin_mix(const float *gamma, const float *beta, int styles, int c, const float *weights,
                 float *gamma_eff, float *beta_eff)
{
    for (int ch = 0; ch < c; ch++) {
        double g = 0.0, b = 0.0;
        for (int s = 0; s < styles; s++) {
            g += (double)weights[s] * gamma[(size_t)s * c + ch];
            b += (double)weights[s] * beta[(size_t)s * c + ch];
        }
        gamma_eff[ch] = (float)g;
        beta_eff[ch] = (float)b;
    }
}

void ref_conditional_instance_norm(const float *in, int n, int c, int h, int w, const float *gamma, const float *beta,
                                   int styles, const float *weights, float eps, ref_act_t act,
                                   const float *residual, float *out)
{
    float *g = malloc(sizeof(float) * (size_t)(c > 0 ? c : 1));
    float *b = malloc(sizeof(float) * (size_t)(c > 0 ? c : 1));
    if (!g || !b) {
        fprintf(stderr, "ref_conditional_instance_norm: out of memory\n");
        abort();
    }
    ref_cin_mix(gamma, beta, styles, c, weights, g, b);
    ref_instance_norm(in, n, c, h, w, g, b, eps, act, residual, out);
    free(g);
    free(b);
}

void ref_batch_norm(const float *in, int n, int c, int h, int w, const float *mean, const float *var,
                    const float *gamma, const float *beta, float eps, ref_act_t act, const float *residual, float *out)
{
    const size_t hw = (size_t)h * w;
    for (int b = 0; b < n; b++) {
        for (int ch = 0; ch < c; ch++) {
            const size_t base = ((size_t)b * c + ch) * hw;
            const double inv = 1.0 / sqrt((double)var[ch] + (double)eps);
            const double g = gamma ? gamma[ch] : 1.0;
            const double bt = beta ? beta[ch] : 0.0;
            for (size_t i = 0; i < hw; i++) {
                float y = ref_activate((float)(g * (((double)in[base + i] - mean[ch]) * inv) + bt), act);
                if (residual)
                    y += residual[base + i];
                out[base + i] = y;
            }
        }
    }
}

void ref_fold_batch_norm(float *wt, float *bias, int cout, int per_out, const float *mean, const float *var,
                         const float *gamma, const float *beta, float eps)
{
    for (int o = 0; o < cout; o++) {
        const double g = gamma ? gamma[o] : 1.0;
        const double bt = beta ? beta[o] : 0.0;
        const double s = g / sqrt((double)var[o] + (double)eps);
        float *row = wt + (size_t)o * per_out;
        for (int i = 0; i < per_out; i++)
            row[i] = (float)(row[i] * s);
        bias[o] = (float)(((double)bias[o] - mean[o]) * s + bt);
    }
}

void ref_activation(const float *in, size_t count, ref_act_t act, float scale, float offset, float *out)
{
    for (size_t i = 0; i < count; i++)
        out[i] = (float)((double)ref_activate(in[i], act) * scale + offset);
}

void ref_activation_ex(const float *in, size_t count, int act, float p0, float p1, float scale, float offset,
                       float *out)
{
    for (size_t i = 0; i < count; i++) {
        double x = in[i];
        if (act == REF_ACT_LEAKY_RELU) x = x < 0 ? p0 * x : x;
        else if (act == REF_ACT_CLIP) x = x < p0 ? p0 : x > p1 ? p1 : x;
        else x = ref_activate(in[i], (ref_act_t)act);
        out[i] = (float)(x * scale + offset);
    }
}

void ref_add(const float *a, const float *b, size_t count, float *out)
{
    for (size_t i = 0; i < count; i++)
        out[i] = a[i] + b[i];
}

void ref_pack_rgb8(const uint8_t *px, int w, int h, int channels, int bgr, float scale, float offset, float *out)
{
    const size_t hw = (size_t)w * h;
    for (size_t i = 0; i < hw; i++) {
        const uint8_t *p = px + i * channels;
        const uint8_t r = bgr ? p[2] : p[0], g = p[1], b = bgr ? p[0] : p[2];
        out[i] = (float)((double)r * scale + offset);
        out[hw + i] = (float)((double)g * scale + offset);
        out[2 * hw + i] = (float)((double)b * scale + offset);
    }
}

static uint8_t to_u8(float x, float scale, float offset)
{
    const double v = (double)x * scale + offset;
    if (!(v > 0.0)) /* also NaN */
        return 0;
    if (v >= 255.0)
        return 255;
    return (uint8_t)round(v);
}

void ref_unpack_rgb8(const float *in, int th, int tw, int w, int h, int channels, int bgr, float scale, float offset,
                     uint8_t *px)
{
    const size_t plane = (size_t)th * tw;
    for (int y = 0; y < h; y++) {
        for (int x = 0; x < w; x++) {
            const size_t src = (size_t)y * tw + x;
            uint8_t *p = px + ((size_t)y * w + x) * channels;
            const uint8_t r = to_u8(in[src], scale, offset);
            const uint8_t g = to_u8(in[plane + src], scale, offset);
            const uint8_t b = to_u8(in[2 * plane + src], scale, offset);
            p[0] = bgr ? b : r;
            p[1] = g;
            p[2] = bgr ? r : b;
            if (channels == 4)
                p[3] = 255;
        }
    }
}

void ref_fill_random(float *x, size_t count, uint32_t *seed, float lo, float hi)
{
    uint32_t s = *seed ? *seed : 0x9E3779B9u;
    for (size_t i = 0; i < count; i++) {
        s ^= s << 13;
        s ^= s >> 17;
        s ^= s << 5;
        const double u = (double)(s >> 8) / 16777216.0; /* [0, 1) in steps of 2^-24 */
        float v = (float)(lo + (hi - (double)lo) * u);
        if (v >= hi && hi > lo) /* rounding to float can reach hi */
            v = nextafterf(hi, lo);
        x[i] = v;
    }
    *seed = s;
}

size_t ref_compare(const char *label, const float *got, const float *want, size_t count, float atol, float rtol)
{
    enum { MAX_PRINTED = 8 };
    size_t bad = 0, worst = 0;
    double worst_ratio = -1.0;
    if (!label)
        label = "compare";
    for (size_t i = 0; i < count; i++) {
        const float a = got[i], b = want[i];
        int ok;
        double ratio;
        if (isnan(b)) {
            ok = isnan(a) != 0;
            ratio = ok ? 0.0 : INFINITY;
        } else if (isinf(b)) {
            ok = a == b;
            ratio = ok ? 0.0 : INFINITY;
        } else if (!isfinite(a)) {
            ok = 0;
            ratio = INFINITY;
        } else {
            const double diff = fabs((double)a - (double)b);
            const double tol = (double)atol + (double)rtol * fabs((double)b);
            ok = diff <= tol;
            ratio = tol > 0.0 ? diff / tol : (diff > 0.0 ? INFINITY : 0.0);
        }
        if (ok)
            continue;
        if (bad < MAX_PRINTED)
            fprintf(stderr, "%s: mismatch at %zu: got %.9g, want %.9g (|diff| %.3g, atol %g, rtol %g)\n", label, i,
                    (double)a, (double)b, fabs((double)a - (double)b), (double)atol, (double)rtol);
        if (ratio > worst_ratio) {
            worst_ratio = ratio;
            worst = i;
        }
        bad++;
    }
    if (bad)
        fprintf(stderr, "%s: %zu of %zu values mismatch; worst at %zu: got %.9g, want %.9g\n", label, bad, count, worst,
                (double)got[worst], (double)want[worst]);
    return bad;
}

void ref_yuyv_to_rgb(const uint8_t *yuyv, int w, int h, float scale, float offset, float *out)
{
    size_t plane = (size_t)w * h;
    for (size_t p = 0; p < plane; p++) {
        const uint8_t *q = yuyv + (p / 2) * 4;
        double y = 1.164383 * ((p % 2 ? q[2] : q[0]) - 16.0), u = q[1] - 128.0, v = q[3] - 128.0;
        double rgb[3] = {y + 1.596027 * v, y - 0.391762 * u - 0.812968 * v, y + 2.017232 * u};
        for (int c = 0; c < 3; c++) {
            double x = rgb[c] < 0 ? 0 : rgb[c] > 255 ? 255 : rgb[c];
            out[c * plane + p] = (float)(x * scale + offset);
        }
    }
}

void ref_stab_grey(const float *in, int h, int w, int factor, float inv_scale, float *out)
{
    const size_t hw = (size_t)h * w;
    int oh = (h + factor - 1) / factor, ow = (w + factor - 1) / factor;
    for (int oy = 0; oy < oh; oy++)
        for (int ox = 0; ox < ow; ox++) {
            double s = 0.0;
            int n = 0;
            for (int y = oy * factor; y < h && y < (oy + 1) * factor; y++)
                for (int x = ox * factor; x < w && x < (ox + 1) * factor; x++) {
                    size_t j = (size_t)y * w + x;
                    double l = (0.299 * in[j] + 0.587 * in[hw + j] + 0.114 * in[2 * hw + j]) * inv_scale;
                    s += l < -10000.0 ? -10000.0 : l > 10000.0 ? 10000.0 : l;
                    n++;
                }
            out[(size_t)oy * ow + ox] = (float)(s / n);
        }
}

static int clampi(int v, int lo, int hi) { return v < lo ? lo : v > hi ? hi : v; }

static double bilinear(const float *plane, int h, int w, double x, double y)
{
    x = x < 0 ? 0 : x > w - 1 ? w - 1 : x;
    y = y < 0 ? 0 : y > h - 1 ? h - 1 : y;
    int x0 = (int)x, y0 = (int)y, x1 = x0 + 1 < w ? x0 + 1 : w - 1, y1 = y0 + 1 < h ? y0 + 1 : h - 1;
    double a = x - x0, b = y - y0;
    double top = plane[(size_t)y0 * w + x0] + a * (plane[(size_t)y0 * w + x1] - plane[(size_t)y0 * w + x0]);
    double bot = plane[(size_t)y1 * w + x0] + a * (plane[(size_t)y1 * w + x1] - plane[(size_t)y1 * w + x0]);
    return top + b * (bot - top);
}

static double flow_cost(const float *cur, const float *prev, int h, int w, int px, int py, int dx, int dy, int win,
                        float penalty, float trunc, double sx, double sy)
{
    double s = 0.0;
    for (int v = -win; v <= win; v++)
        for (int u = -win; u <= win; u++) {
            double d = fabs((double)cur[(size_t)clampi(py + v, 0, h - 1) * w + clampi(px + u, 0, w - 1)] -
                            (double)prev[(size_t)clampi(py + v + dy, 0, h - 1) * w + clampi(px + u + dx, 0, w - 1)]);
            s += d < trunc ? d : trunc;
        }
    return s / ((2 * win + 1) * (2 * win + 1)) + penalty * (fabs(dx - sx) + fabs(dy - sy));
}

void ref_stab_flow(const float *cur, const float *prev, int h, int w, const float *coarse, int search, int win,
                   float penalty, float trunc, float maxflow, float still, float reg, float dead, float *flow,
                   float *margin)
{
    const size_t hw = (size_t)h * w;
    const int ch = (h + 1) / 2, cw = (w + 1) / 2, wn = 2 * win + 1;
    for (int py = 0; py < h; py++)
        for (int px = 0; px < w; px++) {
            double sx = 0, sy = 0;
            if (coarse) {
                double cx = 0.5 * px - 0.25, cy = 0.5 * py - 0.25;
                sx = 2.0 * bilinear(coarse, ch, cw, cx, cy);
                sy = 2.0 * bilinear(coarse + (size_t)ch * cw, ch, cw, cx, cy);
            }
            int bx = (int)lround(sx), by = (int)lround(sy), best_x = bx, best_y = by;
            double jb = flow_cost(cur, prev, h, w, px, py, bx, by, win, penalty, trunc, sx, sy), second = INFINITY;
            for (int dy = -search; dy <= search; dy++)
                for (int dx = -search; dx <= search; dx++) {
                    if (!dx && !dy) continue;
                    double j = flow_cost(cur, prev, h, w, px, py, bx + dx, by + dy, win, penalty, trunc, sx, sy);
                    if (j < jb) {
                        second = jb;
                        jb = j;
                        best_x = bx + dx;
                        best_y = by + dy;
                    } else if (j < second) {
                        second = j;
                    }
                }
            double data = jb - penalty * (fabs(best_x - sx) + fabs(best_y - sy));
            double zero = flow_cost(cur, prev, h, w, px, py, 0, 0, win, penalty, trunc, 0, 0);
            /* d: the best, or no motion where it matches about as well (valid: its sums are known,
             * inside the search around the start) */
            int d_x = best_x, d_y = best_y, valid = 1;
            if (zero <= data + still) {
                d_x = d_y = 0;
                valid = abs(bx) <= search && abs(by) <= search;
            }
            /* one Lucas-Kanade step from d, the current window's gradients (central differences
             * inside it, one-sided at its edges) */
            double a11 = reg, a12 = 0, a22 = reg, b1 = 0, b2 = 0;
#define CUR(u, v) (double)cur[(size_t)clampi(py + (v) - win, 0, h - 1) * w + clampi(px + (u) - win, 0, w - 1)]
            for (int v = 0; v < wn; v++)
                for (int u = 0; u < wn; u++) {
                    int ul = u > 0 ? u - 1 : 0, ur = u + 1 < wn ? u + 1 : wn - 1;
                    int vu = v > 0 ? v - 1 : 0, vd = v + 1 < wn ? v + 1 : wn - 1;
                    double gx = ur > ul ? (CUR(ur, v) - CUR(ul, v)) / (ur - ul) : 0.0;
                    double gy = vd > vu ? (CUR(u, vd) - CUR(u, vu)) / (vd - vu) : 0.0;
                    size_t pi = (size_t)clampi(py + v - win + d_y, 0, h - 1) * w + clampi(px + u - win + d_x, 0, w - 1);
                    double r = (double)prev[pi] - CUR(u, v);
                    a11 += gx * gx;
                    a12 += gx * gy;
                    a22 += gy * gy;
                    b1 += gx * r;
                    b2 += gy * r;
                }
#undef CUR
            double det = a11 * a22 - a12 * a12, ex = 0, ey = 0;
            if (valid && det > 0) {
                ex = -(a22 * b1 - a12 * b2) / det;
                ey = -(a11 * b2 - a12 * b1) / det;
                ex = ex < -1 ? -1 : ex > 1 ? 1 : ex;
                ey = ey < -1 ? -1 : ey > 1 ? 1 : ey;
            }
            double len = sqrt(ex * ex + ey * ey);
            if (!d_x && !d_y && len < dead) ex = ey = 0;
            double fx = d_x + ex, fy = d_y + ey;
            if (!(fabs(fx) <= maxflow && fabs(fy) <= maxflow)) fx = fy = 0;
            size_t i = (size_t)py * w + px;
            flow[i] = (float)fx;
            flow[hw + i] = (float)fy;
            /* a near-tie of the still test or of the dead zone may go either way too */
            int tie = fabs(zero - (data + still)) < 1e-3 || (!d_x && !d_y && fabs(len - dead) < 1e-3);
            if (margin) margin[i] = tie ? 0.0f : (float)(second - jb);
        }
}

void ref_stab_motion(const float *in, const float *prev, const float *flow, int h, int w, float inv_scale,
                     float *diff)
{
    const size_t hw = (size_t)h * w;
    for (int y = 0; y < h; y++)
        for (int x = 0; x < w; x++) {
            size_t i = (size_t)y * w + x;
            double fx = x + (double)flow[i], fy = y + (double)flow[hw + i];
            if (!(fx >= -0.5 && fx <= w - 0.5 && fy >= -0.5 && fy <= h - 0.5)) {
                diff[i] = 255.0f;
                continue;
            }
            double m = 0.0;
            for (int c = 0; c < 3; c++) {
                double d = fabs((double)in[c * hw + i] - bilinear(prev + c * hw, h, w, fx, fy));
                if (d > m) m = d;
            }
            m *= inv_scale;
            diff[i] = (float)(m < 1000.0 ? m : 1000.0);
        }
}

void ref_stats_ema(const double *cur, int channels, double count, float alpha, int cut, float *ema)
{
    for (int c = 0; c < channels; c++) {
        double m = cur[2 * c], v = cur[2 * c + 1] / count;
        if (!cut) {
            m = alpha * (double)ema[2 * c] + (1.0 - alpha) * m;
            v = alpha * (double)ema[2 * c + 1] + (1.0 - alpha) * v;
        }
        ema[2 * c] = (float)m;
        ema[2 * c + 1] = (float)v;
    }
}

void ref_stab_blend(float *out, const float *prev, int oh, int ow, const float *diff, const float *flow, int h,
                    int w, int radius, float keep, float lo, float hi, int cut, float tol, float *dev)
{
    const size_t n = (size_t)oh * ow, hw = (size_t)h * w;
    for (int y = 0; y < oh; y++)
        for (int x = 0; x < ow; x++) {
            int cx = x < w ? x : w - 1, cy = y < h ? y : h - 1;
            double s = 0.0;
            int cnt = 0;
            for (int v = cy - radius; v <= cy + radius; v++)
                for (int u = cx - radius; u <= cx + radius; u++)
                    if (v >= 0 && v < h && u >= 0 && u < w) {
                        s += diff[(size_t)v * w + u];
                        cnt++;
                    }
            double t = (s / cnt - lo) / (hi - lo);
            t = t < 0 ? 0 : t > 1 ? 1 : t;
            double k = cut ? 0.0 : keep * (1.0 - t * t * (3.0 - 2.0 * t));
            for (int c = 0; dev && c < 3; c++) dev[c * n + (size_t)y * ow + x] = 0.0f;
            if (!(k > 0)) continue;
            size_t j = (size_t)cy * w + cx;
            double fx = x + (double)flow[j], fy = y + (double)flow[hw + j];
            for (int c = 0; c < 3; c++) {
                size_t i = c * n + (size_t)y * ow + x;
                double o = out[i] + k * (bilinear(prev + c * n, oh, ow, fx, fy) - out[i]);
                if (o > out[i] + (double)tol) o = out[i] + (double)tol;
                if (o < out[i] - (double)tol) o = out[i] - (double)tol;
                if (dev) dev[i] = (float)(o - out[i]);
                out[i] = (float)o;
            }
        }
}

void ref_stab_limit(float *out, const float *dev, int n, float limit)
{
    double ms = 0.0;
    for (size_t i = 0; i < 3 * (size_t)n; i++) ms += (double)dev[i] * dev[i];
    double r = sqrt(ms / (3.0 * n));
    if (!(r > limit)) return;
    for (size_t i = 0; i < 3 * (size_t)n; i++) out[i] = (float)(out[i] - dev[i] * (1.0 - limit / r));
}
