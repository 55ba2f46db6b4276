#!/bin/sh
# Check the hypervisor image: ELF64 x86-64 with a Multiboot2 header in the
# first 32 KiB (Multiboot2 spec 3.1.1), 8-byte aligned.
set -eu
elf=$1
readelf -h "$elf" | grep -q 'Class:.*ELF64' || { echo "$elf: not ELF64" >&2; exit 1; }
readelf -h "$elf" | grep -q 'Machine:.*X86-64' || { echo "$elf: not x86-64" >&2; exit 1; }
off=$(od -A d -t x4 -v -N 32768 "$elf" | awk '
	{ for (i = 2; i <= NF; i++) if ($i == "e85250d6") { print $1 + (i - 2) * 4; exit } }')
[ -n "$off" ] || { echo "$elf: no Multiboot2 header in the first 32 KiB" >&2; exit 1; }
[ $((off % 8)) -eq 0 ] || { echo "$elf: Multiboot2 header at $off is not 8-byte aligned" >&2; exit 1; }
