/* The frame sources of vkstyle live (see live_source.h). */
#include "live_source.h"
#include "cli.h"
#include "mjpeg.h"

#define GLFW_INCLUDE_NONE
#include <GLFW/glfw3.h>
#include <libswscale/swscale.h>

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

static void sleep_s(double s)
{
    if (s <= 0) return;
    struct timespec ts = {(time_t)s, (long)((s - floor(s)) * 1e9)};
    nanosleep(&ts, NULL);
}

/* ------------------------------------------------------------------ newest-frame triple buffer */

/* The producer's back slot becomes the middle one; the window's event wait wakes up. */
static void publish(live_source_t *s)
{
    pthread_mutex_lock(&s->m);
    live_slot_t t = s->mid;
    s->mid = s->back;
    s->back = t;
    s->fresh = true;
    s->published++;
    pthread_mutex_unlock(&s->m);
    glfwPostEmptyEvent();
}

bool live_source_take(live_source_t *s)
{
    pthread_mutex_lock(&s->m);
    bool got = s->fresh;
    if (got) {
        live_slot_t t = s->front;
        s->front = s->mid;
        s->mid = t;
        s->fresh = false;
        s->taken++;
    }
    pthread_mutex_unlock(&s->m);
    return got;
}

static void fail(live_source_t *s, const char *msg)
{
    pthread_mutex_lock(&s->m);
    if (!s->failed) snprintf(s->err, sizeof s->err, "%s", msg);
    s->failed = true;
    pthread_mutex_unlock(&s->m);
    glfwPostEmptyEvent();
}

static bool stopping(live_source_t *s)
{
    pthread_mutex_lock(&s->m);
    bool stop = s->stop;
    pthread_mutex_unlock(&s->m);
    return stop;
}

bool live_source_failed(live_source_t *s, char *err, size_t errsz)
{
    pthread_mutex_lock(&s->m);
    bool failed = s->failed;
    if (failed) snprintf(err, errsz, "%s", s->err);
    pthread_mutex_unlock(&s->m);
    return failed;
}

void live_source_counts(live_source_t *s, uint64_t *published, uint64_t *taken)
{
    pthread_mutex_lock(&s->m);
    *published = s->published;
    *taken = s->taken;
    pthread_mutex_unlock(&s->m);
}

/* ------------------------------------------------------------------ camera */

/* YUYV at capture size (rows of bpl bytes) -> YUYV at processing size */
static int camera_yuyv(live_source_t *s, const cap_frame_t *f, uint8_t *out)
{
    if (s->cw == s->w && s->ch == s->h) {
        for (uint32_t y = 0; y < s->h; y++) memcpy(out + (size_t)y * s->w * 2, f->data + (size_t)y * s->cbpl, (size_t)s->w * 2);
        return 0;
    }
    s->sws = sws_getCachedContext(s->sws, (int)s->cw, (int)s->ch, AV_PIX_FMT_YUYV422, (int)s->w, (int)s->h, AV_PIX_FMT_YUYV422,
                                  SWS_AREA, NULL, NULL, NULL);
    if (!s->sws) return -1;
    const uint8_t *src[4] = {f->data};
    int ss[4] = {(int)s->cbpl};
    uint8_t *dst[4] = {out};
    int ds[4] = {(int)s->w * 2};
    sws_scale(s->sws, src, ss, 0, (int)s->ch, dst, ds);
    return 0;
}

/* MJPEG -> RGBA at processing size (libjpeg scales down by 1/2..1/8 first where it can) */
static int camera_mjpeg(live_source_t *s, const cap_frame_t *f, uint8_t *out, char *err, size_t errsz)
{
    uint32_t jw, jh;
    if (mjpeg_size(f->data, f->bytes, s->w, s->h, &jw, &jh, err, errsz)) return -1;
    if (jw == s->w && jh == s->h) return mjpeg_decode(f->data, f->bytes, s->w, s->h, false, out, (size_t)s->w * s->h * 4, &jw, &jh, err, errsz);
    size_t need = (size_t)jw * jh * 4;
    if (need > s->tmp_size) {
        free(s->tmp);
        s->tmp = malloc(need);
        s->tmp_size = s->tmp ? need : 0;
        if (!s->tmp) return snprintf(err, errsz, "out of memory"), -1;
    }
    if (mjpeg_decode(f->data, f->bytes, s->w, s->h, false, s->tmp, s->tmp_size, &jw, &jh, err, errsz)) return -1;
    s->sws = sws_getCachedContext(s->sws, (int)jw, (int)jh, AV_PIX_FMT_RGBA, (int)s->w, (int)s->h, AV_PIX_FMT_RGBA,
                                  SWS_AREA, NULL, NULL, NULL);
    if (!s->sws) return snprintf(err, errsz, "cannot scale camera frames"), -1;
    const uint8_t *src[4] = {s->tmp};
    int ss[4] = {(int)jw * 4};
    uint8_t *dst[4] = {out};
    int ds[4] = {(int)s->w * 4};
    sws_scale(s->sws, src, ss, 0, (int)jh, dst, ds);
    return 0;
}

static void *camera_main(void *arg)
{
    live_source_t *s = arg;
    char err[512];
    while (!stopping(s)) {
        cap_frame_t f;
        cap_result_t r = cap_grab(s->cap, 100, &f, err, sizeof err);
        if (r == CAP_ERROR) { fail(s, err); break; }
        if (r == CAP_NONE) continue;
        int bad = s->cfourcc == CAP_YUYV ? camera_yuyv(s, &f, s->back.px) : camera_mjpeg(s, &f, s->back.px, err, sizeof err);
        s->back.source_index = f.sequence;
        cap_release(s->cap, &f);
        if (bad) { s->bad_jpeg++; continue; }
        publish(s);
    }
    return NULL;
}

/* ------------------------------------------------------------------ file */

static void *file_main(void *arg)
{
    live_source_t *s = arg;
    char err[512];
    double start = cli_now_s(), loop_offset = 0, last_t = 0;
    int64_t loops_without_frames = 0;
    while (!stopping(s)) {
        media_frame_t fr;
        media_result_t r = media_read(s->media, s->back.px, &fr, NULL, err, sizeof err);
        if (r == MEDIA_FRAME) {
            loops_without_frames = 0;
            last_t = fr.seconds;
            double due = start + loop_offset + fr.seconds;
            while (!stopping(s) && cli_now_s() < due) sleep_s(fmin(due - cli_now_s(), 0.02));
            s->back.source_index = fr.index;
            publish(s);
            continue;
        }
        if (r == MEDIA_ERROR && !strstr(err, "damaged or truncated")) { fail(s, err); break; }
        /* end (or a damaged tail): loop */
        if (++loops_without_frames > 2) { fail(s, "the video has no frames to show"); break; }
        loop_offset += last_t + 1.0 / (s->fps > 0 ? s->fps : 30);
        if (media_rewind(s->media, err, sizeof err)) { fail(s, err); break; }
    }
    return NULL;
}

/* ------------------------------------------------------------------ life cycle */

bool live_source_is_camera(const char *src)
{
    struct stat sb;
    return !strncmp(src, "/dev/video", 10) || (stat(src, &sb) == 0 && S_ISCHR(sb.st_mode));
}

int live_source_open(live_source_t *s, const char *source, uint32_t cap_w, uint32_t cap_h, uint32_t size_w,
                     uint32_t size_h, uint32_t fourcc, char *err, size_t errsz)
{
    memset(s, 0, sizeof *s);
    pthread_mutex_init(&s->m, NULL);
    s->camera = live_source_is_camera(source);
    if (s->camera) {
        cap_options_t co = {.width = cap_w ? cap_w : size_w, .height = cap_w ? cap_h : size_h, .fourcc = fourcc};
        if (cap_open(&cap_sys_linux, source, &co, &s->cap, err, errsz)) return -1;
        cap_format(s->cap, &s->cw, &s->ch, &s->cfourcc, &s->cbpl);
        s->w = s->cw;
        s->h = s->ch;
        s->format = s->cfourcc == CAP_YUYV ? VKS_PIXELS_YUYV : VKS_PIXELS_RGBA8;
    } else {
        if (media_open(source, &s->media, err, errsz)) return -1;
        const media_info_t *mi = media_info(s->media);
        s->w = mi->width;
        s->h = mi->height;
        s->fps = mi->fps_num ? (double)mi->fps_num / mi->fps_den : 30;
        s->format = VKS_PIXELS_RGBA8;
    }
    return 0;
}

int live_source_set_size(live_source_t *s, uint32_t w, uint32_t h, char *err, size_t errsz)
{
    s->w = w;
    s->h = h;
    return s->media ? media_set_output(s->media, w, h, MEDIA_RGBA, err, errsz) : 0;
}

int live_source_start(live_source_t *s, char *err, size_t errsz)
{
    size_t slot_bytes = (size_t)s->w * s->h * (s->format == VKS_PIXELS_YUYV ? 2 : 4);
    s->back.px = malloc(slot_bytes);
    s->mid.px = malloc(slot_bytes);
    s->front.px = malloc(slot_bytes);
    if (!s->back.px || !s->mid.px || !s->front.px) return snprintf(err, errsz, "out of memory"), -1;
    if (pthread_create(&s->thread, NULL, s->camera ? camera_main : file_main, s))
        return snprintf(err, errsz, "cannot start a thread"), -1;
    s->thread_started = true;
    return 0;
}

void live_source_close(live_source_t *s)
{
    if (s->thread_started) {
        pthread_mutex_lock(&s->m);
        s->stop = true;
        pthread_mutex_unlock(&s->m);
        pthread_join(s->thread, NULL);
    }
    cap_close(s->cap);
    media_close(s->media);
    sws_freeContext(s->sws);
    free(s->tmp);
    free(s->back.px);
    free(s->mid.px);
    free(s->front.px);
    pthread_mutex_destroy(&s->m);
    memset(s, 0, sizeof *s);
}
