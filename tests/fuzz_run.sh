#!/bin/bash
# Runs a libFuzzer harness for SECONDS on its seed corpus and prints how many inputs it ran. New
# inputs go to a scratch folder (the seeds stay as they are). A crash, sanitizer report, leak or
# abort() in the harness fails the run and leaves the input in ARTIFACTS/; reproduce with
# `FUZZER ARTIFACTS/crash-...`.
#   fuzz_run.sh FUZZER SEEDS DICT SECONDS ARTIFACTS
set -uo pipefail
fuzzer=$1 seeds=$2 dict=$3 seconds=$4 artifacts=$5
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
mkdir -p "$artifacts" "$work/corpus"
"$fuzzer" -max_total_time="$seconds" -max_len=16384 -print_final_stats=1 -dict="$dict" \
    -artifact_prefix="$artifacts/" "$work/corpus" "$seeds" >"$work/log" 2>&1
status=$?
execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$work/log")
cov=$(grep -E '^#[0-9]+' "$work/log" | tail -1 | grep -oE 'cov: [0-9]+ ft: [0-9]+ corp: [0-9]+/[0-9]+[a-zA-Z]*')
if [ $status -ne 0 ] || [ -z "$execs" ]; then
    tail -60 "$work/log"
    echo "FAIL: $(basename "$fuzzer") exited with $status; the input is in $artifacts/"
    exit 1
fi
echo "$(basename "$fuzzer"): $execs inputs in $seconds s ($((execs / seconds))/s), $cov, $(ls "$seeds" | wc -l) seeds"
