/* GLFW window + Vulkan swapchain on the engine's device (see window.h). */
#include "window_vk.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAX_IMAGES 8

struct win {
    GLFWwindow *glfw;
    win_vk_t v;
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
    win_blend_t blend;   /* strength below 1 */
    win_buf_t readback;
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

static void destroy_swapchain(win_t *w, bool keep_handle)
{
    for (uint32_t i = 0; i < w->nimages; i++) {
        if (w->done[i]) w->v.vkDestroySemaphore(w->v.vk.device, w->done[i], NULL);
        w->done[i] = VK_NULL_HANDLE;
    }
    w->nimages = 0;
    if (!keep_handle && w->swapchain) {
        w->v.vkDestroySwapchainKHR(w->v.vk.device, w->swapchain, NULL);
        w->swapchain = VK_NULL_HANDLE;
    }
}

/* The swapchain's format: 8-bit BGRA or RGBA, UNORM first (the frame's bytes are shown as they are). */
static int choose_format(win_t *w, char *err, size_t errsz)
{
    uint32_t n = 0;
    VKCHECK(w->v.vkGetPhysicalDeviceSurfaceFormatsKHR(w->v.vk.physical_device, w->surface, &n, NULL));
    VkSurfaceFormatKHR fmts[64];
    if (n > 64) n = 64;
    VKCHECK(w->v.vkGetPhysicalDeviceSurfaceFormatsKHR(w->v.vk.physical_device, w->surface, &n, fmts));
    static const VkFormat prefer[] = {VK_FORMAT_B8G8R8A8_UNORM, VK_FORMAT_R8G8B8A8_UNORM, VK_FORMAT_B8G8R8A8_SRGB,
                                      VK_FORMAT_R8G8B8A8_SRGB};
    for (size_t p = 0; p < 4 && !w->format; p++)
        for (uint32_t i = 0; i < n; i++)
            if (fmts[i].format == prefer[p] && fmts[i].colorSpace == VK_COLOR_SPACE_SRGB_NONLINEAR_KHR) w->format = prefer[p];
    if (!w->format) return ERR("the window offers no 8-bit RGBA or BGRA format");
    return 0;
}

/* Mailbox where offered (newest frame wins, no tearing), else FIFO (always there). */
static VkPresentModeKHR choose_present_mode(const win_t *w)
{
    uint32_t nm = 0;
    VkPresentModeKHR modes[16], mode = VK_PRESENT_MODE_FIFO_KHR;
    if (w->v.vkGetPhysicalDeviceSurfacePresentModesKHR(w->v.vk.physical_device, w->surface, &nm, NULL) < 0) return mode;
    if (nm > 16) nm = 16;
    if (w->v.vkGetPhysicalDeviceSurfacePresentModesKHR(w->v.vk.physical_device, w->surface, &nm, modes) < 0) return mode;
    for (uint32_t i = 0; i < nm; i++)
        if (modes[i] == VK_PRESENT_MODE_MAILBOX_KHR) mode = modes[i];
    return mode;
}

static int create_swapchain(win_t *w, char *err, size_t errsz)
{
    VkSurfaceCapabilitiesKHR caps;
    VKCHECK(w->v.vkGetPhysicalDeviceSurfaceCapabilitiesKHR(w->v.vk.physical_device, w->surface, &caps));
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
    if (!w->format && choose_format(w, err, errsz)) return -1;
    VkPresentModeKHR mode = choose_present_mode(w);
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
    VkResult r = w->v.vkCreateSwapchainKHR(w->v.vk.device, &ci, NULL, &w->swapchain);
    if (old) w->v.vkDestroySwapchainKHR(w->v.vk.device, old, NULL);
    if (r < 0) {
        w->swapchain = VK_NULL_HANDLE;
        return ERR("creating the swapchain failed (VkResult %d)", (int)r);
    }
    w->extent = ext;
    uint32_t ni = 0;
    VKCHECK(w->v.vkGetSwapchainImagesKHR(w->v.vk.device, w->swapchain, &ni, NULL));
    if (ni > MAX_IMAGES) ni = MAX_IMAGES;
    VKCHECK(w->v.vkGetSwapchainImagesKHR(w->v.vk.device, w->swapchain, &ni, w->images));
    w->nimages = ni;
    VkSemaphoreCreateInfo si = {.sType = VK_STRUCTURE_TYPE_SEMAPHORE_CREATE_INFO};
    for (uint32_t i = 0; i < ni; i++) VKCHECK(w->v.vkCreateSemaphore(w->v.vk.device, &si, NULL, &w->done[i]));
    w->recreate = false;
    return 0;
}

int win_create(vks_context_t *ctx, const char *title, uint32_t width, uint32_t height, win_t **out, char *err, size_t errsz)
{
    *out = NULL;
    win_t *w = calloc(1, sizeof *w);
    if (!w) return ERR("out of memory");
    if (win_vk_load(&w->v, ctx, err, errsz)) {
        free(w);
        return -1;
    }
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
    VkResult r = glfwCreateWindowSurface(w->v.vk.instance, w->glfw, NULL, &w->surface);
    if (r < 0) {
        ERR("cannot create a Vulkan surface for the window (VkResult %d)", (int)r);
        goto fail;
    }
    VkBool32 ok = VK_FALSE;
    w->v.vkGetPhysicalDeviceSurfaceSupportKHR(w->v.vk.physical_device, w->v.vk.queue_family, w->surface, &ok);
    if (!ok) {
        vks_device_info_t info;
        vks_context_device_info(ctx, &info);
        ERR("%s cannot present to this window; try another --device, or write a file with 'vkstyle video'", info.name);
        goto fail;
    }
    VkCommandPoolCreateInfo pci = {.sType = VK_STRUCTURE_TYPE_COMMAND_POOL_CREATE_INFO,
                                   .flags = VK_COMMAND_POOL_CREATE_RESET_COMMAND_BUFFER_BIT,
                                   .queueFamilyIndex = w->v.vk.queue_family};
    VkCommandBufferAllocateInfo cai = {.sType = VK_STRUCTURE_TYPE_COMMAND_BUFFER_ALLOCATE_INFO,
                                       .level = VK_COMMAND_BUFFER_LEVEL_PRIMARY, .commandBufferCount = 1};
    VkFenceCreateInfo fi = {.sType = VK_STRUCTURE_TYPE_FENCE_CREATE_INFO};
    VkSemaphoreCreateInfo si = {.sType = VK_STRUCTURE_TYPE_SEMAPHORE_CREATE_INFO};
    if (w->v.vkCreateCommandPool(w->v.vk.device, &pci, NULL, &w->pool) < 0) { ERR("vkCreateCommandPool failed"); goto fail; }
    cai.commandPool = w->pool;
    if (w->v.vkAllocateCommandBuffers(w->v.vk.device, &cai, &w->cmd) < 0 || w->v.vkCreateFence(w->v.vk.device, &fi, NULL, &w->fence) < 0 ||
        w->v.vkCreateSemaphore(w->v.vk.device, &si, NULL, &w->acquired) < 0) {
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

static int ensure_scaled(win_t *w, uint32_t width, uint32_t height, char *err, size_t errsz)
{
    if (w->scaled && w->scaled_extent.width == width && w->scaled_extent.height == height) return 0;
    if (w->scaled) w->v.vkDestroyImage(w->v.vk.device, w->scaled, NULL);
    if (w->scaled_mem) w->v.vkFreeMemory(w->v.vk.device, w->scaled_mem, NULL);
    w->scaled = VK_NULL_HANDLE;
    w->scaled_mem = VK_NULL_HANDLE;
    VkImageCreateInfo ii = {
        .sType = VK_STRUCTURE_TYPE_IMAGE_CREATE_INFO, .imageType = VK_IMAGE_TYPE_2D, .format = w->format,
        .extent = {width, height, 1}, .mipLevels = 1, .arrayLayers = 1, .samples = VK_SAMPLE_COUNT_1_BIT,
        .tiling = VK_IMAGE_TILING_OPTIMAL, .usage = VK_IMAGE_USAGE_TRANSFER_DST_BIT | VK_IMAGE_USAGE_TRANSFER_SRC_BIT,
        .sharingMode = VK_SHARING_MODE_EXCLUSIVE, .initialLayout = VK_IMAGE_LAYOUT_UNDEFINED,
    };
    VKCHECK(w->v.vkCreateImage(w->v.vk.device, &ii, NULL, &w->scaled));
    VkMemoryRequirements req;
    w->v.vkGetImageMemoryRequirements(w->v.vk.device, w->scaled, &req);
    int type = vks_context_memory_type(w->v.ctx, req.memoryTypeBits, VKS_MEMORY_DEVICE);
    if (type < 0) return ERR("no memory type for the frame image");
    VkMemoryAllocateInfo ai = {.sType = VK_STRUCTURE_TYPE_MEMORY_ALLOCATE_INFO, .allocationSize = req.size,
                               .memoryTypeIndex = (uint32_t)type};
    VKCHECK(w->v.vkAllocateMemory(w->v.vk.device, &ai, NULL, &w->scaled_mem));
    VKCHECK(w->v.vkBindImageMemory(w->v.vk.device, w->scaled, w->scaled_mem, 0));
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
    w->v.vkCmdPipelineBarrier(cmd, src_stage, dst_stage, 0, 0, NULL, 0, NULL, 1, &b);
}

static int wait_idle_frame(win_t *w, char *err, size_t errsz)
{
    if (!w->in_flight) return 0;
    VkResult r = w->v.vkWaitForFences(w->v.vk.device, 1, &w->fence, VK_TRUE, UINT64_MAX);
    if (r < 0) return ERR("waiting for the GPU failed (VkResult %d%s)", (int)r, r == VK_ERROR_DEVICE_LOST ? ": device lost" : "");
    w->in_flight = false;
    return 0;
}

/* The next swapchain image in *idx (recreating the swapchain when it is stale). 0; 1 when there
 * is nothing to present to now (minimized, out of date, not ready); -1 on failure. */
static int acquire(win_t *w, uint32_t *idx, char *err, size_t errsz)
{
    int fbw, fbh;
    glfwGetFramebufferSize(w->glfw, &fbw, &fbh);
    if (fbw <= 0 || fbh <= 0) return 1;
    if (w->recreate || !w->swapchain) {
        w->v.vkDeviceWaitIdle(w->v.vk.device);
        int r = create_swapchain(w, err, errsz);
        if (r) return r;
    }
    VkResult ar = w->v.vkAcquireNextImageKHR(w->v.vk.device, w->swapchain, 1000000000ull, w->acquired, VK_NULL_HANDLE, idx);
    if (ar == VK_ERROR_OUT_OF_DATE_KHR) {
        w->recreate = true;
        return 1;
    }
    if (ar == VK_TIMEOUT || ar == VK_NOT_READY) return 1;
    if (ar == VK_ERROR_SURFACE_LOST_KHR) return ERR("the window's surface was lost");
    if (ar < 0) return ERR("vkAcquireNextImageKHR failed (VkResult %d)", (int)ar);
    if (ar == VK_SUBOPTIMAL_KHR) w->recreate = true;
    return 0;
}

/* Copy the frame-sized image at src into the frame image, and blit it into img (a window of
 * another size) centred, keeping the aspect ratio, on black. */
static void record_scaled(win_t *w, VkCommandBuffer cmd, VkBuffer src, const VkBufferImageCopy *region, VkImage img,
                          const win_frame_t *f)
{
    image_barrier(w, cmd, w->scaled, VK_IMAGE_LAYOUT_UNDEFINED, VK_IMAGE_LAYOUT_TRANSFER_DST_OPTIMAL, 0,
                  VK_ACCESS_TRANSFER_WRITE_BIT, VK_PIPELINE_STAGE_TRANSFER_BIT, VK_PIPELINE_STAGE_TRANSFER_BIT);
    w->v.vkCmdCopyBufferToImage(cmd, src, w->scaled, VK_IMAGE_LAYOUT_TRANSFER_DST_OPTIMAL, 1, region);
    image_barrier(w, cmd, w->scaled, VK_IMAGE_LAYOUT_TRANSFER_DST_OPTIMAL, VK_IMAGE_LAYOUT_TRANSFER_SRC_OPTIMAL,
                  VK_ACCESS_TRANSFER_WRITE_BIT, VK_ACCESS_TRANSFER_READ_BIT, VK_PIPELINE_STAGE_TRANSFER_BIT,
                  VK_PIPELINE_STAGE_TRANSFER_BIT);
    VkClearColorValue black = {{0, 0, 0, 1}};
    VkImageSubresourceRange range = {VK_IMAGE_ASPECT_COLOR_BIT, 0, 1, 0, 1};
    w->v.vkCmdClearColorImage(cmd, img, VK_IMAGE_LAYOUT_TRANSFER_DST_OPTIMAL, &black, 1, &range);
    win_memory_barrier(&w->v, cmd, VK_PIPELINE_STAGE_TRANSFER_BIT, VK_ACCESS_TRANSFER_WRITE_BIT, VK_PIPELINE_STAGE_TRANSFER_BIT,
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
    w->v.vkCmdBlitImage(cmd, w->scaled, VK_IMAGE_LAYOUT_TRANSFER_SRC_OPTIMAL, img, VK_IMAGE_LAYOUT_TRANSFER_DST_OPTIMAL, 1, &blit,
                        VK_FILTER_LINEAR);
}

/* Record the frame's way into swapchain image idx: the blend (when asked), the copy (direct or
 * scaled), the read-back copy, and the barriers around them. */
static int record_frame(win_t *w, const win_frame_t *f, uint32_t idx, bool blend, bool direct, char *err, size_t errsz)
{
    VkDeviceSize frame_bytes = (VkDeviceSize)f->width * f->height * 4;
    VkBuffer src = blend ? w->blend.mixed.buf : f->buffer;
    VkDeviceSize src_off = blend ? 0 : f->offset;
    VkCommandBuffer cmd = w->cmd;
    VKCHECK(w->v.vkResetCommandBuffer(cmd, 0));
    VkCommandBufferBeginInfo cbi = {.sType = VK_STRUCTURE_TYPE_COMMAND_BUFFER_BEGIN_INFO,
                                    .flags = VK_COMMAND_BUFFER_USAGE_ONE_TIME_SUBMIT_BIT};
    VKCHECK(w->v.vkBeginCommandBuffer(cmd, &cbi));
    /* the session's writes (earlier submission) before our reads */
    win_memory_barrier(&w->v, cmd, VK_PIPELINE_STAGE_COMPUTE_SHADER_BIT | VK_PIPELINE_STAGE_TRANSFER_BIT,
                       VK_ACCESS_SHADER_WRITE_BIT | VK_ACCESS_TRANSFER_WRITE_BIT,
                       VK_PIPELINE_STAGE_COMPUTE_SHADER_BIT | VK_PIPELINE_STAGE_TRANSFER_BIT,
                       VK_ACCESS_SHADER_READ_BIT | VK_ACCESS_TRANSFER_READ_BIT);
    if (blend) win_blend_record(&w->blend, &w->v, cmd, f, win_pixel_format(w));
    VkImage img = w->images[idx];
    VkBufferImageCopy region = {.bufferOffset = src_off, .imageSubresource = {VK_IMAGE_ASPECT_COLOR_BIT, 0, 0, 1},
                                .imageExtent = {f->width, f->height, 1}};
    image_barrier(w, cmd, img, VK_IMAGE_LAYOUT_UNDEFINED, VK_IMAGE_LAYOUT_TRANSFER_DST_OPTIMAL, 0, VK_ACCESS_TRANSFER_WRITE_BIT,
                  VK_PIPELINE_STAGE_TRANSFER_BIT, VK_PIPELINE_STAGE_TRANSFER_BIT);
    if (direct) w->v.vkCmdCopyBufferToImage(cmd, src, img, VK_IMAGE_LAYOUT_TRANSFER_DST_OPTIMAL, 1, &region);
    else record_scaled(w, cmd, src, &region, img, f);
    if (f->readback) {
        VkBufferCopy bc = {src_off, 0, frame_bytes};
        w->v.vkCmdCopyBuffer(cmd, src, w->readback.buf, 1, &bc);
        win_memory_barrier(&w->v, cmd, VK_PIPELINE_STAGE_TRANSFER_BIT, VK_ACCESS_TRANSFER_WRITE_BIT, VK_PIPELINE_STAGE_HOST_BIT,
                           VK_ACCESS_HOST_READ_BIT);
    }
    image_barrier(w, cmd, img, VK_IMAGE_LAYOUT_TRANSFER_DST_OPTIMAL, VK_IMAGE_LAYOUT_PRESENT_SRC_KHR, VK_ACCESS_TRANSFER_WRITE_BIT, 0,
                  VK_PIPELINE_STAGE_TRANSFER_BIT, VK_PIPELINE_STAGE_BOTTOM_OF_PIPE_BIT);
    /* our reads finish before the session's next run writes its output buffer again */
    win_memory_barrier(&w->v, cmd, VK_PIPELINE_STAGE_TRANSFER_BIT | VK_PIPELINE_STAGE_COMPUTE_SHADER_BIT, 0,
                       VK_PIPELINE_STAGE_TRANSFER_BIT | VK_PIPELINE_STAGE_COMPUTE_SHADER_BIT, 0);
    VKCHECK(w->v.vkEndCommandBuffer(cmd));
    return 0;
}

/* Submit the recorded frame after the acquire, and present image idx after it. */
static int submit_present(win_t *w, uint32_t idx, char *err, size_t errsz)
{
    VkPipelineStageFlags wait_stage = VK_PIPELINE_STAGE_TRANSFER_BIT;
    VkSubmitInfo si = {.sType = VK_STRUCTURE_TYPE_SUBMIT_INFO, .waitSemaphoreCount = 1, .pWaitSemaphores = &w->acquired,
                       .pWaitDstStageMask = &wait_stage, .commandBufferCount = 1, .pCommandBuffers = &w->cmd,
                       .signalSemaphoreCount = 1, .pSignalSemaphores = &w->done[idx]};
    VKCHECK(w->v.vkResetFences(w->v.vk.device, 1, &w->fence));
    VKCHECK(w->v.vkQueueSubmit(w->v.vk.queue, 1, &si, w->fence));
    w->in_flight = true;
    VkPresentInfoKHR pi = {.sType = VK_STRUCTURE_TYPE_PRESENT_INFO_KHR, .waitSemaphoreCount = 1, .pWaitSemaphores = &w->done[idx],
                           .swapchainCount = 1, .pSwapchains = &w->swapchain, .pImageIndices = &idx};
    VkResult pr = w->v.vkQueuePresentKHR(w->v.vk.queue, &pi);
    if (pr == VK_ERROR_OUT_OF_DATE_KHR || pr == VK_SUBOPTIMAL_KHR) w->recreate = true;
    else if (pr < 0) return ERR("presenting failed (VkResult %d)", (int)pr);
    return 0;
}

int win_present(win_t *w, const win_frame_t *f, char *err, size_t errsz)
{
    if (wait_idle_frame(w, err, errsz)) return -1;
    uint32_t idx = 0;
    int ar = acquire(w, &idx, err, errsz);
    if (ar) return ar;
    VkDeviceSize frame_bytes = (VkDeviceSize)f->width * f->height * 4;
    bool blend = f->strength < 1.0f && f->source;
    if (blend && win_blend_prepare(&w->blend, &w->v, f, err, errsz)) return -1;
    if (f->readback && win_buf_ensure(&w->v, &w->readback, frame_bytes, VK_BUFFER_USAGE_TRANSFER_DST_BIT, WIN_BUF_READBACK,
                                      err, errsz))
        return -1;
    bool direct = w->extent.width == f->width && w->extent.height == f->height;
    if (!direct && ensure_scaled(w, f->width, f->height, err, errsz)) return -1;
    if (record_frame(w, f, idx, blend, direct, err, errsz) || submit_present(w, idx, err, errsz)) return -1;
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
    if (w->v.vk.device) {
        w->v.vkDeviceWaitIdle(w->v.vk.device);
        destroy_swapchain(w, false);
        win_blend_destroy(&w->blend, &w->v);
        win_buf_free(&w->v, &w->readback);
        if (w->scaled) w->v.vkDestroyImage(w->v.vk.device, w->scaled, NULL);
        if (w->scaled_mem) w->v.vkFreeMemory(w->v.vk.device, w->scaled_mem, NULL);
        if (w->acquired) w->v.vkDestroySemaphore(w->v.vk.device, w->acquired, NULL);
        if (w->fence) w->v.vkDestroyFence(w->v.vk.device, w->fence, NULL);
        if (w->pool) w->v.vkDestroyCommandPool(w->v.vk.device, w->pool, NULL);
    }
    if (w->surface) w->v.vkDestroySurfaceKHR(w->v.vk.instance, w->surface, NULL);
    if (w->glfw) glfwDestroyWindow(w->glfw);
    free(w);
}
