/* The ONNX translator (tools/onnx) in C, without a device, so that the sanitizer builds run it
 * (the end-to-end tests are tests/python/test_onnx.py): the seed models of fuzz_onnx translate or
 * are refused as they should; what comes out is a safetensors file the engine's parser takes,
 * with the expected layers; every truncation and many byte flips of a model fail cleanly (one
 * line, no bytes) or succeed. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include "safetensors.h"
#include "vks_onnx.h"

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static uint8_t *read_seed(const char *name, size_t *size)
{
    char path[1024];
    snprintf(path, sizeof path, "%s/%s", VKS_ONNX_SEEDS, name);
    FILE *f = fopen(path, "rb");
    assert_non_null(f);
    fseek(f, 0, SEEK_END);
    *size = (size_t)ftell(f);
    fseek(f, 0, SEEK_SET);
    uint8_t *buf = malloc(*size);
    assert_non_null(buf);
    assert_int_equal(fread(buf, 1, *size, f), *size);
    fclose(f);
    return buf;
}

/* Translate; on success check the file and return its layers' ops joined by ',' (free it). */
static char *translate(const uint8_t *data, size_t size, bool tensor, char *err, size_t errsz)
{
    vks_onnx_options_t o = {.tensor_mode = tensor};
    uint8_t *bytes = (uint8_t *)1;
    size_t n = 1;
    if (vks_onnx_translate_memory(data, size, NULL, &o, &bytes, &n, err, errsz)) {
        assert_null(bytes);
        assert_int_equal(n, 0);
        assert_true(err[0] != 0);
        assert_null(strchr(err, '\n'));
        return NULL;
    }
    vks_st_file_t f;
    assert_int_equal(vks_st_parse(bytes, n, &f), VKS_OK);
    json_t *meta = json_object_get(f.metadata, "vkstyle.graph");
    assert_true(json_is_string(meta));
    json_t *g = json_loads(json_string_value(meta), 0, NULL);
    assert_non_null(g);
    json_t *layers = json_object_get(g, "layers");
    char *ops = calloc(1, 4096);
    assert_non_null(ops);
    for (size_t i = 0; i < json_array_size(layers); i++)
        snprintf(ops + strlen(ops), 4096 - strlen(ops), "%s%s", i ? "," : "",
                 json_string_value(json_object_get(json_array_get(layers, i), "op")));
    json_decref(g);
    vks_st_free(&f);
    free(bytes);
    return ops;
}

static void expect_ok(const char *seed, bool tensor, const char *want_ops)
{
    size_t size;
    uint8_t *data = read_seed(seed, &size);
    char err[512] = "";
    char *ops = translate(data, size, tensor, err, sizeof err);
    if (!ops) fail_msg("%s: %s", seed, err);
    if (strcmp(ops, want_ops)) fail_msg("%s: layers %s, expected %s", seed, ops, want_ops);
    free(ops);
    free(data);
}

static void expect_refusal(const char *seed, bool tensor, const char *want)
{
    size_t size;
    uint8_t *data = read_seed(seed, &size);
    char err[512] = "";
    char *ops = translate(data, size, tensor, err, sizeof err);
    if (ops) fail_msg("%s: translated to %s, expected '%s'", seed, ops, want);
    if (!strstr(err, want)) fail_msg("%s: '%s' lacks '%s'", seed, err, want);
    free(data);
}

static void test_seeds(void **state)
{
    (void)state;
    /* Pad folds into the conv; Relu into the norm; the Add becomes its residual */
    expect_ok("tnet_block9.onnx", false, "conv2d,instance_norm,upsample_nearest");
    /* the sizes 2*H, 2*W from Shape/Gather/Mul/Unsqueeze/Slice/Concat: a x2 */
    expect_ok("resize_shape13.onnx", false, "upsample_nearest");
    /* Mul/Sub/Div by constants fold into the clip activation (per channel: a batch_norm) */
    expect_ok("ops11.onnx", false, "conv2d_transpose,batch_norm,activation,activation,batch_norm,pad,pad");
    /* pads from ConstantOfShape/Concat/Reshape/Transpose/Reshape */
    expect_ok("fold17.onnx", false, "pad,activation,activation");
    expect_ok("tensor_rank3.onnx", true, "conv2d");
    expect_refusal("tensor_rank3.onnx", false, "input 'x' has rank 3; an image tensor [1,C,H,W] is needed");
    expect_refusal("group4.onnx", false, "node 0 (Conv): group = 3 is not supported");
    expect_refusal("softmax.onnx", false, "node 0 (Softmax): op Softmax is not supported");
    /* found by fuzz_onnx in CI: ConstantOfShape and Concats that doubled to 2 x 1 GiB before the
     * folding budget */
    expect_refusal("fold_blowup.onnx", true, "constants folded from the graph would hold more than 16777216 elements");
}

/* Every prefix of a model, and single-byte changes all through it: a clean failure or a file. */
static void test_damaged(void **state)
{
    (void)state;
    size_t size;
    uint8_t *data = read_seed("ops11.onnx", &size);
    char err[512];
    for (size_t len = 0; len < size; len++) {
        uint8_t *cut = malloc(len ? len : 1);   /* exactly sized: ASan sees any over-read */
        memcpy(cut, data, len);
        err[0] = 0;
        free(translate(cut, len, false, err, sizeof err));
        free(cut);
    }
    uint8_t *copy = malloc(size);
    for (size_t i = 0; i < size; i++)
        for (int v = 0; v < 3; v++) {
            memcpy(copy, data, size);
            copy[i] = (uint8_t)(v == 0 ? 0xff : v == 1 ? 0 : copy[i] ^ 0x40);
            err[0] = 0;
            free(translate(copy, size, v == 2, err, sizeof err));
        }
    free(copy);
    free(data);
}

static void test_paths(void **state)
{
    (void)state;
    uint8_t *bytes;
    size_t n;
    char err[512];
    assert_int_equal(vks_onnx_translate("/nonexistent/x.onnx", NULL, &bytes, &n, err, sizeof err), -1);
    assert_non_null(strstr(err, "/nonexistent/x.onnx: No such file"));
    assert_int_equal(vks_onnx_translate(VKS_ONNX_SEEDS, NULL, &bytes, &n, err, sizeof err), -1);
    assert_non_null(strstr(err, "not a regular file"));
    assert_true(vks_onnx_is_onnx_path("a/B.ONNX") && !vks_onnx_is_onnx_path("onnx") && !vks_onnx_is_onnx_path("x.onnx.st"));
    vks_onnx_range_t r;
    assert_int_equal(vks_onnx_parse_range("0..1", &r), 0);
    assert_int_equal(r, VKS_ONNX_RANGE_1);
    assert_int_equal(vks_onnx_parse_range("0..256", &r), -1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_seeds),
        cmocka_unit_test(test_damaged),
        cmocka_unit_test(test_paths),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
