/* The keys and mouse of vkstyle live (see live_keys.h). */
#include "live_keys.h"
#include "cli.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

static void weights_from_pos(live_keys_t *u)
{
    float last = (float)(u->nstyles - 1);
    u->pos = u->pos < 0 ? 0 : u->pos > last ? last : u->pos;
    memset(u->weights, 0, sizeof u->weights);
    uint32_t a = (uint32_t)floorf(u->pos);
    float t = u->pos - (float)a;
    if (t < 1e-3f || a + 1 >= u->nstyles) { u->pos = (float)a; u->weights[a] = 1; }
    else if (t > 0.999f) { u->pos = (float)(a + 1); u->weights[a + 1] = 1; }
    else { u->weights[a] = 1 - t; u->weights[a + 1] = t; }
    u->custom_mix = false;
    u->restyle = true;
}

static void slide(live_keys_t *u, float d)
{
    if (u->nstyles < 2) return;
    u->pos += d;
    weights_from_pos(u);
}

static void on_key(GLFWwindow *g, int key, int scancode, int action, int mods)
{
    (void)scancode;
    (void)mods;
    live_keys_t *u = win_user(g);
    if (!u || action == GLFW_RELEASE) return;
    bool press = action == GLFW_PRESS;
    if (key >= GLFW_KEY_1 && key <= GLFW_KEY_9 && press) {
        uint32_t k = (uint32_t)(key - GLFW_KEY_1);
        if (k < u->nstyles) { u->pos = (float)k; weights_from_pos(u); }
    } else if (key >= GLFW_KEY_KP_1 && key <= GLFW_KEY_KP_9 && press) {
        uint32_t k = (uint32_t)(key - GLFW_KEY_KP_1);
        if (k < u->nstyles) { u->pos = (float)k; weights_from_pos(u); }
    } else if (key == GLFW_KEY_LEFT) slide(u, -0.1f);
    else if (key == GLFW_KEY_RIGHT) slide(u, 0.1f);
    else if (key == GLFW_KEY_UP || key == GLFW_KEY_DOWN) {
        u->strength = fminf(1, fmaxf(0, u->strength + (key == GLFW_KEY_UP ? 0.1f : -0.1f)));
        u->strength = roundf(u->strength * 10) / 10;
        u->redraw = true;
    } else if (key == GLFW_KEY_T && press) u->stable = !u->stable, u->restabilize = true;
    else if (key == GLFW_KEY_SPACE && press) u->paused = !u->paused, u->redraw = true;
    else if (key == GLFW_KEY_S && press) u->save = true, u->redraw = true;
    else if (key == GLFW_KEY_F && press) win_set_fullscreen(u->win, !win_fullscreen(u->win)), u->redraw = true;
    else if ((key == GLFW_KEY_Q || key == GLFW_KEY_ESCAPE) && press) u->quit = true;
}

static void on_scroll(GLFWwindow *g, double dx, double dy)
{
    (void)dx;
    live_keys_t *u = win_user(g);
    if (u) slide(u, (float)(dy * 0.1));
}

int live_keys_init(live_keys_t *k, win_t *win, const vks_model_t *model, const char *spec, float strength,
                   char *err, size_t errsz)
{
    memset(k, 0, sizeof *k);
    k->win = win;
    k->model = model;
    k->nstyles = vks_model_style_count(model);
    k->strength = strength;
    k->weights[0] = 1;
    if (spec) {
        if (cli_parse_styles(spec, model, k->weights, err, errsz)) return -1;
        k->custom_mix = true;
        for (uint32_t i = 0; i < k->nstyles; i++)
            if (k->weights[i] > k->weights[(uint32_t)k->pos]) k->pos = (float)i;
    }
    win_set_user(win, k);
    glfwSetKeyCallback(win_glfw(win), on_key);
    glfwSetScrollCallback(win_glfw(win), on_scroll);
    return 0;
}

void live_keys_mix_text(const live_keys_t *u, char *buf, size_t n)
{
    buf[0] = 0;
    size_t k = 0;
    if (u->nstyles == 1) { snprintf(buf, n, "%s", vks_model_name(u->model)); return; }
    for (uint32_t i = 0; i < u->nstyles && k < n; i++) {
        if (u->weights[i] == 0) continue;
        const char *name = vks_model_style_name(u->model, i);
        if (u->weights[i] == 1) k += (size_t)snprintf(buf + k, n - k, "%s%s", k ? " + " : "", name);
        else k += (size_t)snprintf(buf + k, n - k, "%s%s %.0f%%", k ? " + " : "", name, 100 * u->weights[i]);
    }
}
