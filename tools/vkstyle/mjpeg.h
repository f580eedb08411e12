/* Motion-JPEG camera frames -> packed 4-byte pixels (libjpeg-turbo). Frames without Huffman
 * tables (as many UVC cameras send them) are decoded with the standard tables; damaged
 * frames fail with a message instead of exiting. */
#ifndef VKSTYLE_TOOLS_MJPEG_H
#define VKSTYLE_TOOLS_MJPEG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Size of the image after decoding with the largest 1/2, 1/4 or 1/8 reduction that keeps it at
 * least min_w x min_h (0, 0: full size). Returns 0 or -1 (not a JPEG). */
int mjpeg_size(const uint8_t *data, size_t size, uint32_t min_w, uint32_t min_h, uint32_t *w, uint32_t *h,
               char *err, size_t errsz);

/* Decode into out (cap bytes; needs w*h*4 for the size mjpeg_size gives), RGBA or BGRA, rows
 * tightly packed. */
int mjpeg_decode(const uint8_t *data, size_t size, uint32_t min_w, uint32_t min_h, bool bgra, uint8_t *out, size_t cap,
                 uint32_t *w, uint32_t *h, char *err, size_t errsz);

#endif
