/* Tests of tools/vkstyle/image_io: load/save round trips, error handling, resize.
 * Every test works in its own mkdtemp directory, removed afterwards. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <dirent.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wunused-function"
#pragma GCC diagnostic ignored "-Wsign-compare"
#pragma GCC diagnostic ignored "-Wunused-parameter"
#include <stb/stb_image_write.h>
#pragma GCC diagnostic pop

#include "image_io.h"

typedef struct {
    char dir[256];
    char path[512];
} fixture_t;

static int setup(void **state)
{
    fixture_t *fx = calloc(1, sizeof *fx);
    if (!fx)
        return -1;
    const char *tmp = getenv("TMPDIR");
    snprintf(fx->dir, sizeof fx->dir, "%s/vks_image_io_XXXXXX", tmp && *tmp ? tmp : "/tmp");
    if (!mkdtemp(fx->dir)) {
        free(fx);
        return -1;
    }
    *state = fx;
    return 0;
}

/* Remove the directory tree (only files and subdirectories the tests made). */
static void remove_tree(const char *dir)
{
    DIR *d = opendir(dir);
    if (!d)
        return;
    struct dirent *e;
    char p[1024];
    while ((e = readdir(d)) != NULL) {
        if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
            continue;
        snprintf(p, sizeof p, "%s/%s", dir, e->d_name);
        struct stat st;
        if (lstat(p, &st) == 0 && S_ISDIR(st.st_mode))
            remove_tree(p);
        else
            unlink(p);
    }
    closedir(d);
    rmdir(dir);
}

static int teardown(void **state)
{
    fixture_t *fx = *state;
    remove_tree(fx->dir);
    free(fx);
    return 0;
}

/* Path of name inside the fixture directory (one buffer, overwritten by the next call). */
static const char *in_dir(fixture_t *fx, const char *name)
{
    snprintf(fx->path, sizeof fx->path, "%s/%s", fx->dir, name);
    return fx->path;
}

static int count_entries(const char *dir)
{
    DIR *d = opendir(dir);
    assert_non_null(d);
    int n = 0;
    struct dirent *e;
    while ((e = readdir(d)) != NULL)
        if (strcmp(e->d_name, ".") != 0 && strcmp(e->d_name, "..") != 0)
            n++;
    closedir(d);
    return n;
}

static int exists(const char *path)
{
    struct stat st;
    return stat(path, &st) == 0;
}

static void write_bytes(const char *path, const void *data, size_t size)
{
    FILE *f = fopen(path, "wb");
    assert_non_null(f);
    if (size)
        assert_int_equal(fwrite(data, 1, size, f), size);
    assert_int_equal(fclose(f), 0);
}

static uint8_t *read_all(const char *path, size_t *size)
{
    FILE *f = fopen(path, "rb");
    assert_non_null(f);
    assert_int_equal(fseek(f, 0, SEEK_END), 0);
    long n = ftell(f);
    assert_true(n > 0);
    rewind(f);
    uint8_t *buf = malloc((size_t)n);
    assert_non_null(buf);
    assert_int_equal(fread(buf, 1, (size_t)n, f), (size_t)n);
    fclose(f);
    *size = (size_t)n;
    return buf;
}

static vks_image_t make_image(uint32_t w, uint32_t h)
{
    vks_image_t img = {malloc((size_t)w * h * 3), w, h};
    assert_non_null(img.px);
    return img;
}

static vks_image_t make_noise(uint32_t w, uint32_t h, uint32_t seed)
{
    vks_image_t img = make_image(w, h);
    for (size_t i = 0; i < (size_t)w * h * 3; i++) {
        seed = seed * 1664525u + 1013904223u;
        img.px[i] = (uint8_t)(seed >> 24);
    }
    return img;
}

static vks_image_t make_gradient(uint32_t w, uint32_t h)
{
    vks_image_t img = make_image(w, h);
    for (uint32_t y = 0; y < h; y++)
        for (uint32_t x = 0; x < w; x++) {
            uint8_t *p = img.px + ((size_t)y * w + x) * 3;
            p[0] = (uint8_t)(255u * x / (w - 1));
            p[1] = (uint8_t)(255u * y / (h - 1));
            p[2] = (uint8_t)(128 + 100 * sin((x + y) * 0.05));
        }
    return img;
}

static double psnr(const vks_image_t *a, const vks_image_t *b)
{
    double se = 0.0;
    const size_t n = (size_t)a->w * a->h * 3;
    for (size_t i = 0; i < n; i++) {
        const double d = (double)a->px[i] - b->px[i];
        se += d * d;
    }
    const double mse = se / (double)n;
    return mse == 0.0 ? INFINITY : 10.0 * log10(255.0 * 255.0 / mse);
}

static void assert_contains(const char *haystack, const char *needle)
{
    if (!strstr(haystack, needle))
        fail_msg("message \"%s\" does not contain \"%s\"", haystack, needle);
}

/* Load expecting failure: -1, message containing needle (and one line), image zeroed. */
static void expect_load_error(const char *path, const char *needle)
{
    vks_image_t img = {(uint8_t *)(uintptr_t)1, 7, 7}; /* garbage: must be zeroed, not freed */
    char err[512] = "";
    assert_int_equal(vks_image_load(path, &img, err, sizeof err), -1);
    assert_null(img.px);
    assert_int_equal(img.w, 0);
    assert_int_equal(img.h, 0);
    assert_true(err[0] != '\0');
    assert_null(strchr(err, '\n'));
    assert_contains(err, needle);
}

/* ------------------------------------------------------------------ round trips */

static void test_png_round_trip_exact(void **state)
{
    fixture_t *fx = *state;
    static const uint32_t sizes[][2] = {{37, 23}, {1, 1}, {1, 9}, {300, 2}};
    for (size_t s = 0; s < sizeof sizes / sizeof sizes[0]; s++) {
        vks_image_t img = make_noise(sizes[s][0], sizes[s][1], (uint32_t)s + 1), back = {0};
        char err[256] = "";
        const char *name = s % 2 ? "b.PNG" : "a.png";
        if (vks_image_save(in_dir(fx, name), &img, 0, err, sizeof err) != 0)
            fail_msg("save: %s", err);
        if (vks_image_load(in_dir(fx, name), &back, err, sizeof err) != 0)
            fail_msg("load: %s", err);
        assert_int_equal(back.w, img.w);
        assert_int_equal(back.h, img.h);
        assert_memory_equal(back.px, img.px, (size_t)img.w * img.h * 3);
        vks_image_free(&img);
        vks_image_free(&back);
    }
    /* only the two outputs, no temporary files */
    assert_int_equal(count_entries(fx->dir), 2);
}

static void test_saved_file_mode_follows_umask(void **state)
{
    fixture_t *fx = *state;
    const mode_t old = umask(022);
    vks_image_t img = make_noise(4, 4, 3);
    char err[256] = "";
    assert_int_equal(vks_image_save(in_dir(fx, "m.png"), &img, 90, err, sizeof err), 0);
    umask(old);
    struct stat st;
    assert_int_equal(stat(in_dir(fx, "m.png"), &st), 0);
    assert_int_equal(st.st_mode & 0777, 0644);
    vks_image_free(&img);
}

static void test_jpeg_round_trip_close(void **state)
{
    fixture_t *fx = *state;
    vks_image_t img = make_gradient(96, 64);
    static const char *names[] = {"g.jpg", "g2.JPEG", "g3.Jpg"};
    for (size_t i = 0; i < 3; i++) {
        vks_image_t back = {0};
        char err[256] = "";
        if (vks_image_save(in_dir(fx, names[i]), &img, 90, err, sizeof err) != 0)
            fail_msg("save %s: %s", names[i], err);
        if (vks_image_load(in_dir(fx, names[i]), &back, err, sizeof err) != 0)
            fail_msg("load %s: %s", names[i], err);
        assert_int_equal(back.w, 96);
        assert_int_equal(back.h, 64);
        const double p = psnr(&img, &back);
        if (!(p > 30.0))
            fail_msg("JPEG PSNR %.2f dB <= 30", p);
        vks_image_free(&back);
    }
    /* quality matters: 1 is valid but worse than 95 */
    vks_image_t lo = {0}, hi = {0};
    char err[256] = "";
    assert_int_equal(vks_image_save(in_dir(fx, "lo.jpg"), &img, 1, err, sizeof err), 0);
    assert_int_equal(vks_image_load(in_dir(fx, "lo.jpg"), &lo, err, sizeof err), 0);
    assert_int_equal(vks_image_save(in_dir(fx, "hi.jpg"), &img, 95, err, sizeof err), 0);
    assert_int_equal(vks_image_load(in_dir(fx, "hi.jpg"), &hi, err, sizeof err), 0);
    assert_true(psnr(&img, &hi) > psnr(&img, &lo));
    vks_image_free(&lo);
    vks_image_free(&hi);
    vks_image_free(&img);
}

static void test_load_converts_grey_and_alpha(void **state)
{
    fixture_t *fx = *state;
    const uint8_t grey[6] = {0, 50, 100, 150, 200, 255}; /* 3x2 */
    uint8_t rgba[6 * 4];
    for (int i = 0; i < 6; i++) {
        rgba[i * 4 + 0] = (uint8_t)(i * 10);
        rgba[i * 4 + 1] = (uint8_t)(i * 20);
        rgba[i * 4 + 2] = (uint8_t)(i * 30);
        rgba[i * 4 + 3] = (uint8_t)(i * 40);
    }
    assert_true(stbi_write_png(in_dir(fx, "grey.png"), 3, 2, 1, grey, 3) != 0);
    assert_true(stbi_write_png(in_dir(fx, "rgba.png"), 3, 2, 4, rgba, 12) != 0);
    vks_image_t img = {0};
    char err[256] = "";
    assert_int_equal(vks_image_load(in_dir(fx, "grey.png"), &img, err, sizeof err), 0);
    assert_int_equal(img.w, 3);
    assert_int_equal(img.h, 2);
    for (int i = 0; i < 6; i++)
        for (int c = 0; c < 3; c++)
            assert_int_equal(img.px[i * 3 + c], grey[i]);
    vks_image_free(&img);
    assert_int_equal(vks_image_load(in_dir(fx, "rgba.png"), &img, err, sizeof err), 0);
    for (int i = 0; i < 6; i++)
        for (int c = 0; c < 3; c++)
            assert_int_equal(img.px[i * 3 + c], rgba[i * 4 + c]);
    vks_image_free(&img);
}

/* ------------------------------------------------------------------ load errors */

static void test_load_missing_file(void **state)
{
    fixture_t *fx = *state;
    expect_load_error(in_dir(fx, "photo.jpg"), "no such file");
    expect_load_error(in_dir(fx, "photo.jpg"), "photo.jpg");
    expect_load_error(in_dir(fx, "nodir/photo.jpg"), "no such file");
}

static void test_load_empty_file(void **state)
{
    fixture_t *fx = *state;
    write_bytes(in_dir(fx, "empty.png"), "", 0);
    expect_load_error(in_dir(fx, "empty.png"), "empty file");
}

static void test_load_text_file(void **state)
{
    fixture_t *fx = *state;
    const char text[] = "this is not an image\nat all\n";
    write_bytes(in_dir(fx, "text.png"), text, sizeof text - 1);
    expect_load_error(in_dir(fx, "text.png"), "not a PNG or JPEG image");
    write_bytes(in_dir(fx, "short.jpg"), "\xff", 1);
    expect_load_error(in_dir(fx, "short.jpg"), "not a PNG or JPEG image");
    /* BMP is recognised by stb but not accepted */
    write_bytes(in_dir(fx, "x.bmp"), "BM\x36\0\0\0\0\0\0\0\x36\0\0\0\x28\0\0\0", 18);
    expect_load_error(in_dir(fx, "x.bmp"), "not a PNG or JPEG image");
}

static void test_load_directory(void **state)
{
    fixture_t *fx = *state;
    expect_load_error(fx->dir, "is a directory");
}

static void test_load_truncated(void **state)
{
    fixture_t *fx = *state;
    vks_image_t img = make_noise(64, 64, 11);
    char err[256] = "";
    assert_int_equal(vks_image_save(in_dir(fx, "full.png"), &img, 0, err, sizeof err), 0);
    assert_int_equal(vks_image_save(in_dir(fx, "full.jpg"), &img, 90, err, sizeof err), 0);
    size_t size = 0;
    uint8_t *bytes = read_all(in_dir(fx, "full.png"), &size);
    assert_true(size > 1000);
    /* half the file: cut inside the image data */
    write_bytes(in_dir(fx, "half.png"), bytes, size / 2);
    expect_load_error(in_dir(fx, "half.png"), "PNG");
    /* signature only, and signature plus part of the header */
    write_bytes(in_dir(fx, "sig.png"), bytes, 8);
    expect_load_error(in_dir(fx, "sig.png"), "PNG");
    write_bytes(in_dir(fx, "hdr.png"), bytes, 20);
    expect_load_error(in_dir(fx, "hdr.png"), "PNG");
    /* header complete but no image data */
    write_bytes(in_dir(fx, "nodata.png"), bytes, 33);
    expect_load_error(in_dir(fx, "nodata.png"), "PNG");
    free(bytes);
    /* JPEG cut inside its header */
    bytes = read_all(in_dir(fx, "full.jpg"), &size);
    write_bytes(in_dir(fx, "cut.jpg"), bytes, 40);
    expect_load_error(in_dir(fx, "cut.jpg"), "JPEG");
    /* ... and inside its scan data, and without the final EOI marker */
    write_bytes(in_dir(fx, "cut2.jpg"), bytes, size * 9 / 10);
    expect_load_error(in_dir(fx, "cut2.jpg"), "JPEG");
    write_bytes(in_dir(fx, "cut3.jpg"), bytes, size - 2);
    expect_load_error(in_dir(fx, "cut3.jpg"), "JPEG");
    free(bytes);
    vks_image_free(&img);
}

static uint32_t crc32_bytes(const uint8_t *p, size_t n)
{
    uint32_t c = 0xffffffffu;
    for (size_t i = 0; i < n; i++) {
        c ^= p[i];
        for (int k = 0; k < 8; k++)
            c = (c >> 1) ^ (0xedb88320u & (0u - (c & 1u)));
    }
    return c ^ 0xffffffffu;
}

static void put_be32(uint8_t *p, uint32_t v)
{
    p[0] = (uint8_t)(v >> 24);
    p[1] = (uint8_t)(v >> 16);
    p[2] = (uint8_t)(v >> 8);
    p[3] = (uint8_t)v;
}

/* A PNG with only a (valid) IHDR claiming w x h, then IEND: enough for the size check. */
static void write_png_header_only(const char *path, uint32_t w, uint32_t h)
{
    uint8_t b[8 + 25 + 12];
    static const uint8_t sig[8] = {0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n'};
    memcpy(b, sig, 8);
    put_be32(b + 8, 13);
    memcpy(b + 12, "IHDR", 4);
    put_be32(b + 16, w);
    put_be32(b + 20, h);
    b[24] = 8; /* bit depth */
    b[25] = 2; /* RGB */
    b[26] = b[27] = b[28] = 0;
    put_be32(b + 29, crc32_bytes(b + 12, 17));
    put_be32(b + 33, 0);
    memcpy(b + 37, "IEND", 4);
    put_be32(b + 41, crc32_bytes(b + 37, 4));
    write_bytes(path, b, sizeof b);
}

static void test_load_rejects_oversized(void **state)
{
    fixture_t *fx = *state;
    write_png_header_only(in_dir(fx, "wide.png"), 40000, 8);
    expect_load_error(in_dir(fx, "wide.png"), "larger than 32768 on a side");
    write_png_header_only(in_dir(fx, "tall.png"), 8, 32769);
    expect_load_error(in_dir(fx, "tall.png"), "32769");
    write_png_header_only(in_dir(fx, "huge.png"), 20000, 20000);
    expect_load_error(in_dir(fx, "huge.png"), "2^28");
    /* 32768 x 8192 = 2^28 exactly passes the size check (then fails: no pixel data) */
    write_png_header_only(in_dir(fx, "edge.png"), 32768, 8192);
    vks_image_t img = {0};
    char err[256] = "";
    assert_int_equal(vks_image_load(in_dir(fx, "edge.png"), &img, err, sizeof err), -1);
    assert_null(strstr(err, "2^28"));
    assert_null(strstr(err, "on a side"));
    /* zero size */
    write_png_header_only(in_dir(fx, "zero.png"), 0, 5);
    expect_load_error(in_dir(fx, "zero.png"), "zero.png");
}

/* A JPEG with APP0 and a baseline SOF0 claiming w x h, then EOI: enough for the size check. */
static void write_jpeg_header_only(const char *path, uint32_t w, uint32_t h)
{
    uint8_t b[] = {
        0xff, 0xd8,                                                                               /* SOI */
        0xff, 0xe0, 0x00, 0x10, 'J', 'F', 'I', 'F', 0, 1, 1, 0, 0, 1, 0, 1, 0, 0,                 /* APP0 */
        0xff, 0xff,                                                                               /* fill */
        0xff, 0xc0, 0x00, 0x11, 8, 0, 0, 0, 0, 3, 1, 0x22, 0, 2, 0x11, 1, 3, 0x11, 1,             /* SOF0 */
        0xff, 0xd9,                                                                               /* EOI */
    };
    b[27] = (uint8_t)(h >> 8);
    b[28] = (uint8_t)h;
    b[29] = (uint8_t)(w >> 8);
    b[30] = (uint8_t)w;
    write_bytes(path, b, sizeof b);
}

static void test_load_rejects_oversized_jpeg(void **state)
{
    fixture_t *fx = *state;
    write_jpeg_header_only(in_dir(fx, "wide.jpg"), 50000, 100);
    expect_load_error(in_dir(fx, "wide.jpg"), "50000x100, larger than 32768 on a side");
    write_jpeg_header_only(in_dir(fx, "huge.jpg"), 20000, 20000);
    expect_load_error(in_dir(fx, "huge.jpg"), "20000x20000, more than 2^28");
    /* within the limits: the header passes, decoding then fails (no scan data) */
    write_jpeg_header_only(in_dir(fx, "ok.jpg"), 64, 48);
    expect_load_error(in_dir(fx, "ok.jpg"), "JPEG");
}

/* A palette PNG (colour type 3), 8 bits, w x 1, with the given palette and indices; the image
 * data is one stored (uncompressed) deflate block. */
static void write_palette_png(const char *path, const uint8_t *plte, uint32_t entries, const uint8_t *idx, uint32_t w)
{
    static const uint8_t sig[8] = {0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n'};
    uint8_t b[1024], *p = b;
    assert_true(w < 100 && entries <= 256);
    memcpy(p, sig, 8);
    p += 8;
    /* IHDR */
    put_be32(p, 13);
    memcpy(p + 4, "IHDR", 4);
    put_be32(p + 8, w);
    put_be32(p + 12, 1);
    p[16] = 8;
    p[17] = 3;
    p[18] = p[19] = p[20] = 0;
    put_be32(p + 21, crc32_bytes(p + 4, 17));
    p += 25;
    /* PLTE */
    put_be32(p, 3 * entries);
    memcpy(p + 4, "PLTE", 4);
    memcpy(p + 8, plte, 3 * entries);
    put_be32(p + 8 + 3 * entries, crc32_bytes(p + 4, 4 + 3 * entries));
    p += 12 + 3 * entries;
    /* IDAT: zlib header, one final stored block of the row (filter byte 0), Adler-32 */
    uint8_t raw[128];
    raw[0] = 0;
    memcpy(raw + 1, idx, w);
    const uint32_t rn = w + 1;
    uint32_t a = 1, s2 = 0;
    for (uint32_t i = 0; i < rn; i++) {
        a = (a + raw[i]) % 65521;
        s2 = (s2 + a) % 65521;
    }
    uint8_t *z = p + 8;
    z[0] = 0x78;
    z[1] = 0x01;
    z[2] = 1;
    z[3] = (uint8_t)rn;
    z[4] = (uint8_t)(rn >> 8);
    z[5] = (uint8_t)~rn;
    z[6] = (uint8_t)(~rn >> 8);
    memcpy(z + 7, raw, rn);
    put_be32(z + 7 + rn, s2 << 16 | a);
    const uint32_t zn = 7 + rn + 4;
    put_be32(p, zn);
    memcpy(p + 4, "IDAT", 4);
    put_be32(p + 8 + zn, crc32_bytes(p + 4, 4 + zn));
    p += 12 + zn;
    put_be32(p, 0);
    memcpy(p + 4, "IEND", 4);
    put_be32(p + 8, crc32_bytes(p + 4, 4));
    p += 12;
    write_bytes(path, b, (size_t)(p - b));
}

/* Fill a stretch of the stack below the caller, where the decoder's frames will be. */
static void __attribute__((noinline)) dirty_stack(void)
{
    volatile uint8_t junk[256 * 1024];
    for (size_t i = 0; i < sizeof junk; i++)
        junk[i] = 0xa5;
}

/* Indices past the palette: stb reads its palette array past PLTE's entries, which it never
 * initialised; such pixels must come out black (as libpng gives them), not stack garbage. */
static void test_load_palette_index_past_palette(void **state)
{
    fixture_t *fx = *state;
    static const uint8_t plte[6] = {255, 0, 0, 0, 255, 0};
    static const uint8_t idx[6] = {0, 1, 2, 200, 255, 1};
    write_palette_png(in_dir(fx, "pal.png"), plte, 2, idx, 6);
    for (int round = 0; round < 2; round++) {
        vks_image_t img = {0};
        char err[256] = "";
        dirty_stack();
        if (vks_image_load(in_dir(fx, "pal.png"), &img, err, sizeof err) != 0)
            fail_msg("%s", err);
        assert_int_equal(img.w, 6);
        assert_int_equal(img.h, 1);
        static const uint8_t want[18] = {255, 0, 0, 0, 255, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 255, 0};
        assert_memory_equal(img.px, want, sizeof want);
        vks_image_free(&img);
    }
    /* a full palette is left as it is */
    uint8_t full[768];
    for (int i = 0; i < 768; i++)
        full[i] = (uint8_t)(i / 3);
    write_palette_png(in_dir(fx, "pal256.png"), full, 256, idx, 6);
    vks_image_t img = {0};
    char err[256] = "";
    if (vks_image_load(in_dir(fx, "pal256.png"), &img, err, sizeof err) != 0)
        fail_msg("%s", err);
    assert_int_equal(img.px[9], 200);
    assert_int_equal(img.px[12], 255);
    vks_image_free(&img);
}

/* A JPEG whose header declares far more pixels than its bytes can hold is refused at once
 * (it took 1.2 GB and seconds of decoding grey before anything refused it). */
/* vks_image_open reads the size from the header without decoding (vkstyle image checks it
 * before paying for the decode): a header-only 4000x3000 PNG opens with its size and fails only
 * when decoded; a real image decodes to what vks_image_load gives, and can be decoded twice. */
static void test_open_reads_header_decode_decodes(void **state)
{
    fixture_t *fx = *state;
    char err[256] = "";
    vks_image_file_t file;
    write_png_header_only(in_dir(fx, "header.png"), 4000, 3000);
    if (vks_image_open(in_dir(fx, "header.png"), &file, err, sizeof err) != 0)
        fail_msg("open: %s", err);
    assert_int_equal(file.w, 4000);
    assert_int_equal(file.h, 3000);
    vks_image_t img = {0};
    assert_int_equal(vks_image_decode(&file, &img, err, sizeof err), -1);
    assert_null(img.px);
    assert_contains(err, "corrupt or truncated PNG");
    vks_image_close(&file);
    vks_image_close(&file); /* twice */
    assert_null(file.data);

    vks_image_t src = make_noise(37, 23, 5), a = {0}, b = {0}, c = {0};
    if (vks_image_save(in_dir(fx, "n.jpg"), &src, 90, err, sizeof err) != 0)
        fail_msg("save: %s", err);
    if (vks_image_load(fx->path, &a, err, sizeof err) != 0 || vks_image_open(fx->path, &file, err, sizeof err) != 0 ||
        vks_image_decode(&file, &b, err, sizeof err) != 0 || vks_image_decode(&file, &c, err, sizeof err) != 0)
        fail_msg("%s", err);
    assert_int_equal(file.w, 37);
    assert_int_equal(file.h, 23);
    assert_int_equal(b.w, 37);
    assert_int_equal(b.h, 23);
    assert_memory_equal(a.px, b.px, (size_t)37 * 23 * 3);
    assert_memory_equal(b.px, c.px, (size_t)37 * 23 * 3);
    vks_image_close(&file);
    vks_image_free(&src);
    vks_image_free(&a);
    vks_image_free(&b);
    vks_image_free(&c);
    /* the same refusals as vks_image_load, before any decoding */
    assert_int_equal(vks_image_open(in_dir(fx, "missing.png"), &file, err, sizeof err), -1);
    assert_contains(err, "no such file");
    assert_null(file.data);
    assert_int_equal(vks_image_check_size(32769, 1, "x", err, sizeof err), -1);
    assert_contains(err, "x: image is 32769x1, larger than 32768 on a side");
    assert_int_equal(vks_image_check_size(32768, 8192, NULL, err, sizeof err), 0);
}

static void test_load_jpeg_too_short_for_its_size(void **state)
{
    fixture_t *fx = *state;
    vks_image_t img = make_gradient(16, 16);
    char err[256] = "";
    assert_int_equal(vks_image_save(in_dir(fx, "small.jpg"), &img, 90, err, sizeof err), 0);
    vks_image_free(&img);
    size_t size = 0;
    uint8_t *bytes = read_all(in_dir(fx, "small.jpg"), &size);
    /* the SOFn's height and width say 16384 x 16384 */
    size_t pos = 2;
    while (pos + 4 < size && !(bytes[pos + 1] >= 0xc0 && bytes[pos + 1] <= 0xc2))
        pos += 2 + ((size_t)bytes[pos + 2] << 8 | bytes[pos + 3]);
    assert_true(pos + 9 < size);
    bytes[pos + 5] = bytes[pos + 7] = 0x40;
    bytes[pos + 6] = bytes[pos + 8] = 0;
    write_bytes(in_dir(fx, "huge.jpg"), bytes, size);
    free(bytes);
    expect_load_error(in_dir(fx, "huge.jpg"), "cannot hold 16384x16384 pixels");
}

/* A JPEG cut inside its scan header: the JPEG's error, not stb's leftover "bad png sig" (stb
 * tries its PNG decoder first). */
static void test_load_jpeg_cut_in_scan_header(void **state)
{
    fixture_t *fx = *state;
    vks_image_t img = make_gradient(16, 16);
    char err[256] = "";
    assert_int_equal(vks_image_save(in_dir(fx, "s.jpg"), &img, 90, err, sizeof err), 0);
    vks_image_free(&img);
    size_t size = 0;
    uint8_t *bytes = read_all(in_dir(fx, "s.jpg"), &size);
    size_t pos = 2;
    while (pos + 4 < size && bytes[pos + 1] != 0xda)
        pos += 2 + ((size_t)bytes[pos + 2] << 8 | bytes[pos + 3]);
    assert_true(pos + 8 < size);
    for (size_t cut = pos + 2; cut < pos + 2 + ((size_t)bytes[pos + 2] << 8 | bytes[pos + 3]); cut++) {
        write_bytes(in_dir(fx, "cut.jpg"), bytes, cut);
        expect_load_error(in_dir(fx, "cut.jpg"), "corrupt or truncated JPEG image");
        vks_image_t im = {0};
        assert_int_equal(vks_image_load(in_dir(fx, "cut.jpg"), &im, err, sizeof err), -1);
        if (strstr(err, "png"))
            fail_msg("cut at %zu of %zu: %s", cut, size, err);
    }
    free(bytes);
}

/* Extra segments (EXIF-like APP1, COM) and fill bytes before the frame header still load. */
static void test_load_jpeg_with_extra_segments(void **state)
{
    fixture_t *fx = *state;
    vks_image_t img = make_gradient(24, 16), a = {0}, b = {0};
    char err[256] = "";
    assert_int_equal(vks_image_save(in_dir(fx, "plain.jpg"), &img, 90, err, sizeof err), 0);
    size_t size = 0;
    uint8_t *bytes = read_all(in_dir(fx, "plain.jpg"), &size);
    static const uint8_t extra[] = {
        0xff, 0xe1, 0x00, 0x0c, 'E', 'x', 'i', 'f', 0, 0, 'I', 'I', 42, 0, /* APP1 */
        0xff, 0xff, 0xff, 0xfe, 0x00, 0x05, 'h', 'i', '!',                 /* fill, COM */
    };
    uint8_t *spliced = malloc(size + sizeof extra);
    assert_non_null(spliced);
    memcpy(spliced, bytes, 2);
    memcpy(spliced + 2, extra, sizeof extra);
    memcpy(spliced + 2 + sizeof extra, bytes + 2, size - 2);
    write_bytes(in_dir(fx, "exif.jpg"), spliced, size + sizeof extra);
    if (vks_image_load(in_dir(fx, "plain.jpg"), &a, err, sizeof err) != 0)
        fail_msg("%s", err);
    if (vks_image_load(in_dir(fx, "exif.jpg"), &b, err, sizeof err) != 0)
        fail_msg("%s", err);
    assert_int_equal(b.w, 24);
    assert_int_equal(b.h, 16);
    assert_memory_equal(a.px, b.px, 24 * 16 * 3);
    free(bytes);
    free(spliced);
    vks_image_free(&a);
    vks_image_free(&b);
    vks_image_free(&img);
}

static void test_load_bad_arguments_and_small_err(void **state)
{
    fixture_t *fx = *state;
    vks_image_t img = {0};
    char err[8];
    memset(err, 'x', sizeof err);
    /* truncated message, NUL-terminated within errsz */
    assert_int_equal(vks_image_load(in_dir(fx, "missing.png"), &img, err, 5), -1);
    assert_int_equal(strlen(err), 4);
    assert_int_equal(err[5], 'x');
    /* NULL err and zero errsz are fine */
    assert_int_equal(vks_image_load(in_dir(fx, "missing.png"), &img, NULL, 0), -1);
    assert_int_equal(vks_image_load(in_dir(fx, "missing.png"), &img, err, 0), -1);
    assert_int_equal(vks_image_load(NULL, &img, NULL, 0), -1);
    assert_int_equal(vks_image_load("", &img, NULL, 0), -1);
    assert_int_equal(vks_image_load(in_dir(fx, "x.png"), NULL, NULL, 0), -1);
}

/* ------------------------------------------------------------------ save errors */

static void test_save_unsupported_extension(void **state)
{
    fixture_t *fx = *state;
    vks_image_t img = make_noise(4, 4, 5);
    static const char *names[] = {"x.bmp", "x", "x.png.txt", "x.pn", "x.jpgx", ".png", "x.", "dir.png/x"};
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++) {
        char err[256] = "";
        assert_int_equal(vks_image_save(in_dir(fx, names[i]), &img, 90, err, sizeof err), -1);
        assert_contains(err, "unsupported output extension");
    }
    assert_int_equal(count_entries(fx->dir), 0);
    vks_image_free(&img);
}

static void test_save_into_missing_directory(void **state)
{
    fixture_t *fx = *state;
    vks_image_t img = make_noise(4, 4, 6);
    char err[256] = "";
    assert_int_equal(vks_image_save(in_dir(fx, "nope/out.png"), &img, 90, err, sizeof err), -1);
    assert_contains(err, "out.png");
    assert_contains(err, "directory does not exist");
    assert_false(exists(in_dir(fx, "nope")));
    assert_int_equal(count_entries(fx->dir), 0);
    vks_image_free(&img);
}

static void test_save_onto_directory_leaves_no_temp(void **state)
{
    fixture_t *fx = *state;
    assert_int_equal(mkdir(in_dir(fx, "d.png"), 0755), 0);
    vks_image_t img = make_noise(8, 8, 7);
    char err[256] = "";
    assert_int_equal(vks_image_save(in_dir(fx, "d.png"), &img, 90, err, sizeof err), -1);
    assert_contains(err, "d.png");
    assert_int_equal(count_entries(fx->dir), 1); /* only the directory itself */
    vks_image_free(&img);
}

static void test_save_replaces_existing_file(void **state)
{
    fixture_t *fx = *state;
    write_bytes(in_dir(fx, "r.png"), "old contents", 12);
    vks_image_t img = make_noise(5, 3, 8), back = {0};
    char err[256] = "";
    assert_int_equal(vks_image_save(in_dir(fx, "r.png"), &img, 90, err, sizeof err), 0);
    assert_int_equal(vks_image_load(in_dir(fx, "r.png"), &back, err, sizeof err), 0);
    assert_memory_equal(back.px, img.px, 5 * 3 * 3);
    assert_int_equal(count_entries(fx->dir), 1);
    vks_image_free(&img);
    vks_image_free(&back);
}

static void test_save_relative_path(void **state)
{
    fixture_t *fx = *state;
    char cwd[1024];
    assert_non_null(getcwd(cwd, sizeof cwd));
    assert_int_equal(chdir(fx->dir), 0);
    vks_image_t img = make_noise(3, 3, 9), back = {0};
    char err[256] = "";
    const int rc = vks_image_save("rel.png", &img, 90, err, sizeof err);
    const int rc2 = vks_image_load("rel.png", &back, err, sizeof err);
    assert_int_equal(chdir(cwd), 0);
    assert_int_equal(rc, 0);
    assert_int_equal(rc2, 0);
    assert_memory_equal(back.px, img.px, 27);
    assert_int_equal(count_entries(fx->dir), 1);
    vks_image_free(&img);
    vks_image_free(&back);
}

static void test_save_invalid_image_or_quality(void **state)
{
    fixture_t *fx = *state;
    char err[256] = "";
    vks_image_t none = {0};
    assert_int_equal(vks_image_save(in_dir(fx, "a.png"), &none, 90, err, sizeof err), -1);
    assert_int_equal(vks_image_save(in_dir(fx, "a.png"), NULL, 90, err, sizeof err), -1);
    vks_image_t img = make_noise(4, 4, 10);
    vks_image_t zero_w = {img.px, 0, 4};
    assert_int_equal(vks_image_save(in_dir(fx, "a.png"), &zero_w, 90, err, sizeof err), -1);
    assert_contains(err, "0x4");
    vks_image_t huge = {img.px, 40000, 1};
    assert_int_equal(vks_image_save(in_dir(fx, "a.png"), &huge, 90, err, sizeof err), -1);
    assert_contains(err, "32768");
    assert_int_equal(vks_image_save(in_dir(fx, "a.jpg"), &img, 0, err, sizeof err), -1);
    assert_contains(err, "quality");
    assert_int_equal(vks_image_save(in_dir(fx, "a.jpg"), &img, 101, err, sizeof err), -1);
    assert_int_equal(vks_image_save(NULL, &img, 90, err, sizeof err), -1);
    assert_int_equal(vks_image_save("", &img, 90, err, sizeof err), -1);
    assert_int_equal(count_entries(fx->dir), 0);
    /* PNG ignores the quality */
    assert_int_equal(vks_image_save(in_dir(fx, "a.png"), &img, 0, err, sizeof err), 0);
    vks_image_free(&img);
}

/* ------------------------------------------------------------------ resize, free */

static void test_resize_dimensions(void **state)
{
    (void)state;
    vks_image_t src = make_gradient(40, 30);
    static const uint32_t sizes[][2] = {{20, 15}, {1, 1}, {81, 61}, {40, 30}, {400, 3}, {3, 300}};
    for (size_t i = 0; i < sizeof sizes / sizeof sizes[0]; i++) {
        vks_image_t dst = {0};
        char err[256] = "";
        if (vks_image_resize(&src, sizes[i][0], sizes[i][1], &dst, err, sizeof err) != 0)
            fail_msg("resize to %ux%u: %s", sizes[i][0], sizes[i][1], err);
        assert_non_null(dst.px);
        assert_int_equal(dst.w, sizes[i][0]);
        assert_int_equal(dst.h, sizes[i][1]);
        vks_image_free(&dst);
    }
    vks_image_free(&src);
}

static void test_resize_constant_and_alias(void **state)
{
    (void)state;
    vks_image_t img = make_image(33, 17);
    for (size_t i = 0; i < 33 * 17; i++) {
        img.px[i * 3 + 0] = 200;
        img.px[i * 3 + 1] = 100;
        img.px[i * 3 + 2] = 7;
    }
    char err[256] = "";
    assert_int_equal(vks_image_resize(&img, 64, 9, &img, err, sizeof err), 0); /* in place */
    assert_int_equal(img.w, 64);
    assert_int_equal(img.h, 9);
    for (size_t i = 0; i < 64 * 9; i++) {
        assert_in_range(img.px[i * 3 + 0], 199, 201);
        assert_in_range(img.px[i * 3 + 1], 99, 101);
        assert_in_range(img.px[i * 3 + 2], 6, 8);
    }
    /* gradient stays ordered: left edge darker than right edge in red */
    vks_image_t g = make_gradient(50, 20), small = {0};
    assert_int_equal(vks_image_resize(&g, 10, 4, &small, err, sizeof err), 0);
    assert_true(small.px[0] < small.px[9 * 3]);
    vks_image_free(&g);
    vks_image_free(&small);
    vks_image_free(&img);
}

static void test_resize_errors(void **state)
{
    (void)state;
    vks_image_t src = make_noise(8, 8, 12);
    vks_image_t dst = {(uint8_t *)(uintptr_t)1, 3, 3}; /* must stay untouched on failure */
    char err[256] = "";
    assert_int_equal(vks_image_resize(&src, 0, 5, &dst, err, sizeof err), -1);
    assert_contains(err, "0x5");
    assert_int_equal(vks_image_resize(&src, 40000, 1, &dst, err, sizeof err), -1);
    assert_contains(err, "32768");
    assert_int_equal(vks_image_resize(&src, 30000, 30000, &dst, err, sizeof err), -1);
    assert_contains(err, "2^28");
    vks_image_t none = {0};
    assert_int_equal(vks_image_resize(&none, 4, 4, &dst, err, sizeof err), -1);
    assert_int_equal(vks_image_resize(NULL, 4, 4, &dst, err, sizeof err), -1);
    assert_int_equal(vks_image_resize(&src, 4, 4, NULL, err, sizeof err), -1);
    assert_true(dst.px == (uint8_t *)(uintptr_t)1 && dst.w == 3 && dst.h == 3);
    vks_image_free(&src);
}

static void test_image_free_zeroes(void **state)
{
    (void)state;
    vks_image_t z = {0};
    vks_image_free(&z);
    vks_image_free(NULL);
    vks_image_t img = make_noise(2, 2, 1);
    vks_image_free(&img);
    assert_null(img.px);
    assert_int_equal(img.w, 0);
    assert_int_equal(img.h, 0);
    vks_image_free(&img); /* twice */
}

#define T(f) cmocka_unit_test_setup_teardown(f, setup, teardown)

int main(void)
{
    const struct CMUnitTest tests[] = {
        T(test_png_round_trip_exact),
        T(test_saved_file_mode_follows_umask),
        T(test_jpeg_round_trip_close),
        T(test_load_converts_grey_and_alpha),
        T(test_load_missing_file),
        T(test_load_empty_file),
        T(test_load_text_file),
        T(test_load_directory),
        T(test_load_truncated),
        T(test_load_rejects_oversized),
        T(test_load_rejects_oversized_jpeg),
        T(test_load_jpeg_with_extra_segments),
        T(test_load_palette_index_past_palette),
        T(test_load_jpeg_too_short_for_its_size),
        T(test_load_jpeg_cut_in_scan_header),
        T(test_load_bad_arguments_and_small_err),
        T(test_open_reads_header_decode_decodes),
        T(test_save_unsupported_extension),
        T(test_save_into_missing_directory),
        T(test_save_onto_directory_leaves_no_temp),
        T(test_save_replaces_existing_file),
        T(test_save_relative_path),
        T(test_save_invalid_image_or_quality),
        T(test_resize_dimensions),
        T(test_resize_constant_and_alias),
        T(test_resize_errors),
        T(test_image_free_zeroes),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
