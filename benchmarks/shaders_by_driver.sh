#!/bin/bash
# The frame's GPU time per shader variant on two Vulkan drivers, the same binary: `vkstyle bench
# --shaders` on the system driver and on Mesa 25 (scripts/mesa25.sh), alternately, ROUNDS rounds;
# prints each variant's median on both and their ratio. Where one driver compiles the same SPIR-V
# worse than the other (benchmarks/README.md: Mesa 22.3 against Mesa 25 lavapipe).
#   bash benchmarks/shaders_by_driver.sh [MODEL] [SIZE] [ROUNDS]
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
model=${1:-udnie} size=${2:-256x256} rounds=${3:-3}
vk=$here/build/vkstyle
[ -x "$vk" ] || { echo "shaders_by_driver.sh: build first (bash scripts/build.sh)" >&2; exit 1; }
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
for r in $(seq "$rounds"); do
    "$vk" bench -m "$model" --size "$size" --iters 3 --warmup 1 --shaders --json "$tmp/system.$r.json" >/dev/null
    bash "$here/scripts/mesa25.sh" "$vk" bench -m "$model" --size "$size" --iters 3 --warmup 1 --shaders \
        --json "$tmp/mesa25.$r.json" >/dev/null
    echo "round $r of $rounds done" >&2
done
/usr/bin/python3 - "$tmp" "$rounds" "$model" "$size" <<'PY'
import json, statistics, sys
tmp, rounds, model, size = sys.argv[1], int(sys.argv[2]), sys.argv[3], sys.argv[4]
ms, drv = {"system": {}, "mesa25": {}}, {}
for d in ms:
    for r in range(1, rounds + 1):
        b = json.load(open(f"{tmp}/{d}.{r}.json"))
        drv[d] = b["driver"]
        for s in b["shaders"]:
            ms[d].setdefault(s["shader"], []).append(s["gpu_ms"])
print(f"{model} {size}, GPU ms per frame, median of {rounds} alternating rounds")
print(f"system: {drv['system']}\nmesa25: {drv['mesa25']}")
print(f"| shader | system | mesa25 | system / mesa25 |\n|---|---|---|---|")
names = sorted(set(ms["system"]) | set(ms["mesa25"]), key=lambda n: -statistics.median(ms["system"].get(n, [0])))
tot = {"system": 0.0, "mesa25": 0.0}
for n in names:
    a, b = (statistics.median(ms[d][n]) if n in ms[d] else None for d in ("system", "mesa25"))
    tot["system"] += a or 0
    tot["mesa25"] += b or 0
    fa, fb = (f"{v:.1f}" if v is not None else "-" for v in (a, b))
    print(f"| {n} | {fa} | {fb} | {a / b:.2f} |" if a and b else f"| {n} | {fa} | {fb} | - |")
print(f"| all | {tot['system']:.1f} | {tot['mesa25']:.1f} | {tot['system'] / tot['mesa25']:.2f} |")
PY
