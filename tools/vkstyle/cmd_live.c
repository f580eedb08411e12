/* vkstyle live: stylize a webcam (V4L2) or a video file in a window, in real time.
 *
 * A capture thread produces frames (live_source.c: camera: YUYV kept raw for the GPU, MJPEG
 * decoded by libjpeg-turbo; file: FFmpeg at its native frame rate, looping) into a triple
 * buffer: the newest frame wins, nothing queues. This thread owns the engine session and the
 * window: it stylizes the newest frame, and presents the session's output buffer straight from
 * GPU memory (window.c); the keys change the mix and strength (live_keys.c). Here: the options,
 * the setup, and the frame loop.
 */
#include "cli.h"
#include "cli_memory.h"

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

#include "image_io.h"
#include "live_keys.h"
#include "live_source.h"
#include "window.h"

#include "vkstyle/vkstyle_vulkan.h"

#include <getopt.h>
#include <limits.h>
#include <math.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

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
        CLI_STABILIZE_HELP
        "      --frames N        quit after presenting N frames\n"
        "      --screenshot FILE save the last presented frame (PNG/JPEG) when quitting\n"
        CLI_PRECISION_HELP
        CLI_RANGE_HELP
        "      --device D        Vulkan device index or name substring (see 'vkstyle devices')\n"
        "  -q, --quiet           print nothing but errors\n"
        "  -h, --help            this help\n"
        "\n"
        "keys: 1-9 style; left/right and mouse wheel slide between neighbouring styles; up/down\n"
        "      strength; t stabilization on/off; space pause; s save a PNG; f fullscreen; q or Esc quit\n");
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

static volatile sig_atomic_t g_stop;
static void on_signal(int sig) { (void)sig; g_stop = 1; }

/* ------------------------------------------------------------------ options */

typedef struct {
    const char *model_arg, *source, *style, *device, *shot;
    uint32_t size_w, size_h, cap_w, cap_h, win_w, win_h, fourcc;
    long frames_limit;
    double strength, stabilize;
    int quiet, list;
    vks_precision_t precision;
} live_opts_t;

/* -1: go on; else the exit code (--help: 0; a bad option: 1, said on stderr). */
static int parse_options(int argc, char **argv, live_opts_t *o)
{
    *o = (live_opts_t){.model_arg = "udnie", .source = "/dev/video0", .strength = 1.0, .stabilize = CLI_STABILIZE_DEFAULT,
                       .precision = VKS_PRECISION_FP32};
    enum { O_SOURCE = 256, O_LIST, O_CAPTURE, O_FORMAT, O_SIZE, O_WINDOW, O_STRENGTH, O_FRAMES, O_SHOT, O_DEVICE, O_PRECISION, O_STAB };
    static const struct option opts[] = {
        {"model", required_argument, 0, 'm'}, {"style", required_argument, 0, 's'},
        {"source", required_argument, 0, O_SOURCE}, {"list-sources", no_argument, 0, O_LIST},
        {"capture", required_argument, 0, O_CAPTURE}, {"format", required_argument, 0, O_FORMAT},
        {"size", required_argument, 0, O_SIZE}, {"window", required_argument, 0, O_WINDOW},
        {"strength", required_argument, 0, O_STRENGTH}, {"frames", required_argument, 0, O_FRAMES},
        {"screenshot", required_argument, 0, O_SHOT}, {"device", required_argument, 0, O_DEVICE},
        {"precision", required_argument, 0, O_PRECISION}, {"stabilize", required_argument, 0, O_STAB},
        {"quiet", no_argument, 0, 'q'}, {"help", no_argument, 0, 'h'}, CLI_RANGE_OPTIONS, {0, 0, 0, 0},
    };
    optind = 1;
    opterr = 0;
    int c;
    while ((c = getopt_long(argc, argv, ":m:s:qh", opts, NULL)) != -1) {
        switch (c) {
        case 'm': o->model_arg = optarg; break;
        case 's': o->style = optarg; break;
        case 'q': o->quiet = 1; break;
        case 'h': usage(stdout); return 0;
        case O_SOURCE: o->source = optarg; break;
        case O_LIST: o->list = 1; break;
        case O_DEVICE: o->device = optarg; break;
        case O_PRECISION: if (cli_parse_precision(optarg, &o->precision)) return 1; break;
        case O_SHOT: o->shot = optarg; break;
        case O_CAPTURE: if (cli_parse_size("--capture", optarg, 1, &o->cap_w, &o->cap_h)) return 1; break;
        case O_SIZE: if (cli_parse_size("--size", optarg, 2, &o->size_w, &o->size_h)) return 1; break;
        case O_WINDOW: if (cli_parse_size("--window", optarg, 1, &o->win_w, &o->win_h)) return 1; break;
        case O_FORMAT:
            if (!strcmp(optarg, "yuyv")) o->fourcc = CAP_YUYV;
            else if (!strcmp(optarg, "mjpeg")) o->fourcc = CAP_MJPEG;
            else return cli_error("--format must be yuyv or mjpeg");
            break;
        case O_STRENGTH: if (cli_parse_double("--strength", optarg, 0, 1, &o->strength)) return 1; break;
        case O_STAB: if (cli_parse_double("--stabilize", optarg, 0, 1, &o->stabilize)) return 1; break;
        case O_FRAMES: {
            long long n;
            if (cli_parse_ll("--frames", optarg, 1, INT_MAX, &n)) return 1;
            o->frames_limit = (long)n;
            break;
        }
        case CLI_O_INPUT_RANGE:
        case CLI_O_OUTPUT_RANGE: if (cli_range_option(c, optarg)) return 1; break;
        case ':': return cli_error("live: option '%s' needs a value (see vkstyle live --help)", argv[optind - 1]);
        default: return cli_error("live: unknown option '%s' (see vkstyle live --help)", argv[optind - 1]);
        }
    }
    if (optind < argc) return cli_error("live: unexpected argument '%s'", argv[optind]);
    return -1;
}

/* ------------------------------------------------------------------ setup */

typedef struct {
    const live_opts_t *o;
    live_source_t src;
    bool glfw_up;
    vks_context_t *ctx;
    vks_model_t *model;
    vks_session_t *sess;
    win_t *win;
    live_keys_t keys;
    vks_device_info_t dev;
    uint32_t pw, ph;            /* processing size */
    uint8_t *shot_px;           /* the read-back of a presented frame, RGBA */
    /* the frame loop */
    long presented, frames_since;
    bool have_output, want_shot_now, gpu_timed;
    int64_t shown_index, front_index;
    double t_title, gpu_ms, fps;
    double t_first, t_last;     /* when the first and the last frame were presented */
} live_t;

/* The window system, the Vulkan context on a device that can present, the model. */
static int open_device(live_t *l, const char *model_path)
{
    char err[512];
    const char *const *exts;
    uint32_t next;
    if (win_init(&exts, &next, err, sizeof err)) return cli_print_error("%s", err), -1;
    l->glfw_up = true;
    vks_context_options_t co = {.device = l->o->device, .instance_extensions = exts, .instance_extension_count = next,
                                .swapchain = 1};
    vks_status_t st;
    if ((st = vks_context_create(&co, &l->ctx))) {
        cli_engine_error("Vulkan", st);
        if (st == VKS_ERR_UNSUPPORTED) fprintf(stderr, "vkstyle: 'vkstyle video' writes a stylized file without a window\n");
        return -1;
    }
    vks_context_device_info(l->ctx, &l->dev);
    if (cli_load_model(l->ctx, model_path, &l->model)) return -1;
    return 0;
}

/* The processing size (--size, else the source's, capped for the device) and the window's. */
static void choose_sizes(live_t *l, uint32_t *win_w, uint32_t *win_h)
{
    const live_opts_t *o = l->o;
    uint32_t pw = o->size_w ? o->size_w : l->src.w, ph = o->size_w ? o->size_h : l->src.h;
    if (!o->size_w) {
        uint32_t cap_side = !strcmp(l->dev.type, "cpu") ? 192 : 640;
        if (pw > cap_side || ph > cap_side) {
            double k = (double)cap_side / (pw > ph ? pw : ph);
            pw = (uint32_t)fmax(2, round(pw * k));
            ph = (uint32_t)fmax(2, round(ph * k));
            if (!o->quiet)
                printf("processing at %ux%u to keep the frame rate up on %s (--size to choose)\n", pw & ~1u, ph, l->dev.name);
        }
    }
    if (l->src.format == VKS_PIXELS_YUYV) pw &= ~1u;
    l->pw = pw;
    l->ph = ph;
    *win_w = o->win_w;
    *win_h = o->win_h;
    if (!*win_w) {
        uint32_t k = (479 + pw) / pw;
        *win_w = pw * k;
        *win_h = ph * k;
    }
}

/* The window, the session writing the window's pixel layout, the keys, the starting mix. */
static int open_window_session(live_t *l, uint32_t win_w, uint32_t win_h)
{
    char err[512];
    if (win_create(l->ctx, "vkstyle live", win_w, win_h, &l->win, err, sizeof err)) return cli_print_error("%s", err), -1;
    vks_session_options_t so = {.input = l->src.format, .output = win_pixel_format(l->win), .precision = l->o->precision,
                                .tune_progress = l->o->quiet ? NULL : cli_tune_progress};
    vks_status_t st;
    if ((st = vks_session_create_ex(l->model, l->pw, l->ph, &so, &l->sess))) {
        if (st == VKS_ERR_TOO_LARGE) cli_print_error("session: %s; choose a smaller --size", vks_last_error());
        else cli_engine_error("session", st);
        return -1;
    }
    if (live_keys_init(&l->keys, l->win, l->model, l->o->style, (float)l->o->strength, err, sizeof err))
        return cli_print_error("%s", err), -1;
    if ((st = vks_session_set_style_weights(l->sess, l->keys.weights, l->keys.nstyles)))
        return cli_engine_error("style", st), -1;
    l->keys.stabilize = l->o->stabilize > 0 ? (float)l->o->stabilize : (float)CLI_STABILIZE_DEFAULT;   /* what 't' turns on */
    l->keys.stable = l->o->stabilize > 0;
    if ((st = vks_session_set_stabilize(l->sess, l->keys.stable ? l->keys.stabilize : 0.0f)))
        return cli_engine_error("--stabilize", st), -1;
    return 0;
}

/* ------------------------------------------------------------------ the frame loop */

/* Take the newest source frame (unless paused), re-apply a changed mix, and stylize when there
 * is something new to show. 0, or -1 after saying why. */
static int stylize(live_t *l, bool *fresh)
{
    live_keys_t *k = &l->keys;
    vks_status_t st;
    *fresh = !k->paused && live_source_take(&l->src);
    if (*fresh) l->front_index = l->src.front.source_index;
    if (k->restyle) {
        if (!k->custom_mix && (st = vks_session_set_style_weights(l->sess, k->weights, k->nstyles)))
            return cli_engine_error("style", st), -1;
        k->restyle = false;
        /* a new style: start afresh rather than fade from the old one */
        if ((st = vks_session_reset_stabilize(l->sess))) return cli_engine_error("stabilize", st), -1;
        if (l->front_index >= 0) *fresh = true; /* stylize the current frame again */
    }
    if (k->restabilize) {
        if ((st = vks_session_set_stabilize(l->sess, k->stable ? k->stabilize : 0.0f)))
            return cli_engine_error("stabilize", st), -1;
        k->restabilize = false;
        k->redraw = true;
        if (l->front_index >= 0) *fresh = true;
    }
    if (!*fresh) return 0;
    double g0 = cli_now_s();
    if ((st = vks_session_run_raw(l->sess, l->src.front.px, NULL))) return cli_engine_error("stylizing", st), -1;
    /* GPU time from timestamps; without them the wall time of the run (title says "frame") */
    double ms = 1e3 * (cli_now_s() - g0);
    l->gpu_timed = vks_session_last_gpu_ms(l->sess, &ms) == VKS_OK;
    l->gpu_ms = l->gpu_ms ? 0.8 * l->gpu_ms + 0.2 * ms : ms;
    l->have_output = true;
    l->shown_index = l->front_index;
    return 0;
}

/* Present the session's output (blended with the source below strength 1), reading it back
 * when readback is not NULL. As win_present. */
static int present_output(live_t *l, uint8_t *readback, char *err, size_t errsz)
{
    win_frame_t f = {.width = l->pw, .height = l->ph, .strength = l->keys.strength, .source = l->src.front.px,
                     .source_format = l->src.format, .readback = readback};
    vks_session_output_buffer(l->sess, &f.buffer, &f.offset, &(VkDeviceSize){0});
    return win_present(l->win, &f, err, errsz);
}

/* Show the output if it is new or the window needs it, and save it for 's'. 1 when the frame
 * limit is reached; 0; -1 after saying why. */
static int present(live_t *l, bool fresh)
{
    live_keys_t *k = &l->keys;
    const live_opts_t *o = l->o;
    char err[512];
    if (!l->have_output || !(fresh || k->redraw)) return 0;
    l->want_shot_now = k->save || (o->shot && o->frames_limit && l->presented + 1 >= o->frames_limit);
    int pr = present_output(l, l->want_shot_now ? l->shot_px : NULL, err, sizeof err);
    if (pr < 0) return cli_print_error("%s", err), -1;
    k->redraw = false;
    if (pr != 0) {  /* nothing to present to: try again */
        k->redraw = true;
        return 0;
    }
    l->presented++;
    l->frames_since++;
    l->t_last = cli_now_s();
    if (l->presented == 1) l->t_first = l->t_last;
    if (k->save) {
        char name[64];
        time_t t = time(NULL);
        strftime(name, sizeof name, "vkstyle-%Y%m%d-%H%M%S.png", localtime(&t));
        if (save_png(name, l->shot_px, l->pw, l->ph, err, sizeof err)) cli_print_error("%s", err);
        else if (!o->quiet) printf("saved %s\n", name);
        k->save = false;
    }
    return o->frames_limit && l->presented >= o->frames_limit;
}

/* Twice a second: the mix, strength, FPS and GPU ms in the title. */
static void update_title(live_t *l)
{
    double t = cli_now_s();
    if (t - l->t_title < 0.5) return;
    l->fps = l->frames_since / (t - l->t_title);
    l->frames_since = 0;
    l->t_title = t;
    char title[512], mix[256];
    live_keys_mix_text(&l->keys, mix, sizeof mix);
    char stab[32];
    if (l->keys.stable) snprintf(stab, sizeof stab, "stable %.1f", l->keys.stabilize);
    else snprintf(stab, sizeof stab, "stable off");
    snprintf(title, sizeof title, "vkstyle live - %s - strength %.1f - %s - %.1f fps - %s %.1f ms%s", mix,
             l->keys.strength, stab, l->fps, l->gpu_timed ? "GPU" : "frame", l->gpu_ms, l->keys.paused ? " - paused" : "");
    glfwSetWindowTitle(win_glfw(l->win), title);
}

/* Until q, Esc, a closed window, SIGINT/SIGTERM, --frames or an error. The exit code. */
static int run_loop(live_t *l)
{
    struct sigaction sa = {.sa_handler = on_signal}, old_int, old_term;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGINT, &sa, &old_int);
    sigaction(SIGTERM, &sa, &old_term);
    l->shown_index = l->front_index = -1;
    l->t_title = cli_now_s();
    int rc = 0;
    char err[512];
    while (!l->keys.quit && !g_stop && !glfwWindowShouldClose(win_glfw(l->win))) {
        glfwPollEvents();
        if (live_source_failed(&l->src, err, sizeof err)) {
            cli_print_error("%s", err);
            rc = 1;
            break;
        }
        bool fresh;
        if (stylize(l, &fresh)) { rc = 1; break; }
        int pr = present(l, fresh);
        if (pr < 0) { rc = 1; break; }
        if (pr > 0) break;
        update_title(l);
        if (!fresh && !l->keys.redraw) glfwWaitEventsTimeout(0.1);
    }
    sigaction(SIGINT, &old_int, NULL);
    sigaction(SIGTERM, &old_term, NULL);
    return rc;
}

/* --screenshot and the summary line, after a loop that ended with rc. The exit code. */
static int finish(live_t *l, int rc)
{
    const live_opts_t *o = l->o;
    char err[512];
    if (o->shot && l->have_output && rc == 0) {
        /* present once more with a read-back of what is on screen */
        if (!l->want_shot_now && present_output(l, l->shot_px, err, sizeof err) != 0) {
            cli_print_error("screenshot: %s", err);
            rc = 1;
        }
        if (rc == 0 && save_png(o->shot, l->shot_px, l->pw, l->ph, err, sizeof err)) { cli_print_error("%s", err); rc = 1; }
        else if (rc == 0 && !o->quiet)
            printf("screenshot %s: %ux%u, source frame %lld\n", o->shot, l->pw, l->ph, (long long)l->shown_index);
    } else if (o->shot && !l->have_output && rc == 0) {
        cli_print_error("no frame was shown; %s not written", o->shot);
        rc = 1;
    }
    if (!o->quiet && l->presented) {
        uint64_t published, taken;
        live_source_counts(&l->src, &published, &taken);
        /* the average from the first frame presented (start-up excluded) to the last */
        double span = l->t_last - l->t_first, avg = l->presented > 1 && span > 0 ? (double)(l->presented - 1) / span : 0;
        printf("%ld frames presented; %llu of %llu source frames stylized (newest wins); %.2f fps on average, "
               "last %.1f fps, %s %.1f ms/frame\n", l->presented, (unsigned long long)taken,
               (unsigned long long)published, avg, l->fps, l->gpu_timed ? "GPU" : "wall", l->gpu_ms);
    }
    return rc;
}

/* Everything but the options: the source (first: a missing camera is the likelier problem),
 * the device, the sizes, the window and session, the reading thread, the loop. */
static int live_run(live_t *l, const char *model_path)
{
    const live_opts_t *o = l->o;
    char err[512];
    live_source_t *s = &l->src;
    if (live_source_open(s, o->source, o->cap_w, o->cap_h, o->size_w, o->size_h, o->fourcc, err, sizeof err))
        return cli_error("%s", err);
    uint32_t src_w = s->w, src_h = s->h, win_w, win_h;
    if (open_device(l, model_path)) return 1;
    choose_sizes(l, &win_w, &win_h);
    if (live_source_set_size(s, l->pw, l->ph, err, sizeof err)) return cli_error("%s", err);
    if (open_window_session(l, win_w, win_h)) return 1;
    if (!(l->shot_px = malloc((size_t)l->pw * l->ph * 4))) return cli_error("out of memory");
    if (live_source_start(s, err, sizeof err)) return cli_error("%s", err);
    if (!o->quiet)
        printf("%s %ux%u%s -> %ux%u on %s; keys: 1-9 style, left/right mix, up/down strength, t stabilization, space pause, s save, "
               "f fullscreen, q quit\n", s->camera ? "camera" : "video", src_w, src_h,
               s->camera ? (s->cfourcc == CAP_YUYV ? " YUYV" : " MJPEG") : "", l->pw, l->ph, l->dev.name);
    return finish(l, run_loop(l));
}

int cmd_live(int argc, char **argv)
{
    live_opts_t o;
    int rc = parse_options(argc, argv, &o);
    if (rc >= 0) return rc;
    if (o.list) return cap_list(&cap_sys_linux, stdout) > 0 ? 0 : 1;

    char model_path[4096];
    if (cli_find_model(o.model_arg, model_path, sizeof model_path)) return 1;
    media_log_setup(false);

    live_t l = {.o = &o};
    rc = live_run(&l, model_path);
    live_source_close(&l.src);  /* the reading thread first: it wakes the window system */
    if (l.ctx && vks_context_validation_messages(l.ctx))
        fprintf(stderr, "vkstyle: %u Vulkan validation messages\n", vks_context_validation_messages(l.ctx));
    win_destroy(l.win);
    vks_session_destroy(l.sess);
    vks_model_destroy(l.model);
    vks_context_destroy(l.ctx);
    if (l.glfw_up) win_terminate();
    free(l.shot_px);
    g_stop = 0;
    return rc;
}
#endif
