"""`custos attest` on the host, without an emulator: against fake-tpgvm
(tests/tools/fake-tpgvm.c), a stand-in TPGVM that speaks the real TLS
profile and tenant protocol and signs reports with the development TCB key,
and that can misbehave on purpose. It is also the forger of docs/report.md
("Claims and evidence"): holding only the boot media's key and certificate
modules, it claims TPM keys, a DRTM launch and no debug option, and must
never be VERIFIED without --allow-dev (nor with a production-role
certificate: no TPM quote backs it). Each case checks the CLI's exit status
(docs/tenant-cli.md: 0 verified, 1 failed, 2 could not run, 3 refused, 4 not
a Custos relay) and
its reason, in human and --json form; a stalled server must give exit 2
within --timeout; bad usage and unreadable files exit 2 before any network
traffic."""
import json
import os
import re
import subprocess
import sys
import time

import harness as h

sys.path.insert(0, os.path.join(h.ROOT, "tools"))
import mkreference  # noqa: E402  (the reference's own digest of a boot VM)

CUSTOS = os.path.join(h.BUILD, "bin", "custos")
FAKE = os.path.join(h.BUILD, "test-tools", "fake-tpgvm")
PKI = os.path.join(h.BUILD, "pki")
REFERENCE = os.path.join(h.BUILD, "reference.json")

VERIFIED, FAILED, ERROR, REFUSED, NOT_CUSTOS = 0, 1, 2, 3, 4


class Fake:
    """fake-tpgvm in one mode on an ephemeral port, killed on exit; extra:
    more fake-tpgvm arguments."""

    def __init__(self, d, mode="ok", count=1, reference=REFERENCE, extra=()):
        self.err_path = os.path.join(d, "fake-%s.err" % mode)
        self.proc = subprocess.Popen(
            [FAKE, "--pki", PKI, "--reference", reference, "--mode", mode,
             "--count", str(count)] + list(extra),
            stdout=subprocess.PIPE, stderr=open(self.err_path, "w"), text=True,
            start_new_session=True)
        h._live_groups.add(self.proc.pid)
        line = self.proc.stdout.readline()
        m = re.match(r"port (\d+)$", line.strip())
        assert m, "fake-tpgvm did not start: %r %s" % (line, open(self.err_path).read())
        self.relay = "127.0.0.1:%s" % m.group(1)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        h._kill_group(self.proc.pid)
        self.proc.wait(timeout=10)


def attest(relay, *extra, cert="tenant-alice", timeout=20, reference=REFERENCE,
           wall=60):
    args = [CUSTOS, "attest", "--relay", relay, "--ca", os.path.join(PKI, "root.pem"),
            "--cert", os.path.join(PKI, cert + ".pem"),
            "--key", os.path.join(PKI, cert + ".key"), "--timeout", str(timeout)]
    if reference:
        args += ["--reference", reference]
    start = time.monotonic()
    p = subprocess.run(args + list(extra), capture_output=True, text=True, timeout=wall)
    p.seconds = time.monotonic() - start
    return p


def expect(p, status, pattern=None):
    assert p.returncode == status, "exit %d, want %d\nstdout: %s\nstderr: %s" % (
        p.returncode, status, p.stdout, p.stderr)
    if pattern:
        assert re.search(pattern, p.stderr), "stderr %r does not match /%s/" % (
            p.stderr, pattern)
    return p


def case(d, mode, status, pattern, *extra, **kw):
    with Fake(d, mode) as f:
        p = attest(f.relay, "--allow-dev", *extra, **kw)
        expect(p, status, pattern)
        assert p.stderr.startswith("custos attest: "), p.stderr
        return p


def test_attest_host_verifies(d):
    with Fake(d, "ok", count=2) as f:
        p = expect(attest(f.relay, "--allow-dev"), VERIFIED)
        assert p.stderr == "", p.stderr
        assert re.search(r"^custos attest: VERIFIED \(DEV platform, accepted with "
                         r"--allow-dev\)$", p.stdout, re.M), p.stdout
        assert re.search(r"^platform: custos-dev$", p.stdout, re.M), p.stdout
        assert re.search(r"^DEV: no TPM quote backs the report's claims; signed by a "
                         r"development TCB identity \(tcb-sign-dev: its keys are on the boot "
                         r"media\); the report itself says dev keys or a dev launch$",
                         p.stdout, re.M), p.stdout
        assert re.search(r"^claims \(unbacked, the report's own word\): key protection dev, "
                         r"launch mode dev, debug none$", p.stdout, re.M), p.stdout
        assert re.search(r"^measurements: 5, all match ", p.stdout, re.M), p.stdout
        assert re.search(r"^reference: .*reference.json, UNSIGNED \(no .*reference.json.sig\)",
                         p.stdout, re.M), p.stdout
        assert re.search(r"^TLS key: sha384 [0-9a-f]{96}", p.stdout, re.M), p.stdout
        # --json, a fixed nonce, the report saved as received.
        saved = os.path.join(d, "report.bin")
        nonce = "ab" * 40
        p = expect(attest(f.relay, "--allow-dev", "--json", "--nonce-hex", nonce,
                          "--save-report", saved), VERIFIED)
    out = json.loads(p.stdout)
    with open(REFERENCE) as fh:
        ref = json.load(fh)
    assert out["result"] == "verified" and out["exit_status"] == 0, out
    assert out["nonce"] == nonce and out["platform_id"] == "custos-dev", out
    assert out["dev"] is True and out["identity"] == "tcb-sign-dev", out
    assert out["dev_reasons"] == ["no-tpm-quote", "dev-identity", "dev-claimed"], out
    assert out["claims"] == {"key_protection": "dev", "launch_mode": "dev", "debug": [],
                             "backed_by_evidence": False}, out
    assert "key_protection" not in out and "dev_mode" not in out, out
    assert out["reason"].endswith("; DEV platform, accepted with --allow-dev; the reference "
                                  "is UNSIGNED"), out
    assert out["reference_signature"] == "unsigned", out
    assert out["allow_dev"] is True and out["tls_key_match"] is True, out
    assert re.fullmatch(r"[0-9a-f]{96}", out["tls_key_sha384"]), out
    assert out["measurements_match"] is True, out
    assert [(m["pcr"], m["type"], m["description"], m["sha384"]) for m in out["measurements"]] \
        == [(m["pcr"], m["type"], m["description"], m["sha384"]) for m in ref["measurements"]], out
    with open(saved, "rb") as fh:
        report = fh.read()
    assert report[:8] == b"CUSTRPT1" and bytes.fromhex(nonce) in report


def test_attest_host_dev_mode(d):
    # The development platform without --allow-dev: authentic, but DEV (exit 1).
    with Fake(d, "ok") as f:
        p = expect(attest(f.relay, "--json"), FAILED,
                   r"^custos attest: FAILED: platform is DEV: no TPM quote backs the "
                   r"report's claims; signed by a development TCB identity .*; refused "
                   r"without allow-dev; use --allow-dev to accept a development platform$")
    out = json.loads(p.stdout)
    assert out["result"] == "failed" and "--allow-dev" in out["reason"], out
    assert out["dev"] is True and out["platform_id"] == "custos-dev", out


def test_attest_host_forged_claims_are_dev(d):
    # A host process with the boot media's key and certificate modules
    # claims TPM keys, a DRTM launch and no debug option: never VERIFIED
    # without --allow-dev; the claims are shown only as unbacked claims.
    with Fake(d, "claims-production") as f:
        p = expect(attest(f.relay), FAILED,
                   r"^custos attest: FAILED: platform is DEV: no TPM quote backs the "
                   r"report's claims; signed by a development TCB identity \(tcb-sign-dev")
        assert "VERIFIED" not in p.stdout, p.stdout
        assert re.search(r"^DEV: no TPM quote backs the report's claims; signed by a "
                         r"development TCB identity", p.stdout, re.M), p.stdout
        assert re.search(r"^claims \(unbacked, the report's own word\): key protection tpm, "
                         r"launch mode drtm, debug none$", p.stdout, re.M), p.stdout
    with Fake(d, "claims-production") as f:
        p = expect(attest(f.relay, "--json"), FAILED)
    out = json.loads(p.stdout)
    assert out["result"] == "failed" and out["exit_status"] == 1, out
    assert out["dev"] is True and out["dev_reasons"] == ["no-tpm-quote", "dev-identity"], out
    assert out["claims"] == {"key_protection": "tpm", "launch_mode": "drtm", "debug": [],
                             "backed_by_evidence": False}, out
    # With --allow-dev it is accepted, as DEV, in both forms.
    with Fake(d, "claims-production", count=2) as f:
        p = expect(attest(f.relay, "--allow-dev"), VERIFIED)
        assert p.stdout.startswith("custos attest: VERIFIED (DEV platform, accepted with "
                                   "--allow-dev)\n"), p.stdout
        assert re.search(r"^DEV: no TPM quote", p.stdout, re.M), p.stdout
        out = json.loads(expect(attest(f.relay, "--allow-dev", "--json"), VERIFIED).stdout)
        assert out["result"] == "verified" and out["dev"] is True, out
        assert "DEV platform" in out["reason"], out
    # Even a production-role certificate (as if its key had leaked) is DEV:
    # nothing its holder cannot forge backs the claims.
    with Fake(d, "production-identity") as f:
        p = expect(attest(f.relay, "--json"), FAILED,
                   r"^custos attest: FAILED: platform is DEV: no TPM quote backs the "
                   r"report's claims; refused without allow-dev")
    out = json.loads(p.stdout)
    assert out["identity"] == "tcb-sign" and out["dev_reasons"] == ["no-tpm-quote"], out
    # Debug options add their reason.
    with Fake(d, "debug") as f:
        expect(attest(f.relay), FAILED, r"platform is DEV: .*; debug options are on; refused")
    with Fake(d, "debug") as f:
        p = expect(attest(f.relay, "--allow-dev", "--json"), VERIFIED)
    out = json.loads(p.stdout)
    assert out["claims"]["debug"] == ["console-mirror"], out
    assert "debug-options" in out["dev_reasons"], out


def test_attest_host_report_failures(d):
    case(d, "wrong-nonce", FAILED, r"FAILED: report answers another nonce")
    p = case(d, "other-tls-key", FAILED,
             r"FAILED: report vouches for another TLS key than the one this connection uses",
             "--json")
    assert json.loads(p.stdout)["tls_key_match"] is False, p.stdout
    case(d, "wrong-signer", FAILED, r"FAILED: .*not a TCB-signing certificate")
    case(d, "bad-report", FAILED, r"FAILED: malformed report: report truncated")
    case(d, "bad-message", FAILED, r"FAILED: malformed message from the platform")


def test_attest_host_reference_mismatch(d):
    case(d, "bad-digest", FAILED,
         r"FAILED: tpgvm image: reported sha384 [0-9a-f]{16}\.\. but reference says [0-9a-f]{16}\.\.")
    case(d, "other-platform", FAILED,
         r"FAILED: platform id: reported \"other-platform\" but reference says \"custos-dev\"")
    case(d, "missing-event", FAILED, r"\"tpgvm policy\" \(measurement 5\) is missing")
    case(d, "extra-event", FAILED, r"\"surprise guest\" \(measurement 6\) is not in the reference")
    # Without --reference the log is shown, not compared.
    with Fake(d, "bad-digest") as f:
        p = expect(attest(f.relay, "--allow-dev", "--json", reference=None), VERIFIED)
    out = json.loads(p.stdout)
    assert out["measurements_match"] is None and out["reference"] is None, out
    assert "not compared" in out["reason"], out


def boot_vm_reference(d, digest):
    """build/reference.json, allowing the boot VM 'intruder' with digest."""
    with open(REFERENCE) as fh:
        ref = json.load(fh)
    ref["boot_vms"] = [{"name": "intruder", "sha384": digest}]
    path = os.path.join(d, "allow-intruder.json")
    with open(path, "w") as fh:
        json.dump(ref, fh)
    return path


def test_attest_host_boot_vms(d):
    # A boot-module VM in the signed log: shown with its measurement, and a
    # failure naming it unless the reference allows it, wherever it sits.
    want = mkreference.boot_vm_digest(b"vm.intruder mem=2M", b"an administrator's VM")
    for mode in ("boot-vm", "boot-vm-early"):
        p = case(d, mode, FAILED,
                 r"FAILED: boot VM 'intruder' \(sha384 %s\.\.\) runs beside the TPGVM, "
                 r"and the reference allows no boot VM 'intruder'$" % want[:16])
        assert re.search(r"^boot VMs: 1 beside the TPGVM \(not tenants' VMs\):\n"
                         r"  intruder sha384 %s$" % want, p.stdout, re.M), p.stdout
        allow = boot_vm_reference(d, want)
        with Fake(d, mode) as f:
            p = expect(attest(f.relay, "--allow-dev", "--json", reference=allow), VERIFIED)
        out = json.loads(p.stdout)
        assert out["boot_vms"] == [{"name": "intruder", "sha384": want}], out
        assert out["measurements_match"] is True and len(out["measurements"]) == 6, out
        # Allowed by name, with another digest: refused, both digests named.
        other = boot_vm_reference(d, "00" * 48)
        case(d, mode, FAILED, r"FAILED: boot VM 'intruder': reported sha384 %s\.\. but the "
             r"reference allows it only as 0{16}\.\.$" % want[:16], reference=other)
    # Without boot VMs the summary says so.
    with Fake(d, "ok") as f:
        p = expect(attest(f.relay, "--allow-dev"), VERIFIED)
    assert "boot VMs: none (no VM beside the TPGVM but tenants' own)\n" in p.stdout, p.stdout


def ca(*args):
    p = subprocess.run([os.path.join(h.BUILD, "bin", "custos-ca")] + list(args),
                       capture_output=True, text=True, timeout=60)
    assert p.returncode == 0, "custos-ca %s: %s%s" % (" ".join(args), p.stdout, p.stderr)
    return p


def copy_reference(d, name, change=lambda ref: None):
    with open(REFERENCE) as fh:
        ref = json.load(fh)
    change(ref)
    path = os.path.join(d, name)
    with open(path, "w") as fh:
        json.dump(ref, fh, indent=1)
    return path


def test_attest_host_signed_reference(d):
    # Signed by the CA: verified with --ca's root before anything in it is used.
    signed = copy_reference(d, "signed.json")
    ca("sign-reference", "--dir", PKI, signed, "--out", signed + ".sig")
    with Fake(d, "ok", count=2) as f:
        p = expect(attest(f.relay, "--allow-dev", reference=signed), VERIFIED)
        assert re.search(r"^reference: .*signed.json, signed by the CA root \(.*signed.json.sig "
                         r"verified\)$", p.stdout, re.M), p.stdout
        p = expect(attest(f.relay, "--allow-dev", "--json", "--require-signed-reference",
                          reference=signed), VERIFIED)
        out = json.loads(p.stdout)
        assert out["reference_signature"] == "verified" and "UNSIGNED" not in out["reason"], out
    # Whatever is wrong with a signature, the reference is refused before
    # any traffic (the fake serves one run, after all of them).
    other_ca = os.path.join(d, "other-ca")
    ca("init", "--dir", other_ca, "--cn", "Other CA")
    by_other = copy_reference(d, "by-other.json")
    ca("sign-reference", "--dir", other_ca, by_other, "--out", by_other + ".sig")
    changed = copy_reference(d, "changed.json")
    ca("sign-reference", "--dir", PKI, changed, "--out", changed + ".sig")
    with open(changed, "a") as fh:
        fh.write(" ")
    garbage = copy_reference(d, "garbage.json")
    with open(garbage + ".sig", "wb") as fh:
        fh.write(b"not a signature")
    unsigned = copy_reference(d, "unsigned.json")
    with Fake(d, "ok") as f:
        for ref, pattern in [
                (by_other, r"the signature is not by this CA root's key"),
                (changed, r"the signature is of another reference file"),
                (garbage, r"not a reference signature")]:
            expect(attest(f.relay, "--allow-dev", reference=ref), FAILED,
                   r"^custos attest: FAILED: reference '%s' refused: its signature '%s.sig' "
                   r"does not verify with the CA root '.*root.pem': %s" % (ref, ref, pattern))
        # The same bytes under another name carry the same signature; other
        # bytes do not, whichever file the signature is taken from.
        expect(attest(f.relay, "--allow-dev", "--reference-sig", signed + ".sig",
                      reference=changed), FAILED, r"signature '.*signed.json.sig' does not "
               r"verify .*another reference file")
        expect(attest(f.relay, "--allow-dev", "--reference-sig", os.path.join(d, "none.sig"),
                      reference=unsigned), ERROR, r"cannot read reference signature")
        expect(attest(f.relay, "--allow-dev", "--require-signed-reference", reference=unsigned),
               FAILED, r"FAILED: reference '.*unsigned.json' is unsigned \(no "
               r"'.*unsigned.json.sig'\), and --require-signed-reference was given")
        expect(attest(f.relay, "--allow-dev", reference=unsigned), VERIFIED)


def test_attest_host_several_accepted_values(d):
    # A roll-out: mkreference --accept-also merges an older build's values;
    # the platform matches if it has any of them.
    old = copy_reference(d, "old.json", lambda ref: ref["measurements"][3].update(
        sha384="11" * 48))
    with open(REFERENCE) as fh:
        both = json.load(fh)
    mkreference.merge(both, old)
    real = both["measurements"][3]["sha384"][0]
    assert both["measurements"][3]["sha384"] == [real, "11" * 48], both
    assert all(isinstance(m["sha384"], str) for i, m in enumerate(both["measurements"]) if i != 3)
    path = os.path.join(d, "both.json")
    with open(path, "w") as fh:
        json.dump(both, fh)
    # The fake logs the reference's first value: the older one first, then.
    with open(os.path.join(d, "old-first.json"), "w") as fh:
        json.dump(dict(both, measurements=[dict(m, sha384=list(reversed(m["sha384"])))
                                           if isinstance(m["sha384"], list) else m
                                           for m in both["measurements"]]), fh)
    for served in (path, os.path.join(d, "old-first.json")):
        with Fake(d, "ok", reference=served) as f:
            expect(attest(f.relay, "--allow-dev", reference=path), VERIFIED)
    case(d, "bad-digest", FAILED, r"FAILED: tpgvm image: reported sha384 [0-9a-f]{16}\.\. but "
         r"reference says one of %s\.\., 1{16}\.\.$" % real[:16], reference=path)
    # Another platform's reference is not merged.
    other = copy_reference(d, "other.json", lambda ref: ref.update(platform_id="elsewhere"))
    try:
        mkreference.merge(json.load(open(REFERENCE)), other)
        raise AssertionError("merged another platform's values")
    except mkreference.RefError as e:
        assert "platform id 'elsewhere'" in str(e), e
    # The launch's kernel digest too (a platform still booting the old
    # custos.elf); not a launch with another kernel path.
    kold = copy_reference(d, "kold.json", lambda ref: ref["launch"].update(
        kernel_sha384="22" * 48))
    merged = json.load(open(REFERENCE))
    mkreference.merge(merged, kold)
    real_k = json.load(open(REFERENCE))["launch"]["kernel_sha384"]
    assert merged["launch"]["kernel_sha384"] == [real_k, "22" * 48], merged["launch"]
    kpath = copy_reference(d, "kpath.json", lambda ref: ref["launch"].update(
        kernel="/boot/other.elf"))
    try:
        mkreference.merge(json.load(open(REFERENCE)), kpath)
        raise AssertionError("merged another kernel path")
    except mkreference.RefError as e:
        assert "another kernel path" in str(e), e
    # Nor one whose events are not this build's.
    fewer = copy_reference(d, "fewer.json", lambda ref: ref["measurements"].pop())
    try:
        mkreference.merge(json.load(open(REFERENCE)), fewer)
        raise AssertionError("merged another build's events")
    except mkreference.RefError as e:
        assert "are not this build's events" in str(e), e


def test_attest_host_channel(d):
    # Tampering the TLS layer sees: exit 1.
    case(d, "tamper", FAILED, r"FAILED: TLS channel integrity failure .*bad record MAC")
    # Bytes that are not TLS at all, before any record: not a Custos relay
    # (exit 4; tests/integration/test_operator.py has a real HTTP server).
    case(d, "garbage", NOT_CUSTOS, r"ERROR: the peer at 127\.0\.0\.1:\d+ did not answer as a "
         r"Custos relay \(not TLS: it began 'HTTP/1\.0 400 Bad Request'\)")
    # The platform refuses us: exit 3.
    case(d, "reject-cert", REFUSED, r"REFUSED: the platform refused our credentials .*unknown_ca")
    p = case(d, "ok", REFUSED, r"REFUSED: the platform refused our credentials",
             cert="station")
    case(d, "proto-error", REFUSED,
         r"REFUSED: the platform answered with an error \(busy, code 3\): try again later")
    # Could not finish: exit 2.
    case(d, "close", ERROR, r"ERROR: the connection closed")


def test_attest_host_timeouts(d):
    for mode, pattern in (("stall", r"ERROR: timed out in the TLS handshake"),
                          ("stall-answer", r"ERROR: timed out waiting for the platform's answer")):
        p = case(d, mode, ERROR, pattern, timeout=3)
        assert 2.5 < p.seconds < 6, "%s: took %.1f s with --timeout 3" % (mode, p.seconds)
    # Nobody listening: exit 2 at once.
    with Fake(d, "ok") as f:
        relay = f.relay
    expect(attest(relay, "--allow-dev"), ERROR, r"cannot connect to 127\.0\.0\.1:\d+")


def test_attest_host_usage_and_files(d):
    root = os.path.join(PKI, "root.pem")
    alice = [os.path.join(PKI, "tenant-alice.pem"), os.path.join(PKI, "tenant-alice.key")]

    def run(*args):
        return subprocess.run([CUSTOS] + list(args), capture_output=True, text=True,
                              timeout=30)

    expect(run(), ERROR, r"no command")
    expect(run("frobnicate"), ERROR, r"unknown command")
    p = run("--help")
    assert p.returncode == 0 and "attest" in p.stdout
    p = run("attest", "--help")
    assert p.returncode == 0 and "Exit status" in p.stdout
    expect(run("attest"), ERROR, r"needs --relay")
    expect(run("attest", "--relay", "x:1", "--ca", root, "--cert", alice[0]), ERROR,
           r"needs --key")
    expect(run("attest", "--relay", "nocolon", "--ca", root, "--cert", alice[0],
               "--key", alice[1]), ERROR, r"HOST:PORT")
    expect(run("attest", "--relay", "x:1", "--ca", root, "--cert", alice[0],
               "--key", alice[1], "--timeout", "0"), ERROR, r"--timeout")
    expect(run("attest", "--relay", "x:1", "--ca", root, "--cert", alice[0],
               "--key", alice[1], "--nonce-hex", "abcd"), ERROR, r"--nonce-hex")
    expect(run("attest", "--relay", "x:1", "--ca", root, "--cert", alice[0],
               "--key", alice[1], "--bogus"), ERROR, r"unknown option")
    with Fake(d, "ok") as f:
        base = ["attest", "--relay", f.relay, "--allow-dev"]
        expect(run(*base, "--ca", "/nonexistent.pem", "--cert", alice[0], "--key", alice[1]),
               ERROR, r"CA root '/nonexistent.pem'")
        expect(run(*base, "--ca", root, "--cert", "/nonexistent.pem", "--key", alice[1]),
               ERROR, r"certificate '/nonexistent.pem'")
        expect(run(*base, "--ca", root, "--cert", alice[0], "--key", "/nonexistent.key"),
               ERROR, r"cannot read key '/nonexistent.key'")
        expect(run(*base, "--ca", root, "--cert", alice[0],
                   "--key", os.path.join(PKI, "tenant-bob.key")),
               ERROR, r"does not belong to certificate")
        bad_ref = os.path.join(d, "bad.json")
        with open(bad_ref, "w") as fh:
            fh.write('{"format": "custos-reference-1", "platform_id": "x"')
        expect(run(*base, "--ca", root, "--cert", alice[0], "--key", alice[1],
                   "--reference", bad_ref), ERROR, r"reference '.*bad.json' is not valid")
        expect(run(*base, "--ca", root, "--cert", alice[0], "--key", alice[1],
                   "--reference", "/nonexistent.json"), ERROR, r"cannot read reference")
        expect(run(*base, "--ca", root, "--cert", alice[0], "--key", alice[1],
                   "--save-report", REFERENCE), ERROR, r"refusing to overwrite")
        # None of those reached the fake; it still serves a good run.
        expect(attest(f.relay, "--allow-dev"), VERIFIED)


def test_attest_host_never_prints_the_key(d):
    with open(os.path.join(PKI, "tenant-alice.key")) as fh:
        key_pem = fh.read()
    body = "".join(l for l in key_pem.splitlines() if not l.startswith("-----"))
    with Fake(d, "ok") as f:
        p = attest(f.relay, "--allow-dev", "--json")
    for chunk in (body[i:i + 16] for i in range(0, len(body) - 16, 16)):
        assert chunk not in p.stdout and chunk not in p.stderr
