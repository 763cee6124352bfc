#!/usr/bin/env bash
# clang-tidy with the root .clang-tidy over the project's own sources (agent/ and collector/ .cpp;
# tests/ and bench/ are left out: they would double the time and their findings are not in the
# product), using BUILD_DIR/compile_commands.json, $(nproc) files at a time. Exit 1 and every
# finding, once, as FILE:LINE:COL: [check] message; fix it, or silence one line with
# `// NOLINT(check-name): why`.
#   bash scripts/check_tidy.sh build/test
# SEATLOCK_TIDY_JOBS overrides the number of parallel clang-tidy processes.
set -euo pipefail
[ $# -eq 1 ] || { echo "usage: $0 BUILD_DIR" >&2; exit 2; }
build=$(cd "$1" && pwd)
cd "$(dirname "$0")/.."
root=$(pwd)
db="$build/compile_commands.json"
[ -f "$db" ] || { echo "tidy: no $db (configure with cmake first)" >&2; exit 2; }
tidy=$(command -v clang-tidy || command -v clang-tidy-14 || true)
[ -n "$tidy" ] || { echo "tidy: clang-tidy not found (apt-get install clang-tidy)" >&2; exit 2; }

# The translation units CMake compiles from agent/ and collector/ (CMake writes one
# `"file": "PATH",` line per entry; generated sources live under the build dir and are skipped).
mapfile -t files < <(sed -n 's/^ *"file": "\(.*\)",\{0,1\}$/\1/p' "$db" |
  grep -E "^$root/(agent|collector)/.*\.cpp$" | sort -u)
[ ${#files[@]} -gt 0 ] || { echo "tidy: no agent/ or collector/ sources in $db" >&2; exit 2; }

out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
start=$SECONDS
# One clang-tidy per file so a crash or parse error names its file; its output goes to a file of
# its own (run-clang-tidy interleaves). -Wno-error: clang's own -Wall set differs from GCC's,
# and the compiler warnings are the build's job.
printf '%s\0' "${files[@]}" | xargs -0 -P "${SEATLOCK_TIDY_JOBS:-$(nproc)}" -I{} sh -c '
  log="$2/$(printf %s "$1" | tr / _).log"
  "$3" -p "$4" --quiet --extra-arg=-Wno-error "$1" >"$log" 2>&1 || echo "$1" >>"$log.failed"
' _ {} "$out" "$tidy" "$build"

# A header's finding is reported by every file that includes it: print each once.
mapfile -t findings < <(cat "$out"/*.log |
  sed -n -E "s#^$root/(.*:[0-9]+:[0-9]+): (warning|error): (.*) \[([^],]*)[^]]*\]\$#\1: [\4] \3#p" |
  sort -u)
mapfile -t failed < <(cat "$out"/*.failed 2>/dev/null | sort)
secs=$((SECONDS - start))
if [ ${#findings[@]} -eq 0 ] && [ ${#failed[@]} -eq 0 ]; then
  echo "tidy: ${#files[@]} files, no findings (.clang-tidy; ${secs}s)"
  exit 0
fi
if [ ${#findings[@]} -gt 0 ]; then
  echo "tidy: ${#findings[@]} findings in ${#files[@]} files (.clang-tidy; ${secs}s):" >&2
  printf '  %s\n' "${findings[@]}" >&2
elif [ ${#failed[@]} -gt 0 ]; then
  # clang-tidy failed without a finding of the usual form (a crash, a missing header): show why.
  echo "tidy: clang-tidy failed on ${#failed[@]} files:" >&2
  for f in "${failed[@]}"; do
    echo "== $f" >&2
    tail -n 20 "$out/$(printf %s "$f" | tr / _).log" >&2
  done
fi
exit 1
