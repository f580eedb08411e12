/* Planning a session, apart from any device: every value's shape for an input size (each op's
 * shape through its descriptor), its lifetime in steps, and its place in one arena, first fit by
 * offset among the values alive at the same time. test_plan checks it without Vulkan. */
#include "plan.h"
#include "ops/op.h"

#include <stdlib.h>
#include <string.h>

void vks_plan_free(plan_t *p)
{
    free(p->vals);
    free(p->alias);
    free(p->items);
    memset(p, 0, sizeof *p);
}

static vks_status_t shape_fail(const vks_model_t *m, uint32_t i)
{
    vks_error_prefix("layer %u (%s)", i, m->layers[i].name);
    return VKS_ERR_SHAPE;
}

/* Shapes of all values for a w x h input (tensors: the graph's input channels, and any output
 * size; pixels: 3 channels, and an output at least the input's size). */
static vks_status_t plan_shapes(const vks_model_t *m, uint32_t w, uint32_t h, uint32_t esize, bool tensors, plan_t *p)
{
    p->nvals = m->nlayers + 1;
    p->vals = calloc(p->nvals, sizeof *p->vals);
    p->alias = calloc(p->nvals, sizeof *p->alias);
    if (!p->vals || !p->alias) return vks_fail(VKS_ERR_OUT_OF_HOST_MEMORY, "out of host memory");
    p->vals[0] = vks_tensor_act(NULL, 0, 1, tensors ? m->in_channels : 3, h, w, esize);
    for (uint32_t i = 0; i < m->nlayers; i++) {
        const vks_layer_t *ly = &m->layers[i];
        const vks_tensor_t *in = &p->vals[ly->src];
        const vks_tensor_t *in2 = ly->op->flags & VKS_OPF_TWO_INPUTS ? &p->vals[ly->src2] : NULL;
        uint32_t oh = in->h, ow = in->w;
        p->alias[i + 1] = ly->folded ? p->alias[ly->src] : i + 1;
        if (ly->op->shape && ly->op->shape(ly, in, in2, &oh, &ow)) return shape_fail(m, i);
        if (oh > 65536 || ow > 65536 || (uint64_t)oh * ow > (1ull << 30)) {
            vks_error_set("output %ux%u is too large", oh, ow);
            return shape_fail(m, i);
        }
        p->vals[i + 1] = vks_tensor_act(NULL, 0, 1, ly->channels, oh, ow, esize);
        if (ly->has_residual) {
            const vks_tensor_t *r = &p->vals[ly->residual];
            if (r->h != oh || r->w != ow) {
                vks_error_set("residual %ux%u does not match the output %ux%u", r->h, r->w, oh, ow);
                return shape_fail(m, i);
            }
        }
    }
    const vks_tensor_t *o = &p->vals[m->nlayers];
    if (!tensors && (o->h < h || o->w < w))
        return vks_fail(VKS_ERR_SHAPE, "the network turns a %ux%u input into %ux%u, smaller than the input", w, h, o->w, o->h);
    return VKS_OK;
}

/* First-fit placement of items by lifetime. */
static vks_status_t place(plan_t *p)
{
    uint32_t nlive = 0;
    uint32_t *live = malloc(p->nitems * sizeof *live);
    if (!live) return vks_fail(VKS_ERR_OUT_OF_HOST_MEMORY, "out of host memory");
    p->arena = 0;
    uint32_t last_step = 0;
    for (uint32_t k = 0; k < p->nitems; k++) if (p->items[k].last > last_step) last_step = p->items[k].last;
    for (uint32_t s = 0; s <= last_step; s++) {
        for (uint32_t k = 0; k < p->nitems; k++) {
            item_t *it = &p->items[k];
            if (it->def != s || it->size == 0) continue;
            /* lowest offset that overlaps no live item: try 0 and the end of every live item */
            VkDeviceSize best = UINT64_MAX;
            for (uint32_t c = 0; c <= nlive; c++) {
                VkDeviceSize cand = c == nlive ? 0 : vks_align(p->items[live[c]].off + p->items[live[c]].size, 256);
                bool ok = true;
                for (uint32_t j = 0; j < nlive && ok; j++) {
                    const item_t *o = &p->items[live[j]];
                    ok = cand + it->size <= o->off || o->off + o->size <= cand;
                }
                if (ok && cand < best) best = cand;
            }
            it->off = best;
            if (best + it->size > p->arena) p->arena = best + it->size;
            live[nlive++] = k;
        }
        for (uint32_t j = 0; j < nlive;)
            if (p->items[live[j]].last <= s) live[j] = live[--nlive];
            else j++;
    }
    free(live);
    return VKS_OK;
}

vks_status_t vks_plan_build(const vks_model_t *m, uint32_t w, uint32_t h, uint32_t esize, bool scratch, plan_t *p)
{
    return vks_plan_build_io(m, w, h, esize, scratch, false, p);
}

vks_status_t vks_plan_build_io(const vks_model_t *m, uint32_t w, uint32_t h, uint32_t esize, bool scratch, bool tensors,
                               plan_t *p)
{
    memset(p, 0, sizeof *p);
    if (w == 0 || h == 0) return vks_fail(VKS_ERR_SHAPE, "image size %ux%u: both sides must be at least 1", w, h);
    if (w > 32768 || h > 32768) return vks_fail(VKS_ERR_SHAPE, "image size %ux%u: sides are limited to 32768", w, h);
    vks_status_t st = plan_shapes(m, w, h, esize, tensors, p);
    if (st) return st;
    uint32_t L = m->nlayers;
    p->nitems = p->nvals + 3 + L;
    p->items = calloc(p->nitems, sizeof *p->items);
    if (!p->items) return vks_fail(VKS_ERR_OUT_OF_HOST_MEMORY, "out of host memory");
    for (uint32_t v = 0; v < p->nvals; v++) {
        p->items[v].def = v;
        p->items[v].last = v;
        if (p->alias[v] == v) p->items[v].size = vks_tensor_bytes(&p->vals[v]);
    }
    /* a value is used by the steps of the layers that read it (through any alias) */
    for (uint32_t i = 0; i < L; i++) {
        const vks_layer_t *ly = &m->layers[i];
        uint32_t reads[3] = {ly->src, ly->op->flags & VKS_OPF_TWO_INPUTS ? ly->src2 : ly->src,
                             ly->has_residual ? ly->residual : ly->src};
        for (int r = 0; r < 3; r++) {
            item_t *it = &p->items[p->alias[reads[r]]];
            if (it->last < i + 1) it->last = i + 1;
        }
    }
    item_t *out = &p->items[p->alias[L]];
    if (out->last < L + 1) out->last = L + 1;
    VkDeviceSize px = tensors ? 0 : vks_align((VkDeviceSize)w * h * 4, 256);   /* tensors: copied as they are */
    p->items[p->nvals] = (item_t){px, 0, 0, 0};                  /* px_in */
    p->items[p->nvals + 1] = (item_t){px, 0, L + 1, L + 2};      /* px_out */
    p->items[p->nvals + 2] = (item_t){2ull * m->cin_channels * sizeof(float), 0, 0, L + 2}; /* eff */
    for (uint32_t i = 0; i < L; i++) {   /* scratch: the layer's step */
        const vks_layer_t *ly = &m->layers[i];
        VkDeviceSize bytes = scratch && ly->op->scratch ? ly->op->scratch(ly, &p->vals[ly->src], &p->vals[i + 1]) : 0;
        p->items[p->nvals + 3 + i] = (item_t){vks_align(bytes, 256), 0, i + 1, i + 1};
    }
    return place(p);
}

