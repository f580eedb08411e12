/* Temporal stabilization of a session's frames (stabilize.c) and its ops (ops/stabilize.c). */
#ifndef VKS_STABILIZE_H
#define VKS_STABILIZE_H

#include "session.h"
#include "ops/ops.h"

#include <math.h>

/* stab_blend's parameters (stab_blend.comp). */
typedef struct vks_stab_blend {
    uint32_t radius;      /* the input change is averaged over a (2 radius + 1)^2 window */
    float keep;           /* weight of the previous output where the input did not change, 0..1 */
    float lo, hi;         /* input change (0..255): below lo nothing changed, above hi all did */
    float cut_thr;        /* mean input change over the frame above which it is a cut */
    float tol;            /* the result stays within tol of the new output (tensor units) */
} vks_stab_blend_t;

/* stab_flow's parameters (stab_flow.comp). */
typedef struct vks_stab_flow {
    uint32_t search;      /* integer displacements within +-search of the start are tried, <= VKS_STAB_SEARCH_MAX */
    uint32_t win;         /* matching window radius, <= VKS_STAB_WIN_MAX */
    float penalty;        /* cost per pixel of distance from the start (0..255 units) */
    float trunc;          /* a pixel's difference counts at most this much (0..255 units) */
    float maxflow;        /* a larger flow (or one not finite) is 0 */
    float still;          /* no motion where its mean difference is within this of the best's */
    float reg;            /* the Lucas-Kanade step's regularization (0..255 units squared), >= 0 */
    float dead;           /* a sub-pixel flow from no motion shorter than this is dropped (pixels), >= 0 */
} vks_stab_flow_t;

/* in [1,3,h,w] (float32 or float16), out float32 [1,1,ceil(h/factor),ceil(w/factor)]: each output
 * pixel the mean over its factor x factor block of the luma (0.299, 0.587, 0.114) times inv_scale,
 * clamped to +-VKS_STAB_GREY_MAX. */
vks_status_t vks_op_stab_grey(vks_rec_t *rec, const vks_tensor_t *in, const vks_tensor_t *out, uint32_t factor,
                              float inv_scale);
/* cur, prev float32 [1,1,h,w] (grey), coarse NULL or float32 [1,2,ceil(h/2),ceil(w/2)], flow
 * float32 [1,2,h,w]: block matching from cur back to prev around twice the upsampled coarse flow
 * (stab_flow.comp). */
vks_status_t vks_op_stab_flow(vks_rec_t *rec, const vks_tensor_t *cur, const vks_tensor_t *prev,
                              const vks_tensor_t *coarse, const vks_tensor_t *flow, const vks_stab_flow_t *p);
/* in, prev [1,3,h,w] (float32 or float16, the same), flow float32 [1,2,h,w], diff float32 [1,1,h,w]:
 * diff = min(max_c |in(p) - prev(p + flow(p))| * inv_scale, VKS_STAB_DIFF_MAX), prev sampled
 * bilinearly; VKS_STAB_DIFF_OUT where p + flow(p) is outside the frame. */
vks_status_t vks_op_stab_motion(vks_rec_t *rec, const vks_tensor_t *in, const vks_tensor_t *prev,
                                const vks_tensor_t *flow, const vks_tensor_t *diff, float inv_scale);
/* For channels c < channels: with m, v = cur pair (cur_off + c) as (mean, M2 / count), and e the ema
 * pair (ema_off + c): e = cut ? (m, v) : mix((m, v), e, alpha), where cut is cut[0] > cut_thr (or
 * not a number). All flat float32. */
vks_status_t vks_op_stats_ema(vks_rec_t *rec, const vks_tensor_t *cur, uint32_t cur_off, const vks_tensor_t *ema,
                              uint32_t ema_off, uint32_t channels, uint32_t count, const vks_tensor_t *cut,
                              float alpha, float cut_thr);
/* out, prev [1,3,oh,ow] (float32 or float16, the same), diff float32 [1,1,h,w], flow float32
 * [1,2,h,w]: each output pixel p (clamped into diff's size for diff and flow) is blended with prev
 * at p + flow (bilinear, clamped into the output) by k = keep * (1 - smoothstep(lo, hi, window
 * mean of diff)), 0 on a cut (cut[0] > cut_thr), then clamped to within tol of the new output;
 * dev (float32, out's shape) = the result - the new output. prev is only read. */
vks_status_t vks_op_stab_blend(vks_rec_t *rec, const vks_tensor_t *out, const vks_tensor_t *prev,
                               const vks_tensor_t *diff, const vks_tensor_t *cut, const vks_tensor_t *flow,
                               const vks_tensor_t *dev, const vks_stab_blend_t *p);
/* out [1,3,oh,ow] (float32 or float16), dev float32 of its shape, stats dev's channel_stats (3 pairs of
 * mean, M2): with r the root mean square of dev over its 3 channels, where r > limit,
 * out -= dev * (1 - limit / r). */
vks_status_t vks_op_stab_limit(vks_rec_t *rec, const vks_tensor_t *out, const vks_tensor_t *dev,
                               const vks_tensor_t *stats, float limit);

/* A session's stabilization state (NULL when off). */
typedef struct vks_stab vks_stab_t;

/* Hooks for vks_session_record (graph.c), called only when s->stab is set: after the input is
 * packed; before a normalizing layer (layer `layer`, VKS_OPF_WHOLE_STATS), recording its input's
 * statistics and their average across frames, which the norm then takes as given (*stats, at
 * *stats_off; NULL when the averaging is off); before the output is unpacked. */
vks_status_t vks_stab_record_input(vks_session_t *s, vks_rec_t *rec);
vks_status_t vks_stab_record_stats(vks_session_t *s, vks_rec_t *rec, uint32_t layer, const vks_tensor_t *in,
                                   const vks_tensor_t **stats, uint32_t *stats_off);
vks_status_t vks_stab_record_output(vks_session_t *s, vks_rec_t *rec);
/* The command buffer to submit before the network this frame (a pending reset), or NULL; and
 * the frame after it ran. */
VkCommandBuffer vks_stab_pre_submit(const vks_session_t *s);
void vks_stab_submitted(vks_session_t *s);
void vks_stab_destroy(vks_session_t *s);

#endif
