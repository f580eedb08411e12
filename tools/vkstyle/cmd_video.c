/* vkstyle video: stylize every frame of a video file.
 *
 * Three stages overlap: a decoder thread (FFmpeg decode + scale to RGBA), this thread
 * (the engine session; it is used from this thread only) and an encoder thread (RGBA ->
 * YUV 4:2:0, H.264, muxing, audio stream copy). Small bounded queues connect them, so memory
 * stays bounded and the GPU works while the CPU decodes and encodes. Any stage that fails
 * stops the others through the queues; the output is finalized with what was written (see
 * media.h: fragmented MP4, cut after the last complete fragment when writing fails).
 */
#include "cli.h"
#include "cli_memory.h"

#include <stdio.h>

#ifndef VKSTYLE_HAVE_MEDIA
int cmd_video(int argc, char **argv)
{
    (void)argc;
    (void)argv;
    return cli_error("video: this vkstyle was built without media support (FFmpeg); rebuild with "
                     "-DVKSTYLE_MEDIA=ON after installing libavformat-dev libavcodec-dev libswscale-dev");
}
#else

#include "media.h"

#include <getopt.h>
#include <math.h>
#include <pthread.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

static void usage(FILE *f)
{
    fprintf(f,
        "usage: vkstyle video [-m MODEL] -i INPUT -o OUTPUT [options]\n"
        "\n"
        "Stylizes every frame of INPUT (any video FFmpeg reads) and writes OUTPUT (.mp4, .mkv, .mov):\n"
        "H.264 (libx264, else another encoder FFmpeg has), the same frame rate and frame count,\n"
        "audio streams copied. MP4/MOV are written fragmented, straight to OUTPUT: if writing fails or\n"
        "the run is stopped (Ctrl-C), OUTPUT keeps the frames written so far and stays playable.\n"
        "\n"
        "  -m, --model MODEL     model file, or a name in the models folder (default: udnie)\n"
        "  -i, --input FILE      input video (file or URL)\n"
        "  -o, --output FILE     output video\n"
        "  -s, --style SPEC      for multi-style models: NAME, INDEX, or a mix NAME=W,NAME=W\n"
        "      --size WxH        stylize at WxH (default: the input's size)\n"
        "      --max-side N      shrink frames so that their longer side is at most N\n"
        CLI_STABILIZE_HELP
        "      --crf N           quality 0..51, lower is better (default 18)\n"
        "      --preset P        x264 preset (default fast)\n"
        "      --encoder NAME    FFmpeg encoder (default libx264, else another H.264 encoder, else mpeg4)\n"
        "      --chroma 420|444  colour resolution: 420 (default, plays everywhere) or 444 (full; the\n"
        "                        stylized texture keeps its colours; fewer players decode it)\n"
        "      --keyint N        frames between keyframes (default: about 2 s); MP4 fragments start at\n"
        "                        keyframes, so this is also what a failed write can lose at most\n"
        "      --no-audio        drop the audio\n"
        CLI_PRECISION_HELP
        CLI_RANGE_HELP
        CLI_MAX_MEMORY_HELP
        "      --device D        Vulkan device index or name substring (see 'vkstyle devices')\n"
        "  -q, --quiet           no progress bar and no summary\n"
        "  -v, --verbose         show FFmpeg's warnings\n"
        "  -h, --help            this help\n"
        "\n"
        "Frames with an odd width or height lose their last column or row in the output (H.264 4:2:0\n"
        "needs even sizes); --max-side picks even sizes.\n");
}

/* ------------------------------------------------------------------ bounded queue */

enum { IT_FRAME, IT_PACKET };
typedef struct {
    int kind;
    uint8_t *px;
    media_frame_t f;
    void *pkt;
} item_t;

#define QCAP 4
typedef struct {
    item_t it[QCAP];
    int head, count;
    bool closed, cancelled;
    pthread_mutex_t m;
    pthread_cond_t cv;
} queue_t;

static void q_init(queue_t *q)
{
    memset(q, 0, sizeof *q);
    pthread_mutex_init(&q->m, NULL);
    pthread_cond_init(&q->cv, NULL);
}

/* Blocks while full; fails (-1) once the consumer cancelled. */
static int q_push(queue_t *q, item_t it)
{
    pthread_mutex_lock(&q->m);
    while (q->count == QCAP && !q->cancelled) pthread_cond_wait(&q->cv, &q->m);
    int rc = -1;
    if (!q->cancelled) {
        q->it[(q->head + q->count++) % QCAP] = it;
        rc = 0;
        pthread_cond_broadcast(&q->cv);
    }
    pthread_mutex_unlock(&q->m);
    return rc;
}

/* Blocks while empty; -1 when closed and drained, or cancelled. */
static int q_pop(queue_t *q, item_t *it)
{
    pthread_mutex_lock(&q->m);
    while (q->count == 0 && !q->closed && !q->cancelled) pthread_cond_wait(&q->cv, &q->m);
    int rc = -1;
    if (q->count && !q->cancelled) {
        *it = q->it[q->head];
        q->head = (q->head + 1) % QCAP;
        q->count--;
        rc = 0;
        pthread_cond_broadcast(&q->cv);
    }
    pthread_mutex_unlock(&q->m);
    return rc;
}

static void q_set(queue_t *q, bool *flag)
{
    pthread_mutex_lock(&q->m);
    *flag = true;
    pthread_cond_broadcast(&q->cv);
    pthread_mutex_unlock(&q->m);
}
static void q_close(queue_t *q) { q_set(q, &q->closed); }
static void q_cancel(queue_t *q) { q_set(q, &q->cancelled); }

static void item_free(item_t *it)
{
    free(it->px);
    if (it->pkt) media_packet_free(it->pkt);
}

static void q_free(queue_t *q)
{
    for (int i = 0; i < q->count; i++) item_free(&q->it[(q->head + i) % QCAP]);
    pthread_mutex_destroy(&q->m);
    pthread_cond_destroy(&q->cv);
}

/* ------------------------------------------------------------------ stages */

static volatile sig_atomic_t g_interrupted;
static void on_sigint(int sig) { (void)sig; g_interrupted = 1; }

typedef struct {
    media_in_t *in;
    media_out_t *out;
    queue_t q_dec, q_enc;  /* decoder -> stylizer -> encoder */
    size_t frame_bytes, stride;
    char dec_err[512], enc_err[512];
    bool dec_failed, enc_failed;
    int64_t encoded;
} job_t;

static void *decoder_main(void *arg)
{
    job_t *j = arg;
    for (;;) {
        if (g_interrupted) break;
        item_t it = {0};
        it.px = malloc(j->frame_bytes);
        if (!it.px) {
            snprintf(j->dec_err, sizeof j->dec_err, "out of memory");
            j->dec_failed = true;
            break;
        }
        media_result_t r = media_read(j->in, it.px, &it.f, &it.pkt, j->dec_err, sizeof j->dec_err);
        if (r == MEDIA_PACKET) {
            free(it.px);
            it.px = NULL;
            it.kind = IT_PACKET;
        } else if (r != MEDIA_FRAME) {
            free(it.px);
            if (r == MEDIA_ERROR) j->dec_failed = true;
            break;
        }
        if (q_push(&j->q_dec, it)) {
            item_free(&it);
            break;
        }
    }
    q_close(&j->q_dec);
    return NULL;
}

static void *encoder_main(void *arg)
{
    job_t *j = arg;
    item_t it;
    while (q_pop(&j->q_enc, &it) == 0) {
        int r;
        if (it.kind == IT_FRAME) {
            r = media_out_frame(j->out, it.px, j->stride, it.f.pts, j->enc_err, sizeof j->enc_err);
            if (!r) j->encoded++;
        } else {
            r = media_out_packet(j->out, it.pkt, j->enc_err, sizeof j->enc_err);
            it.pkt = NULL;
        }
        item_free(&it);
        if (r) {
            j->enc_failed = true;
            q_cancel(&j->q_enc);
            break;
        }
    }
    return NULL;
}

static void fmt_time(double s, char *buf, size_t n)
{
    if (!isfinite(s) || s < 0) { snprintf(buf, n, "--:--"); return; }
    long t = lround(s);
    if (t >= 3600) snprintf(buf, n, "%ld:%02ld:%02ld", t / 3600, t / 60 % 60, t % 60);
    else snprintf(buf, n, "%ld:%02ld", t / 60, t % 60);
}

static void progress(int64_t done, int64_t total, double elapsed, bool final)
{
    double fps = elapsed > 0 ? done / elapsed : 0;
    char eta[32], el[32];
    fmt_time(total > 0 && fps > 0 ? (total - done) / fps : NAN, eta, sizeof eta);
    fmt_time(elapsed, el, sizeof el);
    if (total > 0) {
        int width = 30, fill = (int)(width * (double)(done > total ? total : done) / total);
        char bar[64];
        for (int i = 0; i < width; i++) bar[i] = i < fill ? '#' : '.';
        bar[width] = 0;
        fprintf(stderr, "\r  [%s] %3d%%  frame %lld/%lld  %.2f fps  %s  ETA %s \033[K", bar,
                (int)(100.0 * done / total), (long long)done, (long long)total, fps, el, final ? "0:00" : eta);
    } else {
        fprintf(stderr, "\r  frame %lld  %.2f fps  %s \033[K", (long long)done, fps, el);
    }
    if (final) fputc('\n', stderr);
    fflush(stderr);
}

static bool same_file(const char *a, const char *b)
{
    struct stat sa, sb;
    return stat(a, &sa) == 0 && stat(b, &sb) == 0 && sa.st_dev == sb.st_dev && sa.st_ino == sb.st_ino;
}

typedef struct video_args {
    const char *model, *in_path, *out_path, *style, *device, *preset, *encoder;
    uint32_t size_w, size_h, max_side;
    int crf, quiet, verbose, no_audio, chroma444, keyint;
    double stabilize;
    vks_precision_t precision;
    uint64_t max_memory;
} video_args_t;

/* The options, checked against each other; 0 to run, 1 after an error, -1 after --help. */
static int parse_args(int argc, char **argv, video_args_t *a)
{
    *a = (video_args_t){.model = "udnie", .crf = 18, .stabilize = CLI_STABILIZE_DEFAULT, .precision = VKS_PRECISION_FP32};
    enum { O_SIZE = 256, O_MAXSIDE, O_CRF, O_PRESET, O_ENCODER, O_NOAUDIO, O_DEVICE, O_CHROMA, O_KEYINT, O_PRECISION, O_MAXMEM, O_STAB };
    static const struct option opts[] = {
        {"model", required_argument, 0, 'm'}, {"input", required_argument, 0, 'i'},
        {"output", required_argument, 0, 'o'}, {"style", required_argument, 0, 's'},
        {"size", required_argument, 0, O_SIZE}, {"max-side", required_argument, 0, O_MAXSIDE},
        {"crf", required_argument, 0, O_CRF}, {"preset", required_argument, 0, O_PRESET},
        {"encoder", required_argument, 0, O_ENCODER}, {"chroma", required_argument, 0, O_CHROMA},
        {"keyint", required_argument, 0, O_KEYINT}, {"no-audio", no_argument, 0, O_NOAUDIO},
        {"device", required_argument, 0, O_DEVICE}, {"quiet", no_argument, 0, 'q'},
        {"precision", required_argument, 0, O_PRECISION}, {"max-memory", required_argument, 0, O_MAXMEM},
        {"stabilize", required_argument, 0, O_STAB},
        {"verbose", no_argument, 0, 'v'}, {"help", no_argument, 0, 'h'}, CLI_RANGE_OPTIONS, {0, 0, 0, 0},
    };
    optind = 1;
    opterr = 0;
    int c;
    while ((c = getopt_long(argc, argv, ":m:i:o:s:qvh", opts, NULL)) != -1) {
        switch (c) {
        case 'm': a->model = optarg; break;
        case 'i': a->in_path = optarg; break;
        case 'o': a->out_path = optarg; break;
        case 's': a->style = optarg; break;
        case 'q': a->quiet = 1; break;
        case 'v': a->verbose = 1; break;
        case 'h': usage(stdout); return -1;
        case O_DEVICE: a->device = optarg; break;
        case O_PRECISION: if (cli_parse_precision(optarg, &a->precision)) return 1; break;
        case O_MAXMEM:
            if (cli_parse_bytes(optarg, &a->max_memory)) return cli_error("--max-memory must be a size such as 512M or 2G");
            break;
        case O_PRESET: a->preset = optarg; break;
        case O_ENCODER: a->encoder = optarg; break;
        case O_NOAUDIO: a->no_audio = 1; break;
        case O_STAB: if (cli_parse_double("--stabilize", optarg, 0, 1, &a->stabilize)) return 1; break;
        case O_KEYINT: if (cli_parse_int("--keyint", optarg, 1, 10000, &a->keyint)) return 1; break;
        case O_CHROMA:
            if (strcmp(optarg, "420") && strcmp(optarg, "444")) return cli_error("--chroma must be 420 or 444");
            a->chroma444 = !strcmp(optarg, "444");
            break;
        case O_SIZE: if (cli_parse_size("--size", optarg, 2, &a->size_w, &a->size_h)) return 1; break;
        case O_MAXSIDE: if (cli_parse_u32("--max-side", optarg, 2, 32768, &a->max_side)) return 1; break;
        case O_CRF: if (cli_parse_int("--crf", optarg, 0, 51, &a->crf)) return 1; break;
        case CLI_O_INPUT_RANGE:
        case CLI_O_OUTPUT_RANGE: if (cli_range_option(c, optarg)) return 1; break;
        case ':': return cli_error("video: option '%s' needs a value (see vkstyle video --help)", argv[optind - 1]);
        default: return cli_error("video: unknown option '%s' (see vkstyle video --help)", argv[optind - 1]);
        }
    }
    if (optind < argc) return cli_error("video: unexpected argument '%s'", argv[optind]);
    if (!a->in_path || !a->out_path) {
        usage(stderr);
        return cli_error("video: -i INPUT and -o OUTPUT are required");
    }
    if (a->size_w && a->max_side) return cli_error("video: --size and --max-side exclude each other");
    if (same_file(a->in_path, a->out_path)) return cli_error("video: the output would overwrite the input %s", a->in_path);
    return 0;
}

/* The size frames are stylized at: the input's, --size, or within --max-side (even sizes). */
static void frame_size(const video_args_t *a, const media_info_t *mi, uint32_t *w, uint32_t *h)
{
    *w = mi->width;
    *h = mi->height;
    if (a->size_w) {
        *w = a->size_w;
        *h = a->size_h;
    } else if (a->max_side && (*w > a->max_side || *h > a->max_side)) {
        double k = (double)a->max_side / (*w > *h ? *w : *h);
        uint32_t w0 = *w, h0 = *h;
        *w = 2 * (uint32_t)fmax(1, round(w0 * k / 2));
        *h = 2 * (uint32_t)fmax(1, round(h0 * k / 2));
    }
}

/* The session for w x h (in tiles when the frames do not fit in one piece), with the style mix
 * and the stabilization; 1 after an error (printed). */
static int open_session(const video_args_t *a, vks_model_t *model, uint32_t w, uint32_t h, vks_session_t **sess)
{
    vks_status_t st;
    char err[512];
    uint32_t nstyles = vks_model_style_count(model);
    float weights[VKS_MAX_STYLES] = {1.0f};
    if (a->style) {
        if (cli_parse_styles(a->style, model, weights, err, sizeof err)) return cli_error("%s", err);
        if (!cli_weights_convex(weights, nstyles))
            fprintf(stderr, "vkstyle: warning: style weights are not a convex combination (non-negative, sum 1); "
                            "the result extrapolates\n");
    }
    /* frames that do not fit in one piece run in tiles (slowly) */
    vks_session_options_t so = {.precision = a->precision, .max_memory = a->max_memory, .tiling = VKS_TILING_AUTO,
                                .tune_progress = a->quiet ? NULL : cli_tune_progress};
    if ((st = vks_session_create_ex(model, w, h, &so, sess))) {
        if (st == VKS_ERR_TOO_LARGE) return cli_error("%s: %s; use --max-side or --size", a->in_path, vks_last_error());
        return cli_engine_error(a->in_path, st);
    }
    if ((st = vks_session_set_style_weights(*sess, weights, nstyles))) return cli_engine_error("style", st);
    if (vks_session_tiles(*sess)) {
        if (a->stabilize > 0 && !a->quiet) fprintf(stderr, "vkstyle: note: frames run in tiles are not stabilized\n");
    } else if ((st = vks_session_set_stabilize(*sess, (float)a->stabilize))) {
        return cli_engine_error("--stabilize", st);
    }
    if (vks_session_tiles(*sess) && !a->quiet)
        fprintf(stderr, "vkstyle: note: %ux%u frames do not fit the device in one piece; each runs in %u tiles within "
                        "%.1f MiB (slower)\n", w, h, vks_session_tiles(*sess), vks_session_device_bytes(*sess) / 1048576.0);
    return 0;
}

typedef struct run_stats {
    int64_t done;           /* frames stylized */
    double gpu_s;           /* wall time of the runs */
    double gpu_ts_ms;       /* GPU time of the frames timed by timestamps (not tiled, device has them) */
    int64_t gpu_ts_frames;
    bool gpu_failed;
} run_stats_t;

/* The main thread's part: decoded items in, each frame stylized in place, everything on to the
 * encoder in order, with the progress bar on a terminal. */
static void stylize_frames(job_t *j, vks_session_t *sess, int64_t total, bool tty, double t0, run_stats_t *rs)
{
    double last_draw = 0;
    item_t it;
    vks_status_t st;
    while (q_pop(&j->q_dec, &it) == 0) {
        if (g_interrupted) { item_free(&it); break; }
        if (it.kind == IT_FRAME) {
            double g0 = cli_now_s();
            if ((st = vks_session_run(sess, it.px, it.px, 4))) {
                cli_engine_error("stylizing", st);
                rs->gpu_failed = true;
                item_free(&it);
                break;
            }
            rs->gpu_s += cli_now_s() - g0;
            double ms;
            if (vks_session_last_gpu_ms(sess, &ms) == VKS_OK) rs->gpu_ts_ms += ms, rs->gpu_ts_frames++;
            rs->done++;
            double t = cli_now_s();
            if (tty && t - last_draw > 0.1) {
                progress(rs->done, total, t - t0, false);
                last_draw = t;
            }
        }
        if (q_push(&j->q_enc, it)) { item_free(&it); break; }
    }
    q_cancel(&j->q_dec); /* the decoder stops if we stopped early */
    q_close(&j->q_enc);
}

/* What happened, on stderr, and the exit code: the first error of each kind, what the output
 * file holds after a failure; the summary line on stdout. */
static int report(const video_args_t *a, const job_t *j, const run_stats_t *rs, bool close_failed, const char *close_err,
                  int64_t kept, const char *enc_name, uint32_t ew, uint32_t eh, vks_context_t *ctx,
                  const vks_model_t *model, double t_setup, double t0, double t1)
{
    bool failed = rs->gpu_failed || j->enc_failed || close_failed || j->dec_failed || g_interrupted;
    if (!failed && j->encoded == 0) {
        cli_print_error("%s: no video frame could be decoded", a->in_path);
        unlink(a->out_path);
        return 1;
    }
    if (j->enc_failed) cli_print_error("%s", j->enc_err);
    else if (close_failed) cli_print_error("%s", close_err);
    if (j->dec_failed) cli_print_error("%s", j->dec_err);
    if (g_interrupted) cli_print_error("interrupted");
    if (media_damaged_packets(j->in))
        fprintf(stderr, "vkstyle: warning: %s: %lld damaged packet%s skipped\n", a->in_path,
                (long long)media_damaged_packets(j->in), media_damaged_packets(j->in) == 1 ? "" : "s");
    if (failed) {
        if (kept) fprintf(stderr, "vkstyle: %s holds the first %lld frame%s and is playable\n", a->out_path, (long long)kept,
                          kept == 1 ? "" : "s");
        else fprintf(stderr, "vkstyle: no frame was written; %s was not created\n", a->out_path);
    }
    if (!a->quiet && rs->done) {
        const media_info_t *mi = media_info(j->in);
        vks_device_info_t dev;
        vks_context_device_info(ctx, &dev);
        double fr = mi->fps_num ? (double)mi->fps_num / mi->fps_den : 0;
        printf("%s: %lld frames %ux%u at %.4g fps, %s crf %d, %s on %s: %.1f s, %.2f fps end to end "
               "(stylizing %.1f ms/frame; setup %.1f s)",
               a->out_path, (long long)(failed ? kept : j->encoded), ew, eh, fr, enc_name, a->crf,
               vks_model_name(model), dev.name, t1 - t0, rs->done / (t1 - t0), 1e3 * rs->gpu_s / rs->done, t0 - t_setup);
        if (rs->gpu_ts_frames) printf(", GPU %.2f ms/frame", rs->gpu_ts_ms / rs->gpu_ts_frames);
        printf("\n");
    }
    return failed ? (g_interrupted ? 130 : 1) : 0;
}

int cmd_video(int argc, char **argv)
{
    video_args_t a;
    int parsed = parse_args(argc, argv, &a);
    if (parsed) return parsed < 0 ? 0 : 1;
    char model_path[4096], err[512];
    if (cli_find_model(a.model, model_path, sizeof model_path)) return 1;
    media_log_setup(a.verbose);

    int rc = 1;
    vks_context_t *ctx = NULL;
    vks_model_t *model = NULL;
    vks_session_t *sess = NULL;
    job_t j = {0};
    q_init(&j.q_dec);
    q_init(&j.q_enc);
    bool dec_started = false, enc_started = false;
    pthread_t dec_thread, enc_thread;
    vks_status_t st;
    double t_setup = cli_now_s();

    if (media_open(a.in_path, &j.in, err, sizeof err)) { cli_print_error("%s", err); goto done; }
    const media_info_t *mi = media_info(j.in);
    uint32_t w, h;
    frame_size(&a, mi, &w, &h);
    uint32_t ew = w & ~1u, eh = h & ~1u;
    if (ew < 2 || eh < 2) { cli_print_error("video: frames of %ux%u are too small to encode", w, h); goto done; }
    if (media_set_output(j.in, w, h, MEDIA_RGBA, err, sizeof err)) { cli_print_error("%s", err); goto done; }
    media_want_audio(j.in, !a.no_audio);
    j.stride = (size_t)w * 4;
    j.frame_bytes = j.stride * h;

    vks_context_options_t co = {.device = a.device};
    if ((st = vks_context_create(&co, &ctx))) { cli_engine_error("Vulkan", st); goto done; }
    if (cli_load_model(ctx, model_path, &model)) goto done;
    if (open_session(&a, model, w, h, &sess)) goto done;

    media_out_options_t mo = {.crf = a.crf, .preset = a.preset, .encoder = a.encoder, .chroma444 = a.chroma444,
                              .keyint = a.keyint};
    if (media_out_open(a.out_path, j.in, ew, eh, &mo, &j.out, err, sizeof err)) { cli_print_error("%s", err); goto done; }
    char enc_name[32];
    snprintf(enc_name, sizeof enc_name, "%s", media_out_encoder(j.out));
    if ((ew != w || eh != h) && !a.quiet)
        fprintf(stderr, "vkstyle: note: %ux%u frames are written as %ux%u (H.264 4:2:0 needs even sizes)\n", w, h, ew, eh);

    struct sigaction sa = {.sa_handler = on_sigint}, old_int, old_term;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGINT, &sa, &old_int);
    sigaction(SIGTERM, &sa, &old_term);
    signal(SIGXFSZ, SIG_IGN); /* a file size limit: let write() fail with EFBIG instead */

    bool tty = isatty(2) && !a.quiet;
    int64_t total = mi->frames > 0 ? mi->frames
                    : mi->duration > 0 && mi->fps_num ? (int64_t)llround(mi->duration * mi->fps_num / mi->fps_den) : 0;
    run_stats_t rs = {0};
    double t0 = cli_now_s();
    if (pthread_create(&dec_thread, NULL, decoder_main, &j) == 0) dec_started = true;
    if (pthread_create(&enc_thread, NULL, encoder_main, &j) == 0) enc_started = true;
    if (!dec_started || !enc_started) {
        cli_print_error("cannot start threads");
        q_cancel(&j.q_dec);
        q_close(&j.q_enc);
    } else {
        stylize_frames(&j, sess, total, tty, t0, &rs);
    }
    if (dec_started) pthread_join(dec_thread, NULL);
    if (enc_started) pthread_join(enc_thread, NULL);
    sigaction(SIGINT, &old_int, NULL);
    sigaction(SIGTERM, &old_term, NULL);
    int64_t kept = 0;
    char cerr[512] = "";
    int close_rc = media_out_close(j.out, &kept, cerr, sizeof cerr);
    j.out = NULL;
    double t1 = cli_now_s();
    if (tty && rs.done) progress(rs.done, total > 0 && rs.done <= total ? total : rs.done, t1 - t0, true);
    if (dec_started && enc_started)
        rc = report(&a, &j, &rs, close_rc != 0, cerr, kept, enc_name, ew, eh, ctx, model, t_setup, t0, t1);
done:
    if (ctx && vks_context_validation_messages(ctx))
        fprintf(stderr, "vkstyle: %u Vulkan validation messages\n", vks_context_validation_messages(ctx));
    media_out_close(j.out, NULL, NULL, 0);
    q_free(&j.q_dec);
    q_free(&j.q_enc);
    media_close(j.in);
    vks_session_destroy(sess);
    vks_model_destroy(model);
    vks_context_destroy(ctx);
    g_interrupted = 0;
    return rc;
}
#endif
