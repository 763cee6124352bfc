#!/bin/bash
# Builds the seatlock .debs from a clean copy of the source tree.
#
#   packaging/build-deb.sh [-o OUTDIR] [--version VERSION] [--workdir DIR [--reuse]]
#
#   -o OUTDIR          where the .deb, .buildinfo and .changes files go (default: ./out)
#   --version VERSION  build this package version (adds a changelog entry in the copy)
#   --workdir DIR      keep the source copy and build directory in DIR (default: a temp dir,
#                      removed afterwards)
#   --reuse            with --workdir: keep the existing copy and compiled objects and only
#                      re-run the packaging steps (fast rebuild at another version)
#
# The copy holds the files git knows about (tracked and untracked-but-not-ignored), so build
# directories and local junk never leak into the package; packaging/debian becomes debian/.
# Parallelism comes from DEB_BUILD_OPTIONS (default parallel=2).
set -euo pipefail

src=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
out=$PWD/out
version=""
workdir=""
reuse=0
while (($#)); do
  case $1 in
    -o) out=$2; shift 2 ;;
    --version) version=$2; shift 2 ;;
    --workdir) workdir=$2; shift 2 ;;
    --reuse) reuse=1; shift ;;
    -h|--help) sed -n '2,16p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) echo "build-deb.sh: unknown argument '$1'" >&2; exit 2 ;;
  esac
done

for tool in dpkg-buildpackage dh fakeroot; do
  command -v "$tool" >/dev/null || { echo "build-deb.sh: $tool not found (apt-get install dpkg-dev debhelper fakeroot)" >&2; exit 1; }
done

if [[ -z $workdir ]]; then
  workdir=$(mktemp -d /tmp/seatlock-deb.XXXXXX)
  trap 'rm -rf "$workdir"' EXIT
  reuse=0
fi
tree=$workdir/seatlock
mkdir -p "$out"
out=$(cd "$out" && pwd)

if ((reuse == 0)) || [[ ! -d $tree/debian ]]; then
  reuse=0
  rm -rf "$tree"
  mkdir -p "$tree"
  if git -C "$src" rev-parse --is-inside-work-tree >/dev/null 2>&1; then
    git -C "$src" ls-files -z --cached --others --exclude-standard |
      (cd "$src" && xargs -0 -r sh -c 'for f; do [ -e "$f" ] && printf "%s\0" "$f"; done' _) |
      (cd "$src" && tar --null -T - -cf -) | tar -C "$tree" -xf -
  else
    tar -C "$src" --exclude='./build*' --exclude=./out --exclude=./.git -cf - . | tar -C "$tree" -xf -
  fi
  cp -a "$tree/packaging/debian" "$tree/debian"
  cp "$tree/debian/changelog" "$workdir/changelog.base"
fi

# The version: the packaged changelog's, or a new entry on top of it.
cp "$workdir/changelog.base" "$tree/debian/changelog"
if [[ -n $version ]]; then
  {
    printf 'seatlock (%s) bookworm; urgency=medium\n\n  * Local build %s.\n\n' "$version" "$version"
    printf ' -- seatlock maintainers <seatlock@example.org>  %s\n\n' "$(date -R)"
    cat "$workdir/changelog.base"
  } > "$tree/debian/changelog"
fi

export DEB_BUILD_OPTIONS=${DEB_BUILD_OPTIONS:-parallel=2}
build_args=(-b -us -uc)
((reuse)) && build_args+=(-nc)
(cd "$tree" && dpkg-buildpackage "${build_args[@]}")

shopt -s nullglob
results=("$workdir"/seatlock*_"$(cd "$tree" && dpkg-parsechangelog -S Version)"_*.{deb,ddeb,buildinfo,changes})
if ((${#results[@]} == 0)); then
  echo "build-deb.sh: dpkg-buildpackage produced no .deb" >&2
  exit 1
fi
mv -f "${results[@]}" "$out/"
ls -1 "$out"/*_"$(cd "$tree" && dpkg-parsechangelog -S Version)"_*.deb
