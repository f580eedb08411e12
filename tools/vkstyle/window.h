/* A GLFW window with a Vulkan swapchain on the engine's device, for vkstyle live.
 *
 * Frames are presented straight from GPU memory: the session's output buffer is copied into
 * the swapchain image with vkCmdCopyBufferToImage (through an image of the frame's size and a
 * scaling blit when the window has another size), on the engine's queue, without a read-back.
 * A strength below 1 blends the stylized frame with the source frame in a small compute
 * shader first (the source frame goes up once more; nothing comes back).
 *
 * All calls from one thread (the one that runs the engine session).
 */
#ifndef VKSTYLE_TOOLS_WINDOW_H
#define VKSTYLE_TOOLS_WINDOW_H

#include <vulkan/vulkan.h>   /* types only: window.c loads its commands through vkstyle_vulkan.h */
#define GLFW_INCLUDE_NONE
#include <GLFW/glfw3.h>

#include "vkstyle/vkstyle.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef struct win win_t;

/* Start GLFW for a Vulkan window and give the instance extensions the context needs. Fails
 * with a message that says what to do when there is no display or no Vulkan loader. */
int win_init(const char *const **exts, uint32_t *count, char *err, size_t errsz);
void win_terminate(void);

/* Open a w x h window with a swapchain on the context's device (created with those instance
 * extensions and swapchain = 1). Fails when the device cannot present to it. */
int win_create(vks_context_t *ctx, const char *title, uint32_t w, uint32_t h, win_t **out, char *err, size_t errsz);
/* The layout of the swapchain's pixels: VKS_PIXELS_BGRA8 or VKS_PIXELS_RGBA8 (make the session
 * write that). */
vks_pixel_format_t win_pixel_format(const win_t *w);
GLFWwindow *win_glfw(const win_t *w);
/* A pointer for the caller's GLFW callbacks (the GLFW user pointer belongs to window.c). */
void win_set_user(win_t *w, void *user);
void *win_user(GLFWwindow *g);
void win_set_fullscreen(win_t *w, bool on);
bool win_fullscreen(const win_t *w);

typedef struct win_frame {
    VkBuffer buffer;            /* the stylized frame: width*height*4 bytes in win_pixel_format */
    VkDeviceSize offset;
    uint32_t width, height;
    float strength;             /* < 1: blend with the source frame (on the GPU) */
    const void *source;         /* the frame the session stylized, in source_format */
    vks_pixel_format_t source_format;
    uint8_t *readback;          /* not NULL: receives the presented frame as RGBA, width*height*4 */
} win_frame_t;

/* Show a frame. Returns 0 when presented, 1 when there was nothing to present to (minimized
 * window, image not ready), -1 on failure. */
int win_present(win_t *w, const win_frame_t *f, char *err, size_t errsz);
void win_destroy(win_t *w);

#endif
