#!/bin/bash
# Issue 11's GPU run, in one go, on a machine with an NVIDIA GPU (or any Vulkan GPU):
#   0. test_ops on the device: every op's variants against the C reference, both precisions, the
#      Khronos validation layer on (carried in .gpu/layer); the first GPU run found two driver-
#      dependent bugs this way (benchmarks/README.md). TEST_QUICK=1 runs its quick form (every
#      shader variant, fewer shapes);
#   1. the device, and its measured FMA peak and copy bandwidth (vkstyle bench --peak);
#   2. vkstyle, udnie, at each size (default 1280x720 and 1920x1080) in fp32 and fp16, each after
#      timing every variant of every convolution on the device (vkstyle bench --tune: the table
#      of variants per layer, then the frame with the winners), and in fp32 with each 3x3
#      algorithm forced (VKSTYLE_WINOGRAD=0: direct, 2: F(2x2), 4: F(4x4)) to compare with, and
#      tuned in fp32 without the tuner's GPU warm-up (VKSTYLE_TUNE_WARMUP_MS=0: the choices as
#      they were timed before it, from idle clocks);
#   3. PyTorch on the same GPU in the same run (benchmarks/bench_cuda.py: eager fp32, TF32, fp16,
#      torch.compile fp16);
#   4. fidelity of the GPU's outputs: the test image against its reference (tests/data, >= 45 dB
#      in the tests), and a 1920x1080 photo against the float32 PyTorch reference
#      (tools/convert/reference.py), in fp32 and fp16;
#   5. one table of it all (gpu_table.md).
#
#   bash benchmarks/gpu.sh [SIZES] [ITERS]        (from the repository root)
#
# Prepare it on the build machine with benchmarks/gpu_prepare.sh: a media-free vkstyle and the
# libraries it needs in .gpu/. On the GPU machine the binary runs through .gpu/nvidia-vulkan.sh
# where that exists (it supplies the Vulkan loader the NVIDIA driver needs there).
# VKSTYLE=path uses another binary; OUT=folder keeps the results (default: a new temporary
# folder, printed); PYTHON=python3 the Python with PyTorch, NumPy and Pillow; STEP_TIMEOUT=seconds
# bounds each vkstyle and Python step (default 300), so that a hang on a new driver costs one
# step, not the machine's time; TORCH_COMPILE=0 leaves out torch.compile (its compile took
# most of a minute a size on an H200).
set -uo pipefail
cd "$(dirname "$0")/.." || exit 1
sizes=${1:-1280x720,1920x1080}
iters=${2:-20}
vk=${VKSTYLE:-.gpu/vkstyle}
py=${PYTHON:-python3}
out=${OUT:-$(mktemp -d)}
mkdir -p "$out"
wrap=()
[ -f .gpu/nvidia-vulkan.sh ] && wrap=(bash .gpu/nvidia-vulkan.sh)
[ -x "$vk" ] || { echo "gpu.sh: $vk is not an executable (run benchmarks/gpu_prepare.sh where it builds)" >&2; exit 1; }
step_timeout=${STEP_TIMEOUT:-300}
run() { timeout "$step_timeout" "${wrap[@]}" "$vk" "$@"; }
echo "== results in $out"

echo "== 0. test_ops: every op variant against the C reference on this device"
if [ -x .gpu/test_ops ]; then
    layer=$(mktemp -d)
    cp .gpu/layer/*.json "$layer"/ 2>/dev/null
    for f in .gpu/layer/*.gz; do [ -f "$f" ] && gzip -dc "$f" >"$layer/$(basename "${f%.gz}")"; done
    VK_ADD_LAYER_PATH="$layer${VK_ADD_LAYER_PATH:+:$VK_ADD_LAYER_PATH}" VKSTYLE_TEST_QUICK=${TEST_QUICK:-0} \
        timeout "$step_timeout" "${wrap[@]}" .gpu/test_ops >"$out/test_ops.txt" 2>&1
    echo "exit $?" >>"$out/test_ops.txt"
    rm -rf "$layer"
    grep -E '^\[  (PASSED|FAILED|SKIPPED) +\]|^exit ' "$out/test_ops.txt"
else
    echo "gpu.sh: no .gpu/test_ops (run benchmarks/gpu_prepare.sh where it builds): correctness not checked here"
fi

echo "== 1. device"
run --version 2>&1 | tee "$out/version.txt"
run bench --peak --json "$out/peak.json" 2>&1 | tail -6

echo "== 2. vkstyle bench, udnie"
for s in ${sizes//,/ }; do
    VKSTYLE_TUNE_WARMUP_MS=0 run bench -m udnie --size "$s" --tune --iters "$iters" --warmup 3 --json "$out/vk_${s}_fp32_cold.json" \
        >"$out/vk_${s}_fp32_cold.txt" 2>&1 || echo "gpu.sh: vkstyle bench $s fp32 VKSTYLE_TUNE_WARMUP_MS=0 failed"
    grep '^frame:' "$out/vk_${s}_fp32_cold.txt" | sed "s/^/$s fp32 tuned without warm-up /"
    for p in fp32 fp16; do
        run bench -m udnie --size "$s" --precision "$p" --tune --iters "$iters" --warmup 3 --json "$out/vk_${s}_$p.json" \
            >"$out/vk_${s}_$p.txt" 2>&1 || echo "gpu.sh: vkstyle bench $s $p failed (see $out/vk_${s}_$p.txt)"
        grep '^frame:' "$out/vk_${s}_$p.txt" | sed "s/^/$s $p /"
    done
    for w in 0 2 4; do
        VKSTYLE_WINOGRAD=$w run bench -m udnie --size "$s" --iters "$iters" --warmup 3 --json "$out/vk_${s}_fp32_w$w.json" \
            >"$out/vk_${s}_fp32_w$w.txt" 2>&1 || echo "gpu.sh: vkstyle bench $s VKSTYLE_WINOGRAD=$w failed"
        grep '^frame:' "$out/vk_${s}_fp32_w$w.txt" | sed "s/^/$s fp32 VKSTYLE_WINOGRAD=$w /"
    done
done

echo "== 3. PyTorch on the same GPU"
nocompile=()
[ "${TORCH_COMPILE:-1}" = 0 ] && nocompile=(--no-compile)
timeout "$step_timeout" "$py" -m benchmarks.bench_cuda --size "$sizes" --iters "$iters" "${nocompile[@]}" --json "$out/torch.json" 2>&1 \
    | grep -v pow_by_natural | tee "$out/torch.txt"

echo "== 4. fidelity"
"$py" - "$out" <<'EOF' || echo "gpu.sh: could not make the 1920x1080 input (Pillow)"
import sys
from PIL import Image
Image.open("tests/data/kodim05_crop333x257.png").convert("RGB").resize((1920, 1080), Image.BICUBIC).save(
    sys.argv[1] + "/photo_1920x1080.png")
EOF
: >"$out/fidelity.txt"
compare() {   # A.png B.png LABEL: the PSNR of A against B, into fidelity.txt
    "$py" - "$@" <<'EOF' | tee -a "$out/fidelity.txt"
import sys
import numpy as np
from PIL import Image
from tools.convert.reference import psnr
a, b = (np.asarray(Image.open(f).convert("RGB")) for f in sys.argv[1:3])
print(f"{sys.argv[3]}: {psnr(a, b):.2f} dB")
EOF
}
for p in fp32 fp16; do
    run image -m udnie --precision "$p" -i tests/data/kodim05_crop333x257.png -o "$out/test_$p.png" >/dev/null 2>&1 &&
        compare "$out/test_$p.png" tests/data/kodim05_crop333x257_udnie.png "test image 333x257, $p, against tests/data's reference"
done
if [ -f "$out/photo_1920x1080.png" ] &&
    timeout "$step_timeout" "$py" -m tools.convert.reference -m models/udnie.safetensors -i "$out/photo_1920x1080.png" -o "$out/ref_1920x1080.png"; then
    for p in fp32 fp16; do
        run image -m udnie --precision "$p" -i "$out/photo_1920x1080.png" -o "$out/photo_$p.png" >/dev/null 2>&1 &&
            compare "$out/photo_$p.png" "$out/ref_1920x1080.png" "photo 1920x1080, $p, against the float32 PyTorch reference"
    done
fi

echo "== 5. the table ($out/gpu_table.md)"
"$py" - "$out" "$sizes" <<'EOF' | tee "$out/gpu_table.md"
import json, os, re, sys
out, sizes = sys.argv[1], sys.argv[2].split(",")
def frame(name):
    try:
        return json.load(open(os.path.join(out, name)))["frame"]["gpu_ms_median"]
    except (OSError, ValueError, KeyError):
        return None
def fmt(v):
    return "—" if v is None else f"{v:.2f}"
try:
    torch_rows = {r["size"]: r for r in json.load(open(os.path.join(out, "torch.json")))}
except (OSError, ValueError):
    torch_rows = {}
dev = open(os.path.join(out, "version.txt")).read().strip().splitlines()
print(f"udnie, {' / '.join(dev[1:2] or dev)}; ms per frame, data resident (vkstyle: GPU timestamps; PyTorch: CUDA events)\n")
cols = ["vkstyle fp32", "vkstyle fp16", "fp32 tuned without warm-up", "fp32 direct", "fp32 F(2x2)", "fp32 F(4x4)",
        "PyTorch eager fp32", "PyTorch eager TF32", "PyTorch eager fp16", "torch.compile fp16"]
print("| size | " + " | ".join(cols) + " |")
print("|---|" + "---|" * len(cols))
for s in sizes:
    t = torch_rows.get(s, {})
    vals = [frame(f"vk_{s}_fp32.json"), frame(f"vk_{s}_fp16.json"), frame(f"vk_{s}_fp32_cold.json"), frame(f"vk_{s}_fp32_w0.json"),
            frame(f"vk_{s}_fp32_w2.json"), frame(f"vk_{s}_fp32_w4.json"), t.get("eager fp32"), t.get("eager TF32"),
            t.get("eager fp16"), t.get("torch.compile fp16")]
    print(f"| {s} | " + " | ".join(fmt(v) for v in vals) + " |")
print()
try:
    t = open(os.path.join(out, "test_ops.txt")).read().splitlines()
    def count(tag):   # cmocka's summary lines: "[  PASSED  ] 64 test(s)."
        return sum(int(m.group(1)) for m in (re.match(rf"\[  {tag} *\] (\d+) test", l) for l in t) if m)
    print(f"- test_ops on this device: {count('PASSED')} passed, {count('FAILED')} failed, {count('SKIPPED')} skipped ({t[-1]})")
except (OSError, IndexError, ValueError):
    print("- test_ops on this device: not run")
for line in open(os.path.join(out, "fidelity.txt")):
    print("- " + line.strip())
EOF
