/* V4L2 webcam capture with memory-mapped buffers; system calls through cap_sys_t. */
#include "errbuf.h"
#include "capture_v4l2.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/videodev2.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <unistd.h>

static int sys_open(const char *path, int flags) { return open(path, flags); }
static int sys_ioctl(int fd, unsigned long req, void *arg) { return ioctl(fd, req, arg); }
const cap_sys_t cap_sys_linux = {sys_open, close, sys_ioctl, mmap, munmap, poll};

#define MAX_BUFFERS 8

struct cap {
    const cap_sys_t *sys;
    char path[256];
    int fd;
    uint32_t w, h, fourcc, bpl, sizeimage;
    uint32_t nbuf;
    struct { void *p; size_t len; } buf[MAX_BUFFERS];
    bool streaming;
    cap_stats_t stats;
};


/* ioctl, retried on EINTR */
static int xioctl(const cap_sys_t *sys, int fd, unsigned long req, void *arg)
{
    int r;
    do r = sys->ioctl(fd, req, arg);
    while (r < 0 && errno == EINTR);
    return r;
}

const char *cap_fourcc_str(uint32_t f, char *buf)
{
    for (int i = 0; i < 4; i++) {
        char ch = (char)(f >> (8 * i) & 0xff);
        buf[i] = ch >= 32 && ch < 127 ? ch : '?';
    }
    buf[4] = 0;
    return buf;
}

static int open_device(const cap_sys_t *sys, const char *path, char *err, size_t errsz)
{
    int fd = sys->open(path, O_RDWR | O_NONBLOCK | O_CLOEXEC);
    if (fd >= 0) return fd;
    int e = errno;
    if (e == ENOENT)
        return ERR("%s: no camera there (see --list-sources; --source FILE stylizes a video file instead)", path);
    if (e == EACCES)
        return ERR("%s: permission denied (add your user to the 'video' group, then log in again)", path);
    if (e == EBUSY) return ERR("%s: the camera is in use by another program", path);
    return ERR("%s: cannot open: %s", path, strerror(e));
}

static uint32_t device_caps(const struct v4l2_capability *qc)
{
    return qc->capabilities & V4L2_CAP_DEVICE_CAPS ? qc->device_caps : qc->capabilities;
}

/* A capture device with streaming I/O. */
static int check_caps(cap_t *c, const char *path, char *err, size_t errsz)
{
    const cap_sys_t *sys = c->sys;
    struct v4l2_capability qc = {0};
    if (xioctl(sys, c->fd, VIDIOC_QUERYCAP, &qc) < 0) {
        ERR("%s: not a V4L2 device (%s)", path, strerror(errno));
        return -1;
    }
    uint32_t caps = device_caps(&qc);
    if (!(caps & V4L2_CAP_VIDEO_CAPTURE)) {
        ERR("%s (%.32s) does not capture video (a metadata or output node?); see --list-sources", path, qc.card);
        return -1;
    }
    if (!(caps & V4L2_CAP_STREAMING)) {
        ERR("%s (%.32s) has no streaming I/O, which vkstyle needs", path, qc.card);
        return -1;
    }

    return 0;
}

/* The format to ask for: the one asked for if offered, else YUYV up to 640x480 and MJPEG above
 * (what USB 2 cameras deliver at full frame rate). */
static int choose_format(cap_t *c, const char *path, const cap_options_t *o, uint32_t *out, char *err, size_t errsz)
{
    const cap_sys_t *sys = c->sys;
    bool has_yuyv = false, has_mjpeg = false;
    char offered[256] = "";
    for (uint32_t i = 0; i < 64; i++) {
        struct v4l2_fmtdesc fd = {.index = i, .type = V4L2_BUF_TYPE_VIDEO_CAPTURE};
        if (xioctl(sys, c->fd, VIDIOC_ENUM_FMT, &fd) < 0) break;
        has_yuyv |= fd.pixelformat == V4L2_PIX_FMT_YUYV;
        has_mjpeg |= fd.pixelformat == V4L2_PIX_FMT_MJPEG;
        char f4[5];
        size_t n = strlen(offered);
        snprintf(offered + n, sizeof offered - n, "%s%s", n ? ", " : "", cap_fourcc_str(fd.pixelformat, f4));
    }
    uint32_t want = o->fourcc;
    if (want && !((want == CAP_YUYV && has_yuyv) || (want == CAP_MJPEG && has_mjpeg))) {
        char f4[5];
        ERR("%s does not offer %s (it offers: %s)", path, cap_fourcc_str(want, f4), *offered ? offered : "nothing");
        return -1;
    }
    if (!want) {
        bool big = (uint64_t)o->width * o->height > 640u * 480u;
        want = has_yuyv && (!big || !has_mjpeg) ? CAP_YUYV : has_mjpeg ? CAP_MJPEG : 0;
    }
    if (!want) {
        ERR("%s offers no format vkstyle reads (YUYV or MJPEG); it offers: %s", path, *offered ? offered : "nothing");
        return -1;
    }

    *out = want;
    return 0;
}

/* Set the format and take what the driver gave (its size may differ from the one asked for). */
static int set_format(cap_t *c, const char *path, const cap_options_t *o, uint32_t want, char *err, size_t errsz)
{
    const cap_sys_t *sys = c->sys;
    struct v4l2_format fmt = {.type = V4L2_BUF_TYPE_VIDEO_CAPTURE};
    fmt.fmt.pix.width = o->width;
    fmt.fmt.pix.height = o->height;
    fmt.fmt.pix.pixelformat = want;
    fmt.fmt.pix.field = V4L2_FIELD_NONE;
    if (xioctl(sys, c->fd, VIDIOC_S_FMT, &fmt) < 0) {
        ERR("%s: setting the format failed: %s%s", path, strerror(errno), errno == EBUSY ? " (camera in use?)" : "");
        return -1;
    }
    struct v4l2_pix_format *px = &fmt.fmt.pix;
    if (px->pixelformat != want || !px->width || !px->height) {
        char a[5], b[5];
        ERR("%s: asked for %s, the driver gave %s %ux%u", path, cap_fourcc_str(want, a), cap_fourcc_str(px->pixelformat, b),
            px->width, px->height);
        return -1;
    }
    c->w = px->width;
    c->h = px->height;
    c->fourcc = px->pixelformat;
    c->bpl = px->bytesperline;
    c->sizeimage = px->sizeimage;
    if (c->fourcc == CAP_YUYV) {
        if (c->bpl < c->w * 2) c->bpl = c->w * 2;
        if (c->w % 2) {
            ERR("%s: the driver chose an odd YUYV width (%u)", path, c->w);
            return -1;
        }
    }

    return 0;
}

/* The driver's buffers, mapped and queued. */
static int map_buffers(cap_t *c, const char *path, const cap_options_t *o, char *err, size_t errsz)
{
    const cap_sys_t *sys = c->sys;
    struct v4l2_requestbuffers rb = {.count = o->buffers, .type = V4L2_BUF_TYPE_VIDEO_CAPTURE, .memory = V4L2_MEMORY_MMAP};
    if (xioctl(sys, c->fd, VIDIOC_REQBUFS, &rb) < 0) {
        ERR("%s: cannot get capture buffers: %s", path, strerror(errno));
        return -1;
    }
    if (rb.count < 2) {
        ERR("%s: the driver gave %u capture buffer%s; 2 are needed", path, rb.count, rb.count == 1 ? "" : "s");
        return -1;
    }
    c->nbuf = rb.count > MAX_BUFFERS ? MAX_BUFFERS : rb.count;
    for (uint32_t i = 0; i < c->nbuf; i++) {
        struct v4l2_buffer b = {.index = i, .type = V4L2_BUF_TYPE_VIDEO_CAPTURE, .memory = V4L2_MEMORY_MMAP};
        if (xioctl(sys, c->fd, VIDIOC_QUERYBUF, &b) < 0) {
            ERR("%s: querying buffer %u failed: %s", path, i, strerror(errno));
            return -1;
        }
        void *p = sys->mmap(NULL, b.length, PROT_READ | PROT_WRITE, MAP_SHARED, c->fd, (off_t)b.m.offset);
        if (p == MAP_FAILED) {
            ERR("%s: mapping buffer %u failed: %s", path, i, strerror(errno));
            return -1;
        }
        c->buf[i].p = p;
        c->buf[i].len = b.length;
        if (xioctl(sys, c->fd, VIDIOC_QBUF, &b) < 0) {
            ERR("%s: queueing buffer %u failed: %s", path, i, strerror(errno));
            return -1;
        }
    }
    return 0;
}

int cap_open(const cap_sys_t *sys, const char *path, const cap_options_t *opts, cap_t **out, char *err, size_t errsz)
{
    *out = NULL;
    cap_options_t o = opts ? *opts : (cap_options_t){0};
    if (!o.width || !o.height) { o.width = 640; o.height = 480; }
    if (!o.buffers) o.buffers = 4;
    if (o.buffers < 2) o.buffers = 2;
    if (o.buffers > MAX_BUFFERS) o.buffers = MAX_BUFFERS;
    cap_t *c = calloc(1, sizeof *c);
    if (!c) return ERR("out of memory");
    c->sys = sys;
    c->fd = -1;
    snprintf(c->path, sizeof c->path, "%s", path);
    if ((c->fd = open_device(sys, path, err, errsz)) < 0) goto fail;
    uint32_t want = 0;

    if (check_caps(c, path, err, errsz) || choose_format(c, path, &o, &want, err, errsz) ||
        set_format(c, path, &o, want, err, errsz) || map_buffers(c, path, &o, err, errsz))
        goto fail;
    enum v4l2_buf_type type = V4L2_BUF_TYPE_VIDEO_CAPTURE;
    if (xioctl(sys, c->fd, VIDIOC_STREAMON, &type) < 0) {
        ERR("%s: starting the stream failed: %s", path, strerror(errno));
        goto fail;
    }
    c->streaming = true;
    *out = c;
    return 0;
fail:
    cap_close(c);
    return -1;
}

void cap_format(const cap_t *c, uint32_t *w, uint32_t *h, uint32_t *fourcc, uint32_t *bpl)
{
    if (w) *w = c->w;
    if (h) *h = c->h;
    if (fourcc) *fourcc = c->fourcc;
    if (bpl) *bpl = c->bpl;
}

static void requeue(cap_t *c, uint32_t index)
{
    struct v4l2_buffer b = {.index = index, .type = V4L2_BUF_TYPE_VIDEO_CAPTURE, .memory = V4L2_MEMORY_MMAP};
    xioctl(c->sys, c->fd, VIDIOC_QBUF, &b);
}

/* A frame worth showing: complete YUYV, or data that starts like a JPEG. */
static bool frame_ok(const cap_t *c, const struct v4l2_buffer *b)
{
    if (b->index >= c->nbuf || b->bytesused > c->buf[b->index].len) return false;
    const uint8_t *p = c->buf[b->index].p;
    if (c->fourcc == CAP_YUYV) return b->bytesused >= (uint64_t)c->bpl * (c->h - 1) + c->w * 2;
    return b->bytesused >= 128 && p[0] == 0xff && p[1] == 0xd8;
}

cap_result_t cap_grab(cap_t *c, int timeout_ms, cap_frame_t *f, char *err, size_t errsz)
{
    struct pollfd pfd = {.fd = c->fd, .events = POLLIN};
    int r = c->sys->poll(&pfd, 1, timeout_ms);
    if (r < 0) {
        if (errno == EINTR) return CAP_NONE;
        ERR("%s: waiting for frames failed: %s", c->path, strerror(errno));
        return CAP_ERROR;
    }
    if (r == 0) {
        c->stats.again++;
        return CAP_NONE;
    }
    bool have = false;
    struct v4l2_buffer newest = {0};
    for (;;) {
        struct v4l2_buffer b = {.type = V4L2_BUF_TYPE_VIDEO_CAPTURE, .memory = V4L2_MEMORY_MMAP};
        if (c->sys->ioctl(c->fd, VIDIOC_DQBUF, &b) < 0) {
            int e = errno;
            if (e == EINTR) continue;
            if (e == EAGAIN) {
                if (!have) c->stats.again++;
                break;
            }
            if (have) requeue(c, newest.index);
            if (e == ENODEV || e == ENXIO)
                ERR("%s: the camera was unplugged (or stopped answering)", c->path);
            else
                ERR("%s: reading a frame failed: %s", c->path, strerror(e));
            return CAP_ERROR;
        }
        if (b.flags & V4L2_BUF_FLAG_ERROR) {
            c->stats.dropped_error++;
            requeue(c, b.index);
            continue;
        }
        if (!frame_ok(c, &b)) {
            c->stats.dropped_short++;
            requeue(c, b.index);
            continue;
        }
        if (have) {
            c->stats.dropped_old++;
            requeue(c, newest.index);
        }
        newest = b;
        have = true;
    }
    if (!have) return CAP_NONE;
    c->stats.frames++;
    f->data = c->buf[newest.index].p;
    f->bytes = newest.bytesused;
    f->sequence = newest.sequence;
    f->index = (int)newest.index;
    return CAP_FRAME;
}

void cap_release(cap_t *c, const cap_frame_t *f)
{
    if (f->index >= 0 && (uint32_t)f->index < c->nbuf) requeue(c, (uint32_t)f->index);
}

void cap_stats(const cap_t *c, cap_stats_t *s) { *s = c->stats; }

void cap_close(cap_t *c)
{
    if (!c) return;
    if (c->streaming) {
        enum v4l2_buf_type type = V4L2_BUF_TYPE_VIDEO_CAPTURE;
        xioctl(c->sys, c->fd, VIDIOC_STREAMOFF, &type);
    }
    for (uint32_t i = 0; i < c->nbuf; i++)
        if (c->buf[i].p) c->sys->munmap(c->buf[i].p, c->buf[i].len);
    if (c->fd >= 0) {
        if (c->nbuf) {
            struct v4l2_requestbuffers rb = {.count = 0, .type = V4L2_BUF_TYPE_VIDEO_CAPTURE, .memory = V4L2_MEMORY_MMAP};
            xioctl(c->sys, c->fd, VIDIOC_REQBUFS, &rb);
        }
        c->sys->close(c->fd);
    }
    free(c);
}

static void list_sizes(const cap_sys_t *sys, int fd, uint32_t fourcc, FILE *out)
{
    for (uint32_t i = 0; i < 64; i++) {
        struct v4l2_frmsizeenum fs = {.index = i, .pixel_format = fourcc};
        if (xioctl(sys, fd, VIDIOC_ENUM_FRAMESIZES, &fs) < 0) {
            if (i == 0) fprintf(out, " (sizes not listed)");
            break;
        }
        if (fs.type == V4L2_FRMSIZE_TYPE_DISCRETE) {
            fprintf(out, " %ux%u", fs.discrete.width, fs.discrete.height);
        } else {
            fprintf(out, " %ux%u..%ux%u", fs.stepwise.min_width, fs.stepwise.min_height, fs.stepwise.max_width,
                    fs.stepwise.max_height);
            break;
        }
    }
}

int cap_list(const cap_sys_t *sys, FILE *out)
{
    int found = 0;
    for (int n = 0; n < 64; n++) {
        char path[32];
        snprintf(path, sizeof path, "/dev/video%d", n);
        int fd = sys->open(path, O_RDWR | O_NONBLOCK | O_CLOEXEC);
        if (fd < 0) {
            if (errno != ENOENT) fprintf(out, "%s: cannot open: %s\n", path, strerror(errno));
            continue;
        }
        struct v4l2_capability qc = {0};
        if (xioctl(sys, fd, VIDIOC_QUERYCAP, &qc) < 0 || !(device_caps(&qc) & V4L2_CAP_VIDEO_CAPTURE)) {
            sys->close(fd);
            continue;
        }
        found++;
        fprintf(out, "%s: %.32s (%.16s, %.32s)\n", path, qc.card, qc.driver, qc.bus_info);
        for (uint32_t i = 0; i < 64; i++) {
            struct v4l2_fmtdesc fd2 = {.index = i, .type = V4L2_BUF_TYPE_VIDEO_CAPTURE};
            if (xioctl(sys, fd, VIDIOC_ENUM_FMT, &fd2) < 0) break;
            char f4[5];
            bool usable = fd2.pixelformat == V4L2_PIX_FMT_YUYV || fd2.pixelformat == V4L2_PIX_FMT_MJPEG;
            fprintf(out, "  %s %-24.32s%s", cap_fourcc_str(fd2.pixelformat, f4), fd2.description, usable ? "" : " (not used)");
            list_sizes(sys, fd, fd2.pixelformat, out);
            fputc('\n', out);
        }
        sys->close(fd);
    }
    if (!found) fprintf(out, "no cameras found (/dev/video*); vkstyle live --source FILE plays a video file instead\n");
    return found;
}
