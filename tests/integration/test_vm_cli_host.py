"""`custos vm ...` on the host, without an emulator: against fake-tpgvm
(tests/tools/fake-tpgvm.c), which attests like the real TPGVM and then
serves a minimal in-memory VM service, computing the launch measurement as
docs/lifecycle.md says, and records every message it receives (--record).

Checked: create with image, init data and secrets (chunking, progress on a
terminal and nothing otherwise, the launch measurement recomputed here from
the salt the fake saw, secret values never in stdout, stderr or --json); the
lifecycle and the JSON shapes of status, list and console; secrets from
--secret-file (and every malformed file refused with a one-line reason that
names no value, before anything is sent); console bytes
sanitised; a platform that measured something else (exit 1); every
PROTO_ERROR code (message and exit status); answers of the wrong type or
about another VM (exit 2); bad usage (exit 2, nothing sent);
a failed attestation (exit 1, no VM request sent); a forger holding the
boot media's TCB modules and claiming a production platform gets no VM
request and no secret without --allow-dev (asserted on every byte it
received); the environment variables and their precedence; a stalled
platform (exit 2 within --timeout). `custos vm shell`: N commands on one
connection, one handshake and one attestation (the fake counts them), each
printing what the command on its own prints, in human form and as JSON
Lines; a failure stops the batch (--keep-going goes on, the exit status
stays the first failure's); malformed lines (too long, NUL, control
characters, open quotes, unknown commands, connection options) each one
line, never echoing a secret; input ending inside a line runs none of it;
a connection dropped mid-batch ends the shell at once."""
import hashlib
import json
import os
import pty
import re
import select
import signal
import struct
import subprocess
import time

from test_attest_host import CUSTOS, PKI, REFERENCE, Fake as _Fake, expect

OK, FAILED, ERROR, REFUSED = 0, 1, 2, 3
CHUNK = 12 << 10
SECRETS = ["DB_PASSWORD=correct horse battery staple", "API_TOKEN=tok-9f8e7d6c5b4a",
           "EMPTY="]
SECRET_VALUES = ["correct horse battery staple", "tok-9f8e7d6c5b4a"]


DEV_PLATFORM = {"id": "custos-dev", "dev": True,
                "dev_reasons": ["no-tpm-quote", "dev-identity", "dev-claimed"]}


class Fake(_Fake):
    """fake-tpgvm with a record file, a dump of every byte it received, its
    counts (--stats), optional --vm-error and --drop-after."""

    def __init__(self, d, mode="ok", count=1, vm_error=None, drop_after=None,
                 wait_notes=None, more=()):
        self.record = os.path.join(d, "record-%s-%s.txt" % (mode, vm_error))
        self.dump = os.path.join(d, "dump-%s-%s.bin" % (mode, vm_error))
        self.stats_path = os.path.join(d, "stats-%s-%s.txt" % (mode, vm_error))
        for path in (self.record, self.dump, self.stats_path):
            if os.path.exists(path):
                os.unlink(path)
        extra = ["--record", self.record, "--dump", self.dump, "--stats", self.stats_path]
        if vm_error is not None:
            extra += ["--vm-error", str(vm_error)]
        if drop_after is not None:
            extra += ["--drop-after", str(drop_after)]
        if wait_notes is not None:
            extra += ["--wait-notes", str(wait_notes)]
        extra += list(more)
        super().__init__(d, mode, count, extra=extra)

    def stats(self):
        """{"connections": N, "handshakes": N, "attestations": N, "requests": N}"""
        if not os.path.exists(self.stats_path):
            return {"connections": 0, "handshakes": 0, "attestations": 0, "requests": 0}
        with open(self.stats_path) as fh:
            return {k: int(v) for k, v in (w.split("=") for w in fh.read().split())}

    def received(self):
        if not os.path.exists(self.record):
            return []
        with open(self.record) as fh:
            return fh.read().splitlines()

    def received_bytes(self):
        if not os.path.exists(self.dump):
            return b""
        with open(self.dump, "rb") as fh:
            return fh.read()


def env_for(relay, allow_dev=True):
    env = dict(os.environ)
    for k in list(env):
        if k.startswith("CUSTOS_"):
            del env[k]
    env.update({"CUSTOS_RELAY": relay, "CUSTOS_CA": os.path.join(PKI, "root.pem"),
                "CUSTOS_CERT": os.path.join(PKI, "tenant-alice.pem"),
                "CUSTOS_KEY": os.path.join(PKI, "tenant-alice.key"),
                "CUSTOS_REFERENCE": REFERENCE})
    if allow_dev:
        env["CUSTOS_ALLOW_DEV"] = "1"
    return env


def vm(relay, *args, allow_dev=True, env=None, wall=60):
    start = time.monotonic()
    p = subprocess.run([CUSTOS, "vm"] + list(args), capture_output=True, text=True,
                       timeout=wall, env=env or env_for(relay, allow_dev))
    p.seconds = time.monotonic() - start
    return p


def no_secrets(*texts):
    for t in texts:
        for v in SECRET_VALUES:
            assert v not in t, "a secret value was printed: %r" % t


def tiny_elf(size):
    """An ELF image of exactly `size` bytes (>= 120) that the TCB's parser
    (tcb/elf_image.c), and so the CLI's local check, accepts: one PT_LOAD
    of the whole file at 1 MiB, random bytes after the headers."""
    base = 0x100000
    ehdr = b"\x7fELF" + bytes([2, 1, 1, 0]) + bytes(8)
    ehdr += struct.pack("<HHIQQQIHHHHHH", 2, 62, 1, base + 120, 64, 0, 0, 64, 56,
                        1, 0, 0, 0)
    phdr = struct.pack("<IIQQQQQQ", 1, 5, 0, base, base, size, size, 0x1000)
    return ehdr + phdr + os.urandom(size - len(ehdr) - len(phdr))


def files(d, image_len=30000, init_len=5000):
    image, init = os.path.join(d, "guest.elf"), os.path.join(d, "init.bin")
    with open(image, "wb") as fh:
        fh.write(tiny_elf(image_len))
    with open(init, "wb") as fh:
        fh.write(os.urandom(init_len))
    return image, init


def measurement(name, mem, image, init, salt, secrets):
    def u64(v):
        return v.to_bytes(8, "little")
    blob = b"".join(s.encode() + b"\0" for s in secrets)
    m = hashlib.sha384()
    m.update(b"CUSTOS-VM-LAUNCH-2")
    m.update(name.encode().ljust(32, b"\0"))
    m.update(u64(mem))
    m.update(hashlib.sha256(image).digest() + u64(len(image)))
    m.update(hashlib.sha256(init).digest() + u64(len(init)))
    m.update(hashlib.sha256(salt + blob).digest() + u64(len(blob)))
    return m.hexdigest()


def secret_args():
    out = []
    for s in SECRETS:
        out += ["--secret", s]
    return out


def test_vm_cli_host_create_and_lifecycle(d):
    image, init = files(d)
    with open(image, "rb") as fh:
        image_bytes = fh.read()
    with open(init, "rb") as fh:
        init_bytes = fh.read()
    with Fake(d, "ok", count=12) as f:
        p = expect(vm(f.relay, "create", "web", "--memory", "32M", "--image", image,
                      "--init-data", init, "--json", *secret_args()), OK)
        no_secrets(p.stdout, p.stderr)
        assert p.stderr == "", p.stderr
        out = json.loads(p.stdout)
        rec = f.received()
        # Attested first, then the create, then the chunks in order.
        assert rec[0] == "ATTEST_REQ", rec
        m = re.match(r"VM_CREATE name=web mem=33554432 image=30000 init=5000 "
                     r"secrets_len=(\d+) secrets=3 salt=([0-9a-f]{64})$", rec[1])
        assert m, rec
        assert int(m.group(1)) == sum(len(s) + 1 for s in SECRETS)
        uploads = [l for l in rec if l.startswith("VM_UPLOAD")]
        assert uploads == [
            "VM_UPLOAD name=web part=1 offset=0 len=%d" % CHUNK,
            "VM_UPLOAD name=web part=1 offset=%d len=%d" % (CHUNK, CHUNK),
            "VM_UPLOAD name=web part=1 offset=%d len=%d" % (2 * CHUNK, 30000 - 2 * CHUNK),
            "VM_UPLOAD name=web part=2 offset=0 len=5000"], rec
        want = measurement("web", 32 << 20, image_bytes, init_bytes,
                           bytes.fromhex(m.group(2)), SECRETS)
        assert out == {"result": "done", "exit_status": 0, "command": "create",
                       "name": "web", "state": "loaded", "state_code": 2,
                       "memory": 32 << 20, "version": 0, "sealed": False,
                       "image_len": 30000,
                       "image_received": 30000, "init_len": 5000, "init_received": 5000,
                       "measurement": want, "measurement_match": True,
                       "stop_reason": None, "platform": DEV_PLATFORM}, out

        # Human form, no init data, no secrets; 1G memory.
        p = expect(vm(f.relay, "create", "db", "--memory", "1G", "--image", image), OK)
        assert re.search(r"^platform: custos-dev, attested \(measurements match the "
                         r"reference, UNSIGNED; DEV: no TPM quote backs the report's claims; signed "
                         r"by a development TCB identity .*; accepted with --allow-dev\)$",
                         p.stdout, re.M), p.stdout
        assert "name: db\nstate: loaded\nmemory: 1G (1073741824 bytes)\n" in p.stdout, p.stdout
        assert re.search(r"^measurement: [0-9a-f]{96}$", p.stdout, re.M), p.stdout
        assert "launch measurement: matches" in p.stdout
        assert p.stderr == "", p.stderr  # not a terminal: no progress bar

        p = expect(vm(f.relay, "create", "web", "--memory", "32M", "--image", image),
                   REFUSED, r"REFUSED: exists: this tenant already has a VM named 'web' \(code 5")

        p = expect(vm(f.relay, "start", "web", "--json"), OK)
        assert json.loads(p.stdout)["state"] == "running", p.stdout
        # The console: untrusted bytes, control characters replaced (ESC,
        # BEL, the 8-bit CSI); CR LF, a serial console's line end, kept.
        p = expect(vm(f.relay, "console", "web"), OK)
        assert p.stdout == "guest: booting?[2J? ok\tready\n?31mred\n", repr(p.stdout)
        p = expect(vm(f.relay, "console", "web", "--json"), OK)
        assert json.loads(p.stdout) == {"result": "done", "exit_status": 0,
                                        "command": "console", "name": "web",
                                        "console": ""}, p.stdout

        # One shape, success or failure: an object with result, exit_status
        # and command; list's VMs in "vms".
        p = expect(vm(f.relay, "list", "--json"), OK)
        listed = json.loads(p.stdout)
        assert {k: listed[k] for k in ("result", "exit_status", "command")} == {
            "result": "done", "exit_status": 0, "command": "list"}, listed
        lst = listed["vms"]
        assert [(v["name"], v["state"], v["memory"], v["version"]) for v in lst] == \
            [("web", "running", 32 << 20, 0), ("db", "loaded", 1 << 30, 0)], lst
        assert set(lst[0]) == set(out) - {"measurement_match", "platform", "result",
                                          "exit_status", "command"}, lst
        p = expect(vm(f.relay, "list"), OK)
        lines = p.stdout.splitlines()
        assert re.match(r"NAME\s+STATE\s+MEMORY\s+VERSION$", lines[0]), lines
        assert re.match(r"web\s+running\s+32M\s+0$", lines[1]), lines
        assert re.match(r"db\s+loaded\s+1G\s+0$", lines[2]), lines
        assert len(lines) == 3, lines

        p = expect(vm(f.relay, "stop", "web"), OK)
        assert "state: sealed\n" in p.stdout and "version: 1\n" in p.stdout, p.stdout
        p = expect(vm(f.relay, "status", "web", "--json"), OK)
        st = json.loads(p.stdout)
        assert st["state"] == "sealed" and st["version"] == 1 and \
            st["measurement"] == want, st
        p = expect(vm(f.relay, "destroy", "web", "--json"), OK)
        assert json.loads(p.stdout)["state"] == "destroyed", p.stdout
        expect(vm(f.relay, "status", "web"), REFUSED, r"not found: this tenant has no VM named 'web'")
        no_secrets(open(f.record).read())


def test_vm_cli_host_progress_on_a_terminal(d):
    image, init = files(d, image_len=5 * CHUNK + 4000, init_len=CHUNK)
    master, slave = pty.openpty()
    with Fake(d, "ok") as f:
        proc = subprocess.Popen([CUSTOS, "vm", "create", "tty", "--memory", "2M",
                                 "--image", image, "--init-data", init],
                                stdout=subprocess.PIPE, stderr=slave,
                                env=env_for(f.relay))
        os.close(slave)
        err = b""
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            r, _, _ = select.select([master], [], [], 0.5)
            if r:
                try:
                    chunk = os.read(master, 4096)
                except OSError:
                    break
                if not chunk:
                    break
                err += chunk
            elif proc.poll() is not None:
                break
        out = proc.stdout.read().decode()
        assert proc.wait(timeout=10) == OK, (out, err)
        os.close(master)
    bars = re.findall(rb"uploading \[[#-]{30}\] +(\d+)%", err)
    # One bar at 0 %, then one per chunk (7 chunks: 6 image, 1 init data),
    # each with another percentage.
    assert [int(b) for b in bars] == sorted(int(b) for b in bars), err
    assert len(bars) == 8 and bars[0] == b"0" and bars[-1] == b"100", err
    assert "state: loaded" in out, out


def test_vm_cli_host_measurement_mismatch(d):
    image, init = files(d)
    with Fake(d, "vm-bad-measurement") as f:
        p = expect(vm(f.relay, "create", "web", "--memory", "32M", "--image", image,
                      "--init-data", init, "--json", *secret_args()), FAILED,
                   r"FAILED: the platform measured something else than what was sent")
    out = json.loads(p.stdout)
    assert out["result"] == "failed" and out["exit_status"] == 1 and out["name"] == "web", out
    no_secrets(p.stdout, p.stderr)


ERRORS = [
    (1, REFUSED, r"bad request"),
    (2, REFUSED, r"internal error"),
    (3, REFUSED, r"busy: the platform is busy, try again later"),
    (4, REFUSED, r"not found: this tenant has no VM named 'web'"),
    (5, REFUSED, r"exists: this tenant already has a VM named 'web'"),
    (6, REFUSED, r"no memory: the platform has not enough free memory"),
    (7, REFUSED, r"state: VM 'web' is not in a state that allows start"),
    (8, FAILED, r"verify: the platform found that VM 'web' does not verify"),
    (9, FAILED, r"rollback: the stored sealed state of VM 'web' is an older one"),
    (10, REFUSED, r"storage: the relay's storage failed"),
    (11, REFUSED, r"too large: the image, init data or state is beyond"),
]


def test_vm_cli_host_error_codes(d):
    for code, status, pattern in ERRORS:
        with Fake(d, "ok", count=2, vm_error=code) as f:
            p = expect(vm(f.relay, "start", "web"), status,
                       r"^custos vm start: %s: %s.*\(code %d; the platform says: the fake says no\)"
                       % ("FAILED" if status == FAILED else "REFUSED", pattern, code))
            assert p.stdout == "", p.stdout
            p = expect(vm(f.relay, "start", "web", "--json"), status)
            out = json.loads(p.stdout)
            assert out["exit_status"] == status and out["command"] == "start", out
            assert re.search(pattern, out["reason"]), out


def test_vm_cli_host_bad_usage(d):
    image, init = files(d)
    with Fake(d, "ok") as f:
        cases = [
            (["create", "web", "--image", image], r"needs --memory"),
            (["create", "web", "--memory", "33M", "--image", image], r"not a multiple of 2M"),
            (["create", "web", "--memory", "0", "--image", image], r"out of range"),
            (["create", "web", "--memory", "2G", "--image", image], r"out of range"),
            (["create", "web", "--memory", "lots", "--image", image], r"--memory wants a size"),
            (["create", "web", "--memory", "32M"], r"needs --image"),
            (["create", "web", "--memory", "32M", "--image", "/nonexistent.elf"],
             r"cannot read image '/nonexistent.elf'"),
            (["create", "web", "--memory", "32M", "--image", image, "--init-data",
              "/nonexistent.bin"], r"cannot read init data '/nonexistent.bin'"),
            (["create", "Web!", "--memory", "32M", "--image", image], r"VM name .* is not valid"),
            (["create", "web", "--memory", "32M", "--image", image,
              "--secret", "correct horse battery staple"], r"--secret wants KEY=VALUE"),
            (["create", "web", "--memory", "32M", "--image", image,
              "--secret", "BAD-KEY=correct horse battery staple"], r"the key of argument 1 is not"),
            (["create", "web", "--memory", "32M", "--image", image,
              "--secret", "TOKEN=tok-9f8e7d6c5b4a\n"], r"--secret TOKEN: the value must be"),
            (["create", "web", "--memory", "32M", "--image", image,
              "--secret", "A=tok-9f8e7d6c5b4a", "--secret", "A=correct horse battery staple"],
             r"--secret A is given twice"),
            (["create", "web", "--memory", "32M", "--image", image]
             + [a for i in range(5) for a in ("--secret", "K%d=%s" % (i, "x" * 1000))],
             r"the secrets take more than 4096 bytes"),
            (["start"], r"needs a VM name"),
            (["start", "a", "b"], r"takes one VM name"),
            (["list", "web"], r"list takes no VM name"),
            (["status", "web", "--memory", "32M"], r"for create only"),
            (["frob", "web"], r"unknown command 'frob'"),
            (["start", "web", "--bogus"], r"unknown option '--bogus'"),
            (["create", "web", "--memory", "32M", "--image", image,
              "--secrets=tok-9f8e7d6c5b4a"], r"unknown option '--secrets'"),
            (["create", "web", "--memory", "32M", "--image", image, "--secret"],
             r"an option needs an argument"),
            (["start", "web", "--timeout", "0"], r"--timeout"),
            ([], r"no command"),
        ]
        for args, pattern in cases:
            p = expect(vm(f.relay, *args), ERROR, pattern)
            assert p.stdout == "", (args, p.stdout)
            no_secrets(p.stderr)
        # None of that reached the platform.
        assert f.received() == [], f.received()
        # Missing connection settings.
        env = {k: v for k, v in os.environ.items() if not k.startswith("CUSTOS_")}
        expect(vm(f.relay, "list", env=env), ERROR, r"needs --relay HOST:PORT \(or CUSTOS_RELAY\)")
        p = subprocess.run([CUSTOS, "vm", "--help"], capture_output=True, text=True)
        assert p.returncode == 0 and "Exit status" in p.stdout and "CUSTOS_RELAY" in p.stdout
        expect(vm(f.relay, "list"), OK)


def bzimage(path, version=0x020f, xloadflags=0x7f, pref=0x1000000,
            init_size=0x800000, kernel_len=8192):
    """A synthetic bzImage (tcb/linux_boot.h's offsets) at path."""
    setup = bytearray(5 * 512)
    setup[0x1f1] = 4
    struct.pack_into("<I", setup, 0x1f4, kernel_len // 16)
    struct.pack_into("<H", setup, 0x1fe, 0xaa55)
    setup[0x200:0x202] = b"\xeb\x6a"
    setup[0x202:0x206] = b"HdrS"
    struct.pack_into("<H", setup, 0x206, version)
    struct.pack_into("<I", setup, 0x22c, 0x7fffffff)
    struct.pack_into("<I", setup, 0x230, 0x200000)
    setup[0x234] = 1
    struct.pack_into("<H", setup, 0x236, xloadflags)
    struct.pack_into("<I", setup, 0x238, 2047)
    struct.pack_into("<Q", setup, 0x258, pref)
    struct.pack_into("<I", setup, 0x260, init_size)
    with open(path, "wb") as fh:
        fh.write(bytes(setup) + bytes(kernel_len))
    return path


def test_vm_cli_host_linux_checked_locally(d):
    """custos vm create --kernel checks the bzImage with the TCB's own code
    against --memory before anything is sent: one line each, exit 2."""
    image, init = files(d)
    good = bzimage(os.path.join(d, "bz-good"))
    old = bzimage(os.path.join(d, "bz-old"), version=0x020a)
    no64 = bzimage(os.path.join(d, "bz-no64"), xloadflags=0x7e)
    big = os.path.join(d, "bz-big")
    with open(big, "wb") as fh:
        fh.truncate((16 << 20) + 1)
    initrd = os.path.join(d, "initrd")
    with open(initrd, "wb") as fh:
        fh.write(b"\x07" * 5000)
    with Fake(d, "ok") as f:
        cases = [
            (["--kernel", image], r"kernel '.*guest.elf': not a bzImage"),
            (["--kernel", old], r"boot protocol 2.10 too old \(needs 2.12 or later\)"),
            (["--kernel", no64], r"no 64-bit entry"),
            (["--kernel", big], r"kernel '.*bz-big' is 16777217 bytes; it must be 1..16777216"),
            (["--kernel", good, "--memory", "16M"],
             r"does not fit in 16 MiB: the kernel needs \[0x1000000, 0x1800000\)$"),
            (["--kernel", good, "--memory", "24M", "--initrd", initrd],
             r"does not fit in 24 MiB: .* below the initrd"),
            (["--kernel", good, "--image", image], r"exclude each other"),
            (["--image", image, "--initrd", initrd], r"--initrd and --cmdline are for a Linux VM"),
            (["--image", image, "--cmdline", "quiet"], r"--initrd and --cmdline are for a Linux VM"),
            (["--kernel", good, "--init-data", init], r"takes no --init-data, --secret"),
            (["--kernel", good, "--secret", "A=b"], r"takes no --init-data, --secret"),
            (["--kernel", good, "--cmdline", "x" * 2048], r"--cmdline is too long"),
        ]
        for extra, pattern in cases:
            args = ["create", "tux"] + (["--memory", "64M"] if "--memory" not in extra else []) + extra
            p = expect(vm(f.relay, *args), ERROR, pattern)
            assert len(p.stderr.strip().splitlines()) <= 2, p.stderr
        expect(vm(f.relay, "start", "tux", "--kernel", good), ERROR,
               r"--kernel, --initrd and --cmdline are for create only")
        assert f.received() == [], f.received()
    # And a Linux VM that checks out is created: kernel, then initrd (part
    # 3) in chunks, the command line in the CREATE body, and the fake's own
    # computation of the measurement (docs/lifecycle.md) is the CLI's.
    big_initrd = os.path.join(d, "initrd-big")
    with open(big_initrd, "wb") as fh:
        fh.write(bytes(range(256)) * 100)
    with Fake(d, "ok", count=2) as f:
        p = expect(vm(f.relay, "create", "tux", "--memory", "64M", "--kernel", good,
                      "--initrd", big_initrd, "--cmdline", "console=ttyS0 quiet"), OK)
        assert "matches the one computed here from the kernel, initrd and command line" \
            in p.stdout, p.stdout
        got = f.received()
        assert any(r.startswith("VM_CREATE_LINUX name=tux boot=1 initrd=25600 "
                                "cmdline=console=ttyS0 quiet") for r in got), got
        parts = [r for r in got if r.startswith("VM_UPLOAD")]
        assert parts[0].startswith("VM_UPLOAD name=tux part=1 offset=0 len=10752"), parts
        assert [r.split()[2:4] for r in parts[1:]] == [
            ["part=3", "offset=0"], ["part=3", "offset=12288"], ["part=3", "offset=24576"]], parts
        # An ELF VM's create still carries no Linux fields.
        image, init = files(d)
        expect(vm(f.relay, "create", "web", "--memory", "32M", "--image", image), OK)
        assert not any(r.startswith("VM_CREATE_LINUX name=web") for r in f.received())


def test_vm_cli_host_attestation_first(d):
    image, init = files(d)
    # The report does not verify: exit 1, and nothing but ATTEST_REQ is sent.
    for mode, pattern in (("wrong-nonce", r"report answers another nonce"),
                          ("other-tls-key", r"another TLS key"),
                          ("bad-digest", r"tpgvm image: reported sha384")):
        with Fake(d, mode) as f:
            p = expect(vm(f.relay, "create", "web", "--memory", "32M", "--image", image,
                          "--init-data", init, *secret_args()), FAILED,
                       r"FAILED: the platform did not attest, nothing was sent: .*" + pattern)
            no_secrets(p.stdout, p.stderr)
            assert f.received() == ["ATTEST_REQ"], f.received()
    # A dev platform without --allow-dev (CUSTOS_ALLOW_DEV unset).
    with Fake(d, "ok") as f:
        p = expect(vm(f.relay, "list", "--json", allow_dev=False), FAILED,
                   r"platform is DEV: no TPM quote.*--allow-dev")
        assert json.loads(p.stdout)["result"] == "failed"
        assert f.received() == ["ATTEST_REQ"], f.received()
    # The platform refuses our certificate: 3.
    with Fake(d, "reject-cert") as f:
        expect(vm(f.relay, "list"), REFUSED, r"refused our credentials")
        assert f.received() == [], f.received()


def test_vm_cli_host_forged_claims_get_no_secret(d):
    # The attacker of docs/report.md: the boot media's TCB modules in a host
    # process, claiming TPM keys, a DRTM launch and no debug option (or even
    # signing with a production-role certificate). Without --allow-dev the
    # CLI refuses before sending anything: no create, no image, no secret.
    image, init = files(d)
    for mode in ("claims-production", "production-identity"):
        with Fake(d, mode) as f:
            p = expect(vm(f.relay, "create", "web", "--memory", "32M", "--image", image,
                          "--init-data", init, *secret_args(), allow_dev=False), FAILED,
                       r"^custos vm create: FAILED: the platform did not attest, nothing was "
                       r"sent: platform is DEV: no TPM quote backs the report's claims")
            no_secrets(p.stdout, p.stderr)
            assert f.received() == ["ATTEST_REQ"], f.received()
            got = f.received_bytes()
            assert len(got) == 32, len(got)  # the attestation request's nonce, only
            for v in SECRET_VALUES:
                assert v.encode() not in got, "the secret reached the forger (%s)" % mode
    # The control: with --allow-dev the same forger receives the secrets, so
    # the byte dump above would have shown them.
    with Fake(d, "claims-production") as f:
        p = expect(vm(f.relay, "create", "web", "--memory", "32M", "--image", image,
                      *secret_args()), OK)
        assert "DEV: no TPM quote backs the report's claims" in p.stdout, p.stdout
        got = f.received_bytes()
        assert all(v.encode() in got for v in SECRET_VALUES), "the dump misses the secrets"


def write_text(d, name, data):
    path = os.path.join(d, name)
    with open(path, "wb") as fh:
        fh.write(data if isinstance(data, bytes) else data.encode())
    os.chmod(path, 0o600)
    return path


def test_vm_cli_host_secret_file(d):
    # Secrets from a file, never on the command line: KEY=VALUE lines (LF or
    # CRLF), blank and '#' lines skipped, together with one --secret; the
    # platform gets them in order (arguments first) and the launch
    # measurement covers them; no value is ever printed.
    image, init = files(d)
    with open(image, "rb") as fh:
        image_bytes = fh.read()
    with open(init, "rb") as fh:
        init_bytes = fh.read()
    sf = write_text(d, "web.secrets",
                    "# secrets of web\n\nDB_PASSWORD=correct horse battery staple\r\n"
                    "API_TOKEN=tok-9f8e7d6c5b4a\nEMPTY=")
    with Fake(d, "ok") as f:
        p = expect(vm(f.relay, "create", "web", "--memory", "32M", "--image", image,
                      "--init-data", init, "--secret", "FIRST=x", "--secret-file", sf,
                      "--json"), OK)
        no_secrets(p.stdout, p.stderr, open(f.record).read())
        m = re.match(r"VM_CREATE name=web .* secrets_len=(\d+) secrets=4 salt=([0-9a-f]{64})$",
                     f.received()[1])
        assert m, f.received()
        got = f.received_bytes()
        assert all(v.encode() in got for v in SECRET_VALUES), "secrets not sent"
    want = measurement("web", 32 << 20, image_bytes, init_bytes, bytes.fromhex(m.group(2)),
                       ["FIRST=x"] + SECRETS)
    assert json.loads(p.stdout)["measurement"] == want, p.stdout
    assert int(m.group(1)) == sum(len(x) + 1 for x in ["FIRST=x"] + SECRETS)


def test_vm_cli_host_secret_file_errors(d):
    # Every malformed file is a one-line usage error (exit 2) naming the
    # file, the line and at most the key, never a value; nothing is sent.
    image, _ = files(d)
    secret = "correct horse battery staple"
    sub = os.path.join(d, "a-directory")
    os.makedirs(sub, exist_ok=True)
    cases = [
        (os.path.join(d, "nothere.secrets"),
         r"cannot read secret file '.*nothere\.secrets': No such file or directory"),
        (sub, r"secret file '.*a-directory' is not a regular file"),
        (write_text(d, "big.secrets", "# %s\n" % secret + "#" * (16 << 10)),
         r"secret file '.*big\.secrets' is larger than 16384 bytes"),
        (write_text(d, "noeq.secrets", "A=1\n%s\n" % secret),
         r"--secret-file '.*noeq\.secrets' line 2: not KEY=VALUE \(no '='\)"),
        (write_text(d, "key.secrets", "BAD-KEY=%s\n" % secret),
         r"--secret-file '.*key\.secrets' line 1: the key is not 1\.\.64 of A-Z a-z 0-9 _"),
        (write_text(d, "space.secrets", " KEY=%s\n" % secret), r"line 1: the key is not"),
        (write_text(d, "value.secrets", "\nTOKEN=%s\x1b[31m\n" % secret),
         r"--secret-file '.*value\.secrets' line 2 \(TOKEN\): the value must be 0\.\.1024 "
         r"printable ASCII characters"),
        (write_text(d, "nul.secrets", b"TOKEN=correct horse\0battery staple\n"),
         r"line 1 \(TOKEN\): the value must be"),
        (write_text(d, "long.secrets", "TOKEN=%s\n" % ("x" * 1025)),
         r"line 1 \(TOKEN\): the value must be"),
        (write_text(d, "twice.secrets", "A=%s\nA=%s\n" % (secret, secret)),
         r"--secret-file '.*twice\.secrets' line 2: A is given twice"),
        (write_text(d, "total.secrets", "".join("K%d=%s\n" % (i, "x" * 1000) for i in range(5))),
         r"the secrets take more than 4096 bytes \(at --secret-file '.*total\.secrets' "
         r"line 5, K4\)"),
    ]
    with Fake(d, "ok") as f:
        for path, pattern in cases:
            p = expect(vm(f.relay, "create", "web", "--memory", "32M", "--image", image,
                          "--secret-file", path), ERROR,
                       r"^custos vm create: .*" + pattern)
            assert p.stdout == "" and len(p.stderr.splitlines()) == 2, (path, p.stderr)
            assert secret not in p.stderr and "xxxx" not in p.stderr, p.stderr
        # The same key from --secret and from the file.
        path = write_text(d, "dup.secrets", "TOKEN=%s\n" % secret)
        expect(vm(f.relay, "create", "web", "--memory", "32M", "--image", image,
                  "--secret", "TOKEN=other", "--secret-file", path), ERROR,
               r"line 1: TOKEN is given twice")
        expect(vm(f.relay, "start", "web", "--secret-file", path), ERROR,
               r"--secret and --secret-file are for create only")
        assert f.received() == [] and f.received_bytes() == b"", f.received()


def test_vm_cli_host_bad_answers(d):
    # A peer that answers something else than what was asked: exit 2.
    image, _ = files(d)
    with Fake(d, "vm-bad-answer", count=2) as f:
        expect(vm(f.relay, "status", "web"), ERROR,
               r"ERROR: the platform answered with message type 0x21, not VM information")
        expect(vm(f.relay, "create", "web", "--memory", "2M", "--image", image), ERROR,
               r"not VM information")
    with Fake(d, "vm-other-name", count=2) as f:
        expect(vm(f.relay, "stop", "web"), ERROR,
               r"ERROR: the platform answered about another VM than 'web'")
        expect(vm(f.relay, "console", "web"), ERROR, r"not console data")


def test_vm_cli_host_environment_and_timeout(d):
    with Fake(d, "ok", count=2) as f:
        # An option wins over its variable.
        env = env_for("127.0.0.1:1")
        expect(vm(f.relay, "list", "--relay", f.relay, env=env), OK)
        # --allow-dev given as an option with no variable.
        env = env_for(f.relay, allow_dev=False)
        expect(vm(f.relay, "list", "--allow-dev", env=env), OK)
    # Nobody listening: 2.
    expect(vm(f.relay, "list"), ERROR, r"cannot connect")
    # A platform that stops answering: 2, within --timeout.
    with Fake(d, "stall-answer") as f:
        p = expect(vm(f.relay, "list", "--timeout", "3"), ERROR, r"timed out")
        assert 2.5 < p.seconds < 6, p.seconds


# ---- Interrupted and refused uploads ------------------------------------------

def wait_uploads(f, n, proc, wall=30):
    """Until the fake has received n VM_UPLOADs (the CLI still running)."""
    end = time.monotonic() + wall
    while sum(1 for r in f.received() if r.startswith("VM_UPLOAD")) < n:
        assert proc.poll() is None, "custos ended early: %r" % (proc.communicate(),)
        assert time.monotonic() < end, "no %d uploads: %r" % (n, f.received())
        time.sleep(0.1)


def interrupt(relay, args, until, sig=signal.SIGINT):
    """custos vm ARGS, interrupted by sig once until(proc) returns."""
    proc = subprocess.Popen([CUSTOS, "vm"] + args, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True, env=env_for(relay))
    try:
        until(proc)
        proc.send_signal(sig)
        out, err = proc.communicate(timeout=30)
    finally:
        if proc.poll() is None:
            proc.kill()
    return proc.returncode, out, err


def test_vm_cli_host_interrupted_upload_says_what_happened(d):
    # A Ctrl-C half-way through an upload: exit 130 and one line saying how
    # far it got and what becomes of the half-created VM (the TPGVM
    # destroys it when the session closes: docs/tpgvm.md).
    image, _ = files(d, image_len=10 * CHUNK)
    with Fake(d, "ok", count=3, more=["--upload-delay-ms", "200"]) as f:
        rc, out, err = interrupt(f.relay, ["create", "web", "--memory", "32M",
                                           "--image", image],
                                 lambda proc: wait_uploads(f, 2, proc))
        assert rc == 130, (rc, out, err)
        assert re.search(r"^custos vm create: INTERRUPTED: interrupted during the "
                         r"upload \(\d+ of 120 KiB sent\): VM 'web' was created but "
                         r"not loaded; the platform destroys it when it sees this "
                         r"connection close", err, re.M), err
        assert out == "", out
        # With --json, the failure object on stdout too; SIGTERM the same.
        rc, out, err = interrupt(f.relay, ["create", "web2", "--memory", "32M",
                                           "--image", image, "--json"],
                                 lambda proc: wait_uploads(f, 4, proc),
                                 sig=signal.SIGTERM)
        assert rc == 130, (rc, out, err)
        obj = json.loads(out)
        assert obj["result"] == "interrupted" and obj["exit_status"] == 130, obj
        assert obj["command"] == "create" and obj["name"] == "web2", obj
        assert "during the upload" in obj["reason"], obj
    # Interrupted before any request: nothing changed.
    with Fake(d, "stall") as f:
        rc, out, err = interrupt(f.relay, ["destroy", "web"],
                                 lambda proc: time.sleep(1))
        assert rc == 130, (rc, out, err)
        assert "INTERRUPTED: interrupted before any request was sent: nothing " \
               "changed on the platform" in err, err


def test_vm_cli_host_upload_timeout_says_what_happened(d):
    # --timeout passing half-way through the upload: exit 2, the timeout,
    # how far it got and what becomes of the VM.
    image, _ = files(d, image_len=40 * CHUNK)
    with Fake(d, "ok", more=["--upload-delay-ms", "1000"]) as f:
        p = expect(vm(f.relay, "create", "web", "--memory", "32M", "--image", image,
                      "--timeout", "5"), ERROR,
                   r"timed out.*; during the upload \(\d+ of 480 KiB sent\): VM 'web' "
                   r"was created but not loaded; the platform destroys it when it "
                   r"sees this connection close, so the create can run again")
        assert "custos vm destroy" not in p.stderr, p.stderr


def test_vm_cli_host_refused_upload_never_contradicts_itself(d):
    # The platform refuses the image at a chunk and destroys the VM: the CLI
    # says so once (it asks, and hears the VM is gone), never "destroy it".
    image, _ = files(d, image_len=3 * CHUNK)
    with Fake(d, "ok", more=["--upload-refuse-at", "1"]) as f:
        p = expect(vm(f.relay, "create", "web", "--memory", "32M", "--image", image),
                   REFUSED, r"the TCB refused the image; the VM was destroyed\); "
                   r"during the upload \(12 of 36 KiB sent\): VM 'web' is gone: the "
                   r"platform removed it")
        assert "custos vm destroy" not in p.stderr, p.stderr
        assert "VM_DESTROY name=web" in "\n".join(f.received()), f.received()


def test_vm_cli_host_elf_checked_locally(d):
    # What the TCB would refuse after the whole upload is refused before a
    # byte is sent, in the TCB's words (tcb/elf_place.c).
    junk = os.path.join(d, "junk.elf")
    with open(junk, "wb") as fh:
        fh.write(b"\x7fELF" + os.urandom(5000))
    image, init = files(d, image_len=20000, init_len=1 << 20)
    with Fake(d, "ok") as f:
        expect(vm(f.relay, "create", "web", "--memory", "32M", "--image", junk),
               ERROR, r"^custos vm create: ERROR: image '.*junk.elf': .+ \(the "
               r"platform would refuse it; nothing was sent\)$")
        expect(vm(f.relay, "create", "web", "--memory", "2M", "--image", image,
                  "--init-data", init), ERROR,
               r"image '.*guest.elf': image, init data and secrets do not fit in "
               r"2 MiB \(the platform would refuse it; nothing was sent\)")
        assert f.stats()["connections"] == 0, f.stats()
        # The same files fit a larger VM: the check is not a blanket refusal.
        expect(vm(f.relay, "create", "web", "--memory", "4M", "--image", image,
                  "--init-data", init), OK)


def test_vm_cli_host_start_of_a_vm_that_stopped_itself(d):
    # A VM that halted by itself is `exited`, its state sealed: a plain
    # start boots it afresh from its boot copy, --resume resumes it where it
    # stopped; a VM its owner stopped is `sealed` and resumes on a plain
    # start, --afresh boots it afresh (docs/protocol.md, "VM states and
    # commands"). The CLI sends the mode; the platform decides.
    image, _ = files(d)
    with Fake(d, "ok", count=12, more=["--halts", "1"]) as f:
        expect(vm(f.relay, "create", "hi", "--memory", "4M", "--image", image), OK)
        expect(vm(f.relay, "start", "hi", "--resume"), REFUSED,
               r"^custos vm start: REFUSED: state: VM .hi. is not in a state that allows "
               r"start .*the platform says: the VM has never run: nothing to resume\)$")
        p = expect(vm(f.relay, "start", "hi"), OK)  # from loaded: boots
        assert "started:" not in p.stdout, p.stdout
        p = expect(vm(f.relay, "status", "hi"), OK)
        assert re.search(r"^state: exited \(its state sealed in storage\)$", p.stdout,
                         re.M), p.stdout
        assert re.search(r"^stop reason: halted$", p.stdout, re.M), p.stdout
        p = expect(vm(f.relay, "status", "hi", "--json"), OK)
        j = json.loads(p.stdout)
        assert (j["state"], j["sealed"]) == ("exited", True), p.stdout
        before = len(f.received())
        p = expect(vm(f.relay, "start", "hi"), OK)
        assert re.search(r"^started: booted afresh from its boot copy$", p.stdout,
                         re.M), p.stdout
        p = expect(vm(f.relay, "start", "hi", "--resume", "--json"), OK)
        assert json.loads(p.stdout)["started"] == "resumed", p.stdout
        sent = [l for l in f.received()[before:] if l.startswith("VM_START")]
        assert sent == ["VM_START name=hi mode=0", "VM_START name=hi mode=1"], sent
        # A stop of an exited VM whose state is sealed has nothing to do:
        # exit 0, still exited.
        p = expect(vm(f.relay, "stop", "hi"), OK)
        assert re.search(r"^state: exited", p.stdout, re.M), p.stdout
        # --resume and --afresh belong to start, one at a time.
        expect(vm(f.relay, "stop", "hi", "--resume"), ERROR,
               r"--resume and --afresh are for start only")
        expect(vm(f.relay, "start", "hi", "--resume", "--afresh"), ERROR,
               r"--resume and --afresh: one or the other")
    with Fake(d, "ok", count=8) as f:
        expect(vm(f.relay, "create", "web", "--memory", "4M", "--image", image), OK)
        expect(vm(f.relay, "start", "web"), OK)
        expect(vm(f.relay, "stop", "web"), OK)
        p = expect(vm(f.relay, "status", "web"), OK)
        assert re.search(r"^state: sealed$", p.stdout, re.M), p.stdout
        assert re.search(r"^stop reason: stopped by its owner$", p.stdout, re.M), p.stdout
        p = expect(vm(f.relay, "start", "web"), OK)
        assert re.search(r"^started: resumed from its sealed state$", p.stdout,
                         re.M), p.stdout
        expect(vm(f.relay, "stop", "web"), OK)
        # A stop of a sealed VM is refused (exit 3), not a silent success.
        expect(vm(f.relay, "stop", "web"), REFUSED, r"^custos vm stop: REFUSED: state: ")
        p = expect(vm(f.relay, "start", "web", "--afresh"), OK)
        assert re.search(r"^started: booted afresh from its boot copy$", p.stdout,
                         re.M), p.stdout


# ---- custos vm shell ---------------------------------------------------------

def shell(relay, lines, *args, env=None, wall=60):
    """custos vm shell with lines (str or bytes) on stdin."""
    data = lines.encode() if isinstance(lines, str) else lines
    start = time.monotonic()
    p = subprocess.run([CUSTOS, "vm", "shell"] + list(args), input=data,
                       capture_output=True, timeout=wall, env=env or env_for(relay))
    p.seconds = time.monotonic() - start
    p.stdout, p.stderr = p.stdout.decode(), p.stderr.decode()
    return p


def blocks(stdout):
    """The shell's human stdout: its platform line, and {line number: the
    command's output} from the '== line N: ...' headers."""
    first, _, rest = stdout.partition("\n")
    out, current = {}, None
    for line in rest.splitlines(keepends=True):
        m = re.match(r"== line (\d+): ", line)
        if m:
            current = int(m.group(1))
            out[current] = ""
        else:
            assert current is not None, stdout
            out[current] += line
    return first, out


def test_vm_cli_host_shell_one_session(d):
    image, init = files(d)
    sf = write_text(d, "web.secrets", "DB_PASSWORD=correct horse battery staple\n")
    lines = ("# a batch\n\n"
             "create web --memory 32M --image %s --init-data '%s' --secret-file %s "
             "--secret \"API_TOKEN=tok-9f8e7d6c5b4a\"\n"
             "start web\n"
             "console web\n"
             "list\n"
             "stop web\n"
             "status web\n") % (image, init, sf)
    with Fake(d, "ok", count=3) as f:
        p = expect(shell(f.relay, lines), OK)
        no_secrets(p.stdout, p.stderr, open(f.record).read())
        assert p.stderr == "", p.stderr
        # One connection, one handshake, one attestation for all of it: the
        # create (and its 3 + 1 chunks), start, console, list, stop, status.
        assert f.stats() == {"connections": 1, "handshakes": 1, "attestations": 1,
                             "requests": 10}, f.stats()
        rec = f.received()
        assert rec[0] == "ATTEST_REQ" and rec.count("ATTEST_REQ") == 1, rec
        assert re.match(r"VM_CREATE name=web .* secrets=2 salt=", rec[1]), rec
        assert rec[-1] == "VM_STATUS name=web", rec
        platform, out = blocks(p.stdout)
        assert sorted(out) == [3, 4, 5, 6, 7, 8], out
        assert "launch measurement: matches" in out[3] and "state: loaded" in out[3], out
        assert "state: running" in out[4], out
        # The console's untrusted bytes, sanitised as on their own.
        assert out[5] == "guest: booting?[2J? ok\tready\r\n?31mred\n", repr(out[5])
        assert re.search(r"^web\s+running\s+32M\s+0$", out[6], re.M), out[6]
        assert "state: sealed\nmemory: 32M (33554432 bytes)\nversion: 1\n" in out[7], out
        # What the shell printed is what the command prints on its own.
        alone = expect(vm(f.relay, "status", "web"), OK).stdout
        assert alone == platform + "\n" + out[8], (alone, platform, out[8])
        alone = expect(vm(f.relay, "list"), OK).stdout
        assert alone.splitlines()[0] == out[6].splitlines()[0], (alone, out[6])
        assert re.search(r"^web\s+sealed\s+32M\s+1$", alone, re.M), alone


def test_vm_cli_host_reads_past_wait_notes(d):
    """PROTO_WAIT notes (the TPGVM's "still at it" during a long start or
    stop) come before the answer: the command and the shell read past
    them and print the answer as without them."""
    image, _ = files(d)
    with Fake(d, "ok", count=3, wait_notes=3) as f:
        expect(vm(f.relay, "create", "web", "--memory", "32M", "--image", image), OK)
        p = expect(vm(f.relay, "start", "web"), OK)
        assert "state: running" in p.stdout, p.stdout
        p = expect(shell(f.relay, "stop web\nstatus web\n"), OK)
        assert "state: sealed" in p.stdout, p.stdout
        assert p.stderr == "", p.stderr


def test_vm_cli_host_shell_json_lines(d):
    image, _ = files(d)
    lines = ("create web --memory 2M --image %s\nstatus web\nlist\nconsole web\n"
             "start nope\nfrob\n") % image
    with Fake(d, "ok", count=4) as f:
        p = expect(shell(f.relay, lines, "--json", "--keep-going"), REFUSED)
        objs = [json.loads(l) for l in p.stdout.splitlines()]
        assert objs[0] == {"session": "attested", "platform": DEV_PLATFORM,
                           "measurements_compared": True}, objs[0]
        assert [(o["line"], o["command"], o["exit_status"]) for o in objs[1:-1]] == [
            (1, "create", OK), (2, "status", OK), (3, "list", OK), (4, "console", OK),
            (5, "start", REFUSED), (6, None, ERROR)], objs
        assert objs[-1] == {"end": "input", "commands": 6, "failed": 2,
                            "first_failed_line": 5, "exit_status": REFUSED}, objs[-1]
        assert objs[1]["output"]["measurement_match"] is True, objs[1]
        assert objs[5]["output"] == {"result": "refused", "exit_status": 3, "command": "start",
                                     "name": "nope", "reason": objs[5]["output"]["reason"]}
        assert objs[5]["output"]["reason"].startswith("not found: this tenant has no VM named 'nope'")
        assert objs[6]["output"]["result"] == "error" and \
            objs[6]["output"]["reason"].startswith("unknown command 'frob'"), objs[6]
        # Each output is what the command on its own prints with --json.
        for args, obj in ((["status", "web"], objs[2]), (["list"], objs[3]),
                          (["console", "web"], objs[4])):
            alone = json.loads(expect(vm(f.relay, *args, "--json"), OK).stdout)
            assert obj["output"] == alone, (args, obj, alone)
        assert f.stats()["handshakes"] == 4, f.stats()  # the shell and 3 alone


def test_vm_cli_host_shell_failure_stops_the_batch(d):
    image, _ = files(d)
    lines = ("create web --memory 2M --image %s\nstart nope\nstatus web\nfrob\n"
             "status web\n") % image
    with Fake(d, "ok", count=2) as f:
        # The first failure stops it: the lines after it are not run.
        p = expect(shell(f.relay, lines), REFUSED,
                   r"^custos vm shell: line 2: start: REFUSED: not found: this tenant has "
                   r"no VM named 'nope'")
        assert re.search(r"stopped at line 2, its first failure \(exit 3\); the lines after "
                         r"it were not run", p.stderr), p.stderr
        assert len(p.stderr.splitlines()) == 2, p.stderr
        assert sorted(blocks(p.stdout)[1]) == [1, 2], p.stdout
        assert f.received()[-1] == "VM_START name=nope mode=0", f.received()
        # --keep-going runs the rest; the exit status stays the first
        # failure's (3), not the unknown command's (2).
        n = f.stats()["requests"]
        p = expect(shell(f.relay, lines.replace("create web", "create web2"),
                         "--keep-going"), REFUSED)
        # create (1 + 3 chunks), start (not found), status, status: frob
        # sends nothing.
        assert f.stats()["requests"] == n + 7, f.stats()
        assert sorted(blocks(p.stdout)[1]) == [1, 2, 3, 5], p.stdout
        assert re.search(r"line 4: ERROR: unknown command 'frob'", p.stderr), p.stderr
        assert re.search(r"2 of 5 commands failed, the first at line 2 \(exit 3\)$",
                         p.stderr), p.stderr


def test_vm_cli_host_shell_malformed_lines(d):
    secret = "correct horse battery staple"
    cases = [
        (b"status " + b"x" * 9000 + b"\n", r"longer than 8192 bytes"),
        (b"status w\0eb\n", r"holds a NUL byte"),
        (b"status \x1b[31mweb\n", r"holds a control character"),
        (b"status 'web\n", r"a ' quote is not closed"),
        (b'create web --memory 2M --image x --secret "A=%s\n' % secret.encode(),
         r"a \" quote is not closed"),
        (b"DB_PASSWORD=%s\n" % secret.encode(), r"unknown command 'DB_PASSWORD'"),
        (b"shell\n", r"'shell' is not a command inside the shell"),
        (b"status web --relay 127.0.0.1:1\n", r"belong to 'custos vm shell', not to a line"),
        (b"list --json\n", r"belong to 'custos vm shell'"),
        (b"console web --follow\n", r"not for the shell"),
        (b"console web --interactive\n", r"not for the shell"),
        (b"status Web!\n", r"VM name 'Web!' is not valid"),
        (b"start\n", r"needs a VM name"),
        (b"create web --memory 2M --image /nonexistent --secret TOKEN=%s\x01\n" % secret.encode(),
         r"holds a control character"),
        (b"create web --memory 33M --image /nonexistent --secret 'TOKEN=%s'\n" % secret.encode(),
         r"not a multiple of 2M"),
    ]
    with Fake(d, "ok") as f:
        text = b"list\n" + b"".join(c for c, _ in cases) + b"list\n"
        p = expect(shell(f.relay, text, "--keep-going"), ERROR)
        errs = p.stderr.splitlines()
        assert len(errs) == len(cases) + 1, p.stderr
        for i, (_, pattern) in enumerate(cases):
            assert re.match(r"custos vm shell: line %d(: \w+)?: ERROR: .*%s" % (i + 2, pattern),
                            errs[i]), (i, errs[i], pattern)
        assert secret not in p.stdout + p.stderr, p.stderr
        # The lines around them ran (a long line did not put the next one
        # out of step); none of the bad ones sent anything.
        assert sorted(blocks(p.stdout)[1]) == [1, len(cases) + 2], p.stdout
        assert f.received() == ["ATTEST_REQ", "VM_LIST name=", "VM_LIST name="], f.received()
        assert secret.encode() not in f.received_bytes()


def test_vm_cli_host_shell_input_ends(d):
    with Fake(d, "ok", count=3) as f:
        # Ended inside a line: what came before runs, the cut line does not
        # ("destroy web-prod" cut short may be another command).
        p = expect(shell(f.relay, "list\ndestroy web"), ERROR,
                   r"line 2: ERROR: the input ended inside the line \(no newline after "
                   r"it\): not run")
        assert f.received() == ["ATTEST_REQ", "VM_LIST name="], f.received()
        # No input at all: attested, nothing sent, 0.
        p = expect(shell(f.relay, ""), OK)
        assert p.stdout.startswith("platform: custos-dev, attested") and \
            len(p.stdout.splitlines()) == 1, p.stdout
        assert f.stats() == {"connections": 2, "handshakes": 2, "attestations": 2,
                             "requests": 1}, f.stats()
        # --batch FILE: the same; CRLF line ends taken.
        batch = write_text(d, "batch.txt", "list\r\n# done\r\n")
        p = expect(shell(f.relay, "", "--batch", batch), OK)
        assert sorted(blocks(p.stdout)[1]) == [1], p.stdout
    # An unreadable batch file: 2, before any connection.
    with Fake(d, "ok") as f:
        expect(shell(f.relay, "", "--batch", os.path.join(d, "nothere")), ERROR,
               r"^custos vm shell: ERROR: cannot read batch file '.*nothere': No such file")
        expect(shell(f.relay, "", "--batch", d), ERROR, r"is a directory")
        expect(shell(f.relay, "", "extra"), ERROR, r"takes no arguments")
        assert f.stats()["connections"] == 0, f.stats()


def test_vm_cli_host_shell_connection_dropped(d):
    image, _ = files(d)
    with Fake(d, "ok", count=2) as f:
        expect(vm(f.relay, "create", "web", "--memory", "2M", "--image", image), OK)
    # The platform's side hangs up after two answers: the third command
    # fails (2) and nothing after it is tried, --keep-going or not.
    with Fake(d, "ok", drop_after=2) as f:
        p = expect(shell(f.relay, "list\nlist\nlist\nlist\n", "--keep-going",
                         "--json"), ERROR)
        assert p.seconds < 20, p.seconds
        errs = p.stderr.splitlines()
        assert re.match(r"custos vm shell: line 3: list: ERROR: .*(closed|reset)", errs[0]), errs
        assert errs[1] == ("custos vm shell: the session is lost at line 3; the lines after "
                           "it were not run (3 commands ran, 1 failed)"), errs
        objs = [json.loads(l) for l in p.stdout.splitlines()]
        assert [o.get("exit_status") for o in objs[1:4]] == [OK, OK, ERROR], objs
        assert objs[-1]["end"] == "session lost" and objs[-1]["commands"] == 3, objs[-1]


def test_vm_cli_host_shell_attestation_first(d):
    # The session does not attest: nothing runs, the attestation's status.
    with Fake(d, "wrong-nonce") as f:
        p = expect(shell(f.relay, "list\n"), FAILED,
                   r"^custos vm shell: FAILED: the platform did not attest, nothing was "
                   r"sent: .*report answers another nonce")
        assert p.stdout == "" and f.received() == ["ATTEST_REQ"], (p.stdout, f.received())
    with Fake(d, "ok") as f:
        p = expect(shell(f.relay, "list\n", "--json", env=env_for(f.relay, allow_dev=False)),
                   FAILED, r"platform is DEV")
        assert json.loads(p.stdout)["command"] == "shell", p.stdout
        assert f.received() == ["ATTEST_REQ"], f.received()
