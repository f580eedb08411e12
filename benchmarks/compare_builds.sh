#!/bin/bash
# Two builds of vkstyle side by side: `vkstyle bench` with each, alternately, ROUNDS rounds, then
# per layer the medians of its GPU time in both and their ratio (B / A), the convolutions' total
# and the frame's. For a change that must not slow anything down: build the baseline elsewhere
# (git worktree add /tmp/base main && cmake -S /tmp/base -B /tmp/base-build -DVKSTYLE_MEDIA=OFF &&
# cmake --build /tmp/base-build --target vkstyle_cli) and compare it with build/vkstyle.
#
#   bash benchmarks/compare_builds.sh A_VKSTYLE B_VKSTYLE [MODEL] [SIZE] [ROUNDS]
#   VKSTYLE_WINOGRAD=0 bash benchmarks/compare_builds.sh /tmp/base-build/vkstyle build/vkstyle udnie 128x128 3
#
# Environment variables (VKSTYLE_WINOGRAD, ...) reach both. Both read the models from this
# checkout's models/ unless VKSTYLE_MODELS says otherwise.
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
[ $# -ge 2 ] || { sed -n '2,12p' "$0" >&2; exit 2; }
a=$1 b=$2 model=${3:-udnie} size=${4:-256x256} rounds=${5:-3}
for v in "$a" "$b"; do [ -x "$v" ] || { echo "compare_builds.sh: $v is not an executable" >&2; exit 1; }; done
export VKSTYLE_MODELS=${VKSTYLE_MODELS:-$here/models}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
echo "A: $a ($("$a" --version | head -1))"
echo "B: $b ($("$b" --version | head -1))"
echo "$model, $size, $rounds rounds, alternating"
for r in $(seq "$rounds"); do
    for s in a b; do
        v=$a
        [ "$s" = b ] && v=$b
        "$v" bench -m "$model" --size "$size" --iters 5 --warmup 1 --json "$tmp/${s}_$r.json" >/dev/null
    done
done
/usr/bin/python3 - "$tmp" <<'EOF'
import glob, json, statistics, sys
tmp = sys.argv[1]
def load(s):
    frames, steps = [], {}
    for f in sorted(glob.glob(f"{tmp}/{s}_*.json")):
        j = json.load(open(f))
        frames.append(j["frame"]["gpu_ms_median"])
        for i, st in enumerate(j["steps"]):
            steps.setdefault((i, st["op"], st.get("shape", "")), []).append(st["gpu_ms_median"])
    return frames, steps
fa, sa = load("a")
fb, sb = load("b")
ta = tb = 0.0
print(f"{'layer':<62} {'A ms':>8} {'B ms':>8} {'B/A':>6}")
for k in sa:
    x, y = statistics.median(sa[k]), statistics.median(sb[k])
    if "conv" in k[1]:
        ta, tb = ta + x, tb + y
    print(f"{k[0]:>3} {k[1]:<18} {k[2]:<39} {x:8.1f} {y:8.1f} {y / x if x else 0:6.2f}")
print(f"convolutions, total{'':<43} {ta:8.1f} {tb:8.1f} {tb / ta:6.3f}")
ma, mb = statistics.median(fa), statistics.median(fb)
print(f"frame GPU time, median{'':<40} {ma:8.1f} {mb:8.1f} {mb / ma:6.3f}")
print("frames A:", " ".join(f"{x:.0f}" for x in fa), " B:", " ".join(f"{x:.0f}" for x in fb))
EOF
