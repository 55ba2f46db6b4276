"""The TCB side of the VM lifecycle, on every machine (docs/lifecycle.md):
lcdrive, packaged AS the TPGVM, creates a counter VM, loads it with init data and
secrets, starts it, seals it into its own memory, resumes it from the blob
(the counter continues), refuses a rolled-back, tampered or destroyed VM's
blob, runs out of memory cleanly and cycles VMs without leaking a frame.
The TCB's log lines are checked too: counts, measurement, no secrets."""
import hashlib
import os
import re
import struct

import harness as h
from test_tpgvm import PKI, package_image

LCDRIVE = os.path.join(h.BUILD, "guests", "lcdrive.elf")
COUNTER = os.path.join(h.BUILD, "guests", "counter.elf")

# What lcdrive sends (guests/lcdrive/lcdrive.c).
INIT = b"init-data-for-counter"
SECRETS = b"PASSWORD=hunter2\0ROLE=test\0"
SALT = bytes((i * 7 + 1) & 0xff for i in range(32))
MIB = 1 << 20


def launch_measurement(name, mem_size, image, init, salt, secrets):
    """docs/lifecycle.md, computed independently of the TCB: SHA-256
    component digests inside a SHA-384 composition."""
    sha = lambda b: hashlib.sha256(b).digest()
    return hashlib.sha384(
        b"CUSTOS-VM-LAUNCH-2" + name.encode().ljust(32, b"\0")
        + struct.pack("<Q", mem_size)
        + sha(image) + struct.pack("<Q", len(image))
        + sha(init) + struct.pack("<Q", len(init))
        + sha(salt + secrets) + struct.pack("<Q", len(secrets))).hexdigest()


def create_frames(mem_size):
    return mem_size // 4096 + 3 + mem_size // (2 * MIB) + 2


@h.on(*h.EVERY_MACHINE)
def test_lifecycle_driven_by_the_tpgvm(d, machine):
    env = package_image(d, LCDRIVE)
    mods = [("tcb-keys.bin", "tcb-keys"), ("tcb-certs.bin", "tcb-certs"),
            ("tpgvm.env", "tpgvm-envelope")]
    iso = h.make_iso(d, cmdline="custos.debug=mirror-consoles", modules=mods,
                     module_files=[os.path.join(PKI, "tcb-keys.bin"),
                                   os.path.join(PKI, "tcb-certs.bin"), env])
    r = machine.boot(d, iso=iso, timeout=400)
    r.expect_status(h.EXIT_OK)
    s = r.serial
    fails = re.findall(r"^\[vm1 tpgvm\] lcdrive: FAIL .*$", s, re.M)
    assert not fails, "\n".join(fails) + "\n" + r.tail(60)
    r.expect(r"^\[vm1 tpgvm\] lcdrive: done, 0 failures$")
    for what in ("counter continues after resume", "v1 after v2 is a rollback",
                 "flipped header byte refused", "flipped context byte refused",
                 "flipped page-list byte refused", "flipped page byte refused",
                 "flipped tag byte refused", "start from v2 after the refusals",
                 "start after destroy", "create 1 GiB: no memory",
                 "20 create/load/destroy cycles", "hello exited by itself",
                 "stop reason halted", "start exited VM from its blob",
                 "resumed hello halts again", "resumed hello did not start over",
                 "vector registers kept across the seal",
                 "vector registers kept across the resume"):
        r.expect(r"^\[vm1 tpgvm\] lcdrive: PASS %s$" % re.escape(what))
    # Held across them: YMM where the CPU has AVX (Bochs' models), else XMM.
    held = "ymm0-15" if machine.emulator == "bochs" else "xmm0-15"
    for call in ("seal", "resume"):
        r.expect(r"^\[vm1 tpgvm\] lcdrive: vector registers kept across the %s with %s held$"
                 % (call, held))

    # The measurement the TCB logged is the one the tenant computes.
    with open(COUNTER, "rb") as f:
        image = f.read()
    want = launch_measurement("counter", 32 * MIB, image, INIT, SALT,
                              SECRETS)
    # The log names no tenant VM (docs/architecture.md, "What the host
    # learns"): the counter's lines are found by its measurement and id,
    # between its load and its destroy.
    m = r.expect(r"^lifecycle: vm (\d+) loaded, measurement %s$" % want)
    vm = m.group(1)
    created = list(re.finditer(r"^lifecycle: vm %s created \(32 MiB\), (\d+) frames free, "
                               r"\d+ TCB cycles$" % vm, s[:m.start()], re.M))[-1]
    gone = re.compile(r"^lifecycle: vm %s destroyed, (\d+) frames free, \d+ TCB cycles$"
                      % vm, re.M).search(s, m.end())
    assert created and gone, s[-3000:]
    life = s[created.start():gone.end()]
    named = re.findall(r"^(?!\[vm\d+ ).*'(?:counter|hello|cycle)'.*$", s, re.M)
    assert not named, "a tenant VM's name on the platform log: %r" % named[:3]

    # Frame accounting from the log lines.
    initial = int(created.group(1)) + create_frames(32 * MIB)
    assert re.search(r"^lifecycle: vm %s started$" % vm, life, re.M), life
    sealed = re.findall(r"^lifecycle: vm %s sealed v(\d) \((\d+) pages, (\d+) bytes\), "
                        r"(\d+) frames free, \d+ TCB cycles$" % vm, life, re.M)
    assert [v for v, _, _, _ in sealed] == ["1", "2"], sealed
    for _, _, _, free in sealed:
        # Sealed: everything the VM held is back (other-owner VM gone).
        assert int(free) == initial, (free, initial)
    for line in (r"resumed from v1, \d+ frames free, \d+ TCB cycles$",
                 r"start refused: rollback",
                 r"resumed from v2, \d+ frames free, \d+ TCB cycles$"):
        assert re.search(r"^lifecycle: vm %s %s" % (vm, line), life, re.M), (line, life)
    refusals = re.findall(r"^lifecycle: vm %s start refused: blob does not verify "
                          r"\(.*\), (\d+) frames free$" % vm, life, re.M)
    assert refusals and all(int(f) == initial for f in refusals), (refusals, initial)
    assert int(gone.group(1)) == initial, (gone.group(1), initial)
    nomem = r.expect(r"^lifecycle: create refused: not enough memory \(1024 MiB\), "
                     r"(\d+) frames free$")
    assert int(nomem.group(1)) == initial
    # hello halted by itself, was sealed EXITED, resumed and halted again:
    # its lines follow its first halt's VM id, from its create on.
    halts = re.findall(r"^vm (\d+) \(tenant VM\): halted$", s, re.M)
    assert len(halts) == 2, halts
    first_halt = re.search(r"^vm \d+ \(tenant VM\): halted$", s, re.M)
    hello_made = list(re.finditer(r"^lifecycle: vm %s created \(2 MiB\)" % halts[0],
                                  s[:first_halt.start()], re.M))[-1]
    # The 20 cycles: between the refused 1 GiB VM and hello.
    cycles = re.findall(r"^lifecycle: vm \d+ destroyed, (\d+) frames free, \d+ TCB cycles$",
                        s[nomem.end():hello_made.start()], re.M)
    assert len(cycles) == 20 and all(int(f) == initial for f in cycles), cycles
    after = s[hello_made.start():]
    assert re.search(r"^lifecycle: vm %s sealed v1 " % halts[0], after, re.M), after
    hello = re.search(r"^lifecycle: vm %s destroyed, (\d+) frames free, \d+ TCB cycles$"
                      % halts[0], after, re.M)
    assert hello, after
    assert int(hello.group(1)) == initial

    # Secrets never reach the platform console.
    r.expect_absent(r"hunter2")
    # (This boot mirrors guest consoles, a debug mode, to show the counter.)
    # Its CR8 (TPR) came back with each resume (the sealed context holds it).
    r.expect_absent(r"CR8 CHANGED")
    # It started once: the resumes continued it, each value above the last.
    assert len(re.findall(r"^\[vm%s tenant VM\] counter: start" % vm, s, re.M)) == 1
    values = [int(v) for v in re.findall(r"^\[vm%s tenant VM\] counter: (\d+)$" % vm, s, re.M)]
    assert len(values) >= 5 and values == sorted(set(values)), values
