/* Unit tests of session planning (engine/plan.c) and of the op registry (engine/ops/registry.c),
 * without a Vulkan device: models are built by hand, layer by layer, from the registry's
 * descriptors; the plans' shapes, lifetimes and arena placement are checked. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include "ops/op.h"
#include "plan.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ------------------------------------------------------------------ models by hand */

typedef struct {
    vks_model_t m;
    vks_layer_t layers[16];
} hand_model_t;

static vks_layer_t *add_layer(hand_model_t *h, const char *op, uint32_t channels)
{
    assert_true(h->m.nlayers < 16);
    vks_layer_t *ly = &h->layers[h->m.nlayers];
    memset(ly, 0, sizeof *ly);
    ly->op = vks_op_find(op);
    assert_non_null(ly->op);
    snprintf(ly->name, sizeof ly->name, "l%u", h->m.nlayers);
    ly->src = h->m.nlayers;   /* the previous value */
    ly->channels = channels;
    ly->stride = ly->stride_w = 1;
    h->m.nlayers++;
    h->m.layers = h->layers;
    return ly;
}

static vks_layer_t *add_conv(hand_model_t *h, uint32_t channels, uint32_t k, uint32_t stride)
{
    vks_layer_t *ly = add_layer(h, "conv2d", channels);
    ly->kh = ly->kw = k;
    ly->stride = ly->stride_w = stride;
    ly->pad_same = true;
    return ly;
}

static void init_model(hand_model_t *h)
{
    memset(h, 0, sizeof *h);
    h->m.nstyles = 1;
    h->m.layers = h->layers;
}

/* Every two items alive at a common step hold disjoint bytes; all lie in the arena, aligned. */
static void check_placement(const plan_t *p)
{
    for (uint32_t a = 0; a < p->nitems; a++) {
        const item_t *x = &p->items[a];
        if (!x->size) continue;
        assert_int_equal(x->off % 256, 0);
        assert_true(x->off + x->size <= p->arena);
        for (uint32_t b = a + 1; b < p->nitems; b++) {
            const item_t *y = &p->items[b];
            if (!y->size || x->def > y->last || y->def > x->last) continue;
            if (!(x->off + x->size <= y->off || y->off + y->size <= x->off))
                fail_msg("items %u [%u..%u] and %u [%u..%u] are alive together and overlap", a, x->def, x->last, b,
                         y->def, y->last);
        }
    }
}

/* ------------------------------------------------------------------ the registry */

static void test_registry(void **state)
{
    (void)state;
    assert_true(vks_op_count >= 8);
    for (uint32_t i = 0; i < vks_op_count; i++) {
        const vks_op_desc_t *d = vks_op_table[i];
        assert_non_null(d->name);
        assert_non_null(d->parse);
        assert_non_null(d->record);
        assert_non_null(d->cost);
        assert_true(strlen(vks_op_label(d)) <= 18);   /* vkstyle bench's column */
        assert_ptr_equal(vks_op_find(d->name), d);
        for (uint32_t j = 0; j < i; j++) assert_string_not_equal(vks_op_table[j]->name, d->name);
        if (d->reserve) assert_true(d->load || d->finish);   /* what an op reserves it fills */
    }
    assert_null(vks_op_find("cond_instance_norm"));   /* the model format's name is the long one */
    assert_non_null(vks_op_find("conditional_instance_norm"));
    assert_null(vks_op_find(NULL));
    assert_null(vks_op_find(""));
}

/* ------------------------------------------------------------------ shapes */

static void test_shapes_odd_sizes(void **state)
{
    (void)state;
    hand_model_t h;
    init_model(&h);
    add_conv(&h, 8, 9, 1);                          /* 8 x 13 x 17 */
    add_conv(&h, 16, 3, 2);                         /* SAME, stride 2: ceil -> 7 x 9 */
    add_layer(&h, "instance_norm", 16);
    vks_layer_t *t = add_layer(&h, "conv2d_transpose", 8);   /* x2: 14 x 18 */
    t->kh = t->kw = 3;
    t->stride = t->stride_w = 2;
    vks_layer_t *up = add_layer(&h, "upsample_nearest", 8);   /* 28 x 36 */
    up->stride = up->stride_w = 2;
    add_conv(&h, 3, 9, 2);                          /* 14 x 18 */
    plan_t p;
    assert_int_equal(vks_plan_build(&h.m, 17, 13, 4, true, &p), VKS_OK);
    assert_int_equal(p.nvals, 7);
    const uint32_t want[7][3] = {{3, 13, 17}, {8, 13, 17}, {16, 7, 9}, {16, 7, 9}, {8, 14, 18}, {8, 28, 36}, {3, 14, 18}};
    for (uint32_t v = 0; v < 7; v++) {
        assert_int_equal(p.vals[v].c, want[v][0]);
        assert_int_equal(p.vals[v].h, want[v][1]);
        assert_int_equal(p.vals[v].w, want[v][2]);
        assert_int_equal(p.vals[v].esize, 4);
    }
    check_placement(&p);
    /* fp16 activations: half the bytes (a 28 x 36 plane: 1008 elements padded to 1024) */
    plan_t q;
    assert_int_equal(vks_plan_build(&h.m, 17, 13, 2, true, &q), VKS_OK);
    assert_int_equal(q.vals[5].esize, 2);
    assert_int_equal(p.items[5].size, 8 * 1024 * 4);
    assert_int_equal(q.items[5].size, 8 * 1024 * 2);
    check_placement(&q);
    vks_plan_free(&q);
    vks_plan_free(&p);
}

/* Tensor I/O (VKS_TENSOR_F32): the input value has the graph's channels, the output may be smaller
 * than the input, and there are no pixel items (the staging buffers are copied to the values). */
static void test_tensor_io_plan(void **state)
{
    (void)state;
    hand_model_t h;
    init_model(&h);
    h.m.in_channels = 1;
    vks_layer_t *c = add_conv(&h, 2, 3, 2);
    c->pad_same = false;                            /* 7 x 5 -> 3 x 2 */
    plan_t p;
    assert_int_equal(vks_plan_build(&h.m, 5, 7, 4, true, &p), VKS_ERR_SHAPE);   /* pixels: smaller than the input */
    vks_plan_free(&p);
    assert_int_equal(vks_plan_build_io(&h.m, 5, 7, 4, true, true, &p), VKS_OK);
    assert_int_equal(p.vals[0].c, 1);
    assert_true(p.vals[1].c == 2 && p.vals[1].h == 3 && p.vals[1].w == 2);
    assert_int_equal(p.items[p.nvals].size, 0);
    assert_int_equal(p.items[p.nvals + 1].size, 0);
    check_placement(&p);
    vks_plan_free(&p);
}

static void test_shape_errors_name_the_layer(void **state)
{
    (void)state;
    hand_model_t h;
    init_model(&h);
    add_conv(&h, 8, 3, 1);
    vks_layer_t *big = add_conv(&h, 3, 9, 1);
    big->pad_same = false;                          /* valid padding: the input must be 9 x 9 */
    strcpy(big->name, "wide");
    plan_t p;
    assert_int_equal(vks_plan_build(&h.m, 8, 20, 4, true, &p), VKS_ERR_SHAPE);
    assert_non_null(strstr(vks_last_error(), "layer 1 (wide): a 20x8 input is smaller than the 9x9 kernel"));
    vks_plan_free(&p);
    assert_int_equal(vks_plan_build(&h.m, 0, 20, 4, true, &p), VKS_ERR_SHAPE);
    vks_plan_free(&p);

    init_model(&h);
    add_conv(&h, 3, 3, 2);                          /* 5 x 5 */
    vks_layer_t *add = add_layer(&h, "add", 3);
    add->src = 0;                                   /* the 10 x 10 input ... */
    add->src2 = 1;                                  /* ... plus the 5 x 5 conv output */
    assert_int_equal(vks_plan_build(&h.m, 10, 10, 4, true, &p), VKS_ERR_SHAPE);
    assert_non_null(strstr(vks_last_error(), "layer 1 (l1): adds 5x5 to 10x10"));
    vks_plan_free(&p);
}

/* ------------------------------------------------------------------ lifetimes and placement */

static void test_lifetimes_and_reuse(void **state)
{
    (void)state;
    hand_model_t h;
    init_model(&h);
    add_conv(&h, 32, 3, 1);                         /* value 1 */
    for (int i = 0; i < 6; i++) add_layer(&h, "activation", 32);   /* values 2..7 */
    vks_layer_t *n = add_layer(&h, "instance_norm", 32);            /* value 8, residual: value 1 */
    n->has_residual = true;
    n->residual = 1;
    add_conv(&h, 3, 3, 1);                          /* value 9 */
    plan_t p;
    assert_int_equal(vks_plan_build(&h.m, 31, 29, 4, true, &p), VKS_OK);
    uint32_t L = h.m.nlayers;
    assert_int_equal(p.nitems, L + 4 + L);        /* values, pixels in and out, the mix, per layer scratch */
    assert_int_equal(p.items[0].last, 1);           /* the input: read by layer 0 (step 1) */
    assert_int_equal(p.items[1].last, 8);           /* conv output: read as layer 7's residual (step 8) */
    for (uint32_t v = 2; v <= 7; v++) assert_int_equal(p.items[v].last, v + 1);
    assert_int_equal(p.items[L].last, L + 1);       /* the network's output: read by the unpacking */
    assert_int_equal(p.items[L + 1].def, 0);        /* input pixels */
    assert_int_equal(p.items[L + 2].def, L + 1);    /* output pixels */
    assert_int_equal(p.items[L + 2].last, L + 2);
    check_placement(&p);
    /* memory is reused: at most 3 activations of 32 channels are alive at any step */
    VkDeviceSize one = p.items[2].size, all = 0;
    for (uint32_t k = 0; k < p.nitems; k++) all += p.items[k].size;
    assert_true(p.arena < all);
    assert_true(p.arena <= 3 * one + p.items[L].size + p.items[0].size + p.items[L + 1].size + p.items[L + 2].size);
    vks_plan_free(&p);
}

/* A 3x3 stride-1 conv with transformed weights gets a scratch item for its step (Winograd), as
 * large as vks_winograd_scratch_bytes says; planned without scratch it gets none (its direct
 * convolution then runs), and nothing else changes. */
static void test_scratch_items(void **state)
{
    (void)state;
    hand_model_t h;
    init_model(&h);
    add_conv(&h, 8, 9, 1);                                  /* value 1: no scratch */
    vks_block_t fake = {.size = 1};
    add_conv(&h, 12, 3, 1)->wino = (vks_tensor_t){.block = &fake};   /* value 2: Winograd */
    add_conv(&h, 12, 3, 1);                                 /* value 3: 3x3 without transformed weights */
    plan_t p, q;
    assert_int_equal(vks_plan_build(&h.m, 15, 11, 4, true, &p), VKS_OK);
    assert_int_equal(vks_plan_build(&h.m, 15, 11, 4, false, &q), VKS_OK);
    uint32_t L = h.m.nlayers, sc = p.nvals + 3;
    assert_int_equal(p.items[sc].size, 0);
    assert_int_equal(p.items[sc + 1].size, vks_align(vks_winograd_scratch_bytes(8, 12, 11, 15, 4), 256));
    assert_true(p.items[sc + 1].size > 0);
    assert_int_equal(p.items[sc + 1].def, 2);
    assert_int_equal(p.items[sc + 1].last, 2);
    assert_int_equal(p.items[sc + 2].size, 0);
    for (uint32_t i = 0; i < L; i++) assert_int_equal(q.items[sc + i].size, 0);
    for (uint32_t v = 0; v < p.nvals; v++) assert_int_equal(p.items[v].size, q.items[v].size);
    assert_true(q.arena < p.arena);
    check_placement(&p);
    check_placement(&q);
    vks_plan_free(&q);
    vks_plan_free(&p);
}

static void test_folded_batch_norm_aliases_its_conv(void **state)
{
    (void)state;
    hand_model_t h;
    init_model(&h);
    add_conv(&h, 16, 3, 1);                         /* value 1 */
    add_layer(&h, "batch_norm", 16)->folded = true; /* value 2: the conv's memory */
    add_layer(&h, "activation", 16);                /* value 3 */
    add_conv(&h, 3, 3, 1);
    plan_t p;
    assert_int_equal(vks_plan_build(&h.m, 11, 7, 4, true, &p), VKS_OK);
    assert_int_equal(p.alias[2], 1);
    assert_int_equal(p.alias[3], 3);
    assert_int_equal(p.items[2].size, 0);
    assert_int_equal(p.items[1].last, 3);           /* read through its alias by layer 2 (step 3) */
    check_placement(&p);
    vks_plan_free(&p);
}

static void test_style_mix_lives_throughout(void **state)
{
    (void)state;
    hand_model_t h;
    init_model(&h);
    h.m.nstyles = 4;
    add_conv(&h, 24, 3, 1);
    add_layer(&h, "conditional_instance_norm", 24);
    add_conv(&h, 3, 3, 1);
    h.m.cin_channels = 24;
    plan_t p;
    assert_int_equal(vks_plan_build(&h.m, 9, 9, 4, true, &p), VKS_OK);
    const item_t *eff = &p.items[p.nvals + 2];
    assert_int_equal(eff->size, 2 * 24 * sizeof(float));
    assert_int_equal(eff->def, 0);
    assert_int_equal(eff->last, h.m.nlayers + 2);
    check_placement(&p);
    vks_plan_free(&p);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_registry),
        cmocka_unit_test(test_shapes_odd_sizes),
        cmocka_unit_test(test_shape_errors_name_the_layer),
        cmocka_unit_test(test_tensor_io_plan),
        cmocka_unit_test(test_lifetimes_and_reuse),
        cmocka_unit_test(test_scratch_items),
        cmocka_unit_test(test_folded_batch_norm_aliases_its_conv),
        cmocka_unit_test(test_style_mix_lives_throughout),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
