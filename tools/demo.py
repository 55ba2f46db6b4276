#!/usr/bin/env python3
"""`make demo`: boot the real Custos ISO in Bochs (software VMX) and show,
live, what the hypervisor prints on its serial console, then say in plain
words how the run ended. It grows into the full tenant lifecycle demo."""
import os
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(ROOT, "tests", "integration"))
import harness as h  # noqa: E402

OUTCOMES = {
    h.EXIT_OK: "the hypervisor reached VMX root mode, passed its crypto self-test, "
               "opened the signing station's envelope and ran the measured TPGVM",
    h.EXIT_PANIC: "the hypervisor stopped on a fatal error (see above)",
    h.EXIT_NO_VMX: "this CPU model has no usable VMX",
    h.EXIT_BOOT_FAILED: "the hypervisor refused its boot configuration",
}


def say(text):
    print("\n==> " + text, flush=True)


def main():
    say("Booting build/custos.iso in Bochs (Skylake-X CPU model with VMX, 256 MiB).")
    say("GRUB2 loads custos.elf via Multiboot2; everything below is COM1 output.\n")
    d = h.run_dir("demo")
    r = h.boot_bochs(d, echo=lambda text: print(text, end="", flush=True))
    print()
    if r.timed_out:
        say("The emulator did not power off in time; it was stopped (transcript in %s)." % d)
        return 1
    say("Done in %.1f s: %s." % (r.elapsed, OUTCOMES.get(r.status, "no power-off line was printed")))
    say("The TPGVM is still a placeholder guest; the tenant channel and lifecycle come next.")
    return 0 if r.status == h.EXIT_OK else 1


if __name__ == "__main__":
    sys.exit(main())
