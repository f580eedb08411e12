/* Writing video files with FFmpeg for vkstyle video (see media.h). */
#include "media_priv.h"

#include <libavutil/imgutils.h>
#include <libavutil/opt.h>

#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

/* The colour matrix to tag the output with: the one its frames were converted with. */
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

/* The encoder: the one asked for, else libx264, else any H.264 encoder that opens, else MPEG-4;
 * not when an option was asked for (--preset): then its encoder or an error. */
static int open_any_encoder(media_out_t *o, const media_in_t *src, const media_out_options_t *opts, char *err,
                            size_t errsz)
{
    const char *path = o->path;
    const AVCodec *codec = pick_encoder(opts ? opts->encoder : NULL);
    if (opts && opts->encoder && !codec) return ERR("no encoder named '%s' in this FFmpeg build", opts->encoder);
    bool bad_option = false;
    int r = codec ? open_encoder(o, codec, src, opts, &bad_option, err, errsz) : AVERROR_ENCODER_NOT_FOUND;
    if (bad_option) return -1;
    if (r < 0 && !(opts && (opts->encoder || opts->preset))) {
        void *it = NULL;
        const AVCodec *c;
        while (r < 0 && (c = av_codec_iterate(&it)))
            if (av_codec_is_encoder(c) && c->id == AV_CODEC_ID_H264 && c != codec) r = open_encoder(o, c, src, opts, &bad_option, NULL, 0);
        if (r < 0 && (c = avcodec_find_encoder(AV_CODEC_ID_MPEG4))) r = open_encoder(o, c, src, opts, &bad_option, NULL, 0);
    }
    if (r < 0 && o->pixfmt == AV_PIX_FMT_YUV444P)
        return ERR("%s: no encoder here takes YUV 4:4:4 (libx264 does); leave out --chroma 444", path);
    if (r < 0)
        return ERR("%s: no usable video encoder (%s%s); install FFmpeg with libx264", path,
                   codec ? "opening it failed: " : "none found", codec ? AVERR(r) : "");
    return 0;
}

/* Audio: a stream copy of each of the input's audio streams the container can hold. */
static int add_audio_streams(media_out_t *o, const media_in_t *src, char *err, size_t errsz)
{
    o->audio_map_n = src->fmt->nb_streams;
    o->audio_map = malloc(o->audio_map_n * sizeof *o->audio_map);
    o->audio_tb = malloc(o->audio_map_n * sizeof *o->audio_tb);
    if (!o->audio_map || !o->audio_tb) return ERR("out of memory");
    for (unsigned i = 0; i < o->audio_map_n; i++) {
        AVStream *is = src->fmt->streams[i];
        o->audio_map[i] = -1;
        o->audio_tb[i] = is->time_base;
        if (!src->want_audio || is->codecpar->codec_type != AVMEDIA_TYPE_AUDIO) continue;
        if (avformat_query_codec(o->oc->oformat, is->codecpar->codec_id, FF_COMPLIANCE_NORMAL) != 1) {
            fprintf(stderr, "vkstyle: warning: %s audio cannot be stored in %s; audio stream %u dropped\n",
                    avcodec_get_name(is->codecpar->codec_id), o->path, i);
            continue;
        }
        AVStream *os = avformat_new_stream(o->oc, NULL);
        if (!os) return ERR("out of memory");
        avcodec_parameters_copy(os->codecpar, is->codecpar);
        os->codecpar->codec_tag = 0;
        os->time_base = is->time_base;
        av_dict_copy(&os->metadata, is->metadata, 0);
        o->audio_map[i] = os->index;
    }
    return 0;
}

int media_out_open(const char *path, const media_in_t *src, uint32_t w, uint32_t h, const media_out_options_t *opts,
                   media_out_t **out, char *err, size_t errsz)
{
    *out = NULL;
    if (w % 2 || h % 2) return ERR("%s: the encoder needs an even frame size, not %ux%u", path, w, h);
    media_out_t *o = calloc(1, sizeof *o);
    if (!o) return ERR("out of memory");
    if (!(o->path = strdup(path))) {
        free(o);
        return ERR("out of memory");
    }
    o->w = w;
    o->h = h;
    o->cs = src->cs;
    o->pixfmt = opts && opts->chroma444 ? AV_PIX_FMT_YUV444P : AV_PIX_FMT_YUV420P;
    if (avformat_alloc_output_context2(&o->oc, NULL, NULL, path) < 0 || !o->oc) {
        ERR("%s: cannot tell the container from the file name (use .mp4, .mkv or .mov)", path);
        goto fail;
    }
    const char *fname = o->oc->oformat->name;
    o->fragmented = strstr(fname, "mp4") || strstr(fname, "mov") || strstr(fname, "ipod");
    if (open_any_encoder(o, src, opts, err, errsz)) goto fail;
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
    if (add_audio_streams(o, src, err, errsz)) goto fail;
    int r;
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
            int64_t n = media_count_video_packets(o->path);
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
