#!/bin/bash
# The test command: install what is needed, build, run every test (lavapipe on the CPU when
# there is no GPU; the Khronos validation layer is on in the GPU tests). The validation layer's costly
# configurations (ctest -L validation) run in CI (.ci/run).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/deps.sh
bash scripts/build.sh
ctest --test-dir build --output-on-failure --no-tests=error -j2 -LE validation
