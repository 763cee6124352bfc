#!/bin/bash
# Builds (or reuses from the cache) the Debian 12 seat image for the VM suite.
#
#   build_image.sh --workdir DIR [--deb DIR] [--policy-dir DIR]
#
# Stage 1 (slow, cached by the package list and the guest/ files): mmdebstrap minbase +
#   systemd, udev, nftables, curl, Debian's kernel, and the harness agent -> base-<key>.tar
# Stage 2 (cached by stage 1 + the .deb files + the policy files): unpack, install the seatlock
#   .deb with `apt-get install ./seatlock_*.deb` in a chroot exactly as IT would, drop in the
#   site policy, then mkfs.ext4 -d -> image-<key>/{disk.ext4,vmlinuz,initrd.img}.
# Prints the image directory on stdout (everything else goes to stderr).
#
# Safety: the chroot for stage 2 runs in its own mount namespace and has no /sys or /run, so
# the package's maintainer scripts cannot reach the host's udev or firewall.
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
workdir="" deb_dir="" policy_dir=""
while [[ $# -gt 0 ]]; do
  case "$1" in
    --workdir) workdir=$2; shift 2 ;;
    --deb) deb_dir=$2; shift 2 ;;
    --policy-dir) policy_dir=$2; shift 2 ;;
    *) echo "build_image.sh: unknown argument $1" >&2; exit 2 ;;
  esac
done
[[ -n "$workdir" ]] || { echo "build_image.sh: --workdir is required" >&2; exit 2; }
mkdir -p "$workdir"
mirror=${SEATLOCK_VM_MIRROR:-http://deb.debian.org/debian}

# What a seat image holds besides minbase. The libraries are seatlock's run-time dependencies,
# so stage 2 normally needs no download; apt still resolves anything new the .deb asks for.
packages=(systemd systemd-sysv udev kmod iproute2 nftables curl ca-certificates procps
  linux-image-amd64 initramfs-tools util-linux
  libnl-3-200 libnl-route-3-200 libnl-nf-3-200 libnftables1 libsqlite3-0 libcurl4
  libssl3 zlib1g libsystemd0 libudev1)

log() { echo "[image] $*" >&2; }
hash_of() { sha256sum | cut -c1-16; }

# ---- stage 1: base root ----------------------------------------------------------------------
stage1_files=(20-wired.network 60-seatlock-vm-agent.rules customize.sh initramfs-essential.sh seatlock-vm-agent
  seatlock-vm-agent.service)
base_key=$( { printf '%s\n' "${packages[@]}" "$mirror"; (cd "$here/guest" && cat "${stage1_files[@]}"); } | hash_of)
base_tar="$workdir/base-$base_key.tar"
if [[ ! -s "$base_tar" ]]; then
  log "stage 1: mmdebstrap bookworm (key $base_key)"
  t0=$(date +%s)
  inc=$(IFS=,; echo "${packages[*]}")
  mmdebstrap --quiet --variant=minbase --mode=root --format=tar --include="$inc" \
    --skip=cleanup/apt/lists \
    --essential-hook="'$here/guest/initramfs-essential.sh' \"\$1\"" \
    --customize-hook="'$here/guest/customize.sh' \"\$1\"" \
    bookworm "$base_tar.tmp" "$mirror" >&2
  mv "$base_tar.tmp" "$base_tar"
  log "stage 1 took $(( $(date +%s) - t0 )) s"
fi

# ---- stage 2: seatlock package + site policy ---------------------------------------------------
debs=()
if [[ -n "$deb_dir" ]]; then
  # The agent package only: the collector runs on the host, like the central site.
  mapfile -t debs < <(find "$deb_dir" -maxdepth 1 -name 'seatlock_*.deb' | sort)
  [[ ${#debs[@]} -gt 0 ]] || { echo "build_image.sh: no seatlock_*.deb in $deb_dir" >&2; exit 1; }
  [[ ${#debs[@]} -eq 1 ]] || { echo "build_image.sh: several seatlock_*.deb in $deb_dir: ${debs[*]}" >&2; exit 1; }
fi
img_key=$( { echo "$base_key"; cat "$here/guest/tune.sh"; [[ ${#debs[@]} -gt 0 ]] && cat "${debs[@]}";
             [[ -n "$policy_dir" ]] && (cd "$policy_dir" && find . -type f | sort | xargs cat); true; } | hash_of)
img_dir="$workdir/image-$img_key"
if [[ ! -s "$img_dir/disk.ext4" ]]; then
  log "stage 2: image $img_key (deb: ${debs[*]:-none})"
  t0=$(date +%s)
  rm -rf "$img_dir"; mkdir -p "$img_dir"
  root="$img_dir/root"; mkdir "$root"
  tar -C "$root" -xpf "$base_tar" --numeric-owner
  if [[ ${#debs[@]} -gt 0 ]]; then
    cp "${debs[0]}" "$root/tmp/"
    deb_name=$(basename "${debs[0]}")
    # Own mount namespace; only /proc and a private /dev/null-style /dev: no /sys, no /run/udev.
    unshare --mount --pid --fork --kill-child bash -euc '
      root=$1 deb=$2
      mount -t proc proc "$root/proc"
      mount -t tmpfs -o mode=755 dev "$root/dev"
      for n in null zero random urandom tty; do touch "$root/dev/$n"; mount --bind /dev/$n "$root/dev/$n"; done
      printf "#!/bin/sh\nexit 101\n" > "$root/usr/sbin/policy-rc.d"; chmod +x "$root/usr/sbin/policy-rc.d"
      cp /etc/resolv.conf "$root/etc/resolv.conf"
      chroot "$root" env DEBIAN_FRONTEND=noninteractive apt-get install -y -q "/tmp/$deb" >&2
      rm -f "$root/usr/sbin/policy-rc.d" "$root/tmp/$deb"
      umount -R "$root/dev" "$root/proc"
    ' _ "$root" "$deb_name"
  fi
  "$here/guest/tune.sh" "$root"
  if [[ -n "$policy_dir" ]]; then
    mkdir -p "$root/etc/seatlock"
    cp -a "$policy_dir/." "$root/etc/seatlock/"
  fi
  cp -L "$root"/boot/vmlinuz-* "$img_dir/vmlinuz"
  cp -L "$root"/boot/initrd.img-* "$img_dir/initrd.img"
  size_mb=$(( $(du -sm "$root" | cut -f1) + 768 ))
  mkfs.ext4 -q -F -L seatroot -d "$root" "$img_dir/disk.ext4.tmp" "${size_mb}M" >&2
  rm -rf "$root"
  mv "$img_dir/disk.ext4.tmp" "$img_dir/disk.ext4"
  log "stage 2 took $(( $(date +%s) - t0 )) s"
fi
echo "$img_dir"
