"""`custos attest` against the real platform, on every backend:
build/custos.iso as `make` builds it (its TPGVM from the station's
envelope), custos-relay on the host, and the tenant CLI verifying the signed report, the TLS key
binding, the nonce and the measurement log against build/reference.json.
Then the adversaries: a man-in-the-middle relay that terminates TLS with its
own key (forwarding to the real TPGVM as another tenant), one that replays
an earlier report to a new nonce, a tenant certificate from an unknown CA,
reference values that differ, and a relay that flips, drops or replays
bytes of the TLS stream. The development platform is DEV (no TPM quote, a
development TCB identity) and is only accepted with --allow-dev. One boot
carries a boot-module VM that whoever prepared the boot media added: the
report lists it and attest fails against a reference that does not allow
it, and passes against one that does (mkreference.py --allow-boot-vm); a
CA-signed roll-out reference (two accepted TPGVM values) verifies. Each must fail with its own reason and exit code
(docs/tenant-cli.md); none may hang (every CLI run has --timeout, every
socket here a timeout, and the emulator and relay are killed in a finally)."""
import hashlib
import json
import os
import re
import socket
import ssl
import struct
import subprocess
import sys
import threading
import time

import harness as h
from custos_platform import Platform

sys.path.insert(0, os.path.join(h.ROOT, "tools"))
import mkreference  # noqa: E402  (the reference's own digest of a boot VM)

CUSTOS = os.path.join(h.BUILD, "bin", "custos")
HELLO = os.path.join(h.BUILD, "guests", "hello.elf")
HELLO_CMDLINE = "vm.hello mem=2M"
PKI = os.path.join(h.BUILD, "pki")
REFERENCE = os.path.join(h.BUILD, "reference.json")
CLI_TIMEOUT = 60       # the CLI's own --timeout, seconds
SOCK_TIMEOUT = 60.0

EXIT_VERIFIED, EXIT_FAILED, EXIT_ERROR, EXIT_REFUSED = 0, 1, 2, 3

PROTO_HDR = struct.Struct("<IHH")
ATTEST_REQ, ATTEST_RESP, ERROR = 1, 2, 3


def attest(port, *extra, tenant="alice", reference=REFERENCE, ca=None,
           allow_dev=True):
    args = [CUSTOS, "attest", "--relay", "127.0.0.1:%d" % port,
            "--ca", ca or os.path.join(PKI, "root.pem"),
            "--cert", os.path.join(PKI, "tenant-%s.pem" % tenant),
            "--key", os.path.join(PKI, "tenant-%s.key" % tenant),
            "--reference", reference, "--timeout", str(CLI_TIMEOUT)]
    if allow_dev:
        args.append("--allow-dev")
    p = subprocess.run(args + list(extra), capture_output=True, text=True,
                       timeout=CLI_TIMEOUT + 30)
    return p


def expect(p, code, reason, what):
    out = p.stdout + p.stderr
    assert p.returncode == code, "%s: exit %d, want %d\n%s" % (
        what, p.returncode, code, out)
    assert re.search(reason, out, re.I | re.M), "%s: no /%s/ in:\n%s" % (
        what, reason, out)


# ---- Adversaries on the tenant's side of the relay ------------------------------

def server_context(d, name):
    """A TLS server with a fresh self-signed P-384 key (not the TPGVM's)."""
    key, crt = os.path.join(d, name + ".key"), os.path.join(d, name + ".pem")
    subprocess.run(["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt",
                    "ec_paramgen_curve:P-384", "-sha384", "-nodes", "-days", "30",
                    "-subj", "/CN=custos-tpgvm", "-keyout", key, "-out", crt],
                   check=True, capture_output=True, timeout=30)
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.minimum_version = ctx.maximum_version = ssl.TLSVersion.TLSv1_2
    ctx.set_ciphers("ECDHE-ECDSA-AES256-GCM-SHA384")
    ctx.set_ecdh_curve("secp384r1")
    ctx.load_cert_chain(crt, key)
    return ctx


def tenant_context(tenant):
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    ctx.minimum_version = ctx.maximum_version = ssl.TLSVersion.TLSv1_2
    ctx.set_ciphers("ECDHE-ECDSA-AES256-GCM-SHA384")
    ctx.check_hostname = False
    ctx.verify_mode = ssl.CERT_NONE
    ctx.load_cert_chain(os.path.join(PKI, "tenant-%s.pem" % tenant),
                        os.path.join(PKI, "tenant-%s.key" % tenant))
    return ctx


def recv_exactly(s, n):
    buf = b""
    while len(buf) < n:
        chunk = s.recv(n - len(buf))
        if not chunk:
            raise EOFError("closed after %d of %d bytes" % (len(buf), n))
        buf += chunk
    return buf


def read_message(s):
    head = recv_exactly(s, PROTO_HDR.size)
    length, mtype, _ = PROTO_HDR.unpack(head)
    return mtype, head + recv_exactly(s, length)


class Mitm(threading.Thread):
    """A relay that terminates the tenant's TLS with its own key. It passes
    the tenant's request on to the real TPGVM over its own TLS session (as
    tenant bob, a legitimate but different tenant) and hands back the
    genuine answer -- or, with replay=msg, answers with msg instead."""

    def __init__(self, d, upstream_port, replay=None):
        super().__init__(daemon=True)
        self.ctx = server_context(d, "mitm")
        self.upstream_port = upstream_port
        self.replay = replay
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.listener.settimeout(SOCK_TIMEOUT)
        self.port = self.listener.getsockname()[1]
        self.errors = []
        self.answers = []

    def run(self):
        try:
            conn, _ = self.listener.accept()
            conn.settimeout(SOCK_TIMEOUT)
            with self.ctx.wrap_socket(conn, server_side=True) as tenant:
                _, request = read_message(tenant)
                if self.replay:
                    answer = self.replay
                else:
                    up = socket.create_connection(("127.0.0.1", self.upstream_port),
                                                  SOCK_TIMEOUT)
                    with tenant_context("bob").wrap_socket(up) as tpgvm:
                        tpgvm.sendall(request)
                        _, answer = read_message(tpgvm)
                self.answers.append(answer)
                tenant.sendall(answer)
                try:
                    tenant.recv(1)  # until the tenant hangs up
                except (OSError, ssl.SSLError):
                    pass
        except Exception as e:  # reported by the test
            self.errors.append(repr(e))
        finally:
            self.listener.close()


def tls_records(buf):
    """Split off the whole TLS records at the front of buf."""
    records = []
    while len(buf) >= 5:
        n = 5 + struct.unpack(">H", buf[3:5])[0]
        if len(buf) < n:
            break
        records.append(bytes(buf[:n]))
        del buf[:n]
    return records


class Tamperer(threading.Thread):
    """A relay in front of the real one that changes the TPGVM's TLS records
    on their way to the tenant (the tenant's pass unchanged):
      flip    one bit in the middle of the first application-data record
      drop    the ChangeCipherSpec record is not delivered
      replay  the first encrypted handshake record (Finished) is sent twice
    """

    def __init__(self, upstream_port, mode):
        super().__init__(daemon=True)
        self.upstream_port, self.mode = upstream_port, mode
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.listener.settimeout(SOCK_TIMEOUT)
        self.port = self.listener.getsockname()[1]
        self.done = False
        self.errors = []

    def change(self, rec, seen):
        rtype = rec[0]
        if self.mode == "flip" and rtype == 23 and not self.done:
            self.done = True
            mid = 5 + (len(rec) - 5) // 2
            return [rec[:mid] + bytes([rec[mid] ^ 0x01]) + rec[mid + 1:]]
        if self.mode == "drop" and rtype == 20 and not self.done:
            self.done = True
            return []
        if self.mode == "replay" and rtype == 22 and 20 in seen and not self.done:
            self.done = True
            return [rec, rec]
        return [rec]

    def run(self):
        try:
            conn, _ = self.listener.accept()
            up = socket.create_connection(("127.0.0.1", self.upstream_port), SOCK_TIMEOUT)
            pending, seen = bytearray(), set()
            for s in (conn, up):
                s.setblocking(False)
            import selectors
            sel = selectors.DefaultSelector()
            sel.register(conn, selectors.EVENT_READ, up)
            sel.register(up, selectors.EVENT_READ, conn)
            end = time.monotonic() + CLI_TIMEOUT + 20
            while time.monotonic() < end:
                for key, _ in sel.select(1.0):
                    try:
                        data = key.fileobj.recv(65536)
                    except BlockingIOError:
                        continue
                    if not data:
                        return
                    if key.fileobj is conn:
                        up.setblocking(True)
                        up.sendall(data)
                        up.setblocking(False)
                        continue
                    pending += data
                    out = b""
                    for rec in tls_records(pending):
                        out += b"".join(self.change(rec, seen))
                        seen.add(rec[0])
                    conn.setblocking(True)
                    conn.sendall(out)
                    conn.setblocking(False)
        except Exception as e:
            self.errors.append(repr(e))
        finally:
            self.listener.close()


def check_log_with_tpm2_eventlog(d, report_path, ref):
    """The measurement log inside a real report, read by a standard tool:
    every event's PCR and digest as the reference says (docs/report.md:
    the log follows the 92-byte header, the nonce and the platform id)."""
    with open(report_path, "rb") as f:
        rpt = f.read()
    nonce_len, platform_len, log_len = struct.unpack_from("<III", rpt, 72)
    start = 92 + nonce_len + platform_len
    log = os.path.join(d, "report-log.bin")
    with open(log, "wb") as f:
        f.write(rpt[start:start + log_len])
    p = subprocess.run(["tpm2_eventlog", log], capture_output=True, text=True, timeout=60)
    assert p.returncode == 0, "tpm2_eventlog exit %d:\n%s%s" % (p.returncode, p.stdout, p.stderr)
    pcrs = [int(v) for v in re.findall(r"^  PCRIndex: (\d+)$", p.stdout, re.M)][1:]
    digests = re.findall(r'^    Digest: "([0-9a-f]+)"$', p.stdout, re.M)
    want = ref["measurements"]
    assert pcrs == [m["pcr"] for m in want], (pcrs, p.stdout)
    assert digests == [m["sha384"] for m in want], (digests, p.stdout)


def report_evidence(rpt):
    """A format-2 report's TPM evidence, read by the layout of docs/report.md
    (not by Custos code): (ak TPMT_PUBLIC, TPMS_ATTEST, r||s, PCR mask,
    PCR values, firmware log, quoted digest), or None without one."""
    nonce, pid, log, cert, tpm = struct.unpack_from("<IIIII", rpt, 72)
    quoted_len = 92 + nonce + pid + log + cert
    if tpm == 0:
        return None
    e = rpt[quoted_len:quoted_len + tpm]
    ak_len, = struct.unpack_from("<I", e, 0)
    ak = e[4:4 + ak_len]
    at_len, = struct.unpack_from("<I", e, 4 + ak_len)
    off = 8 + ak_len
    attest = e[off:off + at_len]
    off += at_len
    sig = e[off:off + 96]
    mask, = struct.unpack_from("<I", e, off + 96)
    off += 100
    n = bin(mask).count("1")
    values = e[off:off + 48 * n]
    off += 48 * n
    fw_len, = struct.unpack_from("<I", e, off)
    fw = e[off + 4:off + 4 + fw_len]
    off += 4 + fw_len
    certs = []
    for _ in ("EK certificate", "AK certificate"):
        n, = struct.unpack_from("<I", e, off)
        certs.append(e[off + 4:off + 4 + n])
        off += 4 + n
    keys = b""
    if off < len(e):  # the TCB keys field (older reports end before it)
        n, = struct.unpack_from("<I", e, off)
        keys = e[off + 4:off + 4 + n]
        off += 4 + n
    assert off == len(e), "evidence framing"
    report_evidence.certs = certs  # (EK, AK) certificates of the last one read
    report_evidence.tcb_keys = keys  # the certified TPM-resident keys, raw
    covered = bytearray(rpt[:quoted_len])
    covered[88:92] = bytes(4)
    return ak, attest, sig, mask, values, fw, hashlib.sha384(covered).digest()


def tpm2_tools_pcrs(mask, values):
    """PCR values as tpm2_quote -o writes them: the C structures TPML_PCR_SELECTION
    and then a count of TPML_DIGESTs of at most 8 digests each, as laid out in
    memory by tpm2-tss on x86-64. (tpm2_checkquote 5.4 reads bare values with
    -l wrongly beyond 8 PCRs.)"""
    sel = struct.pack("<IHB4sx", 1, 0x000c, 3, struct.pack("<I", mask)) + bytes(8 * 15)
    digests = [values[i:i + 48] for i in range(0, len(values), 48)]
    chunks = [digests[i:i + 8] for i in range(0, len(digests), 8)]
    out = sel + struct.pack("<I", len(chunks))
    for chunk in chunks:
        out += struct.pack("<I", len(chunk))
        for v in chunk + [b""] * (8 - len(chunk)):
            out += struct.pack("<H", len(v)) + v + bytes(64 - len(v))
    return out


def check_quote_with_tpm2_checkquote(d, report_path):
    """The report's quote, checked by tpm2-tools: its signature by the key
    the report carries, its qualifying data the report's quoted digest, and
    the PCR values the report carries as what it quoted."""
    with open(report_path, "rb") as f:
        ak, attest, sig, mask, values, _, quoted = report_evidence(f.read())
    # TPMT_PUBLIC of an ECC P-384 key without a policy: the point's x and y
    # are the last two TPM2B_ECC_PARAMETERs, 48 bytes each.
    assert len(ak) == 120 and ak[20:22] == b"\x00\x30" and ak[70:72] == b"\x00\x30", ak.hex()
    spki = bytes.fromhex("3076301006072a8648ce3d020106052b81040022036200") + \
        b"\x04" + ak[22:70] + ak[72:120]
    files = {"ak.der": spki, "attest.bin": attest, "pcrs.bin": tpm2_tools_pcrs(mask, values),
             "sig.bin": bytes.fromhex("0018000c0030") + sig[:48] + b"\x00\x30" + sig[48:]}
    for name, data in files.items():
        with open(os.path.join(d, name), "wb") as f:
            f.write(data)
    subprocess.run(["openssl", "pkey", "-pubin", "-inform", "DER", "-in", "ak.der",
                    "-outform", "PEM", "-out", "ak.pem"], cwd=d, check=True, timeout=30)

    def checkquote(q):
        return subprocess.run(["tpm2_checkquote", "-u", "ak.pem", "-m", "attest.bin",
                               "-s", "sig.bin", "-g", "sha384", "-q", q.hex(),
                               "-f", "pcrs.bin"],
                              cwd=d, capture_output=True, text=True, timeout=60)
    p = checkquote(quoted)
    assert p.returncode == 0, "tpm2_checkquote: %s%s" % (p.stdout, p.stderr)
    # ... and not for another report's digest.
    p = checkquote(bytes([quoted[0] ^ 1]) + quoted[1:])
    assert p.returncode != 0, p.stdout


def iso_with_boot_vm(d):
    """build/custos.iso's modules and one more: a boot-module VM 'hello',
    as whoever prepares the boot media can add."""
    mods = [("tcb-keys.bin", "tcb-keys"), ("tcb-certs.bin", "tcb-certs"),
            ("tpgvm.env", "tpgvm-envelope"), ("hello.elf", HELLO_CMDLINE)]
    files = [os.path.join(PKI, "tcb-keys.bin"), os.path.join(PKI, "tcb-certs.bin"),
             os.path.join(h.BUILD, "tpgvm.env"), HELLO]
    return h.make_iso(d, modules=mods, module_files=files)


def reference_allowing_hello(d):
    """This build's reference values, written by mkreference.py as make does,
    plus the boot VM 'hello' (--allow-boot-vm)."""
    out = os.path.join(d, "reference-with-hello.json")
    subprocess.run([sys.executable, os.path.join(h.ROOT, "tools", "mkreference.py"),
                    "--elf", h.ELF, "--grub-cfg", os.path.join(h.ROOT, "boot", "grub.cfg"),
                    "--ca-root", os.path.join(PKI, "root.der"),
                    "--tpgvm-image", os.path.join(h.BUILD, "guests", "tpgvm.elf"),
                    "--tpgvm-policy", os.path.join(h.BUILD, "tpgvm.policy"),
                    "--platform-id", "custos-dev", "--out", out,
                    "--allow-boot-vm", HELLO, HELLO_CMDLINE],
                   check=True, capture_output=True, timeout=60)
    return out


# ---- The tests ------------------------------------------------------------------

@h.on(*h.BACKENDS)
def test_attest_verifies_the_real_platform(d, machine):
    with Platform(d, machine) as pf:
        p = attest(pf.port)
        expect(p, EXIT_VERIFIED, r"verified", "attest")
        assert "custos-dev" in p.stdout, p.stdout
        # The development platform is DEV, and says why: no TPM quote, and
        # its identity is a development one; its claims are only claims.
        assert p.stdout.startswith("custos attest: VERIFIED (DEV platform, accepted with "
                                   "--allow-dev)\n"), p.stdout
        # With a TPM (QEMU's swtpm) the report carries a quote, checked and
        # shown, but this platform is not enrolled: still DEV.
        tpm = getattr(machine, "tpm", False)
        no_quote = ("a TPM quote backs the log, but no certificate from the CA says its key "
                    "is in a TPM"
                    if tpm else "no TPM quote backs the report's claims")
        assert re.search(r"^DEV: signed by a development TCB identity.*; %s" % no_quote
                         if tpm else r"^DEV: %s; signed by a development TCB identity" % no_quote,
                         p.stdout, re.M), p.stdout
        if tpm:
            assert re.search(r"^TPM quote: verified over this report by attestation key "
                             r"sha384 [0-9a-f]{16}\.\.\. \(NOT certified: the platform's TPM "
                             r"is not enrolled\); the measurement log replays to PCRs 12-15; no "
                             r"firmware event log: PCRs 0-11 are not accounted for$",
                             p.stdout, re.M), p.stdout
        else:
            assert re.search(r"^TPM: no quote ", p.stdout, re.M), p.stdout
        assert re.search(r"^claims \(unbacked, the report's own word\): key protection dev, "
                         r"launch mode dev, debug none$", p.stdout, re.M), p.stdout

        p = attest(pf.port, "--json", "--save-report", os.path.join(d, "report.bin"))
        expect(p, EXIT_VERIFIED, r'"result"', "attest --json")
        doc = json.loads(p.stdout)
        assert doc["result"] == "verified", doc
        assert doc["platform_id"] == "custos-dev", doc
        assert doc["dev"] is True and doc["identity"] == "tcb-sign-dev", doc
        if tpm:
            assert doc["dev_reasons"] == ["dev-identity", "dev-claimed",
                                          "tpm-key-uncertified"], doc
            assert doc["tpm"]["quote_verified"] is True and doc["tpm"]["ak_certified"] is False
            assert doc["tpm"]["pcr_mask"] == 0xffff, doc["tpm"]
            check_quote_with_tpm2_checkquote(d, os.path.join(d, "report.bin"))
        else:
            assert doc["dev_reasons"] == ["no-tpm-quote", "dev-identity", "dev-claimed"], doc
            assert doc["tpm"] is None, doc
        with open(REFERENCE) as f:
            ref = json.load(f)
        assert len(doc["measurements"]) == len(ref["measurements"]), (doc, ref)
        check_log_with_tpm2_eventlog(d, os.path.join(d, "report.bin"), ref)

        # A development platform is not accepted by default.
        p = attest(pf.port, allow_dev=False)
        expect(p, EXIT_FAILED, r"FAILED: platform is DEV: .*signed by a development TCB "
               r"identity.*--allow-dev", "attest without --allow-dev")

        # Reference values of some other build: the first difference is named.
        ref["measurements"][3]["sha384"] = "00" * 48
        other = os.path.join(d, "other-reference.json")
        with open(other, "w") as f:
            json.dump(ref, f)
        p = attest(pf.port, reference=other)
        expect(p, EXIT_FAILED, r"FAILED: tpgvm image: reported sha384 [0-9a-f]+\.\. but reference",
               "attest against other reference values")

        # A roll-out reference (the other build's TPGVM and this one's),
        # signed by the CA: the platform matches one of the values, and the
        # signature is checked with --ca's root and said so.
        with open(REFERENCE) as f:
            ref = json.load(f)
        mkreference.merge(ref, other)
        rollout = os.path.join(d, "rollout-reference.json")
        with open(rollout, "w") as f:
            json.dump(ref, f)
        subprocess.run([os.path.join(h.BUILD, "bin", "custos-ca"), "sign-reference",
                        "--dir", PKI, rollout, "--out", rollout + ".sig"],
                       check=True, capture_output=True, timeout=60)
        p = attest(pf.port, "--require-signed-reference", reference=rollout)
        expect(p, EXIT_VERIFIED, r"^reference: .*rollout-reference.json, signed by the CA root",
               "attest against a signed roll-out reference")
        assert re.search(r"^measurements: 5, all match ", p.stdout, re.M), p.stdout


# One backend is enough: impostors and strangers meet the TPGVM's TLS and
# the CLI's checks, the same on both; the VMX platform's report is
# verified by the test above on Bochs.
@h.on("qemu-svm")
def test_attest_refuses_impostors_and_strangers(d, machine):
    # This platform's boot media also carries a boot-module VM.
    with open(HELLO, "rb") as f:
        hello = mkreference.boot_vm_digest(HELLO_CMDLINE.encode(), f.read())
    allow = reference_allowing_hello(d)
    with Platform(d, machine, iso=iso_with_boot_vm(d)) as pf:
        # Against the build's reference (no boot VM allowed): it fails,
        # naming the VM; the summary lists it with its measurement.
        p = attest(pf.port)
        expect(p, EXIT_FAILED, r"^custos attest: FAILED: boot VM 'hello' \(sha384 %s\.\.\) "
               r"runs beside the TPGVM, and the reference allows no boot VM 'hello'$"
               % hello[:16], "attest with an unexpected boot VM")
        assert re.search(r"^boot VMs: 1 beside the TPGVM \(not tenants' VMs\):\n"
                         r"  hello sha384 %s$" % hello, p.stdout, re.M), p.stdout
        # A reference that allows it: verified (DEV), the VM listed.
        p = attest(pf.port, "--json", reference=allow)
        expect(p, EXIT_VERIFIED, r'"result"', "attest with the boot VM allowed")
        doc = json.loads(p.stdout)
        assert doc["boot_vms"] == [{"name": "hello", "sha384": hello}], doc
        assert doc["dev"] is True and doc["measurements_match"] is True, doc
        assert doc["measurements"][-1]["pcr"] == 15, doc

        # A report from this platform, for a nonce of ours, to replay later.
        saved = os.path.join(d, "report.bin")
        p = attest(pf.port, "--save-report", saved, reference=allow)
        expect(p, EXIT_VERIFIED, r"verified", "attest (to save a report)")

        # Man in the middle with its own TLS key: the report is genuine and
        # answers our nonce, but vouches for the TPGVM's key, not the MITM's.
        mitm = Mitm(d, pf.port)
        mitm.start()
        p = attest(mitm.port, reference=allow)
        mitm.join(SOCK_TIMEOUT)
        assert not mitm.errors, mitm.errors
        assert mitm.answers and mitm.answers[0][4:6] == struct.pack("<H", ATTEST_RESP)
        expect(p, EXIT_FAILED, r"FAILED: report vouches for another TLS key",
               "attest through a TLS-terminating MITM")

        # The earlier report replayed to a new nonce.
        with open(saved, "rb") as f:
            report = f.read()
        replay = Mitm(d, pf.port, replay=PROTO_HDR.pack(len(report), ATTEST_RESP, 0) + report)
        replay.start()
        p = attest(replay.port, reference=allow)
        replay.join(SOCK_TIMEOUT)
        assert not replay.errors, replay.errors
        expect(p, EXIT_FAILED, r"FAILED: report answers another nonce",
               "attest answered with a replayed report")

        # A tenant certificate from a CA the platform's policy does not list.
        ca = os.path.join(d, "other-ca")
        run = lambda *a: subprocess.run([os.path.join(h.BUILD, "bin", "custos-ca")] + list(a),
                                        check=True, capture_output=True, timeout=60)
        run("init", "--dir", ca, "--cn", "Some other CA")
        run("issue", "--dir", ca, "--role", "tenant", "--cn", "mallory",
            "--out", os.path.join(d, "mallory"))
        args = [CUSTOS, "attest", "--relay", "127.0.0.1:%d" % pf.port,
                "--ca", os.path.join(PKI, "root.pem"),
                "--cert", os.path.join(d, "mallory.pem"),
                "--key", os.path.join(d, "mallory.key"),
                "--reference", allow, "--allow-dev", "--timeout", str(CLI_TIMEOUT)]
        p = subprocess.run(args, capture_output=True, text=True, timeout=CLI_TIMEOUT + 30)
        expect(p, EXIT_REFUSED, r"REFUSED: .*unknown_ca", "attest with an unknown CA's certificate")

        # And the real platform still serves the legitimate tenant.
        expect(attest(pf.port, tenant="bob", reference=allow), EXIT_VERIFIED, r"verified",
               "attest as bob")


# One backend is enough: what a tampering relay meets is TLS and the
# report's signature, the same on both; the real platform's report on VMX
# is verified by the tests above on Bochs.
@h.on("qemu-svm")
def test_attest_detects_a_tampering_relay(d, machine):
    with Platform(d, machine) as pf:
        integrity = r"FAILED: TLS channel integrity failure"
        for mode, reason in (("flip", integrity + r".*bad record MAC"),
                             ("drop", integrity + r" in the TLS handshake"),
                             ("replay", integrity)):
            t = Tamperer(pf.port, mode)
            t.start()
            p = attest(t.port)
            t.join(SOCK_TIMEOUT)
            assert not t.errors, (mode, t.errors)
            assert t.done, "%s: the tamperer never acted" % mode
            expect(p, EXIT_FAILED, reason, "attest through a relay that does '%s'" % mode)

        # A relay that takes the connection and then says nothing: the CLI
        # gives up within its timeout (exit 2), it does not hang.
        silent = socket.create_server(("127.0.0.1", 0))
        try:
            start = time.monotonic()
            args = [CUSTOS, "attest", "--relay", "127.0.0.1:%d" % silent.getsockname()[1],
                    "--ca", os.path.join(PKI, "root.pem"),
                    "--cert", os.path.join(PKI, "tenant-alice.pem"),
                    "--key", os.path.join(PKI, "tenant-alice.key"),
                    "--reference", REFERENCE, "--allow-dev", "--timeout", "3"]
            p = subprocess.run(args, capture_output=True, text=True, timeout=60)
            took = time.monotonic() - start
            expect(p, EXIT_ERROR, r"ERROR: timed out", "attest against a silent relay")
            assert took < 30, "took %.1f s with --timeout 3" % took
        finally:
            silent.close()

        # The platform is unharmed: a clean attestation still succeeds.
        expect(attest(pf.port), EXIT_VERIFIED, r"verified", "attest after the tampering")
