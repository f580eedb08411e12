#!/usr/bin/env bash
# The README's demo, run after installing and building: stylize the webcam live; without one,
# the bundled clip; without a display, write a stylized copy of the clip instead.
#   scripts/live-demo.sh [extra vkstyle options, e.g. -m wave]
# VKSTYLE_BIN overrides the binary (default: build/vkstyle).
set -euo pipefail
cd "$(dirname "$0")/.."
bin=${VKSTYLE_BIN:-build/vkstyle}
[ -x "$bin" ] || { echo "live-demo: $bin not found; build first: cmake -B build && cmake --build build -j" >&2; exit 1; }

if [ -z "${DISPLAY:-}" ] && [ -z "${WAYLAND_DISPLAY:-}" ]; then
  echo "live-demo: no display (\$DISPLAY and \$WAYLAND_DISPLAY are unset), so no window:"
  echo "live-demo: writing a stylized samples/fox.mp4 to out/fox_stylized.mp4 with 'vkstyle video' instead"
  size=()
  if ! "$bin" devices 2>/dev/null | grep -qE '\((discrete|integrated|virtual)\)$'; then
    echo "live-demo: only a CPU Vulkan device here: stylizing at 128 px (slow; expect minutes)"
    size=(--max-side 128)
  fi
  mkdir -p out
  exec "$bin" video -i samples/fox.mp4 -o out/fox_stylized.mp4 "${size[@]}" "$@"
fi
if [ -e /dev/video0 ]; then
  exec "$bin" live --source /dev/video0 "$@"
fi
echo "live-demo: no webcam at /dev/video0: playing samples/fox.mp4 in a loop (q quits)"
exec "$bin" live --source samples/fox.mp4 "$@"
