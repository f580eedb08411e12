/* Session internals, shared by graph.c (planning, recording, running) and profile.c. */
#ifndef VKS_SESSION_H
#define VKS_SESSION_H

#include "model.h"

/* One allocation in the arena: live from step `def` to step `last` (inclusive). Steps: 0 packs
 * the input pixels, i + 1 runs layer i, L + 1 unpacks, L + 2 copies out. */
typedef struct item {
    VkDeviceSize size, off;
    uint32_t def, last;
} item_t;

typedef struct plan {
    uint32_t nvals;            /* L + 1 values */
    vks_tensor_t *vals;        /* shapes (offsets filled by place()) */
    uint32_t *alias;           /* value -> the value whose memory it is (folded BN) */
    item_t *items;             /* per value, then px_in, px_out, eff */
    uint32_t nitems;
    VkDeviceSize arena;
} plan_t;

struct vks_session {
    vks_context_t *ctx;
    vks_model_t *model;
    uint32_t w, h;
    vks_session_options_t opts;
    plan_t plan;
    vks_block_t arena, stage_in, stage_out;
    vks_tensor_t eff;          /* mixed CIN gamma/beta [2][cin_channels] */
    vks_binding_t px_in, px_out;
    vks_rec_t main, style;
    VkQueryPool frame_ts;      /* two timestamps around the network in `main`; NULL without */
    bool ran;                  /* main has completed at least once (frame_ts holds results) */
    float weights[VKS_MAX_STYLES];
    uint64_t main_recordings, style_recordings;
};

/* Record the network into rec: pixel copies, conversion, every layer, conversion back. With a
 * query pool (profiling), the staging copies are left out and a timestamp is written before the
 * first and after every step (query i + 1 after step i: input conversion, layers, output). */
vks_status_t vks_session_record(vks_session_t *s, vks_rec_t *rec, VkQueryPool timestamps);

#endif
