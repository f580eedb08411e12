/* vkstyle image: stylize one image file. */
#include "cli.h"
#include "cli_memory.h"
#include "image_io.h"

#include <getopt.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

static void usage(FILE *f)
{
    fprintf(f,
        "usage: vkstyle image [-m MODEL] -i INPUT -o OUTPUT [options]\n"
        "\n"
        "Stylizes INPUT (PNG or JPEG) and writes OUTPUT (.png, .jpg or .jpeg). An image too large for\n"
        "the device's memory is stylized in tiles (progress on stderr), with the same result.\n"
        "\n"
        "  -m, --model MODEL     model file, or a name in the models folder (default: udnie)\n"
        "  -i, --input FILE      input image\n"
        "  -o, --output FILE     output image; written only on success\n"
        "  -s, --style SPEC      for multi-style models: NAME, INDEX, or a mix NAME=W,NAME=W\n"
        "                        (weights mix the styles' normalization parameters; default: style 0)\n"
        "      --strength A      blend the result with the original photo, 0..1 (default 1)\n"
        "      --mix-strip A,B   write a strip of --steps images sliding the style mix from A to B\n"
        "                        (multi-style models; A and B as for -s, e.g. udnie,wave)\n"
        "      --steps N         images in the strip (default 7)\n"
        "      --size WxH        resize the input to WxH before stylizing\n"
        "      --max-side N      shrink the input so that its longer side is at most N\n"
        "      --quality Q       JPEG quality 1..100 (default 92)\n"
        CLI_PRECISION_HELP
        CLI_RANGE_HELP
        CLI_MAX_MEMORY_HELP
        "      --device D        Vulkan device index or name substring (see 'vkstyle devices')\n"
        "  -q, --quiet           print nothing on success\n"
        "  -h, --help            this help\n");
}

static bool good_extension(const char *path)
{
    const char *dot = strrchr(path, '.');
    return dot && (!strcasecmp(dot, ".png") || !strcasecmp(dot, ".jpg") || !strcasecmp(dot, ".jpeg"));
}

typedef struct image_args {
    const char *model, *in_path, *out_path, *style, *device, *strip;
    char strip_a[256], strip_b[256];   /* --mix-strip A,B */
    uint32_t size_w, size_h, max_side, steps;
    double strength;
    int quality, quiet;
    vks_precision_t precision;
    uint64_t max_memory;
} image_args_t;

/* The options, checked against each other; 0 to run, 1 after an error, -1 after --help. */
static int parse_args(int argc, char **argv, image_args_t *a)
{
    *a = (image_args_t){.model = "udnie", .strength = 1.0, .quality = 92, .steps = 7, .precision = VKS_PRECISION_FP32};
    enum { O_STRENGTH = 256, O_SIZE, O_MAXSIDE, O_QUALITY, O_DEVICE, O_STRIP, O_STEPS, O_PRECISION, O_MAXMEM };
    static const struct option opts[] = {
        {"model", required_argument, 0, 'm'}, {"input", required_argument, 0, 'i'},
        {"output", required_argument, 0, 'o'}, {"style", required_argument, 0, 's'},
        {"strength", required_argument, 0, O_STRENGTH}, {"size", required_argument, 0, O_SIZE},
        {"max-side", required_argument, 0, O_MAXSIDE}, {"quality", required_argument, 0, O_QUALITY},
        {"device", required_argument, 0, O_DEVICE}, {"quiet", no_argument, 0, 'q'},
        {"mix-strip", required_argument, 0, O_STRIP}, {"steps", required_argument, 0, O_STEPS},
        {"precision", required_argument, 0, O_PRECISION}, {"max-memory", required_argument, 0, O_MAXMEM},
        {"help", no_argument, 0, 'h'}, CLI_RANGE_OPTIONS, {0, 0, 0, 0},
    };
    optind = 1;
    opterr = 0;
    int c;
    while ((c = getopt_long(argc, argv, ":m:i:o:s:qh", opts, NULL)) != -1) {
        switch (c) {
        case 'm': a->model = optarg; break;
        case 'i': a->in_path = optarg; break;
        case 'o': a->out_path = optarg; break;
        case 's': a->style = optarg; break;
        case 'q': a->quiet = 1; break;
        case 'h': usage(stdout); return -1;
        case O_DEVICE: a->device = optarg; break;
        case O_STRIP: a->strip = optarg; break;
        case O_PRECISION: if (cli_parse_precision(optarg, &a->precision)) return 1; break;
        case O_MAXMEM:
            if (cli_parse_bytes(optarg, &a->max_memory)) return cli_error("--max-memory must be a size such as 512M or 2G");
            break;
        case O_STEPS: if (cli_parse_u32("--steps", optarg, 2, 64, &a->steps)) return 1; break;
        case O_STRENGTH: if (cli_parse_double("--strength", optarg, 0, 1, &a->strength)) return 1; break;
        case O_SIZE: if (cli_parse_size("--size", optarg, 1, &a->size_w, &a->size_h)) return 1; break;
        case O_MAXSIDE: if (cli_parse_u32("--max-side", optarg, 1, 32768, &a->max_side)) return 1; break;
        case O_QUALITY: if (cli_parse_int("--quality", optarg, 1, 100, &a->quality)) return 1; break;
        case CLI_O_INPUT_RANGE:
        case CLI_O_OUTPUT_RANGE: if (cli_range_option(c, optarg)) return 1; break;
        case ':': return cli_error("image: option '%s' needs a value (see vkstyle image --help)", argv[optind - 1]);
        default: return cli_error("image: unknown option '%s' (see vkstyle image --help)", argv[optind - 1]);
        }
    }
    if (optind < argc) return cli_error("image: unexpected argument '%s'", argv[optind]);
    if (!a->in_path || !a->out_path) return cli_error("image: -i INPUT and -o OUTPUT are required (see vkstyle image --help)");
    if (!good_extension(a->out_path)) return cli_error("%s: unsupported output extension (use .png, .jpg or .jpeg)", a->out_path);
    if (a->size_w && a->max_side) return cli_error("image: --size and --max-side exclude each other");
    if (a->strip && a->style) return cli_error("image: --mix-strip and -s exclude each other");
    if (a->strip) {
        const char *strip = a->strip, *comma = strchr(strip, ',');
        if (!comma || comma == strip || !comma[1] || strchr(comma + 1, ',') || (size_t)(comma - strip) >= sizeof a->strip_a ||
            strlen(comma + 1) >= sizeof a->strip_b)
            return cli_error("--mix-strip must be two styles, e.g. udnie,wave");
        memcpy(a->strip_a, strip, (size_t)(comma - strip));
        snprintf(a->strip_b, sizeof a->strip_b, "%s", comma + 1);
    }
    return 0;
}

/* The size stylized, from the file's: after --size or --max-side. */
static void target_size(const image_args_t *a, uint32_t fw, uint32_t fh, uint32_t *w, uint32_t *h)
{
    *w = fw;
    *h = fh;
    if (a->max_side && (fw > a->max_side || fh > a->max_side)) {
        double k = (double)a->max_side / (fw > fh ? fw : fh);
        *w = (uint32_t)fmax(1, round(fw * k));
        *h = (uint32_t)fmax(1, round(fh * k));
    } else if (a->size_w) {
        *w = a->size_w;
        *h = a->size_h;
    }
}

/* Stylize img into out: one image, or --steps of them side by side with the style mix sliding
 * from A to B; each blended with the photo by --strength. 1 after an error (printed). */
static int stylize(const image_args_t *a, vks_session_t *sess, const vks_model_t *model, float *weights,
                   const vks_image_t *img, uint8_t *out)
{
    uint32_t nstyles = vks_model_style_count(model), tiles = a->strip ? a->steps : 1;
    size_t tile = (size_t)img->w * img->h * 3;
    uint8_t *one = a->strip ? malloc(tile) : out;
    if (!one) return cli_error("out of memory");
    float wa[VKS_MAX_STYLES], wb[VKS_MAX_STYLES];
    char err[512];
    int rc = 0;
    vks_status_t st;
    if (a->strip && (cli_parse_styles(a->strip_a, model, wa, err, sizeof err) ||
                     cli_parse_styles(a->strip_b, model, wb, err, sizeof err)))
        rc = cli_error("--mix-strip: %s", err);
    for (uint32_t k = 0; k < tiles && !rc; k++) {
        if (a->strip) {   /* weights slide from A to B; the tiles go left to right */
            float t = (float)k / (float)(tiles - 1);
            for (uint32_t i = 0; i < nstyles; i++) weights[i] = (1 - t) * wa[i] + t * wb[i];
            if ((st = vks_session_set_style_weights(sess, weights, nstyles))) { rc = cli_engine_error("style", st); break; }
        }
        if ((st = vks_session_run(sess, img->px, one, 3))) { rc = cli_engine_error("run", st); break; }
        if (a->strength < 1.0)
            for (size_t i = 0; i < tile; i++) one[i] = (uint8_t)lround(a->strength * one[i] + (1.0 - a->strength) * img->px[i]);
        if (a->strip)
            for (uint32_t y = 0; y < img->h; y++)
                memcpy(out + ((size_t)y * img->w * tiles + (size_t)k * img->w) * 3, one + (size_t)y * img->w * 3,
                       (size_t)img->w * 3);
    }
    if (a->strip) free(one);
    return rc;
}

int cmd_image(int argc, char **argv)
{
    image_args_t a;
    int parsed = parse_args(argc, argv, &a);
    if (parsed) return parsed < 0 ? 0 : 1;

    char model_path[4096], err[512];
    if (cli_find_model(a.model, model_path, sizeof model_path)) return 1;
    /* The header first: every size check below runs before a pixel is decoded (a large photo
       costs 3 bytes a pixel and seconds to decode, an error found after that is late). */
    vks_image_file_t file = {0};
    if (vks_image_open(a.in_path, &file, err, sizeof err)) return cli_error("%s", err);
    if (vks_outfile_probe(a.out_path, err, sizeof err)) {   /* before the model's setup and the run */
        vks_image_close(&file);
        return cli_error("%s", err);
    }

    int rc = 1;
    vks_image_t img = {0};
    vks_context_t *ctx = NULL;
    vks_model_t *model = NULL;
    vks_session_t *sess = NULL;
    uint8_t *out = NULL;
    vks_status_t st;
    uint32_t w, h;
    target_size(&a, file.w, file.h, &w, &h);
    if (vks_image_check_size(w, h, "resize target", err, sizeof err)) { cli_print_error("%s", err); goto done; }
    if (a.strip && vks_image_check_size((uint64_t)w * a.steps, h, "--mix-strip output", err, sizeof err)) {
        cli_print_error("%s (%u images of %ux%u side by side)", err, a.steps, w, h);
        goto done;
    }
    double t0 = 1e3 * cli_now_s();
    vks_context_options_t co = {.device = a.device};
    if ((st = vks_context_create(&co, &ctx))) { cli_engine_error("Vulkan", st); goto done; }
    if (cli_load_model(ctx, model_path, &model)) goto done;
    uint32_t nstyles = vks_model_style_count(model);
    float weights[VKS_MAX_STYLES] = {1.0f};
    if (a.style) {
        if (cli_parse_styles(a.style, model, weights, err, sizeof err)) { cli_print_error("%s", err); goto done; }
        if (!cli_weights_convex(weights, nstyles))
            fprintf(stderr, "vkstyle: warning: style weights are not a convex combination (non-negative, sum 1); "
                            "the result extrapolates\n");
    }
    vks_device_info_t dev;
    vks_context_device_info(ctx, &dev);
    /* an image that does not fit in one piece runs in tiles */
    vks_session_options_t so = {.precision = a.precision, .max_memory = a.max_memory, .tiling = VKS_TILING_AUTO,
                                .progress = a.quiet ? NULL : cli_tile_progress,
                                .tune_progress = a.quiet ? NULL : cli_tune_progress};
    if ((st = vks_session_create_ex(model, w, h, &so, &sess))) {
        /* not even in tiles: the engine says what does not fit where */
        if (st == VKS_ERR_TOO_LARGE)
            cli_print_error("%s: %s%s", a.in_path, vks_last_error(), a.max_memory ? "; use a larger --max-memory" : "");
        else cli_engine_error(a.in_path, st);
        goto done;
    }
    if (vks_session_tiles(sess) && !a.quiet)
        fprintf(stderr, "vkstyle: %ux%u does not fit %s in one piece%s; stylizing in %u tiles within %.0f MiB of device memory\n",
                w, h, dev.name, a.max_memory ? " within --max-memory" : "", vks_session_tiles(sess),
                vks_session_device_bytes(sess) / 1048576.0);
    if ((st = vks_session_set_style_weights(sess, weights, nstyles))) { cli_engine_error("style", st); goto done; }
    /* everything about the size has been checked: decode */
    if (vks_image_decode(&file, &img, err, sizeof err)) { cli_print_error("%s", err); goto done; }
    vks_image_close(&file);
    if ((w != img.w || h != img.h) && vks_image_resize(&img, w, h, &img, err, sizeof err)) {
        cli_print_error("%s", err);
        goto done;
    }
    uint32_t tiles = a.strip ? a.steps : 1;
    if (!(out = malloc((size_t)img.w * img.h * 3 * tiles))) { cli_print_error("out of memory"); goto done; }
    double t1 = 1e3 * cli_now_s();
    if (stylize(&a, sess, model, weights, &img, out)) goto done;
    double t2 = 1e3 * cli_now_s();
    vks_image_t res = {out, img.w * tiles, img.h};
    if (vks_image_save(a.out_path, &res, a.quality, err, sizeof err)) { cli_print_error("%s", err); goto done; }
    if (!a.quiet)
        printf("%s: %ux%u, %s on %s (%s), %.0f ms stylizing (%.0f ms with setup)\n", a.out_path, res.w, res.h,
               vks_model_name(model), dev.name, cli_precision_name(vks_session_precision(sess)), t2 - t1, t2 - t0);
    rc = 0;
done:
    free(out);
    vks_session_destroy(sess);
    vks_model_destroy(model);
    vks_context_destroy(ctx);
    vks_image_free(&img);
    vks_image_close(&file);
    return rc;
}
