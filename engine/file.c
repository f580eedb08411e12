/* Reading files the engine is pointed at (see file.h). */
#include "file.h"

#include "error.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

vks_status_t vks_file_open_regular(const char *path, int *fd, uint64_t *size)
{
    *fd = -1;
    *size = 0;
    /* O_NONBLOCK: opening a FIFO for reading would otherwise wait for a writer forever */
    int f = open(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC);
    if (f < 0) return vks_fail(VKS_ERR_IO, "%s: %s", path, strerror(errno));
    struct stat st;
    if (fstat(f, &st) != 0) {
        int e = errno;
        close(f);
        return vks_fail(VKS_ERR_IO, "%s: %s", path, strerror(e));
    }
    if (!S_ISREG(st.st_mode)) {
        close(f);
        return vks_fail(VKS_ERR_IO, "%s: %s", path, S_ISDIR(st.st_mode) ? "is a directory" : "not a regular file");
    }
    /* reads block as usual from here on */
    int fl = fcntl(f, F_GETFL);
    if (fl != -1) fcntl(f, F_SETFL, fl & ~O_NONBLOCK);
    *fd = f;
    *size = (uint64_t)st.st_size;
    return VKS_OK;
}

vks_status_t vks_file_read_exact(int fd, const char *path, void *buf, size_t n)
{
    size_t got = 0;
    while (got < n) {
        ssize_t r = read(fd, (char *)buf + got, n - got);
        if (r < 0 && errno == EINTR) continue;
        if (r < 0) return vks_fail(VKS_ERR_IO, "%s: read failed: %s", path, strerror(errno));
        if (r == 0) return vks_fail(VKS_ERR_IO, "%s: read failed: the file is shorter than its size (%zu of %zu bytes)", path, got, n);
        got += (size_t)r;
    }
    return VKS_OK;
}
