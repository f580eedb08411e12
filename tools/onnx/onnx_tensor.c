/* ONNX TensorProto -> constant tensors: raw_data, the typed fields and external data files (their
 * path confined to the model's folder), every length checked against the shape. */
#include "onnx_internal.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

void ox_error(ox_err_t *e, const char *fmt, ...)
{
    if (e && e->buf && e->size && !e->buf[0]) {   /* the first error is the one reported */
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(e->buf, e->size, fmt, ap);
        va_end(ap);
        for (char *p = e->buf; *p; p++)   /* one line */
            if (*p == '\n' || *p == '\r') *p = ' ';
    }
}

void ox_const_free(ox_const_t *c)
{
    free(c->v);
    free(c->sym);
    *c = (ox_const_t){0};
}

int ox_const_alloc(ox_const_t *c, bool is_float, int rank, const int64_t *dims, bool with_sym, ox_err_t *e)
{
    *c = (ox_const_t){.is_float = is_float, .rank = rank};
    if (rank < 0 || rank > OX_MAX_RANK) return ox_fail(e, "a tensor of rank %d (at most %d supported)", rank, OX_MAX_RANK);
    size_t n = 1;
    for (int d = 0; d < rank; d++) {
        if (dims[d] < 0 || dims[d] > OX_MAX_ELEMS) return ox_fail(e, "a tensor dimension of %lld", (long long)dims[d]);
        c->dims[d] = dims[d];
        n *= (size_t)dims[d];
        if (n > OX_MAX_ELEMS) return ox_fail(e, "a tensor of more than %u elements", OX_MAX_ELEMS);
    }
    if (e->budget) {
        if (n > *e->budget)
            return ox_fail(e, "constants folded from the graph would hold more than %u elements", OX_MAX_FOLDED);
        *e->budget -= n;
    }
    c->n = n;
    c->v = calloc(n ? n : 1, sizeof *c->v);
    if (with_sym) {
        c->sym = calloc(n ? n : 1, sizeof *c->sym);
        for (size_t i = 0; c->sym && i < n; i++) c->sym[i].src = SYM_KNOWN;
    }
    if (!c->v || (with_sym && !c->sym)) {
        ox_const_free(c);
        return ox_fail(e, "out of memory");
    }
    return 0;
}

bool ox_const_has_sym(const ox_const_t *c)
{
    for (size_t i = 0; c->sym && i < c->n; i++)
        if (c->sym[i].src != SYM_KNOWN) return true;
    return false;
}

const char *ox_dims_str(const ox_const_t *c, char *buf, size_t size)
{
    size_t k = (size_t)snprintf(buf, size, "[");
    for (int d = 0; d < c->rank && k < size; d++) k += (size_t)snprintf(buf + k, size - k, "%s%lld", d ? "," : "", (long long)c->dims[d]);
    if (k < size) snprintf(buf + k, size - k, "]");
    return buf;
}

static double half_to_double(uint16_t h)
{
    int s = h >> 15, ex = (h >> 10) & 31, m = h & 1023;
    double v = ex == 0 ? ldexp(m, -24) : ex == 31 ? (m ? NAN : INFINITY) : ldexp(m + 1024, ex - 25);
    return s ? -v : v;
}

/* The element types read, with their size in raw_data. */
static int elem_size(int32_t type, bool *is_float)
{
    *is_float = false;
    switch (type) {
    case ONNX__TENSOR_PROTO__DATA_TYPE__FLOAT: *is_float = true; return 4;
    case ONNX__TENSOR_PROTO__DATA_TYPE__DOUBLE: *is_float = true; return 8;
    case ONNX__TENSOR_PROTO__DATA_TYPE__FLOAT16: *is_float = true; return 2;
    case ONNX__TENSOR_PROTO__DATA_TYPE__INT64: return 8;
    case ONNX__TENSOR_PROTO__DATA_TYPE__INT32: return 4;
    case ONNX__TENSOR_PROTO__DATA_TYPE__INT16: return 2;
    case ONNX__TENSOR_PROTO__DATA_TYPE__UINT16: return 2;
    case ONNX__TENSOR_PROTO__DATA_TYPE__INT8: return 1;
    case ONNX__TENSOR_PROTO__DATA_TYPE__UINT8: return 1;
    case ONNX__TENSOR_PROTO__DATA_TYPE__BOOL: return 1;
    default: return 0;
    }
}

static const char *type_name(int32_t type)
{
    static const char *const names[] = {"UNDEFINED", "FLOAT", "UINT8", "INT8", "UINT16", "INT16", "INT32", "INT64",
                                        "STRING", "BOOL", "FLOAT16", "DOUBLE", "UINT32", "UINT64", "COMPLEX64",
                                        "COMPLEX128", "BFLOAT16"};
    return type >= 0 && type < (int32_t)(sizeof names / sizeof *names) ? names[type] : "unknown";
}

static double raw_elem(const uint8_t *p, int32_t type)
{
    switch (type) {   /* little-endian, as ONNX stores raw_data */
    case ONNX__TENSOR_PROTO__DATA_TYPE__FLOAT: { float f; memcpy(&f, p, 4); return f; }
    case ONNX__TENSOR_PROTO__DATA_TYPE__DOUBLE: { double d; memcpy(&d, p, 8); return d; }
    case ONNX__TENSOR_PROTO__DATA_TYPE__FLOAT16: return half_to_double((uint16_t)(p[0] | p[1] << 8));
    case ONNX__TENSOR_PROTO__DATA_TYPE__INT64: { int64_t i; memcpy(&i, p, 8); return (double)i; }
    case ONNX__TENSOR_PROTO__DATA_TYPE__INT32: { int32_t i; memcpy(&i, p, 4); return i; }
    case ONNX__TENSOR_PROTO__DATA_TYPE__INT16: { int16_t i; memcpy(&i, p, 2); return i; }
    case ONNX__TENSOR_PROTO__DATA_TYPE__UINT16: { uint16_t i; memcpy(&i, p, 2); return i; }
    case ONNX__TENSOR_PROTO__DATA_TYPE__INT8: return (int8_t)p[0];
    default: return p[0];   /* UINT8, BOOL */
    }
}

/* External data: "location" relative to dir, inside it (no absolute path, no "..", and the real
 * path, links resolved, under the real dir), "offset" and "length". */
static int read_external(const Onnx__TensorProto *t, const char *name, const char *dir, size_t need, uint8_t **out,
                         ox_err_t *e)
{
    const char *loc = NULL;
    long long off = 0, len = -1;
    for (size_t i = 0; i < t->n_external_data; i++) {
        const char *k = t->external_data[i]->key ? t->external_data[i]->key : "";
        const char *v = t->external_data[i]->value ? t->external_data[i]->value : "";
        char *end;
        if (!strcmp(k, "location")) {
            loc = v;
        } else if (!strcmp(k, "offset") || !strcmp(k, "length")) {
            errno = 0;
            long long x = strtoll(v, &end, 10);
            if (errno || !*v || *end || x < 0) return ox_fail(e, "tensor '%s': external data %s '%s' is not a number", name, k, v);
            if (!strcmp(k, "offset")) off = x;
            else len = x;
        }
    }
    if (!dir) return ox_fail(e, "tensor '%s': external data is not supported here", name);
    if (!loc || !*loc) return ox_fail(e, "tensor '%s': external data without a location", name);
    if (loc[0] == '/' || !strcmp(loc, "..") || !strncmp(loc, "../", 3) || strstr(loc, "/../") ||
        (strlen(loc) >= 3 && !strcmp(loc + strlen(loc) - 3, "/..")))
        return ox_fail(e, "tensor '%s': external data path '%s' leaves the model's folder", name, loc);
    if (len >= 0 && (size_t)len != need)
        return ox_fail(e, "tensor '%s': external data length %lld does not match its shape (%zu bytes)", name, len, need);
    char path[PATH_MAX], real_dir[PATH_MAX], real_path[PATH_MAX];
    if ((size_t)snprintf(path, sizeof path, "%s/%s", dir, loc) >= sizeof path)
        return ox_fail(e, "tensor '%s': external data path too long", name);
    if (!realpath(dir, real_dir)) return ox_fail(e, "%s: %s", dir, strerror(errno));
    if (!realpath(path, real_path)) return ox_fail(e, "tensor '%s': external data '%s': %s", name, loc, strerror(errno));
    size_t dl = strlen(real_dir);
    if (strncmp(real_path, real_dir, dl) || (real_path[dl] != '/' && strcmp(real_dir, "/")))
        return ox_fail(e, "tensor '%s': external data path '%s' leaves the model's folder", name, loc);
    int fd = open(real_path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) return ox_fail(e, "tensor '%s': external data '%s': %s", name, loc, strerror(errno));
    struct stat st;
    if (fstat(fd, &st) || !S_ISREG(st.st_mode)) {
        close(fd);
        return ox_fail(e, "tensor '%s': external data '%s' is not a regular file", name, loc);
    }
    if ((unsigned long long)off > (unsigned long long)st.st_size || (unsigned long long)st.st_size - (unsigned long long)off < need) {
        close(fd);
        return ox_fail(e, "tensor '%s': external data '%s' is shorter than its shape (%zu bytes at offset %lld, the file has %lld)",
                       name, loc, need, off, (long long)st.st_size);
    }
    uint8_t *buf = malloc(need ? need : 1);
    size_t got = 0;
    while (buf && got < need) {
        ssize_t r = pread(fd, buf + got, need - got, (off_t)(off + (long long)got));
        if (r <= 0) break;
        got += (size_t)r;
    }
    close(fd);
    if (!buf || got < need) {
        free(buf);
        return ox_fail(e, "tensor '%s': external data '%s': read failed", name, loc);
    }
    *out = buf;
    return 0;
}

int ox_tensor_read(const Onnx__TensorProto *t, const char *dir, ox_const_t *out, ox_err_t *e)
{
    const char *name = t->name && *t->name ? t->name : "(unnamed)";
    *out = (ox_const_t){0};
    bool is_float;
    int es = elem_size(t->data_type, &is_float);
    if (!es) return ox_fail(e, "tensor '%s': data type %s is not supported", name, type_name(t->data_type));
    if (t->n_dims > OX_MAX_RANK) return ox_fail(e, "tensor '%s': rank %zu is not supported", name, t->n_dims);
    if (t->segment) return ox_fail(e, "tensor '%s': segmented tensors are not supported", name);
    for (size_t d = 0; d < t->n_dims; d++)
        if (t->dims[d] < 0) return ox_fail(e, "tensor '%s': negative dimension %lld", name, (long long)t->dims[d]);
    char sub[512];
    ox_err_t se = {sub, sizeof sub, NULL};
    sub[0] = 0;
    if (ox_const_alloc(out, is_float, (int)t->n_dims, t->dims, false, &se)) return ox_fail(e, "tensor '%s': %s", name, sub);
    size_t n = out->n, need = n * (size_t)es;
    char shape[128];
    ox_dims_str(out, shape, sizeof shape);
    bool external = t->has_data_location && t->data_location == ONNX__TENSOR_PROTO__DATA_LOCATION__EXTERNAL;
    if (external || (t->has_raw_data && t->raw_data.len) || (t->has_raw_data && n == 0)) {
        uint8_t *ext = NULL;
        const uint8_t *p;
        size_t len;
        if (external) {
            if (read_external(t, name, dir, need, &ext, e)) goto fail;
            p = ext, len = need;
        } else {
            p = t->raw_data.data, len = t->raw_data.len;
        }
        if (len != need) {
            ox_error(e, "tensor '%s': raw data of %zu bytes %s its shape %s of %s (%zu bytes)", name, len,
                    len < need ? "is shorter than" : "does not match", shape, type_name(t->data_type), need);
            goto fail;
        }
        for (size_t i = 0; i < n; i++) out->v[i] = raw_elem(p + i * (size_t)es, t->data_type);
        free(ext);
    } else {
        size_t have;
        switch (t->data_type) {
        case ONNX__TENSOR_PROTO__DATA_TYPE__FLOAT:
            have = t->n_float_data;
            for (size_t i = 0; i < n && i < have; i++) out->v[i] = t->float_data[i];
            break;
        case ONNX__TENSOR_PROTO__DATA_TYPE__DOUBLE:
            have = t->n_double_data;
            for (size_t i = 0; i < n && i < have; i++) out->v[i] = t->double_data[i];
            break;
        case ONNX__TENSOR_PROTO__DATA_TYPE__INT64:
            have = t->n_int64_data;
            for (size_t i = 0; i < n && i < have; i++) out->v[i] = (double)t->int64_data[i];
            break;
        case ONNX__TENSOR_PROTO__DATA_TYPE__FLOAT16:
            have = t->n_int32_data;
            for (size_t i = 0; i < n && i < have; i++) out->v[i] = half_to_double((uint16_t)t->int32_data[i]);
            break;
        default:   /* int32, int16, uint16, int8, uint8, bool: int32_data */
            have = t->n_int32_data;
            for (size_t i = 0; i < n && i < have; i++) out->v[i] = t->int32_data[i];
            break;
        }
        if (have != n) {
            ox_error(e, "tensor '%s': %zu values %s its shape %s (%zu elements)", name, have,
                    have < n ? "are fewer than" : "do not match", shape, n);
            goto fail;
        }
    }
    return 0;
fail:
    ox_const_free(out);
    return -1;
}
