/* Error reporting inside the engine: a thread-local message and the status code. */
#ifndef VKS_ERROR_H
#define VKS_ERROR_H

#include "vkstyle/vkstyle.h"
#include <volk.h>

/* Record a failure message for vks_last_error(). */
void vks_error_set(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* vks_fail(status, fmt, ...): record the message and be status. The status is the macro's value
 * rather than a variadic function's return, so that a static analyzer (which does not follow
 * variadic calls) sees every failure path return its error; where the value is not used, call
 * vks_error_set. */
#define vks_fail(status, ...) (vks_error_set(__VA_ARGS__), (vks_status_t)(status))
/* Prefix the current message with "what: " (to add context on the way up). */
void vks_error_prefix(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* Clear the message. */
void vks_error_clear(void);
/* Name of a VkResult ("VK_ERROR_DEVICE_LOST"). */
const char *vks_vkresult_str(VkResult r);
/* The status of a failed VkResult (r < 0). */
static inline vks_status_t vks_vk_status(VkResult r)
{
    return r == VK_ERROR_OUT_OF_HOST_MEMORY     ? VKS_ERR_OUT_OF_HOST_MEMORY
           : r == VK_ERROR_OUT_OF_DEVICE_MEMORY ? VKS_ERR_OUT_OF_DEVICE_MEMORY
           : r == VK_ERROR_DEVICE_LOST          ? VKS_ERR_DEVICE_LOST
                                                : VKS_ERR_VULKAN;
}
/* Records "file:line: call: VK_..." as the message. */
void vks_vk_error(VkResult r, const char *call, const char *file, int line);
/* vks_vk_fail(r, call, file, line): the message, and r's status (as vks_fail, in the macro; r is
 * read twice: pass a variable). */
#define vks_vk_fail(r, call, file, line) (vks_vk_error(r, call, file, line), vks_vk_status(r))

/* Always-on check for Vulkan calls: on failure sets `st`, records file:line and the call, and
 * jumps to `fail`. Requires a local `vks_status_t st` and a `fail:` label. */
#define VKS_VK(call)                                                        \
    do {                                                                    \
        VkResult vks_r_ = (call);                                           \
        if (vks_r_ < 0) {                                                   \
            st = vks_vk_fail(vks_r_, #call, __FILE__, __LINE__);            \
            goto fail;                                                      \
        }                                                                   \
    } while (0)

/* VKS_VK for a vkCreate* whose new handle `handle` the fail path destroys: a failed command's
 * output parameters are undefined (Vulkan's "Return Codes"), so the handle is reset first. */
#define VKS_VK_NEW(call, handle)                                            \
    do {                                                                    \
        VkResult vks_r_ = (call);                                           \
        if (vks_r_ < 0) {                                                   \
            (handle) = VK_NULL_HANDLE;                                      \
            st = vks_vk_fail(vks_r_, #call, __FILE__, __LINE__);            \
            goto fail;                                                      \
        }                                                                   \
    } while (0)

/* Propagate a vks_status_t: on failure store it in `st` and jump to `fail`. */
#define VKS_TRY(expr)                                                       \
    do {                                                                    \
        st = (expr);                                                        \
        if (st != VKS_OK) goto fail;                                        \
    } while (0)

#endif
