#!/usr/bin/env python3
"""`make bench`: what the TCB's common exits cost, in TSC cycles of Bochs/VMX
(`bochs-vmx` only: Bochs' TSC counts instructions, so every figure is a
path length, exact and the same on any host; QEMU's TSC follows the host's
clock, where these would be timings of a shared, loaded host, so this is
not run there).

The timeshare guest (guests/timeshare/timeshare.c) calibrates what one
iteration of its loop costs, x 1024, as the shortest of 256 runs of many
iterations (an uninterrupted run), and prints it on its first line. Its
modes put one thing in each iteration: nothing (spin), a CPUID of the
Custos leaf (cpuid), the null hypercall HC_VERSION (hcall), HC_YIELD
(yield). Three boots, boot-module VMs without a TPGVM, as
tests/integration/test_timeshare.py boots them:

  1. spin, cpuid and hcall side by side (none of them leaves its slice, so
     the others only preempt it, and a preempted run is never the
     shortest);
  2. yield alone: HC_YIELD ends the slice (tcb/hypercall.c: effect YIELD;
     hv/vm_exit.c: outcome RESCHEDULE), hv/sched.c's next_to_run finds the
     same VM again (nothing else is runnable), switch_to returns at once
     (its context is still loaded) and a new slice enters it: a hypercall
     round trip plus one pass of the scheduler, no switch;
  3. two VMs in mode=yield.

The figures, in TSC cycles (instructions):
  cpuid_exit_tsc      = cpuid - spin
  null_hypercall_tsc  = hcall - spin   (the guest's call through hc_version
                                        to the VMCALL stub and back
                                        included: 10 guest instructions)
  yield_alone_tsc     = yield - spin
  vm_switch_tsc       = two / 2 - yield
where two is an iteration of one of the two yielding VMs: its own loop and
yield, the switch to the other, the other's return from its yield, its
loop and its yield, and the switch back. That is 2 x (yield alone) plus 2
switches, each switch being what switch_to does beyond the alone case
(vcpu_save, the control block's load, vcpu_restore, the speculation
barrier's decision; Bochs reports no barrier to issue). yield_and_switch_tsc
= two / 2 - spin is one VM's share of a round-robin round (yield + switch).

Prints one line per figure and writes build/bench/exits.json (the raw
costs too). Nothing here asserts a figure."""
import json
import os
import re
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(ROOT, "tests", "integration"))
import harness as h  # noqa: E402

TIMESHARE = os.path.join(h.BUILD, "guests", "timeshare.elf")
LINE = re.compile(r"^\[vm\d+ (\w+)\] timeshare: (\w+) cpu \d+ iterations \d+ "
                  r"cost (\d+)/1024 gap \d+$", re.M)
# No TPGVM: after the boot-module VMs the hypervisor waits for an envelope.
DONE = r"^custos: no TPGVM; waiting for a valid envelope$|^custos: power off"


def boot(name, vms):
    """vms: (VM name, mode) pairs, run side by side; the cost x 1024 each
    VM printed, by VM name."""
    d = h.run_dir("bench_exits_" + name)
    mods = [("timeshare.elf", "vm.%s mem=2M mode=%s report=1000000 limit=1" % (vm, mode))
            for vm, mode in vms]
    iso = h.make_iso(d, cmdline="custos.debug=mirror-consoles", modules=mods,
                     module_files=[TIMESHARE])
    r = h.BOCHS_VMX.boot(d, iso=iso, ips=2000000, timeout=900, stop_on=DONE)
    costs = {m.group(1): int(m.group(3)) for m in LINE.finditer(r.serial)}
    if r.timed_out or set(costs) != {vm for vm, _ in vms}:
        raise SystemExit("bench: boot %s gave %s; last lines:\n%s"
                         % (name, costs, r.tail(30)))
    return costs


def main():
    raw = boot("side_by_side", [("spin", "spin"), ("cpuid", "cpuid"), ("hcall", "hcall")])
    raw.update(boot("yield_alone", [("yield", "yield")]))
    two = boot("two_yields", [("yielda", "yield"), ("yieldb", "yield")])
    raw.update(two)
    raw["two"] = (two["yielda"] + two["yieldb"]) / 2  # the same, or nearly
    c = {k: v / 1024 for k, v in raw.items()}  # cycles per iteration
    results = {
        "raw_cost_x1024": raw,
        "spin_loop_tsc": round(c["spin"], 1),
        "cpuid_exit_tsc": round(c["cpuid"] - c["spin"], 1),
        "null_hypercall_tsc": round(c["hcall"] - c["spin"], 1),
        "yield_alone_tsc": round(c["yield"] - c["spin"], 1),
        "vm_switch_tsc": round(c["two"] / 2 - c["yield"], 1),
        "yield_and_switch_tsc": round(c["two"] / 2 - c["spin"], 1),
        "two_yields_iteration_tsc": round(c["two"], 1),
    }
    print("spin    %7.1f TSC cycles an iteration of the loop itself (subtracted below)"
          % results["spin_loop_tsc"])
    print("cpuid   %7.1f a CPUID exit round trip (leaf 0x40000000)" % results["cpuid_exit_tsc"])
    print("hcall   %7.1f a null hypercall round trip (HC_VERSION)" % results["null_hypercall_tsc"])
    print("yield   %7.1f an HC_YIELD round trip alone (hypercall + a scheduler pass, "
          "no switch)" % results["yield_alone_tsc"])
    print("switch  %7.1f a VM switch (two yielding VMs: an iteration %.1f = 2 x (yield "
          "+ switch) + 2 x spin; %.1f a VM a round)"
          % (results["vm_switch_tsc"], c["two"], results["yield_and_switch_tsc"]))
    print(json.dumps(results, sort_keys=True))
    out = os.path.join(h.BUILD, "bench", "exits.json")
    os.makedirs(os.path.dirname(out), exist_ok=True)
    with open(out, "w") as f:
        json.dump(results, f, indent=1, sort_keys=True)
    print("written to %s" % out)
    return 0


if __name__ == "__main__":
    sys.exit(main())
