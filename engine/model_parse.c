/* Model parsing: the graph in the safetensors __metadata__["vkstyle.graph"], validated layer by
 * layer against the file's tensors: what every layer has here, each op's attributes through its
 * descriptor (ops/op.h). Needs no device; model.c then lays out and uploads the weights. Batch
 * norms that directly follow a conv2d are marked to be folded into its weights here. */
#include "ops/op.h"

#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAX_LAYERS 1024

static const char *const act_names[] = {"none", "relu", "tanh", "sigmoid"};

struct vks_loader {
    const vks_st_file_t *f;
    vks_model_t *m;
    vks_layer_refs_t *refs;
    uint32_t *val_channels;   /* channels of each value */
    uint32_t i;               /* layer being parsed */
    const char *opname;
};
typedef vks_loader_t loader_t;

#define LFAIL(L, ...) vks_ld_fail(L, __VA_ARGS__)

void vks_ld_error(const loader_t *L, const char *fmt, ...)
{
    char msg[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    vks_error_set("layer %u (%s): %s", L->i, L->opname ? L->opname : "?", msg);
}

vks_status_t vks_ld_uint(const loader_t *L, json_t *o, const char *key, uint32_t def, uint32_t lo, uint32_t hi,
                         uint32_t *out)
{
    json_t *v = json_object_get(o, key);
    if (!v) { *out = def; return VKS_OK; }
    if (!json_is_integer(v) || json_integer_value(v) < lo || json_integer_value(v) > hi)
        return LFAIL(L, "'%s' must be an integer in %u..%u", key, lo, hi);
    *out = (uint32_t)json_integer_value(v);
    return VKS_OK;
}

vks_status_t vks_ld_float(const loader_t *L, json_t *o, const char *key, float def, float lo, float hi, float *out)
{
    json_t *v = json_object_get(o, key);
    if (!v) { *out = def; return VKS_OK; }
    double d = json_number_value(v);
    if (!json_is_number(v) || !isfinite(d) || d < lo || d > hi)
        return LFAIL(L, "'%s' must be a number in %g..%g", key, (double)lo, (double)hi);
    *out = (float)d;
    return VKS_OK;
}

vks_status_t vks_ld_ints(const loader_t *L, json_t *o, const char *key, uint32_t n, uint32_t lo, uint32_t hi,
                         const uint32_t *def, uint32_t *out)
{
    json_t *v = json_object_get(o, key);
    if (!v) {
        if (!def) return LFAIL(L, "missing '%s'", key);
        memcpy(out, def, n * sizeof *out);
        return VKS_OK;
    }
    bool ok = json_is_array(v) && json_array_size(v) == n;
    for (uint32_t i = 0; ok && i < n; i++) {
        json_t *e = json_array_get(v, i);
        ok = json_is_integer(e) && json_integer_value(e) >= lo && json_integer_value(e) <= hi;
        if (ok) out[i] = (uint32_t)json_integer_value(e);
    }
    return ok ? VKS_OK : LFAIL(L, "'%s' must be an array of %u integers in %u..%u", key, n, lo, hi);
}

vks_status_t vks_ld_stride(const loader_t *L, json_t *o, uint32_t def, uint32_t max, uint32_t *sh, uint32_t *sw)
{
    json_t *v = json_object_get(o, "stride");
    if (v && !json_is_integer(v)) {
        uint32_t s[2];
        if (!json_is_array(v) || vks_ld_ints(L, o, "stride", 2, 1, max, NULL, s))
            return LFAIL(L, "'stride' must be an integer in 1..%u or [sh, sw] of them", max);
        *sh = s[0];
        *sw = s[1];
        return VKS_OK;
    }
    vks_status_t st = vks_ld_uint(L, o, "stride", def, 1, max, sh);
    *sw = *sh;
    return st;
}

vks_status_t vks_ld_act(const loader_t *L, json_t *o, uint32_t *out)
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
vks_status_t vks_ld_tensor(const loader_t *L, json_t *o, const char *field, bool optional, uint32_t rank,
                           uint64_t *dims, const vks_st_tensor_t **out)
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

uint32_t vks_ld_channels(const loader_t *L, uint32_t v) { return L->val_channels[v]; }

uint32_t vks_ld_styles(const loader_t *L) { return L->m->nstyles; }

/* One layer: what every op has (op, name, inputs, residual, activation), then the op's own. */
static vks_status_t parse_layer(loader_t *L, json_t *o)
{
    vks_layer_t *ly = &L->m->layers[L->i];
    vks_status_t st;
    if (!json_is_object(o)) return LFAIL(L, "not a JSON object");
    json_t *opv = json_object_get(o, "op");
    ly->op = vks_op_find(json_is_string(opv) ? json_string_value(opv) : NULL);
    L->opname = ly->op ? ly->op->name : NULL;
    if (!ly->op) return LFAIL(L, "unknown or missing 'op'");

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
    if (ly->op->flags & VKS_OPF_TWO_INPUTS) {
        if (!json_is_array(in) || json_array_size(in) != 2) return LFAIL(L, "'input' must be [a, b]");
        if ((st = resolve(L, json_array_get(in, 0), "input", &ly->src))) return st;
        if ((st = resolve(L, json_array_get(in, 1), "input", &ly->src2))) return st;
    } else if (in && (st = resolve(L, in, "input", &ly->src))) {
        return st;
    }
    json_t *res = json_object_get(o, "residual");
    if (res) {
        if (!(ly->op->flags & VKS_OPF_RESIDUAL)) return LFAIL(L, "'residual' is only supported on normalization layers");
        if ((st = resolve(L, res, "residual", &ly->residual))) return st;
        ly->has_residual = true;
    }
    if (!(ly->op->flags & VKS_OPF_OWN_ACT) && (st = vks_ld_act(L, o, &ly->act))) return st;
    uint32_t cin = L->val_channels[ly->src];
    ly->channels = cin;
    if ((st = ly->op->parse(L, o, ly, &L->refs[L->i], cin))) return st;
    if (ly->has_residual && L->val_channels[ly->residual] != ly->channels)
        return LFAIL(L, "residual has %u channels, the layer %u", L->val_channels[ly->residual], ly->channels);
    L->val_channels[L->i + 1] = ly->channels;
    return VKS_OK;
}

/* Fold batch norms (VKS_OPF_FOLDS) that directly consume a conv2d (VKS_OPF_FOLD_TARGET) without
 * activation, used by nothing else. */
static void plan_folding(vks_model_t *m)
{
    for (uint32_t i = 1; i < m->nlayers; i++) {
        vks_layer_t *bn = &m->layers[i], *cv = &m->layers[i - 1];
        if (!(bn->op->flags & VKS_OPF_FOLDS) || bn->has_residual || bn->src != i || !(cv->op->flags & VKS_OPF_FOLD_TARGET) ||
            cv->act != VKS_ACT_NONE)
            continue;
        bool other_use = false;
        for (uint32_t j = 0; j < m->nlayers; j++)
            if (j != i && (m->layers[j].src == i || ((m->layers[j].op->flags & VKS_OPF_TWO_INPUTS) && m->layers[j].src2 == i) ||
                           (m->layers[j].has_residual && m->layers[j].residual == i)))
                other_use = true;
        if (other_use) continue;
        bn->folded = true;
        cv->act = bn->act;
    }
}

/* The style names: 1..VKS_MAX_STYLES distinct names a command line can select. */
static vks_status_t parse_styles(vks_model_t *m, json_t *styles)
{
    if (!json_is_array(styles) || json_array_size(styles) < 1 || json_array_size(styles) > VKS_MAX_STYLES)
        return vks_fail(VKS_ERR_MODEL_FORMAT, "graph: \"styles\" must list 1..%d style names", VKS_MAX_STYLES);
    m->nstyles = (uint32_t)json_array_size(styles);
    m->styles = calloc(m->nstyles, sizeof *m->styles);
    if (!m->styles) return vks_fail(VKS_ERR_OUT_OF_HOST_MEMORY, "out of host memory");
    for (uint32_t s = 0; s < m->nstyles; s++) {
        json_t *v = json_array_get(styles, s);
        if (!json_is_string(v) || !*json_string_value(v) || json_string_length(v) > 64)
            return vks_fail(VKS_ERR_MODEL_FORMAT, "graph: style %u is not a name of 1..64 characters", s);
        /* selected on the command line as NAME or in a mix NAME=W,NAME=W, and printed */
        const unsigned char *c = (const unsigned char *)json_string_value(v);
        while (*c && *c != '=' && *c != ',' && *c >= 0x20 && *c != 0x7f) c++;
        if (*c)
            return vks_fail(VKS_ERR_MODEL_FORMAT, "graph: style %u '%s': style names may not hold '=', ',' or control "
                            "characters (a mix is written NAME=W,NAME=W)", s, json_string_value(v));
        for (uint32_t t = 0; t < s; t++)
            if (!strcmp(m->styles[t], json_string_value(v)))
                return vks_fail(VKS_ERR_MODEL_FORMAT, "graph: style name '%s' appears twice", m->styles[t]);
        if (!(m->styles[s] = strdup(json_string_value(v)))) return vks_fail(VKS_ERR_OUT_OF_HOST_MEMORY, "out of host memory");
    }
    return VKS_OK;
}

vks_status_t vks_model_parse(vks_model_t *m, const vks_st_file_t *f, vks_layer_refs_t **refs_out)
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
    VKS_TRY(parse_styles(m, styles));
    json_t *io[2] = {json_object_get(g, "input"), json_object_get(g, "output")};
    float *sc[2] = {&m->in_scale, &m->out_scale}, *of[2] = {&m->in_offset, &m->out_offset};
    L.opname = "graph";
    for (int k = 0; k < 2; k++) {
        if (io[k] && !json_is_object(io[k])) { st = vks_fail(VKS_ERR_MODEL_FORMAT, "graph: \"%s\" must be an object", k ? "output" : "input"); goto fail; }
        VKS_TRY(vks_ld_float(&L, io[k], "scale", 1.0f, -1e6f, 1e6f, sc[k]));
        VKS_TRY(vks_ld_float(&L, io[k], "offset", 0.0f, -1e6f, 1e6f, of[k]));
    }
    uint32_t in_channels;   /* pixel sessions need 3 (graph.c); tensor sessions take any */
    VKS_TRY(vks_ld_uint(&L, io[0], "channels", 3, 1, VKS_MAX_INPUT_CHANNELS, &in_channels));
    m->in_channels = in_channels;
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
    m->out_channels = L.val_channels[m->nlayers];   /* pixel sessions need 3 (graph.c) */
    plan_folding(m);
    *refs_out = L.refs;
    L.refs = NULL;
fail:
    free(L.refs);
    free(L.val_channels);
    json_decref(g);
    return st;
}

