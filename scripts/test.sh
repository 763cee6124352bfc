#!/usr/bin/env bash
# One command, as root on a fresh Debian 12 machine: install build/test packages, build, run all tests.
#   bash scripts/test.sh            # the default suite (what CI runs)
#   SEATLOCK_SLOW_TESTS=ON bash scripts/test.sh   # also the soak tests (the VM suite is in the default run)
set -euo pipefail
cd "$(dirname "$0")/.."
[ "$(id -u)" = 0 ] || { echo "test.sh: run as root (tests use network namespaces and umockdev)" >&2; exit 1; }
bash scripts/deps.sh
build=${SEATLOCK_BUILD_DIR:-build/test}
cmake -S . -B "$build" -DCMAKE_BUILD_TYPE=RelWithDebInfo -DSEATLOCK_SLOW_TESTS="${SEATLOCK_SLOW_TESTS:-OFF}"
cmake --build "$build" -j"$(nproc)"
ctest --test-dir "$build" --output-on-failure --timeout 600 -j"${SEATLOCK_TEST_JOBS:-1}"
