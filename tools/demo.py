#!/usr/bin/env python3
"""`make demo`: the real platform end to end, saying each step in plain
words. Boots build/custos.iso in Bochs (software VMX), showing what the
hypervisor prints on its serial console; starts custos-relay in front of
the TPGVM's serial line; then tenant alice attests the platform with the
tenant CLI (build/bin/custos) against the reference values `make` wrote.
It grows into the whole VM lifecycle (issue 6)."""
import os
import subprocess
import sys
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(ROOT, "tests", "integration"))
import harness as h  # noqa: E402
from custos_platform import Platform  # noqa: E402

BIN = os.path.join(h.BUILD, "bin")
PKI = os.path.join(h.BUILD, "pki")


def say(text):
    print("\n==> " + text, flush=True)


def console(line):
    print("    | " + line, end="", flush=True)


def custos(*args):
    cmd = [os.path.join(BIN, "custos")] + list(args)
    shown = ["build/bin/custos"] + [os.path.relpath(a, ROOT) if a.startswith(ROOT) else a
                                    for a in args]
    print("    $ " + " ".join(shown), flush=True)
    p = subprocess.run(cmd, capture_output=True, text=True, timeout=300)
    for line in (p.stdout + p.stderr).splitlines():
        print("      " + line, flush=True)
    return p.returncode


def main():
    start = time.monotonic()
    say("Booting build/custos.iso in Bochs (Skylake-X CPU model with VMX, 256 MiB).\n"
        "    GRUB2 loads custos.elf via Multiboot2; lines marked | are its serial console.\n"
        "    It enters VMX root mode, self-tests its crypto, opens the signing station's\n"
        "    envelope with its TCB key, measures the TPGVM and launches it.")
    d = h.run_dir("demo")
    try:
        pf = Platform(d, echo=console)
    except AssertionError as e:
        say("The platform did not come up: %s" % e)
        return 1
    with pf:
        time.sleep(0.5)  # let the console catch up
        say("The TPGVM made its TLS key inside itself and serves on COM2; custos-relay\n"
            "    (untrusted, on the host) carries tenant connections to it on port %d." % pf.port)
        say("Tenant alice asks for a signed platform report over a fresh nonce and checks it:\n"
            "    the TCB's certificate chains to the CA root, the report answers her nonce,\n"
            "    it vouches for the very TLS key her session ends at, and every measurement\n"
            "    equals build/reference.json. This is a development platform (its keys are on\n"
            "    the boot medium), so she has to say --allow-dev.")
        rc = custos("attest", "--relay", "127.0.0.1:%d" % pf.port,
                    "--ca", os.path.join(PKI, "root.pem"),
                    "--cert", os.path.join(PKI, "tenant-alice.pem"),
                    "--key", os.path.join(PKI, "tenant-alice.key"),
                    "--reference", os.path.join(h.BUILD, "reference.json"),
                    "--allow-dev", "--timeout", "120")
        if rc != 0:
            say("Attestation did not verify (exit %d); transcript and logs in %s." % (rc, d))
            return 1
        say("Verified: alice now knows what runs on this platform, and that her TLS\n"
            "    session ends inside the measured TPGVM.")
    say("Done in %.0f s. The VM lifecycle (create, start, stop, destroy) comes next." %
        (time.monotonic() - start))
    return 0


if __name__ == "__main__":
    sys.exit(main())
