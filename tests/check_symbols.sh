#!/bin/bash
# The vkstyle library defines no global vk* or volk* symbol, and refers to none (issue 10).
#
#   check_symbols.sh NM LIBRARY     (libvkstyle.a or libvkstyle.so)
#
# Defined: volk's function pointers are named after the Vulkan commands (vkCreateInstance, ...);
# a program that links the Vulkan loader and this library would bind its own calls to them.
# Referred to: an engine file that calls a vk* command directly instead of through its context's
# function table would pick up whatever vk* symbol the program happens to have.
set -euo pipefail
nm=$1
lib=$2
defined="$("$nm" -g --defined-only "$lib" | awk 'NF >= 3 { print $NF }')"
if [[ "$lib" == *.so* ]]; then   # what a shared library exports to the dynamic linker
    defined+=$'\n'"$("$nm" -D --defined-only "$lib" | awk 'NF >= 3 { print $NF }')"
fi
if ! grep -qx 'vks_context_create' <<<"$defined"; then
    echo "FAIL: $lib does not define vks_context_create: the nm output was not understood" >&2
    exit 1
fi
bad="$(grep -E '^(vk[A-Z]|volk)' <<<"$defined" | sort -u || true)"
used="$("$nm" -u "$lib" | awk 'NF >= 2 { print $NF }' | sed 's/@.*//' | grep -E '^(vk[A-Z]|volk)' | sort -u || true)"
status=0
if [ -n "$bad" ]; then
    echo "FAIL: $lib defines $(wc -l <<<"$bad") global vk*/volk* symbols, e.g.:" >&2
    head -5 <<<"$bad" >&2
    status=1
fi
if [ -n "$used" ]; then
    echo "FAIL: $lib refers to vk*/volk* symbols (call through the context's table instead):" >&2
    head -20 <<<"$used" >&2
    status=1
fi
[ $status -ne 0 ] || echo "ok: $lib defines $(grep -c . <<<"$defined") global symbols, none vk*/volk*, and uses none"
exit $status
