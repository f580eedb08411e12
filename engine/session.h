/* Session internals, shared by graph.c (recording, running), tiled.c and profile.c. */
#ifndef VKS_SESSION_H
#define VKS_SESSION_H

#include "ops/ops.h"
#include "plan.h"

typedef struct vks_tiled vks_tiled_t;

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
    uint64_t main_recordings, style_recordings;
    vks_tiled_t *tiled;        /* a session run in tiles (tiled.c); NULL: one recorded network */
    struct vks_stab *stab;     /* temporal stabilization (stabilize.c); NULL: off */
    vks_conv_variant_t *var;   /* per layer, the tuner's choice (tune.c); NULL: the heuristic everywhere */
    vks_tune_layer_t *tuning;  /* the tuner's report (vks_session_tuning), ntuning entries */
    uint32_t ntuning;
};

/* Record the network into rec: pixel copies, conversion, every layer, conversion back. With a
 * query pool (profiling), the staging copies are left out and a timestamp is written before the
 * first and after every step (query i + 1 after step i: input conversion, layers, output). */
vks_status_t vks_session_record(vks_session_t *s, vks_rec_t *rec, VkQueryPool timestamps);

/* Record layer i of the untiled network into rec (with the tuner's variant, if any). */
vks_status_t vks_session_record_layer(vks_session_t *s, vks_rec_t *rec, uint32_t i);
/* Layer i's scratch in the arena, in buf, or NULL when the plan gives it none. */
const vks_tensor_t *vks_session_layer_scratch(vks_session_t *s, uint32_t i, vks_tensor_t *buf);
/* Layer i's name, op, shape, FLOPs and bytes (profile.c). */
void vks_session_layer_describe(const vks_session_t *s, uint32_t i, vks_layer_profile_t *lp);
/* Choose each convolution's variant into s->var (s->opts.tune; tune.c): after s->style is
 * recorded, before s->main is (timing runs the network once in a recording of its own). */
vks_status_t vks_tune_session(vks_session_t *s);
/* Tiled sessions (tiled.c). Create: s has its options resolved and s->plan built (the whole
 * image's shapes and lifetimes); sizes the bands within s->opts.max_memory and the device's
 * limits, allocates, sets s->eff. Run: in is w*h pixels of in_bpp bytes (the session's input
 * format; RGB when 3), out w*h*4 bytes in its output format. */
vks_status_t vks_tiled_create(vks_session_t *s);
vks_status_t vks_tiled_run(vks_session_t *s, const void *in, uint32_t in_bpp, uint8_t *out);
void vks_tiled_destroy(vks_session_t *s);

#endif
