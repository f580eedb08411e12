#!/bin/bash
# cmake --install into a temporary prefix, then what a user of the installed package does: build
# examples/stylize.c with find_package(vkstyle) and with pkg-config, run both on a tiny image (two
# styles of styles9 mixed) and check the outputs against `vkstyle image` from the same prefix;
# the installed Python binding the same way.
#   test_install.sh BUILD_DIR SOURCE_DIR VERSION CC PYTHON
set -euo pipefail
build=$1 src=$2 version=$3 cc=$4 python=$5
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
prefix=$tmp/prefix
fail() { echo "FAIL: $*" >&2; exit 1; }
t0=$(date +%s%N)

cmake --install "$build" --prefix "$prefix" >/dev/null
pc=$(find "$prefix" -name vkstyle.pc)
[ -n "$pc" ] || fail "no vkstyle.pc installed"
libdir=$(dirname "$(dirname "$pc")")
models=$prefix/share/vkstyle/models
for f in include/vkstyle/vkstyle.h include/vkstyle/vkstyle_vulkan.h bin/vkstyle \
         share/vkstyle/models/styles9.safetensors share/vkstyle/models/LICENSE.ml5 \
         "${libdir#"$prefix"/}/cmake/vkstyle/vkstyleConfig.cmake" \
         "${libdir#"$prefix"/}/cmake/vkstyle/vkstyleConfigVersion.cmake"; do
    [ -e "$prefix/$f" ] || fail "$f not installed"
done
if [ -e "$libdir/libvkstyle.a" ]; then
    kind=static
else
    kind=shared
    soname=$(readelf -d "$libdir/libvkstyle.so" | sed -n 's/.*SONAME.*\[\(.*\)\]/\1/p')
    [ -n "$soname" ] && [ -e "$libdir/$soname" ] || fail "libvkstyle.so has no SONAME or $libdir/$soname is missing"
    echo "shared library: $(basename "$(readlink -f "$libdir/libvkstyle.so")"), SONAME $soname"
fi
grep -rqF -e "$src" -e "$build" "$prefix/include" "$libdir/cmake" "$pc" && fail "an installed file names the build or source tree"
[ "$("$prefix/bin/vkstyle" --version | head -1)" = "vkstyle $version" ] || fail "vkstyle --version: $("$prefix/bin/vkstyle" --version)"

# the example, both ways
cmake -S "$src/examples" -B "$tmp/example" -DCMAKE_PREFIX_PATH="$prefix" -DCMAKE_C_COMPILER="$cc" >/dev/null
cmake --build "$tmp/example" >/dev/null
export PKG_CONFIG_PATH=$libdir/pkgconfig
[ "$(pkg-config --modversion vkstyle)" = "$version" ] || fail "pkg-config --modversion vkstyle"
# shellcheck disable=SC2046
"$cc" "$src/examples/stylize.c" -o "$tmp/stylize-pc" $(pkg-config --cflags --libs --static vkstyle)

# a 40x30 image as PPM (the example) and PNG (vkstyle image)
"$python" - "$src/tests/data/kodim05_crop333x257.png" "$tmp" <<'PY'
import sys
from PIL import Image
im = Image.open(sys.argv[1]).convert("RGB").resize((40, 30), Image.BILINEAR)
im.save(sys.argv[2] + "/in.ppm"); im.save(sys.argv[2] + "/in.png")
PY
cd "$tmp"   # no ./models here: vkstyle must find the installed ones
LD_LIBRARY_PATH="$libdir${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}" "$tmp/stylize-pc" "$models/styles9.safetensors" in.ppm pc.ppm udnie wave 0.3
"$tmp/example/stylize" "$models/styles9.safetensors" in.ppm cmake.ppm udnie wave 0.3
env -u VKSTYLE_MODELS "$prefix/bin/vkstyle" image -q -m styles9 -s udnie=0.7,wave=0.3 -i in.png -o cli.png
"$python" - <<'PY'
from PIL import Image
a, b, c = (Image.open(f) for f in ("pc.ppm", "cmake.ppm", "cli.png"))
for name, im in (("pc.ppm", a), ("cmake.ppm", b)):
    assert im.format == "PPM" and im.mode == "RGB" and im.size == (40, 30), (name, im.format, im.mode, im.size)
assert a.tobytes() == b.tobytes(), "the pkg-config and find_package builds differ"
assert a.tobytes() == c.convert("RGB").tobytes(), "the example's udnie 0.7 + wave 0.3 differs from vkstyle image's"
PY
# the installed Python binding: its library and the models found from where it is installed
init=$(find "$prefix" -path '*/vkstyle/__init__.py')
[ -n "$init" ] || fail "the Python binding is not installed"
env -u VKSTYLE_LIBRARY -u VKSTYLE_MODELS PYTHONPATH="$(dirname "$(dirname "$init")")" "$python" - "$prefix" <<'PY'
import sys
import numpy as np
from PIL import Image
import vkstyle
assert vkstyle._lib._name.startswith(sys.argv[1]), "loaded " + vkstyle._lib._name
rgb = np.asarray(Image.open("in.png").convert("RGB"))
model = vkstyle.Model(vkstyle.Context(), "styles9")
out = vkstyle.Session(model, 40, 30, styles={"udnie": 0.7, "wave": 0.3}).run(rgb)
assert np.array_equal(out, np.asarray(Image.open("cli.png").convert("RGB"))), "the binding differs from vkstyle image"
PY
echo "ok: $kind install into a temporary prefix; the example built with find_package and pkg-config" \
     "and the Python binding give vkstyle image's pixels ($((($(date +%s%N) - t0) / 1000000)) ms)"
