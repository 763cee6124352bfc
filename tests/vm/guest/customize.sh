#!/bin/bash
# mmdebstrap --customize-hook for the seat image (stage 1): $1 is the new root.
# Part of the image cache key (build_image.sh hashes everything in guest/).
set -euo pipefail
root=$1 here=$(cd "$(dirname "$0")" && pwd)
install -m 0755 "$here/seatlock-vm-agent" "$root/usr/local/sbin/seatlock-vm-agent"
install -m 0644 "$here/seatlock-vm-agent.service" "$root/etc/systemd/system/"
install -m 0644 "$here/60-seatlock-vm-agent.rules" "$root/etc/udev/rules.d/"
install -m 0644 "$here/20-wired.network" "$root/etc/systemd/network/"
# The hostname differs from the seat id on purpose: IT names seats in 90-seat.json
# (report.seat_id), and the hostname is whatever imaging gave the PC (hostside.GUEST_HOSTNAME).
echo cc-floor3-pc17 > "$root/etc/hostname"
printf '127.0.0.1 localhost\n127.0.1.1 cc-floor3-pc17\n' > "$root/etc/hosts"
printf '/dev/vda / ext4 rw,relatime 0 1\n' > "$root/etc/fstab"
chroot "$root" passwd -d root >/dev/null
chroot "$root" systemctl enable -q systemd-networkd seatlock-vm-agent.service
# Nothing periodic that would steal the emulated CPU from the scenarios.
chroot "$root" systemctl mask -q apt-daily.timer apt-daily-upgrade.timer e2scrub_all.timer fstrim.timer
