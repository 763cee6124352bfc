#!/usr/bin/env bash
# Checks that every tracked C++ file is formatted with the root .clang-format (clang-format from
# scripts/deps.d/checks.txt). Exit 1 and the list of files otherwise; fix with
#   clang-format -i FILE...
# SEATLOCK_FORMAT_CHECK=report lists the files but exits 0.
set -euo pipefail
cd "$(dirname "$0")/.."
if git rev-parse --is-inside-work-tree >/dev/null 2>&1; then
  mapfile -d '' files < <(git ls-files -z -- '*.cpp' '*.hpp' '*.h' '*.cc')
else  # an exported tree without .git
  mapfile -d '' files < <(find agent collector tests bench \( -name '*.cpp' -o -name '*.hpp' -o \
    -name '*.h' -o -name '*.cc' \) -print0)
fi
present=()
for f in "${files[@]}"; do
  [ -f "$f" ] && present+=("$f")  # a file deleted in the work tree is still in the index
done
# One clang-format run; it names each file that differs in "FILE:LINE:COL: error: ...".
mapfile -t off < <(clang-format --dry-run --Werror "${present[@]}" 2>&1 |
  sed -n 's/^\(.*\):[0-9]*:[0-9]*: error: code should be clang-formatted.*/\1/p' | sort -u)
if [ ${#off[@]} -eq 0 ]; then
  echo "format: all ${#files[@]} C++ files follow .clang-format"
  exit 0
fi
echo "format: ${#off[@]} of ${#files[@]} C++ files differ from .clang-format (clang-format -i FILE):" >&2
printf '  %s\n' "${off[@]}" >&2
[ "${SEATLOCK_FORMAT_CHECK:-enforce}" = report ] && exit 0
exit 1
