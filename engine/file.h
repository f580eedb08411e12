/* Reading files the engine is pointed at (models, the pipeline cache). */
#ifndef VKS_FILE_H
#define VKS_FILE_H

#include "vkstyle/vkstyle.h"

#include <stddef.h>
#include <stdint.h>

/* Open path for reading if it is a regular file, and give its size. A directory, FIFO, device
 * or socket is refused at once (the open does not block on a FIFO without a writer): the
 * message says "PATH: is a directory" or "PATH: not a regular file". Close *fd when done. */
vks_status_t vks_file_open_regular(const char *path, int *fd, uint64_t *size);
/* Read exactly n bytes from fd (VKS_ERR_IO "PATH: read failed: ..." otherwise). */
vks_status_t vks_file_read_exact(int fd, const char *path, void *buf, size_t n);

#endif
