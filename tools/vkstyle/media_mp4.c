/* Fragmented MP4 files cut short: their frames, and the cut after the last whole fragment
 * (see media.h). */
#include "media_priv.h"

#include <fcntl.h>
#include <stdbool.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

int64_t media_count_video_packets(const char *path)
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
