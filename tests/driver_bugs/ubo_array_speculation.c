/* Minimal reproduction of a driver crash, for a driver bug report; no vkstyle code.
 *
 * ubo_array_speculation.comp loops ci = 0 .. N-1 over an array of N = 11 uniform blocks,
 * xu[ci], the loop bound (a push constant) being N: every descriptor of the array is written and
 * the program never reads xu[N]. The set's layout is vkstyle's convolution's: storage buffers
 * at bindings 0-3 (only 3 is used here), the uniform-buffer array last, at binding 4. On Mesa
 * 25.0.7 lavapipe (llvmpipe; Debian bookworm-backports 25.0.7-2~bpo12+1, LLVM 15.0.6) the
 * dispatch crashes inside the compiled shader. In gdb (on the unreduced shader), the faulting
 * code reads the 256-byte descriptor at index N, one past the array, with every lane's loop
 * counter at N: the uniform load of the loop's exiting iteration is executed (speculated), and
 * that descriptor holds unrelated bytes, which are dereferenced as the buffer's address.
 * Mesa 22.3.6 lavapipe runs it and sums correctly. With xu[min(ci, N - 1)] (-DCLAMP=1), which
 * changes nothing for the program, both versions run it.
 *
 * Build: glslangValidator -V -DNUM_UBOS=11 -DCLAMP=0 --vn repro_spv -o repro_spv.h ubo_array_speculation.comp
 *        cc -O2 -DNUM_UBOS=11 ubo_array_speculation.c -I. -lvulkan
 * Run:   ./a.out        exit 0: correct result, 1: wrong result, 2: the dispatch crashed,
 *                       77: no usable Vulkan device. The dispatch runs in a child process, so a
 *                       crash is reported, not suffered. The device and driver are printed first.
 * vkstyle builds and runs it as the ctest test driver_bug_ubo_array_speculation. */
#include <stdint.h>

#include "repro_spv.h"

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>
#include <vulkan/vulkan.h>

#define N NUM_UBOS
#define W 96                      /* input planes are W x W floats */

#define CHECK(call)                                                                   \
    do {                                                                              \
        VkResult r_ = (call);                                                         \
        if (r_ != VK_SUCCESS) {                                                       \
            fprintf(stderr, "%s:%d: %s = %d\n", __FILE__, __LINE__, #call, (int)r_);  \
            exit(77);                                                                 \
        }                                                                             \
    } while (0)

static uint32_t host_type(VkPhysicalDevice pd, uint32_t bits)
{
    VkPhysicalDeviceMemoryProperties mp;
    vkGetPhysicalDeviceMemoryProperties(pd, &mp);
    VkMemoryPropertyFlags want = VK_MEMORY_PROPERTY_HOST_VISIBLE_BIT | VK_MEMORY_PROPERTY_HOST_COHERENT_BIT;
    for (uint32_t i = 0; i < mp.memoryTypeCount; i++)
        if ((bits & (1u << i)) && (mp.memoryTypes[i].propertyFlags & want) == want) return i;
    fprintf(stderr, "no host-visible memory\n");
    exit(77);
}

/* Runs the dispatch; returns 0 when every output is right, 1 otherwise. */
static int run(void)
{
    VkApplicationInfo app = {.sType = VK_STRUCTURE_TYPE_APPLICATION_INFO, .apiVersion = VK_API_VERSION_1_1};
    VkInstanceCreateInfo ici = {.sType = VK_STRUCTURE_TYPE_INSTANCE_CREATE_INFO, .pApplicationInfo = &app};
    VkInstance inst;
    CHECK(vkCreateInstance(&ici, NULL, &inst));
    uint32_t npd = 1;
    VkPhysicalDevice pd;
    VkResult r = vkEnumeratePhysicalDevices(inst, &npd, &pd);
    if ((r != VK_SUCCESS && r != VK_INCOMPLETE) || npd == 0) { fprintf(stderr, "no Vulkan device\n"); exit(77); }
    VkPhysicalDeviceDriverProperties drv = {.sType = VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_DRIVER_PROPERTIES};
    VkPhysicalDeviceProperties2 p2 = {.sType = VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_PROPERTIES_2, .pNext = &drv};
    vkGetPhysicalDeviceProperties2(pd, &p2);
    printf("device: %s; driver: %s %s\n", p2.properties.deviceName, drv.driverName, drv.driverInfo);
    fflush(stdout);
    VkPhysicalDeviceFeatures have;
    vkGetPhysicalDeviceFeatures(pd, &have);
    if (!have.shaderUniformBufferArrayDynamicIndexing || p2.properties.limits.maxPerStageDescriptorUniformBuffers < N) {
        fprintf(stderr, "the device cannot index %d uniform buffers dynamically\n", N);
        exit(77);
    }
    uint32_t nq = 8, family = UINT32_MAX;
    VkQueueFamilyProperties qf[8];
    vkGetPhysicalDeviceQueueFamilyProperties(pd, &nq, qf);
    for (uint32_t i = 0; i < nq && family == UINT32_MAX; i++)
        if (qf[i].queueFlags & VK_QUEUE_COMPUTE_BIT) family = i;
    float prio = 1;
    VkDeviceQueueCreateInfo qci = {.sType = VK_STRUCTURE_TYPE_DEVICE_QUEUE_CREATE_INFO, .queueFamilyIndex = family,
                                   .queueCount = 1, .pQueuePriorities = &prio};
    VkPhysicalDeviceFeatures feat = {.shaderUniformBufferArrayDynamicIndexing = VK_TRUE};
    VkDeviceCreateInfo dci = {.sType = VK_STRUCTURE_TYPE_DEVICE_CREATE_INFO, .queueCreateInfoCount = 1,
                              .pQueueCreateInfos = &qci, .pEnabledFeatures = &feat};
    VkDevice dev;
    CHECK(vkCreateDevice(pd, &dci, NULL, &dev));
    VkQueue q;
    vkGetDeviceQueue(dev, family, 0, &q);

    /* one buffer: input planes, weights, bias, output */
    const VkDeviceSize plane = 96 * 96 * 4, in_off = 0, wt_off = 16 * plane, b_off = wt_off + 65536,
                       out_off = b_off + 4096, size = out_off + 64 * 48 * 48 * 4;
    VkBufferCreateInfo bci = {.sType = VK_STRUCTURE_TYPE_BUFFER_CREATE_INFO, .size = size,
                              .usage = VK_BUFFER_USAGE_UNIFORM_BUFFER_BIT | VK_BUFFER_USAGE_STORAGE_BUFFER_BIT};
    VkBuffer buf;
    CHECK(vkCreateBuffer(dev, &bci, NULL, &buf));
    VkMemoryRequirements req;
    vkGetBufferMemoryRequirements(dev, buf, &req);
    VkMemoryAllocateInfo mai = {.sType = VK_STRUCTURE_TYPE_MEMORY_ALLOCATE_INFO, .allocationSize = req.size,
                                .memoryTypeIndex = host_type(pd, req.memoryTypeBits)};
    VkDeviceMemory mem;
    CHECK(vkAllocateMemory(dev, &mai, NULL, &mem));
    CHECK(vkBindBufferMemory(dev, buf, mem, 0));
    float *data;
    CHECK(vkMapMemory(dev, mem, 0, VK_WHOLE_SIZE, 0, (void **)&data));
    memset(data, 0, size);
    for (int c = 0; c < N; c++)            /* plane c holds c + 1 everywhere */
        for (int k = 0; k < W * W; k++) data[(in_off + c * plane) / 4 + k] = (float)(c + 1);
    VkDescriptorSetLayoutBinding lb[5];
    for (int i = 0; i < 5; i++)
        lb[i] = (VkDescriptorSetLayoutBinding){i, (i == 1 || i == 4) ? VK_DESCRIPTOR_TYPE_UNIFORM_BUFFER : VK_DESCRIPTOR_TYPE_STORAGE_BUFFER,
                                               i == 4 ? N : 1, VK_SHADER_STAGE_COMPUTE_BIT, NULL};
    VkDescriptorSetLayoutCreateInfo dlci = {.sType = VK_STRUCTURE_TYPE_DESCRIPTOR_SET_LAYOUT_CREATE_INFO,
                                            .bindingCount = 5, .pBindings = lb};
    VkDescriptorSetLayout dsl;
    CHECK(vkCreateDescriptorSetLayout(dev, &dlci, NULL, &dsl));
    VkPushConstantRange pcr = {VK_SHADER_STAGE_COMPUTE_BIT, 0, 64};
    VkPipelineLayoutCreateInfo plci = {.sType = VK_STRUCTURE_TYPE_PIPELINE_LAYOUT_CREATE_INFO, .setLayoutCount = 1,
                                       .pSetLayouts = &dsl, .pushConstantRangeCount = 1, .pPushConstantRanges = &pcr};
    VkPipelineLayout pl;
    CHECK(vkCreatePipelineLayout(dev, &plci, NULL, &pl));
    VkShaderModuleCreateInfo smci = {.sType = VK_STRUCTURE_TYPE_SHADER_MODULE_CREATE_INFO,
                                     .codeSize = sizeof repro_spv, .pCode = repro_spv};
    VkShaderModule sm;
    CHECK(vkCreateShaderModule(dev, &smci, NULL, &sm));
    VkComputePipelineCreateInfo cpci = {
        .sType = VK_STRUCTURE_TYPE_COMPUTE_PIPELINE_CREATE_INFO,
        .stage = {.sType = VK_STRUCTURE_TYPE_PIPELINE_SHADER_STAGE_CREATE_INFO, .stage = VK_SHADER_STAGE_COMPUTE_BIT,
                  .module = sm, .pName = "main"},
        .layout = pl,
    };
    VkPipeline pipe;
    CHECK(vkCreateComputePipelines(dev, VK_NULL_HANDLE, 1, &cpci, NULL, &pipe));

    VkDescriptorPoolSize ps[2] = {{VK_DESCRIPTOR_TYPE_UNIFORM_BUFFER, N + 1}, {VK_DESCRIPTOR_TYPE_STORAGE_BUFFER, 3}};
    VkDescriptorPoolCreateInfo dpci = {.sType = VK_STRUCTURE_TYPE_DESCRIPTOR_POOL_CREATE_INFO, .maxSets = 1,
                                       .poolSizeCount = 2, .pPoolSizes = ps};
    VkDescriptorPool dp;
    CHECK(vkCreateDescriptorPool(dev, &dpci, NULL, &dp));
    VkDescriptorSetAllocateInfo dsai = {.sType = VK_STRUCTURE_TYPE_DESCRIPTOR_SET_ALLOCATE_INFO, .descriptorPool = dp,
                                        .descriptorSetCount = 1, .pSetLayouts = &dsl};
    VkDescriptorSet ds;
    CHECK(vkAllocateDescriptorSets(dev, &dsai, &ds));
    VkDescriptorBufferInfo bi[4] = {{buf, in_off, 11 * plane}, {buf, wt_off, 65536}, {buf, b_off, 4096}, {buf, out_off, 64 * 48 * 48 * 4}};
    VkDescriptorBufferInfo ubi[N];
    for (int i = 0; i < N; i++) ubi[i] = (VkDescriptorBufferInfo){buf, in_off + (VkDeviceSize)i * plane, plane};
    VkWriteDescriptorSet wr[5];
    for (int i = 0; i < 5; i++)
        wr[i] = (VkWriteDescriptorSet){.sType = VK_STRUCTURE_TYPE_WRITE_DESCRIPTOR_SET, .dstSet = ds, .dstBinding = i,
                                       .descriptorCount = i == 4 ? N : 1, .descriptorType = lb[i].descriptorType,
                                       .pBufferInfo = i == 4 ? ubi : &bi[i]};
    vkUpdateDescriptorSets(dev, 5, wr, 0, NULL);

    VkCommandPoolCreateInfo cpi = {.sType = VK_STRUCTURE_TYPE_COMMAND_POOL_CREATE_INFO, .queueFamilyIndex = family};
    VkCommandPool pool;
    CHECK(vkCreateCommandPool(dev, &cpi, NULL, &pool));
    VkCommandBufferAllocateInfo cbai = {.sType = VK_STRUCTURE_TYPE_COMMAND_BUFFER_ALLOCATE_INFO, .commandPool = pool,
                                        .level = VK_COMMAND_BUFFER_LEVEL_PRIMARY, .commandBufferCount = 1};
    VkCommandBuffer cb;
    CHECK(vkAllocateCommandBuffers(dev, &cbai, &cb));
    VkCommandBufferBeginInfo cbbi = {.sType = VK_STRUCTURE_TYPE_COMMAND_BUFFER_BEGIN_INFO};
    CHECK(vkBeginCommandBuffer(cb, &cbbi));
    vkCmdBindPipeline(cb, VK_PIPELINE_BIND_POINT_COMPUTE, pipe);
    vkCmdBindDescriptorSets(cb, VK_PIPELINE_BIND_POINT_COMPUTE, pl, 0, 1, &ds, 0, NULL);
    /* h, w, in_stride, oh, ow, out_stride, cin_total, ci0, nci (= N), then unused */
    uint32_t push[16] = {W, W, W * W, 48, 48, 2304, 32, 0, N, 0, 56, 0, 0, 1, 0, 0};
    vkCmdPushConstants(cb, pl, VK_SHADER_STAGE_COMPUTE_BIT, 0, sizeof push, push);
    vkCmdDispatch(cb, 1, 12, 7);
    VkMemoryBarrier mb = {.sType = VK_STRUCTURE_TYPE_MEMORY_BARRIER, .srcAccessMask = VK_ACCESS_SHADER_WRITE_BIT,
                          .dstAccessMask = VK_ACCESS_HOST_READ_BIT};
    vkCmdPipelineBarrier(cb, VK_PIPELINE_STAGE_COMPUTE_SHADER_BIT, VK_PIPELINE_STAGE_HOST_BIT, 0, 1, &mb, 0, NULL, 0, NULL);
    CHECK(vkEndCommandBuffer(cb));
    VkSubmitInfo si = {.sType = VK_STRUCTURE_TYPE_SUBMIT_INFO, .commandBufferCount = 1, .pCommandBuffers = &cb};
    CHECK(vkQueueSubmit(q, 1, &si, VK_NULL_HANDLE));
    CHECK(vkQueueWaitIdle(q));

    /* 12 x 7 workgroups of 16 x 4 write y[oy * 48 + x] for x < 16, oy < 48: each N (N + 1) / 2 */
    const float *y = data + out_off / sizeof(float), want = (float)N * (N + 1) / 2;
    int bad = 0;
    for (int oy = 0; oy < 48; oy++)
        for (int x = 0; x < 16; x++) bad += y[oy * 48 + x] != want;
    printf("%s: %d of %d outputs differ from %g\n", bad ? "WRONG" : "ok", bad, 48 * 16, (double)want);
    vkDestroyCommandPool(dev, pool, NULL);
    vkDestroyDescriptorPool(dev, dp, NULL);
    vkDestroyPipeline(dev, pipe, NULL);
    vkDestroyShaderModule(dev, sm, NULL);
    vkDestroyPipelineLayout(dev, pl, NULL);
    vkDestroyDescriptorSetLayout(dev, dsl, NULL);
    vkUnmapMemory(dev, mem);
    vkDestroyBuffer(dev, buf, NULL);
    vkFreeMemory(dev, mem, NULL);
    vkDestroyDevice(dev, NULL);
    vkDestroyInstance(inst, NULL);
    fflush(stdout);
    return bad ? 1 : 0;
}

int main(void)
{
    fflush(stdout);
    pid_t pid = fork();
    if (pid < 0) { perror("fork"); return 77; }
    if (pid == 0) _exit(run());
    int status;
    if (waitpid(pid, &status, 0) < 0) { perror("waitpid"); return 77; }
    if (WIFSIGNALED(status)) {
        printf("CRASH: the dispatch died of signal %d (%s)\n", WTERMSIG(status), strsignal(WTERMSIG(status)));
        return 2;
    }
    return WEXITSTATUS(status);
}
