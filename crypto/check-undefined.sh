#!/bin/sh
# check-undefined.sh OBJ...: fail if the crypto objects (freestanding mbedTLS
# and the wrapper) together need a symbol that is not on the list below: the
# functions lib/ provides, the heap, and crypto_platform_entropy (which the
# hypervisor or the TPGVM defines). A new undefined symbol means a config
# change pulled in something the freestanding world does not have.
set -eu
allowed="memcpy memmove memset memcmp strlen strnlen strcmp strncmp strchr strstr
strncpy snprintf vsnprintf heap_alloc heap_calloc heap_free crypto_platform_entropy"
[ $# -gt 0 ] || { echo "usage: $0 OBJ..." >&2; exit 2; }
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
nm -u "$@" | awk 'NF == 2 && $1 == "U" { print $2 }' | sort -u >"$tmp/undef"
nm --defined-only "$@" | awk 'NF == 3 { print $3 }' | sort -u >"$tmp/def"
printf '%s\n' $allowed | sort -u >"$tmp/allowed"
comm -23 "$tmp/undef" "$tmp/def" >"$tmp/external"
comm -23 "$tmp/external" "$tmp/allowed" >"$tmp/unexpected"
if [ -s "$tmp/unexpected" ]; then
	echo "crypto: unexpected undefined symbols in the freestanding crypto objects:" >&2
	sed 's/^/  /' "$tmp/unexpected" >&2
	for s in $(cat "$tmp/unexpected"); do
		nm -A -u "$@" | awk -v s="$s" '$NF == s { sub(/:.*/, "", $1); print "    needed by " $1 }' >&2
	done
	exit 1
fi
