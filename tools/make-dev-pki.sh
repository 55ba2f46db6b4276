#!/bin/sh
# make-dev-pki.sh DIR: the development PKI that `make` builds with and that
# the tests and the demo use. Its CA root is compiled into build/custos.elf.
# Idempotent: an existing complete PKI is kept (keys are never overwritten).
# A production platform gets its root, TCB keys and certificates from the
# real offline CA instead (docs/pki.md).
set -eu
dir=$1
ca=build/bin/custos-ca
[ -f "$dir/.complete" ] && exit 0
rm -rf "$dir"
"$ca" init --dir "$dir" --cn "Custos development CA" >/dev/null
"$ca" issue --dir "$dir" --role station --cn "Custos development signing station" \
	--out "$dir/station" >/dev/null
"$ca" issue-tcb --dir "$dir" --cn "Custos development platform" --out "$dir/tcb" >/dev/null
"$ca" issue --dir "$dir" --role tenant --cn "alice" --out "$dir/tenant-alice" >/dev/null
"$ca" issue --dir "$dir" --role tenant --cn "bob" --out "$dir/tenant-bob" >/dev/null
touch "$dir/.complete"
echo "  PKI     $dir (development CA, station, TCB, tenants alice and bob)"
