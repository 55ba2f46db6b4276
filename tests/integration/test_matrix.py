"""The test matrix itself (docs/testing.md, "Machines"): tests/run.py makes
one run per machine a test names and that is switched on, every test that
boots the hypervisor on Bochs/VMX and on QEMU/SVM, and counts runs on
machines switched off as not run; the platform on a machine whose CPU the
hypervisor refuses fails at once with the hypervisor's reason, after QEMU's
COM2 reached the relay."""
import os
import re
import subprocess
import sys

import harness as h
from custos_platform import Platform

RUN = [sys.executable, os.path.join(h.ROOT, "tests", "run.py")]


def runner(*args, machines=None):
    env = dict(os.environ)
    env.pop("CUSTOS_MACHINES", None)
    if machines is not None:
        env["CUSTOS_MACHINES"] = machines
    return subprocess.run(RUN + list(args), capture_output=True, text=True, env=env,
                          timeout=120)


def listed(machines=None):
    """{test: [machines]} and the names of runs switched off, from --list."""
    p = runner("--list", "integration/", machines=machines)
    assert p.returncode == 0, p.stdout + p.stderr
    runs, off = {}, []
    for line in p.stdout.splitlines():
        if line.startswith("off "):
            off.append(line[4:])
            continue
        if line.startswith("slow "):
            continue  # harness.slow: run only with CUSTOS_SLOW=1 (below)
        m = re.fullmatch(r"integration/(\S+?)(?:\[([a-z-]+)\])?", line)
        assert m, line
        runs.setdefault(m.group(1), []).append(m.group(2))
    return runs, off


# Tests of what only one emulator can do: QEMU's monitor raises NMIs.
ONE_EMULATOR = {"test_guests.test_an_nmi_is_logged_and_the_vms_run_on"}
# Tests make test runs on Bochs/VMX only, with their QEMU/SVM run slow.
ONE_BACKEND_IN_MAKE_TEST = {"test_linux_vm.test_linux_vm_boots_to_a_shell_that_runs_commands"}
# Tests of code that is the same on both backends (tcb/ policy, the TPGVM's
# TLS and sessions, the relay), run once on QEMU/SVM, the faster one: a
# second run on Bochs/VMX would prove nothing new (each says which test
# covers its VMX path). A second run costs make test minutes.
ARCH_NEUTRAL = {
    "test_lifecycle.test_lifecycle_sealed_blob_is_tamper_and_rollback_proof",
    "test_lifecycle.test_lifecycle_isolation_and_resources",
    "test_lifecycle.test_lifecycle_vm_that_stops_itself_is_sealed",
    "test_lifecycle.test_lifecycle_shell_one_session",
    "test_lifecycle.test_lifecycle_storage_failure_loses_nothing",
    "test_lifecycle.test_lifecycle_blob_beyond_the_old_24_mib_buffer",
    "test_lifecycle.test_lifecycle_refused_transitions",
    # the streams' VMX side: test_timeshare's bigseal on bochs-vmx
    "test_streamseal.test_a_128_mib_vm_of_data_stops_and_starts_through_a_window",
    "test_tpgvm.test_flipped_byte_in_each_region_is_refused",
    "test_tpgvm_transport.test_tpgvm_serves_eight_concurrent_tls_tenants",
    "test_tpgvm_transport.test_tpgvm_tls_over_a_scripted_line",
    "test_attest.test_attest_detects_a_tampering_relay",
    "test_attest.test_attest_refuses_impostors_and_strangers",
    # make run's script (host-side: start, print the settings, clean up);
    # the platform it boots on VMX: the demo path.
    "test_operator.test_make_run_serves_the_cli_by_hand_until_interrupted",
}


def test_a_run_per_machine_switched_on(d):
    runs, off = listed(machines="all")
    assert not off, off
    per_machine = {t: ms for t, ms in runs.items() if ms != [None]}
    assert per_machine, runs
    for test, machines in per_machine.items():
        assert None not in machines and len(set(machines)) == len(machines), (test, machines)
        # Every test that boots the hypervisor runs on both backends but
        # those of arch-neutral code (once, on QEMU/SVM); the one whose
        # bounds are path lengths stays on Bochs/VMX, and
        # Linux's boot, whose run on QEMU/SVM is a slow one (its upload
        # crosses QEMU's serial line for minutes; the SVM interrupt path
        # is the ticker's, on both).
        if test.startswith("test_timeshare.") or test in ONE_BACKEND_IN_MAKE_TEST:
            assert machines == ["bochs-vmx"], machines
        elif test in ARCH_NEUTRAL:
            assert machines == ["qemu-svm"], (test, machines)
        else:
            assert machines[:2] == ["bochs-vmx", "qemu-svm"], (test, machines)
    subset = sorted(t for t, ms in per_machine.items() if "bochs-svm" in ms)
    for part in ("test_boot.test_boot_reaches_root_mode", "test_guests.test_hcfuzz",
                 "test_guests.test_memscan", "test_lifecycle_tcb."):
        assert any(t.startswith(part) for t in subset), (part, subset)
    # The tests that boot the platform, guests, envelopes and the channel
    # are among them, but for those about one emulator's ability.
    for module in ("test_attest", "test_guests", "test_lifecycle", "test_lifecycle_tcb",
                   "test_tpgvm", "test_tpgvm_transport"):
        tests = [t for t in runs if t.startswith(module + ".") and t not in ONE_EMULATOR]
        assert tests and all(t in per_machine for t in tests), (module, tests)

    # By default every machine is on.
    default, off = listed()
    assert default == runs and not off, off
    # Switched off by choice: listed as such, never run.
    only, off = listed(machines="bochs-vmx")
    assert all(ms in ([None], ["bochs-vmx"]) for ms in only.values()), only
    want_off = sum(len(ms) - ("bochs-vmx" in ms) for ms in per_machine.values())
    assert len(off) == want_off and all("[bochs-vmx]" not in n for n in off), off

    # Slow runs are listed as such (never as runs) unless CUSTOS_SLOW=1.
    p = runner("--list", "integration/test_linux_vm")
    slow = [line[5:] for line in p.stdout.splitlines() if line.startswith("slow ")]
    assert any("survives_stop_and_start[qemu-svm]" in s for s in slow), p.stdout
    assert not any("survives_stop_and_start" in line for line in p.stdout.splitlines()
                   if not line.startswith("slow ")), p.stdout

    p = runner("--list", machines="bochs-vmx,no-such-machine")
    assert p.returncode != 0 and "CUSTOS_MACHINES: no machine no-such-machine" in p.stderr, \
        p.stdout + p.stderr


def test_runs_on_machines_switched_off_are_not_counted(d):
    p = runner("test_boot_reaches_root_mode[qemu-svm]", machines="bochs-vmx")
    assert p.returncode == 0, p.stdout + p.stderr
    assert re.search(r"^Not run: 1 integration runs on machines switched off .*: qemu-svm$",
                     p.stdout, re.M), p.stdout
    assert p.stdout.rstrip().endswith("\n0 passed, 0 failed"), p.stdout
    assert not re.search(r"^(PASS|FAIL) ", p.stdout, re.M), p.stdout


def test_platform_on_a_refused_cpu_fails_at_once(d):
    # QEMU without VMX or SVM: its COM2 reaches the relay, then the
    # hypervisor refuses the CPU and powers off. The platform says so with
    # the hypervisor's reason, and does not wait out the TPGVM's 180 s.
    try:
        Platform(d, h.QEMU_NOVIRT).stop()
        failure = None
    except AssertionError as e:
        failure = str(e)
    assert failure, "a platform came up on a CPU the hypervisor refuses"
    assert "qemu-novirt stopped before the relay logged" in failure, failure
    assert re.search(h.REFUSED_NO_VMX_OR_SVM[1:], failure), failure
    with open(os.path.join(d, "relay.log")) as f:
        assert re.search(r"tpgvm link up", f.read()), "QEMU's COM2 never reached the relay"
