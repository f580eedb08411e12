/* Records dispatches and copies into one command buffer, allocating descriptor sets and
 * inserting a barrier exactly where an access conflicts with one since the last barrier. */
#include "engine.h"

#include <stdlib.h>
#include <string.h>

#define SETS_PER_POOL 256

static vks_status_t grow(void **arr, uint32_t *cap, uint32_t need, size_t elem)
{
    if (need <= *cap) return VKS_OK;
    uint32_t cap2 = *cap ? *cap * 2 : 16;
    while (cap2 < need) cap2 *= 2;
    void *p = realloc(*arr, cap2 * elem);
    if (!p) return vks_fail(VKS_ERR_OUT_OF_HOST_MEMORY, "out of host memory");
    *arr = p;
    *cap = cap2;
    return VKS_OK;
}

vks_status_t vks_rec_begin(vks_context_t *ctx, vks_rec_t *rec, bool log)
{
    vks_status_t st = VKS_OK;
    memset(rec, 0, sizeof *rec);
    rec->ctx = ctx;
    rec->log_enabled = log;
    /* a command pool of its own: pools (and their buffers) must not be used by two threads at
     * once, and sessions on one context may record and run on different threads */
    VkCommandPoolCreateInfo pci = {
        .sType = VK_STRUCTURE_TYPE_COMMAND_POOL_CREATE_INFO,
        .flags = VK_COMMAND_POOL_CREATE_RESET_COMMAND_BUFFER_BIT,
        .queueFamilyIndex = ctx->queue_family,
    };
    VKS_VK_NEW(ctx->vk.vkCreateCommandPool(ctx->device, &pci, NULL, &rec->cmd_pool), rec->cmd_pool);
    VkCommandBufferAllocateInfo ai = {
        .sType = VK_STRUCTURE_TYPE_COMMAND_BUFFER_ALLOCATE_INFO,
        .commandPool = rec->cmd_pool,
        .level = VK_COMMAND_BUFFER_LEVEL_PRIMARY,
        .commandBufferCount = 1,
    };
    VKS_VK(ctx->vk.vkAllocateCommandBuffers(ctx->device, &ai, &rec->cmd));
    VkCommandBufferBeginInfo bi = {.sType = VK_STRUCTURE_TYPE_COMMAND_BUFFER_BEGIN_INFO};
    VKS_VK(ctx->vk.vkBeginCommandBuffer(rec->cmd, &bi));
    return VKS_OK;
fail:
    vks_rec_destroy(rec);
    return st;
}

vks_status_t vks_rec_begin_dry(vks_context_t *ctx, vks_rec_t *rec)
{
    memset(rec, 0, sizeof *rec);
    rec->ctx = ctx;
    rec->dry = true;
    return VKS_OK;
}

vks_status_t vks_rec_pipeline(vks_rec_t *rec, vks_shader_id_t shader, const uint32_t *spec, uint32_t nspec,
                              uint32_t nbindings, uint32_t ubo_mask, uint32_t push_size, uint32_t last_count,
                              const vks_pipeline_t **out)
{
    if (!rec->dry)
        return vks_pipeline_get_array(rec->ctx, shader, spec, nspec, nbindings, ubo_mask, push_size, last_count, out);
    vks_pipeline_t **stubs = realloc(rec->stubs, (rec->nstubs + 1) * sizeof *stubs);
    if (!stubs) return vks_fail(VKS_ERR_OUT_OF_HOST_MEMORY, "out of host memory");
    rec->stubs = stubs;
    vks_pipeline_t *p = malloc(sizeof *p);
    if (!p) return vks_fail(VKS_ERR_OUT_OF_HOST_MEMORY, "out of host memory");
    vks_status_t st = vks_pipeline_describe(rec->ctx, shader, spec, nspec, nbindings, ubo_mask, push_size, last_count, p);
    if (st) {
        free(p);
        return st;
    }
    rec->stubs[rec->nstubs++] = p;
    *out = p;
    return VKS_OK;
}

static vks_status_t log_event(vks_rec_t *rec, const vks_rec_event_t *ev)
{
    if (!rec->log_enabled) return VKS_OK;
    vks_status_t st = grow((void **)&rec->log, &rec->cap_log, rec->nlog + 1, sizeof *rec->log);
    if (!st) rec->log[rec->nlog++] = *ev;
    return st;
}

static bool overlaps(const vks_binding_t *a, const vks_binding_t *b)
{
    return a->block == b->block && a->offset < b->offset + b->size && b->offset < a->offset + a->size;
}

static vks_status_t barrier(vks_rec_t *rec)
{
    VkMemoryBarrier mb = {
        .sType = VK_STRUCTURE_TYPE_MEMORY_BARRIER,
        .srcAccessMask = VK_ACCESS_SHADER_WRITE_BIT | VK_ACCESS_TRANSFER_WRITE_BIT,
        .dstAccessMask = VK_ACCESS_SHADER_READ_BIT | VK_ACCESS_SHADER_WRITE_BIT |
                         VK_ACCESS_TRANSFER_READ_BIT | VK_ACCESS_TRANSFER_WRITE_BIT,
    };
    VkPipelineStageFlags stages = VK_PIPELINE_STAGE_COMPUTE_SHADER_BIT | VK_PIPELINE_STAGE_TRANSFER_BIT;
    rec->ctx->vk.vkCmdPipelineBarrier(rec->cmd, stages, stages, 0, 1, &mb, 0, NULL, 0, NULL);
    rec->npending = 0;
    vks_rec_event_t ev = {.kind = VKS_EV_BARRIER};
    return log_event(rec, &ev);
}

/* Barrier if any of these accesses conflicts with one since the last barrier; then remember them. */
static vks_status_t track(vks_rec_t *rec, const vks_binding_t *b, uint32_t nb)
{
    bool hazard = false;
    for (uint32_t i = 0; i < nb && !hazard; i++)
        for (uint32_t j = 0; j < rec->npending && !hazard; j++)
            hazard = (b[i].write || rec->pending[j].write) && overlaps(&b[i], &rec->pending[j]);
    vks_status_t st = hazard ? barrier(rec) : VKS_OK;
    if (st) return st;
    if ((st = grow((void **)&rec->pending, &rec->cap_pending, rec->npending + nb, sizeof *rec->pending)))
        return st;
    memcpy(rec->pending + rec->npending, b, nb * sizeof *b);
    rec->npending += nb;
    return VKS_OK;
}

static vks_status_t alloc_set(vks_rec_t *rec, VkDescriptorSetLayout dsl, VkDescriptorSet *set)
{
    vks_status_t st = VKS_OK;
    vks_context_t *ctx = rec->ctx;
    if (rec->sets_left == 0) {
        VkDescriptorPoolSize ps[2] = {{VK_DESCRIPTOR_TYPE_STORAGE_BUFFER, SETS_PER_POOL * VKS_MAX_BINDINGS},
                                      {VK_DESCRIPTOR_TYPE_UNIFORM_BUFFER, SETS_PER_POOL * VKS_MAX_BINDINGS}};
        VkDescriptorPoolCreateInfo pci = {
            .sType = VK_STRUCTURE_TYPE_DESCRIPTOR_POOL_CREATE_INFO,
            .maxSets = SETS_PER_POOL,
            .poolSizeCount = 2,
            .pPoolSizes = ps,
        };
        uint32_t cap = rec->npools;
        if ((st = grow((void **)&rec->pools, &cap, rec->npools + 1, sizeof *rec->pools))) return st;
        /* grow() doubles capacity; pools is only ever appended, so track by npools */
        VKS_VK(ctx->vk.vkCreateDescriptorPool(ctx->device, &pci, NULL, &rec->pools[rec->npools]));
        rec->npools++;
        rec->sets_left = SETS_PER_POOL;
    }
    VkDescriptorSetAllocateInfo ai = {
        .sType = VK_STRUCTURE_TYPE_DESCRIPTOR_SET_ALLOCATE_INFO,
        .descriptorPool = rec->pools[rec->npools - 1],
        .descriptorSetCount = 1,
        .pSetLayouts = &dsl,
    };
    VKS_VK(ctx->vk.vkAllocateDescriptorSets(ctx->device, &ai, set));
    rec->sets_left--;
fail:
    return st;
}

/* Guard mode: a region of `size` bytes between guard bytes, in a host-visible block whose every
 * byte starts as VKS_GUARD_PATTERN. */
static vks_status_t guard_alloc(vks_rec_t *rec, VkDeviceSize size, uint32_t *block, VkDeviceSize *offset)
{
    VkDeviceSize need = vks_align(size, VKS_GUARD_BYTES) + 2 * VKS_GUARD_BYTES;
    vks_block_t *cur = rec->nguard_blocks ? &rec->guard_blocks[rec->nguard_blocks - 1] : NULL;
    if (!cur || rec->guard_used + need > cur->size) {
        vks_block_t *g = realloc(rec->guard_blocks, (rec->nguard_blocks + 1) * sizeof *g);
        if (!g) return vks_fail(VKS_ERR_OUT_OF_HOST_MEMORY, "out of host memory");
        rec->guard_blocks = g;
        VkDeviceSize bsize = need > (16u << 20) ? need : (16u << 20);
        vks_status_t st = vks_block_create(rec->ctx, bsize, VKS_MEM_UPLOAD, &g[rec->nguard_blocks]);
        if (st) return st;
        memset(g[rec->nguard_blocks].map, VKS_GUARD_PATTERN, bsize);
        rec->nguard_blocks++;
        rec->guard_used = 0;
    }
    *block = rec->nguard_blocks - 1;
    *offset = rec->guard_used + VKS_GUARD_BYTES;
    rec->guard_used += need;
    return VKS_OK;
}

static void copy_range(vks_rec_t *rec, const vks_block_t *src, VkDeviceSize so, const vks_block_t *dst,
                       VkDeviceSize dof, VkDeviceSize size)
{
    VkBufferCopy region = {so, dof, size};
    rec->ctx->vk.vkCmdCopyBuffer(rec->cmd, src->buffer, dst->buffer, 1, &region);
}

/* Guard mode: copy each binding into a guarded region (gb: the copies' bindings); after the
 * dispatch, guard_after() copies the written ones back. Full barriers around each step. */
static vks_status_t guard_before(vks_rec_t *rec, const vks_pipeline_t *p, const vks_binding_t *b, uint32_t nb,
                                 vks_binding_t *gb)
{
    vks_status_t st = barrier(rec);
    if (st) return st;
    if ((st = grow((void **)&rec->guards, &rec->cap_guards, rec->nguards + nb, sizeof *rec->guards))) return st;
    for (uint32_t i = 0; i < nb; i++) {
        uint32_t block = 0;
        VkDeviceSize off = 0;
        if ((st = guard_alloc(rec, b[i].size, &block, &off))) return st;
        rec->guards[rec->nguards++] = (vks_guard_t){block, off, b[i].size, p->shader, (uint32_t)rec->dispatches, i};
        /* a storage binding's range takes in the guard after it: lavapipe bounds-checks every
         * storage access against the descriptor's range and drops a write past it, which would
         * hide an overrun from the guard; uniform bindings keep their exact range (the limit) */
        uint32_t binding = i < p->nbindings ? i : p->nbindings - 1;
        VkDeviceSize range = b[i].size + (((p->ubo_mask >> binding) & 1) ? 0 : VKS_GUARD_BYTES);
        gb[i] = (vks_binding_t){NULL, off, range, b[i].write};
        copy_range(rec, b[i].block, b[i].offset, &rec->guard_blocks[block], off, b[i].size);
    }
    /* the blocks once all are allocated: a new block moves the array (realloc) */
    for (uint32_t i = 0; i < nb; i++) gb[i].block = &rec->guard_blocks[rec->guards[rec->nguards - nb + i].block];
    return barrier(rec);
}

static vks_status_t guard_after(vks_rec_t *rec, const vks_binding_t *b, const vks_binding_t *gb, uint32_t nb)
{
    vks_status_t st = barrier(rec);
    for (uint32_t i = 0; i < nb && !st; i++)
        if (b[i].write) copy_range(rec, gb[i].block, gb[i].offset, b[i].block, b[i].offset, b[i].size);
    return st ? st : barrier(rec);
}

vks_status_t vks_rec_check_guards(const vks_rec_t *rec)
{
    for (uint32_t g = 0; g < rec->nguards; g++) {
        const vks_guard_t *gd = &rec->guards[g];
        const uint8_t *base = rec->guard_blocks[gd->block].map;
        const uint8_t *front = base + gd->offset - VKS_GUARD_BYTES, *back = base + gd->offset + gd->size;
        VkDeviceSize nback = vks_align(gd->size, VKS_GUARD_BYTES) - gd->size + VKS_GUARD_BYTES;
        for (VkDeviceSize k = 0; k < VKS_GUARD_BYTES + nback; k++) {
            bool before = k < VKS_GUARD_BYTES;
            uint8_t v = before ? front[k] : back[k - VKS_GUARD_BYTES];
            if (v != VKS_GUARD_PATTERN)
                return vks_fail(VKS_ERR_INVALID_ARGUMENT, "guard bytes overwritten: dispatch %u (shader %s) wrote "
                                "byte %llu %s its binding %u of %llu bytes", gd->dispatch,
                                vks_shader_table[gd->shader].name,
                                (unsigned long long)(before ? VKS_GUARD_BYTES - k : k - VKS_GUARD_BYTES + 1),
                                before ? "before" : "after", gd->binding, (unsigned long long)gd->size);
        }
    }
    return VKS_OK;
}

/* A dispatch the device can take: the binding count, the workgroup counts (or a shader that can
 * be split), each binding's range and alignment. The dry recording stops after this. */
static vks_status_t check_dispatch(const vks_rec_t *rec, const vks_pipeline_t *p, const vks_binding_t *b,
                                   uint32_t nb, uint32_t gx, uint32_t gy, uint32_t gz)
{
    const vks_context_t *ctx = rec->ctx;
    const char *name = vks_shader_table[p->shader].name;
    if (nb != p->nbindings - 1 + p->last_count)
        return vks_fail(VKS_ERR_INVALID_ARGUMENT, "shader %s takes %u bindings, got %u", name,
                        p->nbindings - 1 + p->last_count, nb);
    const VkPhysicalDeviceLimits *lim = &ctx->props.limits;
    const uint32_t *mg = ctx->max_groups;
    bool split = gx > mg[0] || gy > mg[1] || gz > mg[2];
    bool wg_base = vks_shader_table[p->shader].wg_base;
    if (split && !wg_base)
        return vks_fail(VKS_ERR_SHAPE, "shader %s: %ux%ux%u workgroups exceed the device limit %ux%ux%u", name, gx,
                        gy, gz, mg[0], mg[1], mg[2]);
    if (gx == 0 || gy == 0 || gz == 0)
        return vks_fail(VKS_ERR_SHAPE, "shader %s: an empty dispatch (%ux%ux%u)", name, gx, gy, gz);
    if (wg_base && p->push_size < 12)
        return vks_fail(VKS_ERR_INVALID_ARGUMENT, "shader %s: its push constants have no workgroup base", name);
    for (uint32_t i = 0; i < nb; i++) {
        uint32_t binding = i < p->nbindings ? i : p->nbindings - 1;   /* array elements: the last binding */
        bool ubo = (p->ubo_mask >> binding) & 1;
        if (b[i].size > (ubo ? lim->maxUniformBufferRange : ctx->max_binding) ||
            b[i].offset % (ubo ? lim->minUniformBufferOffsetAlignment : lim->minStorageBufferOffsetAlignment))
            return vks_fail(VKS_ERR_SHAPE, "shader %s: binding %u (%llu bytes at %llu) is past the device's "
                            "binding limits", name, i, (unsigned long long)b[i].size, (unsigned long long)b[i].offset);
    }
    return VKS_OK;
}

/* One descriptor set of the pipeline's layout, written with these bindings. */
static vks_status_t write_set(vks_rec_t *rec, const vks_pipeline_t *p, const vks_binding_t *bound, uint32_t nb,
                              VkDescriptorSet *set)
{
    vks_context_t *ctx = rec->ctx;
    vks_status_t st = alloc_set(rec, p->dsl, set);
    if (st) return st;
    VkDescriptorBufferInfo bi[VKS_MAX_BINDINGS];
    VkWriteDescriptorSet w[VKS_MAX_BINDINGS];
    for (uint32_t i = 0; i < nb; i++) bi[i] = (VkDescriptorBufferInfo){bound[i].block->buffer, bound[i].offset, bound[i].size};
    for (uint32_t i = 0; i < p->nbindings; i++) {
        w[i] = (VkWriteDescriptorSet){
            .sType = VK_STRUCTURE_TYPE_WRITE_DESCRIPTOR_SET,
            .dstSet = *set,
            .dstBinding = i,
            .descriptorCount = i + 1 == p->nbindings ? p->last_count : 1,
            .descriptorType = (p->ubo_mask >> i) & 1 ? VK_DESCRIPTOR_TYPE_UNIFORM_BUFFER : VK_DESCRIPTOR_TYPE_STORAGE_BUFFER,
            .pBufferInfo = &bi[i],
        };
    }
    ctx->vk.vkUpdateDescriptorSets(ctx->device, p->nbindings, w, 0, NULL);
    rec->descriptor_writes++;
    return VKS_OK;
}

/* A dispatch larger than the device's workgroup counts, in pieces of at most max_groups per
 * dimension; each gets its first workgroup in the push constants. A barrier between pieces: the
 * validation layer's synchronization checks see whole bindings, not the disjoint parts the pieces
 * write. The log has each piece (the caller logs the last). */
static vks_status_t dispatch_pieces(vks_rec_t *rec, const vks_pipeline_t *p, const vks_binding_t *b, uint32_t nb,
                                    const void *push, uint32_t gx, uint32_t gy, uint32_t gz)
{
    vks_context_t *ctx = rec->ctx;
    const uint32_t *mg = ctx->max_groups;
    vks_status_t st;
    uint8_t pc[128];
    memcpy(pc, push, p->push_size);
    uint32_t pieces = 0;
    for (uint32_t z0 = 0; z0 < gz; z0 += mg[2])
        for (uint32_t y0 = 0; y0 < gy; y0 += mg[1])
            for (uint32_t x0 = 0; x0 < gx; x0 += mg[0]) {
                uint32_t base[3] = {x0, y0, z0};
                memcpy(pc + p->push_size - sizeof base, base, sizeof base);
                if (pieces++ && (st = barrier(rec))) return st;
                ctx->vk.vkCmdPushConstants(rec->cmd, p->layout, VK_SHADER_STAGE_COMPUTE_BIT, 0, p->push_size, pc);
                ctx->vk.vkCmdDispatch(rec->cmd, gx - x0 < mg[0] ? gx - x0 : mg[0], gy - y0 < mg[1] ? gy - y0 : mg[1],
                                      gz - z0 < mg[2] ? gz - z0 : mg[2]);
                if (x0 + mg[0] < gx || y0 + mg[1] < gy || z0 + mg[2] < gz) {   /* the last one: by the caller */
                    vks_rec_event_t piece = {.kind = VKS_EV_DISPATCH, .shader = p->shader, .nbindings = nb};
                    memcpy(piece.bindings, b, nb * sizeof *b);
                    if ((st = log_event(rec, &piece))) return st;
                }
            }
    rec->split_pieces += pieces > 1 ? pieces : 0;
    if (pieces > 1) vks_count(&ctx->shader_splits[p->shader]);
    /* the barriers between pieces forgot the accesses tracked before them: the next dispatch must
     * still see this one's */
    if (pieces > 1 && !ctx->guard_bindings && (st = track(rec, b, nb))) return st;
    return VKS_OK;
}

vks_status_t vks_rec_dispatch(vks_rec_t *rec, const vks_pipeline_t *p, const vks_binding_t *b,
                              uint32_t nb, const void *push, uint32_t gx, uint32_t gy, uint32_t gz)
{
    vks_context_t *ctx = rec->ctx;
    vks_status_t st = check_dispatch(rec, p, b, nb, gx, gy, gz);
    if (st) return st;
    if (rec->dry) {
        rec->dispatches++;
        return VKS_OK;
    }
    vks_binding_t gb[VKS_MAX_BINDINGS];
    const vks_binding_t *bound = b;
    if (ctx->guard_bindings) {
        if ((st = guard_before(rec, p, b, nb, gb))) return st;
        bound = gb;
    }
    VkDescriptorSet set;
    if ((st = write_set(rec, p, bound, nb, &set))) return st;
    if (!ctx->guard_bindings && (st = track(rec, b, nb))) return st;
    ctx->vk.vkCmdBindPipeline(rec->cmd, VK_PIPELINE_BIND_POINT_COMPUTE, p->pipeline);
    ctx->vk.vkCmdBindDescriptorSets(rec->cmd, VK_PIPELINE_BIND_POINT_COMPUTE, p->layout, 0, 1, &set, 0, NULL);
    if (vks_shader_table[p->shader].wg_base) {
        if ((st = dispatch_pieces(rec, p, b, nb, push, gx, gy, gz))) return st;
    } else {
        if (p->push_size) ctx->vk.vkCmdPushConstants(rec->cmd, p->layout, VK_SHADER_STAGE_COMPUTE_BIT, 0, p->push_size, push);
        ctx->vk.vkCmdDispatch(rec->cmd, gx, gy, gz);
    }
    if (rec->dispatch_ts) {   /* vks_session_profile_shaders: query n + 1 after dispatch n */
        if (rec->dispatch_ts_n + 1 < rec->dispatch_ts_cap) {
            ctx->vk.vkCmdWriteTimestamp(rec->cmd, VK_PIPELINE_STAGE_BOTTOM_OF_PIPE_BIT, rec->dispatch_ts, rec->dispatch_ts_n + 1);
            rec->dispatch_shader[rec->dispatch_ts_n] = p->shader;
        }
        rec->dispatch_ts_n++;   /* past the pool too: the caller sees how many it needs */
    }
    if (ctx->guard_bindings && (st = guard_after(rec, b, gb, nb))) return st;
    rec->dispatches++;
    vks_count(&ctx->shader_dispatches[p->shader]);
    rec->last.pipe = p;
    rec->last.set = set;
    rec->last.groups[0] = gx;
    rec->last.groups[1] = gy;
    rec->last.groups[2] = gz;
    vks_rec_event_t ev = {.kind = VKS_EV_DISPATCH, .shader = p->shader, .nbindings = nb};
    memcpy(ev.bindings, b, nb * sizeof *b);
    return log_event(rec, &ev);
}

vks_status_t vks_rec_copy(vks_rec_t *rec, const vks_block_t *src, VkDeviceSize src_off,
                          const vks_block_t *dst, VkDeviceSize dst_off, VkDeviceSize size)
{
    if (rec->dry) return VKS_OK;
    vks_binding_t b[2] = {{src, src_off, size, false}, {dst, dst_off, size, true}};
    vks_status_t st = track(rec, b, 2);
    if (st) return st;
    VkBufferCopy region = {src_off, dst_off, size};
    rec->ctx->vk.vkCmdCopyBuffer(rec->cmd, src->buffer, dst->buffer, 1, &region);
    vks_rec_event_t ev = {.kind = VKS_EV_COPY, .nbindings = 2};
    memcpy(ev.bindings, b, sizeof b);
    return log_event(rec, &ev);
}

vks_status_t vks_rec_end(vks_rec_t *rec)
{
    vks_status_t st = VKS_OK;
    if (rec->dry) return VKS_OK;
    VkMemoryBarrier mb = {
        .sType = VK_STRUCTURE_TYPE_MEMORY_BARRIER,
        .srcAccessMask = VK_ACCESS_SHADER_WRITE_BIT | VK_ACCESS_TRANSFER_WRITE_BIT,
        .dstAccessMask = VK_ACCESS_HOST_READ_BIT | VK_ACCESS_SHADER_READ_BIT |
                         VK_ACCESS_SHADER_WRITE_BIT | VK_ACCESS_TRANSFER_READ_BIT |
                         VK_ACCESS_TRANSFER_WRITE_BIT,
    };
    /* Makes this buffer's writes visible to the host and to whatever is submitted after it. */
    rec->ctx->vk.vkCmdPipelineBarrier(rec->cmd, VK_PIPELINE_STAGE_COMPUTE_SHADER_BIT | VK_PIPELINE_STAGE_TRANSFER_BIT,
                         VK_PIPELINE_STAGE_HOST_BIT | VK_PIPELINE_STAGE_COMPUTE_SHADER_BIT |
                             VK_PIPELINE_STAGE_TRANSFER_BIT,
                         0, 1, &mb, 0, NULL, 0, NULL);
    rec->npending = 0;
    VKS_VK(rec->ctx->vk.vkEndCommandBuffer(rec->cmd));
    rec->ended = true;
fail:
    return st;
}

static void free_guards(vks_rec_t *rec)
{
    for (uint32_t i = 0; i < rec->nguard_blocks; i++) vks_block_destroy(rec->ctx, &rec->guard_blocks[i]);
    free(rec->guard_blocks);
    free(rec->guards);
    rec->guard_blocks = NULL;
    rec->guards = NULL;
    rec->nguard_blocks = rec->nguards = rec->cap_guards = 0;
    rec->guard_used = 0;
}

static void free_pools(vks_rec_t *rec)
{
    for (uint32_t i = 0; i < rec->npools; i++)
        rec->ctx->vk.vkDestroyDescriptorPool(rec->ctx->device, rec->pools[i], NULL);
    free(rec->pools);
    rec->pools = NULL;
    rec->npools = rec->sets_left = 0;
}

vks_status_t vks_rec_reset(vks_rec_t *rec)
{
    vks_status_t st = VKS_OK;
    rec->ended = false;
    free_pools(rec);
    free_guards(rec);
    rec->npending = rec->nlog = 0;
    rec->dispatches = rec->split_pieces = 0;
    rec->last.pipe = NULL;
    VKS_VK(rec->ctx->vk.vkResetCommandBuffer(rec->cmd, 0));
    VkCommandBufferBeginInfo bi = {.sType = VK_STRUCTURE_TYPE_COMMAND_BUFFER_BEGIN_INFO};
    VKS_VK(rec->ctx->vk.vkBeginCommandBuffer(rec->cmd, &bi));
fail:
    return st;
}

void vks_rec_destroy(vks_rec_t *rec)
{
    if (!rec || !rec->ctx) return;
    free_pools(rec);
    free_guards(rec);
    /* the pool's destruction frees its command buffer */
    if (rec->cmd_pool) rec->ctx->vk.vkDestroyCommandPool(rec->ctx->device, rec->cmd_pool, NULL);
    for (uint32_t i = 0; i < rec->nstubs; i++) free(rec->stubs[i]);
    free(rec->stubs);
    free(rec->pending);
    free(rec->log);
    memset(rec, 0, sizeof *rec);
}

vks_status_t vks_rec_rerecord_single(vks_rec_t *rec, const void *push)
{
    vks_status_t st = VKS_OK;
    const vks_pipeline_t *p = rec->last.pipe;
    if (rec->dispatches != 1 || !p || rec->ctx->guard_bindings || rec->split_pieces)
        return vks_fail(VKS_ERR_INVALID_ARGUMENT, "re-recording needs a recorder with exactly one dispatch, "
                        "not split, not in guard mode");
    rec->ended = false;
    VKS_VK(rec->ctx->vk.vkResetCommandBuffer(rec->cmd, 0));
    VkCommandBufferBeginInfo bi = {.sType = VK_STRUCTURE_TYPE_COMMAND_BUFFER_BEGIN_INFO};
    VKS_VK(rec->ctx->vk.vkBeginCommandBuffer(rec->cmd, &bi));
    rec->ctx->vk.vkCmdBindPipeline(rec->cmd, VK_PIPELINE_BIND_POINT_COMPUTE, p->pipeline);
    rec->ctx->vk.vkCmdBindDescriptorSets(rec->cmd, VK_PIPELINE_BIND_POINT_COMPUTE, p->layout, 0, 1, &rec->last.set, 0, NULL);
    if (p->push_size) rec->ctx->vk.vkCmdPushConstants(rec->cmd, p->layout, VK_SHADER_STAGE_COMPUTE_BIT, 0, p->push_size, push);
    rec->ctx->vk.vkCmdDispatch(rec->cmd, rec->last.groups[0], rec->last.groups[1], rec->last.groups[2]);
    return vks_rec_end(rec);
fail:
    return st;
}
