/* Stylize a binary PPM image with a mix of two styles of a multi-style model, through vkstyle's
 * public API.   stylize MODEL IN.ppm OUT.ppm STYLE_A STYLE_B [WEIGHT_OF_B, default 0.5] */
#include <vkstyle/vkstyle.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int fail(const char *what) { return fprintf(stderr, "stylize: %s: %s\n", what, vks_last_error()), 1; }

static int style_index(const vks_model_t *model, const char *name)
{
    for (uint32_t i = 0; i < vks_model_style_count(model); i++)
        if (!strcmp(vks_model_style_name(model, i), name)) return (int)i;
    return -1;
}

int main(int argc, char **argv)
{
    if (argc < 6) return fprintf(stderr, "usage: stylize MODEL IN.ppm OUT.ppm STYLE_A STYLE_B [WEIGHT_OF_B]\n"), 2;
    unsigned w, h, maxval;
    FILE *f = fopen(argv[2], "rb");
    if (!f || fscanf(f, "P6 %u %u %u", &w, &h, &maxval) != 3 || maxval != 255 || fgetc(f) == EOF)
        return fprintf(stderr, "stylize: %s: not a binary 8-bit PPM\n", argv[2]), 1;
    size_t n = (size_t)w * h;
    uint8_t *rgb = malloc(n * 3);
    if (!rgb || fread(rgb, 3, n, f) != n) return fprintf(stderr, "stylize: %s: truncated\n", argv[2]), 1;
    fclose(f);

    vks_context_t *ctx;
    vks_model_t *model;
    vks_session_t *session;
    if (vks_context_create(NULL, &ctx)) return fail("Vulkan");
    if (vks_model_load(ctx, argv[1], &model)) return fail(argv[1]);
    int a = style_index(model, argv[4]), b = style_index(model, argv[5]);
    if (a < 0 || b < 0) return fprintf(stderr, "stylize: %s has no style %s\n", argv[1], argv[a < 0 ? 4 : 5]), 1;
    float weights[VKS_MAX_STYLES] = {0}, t = argc > 6 ? strtof(argv[6], NULL) : 0.5f;
    weights[a] += 1 - t, weights[b] += t;
    if (vks_session_create(model, w, h, &session)) return fail("session");
    if (vks_session_set_style_weights(session, weights, vks_model_style_count(model))) return fail("styles");
    if (vks_session_run(session, rgb, rgb, 3)) return fail("run");   /* in place, RGB8 */
    vks_session_destroy(session), vks_model_destroy(model), vks_context_destroy(ctx);

    f = fopen(argv[3], "wb");
    if (!f || fprintf(f, "P6\n%u %u\n255\n", w, h) < 0 || fwrite(rgb, 3, n, f) != n || fclose(f))
        return fprintf(stderr, "stylize: cannot write %s\n", argv[3]), 1;
    printf("%s: %ux%u, %s %.2f + %s %.2f (vkstyle %s)\n", argv[3], w, h, argv[4], 1 - t, argv[5], t, vks_version_string());
    free(rgb);
    return 0;
}
