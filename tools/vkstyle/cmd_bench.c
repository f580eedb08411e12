/* vkstyle bench: per-layer GPU time, FLOPs, bytes and roofline against the device's own peaks. */
#include "cache.h"
#include "cli.h"
#include "cli_memory.h"
#include "image_io.h"

#include <errno.h>
#include <getopt.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static void usage(FILE *f)
{
    fprintf(f,
        "usage: vkstyle bench [-m MODEL] [--size WxH] [--iters N] [--warmup N] [--shaders] [--json FILE | --paced]\n"
        "       vkstyle bench --peak [--json FILE]\n"
        "\n"
        "Runs the network on random input and prints, per layer, the compute dispatches it records,\n"
        "the GPU time from timestamp queries (median and min-max over the iterations), FLOPs, bytes\n"
        "moved, GFLOP/s, GB/s and share of the frame; then the frame: dispatches, GPU ms, wall ms with\n"
        "data resident and with upload/download, FPS.\n"
        "With a measured peak (vkstyle bench --peak, cached per device and driver) each layer also\n"
        "shows its %% of the FMA peak and of the copy bandwidth: the roofline that says which shader to\n"
        "work on.\n"
        "\n"
        "  -m, --model MODEL   model file or name (default: udnie)\n"
        "  -s, --style SPEC    style or mix for multi-style models\n"
        "      --size WxH      input size (default 256x256)\n"
        "      --iters N       timed iterations (default 10)\n"
        "      --warmup N      untimed iterations first (default 2)\n"
        "      --precision P   activations in fp32 (default), fp16 or auto (fp16 where the device\n"
        "                      supports it); weights and arithmetic stay fp32\n"
        "      --peak          measure fp32/fp16 FMA throughput, copy bandwidth and the cost of a\n"
        "                      dispatch of almost no work, and cache them\n"
        "      --compare       also time the convolutions with weights and input from storage buffers\n"
        "                      (instead of the default uniform-buffer variants) on the same shapes, side\n"
        "                      by side; every variant is checked against the C reference by test_ops\n"
        "      --shaders       also time every dispatch of the frame (a timestamp after each, so with the\n"
        "                      barrier before it) and print the GPU time of each shader variant, most\n"
        "                      first: which shader to work on, or where two drivers differ on the same\n"
        "                      shaders (benchmarks/shaders_by_driver.sh)\n"
        "      --stabilize S   time the network with temporal stabilization S (0..1; default 0: off)\n"
        "      --tune          time every variant of every convolution on this device now (Winograd\n"
        "                      F(2x2), F(4x4) and F(6x6), the direct convolution's tiles, the transposed\n"
        "                      convolution's GEMM per tap, on GPUs the implicit GEMM's), print them per\n"
        "                      layer with the winner, and cache the choices\n"
        "                      (every command uses them; a shape first met is timed once;\n"
        "                      VKSTYLE_TUNE=0: a built-in heuristic instead)\n"
        "      --json FILE     also write everything as JSON ('-' for stdout, then the table goes to stderr)\n"
        "      --paced         after the warm-up, print 'ready', then time one frame each time a line\n"
        "                      arrives on standard input and print its wall ms and GPU ms (the\n"
        "                      library's path: input copied in, output left in the session); end at\n"
        "                      end of input. For benchmarks/bench_vs_pytorch.py, which alternates\n"
        "                      frames with another engine's so both see the same machine\n"
        "      --device D      Vulkan device index or name substring\n"
        CLI_RANGE_HELP
        "  -h, --help          this help\n");
}

/* The peaks are cached beside the pipeline cache, read and written by the same code (the engine's
 * cache.c: regular files only, written whole or not at all), one file per device and driver: the
 * name carries a hash of the device's and the driver's names. Two drivers of one device (Mesa 22.3
 * and 25 lavapipe: both 10005-0000) compile the same shaders to different peaks, and so does
 * lavapipe under LP_NATIVE_VECTOR_WIDTH=512 (its name says "512 bits"). */
static int peak_path(const vks_device_info_t *d, char *out, size_t n)
{
    static const unsigned char sep = 0xff;   /* between the two names */
    uint32_t h = vks_fnv1a(VKS_FNV_BASIS, d->name, strlen(d->name));
    h = vks_fnv1a(vks_fnv1a(h, &sep, 1), d->driver, strlen(d->driver));
    char name[64];
    snprintf(name, sizeof name, "peak-%04x-%04x-%08x.json", d->vendor_id, d->device_id, h);
    return vks_cache_path(NULL, name, out, n) == VKS_OK ? 0 : -1;
}

/* The peaks as the JSON of `--peak` and the per-device cache file (which adds the device) hold them. */
static json_t *peak_json(const vks_peak_t *p)
{
    return json_pack("{s:f,s:f,s:f,s:b,s:f}", "fp32_gflops", p->fp32_gflops, "fp16_gflops", p->fp16_gflops, "copy_gbs",
                     p->copy_gbs, "timestamps", p->timestamps, "dispatch_us", p->dispatch_us);
}

static void save_peak(const vks_device_info_t *d, const vks_peak_t *p)
{
    char path[1200];
    if (peak_path(d, path, sizeof path)) {
        cli_print_error("warning: peaks not cached: %s", vks_last_error());
        return;
    }
    json_t *j = peak_json(p);
    if (j && (json_object_set_new(j, "device", json_string(d->name)) || json_object_set_new(j, "driver", json_string(d->driver))))
        j = (json_decref(j), NULL);
    char *text = j ? json_dumps(j, JSON_INDENT(2)) : NULL;
    json_decref(j);
    if (!text) cli_print_error("warning: peaks not cached: out of memory");
    else if (vks_cache_write(path, text, strlen(text)) == VKS_OK) fprintf(stderr, "vkstyle: peaks cached in %s\n", path);
    else cli_print_error("warning: peaks not cached: %s", vks_last_error());
    free(text);
}

static int load_peak(const vks_device_info_t *d, vks_peak_t *p)
{
    char path[1200];
    void *text = NULL;
    size_t size = 0;
    if (peak_path(d, path, sizeof path) || vks_cache_read(path, 1u << 20, &text, &size)) return -1;
    json_t *j = json_loadb(text, size, 0, NULL);
    free(text);
    if (!j) return -1;
    p->fp32_gflops = json_number_value(json_object_get(j, "fp32_gflops"));
    p->fp16_gflops = json_number_value(json_object_get(j, "fp16_gflops"));
    p->copy_gbs = json_number_value(json_object_get(j, "copy_gbs"));
    p->dispatch_us = json_number_value(json_object_get(j, "dispatch_us"));   /* 0 in a file from before it */
    p->timestamps = json_is_true(json_object_get(j, "timestamps"));
    json_decref(j);
    return p->fp32_gflops > 0 && p->copy_gbs > 0 ? 0 : -1;
}

/* The whole document or nothing at path (a temporary file renamed over it). */
static int write_json(const json_t *j, const char *path, char *err, size_t errsz)
{
    vks_outfile_t o;
    if (!j) return snprintf(err, errsz, "%s: out of memory", path), -1;
    if (vks_outfile_open(&o, path, err, errsz)) return -1;
    errno = 0;
    int bad = json_dumpf(j, o.f, JSON_INDENT(2)) != 0 || fputc('\n', o.f) == EOF;
    return vks_outfile_commit(&o, bad ? (errno ? errno : EIO) : 0, err, errsz);
}

/* Profile the model again with the storage-buffer convolution shaders and print both. */
static int compare_variants(const vks_context_options_t *base, const char *model_path, const char *style, uint32_t w,
                            uint32_t h, const vks_session_options_t *so, uint32_t warmup, uint32_t iters, const vks_profile_t *a, FILE *tab, json_t *root)
{
    vks_context_options_t co = *base;
    co.conv_storage_weights = 1;
    vks_context_t *ctx = NULL;
    vks_model_t *model = NULL;
    vks_session_t *sess = NULL;
    vks_profile_t b = {0};
    vks_status_t st;
    int rc = 1;
    if ((st = vks_context_create(&co, &ctx))) { cli_engine_error("Vulkan", st); goto done; }
    if (cli_load_model(ctx, model_path, &model)) goto done;
    if ((st = vks_session_create_ex(model, w, h, so, &sess))) { cli_engine_error("session", st); goto done; }
    if (style) {
        float weights[VKS_MAX_STYLES];
        char err[512];
        if (cli_parse_styles(style, model, weights, err, sizeof err)) { cli_print_error("%s", err); goto done; }
        if ((st = vks_session_set_style_weights(sess, weights, vks_model_style_count(model)))) { cli_engine_error("style", st); goto done; }
    }
    fprintf(stderr, "vkstyle: again with storage-buffer weights and input...\n");
    if ((st = vks_session_profile(sess, warmup, iters, &b))) { cli_engine_error("bench", st); goto done; }
    fprintf(tab, "\nconvolution variants, GPU ms (median): the default (weights from a uniform buffer, *_ubo; input too where "
                 "its planes fit one, *_xubo) vs everything from storage buffers\n");
    fprintf(tab, "%-10s %-18s %-32s %10s %10s %8s\n", "layer", "op", "shape (CxHxW)", "uniform", "storage", "speedup");
    json_t *arr = json_array();
    for (uint32_t i = 0; i < a->count && i < b.count; i++) {
        const vks_layer_profile_t *x = &a->steps[i], *y = &b.steps[i];
        if (strncmp(x->op, "conv2d", 6)) continue;
        double sp = x->gpu_ms_median > 0 ? y->gpu_ms_median / x->gpu_ms_median : 0;
        fprintf(tab, "%-10.10s %-18.18s %-32.32s %10.2f %10.2f %7.2fx\n", x->name, x->op, x->shape, x->gpu_ms_median,
                y->gpu_ms_median, sp);
        json_array_append_new(arr, json_pack("{s:s,s:s,s:s,s:f,s:f}", "name", x->name, "op", x->op, "shape", x->shape,
                                             "uniform_ms", x->gpu_ms_median, "storage_ms", y->gpu_ms_median));
    }
    fprintf(tab, "frame: %.2f ms with the default variants, %.2f ms with storage-buffer weights\n", a->gpu_ms_median,
            b.gpu_ms_median);
    json_object_set_new(root, "compare", arr);
    rc = 0;
done:
    vks_profile_free(&b);
    vks_session_destroy(sess);
    vks_model_destroy(model);
    vks_context_destroy(ctx);
    return rc;
}

typedef struct bench_args {
    const char *model, *device, *json_path, *style;
    vks_precision_t precision;
    uint32_t w, h, iters, warmup;
    int peak_only, compare, tune, paced, shaders;
    double stabilize;
} bench_args_t;

/* The options; 0 to run, 1 after an error, -1 after --help. */
static int parse_args(int argc, char **argv, bench_args_t *a)
{
    *a = (bench_args_t){.model = "udnie", .precision = VKS_PRECISION_FP32, .w = 256, .h = 256, .iters = 10, .warmup = 2};
    enum { O_SIZE = 256, O_ITERS, O_WARMUP, O_JSON, O_PEAK, O_DEVICE, O_PRECISION, O_COMPARE, O_STAB, O_TUNE, O_PACED, O_SHADERS };
    static const struct option opts[] = {
        {"model", required_argument, 0, 'm'}, {"style", required_argument, 0, 's'},
        {"size", required_argument, 0, O_SIZE}, {"iters", required_argument, 0, O_ITERS},
        {"warmup", required_argument, 0, O_WARMUP}, {"json", required_argument, 0, O_JSON},
        {"peak", no_argument, 0, O_PEAK}, {"device", required_argument, 0, O_DEVICE},
        {"precision", required_argument, 0, O_PRECISION}, {"compare", no_argument, 0, O_COMPARE},
        {"stabilize", required_argument, 0, O_STAB}, {"tune", no_argument, 0, O_TUNE},
        {"paced", no_argument, 0, O_PACED}, {"shaders", no_argument, 0, O_SHADERS},
        {"help", no_argument, 0, 'h'}, CLI_RANGE_OPTIONS, {0, 0, 0, 0},
    };
    optind = 1;
    opterr = 0;
    int c;
    while ((c = getopt_long(argc, argv, ":m:s:h", opts, NULL)) != -1) {
        switch (c) {
        case 'm': a->model = optarg; break;
        case 's': a->style = optarg; break;
        case 'h': usage(stdout); return -1;
        case O_SIZE: if (cli_parse_size("--size", optarg, 1, &a->w, &a->h)) return 1; break;
        case O_ITERS: if (cli_parse_u32("--iters", optarg, 1, 100000, &a->iters)) return 1; break;
        case O_WARMUP: if (cli_parse_u32("--warmup", optarg, 0, 100000, &a->warmup)) return 1; break;
        case O_JSON: a->json_path = optarg; break;
        case O_PEAK: a->peak_only = 1; break;
        case O_DEVICE: a->device = optarg; break;
        case O_PRECISION: if (cli_parse_precision(optarg, &a->precision)) return 1; break;
        case O_COMPARE: a->compare = 1; break;
        case O_TUNE: a->tune = 1; break;
        case O_PACED: a->paced = 1; break;
        case O_SHADERS: a->shaders = 1; break;
        case O_STAB: if (cli_parse_double("--stabilize", optarg, 0, 1, &a->stabilize)) return 1; break;
        case CLI_O_INPUT_RANGE:
        case CLI_O_OUTPUT_RANGE: if (cli_range_option(c, optarg)) return 1; break;
        case ':': return cli_error("bench: option '%s' needs a value (see vkstyle bench --help)", argv[optind - 1]);
        default: return cli_error("bench: unknown option '%s' (see vkstyle bench --help)", argv[optind - 1]);
        }
    }
    if (optind < argc) return cli_error("bench: unexpected argument '%s'", argv[optind]);
    if (a->paced && (a->json_path || a->compare || a->peak_only || a->shaders))
        return cli_error("bench: --paced prints only its frames' times: it takes no --json, --compare, --peak or --shaders");
    char err[1024];
    if (a->json_path && strcmp(a->json_path, "-") && vks_outfile_probe(a->json_path, err, sizeof err))
        return cli_error("--json %s", err);   /* an unwritable place fails now, not after the run */
    return 0;
}

/* bench --peak: measure, print, cache. */
static int run_peak(vks_context_t *ctx, const vks_device_info_t *dev, FILE *tab, json_t *root)
{
    vks_peak_t peak = {0};
    fprintf(stderr, "vkstyle: measuring peaks on %s...\n", dev->name);
    vks_status_t st = vks_measure_peak(ctx, &peak);
    if (st) return cli_engine_error("peak", st);
    char f16[32] = "unsupported";
    if (peak.fp16_gflops > 0) snprintf(f16, sizeof f16, "%.1f GFLOP/s", peak.fp16_gflops);
    fprintf(tab, "%s (%s)\n  fp32 FMA:  %.1f GFLOP/s\n  fp16 FMA:  %s\n  copy:      %.1f GB/s (read + write)\n"
                 "  dispatch:  %.1f us (one of almost no work, and its barrier: the least a step costs)\n  timing:    %s\n",
            dev->name, dev->driver, peak.fp32_gflops, f16, peak.copy_gbs, peak.dispatch_us,
            peak.timestamps ? "GPU timestamps" : "wall clock (no timestamps)");
    save_peak(dev, &peak);
    json_object_set_new(root, "peak", peak_json(&peak));
    return 0;
}

/* The per-layer table and the frame line on tab, and the same figures in root; peak NULL when
 * none was measured. */
static void report(const vks_profile_t *prof, const vks_peak_t *peak, FILE *tab, json_t *root)
{
    fprintf(tab, "%-4s %-10s %-18s %-32s %4s %9s %17s %7s %8s %7s %6s", "#", "layer", "op", "shape (CxHxW)", "disp",
            "GPU ms", "[min-max]", "GFLOP", "GFLOP/s", "GB/s", "frame");
    if (peak) fprintf(tab, " %6s %6s", "%FMA", "%BW");
    fputc('\n', tab);
    json_t *steps = json_array();
    for (uint32_t i = 0; i < prof->count; i++) {
        const vks_layer_profile_t *s = &prof->steps[i];
        double ms = s->gpu_ms_median, gfs = ms > 0 ? s->flops / (ms * 1e6) : 0, gbs = ms > 0 ? s->bytes / (ms * 1e6) : 0;
        double share = prof->gpu_ms_median > 0 ? 100.0 * ms / prof->gpu_ms_median : 0;
        char range[40];
        snprintf(range, sizeof range, "[%.2f-%.2f]", s->gpu_ms_min, s->gpu_ms_max);
        fprintf(tab, "%-4u %-10.10s %-18.18s %-32.32s %4u %9.2f %17s %7.3f %8.1f %7.2f %5.1f%%", i, s->name, s->op, s->shape,
                s->dispatches, ms, range, s->flops / 1e9, gfs, gbs, share);
        if (peak) fprintf(tab, " %5.1f%% %5.1f%%", 100 * gfs / peak->fp32_gflops, 100 * gbs / peak->copy_gbs);
        fputc('\n', tab);
        json_t *js = json_pack("{s:s,s:s,s:s,s:i,s:f,s:f,s:f,s:f,s:f,s:f,s:f,s:f}", "name", s->name, "op", s->op, "shape",
                               s->shape, "dispatches", (json_int_t)s->dispatches, "gpu_ms_median", ms, "gpu_ms_min", s->gpu_ms_min, "gpu_ms_max", s->gpu_ms_max,
                               "flops", s->flops, "bytes", s->bytes, "gflops", gfs, "gbs", gbs, "frame_share", share / 100);
        if (peak) {
            json_object_set_new(js, "fma_peak_share", json_real(gfs / peak->fp32_gflops));
            json_object_set_new(js, "bw_peak_share", json_real(gbs / peak->copy_gbs));
        }
        json_array_append_new(steps, js);
    }
    double fps = prof->wall_ms_io > 0 ? 1000.0 / prof->wall_ms_io : 0;
    fprintf(tab, "frame: GPU %.2f ms [%.2f-%.2f] in %u dispatches, %.2f GFLOP, %.1f GFLOP/s; wall %.2f ms resident, %.2f ms with "
                 "upload/download = %.1f FPS\n", prof->gpu_ms_median, prof->gpu_ms_min, prof->gpu_ms_max, prof->dispatches, prof->flops / 1e9,
            prof->gpu_ms_median > 0 ? prof->flops / (prof->gpu_ms_median * 1e6) : 0, prof->wall_ms_resident, prof->wall_ms_io, fps);
    if (peak) {
        fprintf(tab, "peaks (vkstyle bench --peak): fp32 %.1f GFLOP/s, copy %.1f GB/s; the frame reaches %.1f%% of the FMA peak\n",
                peak->fp32_gflops, peak->copy_gbs,
                prof->gpu_ms_median > 0 ? 100 * prof->flops / (prof->gpu_ms_median * 1e6) / peak->fp32_gflops : 0);
        if (peak->dispatch_us > 0)   /* a peak file from before the dispatch floor has none */
            fprintf(tab, "dispatch floor %.1f us: the frame's %u dispatches cost at least %.2f ms (%.1f%% of it)\n",
                    peak->dispatch_us, prof->dispatches, prof->dispatches * peak->dispatch_us / 1e3,
                    prof->gpu_ms_median > 0 ? prof->dispatches * peak->dispatch_us / 1e3 / prof->gpu_ms_median * 100 : 0);
    } else
        fprintf(tab, "(run 'vkstyle bench --peak' once for the roofline columns)\n");
    json_object_set_new(root, "timestamps", json_boolean(prof->timestamps));
    json_object_set_new(root, "steps", steps);
    json_object_set_new(root, "frame", json_pack("{s:i,s:f,s:f,s:f,s:f,s:f,s:f,s:f,s:f}", "dispatches", (json_int_t)prof->dispatches,
                                                 "gpu_ms_median", prof->gpu_ms_median,
                                                 "gpu_ms_min", prof->gpu_ms_min, "gpu_ms_max", prof->gpu_ms_max, "wall_ms_resident",
                                                 prof->wall_ms_resident, "wall_ms_io", prof->wall_ms_io, "fps", fps, "flops",
                                                 prof->flops, "bytes", prof->bytes));
    if (peak) json_object_set_new(root, "peak", peak_json(peak));
}

/* The tuner's choices: every variant's time per layer with --tune, else a line; all of it in root. */
static void report_tuning(const vks_session_t *sess, int all, FILE *tab, json_t *root)
{
    uint32_t n, timed = 0, cached = 0;
    const vks_tune_layer_t *t = vks_session_tuning(sess, &n);
    json_t *arr = json_array();
    if (all && n) fprintf(tab, "convolution variants, GPU ms (each its best of 3 alternating rounds of 2 runs after a warm-up), * the one that runs:\n");
    for (uint32_t i = 0; i < n; i++) {
        timed += t[i].count > 0 && !t[i].cached;
        cached += t[i].cached;
        json_t *trials = json_array();
        if (all) fprintf(tab, "%-4u %-10.10s %-32.32s", t[i].layer + 1, t[i].name, t[i].shape);
        for (uint32_t k = 0; k < t[i].count; k++) {
            if (all) fprintf(tab, "  %s%s %.2f", k == t[i].chosen ? "*" : "", t[i].trials[k].variant, t[i].trials[k].ms);
            json_array_append_new(trials, json_pack("{s:s,s:f}", "variant", t[i].trials[k].variant, "ms", t[i].trials[k].ms));
        }
        if (all && t[i].warmup_ms > 0) fprintf(tab, "  (after %.0f ms of warm-up)", t[i].warmup_ms);
        if (all) fprintf(tab, "%s\n", t[i].count ? "" : "  (over the time bound: the heuristic)");
        json_array_append_new(arr, json_pack("{s:i,s:s,s:s,s:o,s:i,s:b,s:f}", "layer", t[i].layer + 1, "name", t[i].name,
                                             "shape", t[i].shape, "trials", trials, "chosen", t[i].chosen, "cached",
                                             t[i].cached, "warmup_ms", t[i].warmup_ms));
    }
    if (!all && n)
        fprintf(tab, "convolution variants: %u layers timed now, %u from the cache, %u on the heuristic (--tune shows "
                     "them)\n", timed, cached, n - timed - cached);
    else if (!n)
        fprintf(tab, "convolution variants: the built-in heuristic (tuning off: VKSTYLE_TUNE=0, no disk cache, or "
                     "tiles)\n");
    json_object_set_new(root, "tuning", arr);
}

/* A frame of random pixels in the session's input format (malloc'd; NULL when out of memory). */
static uint8_t *random_pixels(const vks_session_t *sess)
{
    size_t nin = vks_session_input_bytes(sess);
    uint8_t *px = malloc(nin);
    uint32_t seed = 1;
    for (size_t i = 0; px && i < nin; i++) { seed = seed * 1664525u + 1013904223u; px[i] = (uint8_t)(seed >> 24); }
    return px;
}

/* bench --shaders: the frame's GPU time per shader variant; 1 after an error (printed). */
static int report_shaders(vks_session_t *sess, uint32_t iters, FILE *tab, json_t *root)
{
    vks_shader_time_t *t = NULL;
    uint32_t n = 0;
    vks_status_t st = vks_session_profile_shaders(sess, 1, iters, &t, &n);
    if (st) return cli_engine_error("bench --shaders", st);
    double sum = 0;
    for (uint32_t i = 0; i < n; i++) sum += t[i].gpu_ms;
    fprintf(tab, "\nGPU ms per shader variant (a timestamp after every dispatch: each with the barrier before it; "
                 "median of %u):\n%-32s %6s %10s %7s\n", iters, "shader", "disp", "GPU ms", "share");
    json_t *arr = json_array();
    for (uint32_t i = 0; i < n; i++) {
        fprintf(tab, "%-32s %6u %10.2f %6.1f%%\n", t[i].shader, t[i].dispatches, t[i].gpu_ms,
                sum > 0 ? 100 * t[i].gpu_ms / sum : 0.0);
        json_array_append_new(arr, json_pack("{s:s, s:i, s:f}", "shader", t[i].shader, "dispatches",
                                             (json_int_t)t[i].dispatches, "gpu_ms", t[i].gpu_ms));
    }
    fprintf(tab, "%-32s %6s %10.2f\n", "all", "", sum);
    json_object_set_new(root, "shaders", arr);
    vks_shader_times_free(t);
    return 0;
}

/* bench --paced: one frame per line of standard input, through the public path a caller takes
 * (vks_session_run_raw: the input copied into the session's staging memory, the frame, the output
 * left there), its wall and GPU ms on standard output, so that a caller can alternate frames with
 * its own work; 1 after an error. One submission a frame: nothing else runs between the caller's. */
static int run_paced(vks_session_t *sess, uint32_t warmup)
{
    uint8_t *px = random_pixels(sess);
    if (!px) return cli_error("out of memory");
    int rc = 0;
    for (uint32_t i = 0; i < warmup; i++) {
        vks_status_t st = vks_session_run_raw(sess, px, NULL);
        if (st) { free(px); return cli_engine_error("run", st); }
    }
    printf("ready\n");
    fflush(stdout);
    char line[64];
    while (fgets(line, sizeof line, stdin)) {
        double t0 = cli_now_s();
        vks_status_t st = vks_session_run_raw(sess, px, NULL);
        double wall_ms = 1e3 * (cli_now_s() - t0);
        double gpu = 0;
        if (!st) st = vks_session_last_gpu_ms(sess, &gpu);
        if (st) { rc = cli_engine_error("bench", st); break; }
        printf("%.4f %.4f\n", wall_ms, gpu);
        if (fflush(stdout) != 0) { rc = cli_error("bench --paced: standard output: write failed"); break; }
    }
    free(px);
    return rc;
}

/* One run on random input first (pipelines made, memory touched), then the profile; 1 after an
 * error (printed). */
static int profile_random(vks_session_t *sess, uint32_t warmup, uint32_t iters, vks_profile_t *prof)
{
    uint8_t *px = random_pixels(sess);
    if (!px) return cli_error("out of memory");
    vks_status_t st = vks_session_run_raw(sess, px, NULL);
    free(px);
    if (st) return cli_engine_error("run", st);
    if ((st = vks_session_profile(sess, warmup, iters, prof))) return cli_engine_error("bench", st);
    return 0;
}

int cmd_bench(int argc, char **argv)
{
    bench_args_t a;
    int parsed = parse_args(argc, argv, &a);
    if (parsed) return parsed < 0 ? 0 : 1;
    bool to_stdout = a.json_path && !strcmp(a.json_path, "-");
    FILE *tab = to_stdout ? stderr : stdout;

    int rc = 1;
    vks_context_t *ctx = NULL;
    vks_model_t *model = NULL;
    vks_session_t *sess = NULL;
    vks_profile_t prof = {0};
    json_t *root = json_object();
    vks_status_t st;
    vks_context_options_t co = {.device = a.device};
    if ((st = vks_context_create(&co, &ctx))) { cli_engine_error("Vulkan", st); goto done; }
    vks_device_info_t dev;
    vks_context_device_info(ctx, &dev);
    json_object_set_new(root, "device", json_string(dev.name));
    json_object_set_new(root, "driver", json_string(dev.driver));
    if (a.peak_only) {
        rc = run_peak(ctx, &dev, tab, root);
        goto done;
    }
    vks_peak_t peak = {0};
    int have_peak = load_peak(&dev, &peak) == 0;
    char model_path[4096];
    if (cli_find_model(a.model, model_path, sizeof model_path)) goto done;
    if (cli_load_model(ctx, model_path, &model)) goto done;
    vks_session_options_t so = {.precision = a.precision, .tune = a.tune ? VKS_TUNE_RETIME : VKS_TUNE_AUTO,
                                .tune_progress = cli_tune_progress};
    if ((st = vks_session_create_ex(model, a.w, a.h, &so, &sess))) { cli_engine_error("session", st); goto done; }
    const char *prec = cli_precision_name(vks_session_precision(sess));
    if (a.style) {
        float weights[VKS_MAX_STYLES];
        char err[512];
        if (cli_parse_styles(a.style, model, weights, err, sizeof err)) { cli_print_error("%s", err); goto done; }
        if ((st = vks_session_set_style_weights(sess, weights, vks_model_style_count(model)))) { cli_engine_error("style", st); goto done; }
    }
    if ((st = vks_session_set_stabilize(sess, (float)a.stabilize))) { cli_engine_error("--stabilize", st); goto done; }
    if (a.paced)
        fprintf(stderr, "vkstyle: %u warmup iterations of %s at %ux%u on %s, then a frame per line of input\n",
                a.warmup, vks_model_name(model), a.w, a.h, dev.name);
    else
        fprintf(stderr, "vkstyle: %u warmup + %u timed iterations of %s at %ux%u on %s...\n", a.warmup, a.iters,
                vks_model_name(model), a.w, a.h, dev.name);
    if (a.paced) {
        rc = run_paced(sess, a.warmup);
        goto done;
    }
    if (profile_random(sess, a.warmup, a.iters, &prof)) goto done;

    fprintf(tab, "%s %ux%u %s on %s (%s); median of %u, [min-max]\n", vks_model_name(model), a.w, a.h, prec, dev.name,
            dev.driver, a.iters);
    if (!prof.timestamps)
        fprintf(tab, "note: this device has no timestamp queries on its compute queue: per-layer GPU times are "
                     "unavailable, frame times are wall clock\n");
    json_object_set_new(root, "model", json_string(vks_model_name(model)));
    json_object_set_new(root, "width", json_integer(a.w));
    json_object_set_new(root, "height", json_integer(a.h));
    json_object_set_new(root, "precision", json_string(prec));
    json_object_set_new(root, "iters", json_integer(a.iters));
    report_tuning(sess, a.tune, tab, root);
    report(&prof, have_peak ? &peak : NULL, tab, root);
    if (a.compare && compare_variants(&co, model_path, a.style, a.w, a.h, &so, a.warmup, a.iters, &prof, tab, root)) goto done;
    if (a.shaders && report_shaders(sess, a.iters, tab, root)) goto done;
    rc = 0;
done:
    if (!rc && to_stdout) {
        errno = 0;
        if (json_dumpf(root, stdout, JSON_INDENT(2)) != 0 || putchar('\n') == EOF || fflush(stdout) != 0 || ferror(stdout))
            rc = cli_error("--json -: standard output: write failed%s%s", errno ? ": " : "", errno ? strerror(errno) : "");
    } else if (!rc && a.json_path) {
        char err[1024];
        if (write_json(root, a.json_path, err, sizeof err)) rc = cli_error("--json %s", err);
    }
    json_decref(root);
    vks_profile_free(&prof);
    vks_session_destroy(sess);
    vks_model_destroy(model);
    vks_context_destroy(ctx);
    return rc;
}
