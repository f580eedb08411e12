/* vkstyle video and vkstyle live end to end, through the CLI (validation layer on: any
 * validation message fails), checked with FFmpeg (libavformat through media_in.c) and an
 * in-process engine session that stylizes the same decoded frames as `vkstyle image` would.
 *
 * Sizes are tiny for lavapipe: tests/data/clip.mp4 is 8 frames of 64x48 cut from the sample
 * clip (29.97 fps) with an AAC track. The live tests run under xvfb-run (they fail without it).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "image_io.h"
#include "media.h"
#include "vkstyle/vkstyle.h"

#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

static char g_tmp[256], g_clip[1024];
static vks_context_t *g_ctx;
static vks_model_t *g_model;

/* ------------------------------------------------------------------ helpers */

typedef struct {
    int status;  /* exit code, or 128+signal */
    char *out, *err;
} run_t;

static char *slurp(const char *path)
{
    FILE *f = fopen(path, "rb");
    if (!f) return strdup("");
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    fseek(f, 0, SEEK_SET);
    char *s = calloc(1, (size_t)n + 1);
    if (fread(s, 1, (size_t)n, f) != (size_t)n) s[0] = 0;
    fclose(f);
    return s;
}

enum { RUN_NO_DISPLAY = 1, RUN_XVFB = 2 };

/* Run vkstyle with args (NULL-terminated); fsize_kb > 0 limits the size of files it writes. */
static run_t run(int flags, long fsize_kb, ...)
{
    const char *argv[64];
    int n = 0;
    /* The sanitizer run preloads libasan and the driver: keep them away from Xvfb and xauth
       (LeakSanitizer would fail them) and give them back to vkstyle alone. */
    static char preload[1024];
    const char *pre = getenv("LD_PRELOAD");
    if (flags & RUN_XVFB) {
        if (pre && *pre) {
            argv[n++] = "env";
            argv[n++] = "-u";
            argv[n++] = "LD_PRELOAD";
        }
        argv[n++] = "xvfb-run";
        argv[n++] = "-a";
        argv[n++] = "-s";
        argv[n++] = "-screen 0 640x480x24";
        if (pre && *pre) {
            snprintf(preload, sizeof preload, "LD_PRELOAD=%s", pre);
            argv[n++] = "env";
            argv[n++] = preload;
        }
    }
    argv[n++] = VKS_CLI;
    va_list ap;
    va_start(ap, fsize_kb);
    const char *a;
    while ((a = va_arg(ap, const char *)) && n < 62) argv[n++] = a;
    va_end(ap);
    argv[n] = NULL;
    char outp[512], errp[512];
    snprintf(outp, sizeof outp, "%s/stdout.txt", g_tmp);
    snprintf(errp, sizeof errp, "%s/stderr.txt", g_tmp);
    printf("# $");
    for (int i = 0; i < n; i++) printf(" %s", argv[i]);
    printf("\n");
    fflush(stdout);
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        int o = open(outp, O_WRONLY | O_CREAT | O_TRUNC, 0644), e = open(errp, O_WRONLY | O_CREAT | O_TRUNC, 0644);
        dup2(o, 1);
        dup2(e, 2);
        if (fsize_kb > 0) {
            struct rlimit rl = {(rlim_t)fsize_kb * 1024, (rlim_t)fsize_kb * 1024};
            signal(SIGXFSZ, SIG_IGN);
            setrlimit(RLIMIT_FSIZE, &rl);
        }
        if (flags & RUN_NO_DISPLAY) {
            unsetenv("DISPLAY");
            unsetenv("WAYLAND_DISPLAY");
        }
        execvp(argv[0], (char *const *)argv);
        _exit(127);
    }
    int st;
    waitpid(pid, &st, 0);
    run_t r = {WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st), slurp(outp), slurp(errp)};
    if (*r.out) printf("# stdout: %s", r.out);
    if (*r.err) printf("# stderr: %s", r.err);
    printf("# exit %d\n", r.status);
    return r;
}

static void run_free(run_t *r)
{
    free(r->out);
    free(r->err);
}

static void assert_no_validation(const run_t *r)
{
    if (strstr(r->err, "validation") || strstr(r->err, "Validation")) fail_msg("validation messages: %s", r->err);
}

typedef struct {
    uint8_t **px; /* RGBA frames */
    double *t;
    int n;
    media_info_t info;
} frames_t;

/* Decode every frame of a file (at its size, or w x h), checking that decoding reports no error. */
static frames_t decode_all(const char *path, uint32_t w, uint32_t h)
{
    frames_t f = {0};
    media_in_t *in = NULL;
    char err[512];
    if (media_open(path, &in, err, sizeof err)) fail_msg("%s", err);
    f.info = *media_info(in);
    if (!w) { w = f.info.width; h = f.info.height; }
    assert_int_equal(media_set_output(in, w, h, MEDIA_RGBA, err, sizeof err), 0);
    for (;;) {
        uint8_t *px = malloc((size_t)w * h * 4);
        media_frame_t fr;
        media_result_t r = media_read(in, px, &fr, NULL, err, sizeof err);
        if (r == MEDIA_ERROR) fail_msg("decoding %s: %s", path, err);
        if (r != MEDIA_FRAME) { free(px); break; }
        f.px = realloc(f.px, (size_t)(f.n + 1) * sizeof *f.px);
        f.t = realloc(f.t, (size_t)(f.n + 1) * sizeof *f.t);
        f.px[f.n] = px;
        f.t[f.n++] = fr.seconds;
    }
    assert_int_equal(media_damaged_packets(in), 0);
    media_close(in);
    return f;
}

static void frames_free(frames_t *f)
{
    for (int i = 0; i < f->n; i++) free(f->px[i]);
    free(f->px);
    free(f->t);
}

/* What `vkstyle image` computes for this frame: the session on the RGB pixels. */
static uint8_t *stylize(const uint8_t *rgba, uint32_t w, uint32_t h)
{
    vks_session_t *s = NULL;
    vks_status_t st = vks_session_create(g_model, w, h, &s);
    if (st) fail_msg("session: %s", vks_last_error());
    uint8_t *out = malloc((size_t)w * h * 4);
    if (vks_session_run(s, rgba, out, 4)) fail_msg("run: %s", vks_last_error());
    vks_session_destroy(s);
    return out;
}

/* PSNR over RGB (luma_only: over BT.601 luma) of two RGBA images; b may have stride bw. */
static double psnr(const uint8_t *a, uint32_t aw, const uint8_t *b, uint32_t bw, uint32_t w, uint32_t h, bool luma_only)
{
    double se = 0;
    size_t n = 0;
    for (uint32_t y = 0; y < h; y++)
        for (uint32_t x = 0; x < w; x++) {
            const uint8_t *p = a + ((size_t)y * aw + x) * 4, *q = b + ((size_t)y * bw + x) * 4;
            if (luma_only) {
                double d = 0.299 * (p[0] - q[0]) + 0.587 * (p[1] - q[1]) + 0.114 * (p[2] - q[2]);
                se += d * d;
                n++;
            } else {
                for (int c = 0; c < 3; c++) se += (double)(p[c] - q[c]) * (p[c] - q[c]);
                n += 3;
            }
        }
    return se == 0 ? 999 : 10 * log10(255.0 * 255.0 * (double)n / se);
}

static char *tmp_path(const char *name)
{
    static char buf[4][512];
    static int i;
    i = (i + 1) % 4;
    snprintf(buf[i], sizeof buf[i], "%s/%s", g_tmp, name);
    return buf[i];
}

static bool have_program(const char *name)
{
    char cmd[256];
    snprintf(cmd, sizeof cmd, "command -v %s >/dev/null 2>&1", name);
    return system(cmd) == 0;
}

/* ------------------------------------------------------------------ vkstyle video */

/* Frames match the image path (--stabilize 0: each frame on its own; stabilization is tested in
 * test_session) */
static void test_video_matches_image(void **state)
{
    (void)state;
    char *out = tmp_path("out.mp4");
    run_t r = run(0, 0, "video", "--stabilize", "0", "--crf", "12", "-i", g_clip, "-o", out, NULL);
    assert_int_equal(r.status, 0);
    assert_no_validation(&r);
    assert_non_null(strstr(r.out, "fps end to end"));
    run_free(&r);

    frames_t in = decode_all(g_clip, 0, 0), got = decode_all(out, 0, 0);
    assert_int_equal(in.n, 8);
    assert_int_equal(got.n, in.n);                     /* frame count */
    assert_int_equal(got.info.width, 64);              /* size */
    assert_int_equal(got.info.height, 48);
    assert_int_equal(got.info.fps_num, in.info.fps_num); /* 30000/1001 */
    assert_int_equal(got.info.fps_den, in.info.fps_den);
    assert_int_equal(got.info.audio_streams, 1);       /* audio copied */
    for (int k = 0; k < in.n; k++) assert_true(fabs(got.t[k] - in.t[k]) < 1e-3); /* timing */
    for (int k = 0; k < in.n; k += 5) {
        uint8_t *want = stylize(in.px[k], 64, 48);
        double py = psnr(want, 64, got.px[k], 64, 64, 48, true), prgb = psnr(want, 64, got.px[k], 64, 64, 48, false);
        printf("# frame %d vs the image path: luma PSNR %.2f dB (RGB %.2f dB: 4:2:0 halves the colour resolution)\n", k, py, prgb);
        assert_true(py >= 35);
        free(want);
    }
    frames_free(&in);
    frames_free(&got);
}

/* With full colour resolution the whole RGB image matches the (fp32) image path; also with fp16
 * activations. */
static void check_video_444(const char *name, const char *precision)
{
    char *out = tmp_path(name);
    run_t r = run(0, 0, "video", "-q", "--stabilize", "0", "--crf", "8", "--chroma", "444", "--no-audio", "--precision", precision,
                  "-i", g_clip, "-o", out, NULL);
    assert_int_equal(r.status, 0);
    assert_no_validation(&r);
    assert_string_equal(r.out, ""); /* quiet */
    run_free(&r);
    frames_t in = decode_all(g_clip, 0, 0), got = decode_all(out, 0, 0);
    assert_int_equal(got.n, 8);
    assert_int_equal(got.info.audio_streams, 0);
    for (int k = 0; k < in.n; k += 7) {
        uint8_t *want = stylize(in.px[k], 64, 48);
        double p = psnr(want, 64, got.px[k], 64, 64, 48, false);
        printf("# frame %d, 4:4:4, %s: RGB PSNR %.2f dB\n", k, precision, p);
        assert_true(p >= 35);
        free(want);
    }
    frames_free(&in);
    frames_free(&got);
}

static void test_video_chroma444(void **state) { (void)state; check_video_444("out444.mp4", "fp32"); }
static void test_video_fp16(void **state) { (void)state; check_video_444("out444_fp16.mp4", "fp16"); }

/* Odd sizes: stylized at 33x25, written as 32x24 (4:2:0 needs even sizes). */
static void test_video_odd_size(void **state)
{
    (void)state;
    char *out = tmp_path("odd.mp4");
    run_t r = run(0, 0, "video", "--stabilize", "0", "--size", "33x25", "--crf", "12", "-i", g_clip, "-o", out, NULL);
    assert_int_equal(r.status, 0);
    assert_no_validation(&r);
    assert_non_null(strstr(r.err, "33x25 frames are written as 32x24"));
    run_free(&r);
    frames_t in = decode_all(g_clip, 33, 25), got = decode_all(out, 0, 0);
    assert_int_equal(got.n, 8);
    assert_int_equal(got.info.width, 32);
    assert_int_equal(got.info.height, 24);
    uint8_t *want = stylize(in.px[3], 33, 25);
    double p = psnr(got.px[3], 32, want, 33, 32, 24, true);
    printf("# odd size, frame 3: luma PSNR %.2f dB\n", p);
    assert_true(p >= 35);
    free(want);
    frames_free(&in);
    frames_free(&got);
}

static void test_video_bad_input(void **state)
{
    (void)state;
    char *out = tmp_path("bad.mp4");
    run_t r = run(0, 0, "video", "-i", tmp_path("missing.mp4"), "-o", out, NULL);
    assert_int_equal(r.status, 1);
    assert_non_null(strstr(r.err, "No such file"));
    run_free(&r);
    char *txt = tmp_path("notes.mp4");
    FILE *f = fopen(txt, "w");
    fputs("this is not a video\n", f);
    fclose(f);
    r = run(0, 0, "video", "-i", txt, "-o", out, NULL);
    assert_int_equal(r.status, 1);
    assert_non_null(strstr(r.err, "not a video file"));
    run_free(&r);
    r = run(0, 0, "video", "-i", g_clip, "-o", tmp_path("out.weird"), NULL);
    assert_int_equal(r.status, 1);
    assert_non_null(strstr(r.err, "container"));
    run_free(&r);
    r = run(0, 0, "video", "-i", g_clip, "-o", g_clip, NULL);
    assert_int_equal(r.status, 1);
    assert_non_null(strstr(r.err, "overwrite the input"));
    run_free(&r);
    /* a preset the encoder refuses or lacks: one line and no file (it was an x264 error on
       stderr, then an MPEG-4 file and exit 0) */
    r = run(0, 0, "video", "--preset", "ultrafastest", "-i", g_clip, "-o", out, NULL);
    assert_int_equal(r.status, 1);
    assert_non_null(strstr(r.err, "--preset 'ultrafastest': libx264 has no such preset"));
    assert_ptr_equal(strchr(r.err, '\n'), r.err + strlen(r.err) - 1);
    run_free(&r);
    r = run(0, 0, "video", "--encoder", "mpeg4", "--preset", "fast", "-i", g_clip, "-o", out, NULL);
    assert_int_equal(r.status, 1);
    assert_non_null(strstr(r.err, "--preset 'fast': the mpeg4 encoder has no presets"));
    run_free(&r);
    assert_int_equal(access(out, F_OK), -1); /* nothing written */
}

/* The rotation ffprobe reads from a file's video stream (its display matrix), "" if none. */
static void probe_rotation(const char *path, char *buf, size_t n)
{
    char cmd[1200];
    snprintf(cmd, sizeof cmd, "ffprobe -v error -select_streams v:0 -show_entries stream_side_data=rotation "
                              "-of default=nw=1:nk=1 '%s'", path);
    FILE *p = popen(cmd, "r");
    assert_non_null(p);
    buf[0] = 0;
    if (!fgets(buf, (int)n, p)) buf[0] = 0;
    assert_int_equal(pclose(p), 0);
    buf[strcspn(buf, "\n")] = 0;
}

/* A phone video's rotation (a display matrix) comes out with the stylized video: the matrix is
 * carried over and the frames are coded as in the input (it was dropped: the output played
 * sideways). */
static void test_video_keeps_rotation(void **state)
{
    (void)state;
    assert_true(have_program("ffmpeg") && have_program("ffprobe")); /* the suite's dependencies */
    char *rot = tmp_path("rot90.mp4"), *out = tmp_path("rot90_out.mp4");
    char cmd[2400], want[64], got[64];
    snprintf(cmd, sizeof cmd, "ffmpeg -v error -y -i '%s' -c copy -an -metadata:s:v:0 rotate=90 '%s'", g_clip, rot);
    assert_int_equal(system(cmd), 0);
    probe_rotation(rot, want, sizeof want);
    assert_string_not_equal(want, ""); /* the input does carry a rotation */
    run_t r = run(0, 0, "video", "-q", "--crf", "30", "-i", rot, "-o", out, NULL);
    assert_int_equal(r.status, 0);
    assert_no_validation(&r);
    run_free(&r);
    probe_rotation(out, got, sizeof got);
    printf("# rotation: input %s, output %s\n", want, got);
    assert_string_equal(got, want);
    frames_t in = decode_all(rot, 0, 0), res = decode_all(out, 0, 0);
    assert_true(fabs(in.info.rotation) == 90);  /* what media_in.c reads, both ways */
    assert_true(res.info.rotation == in.info.rotation);
    assert_int_equal(res.info.width, 64);        /* frames coded as in the input, not turned */
    assert_int_equal(res.info.height, 48);
    assert_int_equal(res.n, 8);
    frames_free(&in);
    frames_free(&res);
}

/* A file that breaks mid-stream: a clear error, and the frames before it form a valid file. */
static void test_video_truncated_input(void **state)
{
    (void)state;
    char src[1024], *cut = tmp_path("fox_cut.mp4"), *out = tmp_path("fox_cut_out.mp4");
    snprintf(src, sizeof src, "%s/samples/fox.mp4", VKS_SOURCE_DIR);
    FILE *a = fopen(src, "rb"), *b = fopen(cut, "wb");
    assert_non_null(a);
    char buf[4096];
    for (size_t left = 100000; left;) {
        size_t n = fread(buf, 1, left < sizeof buf ? left : sizeof buf, a);
        assert_true(n > 0);
        fwrite(buf, 1, n, b);
        left -= n;
    }
    fclose(a);
    fclose(b);
    run_t r = run(0, 0, "video", "--max-side", "16", "-i", cut, "-o", out, NULL);
    assert_int_equal(r.status, 1);
    assert_no_validation(&r);
    assert_non_null(strstr(r.err, "truncated"));
    const char *held = strstr(r.err, "holds the first ");
    assert_non_null(held);
    int kept = atoi(held + strlen("holds the first "));
    run_free(&r);
    frames_t got = decode_all(out, 0, 0);
    printf("# %d frames before the cut\n", got.n);
    assert_int_equal(got.n, kept);
    assert_true(got.n >= 20);
    assert_int_equal(got.info.width, 16);
    frames_free(&got);
}

/* The disk fills up (a file size limit): a clear error; the output keeps its complete
 * fragments (one keyframe every 2 frames here) and plays. */
static void test_video_write_error(void **state)
{
    (void)state;
    /* A full disk is simulated by a file-size limit, which also applies to drivers that back
     * device memory with files (Mesa 25 lavapipe: vkstyle refuses to allocate there, see
     * `vkstyle devices`, workaround memfd-file-size-limit). The MP4 writing this tests does not
     * depend on the driver; it runs on the others. */
    run_t d = run(0, 0, "devices", NULL);
    bool memfd = strstr(d.out, "memfd-file-size-limit") != NULL;
    run_free(&d);
    if (memfd) {
        printf("# SKIPPED: the device's driver backs its memory with files, so a file-size limit cannot "
               "stand for a full disk here\n");
        skip();
    }
    char *out = tmp_path("full.mp4");
    run_t r = run(0, 6, "video", "--keyint", "2", "--crf", "12", "-i", g_clip, "-o", out, NULL);
    assert_int_equal(r.status, 1);
    assert_no_validation(&r);
    assert_non_null(strstr(r.err, "writing failed: File too large"));
    assert_non_null(strstr(r.err, "is playable"));
    run_free(&r);
    struct stat sb;
    assert_int_equal(stat(out, &sb), 0);
    assert_true(sb.st_size <= 6 * 1024);
    frames_t got = decode_all(out, 0, 0); /* fails on any decoding error */
    printf("# %d frames in %lld bytes\n", got.n, (long long)sb.st_size);
    assert_true(got.n > 0 && got.n < 8);
    assert_int_equal(media_mp4_trim(out), sb.st_size); /* nothing incomplete left */
    frames_free(&got);
}

/* ------------------------------------------------------------------ vkstyle live */

static int shown_frame(const char *out)
{
    const char *p = strstr(out, "source frame ");
    if (!p) fail_msg("no 'source frame' in: %s", out);
    return atoi(p + strlen("source frame "));
}

/* The live path's pixels against the image path's (--stabilize 0: each frame on its own) */
static void test_live_screenshot(void **state)
{
    (void)state;
    if (!have_program("xvfb-run")) fail_msg("xvfb-run not found (scripts/deps.sh installs it)");
    char *shot = tmp_path("shot.png");
    /* the window at the frame's size: the output buffer is copied straight into the swapchain image */
    run_t r = run(RUN_XVFB, 0, "live", "--stabilize", "0", "--source", g_clip, "--frames", "10", "--screenshot", shot, "--window", "64x48", NULL);
    assert_int_equal(r.status, 0);
    assert_no_validation(&r);
    assert_non_null(strstr(r.out, "10 frames presented"));
    int k = shown_frame(r.out);
    run_free(&r);
    vks_image_t img = {0};
    char err[256];
    assert_int_equal(vks_image_load(shot, &img, err, sizeof err), 0);
    assert_int_equal(img.w, 64);
    assert_int_equal(img.h, 48);
    double mean = 0, var = 0;
    size_t n = (size_t)img.w * img.h * 3;
    for (size_t i = 0; i < n; i++) mean += img.px[i];
    mean /= (double)n;
    for (size_t i = 0; i < n; i++) var += (img.px[i] - mean) * (img.px[i] - mean);
    assert_true(sqrt(var / (double)n) > 10); /* not blank */
    frames_t in = decode_all(g_clip, 0, 0);
    assert_true(k >= 0 && k < in.n);
    uint8_t *want = stylize(in.px[k], 64, 48), *shot4 = malloc(64 * 48 * 4);
    for (size_t i = 0; i < 64 * 48; i++) {
        memcpy(shot4 + 4 * i, img.px + 3 * i, 3);
        shot4[4 * i + 3] = 255;
    }
    double p = psnr(want, 64, shot4, 64, 64, 48, false);
    printf("# screenshot (source frame %d) vs the image path: %.2f dB\n", k, p);
    assert_true(p >= 35);
    free(want);
    free(shot4);
    frames_free(&in);
    vks_image_free(&img);
}

/* Strength 0.5: the GPU blend with the source frame; a bigger window: the scaling blit. */
static void test_live_strength(void **state)
{
    (void)state;
    if (!have_program("xvfb-run")) fail_msg("xvfb-run not found (scripts/deps.sh installs it)");
    char *shot = tmp_path("shot_half.png");
    run_t r = run(RUN_XVFB, 0, "live", "--stabilize", "0", "--source", g_clip, "--frames", "3", "--screenshot", shot, "--strength", "0.5", NULL);
    assert_int_equal(r.status, 0);
    assert_no_validation(&r);
    int k = shown_frame(r.out);
    run_free(&r);
    vks_image_t img = {0};
    char err[256];
    assert_int_equal(vks_image_load(shot, &img, err, sizeof err), 0);
    assert_int_equal(img.w, 64);
    frames_t in = decode_all(g_clip, 0, 0);
    assert_true(k >= 0 && k < in.n);
    uint8_t *sty = stylize(in.px[k], 64, 48), *want = malloc(64 * 48 * 4), *shot4 = malloc(64 * 48 * 4);
    for (size_t i = 0; i < 64 * 48; i++) {
        for (int c = 0; c < 3; c++) want[4 * i + c] = (uint8_t)lround(0.5 * sty[4 * i + c] + 0.5 * in.px[k][4 * i + c]);
        memcpy(shot4 + 4 * i, img.px + 3 * i, 3);
    }
    double p = psnr(want, 64, shot4, 64, 64, 48, false);
    printf("# strength 0.5 screenshot vs CPU blend: %.2f dB\n", p);
    assert_true(p >= 40);
    free(sty);
    free(want);
    free(shot4);
    frames_free(&in);
    vks_image_free(&img);
}

static void test_live_no_display_no_camera(void **state)
{
    (void)state;
    run_t r = run(RUN_NO_DISPLAY, 0, "live", "--source", g_clip, "--frames", "1", NULL);
    assert_int_equal(r.status, 1);
    assert_non_null(strstr(r.err, "no display"));
    assert_non_null(strstr(r.err, "vkstyle video"));
    run_free(&r);
    r = run(RUN_NO_DISPLAY, 0, "live", "--source", "/dev/video99", NULL);
    assert_int_equal(r.status, 1);
    assert_non_null(strstr(r.err, "no camera"));
    assert_non_null(strstr(r.err, "--source FILE"));
    run_free(&r);
}

/* ------------------------------------------------------------------ main */

static int group_setup(void **state)
{
    (void)state;
    snprintf(g_tmp, sizeof g_tmp, "/tmp/vkstyle-test-video-XXXXXX");
    if (!mkdtemp(g_tmp)) return -1;
    snprintf(g_clip, sizeof g_clip, "%s/tests/data/clip.mp4", VKS_SOURCE_DIR);
    char models[1024];
    snprintf(models, sizeof models, "%s/models", VKS_SOURCE_DIR);
    setenv("VKSTYLE_MODELS", models, 1);
    setenv("VKSTYLE_VALIDATION", "1", 1);
    setenv("XDG_CACHE_HOME", g_tmp, 1);
    media_log_setup(false);
    vks_context_options_t o = {.validation = 1, .cache_dir = ""};
    if (vks_context_create(&o, &g_ctx)) { fprintf(stderr, "context: %s\n", vks_last_error()); return -1; }
    char path[1100];
    snprintf(path, sizeof path, "%s/udnie.safetensors", models);
    if (vks_model_load(g_ctx, path, &g_model)) { fprintf(stderr, "model: %s\n", vks_last_error()); return -1; }
    return 0;
}

static int group_teardown(void **state)
{
    (void)state;
    uint32_t msgs = vks_context_validation_messages(g_ctx);
    vks_model_destroy(g_model);
    vks_context_destroy(g_ctx);
    char cmd[512];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", g_tmp);
    if (system(cmd)) fprintf(stderr, "cannot remove %s\n", g_tmp);
    return msgs ? -1 : 0;
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_video_matches_image),
        cmocka_unit_test(test_video_chroma444),
        cmocka_unit_test(test_video_fp16),
        cmocka_unit_test(test_video_odd_size),
        cmocka_unit_test(test_video_keeps_rotation),
        cmocka_unit_test(test_video_bad_input),
        cmocka_unit_test(test_video_truncated_input),
        cmocka_unit_test(test_video_write_error),
        cmocka_unit_test(test_live_screenshot),
        cmocka_unit_test(test_live_strength),
        cmocka_unit_test(test_live_no_display_no_camera),
    };
    return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
