/* Images larger than the device holds: the network runs layer by layer, each layer in bands of
 * rows that fit the memory budget and the device's limits, with the activations between layers
 * kept in host memory.
 *
 * A band of a convolution's output reads the rows of its input that those outputs depend on
 * (its halo: kernel and stride give exactly which), with the whole image's padding at the
 * image's borders and none inside, so every output row is computed once, by the same shader, from
 * the same inputs as in an untiled run. Instance norm needs each channel's mean and variance over
 * the whole image: channel_stats.comp takes them from every band of the layer's input as it is
 * produced (fp32 per band, combined in double on the host), and the normalization then runs in
 * bands with those statistics (instance_norm.comp, GIVEN_STATS). So a tiled run computes what the
 * untiled one does, up to the order of the statistics' sums: no seams.
 *
 * Steps are numbered as in the session's plan (plan.c): 0 converts the pixels (pack_rgb8 /
 * yuyv_to_rgb), i + 1 runs layer i, L + 1 converts back (unpack_rgba8). Each band is one submission: its input rows
 * go into the device tensors (straight into mapped device memory where the device has it, else
 * through staging buffers), its ops run, its output rows come back. */
#include "session.h"
#include "ops/op.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum { STEP_PIXELS_IN, STEP_LAYER, STEP_PIXELS_OUT };

typedef struct tstep {
    int kind;
    uint32_t layer;          /* STEP_LAYER */
    uint32_t out_rows;       /* rows of what the step produces (pixel rows for STEP_PIXELS_OUT) */
    uint32_t rows;           /* rows per band */
    uint32_t nbands;
} tstep_t;

/* One band of a step: which rows of which values go in, the tensors in the arena, what comes out. */
typedef struct band {
    uint32_t r0, r1;                 /* output rows of the step */
    uint32_t nin;
    struct {
        uint32_t value, a, b;        /* rows [a, b) of this value ... */
        vks_tensor_t t;              /* ... in this tensor */
    } in[3];
    vks_tensor_t out;                /* what the op writes: rows [d0, d0 + r1 - r0) are the band's */
    uint32_t d0;
    vks_binding_t px;                /* pixels of the rows (pixel steps) */
    vks_band_rows_t rows;            /* layer steps: the input rows it reads (its op's band()) */
    VkDeviceSize bytes;              /* arena bytes */
    VkDeviceSize up, down;           /* staging bytes (when the arena is not mapped) */
} band_t;

struct vks_tiled {
    tstep_t *steps;
    uint32_t nsteps, total;
    uint32_t *root;                  /* value -> the value whose memory it is (folded batch norm) */
    void **host;                     /* per root value: its planes [c][h][w] on the host, while alive */
    int64_t *acc;                    /* per root value: index of its statistics in stats, -1 if none */
    double *stats;                   /* [channel][3]: count, mean, M2 */
    uint32_t max_c;
    bool mapped;                     /* the arena is host-visible: rows are copied straight in and out */
    vks_block_t arena, up, down, params;
    VkDeviceSize eff_off, given_off, band_off;   /* in params: the style mix, the statistics a norm uses, a band's */
    VkDeviceSize up_used, down_used;
    vks_rec_t rec;
    struct pend { void *dst; const void *src; size_t n; } *pend;   /* copies out after the band ran */
    uint32_t npend, cap_pend;
    const uint8_t *px_in;            /* the running frame */
    uint8_t *px_out;
    uint32_t in_bpp, out_channels;
};

static uint32_t esize_of(const vks_session_t *s) { return s->opts.precision == VKS_PRECISION_FP16 ? 2 : 4; }

static const vks_tensor_t *whole(const vks_session_t *s, uint32_t v) { return &s->plan.vals[v]; }

/* Place a tensor of c x rows x w at the arena cursor. */
static vks_tensor_t place(vks_tiled_t *t, VkDeviceSize *cursor, uint32_t c, uint32_t rows, uint32_t w, uint32_t esize)
{
    vks_tensor_t x = vks_tensor_act(&t->arena, *cursor, 1, c, rows, w, esize);
    *cursor = vks_align(*cursor + vks_tensor_bytes(&x), 256);
    return x;
}

/* The band of step st for output rows [r0, r1): input rows, tensors, arena and staging bytes. */
static void band_plan(const vks_session_t *s, vks_tiled_t *t, const tstep_t *st, uint32_t r0, uint32_t r1, band_t *b)
{
    const vks_model_t *m = s->model;
    uint32_t es = esize_of(s), rows = r1 - r0;
    VkDeviceSize cur = 0;
    memset(b, 0, sizeof *b);
    b->r0 = r0;
    b->r1 = r1;
    if (st->kind == STEP_PIXELS_IN) {
        uint32_t bpp = s->opts.input == VKS_PIXELS_YUYV ? 2 : t->in_bpp ? t->in_bpp : 4;
        VkDeviceSize n = vks_align((VkDeviceSize)s->w * rows * bpp, 4);
        b->px = (vks_binding_t){&t->arena, 0, n, false};
        cur = vks_align(n, 256);
        b->out = place(t, &cur, 3, rows, s->w, es);
        b->up = n;
        b->down = vks_tensor_bytes(&b->out);
    } else if (st->kind == STEP_PIXELS_OUT) {
        const vks_tensor_t *o = whole(s, m->nlayers);
        b->nin = 1;
        b->in[0].value = m->nlayers;
        b->in[0].a = r0;
        b->in[0].b = r1;
        b->in[0].t = place(t, &cur, o->c, rows, o->w, es);
        VkDeviceSize n = (VkDeviceSize)s->w * rows * 4;
        b->px = (vks_binding_t){&t->arena, cur, n, true};
        cur = vks_align(cur + n, 256);
        b->up = vks_tensor_bytes(&b->in[0].t);
        b->down = n;
    } else {
        const vks_layer_t *ly = &m->layers[st->layer];
        const vks_tensor_t *in = whole(s, ly->src), *out = whole(s, st->layer + 1);
        vks_band_rows_t *br = &b->rows;
        *br = (vks_band_rows_t){.a = r0, .b = r1, .oh = rows, .r0 = r0};   /* row-wise */
        if (ly->op->band) ly->op->band(ly, in, r0, r1, br);
        uint32_t a = br->a, bb = br->b, oh = br->oh;
        b->d0 = br->d0;
        b->nin = 1;
        b->in[0].value = ly->src;
        b->in[0].a = a;
        b->in[0].b = bb;
        b->in[0].t = place(t, &cur, in->c, bb - a, in->w, es);
        uint32_t extra = ly->op->flags & VKS_OPF_TWO_INPUTS ? ly->src2 : ly->has_residual ? ly->residual : UINT32_MAX;
        if (extra != UINT32_MAX) {
            const vks_tensor_t *e = whole(s, extra);
            b->in[1].value = extra;
            b->in[1].a = r0;
            b->in[1].b = r1;
            b->in[1].t = place(t, &cur, e->c, rows, e->w, es);
            b->nin = 2;
        }
        b->out = place(t, &cur, out->c, oh, out->w, es);
        for (uint32_t k = 0; k < b->nin; k++) b->up += vks_tensor_bytes(&b->in[k].t);
        b->down = (VkDeviceSize)out->c * rows * out->w * es;
    }
    b->bytes = cur;
}

/* ---------------------------------------------------------------- host rows <-> device */

static size_t plane_bytes(const vks_tensor_t *v) { return (size_t)v->h * v->w * v->esize; }

static vks_status_t pend(vks_tiled_t *t, void *dst, const void *src, size_t n)
{
    if (t->npend == t->cap_pend) {
        uint32_t cap = t->cap_pend ? 2 * t->cap_pend : 64;
        struct pend *p = realloc(t->pend, cap * sizeof *p);
        if (!p) return vks_fail(VKS_ERR_OUT_OF_HOST_MEMORY, "out of host memory");
        t->pend = p;
        t->cap_pend = cap;
    }
    t->pend[t->npend++] = (struct pend){dst, src, n};
    return VKS_OK;
}

/* bytes from host memory into the arena at off (now, or through the upload buffer) */
static vks_status_t put(vks_tiled_t *t, vks_rec_t *rec, VkDeviceSize off, const void *src, size_t n)
{
    if (t->mapped) {
        memcpy((uint8_t *)t->arena.map + off, src, n);
        return VKS_OK;
    }
    memcpy((uint8_t *)t->up.map + t->up_used, src, n);
    vks_status_t st = vks_rec_copy(rec, &t->up, t->up_used, &t->arena, off, n);
    t->up_used += n;
    return st;
}

/* bytes from the arena at off into host memory once the band has run */
static vks_status_t get(vks_tiled_t *t, vks_rec_t *rec, VkDeviceSize off, void *dst, size_t n)
{
    if (t->mapped) return pend(t, dst, (uint8_t *)t->arena.map + off, n);
    vks_status_t st = vks_rec_copy(rec, &t->arena, off, &t->down, t->down_used, n);
    if (!st) st = pend(t, dst, (uint8_t *)t->down.map + t->down_used, n);
    t->down_used += n;
    return st;
}

/* rows [a, b) of every channel of host value v into tensor x (which holds just those rows) */
static vks_status_t put_rows(const vks_session_t *s, vks_tiled_t *t, vks_rec_t *rec, uint32_t v, uint32_t a, uint32_t b,
                             const vks_tensor_t *x)
{
    const vks_tensor_t *wv = whole(s, v);
    const uint8_t *h = t->host[t->root[v]];
    size_t row = (size_t)wv->w * wv->esize;
    for (uint32_t c = 0; c < wv->c; c++) {
        vks_status_t st = put(t, rec, x->offset + (VkDeviceSize)c * x->plane_stride * x->esize,
                              h + c * plane_bytes(wv) + a * row, (size_t)(b - a) * row);
        if (st) return st;
    }
    return VKS_OK;
}

/* rows [d0, d0 + r1 - r0) of tensor x into rows [r0, r1) of host value v */
static vks_status_t get_rows(const vks_session_t *s, vks_tiled_t *t, vks_rec_t *rec, const vks_tensor_t *x, uint32_t d0,
                             uint32_t v, uint32_t r0, uint32_t r1)
{
    const vks_tensor_t *wv = whole(s, v);
    uint8_t *h = t->host[t->root[v]];
    size_t row = (size_t)wv->w * wv->esize;
    for (uint32_t c = 0; c < wv->c; c++) {
        vks_status_t st = get(t, rec, x->offset + (VkDeviceSize)c * x->plane_stride * x->esize + (VkDeviceSize)d0 * row,
                              h + c * plane_bytes(wv) + r0 * row, (size_t)(r1 - r0) * row);
        if (st) return st;
    }
    return VKS_OK;
}

/* ---------------------------------------------------------------- one band */

static vks_tensor_t params_flat(vks_tiled_t *t, VkDeviceSize off, uint32_t count)
{
    return vks_tensor_flat(&t->params, off, count);
}

/* Record band b of step st. A dry recorder (sizing) records the ops alone; a real one also the
 * rows' way in and out. */
static vks_status_t record_band(vks_session_t *s, vks_tiled_t *t, vks_rec_t *rec, const tstep_t *st, const band_t *b)
{
    const vks_model_t *m = s->model;
    vks_status_t r = VKS_OK;
    bool real = !rec->dry;
    uint32_t rows = b->r1 - b->r0, produced = UINT32_MAX;
    t->up_used = t->down_used = 0;
    if (real)
        for (uint32_t k = 0; k < b->nin; k++)
            if ((r = put_rows(s, t, rec, b->in[k].value, b->in[k].a, b->in[k].b, &b->in[k].t))) return r;
    if (st->kind == STEP_PIXELS_IN) {
        uint32_t bpp = s->opts.input == VKS_PIXELS_YUYV ? 2 : t->in_bpp;
        if (real && (r = put(t, rec, b->px.offset, t->px_in + (size_t)b->r0 * s->w * bpp, (size_t)s->w * rows * bpp)))
            return r;
        if (s->opts.input == VKS_PIXELS_YUYV)
            r = vks_op_yuyv_to_rgb(rec, &b->px, s->w, rows, m->in_scale, m->in_offset, &b->out);
        else
            r = vks_op_pack_rgb8(rec, &b->px, s->w, rows, t->in_bpp, s->opts.input == VKS_PIXELS_BGRA8, m->in_scale,
                                 m->in_offset, &b->out);
        produced = 0;
    } else if (st->kind == STEP_PIXELS_OUT) {
        r = vks_op_unpack_rgba8(rec, &b->in[0].t, s->w, rows, s->opts.output == VKS_PIXELS_BGRA8, m->out_scale,
                                m->out_offset, &b->px);
        if (!r && real) r = get(t, rec, b->px.offset, t->px_out + (size_t)b->r0 * s->w * 4, (size_t)s->w * rows * 4);
    } else {
        const vks_layer_t *ly = &m->layers[st->layer];
        vks_tensor_t given = params_flat(t, t->given_off, 2 * t->max_c), eff = params_flat(t, t->eff_off, 2 * m->cin_channels);
        vks_layer_io_t io = {
            .in = &b->in[0].t,
            .out = &b->out,
            .in2 = ly->op->flags & VKS_OPF_TWO_INPUTS ? &b->in[1].t : NULL,
            .res = ly->has_residual ? &b->in[1].t : NULL,
            .whole_in = whole(s, ly->src),
            .mix = &eff,
            .mix_channels = m->cin_channels,
            .stats = ly->op->flags & VKS_OPF_WHOLE_STATS ? &given : NULL,
            .band = &b->rows,
        };
        produced = st->layer + 1;
        r = ly->op->record(rec, ly, &io);
        if (r) vks_error_prefix("layer %u (%s)", st->layer, ly->name);
    }
    if (r || produced == UINT32_MAX) return r;
    if (t->acc[t->root[produced]] >= 0) {   /* a norm reads it: this band's statistics */
        vks_tensor_t band_stats = params_flat(t, t->band_off, 2 * t->max_c);
        if ((r = vks_op_channel_stats(rec, &b->out, b->d0, rows, &band_stats, 0))) return r;
    }
    return real ? get_rows(s, t, rec, &b->out, b->d0, produced, b->r0, b->r1) : VKS_OK;
}

/* ---------------------------------------------------------------- sizing */

static void step_band(const tstep_t *st, uint32_t k, uint32_t *r0, uint32_t *r1)
{
    *r0 = k * st->rows;
    *r1 = *r0 + st->rows < st->out_rows ? *r0 + st->rows : st->out_rows;
}

/* The largest bytes any band of st takes with `rows` rows a band. */
static void step_need(const vks_session_t *s, vks_tiled_t *t, tstep_t *st, uint32_t rows, VkDeviceSize *arena,
                      VkDeviceSize *up, VkDeviceSize *down)
{
    st->rows = rows;
    st->nbands = (st->out_rows + rows - 1) / rows;
    *arena = *up = *down = 0;
    for (uint32_t k = 0; k < st->nbands; k++) {
        uint32_t r0, r1;
        step_band(st, k, &r0, &r1);
        band_t b;
        band_plan(s, t, st, r0, r1, &b);
        if (b.bytes > *arena) *arena = b.bytes;
        if (b.up > *up) *up = b.up;
        if (b.down > *down) *down = b.down;
    }
}

/* Every band of st recorded dry: within the device's limits. */
static vks_status_t step_dry(vks_session_t *s, vks_tiled_t *t, const tstep_t *st)
{
    vks_rec_t rec;
    vks_status_t r = vks_rec_begin_dry(s->ctx, &rec);
    for (uint32_t k = 0; k < st->nbands && !r; k++) {
        uint32_t r0, r1;
        step_band(st, k, &r0, &r1);
        band_t b;
        band_plan(s, t, st, r0, r1, &b);
        r = record_band(s, t, &rec, st, &b);
    }
    vks_rec_destroy(&rec);
    return r;
}

/* Rows a band for every step: the most that fit arena, upload and download limits and the device's
 * limits. */
static vks_status_t size_steps(vks_session_t *s, vks_tiled_t *t, VkDeviceSize max_arena, VkDeviceSize max_up,
                               VkDeviceSize max_down, VkDeviceSize *arena, VkDeviceSize *up, VkDeviceSize *down)
{
    *arena = *up = *down = 0;
    t->total = 0;
    for (uint32_t i = 0; i < t->nsteps; i++) {
        tstep_t *st = &t->steps[i];
        if (st->kind == STEP_LAYER && s->model->layers[st->layer].folded) continue;
        VkDeviceSize a, u, d;
        uint32_t lo = 0, hi = st->out_rows + 1;   /* lo fits (0: none known), hi does not */
        while (hi - lo > 1) {
            uint32_t mid = lo + (hi - lo) / 2;
            step_need(s, t, st, mid, &a, &u, &d);
            bool fits = a <= max_arena && (t->mapped || (u <= max_up && d <= max_down));
            if (fits) lo = mid;
            else hi = mid;
        }
        vks_status_t r = VKS_ERR_TOO_LARGE;
        while (lo) {   /* the most rows whose every band the device's limits allow */
            step_need(s, t, st, lo, &a, &u, &d);
            if (!(r = step_dry(s, t, st))) break;
            lo = lo / 2;
        }
        if (!lo) {
            const char *what = st->kind == STEP_LAYER ? s->model->layers[st->layer].name : "the pixel conversion";
            if (r == VKS_ERR_TOO_LARGE)
                return vks_fail(VKS_ERR_TOO_LARGE, "a %ux%u image: one row of %s does not fit %.2f MiB of device memory",
                                s->w, s->h, what, (double)max_arena / 1048576.0);
            vks_error_prefix("a %ux%u image in tiles: one row of %s does not fit %s", s->w, s->h, what, s->ctx->info.name);
            return VKS_ERR_TOO_LARGE;
        }
        if (a > *arena) *arena = a;
        if (u > *up) *up = u;
        if (d > *down) *down = d;
        t->total += st->nbands;
    }
    return VKS_OK;
}

/* ---------------------------------------------------------------- create, run, destroy */

void vks_tiled_destroy(vks_session_t *s)
{
    vks_tiled_t *t = s->tiled;
    if (!t) return;
    vks_rec_destroy(&t->rec);
    vks_block_destroy(s->ctx, &t->arena);
    vks_block_destroy(s->ctx, &t->up);
    vks_block_destroy(s->ctx, &t->down);
    vks_block_destroy(s->ctx, &t->params);
    if (t->host)
        for (uint32_t v = 0; v < s->plan.nvals; v++) free(t->host[v]);
    free(t->host);
    free(t->steps);
    free(t->root);
    free(t->acc);
    free(t->stats);
    free(t->pend);
    free(t);
    s->tiled = NULL;
}

/* The largest heap of a device-local memory type the host can map coherently (0: none). */
static VkDeviceSize mapped_device_heap(const vks_context_t *ctx)
{
    VkMemoryPropertyFlags want = VK_MEMORY_PROPERTY_DEVICE_LOCAL_BIT | VK_MEMORY_PROPERTY_HOST_VISIBLE_BIT |
                                 VK_MEMORY_PROPERTY_HOST_COHERENT_BIT;
    VkDeviceSize best = 0;
    for (uint32_t i = 0; i < ctx->mem.memoryTypeCount; i++) {
        VkDeviceSize heap = ctx->mem.memoryHeaps[ctx->mem.memoryTypes[i].heapIndex].size;
        if ((ctx->mem.memoryTypes[i].propertyFlags & want) == want && heap > best) best = heap;
    }
    return best;
}

vks_status_t vks_tiled_create(vks_session_t *s)
{
    const vks_model_t *m = s->model;
    vks_context_t *ctx = s->ctx;
    uint32_t L = m->nlayers;
    vks_status_t st = VKS_OK;
    vks_tiled_t *t = calloc(1, sizeof *t);
    if (!t) return vks_fail(VKS_ERR_OUT_OF_HOST_MEMORY, "out of host memory");
    s->tiled = t;
    t->in_bpp = 4;
    t->nsteps = L + 2;
    t->steps = calloc(t->nsteps, sizeof *t->steps);
    t->root = calloc(s->plan.nvals, sizeof *t->root);
    t->host = calloc(s->plan.nvals, sizeof *t->host);
    t->acc = malloc(s->plan.nvals * sizeof *t->acc);
    if (!t->steps || !t->root || !t->host || !t->acc) { st = vks_fail(VKS_ERR_OUT_OF_HOST_MEMORY, "out of host memory"); goto fail; }
    uint64_t nstats = 0;
    for (uint32_t v = 0; v < s->plan.nvals; v++) {
        t->root[v] = s->plan.alias[v];
        t->acc[v] = -1;
        if (whole(s, v)->c > t->max_c) t->max_c = whole(s, v)->c;
    }
    for (uint32_t i = 0; i < L; i++) {   /* the values a norm reads need statistics */
        const vks_layer_t *ly = &m->layers[i];
        uint32_t v = t->root[ly->src];
        if ((ly->op->flags & VKS_OPF_WHOLE_STATS) && t->acc[v] < 0) {
            t->acc[v] = (int64_t)nstats;
            nstats += whole(s, v)->c;
        }
    }
    t->stats = calloc(nstats ? nstats * 3 : 1, sizeof *t->stats);
    if (!t->stats) { st = vks_fail(VKS_ERR_OUT_OF_HOST_MEMORY, "out of host memory"); goto fail; }
    t->steps[0] = (tstep_t){.kind = STEP_PIXELS_IN, .out_rows = s->h};
    for (uint32_t i = 0; i < L; i++) t->steps[i + 1] = (tstep_t){.kind = STEP_LAYER, .layer = i, .out_rows = whole(s, i + 1)->h};
    t->steps[L + 1] = (tstep_t){.kind = STEP_PIXELS_OUT, .out_rows = s->h};

    /* the parameters: the style mix, the statistics a norm uses, those of a band */
    t->eff_off = 0;
    t->given_off = vks_align(2ull * m->cin_channels * sizeof(float), 256);
    t->band_off = t->given_off + vks_align(2ull * t->max_c * sizeof(float), 256);
    VkDeviceSize params = t->band_off + vks_align(2ull * t->max_c * sizeof(float), 256);
    VKS_TRY(vks_block_create(ctx, params, VKS_MEM_UPLOAD, &t->params));
    s->eff = params_flat(t, t->eff_off, 2 * m->cin_channels);

    /* rows per band within the budget: all of it for a mapped arena, else half for the arena and a
     * quarter each for the staging buffers */
    uint64_t budget = s->opts.max_memory > params ? s->opts.max_memory - params : 0;
    VkDeviceSize arena = 0, up = 0, down = 0, max_alloc = ctx->info.max_allocation;
    VkDeviceSize mapped_heap = ctx->tiles_no_mapped_memory ? 0 : mapped_device_heap(ctx);
    t->mapped = mapped_heap > 0;
    if (t->mapped) {   /* where such a heap holds the arena (not a 256 MiB BAR window) */
        VKS_TRY(size_steps(s, t, budget < max_alloc ? budget : max_alloc, 0, 0, &arena, &up, &down));
        t->mapped = arena <= mapped_heap / 10 * 9;
        if (t->mapped) VKS_TRY(vks_block_create(ctx, arena, VKS_MEM_DEVICE_MAPPED, &t->arena));
    }
    if (!t->mapped) {
        VkDeviceSize half = budget / 2 < max_alloc ? budget / 2 : max_alloc, quarter = budget / 4 < max_alloc ? budget / 4 : max_alloc;
        VKS_TRY(size_steps(s, t, half, quarter, quarter, &arena, &up, &down));
        VKS_TRY(vks_block_create(ctx, arena, VKS_MEM_DEVICE, &t->arena));
        VKS_TRY(vks_block_create(ctx, up, VKS_MEM_UPLOAD, &t->up));
        VKS_TRY(vks_block_create(ctx, down, VKS_MEM_READBACK, &t->down));
    }
    VKS_TRY(vks_rec_begin(ctx, &t->rec, false));
    return VKS_OK;
fail:
    vks_tiled_destroy(s);
    return st;
}

uint32_t vks_session_tiles(const vks_session_t *s) { return s && s->tiled ? s->tiled->total : 0; }

uint64_t vks_session_device_bytes(const vks_session_t *s)
{
    if (!s) return 0;
    if (!s->tiled) return s->arena.size + s->stage_in.size + s->stage_out.size;
    const vks_tiled_t *t = s->tiled;
    return t->arena.size + t->up.size + t->down.size + t->params.size;
}

/* The statistics a norm reading value v uses: mean and biased variance, as floats. */
static void write_given(vks_tiled_t *t, const vks_tensor_t *wv, uint32_t v)
{
    const double *a = t->stats + 3 * t->acc[v];
    float *g = (float *)((uint8_t *)t->params.map + t->given_off);
    for (uint32_t c = 0; c < wv->c; c++) {
        g[2 * c] = (float)a[3 * c + 1];
        g[2 * c + 1] = (float)(a[3 * c] > 0 ? a[3 * c + 2] / a[3 * c] : 0.0);
    }
}

/* Fold a band's (count, mean, M2) per channel into the value's (Chan et al.). */
static void add_band_stats(vks_tiled_t *t, const vks_tensor_t *wv, uint32_t v, uint32_t rows)
{
    double *a = t->stats + 3 * t->acc[v];
    const float *bs = (const float *)((const uint8_t *)t->params.map + t->band_off);
    double nb = (double)rows * wv->w;
    for (uint32_t c = 0; c < wv->c; c++) {
        double na = a[3 * c], mb = bs[2 * c], qb = bs[2 * c + 1], n = na + nb, d = mb - a[3 * c + 1];
        a[3 * c + 1] += d * nb / n;
        a[3 * c + 2] += qb + d * d * na * nb / n;
        a[3 * c] = n;
    }
}

vks_status_t vks_tiled_run(vks_session_t *s, const void *in, uint32_t in_bpp, uint8_t *out)
{
    vks_tiled_t *t = s->tiled;
    const vks_model_t *m = s->model;
    vks_status_t st = VKS_OK;
    uint32_t done = 0, inplace = UINT32_MAX;   /* a value whose memory the step's output takes over */
    t->px_in = in;
    t->px_out = out;
    t->in_bpp = in_bpp;
    if (m->cin_channels) VKS_TRY(vks_submit_wait(s->ctx, &s->style.cmd, 1));
    for (uint32_t v = 0; v < s->plan.nvals; v++)
        if (t->acc[v] >= 0) memset(t->stats + 3 * t->acc[v], 0, 3 * whole(s, v)->c * sizeof *t->stats);
    for (uint32_t i = 0; i < t->nsteps; i++) {
        const tstep_t *sp = &t->steps[i];
        uint32_t produced = sp->kind == STEP_PIXELS_IN ? 0 : sp->kind == STEP_LAYER ? sp->layer + 1 : UINT32_MAX;
        inplace = UINT32_MAX;
        if (sp->kind == STEP_LAYER) {
            const vks_layer_t *ly = &m->layers[sp->layer];
            if (ly->folded) continue;
            if (ly->op->flags & VKS_OPF_WHOLE_STATS)
                write_given(t, whole(s, ly->src), t->root[ly->src]);
            /* element-wise layers write over their input's rows when nothing reads it later */
            uint32_t src = t->root[ly->src];
            if (!ly->op->band && s->plan.items[src].last == i && src != t->root[produced] &&
                plane_bytes(whole(s, src)) * whole(s, src)->c == plane_bytes(whole(s, produced)) * whole(s, produced)->c) {
                t->host[t->root[produced]] = t->host[src];   /* each band reads its rows before it writes them */
                inplace = src;
            }
        }
        if (produced != UINT32_MAX && !t->host[t->root[produced]]) {
            const vks_tensor_t *wv = whole(s, produced);
            t->host[t->root[produced]] = malloc(plane_bytes(wv) * wv->c);
            if (!t->host[t->root[produced]]) VKS_TRY(vks_fail(VKS_ERR_OUT_OF_HOST_MEMORY, "out of host memory for a %ux%ux%u tensor",
                                                              wv->c, wv->h, wv->w));
        }
        for (uint32_t k = 0; k < sp->nbands; k++) {
            uint32_t r0, r1;
            step_band(sp, k, &r0, &r1);
            band_t b;
            band_plan(s, t, sp, r0, r1, &b);
            t->npend = 0;
            VKS_TRY(vks_rec_reset(&t->rec));
            VKS_TRY(record_band(s, t, &t->rec, sp, &b));
            VKS_TRY(vks_rec_end(&t->rec));
            VKS_TRY(vks_submit_wait(s->ctx, &t->rec.cmd, 1));
            for (uint32_t p = 0; p < t->npend; p++) memcpy(t->pend[p].dst, t->pend[p].src, t->pend[p].n);
            if (produced != UINT32_MAX && t->acc[t->root[produced]] >= 0)
                add_band_stats(t, whole(s, produced), t->root[produced], r1 - r0);
            done++;
            if (s->opts.progress) s->opts.progress(s->opts.progress_user, done, t->total);
        }
        if (inplace != UINT32_MAX) t->host[inplace] = NULL;
        inplace = UINT32_MAX;
        for (uint32_t v = 0; v < s->plan.nvals; v++)   /* values nothing reads any more */
            if (t->host[v] && s->plan.items[v].last <= i) {
                free(t->host[v]);
                t->host[v] = NULL;
            }
    }
fail:
    if (inplace != UINT32_MAX) t->host[inplace] = NULL;   /* shared with the step's output */
    for (uint32_t v = 0; v < s->plan.nvals; v++) {
        free(t->host[v]);
        t->host[v] = NULL;
    }
    if (st) vks_error_prefix("tiled run");
    return st;
}
