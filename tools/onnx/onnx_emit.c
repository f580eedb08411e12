/* The translated layers -> a vkstyle model file in memory: the graph JSON of docs/model-format.md
 * in the safetensors metadata, the weights as F32 tensors named <layer>.<field>. Layers no longer
 * feeding the output (folded pads, unused branches) are left out. */
#include "onnx_graph.h"

#include <jansson.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *const act_names[] = {"none", "relu", "tanh", "sigmoid", "leaky_relu", "clip"};
static const char *const pad_modes[] = {"zero", "reflect", "edge"};
static const char *const tensor_fields[] = {"weight", "bias", "gamma", "beta", "mean", "var"};

static const char *src_name(const ox_graph_t *g, int src) { return src ? g->layers[src - 1].name : "input"; }

static json_t *pair_or_int(int a, int b) { return a == b ? json_integer(a) : json_pack("[i,i]", a, b); }

static json_t *layer_json(const ox_graph_t *g, const ox_layer_t *l, int prev_src)
{
    static const char *const ops[] = {"conv2d", "conv2d_transpose", "upsample_nearest", "instance_norm", "batch_norm",
                                      "activation", "add", "pad"};
    json_t *o = json_pack("{s:s,s:s}", "op", ops[l->op], "name", l->name);
    if (!o) return NULL;
    if (l->op == L_ADD) json_object_set_new(o, "input", json_pack("[s,s]", src_name(g, l->src), src_name(g, l->src2)));
    else if (l->src != prev_src) json_object_set_new(o, "input", json_string(src_name(g, l->src)));
    for (int t = 0; t < T_COUNT; t++)
        if (l->t[t].data) {
            char nm[96];
            snprintf(nm, sizeof nm, "%s.%s", l->name, tensor_fields[t]);
            json_object_set_new(o, tensor_fields[t], json_string(nm));
        }
    switch (l->op) {
    case L_CONV:
        json_object_set_new(o, "stride", pair_or_int(l->stride[0], l->stride[1]));
        json_object_set_new(o, "padding", l->same ? json_string("same")
                                                  : json_pack("[i,i,i,i]", l->pads[0], l->pads[1], l->pads[2], l->pads[3]));
        json_object_set_new(o, "pad_mode", json_string(pad_modes[l->pad_mode]));
        break;
    case L_CONVT:
        json_object_set_new(o, "stride", pair_or_int(l->stride[0], l->stride[1]));
        if (l->convt_general) {
            json_object_set_new(o, "pads", json_pack("[i,i,i,i]", l->pads[0], l->pads[1], l->pads[2], l->pads[3]));
            json_object_set_new(o, "output_padding", json_pack("[i,i]", l->out_pad[0], l->out_pad[1]));
        } else {
            json_object_set_new(o, "padding", json_integer(l->pads[0]));
        }
        break;
    case L_UPS: json_object_set_new(o, "scale", pair_or_int(l->ups[0], l->ups[1])); break;
    case L_IN:
    case L_BN: json_object_set_new(o, "eps", json_real(l->eps)); break;
    case L_ACT:
        json_object_set_new(o, "scale", json_real(l->scale));
        json_object_set_new(o, "offset", json_real(l->offset));
        if (l->act == A_LEAKY) json_object_set_new(o, "alpha", json_real(l->alpha));
        if (l->act == A_CLIP) {   /* an open end is left to the defaults (-3.4e38, 3.4e38) */
            if (l->cmin > -3.4e38f) json_object_set_new(o, "min", json_real(l->cmin));
            if (l->cmax < 3.4e38f) json_object_set_new(o, "max", json_real(l->cmax));
        }
        break;
    case L_PAD:
        json_object_set_new(o, "pads", json_pack("[i,i,i,i]", l->pads[0], l->pads[1], l->pads[2], l->pads[3]));
        json_object_set_new(o, "mode", json_string(pad_modes[l->pad_mode]));
        if (l->pad_mode == PM_ZERO) json_object_set_new(o, "value", json_real(l->pad_value));
        break;
    default: break;
    }
    if (l->op != L_ADD && l->op != L_PAD && l->op != L_UPS) json_object_set_new(o, "activation", json_string(act_names[l->act]));
    if (l->residual >= 0) json_object_set_new(o, "residual", json_string(src_name(g, l->residual)));
    return o;
}

static void range_affine(vks_onnx_range_t r, bool output, double *scale, double *offset)
{
    /* input: tensor = pixel * scale + offset; output: pixel = x * scale + offset */
    switch (r) {
    case VKS_ONNX_RANGE_1: *scale = output ? 255.0 : 1.0 / 255.0, *offset = 0; break;
    case VKS_ONNX_RANGE_PM1: *scale = output ? 127.5 : 2.0 / 255.0, *offset = output ? 127.5 : -1.0; break;
    default: *scale = 1, *offset = 0; break;
    }
}

int ox_emit(ox_graph_t *g, const char *name, const vks_onnx_options_t *o, vks_onnx_range_t in_r, vks_onnx_range_t out_r,
            uint8_t **bytes, size_t *n)
{
    /* the output comes from the graph input itself: one identity layer */
    if (g->out_src == 0) {
        if (g->nlayers == g->caplayers) {
            ox_layer_t *l = realloc(g->layers, (g->caplayers + 1) * sizeof *l);
            if (!l) return ox_fail(g->e, "out of memory");
            g->layers = l, g->caplayers++;
        }
        g->layers[g->nlayers++] = (ox_layer_t){.op = L_ACT, .name = "identity", .src = 0, .residual = -1, .scale = 1,
                                               .src2 = -1, .channels = g->in_channels};
        g->out_src = (int)g->nlayers;
    }
    /* live layers: those the output depends on (all earlier than it, in dependency order) */
    bool *live = calloc(g->nlayers + 1, sizeof *live);
    if (!live) return ox_fail(g->e, "out of memory");
    live[g->out_src] = true;
    for (size_t k = g->nlayers; k > 0; k--) {
        if (!live[k]) continue;
        const ox_layer_t *l = &g->layers[k - 1];
        live[l->src] = true;
        if (l->src2 >= 0) live[l->src2] = true;
        if (l->residual >= 0) live[l->residual] = true;
    }
    int rc = -1;
    json_t *graph = NULL, *header = NULL, *layers = json_array();
    char *graph_s = NULL, *header_s = NULL;
    int prev = 0;
    size_t data_bytes = 0;
    for (size_t k = 1; k <= (size_t)g->out_src; k++) {
        const ox_layer_t *l = &g->layers[k - 1];
        if (!live[k]) continue;
        if (l->dead) { ox_error(g->e, "internal error: a folded layer is still used"); goto done; }
        json_array_append_new(layers, layer_json(g, l, prev));
        prev = (int)k;
        for (int t = 0; t < T_COUNT; t++) data_bytes += l->t[t].n * 4;
    }
    double is, io, os, oo;
    range_affine(o->tensor_mode ? VKS_ONNX_RANGE_255 : in_r, false, &is, &io);
    range_affine(o->tensor_mode ? VKS_ONNX_RANGE_255 : out_r, true, &os, &oo);
    graph = json_pack("{s:s,s:i,s:s,s:[s],s:{s:i,s:f,s:f},s:{s:f,s:f},s:O}", "format", "vkstyle-graph", "version", 1, "name",
                      name, "styles", name, "input", "channels", (int)g->in_channels, "scale", is, "offset", io, "output",
                      "scale", os, "offset", oo, "layers", layers);
    if (!graph || !(graph_s = json_dumps(graph, JSON_COMPACT))) { ox_error(g->e, "out of memory"); goto done; }
    header = json_object();
    json_object_set_new(header, "__metadata__", json_pack("{s:s,s:s}", "vkstyle.graph", graph_s, "vkstyle.source", "onnx"));
    size_t off = 0;
    for (size_t k = 1; k <= (size_t)g->out_src; k++) {
        const ox_layer_t *l = &g->layers[k - 1];
        if (!live[k]) continue;
        for (int t = 0; t < T_COUNT; t++) {
            const ox_tensor_t *tt = &l->t[t];
            if (!tt->data) continue;
            char nm[96];
            snprintf(nm, sizeof nm, "%s.%s", l->name, tensor_fields[t]);
            json_t *shape = json_array();
            for (int d = 0; d < tt->rank; d++) json_array_append_new(shape, json_integer(tt->dims[d]));
            json_object_set_new(header, nm, json_pack("{s:s,s:o,s:[I,I]}", "dtype", "F32", "shape", shape, "data_offsets",
                                                      (json_int_t)off, (json_int_t)(off + tt->n * 4)));
            off += tt->n * 4;
        }
    }
    if (!(header_s = json_dumps(header, JSON_COMPACT))) { ox_error(g->e, "out of memory"); goto done; }
    size_t hl = strlen(header_s), total = 8 + hl + data_bytes;
    uint8_t *buf = malloc(total);
    if (!buf) { ox_error(g->e, "out of memory"); goto done; }
    for (int i = 0; i < 8; i++) buf[i] = (uint8_t)((uint64_t)hl >> (8 * i));
    memcpy(buf + 8, header_s, hl);
    uint8_t *p = buf + 8 + hl;
    for (size_t k = 1; k <= (size_t)g->out_src; k++) {
        const ox_layer_t *l = &g->layers[k - 1];
        if (!live[k]) continue;
        for (int t = 0; t < T_COUNT; t++) {
            const ox_tensor_t *tt = &l->t[t];
            for (size_t i = 0; tt->data && i < tt->n; i++, p += 4) {
                uint32_t u;
                memcpy(&u, &tt->data[i], 4);
                p[0] = (uint8_t)u, p[1] = (uint8_t)(u >> 8), p[2] = (uint8_t)(u >> 16), p[3] = (uint8_t)(u >> 24);
            }
        }
    }
    *bytes = buf, *n = total;
    rc = 0;
done:
    free(live);
    free(graph_s);
    free(header_s);
    json_decref(graph);
    json_decref(header);
    json_decref(layers);
    return rc;
}
