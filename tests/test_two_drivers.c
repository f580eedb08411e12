/* Two contexts on devices of two different Vulkan drivers in one process (issue 10): each
 * context calls its own driver through its own function tables. Both contexts are created
 * first, then the work is interleaved: a convolution on each against the C reference, then a
 * shipped model on each, run in turns, the two images compared.
 *
 *   VKSTYLE_SECOND_ICD  the JSON manifest of a second driver, added to the drivers the loader
 *                       finds anyway (VK_ADD_DRIVER_FILES), or to VK_DRIVER_FILES /
 *                       VK_ICD_FILENAMES where those are set. In CI: Mesa 25 lavapipe beside the
 *                       system's Mesa 22, i.e. VKSTYLE_SECOND_ICD=$(bash scripts/mesa25.sh)/lvp_icd.json.
 *                       Unset: the test reports itself skipped (exit 77, SKIP_RETURN_CODE).
 *
 * The devices are picked by driver (vks_device_info_t.driver, e.g. "llvmpipe Mesa 22.3.6 ..."
 * and "llvmpipe Mesa 25.0.7 ..."), not by index: the loader may list them in either order.
 *
 * The tests run twice: without the validation layer, where a context's device commands are its
 * driver's own entry points (one process-wide table, as volkLoadDevice keeps, sends the first
 * context's calls into the second driver: a crash), then with it on (any message fails; the
 * layer dispatches by handle, so it would hide that mistake). */
#include "testutil.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static vks_context_t *g_ctx[2];
static int g_validation;

static vks_context_t *context_on(uint32_t index)
{
    char dev[16];
    snprintf(dev, sizeof dev, "%u", index);
    vks_context_options_t o = {.validation = g_validation, .cache_dir = "", .device = dev};
    vks_context_t *ctx = NULL;
    TU_OK(vks_context_create(&o, &ctx));
    return ctx;
}

static int setup(void **state)
{
    (void)state;
    printf("# validation layer %s\n", g_validation ? "on" : "off");
    vks_device_info_t infos[16];
    uint32_t n = 0;
    TU_OK(vks_enumerate_devices(infos, 16, &n));
    if (n > 16) n = 16;
    int pick[2] = {-1, -1};
    for (uint32_t i = 0; i < n; i++) {
        printf("# device %u: %s, %s\n", i, infos[i].name, infos[i].driver);
        if (pick[0] < 0) pick[0] = (int)i;
        else if (pick[1] < 0 && strcmp(infos[i].driver, infos[pick[0]].driver) != 0) pick[1] = (int)i;
    }
    if (pick[1] < 0)
        fail_msg("VKSTYLE_SECOND_ICD=%s gives no device of a second driver (is it the driver the loader "
                 "finds anyway, e.g. through VK_ICD_FILENAMES?)", getenv("VKSTYLE_SECOND_ICD"));
    /* both contexts exist before either does any work */
    for (int k = 0; k < 2; k++) {
        g_ctx[k] = context_on((uint32_t)pick[k]);
        vks_device_info_t got;
        vks_context_device_info(g_ctx[k], &got);
        assert_string_equal(got.driver, infos[pick[k]].driver);
    }
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    for (int k = 0; k < 2; k++) tu_context_done(g_ctx[k]);
    return 0;
}

/* A 3x3 convolution (input from uniform buffers where the device allows) and a strided one
 * with reflection padding, recorded on both devices, then submitted in turns; each result
 * against ref_conv2d. */
static void test_conv2d_on_both(void **state)
{
    (void)state;
    const uint32_t cin = 13, cout = 8, h = 40, w = 37;
    const size_t nin = (size_t)cin * h * w, nw = (size_t)cout * cin * 9;
    uint32_t seed = 7;
    float *x = tu_random(nin, &seed, -1, 1), *wt = tu_random(nw, &seed, -0.3f, 0.3f);
    float *b = tu_random(cout, &seed, -0.5f, 0.5f);
    struct { vks_conv2d_params_t p; uint32_t oh, ow; } cases[2] = {
        {{3, 3, 1, 1, 1, 1, 1, false, REF_ACT_RELU, 0, {0}}, h, w},
        {{3, 3, 2, 1, 1, 1, 1, true, REF_ACT_TANH, 0, {0}}, (h + 2 - 3) / 2 + 1, (w + 2 - 3) / 2 + 1},
    };
    for (int c = 0; c < 2; c++) {
        const vks_conv2d_params_t *p = &cases[c].p;
        size_t nout = (size_t)cout * cases[c].oh * cases[c].ow;
        float *want = malloc(nout * 4);
        ref_conv2d(x, 1, (int)cin, (int)h, (int)w, wt, b, (int)cout, 3, 3, (int)p->stride, p->pad_top, p->pad_bottom,
                   p->pad_left, p->pad_right, (int)p->pad_mode, (ref_act_t)p->act, want);
        tu_arena_t a[2];
        vks_tensor_t ty[2];
        vks_rec_t rec[2];
        for (int k = 0; k < 2; k++) {
            tu_arena_init(&a[k], g_ctx[k], 4u << 20);
            vks_tensor_t tx = tu_act(&a[k], 1, cin, h, w, x), tw = tu_flat(&a[k], (uint32_t)nw, wt);
            vks_tensor_t tb = tu_flat(&a[k], cout, b);
            ty[k] = tu_act(&a[k], 1, cout, cases[c].oh, cases[c].ow, NULL);
            tu_rec_begin(g_ctx[k], &rec[k]);
            TU_OK(vks_op_conv2d(&rec[k], p, &tx, &tw, &tb, &ty[k]));
        }
        for (int k = 0; k < 2; k++) tu_rec_run(&rec[k]);
        for (int k = 0; k < 2; k++) {
            float *got = tu_download(&a[k], &ty[k]);
            char label[64];
            snprintf(label, sizeof label, "conv2d case %d on device %d", c, k);
            assert_int_equal(ref_compare(label, got, want, nout, 1e-4f, 1e-4f), 0);
            free(got);
            vks_rec_destroy(&rec[k]);
            tu_arena_done(&a[k]);
        }
        free(want);
    }
    free(x); free(wt); free(b);
}

/* A shipped model on a small image on both devices, in turns (A, B, A): the same image from
 * both drivers, and A's second run equals its first. */
static void test_model_on_both(void **state)
{
    (void)state;
    const uint32_t w = 64, h = 48;
    char path[1024];
    snprintf(path, sizeof path, "%s/models/la_muse.safetensors", VKS_SOURCE_DIR);
    uint8_t *img = malloc((size_t)w * h * 3), *out[3];
    for (uint32_t y = 0; y < h; y++)
        for (uint32_t x = 0; x < w; x++) {
            uint8_t *px = img + ((size_t)y * w + x) * 3;
            px[0] = (uint8_t)(x * 4), px[1] = (uint8_t)(y * 5), px[2] = (uint8_t)((x * y) & 255);
        }
    vks_model_t *m[2];
    vks_session_t *s[2];
    for (int k = 0; k < 2; k++) {
        TU_OK(vks_model_load(g_ctx[k], path, &m[k]));
        TU_OK(vks_session_create(m[k], w, h, &s[k]));
    }
    for (int r = 0; r < 3; r++) {
        out[r] = malloc((size_t)w * h * 3);
        TU_OK(vks_session_run(s[r == 1], img, out[r], 3));
    }
    assert_memory_equal(out[0], out[2], (size_t)w * h * 3);
    int maxdiff = 0;
    size_t ndiff = 0;
    for (size_t i = 0; i < (size_t)w * h * 3; i++) {
        int d = abs((int)out[0][i] - (int)out[1][i]);
        if (d > maxdiff) maxdiff = d;
        ndiff += d > 0;
    }
    printf("# model on both drivers: %zu of %u values differ, by at most %d\n", ndiff, w * h * 3, maxdiff);
    assert_true(maxdiff <= 2);
    for (int k = 0; k < 2; k++) {
        vks_session_destroy(s[k]);
        vks_model_destroy(m[k]);
    }
    for (int r = 0; r < 3; r++) free(out[r]);
    free(img);
}

int main(void)
{
    const char *icd = getenv("VKSTYLE_SECOND_ICD");
    if (!icd || !*icd) {
        printf("skipped: set VKSTYLE_SECOND_ICD to a second Vulkan driver's JSON manifest\n");
        return 77;
    }
    /* before the first instance (the loader reads these when it looks for drivers): added to
     * an explicit driver list where there is one (it makes the loader ignore VK_ADD_DRIVER_FILES),
     * else to the drivers the loader finds by itself */
    bool listed = false;
    static const char *const lists[] = {"VK_DRIVER_FILES", "VK_ICD_FILENAMES"};
    for (int i = 0; i < 2; i++) {
        const char *old = getenv(lists[i]);
        if (!old || !*old) continue;
        size_t n = strlen(old) + strlen(icd) + 2;
        char *both = malloc(n);
        snprintf(both, n, "%s:%s", old, icd);
        setenv(lists[i], both, 1);
        free(both);
        listed = true;
    }
    if (!listed) setenv("VK_ADD_DRIVER_FILES", icd, 1);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_conv2d_on_both),
        cmocka_unit_test(test_model_on_both),
    };
    unsetenv("VKSTYLE_VALIDATION");   /* the groups set it themselves */
    int failed = 0;
    for (g_validation = 0; g_validation <= 1; g_validation++)
        failed += cmocka_run_group_tests_name(g_validation ? "with validation" : "without validation", tests, setup,
                                              teardown);
    return failed ? 1 : 0;
}
