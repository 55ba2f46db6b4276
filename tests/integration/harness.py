"""Boot the real Custos ISO headless in Bochs or QEMU and capture COM1.

Every run gets a fresh directory under build/test-runs/, is bounded by a
timeout, runs in its own process group and is killed (with everything it
started) when it overruns, when the test fails, or when the runner exits.
The hypervisor powers the emulator off itself (QEMU isa-debug-exit, Bochs
port 0x8900) and ends its transcript with "custos: power off, status N".
"""
import atexit
import os
import re
import shutil
import signal
import subprocess
import time

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
BUILD = os.path.join(ROOT, "build")
ISO = os.path.join(BUILD, "custos.iso")
ELF = os.path.join(BUILD, "custos.elf")
RUNS = os.path.join(BUILD, "test-runs")

# Mirrors hv/boot_defs.h.
EXIT_OK, EXIT_PANIC, EXIT_NO_VMX, EXIT_BOOT_FAILED = 0, 1, 2, 3

_live_groups = set()


def _kill_group(pgid):
    try:
        os.killpg(pgid, signal.SIGKILL)
    except ProcessLookupError:
        pass
    _live_groups.discard(pgid)


def kill_all():
    for pgid in list(_live_groups):
        _kill_group(pgid)


atexit.register(kill_all)


def _on_signal(signum, _frame):
    kill_all()
    raise SystemExit(128 + signum)


for _sig in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
    signal.signal(_sig, _on_signal)


class BootResult:
    def __init__(self, serial, returncode, timed_out, elapsed, run_dir):
        self.serial = serial
        self.returncode = returncode
        self.timed_out = timed_out
        self.elapsed = elapsed
        self.run_dir = run_dir
        m = re.search(r"custos: power off, status (\d+)", serial)
        self.status = int(m.group(1)) if m else None

    def tail(self, n=25):
        return "\n".join(self.serial.splitlines()[-n:])

    def expect(self, pattern, what=None):
        """Assert the transcript matches a regex; return the match."""
        m = re.search(pattern, self.serial, re.M)
        if not m:
            raise AssertionError("%s: /%s/ not in serial transcript; last lines:\n%s"
                                 % (what or "expected output", pattern, self.tail()))
        return m

    def expect_absent(self, pattern, what=None):
        if re.search(pattern, self.serial, re.M):
            raise AssertionError("%s: /%s/ unexpectedly in serial transcript:\n%s"
                                 % (what or "unexpected output", pattern, self.tail()))

    def expect_status(self, status):
        if self.timed_out:
            raise AssertionError("emulator did not power off within the timeout; last lines:\n"
                                 + self.tail())
        if self.status != status:
            raise AssertionError("power-off status %r, expected %d; last lines:\n%s"
                                 % (self.status, status, self.tail()))


def run_dir(name):
    """A fresh, empty directory for one test's files."""
    d = os.path.join(RUNS, name)
    shutil.rmtree(d, ignore_errors=True)
    os.makedirs(d)
    return d


def make_iso(directory, cmdline="", modules=(), module_files=(), loader=None,
             elf=ELF):
    """Build a variant ISO with the real custos.elf (or another build of it,
    elf, e.g. the production flavour's).

    modules: (file name under /boot, module command line) pairs for grub.cfg;
    module_files: host paths copied into /boot on the ISO. With loader (a
    host path), GRUB boots that Multiboot2 kernel instead, with cmdline as
    its command line; custos.elf is on the ISO for it to load as a module.
    """
    kernel = "custos.elf"
    if loader:
        kernel = os.path.basename(loader)
        module_files = list(module_files) + [loader]
    lines = ["set timeout=0", "set default=0", 'menuentry "Custos" {',
             "\tmultiboot2 /boot/%s %s" % (kernel, cmdline)]
    for fname, mcmd in modules:
        lines.append("\tmodule2 /boot/%s %s" % (fname, mcmd))
    lines += ["\tboot", "}"]
    cfg = os.path.join(directory, "grub.cfg")
    with open(cfg, "w") as f:
        f.write("\n".join(lines) + "\n")
    iso = os.path.join(directory, "custos-test.iso")
    subprocess.run([os.path.join(ROOT, "tools", "mkiso.sh"), iso, cfg, elf]
                   + list(module_files), check=True, timeout=120)
    return iso


def _wait(proc, timeout, serial_path, echo, stop_on):
    """Wait for the emulator to power off. With echo, copy the serial log to
    stdout as it grows; with stop_on (a regex), end the run as soon as the
    transcript matches it (for a hypervisor that rightly stays up)."""
    if not echo and not stop_on:
        proc.wait(timeout=timeout)
        return
    deadline = time.monotonic() + timeout
    shown, text = 0, ""
    while True:
        done = proc.poll() is not None
        if os.path.exists(serial_path):
            with open(serial_path, "rb") as f:
                f.seek(shown)
                chunk = f.read()
            shown += len(chunk)
            chunk = chunk.decode("utf-8", "replace").replace("\r\n", "\n")
            text += chunk
            if echo:
                echo(chunk)
        if done:
            return
        if stop_on and re.search(stop_on, text, re.M):
            return
        if time.monotonic() > deadline:
            raise subprocess.TimeoutExpired(proc.args, timeout)
        time.sleep(0.1)


def _run(cmd, directory, serial_path, timeout, echo=None, stop_on=None):
    start = time.monotonic()
    with open(os.path.join(directory, "emulator.out"), "wb") as out:
        proc = subprocess.Popen(cmd, cwd=directory, stdin=subprocess.DEVNULL,
                                stdout=out, stderr=subprocess.STDOUT,
                                start_new_session=True)
    _live_groups.add(proc.pid)
    timed_out = False
    try:
        _wait(proc, timeout, serial_path, echo, stop_on)
    except subprocess.TimeoutExpired:
        timed_out = True
    finally:
        _kill_group(proc.pid)
        proc.wait()
    elapsed = time.monotonic() - start
    return BootResult(_read_serial(serial_path), proc.returncode, timed_out,
                      elapsed, directory)


def _read_serial(serial_path):
    if not os.path.exists(serial_path):
        return ""
    with open(serial_path, "rb") as f:
        return f.read().decode("utf-8", "replace").replace("\r\n", "\n")


BOCHSRC = """\
megs: {megs}
romimage: file=/usr/share/bochs/BIOS-bochs-latest
vgaromimage: file=/usr/share/vgabios/vgabios.bin
ata0-slave: type=cdrom, path={iso}, status=inserted
boot: cdrom
com1: enabled=1, mode=file, dev=serial.log
{com2}cpu: model={cpu}, count={cpus}, ips={ips}, reset_on_triple_fault=0
clock: sync=none, time0=local
display_library: rfb, options="timeout=0"
log: bochs.log
panic: action=fatal
speaker: enabled=0
mouse: enabled=0
"""


def _emulator_dir(directory, sub):
    """A fresh subdirectory of a test's run_dir() for one emulator run."""
    d = os.path.join(directory, sub)
    shutil.rmtree(d, ignore_errors=True)
    os.makedirs(d)
    return d


def _bochs_dir(directory, iso, cpu, megs, ips, sub, com2_file, com2_socket, cpus=1):
    """A fresh emulator directory with its bochsrc; returns it."""
    if com2_file and com2_socket:
        raise ValueError("COM2 is either a file or a socket")
    d = _emulator_dir(directory, sub)
    com2 = ""
    if com2_file:
        com2 = "com2: enabled=1, mode=file, dev=com2.log\n"
    elif com2_socket:
        com2 = "com2: enabled=1, mode=socket-client, dev=localhost:%d\n" % int(com2_socket)
    with open(os.path.join(d, "bochsrc"), "w") as f:
        f.write(BOCHSRC.format(megs=megs, iso=iso, cpu=cpu, ips=ips, com2=com2,
                               cpus=int(cpus)))
    with open(os.path.join(d, "dbg.rc"), "w") as f:
        f.write("c\nquit\n")  # Debian's Bochs has its debugger compiled in
    return d


BOCHS_CMD = ["bochs-bin", "-q", "-f", "bochsrc", "-rc", "dbg.rc"]


def boot_bochs(directory, iso=ISO, cpu="corei7_skylake_x", megs=256,
               ips=100000000, timeout=120, sub="bochs", echo=None,
               stop_on=None, com2_file=False, com2_socket=None, cpus=1):
    """Boot an ISO in Bochs (software VMX). Bochs always exits 1: read the
    outcome from the transcript's power-off status. With com2_file, COM2 is
    captured in <run dir>/com2.log; with com2_socket=PORT, COM2 connects at
    start to localhost:PORT (socket-client: the server must already listen).
    A low ips makes serial bytes cheap in wall time (HARNESS.md). cpus is
    the number of CPUs (Bochs' SMP); Bochs' own log is bochs.log in the
    result's run_dir."""
    d = _bochs_dir(directory, iso, cpu, megs, ips, sub, com2_file, com2_socket,
                   cpus)
    return _run(BOCHS_CMD, d, os.path.join(d, "serial.log"), timeout, echo, stop_on)


class Emulator:
    """A running emulator that the test drives while it runs (start_bochs).
    Always stop() it, in a finally: that kills it and everything it started."""

    def __init__(self, cmd, directory, serial_path):
        self.run_dir = directory
        self.serial_path = serial_path
        self.start = time.monotonic()
        with open(os.path.join(directory, "emulator.out"), "wb") as out:
            self.proc = subprocess.Popen(cmd, cwd=directory, stdin=subprocess.DEVNULL,
                                         stdout=out, stderr=subprocess.STDOUT,
                                         start_new_session=True)
        _live_groups.add(self.proc.pid)

    def serial(self):
        return _read_serial(self.serial_path)

    def tail(self, n=25):
        return "\n".join(self.serial().splitlines()[-n:])

    def wait_for(self, pattern, timeout, count=1):
        """Wait until the transcript matches pattern (a multi-line regex) count
        times; return the matches. Fails if the emulator exits first."""
        deadline = time.monotonic() + timeout
        while True:
            found = list(re.finditer(pattern, self.serial(), re.M))
            if len(found) >= count:
                return found
            if self.proc.poll() is not None:
                raise AssertionError("emulator exited before /%s/ (x%d); last lines:\n%s"
                                     % (pattern, count, self.tail()))
            if time.monotonic() > deadline:
                raise AssertionError("/%s/ (x%d) not in the transcript within %g s "
                                     "(%d found); last lines:\n%s"
                                     % (pattern, count, timeout, len(found), self.tail()))
            time.sleep(0.1)

    def stop(self):
        """Kill the emulator (if still running); the transcript so far."""
        _kill_group(self.proc.pid)
        self.proc.wait()
        return BootResult(self.serial(), self.proc.returncode, False,
                          time.monotonic() - self.start, self.run_dir)


def start_bochs(directory, iso=ISO, cpu="corei7_skylake_x", megs=256,
                ips=100000000, sub="bochs", com2_file=False, com2_socket=None):
    """Like boot_bochs, but return at once with an Emulator to drive."""
    d = _bochs_dir(directory, iso, cpu, megs, ips, sub, com2_file, com2_socket)
    return Emulator(BOCHS_CMD, d, os.path.join(d, "serial.log"))


OVMF_CODE = "/usr/share/OVMF/OVMF_CODE_4M.fd"
OVMF_VARS = "/usr/share/OVMF/OVMF_VARS_4M.fd"


def boot_qemu(directory, iso=ISO, cpu=None, memory=256, timeout=60, extra=(),
              sub="qemu", uefi=False):
    """Boot an ISO in QEMU TCG (no VMX), by BIOS or, with uefi, by OVMF.
    QEMU's exit code is (status << 1) | 1."""
    d = _emulator_dir(directory, sub)
    cmd = ["qemu-system-x86_64", "-accel", "tcg", "-m", str(memory)]
    if uefi:
        shutil.copy(OVMF_VARS, os.path.join(d, "vars.fd"))
        cmd += ["-machine", "q35",
                "-drive", "if=pflash,format=raw,readonly=on,file=" + OVMF_CODE,
                "-drive", "if=pflash,format=raw,file=vars.fd"]
    cmd += ["-cdrom", iso, "-serial", "file:serial.log", "-display", "none",
           "-no-reboot", "-device", "isa-debug-exit,iobase=0xf4,iosize=0x04"]
    if cpu:
        cmd += ["-cpu", cpu]
    cmd += list(extra)
    return _run(cmd, d, os.path.join(d, "serial.log"), timeout)
