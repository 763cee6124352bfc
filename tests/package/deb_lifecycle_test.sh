#!/bin/bash
# The .deb an IT admin installs, end to end: build it from the tree with
# packaging/build-deb.sh, lint it, verify the units, then install, upgrade (to a rebuilt
# higher version), remove and purge it inside a throwaway Debian 12 root (mmdebstrap +
# chroot; neither systemd nor udev runs there, exactly like an image build).
#
# Exit 77 (CTest: skipped) when a needed tool is missing or we are not root.
# Env: SEATLOCK_SOURCE_DIR, SEATLOCK_BINARY_DIR (set by CTest);
#      SEATLOCK_PKG_MIRROR (optional mirror URL for mmdebstrap).
set -uo pipefail

src=${SEATLOCK_SOURCE_DIR:?}
bin=${SEATLOCK_BINARY_DIR:?}
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=tests/package/lib.sh
. "$here/lib.sh"

missing=()
for tool in dpkg-buildpackage dh fakeroot lintian mmdebstrap systemd-analyze chroot; do
  command -v "$tool" >/dev/null || missing+=("$tool")
done
if ((${#missing[@]})); then
  echo "SKIP: missing tools: ${missing[*]} (apt-get install \$(cat scripts/deps.d/packaging.txt))"
  exit 77
fi
if ((EUID != 0)); then
  echo "SKIP: needs root (chroot and dpkg in the throwaway root)"
  exit 77
fi

work=$bin/package-test
cache=$bin/package-cache
root=$work/root
# Nothing is ever mounted under $work (plain chroot), but never rm -rf through a mount.
no_mounts_under() { ! findmnt -rno TARGET | grep -q "^$1"; }
if ! no_mounts_under "$work"; then
  echo "FAIL: something is mounted under $work; not touching it"
  exit 1
fi
rm -rf "$work"
mkdir -p "$work" "$cache"
cleanup() { no_mounts_under "$root" && rm -rf "$root"; }
trap cleanup EXIT

v1=0.1.0
[[ -f $src/packaging/debian/changelog ]] && v1=$(dpkg-parsechangelog -l "$src/packaging/debian/changelog" -S Version)
v2=$v1+pkgtest1

# --- build -----------------------------------------------------------------------------------
# SEATLOCK_PKG_REUSE_BUILD=DIR (development only): reuse the compiled tree of an earlier
# `build-deb.sh --workdir DIR`, so iterating on packaging does not recompile everything.
builddir=${SEATLOCK_PKG_REUSE_BUILD:-$work/build}
reuse_v1=()
[[ -n ${SEATLOCK_PKG_REUSE_BUILD:-} ]] && reuse_v1=(--reuse)
step "build $v1 with packaging/build-deb.sh"
if ! "$src/packaging/build-deb.sh" -o "$work/v1" --workdir "$builddir" "${reuse_v1[@]}" >"$work/build-v1.log" 2>&1; then
  tail -40 "$work/build-v1.log"
  fail "build-deb.sh failed (log: $work/build-v1.log)"
  finish
fi
deb1=$(ls "$work"/v1/seatlock_"$v1"_*.deb)
cdeb1=$(ls "$work"/v1/seatlock-collector_"$v1"_*.deb)
pass "built $(basename "$deb1") and $(basename "$cdeb1")"

# The upgrade: same compiled objects, higher version, and a changed shipped default policy so
# dpkg has a real conffile conflict to resolve.
step "rebuild as $v2 with a changed default policy"
default_policy=$builddir/seatlock/policy/default/00-default.json
cp "$default_policy" "$work/00-default.json.v1"
printf '\n// changed in %s\n' "$v2" >>"$default_policy"
"$src/packaging/build-deb.sh" -o "$work/v2" --workdir "$builddir" --reuse --version "$v2" >"$work/build-v2.log" 2>&1
v2_rc=$?
cp "$work/00-default.json.v1" "$default_policy"
if ((v2_rc != 0)); then
  tail -40 "$work/build-v2.log"
  fail "rebuild at $v2 failed (log: $work/build-v2.log)"
  finish
fi
deb2=$(ls "$work"/v2/seatlock_"$v2"_*.deb)
cdeb2=$(ls "$work"/v2/seatlock-collector_"$v2"_*.deb)
pass "rebuilt $(basename "$deb2")"
# The compiled tree (about 2 GB) is not needed past this point; the test command goes on to an
# ASan build, and CI machines' disks can be small. A tree passed in for reuse stays.
[[ -z ${SEATLOCK_PKG_REUSE_BUILD:-} ]] && rm -rf "$builddir"

# --- lintian ---------------------------------------------------------------------------------
step "lintian"
lintian --tag-display-limit 0 "$deb1" "$cdeb1" >"$work/lintian.txt" 2>&1
cat "$work/lintian.txt"
if grep -qE '^[EW]: ' "$work/lintian.txt"; then
  fail "lintian reports errors or warnings"
else
  pass "lintian: no errors, no warnings"
fi

# --- throwaway Debian 12 root ----------------------------------------------------------------
# Cached per set of runtime dependencies, so re-runs skip mmdebstrap (about 1.5 min).
runtime_deps() {
  for d in "$@"; do dpkg-deb -f "$d" Depends; done | tr ',' '\n' | sed 's/[(|].*//; s/ //g' |
    grep -v '^seatlock' | grep -v '^$' | sort -u
}
includes=$( (runtime_deps "$deb1" "$cdeb1"; printf '%s\n' systemd udev) | sort -u | paste -sd, -)
tarball=$cache/bookworm-$(printf '%s' "$includes" | sha256sum | cut -c1-16).tar
step "Debian 12 root ($includes)"
if [[ ! -s $tarball ]]; then
  # shellcheck disable=SC2086
  # unshare mode: its mounts live in a private namespace and vanish even if it is killed.
  partial=${tarball%.tar}.partial.tar
  if ! mmdebstrap --mode=unshare --variant=apt --include="$includes" bookworm "$partial" \
      ${SEATLOCK_PKG_MIRROR:-} >"$work/mmdebstrap.log" 2>&1; then
    tail -20 "$work/mmdebstrap.log"
    rm -f "$partial"
    fail "mmdebstrap failed (log: $work/mmdebstrap.log)"
    finish
  fi
  mv "$partial" "$tarball"
fi
mkdir -p "$root"
if ! tar -C "$root" -xf "$tarball"; then
  fail "cannot unpack $tarball"
  finish
fi
mkdir -p "$root/tmp/debs"
cp "$deb1" "$cdeb1" "$deb2" "$cdeb2" "$root/tmp/debs/"
pass "root ready from $(basename "$tarball")"

in_root() { chroot "$root" /usr/bin/env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin DEBIAN_FRONTEND=noninteractive "$@"; }
apt_in_root() {
  in_root apt-get -y -o Dpkg::Options::=--force-confdef -o Dpkg::Options::=--force-confold "$@"
}

# --- units -----------------------------------------------------------------------------------
step "systemd-analyze verify (units as shipped, against the root's systemd)"
units=(seatlockd.service seatlock-netlock.service seatlock-usbd.service seatlock-collector.service)
if apt_in_root install "/tmp/debs/$(basename "$deb1")" "/tmp/debs/$(basename "$cdeb1")" >"$work/install.log" 2>&1; then
  pass "apt install ./seatlock_${v1}_*.deb ./seatlock-collector_${v1}_*.deb in a root without systemd/udev running"
else
  cat "$work/install.log"
  fail "install failed"
  finish
fi
if systemd-analyze verify --root="$root" --man=no "${units[@]}" >"$work/verify.txt" 2>&1; then
  pass "systemd-analyze verify: ${units[*]}"
else
  cat "$work/verify.txt"
  fail "systemd-analyze verify reports problems"
fi
for u in "${units[@]}"; do
  systemd-analyze security --offline=yes --root="$root" "$u" 2>/dev/null | tail -1 | sed 's/^/  /'
done

# --- after install ---------------------------------------------------------------------------
step "installed files, permissions, enablement"
check_status() { in_root dpkg-query -W -f='${Status} ${Version}' "$1" 2>/dev/null; }
expect_eq "seatlock status" "install ok installed $v1" "$(check_status seatlock)"
expect_eq "seatlock-collector status" "install ok installed $v1" "$(check_status seatlock-collector)"
for f in /usr/sbin/seatlockd /usr/sbin/seatlockctl /usr/libexec/seatlock/seatlock-netlock \
  /usr/libexec/seatlock/seatlock-uplink /usr/libexec/seatlock/seatlock-usbd /usr/bin/seatlock-collector; do
  expect_mode "$f" "755 root:root" "$root$f"
done
expect_mode "/var/lib/seatlock" "700 root:root" "$root/var/lib/seatlock"
expect_mode "/etc/seatlock-collector/tls" "700 root:root" "$root/etc/seatlock-collector/tls"
expect_mode "/etc/seatlock/policy.d/00-default.json" "644 root:root" "$root/etc/seatlock/policy.d/00-default.json"
expect_file "$root/lib/systemd/system/seatlockd.service"
expect_file "$root/lib/systemd/system/seatlock-netlock.service"
expect_file "$root/lib/systemd/system/seatlock-usbd.service"
expect_file "$root/lib/systemd/system/seatlock-collector.service"
expect_file "$root/etc/seatlock-collector/collector.env"
expect_file "$root/usr/lib/sysctl.d/60-seatlock-collector.conf"
# The network side runs apart (issue 18): seatlock-uplink's user exists, not root, no login;
# seatlockd itself links no HTTP/TLS stack.
expect_file "$root/usr/lib/sysusers.d/seatlock.conf"
expect_match "user _seatlock-uplink exists, unprivileged, no login" \
  '^_seatlock-uplink:x:[1-9][0-9]*:[1-9][0-9]*:.*:/nonexistent:/usr/sbin/nologin$' \
  "$(in_root getent passwd _seatlock-uplink 2>&1)"
expect_eq "seatlockd links no libcurl" "" \
  "$(readelf -d "$root/usr/sbin/seatlockd" 2>&1 | grep -o 'libcurl[^]]*' || true)"
expect_contains "installed seatlock-uplink refuses to run without seatlockd" "started by seatlockd only" \
  "$(in_root /usr/libexec/seatlock/seatlock-uplink 2>&1 || true)"
# Boot time (issue 18): the netlock unit runs the small loader, which must need nothing but
# libnftables (and the C/C++ runtime), and the nft modules are loaded ahead by modules-load.d.
netlock_unit=$(cat "$root/lib/systemd/system/seatlock-netlock.service" 2>/dev/null)
expect_contains "netlock unit runs the loader" "ExecStart=/usr/libexec/seatlock/seatlock-netlock" "$netlock_unit"
expect_match "netlock loads its table after the nft modules are loaded" \
  "^After=.*systemd-modules-load.service" "$netlock_unit"
expect_eq "the loader links only libnftables and the C/C++ runtime" \
  "libc.so.6 libgcc_s.so.1 libnftables.so.1 libstdc++.so.6" \
  "$(readelf -d "$root/usr/libexec/seatlock/seatlock-netlock" 2>&1 | sed -n 's/.*Shared library: \[\(.*\)\]/\1/p' | sort | xargs)"
expect_contains "installed loader runs in the root" "usage: seatlock-netlock" \
  "$(in_root /usr/libexec/seatlock/seatlock-netlock --help 2>&1 || true)"
# The USB lockdown is its own unit (issue 18): up before seatlockd and the login, restarted
# on its own, linked against the C/C++ runtime only; seatlockd only connects to it.
usbd_unit=$(cat "$root/lib/systemd/system/seatlock-usbd.service" 2>/dev/null)
expect_contains "usbd unit runs seatlock-usbd" "ExecStart=/usr/libexec/seatlock/seatlock-usbd" "$usbd_unit"
expect_match "usbd unit is Type=notify" "^Type=notify$" "$usbd_unit"
expect_match "usbd unit always restarts" "^Restart=always$" "$usbd_unit"
expect_match "usbd starts before seatlockd and the login" \
  "^Before=.*seatlockd.service.*systemd-user-sessions.service" "$usbd_unit"
seatlockd_unit=$(cat "$root/lib/systemd/system/seatlockd.service" 2>/dev/null)
expect_match "seatlockd wants usbd" "^Wants=.*seatlock-usbd.service" "$seatlockd_unit"
expect_match "seatlockd starts after usbd" "^After=.*seatlock-usbd.service" "$seatlockd_unit"
expect_match "seatlockd under systemd connects to the unit's usbd, never starts its own" \
  "^Environment=SEATLOCK_USBD=connect$" "$seatlockd_unit"
usbd_needed=$(readelf -d "$root/usr/libexec/seatlock/seatlock-usbd" 2>&1 |
  sed -n 's/.*Shared library: \[\(.*\)\]/\1/p' | sort | xargs)
expect_match "seatlock-usbd links libstdc++ and libc ($usbd_needed)" "libc\.so.*libstdc\+\+\.so" "$usbd_needed"
expect_eq "seatlock-usbd links only the C/C++ runtime ($usbd_needed)" "" \
  "$(tr ' ' '\n' <<<"$usbd_needed" | grep -vxE 'lib(c|gcc_s|m|stdc\+\+)\.so\.[0-9]+' | xargs)"
expect_contains "installed seatlock-usbd runs in the root" "usage: seatlock-usbd" \
  "$(in_root /usr/libexec/seatlock/seatlock-usbd --help 2>&1 || true)"
modules_conf=$(grep -v '^#' "$root/usr/lib/modules-load.d/seatlock.conf" 2>/dev/null | xargs)
expect_eq "modules-load.d lists the nft modules the tables use" \
  "nf_tables nft_ct nft_limit nft_log nfnetlink_log nft_objref" "$modules_conf"
for page in man8/seatlockd.8 man8/seatlockctl.8 man5/seatlock-policy.5 man8/seatlock-collector.8; do
  expect_file "$root/usr/share/man/$page.gz"
done
expect_file "$root/usr/share/bash-completion/completions/seatlockctl"
expect_file "$root/usr/share/bash-completion/completions/seatlock-collector"
for rules in "$src"/udev/*.rules; do
  [[ -e $rules ]] && expect_file "$root/usr/lib/udev/rules.d/$(basename "$rules")"
done
for schema in "$src"/policy/*.schema.json; do
  [[ -e $schema ]] && expect_file "$root/usr/share/seatlock/$(basename "$schema")"
done
conffiles=$(in_root dpkg-query -W -f='${Conffiles}' seatlock)
expect_match "00-default.json is a conffile" "/etc/seatlock/policy.d/00-default.json" "$conffiles"
expect_link "seatlockd enabled" "$root/etc/systemd/system/multi-user.target.wants/seatlockd.service"
expect_link "netlock enabled" "$root/etc/systemd/system/sysinit.target.wants/seatlock-netlock.service"
expect_link "usbd enabled" "$root/etc/systemd/system/multi-user.target.wants/seatlock-usbd.service"
expect_link "collector enabled" "$root/etc/systemd/system/multi-user.target.wants/seatlock-collector.service"
expect_contains "installed seatlockctl runs in the root" "seatlockctl $v1" \
  "$(in_root seatlockctl version 2>&1 || true)"
expect_match "installed seatlockd runs in the root" "usage|seatlockd" \
  "$(in_root seatlockd --help 2>&1 || true)"
check_out=$(in_root seatlockctl policy check /etc/seatlock/policy.d 2>&1)
check_rc=$?
expect_eq "shipped default policy passes 'seatlockctl policy check' (output: $check_out)" 0 "$check_rc"

# --- local edits, then upgrade ---------------------------------------------------------------
step "upgrade $v1 -> $v2 with an edited conffile and local state"
printf '\n// edited by IT on this seat\n' >>"$root/etc/seatlock/policy.d/00-default.json"
edited_sum=$(sha256sum <"$root/etc/seatlock/policy.d/00-default.json")
printf '{ "report": { "seat_id": "seat-117" } }\n' >"$root/etc/seatlock/policy.d/90-seat.json"
printf 'spool' >"$root/var/lib/seatlock/spool.db"
if apt_in_root install "/tmp/debs/$(basename "$deb2")" "/tmp/debs/$(basename "$cdeb2")" >"$work/upgrade.log" 2>&1; then
  pass "apt install of $v2 over $v1"
else
  cat "$work/upgrade.log"
  fail "upgrade failed"
fi
expect_eq "seatlock upgraded" "install ok installed $v2" "$(check_status seatlock)"
expect_eq "edited 00-default.json kept" "$edited_sum" "$(sha256sum <"$root/etc/seatlock/policy.d/00-default.json")"
expect_contains "new default shipped beside it as .dpkg-dist" "changed in $v2" \
  "$(cat "$root/etc/seatlock/policy.d/00-default.json.dpkg-dist" 2>/dev/null)"
expect_file "$root/etc/seatlock/policy.d/90-seat.json"
expect_eq "state kept over upgrade" "spool" "$(cat "$root/var/lib/seatlock/spool.db" 2>/dev/null)"
expect_mode "/var/lib/seatlock after upgrade" "700 root:root" "$root/var/lib/seatlock"
expect_link "seatlockd still enabled" "$root/etc/systemd/system/multi-user.target.wants/seatlockd.service"
expect_link "usbd still enabled" "$root/etc/systemd/system/multi-user.target.wants/seatlock-usbd.service"

# --- remove, purge ---------------------------------------------------------------------------
step "remove keeps lock state and policy; purge removes state"
if apt_in_root remove seatlock seatlock-collector >"$work/remove.log" 2>&1; then
  pass "apt remove"
else
  cat "$work/remove.log"
  fail "remove failed"
fi
expect_absent "$root/usr/sbin/seatlockd"
expect_absent "$root/usr/libexec/seatlock/seatlock-netlock"
expect_absent "$root/usr/libexec/seatlock/seatlock-usbd"
expect_absent "$root/usr/lib/modules-load.d/seatlock.conf"
expect_eq "state kept after remove" "spool" "$(cat "$root/var/lib/seatlock/spool.db" 2>/dev/null)"
expect_file "$root/etc/seatlock/policy.d/00-default.json"
if apt_in_root purge seatlock seatlock-collector >"$work/purge.log" 2>&1; then
  pass "apt purge"
else
  cat "$work/purge.log"
  fail "purge failed"
fi
expect_eq "seatlock purged" "" "$(in_root dpkg-query -W -f='${Status}' seatlock 2>/dev/null | grep -v not-installed)"
expect_absent "$root/var/lib/seatlock"
expect_absent "$root/etc/seatlock/policy.d/00-default.json"
expect_absent "$root/etc/seatlock-collector/collector.env"
expect_absent "$root/etc/systemd/system/multi-user.target.wants/seatlockd.service"
expect_absent "$root/etc/systemd/system/sysinit.target.wants/seatlock-netlock.service"
expect_absent "$root/etc/systemd/system/multi-user.target.wants/seatlock-usbd.service"
expect_file "$root/etc/seatlock/policy.d/90-seat.json"  # the admin's own file is theirs

finish
