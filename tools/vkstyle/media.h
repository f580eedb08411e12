/* Video files for `vkstyle video` and `vkstyle live --source FILE` (FFmpeg: libavformat,
 * libavcodec, libswscale).
 *
 * Reading: media_open, then media_read until MEDIA_EOF. Video frames arrive as packed 4-byte
 * pixels (RGBA or BGRA) at the size set with media_set_output (default: the stream's size);
 * audio packets of the streams media_want_audio selected arrive as opaque packets for
 * media_out_write_packet. Writing: media_out_open (H.264 through libx264 where available,
 * else another encoder; the audio streams of the input are stream-copied, and its video's display
 * matrix (a phone video's rotation) is copied to the output's video stream), media_out_frame /
 * media_out_packet, media_out_close.
 *
 * MP4/MOV outputs are written fragmented (a fragment per keyframe, one keyframe every ~2 s)
 * directly at the output path: when writing fails (disk full, file size limit) or the run is
 * interrupted, media_out_close cuts the file after its last complete fragment, so the frames
 * written so far stay a valid, playable file.
 *
 * Every function that can fail returns 0 (or a MEDIA_ result) and fills err with a one-line
 * message (no trailing newline). A reader and a writer are each used from one thread.
 */
#ifndef VKSTYLE_TOOLS_MEDIA_H
#define VKSTYLE_TOOLS_MEDIA_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef struct media_in media_in_t;
typedef struct media_out media_out_t;

typedef enum { MEDIA_RGBA, MEDIA_BGRA } media_pixfmt_t;

typedef struct media_info {
    uint32_t width, height;  /* the video stream's size */
    int fps_num, fps_den;    /* nominal frame rate (0/1 if unknown) */
    int tb_num, tb_den;      /* time base of the video timestamps */
    int64_t frames;          /* frame count the container declares, 0 if unknown */
    double duration;         /* seconds, 0 if unknown */
    char codec[32];          /* video codec name */
    int audio_streams;       /* audio streams in the input */
    double rotation;         /* the display matrix's rotation in degrees as ffprobe prints it, 0 if none */
    bool seekable;
} media_info_t;

typedef enum { MEDIA_ERROR = -1, MEDIA_EOF = 0, MEDIA_FRAME = 1, MEDIA_PACKET = 2 } media_result_t;

typedef struct media_frame {
    int64_t pts;     /* in the video time base (always increasing) */
    double seconds;  /* pts in seconds from the stream's start */
    int64_t index;   /* 0, 1, 2, ... in decoding order of output */
} media_frame_t;

/* Quiet FFmpeg's own log unless verbose (then it prints warnings and errors to stderr). */
void media_log_setup(bool verbose);

/* Open a file or URL and its best video stream. Errors name the file and say what is wrong:
 * missing, not a media file FFmpeg can read, no video stream, no decoder. */
int media_open(const char *url, media_in_t **out, char *err, size_t errsz);
const media_info_t *media_info(const media_in_t *in);
/* Deliver frames at w x h (scaled by swscale) in the given layout. */
int media_set_output(media_in_t *in, uint32_t w, uint32_t h, media_pixfmt_t fmt, char *err, size_t errsz);
/* Also hand out the packets of the input's audio streams (for stream copy). */
void media_want_audio(media_in_t *in, bool want);
/* Next frame or packet. MEDIA_FRAME: px (w*h*4 bytes) and *frame are filled. MEDIA_PACKET:
 * *packet receives an audio packet (free it with media_packet_free or pass it to
 * media_out_packet). MEDIA_ERROR: the input is damaged or truncated (err says where); frames
 * read before stay valid. */
media_result_t media_read(media_in_t *in, uint8_t *px, media_frame_t *frame, void **packet, char *err, size_t errsz);
/* Seek back to the start (for looping); frame indices and timestamps restart. */
int media_rewind(media_in_t *in, char *err, size_t errsz);
/* Frames whose packets the decoder rejected as damaged so far. */
int64_t media_damaged_packets(const media_in_t *in);
void media_close(media_in_t *in);
void media_packet_free(void *packet);

typedef struct media_out_options {
    int crf;             /* quality, 0..51 (x264 scale); -1: default 18 */
    const char *preset;  /* x264 preset, NULL: "fast" */
    const char *encoder; /* FFmpeg encoder name, NULL: libx264, else any H.264, else mpeg4 */
    int keyint;          /* frames between keyframes (and MP4 fragments); 0: about 2 s */
    bool chroma444;      /* YUV 4:4:4 (full colour resolution; fewer players) instead of 4:2:0 */
} media_out_options_t;

/* Create the output: a video stream of w x h (w and h even; frames are given as RGBA) with
 * src's frame rate and time base, and a copy of src's audio streams the container can hold. */
int media_out_open(const char *path, const media_in_t *src, uint32_t w, uint32_t h, const media_out_options_t *opts,
                   media_out_t **out, char *err, size_t errsz);
/* The encoder in use ("libx264", ...). */
const char *media_out_encoder(const media_out_t *o);
/* Encode one RGBA frame of stride*h bytes (the left w x h part is used) at pts (src time base). */
int media_out_frame(media_out_t *o, const uint8_t *rgba, size_t stride, int64_t pts, char *err, size_t errsz);
/* Write (and take ownership of) an audio packet from media_read. */
int media_out_packet(media_out_t *o, void *packet, char *err, size_t errsz);
/* Finish the file: flush the encoder and write the trailer. When writing failed (now or
 * before) the file is cut after its last complete fragment, or removed if no frame made it,
 * and -1 is returned with the reason in err. *frames_kept (may be NULL) gets the number of
 * video frames the file holds. Frees o; accepts NULL. */
int media_out_close(media_out_t *o, int64_t *frames_kept, char *err, size_t errsz);

/* Cut a fragmented MP4 after its last complete fragment (exposed for tests). Returns the new
 * size, or -1 if the file is not one. */
int64_t media_mp4_trim(const char *path);

#endif
