#!/bin/sh
# fetch.sh WHAT DEST: download one Debian package with `apt-get download`
# into build/linux/debs/ (nothing is installed) and extract what the Linux
# guest assets need from it into DEST, which only ever appears complete.
#   busybox        DEST/busybox (busybox-static's /bin/busybox)
#   linux-source   DEST/linux-source-6.1/ (the tree inside linux-source-6.1)
#   linux-debian   DEST/vmlinuz (the /boot/vmlinuz-* of the linux-image-*
#                  package that linux-image-cloud-amd64 depends on today)
# DEST/.debian-version names the package and version used. Idempotent:
# nothing happens when DEST exists (remove it to fetch again, e.g. after a
# Debian security update of the kernel).
set -eu
[ $# -eq 2 ] || { echo "usage: $0 busybox|linux-source|linux-debian DEST" >&2; exit 2; }
what=$1 dest=$2
[ -d "$dest" ] && exit 0
debs=$(dirname "$dest")/debs
die() { echo "fetch.sh: $*" >&2; exit 1; }

# download PKG: leaves $debs/PKG.deb (renamed from apt's versioned name).
download() {
	tmp=$debs/.dl-$1
	rm -rf "$tmp"
	mkdir -p "$tmp"
	# As root apt warns that the _apt user cannot write here ("download is
	# performed unsandboxed"): harmless, so the output is kept for errors.
	if ! (cd "$tmp" && apt-get download -q "$1" >apt.log 2>&1); then
		if [ "$(id -u)" -eq 0 ]; then
			echo "  APT     apt-get update (for $1)"
			apt-get update -q >/dev/null 2>&1 || die "apt-get update failed"
			(cd "$tmp" && apt-get download -q "$1" >apt.log 2>&1) || {
				cat "$tmp/apt.log" >&2; die "apt-get download $1 failed"; }
		else
			cat "$tmp/apt.log" >&2
			die "apt-get download $1 failed (as root: apt-get update, then retry)"
		fi
	fi
	set -- "$1" "$tmp"/*.deb
	[ -f "$2" ] || die "apt-get download $1 left no .deb"
	mv "$2" "$debs/$1.deb"
	rm -rf "$tmp"
	echo "  APT     $1 $(dpkg-deb -f "$debs/$1.deb" Version) -> $debs/$1.deb"
}

out=$dest.tmp
rm -rf "$out"
mkdir -p "$out" "$debs"
case $what in
busybox)
	download busybox-static
	pkg=busybox-static
	dpkg-deb --fsys-tarfile "$debs/$pkg.deb" | tar -xO ./bin/busybox >"$out/busybox"
	chmod 755 "$out/busybox"
	;;
linux-source)
	pkg=linux-source-6.1
	download $pkg
	# The .deb holds one file, /usr/src/linux-source-6.1.tar.xz (~140 MB;
	# ~1.5 GB extracted, in about 10 s).
	echo "  TAR     $out/linux-source-6.1"
	dpkg-deb --fsys-tarfile "$debs/$pkg.deb" |
		tar -xO ./usr/src/linux-source-6.1.tar.xz | tar -xJ -C "$out"
	[ -f "$out/linux-source-6.1/Makefile" ] || die "no linux-source-6.1/Makefile in $pkg"
	;;
linux-debian)
	# A metapackage: the kernel is in the versioned package it depends on.
	pkg=$(apt-cache depends linux-image-cloud-amd64 2>/dev/null |
		sed -n 's/^ *Depends: \(linux-image-[0-9][^ ]*-cloud-amd64\)$/\1/p' | head -n 1)
	[ -n "$pkg" ] || die "cannot resolve linux-image-cloud-amd64 (apt-get update?)"
	download "$pkg"
	dpkg-deb --fsys-tarfile "$debs/$pkg.deb" | tar -x -C "$out" --wildcards './boot/vmlinuz-*'
	set -- "$out"/boot/vmlinuz-*
	[ -f "$1" ] || die "no /boot/vmlinuz-* in $pkg"
	mv "$1" "$out/vmlinuz"
	rm -rf "${out:?}/boot"
	;;
*)
	die "unknown: $what"
	;;
esac
echo "$pkg $(dpkg-deb -f "$debs/$pkg.deb" Version)" >"$out/.debian-version"
mv "$out" "$dest"
