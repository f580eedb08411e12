/* vkstyle live: stylize a webcam (V4L2) or a video file in a window, in real time.
 *
 * A capture thread produces frames (camera: YUYV kept raw for the GPU, MJPEG decoded by
 * libjpeg-turbo; file: FFmpeg at its native frame rate, looping) into a triple buffer: the
 * newest frame wins, nothing queues. This thread owns the engine session and the window: it
 * stylizes the newest frame, and presents the session's output buffer straight from GPU memory
 * (window.c).
 */
#include "cli.h"

#include <stdio.h>

#ifndef VKSTYLE_HAVE_MEDIA
int cmd_live(int argc, char **argv)
{
    (void)argc;
    (void)argv;
    return cli_error("live: this vkstyle was built without media support (FFmpeg, GLFW); rebuild with "
                     "-DVKSTYLE_MEDIA=ON after installing libavformat-dev libavcodec-dev libswscale-dev "
                     "libglfw3-dev libjpeg-dev");
}
#else

#include "capture_v4l2.h"
#include "image_io.h"
#include "media.h"
#include "mjpeg.h"
#include "window.h"

#include "vkstyle/vkstyle_vulkan.h"

#include <libswscale/swscale.h>

#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <math.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

static void usage(FILE *f)
{
    fprintf(f,
        "usage: vkstyle live [-m MODEL] [--source /dev/videoN | FILE | URL] [options]\n"
        "\n"
        "Stylizes a webcam (default /dev/video0) or a video (looping at its frame rate) in a window.\n"
        "\n"
        "  -m, --model MODEL     model file, or a name in the models folder (default: udnie)\n"
        "  -s, --style SPEC      starting style: NAME, INDEX, or a mix NAME=W,NAME=W\n"
        "      --source SRC      camera device, or any video file or URL FFmpeg reads\n"
        "      --list-sources    list the cameras with their formats and sizes, and exit\n"
        "      --capture WxH     camera size to ask for (default 640x480; the driver picks the nearest)\n"
        "      --format F        camera format: yuyv or mjpeg (default: YUYV up to 640x480, else MJPEG)\n"
        "      --size WxH        processing size (default: the source's size, longer side capped at\n"
        "                        640 on GPUs and 192 on CPU devices)\n"
        "      --window WxH      window size (default: the processing size, enlarged to >= 480 wide)\n"
        "      --strength A      blend with the source frame, 0..1 (default 1)\n"
        "      --stabilize S     temporal stabilization, 0 (off) .. 1 (strongest) (default 0.8)\n"
        "      --frames N        quit after presenting N frames\n"
        "      --screenshot FILE save the last presented frame (PNG/JPEG) when quitting\n"
        CLI_PRECISION_HELP
        "      --device D        Vulkan device index or name substring (see 'vkstyle devices')\n"
        "  -q, --quiet           print nothing but errors\n"
        "  -h, --help            this help\n"
        "\n"
        "keys: 1-9 style; left/right and mouse wheel slide between neighbouring styles; up/down\n"
        "      strength; t stabilization on/off; space pause; s save a PNG; f fullscreen; q or Esc quit\n");
}

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec + ts.tv_nsec / 1e9;
}

static void sleep_s(double s)
{
    if (s <= 0) return;
    struct timespec ts = {(time_t)s, (long)((s - floor(s)) * 1e9)};
    nanosleep(&ts, NULL);
}

/* ------------------------------------------------------------------ newest-frame triple buffer */

typedef struct {
    uint8_t *px;
    int64_t source_index; /* frame number in the source (file: within the loop) */
} slot_t;

typedef struct {
    pthread_mutex_t m;
    slot_t back, mid, front; /* producer fills back; swaps with mid; consumer swaps mid to front */
    bool fresh, failed, stop;
    uint64_t published, taken;
    char err[512];
} mailbox_t;

static void mb_publish(mailbox_t *mb)
{
    pthread_mutex_lock(&mb->m);
    slot_t t = mb->mid;
    mb->mid = mb->back;
    mb->back = t;
    mb->fresh = true;
    mb->published++;
    pthread_mutex_unlock(&mb->m);
    glfwPostEmptyEvent();
}

static bool mb_take(mailbox_t *mb)
{
    pthread_mutex_lock(&mb->m);
    bool got = mb->fresh;
    if (got) {
        slot_t t = mb->front;
        mb->front = mb->mid;
        mb->mid = t;
        mb->fresh = false;
        mb->taken++;
    }
    pthread_mutex_unlock(&mb->m);
    return got;
}

static void mb_fail(mailbox_t *mb, const char *msg)
{
    pthread_mutex_lock(&mb->m);
    if (!mb->failed) snprintf(mb->err, sizeof mb->err, "%s", msg);
    mb->failed = true;
    pthread_mutex_unlock(&mb->m);
    glfwPostEmptyEvent();
}

static bool mb_stopping(mailbox_t *mb)
{
    pthread_mutex_lock(&mb->m);
    bool s = mb->stop;
    pthread_mutex_unlock(&mb->m);
    return s;
}

/* ------------------------------------------------------------------ sources */

typedef struct {
    mailbox_t mb;
    uint32_t w, h;                /* processing size */
    vks_pixel_format_t format;    /* what the slots hold: YUYV or RGBA */
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
} source_t;

/* YUYV at capture size (rows of bpl bytes) -> YUYV at processing size */
static int camera_yuyv(source_t *s, const cap_frame_t *f, uint8_t *out)
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
static int camera_mjpeg(source_t *s, const cap_frame_t *f, uint8_t *out, char *err, size_t errsz)
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
    source_t *s = arg;
    char err[512];
    while (!mb_stopping(&s->mb)) {
        cap_frame_t f;
        cap_result_t r = cap_grab(s->cap, 100, &f, err, sizeof err);
        if (r == CAP_ERROR) { mb_fail(&s->mb, err); break; }
        if (r == CAP_NONE) continue;
        int bad = s->cfourcc == CAP_YUYV ? camera_yuyv(s, &f, s->mb.back.px) : camera_mjpeg(s, &f, s->mb.back.px, err, sizeof err);
        s->mb.back.source_index = f.sequence;
        cap_release(s->cap, &f);
        if (bad) { s->bad_jpeg++; continue; }
        mb_publish(&s->mb);
    }
    return NULL;
}

static void *file_main(void *arg)
{
    source_t *s = arg;
    char err[512];
    double start = now_s(), loop_offset = 0, last_t = 0;
    int64_t loops_without_frames = 0;
    while (!mb_stopping(&s->mb)) {
        media_frame_t fr;
        media_result_t r = media_read(s->media, s->mb.back.px, &fr, NULL, err, sizeof err);
        if (r == MEDIA_FRAME) {
            loops_without_frames = 0;
            last_t = fr.seconds;
            double due = start + loop_offset + fr.seconds;
            while (!mb_stopping(&s->mb) && now_s() < due) sleep_s(fmin(due - now_s(), 0.02));
            s->mb.back.source_index = fr.index;
            mb_publish(&s->mb);
            continue;
        }
        if (r == MEDIA_ERROR && !strstr(err, "damaged or truncated")) { mb_fail(&s->mb, err); break; }
        /* end (or a damaged tail): loop */
        if (++loops_without_frames > 2) { mb_fail(&s->mb, "the video has no frames to show"); break; }
        loop_offset += last_t + 1.0 / (s->fps > 0 ? s->fps : 30);
        if (media_rewind(s->media, err, sizeof err)) { mb_fail(&s->mb, err); break; }
    }
    return NULL;
}

/* ------------------------------------------------------------------ controls */

typedef struct {
    win_t *win;
    vks_session_t *sess;
    const vks_model_t *model;
    uint32_t nstyles;
    float pos;            /* style position 0..n-1: mix of floor and ceil */
    float weights[64];
    bool custom_mix;      /* weights from -s until a key changes them */
    float strength;
    float stabilize;      /* strength of the temporal stabilization when on */
    bool stable;          /* stabilization on ('t') */
    bool paused, quit, save, restyle, redraw, restabilize;
} ui_t;

static void weights_from_pos(ui_t *u)
{
    float last = (float)(u->nstyles - 1);
    u->pos = u->pos < 0 ? 0 : u->pos > last ? last : u->pos;
    memset(u->weights, 0, sizeof u->weights);
    uint32_t a = (uint32_t)floorf(u->pos);
    float t = u->pos - (float)a;
    if (t < 1e-3f || a + 1 >= u->nstyles) { u->pos = (float)a; u->weights[a] = 1; }
    else if (t > 0.999f) { u->pos = (float)(a + 1); u->weights[a + 1] = 1; }
    else { u->weights[a] = 1 - t; u->weights[a + 1] = t; }
    u->custom_mix = false;
    u->restyle = true;
}

static void slide(ui_t *u, float d)
{
    if (u->nstyles < 2) return;
    u->pos += d;
    weights_from_pos(u);
}

static void on_key(GLFWwindow *g, int key, int scancode, int action, int mods)
{
    (void)scancode;
    (void)mods;
    ui_t *u = win_user(g);
    if (!u || action == GLFW_RELEASE) return;
    bool press = action == GLFW_PRESS;
    if (key >= GLFW_KEY_1 && key <= GLFW_KEY_9 && press) {
        uint32_t k = (uint32_t)(key - GLFW_KEY_1);
        if (k < u->nstyles) { u->pos = (float)k; weights_from_pos(u); }
    } else if (key >= GLFW_KEY_KP_1 && key <= GLFW_KEY_KP_9 && press) {
        uint32_t k = (uint32_t)(key - GLFW_KEY_KP_1);
        if (k < u->nstyles) { u->pos = (float)k; weights_from_pos(u); }
    } else if (key == GLFW_KEY_LEFT) slide(u, -0.1f);
    else if (key == GLFW_KEY_RIGHT) slide(u, 0.1f);
    else if (key == GLFW_KEY_UP || key == GLFW_KEY_DOWN) {
        u->strength = fminf(1, fmaxf(0, u->strength + (key == GLFW_KEY_UP ? 0.1f : -0.1f)));
        u->strength = roundf(u->strength * 10) / 10;
        u->redraw = true;
    } else if (key == GLFW_KEY_T && press) u->stable = !u->stable, u->restabilize = true;
    else if (key == GLFW_KEY_SPACE && press) u->paused = !u->paused, u->redraw = true;
    else if (key == GLFW_KEY_S && press) u->save = true, u->redraw = true;
    else if (key == GLFW_KEY_F && press) win_set_fullscreen(u->win, !win_fullscreen(u->win)), u->redraw = true;
    else if ((key == GLFW_KEY_Q || key == GLFW_KEY_ESCAPE) && press) u->quit = true;
}

static void on_scroll(GLFWwindow *g, double dx, double dy)
{
    (void)dx;
    ui_t *u = win_user(g);
    if (u) slide(u, (float)(dy * 0.1));
}

static void mix_text(const ui_t *u, char *buf, size_t n)
{
    buf[0] = 0;
    size_t k = 0;
    if (u->nstyles == 1) { snprintf(buf, n, "%s", vks_model_name(u->model)); return; }
    for (uint32_t i = 0; i < u->nstyles && k < n; i++) {
        if (u->weights[i] == 0) continue;
        const char *name = vks_model_style_name(u->model, i);
        if (u->weights[i] == 1) k += (size_t)snprintf(buf + k, n - k, "%s%s", k ? " + " : "", name);
        else k += (size_t)snprintf(buf + k, n - k, "%s%s %.0f%%", k ? " + " : "", name, 100 * u->weights[i]);
    }
}

static int save_png(const char *path, const uint8_t *rgba, uint32_t w, uint32_t h, char *err, size_t errsz)
{
    vks_image_t img = {malloc((size_t)w * h * 3), w, h};
    if (!img.px) return snprintf(err, errsz, "out of memory"), -1;
    for (size_t i = 0; i < (size_t)w * h; i++) memcpy(img.px + 3 * i, rgba + 4 * i, 3);
    int r = vks_image_save(path, &img, 95, err, errsz);
    vks_image_free(&img);
    return r;
}

static bool is_camera(const char *src)
{
    struct stat sb;
    return !strncmp(src, "/dev/video", 10) || (stat(src, &sb) == 0 && S_ISCHR(sb.st_mode));
}

static volatile sig_atomic_t g_stop;
static void on_signal(int sig) { (void)sig; g_stop = 1; }

int cmd_live(int argc, char **argv)
{
    const char *model_arg = "udnie", *source = "/dev/video0", *style = NULL, *device = NULL, *shot = NULL;
    uint32_t size_w = 0, size_h = 0, cap_w = 0, cap_h = 0, win_w = 0, win_h = 0, fourcc = 0;
    long frames_limit = 0;
    double strength = 1.0, stabilize = 0.8;
    int quiet = 0, list = 0;
    enum { O_SOURCE = 256, O_LIST, O_CAPTURE, O_FORMAT, O_SIZE, O_WINDOW, O_STRENGTH, O_FRAMES, O_SHOT, O_DEVICE, O_PRECISION, O_STAB };
    vks_precision_t precision = VKS_PRECISION_FP32;
    static const struct option opts[] = {
        {"model", required_argument, 0, 'm'}, {"style", required_argument, 0, 's'},
        {"source", required_argument, 0, O_SOURCE}, {"list-sources", no_argument, 0, O_LIST},
        {"capture", required_argument, 0, O_CAPTURE}, {"format", required_argument, 0, O_FORMAT},
        {"size", required_argument, 0, O_SIZE}, {"window", required_argument, 0, O_WINDOW},
        {"strength", required_argument, 0, O_STRENGTH}, {"frames", required_argument, 0, O_FRAMES},
        {"screenshot", required_argument, 0, O_SHOT}, {"device", required_argument, 0, O_DEVICE},
        {"precision", required_argument, 0, O_PRECISION}, {"stabilize", required_argument, 0, O_STAB},
        {"quiet", no_argument, 0, 'q'}, {"help", no_argument, 0, 'h'}, {0, 0, 0, 0},
    };
    optind = 1;
    opterr = 0;
    int c;
    while ((c = getopt_long(argc, argv, ":m:s:qh", opts, NULL)) != -1) {
        switch (c) {
        case 'm': model_arg = optarg; break;
        case 's': style = optarg; break;
        case 'q': quiet = 1; break;
        case 'h': usage(stdout); return 0;
        case O_SOURCE: source = optarg; break;
        case O_LIST: list = 1; break;
        case O_DEVICE: device = optarg; break;
        case O_PRECISION: if (cli_parse_precision(optarg, &precision)) return 1; break;
        case O_SHOT: shot = optarg; break;
        case O_CAPTURE: if (cli_parse_size("--capture", optarg, 1, &cap_w, &cap_h)) return 1; break;
        case O_SIZE: if (cli_parse_size("--size", optarg, 2, &size_w, &size_h)) return 1; break;
        case O_WINDOW: if (cli_parse_size("--window", optarg, 1, &win_w, &win_h)) return 1; break;
        case O_FORMAT:
            if (!strcmp(optarg, "yuyv")) fourcc = CAP_YUYV;
            else if (!strcmp(optarg, "mjpeg")) fourcc = CAP_MJPEG;
            else return cli_error("--format must be yuyv or mjpeg");
            break;
        case O_STRENGTH: if (cli_parse_double("--strength", optarg, 0, 1, &strength)) return 1; break;
        case O_STAB: if (cli_parse_double("--stabilize", optarg, 0, 1, &stabilize)) return 1; break;
        case O_FRAMES: {
            long long n;
            if (cli_parse_ll("--frames", optarg, 1, INT_MAX, &n)) return 1;
            frames_limit = (long)n;
            break;
        }
        case ':': return cli_error("live: option '%s' needs a value (see vkstyle live --help)", argv[optind - 1]);
        default: return cli_error("live: unknown option '%s' (see vkstyle live --help)", argv[optind - 1]);
        }
    }
    if (optind < argc) return cli_error("live: unexpected argument '%s'", argv[optind]);
    if (list) return cap_list(&cap_sys_linux, stdout) > 0 ? 0 : 1;

    char model_path[4096], err[512];
    if (cli_find_model(model_arg, model_path, sizeof model_path)) return 1;
    media_log_setup(false);

    int rc = 1;
    source_t src = {0};
    pthread_mutex_init(&src.mb.m, NULL);
    bool camera = is_camera(source), thread_started = false;
    pthread_t thread;
    vks_context_t *ctx = NULL;
    vks_model_t *model = NULL;
    vks_session_t *sess = NULL;
    win_t *win = NULL;
    uint8_t *shot_px = NULL;
    ui_t ui = {0};
    bool glfw_up = false;

    /* 1. the source (before the window: a missing camera is the likelier problem) */
    if (camera) {
        cap_options_t co = {.width = cap_w ? cap_w : size_w, .height = cap_w ? cap_h : size_h, .fourcc = fourcc};
        if (cap_open(&cap_sys_linux, source, &co, &src.cap, err, sizeof err)) { cli_error("%s", err); goto done; }
        cap_format(src.cap, &src.cw, &src.ch, &src.cfourcc, &src.cbpl);
        src.w = src.cw;
        src.h = src.ch;
        src.format = src.cfourcc == CAP_YUYV ? VKS_PIXELS_YUYV : VKS_PIXELS_RGBA8;
    } else {
        if (media_open(source, &src.media, err, sizeof err)) { cli_error("%s", err); goto done; }
        const media_info_t *mi = media_info(src.media);
        src.w = mi->width;
        src.h = mi->height;
        src.fps = mi->fps_num ? (double)mi->fps_num / mi->fps_den : 30;
        src.format = VKS_PIXELS_RGBA8;
    }

    /* 2. window system and Vulkan */
    const char *const *exts;
    uint32_t next;
    if (win_init(&exts, &next, err, sizeof err)) { cli_error("%s", err); goto done; }
    glfw_up = true;
    vks_context_options_t co = {.device = device, .instance_extensions = exts, .instance_extension_count = next, .swapchain = 1};
    vks_status_t st;
    if ((st = vks_context_create(&co, &ctx))) {
        cli_engine_error("Vulkan", st);
        if (st == VKS_ERR_UNSUPPORTED) fprintf(stderr, "vkstyle: 'vkstyle video' writes a stylized file without a window\n");
        goto done;
    }
    vks_device_info_t dev;
    vks_context_device_info(ctx, &dev);
    if ((st = vks_model_load(ctx, model_path, &model))) { cli_engine_error("model", st); goto done; }

    /* 3. sizes */
    uint32_t pw = size_w ? size_w : src.w, ph = size_w ? size_h : src.h;
    if (!size_w) {
        uint32_t cap_side = !strcmp(dev.type, "cpu") ? 192 : 640;
        if (pw > cap_side || ph > cap_side) {
            double k = (double)cap_side / (pw > ph ? pw : ph);
            pw = (uint32_t)fmax(2, round(pw * k));
            ph = (uint32_t)fmax(2, round(ph * k));
            if (!quiet)
                printf("processing at %ux%u to keep the frame rate up on %s (--size to choose)\n", pw & ~1u, ph, dev.name);
        }
    }
    if (src.format == VKS_PIXELS_YUYV) pw &= ~1u;
    src.w = pw;
    src.h = ph;
    if (!win_w) {
        uint32_t k = (479 + pw) / pw;
        win_w = pw * k;
        win_h = ph * k;
    }
    if (src.media && media_set_output(src.media, pw, ph, MEDIA_RGBA, err, sizeof err)) { cli_error("%s", err); goto done; }

    if (win_create(ctx, "vkstyle live", win_w, win_h, &win, err, sizeof err)) { cli_error("%s", err); goto done; }
    vks_session_options_t so = {.input = src.format, .output = win_pixel_format(win), .precision = precision};
    if ((st = vks_session_create_ex(model, pw, ph, &so, &sess))) {
        if (st == VKS_ERR_TOO_LARGE) cli_error("session: %s; choose a smaller --size", vks_last_error());
        else cli_engine_error("session", st);
        goto done;
    }
    ui.win = win;
    ui.sess = sess;
    ui.model = model;
    ui.nstyles = vks_model_style_count(model);
    ui.strength = (float)strength;
    ui.stabilize = stabilize > 0 ? (float)stabilize : 0.8f;   /* what 't' turns on */
    ui.stable = stabilize > 0;
    if ((st = vks_session_set_stabilize(sess, ui.stable ? ui.stabilize : 0.0f))) { cli_engine_error("--stabilize", st); goto done; }
    ui.weights[0] = 1;
    if (style) {
        if (cli_parse_styles(style, model, ui.weights, err, sizeof err)) { cli_error("%s", err); goto done; }
        ui.custom_mix = true;
        for (uint32_t i = 0; i < ui.nstyles; i++)
            if (ui.weights[i] > ui.weights[(uint32_t)ui.pos]) ui.pos = (float)i;
    }
    if ((st = vks_session_set_style_weights(sess, ui.weights, ui.nstyles))) { cli_engine_error("style", st); goto done; }
    win_set_user(win, &ui);
    glfwSetKeyCallback(win_glfw(win), on_key);
    glfwSetScrollCallback(win_glfw(win), on_scroll);

    size_t slot_bytes = (size_t)pw * ph * (src.format == VKS_PIXELS_YUYV ? 2 : 4);
    src.mb.back.px = malloc(slot_bytes);
    src.mb.mid.px = malloc(slot_bytes);
    src.mb.front.px = malloc(slot_bytes);
    shot_px = malloc((size_t)pw * ph * 4);
    if (!src.mb.back.px || !src.mb.mid.px || !src.mb.front.px || !shot_px) { cli_error("out of memory"); goto done; }
    if (pthread_create(&thread, NULL, camera ? camera_main : file_main, &src)) { cli_error("cannot start a thread"); goto done; }
    thread_started = true;
    if (!quiet)
        printf("%s %ux%u%s -> %ux%u on %s; keys: 1-9 style, left/right mix, up/down strength, space pause, s save, "
               "f fullscreen, q quit\n", camera ? "camera" : "video", camera ? src.cw : media_info(src.media)->width,
               camera ? src.ch : media_info(src.media)->height,
               camera ? (src.cfourcc == CAP_YUYV ? " YUYV" : " MJPEG") : "", pw, ph, dev.name);

    struct sigaction sa = {.sa_handler = on_signal}, old_int, old_term;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGINT, &sa, &old_int);
    sigaction(SIGTERM, &sa, &old_term);

    long presented = 0;
    bool have_output = false, want_shot_now = false;
    int64_t shown_index = -1, front_index = -1;
    double t_title = now_s(), gpu_ms = 0, fps = 0;
    bool gpu_timed = false;
    long frames_since = 0;
    char title[512], mix[256];
    rc = 0;
    while (!ui.quit && !g_stop && !glfwWindowShouldClose(win_glfw(win))) {
        glfwPollEvents();
        pthread_mutex_lock(&src.mb.m);
        bool failed = src.mb.failed;
        pthread_mutex_unlock(&src.mb.m);
        if (failed) {
            cli_error("%s", src.mb.err);
            rc = 1;
            break;
        }
        bool fresh = !ui.paused && mb_take(&src.mb);
        if (fresh) front_index = src.mb.front.source_index;
        if (ui.restyle) {
            if (!ui.custom_mix && (st = vks_session_set_style_weights(sess, ui.weights, ui.nstyles))) {
                cli_engine_error("style", st);
                rc = 1;
                break;
            }
            ui.restyle = false;
            /* a new style: start afresh rather than fade from the old one */
            if ((st = vks_session_reset_stabilize(sess))) { cli_engine_error("stabilize", st); rc = 1; break; }
            if (front_index >= 0) fresh = true; /* stylize the current frame again */
        }
        if (ui.restabilize) {
            if ((st = vks_session_set_stabilize(sess, ui.stable ? ui.stabilize : 0.0f))) {
                cli_engine_error("stabilize", st);
                rc = 1;
                break;
            }
            ui.restabilize = false;
            ui.redraw = true;
            if (front_index >= 0) fresh = true;
        }
        if (fresh) {
            double g0 = now_s();
            if ((st = vks_session_run_raw(sess, src.mb.front.px, NULL))) { cli_engine_error("stylizing", st); rc = 1; break; }
            /* GPU time from timestamps; without them the wall time of the run (title says "frame") */
            double ms = 1e3 * (now_s() - g0);
            gpu_timed = vks_session_last_gpu_ms(sess, &ms) == VKS_OK;
            gpu_ms = gpu_ms ? 0.8 * gpu_ms + 0.2 * ms : ms;
            have_output = true;
            shown_index = front_index;
        }
        if (have_output && (fresh || ui.redraw)) {
            want_shot_now = ui.save || (shot && frames_limit && presented + 1 >= frames_limit);
            win_frame_t f = {.width = pw, .height = ph, .strength = ui.strength, .source = src.mb.front.px,
                             .source_format = src.format, .readback = want_shot_now ? shot_px : NULL};
            vks_session_output_buffer(sess, &f.buffer, &f.offset, &(VkDeviceSize){0});
            int pr = win_present(win, &f, err, sizeof err);
            if (pr < 0) { cli_error("%s", err); rc = 1; break; }
            ui.redraw = false;
            if (pr == 0) {
                presented++;
                frames_since++;
                if (ui.save) {
                    char name[64];
                    time_t t = time(NULL);
                    strftime(name, sizeof name, "vkstyle-%Y%m%d-%H%M%S.png", localtime(&t));
                    if (save_png(name, shot_px, pw, ph, err, sizeof err)) cli_error("%s", err);
                    else if (!quiet) printf("saved %s\n", name);
                    ui.save = false;
                }
                if (frames_limit && presented >= frames_limit) break;
            } else {
                ui.redraw = true;
            }
        }
        double t = now_s();
        if (t - t_title >= 0.5) {
            fps = frames_since / (t - t_title);
            frames_since = 0;
            t_title = t;
            mix_text(&ui, mix, sizeof mix);
            char stab[32];
            if (ui.stable) snprintf(stab, sizeof stab, "stable %.1f", ui.stabilize);
            else snprintf(stab, sizeof stab, "stable off");
            snprintf(title, sizeof title, "vkstyle live - %s - strength %.1f - %s - %.1f fps - %s %.1f ms%s", mix,
                     ui.strength, stab, fps, gpu_timed ? "GPU" : "frame", gpu_ms, ui.paused ? " - paused" : "");
            glfwSetWindowTitle(win_glfw(win), title);
        }
        if (!fresh && !ui.redraw) glfwWaitEventsTimeout(0.1);
    }
    sigaction(SIGINT, &old_int, NULL);
    sigaction(SIGTERM, &old_term, NULL);
    if (shot && have_output && rc == 0) {
        if (!want_shot_now) {
            /* present once more with a read-back of what is on screen */
            win_frame_t f = {.width = pw, .height = ph, .strength = ui.strength, .source = src.mb.front.px,
                             .source_format = src.format, .readback = shot_px};
            vks_session_output_buffer(sess, &f.buffer, &f.offset, &(VkDeviceSize){0});
            if (win_present(win, &f, err, sizeof err) != 0) { cli_error("screenshot: %s", err); rc = 1; }
        }
        if (rc == 0 && save_png(shot, shot_px, pw, ph, err, sizeof err)) { cli_error("%s", err); rc = 1; }
        else if (rc == 0 && !quiet) printf("screenshot %s: %ux%u, source frame %lld\n", shot, pw, ph, (long long)shown_index);
    } else if (shot && !have_output && rc == 0) {
        cli_error("no frame was shown; %s not written", shot);
        rc = 1;
    }
    if (!quiet && presented) {
        pthread_mutex_lock(&src.mb.m);
        uint64_t published = src.mb.published, taken = src.mb.taken;
        pthread_mutex_unlock(&src.mb.m);
        printf("%ld frames presented; %llu of %llu source frames stylized (newest wins); last %.1f fps, %s %.1f ms/frame\n",
               presented, (unsigned long long)taken, (unsigned long long)published, fps, gpu_timed ? "GPU" : "wall",
               gpu_ms);
    }
done:
    if (thread_started) {
        pthread_mutex_lock(&src.mb.m);
        src.mb.stop = true;
        pthread_mutex_unlock(&src.mb.m);
        pthread_join(thread, NULL);
    }
    if (ctx && vks_context_validation_messages(ctx))
        fprintf(stderr, "vkstyle: %u Vulkan validation messages\n", vks_context_validation_messages(ctx));
    win_destroy(win);
    vks_session_destroy(sess);
    vks_model_destroy(model);
    vks_context_destroy(ctx);
    if (glfw_up) win_terminate();
    cap_close(src.cap);
    media_close(src.media);
    sws_freeContext(src.sws);
    free(src.tmp);
    free(src.mb.back.px);
    free(src.mb.mid.px);
    free(src.mb.front.px);
    free(shot_px);
    pthread_mutex_destroy(&src.mb.m);
    g_stop = 0;
    return rc;
}
#endif
