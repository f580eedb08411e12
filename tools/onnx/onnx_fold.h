/* Constant folding (onnx_fold.c). Each returns 0 and fills out, or -1 with a message. */
#ifndef VKS_ONNX_FOLD_H
#define VKS_ONNX_FOLD_H

#include "onnx_internal.h"

int of_int(const ox_const_t *c, size_t i, int64_t *out, ox_err_t *e);
int of_gather(const ox_const_t *data, const ox_const_t *idx, int64_t axis, ox_const_t *out, ox_err_t *e);
int of_concat(const ox_const_t *const *in, size_t n_in, int64_t axis, ox_const_t *out, ox_err_t *e);
int of_reshape(const ox_const_t *in, int rank, const int64_t *dims, ox_const_t *out, ox_err_t *e);
int of_transpose(const ox_const_t *in, const int64_t *perm, ox_const_t *out, ox_err_t *e);
int of_slice(const ox_const_t *in, const int64_t *starts, const int64_t *ends, const int64_t *axes, const int64_t *steps,
             size_t n, ox_const_t *out, ox_err_t *e);
int of_binary(char op, const ox_const_t *a, const ox_const_t *b, ox_const_t *out, ox_err_t *e);
int of_unary(char kind, bool to_float, const ox_const_t *in, ox_const_t *out, ox_err_t *e);

#endif
