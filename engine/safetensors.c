/* Strict safetensors parsing (see safetensors.h and docs/model-format.md).
 *
 * Order of checks: the 8-byte length prefix, the JSON header (jansson: UTF-8, no duplicate keys,
 * bounded nesting), each entry on its own (dtype, shape, offsets, byte size), then the layout
 * of all tensors together (sorted, contiguous from 0 to the end of the file). Every number
 * from the file is range-checked before it is used in arithmetic or to size an allocation. */
#include "safetensors.h"

#include "error.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define ST_PREFIX 8u
/* Enough for names in messages; longer names are cut. */
#define NAME_FMT "'%.200s'"

#define FAIL(...)                                                 \
    do {                                                          \
        st = vks_fail(VKS_ERR_MODEL_FORMAT, __VA_ARGS__);         \
        goto fail;                                                \
    } while (0)

typedef unsigned long long ull;

/* Known safetensors dtypes that vkstyle does not load. */
static const char *const g_unsupported_dtypes[] = {
    "BOOL", "U8",  "I8",  "U16", "I16", "U32",     "I32",     "U64",     "I64",     "BF16",
    "F64",  "C64", "F4",  "F6_E2M3", "F6_E3M2", "F8_E4M3", "F8_E5M2", "F8_E8M0",
};

static uint64_t dtype_size(vks_dtype_t d) { return d == VKS_DTYPE_F16 ? 2 : 4; }
static const char *dtype_name(vks_dtype_t d) { return d == VKS_DTYPE_F16 ? "F16" : "F32"; }

/* A JSON integer >= 0 (reals such as 2.0 are not integers). */
static int json_uint(const json_t *v, uint64_t *out)
{
    if (!json_is_integer(v) || json_integer_value(v) < 0) return 0;
    *out = (uint64_t)json_integer_value(v);
    return 1;
}

static const char *shape_str(const vks_st_tensor_t *t, char *buf, size_t len)
{
    size_t n = (size_t)snprintf(buf, len, "[");
    for (uint32_t i = 0; i < t->rank && n < len; i++)
        n += (size_t)snprintf(buf + n, len - n, "%s%llu", i ? ", " : "", (ull)t->shape[i]);
    if (n < len) snprintf(buf + n, len - n, "]");
    return buf;
}

static vks_status_t parse_dtype(const char *name, const json_t *v, vks_dtype_t *out)
{
    if (!json_is_string(v))
        return vks_fail(VKS_ERR_MODEL_FORMAT, "tensor " NAME_FMT ": dtype is not a string", name);
    const char *s = json_string_value(v);
    if (!strcmp(s, "F32")) *out = VKS_DTYPE_F32;
    else if (!strcmp(s, "F16")) *out = VKS_DTYPE_F16;
    else {
        for (size_t i = 0; i < sizeof g_unsupported_dtypes / sizeof *g_unsupported_dtypes; i++)
            if (!strcmp(s, g_unsupported_dtypes[i]))
                return vks_fail(VKS_ERR_MODEL_FORMAT,
                                "tensor " NAME_FMT ": unsupported dtype '%s' (only F32 and F16)",
                                name, s);
        return vks_fail(VKS_ERR_MODEL_FORMAT, "tensor " NAME_FMT ": unknown dtype '%.40s'", name,
                        s);
    }
    return VKS_OK;
}

static vks_status_t parse_shape(const char *name, const json_t *v, vks_st_tensor_t *t)
{
    if (!json_is_array(v))
        return vks_fail(VKS_ERR_MODEL_FORMAT, "tensor " NAME_FMT ": shape is not an array", name);
    size_t rank = json_array_size(v);
    if (rank > VKS_ST_MAX_RANK)
        return vks_fail(VKS_ERR_MODEL_FORMAT, "tensor " NAME_FMT ": rank %zu exceeds %d", name,
                        rank, VKS_ST_MAX_RANK);
    t->rank = (uint32_t)rank;
    int zero = 0;
    for (size_t i = 0; i < rank; i++) {
        if (!json_uint(json_array_get(v, i), &t->shape[i]))
            return vks_fail(VKS_ERR_MODEL_FORMAT,
                            "tensor " NAME_FMT ": shape[%zu] is not a non-negative integer", name,
                            i);
        if (t->shape[i] > VKS_ST_MAX_DIM)
            return vks_fail(VKS_ERR_MODEL_FORMAT,
                            "tensor " NAME_FMT ": shape[%zu] = %llu exceeds the limit %llu", name,
                            i, (ull)t->shape[i], (ull)VKS_ST_MAX_DIM);
        zero |= t->shape[i] == 0;
    }
    /* Each partial product stays <= MAX_ELEMS * MAX_DIM (2^48) before it is checked. */
    t->count = zero ? 0 : 1;
    for (size_t i = 0; i < rank && !zero; i++) {
        t->count *= t->shape[i];
        if (t->count > VKS_ST_MAX_ELEMS) {
            char buf[128];
            return vks_fail(VKS_ERR_MODEL_FORMAT,
                            "tensor " NAME_FMT ": shape %s has more than %llu elements", name,
                            shape_str(t, buf, sizeof buf), (ull)VKS_ST_MAX_ELEMS);
        }
    }
    return VKS_OK;
}

/* One header entry: exactly dtype, shape and data_offsets; offsets still relative. */
static vks_status_t parse_tensor(const char *name, const json_t *v, vks_st_tensor_t *t)
{
    vks_status_t st;
    if (!json_is_object(v))
        return vks_fail(VKS_ERR_MODEL_FORMAT, "tensor " NAME_FMT ": entry is not an object",
                        name);
    const char *key;
    json_t *field;
    json_object_foreach((json_t *)v, key, field) {
        if (strcmp(key, "dtype") && strcmp(key, "shape") && strcmp(key, "data_offsets"))
            return vks_fail(VKS_ERR_MODEL_FORMAT, "tensor " NAME_FMT ": unexpected field '%.40s'",
                            name, key);
    }
    static const char *const required[] = {"dtype", "shape", "data_offsets"};
    for (size_t i = 0; i < 3; i++)
        if (!json_object_get(v, required[i]))
            return vks_fail(VKS_ERR_MODEL_FORMAT, "tensor " NAME_FMT ": missing \"%s\"", name,
                            required[i]);

    if ((st = parse_dtype(name, json_object_get(v, "dtype"), &t->dtype))) return st;
    if ((st = parse_shape(name, json_object_get(v, "shape"), t))) return st;

    const json_t *off = json_object_get(v, "data_offsets");
    if (!json_is_array(off) || json_array_size(off) != 2 ||
        !json_uint(json_array_get(off, 0), &t->begin) ||
        !json_uint(json_array_get(off, 1), &t->end))
        return vks_fail(VKS_ERR_MODEL_FORMAT,
                        "tensor " NAME_FMT ": data_offsets is not [begin, end] with two "
                        "non-negative integers",
                        name);
    if (t->end < t->begin)
        return vks_fail(VKS_ERR_MODEL_FORMAT,
                        "tensor " NAME_FMT ": data_offsets [%llu, %llu]: end is before begin",
                        name, (ull)t->begin, (ull)t->end);
    uint64_t need = t->count * dtype_size(t->dtype); /* <= 2^30: no overflow */
    if (t->end - t->begin != need) {
        char buf[128];
        return vks_fail(VKS_ERR_MODEL_FORMAT,
                        "tensor " NAME_FMT ": data_offsets [%llu, %llu] give %llu bytes, shape "
                        "%s %s needs %llu",
                        name, (ull)t->begin, (ull)t->end, (ull)(t->end - t->begin),
                        shape_str(t, buf, sizeof buf), dtype_name(t->dtype), (ull)need);
    }
    return VKS_OK;
}

static vks_status_t check_metadata(const json_t *v)
{
    if (!json_is_object(v))
        return vks_fail(VKS_ERR_MODEL_FORMAT, "__metadata__ is not an object");
    const char *key;
    json_t *val;
    json_object_foreach((json_t *)v, key, val) {
        if (!json_is_string(val))
            return vks_fail(VKS_ERR_MODEL_FORMAT, "__metadata__ '%.200s' is not a string", key);
    }
    return VKS_OK;
}

static int cmp_tensor(const void *pa, const void *pb)
{
    const vks_st_tensor_t *a = pa, *b = pb;
    if (a->begin != b->begin) return a->begin < b->begin ? -1 : 1;
    if (a->end != b->end) return a->end < b->end ? -1 : 1;
    return strcmp(a->name, b->name);
}

/* Tensors sorted by offset must tile [0, data_size) exactly. */
static vks_status_t check_layout(const vks_st_file_t *f, uint64_t data_size)
{
    uint64_t pos = 0;
    for (size_t i = 0; i < f->count; i++) {
        const vks_st_tensor_t *t = &f->tensors[i];
        if (t->begin != pos) {
            if (i == 0)
                return vks_fail(VKS_ERR_MODEL_FORMAT,
                                "tensor " NAME_FMT ": data_offsets [%llu, %llu]: the first "
                                "tensor must begin at 0",
                                t->name, (ull)t->begin, (ull)t->end);
            return vks_fail(VKS_ERR_MODEL_FORMAT,
                            "tensor " NAME_FMT ": data_offsets [%llu, %llu] %s tensor " NAME_FMT
                            " which ends at %llu",
                            t->name, (ull)t->begin, (ull)t->end,
                            t->begin > pos ? "leave a hole after" : "overlap",
                            f->tensors[i - 1].name, (ull)pos);
        }
        pos = t->end;
    }
    if (pos != data_size && !f->count)
        return vks_fail(VKS_ERR_MODEL_FORMAT,
                        "no tensors, but the data region after the header is %llu bytes",
                        (ull)data_size);
    if (pos != data_size)
        return vks_fail(VKS_ERR_MODEL_FORMAT,
                        "tensor data ends at %llu (tensor " NAME_FMT ") but the data region "
                        "after the header is %llu bytes",
                        (ull)pos, f->tensors[f->count - 1].name, (ull)data_size);
    return VKS_OK;
}

vks_status_t vks_st_parse(const uint8_t *data, size_t size, vks_st_file_t *out)
{
    vks_status_t st = VKS_OK;
    json_t *root = NULL;
    if (!out) return vks_fail(VKS_ERR_INVALID_ARGUMENT, "vks_st_parse: out is NULL");
    memset(out, 0, sizeof *out);
    if (!data && size) return vks_fail(VKS_ERR_INVALID_ARGUMENT, "vks_st_parse: data is NULL");

    if (size < ST_PREFIX)
        FAIL("file is %zu bytes, too short for the 8-byte header length", size);
    uint64_t n = 0;
    for (int i = 7; i >= 0; i--) n = n << 8 | data[i];
    if (n > VKS_ST_MAX_HEADER)
        FAIL("header length %llu exceeds the limit of %llu bytes", (ull)n,
             (ull)VKS_ST_MAX_HEADER);
    if (n > size - ST_PREFIX) /* i.e. 8 + n > size, without overflow */
        FAIL("header length %llu runs past the end of the file (%zu bytes)", (ull)n, size);
    const char *hdr = (const char *)data + ST_PREFIX;
    if (n == 0 || hdr[0] != '{') FAIL("header does not begin with '{'");

    json_error_t jerr;
    root = json_loadb(hdr, (size_t)n, JSON_REJECT_DUPLICATES, &jerr);
    if (!root) FAIL("header JSON at byte %d: %s", jerr.position, jerr.text);
    if (!json_is_object(root)) FAIL("header is not a JSON object");

    json_t *meta = json_object_get(root, "__metadata__");
    if (meta && (st = check_metadata(meta))) goto fail;

    /* Bounded by the header length: each entry takes several bytes of JSON. */
    size_t cap = json_object_size(root) - (meta ? 1 : 0);
    if (cap) {
        out->tensors = calloc(cap, sizeof *out->tensors);
        if (!out->tensors) {
            st = vks_fail(VKS_ERR_OUT_OF_HOST_MEMORY, "safetensors: %zu tensor entries", cap);
            goto fail;
        }
    }
    const char *key;
    json_t *val;
    json_object_foreach(root, key, val) {
        if (!strcmp(key, "__metadata__")) continue;
        vks_st_tensor_t *t = &out->tensors[out->count];
        if ((st = parse_tensor(key, val, t))) goto fail;
        if (!(t->name = strdup(key))) {
            st = vks_fail(VKS_ERR_OUT_OF_HOST_MEMORY, "safetensors: tensor name");
            goto fail;
        }
        out->count++;
    }

    if (out->count) qsort(out->tensors, out->count, sizeof *out->tensors, cmp_tensor);
    uint64_t base = ST_PREFIX + n;
    if ((st = check_layout(out, size - base))) goto fail;
    for (size_t i = 0; i < out->count; i++) { /* all ends <= size - base: no overflow */
        out->tensors[i].begin += base;
        out->tensors[i].end += base;
    }
    if (meta) out->metadata = json_incref(meta);
    json_decref(root);
    out->data = data;
    out->size = size;
    return VKS_OK;

fail:
    json_decref(root);
    vks_st_free(out);
    return st;
}

void vks_st_free(vks_st_file_t *f)
{
    if (!f) return;
    for (size_t i = 0; i < f->count; i++) free(f->tensors[i].name);
    free(f->tensors);
    json_decref(f->metadata);
    memset(f, 0, sizeof *f);
}

const vks_st_tensor_t *vks_st_find(const vks_st_file_t *f, const char *name)
{
    if (!f || !name) return NULL;
    for (size_t i = 0; i < f->count; i++)
        if (!strcmp(f->tensors[i].name, name)) return &f->tensors[i];
    return NULL;
}


/* Convert to dst, or only check when dst is NULL. */
static vks_status_t convert_f32(const vks_st_file_t *f, const vks_st_tensor_t *t, float *dst)
{
    uint64_t esize = dtype_size(t->dtype);
    if (t->begin > t->end || t->end > f->size || t->end - t->begin != t->count * esize)
        return vks_fail(VKS_ERR_INVALID_ARGUMENT,
                        "safetensors: tensor " NAME_FMT " is not a tensor of this file",
                        t->name ? t->name : "?");
    const uint8_t *src = f->data + t->begin;
    for (uint64_t i = 0; i < t->count; i++) {
        uint32_t bits;
        if (t->dtype == VKS_DTYPE_F32) {
            memcpy(&bits, src + 4 * i, 4); /* unaligned; little-endian host */
        } else {
            uint16_t h;
            memcpy(&h, src + 2 * i, 2);
            float v = vks_half_to_float(h);
            memcpy(&bits, &v, 4);
        }
        if ((bits & 0x7F800000u) == 0x7F800000u) /* checked on bits: immune to -ffast-math */
            return vks_fail(VKS_ERR_MODEL_FORMAT, "tensor " NAME_FMT ": element %llu is %s",
                            t->name, (ull)i,
                            bits & 0x7FFFFFu ? "NaN" : bits >> 31 ? "-infinity" : "infinity");
        if (dst) memcpy(&dst[i], &bits, 4);
    }
    return VKS_OK;
}

vks_status_t vks_st_read_f32(const vks_st_file_t *f, const vks_st_tensor_t *t, float *dst)
{
    if (!f || !t || (!dst && t->count))
        return vks_fail(VKS_ERR_INVALID_ARGUMENT, "vks_st_read_f32: NULL argument");
    return convert_f32(f, t, dst);
}

vks_status_t vks_st_check_finite(const vks_st_file_t *f, const vks_st_tensor_t *t)
{
    if (!f || !t) return vks_fail(VKS_ERR_INVALID_ARGUMENT, "vks_st_check_finite: NULL argument");
    return convert_f32(f, t, NULL);
}
