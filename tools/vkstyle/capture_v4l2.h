/* Webcam capture through V4L2 (memory-mapped streaming I/O), for vkstyle live.
 *
 * Every system call goes through a table (cap_sys_t), as FFmpeg's libavdevice does, so the
 * tests can plug in a fake camera. Latency first: cap_grab dequeues every buffer the driver
 * has filled and hands out only the newest; older ones go straight back to the driver.
 *
 * Functions that can fail return -1 with a one-line message in err (no trailing newline).
 */
#ifndef VKSTYLE_TOOLS_CAPTURE_V4L2_H
#define VKSTYLE_TOOLS_CAPTURE_V4L2_H

#include <poll.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/types.h>

typedef struct cap_sys {
    int (*open)(const char *path, int flags);
    int (*close)(int fd);
    int (*ioctl)(int fd, unsigned long request, void *arg);
    void *(*mmap)(void *addr, size_t len, int prot, int flags, int fd, off_t offset);
    int (*munmap)(void *addr, size_t len);
    int (*poll)(struct pollfd *fds, nfds_t n, int timeout_ms);
} cap_sys_t;

/* The real system calls. */
extern const cap_sys_t cap_sys_linux;

/* Pixel formats vkstyle takes from cameras (V4L2 fourccs). */
#define CAP_YUYV 0x56595559u  /* v4l2_fourcc('Y','U','Y','V') */
#define CAP_MJPEG 0x47504a4du /* v4l2_fourcc('M','J','P','G') */

typedef struct cap cap_t;

typedef struct cap_options {
    uint32_t width, height; /* wanted size (0: 640x480); the driver picks the nearest it has */
    uint32_t fourcc;        /* CAP_YUYV, CAP_MJPEG, or 0: YUYV up to 640x480, MJPEG above if offered */
    uint32_t buffers;       /* 0: 4 */
} cap_options_t;

/* Open and start streaming. Errors say what to do: no such camera (use --source FILE), not a
 * capture device, busy, no format vkstyle reads. */
int cap_open(const cap_sys_t *sys, const char *path, const cap_options_t *opts, cap_t **out, char *err, size_t errsz);
/* The negotiated format. */
void cap_format(const cap_t *c, uint32_t *width, uint32_t *height, uint32_t *fourcc, uint32_t *bytesperline);

typedef struct cap_frame {
    const uint8_t *data;
    size_t bytes;       /* bytes used */
    uint32_t sequence;  /* the driver's frame counter */
    int index;          /* buffer index (for cap_release) */
} cap_frame_t;

typedef enum { CAP_ERROR = -1, CAP_NONE = 0, CAP_FRAME = 1 } cap_result_t;

/* Wait up to timeout_ms for frames; take every filled buffer and keep the newest. CAP_FRAME:
 * *f holds it until cap_release. CAP_NONE: nothing new in time (EAGAIN, or frames dropped as
 * short/damaged). CAP_ERROR: the camera failed or was unplugged (ENODEV); err says so. */
cap_result_t cap_grab(cap_t *c, int timeout_ms, cap_frame_t *f, char *err, size_t errsz);
/* Give the frame's buffer back to the driver. */
void cap_release(cap_t *c, const cap_frame_t *f);

typedef struct cap_stats {
    uint64_t frames, dropped_old, dropped_short, dropped_error, again;
} cap_stats_t;
void cap_stats(const cap_t *c, cap_stats_t *s);

/* Stop streaming, unmap, close. Accepts NULL. */
void cap_close(cap_t *c);

/* Print the capture devices among /dev/video0..63 with their formats and sizes; returns how
 * many were found. */
int cap_list(const cap_sys_t *sys, FILE *out);

/* Name of a fourcc ("YUYV"); buf has at least 5 bytes. */
const char *cap_fourcc_str(uint32_t fourcc, char *buf);

#endif
