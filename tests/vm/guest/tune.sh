#!/bin/bash
# Stage 2 tweaks to the seat image (cheap to change: not part of the stage 1 cache key).
set -euo pipefail
root=$1
chroot "$root" systemctl mask -q e2scrub_reap.service getty@tty1.service
# -cpu max advertises SVM/VMX: keep the kvm modules (useless under TCG) from loading.
printf 'blacklist kvm\nblacklist kvm_amd\nblacklist kvm_intel\n' > "$root/etc/modprobe.d/seatlock-vm.conf"
