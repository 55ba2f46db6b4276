"""A saved report, later and offline: `custos verify REPORT` and `custos
report show REPORT` (docs/tenant-cli.md) on reports `custos attest
--save-report` saved from fake-tpgvm (tests/tools/fake-tpgvm.c). verify
runs attest's own verification, so its verdicts, reasons and exit statuses
are attest's: the same report and nonce verified, another nonce, another
CA, a flipped or cut byte, a DEV platform without --allow-dev, a reference
it does not match, all refused with attest's words; files it cannot read
and bad usage exit 2. report show prints the report's parts and its
measurement log, and writes that log as a TCG file that tpm2_eventlog
reads event for event."""
import json
import os
import re
import subprocess

import harness as h
from test_attest_host import (CUSTOS, ERROR, FAILED, PKI, REFERENCE, VERIFIED, Fake,
                              attest, expect)

CA = os.path.join(h.BUILD, "bin", "custos-ca")
ROOT = os.path.join(PKI, "root.pem")
NONCE = "5a" * 48


def saved(d, mode="ok", name="report.bin", *extra):
    """A report from fake-tpgvm in mode, as custos attest saved it (for the
    nonce NONCE), and attest's own run."""
    path = os.path.join(d, name)
    with Fake(d, mode) as f:
        p = attest(f.relay, "--nonce-hex", NONCE, "--save-report", path, *extra)
    assert os.path.exists(path), p.stderr
    return path, p


def verify(report, *extra, ca=ROOT, nonce=NONCE, reference=REFERENCE):
    args = [CUSTOS, "verify", report]
    if ca:
        args += ["--ca", ca]
    if nonce:
        args += ["--nonce", nonce]
    if reference:
        args += ["--reference", reference]
    env = {k: v for k, v in os.environ.items() if not k.startswith("CUSTOS_")}
    return subprocess.run(args + list(extra), capture_output=True, text=True, timeout=60,
                          env=env)


def stderr_reason(p, prog):
    assert p.stderr.startswith(prog + ": "), p.stderr
    return p.stderr[len(prog) + 2:]


def read(path):
    with open(path, "rb") as fh:
        return fh.read()


def write(path, data):
    with open(path, "wb") as fh:
        fh.write(data)
    return path


def test_verify_saved_report_as_attest_does(d):
    report, live = saved(d, "ok", "report.bin", "--allow-dev")
    expect(live, VERIFIED)
    p = expect(verify(report, "--allow-dev"), VERIFIED)
    assert p.stderr == "", p.stderr
    assert re.search(r"^custos verify: VERIFIED \(DEV platform, accepted with --allow-dev\)$",
                     p.stdout, re.M), p.stdout
    # Every line but the first and the TLS key's is attest's own.
    same = lambda out: [l for l in out.splitlines()  # noqa: E731
                        if not l.startswith(("custos ", "TLS key:"))]
    assert same(p.stdout) == same(live.stdout), (p.stdout, live.stdout)
    assert re.search(r"^TLS key: sha384 [0-9a-f]{96}, the one the report vouches for "
                     r"\(not checked: a saved report has no connection", p.stdout, re.M)
    assert "nonce: " + NONCE in p.stdout and "measurements: 5, all match" in p.stdout
    out = json.loads(expect(verify(report, "--allow-dev", "--json"), VERIFIED).stdout)
    assert out["result"] == "verified" and out["nonce"] == NONCE, out
    assert out["relay"] is None and out["tls_key_match"] is None, out
    assert out["measurements_match"] is True and out["dev"] is True, out
    assert re.fullmatch(r"[0-9a-f]{96}", out["tls_key_sha384"]), out

    # DEV without --allow-dev: refused as attest refuses it, word for word.
    dev_live = attest_dev(d)
    p = expect(verify(report), FAILED)
    assert stderr_reason(p, "custos verify") == stderr_reason(dev_live, "custos attest")
    # The nonce the tenant gives is what the report must answer.
    p = expect(verify(report, "--allow-dev", nonce="5b" + NONCE[2:]), FAILED,
               r"^custos verify: FAILED: report answers another nonce")
    # Without --reference the log is shown, not compared.
    p = expect(verify(report, "--allow-dev", reference=None), VERIFIED)
    assert "measurements: 5, NOT compared (no --reference)" in p.stdout, p.stdout


def attest_dev(d):
    with Fake(d, "ok") as f:
        return expect(attest(f.relay), FAILED, r"FAILED: platform is DEV")


def test_verify_refuses_what_attest_refuses(d):
    report, _ = saved(d, "ok", "report.bin", "--allow-dev")
    data = read(report)
    # Another CA: a fresh root.
    ok = subprocess.run([CA, "init", "--dir", os.path.join(d, "other"), "--cn", "Other"],
                        capture_output=True, text=True, timeout=60)
    assert ok.returncode == 0, ok.stderr
    expect(verify(report, "--allow-dev", ca=os.path.join(d, "other", "root.pem")), FAILED,
           r"^custos verify: FAILED: report signed by a certificate from another CA")
    # A flipped byte in the signature, in the platform id, a cut report.
    sig = bytearray(data)
    sig[-5] ^= 1
    expect(verify(write(os.path.join(d, "sig.bin"), bytes(sig)), "--allow-dev"), FAILED,
           r"^custos verify: FAILED: report signature does not verify")
    expect(verify(write(os.path.join(d, "cut.bin"), data[:-1]), "--allow-dev"), FAILED,
           r"^custos verify: FAILED: malformed report: ")
    expect(verify(write(os.path.join(d, "junk.bin"), b"not a report"), "--allow-dev"),
           FAILED, r"^custos verify: FAILED: malformed report: ")
    # A report of another platform: the reference names the difference.
    other, live = saved(d, "other-platform", "other.bin", "--allow-dev")
    expect(live, FAILED)
    p = expect(verify(other, "--allow-dev"), FAILED,
               r'^custos verify: FAILED: platform id: reported "other-platform" but '
               r'reference says "custos-dev"')
    assert stderr_reason(p, "custos verify") == stderr_reason(live, "custos attest")


def test_verify_usage_and_files(d):
    report, _ = saved(d, "ok", "report.bin", "--allow-dev")
    expect(verify(os.path.join(d, "missing.bin"), "--allow-dev"), ERROR,
           r"^custos verify: ERROR: cannot read report ")
    expect(verify(report, "--allow-dev", nonce=None), ERROR, r"needs --nonce HEX")
    expect(verify(report, "--allow-dev", nonce="abc"), ERROR, r"--nonce wants 32\.\.64 bytes")
    expect(verify(report, "--allow-dev", ca=None), ERROR, r"needs --ca")
    expect(verify(report, "--allow-dev", ca=os.path.join(d, "none.pem")), ERROR,
           r"^custos verify: ERROR: CA root ")
    expect(verify(report, "--allow-dev", reference=write(os.path.join(d, "ref.json"),
                                                         b"{}")), ERROR,
           r"^custos verify: ERROR: reference .* is not valid")
    big = write(os.path.join(d, "big.bin"), bytes(70000))
    expect(verify(big, "--allow-dev"), ERROR, r"larger than a report can be")
    p = subprocess.run([CUSTOS, "verify"], capture_output=True, text=True, timeout=60)
    expect(p, ERROR, r"needs the REPORT file")


def show(*args):
    return subprocess.run([CUSTOS, "report", "show"] + list(args), capture_output=True,
                          text=True, timeout=60)


def test_report_show_and_its_event_log(d):
    report, _ = saved(d, "ok", "report.bin", "--allow-dev")
    with open(REFERENCE) as fh:
        ref = json.load(fh)
    log = os.path.join(d, "log.bin")
    p = expect(show(report, "--eventlog-out", log), VERIFIED)
    out = p.stdout
    assert re.search(r"^report: .*, format 2, \d+ bytes; NOT verified \(custos verify "
                     r"checks it\)$", out, re.M), out
    assert re.search(r"^platform: custos-dev$", out, re.M), out
    assert re.search(r"^claims \(the report's own word\): key protection dev, launch mode "
                     r"dev, debug none$", out, re.M), out
    assert re.search(r"^signed by: CN=.*, role tcb-sign-dev$", out, re.M), out
    assert "nonce: " + NONCE in out and "TPM evidence: none" in out, out
    events = re.findall(r"^ +(\d+)  PCR (\d+) +(\S+) +sha384:([0-9a-f]{96})  (.*)$", out, re.M)
    assert [(int(pcr), t, dig, desc) for _, pcr, t, dig, desc in events] == \
        [(m["pcr"], m["type"], m["sha384"], m["description"]) for m in ref["measurements"]], out
    # The log file is the signed log's bytes: inside the report, whole.
    data = read(log)
    assert data[:4] == bytes(4) and data in read(report), len(data)
    assert re.search(r"^wrote .*log\.bin \(measurement log, TCG format, %d bytes\)$"
                     % len(data), out, re.M), out
    # tpm2-tools is one of make deps' packages (the Makefile's DEB_PACKAGES).
    t = subprocess.run(["tpm2_eventlog", log], capture_output=True, text=True, timeout=60)
    assert t.returncode == 0, t.stderr
    assert re.findall(r'^  PCRIndex: (\d+)$', t.stdout, re.M) == \
        ["0"] + [str(m["pcr"]) for m in ref["measurements"]], t.stdout
    assert re.findall(r'^    Digest: "([0-9a-f]+)"$', t.stdout, re.M) == \
        [m["sha384"] for m in ref["measurements"]], t.stdout
    assert re.findall(r'^      "(.*)\\0"$', t.stdout, re.M) == \
        [m["description"] for m in ref["measurements"]], t.stdout
    # Never overwritten; nothing written for a malformed report.
    expect(show(report, "--eventlog-out", log), ERROR, r"refusing to overwrite")
    assert read(log) == data
    cut = write(os.path.join(d, "cut.bin"), read(report)[:-1])
    expect(show(cut, "--eventlog-out", os.path.join(d, "l2.bin")), FAILED,
           r"^custos report show: FAILED: .* is not a well-formed platform report")
    assert not os.path.exists(os.path.join(d, "l2.bin"))
    expect(show(report, "--firmware-eventlog-out", os.path.join(d, "fw.bin")), FAILED,
           r"carries no firmware event log")
    expect(show(os.path.join(d, "missing.bin")), ERROR, r"cannot read report")
    big = write(os.path.join(d, "big.bin"), bytes(70000))
    expect(show(big), ERROR, r"larger than a report can be")
    expect(show(), ERROR, r"needs the REPORT file")


def test_report_show_tpm_evidence(d):
    """The unit test's sample reports (tests/unit/test_report.c --write):
    one with TPM evidence whose firmware log is a placeholder."""
    w = subprocess.run([os.path.join(h.BUILD, "tests", "test_report"), "--write", d],
                       capture_output=True, text=True, timeout=60)
    assert w.returncode == 0, w.stderr
    p = expect(show(os.path.join(d, "tpm_evidence.rpt")), VERIFIED)
    assert re.search(r"^TPM evidence: a quote over PCRs 0,1,2,3,4,5,6,7,8,9,10,11,12,13,14,15 "
                     r"\(SHA-384\), attestation key \d+ bytes", p.stdout, re.M), p.stdout
    assert re.search(r"^firmware event log: 10 bytes, malformed$", p.stdout, re.M), p.stdout
    fw = os.path.join(d, "fw.bin")
    expect(show(os.path.join(d, "tpm_evidence.rpt"), "--firmware-eventlog-out", fw), FAILED,
           r"^custos report show: FAILED: the report's firmware event log is malformed")
    assert not os.path.exists(fw)
    p = expect(show(os.path.join(d, "dev_mirror.rpt")), VERIFIED)
    assert "debug console-mirror" in p.stdout and "role tcb-sign\n" in p.stdout, p.stdout
