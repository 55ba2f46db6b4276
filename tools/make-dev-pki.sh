#!/bin/sh
# make-dev-pki.sh DIR: the development PKI that `make` builds with and that
# the tests and the demo use. Its CA root is compiled into build/custos.elf.
# Idempotent: an existing complete PKI of this layout is kept (keys are
# never overwritten); one of an older layout (.complete holds another
# version line) is made anew.
# Its TCB identity is a development one (custos-ca issue-tcb --dev: roles
# tcb-sign-dev and tcb-kex-dev, keys in the clear for the boot media), so
# every verifier recognises the platform as DEV. A production platform gets
# its root, TCB keys and certificates from the real offline CA instead
# (docs/pki.md).
set -eu
dir=$1
ca=build/bin/custos-ca
version="custos-dev-pki 2: development TCB roles"
if [ -f "$dir/.complete" ] && [ "$(cat "$dir/.complete")" = "$version" ]; then
	touch "$dir/.complete"
	exit 0
fi
rm -rf "$dir"
"$ca" init --dir "$dir" --cn "Custos development CA" >/dev/null
"$ca" issue --dir "$dir" --role station --cn "Custos development signing station" \
	--out "$dir/station" >/dev/null
"$ca" issue-tcb --dev --dir "$dir" --cn "Custos development platform" --out "$dir/tcb" >/dev/null
"$ca" issue --dir "$dir" --role tenant --cn "alice" --out "$dir/tenant-alice" >/dev/null
"$ca" issue --dir "$dir" --role tenant --cn "bob" --out "$dir/tenant-bob" >/dev/null
echo "$version" > "$dir/.complete"
echo "  PKI     $dir (development CA, station, development TCB, tenants alice and bob)"
