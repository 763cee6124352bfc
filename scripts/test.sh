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
# ccache (scripts/deps.d/base.txt) keeps rebuilds and the ASan rerun below cheap.
launcher=()
if command -v ccache >/dev/null; then
  launcher=(-DCMAKE_CXX_COMPILER_LAUNCHER=ccache -DCMAKE_C_COMPILER_LAUNCHER=ccache)
fi
# -Werror here only (SEATLOCK_WERROR defaults to OFF for users' builds on other compilers).
generator=()  # Ninja for a new build dir; an existing one keeps the generator it was made with
if command -v ninja >/dev/null && [ ! -f "$build/CMakeCache.txt" ]; then generator=(-G Ninja); fi
cmake -S . -B "$build" "${generator[@]}" -DCMAKE_BUILD_TYPE=RelWithDebInfo -DSEATLOCK_VM_TESTS="${SEATLOCK_VM_TESTS:-ON}" \
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
  cmake --preset asan -B "$asan_build" "${launcher[@]}" -DSEATLOCK_VM_TESTS=OFF -DSEATLOCK_BUILD_BENCH=OFF
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
