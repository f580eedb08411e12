/* MJPEG frame decoding with libjpeg(-turbo) (see mjpeg.h). */
#include "mjpeg.h"

#include <setjmp.h>
#include <stdio.h>
#include <string.h>

#include <jpeglib.h>
#include <jerror.h>

typedef struct {
    struct jpeg_error_mgr pub;
    jmp_buf jump;
    char msg[JMSG_LENGTH_MAX];
    int truncated;
} jerr_t;

static void on_error(j_common_ptr cinfo)
{
    jerr_t *e = (jerr_t *)cinfo->err;
    cinfo->err->format_message(cinfo, e->msg);
    longjmp(e->jump, 1);
}

static void on_message(j_common_ptr cinfo) { (void)cinfo; /* warnings stay quiet */ }

/* A frame cut short (JWRN_JPEG_EOF) would show grey rows: count it as damaged. */
static void on_emit(j_common_ptr cinfo, int level)
{
    if (level < 0 && cinfo->err->msg_code == JWRN_JPEG_EOF) ((jerr_t *)cinfo->err)->truncated = 1;
    if (level < 0) cinfo->err->num_warnings++;
}

/* The standard Huffman tables of ITU-T T.81 K.3, for frames that leave them out. */
static void add_table(j_decompress_ptr cinfo, JHUFF_TBL **slot, const UINT8 *bits, const UINT8 *vals)
{
    if (*slot) return;
    *slot = jpeg_alloc_huff_table((j_common_ptr)cinfo);
    memcpy((*slot)->bits, bits, 17);
    int n = 0;
    for (int i = 1; i <= 16; i++) n += bits[i];
    memcpy((*slot)->huffval, vals, (size_t)n);
    (*slot)->sent_table = FALSE;
}

static void std_tables(j_decompress_ptr cinfo)
{
    static const UINT8 dc_lum_bits[17] = {0, 0, 1, 5, 1, 1, 1, 1, 1, 1, 0, 0, 0, 0, 0, 0, 0};
    static const UINT8 dc_lum_val[] = {0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11};
    static const UINT8 dc_chr_bits[17] = {0, 0, 3, 1, 1, 1, 1, 1, 1, 1, 1, 1, 0, 0, 0, 0, 0};
    static const UINT8 dc_chr_val[] = {0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11};
    static const UINT8 ac_lum_bits[17] = {0, 0, 2, 1, 3, 3, 2, 4, 3, 5, 5, 4, 4, 0, 0, 1, 0x7d};
    static const UINT8 ac_lum_val[] = {
        0x01, 0x02, 0x03, 0x00, 0x04, 0x11, 0x05, 0x12, 0x21, 0x31, 0x41, 0x06, 0x13, 0x51, 0x61, 0x07, 0x22, 0x71,
        0x14, 0x32, 0x81, 0x91, 0xa1, 0x08, 0x23, 0x42, 0xb1, 0xc1, 0x15, 0x52, 0xd1, 0xf0, 0x24, 0x33, 0x62, 0x72,
        0x82, 0x09, 0x0a, 0x16, 0x17, 0x18, 0x19, 0x1a, 0x25, 0x26, 0x27, 0x28, 0x29, 0x2a, 0x34, 0x35, 0x36, 0x37,
        0x38, 0x39, 0x3a, 0x43, 0x44, 0x45, 0x46, 0x47, 0x48, 0x49, 0x4a, 0x53, 0x54, 0x55, 0x56, 0x57, 0x58, 0x59,
        0x5a, 0x63, 0x64, 0x65, 0x66, 0x67, 0x68, 0x69, 0x6a, 0x73, 0x74, 0x75, 0x76, 0x77, 0x78, 0x79, 0x7a, 0x83,
        0x84, 0x85, 0x86, 0x87, 0x88, 0x89, 0x8a, 0x92, 0x93, 0x94, 0x95, 0x96, 0x97, 0x98, 0x99, 0x9a, 0xa2, 0xa3,
        0xa4, 0xa5, 0xa6, 0xa7, 0xa8, 0xa9, 0xaa, 0xb2, 0xb3, 0xb4, 0xb5, 0xb6, 0xb7, 0xb8, 0xb9, 0xba, 0xc2, 0xc3,
        0xc4, 0xc5, 0xc6, 0xc7, 0xc8, 0xc9, 0xca, 0xd2, 0xd3, 0xd4, 0xd5, 0xd6, 0xd7, 0xd8, 0xd9, 0xda, 0xe1, 0xe2,
        0xe3, 0xe4, 0xe5, 0xe6, 0xe7, 0xe8, 0xe9, 0xea, 0xf1, 0xf2, 0xf3, 0xf4, 0xf5, 0xf6, 0xf7, 0xf8, 0xf9, 0xfa};
    static const UINT8 ac_chr_bits[17] = {0, 0, 2, 1, 2, 4, 4, 3, 4, 7, 5, 4, 4, 0, 1, 2, 0x77};
    static const UINT8 ac_chr_val[] = {
        0x00, 0x01, 0x02, 0x03, 0x11, 0x04, 0x05, 0x21, 0x31, 0x06, 0x12, 0x41, 0x51, 0x07, 0x61, 0x71, 0x13, 0x22,
        0x32, 0x81, 0x08, 0x14, 0x42, 0x91, 0xa1, 0xb1, 0xc1, 0x09, 0x23, 0x33, 0x52, 0xf0, 0x15, 0x62, 0x72, 0xd1,
        0x0a, 0x16, 0x24, 0x34, 0xe1, 0x25, 0xf1, 0x17, 0x18, 0x19, 0x1a, 0x26, 0x27, 0x28, 0x29, 0x2a, 0x35, 0x36,
        0x37, 0x38, 0x39, 0x3a, 0x43, 0x44, 0x45, 0x46, 0x47, 0x48, 0x49, 0x4a, 0x53, 0x54, 0x55, 0x56, 0x57, 0x58,
        0x59, 0x5a, 0x63, 0x64, 0x65, 0x66, 0x67, 0x68, 0x69, 0x6a, 0x73, 0x74, 0x75, 0x76, 0x77, 0x78, 0x79, 0x7a,
        0x82, 0x83, 0x84, 0x85, 0x86, 0x87, 0x88, 0x89, 0x8a, 0x92, 0x93, 0x94, 0x95, 0x96, 0x97, 0x98, 0x99, 0x9a,
        0xa2, 0xa3, 0xa4, 0xa5, 0xa6, 0xa7, 0xa8, 0xa9, 0xaa, 0xb2, 0xb3, 0xb4, 0xb5, 0xb6, 0xb7, 0xb8, 0xb9, 0xba,
        0xc2, 0xc3, 0xc4, 0xc5, 0xc6, 0xc7, 0xc8, 0xc9, 0xca, 0xd2, 0xd3, 0xd4, 0xd5, 0xd6, 0xd7, 0xd8, 0xd9, 0xda,
        0xe2, 0xe3, 0xe4, 0xe5, 0xe6, 0xe7, 0xe8, 0xe9, 0xea, 0xf2, 0xf3, 0xf4, 0xf5, 0xf6, 0xf7, 0xf8, 0xf9, 0xfa};
    add_table(cinfo, &cinfo->dc_huff_tbl_ptrs[0], dc_lum_bits, dc_lum_val);
    add_table(cinfo, &cinfo->ac_huff_tbl_ptrs[0], ac_lum_bits, ac_lum_val);
    add_table(cinfo, &cinfo->dc_huff_tbl_ptrs[1], dc_chr_bits, dc_chr_val);
    add_table(cinfo, &cinfo->ac_huff_tbl_ptrs[1], ac_chr_bits, ac_chr_val);
}

/* A decompressor whose errors land in je (the caller's setjmp then handles them). */
static void begin(j_decompress_ptr cinfo, jerr_t *je)
{
    cinfo->err = jpeg_std_error(&je->pub);
    je->pub.error_exit = on_error;
    je->pub.output_message = on_message;
    je->pub.emit_message = on_emit;
    je->truncated = 0;
    jpeg_create_decompress(cinfo);
}

/* Header and scale; the caller owns the setjmp. */
static void setup(j_decompress_ptr cinfo, const uint8_t *data, size_t size, uint32_t min_w, uint32_t min_h)
{
    jpeg_mem_src(cinfo, data, (unsigned long)size);
    jpeg_read_header(cinfo, TRUE);
    std_tables(cinfo);
    cinfo->scale_num = 1;
    cinfo->scale_denom = 1;
    for (unsigned d = 8; d >= 2 && min_w && min_h; d /= 2)
        if (cinfo->image_width / d >= min_w && cinfo->image_height / d >= min_h) {
            cinfo->scale_denom = d;
            break;
        }
    cinfo->dct_method = JDCT_ISLOW;
    jpeg_calc_output_dimensions(cinfo);
}

int mjpeg_size(const uint8_t *data, size_t size, uint32_t min_w, uint32_t min_h, uint32_t *w, uint32_t *h,
               char *err, size_t errsz)
{
    struct jpeg_decompress_struct cinfo;
    jerr_t je;
    begin(&cinfo, &je);
    if (setjmp(je.jump)) {
        if (err) snprintf(err, errsz, "bad JPEG frame: %s", je.msg);
        jpeg_destroy_decompress(&cinfo);
        return -1;
    }
    setup(&cinfo, data, size, min_w, min_h);
    *w = cinfo.output_width;
    *h = cinfo.output_height;
    jpeg_destroy_decompress(&cinfo);
    return 0;
}

int mjpeg_decode(const uint8_t *data, size_t size, uint32_t min_w, uint32_t min_h, bool bgra, uint8_t *out, size_t cap,
                 uint32_t *w, uint32_t *h, char *err, size_t errsz)
{
    struct jpeg_decompress_struct cinfo;
    jerr_t je;
    begin(&cinfo, &je);
    if (setjmp(je.jump)) {
        if (err) snprintf(err, errsz, "bad JPEG frame: %s", je.msg);
        jpeg_destroy_decompress(&cinfo);
        return -1;
    }
    setup(&cinfo, data, size, min_w, min_h);
    cinfo.out_color_space = bgra ? JCS_EXT_BGRA : JCS_EXT_RGBA;
    jpeg_start_decompress(&cinfo);
    size_t stride = (size_t)cinfo.output_width * 4;
    if (stride * cinfo.output_height > cap) {
        if (err) snprintf(err, errsz, "JPEG frame of %ux%u does not fit the buffer", cinfo.output_width, cinfo.output_height);
        jpeg_destroy_decompress(&cinfo);
        return -1;
    }
    while (cinfo.output_scanline < cinfo.output_height) {
        JSAMPROW row = out + stride * cinfo.output_scanline;
        jpeg_read_scanlines(&cinfo, &row, 1);
    }
    *w = cinfo.output_width;
    *h = cinfo.output_height;
    jpeg_finish_decompress(&cinfo);
    jpeg_destroy_decompress(&cinfo);
    if (je.truncated) {
        if (err) snprintf(err, errsz, "damaged JPEG frame (data ends early)");
        return -1;
    }
    return 0;
}
