#!/bin/bash
# Boot-time bench (issue 18, "Boot"): plain Debian vs seat images with seatlock, alternated
# boots under QEMU/TCG, medians of the time to root's autologin shell. See boot_bench.py.
#
#   bench/boot/run.sh [--runs N] [--workdir DIR] [--json FILE] IMAGE...
#
#   IMAGE  label=deb:DIR          the VM suite's seat image with DIR's seatlock_*.deb (cached)
#          label=image:DIR        an image directory built earlier (disk.ext4, vmlinuz, initrd.img)
#          label=patch:BASE:TREE  image BASE with the files under TREE copied over its root: a
#                                 change measured without a .deb build
#   Plain Debian (tests/vm/build_image.sh without a .deb) is always booted too, as "plain".
#
# Example (before/after on the same .deb build):
#   bench/boot/run.sh before=deb:out-old after=deb:out-new
# Needs root and the tests/vm packages (scripts/deps.d/vm.txt). Each boot takes 25-40 s under
# TCG; 3 rounds of 3 images plus one preparing boot each is about 8 minutes.
set -euo pipefail
[[ $(id -u) -eq 0 ]] || { echo "bench/boot/run.sh: needs root (network namespace, images)" >&2; exit 2; }
exec python3 "$(dirname "$0")/boot_bench.py" "$@"
