#!/usr/bin/env bash
# Builds the libFuzzer targets (clang, ASan + UBSan) and runs each one after the other.
#   bench/fuzz/run.sh BUILD_DIR SECONDS_PER_TARGET [TARGET...]
# BUILD_DIR is configured with SEATLOCK_FUZZ=ON if needed; only the fuzz targets are built.
# The corpus of each target grows in BUILD_DIR/fuzz-corpus/<target> across runs; seeds are
# assembled from the test fixtures into BUILD_DIR/fuzz-seeds (make_corpus.py); crash, leak,
# timeout and OOM reproducers land in BUILD_DIR/fuzz-findings/<target>/ (never in git: a finding
# that is fixed becomes a file under tests/fuzz_regressions/ instead). Prints a table and exits 1
# when any target has a finding. Environment: SEATLOCK_FUZZ_JOBS (build jobs, default nproc),
# SEATLOCK_FUZZ_NICE (default 10), SEATLOCK_FUZZ_KEEP_GOING=1 (fork mode: keep fuzzing after a
# finding; rarely useful: a shallow bug is found again by every job),
# SEATLOCK_FUZZ_TOLERATE=name,... (step over known, reported findings by name: docs/fuzzing.md).
set -euo pipefail
[ $# -ge 2 ] || { sed -n '2,10p' "$0" >&2; exit 2; }
here=$(cd "$(dirname "$0")" && pwd)
src=$(cd "$here/../.." && pwd)
build=$1
seconds=$2
shift 2
all_targets=(fuzz_http_head fuzz_http_chunked fuzz_gzip fuzz_event fuzz_ingest_batch fuzz_policy
  fuzz_control_request fuzz_usb_sysfs fuzz_uevent fuzz_firmware fuzz_dns)
targets=("$@")
[ ${#targets[@]} -gt 0 ] || targets=("${all_targets[@]}")
nice_level=${SEATLOCK_FUZZ_NICE:-10}

# Largest input per target: what the real reader would accept, kept small where speed matters.
max_len() {
  case $1 in
    fuzz_http_head) echo 16384 ;;                                  # collector's head limit
    fuzz_ingest_batch | fuzz_control_request | fuzz_policy) echo 65536 ;;
    fuzz_event) echo 16384 ;;
    *) echo 8192 ;;
  esac
}

if ! command -v clang++ >/dev/null || ! compgen -G "/usr/lib/llvm-*/lib/clang/*/lib/linux/libclang_rt.fuzzer-x86_64.a" >/dev/null; then
  echo "run.sh: needs clang and libFuzzer: apt-get install clang libclang-rt-14-dev" >&2
  exit 2
fi
flags="-fsanitize=fuzzer-no-link,address,undefined -fno-sanitize-recover=undefined -fno-omit-frame-pointer"
launcher=()
command -v ccache >/dev/null && launcher=(-DCMAKE_CXX_COMPILER_LAUNCHER=ccache -DCMAKE_C_COMPILER_LAUNCHER=ccache)
generator=()
command -v ninja >/dev/null && generator=(-G Ninja)
if [ ! -f "$build/CMakeCache.txt" ]; then
  cmake -S "$src" -B "$build" "${generator[@]}" -DCMAKE_BUILD_TYPE=RelWithDebInfo \
    -DCMAKE_C_COMPILER=clang -DCMAKE_CXX_COMPILER=clang++ "${launcher[@]}" \
    -DCMAKE_CXX_FLAGS="$flags" -DCMAKE_C_FLAGS="$flags" \
    -DCMAKE_EXE_LINKER_FLAGS="-fsanitize=address,undefined" \
    -DSEATLOCK_FUZZ=ON -DSEATLOCK_BUILD_TESTS=OFF -DSEATLOCK_VM_TESTS=OFF >/dev/null
fi
nice -n "$nice_level" cmake --build "$build" -j"${SEATLOCK_FUZZ_JOBS:-$(nproc)}" --target "${targets[@]}"

python3 "$here/make_corpus.py" "$build/fuzz-seeds"
export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=1:symbolize=1}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}

rows=()
found=0
for t in "${targets[@]}"; do
  corpus=$build/fuzz-corpus/$t
  findings=$build/fuzz-findings/$t
  log=$build/fuzz-logs/$t.log
  mkdir -p "$corpus" "$findings" "$(dirname "$log")" "$build/fuzz-seeds/$t"
  echo "== $t: ${seconds}s (log: $log)"
  touch "$findings/.started"  # findings of this run are the files newer than this
  # By default one process: a finding stops the target; its reproducer names the input.
  mode=()
  [ "${SEATLOCK_FUZZ_KEEP_GOING:-0}" = 1 ] && mode=(-fork=1 -ignore_crashes=1 -ignore_timeouts=1 -ignore_ooms=1)
  nice -n "$nice_level" "$build/bench/fuzz/$t" "${mode[@]}" "$corpus" "$build/fuzz-seeds/$t" \
    -max_total_time="$seconds" -print_final_stats=1 -max_len="$(max_len "$t")" -timeout=10 \
    -rss_limit_mb=2048 -artifact_prefix="$findings/" >"$log" 2>&1 || true
  execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -1)
  rate=$(sed -n 's/^stat::average_exec_per_sec: *//p' "$log" | tail -1)
  if [ -z "$execs" ]; then  # fork mode: the last "#<execs>: cov: ... exec/s: <n> ..." line
    last=$(grep -a -E '^#[0-9]+: cov:' "$log" | tail -1)
    execs=$(sed -E 's/^#([0-9]+):.*/\1/' <<<"$last")
    rate=$(sed -nE 's/.*exec\/s:? ([0-9]+).*/\1/p' <<<"$last")
  fi
  size=$(find "$corpus" -type f | wc -l)
  bad=$(find "$findings" -type f -newer "$findings/.started" \( -name 'crash-*' -o -name 'leak-*' -o -name 'timeout-*' \
    -o -name 'oom-*' \) | wc -l)
  [ "$bad" -eq 0 ] || found=1
  rows+=("$(printf '%-22s %12s %8s %8s %8s' "$t" "${execs:-?}" "${rate:-?}" "$size" "$bad")")
done

echo
printf '%-22s %12s %8s %8s %8s\n' target executions exec/s corpus findings
printf '%s\n' "${rows[@]}"
[ "$found" -eq 0 ] || echo "findings: see $build/fuzz-findings/<target>/ and $build/fuzz-logs/"
exit "$found"
