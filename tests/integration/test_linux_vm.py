"""A tenant's Linux VM end to end: `custos vm create --kernel --initrd
--cmdline` through the relay and the TPGVM to HC_VM_LOAD (the 64-bit boot
protocol, tcb/linux_boot.c), start, the kernel's boot on the VM's virtual
platform (vdev/: PIC, PIT, 16550 console, RTC, i8042), its shell driven
through `custos vm console --interactive`, then stop and start: the same
shell goes on (a file in its tmpfs is still there, its uptime continues).

Its inputs are built by `make linux-assets`: build/linux/bzImage-tiny (a
tinyconfig Linux 6.1 from Debian's linux-source-6.1) and
build/linux/initramfs.cpio.gz (Debian's busybox-static; /init prints the
marker and runs a shell with the prompt `custos# `). Without them the test
fails and says so: it is never skipped."""
import json
import os
import re
import subprocess
import time

import harness as h
from test_lifecycle import CUSTOS, EXIT_OK, env_for, info, ok, platform, vm

LINUX = os.path.join(h.BUILD, "linux")
BZIMAGE = os.path.join(LINUX, "bzImage-tiny")
INITRAMFS = os.path.join(LINUX, "initramfs.cpio.gz")
MARKER = "custos-linux: init ready"
CMDLINE = "console=ttyS0 panic=-1"
PROMPT = "custos# "
BOOT_TIMEOUT = 600
# The upload crosses the TPGVM's emulated serial line at about 4.4 KiB/s
# (docs/tpgvm.md, "Upload cost"): a 1 MiB kernel and its initramfs take
# minutes, beyond the lifecycle tests' 300 s.
CREATE_TIMEOUT = 2400


def create(pf, *args):
    return subprocess.run([CUSTOS, "vm", "create"] + list(args) +
                          ["--timeout", str(CREATE_TIMEOUT)],
                          capture_output=True, text=True, env=env_for(pf, "alice"),
                          timeout=CREATE_TIMEOUT + 30)


def assets():
    missing = [f for f in (BZIMAGE, INITRAMFS) if not os.path.isfile(f)]
    assert not missing, ("missing %s: build them with 'make linux-assets' "
                         "(tinyconfig bzImage and an initramfs whose /init prints %r)"
                         % (", ".join(missing), MARKER))


def wait_console(pf, name, pattern, timeout):
    """The VM's console, read until pattern shows; fails at once with what
    it said and why it stopped if it stops first (EXITED, or SEALED: the
    TPGVM seals a VM that stopped itself)."""
    end = time.monotonic() + timeout
    seen = ""
    while time.monotonic() < end:
        seen += ok(vm(pf, "console", name), "console").stdout
        if re.search(pattern, seen, re.M):
            return seen
        status = json.loads(ok(vm(pf, "status", name, "--json"), "status").stdout)
        if status["state"] in ("exited", "sealed"):
            stops = re.findall(r"^vm \d+ \(%s\): stopped: .*$" % re.escape(name),
                               pf.emu.serial(), re.M)
            raise AssertionError("the Linux VM stopped before %r (%s; the platform "
                                 "said: %s); its console:\n%s"
                                 % (pattern, status["state"], stops or "nothing",
                                    seen[-3000:]))
        time.sleep(2)
    raise AssertionError("no %r on the Linux VM's console after %d s:\n%s"
                         % (pattern, timeout, seen[-3000:]))


def shell(pf, name, commands, want, timeout=300):
    """Type commands into the VM's console (console --interactive, input
    piped) until want shows in what comes back; returns that output."""
    end = time.monotonic() + timeout
    seen = ""
    while time.monotonic() < end:
        p = subprocess.run([CUSTOS, "vm", "console", name, "--interactive",
                            "--idle", "10", "--timeout", "200"],
                           input=commands, capture_output=True, text=True,
                           env=env_for(pf, "alice"), timeout=260)
        assert p.returncode == EXIT_OK, "console --interactive: exit %d\n%s%s" % (
            p.returncode, p.stdout, p.stderr)
        seen += p.stdout
        m = re.search(want, seen, re.M)
        if m:
            return seen, m
        commands = ""  # typed once; then only wait for the answer
    raise AssertionError("no %r from the Linux VM's shell after %d s:\n%s"
                         % (want, timeout, seen[-3000:]))


def uptime(pf, name):
    out, m = shell(pf, name, "cut -d' ' -f1 /proc/uptime | sed 's/^/up=/'\n",
                   r"^up=(\d+)\.\d+\s*$")
    return float(m.group(1))


@h.on(*h.BACKENDS)
def test_linux_vm_boots_runs_commands_and_survives_stop_start(d, machine):
    assets()
    with platform(d, machine) as pf:
        p = create(pf, "tux", "--memory", "64M", "--kernel", BZIMAGE,
                   "--initrd", INITRAMFS, "--cmdline", CMDLINE)
        assert p.returncode == EXIT_OK, "create: exit %d\n%s%s" % (
            p.returncode, p.stdout, p.stderr)
        assert "matches the one computed here from the kernel" in p.stdout, p.stdout
        serial = pf.emu.serial()
        assert re.search(r"lifecycle: vm \d+ 'tux' loaded, measurement [0-9a-f]{96}",
                         serial), serial[-2000:]
        ok(vm(pf, "start", "tux"), "start")
        wait_console(pf, "tux", re.escape(MARKER), BOOT_TIMEOUT)

        # Commands typed on its console run in its shell and answer there.
        out, _ = shell(pf, "tux", "echo custos-$((6*7)) > /tmp/mark; cat /tmp/mark\n",
                       r"^custos-42\s*$")
        out, m = shell(pf, "tux", "uname -sr\n", r"^Linux (6\.1\.\S+)\s*$")
        up_before = uptime(pf, "tux")

        # Stopped and started: its memory, CPU, devices and TSC come back
        # from the sealed blob; the shell goes on where it was.
        ok(vm(pf, "stop", "tux"), "stop")
        assert info(pf, "tux")["state"] == "sealed", info(pf, "tux")
        ok(vm(pf, "start", "tux"), "start from the sealed state")
        out, _ = shell(pf, "tux", "cat /tmp/mark\n", r"^custos-42\s*$")
        up_after = uptime(pf, "tux")
        # Its clock went on from where it stood, not from 0 and not by
        # the time it spent sealed (its TSC is restored).
        assert up_before <= up_after < up_before + 120, (up_before, up_after)
        serial = pf.emu.serial()
        assert not re.search(r"vm \d+ \(tux\): stopped: (?!stopped by its owner)", serial), \
            re.findall(r"vm \d+ \(tux\): stopped: .*", serial)
        ok(vm(pf, "destroy", "tux"), "destroy")
