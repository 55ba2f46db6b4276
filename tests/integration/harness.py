"""Boot the real Custos ISO headless on an emulated machine and capture COM1.

A machine (Machine: bochs-vmx, qemu-svm, bochs-svm, and a few others for
tests about one CPU's facts) says which emulator boots the ISO with which
CPU model, so which of the hypervisor's backends runs, and how it is
started, given COM2 and read back. A test that boots the hypervisor is
written once and says the machines it runs on (@on(...)); tests/run.py
runs it once per machine that is switched on (MACHINES_ON,
CUSTOS_MACHINES).

Every run gets a fresh directory under build/test-runs/, is bounded by a
timeout, runs in its own process group and is killed (with everything it
started) when it overruns, when the test fails, or when the runner exits.
The hypervisor powers the emulator off itself (QEMU isa-debug-exit, Bochs
port 0x8900) and ends its transcript with "custos: power off, status N".
"""
import atexit
import contextlib
import os
import re
import shutil
import signal
import socket
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
    def __init__(self, serial, returncode, timed_out, elapsed, run_dir, machine):
        self.serial = serial
        self.returncode = returncode
        self.timed_out = timed_out
        self.elapsed = elapsed
        self.run_dir = run_dir
        self.machine = machine
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
        # Where the emulator reports it too (QEMU's exit code), it must agree.
        exited = self.machine.exit_status(self.returncode)
        if exited is not None and exited != status:
            raise AssertionError("the transcript says status %d, the emulator's exit "
                                 "code %r says %r" % (status, self.returncode, exited))


def run_dir(name):
    """A fresh, empty directory for one test's files."""
    d = os.path.join(RUNS, name)
    shutil.rmtree(d, ignore_errors=True)
    os.makedirs(d)
    return d


@contextlib.contextmanager
def host_tpm(state, sock):
    """swtpm on the TPM state directory state, as the host runs it between
    boots (the emulator off), serving on the unix socket sock: yields the
    environment for tpm2-tools. Stopped gracefully, so what it wrote stays
    in state."""
    swtpm = subprocess.Popen(["swtpm", "socket", "--tpm2", "--tpmstate", "dir=" + state,
                              "--server", "type=unixio,path=" + sock,
                              "--ctrl", "type=unixio,path=" + sock + ".ctrl",
                              "--flags", "not-need-init,startup-clear"])
    try:
        for _ in range(100):
            if os.path.exists(sock):
                break
            time.sleep(0.1)
        yield dict(os.environ, TPM2TOOLS_TCTI="swtpm:path=" + sock)
    finally:
        swtpm.terminate()
        swtpm.wait()


def make_iso(directory, cmdline="", modules=(), module_files=(), loader=None,
             elf=ELF, measured=False):
    """Build a variant ISO with the real custos.elf (or another build of it,
    elf, e.g. the production flavour's).

    measured: GRUB's EFI build loads its tpm module first, as boot/grub.cfg
    does, so that under OVMF it measures the launch into PCRs 8 and 9.

    modules: (file name under /boot, module command line) pairs for grub.cfg;
    module_files: host paths copied into /boot on the ISO. With loader (a
    host path), GRUB boots that Multiboot2 kernel instead, with cmdline as
    its command line; custos.elf is on the ISO for it to load as a module.
    """
    kernel = "custos.elf"
    if loader:
        kernel = os.path.basename(loader)
        module_files = list(module_files) + [loader]
    lines = ["set timeout=0", "set default=0"]
    if measured:
        lines += ['if [ "$grub_platform" = "efi" ]; then', "\tinsmod tpm", "fi"]
    lines += ['menuentry "Custos" {',
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
        if stop_on and re.search(stop_on, _whole_lines(text), re.M):
            return
        if time.monotonic() > deadline:
            raise subprocess.TimeoutExpired(proc.args, timeout)
        time.sleep(0.1)


def _run(machine, cmd, directory, serial_path, timeout, echo=None, stop_on=None):
    emu = Emulator(machine, cmd, directory, serial_path)
    timed_out = False
    try:
        _wait(emu.proc, timeout, serial_path, echo, stop_on)
    except subprocess.TimeoutExpired:
        timed_out = True
    return emu.stop(timed_out)


def _read_serial(serial_path):
    if not os.path.exists(serial_path):
        return ""
    with open(serial_path, "rb") as f:
        return f.read().decode("utf-8", "replace").replace("\r\n", "\n")


def _whole_lines(text):
    """The transcript up to its last newline. The TCB's log drains from a
    ring a few bytes per exit (hv/console.c), so a running machine's last
    line may be half out: a pattern must not match it (a `$` would match
    at the end of the text, a cut number would read as a smaller one)."""
    return text[:text.rfind("\n") + 1]




def _emulator_dir(directory, sub):
    """A fresh subdirectory of a test's run_dir() for one emulator run."""
    d = os.path.join(directory, sub)
    shutil.rmtree(d, ignore_errors=True)
    os.makedirs(d)
    return d


class Emulator:
    """A running emulator that the test drives while it runs (Machine.start).
    Always stop() it, in a finally: that kills it and everything it started."""

    def __init__(self, machine, cmd, directory, serial_path):
        self.machine = machine
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

    def running(self):
        return self.proc.poll() is None

    def wait_for(self, pattern, timeout, count=1):
        """Wait until the transcript matches pattern (a multi-line regex) count
        times; return the matches. Fails if the emulator exits first."""
        deadline = time.monotonic() + timeout
        while True:
            running = self.running()
            text = self.serial()
            found = list(re.finditer(pattern, _whole_lines(text) if running else text, re.M))
            if len(found) >= count:
                return found
            if not running:
                raise AssertionError("emulator exited before /%s/ (x%d); last lines:\n%s"
                                     % (pattern, count, self.tail()))
            if time.monotonic() > deadline:
                raise AssertionError("/%s/ (x%d) not in the transcript within %g s "
                                     "(%d found); last lines:\n%s"
                                     % (pattern, count, timeout, len(found), self.tail()))
            time.sleep(0.1)

    def stop(self, timed_out=False):
        """Kill the emulator (if still running); the transcript so far."""
        _kill_group(self.proc.pid)
        self.proc.wait()
        return BootResult(self.serial(), self.proc.returncode, timed_out,
                          time.monotonic() - self.start, self.run_dir, self.machine)


class Machine:
    """An emulated computer to boot an ISO on: an emulator and a CPU model,
    and so the hypervisor backend that runs on it ("vmx", "svm", or None:
    a CPU the hypervisor must refuse).

    boot() runs the ISO until the hypervisor powers the machine off, the
    transcript matches stop_on, or timeout; start() returns at once with an
    Emulator to drive. Both take the hardware a test needs:
      megs        RAM in MiB
      cpus        number of CPUs
      com2_file   COM2 captured in <run dir>/com2.log
      com2_socket COM2 connected at start to localhost:PORT, which must
                  already listen (the relay, or the test as the relay)
      ips         Bochs only: emulated instructions per second. Bochs' serial
                  ports and timers run on emulated time, so a low ips makes
                  serial bytes cheap in wall time; its TSC counts
                  instructions whatever ips says. QEMU's serial ports and
                  clocks follow the host's time and need no such setting.
      sub         the run's subdirectory of the test's run_dir()
    """
    emulator = None

    def __init__(self, name, cpu, backend, description):
        self.name = name
        self.cpu = cpu
        self.backend = backend
        self.description = description

    def __repr__(self):
        return "<machine %s>" % self.name

    def exit_status(self, returncode):
        """The hypervisor's power-off status as the emulator's own exit code
        tells it, or None where the exit code does not tell it."""
        return None

    def boot(self, directory, iso=ISO, timeout=120, stop_on=None, echo=None, **hw):
        """Boot iso; with echo, copy the serial log to it as it grows."""
        cmd, d = self._prepare(directory, iso, **hw)
        return _run(self, cmd, d, os.path.join(d, "serial.log"), timeout, echo, stop_on)

    def start(self, directory, iso=ISO, **hw):
        cmd, d = self._prepare(directory, iso, **hw)
        return Emulator(self, cmd, d, os.path.join(d, "serial.log"))

    def _prepare(self, directory, iso, **hw):
        """A fresh emulator directory for one run and the command to run in
        it, from which the serial log lands in serial.log."""
        raise NotImplementedError


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

BOCHS_CMD = ["bochs-bin", "-q", "-f", "bochsrc", "-rc", "dbg.rc"]


class Bochs(Machine):
    """Bochs 2.7. It always exits 1, so the outcome is read from the
    transcript's power-off status (the hypervisor writes "Shutdown" to port
    0x8900). Its own log is bochs.log in the result's run_dir."""
    emulator = "bochs"
    DEFAULT_IPS = 100000000

    def _prepare(self, directory, iso, megs=256, cpus=1, com2_file=False,
                 com2_socket=None, ips=DEFAULT_IPS, sub="bochs"):
        if com2_file and com2_socket:
            raise ValueError("COM2 is either a file or a socket")
        d = _emulator_dir(directory, sub)
        com2 = ""
        if com2_file:
            com2 = "com2: enabled=1, mode=file, dev=com2.log\n"
        elif com2_socket:
            com2 = "com2: enabled=1, mode=socket-client, dev=localhost:%d\n" % int(com2_socket)
        with open(os.path.join(d, "bochsrc"), "w") as f:
            f.write(BOCHSRC.format(megs=int(megs), iso=iso, cpu=self.cpu, ips=int(ips),
                                   com2=com2, cpus=int(cpus)))
        with open(os.path.join(d, "dbg.rc"), "w") as f:
            f.write("c\nquit\n")  # Debian's Bochs has its debugger compiled in
        return BOCHS_CMD, d


OVMF_CODE = "/usr/share/OVMF/OVMF_CODE_4M.fd"
OVMF_VARS = "/usr/share/OVMF/OVMF_VARS_4M.fd"


class Qemu(Machine):
    """QEMU 7.2 with TCG (no hardware virtualization is needed or used),
    booted by SeaBIOS or, with uefi, by OVMF on a q35 machine. The
    hypervisor's power-off reaches isa-debug-exit at port 0xf4: QEMU's exit
    code is (status << 1) | 1."""
    emulator = "qemu"

    def __init__(self, name, cpu, backend, description, uefi=False, tpm=False):
        super().__init__(name, cpu, backend, description)
        self.uefi = uefi
        self.tpm = tpm

    def exit_status(self, returncode):
        if returncode is not None and returncode > 0 and returncode & 1:
            return returncode >> 1
        return None

    def _prepare(self, directory, iso, megs=256, cpus=1, com2_file=False,
                 com2_socket=None, ips=None, sub="qemu", monitor=False,
                 tpm_state=None, tpm_device="tpm-tis"):
        del ips  # QEMU's clocks follow the host's
        if com2_file and com2_socket:
            raise ValueError("COM2 is either a file or a socket")
        d = _emulator_dir(directory, sub)
        cmd = ["qemu-system-x86_64", "-accel", "tcg", "-m", str(int(megs)),
               "-smp", str(int(cpus)), "-cpu", self.cpu]
        if self.uefi:
            shutil.copy(OVMF_VARS, os.path.join(d, "vars.fd"))
            cmd += ["-machine", "q35",
                    "-drive", "if=pflash,format=raw,readonly=on,file=" + OVMF_CODE,
                    "-drive", "if=pflash,format=raw,file=vars.fd"]
        cmd += ["-cdrom", iso, "-display", "none", "-no-reboot", "-nic", "none",
                "-device", "isa-debug-exit,iobase=0xf4,iosize=0x04",
                "-serial", "file:serial.log"]
        if com2_file:
            cmd += ["-serial", "file:com2.log"]
        elif com2_socket:
            # A client that connects at start, like Bochs' socket-client.
            cmd += ["-serial", "tcp:127.0.0.1:%d,nodelay=on" % int(com2_socket)]
        if monitor:
            # The human monitor on <run dir>/monitor.sock (qemu_monitor()).
            cmd += ["-monitor", "unix:monitor.sock,server=on,wait=off"]
        if self.tpm:
            cmd = _with_swtpm(cmd, tpm_state or os.path.join(d, "tpm"), tpm_device)
        return cmd, d


def _with_swtpm(qemu_cmd, state, device):
    """qemu_cmd with a TPM 2.0: swtpm behind device (tpm-tis or tpm-crb),
    its state (the TPM's
    seeds, NV and, between boots, nothing else) in the directory state,
    which a test may keep across boots to reboot the same platform. swtpm
    starts first, in the same process group (killed with QEMU), and ends
    when QEMU disconnects. The socket is named relative to the run
    directory: an absolute one can pass the 107 bytes a path may hold."""
    os.makedirs(state, exist_ok=True)
    script = ('swtpm socket --tpm2 --tpmstate dir="$1" --ctrl type=unixio,path=tpm.sock '
              '--terminate --log file=swtpm.log & shift; i=0; '
              'while [ ! -S tpm.sock ] && [ $i -lt 200 ]; do sleep 0.05; i=$((i+1)); done; '
              'exec "$@"')
    return (["sh", "-c", script, "sh", state] + qemu_cmd +
            ["-chardev", "socket,id=chrtpm,path=tpm.sock",
             "-tpmdev", "emulator,id=tpm0,chardev=chrtpm",
             "-device", device + ",tpmdev=tpm0"])


def qemu_monitor(emu, command, timeout=10):
    """Send one command to the monitor of a QEMU Emulator started with
    monitor=True, after its first prompt (a command sent earlier can be
    lost); its answer, up to the next prompt."""
    path = os.path.join(emu.run_dir, "monitor.sock")
    deadline = time.monotonic() + timeout
    while not os.path.exists(path):
        if time.monotonic() > deadline or not emu.running():
            raise AssertionError("no QEMU monitor at " + path)
        time.sleep(0.1)

    def until_prompt(s, text=b""):
        while b"(qemu)" not in text:
            chunk = s.recv(4096)
            if not chunk:
                raise AssertionError("QEMU's monitor closed: %r" % text)
            text += chunk
        return text

    # A socket path may hold 107 bytes, which a deep clone's run directory
    # can pass: connect by the name relative to its directory (QEMU made it
    # so, from there). Each integration test runs in its own process.
    here = os.getcwd()
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as s:
        s.settimeout(timeout)
        os.chdir(emu.run_dir)
        try:
            s.connect("monitor.sock")
        finally:
            os.chdir(here)
        until_prompt(s)
        s.sendall(command.encode() + b"\n")
        answer = until_prompt(s)
    return answer.decode("utf-8", "replace")


# ---- The machines ---------------------------------------------------------------

MACHINES = {m.name: m for m in (
    Bochs("bochs-vmx", "corei7_skylake_x", "vmx",
          "Bochs, Skylake-X CPU model with VMX, EPT, VPID and the preemption timer"),
    # QEMU's TCG implements RDRAND but not RDSEED; the TCB's entropy needs
    # one of them, and qemu64 has neither unless asked.
    # The production path's machine: a TPM 2.0 (swtpm) on the TIS.
    Qemu("qemu-svm", "qemu64,+svm,+npt,+rdrand", "svm",
         "QEMU TCG, qemu64 CPU with SVM and nested paging, without NRIPS, "
         "and a TPM 2.0 (swtpm, TIS)", tpm=True),
    Bochs("bochs-svm", "ryzen", "svm",
          "Bochs, Ryzen CPU model with SVM, nested paging and NRIPS"),
    # Machines of single tests about one CPU's or firmware's facts.
    Qemu("qemu-novirt", "qemu64", None,
         "QEMU TCG, qemu64 CPU without VMX or SVM"),
    Qemu("qemu-novirt-uefi", "qemu64", None,
         "QEMU TCG, qemu64 CPU without VMX or SVM, booted by OVMF (UEFI)", uefi=True),
    # The UEFI entry (boot/efi_stage.c): GRUB leaves boot services alive,
    # the hypervisor copies the firmware's TCG2 log and exits them itself.
    Qemu("qemu-svm-uefi", "qemu64,+svm,+npt,+rdrand", "svm",
         "QEMU TCG, qemu64 CPU with SVM and nested paging, booted by OVMF "
         "(UEFI) with a TPM 2.0 (swtpm, TIS)", uefi=True, tpm=True),
    Bochs("bochs-penryn", "core2_penryn_t9600", None,
          "Bochs, Core 2 Penryn CPU model: VMX without EPT's generation"),
    Bochs("bochs-novirt", "athlon64_venice", None,
          "Bochs, Athlon 64 CPU model without VMX or SVM"),
)}

BOCHS_VMX, QEMU_NOVIRT = MACHINES["bochs-vmx"], MACHINES["qemu-novirt"]

# Which machines a test that boots the hypervisor runs on (@on):
# BACKENDS, every such test: Bochs/VMX and QEMU/SVM (no NRIPS);
# EVERY_MACHINE, the representative subset (boot, guests, one lifecycle):
# also Bochs/SVM, so the NRIPS path runs too.
BACKENDS = ("bochs-vmx", "qemu-svm")
EVERY_MACHINE = BACKENDS + ("bochs-svm",)

# The machines whose runs tests/run.py makes; CUSTOS_MACHINES (names, comma
# separated, or "all") overrides.
MACHINES_ON = EVERY_MACHINE


def machines_on():
    """The machines switched on, in MACHINES order."""
    want = os.environ.get("CUSTOS_MACHINES", "").strip()
    if not want:
        names = MACHINES_ON
    elif want == "all":
        names = EVERY_MACHINE
    else:
        names = [n.strip() for n in want.split(",") if n.strip()]
    unknown = [n for n in names if n not in MACHINES]
    if unknown:
        raise SystemExit("CUSTOS_MACHINES: no machine %s (there are: %s)"
                         % (", ".join(unknown), ", ".join(MACHINES)))
    return [m for m in MACHINES.values() if m.name in names]


def slow(why):
    """Decorator: the test runs only with CUSTOS_SLOW=1 (tests/run.py lists
    it at the end as not run otherwise, never as passed): it takes longer
    than make test's budget allows, for the reason given."""
    def mark(fn):
        fn.slow = why
        return fn
    return mark


def slow_on():
    return os.environ.get("CUSTOS_SLOW", "") == "1"


def on(*names):
    """Decorator: the test boots the hypervisor and runs once per machine
    named (and switched on), called as test(run_dir, machine)."""
    unknown = [n for n in names if n not in MACHINES]
    if unknown or not names:
        raise ValueError("@on: no machine %s" % ", ".join(unknown))

    def mark(fn):
        fn.machines = tuple(names)
        return fn
    return mark


# ---- What the hypervisor prints, where it depends on the backend --------------

# Once in root mode (hv/main.c): "vmx: VMX root mode on cpu0: <features>";
# the SVM backend's line has the same shape, "svm: <...> on cpu0:
# <features>". Group 1 is the backend, 2 the features it found.
ROOT_MODE = r"^(vmx|svm): .* on cpu0: (.*)$"

# A machine's TPM, found and started (hv/tpm.c); group 1 is the interface.
TPM_FOUND = (r"^tpm: (TIS|CRB) TPM 2\.0 at 0xfed40000, SHA-384 bank, salted HMAC session; "
             r"48 random bytes \(encrypted on the bus\) mixed into the DRBG$")

# A CPU with neither VMX nor SVM: the refusal, with each backend's reason.
REFUSED_NO_VMX_OR_SVM = (r"^no hardware virtualization: VMX: CPUID\.1:ECX\.VMX\[bit 5\] "
                         r"is 0.*; SVM: ")

# A guest stopped at its first access outside its memory: how the stop line
# names the nested-page fault. The shared exit handler words it for both
# backends (hv/vm_exit.c, handle_npf); if that changes, change it here.
NESTED_PAGE_FAULT = "EPT violation"


def expect_root_mode(r, machine):
    """The backend line of this machine's backend; its feature list."""
    m = r.expect(ROOT_MODE, "the root-mode line")
    assert m.group(1) == machine.backend, \
        "%s entered %s, expected %s" % (machine.name, m.group(1), machine.backend)
    return m.group(2)
