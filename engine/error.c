#include "error.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

static _Thread_local char g_msg[1024];

static const char *const g_status_str[] = {
#define VKS_X_STR(name, msg) msg,
    VKS_STATUS_LIST(VKS_X_STR)
#undef VKS_X_STR
};

const char *vks_status_str(vks_status_t status)
{
    if ((unsigned)status >= VKS_STATUS_COUNT) return "unknown status";
    return g_status_str[status];
}

const char *vks_last_error(void) { return g_msg; }

void vks_error_clear(void) { g_msg[0] = 0; }

void vks_escape_controls(char *dst, size_t dstsz, const char *src)
{
    if (!dst || !dstsz) return;
    size_t n = 0;
    for (const unsigned char *p = (const unsigned char *)(src ? src : ""); *p; p++) {
        char esc[8];
        const char *out = NULL;
        if (*p == '\n') out = "\\n";
        else if (*p == '\r') out = "\\r";
        else if (*p == '\t') out = "\\t";
        else if (*p < 0x20 || *p == 0x7f) snprintf(esc, sizeof esc, "\\x%02x", *p), out = esc;
        else if (*p == 0xc2 && p[1] >= 0x80 && p[1] <= 0x9f) snprintf(esc, sizeof esc, "\\u%04x", p[1]), out = esc, p++;
        size_t len = out ? strlen(out) : 1;
        if (n + len >= dstsz) break;
        if (out) memcpy(dst + n, out, len);
        else dst[n] = (char)*p;
        n += len;
    }
    dst[n] = 0;
}

void vks_error_set(const char *fmt, ...)
{
    char raw[sizeof g_msg];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(raw, sizeof raw, fmt, ap);
    va_end(ap);
    vks_escape_controls(g_msg, sizeof g_msg, raw);
}

void vks_error_prefix(const char *fmt, ...)
{
    char prefix[512], raw[sizeof g_msg + sizeof prefix];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(prefix, sizeof prefix, fmt, ap);
    va_end(ap);
    snprintf(raw, sizeof raw, "%s: %s", prefix, g_msg);
    vks_escape_controls(g_msg, sizeof g_msg, raw);
}

const char *vks_vkresult_str(VkResult r)
{
    switch (r) {
#define R(x) case x: return #x;
        R(VK_SUCCESS) R(VK_NOT_READY) R(VK_TIMEOUT) R(VK_EVENT_SET) R(VK_EVENT_RESET)
        R(VK_INCOMPLETE) R(VK_ERROR_OUT_OF_HOST_MEMORY) R(VK_ERROR_OUT_OF_DEVICE_MEMORY)
        R(VK_ERROR_INITIALIZATION_FAILED) R(VK_ERROR_DEVICE_LOST) R(VK_ERROR_MEMORY_MAP_FAILED)
        R(VK_ERROR_LAYER_NOT_PRESENT) R(VK_ERROR_EXTENSION_NOT_PRESENT)
        R(VK_ERROR_FEATURE_NOT_PRESENT) R(VK_ERROR_INCOMPATIBLE_DRIVER)
        R(VK_ERROR_TOO_MANY_OBJECTS) R(VK_ERROR_FORMAT_NOT_SUPPORTED) R(VK_ERROR_FRAGMENTED_POOL)
        R(VK_ERROR_OUT_OF_POOL_MEMORY) R(VK_ERROR_SURFACE_LOST_KHR)
        R(VK_ERROR_NATIVE_WINDOW_IN_USE_KHR) R(VK_SUBOPTIMAL_KHR) R(VK_ERROR_OUT_OF_DATE_KHR)
        R(VK_PIPELINE_COMPILE_REQUIRED)
#undef R
    default: return "VK_ERROR_UNKNOWN";
    }
}

void vks_vk_error(VkResult r, const char *call, const char *file, int line)
{
    const char *base = strrchr(file, '/');
    /* "ctx->vk.vkCreateBuffer(...)" reads as "vkCreateBuffer(...)": the table is no news */
    const char *paren = strchr(call, '('), *fn = strstr(call, ".vk");
    if (fn && paren && fn < paren) call = fn + 1;
    vks_error_set("%s:%d: %s: %s", base ? base + 1 : file, line, call, vks_vkresult_str(r));
}
