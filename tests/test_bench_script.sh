#!/bin/bash
# benchmarks/bench_vs_pytorch.py and ab_frames.py end to end at a tiny size: the paced vkstyle and
# PyTorch processes start each round, every pair is timed on both sides and the JSON holds them.
# Not a measurement (benchmarks are not tests).
# Usage: test_bench_script.sh PYTHON VKSTYLE SRC
set -u   # no -e: under the sanitizer stage LeakSanitizer gives mktemp, run before the wrapper, a non-zero exit
py=$1 vk=$2 src=$3
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
# only vkstyle gets the sanitizer stage's preloads, not Python (tests/preload.sh)
. "$(dirname "$0")/preload.sh"
wrap_preload "$tmp"
cd "$src" || exit 1
"$py" -m benchmarks.bench_vs_pytorch --vkstyle "$vk" --size 16x16 --rounds 2 --iters 2 \
    --json "$tmp/r.json" >"$tmp/out.txt" 2>&1 || { cat "$tmp/out.txt"; exit 1; }
"$py" - "$tmp/r.json" <<'PY' || { cat "$tmp/out.txt"; exit 1; }
import json, sys
r = json.load(open(sys.argv[1]))
assert r["keys"] == ["fp32"] and len(r["frames"]["pytorch"]) == 4, r
f = r["fp32"]
assert len(f["frames"]["wall"]) == 4 and all(v > 0 for v in f["frames"]["wall"] + f["frames"]["gpu"]), f
assert f["pair_ratio"] > 0 and f["ratio"] > 0 and f["driver"], f
assert len(f["rounds_pair_ratio"]) == 2 and all(v > 0 for v in f["rounds_pair_ratio"]), f
PY
grep -q "^| 16x16 |" "$tmp/out.txt" || { echo "no ratio table"; cat "$tmp/out.txt"; exit 1; }
# benchmarks/ab_frames.py likewise: two paced sides, one with an environment variable of its own
"$py" -m benchmarks.ab_frames --a "$vk" --b-env VKSTYLE_WINO_IN_UBO=0 --size 16x16 --rounds 2 --frames 2 --warmup 1 \
    >"$tmp/ab.txt" 2>&1 || { cat "$tmp/ab.txt"; exit 1; }
grep -q "^B: .*VKSTYLE_WINO_IN_UBO=0" "$tmp/ab.txt" \
    && [ "$(grep -Ec "^  round [12]/2: A [0-9.]+ ms, B [0-9.]+ ms, B / A [0-9.]+$" "$tmp/ab.txt")" -eq 2 ] \
    && grep -Eq "^B / A, median of the pairs' wall ratios: [0-9.]+ .*rounds' [0-9.]+-[0-9.]+$" "$tmp/ab.txt" \
    || { echo "ab_frames.py: no result"; cat "$tmp/ab.txt"; exit 1; }
