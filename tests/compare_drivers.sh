#!/bin/bash
# compare_drivers.sh VKSTYLE [MIN_DB]: every shipped model on the test images (at most 160 px a
# side, to keep CI short), once on the system
# Vulkan driver and once on Mesa 25 (scripts/mesa25.sh), and the PSNR between the two outputs;
# fails when any pair is below MIN_DB (default 60). CI runs it (.ci/run); it needs the Mesa 25
# folder that scripts/mesa25.sh unpacks.
set -euo pipefail
# both drivers run the same convolution variants (the built-in heuristic), not each its own tuned ones
export VKSTYLE_TUNE=0
vkstyle=$(realpath "$1")
min_db=${2:-60}
root="$(cd "$(dirname "$0")/.." && pwd)"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
images=("$root/tests/data/kodim05_crop333x257.png" "$root/tests/data/cam_64x48.jpg")
driver() { "$@" devices | awk -F': *' '/driver:/ {print $2; exit}'; }
echo "system driver: $(driver "$vkstyle")"
echo "second driver: $(driver bash "$root/scripts/mesa25.sh" "$vkstyle")"
n=0
for model in "$root"/models/*.safetensors; do
    name=$(basename "$model" .safetensors)
    for img in "${images[@]}"; do
        base=$(basename "$img"); base=${base%.*}
        a="$tmp/${name}_${base}_a.png" b="$tmp/${name}_${base}_b.png"
        "$vkstyle" image -m "$model" -i "$img" --max-side 160 -o "$a" >/dev/null
        bash "$root/scripts/mesa25.sh" "$vkstyle" image -m "$model" -i "$img" --max-side 160 -o "$b" >/dev/null
        n=$((n + 1))
    done
done
/usr/bin/python3 - "$tmp" "$min_db" <<'EOF'
import glob, math, os, sys
import numpy as np
from PIL import Image
tmp, min_db = sys.argv[1], float(sys.argv[2])
worst, bad = math.inf, []
for a in sorted(glob.glob(os.path.join(tmp, "*_a.png"))):
    b = a[:-6] + "_b.png"
    x = np.asarray(Image.open(a), dtype=np.float64)
    y = np.asarray(Image.open(b), dtype=np.float64)
    mse = float(np.mean((x - y) ** 2))
    db = math.inf if mse == 0 else 10 * math.log10(255.0 ** 2 / mse)
    name = os.path.basename(a)[:-6]
    print(f"{name:40s} {'identical' if mse == 0 else f'{db:.2f} dB'}  (max |diff| {int(np.abs(x - y).max())})")
    worst = min(worst, db)
    if db < min_db:
        bad.append(name)
print(f"worst: {'identical' if worst == math.inf else f'{worst:.2f} dB'}; bar {min_db:g} dB")
sys.exit(1 if bad else 0)
EOF
echo "$n model/image pairs compared"
