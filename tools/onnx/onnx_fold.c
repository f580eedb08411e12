/* Constant folding of the shape arithmetic exporters emit around Resize and Pad: Shape (of a
 * runtime tensor: its H and W stay symbolic), Gather, Concat, Unsqueeze, Squeeze, Cast, Slice,
 * Reshape, Transpose, ConstantOfShape, Add/Sub/Mul/Div, Floor, Ceil. */
#include "onnx_fold.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void strides_of(const ox_const_t *c, size_t *st)
{
    size_t s = 1;
    for (int d = c->rank - 1; d >= 0; d--) {
        st[d] = s;
        s *= (size_t)c->dims[d];
    }
}

static void copy_elem(ox_const_t *dst, size_t i, const ox_const_t *src, size_t j)
{
    dst->v[i] = src->v[j];
    if (dst->sym) dst->sym[i] = src->sym ? src->sym[j] : (ox_sym_t){SYM_KNOWN, 0, 0};
}

/* A value as an integer (for indices, axes, shapes): symbolic elements refused. */
int of_int(const ox_const_t *c, size_t i, int64_t *out, ox_err_t *e)
{
    if (c->sym && c->sym[i].src != SYM_KNOWN)
        return ox_fail(e, "a value that depends on the input's size is used as an index or shape");
    double v = c->v[i];
    if (!isfinite(v) || v != floor(v)) return ox_fail(e, "%g is not an integer", v);
    /* INT64_MIN / INT64_MAX (Slice's "to the end") clamp: no shape comes near */
    *out = v >= 4.6e18 ? (int64_t)1 << 62 : v <= -4.6e18 ? -((int64_t)1 << 62) : (int64_t)v;
    return 0;
}

static int norm_axis(int64_t a, int rank, int64_t *out, ox_err_t *e)
{
    if (a < -rank || a >= rank) return ox_fail(e, "axis %lld is out of range for rank %d", (long long)a, rank);
    *out = a < 0 ? a + rank : a;
    return 0;
}

int of_gather(const ox_const_t *data, const ox_const_t *idx, int64_t axis, ox_const_t *out, ox_err_t *e)
{
    int64_t ax = 0;
    if (norm_axis(axis, data->rank, &ax, e)) return -1;
    int64_t dims[OX_MAX_RANK];
    int r = 0;
    if (data->rank - 1 + idx->rank > OX_MAX_RANK) return ox_fail(e, "Gather result of too high a rank");
    for (int d = 0; d < ax; d++) dims[r++] = data->dims[d];
    for (int d = 0; d < idx->rank; d++) dims[r++] = idx->dims[d];
    for (int d = (int)ax + 1; d < data->rank; d++) dims[r++] = data->dims[d];
    if (ox_const_alloc(out, data->is_float, r, dims, data->sym != NULL, e)) return -1;
    size_t outer = 1, inner = 1, n_ax = (size_t)data->dims[ax];
    for (int d = 0; d < ax; d++) outer *= (size_t)data->dims[d];
    for (int d = (int)ax + 1; d < data->rank; d++) inner *= (size_t)data->dims[d];
    for (size_t o = 0; o < outer; o++)
        for (size_t k = 0; k < idx->n; k++) {
            int64_t j;
            if (of_int(idx, k, &j, e)) goto fail;
            if (j < -(int64_t)n_ax || j >= (int64_t)n_ax) { ox_error(e, "Gather index %lld is out of range", (long long)j); goto fail; }
            if (j < 0) j += (int64_t)n_ax;
            for (size_t i = 0; i < inner; i++)
                copy_elem(out, (o * idx->n + k) * inner + i, data, (o * n_ax + (size_t)j) * inner + i);
        }
    return 0;
fail:
    ox_const_free(out);
    return -1;
}

int of_concat(const ox_const_t *const *in, size_t n_in, int64_t axis, ox_const_t *out, ox_err_t *e)
{
    if (!n_in) return ox_fail(e, "Concat of nothing");
    int rank = in[0]->rank;
    int64_t ax = 0;
    if (norm_axis(axis, rank, &ax, e)) return -1;
    int64_t dims[OX_MAX_RANK];
    memcpy(dims, in[0]->dims, sizeof dims);
    dims[ax] = 0;
    bool sym = false, is_float = in[0]->is_float;
    for (size_t k = 0; k < n_in; k++) {
        if (in[k]->rank != rank) return ox_fail(e, "Concat of tensors of different ranks");
        for (int d = 0; d < rank; d++)
            if (d != ax && in[k]->dims[d] != in[0]->dims[d]) return ox_fail(e, "Concat of tensors of different shapes");
        dims[ax] += in[k]->dims[ax];
        sym |= in[k]->sym != NULL;
    }
    if (ox_const_alloc(out, is_float, rank, dims, sym, e)) return -1;
    size_t outer = 1, inner = 1;
    for (int d = 0; d < ax; d++) outer *= (size_t)dims[d];
    for (int d = (int)ax + 1; d < rank; d++) inner *= (size_t)dims[d];
    size_t i = 0;
    for (size_t o = 0; o < outer; o++)
        for (size_t k = 0; k < n_in; k++) {
            size_t block = (size_t)in[k]->dims[ax] * inner;
            for (size_t j = 0; j < block; j++) copy_elem(out, i++, in[k], o * block + j);
        }
    return 0;
}

/* Same elements, new shape (Reshape, Unsqueeze, Squeeze, Flatten of constants). */
int of_reshape(const ox_const_t *in, int rank, const int64_t *dims, ox_const_t *out, ox_err_t *e)
{
    if (ox_const_alloc(out, in->is_float, rank, dims, in->sym != NULL, e)) return -1;
    if (out->n != in->n) {
        ox_const_free(out);
        return ox_fail(e, "reshaping %zu elements to %zu", in->n, out->n);
    }
    for (size_t i = 0; i < in->n; i++) copy_elem(out, i, in, i);
    return 0;
}

int of_transpose(const ox_const_t *in, const int64_t *perm, ox_const_t *out, ox_err_t *e)
{
    int64_t dims[OX_MAX_RANK];
    bool seen[OX_MAX_RANK] = {0};
    for (int d = 0; d < in->rank; d++) {
        if (perm[d] < 0 || perm[d] >= in->rank || seen[perm[d]]) return ox_fail(e, "Transpose perm is not a permutation");
        seen[perm[d]] = true;
        dims[d] = in->dims[perm[d]];
    }
    if (ox_const_alloc(out, in->is_float, in->rank, dims, in->sym != NULL, e)) return -1;
    size_t ist[OX_MAX_RANK], idx[OX_MAX_RANK] = {0};
    strides_of(in, ist);
    for (size_t i = 0; i < out->n; i++) {
        size_t j = 0;
        for (int d = 0; d < in->rank; d++) j += idx[d] * ist[perm[d]];
        copy_elem(out, i, in, j);
        for (int d = in->rank - 1; d >= 0; d--) {
            if (++idx[d] < (size_t)dims[d]) break;
            idx[d] = 0;
        }
    }
    return 0;
}

int of_slice(const ox_const_t *in, const int64_t *starts, const int64_t *ends, const int64_t *axes, const int64_t *steps,
             size_t n, ox_const_t *out, ox_err_t *e)
{
    int64_t st[OX_MAX_RANK], step[OX_MAX_RANK], dims[OX_MAX_RANK];
    for (int d = 0; d < in->rank; d++) st[d] = 0, step[d] = 1, dims[d] = in->dims[d];
    for (size_t k = 0; k < n; k++) {
        int64_t a = 0;
        if (norm_axis(axes ? axes[k] : (int64_t)k, in->rank, &a, e)) return -1;
        int64_t dim = in->dims[a], s = starts[k], en = ends[k], sp = steps ? steps[k] : 1;
        if (sp == 0) return ox_fail(e, "Slice step 0");
        if (s < 0) s += dim;
        if (en < 0) en += dim;
        if (sp > 0) {
            s = s < 0 ? 0 : s > dim ? dim : s;
            en = en < 0 ? 0 : en > dim ? dim : en;
            dims[a] = en > s ? (en - s + sp - 1) / sp : 0;
        } else {
            s = s < 0 ? -1 : s > dim - 1 ? dim - 1 : s;
            en = en < -1 ? -1 : en > dim - 1 ? dim - 1 : en;
            dims[a] = s > en ? (s - en - sp - 1) / -sp : 0;
        }
        st[a] = s, step[a] = sp;
    }
    if (ox_const_alloc(out, in->is_float, in->rank, dims, in->sym != NULL, e)) return -1;
    size_t ist[OX_MAX_RANK], idx[OX_MAX_RANK] = {0};
    strides_of(in, ist);
    for (size_t i = 0; i < out->n; i++) {
        size_t j = 0;
        for (int d = 0; d < in->rank; d++) j += (size_t)(st[d] + (int64_t)idx[d] * step[d]) * ist[d];
        copy_elem(out, i, in, j);
        for (int d = in->rank - 1; d >= 0; d--) {
            if (++idx[d] < (size_t)dims[d]) break;
            idx[d] = 0;
        }
    }
    return 0;
}

/* Elementwise arithmetic with numpy broadcasting. op: '+', '-', '*', '/'. Symbolic elements
 * survive multiplication and division by known numbers; anything else on them is unknown. */
int of_binary(char op, const ox_const_t *a, const ox_const_t *b, ox_const_t *out, ox_err_t *e)
{
    int rank = a->rank > b->rank ? a->rank : b->rank;
    int64_t dims[OX_MAX_RANK], da[OX_MAX_RANK], db[OX_MAX_RANK];
    for (int d = 0; d < rank; d++) {
        int ia = d - (rank - a->rank), ib = d - (rank - b->rank);
        da[d] = ia >= 0 ? a->dims[ia] : 1;
        db[d] = ib >= 0 ? b->dims[ib] : 1;
        if (da[d] != db[d] && da[d] != 1 && db[d] != 1) return ox_fail(e, "shapes that do not broadcast");
        dims[d] = da[d] == 1 ? db[d] : da[d];
    }
    bool is_float = a->is_float || b->is_float;
    if (ox_const_alloc(out, is_float, rank, dims, a->sym || b->sym, e)) return -1;
    size_t idx[OX_MAX_RANK] = {0};
    for (size_t i = 0; i < out->n; i++) {
        size_t ja = 0, jb = 0;
        for (int d = 0; d < rank; d++) {
            ja = ja * (size_t)da[d] + (da[d] == 1 ? 0 : idx[d]);
            jb = jb * (size_t)db[d] + (db[d] == 1 ? 0 : idx[d]);
        }
        double x = a->v[ja], y = b->v[jb], r;
        switch (op) {
        case '+': r = x + y; break;
        case '-': r = x - y; break;
        case '*': r = x * y; break;
        default:
            if (!is_float && y == 0) { ox_const_free(out); return ox_fail(e, "integer division by zero"); }
            r = is_float ? x / y : trunc(x / y);
            break;
        }
        out->v[i] = r;
        if (out->sym) {
            ox_sym_t sa = a->sym ? a->sym[ja] : (ox_sym_t){SYM_KNOWN, 0, 0};
            ox_sym_t sb = b->sym ? b->sym[jb] : (ox_sym_t){SYM_KNOWN, 0, 0};
            ox_sym_t s = {SYM_KNOWN, 0, 0};
            if (sa.src == SYM_KNOWN && sb.src == SYM_KNOWN) s = sa;
            else if (sa.src >= 0 && sb.src == SYM_KNOWN && op == '*') s = (ox_sym_t){sa.src, sa.axis, sa.mul * y};
            else if (sa.src >= 0 && sb.src == SYM_KNOWN && op == '/' && is_float && y != 0) s = (ox_sym_t){sa.src, sa.axis, sa.mul / y};
            else if (sb.src >= 0 && sa.src == SYM_KNOWN && op == '*') s = (ox_sym_t){sb.src, sb.axis, sb.mul * x};
            else s.src = SYM_UNKNOWN;
            out->sym[i] = s;
        }
        for (int d = rank - 1; d >= 0; d--) {
            if (++idx[d] < (size_t)dims[d]) break;
            idx[d] = 0;
        }
    }
    return 0;
}

/* Cast (to_float), Floor, Ceil (kind 'c', 'f', 'C'): symbolic elements stay so while exact. */
int of_unary(char kind, bool to_float, const ox_const_t *in, ox_const_t *out, ox_err_t *e)
{
    if (ox_const_alloc(out, kind == 'c' ? to_float : in->is_float, in->rank, in->dims, in->sym != NULL, e)) return -1;
    for (size_t i = 0; i < in->n; i++) {
        double v = in->v[i];
        if (kind == 'f') v = floor(v);
        else if (kind == 'C') v = ceil(v);
        else if (!to_float) v = trunc(v);
        out->v[i] = v;
        if (out->sym) {
            out->sym[i] = in->sym[i];
            bool exact = in->sym[i].mul == floor(in->sym[i].mul);
            if (in->sym[i].src >= 0 && !exact && (kind != 'c' || !to_float)) out->sym[i].src = SYM_UNKNOWN;
        }
    }
    return 0;
}
