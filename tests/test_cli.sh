#!/bin/bash
# The vkstyle command as a user meets it: --help, errors for bad input (one clear line, exit
# code != 0, no output file left behind), and a small real run. Usage: test_cli.sh VKSTYLE SRC
set -u
vk=$1 src=$2
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
# only vkstyle gets the sanitizer stage's preloads (tests/preload.sh)
. "$(dirname "$0")/preload.sh"
wrap_preload "$tmp"
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
"$vk" --help | grep -q "^  convert " && ok || bad "vkstyle --help lists convert"
"$vk" convert --help | grep -q -- "--input-range" && ok || bad "convert --help lists its options"
"$vk" devices | grep -q "subgroup size" && ok || bad "devices lists a device"
"$vk" --version | head -1 | grep -qE '^vkstyle [0-9]+\.[0-9]+\.[0-9]+$' && ok || bad "--version: $("$vk" --version)"
"$vk" --version | grep -qE '^device: .+ \((discrete|integrated|virtual|cpu|other)\), Vulkan ' && ok || bad "--version names the device"
VKSTYLE_DEVICE=nope "$vk" --version | grep -q "^device: none (.*'nope'" && ok || bad "--version without a device: $(VKSTYLE_DEVICE=nope "$vk" --version)"

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
expect_error "bad input range" "--input-range must be 0..255, 0..1 or -1..1" image --input-range 0..2 -i "$in" -o "$tmp/out.png"
expect_error "convert without -o" "give one IN.onnx and -o OUT.safetensors" convert "$tmp/x.onnx"
expect_error "convert a non-ONNX file" "expected an .onnx file" convert "$in" -o "$tmp/out.png"
expect_error "convert a missing file" "nope.onnx: No such file" convert "$tmp/nope.onnx" -o "$tmp/out.png"
expect_error "missing ONNX model" "nope.onnx" image -m "$tmp/nope.onnx" -i "$in" -o "$tmp/out.png"
expect_error "bad size" "--size" image --size 12 -i "$in" -o "$tmp/out.png"
expect_error "unknown style" "unknown style" image -s nosuch -i "$in" -o "$tmp/out.png"
expect_error "no such device" "no Vulkan 1.1 compute device matches" image --device "no such gpu" -i "$in" -o "$tmp/out.png"
expect_error "unwritable output" "$tmp/nodir/out.png" image -i "$tmp/one.png" -o "$tmp/nodir/out.png"
# ... and before the device and the model are set up (the device error would come first otherwise)
expect_error "unwritable output, checked first" "nodir/out.png: cannot write" image --device "no such gpu" -i "$tmp/one.png" -o "$tmp/nodir/out.png"
expect_error "not even one row fits" "use a larger --max-memory" image --max-memory 1K -i "$in" -o "$tmp/out.png"
expect_error "bad --max-memory" "--max-memory must be a size" image --max-memory 12Q -i "$in" -o "$tmp/out.png"
expect_error "zero --max-memory" "--max-memory must be a size" image --max-memory 0 -i "$in" -o "$tmp/out.png"

# a progressive JPEG cut in or just after one of its first scan headers: a JPEG error on one line, never stb's
# leftover "bad png sig" (stb tries its PNG decoder first)
py - "$in" "$tmp/prog.jpg" >"$tmp/cuts" <<'PY'
from PIL import Image
import sys
Image.open(sys.argv[1]).crop((0, 0, 48, 32)).save(sys.argv[2], progressive=True, quality=90)
d, i, scans = open(sys.argv[2], "rb").read(), 2, 0
while i + 4 <= len(d) and d[i] == 0xff and d[i + 1] != 0xd9 and scans < 2:
    n = d[i + 2] << 8 | d[i + 3]
    if d[i + 1] == 0xda:
        print(*range(i + 2, i + 2 + n + 2))
        i, scans = i + 2 + n, scans + 1
        while i + 1 < len(d) and not (d[i] == 0xff and d[i + 1] not in (0, *range(0xd0, 0xd8))): i += 1
    else:
        i += 2 + n
PY
cuts=0 wrong=""
for k in $(cat "$tmp/cuts"); do
    head -c $k "$tmp/prog.jpg" >"$tmp/cut.jpg"
    # (no device: a cut that still decodes stops there, after the image was read)
    "$vk" image --device "no such gpu" -i "$tmp/cut.jpg" -o "$tmp/out.png" >/dev/null 2>"$tmp/stderr"
    grep -q "no Vulkan 1.1 compute device matches" "$tmp/stderr" && continue
    cuts=$((cuts + 1))
    if grep -q "png" "$tmp/stderr" || [ "$(wc -l <"$tmp/stderr")" -ne 1 ]; then wrong="$k: $(cat "$tmp/stderr")"; break; fi
done
[ -z "$wrong" ] && [ $cuts -gt 0 ] && ok || bad "progressive JPEG cut at $wrong"

# numbers are refused, not wrapped or read as 0 (each would otherwise pass on to the missing input)
"$vk" video --help >/dev/null 2>&1 && media=1 || media=0
nope="$tmp/nope.png"
expect_error "negative --size wraps" "--size must be WxH" image --size -18446744073709551584x-18446744073709551592 -i "$nope" -o "$tmp/out.png"
expect_error "negative --max-side wraps" "--max-side must be an integer in 1..32768" image --max-side -18446744073709551600 -i "$nope" -o "$tmp/out.png"
expect_error "--steps past 32 bits" "--steps must be an integer in 2..64" image --steps 4294967298 -i "$nope" -o "$tmp/out.png"
expect_error "--quality past 32 bits" "--quality must be" image --quality 4294967346 -i "$nope" -o "$tmp/out.png"
expect_error "empty --strength" "--strength must be a number in 0..1, not ''" image --strength "" -i "$nope" -o "$tmp/out.png"
expect_error "--iters past 32 bits" "--iters must be an integer in 1..100000" bench --iters 4294967297 -m nosuchstyle
expect_error "empty --warmup" "--warmup must be" bench --warmup "" -m nosuchstyle
if [ $media -eq 1 ]; then
    expect_error "--crf past 32 bits" "--crf must be an integer in 0..51" video --crf 4294967306 -i "$nope" -o "$tmp/out.mp4"
    expect_error "empty --crf" "--crf must be" video --crf "" -i "$nope" -o "$tmp/out.mp4"
    expect_error "--keyint with a sign" "--keyint" video --keyint +5 -i "$nope" -o "$tmp/out.mp4"
    expect_error "--frames past 64 bits" "--frames must be" live --frames 99999999999999999999 --source "$nope"
fi

# only regular files are read: a FIFO used to block forever, a directory was "9223372036854775807 bytes"
printf '#!/bin/bash\nexec timeout 60 "$@"\n' >"$tmp/t60" && chmod +x "$tmp/t60"
mkfifo "$tmp/fifo.safetensors" "$tmp/fifo.png"
mkdir -p "$tmp/dir.safetensors" "$tmp/md/one.safetensors"
vk_real=$vk vk="$tmp/t60"
expect_error "FIFO as the model" "fifo.safetensors': not a regular file" "$vk_real" image -m "$tmp/fifo.safetensors" -i "$tmp/one.png" -o "$tmp/out.png"
expect_error "FIFO as the input" "fifo.png: not a regular file" "$vk_real" image -i "$tmp/fifo.png" -o "$tmp/out.png"
vk=$vk_real
expect_error "directory as the model" "dir.safetensors': is a directory" image -m "$tmp/dir.safetensors" -i "$tmp/one.png" -o "$tmp/out.png"
VKSTYLE_MODELS="$tmp/md" expect_error "a directory in VKSTYLE_MODELS is no model" "no model named 'one'" image -m one -i "$tmp/one.png" -o "$tmp/out.png"

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
PYTHONPATH="$src" py - "$src" "$tmp/m3.safetensors" <<'PY'
import json, sys
import numpy as np
from tools.convert import safetensors_io
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

# hostile names and values in model files: every message one line with control characters escaped,
# nothing raw on stdout; style names that -s cannot select and non-finite weights are refused
py - "$tmp" <<'PY'
import json, struct, sys
import numpy as np
d = sys.argv[1]
def raw(name, tensors, graph=None, extra=None):
    """tensors: [(name, dtype, shape, bytes)], written as they are (no checks)."""
    h, blobs, off = {}, [], 0
    if graph: h["__metadata__"] = {"vkstyle.graph": json.dumps(graph)}
    for n, dt, shape, b in tensors:
        h[n] = {"dtype": dt, "shape": shape, "data_offsets": [off, off + len(b)]}
        h[n].update((extra or {}).get(n, {}))
        blobs.append(b); off += len(b)
    t = json.dumps(h, ensure_ascii=False).encode()
    t += b" " * (-len(t) % 8)
    open(f"{d}/{name}.safetensors", "wb").write(struct.pack("<Q", len(t)) + t + b"".join(blobs))
r = np.random.default_rng(3)
f32 = lambda a: ("F32", list(a.shape), np.asarray(a, np.float32).tobytes())
c1, c2 = r.standard_normal((4, 3, 3, 3)) * 0.02, r.standard_normal((3, 4, 3, 3)) * 0.3
g, b = r.uniform(0.5, 2, (3, 4)), r.uniform(-1, 1, (3, 4))
def m3(name, styles=("a", "b", "c"), layer0={}, more=(), model="m3"):
    graph = {"format": "vkstyle-graph", "version": 1, "name": model, "styles": list(styles), "layers": [
        dict({"op": "conv2d", "weight": "c1"}, **layer0),
        {"op": "conditional_instance_norm", "gamma": "g", "beta": "b", "eps": 1e-3, "activation": "relu"},
        {"op": "conv2d", "weight": "c2"},
        {"op": "activation", "activation": "tanh", "scale": 100, "offset": 128}]}
    raw(name, [("b",) + f32(b), ("c1",) + f32(c1), ("c2",) + f32(c2), ("g",) + f32(g)] + list(more), graph)
raw("ctl_tensor", [("x\ny", "I8", [1], b"\0")])
raw("ctl_dtype", [("t", "F\n32", [1], b"\0" * 4)])
raw("ctl_key", [("t", "F32", [1], b"\0" * 4)], extra={"t": {"a\nb": 1}})
m3("ctl_layer", layer0={"input": "q\nq"})
m3("ctl_style", styles=("a", "b\nc", "b\nc"))
m3("eq_style", styles=("a=1", "b", "c"))
m3("comma_style", styles=("a", "b,c", "d"))
m3("esc_name", model="\x1b[2J\x1b[31mEVIL", layer0={"name": "c\x1b[31m1"})
m3("nan_unused", more=[("unused", "F32", [2], np.array([0, np.nan], np.float32).tobytes())])
bn = {"format": "vkstyle-graph", "version": 1, "name": "bn", "styles": ["a"], "layers": [
      {"op": "conv2d", "weight": "c1"},
      {"op": "batch_norm", "mean": "m", "var": "v", "gamma": "ga", "beta": "be", "eps": 1e-12},
      {"op": "conv2d", "weight": "c2"}]}
z = np.zeros(4)
raw("bn_inf", [("be",) + f32(z), ("c1",) + f32(c1), ("c2",) + f32(c2), ("ga",) + f32(z + 1e38), ("m",) + f32(z), ("v",) + f32(z)], bn)
PY
expect_error "newline in a tensor name" 'x\\ny' image -m "$tmp/ctl_tensor.safetensors" -i "$small" -o "$tmp/out.png"
expect_error "newline in a dtype" 'F\\n32' image -m "$tmp/ctl_dtype.safetensors" -i "$small" -o "$tmp/out.png"
expect_error "newline in a key" 'a\\nb' image -m "$tmp/ctl_key.safetensors" -i "$small" -o "$tmp/out.png"
expect_error "newline in a layer name" 'q\\nq' image -m "$tmp/ctl_layer.safetensors" -i "$small" -o "$tmp/out.png"
expect_error "newline in a style name" 'b\\nc' image -m "$tmp/ctl_style.safetensors" -i "$small" -o "$tmp/out.png"
expect_error "'=' in a style name" "style 0 'a=1': style names may not hold" image -m "$tmp/eq_style.safetensors" -s b -i "$small" -o "$tmp/out.png"
expect_error "',' in a style name" "style 1 'b,c': style names may not hold" image -m "$tmp/comma_style.safetensors" -i "$small" -o "$tmp/out.png"
"$vk" image -m "$tmp/esc_name.safetensors" -i "$small" -o "$tmp/esc.png" >"$tmp/stdout" 2>&1 && grep -qF '\x1b[2J\x1b[31mEVIL' "$tmp/stdout" \
    && ! grep -q $'\x1b' "$tmp/stdout" && ok || bad "a model name with escape sequences is printed raw: $(cat -v "$tmp/stdout")"
"$vk" bench -m "$tmp/esc_name.safetensors" --size 8x8 --iters 1 --warmup 0 >"$tmp/stdout" 2>&1 && grep -qF 'c\x1b[31m1' "$tmp/stdout" \
    && ! grep -q $'\x1b' "$tmp/stdout" && ok || bad "bench prints a layer name with escape sequences raw: $(cat -v "$tmp/stdout")"
expect_error "NaN in an unused tensor" "tensor 'unused': element 1 is NaN" image -m "$tmp/nan_unused.safetensors" -i "$small" -o "$tmp/out.png"
expect_error "batch norm folded to infinity" "not finite" image -m "$tmp/bn_inf.safetensors" -i "$small" -o "$tmp/out.png"

# past a file-size limit (ulimit -f 1: 1 KiB) a write fails with one line and leaves nothing behind;
# SIGXFSZ used to kill the process (exit 153, no message) and leave the temporary file
printf '#!/bin/bash\nulimit -f 1\nexec "$@"\n' >"$tmp/fsize" && chmod +x "$tmp/fsize"
# Drivers that back device memory with files (Mesa 25 lavapipe, workaround memfd-file-size-limit
# in `vkstyle devices`) are refused the allocation first, with one line and nothing left behind.
fsize_msg="write failed: File too large"
"$vk" devices | grep -q "memfd-file-size-limit" && fsize_msg="backs device memory with a file"
vk_real=$vk vk="$tmp/fsize"
expect_error "image past ulimit -f" "${fsize_msg/write/out.png: write}" "$vk_real" image -q -m "$m3" --mix-strip a,c --steps 8 -i "$small" -o "$tmp/out.png"
vk=$vk_real
# bench --json: all or nothing (an existing file stays as it was), and a lost stdout is an error
echo old >"$tmp/keep.json"
"$tmp/fsize" "$vk" bench -m "$m3" --size 8x8 --iters 1 --warmup 0 --json "$tmp/keep.json" >/dev/null 2>"$tmp/stderr"
rc=$?
[ $rc -eq 1 ] && grep -q "${fsize_msg/write/keep.json: write}" "$tmp/stderr" && [ "$(cat "$tmp/keep.json")" = old ] \
    && ! ls "$tmp"/.keep.json* >/dev/null 2>&1 && ok || bad "bench --json past ulimit -f: exit $rc, $(cat "$tmp/stderr")"
"$vk" bench -m "$m3" --size 8x8 --iters 1 --warmup 0 --json - >/dev/full 2>"$tmp/stderr"
rc=$?
[ $rc -eq 1 ] && grep -q "No space left on device" "$tmp/stderr" && ok || bad "bench --json - >/dev/full: exit $rc"

# bench: JSON with every step, the frame and a roofline once the peak is known. A cache folder of
# its own, so that the peak is measured here, seeded with the pipeline caches the runs above used
# (compiling every pipeline again cost a minute under ASan)
outer_cache="${XDG_CACHE_HOME:-${HOME:-/nonexistent}/.cache}/vkstyle"
export XDG_CACHE_HOME="$tmp/cache"
mkdir -p "$tmp/cache/vkstyle"
cp "$outer_cache"/*.bin "$tmp/cache/vkstyle/" 2>/dev/null
"$vk" bench --peak --json "$tmp/peak.json" >/dev/null 2>&1 && ok || bad "bench --peak"
"$vk" bench --size 24x16 --iters 2 --warmup 0 --compare --json "$tmp/bench.json" >"$tmp/bench.txt" 2>&1 && ok || bad "bench runs"
py - "$tmp/peak.json" "$tmp/bench.json" <<'PY' && ok || bad "bench JSON: $(cat "$tmp/bench.txt")"
import json, sys
peak, b = json.load(open(sys.argv[1]))["peak"], json.load(open(sys.argv[2]))
assert peak["fp32_gflops"] > 0 and peak["copy_gbs"] > 0 and peak["dispatch_us"] > 0, peak
assert len(b["steps"]) == 35 and b["frame"]["gpu_ms_median"] > 0, b["frame"]
assert all(s["flops"] >= 0 and s["gpu_ms_median"] >= 0 for s in b["steps"])
assert b["frame"]["dispatches"] == sum(s["dispatches"] for s in b["steps"]) > 0, b["frame"]
assert all(s["dispatches"] == 1 for s in b["steps"] if s["op"] in ("pack_rgb8", "unpack_rgba8", "instance_norm"))
assert "fma_peak_share" in b["steps"][1] and len(b["compare"]) == 16
# the peaks as cached by --peak, every field
assert all(b["peak"][k] == peak[k] for k in peak), (b["peak"], peak)
PY
# The peaks are the device's and the driver's: lavapipe under LP_NATIVE_VECTOR_WIDTH=512 (another
# name: "512 bits") compiles other code, so the peaks measured above are not its (the cache file
# was keyed by vendor and device id only, which Mesa 22.3 and 25 lavapipe share). Where the setting
# does not change the device's name (not lavapipe, or no AVX-512), there is nothing to check.
name256=$("$vk" devices 2>/dev/null | head -1)
name512=$(LP_NATIVE_VECTOR_WIDTH=512 "$vk" devices 2>/dev/null | head -1)
if [ -n "$name512" ] && [ "$name512" != "$name256" ]; then
    LP_NATIVE_VECTOR_WIDTH=512 VKSTYLE_TUNE=0 "$vk" bench --size 8x8 --iters 1 --warmup 0 --json "$tmp/bench512.json" \
        >/dev/null 2>&1 && ok || bad "bench at 512 bits"
    py - "$tmp/bench512.json" <<'PY' && ok || bad "bench at 512 bits used the 256-bit peaks"
import json, sys
b = json.load(open(sys.argv[1]))
assert "peak" not in b and not any("fma_peak_share" in s for s in b["steps"]), b.get("peak")
PY
else
    echo "# not checked: LP_NATIVE_VECTOR_WIDTH=512 leaves the device's name as it is ($name256)"
fi
expect_error "bench bad precision" "must be fp32, fp16 or auto" bench --precision fp64
# bench --paced: 'ready' after the warm-up, then per line of input one line of two positive times,
# the GPU's within the wall's
printf '\n\n\n' | "$vk" bench --size 12x10 --warmup 1 --paced >"$tmp/paced.txt" 2>"$tmp/paced.err" \
    && [ "$(head -1 "$tmp/paced.txt")" = ready ] && [ "$(wc -l <"$tmp/paced.txt")" -eq 4 ] \
    && tail -n +2 "$tmp/paced.txt" | awk 'NF != 2 || !($1 > 0) || !($2 > 0) || $2 > $1 { exit 1 }' \
    && ok || bad "bench --paced: $(cat "$tmp/paced.txt" "$tmp/paced.err")"
expect_error "bench --paced --json" "--paced prints only" bench --paced --json "$tmp/x.json"
expect_error "bench --paced --shaders" "--paced prints only" bench --paced --shaders
# bench --shaders: a table of shader variants, and in the JSON every dispatch of the frame among them
"$vk" bench --size 24x16 --iters 2 --warmup 0 --shaders --json "$tmp/sh.json" >"$tmp/sh.txt" 2>&1 \
    && grep -q "^GPU ms per shader variant" "$tmp/sh.txt" && py - "$tmp/sh.json" <<'PY' && ok || bad "bench --shaders: $(cat "$tmp/sh.txt")"
import json, sys
b = json.load(open(sys.argv[1]))
sh = b["shaders"]
assert sh and all(s["gpu_ms"] > 0 and s["dispatches"] > 0 and s["shader"] for s in sh), sh
assert sum(s["dispatches"] for s in sh) == b["frame"]["dispatches"], (sh, b["frame"])
assert any(s["shader"] == "pack_rgb8" for s in sh), sh
PY
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

# fp16 activations: the run says which precision it used, and its picture is within 40 dB of
# fp32's (test_session holds both precisions to the reference images; a small size here, as the
# full one cost 25 s under ASan)
"$vk" image -q -m "$src/models/udnie.safetensors" --max-side 64 -i "$in" -o "$tmp/fp32s.png" \
    && "$vk" image -m "$src/models/udnie.safetensors" --max-side 64 -i "$in" -o "$tmp/fp16.png" --precision fp16 >"$tmp/fp16.txt" 2>&1 \
    && grep -q "(fp16)" "$tmp/fp16.txt" && ok || bad "image --precision fp16: $(cat "$tmp/fp16.txt")"
py - "$tmp/fp16.png" "$tmp/fp32s.png" <<'PY' && ok || bad "fp16 output vs fp32's"
import sys, math
from PIL import Image
a, b = (list(Image.open(p).convert("RGB").getdata()) for p in sys.argv[1:])
se = sum((x - y) ** 2 for pa, pb in zip(a, b) for x, y in zip(pa, pb)) / (3 * len(a))
psnr = 10 * math.log10(255 ** 2 / se) if se else 999
print(f"# image --precision fp16 vs fp32: {psnr:.2f} dB")
assert 40 <= psnr < 999, psnr
PY
expect_error "image bad precision" "must be fp32, fp16 or auto" image -i "$in" -o "$tmp/out.png" --precision half

# Sizes are checked from the image's header before its pixels are decoded: a genuine 8000x8000 PNG
# (192 MB of pixels; stb needs twice that to decode it) that the command refuses is refused without
# decoding it. The refusal's peak resident memory is compared with that of the same refusal of a
# small image: the decode was 400 MB more, the compressed file is 0.5 MB.
py - "$tmp/big.png" 8000 8000 <<'PY'
import sys, zlib, struct
path, w, h = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
def chunk(t, d): return struct.pack('>I', len(d)) + t + d + struct.pack('>I', zlib.crc32(t + d) & 0xffffffff)
z = zlib.compressobj(9)
row = b'\x00' + bytes(range(0, 240, 8)) * (w // 10)  # filter byte, then a 10-pixel gradient repeated
idat = b''.join(z.compress(row) for _ in range(h)) + z.flush()
open(path, 'wb').write(b'\x89PNG\r\n\x1a\n' + chunk(b'IHDR', struct.pack('>IIBBBBB', w, h, 8, 2, 0, 0, 0)) +
                       chunk(b'IDAT', idat) + chunk(b'IEND', b''))
PY
py -c "from PIL import Image; im = Image.open('$tmp/big.png'); im.load(); assert im.size == (8000, 8000)" \
    && ok || bad "the 8000x8000 PNG is a valid image"
# peak_kb WANT ARGS...: the peak resident set (KiB) of a vkstyle run that must fail within 2
# minutes with one line on stderr containing WANT
peak_kb() {
    VKS_PRELOAD="${LD_PRELOAD:-}" py - "$@" "$vk" <<'PY'
import os, resource, subprocess, sys
want, args = sys.argv[1], sys.argv[2:]
args = args[-1:] + args[:-1]
env = dict(os.environ)
if env.get("VKS_PRELOAD"): env["LD_PRELOAD"] = env["VKS_PRELOAD"]
r = subprocess.run(args, env=env, capture_output=True, text=True, timeout=120)
assert r.returncode != 0 and r.stderr.count("\n") == 1 and want in r.stderr, (r.returncode, r.stderr)
print(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)
PY
}
expect_error "big image, not even one row fits" "big.png: a 8000x8000 image" image --max-memory 1K -i "$tmp/big.png" -o "$tmp/out.png"
small_kb=$(peak_kb "use a larger --max-memory" image --max-memory 1K -i "$in" -o "$tmp/out.png")
big_kb=$(peak_kb "use a larger --max-memory" image --max-memory 1K -i "$tmp/big.png" -o "$tmp/out.png")
# a --mix-strip wider than an image may be (7 x 8000 > 32768) was refused only when saving it, after
# decoding and stylizing
strip_kb=$(peak_kb "--mix-strip output: image is 56000x8000, larger than 32768" \
    image -m "$m3" --mix-strip a,c --steps 7 -i "$tmp/big.png" -o "$tmp/out.png")
echo "# peak RSS of refusals: small image ${small_kb} KiB, 8000x8000 (one row too large) ${big_kb} KiB, (strip too wide) ${strip_kb} KiB"
[ -n "$small_kb" ] && [ -n "$big_kb" ] && [ $((big_kb - small_kb)) -lt 65536 ] \
    && ok || bad "8000x8000 refused for --max-memory after decoding it: ${big_kb} KiB vs ${small_kb} KiB"
[ -n "$small_kb" ] && [ -n "$strip_kb" ] && [ $((strip_kb - small_kb)) -lt 65536 ] \
    && ok || bad "8000x8000 strip refused late: '${strip_kb}' KiB vs ${small_kb} KiB"
rm -f "$tmp/big.png"

# the tuner (ctest pins VKSTYLE_TUNE=0 for every other run): bench --tune times every variant of
# each convolution, prints them with the winner starred, and caches the choices beside the
# pipeline cache; a run takes them from there without timing anything
env -u VKSTYLE_TUNE "$vk" bench -m "$m3" --size 12x10 --iters 1 --warmup 0 --tune >"$tmp/tune.out" 2>"$tmp/tune.err"
rc=$?
[ $rc -eq 0 ] && grep -q 'winograd F(2x2)' "$tmp/tune.out" && [ "$(grep -c ' \*[a-z]' "$tmp/tune.out")" -ge 1 ] \
    && grep -q 'timing convolution variants' "$tmp/tune.err" && ls "$tmp/cache/vkstyle/"*.tune >/dev/null 2>&1 \
    && ok || bad "bench --tune: exit $rc: $(cat "$tmp/tune.out" "$tmp/tune.err")"
env -u VKSTYLE_TUNE "$vk" image -q -m "$m3" -i "$small" -o "$tmp/tuned.png" 2>/dev/null   # its own shapes: timed
env -u VKSTYLE_TUNE "$vk" image -m "$m3" -i "$small" -o "$tmp/tuned.png" >/dev/null 2>"$tmp/tune2.err"
rc=$?
[ $rc -eq 0 ] && ! grep -q 'timing convolution variants' "$tmp/tune2.err" \
    && ok || bad "a second run timed again (exit $rc): $(cat "$tmp/tune2.err")"
env -u VKSTYLE_TUNE "$vk" bench -m "$m3" --size 12x10 --iters 1 --warmup 0 2>/dev/null \
    | grep -q 'convolution variants: 0 layers timed now, [1-9][0-9]* from the cache' \
    && ok || bad "bench after bench --tune: the choices not from the cache"

# a FIFO where a cache file is expected is ignored (each used to block the run forever)
for c in "$tmp/cache/vkstyle/"*.bin "$tmp/cache/vkstyle/"peak-*.json; do rm -f "$c" && mkfifo "$c"; done
timeout 60 "$vk" image -q -m "$m3" -i "$small" -o "$tmp/fifo_cache.png" && ok || bad "a FIFO as the pipeline cache: exit $?"
timeout 60 "$vk" bench -m "$m3" --size 8x8 --iters 1 --warmup 0 >/dev/null 2>&1 && ok || bad "a FIFO as the peak cache: exit $?"

echo "$pass passed, $fail failed"
[ "$fail" -eq 0 ]
