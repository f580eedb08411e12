/* Models and sessions: exactness against the reference outputs, style mixing through push
 * constants, hostile graphs, failure injection, the pipeline cache. */
#include "testutil.h"
#include "cache.h"
#include "image_io.h"
#include "session.h"
#include "vkstyle/vkstyle_vulkan.h"

#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

static vks_context_t *g_ctx;

static int setup(void **state) { (void)state; g_ctx = tu_context(0); return 0; }
static int teardown(void **state) { (void)state; tu_context_done(g_ctx); return 0; }

/* A deterministic smooth-plus-noise RGB test image. */
static uint8_t *tiny_image_rgb(uint32_t w, uint32_t h)
{
    uint8_t *px = malloc((size_t)w * h * 3);
    uint32_t seed = 77;
    for (uint32_t y = 0; y < h; y++)
        for (uint32_t x = 0; x < w; x++)
            for (int c = 0; c < 3; c++) {
                seed = seed * 1664525u + 1013904223u;
                double v = 128 + 90 * sin(0.05 * x * (c + 1) + 0.07 * y) + (double)(seed >> 28) * 3;
                px[((size_t)y * w + x) * 3 + c] = (uint8_t)fmin(255, fmax(0, v));
            }
    return px;
}

static double psnr(const uint8_t *a, const uint8_t *b, size_t n)
{
    double se = 0;
    for (size_t i = 0; i < n; i++) se += ((double)a[i] - b[i]) * ((double)a[i] - b[i]);
    return se == 0 ? 999.0 : 10.0 * log10(255.0 * 255.0 * (double)n / se);
}

/* ------------------------------------------------------------------ exactness */

/* Fill a session's whole arena with all-one bytes, NaN in fp32 and fp16: the memory of a new
 * session holds whatever was there before (on lavapipe, freed memory of this process; on a GPU,
 * anything), and no op may read what it has not written in the same run. Instance norm's vec4
 * variant multiplied its planes' padding by 0, and NaN there made the first frame wrong (after
 * the tuner's runs, every first image of a new size). */
static void poison_arena(vks_session_t *s)
{
    vks_rec_t r;
    TU_OK(vks_rec_begin(s->ctx, &r, false));
    s->ctx->vk.vkCmdFillBuffer(r.cmd, s->arena.buffer, 0, VK_WHOLE_SIZE, 0xFFFFFFFFu);
    TU_OK(vks_rec_end(&r));
    TU_OK(vks_submit_wait(s->ctx, &r.cmd, 1));
    vks_rec_destroy(&r);
}

static void check_reference(const char *style, const char *ref, vks_precision_t precision, double min_psnr)
{
    char path[1024], err[256];
    vks_image_t in = {0}, want = {0};
    snprintf(path, sizeof path, "%s/tests/data/kodim05_crop333x257.png", VKS_SOURCE_DIR);
    assert_int_equal(vks_image_load(path, &in, err, sizeof err), 0);
    snprintf(path, sizeof path, "%s/tests/data/%s", VKS_SOURCE_DIR, ref);
    assert_int_equal(vks_image_load(path, &want, err, sizeof err), 0);
    snprintf(path, sizeof path, "%s/models/%s.safetensors", VKS_SOURCE_DIR, style);
    vks_model_t *m = NULL;
    vks_session_t *s = NULL;
    TU_OK(vks_model_load(g_ctx, path, &m));
    vks_session_options_t so = {.precision = precision};
    TU_OK(vks_session_create_ex(m, in.w, in.h, &so, &s));
    assert_int_equal(vks_session_precision(s), precision);
    uint8_t *out = malloc((size_t)in.w * in.h * 3);
    poison_arena(s);
    TU_OK(vks_session_run(s, in.px, out, 3));
    double p = psnr(out, want.px, (size_t)in.w * in.h * 3);
    printf("# %s %s vs reference: PSNR %.2f dB\n", style, precision == VKS_PRECISION_FP16 ? "fp16" : "fp32", p);
    assert_true(p >= min_psnr);
    free(out);
    vks_session_destroy(s);
    vks_model_destroy(m);
    vks_image_free(&in);
    vks_image_free(&want);
}

static void test_reference_udnie(void **state) { (void)state; check_reference("udnie", "kodim05_crop333x257_udnie.png", VKS_PRECISION_FP32, 45.0); }
static void test_reference_wave(void **state) { (void)state; check_reference("wave", "kodim05_crop333x257_wave.png", VKS_PRECISION_FP32, 45.0); }
/* float16 activations: the bar is 40 dB against the same references */
static void test_reference_udnie_fp16(void **state) { (void)state; check_reference("udnie", "kodim05_crop333x257_udnie.png", VKS_PRECISION_FP16, 40.0); }
static void test_reference_wave_fp16(void **state) { (void)state; check_reference("wave", "kodim05_crop333x257_wave.png", VKS_PRECISION_FP16, 40.0); }

/* AUTO picks FP16 where the device has it (lavapipe does) and FP32 where not; FP16 on a device
 * without it is an error that names the missing features. Also the multi-style network in fp16. */
static void test_precision_choice(void **state)
{
    (void)state;
    char path[1024];
    snprintf(path, sizeof path, "%s/models/styles9.safetensors", VKS_SOURCE_DIR);
    vks_model_t *m = NULL;
    vks_session_t *s16 = NULL, *s32 = NULL, *s = NULL;
    TU_OK(vks_model_load(g_ctx, path, &m));
    assert_true(g_ctx->fp16_enabled);
    vks_session_options_t o16 = {.precision = VKS_PRECISION_AUTO}, o32 = {.precision = VKS_PRECISION_FP32};
    TU_OK(vks_session_create_ex(m, 40, 30, &o16, &s16));
    TU_OK(vks_session_create_ex(m, 40, 30, &o32, &s32));
    assert_int_equal(vks_session_precision(s16), VKS_PRECISION_FP16);
    assert_int_equal(vks_session_precision(s32), VKS_PRECISION_FP32);
    const float mix[3] = {0.25f, 0.0f, 0.75f};
    TU_OK(vks_session_set_style_weights(s16, mix, 3));
    TU_OK(vks_session_set_style_weights(s32, mix, 3));
    size_t n = 40 * 30 * 3;
    uint8_t *in = malloc(n), *a = malloc(n), *b = malloc(n);
    for (size_t i = 0; i < n; i++) in[i] = (uint8_t)((i * 7919u) >> 3);
    TU_OK(vks_session_run(s16, in, a, 3));
    TU_OK(vks_session_run(s32, in, b, 3));
    double p = psnr(a, b, n);
    printf("# styles9 mix, fp16 vs fp32: PSNR %.2f dB\n", p);
    assert_true(p >= 40.0 && p < 999.0);   /* close, and really computed differently */
    g_ctx->fp16_enabled = false;
    vks_session_options_t of = {.precision = VKS_PRECISION_FP16}, oa = {.precision = VKS_PRECISION_AUTO};
    assert_int_equal(vks_session_create_ex(m, 40, 30, &of, &s), VKS_ERR_UNSUPPORTED);
    assert_null(s);
    assert_non_null(strstr(vks_last_error(), "shaderFloat16"));
    TU_OK(vks_session_create_ex(m, 40, 30, &oa, &s));
    assert_int_equal(vks_session_precision(s), VKS_PRECISION_FP32);
    g_ctx->fp16_enabled = true;
    vks_session_options_t obad = {.precision = (vks_precision_t)7};
    vks_session_t *s2 = NULL;
    assert_int_equal(vks_session_create_ex(m, 40, 30, &obad, &s2), VKS_ERR_INVALID_ARGUMENT);
    vks_session_destroy(s);
    vks_session_destroy(s16);
    vks_session_destroy(s32);
    vks_model_destroy(m);
    free(in); free(a); free(b);
}

/* The frame's GPU time from the session's timestamps: none before a run, then positive and
 * within the wall time of the run. */
static void test_frame_gpu_time(void **state)
{
    (void)state;
    char path[1024];
    snprintf(path, sizeof path, "%s/models/udnie.safetensors", VKS_SOURCE_DIR);
    vks_model_t *m = NULL;
    vks_session_t *s = NULL;
    TU_OK(vks_model_load(g_ctx, path, &m));
    TU_OK(vks_session_create(m, 48, 32, &s));
    /* the residual layers' transformed weights: those of the one tile this session runs (all at
       12x8), computed when it was recorded; the other tiles' never */
    uint32_t tiles = 0;
    for (uint32_t i = 0; i < m->nlayers; i++) tiles |= m->layers[i].wino_ready;
    assert_int_equal(tiles, vks_wino_tile_bit(vks_winograd_tile(4, 8, 12)));
    double ms = -1;
    assert_true(g_ctx->info.timestamps);   /* lavapipe has them; a device without fails here */
    assert_int_equal(vks_session_last_gpu_ms(s, &ms), VKS_ERR_UNSUPPORTED);
    uint8_t px[48 * 32 * 3] = {0};
    struct timespec t0, t1;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    TU_OK(vks_session_run(s, px, px, 3));
    clock_gettime(CLOCK_MONOTONIC, &t1);
    double wall = (t1.tv_sec - t0.tv_sec) * 1e3 + (t1.tv_nsec - t0.tv_nsec) / 1e6;
    TU_OK(vks_session_last_gpu_ms(s, &ms));
    printf("# 48x32 frame: GPU %.2f ms, wall %.2f ms\n", ms, wall);
    assert_true(ms > 0 && ms <= wall);
    /* the profile's dispatches per step: each conversion one, the steps adding up to the frame,
     * which is what the context's per-shader counters saw recorded for the profile, and what the
     * session's own recording of the frame holds */
    uint64_t before = 0, after = 0;
    for (int i = 0; i < VKS_SHADER_COUNT; i++) before += g_ctx->shader_dispatches[i];
    vks_profile_t prof;
    TU_OK(vks_session_profile(s, 0, 1, &prof));   /* counts, not times: one frame will do */
    for (int i = 0; i < VKS_SHADER_COUNT; i++) after += g_ctx->shader_dispatches[i];
    assert_int_equal(prof.count, m->nlayers + 2);
    assert_int_equal(prof.steps[0].dispatches, 1);
    assert_int_equal(prof.steps[prof.count - 1].dispatches, 1);
    uint32_t sum = 0;
    for (uint32_t i = 0; i < prof.count; i++) sum += prof.steps[i].dispatches;
    assert_int_equal(sum, prof.dispatches);
    assert_int_equal(prof.dispatches, after - before);
    assert_int_equal(prof.dispatches, s->main.dispatches);
    printf("# 48x32 frame: %u dispatches\n", prof.dispatches);
    /* per shader variant: every dispatch of the frame, each variant's count what the context's
     * counters saw recorded, most time first, and together (each dispatch with its barrier)
     * within the profiled frame's span give or take the machine's noise */
    uint64_t counts[VKS_SHADER_COUNT];
    memcpy(counts, g_ctx->shader_dispatches, sizeof counts);
    vks_shader_time_t *st = NULL;
    uint32_t nst = 0;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    TU_OK(vks_session_profile_shaders(s, 1, 1, &st, &nst));
    clock_gettime(CLOCK_MONOTONIC, &t1);
    double call = (t1.tv_sec - t0.tv_sec) * 1e3 + (t1.tv_nsec - t0.tv_nsec) / 1e6;
    assert_true(nst >= 4);   /* udnie at least: pack, conv, norm, unpack */
    uint32_t nd = 0;
    double total = 0;
    for (uint32_t i = 0; i < nst; i++) {
        int id = -1;
        for (int k = 0; k < VKS_SHADER_COUNT; k++)
            if (!strcmp(vks_shader_table[k].name, st[i].shader)) id = k;
        assert_true(id >= 0);
        assert_int_equal(st[i].dispatches, g_ctx->shader_dispatches[id] - counts[id]);
        assert_true(st[i].gpu_ms > 0);
        if (i) assert_true(st[i].gpu_ms <= st[i - 1].gpu_ms);
        nd += st[i].dispatches;
        total += st[i].gpu_ms;
    }
    assert_int_equal(nd, prof.dispatches);
    printf("# 48x32 frame: %u shader variants, %.2f ms together (the profile's frame %.2f), the call %.2f ms wall\n", nst, total,
           prof.gpu_ms_median, call);
    /* Above: every timed dispatch ran inside the call, so their times add up to no more than its
     * wall time, whatever the machine's load. Below, against the faster of two plain frames
     * (timestamps only at start and end), loosely, so that a unit slip (ticks, ns) fails and the
     * load of a test running beside it does not: under ASan in CI the shaders' frame took 330 ms
     * against 76 for a plain one (stop 39), and the per-step profile's 650-730 ms in another run. */
    assert_true(total <= call);
    double first = ms;
    TU_OK(vks_session_run(s, px, px, 3));
    TU_OK(vks_session_last_gpu_ms(s, &ms));
    printf("# 48x32 frame again: GPU %.2f ms\n", ms);
    assert_true(total > 0.25 * (first < ms ? first : ms));
    vks_shader_times_free(st);
    vks_profile_free(&prof);
    vks_session_destroy(s);
    vks_model_destroy(m);
}

/* ------------------------------------------------------------------ what fits */

static vks_model_t *load_style(vks_context_t *ctx, const char *style)
{
    char path[1024];
    snprintf(path, sizeof path, "%s/models/%s.safetensors", VKS_SOURCE_DIR, style);
    vks_model_t *m = NULL;
    TU_OK(vks_model_load(ctx, path, &m));
    return m;
}

/* The largest size vks_session_largest_size names creates a session and runs; one pixel more
 * along the longer side (the shorter one to the aspect ratio) is refused as too large, with a
 * message naming the size that fits. */
static void check_largest(vks_model_t *m, uint32_t w, uint32_t h, const vks_session_options_t *o, const char *why)
{
    uint32_t fw = 0, fh = 0;
    TU_OK(vks_session_largest_size(m, w, h, o, &fw, &fh));
    printf("# %ux%u: %ux%u fits (%s)\n", w, h, fw, fh, why);
    assert_true(fw < w && fh < h && fw > 8 && fh > 8);
    uint32_t lng = w >= h ? fw : fh, sht = w >= h ? h : w, big = w >= h ? w : h;
    assert_int_equal(w >= h ? fh : fw, (uint32_t)lround((double)lng * sht / big));   /* the aspect ratio */
    vks_session_t *s = NULL;
    TU_OK(vks_session_fit(m, fw, fh, o, NULL));
    TU_OK(vks_session_create_ex(m, fw, fh, o, &s));
    uint8_t *px = calloc((size_t)fw * fh, 3);
    TU_OK(vks_session_run(s, px, px, 3));
    vks_session_destroy(s);
    free(px);
    uint32_t w1 = w >= h ? fw + 1 : (uint32_t)lround((double)(lng + 1) * sht / big);
    uint32_t h1 = w >= h ? (uint32_t)lround((double)(lng + 1) * sht / big) : fh + 1;
    assert_int_equal(vks_session_fit(m, w1, h1, o, NULL), VKS_ERR_TOO_LARGE);
    assert_int_equal(vks_session_create_ex(m, w1, h1, o, &s), VKS_ERR_TOO_LARGE);
    assert_null(s);
    printf("# %ux%u: %s\n", w1, h1, vks_last_error());
    assert_non_null(strstr(vks_last_error(), why));
    assert_non_null(strstr(vks_last_error(), "fits)"));
}

/* Under a small memory budget, in both orientations. */
static void test_largest_size_memory(void **state)
{
    (void)state;
    vks_model_t *m = load_style(g_ctx, "udnie");
    vks_session_options_t o = {.max_memory = 12u << 20};
    check_largest(m, 1000, 1000, &o, "device memory");
    check_largest(m, 900, 500, &o, "device memory");
    check_largest(m, 301, 1000, &o, "device memory");
    vks_model_destroy(m);
}

/* Under a small binding limit (the device's maxStorageBufferRange): the size is bounded by the
 * largest binding an op makes, not by memory. Before, sizes were judged by memory alone, and the
 * suggested size then failed in pack_rgb8. */
static void test_largest_size_bindings(void **state)
{
    (void)state;
    vks_context_t *ctx = tu_context(1u << 20);   /* the largest weights, 576 KiB, still fit */
    vks_model_t *m = load_style(ctx, "wave");
    check_largest(m, 800, 600, NULL, "binding limit");
    vks_model_destroy(m);
    tu_context_done(ctx);
}

/* A network with a minimum input size (15x15 reflection-padded: more than 7 pixels a side) under a
 * budget that fits no more than 8x8: the search does not take the sizes too small for the network
 * for sizes too large, and finds the narrow range between. */
static void test_largest_size_above_the_minimum(void **state)
{
    (void)state;
    static float wt[3 * 3 * 15 * 15];
    uint32_t seed = 3;
    ref_fill_random(wt, 3 * 3 * 15 * 15, &seed, -0.01f, 0.01f);
    tu_st_t st;
    tu_st_init(&st);
    int shape[4] = {3, 3, 15, 15};
    tu_st_add(&st, "w", wt, 4, shape);
    size_t size;
    uint8_t *bytes = tu_st_finish(&st, "{\"format\":\"vkstyle-graph\",\"version\":1,\"styles\":[\"s\"],\"layers\":["
                                       "{\"op\":\"conv2d\",\"weight\":\"w\",\"padding\":[7,7,7,7],\"pad_mode\":\"reflect\"}]}", &size);
    vks_model_t *m = NULL;
    TU_OK(vks_model_load_memory(g_ctx, bytes, size, &m));
    uint64_t b8 = 0, b9 = 0;
    TU_OK(vks_session_fit(m, 8, 8, NULL, &b8));
    TU_OK(vks_session_fit(m, 9, 9, NULL, &b9));
    assert_true(b9 > b8);
    assert_int_equal(vks_session_fit(m, 7, 7, NULL, NULL), VKS_ERR_SHAPE);   /* too small */
    vks_session_options_t o = {.max_memory = b8};
    uint32_t fw = 0, fh = 0;
    TU_OK(vks_session_largest_size(m, 1000, 1000, &o, &fw, &fh));
    assert_int_equal(fw, 8);
    assert_int_equal(fh, 8);
    vks_model_destroy(m);
    free(bytes);
}

/* An fp16 session is sized by its own element size: under a budget where fp32 stops at some
 * size, fp16 fits a larger one, and creates it. The model is loaded with the direct convolution
 * only (VKSTYLE_WINOGRAD=0): at fp32's largest size the fp32 plan has no room for Winograd's
 * scratch while the fp16 plan does, so their bytes would not compare activations alone. */
static void test_largest_size_fp16(void **state)
{
    (void)state;
    setenv("VKSTYLE_WINOGRAD", "0", 1);
    vks_model_t *m = load_style(g_ctx, "udnie");
    unsetenv("VKSTYLE_WINOGRAD");
    vks_session_options_t o32 = {.max_memory = 12u << 20, .precision = VKS_PRECISION_FP32};
    vks_session_options_t o16 = {.max_memory = 12u << 20, .precision = VKS_PRECISION_FP16};
    uint32_t w32, h32, w16, h16;
    TU_OK(vks_session_largest_size(m, 1000, 1000, &o32, &w32, &h32));
    TU_OK(vks_session_largest_size(m, 1000, 1000, &o16, &w16, &h16));
    printf("# 12 MiB: %ux%u in fp32, %ux%u in fp16\n", w32, h32, w16, h16);
    assert_true((double)w16 * h16 > 1.6 * (double)w32 * h32);
    uint64_t b32 = 0, b16 = 0;
    TU_OK(vks_session_fit(m, w32, h32, &o32, &b32));
    TU_OK(vks_session_fit(m, w32, h32, &o16, &b16));
    assert_true(b16 < b32 * 6 / 10);
    assert_int_equal(vks_session_fit(m, w16, h16, &o32, NULL), VKS_ERR_TOO_LARGE);
    check_largest(m, 1000, 1000, &o16, "device memory");
    vks_model_destroy(m);
}

/* A network whose dispatches exceed the device's workgroup counts runs split, and gives the same
 * pixels as with the device's own limits. */
static void test_session_split_dispatches(void **state)
{
    (void)state;
    vks_context_t *ctx = tu_context_limits(0, 5);
    vks_model_t *m1 = load_style(g_ctx, "udnie"), *m2 = load_style(ctx, "udnie");
    uint32_t w = 150, h = 97;
    uint8_t *img = tiny_image_rgb(w, h), *a = malloc((size_t)w * h * 3), *b = malloc((size_t)w * h * 3);
    vks_session_t *s1 = NULL, *s2 = NULL;
    TU_OK(vks_session_create(m1, w, h, &s1));
    TU_OK(vks_session_create(m2, w, h, &s2));
    TU_OK(vks_session_run(s1, img, a, 3));
    TU_OK(vks_session_run(s2, img, b, 3));
    assert_true(s2->main.split_pieces > 100);
    assert_memory_equal(a, b, (size_t)w * h * 3);
    vks_session_destroy(s1);
    vks_session_destroy(s2);
    vks_model_destroy(m1);
    vks_model_destroy(m2);
    tu_context_done(ctx);
    free(img); free(a); free(b);
}

/* ------------------------------------------------------------------ tiles */

static void progress_count(void *user, uint32_t done, uint32_t total)
{
    uint32_t *seen = user;
    assert_int_equal(done, seen[0] + 1);
    seen[0] = done;
    seen[1] = total;
}

/* A session run in tiles under a memory budget (several bands in every layer, each instance
 * norm with the whole image's statistics) gives the untiled pixels up to rounding, and holds no
 * more device memory than the budget. Per-tile statistics would not come close. */
static void check_tiled(vks_model_t *m, uint32_t w, uint32_t h, vks_precision_t precision, uint64_t budget,
                        const float *weights, uint32_t nw, double min_psnr)
{
    uint8_t *img = tiny_image_rgb(w, h), *a = malloc((size_t)w * h * 3), *b = malloc((size_t)w * h * 3);
    vks_session_options_t o1 = {.precision = precision};
    vks_session_options_t o2 = {.precision = precision, .max_memory = budget, .tiling = VKS_TILING_AUTO};
    uint32_t seen[2] = {0, 0};
    o2.progress = progress_count;
    o2.progress_user = seen;
    vks_session_t *s1 = NULL, *s2 = NULL;
    TU_OK(vks_session_create_ex(m, w, h, &o1, &s1));
    TU_OK(vks_session_create_ex(m, w, h, &o2, &s2));
    assert_int_equal(vks_session_tiles(s1), 0);
    uint32_t tiles = vks_session_tiles(s2);
    assert_true(tiles >= m->nlayers + 2 + 10);   /* several bands in the full-resolution layers at least */
    assert_true(vks_session_device_bytes(s2) <= budget);
    if (nw) {
        TU_OK(vks_session_set_style_weights(s1, weights, nw));
        TU_OK(vks_session_set_style_weights(s2, weights, nw));
    }
    TU_OK(vks_session_run(s1, img, a, 3));
    TU_OK(vks_session_run(s2, img, b, 3));
    assert_int_equal(seen[0], tiles);
    assert_int_equal(seen[1], tiles);
    double p = psnr(a, b, (size_t)w * h * 3);
    int maxd = 0;
    for (size_t i = 0; i < (size_t)w * h * 3; i++) maxd = abs((int)a[i] - (int)b[i]) > maxd ? abs((int)a[i] - (int)b[i]) : maxd;
    printf("# %ux%u %s in %u tiles within %.2f MiB (holds %.2f MiB; untiled %.2f MiB): %.2f dB, max diff %d\n", w, h,
           precision == VKS_PRECISION_FP16 ? "fp16" : "fp32", tiles, budget / 1048576.0,
           vks_session_device_bytes(s2) / 1048576.0, vks_session_device_bytes(s1) / 1048576.0, p, maxd);
    assert_true(p >= min_psnr);
    /* again: a second run of the same session gives the same pixels */
    uint8_t *c = malloc((size_t)w * h * 3);
    seen[0] = 0;
    TU_OK(vks_session_run(s2, img, c, 3));
    assert_memory_equal(b, c, (size_t)w * h * 3);
    vks_session_destroy(s1);
    vks_session_destroy(s2);
    free(img); free(a); free(b); free(c);
}

static void test_tiled_matches_untiled(void **state)
{
    (void)state;
    vks_model_t *m = load_style(g_ctx, "udnie");
    check_tiled(m, 150, 97, VKS_PRECISION_FP32, 1u << 20, NULL, 0, 55.0);
    check_tiled(m, 150, 97, VKS_PRECISION_FP16, 512u << 10, NULL, 0, 50.0);
    vks_model_destroy(m);
}

/* The ONNX ops' band hooks: pad (reflect, and zero with a constant), the transposed conv with
 * pads and output padding (an output taller than stride x the input), upsampling by 1 x 2 and a
 * conv2d with edge padding and stride 2, run in many bands, give the untiled pixels; the
 * network's output is exactly as tall as the input, so every output row is compared. */
static void test_tiled_onnx_ops(void **state)
{
    (void)state;
    const uint32_t w = 37, h = 29;
    uint32_t seed = 29;
    float *c0 = tu_random(4 * 3 * 9, &seed, -0.5f, 0.5f), *c3 = tu_random(4 * 4 * 15, &seed, -0.3f, 0.3f);
    float *t4 = tu_random(4 * 4 * 9, &seed, -0.4f, 0.4f), *b4 = tu_random(4, &seed, 0.5f, 1), *c7 = tu_random(3 * 4 * 9, &seed, -0.4f, 0.4f);
    int s0[4] = {4, 3, 3, 3}, s3[4] = {4, 4, 5, 3}, s4[4] = {4, 4, 3, 3}, s7[4] = {3, 4, 3, 3};
    tu_st_t st;
    tu_st_init(&st);
    tu_st_add(&st, "c0", c0, 4, s0);
    tu_st_add(&st, "c3", c3, 4, s3);
    tu_st_add(&st, "t4", t4, 4, s4);
    tu_st_add(&st, "b4", b4, 1, s4);   /* the output padding row: the bias only */
    tu_st_add(&st, "c7", c7, 4, s7);
    size_t size;
    uint8_t *bytes = tu_st_finish(&st, "{\"format\":\"vkstyle-graph\",\"version\":1,\"styles\":[\"s\"],\"input\":{\"scale\":0.0039215686},\"layers\":[{\"op\":\"conv2d\",\"weight\":\"c0\",\"padding\":[1,1,1,1],\"pad_mode\":\"reflect\"},{\"op\":\"pad\",\"pads\":[2,1,3,1],\"mode\":\"reflect\"},{\"op\":\"pad\",\"pads\":[1,0,0,2],\"value\":0.5},{\"op\":\"conv2d\",\"weight\":\"c3\",\"padding\":[0,0,0,0]},{\"op\":\"conv2d_transpose\",\"weight\":\"t4\",\"bias\":\"b4\",\"stride\":[2,1],\"pads\":[1,0,1,1],\"output_padding\":[1,0]},{\"op\":\"activation\",\"activation\":\"leaky_relu\",\"alpha\":0.2},{\"op\":\"upsample_nearest\",\"scale\":[1,2]},{\"op\":\"conv2d\",\"weight\":\"c7\",\"padding\":[0,1,0,0],\"pad_mode\":\"edge\",\"stride\":2},{\"op\":\"activation\",\"activation\":\"sigmoid\",\"scale\":255}]}", &size);
    vks_model_t *m = NULL;
    TU_OK(vks_model_load_memory(g_ctx, bytes, size, &m));
    uint8_t *img = tiny_image_rgb(w, h), *a = malloc((size_t)w * h * 3), *b = malloc((size_t)w * h * 3);
    vks_session_options_t o2 = {.max_memory = 12u << 10, .tiling = VKS_TILING_AUTO};
    vks_session_t *s1 = NULL, *s2 = NULL;
    TU_OK(vks_session_create_ex(m, w, h, NULL, &s1));
    TU_OK(vks_session_create_ex(m, w, h, &o2, &s2));
    uint32_t tiles = vks_session_tiles(s2);
    printf("# %u tiles, %.1f KiB\n", tiles, vks_session_device_bytes(s2) / 1024.0);
    assert_true(tiles >= m->nlayers + 2 + 10);
    TU_OK(vks_session_run(s1, img, a, 3));
    TU_OK(vks_session_run(s2, img, b, 3));
    int maxd = 0;
    for (size_t i = 0; i < (size_t)w * h * 3; i++) maxd = abs((int)a[i] - (int)b[i]) > maxd ? abs((int)a[i] - (int)b[i]) : maxd;
    printf("# %ux%u in %u tiles: max diff %d\n", w, h, tiles, maxd);
    assert_true(maxd <= 1);
    vks_session_destroy(s1);
    vks_session_destroy(s2);
    vks_model_destroy(m);
    free(img); free(a); free(b); free(bytes);
    free(c0); free(c3); free(t4); free(b4); free(c7);
}

/* The same through staging buffers (devices without host-visible device memory), and for the
 * nine-style network with a style mix. */
static void test_tiled_staging_and_styles(void **state)
{
    (void)state;
    vks_model_t *m = load_style(g_ctx, "styles9");
    const float mix[9] = {0, 0.3f, 0, 0, 0, 0, 0.7f, 0, 0};
    g_ctx->tiles_no_mapped_memory = true;
    check_tiled(m, 97, 130, VKS_PRECISION_FP32, 1u << 20, mix, 9, 55.0);
    g_ctx->tiles_no_mapped_memory = false;
    check_tiled(m, 97, 130, VKS_PRECISION_FP32, 768u << 10, mix, 9, 55.0);
    vks_model_destroy(m);
}

/* ------------------------------------------------------------------ threads */

/* One thread's work: make a session of m (so that pipelines are created by both threads at
 * once), run `frames` different frames, each compared with the single-threaded output. cmocka
 * asserts only on the main thread: a thread records its first failure. */
#define THREAD_FRAMES 12
typedef struct thread_job {
    vks_model_t *model;
    uint32_t w, h;
    vks_session_options_t opts;
    const uint8_t *in[THREAD_FRAMES], *want[THREAD_FRAMES];
    uint32_t tiles;
    int frames_equal;
    char error[512];
} thread_job_t;

static void *run_job(void *arg)
{
    thread_job_t *j = arg;
    vks_session_t *s = NULL;
    size_t n = (size_t)j->w * j->h * 3;
    uint8_t *out = malloc(n);
    vks_status_t st = out ? vks_session_create_ex(j->model, j->w, j->h, &j->opts, &s) : VKS_ERR_OUT_OF_HOST_MEMORY;
    if (!st) j->tiles = vks_session_tiles(s);
    for (uint32_t f = 0; f < THREAD_FRAMES && !st; f++) {
        if ((st = vks_session_run(s, j->in[f], out, 3))) break;
        if (!memcmp(out, j->want[f], n)) j->frames_equal++;
    }
    if (st) snprintf(j->error, sizeof j->error, "%s: %s", vks_status_str(st), vks_last_error());
    vks_session_destroy(s);
    free(out);
    return NULL;
}

/* A different image for every frame: a frame handed to the other session's output, or an
 * earlier one's, does not pass. */
static uint8_t *frame_image(uint32_t w, uint32_t h, uint32_t seed)
{
    uint8_t *px = malloc((size_t)w * h * 3);
    for (size_t i = 0; i < (size_t)w * h * 3; i++) {
        seed = seed * 1664525u + 1013904223u;
        px[i] = (uint8_t)((i * 7 + (seed >> 27)) & 255);
    }
    return px;
}

/* Two sessions on one context, one in one piece and one in tiles, each on its own thread at the
 * same time, many frames each: every frame equals the output the same session gives on one
 * thread. The context is new, so the threads also create the pipelines concurrently, and the
 * validation layer (on in these tests) reports any externally synchronized object (queue,
 * command pool, fence, descriptor pool) that two threads use at once. */
static void test_sessions_on_two_threads(void **state)
{
    (void)state;
    thread_job_t jobs[2] = {
        {.w = 40, .h = 32, .opts = {.precision = VKS_PRECISION_FP32}},
        {.w = 36, .h = 44, .opts = {.precision = VKS_PRECISION_FP32, .max_memory = 256u << 10, .tiling = VKS_TILING_AUTO}},
    };
    uint8_t *bufs[2][2][THREAD_FRAMES];
    /* the single-threaded outputs, on the shared test context */
    for (int k = 0; k < 2; k++) {
        vks_model_t *m = load_style(g_ctx, "udnie");
        vks_session_t *s = NULL;
        TU_OK(vks_session_create_ex(m, jobs[k].w, jobs[k].h, &jobs[k].opts, &s));
        if (k == 1) assert_true(vks_session_tiles(s) > 0);
        for (uint32_t f = 0; f < THREAD_FRAMES; f++) {
            bufs[k][0][f] = frame_image(jobs[k].w, jobs[k].h, 1000u * k + f);
            bufs[k][1][f] = malloc((size_t)jobs[k].w * jobs[k].h * 3);
            TU_OK(vks_session_run(s, bufs[k][0][f], bufs[k][1][f], 3));
            jobs[k].in[f] = bufs[k][0][f];
            jobs[k].want[f] = bufs[k][1][f];
        }
        /* the frames differ from each other, so a swapped frame would be seen */
        assert_memory_not_equal(bufs[k][1][0], bufs[k][1][1], (size_t)jobs[k].w * jobs[k].h * 3);
        vks_session_destroy(s);
        vks_model_destroy(m);
    }
    vks_context_t *ctx = tu_context(0);
    vks_model_t *m = load_style(ctx, "udnie");
    jobs[0].model = jobs[1].model = m;
    pthread_t th[2];
    for (int k = 0; k < 2; k++) assert_int_equal(pthread_create(&th[k], NULL, run_job, &jobs[k]), 0);
    for (int k = 0; k < 2; k++) assert_int_equal(pthread_join(th[k], NULL), 0);
    for (int k = 0; k < 2; k++) {
        printf("# thread %d: %ux%u, %u tiles, %d of %d frames equal%s%s\n", k, jobs[k].w, jobs[k].h, jobs[k].tiles,
               jobs[k].frames_equal, THREAD_FRAMES, jobs[k].error[0] ? ": " : "", jobs[k].error);
        assert_string_equal(jobs[k].error, "");
        assert_int_equal(jobs[k].frames_equal, THREAD_FRAMES);
    }
    assert_true(jobs[1].tiles > 0);
    vks_model_destroy(m);
    tu_context_done(ctx);   /* fails on any validation message, threading errors included */
    for (int k = 0; k < 2; k++)
        for (uint32_t f = 0; f < THREAD_FRAMES; f++) { free(bufs[k][0][f]); free(bufs[k][1][f]); }
}

/* ------------------------------------------------------------------ tiny models */

#define TINY_STYLES 3
static float g_w1[4 * 3 * 9], g_b1[4], g_gam[TINY_STYLES * 4], g_bet[TINY_STYLES * 4], g_w2[3 * 4 * 9];

static void tiny_init(void)
{
    uint32_t seed = 99;
    ref_fill_random(g_w1, 4 * 3 * 9, &seed, -0.02f, 0.02f);
    ref_fill_random(g_b1, 4, &seed, -1, 1);
    ref_fill_random(g_gam, TINY_STYLES * 4, &seed, 0.2f, 2);
    ref_fill_random(g_bet, TINY_STYLES * 4, &seed, -1, 1);
    ref_fill_random(g_w2, 3 * 4 * 9, &seed, -0.3f, 0.3f);
}

static const char *tiny_layers =
    "{\"op\":\"conv2d\",\"weight\":\"c1.w\",\"bias\":\"c1.b\",\"padding\":\"same\"},"
    "%s,"
    "{\"op\":\"conv2d\",\"weight\":\"c2.w\",\"padding\":[1,1,1,1],\"pad_mode\":\"reflect\"},"
    "{\"op\":\"activation\",\"activation\":\"tanh\",\"scale\":100,\"offset\":128}";

/* norm: "cin" (3 styles), or "in" with gamma/beta = the given rows (one style) */
static uint8_t *tiny_model(const char *norm, const float *gamma, const float *beta, size_t *size)
{
    tu_st_t st;
    tu_st_init(&st);
    int s1[4] = {4, 3, 3, 3}, s2[4] = {3, 4, 3, 3}, sb[1] = {4}, sg[2] = {TINY_STYLES, 4};
    tu_st_add(&st, "c1.w", g_w1, 4, s1);
    tu_st_add(&st, "c1.b", g_b1, 1, sb);
    tu_st_add(&st, "c2.w", g_w2, 4, s2);
    char normjs[256], layers[1024], graph[2048];
    if (!strcmp(norm, "cin")) {
        tu_st_add(&st, "n.g", g_gam, 2, sg);
        tu_st_add(&st, "n.b", g_bet, 2, sg);
        snprintf(normjs, sizeof normjs, "{\"op\":\"conditional_instance_norm\",\"gamma\":\"n.g\",\"beta\":\"n.b\",\"eps\":0.001,\"activation\":\"relu\"}");
    } else {
        tu_st_add(&st, "n.g", gamma, 1, sb);
        tu_st_add(&st, "n.b", beta, 1, sb);
        snprintf(normjs, sizeof normjs, "{\"op\":\"instance_norm\",\"gamma\":\"n.g\",\"beta\":\"n.b\",\"eps\":0.001,\"activation\":\"relu\"}");
    }
    snprintf(layers, sizeof layers, tiny_layers, normjs);
    snprintf(graph, sizeof graph,
             "{\"format\":\"vkstyle-graph\",\"version\":1,\"name\":\"tiny\",\"styles\":%s,\"layers\":[%s]}",
             strcmp(norm, "cin") ? "[\"only\"]" : "[\"a\",\"b\",\"c\"]", layers);
    return tu_st_finish(&st, graph, size);
}

static uint8_t *tiny_image(uint32_t w, uint32_t h)
{
    uint8_t *px = malloc((size_t)w * h * 3);
    uint32_t seed = 5;
    for (size_t i = 0; i < (size_t)w * h * 3; i++) { seed = seed * 1664525u + 1013904223u; px[i] = (uint8_t)(seed >> 24); }
    return px;
}

static uint8_t *run_model(const uint8_t *bytes, size_t size, const float *weights, uint32_t nw, uint32_t w,
                          uint32_t h, const uint8_t *img)
{
    vks_model_t *m = NULL;
    vks_session_t *s = NULL;
    TU_OK(vks_model_load_memory(g_ctx, bytes, size, &m));
    TU_OK(vks_session_create(m, w, h, &s));
    if (nw) TU_OK(vks_session_set_style_weights(s, weights, nw));
    uint8_t *out = malloc((size_t)w * h * 3);
    TU_OK(vks_session_run(s, img, out, 3));
    vks_session_destroy(s);
    vks_model_destroy(m);
    return out;
}

/* A one-hot weight gives the network with that style's gamma/beta as plain instance norm; a
 * 50/50 mix gives the network with the averaged gamma/beta. */
static void test_cin_model_equivalence(void **state)
{
    (void)state;
    uint32_t w = 19, h = 13;
    uint8_t *img = tiny_image(w, h);
    size_t csize, isize;
    uint8_t *cin = tiny_model("cin", NULL, NULL, &csize);
    for (int k = 0; k < TINY_STYLES; k++) {
        float wts[TINY_STYLES] = {0};
        wts[k] = 1;
        uint8_t *in = tiny_model("in", g_gam + 4 * k, g_bet + 4 * k, &isize);
        uint8_t *a = run_model(cin, csize, wts, TINY_STYLES, w, h, img), *b = run_model(in, isize, NULL, 0, w, h, img);
        assert_memory_equal(a, b, (size_t)w * h * 3);
        free(a); free(b); free(in);
    }
    float g[4], b[4], half[TINY_STYLES] = {0.5f, 0.5f, 0};
    for (int c = 0; c < 4; c++) { g[c] = 0.5f * g_gam[c] + 0.5f * g_gam[4 + c]; b[c] = 0.5f * g_bet[c] + 0.5f * g_bet[4 + c]; }
    uint8_t *in = tiny_model("in", g, b, &isize);
    uint8_t *x = run_model(cin, csize, half, TINY_STYLES, w, h, img), *y = run_model(in, isize, NULL, 0, w, h, img);
    for (size_t i = 0; i < (size_t)w * h * 3; i++) assert_true(abs((int)x[i] - (int)y[i]) <= 1);
    free(x); free(y); free(in); free(cin); free(img);
}

/* Changing the weights 100 times touches no buffer, pipeline, descriptor or the network's
 * command buffer; only the one-dispatch mix buffer is re-recorded. And the output changes. */
static void test_style_weights_are_push_constants(void **state)
{
    (void)state;
    uint32_t w = 16, h = 12;
    size_t size;
    uint8_t *bytes = tiny_model("cin", NULL, NULL, &size), *img = tiny_image(w, h);
    vks_model_t *m = NULL;
    vks_session_t *s = NULL;
    TU_OK(vks_model_load_memory(g_ctx, bytes, size, &m));
    TU_OK(vks_session_create(m, w, h, &s));
    uint8_t *first = malloc((size_t)w * h * 3), *out = malloc((size_t)w * h * 3);
    TU_OK(vks_session_run(s, img, first, 3));
    vks_stats_t before, after;
    vks_session_stats(s, &before);
    int changed = 0;
    for (int i = 0; i < 100; i++) {
        float t = (float)(i + 1) / 100.0f, wts[TINY_STYLES] = {1 - t, t, 0};
        TU_OK(vks_session_set_style_weights(s, wts, TINY_STYLES));
        TU_OK(vks_session_run(s, img, out, 3));
        changed += memcmp(out, first, (size_t)w * h * 3) != 0;
    }
    vks_session_stats(s, &after);
    assert_int_equal(after.uploads, before.uploads);
    assert_int_equal(after.pipelines_created, before.pipelines_created);
    assert_int_equal(after.descriptor_writes, before.descriptor_writes);
    assert_int_equal(after.main_recordings, before.main_recordings);
    assert_int_equal(after.style_recordings, before.style_recordings + 100);
    assert_int_equal(after.submits, before.submits + 100);
    assert_true(changed >= 90);
    /* errors: non-finite, too many weights; the session keeps working */
    float bad[4] = {0.5f, NAN, 0.5f, 0};
    assert_int_equal(vks_session_set_style_weights(s, bad, 3), VKS_ERR_STYLE);
    assert_non_null(strstr(vks_last_error(), "not finite"));
    bad[1] = 0.5f;
    assert_int_equal(vks_session_set_style_weights(s, bad, 4), VKS_ERR_STYLE);
    assert_non_null(strstr(vks_last_error(), "3 styles"));
    TU_OK(vks_session_run(s, img, out, 3));
    vks_session_destroy(s);
    vks_model_destroy(m);
    free(first); free(out); free(bytes); free(img);
}

/* RGBA in and out give the same colours as RGB; 1x1 and odd sizes run. */
static void test_channels_and_sizes(void **state)
{
    (void)state;
    size_t size;
    uint8_t *bytes = tiny_model("cin", NULL, NULL, &size);
    vks_model_t *m = NULL;
    TU_OK(vks_model_load_memory(g_ctx, bytes, size, &m));
    const uint32_t sizes[][2] = {{2, 2}, {2, 3}, {31, 17}};
    for (int k = 0; k < 3; k++) {
        uint32_t w = sizes[k][0], h = sizes[k][1];
        size_t n = (size_t)w * h;
        uint8_t *rgb = tiny_image(w, h), *rgba = malloc(n * 4), *o3 = malloc(n * 3), *o4 = malloc(n * 4);
        for (size_t i = 0; i < n; i++) { memcpy(rgba + 4 * i, rgb + 3 * i, 3); rgba[4 * i + 3] = 7; }
        vks_session_t *s = NULL;
        TU_OK(vks_session_create(m, w, h, &s));
        TU_OK(vks_session_run(s, rgb, o3, 3));
        TU_OK(vks_session_run(s, rgba, o4, 4));
        for (size_t i = 0; i < n; i++) {
            assert_memory_equal(o4 + 4 * i, o3 + 3 * i, 3);
            assert_int_equal(o4[4 * i + 3], 255);
        }
        assert_int_equal(vks_session_run(s, rgb, o3, 2), VKS_ERR_INVALID_ARGUMENT);
        vks_session_destroy(s);
        free(rgb); free(rgba); free(o3); free(o4);
    }
    vks_session_t *s = NULL;
    /* 1x1 is too small for this model's reflection padding (as in PyTorch) */
    assert_int_equal(vks_session_create(m, 1, 1, &s), VKS_ERR_SHAPE);
    assert_non_null(strstr(vks_last_error(), "reflection padding"));
    assert_int_equal(vks_session_create(m, 0, 0, &s), VKS_ERR_SHAPE);
    assert_null(s);
    assert_int_equal(vks_session_create(m, 40000, 10, &s), VKS_ERR_SHAPE);
    vks_model_destroy(m);
    free(bytes);
}

/* Pixel formats through vks_session_run_raw: BGRA in/out equals RGBA with red and blue
 * swapped; a YUYV session matches an RGB session fed the reference conversion. */
static void test_pixel_formats(void **state)
{
    (void)state;
    uint32_t w = 12, h = 9;
    size_t n = (size_t)w * h, size;
    uint8_t *bytes = tiny_model("cin", NULL, NULL, &size), *rgb = tiny_image(w, h);
    vks_model_t *m = NULL;
    TU_OK(vks_model_load_memory(g_ctx, bytes, size, &m));
    uint8_t *rgba = malloc(n * 4), *bgra = malloc(n * 4), *o1 = malloc(n * 4), *o2 = malloc(n * 4);
    for (size_t i = 0; i < n; i++) {
        uint8_t r = rgb[3 * i], g = rgb[3 * i + 1], b = rgb[3 * i + 2];
        rgba[4 * i] = r; rgba[4 * i + 1] = g; rgba[4 * i + 2] = b; rgba[4 * i + 3] = 0;
        bgra[4 * i] = b; bgra[4 * i + 1] = g; bgra[4 * i + 2] = r; bgra[4 * i + 3] = 0;
    }
    vks_session_t *s1 = NULL, *s2 = NULL, *s3 = NULL;
    vks_session_options_t o_bgra = {.input = VKS_PIXELS_BGRA8, .output = VKS_PIXELS_BGRA8},
                          o_yuyv = {.input = VKS_PIXELS_YUYV, .output = VKS_PIXELS_RGBA8};
    TU_OK(vks_session_create_ex(m, w, h, NULL, &s1));
    TU_OK(vks_session_create_ex(m, w, h, &o_bgra, &s2));
    assert_int_equal(vks_session_input_bytes(s2), n * 4);
    TU_OK(vks_session_run_raw(s1, rgba, o1));
    TU_OK(vks_session_run_raw(s2, bgra, o2));
    for (size_t i = 0; i < n; i++) {
        assert_int_equal(o1[4 * i], o2[4 * i + 2]);
        assert_int_equal(o1[4 * i + 1], o2[4 * i + 1]);
        assert_int_equal(o1[4 * i + 2], o2[4 * i]);
    }
    assert_int_equal(vks_session_run(s2, rgb, o2, 3), VKS_ERR_INVALID_ARGUMENT);
    /* YUYV */
    uint8_t *yuyv = malloc(n * 2);
    for (size_t i = 0; i < n * 2; i++) yuyv[i] = (uint8_t)(40 + (i * 37) % 180);
    float *conv = malloc(n * 3 * 4);
    ref_yuyv_to_rgb(yuyv, (int)w, (int)h, 1.0f, 0.0f, conv);
    for (size_t i = 0; i < n; i++)
        for (int c = 0; c < 3; c++) rgba[4 * i + c] = (uint8_t)lroundf(conv[c * n + i]);
    TU_OK(vks_session_create_ex(m, w, h, &o_yuyv, &s3));
    assert_int_equal(vks_session_input_bytes(s3), n * 2);
    TU_OK(vks_session_run_raw(s3, yuyv, o2));
    TU_OK(vks_session_run_raw(s1, rgba, o1));
    assert_true(psnr(o1, o2, n * 4) > 35.0);
    vks_session_t *bad = NULL;
    assert_int_equal(vks_session_create_ex(m, 11, 9, &o_yuyv, &bad), VKS_ERR_SHAPE);   /* odd width */
    vks_session_destroy(s1);
    vks_session_destroy(s2);
    vks_session_destroy(s3);
    vks_model_destroy(m);
    free(bytes); free(rgb); free(rgba); free(bgra); free(o1); free(o2); free(yuyv); free(conv);
}

/* ------------------------------------------------------------------ hostile graphs */

typedef struct hostile { const char *graph; const char *expect; } hostile_t;

/* Float tensors in and out (VKS_TENSOR_F32): a 1-channel input, a 2-channel output of another
 * size, through the ops ONNX models use, against the C reference; the options and models such a
 * session refuses. */
static void test_tensor_io(void **state)
{
    (void)state;
    const uint32_t w = 7, h = 5, h1 = 3, w1 = 5;   /* conv2d without padding: 3x5 */
    const uint32_t oh = (h1 - 1) * 2 + 3 - 1 - 0 + 1, ow = (w1 - 1) * 3 + 3 - 1 - 1 + 2;   /* transposed: 7x15 */
    uint32_t seed = 11;
    float *wt = tu_random(3 * 1 * 3 * 3, &seed, -1, 1), *b = tu_random(3, &seed, -1, 1);
    float *tw = tu_random(3 * 2 * 3 * 3, &seed, -1, 1), *tb = tu_random(2, &seed, -1, 1);
    float *x = tu_random((size_t)h * w, &seed, -2, 2);
    int sw[4] = {3, 1, 3, 3}, sb[1] = {3}, stw[4] = {3, 2, 3, 3}, stb[1] = {2};
    tu_st_t st;
    tu_st_init(&st);
    tu_st_add(&st, "w", wt, 4, sw);
    tu_st_add(&st, "b", b, 1, sb);
    tu_st_add(&st, "tw", tw, 4, stw);
    tu_st_add(&st, "tb", tb, 1, stb);
    size_t size;
    uint8_t *bytes = tu_st_finish(&st, "{\"format\":\"vkstyle-graph\",\"version\":1,\"styles\":[\"s\"],"
                                       "\"input\":{\"channels\":1,\"scale\":3,\"offset\":1},\"output\":{\"scale\":2},"
                                       "\"layers\":[{\"op\":\"conv2d\",\"weight\":\"w\",\"bias\":\"b\",\"padding\":[0,0,0,0]},"
                                       "{\"op\":\"conv2d_transpose\",\"weight\":\"tw\",\"bias\":\"tb\",\"stride\":[2,3],"
                                       "\"pads\":[1,0,1,1],\"output_padding\":[1,2]}]}", &size);
    vks_model_t *m = NULL;
    TU_OK(vks_model_load_memory(g_ctx, bytes, size, &m));
    vks_session_options_t o = {.input = VKS_TENSOR_F32, .output = VKS_TENSOR_F32};
    vks_session_t *s = NULL;
    TU_OK(vks_session_create_ex(m, w, h, &o, &s));
    uint32_t c, gh, gw;
    vks_session_output_shape(s, &c, &gh, &gw);
    assert_int_equal(c, 2);
    assert_int_equal(gh, oh);
    assert_int_equal(gw, ow);
    assert_int_equal(vks_session_input_bytes(s), (size_t)h * w * 4);
    assert_int_equal(vks_session_output_bytes(s), (size_t)2 * oh * ow * 4);
    assert_int_equal(vks_session_precision(s), VKS_PRECISION_FP32);
    float *got = calloc(2 * oh * ow, 4), *want = calloc(2 * oh * ow, 4), *mid = calloc(3 * h1 * w1, 4);
    ref_conv2d(x, 1, 1, (int)h, (int)w, wt, b, 3, 3, 3, 1, 0, 0, 0, 0, 0, REF_ACT_NONE, mid);   /* no scale/offset */
    ref_conv2d_transpose_ex(mid, 1, 3, (int)h1, (int)w1, tw, tb, 2, 3, 3, 2, 3, 1, 0, 1, 1, 1, 2, REF_ACT_NONE, want);
    for (int run = 0; run < 2; run++) {   /* twice: the staging copies are part of the recording */
        memset(got, 0, 2 * oh * ow * 4);
        TU_OK(vks_session_run_raw(s, x, got));
        assert_int_equal(ref_compare("tensor_io", got, want, 2 * oh * ow, 1e-5f, 1e-5f), 0);
    }
    VkBuffer buf;
    VkDeviceSize off, bsize;
    vks_session_output_buffer(s, &buf, &off, &bsize);
    assert_true(buf == VK_NULL_HANDLE && bsize == 0);
    assert_int_equal(vks_session_set_stabilize(s, 0.5f), VKS_ERR_UNSUPPORTED);
    vks_profile_t prof;
    assert_int_equal(vks_session_profile(s, 0, 1, &prof), VKS_ERR_UNSUPPORTED);
    vks_shader_time_t *times = (vks_shader_time_t *)&prof;   /* set to NULL on refusal */
    uint32_t ntimes = 7;
    assert_int_equal(vks_session_profile_shaders(s, 0, 1, &times, &ntimes), VKS_ERR_UNSUPPORTED);
    assert_true(times == NULL && ntimes == 0);
    assert_int_equal(vks_session_run(s, (const uint8_t *)x, (uint8_t *)got, 4), VKS_ERR_INVALID_ARGUMENT);
    vks_session_destroy(s);
    s = NULL;
    /* both or neither */
    vks_session_options_t half = {.input = VKS_TENSOR_F32, .output = VKS_PIXELS_RGBA8};
    assert_int_equal(vks_session_create_ex(m, w, h, &half, &s), VKS_ERR_INVALID_ARGUMENT);
    half = (vks_session_options_t){.input = VKS_PIXELS_RGBA8, .output = VKS_TENSOR_F32};
    assert_int_equal(vks_session_create_ex(m, w, h, &half, &s), VKS_ERR_INVALID_ARGUMENT);
    /* no tiles, no fp16 */
    vks_session_options_t tiled = o, fp16 = o;
    tiled.tiling = VKS_TILING_ALWAYS;
    fp16.precision = VKS_PRECISION_FP16;
    assert_int_equal(vks_session_create_ex(m, w, h, &tiled, &s), VKS_ERR_UNSUPPORTED);
    assert_int_equal(vks_session_create_ex(m, w, h, &fp16, &s), VKS_ERR_UNSUPPORTED);
    /* a 1 -> 2 channel model has no pixel session */
    assert_int_equal(vks_session_create_ex(m, w, h, NULL, &s), VKS_ERR_UNSUPPORTED);
    assert_non_null(strstr(vks_last_error(), "VKS_TENSOR_F32"));
    assert_null(s);
    vks_model_destroy(m);
    free(bytes);
    /* a 3 -> 4 channel model neither */
    float w4[4 * 3 * 9] = {0};
    int s4[4] = {4, 3, 3, 3};
    tu_st_init(&st);
    tu_st_add(&st, "w4", w4, 4, s4);
    bytes = tu_st_finish(&st, "{\"format\":\"vkstyle-graph\",\"version\":1,\"styles\":[\"s\"],"
                              "\"layers\":[{\"op\":\"conv2d\",\"weight\":\"w4\"}]}", &size);
    TU_OK(vks_model_load_memory(g_ctx, bytes, size, &m));
    assert_int_equal(vks_session_create_ex(m, w, h, NULL, &s), VKS_ERR_UNSUPPORTED);
    assert_non_null(strstr(vks_last_error(), "outputs 4"));
    TU_OK(vks_session_create_ex(m, w, h, &o, &s));
    vks_session_output_shape(s, &c, &gh, &gw);
    assert_true(c == 4 && gh == h && gw == w);
    vks_session_destroy(s);
    vks_model_destroy(m);
    free(bytes);
    free(got);
    free(want);
    free(mid);
    free(wt);
    free(b);
    free(tw);
    free(tb);
    free(x);
}

/* Every op and field ONNX models use, in a 1 -> 2 channel tensor session against the C
 * references: a batch norm of eps 0 folded into a conv2d and one not, the transposed conv's
 * pads, pad (reflect, zero with a constant), clip and leaky ReLU, upsampling by 2 x 1, a conv2d
 * with edge padding and strides 2 x 1. */
static void test_tensor_io_onnx_ops(void **state)
{
    (void)state;
    const int h = 5, w = 7;
    uint32_t seed = 23;
    float *x = tu_random((size_t)h * w, &seed, -2, 2);
    float *wt = tu_random(3 * 9, &seed, -1, 1), *b = tu_random(3, &seed, -1, 1);
    float *g3 = tu_random(3, &seed, -2, 2), *be3 = tu_random(3, &seed, -1, 1), *g2 = tu_random(2, &seed, -2, 2);
    float *be2 = tu_random(2, &seed, -1, 1), *tw = tu_random(3 * 2 * 9, &seed, -1, 1), *tb = tu_random(2, &seed, -1, 1);
    float *c2 = tu_random(2 * 2 * 9, &seed, -0.5f, 0.5f);
    const float z[3] = {0, 0, 0}, one[3] = {1, 1, 1};
    int s_w[4] = {3, 1, 3, 3}, s3[1] = {3}, s2[1] = {2}, s_tw[4] = {3, 2, 3, 3}, s_c2[4] = {2, 2, 3, 3};
    tu_st_t st;
    tu_st_init(&st);
    tu_st_add(&st, "w", wt, 4, s_w);
    tu_st_add(&st, "b", b, 1, s3);
    tu_st_add(&st, "z3", z, 1, s3);
    tu_st_add(&st, "one3", one, 1, s3);
    tu_st_add(&st, "g3", g3, 1, s3);
    tu_st_add(&st, "be3", be3, 1, s3);
    tu_st_add(&st, "tw", tw, 4, s_tw);
    tu_st_add(&st, "tb", tb, 1, s2);
    tu_st_add(&st, "z2", z, 1, s2);
    tu_st_add(&st, "one2", one, 1, s2);
    tu_st_add(&st, "g2", g2, 1, s2);
    tu_st_add(&st, "be2", be2, 1, s2);
    tu_st_add(&st, "c2", c2, 4, s_c2);
    size_t size;
    uint8_t *bytes = tu_st_finish(&st, "{\"format\":\"vkstyle-graph\",\"version\":1,\"styles\":[\"s\"],\"input\":{\"channels\":1},\"layers\":[{\"op\":\"conv2d\",\"weight\":\"w\",\"bias\":\"b\",\"padding\":[0,0,0,0]},{\"op\":\"batch_norm\",\"mean\":\"z3\",\"var\":\"one3\",\"gamma\":\"g3\",\"beta\":\"be3\",\"eps\":0},{\"op\":\"conv2d_transpose\",\"weight\":\"tw\",\"bias\":\"tb\",\"stride\":[2,3],\"pads\":[1,0,1,1],\"output_padding\":[1,2]},{\"op\":\"pad\",\"pads\":[1,2,0,3],\"mode\":\"reflect\"},{\"op\":\"activation\",\"activation\":\"clip\",\"min\":-0.5,\"max\":0.7},{\"op\":\"batch_norm\",\"mean\":\"z2\",\"var\":\"one2\",\"gamma\":\"g2\",\"beta\":\"be2\",\"eps\":0},{\"op\":\"upsample_nearest\",\"scale\":[2,1]},{\"op\":\"conv2d\",\"weight\":\"c2\",\"padding\":[1,1,1,1],\"pad_mode\":\"edge\",\"stride\":[2,1]},{\"op\":\"activation\",\"activation\":\"leaky_relu\",\"alpha\":0.3,\"scale\":2,\"offset\":0.5},{\"op\":\"pad\",\"pads\":[0,1,2,0],\"value\":0.25}]}", &size);
    /* the reference, layer by layer */
    float *a0 = malloc(3 * 3 * 5 * 4), *a1 = malloc(3 * 3 * 5 * 4), *a2 = malloc(2 * 7 * 15 * 4), *a3 = malloc(2 * 10 * 18 * 4);
    float *a4 = malloc(2 * 10 * 18 * 4), *a6 = malloc(2 * 20 * 18 * 4), *a7 = malloc(2 * 10 * 18 * 4), *want = malloc(2 * 11 * 20 * 4);
    ref_conv2d(x, 1, 1, h, w, wt, b, 3, 3, 3, 1, 0, 0, 0, 0, 0, REF_ACT_NONE, a0);
    ref_batch_norm(a0, 1, 3, 3, 5, z, one, g3, be3, 0.0f, REF_ACT_NONE, NULL, a1);
    ref_conv2d_transpose_ex(a1, 1, 3, 3, 5, tw, tb, 2, 3, 3, 2, 3, 1, 0, 1, 1, 1, 2, REF_ACT_NONE, a2);
    ref_pad(a2, 1, 2, 7, 15, 1, 2, 0, 3, 1, 0, a3);
    ref_activation_ex(a3, 2 * 10 * 18, REF_ACT_CLIP, -0.5f, 0.7f, 1, 0, a4);
    ref_batch_norm(a4, 1, 2, 10, 18, z, one, g2, be2, 0.0f, REF_ACT_NONE, NULL, a3);
    ref_upsample_nearest(a3, 1, 2, 10, 18, 2, 1, a6);
    ref_conv2d_ex(a6, 1, 2, 20, 18, c2, NULL, 2, 3, 3, 2, 1, 1, 1, 1, 1, 2, REF_ACT_NONE, a7);
    ref_activation_ex(a7, 2 * 10 * 18, REF_ACT_LEAKY_RELU, 0.3f, 0, 2, 0.5f, a7);
    ref_pad(a7, 1, 2, 10, 18, 0, 1, 2, 0, 0, 0.25f, want);
    vks_model_t *m = NULL;
    TU_OK(vks_model_load_memory(g_ctx, bytes, size, &m));
    assert_true(m->layers[1].folded && !m->layers[5].folded);
    vks_session_options_t o = {.input = VKS_TENSOR_F32, .output = VKS_TENSOR_F32, .precision = VKS_PRECISION_AUTO};
    vks_session_t *s = NULL;
    TU_OK(vks_session_create_ex(m, (uint32_t)w, (uint32_t)h, &o, &s));
    uint32_t c, oh, ow;
    vks_session_output_shape(s, &c, &oh, &ow);
    assert_true(c == 2 && oh == 11 && ow == 20);
    float *got = malloc(vks_session_output_bytes(s));
    TU_OK(vks_session_run_raw(s, x, got));
    assert_int_equal(ref_compare("tensor_io onnx ops", got, want, 2 * 11 * 20, 1e-4f, 1e-4f), 0);
    vks_session_destroy(s);
    vks_model_destroy(m);
    free(bytes); free(got); free(want);
    free(a0); free(a1); free(a2); free(a3); free(a4); free(a6); free(a7);
    free(x); free(wt); free(b); free(g3); free(be3); free(g2); free(be2); free(tw); free(tb); free(c2);
}

static void test_hostile_graphs(void **state)
{
    (void)state;
    const char *conv = "{\"op\":\"conv2d\",\"weight\":\"w\"}";
    char ok_graph[512];
    snprintf(ok_graph, sizeof ok_graph, "{\"format\":\"vkstyle-graph\",\"version\":1,\"styles\":[\"s\"],\"layers\":[%s]}", conv);
    const hostile_t cases[] = {
        {"not json", "graph JSON"},
        {"{\"format\":\"vkstyle-graph\",\"version\":2,\"styles\":[\"s\"],\"layers\":[]}", "version"},
        {"{\"format\":\"vkstyle-graph\",\"version\":1,\"styles\":[],\"layers\":[{}]}", "styles"},
        {"{\"format\":\"vkstyle-graph\",\"version\":1,\"styles\":[\"a\",\"a\"],\"layers\":[{}]}", "twice"},
        {"{\"format\":\"vkstyle-graph\",\"version\":1,\"styles\":[\"s\"],\"layers\":[]}", "layers"},
        {"{\"format\":\"vkstyle-graph\",\"version\":1,\"styles\":[\"s\"],\"layers\":[{\"op\":\"softmax\"}]}", "unknown or missing 'op'"},
        {"{\"format\":\"vkstyle-graph\",\"version\":1,\"styles\":[\"s\"],\"layers\":[{\"op\":\"conv2d\",\"weight\":\"nope\"}]}", "not in the file"},
        {"{\"format\":\"vkstyle-graph\",\"version\":1,\"styles\":[\"s\"],\"layers\":[{\"op\":\"conv2d\",\"weight\":\"w\",\"stride\":5}]}", "'stride'"},
        {"{\"format\":\"vkstyle-graph\",\"version\":1,\"styles\":[\"s\"],\"layers\":[{\"op\":\"conv2d\",\"weight\":\"w\",\"padding\":[1,1]}]}", "'padding'"},
        {"{\"format\":\"vkstyle-graph\",\"version\":1,\"styles\":[\"s\"],\"layers\":[{\"op\":\"conv2d\",\"weight\":\"w\",\"padding\":[-1,0,0,0]}]}", "'padding'"},
        {"{\"format\":\"vkstyle-graph\",\"version\":1,\"styles\":[\"s\"],\"layers\":[{\"op\":\"conv2d\",\"weight\":\"w\",\"pad_mode\":\"wrap\"}]}", "pad_mode"},
        {"{\"format\":\"vkstyle-graph\",\"version\":1,\"styles\":[\"s\"],\"layers\":[{\"op\":\"conv2d\",\"weight\":\"w\",\"activation\":\"gelu\"}]}", "activation"},
        {"{\"format\":\"vkstyle-graph\",\"version\":1,\"styles\":[\"s\"],\"layers\":[{\"op\":\"conv2d\",\"weight\":\"w\"},{\"op\":\"conv2d\",\"weight\":\"w\",\"input\":\"later\"}]}", "not an earlier layer"},
        {"{\"format\":\"vkstyle-graph\",\"version\":1,\"styles\":[\"s\"],\"layers\":[{\"op\":\"conv2d\",\"weight\":\"w\",\"name\":\"a\"},{\"op\":\"conv2d\",\"weight\":\"w\",\"name\":\"a\"}]}", "duplicate layer name"},
        {"{\"format\":\"vkstyle-graph\",\"version\":1,\"styles\":[\"s\"],\"layers\":[{\"op\":\"instance_norm\",\"gamma\":\"w\",\"beta\":\"w\"}]}", "has shape"},
        {"{\"format\":\"vkstyle-graph\",\"version\":1,\"styles\":[\"s\"],\"layers\":[{\"op\":\"conv2d\",\"weight\":\"w\"},{\"op\":\"instance_norm\",\"gamma\":\"g\",\"beta\":\"g\",\"eps\":-1}]}", "'eps'"},
        {"{\"format\":\"vkstyle-graph\",\"version\":1,\"styles\":[\"s\"],\"layers\":[{\"op\":\"conv2d\",\"weight\":\"w4\"},{\"op\":\"conv2d\",\"weight\":\"w\"}]}", "has shape"},
        {"{\"format\":\"vkstyle-graph\",\"version\":1,\"styles\":[\"s\"],\"layers\":[{\"op\":\"upsample_nearest\",\"scale\":9}]}", "'scale'"},
        {"{\"format\":\"vkstyle-graph\",\"version\":1,\"styles\":[\"s\"],\"layers\":[{\"op\":\"add\",\"input\":[\"input\"]}]}", "'input'"},
        {"{\"format\":\"vkstyle-graph\",\"version\":1,\"styles\":[\"s\"],\"layers\":[{\"op\":\"conv2d\",\"weight\":\"w\",\"residual\":\"input\"}]}", "only supported on normalization"},
        {"{\"format\":\"vkstyle-graph\",\"version\":1,\"styles\":[\"s\"],\"layers\":[{\"op\":\"conditional_instance_norm\",\"gamma\":\"g\",\"beta\":\"g\"}]}", "has shape"},
        {"{\"format\":\"vkstyle-graph\",\"version\":1,\"styles\":[\"s\"],\"layers\":[{\"op\":\"activation\",\"scale\":1e30}]}", "'scale'"},
        {"{\"format\":\"vkstyle-graph\",\"version\":1,\"styles\":[\"s\"],\"layers\":[{\"op\":\"conv2d\",\"weight\":\"w\",\"name\":\"input\"}]}", "'name'"},
        {"{\"format\":\"vkstyle-graph\",\"version\":1,\"styles\":[\"s\"],\"input\":{\"channels\":4097},\"layers\":[{\"op\":\"conv2d\",\"weight\":\"w\"}]}", "'channels'"},
        {"{\"format\":\"vkstyle-graph\",\"version\":1,\"styles\":[\"s\"],\"layers\":[{\"op\":\"conv2d\",\"weight\":\"big\"}]}", "kernel larger"},
        {"{\"format\":\"vkstyle-graph\",\"version\":1,\"styles\":[\"s\"],\"layers\":[{\"op\":\"conv2d\",\"weight\":\"w\",\"stride\":[1,5]}]}", "'stride'"},
        {"{\"format\":\"vkstyle-graph\",\"version\":1,\"styles\":[\"s\"],\"layers\":[{\"op\":\"conv2d\",\"weight\":\"w\",\"stride\":[]}]}", "'stride'"},
        {"{\"format\":\"vkstyle-graph\",\"version\":1,\"styles\":[\"s\"],\"layers\":[{\"op\":\"conv2d\",\"weight\":\"w\",\"pad_mode\":\"replicate\"}]}", "'pad_mode'"},
        {"{\"format\":\"vkstyle-graph\",\"version\":1,\"styles\":[\"s\"],\"layers\":[{\"op\":\"conv2d\",\"weight\":\"w\"},{\"op\":\"batch_norm\",\"mean\":\"g\",\"var\":\"z\",\"gamma\":\"g\",\"beta\":\"g\",\"eps\":0}]}", "var + eps is 0"},
        {"{\"format\":\"vkstyle-graph\",\"version\":1,\"styles\":[\"s\"],\"layers\":[{\"op\":\"conv2d\",\"weight\":\"w\"},{\"op\":\"batch_norm\",\"mean\":\"g\",\"var\":\"g\",\"gamma\":\"g\",\"beta\":\"g\",\"eps\":-1e-6}]}", "'eps'"},
        {"{\"format\":\"vkstyle-graph\",\"version\":1,\"styles\":[\"s\"],\"layers\":[{\"op\":\"upsample_nearest\",\"scale\":[2,0]}]}", "'scale'"},
        {"{\"format\":\"vkstyle-graph\",\"version\":1,\"styles\":[\"s\"],\"layers\":[{\"op\":\"upsample_nearest\",\"scale\":[2,2,2]}]}", "'scale'"},
        {"{\"format\":\"vkstyle-graph\",\"version\":1,\"styles\":[\"s\"],\"layers\":[{\"op\":\"upsample_nearest\",\"scale\":\"2\"}]}", "'scale'"},
        {"{\"format\":\"vkstyle-graph\",\"version\":1,\"styles\":[\"s\"],\"layers\":[{\"op\":\"pad\"}]}", "missing 'pads'"},
        {"{\"format\":\"vkstyle-graph\",\"version\":1,\"styles\":[\"s\"],\"layers\":[{\"op\":\"pad\",\"pads\":[1,1,1,65]}]}", "'pads'"},
        {"{\"format\":\"vkstyle-graph\",\"version\":1,\"styles\":[\"s\"],\"layers\":[{\"op\":\"pad\",\"pads\":[1,1,1,-1]}]}", "'pads'"},
        {"{\"format\":\"vkstyle-graph\",\"version\":1,\"styles\":[\"s\"],\"layers\":[{\"op\":\"pad\",\"pads\":[1,1,1,1],\"mode\":\"wrap\"}]}", "'mode'"},
        {"{\"format\":\"vkstyle-graph\",\"version\":1,\"styles\":[\"s\"],\"layers\":[{\"op\":\"pad\",\"pads\":[1,1,1,1],\"mode\":\"reflect\",\"value\":1}]}", "'value'"},
        {"{\"format\":\"vkstyle-graph\",\"version\":1,\"styles\":[\"s\"],\"layers\":[{\"op\":\"pad\",\"pads\":[1,1,1,1],\"value\":\"x\"}]}", "'value'"},
        {"{\"format\":\"vkstyle-graph\",\"version\":1,\"styles\":[\"s\"],\"layers\":[{\"op\":\"activation\",\"activation\":\"gelu\"}]}", "'activation'"},
        {"{\"format\":\"vkstyle-graph\",\"version\":1,\"styles\":[\"s\"],\"layers\":[{\"op\":\"activation\",\"activation\":\"relu\",\"alpha\":0.1}]}", "'alpha'"},
        {"{\"format\":\"vkstyle-graph\",\"version\":1,\"styles\":[\"s\"],\"layers\":[{\"op\":\"activation\",\"activation\":\"leaky_relu\",\"min\":0}]}", "'min'"},
        {"{\"format\":\"vkstyle-graph\",\"version\":1,\"styles\":[\"s\"],\"layers\":[{\"op\":\"activation\",\"activation\":\"clip\",\"min\":1,\"max\":0}]}", "larger than 'max'"},
        {"{\"format\":\"vkstyle-graph\",\"version\":1,\"styles\":[\"s\"],\"layers\":[{\"op\":\"activation\",\"activation\":\"leaky_relu\",\"alpha\":1e30}]}", "'alpha'"},
        {"{\"format\":\"vkstyle-graph\",\"version\":1,\"styles\":[\"s\"],\"layers\":[{\"op\":\"conv2d\",\"weight\":\"w\",\"activation\":\"leaky_relu\"}]}", "'activation'"},
        {"{\"format\":\"vkstyle-graph\",\"version\":1,\"styles\":[\"s\"],\"layers\":[{\"op\":\"conv2d_transpose\",\"weight\":\"w\",\"pads\":[1,1,1,1],\"padding\":1}]}", "exclude each other"},
        {"{\"format\":\"vkstyle-graph\",\"version\":1,\"styles\":[\"s\"],\"layers\":[{\"op\":\"conv2d_transpose\",\"weight\":\"w\",\"output_padding\":[1,1]}]}", "needs 'pads'"},
        {"{\"format\":\"vkstyle-graph\",\"version\":1,\"styles\":[\"s\"],\"layers\":[{\"op\":\"conv2d_transpose\",\"weight\":\"w\",\"pads\":[1,1,1,1],\"output_padding\":[2,0]}]}", "'output_padding'"},
        {"{\"format\":\"vkstyle-graph\",\"version\":1,\"styles\":[\"s\"],\"layers\":[{\"op\":\"conv2d_transpose\",\"weight\":\"w\",\"pads\":[1,1,1]}]}", "'pads'"},
        {"{\"format\":\"vkstyle-graph\",\"version\":1,\"styles\":[\"s\"],\"layers\":[{\"op\":\"conv2d_transpose\",\"weight\":\"w\",\"pads\":[3,0,0,0]}]}", "'pads' entry 0"},
        {"{\"format\":\"vkstyle-graph\",\"version\":1,\"styles\":[\"s\"],\"layers\":[{\"op\":\"conv2d_transpose\",\"weight\":\"w\",\"stride\":5}]}", "'stride'"},
        {"{\"format\":\"vkstyle-graph\",\"version\":1,\"styles\":[\"s\"],\"layers\":[{\"op\":\"conv2d_transpose\",\"weight\":\"w\",\"stride\":[2,0]}]}", "'stride'"},
        {"{\"format\":\"vkstyle-graph\",\"version\":1,\"styles\":[\"s\"],\"layers\":[{\"op\":\"conv2d_transpose\",\"weight\":\"w\",\"stride\":\"2\"}]}", "'stride'"},
        {"{\"format\":\"vkstyle-graph\",\"version\":1,\"styles\":[\"s\"],\"layers\":[{\"op\":\"conv2d\",\"weight\":\"nan\"}]}", "NaN"},
        {"{\"format\":\"vkstyle-graph\",\"version\":1,\"format\":\"x\",\"styles\":[\"s\"],\"layers\":[]}", "graph JSON"},
    };
    float wt[3 * 3 * 9] = {0}, g[3] = {1, 1, 1}, z3[3] = {0, 0, 0}, w4[4 * 3 * 9] = {0}, nanw[3 * 3 * 9] = {0}, *big = calloc(3 * 3 * 17 * 17, 4);
    nanw[5] = NAN;
    int sw[4] = {3, 3, 3, 3}, sg[1] = {3}, s4[4] = {4, 3, 3, 3}, sbig[4] = {3, 3, 17, 17};
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        tu_st_t st;
        tu_st_init(&st);
        tu_st_add(&st, "w", wt, 4, sw);
        tu_st_add(&st, "g", g, 1, sg);
        tu_st_add(&st, "z", z3, 1, sg);
        tu_st_add(&st, "w4", w4, 4, s4);
        if (!strcmp(cases[i].expect, "NaN")) tu_st_add(&st, "nan", nanw, 4, sw);   /* every tensor is checked */
        tu_st_add(&st, "big", big, 4, sbig);
        size_t size;
        uint8_t *bytes = tu_st_finish(&st, cases[i].graph, &size);
        vks_model_t *m = NULL;
        vks_status_t r = vks_model_load_memory(g_ctx, bytes, size, &m);
        if (r != VKS_ERR_MODEL_FORMAT || !strstr(vks_last_error(), cases[i].expect))
            fail_msg("case %zu: got %s '%s', expected a format error about '%s'", i, vks_status_str(r), vks_last_error(),
                     cases[i].expect);
        assert_null(m);
        free(bytes);
    }
    /* the good graph loads; a file without graph metadata does not */
    tu_st_t st;
    tu_st_init(&st);
    tu_st_add(&st, "w", wt, 4, sw);
    size_t size;
    uint8_t *bytes = tu_st_finish(&st, ok_graph, &size);
    vks_model_t *m = NULL;
    TU_OK(vks_model_load_memory(g_ctx, bytes, size, &m));
    /* a valid model whose kernel is larger than a tiny input fails at session creation */
    vks_model_destroy(m);
    free(bytes);
    const char *valid_conv = "{\"format\":\"vkstyle-graph\",\"version\":1,\"styles\":[\"s\"],\"layers\":[{\"op\":\"conv2d\",\"weight\":\"w\",\"padding\":[0,0,0,0]}]}";
    tu_st_init(&st);
    tu_st_add(&st, "w", wt, 4, sw);
    bytes = tu_st_finish(&st, valid_conv, &size);
    TU_OK(vks_model_load_memory(g_ctx, bytes, size, &m));
    vks_session_t *s = NULL;
    assert_int_equal(vks_session_create(m, 2, 2, &s), VKS_ERR_SHAPE);
    assert_non_null(strstr(vks_last_error(), "kernel"));
    assert_int_equal(vks_session_create(m, 5, 5, &s), VKS_ERR_SHAPE);  /* 3x3 out is smaller than 5x5 in */
    vks_model_destroy(m);
    free(bytes);
    uint8_t plain[] = {2, 0, 0, 0, 0, 0, 0, 0, '{', '}'};
    assert_int_equal(vks_model_load_memory(g_ctx, plain, sizeof plain, &m), VKS_ERR_MODEL_FORMAT);
    assert_non_null(strstr(vks_last_error(), "not a vkstyle model"));
    assert_int_equal(vks_model_load(g_ctx, "/nonexistent/model.safetensors", &m), VKS_ERR_IO);
    free(big);
}

/* ------------------------------------------------------------------ failure injection */

static int g_calls, g_fail_at, g_failed;

#define INJECT(name, ret, params, args, err)                                  \
    static PFN_##name real_##name;                                            \
    static ret VKAPI_CALL fake_##name params                                  \
    {                                                                         \
        if (++g_calls == g_fail_at) { g_failed = 1; return err; }            \
        return real_##name args;                                              \
    }

INJECT(vkAllocateMemory, VkResult, (VkDevice d, const VkMemoryAllocateInfo *i, const VkAllocationCallbacks *a, VkDeviceMemory *m), (d, i, a, m), VK_ERROR_OUT_OF_DEVICE_MEMORY)
INJECT(vkCreateBuffer, VkResult, (VkDevice d, const VkBufferCreateInfo *i, const VkAllocationCallbacks *a, VkBuffer *b), (d, i, a, b), VK_ERROR_OUT_OF_HOST_MEMORY)
INJECT(vkQueueSubmit, VkResult, (VkQueue q, uint32_t n, const VkSubmitInfo *s, VkFence f), (q, n, s, f), VK_ERROR_DEVICE_LOST)
INJECT(vkCreateComputePipelines, VkResult, (VkDevice d, VkPipelineCache c, uint32_t n, const VkComputePipelineCreateInfo *i, const VkAllocationCallbacks *a, VkPipeline *p), (d, c, n, i, a, p), VK_ERROR_OUT_OF_DEVICE_MEMORY)
INJECT(vkCreateDescriptorPool, VkResult, (VkDevice d, const VkDescriptorPoolCreateInfo *i, const VkAllocationCallbacks *a, VkDescriptorPool *p), (d, i, a, p), VK_ERROR_OUT_OF_HOST_MEMORY)
INJECT(vkAllocateDescriptorSets, VkResult, (VkDevice d, const VkDescriptorSetAllocateInfo *i, VkDescriptorSet *s), (d, i, s), VK_ERROR_OUT_OF_POOL_MEMORY)
INJECT(vkAllocateCommandBuffers, VkResult, (VkDevice d, const VkCommandBufferAllocateInfo *i, VkCommandBuffer *c), (d, i, c), VK_ERROR_OUT_OF_HOST_MEMORY)
INJECT(vkMapMemory, VkResult, (VkDevice d, VkDeviceMemory m, VkDeviceSize o, VkDeviceSize s, VkMemoryMapFlags f, void **p), (d, m, o, s, f, p), VK_ERROR_MEMORY_MAP_FAILED)
INJECT(vkCreateShaderModule, VkResult, (VkDevice d, const VkShaderModuleCreateInfo *i, const VkAllocationCallbacks *a, VkShaderModule *m), (d, i, a, m), VK_ERROR_OUT_OF_HOST_MEMORY)
INJECT(vkCreateQueryPool, VkResult, (VkDevice d, const VkQueryPoolCreateInfo *i, const VkAllocationCallbacks *a, VkQueryPool *p), (d, i, a, p), VK_ERROR_OUT_OF_DEVICE_MEMORY)
/* a wait that reports device loss after the work ended (as a lost device does not leave work pending) */
static PFN_vkWaitForFences real_vkWaitForFences;
static VkResult VKAPI_CALL fake_vkWaitForFences(VkDevice d, uint32_t n, const VkFence *f, VkBool32 all, uint64_t t)
{
    VkResult r = real_vkWaitForFences(d, n, f, all, t);
    if (++g_calls == g_fail_at) { g_failed = 1; return VK_ERROR_DEVICE_LOST; }
    return r;
}

/* in the context's device table (the engine calls nothing else) */
#define HOOK(name) do { real_##name = ctx->vk.name; ctx->vk.name = fake_##name; } while (0)
#define UNHOOK(name) do { ctx->vk.name = real_##name; } while (0)
static void hook_all(vks_context_t *ctx)
{
    HOOK(vkAllocateMemory); HOOK(vkCreateBuffer); HOOK(vkQueueSubmit); HOOK(vkCreateComputePipelines);
    HOOK(vkCreateDescriptorPool); HOOK(vkAllocateDescriptorSets); HOOK(vkAllocateCommandBuffers);
    HOOK(vkMapMemory); HOOK(vkCreateShaderModule); HOOK(vkWaitForFences); HOOK(vkCreateQueryPool);
}
static void unhook_all(vks_context_t *ctx)
{
    UNHOOK(vkAllocateMemory); UNHOOK(vkCreateBuffer); UNHOOK(vkQueueSubmit); UNHOOK(vkCreateComputePipelines);
    UNHOOK(vkCreateDescriptorPool); UNHOOK(vkAllocateDescriptorSets); UNHOOK(vkAllocateCommandBuffers);
    UNHOOK(vkMapMemory); UNHOOK(vkCreateShaderModule); UNHOOK(vkWaitForFences); UNHOOK(vkCreateQueryPool);
}

/* Make the n-th Vulkan allocation, creation or submission fail, for every n, through a whole
 * model load + session + run: each failure returns an error, and nothing leaks (the validation
 * layer reports undestroyed objects at device destruction; ASan reports host leaks). */
static void test_failure_injection(void **state)
{
    (void)state;
    vks_context_t *ctx = tu_context(0);
    size_t size;
    uint8_t *bytes = tiny_model("cin", NULL, NULL, &size), *img = tiny_image(9, 7), out[9 * 7 * 3];
    hook_all(ctx);
    int failures = 0;
    /* untiled, then in tiles (through mapped memory, then through staging buffers) */
    vks_session_options_t tiled = {.tiling = VKS_TILING_ALWAYS, .max_memory = 64u << 10};
    for (int mode = 0; mode < 3; mode++)
    for (g_fail_at = 1;; g_fail_at++) {
        g_calls = 0;
        g_failed = 0;
        ctx->tiles_no_mapped_memory = mode == 2;
        vks_model_t *m = NULL;
        vks_session_t *s = NULL;
        vks_status_t st = vks_model_load_memory(ctx, bytes, size, &m);
        if (!st) st = vks_session_create_ex(m, 9, 7, mode ? &tiled : NULL, &s);
        if (!st && mode) assert_true(vks_session_tiles(s) > 0);
        if (!st) {
            float w[3] = {0.2f, 0.3f, 0.5f};
            st = vks_session_set_style_weights(s, w, 3);
        }
        if (!st) st = vks_session_run(s, img, out, 3);
        vks_session_destroy(s);
        vks_model_destroy(m);
        if (!g_failed) { assert_int_equal(st, VKS_OK); break; }
        if (st == VKS_OK) fail_msg("call %d failed but no error came back", g_fail_at);
        assert_true(strlen(vks_last_error()) > 0);
        failures++;
    }
    unhook_all(ctx);
    ctx->tiles_no_mapped_memory = false;
    printf("# %d injected failures, each returned an error\n", failures);
    assert_true(failures > 60);
    /* a re-recording that fails (stabilization turned on and off, for every n): the session runs,
     * or says it cannot; it never submits a half-recorded command buffer (the validation layer
     * would report it) */
    int refused = 0, injected = 0;
    hook_all(ctx);
    for (int at = 1;; at++) {
        g_fail_at = -1;
        vks_model_t *m = NULL;
        vks_session_t *s = NULL;
        TU_OK(vks_model_load_memory(ctx, bytes, size, &m));
        TU_OK(vks_session_create_ex(m, 9, 7, NULL, &s));
        g_calls = g_failed = 0;
        g_fail_at = at;
        vks_status_t st = vks_session_set_stabilize(s, 0.5f);
        if (!st) st = vks_session_set_stabilize(s, 0.0f);
        vks_status_t run = vks_session_run(s, img, out, 3);
        bool failed = g_failed;
        g_fail_at = -1;
        vks_session_destroy(s);
        vks_model_destroy(m);
        if (!failed) { TU_OK(st); TU_OK(run); break; }
        injected++;
        if (run) {
            assert_true(strlen(vks_last_error()) > 0);
            refused++;
        }
    }
    unhook_all(ctx);
    printf("# stabilization re-recorded with %d injected failures; the session refused to run after %d\n", injected, refused);
    assert_true(injected > 5);
    free(bytes);
    free(img);
    tu_context_done(ctx);
}

/* ------------------------------------------------------------------ pipeline cache */

/* The cache files (cache.c) the pipeline cache and bench's peaks go through: written whole into
 * directories made on the way, replaced whole, nothing left beside them; a directory or FIFO at
 * the path is refused, for reading without blocking. */
static void test_cache_files(void **state)
{
    (void)state;
    char dir[] = "/tmp/vkstyle-cachefile-XXXXXX", path[256], other[256];
    assert_non_null(mkdtemp(dir));
    snprintf(path, sizeof path, "%s/a/b/c.bin", dir);
    const char first[] = "first contents", second[] = "second";
    TU_OK(vks_cache_write(path, first, sizeof first));
    TU_OK(vks_cache_write(path, second, sizeof second));
    void *data = NULL;
    size_t size = 0;
    TU_OK(vks_cache_read(path, 1024, &data, &size));
    assert_int_equal(size, sizeof second);
    assert_memory_equal(data, second, sizeof second);
    free(data);
    assert_int_equal(vks_cache_read(path, 3, &data, &size), VKS_ERR_IO);   /* over the limit */
    assert_null(data);
    char cmd[512];
    snprintf(cmd, sizeof cmd, "test \"$(ls -A %s/a/b)\" = c.bin", dir);
    assert_int_equal(system(cmd), 0);   /* no temporary file left */
    /* a directory or a FIFO where the file should be */
    snprintf(other, sizeof other, "%s/a/b", dir);
    assert_int_equal(vks_cache_write(other, first, sizeof first), VKS_ERR_IO);
    assert_non_null(strstr(vks_last_error(), "is a directory"));
    snprintf(other, sizeof other, "%s/fifo", dir);
    assert_int_equal(mkfifo(other, 0644), 0);
    assert_int_equal(vks_cache_read(other, 1024, &data, &size), VKS_ERR_IO);
    assert_int_equal(vks_cache_write(other, first, sizeof first), VKS_ERR_IO);
    /* a path under a regular file cannot be written; nothing is left behind */
    snprintf(other, sizeof other, "%s/a/b/c.bin/d", dir);
    assert_int_equal(vks_cache_write(other, first, sizeof first), VKS_ERR_IO);
    assert_int_equal(system(cmd), 0);
    char name[300];
    TU_OK(vks_cache_path(dir, "x.json", other, sizeof other));
    snprintf(name, sizeof name, "%s/x.json", dir);
    assert_string_equal(other, name);
    assert_int_equal(vks_cache_path("", "x.json", other, sizeof other), VKS_ERR_IO);   /* off */
    snprintf(cmd, sizeof cmd, "rm -r %s", dir);
    assert_int_equal(system(cmd), 0);
}

static void test_pipeline_cache_on_disk(void **state)
{
    (void)state;
    char dir[] = "/tmp/vkstyle-cache-XXXXXX";
    assert_non_null(mkdtemp(dir));
    size_t size;
    uint8_t *bytes = tiny_model("cin", NULL, NULL, &size);
    char found[1200] = "";
    for (int round = 0; round < 3; round++) {
        if (round == 2) {
            /* a corrupt cache file is ignored and replaced */
            FILE *f = fopen(found, "wb");
            assert_non_null(f);
            fputs("garbage that is not a pipeline cache but long enough to have a header", f);
            fclose(f);
        }
        vks_context_options_t o = {.validation = 1, .cache_dir = dir};
        vks_context_t *ctx = NULL;
        TU_OK(vks_context_create(&o, &ctx));
        vks_model_t *m = NULL;
        vks_session_t *s = NULL;
        TU_OK(vks_model_load_memory(ctx, bytes, size, &m));
        TU_OK(vks_session_create(m, 8, 8, &s));
        snprintf(found, sizeof found, "%s", ctx->cache_path);
        uint32_t vendor = ctx->props.vendorID;
        vks_session_destroy(s);
        vks_model_destroy(m);
        tu_context_done(ctx);
        /* a valid cache header for this device (lavapipe stores only the header) */
        uint32_t hdr[4] = {0};
        FILE *f = fopen(found, "rb");
        assert_non_null(f);
        assert_int_equal(fread(hdr, 4, 4, f), 4);
        fclose(f);
        assert_true(hdr[0] >= 32);
        assert_int_equal(hdr[1], VK_PIPELINE_CACHE_HEADER_VERSION_ONE);
        assert_int_equal(hdr[2], vendor);
        assert_non_null(strstr(found, dir));
        char cmd[256];   /* the cache file alone: no temporary file beside it (ctest pins VKSTYLE_TUNE=0) */
        snprintf(cmd, sizeof cmd, "test \"$(ls -A %s | wc -l)\" = 1", dir);
        assert_int_equal(system(cmd), 0);
    }
    remove(found);
    rmdir(dir);
    free(bytes);
}

/* ------------------------------------------------------------------ the tuner */

static uint32_t g_tune_calls, g_tune_last_done, g_tune_last_total;
static void count_tune(void *user, uint32_t done, uint32_t total)
{
    (void)user;
    g_tune_calls++;
    g_tune_last_done = done;
    g_tune_last_total = total;
}

/* A session of the tiny model at 13x11 with this tuning mode; its output into out (RGB). */
static const vks_tune_layer_t *tuned_session(vks_model_t *m, vks_tune_t mode, const uint8_t *in, uint8_t *out,
                                             uint32_t *count, vks_session_t **s)
{
    vks_session_options_t so = {.tune = mode, .tune_progress = count_tune};
    TU_OK(vks_session_create_ex(m, 13, 11, &so, s));
    TU_OK(vks_session_run(*s, in, out, 3));
    return vks_session_tuning(*s, count);
}

/* Each convolution's variant chosen by timing (tune.c): timed once and cached beside the pipeline
 * cache, the cache used by the next session, ignored when it is another driver's or vkstyle's,
 * timed again on RETIME, off by VKSTYLE_TUNE=0 or OFF; every choice gives the heuristic's output. */
static void test_tuning(void **state)
{
    (void)state;
    char dir[] = "/tmp/vkstyle-tune-XXXXXX", tune[1200];
    assert_non_null(mkdtemp(dir));
    size_t size;
    uint8_t *bytes = tiny_model("cin", NULL, NULL, &size), *in = tiny_image_rgb(13, 11);
    uint8_t want[13 * 11 * 3], got[13 * 11 * 3];
    vks_context_options_t o = {.validation = 1, .cache_dir = dir};
    vks_context_t *ctx = NULL;
    vks_model_t *m = NULL;
    vks_session_t *s = NULL;
    TU_OK(vks_context_create(&o, &ctx));
    TU_OK(vks_model_load_memory(ctx, bytes, size, &m));
    setenv("VKSTYLE_TUNE", "1", 1);
    uint32_t n;
    /* OFF: the heuristic, no report */
    assert_null(tuned_session(m, VKS_TUNE_OFF, in, want, &n, &s));
    assert_int_equal(n, 0);
    vks_session_destroy(s);
    /* AUTO, nothing cached: both 3x3 convolutions timed, every variant, the progress told */
    g_tune_calls = 0;
    const vks_tune_layer_t *t = tuned_session(m, VKS_TUNE_AUTO, in, got, &n, &s);
    assert_int_equal(n, 2);
    for (uint32_t i = 0; i < n; i++) {
        assert_int_equal(t[i].cached, 0);
        assert_true(t[i].warmup_ms == 0);   /* a CPU device: no clock to raise */
        assert_true(t[i].count >= 4);   /* Winograd F(2x2) and at least 3 direct tiles */
        assert_true(t[i].chosen < t[i].count);
        assert_non_null(strstr(t[i].trials[0].variant, "winograd F(2x2)"));
        for (uint32_t k = 0; k < t[i].count; k++) {
            assert_true(t[i].trials[k].ms > 0);
            assert_null(strstr(t[i].trials[k].variant, "igemm"));   /* not offered on a CPU device */
        }
    }
    assert_true(g_tune_calls >= 1);
    assert_int_equal(g_tune_last_done, g_tune_last_total);
    for (size_t i = 0; i < sizeof got; i++) assert_true(abs((int)got[i] - (int)want[i]) <= 1);
    vks_session_destroy(s);
    size_t len = strlen(ctx->cache_path);
    snprintf(tune, sizeof tune, "%.*s.tune", (int)(len - 4), ctx->cache_path);
    FILE *f = fopen(tune, "r");
    assert_non_null(f);
    char text[4096] = "";
    size_t nread = fread(text, 1, sizeof text - 1, f);
    fclose(f);
    text[nread] = 0;
    assert_true(!strncmp(text, "vkstyle-tune 7 ", 15));
    /* AUTO again: both from the cache, nothing timed */
    g_tune_calls = 0;
    t = tuned_session(m, VKS_TUNE_AUTO, in, got, &n, &s);
    assert_int_equal(n, 2);
    for (uint32_t i = 0; i < n; i++) assert_true(t[i].cached && t[i].count == 1);
    assert_int_equal(g_tune_calls, 0);
    for (size_t i = 0; i < sizeof got; i++) assert_true(abs((int)got[i] - (int)want[i]) <= 1);
    vks_session_destroy(s);
    /* RETIME: timed though cached; with VKSTYLE_IGEMM=1 the implicit GEMM too, and the network
     * run for VKSTYLE_TUNE_WARMUP_MS before the timings, as on a GPU */
    setenv("VKSTYLE_IGEMM", "1", 1);
    setenv("VKSTYLE_TUNE_WARMUP_MS", "30", 1);
    t = tuned_session(m, VKS_TUNE_RETIME, in, got, &n, &s);
    unsetenv("VKSTYLE_IGEMM");
    unsetenv("VKSTYLE_TUNE_WARMUP_MS");
    assert_true(n == 2 && !t[0].cached && t[0].count >= 5);
    assert_true(t[0].warmup_ms >= 30);
    assert_non_null(strstr(t[0].trials[t[0].count - 1].variant, "igemm"));
    assert_true(t[0].trials[t[0].count - 1].ms > 0);
    for (size_t i = 0; i < sizeof got; i++) assert_true(abs((int)got[i] - (int)want[i]) <= 1);
    vks_session_destroy(s);
    /* VKSTYLE_TUNE=0: AUTO is the heuristic */
    setenv("VKSTYLE_TUNE", "0", 1);
    t = tuned_session(m, VKS_TUNE_AUTO, in, got, &n, &s);
    assert_null(t);
    assert_int_equal(n, 0);
    vks_session_destroy(s);
    setenv("VKSTYLE_TUNE", "1", 1);
    /* and with a tile forced for measurements (they act through the heuristic) */
    static const char *const forced[3] = {"2", "4", "6"};
    for (int k = 0; k < 3; k++) {
        setenv("VKSTYLE_WINOGRAD", forced[k], 1);
        t = tuned_session(m, VKS_TUNE_AUTO, in, got, &n, &s);
        unsetenv("VKSTYLE_WINOGRAD");
        assert_null(t);
        assert_int_equal(n, 0);
        vks_session_destroy(s);
    }
    /* another vkstyle version's (or driver's) file: ignored, timed again */
    f = fopen(tune, "w");
    assert_non_null(f);
    fprintf(f, "vkstyle-tune 7 0.0.0-other%s", strchr(text + 15, ' '));
    fclose(f);
    t = tuned_session(m, VKS_TUNE_AUTO, in, got, &n, &s);
    assert_true(n == 2 && !t[0].cached && t[0].count >= 4);
    vks_session_destroy(s);
    /* the file as this session wrote it, but for other shaders (one digit of the SPIR-V hash, the
     * header's fourth field, changed): ignored, timed again; the file as written: cached */
    char *hash = strchr(strchr(strchr(text, ' ') + 1, ' ') + 1, ' ') + 1;
    assert_true(strchr(hash, ' ') - hash == 8);
    const char good = hash[0];
    hash[0] = good == '0' ? '1' : '0';
    for (int pass = 0; pass < 2; pass++) {
        f = fopen(tune, "w");
        assert_non_null(f);
        fputs(text, f);
        fclose(f);
        t = tuned_session(m, VKS_TUNE_AUTO, in, got, &n, &s);
        assert_int_equal(n, 2);
        for (uint32_t i = 0; i < n; i++) assert_int_equal(t[i].cached, pass);
        vks_session_destroy(s);
        hash[0] = good;
    }
    /* hostile entries under this file's header (a tile of 2^32 - 1 pixels, times of 1e300 ms and
     * NaN): left out, the layers timed again, and the file written anew holds none of them (the
     * writer sized its buffer for lines of at most 256 bytes, which these overran) */
    f = fopen(tune, "w");
    assert_non_null(f);
    fprintf(f, "%.*s\n", (int)(strchr(text, '\n') - text), text);
    for (int i = 0; i < 6; i++)
        fprintf(f, "conv2d hostile %d\t1 4294967295 4294967295 8\t%s\n", i, i % 2 ? "1e300" : "nan");
    fclose(f);
    t = tuned_session(m, VKS_TUNE_AUTO, in, got, &n, &s);
    assert_true(n == 2 && !t[0].cached && !t[1].cached);
    vks_session_destroy(s);
    f = fopen(tune, "r");
    assert_non_null(f);
    char line[600];
    int lines = 0;
    while (fgets(line, sizeof line, f)) {
        assert_true(strlen(line) < 256);
        assert_null(strstr(line, "hostile"));
        lines++;
    }
    fclose(f);
    assert_int_equal(lines, 3);   /* the header and the two layers */
    /* a transposed convolution: the GEMM per tap among its candidates (here, small, not the
     * heuristic's), and whichever wins gives the heuristic's output (pixels: the input's size) */
    uint32_t seed = 5;
    float *tw = tu_random(3 * 3 * 9, &seed, -0.3f, 0.3f), *tb = tu_random(3, &seed, -0.2f, 0.2f);
    int stw[4] = {3, 3, 3, 3}, stb[1] = {3};
    tu_st_t st;
    tu_st_init(&st);
    tu_st_add(&st, "tw", tw, 4, stw);
    tu_st_add(&st, "tb", tb, 1, stb);
    size_t tsize;
    uint8_t *tbytes = tu_st_finish(&st, "{\"format\":\"vkstyle-graph\",\"version\":1,\"styles\":[\"s\"],"
                                        "\"input\":{\"scale\":0.0039215686},\"layers\":["
                                        "{\"op\":\"conv2d_transpose\",\"weight\":\"tw\",\"bias\":\"tb\",\"stride\":2,\"padding\":1},"
                                        "{\"op\":\"activation\",\"activation\":\"sigmoid\",\"scale\":255}]}", &tsize);
    vks_model_t *tm = NULL;
    TU_OK(vks_model_load_memory(ctx, tbytes, tsize, &tm));
    uint8_t twant[13 * 11 * 3], tgot[13 * 11 * 3];
    vks_session_options_t so = {.tune = VKS_TUNE_OFF};
    TU_OK(vks_session_create_ex(tm, 13, 11, &so, &s));
    TU_OK(vks_session_run(s, in, twant, 3));
    vks_session_destroy(s);
    so.tune = VKS_TUNE_RETIME;
    TU_OK(vks_session_create_ex(tm, 13, 11, &so, &s));
    TU_OK(vks_session_run(s, in, tgot, 3));
    t = vks_session_tuning(s, &n);
    assert_int_equal(n, 1);
    bool offered = false;
    for (uint32_t k = 0; k < t[0].count; k++) offered |= strstr(t[0].trials[k].variant, "GEMM per tap") != NULL;
    assert_true(offered);
    for (size_t i = 0; i < sizeof tgot; i++) assert_true(abs((int)tgot[i] - (int)twant[i]) <= 1);
    vks_session_destroy(s);
    vks_model_destroy(tm);
    free(tw); free(tb); free(tbytes);
    unsetenv("VKSTYLE_TUNE");
    vks_model_destroy(m);
    tu_context_done(ctx);
    remove(tune);
    char cmd[1300];
    snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
    assert_int_equal(system(cmd), 0);
    free(bytes);
    free(in);
}

int main(void)
{
    tiny_init();
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_reference_udnie),
        cmocka_unit_test(test_reference_wave),
        cmocka_unit_test(test_reference_udnie_fp16),
        cmocka_unit_test(test_reference_wave_fp16),
        cmocka_unit_test(test_precision_choice),
        cmocka_unit_test(test_frame_gpu_time),
        cmocka_unit_test(test_largest_size_memory),
        cmocka_unit_test(test_largest_size_bindings),
        cmocka_unit_test(test_largest_size_fp16),
        cmocka_unit_test(test_largest_size_above_the_minimum),
        cmocka_unit_test(test_session_split_dispatches),
        cmocka_unit_test(test_tiled_matches_untiled),
        cmocka_unit_test(test_tiled_staging_and_styles),
        cmocka_unit_test(test_tiled_onnx_ops),
        cmocka_unit_test(test_sessions_on_two_threads),
        cmocka_unit_test(test_cin_model_equivalence),
        cmocka_unit_test(test_style_weights_are_push_constants),
        cmocka_unit_test(test_channels_and_sizes),
        cmocka_unit_test(test_pixel_formats),
        cmocka_unit_test(test_tensor_io),
        cmocka_unit_test(test_tensor_io_onnx_ops),
        cmocka_unit_test(test_hostile_graphs),
        cmocka_unit_test(test_failure_injection),
        cmocka_unit_test(test_pipeline_cache_on_disk),
        cmocka_unit_test(test_tuning),
        cmocka_unit_test(test_cache_files),
    };
    /* VKSTYLE_TEST_FILTER=test_sessions_on_two_threads runs the tests whose names match only */
    if (getenv("VKSTYLE_TEST_FILTER")) cmocka_set_test_filter(getenv("VKSTYLE_TEST_FILTER"));
    /* quick (VKSTYLE_TEST_QUICK=1: CI's synchronization validation) leaves out the second model's
     * references (udnie's dispatches with other weights) and the largest-size searches (sessions
     * recorded as others are, at larger sizes): they add nothing for the layer to check there */
    static const char *const not_quick[] = {"test_reference_wave", "test_reference_wave_fp16", "test_largest_size_memory",
                                            "test_largest_size_bindings", "test_largest_size_fp16"};
    struct CMUnitTest run[sizeof tests / sizeof *tests];
    size_t n = 0;
    for (size_t i = 0; i < sizeof tests / sizeof *tests; i++) {
        bool keep = true;
        for (size_t j = 0; tu_quick_mode() && j < sizeof not_quick / sizeof *not_quick; j++)
            if (!strcmp(tests[i].name, not_quick[j])) keep = false;
        if (keep) run[n++] = tests[i];
    }
    return _cmocka_run_group_tests("test_session", run, n, setup, teardown);
}
