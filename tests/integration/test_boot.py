"""Boot the real ISO: VMX root in Bochs, a clean refusal in QEMU TCG,
rejected module sets, exception reports that are never silent, and the
production build without test hooks or debug modes."""
import os
import subprocess

import harness as h


# The default ISO's TPGVM serves tenants until the platform is switched off.
TPGVM_UP = r'^tpgvm: launched as vm 1 for platform "custos-dev"'


def test_bochs_reaches_vmx_root(d):
    r = h.boot_bochs(d, stop_on=TPGVM_UP)
    assert not r.timed_out, "no TPGVM launch within the time limit:\n" + r.serial[-3000:]
    r.expect(r"^custos \S+: booting$")
    r.expect(r"^memory: \d+ MiB managed, \d+ frames free, frame table at 0x[0-9a-f]+")
    r.expect(r"^paging: final page tables at 0x[0-9a-f]+")
    # The TSC rate (docs/boot.md): Bochs' CPUID claims 3.5 GHz, but its TSC
    # counts instructions and its PIT runs on emulated time at `ips`
    # (harness default 1e8), so the PIT measurement is taken.
    m = r.expect(r"^tsc: (\d+) Hz \(measured against the PIT over 50 ms; CPUID leaf "
                 r"0x16 \(base frequency\) says 3500000000 Hz, which this TSC does "
                 r"not keep\)$", "TSC rate line")
    assert abs(int(m.group(1)) - 100000000) < 2000000, m.group(0)
    m = r.expect(r"^vmx: VMX root mode on cpu0: (.*)$", "capability line")
    for feature in ("ept 4-level wb", "vpid", "unrestricted guest",
                    "preemption timer", "true controls"):
        assert feature in m.group(1), "capability line lacks %r: %s" % (feature, m.group(1))
    r.expect_absent(r"EXCEPTION|PANIC|BOOT FAILED")


def test_qemu_tcg_reports_vmx_unavailable(d):
    r = h.boot_qemu(d, timeout=60)
    r.expect_status(h.EXIT_NO_VMX)
    assert r.returncode == (h.EXIT_NO_VMX << 1) | 1, "QEMU exit code %r" % r.returncode
    r.expect(r"^VMX not available: CPUID\.1:ECX\.VMX")
    r.expect_absent(r"^vmx: VMX root")
    # qemu64 has no CPUID leaf 0x15/0x16: the PIT measures the TSC.
    r.expect(r"^tsc: \d+ Hz \(measured against the PIT over 50 ms; CPUID gives no rate\)$")
    # It must power off by itself, long before the harness would kill it.
    assert r.elapsed < 30, "took %.1f s to power off" % r.elapsed


def test_uefi_boot_through_the_hybrid_iso(d):
    # Same ISO, booted by OVMF: GRUB's EFI build hands over an EFI-derived
    # memory map and the ACPI 2.0 RSDP; the boot path must not care.
    r = h.boot_qemu(d, uefi=True, timeout=90)
    r.expect_status(h.EXIT_NO_VMX)
    r.expect(r"^boot: ACPI RSDP v2 present$")
    r.expect(r"^memory: \d+ MiB managed")
    r.expect(r"^VMX not available: ")


def test_bochs_cpu_without_preemption_timer_is_refused(d):
    # Core 2 Penryn has VMX but none of EPT's generation: a required feature
    # is missing, which must be named, not crash or hang.
    r = h.boot_bochs(d, cpu="core2_penryn_t9600")
    r.expect_status(h.EXIT_NO_VMX)
    r.expect(r"^VMX not available: no VMX preemption timer$")


def test_bochs_cpu_without_vmx_is_refused(d):
    r = h.boot_bochs(d, cpu="athlon64_venice")
    r.expect_status(h.EXIT_NO_VMX)
    r.expect(r"^VMX not available: CPUID\.1:ECX\.VMX\[bit 5\] is 0")


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
    r = h.boot_qemu(d, iso=iso)
    r.expect_status(h.EXIT_NO_VMX)
    r.expect(r'^boot: cmdline "quiet"$')
    r.expect(r'^boot: module "tcb-key" 0x[0-9a-f]+-0x[0-9a-f]+ \(5000 bytes\)$')
    r.expect(r'^boot: module "envelope" 0x[0-9a-f]+-0x[0-9a-f]+ \(4096 bytes\)$')


def test_duplicate_module_names_are_rejected(d):
    files = [_module_file(d, "a.bin", 100), _module_file(d, "b.bin", 200)]
    iso = h.make_iso(d, modules=[("a.bin", "envelope"), ("b.bin", "envelope")],
                     module_files=files)
    for boot in (h.boot_qemu, h.boot_bochs):
        r = boot(d, iso=iso)
        r.expect_status(h.EXIT_BOOT_FAILED)
        r.expect(r"^custos: BOOT FAILED: module set rejected: .*envelope")
        r.expect_absent(r"^vmx: VMX root|^memory:")


def test_unnamed_module_is_rejected(d):
    files = [_module_file(d, "a.bin", 100)]
    iso = h.make_iso(d, modules=[("a.bin", "")], module_files=files)
    r = h.boot_qemu(d, iso=iso)
    r.expect_status(h.EXIT_BOOT_FAILED)
    r.expect(r"^custos: BOOT FAILED: module set rejected: .*name")


def test_empty_module_is_rejected(d):
    files = [_module_file(d, "empty.bin", 0)]
    iso = h.make_iso(d, modules=[("empty.bin", "envelope")], module_files=files)
    r = h.boot_qemu(d, iso=iso)
    r.expect_status(h.EXIT_BOOT_FAILED)
    r.expect(r"^custos: BOOT FAILED: module set rejected: .*envelope")


def test_page_fault_is_reported(d):
    iso = h.make_iso(d, cmdline="custos.test=page-fault")
    r = h.boot_bochs(d, iso=iso)
    r.expect_status(h.EXIT_PANIC)
    r.expect(r"^custos: \*\*\* CPU EXCEPTION 14 \(#PF page fault\) error=0x0$")
    r.expect(r"^  RIP=[0-9a-f]{16} CS=0008 ")
    r.expect(r"CR2=0000000000000018$")
    r.expect(r"^  R13=[0-9a-f]{16} R14=[0-9a-f]{16} R15=[0-9a-f]{16}$")


def test_invalid_opcode_is_reported(d):
    iso = h.make_iso(d, cmdline="custos.test=invalid-opcode")
    r = h.boot_qemu(d, iso=iso)
    r.expect_status(h.EXIT_PANIC)
    assert r.returncode == (h.EXIT_PANIC << 1) | 1
    r.expect(r"^custos: \*\*\* CPU EXCEPTION 6 \(#UD invalid opcode\)")


def test_stack_overflow_hits_guard_page_and_double_faults(d):
    # The overflow faults on the unmapped guard page; the CPU cannot push
    # the #PF frame on that stack, so it raises #DF, which runs on its own
    # IST stack and is reported instead of triple-faulting.
    iso = h.make_iso(d, cmdline="custos.test=stack-overflow")
    r = h.boot_bochs(d, iso=iso)
    r.expect_status(h.EXIT_PANIC)
    r.expect(r"^custos: \*\*\* CPU EXCEPTION 8 \(#DF double fault\)")


def test_unknown_test_hook_is_refused(d):
    iso = h.make_iso(d, cmdline="custos.test=no-such-hook")
    r = h.boot_qemu(d, iso=iso)
    r.expect_status(h.EXIT_BOOT_FAILED)
    r.expect(r'^custos: BOOT FAILED: unknown test hook "no-such-hook"$')


def test_harness_kills_an_overrunning_emulator(d):
    # The harness itself: a run that overruns its timeout is reported as
    # such and leaves no emulator process behind.
    r = h.boot_bochs(d, timeout=0.5)
    assert r.timed_out, "a 0.5 s budget cannot fit a whole boot"
    try:
        r.expect_status(h.EXIT_OK)
        raise AssertionError("expect_status accepted a run that timed out")
    except AssertionError as e:
        assert "did not power off" in str(e), str(e)
    left = subprocess.run(["pgrep", "-f", "bochs-bin -q -f bochsrc"],
                          capture_output=True, text=True).stdout.split()
    assert not left, "emulator processes left behind: %s" % left


def test_no_entropy_stops_the_boot_before_any_crypto(d):
    iso = h.make_iso(d, cmdline="custos.test=no-entropy")
    r = h.boot_bochs(d, iso=iso)
    r.expect_status(h.EXIT_BOOT_FAILED)
    r.expect(r"^vmx: VMX root mode on cpu0")
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
    on as usual (in QEMU, to the VMX check)."""
    p = subprocess.run(["make", "-C", h.ROOT, "PRODUCTION=1",
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
        r = h.boot_qemu(sd, iso=h.make_iso(sd, cmdline=cmdline, elf=PROD_ELF))
        r.expect_status(h.EXIT_BOOT_FAILED)
        r.expect(r"^custos: BOOT FAILED: " + what + REFUSED)
        r.expect_absent(r"^boot: test hook|DEBUG MODE|EXCEPTION|^vmx:|VMX not available")
    sd = os.path.join(d, "plain")
    os.makedirs(sd)
    r = h.boot_qemu(sd, iso=h.make_iso(sd, elf=PROD_ELF))
    r.expect_status(h.EXIT_NO_VMX)
    r.expect(r"^VMX not available: ")
    r.expect_absent(r"BOOT FAILED")
