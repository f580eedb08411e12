/* Blending the stylized frame with the source frame for vkstyle live's strength below 1
 * (the shader: blend.comp; see window_vk.h). */
#include "window_vk.h"

#include "blend.spv.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

static int create_pipeline(win_blend_t *b, const win_vk_t *v, char *err, size_t errsz)
{
    VkDescriptorSetLayoutBinding lb[3];
    for (uint32_t i = 0; i < 3; i++)
        lb[i] = (VkDescriptorSetLayoutBinding){.binding = i, .descriptorType = VK_DESCRIPTOR_TYPE_STORAGE_BUFFER,
                                               .descriptorCount = 1, .stageFlags = VK_SHADER_STAGE_COMPUTE_BIT};
    VkDescriptorSetLayoutCreateInfo dli = {.sType = VK_STRUCTURE_TYPE_DESCRIPTOR_SET_LAYOUT_CREATE_INFO, .bindingCount = 3,
                                           .pBindings = lb};
    VKCHECK(v->vkCreateDescriptorSetLayout(v->vk.device, &dli, NULL, &b->dsl));
    VkPushConstantRange pr = {.stageFlags = VK_SHADER_STAGE_COMPUTE_BIT, .size = 20};
    VkPipelineLayoutCreateInfo pli = {.sType = VK_STRUCTURE_TYPE_PIPELINE_LAYOUT_CREATE_INFO, .setLayoutCount = 1,
                                      .pSetLayouts = &b->dsl, .pushConstantRangeCount = 1, .pPushConstantRanges = &pr};
    VKCHECK(v->vkCreatePipelineLayout(v->vk.device, &pli, NULL, &b->playout));
    VkShaderModuleCreateInfo smi = {.sType = VK_STRUCTURE_TYPE_SHADER_MODULE_CREATE_INFO, .codeSize = sizeof blend_spv,
                                    .pCode = blend_spv};
    VkShaderModule sm;
    VKCHECK(v->vkCreateShaderModule(v->vk.device, &smi, NULL, &sm));
    VkComputePipelineCreateInfo cpi = {
        .sType = VK_STRUCTURE_TYPE_COMPUTE_PIPELINE_CREATE_INFO,
        .stage = {.sType = VK_STRUCTURE_TYPE_PIPELINE_SHADER_STAGE_CREATE_INFO, .stage = VK_SHADER_STAGE_COMPUTE_BIT,
                  .module = sm, .pName = "main"},
        .layout = b->playout,
    };
    VkResult r = v->vkCreateComputePipelines(v->vk.device, VK_NULL_HANDLE, 1, &cpi, NULL, &b->pipeline);
    v->vkDestroyShaderModule(v->vk.device, sm, NULL);
    if (r < 0) return ERR("creating the blend pipeline failed (VkResult %d)", (int)r);
    VkDescriptorPoolSize ps = {VK_DESCRIPTOR_TYPE_STORAGE_BUFFER, 3};
    VkDescriptorPoolCreateInfo dpi = {.sType = VK_STRUCTURE_TYPE_DESCRIPTOR_POOL_CREATE_INFO, .maxSets = 1,
                                      .poolSizeCount = 1, .pPoolSizes = &ps};
    VKCHECK(v->vkCreateDescriptorPool(v->vk.device, &dpi, NULL, &b->dpool));
    VkDescriptorSetAllocateInfo dai = {.sType = VK_STRUCTURE_TYPE_DESCRIPTOR_SET_ALLOCATE_INFO, .descriptorPool = b->dpool,
                                       .descriptorSetCount = 1, .pSetLayouts = &b->dsl};
    VKCHECK(v->vkAllocateDescriptorSets(v->vk.device, &dai, &b->dset));
    return 0;
}

int win_blend_prepare(win_blend_t *b, const win_vk_t *v, const win_frame_t *f, char *err, size_t errsz)
{
    VkDeviceSize frame_bytes = (VkDeviceSize)f->width * f->height * 4;
    size_t in_bytes = f->source_format == VKS_PIXELS_YUYV ? (size_t)f->width * f->height * 2 : (size_t)frame_bytes;
    if ((!b->pipeline && create_pipeline(b, v, err, errsz)) ||
        win_buf_ensure(v, &b->src, in_bytes, VK_BUFFER_USAGE_STORAGE_BUFFER_BIT, WIN_BUF_UPLOAD, err, errsz) ||
        win_buf_ensure(v, &b->mixed, frame_bytes, VK_BUFFER_USAGE_STORAGE_BUFFER_BIT | VK_BUFFER_USAGE_TRANSFER_SRC_BIT,
                       WIN_BUF_DEVICE, err, errsz))
        return -1;
    memcpy(b->src.map, f->source, in_bytes);
    VkDescriptorBufferInfo bi[3] = {{f->buffer, f->offset, frame_bytes}, {b->src.buf, 0, in_bytes}, {b->mixed.buf, 0, frame_bytes}};
    VkWriteDescriptorSet wr[3];
    for (uint32_t i = 0; i < 3; i++)
        wr[i] = (VkWriteDescriptorSet){.sType = VK_STRUCTURE_TYPE_WRITE_DESCRIPTOR_SET, .dstSet = b->dset, .dstBinding = i,
                                       .descriptorCount = 1, .descriptorType = VK_DESCRIPTOR_TYPE_STORAGE_BUFFER,
                                       .pBufferInfo = &bi[i]};
    v->vkUpdateDescriptorSets(v->vk.device, 3, wr, 0, NULL);
    return 0;
}

void win_blend_record(const win_blend_t *b, const win_vk_t *v, VkCommandBuffer cmd, const win_frame_t *f,
                      vks_pixel_format_t out_format)
{
    struct { uint32_t w, h, src_format, out_bgra; float strength; } pc = {
        f->width, f->height, f->source_format == VKS_PIXELS_YUYV ? 2u : f->source_format == VKS_PIXELS_BGRA8 ? 1u : 0u,
        out_format == VKS_PIXELS_BGRA8 ? 1u : 0u, f->strength < 0 ? 0 : f->strength};
    v->vkCmdBindPipeline(cmd, VK_PIPELINE_BIND_POINT_COMPUTE, b->pipeline);
    v->vkCmdBindDescriptorSets(cmd, VK_PIPELINE_BIND_POINT_COMPUTE, b->playout, 0, 1, &b->dset, 0, NULL);
    v->vkCmdPushConstants(cmd, b->playout, VK_SHADER_STAGE_COMPUTE_BIT, 0, sizeof pc, &pc);
    v->vkCmdDispatch(cmd, (f->width * f->height + 63) / 64, 1, 1);
    win_memory_barrier(v, cmd, VK_PIPELINE_STAGE_COMPUTE_SHADER_BIT, VK_ACCESS_SHADER_WRITE_BIT, VK_PIPELINE_STAGE_TRANSFER_BIT,
                       VK_ACCESS_TRANSFER_READ_BIT);
}

void win_blend_destroy(win_blend_t *b, const win_vk_t *v)
{
    win_buf_free(v, &b->src);
    win_buf_free(v, &b->mixed);
    if (b->pipeline) v->vkDestroyPipeline(v->vk.device, b->pipeline, NULL);
    if (b->playout) v->vkDestroyPipelineLayout(v->vk.device, b->playout, NULL);
    if (b->dsl) v->vkDestroyDescriptorSetLayout(v->vk.device, b->dsl, NULL);
    if (b->dpool) v->vkDestroyDescriptorPool(v->vk.device, b->dpool, NULL);
    memset(b, 0, sizeof *b);
}
