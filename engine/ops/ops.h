/* The ops' kernels: each records its dispatches for given tensors into a recorder. One file per
 * op; the file of an op of the model format also exports its layer descriptor (op.h: how a layer
 * of it is loaded, shaped, recorded and costed).
 * Activation tensors may be larger than one binding can cover: every op splits its work into
 * channel chunks that fit the device's maxStorageBufferRange (conv2d also splits input channels
 * and accumulates). Tensors must be batch n >= 1; each sample is dispatched separately. */
#ifndef VKS_OPS_H
#define VKS_OPS_H

#include "engine.h"

/* Padding modes (pad; conv2d's pad_mode): a push constant of pad.comp, the specialization
 * constant of conv2d.comp and conv2d_wino_in.comp. */
enum { VKS_PAD_ZERO, VKS_PAD_REFLECT, VKS_PAD_EDGE };

/* A convolution's variant: the tuner's choice (tune.c) of what runs instead of the built-in
 * heuristic. All zero: the heuristic. */
enum { VKS_CONV_AUTO, VKS_CONV_DIRECT, VKS_CONV_WINO2, VKS_CONV_WINO4, VKS_CONV_IGEMM, VKS_CONV_TGEMM, VKS_CONV_WINO6 };
typedef struct vks_conv_variant {
    uint32_t algo;     /* VKS_CONV_AUTO, VKS_CONV_DIRECT, VKS_CONV_WINO2 (F(2x2, 3x3)), VKS_CONV_WINO4 (F(4x4)), VKS_CONV_WINO6 (F(6x6)),
                        * VKS_CONV_IGEMM (implicit GEMM, conv2d_igemm.c), VKS_CONV_TGEMM (the transposed
                        * convolution as a GEMM per kernel tap, vks_op_conv2d_transpose_gemm) */
    uint32_t px, lx;   /* the direct convolution's tile: pixels per invocation, workgroup width; 0: the heuristic's.
                        * VKS_CONV_IGEMM: px is its workgroup tile + 1 (0: the heuristic's), lx 0 */
    uint32_t oc;       /* the direct tile's output channels per invocation, VKS_CONV_OC or VKS_CONV_OC_WIDE;
                        * 0: the heuristic's (vks_conv_transpose_oc for the transposed convolution) */
} vks_conv_variant_t;
/* Its name in tables and cache files ("winograd F(4x4)", "direct 8px 16x4", "direct 8px 16x4 16ch",
 * "heuristic"). */
void vks_conv_variant_name(const vks_conv_variant_t *v, char *buf, size_t size);
/* The direct tiles the tuner tries for cout channels and cols columns (cols per column parity
 * for the transposed convolution), oc the heuristic's output channels per invocation: the
 * heuristic's tile first, then the other shapes, then (more than VKS_CONV_OC channels) the
 * heuristic's shape with the other channel count, distinct; returns how many were written to v
 * (at most max). */
uint32_t vks_conv_direct_variants(uint32_t cout, uint32_t cols, uint32_t oc, vks_conv_variant_t *v, uint32_t max);
/* The transposed convolution's output channels per invocation where the variant does not say,
 * for cout channels and cols columns per column parity: VKS_CONV_OC_WIDE on a CPU device, where
 * each input load (a per-lane gather on lavapipe) then feeds twice the multiplies, where the
 * heuristic's tile is at most 4 pixels wide (columns of at most 64: a wider register tile compiles
 * far longer, so there it is the tuner's candidate only), else VKS_CONV_OC. */
uint32_t vks_conv_transpose_oc(const vks_context_t *ctx, uint32_t cout, uint32_t cols);

typedef struct vks_conv2d_params {
    uint32_t kh, kw, stride;
    int32_t pad_top, pad_bottom, pad_left, pad_right;
    uint32_t pad_mode;     /* VKS_PAD_*: zeros, reflection (pad < side), the edge repeated */
    uint32_t act;
    uint32_t stride_w;     /* the horizontal stride; 0: `stride` (vertical) */
    vks_conv_variant_t var;   /* zero: the heuristic's tile (and, by the layer, Winograd's) */
} vks_conv2d_params_t;

/* Whether p's reflection padding (if any) is narrower than the input, as reflection needs. */
bool vks_conv2d_padding_fits(const vks_conv2d_params_t *p, const vks_tensor_t *in);
/* out = act(conv(in, wt) + bias); wt [cout][cin][kh][kw] flat, bias [cout] or NULL. */
vks_status_t vks_op_conv2d(vks_rec_t *rec, const vks_conv2d_params_t *p, const vks_tensor_t *in,
                           const vks_tensor_t *wt, const vks_tensor_t *bias, const vks_tensor_t *out);
/* conv2d by Winograd (conv2d_winograd.c), for 3x3 stride-1 kernels: F(6x6, 3x3), F(4x4, 3x3) or
 * F(2x2, 3x3) (vks_winograd_tile): the same result as vks_op_conv2d (to fp32 rounding) from u, the weights
 * transformed by vks_winograd_weights (VKS_WINO_WEIGHT_PLANES x cout x cin floats, in a block with
 * VKS_UBO_BYTES of slack after them, as the model's weights block has), with scratch of
 * vks_winograd_scratch_bytes. VKS_ERR_SHAPE when vks_winograd_fits is false. */
vks_status_t vks_op_conv2d_winograd(vks_rec_t *rec, const vks_conv2d_params_t *p, const vks_tensor_t *in,
                                    const vks_tensor_t *u, const vks_tensor_t *bias, const vks_tensor_t *out,
                                    const vks_tensor_t *scratch);
/* Whether vks_op_conv2d_winograd can run these tensors on this device: a 3x3 stride-1 kernel,
 * every tensor within one binding, weight rows within a uniform binding, scratch (non-NULL) large
 * enough, and not disabled by VKSTYLE_WINOGRAD=0. */
bool vks_winograd_fits(const vks_context_t *ctx, const vks_conv2d_params_t *p, const vks_tensor_t *in,
                       const vks_tensor_t *u, const vks_tensor_t *out, const vks_tensor_t *scratch);
/* False when the environment has VKSTYLE_WINOGRAD=0 (the direct convolution everywhere). */
bool vks_winograd_enabled(void);
/* The output tile a Winograd convolution with an oh x ow output and activations of esize bytes
 * runs: in fp32 the one whose GEMMs, padded to whole workgroups, take the fewest products: 6
 * (F(6x6, 3x3): planes of 64x64 and most larger ones), 4 (F(4x4, 3x3): from 24x24) or 2 (F(2x2,
 * 3x3)); fp16 always 2 (the larger constants of F(4x4) and F(6x6) would take fp16 storage of V and
 * M past the tests' tolerances). VKSTYLE_WINOGRAD=2 takes F(2x2) everywhere, =4 F(4x4) and =6
 * F(6x6) wherever fp32, to measure one against another. */
uint32_t vks_winograd_tile(uint32_t esize, uint32_t oh, uint32_t ow);
/* The tile vks_op_conv2d_winograd runs for p: its variant's (F(4x4) and F(6x6) only in fp32, else
 * F(2x2)), or vks_winograd_tile. */
uint32_t vks_winograd_tile_of(const vks_conv2d_params_t *p, uint32_t esize, uint32_t oh, uint32_t ow);
/* Scratch bytes of a Winograd convolution of cin -> cout channels with an oh x ow output, for
 * activations of esize bytes: enough for every tile in fp32 (the tuner may pick any). */
VkDeviceSize vks_winograd_scratch_bytes(uint32_t cin, uint32_t cout, uint32_t oh, uint32_t ow, uint32_t esize);
/* Transformed weights: g [cout][cin][3][3] -> u [VKS_WINO_WEIGHT_PLANES][cout][cin]: F(2x2, 3x3)'s
 * 16 planes, u[p] = (G g G^T)[p / 4][p % 4], then F(4x4, 3x3)'s 36, u[16 + p] = (G g G^T)[p / 6][p % 6],
 * then F(6x6, 3x3)'s 64, u[52 + p] = (G g G^T)[p / 8][p % 8]. */
#define VKS_WINO_WEIGHT_PLANES (16 + 36 + 64)
void vks_winograd_weights(const float *g, uint32_t cout, uint32_t cin, float *u);
/* Where tile m's planes start among those VKS_WINO_WEIGHT_PLANES: 0 (m = 2), 16 (4), 16 + 36 (6). */
uint32_t vks_wino_planes_before(uint32_t m);
/* Tile m's bit in a mask of tiles (vks_op_winograd_weights, a layer's wino_ready): 1 << (m / 2 - 1). */
static inline uint32_t vks_wino_tile_bit(uint32_t m) { return 1u << (m / 2 - 1); }
/* The output tile of a Winograd variant: 2, 4 or 6 for VKS_CONV_WINO2, _WINO4, _WINO6; else 0. */
uint32_t vks_conv_wino_m(uint32_t algo);
/* The same transform on the device (conv2d_wino_weights; vks_winograd_weights is its reference):
 * g, cout x cin x 9 floats, to u, VKS_WINO_WEIGHT_PLANES x cout x cin floats, the planes of the
 * tiles in mask `tiles` (vks_wino_tile_bit) only. How a model's layers get theirs, each
 * tile on first use (conv2d.c): udnie's 76 MB for all three, transformed on the host and uploaded,
 * took most of its load. VKS_ERR_SHAPE unless vks_winograd_weights_fit. */
vks_status_t vks_op_winograd_weights(vks_rec_t *rec, const vks_tensor_t *g, uint32_t cout, uint32_t cin, const vks_tensor_t *u,
                                     uint32_t tiles);
/* Whether g, and one plane of u from an aligned offset before it, fit one binding each. */
bool vks_winograd_weights_fit(const vks_context_t *ctx, uint32_t cout, uint32_t cin);
/* Output side for an input side (0 if the padded input is smaller than the kernel). */
uint32_t vks_conv2d_out_side(uint32_t in, uint32_t k, uint32_t stride, int32_t pad_a, int32_t pad_b);
/* TensorFlow 'SAME' padding for one axis. */
void vks_same_padding(uint32_t in, uint32_t k, uint32_t stride, int32_t *before, int32_t *after);

typedef struct vks_conv2d_transpose_params {
    uint32_t kh, kw, stride_h, stride_w;
    int32_t pad_top, pad_left;
    uint32_t act;
    vks_conv_variant_t var;   /* the direct tile (px, lx); zero: the heuristic's */
} vks_conv2d_transpose_params_t;

/* out = act(convT(in, wt) + bias): out[sh*i + ky - pad_top][sw*j + kx - pad_left] += in[i][j] *
 * w[ky][kx], for whatever output size `out` has (at most (in-1)*s + k - pad + s - 1 per side: the
 * model's pads at the end and output padding, or a band of tiles): output positions no input
 * reaches get only the bias. wt [cout][cin][kh][kw], i.e. PyTorch's [cin][cout][kh][kw] permuted
 * by vks_conv2d_transpose_permute (so that each output channel's weights are contiguous, as for
 * conv2d). */
vks_status_t vks_op_conv2d_transpose(vks_rec_t *rec, const vks_conv2d_transpose_params_t *p,
                                     const vks_tensor_t *in, const vks_tensor_t *wt,
                                     const vks_tensor_t *bias, const vks_tensor_t *out);

void vks_conv2d_transpose_permute(const float *src, float *dst, uint32_t cin, uint32_t cout, uint32_t taps);

/* The transposed convolution as a GEMM per kernel tap (conv2d_winograd.c), on the Winograd
 * convolution's GEMM: the input pixels of a range of input rows laid out as V (conv2d_tgemm_in),
 * M[tap][cout][pixel] = U[tap] V (conv2d_wino_gemm*, every tap the same V), then each output
 * gathers the products its taps reach (conv2d_tgemm_out), plus the bias, through the activation.
 * The same result as vks_op_conv2d_transpose (to fp32 rounding). u: the weights by
 * vks_conv2d_transpose_gemm_weights (in a block with VKS_UBO_BYTES of slack after them); scratch
 * of vks_conv2d_transpose_gemm_scratch_bytes. VKS_ERR_SHAPE where vks_conv2d_transpose_gemm_fits
 * is false. */
vks_status_t vks_op_conv2d_transpose_gemm(vks_rec_t *rec, const vks_conv2d_transpose_params_t *p, const vks_tensor_t *in,
                                          const vks_tensor_t *u, const vks_tensor_t *bias, const vks_tensor_t *out,
                                          const vks_tensor_t *scratch);
/* Whether it runs these tensors on this device: fp32 activations (in fp16 its M, a partial sum a
 * tap, would round each partial: 1900 input channels missed the tests' tolerance), strides no
 * larger than the kernel, sides up to 7,
 * every tensor within one binding, weight rows within a uniform binding, scratch (non-NULL) large
 * enough, and not disabled by VKSTYLE_WINOGRAD=0 or VKSTYLE_TGEMM=0. */
bool vks_conv2d_transpose_gemm_fits(const vks_context_t *ctx, const vks_conv2d_transpose_params_t *p, const vks_tensor_t *in,
                                    const vks_tensor_t *u, const vks_tensor_t *out, const vks_tensor_t *scratch);
/* Its scratch bytes for cin -> cout channels, an h x w input and an oh x ow output (0: the kernel
 * or the precision is not one it takes). */
VkDeviceSize vks_conv2d_transpose_gemm_scratch_bytes(const vks_conv2d_transpose_params_t *p, uint32_t cin, uint32_t cout,
                                                     uint32_t h, uint32_t w, uint32_t oh, uint32_t ow, uint32_t esize);
/* Its weights: wt [cout][cin][taps] (vks_conv2d_transpose_permute's) -> u [taps][cout][cin]. */
void vks_conv2d_transpose_gemm_weights(const float *wt, uint32_t cout, uint32_t cin, uint32_t taps, float *u);

typedef struct vks_pad_params {
    uint32_t mode;                   /* VKS_PAD_* */
    uint32_t pads[4];                /* top, bottom, left, right */
    float value;                     /* the constant of VKS_PAD_ZERO */
    /* a band of rows (tiles): the whole input's height (0: in is the whole input), the whole
     * output's row of out's first row, the whole input's row of in's first row */
    uint32_t whole_h, oy0, iy0;
} vks_pad_params_t;

/* Whether reflection padding (mode VKS_PAD_REFLECT) is narrower than an h x w input, as it needs;
 * true for the other modes. */
bool vks_pad_fits(uint32_t mode, const uint32_t pads[4], uint32_t h, uint32_t w);
/* out = in padded: [n,c,h+top+bottom,w+left+right] (or the band's rows of it). */
vks_status_t vks_op_pad(vks_rec_t *rec, const vks_pad_params_t *p, const vks_tensor_t *in, const vks_tensor_t *out);

/* Nearest-neighbour upsampling by out/in (integers 1..VKS_MAX_UPSAMPLE per axis, op.h):
 * out[y][x] = in[y/sh][x/sw]. */
vks_status_t vks_op_upsample_nearest(vks_rec_t *rec, const vks_tensor_t *in, const vks_tensor_t *out);

/* Instance norm; gamma/beta read from tables at element offsets (a layer's own [C] tensors at
 * 0, or the mixed table of conditional_instance_norm). residual may be NULL. */
vks_status_t vks_op_instance_norm(vks_rec_t *rec, const vks_tensor_t *in, const vks_tensor_t *out,
                                  const vks_tensor_t *gamma, uint32_t gamma_off,
                                  const vks_tensor_t *beta, uint32_t beta_off, float eps,
                                  uint32_t act, const vks_tensor_t *residual);

/* Instance norm that may split large planes into ranges (GPUs; VKSTYLE_NORM_SPLIT): the ranges'
 * statistics then go through scratch, at least vks_instance_norm_scratch_bytes(in) bytes; without
 * it (NULL, or too small) one workgroup takes a plane, as vks_op_instance_norm. */
vks_status_t vks_op_instance_norm_scratch(vks_rec_t *rec, const vks_tensor_t *in, const vks_tensor_t *out,
                                          const vks_tensor_t *gamma, uint32_t gamma_off,
                                          const vks_tensor_t *beta, uint32_t beta_off, float eps,
                                          uint32_t act, const vks_tensor_t *residual, const vks_tensor_t *scratch);
VkDeviceSize vks_instance_norm_scratch_bytes(const vks_tensor_t *in);

/* Instance norm with given statistics: the mean and (biased) variance of channel c of sample n
 * are stats[2 * (stats_off + n * C + c)] and the next float (an image run in tiles normalizes
 * each tile with the whole image's statistics). */
vks_status_t vks_op_instance_norm_given(vks_rec_t *rec, const vks_tensor_t *in, const vks_tensor_t *out,
                                        const vks_tensor_t *gamma, uint32_t gamma_off,
                                        const vks_tensor_t *beta, uint32_t beta_off, float eps,
                                        uint32_t act, const vks_tensor_t *residual,
                                        const vks_tensor_t *stats, uint32_t stats_off);
/* Statistics of rows [row0, row0 + rows) of every plane: stats[2 * (stats_off + n * C + c)] = their
 * mean, the next float the sum of their squared deviations from it (M2), both fp32. */
vks_status_t vks_op_channel_stats(vks_rec_t *rec, const vks_tensor_t *in, uint32_t row0, uint32_t rows,
                                  const vks_tensor_t *stats, uint32_t stats_off);

/* The style mix of conditional instance norm: table [2][styles][channels] -> eff [2][channels].
 * Records one dispatch whose push constants are the weights (count <= styles <= VKS_MAX_STYLES). */
vks_status_t vks_op_cin_mix(vks_rec_t *rec, const vks_tensor_t *table, uint32_t styles,
                            uint32_t channels, const vks_tensor_t *eff, const float *weights,
                            uint32_t count);

/* A new mix for a recorder that holds one vks_op_cin_mix dispatch: re-records it with these
 * weights as its push constants (missing weights 0), reusing its pipeline and descriptor set. */
vks_status_t vks_op_cin_mix_update(vks_rec_t *rec, const float *weights, uint32_t count);

/* Inference batch norm; params [4][C]: mean, var, gamma, beta. */
vks_status_t vks_op_batch_norm(vks_rec_t *rec, const vks_tensor_t *in, const vks_tensor_t *out,
                               const vks_tensor_t *params, float eps, uint32_t act,
                               const vks_tensor_t *residual);
/* Fold an inference batch norm into the preceding convolution: wt [cout][per_out], bias [cout]
 * (pass zeros if the conv had none). */
void vks_fold_batch_norm(float *wt, float *bias, uint32_t cout, uint32_t per_out, const float *mean,
                         const float *var, const float *gamma, const float *beta, float eps);

vks_status_t vks_op_activation(vks_rec_t *rec, const vks_tensor_t *in, const vks_tensor_t *out,
                               uint32_t act, float scale, float offset);
/* vks_op_activation with VKS_ACT_LEAKY_RELU (p0: alpha) and VKS_ACT_CLIP (p0, p1: min, max) too. */
vks_status_t vks_op_activation_ex(vks_rec_t *rec, const vks_tensor_t *in, const vks_tensor_t *out, uint32_t act,
                                  float p0, float p1, float scale, float offset);
vks_status_t vks_op_add(vks_rec_t *rec, const vks_tensor_t *a, const vks_tensor_t *b,
                        const vks_tensor_t *out);

/* Pixels (w*h*channels bytes at px, channels 3 or 4, BGR order when swap_rb) -> out [1,3,h,w]. */
vks_status_t vks_op_pack_rgb8(vks_rec_t *rec, const vks_binding_t *px, uint32_t w, uint32_t h,
                              uint32_t channels, bool swap_rb, float scale, float offset,
                              const vks_tensor_t *out);
/* YUYV 4:2:2 (BT.601 limited range; even w) -> out [1,3,h,w] in 0..255 * scale + offset. */
vks_status_t vks_op_yuyv_to_rgb(vks_rec_t *rec, const vks_binding_t *px, uint32_t w, uint32_t h, float scale,
                                float offset, const vks_tensor_t *out);
/* in [1,3,th,tw] cropped top-left to w x h -> RGBA8 (BGRA when swap_rb) pixels at px. */
vks_status_t vks_op_unpack_rgba8(vks_rec_t *rec, const vks_tensor_t *in, uint32_t w, uint32_t h,
                                 bool swap_rb, float scale, float offset, const vks_binding_t *px);

/* The implicit-GEMM convolution (conv2d_igemm.c): conv2d (any kernel, strides, padding mode) or
 * conv2d_transpose (by stride phases) as a tiled GEMM through shared memory, for GPUs. Weights
 * [cout][cin][kh][kw] as the direct convolution's. vks_op_conv2d and vks_op_conv2d_transpose call it
 * for params whose var.algo is VKS_CONV_IGEMM, after their own checks. */
typedef struct vks_conv_igemm {
    uint32_t kh, kw, sy, sx;
    int32_t pad_top, pad_left;
    uint32_t pad_mode, act;
    bool transposed;
    vks_conv_variant_t var;
} vks_conv_igemm_t;
vks_status_t vks_conv_igemm_record(vks_rec_t *rec, const char *op, const vks_conv_igemm_t *g, const vks_tensor_t *in,
                                   const vks_tensor_t *wt, const vks_tensor_t *bias, const vks_tensor_t *out);
/* The implicit-GEMM tiles the tuner tries for cout output channels on this device (those within
 * its compute limits): the heuristic's, then a narrower one; returns how many were written. */
uint32_t vks_conv_igemm_variants(const vks_context_t *ctx, uint32_t cout, vks_conv_variant_t *v, uint32_t max);
void vks_conv_igemm_name(const vks_conv_variant_t *v, char *buf, size_t size);
/* Whether the tuner tries the implicit GEMM on this device: on GPUs; not on CPU devices (on Mesa's
 * lavapipe its shared-memory stages and barriers make it 5-47x slower than the direct convolution,
 * benchmarks/README.md), unless VKSTYLE_IGEMM=1. */
bool vks_conv_igemm_offered(const vks_context_t *ctx);

/* Push constants of conv2d.comp, conv2d_transpose.comp and conv2d_igemm.comp (mirrored field for
 * field; each reads the fields it needs). */
typedef struct vks_conv_push {
    uint32_t h, w, in_stride;
    uint32_t oh, ow, out_stride;
    uint32_t c_total;      /* input channels of the layer (weight row length / taps) */
    uint32_t ci0, nci, co0, nco;
    int32_t pad0, pad1;    /* top, left */
    uint32_t first, last;
    uint32_t wofs;         /* conv2d: element of the bound weights where output channel co0 starts */
    uint32_t cpb;          /* *_xubo: input planes per uniform buffer (a push constant, not a specialization
                            * constant: one pipeline serves every plane size) */
    uint32_t oy0;          /* conv2d: the dispatch's first output row (row bands; oh is then the band's end) */
    int32_t xbase;         /* conv2d_xubo in row bands: the plane element where the input bindings start */
    uint32_t ry, rx;       /* conv2d_igemm of a transposed convolution: the dispatch's stride phase */
    uint32_t wg_base[3];   /* the dispatch's first workgroup (set by the recorder: split dispatches) */
} vks_conv_push_t;
_Static_assert(sizeof(vks_conv_push_t) <= 128, "push constants");

/* A direct convolution's register tile (oc output channels x px pixels of one row per
 * invocation) and workgroup (lx x ly invocations): specialization constants, so the dispatch grid
 * follows them. */
typedef struct vks_conv_tile {
    uint32_t oc, px, lx, ly;
} vks_conv_tile_t;
/* The tile for cout output channels and cols output columns (per column parity for the transposed
 * convolution): all the channels when there are fewer than VKS_CONV_OC (RGB output layers);
 * 8 x 8 invocations and a row of px about the plane's width for layers of at most 64 columns
 * (else 16 x 4 with px = 8). VKSTYLE_CONV_TILE=OCxPX[xLX], when set, caps oc,
 * sets px and the workgroup's width (its height makes 64 invocations): to measure other shapes, and
 * to keep the instrumented compiles of GPU-assisted validation small. A variant with px set (the
 * tuner's) replaces px and lx, and one with oc set the output channels (at most cout), before
 * VKSTYLE_CONV_TILE. */
vks_conv_tile_t vks_conv_tile(uint32_t cout, uint32_t cols, const vks_conv_variant_t *var);
/* Output channels whose conv2d weights fit one uniform binding, or 0 when the conv2d_ubo variant cannot
 * be used (device limit, rows too long, or no VKS_UBO_BYTES of block left after the weights:
 * blocks that hold weights reserve that much slack at their end). */
uint32_t vks_conv_ubo_rows(const vks_context_t *ctx, const vks_tensor_t *wt, uint32_t cout);
/* Input channel planes one uniform binding holds when the *_xubo shader can read the input from
 * VKS_X_UBOS uniform buffers (vks_ubo_planes, and the weights from a uniform buffer too), else 0. */
uint32_t vks_conv_x_cpb(const vks_context_t *ctx, const vks_tensor_t *in, uint32_t ubo_rows);
/* Whether activations may be read from uniform buffers at per-invocation addresses (conv2d_xubo,
 * conv2d_transpose_xubo, the Winograd GEMM's V): on CPU devices (lavapipe compiles a uniform load
 * into plain loads, a storage load into a per-lane loop with a bounds check), not on GPUs, whose
 * uniform path is built for one address across the invocations and serializes distinct ones
 * (there the input comes from storage buffers; VKSTYLE_INPUT_UBO=1 forces it, to measure). */
bool vks_input_ubo(const vks_context_t *ctx);
/* Whether shaders load uniform-buffer weights 8 at a time, one per invocation, and hand them out
 * with subgroupShuffle (the Winograd GEMM's xubo and mpos variants, the direct convolutions' ubo
 * variants): on CPU devices with subgroup shuffles and subgroups of at least 8. lavapipe compiles
 * a uniform load whose address depends on a loop counter into one load per lane: 8 loads of the
 * same weight, where one load now serves 8 weights. */
bool vks_weight_shuffle(const vks_context_t *ctx);
/* Activation planes of in one VKS_UBO_BYTES uniform binding holds where vks_input_ubo, the device
 * has scalarBlockLayout and in is fp32 with planes of at most VKS_UBO_BYTES; else 0 (the *_xubo
 * shaders' condition, before their own). */
uint32_t vks_ubo_planes(const vks_context_t *ctx, const vks_tensor_t *in);
/* conv2d_xubo in row bands, for input planes larger than one uniform buffer: rows output rows a
 * dispatch (a multiple of the tile's ly), each input channel's rows for them in one uniform
 * binding; the kernel's height, vertical stride and padding mode say which input rows a band reads. */
typedef struct vks_conv_band {
    uint32_t rows, kh, sy, pad_mode;
} vks_conv_band_t;
/* The output rows per band for a conv2d of kernel height kh and vertical stride sy on in, or 0 when
 * the input is not read in row bands: where vks_input_ubo, with uniform weights (ubo_rows) and
 * scalarBlockLayout, fp32, planes over VKS_UBO_BYTES, at least one row of invocations (tile.ly
 * rows) a band, and not VKSTYLE_ROW_BANDS=0 (to measure). */
uint32_t vks_conv_x_band(const vks_context_t *ctx, const vks_tensor_t *in, uint32_t ubo_rows, uint32_t kh, uint32_t sy,
                         vks_conv_tile_t tile);
/* Bindings b[0..VKS_X_UBOS) of the *_xubo shaders: channels [c, c + nc) of sample n, cpb planes a
 * binding (those past nc: the first plane again, never read). */
void vks_bind_ubo_planes(const vks_tensor_t *in, uint32_t n, uint32_t c, uint32_t nc, uint32_t cpb, vks_binding_t *b);
/* The implicit GEMM's dispatch grid (conv2d_igemm.c): workgroups of bm output channels x bn output
 * pixels; a transposed convolution one dispatch per stride phase (sy x sx). */
typedef struct vks_conv_gemm {
    uint32_t bm, bn, sy, sx;
    bool transposed;
} vks_conv_gemm_t;
/* The pipeline of a convolution: variants[0] (weights and input in storage buffers), [1] (weights
 * in a uniform buffer: ubo_rows) or [2] (input too: x_cpb > 0, the driver workaround's constant
 * appended to spec's nspec constants). Picks the fp16 variant for fp16 tensors. */
vks_status_t vks_conv_pipeline(vks_rec_t *rec, const char *op, const vks_shader_id_t variants[3],
                               const uint32_t *spec, uint32_t nspec, uint32_t ubo_rows, uint32_t x_cpb,
                               const vks_tensor_t *in, const vks_tensor_t *out, const vks_pipeline_t **pipe);
/* Record a convolution-like op over input- and output-channel chunks (split-K with
 * accumulation when the input does not fit one binding). push has the shape fields set;
 * parity_groups, parity_rows: 0 for conv2d, the horizontal and vertical strides for
 * conv2d_transpose (its workgroups each take one column parity and one row parity);
 * tile: the register tile and workgroup shape the pipeline was specialized with (vks_conv_tile);
 * ubo_rows: 0 when the weights are one storage binding, else the output channels whose weights
 * one VKS_UBO_BYTES uniform binding holds (the conv2d_ubo variant of conv2d.comp); x_cpb: 0 when the input is one storage
 * binding, else the input planes one uniform binding holds (the conv2d_xubo variant: VKS_X_UBOS of them);
 * band: NULL, or the row bands of conv2d_xubo (vks_conv_x_band; x_cpb is then 1); gemm: NULL, or
 * the implicit GEMM's grid (conv2d_igemm.comp; tile, ubo_rows, x_cpb and band unused). */
vks_status_t vks_conv_record_chunks(vks_rec_t *rec, const char *op, const vks_pipeline_t *pipe,
                                    vks_conv_push_t push, uint32_t parity_groups, uint32_t parity_rows,
                                    vks_conv_tile_t tile, uint32_t ubo_rows, uint32_t x_cpb, const vks_conv_band_t *band,
                                    const vks_conv_gemm_t *gemm, const vks_tensor_t *in, const vks_tensor_t *wt,
                                    const vks_tensor_t *bias, const vks_tensor_t *out);

/* The measurement knobs that set a workgroup size (VKSTYLE_NORM_LOCAL, VKSTYLE_WINO_LOCAL_MIN): the
 * variable's value when it is a power of 2 in lo..hi, else 0 (unset, or not such a number). */
uint32_t vks_env_pow2(const char *name, uint32_t lo, uint32_t hi);
/* Whether the environment variable name is set to value (the measurement switches). */
bool vks_env_is(const char *name, const char *value);
/* Shared by the ops: the most channels of these tensors one binding may cover (error naming
 * the op when a single plane is too large). */
vks_status_t vks_chunk_channels(const vks_context_t *ctx, const char *op, const vks_tensor_t *const *ts,
                                uint32_t n, uint32_t *chunk);
/* Shared by the one-input, one-output elementwise-style ops (activation, pad, upsample_nearest):
 * records pipe over every sample of in/out and every chunk of channels one binding may cover
 * (vks_chunk_channels), with the same push constants each time and the grid (ceil(plane /
 * VKS_LOCAL_1D), channels in the chunk, 1): plane is the invocations one channel needs. */
vks_status_t vks_rec_channel_planes(vks_rec_t *rec, const char *op, const vks_pipeline_t *pipe,
                                    const vks_tensor_t *in, const vks_tensor_t *out, const void *push,
                                    uint32_t plane);
/* The variant of shader `base` for the element type of the op's activation tensors (NULL entries
 * skipped): the shader itself for float32, its _f16 variant for float16. Fails when the tensors
 * mix element types, or for float16 when the device has no fp16 or the shader no fp16 variant. */
vks_status_t vks_act_shader(const vks_context_t *ctx, const char *op, vks_shader_id_t base,
                            const vks_tensor_t *const *ts, uint32_t n, vks_shader_id_t *out);
/* vks_act_shader, then the pipeline of that shader with storage-buffer bindings. */
vks_status_t vks_act_pipeline(vks_rec_t *rec, const char *op, vks_shader_id_t base, const vks_tensor_t *const *ts,
                              uint32_t n, const uint32_t *spec, uint32_t nspec, uint32_t nbindings, uint32_t push_size,
                              const vks_pipeline_t **pipe);
/* Fail unless a and b have the same n, c, h, w. */
vks_status_t vks_check_same_shape(const char *op, const vks_tensor_t *a, const vks_tensor_t *b);

#endif
