"""Tenant onboarding without shared private keys (docs/pki.md, "Tenant
onboarding"): `custos enroll` makes the tenant's key (0600) and a PKCS#10
request for the tenant role; `custos-ca sign-csr` checks the request and
issues the certificate, which openssl verifies and with which the tenant
attests a platform (fake-tpgvm); the CA's outputs hold no private key. The
two tools print the same key fingerprint as openssl computes. Requests the
policy refuses (another name, another role, a broken signature, another
key type, garbage, oversize) are refused with one line, exit 1, nothing
written; an interrupted enroll or sign-csr leaves nothing and the retry
works."""
import os
import re
import stat
import subprocess

import harness as h
from test_attest_host import CUSTOS, PKI, VERIFIED, Fake, expect
from test_ca_interrupt import interrupted_then_retried, listing

CA = os.path.join(h.BUILD, "bin", "custos-ca")
ARC = "2.25.112316499844282042489265998744696497416"


def run(args, cwd=None):
    return subprocess.run(args, capture_output=True, text=True, timeout=60, cwd=cwd)


def ok(args, cwd=None):
    p = run(args, cwd)
    assert p.returncode == 0, "%s: exit %d\n%s%s" % (" ".join(args), p.returncode,
                                                    p.stdout, p.stderr)
    return p.stdout


def refused(args, pattern, status=1):
    p = run(args)
    assert p.returncode == status, "%s: exit %d\n%s%s" % (" ".join(args), p.returncode,
                                                          p.stdout, p.stderr)
    assert re.search(pattern, p.stderr.splitlines()[0]), p.stderr
    assert len(p.stderr.splitlines()) == (2 if status == 2 else 1), p.stderr
    return p


def fingerprint(text):
    m = re.search(r"^tenant key: sha384 ([0-9a-f]{96})", text, re.M)
    assert m, text
    return m.group(1)


def openssl_fingerprint(key):
    der = subprocess.run(["openssl", "pkey", "-in", key, "-pubout", "-outform", "DER"],
                         capture_output=True, timeout=60, check=True).stdout
    import hashlib
    return hashlib.sha384(der).hexdigest()


def test_enroll_and_sign_csr_issue_a_working_tenant_certificate(d):
    p = lambda *a: os.path.join(d, *a)  # noqa: E731
    os.mkdir(p("tenant"))
    os.mkdir(p("ca-out"))
    out = ok([CUSTOS, "enroll", "--cn", "carol", "--out", p("tenant", "carol")])
    assert stat.S_IMODE(os.stat(p("tenant", "carol.key")).st_mode) == 0o600
    csr = open(p("tenant", "carol.csr")).read()
    assert csr.startswith("-----BEGIN CERTIFICATE REQUEST-----"), csr
    text = ok(["openssl", "req", "-in", p("tenant", "carol.csr"), "-noout", "-text",
               "-verify"])
    assert "Subject: CN = carol" in text and "%s.4" % ARC in text, text
    assert "ecdsa-with-SHA384" in text and "P-384" in text, text
    fpr = fingerprint(out)
    assert fpr == openssl_fingerprint(p("tenant", "carol.key"))
    # The CA signs it with the development PKI's root (the fake TPGVM's).
    signed = ok([CA, "sign-csr", p("tenant", "carol.csr"), "--dir", PKI, "--cn", "carol",
                 "--out", p("ca-out", "carol")])
    assert fingerprint(signed) == fpr, signed
    assert sorted(os.listdir(p("ca-out"))) == ["carol.der", "carol.pem"]
    for f in os.listdir(p("ca-out")):
        assert b"PRIVATE KEY" not in open(p("ca-out", f), "rb").read()
    ok(["openssl", "verify", "-CAfile", os.path.join(PKI, "root.pem"), p("ca-out", "carol.pem")])
    cert = ok(["openssl", "x509", "-in", p("ca-out", "carol.pem"), "-noout", "-text"])
    assert "%s.4" % ARC in cert and "CA:FALSE" in cert and "CN = carol" in cert, cert
    # The certificate is for the tenant's own key ...
    pub = lambda args: subprocess.run(args, capture_output=True, timeout=60,  # noqa: E731
                                      check=True).stdout
    assert pub(["openssl", "x509", "-in", p("ca-out", "carol.pem"), "-noout", "-pubkey"]) == \
        pub(["openssl", "pkey", "-in", p("tenant", "carol.key"), "-pubout"])
    # ... and the TPGVM takes it: the tenant attests with it.
    with Fake(d, "ok") as f:
        a = subprocess.run([CUSTOS, "attest", "--relay", f.relay, "--ca",
                            os.path.join(PKI, "root.pem"), "--cert", p("ca-out", "carol.pem"),
                            "--key", p("tenant", "carol.key"), "--allow-dev",
                            "--timeout", "20"], capture_output=True, text=True, timeout=60)
    expect(a, VERIFIED)


def test_sign_csr_refuses_what_its_policy_does_not_allow(d):
    p = lambda *a: os.path.join(d, *a)  # noqa: E731
    ok([CA, "init", "--dir", p("ca"), "--cn", "Test CA"])
    ok([CUSTOS, "enroll", "--cn", "carol", "--out", p("carol")])
    sign = lambda csr, cn="carol": [CA, "sign-csr", csr, "--dir", p("ca"), "--cn", cn,  # noqa
                                    "--out", p("out")]
    before = listing(d)
    refused(sign(p("carol.csr"), "dave"),
            r"^custos-ca: certificate request '.*' refused: it names CN=carol, not CN=dave")
    # Another role, asked for by a request openssl made.
    def openssl_csr(name, eku, curve="secp384r1", md="sha384"):
        args = ["openssl", "req", "-new", "-newkey", "ec", "-pkeyopt",
                "ec_paramgen_curve:" + curve, "-nodes", "-keyout", p(name + ".k"),
                "-subj", "/CN=carol", "-" + md, "-out", p(name + ".csr")]
        if eku:
            args += ["-addext", "extendedKeyUsage=" + eku]
        ok(args)
        return p(name + ".csr")
    refused(sign(openssl_csr("st", ARC + ".1")),
            r"refused: the request asks for the role signing-station: sign-csr issues tenant")
    refused(sign(openssl_csr("tcb", ARC + ".2")),
            r"refused: the request asks for the role TCB-signing")
    refused(sign(openssl_csr("none", None)), r"refused: the request asks for no role")
    refused(sign(openssl_csr("p256", ARC + ".4", curve="prime256v1")),
            r"refused: the request's key is not a P-384 EC key")
    # A request altered after it was signed.
    der = subprocess.run(["openssl", "req", "-in", p("carol.csr"), "-outform", "DER"],
                         capture_output=True, timeout=60, check=True).stdout
    bad = bytearray(der)
    bad[-3] ^= 1
    open(p("bad.csr"), "wb").write(bytes(bad))
    refused(sign(p("bad.csr")), r"refused: the request's self-signature does not verify")
    open(p("junk.csr"), "wb").write(b"hello")
    refused(sign(p("junk.csr")), r"refused: not a PKCS#10 certificate request")
    open(p("big.csr"), "wb").write(bytes(5000))
    refused(sign(p("big.csr")), r"certificate request '.*' is 5000 bytes, more than the 4096")
    refused(sign(p("missing.csr")), r"cannot read certificate request '.*missing\.csr'")
    refused([CA, "sign-csr", "--dir", p("ca"), "--cn", "carol", "--out", p("out")],
            r"sign-csr needs the CSR file first", status=2)
    refused([CA, "sign-csr", p("carol.csr"), "--dir", p("ca"), "--out", p("out")],
            r"sign-csr needs --cn", status=2)
    refused([CA, "sign-csr", p("carol.csr"), "--dir", p("ca"), "--cn", "carol",
             "--role", "station", "--out", p("out")], r"does not take --role", status=2)
    made = set(listing(d)) - set(before)
    assert not [f for f in made if f.startswith("out")], made
    # Outputs are never overwritten.
    ok(sign(p("carol.csr")))
    refused(sign(p("carol.csr")), r"refusing to overwrite existing file '.*out\.pem'")


def test_enroll_usage_and_files(d):
    p = lambda *a: os.path.join(d, *a)  # noqa: E731
    refused([CUSTOS, "enroll", "--out", p("x")], r"needs --cn", status=2)
    refused([CUSTOS, "enroll", "--cn", "x"], r"needs --out", status=2)
    refused([CUSTOS, "enroll", "--cn", "a,b", "--out", p("x")], r"bad CN", status=2)
    assert listing(d) == {}
    open(p("x.csr"), "w").write("mine")
    refused([CUSTOS, "enroll", "--cn", "x", "--out", p("x")],
            r"refusing to overwrite existing file '.*x\.csr'")
    assert sorted(listing(d)) == ["x.csr"]


def test_enroll_and_sign_csr_interrupted_leave_nothing(d):
    made = interrupted_then_retried(d, [CUSTOS, "enroll", "--cn", "erin", "--out",
                                        os.path.join(d, "erin")], 2)
    assert made == ["erin.csr", "erin.key"], made
    ca = os.path.join(d, "ca")
    ok([CA, "init", "--dir", ca, "--cn", "Test CA"])
    made = interrupted_then_retried(d, [CA, "sign-csr", os.path.join(d, "erin.csr"), "--dir",
                                        ca, "--cn", "erin", "--out",
                                        os.path.join(d, "erin-cert")], 2)
    assert made == ["erin-cert.der", "erin-cert.pem"], made
