#!/bin/sh
# fetch-mbedtls.sh DEST: put Debian's mbedTLS 2.28 source (the upstream orig
# tarball of the `mbedtls` source package) into DEST, e.g. build/mbedtls-2.28.3.
#
# Idempotent and silent when DEST already exists: DEST only ever appears
# complete (the tarball is extracted next to it and renamed into place).
# The source is fetched at build time and never committed.
#
# Needs a deb-src entry for bookworm. If there is none, writes
# /etc/apt/sources.list.d/custos-deb-src.sources (a copy of the deb entries
# of debian.sources with Types: deb-src) and runs apt-get update: that needs
# root; without it the commands to run are printed and the script fails.
set -eu
[ $# -eq 1 ] || { echo "usage: $0 DEST" >&2; exit 2; }
dest=$1
[ -d "$dest" ] && exit 0

say() { echo "  MBEDTLS $*"; }
die() { echo "fetch-mbedtls: $*" >&2; exit 1; }

# Is there a deb-src line (one-line format) or "Types: ... deb-src" stanza
# (deb822 format) for bookworm?
have_deb_src() {
	for f in /etc/apt/sources.list /etc/apt/sources.list.d/*.list; do
		[ -f "$f" ] || continue
		grep -Eq '^[[:space:]]*deb-src[[:space:]].*[[:space:]]bookworm([[:space:]]|$)' "$f" &&
			return 0
	done
	for f in /etc/apt/sources.list.d/*.sources; do
		[ -f "$f" ] || continue
		# One stanza per paragraph: look for one with both deb-src and bookworm.
		awk 'BEGIN { RS = ""; found = 0 }
		     /(^|\n)[Tt]ypes:[^\n]*deb-src/ && /(^|\n)[Ss]uites:[^\n]*bookworm/ { found = 1 }
		     END { exit !found }' "$f" && return 0
	done
	return 1
}

srcfile=/etc/apt/sources.list.d/custos-deb-src.sources
if ! have_deb_src; then
	debsrc=/etc/apt/sources.list.d/debian.sources
	[ -f "$debsrc" ] || die "no deb-src entry for bookworm and no $debsrc to copy one from;
add a deb-src line for bookworm to your apt sources, run apt-get update, and retry"
	if [ "$(id -u)" -ne 0 ]; then
		cat >&2 <<EOF
fetch-mbedtls: apt has no deb-src entry for bookworm (needed to fetch the
mbedTLS source package). As root, run:
  sed 's/^Types:.*/Types: deb-src/' $debsrc > $srcfile
  apt-get update
then run make again.
EOF
		exit 1
	fi
	say "adding $srcfile (deb-src) and running apt-get update"
	sed 's/^Types:.*/Types: deb-src/' "$debsrc" >"$srcfile"
	apt-get update -q >/dev/null 2>&1 || die "apt-get update failed"
fi

dl=$(dirname "$dest")/mbedtls-dl
rm -rf "$dl"
mkdir -p "$dl"
say "fetching the Debian source package into $dl"
# As root apt warns that the _apt user cannot write here ("download is
# performed unsandboxed"): harmless, so keep the output for errors only.
if ! (cd "$dl" && apt-get source --download-only mbedtls >apt.log 2>&1); then
	cat "$dl/apt.log" >&2
	die "apt-get source --download-only mbedtls failed"
fi

dsc=$(ls "$dl"/mbedtls_*.dsc 2>/dev/null | head -n 1)
[ -n "$dsc" ] || die "no .dsc in $dl"
version=$(sed -n 's/^Version:[[:space:]]*//p' "$dsc" | head -n 1)
upstream=${version%%-*}
upstream=${upstream#*:}
case $upstream in
2.28.*) ;;
*) die "Debian's mbedtls source is version $version; Custos needs 2.28.x" ;;
esac
[ "$upstream" = "2.28.3" ] ||
	say "note: Debian ships $upstream (checked with 2.28.3); using it"

orig=$dl/mbedtls_$upstream.orig.tar.gz
[ -f "$orig" ] || die "no $orig"
tmp=$dest.tmp
rm -rf "$tmp"
mkdir -p "$tmp"
# Only what the build needs: the headers, the library sources, the licence.
# (Not the rest: e.g. its ChangeLog.d/ directory would be taken for a
# dependency file by the top-level Makefile, which includes build/**/*.d.)
top=$(tar -tzf "$orig" | head -n 1)
top=${top%%/*}
tar -xzf "$orig" -C "$tmp" --strip-components=1 \
	"$top/include" "$top/library" "$top/LICENSE" ||
	die "cannot extract $orig"
[ -f "$tmp/library/ecdsa.c" ] && [ -f "$tmp/include/mbedtls/version.h" ] ||
	die "$orig does not look like the mbedTLS source"
grep -q "MBEDTLS_VERSION_STRING *\"$upstream\"" "$tmp/include/mbedtls/version.h" ||
	die "$orig: version.h does not say $upstream"
echo "$version" >"$tmp/.debian-version"
mv "$tmp" "$dest"
say "mbedTLS $version in $dest"
