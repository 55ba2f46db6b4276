"""A tenant's Linux VM end to end: `custos vm create --kernel --initrd
--cmdline` through the relay and the TPGVM to HC_VM_LOAD (the 64-bit boot
protocol, tcb/linux_boot.c), start, the kernel's boot on the VM's virtual
platform (vdev/: x2APIC, PIC, PIT, 16550 console, RTC, i8042), its shell driven
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
from test_lifecycle import CUSTOS, EXIT_OK, MEMSCAN, env_for, info, ok, platform, vm

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
            stops = re.findall(r"^vm %s \(tenant VM\): stopped: .*$" % vm_id(pf, name),
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


# The clock event device, then the local APIC timer's and IRQ 0's
# interrupt counts twice, a second of guest time apart.
TIMER_PROBE = ("echo ce=$(cat /sys/devices/system/clockevents/clockevent0/current_device)"
               "; for i in 1 2; do sed -n -e 's/^ *LOC: *\\([0-9]*\\).*/loc\\1/p'"
               " -e 's/^ *0: *\\([0-9]*\\).*/irq0=\\1/p' /proc/interrupts; sleep 1; done\n")


def timer_ticks(pf, name):
    """The kernel keeps time on the VM's own timers, and they keep
    ticking. On VMX it knows the TSC's rate (CPUID leaf 0x15) and takes the
    local APIC's TSC-deadline timer (vdev/vlapic.c): its clock event is
    `lapic-deadline` and the APIC's timer interrupts ("LOC") count up. On
    AMD the kernel must calibrate, against the PIT, first the TSC (which
    fails when every port read is an emulator's exit: QEMU TCG) and then
    the APIC timer, whose check against jiffies fails when the VM shares
    the CPU (PIT ticks that fall while it waits are coalesced, as a PC
    loses them); it then keeps the PIT (`pit`), whose IRQ 0 must count up,
    else the APIC's one-shot count mode (`lapic`)."""
    out, _ = shell(pf, name, TIMER_PROBE, r"^loc\d+\r?\n(?:.*\n)*?loc\d+\r?$")
    ce = re.findall(r"^ce=([a-z][\w-]*)\r?$", out, re.M)
    assert len(ce) == 1, out[-1500:]
    if pf.machine.backend == "vmx":
        assert ce == ["lapic-deadline"], out[-1500:]
    else:
        assert ce[0] in ("lapic", "pit"), out[-1500:]
    counts = re.findall(r"^loc(\d+)\r?$" if ce[0] != "pit" else r"^irq0=(\d+)\r?$",
                        out, re.M)
    counts = [int(x) for x in counts]
    assert len(counts) == 2 and 0 < counts[0] < counts[1], (ce, out[-1500:])
    return ce[0]


def create_linux(pf, name, memory="64M", cmdline=CMDLINE):
    p = create(pf, name, "--memory", memory, "--kernel", BZIMAGE,
               "--initrd", INITRAMFS, "--cmdline", cmdline)
    assert p.returncode == EXIT_OK, "create: exit %d\n%s%s" % (
        p.returncode, p.stdout, p.stderr)
    assert "matches the one computed here from the kernel" in p.stdout, p.stdout
    assert vm_id(pf, name), pf.emu.serial()[-2000:]


def vm_id(pf, name):
    """The VM's id in the platform log, which names no tenant VM: the
    latest load with its launch measurement."""
    m = info(pf, name)["measurement"]
    ids = re.findall(r"^lifecycle: vm (\d+) loaded, measurement %s$" % m, pf.emu.serial(), re.M)
    assert ids, "no load of %s (measurement %s) in the platform log" % (name, m)
    return ids[-1]


def no_stop(pf, name):
    """The VM never stopped by itself (a fault, a reset, a halt)."""
    serial = pf.emu.serial()
    stops = re.findall(r"vm %s \(tenant VM\): stopped: .*" % vm_id(pf, name), serial)
    assert all("stopped by its owner" in s for s in stops), stops


# Linux boots on the VM's virtual platform to its shell, which answers
# commands typed on the VM's console. On Bochs/VMX; on QEMU/SVM it is the
# slow run below (its upload crosses QEMU's serial line at a few KiB/s),
# and the SVM interrupt path is the ticker's test (test_guests.py).
@h.on("bochs-vmx")
def test_linux_vm_boots_to_a_shell_that_runs_commands(d, machine):
    assets()
    with platform(d, machine) as pf:
        create_linux(pf, "tux")
        ok(vm(pf, "start", "tux"), "start")
        wait_console(pf, "tux", re.escape(MARKER), BOOT_TIMEOUT)
        # One round trip (each costs the console's idle wait): a file in
        # tmpfs, the kernel, the year, the uptime.
        out, _ = shell(pf, "tux", "echo custos-$((6*7)) > /tmp/mark; cat /tmp/mark; "
                       "uname -sr; date +%Y; cut -d' ' -f1 /proc/uptime | sed 's/^/up=/'\n",
                       r"^up=\d+\.\d+\s*$")
        assert re.search(r"^custos-42\r?$", out, re.M), out[-500:]
        assert re.search(r"^Linux 6\.1\.\S+\r?$", out, re.M), out[-500:]
        # Its RTC says the host's year (the CMOS time read at boot).
        assert re.search(r"^20[2-9]\d\r?$", out, re.M), out[-500:]
        timer_ticks(pf, "tux")
        no_stop(pf, "tux")
        ok(vm(pf, "destroy", "tux"), "destroy")


def vm_long(pf, *args):
    """A stop or start that moves a Linux VM's sealed blob (megabytes)
    over the TPGVM's serial line: minutes."""
    return subprocess.run([CUSTOS, "vm"] + list(args) + ["--timeout", str(CREATE_TIMEOUT)],
                          capture_output=True, text=True, env=env_for(pf, "alice"),
                          timeout=CREATE_TIMEOUT + 30)


def stop_start(pf, name):
    shell(pf, name, "echo custos-$((6*7)) > /tmp/mark; cat /tmp/mark\n",
          r"^custos-42\r?$")
    ce_before = timer_ticks(pf, name)
    up_before = uptime(pf, name)
    ok(vm_long(pf, "stop", name), "stop")
    assert info(pf, name)["state"] == "sealed", info(pf, name)
    ok(vm_long(pf, "start", name), "start from the sealed state")
    shell(pf, name, "cat /tmp/mark\n", r"^custos-42\r?$")
    # Its timer came back armed (the sealed device state): the same clock
    # event device as before the stop, still ticking.
    assert timer_ticks(pf, name) == ce_before, ce_before
    up_after = uptime(pf, name)
    # Its clock went on from where it stood, not from 0 and not by the
    # time it spent sealed (its TSC is restored).
    assert up_before <= up_after < up_before + 120, (up_before, up_after)
    no_stop(pf, name)


# Stopped and started, the same shell goes on: a file in its tmpfs is still
# there and its uptime continues. The sealed blob of a booted Linux is about
# 19 MB (its kernel, page cache and the decompressor's leftovers are not
# zero), which crosses the TPGVM's serial line at 20-40 KiB/s each way:
# 15-30 minutes, beyond make test's budget until the transport is faster.
@h.slow("an 11-19 MB sealed blob each way over the TPGVM's serial line")
@h.on(*h.BACKENDS)
def test_linux_vm_survives_stop_and_start(d, machine):
    assets()
    with platform(d, machine) as pf:
        create_linux(pf, "tux", cmdline=CMDLINE + " init_on_free=1")
        ok(vm(pf, "start", "tux"), "start")
        wait_console(pf, "tux", re.escape(MARKER), BOOT_TIMEOUT)
        stop_start(pf, "tux")
        ok(vm(pf, "destroy", "tux"), "destroy")


# Two tenants' kind of neighbours: two Linux VMs and an attack guest side
# by side. memscan (guests/memscan) fills its own memory, then writes past
# its end: the TCB stops it there (nested page fault); each Linux VM keeps
# its own tmpfs (one's file is not the other's) and both still answer.
@h.slow("two Linux uploads (about 2 MiB each) over the TPGVM's serial line")
@h.on(*h.BACKENDS)
def test_two_linux_vms_and_an_attack_guest_side_by_side(d, machine):
    assets()
    with platform(d, machine) as pf:
        create_linux(pf, "one", memory="48M")
        create_linux(pf, "two", memory="48M")
        ok(vm(pf, "create", "scan", "--memory", "4M", "--image", MEMSCAN), "create memscan")
        for name in ("one", "two"):
            ok(vm(pf, "start", name), "start " + name)
        ok(vm(pf, "start", "scan"), "start memscan")
        for name in ("one", "two"):
            wait_console(pf, name, re.escape(MARKER), BOOT_TIMEOUT)
            shell(pf, name, "echo mine-%s > /tmp/who; cat /tmp/who\n" % name,
                  r"^mine-%s\r?$" % name)
            timer_ticks(pf, name)
        stop = re.search(r"^vm %s \(tenant VM\): stopped: %s: write of guest-physical "
                         r"(0x[0-9a-f]+)" % (vm_id(pf, "scan"), h.NESTED_PAGE_FAULT),
                         pf.emu.serial(), re.M)
        assert stop and int(stop.group(1), 16) == 4 << 20, pf.emu.serial()[-2000:]
        scan = ok(vm(pf, "console", "scan"), "console scan").stdout
        assert "ESCAPED" not in scan and "own memory ok" in scan, scan
        for name, other in (("one", "two"), ("two", "one")):
            out, _ = shell(pf, name, "cat /tmp/who\n", r"^mine-%s\r?$" % name)
            assert "mine-%s" % other not in out, out
            no_stop(pf, name)
        # memscan stopped itself and is being sealed and stored (its 4 MiB,
        # filled, cross the serial line): the destroy does not wait for it.
        for name in ("one", "two", "scan"):
            ok(vm(pf, "destroy", name), "destroy " + name)
