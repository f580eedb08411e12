/* A loaded model: the validated graph and its weights on the device. */
#ifndef VKS_MODEL_H
#define VKS_MODEL_H

#include "engine.h"

typedef enum vks_op_kind {
    VKS_OP_CONV2D,
    VKS_OP_CONV2D_TRANSPOSE,
    VKS_OP_UPSAMPLE_NEAREST,
    VKS_OP_INSTANCE_NORM,
    VKS_OP_CONDITIONAL_INSTANCE_NORM,
    VKS_OP_BATCH_NORM,
    VKS_OP_ACTIVATION,
    VKS_OP_ADD,
} vks_op_kind_t;

/* Values are numbered: 0 is the graph input, i + 1 the output of layer i. */
typedef struct vks_layer {
    vks_op_kind_t op;
    char name[64];
    uint32_t src, src2;      /* values read (src2: add only) */
    bool has_residual;
    uint32_t residual;       /* value added after the activation */
    bool folded;             /* batch norm folded into its conv: output aliases src */
    uint32_t channels;       /* output channels */
    uint32_t act;
    float eps, scale, offset;
    uint32_t kh, kw, stride;
    bool pad_same, reflect;
    int32_t pad[4];          /* top, bottom, left, right (conv2d, explicit) */
    int32_t tpad;            /* conv2d_transpose */
    vks_tensor_t weight, bias, gamma, beta, params;
    bool has_bias;
    uint32_t cin_offset;     /* channel offset in the model's CIN table */
} vks_layer_t;

struct vks_model {
    vks_context_t *ctx;
    char name[128];
    char **styles;
    uint32_t nstyles;
    float in_scale, in_offset, out_scale, out_offset;
    vks_layer_t *layers;
    uint32_t nlayers;
    vks_block_t weights;
    uint32_t cin_channels;   /* total channels of all CIN layers */
    vks_tensor_t cin_table;  /* [2][styles][cin_channels] */
};

#endif
