#!/bin/bash
# Rebuilds the multi-style pictures in the README from one photo with models/styles9.safetensors:
# docs/img/styles9_strip.jpg (udnie -> wave in 7 steps, vkstyle image --mix-strip) and
# docs/img/styles9_3x3.jpg (the nine styles, vkstyle image -s STYLE). Usage: docs/make_styles9.sh PHOTO
set -euo pipefail
cd "$(dirname "$0")/.."
photo=${1:?usage: docs/make_styles9.sh PHOTO}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
build/vkstyle image -m styles9 --mix-strip udnie,wave --steps 7 --max-side 160 -i "$photo" -o docs/img/styles9_strip.jpg
styles="la_muse mathura matilde_perez matta rain_princess scream udnie wave wreck"
for s in $styles; do build/vkstyle image -q -m styles9 -s "$s" --max-side 192 -i "$photo" -o "$tmp/$s.png"; done
/usr/bin/python3 - "$tmp" docs/img/styles9_3x3.jpg $styles <<'PY'
import sys
from PIL import Image, ImageDraw
tmp, out, styles = sys.argv[1], sys.argv[2], sys.argv[3:]
ims = [Image.open(f"{tmp}/{s}.png") for s in styles]
w, h = ims[0].size
grid = Image.new("RGB", (3 * w, 3 * h))
for i, (s, im) in enumerate(zip(styles, ims)):
    ImageDraw.Draw(im).text((5, h - 15), s, fill="white", stroke_width=2, stroke_fill="black")
    grid.paste(im, ((i % 3) * w, (i // 3) * h))
grid.save(out, quality=88)
PY
echo "wrote docs/img/styles9_strip.jpg docs/img/styles9_3x3.jpg"
