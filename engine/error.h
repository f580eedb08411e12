/* Error reporting inside the engine: a thread-local message and the status code. */
#ifndef VKS_ERROR_H
#define VKS_ERROR_H

#include "vkstyle/vkstyle.h"
#include <volk.h>

/* Record a failure message for vks_last_error() and return status. */
vks_status_t vks_fail(vks_status_t status, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
/* Prefix the current message with "what: " (to add context on the way up). */
void vks_error_prefix(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* Clear the message. */
void vks_error_clear(void);
/* Name of a VkResult ("VK_ERROR_DEVICE_LOST"). */
const char *vks_vkresult_str(VkResult r);
/* Map a VkResult to a status, recording "file:line: call: VK_..." as the message. */
vks_status_t vks_vk_fail(VkResult r, const char *call, const char *file, int line);

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

/* Propagate a vks_status_t: on failure store it in `st` and jump to `fail`. */
#define VKS_TRY(expr)                                                       \
    do {                                                                    \
        st = (expr);                                                        \
        if (st != VKS_OK) goto fail;                                        \
    } while (0)

#endif
