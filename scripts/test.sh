#!/usr/bin/env bash
# One command, as root on a fresh Debian 12 machine: install build/test packages, build, run all tests.
#   bash scripts/test.sh            # the default suite (what CI runs)
#   SEATLOCK_VM_TESTS=OFF bash scripts/test.sh    # without the QEMU end-to-end suite (about 4 min)
set -euo pipefail
cd "$(dirname "$0")/.."
[ "$(id -u)" = 0 ] || { echo "test.sh: run as root (tests use network namespaces and umockdev)" >&2; exit 1; }
bash scripts/deps.sh
build=${SEATLOCK_BUILD_DIR:-build/test}
cmake -S . -B "$build" -DCMAKE_BUILD_TYPE=RelWithDebInfo -DSEATLOCK_VM_TESTS="${SEATLOCK_VM_TESTS:-ON}"
cmake --build "$build" -j"$(nproc)"
ctest --test-dir "$build" --output-on-failure --timeout 600 -j"${SEATLOCK_TEST_JOBS:-1}"
