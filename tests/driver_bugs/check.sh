#!/bin/bash
# check.sh VKSTYLE REPRO CONTROL WORKAROUND: runs a driver-bug repro on the default Vulkan device
# and checks that vkstyle applies WORKAROUND there whenever the repro fails (crash or wrong
# result). The control (the repro with the workaround applied in the shader) must pass on every
# driver. Exit 77 (skip) when there is no usable device.
set -uo pipefail
vkstyle=$1 repro=$2 control=$3 workaround=$4
"$control"; c=$?
[ $c -eq 77 ] && { echo "SKIP: no usable Vulkan device"; exit 77; }
[ $c -eq 0 ] || { echo "FAIL: the control (workaround in the shader) fails too ($c)"; exit 1; }
"$repro"; r=$?
applied=$("$vkstyle" devices | awk -F': *' '/^0:/ {d = 1} d && /workarounds:/ {print $2; exit}')
echo "vkstyle applies on device 0: $applied"
if [ $r -ne 0 ]; then
    case ",$applied," in
        *",$workaround,"*) echo "ok: the driver has the bug and vkstyle works around it" ;;
        *) echo "FAIL: the driver has the bug (exit $r) but vkstyle does not apply $workaround"; exit 1 ;;
    esac
else
    echo "ok: the driver runs the repro correctly"
fi
