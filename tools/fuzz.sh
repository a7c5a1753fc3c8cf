#!/usr/bin/env bash
# Runs the libFuzzer targets of tests/fuzz one after another and prints, per
# target, executions, coverage (edges) and crashes (crash, leak, timeout and
# out-of-memory reports). Exits non-zero when any target found something.
#
#   tools/fuzz.sh BUILD_DIR SECONDS [RUNS] [TARGET...]
#
# SECONDS bounds each target's run; RUNS (when not 0) stops it after that many
# executions instead. Each target starts from its committed seed corpus
# (tests/fuzz/corpus/<target>, read only) plus what earlier runs found
# (BUILD_DIR/fuzz-corpus/<target>), with its dictionary (tests/fuzz/dict).
# Reports land in BUILD_DIR/fuzz-crashes/; a crash becomes a seed file (and a
# fix) before it is committed.
set -uo pipefail

build=${1:?build dir}
seconds=${2:-60}
runs=${3:-0}
shift 3 2>/dev/null || shift $#
root=$(cd "$(dirname "$0")/.." && pwd)
targets=("$@")
[ ${#targets[@]} -gt 0 ] || targets=(json envelope socketio jwt config resp cluster dialect rest)

failed=0
printf '%-10s %12s %8s %8s %8s\n' target executions exec/s cov crashes
for t in "${targets[@]}"; do
    bin="$build/tests/fuzz/fuzz_$t"
    work="$build/fuzz-corpus/$t"
    crashes="$build/fuzz-crashes/$t"
    rm -rf "$crashes" # this run's findings only (a fix is checked by replaying its seed)
    mkdir -p "$work" "$crashes"
    log="$build/fuzz-$t.log"
    limit=(-max_total_time="$seconds")
    [ "$runs" -gt 0 ] && limit=(-runs="$runs" -max_total_time=0)
    # -timeout: an input that takes 10 s is a hang; leaks are reported (ASan)
    "$bin" "${limit[@]}" -timeout=10 -print_final_stats=1 -dict="$root/tests/fuzz/dict/$t.dict" \
        -artifact_prefix="$crashes/" "$work" "$root/tests/fuzz/corpus/$t" >"$log" 2>&1
    rc=$?
    execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -1)
    speed=$(sed -n 's/^stat::average_exec_per_sec: *//p' "$log" | tail -1)
    cov=$(grep -oE 'cov: [0-9]+' "$log" | tail -1 | cut -d' ' -f2)
    found=$(find "$crashes" -type f | wc -l)
    printf '%-10s %12s %8s %8s %8s\n' "$t" "${execs:-?}" "${speed:-?}" "${cov:-?}" "$found"
    if [ $rc -ne 0 ] || [ "$found" -ne 0 ]; then
        failed=1
        echo "fuzz_$t: exit $rc, see $log and $crashes/" >&2
        grep -m1 -A12 -E '^==[0-9]+==ERROR|^SUMMARY' "$log" >&2
    fi
done
exit $failed
