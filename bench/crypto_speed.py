#!/usr/bin/env python3
"""`make bench` (its first, quick part) and `make bench-crypto`: the crypto
layer's own code on this machine (build/bench/crypto_speed, the host build
of crypto/crypto.c, crypto/aes_gcm_x86.c, crypto/sha256_x86.c and
crypto/sha256_c.c) beside `openssl speed` in the same run, and the ratios
ours/openssl.

    AES-256-GCM  openssl speed -evp aes-256-gcm (16 KiB updates of one
                 stream) against our stream (64 KiB updates) and our
                 one-shot (16 KiB), on the AES-NI path and on the mbedTLS
                 path (crypto_simd_force_off)
    SHA-256      openssl speed -evp sha256 (16 KiB) against crypto_sha256
                 of 16 KiB and a stream of 1 MiB in 4 KiB updates (as the
                 TCB measures a VM's image: docs/lifecycle.md), on the
                 SHA-NI path and on the C path (crypto_simd_force_off),
                 and mbedTLS's SHA-256 called directly (the path without
                 SHA-NI before crypto/sha256_c.c)
    SHA-384      openssl speed -evp sha384 (16 KiB) against crypto_sha384
                 of 16 KiB and the same 4 KiB-update stream

The portable SHA-256 rows are also compared with openssl's SHA-256 held
to its integer code (OPENSSL_ia32cap without SHA, AVX, AVX2, SSSE3, XOP,
BMI: its own scalar assembly).

Then the hashes that measure VMs as the hypervisor builds them
(build/bench/crypto_kernel_speed, linked with the kernel-config blob:
crypto/sha256_c.c and mbedTLS with the kernel's flags), each a stream in
4 KiB updates: SHA-256 in C, mbedTLS's SHA-256, and mbedTLS's SHA-384
(launch measurement v1), with the ratios of the first to the others.

MB are 10^6 bytes. Both sides divide by CPU time (openssl speed by user
time unless -elapsed; crypto_speed by the process's CPU time), so that
other work on the machine slows neither figure much. With valgrind
installed, also instructions per byte of the AES-GCM paths (callgrind,
counting only the benchmark's work function; valgrind does not run the
SHA-NI path) and of the portable hashes, the kernel build's too. Prints a
table and writes build/bench/crypto.json; asserts nothing about time (the
numbers depend on the machine).
"""
import json
import os
import platform
import re
import shutil
import subprocess
import sys
import tempfile

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
BENCH = os.path.join(ROOT, "build", "bench")
EXE = os.path.join(BENCH, "crypto_speed")
KERNEL_EXE = os.path.join(BENCH, "crypto_kernel_speed")
OUT = os.path.join(BENCH, "crypto.json")
SECONDS = os.environ.get("CUSTOS_BENCH_CRYPTO_SECONDS", "0.3")
OPENSSL_SECONDS = os.environ.get("CUSTOS_BENCH_OPENSSL_SECONDS", "1")

# OPENSSL_ia32cap masks that leave openssl's SHA-256 only its integer
# code: off are SSSE3, XOP, AVX (CPUID.1 ECX bits 9, 11, 28, here bits 41,
# 43, 60) and BMI1, AVX2, BMI2, SHA (CPUID.7 EBX bits 3, 5, 8, 29).
OPENSSL_INTEGER_ONLY = "~0x10000A0000000000:~0x20000128"
# Our portable SHA-256 rows, also against that code.
INTEGER_ROWS = ["sha256-c", "sha256-pages-c", "sha256-mbedtls", "sha256-pages-mbedtls"]
# Our measurement -> (openssl algorithm, what it is).
COMPARE = [
    ("gcm-stream-simd", "aes-256-gcm", "AES-256-GCM stream (64 KiB updates), AES-NI"),
    ("gcm-oneshot-simd", "aes-256-gcm", "AES-256-GCM one-shot 16 KiB, AES-NI"),
    ("gcm-decrypt-simd", "aes-256-gcm", "AES-256-GCM decrypt 16 KiB, AES-NI"),
    ("gcm-stream-mbedtls", "aes-256-gcm", "AES-256-GCM stream (64 KiB updates), mbedTLS"),
    ("gcm-oneshot-mbedtls", "aes-256-gcm", "AES-256-GCM one-shot 16 KiB, mbedTLS"),
    ("sha256-simd", "sha256", "SHA-256 16 KiB, SHA-NI"),
    ("sha256-pages-simd", "sha256", "SHA-256 stream (4 KiB updates), SHA-NI"),
    ("sha256-c", "sha256", "SHA-256 16 KiB, C (no SHA-NI)"),
    ("sha256-pages-c", "sha256", "SHA-256 stream (4 KiB updates), C"),
    ("sha256-mbedtls", "sha256", "SHA-256 16 KiB, mbedTLS"),
    ("sha256-pages-mbedtls", "sha256", "SHA-256 stream (4 KiB updates), mbedTLS"),
    ("sha384", "sha384", "SHA-384 16 KiB (mbedTLS)"),
    ("sha384-pages", "sha384", "SHA-384 stream (4 KiB updates, mbedTLS)"),
]
# Instructions per byte: mode, bytes, the function doing the work.
COUNT = [
    ("gcm-stream-simd", 1 << 20, "gcm_stream"),
    ("gcm-oneshot-simd", 16384, "gcm_oneshot"),
    ("gcm-stream-mbedtls", 1 << 18, "gcm_stream"),
    ("sha256-pages-c", 1 << 20, "sha256_pages"),
    ("sha256-pages-mbedtls", 1 << 20, "sha256_pages_mbedtls"),
    ("sha384-pages", 1 << 20, "sha384_pages"),
]
# Our C SHA-256 against mbedTLS's hashes (host build): ours, theirs.
AGAINST_MBEDTLS = [
    ("sha256-c", "sha256-mbedtls"),
    ("sha256-pages-c", "sha256-pages-mbedtls"),
    ("sha256-pages-c", "sha384-pages"),
]
# The kernel build's hashes: mode, its work function, what it is.
KERNEL = [
    ("sha256-c", "sha256_c", "SHA-256 in C"),
    ("sha256-c-bmi2", "sha256_c_bmi2", "SHA-256 in C, built for BMI2"),
    ("sha256-mbedtls", "sha256_mbedtls", "SHA-256, mbedTLS"),
    ("sha384-mbedtls", "sha384_mbedtls", "SHA-384, mbedTLS (measurement v1)"),
]
KERNEL_COUNT_BYTES = 1 << 20


def ours(exe=EXE):
    p = subprocess.run([exe, SECONDS], capture_output=True, text=True, check=True)
    got = {}
    for line in p.stdout.splitlines():
        m = re.match(r"(\S+) ([0-9.]+)$", line)
        if m:
            got[m.group(1)] = float(m.group(2))
        else:
            print("  " + line)
    return got


def openssl(alg, ia32cap=None):
    """openssl speed's figure for 16 KiB blocks, in MB/s (it prints kB/s);
    with ia32cap, under that OPENSSL_ia32cap."""
    env = dict(os.environ)
    if ia32cap is not None:
        env["OPENSSL_ia32cap"] = ia32cap
    p = subprocess.run(["openssl", "speed", "-seconds", OPENSSL_SECONDS, "-bytes", "16384",
                        "-evp", alg], capture_output=True, text=True, env=env)
    for line in reversed(p.stdout.splitlines()):
        m = re.match(r"\s*(\S+)\s+([0-9.]+)k\s*$", line)
        if m and m.group(1).lower() == alg:
            return float(m.group(2)) / 1000.0
    raise SystemExit("bench: no figure from openssl speed -evp %s:\n%s%s"
                     % (alg, p.stdout, p.stderr))


def instructions(mode, nbytes, func, exe=EXE):
    with tempfile.TemporaryDirectory() as tmp:
        p = subprocess.run(["valgrind", "--tool=callgrind", "--toggle-collect=" + func,
                            "--callgrind-out-file=" + os.path.join(tmp, "cg.out"),
                            exe, "--work", mode, str(nbytes)],
                           capture_output=True, text=True)
    m = re.search(r"I\s+refs:\s+([0-9,]+)", p.stderr)
    if p.returncode != 0 or not m:
        return None
    return int(m.group(1).replace(",", "")) / nbytes


def cpu_model():
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor()


def kernel_build():
    """The kernel build's hashes: MB/s, instructions per byte, and the
    ratios of SHA-256 in C to the two mbedTLS hashes."""
    speed = ours(KERNEL_EXE)
    per_byte = {}
    if shutil.which("valgrind"):
        for mode, func, _ in KERNEL:
            per_byte[mode] = instructions(mode, KERNEL_COUNT_BYTES, func, KERNEL_EXE)
    print("crypto: the hashes that measure VMs, as the hypervisor builds them "
          "(build/bench/crypto_kernel_speed), 4 KiB updates")
    for mode, _, what in KERNEL:
        if mode not in speed:
            print("  %-50s (not on this CPU)" % what)
            continue
        ipb = per_byte.get(mode)
        print("  %-50s %8.1f%s" % (what, speed[mode],
                                   "  %.2f instructions/byte" % ipb if ipb else ""))
    ratios = {}
    for ours_mode, other in (("sha256-c", "sha256-mbedtls"), ("sha256-c", "sha384-mbedtls"),
                             ("sha256-c-bmi2", "sha384-mbedtls")):
        if ours_mode not in speed:
            continue
        key = ours_mode + "/" + other
        ratios[key] = {"speed": round(speed[ours_mode] / speed[other], 3)}
        if per_byte.get(ours_mode) and per_byte.get(other):
            ratios[key]["instructions"] = round(per_byte[ours_mode] / per_byte[other], 3)
        print("  %-13s against %-29s %.2f the speed%s" % (
            ours_mode, other, ratios[key]["speed"],
            ", %.2f the instructions" % ratios[key]["instructions"]
            if "instructions" in ratios[key] else ""))
    return {
        "ours": speed,
        "instructions_per_byte": {k: round(v, 2) for k, v in per_byte.items() if v},
        "ratios": ratios,
    }


def main():
    for exe in (EXE, KERNEL_EXE):
        if not os.access(exe, os.X_OK):
            raise SystemExit("bench: %s missing (make %s)" % (exe, os.path.relpath(exe, ROOT)))
    if shutil.which("openssl") is None:
        raise SystemExit("bench: openssl not installed (make deps)")
    print("crypto: our code (build/bench/crypto_speed) beside openssl speed, MB/s of CPU time")
    version = subprocess.run(["openssl", "version"], capture_output=True,
                             text=True).stdout.strip()
    mine = ours()
    theirs = {alg: openssl(alg) for alg in sorted({a for _, a, _ in COMPARE})}
    integer = openssl("sha256", OPENSSL_INTEGER_ONLY)
    per_byte = {}
    if shutil.which("valgrind"):
        for mode, nbytes, func in COUNT:
            if mode in mine:
                per_byte[mode] = instructions(mode, nbytes, func)

    ratios = {}
    for name, alg, what in COMPARE:
        if name not in mine:
            print("  %-50s unavailable" % what)
            continue
        ratios[name] = mine[name] / theirs[alg]
        ipb = per_byte.get(name)
        print("  %-50s %8.1f  openssl %8.1f  ratio %.2f%s"
              % (what, mine[name], theirs[alg], ratios[name],
                 "  %.2f instructions/byte" % ipb if ipb else ""))
    integer_ratios = {name: mine[name] / integer for name in INTEGER_ROWS if name in mine}
    print("  %-50s %8.1f" % ("openssl SHA-256 16 KiB, integer code only", integer))
    for name in INTEGER_ROWS:
        if name in integer_ratios:
            print("  %-50s %.2f" % ("MB/s against it: " + name, integer_ratios[name]))
    against = {}
    for name, other in AGAINST_MBEDTLS:
        if name in mine and other in mine:
            key = name + "/" + other
            against[key] = mine[name] / mine[other]
            print("  %-50s %.2f" % ("SHA-256 in C: MB/s against " + other, against[key]))
    kernel = kernel_build()
    result = {
        "cpu": cpu_model(),
        "openssl_version": version,
        "units": "MB/s (10^6 bytes per second of CPU time)",
        "ours": mine,
        "openssl": theirs,
        "ratio_ours_to_openssl": {k: round(v, 3) for k, v in ratios.items()},
        "openssl_sha256_integer_code": integer,
        "ratio_ours_to_openssl_sha256_integer_code": {
            k: round(v, 3) for k, v in integer_ratios.items()},
        "instructions_per_byte": {k: round(v, 2) for k, v in per_byte.items() if v},
        "ratio_sha256_c_to_mbedtls": {k: round(v, 3) for k, v in against.items()},
        "kernel_build": kernel,
    }
    os.makedirs(BENCH, exist_ok=True)
    with open(OUT, "w") as f:
        json.dump(result, f, indent=1, sort_keys=True)
        f.write("\n")
    print("crypto: wrote %s" % os.path.relpath(OUT, ROOT))
    return 0


if __name__ == "__main__":
    sys.exit(main())
