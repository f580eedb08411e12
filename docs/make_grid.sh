#!/bin/bash
# Rebuilds docs/img/styles_grid.jpg: one photo through all nine pretrained models with
# `vkstyle image`, tiled 5x2 (the photo first) with Pillow. Usage: docs/make_grid.sh PHOTO
set -euo pipefail
cd "$(dirname "$0")/.."
photo=${1:?usage: docs/make_grid.sh PHOTO}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
styles="la_muse mathura matilde_perez matta rain_princess scream udnie wave wreck"
for s in $styles; do build/vkstyle image -m "$s" --max-side 256 -i "$photo" -o "$tmp/$s.png"; done
/usr/bin/python3 - "$photo" "$tmp" docs/img/styles_grid.jpg $styles <<'PY'
import sys
from PIL import Image, ImageDraw
photo, tmp, out, styles = sys.argv[1], sys.argv[2], sys.argv[3], sys.argv[4:]
tiles = [("photo", Image.open(photo).convert("RGB"))] + [(s, Image.open(f"{tmp}/{s}.png")) for s in styles]
w, h = tiles[1][1].size
grid = Image.new("RGB", (5 * w, 2 * h), "white")
for i, (name, im) in enumerate(tiles):
    im = im.resize((w, h))
    ImageDraw.Draw(im).text((6, h - 16), name, fill="white", stroke_width=2, stroke_fill="black")
    grid.paste(im, ((i % 5) * w, (i // 5) * h))
grid.save(out, quality=88)
PY
echo "wrote docs/img/styles_grid.jpg"
