#!/bin/bash
# vkstyle live's keys as a user presses them, under Xvfb with xdotool: 1-9 pick a style, the
# arrows and the mouse wheel slide the mix and the strength, q quits. Each step waits for the
# window title to show the expected state. Usage: test_live_keys.sh VKSTYLE SRC
set -u
vk=$1 src=$2
for p in xvfb-run xdotool; do
    command -v $p >/dev/null || { echo "FAIL: $p not found (scripts/deps.sh installs it)"; exit 1; }
done
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
# The sanitizer run preloads libasan and the driver: keep them away from Xvfb, give them to vkstyle.
pre=${LD_PRELOAD:-}
cat >"$tmp/inner.sh" <<INNER
#!/bin/bash
set -u
# a size too large for the device: one line that names the largest size that fits
LD_PRELOAD="$pre" "$vk" live --source "$src/tests/data/clip.mp4" --size 8000x6000 --window 64x48 >"$tmp/big.out" 2>&1
if [ \$? -eq 0 ] || ! grep -Eq "about [0-9]+x[0-9]+ fits\); choose a smaller --size" "$tmp/big.out"; then
    echo "FAIL: live --size 8000x6000: \$(cat "$tmp/big.out")"; exit 1
fi
LD_PRELOAD="$pre" VKSTYLE_VALIDATION=1 "$vk" live -m "$src/models/styles9.safetensors" \
    --source "$src/tests/data/clip.mp4" --size 64x48 >"$tmp/live.out" 2>&1 &
pid=\$!
fail=0
win=""
for i in \$(seq 120); do
    win=\$(xdotool search --name "vkstyle live" 2>/dev/null | head -1)
    [ -n "\$win" ] && break
    sleep 0.5
done
[ -n "\$win" ] || { echo "FAIL: no window"; kill \$pid; exit 1; }
# expect WHAT PATTERN: wait up to 60 s for the title to match
expect() {
    local t=""
    for i in \$(seq 240); do
        t=\$(xdotool getwindowname \$win 2>/dev/null)
        if echo "\$t" | grep -Eq -- "\$2"; then echo "ok   \$1: \$t"; return; fi
        sleep 0.25
    done
    echo "FAIL \$1: title '\$t' does not match '\$2'"; fail=1
}
expect "start" "la_muse - strength 1.0 - .* fps"
xdotool key --window \$win 3;            expect "key 3" "- matilde_perez - "
xdotool key --window \$win Right;        expect "right" "matilde_perez 90% \\\\+ matta 10%"
xdotool key --window \$win Right Right;  expect "right x2" "matilde_perez 70% \\\\+ matta 30%"
xdotool key --window \$win Left;         expect "left" "matilde_perez 80% \\\\+ matta 20%"
xdotool click --window \$win 5;          expect "wheel" "matilde_perez (70|90)% \\\\+ matta (30|10)%"
xdotool key --window \$win Down;         expect "down" "strength 0.9"
xdotool key --window \$win 9;            expect "key 9" "- wreck - strength 0.9"
xdotool key --window \$win t;            expect "t" "- stable off - "
xdotool key --window \$win t;            expect "t again" "- stable 1.0 - "
xdotool key --window \$win q
wait \$pid; rc=\$?
[ \$rc -eq 0 ] || { echo "FAIL: exit code \$rc"; fail=1; }
if grep -qi "validation" "$tmp/live.out"; then echo "FAIL: validation messages"; fail=1; fi
cat "$tmp/live.out"
exit \$fail
INNER
chmod +x "$tmp/inner.sh"
env -u LD_PRELOAD xvfb-run -a -s "-screen 0 640x480x24" "$tmp/inner.sh"
