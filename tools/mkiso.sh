#!/bin/sh
# mkiso.sh OUT.iso GRUB_CFG KERNEL.elf [MODULE_FILE ...]
# Build a GRUB2 ISO (BIOS + UEFI hybrid) holding the hypervisor, the given
# grub.cfg and any module files (copied to /boot/ under their base names).
set -eu
[ $# -ge 3 ] || { echo "usage: $0 OUT.iso GRUB_CFG KERNEL.elf [MODULE ...]" >&2; exit 2; }
out=$1 cfg=$2 kernel=$3
shift 3
stage=$(mktemp -d "${TMPDIR:-/tmp}/custos-iso.XXXXXX")
trap 'rm -rf "$stage"' EXIT
mkdir -p "$stage/boot/grub"
cp "$cfg" "$stage/boot/grub/grub.cfg"
cp "$kernel" "$stage/boot/custos.elf"
for m in "$@"; do cp "$m" "$stage/boot/"; done
log=$stage.log
# Fonts, locales and themes are not needed on a serial-only boot.
if ! grub-mkrescue --fonts= --locales= --themes= -o "$out" "$stage" >"$log" 2>&1; then
	cat "$log" >&2
	rm -f "$log"
	exit 1
fi
rm -f "$log"
