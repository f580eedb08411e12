# shellcheck shell=bash
# Sourced by the shell tests that run vkstyle among other programs. Under .ci/run's sanitizer stage
# LD_PRELOAD holds ASan and lavapipe: vkstyle needs them, but every grep, rm or Python the test
# runs would load both as well (most of test_cli's time there, once). wrap_preload DIR makes $vk a
# wrapper in DIR that gives vkstyle the preloads, and unsets LD_PRELOAD for the rest.
wrap_preload() {
    [ -n "${LD_PRELOAD:-}" ] || return 0
    printf '#!/bin/bash\nLD_PRELOAD=%q exec %q "$@"\n' "$LD_PRELOAD" "$vk" >"$1/vk" && chmod +x "$1/vk"
    vk="$1/vk"
    unset LD_PRELOAD
}
