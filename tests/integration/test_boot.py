"""Boot the real ISO: root mode on every machine (VMX in Bochs, SVM in QEMU
and Bochs), a clean refusal on CPUs without what the hypervisor needs,
rejected module sets, exception reports that are never silent, and the
production build without test hooks or debug modes. Tests of the boot path
before root mode, and of one emulator's facts, name their machine."""
import os
import re
import subprocess

import harness as h


# The default ISO's TPGVM serves tenants until the platform is switched off.
TPGVM_UP = r'^tpgvm: launched as vm 1 for platform "custos-dev"'

# A hostile Multiboot2 loader (tests/tools/mb2shim), built by `make unit`.
MB2SHIM = os.path.join(h.BUILD, "test-tools", "mb2shim.elf")


# What each machine's CPU makes the boot say. The TSC rate (docs/boot.md):
# Bochs' TSC counts instructions and its PIT runs on emulated time at `ips`,
# so the PIT measurement gives ips, whatever the Skylake-X model's CPUID
# leaf 0x16 claims; QEMU's TSC runs at the host's rate, its CPUs give none.
MEASURED = r"^tsc: (\d+) Hz \(measured against the PIT over 50 ms; "
TSC_LINE = {
    "bochs-vmx": MEASURED + r"CPUID leaf 0x16 \(base frequency\) says 3500000000 Hz, "
                            r"which this TSC does not keep\)$",
    "bochs-svm": MEASURED + r"CPUID gives no rate\)$",
    "qemu-svm": MEASURED + r"CPUID gives no rate\)$",
}
# The backend's description of the CPU: features it must name, and must
# not (QEMU's SVM has no NRIPS: the backend computes the next RIP itself;
# Bochs' Ryzen has it: both paths run).
FEATURES = {
    "bochs-vmx": (("ept 4-level wb", "vpid", "unrestricted guest", "preemption timer",
                   "true controls"), ()),
    "bochs-svm": (("npt", "nrips"), ("lacks nrips",)),
    "qemu-svm": (("npt", "lacks nrips"), ()),
}
# How the TCB's AES-GCM and SHA-256 run (docs/crypto.md): Bochs' Skylake-X
# and Ryzen models have AES-NI and PCLMULQDQ, QEMU's qemu64 neither (the
# table path); of the three only the Ryzen has the SHA extensions, and
# the Skylake-X has BMI2 for SHA-256's C code, qemu64 not.
AES_NI, NO_AES_NI = "with AES-NI and PCLMULQDQ", r"in table code \(no AES-NI or PCLMULQDQ\)"
SHA_NI = "with SHA-NI"
SHA_C_BMI2, SHA_C = r"in C with BMI2 \(no SHA-NI\)", r"in C \(no SHA-NI or BMI2\)"
CRYPTO_PATHS = {
    "bochs-vmx": (AES_NI, SHA_C_BMI2),
    "bochs-svm": (AES_NI, SHA_NI),
    "qemu-svm": (NO_AES_NI, SHA_C),
}


@h.on(*h.EVERY_MACHINE)
def test_boot_reaches_root_mode(d, machine):
    r = machine.boot(d, stop_on=TPGVM_UP + r"|^custos: power off")
    assert not r.timed_out, "no TPGVM launch within the time limit:\n" + r.serial[-3000:]
    r.expect(r"^custos \S+: booting$")
    r.expect(r"^memory: \d+ MiB managed, \d+ frames free, frame table at 0x[0-9a-f]+")
    r.expect(r"^paging: final page tables at 0x[0-9a-f]+")
    # The emulators' own maps and ACPI: nothing to carve, nothing to refuse.
    r.expect(r"^smp: INIT sent to all other CPUs \(xAPIC, local APIC at 0xfee00000\)")
    tpm = getattr(machine, "tpm", False)
    r.expect(r"^acpi: RSDT at 0x[0-9a-f]+ lists \d+ tables: MADT present \(1 CPUs, "
             r"1 I/O APIC\), 1 HPET, 0 PCI ECAM windows, TPM2 %s$"
             % ("present" if tpm else "absent"))
    r.expect_absent(r"^memory: carved|refused|^acpi: tables not used")
    # BIOS GRUB ignores Multiboot2 tags 7 and 9: no UEFI entry.
    r.expect_absent(r"UEFI entry")
    # A TPM where the machine has one (test_tpm.py); Bochs has none.
    if tpm:
        r.expect(h.TPM_FOUND)
    else:
        r.expect(r"^tpm: none \(no TPM at 0xfed40000 \(DID_VID reads 0x[0-9a-f]+\)\): "
                 r"measurements stay in the log only$")
    hz = int(r.expect(TSC_LINE[machine.name], "TSC rate line").group(1))
    if machine.emulator == "bochs":
        assert abs(hz - h.Bochs.DEFAULT_IPS) < 2000000, "TSC %d Hz" % hz
    # The LAPIC timer (the SVM backend's slice timer) is measured and
    # checked on every boot.
    r.expect(r"^lapic: timer \(xAPIC, vector 0xef\) runs \d+ ticks per \d+ TSC cycles; "
             r"one-shot check: armed for 200000 TSC cycles, fired after \d+$")
    features = h.expect_root_mode(r, machine)
    want, unwanted = FEATURES[machine.name]
    for feature in want:
        assert feature in features, "the backend line lacks %r: %s" % (feature, features)
    for feature in unwanted:
        assert feature not in features, "the backend line has %r: %s" % (feature, features)
    r.expect(r"^crypto: self-test passed \(.*\); entropy from \S+; AES-GCM %s; SHA-256 %s$"
             % CRYPTO_PATHS[machine.name])
    r.expect(TPGVM_UP)
    r.expect_absent(r"EXCEPTION|PANIC|BOOT FAILED")


def test_cpu_without_vmx_or_svm_is_refused(d):
    r = h.QEMU_NOVIRT.boot(d, timeout=60)
    r.expect_status(h.EXIT_NO_VMX)
    r.expect(h.REFUSED_NO_VMX_OR_SVM)
    r.expect_absent(h.ROOT_MODE)
    r.expect(r"^acpi: RSDT at 0x[0-9a-f]+ lists \d+ tables: MADT present \(1 CPUs")
    r.expect_absent(r"^memory: carved|refused")
    # qemu64 has no CPUID leaf 0x15/0x16: the PIT measures the TSC.
    r.expect(MEASURED + r"CPUID gives no rate\)$")
    # It must power off by itself, long before the harness would kill it.
    assert r.elapsed < 30, "took %.1f s to power off" % r.elapsed


def test_uefi_boot_through_the_hybrid_iso(d):
    # Same ISO, booted by OVMF: GRUB's EFI build enters the UEFI entry
    # (boot/efi_stage.c), which exits boot services and hands on GRUB's
    # tags with a memory map from the final EFI map and the ACPI 2.0 RSDP;
    # the boot path after it must not care. No TPM on this machine.
    r = h.MACHINES["qemu-novirt-uefi"].boot(d, timeout=90)
    r.expect_status(h.EXIT_NO_VMX)
    r.expect(r"^boot: UEFI entry: no TCG2 protocol, boot services exited by custos$")
    r.expect(r"^boot: ACPI RSDP v2 present$")
    # OVMF's tables through the XSDT, q35's PCI ECAM window among them.
    r.expect(r"^acpi: XSDT at 0x[0-9a-f]+ lists \d+ tables: MADT present \(1 CPUs, "
             r"1 I/O APIC\), 1 HPET, 1 PCI ECAM window, TPM2 absent$")
    r.expect(r"^memory: \d+ MiB managed")
    # GRUB's EFI build may put small modules below 1 MiB: they are moved up,
    # never refused.
    r.expect_absent(r"refused|^memory: carved")
    for m in re.finditer(r'^boot: module "([^"]+)" 0x([0-9a-f]+)-', r.serial, re.M):
        if int(m.group(2), 16) < 0x100000:
            r.expect(r"^boot: module '%s' moved from 0x%s to 0x[0-9a-f]+ "
                     r"\(below 1 MiB is never managed\)$" % (re.escape(m.group(1)), m.group(2)))
    r.expect(h.REFUSED_NO_VMX_OR_SVM)


def test_bochs_cpu_without_preemption_timer_is_refused(d):
    # Core 2 Penryn has VMX but none of EPT's generation: a required feature
    # is missing, which must be named, not crash or hang.
    r = h.MACHINES["bochs-penryn"].boot(d)
    r.expect_status(h.EXIT_NO_VMX)
    r.expect(r"^no hardware virtualization: VMX: no VMX preemption timer; "
             r"SVM: CPUID 0x80000001:ECX\.SVM\[bit 2\] is 0 ")


def test_bochs_cpu_without_vmx_or_svm_is_refused(d):
    r = h.MACHINES["bochs-novirt"].boot(d)
    r.expect_status(h.EXIT_NO_VMX)
    r.expect(h.REFUSED_NO_VMX_OR_SVM)


def _module_file(d, name, size):
    path = os.path.join(d, name)
    with open(path, "wb") as f:
        f.write(bytes((i * 7 + 3) & 0xFF for i in range(size)))
    return path


def test_modules_are_listed_with_names(d):
    files = [_module_file(d, "a.bin", 5000), _module_file(d, "b.bin", 4096)]
    iso = h.make_iso(d, cmdline="quiet", modules=[("a.bin", "tcb-key extra args"),
                                                  ("b.bin", "envelope")],
                     module_files=files)
    r = h.QEMU_NOVIRT.boot(d, iso=iso)
    r.expect_status(h.EXIT_NO_VMX)
    r.expect(r'^boot: cmdline "quiet"$')
    r.expect(r'^boot: module "tcb-key" 0x[0-9a-f]+-0x[0-9a-f]+ \(5000 bytes\)$')
    r.expect(r'^boot: module "envelope" 0x[0-9a-f]+-0x[0-9a-f]+ \(4096 bytes\)$')


def test_unusable_modules_are_refused_and_the_boot_goes_on(d):
    # A name two modules share (which one is meant is unknown), a module
    # without a name, an empty one: each is refused by name, the others are
    # kept, and the boot goes on (here to QEMU's lack of VMX).
    files = [_module_file(d, "a.bin", 100), _module_file(d, "b.bin", 200),
             _module_file(d, "c.bin", 300), _module_file(d, "empty.bin", 0),
             _module_file(d, "keep.bin", 400)]
    iso = h.make_iso(d, modules=[("a.bin", "envelope"), ("b.bin", "envelope"),
                                 ("c.bin", ""), ("empty.bin", "nothing"),
                                 ("keep.bin", "kept")], module_files=files)
    r = h.QEMU_NOVIRT.boot(d, iso=iso)
    r.expect_status(h.EXIT_NO_VMX)
    tail = r"; the boot goes on without it$"
    dup = r"^boot: module 'envelope' \[0x[0-9a-f]+, 0x[0-9a-f]+\) refused: another " \
          r"module \[0x[0-9a-f]+, 0x[0-9a-f]+\) has the same name" + tail
    assert len(re.findall(dup, r.serial, re.M)) == 2, "both 'envelope' modules refused:\n" + r.tail()
    r.expect(r"^boot: module 2 \[0x[0-9a-f]+, 0x[0-9a-f]+\) refused: it has no name" + tail)
    r.expect(r"^boot: module 'nothing' \[0x[0-9a-f]+, 0x[0-9a-f]+\) refused: it is empty" + tail)
    r.expect_absent(r"'kept'.*refused")
    r.expect(r"^memory: \d+ MiB managed")
    r.expect_absent(r"BOOT FAILED|PANIC")


def _cpu_events(run_dir, cpu):
    """INIT and start-up IPIs that CPU `cpu` received, in order, from Bochs'
    own log: "INIT" or "SIPI <CS:IP>"."""
    events = []
    with open(os.path.join(run_dir, "bochs.log"), errors="replace") as f:
        for line in f:
            if "[APIC%d ] Deliver INIT IPI" % cpu in line:
                events.append("INIT")
            m = re.search(r"CPU %d started up at (\S+) by APIC" % cpu, line)
            if m:
                events.append("SIPI " + m.group(1))
    return events


def _hostile_iso(d, shim_cmdline=""):
    """GRUB boots the shim (with its own command line), the shim loads
    custos.elf; the real TCB and TPGVM modules come along."""
    pki = os.path.join(h.BUILD, "pki")
    return h.make_iso(d, cmdline=shim_cmdline, loader=MB2SHIM,
                      modules=[("custos.elf", "custos"), ("tcb-keys.bin", "tcb-keys"),
                               ("tcb-certs.bin", "tcb-certs"),
                               ("tpgvm.env", "tpgvm-envelope")],
                      module_files=[os.path.join(pki, "tcb-keys.bin"),
                                    os.path.join(pki, "tcb-certs.bin"),
                                    os.path.join(h.BUILD, "tpgvm.env")])


def _expect_cpu1_parked(r):
    """Bochs saw the shim start CPU 1 in its code, then exactly one INIT
    (custos's), and nothing that started it again."""
    r.expect(r"^mb2shim: the other CPU runs the shim's code at 0x00008000")
    events = _cpu_events(r.run_dir, 1)
    assert "SIPI 0800:00000000" in events, "the shim never started CPU 1: %s" % events
    last = len(events) - 1 - events[::-1].index("SIPI 0800:00000000")
    assert events[last + 1:] == ["INIT"], \
        "CPU 1 after the shim started it: %s (want one INIT, then nothing)" % events[last + 1:]


def test_hostile_loader_is_checked_not_believed(d):
    # GRUB boots the shim on a 2-CPU machine; the shim starts the second CPU
    # in its own code, loads custos.elf and hands it a crafted boot
    # information: "available" RAM over the I/O APIC, HPET, TPM and local
    # APIC, and modules below 1 MiB, in the VGA hole, over the hypervisor
    # and over the local APIC, beside the real TCB and TPGVM modules.
    iso = _hostile_iso(d)
    r = h.BOCHS_VMX.boot(d, iso=iso, cpus=2, timeout=300,
                     stop_on=r'^vm: "low" not created|BOOT FAILED|PANIC|EXCEPTION|'
                             r'mb2shim: FAILED')
    assert not r.timed_out, "the boot did not get through:\n" + r.tail(40)
    r.expect(r"^mb2shim: custos\.elf loaded; entering it")

    # The other CPU: parked, and counted from the MADT.
    _expect_cpu1_parked(r)
    r.expect(r"^smp: INIT sent to all other CPUs \(xAPIC, local APIC at 0xfee00000\)")
    r.expect(r"^smp: the MADT lists 2 enabled CPUs: 1 application processor parked$")

    # The fake RAM: one line per device in it, then the window's rest.
    fake = "out of available 0xfec00000-0xfee00fff: "
    for lo, hi, what in (("fee00000", "fee00fff", r"local APIC \(IA32_APIC_BASE\)"),
                         ("fec00000", "fec00fff", r"I/O APIC \(ACPI MADT\)"),
                         ("fed00000", "fed003ff", r"HPET \(ACPI HPET\)"),
                         ("fed40000", "fed44fff", r"TPM TIS localities 0-4"),
                         ("fec00000", "fee00fff", r"chipset, APIC and firmware window")):
        r.expect(r"^memory: carved 0x%s-0x%s %s%s" % (lo, hi, fake, what))
    # ... so the frame table manages exactly the real RAM from 1 MiB up.
    real = sum(int(hi, 16) + 1 - max(int(lo, 16), 0x100000)
               for lo, hi in re.findall(r"^boot: mem ([0-9a-f]+)-([0-9a-f]+) available$",
                                        r.serial, re.M)
               if int(hi, 16) >= 0x100000 and int(lo, 16) < 0xfec00000)
    r.expect(r"^memory: %d MiB managed," % (real >> 20))

    # Modules: refused by name, or moved up; the boot goes on without them.
    gone = "; the boot goes on without it$"
    r.expect(r"^boot: module 'vm\.vga' \[0xb8000, 0xb9000\) refused: overlaps the "
             r"legacy VGA/BIOS hole \[0xa0000, 0x100000\)" + gone)
    r.expect(r"^boot: module 'vm\.overlap' \[0x101000, 0x102000\) refused: overlaps "
             r"the hypervisor image \[0x100000, 0x[0-9a-f]+\)" + gone)
    r.expect(r"^boot: module 'vm\.apic' \[0xfee00000, 0xfee01000\) refused: overlaps "
             r"the local APIC \(IA32_APIC_BASE\) \[0xfee00000, 0xfee01000\)" + gone)
    r.expect(r"^boot: module 'vm\.low' moved from 0x90000 to 0x[0-9a-f]+ "
             r"\(below 1 MiB is never managed\)$")
    r.expect_absent(r"refused.*'(tcb-keys|tcb-certs|tpgvm-envelope)'")
    r.expect(TPGVM_UP)
    # vm.low's bytes are no guest image; its (moved) frames go back freely.
    r.expect(r'^vm: "low" not created: ')


def test_hostile_loader_twisted_local_apic(d):
    # The loader may also leave the boot CPU's local APIC in x2APIC mode or
    # move its page into RAM: the other CPU is parked either way, and the
    # LAPIC timer (docs/svm.md) works in the mode found, through its MSRs or
    # its page moved back. Each run stops at the timer's line (the rest is
    # the boot above).
    for mode, line, timer in (
            ("x2apic", r"^smp: INIT sent to all other CPUs \(x2APIC, local APIC at 0xfee00000\)",
             "x2APIC"),
            ("moved", r"^smp: local APIC was at 0x3000000; moved back to 0xfee00000$", "xAPIC")):
        sub = os.path.join(d, mode)
        os.makedirs(sub)
        r = h.BOCHS_VMX.boot(sub, iso=_hostile_iso(sub, "apic=" + mode), cpus=2,
                         timeout=180, stop_on=r"^lapic: [^\n]*\n|BOOT FAILED|"
                                              r"PANIC|EXCEPTION|mb2shim: FAILED")
        assert not r.timed_out, "%s: no LAPIC timer line in time:\n%s" % (mode, r.tail(30))
        r.expect(r"^paging: final page tables", mode)
        r.expect(r"^lapic: timer \(%s, vector 0xef\) runs \d+ ticks per \d+ TSC cycles; "
                 r"one-shot check: armed for 200000 TSC cycles, fired after \d+$" % timer, mode)
        r.expect(line, mode)
        r.expect(r"^smp: INIT sent to all other CPUs", mode)
        r.expect(r"^memory: \d+ MiB managed", mode)
        _expect_cpu1_parked(r)


def test_page_fault_is_reported(d):
    iso = h.make_iso(d, cmdline="custos.test=page-fault")
    r = h.BOCHS_VMX.boot(d, iso=iso)
    r.expect_status(h.EXIT_PANIC)
    r.expect(r"^custos: \*\*\* CPU EXCEPTION 14 \(#PF page fault\) error=0x0$")
    r.expect(r"^  RIP=[0-9a-f]{16} CS=0008 ")
    r.expect(r"CR2=0000000000000018$")
    r.expect(r"^  R13=[0-9a-f]{16} R14=[0-9a-f]{16} R15=[0-9a-f]{16}$")


def test_invalid_opcode_is_reported(d):
    iso = h.make_iso(d, cmdline="custos.test=invalid-opcode")
    r = h.QEMU_NOVIRT.boot(d, iso=iso)
    r.expect_status(h.EXIT_PANIC)
    assert r.returncode == (h.EXIT_PANIC << 1) | 1
    r.expect(r"^custos: \*\*\* CPU EXCEPTION 6 \(#UD invalid opcode\)")


def test_stack_overflow_hits_guard_page_and_double_faults(d):
    # The overflow faults on the unmapped guard page; the CPU cannot push
    # the #PF frame on that stack, so it raises #DF, which runs on its own
    # IST stack and is reported instead of triple-faulting.
    iso = h.make_iso(d, cmdline="custos.test=stack-overflow")
    r = h.BOCHS_VMX.boot(d, iso=iso)
    r.expect_status(h.EXIT_PANIC)
    r.expect(r"^custos: \*\*\* CPU EXCEPTION 8 \(#DF double fault\)")


def test_unknown_test_hook_is_refused(d):
    iso = h.make_iso(d, cmdline="custos.test=no-such-hook")
    r = h.QEMU_NOVIRT.boot(d, iso=iso)
    r.expect_status(h.EXIT_BOOT_FAILED)
    r.expect(r'^custos: BOOT FAILED: unknown test hook "no-such-hook"$')


def test_harness_kills_an_overrunning_emulator(d):
    # The harness itself, for each emulator: a run that overruns its
    # timeout is reported as such and leaves no emulator process behind.
    for machine in (h.BOCHS_VMX, h.QEMU_NOVIRT):
        r = machine.boot(d, timeout=0.5)
        assert r.timed_out, "%s: a 0.5 s budget cannot fit a whole boot" % machine.name
        try:
            r.expect_status(h.EXIT_OK)
            raise AssertionError("expect_status accepted a run that timed out")
        except AssertionError as e:
            assert "did not power off" in str(e), str(e)
        # Its own emulator only (others may be running tests beside it): a
        # process whose working directory is this run's emulator directory.
        run = os.path.realpath(r.run_dir)
        left = []
        for pid in os.listdir("/proc"):
            try:
                if pid.isdigit() and os.readlink("/proc/%s/cwd" % pid) == run:
                    left.append(pid)
            except OSError:
                pass  # gone meanwhile, or not ours to read
        assert not left, "%s: emulator processes left behind: %s" % (machine.name, left)


@h.on(*h.BACKENDS)
def test_no_entropy_stops_the_boot_before_any_crypto(d, machine):
    iso = h.make_iso(d, cmdline="custos.test=no-entropy")
    r = machine.boot(d, iso=iso)
    r.expect_status(h.EXIT_BOOT_FAILED)
    h.expect_root_mode(r, machine)
    r.expect(r"^custos: BOOT FAILED: crypto entropy: the CPU has neither RDSEED nor RDRAND$")
    r.expect_absent(r"^crypto: self-test passed|^tpgvm:")


# ---- The production build (make PRODUCTION=1; docs/boot.md) -----------------

PROD_ELF = os.path.join(h.BUILD, "production", "custos.elf")
# What only a development build has: the test hooks and the console mirror
# (hv/dev_options.c, hv/platform_crypto.c, hv/vm_exit.c).
DEV_ONLY_SYMBOLS = ("overflow_stack", "platform_crypto_disable_entropy",
                    "vm_exit_set_console_mirror", "mirror_consoles", "entropy_disabled")
DEV_ONLY_STRINGS = (b"page-fault", b"invalid-opcode", b"stack-overflow", b"no-entropy",
                    b"mirror-consoles", b"DEBUG MODE", b"boot: test hook")
PKI = os.path.join(h.BUILD, "pki")
WAITING_FOR_ENVELOPE = r"^custos: no TPGVM; waiting for a valid envelope$"
REFUSED = r"refused: this is a production build, which has no test hooks and no debug modes$"


def _symbols(elf):
    out = subprocess.run(["nm", elf], capture_output=True, text=True, check=True).stdout
    # gcc's clones keep the name before the dot (overflow_stack.isra.0).
    return {line.split()[-1].split(".")[0] for line in out.splitlines()}


def test_production_build_has_no_test_hooks_and_refuses_them(d):
    """The production kernel is built here (its own objects under
    build/production/, the crypto objects shared): none of the test-hook or
    debug-mode code is in it, and a command line that asks for either is
    refused at boot with a clear line, not ignored. Without them it boots
    on as usual (in Bochs, to root mode)."""
    # It trusts only the CA root it is built with, and is never given the
    # development PKI's by default (this test names it, as a stand-in).
    p = subprocess.run(["make", "-C", h.ROOT, "PRODUCTION=1",
                        os.path.relpath(PROD_ELF, h.ROOT)],
                       capture_output=True, text=True, timeout=900)
    assert p.returncode != 0 and "a production build needs CA_ROOT=" in p.stderr, \
        p.stdout + p.stderr
    p = subprocess.run(["make", "-C", h.ROOT, "PRODUCTION=1",
                        "CA_ROOT=" + os.path.join(PKI, "root.der"),
                        os.path.relpath(PROD_ELF, h.ROOT)],
                       capture_output=True, text=True, timeout=900)
    assert p.returncode == 0, p.stdout + p.stderr
    dev_syms, prod_syms = _symbols(h.ELF), _symbols(PROD_ELF)
    with open(h.ELF, "rb") as f:
        dev_bytes = f.read()
    with open(PROD_ELF, "rb") as f:
        prod_bytes = f.read()
    for sym in DEV_ONLY_SYMBOLS:
        assert sym in dev_syms, "the check would not see %s: not in the dev build" % sym
        assert sym not in prod_syms, "%s is in the production build" % sym
    for text in DEV_ONLY_STRINGS:
        assert text in dev_bytes, "the check would not see %r: not in the dev build" % text
        assert text not in prod_bytes, "%r is in the production build" % text

    for sub, cmdline, what in (
            ("both", "custos.test=page-fault custos.debug=mirror-consoles",
             r"custos\.test and custos\.debug "),
            ("debug", "custos.debug=mirror-consoles", r"custos\.debug ")):
        sd = os.path.join(d, sub)
        os.makedirs(sd)
        r = h.QEMU_NOVIRT.boot(sd, iso=h.make_iso(sd, cmdline=cmdline, elf=PROD_ELF))
        r.expect_status(h.EXIT_BOOT_FAILED)
        r.expect(r"^custos: BOOT FAILED: " + what + REFUSED)
        r.expect_absent(r"^boot: test hook|DEBUG MODE|EXCEPTION")
        r.expect_absent(h.ROOT_MODE, "stopped before root mode")
        r.expect_absent(h.REFUSED_NO_VMX_OR_SVM, "stopped before the CPU check")
    # Without them it boots on, but takes no plaintext TCB key module (the
    # development PKI's, with the envelope made for it): no TPGVM.
    sd = os.path.join(d, "plain")
    os.makedirs(sd)
    iso = h.make_iso(sd, elf=PROD_ELF, modules=[
        ("tcb-keys.bin", "tcb-keys"), ("tcb-certs.bin", "tcb-certs"),
        ("tpgvm.env", "tpgvm-envelope")], module_files=[
        os.path.join(PKI, "tcb-keys.bin"), os.path.join(PKI, "tcb-certs.bin"),
        os.path.join(h.BUILD, "tpgvm.env")])
    r = h.BOCHS_VMX.boot(sd, iso=iso, stop_on=WAITING_FOR_ENVELOPE)
    h.expect_root_mode(r, h.BOCHS_VMX)
    r.expect(r"^tpgvm: TCB key module refused: this is a production build, "
             r"which takes no plaintext TCB keys")
    r.expect(WAITING_FOR_ENVELOPE)
    r.expect_absent(r"BOOT FAILED|^tpgvm: launched|key protection: dev")
