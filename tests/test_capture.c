/* The V4L2 capture path against an in-process fake camera (no kernel module, no device):
 * QUERYCAP, ENUM_FMT, ENUM_FRAMESIZES, S_FMT (adjusting the size as drivers do), REQBUFS
 * (granting fewer buffers than asked), QUERYBUF/mmap on memfd buffers, QBUF/DQBUF,
 * STREAMON/OFF, with recorded YUYV and MJPEG frames (tests/data/cam_64x48.*, made with FFmpeg
 * from a still of the sample clip), and injected EAGAIN, short frames, error-flagged frames and
 * ENODEV (unplugged mid-stream). Also MJPEG decoding against stb's decoder, with and without
 * Huffman tables, and damaged frames. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "capture_v4l2.h"
#include "image_io.h"
#include "mjpeg.h"

#include <errno.h>
#include <linux/videodev2.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#define FAKE_FD 4242
#define FAKE_W 64
#define FAKE_H 48

typedef struct {
    uint8_t *data;
    size_t size;
} blob_t;

static blob_t load(const char *name)
{
    char path[1024];
    snprintf(path, sizeof path, "%s/tests/data/%s", VKS_SOURCE_DIR, name);
    FILE *f = fopen(path, "rb");
    if (!f) fail_msg("cannot open %s", path);
    blob_t b = {0};
    fseek(f, 0, SEEK_END);
    b.size = (size_t)ftell(f);
    fseek(f, 0, SEEK_SET);
    b.data = malloc(b.size);
    assert_int_equal(fread(b.data, 1, b.size, f), b.size);
    fclose(f);
    return b;
}

/* ------------------------------------------------------------------ the fake camera */

static struct fake {
    bool open, streaming, capture_cap;
    uint32_t formats[4];
    int nformats;
    uint32_t fourcc, bpl, sizeimage;
    int memfd;
    uint8_t *map;          /* the test's own view of all buffers */
    size_t buflen, stride; /* stride: page-rounded buflen */
    uint32_t nbuf, max_buffers;
    int queue[8], nq;      /* queued by the app, in order */
    int done[8], nd;       /* filled by the "sensor", waiting for DQBUF */
    uint32_t sequence;
    /* script */
    int frames_per_poll, timeout_polls, spurious_polls, short_frames, error_frames, enodev_after_dqbufs, dqbufs;
    int mappings, streamoffs;
    blob_t yuyv, jpg;
} F;

static void fake_reset(void)
{
    blob_t y = F.yuyv, j = F.jpg;
    memset(&F, 0, sizeof F);
    F.yuyv = y;
    F.jpg = j;
    F.memfd = -1;
    F.capture_cap = true;
    F.formats[0] = V4L2_PIX_FMT_YUYV;
    F.formats[1] = V4L2_PIX_FMT_MJPEG;
    F.nformats = 2;
    F.max_buffers = 3; /* fewer than the 4 vkstyle asks for */
    F.frames_per_poll = 1;
    F.enodev_after_dqbufs = -1;
}

static int fake_open(const char *path, int flags)
{
    (void)flags;
    if (strcmp(path, "/dev/video0")) { errno = ENOENT; return -1; }
    if (F.open) { errno = EBUSY; return -1; }
    F.open = true;
    return FAKE_FD;
}

static int fake_close(int fd)
{
    assert_int_equal(fd, FAKE_FD);
    F.open = false;
    if (F.memfd >= 0) {
        munmap(F.map, F.stride * F.nbuf);
        close(F.memfd);
        F.memfd = -1;
    }
    return 0;
}

static bool offered(uint32_t f)
{
    for (int i = 0; i < F.nformats; i++)
        if (F.formats[i] == f) return true;
    return false;
}

/* the sensor: fill up to n queued buffers */
static void capture_frames(int n)
{
    for (int k = 0; k < n && F.nq > 0; k++) {
        int idx = F.queue[0];
        memmove(F.queue, F.queue + 1, (size_t)--F.nq * sizeof *F.queue);
        const blob_t *src = F.fourcc == V4L2_PIX_FMT_YUYV ? &F.yuyv : &F.jpg;
        memcpy(F.map + (size_t)idx * F.stride, src->data, src->size);
        F.done[F.nd++] = idx;
    }
}

static int fake_ioctl(int fd, unsigned long req, void *arg)
{
    assert_int_equal(fd, FAKE_FD);
    if (F.enodev_after_dqbufs >= 0 && F.dqbufs >= F.enodev_after_dqbufs && req != VIDIOC_STREAMOFF &&
        req != VIDIOC_REQBUFS) {
        errno = ENODEV;
        return -1;
    }
    switch (req) {
    case VIDIOC_QUERYCAP: {
        struct v4l2_capability *c = arg;
        memset(c, 0, sizeof *c);
        snprintf((char *)c->driver, sizeof c->driver, "fakecam");
        snprintf((char *)c->card, sizeof c->card, "Fake Camera");
        snprintf((char *)c->bus_info, sizeof c->bus_info, "test:0");
        c->device_caps = (F.capture_cap ? V4L2_CAP_VIDEO_CAPTURE : V4L2_CAP_META_CAPTURE) | V4L2_CAP_STREAMING;
        c->capabilities = c->device_caps | V4L2_CAP_DEVICE_CAPS;
        return 0;
    }
    case VIDIOC_ENUM_FMT: {
        struct v4l2_fmtdesc *d = arg;
        if (d->type != V4L2_BUF_TYPE_VIDEO_CAPTURE || d->index >= (uint32_t)F.nformats) { errno = EINVAL; return -1; }
        d->pixelformat = F.formats[d->index];
        snprintf((char *)d->description, sizeof d->description, "%s",
                 d->pixelformat == V4L2_PIX_FMT_YUYV ? "YUYV 4:2:2" : "Motion-JPEG");
        return 0;
    }
    case VIDIOC_ENUM_FRAMESIZES: {
        struct v4l2_frmsizeenum *s = arg;
        if (s->index > 0 || !offered(s->pixel_format)) { errno = EINVAL; return -1; }
        s->type = V4L2_FRMSIZE_TYPE_DISCRETE;
        s->discrete.width = FAKE_W;
        s->discrete.height = FAKE_H;
        return 0;
    }
    case VIDIOC_S_FMT: {
        struct v4l2_format *f = arg;
        if (F.streaming || F.nbuf) { errno = EBUSY; return -1; }
        /* as drivers do: an unknown format becomes the first one, any size the nearest (only) one */
        if (!offered(f->fmt.pix.pixelformat)) f->fmt.pix.pixelformat = F.formats[0];
        f->fmt.pix.width = FAKE_W;
        f->fmt.pix.height = FAKE_H;
        f->fmt.pix.field = V4L2_FIELD_NONE;
        F.fourcc = f->fmt.pix.pixelformat;
        F.bpl = F.fourcc == V4L2_PIX_FMT_YUYV ? FAKE_W * 2 : 0;
        F.sizeimage = F.fourcc == V4L2_PIX_FMT_YUYV ? FAKE_W * FAKE_H * 2 : FAKE_W * FAKE_H * 2 + 4096;
        f->fmt.pix.bytesperline = F.bpl;
        f->fmt.pix.sizeimage = F.sizeimage;
        return 0;
    }
    case VIDIOC_REQBUFS: {
        struct v4l2_requestbuffers *r = arg;
        if (r->memory != V4L2_MEMORY_MMAP) { errno = EINVAL; return -1; }
        if (r->count == 0) { F.nbuf = 0; F.nq = F.nd = 0; return 0; }
        if (F.mappings) { errno = EBUSY; return -1; }
        F.nbuf = r->count < F.max_buffers ? r->count : F.max_buffers;
        r->count = F.nbuf;
        F.buflen = F.sizeimage;
        long page = sysconf(_SC_PAGESIZE);
        F.stride = (F.buflen + (size_t)page - 1) / (size_t)page * (size_t)page;
        F.memfd = memfd_create("fakecam", MFD_CLOEXEC);
        assert_true(F.memfd >= 0);
        assert_int_equal(ftruncate(F.memfd, (off_t)(F.stride * F.nbuf)), 0);
        F.map = mmap(NULL, F.stride * F.nbuf, PROT_READ | PROT_WRITE, MAP_SHARED, F.memfd, 0);
        assert_true(F.map != MAP_FAILED);
        return 0;
    }
    case VIDIOC_QUERYBUF: {
        struct v4l2_buffer *b = arg;
        if (b->index >= F.nbuf) { errno = EINVAL; return -1; }
        b->length = (uint32_t)F.buflen;
        b->m.offset = (uint32_t)(b->index * F.stride);
        return 0;
    }
    case VIDIOC_QBUF: {
        struct v4l2_buffer *b = arg;
        if (b->index >= F.nbuf) { errno = EINVAL; return -1; }
        for (int i = 0; i < F.nq; i++)
            if (F.queue[i] == (int)b->index) { errno = EINVAL; return -1; } /* queued twice */
        for (int i = 0; i < F.nd; i++)
            if (F.done[i] == (int)b->index) { errno = EINVAL; return -1; }
        F.queue[F.nq++] = (int)b->index;
        return 0;
    }
    case VIDIOC_DQBUF: {
        struct v4l2_buffer *b = arg;
        F.dqbufs++;
        if (F.nd == 0) { errno = EAGAIN; return -1; }
        int idx = F.done[0];
        memmove(F.done, F.done + 1, (size_t)--F.nd * sizeof *F.done);
        const blob_t *src = F.fourcc == V4L2_PIX_FMT_YUYV ? &F.yuyv : &F.jpg;
        b->index = (uint32_t)idx;
        b->bytesused = (uint32_t)src->size;
        b->flags = V4L2_BUF_FLAG_MAPPED | V4L2_BUF_FLAG_DONE;
        b->sequence = F.sequence++;
        if (F.short_frames > 0) { F.short_frames--; b->bytesused /= 2; }
        else if (F.error_frames > 0) { F.error_frames--; b->flags |= V4L2_BUF_FLAG_ERROR; }
        return 0;
    }
    case VIDIOC_STREAMON: F.streaming = true; return 0;
    case VIDIOC_STREAMOFF:
        F.streaming = false;
        F.streamoffs++;
        F.nq = F.nd = 0; /* all buffers back to the app */
        return 0;
    default: errno = ENOTTY; return -1;
    }
}

static void *fake_mmap(void *addr, size_t len, int prot, int flags, int fd, off_t off)
{
    assert_int_equal(fd, FAKE_FD);
    if ((size_t)off + len > F.stride * F.nbuf) { errno = EINVAL; return MAP_FAILED; }
    void *p = mmap(addr, len, prot, flags, F.memfd, off);
    if (p != MAP_FAILED) F.mappings++;
    return p;
}

static int fake_munmap(void *addr, size_t len)
{
    F.mappings--;
    return munmap(addr, len);
}

static int fake_poll(struct pollfd *fds, nfds_t n, int timeout)
{
    (void)timeout;
    assert_int_equal(n, 1);
    assert_int_equal(fds[0].fd, FAKE_FD);
    if (F.enodev_after_dqbufs >= 0 && F.dqbufs >= F.enodev_after_dqbufs) {
        fds[0].revents = POLLERR | POLLHUP;
        return 1;
    }
    if (F.timeout_polls > 0) { F.timeout_polls--; return 0; }
    if (F.spurious_polls > 0) { F.spurious_polls--; fds[0].revents = POLLIN; return 1; }
    if (F.streaming) capture_frames(F.frames_per_poll);
    fds[0].revents = F.nd ? POLLIN : 0;
    return F.nd ? 1 : 0;
}

static const cap_sys_t fake_sys = {fake_open, fake_close, fake_ioctl, fake_mmap, fake_munmap, fake_poll};

static int setup(void **state)
{
    (void)state;
    fake_reset();
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    assert_false(F.open);          /* closed */
    assert_int_equal(F.mappings, 0); /* unmapped */
    return 0;
}

/* ------------------------------------------------------------------ tests */

static cap_t *open_ok(uint32_t w, uint32_t h, uint32_t fourcc)
{
    cap_t *c = NULL;
    char err[256] = "";
    cap_options_t o = {.width = w, .height = h, .fourcc = fourcc};
    if (cap_open(&fake_sys, "/dev/video0", &o, &c, err, sizeof err)) fail_msg("cap_open: %s", err);
    return c;
}

static void test_yuyv_negotiation_and_frame(void **state)
{
    (void)state;
    cap_t *c = open_ok(640, 480, 0); /* driver adjusts 640x480 to its 64x48 */
    uint32_t w, h, fourcc, bpl;
    cap_format(c, &w, &h, &fourcc, &bpl);
    assert_int_equal(w, FAKE_W);
    assert_int_equal(h, FAKE_H);
    assert_int_equal(fourcc, CAP_YUYV); /* small sizes prefer YUYV (no CPU decode) */
    assert_int_equal(bpl, FAKE_W * 2);
    assert_true(F.streaming);
    assert_int_equal(F.nbuf, 3);
    assert_int_equal(F.nq, 3); /* all queued */
    cap_frame_t f;
    char err[256];
    assert_int_equal(cap_grab(c, 10, &f, err, sizeof err), CAP_FRAME);
    assert_int_equal(f.bytes, F.yuyv.size);
    assert_memory_equal(f.data, F.yuyv.data, F.yuyv.size);
    assert_int_equal(F.nq, 2);
    cap_release(c, &f);
    assert_int_equal(F.nq, 3);
    cap_close(c);
    assert_int_equal(F.streamoffs, 1);
}

static void test_newest_frame_wins(void **state)
{
    (void)state;
    cap_t *c = open_ok(64, 48, CAP_YUYV);
    F.frames_per_poll = 3; /* three frames arrived since the last look */
    cap_frame_t f;
    char err[256];
    assert_int_equal(cap_grab(c, 10, &f, err, sizeof err), CAP_FRAME);
    assert_int_equal(f.sequence, 2); /* the newest of 0, 1, 2 */
    cap_stats_t st;
    cap_stats(c, &st);
    assert_int_equal(st.dropped_old, 2);
    assert_int_equal(F.nq, 2); /* the two older ones went straight back */
    cap_release(c, &f);
    /* later frames keep coming; nothing piles up */
    for (int i = 0; i < 5; i++) {
        assert_int_equal(cap_grab(c, 10, &f, err, sizeof err), CAP_FRAME);
        cap_release(c, &f);
        assert_int_equal(F.nq + F.nd, 3);
    }
    cap_close(c);
}

static void test_eagain_short_and_error_frames(void **state)
{
    (void)state;
    cap_t *c = open_ok(0, 0, CAP_YUYV);
    cap_frame_t f;
    char err[256];
    F.timeout_polls = 2; /* nothing within the timeout */
    assert_int_equal(cap_grab(c, 10, &f, err, sizeof err), CAP_NONE);
    assert_int_equal(cap_grab(c, 10, &f, err, sizeof err), CAP_NONE);
    F.short_frames = 1; /* a frame cut short: dropped, buffer back to the driver */
    assert_int_equal(cap_grab(c, 10, &f, err, sizeof err), CAP_NONE);
    assert_int_equal(F.nq, 3);
    F.error_frames = 1; /* a frame the driver flags as damaged */
    assert_int_equal(cap_grab(c, 10, &f, err, sizeof err), CAP_NONE);
    assert_int_equal(cap_grab(c, 10, &f, err, sizeof err), CAP_FRAME);
    assert_memory_equal(f.data, F.yuyv.data, F.yuyv.size);
    cap_release(c, &f);
    cap_stats_t st;
    cap_stats(c, &st);
    assert_int_equal(st.dropped_short, 1);
    assert_int_equal(st.dropped_error, 1);
    assert_int_equal(st.frames, 1);
    assert_true(st.again >= 2);
    /* poll says readable but DQBUF has nothing (EAGAIN): no frame, no error */
    F.spurious_polls = 1;
    uint64_t again = st.again;
    assert_int_equal(cap_grab(c, 10, &f, err, sizeof err), CAP_NONE);
    cap_stats(c, &st);
    assert_int_equal(st.again, again + 1);
    cap_close(c);
}

static void test_unplugged_mid_stream(void **state)
{
    (void)state;
    cap_t *c = open_ok(0, 0, CAP_YUYV);
    cap_frame_t f;
    char err[256] = "";
    assert_int_equal(cap_grab(c, 10, &f, err, sizeof err), CAP_FRAME);
    cap_release(c, &f);
    F.enodev_after_dqbufs = F.dqbufs; /* the cable comes out */
    assert_int_equal(cap_grab(c, 10, &f, err, sizeof err), CAP_ERROR);
    assert_non_null(strstr(err, "unplugged"));
    cap_close(c); /* closing a dead camera still releases everything */
}

static void test_open_errors(void **state)
{
    (void)state;
    cap_t *c = NULL;
    char err[512];
    assert_int_equal(cap_open(&fake_sys, "/dev/video7", NULL, &c, err, sizeof err), -1);
    assert_null(c);
    assert_non_null(strstr(err, "no camera"));
    assert_non_null(strstr(err, "--source FILE"));
    F.capture_cap = false; /* e.g. the metadata node of a UVC camera */
    assert_int_equal(cap_open(&fake_sys, "/dev/video0", NULL, &c, err, sizeof err), -1);
    assert_non_null(strstr(err, "does not capture video"));
    assert_false(F.open);
    F.capture_cap = true;
    F.nformats = 1; /* YUYV only */
    cap_options_t o = {.fourcc = CAP_MJPEG};
    assert_int_equal(cap_open(&fake_sys, "/dev/video0", &o, &c, err, sizeof err), -1);
    assert_non_null(strstr(err, "does not offer MJPG"));
    assert_non_null(strstr(err, "YUYV"));
    F.formats[0] = V4L2_PIX_FMT_NV12;
    assert_int_equal(cap_open(&fake_sys, "/dev/video0", NULL, &c, err, sizeof err), -1);
    assert_non_null(strstr(err, "no format vkstyle reads"));
    F.formats[0] = V4L2_PIX_FMT_YUYV;
    F.max_buffers = 1;
    assert_int_equal(cap_open(&fake_sys, "/dev/video0", NULL, &c, err, sizeof err), -1);
    assert_non_null(strstr(err, "2 are needed"));
}

static void test_list(void **state)
{
    (void)state;
    char *buf = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);
    assert_int_equal(cap_list(&fake_sys, f), 1);
    fclose(f);
    printf("# %s", buf);
    assert_non_null(strstr(buf, "/dev/video0: Fake Camera"));
    assert_non_null(strstr(buf, "YUYV"));
    assert_non_null(strstr(buf, "MJPG"));
    assert_non_null(strstr(buf, "64x48"));
    free(buf);
}

static double psnr_rgba_rgb(const uint8_t *rgba, const uint8_t *rgb, size_t n)
{
    double se = 0;
    for (size_t i = 0; i < n; i++)
        for (int c = 0; c < 3; c++) {
            double d = (double)rgba[4 * i + c] - rgb[3 * i + c];
            se += d * d;
        }
    return se == 0 ? 999 : 10 * log10(255.0 * 255.0 * 3 * (double)n / se);
}

static void test_mjpeg_capture_and_decode(void **state)
{
    (void)state;
    cap_t *c = open_ok(1280, 720, 0); /* big sizes prefer MJPEG */
    uint32_t fourcc;
    cap_format(c, NULL, NULL, &fourcc, NULL);
    assert_int_equal(fourcc, CAP_MJPEG);
    cap_frame_t f;
    char err[256] = "";
    assert_int_equal(cap_grab(c, 10, &f, err, sizeof err), CAP_FRAME);
    uint8_t *px = malloc(FAKE_W * FAKE_H * 4);
    uint32_t w, h;
    assert_int_equal(mjpeg_decode(f.data, f.bytes, 0, 0, false, px, FAKE_W * FAKE_H * 4, &w, &h, err, sizeof err), 0);
    assert_int_equal(w, FAKE_W);
    assert_int_equal(h, FAKE_H);
    cap_release(c, &f);
    cap_close(c);
    /* against stb's decoder of the same file */
    char path[1024];
    snprintf(path, sizeof path, "%s/tests/data/cam_64x48.jpg", VKS_SOURCE_DIR);
    vks_image_t ref = {0};
    assert_int_equal(vks_image_load(path, &ref, err, sizeof err), 0);
    double p = psnr_rgba_rgb(px, ref.px, FAKE_W * FAKE_H);
    printf("# MJPEG libjpeg-turbo vs stb: %.1f dB\n", p);
    assert_true(p > 40);
    for (size_t i = 0; i < FAKE_W * FAKE_H; i++) assert_int_equal(px[4 * i + 3], 255);
    /* BGRA is RGBA with red and blue swapped */
    uint8_t *bg = malloc(FAKE_W * FAKE_H * 4);
    assert_int_equal(mjpeg_decode(F.jpg.data, F.jpg.size, 0, 0, true, bg, FAKE_W * FAKE_H * 4, &w, &h, err, sizeof err), 0);
    for (size_t i = 0; i < FAKE_W * FAKE_H; i++) {
        assert_int_equal(bg[4 * i], px[4 * i + 2]);
        assert_int_equal(bg[4 * i + 2], px[4 * i]);
    }
    /* reduced decoding: at least 32x24 -> scale 1/2 */
    assert_int_equal(mjpeg_size(F.jpg.data, F.jpg.size, 32, 24, &w, &h, err, sizeof err), 0);
    assert_int_equal(w, 32);
    assert_int_equal(h, 24);
    assert_int_equal(mjpeg_decode(F.jpg.data, F.jpg.size, 32, 24, false, bg, FAKE_W * FAKE_H * 4, &w, &h, err, sizeof err), 0);
    assert_int_equal(w, 32);
    free(bg);
    free(px);
    vks_image_free(&ref);
}

/* Many UVC cameras leave the Huffman tables out of their MJPEG frames. */
static void test_mjpeg_without_huffman_tables(void **state)
{
    (void)state;
    uint8_t *strip = malloc(F.jpg.size);
    size_t n = 0, i = 2, removed = 0;
    memcpy(strip, F.jpg.data, 2);
    n = 2;
    while (i + 4 <= F.jpg.size && F.jpg.data[i] == 0xff && F.jpg.data[i + 1] != 0xda) {
        size_t len = (size_t)F.jpg.data[i + 2] << 8 | F.jpg.data[i + 3];
        if (F.jpg.data[i + 1] == 0xc4) removed++;
        else { memcpy(strip + n, F.jpg.data + i, len + 2); n += len + 2; }
        i += len + 2;
    }
    memcpy(strip + n, F.jpg.data + i, F.jpg.size - i);
    n += F.jpg.size - i;
    assert_true(removed >= 1);
    uint8_t *a = malloc(FAKE_W * FAKE_H * 4), *b = malloc(FAKE_W * FAKE_H * 4);
    uint32_t w, h;
    char err[256] = "";
    assert_int_equal(mjpeg_decode(F.jpg.data, F.jpg.size, 0, 0, false, a, FAKE_W * FAKE_H * 4, &w, &h, err, sizeof err), 0);
    if (mjpeg_decode(strip, n, 0, 0, false, b, FAKE_W * FAKE_H * 4, &w, &h, err, sizeof err)) fail_msg("%s", err);
    assert_memory_equal(a, b, FAKE_W * FAKE_H * 4); /* the file used the standard tables */
    free(a);
    free(b);
    free(strip);
}

static void test_mjpeg_damaged(void **state)
{
    (void)state;
    uint8_t *px = malloc(FAKE_W * FAKE_H * 4);
    uint32_t w, h;
    char err[256] = "";
    /* cut short: would show grey rows */
    assert_int_equal(mjpeg_decode(F.jpg.data, F.jpg.size / 2, 0, 0, false, px, FAKE_W * FAKE_H * 4, &w, &h, err, sizeof err), -1);
    assert_non_null(strstr(err, "JPEG"));
    /* not a JPEG at all */
    assert_int_equal(mjpeg_decode(F.yuyv.data, F.yuyv.size, 0, 0, false, px, FAKE_W * FAKE_H * 4, &w, &h, err, sizeof err), -1);
    /* too small a buffer */
    assert_int_equal(mjpeg_decode(F.jpg.data, F.jpg.size, 0, 0, false, px, 100, &w, &h, err, sizeof err), -1);
    free(px);
}

int main(void)
{
    F.yuyv = load("cam_64x48.yuyv");
    F.jpg = load("cam_64x48.jpg");
    assert_int_equal(F.yuyv.size, FAKE_W * FAKE_H * 2);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_yuyv_negotiation_and_frame, setup, teardown),
        cmocka_unit_test_setup_teardown(test_newest_frame_wins, setup, teardown),
        cmocka_unit_test_setup_teardown(test_eagain_short_and_error_frames, setup, teardown),
        cmocka_unit_test_setup_teardown(test_unplugged_mid_stream, setup, teardown),
        cmocka_unit_test_setup_teardown(test_open_errors, setup, teardown),
        cmocka_unit_test_setup_teardown(test_list, setup, teardown),
        cmocka_unit_test_setup_teardown(test_mjpeg_capture_and_decode, setup, teardown),
        cmocka_unit_test_setup_teardown(test_mjpeg_without_huffman_tables, setup, teardown),
        cmocka_unit_test_setup_teardown(test_mjpeg_damaged, setup, teardown),
    };
    int rc = cmocka_run_group_tests(tests, NULL, NULL);
    free(F.yuyv.data);
    free(F.jpg.data);
    return rc;
}
