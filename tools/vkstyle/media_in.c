/* Reading video files with FFmpeg for vkstyle video/live (see media.h). */
#include "media_priv.h"

#include <libavutil/display.h>
#include <libavutil/imgutils.h>

#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

void media_log_setup(bool verbose) { av_log_set_level(verbose ? AV_LOG_WARNING : AV_LOG_QUIET); }

/* ------------------------------------------------------------------ colours */

/* The matrix used for YUV <-> RGB: the stream's if tagged, else BT.709 for HD, BT.601 below. */
static int pick_colorspace(enum AVColorSpace cs, uint32_t height)
{
    switch (cs) {
    case AVCOL_SPC_BT709: return SWS_CS_ITU709;
    case AVCOL_SPC_FCC: return SWS_CS_FCC;
    case AVCOL_SPC_SMPTE240M: return SWS_CS_SMPTE240M;
    case AVCOL_SPC_BT2020_NCL:
    case AVCOL_SPC_BT2020_CL: return SWS_CS_BT2020;
    case AVCOL_SPC_BT470BG:
    case AVCOL_SPC_SMPTE170M: return SWS_CS_ITU601;
    default: return height >= 720 ? SWS_CS_ITU709 : SWS_CS_ITU601;
    }
}

/* ------------------------------------------------------------------ reading */

static int open_decoder(media_in_t *in, char *err, size_t errsz)
{
    const AVCodec *codec = avcodec_find_decoder(in->st->codecpar->codec_id);
    if (!codec)
        return ERR("%s: no decoder for its %s video in this FFmpeg build", in->url,
                   avcodec_get_name(in->st->codecpar->codec_id));
    in->dec = avcodec_alloc_context3(codec);
    if (!in->dec) return ERR("out of memory");
    int r = avcodec_parameters_to_context(in->dec, in->st->codecpar);
    if (r < 0) return ERR("%s: %s", in->url, AVERR(r));
    in->dec->pkt_timebase = in->st->time_base;
    in->dec->thread_count = 0;
    if ((r = avcodec_open2(in->dec, codec, NULL)) < 0)
        return ERR("%s: cannot open the %s decoder: %s", in->url, codec->name, AVERR(r));
    return 0;
}

int media_open(const char *url, media_in_t **out, char *err, size_t errsz)
{
    *out = NULL;
    struct stat sb;
    if (!strstr(url, "://")) {
        if (stat(url, &sb) != 0) return ERR("%s: %s", url, strerror(errno));
        if (S_ISDIR(sb.st_mode)) return ERR("%s: is a folder, not a video file", url);
        if (S_ISREG(sb.st_mode) && sb.st_size == 0) return ERR("%s: empty file", url);
    }
    media_in_t *in = calloc(1, sizeof *in);
    if (!in) return ERR("out of memory");
    in->url = strdup(url);
    in->pkt = av_packet_alloc();
    in->frame = av_frame_alloc();
    in->last_pts = AV_NOPTS_VALUE;
    in->start_pts = AV_NOPTS_VALUE;
    int r;
    if (!in->url || !in->pkt || !in->frame) { ERR("out of memory"); goto fail; }
    if ((r = avformat_open_input(&in->fmt, url, NULL, NULL)) < 0) {
        if (r == AVERROR_INVALIDDATA) ERR("%s: not a video file FFmpeg can read (unknown or damaged container)", url);
        else ERR("%s: cannot open: %s", url, AVERR(r));
        goto fail;
    }
    if ((r = avformat_find_stream_info(in->fmt, NULL)) < 0) {
        ERR("%s: cannot read the streams: %s", url, AVERR(r));
        goto fail;
    }
    in->vidx = av_find_best_stream(in->fmt, AVMEDIA_TYPE_VIDEO, -1, -1, NULL, 0);
    if (in->vidx < 0) {
        ERR("%s: no video stream (%u stream%s of other kinds)", url, in->fmt->nb_streams, in->fmt->nb_streams == 1 ? "" : "s");
        goto fail;
    }
    in->st = in->fmt->streams[in->vidx];
    for (unsigned i = 0; i < in->fmt->nb_streams; i++)
        if ((int)i != in->vidx) in->fmt->streams[i]->discard = AVDISCARD_ALL;
    if (open_decoder(in, err, errsz)) goto fail;
    AVCodecParameters *par = in->st->codecpar;
    if (par->width <= 0 || par->height <= 0) {
        ERR("%s: the video stream has no frame size (damaged file?)", url);
        goto fail;
    }
    media_info_t *mi = &in->info;
    mi->width = (uint32_t)par->width;
    mi->height = (uint32_t)par->height;
    AVRational fr = in->st->avg_frame_rate.num > 0 ? in->st->avg_frame_rate : in->st->r_frame_rate;
    if (fr.num <= 0 || fr.den <= 0) fr = (AVRational){0, 1};
    mi->fps_num = fr.num;
    mi->fps_den = fr.den;
    mi->tb_num = in->st->time_base.num;
    mi->tb_den = in->st->time_base.den;
    mi->frames = in->st->nb_frames;
    if (in->st->duration != AV_NOPTS_VALUE) mi->duration = in->st->duration * av_q2d(in->st->time_base);
    else if (in->fmt->duration != AV_NOPTS_VALUE) mi->duration = in->fmt->duration / (double)AV_TIME_BASE;
    snprintf(mi->codec, sizeof mi->codec, "%s", avcodec_get_name(par->codec_id));
    for (unsigned i = 0; i < in->fmt->nb_streams; i++)
        if (in->fmt->streams[i]->codecpar->codec_type == AVMEDIA_TYPE_AUDIO) mi->audio_streams++;
    size_t dm_size = 0;
    const uint8_t *dm = av_stream_get_side_data(in->st, AV_PKT_DATA_DISPLAYMATRIX, &dm_size);
    if (dm && dm_size >= 9 * sizeof(int32_t)) {
        double rot = av_display_rotation_get((const int32_t *)dm);
        mi->rotation = isnan(rot) ? 0 : rot - 360 * floor(rot / 360 + 0.5) + 0.0; /* -180..180, no -0 */
    }
    mi->seekable = in->fmt->pb && (in->fmt->pb->seekable & AVIO_SEEKABLE_NORMAL);
    in->frame_dur = fr.num ? av_rescale_q(1, av_inv_q(fr), in->st->time_base) : 1;
    if (in->frame_dur < 1) in->frame_dur = 1;
    in->cs = pick_colorspace(par->color_space, mi->height);
    in->full_range = par->color_range == AVCOL_RANGE_JPEG || par->format == AV_PIX_FMT_YUVJ420P ||
                     par->format == AV_PIX_FMT_YUVJ422P || par->format == AV_PIX_FMT_YUVJ444P;
    in->ow = mi->width;
    in->oh = mi->height;
    *out = in;
    return 0;
fail:
    media_close(in);
    return -1;
}

const media_info_t *media_info(const media_in_t *in) { return &in->info; }

int media_set_output(media_in_t *in, uint32_t w, uint32_t h, media_pixfmt_t fmt, char *err, size_t errsz)
{
    if (!w || !h || w > 32768 || h > 32768) return ERR("output size %ux%u out of range", w, h);
    in->ow = w;
    in->oh = h;
    in->ofmt = fmt;
    return 0;
}

void media_want_audio(media_in_t *in, bool want)
{
    in->want_audio = want;
    for (unsigned i = 0; i < in->fmt->nb_streams; i++)
        if ((int)i != in->vidx && in->fmt->streams[i]->codecpar->codec_type == AVMEDIA_TYPE_AUDIO)
            in->fmt->streams[i]->discard = want ? AVDISCARD_DEFAULT : AVDISCARD_ALL;
}

int64_t media_damaged_packets(const media_in_t *in) { return in->damaged; }

static int convert(media_in_t *in, AVFrame *f, uint8_t *px, char *err, size_t errsz)
{
    enum AVPixelFormat dst = in->ofmt == MEDIA_BGRA ? AV_PIX_FMT_BGRA : AV_PIX_FMT_RGBA;
    int flags = SWS_BICUBIC | SWS_ACCURATE_RND | SWS_FULL_CHR_H_INT;
    if (in->ow * 2 <= (uint32_t)f->width || in->oh * 2 <= (uint32_t)f->height) flags = SWS_AREA | SWS_ACCURATE_RND;
    in->sws = sws_getCachedContext(in->sws, f->width, f->height, f->format, (int)in->ow, (int)in->oh, dst, flags,
                                   NULL, NULL, NULL);
    if (!in->sws)
        return ERR("%s: cannot convert %s %dx%d frames", in->url, av_get_pix_fmt_name(f->format), f->width, f->height);
    int full = in->full_range || f->color_range == AVCOL_RANGE_JPEG;
    const int *coef = sws_getCoefficients(in->cs);
    sws_setColorspaceDetails(in->sws, coef, full, coef, 1, 0, 1 << 16, 1 << 16);
    uint8_t *dstp[4] = {px};
    int dsts[4] = {(int)in->ow * 4};
    sws_scale(in->sws, (const uint8_t *const *)f->data, f->linesize, 0, f->height, dstp, dsts);
    return 0;
}

media_result_t media_read(media_in_t *in, uint8_t *px, media_frame_t *fr, void **packet, char *err, size_t errsz)
{
    for (;;) {
        if (!in->decoder_done) {
            int r = avcodec_receive_frame(in->dec, in->frame);
            if (r == 0) {
                int64_t pts = in->frame->best_effort_timestamp;
                if (pts == AV_NOPTS_VALUE) pts = in->last_pts == AV_NOPTS_VALUE ? 0 : in->last_pts + in->frame_dur;
                if (in->last_pts != AV_NOPTS_VALUE && pts <= in->last_pts) pts = in->last_pts + 1;
                if (in->start_pts == AV_NOPTS_VALUE)
                    in->start_pts = in->st->start_time != AV_NOPTS_VALUE && in->st->start_time <= pts ? in->st->start_time : pts;
                in->last_pts = pts;
                int c = convert(in, in->frame, px, err, errsz);
                av_frame_unref(in->frame);
                if (c) return MEDIA_ERROR;
                fr->pts = pts;
                fr->seconds = (pts - in->start_pts) * av_q2d(in->st->time_base);
                fr->index = in->index++;
                return MEDIA_FRAME;
            }
            if (r == AVERROR_EOF) {
                in->decoder_done = true;
            } else if (r != AVERROR(EAGAIN)) {
                /* a damaged frame: the decoder goes on with the next one */
                if (r == AVERROR_INVALIDDATA) { in->damaged++; continue; }
                snprintf(err, errsz, "%s: decoding failed after frame %lld: %s", in->url, (long long)in->index, AVERR(r));
                return MEDIA_ERROR;
            }
        }
        if (in->decoder_done) {
            int64_t declared = in->info.frames, slack = declared / 50 > 2 ? declared / 50 : 2;
            if (!in->pending_error && declared > 0 && in->index + slack < declared) {
                snprintf(err, errsz, "%s: the file is damaged or truncated: it ends after %lld of %lld frames", in->url,
                         (long long)in->index, (long long)declared);
                in->info.frames = 0; /* say it once */
                return MEDIA_ERROR;
            }
            if (in->pending_error) {
                snprintf(err, errsz, "%s: the file is damaged or truncated at %.2f s (after frame %lld): %s", in->url,
                         in->pending_at, (long long)in->index, AVERR(in->pending_error));
                in->pending_error = 0;
                return MEDIA_ERROR;
            }
            return MEDIA_EOF;
        }
        if (in->draining) continue; /* receive until AVERROR_EOF */
        int r = av_read_frame(in->fmt, in->pkt);
        if (r < 0 || (r == 0 && in->fmt->pb && in->fmt->pb->error < 0)) {
            if (r == 0) { r = in->fmt->pb->error; av_packet_unref(in->pkt); }
            if (r != AVERROR_EOF) {
                in->pending_error = r;
                in->pending_at = in->last_pts == AV_NOPTS_VALUE ? 0 : (in->last_pts - in->start_pts) * av_q2d(in->st->time_base);
            }
            avcodec_send_packet(in->dec, NULL);
            in->draining = true;
            continue;
        }
        if (in->pkt->stream_index == in->vidx) {
            r = avcodec_send_packet(in->dec, in->pkt);
            av_packet_unref(in->pkt);
            if (r == AVERROR_INVALIDDATA) in->damaged++;
            else if (r < 0 && r != AVERROR(EAGAIN)) {
                snprintf(err, errsz, "%s: decoding failed after frame %lld: %s", in->url, (long long)in->index, AVERR(r));
                return MEDIA_ERROR;
            }
            continue;
        }
        if (in->want_audio && packet && in->fmt->streams[in->pkt->stream_index]->codecpar->codec_type == AVMEDIA_TYPE_AUDIO) {
            AVPacket *p = av_packet_alloc();
            if (!p) { snprintf(err, errsz, "out of memory"); return MEDIA_ERROR; }
            av_packet_move_ref(p, in->pkt);
            p->time_base = in->fmt->streams[p->stream_index]->time_base;
            *packet = p;
            return MEDIA_PACKET;
        }
        av_packet_unref(in->pkt);
    }
}

int media_rewind(media_in_t *in, char *err, size_t errsz)
{
    int64_t ts = in->st->start_time != AV_NOPTS_VALUE ? in->st->start_time : 0;
    int r = av_seek_frame(in->fmt, in->vidx, ts, AVSEEK_FLAG_BACKWARD);
    if (r < 0) {
        /* not seekable: open it again */
        avcodec_free_context(&in->dec);
        avformat_close_input(&in->fmt);
        if ((r = avformat_open_input(&in->fmt, in->url, NULL, NULL)) < 0 || (r = avformat_find_stream_info(in->fmt, NULL)) < 0)
            return ERR("%s: cannot start over: %s", in->url, AVERR(r));
        if (in->vidx >= (int)in->fmt->nb_streams) return ERR("%s: the video stream went away", in->url);
        in->st = in->fmt->streams[in->vidx];
        if (open_decoder(in, err, errsz)) return -1;
        media_want_audio(in, in->want_audio);
    } else {
        avcodec_flush_buffers(in->dec);
    }
    in->draining = in->decoder_done = false;
    in->pending_error = 0;
    in->last_pts = in->start_pts = AV_NOPTS_VALUE;
    in->index = 0;
    return 0;
}

void media_packet_free(void *packet)
{
    AVPacket *p = packet;
    av_packet_free(&p);
}

void media_close(media_in_t *in)
{
    if (!in) return;
    sws_freeContext(in->sws);
    avcodec_free_context(&in->dec);
    avformat_close_input(&in->fmt);
    av_packet_free(&in->pkt);
    av_frame_free(&in->frame);
    free(in->url);
    free(in);
}
