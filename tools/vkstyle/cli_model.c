/* Loading -m MODEL for every command: a vkstyle model file as is, an ONNX file translated in
 * memory first (tools/onnx) with the --input-range / --output-range the command was given. */
#include "cli.h"
#include "vks_onnx.h"

#include <stdlib.h>
#include <string.h>

static vks_onnx_options_t onnx_opts;

int cli_range_option(int code, const char *value)
{
    vks_onnx_range_t r;
    const char *name = code == CLI_O_INPUT_RANGE ? "--input-range" : "--output-range";
    if (vks_onnx_parse_range(value, &r)) return cli_print_error("%s must be 0..255, 0..1 or -1..1, not '%s'", name, value), -1;
    if (code == CLI_O_INPUT_RANGE) onnx_opts.input_range = r;
    else onnx_opts.output_range = r;
    return 0;
}

int cli_load_model(vks_context_t *ctx, const char *path, vks_model_t **out)
{
    vks_status_t st;
    *out = NULL;
    if (!vks_onnx_is_onnx_path(path)) {
        if ((st = vks_model_load(ctx, path, out))) return cli_engine_error("model", st), -1;
        return 0;
    }
    uint8_t *bytes;
    size_t n;
    char err[1024];
    if (vks_onnx_translate(path, &onnx_opts, &bytes, &n, err, sizeof err)) return cli_print_error("model %s", err), -1;
    st = vks_model_load_memory(ctx, bytes, n, out);
    free(bytes);
    if (st) return cli_engine_error("model (translated from ONNX)", st), -1;
    return 0;
}
