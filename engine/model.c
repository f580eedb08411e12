/* Model loading: the file read and checked (safetensors.c), the graph parsed (model_parse.c),
 * then every weight the graph uses laid out in one block, converted to f32 (each op adding and
 * filling its own through its descriptor: tables, permutations, folded batch norms), and
 * uploaded. */
#include "file.h"
#include "ops/op.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

vks_tensor_t vks_wb_reserve(vks_wbuild_t *wb, uint64_t floats)
{
    VkDeviceSize off = wb->size;
    wb->size = vks_align(off + floats * sizeof(float), 256);
    return vks_tensor_flat(&wb->m->weights, off, (uint32_t)floats);
}

float *vks_wb_at(const vks_wbuild_t *wb, const vks_tensor_t *t) { return (float *)(wb->host + t->offset); }

float *vks_wb_tmp(vks_wbuild_t *wb, size_t floats)
{
    if (floats > wb->tmp_floats) {
        float *t = realloc(wb->tmp, floats * sizeof(float));
        if (!t) {
            vks_error_set("out of host memory");
            return NULL;
        }
        wb->tmp = t;
        wb->tmp_floats = floats;
    }
    return wb->tmp;
}

/* Every layer's weight and bias (a bias too where a batch norm folds into the layer), then what
 * its op adds; the conditional-instance-norm table last. */
static void reserve_weights(vks_wbuild_t *wb)
{
    vks_model_t *m = wb->m;
    for (uint32_t i = 0; i < m->nlayers; i++) {
        vks_layer_t *ly = &m->layers[i];
        const vks_layer_refs_t *r = &wb->refs[i];
        if (r->weight) ly->weight = vks_wb_reserve(wb, r->weight->count);
        bool folded_next = i + 1 < m->nlayers && m->layers[i + 1].folded;
        if (r->bias || folded_next) {
            ly->bias = vks_wb_reserve(wb, ly->channels);
            ly->has_bias = true;
        }
        if (ly->op->reserve) ly->op->reserve(wb, i);
    }
    if (m->cin_channels) m->cin_table = vks_wb_reserve(wb, 2ull * m->nstyles * m->cin_channels);
    wb->host_size = wb->size;
    for (uint32_t i = 0; i < m->nlayers; i++)
        if (m->layers[i].op->reserve_derived) m->layers[i].op->reserve_derived(wb, i);
    /* slack after the last weights, so a uniform binding of VKS_UBO_BYTES may start anywhere
       (the conv2d_ubo variant of conv2d.comp) */
    wb->size += VKS_UBO_BYTES;
}

/* Lay out every weight the graph uses in one host buffer (converted to f32, batch norms folded),
 * then upload it into the model's weights block, whose end the weights the device derives on
 * first use (the Winograd transforms, conv2d.c) take. */
static vks_status_t upload_weights(vks_model_t *m, const vks_st_file_t *f, const vks_layer_refs_t *refs)
{
    vks_status_t st = VKS_OK;
    vks_wbuild_t wb = {.m = m, .f = f, .refs = refs};
    reserve_weights(&wb);
    wb.host = calloc(1, wb.host_size);
    if (!wb.host)
        return vks_fail(VKS_ERR_OUT_OF_HOST_MEMORY, "out of host memory for %llu bytes of weights", (unsigned long long)wb.host_size);
    for (uint32_t i = 0; i < m->nlayers && !st; i++) {
        const vks_layer_t *ly = &m->layers[i];
        const vks_layer_refs_t *r = &refs[i];
        if (r->weight) st = vks_st_read_f32(f, r->weight, vks_wb_at(&wb, &ly->weight));
        if (!st && r->bias) st = vks_st_read_f32(f, r->bias, vks_wb_at(&wb, &ly->bias));
        if (!st && ly->op->load) st = ly->op->load(&wb, i);
    }
    for (uint32_t i = 0; i < m->nlayers && !st; i++)
        if (m->layers[i].op->finish) st = m->layers[i].op->finish(&wb, i);
    if (st) goto fail;
    VKS_TRY(vks_block_create(m->ctx, wb.size, VKS_MEM_DEVICE, &m->weights));
    VKS_TRY(vks_block_upload(m->ctx, &m->weights, 0, wb.host, wb.host_size));
fail:
    free(wb.tmp);
    free(wb.host);
    return st;
}

vks_status_t vks_model_load_memory(vks_context_t *ctx, const void *data, size_t size, vks_model_t **out)
{
    if (!ctx || !out || (!data && size)) return vks_fail(VKS_ERR_INVALID_ARGUMENT, "vks_model_load_memory: NULL argument");
    *out = NULL;
    vks_st_file_t f;
    vks_status_t st = vks_st_parse(data, size, &f);
    if (st) return st;
    for (size_t i = 0; i < f.count && !st; i++) st = vks_st_check_finite(&f, &f.tensors[i]);
    if (st) {
        vks_st_free(&f);
        return st;
    }
    vks_layer_refs_t *refs = NULL;
    vks_model_t *m = calloc(1, sizeof *m);
    if (!m) { st = vks_fail(VKS_ERR_OUT_OF_HOST_MEMORY, "out of host memory"); goto fail; }
    m->ctx = ctx;
    VKS_TRY(vks_model_parse(m, &f, &refs));
    VKS_TRY(upload_weights(m, &f, refs));
    *out = m;
    m = NULL;
fail:
    free(refs);
    vks_model_destroy(m);
    vks_st_free(&f);
    return st;
}

vks_status_t vks_model_load(vks_context_t *ctx, const char *path, vks_model_t **out)
{
    if (!ctx || !path || !out) return vks_fail(VKS_ERR_INVALID_ARGUMENT, "vks_model_load: NULL argument");
    *out = NULL;
    int fd;
    uint64_t n;
    vks_status_t st = vks_file_open_regular(path, &fd, &n);
    if (st) return st;
    void *buf = NULL;
    if (n > (2ull << 30))
        st = vks_fail(VKS_ERR_MODEL_FORMAT, "%s: %llu bytes is larger than any vkstyle model (2 GiB)", path, (unsigned long long)n);
    else if (!(buf = malloc(n ? (size_t)n : 1)))
        st = vks_fail(VKS_ERR_OUT_OF_HOST_MEMORY, "%s: out of host memory", path);
    else
        st = vks_file_read_exact(fd, path, buf, (size_t)n);
    close(fd);
    if (!st) {
        st = vks_model_load_memory(ctx, buf, (size_t)n, out);
        if (st) vks_error_prefix("%s", path);
    }
    free(buf);
    return st;
}

void vks_model_destroy(vks_model_t *m)
{
    if (!m) return;
    vks_block_destroy(m->ctx, &m->weights);
    for (uint32_t s = 0; s < m->nstyles && m->styles; s++) free(m->styles[s]);
    free(m->styles);
    free(m->layers);
    free(m);
}

uint32_t vks_model_style_count(const vks_model_t *m) { return m ? m->nstyles : 0; }

const char *vks_model_style_name(const vks_model_t *m, uint32_t i)
{
    return m && i < m->nstyles ? m->styles[i] : NULL;
}

const char *vks_model_name(const vks_model_t *m) { return m ? m->name : ""; }
