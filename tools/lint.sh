#!/bin/sh
# lint.sh FILE.c ...: cppcheck and gcc -fanalyzer over the hypervisor's C
# sources, with the same include paths and defines as the real build.
# Any finding fails.
set -eu
[ $# -gt 0 ] || { echo "usage: $0 FILE.c ..." >&2; exit 2; }
inc="-isystem lib/include -Iinclude -I. -DCUSTOS_KERNEL"
gccinc="-isystem $(gcc -print-file-name=include)"
# crypto/: the freestanding mbedTLS headers and config (crypto/crypto.mk
# fetches them before lint runs): the kernel's, or for the files LINT_TPGVM
# names (space-separated), the TPGVM's.
mbedtls_inc="-isystem ${MBEDTLS_DIR:-build/mbedtls-2.28.3}/include"
status=0

# The flags LINT_SIMD gives FILE, or nothing.
simd_flags() {
	old_ifs=$IFS
	IFS=';'
	for e in ${LINT_SIMD:-}; do
		e=${e#"${e%%[! ]*}"} # (make's foreach puts a space before each)
		case "$e" in "$1:"*) IFS=$old_ifs; echo "${e#*:}"; return ;; esac
	done
	IFS=$old_ifs
}

echo "lint: cppcheck ($# files)"
# shellcheck disable=SC2086
cppcheck --quiet --error-exitcode=1 --inline-suppr \
	--enable=warning,style,performance,portability \
	--suppress=missingIncludeSystem --std=c11 --platform=unix64 \
	-D__x86_64__ $inc "$@" || status=1

echo "lint: gcc -fanalyzer ($# files)"
for f in "$@"; do
	# Files in LINT_SIMD ("FILE:FLAGS;" each: crypto/aes_gcm_x86.c with
	# SSE, AES-NI and PCLMULQDQ, crypto/sha256_x86.c with SSE and SHA) are
	# built with their FLAGS; every other one with general registers only.
	regs=$(simd_flags "$f")
	[ -n "$regs" ] || regs="-mgeneral-regs-only"
	config=kernel
	case " ${LINT_TPGVM:-} " in *" $f "*) config=tpgvm ;; esac
	mbedtls="$mbedtls_inc -DMBEDTLS_CONFIG_FILE=\"crypto/mbedtls_config_$config.h\""
	# shellcheck disable=SC2086
	gcc -std=gnu11 -O1 -fanalyzer -ffreestanding -nostdinc $gccinc $inc $mbedtls \
		$regs -mno-red-zone -Wall -Wextra -Werror \
		-c "$f" -o /dev/null || status=1
done
[ $status -eq 0 ] && echo "lint: clean"
exit $status
