"""The VM lifecycle end to end on the real platform, on every backend:
tenant CLI -> custos-relay (with its blob storage) -> TPGVM -> TCB, and
back. The demo
path (create, start, console, stop, start again with the counter going on,
destroy), then what a hostile host or another tenant may try: sealed blobs
altered in each region, an older blob put back (rollback), another tenant
acting on the VM, start after destroy, more memory than is free, and many
create/destroy cycles that must leave no frame behind. Every CLI run has a
--timeout; the emulator and relay are killed in a finally."""
import hashlib
import json
import os
import re
import shutil
import signal
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


def owner_id(tenant):
    """The tenant's identity as the TPGVM computes it: SHA-384 of its
    certificate's SubjectPublicKeyInfo (docs/lifecycle.md)."""
    pem = os.path.join(PKI, "tenant-%s.pem" % tenant)
    spki = subprocess.run("openssl x509 -in '%s' -pubkey -noout | openssl pkey -pubin "
                          "-outform DER" % pem, shell=True, capture_output=True,
                          check=True).stdout
    return hashlib.sha384(spki).digest()


def blob_name(pf, name, tenant="alice", measurement=None):
    """The VM's blob in the relay's storage: named by a hash of owner and
    launch measurement, never the VM's name (tpgvm/storage.h)."""
    m = measurement or info(pf, name, tenant)["measurement"]
    digest = hashlib.sha256(b"CUSTOS-BLOB-NAME-1" + owner_id(tenant) + bytes.fromhex(m))
    return digest.hexdigest()[:32] + ".sealed"


def boot_name(pf, name, tenant="alice"):
    """The VM's boot copy in the relay's storage (sealed at its first
    start, so that it can boot afresh): another hash of the same."""
    m = info(pf, name, tenant)["measurement"]
    digest = hashlib.sha256(b"CUSTOS-BOOT-NAME-1" + owner_id(tenant) + bytes.fromhex(m))
    return digest.hexdigest()[:32] + ".boot"


def blob_path(pf, name):
    path = os.path.join(pf.storage, blob_name(pf, name))
    assert os.path.exists(path), "no blob for %s in storage: %r" % (name, os.listdir(pf.storage))
    return path


def free_frames(pf):
    """The TCB's latest free-frame count (its lifecycle log lines)."""
    found = re.findall(FREE, pf.emu.serial())
    assert found, "no free-frame count in the platform log"
    return int(found[-1])


def platform(d, machine):
    storage = os.path.join(d, "storage")
    os.makedirs(storage)
    return Platform(d, machine, storage=storage)


# A name the tenant chose, and a secret: neither may reach anything the
# host sees (docs/architecture.md, "What the host learns").
DEMO_VM = "acme-payroll"
DEMO_SECRET = "hunter2"


def host_visible(pf):
    """Everything of a platform run the host reads: the platform log
    (COM1), the relay's log and its storage's file names."""
    return "\n".join([pf.emu.serial(), pf.relay.log()] + sorted(os.listdir(pf.storage)))


@h.on(*h.BACKENDS)
def test_lifecycle_demo_path(d, machine):
    name = DEMO_VM
    with platform(d, machine) as pf:
        p = ok(vm(pf, "create", name, "--memory", "32M", "--image", COUNTER,
                  "--secret", "ROOT_PASSWORD=" + DEMO_SECRET), "create")
        assert DEMO_SECRET not in p.stdout + p.stderr + host_visible(pf)
        ok(vm(pf, "start", name), "start")
        before = wait_counter(pf, name)
        ok(vm(pf, "stop", name), "stop")
        assert info(pf, name)["state"] == "sealed", info(pf, name)
        # Stored under opaque names: hashes of owner and measurement; its
        # boot copy since its first start.
        assert sorted(os.listdir(pf.storage)) == sorted(
            [blob_name(pf, name), boot_name(pf, name)]), os.listdir(pf.storage)
        last = max(before + counter_values(pf, name))
        ok(vm(pf, "start", name), "start from the sealed state")
        after = wait_counter(pf, name, above=last)
        # It went on from where it stopped: no restart from the beginning.
        assert min(v for v in after if v > 0) > min(before), (before[:3], after[:3])
        ok(vm(pf, "destroy", name), "destroy")
        fails(vm(pf, "status", name), EXIT_REFUSED, r"not found", "status after destroy")
        seen = host_visible(pf)
        for word in (DEMO_VM, "payroll", DEMO_SECRET):
            assert word not in seen, "%r is visible to the host:\n%s" % (
                word, "\n".join(l for l in seen.splitlines() if word in l)[:2000])
        # ... while the log does show the lifecycle (the check can see it).
        assert re.search(r"^lifecycle: vm \d+ destroyed", seen, re.M), seen[-2000:]


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
        interrupted_uploads_block_nobody(pf, d)


# The TCB's line for each VM created (docs/lifecycle.md, "Log lines").
CREATED = r"^lifecycle: vm \d+ (?:'[^']*' )?created \("


def creates_logged(pf):
    return len(re.findall(CREATED, pf.emu.serial(), re.M))


def create_popen(pf, name, init, *extra, tenant="alice"):
    """alice's create of name with COUNTER and init data, left running."""
    return subprocess.Popen([CUSTOS, "vm", "create", name, "--memory", "4M", "--image",
                             COUNTER, "--init-data", init] + list(extra),
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            env=env_for(pf, tenant))


def wait_created(pf, proc, before, timeout=120):
    """Until the TCB has logged one more create than `before` (the upload
    is under way), proc still running."""
    end = time.monotonic() + timeout
    while creates_logged(pf) <= before:
        assert proc.poll() is None, "create ended early: %r" % (proc.communicate(),)
        assert time.monotonic() < end, "no create logged:\n" + pf.emu.tail()
        time.sleep(0.2)


def finish(proc, timeout=120):
    try:
        out, err = proc.communicate(timeout=timeout)
    finally:
        if proc.poll() is None:
            proc.kill()
    return proc.returncode, out + err


def interrupted_uploads_block_nobody(pf, d):
    """An upload stopped by Ctrl-C, by --timeout or by a stalled client
    leaves the TPGVM's one staging area to the next tenant: the session's
    close destroys the half-created VM at once; a stalled one gives way
    after 15 s of silence, and its owner is told why (docs/tpgvm.md)."""
    init = os.path.join(d, "init-400k.bin")
    with open(init, "wb") as fh:
        fh.write(os.urandom(400 << 10))  # ~90 s over QEMU's line: cut short
    # Ctrl-C half-way: the CLI says what happened; bob's create goes through.
    proc = create_popen(pf, "big", init)
    wait_created(pf, proc, creates_logged(pf))
    time.sleep(3)
    proc.send_signal(signal.SIGINT)
    rc, out = finish(proc)
    assert rc == 130 and "INTERRUPTED: interrupted during the upload" in out, (rc, out)
    ok(vm(pf, "create", "bobs", "--memory", "4M", "--image", HELLO, tenant="bob"),
       "bob's create after alice's Ctrl-C")
    fails(vm(pf, "status", "big"), EXIT_REFUSED, r"its upload was abandoned \(its "
          r"session closed before the upload ended\)", "status of the abandoned VM")
    ok(vm(pf, "destroy", "bobs", tenant="bob"), "bob's destroy")
    # --timeout half-way: the same, exit 2.
    p = vm_timeout(pf, "tmo", init, 25)
    assert p.returncode == EXIT_ERROR and re.search(
        r"timed out.*during the upload \(\d+ of \d+ KiB sent\): VM 'tmo' was created "
        r"but not loaded; the platform destroys it", p.stderr), (p.returncode, p.stderr)
    ok(vm(pf, "create", "bobs", "--memory", "4M", "--image", HELLO, tenant="bob"),
       "bob's create after alice's timeout")
    ok(vm(pf, "destroy", "bobs", tenant="bob"), "bob's destroy")
    # A client that stalls (stopped, its connection open): busy for a
    # while, then bob's create takes the staging area, and alice, woken,
    # hears that her upload was abandoned and why.
    proc = create_popen(pf, "slow", init)
    try:
        wait_created(pf, proc, creates_logged(pf))
        time.sleep(2)
        proc.send_signal(signal.SIGSTOP)
        end = time.monotonic() + 240
        while True:
            p = vm(pf, "create", "bobs", "--memory", "4M", "--image", HELLO, tenant="bob")
            if p.returncode == EXIT_OK:
                break
            fails(p, EXIT_REFUSED, r"another VM's image is being uploaded", "bob, busy")
            assert time.monotonic() < end, "the stalled upload never gave way"
            time.sleep(3)
    finally:
        proc.send_signal(signal.SIGCONT)
    rc, out = finish(proc)
    assert rc == EXIT_REFUSED and re.search(
        r"its upload was abandoned \(no chunk for 15 s while another create waited\)"
        r".*VM 'slow' is gone: the platform removed it", out), (rc, out)
    ok(vm(pf, "destroy", "bobs", tenant="bob"), "bob's destroy")


def vm_timeout(pf, name, init, seconds):
    return subprocess.run([CUSTOS, "vm", "create", name, "--memory", "4M", "--image",
                           COUNTER, "--init-data", init, "--timeout", str(seconds)],
                          capture_output=True, text=True, env=env_for(pf, "alice"),
                          timeout=seconds + 60)


def stored_version(pf, name, measurement=None):
    """The version in the header of the stored blob (docs/seal.md), or 0."""
    path = os.path.join(pf.storage, blob_name(pf, name, measurement=measurement))
    if not os.path.exists(path):
        return 0
    with open(path, "rb") as f:
        return struct.unpack_from("<Q", f.read(24), 16)[0]


def wait_part_file(pf, name, timeout):
    """Until the relay is writing the VM's blob (its ".part" file is there
    and has data): a stream is under way."""
    end = time.monotonic() + timeout
    part = blob_name(pf, name) + ".part"
    while True:
        path = os.path.join(pf.storage, part)
        if os.path.exists(path) and os.path.getsize(path) > 0:
            return part
        assert time.monotonic() < end, "no stream of %s under way: %r" % (
            name, os.listdir(pf.storage))
        time.sleep(1)


def wait_sealed(pf, name, version, timeout=180, state="sealed"):
    """Until the VM's state is sealed at `version` and that blob is in
    storage (state "exited": a VM that stopped itself, sealed by the
    TPGVM)."""
    end = time.monotonic() + timeout
    while True:
        v = info(pf, name)
        if v["state"] == state and v["sealed"] and v["version"] == version and \
                stored_version(pf, name, v["measurement"]) == version:
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
    # TPGVM seals and stores it like a stop, without being asked to; it
    # stays `exited` to its owner. A plain start boots it afresh from the
    # boot copy its first start stored (it prints its lines again), a
    # start --resume resumes it halted (it halts at once, printing
    # nothing); a destroy meanwhile is not held up by a seal.
    with platform(d, machine) as pf:
        ok(vm(pf, "create", "hi", "--memory", "4M", "--image", HELLO), "create")
        ok(vm(pf, "start", "hi"), "start")
        wait_sealed(pf, "hi", 1, state="exited")
        boot = boot_name(pf, "hi")
        assert boot in os.listdir(pf.storage), os.listdir(pf.storage)
        # Why it stopped stays in its status; a stop has nothing to do.
        p = ok(vm(pf, "status", "hi"), "status")
        assert re.search(r"^state: exited \(its state sealed in storage\)$", p.stdout,
                         re.M) and re.search(r"^stop reason: halted$", p.stdout, re.M), p.stdout
        p = ok(vm(pf, "stop", "hi"), "stop of an exited VM")
        assert re.search(r"^state: exited", p.stdout, re.M), p.stdout
        hello = r"hello from a Custos guest"
        p = ok(vm(pf, "console", "hi"), "console")
        assert len(re.findall(hello, p.stdout)) == 1, p.stdout
        # Booted afresh: the guest starts over and says hello again, then
        # halts and is sealed again (v2: the counter goes on).
        p = ok(vm(pf, "start", "hi"), "start afresh")
        assert re.search(r"^started: booted afresh from its boot copy$", p.stdout,
                         re.M), p.stdout
        wait_sealed(pf, "hi", 2, state="exited")
        p = ok(vm(pf, "console", "hi"), "console")
        assert len(re.findall(hello, p.stdout)) == 1, p.stdout
        # Resumed: in the state it halted in, it halts again at once (v3)
        # without a word.
        p = ok(vm(pf, "start", "hi", "--resume"), "start --resume")
        assert re.search(r"^started: resumed from its sealed state$", p.stdout,
                         re.M), p.stdout
        wait_sealed(pf, "hi", 3, state="exited")
        p = ok(vm(pf, "console", "hi"), "console")
        assert hello not in p.stdout, p.stdout
        # The boot copy goes with the VM.
        ok(vm(pf, "destroy", "hi"), "destroy")
        pf.wait_relay_log(r"storage: deleted %s" % re.escape(boot), 60)
        # memscan fills its 4 MiB and writes past them: stopped, it is
        # sealed to a blob of megabytes, streamed a window at a time, that
        # takes a minute or more to reach storage. Its owner's destroy does
        # not wait for that: the stream ends with the VM (the TCB commits a
        # stream only at its end, so there is no seal), and nothing of the
        # VM is left at the relay.
        ok(vm(pf, "create", "scan", "--memory", "4M", "--image", MEMSCAN), "create scan")
        mark = len(pf.emu.serial())
        ok(vm(pf, "start", "scan"), "start scan")
        pf.emu.wait_for(r"^vm \d+ \(tenant VM\): stopped: ", 120)
        scan = blob_name(pf, "scan")
        wait_part_file(pf, "scan", 120)
        ok(vm(pf, "destroy", "scan"), "destroy scan while its seal is stored")
        serial = pf.emu.serial()[mark:]
        assert re.search(r"^lifecycle: vm \d+ destroyed", serial, re.M), serial[-2000:]
        assert not re.search(r"^lifecycle: vm \d+ sealed", serial, re.M), serial[-2000:]
        fails(vm(pf, "status", "scan"), EXIT_REFUSED, r"not found", "status after destroy")
        pf.wait_relay_log(r"storage: deleted %s" % re.escape(scan), 60)
        assert not re.search(r"committed %s" % re.escape(scan), pf.relay.log()), pf.relay.log()
        assert not [f for f in os.listdir(pf.storage) if f.startswith(scan)], os.listdir(pf.storage)


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


# One backend: which transition the TPGVM allows is TPGVM logic
# (tpgvm/vm_service.c) over the TCB's state machine (its unit tests),
# the same on every backend.
@h.on("qemu-svm")
def test_lifecycle_refused_transitions(d, machine):
    """Every transition docs/protocol.md's table refuses, on the real
    platform, on one session: refused with STATE (exit 3) and the VM as it
    was; the allowed ones between them succeed. (`created` lasts only as
    long as its owner's own upload: its refusals are the TCB's, in the
    unit tests.)"""
    steps = [("stop c", 3, "not running", "loaded"),
             ("start c --resume", 3, "has never run: nothing to resume", "loaded"),
             ("start c", 0, None, "running"),
             ("start c", 3, "running already", "running"),
             ("start c --resume", 3, "running already", "running"),
             ("start c --afresh", 3, "running already", "running"),
             ("stop c", 0, None, "sealed"),
             ("stop c", 3, "sealed already", "sealed"),
             ("destroy c", 0, None, "destroyed")]
    lines = "create c --memory 4M --image %s\n" % COUNTER
    for cmd, _, _, _ in steps:
        lines += cmd + "\nstatus c\n"
    with platform(d, machine) as pf:
        p = subprocess.run([CUSTOS, "vm", "shell", "--keep-going", "--json", "--timeout",
                            str(TIMEOUT)], input=lines, capture_output=True, text=True,
                           env=env_for(pf, "alice"), timeout=20 * TIMEOUT)
        out = [json.loads(l) for l in p.stdout.splitlines()]
        byline = dict((o["line"], o) for o in out if "line" in o)
        assert byline[1]["exit_status"] == 0, byline[1]
        for i, (cmd, want, reason, state) in enumerate(steps):
            got, status = byline[2 + 2 * i], byline[3 + 2 * i]
            assert got["exit_status"] == want, (cmd, got)
            if reason:
                assert re.search(reason, got["output"]["reason"]), (cmd, got)
            if state == "destroyed":
                assert got["output"]["state"] == "destroyed", (cmd, got)
                assert status["exit_status"] == 3, (cmd, status)
            else:
                assert status["output"]["state"] == state, (cmd, status)
        assert p.returncode == 3, p.stdout + p.stderr


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
