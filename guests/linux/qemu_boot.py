#!/usr/bin/env python3
"""Boot a Linux guest kernel with the Custos initramfs in QEMU (TCG) and
check, without a human at the console, that it reaches the shell prompt and
that a command typed on the serial console runs. A host-side test helper:
standard library only (subprocess + select).

    qemu_boot.py [--kernel build/linux/bzImage-tiny]
                 [--initrd build/linux/initramfs.cpio.gz] [--timeout 180]
                 [--log FILE] [--append "console=ttyS0"] [-- QEMU ARGS...]

Prints the times (from QEMU's start) at which the kernel's first line, the
`custos-linux: init ready` marker and the `custos# ` prompt appeared and
the command's answer came back; exits 0 when all did, 1 otherwise (the
serial output is printed then, and always written to --log).
"""
import argparse
import os
import select
import subprocess
import sys
import time

MARKER = b"custos-linux: init ready"
PROMPT = b"custos# "
# The check: the arithmetic is done by the guest's shell, so the echoed
# command line (which has "$((6*7))") never satisfies it.
COMMAND = b"echo hi > /tmp/f; cat /tmp/f; uptime; echo custos-check-$((6*7))\n"
ANSWER = b"custos-check-42"


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--kernel", default="build/linux/bzImage-tiny")
    ap.add_argument("--initrd", default="build/linux/initramfs.cpio.gz")
    ap.add_argument("--append", default="console=ttyS0")
    ap.add_argument("--memory", default="128M")
    ap.add_argument("--timeout", type=float, default=180.0)
    ap.add_argument("--log", help="write the serial output here")
    ap.add_argument("--qemu", default="qemu-system-x86_64")
    ap.add_argument("extra", nargs="*", help="more QEMU arguments (after --)")
    args = ap.parse_args()

    cmd = [args.qemu, "-kernel", args.kernel, "-initrd", args.initrd,
           "-append", args.append, "-m", args.memory, "-no-reboot",
           "-display", "none", "-monitor", "none", "-serial", "stdio"] + args.extra
    start = time.monotonic()
    proc = subprocess.Popen(cmd, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT)
    out = bytearray()
    times = {}
    sent = False
    deadline = start + args.timeout
    try:
        while ANSWER not in out.split(COMMAND.strip(), 1)[-1] or not sent:
            left = deadline - time.monotonic()
            if left <= 0:
                break
            ready, _, _ = select.select([proc.stdout], [], [], min(left, 1.0))
            if not ready:
                if proc.poll() is not None:
                    break
                continue
            data = os.read(proc.stdout.fileno(), 65536)
            if not data:
                break
            out += data
            now = time.monotonic() - start
            if "first output" not in times:
                times["first output"] = now
            if "init ready" not in times and MARKER in out:
                times["init ready"] = now
            if "init ready" in times and "prompt" not in times and \
                    PROMPT in out[out.index(MARKER):]:
                times["prompt"] = now
            if "prompt" in times and not sent:
                proc.stdin.write(COMMAND)
                proc.stdin.flush()
                sent = True
        if sent and ANSWER in out.split(COMMAND.strip(), 1)[-1]:
            times["command answered"] = time.monotonic() - start
    finally:
        proc.kill()
        proc.wait()
    text = out.decode("utf-8", "replace").replace("\r\n", "\n")
    if args.log:
        with open(args.log, "w") as f:
            f.write(text)
    ok = "command answered" in times
    if not ok:
        sys.stdout.write(text)
    for what in ("first output", "init ready", "prompt", "command answered"):
        t = times.get(what)
        print("  %-17s %s" % (what + ":", "%.2f s" % t if t is not None else "never"))
    print("qemu_boot: %s (%s)" % ("OK" if ok else "FAILED", os.path.basename(args.kernel)))
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
