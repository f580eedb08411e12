#!/bin/bash
# Two builds' start-up side by side: `vkstyle image` on a 16x16 input, each build alternately,
# ROUNDS rounds, then per build the median of what it prints as "N ms with setup" (context, model
# load, session and the one frame) and of the whole process's wall time, and their ratios (B / A).
# Build the baseline elsewhere as for compare_builds.sh (a git worktree, -DVKSTYLE_MEDIA=OFF is
# enough).
#
#   bash benchmarks/startup.sh A_VKSTYLE B_VKSTYLE [MODEL] [ROUNDS]
#   bash benchmarks/startup.sh /tmp/base-build/vkstyle build/vkstyle udnie 8
#
# Environment variables (VKSTYLE_WINOGRAD, ...) reach both; VKSTYLE_TUNE=0 unless set, so that
# neither times convolution variants.
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
[ $# -ge 2 ] || { sed -n '2,11p' "$0" >&2; exit 2; }
a=$1 b=$2 model=${3:-udnie} rounds=${4:-8}
for v in "$a" "$b"; do [ -x "$v" ] || { echo "startup.sh: $v is not an executable" >&2; exit 1; }; done
export VKSTYLE_MODELS=${VKSTYLE_MODELS:-$here/models} VKSTYLE_TUNE=${VKSTYLE_TUNE:-0}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
echo "A: $a ($("$a" --version | head -1))"
echo "B: $b ($("$b" --version | head -1))"
echo "$model, 16x16, $rounds rounds, alternating"
for _ in $(seq "$rounds"); do
    for s in a b; do
        v=$a
        [ "$s" = b ] && v=$b
        t0=$(date +%s%N)
        "$v" image -m "$model" --size 16x16 -i "$here/tests/data/kodim05_crop333x257.png" -o "$tmp/out.png" >"$tmp/out.txt"
        t1=$(date +%s%N)
        setup=$(sed -n 's/.*(\([0-9]*\) ms with setup).*/\1/p' "$tmp/out.txt")
        [ -n "$setup" ] || { echo "startup.sh: no 'ms with setup' in: $(cat "$tmp/out.txt")" >&2; exit 1; }
        echo "$s $setup $(((t1 - t0) / 1000000))" >>"$tmp/times"
    done
done
awk '
function median(arr, n,    i, j, t) {
    for (i = 2; i <= n; i++) for (j = i; j > 1 && arr[j - 1] > arr[j]; j--) { t = arr[j]; arr[j] = arr[j - 1]; arr[j - 1] = t }
    return n % 2 ? arr[(n + 1) / 2] : (arr[n / 2] + arr[n / 2 + 1]) / 2
}
{ if ($1 == "a") { sa[++na] = $2; wa[na] = $3 } else { sb[++nb] = $2; wb[nb] = $3 } }
END {
    msa = median(sa, na); msb = median(sb, nb); mwa = median(wa, na); mwb = median(wb, nb)
    printf "setup (vkstyle'"'"'s own figure): A %.0f ms, B %.0f ms, B / A %.2f\n", msa, msb, msb / msa
    printf "process wall:                 A %.0f ms, B %.0f ms, B / A %.2f\n", mwa, mwb, mwb / mwa
}' "$tmp/times"
