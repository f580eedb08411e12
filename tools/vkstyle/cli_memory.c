/* Memory sizes, and tile and tuning progress for the commands. */
#include "cli_memory.h"

#include <ctype.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <strings.h>
#include <unistd.h>

int cli_parse_bytes(const char *s, uint64_t *out)
{
    char *end;
    if (!s || !isdigit((unsigned char)*s)) return -1;
    double v = strtod(s, &end);
    double k = 1;
    if (*end) {
        switch (toupper((unsigned char)*end)) {
        case 'K': k = 1024.0; break;
        case 'M': k = 1024.0 * 1024; break;
        case 'G': k = 1024.0 * 1024 * 1024; break;
        case 'T': k = 1024.0 * 1024 * 1024 * 1024; break;
        case 'B': k = 1; end--; break;   /* "B" alone: bytes */
        default: return -1;
        }
        end++;
        if (strcasecmp(end, "") && strcasecmp(end, "B") && strcasecmp(end, "iB")) return -1;
    }
    double bytes = floor(v * k);
    if (!isfinite(bytes) || bytes < 1 || bytes > 9.2e18) return -1;
    *out = (uint64_t)bytes;
    return 0;
}

/* "vkstyle: WHAT D/T" on stderr: one line updated in place on a terminal, else a line each. */
static void progress_line(const char *what, uint32_t done, uint32_t total)
{
    if (isatty(2)) fprintf(stderr, "\rvkstyle: %s %u/%u \033[K%s", what, done, total, done == total ? "\n" : "");
    else fprintf(stderr, "vkstyle: %s %u/%u\n", what, done, total);
    fflush(stderr);
}

void cli_tile_progress(void *user, uint32_t done, uint32_t total)
{
    (void)user;
    progress_line("tile", done, total);
}

void cli_tune_progress(void *user, uint32_t done, uint32_t total)
{
    (void)user;
    progress_line("timing convolution variants on this device (once per layer shape):", done, total);
}
