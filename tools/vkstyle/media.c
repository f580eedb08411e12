/* Video decode and encode with FFmpeg for vkstyle video/live (see media.h). */
#include "errbuf.h"
#include "media.h"

#include <libavcodec/avcodec.h>
#include <libavformat/avformat.h>
#include <libavutil/display.h>
#include <libavutil/imgutils.h>
#include <libavutil/opt.h>
#include <libswscale/swscale.h>

#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <strings.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>


static const char *averr(int e, char *buf, size_t n)
{
    if (av_strerror(e, buf, n) < 0) snprintf(buf, n, "error %d", e);
    return buf;
}
#define AVERR(e) averr((e), (char[128]){0}, 128)

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

static enum AVColorSpace sws_to_avcs(int cs)
{
    switch (cs) {
    case SWS_CS_ITU709: return AVCOL_SPC_BT709;
    case SWS_CS_FCC: return AVCOL_SPC_FCC;
    case SWS_CS_SMPTE240M: return AVCOL_SPC_SMPTE240M;
    case SWS_CS_BT2020: return AVCOL_SPC_BT2020_NCL;
    default: return AVCOL_SPC_SMPTE170M;
    }
}

/* ------------------------------------------------------------------ reading */

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

/* ------------------------------------------------------------------ writing */

struct media_out {
    char *path;
    AVFormatContext *oc;
    AVCodecContext *enc;
    AVStream *vst;
    AVFrame *yuv;
    AVPacket *pkt;
    struct SwsContext *sws;
    int cs;
    enum AVPixelFormat pixfmt;
    uint32_t w, h;
    int *audio_map;          /* input stream index -> output stream index or -1 */
    unsigned audio_map_n;
    AVRational *audio_tb;    /* input time bases */
    bool fragmented, header_written, write_failed;
    int64_t packets;
    char encoder[32];
};

/* A phone video's rotation is a display matrix on its video stream (MP4/MOV: the track header's
 * matrix): the frames are coded as the sensor saw them and players turn them. The stylized
 * frames are coded the same way, so the matrix is carried over as is (the pixels are not
 * rotated). Containers without a place for it (Matroska in FFmpeg 5.1) get a warning. */
static int copy_display_matrix(media_out_t *o, const media_in_t *src, char *err, size_t errsz)
{
    size_t size = 0;
    const uint8_t *m = av_stream_get_side_data(src->st, AV_PKT_DATA_DISPLAYMATRIX, &size);
    if (!m || size < 9 * sizeof(int32_t)) return 0;
    uint8_t *copy = av_stream_new_side_data(o->vst, AV_PKT_DATA_DISPLAYMATRIX, size);
    if (!copy) return ERR("out of memory");
    memcpy(copy, m, size);
    if (!o->fragmented && src->info.rotation != 0)
        fprintf(stderr, "vkstyle: warning: %s cannot record the input's %g degree rotation; the frames are written "
                        "as coded (use .mp4 or .mov to keep it)\n", o->path, src->info.rotation);
    return 0;
}

static const AVCodec *pick_encoder(const char *name)
{
    if (name) return avcodec_find_encoder_by_name(name);
    const AVCodec *c = avcodec_find_encoder_by_name("libx264");
    return c ? c : avcodec_find_encoder(AV_CODEC_ID_H264);
}

/* x264's presets (x264.h, x264_preset_names). x264 itself prints "invalid preset" straight to
 * stderr before failing, so a name it would refuse is refused here first. */
static bool x264_preset_ok(const char *p)
{
    static const char *const names[] = {"ultrafast", "superfast", "veryfast", "faster", "fast",
                                        "medium", "slow", "slower", "veryslow", "placebo"};
    for (size_t i = 0; i < sizeof names / sizeof *names; i++)
        if (!strcasecmp(p, names[i])) return true;
    return false;
}

/* Opens codec with the options; a --preset the encoder refuses or lacks is an error of its own
 * (bad_option set, message in err) rather than a reason to try another encoder. */
static int open_encoder(media_out_t *o, const AVCodec *codec, const media_in_t *src, const media_out_options_t *opts,
                        bool *bad_option, char *err, size_t errsz)
{
    *bad_option = false;
    const char *preset = opts ? opts->preset : NULL;
    if (preset && !strcmp(codec->name, "libx264") && !x264_preset_ok(preset)) {
        *bad_option = true;
        ERR("--preset '%s': libx264 has no such preset (ultrafast, superfast, veryfast, faster, fast, medium, slow, "
            "slower, veryslow, placebo)", preset);
        return AVERROR(EINVAL);
    }
    AVCodecContext *e = avcodec_alloc_context3(codec);
    if (!e) return AVERROR(ENOMEM);
    const media_info_t *mi = &src->info;
    e->width = (int)o->w;
    e->height = (int)o->h;
    e->pix_fmt = o->pixfmt;
    if (codec->pix_fmts) {
        bool ok = false;
        for (const enum AVPixelFormat *p = codec->pix_fmts; *p != AV_PIX_FMT_NONE; p++) ok |= *p == o->pixfmt;
        if (!ok) { avcodec_free_context(&e); return AVERROR(EINVAL); }
    }
    e->time_base = (AVRational){mi->tb_num, mi->tb_den};
    e->framerate = (AVRational){mi->fps_num, mi->fps_den};
    e->sample_aspect_ratio = src->st->codecpar->sample_aspect_ratio;
    int fps = mi->fps_num && mi->fps_den ? (int)lround((double)mi->fps_num / mi->fps_den) : 30;
    e->gop_size = opts && opts->keyint > 0 ? opts->keyint : fps < 1 ? 1 : fps > 300 ? 600 : 2 * fps;
    e->color_range = AVCOL_RANGE_MPEG;
    e->colorspace = sws_to_avcs(o->cs);
    AVCodecParameters *par = src->st->codecpar;
    e->color_primaries = par->color_primaries != AVCOL_PRI_UNSPECIFIED ? par->color_primaries
                         : o->cs == SWS_CS_ITU709 ? AVCOL_PRI_BT709 : AVCOL_PRI_SMPTE170M;
    e->color_trc = par->color_trc != AVCOL_TRC_UNSPECIFIED ? par->color_trc
                   : o->cs == SWS_CS_ITU709 ? AVCOL_TRC_BT709 : AVCOL_TRC_SMPTE170M;
    e->thread_count = 0;
    if (o->oc->oformat->flags & AVFMT_GLOBALHEADER) e->flags |= AV_CODEC_FLAG_GLOBAL_HEADER;
    int crf = opts && opts->crf >= 0 ? opts->crf : 18;
    int r;
    if (preset && (r = av_opt_set(e->priv_data, "preset", preset, AV_OPT_SEARCH_CHILDREN)) < 0) {
        *bad_option = true;
        ERR("--preset '%s': the %s encoder %s", preset, codec->name,
            r == AVERROR_OPTION_NOT_FOUND ? "has no presets" : "refuses it");
        avcodec_free_context(&e);
        return r;
    }
    if (!strcmp(codec->name, "libx264")) {
        if (!preset) av_opt_set(e->priv_data, "preset", "fast", 0);
        av_opt_set_double(e->priv_data, "crf", crf, 0);
    } else if (codec->id == AV_CODEC_ID_MPEG4 || codec->id == AV_CODEC_ID_MPEG2VIDEO) {
        e->flags |= AV_CODEC_FLAG_QSCALE;
        e->global_quality = FF_QP2LAMBDA * (2 + crf * 29 / 51);
        e->max_b_frames = 0;
    } else {
        av_opt_set_double(e->priv_data, "crf", crf, AV_OPT_SEARCH_CHILDREN);
    }
    r = avcodec_open2(e, codec, NULL);
    if (r < 0 && preset) {   /* the preset may be what it refused */
        *bad_option = true;
        ERR("--preset '%s': the %s encoder did not open with it: %s", preset, codec->name, AVERR(r));
    }
    if (r < 0) { avcodec_free_context(&e); return r; }
    o->enc = e;
    snprintf(o->encoder, sizeof o->encoder, "%s", codec->name);
    return 0;
}

int media_out_open(const char *path, const media_in_t *src, uint32_t w, uint32_t h, const media_out_options_t *opts,
                   media_out_t **out, char *err, size_t errsz)
{
    *out = NULL;
    if (w % 2 || h % 2) return ERR("%s: the encoder needs an even frame size, not %ux%u", path, w, h);
    media_out_t *o = calloc(1, sizeof *o);
    if (!o) return ERR("out of memory");
    o->path = strdup(path);
    o->w = w;
    o->h = h;
    o->cs = src->cs;
    o->pixfmt = opts && opts->chroma444 ? AV_PIX_FMT_YUV444P : AV_PIX_FMT_YUV420P;
    int r;
    if ((r = avformat_alloc_output_context2(&o->oc, NULL, NULL, path)) < 0 || !o->oc) {
        ERR("%s: cannot tell the container from the file name (use .mp4, .mkv or .mov)", path);
        goto fail;
    }
    const char *fname = o->oc->oformat->name;
    o->fragmented = strstr(fname, "mp4") || strstr(fname, "mov") || strstr(fname, "ipod");
    /* the encoder: the one asked for, else libx264, else any H.264 encoder that opens, else
       MPEG-4; not when an option was asked for (--preset): then its encoder or an error */
    const AVCodec *codec = pick_encoder(opts ? opts->encoder : NULL);
    if (opts && opts->encoder && !codec) { ERR("no encoder named '%s' in this FFmpeg build", opts->encoder); goto fail; }
    bool bad_option = false;
    r = codec ? open_encoder(o, codec, src, opts, &bad_option, err, errsz) : AVERROR_ENCODER_NOT_FOUND;
    if (bad_option) goto fail;
    if (r < 0 && !(opts && (opts->encoder || opts->preset))) {
        void *it = NULL;
        const AVCodec *c;
        while (r < 0 && (c = av_codec_iterate(&it)))
            if (av_codec_is_encoder(c) && c->id == AV_CODEC_ID_H264 && c != codec) r = open_encoder(o, c, src, opts, &bad_option, NULL, 0);
        if (r < 0 && (c = avcodec_find_encoder(AV_CODEC_ID_MPEG4))) r = open_encoder(o, c, src, opts, &bad_option, NULL, 0);
    }
    if (r < 0 && o->pixfmt == AV_PIX_FMT_YUV444P) {
        ERR("%s: no encoder here takes YUV 4:4:4 (libx264 does); leave out --chroma 444", path);
        goto fail;
    }
    if (r < 0) {
        ERR("%s: no usable video encoder (%s%s); install FFmpeg with libx264", path,
            codec ? "opening it failed: " : "none found", codec ? AVERR(r) : "");
        goto fail;
    }
    if (avformat_query_codec(o->oc->oformat, o->enc->codec_id, FF_COMPLIANCE_NORMAL) == 0) {
        ERR("%s: a %s file cannot hold %s video; use .mp4 or .mkv", path, fname, o->encoder);
        goto fail;
    }
    o->vst = avformat_new_stream(o->oc, NULL);
    if (!o->vst) { ERR("out of memory"); goto fail; }
    avcodec_parameters_from_context(o->vst->codecpar, o->enc);
    o->vst->time_base = o->enc->time_base;
    o->vst->avg_frame_rate = o->enc->framerate;
    o->vst->r_frame_rate = o->enc->framerate;
    o->vst->sample_aspect_ratio = o->enc->sample_aspect_ratio;
    if (copy_display_matrix(o, src, err, errsz)) goto fail;
    /* audio: stream copy where the container can hold the codec */
    o->audio_map_n = src->fmt->nb_streams;
    o->audio_map = malloc(o->audio_map_n * sizeof *o->audio_map);
    o->audio_tb = malloc(o->audio_map_n * sizeof *o->audio_tb);
    if (!o->audio_map || !o->audio_tb) { ERR("out of memory"); goto fail; }
    for (unsigned i = 0; i < o->audio_map_n; i++) {
        AVStream *is = src->fmt->streams[i];
        o->audio_map[i] = -1;
        o->audio_tb[i] = is->time_base;
        if (!src->want_audio || is->codecpar->codec_type != AVMEDIA_TYPE_AUDIO) continue;
        if (avformat_query_codec(o->oc->oformat, is->codecpar->codec_id, FF_COMPLIANCE_NORMAL) != 1) {
            fprintf(stderr, "vkstyle: warning: %s audio cannot be stored in %s; audio stream %u dropped\n",
                    avcodec_get_name(is->codecpar->codec_id), path, i);
            continue;
        }
        AVStream *os = avformat_new_stream(o->oc, NULL);
        if (!os) { ERR("out of memory"); goto fail; }
        avcodec_parameters_copy(os->codecpar, is->codecpar);
        os->codecpar->codec_tag = 0;
        os->time_base = is->time_base;
        av_dict_copy(&os->metadata, is->metadata, 0);
        o->audio_map[i] = os->index;
    }
    if ((r = avio_open(&o->oc->pb, path, AVIO_FLAG_WRITE)) < 0) {
        ERR("%s: cannot write: %s", path, AVERR(r));
        goto fail;
    }
    AVDictionary *mo = NULL;
    if (o->fragmented) av_dict_set(&mo, "movflags", "+frag_keyframe+empty_moov+default_base_moof", 0);
    r = avformat_write_header(o->oc, &mo);
    av_dict_free(&mo);
    if (r < 0) {
        ERR("%s: writing failed: %s", path, AVERR(r));
        avio_closep(&o->oc->pb);
        unlink(path);
        goto fail;
    }
    o->header_written = true;
    o->yuv = av_frame_alloc();
    o->pkt = av_packet_alloc();
    if (!o->yuv || !o->pkt) { ERR("out of memory"); goto fail; }
    o->yuv->format = o->pixfmt;
    o->yuv->width = (int)w;
    o->yuv->height = (int)h;
    if (av_frame_get_buffer(o->yuv, 0) < 0) { ERR("out of memory"); goto fail; }
    *out = o;
    return 0;
fail:
    if (o->header_written) {
        avio_closep(&o->oc->pb);
        unlink(path);
    }
    o->header_written = false;
    media_out_close(o, NULL, NULL, 0);
    return -1;
}

const char *media_out_encoder(const media_out_t *o) { return o->encoder; }

static int write_pkt(media_out_t *o, AVPacket *p, char *err, size_t errsz)
{
    int r = av_interleaved_write_frame(o->oc, p);
    if (r >= 0 && o->oc->pb && o->oc->pb->error < 0) r = o->oc->pb->error;
    if (r < 0) {
        o->write_failed = true;
        return ERR("%s: writing failed: %s", o->path, AVERR(r));
    }
    return 0;
}

static int drain(media_out_t *o, char *err, size_t errsz)
{
    for (;;) {
        int r = avcodec_receive_packet(o->enc, o->pkt);
        if (r == AVERROR(EAGAIN) || r == AVERROR_EOF) return 0;
        if (r < 0) return ERR("%s: encoding failed: %s", o->path, AVERR(r));
        o->pkt->stream_index = o->vst->index;
        av_packet_rescale_ts(o->pkt, o->enc->time_base, o->vst->time_base);
        o->packets++;
        if (write_pkt(o, o->pkt, err, errsz)) return -1;
    }
}

int media_out_frame(media_out_t *o, const uint8_t *rgba, size_t stride, int64_t pts, char *err, size_t errsz)
{
    if (o->write_failed) return ERR("%s: writing failed before", o->path);
    int r = av_frame_make_writable(o->yuv);
    if (r < 0) return ERR("out of memory");
    o->sws = sws_getCachedContext(o->sws, (int)o->w, (int)o->h, AV_PIX_FMT_RGBA, (int)o->w, (int)o->h, o->pixfmt,
                                  SWS_BICUBIC | SWS_ACCURATE_RND | SWS_FULL_CHR_H_INP, NULL, NULL, NULL);
    if (!o->sws) return ERR("cannot convert RGBA to %s", av_get_pix_fmt_name(o->pixfmt));
    const int *coef = sws_getCoefficients(o->cs);
    sws_setColorspaceDetails(o->sws, coef, 1, coef, 0, 0, 1 << 16, 1 << 16);
    const uint8_t *srcp[4] = {rgba};
    int srcs[4] = {(int)stride};
    sws_scale(o->sws, srcp, srcs, 0, (int)o->h, o->yuv->data, o->yuv->linesize);
    o->yuv->pts = pts;
    if ((r = avcodec_send_frame(o->enc, o->yuv)) < 0) return ERR("%s: encoding failed: %s", o->path, AVERR(r));
    return drain(o, err, errsz);
}

int media_out_packet(media_out_t *o, void *packet, char *err, size_t errsz)
{
    AVPacket *p = packet;
    int rc = 0;
    if (o->write_failed) {
        rc = ERR("%s: writing failed before", o->path);
    } else if (p->stream_index >= 0 && (unsigned)p->stream_index < o->audio_map_n && o->audio_map[p->stream_index] >= 0) {
        AVStream *os = o->oc->streams[o->audio_map[p->stream_index]];
        av_packet_rescale_ts(p, o->audio_tb[p->stream_index], os->time_base);
        p->stream_index = os->index;
        p->pos = -1;
        rc = write_pkt(o, p, err, errsz);
    }
    av_packet_free(&p);
    return rc;
}

/* Count the video packets of a written file (0 if it does not open). */
static int64_t count_video_packets(const char *path)
{
    AVFormatContext *f = NULL;
    if (avformat_open_input(&f, path, NULL, NULL) < 0) return 0;
    int64_t n = 0;
    if (avformat_find_stream_info(f, NULL) >= 0) {
        int v = av_find_best_stream(f, AVMEDIA_TYPE_VIDEO, -1, -1, NULL, 0);
        AVPacket *p = av_packet_alloc();
        while (v >= 0 && p && av_read_frame(f, p) >= 0) {
            if (p->stream_index == v) n++;
            av_packet_unref(p);
        }
        av_packet_free(&p);
    }
    avformat_close_input(&f);
    return n;
}

int media_out_close(media_out_t *o, int64_t *frames_kept, char *err, size_t errsz)
{
    if (frames_kept) *frames_kept = 0;
    if (!o) return 0;
    int rc = 0;
    char e2[512] = "";
    if (o->header_written) {
        if (!o->write_failed && o->enc) {
            avcodec_send_frame(o->enc, NULL);
            if (drain(o, e2, sizeof e2)) rc = -1;
        }
        if (!o->write_failed) {
            int r = av_write_trailer(o->oc);
            if (r >= 0 && o->oc->pb && o->oc->pb->error < 0) r = o->oc->pb->error;
            if (r < 0) {
                o->write_failed = true;
                snprintf(e2, sizeof e2, "%s: writing failed: %s", o->path, AVERR(r));
            }
        }
        int cr = avio_closep(&o->oc->pb);
        if (cr < 0 && !o->write_failed) {
            o->write_failed = true;
            snprintf(e2, sizeof e2, "%s: writing failed: %s", o->path, AVERR(cr));
        }
        if (o->write_failed) {
            rc = -1;
            if (o->fragmented) media_mp4_trim(o->path);
            int64_t n = count_video_packets(o->path);
            if (frames_kept) *frames_kept = n;
            if (n == 0) unlink(o->path);
        } else if (frames_kept) {
            *frames_kept = o->packets;
        }
        if (rc && err) snprintf(err, errsz, "%s", e2);
    }
    sws_freeContext(o->sws);
    avcodec_free_context(&o->enc);
    av_frame_free(&o->yuv);
    av_packet_free(&o->pkt);
    if (o->oc) avformat_free_context(o->oc);
    free(o->audio_map);
    free(o->audio_tb);
    free(o->path);
    free(o);
    return rc;
}

/* ------------------------------------------------------------------ fragmented MP4 repair */

static uint64_t be(const uint8_t *p, int n)
{
    uint64_t v = 0;
    for (int i = 0; i < n; i++) v = v << 8 | p[i];
    return v;
}

int64_t media_mp4_trim(const char *path)
{
    int fd = open(path, O_RDWR | O_CLOEXEC);
    if (fd < 0) return -1;
    struct stat sb;
    if (fstat(fd, &sb) != 0) { close(fd); return -1; }
    uint64_t size = (uint64_t)sb.st_size, off = 0, good = 0;
    bool moov = false, moof = false;
    while (off + 8 <= size) {
        uint8_t h[16];
        if (pread(fd, h, 16, (off_t)off) < 8) break;
        uint64_t sz = be(h, 4);
        if (sz == 1) {
            if (off + 16 > size) break;
            sz = be(h + 8, 8);
        } else if (sz == 0) {
            sz = size - off;
        }
        if (sz < 8 || off + sz > size) break;
        if (!memcmp(h + 4, "moov", 4)) moov = true;
        if (!memcmp(h + 4, "moof", 4)) moof = true;
        else if (!memcmp(h + 4, "mdat", 4) || !moof) { moof = false; good = off + sz; }
        off += sz;
    }
    int64_t rc = -1;
    if (moov) {
        if (good < size && ftruncate(fd, (off_t)good) != 0) good = size;
        rc = (int64_t)good;
    }
    close(fd);
    return rc;
}
