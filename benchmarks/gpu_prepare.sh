#!/bin/bash
# Run HERE (the Debian build machine), from the repository root, before taking the tree to a
# machine with an NVIDIA GPU: builds vkstyle without media support (no FFmpeg or GLFW: the
# engine, `bench` and `image` only) into build-gpu/ and puts it into .gpu/ with the two shared
# libraries it needs that such a machine may lack (jansson, stb). .gpu/ is git-ignored; carry it.
# The Vulkan loader and EGL libraries the NVIDIA driver needs there come from the workplace's
# own preparation script, which also writes .gpu/nvidia-vulkan.sh (see benchmarks/README.md).
# Then there: bash benchmarks/gpu.sh
set -euo pipefail
cd "$(dirname "$0")/.."
cmake -S . -B build-gpu -DVKSTYLE_MEDIA=OFF -DCMAKE_BUILD_TYPE=Release >/dev/null
cmake --build build-gpu -j"$(nproc)" --target vkstyle_cli >/dev/null
mkdir -p .gpu/lib
cp build-gpu/vkstyle .gpu/vkstyle
for lib in $(ldd build-gpu/vkstyle | awk '/libjansson|libstb/ {print $3}'); do cp -L "$lib" .gpu/lib/; done
ldd .gpu/vkstyle | awk '{print "  " $1}' | grep -v 'linux-vdso\|ld-linux' | tr '\n' ' '
echo
[ -f .gpu/nvidia-vulkan.sh ] || echo "gpu_prepare.sh: .gpu/nvidia-vulkan.sh is missing: run the workplace's GPU preparation script too"
echo "ready: .gpu/vkstyle ($(du -sh .gpu | cut -f1) in .gpu/); on the GPU machine: bash benchmarks/gpu.sh"
