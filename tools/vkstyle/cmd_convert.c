/* vkstyle convert: an ONNX network into a vkstyle model file (docs/model-format.md). */
#include "cli.h"
#include "image_io.h"
#include "vks_onnx.h"

#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void usage(FILE *f)
{
    fprintf(f,
        "usage: vkstyle convert IN.onnx -o OUT.safetensors [options]\n"
        "\n"
        "Translates an ONNX network (PyTorch's torch.onnx.export, tf2onnx, ...) into a vkstyle model\n"
        "file. The same translation runs when -m names a .onnx file; converting once saves it. Ops\n"
        "that vkstyle cannot run are refused with the node's name; nothing is written on an error.\n"
        "\n"
        "  -o, --output FILE     the vkstyle model (.safetensors) to write\n"
        CLI_RANGE_HELP
        "      --name NAME       the model's (and its style's) name (default: IN's file name)\n"
        "      --tensor-io       no pixel conventions: any channel count in and out (float tensor\n"
        "                        sessions, e.g. the ONNX conformance tests)\n"
        "  -q, --quiet           print nothing on success\n"
        "  -h, --help            this help\n");
}

int cmd_convert(int argc, char **argv)
{
    enum { O_NAME = 256, O_TENSOR };
    static const struct option opts[] = {
        {"output", required_argument, 0, 'o'}, {"name", required_argument, 0, O_NAME},
        {"tensor-io", no_argument, 0, O_TENSOR}, {"quiet", no_argument, 0, 'q'}, {"help", no_argument, 0, 'h'},
        CLI_RANGE_OPTIONS, {0, 0, 0, 0},
    };
    const char *out_path = NULL;
    vks_onnx_options_t o = {0};
    int quiet = 0, c;
    optind = 1;
    opterr = 0;
    while ((c = getopt_long(argc, argv, ":o:qh", opts, NULL)) != -1) {
        switch (c) {
        case 'o': out_path = optarg; break;
        case 'q': quiet = 1; break;
        case 'h': usage(stdout); return 0;
        case O_NAME: o.name = optarg; break;
        case O_TENSOR: o.tensor_mode = true; break;
        case CLI_O_INPUT_RANGE:
        case CLI_O_OUTPUT_RANGE:
            if (vks_onnx_parse_range(optarg, c == CLI_O_INPUT_RANGE ? &o.input_range : &o.output_range))
                return cli_error("%s must be 0..255, 0..1 or -1..1, not '%s'",
                                 c == CLI_O_INPUT_RANGE ? "--input-range" : "--output-range", optarg);
            break;
        case ':': return cli_error("convert: option '%s' needs a value (see vkstyle convert --help)", argv[optind - 1]);
        default: return cli_error("convert: unknown option '%s' (see vkstyle convert --help)", argv[optind - 1]);
        }
    }
    if (optind != argc - 1 || !out_path)
        return cli_error("convert: give one IN.onnx and -o OUT.safetensors (see vkstyle convert --help)");
    const char *in_path = argv[optind];
    if (!vks_onnx_is_onnx_path(in_path)) return cli_error("convert: %s: expected an .onnx file", in_path);
    uint8_t *bytes;
    size_t n;
    char err[1024];
    if (vks_onnx_translate(in_path, &o, &bytes, &n, err, sizeof err)) return cli_error("%s", err);
    vks_outfile_t f;
    if (vks_outfile_open(&f, out_path, err, sizeof err)) {
        free(bytes);
        return cli_error("%s", err);
    }
    int werr = fwrite(bytes, 1, n, f.f) == n ? 0 : errno ? errno : EIO;
    free(bytes);
    if (vks_outfile_commit(&f, werr, err, sizeof err)) return cli_error("%s", err);
    if (!quiet) printf("%s -> %s (%zu bytes)\n", in_path, out_path, n);
    return 0;
}
