/* Unit tests for the strict safetensors parser (engine/safetensors.c). Files are built in
 * memory; every buffer is allocated at its exact size so that ASan catches any over-read. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include "error.h"
#include "safetensors.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ------------------------------------------------------------------ helpers */

/* [n as LE u64][hlen bytes of hdr][plen bytes of payload (zeros if NULL)], exactly sized. */
static uint8_t *make_raw(uint64_t n, const void *hdr, size_t hlen, const void *payload,
                         size_t plen, size_t *size)
{
    *size = 8 + hlen + plen;
    uint8_t *buf = malloc(*size);
    assert_non_null(buf);
    for (int i = 0; i < 8; i++) buf[i] = (uint8_t)(n >> 8 * i);
    if (hlen) memcpy(buf + 8, hdr, hlen);
    if (plen) {
        if (payload) memcpy(buf + 8 + hlen, payload, plen);
        else memset(buf + 8 + hlen, 0, plen);
    }
    return buf;
}

/* Same with the right length; single quotes in header become double quotes (readability). */
static uint8_t *make_file(const char *header, const void *payload, size_t plen, size_t *size)
{
    size_t hlen = strlen(header);
    char *h = strdup(header);
    assert_non_null(h);
    for (char *p = h; *p; p++)
        if (*p == '\'') *p = '"';
    uint8_t *buf = make_raw(hlen, h, hlen, payload, plen, size);
    free(h);
    return buf;
}

static void check_fail_buf(const uint8_t *buf, size_t size, const char *needle)
{
    vks_st_file_t f;
    memset(&f, 0x5A, sizeof f);
    vks_error_clear();
    vks_status_t st = vks_st_parse(buf, size, &f);
    if (st == VKS_OK) vks_st_free(&f);
    if (st != VKS_ERR_MODEL_FORMAT)
        fail_msg("expected VKS_ERR_MODEL_FORMAT, got %s (%s)", vks_status_str(st),
                 vks_last_error());
    if (getenv("VKS_TEST_VERBOSE")) printf("    message: %s\n", vks_last_error());
    assert_true(vks_last_error()[0] != 0);
    if (needle && !strstr(vks_last_error(), needle))
        fail_msg("message \"%s\" lacks \"%s\"", vks_last_error(), needle);
    static const vks_st_file_t zero;
    assert_memory_equal(&f, &zero, sizeof f);
}

/* A file with header (quotes as in make_file) and plen zero bytes must fail mentioning needle. */
static void expect_fail(const char *header, size_t plen, const char *needle)
{
    size_t size;
    uint8_t *buf = make_file(header, NULL, plen, &size);
    check_fail_buf(buf, size, needle);
    free(buf);
}

static void expect_fail_raw(uint64_t n, const void *hdr, size_t hlen, size_t plen,
                            const char *needle)
{
    size_t size;
    uint8_t *buf = make_raw(n, hdr, hlen, NULL, plen, &size);
    check_fail_buf(buf, size, needle);
    free(buf);
}

/* Parses or fails the test; the caller frees f and *buf. */
static void parse_ok(const char *header, const void *payload, size_t plen, vks_st_file_t *f,
                     uint8_t **buf)
{
    size_t size;
    *buf = make_file(header, payload, plen, &size);
    vks_status_t st = vks_st_parse(*buf, size, f);
    if (st != VKS_OK) fail_msg("parse failed: %s (%s)", vks_status_str(st), vks_last_error());
}

static void expect_ok(const char *header, size_t plen)
{
    vks_st_file_t f;
    uint8_t *buf;
    parse_ok(header, NULL, plen, &f, &buf);
    vks_st_free(&f);
    free(buf);
}

/* One tensor 't' with the given dtype/shape/offsets text (offsets text includes brackets). */
#define ONE(dtype, shape, offsets) \
    "{'t':{'dtype':'" dtype "','shape':" shape ",'data_offsets':" offsets "}}"

/* --------------------------------------------------------- the valid file */

static const float g_f32[6] = {1.0f, -2.0f, 3.5f, 0.0f, 1e-30f, 65504.0f};
static const uint16_t g_f16[4] = {0x3C00, 0xC000, 0x0001, 0x7BFF};
static const float g_f16_expect[4] = {1.0f, -2.0f, 5.9604644775390625e-8f, 65504.0f};
static const float g_scalar = 42.0f;

/* Entries deliberately out of offset order; padded with spaces so the data is misaligned. */
static uint8_t *make_valid(size_t *size)
{
    char hdr[512];
    snprintf(hdr, sizeof hdr, "%s",
             "{\"__metadata__\":{\"name\":\"test\",\"vkstyle.graph\":\"{\\\"v\\\":1}\"},"
             "\"b.half\":{\"dtype\":\"F16\",\"shape\":[2,2],\"data_offsets\":[24,32]},"
             "\"a.weight\":{\"shape\":[2,3],\"dtype\":\"F32\",\"data_offsets\":[0,24]},"
             "\"empty\":{\"dtype\":\"F32\",\"shape\":[0,5],\"data_offsets\":[36,36]},"
             "\"scalar\":{\"dtype\":\"F32\",\"shape\":[],\"data_offsets\":[32,36]}}");
    while ((8 + strlen(hdr)) % 4 != 1) strcat(hdr, " ");
    uint8_t payload[36];
    memcpy(payload, g_f32, 24);
    memcpy(payload + 24, g_f16, 8);
    memcpy(payload + 32, &g_scalar, 4);
    return make_raw(strlen(hdr), hdr, strlen(hdr), payload, sizeof payload, size);
}

static void test_valid_roundtrip(void **state)
{
    (void)state;
    size_t size;
    uint8_t *buf = make_valid(&size);
    vks_st_file_t f;
    assert_int_equal(vks_st_parse(buf, size, &f), VKS_OK);
    assert_ptr_equal(f.data, buf);
    assert_int_equal(f.size, size);
    assert_int_equal(f.count, 4);
    uint64_t base = size - 36;

    /* sorted by offset */
    const char *order[] = {"a.weight", "b.half", "scalar", "empty"};
    for (int i = 0; i < 4; i++) assert_string_equal(f.tensors[i].name, order[i]);

    const vks_st_tensor_t *a = vks_st_find(&f, "a.weight");
    assert_ptr_equal(a, &f.tensors[0]);
    assert_int_equal(a->dtype, VKS_DTYPE_F32);
    assert_int_equal(a->rank, 2);
    assert_int_equal(a->shape[0], 2);
    assert_int_equal(a->shape[1], 3);
    assert_int_equal(a->count, 6);
    assert_int_equal(a->begin, base);
    assert_int_equal(a->end, base + 24);
    float v[6];
    assert_int_equal(vks_st_read_f32(&f, a, v), VKS_OK);
    assert_memory_equal(v, g_f32, sizeof g_f32);

    const vks_st_tensor_t *b = vks_st_find(&f, "b.half");
    assert_non_null(b);
    assert_int_equal(b->dtype, VKS_DTYPE_F16);
    assert_int_equal(b->rank, 2);
    assert_int_equal(b->count, 4);
    assert_int_equal(b->begin, base + 24);
    assert_int_equal(b->end, base + 32);
    assert_int_equal(vks_st_read_f32(&f, b, v), VKS_OK);
    assert_memory_equal(v, g_f16_expect, sizeof g_f16_expect);

    const vks_st_tensor_t *s = vks_st_find(&f, "scalar");
    assert_non_null(s);
    assert_int_equal(s->rank, 0);
    assert_int_equal(s->count, 1);
    assert_int_equal(vks_st_read_f32(&f, s, v), VKS_OK);
    assert_true(v[0] == 42.0f);

    const vks_st_tensor_t *e = vks_st_find(&f, "empty");
    assert_non_null(e);
    assert_int_equal(e->count, 0);
    assert_int_equal(e->begin, e->end);
    assert_int_equal(e->end, size);
    assert_int_equal(vks_st_read_f32(&f, e, NULL), VKS_OK);

    assert_null(vks_st_find(&f, "missing"));
    assert_null(vks_st_find(&f, "__metadata__"));

    assert_true(json_is_object(f.metadata));
    assert_int_equal(json_object_size(f.metadata), 2);
    assert_string_equal(json_string_value(json_object_get(f.metadata, "name")), "test");
    assert_string_equal(json_string_value(json_object_get(f.metadata, "vkstyle.graph")),
                        "{\"v\":1}");

    vks_st_free(&f);
    static const vks_st_file_t zero;
    assert_memory_equal(&f, &zero, sizeof f);
    vks_st_free(&f); /* twice is fine */
    free(buf);
}

static void test_minimal_files(void **state)
{
    (void)state;
    vks_st_file_t f;
    uint8_t *buf;
    parse_ok("{}", NULL, 0, &f, &buf);
    assert_int_equal(f.count, 0);
    assert_null(f.tensors);
    assert_null(f.metadata);
    assert_null(vks_st_find(&f, "t"));
    vks_st_free(&f);
    free(buf);

    parse_ok("{'__metadata__':{}}  ", NULL, 0, &f, &buf); /* trailing spaces allowed */
    assert_int_equal(f.count, 0);
    assert_non_null(f.metadata);
    vks_st_free(&f);
    free(buf);

    /* zero-sized tensors, even several at the same offset (then sorted by name) */
    parse_ok("{'z':{'dtype':'F32','shape':[0],'data_offsets':[0,0]},"
             "'y':{'dtype':'F16','shape':[0,1048576,1048576,1048576],'data_offsets':[0,0]}}",
             NULL, 0, &f, &buf);
    assert_int_equal(f.count, 2);
    assert_string_equal(f.tensors[0].name, "y");
    assert_int_equal(f.tensors[0].count, 0);
    assert_int_equal(f.tensors[0].rank, 4);
    assert_string_equal(f.tensors[1].name, "z");
    vks_st_free(&f);
    free(buf);
    /* exactly at the per-dimension and per-tensor element limits */
    expect_ok(ONE("F16", "[1048576]", "[0,2097152]"), 2097152);
    expect_fail(ONE("F32", "[16384,16384]", "[0,1073741824]"), 0, "data region");
    /* a tensor named like a field, an empty name */
    expect_ok("{'dtype':{'dtype':'F32','shape':[1],'data_offsets':[0,4]},"
              "'':{'dtype':'F32','shape':[1],'data_offsets':[4,8]}}",
              8);
}

static void test_free_and_args(void **state)
{
    (void)state;
    vks_st_file_t f = {0};
    vks_st_free(&f);
    vks_st_free(NULL);
    assert_null(vks_st_find(&f, "x"));
    assert_int_equal(vks_st_parse(NULL, 0, NULL), VKS_ERR_INVALID_ARGUMENT);
    assert_int_equal(vks_st_parse(NULL, 10, &f), VKS_ERR_INVALID_ARGUMENT);
    assert_int_equal(vks_st_parse(NULL, 0, &f), VKS_ERR_MODEL_FORMAT);
}

/* ---------------------------------------------------- length prefix errors */

static void test_header_length(void **state)
{
    (void)state;
    uint8_t small[8] = {0};
    for (size_t n = 0; n < 8; n++) {
        uint8_t *b = malloc(n ? n : 1);
        memcpy(b, small, n);
        check_fail_buf(b, n, "too short");
        free(b);
    }
    expect_fail_raw(100, "{}", 2, 0, "past the end");
    expect_fail_raw(3, "{}", 2, 0, "past the end");
    expect_fail_raw(VKS_ST_MAX_HEADER, "{}", 2, 0, "past the end");
    expect_fail_raw(VKS_ST_MAX_HEADER + 1, "{}", 2, 0, "exceeds the limit");
    expect_fail_raw(UINT64_MAX, "{}", 2, 0, "exceeds the limit");
    expect_fail_raw(UINT64_MAX - 7, "{}", 2, 0, "exceeds the limit"); /* 8 + n wraps to 0 */
    expect_fail_raw(UINT64_MAX - 1, "{}", 2, 0, "exceeds the limit");
    expect_fail_raw(0, "", 0, 0, "begin with '{'");
    expect_fail_raw(0, "", 0, 4, "begin with '{'");
    expect_fail_raw(1, "{", 1, 0, "JSON");
    /* header shorter than it says: the JSON is cut */
    expect_fail_raw(1, "{}", 2, 0, "JSON");
}

static void test_truncated(void **state)
{
    (void)state;
    size_t size;
    uint8_t *full = make_valid(&size);
    for (size_t n = 0; n < size; n++) {
        uint8_t *b = malloc(n ? n : 1);
        memcpy(b, full, n);
        check_fail_buf(b, n, NULL);
        free(b);
    }
    /* one byte too many is also wrong */
    uint8_t *b = malloc(size + 1);
    memcpy(b, full, size);
    b[size] = 0;
    check_fail_buf(b, size + 1, "data region");
    free(b);
    free(full);
}

/* ------------------------------------------------------------ JSON errors */

static void test_json(void **state)
{
    (void)state;
    expect_fail(" {}", 0, "begin with '{'");
    expect_fail("\n{}", 0, "begin with '{'");
    expect_fail("[]", 0, "begin with '{'");
    expect_fail("\"{}\"", 0, "begin with '{'");
    expect_fail("{} x", 0, "JSON");
    expect_fail("{}{}", 0, "JSON");
    expect_fail("{", 0, "JSON");
    expect_fail("{'a'}", 0, "JSON");
    expect_fail("{'a':{'dtype':'F32',}}", 0, "JSON");
    expect_fail("{'a':{'dtype':'F32'} /* c */}", 0, "JSON");
    expect_fail("{'a':NaN}", 0, "JSON");

    /* duplicate keys: tensors, fields, metadata */
    expect_fail("{'t':{'dtype':'F32','shape':[1],'data_offsets':[0,4]},"
                "'t':{'dtype':'F32','shape':[1],'data_offsets':[4,8]}}",
                8, "duplicate");
    expect_fail("{'t':{'dtype':'F32','dtype':'F32','shape':[1],'data_offsets':[0,4]}}", 4,
                "duplicate");
    expect_fail("{'__metadata__':{'a':'1','a':'2'}}", 0, "duplicate");
    expect_fail("{'__metadata__':{},'__metadata__':{}}", 0, "duplicate");

    /* invalid UTF-8 in a key and in a value: bare 0xFF, overlong '/', a UTF-16 surrogate,
     * a truncated sequence */
    static const char *const bad[] = {"\xff\xfe", "\xc0\xaf", "\xed\xa0\x80", "\xe2\x82"};
    for (size_t i = 0; i < 4; i++) {
        char hdr[128];
        int n = snprintf(hdr, sizeof hdr, "{\"%s\":{\"dtype\":\"F32\",\"shape\":[1],"
                         "\"data_offsets\":[0,4]}}", bad[i]);
        expect_fail_raw((uint64_t)n, hdr, (size_t)n, 4, "JSON");
        n = snprintf(hdr, sizeof hdr, "{\"__metadata__\":{\"k\":\"%s\"}}", bad[i]);
        expect_fail_raw((uint64_t)n, hdr, (size_t)n, 0, "JSON");
    }
    /* valid multi-byte UTF-8 names are fine */
    expect_ok("{'caf\xc3\xa9.\xf0\x9f\x8e\xa8':{'dtype':'F32','shape':[1],'data_offsets':[0,4]}}",
              4);

    /* NUL bytes: raw, escaped in a key, escaped in a value */
    static const char nul_raw[] = "{\"a\0\":{}}";
    expect_fail_raw(sizeof nul_raw - 1, nul_raw, sizeof nul_raw - 1, 0, "JSON");
    expect_fail("{'a\\u0000b':{'dtype':'F32','shape':[1],'data_offsets':[0,4]}}", 4, "JSON");
    expect_fail("{'__metadata__':{'k':'\\u0000'}}", 0, "JSON");

    /* deep nesting must not blow the stack */
    size_t depth = 100000, hlen = 5 + depth;
    char *deep = malloc(hlen);
    memcpy(deep, "{\"a\":", 5);
    memset(deep + 5, '[', depth);
    expect_fail_raw(hlen, deep, hlen, 0, "JSON");
    memset(deep + 5, '{', depth);
    expect_fail_raw(hlen, deep, hlen, 0, "JSON");
    free(deep);
    /* nesting that jansson accepts is still no tensor */
    expect_fail("{'t':[[[[[[[[[[[[[[[[]]]]]]]]]]]]]]]]}", 0, "'t'");
}

/* ------------------------------------------------------------- metadata */

static void test_metadata(void **state)
{
    (void)state;
    expect_fail("{'__metadata__':'x'}", 0, "__metadata__ is not an object");
    expect_fail("{'__metadata__':null}", 0, "__metadata__ is not an object");
    expect_fail("{'__metadata__':['a']}", 0, "__metadata__ is not an object");
    expect_fail("{'__metadata__':{'a':1}}", 0, "'a' is not a string");
    expect_fail("{'__metadata__':{'ok':'1','b':null}}", 0, "'b' is not a string");
    expect_fail("{'__metadata__':{'c':{'d':'e'}}}", 0, "'c' is not a string");
    expect_fail("{'__metadata__':{'c':true}}", 0, "'c' is not a string");
    /* a bad tensor after good metadata leaks nothing */
    expect_fail("{'__metadata__':{'a':'b'},'t':{'dtype':'F32','shape':[1],'data_offsets':[0,8]}}",
                8, "'t'");
}

/* -------------------------------------------------------- tensor entries */

static void test_entry_fields(void **state)
{
    (void)state;
    expect_fail("{'t':[1]}", 0, "tensor 't': entry is not an object");
    expect_fail("{'t':'F32'}", 0, "tensor 't': entry is not an object");
    expect_fail("{'t':null}", 0, "tensor 't'");
    expect_fail("{'t':{}}", 0, "missing");
    expect_fail("{'t':{'shape':[1],'data_offsets':[0,4]}}", 4, "missing \"dtype\"");
    expect_fail("{'t':{'dtype':'F32','data_offsets':[0,4]}}", 4, "missing \"shape\"");
    expect_fail("{'t':{'dtype':'F32','shape':[1]}}", 4, "missing \"data_offsets\"");
    expect_fail("{'t':{'dtype':'F32','shape':[1],'data_offsets':[0,4],'extra':1}}", 4,
                "unexpected field 'extra'");
    expect_fail("{'t':{'dtype':'F32','shape':[1],'data_offsets':[0,4],'__metadata__':{}}}", 4,
                "unexpected field");
}

static void test_dtype(void **state)
{
    (void)state;
    expect_fail(ONE("F33", "[1]", "[0,4]"), 4, "tensor 't': unknown dtype 'F33'");
    expect_fail(ONE("f32", "[1]", "[0,4]"), 4, "unknown dtype");
    expect_fail(ONE("", "[1]", "[0,4]"), 4, "unknown dtype");
    expect_fail(ONE("F32 ", "[1]", "[0,4]"), 4, "unknown dtype");
    static const char *const unsupported[] = {"BF16", "F64", "I8", "U8", "BOOL", "I64",
                                              "F8_E4M3", "C64"};
    for (size_t i = 0; i < sizeof unsupported / sizeof *unsupported; i++) {
        char hdr[128];
        snprintf(hdr, sizeof hdr, ONE("%s", "[1]", "[0,8]"), unsupported[i]);
        expect_fail(hdr, 8, "unsupported dtype");
    }
    expect_fail("{'t':{'dtype':32,'shape':[1],'data_offsets':[0,4]}}", 4, "dtype is not a string");
    expect_fail("{'t':{'dtype':['F32'],'shape':[1],'data_offsets':[0,4]}}", 4,
                "dtype is not a string");
}

static void test_shape(void **state)
{
    (void)state;
    expect_fail(ONE("F32", "3", "[0,12]"), 12, "tensor 't': shape is not an array");
    expect_fail(ONE("F32", "{}", "[0,12]"), 12, "shape is not an array");
    expect_fail(ONE("F32", "[1,1,1,1,1]", "[0,4]"), 4, "rank 5");
    expect_fail(ONE("F32", "[-1]", "[0,4]"), 4, "shape[0] is not a non-negative integer");
    expect_fail(ONE("F32", "[1,-3]", "[0,4]"), 4, "shape[1]");
    expect_fail(ONE("F32", "[2.0]", "[0,8]"), 8, "shape[0] is not");
    expect_fail(ONE("F32", "[1e3]", "[0,4000]"), 4000, "shape[0] is not");
    expect_fail(ONE("F32", "['3']", "[0,12]"), 12, "shape[0] is not");
    expect_fail(ONE("F32", "[null]", "[0,4]"), 4, "shape[0] is not");
    expect_fail(ONE("F32", "[[1]]", "[0,4]"), 4, "shape[0] is not");
    expect_fail(ONE("F32", "[true]", "[0,4]"), 4, "shape[0] is not");
    expect_fail(ONE("F32", "[1048577]", "[0,4194308]"), 0, "shape[0] = 1048577 exceeds");
    expect_fail(ONE("F32", "[1,9223372036854775807]", "[0,4]"), 4, "shape[1] =");
    expect_fail(ONE("F32", "[99999999999999999999]", "[0,4]"), 4, "JSON"); /* > int64 */
    expect_fail(ONE("F32", "[-99999999999999999999]", "[0,4]"), 4, "JSON");
    /* product overflow (2^80) and just over the limit (2^28 + 2^14) */
    expect_fail(ONE("F32", "[1048576,1048576,1048576,1048576]", "[0,4]"), 4,
                "shape [1048576, 1048576");
    expect_fail(ONE("F32", "[1048576,1048576,1048576,1048576]", "[0,4]"), 4, "more than");
    expect_fail(ONE("F16", "[16384,16385]", "[0,536903680]"), 0, "more than 268435456");
    expect_fail(ONE("F32", "[4096,4096,4096,0,1]", "[0,0]"), 0, "rank 5");
}

static void test_offsets(void **state)
{
    (void)state;
    const char *msg = "tensor 't': data_offsets is not [begin, end]";
    expect_fail(ONE("F32", "[1]", "[0]"), 4, msg);
    expect_fail(ONE("F32", "[1]", "[]"), 4, msg);
    expect_fail(ONE("F32", "[1]", "[0,4,8]"), 8, msg);
    expect_fail(ONE("F32", "[1]", "[-4,0]"), 4, msg);
    expect_fail(ONE("F32", "[1]", "[0,-4]"), 4, msg);
    expect_fail(ONE("F32", "[1]", "[0.0,4]"), 4, msg);
    expect_fail(ONE("F32", "[1]", "[0,4.0]"), 4, msg);
    expect_fail(ONE("F32", "[1]", "[0,4e0]"), 4, msg);
    expect_fail(ONE("F32", "[1]", "['0',4]"), 4, msg);
    expect_fail(ONE("F32", "[1]", "'0,4'"), 4, msg);
    expect_fail(ONE("F32", "[1]", "{'0':4}"), 4, msg);
    expect_fail(ONE("F32", "[1]", "[null,4]"), 4, msg);
    expect_fail(ONE("F32", "[1]", "[8,4]"), 8, "end is before begin");
    expect_fail(ONE("F32", "[1]", "[0,99999999999999999999]"), 4, "JSON");

    /* byte size must be count x dtype size */
    expect_fail("{'conv1.weight':{'dtype':'F32','shape':[3,3],'data_offsets':[0,12]}}", 12,
                "tensor 'conv1.weight': data_offsets [0, 12] give 12 bytes, shape [3, 3] F32 "
                "needs 36");
    expect_fail(ONE("F16", "[3]", "[0,12]"), 12, "give 12 bytes, shape [3] F16 needs 6");
    expect_fail(ONE("F32", "[]", "[0,0]"), 0, "shape [] F32 needs 4");
    expect_fail(ONE("F32", "[0]", "[0,4]"), 4, "needs 0");
    expect_fail(ONE("F32", "[1]", "[9223372036854775800,9223372036854775807]"), 0, "give 7 bytes");
}

/* ------------------------------------------------------------------ layout */

static void test_layout(void **state)
{
    (void)state;
    expect_fail(ONE("F32", "[1]", "[4,8]"), 8, "tensor 't': data_offsets [4, 8]: the first");
    expect_fail(ONE("F32", "[1]", "[9223372036854775803,9223372036854775807]"), 4,
                "must begin at 0");
    expect_fail("{'a':{'dtype':'F32','shape':[1],'data_offsets':[0,4]},"
                "'b':{'dtype':'F32','shape':[1],'data_offsets':[8,12]}}",
                12, "tensor 'b': data_offsets [8, 12] leave a hole after tensor 'a'");
    expect_fail("{'a':{'dtype':'F32','shape':[2],'data_offsets':[0,8]},"
                "'b':{'dtype':'F32','shape':[1],'data_offsets':[4,8]}}",
                8, "tensor 'b': data_offsets [4, 8] overlap tensor 'a'");
    expect_fail("{'a':{'dtype':'F32','shape':[1],'data_offsets':[0,4]},"
                "'b':{'dtype':'F32','shape':[1],'data_offsets':[0,4]}}",
                8, "overlap");
    /* a zero-sized tensor inside another one */
    expect_fail("{'a':{'dtype':'F32','shape':[2],'data_offsets':[0,8]},"
                "'b':{'dtype':'F32','shape':[0],'data_offsets':[4,4]}}",
                8, "'b'");
    /* last end short of / past the end of the file */
    expect_fail(ONE("F32", "[1]", "[0,4]"), 8, "tensor data ends at 4 (tensor 't') but the data");
    expect_fail(ONE("F32", "[2]", "[0,8]"), 4, "ends at 8 (tensor 't') but the data region after "
                                               "the header is 4 bytes");
    expect_fail("{}", 1, "no tensors, but the data region after the header is 1 bytes");
    expect_fail("{'__metadata__':{}}", 4, "no tensors");
    expect_fail(ONE("F32", "[0]", "[0,0]"), 4, "ends at 0");
    /* valid layouts with entries in any order */
    expect_ok("{'c':{'dtype':'F16','shape':[1],'data_offsets':[12,14]},"
              "'a':{'dtype':'F32','shape':[1],'data_offsets':[0,4]},"
              "'b':{'dtype':'F32','shape':[2],'data_offsets':[4,12]}}",
              14);
}

/* ------------------------------------------------------------- non-finite */

static void expect_read_fail(const char *dtype, const void *payload, size_t plen, size_t count,
                             const char *needle)
{
    char hdr[160];
    snprintf(hdr, sizeof hdr,
             "{'w.bad':{'dtype':'%s','shape':[%zu],'data_offsets':[0,%zu]}}", dtype, count,
             plen);
    vks_st_file_t f;
    uint8_t *buf;
    parse_ok(hdr, payload, plen, &f, &buf);
    float *dst = malloc(count * sizeof *dst);
    vks_error_clear();
    assert_int_equal(vks_st_read_f32(&f, &f.tensors[0], dst), VKS_ERR_MODEL_FORMAT);
    if (getenv("VKS_TEST_VERBOSE")) printf("    message: %s\n", vks_last_error());
    if (!strstr(vks_last_error(), needle))
        fail_msg("message \"%s\" lacks \"%s\"", vks_last_error(), needle);
    free(dst);
    vks_st_free(&f);
    free(buf);
}

static void test_nonfinite(void **state)
{
    (void)state;
    float nan_ = NAN, inf = INFINITY;
    float a[4] = {1, 2, nan_, 4};
    expect_read_fail("F32", a, sizeof a, 4, "tensor 'w.bad': element 2 is NaN");
    a[2] = 3;
    a[3] = inf;
    expect_read_fail("F32", a, sizeof a, 4, "tensor 'w.bad': element 3 is infinity");
    a[0] = -inf;
    expect_read_fail("F32", a, sizeof a, 4, "element 0 is -infinity");
    uint32_t snan = 0xFF800001u; /* negative signalling NaN */
    expect_read_fail("F32", &snan, 4, 1, "element 0 is NaN");

    uint16_t h[3] = {0x3C00, 0x7E00, 0};
    expect_read_fail("F16", h, sizeof h, 3, "tensor 'w.bad': element 1 is NaN");
    h[1] = 0x7C01; /* signalling NaN */
    expect_read_fail("F16", h, sizeof h, 3, "element 1 is NaN");
    h[1] = 0;
    h[2] = 0x7C00;
    expect_read_fail("F16", h, sizeof h, 3, "element 2 is infinity");
    h[2] = 0xFC00;
    expect_read_fail("F16", h, sizeof h, 3, "element 2 is -infinity");

    /* the largest finite values are fine */
    uint16_t hmax[2] = {0x7BFF, 0xFBFF};
    uint32_t fmax[2] = {0x7F7FFFFFu, 0xFF7FFFFFu};
    uint8_t payload[12];
    memcpy(payload, fmax, 8);
    memcpy(payload + 8, hmax, 4);
    vks_st_file_t f;
    uint8_t *buf;
    parse_ok("{'f':{'dtype':'F32','shape':[2],'data_offsets':[0,8]},"
             "'h':{'dtype':'F16','shape':[2],'data_offsets':[8,12]}}",
             payload, sizeof payload, &f, &buf);
    float v[2];
    assert_int_equal(vks_st_read_f32(&f, vks_st_find(&f, "f"), v), VKS_OK);
    assert_memory_equal(v, fmax, 8);
    assert_int_equal(vks_st_read_f32(&f, vks_st_find(&f, "h"), v), VKS_OK);
    assert_true(v[0] == 65504.0f && v[1] == -65504.0f);
    vks_st_free(&f);
    free(buf);
}

/* vks_st_check_finite: the same check without a destination, for tensors no layer reads */
static void test_check_finite(void **state)
{
    (void)state;
    float a[3] = {1, 2, 3};
    uint16_t h[2] = {0x3C00, 0xFC00};
    uint8_t payload[16];
    memcpy(payload, a, 12);
    memcpy(payload + 12, h, 4);
    vks_st_file_t f;
    uint8_t *buf;
    parse_ok("{'ok':{'dtype':'F32','shape':[3],'data_offsets':[0,12]},"
             "'unused':{'dtype':'F16','shape':[2],'data_offsets':[12,16]}}",
             payload, sizeof payload, &f, &buf);
    assert_int_equal(vks_st_check_finite(&f, vks_st_find(&f, "ok")), VKS_OK);
    vks_error_clear();
    assert_int_equal(vks_st_check_finite(&f, vks_st_find(&f, "unused")), VKS_ERR_MODEL_FORMAT);
    assert_non_null(strstr(vks_last_error(), "tensor 'unused': element 1 is -infinity"));
    vks_st_free(&f);
    free(buf);
}

/* Names from the file reach messages with control characters escaped: one line */
static void test_message_escapes_names(void **state)
{
    (void)state;
    expect_fail("{'x\\ny\\u001b[2J':{'dtype':'I8','shape':[1],'data_offsets':[0,1]}}", 1,
                "tensor 'x\\ny\\x1b[2J': unsupported dtype");
    expect_fail("{'t':{'dtype':'F\\t32','shape':[1],'data_offsets':[0,4]}}", 4, "unknown dtype 'F\\t32'");
    assert_null(strchr(vks_last_error(), '\t'));
}

/* --------------------------------------------------------------- half */

static uint32_t float_bits(float f)
{
    uint32_t b;
    memcpy(&b, &f, 4);
    return b;
}

static void test_half(void **state)
{
    (void)state;
    assert_true(vks_half_to_float(0x3C00) == 1.0f);
    assert_true(vks_half_to_float(0xC000) == -2.0f);
    assert_true(vks_half_to_float(0x0001) == 5.9604644775390625e-8f); /* 2^-24 */
    assert_true(vks_half_to_float(0x8001) == -5.9604644775390625e-8f);
    assert_true(vks_half_to_float(0x03FF) == 1023 * 5.9604644775390625e-8f);
    assert_true(vks_half_to_float(0x0400) == 6.103515625e-5f); /* 2^-14 */
    assert_true(vks_half_to_float(0x7BFF) == 65504.0f);
    assert_true(vks_half_to_float(0x3555) == 0.333251953125f);
    assert_int_equal(float_bits(vks_half_to_float(0x0000)), 0);
    assert_int_equal(float_bits(vks_half_to_float(0x8000)), 0x80000000u);
    assert_true(isinf(vks_half_to_float(0x7C00)) && vks_half_to_float(0x7C00) > 0);
    assert_true(isinf(vks_half_to_float(0xFC00)) && vks_half_to_float(0xFC00) < 0);
    assert_true(isnan(vks_half_to_float(0x7E00)));
    assert_true(isnan(vks_half_to_float(0x7C01)));
    assert_true(isnan(vks_half_to_float(0xFFFF)));

    /* all 65536 values against sign * m * 2^e computed exactly in double */
    for (uint32_t h = 0; h < 0x10000; h++) {
        uint32_t e = (h >> 10) & 31, m = h & 1023;
        float got = vks_half_to_float((uint16_t)h);
        if (e == 31) {
            assert_true(m ? isnan(got) : isinf(got));
            assert_int_equal(float_bits(got) >> 31, h >> 15);
            continue;
        }
        double v = e ? 1024 + m : m;
        int p = e ? (int)e - 25 : -24;
        for (; p < 0; p++) v *= 0.5;
        for (; p > 0; p--) v *= 2;
        if (h & 0x8000) v = -v;
        if (float_bits(got) != float_bits((float)v))
            fail_msg("half 0x%04x: got %a, want %a", h, (double)got, v);
    }
}

/* ---------------------------------------------------------- robustness */

/* Parses a mutated copy (exactly sized); on success reads every tensor. */
static void robust_parse(const uint8_t *data, size_t size)
{
    uint8_t *b = malloc(size ? size : 1);
    if (size) memcpy(b, data, size);
    vks_st_file_t f;
    vks_status_t st = vks_st_parse(b, size, &f);
    if (st != VKS_OK && st != VKS_ERR_MODEL_FORMAT)
        fail_msg("parse returned %s (%s)", vks_status_str(st), vks_last_error());
    if (st == VKS_OK) {
        for (size_t i = 0; i < f.count; i++) {
            const vks_st_tensor_t *t = &f.tensors[i];
            assert_true(t->begin >= 8 && t->begin <= t->end && t->end <= size);
            float *dst = malloc(t->count ? t->count * sizeof *dst : 1);
            st = vks_st_read_f32(&f, t, dst);
            assert_true(st == VKS_OK || st == VKS_ERR_MODEL_FORMAT);
            free(dst);
        }
        vks_st_free(&f);
    }
    free(b);
}

static uint64_t g_rng = 0x9E3779B97F4A7C15ull;
static uint32_t rnd(void)
{
    g_rng ^= g_rng << 13;
    g_rng ^= g_rng >> 7;
    g_rng ^= g_rng << 17;
    return (uint32_t)(g_rng >> 32);
}

static void test_mutations(void **state)
{
    (void)state;
    size_t size;
    uint8_t *valid = make_valid(&size);
    uint8_t *m = malloc(size);

    for (size_t n = 0; n <= size; n++) robust_parse(valid, n);

    for (size_t i = 0; i < size * 8; i++) {
        memcpy(m, valid, size);
        m[i / 8] ^= (uint8_t)(1u << (i % 8));
        robust_parse(m, size);
    }

    /* random byte rewrites with a fixed seed: few bytes, biased towards JSON syntax */
    static const char syntax[] = "{}[],:\"0123456789-.e \\";
    for (int iter = 0; iter < 20000; iter++) {
        memcpy(m, valid, size);
        int k = 1 + (int)(rnd() % 4);
        for (int j = 0; j < k; j++) {
            uint32_t r = rnd();
            m[r % size] = (r >> 24) & 1 ? (uint8_t)syntax[(r >> 16) % (sizeof syntax - 1)]
                                        : (uint8_t)(r >> 16);
        }
        robust_parse(m, rnd() % 8 ? size : rnd() % (size + 1));
    }
    free(m);
    free(valid);
}

/* The shipped models, when the build passes -DVKS_MODELS_DIR="<source>/models". */
static void test_shipped_models(void **state)
{
    (void)state;
#ifndef VKS_MODELS_DIR
    fail_msg("built without VKS_MODELS_DIR (tests/CMakeLists.txt defines it)");
#else
    static const char *const names[] = {"la_muse", "mathura", "matilde_perez", "matta",
                                        "rain_princess", "scream", "udnie", "wave", "wreck"};
    for (size_t m = 0; m < sizeof names / sizeof *names; m++) {
        char path[1024];
        snprintf(path, sizeof path, "%s/%s.safetensors", VKS_MODELS_DIR, names[m]);
        FILE *fp = fopen(path, "rb");
        if (!fp) fail_msg("cannot open %s", path);
        assert_int_equal(fseek(fp, 0, SEEK_END), 0);
        long n = ftell(fp);
        assert_true(n > 0);
        rewind(fp);
        uint8_t *buf = malloc((size_t)n);
        assert_int_equal(fread(buf, 1, (size_t)n, fp), (size_t)n);
        fclose(fp);

        vks_st_file_t f;
        if (vks_st_parse(buf, (size_t)n, &f)) fail_msg("%s: %s", path, vks_last_error());
        assert_int_equal(f.count, 48);
        const vks_st_tensor_t *w = vks_st_find(&f, "conv1.weight");
        assert_non_null(w);
        assert_int_equal(w->dtype, VKS_DTYPE_F16);
        assert_int_equal(w->rank, 4);
        assert_true(w->shape[0] == 32 && w->shape[1] == 3 && w->shape[2] == 9 &&
                    w->shape[3] == 9);
        assert_true(json_is_string(json_object_get(f.metadata, "vkstyle.graph")));
        for (size_t i = 0; i < f.count; i++) {
            float *dst = malloc(f.tensors[i].count * sizeof *dst + 1);
            if (vks_st_read_f32(&f, &f.tensors[i], dst))
                fail_msg("%s: %s", path, vks_last_error());
            free(dst);
        }
        vks_st_free(&f);
        free(buf);
    }
#endif
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_valid_roundtrip),
        cmocka_unit_test(test_minimal_files),
        cmocka_unit_test(test_free_and_args),
        cmocka_unit_test(test_header_length),
        cmocka_unit_test(test_truncated),
        cmocka_unit_test(test_json),
        cmocka_unit_test(test_metadata),
        cmocka_unit_test(test_entry_fields),
        cmocka_unit_test(test_dtype),
        cmocka_unit_test(test_shape),
        cmocka_unit_test(test_offsets),
        cmocka_unit_test(test_layout),
        cmocka_unit_test(test_nonfinite),
        cmocka_unit_test(test_check_finite),
        cmocka_unit_test(test_message_escapes_names),
        cmocka_unit_test(test_half),
        cmocka_unit_test(test_mutations),
        cmocka_unit_test(test_shipped_models),
    };
    return cmocka_run_group_tests_name("safetensors", tests, NULL, NULL);
}
