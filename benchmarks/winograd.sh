#!/bin/bash
# Winograd vs the direct convolution for the 3x3 stride-1 layers, same binary, same run,
# alternating: VKSTYLE_WINOGRAD=0 (the direct convolution), =2 (F(2x2,3x3) everywhere) and the
# default (F(6x6,3x3) on fp32 planes of 64x64 and up, F(4x4,3x3) from 24x24, F(2x2,3x3) below): the frame's wall time
# with the data resident, as `vkstyle bench` prints it, per size and round, then the medians and
# speed-ups over the direct convolution.
#
#   bash benchmarks/winograd.sh [MODEL] [SIZES] [ROUNDS] [PRECISION]
#   bash benchmarks/winograd.sh models/udnie.safetensors 64x64,128x128,256x256 3 fp32
set -euo pipefail
cd "$(dirname "$0")/.."
# the built-in choices, not the tuner's: this compares the algorithms as the heuristic picks them
export VKSTYLE_TUNE=0
model=${1:-models/udnie.safetensors} sizes=${2:-64x64,128x128,256x256} rounds=${3:-3} prec=${4:-fp32}
vk=${VKSTYLE:-build/vkstyle}
[ -x "$vk" ] || { echo "winograd.sh: $vk not built (bash scripts/build.sh)" >&2; exit 1; }
frame_ms() {   # VKSTYLE_WINOGRAD value, size
    VKSTYLE_WINOGRAD=$1 "$vk" bench -m "$model" --size "$2" --precision "$prec" --iters 3 --warmup 1 2>&1 |
        sed -nE 's/^frame: .* wall ([0-9.]+) ms resident.*/\1/p'
}
median() { sort -n | awk '{a[NR] = $1} END {print (NR % 2) ? a[(NR + 1) / 2] : (a[NR / 2] + a[NR / 2 + 1]) / 2}'; }
log=$(mktemp)
trap 'rm -f "$log"' EXIT
echo "$("$vk" --version | tail -1), $model, $prec, $rounds rounds"
for r in $(seq "$rounds"); do
    for s in ${sizes//,/ }; do
        for w in 0 2 1; do
            t=$(frame_ms "$w" "$s")
            [ -n "$t" ] || { echo "winograd.sh: vkstyle bench printed no frame time at $s" >&2; exit 1; }
            echo "$s $w $t" >>"$log"
            printf 'round %s %-9s %-8s %8.1f ms\n' "$r" "$s" "$(case $w in 0) echo direct;; 2) echo 'F(2x2)';; *) echo default;; esac)" "$t"
        done
    done
done
echo
echo "| size | direct ms | F(2x2) ms | default ms (F(4x4) from 24x24 planes) | F(2x2) speed-up | default speed-up |"
echo "|---|---|---|---|---|---|"
for s in ${sizes//,/ }; do
    d=$(awk -v s="$s" '$1 == s && $2 == 0 {print $3}' "$log" | median)
    f2=$(awk -v s="$s" '$1 == s && $2 == 2 {print $3}' "$log" | median)
    w=$(awk -v s="$s" '$1 == s && $2 == 1 {print $3}' "$log" | median)
    awk -v s="$s" -v d="$d" -v f="$f2" -v w="$w" 'BEGIN {printf "| %s | %.1f | %.1f | %.1f | %.2fx | %.2fx |\n", s, d, f, w, d / f, d / w}'
done
