/* The op registry. Every op of the model format is one descriptor, exported by its file in
 * engine/ops/ and listed once, in registry.c: its name in the graph JSON, how it reads its
 * attributes and weights, its output shape, how a band of its output rows depends on its input
 * (tiles), how it records, and its cost. Loading (model.c, model_parse.c), planning (plan.c),
 * recording (graph.c, tiled.c) and profiling (profile.c) go through the descriptor and name no
 * op: adding an op is its C file, its shader(s), its tests and one line of the table.
 *
 * A layer (model.h) holds the attributes of every op in one struct; each op reads and writes
 * only its own fields. */
#ifndef VKS_OP_H
#define VKS_OP_H

#include "../model.h"
#include "../safetensors.h"
#include "ops.h"

#include <jansson.h>

/* ------------------------------------------------------------------ loading */

#define VKS_MAX_KERNEL 15            /* the largest kernel side a model may have */
#define VKS_MAX_UPSAMPLE 8            /* upsample_nearest's largest factor */
#define VKS_MAX_INPUT_CHANNELS 4096  /* the graph input's channels (tensor sessions) */

/* The graph being parsed (model_parse.c). */
typedef struct vks_loader vks_loader_t;

/* The file tensors a layer uses (NULL when not used). model.c reads weight and bias into the
 * layer's weight and bias tensors; the rest are the op's own (its load hook). */
typedef struct vks_layer_refs {
    const vks_st_tensor_t *weight, *bias, *gamma, *beta, *mean, *var;
} vks_layer_refs_t;

/* Records "layer I (OP): " and the message as the error (vks_error_set). */
void vks_ld_error(const vks_loader_t *L, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* vks_ld_fail(L, fmt, ...): vks_ld_error's message, and VKS_ERR_MODEL_FORMAT (in the macro: see
 * vks_fail in error.h) */
#define vks_ld_fail(L, ...) (vks_ld_error(L, __VA_ARGS__), VKS_ERR_MODEL_FORMAT)
/* o[key] as an integer in lo..hi, or def when absent. */
vks_status_t vks_ld_uint(const vks_loader_t *L, json_t *o, const char *key, uint32_t def, uint32_t lo,
                         uint32_t hi, uint32_t *out);
/* o[key] as a finite number in lo..hi, or def when absent. */
vks_status_t vks_ld_float(const vks_loader_t *L, json_t *o, const char *key, float def, float lo, float hi,
                          float *out);
/* o["activation"]: one of the fused activations (none, relu, tanh, sigmoid), VKS_ACT_NONE when absent. */
vks_status_t vks_ld_act(const vks_loader_t *L, json_t *o, uint32_t *out);
/* o[key] as an array of n integers each in lo..hi, or def (n of them) when absent; absent and def
 * NULL: an error. */
vks_status_t vks_ld_ints(const vks_loader_t *L, json_t *o, const char *key, uint32_t n, uint32_t lo, uint32_t hi,
                         const uint32_t *def, uint32_t *out);
/* o["stride"]: an integer s (both axes) or [sh, sw], each 1..max; def for both when absent. */
vks_status_t vks_ld_stride(const vks_loader_t *L, json_t *o, uint32_t def, uint32_t max, uint32_t *sh, uint32_t *sw);
/* The file tensor o[field] names, checked to be of this rank and shape (dims of 0 are filled in
 * from the tensor). Optional: absent or null gives NULL. */
vks_status_t vks_ld_tensor(const vks_loader_t *L, json_t *o, const char *field, bool optional, uint32_t rank,
                           uint64_t *dims, const vks_st_tensor_t **out);
/* Channels of value v (0 the graph input, i + 1 layer i's output), and the model's style count. */
uint32_t vks_ld_channels(const vks_loader_t *L, uint32_t v);
uint32_t vks_ld_styles(const vks_loader_t *L);

/* The model's weights being laid out in one block (model.c): first every layer reserves its
 * tensors (host NULL), then every layer fills them in host, a copy of the block's first host_size
 * bytes; the weights the device derives (the descriptor's reserve_derived) come after those. */
typedef struct vks_wbuild {
    vks_model_t *m;
    const vks_st_file_t *f;
    const vks_layer_refs_t *refs;    /* per layer */
    VkDeviceSize size;               /* bytes reserved so far */
    VkDeviceSize host_size;          /* bytes the host fills and uploads */
    uint8_t *host;                   /* the block's contents (load), NULL while reserving */
    float *tmp;                      /* scratch for the ops' load hooks (vks_wb_tmp) */
    size_t tmp_floats;
} vks_wbuild_t;

/* A flat tensor of `floats` floats in the weights block, 256-byte aligned. */
vks_tensor_t vks_wb_reserve(vks_wbuild_t *wb, uint64_t floats);
/* Where tensor t of the block is in host. */
float *vks_wb_at(const vks_wbuild_t *wb, const vks_tensor_t *t);
/* Scratch of at least `floats` floats (valid until the next call), or NULL with an error set. */
float *vks_wb_tmp(vks_wbuild_t *wb, size_t floats);

/* ------------------------------------------------------------------ recording */

/* Which rows of its input a band of output rows [r0, r1) reads (tiles, tiled.c). */
typedef struct vks_band_rows {
    uint32_t a, b;                   /* input rows [a, b) */
    uint32_t oh;                     /* rows the op writes from them ... */
    uint32_t d0;                     /* ... of which the band's rows start at d0 */
    int32_t pad_top, pad_bottom;     /* the image's padding at its borders, none inside (conv2d) */
    uint32_t r0;                     /* the band's first output row (set before the op's band hook) */
} vks_band_rows_t;

/* What one layer records with: its tensors in the arena, the session's tables. */
typedef struct vks_layer_io {
    const vks_tensor_t *in, *out;
    const vks_tensor_t *in2;         /* the second input (VKS_OPF_TWO_INPUTS), else NULL */
    const vks_tensor_t *res;         /* the residual, or NULL */
    const vks_tensor_t *whole_in;    /* the whole image's input shape (in may hold some rows of it) */
    const vks_tensor_t *mix;         /* the mixed CIN gamma/beta [2][mix_channels] */
    uint32_t mix_channels;
    const vks_tensor_t *stats;       /* given statistics of in (VKS_OPF_WHOLE_STATS): the whole image's (tiles), or
                                        averaged across frames (stabilize.c); else NULL: the norm takes its own */
    uint32_t stats_off;              /* where in stats (in pairs) this layer's start */
    const vks_band_rows_t *band;     /* tiles: the band's rows, else NULL */
    const vks_tensor_t *scratch;     /* the layer's scratch (the descriptor's scratch bytes), or NULL */
    const vks_conv_variant_t *var;   /* the tuner's choice for the layer (tune.c), or NULL: the heuristic */
} vks_layer_io_t;

/* ------------------------------------------------------------------ the descriptor */

enum {
    VKS_OPF_TWO_INPUTS = 1u << 0,    /* 'input' is [a, b]: reads src and src2 */
    VKS_OPF_RESIDUAL = 1u << 1,      /* takes 'residual', added after the activation */
    VKS_OPF_WHOLE_STATS = 1u << 2,   /* normalizes by its input's per-channel statistics over the image */
    VKS_OPF_FOLDS = 1u << 3,         /* folds into a preceding VKS_OPF_FOLD_TARGET layer without activation */
    VKS_OPF_FOLD_TARGET = 1u << 4,
    VKS_OPF_OWN_ACT = 1u << 5,       /* parses "activation" itself (vks_ld_act for the fused ones) */
};

struct vks_op_desc {
    const char *name;                /* "op" in the graph JSON */
    const char *label;               /* in profiles' tables (at most 18 characters); NULL: name */
    uint32_t flags;                  /* VKS_OPF_* */
    /* Read the op's attributes from layer object o into ly (and the file tensors it uses into r).
     * ly->channels is the input's channel count cin on entry; set it to the output's. */
    vks_status_t (*parse)(const vks_loader_t *L, json_t *o, vks_layer_t *ly, vks_layer_refs_t *r, uint32_t cin);
    /* Weights beyond weight and bias: reserve them, then fill them (NULL: none). */
    void (*reserve)(vks_wbuild_t *wb, uint32_t layer);
    vks_status_t (*load)(vks_wbuild_t *wb, uint32_t layer);
    /* After every layer's load (batch norms folded into it): weights derived from the layer's
     * final ones (NULL: none). */
    vks_status_t (*finish)(vks_wbuild_t *wb, uint32_t layer);
    /* Weights the device derives from the layer's uploaded ones, when first recorded (NULL: none):
     * reserved after every weight the host fills, so that the upload stops short of them. */
    void (*reserve_derived)(vks_wbuild_t *wb, uint32_t layer);
    /* The output size for an input (in2: the second input, or NULL); NULL: the input's size.
     * Errors are VKS_ERR_SHAPE; the caller names the layer. */
    vks_status_t (*shape)(const vks_layer_t *ly, const vks_tensor_t *in, const vks_tensor_t *in2, uint32_t *oh,
                          uint32_t *ow);
    /* The input rows a band of output rows [r0, r1) reads (in: the whole input); NULL: row-wise
     * (rows [r0, r1), written as they are read, so it may write over its input). */
    void (*band)(const vks_layer_t *ly, const vks_tensor_t *in, uint32_t r0, uint32_t r1, vks_band_rows_t *b);
    vks_status_t (*record)(vks_rec_t *rec, const vks_layer_t *ly, const vks_layer_io_t *io);
    /* Bytes of scratch the layer may use while it runs, for this input and output (the plan gives
     * it io->scratch; NULL or 0: none). The op must still run without it (io->scratch NULL). */
    VkDeviceSize (*scratch)(const vks_layer_t *ly, const vks_tensor_t *in, const vks_tensor_t *out);
    /* The variants the tuner (tune.c) may time for this layer with these tensors (io->scratch
     * included): at most max of them into v, returning how many (NULL, or fewer than 2: nothing to
     * choose), and in *heuristic the index of the one the built-in heuristic runs. Every one gives
     * the same result within the tests' tolerances. */
    uint32_t (*variants)(const vks_context_t *ctx, const vks_layer_t *ly, const vks_layer_io_t *io,
                         vks_conv_variant_t *v, uint32_t max, uint32_t *heuristic);
    /* FLOPs and bytes of the layer (lp's name, op and shape are filled in; it may add to shape). */
    void (*cost)(const vks_layer_t *ly, const vks_tensor_t *in, const vks_tensor_t *out, vks_layer_profile_t *lp);
};

extern const vks_op_desc_t vks_op_conv2d_desc, vks_op_conv2d_transpose_desc, vks_op_upsample_nearest_desc,
    vks_op_instance_norm_desc, vks_op_conditional_instance_norm_desc, vks_op_batch_norm_desc,
    vks_op_activation_desc, vks_op_add_desc, vks_op_pad_desc;

/* The registry (registry.c): every op of the model format, and lookup by name (NULL if none). */
extern const vks_op_desc_t *const vks_op_table[];
extern const uint32_t vks_op_count;
const vks_op_desc_t *vks_op_find(const char *name);

/* The label of an op in tables. */
static inline const char *vks_op_label(const vks_op_desc_t *d) { return d->label ? d->label : d->name; }

/* The cost of an instance norm (shared with conditional_instance_norm). */
void vks_instance_norm_cost(const vks_layer_t *ly, const vks_tensor_t *in, const vks_tensor_t *out,
                            vks_layer_profile_t *lp);
/* The scratch of an instance norm, vks_instance_norm_scratch_bytes (shared likewise). */
VkDeviceSize vks_instance_norm_scratch(const vks_layer_t *ly, const vks_tensor_t *in, const vks_tensor_t *out);
/* The cost of a convolution layer of `macs` multiply-adds (conv2d, conv2d_transpose): its FLOPs, the
 * bytes of its input, output and weights, and " kK sS" (or " kK sSHxSW") added to its shape. */
void vks_conv_cost(const vks_layer_t *ly, const vks_tensor_t *in, const vks_tensor_t *out, double macs,
                   vks_layer_profile_t *lp);
/* The band of an op that scatters each input row to output rows stride * i + k - pad, k < kh
 * (conv2d_transpose; upsampling: kh 1, pad 0): the input rows [r0, r1) need, and the output
 * rows they make. */
void vks_band_scatter(uint32_t stride, uint32_t kh, int32_t pad, const vks_tensor_t *in, uint32_t r0, uint32_t r1,
                      vks_band_rows_t *b);

#endif
