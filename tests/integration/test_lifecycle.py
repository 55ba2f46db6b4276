"""The VM lifecycle end to end on the real platform, on every backend:
tenant CLI -> custos-relay (with its blob storage) -> TPGVM -> TCB, and
back. The demo
path (create, start, console, stop, start again with the counter going on,
destroy), then what a hostile host or another tenant may try: sealed blobs
altered in each region, an older blob put back (rollback), another tenant
acting on the VM, start after destroy, more memory than is free, and many
create/destroy cycles that must leave no frame behind. Every CLI run has a
--timeout; the emulator and relay are killed in a finally."""
import json
import os
import re
import shutil
import struct
import subprocess
import time

import harness as h
from custos_platform import Platform

CUSTOS = os.path.join(h.BUILD, "bin", "custos")
PKI = os.path.join(h.BUILD, "pki")
COUNTER = os.path.join(h.BUILD, "guests", "counter.elf")
HELLO = os.path.join(h.BUILD, "guests", "hello.elf")
MEMSCAN = os.path.join(h.BUILD, "guests", "memscan.elf")
MEMFILL = os.path.join(h.BUILD, "guests", "memfill.elf")
TIMEOUT = 300

EXIT_OK, EXIT_FAILED, EXIT_ERROR, EXIT_REFUSED = 0, 1, 2, 3
FREE = r"(\d+) frames free"

# docs/seal.md: the header, then context, page list, pages, tag.
SEAL_HEADER_LEN, SEAL_TAG_LEN = 152, 16


def env_for(pf, tenant):
    env = dict(os.environ)
    env.update(CUSTOS_RELAY="127.0.0.1:%d" % pf.port,
               CUSTOS_CA=os.path.join(PKI, "root.pem"),
               CUSTOS_CERT=os.path.join(PKI, "tenant-%s.pem" % tenant),
               CUSTOS_KEY=os.path.join(PKI, "tenant-%s.key" % tenant),
               CUSTOS_REFERENCE=os.path.join(h.BUILD, "reference.json"),
               CUSTOS_ALLOW_DEV="1")
    return env


def vm(pf, *args, tenant="alice"):
    p = subprocess.run([CUSTOS, "vm"] + list(args) + ["--timeout", str(TIMEOUT)],
                       capture_output=True, text=True, env=env_for(pf, tenant),
                       timeout=TIMEOUT + 30)
    return p


def ok(p, what):
    assert p.returncode == EXIT_OK, "%s: exit %d\n%s%s" % (what, p.returncode,
                                                           p.stdout, p.stderr)
    return p


def fails(p, code, reason, what):
    out = p.stdout + p.stderr
    assert p.returncode == code, "%s: exit %d, want %d\n%s" % (what, p.returncode, code, out)
    assert re.search(reason, out, re.I | re.M), "%s: no /%s/ in:\n%s" % (what, reason, out)


def info(pf, name, tenant="alice"):
    return json.loads(ok(vm(pf, "status", name, "--json", tenant=tenant), "status").stdout)


def counter_values(pf, name):
    p = ok(vm(pf, "console", name), "console")
    # Whole lines only: a read ends wherever the output had got to, maybe
    # inside a line ("counter: 2" of 219000000).
    return [int(v) for v in re.findall(r"^counter: (\d+)\n", p.stdout, re.M)]


def wait_console(pf, name, values, above, timeout, pause=2, key=lambda v: v):
    """Read the VM's console with values(pf, name) until it shows a value
    whose key is above `above`; every value seen."""
    end = time.monotonic() + timeout
    seen = []
    while time.monotonic() < end:
        seen += values(pf, name)
        if seen and key(max(seen)) > above:
            return seen
        time.sleep(pause)
    raise AssertionError("%s: no %s above %d within %d s (saw %r)"
                         % (name, values.__name__, above, timeout, seen[-5:]))


def wait_counter(pf, name, above=0, timeout=120):
    """Read the console until the counter shows a value above `above`."""
    return wait_console(pf, name, counter_values, above, timeout)


def blob_path(pf, name):
    blobs = [f for f in os.listdir(pf.storage) if f.endswith("-%s.sealed" % name)]
    assert len(blobs) == 1, "blobs for %s in storage: %r" % (name, os.listdir(pf.storage))
    return os.path.join(pf.storage, blobs[0])


def free_frames(pf):
    """The TCB's latest free-frame count (its lifecycle log lines)."""
    found = re.findall(FREE, pf.emu.serial())
    assert found, "no free-frame count in the platform log"
    return int(found[-1])


def platform(d, machine):
    storage = os.path.join(d, "storage")
    os.makedirs(storage)
    return Platform(d, machine, storage=storage)


@h.on(*h.BACKENDS)
def test_lifecycle_demo_path(d, machine):
    with platform(d, machine) as pf:
        p = ok(vm(pf, "create", "counter", "--memory", "32M", "--image", COUNTER,
                  "--secret", "ROOT_PASSWORD=hunter2"), "create")
        assert "hunter2" not in p.stdout + p.stderr + pf.emu.serial() + pf.relay.log()
        ok(vm(pf, "start", "counter"), "start")
        before = wait_counter(pf, "counter")
        ok(vm(pf, "stop", "counter"), "stop")
        assert info(pf, "counter")["state"] == "sealed", info(pf, "counter")
        last = max(before + counter_values(pf, "counter"))
        ok(vm(pf, "start", "counter"), "start from the sealed state")
        after = wait_counter(pf, "counter", above=last)
        # It went on from where it stopped: no restart from the beginning.
        assert min(v for v in after if v > 0) > min(before), (before[:3], after[:3])
        ok(vm(pf, "destroy", "counter"), "destroy")
        fails(vm(pf, "status", "counter"), EXIT_REFUSED, r"not found", "status after destroy")
        serial = pf.emu.serial()
        assert "hunter2" not in serial and "hunter2" not in pf.relay.log()


def memfill_passes(pf, name):
    out = ok(vm(pf, "console", name), "console").stdout
    assert "BAD" not in out, out[-2000:]
    return [int(v) for v in re.findall(r"^memfill: pass (\d+) ok", out, re.M)]


def wait_memfill(pf, name, above=0, timeout=600):
    return max(wait_console(pf, name, memfill_passes, above, timeout, pause=5))


# A VM whose sealed blob is larger than the TPGVM's former 24 MiB blob
# buffers: the TPGVM streams it through 128 KiB windows both ways
# (docs/tpgvm.md, "VM lifecycle"). memfill (guests/memfill) makes every
# page of its 28 MiB non-zero, so the blob holds them all, and checks all
# of it over and over: after the resume it must go on passing. Streaming
# is the TPGVM's code, the same on both backends (the TCB's streams of
# 128 MiB are test_streamseal's, on Bochs too): QEMU/SVM only.
@h.slow("a 28 MiB sealed blob each way over the TPGVM's serial line "
        "(~45 KiB/s on QEMU: about 11 minutes each way)")
@h.on("qemu-svm")
def test_lifecycle_blob_beyond_the_old_24_mib_buffer(d, machine):
    long = 2400
    with platform(d, machine) as pf:
        ok(vm(pf, "create", "big", "--memory", "28M", "--image", MEMFILL), "create")
        ok(vm(pf, "start", "big"), "start")
        before = wait_memfill(pf, "big")
        env = env_for(pf, "alice")
        p = subprocess.run([CUSTOS, "vm", "stop", "big", "--timeout", str(long)],
                           capture_output=True, text=True, env=env, timeout=long + 60)
        ok(p, "stop")
        assert info(pf, "big")["state"] == "sealed", info(pf, "big")
        size = os.path.getsize(blob_path(pf, "big"))
        assert size > (24 << 20), size
        last = max([before] + memfill_passes(pf, "big"))
        p = subprocess.run([CUSTOS, "vm", "start", "big", "--timeout", str(long)],
                           capture_output=True, text=True, env=env, timeout=long + 60)
        ok(p, "start from the sealed state")
        assert info(pf, "big")["state"] == "running", info(pf, "big")
        # Its memory came back whole: the checks go on passing.
        wait_memfill(pf, "big", above=last + 1)
        ok(vm(pf, "destroy", "big"), "destroy")


# One backend is enough: the checks that refuse a tampered or rolled-back
# blob are tcb/ code (seal, records), the same on both; sealing and resuming
# a VM on VMX is the demo path's and the interrupt-driven VM's on Bochs.
@h.on("qemu-svm")
def test_lifecycle_sealed_blob_is_tamper_and_rollback_proof(d, machine):
    with platform(d, machine) as pf:
        ok(vm(pf, "create", "c", "--memory", "8M", "--image", COUNTER), "create")
        ok(vm(pf, "start", "c"), "start")
        wait_counter(pf, "c")
        ok(vm(pf, "stop", "c"), "stop (v1)")
        path = blob_path(pf, "c")
        v1 = open(path, "rb").read()
        # One bit flipped in each region (docs/seal.md): a header field, the
        # context, the page list, a page, the tag.
        page_count, context_len = struct.unpack_from("<II", v1, 128)
        pad16 = lambda n: (n + 15) & ~15
        list_at = SEAL_HEADER_LEN + pad16(context_len)
        pages_at = list_at + pad16(8 * page_count)
        assert len(v1) == pages_at + 4096 * page_count + SEAL_TAG_LEN, (len(v1), page_count)
        regions = {"header (owner)": 30, "context": SEAL_HEADER_LEN + 8,
                   "page list": list_at + 3, "a page": pages_at + 4096 + 100,
                   "tag": len(v1) - SEAL_TAG_LEN + 3}
        for region, off in regions.items():
            bad = bytearray(v1)
            bad[off] ^= 0x10
            open(path, "wb").write(bad)
            fails(vm(pf, "start", "c"), EXIT_FAILED, r"verif", "start with the %s altered" % region)
        open(path, "wb").write(v1)
        ok(vm(pf, "start", "c"), "start with the genuine blob")
        ok(vm(pf, "stop", "c"), "stop (v2)")
        # Rollback: the host puts the older blob back.
        open(path, "wb").write(v1)
        fails(vm(pf, "start", "c"), EXIT_FAILED, r"rollback|older", "start with the v1 blob")


# One backend is enough: ownership, blobs of another VM, refused memory and
# the frames of create/destroy cycles are tcb/ code (the nested tables'
# two formats: test_npt.c, both); stopping a busy VM on VMX is the demo
# path's, on Bochs.
@h.on("qemu-svm")
def test_lifecycle_isolation_and_resources(d, machine):
    with platform(d, machine) as pf:
        ok(vm(pf, "create", "mine", "--memory", "8M", "--image", COUNTER), "create")
        # Another tenant sees nothing and can do nothing: "not found".
        for cmd in ("status", "start", "stop", "destroy", "console"):
            fails(vm(pf, cmd, "mine", tenant="bob"), EXIT_REFUSED, r"not found",
                  "bob: %s of alice's VM" % cmd)
        listed = json.loads(ok(vm(pf, "list", "--json", tenant="bob"), "bob: list").stdout)
        assert listed == [] or listed.get("vms") == [], listed
        # Stop while the guest is busy (counter never stops computing).
        ok(vm(pf, "start", "mine"), "start")
        wait_counter(pf, "mine")
        ok(vm(pf, "stop", "mine"), "stop a busy VM")
        path = blob_path(pf, "mine")
        saved = open(path, "rb").read()
        ok(vm(pf, "destroy", "mine"), "destroy")
        fails(vm(pf, "start", "mine"), EXIT_REFUSED, r"not found", "start after destroy")
        # A VM of the same name again, and the old blob put back for it: it
        # is not that VM's state (another VM id, key and measurement).
        ok(vm(pf, "create", "mine", "--memory", "8M", "--image", COUNTER), "create again")
        ok(vm(pf, "start", "mine"), "start the new one")
        ok(vm(pf, "stop", "mine"), "stop the new one")
        open(blob_path(pf, "mine"), "wb").write(saved)
        fails(vm(pf, "start", "mine"), EXIT_FAILED, r"verif", "start the new VM with the destroyed VM's blob")
        base = free_frames(pf)
        # More memory than the platform has: a clean refusal, nothing taken.
        fails(vm(pf, "create", "huge", "--memory", "1G", "--image", HELLO),
              EXIT_REFUSED, r"memory", "create 1 GiB")
        assert free_frames(pf) == base, "frames lost by the refused create"
        ok(vm(pf, "destroy", "mine"), "destroy")
        start = free_frames(pf)
        for i in range(8):
            ok(vm(pf, "create", "cycle", "--memory", "4M", "--image", HELLO), "create %d" % i)
            ok(vm(pf, "destroy", "cycle"), "destroy %d" % i)
        assert free_frames(pf) == start, "create/destroy cycles leaked frames"


def stored_version(pf, name):
    """The version in the header of the stored blob (docs/seal.md), or 0."""
    blobs = [f for f in os.listdir(pf.storage) if f.endswith("-%s.sealed" % name)]
    if not blobs:
        return 0
    with open(os.path.join(pf.storage, blobs[0]), "rb") as f:
        return struct.unpack_from("<Q", f.read(24), 16)[0]


def wait_part_file(pf, name, timeout):
    """Until the relay is writing the VM's blob (its ".part" file is there
    and has data): a stream is under way."""
    end = time.monotonic() + timeout
    while True:
        parts = [f for f in os.listdir(pf.storage) if f.endswith("-%s.sealed.part" % name)]
        if parts and os.path.getsize(os.path.join(pf.storage, parts[0])) > 0:
            return parts[0]
        assert time.monotonic() < end, "no stream of %s under way: %r" % (
            name, os.listdir(pf.storage))
        time.sleep(1)


def wait_sealed(pf, name, version, timeout=180):
    """Until the VM is sealed at `version` and that blob is in storage."""
    end = time.monotonic() + timeout
    while True:
        v = info(pf, name)
        if v["state"] == "sealed" and v["version"] == version and \
                stored_version(pf, name) == version:
            return
        assert time.monotonic() < end, "%s not sealed at v%d and stored: %r, %r" % (
            name, version, v, os.listdir(pf.storage))
        time.sleep(3)


# One backend is enough: what follows a VM's own halt (the TPGVM seals,
# stores, and gives way to a destroy) is TCB and TPGVM logic; the halt
# itself on VMX is the guest tests' (test_guests.py) on Bochs.
@h.on("qemu-svm")
def test_lifecycle_vm_that_stops_itself_is_sealed(d, machine):
    # hello prints its lines and halts: the TCB freezes it (EXITED) and the
    # TPGVM seals and stores it like a stop, without being asked to; a
    # destroy meanwhile is not held up by that.
    with platform(d, machine) as pf:
        ok(vm(pf, "create", "hi", "--memory", "4M", "--image", HELLO), "create")
        ok(vm(pf, "start", "hi"), "start")
        wait_sealed(pf, "hi", 1)
        p = ok(vm(pf, "console", "hi"), "console")
        assert "hello from a Custos guest" in p.stdout, p.stdout
        # Started again from there, it halts again and is sealed again (v2).
        ok(vm(pf, "start", "hi"), "start from the sealed state")
        wait_sealed(pf, "hi", 2)
        ok(vm(pf, "destroy", "hi"), "destroy")
        # memscan fills its 4 MiB and writes past them: stopped, it is
        # sealed to a blob of megabytes, streamed a window at a time, that
        # takes a minute or more to reach storage. Its owner's destroy does
        # not wait for that: the stream ends with the VM (the TCB commits a
        # stream only at its end, so there is no seal), and nothing of the
        # VM is left at the relay.
        ok(vm(pf, "create", "scan", "--memory", "4M", "--image", MEMSCAN), "create scan")
        ok(vm(pf, "start", "scan"), "start scan")
        pf.emu.wait_for(r"^vm \d+ \(scan\): stopped: ", 120)
        wait_part_file(pf, "scan", 120)
        ok(vm(pf, "destroy", "scan"), "destroy scan while its seal is stored")
        serial = pf.emu.serial()
        assert re.search(r"^lifecycle: vm \d+ 'scan' destroyed", serial, re.M), serial[-2000:]
        assert not re.search(r"^lifecycle: vm \d+ 'scan' sealed", serial, re.M), serial[-2000:]
        fails(vm(pf, "status", "scan"), EXIT_REFUSED, r"not found", "status after destroy")
        pf.wait_relay_log(r"storage: deleted \S+-scan\.sealed", 60)
        assert not re.search(r"committed \S+-scan\.sealed", pf.relay.log()), pf.relay.log()
        assert not [f for f in os.listdir(pf.storage) if "-scan." in f], os.listdir(pf.storage)


TICKER = os.path.join(h.BUILD, "guests", "ticker.elf")


# What a console read ended with that is not yet a whole line: a read may
# cut a line, and its rest comes with the next read (of the same VM).
_line_rest = {}


def ticker_seconds(pf, name):
    """(second, clock) pairs of whole lines the ticker printed."""
    key = (id(pf), name)
    text = _line_rest.pop(key, "") + ok(vm(pf, "console", name), "console").stdout
    whole, newline, rest = text.rpartition("\n")
    _line_rest[key] = rest
    return [(int(a), int(b)) for a, b in
            re.findall(r"^ticker: second (\d+), clock (\d+) s\n", whole + newline, re.M)]


def wait_ticker(pf, name, above=0, timeout=180):
    return wait_console(pf, name, ticker_seconds, above, timeout, key=lambda v: v[0])


# A VM that lives on interrupts (guests/ticker: the virtual PIC and PIT
# through its own IDT, HLT between ticks) stopped and started: its devices'
# state (PIC vectors and masks, the PIT's mode and count) and its TSC are in
# the sealed context, so after the start the ticks go on (a platform reset
# to power-on would mask every IRQ and the ticker would never print again)
# and its TSC clock goes on from where it stood, not from the host's.
@h.on(*h.BACKENDS)
def test_lifecycle_interrupt_driven_vm_keeps_its_devices_and_clock(d, machine):
    with platform(d, machine) as pf:
        ok(vm(pf, "create", "ticker", "--memory", "2M", "--image", TICKER), "create")
        ok(vm(pf, "start", "ticker"), "start")
        before = wait_ticker(pf, "ticker", above=2)
        ok(vm(pf, "stop", "ticker"), "stop")
        before += ticker_seconds(pf, "ticker")
        last_second, last_clock = max(before)
        # How far its clock moves in one of its seconds of ticks: 1 s on
        # QEMU; on Bochs several (ticks are lost while the TPGVM's slices
        # of 200 000 TSC cycles run: 0.1 s of Bochs' 2 MHz TSC, and the
        # PIT coalesces missed periods, as a PC's does).
        per = max(b[1] - a[1] for a, b in zip(before, before[1:])
                  if b[0] == a[0] + 1)
        time.sleep(10)  # sealed time: the VM's clock must not count it
        ok(vm(pf, "start", "ticker"), "start from the sealed state")
        after = wait_ticker(pf, "ticker", above=last_second + 2)
        first_second, first_clock = min(after)
        assert first_second == last_second + 1, (before[-3:], after[:3])
        # Its clock went on from where it stood, as far as in any other
        # of its seconds: not by the time it was sealed, not from the
        # host's TSC.
        assert last_clock <= first_clock <= last_clock + 2 * per + 1, (
            per, before[-3:], after[:3])
        ok(vm(pf, "destroy", "ticker"), "destroy")


# One backend: the shell is tenant-side code; what it asks of the platform
# (several requests on one TLS session, tpgvm/session.c) is the same on all.
@h.on("qemu-svm")
def test_lifecycle_shell_one_session(d, machine):
    """custos vm shell: the demo path's commands on one TLS session, with one
    handshake and one attestation (the relay opens one session, the TPGVM
    authenticates one tenant once), each printing what it prints alone."""
    t = " --timeout %d\n" % TIMEOUT
    lines = ("create c --memory 8M --image %s --secret ROOT_PASSWORD=hunter2" % COUNTER + t
             + "start c" + t + "status c" + t + "list" + t + "console c" + t
             + "stop c" + t + "status c" + t + "destroy c" + t + "list" + t)
    with platform(d, machine) as pf:
        p = subprocess.run([CUSTOS, "vm", "shell", "--timeout", str(TIMEOUT)], input=lines,
                           capture_output=True, text=True, env=env_for(pf, "alice"),
                           timeout=10 * TIMEOUT)
        ok(p, "shell")
        heads = re.findall(r"^== line (\d+): (.*)$", p.stdout, re.M)
        assert heads == [("1", "create c"), ("2", "start c"), ("3", "status c"), ("4", "list"),
                         ("5", "console c"), ("6", "stop c"), ("7", "status c"),
                         ("8", "destroy c"), ("9", "list")], p.stdout
        assert p.stdout.startswith("platform: custos-dev, attested (measurements match the "
                                   "reference"), p.stdout
        assert p.stdout.count("platform: ") == 1, p.stdout
        assert "launch measurement: matches" in p.stdout, p.stdout
        assert re.search(r"state: sealed\nmemory: 8M \(8388608 bytes\)\nversion: 1\n",
                         p.stdout), p.stdout
        assert "state: destroyed" in p.stdout and p.stdout.endswith("(no VMs)\n"), p.stdout
        assert p.stderr == "", p.stderr
        serial, log = pf.emu.serial(), pf.relay.log()
        assert "hunter2" not in p.stdout + serial + log
        # One relay session is one TLS connection, so one handshake (the
        # TPGVM's TLS has no renegotiation); the platform line above, once,
        # is its one attestation. (This platform does not mirror the
        # TPGVM's console to COM1, so its session lines are not here.)
        assert len(re.findall(r"session \d+ open: tenant", log)) == 1, log
        # A command on its own after it: the platform is as the shell left it.
        fails(vm(pf, "status", "c"), EXIT_REFUSED, r"not found", "status after the shell")


# One backend: what the TPGVM does when the relay's storage fails is the
# same code on both (tpgvm/vm_service.c, tpgvm/storage.c).
@h.on("qemu-svm")
def test_lifecycle_storage_failure_loses_nothing(d, machine):
    """A blob of one window (docs/tpgvm.md): the TCB has sealed it (version
    + 1) before the relay is asked to store it, so a store that fails
    leaves the VM sealed with the window kept in the TPGVM, which stores it
    before the next start; a start whose blob the relay cannot read leaves
    the VM sealed; both work once storage does."""
    with platform(d, machine) as pf:
        ok(vm(pf, "create", "c", "--memory", "8M", "--image", COUNTER), "create")
        ok(vm(pf, "start", "c"), "start")
        wait_counter(pf, "c")
        ok(vm(pf, "stop", "c"), "stop")
        blob = blob_path(pf, "c")
        ok(vm(pf, "start", "c"), "start from v1")
        last = max(wait_counter(pf, "c"))
        # The relay cannot create the blob's part file (a directory is in
        # its place): the stop says so; the VM is sealed, v2 kept.
        os.mkdir(blob + ".part")
        fails(vm(pf, "stop", "c"), EXIT_REFUSED, r"storage", "stop while storage fails")
        status = info(pf, "c")
        assert status["state"] == "sealed" and status["version"] == 2, status
        # Storage works again: the start stores the kept v2 first, then
        # resumes it.
        os.rmdir(blob + ".part")
        ok(vm(pf, "start", "c"), "start once storage works")
        last = max(wait_counter(pf, "c", above=last))
        ok(vm(pf, "stop", "c"), "stop v3")
        status = info(pf, "c")
        assert status["state"] == "sealed" and status["version"] == 3, status
        # The blob is gone from storage: the start fails, the VM stays sealed.
        away = os.path.join(d, "away.sealed")
        os.rename(blob, away)
        fails(vm(pf, "start", "c"), EXIT_REFUSED, r"storage", "start while the blob is away")
        status = info(pf, "c")
        assert status["state"] == "sealed" and status["version"] == 3, status
        os.rename(away, blob)
        ok(vm(pf, "start", "c"), "start once the blob is back")
        wait_counter(pf, "c", above=last)
        ok(vm(pf, "destroy", "c"), "destroy")
