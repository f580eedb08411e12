#!/bin/bash
# A second Vulkan driver beside the system one: Debian 12 bookworm-backports' Mesa 25 lavapipe,
# unpacked into .drivers/mesa25/ (nothing is installed; the system driver stays the default).
#
#   bash scripts/mesa25.sh                 # fetch and unpack (once), print the driver's folder
#   bash scripts/mesa25.sh CMD [ARGS...]   # run CMD with only that driver visible to the loader
#
# The backports suite is derived from the Debian archive this machine's apt sources already
# name (the repository names no host), and read through a private apt state folder, so the
# machine's apt configuration is not touched. Debian 12 only: elsewhere it says so and fails.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
dir="${VKSTYLE_MESA25_DIR:-$root/.drivers/mesa25}"
icd="$dir/lvp_icd.json"
libdir="$dir/root/usr/lib/$(gcc -print-multiarch 2>/dev/null || echo x86_64-linux-gnu)"

fetch() {
    local codename
    codename="$(. /etc/os-release && echo "${VERSION_CODENAME:-}")"
    if [ "$codename" != bookworm ]; then
        echo "mesa25.sh: this fetches Debian 12 (bookworm) backports; this machine is '${codename:-unknown}'" >&2
        exit 1
    fi
    # The URI of the Debian archive that serves "bookworm", from deb822 or one-line sources.
    local uri=""
    for f in /etc/apt/sources.list.d/*.sources; do
        [ -f "$f" ] || continue
        uri="$(awk -v s="$codename" '
            /^[ \t]*$/ { if (u != "" && hit) { print u; exit } u = ""; hit = 0; next }
            /^URIs:/ { u = $2 }
            /^Suites:/ { for (i = 2; i <= NF; i++) if ($i == s) hit = 1 }
            END { if (u != "" && hit) print u }' "$f" | head -1)"
        [ -n "$uri" ] && break
    done
    if [ -z "$uri" ] && [ -f /etc/apt/sources.list ]; then
        uri="$(awk -v s="$codename" '$1 == "deb" { for (i = 2; i <= NF; i++) if ($i ~ /^[a-z]+:\/\//) { if ($(i + 1) == s) print $i; break } }' \
              /etc/apt/sources.list | head -1)"
    fi
    if [ -z "$uri" ]; then
        echo "mesa25.sh: no apt source for '$codename' found to derive $codename-backports from" >&2
        exit 1
    fi
    local apt="$dir/apt"
    rm -rf "$dir"
    mkdir -p "$apt/lists/partial" "$apt/cache/archives/partial" "$apt/parts" "$dir/debs" "$dir/root"
    echo "deb [signed-by=/usr/share/keyrings/debian-archive-keyring.gpg] $uri $codename-backports main" > "$apt/sources.list"
    local opts=(-o "Dir::Etc::SourceList=$apt/sources.list" -o "Dir::Etc::SourceParts=$apt/parts"
                -o "Dir::State::Lists=$apt/lists" -o "Dir::Cache=$apt/cache" -o "APT::Sandbox::User=root")
    apt-get "${opts[@]}" update >/dev/null
    (cd "$dir/debs" && apt-get "${opts[@]}" download \
        "mesa-vulkan-drivers/$codename-backports" "libdrm2/$codename-backports" "libdrm-amdgpu1/$codename-backports" >/dev/null)
    for deb in "$dir"/debs/*.deb; do dpkg-deb -x "$deb" "$dir/root"; done
    [ -f "$libdir/libvulkan_lvp.so" ] || { echo "mesa25.sh: the package has no libvulkan_lvp.so" >&2; exit 1; }
    sed "s#\"library_path\": *\"[^\"]*\"#\"library_path\": \"$libdir/libvulkan_lvp.so\"#" \
        "$dir/root/usr/share/vulkan/icd.d/lvp_icd.json" > "$icd"
    rm -rf "$apt" "$dir/debs"
}

[ -f "$icd" ] || fetch
if [ $# -eq 0 ]; then
    echo "$dir"
    exit 0
fi
export VK_ICD_FILENAMES="$icd" VK_DRIVER_FILES="$icd"
export LD_LIBRARY_PATH="$libdir${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}"
exec "$@"
