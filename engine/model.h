/* A loaded model: the validated graph and its weights on the device. */
#ifndef VKS_MODEL_H
#define VKS_MODEL_H

#include "engine.h"

/* What an op is and does: its descriptor in the registry (ops/op.h). */
typedef struct vks_op_desc vks_op_desc_t;

/* Values are numbered: 0 is the graph input, i + 1 the output of layer i. The attributes are
 * those of every op; each op (its descriptor) reads its own. */
typedef struct vks_layer {
    const vks_op_desc_t *op;
    char name[64];
    uint32_t src, src2;      /* values read (src2: ops with VKS_OPF_TWO_INPUTS) */
    bool has_residual;
    uint32_t residual;       /* value added after the activation */
    bool folded;             /* batch norm folded into its conv: output aliases src */
    uint32_t channels;       /* output channels */
    uint32_t act;
    float eps, scale, offset;
    uint32_t kh, kw, stride;
    bool pad_same;
    uint32_t stride_w;       /* horizontal stride (conv2d, conv2d_transpose; `stride` the vertical one) */
    int32_t pad[4];          /* top, bottom, left, right (conv2d, explicit; conv2d_transpose, "pads") */
    int32_t tpad;            /* conv2d_transpose's symmetric "padding" (the output stride x the input) */
    bool tpads;              /* conv2d_transpose: "pads" given (the output size from pad and opad) */
    uint32_t opad[2];        /* conv2d_transpose: output padding, rows and columns */
    uint32_t pmode;          /* pad, conv2d's pad_mode: VKS_PAD_* (ops.h) */
    float pvalue;            /* pad: the constant of mode zero */
    float act_p[2];          /* activation: leaky_relu's alpha; clip's min and max */
    vks_tensor_t weight, bias, gamma, beta, params;
    vks_tensor_t wino;       /* conv2d 3x3 stride 1: Winograd-transformed weights; conv2d_transpose: its weights
                              * per kernel tap (vks_conv2d_transpose_gemm_weights); block NULL: none */
    uint32_t wino_ready;     /* conv2d: the tiles whose planes of wino are computed (vks_wino_tile_bit), on
                              * first use; the one field written after load, under ctx->weights_lock */
    bool has_bias;
    uint32_t cin_offset;     /* channel offset in the model's CIN table */
} vks_layer_t;

struct vks_model {
    vks_context_t *ctx;
    char name[128];
    char **styles;
    uint32_t nstyles;
    float in_scale, in_offset, out_scale, out_offset;
    uint32_t in_channels;    /* the graph input's (3 for pixel sessions) */
    uint32_t out_channels;   /* the last layer's output's */
    vks_layer_t *layers;
    uint32_t nlayers;
    vks_block_t weights;
    uint32_t cin_channels;   /* total channels of all CIN layers */
    vks_tensor_t cin_table;  /* [2][styles][cin_channels] */
};

/* Parse and validate the graph of file f into m (no device needed): m's styles, scales and
 * layers, and per layer the file tensors it uses (*refs, nlayers of them, to free). */
struct vks_st_file;
struct vks_layer_refs;
vks_status_t vks_model_parse(vks_model_t *m, const struct vks_st_file *f, struct vks_layer_refs **refs);

#endif
