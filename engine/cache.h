/* Cache files on disk: the context's pipeline cache (cache.c) and vkstyle bench's measured peaks
 * (tools/vkstyle/cmd_bench.c) live in one directory and are read and written the same way. */
#ifndef VKS_CACHE_H
#define VKS_CACHE_H

#include "vkstyle/vkstyle.h"

#include <stddef.h>

/* out = DIR/name, DIR being dir when not NULL, else $XDG_CACHE_HOME/vkstyle, else
 * $HOME/.cache/vkstyle. VKS_ERR_IO when there is no such directory to name (dir "" or neither
 * variable set) or the path does not fit size bytes. */
vks_status_t vks_cache_path(const char *dir, const char *name, char *out, size_t size);
/* The whole file at path, if it is a regular file of at most max bytes (a FIFO, device or
 * directory is refused without blocking): *data malloc'd (free() it), *size its bytes.
 * VKS_ERR_IO otherwise, with the reason. */
vks_status_t vks_cache_read(const char *path, size_t max, void **data, size_t *size);
/* Write size bytes to path whole or not at all: the directory is created if need be, the bytes
 * go to a temporary file next to path ("<dir>/.<base>.tmp-<pid>-<n>", created exclusively),
 * which is flushed to disk and renamed over path; on failure it is removed and path is left as
 * it was. An existing path that is not a regular file is refused. */
vks_status_t vks_cache_write(const char *path, const void *data, size_t size);
/* FNV-1a over size bytes, going on from h (VKS_FNV_BASIS to start): what the cache files' keys
 * hash (the tuner's shaders field, the name of bench's peaks file). */
#define VKS_FNV_BASIS 2166136261u
uint32_t vks_fnv1a(uint32_t h, const void *data, size_t size);

#endif
