/* Image files for the vkstyle command. See image_io.h.
 *
 * stb comes from Debian's libstb-dev: the headers only declare, libstb holds the
 * implementations (so no STB_*_IMPLEMENTATION here). libstb is built with stb's default
 * allocator (malloc/free), so pixels returned by stbi_load_* are released with free(). */
#if !defined(_GNU_SOURCE) && !defined(_POSIX_C_SOURCE)
#define _POSIX_C_SOURCE 200809L /* fileno, fdopen, fsync, O_CLOEXEC */
#endif
#include "image_io.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wunused-function"
#pragma GCC diagnostic ignored "-Wsign-compare"
#pragma GCC diagnostic ignored "-Wunused-parameter"
#include <stb/stb_image.h>
#include <stb/stb_image_resize.h>
#include <stb/stb_image_write.h>
#pragma GCC diagnostic pop

#if defined(__GNUC__)
__attribute__((format(printf, 3, 4)))
#endif
static void set_err(char *err, size_t errsz, const char *fmt, ...)
{
    if (!err || errsz == 0)
        return;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err, errsz, fmt, ap);
    va_end(ap);
}

static const char *stb_reason(void)
{
    const char *r = stbi_failure_reason();
    return r && *r ? r : "unknown error";
}

/* 0 if w x h is within the limits, else -1 with a message prefixed by "label: " (label may be NULL). */
static int check_size(uint64_t w, uint64_t h, const char *label, char *err, size_t errsz)
{
    const char *l = label ? label : "", *sep = label ? ": " : "";
    const unsigned long long uw = w, uh = h;
    if (w == 0 || h == 0) {
        set_err(err, errsz, "%s%simage is %llux%llu", l, sep, uw, uh);
        return -1;
    }
    if (w > VKS_IMAGE_MAX_SIDE || h > VKS_IMAGE_MAX_SIDE) {
        set_err(err, errsz, "%s%simage is %llux%llu, larger than %u on a side", l, sep, uw, uh, VKS_IMAGE_MAX_SIDE);
        return -1;
    }
    if (w * h > VKS_IMAGE_MAX_PIXELS) {
        set_err(err, errsz, "%s%simage is %llux%llu, more than 2^28 (%llu) pixels", l, sep, uw, uh,
                (unsigned long long)VKS_IMAGE_MAX_PIXELS);
        return -1;
    }
    return 0;
}

static int check_image(const vks_image_t *img, char *err, size_t errsz)
{
    if (!img || !img->px) {
        set_err(err, errsz, "invalid image (no pixels)");
        return -1;
    }
    return check_size(img->w, img->h, NULL, err, errsz);
}

/* ------------------------------------------------------------------ load */

static uint32_t be16(const unsigned char *p) { return (uint32_t)p[0] << 8 | p[1]; }
static uint32_t be32(const unsigned char *p)
{
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}
static void put_be32(unsigned char *p, uint32_t v)
{
    p[0] = (unsigned char)(v >> 24);
    p[1] = (unsigned char)(v >> 16);
    p[2] = (unsigned char)(v >> 8);
    p[3] = (unsigned char)v;
}

/* Read the image size from the header: PNG's IHDR, or JPEG's first SOFn marker (then walk on
 * to the first scan: stb turns a JPEG without one into a blank image instead of failing).
 * d holds the whole file. Returns 0 on success; -1 if no size was found (truncated, malformed
 * or unusual file); 1 if a JPEG's size was found but no complete scan header follows it. */
static int probe_size(const uint8_t *d, size_t n, int is_png, uint32_t *w, uint32_t *h)
{
    if (is_png) {
        /* signature, IHDR length (13) and type, width, height */
        if (n < 24 || be32(d + 8) != 13 || memcmp(d + 12, "IHDR", 4) != 0)
            return -1;
        *w = be32(d + 16);
        *h = be32(d + 20);
        return 0;
    }
    if (n < 2 || d[0] != 0xff || d[1] != 0xd8)
        return -1;
    size_t pos = 2;
    int have_size = 0;
    for (int markers = 0; markers < 4096; markers++) {
        if (pos >= n || d[pos] != 0xff)
            break;
        while (pos < n && d[pos] == 0xff) /* fill bytes */
            pos++;
        if (pos >= n || d[pos] == 0xd9) /* end of file, EOI */
            break;
        const uint8_t c = d[pos++];
        if (c == 0x01 || (c >= 0xd0 && c <= 0xd8)) /* TEM, RSTn, SOI: no length */
            continue;
        if (pos + 2 > n)
            break;
        const uint32_t len = be16(d + pos);
        if (len < 2)
            break;
        if (c == 0xda) /* SOS: the first scan, its header whole and some data after it */
            return !have_size ? -1 : pos + len < n ? 0 : 1;
        if (!have_size && c >= 0xc0 && c <= 0xcf && c != 0xc4 && c != 0xc8 && c != 0xcc) {
            /* SOFn: length, precision, height, width */
            if (len < 7 || pos + 7 > n)
                break;
            *h = be16(d + pos + 3);
            *w = be16(d + pos + 5);
            have_size = 1;
        }
        pos += len;
    }
    return have_size ? 1 : -1;
}

/* stb's PNG decoder keeps the palette in an uninitialised 256-entry array and does not check
 * the indices against PLTE's length, so pixels past the palette would show stack garbage.
 * Give it a PLTE of all 256 entries, the missing ones black (as libpng does). Returns the
 * bytes to decode: d itself, or a new buffer in *copy (free it). stb does not read chunk CRCs,
 * so the rewritten chunk's CRC is left 0. NULL if out of memory. */
static const uint8_t *full_palette(const uint8_t *d, size_t n, size_t *out_n, uint8_t **copy)
{
    *copy = NULL;
    *out_n = n;
    for (size_t pos = 8; pos + 12 <= n;) {
        const uint32_t len = be32(d + pos);
        if (len > n - pos - 12 || !memcmp(d + pos + 4, "IDAT", 4) || !memcmp(d + pos + 4, "IEND", 4))
            break;
        if (!memcmp(d + pos + 4, "PLTE", 4)) {
            if (len % 3 || len >= 768) /* malformed (stb says so) or already full */
                break;
            uint8_t *c = calloc(1, n + 768 - len);
            if (!c)
                return NULL;
            memcpy(c, d, pos + 8 + len);
            put_be32(c + pos, 768);
            memcpy(c + pos + 8 + 768 + 4, d + pos + 8 + len + 4, n - (pos + 12 + len));
            *copy = c;
            *out_n = n + 768 - len;
            return c;
        }
        pos += 12 + (size_t)len;
    }
    return d;
}

/* The whole of a regular, non-empty file of at most INT_MAX bytes (what stb decodes from memory). */
static int read_file(const char *path, uint8_t **out, size_t *size, char *err, size_t errsz)
{
    /* O_NONBLOCK: a FIFO would block the open until a writer came; it is refused below */
    const int fd = open(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC);
    if (fd < 0) {
        if (errno == ENOENT)
            set_err(err, errsz, "%s: no such file", path);
        else
            set_err(err, errsz, "%s: cannot open: %s", path, strerror(errno));
        return -1;
    }
    int rc = -1;
    uint8_t *data = NULL;
    size_t n = 0;
    struct stat st;
    if (fstat(fd, &st) != 0) {
        set_err(err, errsz, "%s: cannot stat: %s", path, strerror(errno));
        goto done;
    }
    if (!S_ISREG(st.st_mode)) {
        set_err(err, errsz, "%s: %s", path, S_ISDIR(st.st_mode) ? "is a directory" : "not a regular file");
        goto done;
    }
    if (st.st_size == 0) {
        set_err(err, errsz, "%s: empty file", path);
        goto done;
    }
    /* stb decodes from memory at most INT_MAX bytes; no image within the limits needs more */
    if ((uint64_t)st.st_size > INT_MAX) {
        set_err(err, errsz, "%s: %llu bytes is more than an image file within the limits needs", path,
                (unsigned long long)st.st_size);
        goto done;
    }
    n = (size_t)st.st_size;
    if (!(data = malloc(n))) {
        set_err(err, errsz, "%s: out of memory reading %zu bytes", path, n);
        goto done;
    }
    for (size_t got = 0; got < n;) {
        const ssize_t r = read(fd, data + got, n - got);
        if (r < 0 && errno == EINTR)
            continue;
        if (r <= 0) {
            set_err(err, errsz, "%s: read error: %s", path, r < 0 ? strerror(errno) : "the file shrank");
            goto done;
        }
        got += (size_t)r;
    }

    *out = data;
    *size = n;
    data = NULL;
    rc = 0;
done:
    free(data);
    close(fd);
    return rc;
}

/* The kind and size from the header, and every check that needs no decoding. */
static int read_header(const char *path, const uint8_t *data, size_t n, uint32_t *wp, uint32_t *hp, int *is_png_p,
                       char *err, size_t errsz)
{
    /* Only PNG and JPEG, recognised by their signatures (stb would also take BMP, GIF, ...). */
    static const unsigned char png_sig[8] = {0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n'};
    const char *kind;
    if (n >= 8 && memcmp(data, png_sig, 8) == 0)
        kind = "PNG";
    else if (n >= 3 && data[0] == 0xff && data[1] == 0xd8 && data[2] == 0xff)
        kind = "JPEG";
    else {
        set_err(err, errsz, "%s: not a PNG or JPEG image", path);
        return -1;
    }
    const int is_png = kind[0] == 'P';

    /* Size first, so oversized images are refused with a clear message before anything is
     * allocated (stbi_info itself refuses images over 2^31 bytes with an unhelpful reason). */
    uint32_t w = 0, h = 0;
    const int probed = probe_size(data, n, is_png, &w, &h);
    if (probed < 0) {
        /* Not found by the simple header walk: ask stb. */
        int iw = 0, ih = 0, comp = 0;
        if (!stbi_info_from_memory(data, (int)n, &iw, &ih, &comp) || iw < 0 || ih < 0) {
            set_err(err, errsz, "%s: corrupt or truncated %s image (no valid header)", path, kind);
            return -1;
        }
        w = (uint32_t)iw;
        h = (uint32_t)ih;
    }
    if (check_size(w, h, path, err, errsz) != 0) return -1;
    if (probed == 1) {
        set_err(err, errsz, "%s: corrupt or truncated JPEG image (no image data)", path);
        return -1;
    }
    /* Every 8x8 block of a JPEG takes at least one bit (its DC code), and the component with the
     * largest horizontal sampling has a block per 8x32 pixels at least: a file far too short for
     * its declared size is truncated, and stb would spend seconds and gigabytes decoding the
     * missing data as grey before anything could refuse it. */
    if (!is_png && (uint64_t)w * h / 2048 > n) {
        set_err(err, errsz, "%s: corrupt or truncated JPEG image (%zu bytes cannot hold %ux%u pixels)", path, n, w, h);
        return -1;
    }
    *wp = w;
    *hp = h;
    *is_png_p = is_png;
    return 0;
}

int vks_image_open(const char *path, vks_image_file_t *file, char *err, size_t errsz)
{
    if (!file) {
        set_err(err, errsz, "invalid argument: no image file");
        return -1;
    }
    memset(file, 0, sizeof *file);
    if (!path || !*path) {
        set_err(err, errsz, "invalid argument: empty input path");
        return -1;
    }
    uint8_t *data;
    size_t n;
    uint32_t w, h;
    int is_png;
    if (read_file(path, &data, &n, err, errsz)) return -1;
    if (read_header(path, data, n, &w, &h, &is_png, err, errsz)) {
        free(data);
        return -1;
    }
    file->data = data;
    file->size = n;
    file->w = w;
    file->h = h;
    file->is_png = is_png;
    file->path = path;
    return 0;
}

int vks_image_decode(const vks_image_file_t *file, vks_image_t *img, char *err, size_t errsz)
{
    if (!img) {
        set_err(err, errsz, "invalid argument: no image");
        return -1;
    }
    memset(img, 0, sizeof *img);
    if (!file || !file->data) {
        set_err(err, errsz, "invalid argument: no image file");
        return -1;
    }
    const char *path = file->path, *kind = file->is_png ? "PNG" : "JPEG";
    const uint32_t w = file->w, h = file->h;
    uint8_t *copy = NULL, *px = NULL;
    int rc = -1;
    size_t dn = file->size;
    const uint8_t *dd = file->is_png ? full_palette(file->data, file->size, &dn, &copy) : file->data;
    if (!dd) {
        set_err(err, errsz, "%s: out of memory", path);
        goto done;
    }

    int dw = 0, dh = 0, comp = 0;
    px = stbi_load_from_memory(dd, (int)dn, &dw, &dh, &comp, 3);
    if (!px) {
        const char *r = stb_reason();
        if (!file->is_png && strcmp(r, "bad png sig") == 0)
            /* stb tries its PNG decoder on every file first; when its JPEG decoder then gives
               up without a reason of its own, the PNG test's "bad png sig" is what is left */
            set_err(err, errsz, "%s: corrupt or truncated JPEG image", path);
        else if (strcmp(r, "outofmem") == 0)
            set_err(err, errsz, "%s: out of memory decoding a %ux%u %s image", path, w, h, kind);
        else if (strcmp(r, "too large") == 0)
            set_err(err, errsz, "%s: %ux%u %s image is too large for the decoder (stb: %s)", path, w, h, kind, r);
        else
            set_err(err, errsz, "%s: corrupt or truncated %s image (stb: %s)", path, kind, r);
        goto done;
    }
    if (dw <= 0 || dh <= 0 || (uint32_t)dw != w || (uint32_t)dh != h) {
        set_err(err, errsz, "%s: %s image decoded as %dx%d, header says %ux%u", path, kind, dw, dh, w, h);
        goto done;
    }
    img->px = px;
    img->w = w;
    img->h = h;
    px = NULL;
    rc = 0;
done:
    if (px)
        stbi_image_free(px);
    free(copy);
    return rc;
}

void vks_image_close(vks_image_file_t *file)
{
    if (!file)
        return;
    free(file->data);
    memset(file, 0, sizeof *file);
}

int vks_image_load(const char *path, vks_image_t *img, char *err, size_t errsz)
{
    if (!img) {
        set_err(err, errsz, "invalid argument: no image");
        return -1;
    }
    memset(img, 0, sizeof *img);
    vks_image_file_t file;
    if (vks_image_open(path, &file, err, errsz) != 0)
        return -1;
    const int rc = vks_image_decode(&file, img, err, errsz);
    vks_image_close(&file);
    return rc;
}

int vks_image_check_size(uint64_t w, uint64_t h, const char *label, char *err, size_t errsz)
{
    return check_size(w, h, label, err, errsz);
}

/* ------------------------------------------------------------------ save */

enum { FMT_NONE, FMT_PNG, FMT_JPEG };

static int ascii_ieq(const char *a, const char *b)
{
    for (; *a && *b; a++, b++) {
        const char ca = (*a >= 'A' && *a <= 'Z') ? (char)(*a - 'A' + 'a') : *a;
        const char cb = (*b >= 'A' && *b <= 'Z') ? (char)(*b - 'A' + 'a') : *b;
        if (ca != cb)
            return 0;
    }
    return *a == *b;
}

static int format_of(const char *path)
{
    const char *slash = strrchr(path, '/');
    const char *base = slash ? slash + 1 : path;
    const char *dot = strrchr(base, '.');
    if (!dot || dot == base)
        return FMT_NONE;
    if (ascii_ieq(dot, ".png"))
        return FMT_PNG;
    if (ascii_ieq(dot, ".jpg") || ascii_ieq(dot, ".jpeg"))
        return FMT_JPEG;
    return FMT_NONE;
}

typedef struct {
    FILE *f;
    int failed;
    int err;
} writer_t;

static void write_cb(void *ctx, void *data, int size)
{
    writer_t *wr = ctx;
    if (wr->failed || size <= 0)
        return;
    if (fwrite(data, 1, (size_t)size, wr->f) != (size_t)size) {
        wr->failed = 1;
        wr->err = errno;
    }
}

/* ------------------------------------------------------------------ files written whole */

int vks_outfile_open(vks_outfile_t *o, const char *path, char *err, size_t errsz)
{
    static atomic_uint counter;

    memset(o, 0, sizeof *o);
    if (!path || !*path) {
        set_err(err, errsz, "invalid argument: empty output path");
        return -1;
    }
    struct stat st;
    if (stat(path, &st) == 0 && !S_ISREG(st.st_mode)) {
        /* renaming over a directory fails late; over /dev/stdout or a FIFO it would replace the
           node itself */
        set_err(err, errsz, "%s: cannot write: %s", path, S_ISDIR(st.st_mode) ? "is a directory" : "not a regular file");
        return -1;
    }
    /* Temporary file next to the target: "<dir>/.<base>.tmp-<pid>-<n>". */
    const char *slash = strrchr(path, '/');
    const size_t dirlen = slash ? (size_t)(slash - path) + 1 : 0;
    const size_t tmpsz = strlen(path) + 64;
    char *tmp = malloc(tmpsz);
    if (!tmp) {
        set_err(err, errsz, "%s: out of memory", path);
        return -1;
    }
    int fd = -1;
    for (int attempt = 0; attempt < 100; attempt++) {
        snprintf(tmp, tmpsz, "%.*s.%s.tmp-%ld-%u", (int)dirlen, path, path + dirlen, (long)getpid(),
                 atomic_fetch_add(&counter, 1u));
        fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0666);
        if (fd >= 0 || errno != EEXIST)
            break;
    }
    if (fd < 0) {
        if (errno == ENOENT)
            set_err(err, errsz, "%s: cannot write: directory does not exist", path);
        else
            set_err(err, errsz, "%s: cannot write: %s", path, strerror(errno));
        free(tmp);
        return -1;
    }
    FILE *f = fdopen(fd, "wb");
    if (!f) {
        set_err(err, errsz, "%s: cannot write: %s", path, strerror(errno));
        close(fd);
        unlink(tmp);
        free(tmp);
        return -1;
    }
    o->f = f;
    o->tmp = tmp;
    o->path = path;
    return 0;
}

int vks_outfile_probe(const char *path, char *err, size_t errsz)
{
    vks_outfile_t o;
    if (vks_outfile_open(&o, path, err, errsz) != 0)
        return -1;
    vks_outfile_abort(&o);
    return 0;
}

int vks_outfile_commit(vks_outfile_t *o, int write_errno, char *err, size_t errsz)
{
    if (!o->f)
        return -1;
    int rc = -1;
    if (write_errno)
        set_err(err, errsz, "%s: write failed: %s", o->path, strerror(write_errno));
    else if (fflush(o->f) != 0 || fsync(fileno(o->f)) != 0)
        set_err(err, errsz, "%s: write failed: %s", o->path, strerror(errno));
    else if (ferror(o->f))
        set_err(err, errsz, "%s: write failed", o->path);
    else
        rc = 0;
    if (fclose(o->f) != 0 && rc == 0) {
        set_err(err, errsz, "%s: write failed: %s", o->path, strerror(errno));
        rc = -1;
    }
    o->f = NULL;
    if (rc == 0 && rename(o->tmp, o->path) != 0) {
        set_err(err, errsz, "%s: cannot replace: %s", o->path, strerror(errno));
        rc = -1;
    }
    if (rc != 0)
        unlink(o->tmp);
    free(o->tmp);
    o->tmp = NULL;
    return rc;
}

void vks_outfile_abort(vks_outfile_t *o)
{
    if (o->f) {
        fclose(o->f);
        unlink(o->tmp);
    }
    free(o->tmp);
    memset(o, 0, sizeof *o);
}

int vks_image_save(const char *path, const vks_image_t *img, int jpeg_quality, char *err, size_t errsz)
{
    if (!path || !*path) {
        set_err(err, errsz, "invalid argument: empty output path");
        return -1;
    }
    const int fmt = format_of(path);
    if (fmt == FMT_NONE) {
        set_err(err, errsz, "%s: unsupported output extension (use .png, .jpg or .jpeg)", path);
        return -1;
    }
    if (check_image(img, err, errsz) != 0)
        return -1;
    if (fmt == FMT_JPEG && (jpeg_quality < 1 || jpeg_quality > 100)) {
        set_err(err, errsz, "%s: JPEG quality %d is out of range 1-100", path, jpeg_quality);
        return -1;
    }
    vks_outfile_t o;
    if (vks_outfile_open(&o, path, err, errsz) != 0)
        return -1;
    writer_t wr = {o.f, 0, 0};
    const int w = (int)img->w, h = (int)img->h;
    int ok;
    if (fmt == FMT_PNG)
        ok = stbi_write_png_to_func(write_cb, &wr, w, h, 3, img->px, w * 3);
    else
        ok = stbi_write_jpg_to_func(write_cb, &wr, w, h, 3, img->px, jpeg_quality);
    if (!wr.failed && !ok) {
        set_err(err, errsz, "%s: %s encoder failed", path, fmt == FMT_PNG ? "PNG" : "JPEG");
        vks_outfile_abort(&o);
        return -1;
    }
    return vks_outfile_commit(&o, wr.failed ? wr.err : 0, err, errsz);
}

/* ------------------------------------------------------------------ resize, free */

int vks_image_resize(const vks_image_t *src, uint32_t w, uint32_t h, vks_image_t *dst, char *err, size_t errsz)
{
    if (!dst) {
        set_err(err, errsz, "invalid argument: no destination image");
        return -1;
    }
    if (check_image(src, err, errsz) != 0)
        return -1;
    if (check_size(w, h, "resize target", err, errsz) != 0)
        return -1;
    uint8_t *out = malloc((size_t)w * h * 3);
    if (!out) {
        set_err(err, errsz, "out of memory resizing to %ux%u", w, h);
        return -1;
    }
    if (!stbir_resize_uint8_srgb(src->px, (int)src->w, (int)src->h, 0, out, (int)w, (int)h, 0, 3,
                                 STBIR_ALPHA_CHANNEL_NONE, 0)) {
        free(out);
        set_err(err, errsz, "resizing %ux%u to %ux%u failed (out of memory?)", src->w, src->h, w, h);
        return -1;
    }
    if (dst == src)
        free(dst->px);
    dst->px = out;
    dst->w = w;
    dst->h = h;
    return 0;
}

void vks_image_free(vks_image_t *img)
{
    if (!img)
        return;
    free(img->px);
    memset(img, 0, sizeof *img);
}
