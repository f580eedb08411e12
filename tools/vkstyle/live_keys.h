/* The keys and mouse of vkstyle live: the style mix, the strength, stabilization, pause, save, fullscreen, quit.
 *
 * GLFW calls the callbacks from glfwPollEvents on the thread that owns the window; they only
 * change the state below, which the frame loop reads and clears.
 */
#ifndef VKSTYLE_TOOLS_LIVE_KEYS_H
#define VKSTYLE_TOOLS_LIVE_KEYS_H

#include "window.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef struct live_keys {
    win_t *win;
    const vks_model_t *model;
    uint32_t nstyles;
    float pos;            /* style position 0..n-1: mix of floor and ceil */
    float weights[VKS_MAX_STYLES];
    bool custom_mix;      /* weights from -s until a key changes them */
    float strength;
    float stabilize;      /* strength of the temporal stabilization when on */
    bool stable;          /* stabilization on ('t') */
    bool paused, quit, save, restyle, redraw, restabilize;
} live_keys_t;

/* Start with style 0 at this strength, or the mix of -s (spec may be NULL); err says what is
 * wrong with spec. Then the window's key and scroll callbacks drive k (k must outlive win). */
int live_keys_init(live_keys_t *k, win_t *win, const vks_model_t *model, const char *spec, float strength,
                   char *err, size_t errsz);
/* The mix for the title: "udnie", "udnie 70% + wave 30%". */
void live_keys_mix_text(const live_keys_t *k, char *buf, size_t n);

#endif
