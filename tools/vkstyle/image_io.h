/* Image files for the vkstyle command: PNG/JPEG load and save, resize (stb, Debian libstb).
 *
 * Every function that can fail returns 0 on success, else -1 with a one-line message (no
 * trailing newline) in err (errsz bytes; err may be NULL). Images are 8-bit RGB, interleaved,
 * rows top to bottom, no padding: px holds w*h*3 bytes allocated with malloc.
 */
#ifndef VKSTYLE_TOOLS_IMAGE_IO_H
#define VKSTYLE_TOOLS_IMAGE_IO_H

#include <stddef.h>
#include <stdio.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Size limits for loading, saving and resizing. */
#define VKS_IMAGE_MAX_SIDE 32768u
#define VKS_IMAGE_MAX_PIXELS (1ull << 28)

typedef struct {
    uint8_t *px;
    uint32_t w, h;
} vks_image_t; /* RGB interleaved, 3 channels */

/* Load a PNG or JPEG file (recognised by content, not extension). Only regular files: a FIFO,
 * device or directory is refused at once. Grey images are expanded to RGB; an alpha channel is
 * dropped (not composited); 16-bit PNGs are reduced to 8 bits; palette indices past a PNG's
 * palette are black. The size is checked against the limits before decoding, and a JPEG with
 * fewer bytes than its declared size needs is refused as truncated. On failure *img is zeroed
 * and err says why, e.g. "photo.jpg: no such file", "x.png: not a PNG or JPEG image",
 * "x.png: corrupt or truncated PNG image (stb: ...)", "x.png: empty file",
 * "x.png: image is 40000x10, larger than 32768 on a side". */
int vks_image_load(const char *path, vks_image_t *img, char *err, size_t errsz);

/* vks_image_load in two steps, so that a caller can check the size before paying for the decode
 * (3 bytes a pixel, and seconds for a large photo): vks_image_open reads the file and its header
 * and makes every check vks_image_load makes before decoding (the messages are the same), filling
 * *file with the size; vks_image_decode decodes it (file is unchanged, and may be decoded again);
 * vks_image_close frees it (accepts a zeroed or closed file). file->path points at the caller's
 * path string, which must outlive it. */
typedef struct {
    uint8_t *data;   /* the whole file */
    size_t size;
    uint32_t w, h;   /* from the header, within the limits */
    int is_png;
    const char *path;
} vks_image_file_t;
int vks_image_open(const char *path, vks_image_file_t *file, char *err, size_t errsz);
int vks_image_decode(const vks_image_file_t *file, vks_image_t *img, char *err, size_t errsz);
void vks_image_close(vks_image_file_t *file);

/* 0 if a w x h image is within the limits above, else -1 with a message ("LABEL: image is
 * WxH, larger than 32768 on a side"; label may be NULL). */
int vks_image_check_size(uint64_t w, uint64_t h, const char *label, char *err, size_t errsz);

/* Save by extension: .png, .jpg or .jpeg (case-insensitive); anything else fails with
 * "unsupported output extension" before touching the file system. jpeg_quality 1-100 (ignored
 * for PNG). Writes to a temporary file in the same directory and renames it over path on
 * success; on failure the temporary file is removed and an existing path is left as it was. */
int vks_image_save(const char *path, const vks_image_t *img, int jpeg_quality, char *err, size_t errsz);

/* A file written whole or not at all: open creates "<dir>/.<base>.tmp-<pid>-<n>" next to path
 * (refusing an existing path that is not a regular file); write to o->f; commit flushes,
 * fsyncs, closes and renames it over path, or removes it and says why (write_errno: an error
 * the caller met while writing, else 0); abort removes it. vks_image_save writes this way. */
typedef struct {
    FILE *f;
    char *tmp;
    const char *path;
} vks_outfile_t;
int vks_outfile_open(vks_outfile_t *o, const char *path, char *err, size_t errsz);
int vks_outfile_commit(vks_outfile_t *o, int write_errno, char *err, size_t errsz);
void vks_outfile_abort(vks_outfile_t *o);
/* Whether path can be written as above, checked by opening and removing its temporary file: an
 * unwritable place fails before the work, not after. 0, or -1 with err. */
int vks_outfile_probe(const char *path, char *err, size_t errsz);

/* Resize src to w x h into a new image in *dst (sRGB-aware filtering). dst may be src: the old
 * pixels are then freed. On failure *dst is left unchanged. */
int vks_image_resize(const vks_image_t *src, uint32_t w, uint32_t h, vks_image_t *dst, char *err, size_t errsz);

/* Free the pixels and zero *img. Accepts NULL and zeroed images; safe to call twice. */
void vks_image_free(vks_image_t *img);

#ifdef __cplusplus
}
#endif

#endif
