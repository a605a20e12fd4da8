#!/usr/bin/env bash
# How far fuzzing reaches: for each target, fuzz for SECONDS into a fresh directory, then
# replay the resulting corpus once and count the inputs that decode to at least one record
# (the targets print "dagr-fuzz: N inputs decoded to a record", see src/lib.rs).
#
#   protocols/fuzz/reach.sh SECONDS empty   # from nothing, as CI did before the seeds
#   protocols/fuzz/reach.sh SECONDS seeds   # from corpus/<target> with dict/<target>.dict
#
# Prints one line per target: executions, corpus inputs, corpus inputs that decode.
#
#   protocols/fuzz/reach.sh each            # every committed seed run once, alone
#
# Prints one line per seed: whether it decodes to a record (a seed that does not never
# reaches the round trip it was written for); exits 1 when one does not.
set -euo pipefail
cd "$(dirname "$0")"
if [ "${1:-}" = each ]; then
    failed=0
    for target in ${TARGETS:-$(cargo +nightly fuzz list)}; do
        seeds=(corpus/"$target"/*)
        # libFuzzer runs file arguments one by one: "Running: F", what F printed, "Executed F".
        log=$(DAGR_FUZZ_REPORT=every cargo +nightly fuzz run "$target" "${seeds[@]}" 2>&1) \
            || { echo "$log" | tail -n 30; echo "$target: the run failed"; exit 1; }
        lines=$(awk -v t="$target" '/^Running: /{f=$2; d=0} /^dagr-fuzz: /{d=1}
            /^Executed /{print t ": " f ": " (d ? "decodes to a record" : "DECODES NOTHING")}' <<<"$log")
        echo "$lines"
        if grep -q 'DECODES NOTHING' <<<"$lines" || [ "$(wc -l <<<"$lines")" -ne "${#seeds[@]}" ]; then
            failed=1
        fi
    done
    exit "$failed"
fi
seconds=${1:?seconds}
mode=${2:?empty or seeds}
work=$(mktemp -d)
for target in ${TARGETS:-$(cargo +nightly fuzz list)}; do
    mkdir -p "$work/$target"
    extra=()
    if [ "$mode" = seeds ]; then
        extra=("corpus/$target" -- "-dict=dict/$target.dict")
    else
        extra=(--)
    fi
    cargo +nightly fuzz run "$target" "$work/$target" "${extra[@]}" \
        -max_total_time="$seconds" -rss_limit_mb=2048 >"$work/$target.log" 2>&1 \
        || { tail -n 30 "$work/$target.log"; echo "$target: the fuzz run failed"; exit 1; }
    runs=$(grep -Eo '^Done [0-9]+ runs' "$work/$target.log" | grep -Eo '[0-9]+' || echo '?')
    replay=("$work/$target")
    [ "$mode" = seeds ] && replay+=("corpus/$target")
    DAGR_FUZZ_REPORT=every cargo +nightly fuzz run "$target" "${replay[@]}" -- -runs=0 \
        >"$work/$target.replay.log" 2>&1
    inputs=$(find "${replay[@]}" -type f | wc -l)
    decoded=$(grep -Eo 'dagr-fuzz: [0-9]+ inputs' "$work/$target.replay.log" | tail -n 1 \
        | grep -Eo '[0-9]+' || echo 0)
    echo "$target ($mode, ${seconds} s): $runs executions; $decoded of $inputs corpus inputs decode to a record"
done
rm -rf "$work"
