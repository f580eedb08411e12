/* Helpers for the GPU tests: a validated context, tensors in one block, one-shot op runs, and
 * a tiny in-memory safetensors writer for building models in tests. */
#ifndef VKSTYLE_TESTUTIL_H
#define VKSTYLE_TESTUTIL_H

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include "engine.h"
#include "ops/ops.h"
#include "ref_ops.h"

/* A context with the Khronos validation layer on (the test fails if the layer is missing).
 * max_binding 0: the device's limit. The pipeline cache stays in memory. */
vks_context_t *tu_context(uint64_t max_binding);
/* The same with at most max_workgroups workgroups per dimension of a vkCmdDispatch (0: the
 * device's limit): forces split dispatches. */
vks_context_t *tu_context_limits(uint64_t max_binding, uint32_t max_workgroups);
/* Destroy and assert that validation reported nothing. */
void tu_context_done(vks_context_t *ctx);

/* A device block with a bump cursor for test tensors. */
typedef struct tu_arena {
    vks_context_t *ctx;
    vks_block_t block;
    VkDeviceSize cursor;
} tu_arena_t;
void tu_arena_init(tu_arena_t *a, vks_context_t *ctx, VkDeviceSize size);
void tu_arena_done(tu_arena_t *a);
/* Activation tensor (plane-padded), uploaded from dense data if not NULL. */
vks_tensor_t tu_act(tu_arena_t *a, uint32_t n, uint32_t c, uint32_t h, uint32_t w, const float *data);
/* Same with esize-byte elements (4: float32, 2: float16; data is converted). */
vks_tensor_t tu_act_e(tu_arena_t *a, uint32_t n, uint32_t c, uint32_t h, uint32_t w, uint32_t esize,
                      const float *data);
/* Flat tensor of count floats. */
vks_tensor_t tu_flat(tu_arena_t *a, uint32_t count, const float *data);
/* Dense download of an activation tensor (malloc'd). */
float *tu_download(tu_arena_t *a, const vks_tensor_t *t);

/* Begin a recorder (with log), and submit+wait it after the caller recorded into it. */
void tu_rec_begin(vks_context_t *ctx, vks_rec_t *rec);
/* End, submit and wait; in guard mode also check every binding's guard bytes. */
void tu_rec_run(vks_rec_t *rec);
/* VKSTYLE_TEST_GUARDS=1: contexts from tu_context() run every dispatch's bindings between guard
 * bytes (engine/recorder.c, guard mode). */
bool tu_guard_mode(void);
/* VKSTYLE_TEST_QUICK=1: tests leave out their large shapes (CI's validation stages). */
bool tu_quick_mode(void);
/* Lower a context's binding range and workgroup counts (0: leave it) as the context options
 * max_binding_bytes and max_workgroups would, until tu_limits_pop (one level). The op tests use
 * this on their one context rather than making another: a new context compiles every pipeline
 * again, which under GPU-assisted validation costs minutes on lavapipe. */
void tu_limits_push(vks_context_t *ctx, uint64_t max_binding, uint32_t max_workgroups);
void tu_limits_pop(vks_context_t *ctx);
/* VKSTYLE_TEST_PRECISION=fp32: the float16 cases are left out, and so are the float16 shaders
 * from test_ops' every-shader-ran check. VKSTYLE_TEST_PRECISION=fp16: only the float16 cases
 * (and the peak shaders, one of which is float16), and only the float16 shaders in that check.
 * The two halves together are the whole: CI runs test_ops under GPU-assisted validation as two
 * tests, one per core. */
bool tu_fp32_only(void);
bool tu_fp16_only(void);
/* Dispatches per shader, summed over the contexts tu_context_done() has destroyed. */
extern uint64_t tu_shader_dispatches[VKS_SHADER_COUNT];

/* Random floats (fixed-seed helper around ref_fill_random), malloc'd. */
float *tu_random(size_t n, uint32_t *seed, float lo, float hi);

/* In-memory safetensors (F32) builder. */
typedef struct tu_st {
    char *header;
    size_t hlen, hcap;
    uint8_t *data;
    size_t dlen;
    int ntensors;
} tu_st_t;
void tu_st_init(tu_st_t *st);
void tu_st_add(tu_st_t *st, const char *name, const float *data, int rank, const int *shape);
/* Finish with the graph JSON as __metadata__["vkstyle.graph"]; returns malloc'd bytes. */
uint8_t *tu_st_finish(tu_st_t *st, const char *graph_json, size_t *size);

#define TU_OK(expr)                                                                     \
    do {                                                                                \
        vks_status_t tu_st_ = (expr);                                                   \
        if (tu_st_ != VKS_OK) fail_msg("%s -> %s: %s", #expr, vks_status_str(tu_st_), vks_last_error()); \
    } while (0)

#endif
