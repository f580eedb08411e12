#!/bin/bash
# Rebuilds docs/img/tiles_seam.jpg: a crop across a tile boundary of a 1024x768 photo stylized
# (udnie) in tiles within 64 MiB, beside the same photo cut into two overlapping tiles stylized
# each on its own (each normalized by its own statistics), the untiled result, and the difference
# between tiles and untiled, amplified 64 times. Usage: docs/make_tiles_seam.sh [PHOTO]
# (default: tests/data/kodim05_crop333x257.png enlarged to 1024x768).
set -euo pipefail
cd "$(dirname "$0")/.."
photo=${1:-tests/data/kodim05_crop333x257.png}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
/usr/bin/python3 - "$photo" "$tmp" <<'PY'
import sys
from PIL import Image
im = Image.open(sys.argv[1]).convert("RGB").resize((1024, 768), Image.BICUBIC)
im.save(f"{sys.argv[2]}/in.png")
im.crop((0, 0, 1024, 531)).save(f"{sys.argv[2]}/top.png")      # rows 0..530: 64 past row 467
im.crop((0, 403, 1024, 768)).save(f"{sys.argv[2]}/bottom.png") # rows 403..767: 64 before it
PY
vk=build/vkstyle
$vk image -q -i "$tmp/in.png" -o "$tmp/untiled.png"
$vk image -q --max-memory 64M -i "$tmp/in.png" -o "$tmp/tiled.png"   # conv1 in bands of 467 rows, ...
$vk image -q -i "$tmp/top.png" -o "$tmp/top_s.png"
$vk image -q -i "$tmp/bottom.png" -o "$tmp/bottom_s.png"
/usr/bin/python3 - "$tmp" docs/img/tiles_seam.jpg <<'PY'
import sys
import numpy as np
from PIL import Image, ImageDraw
tmp, out = sys.argv[1], sys.argv[2]
u, t = (Image.open(f"{tmp}/{n}.png").convert("RGB") for n in ("untiled", "tiled"))
naive = Image.new("RGB", (1024, 768))
naive.paste(Image.open(f"{tmp}/top_s.png").crop((0, 0, 1024, 467)), (0, 0))
naive.paste(Image.open(f"{tmp}/bottom_s.png").crop((0, 64, 1024, 365)), (0, 467))
a, b = (np.asarray(x, dtype=np.int16) for x in (u, t))
diff = Image.fromarray(np.clip(np.abs(a - b) * 64, 0, 255).astype(np.uint8))
print("tiles vs untiled: max difference", int(np.abs(a - b).max()))
box, W, H = (300, 367, 620, 567), 320, 200   # around row 467, a boundary of the tiles
sheet = Image.new("RGB", (4 * W + 18, H + 22), "white")
draw = ImageDraw.Draw(sheet)
for i, (label, im) in enumerate([("two tiles, own statistics", naive), ("vkstyle tiles", t), ("untiled", u),
                                 ("|tiles - untiled| x 64", diff)]):
    x = i * (W + 6)
    sheet.paste(im.crop(box), (x, 22))
    draw.text((x + 4, 5), label, fill="black")
    draw.line([(x, 22 + H // 2), (x + 8, 22 + H // 2)], fill="red", width=2)   # row 467
sheet.save(out, quality=85)
PY
echo "wrote docs/img/tiles_seam.jpg"
