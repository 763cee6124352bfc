#!/usr/bin/env bash
# One command, as root on a fresh Debian 12 machine: install build/test packages, build, run all tests.
#   bash scripts/test.sh            # the default suite (what CI runs)
#   SEATLOCK_VM_TESTS=OFF bash scripts/test.sh    # without the QEMU end-to-end suite (about 4 min)
#   SEATLOCK_ASAN_TESTS=OFF bash scripts/test.sh  # without the ASan+UBSan rerun of the unit and
#                                                 # component tests (build/asan, see the end)
#   SEATLOCK_TEST_JOBS=1 bash scripts/test.sh     # release tests one at a time (default 2; the
#                                                 # package and VM tests always run alone)
set -euo pipefail
cd "$(dirname "$0")/.."
[ "$(id -u)" = 0 ] || { echo "test.sh: run as root (tests use network namespaces and umockdev)" >&2; exit 1; }
bash scripts/deps.sh
# Formatting first: it takes seconds and names every file that differs (.clang-format).
bash scripts/check_format.sh
build=${SEATLOCK_BUILD_DIR:-build/test}
# A full run needs about 12 GB of disk at its peak (the ASan stage); a run that runs out fails
# in whichever test writes next ("database or disk is full"), so say how much there is.
disk_free() {
  local free_gb
  free_gb=$(df -P -BG . /tmp /var/tmp | awk 'NR > 1 {sub("G", "", $4); print $4}' | sort -n | head -1)
  echo "test.sh: ${free_gb} GB free on the emptiest of ., /tmp and /var/tmp ($1)"
  ((free_gb >= 12)) || echo "test.sh: warning: under 12 GB free; later tests may fail for want of disk" >&2
}
disk_free "before the build"
# ccache (scripts/deps.d/base.txt) keeps rebuilds and the ASan rerun below cheap.
launcher=()
if command -v ccache >/dev/null; then
  launcher=(-DCMAKE_CXX_COMPILER_LAUNCHER=ccache -DCMAKE_C_COMPILER_LAUNCHER=ccache)
fi
# -Werror here only (SEATLOCK_WERROR defaults to OFF for users' builds on other compilers).
generator=()  # Ninja for a new build dir; an existing one keeps the generator it was made with
if command -v ninja >/dev/null && [ ! -f "$build/CMakeCache.txt" ]; then generator=(-G Ninja); fi
# -g1 (line tables: backtraces keep file:line): a third of the objects' size with full -g, and
# faster to compile. The package test builds the .debs with Debian's own flags.
cmake -S . -B "$build" "${generator[@]}" -DCMAKE_BUILD_TYPE=RelWithDebInfo -DSEATLOCK_VM_TESTS="${SEATLOCK_VM_TESTS:-ON}" \
  -DCMAKE_CXX_FLAGS_RELWITHDEBINFO="-O2 -g1 -DNDEBUG" -DCMAKE_C_FLAGS_RELWITHDEBINFO="-O2 -g1 -DNDEBUG" \
  -DSEATLOCK_WERROR=ON "${launcher[@]}"
cmake --build "$build" -j"$(nproc)"
bash scripts/check_tidy.sh "$build"  # clang-tidy (.clang-tidy) over agent/ and collector/
# Two at a time: most tests wait on sockets and timers, so on 2 cores the release suite takes
# about half the wall time (collector+console labels: 257 s at -j1, 135 s at -j2). The package
# and VM tests are RUN_SERIAL and still run alone.
ctest --test-dir "$build" --output-on-failure --timeout 600 -j"${SEATLOCK_TEST_JOBS:-2}"

# The same unit and component tests once more under AddressSanitizer + UndefinedBehaviorSanitizer
# (the `asan` preset in CMakePresets.json), without the package and VM suites (they test the
# packaged release build). SEATLOCK_ASAN_TESTS=OFF skips it. ccache, when present, keeps a
# second run cheap (CI's clean machine starts with an empty cache: the first build is full).
if [ "${SEATLOCK_ASAN_TESTS:-ON}" != OFF ]; then
  asan_build=${SEATLOCK_BUILD_DIR:+${SEATLOCK_BUILD_DIR}-asan}
  asan_build=${asan_build:-build/asan}
  disk_free "before the ASan build"
  cmake --preset asan -B "$asan_build" "${launcher[@]}" -DSEATLOCK_VM_TESTS=OFF -DSEATLOCK_BUILD_BENCH=OFF \
    -DCMAKE_CXX_FLAGS_DEBUG=-g1 -DCMAKE_C_FLAGS_DEBUG=-g1
  cmake --build "$asan_build" -j"$(nproc)"
  # One at a time: at -j2 under ASan the 2,000-long-poll test missed its 43 s opening budget and
  # the ClickHouse events-pages test counted an extra page (session 10); SEATLOCK_ASAN_TEST_JOBS.
  # verify_asan_link_order=0: the USB tests run under libumockdev-preload (LD_PRELOAD), which
  # would otherwise come before the ASan runtime and stop every such process at start.
  ASAN_OPTIONS=${ASAN_OPTIONS:-verify_asan_link_order=0:detect_leaks=1:abort_on_error=1} \
    UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1} \
    ctest --test-dir "$asan_build" --output-on-failure --timeout 900 -j"${SEATLOCK_ASAN_TEST_JOBS:-1}" \
    --label-exclude '^(package|vm)$'
fi
