#!/bin/bash
# mmdebstrap --essential-hook (before the kernel is installed): a minimal initramfs with only
# what mounting root=/dev/vda needs. Building Debian's default "MODULES=most" initramfs takes
# minutes on a loaded 2-core machine and slows every TCG boot; it would also carry USB storage
# drivers into early boot.
set -euo pipefail
root=$1
mkdir -p "$root/etc/initramfs-tools/conf.d" "$root/etc/initramfs-tools/hooks"
printf 'MODULES=list\nCOMPRESS=gzip\n' > "$root/etc/initramfs-tools/conf.d/seatlock-vm.conf"
cat > "$root/etc/initramfs-tools/hooks/seatlock-vm" <<'HOOK'
#!/bin/sh
[ "$1" = prereqs ] && exit 0
. /usr/share/initramfs-tools/hook-functions
manual_add_modules virtio_pci virtio_blk ext4 crc32c_generic
HOOK
chmod 0755 "$root/etc/initramfs-tools/hooks/seatlock-vm"
