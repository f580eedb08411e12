#!/bin/bash
# The main job: install, build, then the live preview (webcam, else the sample clip; with no
# display, a stylized video file instead). Arguments go to vkstyle (e.g. -m wave).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/deps.sh
bash scripts/build.sh
exec bash scripts/live-demo.sh "$@"
