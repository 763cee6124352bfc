#!/bin/bash
# CTest entry for the VM suite: $1 = the collector binary of this build tree.
# SEATLOCK_VM_DEB (optional): directory with prebuilt seatlock_*.deb; SEATLOCK_VM_WORKDIR: cache.
set -euo pipefail
args=(--collector "$1" --workdir "${SEATLOCK_VM_WORKDIR:-/var/tmp/seatlock-vm}")
[[ -n "${SEATLOCK_VM_DEB:-}" ]] && args+=(--deb "$SEATLOCK_VM_DEB")
exec "$(dirname "$0")/run.sh" "${args[@]}"
