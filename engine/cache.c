/* Cache files on disk (cache.h), and the context's VkPipelineCache kept in one:
 * <cache dir>/<vendor>-<device>-<pipeline cache UUID>.bin. */
#include "cache.h"

#include "engine.h"
#include "file.h"

#include <errno.h>
#include <fcntl.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

vks_status_t vks_cache_path(const char *dir, const char *name, char *out, size_t size)
{
    const char *xdg = getenv("XDG_CACHE_HOME"), *home = getenv("HOME");
    int n;
    if (size) out[0] = 0;
    if (dir && !*dir) return vks_fail(VKS_ERR_IO, "the disk cache is off");
    if (dir) n = snprintf(out, size, "%s/%s", dir, name);
    else if (xdg && *xdg) n = snprintf(out, size, "%s/vkstyle/%s", xdg, name);
    else if (home && *home) n = snprintf(out, size, "%s/.cache/vkstyle/%s", home, name);
    else return vks_fail(VKS_ERR_IO, "no cache directory: neither XDG_CACHE_HOME nor HOME is set");
    if (n < 0 || (size_t)n >= size) {
        if (size) out[0] = 0;
        return vks_fail(VKS_ERR_IO, "cache path too long");
    }
    return VKS_OK;
}

vks_status_t vks_cache_read(const char *path, size_t max, void **data, size_t *size)
{
    *data = NULL;
    *size = 0;
    int fd;
    uint64_t n;
    /* only a regular file: a FIFO put there would block the open forever */
    vks_status_t st = vks_file_open_regular(path, &fd, &n);
    if (st) return st;
    void *buf = NULL;
    if (n > max) st = vks_fail(VKS_ERR_IO, "%s: larger than a cache file may be (%llu bytes)", path, (unsigned long long)n);
    else if (!(buf = malloc(n ? (size_t)n : 1))) st = vks_fail(VKS_ERR_OUT_OF_HOST_MEMORY, "out of host memory");
    else st = vks_file_read_exact(fd, path, buf, (size_t)n);
    close(fd);
    if (st) {
        free(buf);
        return st;
    }
    *data = buf;
    *size = (size_t)n;
    return VKS_OK;
}

/* mkdir -p of the directory part of path */
static vks_status_t make_parent_dirs(const char *path)
{
    char tmp[4096];
    if (snprintf(tmp, sizeof tmp, "%s", path) >= (int)sizeof tmp) return vks_fail(VKS_ERR_IO, "%s: path too long", path);
    char *slash = strrchr(tmp, '/');
    if (!slash || slash == tmp) return VKS_OK;
    *slash = 0;
    for (char *p = tmp + 1; ; p++) {
        if (*p == '/' || *p == 0) {
            char c = *p;
            *p = 0;
            if (mkdir(tmp, 0755) != 0 && errno != EEXIST)
                return vks_fail(VKS_ERR_IO, "%s: cannot create directory %s: %s", path, tmp, strerror(errno));
            *p = c;
            if (!c) break;
        }
    }
    return VKS_OK;
}

vks_status_t vks_cache_write(const char *path, const void *data, size_t size)
{
    static atomic_uint counter;
    struct stat sb;
    if (stat(path, &sb) == 0 && !S_ISREG(sb.st_mode))
        return vks_fail(VKS_ERR_IO, "%s: cannot write: %s", path, S_ISDIR(sb.st_mode) ? "is a directory" : "not a regular file");
    vks_status_t st = make_parent_dirs(path);
    if (st) return st;
    /* the temporary file next to path, so that the rename stays in one file system */
    const char *slash = strrchr(path, '/');
    int dirlen = slash ? (int)(slash - path) + 1 : 0;
    char tmp[4200];
    int fd = -1;
    for (int attempt = 0; attempt < 100 && fd < 0; attempt++) {
        if (snprintf(tmp, sizeof tmp, "%.*s.%s.tmp-%ld-%u", dirlen, path, path + dirlen, (long)getpid(),
                     atomic_fetch_add(&counter, 1u)) >= (int)sizeof tmp)
            return vks_fail(VKS_ERR_IO, "%s: path too long", path);
        fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
        if (fd < 0 && errno != EEXIST) break;
    }
    if (fd < 0) return vks_fail(VKS_ERR_IO, "%s: cannot write: %s", path, strerror(errno));
    size_t done = 0;
    int err = 0;
    while (done < size && !err) {
        ssize_t w = write(fd, (const char *)data + done, size - done);
        if (w < 0 && errno == EINTR) continue;
        if (w <= 0) err = w < 0 ? errno : EIO;
        else done += (size_t)w;
    }
    if (!err && fsync(fd) != 0) err = errno;
    if (close(fd) != 0 && !err) err = errno;
    if (err) {
        unlink(tmp);
        return vks_fail(VKS_ERR_IO, "%s: write failed: %s", path, strerror(err));
    }
    if (rename(tmp, path) != 0) {
        err = errno;
        unlink(tmp);
        return vks_fail(VKS_ERR_IO, "%s: cannot replace: %s", path, strerror(err));
    }
    return VKS_OK;
}

/* ---- the pipeline cache */

/* The file's data if its header matches this device exactly (else NULL: start empty). */
static void *read_pipeline_cache(vks_context_t *ctx, size_t *size)
{
    void *buf = NULL;
    size_t n = 0;
    *size = 0;
    if (!ctx->cache_path[0]) return NULL;
    if (vks_cache_read(ctx->cache_path, 256u << 20, &buf, &n) == VKS_OK && n >= 32) {
        const uint8_t *h = buf;
        uint32_t hlen, ver, vendor, device;
        memcpy(&hlen, h, 4); memcpy(&ver, h + 4, 4); memcpy(&vendor, h + 8, 4); memcpy(&device, h + 12, 4);
        if (hlen >= 32 && hlen <= n && ver == VK_PIPELINE_CACHE_HEADER_VERSION_ONE &&
            vendor == ctx->props.vendorID && device == ctx->props.deviceID &&
            !memcmp(h + 16, ctx->props.pipelineCacheUUID, VK_UUID_SIZE)) {
            *size = n;
            return buf;
        }
    }
    /* absent, unreadable or of another device: not an error, the cache starts empty */
    free(buf);
    vks_error_clear();
    return NULL;
}

vks_status_t vks_pipeline_cache_create(vks_context_t *ctx, const char *dir)
{
    char uuid[2 * VK_UUID_SIZE + 1], name[128];
    for (unsigned i = 0; i < VK_UUID_SIZE; i++) sprintf(uuid + 2 * i, "%02x", ctx->props.pipelineCacheUUID[i]);
    snprintf(name, sizeof name, "%04x-%04x-%s.bin", ctx->props.vendorID, ctx->props.deviceID, uuid);
    if (vks_cache_path(dir, name, ctx->cache_path, sizeof ctx->cache_path)) {
        ctx->cache_path[0] = 0;   /* no disk cache: off, or nowhere to put it */
        vks_error_clear();
    }
    size_t size;
    void *data = read_pipeline_cache(ctx, &size);
    VkPipelineCacheCreateInfo ci = {
        .sType = VK_STRUCTURE_TYPE_PIPELINE_CACHE_CREATE_INFO,
        .initialDataSize = size,
        .pInitialData = data,
    };
    VkResult r = ctx->vk.vkCreatePipelineCache(ctx->device, &ci, NULL, &ctx->pcache);
    free(data);
    return r < 0 ? vks_vk_fail(r, "vkCreatePipelineCache", __FILE__, __LINE__) : VKS_OK;
}

void vks_pipeline_cache_destroy(vks_context_t *ctx)
{
    if (!ctx->pcache) return;
    size_t n = 0;
    void *buf = NULL;
    /* saving is best effort: a cache that cannot be written costs the next start its compiles */
    if (ctx->cache_path[0] && ctx->vk.vkGetPipelineCacheData(ctx->device, ctx->pcache, &n, NULL) == VK_SUCCESS && n &&
        (buf = malloc(n)) && ctx->vk.vkGetPipelineCacheData(ctx->device, ctx->pcache, &n, buf) == VK_SUCCESS)
        vks_cache_write(ctx->cache_path, buf, n);
    free(buf);
    ctx->vk.vkDestroyPipelineCache(ctx->device, ctx->pcache, NULL);
    ctx->pcache = VK_NULL_HANDLE;
}

uint32_t vks_fnv1a(uint32_t h, const void *data, size_t size)
{
    const unsigned char *p = data;
    for (size_t i = 0; i < size; i++) h = (h ^ p[i]) * 16777619u;
    return h;
}
