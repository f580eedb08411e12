#!/bin/bash
# Temporal stabilization: flicker, how much it changes a frame, and what it costs.
#
#   bash benchmarks/stabilize.sh [S] [FOX_FRAMES]     (S: --stabilize, default 1.0; FOX_FRAMES: 90)
#
# For each case (clip, size, model) it stylizes the clip with `vkstyle video --stabilize 0` and
# `--stabilize S` and runs benchmarks/flicker.py on both: the warping error of each (all matched
# pixels, and the moving ones), the source's own (the floor), and the PSNR of each stabilized frame
# against the unstabilized one. Clips: the first FOX_FRAMES frames of samples/fox.mp4 (copied
# losslessly) at 128 and 256 px (256: a third as many frames), and a still camera with a moving
# patch and noise (benchmarks/make_still_clip.py, 128x96). Models: udnie, wave, and styles9 with
# a mix of two styles. Then the cost: `vkstyle bench --stabilize 0` and `--stabilize S`,
# alternately, 3 rounds, udnie 128x128: the medians of the frame's GPU time, and of the steps the
# stabilization adds to (input conversion, the instance norms, output conversion).
# VIDEO_ARGS passes more `vkstyle video` options: VIDEO_ARGS="--crf 0 --chroma 444" measures the
# frames the engine wrote (lossless H.264 in 4:4:4: only the RGB-to-YUV rounding) instead of what
# the default crf 18 4:2:0 keeps.
# Needs build/vkstyle (bash scripts/build.sh); installs OpenCV (scripts/deps.sh bench).
# VKSTYLE_STABILIZE_TUNE is passed on (engine/stabilize.c) to try other parameters. Writes into a temporary folder, removed at the end.
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
vk=${VKSTYLE_BIN:-$here/build/vkstyle}   # VKSTYLE_BIN=another build, to compare
py=${PYTHON:-/usr/bin/python3}
S=${1:-1.0}
N=${2:-90}
read -r -a vargs <<< "${VIDEO_ARGS:-}"   # more `vkstyle video` options, e.g. VIDEO_ARGS="--crf 0 --chroma 444"
bash "$here/scripts/deps.sh" bench   # OpenCV for flicker.py
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

ffmpeg -loglevel error -y -i "$here/samples/fox.mp4" -frames:v "$N" -c:v libx264 -qp 0 "$tmp/fox.mp4"
ffmpeg -loglevel error -y -i "$here/samples/fox.mp4" -frames:v $((N / 3)) -c:v libx264 -qp 0 "$tmp/fox_short.mp4"
"$py" "$here/benchmarks/make_still_clip.py" "$tmp/still.mp4"

run_case() {   # NAME CLIP MAXSIDE MODEL [STYLE]
    local name=$1 clip=$2 side=$3 model=$4 style=${5:-}
    local sarg=()
    [ -n "$style" ] && sarg=(-s "$style")
    "$vk" video -q -m "$model" "${sarg[@]}" "${vargs[@]}" --max-side "$side" --stabilize 0 -i "$clip" -o "$tmp/off.mp4"
    "$vk" video -q -m "$model" "${sarg[@]}" "${vargs[@]}" --max-side "$side" --stabilize "$S" -i "$clip" -o "$tmp/on.mp4"
    echo "== $name: --stabilize 0"
    "$py" "$here/benchmarks/flicker.py" "$clip" "$tmp/off.mp4" | sed -n '1,4p'
    echo "== $name: --stabilize $S"
    "$py" "$here/benchmarks/flicker.py" "$clip" "$tmp/on.mp4" "$tmp/off.mp4" | sed -n '2p;4,5p'
}

mix=la_muse=0.5,wave=0.5
if [ -n "${CASES:-}" ]; then
    # only these cases, then the cost only with COST=1: CASES='run_case wave "$tmp/fox.mp4" 128 wave', CASES=: COST=1
    eval "$CASES"
    [ "${COST:-0}" = 1 ] || exit 0
else
    run_case "fox.mp4, 128 px, udnie" "$tmp/fox.mp4" 128 udnie
    run_case "fox.mp4, 128 px, wave" "$tmp/fox.mp4" 128 wave
    run_case "fox.mp4, 128 px, styles9 $mix" "$tmp/fox.mp4" 128 styles9 "$mix"
    run_case "fox.mp4 ($((N / 3)) frames), 256 px, udnie" "$tmp/fox_short.mp4" 256 udnie
    run_case "still camera, moving patch, 128x96, udnie" "$tmp/still.mp4" 128 udnie
    run_case "still camera, moving patch, 128x96, wave" "$tmp/still.mp4" 128 wave
    run_case "still camera, moving patch, 128x96, styles9 $mix" "$tmp/still.mp4" 128 styles9 "$mix"
fi

echo "== cost: vkstyle bench -m udnie --size 128x128, --stabilize 0 and $S alternately, 3 rounds"
for r in 1 2 3; do
    for s in 0 "$S"; do
        "$vk" bench -m udnie --size 128x128 --iters 5 --warmup 1 --stabilize "$s" --json "$tmp/b_${s}_$r.json" >/dev/null 2>&1
    done
done
"$py" - "$tmp" "$S" <<'EOF'
import glob, json, statistics, sys
tmp, S = sys.argv[1], sys.argv[2]
def load(s):
    frame, parts = [], []
    for f in sorted(glob.glob(f"{tmp}/b_{s}_*.json")):
        j = json.load(open(f))
        frame.append(j["frame"]["gpu_ms_median"])
        st = j["steps"]
        parts.append(sum(x["gpu_ms_median"] for x in st if x["op"] in ("pack_rgb8", "unpack_rgba8", "instance_norm",
                                                                       "conditional_instance_norm")))
    return statistics.median(frame), statistics.median(parts)
f0, p0 = load("0")
f1, p1 = load(S)
print(f"frame GPU time: off {f0:.1f} ms, on {f1:.1f} ms (whole frames vary with the machine's load)")
print(f"input/output conversion and instance norms: off {p0:.2f} ms, on {p1:.2f} ms: "
      f"stabilization adds {p1 - p0:.2f} ms, {100 * (p1 - p0) / f0:.1f}% of the frame")
EOF
