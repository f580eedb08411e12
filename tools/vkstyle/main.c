/* vkstyle: stylize images with neural style-transfer networks on any Vulkan device. */
#include "cli.h"

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>

static const struct {
    const char *name;
    vks_cmd_fn fn;
    const char *help;
} commands[] = {
    {"image", cmd_image, "stylize an image file (PNG/JPEG in and out)"},
    {"video", cmd_video, "stylize every frame of a video file (FFmpeg in and out)"},
    {"live", cmd_live, "stylize a webcam or video live in a window"},
    {"bench", cmd_bench, "per-layer GPU timing, FLOPs, roofline; --peak measures the device"},
    {"devices", cmd_devices, "list Vulkan devices and their capabilities"},
};

static void usage(FILE *f)
{
    fprintf(f, "usage: vkstyle <command> [options]   (vkstyle <command> --help for its options)\n\ncommands:\n");
    for (size_t i = 0; i < sizeof commands / sizeof *commands; i++)
        fprintf(f, "  %-9s %s\n", commands[i].name, commands[i].help);
    fprintf(f, "\nenvironment: VKSTYLE_DEVICE (device index or name), VKSTYLE_MODELS (model folder),\n"
               "             VKSTYLE_VALIDATION=1 (Khronos validation layer)\n");
}

int main(int argc, char **argv)
{
    if (argc < 2 || !strcmp(argv[1], "-h") || !strcmp(argv[1], "--help")) {
        usage(argc < 2 ? stderr : stdout);
        return argc < 2 ? 2 : 0;
    }
    if (!strcmp(argv[1], "--version")) {
        printf("vkstyle 0.1.0\n");
        return 0;
    }
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
