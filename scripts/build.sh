#!/bin/bash
# Configures and builds vkstyle into build/ (Release, warnings as errors). Extra arguments go to
# cmake.
set -euo pipefail
cd "$(dirname "$0")/.."
cmake -S . -B build -DCMAKE_BUILD_TYPE=Release -DVKSTYLE_WERROR=ON "$@" >/dev/null
cmake --build build -j"$(nproc)"
