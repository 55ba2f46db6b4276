#!/usr/bin/env python3
"""`make run`: bring a development platform up in an emulator and keep it
up, so that the tenant CLI (build/bin/custos) can be used by hand.

Boots build/custos.iso on an emulated machine (`--emu`: qemu, QEMU/SVM with
a TPM; bochs, Bochs/VMX; or a machine's name from
tests/integration/harness.py), puts custos-relay in front of the TPGVM's
serial line (with blob storage, so stop and start work), prints the
connection settings as `export` lines to paste into another shell (and a
configuration file with the same settings), then waits. Ctrl-C (or
SIGTERM) stops the emulator, the relay and everything they started.

This is the development platform of `make`: its TCB keys are on the boot
media (a development identity), so every command needs --allow-dev
(CUSTOS_ALLOW_DEV=1, printed as dev-only). The demo (`make demo`) shows
the production identity; this does not provision one."""
import argparse
import os
import shlex
import shutil
import signal
import sys
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(ROOT, "tests", "integration"))
import harness as h  # noqa: E402
from custos_platform import Platform  # noqa: E402

BIN = os.path.join(h.BUILD, "bin")
PKI = os.path.join(h.BUILD, "pki")
# make run EMU=...: the emulator's name stands for its machine (a DEV
# platform; qemu-svm has a TPM, whose quotes the reports then carry).
EMULATORS = {"qemu": "qemu-svm", "bochs": "bochs-vmx"}


class Stop(Exception):
    """Ctrl-C or SIGTERM: stop the platform and leave."""


def on_signal(signum, _frame):
    raise Stop(signal.Signals(signum).name)


def machine_named(emu):
    m = h.MACHINES.get(EMULATORS.get(emu, emu))
    if not m or not m.backend:
        raise SystemExit("run: no emulator or machine %r (emulators: %s; machines: %s)"
                         % (emu, ", ".join(EMULATORS), ", ".join(
                             n for n, m in h.MACHINES.items() if m.backend)))
    return m


def settings(port, tenant):
    """The tenant CLI's connection settings for this platform, in order."""
    return [("CUSTOS_RELAY", "127.0.0.1:%d" % port),
            ("CUSTOS_CA", os.path.join(PKI, "root.pem")),
            ("CUSTOS_CERT", os.path.join(PKI, "tenant-%s.pem" % tenant)),
            ("CUSTOS_KEY", os.path.join(PKI, "tenant-%s.key" % tenant)),
            ("CUSTOS_REFERENCE", os.path.join(h.BUILD, "reference.json")),
            ("CUSTOS_ALLOW_DEV", "1")]


def write_config(path, values):
    """The same settings as a profile of the tenant CLI's configuration
    file (docs/tenant-cli.md), for CUSTOS_CONFIG=path."""
    keys = {"CUSTOS_RELAY": "relay", "CUSTOS_CA": "ca", "CUSTOS_CERT": "cert",
            "CUSTOS_KEY": "key", "CUSTOS_REFERENCE": "reference"}
    with open(path, "w") as f:
        f.write("# make run's development platform (dev-only: allow-dev)\n[default]\n")
        for name, value in values:
            if name in keys:
                f.write("%s = %s\n" % (keys[name], value))
        f.write("allow-dev = yes\n")


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--emu", default="qemu",
                    help="qemu (default), bochs, or a machine of tests/integration/harness.py")
    ap.add_argument("--port", type=int, default=0,
                    help="the relay's port for tenants (default: a free one)")
    ap.add_argument("--tenant", default="alice", choices=("alice", "bob"),
                    help="whose certificate the printed settings name (build/pki)")
    ap.add_argument("--dir", default=os.path.join(h.RUNS, "run"),
                    help="its folder (emptied first; default build/test-runs/run)")
    args = ap.parse_args()
    if args.port and not 0 < args.port < 65536:
        ap.error("--port wants 1..65535")
    machine = machine_named(args.emu)
    for sig in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
        signal.signal(sig, on_signal)
    d = os.path.abspath(args.dir)
    shutil.rmtree(d, ignore_errors=True)
    os.makedirs(d)
    storage = os.path.join(d, "storage")
    os.makedirs(storage)
    console_log = os.path.join(d, "console.log")
    rel = os.path.relpath(d, ROOT) if d.startswith(ROOT + "/") else d
    print("run: booting build/custos.iso on %s (%s); its serial console goes to %s/console.log"
          % (machine.name, machine.description, rel), flush=True)
    pf = None
    try:
        with open(console_log, "w") as log:
            def echo(line):
                log.write(line)
                log.flush()
            try:
                pf = Platform(d, machine, echo=echo, storage=storage, port=args.port or None)
            except AssertionError as e:
                print("run: the platform did not come up on %s: %s\n(logs in %s)"
                      % (machine.name, str(e).splitlines()[0], rel), file=sys.stderr)
                return 1
            values = settings(pf.port, args.tenant)
            config = os.path.join(d, "custos.config")
            write_config(config, values)
            print("\nrun: the platform serves; tenants reach it through custos-relay on "
                  "127.0.0.1:%d (blobs in %s/storage).\n"
                  "In another shell, paste:\n" % (pf.port, rel), flush=True)
            for name, value in values:
                note = ("   # dev-only: this platform is DEV (its TCB keys are on the boot media)"
                        if name == "CUSTOS_ALLOW_DEV" else "")
                print("export %s=%s%s" % (name, shlex.quote(value), note))
            print("export PATH=%s:\"$PATH\"" % shlex.quote(BIN))
            print("\n(or the same as a profile: export CUSTOS_CONFIG=%s)\n"
                  "then e.g.: custos attest; custos vm create web --memory 32M "
                  "--image %s; custos vm start web; custos vm console web --follow\n"
                  "run: Ctrl-C stops the platform." % (
                      shlex.quote(config),
                      shlex.quote(os.path.join(h.BUILD, "guests", "counter.elf"))), flush=True)
            while True:
                if not pf.emu.running():
                    print("run: the emulator stopped; its last lines:\n%s" % pf.emu.tail(),
                          file=sys.stderr, flush=True)
                    return 1
                if pf.relay.proc.poll() is not None:
                    print("run: custos-relay exited (%d); its log: %s/relay.log"
                          % (pf.relay.proc.returncode, rel), file=sys.stderr, flush=True)
                    return 1
                time.sleep(0.5)
    except Stop as why:
        print("\nrun: %s: stopping the platform" % why, flush=True)
        return 0
    finally:
        # Nothing more may interrupt the clean-up.
        for sig in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
            signal.signal(sig, signal.SIG_IGN)
        if pf:
            pf.stop()
        h.kill_all()
        print("run: stopped", flush=True)


if __name__ == "__main__":
    sys.exit(main())
