"""Any VM size stops and starts (issue 14; docs/lifecycle.md, "Streams"):
streamseal, packaged AS the TPGVM, creates a 128 MiB VM running memfill,
which writes a pattern into every page it can reach and checks all of it
over and over; streamseal stops it through a 64 KiB window, a window per
HC_VM_STOP_STREAM, into its own blob store, resumes it from there a 64 KiB
piece per HC_VM_START_STREAM, and the VM's memory checks out afterwards.
Before each, a stream abandoned after three calls: the stop's VM runs on,
the resume's stays sealed with every frame given back. The TPGVM image's
129 MiB blob store (.bss) gets it the memory it needs (hv/tpgvm.c)."""
import os
import re

import harness as h
from test_tpgvm import PKI, package_image

STREAMSEAL = os.path.join(h.BUILD, "guests", "streamseal.elf")
MIB = 1 << 20
PAGES = 128 * MIB // 4096


# One backend: the streams are TCB and TPGVM logic; the VMX side of a
# large VM's long calls (mapping, sealing and opening 256 MiB in bounded
# steps) is test_timeshare's bigseal on bochs-vmx, where this test took
# over three minutes to prove nothing more.
@h.on("qemu-svm")
def test_a_128_mib_vm_of_data_stops_and_starts_through_a_window(d, machine):
    env = package_image(d, STREAMSEAL)
    mods = [("tcb-keys.bin", "tcb-keys"), ("tcb-certs.bin", "tcb-certs"),
            ("tpgvm.env", "tpgvm-envelope")]
    iso = h.make_iso(d, cmdline="custos.debug=mirror-consoles", modules=mods,
                     module_files=[os.path.join(PKI, "tcb-keys.bin"),
                                   os.path.join(PKI, "tcb-certs.bin"), env])
    r = machine.boot(d, iso=iso, megs=512, timeout=2400,
                     stop_on=r"^\[vm1 tpgvm\] streamseal: done|^custos: power off")
    assert not r.timed_out, r.tail(60)
    s = r.serial
    fails = re.findall(r"^\[vm1 tpgvm\] streamseal: FAIL .*$", s, re.M)
    assert not fails, "\n".join(fails) + "\n" + r.tail(60)
    r.expect(r"^\[vm1 tpgvm\] streamseal: done, 0 failures$")
    # The TPGVM got the memory its image needs (the store and 16 MiB), not 64.
    mem = r.expect(r"^tpgvm: (\d+) MiB of memory, as its image needs$")
    assert 146 <= int(mem.group(1)) <= 160, mem.group(0)

    # The tenant's memory was all data, and checked after the resume.
    filled = r.expect(r"^\[vm1 tpgvm\] streamseal: vm: memfill: filled (\d+) pages$")
    assert int(filled.group(1)) >= PAGES - 32, filled.group(0)
    r.expect_absent(r"memfill: pass \d+ BAD")
    r.expect(r"^\[vm1 tpgvm\] streamseal: memory intact after the resume ok")

    # The TCB's view: abandoned stop, a seal of every page but a few, an
    # abandoned resume that gave every frame back, the resume, the destroy.
    r.expect(r"^lifecycle: vm (\d+) stop abandoned: it is running as before$")
    sealed = r.expect(r"^lifecycle: vm \d+ sealed v1 \((\d+) pages, (\d+) bytes\), "
                      r"(\d+) frames free, \d+ TCB cycles$")
    assert int(sealed.group(1)) >= PAGES - 16, sealed.group(0)
    calls = r.expect(r"^\[vm1 tpgvm\] streamseal: sealed (\d+) bytes in (\d+) calls "
                     r"of a 65536-byte window")
    assert calls.group(1) == sealed.group(2), (calls.group(0), sealed.group(0))
    assert int(calls.group(2)) >= int(calls.group(1)) // 65536, calls.group(0)
    abandoned = r.expect(r"^lifecycle: vm \d+ start abandoned: sealed as before, "
                         r"(\d+) frames free$")
    assert abandoned.group(1) == sealed.group(3), (abandoned.group(0), sealed.group(0))
    r.expect(r"^lifecycle: vm \d+ resumed from v1, ")
    r.expect(r"^lifecycle: vm \d+ destroyed, ")
