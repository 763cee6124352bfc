#!/bin/bash
# CTest entry for the VM suite: $1 = the collector binary of this build tree, $2 = where
# package.deb_lifecycle left the .debs it built (used when they are there).
# SEATLOCK_VM_DEB: directory with prebuilt seatlock_*.deb (wins); SEATLOCK_VM_WORKDIR: cache.
set -euo pipefail
[[ $(id -u) -eq 0 ]] || { echo "vm: needs root; skipped"; exit 77; }
for tool in qemu-system-x86_64 qemu-img mmdebstrap; do
  command -v "$tool" >/dev/null || { echo "vm: $tool missing (scripts/deps.d/vm.txt); skipped"; exit 77; }
done
args=(--collector "$1" --workdir "${SEATLOCK_VM_WORKDIR:-/var/tmp/seatlock-vm}")
deb=${SEATLOCK_VM_DEB:-}
if [[ -z "$deb" && -n "${2:-}" ]] && compgen -G "$2/seatlock_*.deb" >/dev/null; then deb=$2; fi
[[ -n "$deb" ]] && args+=(--deb "$deb")
exec "$(dirname "$0")/run.sh" "${args[@]}"
