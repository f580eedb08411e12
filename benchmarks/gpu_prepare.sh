#!/bin/bash
# Run HERE (the Debian build machine), from the repository root, before taking the tree to a
# machine with an NVIDIA GPU: builds vkstyle without media support (no FFmpeg or GLFW: the
# engine, `bench` and `image` only) into build-gpu/ and puts it into .gpu/ with the two shared
# libraries it needs that such a machine may lack (jansson, stb); and test_ops (every op variant
# against the C reference, which gpu.sh runs first) with cmocka and the Khronos validation layer
# (.gpu/layer: test_ops runs with the layer on, any message fails it). .gpu/ is git-ignored;
# carry it.
# The Vulkan loader and EGL libraries the NVIDIA driver needs there come from the workplace's
# own preparation script, which also writes .gpu/nvidia-vulkan.sh (see benchmarks/README.md).
# Then there: bash benchmarks/gpu.sh
set -euo pipefail
cd "$(dirname "$0")/.."
cmake -S . -B build-gpu -DVKSTYLE_MEDIA=OFF -DCMAKE_BUILD_TYPE=Release >/dev/null
cmake --build build-gpu -j"$(nproc)" --target vkstyle_cli test_ops >/dev/null
mkdir -p .gpu/lib .gpu/layer
cp build-gpu/vkstyle .gpu/vkstyle
cp build-gpu/tests/test_ops .gpu/test_ops
for lib in $(ldd build-gpu/vkstyle build-gpu/tests/test_ops | awk '/libjansson|libstb|libcmocka/ {print $3}' | sort -u); do
    cp -L "$lib" .gpu/lib/
done
# The validation layer beside its manifest, gzipped (22 MB -> 7: the tree that travels must stay
# under 64 MiB): gpu.sh unpacks it into a temporary folder and points the loader there
# (VK_ADD_LAYER_PATH); a relative library_path is relative to the manifest
layer_json=/usr/share/vulkan/explicit_layer.d/VkLayer_khronos_validation.json
layer_so=$(sed -n 's/.*"library_path": *"\([^"]*\)".*/\1/p' "$layer_json")
[ "${layer_so#/}" != "$layer_so" ] || layer_so=$(ls /usr/lib/*/"$layer_so" | head -1)
rm -f .gpu/layer/*
gzip -9 -c "$layer_so" >.gpu/layer/"$(basename "$layer_so")".gz
sed 's|"library_path": *"[^"]*"|"library_path": "./'"$(basename "$layer_so")"'"|' "$layer_json" >.gpu/layer/VkLayer_khronos_validation.json
ldd .gpu/vkstyle | awk '{print "  " $1}' | grep -v 'linux-vdso\|ld-linux' | tr '\n' ' '
echo
[ -f .gpu/nvidia-vulkan.sh ] || echo "gpu_prepare.sh: .gpu/nvidia-vulkan.sh is missing: run the workplace's GPU preparation script too"
tracked=$(git ls-files -z | du -cb --files0-from=- | tail -1 | cut -f1)
echo "ready: .gpu/vkstyle and .gpu/test_ops ($(du -sh .gpu | cut -f1) in .gpu/; with the tracked files" \
     "$(( (tracked + $(du -sb .gpu | cut -f1)) / 1048576 )) MiB of the 64 that may travel); on the GPU machine: bash benchmarks/gpu.sh"
