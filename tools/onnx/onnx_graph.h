/* The translation state: ONNX values (constants or runtime tensors) and the vkstyle layers being
 * built (onnx_translate.c builds them, onnx_emit.c writes them). */
#ifndef VKS_ONNX_GRAPH_H
#define VKS_ONNX_GRAPH_H

#include "onnx_internal.h"

enum { L_CONV, L_CONVT, L_UPS, L_IN, L_BN, L_ACT, L_ADD, L_PAD };
enum { A_NONE, A_RELU, A_TANH, A_SIGMOID, A_LEAKY, A_CLIP };
enum { PM_ZERO, PM_REFLECT, PM_EDGE };
enum { T_WEIGHT, T_BIAS, T_GAMMA, T_BETA, T_MEAN, T_VAR, T_COUNT };

typedef struct ox_tensor {   /* a float tensor of the output file */
    int rank;
    int64_t dims[4];
    size_t n;
    float *data;
} ox_tensor_t;

typedef struct ox_layer {
    int op;
    char name[64];
    int src, src2, residual;   /* value indices (0 the graph input, k + 1 layer k); residual -1: none */
    int act;
    float alpha, cmin, cmax, scale, offset;
    int pads[4];               /* top, bottom, left, right */
    int pad_mode;
    float pad_value;
    bool same;
    int stride[2], out_pad[2];
    bool convt_general;
    int ups[2];
    float eps;
    ox_tensor_t t[T_COUNT];   /* data NULL: absent */
    uint32_t channels;
    int64_t oh, ow;            /* the output's size where the input's is fixed, else 0 */
    int refs;                  /* ONNX consumers of the values this layer produces */
    bool dead;
} ox_layer_t;

enum { V_NONE, V_CONST, V_DYN };
typedef struct ox_value {
    const char *name;
    int kind;
    ox_const_t c;
    int src;          /* V_DYN */
    uint32_t ch;      /* V_DYN: channels */
    int rank;         /* V_DYN: 4, or 1..3 in tensor mode ([W], [H,W], [C,H,W] taken as [1,C,H,W]) */
    int consumers;    /* how many node inputs and graph outputs name it */
} ox_value_t;

typedef struct ox_graph {
    ox_value_t *vals;
    size_t nvals, capvals;
    ox_layer_t *layers;
    size_t nlayers, caplayers;
    uint32_t in_channels;
    int64_t in_h, in_w;   /* fixed in the model's input shape, else 0 */
    int64_t batch;        /* tensor mode: a fixed batch N > 1 runs as N separate samples */
    int out_src;
    int opset;
    bool tensor_mode;
    uint64_t fold_budget;   /* elements constant folding may still make (OX_MAX_FOLDED at the start) */
    const Onnx__GraphProto *gr;
    ox_err_t *e;
} ox_graph_t;

/* Serialize the live layers into a safetensors file (onnx_emit.c). */
int ox_emit(ox_graph_t *g, const char *name, const vks_onnx_options_t *o, vks_onnx_range_t in_r, vks_onnx_range_t out_r,
            uint8_t **bytes, size_t *n);

#endif
