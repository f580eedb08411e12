/* The frame sources of vkstyle live: a webcam (V4L2) or a video file, each read on a thread of
 * its own into a newest-frame triple buffer.
 *
 * Camera frames keep YUYV raw for the GPU or are MJPEG-decoded by libjpeg-turbo; a file plays
 * at its own frame rate, looping. The producer fills the back slot and swaps it with the middle
 * one; the consumer takes the middle one to the front: the newest frame wins, nothing queues.
 * live_source_open, live_source_set_size, live_source_start, then live_source_take from the
 * thread that stylizes; live_source_close from that thread too. Errors: 0 or -1 with a
 * one-line message in err.
 */
#ifndef VKSTYLE_TOOLS_LIVE_SOURCE_H
#define VKSTYLE_TOOLS_LIVE_SOURCE_H

#include "capture_v4l2.h"
#include "media.h"

#include "vkstyle/vkstyle.h"

#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef struct {
    uint8_t *px;
    int64_t source_index; /* frame number in the source (file: within the loop) */
} live_slot_t;

typedef struct live_source {
    pthread_mutex_t m;
    live_slot_t back, mid, front; /* producer fills back; swaps with mid; consumer swaps mid to front */
    bool fresh, failed, stop;
    uint64_t published, taken;
    char err[512];
    uint32_t w, h;                /* processing size */
    vks_pixel_format_t format;    /* what the slots hold: YUYV or RGBA */
    bool camera;
    /* camera */
    cap_t *cap;
    uint32_t cw, ch, cfourcc, cbpl;
    struct SwsContext *sws;
    uint8_t *tmp;
    size_t tmp_size;
    uint64_t bad_jpeg;
    /* file */
    media_in_t *media;
    double fps;
    pthread_t thread;
    bool thread_started;
} live_source_t;

/* Whether src names a camera (/dev/video*, or any character device) rather than a file or URL. */
bool live_source_is_camera(const char *src);

/* Open the camera (asking for cap_w x cap_h, or else size_w x size_h, in fourcc; 0: the
 * driver's choice) or the video file. s->w, s->h are the source's size until set_size. s is
 * initialised here, and must be closed with live_source_close even when this fails. */
int live_source_open(live_source_t *s, const char *source, uint32_t cap_w, uint32_t cap_h, uint32_t size_w,
                     uint32_t size_h, uint32_t fourcc, char *err, size_t errsz);
/* Deliver frames at w x h (YUYV: w even). */
int live_source_set_size(live_source_t *s, uint32_t w, uint32_t h, char *err, size_t errsz);
/* Allocate the slots and start the reading thread. */
int live_source_start(live_source_t *s, char *err, size_t errsz);
/* Move the newest frame, if a new one came, to s->front; false if none. */
bool live_source_take(live_source_t *s);
/* Whether the source failed; then err receives why. */
bool live_source_failed(live_source_t *s, char *err, size_t errsz);
/* Frames the source published and the consumer took. */
void live_source_counts(live_source_t *s, uint64_t *published, uint64_t *taken);
/* Stop the thread and free everything (accepts a source whose open failed). */
void live_source_close(live_source_t *s);

#endif
