/* ONNX graph -> vkstyle layers. Nodes are taken in dependency order (a cycle or an input that
 * nothing defines is an error); constant subgraphs are folded (onnx_fold.c); Pad before Conv
 * becomes the conv's padding, Relu/Tanh/Sigmoid after Conv/InstanceNorm/BatchNorm its fused
 * activation, Add of a normalization and an earlier value its residual, and Mul/Add/Sub/Div by
 * scalars or per-channel constants fold into the previous layer's weights or scale and offset.
 * Anything else is refused naming the node: "node 'Conv_12' (Conv): group = 4 is not supported". */
#include "onnx_fold.h"
#include "onnx_graph.h"

#include <errno.h>
#include <float.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>

typedef struct nctx {   /* the node being translated, for messages */
    ox_graph_t *g;
    const Onnx__NodeProto *n;
    char id[160];
} nctx_t;

/* NFAIL(N, ...): the node's error, and -1 (in the macro, as ox_fail's) */
#define NFAIL(N, ...) (node_error(N, __VA_ARGS__), -1)
static void __attribute__((format(printf, 2, 3))) node_error(nctx_t *N, const char *fmt, ...)
{
    char msg[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    ox_error(N->g->e, "%s: %s", N->id, msg);
}

/* ------------------------------------------------------------------ values */

static ox_value_t *find_value(ox_graph_t *g, const char *name)
{
    for (size_t i = g->nvals; i-- > 0;)
        if (!strcmp(g->vals[i].name, name)) return &g->vals[i];
    return NULL;
}

static ox_value_t *new_value(ox_graph_t *g, const char *name)
{
    if (find_value(g, name)) return ox_error(g->e, "value '%s' is defined twice", name), NULL;
    if (g->nvals == g->capvals) {
        size_t cap = g->capvals ? 2 * g->capvals : 64;
        ox_value_t *v = realloc(g->vals, cap * sizeof *v);
        if (!v) return ox_error(g->e, "out of memory"), NULL;
        g->vals = v, g->capvals = cap;
    }
    ox_value_t *v = &g->vals[g->nvals++];
    *v = (ox_value_t){.name = name, .src = -1};
    /* its consumers: the node inputs and graph outputs that name it */
    for (size_t i = 0; g->gr && i < g->gr->n_node; i++)
        for (size_t k = 0; k < g->gr->node[i]->n_input; k++)
            v->consumers += g->gr->node[i]->input[k] && !strcmp(g->gr->node[i]->input[k], name);
    for (size_t i = 0; g->gr && i < g->gr->n_output; i++) v->consumers += g->gr->output[i]->name && !strcmp(g->gr->output[i]->name, name);
    return v;
}

/* The fixed size of value src (0: known only when a session is made). */
static void src_hw(const ox_graph_t *g, int src, int64_t *h, int64_t *w)
{
    if (src > 0) *h = g->layers[src - 1].oh, *w = g->layers[src - 1].ow;
    else *h = g->in_h, *w = g->in_w;
}

static ox_layer_t *new_layer(nctx_t *N, int op, int src, uint32_t channels)
{
    ox_graph_t *g = N->g;
    if (g->nlayers == g->caplayers) {
        size_t cap = g->caplayers ? 2 * g->caplayers : 64;
        ox_layer_t *l = realloc(g->layers, cap * sizeof *l);
        if (!l) return ox_error(g->e, "out of memory"), NULL;
        g->layers = l, g->caplayers = cap;
    }
    if (g->nlayers >= 1024) return node_error(N, "more than 1024 layers"), NULL;
    ox_layer_t *l = &g->layers[g->nlayers++];
    *l = (ox_layer_t){.op = op, .src = src, .src2 = -1, .residual = -1, .scale = 1, .cmin = -FLT_MAX, .cmax = FLT_MAX,
                      .stride = {1, 1}, .ups = {2, 2}, .eps = 1e-5f, .channels = channels};
    src_hw(g, src, &l->oh, &l->ow);   /* the ops that change the size set it */
    const char *nm = N->n->name && *N->n->name ? N->n->name : NULL;
    char base[48];
    if (nm) {
        size_t k = 0;
        for (const char *p = nm; *p && k < 40; p++)
            base[k++] = (*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9') || *p == '.' ||
                                *p == '_' || *p == '-' ? *p : '_';
        base[k] = 0;
        while (base[0] == '_' || base[0] == '.') memmove(base, base + 1, strlen(base));
    } else {
        base[0] = 0;
    }
    if (!base[0] || !strcmp(base, "input")) snprintf(base, sizeof base, "node%zu", g->nlayers - 1);
    snprintf(l->name, sizeof l->name, "%s", base);
    for (int k = 2;; k++) {
        bool dup = false;
        for (size_t j = 0; j + 1 < g->nlayers && !dup; j++) dup = !strcmp(g->layers[j].name, l->name);
        if (!dup) break;
        snprintf(l->name, sizeof l->name, "%s_%d", base, k);
    }
    return l;
}

static ox_layer_t *layer_of(ox_graph_t *g, int src) { return src > 0 ? &g->layers[src - 1] : NULL; }

static int tensor_set(nctx_t *N, ox_layer_t *l, int slot, const ox_const_t *c, int rank, const int64_t *dims)
{
    ox_tensor_t *t = &l->t[slot];
    free(t->data);
    *t = (ox_tensor_t){.rank = rank};
    size_t n = 1;
    for (int d = 0; d < rank; d++) n *= (size_t)(t->dims[d] = dims[d]);
    if (n != c->n) return NFAIL(N, "a constant of %zu elements where %zu are needed", c->n, n);
    if (!(t->data = malloc(n * sizeof *t->data))) return ox_fail(N->g->e, "out of memory");
    t->n = n;
    for (size_t i = 0; i < n; i++) {
        if (!isfinite(c->v[i]) || fabs(c->v[i]) > FLT_MAX) return NFAIL(N, "a weight is NaN, infinite or too large for float32");
        t->data[i] = (float)c->v[i];
    }
    return 0;
}

static int tensor_fill(nctx_t *N, ox_layer_t *l, int slot, size_t n, float v)
{
    ox_tensor_t *t = &l->t[slot];
    free(t->data);
    *t = (ox_tensor_t){.rank = 1, .dims = {(int64_t)n}, .n = n};
    if (!(t->data = malloc((n ? n : 1) * sizeof *t->data))) return ox_fail(N->g->e, "out of memory");
    for (size_t i = 0; i < n; i++) t->data[i] = v;
    return 0;
}

/* ------------------------------------------------------------------ attributes */

static const Onnx__AttributeProto *attr(const Onnx__NodeProto *n, const char *name)
{
    for (size_t i = 0; i < n->n_attribute; i++)
        if (n->attribute[i]->name && !strcmp(n->attribute[i]->name, name)) return n->attribute[i];
    return NULL;
}

/* Every attribute of the node must be in the comma-separated list of those this op handles. */
static int check_attrs(nctx_t *N, const char *known)
{
    for (size_t i = 0; i < N->n->n_attribute; i++) {
        const Onnx__AttributeProto *a = N->n->attribute[i];
        const char *nm = a->name ? a->name : "";
        if (a->ref_attr_name && *a->ref_attr_name) return NFAIL(N, "attribute references are not supported");
        size_t len = strlen(nm);
        bool ok = false;
        for (const char *p = known; *p && !ok;) {
            const char *c = strchr(p, ',');
            size_t l = c ? (size_t)(c - p) : strlen(p);
            ok = l == len && !strncmp(p, nm, l);
            p += l + (c != NULL);
        }
        if (!ok) return NFAIL(N, "attribute '%s' is not supported", nm);
    }
    return 0;
}

static int64_t attr_int(const Onnx__NodeProto *n, const char *name, int64_t def)
{
    const Onnx__AttributeProto *a = attr(n, name);
    return a && a->has_i ? a->i : def;
}

static float attr_float(const Onnx__NodeProto *n, const char *name, float def)
{
    const Onnx__AttributeProto *a = attr(n, name);
    return a && a->has_f ? a->f : def;
}

static void attr_str(const Onnx__NodeProto *n, const char *name, const char *def, char *out, size_t size)
{
    const Onnx__AttributeProto *a = attr(n, name);
    if (!a || !a->has_s) { snprintf(out, size, "%s", def); return; }
    size_t l = a->s.len < size - 1 ? a->s.len : size - 1;
    for (size_t i = 0; i < l; i++) out[i] = a->s.data[i] >= 0x20 && a->s.data[i] < 0x7f ? (char)a->s.data[i] : '?';
    out[l] = 0;
}

/* An ints attribute of exactly want entries (or absent: def for all). */
static int attr_ints(nctx_t *N, const char *name, size_t want, int64_t def, int64_t *out)
{
    const Onnx__AttributeProto *a = attr(N->n, name);
    for (size_t i = 0; i < want; i++) out[i] = def;
    if (!a) return 0;
    if (a->n_ints != want) return NFAIL(N, "'%s' has %zu values, expected %zu", name, a->n_ints, want);
    memcpy(out, a->ints, want * sizeof *out);
    return 0;
}

/* ------------------------------------------------------------------ inputs */

static ox_value_t *input(nctx_t *N, size_t i)
{
    if (i >= N->n->n_input || !N->n->input[i] || !*N->n->input[i]) return NULL;
    return find_value(N->g, N->n->input[i]);
}

static int need_dyn(nctx_t *N, size_t i, ox_value_t **out)
{
    ox_value_t *v = input(N, i);
    if (!v) return NFAIL(N, "input %zu is missing", i);
    if (v->kind != V_DYN) return NFAIL(N, "input %zu ('%s') is a constant, not the image tensor", i, v->name);
    *out = v;
    return 0;
}

/* An input that must be an image tensor [1,C,H,W] (or [C,H,W] in tensor mode). */
static int need_img(nctx_t *N, size_t i, ox_value_t **out)
{
    if (need_dyn(N, i, out)) return -1;
    if ((*out)->rank < 3) return NFAIL(N, "an input of rank %d (image tensors [N,C,H,W] only)", (*out)->rank);
    return 0;
}

static int need_const(nctx_t *N, size_t i, const char *what, bool optional, ox_const_t **out)
{
    ox_value_t *v = input(N, i);
    *out = NULL;
    if (!v) return optional ? 0 : NFAIL(N, "input %zu (%s) is missing", i, what);
    if (v->kind != V_CONST) return NFAIL(N, "input %zu (%s) must be a constant (an initializer or folded Constant)", i, what);
    *out = &v->c;
    return 0;
}

/* A constant holding exactly n elements with no symbolic ones (or n = 0: any count). */
static int const_ints(nctx_t *N, const ox_const_t *c, const char *what, int64_t *out, size_t max, size_t *n)
{
    if (c->n > max) return NFAIL(N, "%s has %zu values", what, c->n);
    char sub[256] = "";
    ox_err_t se = {sub, sizeof sub, NULL};
    for (size_t i = 0; i < c->n; i++)
        if (of_int(c, i, &out[i], &se)) return NFAIL(N, "%s: %s", what, sub);
    *n = c->n;
    return 0;
}

static int bind_const(nctx_t *N, size_t out_i, ox_const_t *c)
{
    if (out_i >= N->n->n_output || !N->n->output[out_i] || !*N->n->output[out_i]) { ox_const_free(c); return 0; }
    ox_value_t *v = new_value(N->g, N->n->output[out_i]);
    if (!v) { ox_const_free(c); return -1; }
    v->kind = V_CONST;
    v->c = *c;
    *c = (ox_const_t){0};
    return 0;
}

/* The node's output value as a runtime tensor produced by src. */
static int bind_dyn(nctx_t *N, size_t out_i, int src, uint32_t ch, int rank)
{
    if (out_i >= N->n->n_output || !N->n->output[out_i] || !*N->n->output[out_i]) return 0;
    ox_value_t *v = new_value(N->g, N->n->output[out_i]);
    if (!v) return -1;
    v->kind = V_DYN, v->src = src, v->ch = ch, v->rank = rank;
    ox_layer_t *l = layer_of(N->g, src);
    if (l) l->refs += v->consumers;
    return 0;
}

/* The layer producing x when this node is the only consumer of what it produces (refs counts
 * every ONNX consumer of its values, ever): it can then be changed in place. */
static ox_layer_t *sole_producer(nctx_t *N, const ox_value_t *x)
{
    ox_layer_t *l = layer_of(N->g, x->src);
    return l && l->refs == 1 ? l : NULL;
}

/* The node's output is x again (Identity, an empty Pad, a x1 Resize): this node is no consumer,
 * its output's consumers are (bind_dyn adds them). */
static void alias(nctx_t *N, const ox_value_t *x)
{
    ox_layer_t *l = layer_of(N->g, x->src);
    if (l) l->refs--;
}

/* ------------------------------------------------------------------ the ops */

static int op_conv(nctx_t *N)
{
    ox_value_t *x = NULL;
    ox_const_t *w, *b;
    if (check_attrs(N, "auto_pad,dilations,group,kernel_shape,pads,strides") || need_img(N, 0, &x) ||
        need_const(N, 1, "weight", false, &w) || need_const(N, 2, "bias", true, &b))
        return -1;
    if (w->rank != 4) return NFAIL(N, "a weight of rank %d (only 2-D convolutions are supported)", w->rank);
    int64_t group = attr_int(N->n, "group", 1), dil[2], st[2], pads[4], ks[2];
    if (group != 1) return NFAIL(N, "group = %lld is not supported", (long long)group);
    if (attr_ints(N, "dilations", 2, 1, dil) || attr_ints(N, "strides", 2, 1, st) || attr_ints(N, "pads", 4, 0, pads) ||
        attr_ints(N, "kernel_shape", 2, 0, ks))
        return -1;
    if (dil[0] != 1 || dil[1] != 1) return NFAIL(N, "dilations = [%lld,%lld] is not supported", (long long)dil[0], (long long)dil[1]);
    for (int d = 0; d < 2; d++)
        if (st[d] < 1 || st[d] > 4) return NFAIL(N, "strides = [%lld,%lld] is not supported (1..4)", (long long)st[0], (long long)st[1]);
    if ((ks[0] && ks[0] != w->dims[2]) || (ks[1] && ks[1] != w->dims[3])) return NFAIL(N, "kernel_shape does not match the weight");
    if (w->dims[1] != x->ch) return NFAIL(N, "the weight takes %lld channels, the input has %u", (long long)w->dims[1], x->ch);
    if (w->dims[2] > 15 || w->dims[3] > 15) return NFAIL(N, "a %lldx%lld kernel is not supported (at most 15x15)", (long long)w->dims[2], (long long)w->dims[3]);
    if (b && (b->n != (size_t)w->dims[0])) return NFAIL(N, "the bias has %zu values for %lld outputs", b->n, (long long)w->dims[0]);
    char ap[32];
    attr_str(N->n, "auto_pad", "NOTSET", ap, sizeof ap);
    bool same = false;
    int64_t ih, iw;
    src_hw(N->g, x->src, &ih, &iw);
    if (!strcmp(ap, "SAME_UPPER") || !strcmp(ap, "SAME_LOWER")) {
        bool lower = ap[5] == 'L';
        /* a fixed size: explicit pads (SAME_LOWER puts the odd one first); pixel models run at
           any size, so there only where "same" cannot say it */
        if (ih && iw && (N->g->tensor_mode || lower)) {
            int64_t in[2] = {ih, iw};
            for (int d = 0; d < 2; d++) {
                int64_t out = (in[d] + st[d] - 1) / st[d], total = (out - 1) * st[d] + w->dims[2 + d] - in[d];
                if (total < 0) total = 0;
                pads[d] = lower ? total - total / 2 : total / 2;
                pads[d + 2] = total - pads[d];
            }
        } else if (!lower) {
            same = true;
        } else if (st[0] == 1 && st[1] == 1 && (w->dims[2] & 1) && (w->dims[3] & 1)) {
            pads[0] = pads[2] = w->dims[2] / 2, pads[1] = pads[3] = w->dims[3] / 2;   /* symmetric */
        } else {
            return NFAIL(N, "auto_pad = SAME_LOWER is not supported for input sizes fixed only at run time");
        }
    } else if (!strcmp(ap, "VALID")) memset(pads, 0, sizeof pads);
    else if (strcmp(ap, "NOTSET")) return NFAIL(N, "auto_pad = %s is not supported", ap);
    if (same && st[0] != st[1]) return NFAIL(N, "auto_pad = SAME_UPPER with unequal strides is not supported");
    for (int d = 0; d < 4; d++)
        if (pads[d] < 0 || pads[d] > 15) return NFAIL(N, "pads = %lld is not supported (0..15)", (long long)pads[d]);
    /* ONNX pads: [top, left, bottom, right] */
    int p[4] = {(int)pads[0], (int)pads[2], (int)pads[1], (int)pads[3]}, mode = PM_ZERO, src = x->src;
    ox_layer_t *pl = sole_producer(N, x);
    if (pl && pl->op == L_PAD && !same) {
        bool fits = true, zero_conv = !p[0] && !p[1] && !p[2] && !p[3];
        for (int d = 0; d < 4; d++) fits &= pl->pads[d] + p[d] <= 15;
        if (fits && (zero_conv || (pl->pad_mode == PM_ZERO && pl->pad_value == 0)) &&
            (pl->pad_mode != PM_ZERO || pl->pad_value == 0)) {
            for (int d = 0; d < 4; d++) p[d] += pl->pads[d];
            mode = pl->pad_mode;
            src = pl->src;
            pl->dead = true;
        }
    }
    ox_layer_t *l = new_layer(N, L_CONV, src, (uint32_t)w->dims[0]);
    if (!l) return -1;
    if (l->oh && l->ow) {
        int64_t s0 = st[0], s1 = st[1];
        l->oh = same ? (l->oh + s0 - 1) / s0 : (l->oh + p[0] + p[1] - w->dims[2]) / s0 + 1;
        l->ow = same ? (l->ow + s1 - 1) / s1 : (l->ow + p[2] + p[3] - w->dims[3]) / s1 + 1;
        if (l->oh < 1 || l->ow < 1) return NFAIL(N, "the kernel is larger than the padded input");
    }
    memcpy(l->pads, p, sizeof p);
    l->pad_mode = mode, l->same = same, l->stride[0] = (int)st[0], l->stride[1] = (int)st[1];
    if (tensor_set(N, l, T_WEIGHT, w, 4, w->dims) || (b && tensor_set(N, l, T_BIAS, b, 1, (int64_t[]){w->dims[0]}))) return -1;
    return bind_dyn(N, 0, (int)N->g->nlayers, l->channels, x->rank);
}

static int op_convtranspose(nctx_t *N)
{
    ox_value_t *x = NULL;
    ox_const_t *w, *b;
    if (check_attrs(N, "auto_pad,dilations,group,kernel_shape,output_padding,pads,strides") || need_img(N, 0, &x) ||
        need_const(N, 1, "weight", false, &w) || need_const(N, 2, "bias", true, &b))
        return -1;
    if (w->rank != 4) return NFAIL(N, "a weight of rank %d (only 2-D convolutions are supported)", w->rank);
    int64_t group = attr_int(N->n, "group", 1), dil[2], st[2], pads[4], op[2], ks[2];
    if (group != 1) return NFAIL(N, "group = %lld is not supported", (long long)group);
    if (attr(N->n, "output_shape")) return NFAIL(N, "output_shape is not supported");
    if (attr_ints(N, "dilations", 2, 1, dil) || attr_ints(N, "strides", 2, 1, st) || attr_ints(N, "pads", 4, 0, pads) ||
        attr_ints(N, "output_padding", 2, 0, op) || attr_ints(N, "kernel_shape", 2, 0, ks))
        return -1;
    char ap[32];
    attr_str(N->n, "auto_pad", "NOTSET", ap, sizeof ap);
    if (!strcmp(ap, "VALID")) {
        memset(pads, 0, sizeof pads);
    } else if (!strcmp(ap, "SAME_UPPER") || !strcmp(ap, "SAME_LOWER")) {
        /* out = in * stride: total padding k - stride + output_padding, the odd one at the end
           (SAME_UPPER) or the start (checked against test_convtranspose_autopad_same) */
        for (int d = 0; d < 2; d++) {
            int64_t total = w->dims[2 + d] - st[d] + op[d];
            if (total < 0) return NFAIL(N, "auto_pad = %s with a kernel smaller than the stride is not supported", ap);
            pads[d] = ap[5] == 'U' ? total / 2 : total - total / 2;
            pads[d + 2] = total - pads[d];
        }
    } else if (strcmp(ap, "NOTSET")) {
        return NFAIL(N, "auto_pad = %s is not supported", ap);
    }
    if (dil[0] != 1 || dil[1] != 1) return NFAIL(N, "dilations = [%lld,%lld] is not supported", (long long)dil[0], (long long)dil[1]);
    for (int d = 0; d < 2; d++) {
        if (st[d] < 1 || st[d] > 4) return NFAIL(N, "strides = [%lld,%lld] is not supported (1..4)", (long long)st[0], (long long)st[1]);
        if (op[d] < 0 || op[d] >= st[d]) return NFAIL(N, "output_padding = %lld is not supported (0..stride-1)", (long long)op[d]);
    }
    if ((ks[0] && ks[0] != w->dims[2]) || (ks[1] && ks[1] != w->dims[3])) return NFAIL(N, "kernel_shape does not match the weight");
    if (w->dims[0] != x->ch) return NFAIL(N, "the weight takes %lld channels, the input has %u", (long long)w->dims[0], x->ch);
    if (w->dims[2] > 15 || w->dims[3] > 15) return NFAIL(N, "a %lldx%lld kernel is not supported (at most 15x15)", (long long)w->dims[2], (long long)w->dims[3]);
    for (int d = 0; d < 4; d++)
        if (pads[d] < 0 || pads[d] >= w->dims[2 + d % 2]) return NFAIL(N, "pads = %lld is not supported (0..kernel-1)", (long long)pads[d]);
    if (b && (b->n != (size_t)w->dims[1])) return NFAIL(N, "the bias has %zu values for %lld outputs", b->n, (long long)w->dims[1]);
    ox_layer_t *l = new_layer(N, L_CONVT, x->src, (uint32_t)w->dims[1]);
    if (!l) return -1;
    if (l->oh && l->ow) {
        l->oh = (l->oh - 1) * st[0] + w->dims[2] - pads[0] - pads[2] + op[0];
        l->ow = (l->ow - 1) * st[1] + w->dims[3] - pads[1] - pads[3] + op[1];
    }
    l->pads[0] = (int)pads[0], l->pads[1] = (int)pads[2], l->pads[2] = (int)pads[1], l->pads[3] = (int)pads[3];
    l->stride[0] = (int)st[0], l->stride[1] = (int)st[1], l->out_pad[0] = (int)op[0], l->out_pad[1] = (int)op[1];
    /* the original form (out = stride * in, padding p before) when it says the same */
    int64_t kh = w->dims[2], kw = w->dims[3], s = st[0], p0 = pads[0];
    l->convt_general = !(st[0] == st[1] && s <= 2 && pads[1] == p0 && kh - p0 - pads[2] + op[0] == s &&
                         kw - p0 - pads[3] + op[1] == s);
    if (tensor_set(N, l, T_WEIGHT, w, 4, w->dims) || (b && tensor_set(N, l, T_BIAS, b, 1, (int64_t[]){w->dims[1]}))) return -1;
    return bind_dyn(N, 0, (int)N->g->nlayers, l->channels, x->rank);
}

static int per_channel(nctx_t *N, const ox_const_t *c, uint32_t ch, const char *what)
{
    if (c->rank != 1 || c->n != ch) return NFAIL(N, "%s has %zu values for %u channels", what, c->n, ch);
    return 0;
}

static int op_norm(nctx_t *N, bool batch)
{
    ox_value_t *x = NULL;
    ox_const_t *sc, *bi, *mean = NULL, *var = NULL;
    if (check_attrs(N, batch ? "epsilon,momentum,spatial,training_mode,consumed_inputs" : "epsilon") || need_img(N, 0, &x) ||
        need_const(N, 1, "scale", false, &sc) || need_const(N, 2, "B", false, &bi) ||
        (batch && (need_const(N, 3, "mean", false, &mean) || need_const(N, 4, "var", false, &var))))
        return -1;
    if (batch && attr_int(N->n, "training_mode", 0)) return NFAIL(N, "training_mode = 1 is not supported");
    if (batch && attr_int(N->n, "spatial", 1) != 1) return NFAIL(N, "spatial = 0 is not supported");
    if (batch && attr(N->n, "consumed_inputs")) return NFAIL(N, "consumed_inputs is not supported (opset < 6)");
    for (size_t k = 1; k < N->n->n_output; k++) {
        if (N->n->output[k] && *N->n->output[k]) return NFAIL(N, "training outputs are not supported");
    }
    float eps = attr_float(N->n, "epsilon", 1e-5f);
    if (!(eps >= 1e-12f && eps <= 1.0f)) return NFAIL(N, "epsilon = %g is not supported (1e-12..1)", (double)eps);
    if (per_channel(N, sc, x->ch, "scale") || per_channel(N, bi, x->ch, "B") ||
        (batch && (per_channel(N, mean, x->ch, "mean") || per_channel(N, var, x->ch, "var"))))
        return -1;
    if (batch)
        for (size_t i = 0; i < var->n; i++)
            if (var->v[i] < 0) return NFAIL(N, "a negative variance");
    ox_layer_t *l = new_layer(N, batch ? L_BN : L_IN, x->src, x->ch);
    if (!l) return -1;
    l->eps = eps;
    int64_t d[1] = {x->ch};
    if (tensor_set(N, l, T_GAMMA, sc, 1, d) || tensor_set(N, l, T_BETA, bi, 1, d) ||
        (batch && (tensor_set(N, l, T_MEAN, mean, 1, d) || tensor_set(N, l, T_VAR, var, 1, d))))
        return -1;
    return bind_dyn(N, 0, (int)N->g->nlayers, l->channels, x->rank);
}

/* An activation: fused into the producing conv / norm layer where it can be, else a layer. */
static int emit_act(nctx_t *N, ox_value_t *x, int act, float alpha, float cmin, float cmax)
{
    ox_layer_t *p = sole_producer(N, x);
    bool fusable_op = p && (p->op == L_CONV || p->op == L_CONVT || p->op == L_IN || p->op == L_BN);
    if (act <= A_SIGMOID && fusable_op && p->act == A_NONE && p->residual < 0) {
        p->act = act;
        p->refs--;
        return bind_dyn(N, 0, x->src, x->ch, x->rank);
    }
    if (p && p->op == L_ACT && p->act == A_NONE && p->scale == 1 && p->offset == 0) {
        p->act = act, p->alpha = alpha, p->cmin = cmin, p->cmax = cmax;
        p->refs--;
        return bind_dyn(N, 0, x->src, x->ch, x->rank);
    }
    ox_layer_t *l = new_layer(N, L_ACT, x->src, x->ch);
    if (!l) return -1;
    l->act = act, l->alpha = alpha, l->cmin = cmin, l->cmax = cmax;
    return bind_dyn(N, 0, (int)N->g->nlayers, l->channels, x->rank);
}

static int op_act(nctx_t *N, int act)
{
    ox_value_t *x = NULL;
    if (check_attrs(N, act == A_LEAKY ? "alpha" : "") || need_dyn(N, 0, &x)) return -1;
    return emit_act(N, x, act, act == A_LEAKY ? attr_float(N->n, "alpha", 0.01f) : 0, -FLT_MAX, FLT_MAX);
}

static int op_clip(nctx_t *N)
{
    ox_value_t *x = NULL;
    float lo = -FLT_MAX, hi = FLT_MAX;
    if (N->g->opset < 11) {
        if (check_attrs(N, "min,max")) return -1;
        lo = attr_float(N->n, "min", lo), hi = attr_float(N->n, "max", hi);
    } else {
        ox_const_t *mn, *mx;
        if (check_attrs(N, "") || need_const(N, 1, "min", true, &mn) || need_const(N, 2, "max", true, &mx)) return -1;
        if ((mn && mn->n != 1) || (mx && mx->n != 1)) return NFAIL(N, "min and max must be scalars");
        if (mn) lo = (float)fmax(mn->v[0], -FLT_MAX);
        if (mx) hi = (float)fmin(mx->v[0], FLT_MAX);
    }
    if (need_dyn(N, 0, &x)) return -1;
    if (!(lo <= hi)) return NFAIL(N, "min %g is above max %g", (double)lo, (double)hi);
    if (lo == 0 && hi == FLT_MAX) return emit_act(N, x, A_RELU, 0, lo, hi);
    return emit_act(N, x, A_CLIP, 0, lo, hi);
}

/* y = x * a[c] + b[c]: folded into the producer (its weights, norm parameters or scale and
 * offset) where it is x's only consumer, else a scale-offset activation (uniform) or a batch_norm
 * with mean 0, var 1, eps 0 (per channel). */
static int emit_affine(nctx_t *N, ox_value_t *x, const double *a, const double *b, bool uniform)
{
    ox_layer_t *p = sole_producer(N, x);
    uint32_t C = x->ch;
    for (uint32_t c = 0; c < C; c++)
        if (!isfinite(a[c]) || !isfinite(b[c]) || fabs(a[c]) > 1e6 || fabs(b[c]) > 1e6)
            return NFAIL(N, "a constant operand that is not finite or larger than 1e6");
    if (p && p->act == A_NONE && p->residual < 0 && (p->op == L_CONV || p->op == L_CONVT)) {
        if (!p->t[T_BIAS].data && tensor_fill(N, p, T_BIAS, C, 0)) return -1;
        ox_tensor_t *w = &p->t[T_WEIGHT];
        size_t per = w->n / C;
        for (size_t i = 0; i < w->n; i++) {
            /* conv2d: [Cout, Cin, kh, kw]; conv2d_transpose: [Cin, Cout, kh, kw] */
            size_t c = p->op == L_CONV ? i / per : (i / (size_t)(w->dims[2] * w->dims[3])) % C;
            w->data[i] = (float)(w->data[i] * a[c]);
        }
        for (uint32_t c = 0; c < C; c++) p->t[T_BIAS].data[c] = (float)(p->t[T_BIAS].data[c] * a[c] + b[c]);
    } else if (p && p->act == A_NONE && p->residual < 0 && (p->op == L_IN || p->op == L_BN)) {
        for (uint32_t c = 0; c < C; c++) {
            p->t[T_GAMMA].data[c] = (float)(p->t[T_GAMMA].data[c] * a[c]);
            p->t[T_BETA].data[c] = (float)(p->t[T_BETA].data[c] * a[c] + b[c]);
        }
    } else if (p && p->op == L_ACT && uniform && fabs(p->scale * a[0]) <= 1e6 && fabs(p->offset * a[0] + b[0]) <= 1e6) {
        p->scale = (float)(p->scale * a[0]);
        p->offset = (float)(p->offset * a[0] + b[0]);
    } else {
        ox_layer_t *l = new_layer(N, uniform ? L_ACT : L_BN, x->src, C);
        if (!l) return -1;
        if (uniform) {
            l->scale = (float)a[0], l->offset = (float)b[0];
        } else {
            l->eps = 0;
            if (tensor_fill(N, l, T_MEAN, C, 0) || tensor_fill(N, l, T_VAR, C, 1) || tensor_fill(N, l, T_GAMMA, C, 0) ||
                tensor_fill(N, l, T_BETA, C, 0))
                return -1;
            for (uint32_t c = 0; c < C; c++) l->t[T_GAMMA].data[c] = (float)a[c], l->t[T_BETA].data[c] = (float)b[c];
        }
        return bind_dyn(N, 0, (int)N->g->nlayers, C, x->rank);
    }
    p->refs--;
    return bind_dyn(N, 0, x->src, C, x->rank);
}

static int op_binary(nctx_t *N, char op)
{
    if (check_attrs(N, "")) return -1;
    ox_value_t *a = input(N, 0), *b = input(N, 1);
    if (!a || !b) return NFAIL(N, "needs two inputs");
    if (a->kind == V_CONST && b->kind == V_CONST) {
        ox_const_t out;
        char sub[256] = "";
        ox_err_t se = {sub, sizeof sub, NULL};
        if (of_binary(op, &a->c, &b->c, &out, &se)) return NFAIL(N, "%s", sub);
        return bind_const(N, 0, &out);
    }
    if (a->kind == V_DYN && b->kind == V_DYN) {
        if (op != '+') return NFAIL(N, "two image tensors: only Add is supported");
        if (a->ch != b->ch) return NFAIL(N, "adds %u channels to %u", b->ch, a->ch);
        /* a normalization without residual, x's only consumer, and an earlier value: its residual */
        for (int k = 0; k < 2; k++) {
            ox_value_t *n = k ? b : a, *o = k ? a : b;
            ox_layer_t *p = sole_producer(N, n);
            if (p && (p->op == L_IN || p->op == L_BN) && p->residual < 0 && o->src < n->src) {
                p->residual = o->src;
                p->refs--;
                return bind_dyn(N, 0, n->src, n->ch, n->rank);
            }
        }
        ox_layer_t *l = new_layer(N, L_ADD, a->src, a->ch);
        if (!l) return -1;
        l->src2 = b->src;
        return bind_dyn(N, 0, (int)N->g->nlayers, l->channels, a->rank);
    }
    bool x_first = a->kind == V_DYN;
    ox_value_t *x = x_first ? a : b, *cv = x_first ? b : a;
    const ox_const_t *c = &cv->c;
    if (ox_const_has_sym(c)) return NFAIL(N, "a size-dependent operand is not supported");
    /* a scalar, or [C,1,1] / [1,C,1,1] (any leading 1s) */
    bool uniform = c->n == 1, ok = uniform;
    if (!ok && c->rank >= 3 && c->rank <= x->rank && c->dims[c->rank - 1] == 1 && c->dims[c->rank - 2] == 1 &&
        c->dims[c->rank - 3] == x->ch) {
        ok = true;
        for (int d = 0; d < c->rank - 3; d++) ok &= c->dims[d] == 1;
    }
    if (!ok) {
        char s[128];
        return NFAIL(N, "a constant operand of shape %s is not supported (a scalar or per-channel [C,1,1])", ox_dims_str(c, s, sizeof s));
    }
    uint32_t C = x->ch;
    double *A = malloc(2 * C * sizeof *A), *B = A ? A + C : NULL;
    if (!A) return ox_fail(N->g->e, "out of memory");
    int rc = 0;
    for (uint32_t ch = 0; ch < C; ch++) {
        double k = c->v[uniform ? 0 : ch];
        switch (op) {
        case '+': A[ch] = 1, B[ch] = k; break;
        case '-': A[ch] = x_first ? 1 : -1, B[ch] = x_first ? -k : k; break;
        case '*': A[ch] = k, B[ch] = 0; break;
        default:
            if (!x_first) { free(A); return NFAIL(N, "dividing a constant by the image tensor is not supported"); }
            if (k == 0) { free(A); return NFAIL(N, "division by zero"); }
            A[ch] = 1 / k, B[ch] = 0;
        }
    }
    rc = emit_affine(N, x, A, B, uniform);
    free(A);
    return rc;
}

static int op_pad(nctx_t *N)
{
    ox_value_t *x = NULL;
    int64_t p[8];
    size_t np = 0;
    float value = 0;
    char mode[32];
    if (N->g->opset < 11) {
        if (check_attrs(N, "mode,pads,value") || need_img(N, 0, &x)) return -1;
        const Onnx__AttributeProto *a = attr(N->n, "pads");
        if (!a || a->n_ints > 8) return NFAIL(N, "pads must list 8 values");
        np = a->n_ints;
        if (np) memcpy(p, a->ints, np * sizeof *p);
        value = attr_float(N->n, "value", 0);
    } else {
        ox_const_t *pc, *vc, *ax;
        if (check_attrs(N, "mode") || need_img(N, 0, &x) || need_const(N, 1, "pads", false, &pc) ||
            need_const(N, 2, "constant_value", true, &vc) || need_const(N, 3, "axes", true, &ax))
            return -1;
        if (ax) return NFAIL(N, "the axes input is not supported");
        if (const_ints(N, pc, "pads", p, 8, &np)) return -1;
        if (vc && vc->n != 1) return NFAIL(N, "constant_value must be a scalar");
        if (vc) value = (float)vc->v[0];
    }
    if (np != (size_t)(2 * x->rank)) return NFAIL(N, "pads has %zu values for rank %d", np, x->rank);
    int r = x->rank;
    for (int d = 0; d < r - 2; d++)
        if (p[d] || p[r + d]) return NFAIL(N, "padding the batch or channel axis is not supported");
    int pads[4] = {(int)p[r - 2], (int)p[2 * r - 2], (int)p[r - 1], (int)p[2 * r - 1]};
    for (int d = 0; d < 4; d++)
        if (p[(d & 1 ? r : 0) + r - 2 + d / 2] < 0 || p[(d & 1 ? r : 0) + r - 2 + d / 2] > 64)
            return NFAIL(N, "pads = %lld is not supported (0..64)", (long long)p[(d & 1 ? r : 0) + r - 2 + d / 2]);
    attr_str(N->n, "mode", "constant", mode, sizeof mode);
    int pm = !strcmp(mode, "constant") ? PM_ZERO : !strcmp(mode, "reflect") ? PM_REFLECT : !strcmp(mode, "edge") ? PM_EDGE : -1;
    if (pm < 0) return NFAIL(N, "mode = %s is not supported", mode);
    if (!isfinite(value) || fabsf(value) > 1e6f) return NFAIL(N, "constant_value %g is not supported", (double)value);
    if (!pads[0] && !pads[1] && !pads[2] && !pads[3]) {   /* nothing to pad */
        alias(N, x);
        return bind_dyn(N, 0, x->src, x->ch, x->rank);
    }
    ox_layer_t *l = new_layer(N, L_PAD, x->src, x->ch);
    if (!l) return -1;
    memcpy(l->pads, pads, sizeof pads);
    l->pad_mode = pm, l->pad_value = pm == PM_ZERO ? value : 0;
    if (l->oh && l->ow) l->oh += pads[0] + pads[1], l->ow += pads[2] + pads[3];
    return bind_dyn(N, 0, (int)N->g->nlayers, l->channels, x->rank);
}

/* Resize / Upsample with nearest neighbour and integer factors, where the coordinate mapping
 * replicates each pixel factor times. */
static int op_resize(nctx_t *N, bool upsample)
{
    ox_value_t *x = NULL;
    ox_const_t *sc = NULL, *sz = NULL, *roi = NULL;
    ox_const_t scales_attr = {0};
    if (upsample) {
        if (check_attrs(N, N->g->opset < 9 ? "mode,scales" : "mode") || need_img(N, 0, &x)) return -1;
        if (N->g->opset < 9) {
            const Onnx__AttributeProto *a = attr(N->n, "scales");
            if (!a || !a->n_floats || a->n_floats > 8) return NFAIL(N, "scales missing");
            if (ox_const_alloc(&scales_attr, true, 1, (int64_t[]){(int64_t)a->n_floats}, false, N->g->e)) return -1;
            for (size_t i = 0; i < a->n_floats; i++) scales_attr.v[i] = a->floats[i];
            sc = &scales_attr;
        } else if (need_const(N, 1, "scales", false, &sc)) {
            return -1;
        }
    } else if (N->g->opset < 11) {
        if (check_attrs(N, "mode") || need_img(N, 0, &x) || need_const(N, 1, "scales", false, &sc)) return -1;
    } else {
        if (check_attrs(N, "coordinate_transformation_mode,cubic_coeff_a,exclude_outside,extrapolation_value,mode,nearest_mode") ||
            need_img(N, 0, &x) || need_const(N, 1, "roi", true, &roi) || need_const(N, 2, "scales", true, &sc) ||
            need_const(N, 3, "sizes", true, &sz))
            return -1;
        if (sc && sc->n == 0) sc = NULL;
        if (sz && sz->n == 0) sz = NULL;
        if (!sc == !sz) return NFAIL(N, "exactly one of scales and sizes must be given");
    }
    int rc = -1;
    char mode[32], ct[48], nm[48];
    attr_str(N->n, "mode", "nearest", mode, sizeof mode);
    if (strcmp(mode, "nearest")) { node_error(N, "mode = %s is not supported (nearest only)", mode); goto done; }
    bool v11 = !upsample && N->g->opset >= 11;
    attr_str(N->n, "coordinate_transformation_mode", v11 ? "half_pixel" : "asymmetric", ct, sizeof ct);
    attr_str(N->n, "nearest_mode", v11 ? "round_prefer_floor" : "floor", nm, sizeof nm);
    int64_t f[2];
    int r = x->rank;
    if (sc) {
        if (sc->n != (size_t)r) { node_error(N, "scales has %zu values for rank %d", sc->n, r); goto done; }
        for (int d = 0; d < r - 2; d++)
            if (sc->v[d] != 1) { node_error(N, "scaling the batch or channel axis is not supported"); goto done; }
        for (int d = 0; d < 2; d++) {
            double s = sc->v[r - 2 + d];
            if (s != floor(s) || s < 1 || s > 8) { node_error(N, "scale %g is not supported (integers 1..8)", s); goto done; }
            f[d] = (int64_t)s;
        }
    } else {
        if (sz->n != (size_t)r) { node_error(N, "sizes has %zu values for rank %d", sz->n, r); goto done; }
        for (int d = 0; d < r - 2; d++) {
            int64_t v;
            char sub[128] = "";
            ox_err_t se = {sub, sizeof sub, NULL};
            if (of_int(sz, (size_t)d, &v, &se) || v != (d == r - 3 ? (int64_t)x->ch : N->g->batch)) { node_error(N, "sizes changes the batch or channel axis"); goto done; }
        }
        int64_t in_hw[2];
        src_hw(N->g, x->src, &in_hw[0], &in_hw[1]);
        for (int d = 0; d < 2; d++) {
            const ox_sym_t *s = sz->sym ? &sz->sym[r - 2 + d] : NULL;
            double want = sz->v[r - 2 + d];
            if ((!s || s->src == SYM_KNOWN) && in_hw[d] && want == floor(want) && want >= in_hw[d] &&
                fmod(want, (double)in_hw[d]) == 0 && want / (double)in_hw[d] <= 8) {
                f[d] = (int64_t)(want / (double)in_hw[d]);   /* a fixed input size and fixed sizes */
                continue;
            }
            if (!s || s->src != x->src || s->axis != 2 + d || s->mul != floor(s->mul) || s->mul < 1 || s->mul > 8) {
                node_error(N, "sizes must be an integer multiple 1..8 of the input's own height and width");
                goto done;
            }
            f[d] = (int64_t)s->mul;
        }
    }
    /* which coordinate modes replicate for these factors */
    bool ok;
    bool any2 = f[0] <= 2 && f[1] <= 2;
    if (!strcmp(ct, "asymmetric")) ok = !strcmp(nm, "floor") || (!strcmp(nm, "round_prefer_floor") && any2);
    else if (!strcmp(ct, "half_pixel") || !strcmp(ct, "pytorch_half_pixel"))
        ok = !strcmp(nm, "round_prefer_floor") || !strcmp(nm, "round_prefer_ceil");
    else if (!strcmp(ct, "tf_half_pixel_for_nn")) ok = !strcmp(nm, "floor") || (any2 && strcmp(nm, "ceil"));
    else ok = f[0] == 1 && f[1] == 1;
    if (!ok) { node_error(N, "coordinate_transformation_mode = %s with nearest_mode = %s is not supported", ct, nm); goto done; }
    if (f[0] == 1 && f[1] == 1) {
        alias(N, x);
        rc = bind_dyn(N, 0, x->src, x->ch, x->rank);
        goto done;
    }
    ox_layer_t *l = new_layer(N, L_UPS, x->src, x->ch);
    if (!l) goto done;
    l->ups[0] = (int)f[0], l->ups[1] = (int)f[1];
    l->oh *= f[0], l->ow *= f[1];
    rc = bind_dyn(N, 0, (int)N->g->nlayers, x->ch, x->rank);
done:
    ox_const_free(&scales_attr);
    return rc;
}

static int op_identity(nctx_t *N)
{
    ox_value_t *x = input(N, 0);
    if (!x) return NFAIL(N, "input 0 is missing");
    if (strcmp(N->n->op_type, "Dropout") ? check_attrs(N, "") : check_attrs(N, "ratio,seed,is_test")) return -1;
    if (x->kind == V_CONST) {
        ox_const_t c;
        if (of_reshape(&x->c, x->c.rank, x->c.dims, &c, N->g->e)) return -1;
        return bind_const(N, 0, &c);
    }
    for (size_t k = 1; k < N->n->n_output; k++)
        if (N->n->output[k] && *N->n->output[k]) return NFAIL(N, "the mask output is not supported");
    alias(N, x);
    return bind_dyn(N, 0, x->src, x->ch, x->rank);
}

/* ---------------------------------------------------------- constant-only ops */

static int op_constant(nctx_t *N)
{
    if (N->n->n_attribute != 1) return NFAIL(N, "needs exactly one value attribute");
    const Onnx__AttributeProto *a = N->n->attribute[0];
    const char *nm = a->name ? a->name : "";
    ox_const_t c;
    char sub[512] = "";
    ox_err_t se = {sub, sizeof sub, NULL};
    if (!strcmp(nm, "value") && a->t) {
        if (ox_tensor_read(a->t, NULL, &c, &se)) return NFAIL(N, "%s", sub);
    } else if (!strcmp(nm, "value_float") || !strcmp(nm, "value_int")) {
        if (ox_const_alloc(&c, nm[6] == 'f', 0, NULL, false, N->g->e)) return -1;
        c.v[0] = nm[6] == 'f' ? (double)a->f : (double)a->i;
    } else if (!strcmp(nm, "value_floats") || !strcmp(nm, "value_ints")) {
        bool fl = nm[6] == 'f';
        size_t n = fl ? a->n_floats : a->n_ints;
        if (ox_const_alloc(&c, fl, 1, (int64_t[]){(int64_t)n}, false, N->g->e)) return -1;
        for (size_t i = 0; i < n; i++) c.v[i] = fl ? (double)a->floats[i] : (double)a->ints[i];
    } else {
        return NFAIL(N, "attribute '%s' is not supported", nm);
    }
    return bind_const(N, 0, &c);
}

static int op_shape(nctx_t *N)
{
    if (check_attrs(N, "start,end")) return -1;
    ox_value_t *x = input(N, 0);
    if (!x) return NFAIL(N, "input 0 is missing");
    ox_const_t full;
    int rank = x->kind == V_CONST ? x->c.rank : x->rank;
    if (x->kind == V_DYN && rank < 3) return NFAIL(N, "Shape of a rank-%d tensor is not supported", rank);
    if (x->kind == V_DYN && N->g->batch > 1) return NFAIL(N, "Shape of a batched input is not supported (batch 1 only)");
    if (ox_const_alloc(&full, false, 1, (int64_t[]){rank}, x->kind == V_DYN, N->g->e)) return -1;
    for (int d = 0; d < rank; d++) {
        if (x->kind == V_CONST) {
            full.v[d] = (double)x->c.dims[d];
        } else if (d >= rank - 2) {
            int64_t hw[2];
            src_hw(N->g, x->src, &hw[0], &hw[1]);
            if (hw[d - (rank - 2)]) full.v[d] = (double)hw[d - (rank - 2)];
            else full.sym[d] = (ox_sym_t){x->src, 2 + d - (rank - 2), 1};
        } else {
            full.v[d] = d == rank - 3 ? x->ch : 1;
        }
    }
    int64_t s = attr_int(N->n, "start", 0), e = attr_int(N->n, "end", rank);
    if (s < 0) s += rank;
    if (e < 0) e += rank;
    s = s < 0 ? 0 : s > rank ? rank : s;
    e = e < s ? s : e > rank ? rank : e;
    ox_const_t out;
    int rc = of_slice(&full, &s, &e, NULL, NULL, 1, &out, N->g->e);
    ox_const_free(&full);
    return rc ? rc : bind_const(N, 0, &out);
}

static int get_const_in(nctx_t *N, size_t i, ox_const_t **c)
{
    ox_value_t *v = input(N, i);
    if (!v) return NFAIL(N, "input %zu is missing", i);
    if (v->kind != V_CONST) return NFAIL(N, "%s on the image tensor is not supported (only on constant shapes)", N->n->op_type);
    *c = &v->c;
    return 0;
}

static int op_fold(nctx_t *N)
{
    const char *t = N->n->op_type;
    char sub[256] = "";
    ox_err_t se = {sub, sizeof sub, &N->g->fold_budget};
    ox_const_t *in, out = {0};
    int rc = 0;
    int64_t tmp[OX_MAX_RANK * 4];
    size_t n;
    if (!strcmp(t, "Gather")) {
        ox_const_t *idx;
        if (check_attrs(N, "axis") || get_const_in(N, 0, &in) || get_const_in(N, 1, &idx)) return -1;
        rc = of_gather(in, idx, attr_int(N->n, "axis", 0), &out, &se);
    } else if (!strcmp(t, "Concat")) {
        if (check_attrs(N, "axis")) return -1;
        const ox_const_t *list[64];
        if (N->n->n_input > 64 || !N->n->n_input) return NFAIL(N, "%zu inputs", N->n->n_input);
        for (size_t i = 0; i < N->n->n_input; i++) {
            ox_const_t *c;
            if (get_const_in(N, i, &c)) return -1;
            list[i] = c;
        }
        rc = of_concat(list, N->n->n_input, attr_int(N->n, "axis", 0), &out, &se);
    } else if (!strcmp(t, "Unsqueeze") || !strcmp(t, "Squeeze")) {
        bool unsq = t[0] == 'U';
        if (check_attrs(N, N->g->opset < 13 ? "axes" : "") || get_const_in(N, 0, &in)) return -1;
        int64_t axes[OX_MAX_RANK];
        size_t na = 0;
        if (N->g->opset < 13) {
            const Onnx__AttributeProto *a = attr(N->n, "axes");
            if (a) {
                if (a->n_ints > OX_MAX_RANK) return NFAIL(N, "too many axes");
                na = a->n_ints;
                memcpy(axes, a->ints, na * sizeof *axes);
            }
        } else {
            ox_const_t *ac;
            if (need_const(N, 1, "axes", !unsq, &ac) || (ac && const_ints(N, ac, "axes", axes, OX_MAX_RANK, &na))) return -1;
        }
        int rank = in->rank + (unsq ? (int)na : 0);
        if (unsq && (!na || rank > OX_MAX_RANK)) return NFAIL(N, "bad axes");
        bool mark[OX_MAX_RANK] = {0};
        for (size_t k = 0; k < na; k++) {
            int64_t a = axes[k] < 0 ? axes[k] + (unsq ? rank : in->rank) : axes[k];
            if (a < 0 || a >= (unsq ? rank : in->rank) || mark[a]) return NFAIL(N, "axis %lld is out of range", (long long)axes[k]);
            if (!unsq && in->dims[a] != 1) return NFAIL(N, "squeezing an axis of size %lld", (long long)in->dims[a]);
            mark[a] = true;
        }
        int r = 0;
        if (unsq) {
            for (int d = 0, j = 0; d < rank; d++) tmp[r++] = mark[d] ? 1 : in->dims[j++];
        } else {
            for (int d = 0; d < in->rank; d++)
                if (!(na ? mark[d] : in->dims[d] == 1)) tmp[r++] = in->dims[d];
        }
        rc = of_reshape(in, r, tmp, &out, &se);
    } else if (!strcmp(t, "Reshape")) {
        ox_const_t *sh;
        if (check_attrs(N, "allowzero") || get_const_in(N, 0, &in) || need_const(N, 1, "shape", false, &sh) ||
            const_ints(N, sh, "shape", tmp, OX_MAX_RANK, &n))
            return -1;
        size_t known = 1;
        int infer = -1;
        for (size_t d = 0; d < n; d++) {
            if (tmp[d] == 0 && !attr_int(N->n, "allowzero", 0)) {
                if ((int)d >= in->rank) return NFAIL(N, "shape 0 past the input's rank");
                tmp[d] = in->dims[d];
            }
            if (tmp[d] == -1) {
                if (infer >= 0) return NFAIL(N, "two -1 in shape");
                infer = (int)d;
            } else if (tmp[d] < 0) {
                return NFAIL(N, "negative shape");
            } else {
                known *= (size_t)tmp[d];
            }
        }
        if (infer >= 0) tmp[infer] = known ? (int64_t)(in->n / known) : 0;
        rc = of_reshape(in, (int)n, tmp, &out, &se);
    } else if (!strcmp(t, "Transpose")) {
        if (check_attrs(N, "perm") || get_const_in(N, 0, &in)) return -1;
        int64_t perm[OX_MAX_RANK];
        for (int d = 0; d < in->rank; d++) perm[d] = in->rank - 1 - d;
        const Onnx__AttributeProto *a = attr(N->n, "perm");
        if (a) {
            if (a->n_ints != (size_t)in->rank) return NFAIL(N, "perm has %zu values for rank %d", a->n_ints, in->rank);
            memcpy(perm, a->ints, a->n_ints * sizeof *perm);
        }
        rc = of_transpose(in, perm, &out, &se);
    } else if (!strcmp(t, "Slice")) {
        int64_t *st = tmp, *en = tmp + OX_MAX_RANK, *ax = tmp + 2 * OX_MAX_RANK, *sp = tmp + 3 * OX_MAX_RANK;
        size_t ns, ne, nax = 0, nsp = 0;
        bool has_ax = false, has_sp = false;
        if (N->g->opset < 10) {
            if (check_attrs(N, "starts,ends,axes") || get_const_in(N, 0, &in)) return -1;
            const Onnx__AttributeProto *a[3] = {attr(N->n, "starts"), attr(N->n, "ends"), attr(N->n, "axes")};
            if (!a[0] || !a[1] || a[0]->n_ints > OX_MAX_RANK || a[0]->n_ints != a[1]->n_ints ||
                (a[2] && a[2]->n_ints != a[0]->n_ints))
                return NFAIL(N, "bad starts/ends/axes");
            ns = ne = a[0]->n_ints;
            memcpy(st, a[0]->ints, ns * sizeof *st);
            memcpy(en, a[1]->ints, ns * sizeof *en);
            if (a[2]) memcpy(ax, a[2]->ints, ns * sizeof *ax), has_ax = true, nax = ns;
        } else {
            ox_const_t *cs, *ce, *ca, *cp;
            if (check_attrs(N, "") || get_const_in(N, 0, &in) || need_const(N, 1, "starts", false, &cs) ||
                need_const(N, 2, "ends", false, &ce) || need_const(N, 3, "axes", true, &ca) ||
                need_const(N, 4, "steps", true, &cp) || const_ints(N, cs, "starts", st, OX_MAX_RANK, &ns) ||
                const_ints(N, ce, "ends", en, OX_MAX_RANK, &ne) ||
                (ca && const_ints(N, ca, "axes", ax, OX_MAX_RANK, &nax)) || (cp && const_ints(N, cp, "steps", sp, OX_MAX_RANK, &nsp)))
                return -1;
            has_ax = ca != NULL, has_sp = cp != NULL;
            if (ns != ne || (has_ax && nax != ns) || (has_sp && nsp != ns)) return NFAIL(N, "starts, ends, axes and steps differ in length");
        }
        rc = of_slice(in, st, en, has_ax ? ax : NULL, has_sp ? sp : NULL, ns, &out, &se);
    } else if (!strcmp(t, "Cast")) {
        if (check_attrs(N, "to,saturate") || get_const_in(N, 0, &in)) return -1;
        int64_t to = attr_int(N->n, "to", 0);
        bool fl = to == ONNX__TENSOR_PROTO__DATA_TYPE__FLOAT || to == ONNX__TENSOR_PROTO__DATA_TYPE__DOUBLE ||
                  to == ONNX__TENSOR_PROTO__DATA_TYPE__FLOAT16;
        if (!fl && to != ONNX__TENSOR_PROTO__DATA_TYPE__INT64 && to != ONNX__TENSOR_PROTO__DATA_TYPE__INT32)
            return NFAIL(N, "to = %lld is not supported", (long long)to);
        rc = of_unary('c', fl, in, &out, &se);
    } else if (!strcmp(t, "Floor") || !strcmp(t, "Ceil")) {
        if (check_attrs(N, "") || get_const_in(N, 0, &in)) return -1;
        rc = of_unary(t[0] == 'F' ? 'f' : 'C', true, in, &out, &se);
    } else if (!strcmp(t, "ConstantOfShape")) {
        ox_const_t *sh, val;
        if (check_attrs(N, "value") || need_const(N, 0, "shape", false, &sh) || const_ints(N, sh, "shape", tmp, OX_MAX_RANK, &n))
            return -1;
        const Onnx__AttributeProto *a = attr(N->n, "value");
        double v = 0;
        bool fl = true;
        if (a && a->t) {
            if (ox_tensor_read(a->t, NULL, &val, &se)) return NFAIL(N, "%s", sub);
            if (val.n != 1) { ox_const_free(&val); return NFAIL(N, "value must hold one element"); }
            v = val.v[0], fl = val.is_float;
            ox_const_free(&val);
        }
        if (ox_const_alloc(&out, fl, (int)n, tmp, false, &se)) return NFAIL(N, "%s", sub);
        for (size_t i = 0; i < out.n; i++) out.v[i] = v;
    } else {
        return NFAIL(N, "op %s is not supported", t);
    }
    if (rc) return NFAIL(N, "%s", sub);
    return bind_const(N, 0, &out);
}

/* ------------------------------------------------------------------ driver */

static int translate_node(nctx_t *N)
{
    const char *t = N->n->op_type ? N->n->op_type : "";
    const char *dom = N->n->domain ? N->n->domain : "";
    if (*dom && strcmp(dom, "ai.onnx")) return NFAIL(N, "the operator domain '%s' is not supported", dom);
    if (!strcmp(t, "Conv")) return op_conv(N);
    if (!strcmp(t, "ConvTranspose")) return op_convtranspose(N);
    if (!strcmp(t, "InstanceNormalization")) return op_norm(N, false);
    if (!strcmp(t, "BatchNormalization")) return op_norm(N, true);
    if (!strcmp(t, "Relu")) return op_act(N, A_RELU);
    if (!strcmp(t, "Tanh")) return op_act(N, A_TANH);
    if (!strcmp(t, "Sigmoid")) return op_act(N, A_SIGMOID);
    if (!strcmp(t, "LeakyRelu")) return op_act(N, A_LEAKY);
    if (!strcmp(t, "Clip")) return op_clip(N);
    if (!strcmp(t, "Add")) return op_binary(N, '+');
    if (!strcmp(t, "Sub")) return op_binary(N, '-');
    if (!strcmp(t, "Mul")) return op_binary(N, '*');
    if (!strcmp(t, "Div")) return op_binary(N, '/');
    if (!strcmp(t, "Pad")) return op_pad(N);
    if (!strcmp(t, "Resize")) return op_resize(N, false);
    if (!strcmp(t, "Upsample")) return op_resize(N, true);
    if (!strcmp(t, "Identity") || !strcmp(t, "Dropout")) return op_identity(N);
    if (!strcmp(t, "Constant")) return op_constant(N);
    if (!strcmp(t, "Shape")) return op_shape(N);
    static const char *const folds[] = {"Gather", "Concat", "Unsqueeze", "Squeeze", "Reshape", "Transpose", "Slice",
                                        "Cast", "Floor", "Ceil", "ConstantOfShape"};
    for (size_t i = 0; i < sizeof folds / sizeof *folds; i++)
        if (!strcmp(t, folds[i])) return op_fold(N);
    return NFAIL(N, "op %s is not supported", *t ? t : "(empty)");
}

static void node_id(const Onnx__NodeProto *n, size_t i, char *buf, size_t size)
{
    char nm[96];
    const char *src = n->name && *n->name ? n->name : NULL;
    if (src) {
        size_t k = 0;
        for (; k < sizeof nm - 1 && src[k]; k++) nm[k] = (unsigned char)src[k] < 0x20 || src[k] == 0x7f ? '?' : src[k];
        nm[k] = 0;
    }
    char op[48];
    size_t k = 0;
    for (const char *p = n->op_type ? n->op_type : ""; *p && k < sizeof op - 1; p++, k++)
        op[k] = (unsigned char)*p < 0x20 || *p == 0x7f ? '?' : *p;
    op[k] = 0;
    if (src) snprintf(buf, size, "node '%s' (%s)", nm, op);
    else snprintf(buf, size, "node %zu (%s)", i, op);
}

static int value_type_ok(const Onnx__ValueInfoProto *vi, ox_graph_t *g, const vks_onnx_options_t *o, uint32_t *ch, int *rank,
                         int64_t *h, int64_t *w)
{
    const char *nm = vi->name;
    if (!vi->type || vi->type->value_case != ONNX__TYPE_PROTO__VALUE_TENSOR_TYPE || !vi->type->tensor_type)
        return ox_fail(g->e, "input '%s' is not a tensor", nm);
    const Onnx__TypeProto__Tensor *tt = vi->type->tensor_type;
    /* tensor mode also takes int32 inputs, computed in float (exact for the conformance data) */
    if (tt->elem_type != ONNX__TENSOR_PROTO__DATA_TYPE__FLOAT &&
        !(o->tensor_mode && tt->elem_type == ONNX__TENSOR_PROTO__DATA_TYPE__INT32))
        return ox_fail(g->e, "input '%s': element type %d is not supported (float only)", nm, tt->elem_type);
    if (!tt->shape) return ox_fail(g->e, "input '%s' has no shape", nm);
    size_t r = tt->shape->n_dim;
    if (r != 4 && !(r >= 1 && r <= 3 && o->tensor_mode))
        return ox_fail(g->e, "input '%s' has rank %zu; an image tensor [1,C,H,W] is needed", nm, r);
    const Onnx__TensorShapeProto__Dimension *const *d = (const Onnx__TensorShapeProto__Dimension *const *)tt->shape->dim;
    g->batch = 1;
    if (r == 4 && d[0]->value_case == ONNX__TENSOR_SHAPE_PROTO__DIMENSION__VALUE_DIM_VALUE && d[0]->dim_value != 1) {
        /* every mapped op works sample by sample: in tensor mode (conformance tests) a batch runs
           as that many separate samples, and nothing may look at N (Shape is refused) */
        if (!o->tensor_mode || d[0]->dim_value < 1 || d[0]->dim_value > 4096)
            return ox_fail(g->e, "input '%s': batch size %lld is not supported (1)", nm, (long long)d[0]->dim_value);
        g->batch = d[0]->dim_value;
    }
    int64_t cv = 1;
    if (r >= 3) {
        const Onnx__TensorShapeProto__Dimension *c = d[r - 3];
        if (c->value_case != ONNX__TENSOR_SHAPE_PROTO__DIMENSION__VALUE_DIM_VALUE || c->dim_value < 1 || c->dim_value > 4096)
            return ox_fail(g->e, "input '%s': the channel count must be a fixed number 1..4096", nm);
        cv = c->dim_value;
    }
    if (!o->tensor_mode && cv != 3) return ox_fail(g->e, "input '%s' has %lld channels; an RGB image has 3", nm, (long long)cv);
    const Onnx__TensorShapeProto__Dimension *dh = r >= 2 ? d[r - 2] : NULL, *dw = d[r - 1];
    bool fh = !dh || dh->value_case == ONNX__TENSOR_SHAPE_PROTO__DIMENSION__VALUE_DIM_VALUE;
    bool fw = dw->value_case == ONNX__TENSOR_SHAPE_PROTO__DIMENSION__VALUE_DIM_VALUE;
    *h = *w = 0;
    if (fh && fw) {
        *h = dh ? dh->dim_value : 1, *w = dw->dim_value;
        if (*h < 1 || *w < 1 || *h > 1 << 20 || *w > 1 << 20) *h = *w = 0;
    }
    *ch = (uint32_t)cv;
    *rank = (int)r;
    return 0;
}

static int translate_graph(const Onnx__ModelProto *m, const char *dir, const vks_onnx_options_t *o, ox_graph_t *g)
{
    const Onnx__GraphProto *gr = m->graph;
    if (!gr) return ox_fail(g->e, "the model has no graph");
    g->opset = -1;
    g->tensor_mode = o->tensor_mode;
    for (size_t i = 0; i < m->n_opset_import; i++) {
        const char *d = m->opset_import[i]->domain ? m->opset_import[i]->domain : "";
        if (!*d || !strcmp(d, "ai.onnx")) g->opset = (int)m->opset_import[i]->version;
    }
    if (g->opset < 6 || g->opset > 18) return ox_fail(g->e, "opset %d is not supported (6..18)", g->opset);
    if (gr->n_sparse_initializer) return ox_fail(g->e, "sparse initializers are not supported");
    if (gr->n_node > 20000) return ox_fail(g->e, "more than 20000 nodes");
    for (size_t i = 0; i < gr->n_node; i++)
        for (size_t k = 0; k < gr->node[i]->n_output; k++)
            if (!gr->node[i]->output[k]) return ox_fail(g->e, "a malformed node");
    /* initializers */
    for (size_t i = 0; i < gr->n_initializer; i++) {
        const Onnx__TensorProto *t = gr->initializer[i];
        if (!t->name || !*t->name) return ox_fail(g->e, "an initializer without a name");
        ox_value_t *v = new_value(g, t->name);
        if (!v) return -1;
        v->kind = V_CONST;
        if (ox_tensor_read(t, dir, &v->c, g->e)) return -1;
    }
    /* the image input: the one graph input that is not an initializer */
    int n_in = 0;
    for (size_t i = 0; i < gr->n_input; i++) {
        const Onnx__ValueInfoProto *vi = gr->input[i];
        if (!vi->name || !*vi->name) return ox_fail(g->e, "a graph input without a name");
        if (find_value(g, vi->name)) continue;
        if (n_in++) return ox_fail(g->e, "the model has more than one input ('%s' and others); one image input is supported", vi->name);
        uint32_t ch = 0;
        int rank = 0;
        if (value_type_ok(vi, g, o, &ch, &rank, &g->in_h, &g->in_w)) return -1;
        ox_value_t *v = new_value(g, vi->name);
        if (!v) return -1;
        v->kind = V_DYN, v->src = 0, v->ch = ch, v->rank = rank;
        g->in_channels = ch;
    }
    if (!n_in) return ox_fail(g->e, "the model has no input");
    if (gr->n_output != 1 || !gr->output[0]->name)
        return ox_fail(g->e, "the model has %zu outputs; one is supported", gr->n_output);
    /* dependency order: translate every node whose inputs are all defined, until none is left */
    bool *done = calloc(gr->n_node ? gr->n_node : 1, sizeof *done);
    if (!done) return ox_fail(g->e, "out of memory");
    int rc = 0;
    size_t left = gr->n_node;
    nctx_t N = {.g = g};
    while (left && !rc) {
        size_t before = left;
        for (size_t i = 0; i < gr->n_node && !rc; i++) {
            if (done[i]) continue;
            const Onnx__NodeProto *n = gr->node[i];
            bool ready = true;
            for (size_t k = 0; k < n->n_input && ready; k++)
                ready = !n->input[k] || !*n->input[k] || find_value(g, n->input[k]);
            if (!ready) continue;
            /* consumers of this node's outputs, before it binds them */
            N.n = n;
            node_id(n, i, N.id, sizeof N.id);
            rc = translate_node(&N);
            done[i] = true;
            left--;
        }
        if (!rc && left == before) {
            /* nothing ran: an input no node defines, or a cycle */
            for (size_t i = 0; i < gr->n_node && !rc; i++) {
                if (done[i]) continue;
                const Onnx__NodeProto *n = gr->node[i];
                for (size_t k = 0; k < n->n_input && !rc; k++) {
                    if (!n->input[k] || !*n->input[k] || find_value(g, n->input[k])) continue;
                    bool produced = false;
                    for (size_t j = 0; j < gr->n_node && !produced; j++)
                        for (size_t q = 0; q < gr->node[j]->n_output && !produced; q++)
                            produced = !strcmp(gr->node[j]->output[q], n->input[k]);
                    if (!produced) {
                        node_id(n, i, N.id, sizeof N.id);
                        rc = ox_fail(g->e, "%s: input '%s' is not defined by any node, initializer or graph input", N.id, n->input[k]);
                    }
                }
            }
            if (!rc) rc = ox_fail(g->e, "the graph has a cycle (%zu nodes cannot be ordered)", left);
        }
    }
    free(done);
    if (rc) return rc;
    ox_value_t *out = find_value(g, gr->output[0]->name);
    if (!out) return ox_fail(g->e, "the graph output '%s' is not defined", gr->output[0]->name);
    if (out->kind != V_DYN) return ox_fail(g->e, "the graph output '%s' is a constant", out->name);
    if (!o->tensor_mode && out->ch != 3) return ox_fail(g->e, "the graph output has %u channels; an RGB image has 3", out->ch);
    g->out_src = out->src;
    return 0;
}

/* ------------------------------------------------------------------ entry points */

int vks_onnx_parse_range(const char *s, vks_onnx_range_t *out)
{
    if (!strcmp(s, "0..255")) *out = VKS_ONNX_RANGE_255;
    else if (!strcmp(s, "0..1")) *out = VKS_ONNX_RANGE_1;
    else if (!strcmp(s, "-1..1")) *out = VKS_ONNX_RANGE_PM1;
    else return -1;
    return 0;
}

bool vks_onnx_is_onnx_path(const char *path)
{
    size_t l = strlen(path);
    return l >= 5 && !strcasecmp(path + l - 5, ".onnx");
}

static void free_graph(ox_graph_t *g)
{
    for (size_t i = 0; i < g->nvals; i++) ox_const_free(&g->vals[i].c);
    for (size_t i = 0; i < g->nlayers; i++)
        for (int t = 0; t < T_COUNT; t++) free(g->layers[i].t[t].data);
    free(g->vals);
    free(g->layers);
}

int vks_onnx_translate_memory(const uint8_t *data, size_t size, const char *dir, const vks_onnx_options_t *o,
                              uint8_t **bytes, size_t *n, char *err, size_t errsz)
{
    ox_err_t e = {err, errsz, NULL};
    if (err && errsz) err[0] = 0;
    *bytes = NULL, *n = 0;
    vks_onnx_options_t def = {0};
    if (!o) o = &def;
    Onnx__ModelProto *m = onnx__model_proto__unpack(NULL, size, data);
    if (!m) return ox_fail(&e, "not a valid ONNX file (the protobuf does not parse)");
    ox_graph_t g = {.e = &e, .gr = m->graph, .fold_budget = OX_MAX_FOLDED};
    vks_onnx_range_t r[2] = {o->input_range, o->output_range};
    int rc = 0;
    for (size_t i = 0; i < m->n_metadata_props && !rc; i++) {
        const char *k = m->metadata_props[i]->key ? m->metadata_props[i]->key : "";
        const char *v = m->metadata_props[i]->value ? m->metadata_props[i]->value : "";
        int which = !strcmp(k, "vkstyle.input_range") ? 0 : !strcmp(k, "vkstyle.output_range") ? 1 : -1;
        vks_onnx_range_t got;
        if (which < 0) continue;
        if (vks_onnx_parse_range(v, &got)) rc = ox_fail(&e, "metadata %s = '%.40s' is not 0..255, 0..1 or -1..1", k, v);
        else if (r[which] == VKS_ONNX_RANGE_DEFAULT) r[which] = got;
    }
    if (!rc) rc = translate_graph(m, dir, o, &g);
    if (!rc) {
        const char *name = o->name && *o->name ? o->name : m->graph->name && *m->graph->name ? m->graph->name : "onnx";
        rc = ox_emit(&g, name, o, r[0], r[1], bytes, n);
    }
    free_graph(&g);
    onnx__model_proto__free_unpacked(m, NULL);
    if (rc) {
        free(*bytes);
        *bytes = NULL, *n = 0;
        if (err && errsz && !err[0]) snprintf(err, errsz, "translation failed");
    }
    return rc ? -1 : 0;
}

int vks_onnx_translate(const char *path, const vks_onnx_options_t *o, uint8_t **bytes, size_t *n, char *err, size_t errsz)
{
    ox_err_t e = {err, errsz, NULL};
    if (err && errsz) err[0] = 0;
    *bytes = NULL, *n = 0;
    FILE *f = fopen(path, "rb");
    if (!f) return ox_fail(&e, "%s: %s", path, strerror(errno));
    struct stat st;
    if (fstat(fileno(f), &st) || !S_ISREG(st.st_mode)) {
        fclose(f);
        return ox_fail(&e, "%s: not a regular file", path);
    }
    if (st.st_size > (off_t)INT32_MAX) {   /* protobuf's own limit */
        fclose(f);
        return ox_fail(&e, "%s: larger than 2 GiB (store the weights as external data)", path);
    }
    size_t size = (size_t)st.st_size;
    uint8_t *buf = malloc(size ? size : 1);
    if (!buf || fread(buf, 1, size, f) != size) {
        free(buf);
        fclose(f);
        return ox_fail(&e, "%s: read failed", path);
    }
    fclose(f);
    /* external data lives next to the model; the default name is the file's, without .onnx */
    char dir[4096], name[65];
    const char *slash = strrchr(path, '/');
    if (slash) snprintf(dir, sizeof dir, "%.*s", (int)(slash - path) ? (int)(slash - path) : 1, path);
    else snprintf(dir, sizeof dir, ".");
    const char *base = slash ? slash + 1 : path;
    size_t bl = strlen(base);
    if (vks_onnx_is_onnx_path(base)) bl -= 5;
    size_t k = 0;
    for (size_t i = 0; i < bl && k < sizeof name - 1; i++)
        name[k++] = base[i] == '=' || base[i] == ',' || (unsigned char)base[i] < 0x20 || base[i] == 0x7f ? '_' : base[i];
    name[k] = 0;
    vks_onnx_options_t oo = o ? *o : (vks_onnx_options_t){0};
    if (!oo.name || !*oo.name) oo.name = k ? name : "onnx";
    char sub[1024] = "";
    int rc = vks_onnx_translate_memory(buf, size, dir, &oo, bytes, n, sub, sizeof sub);
    free(buf);
    if (rc) return ox_fail(&e, "%s: %s", path, sub);
    return 0;
}
