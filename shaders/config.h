/* Constants shared by the C engine and the GLSL shaders (#included by both). */
#ifndef VKS_CONFIG_H
#define VKS_CONFIG_H

/* Most styles a conditional-instance-norm model may have: the weight vector is the whole
 * push-constant block of the mixing shader (32 floats = 128 bytes, the guaranteed minimum). */
#define VKS_MAX_STYLES 32

/* Tensors are NCHW float32 with every channel plane padded to a multiple of this many floats
 * (256 bytes), so a binding can start at any channel and stay aligned to any device's
 * minStorageBufferOffsetAlignment (which the spec caps at 256). */
#define VKS_PLANE_ALIGN 64

/* Workgroup sizes. */
#define VKS_LOCAL_1D 64        /* element-wise shaders: invocations per workgroup along x */
#define VKS_NORM_LOCAL 64      /* normalization: one workgroup per (sample, channel) plane; 64, not 256:
                                * on lavapipe each of the reduction's barriers costs per invocation, and
                                * 256 made a 128x16x16 instance norm 2.8 ms instead of 0.74 */
#define VKS_NORM_PART 4096     /* normalization on a GPU: plane elements a workgroup when a plane is split
                                * into ranges (engine/ops/instance_norm.c, norm_part) */
#define VKS_NORM_UNROLL 16     /* normalization: plane elements an invocation takes a loop iteration */
/* The largest plane the normalization shaders take (instance_norm.comp: 3 loops over the plane in
 * one invocation, within llvmpipe's 65535 loop iterations; see norm_common.glsl): 22 MP. */
#define VKS_NORM_MAX_PLANE (65535u / 3u * VKS_NORM_LOCAL * VKS_NORM_UNROLL)
#define VKS_CONV_LOCAL_X 16    /* conv: invocations along output x (each does VKS_CONV_PX pixels) */
#define VKS_CONV_LOCAL_Y 4     /* conv: invocations along output y */
#define VKS_CONV_OC 8           /* conv: output channels per invocation (register tile) */
#define VKS_CONV_OC_WIDE 16     /* conv: the wide tile's (the transposed conv's on a CPU device; the tuner's) */
#define VKS_CONV_PX 8           /* conv: output pixels along x per invocation (register tile) */

/* Winograd F(2x2, 3x3) and F(4x4, 3x3) (conv2d_winograd.c): invocations per workgroup of their shaders, and
 * the GEMM's register tile: VKS_WINO_TM output channels x TN tiles (TN, a specialization constant,
 * 1..VKS_WINO_TN_MAX, fitted to the tile count) per invocation. */
#define VKS_WINO_LOCAL 64
#define VKS_WINO_LOCAL_MIN 16  /* Winograd GEMM: the narrowest workgroup, for small planes (conv2d_winograd.c) */
#define VKS_WINO_TM 8
/* on a CPU device (lavapipe): 16 output channels an invocation, so that each per-lane load of V
 * (a gather there) feeds twice the multiplies; residual convs of udnie 0.90-0.94x the time of 8 at
 * 64x64 to 256x256 on Mesa 22.3 and 0.91x at 128x128 on Mesa 25 (benchmarks/README.md) */
#define VKS_WINO_TM_CPU 16
#define VKS_WINO_TN_MAX 8
/* Winograd: the most tiles (2x2 outputs) the three steps take at once; larger planes run in
 * ranges of this many, so that the scratch is at most 16 x (cin + cout) x this many values
 * (64 MiB for 128 -> 128 channels in fp32) whatever the frame size. A multiple of every GEMM
 * workgroup's tiles (VKS_WINO_LOCAL x 32). */
#define VKS_WINO_CHUNK 4096
#define VKS_TGEMM_NC_CPU 16    /* the transposed GEMM's input and output steps: channels an invocation on a CPU device */
/* Bytes of weights the conv2d_ubo variant reads from one uniform-buffer binding (the common
 * maxUniformBufferRange; devices with less use conv2d.comp). */
#define VKS_UBO_BYTES 65536
/* WSHUF (vks_weight_shuffle): the weights one shuffled uniform load serves, one an invocation, so
 * the least subgroup size it needs (conv2d.comp, conv2d_transpose.comp, conv2d_wino_gemm.comp). */
#define VKS_SHUFFLE_N 8
/* Uniform buffers the conv2d_xubo variant reads its input channel planes from; with the weights' one
 * that is 12, the guaranteed maxPerStageDescriptorUniformBuffers. */
#define VKS_X_UBOS 11
/* Positions the conv2d_wino_gemm_mpos variant takes a dispatch (Winograd on small planes): each
 * its weights and its V in uniform buffers of their own, 12 in all, the guaranteed
 * maxPerStageDescriptorUniformBuffers. */
#define VKS_WINO_NPOS ((VKS_X_UBOS + 1) / 2)

/* Stabilization (stab_motion.comp): the largest input change recorded, in 0..255 units; a reset
 * makes every pixel's change this (finite, so that the mean over the frame is too). */
#define VKS_STAB_DIFF_MAX 1000.0
/* Stabilization (stab_motion.comp): the change recorded where the motion-compensated position
 * falls outside the previous frame (content that just came in: changed, but no cut). */
#define VKS_STAB_DIFF_OUT 255.0
/* Stabilization (stab_grey.comp): grey values are clamped to +-this (0..255 units), so that a
 * reset's huge fill stays finite through the pyramid and the block matching. */
#define VKS_STAB_GREY_MAX 10000.0
/* Stabilization (stab_flow.comp): the largest block-matching window radius. */
#define VKS_STAB_WIN_MAX 3
/* Stabilization (stab_flow.comp): the largest search radius. */
#define VKS_STAB_SEARCH_MAX 2

/* Activation codes (specialization constant). */
#define VKS_ACT_NONE 0
#define VKS_ACT_RELU 1
#define VKS_ACT_TANH 2
#define VKS_ACT_SIGMOID 3
/* The standalone activation op only (activation.comp), with parameters in its push constants. */
#define VKS_ACT_LEAKY_RELU 4   /* x < 0 ? alpha * x : x */
#define VKS_ACT_CLIP 5         /* min(max(x, lo), hi) */

#endif
