/* vkstyle: stylize images with neural style-transfer networks on any Vulkan device. */
#include "cli.h"

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <vulkan/vulkan_core.h>

static const struct {
    const char *name;
    vks_cmd_fn fn;
    const char *help;
} commands[] = {
    {"image", cmd_image, "stylize an image file (PNG/JPEG in and out)"},
    {"video", cmd_video, "stylize every frame of a video file (FFmpeg in and out)"},
    {"live", cmd_live, "stylize a webcam or video live in a window"},
    {"bench", cmd_bench, "per-layer GPU timing, FLOPs, roofline; --peak measures the device"},
    {"convert", cmd_convert, "translate an ONNX network into a vkstyle model file"},
    {"devices", cmd_devices, "list Vulkan devices and their capabilities"},
};

static void usage(FILE *f)
{
    fprintf(f, "usage: vkstyle <command> [options]   (vkstyle <command> --help for its options)\n"
               "       vkstyle --version             the version, and the Vulkan device and driver it would use\n"
               "\ncommands:\n");
    for (size_t i = 0; i < sizeof commands / sizeof *commands; i++)
        fprintf(f, "  %-9s %s\n", commands[i].name, commands[i].help);
    fprintf(f, "\nenvironment: VKSTYLE_DEVICE (device index or name), VKSTYLE_MODELS (model folder),\n"
               "             VKSTYLE_VALIDATION=1 (Khronos validation layer), VKSTYLE_WINOGRAD=0 (3x3\n"
               "             convolutions without the Winograd transform, and transposed ones without\n"
               "             the GEMM per tap, read when a model loads; 2, 4 or 6: F(2x2,3x3), F(4x4,3x3)\n"
               "             or F(6x6,3x3) everywhere instead of chosen by size), VKSTYLE_TGEMM=0 (the\n"
               "             transposed convolutions without the GEMM per tap),\n"
               "             VKSTYLE_TUNE=0 (the built-in choice of each convolution's variant instead of\n"
               "             the one timed on this device and cached; see vkstyle bench --tune),\n"
               "             VKSTYLE_TUNE_SECONDS (time a session may spend timing variants; default 20),\n"
               "             VKSTYLE_TUNE_WARMUP_MS (how long the network runs before each layer's timings,\n"
               "             to raise a GPU's clocks; default 250, 0 on CPU devices),\n"
               "             VKSTYLE_IGEMM=1 (the tuner times the implicit GEMM on a CPU device too);\n"
               "             the pipeline cache and the tuner's choices are kept in $XDG_CACHE_HOME/vkstyle\n"
               "             (default ~/.cache/vkstyle)\n");
}

/* The version, and the device and driver a command would run on (VKSTYLE_DEVICE applies). */
static int version(void)
{
    printf("vkstyle %s\n", vks_version_string());
    vks_context_options_t co = {.cache_dir = ""};
    vks_context_t *ctx = NULL;
    vks_status_t st = vks_context_create(&co, &ctx);
    if (st) {
        const char *msg = vks_last_error();
        printf("device: none (%s)\n", *msg ? msg : vks_status_str(st));
        return 0;
    }
    vks_device_info_t d;
    vks_context_device_info(ctx, &d);
    printf("device: %s (%s), Vulkan %u.%u.%u\ndriver: %s\n", d.name, d.type,
           VK_API_VERSION_MAJOR(d.api_version), VK_API_VERSION_MINOR(d.api_version),
           VK_API_VERSION_PATCH(d.api_version), d.driver);
    vks_context_destroy(ctx);
    return 0;
}

int main(int argc, char **argv)
{
    if (argc < 2 || !strcmp(argv[1], "-h") || !strcmp(argv[1], "--help")) {
        usage(argc < 2 ? stderr : stdout);
        return argc < 2 ? 2 : 0;
    }
    if (!strcmp(argv[1], "--version") || !strcmp(argv[1], "-V")) return version();
    /* Past a file-size limit (ulimit -f) a write fails with EFBIG and is reported like a full
       disk, and the temporary file is removed; the default action kills the process silently. */
    signal(SIGXFSZ, SIG_IGN);
    for (size_t i = 0; i < sizeof commands / sizeof *commands; i++)
        if (!strcmp(argv[1], commands[i].name)) {
            int rc = commands[i].fn(argc - 1, argv + 1);
            /* what was printed must have arrived: > /dev/full is an error, not exit 0 */
            errno = 0;
            if ((fflush(stdout) != 0 || ferror(stdout)) && rc == 0)
                rc = cli_error("standard output: write failed%s%s", errno ? ": " : "", errno ? strerror(errno) : "");
            return rc;
        }
    fprintf(stderr, "vkstyle: unknown command '%s'\n", argv[1]);
    usage(stderr);
    return 2;
}
