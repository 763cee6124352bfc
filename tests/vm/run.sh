#!/bin/bash
# The seatlock end-to-end VM suite: one command builds what it needs, boots a Debian 12 seat
# under QEMU (TCG), runs scenarios 1..10 (1..8 of issue 8; 9 the udev layer alone, 10 an upgrade) and shuts the VM down.
#
#   tests/vm/run.sh [--deb DIR] [--collector BIN] [--keep] [--workdir DIR] [--only 1,3] [--plain]
#
#   --deb DIR        directory holding seatlock_*.deb (and usually seatlock-collector_*.deb);
#                    default: build both with packaging/build-deb.sh into WORKDIR/deb
#   --collector BIN  seatlock-collector for the host side; default: the binary inside
#                    seatlock-collector_*.deb from the same directory (unpacked, not installed)
#   --keep           keep disk overlays and stick images of the run (logs are always kept)
#   --workdir DIR    cache and run directories (default /var/tmp/seatlock-vm); images are cached
#                    there keyed by a hash of their inputs, so a rerun with the same .deb boots
#                    at once
#   --only LIST      run only these scenarios
#   --plain          no seatlock at all: build and boot plain Debian and check the harness
#
# Needs root (network namespace, image build), qemu-system-x86, qemu-utils, mmdebstrap.
# Exit status 0 only when every scenario passed.
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
src=$(cd "$here/../.." && pwd)
deb="" collector="" keep="" workdir=/var/tmp/seatlock-vm only="" plain=0
while [[ $# -gt 0 ]]; do
  case "$1" in
    --deb) deb=$2; shift 2 ;;
    --collector) collector=$2; shift 2 ;;
    --keep) keep=--keep; shift ;;
    --workdir) workdir=$2; shift 2 ;;
    --only) only=$2; shift 2 ;;
    --plain) plain=1; shift ;;
    -h|--help) sed -n '2,20p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) echo "run.sh: unknown argument $1" >&2; exit 2 ;;
  esac
done
[[ $(id -u) -eq 0 ]] || { echo "run.sh: needs root (network namespace, image build)" >&2; exit 2; }
for tool in qemu-system-x86_64 qemu-img mmdebstrap mkfs.ext4 python3 openssl; do
  command -v "$tool" >/dev/null || { echo "run.sh: $tool missing (see scripts/deps.d/vm.txt)" >&2; exit 2; }
done
mkdir -p "$workdir"
workdir=$(cd "$workdir" && pwd)

args=(--workdir "$workdir" $keep)
[[ -n "$only" ]] && args+=(--only "$only")
if ((plain == 0)); then
  if [[ -z "$deb" ]]; then
    deb="$workdir/deb"
    echo "== building the .debs with packaging/build-deb.sh -> $deb"
    rm -rf "$deb"
    t0=$(date +%s)
    "$src/packaging/build-deb.sh" -o "$deb" > "$workdir/build-deb.log" 2>&1 ||
      { tail -30 "$workdir/build-deb.log"; echo "run.sh: the .deb build failed (log: $workdir/build-deb.log)"; exit 1; }
    echo "== .debs built in $(( $(date +%s) - t0 )) s"
  fi
  deb=$(cd "$deb" && pwd)
  if [[ -z "$collector" ]]; then
    cdeb=$(find "$deb" -maxdepth 1 -name 'seatlock-collector_*.deb' | sort | tail -1)
    [[ -n "$cdeb" ]] || { echo "run.sh: no seatlock-collector_*.deb in $deb; pass --collector BIN" >&2; exit 2; }
    rm -rf "$workdir/collector-root"
    dpkg-deb -x "$cdeb" "$workdir/collector-root"
    collector=$(find "$workdir/collector-root" -type f -path "*bin/seatlock-collector" | head -1)
  fi
  [[ -x "$collector" ]] || { echo "run.sh: collector binary '$collector' is not executable" >&2; exit 2; }
  args+=(--deb "$deb" --collector "$(readlink -f "$collector")")
fi
exec python3 "$here/driver.py" "${args[@]}"
