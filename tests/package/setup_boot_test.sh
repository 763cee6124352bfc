#!/bin/bash
# `seatlockctl setup boot` against fake roots: it shows and never writes without --apply,
# adds usbcore.authorized_default=0 to GRUB_CMDLINE_LINUX with --apply (keeping the other
# options, a backup and the file mode), runs update-grub only then, and refuses to rewrite
# lines it cannot parse safely.
#   usage: setup_boot_test.sh /path/to/seatlockctl
set -uo pipefail
ctl=${1:?path to seatlockctl}
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=tests/package/lib.sh
. "$here/lib.sh"

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

# make_root NAME GRUB_CONTENT PROC_CMDLINE -> prints the root path
make_root() {
  local r=$tmp/$1
  mkdir -p "$r/etc/default" "$r/proc"
  [[ -n $2 ]] && printf '%s\n' "$2" >"$r/etc/default/grub"
  printf '%s\n' "$3" >"$r/proc/cmdline"
  chmod 0644 "$r/etc/default/grub" 2>/dev/null
  echo "$r"
}
# A fake update-grub that records that it ran.
cat >"$tmp/update-grub" <<'SH'
#!/bin/sh
echo ran >"$(dirname "$0")/update-grub.ran"
SH
chmod +x "$tmp/update-grub"
boot() { "$ctl" setup boot --update-grub "$tmp/update-grub" "$@"; }

step "show only: nothing written, update-grub not run"
r=$(make_root show 'GRUB_DEFAULT=0
GRUB_CMDLINE_LINUX_DEFAULT="quiet"
GRUB_CMDLINE_LINUX="console=ttyS0 net.ifnames=0"' 'BOOT_IMAGE=/vmlinuz root=/dev/vda1 quiet')
before=$(sha256sum <"$r/etc/default/grub")
out=$(boot --root "$r" 2>&1); rc=$?
expect_eq "exit 1 while the option is missing" 1 "$rc"
expect_match "says the running kernel lacks it" "NOT set" "$out"
expect_match "shows the line it would write" 'would set: +GRUB_CMDLINE_LINUX="console=ttyS0 net.ifnames=0 usbcore.authorized_default=0"' "$out"
expect_eq "grub file untouched" "$before" "$(sha256sum <"$r/etc/default/grub")"
expect_absent "$tmp/update-grub.ran"

step "--apply: rewrites the line, keeps a backup and the mode, runs update-grub"
chmod 0640 "$r/etc/default/grub"
out=$(boot --root "$r" --apply 2>&1); rc=$?
expect_eq "exit 0" 0 "$rc"
expect_match "new line in file" '^GRUB_CMDLINE_LINUX="console=ttyS0 net.ifnames=0 usbcore.authorized_default=0"$' \
  "$(cat "$r/etc/default/grub")"
expect_match "other settings kept" '^GRUB_CMDLINE_LINUX_DEFAULT="quiet"$' "$(cat "$r/etc/default/grub")"
expect_eq "backup is the old file" "$before" "$(sha256sum <"$r/etc/default/grub.seatlock-backup")"
expect_eq "mode kept" 640 "$(stat -c %a "$r/etc/default/grub")"
expect_file "$tmp/update-grub.ran"
rm -f "$tmp/update-grub.ran"

step "second run: already configured, nothing to do"
out=$(boot --root "$r" --apply 2>&1); rc=$?
expect_eq "exit 0" 0 "$rc"
expect_match "says nothing to change" "nothing to change" "$out"
expect_absent "$tmp/update-grub.ran"
expect_eq "option present exactly once" 1 "$(grep -o 'usbcore.authorized_default=0' "$r/etc/default/grub" | wc -l)"

step "a different value is replaced, not duplicated"
r=$(make_root other "GRUB_CMDLINE_LINUX='usbcore.authorized_default=1 quiet'" 'root=/dev/vda1 usbcore.authorized_default=0')
out=$(boot --root "$r" --apply 2>&1); rc=$?
expect_eq "exit 0" 0 "$rc"
expect_match "running kernel reported as set" "is set" "$out"
expect_match "=1 replaced by =0" '^GRUB_CMDLINE_LINUX="quiet usbcore.authorized_default=0"$' "$(cat "$r/etc/default/grub")"
rm -f "$tmp/update-grub.ran"

step "no GRUB_CMDLINE_LINUX line: one is appended"
r=$(make_root missing 'GRUB_DEFAULT=0' '')
out=$(boot --root "$r" --apply 2>&1); rc=$?
expect_eq "exit 0" 0 "$rc"
expect_match "line appended" '^GRUB_CMDLINE_LINUX="usbcore.authorized_default=0"$' "$(cat "$r/etc/default/grub")"
rm -f "$tmp/update-grub.ran"

step "shell expansion in the value: refused, file untouched"
r=$(make_root expansion 'GRUB_CMDLINE_LINUX="$EXTRA quiet"' '')
before=$(sha256sum <"$r/etc/default/grub")
out=$(boot --root "$r" --apply 2>&1); rc=$?
expect_eq "exit 1" 1 "$rc"
expect_match "explains why" "shell expansion" "$out"
expect_eq "grub file untouched" "$before" "$(sha256sum <"$r/etc/default/grub")"
expect_absent "$tmp/update-grub.ran"

step "no /etc/default/grub: says so"
r=$(make_root nogrub '' '')
out=$(boot --root "$r" --apply 2>&1); rc=$?
expect_eq "exit 1" 1 "$rc"
expect_match "explains" "does not boot with GRUB" "$out"

step "update-grub failing is reported"
r=$(make_root failing 'GRUB_CMDLINE_LINUX=""' '')
out=$("$ctl" setup boot --root "$r" --apply --update-grub false 2>&1); rc=$?
expect_eq "exit 1" 1 "$rc"
expect_match "names the failure" "false failed" "$out"

step "usage errors"
"$ctl" setup boot --bogus >/dev/null 2>&1; rc=$?
expect_eq "unknown argument -> exit 2" 2 "$rc"

finish
