"""CPU time in Bochs: a VM is charged for the VM exits it causes, and the
TCB's long lifecycle calls run in bounded steps (docs/vm-exits.md,
"Scheduling"; docs/lifecycle.md, "Long calls").

One boot: bigseal, packaged as the TPGVM, creates, loads, starts, seals,
resumes and destroys a 256 MiB VM, while two timeshare VMs run beside it,
one spinning and one exiting (CPUID) in every iteration. Both count their
iterations and know what one costs (calibrated; for the CPUID one it
includes the exit), so iterations x cost is the CPU each consumed; and
both report the longest they were ever kept waiting. Bochs' TSC counts
instructions, so every figure here is a path length, not a time."""
import os
import re

import harness as h
from test_tpgvm import PKI, package_image

BIGSEAL = os.path.join(h.BUILD, "guests", "bigseal.elf")
TIMESHARE = os.path.join(h.BUILD, "guests", "timeshare.elf")
LINE = re.compile(r"^\[vm(\d+) (spin|exiter)\] timeshare: (spin|cpuid) cpu (\d+) "
                  r"iterations (\d+) cost (\d+)/1024 gap (\d+)$", re.M)

# The longest a running VM may wait, in TSC cycles: the other two VMs'
# slices (200 000 each, sched.c), each overrun by at most what ends it --
# one CPUID exit, or one step of a long call (LC_STEP_TSC = 50 000 plus its
# last unit, at most one page of AES-GCM: ~0.5 M instructions in Bochs
# today) -- plus console output. Unbounded, sealing 256 MiB was one wait of
# hundreds of millions.
GAP_BOUND = 2000000
FAIRNESS = 1.5


# Bochs only: there the TSC counts instructions, so the bounds below are path
# lengths. QEMU's TSC follows the host's clock, where they would be timings
# of a shared, loaded host. And Bochs/VMX only: Bochs 2.7's SVM keeps a
# physical interrupt masked for a whole VMRUN of a guest with RFLAGS.IF = 0
# (docs/svm.md), so the spinning VM, which never exits, would never be
# preempted there; QEMU/SVM preempts it (test_guests' four guests).
@h.on("bochs-vmx")
def test_exits_are_charged_and_long_calls_are_steps(d, machine):
    env = package_image(d, BIGSEAL)
    mods = [("tcb-keys.bin", "tcb-keys"), ("tcb-certs.bin", "tcb-certs"),
            ("tpgvm.env", "tpgvm-envelope"),
            ("timeshare.elf", "vm.spin mem=2M mode=spin"),
            ("timeshare.elf", "vm.exiter mem=2M mode=cpuid")]
    iso = h.make_iso(d, cmdline="custos.debug=mirror-consoles", modules=mods,
                     module_files=[os.path.join(PKI, "tcb-keys.bin"),
                                   os.path.join(PKI, "tcb-certs.bin"), env, TIMESHARE])
    # Low ips: console bytes cost little emulated time (HARNESS.md); the
    # TSC and the preemption timer count instructions whatever ips says.
    r = machine.boot(d, iso=iso, megs=512, ips=2000000, timeout=900,
               stop_on=r"^\[vm1 tpgvm\] bigseal: done|^custos: power off")
    assert not r.timed_out, r.tail(40)
    r.expect(r"^\[vm1 tpgvm\] bigseal: done, 0 failures$")
    s = r.serial
    done = s.index("bigseal: done")
    lines = [m for m in LINE.finditer(s) if m.start() < done]
    spin = [m for m in lines if m.group(3) == "spin"]
    exiter = [m for m in lines if m.group(3) == "cpuid"]
    assert spin and exiter, r.tail(40)

    # Nobody waited long, whatever the TCB was doing for bigseal...
    worst = max(lines, key=lambda m: int(m.group(7)))
    assert int(worst.group(7)) <= GAP_BOUND, worst.group(0)

    # ... and the spinning VM kept running through each long call.
    for call in ("create", "load", "start", "stop", "resume", "destroy"):
        b = s.index("bigseal: %s begin" % call)
        e = s.index("bigseal: %s end" % call)
        assert re.search(r"bigseal: %s end -?\d+$" % call, s[e:].split("\n")[0]), call
        during = [m for m in spin if b < m.start() < e]
        if call in ("create", "stop", "resume", "destroy"):
            assert len(during) >= 3, (call, len(during))
    r.expect(r"^lifecycle: vm \d+ sealed v1 ")
    r.expect(r"^lifecycle: vm \d+ resumed from v1, ")
    r.expect(r"^lifecycle: vm \d+ destroyed, ")

    # The CPUID loop really exits: its iteration costs many times the spin's.
    cost_spin, cost_exit = int(spin[-1].group(6)), int(exiter[-1].group(6))
    assert cost_exit > 10 * cost_spin, (cost_spin, cost_exit)

    # Fair: up to the same moment, neither consumed more than 1.5x the other.
    assert len(spin) >= 20 and len(exiter) >= 20, (len(spin), len(exiter))
    cpu_spin, cpu_exit = int(spin[-1].group(4)), int(exiter[-1].group(4))
    ratio = max(cpu_spin, cpu_exit) / min(cpu_spin, cpu_exit)
    assert ratio <= FAIRNESS, ("CPU spin %d, exiter %d: %.2fx"
                               % (cpu_spin, cpu_exit, ratio))
