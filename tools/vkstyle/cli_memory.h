/* Memory sizes, and tile and tuning progress for the commands. */
#ifndef VKSTYLE_CLI_MEMORY_H
#define VKSTYLE_CLI_MEMORY_H

#include <stdint.h>

/* Parse a byte count: a number with an optional binary suffix K, M, G or T (also KB/KiB, ...),
 * e.g. 512M, 1.5G, 65536. Returns 0, or -1 for anything else, zero, or more than 2^63. */
int cli_parse_bytes(const char *s, uint64_t *out);

/* A session progress callback (vks_session_options_t.progress): "tile 3/12" on stderr, one line
 * per tile (on a terminal, one line updated in place). */
void cli_tile_progress(void *user, uint32_t done, uint32_t total);
/* The tuner's progress callback (vks_session_options_t.tune_progress), the same way. */
void cli_tune_progress(void *user, uint32_t done, uint32_t total);

#define CLI_MAX_MEMORY_HELP \
    "      --max-memory N    device memory to use, e.g. 512M or 2G (default: 90%% of the device's\n" \
    "                        memory); a larger image is stylized in tiles, with the same result\n"

#endif
