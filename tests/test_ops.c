/* Every shader against its plain-C reference (ref_ops.c) on awkward shapes, batch 1 and 2,
 * with the validation layer on; the chunked-binding path; error paths; barrier placement.
 * The op tests run twice: float32 activations, then float16 (the _f16 shader variants). */
#include "half.h"
#include "stabilize.h"
#include "testutil.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define ATOL 1e-4f
#define RTOL 1e-4f

static vks_context_t *g_ctx;
static uint32_t g_esize = 4;   /* activation element size of the running test: 4 or 2 */

/* Activation tensor of the running precision. */
static vks_tensor_t tact(tu_arena_t *a, uint32_t n, uint32_t c, uint32_t h, uint32_t w, const float *data)
{
    return tu_act_e(a, n, c, h, w, g_esize, data);
}

/* Random test data; for float16 runs rounded to float16 first, so that the reference sees exactly
 * the values the GPU reads and the comparison measures the op (plus the rounding of its output). */
static void quantize(float *x, size_t n)
{
    if (g_esize == 2)
        for (size_t i = 0; i < n; i++) x[i] = vks_half_to_float(vks_float_to_half(x[i]));
}

static float *rnd(size_t n, uint32_t *seed, float lo, float hi)
{
    float *x = tu_random(n, seed, lo, hi);
    quantize(x, n);
    return x;
}

/* A tolerance, widened for float16 outputs (relative rounding 2^-11, plus a split-K partial sum). */
static float tol(float t) { return g_esize == 2 && t < 2e-3f ? 2e-3f : t; }

/* The shader a test expects to have run: `base`, or its float16 variant. */
static vks_shader_id_t variant(vks_shader_id_t base)
{
    return g_esize == 2 ? (vks_shader_id_t)vks_shader_table[base].f16 : base;
}

/* Whether the device reads inputs from uniform buffers (vks_input_ubo: CPU devices); the *_xubo and
 * conv2d_wino_gemm_mpos shaders run only there. */
static bool g_input_ubo = true;
static int setup(void **state)
{
    (void)state;
    g_ctx = tu_context(0);
    g_input_ubo = vks_input_ubo(g_ctx);
    return 0;
}
static int teardown(void **state) { (void)state; tu_context_done(g_ctx); return 0; }

static size_t count4(uint32_t n, uint32_t c, uint32_t h, uint32_t w) { return (size_t)n * c * h * w; }

/* ------------------------------------------------------------------ conv2d */

typedef struct conv_case {
    uint32_t n, cin, cout, h, w, k, stride;
    int same;               /* TensorFlow SAME instead of pad[] */
    int pad[4];
    int reflect, bias, act;   /* reflect: the pad mode, VKS_PAD_* (0 zeros, 1 reflection, 2 edge) */
} conv_case_t;

/* VKSTYLE_TEST_QUICK=1 (CI's validation stages): one convolution case per shader variant and no
 * large shapes; every shader variant, both precisions and the chunked-binding path still run
 * (main() checks that every shader ran, test_conv2d* that every convolution path did). */
#define QUICK_MAX_PIXELS 20000

/* The variant the conv runners pass (the tuner's choices, test_conv_variants); zero: the heuristic. */
static vks_conv_variant_t g_var;

static void run_conv(vks_context_t *ctx, const conv_case_t *c, uint32_t seed0)
{
    if (tu_quick_mode() && c->h * c->w > QUICK_MAX_PIXELS) return;
    uint32_t seed = seed0;
    int pt = c->pad[0], pb = c->pad[1], pl = c->pad[2], pr = c->pad[3];
    if (c->same) {
        ref_same_padding((int)c->h, (int)c->k, (int)c->stride, &pt, &pb);
        ref_same_padding((int)c->w, (int)c->k, (int)c->stride, &pl, &pr);
    }
    uint32_t oh = (c->h + pt + pb - c->k) / c->stride + 1, ow = (c->w + pl + pr - c->k) / c->stride + 1;
    size_t nin = count4(c->n, c->cin, c->h, c->w), nw = (size_t)c->cout * c->cin * c->k * c->k;
    size_t nout = count4(c->n, c->cout, oh, ow);
    float scale = 1.0f / sqrtf((float)(c->cin * c->k * c->k));
    float *x = rnd(nin, &seed, -1, 1), *wt = rnd(nw, &seed, -scale, scale);
    float *b = rnd(c->cout, &seed, -0.5f, 0.5f), *want = malloc(nout * 4);
    ref_conv2d(x, (int)c->n, (int)c->cin, (int)c->h, (int)c->w, wt, c->bias ? b : NULL, (int)c->cout, (int)c->k,
               (int)c->k, (int)c->stride, pt, pb, pl, pr, c->reflect, (ref_act_t)c->act, want);
    tu_arena_t a;
    tu_arena_init(&a, ctx, vks_align(nin * 4, 256) * 2 + nw * 4 + nout * 8 + (1 << 20));
    vks_tensor_t tx = tact(&a, c->n, c->cin, c->h, c->w, x), tw = tu_flat(&a, (uint32_t)nw, wt);
    vks_tensor_t tb = tu_flat(&a, c->cout, b), ty = tact(&a, c->n, c->cout, oh, ow, NULL);
    vks_conv2d_params_t p = {c->k, c->k, c->stride, pt, pb, pl, pr, c->reflect, (uint32_t)c->act, 0, g_var};
    vks_rec_t rec;
    tu_rec_begin(ctx, &rec);
    TU_OK(vks_op_conv2d(&rec, &p, &tx, &tw, c->bias ? &tb : NULL, &ty));
    tu_rec_run(&rec);
    float *got = tu_download(&a, &ty);
    char label[128];
    snprintf(label, sizeof label, "conv2d n%u %u->%u %ux%u k%u s%u", c->n, c->cin, c->cout, c->h, c->w, c->k, c->stride);
    assert_int_equal(ref_compare(label, got, want, nout, tol(ATOL), tol(RTOL)), 0);
    vks_rec_destroy(&rec);
    tu_arena_done(&a);
    free(x); free(wt); free(b); free(want); free(got);
}

static const conv_case_t conv_cases[] = {
    {1, 3, 5, 1, 1, 1, 1, 0, {0, 0, 0, 0}, 0, 0, REF_ACT_NONE},
    {2, 3, 6, 3, 5, 3, 1, 0, {1, 1, 1, 1}, 0, 1, REF_ACT_RELU},
    {1, 5, 7, 17, 31, 3, 2, 1, {0}, 0, 0, REF_ACT_NONE},
    {2, 5, 7, 18, 30, 3, 2, 1, {0}, 0, 1, REF_ACT_TANH},
    {1, 3, 4, 17, 31, 9, 1, 1, {0}, 0, 0, REF_ACT_TANH},
    {1, 6, 3, 17, 31, 3, 1, 0, {1, 1, 1, 1}, 1, 1, REF_ACT_SIGMOID},
    {2, 4, 5, 8, 9, 3, 2, 0, {1, 1, 1, 1}, 1, 0, REF_ACT_RELU},
    {1, 3, 5, 9, 11, 9, 1, 0, {4, 4, 4, 4}, 1, 1, REF_ACT_NONE},
    {1, 2, 3, 3, 5, 3, 1, 0, {0, 2, 1, 0}, 0, 1, REF_ACT_NONE},
    {1, 3, 8, 257, 333, 3, 2, 1, {0}, 0, 0, REF_ACT_RELU},
    {1, 2, 3, 257, 333, 9, 1, 1, {0}, 0, 1, REF_ACT_NONE},
    {1, 64, 8, 9, 11, 9, 1, 1, {0}, 0, 1, REF_ACT_RELU},      /* uniform weights: 3 channels a binding */
    {1, 260, 2, 5, 7, 9, 1, 1, {0}, 0, 1, REF_ACT_NONE},      /* 84 KB weight rows: storage path */
    {1, 13, 20, 100, 90, 3, 1, 1, {0}, 0, 1, REF_ACT_RELU},   /* 36 KB planes: input from 11 uniform buffers, 2 chunks
                                                               * (the pipeline of test_chunked_bindings' and
                                                               * test_split_dispatches' too: fewer compiles
                                                               * under GPU-assisted validation) */
    {1, 2, 3, 130, 130, 3, 2, 0, {1, 0, 1, 0}, 1, 1, REF_ACT_NONE}, /* 67 KB planes: uniform weights, input from uniform
                                                                     * buffers in row bands (test_conv2d: storage too) */
};

static void test_conv2d(void **state)
{
    (void)state;
    size_t ncases = sizeof conv_cases / sizeof *conv_cases;
    for (size_t i = 0; i < ncases; i++)   /* quick: the last three, one per shader variant */
        if (!tu_quick_mode() || i + 3 >= ncases) run_conv(g_ctx, &conv_cases[i], 100 + (uint32_t)i);
    /* the last one's planes (over 64 KiB) without row bands: the input from a storage buffer */
    setenv("VKSTYLE_ROW_BANDS", "0", 1);
    run_conv(g_ctx, &conv_cases[ncases - 1], 99);
    unsetenv("VKSTYLE_ROW_BANDS");
    /* every path ran: weights from a storage buffer (long rows), from a uniform buffer (input planes
     * over 64 KiB), and input from uniform buffers too (fp32 only) */
    int ubo = 0, ssbo = 0, xubo = 0;
    for (size_t i = 0; i < g_ctx->npipelines; i++) {
        ubo += g_ctx->pipelines[i]->shader == variant(VKS_SHADER_CONV2D_UBO);
        ssbo += g_ctx->pipelines[i]->shader == variant(VKS_SHADER_CONV2D);
        xubo += g_ctx->pipelines[i]->shader == VKS_SHADER_CONV2D_XUBO;
    }
    assert_true(ubo > 0 && ssbo > 0 && (g_esize == 2 || !vks_input_ubo(g_ctx) || xubo > 0));   /* *_xubo: CPU devices */
}

/* Input planes larger than a uniform buffer, read from uniform buffers in row bands (fp32 on a CPU
 * device: vks_conv_x_band): one dispatch per band of output rows, the bands' first and last rows
 * padded by reflection, the edge or zeros, a stride of 2, input channels in chunks of 11. */
static void test_conv_row_bands(void **state)
{
    (void)state;
    /* *_xubo is fp32 only (fp16 runs test_conv2d's paths); quick: test_conv2d's 130x130 case has bands */
    if (g_esize != 4 || tu_quick_mode() || !vks_input_ubo(g_ctx)) return;   /* GPUs read storage buffers */
    static const conv_case_t cases[] = {
        {1, 3, 4, 130, 250, 9, 1, 0, {4, 4, 4, 4}, VKS_PAD_REFLECT, 1, REF_ACT_RELU},   /* 1000-byte rows: 56 a band, 3 bands */
        {1, 13, 5, 131, 250, 3, 2, 0, {1, 1, 1, 1}, VKS_PAD_EDGE, 1, REF_ACT_TANH},     /* 32 rows a band, 3; 2 chunks */
        {1, 2, 3, 100, 200, 5, 1, 0, {0, 3, 2, 1}, VKS_PAD_ZERO, 0, REF_ACT_NONE},      /* 76 rows a band, 2 */
    };
    static const uint64_t dispatches[] = {3, 6, 2};
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        uint64_t before = g_ctx->shader_dispatches[VKS_SHADER_CONV2D_XUBO];
        run_conv(g_ctx, &cases[i], 140 + (uint32_t)i);
        assert_int_equal(g_ctx->shader_dispatches[VKS_SHADER_CONV2D_XUBO] - before, dispatches[i]);
    }
}

/* Edge padding and strides per axis (ONNX Conv's strides, ReplicationPad2d folded in). */
static void run_conv_ex(uint32_t cin, uint32_t cout, uint32_t h, uint32_t w, uint32_t kh, uint32_t kw, uint32_t sh,
                        uint32_t sw, const int pad[4], uint32_t mode, int act, uint32_t seed)
{
    uint32_t oh = (h + (uint32_t)(pad[0] + pad[1]) - kh) / sh + 1, ow = (w + (uint32_t)(pad[2] + pad[3]) - kw) / sw + 1;
    size_t nin = count4(1, cin, h, w), nw = (size_t)cout * cin * kh * kw, nout = count4(1, cout, oh, ow);
    float *x = rnd(nin, &seed, -1, 1), *wt = rnd(nw, &seed, -0.4f, 0.4f), *b = rnd(cout, &seed, -0.5f, 0.5f);
    float *want = malloc(nout * 4);
    ref_conv2d_ex(x, 1, (int)cin, (int)h, (int)w, wt, b, (int)cout, (int)kh, (int)kw, (int)sh, (int)sw, pad[0], pad[1],
                  pad[2], pad[3], (int)mode, (ref_act_t)act, want);
    tu_arena_t a;
    tu_arena_init(&a, g_ctx, (nin + nw + nout) * 8 + (1 << 20));
    vks_tensor_t tx = tact(&a, 1, cin, h, w, x), tw = tu_flat(&a, (uint32_t)nw, wt), tb = tu_flat(&a, cout, b);
    vks_tensor_t ty = tact(&a, 1, cout, oh, ow, NULL);
    vks_conv2d_params_t p = {kh, kw, sh, pad[0], pad[1], pad[2], pad[3], mode, (uint32_t)act, sw, g_var};
    vks_rec_t rec;
    tu_rec_begin(g_ctx, &rec);
    TU_OK(vks_op_conv2d(&rec, &p, &tx, &tw, &tb, &ty));
    tu_rec_run(&rec);
    float *got = tu_download(&a, &ty);
    assert_int_equal(ref_compare("conv2d (edge, strides)", got, want, nout, tol(ATOL), tol(RTOL)), 0);
    vks_rec_destroy(&rec);
    tu_arena_done(&a);
    free(x); free(wt); free(b); free(want); free(got);
}

static void test_conv2d_edge_strides(void **state)
{
    (void)state;
    const int p1[4] = {1, 2, 2, 1}, p0[4] = {0, 0, 0, 0}, p3[4] = {3, 3, 3, 3};
    /* quick: edge, strides 2 (rows) x 1 (columns), one pipeline per precision. Under GPU-assisted
     * validation lavapipe's compile of the instrumented shader grows with the columns an invocation
     * reads ((VKS_CONV_PX - 1) * stride + kw) times its output channels: the 2x3-stride case below
     * (23 columns, 5 channels) took 76 s there, this one 20 s. A column stride of 2 runs in
     * test_conv2d's quick cases. */
    run_conv_ex(3, 3, 9, 11, 3, 3, 2, 1, p1, VKS_PAD_EDGE, REF_ACT_NONE, 406);
    if (tu_quick_mode()) return;
    run_conv_ex(3, 5, 9, 11, 3, 2, 2, 3, p1, VKS_PAD_EDGE, REF_ACT_NONE, 402);
    run_conv_ex(3, 4, 7, 5, 3, 3, 1, 1, p1, VKS_PAD_EDGE, REF_ACT_RELU, 401);
    run_conv_ex(2, 3, 13, 17, 5, 5, 4, 1, p3, VKS_PAD_REFLECT, REF_ACT_TANH, 403);
    run_conv_ex(2, 3, 13, 17, 7, 3, 3, 4, p3, VKS_PAD_EDGE, REF_ACT_NONE, 404);
    run_conv_ex(1, 2, 5, 4, 1, 1, 4, 4, p0, VKS_PAD_ZERO, REF_ACT_NONE, 405);
}

/* ------------------------------------------------------------------ conv2d by Winograd */

/* A 3x3 stride-1 case through vks_op_conv2d_winograd: weights transformed on the host, scratch
 * from the arena, the transformed weights last with room for a uniform binding after them. */
static void run_wino(vks_context_t *ctx, const conv_case_t *c, uint32_t seed0)
{
    uint32_t seed = seed0;
    int pt = c->pad[0], pb = c->pad[1], pl = c->pad[2], pr = c->pad[3];
    if (c->same) {
        ref_same_padding((int)c->h, 3, 1, &pt, &pb);
        ref_same_padding((int)c->w, 3, 1, &pl, &pr);
    }
    uint32_t oh = c->h + pt + pb - 2, ow = c->w + pl + pr - 2;
    size_t nin = count4(c->n, c->cin, c->h, c->w), nw = (size_t)c->cout * c->cin * 9, nout = count4(c->n, c->cout, oh, ow);
    float scale = 1.0f / sqrtf((float)(c->cin * 9));
    float *x = rnd(nin, &seed, -1, 1), *wt = rnd(nw, &seed, -scale, scale);
    float *b = rnd(c->cout, &seed, -0.5f, 0.5f), *want = malloc(nout * 4), *u = malloc(VKS_WINO_WEIGHT_PLANES * nw / 9 * 4);
    ref_conv2d(x, (int)c->n, (int)c->cin, (int)c->h, (int)c->w, wt, c->bias ? b : NULL, (int)c->cout, 3, 3, 1, pt, pb,
               pl, pr, c->reflect, (ref_act_t)c->act, want);
    vks_winograd_weights(wt, c->cout, c->cin, u);
    VkDeviceSize sbytes = vks_winograd_scratch_bytes(c->cin, c->cout, oh, ow, g_esize);
    tu_arena_t a;
    tu_arena_init(&a, ctx, vks_align(nin * 4, 256) * 2 + nout * 8 + sbytes + VKS_WINO_WEIGHT_PLANES * nw / 9 * 4 + VKS_UBO_BYTES + (1 << 20));
    vks_tensor_t tx = tact(&a, c->n, c->cin, c->h, c->w, x), tb = tu_flat(&a, c->cout, b);
    vks_tensor_t ty = tact(&a, c->n, c->cout, oh, ow, NULL), ts = tu_flat(&a, (uint32_t)(sbytes / 4), NULL);
    vks_tensor_t tu = tu_flat(&a, (uint32_t)(VKS_WINO_WEIGHT_PLANES * nw / 9), u);
    vks_conv2d_params_t p = {3, 3, 1, pt, pb, pl, pr, c->reflect, (uint32_t)c->act, 0, g_var};
    assert_true(vks_winograd_fits(ctx, &p, &tx, &tu, &ty, &ts));
    vks_rec_t rec;
    const vks_shader_id_t xubo_ids[3] = {VKS_SHADER_CONV2D_WINO_IN_XUBO, VKS_SHADER_CONV2D_WINO4_IN_XUBO,
                                         VKS_SHADER_CONV2D_WINO6_IN_XUBO};
    uint64_t xubo_before = ctx->shader_dispatches[xubo_ids[0]] + ctx->shader_dispatches[xubo_ids[1]] +
                           ctx->shader_dispatches[xubo_ids[2]];
    tu_rec_begin(ctx, &rec);
    TU_OK(vks_op_conv2d_winograd(&rec, &p, &tx, &tu, c->bias ? &tb : NULL, &ty, &ts));
    tu_rec_run(&rec);
    /* the input transform from uniform buffers of cpb planes (CPU devices, fp32, planes of at most
     * one buffer, not VKSTYLE_WINO_IN_UBO=0): a dispatch per sample and VKS_X_UBOS x cpb channels */
    uint32_t cpb = (uint32_t)(VKS_UBO_BYTES / ((VkDeviceSize)tx.plane_stride * 4)), want_xubo = 0;
    if (g_input_ubo && g_esize == 4 && cpb && !vks_env_is("VKSTYLE_WINO_IN_UBO", "0"))
        want_xubo = c->n * vks_div_up(c->cin, VKS_X_UBOS * cpb);
    assert_int_equal(ctx->shader_dispatches[xubo_ids[0]] + ctx->shader_dispatches[xubo_ids[1]] +
                         ctx->shader_dispatches[xubo_ids[2]] - xubo_before, want_xubo);
    float *got = tu_download(&a, &ty);
    char label[128];
    snprintf(label, sizeof label, "conv2d_winograd F(%ux%u) n%u %u->%u %ux%u", vks_winograd_tile(g_esize, oh, ow),
             vks_winograd_tile(g_esize, oh, ow), c->n, c->cin, c->cout, c->h, c->w);
    assert_int_equal(ref_compare(label, got, want, nout, tol(ATOL), tol(RTOL)), 0);
    vks_rec_destroy(&rec);
    tu_arena_done(&a);
    free(x); free(wt); free(b); free(want); free(u); free(got);
}

static const conv_case_t wino_cases[] = {
    {1, 5, 7, 7, 5, 3, 1, 0, {1, 1, 1, 1}, 1, 1, REF_ACT_RELU},         /* odd planes: partial tiles */
    {1, 3, 4, 7, 5, 3, 1, 0, {2, 0, 1, 2}, 2, 1, REF_ACT_NONE},         /* edge padding */
    {2, 13, 11, 13, 11, 3, 1, 0, {1, 1, 1, 1}, 0, 1, REF_ACT_NONE},     /* zeros, batch 2 */
    {1, 9, 10, 13, 11, 3, 1, 1, {0}, 1, 0, REF_ACT_TANH},
    {1, 6, 3, 17, 31, 3, 1, 0, {0, 2, 1, 0}, 0, 1, REF_ACT_SIGMOID},    /* asymmetric padding */
    {1, 2, 3, 3, 5, 3, 1, 0, {0, 0, 0, 0}, 0, 1, REF_ACT_NONE},         /* no padding: 1x3 output */
    {1, 20, 17, 40, 37, 3, 1, 0, {1, 1, 1, 1}, 1, 1, REF_ACT_RELU},     /* 380 tiles: 4 a GEMM invocation */
    {1, 300, 70, 5, 7, 3, 1, 0, {1, 1, 1, 1}, 1, 1, REF_ACT_NONE},      /* 1200-byte weight rows: 2 GEMM groups */
    {1, 200, 9, 50, 48, 3, 1, 0, {1, 1, 1, 1}, 0, 1, REF_ACT_RELU},     /* fp32: V in blocks of 64 tiles, 2 ranges */
    {1, 2, 3, 130, 130, 3, 1, 0, {1, 1, 1, 1}, 1, 1, REF_ACT_RELU},    /* F(2x2): 4225 tiles, two ranges through the scratch */
    {1, 2, 3, 258, 260, 3, 1, 0, {1, 1, 1, 1}, 0, 1, REF_ACT_NONE},    /* F(4x4): 4225 tiles, two ranges */
    {1, 2, 3, 390, 400, 3, 1, 0, {1, 1, 1, 1}, 2, 1, REF_ACT_NONE},    /* F(6x6): 65 x 67 tiles, two ranges */
};

/* Every Winograd case by one tile (k: 0 F(6x6, 3x3), VKSTYLE_WINOGRAD=6; 1 F(4x4), =4; 2 F(2x2),
 * =2), then the first case with the input transform from a storage buffer where it would read
 * uniform buffers (fp32 on a CPU device; elsewhere it ran so already), then the first case with
 * the tile chosen by the variant (the tuner's), not by the heuristic (whose tile for its 7x5
 * plane is F(2x2)). */
static void run_wino_tile(int k)
{
    static const char *const tiles[3] = {"6", "4", "2"};
    static const uint32_t algos[3] = {VKS_CONV_WINO6, VKS_CONV_WINO4, VKS_CONV_WINO2};
    size_t ncases = sizeof wino_cases / sizeof *wino_cases;
    setenv("VKSTYLE_WINOGRAD", tiles[k], 1);
    assert_int_equal(vks_winograd_tile(g_esize, 7, 5), (uint32_t)(6 - 2 * k));
    /* quick: the first (F(6x6) and F(4x4): their transforms and the multi-position GEMM), the
     * fourth (9 input channels: on a CPU device the GEMM's weights of 8 channels a load, shuffled,
     * then one more; not by F(6x6), whose GEMM is F(4x4)'s), and by F(2x2) the storage-buffer GEMM
     * too */
    for (size_t i = 0; i < ncases; i++)
        if (!tu_quick_mode() || i == 0 || (i == 3 && k) || (i == 7 && k == 2))
            run_wino(g_ctx, &wino_cases[i], 300 + (uint32_t)i);
    setenv("VKSTYLE_WINO_IN_UBO", "0", 1);
    run_wino(g_ctx, &wino_cases[0], 340 + (uint32_t)k);
    unsetenv("VKSTYLE_WINO_IN_UBO");
    unsetenv("VKSTYLE_WINOGRAD");
    g_var = (vks_conv_variant_t){algos[k], 0, 0, 0};
    run_wino(g_ctx, &wino_cases[0], 320 + algos[k]);
    g_var = (vks_conv_variant_t){0};
}

/* F(6x6, 3x3) (fp32 only), a test of its own: under GPU-assisted validation its three pipelines
 * took about 45 s to compile instrumented, so the validation stage runs it in the float16 half's
 * process, which had that much less to do (in_half, tests/CMakeLists.txt). */
static void test_conv2d_winograd6(void **state)
{
    (void)state;
    run_wino_tile(0);
}

static void test_conv2d_winograd(void **state)
{
    (void)state;
    /* the tile, in fp32, whose padded GEMMs take the fewest products: F(4x4, 3x3) for planes of
     * 24x24 to 32x32 (36 tiles: 64 rows of 36 positions against F(2x2)'s 144 of 16 and F(6x6)'s
     * 64 of 64), not 20x20 (F(2x2)'s 100 tiles in 128 against 25 in 64); F(6x6, 3x3) for 64x64
     * (121 tiles in 128, 8,192 products against F(4x4)'s 256 x 36 = 9,216) */
    assert_int_equal(vks_winograd_tile(g_esize, 64, 64), g_esize == 4 ? 6 : 2);
    assert_int_equal(vks_winograd_tile(g_esize, 32, 32), g_esize == 4 ? 4 : 2);
    assert_int_equal(vks_winograd_tile(g_esize, 24, 24), g_esize == 4 ? 4 : 2);
    assert_int_equal(vks_winograd_tile(g_esize, 20, 20), 2);
    assert_int_equal(vks_winograd_tile(g_esize, 16, 16), 2);
    assert_int_equal(vks_winograd_tile(g_esize, 16, 2000), g_esize == 4 ? 6 : 2);
    /* by F(4x4, 3x3), then F(2x2); fp16: F(2x2) only (F(6x6): test_conv2d_winograd6) */
    for (int k = g_esize == 4 ? 1 : 2; k < 3; k++) run_wino_tile(k);
    /* no scratch, or VKSTYLE_WINOGRAD=0, or another kernel: the caller runs the direct convolution */
    tu_arena_t a;
    tu_arena_init(&a, g_ctx, 1 << 20);
    vks_tensor_t x = tact(&a, 1, 4, 9, 7, NULL), y = tact(&a, 1, 4, 9, 7, NULL), u = tu_flat(&a, VKS_WINO_WEIGHT_PLANES * 16, NULL);
    vks_tensor_t s = tu_flat(&a, (uint32_t)(vks_winograd_scratch_bytes(4, 4, 9, 7, g_esize) / 4), NULL);
    vks_conv2d_params_t p = {3, 3, 1, 1, 1, 1, 1, false, 0, 0, {0}}, p2 = {3, 3, 2, 1, 1, 1, 1, false, 0, 0, {0}};
    assert_true(vks_winograd_fits(g_ctx, &p, &x, &u, &y, &s));
    assert_false(vks_winograd_fits(g_ctx, &p, &x, &u, &y, NULL));
    assert_false(vks_winograd_fits(g_ctx, &p2, &x, &u, &y, &s));
    setenv("VKSTYLE_WINOGRAD", "0", 1);
    assert_false(vks_winograd_fits(g_ctx, &p, &x, &u, &y, &s));
    unsetenv("VKSTYLE_WINOGRAD");
    tu_arena_done(&a);
}

/* The transformed weights as a model's load computes them on the device (conv2d_wino_weights)
 * against vks_winograd_weights, on odd channel counts; with one binding held to the least it runs
 * with, the 3x3 weights' 9 planes (each tile's planes then take several dispatches, from offsets
 * that are not multiples of the storage alignment); and its refusals. */
static void run_winograd_weights(uint32_t cout, uint32_t cin, bool least, uint32_t seed)
{
    uint32_t n = cout * cin;
    float *g = rnd((size_t)n * 9, &seed, -1, 1), *want = malloc((size_t)n * VKS_WINO_WEIGHT_PLANES * sizeof *want);
    vks_winograd_weights(g, cout, cin, want);
    uint64_t keep = g_ctx->max_binding;
    if (least) g_ctx->max_binding = (uint64_t)n * 4 * 9;
    tu_arena_t a;
    tu_arena_init(&a, g_ctx, (VkDeviceSize)n * (9 + VKS_WINO_WEIGHT_PLANES) * 4 + 4096);
    vks_tensor_t tg = tu_flat(&a, n * 9, g), tu = tu_flat(&a, n * VKS_WINO_WEIGHT_PLANES, NULL);
    vks_rec_t rec;
    tu_rec_begin(g_ctx, &rec);
    TU_OK(vks_op_winograd_weights(&rec, &tg, cout, cin, &tu, 7));
    tu_rec_run(&rec);
    vks_rec_destroy(&rec);
    g_ctx->max_binding = keep;
    float *got = tu_download(&a, &tu);
    double worst = 0;
    for (size_t i = 0; i < (size_t)n * VKS_WINO_WEIGHT_PLANES; i++) {
        double d = fabs((double)got[i] - want[i]) / (1.0 + fabs(want[i]));
        if (d > worst) worst = d;
    }
    printf("# winograd weights %u -> %u, %s: worst relative difference %.2g\n", cin, cout,
           least ? "a binding held to 9 planes" : "one binding a tile", worst);
    assert_true(worst <= 1e-6);
    free(got);
    free(g);
    free(want);
    tu_arena_done(&a);
}

static void test_winograd_weights(void **state)
{
    (void)state;
    run_winograd_weights(5, 3, false, 401);
    run_winograd_weights(37, 19, true, 402);
    run_winograd_weights(13, 11, true, 403);
    if (!tu_quick_mode()) run_winograd_weights(128, 128, false, 404);
    /* refusals: sizes that do not match, a plane past one binding */
    tu_arena_t a;
    tu_arena_init(&a, g_ctx, 1 << 20);
    vks_tensor_t tg = tu_flat(&a, 6 * 9, NULL), tu = tu_flat(&a, 6 * VKS_WINO_WEIGHT_PLANES, NULL);
    vks_rec_t rec;
    tu_rec_begin(g_ctx, &rec);
    assert_int_equal(vks_op_winograd_weights(&rec, &tg, 3, 3, &tu, 7), VKS_ERR_SHAPE);
    uint64_t keep = g_ctx->max_binding;
    g_ctx->max_binding = 6 * 4;
    assert_false(vks_winograd_weights_fit(g_ctx, 2, 3));
    assert_int_equal(vks_op_winograd_weights(&rec, &tg, 2, 3, &tu, 7), VKS_ERR_SHAPE);
    g_ctx->max_binding = keep;
    assert_true(vks_winograd_weights_fit(g_ctx, 2, 3));
    tu_rec_run(&rec);
    vks_rec_destroy(&rec);
    tu_arena_done(&a);
}

/* ------------------------------------------------------------------ conv2d_transpose */

/* The same case through vks_op_conv2d_transpose_gemm (the GEMM per kernel tap): weights by
 * vks_conv2d_transpose_gemm_weights from wp ([cout][cin][taps]), scratch from the arena, the
 * weights last with room for a uniform binding after them; checks that its input and output steps
 * ran (the input step from uniform buffers where the input planes fit them: CPU devices, fp32).
 * Where it does not fit (weight rows past a uniform binding, bindings the chunked-bindings test
 * shrank) it runs nothing, nor in fp16 (which it does not take); g_tgemm_runs counts the cases it
 * ran, which the tests check. */
static uint32_t g_tgemm_runs;
static void run_convt_gemm(vks_context_t *ctx, const vks_conv2d_transpose_params_t *p, uint32_t n, uint32_t cin,
                           uint32_t cout, uint32_t h, uint32_t w, uint32_t oh, uint32_t ow, const float *x, const float *wp,
                           const float *b, const float *want, const char *label)
{
    uint32_t taps = p->kh * p->kw;
    if (g_esize != 4) {   /* fp32 only */
        assert_int_equal(vks_conv2d_transpose_gemm_scratch_bytes(p, cin, cout, h, w, oh, ow, g_esize), 0);
        return;
    }
    size_t nin = count4(n, cin, h, w), nw = (size_t)cin * cout * taps, nout = count4(n, cout, oh, ow);
    float *u = malloc(nw * 4);
    vks_conv2d_transpose_gemm_weights(wp, cout, cin, taps, u);
    VkDeviceSize sbytes = vks_conv2d_transpose_gemm_scratch_bytes(p, cin, cout, h, w, oh, ow, g_esize);
    assert_true(sbytes > 0);
    tu_arena_t a;
    tu_arena_init(&a, ctx, vks_align(nin * 4, 256) * 2 + nout * 8 + sbytes + nw * 4 + VKS_UBO_BYTES + (1 << 20));
    vks_tensor_t tx = tact(&a, n, cin, h, w, x), tb = tu_flat(&a, cout, b);
    vks_tensor_t ty = tact(&a, n, cout, oh, ow, NULL), ts = tu_flat(&a, (uint32_t)(sbytes / 4), NULL);
    vks_tensor_t tu = tu_flat(&a, (uint32_t)nw, u);
    if (!vks_conv2d_transpose_gemm_fits(ctx, p, &tx, &tu, &ty, &ts)) {
        tu_arena_done(&a);
        free(u);
        return;
    }
    g_tgemm_runs++;
    assert_false(vks_conv2d_transpose_gemm_fits(ctx, p, &tx, &tu, &ty, NULL));
    vks_shader_id_t in_id = variant(VKS_SHADER_CONV2D_TGEMM_IN), out_id = variant(VKS_SHADER_CONV2D_TGEMM_OUT);
    bool xubo = g_input_ubo && g_esize == 4 && (VkDeviceSize)tx.plane_stride * 4 <= VKS_UBO_BYTES &&
                !vks_env_is("VKSTYLE_WINO_IN_UBO", "0");
    if (xubo) in_id = VKS_SHADER_CONV2D_TGEMM_IN_XUBO;
    uint64_t in_before = ctx->shader_dispatches[in_id], out_before = ctx->shader_dispatches[out_id];
    vks_rec_t rec;
    tu_rec_begin(ctx, &rec);
    TU_OK(vks_op_conv2d_transpose_gemm(&rec, p, &tx, &tu, &tb, &ty, &ts));
    tu_rec_run(&rec);
    assert_true(ctx->shader_dispatches[in_id] > in_before && ctx->shader_dispatches[out_id] > out_before);
    float *got = tu_download(&a, &ty);
    char buf[128];
    snprintf(buf, sizeof buf, "%s, GEMM per tap %u->%u %ux%u", label, cin, cout, h, w);
    assert_int_equal(ref_compare(buf, got, want, nout, tol(ATOL), tol(RTOL)), 0);
    vks_rec_destroy(&rec);
    tu_arena_done(&a);
    free(u); free(got);
}

static void run_convt(vks_context_t *ctx, uint32_t n, uint32_t cin, uint32_t cout, uint32_t h, uint32_t w,
                      int pad, int bias, int act, uint32_t seed)
{
    uint32_t k = 3, s = 2, oh = h * s, ow = w * s;
    size_t nin = count4(n, cin, h, w), nw = (size_t)cin * cout * k * k, nout = count4(n, cout, oh, ow);
    float *x = rnd(nin, &seed, -1, 1), *wt = rnd(nw, &seed, -0.3f, 0.3f);
    float *b = rnd(cout, &seed, -0.5f, 0.5f), *want = malloc(nout * 4);
    ref_conv2d_transpose(x, (int)n, (int)cin, (int)h, (int)w, wt, bias ? b : NULL, (int)cout, 3, 3, 2, pad, (ref_act_t)act, want);
    tu_arena_t a;
    tu_arena_init(&a, ctx, (nin + nw + nout + cout) * 4 + (8 << 20));
    float *wp = malloc(nw * 4);
    vks_conv2d_transpose_permute(wt, wp, cin, cout, k * k);
    vks_tensor_t tx = tact(&a, n, cin, h, w, x), tw = tu_flat(&a, (uint32_t)nw, wp), tb = tu_flat(&a, cout, b);
    vks_tensor_t ty = tact(&a, n, cout, oh, ow, NULL);
    vks_conv2d_transpose_params_t p = {3, 3, 2, 2, pad, pad, (uint32_t)act, g_var};
    vks_rec_t rec;
    tu_rec_begin(ctx, &rec);
    TU_OK(vks_op_conv2d_transpose(&rec, &p, &tx, &tw, bias ? &tb : NULL, &ty));
    tu_rec_run(&rec);
    float *got = tu_download(&a, &ty);
    assert_int_equal(ref_compare("conv2d_transpose", got, want, nout, tol(ATOL), tol(RTOL)), 0);
    vks_rec_destroy(&rec);
    tu_arena_done(&a);
    if (!bias) memset(b, 0, cout * 4);   /* the GEMM's case always has a bias: zeros */
    run_convt_gemm(ctx, &p, n, cin, cout, h, w, oh, ow, x, wp, b, want, "conv2d_transpose");
    free(x); free(wt); free(wp); free(b); free(want); free(got);
}

/* Every variant the tuner may choose (tune.c) against the C reference: each direct tile it tries
 * for a layer, on the shapes of test_conv2d whose shader variants differ (storage weights, uniform
 * weights, uniform input), the transposed convolution's, and Winograd F(2x2), F(4x4) and F(6x6)
 * chosen by the variant rather than by the heuristic (test_conv2d_winograd). */
static void test_conv_variants(void **state)
{
    (void)state;
    /* every tile on the default shader variant (uniform weights); one other tile on the others
     * (storage weights; uniform input too): the tile is only specialization constants, and each
     * pair is a compile (about a second on Mesa 25 lavapipe) */
    static const size_t cases[] = {1, 12, 13};
    for (size_t c = 0; c < sizeof cases / sizeof *cases; c++) {
        const conv_case_t *cc = &conv_cases[cases[c]];
        if (tu_quick_mode() && c) break;
        uint32_t ow = cc->w / cc->stride;   /* about the columns (the heuristic tile follows them) */
        vks_conv_variant_t v[8];
        uint32_t n = vks_conv_direct_variants(cc->cout, ow, VKS_CONV_OC, v, 8);
        assert_true(n >= 3);
        for (uint32_t k = c ? 1 : 0; k < (c ? 2 : n); k++) {
            if (tu_quick_mode() && k > 1) break;   /* quick: the heuristic's tile and one other */
            g_var = v[k];
            run_conv(g_ctx, cc, 700 + (uint32_t)k);
        }
    }
    /* the transposed convolution's tiles; 21 output channels (16 + 5: a full and a partial tile of
     * the wide one, which is the heuristic's on a CPU device; 8 + 8 + 5 of the other) and, but in
     * the quick mode (each tile is a compile: about 2 s each on Mesa 25 with a cold cache), 7 (one
     * partial tile of either width); the quick mode runs only the two widths' heuristic shapes
     * (the full mode runs on Mesa 22.3 in CI, and under ASan) */
    static const uint32_t touts[] = {21, 7};
    for (size_t c = 0; c < (tu_quick_mode() ? 1 : sizeof touts / sizeof *touts); c++) {
        vks_conv_variant_t v[8];
        uint32_t n = vks_conv_direct_variants(touts[c], 11, vks_conv_transpose_oc(g_ctx, touts[c], 11), v, 8);
        assert_true(n >= 3);
        if (touts[c] > VKS_CONV_OC) assert_int_not_equal(v[n - 1].oc, v[0].oc);   /* the other width, last */
        for (uint32_t k = 0; k < n; k++) {
            if (tu_quick_mode() && k != 0 && k != n - 1) continue;   /* quick: the two widths' heuristic tiles */
            g_var = v[k];
            run_convt(g_ctx, 1, 5, touts[c], 9, 11, 1, 1, REF_ACT_RELU, 720 + 10 * (uint32_t)c + k);
        }
    }
    /* a convolution's wide tile (the tuner's last candidate for more than VKS_CONV_OC channels): 21
     * output channels, stride 2, TensorFlow SAME padding, uniform weights */
    const conv_case_t wide = {1, 5, 21, 17, 31, 3, 2, 1, {0}, 0, 1, REF_ACT_RELU};
    vks_conv_variant_t v[8];
    uint32_t n = vks_conv_direct_variants(wide.cout, wide.w / 2, VKS_CONV_OC, v, 8);
    assert_int_equal(v[n - 1].oc, VKS_CONV_OC_WIDE);
    g_var = v[n - 1];
    run_conv(g_ctx, &wide, 740);
    g_var = (vks_conv_variant_t){0};
}

/* The implicit-GEMM convolution (conv2d_igemm.comp, the tuner's VKS_CONV_IGEMM) against the C
 * reference: test_conv2d's cases (kernels 1 to 9, strides 1 and 2, zero and reflection padding,
 * batch 2, 257x333 planes), edge padding and strides per axis, the transposed convolution's stride
 * phases (strides 1 to 4, pads, output padding, a phase no tap reaches), each workgroup tile on
 * some of them; test_chunked_bindings and test_split_dispatches run it chunked and split. */
static void run_convt_ex(vks_context_t *ctx, uint32_t cin, uint32_t cout, uint32_t h, uint32_t w, uint32_t kh, uint32_t kw,
                         uint32_t sh, uint32_t sw, const int pads[4], const int opad[2], int act, uint32_t seed);
static void test_conv_igemm(void **state)
{
    (void)state;
    size_t ncases = sizeof conv_cases / sizeof *conv_cases;
    for (size_t i = 0; i < ncases; i++) {   /* the tile: each of the four in turn */
        if (tu_quick_mode() && i != 4 && i != 6) continue;
        g_var = (vks_conv_variant_t){VKS_CONV_IGEMM, 1 + (uint32_t)i % 4, 0, 0};
        run_conv(g_ctx, &conv_cases[i], 500 + (uint32_t)i);
    }
    const int p1[4] = {1, 2, 2, 1}, p3[4] = {3, 3, 3, 3}, p0[4] = {0, 0, 0, 0};
    g_var = (vks_conv_variant_t){VKS_CONV_IGEMM, 0, 0, 0};   /* the heuristic's tile */
    run_conv_ex(3, 5, 9, 11, 3, 2, 2, 3, p1, VKS_PAD_EDGE, REF_ACT_NONE, 522);
    if (!tu_quick_mode()) {
        run_conv_ex(2, 3, 13, 17, 5, 5, 4, 1, p3, VKS_PAD_REFLECT, REF_ACT_TANH, 523);
        run_conv_ex(1, 2, 5, 4, 1, 1, 4, 4, p0, VKS_PAD_ZERO, REF_ACT_NONE, 524);
    }
    const int tp1[4] = {1, 2, 0, 1}, o1[2] = {1, 2}, o2[2] = {1, 1}, tp0[4] = {0, 0, 0, 0}, o0[2] = {0, 0};
    run_convt(g_ctx, 2, 5, 7, 9, 11, 1, 1, REF_ACT_RELU, 525);
    run_convt_ex(g_ctx, 3, 5, 3, 7, 3, 3, 2, 3, tp1, o1, REF_ACT_NONE, 526);   /* strides 2x3, pads, output padding */
    if (!tu_quick_mode()) {
        g_var.px = 4;   /* 8 x 128 */
        run_convt_ex(g_ctx, 4, 2, 3, 7, 2, 5, 4, 2, tp1, o2, REF_ACT_TANH, 527);   /* stride 4: phases with no tap */
        run_convt_ex(g_ctx, 2, 3, 5, 4, 3, 3, 1, 1, tp0, o0, REF_ACT_RELU, 528);   /* stride 1 */
        g_var.px = 1;   /* 64 x 64: 70 output channels in two workgroup rows */
        run_convt(g_ctx, 1, 9, 70, 6, 5, 0, 0, REF_ACT_NONE, 529);
    }
    g_var = (vks_conv_variant_t){0};
    /* the tuner's candidates: the heuristic's tile for the channels, and the next narrower */
    vks_conv_variant_t v[4];
    assert_int_equal(vks_conv_igemm_variants(g_ctx, 128, v, 4), 2);
    assert_true(v[0].algo == VKS_CONV_IGEMM && v[0].px == 1 && v[1].px == 2);
    assert_int_equal(vks_conv_igemm_variants(g_ctx, 3, v, 4), 1);
    assert_int_equal(v[0].px, 4);
    /* every tile ran */
    for (uint32_t bm = 8; bm <= 64 && !tu_quick_mode(); bm *= 2) {
        bool ran = false;
        for (size_t i = 0; i < g_ctx->npipelines; i++)
            ran |= g_ctx->pipelines[i]->shader == variant(VKS_SHADER_CONV2D_IGEMM) && g_ctx->pipelines[i]->spec[8] == bm;
        if (!ran) fail_msg("no implicit-GEMM pipeline with %u output channels a workgroup", bm);
    }
}

/* ONNX ConvTranspose's form: strides per axis, pads, output padding (ref_conv2d_transpose_ex). */
static void run_convt_ex(vks_context_t *ctx, uint32_t cin, uint32_t cout, uint32_t h, uint32_t w, uint32_t kh, uint32_t kw,
                         uint32_t sh, uint32_t sw, const int pads[4], const int opad[2], int act, uint32_t seed)
{
    uint32_t oh = (h - 1) * sh + kh - (uint32_t)(pads[0] + pads[1]) + (uint32_t)opad[0];
    uint32_t ow = (w - 1) * sw + kw - (uint32_t)(pads[2] + pads[3]) + (uint32_t)opad[1];
    size_t nin = count4(1, cin, h, w), nw = (size_t)cin * cout * kh * kw, nout = count4(1, cout, oh, ow);
    float *x = rnd(nin, &seed, -1, 1), *wt = rnd(nw, &seed, -0.3f, 0.3f);
    float *b = rnd(cout, &seed, -0.5f, 0.5f), *want = malloc(nout * 4);
    ref_conv2d_transpose_ex(x, 1, (int)cin, (int)h, (int)w, wt, b, (int)cout, (int)kh, (int)kw, (int)sh, (int)sw, pads[0],
                            pads[1], pads[2], pads[3], opad[0], opad[1], (ref_act_t)act, want);
    tu_arena_t a;
    tu_arena_init(&a, ctx, (nin + nw + nout + cout) * 4 + (8 << 20));
    float *wp = malloc(nw * 4);
    vks_conv2d_transpose_permute(wt, wp, cin, cout, kh * kw);
    vks_tensor_t tx = tact(&a, 1, cin, h, w, x), tw = tu_flat(&a, (uint32_t)nw, wp), tb = tu_flat(&a, cout, b);
    vks_tensor_t ty = tact(&a, 1, cout, oh, ow, NULL);
    vks_conv2d_transpose_params_t p = {kh, kw, sh, sw, pads[0], pads[2], (uint32_t)act, g_var};
    vks_rec_t rec;
    tu_rec_begin(ctx, &rec);
    TU_OK(vks_op_conv2d_transpose(&rec, &p, &tx, &tw, &tb, &ty));
    tu_rec_run(&rec);
    float *got = tu_download(&a, &ty);
    assert_int_equal(ref_compare("conv2d_transpose (pads)", got, want, nout, tol(ATOL), tol(RTOL)), 0);
    vks_rec_destroy(&rec);
    tu_arena_done(&a);
    /* the GEMM per tap takes kernels of sides up to 7 with strides no larger than them */
    if (kh <= 7 && kw <= 7 && sh <= kh && sw <= kw)
        run_convt_gemm(ctx, &p, 1, cin, cout, h, w, oh, ow, x, wp, b, want, "conv2d_transpose (pads)");
    else
        assert_int_equal(vks_conv2d_transpose_gemm_scratch_bytes(&p, cin, cout, h, w, oh, ow, g_esize), 0);
    free(x); free(wt); free(wp); free(b); free(want); free(got);
}

static void test_conv2d_transpose_pads(void **state)
{
    (void)state;
    const int p0[4] = {0, 0, 0, 0}, p1[4] = {1, 2, 0, 1}, o0[2] = {0, 0}, o1[2] = {1, 2}, o2[2] = {1, 1};
    uint32_t runs = g_tgemm_runs;
    run_convt_ex(g_ctx, 3, 5, 3, 7, 3, 3, 2, 3, p1, o1, REF_ACT_NONE, 81);   /* quick: strides 2x3, pads, output padding */
    assert_int_equal(g_tgemm_runs - runs, g_esize == 4);
    if (tu_quick_mode()) return;
    run_convt_ex(g_ctx, 2, 3, 5, 4, 3, 3, 1, 1, p0, o0, REF_ACT_RELU, 82);   /* stride 1: output k - 1 larger */
    run_convt_ex(g_ctx, 4, 2, 3, 7, 2, 5, 4, 2, p1, o2, REF_ACT_TANH, 83);   /* stride 4, a 2x5 kernel (not the GEMM's) */
    run_convt_ex(g_ctx, 1, 1, 1, 1, 3, 3, 2, 2, p0, o2, REF_ACT_NONE, 84);   /* one pixel */
    run_convt_ex(g_ctx, 5, 4, 9, 6, 5, 3, 2, 3, p1, o2, REF_ACT_RELU, 85);   /* a 5x3 kernel, strides 2x3 */
    assert_int_equal(g_tgemm_runs - runs, g_esize == 4 ? 4 : 0);
    /* an output larger than the input and kernel allow is refused */
    tu_arena_t a;
    tu_arena_init(&a, g_ctx, 1 << 20);
    vks_tensor_t x = tact(&a, 1, 2, 3, 3, NULL), wt = tu_flat(&a, 2 * 2 * 9, NULL), y = tact(&a, 1, 2, 8, 7, NULL);
    vks_conv2d_transpose_params_t p = {3, 3, 2, 2, 0, 0, 0, {0}};   /* at most (3-1)*2 + 3 + 1 = 8 rows */
    vks_rec_t rec;
    tu_rec_begin(g_ctx, &rec);
    TU_OK(vks_op_conv2d_transpose(&rec, &p, &x, &wt, NULL, &y));
    vks_tensor_t y2 = tact(&a, 1, 2, 9, 7, NULL);
    assert_int_equal(vks_op_conv2d_transpose(&rec, &p, &x, &wt, NULL, &y2), VKS_ERR_SHAPE);
    TU_OK(vks_rec_end(&rec));
    vks_rec_destroy(&rec);
    tu_arena_done(&a);
}

/* ------------------------------------------------------------------ pad */

static void run_pad(uint32_t c, uint32_t h, uint32_t w, const uint32_t pads[4], uint32_t mode, float value, uint32_t seed)
{
    uint32_t oh = h + pads[0] + pads[1], ow = w + pads[2] + pads[3];
    size_t nin = count4(1, c, h, w), nout = count4(1, c, oh, ow);
    float *x = rnd(nin, &seed, -1, 1), *want = malloc(nout * 4);
    ref_pad(x, 1, (int)c, (int)h, (int)w, (int)pads[0], (int)pads[1], (int)pads[2], (int)pads[3], (int)mode, value, want);
    tu_arena_t a;
    tu_arena_init(&a, g_ctx, (nin + 2 * nout) * 4 + (1 << 20));
    vks_tensor_t tx = tact(&a, 1, c, h, w, x), ty = tact(&a, 1, c, oh, ow, NULL);
    vks_pad_params_t p = {.mode = mode, .pads = {pads[0], pads[1], pads[2], pads[3]}, .value = value};
    vks_rec_t rec;
    tu_rec_begin(g_ctx, &rec);
    TU_OK(vks_op_pad(&rec, &p, &tx, &ty));
    /* a band of output rows [2, oh - 1) from the input rows it reads (tiles): the same rows */
    uint32_t r0 = 2, r1 = oh - 1, lo = h, hi = 0;
    for (uint32_t r = r0; r < r1; r++) {
        int sy = (int)r - (int)pads[0];
        if (mode == VKS_PAD_REFLECT) sy = sy < 0 ? -sy : sy >= (int)h ? 2 * ((int)h - 1) - sy : sy;
        else sy = sy < 0 ? 0 : sy >= (int)h ? (int)h - 1 : sy;
        lo = (uint32_t)sy < lo ? (uint32_t)sy : lo;
        hi = (uint32_t)sy > hi ? (uint32_t)sy : hi;
    }
    float *rows = malloc(count4(1, c, hi + 1 - lo, w) * 4);
    for (uint32_t ch = 0; ch < c; ch++)
        memcpy(rows + (size_t)ch * (hi + 1 - lo) * w, x + ((size_t)ch * h + lo) * w, (size_t)(hi + 1 - lo) * w * 4);
    vks_tensor_t bx = tact(&a, 1, c, hi + 1 - lo, w, rows), by = tact(&a, 1, c, r1 - r0, ow, NULL);
    vks_pad_params_t pb = p;
    pb.whole_h = h, pb.oy0 = r0, pb.iy0 = lo;
    TU_OK(vks_op_pad(&rec, &pb, &bx, &by));
    tu_rec_run(&rec);
    float *got = tu_download(&a, &ty), *gotb = tu_download(&a, &by);
    assert_int_equal(ref_compare("pad", got, want, nout, tol(ATOL), tol(RTOL)), 0);
    for (uint32_t ch = 0; ch < c; ch++)
        assert_int_equal(ref_compare("pad band", gotb + (size_t)ch * (r1 - r0) * ow, want + ((size_t)ch * oh + r0) * ow,
                                     (size_t)(r1 - r0) * ow, tol(ATOL), tol(RTOL)), 0);
    vks_rec_destroy(&rec);
    tu_arena_done(&a);
    free(x); free(want); free(rows); free(got); free(gotb);
}

static void test_pad(void **state)
{
    (void)state;
    const uint32_t p1[4] = {2, 1, 3, 2}, p2[4] = {0, 4, 1, 0};
    run_pad(3, 7, 5, p1, VKS_PAD_REFLECT, 0, 91);
    run_pad(3, 7, 5, p2, VKS_PAD_EDGE, 0, 92);
    run_pad(3, 7, 5, p1, VKS_PAD_ZERO, -1.5f, 93);
    if (!tu_quick_mode()) {
        run_pad(1, 5, 9, p2, VKS_PAD_ZERO, 0, 94);
        run_pad(2, 3, 4, p1, VKS_PAD_REFLECT, 0, 95);
    }
    /* reflection wider than the input, and a wrong output size */
    tu_arena_t a;
    tu_arena_init(&a, g_ctx, 1 << 20);
    vks_tensor_t x = tact(&a, 1, 2, 2, 5, NULL), y = tact(&a, 1, 2, 5, 10, NULL), y2 = tact(&a, 1, 2, 6, 10, NULL);
    vks_pad_params_t p = {.mode = VKS_PAD_REFLECT, .pads = {2, 1, 3, 2}};
    vks_rec_t rec;
    tu_rec_begin(g_ctx, &rec);
    assert_int_equal(vks_op_pad(&rec, &p, &x, &y), VKS_ERR_SHAPE);
    assert_non_null(strstr(vks_last_error(), "reflection"));
    p.mode = VKS_PAD_EDGE;
    TU_OK(vks_op_pad(&rec, &p, &x, &y));
    assert_int_equal(vks_op_pad(&rec, &p, &x, &y2), VKS_ERR_SHAPE);
    TU_OK(vks_rec_end(&rec));
    vks_rec_destroy(&rec);
    tu_arena_done(&a);
}

static void test_conv2d_transpose(void **state)
{
    (void)state;
    uint32_t runs = g_tgemm_runs;
    if (!tu_quick_mode()) {   /* quick: the last three, one per shader variant */
        run_convt(g_ctx, 1, 4, 6, 3, 5, 0, 0, REF_ACT_NONE, 1);
        run_convt(g_ctx, 2, 5, 3, 17, 31, 0, 1, REF_ACT_RELU, 2);
        run_convt(g_ctx, 1, 3, 2, 1, 1, 1, 1, REF_ACT_NONE, 3);
        run_convt(g_ctx, 2, 6, 5, 9, 7, 1, 0, REF_ACT_TANH, 4);
    }
    uint32_t wide = g_tgemm_runs;
    run_convt(g_ctx, 1, 1900, 2, 3, 4, 1, 1, REF_ACT_NONE, 5);   /* 68 KB weight rows: storage path */
    /* (the GEMM per tap takes these only where its register tile's rows fit a uniform binding:
     * VKSTYLE_WINO_TILE, as the validation tests set it) */
    runs += g_tgemm_runs - wide;
    run_convt(g_ctx, 1, 2, 3, 130, 130, 1, 1, REF_ACT_RELU, 6);   /* 67 KB input planes: input from a storage buffer */
    run_convt(g_ctx, 1, 25, 20, 64, 100, 1, 1, REF_ACT_RELU, 7);  /* 25 KB planes, 2 a uniform buffer: 2 chunks */
    /* and by the GEMM per tap (fp32): all of them */
    assert_int_equal(g_tgemm_runs - runs, g_esize != 4 ? 0 : tu_quick_mode() ? 2 : 6);
    int ubo = 0, ssbo = 0, xubo = 0;
    for (size_t i = 0; i < g_ctx->npipelines; i++) {
        ubo += g_ctx->pipelines[i]->shader == variant(VKS_SHADER_CONV2D_TRANSPOSE_UBO);
        ssbo += g_ctx->pipelines[i]->shader == variant(VKS_SHADER_CONV2D_TRANSPOSE);
        xubo += g_ctx->pipelines[i]->shader == VKS_SHADER_CONV2D_TRANSPOSE_XUBO;
    }
    assert_true(ubo > 0 && ssbo > 0 && (g_esize == 2 || !vks_input_ubo(g_ctx) || xubo > 0));   /* *_xubo: CPU devices */
}

/* ------------------------------------------------------------------ element-wise and norms */

static void test_upsample(void **state)
{
    (void)state;
    const uint32_t shapes[][4] = {{2, 3, 1, 1}, {1, 5, 17, 31}};
    for (int i = 0; i < 2; i++) {
        uint32_t n = shapes[i][0], c = shapes[i][1], h = shapes[i][2], w = shapes[i][3], seed = 7;
        size_t nin = count4(n, c, h, w);
        float *x = rnd(nin, &seed, -1, 1), *want = malloc(nin * 16);
        ref_upsample_nearest2(x, (int)n, (int)c, (int)h, (int)w, want);
        tu_arena_t a;
        tu_arena_init(&a, g_ctx, nin * 40 + (1 << 20));
        vks_tensor_t tx = tact(&a, n, c, h, w, x), ty = tact(&a, n, c, 2 * h, 2 * w, NULL);
        vks_rec_t rec;
        tu_rec_begin(g_ctx, &rec);
        TU_OK(vks_op_upsample_nearest(&rec, &tx, &ty));
        tu_rec_run(&rec);
        float *got = tu_download(&a, &ty);
        assert_int_equal(ref_compare("upsample", got, want, nin * 4, 0, 0), 0);
        vks_rec_destroy(&rec);
        tu_arena_done(&a);
        free(x); free(want); free(got);
    }
    /* other factors, per axis: 3 x 1 (quick), 1 x 1, 8 x 5 */
    const uint32_t fac[3][2] = {{3, 1}, {1, 1}, {8, 5}};
    for (int i = 0; i < (tu_quick_mode() ? 1 : 3); i++) {
        uint32_t c = 3, h = 7, w = 5, sh = fac[i][0], sw = fac[i][1], seed = 17;
        size_t nin = count4(1, c, h, w), nout = nin * sh * sw;
        float *x = rnd(nin, &seed, -1, 1), *want = malloc(nout * 4);
        ref_upsample_nearest(x, 1, (int)c, (int)h, (int)w, (int)sh, (int)sw, want);
        tu_arena_t a;
        tu_arena_init(&a, g_ctx, (nin + 2 * nout) * 4 + (1 << 20));
        vks_tensor_t tx = tact(&a, 1, c, h, w, x), ty = tact(&a, 1, c, sh * h, sw * w, NULL);
        vks_rec_t rec;
        tu_rec_begin(g_ctx, &rec);
        TU_OK(vks_op_upsample_nearest(&rec, &tx, &ty));
        tu_rec_run(&rec);
        float *got = tu_download(&a, &ty);
        assert_int_equal(ref_compare("upsample (factors)", got, want, nout, 0, 0), 0);
        vks_rec_destroy(&rec);
        tu_arena_done(&a);
        free(x); free(want); free(got);
    }
}

/* A tensor's whole range, the padding after each plane included, set to the byte 0xA5 (an op
 * writes the planes; padding_untouched then says whether it left the rest alone). */
static void fill_sentinel(tu_arena_t *a, const vks_tensor_t *t)
{
    VkDeviceSize bytes = vks_tensor_bytes(t);
    unsigned char *d = malloc(bytes);
    assert_non_null(d);
    memset(d, 0xA5, bytes);
    TU_OK(vks_block_upload(a->ctx, &a->block, t->offset, d, bytes));
    free(d);
}

/* Whether every byte of every plane's padding (plane_stride - h x w elements) still holds 0xA5. */
static bool padding_untouched(tu_arena_t *a, const vks_tensor_t *t)
{
    VkDeviceSize bytes = vks_tensor_bytes(t), plane = (VkDeviceSize)t->plane_stride * t->esize;
    VkDeviceSize used = (VkDeviceSize)t->h * t->w * t->esize;
    unsigned char *d = malloc(bytes);
    assert_non_null(d);
    TU_OK(vks_block_download(a->ctx, &a->block, t->offset, d, bytes));
    bool ok = true;
    for (VkDeviceSize p = 0; p < (VkDeviceSize)t->n * t->c && ok; p++)
        for (VkDeviceSize i = p * plane + used; i < (p + 1) * plane && ok; i++) ok = d[i] == 0xA5;
    free(d);
    return ok;
}

/* Instance norm against the C reference. part > 0: through vks_op_instance_norm_scratch with the
 * planes split into ranges of part elements (VKSTYLE_NORM_SPLIT, set here; GPUs split planes of
 * 2 x VKS_NORM_PART and more: channel_stats on the ranges, channel_stats_combine, the normalization
 * by range), each (sample, channel chunk) one combine dispatch, so the count says the split path
 * ran; then again into a fresh output with a scratch one float too small: one workgroup a plane,
 * no combine dispatch, the same result. */
static void run_instance_norm_ex(vks_context_t *ctx, uint32_t n, uint32_t c, uint32_t h, uint32_t w, float mean_offset,
                                 float eps, int act, int residual, uint32_t part, uint32_t seed)
{
    if (tu_quick_mode() && h * w > QUICK_MAX_PIXELS) return;
    size_t cnt = count4(n, c, h, w);
    float *x = rnd(cnt, &seed, -1, 1), *r = rnd(cnt, &seed, -1, 1);
    for (size_t i = 0; i < cnt; i++) x[i] += mean_offset;
    quantize(x, cnt);
    float *g = rnd(c, &seed, 0.5f, 2), *b = rnd(c, &seed, -1, 1), *want = malloc(cnt * 4);
    ref_instance_norm(x, (int)n, (int)c, (int)h, (int)w, g, b, eps, (ref_act_t)act, residual ? r : NULL, want);
    char saved[16] = "", v[16];
    if (part) {
        if (getenv("VKSTYLE_NORM_SPLIT")) snprintf(saved, sizeof saved, "%s", getenv("VKSTYLE_NORM_SPLIT"));
        snprintf(v, sizeof v, "%u", part);
        setenv("VKSTYLE_NORM_SPLIT", v, 1);
    }
    tu_arena_t a;
    tu_arena_init(&a, ctx, cnt * 24 + (1 << 20));
    vks_tensor_t tx = tact(&a, n, c, h, w, x), tr = tact(&a, n, c, h, w, r);
    vks_tensor_t tg = tu_flat(&a, c, g), tb = tu_flat(&a, c, b);
    VkDeviceSize sbytes = part ? vks_instance_norm_scratch_bytes(&tx) : 0;
    if (part) assert_true(sbytes > 0);
    char label[96];
    snprintf(label, sizeof label, "instance_norm %ux%ux%ux%u offset %g split %u", n, c, h, w, (double)mean_offset, part);
    for (uint32_t pass = 0; pass < (part ? 2u : 1u); pass++) {
        vks_tensor_t ty = tact(&a, n, c, h, w, NULL), ts = {0};
        fill_sentinel(&a, &ty);   /* the planes' padding must stay as it is (instance_norm_v4 masks its last quad) */
        if (part) ts = tu_flat(&a, (uint32_t)(sbytes / 4) - pass, NULL);
        uint64_t before = ctx->shader_dispatches[VKS_SHADER_CHANNEL_STATS_COMBINE];
        vks_rec_t rec;
        tu_rec_begin(ctx, &rec);
        TU_OK(part ? vks_op_instance_norm_scratch(&rec, &tx, &ty, &tg, 0, &tb, 0, eps, (uint32_t)act,
                                                  residual ? &tr : NULL, &ts)
                   : vks_op_instance_norm(&rec, &tx, &ty, &tg, 0, &tb, 0, eps, (uint32_t)act, residual ? &tr : NULL));
        tu_rec_run(&rec);
        uint64_t combines = ctx->shader_dispatches[VKS_SHADER_CHANNEL_STATS_COMBINE] - before;
        if (part && pass == 0) assert_true(combines >= n);
        else assert_int_equal(combines, 0);
        float *got = tu_download(&a, &ty);
        assert_int_equal(ref_compare(label, got, want, cnt, tol(ATOL * 4), tol(RTOL * 4)), 0);
        assert_true(padding_untouched(&a, &ty));
        vks_rec_destroy(&rec);
        free(got);
    }
    tu_arena_done(&a);
    if (part && saved[0]) setenv("VKSTYLE_NORM_SPLIT", saved, 1);
    else if (part) unsetenv("VKSTYLE_NORM_SPLIT");
    free(x); free(r); free(g); free(b); free(want);
}

static void run_instance_norm(vks_context_t *ctx, uint32_t n, uint32_t c, uint32_t h, uint32_t w, float mean_offset,
                              float eps, int act, int residual, uint32_t seed)
{
    run_instance_norm_ex(ctx, n, c, h, w, mean_offset, eps, act, residual, 0, seed);
}

static void test_instance_norm(void **state)
{
    (void)state;
    /* quick (CI's validation stages): one pipeline (the activation is a specialization constant and
     * changes no address): not the 1x1 plane without a residual, whose reads the ones with a
     * residual include, and the 17x31 planes with the ReLU */
    if (!tu_quick_mode()) run_instance_norm(g_ctx, 1, 3, 1, 1, 0, 1e-3f, REF_ACT_NONE, 0, 1);
    run_instance_norm(g_ctx, 2, 5, 3, 5, 0, 1e-5f, REF_ACT_RELU, 1, 2);
    run_instance_norm(g_ctx, 2, 5, 17, 31, 0, 1e-3f, tu_quick_mode() ? REF_ACT_RELU : REF_ACT_NONE, 1, 3);
    /* large planes far from zero mean: the two-pass statistics must not cancel. On a CPU device
     * in fp32, planes over 64 KiB go to instance_norm_v4 (4 floats a load; 85581 elements, so
     * the last quad holds one) */
    bool v4 = g_esize == 4 && g_ctx->props.deviceType == VK_PHYSICAL_DEVICE_TYPE_CPU && g_ctx->subgroup_add &&
              !getenv("VKSTYLE_NORM_LOCAL") && !vks_env_is("VKSTYLE_NORM_V4", "0");
    uint64_t v4_before = g_ctx->shader_dispatches[VKS_SHADER_INSTANCE_NORM_V4];
    run_instance_norm(g_ctx, 1, 3, 257, 333, 1000.0f, 1e-3f, REF_ACT_RELU, 0, 4);
    /* and a plane of 720p and more (1080 x 1000, each invocation's loops past 65535 iterations in
     * all if the plane loops were not unrolled) */
    run_instance_norm(g_ctx, 1, 2, 1080, 1000, 3.0f, 1e-3f, REF_ACT_NONE, 1, 10);
    if (v4 && !tu_quick_mode())   /* quick leaves large planes out; the 17x31 case below runs it */
        assert_int_equal(g_ctx->shader_dispatches[VKS_SHADER_INSTANCE_NORM_V4] - v4_before, 2);
    /* fp32 on a CPU device reads planes of at most 64 KiB from uniform buffers (instance_norm_xubo;
     * the cases above too, unless VKSTYLE_NORM_UBO=0, which GPU-assisted validation sets for every
     * test but this one: its instrumented compiles took a minute there): 13 planes of 36 KiB, one a
     * buffer, take two dispatches of 11 and 2 (quick: 2 samples of 5 planes, a dispatch each); and
     * the storage path on the quick case's planes */
    char saved[8] = "";
    if (getenv("VKSTYLE_NORM_UBO")) snprintf(saved, sizeof saved, "%s", getenv("VKSTYLE_NORM_UBO"));
    setenv("VKSTYLE_NORM_UBO", "1", 1);
    uint64_t before = g_ctx->shader_dispatches[VKS_SHADER_INSTANCE_NORM_XUBO];
    if (tu_quick_mode()) run_instance_norm(g_ctx, 2, 5, 17, 31, 0, 1e-3f, REF_ACT_RELU, 1, 5);
    else run_instance_norm(g_ctx, 1, 13, 100, 90, 5.0f, 1e-3f, REF_ACT_NONE, 1, 5);
    if (g_esize == 4 && vks_input_ubo(g_ctx))
        assert_int_equal(g_ctx->shader_dispatches[VKS_SHADER_INSTANCE_NORM_XUBO] - before, 2);
    /* instance_norm_xubo sums by subgroupAdd where its workgroup is one subgroup (a CPU device's
     * default, every case above), else through shared memory: a workgroup of 32 (several
     * subgroups on lavapipe), and of 4 (part of one subgroup) */
    if (!tu_quick_mode()) {
        const char *locals[2] = {"32", "4"};
        for (int i = 0; i < 2; i++) {
            setenv("VKSTYLE_NORM_LOCAL", locals[i], 1);
            run_instance_norm(g_ctx, 2, 5, 17, 31, 3.0f, 1e-3f, REF_ACT_RELU, 1, 7 + (uint32_t)i);
        }
        unsetenv("VKSTYLE_NORM_LOCAL");
    }
    /* storage input: instance_norm_v4 where it applies (527 elements: a last quad of 3, and a
     * residual), then the plain variant */
    setenv("VKSTYLE_NORM_UBO", "0", 1);
    v4_before = g_ctx->shader_dispatches[VKS_SHADER_INSTANCE_NORM_V4];
    run_instance_norm(g_ctx, 2, 5, 17, 31, 0, 1e-3f, REF_ACT_RELU, 1, 6);
    if (v4) {
        assert_int_equal(g_ctx->shader_dispatches[VKS_SHADER_INSTANCE_NORM_V4] - v4_before, 2);
        uint64_t plain = g_ctx->shader_dispatches[VKS_SHADER_INSTANCE_NORM];
        setenv("VKSTYLE_NORM_V4", "0", 1);
        run_instance_norm(g_ctx, 2, 5, 17, 31, 0, 1e-3f, REF_ACT_RELU, 1, 9);
        unsetenv("VKSTYLE_NORM_V4");
        assert_int_equal(g_ctx->shader_dispatches[VKS_SHADER_INSTANCE_NORM] - plain, 2);
    }
    if (saved[0]) setenv("VKSTYLE_NORM_UBO", saved, 1);
    else unsetenv("VKSTYLE_NORM_UBO");
}

static void test_instance_norm_split(void **state)
{
    (void)state;
    run_instance_norm_ex(g_ctx, 2, 5, 17, 31, 0, 1e-3f, REF_ACT_RELU, 1, 100, 11);   /* 6 ranges, the last of 27 */
    run_instance_norm_ex(g_ctx, 1, 3, 3, 5, 0, 1e-3f, REF_ACT_RELU, 0, 7, 12);        /* 3 ranges, the last of 1 element */
    /* far from zero mean: the ranges' statistics and their combination must not cancel */
    run_instance_norm_ex(g_ctx, 1, 3, 257, 333, 1000.0f, 1e-3f, REF_ACT_RELU, 1, 4096, 13);
}

/* channel_stats over row ranges of every plane against the C reference (fp32 statistics of the
 * possibly fp16 values); planes far from zero mean, as in test_instance_norm. */
static void run_channel_stats(vks_context_t *ctx, uint32_t n, uint32_t c, uint32_t h, uint32_t w, float offset,
                              uint32_t seed)
{
    size_t cnt = count4(n, c, h, w);
    float *x = rnd(cnt, &seed, -1, 1);
    for (size_t i = 0; i < cnt; i++) x[i] += offset;
    quantize(x, cnt);
    tu_arena_t a;
    tu_arena_init(&a, ctx, cnt * 4 + (1 << 20));
    const uint32_t ranges[][2] = {{0, h}, {h / 3, h / 2}, {h - 1, 1}};
    vks_tensor_t tx = tact(&a, n, c, h, w, x), ts = tu_flat(&a, 2 * (3 * n * c + 1), NULL);
    vks_rec_t rec;
    tu_rec_begin(ctx, &rec);
    for (uint32_t r = 0; r < 3; r++) TU_OK(vks_op_channel_stats(&rec, &tx, ranges[r][0], ranges[r][1], &ts, 1 + r * n * c));
    tu_rec_run(&rec);
    float *got = malloc(2 * (3 * n * c + 1) * sizeof(float));
    TU_OK(vks_block_download(ctx, &a.block, ts.offset, got, 2 * (3 * n * c + 1) * sizeof(float)));
    double *want = malloc(2 * n * c * sizeof(double));
    for (uint32_t r = 0; r < 3; r++) {
        ref_channel_stats(x, (int)n, (int)c, (int)h, (int)w, (int)ranges[r][0], (int)ranges[r][1], want);
        for (uint32_t p = 0; p < n * c; p++) {
            double gm = got[2 * (1 + r * n * c + p)], gq = got[2 * (1 + r * n * c + p) + 1];
            double count = (double)ranges[r][1] * w;
            /* fp32 sums of up to 34k values an invocation: 1e-4 of the spread and the mean */
            if (fabs(gm - want[2 * p]) > 1e-4 * (sqrt(want[2 * p + 1] / count) + fabs(want[2 * p])) + 1e-6 ||
                fabs(gq - want[2 * p + 1]) > 1e-4 * want[2 * p + 1] + 1e-6 * count)
                fail_msg("channel_stats rows %u+%u plane %u: mean %.9g M2 %.9g, want %.9g %.9g", ranges[r][0],
                         ranges[r][1], p, gm, gq, want[2 * p], want[2 * p + 1]);
        }
    }
    vks_rec_destroy(&rec);
    tu_arena_done(&a);
    free(x); free(got); free(want);
}

static void test_channel_stats(void **state)
{
    (void)state;
    run_channel_stats(g_ctx, 2, 5, 17, 31, 0.0f, 3);
    run_channel_stats(g_ctx, 1, 3, 257, 333, 1000.0f, 4);
}

/* Planes of more than 65535 loop iterations of one invocation: lavapipe's shaders stop their loops
 * there and go on (gallivm's loop limiter), which cut instance norm short past 5.6 MP and
 * channel_stats past 8.4 MP: a 3000x2900 plane (8.7 MP). Planes past VKS_NORM_MAX_PLANE are refused
 * (the ops, recorded dry: no memory needed). */
static void test_norm_large_plane(void **state)
{
    (void)state;
    if (tu_quick_mode()) return;
    run_instance_norm(g_ctx, 1, 1, 3000, 2900, 1.0f, 1e-3f, REF_ACT_RELU, 0, 93);
    run_channel_stats(g_ctx, 1, 1, 3000, 2900, 1.0f, 94);
    vks_rec_t dry;
    TU_OK(vks_rec_begin_dry(g_ctx, &dry));
    vks_block_t none = {0};
    vks_tensor_t big = vks_tensor_act(&none, 0, 1, 1, 9500, 9500, g_esize), g = vks_tensor_flat(&none, 0, 2);
    assert_int_equal(vks_op_instance_norm(&dry, &big, &big, &g, 0, &g, 0, 1e-3f, 0, NULL), VKS_ERR_SHAPE);
    assert_non_null(strstr(vks_last_error(), "more than its shader takes"));
    assert_int_equal(vks_op_channel_stats(&dry, &big, 0, 9500, &g, 0), VKS_ERR_SHAPE);
    vks_rec_destroy(&dry);
}

/* instance_norm with given statistics uses them, not the plane's: random means and variances
 * against the C reference with the same ones, with residual and activation; chunked channels
 * (stats_off per chunk) under a small binding limit. */
static void run_instance_norm_given(vks_context_t *ctx, uint32_t n, uint32_t c, uint32_t h, uint32_t w, uint32_t seed)
{
    size_t cnt = count4(n, c, h, w);
    float *x = rnd(cnt, &seed, -1, 1), *r = rnd(cnt, &seed, -1, 1);
    float *g = rnd(c, &seed, 0.5f, 2), *b = rnd(c, &seed, -1, 1), *want = malloc(cnt * 4);
    float *stf = tu_random(2 * (n * c + 2), &seed, -0.5f, 0.5f);
    double *mean = malloc(n * c * sizeof(double)), *var = malloc(n * c * sizeof(double));
    for (uint32_t p = 0; p < n * c; p++) {
        stf[2 * (2 + p) + 1] = fabsf(stf[2 * (2 + p) + 1]) + 0.05f;    /* variances */
        mean[p] = stf[2 * (2 + p)];
        var[p] = stf[2 * (2 + p) + 1];
    }
    ref_instance_norm_given(x, (int)n, (int)c, (int)h, (int)w, mean, var, g, b, 1e-3f, REF_ACT_RELU, r, want);
    tu_arena_t a;
    tu_arena_init(&a, ctx, cnt * 16 + (1 << 20));
    vks_tensor_t tx = tact(&a, n, c, h, w, x), tr = tact(&a, n, c, h, w, r), ty = tact(&a, n, c, h, w, NULL);
    vks_tensor_t tg = tu_flat(&a, c, g), tb = tu_flat(&a, c, b), ts = tu_flat(&a, 2 * (n * c + 2), stf);
    vks_rec_t rec;
    tu_rec_begin(ctx, &rec);
    TU_OK(vks_op_instance_norm_given(&rec, &tx, &ty, &tg, 0, &tb, 0, 1e-3f, REF_ACT_RELU, &tr, &ts, 2));
    assert_int_equal(vks_op_instance_norm_given(&rec, &tx, &ty, &tg, 0, &tb, 0, 1e-3f, REF_ACT_RELU, &tr, &ts, 3),
                     VKS_ERR_SHAPE);   /* the table is one channel short */
    tu_rec_run(&rec);
    float *got = tu_download(&a, &ty);
    assert_int_equal(ref_compare("instance_norm given statistics", got, want, cnt, tol(ATOL * 4), tol(RTOL * 4)), 0);
    vks_rec_destroy(&rec);
    tu_arena_done(&a);
    free(x); free(r); free(g); free(b); free(want); free(stf); free(mean); free(var); free(got);
}

static void test_instance_norm_given(void **state)
{
    (void)state;
    run_instance_norm_given(g_ctx, 2, 5, 17, 31, 5);
    tu_limits_push(g_ctx, 2 * 2304, 0);   /* 2 planes per binding: 3 chunks */
    run_instance_norm_given(g_ctx, 2, 5, 17, 31, 6);
    run_channel_stats(g_ctx, 2, 5, 17, 31, 0.0f, 7);
    tu_limits_pop(g_ctx);
}

/* The mix dispatch followed by instance_norm, as a session records it. */
static void run_cin(vks_context_t *ctx, uint32_t styles, uint32_t c, uint32_t h, uint32_t w, const float *weights,
                    uint32_t seed)
{
    size_t cnt = count4(1, c, h, w);
    float *x = rnd(cnt, &seed, -1, 1), *g = rnd((size_t)styles * c, &seed, 0.5f, 2);
    float *b = rnd((size_t)styles * c, &seed, -1, 1), *want = malloc(cnt * 4);
    ref_conditional_instance_norm(x, 1, (int)c, (int)h, (int)w, g, b, (int)styles, weights, 1e-3f, REF_ACT_RELU, NULL, want);
    float *table = malloc(2 * (size_t)styles * c * 4);
    memcpy(table, g, (size_t)styles * c * 4);
    memcpy(table + (size_t)styles * c, b, (size_t)styles * c * 4);
    tu_arena_t a;
    tu_arena_init(&a, ctx, cnt * 8 + 2 * (size_t)styles * c * 4 + (1 << 20));
    vks_tensor_t tx = tact(&a, 1, c, h, w, x), ty = tact(&a, 1, c, h, w, NULL);
    vks_tensor_t tt = tu_flat(&a, 2 * styles * c, table), te = tu_flat(&a, 2 * c, NULL);
    vks_rec_t rec;
    tu_rec_begin(ctx, &rec);
    TU_OK(vks_op_cin_mix(&rec, &tt, styles, c, &te, weights, styles));
    TU_OK(vks_op_instance_norm(&rec, &tx, &ty, &te, 0, &te, c, 1e-3f, REF_ACT_RELU, NULL));
    tu_rec_run(&rec);
    float *got = tu_download(&a, &ty);
    char label[64];
    snprintf(label, sizeof label, "cin %u styles", styles);
    assert_int_equal(ref_compare(label, got, want, cnt, tol(ATOL * 4), tol(RTOL * 4)), 0);
    vks_rec_destroy(&rec);
    tu_arena_done(&a);
    free(x); free(g); free(b); free(want); free(table); free(got);
}

static void test_conditional_instance_norm(void **state)
{
    (void)state;
    const uint32_t counts[] = {1, 2, 9, VKS_MAX_STYLES};
    uint32_t seed = 11;
    for (int i = 0; i < 4; i++) {
        uint32_t s = counts[i];
        float w[VKS_MAX_STYLES], sum = 0;
        ref_fill_random(w, s, &seed, 0, 1);
        for (uint32_t k = 0; k < s; k++) sum += w[k];
        for (uint32_t k = 0; k < s; k++) w[k] /= sum;                /* convex */
        run_cin(g_ctx, s, 5, 17, 31, w, 20 + (uint32_t)i);
        ref_fill_random(w, s, &seed, -1.5f, 2.5f);                   /* not convex: extrapolation */
        run_cin(g_ctx, s, 3, 3, 5, w, 40 + (uint32_t)i);
    }
}

/* CIN with a one-hot weight is instance norm with that style's gamma/beta. */
static void test_cin_one_hot_is_instance_norm(void **state)
{
    (void)state;
    uint32_t styles = 9, c = 4, h = 7, w = 9, seed = 5, pick = 6;
    size_t cnt = count4(1, c, h, w);
    float *x = rnd(cnt, &seed, -1, 1), *table = rnd(2 * (size_t)styles * c, &seed, 0.5f, 2);
    float wts[9] = {0};
    wts[pick] = 1;
    tu_arena_t a;
    tu_arena_init(&a, g_ctx, 1 << 20);
    vks_tensor_t tx = tact(&a, 1, c, h, w, x), y1 = tact(&a, 1, c, h, w, NULL), y2 = tact(&a, 1, c, h, w, NULL);
    vks_tensor_t tt = tu_flat(&a, 2 * styles * c, table), te = tu_flat(&a, 2 * c, NULL);
    vks_tensor_t g = tu_flat(&a, c, table + pick * c), b = tu_flat(&a, c, table + (styles + pick) * c);
    vks_rec_t rec;
    tu_rec_begin(g_ctx, &rec);
    TU_OK(vks_op_cin_mix(&rec, &tt, styles, c, &te, wts, styles));
    TU_OK(vks_op_instance_norm(&rec, &tx, &y1, &te, 0, &te, c, 1e-3f, 0, NULL));
    TU_OK(vks_op_instance_norm(&rec, &tx, &y2, &g, 0, &b, 0, 1e-3f, 0, NULL));
    tu_rec_run(&rec);
    float *o1 = tu_download(&a, &y1), *o2 = tu_download(&a, &y2);
    assert_int_equal(ref_compare("one-hot CIN vs IN", o1, o2, cnt, 0, 0), 0);
    vks_rec_destroy(&rec);
    tu_arena_done(&a);
    free(x); free(table); free(o1); free(o2);
}

static void test_cin_errors(void **state)
{
    (void)state;
    tu_arena_t a;
    tu_arena_init(&a, g_ctx, 1 << 16);
    vks_tensor_t tt = tu_flat(&a, 2 * 4 * 3, NULL), te = tu_flat(&a, 2 * 3, NULL);
    float w[33] = {0.5f, 0.5f};
    vks_rec_t rec;
    tu_rec_begin(g_ctx, &rec);
    w[1] = NAN;
    assert_int_equal(vks_op_cin_mix(&rec, &tt, 4, 3, &te, w, 4), VKS_ERR_STYLE);
    assert_non_null(strstr(vks_last_error(), "not finite"));
    w[1] = INFINITY;
    assert_int_equal(vks_op_cin_mix(&rec, &tt, 4, 3, &te, w, 4), VKS_ERR_STYLE);
    w[1] = 0.5f;
    assert_int_equal(vks_op_cin_mix(&rec, &tt, 4, 3, &te, w, 5), VKS_ERR_STYLE);      /* more weights than styles */
    assert_int_equal(vks_op_cin_mix(&rec, &tt, 33, 3, &te, w, 2), VKS_ERR_STYLE);     /* more styles than supported */
    assert_true(strlen(vks_last_error()) > 0);
    TU_OK(vks_rec_end(&rec));
    vks_rec_destroy(&rec);
    tu_arena_done(&a);
}

static void test_batch_norm(void **state)
{
    (void)state;
    uint32_t n = 2, c = 5, h = 17, w = 31, seed = 9;
    size_t cnt = count4(n, c, h, w);
    float *x = rnd(cnt, &seed, -2, 2), *r = rnd(cnt, &seed, -1, 1), *prm = rnd(4 * c, &seed, -1, 1);
    for (uint32_t k = 0; k < c; k++) prm[c + k] = fabsf(prm[c + k]) + 0.1f;      /* variances */
    float *want = malloc(cnt * 4);
    ref_batch_norm(x, (int)n, (int)c, (int)h, (int)w, prm, prm + c, prm + 2 * c, prm + 3 * c, 1e-5f, REF_ACT_RELU, r, want);
    tu_arena_t a;
    tu_arena_init(&a, g_ctx, cnt * 16 + (1 << 20));
    vks_tensor_t tx = tact(&a, n, c, h, w, x), tr = tact(&a, n, c, h, w, r), ty = tact(&a, n, c, h, w, NULL);
    vks_tensor_t tp = tu_flat(&a, 4 * c, prm);
    vks_rec_t rec;
    tu_rec_begin(g_ctx, &rec);
    TU_OK(vks_op_batch_norm(&rec, &tx, &ty, &tp, 1e-5f, REF_ACT_RELU, &tr));
    tu_rec_run(&rec);
    float *got = tu_download(&a, &ty);
    assert_int_equal(ref_compare("batch_norm", got, want, cnt, tol(ATOL), tol(RTOL)), 0);
    vks_rec_destroy(&rec);
    /* eps 0, mean 0, var 1: a per-channel affine (ONNX Mul and Add by constants), on 3x7x5 */
    float *y = rnd(3 * 7 * 5, &seed, -2, 2), *affine = rnd(4 * 3, &seed, -1, 1), *want2 = malloc(3 * 7 * 5 * 4);
    for (int k = 0; k < 3; k++) affine[k] = 0, affine[3 + k] = 1;
    ref_batch_norm(y, 1, 3, 7, 5, affine, affine + 3, affine + 6, affine + 9, 0.0f, REF_ACT_NONE, NULL, want2);
    vks_tensor_t ty2 = tact(&a, 1, 3, 7, 5, y), to2 = tact(&a, 1, 3, 7, 5, NULL), tp2 = tu_flat(&a, 12, affine);
    tu_rec_begin(g_ctx, &rec);
    TU_OK(vks_op_batch_norm(&rec, &ty2, &to2, &tp2, 0.0f, REF_ACT_NONE, NULL));
    assert_int_equal(vks_op_batch_norm(&rec, &ty2, &to2, &tp2, -1e-5f, REF_ACT_NONE, NULL), VKS_ERR_INVALID_ARGUMENT);
    tu_rec_run(&rec);
    float *got2 = tu_download(&a, &to2);
    assert_int_equal(ref_compare("batch_norm eps 0", got2, want2, 3 * 7 * 5, tol(ATOL), tol(RTOL)), 0);
    vks_rec_destroy(&rec);
    tu_arena_done(&a);
    free(x); free(r); free(prm); free(want); free(got);
    free(y); free(affine); free(want2); free(got2);
}

/* A conv whose weights went through vks_fold_batch_norm equals conv followed by batch norm. */
static void test_batch_norm_fold(void **state)
{
    (void)state;
    uint32_t cin = 3, cout = 6, h = 9, w = 11, k = 3, seed = 31;
    size_t nin = count4(1, cin, h, w), nw = (size_t)cout * cin * k * k, nout = count4(1, cout, h, w);
    float *x = rnd(nin, &seed, -1, 1), *wt = rnd(nw, &seed, -0.3f, 0.3f), *bias = rnd(cout, &seed, -1, 1);
    float *prm = rnd(4 * cout, &seed, -1, 1);
    for (uint32_t i = 0; i < cout; i++) prm[cout + i] = fabsf(prm[cout + i]) + 0.05f;
    float *conv = malloc(nout * 4), *want = malloc(nout * 4);
    ref_conv2d(x, 1, (int)cin, (int)h, (int)w, wt, bias, (int)cout, 3, 3, 1, 1, 1, 1, 1, 0, REF_ACT_NONE, conv);
    ref_batch_norm(conv, 1, (int)cout, (int)h, (int)w, prm, prm + cout, prm + 2 * cout, prm + 3 * cout, 1e-3f, REF_ACT_RELU, NULL, want);
    vks_fold_batch_norm(wt, bias, cout, cin * k * k, prm, prm + cout, prm + 2 * cout, prm + 3 * cout, 1e-3f);
    tu_arena_t a;
    tu_arena_init(&a, g_ctx, 1 << 20);
    vks_tensor_t tx = tact(&a, 1, cin, h, w, x), tw = tu_flat(&a, (uint32_t)nw, wt), tb = tu_flat(&a, cout, bias);
    vks_tensor_t ty = tact(&a, 1, cout, h, w, NULL);
    vks_conv2d_params_t p = {3, 3, 1, 1, 1, 1, 1, false, REF_ACT_RELU, 0, {0}};
    vks_rec_t rec;
    tu_rec_begin(g_ctx, &rec);
    TU_OK(vks_op_conv2d(&rec, &p, &tx, &tw, &tb, &ty));
    tu_rec_run(&rec);
    float *got = tu_download(&a, &ty);
    assert_int_equal(ref_compare("folded BN", got, want, nout, ATOL * 10, RTOL * 10), 0);
    vks_rec_destroy(&rec);
    tu_arena_done(&a);
    free(x); free(wt); free(bias); free(prm); free(conv); free(want); free(got);
}

static void test_activation_add(void **state)
{
    (void)state;
    uint32_t n = 2, c = 3, h = 17, w = 31, seed = 13;
    size_t cnt = count4(n, c, h, w);
    float *x = rnd(cnt, &seed, -4, 4), *y = rnd(cnt, &seed, -4, 4), *want = malloc(cnt * 4);
    tu_arena_t a;
    tu_arena_init(&a, g_ctx, cnt * 16 + (1 << 20));
    vks_tensor_t tx = tact(&a, n, c, h, w, x), ty = tact(&a, n, c, h, w, y), to = tact(&a, n, c, h, w, NULL);
    for (int act = 0; act < 4; act++) {
        vks_rec_t rec;
        tu_rec_begin(g_ctx, &rec);
        TU_OK(vks_op_activation(&rec, &tx, &to, (uint32_t)act, 150.0f, 127.5f));
        tu_rec_run(&rec);
        ref_activation(x, cnt, (ref_act_t)act, 150.0f, 127.5f, want);
        float *got = tu_download(&a, &to);
        assert_int_equal(ref_compare("activation", got, want, cnt, tol(1e-3f), tol(RTOL)), 0);
        free(got);
        vks_rec_destroy(&rec);
    }
    /* the standalone op's own: leaky ReLU and clip, parameters in push constants */
    const struct { uint32_t act; float p0, p1; } own[3] = {{VKS_ACT_LEAKY_RELU, 0.2f, 0}, {VKS_ACT_CLIP, -1.5f, 2.25f},
                                                            {VKS_ACT_LEAKY_RELU, -3.0f, 0}};
    for (int k = tu_quick_mode() ? 1 : 0; k < (tu_quick_mode() ? 2 : 3); k++) {   /* quick: clip, one pipeline */
        vks_rec_t rec;
        tu_rec_begin(g_ctx, &rec);
        TU_OK(vks_op_activation_ex(&rec, &tx, &to, own[k].act, own[k].p0, own[k].p1, 0.5f, 1.0f));
        tu_rec_run(&rec);
        ref_activation_ex(x, cnt, (int)own[k].act, own[k].p0, own[k].p1, 0.5f, 1.0f, want);
        float *got = tu_download(&a, &to);
        assert_int_equal(ref_compare("activation (leaky_relu, clip)", got, want, cnt, tol(1e-3f), tol(RTOL)), 0);
        free(got);
        vks_rec_destroy(&rec);
    }
    vks_rec_t rec;
    tu_rec_begin(g_ctx, &rec);
    TU_OK(vks_op_add(&rec, &tx, &ty, &to));
    tu_rec_run(&rec);
    ref_add(x, y, cnt, want);
    float *got = tu_download(&a, &to);
    assert_int_equal(ref_compare("add", got, want, cnt, 0, g_esize == 2 ? 1e-3f : 0), 0);
    vks_rec_destroy(&rec);
    tu_arena_done(&a);
    free(x); free(y); free(want); free(got);
}

/* 8-bit pixels -> planar floats -> 8-bit pixels, against the references, both orders. */
static void test_pack_unpack(void **state)
{
    (void)state;
    uint32_t w = 17, h = 31, th = 33, tw = 20, seed = 17;
    for (uint32_t ch = 3; ch <= 4; ch++)
        for (int swap = 0; swap < 2; swap++) {
            size_t np = (size_t)w * h;
            uint8_t *px = malloc(np * ch + 4);
            for (size_t i = 0; i < np * ch; i++) { seed = seed * 1664525u + 1013904223u; px[i] = (uint8_t)(seed >> 24); }
            float *want = malloc(np * 3 * 4);
            ref_pack_rgb8(px, (int)w, (int)h, (int)ch, swap, 0.5f, -3.0f, want);
            float *big = rnd((size_t)3 * th * tw, &seed, -60, 300);   /* also out of 0..255: clamping */
            uint8_t *want8 = malloc(np * 4), *got8 = malloc(np * 4);
            ref_unpack_rgb8(big, (int)th, (int)tw, (int)w, (int)h, 4, swap, 1.0f, 0.25f, want8);
            tu_arena_t a;
            tu_arena_init(&a, g_ctx, 1 << 20);
            VkDeviceSize pxoff = 0;
            vks_tensor_t pxin = tu_flat(&a, (uint32_t)((np * ch + 3) / 4), NULL);
            pxoff = pxin.offset;
            TU_OK(vks_block_upload(g_ctx, &a.block, pxoff, px, np * ch));
            vks_tensor_t pxout = tu_flat(&a, (uint32_t)np, NULL);
            vks_tensor_t t = tact(&a, 1, 3, h, w, NULL), tb = tact(&a, 1, 3, th, tw, big);
            vks_binding_t bin = {&a.block, pxoff, vks_align(np * ch, 4), false};
            vks_binding_t bout = {&a.block, pxout.offset, np * 4, true};
            vks_rec_t rec;
            tu_rec_begin(g_ctx, &rec);
            TU_OK(vks_op_pack_rgb8(&rec, &bin, w, h, ch, swap, 0.5f, -3.0f, &t));
            TU_OK(vks_op_unpack_rgba8(&rec, &tb, w, h, swap, 1.0f, 0.25f, &bout));
            tu_rec_run(&rec);
            float *got = tu_download(&a, &t);
            assert_int_equal(ref_compare("pack_rgb8", got, want, np * 3, 0, 0), 0);
            TU_OK(vks_block_download(g_ctx, &a.block, pxout.offset, got8, np * 4));
            assert_memory_equal(got8, want8, np * 4);
            vks_rec_destroy(&rec);
            tu_arena_done(&a);
            free(px); free(want); free(big); free(want8); free(got8); free(got);
        }
}

/* Webcam YUYV -> RGB on the GPU against the C reference. */
static void run_yuyv_to_rgb(uint32_t w, uint32_t h)
{
    uint32_t seed = 23;
    size_t n = (size_t)w * h;
    uint8_t *yuyv = malloc(n * 2);
    for (size_t i = 0; i < n * 2; i++) { seed = seed * 1664525u + 1013904223u; yuyv[i] = (uint8_t)(seed >> 24); }
    float *want = malloc(n * 3 * 4);
    ref_yuyv_to_rgb(yuyv, (int)w, (int)h, 1.0f, 0.0f, want);
    tu_arena_t a;
    tu_arena_init(&a, g_ctx, 1 << 20);
    vks_tensor_t px = tu_flat(&a, (uint32_t)(n / 2), NULL), t = tact(&a, 1, 3, h, w, NULL);
    TU_OK(vks_block_upload(g_ctx, &a.block, px.offset, yuyv, n * 2));
    vks_binding_t b = {&a.block, px.offset, n * 2, false};
    vks_rec_t rec;
    tu_rec_begin(g_ctx, &rec);
    TU_OK(vks_op_yuyv_to_rgb(&rec, &b, w, h, 1.0f, 0.0f, &t));
    assert_int_equal(vks_op_yuyv_to_rgb(&rec, &b, w - 1, h, 1.0f, 0.0f, &t), VKS_ERR_SHAPE);   /* odd width */
    tu_rec_run(&rec);
    float *got = tu_download(&a, &t);
    assert_int_equal(ref_compare("yuyv_to_rgb", got, want, n * 3, 1e-3f, g_esize == 2 ? 1e-3f : 1e-5f), 0);
    vks_rec_destroy(&rec);
    tu_arena_done(&a);
    free(yuyv); free(want); free(got);
}

static void test_yuyv_to_rgb(void **state) { (void)state; run_yuyv_to_rgb(18, 7); }

/* ------------------------------------------------------------------ chunked bindings */

/* With a binding limit of a few planes, every op splits its channels (conv2d also its input
 * channels, accumulating) and must still match the reference. */
static void test_chunked_bindings(void **state)
{
    (void)state;
    /* 17x31 planes pad to 576 floats = 2304 bytes; 3 planes per binding */
    vks_context_t *ctx = g_ctx;
    tu_limits_push(ctx, 3 * 2304, 0);
    const conv_case_t cases[] = {
        {1, 7, 20, 17, 31, 3, 1, 1, {0}, 0, 1, REF_ACT_RELU},   /* 20 outputs: the layer shape of test_conv2d's uniform-input case */
        {2, 8, 4, 17, 31, 3, 1, 0, {1, 1, 1, 1}, 1, 1, REF_ACT_TANH},
    };
    for (int i = 0; i < (tu_quick_mode() ? 1 : 2); i++) run_conv(ctx, &cases[i], 60 + (uint32_t)i);
    run_instance_norm(ctx, 2, 7, 17, 31, 0, 1e-3f, REF_ACT_RELU, 1, 70);
    /* transposed: 9x15 input planes (135 -> 192 floats), outputs 18x30 (540 -> 576 floats) */
    run_convt(ctx, 1, 7, 20, 9, 15, 0, 1, REF_ACT_RELU, 71);
    /* another direct tile the tuner may pick (tune.c), chunked (test_conv_variants: all of them) */
    vks_conv_variant_t v[8];
    uint32_t nv = vks_conv_direct_variants(cases[0].cout, cases[0].w, VKS_CONV_OC, v, 8);
    for (uint32_t k = 1; k < nv && k < 2 && !tu_quick_mode(); k++) {   /* one: compiles are dear */
        g_var = v[k];
        run_conv(ctx, &cases[0], 80 + k);
        run_convt(ctx, 1, 7, 20, 9, 15, 0, 1, REF_ACT_RELU, 90 + k);
    }
    /* the implicit GEMM, its input channels in chunks that accumulate */
    g_var = (vks_conv_variant_t){VKS_CONV_IGEMM, 0, 0, 0};
    if (!tu_quick_mode()) {
        run_conv(ctx, &cases[1], 95);
        run_convt(ctx, 1, 7, 20, 9, 15, 0, 1, REF_ACT_RELU, 96);
    }
    g_var = (vks_conv_variant_t){0};
    /* one plane larger than the limit is an error, not a crash */
    tu_arena_t a;
    tu_arena_init(&a, ctx, 1 << 20);
    vks_tensor_t big = tact(&a, 1, 1, 64, 64, NULL), out = tact(&a, 1, 1, 64, 64, NULL);
    vks_rec_t rec;
    tu_rec_begin(ctx, &rec);
    assert_int_equal(vks_op_activation(&rec, &big, &out, 0, 1, 0), VKS_ERR_SHAPE);
    assert_non_null(strstr(vks_last_error(), "binding limit"));
    TU_OK(vks_rec_end(&rec));
    vks_rec_destroy(&rec);
    tu_arena_done(&a);
    tu_limits_pop(ctx);
}

/* ------------------------------------------------------------------ split dispatches */

/* With at most 2 workgroups per dimension of a vkCmdDispatch (the device allows 65535; an image
 * of more than 65535 x 64 pixels needs more along x), every op's dispatches are split into pieces
 * that start at a workgroup base in their push constants (the conditional-instance-norm mix loops
 * over its grid instead), and must still match the references. Every split-capable shader that
 * ran must have been split: along x, y and z for the convolutions (odd counts: 3 groups). */
static void check_barriers(const vks_rec_t *rec, uint32_t *nd, uint32_t *nb);

/* the dispatch counts before the test: it checks what it ran itself */
static uint64_t g_disp0[VKS_SHADER_COUNT], g_split0[VKS_SHADER_COUNT];
static int split_setup(void **state)
{
    (void)state;
    memcpy(g_disp0, g_ctx->shader_dispatches, sizeof g_disp0);
    memcpy(g_split0, g_ctx->shader_splits, sizeof g_split0);
    tu_limits_push(g_ctx, 0, 2);
    return 0;
}
static int split_teardown(void **state)
{
    (void)state;
    tu_limits_pop(g_ctx);
    g_esize = 4;
    return 0;
}

static void test_split_dispatches(void **state)
{
    const conv_case_t cases[] = {
        {1, 5, 20, 9, 300, 3, 1, 1, {0}, 0, 1, REF_ACT_RELU},       /* 3 x 3 x 3 workgroups */
        {1, 3, 4, 17, 31, 9, 1, 1, {0}, 0, 0, REF_ACT_TANH},
        {1, 13, 20, 100, 90, 3, 1, 1, {0}, 0, 1, REF_ACT_RELU},     /* input from uniform buffers (fp32) */
        {1, 2, 3, 130, 130, 3, 2, 0, {1, 0, 1, 0}, 1, 1, REF_ACT_NONE}, /* storage input */
        {1, 260, 2, 17, 7, 9, 1, 1, {0}, 0, 1, REF_ACT_NONE},       /* storage weights: 17 rows, 3 groups of 8 */
    };
    /* quick (CI's validation stages): not the 9x9 one, whose shader the first case splits already;
     * its own pipeline is among the costliest to compile under GPU-assisted validation (144
     * instrumented input loads per input channel) */
    setenv("VKSTYLE_ROW_BANDS", "0", 1);   /* the storage-input case: not in row bands of uniform buffers */
    for (int i = 0; i < 5; i++)
        if (!tu_quick_mode() || i != 1) run_conv(g_ctx, &cases[i], 80 + (uint32_t)i);
    unsetenv("VKSTYLE_ROW_BANDS");
    /* GEMM: 3 groups along z of 16 output channels (a CPU device's VKS_WINO_TM_CPU), or 5 of 8 */
    const conv_case_t wino = {1, 5, 40, 9, 30, 3, 1, 0, {1, 1, 1, 1}, 1, 1, REF_ACT_RELU};
    run_wino(g_ctx, &wino, 93);
    bool wide_tiles = g_esize == 4 && !tu_quick_mode();   /* and F(4x4)'s and F(6x6)'s transforms (fp32; not in the
                                                            * quick form, whose GPU-assisted half compiles them
                                                            * instrumented once, in test_conv2d_winograd*) */
    if (wide_tiles) {
        setenv("VKSTYLE_WINOGRAD", "4", 1);
        run_wino(g_ctx, &wino, 97);
        setenv("VKSTYLE_WINOGRAD", "6", 1);
        run_wino(g_ctx, &wino, 98);
        unsetenv("VKSTYLE_WINOGRAD");
    }
    g_var = (vks_conv_variant_t){VKS_CONV_IGEMM, 3, 0, 0};   /* implicit GEMM, 16 x 128: 22 x 2 workgroups */
    run_conv(g_ctx, &cases[0], 94);
    g_var = (vks_conv_variant_t){0};
    run_convt(g_ctx, 1, 4, 20, 5, 140, 1, 1, REF_ACT_RELU, 85);    /* 4 (2 parities) x 3 x 3 workgroups */
    run_convt(g_ctx, 1, 25, 20, 64, 100, 1, 1, REF_ACT_RELU, 86);  /* input from uniform buffers (fp32) */
    run_convt(g_ctx, 1, 2, 3, 130, 130, 1, 1, REF_ACT_RELU, 87);   /* storage input */
    setenv("VKSTYLE_TGEMM", "0", 1);   /* the direct path's: with a 4x2 GEMM tile (VKSTYLE_WINO_TILE) the GEMM per tap would take it, in 2 groups */
    run_convt(g_ctx, 1, 1900, 2, 9, 4, 1, 1, REF_ACT_NONE, 88);    /* storage weights: 18 rows, 3 groups of 8 */
    unsetenv("VKSTYLE_TGEMM");
    run_instance_norm(g_ctx, 2, 5, 17, 31, 0, 1e-3f, REF_ACT_RELU, 1, 89);
    float w[9] = {0.1f, 0.2f, 0.3f, 0.4f, 0, 0, 0, 0, 0};
    run_cin(g_ctx, 9, 70, 5, 7, w, 90);                            /* 140 mixed values: 3 groups' worth */
    run_instance_norm_given(g_ctx, 1, 5, 9, 7, 91);
    run_channel_stats(g_ctx, 1, 5, 9, 7, 0.0f, 92);
    test_upsample(state);
    test_pad(state);                                                /* 3 channels: 3 groups along y */
    test_batch_norm(state);
    test_activation_add(state);
    test_pack_unpack(state);
    run_yuyv_to_rgb(66, 7);                                         /* 231 pixel pairs: 4 groups */
    /* after a split dispatch, the next one that reads what it wrote still gets its barrier */
    tu_arena_t a;
    tu_arena_init(&a, g_ctx, 1 << 20);
    vks_tensor_t x = tact(&a, 1, 3, 17, 31, NULL), y = tact(&a, 1, 3, 17, 31, NULL), z = tact(&a, 1, 3, 17, 31, NULL);
    vks_rec_t rec;
    tu_rec_begin(g_ctx, &rec);
    TU_OK(vks_op_activation(&rec, &x, &y, 1, 1, 0));
    TU_OK(vks_op_activation(&rec, &y, &z, 1, 1, 0));
    TU_OK(vks_op_activation(&rec, &z, &y, 1, 1, 0));
    TU_OK(vks_rec_end(&rec));
    uint32_t nd, nb;
    check_barriers(&rec, &nd, &nb);
    assert_true(rec.split_pieces > 3);
    assert_int_equal(nd, rec.split_pieces);   /* the log has every piece */
    vks_rec_destroy(&rec);
    tu_arena_done(&a);
    int ran = 0;
    for (int i = 0; i < VKS_SHADER_COUNT; i++) {
        if (g_ctx->shader_dispatches[i] == g_disp0[i] || !vks_shader_table[i].wg_base) continue;
        ran++;
        if (g_ctx->shader_splits[i] == g_split0[i]) fail_msg("shader %s ran but was never split", vks_shader_table[i].name);
    }
    /* activation, add, batch_norm, instance_norm, channel_stats, pack, pad, unpack, upsample, yuyv, and the convolutions:
     * conv2d and conv2d_transpose with weights from storage and uniform buffers (and in fp32 the input
     * from uniform buffers too on a CPU device, *_xubo), the three steps of the Winograd convolution
     * (in fp32 also F(4x4)'s and F(6x6)'s transforms, but in the quick form), the implicit GEMM, and in fp32 the transposed
     * GEMM's input step (from storage and, on a CPU device, uniform buffers), its output step and (CPU
     * device) the uniform-buffer GEMM its larger cases run */
    assert_int_equal(ran, (g_esize == 4 && vks_input_ubo(g_ctx) ? 24 : g_esize == 4 ? 21 : 18) + (wide_tiles ? 4 : 0));
}

/* ------------------------------------------------------------------ errors */

static void test_shape_errors(void **state)
{
    (void)state;
    tu_arena_t a;
    tu_arena_init(&a, g_ctx, 1 << 20);
    vks_tensor_t x = tact(&a, 1, 3, 5, 5, NULL), y = tact(&a, 1, 4, 5, 5, NULL), z = tact(&a, 1, 3, 5, 5, NULL);
    vks_tensor_t zero = tact(&a, 1, 0, 5, 5, NULL), wt = tu_flat(&a, 4 * 3 * 9, NULL), g = tu_flat(&a, 3, NULL);
    vks_rec_t rec;
    tu_rec_begin(g_ctx, &rec);
    vks_conv2d_params_t p = {3, 3, 1, 1, 1, 1, 1, false, 0, 0, {0}};
    assert_int_equal(vks_op_conv2d(&rec, &p, &x, &wt, NULL, &z), VKS_ERR_SHAPE);      /* weights are 3->4 */
    assert_non_null(strstr(vks_last_error(), "conv2d"));
    vks_conv2d_params_t p0 = {3, 3, 1, 0, 0, 0, 0, false, 0, 0, {0}};
    assert_int_equal(vks_op_conv2d(&rec, &p0, &x, &wt, NULL, &y), VKS_ERR_SHAPE);     /* 5x5 -> 3x3, not 5x5 */
    vks_conv2d_params_t pr = {3, 3, 1, 5, 5, 5, 5, true, 0, 0, {0}};
    assert_int_equal(vks_op_conv2d(&rec, &pr, &x, &wt, NULL, &y), VKS_ERR_SHAPE);     /* reflect pad >= side */
    assert_int_equal(vks_op_conv2d(&rec, &p, &zero, &wt, NULL, &y), VKS_ERR_SHAPE);
    assert_non_null(strstr(vks_last_error(), "zero-size"));
    assert_int_equal(vks_op_instance_norm(&rec, &x, &y, &g, 0, &g, 0, 1e-3f, 0, NULL), VKS_ERR_SHAPE);
    assert_int_equal(vks_op_instance_norm(&rec, &zero, &zero, &g, 0, &g, 0, 1e-3f, 0, NULL), VKS_ERR_SHAPE);
    assert_int_equal(vks_op_instance_norm(&rec, &x, &z, &g, 1, &g, 0, 1e-3f, 0, NULL), VKS_ERR_SHAPE);  /* gamma too short */
    assert_int_equal(vks_op_instance_norm(&rec, &x, &z, &g, 0, &g, 0, 0.0f, 0, NULL), VKS_ERR_INVALID_ARGUMENT);
    assert_int_equal(vks_op_add(&rec, &x, &y, &z), VKS_ERR_SHAPE);
    vks_tensor_t up7 = tact(&a, 1, 3, 7, 10, NULL), up45 = tact(&a, 1, 3, 45, 5, NULL);
    assert_int_equal(vks_op_upsample_nearest(&rec, &x, &up7), VKS_ERR_SHAPE);    /* 7 is no multiple of 5 */
    assert_int_equal(vks_op_upsample_nearest(&rec, &x, &up45), VKS_ERR_SHAPE);   /* x9: more than 8 */
    assert_int_equal(vks_op_upsample_nearest(&rec, &x, &y), VKS_ERR_SHAPE);      /* 3 -> 4 channels */
    TU_OK(vks_rec_end(&rec));
    vks_rec_destroy(&rec);
    tu_arena_done(&a);
}

/* ------------------------------------------------------------------ barriers */

static bool conflict(const vks_rec_event_t *a, const vks_rec_event_t *b)
{
    for (uint32_t i = 0; i < a->nbindings; i++)
        for (uint32_t j = 0; j < b->nbindings; j++) {
            const vks_binding_t *x = &a->bindings[i], *y = &b->bindings[j];
            if ((x->write || y->write) && x->block == y->block && x->offset < y->offset + y->size &&
                y->offset < x->offset + x->size)
                return true;
        }
    return false;
}

/* Fail if two recorded events conflict with no barrier between them; count dispatches and barriers. */
static void check_barriers(const vks_rec_t *rec, uint32_t *nd, uint32_t *nb)
{
    *nd = *nb = 0;
    for (uint32_t i = 0; i < rec->nlog; i++) {
        if (rec->log[i].kind == VKS_EV_BARRIER) { (*nb)++; continue; }
        (*nd)++;
        for (uint32_t j = i + 1; j < rec->nlog && rec->log[j].kind != VKS_EV_BARRIER; j++)
            if (conflict(&rec->log[i], &rec->log[j])) fail_msg("events %u and %u conflict without a barrier", i, j);
    }
}

/* Sync validation cannot see two dispatches on one buffer without a barrier, so check the
 * recorded stream itself: every conflicting pair has a barrier between them, and independent
 * dispatches are not separated by one. */
static void test_barrier_placement(void **state)
{
    (void)state;
    tu_arena_t a;
    tu_arena_init(&a, g_ctx, 1 << 20);
    vks_tensor_t x = tact(&a, 1, 3, 5, 7, NULL), y1 = tact(&a, 1, 3, 5, 7, NULL), y2 = tact(&a, 1, 3, 5, 7, NULL);
    vks_tensor_t s = tact(&a, 1, 3, 5, 7, NULL), g = tu_flat(&a, 3, NULL);
    vks_rec_t rec;
    tu_rec_begin(g_ctx, &rec);
    TU_OK(vks_op_activation(&rec, &x, &y1, 1, 1, 0));     /* reads x */
    TU_OK(vks_op_activation(&rec, &x, &y2, 2, 1, 0));     /* reads x: independent of the first */
    TU_OK(vks_op_add(&rec, &y1, &y2, &s));                /* needs both: barrier */
    TU_OK(vks_op_instance_norm(&rec, &s, &x, &g, 0, &g, 0, 1e-3f, 0, &y1)); /* writes x, read above */
    TU_OK(vks_op_activation(&rec, &x, &x, 1, 1, 0));      /* in-place on x after the write */
    tu_rec_run(&rec);
    uint32_t nd = 0, nb = 0;
    check_barriers(&rec, &nd, &nb);
    assert_int_equal(nd, 5);
    assert_int_equal(nb, 3);                     /* before add, before norm, before the in-place op */
    assert_int_equal(rec.log[0].kind, VKS_EV_DISPATCH);
    assert_int_equal(rec.log[1].kind, VKS_EV_DISPATCH);   /* no barrier between independent reads */
    vks_rec_destroy(&rec);
    tu_arena_done(&a);
}

/* ------------------------------------------------------------------ float16 activations */

static bool is_f16_shader(const char *name)
{
    size_t n = strlen(name);
    return n > 4 && strcmp(name + n - 4, "_f16") == 0;
}

/* The op tests again with float16 activations (lavapipe offers shaderFloat16 and
 * storageBuffer16BitAccess; a device without them fails here, it is not skipped). */
/* ------------------------------------------------------------------ stabilization */

/* stab_grey: each level of a grey pyramid (factors 1, 2, 4, 8; the last blocks cut at the edge) of an
 * odd-sized input against the reference; values beyond the clamp (a reset's fill) stay finite. */
static void test_stab_grey(void **state)
{
    (void)state;
    const uint32_t h = 37, w = 29, hw = h * w;
    uint32_t seed = 41;
    float *x = rnd(3 * hw, &seed, -1, 1);
    for (uint32_t i = 0; i < 12; i++) x[hw + 31 * i] = g_esize == 2 ? 65504.0f : 3.39e38f;
    tu_arena_t a;
    tu_arena_init(&a, g_ctx, 1 << 20);
    vks_tensor_t tx = tact(&a, 1, 3, h, w, x);
    for (uint32_t f = 1; f <= 8; f *= 2) {
        uint32_t oh = (h + f - 1) / f, ow = (w + f - 1) / f;
        vks_tensor_t tg = tu_act_e(&a, 1, 1, oh, ow, 4, NULL);
        vks_rec_t rec;
        tu_rec_begin(g_ctx, &rec);
        TU_OK(vks_op_stab_grey(&rec, &tx, &tg, f, 127.5f));
        tu_rec_run(&rec);
        float *want = malloc(oh * ow * sizeof *want), *got = tu_download(&a, &tg);
        ref_stab_grey(x, (int)h, (int)w, (int)f, 127.5f, want);
        assert_int_equal(ref_compare("stab_grey", got, want, oh * ow, 1e-3f, 1e-5f), 0);
        vks_rec_destroy(&rec);
        free(want); free(got);
    }
    tu_arena_done(&a);
    free(x);
}

/* A smooth random texture (0..255) sampled at (x + dx, y + dy). */
static float texture(const float *k, float x, float y)
{
    float v = 128.0f;
    for (int i = 0; i < 6; i++) v += 20.0f * sinf(k[3 * i] * x + k[3 * i + 1] * y + k[3 * i + 2]);
    return v;
}

/* stab_flow: block matching of an odd-sized frame against the last one, whose content is (1.3, -0.7)
 * away (the flow back to it is (-1.3, 0.7)), plus noise, from no start (the coarsest level) and from a
 * coarser flow near half the motion, against the reference; most of the flow finds the motion. A near-tie between
 * two displacements (the reference's margin below 1e-3) may go either way: those pixels are left out,
 * and most pixels must be compared. Float32 grey in either precision (no float16 variant). */
/* with_coarse 2: a coarser flow 2 pixels off the motion, so the search is too far from it to reach the
 * motion or no motion (the shader then scores no motion on its own) */
static void run_stab_flow(int with_coarse, uint32_t search, uint32_t win, float still, uint32_t seed)
{
    const uint32_t h = 37, w = 29, hw = h * w, ch = (h + 1) / 2, cw = (w + 1) / 2;
    float *k = tu_random(18, &seed, -0.8f, 0.8f), *noise = tu_random(2 * hw, &seed, -2, 2);
    float *cur = malloc(hw * sizeof *cur), *prev = malloc(hw * sizeof *prev);
    for (uint32_t y = 0; y < h; y++)
        for (uint32_t x = 0; x < w; x++) {
            cur[y * w + x] = texture(k, (float)x, (float)y) + noise[y * w + x];
            prev[y * w + x] = texture(k, x + 1.3f, y - 0.7f) + noise[hw + y * w + x];
        }
    /* the coarser level's flow: half the motion (-1.3, 0.7), +-0.4 */
    float *coarse = with_coarse ? tu_random(2 * ch * cw, &seed, -0.4f, 0.4f) : NULL;
    float off = with_coarse == 2 ? 2.0f : 0.0f;
    for (uint32_t i = 0; with_coarse && i < ch * cw; i++) coarse[i] -= 0.65f + off, coarse[ch * cw + i] += 0.35f + off;
    tu_arena_t a;
    tu_arena_init(&a, g_ctx, 1 << 20);
    vks_tensor_t tc = tu_act_e(&a, 1, 1, h, w, 4, cur), tp = tu_act_e(&a, 1, 1, h, w, 4, prev);
    vks_tensor_t tk = tu_act_e(&a, 1, 2, ch, cw, 4, coarse), tf = tu_act_e(&a, 1, 2, h, w, 4, NULL);
    vks_stab_flow_t p = {search, win, 0.5f, 40.0f, 20.0f, still, 25.0f, 0.2f};
    vks_rec_t rec;
    tu_rec_begin(g_ctx, &rec);
    TU_OK(vks_op_stab_flow(&rec, &tc, &tp, with_coarse ? &tk : NULL, &tf, &p));
    tu_rec_run(&rec);
    float *want = malloc(2 * hw * sizeof *want), *margin = malloc(hw * sizeof *margin), *got = tu_download(&a, &tf);
    ref_stab_flow(cur, prev, (int)h, (int)w, coarse, (int)search, (int)win, 0.5f, 40.0f, 20.0f, still, 25.0f, 0.2f, want, margin);
    uint32_t compared = 0, bad = 0, near = 0, close = 0;
    for (uint32_t i = 0; i < hw; i++) {
        if (margin[i] < 1e-3f) continue;
        compared++;
        for (uint32_t c = 0; c < 2; c++)
            if (!(fabsf(got[c * hw + i] - want[c * hw + i]) <= 2e-3f)) {
                if (bad++ < 5) printf("stab_flow: pixel %u %c: got %g, want %g\n", i, "xy"[c], got[c * hw + i], want[c * hw + i]);
            }
        near += fabsf(got[i] + 1.3f) <= 0.5f && fabsf(got[hw + i] - 0.7f) <= 0.5f;
        close += fabsf(got[i] + 1.3f) <= 0.15f && fabsf(got[hw + i] - 0.7f) <= 0.15f;
    }
    printf("# stab_flow (coarse %d, search %u, window %u): %u of %u pixels compared, %u within half a pixel of "
           "the motion, %u within 0.15\n", with_coarse, search, win, compared, hw, near, close);
    assert_int_equal(bad, 0);
    assert_true(compared >= hw * 9 / 10);
    if (with_coarse != 2) assert_true(near >= hw * 2 / 3);
    /* the sub-pixel step finds the fraction of the motion, not only its whole pixels: within 0.15
     * pixel, 795 and 828 of the 1,073 with 5x5 and 7x7 windows, 439 with 3x3 (the parabola through
     * the scores that it replaced: 378, 494 and 191) */
    if (with_coarse != 2) assert_true(close >= (win >= 2 ? hw * 2 / 3 : hw / 3));
    vks_rec_destroy(&rec);
    tu_arena_done(&a);
    free(k); free(noise); free(cur); free(prev); free(coarse); free(want); free(margin); free(got);
}

static void test_stab_flow(void **state)
{
    (void)state;
    /* quick (CI's validation stages): the one with a coarser flow and the widest window, which reads
     * the most; each search and window size is a pipeline of its own */
    if (!tu_quick_mode()) run_stab_flow(0, 2, 2, 1.0f, 81);
    run_stab_flow(1, 1, 3, 0.0f, 82);
    if (!tu_quick_mode()) run_stab_flow(1, 1, 1, 2.0f, 83);
    if (!tu_quick_mode()) run_stab_flow(2, 1, 2, 1.0f, 84);
}

/* stab_motion: the input's change along a flow (fp32 or fp16 input and previous frame) against the
 * reference, on an odd size (not a multiple of the workgroup), with a flow that points outside the
 * frame at places, and a previous frame that holds the reset value in part of it (the change is capped). */
static void test_stab_motion(void **state)
{
    (void)state;
    const uint32_t h = 13, w = 29, hw = h * w;
    uint32_t seed = 51;
    float *x = rnd(3 * hw, &seed, -1, 1), *prev = rnd(3 * hw, &seed, -1, 1), *flow = tu_random(2 * hw, &seed, -3, 3);
    for (uint32_t i = 0; i < 40; i++) prev[hw + 7 * i] = g_esize == 2 ? 65504.0f : 3.39e38f;   /* a reset's fill */
    tu_arena_t a;
    tu_arena_init(&a, g_ctx, 1 << 20);
    vks_tensor_t tx = tact(&a, 1, 3, h, w, x), tp = tact(&a, 1, 3, h, w, prev);
    vks_tensor_t tf = tu_act_e(&a, 1, 2, h, w, 4, flow), td = tu_act_e(&a, 1, 1, h, w, 4, NULL);
    vks_rec_t rec;
    tu_rec_begin(g_ctx, &rec);
    TU_OK(vks_op_stab_motion(&rec, &tx, &tp, &tf, &td, 127.5f));
    tu_rec_run(&rec);
    float *want = malloc(hw * sizeof *want);
    ref_stab_motion(x, prev, flow, (int)h, (int)w, 127.5f, want);
    float *got = tu_download(&a, &td), *gotp = tu_download(&a, &tp);
    uint32_t out = 0;
    for (uint32_t i = 0; i < hw; i++) out += want[i] == 255.0f;
    assert_true(out > 0 && out < hw / 2);
    assert_int_equal(ref_compare("stab_motion diff", got, want, hw, 2e-3f, 1e-5f), 0);
    assert_int_equal(ref_compare("stab_motion previous (unchanged)", gotp, prev, 3 * hw, 0, 0), 0);
    vks_rec_destroy(&rec);
    tu_arena_done(&a);
    free(x); free(prev); free(flow); free(want); free(got); free(gotp);
}

/* stats_ema: the running average of 37 channels' statistics, at an offset in both tables: no cut
 * (averaged), a cut (this frame's statistics), and a frame whose change is not a number (a cut).
 * The statistics are float32 in either precision (stats_ema has no float16 variant). */
static void run_stats_ema(float change, int cut, uint32_t seed)
{
    const uint32_t ch = 37, off = 5, count = 391;
    float *cur = tu_random(2 * (ch + off), &seed, 0.1f, 50), *ema = tu_random(2 * (ch + off), &seed, 0.1f, 50);
    float chg[2] = {change, 0};
    tu_arena_t a;
    tu_arena_init(&a, g_ctx, 1 << 20);
    vks_tensor_t tc = tu_flat(&a, 2 * (ch + off), cur), te = tu_flat(&a, 2 * (ch + off), ema), tk = tu_flat(&a, 2, chg);
    vks_rec_t rec;
    tu_rec_begin(g_ctx, &rec);
    TU_OK(vks_op_stats_ema(&rec, &tc, off, &te, off, ch, count, &tk, 0.7f, 30.0f));
    tu_rec_run(&rec);
    double *curd = malloc(2 * ch * sizeof *curd);
    for (uint32_t i = 0; i < 2 * ch; i++) curd[i] = cur[2 * off + i];
    ref_stats_ema(curd, (int)ch, count, 0.7f, cut, ema + 2 * off);
    float *got = malloc(2 * (ch + off) * sizeof *got);
    TU_OK(vks_block_download(g_ctx, &a.block, te.offset, got, 2 * (ch + off) * sizeof *got));
    assert_int_equal(ref_compare("stats_ema", got, ema, 2 * (ch + off), 1e-5f, 1e-5f), 0);
    vks_rec_destroy(&rec);
    tu_arena_done(&a);
    free(cur); free(ema); free(curd); free(got);
}

static void test_stats_ema(void **state)
{
    (void)state;
    run_stats_ema(12.0f, 0, 61);
    run_stats_ema(31.0f, 1, 62);
    run_stats_ema(NAN, 1, 63);
}

/* stab_blend: an output larger than the input (the network's extra rows and columns take the
 * nearest input pixel's change and flow), odd sizes, changes spanning the thresholds, a flow that
 * points outside at places; then a cut. */
static void run_stab_blend(float change, int cut, uint32_t radius, float maxdev, uint32_t seed)
{
    const uint32_t h = 11, w = 19, oh = 12, ow = 21, n = 3 * oh * ow;
    float *y = rnd(n, &seed, -1, 1), *prev = rnd(n, &seed, -1, 1), *d = tu_random(h * w, &seed, 0, 20);
    float *flow = tu_random(2 * h * w, &seed, -2.5f, 2.5f);
    float chg[2] = {change, 0};
    tu_arena_t a;
    tu_arena_init(&a, g_ctx, 1 << 20);
    vks_tensor_t ty = tact(&a, 1, 3, oh, ow, y), tp = tact(&a, 1, 3, oh, ow, prev);
    vks_tensor_t td = tu_act_e(&a, 1, 1, h, w, 4, d), tk = tu_flat(&a, 2, chg), tf = tu_act_e(&a, 1, 2, h, w, 4, flow);
    vks_tensor_t tv = tu_act_e(&a, 1, 3, oh, ow, 4, prev);   /* overwritten everywhere */
    vks_stab_blend_t p = {radius, 0.8f, 3.0f, 12.0f, 30.0f, maxdev};
    vks_rec_t rec;
    tu_rec_begin(g_ctx, &rec);
    TU_OK(vks_op_stab_blend(&rec, &ty, &tp, &td, &tk, &tf, &tv, &p));
    tu_rec_run(&rec);
    float *y0 = malloc(n * sizeof *y0), *dev = malloc(n * sizeof *dev);
    memcpy(y0, y, n * sizeof *y0);
    ref_stab_blend(y, prev, (int)oh, (int)ow, d, flow, (int)h, (int)w, (int)radius, 0.8f, 3.0f, 12.0f, cut, maxdev, dev);
    float *got = tu_download(&a, &ty), *gotp = tu_download(&a, &tp), *gotv = tu_download(&a, &tv);
    assert_int_equal(ref_compare("stab_blend output", got, y, n, tol(1e-5f), tol(1e-5f)), 0);
    assert_int_equal(ref_compare("stab_blend deviation", gotv, dev, n, tol(1e-5f), tol(1e-5f)), 0);
    assert_int_equal(ref_compare("stab_blend previous (unchanged)", gotp, prev, n, 0, 0), 0);
    uint32_t changed = 0;
    for (uint32_t i = 0; i < n; i++) changed += y[i] != y0[i];
    if (cut) assert_int_equal(changed, 0);
    else assert_true(changed > n / 4);
    vks_rec_destroy(&rec);
    tu_arena_done(&a);
    free(y); free(y0); free(prev); free(d); free(flow); free(got); free(gotp); free(gotv); free(dev);
}

static void test_stab_blend(void **state)
{
    (void)state;
    run_stab_blend(5.0f, 0, 2, 1e30f, 71);
    run_stab_blend(5.0f, 0, 0, 0.3f, 72);   /* some pixels clamped */
    run_stab_blend(40.0f, 1, 1, 0.3f, 73);
}

/* stab_limit after channel_stats of the deviation, on an odd size: a limit below the deviation's root mean
 * square (scaled back to it), and one above (the output as it was, bit for bit). */
static void run_stab_limit(float limit, uint32_t seed)
{
    const uint32_t h = 13, w = 37, hw = h * w, n = 3 * hw;
    float *y = rnd(n, &seed, -1, 1), *dev = tu_random(n, &seed, -0.3f, 0.1f);
    for (uint32_t i = 0; i < n; i += 5) dev[i] = 0.0f;
    tu_arena_t a;
    tu_arena_init(&a, g_ctx, 1 << 20);
    vks_tensor_t ty = tact(&a, 1, 3, h, w, y), tv = tu_act_e(&a, 1, 3, h, w, 4, dev), ts = tu_flat(&a, 6, NULL);
    vks_rec_t rec;
    tu_rec_begin(g_ctx, &rec);
    TU_OK(vks_op_channel_stats(&rec, &tv, 0, h, &ts, 0));
    TU_OK(vks_op_stab_limit(&rec, &ty, &tv, &ts, limit));
    tu_rec_run(&rec);
    float *got = tu_download(&a, &ty), *y0 = malloc(n * sizeof *y0);
    memcpy(y0, y, n * sizeof *y0);
    ref_stab_limit(y, dev, (int)hw, limit);
    assert_int_equal(ref_compare("stab_limit", got, y, n, tol(1e-5f), tol(1e-5f)), 0);
    uint32_t changed = 0;
    for (uint32_t i = 0; i < n; i++) changed += y[i] != y0[i];
    if (limit > 1) assert_int_equal(memcmp(got, y0, n * sizeof *got), 0);
    else assert_true(changed > n / 2);
    vks_rec_destroy(&rec);
    tu_arena_done(&a);
    free(y); free(y0); free(dev); free(got);
}

static void test_stab_limit(void **state)
{
    (void)state;
    run_stab_limit(0.05f, 91);
    run_stab_limit(10.0f, 92);
}

static void test_stab_errors(void **state)
{
    (void)state;
    vks_rec_t dry;
    TU_OK(vks_rec_begin_dry(g_ctx, &dry));
    vks_tensor_t x = vks_tensor_act(NULL, 0, 1, 3, 8, 9, g_esize), p = vks_tensor_act(NULL, 0, 1, 3, 8, 9, g_esize);
    vks_tensor_t p32 = vks_tensor_act(NULL, 0, 1, 3, 8, 9, g_esize == 2 ? 4 : 2);
    vks_tensor_t d = vks_tensor_act(NULL, 0, 1, 1, 8, 9, 4), bad = vks_tensor_act(NULL, 0, 1, 1, 8, 8, 4);
    vks_tensor_t f = vks_tensor_act(NULL, 0, 1, 2, 8, 9, 4), fc = vks_tensor_act(NULL, 0, 1, 2, 4, 5, 4);
    vks_tensor_t g2 = vks_tensor_act(NULL, 0, 1, 1, 4, 5, 4);
    vks_tensor_t k = vks_tensor_flat(NULL, 0, 2);
    TU_OK(vks_op_stab_grey(&dry, &x, &d, 1, 1.0f));
    TU_OK(vks_op_stab_grey(&dry, &x, &g2, 2, 1.0f));
    assert_int_equal(vks_op_stab_grey(&dry, &x, &d, 2, 1.0f), VKS_ERR_SHAPE);
    assert_int_equal(vks_op_stab_grey(&dry, &x, &d, 0, 1.0f), VKS_ERR_INVALID_ARGUMENT);
    assert_int_equal(vks_op_stab_grey(&dry, &x, &d, 1, NAN), VKS_ERR_INVALID_ARGUMENT);
    vks_stab_flow_t fp = {1, 2, 0.5f, 32.0f, 9.0f, 1.0f, 25.0f, 0.2f};
    TU_OK(vks_op_stab_flow(&dry, &d, &d, NULL, &f, &fp));
    TU_OK(vks_op_stab_flow(&dry, &d, &d, &fc, &f, &fp));
    assert_int_equal(vks_op_stab_flow(&dry, &d, &bad, NULL, &f, &fp), VKS_ERR_SHAPE);
    assert_int_equal(vks_op_stab_flow(&dry, &d, &d, &f, &f, &fp), VKS_ERR_SHAPE);
    fp.reg = -1.0f;
    assert_int_equal(vks_op_stab_flow(&dry, &d, &d, NULL, &f, &fp), VKS_ERR_INVALID_ARGUMENT);
    fp.reg = 25.0f;
    fp.dead = NAN;
    assert_int_equal(vks_op_stab_flow(&dry, &d, &d, NULL, &f, &fp), VKS_ERR_INVALID_ARGUMENT);
    fp.dead = 0.2f;
    fp.win = VKS_STAB_WIN_MAX + 1;
    assert_int_equal(vks_op_stab_flow(&dry, &d, &d, NULL, &f, &fp), VKS_ERR_INVALID_ARGUMENT);
    assert_int_equal(vks_op_stab_motion(&dry, &x, &p, &f, &bad, 1.0f), VKS_ERR_SHAPE);
    assert_int_equal(vks_op_stab_motion(&dry, &x, &p, &fc, &d, 1.0f), VKS_ERR_SHAPE);
    assert_int_equal(vks_op_stab_motion(&dry, &x, &p, &f, &d, 0.0f), VKS_ERR_INVALID_ARGUMENT);
    assert_int_equal(vks_op_stab_motion(&dry, &x, &p32, &f, &d, 1.0f), VKS_ERR_INVALID_ARGUMENT);   /* mixed types */
    assert_int_equal(vks_op_stats_ema(&dry, &k, 0, &k, 0, 2, 10, &k, 0.5f, 1.0f), VKS_ERR_SHAPE);
    assert_int_equal(vks_op_stats_ema(&dry, &k, 0, &k, 0, 1, 10, &k, 1.5f, 1.0f), VKS_ERR_INVALID_ARGUMENT);
    vks_stab_blend_t b = {2, 0.5f, 3.0f, 3.0f, 30.0f, 1.0f};
    vks_tensor_t v = vks_tensor_act(NULL, 0, 1, 3, 8, 9, 4), s6 = vks_tensor_flat(NULL, 0, 6);
    assert_int_equal(vks_op_stab_blend(&dry, &x, &p, &d, &k, &f, &v, &b), VKS_ERR_INVALID_ARGUMENT);
    b.hi = 10.0f;
    assert_int_equal(vks_op_stab_blend(&dry, &x, &bad, &d, &k, &f, &v, &b), VKS_ERR_SHAPE);
    assert_int_equal(vks_op_stab_blend(&dry, &x, &p, &d, &k, &fc, &v, &b), VKS_ERR_SHAPE);
    assert_int_equal(vks_op_stab_blend(&dry, &x, &p, &d, &k, &f, &d, &b), VKS_ERR_SHAPE);
    TU_OK(vks_op_stab_blend(&dry, &x, &p, &d, &k, &f, &v, &b));
    TU_OK(vks_op_stab_limit(&dry, &x, &v, &s6, 1.0f));
    assert_int_equal(vks_op_stab_limit(&dry, &x, &v, &k, 1.0f), VKS_ERR_SHAPE);
    assert_int_equal(vks_op_stab_limit(&dry, &x, &d, &s6, 1.0f), VKS_ERR_SHAPE);
    assert_int_equal(vks_op_stab_limit(&dry, &x, &v, &s6, -1.0f), VKS_ERR_INVALID_ARGUMENT);
    vks_rec_destroy(&dry);
}

#define F16(test)                                         \
    static void test##_f16(void **state)                  \
    {                                                     \
        assert_true(g_ctx->fp16_enabled);                 \
        g_esize = 2;                                      \
        test(state);                                      \
        g_esize = 4;                                      \
    }
F16(test_conv2d)
F16(test_conv_variants)
F16(test_conv_igemm)
F16(test_conv2d_transpose)
F16(test_conv2d_transpose_pads)
F16(test_pad)
F16(test_conv2d_edge_strides)
F16(test_conv2d_winograd)
F16(test_upsample)
F16(test_instance_norm)
F16(test_instance_norm_split)
F16(test_channel_stats)
F16(test_norm_large_plane)
F16(test_instance_norm_given)
F16(test_batch_norm)
F16(test_activation_add)
F16(test_pack_unpack)
F16(test_yuyv_to_rgb)
F16(test_chunked_bindings)
F16(test_split_dispatches)
F16(test_stab_grey)
F16(test_stab_motion)
F16(test_stats_ema)
F16(test_stab_blend)
F16(test_stab_limit)

/* Instance-norm statistics over a float16 plane must be accumulated in fp32. The planes are
 * 512x512 values near 300 whose first value is 0: the shader's shifted sums subtract that first
 * value, so each invocation's partial sum of 1024 values reaches 3e5, past float16's 65504 (an
 * fp16 accumulator turns the whole plane into NaN). */
static void test_instance_norm_f16_statistics(void **state)
{
    (void)state;
    g_esize = 2;
    uint32_t c = 2, h = 512, w = 512, seed = 5;
    size_t cnt = (size_t)c * h * w;
    float *x = tu_random(cnt, &seed, -1, 1), *g = rnd(c, &seed, 0.5f, 2), *b = rnd(c, &seed, -1, 1);
    for (size_t i = 0; i < cnt; i++) x[i] = i % ((size_t)h * w) == 0 ? 0.0f : x[i] + 300.0f;
    quantize(x, cnt);
    float *want = malloc(cnt * 4);
    ref_instance_norm(x, 1, (int)c, (int)h, (int)w, g, b, 1e-3f, REF_ACT_NONE, NULL, want);
    tu_arena_t a;
    tu_arena_init(&a, g_ctx, cnt * 8 + (1 << 20));
    vks_tensor_t tx = tact(&a, 1, c, h, w, x), ty = tact(&a, 1, c, h, w, NULL);
    vks_tensor_t tg = tu_flat(&a, c, g), tb = tu_flat(&a, c, b);
    vks_rec_t rec;
    tu_rec_begin(g_ctx, &rec);
    TU_OK(vks_op_instance_norm(&rec, &tx, &ty, &tg, 0, &tb, 0, 1e-3f, REF_ACT_NONE, NULL));
    tu_rec_run(&rec);
    float *got = tu_download(&a, &ty);
    g_esize = 4;
    /* the outlier itself normalizes to about -300 * gamma: float16 rounding of 2^-11 relative */
    assert_int_equal(ref_compare("instance_norm f16 statistics", got, want, cnt, 4e-3f, 2e-3f), 0);
    vks_rec_destroy(&rec);
    tu_arena_done(&a);
    free(x); free(g); free(b); free(want); free(got);
}

static void test_precision_errors(void **state)
{
    (void)state;
    tu_arena_t a;
    tu_arena_init(&a, g_ctx, 1 << 20);
    vks_tensor_t x32 = tu_act_e(&a, 1, 3, 5, 5, 4, NULL), y16 = tu_act_e(&a, 1, 3, 5, 5, 2, NULL);
    vks_tensor_t wt = tu_flat(&a, 3 * 3 * 9, NULL), bad = y16;
    bad.esize = 8;
    vks_rec_t rec;
    tu_rec_begin(g_ctx, &rec);
    vks_conv2d_params_t p = {3, 3, 1, 1, 1, 1, 1, false, 0, 0, {0}};
    assert_int_equal(vks_op_conv2d(&rec, &p, &x32, &wt, NULL, &y16), VKS_ERR_INVALID_ARGUMENT);
    assert_non_null(strstr(vks_last_error(), "mix float32 and float16"));
    assert_int_equal(vks_op_activation(&rec, &bad, &bad, 0, 1, 0), VKS_ERR_INVALID_ARGUMENT);
    assert_int_equal(vks_op_add(&rec, &x32, &x32, &y16), VKS_ERR_INVALID_ARGUMENT);
    /* a device without fp16: the float16 variant is refused with a message naming the features */
    g_ctx->fp16_enabled = false;
    assert_int_equal(vks_op_activation(&rec, &y16, &y16, 0, 1, 0), VKS_ERR_UNSUPPORTED);
    assert_non_null(strstr(vks_last_error(), "storageBuffer16BitAccess"));
    g_ctx->fp16_enabled = true;
    TU_OK(vks_rec_end(&rec));
    vks_rec_destroy(&rec);
    tu_arena_done(&a);
}

/* The measurement shaders of `vkstyle bench --peak`, once each on a few workgroups: they too
 * stay inside their bindings (guard mode), the copy copies and the FMA loops write finite sums. */
static void test_peak_shaders(void **state)
{
    (void)state;
    tu_arena_t a;
    tu_arena_init(&a, g_ctx, 1 << 20);
    const uint32_t groups = 3, n = groups * 256 * 4;   /* floats: one vec4 per invocation */
    uint32_t seed = 5;
    float *x = tu_random(n, &seed, -1, 1);
    vks_tensor_t src = tu_flat(&a, n, x), dst = tu_flat(&a, n, NULL);
    struct { uint32_t iters; } push = {8};
    const vks_shader_id_t fma[2] = {VKS_SHADER_PEAK_FMA_F32, VKS_SHADER_PEAK_FMA_F16};
    for (int k = 0; k < 2; k++) {
        if (k == 1 && !g_ctx->fp16_enabled) continue;
        const vks_pipeline_t *p;
        TU_OK(vks_pipeline_get(g_ctx, fma[k], NULL, 0, 1, 0, sizeof push, &p));
        vks_binding_t b = vks_bind(&dst, true);
        vks_rec_t rec;
        tu_rec_begin(g_ctx, &rec);
        TU_OK(vks_rec_dispatch(&rec, p, &b, 1, &push, groups, 1, 1));
        tu_rec_run(&rec);
        vks_rec_destroy(&rec);
        float *got = tu_download(&a, &dst);
        for (uint32_t i = 0; i < n; i++) assert_true(isfinite(got[i]));
        free(got);
    }
    const vks_pipeline_t *p;
    TU_OK(vks_pipeline_get(g_ctx, VKS_SHADER_PEAK_COPY, NULL, 0, 2, 0, sizeof push, &p));
    vks_binding_t b[2] = {vks_bind(&src, false), vks_bind(&dst, true)};
    push.iters = n / 4;   /* vec4s to copy */
    vks_rec_t rec;
    tu_rec_begin(g_ctx, &rec);
    TU_OK(vks_rec_dispatch(&rec, p, b, 2, &push, groups, 1, 1));
    tu_rec_run(&rec);
    vks_rec_destroy(&rec);
    float *got = tu_download(&a, &dst);
    assert_memory_equal(got, x, n * sizeof(float));
    free(got);
    free(x);
    tu_arena_done(&a);
}

/* VKSTYLE_TEST_PRECISION=fp16 runs the float16 tests, the peak shaders' (one of them is float16),
 * F(6x6)'s and the Winograd weight transform's (fp32, but F(6x6)'s instrumented pipelines were a
 * quarter of the float32 half's time under GPU-assisted validation: the halves run at once, one a
 * core); VKSTYLE_TEST_PRECISION=fp32 runs all the others, the peak shaders' too. */
static bool in_half(void (*f)(void **), const char *name)
{
    bool f16 = strstr(name, "f16") != NULL;
    bool moved = f == test_conv2d_winograd6 || f == test_winograd_weights;   /* fp32, run by the fp16 half */
    if (tu_fp32_only()) return !f16 && !moved;
    if (tu_fp16_only()) return f16 || moved || f == test_peak_shaders;
    return true;
}

/* Whether the float16 half runs the shader (the float32 half all the others): its float16
 * variants, F(6x6)'s and the weight transform's (in_half). */
static bool in_f16_half(const char *name)
{
    return is_f16_shader(name) || strstr(name, "wino6") != NULL || strstr(name, "wino_weights") != NULL;
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_conv2d),
        cmocka_unit_test(test_conv_row_bands),
        cmocka_unit_test(test_conv2d_transpose),
        cmocka_unit_test(test_conv2d_transpose_pads),
        cmocka_unit_test(test_pad),
        cmocka_unit_test(test_conv2d_edge_strides),
        cmocka_unit_test(test_conv2d_winograd),
        cmocka_unit_test(test_conv2d_winograd6),
        cmocka_unit_test(test_winograd_weights),
        cmocka_unit_test(test_conv_variants),
        cmocka_unit_test(test_conv_igemm),
        cmocka_unit_test(test_conv2d_winograd_f16),
        cmocka_unit_test(test_upsample),
        cmocka_unit_test(test_instance_norm),
        cmocka_unit_test(test_instance_norm_split),
        cmocka_unit_test(test_channel_stats),
        cmocka_unit_test(test_norm_large_plane),
        cmocka_unit_test(test_instance_norm_given),
        cmocka_unit_test(test_conditional_instance_norm),
        cmocka_unit_test(test_cin_one_hot_is_instance_norm),
        cmocka_unit_test(test_cin_errors),
        cmocka_unit_test(test_batch_norm),
        cmocka_unit_test(test_batch_norm_fold),
        cmocka_unit_test(test_activation_add),
        cmocka_unit_test(test_pack_unpack),
        cmocka_unit_test(test_yuyv_to_rgb),
        cmocka_unit_test(test_chunked_bindings),
        cmocka_unit_test_setup_teardown(test_split_dispatches, split_setup, split_teardown),
        cmocka_unit_test(test_shape_errors),
        cmocka_unit_test(test_barrier_placement),
        cmocka_unit_test(test_conv2d_f16),
        cmocka_unit_test(test_conv_variants_f16),
        cmocka_unit_test(test_conv_igemm_f16),
        cmocka_unit_test(test_conv2d_transpose_f16),
        cmocka_unit_test(test_conv2d_transpose_pads_f16),
        cmocka_unit_test(test_pad_f16),
        cmocka_unit_test(test_conv2d_edge_strides_f16),
        cmocka_unit_test(test_upsample_f16),
        cmocka_unit_test(test_instance_norm_f16),
        cmocka_unit_test(test_instance_norm_split_f16),
        cmocka_unit_test(test_channel_stats_f16),
        cmocka_unit_test(test_norm_large_plane_f16),
        cmocka_unit_test(test_instance_norm_given_f16),
        cmocka_unit_test(test_instance_norm_f16_statistics),
        cmocka_unit_test(test_batch_norm_f16),
        cmocka_unit_test(test_activation_add_f16),
        cmocka_unit_test(test_pack_unpack_f16),
        cmocka_unit_test(test_yuyv_to_rgb_f16),
        cmocka_unit_test(test_chunked_bindings_f16),
        cmocka_unit_test_setup_teardown(test_split_dispatches_f16, split_setup, split_teardown),
        cmocka_unit_test(test_stab_grey),
        cmocka_unit_test(test_stab_flow),
        cmocka_unit_test(test_stab_motion),
        cmocka_unit_test(test_stats_ema),
        cmocka_unit_test(test_stab_blend),
        cmocka_unit_test(test_stab_limit),
        cmocka_unit_test(test_stab_errors),
        cmocka_unit_test(test_stab_grey_f16),
        cmocka_unit_test(test_stab_motion_f16),
        cmocka_unit_test(test_stats_ema_f16),
        cmocka_unit_test(test_stab_blend_f16),
        cmocka_unit_test(test_stab_limit_f16),
        cmocka_unit_test(test_precision_errors),
        cmocka_unit_test(test_peak_shaders),
    };
    /* VKSTYLE_TEST_GUARDS=1 (ctest test_ops_guarded): every test again with each dispatch's
     * bindings between guard bytes, except the barrier-placement test, whose barriers guard mode
     * changes (it adds its own around every dispatch). */
    struct CMUnitTest run[sizeof tests / sizeof tests[0]];
    size_t n = 0;
    for (size_t i = 0; i < sizeof tests / sizeof tests[0]; i++)
        if ((!tu_guard_mode() || (tests[i].test_func != test_barrier_placement &&
                                  /* 35 MB guarded copies crash the validation layer (Mesa 22.3's
                                   * lavapipe, layers 1.3.239); smaller planes cover these shaders */
                                  tests[i].test_func != test_norm_large_plane &&
                                  tests[i].test_func != test_norm_large_plane_f16)) &&
            /* quick (CI's validation stages): not the 512x512 statistics, nor the batch-norm fold,
             * which is host arithmetic and one more conv2d_xubo pipeline (its instrumented compile
             * took 19 s under GPU-assisted validation, for a shader test_conv2d runs) */
            (!tu_quick_mode() || (tests[i].test_func != test_instance_norm_f16_statistics &&
                                  tests[i].test_func != test_batch_norm_fold)) &&
            in_half(tests[i].test_func, tests[i].name))
            run[n++] = tests[i];
    char name[64];
    snprintf(name, sizeof name, "test_ops (%s%s%s)", tu_guard_mode() ? "guard bytes, " : "",
             tu_quick_mode() ? "quick, " : "",
             tu_fp32_only() ? "fp32 only" : tu_fp16_only() ? "fp16 only" : "fp32 and fp16");
    /* VKSTYLE_TEST_FILTER=PATTERN runs the tests whose names match (cmocka's wildcards), as in
     * test_session; for a developer timing one test, so the run then fails by design: not every
     * shader ran */
    if (getenv("VKSTYLE_TEST_FILTER")) cmocka_set_test_filter(getenv("VKSTYLE_TEST_FILTER"));
    int failed = _cmocka_run_group_tests(name, run, n, setup, teardown);
    /* every shader of the engine's table ran in these tests (fp16 variants where the device has fp16) */
    int missing = 0;
    for (int i = 0; i < VKS_SHADER_COUNT; i++)
        if (tu_shader_dispatches[i] == 0 && !(tu_fp32_only() && in_f16_half(vks_shader_table[i].name)) &&
            !(tu_fp16_only() && !in_f16_half(vks_shader_table[i].name)) &&
            (g_input_ubo || (!strstr(vks_shader_table[i].name, "xubo") && !strstr(vks_shader_table[i].name, "mpos")))) {
            fprintf(stderr, "shader %s never ran in test_ops\n", vks_shader_table[i].name);
            missing++;
        }
    if (missing) fprintf(stderr, "%d of %d shaders never ran\n", missing, (int)VKS_SHADER_COUNT);
    return failed || missing;
}
