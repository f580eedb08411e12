#!/bin/bash
# Installs the Debian/Ubuntu packages vkstyle needs to build, run and test (sudo when not root).
# Skips apt when everything is already installed. `deps.sh fuzz` adds clang and libFuzzer for the
# fuzz harnesses (-DVKSTYLE_FUZZ=ON; Debian 12's clang 14); `deps.sh bench` adds OpenCV for the
# flicker measurement (benchmarks/flicker.py, benchmarks/stabilize.sh).
set -euo pipefail
PACKAGES=(
  build-essential cmake pkg-config glslang-tools        # toolchain, GLSL -> SPIR-V
  libvulkan-dev libvulkan-volk-dev libjansson-dev       # engine: Vulkan headers, volk, jansson
  libstb-dev libjpeg-dev                                # image files, MJPEG webcams
  libprotobuf-c-dev protobuf-c-compiler libonnx-dev     # ONNX in: protobuf-c, onnx.proto
  libavformat-dev libavcodec-dev libavutil-dev libswscale-dev libswresample-dev  # video
  libglfw3-dev                                          # live preview window
  mesa-vulkan-drivers vulkan-validationlayers vulkan-tools  # lavapipe (CPU Vulkan), validation
  libcmocka-dev xvfb xauth xdotool ffmpeg               # tests
  python3 python3-numpy python3-pil python3-torch       # model tools and reference checks
  python3-onnx libonnx-testdata                         # ONNX export, conformance node tests
)
if [ "${1:-}" = fuzz ]; then
  PACKAGES+=(clang libclang-rt-14-dev)
elif [ "${1:-}" = bench ]; then
  PACKAGES+=(python3-opencv)
fi
missing=()
for p in "${PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
[ ${#missing[@]} -eq 0 ] && exit 0
SUDO=""
[ "$(id -u)" -eq 0 ] || SUDO="sudo"
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update
$SUDO apt-get install -y --no-install-recommends "${missing[@]}"
