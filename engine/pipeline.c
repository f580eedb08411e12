/* Compute pipelines: one per (shader, specialization constants), created on first use and
 * owned by the context; backed by the context's VkPipelineCache. Lookup and creation hold
 * ctx->pipeline_lock (sessions on different threads may ask at once); a pipeline, once made,
 * never moves and is only read, so its pointer is used without the lock until the context goes. */
#include "engine.h"

#include <stdlib.h>
#include <string.h>

static void pipeline_free(vks_context_t *ctx, vks_pipeline_t *p)
{
    if (!p) return;
    if (p->pipeline) ctx->vk.vkDestroyPipeline(ctx->device, p->pipeline, NULL);
    if (p->layout) ctx->vk.vkDestroyPipelineLayout(ctx->device, p->layout, NULL);
    if (p->dsl) ctx->vk.vkDestroyDescriptorSetLayout(ctx->device, p->dsl, NULL);
    free(p);
}

static vks_status_t pipeline_create(vks_context_t *ctx, vks_pipeline_t *p)
{
    vks_status_t st = VKS_OK;
    VkShaderModule module = VK_NULL_HANDLE;
    const vks_shader_code_t *code = &vks_shader_table[p->shader];
    VkDescriptorSetLayoutBinding b[VKS_MAX_BINDINGS];
    for (uint32_t i = 0; i < p->nbindings; i++)
        b[i] = (VkDescriptorSetLayoutBinding){
            .binding = i,
            .descriptorType = (p->ubo_mask >> i) & 1 ? VK_DESCRIPTOR_TYPE_UNIFORM_BUFFER : VK_DESCRIPTOR_TYPE_STORAGE_BUFFER,
            .descriptorCount = i + 1 == p->nbindings ? p->last_count : 1,
            .stageFlags = VK_SHADER_STAGE_COMPUTE_BIT,
        };
    VkDescriptorSetLayoutCreateInfo dci = {
        .sType = VK_STRUCTURE_TYPE_DESCRIPTOR_SET_LAYOUT_CREATE_INFO,
        .bindingCount = p->nbindings,
        .pBindings = b,
    };
    VKS_VK_NEW(ctx->vk.vkCreateDescriptorSetLayout(ctx->device, &dci, NULL, &p->dsl), p->dsl);
    VkPushConstantRange pcr = {.stageFlags = VK_SHADER_STAGE_COMPUTE_BIT, .size = p->push_size};
    VkPipelineLayoutCreateInfo lci = {
        .sType = VK_STRUCTURE_TYPE_PIPELINE_LAYOUT_CREATE_INFO,
        .setLayoutCount = 1,
        .pSetLayouts = &p->dsl,
        .pushConstantRangeCount = p->push_size ? 1 : 0,
        .pPushConstantRanges = &pcr,
    };
    VKS_VK_NEW(ctx->vk.vkCreatePipelineLayout(ctx->device, &lci, NULL, &p->layout), p->layout);
    VkShaderModuleCreateInfo mci = {
        .sType = VK_STRUCTURE_TYPE_SHADER_MODULE_CREATE_INFO,
        .codeSize = code->size,
        .pCode = code->code,
    };
    VKS_VK_NEW(ctx->vk.vkCreateShaderModule(ctx->device, &mci, NULL, &module), module);
    VkSpecializationMapEntry map[VKS_MAX_SPEC];
    for (uint32_t i = 0; i < p->nspec; i++)
        map[i] = (VkSpecializationMapEntry){i, i * 4, 4};
    VkSpecializationInfo si = {p->nspec, map, p->nspec * 4, p->spec};
    VkComputePipelineCreateInfo ci = {
        .sType = VK_STRUCTURE_TYPE_COMPUTE_PIPELINE_CREATE_INFO,
        .stage = {
            .sType = VK_STRUCTURE_TYPE_PIPELINE_SHADER_STAGE_CREATE_INFO,
            .stage = VK_SHADER_STAGE_COMPUTE_BIT,
            .module = module,
            .pName = "main",
            .pSpecializationInfo = p->nspec ? &si : NULL,
        },
        .layout = p->layout,
    };
    VKS_VK(ctx->vk.vkCreateComputePipelines(ctx->device, ctx->pcache, 1, &ci, NULL, &p->pipeline));
    vks_count(&ctx->stats.pipelines_created);
fail:
    if (module) ctx->vk.vkDestroyShaderModule(ctx->device, module, NULL);
    if (st) vks_error_prefix("shader %s", code->name);
    return st;
}

/* With ctx->pipeline_lock held. */
static vks_status_t find_or_create(vks_context_t *ctx, const vks_pipeline_t *want, const vks_pipeline_t **out)
{
    for (size_t i = 0; i < ctx->npipelines; i++) {
        const vks_pipeline_t *p = ctx->pipelines[i];
        if (p->shader == want->shader && p->nspec == want->nspec && p->nbindings == want->nbindings &&
            p->last_count == want->last_count && p->ubo_mask == want->ubo_mask && p->push_size == want->push_size &&
            (want->nspec == 0 || !memcmp(p->spec, want->spec, want->nspec * 4))) {
            *out = p;
            return VKS_OK;
        }
    }
    if (ctx->npipelines == ctx->cap_pipelines) {
        size_t cap = ctx->cap_pipelines ? 2 * ctx->cap_pipelines : 32;
        void *grown = realloc(ctx->pipelines, cap * sizeof *ctx->pipelines);
        if (!grown) return vks_fail(VKS_ERR_OUT_OF_HOST_MEMORY, "out of host memory");
        ctx->pipelines = grown;
        ctx->cap_pipelines = cap;
    }
    vks_pipeline_t *p = malloc(sizeof *p);
    if (!p) return vks_fail(VKS_ERR_OUT_OF_HOST_MEMORY, "out of host memory");
    *p = *want;
    vks_status_t st = pipeline_create(ctx, p);
    if (st) {
        pipeline_free(ctx, p);
        return st;
    }
    ctx->pipelines[ctx->npipelines++] = p;
    *out = p;
    return VKS_OK;
}

vks_status_t vks_pipeline_get(vks_context_t *ctx, vks_shader_id_t shader, const uint32_t *spec,
                              uint32_t nspec, uint32_t nbindings, uint32_t ubo_mask, uint32_t push_size,
                              const vks_pipeline_t **out)
{
    return vks_pipeline_get_array(ctx, shader, spec, nspec, nbindings, ubo_mask, push_size, 1, out);
}

vks_status_t vks_pipeline_describe(const vks_context_t *ctx, vks_shader_id_t shader, const uint32_t *spec,
                                   uint32_t nspec, uint32_t nbindings, uint32_t ubo_mask, uint32_t push_size,
                                   uint32_t last_count, vks_pipeline_t *p)
{
    if (nspec > VKS_MAX_SPEC || nbindings == 0 || last_count == 0 || nbindings - 1 + last_count > VKS_MAX_BINDINGS ||
        push_size > 128 ||
        push_size > ctx->props.limits.maxPushConstantsSize || (unsigned)shader >= VKS_SHADER_COUNT)
        return vks_fail(VKS_ERR_INVALID_ARGUMENT, "pipeline request out of range (shader %d)", (int)shader);
    memset(p, 0, sizeof *p);
    p->shader = shader;
    p->nspec = nspec;
    if (nspec) memcpy(p->spec, spec, nspec * 4);
    p->nbindings = nbindings;
    p->last_count = last_count;
    p->ubo_mask = ubo_mask;
    p->push_size = push_size;
    return VKS_OK;
}

vks_status_t vks_pipeline_get_array(vks_context_t *ctx, vks_shader_id_t shader, const uint32_t *spec,
                                    uint32_t nspec, uint32_t nbindings, uint32_t ubo_mask, uint32_t push_size,
                                    uint32_t last_count, const vks_pipeline_t **out)
{
    vks_pipeline_t want;
    vks_status_t st = vks_pipeline_describe(ctx, shader, spec, nspec, nbindings, ubo_mask, push_size, last_count, &want);
    if (st) return st;
    if (mtx_lock(&ctx->pipeline_lock) != thrd_success)
        return vks_fail(VKS_ERR_VULKAN, "vks_pipeline_get: cannot lock the context's pipelines");
    st = find_or_create(ctx, &want, out);
    mtx_unlock(&ctx->pipeline_lock);
    return st;
}

void vks_pipelines_destroy(vks_context_t *ctx)
{
    for (size_t i = 0; i < ctx->npipelines; i++) pipeline_free(ctx, ctx->pipelines[i]);
    free(ctx->pipelines);
    ctx->pipelines = NULL;
    ctx->npipelines = ctx->cap_pipelines = 0;
}
