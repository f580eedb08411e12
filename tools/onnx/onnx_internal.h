/* Shared by the ONNX translator's files: constant tensors (weights and folded shape arithmetic),
 * the error buffer, and the translation state. */
#ifndef VKS_ONNX_INTERNAL_H
#define VKS_ONNX_INTERNAL_H

#include "onnx.pb-c.h"
#include "vks_onnx.h"

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define OX_MAX_RANK 8
#define OX_MAX_ELEMS (1u << 28)   /* the safetensors loader's limit per tensor */

/* An element of a constant integer tensor that stands for a dimension of a runtime tensor:
 * mul * (axis 2 = H, 3 = W) of value src (0 the graph input, k + 1 layer k). */
enum { SYM_KNOWN = -1, SYM_UNKNOWN = -2 };
typedef struct ox_sym {
    int32_t src;   /* SYM_KNOWN, SYM_UNKNOWN, or a value index */
    int32_t axis;
    double mul;
} ox_sym_t;

/* A constant tensor: every element as a double (exact for the integers shapes hold); sym is NULL
 * unless some element is symbolic. */
typedef struct ox_const {
    bool is_float;
    int rank;
    int64_t dims[OX_MAX_RANK];
    size_t n;
    double *v;
    ox_sym_t *sym;
} ox_const_t;

typedef struct ox_err {
    char *buf;
    size_t size;
    /* Elements ox_const_alloc may still allocate through this error (NULL: no limit). Constant
     * folding draws on one budget per translation, OX_MAX_FOLDED: each fold's result is
     * no larger than its inputs together, but a chain of Concats doubles at every step. */
    uint64_t *budget;
} ox_err_t;

#define OX_MAX_FOLDED (1u << 24)

/* Records the first error's message in e. ox_fail(e, ...) records it and is -1, in the macro
 * rather than returned by the function, so that a static analyzer (which does not follow
 * variadic calls) sees every failure path return -1. */
void ox_error(ox_err_t *e, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
#define ox_fail(e, ...) (ox_error(e, __VA_ARGS__), -1)

void ox_const_free(ox_const_t *c);
int ox_const_alloc(ox_const_t *c, bool is_float, int rank, const int64_t *dims, bool with_sym, ox_err_t *e);
bool ox_const_has_sym(const ox_const_t *c);
/* Read a TensorProto (raw, typed or external data; dir: the model's folder, NULL refuses external). */
int ox_tensor_read(const Onnx__TensorProto *t, const char *dir, ox_const_t *out, ox_err_t *e);
/* "[1,3,224,224]" into buf */
const char *ox_dims_str(const ox_const_t *c, char *buf, size_t size);

#endif
