"""The TCB image holds only what the TCB runs (docs/tcb-size.md): `make
tcb-size` reports build/custos.elf's code lines and bytes per origin and
passes its check, that no symbol in TCB_FORBIDDEN_SYMBOLS and no object in
TCB_FORBIDDEN_OBJECTS (the Makefile's lists: TLS, PEM, certificate writing,
the tenant-side verifiers, the TPGVM's codecs) is linked in; and the check
fails when one comes back: the same image with an mbedtls_ssl_ symbol
added, and the same link map with mbedTLS's ssl_tls.o loaded. Host only,
no emulator."""
import os
import shutil
import subprocess

import harness as h

ELF = os.path.join(h.BUILD, "custos.elf")
MAP = os.path.join(h.BUILD, "custos.map")
TOOL = os.path.join(h.ROOT, "tools", "tcb_size.py")


def make_var(name):
    p = subprocess.run(["make", "-s", "--no-print-directory", "-C", h.ROOT, "print-" + name],
                       capture_output=True, text=True, timeout=120, check=True)
    return p.stdout.split()


def check(elf, map_file):
    args = ["python3", TOOL, "--check-only", "--elf", elf, "--map", map_file]
    for g in make_var("TCB_FORBIDDEN_SYMBOLS"):
        args += ["--forbid-symbol", g]
    for g in make_var("TCB_FORBIDDEN_OBJECTS"):
        args += ["--forbid-object", g]
    return subprocess.run(args, capture_output=True, text=True, timeout=120)


def test_tcb_size_reports_and_nothing_forbidden_is_linked(d):
    p = subprocess.run(["make", "--no-print-directory", "-C", h.ROOT, "tcb-size"],
                       capture_output=True, text=True, timeout=900)
    assert p.returncode == 0, p.stdout[-3000:] + p.stderr[-3000:]
    for line in ("boot/ + hv/ + tcb/", "mbedtls/x509_crt", "crypto wrapper",
                 "ELF sections (page-padded)", "No forbidden symbol"):
        assert line in p.stdout, p.stdout
    # The lists are not empty: a check of nothing would pass anything.
    assert "mbedtls_ssl_*" in make_var("TCB_FORBIDDEN_SYMBOLS")
    assert "*tcb/report_verify.c.o" in make_var("TCB_FORBIDDEN_OBJECTS")
    assert check(ELF, MAP).returncode == 0


def test_tcb_size_fails_when_tls_comes_back(d):
    # An mbedtls_ssl_ function in the image.
    elf = os.path.join(d, "custos.elf")
    subprocess.run(["objcopy", "--add-symbol",
                    "mbedtls_ssl_handshake=.text:0x10,global,function", ELF, elf],
                   check=True, timeout=60)
    p = check(elf, MAP)
    assert p.returncode == 1, p.stdout + p.stderr
    assert "1 symbol matching mbedtls_ssl_*: mbedtls_ssl_handshake" in p.stderr, p.stderr

    # mbedTLS's TLS module among the linked objects (a LOAD line of the map).
    map_file = os.path.join(d, "custos.map")
    with open(MAP) as fh:
        text = fh.read()
    head, sep, tail = text.partition("Linker script and memory map\n")
    assert sep, "no memory map in " + MAP
    with open(map_file, "w") as fh:
        fh.write(head + sep + "\nLOAD build/mbedtls-kernel/ssl_tls.o\n" + tail)
    p = check(ELF, map_file)
    assert p.returncode == 1, p.stdout + p.stderr
    assert "build/mbedtls-kernel/ssl_tls.o" in p.stderr, p.stderr

    # The tenant-side verifier.
    shutil.copy(ELF, elf)
    subprocess.run(["objcopy", "--add-symbol", "report_verify=.text:0x10,global,function",
                    elf], check=True, timeout=60)
    p = check(elf, MAP)
    assert p.returncode == 1 and "report_verify" in p.stderr, p.stdout + p.stderr
