/* GLFW window + Vulkan swapchain on the engine's device (see window.h). */
#include "errbuf.h"
#include "window.h"

#include "vkstyle/vkstyle_vulkan.h"

#include "blend.spv.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define VKCHECK(call)                                                              \
    do {                                                                           \
        VkResult r_ = (call);                                                      \
        if (r_ < 0) return ERR("%s failed (VkResult %d)", #call, (int)r_);          \
    } while (0)

#define MAX_IMAGES 8

/* The Vulkan commands the window uses, loaded for the context's own instance and device with
 * the loaders the interop header hands out (the library exports no vk* symbols). */
#define WIN_INSTANCE_FNS(X) \
    X(vkDestroySurfaceKHR) X(vkGetPhysicalDeviceMemoryProperties) \
    X(vkGetPhysicalDeviceSurfaceCapabilitiesKHR) X(vkGetPhysicalDeviceSurfaceFormatsKHR) \
    X(vkGetPhysicalDeviceSurfacePresentModesKHR) X(vkGetPhysicalDeviceSurfaceSupportKHR)
#define WIN_DEVICE_FNS(X) \
    X(vkAcquireNextImageKHR) X(vkAllocateCommandBuffers) X(vkAllocateDescriptorSets) X(vkAllocateMemory) \
    X(vkBeginCommandBuffer) X(vkBindBufferMemory) X(vkBindImageMemory) X(vkCmdBindDescriptorSets) \
    X(vkCmdBindPipeline) X(vkCmdBlitImage) X(vkCmdClearColorImage) X(vkCmdCopyBuffer) \
    X(vkCmdCopyBufferToImage) X(vkCmdDispatch) X(vkCmdPipelineBarrier) X(vkCmdPushConstants) \
    X(vkCreateBuffer) X(vkCreateCommandPool) X(vkCreateComputePipelines) X(vkCreateDescriptorPool) \
    X(vkCreateDescriptorSetLayout) X(vkCreateFence) X(vkCreateImage) X(vkCreatePipelineLayout) \
    X(vkCreateSemaphore) X(vkCreateShaderModule) X(vkCreateSwapchainKHR) X(vkDestroyBuffer) \
    X(vkDestroyCommandPool) X(vkDestroyDescriptorPool) X(vkDestroyDescriptorSetLayout) X(vkDestroyFence) \
    X(vkDestroyImage) X(vkDestroyPipeline) X(vkDestroyPipelineLayout) X(vkDestroySemaphore) \
    X(vkDestroyShaderModule) X(vkDestroySwapchainKHR) X(vkDeviceWaitIdle) X(vkEndCommandBuffer) \
    X(vkFreeMemory) X(vkGetBufferMemoryRequirements) X(vkGetImageMemoryRequirements) X(vkGetSwapchainImagesKHR) \
    X(vkMapMemory) X(vkQueuePresentKHR) X(vkQueueSubmit) X(vkResetCommandBuffer) \
    X(vkResetFences) X(vkUpdateDescriptorSets) X(vkWaitForFences)

typedef struct win_fns {
#define WIN_X_FN(name) PFN_##name name;
    WIN_INSTANCE_FNS(WIN_X_FN)
    WIN_DEVICE_FNS(WIN_X_FN)
#undef WIN_X_FN
} win_fns_t;

typedef struct {
    VkBuffer buf;
    VkDeviceMemory mem;
    VkDeviceSize size;
    void *map;
} gbuf_t;

struct win {
    GLFWwindow *glfw;
    vks_vulkan_handles_t vk;
    win_fns_t fn;
    VkSurfaceKHR surface;
    VkSwapchainKHR swapchain;
    VkFormat format;
    VkExtent2D extent;
    uint32_t nimages;
    VkImage images[MAX_IMAGES];
    VkSemaphore done[MAX_IMAGES];
    VkSemaphore acquired;
    VkCommandPool pool;
    VkCommandBuffer cmd;
    VkFence fence;
    bool in_flight, recreate, fullscreen;
    int saved_x, saved_y, saved_w, saved_h;
    /* the frame-sized image for scaled presentation */
    VkImage scaled;
    VkDeviceMemory scaled_mem;
    VkExtent2D scaled_extent;
    /* strength blend */
    VkDescriptorSetLayout dsl;
    VkPipelineLayout playout;
    VkPipeline blend;
    VkDescriptorPool dpool;
    VkDescriptorSet dset;
    gbuf_t src, mixed, readback;
    VkPhysicalDeviceMemoryProperties memprops;
    void *user;
};

static bool g_glfw;

static void on_glfw_error(int code, const char *msg) { (void)code; (void)msg; }

int win_init(const char *const **exts, uint32_t *count, char *err, size_t errsz)
{
    const char *display = getenv("DISPLAY"), *wayland = getenv("WAYLAND_DISPLAY");
    glfwSetErrorCallback(on_glfw_error);
    if (!glfwInit()) {
        if ((!display || !*display) && (!wayland || !*wayland))
            return ERR("no display ($DISPLAY and $WAYLAND_DISPLAY are not set): run it on a desktop, under "
                       "xvfb-run, or write a stylized file with 'vkstyle video' instead");
        return ERR("cannot open a window on display '%s' (GLFW could not start); 'vkstyle video' works without one",
                   display && *display ? display : wayland);
    }
    g_glfw = true;
    if (!glfwVulkanSupported()) {
        win_terminate();
        return ERR("GLFW finds no Vulkan loader for windows (install libvulkan1 and a driver that can present)");
    }
    *exts = glfwGetRequiredInstanceExtensions(count);
    if (!*exts) {
        win_terminate();
        return ERR("this display offers no Vulkan surface extensions; 'vkstyle video' works without a window");
    }
    return 0;
}

void win_terminate(void)
{
    if (g_glfw) glfwTerminate();
    g_glfw = false;
}

static void on_resize(GLFWwindow *g, int w, int h)
{
    (void)w;
    (void)h;
    win_t *win = glfwGetWindowUserPointer(g);
    if (win) win->recreate = true;
}

static int find_memory(const win_t *w, uint32_t bits, VkMemoryPropertyFlags want, VkMemoryPropertyFlags nice)
{
    for (int pass = 0; pass < 2; pass++)
        for (uint32_t i = 0; i < w->memprops.memoryTypeCount; i++) {
            VkMemoryPropertyFlags f = w->memprops.memoryTypes[i].propertyFlags;
            if ((bits & (1u << i)) && (f & want) == want && (pass || (f & nice) == nice)) return (int)i;
        }
    return -1;
}

static void gbuf_free(win_t *w, gbuf_t *b)
{
    if (b->buf) w->fn.vkDestroyBuffer(w->vk.device, b->buf, NULL);
    if (b->mem) w->fn.vkFreeMemory(w->vk.device, b->mem, NULL);
    memset(b, 0, sizeof *b);
}

/* host: mapped, host-visible memory (coherent; cached preferred for read-back) */
static int gbuf_ensure(win_t *w, gbuf_t *b, VkDeviceSize size, VkBufferUsageFlags usage, bool host, char *err, size_t errsz)
{
    if (b->buf && b->size >= size) return 0;
    gbuf_free(w, b);
    VkBufferCreateInfo bi = {.sType = VK_STRUCTURE_TYPE_BUFFER_CREATE_INFO, .size = size, .usage = usage,
                             .sharingMode = VK_SHARING_MODE_EXCLUSIVE};
    VKCHECK(w->fn.vkCreateBuffer(w->vk.device, &bi, NULL, &b->buf));
    VkMemoryRequirements req;
    w->fn.vkGetBufferMemoryRequirements(w->vk.device, b->buf, &req);
    int type = host ? find_memory(w, req.memoryTypeBits, VK_MEMORY_PROPERTY_HOST_VISIBLE_BIT | VK_MEMORY_PROPERTY_HOST_COHERENT_BIT,
                                  VK_MEMORY_PROPERTY_HOST_CACHED_BIT)
                    : find_memory(w, req.memoryTypeBits, 0, VK_MEMORY_PROPERTY_DEVICE_LOCAL_BIT);
    if (type < 0) return ERR("no suitable memory type for a %s buffer", host ? "host" : "device");
    VkMemoryAllocateInfo ai = {.sType = VK_STRUCTURE_TYPE_MEMORY_ALLOCATE_INFO, .allocationSize = req.size,
                               .memoryTypeIndex = (uint32_t)type};
    VKCHECK(w->fn.vkAllocateMemory(w->vk.device, &ai, NULL, &b->mem));
    VKCHECK(w->fn.vkBindBufferMemory(w->vk.device, b->buf, b->mem, 0));
    if (host) VKCHECK(w->fn.vkMapMemory(w->vk.device, b->mem, 0, VK_WHOLE_SIZE, 0, &b->map));
    b->size = size;
    return 0;
}

static void destroy_swapchain(win_t *w, bool keep_handle)
{
    for (uint32_t i = 0; i < w->nimages; i++) {
        if (w->done[i]) w->fn.vkDestroySemaphore(w->vk.device, w->done[i], NULL);
        w->done[i] = VK_NULL_HANDLE;
    }
    w->nimages = 0;
    if (!keep_handle && w->swapchain) {
        w->fn.vkDestroySwapchainKHR(w->vk.device, w->swapchain, NULL);
        w->swapchain = VK_NULL_HANDLE;
    }
}

static int create_swapchain(win_t *w, char *err, size_t errsz)
{
    VkSurfaceCapabilitiesKHR caps;
    VKCHECK(w->fn.vkGetPhysicalDeviceSurfaceCapabilitiesKHR(w->vk.physical_device, w->surface, &caps));
    if (!(caps.supportedUsageFlags & VK_IMAGE_USAGE_TRANSFER_DST_BIT))
        return ERR("the window's images cannot be written by copies on this device (no TRANSFER_DST usage)");
    int fw, fh;
    glfwGetFramebufferSize(w->glfw, &fw, &fh);
    VkExtent2D ext = caps.currentExtent;
    if (ext.width == UINT32_MAX) {
        ext.width = (uint32_t)(fw > 0 ? fw : 1);
        ext.height = (uint32_t)(fh > 0 ? fh : 1);
        if (ext.width < caps.minImageExtent.width) ext.width = caps.minImageExtent.width;
        if (ext.height < caps.minImageExtent.height) ext.height = caps.minImageExtent.height;
        if (ext.width > caps.maxImageExtent.width) ext.width = caps.maxImageExtent.width;
        if (ext.height > caps.maxImageExtent.height) ext.height = caps.maxImageExtent.height;
    }
    if (ext.width == 0 || ext.height == 0) return 1; /* minimized */
    if (!w->format) {
        uint32_t n = 0;
        VKCHECK(w->fn.vkGetPhysicalDeviceSurfaceFormatsKHR(w->vk.physical_device, w->surface, &n, NULL));
        VkSurfaceFormatKHR fmts[64];
        if (n > 64) n = 64;
        VKCHECK(w->fn.vkGetPhysicalDeviceSurfaceFormatsKHR(w->vk.physical_device, w->surface, &n, fmts));
        static const VkFormat prefer[] = {VK_FORMAT_B8G8R8A8_UNORM, VK_FORMAT_R8G8B8A8_UNORM, VK_FORMAT_B8G8R8A8_SRGB,
                                          VK_FORMAT_R8G8B8A8_SRGB};
        for (size_t p = 0; p < 4 && !w->format; p++)
            for (uint32_t i = 0; i < n; i++)
                if (fmts[i].format == prefer[p] && fmts[i].colorSpace == VK_COLOR_SPACE_SRGB_NONLINEAR_KHR) w->format = prefer[p];
        if (!w->format) return ERR("the window offers no 8-bit RGBA or BGRA format");
    }
    uint32_t nm = 0;
    VkPresentModeKHR modes[16], mode = VK_PRESENT_MODE_FIFO_KHR;
    w->fn.vkGetPhysicalDeviceSurfacePresentModesKHR(w->vk.physical_device, w->surface, &nm, NULL);
    if (nm > 16) nm = 16;
    w->fn.vkGetPhysicalDeviceSurfacePresentModesKHR(w->vk.physical_device, w->surface, &nm, modes);
    for (uint32_t i = 0; i < nm; i++)
        if (modes[i] == VK_PRESENT_MODE_MAILBOX_KHR) mode = modes[i]; /* newest frame wins, no tearing */
    uint32_t count = caps.minImageCount + 1;
    if (caps.maxImageCount && count > caps.maxImageCount) count = caps.maxImageCount;
    if (count > MAX_IMAGES) count = MAX_IMAGES;
    VkCompositeAlphaFlagBitsKHR alpha = VK_COMPOSITE_ALPHA_OPAQUE_BIT_KHR;
    if (!(caps.supportedCompositeAlpha & alpha))
        for (uint32_t b = 1; b <= VK_COMPOSITE_ALPHA_INHERIT_BIT_KHR; b <<= 1)
            if (caps.supportedCompositeAlpha & b) { alpha = (VkCompositeAlphaFlagBitsKHR)b; break; }
    VkImageUsageFlags usage = VK_IMAGE_USAGE_TRANSFER_DST_BIT;
    VkSwapchainKHR old = w->swapchain;
    VkSwapchainCreateInfoKHR ci = {
        .sType = VK_STRUCTURE_TYPE_SWAPCHAIN_CREATE_INFO_KHR,
        .surface = w->surface,
        .minImageCount = count,
        .imageFormat = w->format,
        .imageColorSpace = VK_COLOR_SPACE_SRGB_NONLINEAR_KHR,
        .imageExtent = ext,
        .imageArrayLayers = 1,
        .imageUsage = usage,
        .imageSharingMode = VK_SHARING_MODE_EXCLUSIVE,
        .preTransform = caps.currentTransform,
        .compositeAlpha = alpha,
        .presentMode = mode,
        .clipped = VK_TRUE,
        .oldSwapchain = old,
    };
    destroy_swapchain(w, true);
    VkResult r = w->fn.vkCreateSwapchainKHR(w->vk.device, &ci, NULL, &w->swapchain);
    if (old) w->fn.vkDestroySwapchainKHR(w->vk.device, old, NULL);
    if (r < 0) {
        w->swapchain = VK_NULL_HANDLE;
        return ERR("creating the swapchain failed (VkResult %d)", (int)r);
    }
    w->extent = ext;
    uint32_t ni = 0;
    VKCHECK(w->fn.vkGetSwapchainImagesKHR(w->vk.device, w->swapchain, &ni, NULL));
    if (ni > MAX_IMAGES) ni = MAX_IMAGES;
    VKCHECK(w->fn.vkGetSwapchainImagesKHR(w->vk.device, w->swapchain, &ni, w->images));
    w->nimages = ni;
    VkSemaphoreCreateInfo si = {.sType = VK_STRUCTURE_TYPE_SEMAPHORE_CREATE_INFO};
    for (uint32_t i = 0; i < ni; i++) VKCHECK(w->fn.vkCreateSemaphore(w->vk.device, &si, NULL, &w->done[i]));
    w->recreate = false;
    return 0;
}

int win_create(vks_context_t *ctx, const char *title, uint32_t width, uint32_t height, win_t **out, char *err, size_t errsz)
{
    *out = NULL;
    win_t *w = calloc(1, sizeof *w);
    if (!w) return ERR("out of memory");
    vks_context_vulkan(ctx, &w->vk);
    const char *missing = NULL;
#define WIN_LOAD(name, get, handle) \
    if (!(w->fn.name = (PFN_##name)w->vk.get(w->vk.handle, #name)) && !missing) missing = #name;
#define WIN_LOAD_INSTANCE(name) WIN_LOAD(name, get_instance_proc_addr, instance)
#define WIN_LOAD_DEVICE(name) WIN_LOAD(name, get_device_proc_addr, device)
    WIN_INSTANCE_FNS(WIN_LOAD_INSTANCE)
    WIN_DEVICE_FNS(WIN_LOAD_DEVICE)
#undef WIN_LOAD_DEVICE
#undef WIN_LOAD_INSTANCE
#undef WIN_LOAD
    if (missing) {
        free(w);
        return ERR("the Vulkan context was created without window support (%s missing)", missing);
    }
    w->fn.vkGetPhysicalDeviceMemoryProperties(w->vk.physical_device, &w->memprops);
    glfwWindowHint(GLFW_CLIENT_API, GLFW_NO_API);
    glfwWindowHint(GLFW_RESIZABLE, GLFW_TRUE);
    w->glfw = glfwCreateWindow((int)width, (int)height, title, NULL, NULL);
    if (!w->glfw) {
        free(w);
        return ERR("cannot create a window on this display");
    }
    glfwSetWindowUserPointer(w->glfw, w);
    glfwSetFramebufferSizeCallback(w->glfw, on_resize);
    int rc = -1;
    VkResult r = glfwCreateWindowSurface(w->vk.instance, w->glfw, NULL, &w->surface);
    if (r < 0) {
        ERR("cannot create a Vulkan surface for the window (VkResult %d)", (int)r);
        goto fail;
    }
    VkBool32 ok = VK_FALSE;
    w->fn.vkGetPhysicalDeviceSurfaceSupportKHR(w->vk.physical_device, w->vk.queue_family, w->surface, &ok);
    if (!ok) {
        vks_device_info_t info;
        vks_context_device_info(ctx, &info);
        ERR("%s cannot present to this window; try another --device, or write a file with 'vkstyle video'", info.name);
        goto fail;
    }
    VkCommandPoolCreateInfo pci = {.sType = VK_STRUCTURE_TYPE_COMMAND_POOL_CREATE_INFO,
                                   .flags = VK_COMMAND_POOL_CREATE_RESET_COMMAND_BUFFER_BIT,
                                   .queueFamilyIndex = w->vk.queue_family};
    VkCommandBufferAllocateInfo cai = {.sType = VK_STRUCTURE_TYPE_COMMAND_BUFFER_ALLOCATE_INFO,
                                       .level = VK_COMMAND_BUFFER_LEVEL_PRIMARY, .commandBufferCount = 1};
    VkFenceCreateInfo fi = {.sType = VK_STRUCTURE_TYPE_FENCE_CREATE_INFO};
    VkSemaphoreCreateInfo si = {.sType = VK_STRUCTURE_TYPE_SEMAPHORE_CREATE_INFO};
    if (w->fn.vkCreateCommandPool(w->vk.device, &pci, NULL, &w->pool) < 0) { ERR("vkCreateCommandPool failed"); goto fail; }
    cai.commandPool = w->pool;
    if (w->fn.vkAllocateCommandBuffers(w->vk.device, &cai, &w->cmd) < 0 || w->fn.vkCreateFence(w->vk.device, &fi, NULL, &w->fence) < 0 ||
        w->fn.vkCreateSemaphore(w->vk.device, &si, NULL, &w->acquired) < 0) {
        ERR("cannot create Vulkan objects for the window");
        goto fail;
    }
    rc = create_swapchain(w, err, errsz);
    if (rc < 0) goto fail;
    *out = w;
    return 0;
fail:
    win_destroy(w);
    return -1;
}

vks_pixel_format_t win_pixel_format(const win_t *w)
{
    return w->format == VK_FORMAT_R8G8B8A8_UNORM || w->format == VK_FORMAT_R8G8B8A8_SRGB ? VKS_PIXELS_RGBA8 : VKS_PIXELS_BGRA8;
}

GLFWwindow *win_glfw(const win_t *w) { return w->glfw; }
bool win_fullscreen(const win_t *w) { return w->fullscreen; }
void win_set_user(win_t *w, void *user) { w->user = user; }

void *win_user(GLFWwindow *g)
{
    win_t *w = glfwGetWindowUserPointer(g);
    return w ? w->user : NULL;
}

void win_set_fullscreen(win_t *w, bool on)
{
    if (on == w->fullscreen) return;
    if (on) {
        GLFWmonitor *m = glfwGetPrimaryMonitor();
        const GLFWvidmode *mode = m ? glfwGetVideoMode(m) : NULL;
        if (!mode) return;
        glfwGetWindowPos(w->glfw, &w->saved_x, &w->saved_y);
        glfwGetWindowSize(w->glfw, &w->saved_w, &w->saved_h);
        glfwSetWindowMonitor(w->glfw, m, 0, 0, mode->width, mode->height, mode->refreshRate);
    } else {
        glfwSetWindowMonitor(w->glfw, NULL, w->saved_x, w->saved_y, w->saved_w, w->saved_h, GLFW_DONT_CARE);
    }
    w->fullscreen = on;
    w->recreate = true;
}

static int ensure_blend(win_t *w, char *err, size_t errsz)
{
    if (w->blend) return 0;
    VkDescriptorSetLayoutBinding b[3];
    for (uint32_t i = 0; i < 3; i++)
        b[i] = (VkDescriptorSetLayoutBinding){.binding = i, .descriptorType = VK_DESCRIPTOR_TYPE_STORAGE_BUFFER,
                                              .descriptorCount = 1, .stageFlags = VK_SHADER_STAGE_COMPUTE_BIT};
    VkDescriptorSetLayoutCreateInfo dli = {.sType = VK_STRUCTURE_TYPE_DESCRIPTOR_SET_LAYOUT_CREATE_INFO, .bindingCount = 3,
                                           .pBindings = b};
    VKCHECK(w->fn.vkCreateDescriptorSetLayout(w->vk.device, &dli, NULL, &w->dsl));
    VkPushConstantRange pr = {.stageFlags = VK_SHADER_STAGE_COMPUTE_BIT, .size = 20};
    VkPipelineLayoutCreateInfo pli = {.sType = VK_STRUCTURE_TYPE_PIPELINE_LAYOUT_CREATE_INFO, .setLayoutCount = 1,
                                      .pSetLayouts = &w->dsl, .pushConstantRangeCount = 1, .pPushConstantRanges = &pr};
    VKCHECK(w->fn.vkCreatePipelineLayout(w->vk.device, &pli, NULL, &w->playout));
    VkShaderModuleCreateInfo smi = {.sType = VK_STRUCTURE_TYPE_SHADER_MODULE_CREATE_INFO, .codeSize = sizeof blend_spv,
                                    .pCode = blend_spv};
    VkShaderModule sm;
    VKCHECK(w->fn.vkCreateShaderModule(w->vk.device, &smi, NULL, &sm));
    VkComputePipelineCreateInfo cpi = {
        .sType = VK_STRUCTURE_TYPE_COMPUTE_PIPELINE_CREATE_INFO,
        .stage = {.sType = VK_STRUCTURE_TYPE_PIPELINE_SHADER_STAGE_CREATE_INFO, .stage = VK_SHADER_STAGE_COMPUTE_BIT,
                  .module = sm, .pName = "main"},
        .layout = w->playout,
    };
    VkResult r = w->fn.vkCreateComputePipelines(w->vk.device, VK_NULL_HANDLE, 1, &cpi, NULL, &w->blend);
    w->fn.vkDestroyShaderModule(w->vk.device, sm, NULL);
    if (r < 0) return ERR("creating the blend pipeline failed (VkResult %d)", (int)r);
    VkDescriptorPoolSize ps = {VK_DESCRIPTOR_TYPE_STORAGE_BUFFER, 3};
    VkDescriptorPoolCreateInfo dpi = {.sType = VK_STRUCTURE_TYPE_DESCRIPTOR_POOL_CREATE_INFO, .maxSets = 1,
                                      .poolSizeCount = 1, .pPoolSizes = &ps};
    VKCHECK(w->fn.vkCreateDescriptorPool(w->vk.device, &dpi, NULL, &w->dpool));
    VkDescriptorSetAllocateInfo dai = {.sType = VK_STRUCTURE_TYPE_DESCRIPTOR_SET_ALLOCATE_INFO, .descriptorPool = w->dpool,
                                       .descriptorSetCount = 1, .pSetLayouts = &w->dsl};
    VKCHECK(w->fn.vkAllocateDescriptorSets(w->vk.device, &dai, &w->dset));
    return 0;
}

static int ensure_scaled(win_t *w, uint32_t width, uint32_t height, char *err, size_t errsz)
{
    if (w->scaled && w->scaled_extent.width == width && w->scaled_extent.height == height) return 0;
    if (w->scaled) w->fn.vkDestroyImage(w->vk.device, w->scaled, NULL);
    if (w->scaled_mem) w->fn.vkFreeMemory(w->vk.device, w->scaled_mem, NULL);
    w->scaled = VK_NULL_HANDLE;
    w->scaled_mem = VK_NULL_HANDLE;
    VkImageCreateInfo ii = {
        .sType = VK_STRUCTURE_TYPE_IMAGE_CREATE_INFO, .imageType = VK_IMAGE_TYPE_2D, .format = w->format,
        .extent = {width, height, 1}, .mipLevels = 1, .arrayLayers = 1, .samples = VK_SAMPLE_COUNT_1_BIT,
        .tiling = VK_IMAGE_TILING_OPTIMAL, .usage = VK_IMAGE_USAGE_TRANSFER_DST_BIT | VK_IMAGE_USAGE_TRANSFER_SRC_BIT,
        .sharingMode = VK_SHARING_MODE_EXCLUSIVE, .initialLayout = VK_IMAGE_LAYOUT_UNDEFINED,
    };
    VKCHECK(w->fn.vkCreateImage(w->vk.device, &ii, NULL, &w->scaled));
    VkMemoryRequirements req;
    w->fn.vkGetImageMemoryRequirements(w->vk.device, w->scaled, &req);
    int type = find_memory(w, req.memoryTypeBits, 0, VK_MEMORY_PROPERTY_DEVICE_LOCAL_BIT);
    if (type < 0) return ERR("no memory type for the frame image");
    VkMemoryAllocateInfo ai = {.sType = VK_STRUCTURE_TYPE_MEMORY_ALLOCATE_INFO, .allocationSize = req.size,
                               .memoryTypeIndex = (uint32_t)type};
    VKCHECK(w->fn.vkAllocateMemory(w->vk.device, &ai, NULL, &w->scaled_mem));
    VKCHECK(w->fn.vkBindImageMemory(w->vk.device, w->scaled, w->scaled_mem, 0));
    w->scaled_extent = (VkExtent2D){width, height};
    return 0;
}

static void image_barrier(const win_t *w, VkCommandBuffer cmd, VkImage img, VkImageLayout from, VkImageLayout to, VkAccessFlags src_access,
                          VkAccessFlags dst_access, VkPipelineStageFlags src_stage, VkPipelineStageFlags dst_stage)
{
    VkImageMemoryBarrier b = {
        .sType = VK_STRUCTURE_TYPE_IMAGE_MEMORY_BARRIER, .srcAccessMask = src_access, .dstAccessMask = dst_access,
        .oldLayout = from, .newLayout = to, .srcQueueFamilyIndex = VK_QUEUE_FAMILY_IGNORED,
        .dstQueueFamilyIndex = VK_QUEUE_FAMILY_IGNORED, .image = img,
        .subresourceRange = {VK_IMAGE_ASPECT_COLOR_BIT, 0, 1, 0, 1},
    };
    w->fn.vkCmdPipelineBarrier(cmd, src_stage, dst_stage, 0, 0, NULL, 0, NULL, 1, &b);
}

static void memory_barrier(const win_t *w, VkCommandBuffer cmd, VkPipelineStageFlags src_stage, VkAccessFlags src_access,
                           VkPipelineStageFlags dst_stage, VkAccessFlags dst_access)
{
    VkMemoryBarrier m = {.sType = VK_STRUCTURE_TYPE_MEMORY_BARRIER, .srcAccessMask = src_access, .dstAccessMask = dst_access};
    w->fn.vkCmdPipelineBarrier(cmd, src_stage, dst_stage, 0, 1, &m, 0, NULL, 0, NULL);
}

static int wait_idle_frame(win_t *w, char *err, size_t errsz)
{
    if (!w->in_flight) return 0;
    VkResult r = w->fn.vkWaitForFences(w->vk.device, 1, &w->fence, VK_TRUE, UINT64_MAX);
    if (r < 0) return ERR("waiting for the GPU failed (VkResult %d%s)", (int)r, r == VK_ERROR_DEVICE_LOST ? ": device lost" : "");
    w->in_flight = false;
    return 0;
}

int win_present(win_t *w, const win_frame_t *f, char *err, size_t errsz)
{
    if (wait_idle_frame(w, err, errsz)) return -1;
    int fbw, fbh;
    glfwGetFramebufferSize(w->glfw, &fbw, &fbh);
    if (fbw <= 0 || fbh <= 0) return 1;
    if (w->recreate || !w->swapchain) {
        w->fn.vkDeviceWaitIdle(w->vk.device);
        int r = create_swapchain(w, err, errsz);
        if (r) return r;
    }
    uint32_t idx = 0;
    VkResult ar = w->fn.vkAcquireNextImageKHR(w->vk.device, w->swapchain, 1000000000ull, w->acquired, VK_NULL_HANDLE, &idx);
    if (ar == VK_ERROR_OUT_OF_DATE_KHR) {
        w->recreate = true;
        return 1;
    }
    if (ar == VK_TIMEOUT || ar == VK_NOT_READY) return 1;
    if (ar == VK_ERROR_SURFACE_LOST_KHR) return ERR("the window's surface was lost");
    if (ar < 0) return ERR("vkAcquireNextImageKHR failed (VkResult %d)", (int)ar);
    if (ar == VK_SUBOPTIMAL_KHR) w->recreate = true;

    VkDeviceSize frame_bytes = (VkDeviceSize)f->width * f->height * 4;
    VkBuffer src = f->buffer;
    VkDeviceSize src_off = f->offset;
    bool blend = f->strength < 1.0f && f->source;
    if (blend) {
        size_t in_bytes = f->source_format == VKS_PIXELS_YUYV ? (size_t)f->width * f->height * 2 : (size_t)frame_bytes;
        if (ensure_blend(w, err, errsz) ||
            gbuf_ensure(w, &w->src, in_bytes, VK_BUFFER_USAGE_STORAGE_BUFFER_BIT, true, err, errsz) ||
            gbuf_ensure(w, &w->mixed, frame_bytes, VK_BUFFER_USAGE_STORAGE_BUFFER_BIT | VK_BUFFER_USAGE_TRANSFER_SRC_BIT,
                        false, err, errsz))
            return -1;
        memcpy(w->src.map, f->source, in_bytes);
        VkDescriptorBufferInfo bi[3] = {{f->buffer, f->offset, frame_bytes}, {w->src.buf, 0, in_bytes}, {w->mixed.buf, 0, frame_bytes}};
        VkWriteDescriptorSet wr[3];
        for (uint32_t i = 0; i < 3; i++)
            wr[i] = (VkWriteDescriptorSet){.sType = VK_STRUCTURE_TYPE_WRITE_DESCRIPTOR_SET, .dstSet = w->dset, .dstBinding = i,
                                           .descriptorCount = 1, .descriptorType = VK_DESCRIPTOR_TYPE_STORAGE_BUFFER,
                                           .pBufferInfo = &bi[i]};
        w->fn.vkUpdateDescriptorSets(w->vk.device, 3, wr, 0, NULL);
        src = w->mixed.buf;
        src_off = 0;
    }
    if (f->readback && gbuf_ensure(w, &w->readback, frame_bytes, VK_BUFFER_USAGE_TRANSFER_DST_BIT, true, err, errsz)) return -1;
    bool direct = w->extent.width == f->width && w->extent.height == f->height;
    if (!direct && ensure_scaled(w, f->width, f->height, err, errsz)) return -1;

    VkCommandBuffer cmd = w->cmd;
    VKCHECK(w->fn.vkResetCommandBuffer(cmd, 0));
    VkCommandBufferBeginInfo cbi = {.sType = VK_STRUCTURE_TYPE_COMMAND_BUFFER_BEGIN_INFO,
                                    .flags = VK_COMMAND_BUFFER_USAGE_ONE_TIME_SUBMIT_BIT};
    VKCHECK(w->fn.vkBeginCommandBuffer(cmd, &cbi));
    /* the session's writes (earlier submission) before our reads */
    memory_barrier(w, cmd, VK_PIPELINE_STAGE_COMPUTE_SHADER_BIT | VK_PIPELINE_STAGE_TRANSFER_BIT,
                   VK_ACCESS_SHADER_WRITE_BIT | VK_ACCESS_TRANSFER_WRITE_BIT,
                   VK_PIPELINE_STAGE_COMPUTE_SHADER_BIT | VK_PIPELINE_STAGE_TRANSFER_BIT,
                   VK_ACCESS_SHADER_READ_BIT | VK_ACCESS_TRANSFER_READ_BIT);
    if (blend) {
        struct { uint32_t w, h, src_format, out_bgra; float strength; } pc = {
            f->width, f->height, f->source_format == VKS_PIXELS_YUYV ? 2u : f->source_format == VKS_PIXELS_BGRA8 ? 1u : 0u,
            win_pixel_format(w) == VKS_PIXELS_BGRA8 ? 1u : 0u, f->strength < 0 ? 0 : f->strength};
        w->fn.vkCmdBindPipeline(cmd, VK_PIPELINE_BIND_POINT_COMPUTE, w->blend);
        w->fn.vkCmdBindDescriptorSets(cmd, VK_PIPELINE_BIND_POINT_COMPUTE, w->playout, 0, 1, &w->dset, 0, NULL);
        w->fn.vkCmdPushConstants(cmd, w->playout, VK_SHADER_STAGE_COMPUTE_BIT, 0, sizeof pc, &pc);
        w->fn.vkCmdDispatch(cmd, (f->width * f->height + 63) / 64, 1, 1);
        memory_barrier(w, cmd, VK_PIPELINE_STAGE_COMPUTE_SHADER_BIT, VK_ACCESS_SHADER_WRITE_BIT, VK_PIPELINE_STAGE_TRANSFER_BIT,
                       VK_ACCESS_TRANSFER_READ_BIT);
    }
    VkImage img = w->images[idx];
    VkBufferImageCopy region = {.bufferOffset = src_off, .imageSubresource = {VK_IMAGE_ASPECT_COLOR_BIT, 0, 0, 1},
                                .imageExtent = {f->width, f->height, 1}};
    image_barrier(w, cmd, img, VK_IMAGE_LAYOUT_UNDEFINED, VK_IMAGE_LAYOUT_TRANSFER_DST_OPTIMAL, 0, VK_ACCESS_TRANSFER_WRITE_BIT,
                  VK_PIPELINE_STAGE_TRANSFER_BIT, VK_PIPELINE_STAGE_TRANSFER_BIT);
    if (direct) {
        w->fn.vkCmdCopyBufferToImage(cmd, src, img, VK_IMAGE_LAYOUT_TRANSFER_DST_OPTIMAL, 1, &region);
    } else {
        image_barrier(w, cmd, w->scaled, VK_IMAGE_LAYOUT_UNDEFINED, VK_IMAGE_LAYOUT_TRANSFER_DST_OPTIMAL, 0,
                      VK_ACCESS_TRANSFER_WRITE_BIT, VK_PIPELINE_STAGE_TRANSFER_BIT, VK_PIPELINE_STAGE_TRANSFER_BIT);
        w->fn.vkCmdCopyBufferToImage(cmd, src, w->scaled, VK_IMAGE_LAYOUT_TRANSFER_DST_OPTIMAL, 1, &region);
        image_barrier(w, cmd, w->scaled, VK_IMAGE_LAYOUT_TRANSFER_DST_OPTIMAL, VK_IMAGE_LAYOUT_TRANSFER_SRC_OPTIMAL,
                      VK_ACCESS_TRANSFER_WRITE_BIT, VK_ACCESS_TRANSFER_READ_BIT, VK_PIPELINE_STAGE_TRANSFER_BIT,
                      VK_PIPELINE_STAGE_TRANSFER_BIT);
        VkClearColorValue black = {{0, 0, 0, 1}};
        VkImageSubresourceRange range = {VK_IMAGE_ASPECT_COLOR_BIT, 0, 1, 0, 1};
        w->fn.vkCmdClearColorImage(cmd, img, VK_IMAGE_LAYOUT_TRANSFER_DST_OPTIMAL, &black, 1, &range);
        memory_barrier(w, cmd, VK_PIPELINE_STAGE_TRANSFER_BIT, VK_ACCESS_TRANSFER_WRITE_BIT, VK_PIPELINE_STAGE_TRANSFER_BIT,
                       VK_ACCESS_TRANSFER_WRITE_BIT);
        /* fit, keeping the aspect ratio */
        double k = (double)w->extent.width / f->width;
        if ((double)w->extent.height / f->height < k) k = (double)w->extent.height / f->height;
        int32_t dw = (int32_t)(f->width * k + 0.5), dh = (int32_t)(f->height * k + 0.5);
        if (dw < 1) dw = 1;
        if (dh < 1) dh = 1;
        int32_t x0 = ((int32_t)w->extent.width - dw) / 2, y0 = ((int32_t)w->extent.height - dh) / 2;
        VkImageBlit blit = {
            .srcSubresource = {VK_IMAGE_ASPECT_COLOR_BIT, 0, 0, 1},
            .srcOffsets = {{0, 0, 0}, {(int32_t)f->width, (int32_t)f->height, 1}},
            .dstSubresource = {VK_IMAGE_ASPECT_COLOR_BIT, 0, 0, 1},
            .dstOffsets = {{x0, y0, 0}, {x0 + dw, y0 + dh, 1}},
        };
        w->fn.vkCmdBlitImage(cmd, w->scaled, VK_IMAGE_LAYOUT_TRANSFER_SRC_OPTIMAL, img, VK_IMAGE_LAYOUT_TRANSFER_DST_OPTIMAL, 1, &blit,
                       VK_FILTER_LINEAR);
    }
    if (f->readback) {
        VkBufferCopy bc = {src_off, 0, frame_bytes};
        w->fn.vkCmdCopyBuffer(cmd, src, w->readback.buf, 1, &bc);
        memory_barrier(w, cmd, VK_PIPELINE_STAGE_TRANSFER_BIT, VK_ACCESS_TRANSFER_WRITE_BIT, VK_PIPELINE_STAGE_HOST_BIT,
                       VK_ACCESS_HOST_READ_BIT);
    }
    image_barrier(w, cmd, img, VK_IMAGE_LAYOUT_TRANSFER_DST_OPTIMAL, VK_IMAGE_LAYOUT_PRESENT_SRC_KHR, VK_ACCESS_TRANSFER_WRITE_BIT, 0,
                  VK_PIPELINE_STAGE_TRANSFER_BIT, VK_PIPELINE_STAGE_BOTTOM_OF_PIPE_BIT);
    /* our reads finish before the session's next run writes its output buffer again */
    memory_barrier(w, cmd, VK_PIPELINE_STAGE_TRANSFER_BIT | VK_PIPELINE_STAGE_COMPUTE_SHADER_BIT, 0,
                   VK_PIPELINE_STAGE_TRANSFER_BIT | VK_PIPELINE_STAGE_COMPUTE_SHADER_BIT, 0);
    VKCHECK(w->fn.vkEndCommandBuffer(cmd));

    VkPipelineStageFlags wait_stage = VK_PIPELINE_STAGE_TRANSFER_BIT;
    VkSubmitInfo si = {.sType = VK_STRUCTURE_TYPE_SUBMIT_INFO, .waitSemaphoreCount = 1, .pWaitSemaphores = &w->acquired,
                       .pWaitDstStageMask = &wait_stage, .commandBufferCount = 1, .pCommandBuffers = &cmd,
                       .signalSemaphoreCount = 1, .pSignalSemaphores = &w->done[idx]};
    VKCHECK(w->fn.vkResetFences(w->vk.device, 1, &w->fence));
    VKCHECK(w->fn.vkQueueSubmit(w->vk.queue, 1, &si, w->fence));
    w->in_flight = true;
    VkPresentInfoKHR pi = {.sType = VK_STRUCTURE_TYPE_PRESENT_INFO_KHR, .waitSemaphoreCount = 1, .pWaitSemaphores = &w->done[idx],
                           .swapchainCount = 1, .pSwapchains = &w->swapchain, .pImageIndices = &idx};
    VkResult pr = w->fn.vkQueuePresentKHR(w->vk.queue, &pi);
    if (pr == VK_ERROR_OUT_OF_DATE_KHR || pr == VK_SUBOPTIMAL_KHR) w->recreate = true;
    else if (pr < 0) return ERR("presenting failed (VkResult %d)", (int)pr);
    if (f->readback) {
        if (wait_idle_frame(w, err, errsz)) return -1;
        const uint8_t *p = w->readback.map;
        bool bgra = win_pixel_format(w) == VKS_PIXELS_BGRA8;
        for (size_t i = 0; i < (size_t)f->width * f->height; i++) {
            f->readback[4 * i] = p[4 * i + (bgra ? 2 : 0)];
            f->readback[4 * i + 1] = p[4 * i + 1];
            f->readback[4 * i + 2] = p[4 * i + (bgra ? 0 : 2)];
            f->readback[4 * i + 3] = 255;
        }
    }
    return 0;
}

void win_destroy(win_t *w)
{
    if (!w) return;
    if (w->vk.device) {
        w->fn.vkDeviceWaitIdle(w->vk.device);
        destroy_swapchain(w, false);
        gbuf_free(w, &w->src);
        gbuf_free(w, &w->mixed);
        gbuf_free(w, &w->readback);
        if (w->scaled) w->fn.vkDestroyImage(w->vk.device, w->scaled, NULL);
        if (w->scaled_mem) w->fn.vkFreeMemory(w->vk.device, w->scaled_mem, NULL);
        if (w->blend) w->fn.vkDestroyPipeline(w->vk.device, w->blend, NULL);
        if (w->playout) w->fn.vkDestroyPipelineLayout(w->vk.device, w->playout, NULL);
        if (w->dsl) w->fn.vkDestroyDescriptorSetLayout(w->vk.device, w->dsl, NULL);
        if (w->dpool) w->fn.vkDestroyDescriptorPool(w->vk.device, w->dpool, NULL);
        if (w->acquired) w->fn.vkDestroySemaphore(w->vk.device, w->acquired, NULL);
        if (w->fence) w->fn.vkDestroyFence(w->vk.device, w->fence, NULL);
        if (w->pool) w->fn.vkDestroyCommandPool(w->vk.device, w->pool, NULL);
    }
    if (w->surface) w->fn.vkDestroySurfaceKHR(w->vk.instance, w->surface, NULL);
    if (w->glfw) glfwDestroyWindow(w->glfw);
    free(w);
}
