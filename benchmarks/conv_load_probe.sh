#!/bin/bash
# Where a lavapipe convolution's time goes: builds the engine four times (normal; weight loads
# replaced by constants; input loads replaced by constants; both), runs `vkstyle bench` on each in
# turn, ROUNDS times, and prints the median GPU ms of the ten 3x3 128->128 convolutions and of the
# frame. The probe builds compute wrong images (VKSTYLE_SHADER_PROBE, CMakeLists.txt): they only
# attribute time. Needs the build dependencies (scripts/deps.sh).
#   benchmarks/conv_load_probe.sh [MODEL] [SIZE] [ROUNDS]
set -euo pipefail
cd "$(dirname "$0")/.."
model=${1:-udnie} size=${2:-256x256} rounds=${3:-3}
variants=(none VKS_PROBE_CONST_WEIGHTS VKS_PROBE_CONST_INPUT "VKS_PROBE_CONST_WEIGHTS;VKS_PROBE_CONST_INPUT")
names=(normal const-weights const-input const-both)
for i in "${!variants[@]}"; do
    probe=${variants[$i]}; [ "$probe" = none ] && probe=""
    dir=build-probe-${names[$i]}
    echo "building $dir..." >&2
    cmake -S . -B "$dir" -DCMAKE_BUILD_TYPE=Release -DVKSTYLE_MEDIA=OFF -DVKSTYLE_TESTS=OFF \
        "-DVKSTYLE_SHADER_PROBE=$probe" >/dev/null
    cmake --build "$dir" -j"$(nproc)" --target vkstyle_cli >/dev/null
done
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
for r in $(seq "$rounds"); do
    for i in "${!names[@]}"; do
        "build-probe-${names[$i]}/vkstyle" bench -m "$model" --size "$size" --iters 3 --warmup 1 --json - \
            2>/dev/null >"$tmp/${names[$i]}.$r.json"
    done
    echo "round $r done" >&2
done
/usr/bin/python3 - "$tmp" "$rounds" "${names[@]}" <<'PY'
import json, statistics, sys
tmp, rounds, names = sys.argv[1], int(sys.argv[2]), sys.argv[3:]
print(f"{'build':<14} {'3x3 128->128 conv (ms)':>24} {'frame (ms)':>12}")
for n in names:
    convs, frames = [], []
    for r in range(1, rounds + 1):
        b = json.load(open(f"{tmp}/{n}.{r}.json"))
        convs += [s["gpu_ms_median"] for s in b["steps"] if s["op"] == "conv2d" and s["shape"].startswith("128x64x64 -> 128x64x64")]
        frames.append(b["frame"]["gpu_ms_median"])
    print(f"{n:<14} {statistics.median(convs):>24.1f} {statistics.median(frames):>12.1f}")
PY
