#include "testutil.h"

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

vks_context_t *tu_context(uint64_t max_binding)
{
    vks_context_options_t o = {.validation = 1, .cache_dir = "", .max_binding_bytes = max_binding};
    vks_context_t *ctx = NULL;
    TU_OK(vks_context_create(&o, &ctx));
    ctx->guard_bindings = tu_guard_mode();
    return ctx;
}

vks_context_t *tu_context_limits(uint64_t max_binding, uint32_t max_workgroups)
{
    vks_context_options_t o = {.validation = 1, .cache_dir = "", .max_binding_bytes = max_binding,
                               .max_workgroups = max_workgroups};
    vks_context_t *ctx = NULL;
    TU_OK(vks_context_create(&o, &ctx));
    ctx->guard_bindings = tu_guard_mode();
    return ctx;
}

static struct { uint64_t max_binding; uint32_t max_groups[3]; int pushed; } g_limits;

void tu_limits_push(vks_context_t *ctx, uint64_t max_binding, uint32_t max_workgroups)
{
    assert_false(g_limits.pushed);
    g_limits.max_binding = ctx->max_binding;
    memcpy(g_limits.max_groups, ctx->max_groups, sizeof g_limits.max_groups);
    g_limits.pushed = 1;
    /* as vks_context_create applies the options of the same names */
    if (max_binding && max_binding < ctx->max_binding) ctx->max_binding = max_binding;
    for (int d = 0; d < 3; d++)
        if (max_workgroups && max_workgroups < ctx->max_groups[d]) ctx->max_groups[d] = max_workgroups;
}

void tu_limits_pop(vks_context_t *ctx)
{
    assert_true(g_limits.pushed);
    ctx->max_binding = g_limits.max_binding;
    memcpy(ctx->max_groups, g_limits.max_groups, sizeof g_limits.max_groups);
    g_limits.pushed = 0;
}

uint64_t tu_shader_dispatches[VKS_SHADER_COUNT];

void tu_context_done(vks_context_t *ctx)
{
    for (int i = 0; i < VKS_SHADER_COUNT; i++) tu_shader_dispatches[i] += ctx->shader_dispatches[i];
    /* the device's destruction also reports leaked Vulkan objects */
    vks_context_t *keep = ctx;
    uint32_t before = vks_context_validation_messages(keep);
    assert_int_equal(before, 0);
    vks_context_destroy(ctx);
}

void tu_arena_init(tu_arena_t *a, vks_context_t *ctx, VkDeviceSize size)
{
    a->ctx = ctx;
    a->cursor = 0;
    TU_OK(vks_block_create(ctx, size, VKS_MEM_DEVICE, &a->block));
}

void tu_arena_done(tu_arena_t *a) { vks_block_destroy(a->ctx, &a->block); }

static VkDeviceSize tu_reserve(tu_arena_t *a, VkDeviceSize bytes)
{
    VkDeviceSize off = a->cursor;
    a->cursor = vks_align(off + bytes, 256);
    if (a->cursor > a->block.size) fail_msg("test arena too small (%llu > %llu)", (unsigned long long)a->cursor, (unsigned long long)a->block.size);
    return off;
}

vks_tensor_t tu_act(tu_arena_t *a, uint32_t n, uint32_t c, uint32_t h, uint32_t w, const float *data)
{
    return tu_act_e(a, n, c, h, w, 4, data);
}

vks_tensor_t tu_act_e(tu_arena_t *a, uint32_t n, uint32_t c, uint32_t h, uint32_t w, uint32_t esize,
                      const float *data)
{
    vks_tensor_t t = vks_tensor_act(&a->block, 0, n, c, h, w, esize);
    t.offset = tu_reserve(a, vks_tensor_bytes(&t));
    if (!data) return t;
    /* the planes as vks_tensor_upload lays them out, but each plane's padding (plane_stride - h*w
     * elements, which no op writes) all-one bytes, NaN in fp32 and fp16: an op that reads it, even
     * to multiply it by 0, fails its test */
    VkDeviceSize bytes = vks_tensor_bytes(&t);
    unsigned char *d = malloc(bytes);
    assert_non_null(d);
    memset(d, 0xFF, bytes);
    vks_tensor_pack(&t, data, d);
    TU_OK(vks_block_upload(a->ctx, &a->block, t.offset, d, bytes));
    free(d);
    return t;
}

vks_tensor_t tu_flat(tu_arena_t *a, uint32_t count, const float *data)
{
    vks_tensor_t t = vks_tensor_flat(&a->block, 0, count);
    t.offset = tu_reserve(a, (VkDeviceSize)count * 4);
    if (data) TU_OK(vks_block_upload(a->ctx, &a->block, t.offset, data, (VkDeviceSize)count * 4));
    return t;
}

float *tu_download(tu_arena_t *a, const vks_tensor_t *t)
{
    float *d = malloc((size_t)t->n * t->c * t->h * t->w * sizeof(float) + 4);
    assert_non_null(d);
    TU_OK(vks_tensor_download(a->ctx, t, d));
    return d;
}

void tu_rec_begin(vks_context_t *ctx, vks_rec_t *rec) { TU_OK(vks_rec_begin(ctx, rec, true)); }

bool tu_guard_mode(void)
{
    const char *g = getenv("VKSTYLE_TEST_GUARDS");
    return g && *g && strcmp(g, "0") != 0;
}

bool tu_quick_mode(void)
{
    const char *q = getenv("VKSTYLE_TEST_QUICK");
    return q && *q && strcmp(q, "0") != 0;
}

bool tu_fp32_only(void)
{
    const char *p = getenv("VKSTYLE_TEST_PRECISION");
    return p && strcmp(p, "fp32") == 0;
}

bool tu_fp16_only(void)
{
    const char *p = getenv("VKSTYLE_TEST_PRECISION");
    return p && strcmp(p, "fp16") == 0;
}

void tu_rec_run(vks_rec_t *rec)
{
    TU_OK(vks_rec_end(rec));
    TU_OK(vks_submit_wait(rec->ctx, &rec->cmd, 1));
    TU_OK(vks_rec_check_guards(rec));
}

float *tu_random(size_t n, uint32_t *seed, float lo, float hi)
{
    float *x = malloc((n ? n : 1) * sizeof *x);
    assert_non_null(x);
    ref_fill_random(x, n, seed, lo, hi);
    return x;
}

void tu_st_init(tu_st_t *st) { memset(st, 0, sizeof *st); }

static void hdr_append(tu_st_t *st, const char *s)
{
    size_t n = strlen(s);
    if (st->hlen + n + 1 > st->hcap) {
        st->hcap = (st->hlen + n + 1) * 2;
        st->header = realloc(st->header, st->hcap);
        assert_non_null(st->header);
    }
    memcpy(st->header + st->hlen, s, n + 1);
    st->hlen += n;
}

void tu_st_add(tu_st_t *st, const char *name, const float *data, int rank, const int *shape)
{
    size_t count = 1;
    char buf[512];
    int k = snprintf(buf, sizeof buf, "%s\"%s\":{\"dtype\":\"F32\",\"shape\":[", st->ntensors ? "," : "{", name);
    for (int d = 0; d < rank; d++) {
        count *= (size_t)shape[d];
        k += snprintf(buf + k, sizeof buf - (size_t)k, "%s%d", d ? "," : "", shape[d]);
    }
    snprintf(buf + k, sizeof buf - (size_t)k, "],\"data_offsets\":[%zu,%zu]}", st->dlen, st->dlen + count * 4);
    hdr_append(st, buf);
    st->data = realloc(st->data, st->dlen + count * 4 + 1);
    assert_non_null(st->data);
    memcpy(st->data + st->dlen, data, count * 4);
    st->dlen += count * 4;
    st->ntensors++;
}

uint8_t *tu_st_finish(tu_st_t *st, const char *graph_json, size_t *size)
{
    json_t *meta = json_pack("{s:s}", "vkstyle.graph", graph_json);
    char *ms = json_dumps(meta, JSON_COMPACT);
    json_decref(meta);
    assert_non_null(ms);
    hdr_append(st, st->ntensors ? ",\"__metadata__\":" : "{\"__metadata__\":");
    hdr_append(st, ms);
    hdr_append(st, "}");
    free(ms);
    uint64_t hl = st->hlen;
    *size = 8 + hl + st->dlen;
    uint8_t *out = malloc(*size);
    assert_non_null(out);
    for (int i = 0; i < 8; i++) out[i] = (uint8_t)(hl >> (8 * i));
    memcpy(out + 8, st->header, hl);
    if (st->dlen) memcpy(out + 8 + hl, st->data, st->dlen);
    free(st->header);
    free(st->data);
    memset(st, 0, sizeof *st);
    return out;
}
