#!/bin/sh
# build-tiny.sh SRC OUT FRAGMENT BZIMAGE [-jN]: the tiny Linux guest kernel.
#   make tinyconfig, merge FRAGMENT (scripts/kconfig/merge_config.sh),
#   make olddefconfig, check that every line of FRAGMENT holds in the final
#   .config, make bzImage, copy it to BZIMAGE (+ BZIMAGE.info: the source
#   package, the fragment's SHA-256, the build time).
# SRC is the extracted linux-source-6.1 tree (never written to: the objects
# are in OUT, an O= build directory, which is wiped when SRC is another
# Debian version than the one it was built from). Without -jN the kernel's
# make takes the jobserver of the make that runs this (the recipe is a `+`
# line), else -jN. The kernel's output goes to OUT/build.log.
set -eu
[ $# -ge 4 ] || { echo "usage: $0 SRC OUT FRAGMENT BZIMAGE [-jN]" >&2; exit 2; }
src=$1 out=$2 frag=$3 bzimage=$4 jobs=${5:-}
die() { echo "build-tiny.sh: $*" >&2; exit 1; }
srcver=$(cat "$src/../.debian-version")
if [ -f "$out/.source-version" ] && [ "$(cat "$out/.source-version")" != "$srcver" ]; then
	echo "  LINUX   $out: built from another source version, starting afresh"
	rm -rf "$out"
fi
mkdir -p "$out"
echo "$srcver" >"$out/.source-version"
out=$(cd "$out" && pwd) frag=$(cd "$(dirname "$frag")" && pwd)/$(basename "$frag")

# Reproducible: no user, host or date of this machine in the image.
KBUILD_BUILD_USER=custos KBUILD_BUILD_HOST=custos KBUILD_BUILD_VERSION=1
KBUILD_BUILD_TIMESTAMP=$(date -u -d "@$(stat -c %Y "$src/Makefile")")
export KBUILD_BUILD_USER KBUILD_BUILD_HOST KBUILD_BUILD_VERSION KBUILD_BUILD_TIMESTAMP

log=$out/build.log
: >"$log"
kmake() { make -C "$src" O="$out" "$@" >>"$log" 2>&1 || {
	tail -n 40 "$log" >&2; die "make $* failed (log: $log)"; }; }
start=$(date +%s)
echo "  LINUX   tinyconfig + $(basename "$frag") ($srcver)"
kmake tinyconfig
(cd "$src" && scripts/kconfig/merge_config.sh -m -O "$out" "$out/.config" "$frag") >>"$log" 2>&1 ||
	{ tail -n 20 "$log" >&2; die "merge_config.sh failed"; }
kmake olddefconfig
# Every option the fragment sets or unsets must have survived the merge.
bad=0
while IFS= read -r line; do
	case $line in
	CONFIG_*=*) grep -qxF "$line" "$out/.config" || { echo "  not in .config: $line" >&2; bad=1; } ;;
	"# CONFIG_"*" is not set")
		opt=${line#\# }; opt=${opt%% *}
		! grep -q "^$opt=" "$out/.config" || { echo "  set in .config: $opt" >&2; bad=1; } ;;
	esac
done <"$frag"
[ $bad -eq 0 ] || die "$frag does not hold in $out/.config (a dependency missing?)"
echo "  LINUX   make ${jobs:-(jobserver)} bzImage (log: $log)"
# shellcheck disable=SC2086
kmake $jobs bzImage
cp "$out/arch/x86/boot/bzImage" "$bzimage.tmp"
end=$(date +%s)
{
	echo "source: $srcver"
	echo "fragment: $(sha256sum "$frag" | cut -d' ' -f1)  $(basename "$frag")"
	echo "config: $(sha256sum "$out/.config" | cut -d' ' -f1)"
	echo "compiler: $(gcc --version | head -n 1)"
	echo "build seconds: $((end - start)) (configure + make ${jobs:-(jobserver)} bzImage, $(nproc) cores)"
} >"$bzimage.info"
mv "$bzimage.tmp" "$bzimage"
echo "  LINUX   $bzimage: $(stat -c %s "$bzimage") bytes, $((end - start)) s"
