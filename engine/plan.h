/* A session's plan (plan.c): shapes, lifetimes and arena offsets, for a model and an input size.
 * Pure host code: it needs no device. */
#ifndef VKS_PLAN_H
#define VKS_PLAN_H

#include "model.h"

/* One allocation in the arena: live from step `def` to step `last` (inclusive). Steps: 0 packs
 * the input pixels, i + 1 runs layer i, L + 1 unpacks, L + 2 copies out. */
typedef struct item {
    VkDeviceSize size, off;
    uint32_t def, last;
} item_t;

typedef struct plan {
    uint32_t nvals;            /* L + 1 values */
    vks_tensor_t *vals;        /* shapes (offsets: the session lays them out at items[alias[v]].off) */
    uint32_t *alias;           /* value -> the value whose memory it is (folded BN) */
    item_t *items;             /* per value, then px_in, px_out, eff, then per layer its scratch */
    uint32_t nitems;
    VkDeviceSize arena;
} plan_t;

/* Plan model at a w x h input with activations of esize bytes (4: fp32, 2: fp16): items 0..L
 * are the values (0 the input, i + 1 layer i's output; size 0 for one that aliases another),
 * then the input pixels (w*h*4 bytes, step 0), the output pixels (steps L + 1..L + 2) and the
 * mixed CIN table (all steps), then each layer's scratch (its step only; size 0 for none, and for
 * every layer without `scratch`: its op then runs without, e.g. conv2d's direct convolution
 * instead of Winograd). VKS_ERR_SHAPE names the layer whose shape does not work. On failure p may
 * hold allocations: vks_plan_free it either way. */
vks_status_t vks_plan_build(const vks_model_t *m, uint32_t w, uint32_t h, uint32_t esize, bool scratch, plan_t *p);
/* vks_plan_build for a session of VKS_TENSOR_F32 input and output when `tensors`: the input value
 * has the graph's input channels, the output may be any size, and the pixel items are empty (the
 * session copies its staging buffers to and from the input and output values). */
vks_status_t vks_plan_build_io(const vks_model_t *m, uint32_t w, uint32_t h, uint32_t esize, bool scratch, bool tensors,
                               plan_t *p);
/* Free a plan (zeroed or built); zeroes it. */
void vks_plan_free(plan_t *p);

#endif
