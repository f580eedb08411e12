/* Helpers shared by the subcommands: errors, model lookup, style specs, sizes. */
#include "cli.h"

#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <sys/stat.h>
#include <unistd.h>

void cli_print_error(const char *fmt, ...)
{
    /* one line, whatever names from files or arguments hold (vks_escape_controls) */
    char raw[4096], msg[4096];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(raw, sizeof raw, fmt, ap);
    va_end(ap);
    vks_escape_controls(msg, sizeof msg, raw);
    fprintf(stderr, "vkstyle: %s\n", msg);
}

int cli_engine_error(const char *what, vks_status_t st)
{
    const char *msg = vks_last_error();
    return cli_error("%s: %s", what, *msg ? msg : vks_status_str(st));
}

/* The one number parser behind every option value (and style weights): the whole string must
 * be the number, with no blanks around it; empty strings, trailing junk, a '-' where only
 * non-negative numbers are allowed and anything strtoll/strtod cannot hold are refused rather
 * than wrapped or read as 0. */
static int number_ll(const char *s, long long lo, long long *out)
{
    const char *d = s[0] == '-' && lo < 0 ? s + 1 : s;
    if (!(*d >= '0' && *d <= '9')) return -1;
    for (const char *p = d; *p; p++)
        if (!(*p >= '0' && *p <= '9')) return -1;
    char *end;
    errno = 0;
    long long v = strtoll(s, &end, 10);
    if (errno || *end) return -1;
    *out = v;
    return 0;
}

static int number_double(const char *s, double *out)
{
    if (!*s || isspace((unsigned char)*s)) return -1;
    char *end;
    errno = 0;
    double v = strtod(s, &end);
    if (errno || *end || !isfinite(v)) return -1;
    *out = v;
    return 0;
}

/* Only regular files count as models: a directory or FIFO named x.safetensors is not one. */
static bool is_file(const char *p)
{
    struct stat st;
    return stat(p, &st) == 0 && S_ISREG(st.st_mode) && access(p, R_OK) == 0;
}

int cli_find_model(const char *arg, char *out, size_t outsz)
{
    if (strchr(arg, '/') || strstr(arg, ".safetensors") || strstr(arg, ".onnx")) {
        struct stat st;
        if (stat(arg, &st) == 0 && !S_ISREG(st.st_mode))
            return cli_print_error("model '%s': %s", arg, S_ISDIR(st.st_mode) ? "is a directory" : "not a regular file"), -1;
        if (!is_file(arg)) return cli_print_error("model '%s': %s", arg, strerror(errno)), -1;
        snprintf(out, outsz, "%s", arg);
        return 0;
    }
    char exe[PATH_MAX] = "", dirs[4][PATH_MAX + 32];
    int nd = 0;
    const char *env = getenv("VKSTYLE_MODELS");
    if (env && *env) snprintf(dirs[nd++], sizeof dirs[0], "%s", env);
    ssize_t n = readlink("/proc/self/exe", exe, sizeof exe - 1);
    if (n > 0) {
        exe[n] = 0;
        char *slash = strrchr(exe, '/');
        if (slash) *slash = 0;
        snprintf(dirs[nd++], sizeof dirs[0], "%s/../models", exe);
        snprintf(dirs[nd++], sizeof dirs[0], "%s/%s", exe, VKS_INSTALLED_MODELS);
    }
    snprintf(dirs[nd++], sizeof dirs[0], "models");
    char tried[4 * (PATH_MAX + 32)] = "";
    for (int i = 0; i < nd; i++) {
        snprintf(out, outsz, "%s/%s.safetensors", dirs[i], arg);
        if (is_file(out)) return 0;
        snprintf(tried + strlen(tried), sizeof tried - strlen(tried), "%s%s", i ? ", " : "", dirs[i]);
    }
    cli_print_error("no model named '%s' (looked in %s; pass a path or set VKSTYLE_MODELS)", arg, tried);
    return -1;
}

static int style_index(const char *name, size_t len, const vks_model_t *m)
{
    uint32_t n = vks_model_style_count(m);
    for (uint32_t i = 0; i < n; i++) {
        const char *s = vks_model_style_name(m, i);
        if (strlen(s) == len && !strncmp(s, name, len)) return (int)i;
    }
    char buf[32];
    if (len == 0 || len >= sizeof buf) return -1;
    memcpy(buf, name, len);
    buf[len] = 0;
    long long v;
    if (!number_ll(buf, 0, &v) && v < (long long)n) return (int)v;
    return -1;
}

int cli_parse_styles(const char *spec, const vks_model_t *m, float *w, char *err, size_t errsz)
{
    uint32_t n = vks_model_style_count(m);
    memset(w, 0, n * sizeof *w);
    if (!spec || !*spec) return snprintf(err, errsz, "empty style"), -1;
    if (!strchr(spec, '=') && !strchr(spec, ',')) {
        int i = style_index(spec, strlen(spec), m);
        if (i < 0) goto unknown;
        w[i] = 1.0f;
        return 0;
    }
    for (const char *p = spec; *p;) {
        const char *comma = strchr(p, ','), *end = comma ? comma : p + strlen(p);
        const char *eq = memchr(p, '=', (size_t)(end - p));
        if (!eq) return snprintf(err, errsz, "style mix '%s': expected NAME=WEIGHT, got '%.*s'", spec, (int)(end - p), p), -1;
        int i = style_index(p, (size_t)(eq - p), m);
        if (i < 0) { spec = p; goto unknown; }
        char num[64];
        size_t nl = (size_t)(end - eq - 1);
        if (nl == 0 || nl >= sizeof num) return snprintf(err, errsz, "style mix: missing weight for '%.*s'", (int)(eq - p), p), -1;
        memcpy(num, eq + 1, nl);
        num[nl] = 0;
        double v;
        if (number_double(num, &v) || fabs(v) > 1e6)
            return snprintf(err, errsz, "style mix: weight '%s' for '%.*s' is not a finite number", num, (int)(eq - p), p), -1;
        w[i] += (float)v;
        p = comma ? comma + 1 : end;
        if (comma && !*p) return snprintf(err, errsz, "style mix '%s' ends with a comma", spec), -1;
    }
    return 0;
unknown:;
    size_t len = strcspn(spec, "=,");
    int k = snprintf(err, errsz, "unknown style '%.*s'; this model has:", (int)len, spec);
    for (uint32_t i = 0; i < n && k > 0 && (size_t)k < errsz; i++)
        k += snprintf(err + k, errsz - (size_t)k, " %u=%s", i, vks_model_style_name(m, i));
    return -1;
}

bool cli_weights_convex(const float *w, uint32_t n)
{
    double sum = 0;
    for (uint32_t i = 0; i < n; i++) {
        if (w[i] < 0) return false;
        sum += w[i];
    }
    return fabs(sum - 1.0) <= 1e-4;
}

int cli_parse_precision(const char *s, vks_precision_t *out)
{
    if (!strcmp(s, "fp32")) *out = VKS_PRECISION_FP32;
    else if (!strcmp(s, "fp16")) *out = VKS_PRECISION_FP16;
    else if (!strcmp(s, "auto")) *out = VKS_PRECISION_AUTO;
    else return cli_print_error("--precision must be fp32, fp16 or auto, not '%s'", s), -1;
    return 0;
}

const char *cli_precision_name(vks_precision_t p)
{
    return p == VKS_PRECISION_FP16 ? "fp16" : p == VKS_PRECISION_AUTO ? "auto" : "fp32";
}

int cli_parse_ll(const char *opt, const char *s, long long lo, long long hi, long long *out)
{
    long long v;
    if (number_ll(s, lo, &v) || v < lo || v > hi)
        return cli_print_error("%s must be an integer in %lld..%lld, not '%s'", opt, lo, hi, s), -1;
    *out = v;
    return 0;
}

int cli_parse_u32(const char *opt, const char *s, uint32_t lo, uint32_t hi, uint32_t *out)
{
    long long v;
    if (cli_parse_ll(opt, s, lo, hi, &v)) return -1;
    *out = (uint32_t)v;
    return 0;
}

int cli_parse_int(const char *opt, const char *s, int lo, int hi, int *out)
{
    long long v;
    if (cli_parse_ll(opt, s, lo, hi, &v)) return -1;
    *out = (int)v;
    return 0;
}

int cli_parse_double(const char *opt, const char *s, double lo, double hi, double *out)
{
    double v;
    if (number_double(s, &v) || v < lo || v > hi)
        return cli_print_error("%s must be a number in %g..%g, not '%s'", opt, lo, hi, s), -1;
    *out = v;
    return 0;
}

int cli_parse_size(const char *opt, const char *s, uint32_t lo, uint32_t *w, uint32_t *h)
{
    const char *x = strpbrk(s, "xX");
    char a[24], b[24];
    long long vw, vh;
    if (!x || (size_t)(x - s) >= sizeof a || strlen(x + 1) >= sizeof b) goto bad;
    memcpy(a, s, (size_t)(x - s));
    a[x - s] = 0;
    snprintf(b, sizeof b, "%s", x + 1);
    if (number_ll(a, 0, &vw) || number_ll(b, 0, &vh) || vw < lo || vh < lo || vw > 32768 || vh > 32768) goto bad;
    *w = (uint32_t)vw;
    *h = (uint32_t)vh;
    return 0;
bad:
    return cli_print_error("%s must be WxH with W and H in %u..32768 (e.g. 640x480), not '%s'", opt, lo, s), -1;
}

double cli_now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec + ts.tv_nsec / 1e9;
}
