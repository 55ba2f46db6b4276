#!/bin/sh
# check-elf.sh IMAGE: check a guest image the way the TCB's loader
# (tcb/elf_image.h) will, plus our own rule of no writable+executable
# segment: ELF64 x86-64 ET_EXEC; PT_LOAD segments only; each at or above
# GUEST_IMAGE_MIN_GPA (0x100000) with p_paddr == p_vaddr; none RWX; the entry
# point inside an executable segment.
set -eu
elf=$1
fail() { echo "$elf: $*" >&2; exit 1; }

hdr=$(readelf -hW "$elf")
echo "$hdr" | grep -q 'Class:.*ELF64' || fail "not ELF64"
echo "$hdr" | grep -q 'Machine:.*X86-64' || fail "not x86-64"
echo "$hdr" | grep -q 'Type:.*EXEC' || fail "not ET_EXEC"
entry=$(echo "$hdr" | awk '/Entry point address:/ { print $4 }')

readelf -lW "$elf" | awk -v entry="$entry" -v elf="$elf" '
	function hex(s,   v, i, c) {   # portable: mawk has no strtonum
		v = 0; s = tolower(s); sub(/^0x/, "", s)
		for (i = 1; i <= length(s); i++) {
			c = index("0123456789abcdef", substr(s, i, 1))
			v = v * 16 + c - 1
		}
		return v
	}
	/^  [A-Z_]/ && $2 ~ /^0x/ {
		if ($1 != "LOAD") { print elf ": segment " $1 " is not PT_LOAD"; bad = 1; next }
		n++
		off = $2; va = $3; pa = $4; memsz = $6
		flg = ""   # the flags ("R E", "RW") lie between p_memsz and p_align
		for (i = 7; i < NF; i++) flg = flg $i
		if (va != pa) { print elf ": p_vaddr " va " != p_paddr " pa; bad = 1 }
		if (hex(va) < hex("0x100000")) { print elf ": segment at " va " below 0x100000"; bad = 1 }
		if (flg ~ /W/ && flg ~ /E/) { print elf ": segment at " va " is writable and executable"; bad = 1 }
		if (flg ~ /E/ && hex(entry) >= hex(va) && hex(entry) < hex(va) + hex(memsz)) found = 1
	}
	END {
		if (n == 0) { print elf ": no PT_LOAD segment"; bad = 1 }
		if (!found) { print elf ": entry " entry " not inside an executable segment"; bad = 1 }
		exit bad
	}' >&2 || exit 1
