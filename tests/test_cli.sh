#!/bin/bash
# The vkstyle command as a user meets it: --help, errors for bad input (one clear line, exit
# code != 0, no output file left behind), and a small real run. Usage: test_cli.sh VKSTYLE SRC
set -u
vk=$1 src=$2
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
pass=0 fail=0
ok() { pass=$((pass + 1)); }
# Python checks run without the sanitizer preloads of the ASan test run
py() { env -u LD_PRELOAD /usr/bin/python3 "$@"; }
bad() { fail=$((fail + 1)); echo "FAIL: $*"; }

# expect_error "what" "message substring" args...: fails with one line and leaves no output
expect_error() {
    local what=$1 want=$2; shift 2
    rm -f "$tmp/out.png"
    "$vk" "$@" >"$tmp/stdout" 2>"$tmp/stderr"
    local rc=$? lines
    lines=$(grep -vc '^$' "$tmp/stderr")
    if [ $rc -eq 0 ]; then bad "$what: exit code 0"; return; fi
    if ! grep -q -- "$want" "$tmp/stderr"; then bad "$what: stderr lacks '$want': $(cat "$tmp/stderr")"; return; fi
    if [ "$lines" -ne 1 ]; then bad "$what: $lines lines on stderr: $(cat "$tmp/stderr")"; return; fi
    if [ -e "$tmp/out.png" ] || ls "$tmp"/.out.png* >/dev/null 2>&1; then bad "$what: output file left behind"; return; fi
    ok
}

"$vk" --help | grep -q "image" && ok || bad "vkstyle --help lists commands"
"$vk" image --help | grep -q -- "--max-side" && ok || bad "image --help lists options"
"$vk" devices | grep -q "subgroup size" && ok || bad "devices lists a device"

in="$src/tests/data/kodim05_crop333x257.png"
: >"$tmp/empty.png"
head -c 3000 "$in" >"$tmp/trunc.png"
echo "not an image" >"$tmp/text.png"
printf '\x10\x00\x00\x00\x00\x00\x00\x00{"a":' >"$tmp/corrupt.safetensors"
py - "$tmp/one.png" "$tmp/zero.png" <<'PY'
import sys, zlib, struct
def png(path, w, h):
    raw = b''.join(b'\x00' + b'\x80\x40\x20' * w for _ in range(h))
    def chunk(t, d): return struct.pack('>I', len(d)) + t + d + struct.pack('>I', zlib.crc32(t + d) & 0xffffffff)
    open(path, 'wb').write(b'\x89PNG\r\n\x1a\n' + chunk(b'IHDR', struct.pack('>IIBBBBB', w, h, 8, 2, 0, 0, 0)) +
                           chunk(b'IDAT', zlib.compress(raw)) + chunk(b'IEND', b''))
png(sys.argv[1], 1, 1); png(sys.argv[2], 0, 0)
PY

expect_error "missing input" "no such file" image -i "$tmp/nope.png" -o "$tmp/out.png"
expect_error "empty input" "empty" image -i "$tmp/empty.png" -o "$tmp/out.png"
expect_error "truncated input" "$tmp/trunc.png" image -i "$tmp/trunc.png" -o "$tmp/out.png"
expect_error "not an image" "not a PNG or JPEG" image -i "$tmp/text.png" -o "$tmp/out.png"
expect_error "0x0 image" "zero.png" image -i "$tmp/zero.png" -o "$tmp/out.png"
expect_error "unknown model" "no model named 'nosuchstyle'" image -m nosuchstyle -i "$in" -o "$tmp/out.png"
expect_error "corrupt model" "corrupt.safetensors" image -m "$tmp/corrupt.safetensors" -i "$in" -o "$tmp/out.png"
expect_error "bad extension" "unsupported output extension" image -i "$in" -o "$tmp/out.gif"
expect_error "missing -o" "required" image -i "$in"
expect_error "bad option" "unknown option" image --frobnicate -i "$in" -o "$tmp/out.png"
expect_error "bad strength" "--strength" image --strength 2 -i "$in" -o "$tmp/out.png"
expect_error "bad size" "--size" image --size 12 -i "$in" -o "$tmp/out.png"
expect_error "unknown style" "unknown style" image -s nosuch -i "$in" -o "$tmp/out.png"
expect_error "no such device" "no Vulkan 1.1 compute device matches" image --device "no such gpu" -i "$in" -o "$tmp/out.png"
expect_error "unwritable output" "$tmp/nodir/out.png" image -i "$tmp/one.png" -o "$tmp/nodir/out.png"
expect_error "not even one row fits" "use a larger --max-memory" image --max-memory 1K -i "$in" -o "$tmp/out.png"
expect_error "bad --max-memory" "--max-memory must be a size" image --max-memory 12Q -i "$in" -o "$tmp/out.png"
expect_error "zero --max-memory" "--max-memory must be a size" image --max-memory 0 -i "$in" -o "$tmp/out.png"

# a 1x1 image stylizes; --strength 0 returns the input exactly; JPEG output works
"$vk" image -q -i "$tmp/one.png" -o "$tmp/out1.png" && [ -s "$tmp/out1.png" ] && ok || bad "1x1 image"
"$vk" image -q --strength 0 -i "$tmp/one.png" -o "$tmp/same.png" && ok || bad "--strength 0 runs"
cmp -s <(py -c "from PIL import Image; import sys; print(list(Image.open(sys.argv[1]).getdata()))" "$tmp/same.png") \
       <(py -c "from PIL import Image; import sys; print(list(Image.open(sys.argv[1]).getdata()))" "$tmp/one.png") \
    && ok || bad "--strength 0 returns the input"
"$vk" image -q --max-side 40 -m "$src/models/wave.safetensors" -i "$in" -o "$tmp/small.jpg" && ok || bad "JPEG output with --max-side"
py -c "from PIL import Image; import sys; im=Image.open(sys.argv[1]); assert im.size==(40,31), im.size" "$tmp/small.jpg" \
    && ok || bad "--max-side 40 gives 40x31"

# in tiles: a budget too small for the image in one piece gives the same picture, with progress
"$vk" image -m "$src/models/udnie.safetensors" --max-memory 4M -i "$in" -o "$tmp/tiled.png" >"$tmp/tiled.txt" 2>&1 \
    && grep -q "stylizing in [0-9]* tiles within" "$tmp/tiled.txt" && grep -Eq "^vkstyle: tile ([0-9]+)/\1$" "$tmp/tiled.txt" \
    && ok || bad "image --max-memory 4M runs in tiles: $(tail -3 "$tmp/tiled.txt")"
py - "$tmp/tiled.png" "$src/tests/data/kodim05_crop333x257_udnie.png" <<'PY' && ok || bad "tiled output vs reference"
import sys, math
from PIL import Image
a, b = (list(Image.open(p).convert("RGB").getdata()) for p in sys.argv[1:])
se = sum((x - y) ** 2 for pa, pb in zip(a, b) for x, y in zip(pa, pb)) / (3 * len(a))
psnr = 10 * math.log10(255 ** 2 / se) if se else 999
print(f"# image in tiles vs reference: {psnr:.2f} dB")
assert psnr >= 45, psnr
PY
if "$vk" video --help >/dev/null 2>&1; then
    "$vk" video --max-memory 256K -i "$src/tests/data/clip.mp4" -o "$tmp/tiled.mp4" >"$tmp/vtiled.txt" 2>&1 \
        && grep -q "frames do not fit the device in one piece; each runs in" "$tmp/vtiled.txt" && grep -q "^$tmp/tiled.mp4: 8 frames" "$tmp/vtiled.txt" \
        && ok || bad "video --max-memory 256K runs in tiles: $(cat "$tmp/vtiled.txt")"
fi

# multi-style: a tiny 3-style conditional-instance-norm model made here
py - "$src" "$tmp/m3.safetensors" <<'PY'
import json, sys
import numpy as np
sys.path.insert(0, sys.argv[1] + "/tools/convert")
import safetensors_io
r = np.random.default_rng(3)
t = {"c1": (r.standard_normal((4, 3, 3, 3)) * 0.02).astype(np.float32),
     "g": r.uniform(0.5, 2, (3, 4)).astype(np.float32), "b": r.uniform(-1, 1, (3, 4)).astype(np.float32),
     "c2": (r.standard_normal((3, 4, 3, 3)) * 0.3).astype(np.float32)}
g = {"format": "vkstyle-graph", "version": 1, "name": "m3", "styles": ["a", "b", "c"], "layers": [
     {"op": "conv2d", "weight": "c1"},
     {"op": "conditional_instance_norm", "gamma": "g", "beta": "b", "eps": 1e-3, "activation": "relu"},
     {"op": "conv2d", "weight": "c2"},
     {"op": "activation", "activation": "tanh", "scale": 100, "offset": 128}]}
safetensors_io.write(sys.argv[2], t, {"vkstyle.graph": json.dumps(g)})
PY
m3="$tmp/m3.safetensors"
py -c "from PIL import Image; Image.open('$in').crop((0, 0, 24, 16)).save('$tmp/small.png')"
small="$tmp/small.png"
same() { py -c "from PIL import Image; import sys; a, b = Image.open(sys.argv[1]), Image.open(sys.argv[2]); sys.exit(list(a.getdata()) != list(b.getdata()))" "$1" "$2"; }
"$vk" image -q -m "$m3" -s b -i "$small" -o "$tmp/b.png" && "$vk" image -q -m "$m3" -s 1 -i "$small" -o "$tmp/1.png" \
    && same "$tmp/b.png" "$tmp/1.png" && ok || bad "-s NAME and -s INDEX agree"
"$vk" image -q -m "$m3" -s a=0.5,c=0.5 -i "$small" -o "$tmp/mix.png" 2>"$tmp/stderr" && ! [ -s "$tmp/stderr" ] \
    && ! same "$tmp/mix.png" "$tmp/b.png" && ok || bad "a convex mix runs quietly and differs"
"$vk" image -q -m "$m3" -s a=2,b=-1 -i "$small" -o "$tmp/x.png" 2>"$tmp/stderr" && grep -q "not a convex combination" "$tmp/stderr" \
    && ok || bad "non-convex weights warn"
expect_error "non-finite weight" "not a finite number" image -m "$m3" -s a=nan -i "$small" -o "$tmp/out.png"
expect_error "malformed mix" "expected NAME=WEIGHT" image -m "$m3" -s a=1,b -i "$small" -o "$tmp/out.png"
expect_error "unknown style in a mix" "0=a 1=b 2=c" image -m "$m3" -s a=0.5,zz=0.5 -i "$small" -o "$tmp/out.png"
expect_error "style index out of range" "unknown style '7'" image -m "$m3" -s 7 -i "$small" -o "$tmp/out.png"
"$vk" image -q -m "$m3" --mix-strip a,c --steps 3 -i "$small" -o "$tmp/strip.png" && ok || bad "--mix-strip runs"
"$vk" image -q -m "$m3" -s a -i "$small" -o "$tmp/a.png" && "$vk" image -q -m "$m3" -s c -i "$small" -o "$tmp/c.png" && ok || bad "-s a, -s c"
py - "$tmp/strip.png" "$tmp/a.png" "$tmp/c.png" <<'PY' && ok || bad "the strip runs from style a to style c"
import sys
from PIL import Image
s, a, c = (Image.open(p).convert("RGB") for p in sys.argv[1:])
assert s.size == (3 * a.width, a.height), s.size
assert list(s.crop((0, 0, a.width, a.height)).getdata()) == list(a.getdata())
assert list(s.crop((2 * a.width, 0, 3 * a.width, a.height)).getdata()) == list(c.getdata())
PY

# bench: JSON with every step, the frame and a roofline once the peak is known
export XDG_CACHE_HOME="$tmp/cache"
"$vk" bench --peak --json "$tmp/peak.json" >/dev/null 2>&1 && ok || bad "bench --peak"
"$vk" bench --size 24x16 --iters 2 --warmup 0 --compare --json "$tmp/bench.json" >"$tmp/bench.txt" 2>&1 && ok || bad "bench runs"
py - "$tmp/peak.json" "$tmp/bench.json" <<'PY' && ok || bad "bench JSON: $(cat "$tmp/bench.txt")"
import json, sys
peak, b = json.load(open(sys.argv[1]))["peak"], json.load(open(sys.argv[2]))
assert peak["fp32_gflops"] > 0 and peak["copy_gbs"] > 0, peak
assert len(b["steps"]) == 35 and b["frame"]["gpu_ms_median"] > 0, b["frame"]
assert all(s["flops"] >= 0 and s["gpu_ms_median"] >= 0 for s in b["steps"])
assert "fma_peak_share" in b["steps"][1] and len(b["compare"]) == 16
PY
expect_error "bench bad precision" "must be fp32, fp16 or auto" bench --precision fp64
"$vk" bench --size 24x16 --iters 2 --warmup 0 --precision fp16 --json "$tmp/bench16.json" >"$tmp/bench16.txt" 2>&1 && ok || bad "bench fp16 runs"
py - "$tmp/bench.json" "$tmp/bench16.json" <<'PY' && ok || bad "bench fp16 JSON: $(cat "$tmp/bench16.txt")"
import json, sys
b32, b16 = (json.load(open(p)) for p in sys.argv[1:])
assert b32["precision"] == "fp32" and b16["precision"] == "fp16", (b32["precision"], b16["precision"])
# same work, fewer bytes: activations are half the size (weights stay fp32)
assert b16["frame"]["flops"] == b32["frame"]["flops"]
assert b16["frame"]["bytes"] < b32["frame"]["bytes"], (b16["frame"]["bytes"], b32["frame"]["bytes"])
norms = [(x["bytes"], y["bytes"]) for x, y in zip(b16["steps"], b32["steps"]) if x["op"] == "instance_norm"]
assert len(norms) == 16 and all(2 * x == y for x, y in norms), norms
PY

# fp16 activations: the reference image within 40 dB, and the run says which precision it used
"$vk" image -m "$src/models/udnie.safetensors" -i "$in" -o "$tmp/fp16.png" --precision fp16 >"$tmp/fp16.txt" 2>&1 \
    && grep -q "(fp16)" "$tmp/fp16.txt" && ok || bad "image --precision fp16: $(cat "$tmp/fp16.txt")"
py - "$tmp/fp16.png" "$src/tests/data/kodim05_crop333x257_udnie.png" <<'PY' && ok || bad "fp16 output vs reference"
import sys, math
from PIL import Image
a, b = (list(Image.open(p).convert("RGB").getdata()) for p in sys.argv[1:])
se = sum((x - y) ** 2 for pa, pb in zip(a, b) for x, y in zip(pa, pb)) / (3 * len(a))
psnr = 10 * math.log10(255 ** 2 / se) if se else 999
print(f"# image --precision fp16 vs reference: {psnr:.2f} dB")
assert 40 <= psnr < 999, psnr
PY
expect_error "image bad precision" "must be fp32, fp16 or auto" image -i "$in" -o "$tmp/out.png" --precision half

echo "$pass passed, $fail failed"
[ "$fail" -eq 0 ]
