#!/bin/bash
# docs/img/stabilize_sheet.jpg: consecutive frames of samples/fox.mp4 by udnie at 128 px,
# unstabilized (top) and with the default --stabilize (bottom).
#   bash docs/make_stabilize_sheet.sh [FIRST] [COUNT]      (default: frames 13..18)
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
first=${1:-13}
count=${2:-6}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
n=$((first + count))
ffmpeg -loglevel error -y -i "$here/samples/fox.mp4" -frames:v "$n" -c:v libx264 -qp 0 "$tmp/clip.mp4"
"$here/build/vkstyle" video -q -m udnie --max-side 128 --stabilize 0 -i "$tmp/clip.mp4" -o "$tmp/off.mp4"
"$here/build/vkstyle" video -q -m udnie --max-side 128 -i "$tmp/clip.mp4" -o "$tmp/on.mp4"
/usr/bin/python3 - "$tmp" "$first" "$count" "$here/docs/img/stabilize_sheet.jpg" <<'PY'
import sys, cv2, numpy as np
tmp, first, count, out = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), sys.argv[4]
def frames(p):
    c = cv2.VideoCapture(p); o = []
    while True:
        ok, f = c.read()
        if not ok: break
        o.append(f)
    return o
rows = []
for name in ("off", "on"):
    f = frames(f"{tmp}/{name}.mp4")[first:first + count]
    rows.append(np.hstack([np.pad(x, ((2, 2), (2, 2), (0, 0)), constant_values=255) for x in f]))
cv2.imwrite(out, np.vstack(rows), [cv2.IMWRITE_JPEG_QUALITY, 85])
print(out)
PY
