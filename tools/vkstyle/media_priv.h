/* Inside media_in.c, media_out.c and media_mp4.c: what the reader and the writer share. Not for
 * other files (the interface is media.h). */
#ifndef VKSTYLE_TOOLS_MEDIA_PRIV_H
#define VKSTYLE_TOOLS_MEDIA_PRIV_H

#include "errbuf.h"
#include "media.h"

#include <libavcodec/avcodec.h>
#include <libavformat/avformat.h>
#include <libswscale/swscale.h>

#include <stdio.h>

static inline const char *media_averr(int e, char *buf, size_t n)
{
    if (av_strerror(e, buf, n) < 0) snprintf(buf, n, "error %d", e);
    return buf;
}
#define AVERR(e) media_averr((e), (char[128]){0}, 128)

/* The reader; media_out_open reads its streams, colours and display matrix. */
struct media_in {
    char *url;
    AVFormatContext *fmt;
    AVCodecContext *dec;
    AVStream *st;
    int vidx;
    AVPacket *pkt;
    AVFrame *frame;
    struct SwsContext *sws;
    media_info_t info;
    uint32_t ow, oh;
    media_pixfmt_t ofmt;
    int cs, full_range;
    bool want_audio, draining, decoder_done;
    int pending_error;           /* a read error to report once the decoder is drained */
    double pending_at;
    int64_t last_pts, start_pts, index, damaged, frame_dur;
};

/* The video packets of a written file (0 if it does not open): the frames it holds. */
int64_t media_count_video_packets(const char *path);

#endif
