# Small assertion helpers for the package tests (sourced). Each check prints one line;
# finish prints "N passed, M failed" and exits non-zero if anything failed.
passed=0
failed=0

step() { printf '\n== %s\n' "$*"; }
pass() { passed=$((passed + 1)); printf 'ok    %s\n' "$*"; }
fail() { failed=$((failed + 1)); printf 'FAIL  %s\n' "$*"; }

expect_eq() {  # name expected actual
  if [[ $2 == "$3" ]]; then pass "$1"; else fail "$1: expected '$2', got '$3'"; fi
}
expect_match() {  # name extended-regex text
  if grep -qE -- "$2" <<<"$3"; then pass "$1"; else fail "$1: no match for '$2' in: $3"; fi
}
expect_contains() {  # name fixed-string text
  if grep -qF -- "$2" <<<"$3"; then pass "$1"; else fail "$1: '$2' not found in: $3"; fi
}
expect_file() {
  if [[ -f $1 ]]; then pass "present: ${1#"${root:-}"}"; else fail "missing file: ${1#"${root:-}"}"; fi
}
expect_absent() {
  if [[ ! -e $1 && ! -L $1 ]]; then pass "absent: ${1#"${root:-}"}"; else fail "still there: ${1#"${root:-}"}"; fi
}
expect_link() {  # name path
  if [[ -L $2 ]]; then pass "$1"; else fail "$1: no symlink ${2#"${root:-}"}"; fi
}
expect_mode() {  # name "mode owner:group" path
  local got
  got=$(stat -c '%a %U:%G' "$3" 2>/dev/null || echo "missing")
  expect_eq "$1 is $2" "$2" "$got"
}
finish() {
  printf '\n%d passed, %d failed\n' "$passed" "$failed"
  ((failed == 0))
  exit
}
