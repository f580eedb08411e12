/* Sanity tests of the reference ops themselves: hand-computed cases and cross-checks against
 * independently written (differently structured) versions. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "half.h"
#include "ref_ops.h"

#define ARRAY_LEN(a) (sizeof(a) / sizeof((a)[0]))

static float *falloc(size_t count)
{
    float *p = calloc(count ? count : 1, sizeof(float));
    assert_non_null(p);
    return p;
}

static void assert_floats(const char *label, const float *got, const float *want, size_t count, float atol, float rtol)
{
    assert_int_equal(ref_compare(label, got, want, count, atol, rtol), 0);
}

/* ------------------------------------------------------------------ activations */

static void test_activate(void **state)
{
    (void)state;
    assert_true(ref_activate(-2.5f, REF_ACT_NONE) == -2.5f);
    assert_true(ref_activate(-2.5f, REF_ACT_RELU) == 0.0f);
    assert_true(ref_activate(3.0f, REF_ACT_RELU) == 3.0f);
    assert_true(ref_activate(0.0f, REF_ACT_TANH) == 0.0f);
    assert_float_equal(ref_activate(1.0f, REF_ACT_TANH), 0.76159416f, 1e-7);
    assert_float_equal(ref_activate(-1.0f, REF_ACT_TANH), -0.76159416f, 1e-7);
    assert_true(ref_activate(0.0f, REF_ACT_SIGMOID) == 0.5f);
    assert_float_equal(ref_activate(2.0f, REF_ACT_SIGMOID), 0.88079708f, 1e-7);
    assert_float_equal(ref_activate(-2.0f, REF_ACT_SIGMOID), 0.11920292f, 1e-7);
    /* saturation, no NaN */
    assert_true(ref_activate(100.0f, REF_ACT_SIGMOID) == 1.0f);
    assert_true(ref_activate(-100.0f, REF_ACT_SIGMOID) >= 0.0f);
    assert_true(ref_activate(-1000.0f, REF_ACT_SIGMOID) == 0.0f);
    assert_true(ref_activate(50.0f, REF_ACT_TANH) == 1.0f);
}

static void test_activation_op(void **state)
{
    (void)state;
    const float in[4] = {-1.0f, 0.0f, 0.5f, 2.0f};
    float out[4];
    ref_activation(in, 4, REF_ACT_RELU, 2.0f, 1.0f, out);
    const float want_relu[4] = {1.0f, 1.0f, 2.0f, 5.0f};
    assert_floats("activation relu", out, want_relu, 4, 0, 0);
    ref_activation(in, 4, REF_ACT_NONE, 150.0f, 127.5f, out);
    const float want_none[4] = {-22.5f, 127.5f, 202.5f, 427.5f};
    assert_floats("activation none", out, want_none, 4, 0, 0);
    ref_activation(in, 4, REF_ACT_TANH, 1.0f, 0.0f, out);
    for (int i = 0; i < 4; i++)
        assert_float_equal(out[i], tanhf(in[i]), 1e-7);
}

static void test_add(void **state)
{
    (void)state;
    float a[3] = {1.0f, -2.0f, 0.25f};
    const float b[3] = {10.0f, 2.0f, 0.5f};
    const float want[3] = {11.0f, 0.0f, 0.75f};
    float out[3];
    ref_add(a, b, 3, out);
    assert_floats("add", out, want, 3, 0, 0);
    ref_add(a, b, 3, a); /* in place */
    assert_floats("add in place", a, want, 3, 0, 0);
}

/* ------------------------------------------------------------------ same padding */

static void test_same_padding(void **state)
{
    (void)state;
    static const struct {
        int in, k, s, before, after;
    } cases[] = {
        {5, 3, 2, 1, 1}, /* out 3, total max(2*2+3-5,0)=2 */
        {4, 3, 2, 0, 1}, /* out 2, total max(1*2+3-4,0)=1 */
        {5, 3, 1, 1, 1}, /* out 5, total 2 */
        {4, 4, 1, 1, 2}, /* out 4, total 3 */
        {3, 2, 1, 0, 1}, /* out 3, total 1 */
        {6, 1, 2, 0, 0}, /* out 3, total max(4+1-6,0)=0 */
        {6, 4, 2, 1, 1}, /* out 3, total 4+4-6=2 */
        {1, 3, 2, 1, 1}, /* out 1, total 0+3-1=2 */
        {7, 9, 1, 4, 4}, /* out 7, total 8 */
        {256, 9, 1, 4, 4},
        {256, 3, 2, 0, 1}, /* out 128, total 254+3-256=1 */
        {255, 3, 2, 1, 1}, /* out 128, total 254+3-255=2 */
        {2, 1, 4, 0, 0},   /* out 1, total max(0+1-2,0)=0 */
    };
    for (size_t i = 0; i < ARRAY_LEN(cases); i++) {
        int b = -1, a = -1;
        ref_same_padding(cases[i].in, cases[i].k, cases[i].s, &b, &a);
        if (b != cases[i].before || a != cases[i].after)
            fail_msg("same padding (in %d, k %d, s %d): got (%d,%d), want (%d,%d)", cases[i].in, cases[i].k,
                     cases[i].s, b, a, cases[i].before, cases[i].after);
        /* the padded size then gives out = ceil(in/s) */
        const int out = (cases[i].in + b + a - cases[i].k) / cases[i].s + 1;
        assert_int_equal(out, (cases[i].in + cases[i].s - 1) / cases[i].s);
    }
}

/* ------------------------------------------------------------------ conv2d */

static void test_conv_1x1_is_matmul(void **state)
{
    (void)state;
    /* in [1,2,2,2]: channel 0 = 1 2 / 3 4, channel 1 = 5 6 / 7 8 */
    const float in[8] = {1, 2, 3, 4, 5, 6, 7, 8};
    /* w [3,2,1,1] */
    const float wt[6] = {1, 0, /* out0 = c0 */
                         1, 1, /* out1 = c0 + c1 */
                         2, -1 /* out2 = 2 c0 - c1 */};
    const float bias[3] = {0.5f, 0.0f, -1.0f};
    const float want[12] = {
        1.5f, 2.5f, 3.5f, 4.5f,  /* c0 + 0.5 */
        6, 8, 10, 12,            /* c0 + c1 */
        -4, -3, -2, -1,          /* 2 c0 - c1 - 1: 2-5-1, 4-6-1, 6-7-1, 8-8-1 */
    };
    float out[12];
    ref_conv2d(in, 1, 2, 2, 2, wt, bias, 3, 1, 1, 1, 0, 0, 0, 0, 0, REF_ACT_NONE, out);
    assert_floats("conv 1x1 hand", out, want, 12, 0, 0);

    /* random: compare with a per-pixel matrix-vector product, batch 2, relu */
    enum { N = 2, CI = 5, CO = 7, H = 3, W = 4 };
    uint32_t seed = 1;
    float *x = falloc(N * CI * H * W), *k = falloc(CO * CI), *b = falloc(CO);
    float *got = falloc(N * CO * H * W), *ref = falloc(N * CO * H * W);
    ref_fill_random(x, N * CI * H * W, &seed, -1, 1);
    ref_fill_random(k, CO * CI, &seed, -1, 1);
    ref_fill_random(b, CO, &seed, -1, 1);
    ref_conv2d(x, N, CI, H, W, k, b, CO, 1, 1, 1, 0, 0, 0, 0, 0, REF_ACT_RELU, got);
    for (int nn = 0; nn < N; nn++)
        for (int p = 0; p < H * W; p++)
            for (int o = 0; o < CO; o++) {
                double acc = b[o];
                for (int i = 0; i < CI; i++)
                    acc += (double)k[o * CI + i] * x[(nn * CI + i) * H * W + p];
                ref[(nn * CO + o) * H * W + p] = acc > 0 ? (float)acc : 0.0f;
            }
    assert_floats("conv 1x1 matmul", got, ref, N * CO * H * W, 1e-6f, 1e-6f);
    free(x), free(k), free(b), free(got), free(ref);
}

static void test_conv_identity_kernel(void **state)
{
    (void)state;
    enum { N = 2, C = 3, H = 5, W = 4 };
    uint32_t seed = 7;
    float *x = falloc(N * C * H * W), *out = falloc(N * C * H * W);
    float wt[C * C * 9];
    memset(wt, 0, sizeof wt);
    for (int c = 0; c < C; c++)
        wt[(c * C + c) * 9 + 4] = 1.0f; /* centre tap, channel c -> c */
    ref_fill_random(x, N * C * H * W, &seed, -3, 3);
    for (int reflect = 0; reflect <= 1; reflect++) {
        memset(out, 0, sizeof(float) * N * C * H * W);
        ref_conv2d(x, N, C, H, W, wt, NULL, C, 3, 3, 1, 1, 1, 1, 1, reflect, REF_ACT_NONE, out);
        assert_floats(reflect ? "identity reflect" : "identity zero", out, x, N * C * H * W, 0, 0);
    }
    free(x), free(out);
}

/* A 3x3 kernel with only the top-left tap set reads the padded input at (y-1, x-1). */
static void test_conv_border_zero_vs_reflect(void **state)
{
    (void)state;
    const float in[9] = {1, 2, 3, 4, 5, 6, 7, 8, 9};
    float tl[9] = {0};
    tl[0] = 1.0f;
    float out[9];
    ref_conv2d(in, 1, 1, 3, 3, tl, NULL, 1, 3, 3, 1, 1, 1, 1, 1, 0, REF_ACT_NONE, out);
    const float want_zero[9] = {0, 0, 0, 0, 1, 2, 0, 4, 5};
    assert_floats("top-left tap zero", out, want_zero, 9, 0, 0);
    ref_conv2d(in, 1, 1, 3, 3, tl, NULL, 1, 3, 3, 1, 1, 1, 1, 1, 1, REF_ACT_NONE, out);
    /* reflect-padded 5x5:  5 4 5 6 5 / 2 1 2 3 2 / 5 4 5 6 5 / 8 7 8 9 8 / 5 4 5 6 5 */
    const float want_reflect[9] = {5, 4, 5, 2, 1, 2, 5, 4, 5};
    assert_floats("top-left tap reflect", out, want_reflect, 9, 0, 0);

    /* all-ones 3x3 kernel: box sums */
    const float ones[9] = {1, 1, 1, 1, 1, 1, 1, 1, 1};
    ref_conv2d(in, 1, 1, 3, 3, ones, NULL, 1, 3, 3, 1, 1, 1, 1, 1, 0, REF_ACT_NONE, out);
    const float box_zero[9] = {12, 21, 16, 27, 45, 33, 24, 39, 28};
    assert_floats("box zero", out, box_zero, 9, 0, 0);
    ref_conv2d(in, 1, 1, 3, 3, ones, NULL, 1, 3, 3, 1, 1, 1, 1, 1, 1, REF_ACT_NONE, out);
    const float box_reflect[9] = {33, 36, 39, 42, 45, 48, 51, 54, 57};
    assert_floats("box reflect", out, box_reflect, 9, 0, 0);

    /* pad 2 (< side 3) with a 1x1 kernel returns the padded image itself */
    const float one = 1.0f;
    float big[49];
    ref_conv2d(in, 1, 1, 3, 3, &one, NULL, 1, 1, 1, 1, 2, 2, 2, 2, 1, REF_ACT_NONE, big);
    const float row0[7] = {9, 8, 7, 8, 9, 8, 7}; /* padded row -2 == input row 2 */
    const float row2[7] = {3, 2, 1, 2, 3, 2, 1}; /* input row 0: cols -2..4 -> 2 1 0 1 2 1 0 */
    const float row6[7] = {3, 2, 1, 2, 3, 2, 1}; /* row 4 -> 2*2-4 = 0 */
    assert_floats("reflect pad 2 row -2", big, row0, 7, 0, 0);
    assert_floats("reflect pad 2 row 0", big + 14, row2, 7, 0, 0);
    assert_floats("reflect pad 2 row 4", big + 42, row6, 7, 0, 0);
    ref_conv2d(in, 1, 1, 3, 3, &one, NULL, 1, 1, 1, 1, 2, 2, 2, 2, 0, REF_ACT_NONE, big);
    const float zrow2[7] = {0, 0, 1, 2, 3, 0, 0};
    assert_floats("zero pad 2 row 0", big + 14, zrow2, 7, 0, 0);
    assert_true(big[0] == 0.0f && big[48] == 0.0f);
}

static void test_conv_stride_and_asymmetric_padding(void **state)
{
    (void)state;
    /* 4x4 input 0..15, 3x3 ones, stride 2, SAME (4,3,2) -> pad (0,1): out 2x2 */
    float in[16];
    for (int i = 0; i < 16; i++)
        in[i] = (float)i;
    const float ones[9] = {1, 1, 1, 1, 1, 1, 1, 1, 1};
    int pb, pa;
    ref_same_padding(4, 3, 2, &pb, &pa);
    float out[4];
    ref_conv2d(in, 1, 1, 4, 4, ones, NULL, 1, 3, 3, 2, pb, pa, pb, pa, 0, REF_ACT_NONE, out);
    /* (0,0): rows 0-2, cols 0-2 = 0+1+2+4+5+6+8+9+10 = 45
     * (0,1): rows 0-2, cols 2-3 (+pad) = 2+3+6+7+10+11 = 39
     * (1,0): rows 2-3, cols 0-2 = 8+9+10+12+13+14 = 66
     * (1,1): rows 2-3, cols 2-3 = 10+11+14+15 = 50 */
    const float want[4] = {45, 39, 66, 50};
    assert_floats("stride 2 same", out, want, 4, 0, 0);

    /* output size is floored: h 5, k 3, s 2, pad 1/1 -> 3; h 6 pad 0 -> 2 */
    float o9[9], o4[4];
    float in25[25] = {0}, in36[36] = {0};
    in25[12] = 1.0f; /* centre */
    ref_conv2d(in25, 1, 1, 5, 5, ones, NULL, 1, 3, 3, 2, 1, 1, 1, 1, 0, REF_ACT_NONE, o9);
    /* output (oy,ox) covers input rows 2oy-1..2oy+1: centre (2,2) hit by oy,ox in {1} only...
     * rows: oy=1 covers 1..3 (yes), oy=0 covers -1..1 (no), oy=2 covers 3..5 (no) */
    const float w9[9] = {0, 0, 0, 0, 1, 0, 0, 0, 0};
    assert_floats("stride 2 5x5", o9, w9, 9, 0, 0);
    in36[0] = 1.0f;
    in36[35] = 2.0f;
    ref_conv2d(in36, 1, 1, 6, 6, ones, NULL, 1, 3, 3, 2, 0, 0, 0, 0, 0, REF_ACT_NONE, o4);
    /* windows start at 0 and 2; (5,5) is never covered (floor drops the last column/row) */
    const float w4[4] = {1, 0, 0, 0};
    assert_floats("stride 2 floor", o4, w4, 4, 0, 0);

    /* asymmetric: top 0, bottom 2, left 1, right 0 with a 1x1 kernel = shifted copy */
    const float two = 2.0f;
    const float in6[6] = {1, 2, 3, 4, 5, 6}; /* 2x3 */
    /* out: h+0+2 = 4 rows, w+1+0 = 4 cols */
    float o16[16];
    ref_conv2d(in6, 1, 1, 2, 3, &two, NULL, 1, 1, 1, 1, 0, 2, 1, 0, 0, REF_ACT_NONE, o16);
    const float w16[16] = {0, 2, 4, 6, 0, 8, 10, 12, 0, 0, 0, 0, 0, 0, 0, 0};
    assert_floats("asymmetric pad", o16, w16, 16, 0, 0);
}

/* Independent conv: explicitly pad into a buffer, then a plain valid convolution. */
static void conv_via_padded_copy(const float *in, int n, int cin, int h, int w, const float *wt, const float *bias,
                                 int cout, int kh, int kw, int stride, int pt, int pb, int pl, int pr, int reflect,
                                 float *out)
{
    const int ph = h + pt + pb, pw = w + pl + pr;
    const int oh = (ph - kh) / stride + 1, ow = (pw - kw) / stride + 1;
    float *pad = falloc((size_t)n * cin * ph * pw);
    for (int b = 0; b < n; b++)
        for (int c = 0; c < cin; c++)
            for (int y = 0; y < ph; y++)
                for (int x = 0; x < pw; x++) {
                    int sy = y - pt, sx = x - pl;
                    float v;
                    if (reflect) {
                        sy = sy < 0 ? -sy : (sy >= h ? 2 * h - 2 - sy : sy);
                        sx = sx < 0 ? -sx : (sx >= w ? 2 * w - 2 - sx : sx);
                        v = in[((b * cin + c) * h + sy) * w + sx];
                    } else {
                        v = (sy >= 0 && sy < h && sx >= 0 && sx < w) ? in[((b * cin + c) * h + sy) * w + sx] : 0.0f;
                    }
                    pad[((b * cin + c) * ph + y) * pw + x] = v;
                }
    for (int b = 0; b < n; b++)
        for (int o = 0; o < cout; o++)
            for (int y = 0; y < oh; y++)
                for (int x = 0; x < ow; x++) {
                    double acc = bias ? bias[o] : 0.0;
                    for (int c = 0; c < cin; c++)
                        for (int ky = 0; ky < kh; ky++)
                            for (int kx = 0; kx < kw; kx++)
                                acc += (double)pad[((b * cin + c) * ph + y * stride + ky) * pw + x * stride + kx] *
                                       wt[((o * cin + c) * kh + ky) * kw + kx];
                    out[((b * cout + o) * oh + y) * ow + x] = (float)acc;
                }
    free(pad);
}

static void test_conv_random_cross_check(void **state)
{
    (void)state;
    static const struct {
        int n, cin, h, w, cout, kh, kw, stride, pt, pb, pl, pr, reflect;
    } cases[] = {
        {1, 3, 9, 7, 4, 9, 9, 1, 4, 4, 4, 4, 0},
        {1, 3, 9, 7, 4, 9, 9, 1, 4, 4, 4, 4, 1}, /* pad 4 < 7 */
        {2, 4, 8, 8, 3, 3, 3, 2, 0, 1, 0, 1, 0},
        {2, 4, 8, 8, 3, 3, 3, 2, 1, 1, 1, 1, 1},
        {1, 2, 5, 6, 2, 4, 2, 1, 1, 2, 0, 1, 1},
        {1, 1, 3, 3, 1, 3, 3, 2, 2, 2, 2, 2, 1},
    };
    uint32_t seed = 1234;
    for (size_t t = 0; t < ARRAY_LEN(cases); t++) {
        const int n = cases[t].n, cin = cases[t].cin, h = cases[t].h, w = cases[t].w, cout = cases[t].cout;
        const int kh = cases[t].kh, kw = cases[t].kw, s = cases[t].stride;
        const int oh = (h + cases[t].pt + cases[t].pb - kh) / s + 1, ow = (w + cases[t].pl + cases[t].pr - kw) / s + 1;
        float *x = falloc((size_t)n * cin * h * w), *k = falloc((size_t)cout * cin * kh * kw), *b = falloc(cout);
        float *got = falloc((size_t)n * cout * oh * ow), *want = falloc((size_t)n * cout * oh * ow);
        ref_fill_random(x, (size_t)n * cin * h * w, &seed, -1, 1);
        ref_fill_random(k, (size_t)cout * cin * kh * kw, &seed, -1, 1);
        ref_fill_random(b, cout, &seed, -1, 1);
        ref_conv2d(x, n, cin, h, w, k, b, cout, kh, kw, s, cases[t].pt, cases[t].pb, cases[t].pl, cases[t].pr,
                   cases[t].reflect, REF_ACT_NONE, got);
        conv_via_padded_copy(x, n, cin, h, w, k, b, cout, kh, kw, s, cases[t].pt, cases[t].pb, cases[t].pl,
                             cases[t].pr, cases[t].reflect, want);
        assert_floats("conv cross-check", got, want, (size_t)n * cout * oh * ow, 1e-6f, 1e-6f);
        /* activation is applied after bias */
        ref_conv2d(x, n, cin, h, w, k, b, cout, kh, kw, s, cases[t].pt, cases[t].pb, cases[t].pl, cases[t].pr,
                   cases[t].reflect, REF_ACT_SIGMOID, got);
        for (size_t i = 0; i < (size_t)n * cout * oh * ow; i++)
            want[i] = ref_activate(want[i], REF_ACT_SIGMOID);
        assert_floats("conv cross-check sigmoid", got, want, (size_t)n * cout * oh * ow, 1e-6f, 1e-6f);
        free(x), free(k), free(b), free(got), free(want);
    }
}

/* ------------------------------------------------------------------ conv2d_transpose */

static void test_conv_transpose_single_pixel(void **state)
{
    (void)state;
    float in[9] = {0};
    in[4] = 1.0f; /* (1,1) */
    float k[9];
    for (int i = 0; i < 9; i++)
        k[i] = (float)(i + 1);
    float out[36], want[36];

    /* pad 0: out[2*1 + ky][2*1 + kx] = k[ky][kx] -> kernel at rows/cols 2..4 */
    ref_conv2d_transpose(in, 1, 1, 3, 3, k, NULL, 1, 3, 3, 2, 0, REF_ACT_NONE, out);
    memset(want, 0, sizeof want);
    for (int ky = 0; ky < 3; ky++)
        for (int kx = 0; kx < 3; kx++)
            want[(2 + ky) * 6 + 2 + kx] = k[ky * 3 + kx];
    assert_floats("transpose pad 0", out, want, 36, 0, 0);

    /* pad 1: kernel at rows/cols 1..3 */
    ref_conv2d_transpose(in, 1, 1, 3, 3, k, NULL, 1, 3, 3, 2, 1, REF_ACT_NONE, out);
    memset(want, 0, sizeof want);
    for (int ky = 0; ky < 3; ky++)
        for (int kx = 0; kx < 3; kx++)
            want[(1 + ky) * 6 + 1 + kx] = k[ky * 3 + kx];
    assert_floats("transpose pad 1", out, want, 36, 0, 0);

    /* pixel at (2,2), pad 0: taps land at 4..6; row/col 6 is outside the 6x6 output and dropped */
    memset(in, 0, sizeof in);
    in[8] = 1.0f;
    ref_conv2d_transpose(in, 1, 1, 3, 3, k, NULL, 1, 3, 3, 2, 0, REF_ACT_NONE, out);
    memset(want, 0, sizeof want);
    for (int ky = 0; ky < 2; ky++)
        for (int kx = 0; kx < 2; kx++)
            want[(4 + ky) * 6 + 4 + kx] = k[ky * 3 + kx];
    assert_floats("transpose pad 0 corner", out, want, 36, 0, 0);

    /* pixel at (0,0), pad 1: tap 0 lands at -1 (dropped), taps 1,2 at 0,1 */
    memset(in, 0, sizeof in);
    in[0] = 1.0f;
    ref_conv2d_transpose(in, 1, 1, 3, 3, k, NULL, 1, 3, 3, 2, 1, REF_ACT_NONE, out);
    memset(want, 0, sizeof want);
    for (int ky = 1; ky < 3; ky++)
        for (int kx = 1; kx < 3; kx++)
            want[(ky - 1) * 6 + kx - 1] = k[ky * 3 + kx];
    assert_floats("transpose pad 1 corner", out, want, 36, 0, 0);
}

static void test_conv_transpose_overlap_bias_act(void **state)
{
    (void)state;
    /* all-ones 2x2 input, all-ones 3x3 kernel, s 2, p 0: per axis counts 1 1 2 1 */
    const float in[4] = {1, 1, 1, 1};
    const float k[9] = {1, 1, 1, 1, 1, 1, 1, 1, 1};
    const float bias = -1.5f;
    float out[16];
    ref_conv2d_transpose(in, 1, 1, 2, 2, k, &bias, 1, 3, 3, 2, 0, REF_ACT_NONE, out);
    const int cnt[4] = {1, 1, 2, 1};
    float want[16];
    for (int y = 0; y < 4; y++)
        for (int x = 0; x < 4; x++)
            want[y * 4 + x] = (float)(cnt[y] * cnt[x]) - 1.5f;
    assert_floats("transpose overlap", out, want, 16, 0, 0);
    ref_conv2d_transpose(in, 1, 1, 2, 2, k, &bias, 1, 3, 3, 2, 0, REF_ACT_RELU, out);
    for (int i = 0; i < 16; i++)
        want[i] = want[i] > 0 ? want[i] : 0.0f;
    assert_floats("transpose overlap relu", out, want, 16, 0, 0);

    /* channel layout: w [cin, cout, kh, kw]. cin 2, cout 2, 1x1 kernel, stride 2 */
    const float in2[2] = {3.0f, 5.0f}; /* [1,2,1,1] */
    const float w2[4] = {1.0f, 10.0f,  /* ci 0 -> co 0, co 1 */
                         100.0f, 1000.0f /* ci 1 -> co 0, co 1 */};
    float out2[8];
    ref_conv2d_transpose(in2, 1, 2, 1, 1, w2, NULL, 2, 1, 1, 2, 0, REF_ACT_NONE, out2);
    const float want2[8] = {503.0f, 0, 0, 0, 5030.0f, 0, 0, 0};
    assert_floats("transpose channel layout", out2, want2, 8, 0, 0);
}

/* Independent transposed conv: the scatter form straight from the definition. */
static void conv_transpose_scatter(const float *in, int n, int cin, int h, int w, const float *wt, const float *bias,
                                   int cout, int kh, int kw, int s, int pad, float *out)
{
    const int oh = s * h, ow = s * w;
    double *acc = calloc((size_t)n * cout * oh * ow, sizeof(double));
    assert_non_null(acc);
    for (int b = 0; b < n; b++)
        for (int ci = 0; ci < cin; ci++)
            for (int iy = 0; iy < h; iy++)
                for (int ix = 0; ix < w; ix++)
                    for (int co = 0; co < cout; co++)
                        for (int ky = 0; ky < kh; ky++)
                            for (int kx = 0; kx < kw; kx++) {
                                const int oy = s * iy + ky - pad, ox = s * ix + kx - pad;
                                if (oy < 0 || oy >= oh || ox < 0 || ox >= ow)
                                    continue;
                                acc[((b * cout + co) * oh + oy) * ow + ox] +=
                                    (double)in[((b * cin + ci) * h + iy) * w + ix] *
                                    wt[((ci * cout + co) * kh + ky) * kw + kx];
                            }
    for (int b = 0; b < n; b++)
        for (int co = 0; co < cout; co++)
            for (int i = 0; i < oh * ow; i++)
                out[(b * cout + co) * oh * ow + i] =
                    (float)(acc[(b * cout + co) * oh * ow + i] + (bias ? bias[co] : 0.0));
    free(acc);
}

/* ONNX ConvTranspose's form: output padding rows get only the bias; strides per axis; and where
 * its pads give the output stride x the input (bottom pad k - s - p), the gather form's result. */
static void test_conv_transpose_ex(void **state)
{
    (void)state;
    const float in[4] = {1, 2, 3, 4}, one = 1, bias = 0.5f;
    float out[16];
    ref_conv2d_transpose_ex(in, 1, 1, 2, 2, &one, &bias, 1, 1, 1, 2, 2, 0, 0, 0, 0, 1, 1, REF_ACT_NONE, out);
    const float want[16] = {1.5f, .5f, 2.5f, .5f, .5f, .5f, .5f, .5f, 3.5f, .5f, 4.5f, .5f, .5f, .5f, .5f, .5f};
    assert_floats("transpose output padding", out, want, 16, 0, 0);
    /* 1x2 input, 1x2 kernel [1, 10], strides 1 x 3, left pad 1: columns 3j + kx - 1 */
    const float row[2] = {1, 2}, k2[2] = {1, 10};
    float out2[4];
    ref_conv2d_transpose_ex(row, 1, 1, 1, 2, k2, NULL, 1, 1, 2, 1, 3, 0, 0, 1, 0, 0, 0, REF_ACT_NONE, out2);
    const float want2[4] = {10, 0, 2, 20};
    assert_floats("transpose strides 1x3", out2, want2, 4, 0, 0);
    /* k = 4, s = 2, p = 1: bottom pad 4 - 2 - 1 = 1, the output 2x the input */
    uint32_t seed = 5;
    float x[2 * 3 * 5], wt[2 * 3 * 16], b[3], g[3 * 6 * 10], e[3 * 6 * 10];
    ref_fill_random(x, 30, &seed, -1, 1);
    ref_fill_random(wt, 96, &seed, -1, 1);
    ref_fill_random(b, 3, &seed, -1, 1);
    ref_conv2d_transpose(x, 1, 2, 3, 5, wt, b, 3, 4, 4, 2, 1, REF_ACT_TANH, g);
    ref_conv2d_transpose_ex(x, 1, 2, 3, 5, wt, b, 3, 4, 4, 2, 2, 1, 1, 1, 1, 0, 0, REF_ACT_TANH, e);
    assert_floats("transpose forms agree", e, g, 180, 1e-6f, 1e-6f);
}

/* A 2x3 input padded by 2 at the left and 1 elsewhere, by hand (PyTorch's ReflectionPad2d,
 * ReplicationPad2d, ConstantPad2d give these). */
static void test_pad(void **state)
{
    (void)state;
    const float in[6] = {1, 2, 3, 4, 5, 6};
    float out[4 * 6];
    ref_pad(in, 1, 1, 2, 3, 1, 1, 2, 1, 1, 0, out);
    const float reflect[24] = {6, 5, 4, 5, 6, 5, 3, 2, 1, 2, 3, 2, 6, 5, 4, 5, 6, 5, 3, 2, 1, 2, 3, 2};
    assert_floats("pad reflect", out, reflect, 24, 0, 0);
    ref_pad(in, 1, 1, 2, 3, 1, 1, 2, 1, 2, 0, out);
    const float edge[24] = {1, 1, 1, 2, 3, 3, 1, 1, 1, 2, 3, 3, 4, 4, 4, 5, 6, 6, 4, 4, 4, 5, 6, 6};
    assert_floats("pad edge", out, edge, 24, 0, 0);
    ref_pad(in, 1, 1, 2, 3, 1, 1, 2, 1, 0, -7, out);
    const float zero[24] = {-7, -7, -7, -7, -7, -7, -7, -7, 1, 2, 3, -7, -7, -7, 4, 5, 6, -7, -7, -7, -7, -7, -7, -7};
    assert_floats("pad zero", out, zero, 24, 0, 0);
}

static void test_activation_ex(void **state)
{
    (void)state;
    const float in[4] = {-2, -0.5f, 0, 3};
    float out[4];
    ref_activation_ex(in, 4, REF_ACT_LEAKY_RELU, 0.1f, 0, 2, 1, out);
    const float leaky[4] = {0.6f, 0.9f, 1, 7};
    assert_floats("leaky_relu", out, leaky, 4, 1e-6f, 0);
    ref_activation_ex(in, 4, REF_ACT_CLIP, -1, 0.25f, 1, 0, out);
    const float clip[4] = {-1, -0.5f, 0, 0.25f};
    assert_floats("clip", out, clip, 4, 0, 0);
    ref_activation_ex(in, 4, REF_ACT_RELU, 9, 9, 1, 0, out);
    const float relu[4] = {0, 0, 0, 3};
    assert_floats("relu through _ex", out, relu, 4, 0, 0);
}

/* By 1 x 3, by hand; by 2 x 2, as the x2 reference. */
static void test_upsample_factors(void **state)
{
    (void)state;
    const float in[4] = {1, 2, 3, 4};
    float out[16], out2[16];
    ref_upsample_nearest(in, 1, 1, 2, 2, 1, 3, out);
    const float want[12] = {1, 1, 1, 2, 2, 2, 3, 3, 3, 4, 4, 4};
    assert_floats("upsample 1x3", out, want, 12, 0, 0);
    ref_upsample_nearest(in, 1, 1, 2, 2, 2, 2, out);
    ref_upsample_nearest2(in, 1, 1, 2, 2, out2);
    assert_floats("upsample 2x2", out, out2, 16, 0, 0);
}

/* A 1x1 kernel of weight 1 with edge padding copies the edge-padded input (ref_pad); strides
 * per axis pick every sh-th row and sw-th column of it. */
static void test_conv_edge_strides(void **state)
{
    (void)state;
    const float in[6] = {1, 2, 3, 4, 5, 6}, one = 1;
    float out[24], want[24];
    ref_conv2d_ex(in, 1, 1, 2, 3, &one, NULL, 1, 1, 1, 1, 1, 1, 1, 2, 1, 2, REF_ACT_NONE, out);
    ref_pad(in, 1, 1, 2, 3, 1, 1, 2, 1, 2, 0, want);
    assert_floats("conv edge = pad edge", out, want, 24, 0, 0);
    ref_conv2d_ex(in, 1, 1, 2, 3, &one, NULL, 1, 1, 1, 3, 2, 1, 1, 2, 1, 2, REF_ACT_NONE, out);   /* rows 0, 3; columns 0, 2, 4 */
    const float picked[6] = {1, 1, 3, 4, 4, 6};
    assert_floats("conv strides 3x2", out, picked, 6, 0, 0);
}

static void test_conv_transpose_random_cross_check(void **state)
{
    (void)state;
    static const struct {
        int n, cin, h, w, cout, k, s, pad;
    } cases[] = {
        {1, 4, 5, 6, 3, 3, 2, 0}, {2, 3, 4, 4, 5, 3, 2, 1}, {1, 2, 3, 5, 2, 4, 2, 1},
        {1, 2, 3, 3, 2, 5, 1, 2}, {1, 3, 2, 3, 2, 2, 2, 0},
    };
    uint32_t seed = 99;
    for (size_t t = 0; t < ARRAY_LEN(cases); t++) {
        const int n = cases[t].n, cin = cases[t].cin, h = cases[t].h, w = cases[t].w, cout = cases[t].cout;
        const int k = cases[t].k, s = cases[t].s, p = cases[t].pad;
        const size_t osz = (size_t)n * cout * s * h * s * w;
        float *x = falloc((size_t)n * cin * h * w), *wt = falloc((size_t)cin * cout * k * k), *b = falloc(cout);
        float *got = falloc(osz), *want = falloc(osz);
        ref_fill_random(x, (size_t)n * cin * h * w, &seed, -1, 1);
        ref_fill_random(wt, (size_t)cin * cout * k * k, &seed, -1, 1);
        ref_fill_random(b, cout, &seed, -1, 1);
        ref_conv2d_transpose(x, n, cin, h, w, wt, b, cout, k, k, s, p, REF_ACT_NONE, got);
        conv_transpose_scatter(x, n, cin, h, w, wt, b, cout, k, k, s, p, want);
        assert_floats("transpose cross-check", got, want, osz, 1e-6f, 1e-6f);
        free(x), free(wt), free(b), free(got), free(want);
    }
}

/* ------------------------------------------------------------------ upsample */

static void test_upsample(void **state)
{
    (void)state;
    const float in[8] = {1, 2, 3, 4, /* c0 2x2 */ 5, 6, 7, 8 /* c1 */};
    const float want[32] = {
        1, 1, 2, 2, 1, 1, 2, 2, 3, 3, 4, 4, 3, 3, 4, 4, 5, 5, 6, 6, 5, 5, 6, 6, 7, 7, 8, 8, 7, 7, 8, 8,
    };
    float out[32];
    ref_upsample_nearest2(in, 1, 2, 2, 2, out);
    assert_floats("upsample", out, want, 32, 0, 0);
    /* non-square 1x3 */
    const float in3[3] = {1, 2, 3};
    const float want3[12] = {1, 1, 2, 2, 3, 3, 1, 1, 2, 2, 3, 3};
    float out3[12];
    ref_upsample_nearest2(in3, 1, 1, 1, 3, out3);
    assert_floats("upsample 1x3", out3, want3, 12, 0, 0);
}

/* ------------------------------------------------------------------ normalisation */

static void plane_stats(const float *x, size_t count, double *mean, double *std)
{
    double s = 0.0, sq = 0.0;
    for (size_t i = 0; i < count; i++)
        s += x[i];
    *mean = s / (double)count;
    for (size_t i = 0; i < count; i++)
        sq += (x[i] - *mean) * (x[i] - *mean);
    *std = sqrt(sq / (double)count);
}

static void test_instance_norm_stats(void **state)
{
    (void)state;
    enum { N = 2, C = 3, H = 16, W = 12 };
    uint32_t seed = 5;
    float *x = falloc(N * C * H * W), *y = falloc(N * C * H * W);
    ref_fill_random(x, N * C * H * W, &seed, -1, 1);
    /* give each plane a different offset and spread */
    for (int p = 0; p < N * C; p++)
        for (int i = 0; i < H * W; i++)
            x[p * H * W + i] = x[p * H * W + i] * (float)(p + 1) * 3.0f + (float)(10 * p - 20);
    const float gamma[C] = {2.0f, 0.5f, -1.5f}, beta[C] = {0.5f, -3.0f, 7.0f};
    ref_instance_norm(x, N, C, H, W, gamma, beta, 1e-5f, REF_ACT_NONE, NULL, y);
    for (int b = 0; b < N; b++)
        for (int c = 0; c < C; c++) {
            double m, s;
            plane_stats(y + (b * C + c) * H * W, H * W, &m, &s);
            assert_float_equal(m, beta[c], 1e-5);
            assert_float_equal(s, fabsf(gamma[c]), 1e-4);
        }
    /* NULL gamma/beta: standardised */
    ref_instance_norm(x, N, C, H, W, NULL, NULL, 0.0f, REF_ACT_NONE, NULL, y);
    double m, s;
    plane_stats(y + 2 * H * W, H * W, &m, &s);
    assert_float_equal(m, 0.0, 1e-6);
    assert_float_equal(s, 1.0, 1e-5);
    free(x), free(y);
}

/* Statistics of row ranges: the whole plane's give instance norm; two ranges' (count, mean, M2)
 * combine (Chan et al.) into the whole plane's; given arbitrary statistics, they are used. */
static void test_channel_stats(void **state)
{
    (void)state;
    enum { N = 2, C = 3, H = 9, W = 7 };
    uint32_t seed = 8;
    float *x = falloc(N * C * H * W), *a = falloc(N * C * H * W), *b = falloc(N * C * H * W);
    ref_fill_random(x, N * C * H * W, &seed, -2, 3);
    const float gamma[C] = {2.0f, 0.5f, -1.5f}, beta[C] = {0.5f, -3.0f, 7.0f};
    double whole[2 * N * C], top[2 * N * C], bottom[2 * N * C], mean[N * C], var[N * C];
    ref_channel_stats(x, N, C, H, W, 0, H, whole);
    ref_channel_stats(x, N, C, H, W, 0, 4, top);
    ref_channel_stats(x, N, C, H, W, 4, H - 4, bottom);
    for (int p = 0; p < N * C; p++) {
        double na = 4.0 * W, nb = (H - 4.0) * W, d = bottom[2 * p] - top[2 * p];
        assert_float_equal(top[2 * p] + d * nb / (na + nb), whole[2 * p], 1e-12);
        assert_float_equal(top[2 * p + 1] + bottom[2 * p + 1] + d * d * na * nb / (na + nb), whole[2 * p + 1], 1e-9);
        mean[p] = whole[2 * p];
        var[p] = whole[2 * p + 1] / (H * W);
    }
    ref_instance_norm(x, N, C, H, W, gamma, beta, 1e-3f, REF_ACT_RELU, NULL, a);
    ref_instance_norm_given(x, N, C, H, W, mean, var, gamma, beta, 1e-3f, REF_ACT_RELU, NULL, b);
    for (int i = 0; i < N * C * H * W; i++) assert_float_equal(a[i], b[i], 1e-5);
    for (int p = 0; p < N * C; p++) { mean[p] = 1.0; var[p] = 4.0; }
    ref_instance_norm_given(x, N, C, H, W, mean, var, NULL, NULL, 0.0f, REF_ACT_NONE, NULL, b);
    for (int i = 0; i < N * C * H * W; i++) assert_float_equal(b[i], (x[i] - 1.0) / 2.0, 1e-6);
    free(x), free(a), free(b);
}

static void test_instance_norm_hand(void **state)
{
    (void)state;
    /* plane {1,2,3,4}: mean 2.5, biased var 1.25 */
    const float x[4] = {1, 2, 3, 4};
    const float gamma = 2.0f, beta = 1.0f;
    float y[4], want[4];
    ref_instance_norm(x, 1, 1, 2, 2, &gamma, &beta, 0.0f, REF_ACT_NONE, NULL, y);
    for (int i = 0; i < 4; i++)
        want[i] = (float)(2.0 * (x[i] - 2.5) / sqrt(1.25) + 1.0);
    assert_floats("instance norm hand", y, want, 4, 1e-6f, 1e-6f);
    /* eps counts: var + eps */
    ref_instance_norm(x, 1, 1, 2, 2, &gamma, &beta, 0.75f, REF_ACT_NONE, NULL, y);
    for (int i = 0; i < 4; i++)
        want[i] = (float)(2.0 * (x[i] - 2.5) / sqrt(2.0) + 1.0);
    assert_floats("instance norm eps", y, want, 4, 1e-6f, 1e-6f);
    /* residual added after the activation: relu(...) + r */
    const float r[4] = {-10, -10, -10, -10};
    ref_instance_norm(x, 1, 1, 2, 2, &gamma, &beta, 0.0f, REF_ACT_RELU, r, y);
    for (int i = 0; i < 4; i++) {
        const double v = 2.0 * (x[i] - 2.5) / sqrt(1.25) + 1.0;
        want[i] = (float)(v > 0 ? v : 0.0) - 10.0f;
    }
    assert_floats("instance norm relu residual", y, want, 4, 1e-6f, 1e-6f);
    /* constant plane: var 0 -> (x-mean) = 0 -> beta */
    const float cst[4] = {3, 3, 3, 3};
    ref_instance_norm(cst, 1, 1, 2, 2, &gamma, &beta, 1e-5f, REF_ACT_NONE, NULL, y);
    const float ones[4] = {1, 1, 1, 1};
    assert_floats("instance norm constant", y, ones, 4, 0, 0);
}

static void test_cin_mix(void **state)
{
    (void)state;
    /* 3 styles, 2 channels */
    const float gamma[6] = {1, 2, 3, 4, 5, 6}, beta[6] = {-1, -2, -3, -4, -5, -6};
    const float wts[3] = {0.5f, 0.25f, 0.25f};
    float g[2], b[2];
    ref_cin_mix(gamma, beta, 3, 2, wts, g, b);
    /* c0: .5*1 + .25*3 + .25*5 = 2.5; c1: .5*2 + .25*4 + .25*6 = 3.5 */
    const float wg[2] = {2.5f, 3.5f}, wb[2] = {-2.5f, -3.5f};
    assert_floats("cin mix gamma", g, wg, 2, 0, 0);
    assert_floats("cin mix beta", b, wb, 2, 0, 0);
}

static void test_cin_one_hot_equals_in(void **state)
{
    (void)state;
    enum { N = 1, C = 4, H = 7, W = 5, S = 3 };
    uint32_t seed = 77;
    float *x = falloc(N * C * H * W), *res = falloc(N * C * H * W), *a = falloc(N * C * H * W),
          *b = falloc(N * C * H * W);
    float gamma[S * C], beta[S * C];
    ref_fill_random(x, N * C * H * W, &seed, -2, 2);
    ref_fill_random(res, N * C * H * W, &seed, -1, 1);
    ref_fill_random(gamma, S * C, &seed, 0.5f, 2);
    ref_fill_random(beta, S * C, &seed, -1, 1);
    for (int s = 0; s < S; s++) {
        float wts[S] = {0};
        wts[s] = 1.0f;
        ref_conditional_instance_norm(x, N, C, H, W, gamma, beta, S, wts, 1e-5f, REF_ACT_RELU, res, a);
        ref_instance_norm(x, N, C, H, W, gamma + s * C, beta + s * C, 1e-5f, REF_ACT_RELU, res, b);
        assert_floats("cin one-hot", a, b, N * C * H * W, 0, 0);
    }
    /* a mix equals IN with the mixed rows */
    const float wts[S] = {0.2f, 0.3f, 0.5f};
    float gm[C], bm[C];
    for (int c = 0; c < C; c++) {
        gm[c] = (float)(0.2 * gamma[c] + 0.3 * gamma[C + c] + 0.5 * gamma[2 * C + c]);
        bm[c] = (float)(0.2 * beta[c] + 0.3 * beta[C + c] + 0.5 * beta[2 * C + c]);
    }
    ref_conditional_instance_norm(x, N, C, H, W, gamma, beta, S, wts, 1e-5f, REF_ACT_NONE, NULL, a);
    ref_instance_norm(x, N, C, H, W, gm, bm, 1e-5f, REF_ACT_NONE, NULL, b);
    assert_floats("cin mix", a, b, N * C * H * W, 1e-6f, 1e-6f);
    free(x), free(res), free(a), free(b);
}

static void test_batch_norm_hand(void **state)
{
    (void)state;
    /* 2 channels, 1x2 */
    const float x[4] = {1, 3, 10, 20};
    const float mean[2] = {2, 10}, var[2] = {4, 100}, gamma[2] = {1, 2}, beta[2] = {0, -1};
    float y[4];
    ref_batch_norm(x, 1, 2, 1, 2, mean, var, gamma, beta, 0.0f, REF_ACT_NONE, NULL, y);
    /* c0: (1-2)/2 = -.5, (3-2)/2 = .5; c1: 2*(0)/10 - 1 = -1, 2*(10/10) - 1 = 1 */
    const float want[4] = {-0.5f, 0.5f, -1.0f, 1.0f};
    assert_floats("batch norm", y, want, 4, 1e-7f, 0);
    const float r[4] = {1, 1, 1, 1};
    ref_batch_norm(x, 1, 2, 1, 2, mean, var, gamma, beta, 0.0f, REF_ACT_RELU, r, y);
    const float want_r[4] = {1.0f, 1.5f, 1.0f, 2.0f};
    assert_floats("batch norm relu residual", y, want_r, 4, 1e-7f, 0);
    /* eps: var 4 + eps 5 = 9 -> /3 */
    ref_batch_norm(x, 1, 2, 1, 2, mean, var, NULL, NULL, 5.0f, REF_ACT_NONE, NULL, y);
    assert_float_equal(y[0], -1.0 / 3.0, 1e-7);
    assert_float_equal(y[1], 1.0 / 3.0, 1e-7);
}

static void test_fold_batch_norm(void **state)
{
    (void)state;
    enum { N = 2, CI = 3, CO = 4, H = 6, W = 5, K = 3 };
    uint32_t seed = 2024;
    float *x = falloc(N * CI * H * W), *wt = falloc(CO * CI * K * K), *wf = falloc(CO * CI * K * K);
    float *conv = falloc(N * CO * H * W), *want = falloc(N * CO * H * W), *got = falloc(N * CO * H * W);
    float mean[CO], var[CO], gamma[CO], beta[CO], bias[CO], bf[CO];
    ref_fill_random(x, N * CI * H * W, &seed, -1, 1);
    ref_fill_random(wt, CO * CI * K * K, &seed, -1, 1);
    ref_fill_random(mean, CO, &seed, -1, 1);
    ref_fill_random(var, CO, &seed, 0.1f, 3);
    ref_fill_random(gamma, CO, &seed, -2, 2);
    ref_fill_random(beta, CO, &seed, -1, 1);
    ref_fill_random(bias, CO, &seed, -1, 1);
    for (int with_bias = 0; with_bias <= 1; with_bias++) {
        for (int reflect = 0; reflect <= 1; reflect++) {
            /* conv then BN (then relu, as the engine would apply the BN's activation) */
            ref_conv2d(x, N, CI, H, W, wt, with_bias ? bias : NULL, CO, K, K, 1, 1, 1, 1, 1, reflect, REF_ACT_NONE,
                       conv);
            ref_batch_norm(conv, N, CO, H, W, mean, var, gamma, beta, 1e-3f, REF_ACT_RELU, NULL, want);
            /* folded: a conv without bias gets a zeroed one */
            memcpy(wf, wt, sizeof(float) * CO * CI * K * K);
            if (with_bias)
                memcpy(bf, bias, sizeof bf);
            else
                memset(bf, 0, sizeof bf);
            ref_fold_batch_norm(wf, bf, CO, CI * K * K, mean, var, gamma, beta, 1e-3f);
            ref_conv2d(x, N, CI, H, W, wf, bf, CO, K, K, 1, 1, 1, 1, 1, reflect, REF_ACT_RELU, got);
            assert_floats("folded batch norm", got, want, N * CO * H * W, 1e-5f, 1e-5f);
        }
    }
    /* hand: w 2, bias 1, mean 3, var 3, eps 1, gamma 4, beta 5 -> s = 2; w 4, bias (1-3)*2+5 = 1 */
    float w1 = 2.0f, b1 = 1.0f;
    const float m1 = 3, v1 = 3, g1 = 4, be1 = 5;
    ref_fold_batch_norm(&w1, &b1, 1, 1, &m1, &v1, &g1, &be1, 1.0f);
    assert_true(w1 == 4.0f);
    assert_true(b1 == 1.0f);
    free(x), free(wt), free(wf), free(conv), free(want), free(got);
}

/* ------------------------------------------------------------------ pack / unpack */

static void test_pack_rgb8(void **state)
{
    (void)state;
    /* 2x1 RGB: (10,20,30) (40,50,60) */
    const uint8_t rgb[6] = {10, 20, 30, 40, 50, 60};
    float out[6];
    ref_pack_rgb8(rgb, 2, 1, 3, 0, 1.0f, 0.0f, out);
    const float want[6] = {10, 40, 20, 50, 30, 60};
    assert_floats("pack rgb", out, want, 6, 0, 0);
    /* same pixels as BGRA */
    const uint8_t bgra[8] = {30, 20, 10, 99, 60, 50, 40, 7};
    ref_pack_rgb8(bgra, 2, 1, 4, 1, 1.0f, 0.0f, out);
    assert_floats("pack bgra", out, want, 6, 0, 0);
    /* RGBA, scale/offset */
    const uint8_t rgba[8] = {0, 255, 51, 1, 255, 0, 102, 2};
    ref_pack_rgb8(rgba, 2, 1, 4, 0, 1.0f / 255.0f, -0.5f, out);
    const float want2[6] = {-0.5f, 0.5f, 0.5f, -0.5f, -0.3f, -0.1f};
    assert_floats("pack rgba scaled", out, want2, 6, 1e-6f, 0);
}

static void test_unpack_rgb8_clamp_round_crop(void **state)
{
    (void)state;
    /* tensor 2x3 (th 2, tw 3), output cropped to w 2, h 1 */
    const float in[18] = {
        /* R */ -5.0f, 1.4f, 777.0f, 9, 9, 9,
        /* G */ 1.5f, 2.5f, 777.0f, 9, 9, 9,
        /* B */ 254.5f, 300.0f, 777.0f, 9, 9, 9,
    };
    uint8_t px[8];
    memset(px, 0xAA, sizeof px);
    ref_unpack_rgb8(in, 2, 3, 2, 1, 3, 0, 1.0f, 0.0f, px);
    const uint8_t want[6] = {0, 2, 255, 1, 3, 255};
    assert_memory_equal(px, want, 6);
    assert_int_equal(px[6], 0xAA); /* nothing written past w*h*channels */
    /* BGRA: alpha 255, B first */
    ref_unpack_rgb8(in, 2, 3, 2, 1, 4, 1, 1.0f, 0.0f, px);
    const uint8_t want4[8] = {255, 2, 0, 255, 255, 3, 1, 255};
    assert_memory_equal(px, want4, 8);
    /* scale/offset applied before the clamp; NaN -> 0; inf -> 255 */
    const float in2[3] = {NAN, 0.5f, INFINITY};
    uint8_t px2[3];
    ref_unpack_rgb8(in2, 1, 1, 1, 1, 3, 0, 127.5f, 127.5f, px2);
    assert_int_equal(px2[0], 0);
    assert_int_equal(px2[1], 191); /* 191.25 */
    assert_int_equal(px2[2], 255);
    /* second row of a cropped image comes from row 1 of the tensor, not offset by w */
    const float in3[3 * 2 * 3] = {
        0, 1, 2, 3, 4, 5, /* R: rows {0,1,2}, {3,4,5} */
        0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
    };
    uint8_t px3[2 * 2 * 3];
    ref_unpack_rgb8(in3, 2, 3, 2, 2, 3, 0, 1.0f, 0.0f, px3);
    assert_int_equal(px3[0], 0);
    assert_int_equal(px3[3], 1);
    assert_int_equal(px3[6], 3);
    assert_int_equal(px3[9], 4);
}

static void test_pack_unpack_round_trip(void **state)
{
    (void)state;
    enum { W = 17, H = 11 };
    uint8_t px[W * H * 4], back[W * H * 4];
    uint32_t s = 3;
    for (size_t i = 0; i < sizeof px; i++) {
        s = s * 1664525u + 1013904223u;
        px[i] = (uint8_t)(s >> 24);
    }
    px[0] = 0;
    px[1] = 255;
    float t[3 * W * H];
    for (int channels = 3; channels <= 4; channels++)
        for (int bgr = 0; bgr <= 1; bgr++) {
            /* [-1, 1] mapping and back */
            ref_pack_rgb8(px, W, H, channels, bgr, 2.0f / 255.0f, -1.0f, t);
            ref_unpack_rgb8(t, H, W, W, H, channels, bgr, 127.5f, 127.5f, back);
            for (int i = 0; i < W * H; i++)
                for (int c = 0; c < channels; c++) {
                    const uint8_t want = c == 3 ? 255 : px[i * channels + c];
                    if (back[i * channels + c] != want)
                        fail_msg("round trip ch %d bgr %d: pixel %d comp %d: %d != %d", channels, bgr, i, c,
                                 back[i * channels + c], want);
                }
            /* identity mapping */
            ref_pack_rgb8(px, W, H, channels, bgr, 1.0f, 0.0f, t);
            ref_unpack_rgb8(t, H, W, W, H, channels, bgr, 1.0f, 0.0f, back);
            for (int i = 0; i < W * H; i++)
                for (int c = 0; c < 3; c++)
                    assert_int_equal(back[i * channels + c], px[i * channels + c]);
        }
    /* pack RGB, unpack BGR swaps R and B */
    ref_pack_rgb8(px, W, H, 3, 0, 1.0f, 0.0f, t);
    ref_unpack_rgb8(t, H, W, W, H, 3, 1, 1.0f, 0.0f, back);
    for (int i = 0; i < W * H; i++) {
        assert_int_equal(back[i * 3 + 0], px[i * 3 + 2]);
        assert_int_equal(back[i * 3 + 1], px[i * 3 + 1]);
        assert_int_equal(back[i * 3 + 2], px[i * 3 + 0]);
    }
}

/* ------------------------------------------------------------------ utilities */

static void test_fill_random(void **state)
{
    (void)state;
    enum { COUNT = 10000 };
    float *a = falloc(COUNT), *b = falloc(COUNT);
    uint32_t s1 = 42, s2 = 42;
    ref_fill_random(a, COUNT, &s1, -3.0f, 5.0f);
    ref_fill_random(b, COUNT, &s2, -3.0f, 5.0f);
    assert_memory_equal(a, b, sizeof(float) * COUNT);
    assert_int_equal(s1, s2);
    assert_int_not_equal(s1, 42);
    double sum = 0.0, lo = 1e9, hi = -1e9;
    for (int i = 0; i < COUNT; i++) {
        assert_true(a[i] >= -3.0f && a[i] < 5.0f);
        sum += a[i];
        lo = a[i] < lo ? a[i] : lo;
        hi = a[i] > hi ? a[i] : hi;
    }
    assert_float_equal(sum / COUNT, 1.0, 0.1);
    assert_true(lo < -2.9 && hi > 4.9);
    /* continuing from the advanced seed gives different values */
    ref_fill_random(b, COUNT, &s2, -3.0f, 5.0f);
    assert_true(memcmp(a, b, sizeof(float) * COUNT) != 0);
    /* zero seed still works */
    uint32_t z = 0;
    ref_fill_random(a, 16, &z, 0.0f, 1.0f);
    assert_int_not_equal(z, 0);
    assert_true(a[0] != a[1]);
    free(a), free(b);
}

static void test_compare(void **state)
{
    (void)state;
    const float want[6] = {1.0f, 100.0f, 0.0f, -2.0f, NAN, INFINITY};
    float got[6] = {1.0f, 100.0f, 0.0f, -2.0f, NAN, INFINITY};
    assert_int_equal(ref_compare("exact", got, want, 6, 0, 0), 0);
    got[1] = 100.5f; /* |diff| .5 <= 0 + .01*100 */
    assert_int_equal(ref_compare("rtol", got, want, 6, 0, 0.01f), 0);
    assert_int_equal(ref_compare("rtol tight (expected mismatch)", got, want, 6, 0, 0.001f), 1);
    got[1] = 100.0f;
    got[2] = 1e-4f;
    assert_int_equal(ref_compare("atol", got, want, 6, 1e-3f, 0), 0);
    assert_int_equal(ref_compare("atol tight (expected mismatch)", got, want, 6, 1e-5f, 0), 1);
    got[2] = 0.0f;
    /* NaN / Inf where a finite value is wanted */
    got[0] = NAN;
    got[3] = -INFINITY;
    assert_int_equal(ref_compare("non-finite (expected mismatches)", got, want, 6, 1e9f, 1e9f), 2);
    got[0] = 1.0f;
    got[3] = -2.0f;
    /* wanted NaN / Inf must be matched */
    got[4] = 0.0f;
    got[5] = -INFINITY;
    assert_int_equal(ref_compare("want non-finite (expected mismatches)", got, want, 6, 1e9f, 1e9f), 2);
    assert_int_equal(ref_compare("empty", got, want, 0, 0, 0), 0);
}

/* float <-> float16 (engine/half.c), used for fp16 activations: every half survives the round
 * trip; values between two halves round to the nearer, ties to the even one; overflow. */
static void test_half_conversions(void **state)
{
    (void)state;
    for (uint32_t h = 0; h < 0x10000u; h++) {
        float f = vks_half_to_float((uint16_t)h);
        if (isnan(f)) {
            assert_true(isnan(vks_half_to_float(vks_float_to_half(f))));
            continue;
        }
        assert_int_equal(vks_float_to_half(f), h);
        uint32_t exp = (h >> 10) & 0x1f;
        if (exp == 0x1f || (h & 0x7fffu) == 0x7bffu) continue;   /* inf, or the largest finite */
        /* midpoint towards the next half of larger magnitude (exact in float) */
        float next = vks_half_to_float((uint16_t)(h + 1)), mid = (f + next) / 2;
        uint16_t even = (h & 1) ? (uint16_t)(h + 1) : (uint16_t)h;
        assert_int_equal(vks_float_to_half(mid), even);
        assert_int_equal(vks_float_to_half(nextafterf(mid, f)), h);
        assert_int_equal(vks_float_to_half(nextafterf(mid, next)), h + 1);
    }
    assert_int_equal(vks_float_to_half(65504.0f), 0x7bff);
    assert_int_equal(vks_float_to_half(65519.99f), 0x7bff);
    assert_int_equal(vks_float_to_half(65520.0f), 0x7c00);     /* rounds past the largest: inf */
    assert_int_equal(vks_float_to_half(-1e30f), 0xfc00);
    assert_int_equal(vks_float_to_half(1e-30f), 0);
    assert_int_equal(vks_float_to_half(-1e-30f), 0x8000);
    assert_int_equal(vks_float_to_half(0.33333334f), 0x3555);  /* 0x3555 = 0.333251953125, the nearest */
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_half_conversions),
        cmocka_unit_test(test_activate),
        cmocka_unit_test(test_activation_op),
        cmocka_unit_test(test_add),
        cmocka_unit_test(test_same_padding),
        cmocka_unit_test(test_conv_1x1_is_matmul),
        cmocka_unit_test(test_conv_identity_kernel),
        cmocka_unit_test(test_conv_border_zero_vs_reflect),
        cmocka_unit_test(test_conv_stride_and_asymmetric_padding),
        cmocka_unit_test(test_conv_random_cross_check),
        cmocka_unit_test(test_conv_transpose_single_pixel),
        cmocka_unit_test(test_conv_transpose_overlap_bias_act),
        cmocka_unit_test(test_conv_transpose_random_cross_check),
        cmocka_unit_test(test_conv_transpose_ex),
        cmocka_unit_test(test_pad),
        cmocka_unit_test(test_activation_ex),
        cmocka_unit_test(test_upsample_factors),
        cmocka_unit_test(test_conv_edge_strides),
        cmocka_unit_test(test_upsample),
        cmocka_unit_test(test_instance_norm_stats),
        cmocka_unit_test(test_channel_stats),
        cmocka_unit_test(test_instance_norm_hand),
        cmocka_unit_test(test_cin_mix),
        cmocka_unit_test(test_cin_one_hot_equals_in),
        cmocka_unit_test(test_batch_norm_hand),
        cmocka_unit_test(test_fold_batch_norm),
        cmocka_unit_test(test_pack_rgb8),
        cmocka_unit_test(test_unpack_rgb8_clamp_round_crop),
        cmocka_unit_test(test_pack_unpack_round_trip),
        cmocka_unit_test(test_fill_random),
        cmocka_unit_test(test_compare),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
