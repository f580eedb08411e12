/* Model loading: safetensors (safetensors.c) + the graph in __metadata__["vkstyle.graph"],
 * validated layer by layer against the tensors, then the weights uploaded to one block.
 * Batch norms that directly follow a conv2d are folded into its weights here. */
#include "model.h"
#include "file.h"
#include "ops/ops.h"
#include "safetensors.h"

#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define MAX_LAYERS 1024
#define MAX_KERNEL 15

static const struct { const char *name; vks_op_kind_t op; } op_names[] = {
    {"conv2d", VKS_OP_CONV2D},
    {"conv2d_transpose", VKS_OP_CONV2D_TRANSPOSE},
    {"upsample_nearest", VKS_OP_UPSAMPLE_NEAREST},
    {"instance_norm", VKS_OP_INSTANCE_NORM},
    {"conditional_instance_norm", VKS_OP_CONDITIONAL_INSTANCE_NORM},
    {"batch_norm", VKS_OP_BATCH_NORM},
    {"activation", VKS_OP_ACTIVATION},
    {"add", VKS_OP_ADD},
};

static const char *const act_names[] = {"none", "relu", "tanh", "sigmoid"};

/* The file tensors a layer uses (NULL when not used). */
typedef struct layer_refs {
    const vks_st_tensor_t *weight, *bias, *gamma, *beta, *mean, *var;
} layer_refs_t;

typedef struct loader {
    const vks_st_file_t *f;
    vks_model_t *m;
    layer_refs_t *refs;
    uint32_t *val_channels;   /* channels of each value */
    uint32_t i;               /* layer being parsed */
    const char *opname;
} loader_t;

#define LFAIL(L, ...) layer_fail(L, __VA_ARGS__)

static vks_status_t layer_fail(const loader_t *L, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static vks_status_t layer_fail(const loader_t *L, const char *fmt, ...)
{
    char msg[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    return vks_fail(VKS_ERR_MODEL_FORMAT, "layer %u (%s): %s", L->i, L->opname ? L->opname : "?", msg);
}

static vks_status_t get_uint(const loader_t *L, json_t *o, const char *key, uint32_t def, uint32_t lo,
                             uint32_t hi, uint32_t *out)
{
    json_t *v = json_object_get(o, key);
    if (!v) { *out = def; return VKS_OK; }
    if (!json_is_integer(v) || json_integer_value(v) < lo || json_integer_value(v) > hi)
        return LFAIL(L, "'%s' must be an integer in %u..%u", key, lo, hi);
    *out = (uint32_t)json_integer_value(v);
    return VKS_OK;
}

static vks_status_t get_float(const loader_t *L, json_t *o, const char *key, float def, float lo, float hi,
                              float *out)
{
    json_t *v = json_object_get(o, key);
    if (!v) { *out = def; return VKS_OK; }
    double d = json_number_value(v);
    if (!json_is_number(v) || !isfinite(d) || d < lo || d > hi)
        return LFAIL(L, "'%s' must be a number in %g..%g", key, (double)lo, (double)hi);
    *out = (float)d;
    return VKS_OK;
}

static vks_status_t get_act(const loader_t *L, json_t *o, uint32_t *out)
{
    json_t *v = json_object_get(o, "activation");
    *out = VKS_ACT_NONE;
    if (!v) return VKS_OK;
    for (uint32_t a = 0; a < sizeof act_names / sizeof *act_names; a++)
        if (json_is_string(v) && !strcmp(json_string_value(v), act_names[a])) { *out = a; return VKS_OK; }
    return LFAIL(L, "'activation' must be one of none, relu, tanh, sigmoid");
}

/* Resolve a value name ("input" or an earlier layer's name) to its index. */
static vks_status_t resolve(const loader_t *L, json_t *v, const char *field, uint32_t *out)
{
    if (!json_is_string(v)) return LFAIL(L, "'%s' must be a layer name", field);
    const char *name = json_string_value(v);
    if (!strcmp(name, "input")) { *out = 0; return VKS_OK; }
    for (uint32_t j = 0; j < L->i; j++)
        if (!strcmp(L->m->layers[j].name, name)) { *out = j + 1; return VKS_OK; }
    return LFAIL(L, "'%s' names '%s', which is not an earlier layer", field, name);
}

/* Look up a tensor by the name in o[field] and check its shape (dims of 0 are filled in). */
static vks_status_t need_tensor(const loader_t *L, json_t *o, const char *field, bool optional,
                                uint32_t rank, uint64_t *dims, const vks_st_tensor_t **out)
{
    json_t *v = json_object_get(o, field);
    *out = NULL;
    if (!v || json_is_null(v)) return optional ? VKS_OK : LFAIL(L, "missing '%s'", field);
    if (!json_is_string(v)) return LFAIL(L, "'%s' must be a tensor name", field);
    const vks_st_tensor_t *t = vks_st_find(L->f, json_string_value(v));
    if (!t) return LFAIL(L, "'%s' names tensor '%s', which is not in the file", field, json_string_value(v));
    bool ok = t->rank == rank;
    for (uint32_t d = 0; ok && d < rank; d++) {
        if (dims[d] == 0) dims[d] = t->shape[d];
        ok = t->shape[d] == dims[d] && dims[d] > 0;
    }
    if (!ok) {
        char want[96] = "", got[96] = "";
        for (uint32_t d = 0; d < rank; d++)
            snprintf(want + strlen(want), sizeof want - strlen(want), "%s%llu", d ? "," : "", (unsigned long long)dims[d]);
        for (uint32_t d = 0; d < t->rank; d++)
            snprintf(got + strlen(got), sizeof got - strlen(got), "%s%llu", d ? "," : "", (unsigned long long)t->shape[d]);
        return LFAIL(L, "tensor '%s' has shape [%s], expected [%s]", t->name, got, want);
    }
    *out = t;
    return VKS_OK;
}

static vks_status_t parse_layer(loader_t *L, json_t *o)
{
    vks_layer_t *ly = &L->m->layers[L->i];
    layer_refs_t *r = &L->refs[L->i];
    vks_status_t st;
    if (!json_is_object(o)) return LFAIL(L, "not a JSON object");
    json_t *opv = json_object_get(o, "op");
    L->opname = json_is_string(opv) ? json_string_value(opv) : NULL;
    size_t k;
    for (k = 0; k < sizeof op_names / sizeof *op_names; k++)
        if (L->opname && !strcmp(L->opname, op_names[k].name)) break;
    if (k == sizeof op_names / sizeof *op_names) {
        L->opname = NULL;
        return LFAIL(L, "unknown or missing 'op'");
    }
    L->opname = op_names[k].name;
    ly->op = op_names[k].op;

    json_t *nm = json_object_get(o, "name");
    if (nm && (!json_is_string(nm) || !*json_string_value(nm) || strlen(json_string_value(nm)) >= sizeof ly->name ||
               !strcmp(json_string_value(nm), "input")))
        return LFAIL(L, "'name' must be a string of 1..63 characters other than 'input'");
    if (nm) snprintf(ly->name, sizeof ly->name, "%s", json_string_value(nm));
    else snprintf(ly->name, sizeof ly->name, "layer%u", L->i);
    for (uint32_t j = 0; j < L->i; j++)
        if (!strcmp(L->m->layers[j].name, ly->name)) return LFAIL(L, "duplicate layer name '%s'", ly->name);

    json_t *in = json_object_get(o, "input");
    ly->src = L->i; /* the previous layer's output (the graph input for layer 0) */
    if (ly->op == VKS_OP_ADD) {
        if (!json_is_array(in) || json_array_size(in) != 2) return LFAIL(L, "'input' must be [a, b]");
        if ((st = resolve(L, json_array_get(in, 0), "input", &ly->src))) return st;
        if ((st = resolve(L, json_array_get(in, 1), "input", &ly->src2))) return st;
    } else if (in && (st = resolve(L, in, "input", &ly->src))) {
        return st;
    }
    json_t *res = json_object_get(o, "residual");
    if (res) {
        if (ly->op != VKS_OP_INSTANCE_NORM && ly->op != VKS_OP_CONDITIONAL_INSTANCE_NORM && ly->op != VKS_OP_BATCH_NORM)
            return LFAIL(L, "'residual' is only supported on normalization layers");
        if ((st = resolve(L, res, "residual", &ly->residual))) return st;
        ly->has_residual = true;
    }
    if ((st = get_act(L, o, &ly->act))) return st;
    uint32_t cin = L->val_channels[ly->src];
    ly->channels = cin;

    switch (ly->op) {
    case VKS_OP_CONV2D: {
        uint64_t wd[4] = {0, cin, 0, 0};
        if ((st = need_tensor(L, o, "weight", false, 4, wd, &r->weight))) return st;
        if (wd[2] > MAX_KERNEL || wd[3] > MAX_KERNEL) return LFAIL(L, "kernel larger than %d", MAX_KERNEL);
        ly->channels = (uint32_t)wd[0];
        ly->kh = (uint32_t)wd[2];
        ly->kw = (uint32_t)wd[3];
        uint64_t bd[1] = {ly->channels};
        if ((st = need_tensor(L, o, "bias", true, 1, bd, &r->bias))) return st;
        ly->has_bias = r->bias != NULL;
        if ((st = get_uint(L, o, "stride", 1, 1, 2, &ly->stride))) return st;
        json_t *pad = json_object_get(o, "padding");
        if (!pad || (json_is_string(pad) && !strcmp(json_string_value(pad), "same"))) {
            ly->pad_same = true;
        } else if (json_is_array(pad) && json_array_size(pad) == 4) {
            for (int d = 0; d < 4; d++) {
                json_t *p = json_array_get(pad, d);
                if (!json_is_integer(p) || json_integer_value(p) < 0 || json_integer_value(p) > MAX_KERNEL)
                    return LFAIL(L, "'padding' entries must be integers in 0..%d", MAX_KERNEL);
                ly->pad[d] = (int32_t)json_integer_value(p);
            }
        } else {
            return LFAIL(L, "'padding' must be \"same\" or [top, bottom, left, right]");
        }
        json_t *pm = json_object_get(o, "pad_mode");
        if (pm && !(json_is_string(pm) && (!strcmp(json_string_value(pm), "zero") || !strcmp(json_string_value(pm), "reflect"))))
            return LFAIL(L, "'pad_mode' must be \"zero\" or \"reflect\"");
        ly->reflect = pm && !strcmp(json_string_value(pm), "reflect");
        break;
    }
    case VKS_OP_CONV2D_TRANSPOSE: {
        uint64_t wd[4] = {cin, 0, 0, 0};
        if ((st = need_tensor(L, o, "weight", false, 4, wd, &r->weight))) return st;
        if (wd[2] > MAX_KERNEL || wd[3] > MAX_KERNEL) return LFAIL(L, "kernel larger than %d", MAX_KERNEL);
        ly->channels = (uint32_t)wd[1];
        ly->kh = (uint32_t)wd[2];
        ly->kw = (uint32_t)wd[3];
        uint64_t bd[1] = {ly->channels};
        if ((st = need_tensor(L, o, "bias", true, 1, bd, &r->bias))) return st;
        ly->has_bias = r->bias != NULL;
        if ((st = get_uint(L, o, "stride", 2, 1, 2, &ly->stride))) return st;
        uint32_t p;
        if ((st = get_uint(L, o, "padding", 0, 0, (uint32_t)(ly->kh < ly->kw ? ly->kh : ly->kw) - 1, &p))) return st;
        ly->tpad = (int32_t)p;
        break;
    }
    case VKS_OP_UPSAMPLE_NEAREST:
        if ((st = get_uint(L, o, "scale", 2, 2, 2, &ly->stride))) return st;
        break;
    case VKS_OP_INSTANCE_NORM:
    case VKS_OP_CONDITIONAL_INSTANCE_NORM: {
        bool cond = ly->op == VKS_OP_CONDITIONAL_INSTANCE_NORM;
        uint64_t d[2] = {cond ? L->m->nstyles : cin, cin};
        if ((st = need_tensor(L, o, "gamma", false, cond ? 2 : 1, d, &r->gamma))) return st;
        if ((st = need_tensor(L, o, "beta", false, cond ? 2 : 1, d, &r->beta))) return st;
        if ((st = get_float(L, o, "eps", 1e-5f, 1e-12f, 1.0f, &ly->eps))) return st;
        break;
    }
    case VKS_OP_BATCH_NORM: {
        uint64_t d[1] = {cin};
        if ((st = need_tensor(L, o, "mean", false, 1, d, &r->mean)) || (st = need_tensor(L, o, "var", false, 1, d, &r->var)) ||
            (st = need_tensor(L, o, "gamma", false, 1, d, &r->gamma)) || (st = need_tensor(L, o, "beta", false, 1, d, &r->beta)))
            return st;
        if ((st = get_float(L, o, "eps", 1e-5f, 1e-12f, 1.0f, &ly->eps))) return st;
        break;
    }
    case VKS_OP_ACTIVATION:
        if ((st = get_float(L, o, "scale", 1.0f, -1e6f, 1e6f, &ly->scale))) return st;
        if ((st = get_float(L, o, "offset", 0.0f, -1e6f, 1e6f, &ly->offset))) return st;
        break;
    case VKS_OP_ADD:
        if (L->val_channels[ly->src2] != cin)
            return LFAIL(L, "adds %u channels to %u", L->val_channels[ly->src2], cin);
        break;
    }
    if (ly->has_residual && L->val_channels[ly->residual] != ly->channels)
        return LFAIL(L, "residual has %u channels, the layer %u", L->val_channels[ly->residual], ly->channels);
    L->val_channels[L->i + 1] = ly->channels;
    return VKS_OK;
}

/* Fold batch norms that directly consume a conv2d without activation, used by nothing else. */
static void plan_folding(vks_model_t *m)
{
    for (uint32_t i = 1; i < m->nlayers; i++) {
        vks_layer_t *bn = &m->layers[i], *cv = &m->layers[i - 1];
        if (bn->op != VKS_OP_BATCH_NORM || bn->has_residual || bn->src != i || cv->op != VKS_OP_CONV2D ||
            cv->act != VKS_ACT_NONE)
            continue;
        bool other_use = false;
        for (uint32_t j = 0; j < m->nlayers; j++)
            if (j != i && (m->layers[j].src == i || (m->layers[j].op == VKS_OP_ADD && m->layers[j].src2 == i) ||
                           (m->layers[j].has_residual && m->layers[j].residual == i)))
                other_use = true;
        if (other_use) continue;
        bn->folded = true;
        cv->act = bn->act;
    }
}

static VkDeviceSize reserve(VkDeviceSize *cursor, uint64_t floats)
{
    VkDeviceSize off = *cursor;
    *cursor = vks_align(off + floats * sizeof(float), 256);
    return off;
}

static vks_status_t read_into(const vks_st_file_t *f, const vks_st_tensor_t *t, float *host, VkDeviceSize off)
{
    return vks_st_read_f32(f, t, (float *)((char *)host + off));
}

/* Lay out every weight the graph uses in one host buffer (converted to f32, BN folded), then
 * upload it into the model's weights block. */
static vks_status_t upload_weights(vks_model_t *m, const vks_st_file_t *f, const layer_refs_t *refs)
{
    vks_status_t st = VKS_OK;
    VkDeviceSize cursor = 0;
    float *host = NULL, *tmp = NULL;
    for (uint32_t i = 0; i < m->nlayers; i++) {
        vks_layer_t *ly = &m->layers[i];
        const layer_refs_t *r = &refs[i];
        if (ly->op == VKS_OP_CONDITIONAL_INSTANCE_NORM) {
            ly->cin_offset = m->cin_channels;
            m->cin_channels += ly->channels;
        }
        if (r->weight) ly->weight = vks_tensor_flat(&m->weights, reserve(&cursor, r->weight->count), (uint32_t)r->weight->count);
        bool folded_next = i + 1 < m->nlayers && m->layers[i + 1].folded;
        if (r->bias || folded_next) {
            ly->bias = vks_tensor_flat(&m->weights, reserve(&cursor, ly->channels), ly->channels);
            ly->has_bias = true;
        }
        if (ly->op == VKS_OP_INSTANCE_NORM) {
            ly->gamma = vks_tensor_flat(&m->weights, reserve(&cursor, ly->channels), ly->channels);
            ly->beta = vks_tensor_flat(&m->weights, reserve(&cursor, ly->channels), ly->channels);
        }
        if (ly->op == VKS_OP_BATCH_NORM && !ly->folded)
            ly->params = vks_tensor_flat(&m->weights, reserve(&cursor, 4ull * ly->channels), 4 * ly->channels);
    }
    uint64_t table = 2ull * m->nstyles * m->cin_channels;
    if (m->cin_channels) m->cin_table = vks_tensor_flat(&m->weights, reserve(&cursor, table), (uint32_t)table);
    /* slack after the last weights, so a uniform binding of VKS_UBO_BYTES may start anywhere
       (conv2d_ubo.comp) */
    cursor += VKS_UBO_BYTES;
    host = calloc(1, cursor);
    if (!host) return vks_fail(VKS_ERR_OUT_OF_HOST_MEMORY, "out of host memory for %llu bytes of weights", (unsigned long long)cursor);
    for (uint32_t i = 0; i < m->nlayers && !st; i++) {
        vks_layer_t *ly = &m->layers[i];
        const layer_refs_t *r = &refs[i];
        if (r->weight) st = read_into(f, r->weight, host, ly->weight.offset);
        if (!st && ly->op == VKS_OP_CONV2D_TRANSPOSE) {   /* [cin][cout] -> [cout][cin], see ops.h */
            float *w = (float *)((char *)host + ly->weight.offset);
            tmp = realloc(tmp, r->weight->count * sizeof(float));
            if (!tmp) { st = vks_fail(VKS_ERR_OUT_OF_HOST_MEMORY, "out of host memory"); break; }
            memcpy(tmp, w, r->weight->count * sizeof(float));
            vks_conv2d_transpose_permute(tmp, w, (uint32_t)r->weight->shape[0], ly->channels, ly->kh * ly->kw);
        }
        if (!st && r->bias) st = read_into(f, r->bias, host, ly->bias.offset);
        if (!st && ly->op == VKS_OP_INSTANCE_NORM) {
            st = read_into(f, r->gamma, host, ly->gamma.offset);
            if (!st) st = read_into(f, r->beta, host, ly->beta.offset);
        }
        if (!st && ly->op == VKS_OP_CONDITIONAL_INSTANCE_NORM) {
            /* rows of the table: gamma[s] at (0*S + s)*Ctot + off, beta[s] at (1*S + s)*Ctot + off */
            tmp = realloc(tmp, 2 * r->gamma->count * sizeof(float));
            if (!tmp) { st = vks_fail(VKS_ERR_OUT_OF_HOST_MEMORY, "out of host memory"); break; }
            st = vks_st_read_f32(f, r->gamma, tmp);
            if (!st) st = vks_st_read_f32(f, r->beta, tmp + r->gamma->count);
            float *tb = (float *)((char *)host + m->cin_table.offset);
            for (uint32_t w = 0; w < 2 && !st; w++)
                for (uint32_t s = 0; s < m->nstyles; s++)
                    memcpy(tb + ((size_t)w * m->nstyles + s) * m->cin_channels + ly->cin_offset,
                           tmp + (size_t)w * r->gamma->count + (size_t)s * ly->channels, ly->channels * sizeof(float));
        }
        if (!st && ly->op == VKS_OP_BATCH_NORM) {
            tmp = realloc(tmp, 4 * (size_t)ly->channels * sizeof(float));
            if (!tmp) { st = vks_fail(VKS_ERR_OUT_OF_HOST_MEMORY, "out of host memory"); break; }
            const vks_st_tensor_t *parts[4] = {r->mean, r->var, r->gamma, r->beta};
            for (int p = 0; p < 4 && !st; p++) st = vks_st_read_f32(f, parts[p], tmp + (size_t)p * ly->channels);
            for (uint32_t c = 0; c < ly->channels && !st; c++)
                if (tmp[ly->channels + c] < 0)
                    st = vks_fail(VKS_ERR_MODEL_FORMAT, "layer %u (batch_norm): negative running variance", i);
            if (st) break;
            if (ly->folded) {
                vks_layer_t *cv = &m->layers[i - 1];
                uint32_t C = ly->channels;
                float *w = (float *)((char *)host + cv->weight.offset), *b = (float *)((char *)host + cv->bias.offset);
                vks_fold_batch_norm(w, b, C, cv->weight.w / C, tmp, tmp + C, tmp + 2 * C, tmp + 3 * C, ly->eps);
                /* gamma / sqrt(var + eps) can overflow a float: huge gamma, zero variance */
                for (size_t k = 0; k < cv->weight.w + C && !st; k++) {
                    float v = k < cv->weight.w ? w[k] : b[k - cv->weight.w];
                    if (!isfinite(v))
                        st = vks_fail(VKS_ERR_MODEL_FORMAT, "layer %u (batch_norm): folded into layer %u (conv2d), its "
                                      "scale gamma / sqrt(var + eps) makes a %s that is not finite", i, i - 1,
                                      k < cv->weight.w ? "weight" : "bias");
                }
                if (st) break;
            } else {
                memcpy((char *)host + ly->params.offset, tmp, 4 * (size_t)ly->channels * sizeof(float));
            }
        }
    }
    if (st) goto fail;
    VKS_TRY(vks_block_create(m->ctx, cursor, VKS_MEM_DEVICE, &m->weights));
    VKS_TRY(vks_block_upload(m->ctx, &m->weights, 0, host, cursor));
fail:
    free(tmp);
    free(host);
    return st;
}

static vks_status_t parse_graph(vks_model_t *m, const vks_st_file_t *f, layer_refs_t **refs_out)
{
    vks_status_t st = VKS_OK;
    json_t *meta = f->metadata ? json_object_get(f->metadata, "vkstyle.graph") : NULL;
    if (!json_is_string(meta))
        return vks_fail(VKS_ERR_MODEL_FORMAT, "not a vkstyle model: no \"vkstyle.graph\" in the safetensors __metadata__");
    json_error_t jerr;
    json_t *g = json_loadb(json_string_value(meta), json_string_length(meta), JSON_REJECT_DUPLICATES, &jerr);
    if (!g) return vks_fail(VKS_ERR_MODEL_FORMAT, "graph JSON: %s (line %d)", jerr.text, jerr.line);
    loader_t L = {.f = f, .m = m};
    json_t *fmt = json_object_get(g, "format"), *ver = json_object_get(g, "version");
    json_t *styles = json_object_get(g, "styles"), *layers = json_object_get(g, "layers");
    json_t *name = json_object_get(g, "name");
    if (!json_is_object(g) || !json_is_string(fmt) || strcmp(json_string_value(fmt), "vkstyle-graph") ||
        !json_is_integer(ver) || json_integer_value(ver) != 1) {
        st = vks_fail(VKS_ERR_MODEL_FORMAT, "graph: expected \"format\": \"vkstyle-graph\", \"version\": 1");
        goto fail;
    }
    if (json_is_string(name)) vks_escape_controls(m->name, sizeof m->name, json_string_value(name));   /* printed as is */
    if (!json_is_array(styles) || json_array_size(styles) < 1 || json_array_size(styles) > VKS_MAX_STYLES) {
        st = vks_fail(VKS_ERR_MODEL_FORMAT, "graph: \"styles\" must list 1..%d style names", VKS_MAX_STYLES);
        goto fail;
    }
    m->nstyles = (uint32_t)json_array_size(styles);
    m->styles = calloc(m->nstyles, sizeof *m->styles);
    if (!m->styles) { st = vks_fail(VKS_ERR_OUT_OF_HOST_MEMORY, "out of host memory"); goto fail; }
    for (uint32_t s = 0; s < m->nstyles; s++) {
        json_t *v = json_array_get(styles, s);
        if (!json_is_string(v) || !*json_string_value(v) || json_string_length(v) > 64) {
            st = vks_fail(VKS_ERR_MODEL_FORMAT, "graph: style %u is not a name of 1..64 characters", s);
            goto fail;
        }
        /* selected on the command line as NAME or in a mix NAME=W,NAME=W, and printed */
        const unsigned char *c = (const unsigned char *)json_string_value(v);
        while (*c && *c != '=' && *c != ',' && *c >= 0x20 && *c != 0x7f) c++;
        if (*c) {
            st = vks_fail(VKS_ERR_MODEL_FORMAT, "graph: style %u '%s': style names may not hold '=', ',' or control "
                          "characters (a mix is written NAME=W,NAME=W)", s, json_string_value(v));
            goto fail;
        }
        for (uint32_t t = 0; t < s; t++)
            if (!strcmp(m->styles[t], json_string_value(v))) {
                st = vks_fail(VKS_ERR_MODEL_FORMAT, "graph: style name '%s' appears twice", m->styles[t]);
                goto fail;
            }
        if (!(m->styles[s] = strdup(json_string_value(v)))) { st = vks_fail(VKS_ERR_OUT_OF_HOST_MEMORY, "out of host memory"); goto fail; }
    }
    json_t *io[2] = {json_object_get(g, "input"), json_object_get(g, "output")};
    float *sc[2] = {&m->in_scale, &m->out_scale}, *of[2] = {&m->in_offset, &m->out_offset};
    L.opname = "graph";
    for (int k = 0; k < 2; k++) {
        if (io[k] && !json_is_object(io[k])) { st = vks_fail(VKS_ERR_MODEL_FORMAT, "graph: \"%s\" must be an object", k ? "output" : "input"); goto fail; }
        VKS_TRY(get_float(&L, io[k], "scale", 1.0f, -1e6f, 1e6f, sc[k]));
        VKS_TRY(get_float(&L, io[k], "offset", 0.0f, -1e6f, 1e6f, of[k]));
    }
    uint32_t in_channels;
    VKS_TRY(get_uint(&L, io[0], "channels", 3, 3, 3, &in_channels));
    if (!json_is_array(layers) || json_array_size(layers) < 1 || json_array_size(layers) > MAX_LAYERS) {
        st = vks_fail(VKS_ERR_MODEL_FORMAT, "graph: \"layers\" must be an array of 1..%d layers", MAX_LAYERS);
        goto fail;
    }
    m->nlayers = (uint32_t)json_array_size(layers);
    m->layers = calloc(m->nlayers, sizeof *m->layers);
    L.refs = calloc(m->nlayers, sizeof *L.refs);
    L.val_channels = calloc(m->nlayers + 1, sizeof *L.val_channels);
    if (!m->layers || !L.refs || !L.val_channels) { st = vks_fail(VKS_ERR_OUT_OF_HOST_MEMORY, "out of host memory"); goto fail; }
    L.val_channels[0] = in_channels;
    for (L.i = 0; L.i < m->nlayers; L.i++) VKS_TRY(parse_layer(&L, json_array_get(layers, L.i)));
    if (L.val_channels[m->nlayers] != 3) {
        st = vks_fail(VKS_ERR_MODEL_FORMAT, "graph: the last layer outputs %u channels, not 3 (RGB)", L.val_channels[m->nlayers]);
        goto fail;
    }
    plan_folding(m);
    *refs_out = L.refs;
    L.refs = NULL;
fail:
    free(L.refs);
    free(L.val_channels);
    json_decref(g);
    return st;
}

vks_status_t vks_model_load_memory(vks_context_t *ctx, const void *data, size_t size, vks_model_t **out)
{
    if (!ctx || !out || (!data && size)) return vks_fail(VKS_ERR_INVALID_ARGUMENT, "vks_model_load_memory: NULL argument");
    *out = NULL;
    vks_st_file_t f;
    vks_status_t st = vks_st_parse(data, size, &f);
    if (st) return st;
    for (size_t i = 0; i < f.count && !st; i++) st = vks_st_check_finite(&f, &f.tensors[i]);
    if (st) {
        vks_st_free(&f);
        return st;
    }
    layer_refs_t *refs = NULL;
    vks_model_t *m = calloc(1, sizeof *m);
    if (!m) { st = vks_fail(VKS_ERR_OUT_OF_HOST_MEMORY, "out of host memory"); goto fail; }
    m->ctx = ctx;
    VKS_TRY(parse_graph(m, &f, &refs));
    VKS_TRY(upload_weights(m, &f, refs));
    *out = m;
    m = NULL;
fail:
    free(refs);
    vks_model_destroy(m);
    vks_st_free(&f);
    return st;
}

vks_status_t vks_model_load(vks_context_t *ctx, const char *path, vks_model_t **out)
{
    if (!ctx || !path || !out) return vks_fail(VKS_ERR_INVALID_ARGUMENT, "vks_model_load: NULL argument");
    *out = NULL;
    int fd;
    uint64_t n;
    vks_status_t st = vks_file_open_regular(path, &fd, &n);
    if (st) return st;
    void *buf = NULL;
    if (n > (2ull << 30))
        st = vks_fail(VKS_ERR_MODEL_FORMAT, "%s: %llu bytes is larger than any vkstyle model (2 GiB)", path, (unsigned long long)n);
    else if (!(buf = malloc(n ? (size_t)n : 1)))
        st = vks_fail(VKS_ERR_OUT_OF_HOST_MEMORY, "%s: out of host memory", path);
    else
        st = vks_file_read_exact(fd, path, buf, (size_t)n);
    close(fd);
    if (!st) {
        st = vks_model_load_memory(ctx, buf, (size_t)n, out);
        if (st) vks_error_prefix("%s", path);
    }
    free(buf);
    return st;
}

void vks_model_destroy(vks_model_t *m)
{
    if (!m) return;
    vks_block_destroy(m->ctx, &m->weights);
    for (uint32_t s = 0; s < m->nstyles && m->styles; s++) free(m->styles[s]);
    free(m->styles);
    free(m->layers);
    free(m);
}

uint32_t vks_model_style_count(const vks_model_t *m) { return m ? m->nstyles : 0; }

const char *vks_model_style_name(const vks_model_t *m, uint32_t i)
{
    return m && i < m->nstyles ? m->styles[i] : NULL;
}

const char *vks_model_name(const vks_model_t *m) { return m ? m->name : ""; }
