/* Shared by the vkstyle subcommands. */
#ifndef VKSTYLE_CLI_H
#define VKSTYLE_CLI_H

#include "vkstyle/vkstyle.h"

#include <stdbool.h>
#include <stdint.h>

typedef int (*vks_cmd_fn)(int argc, char **argv);

int cmd_image(int argc, char **argv);
int cmd_devices(int argc, char **argv);
int cmd_bench(int argc, char **argv);
int cmd_video(int argc, char **argv);
int cmd_live(int argc, char **argv);
int cmd_convert(int argc, char **argv);

/* -m for every command (cli_model.c): a vkstyle model file, or a .onnx file translated in memory
 * with the --input-range / --output-range given (cli_range_option). Returns 0, or -1 after
 * printing the error. */
int cli_load_model(vks_context_t *ctx, const char *path, vks_model_t **out);
/* The ONNX range options of image, video, live and bench: their getopt entries, codes and help. */
enum { CLI_O_INPUT_RANGE = 0x1000, CLI_O_OUTPUT_RANGE };
#define CLI_RANGE_OPTIONS \
    {"input-range", required_argument, 0, CLI_O_INPUT_RANGE}, {"output-range", required_argument, 0, CLI_O_OUTPUT_RANGE}
#define CLI_RANGE_HELP \
    "      --input-range R   ONNX models: the network's input range, 0..255 (default, PyTorch's\n" \
    "                        fast_neural_style), 0..1 or -1..1 (or the model's metadata\n" \
    "                        vkstyle.input_range)\n" \
    "      --output-range R  ONNX models: the network's output range, likewise\n"
/* Handles one of the range options; 0, or -1 after printing the error. */
int cli_range_option(int code, const char *value);

/* Print "vkstyle: <msg>" to stderr. */
void cli_print_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* cli_error(fmt, ...): print it, and be 1 (the exit code for errors); the 1 in the macro rather
 * than a variadic function's return, so that a static analyzer sees every error path's value. */
#define cli_error(...) (cli_print_error(__VA_ARGS__), 1)
/* Print the engine's failure: "vkstyle: <what>: <last error>"; returns 1. */
int cli_engine_error(const char *what, vks_status_t st);

/* Resolve -m: an existing path (a .safetensors or .onnx file), or a bare name looked up as <dir>/<name>.safetensors in
 * $VKSTYLE_MODELS, the models/ folder next to the executable's ../, the installed models folder
 * (share/vkstyle/models, found relative to the executable) and ./models. Returns 0 and fills out, or -1 with a message listing where it looked. */
int cli_find_model(const char *arg, char *out, size_t outsz);

/* Parse a style spec against a model: "NAME", "INDEX", or "NAME=W,NAME=W,..." (indices allowed
 * as names). Fills weights[styles]; returns 0, or -1 with a message in err. */
int cli_parse_styles(const char *spec, const vks_model_t *model, float *weights, char *err, size_t errsz);
/* True if weights are a convex combination (all >= 0, sum 1 within 1e-4). */
bool cli_weights_convex(const float *w, uint32_t n);

/* Parse --precision: "fp32", "fp16" or "auto". */
int cli_parse_precision(const char *s, vks_precision_t *out);
const char *cli_precision_name(vks_precision_t p);
/* The --precision lines of the image, video and live help. */
#define CLI_PRECISION_HELP \
    "      --precision P     activations in fp32 (default), fp16 (half the memory traffic; needs\n" \
    "                        the device's shaderFloat16 + storageBuffer16BitAccess) or auto (fp16\n" \
    "                        where supported); weights and arithmetic stay fp32\n"

/* --stabilize of video and live: the default strength (README, "Stable video"), and its help line. */
#define CLI_STABILIZE_DEFAULT 1.0
#define CLI_STABILIZE_HELP \
    "      --stabilize S     temporal stabilization, 0 (off) .. 1 (strongest) (default 1)\n"

/* The option parsers: every number an option takes goes through these. Each takes the option's
 * name for the message (e.g. "--steps"), the value and its range, and returns 0, or -1 after
 * printing "vkstyle: --steps must be an integer in 2..64, not '4294967298'". Integers are
 * decimal digits only (a leading '-' only where lo < 0); numbers are what strtod reads, finite;
 * an empty value, blanks, trailing junk and values out of range or past the type are refused. */
int cli_parse_ll(const char *opt, const char *s, long long lo, long long hi, long long *out);
int cli_parse_u32(const char *opt, const char *s, uint32_t lo, uint32_t hi, uint32_t *out);
int cli_parse_int(const char *opt, const char *s, int lo, int hi, int *out);
int cli_parse_double(const char *opt, const char *s, double lo, double hi, double *out);
/* "WxH" with W and H in lo..32768, as above. */
int cli_parse_size(const char *opt, const char *s, uint32_t lo, uint32_t *w, uint32_t *h);

/* Seconds on the monotonic clock: for durations (frame times, FPS, timeouts). */
double cli_now_s(void);

#endif
