"""The host tools, end to end (no emulator): custos-ca issues a root and
certificates for every role that `openssl verify` accepts, with 0600 keys and
no overwriting, TCB identities as development ones (issue-tcb --dev) or,
with enroll, for TPM-resident keys its attestation key certified;
custos-station packages a TPGVM into an envelope that `inspect` describes
and verifies and that `open` (the TCB's own code) opens, for a development
TCB only with --allow-dev, and `open` refuses plaintext keys with a
production-role certificate as the TCB does; any flipped byte, truncation
or bad input is refused with one clear line and a non-zero exit status."""
import hashlib
import os
import re
import stat
import struct
import subprocess

import harness as h

BIN = os.path.join(h.BUILD, "bin")
CA = os.path.join(BIN, "custos-ca")
STATION = os.path.join(BIN, "custos-station")

# docs/envelope.md, "Layout".
OFF_VERSION, OFF_CERT_LEN, OFF_PAYLOAD_LEN = 8, 12, 16
OFF_FPR, OFF_EPH, OFF_IV, OFF_CERT = 20, 68, 165, 177
TAG_LEN, SIG_LEN = 16, 96


def run(args, cwd=None):
    return subprocess.run(args, capture_output=True, text=True, timeout=60, cwd=cwd)


def ok(args, cwd=None):
    p = run(args, cwd)
    assert p.returncode == 0, "%s failed (%d): %s%s" % (
        " ".join(args), p.returncode, p.stdout, p.stderr)
    return p.stdout


def refused(args, pattern, status=1, cwd=None):
    """The command fails with 'status' and one stderr line matching pattern
    (usage errors add a second line pointing to --help)."""
    p = run(args, cwd)
    assert p.returncode == status, "%s: exit %d, want %d\nstdout: %s\nstderr: %s" % (
        " ".join(args), p.returncode, status, p.stdout, p.stderr)
    lines = p.stderr.strip("\n").split("\n")
    want_lines = 2 if status == 2 else 1
    assert len(lines) == want_lines, "%s: want %d stderr line(s), got %r" % (
        " ".join(args), want_lines, p.stderr)
    assert re.search(pattern, lines[0]), "%s: stderr %r does not match /%s/" % (
        " ".join(args), lines[0], pattern)
    return p


def mode(path):
    return stat.S_IMODE(os.stat(path).st_mode)


def read(path):
    with open(path, "rb") as f:
        return f.read()


def write(path, data):
    with open(path, "wb") as f:
        f.write(data)
    return path


def tiny_elf(path):
    """A static x86-64 ELF with one R+X segment at 1 MiB whose entry is a
    hlt: what the station's image check accepts."""
    code = b"\xf4"
    ehdr = b"\x7fELF" + bytes([2, 1, 1]) + bytes(9)
    ehdr += struct.pack("<HHIQQQIHHHHHH", 2, 62, 1, 0x100078, 64, 0, 0, 64, 56, 1, 0, 0, 0)
    phdr = struct.pack("<IIQQQQQQ", 1, 5, 0, 0x100000, 0x100000, 0x79, 0x1000, 0x1000)
    return write(path, ehdr + phdr + code)


def pki(d):
    """Root 'ca' with a station, a tenant, a TPGVM TLS server and TCBs
    tcb1, tcb2; a second root 'ca2' (the tenants' CA, and a foreign CA with
    its own station and TCB)."""
    p = lambda *a: os.path.join(d, *a)
    ok([CA, "init", "--dir", p("ca"), "--cn", "Custos test CA"])
    ok([CA, "issue", "--dir", p("ca"), "--role", "station", "--cn", "station one",
        "--out", p("station")])
    ok([CA, "issue", "--dir", p("ca"), "--role", "tenant", "--cn", "alice",
        "--out", p("alice")])
    ok([CA, "issue", "--dir", p("ca"), "--role", "tpgvm-tls", "--cn", "tpgvm",
        "--out", p("tls")])
    ok([CA, "issue-tcb", "--dev", "--dir", p("ca"), "--cn", "node1", "--out", p("tcb1")])
    ok([CA, "issue-tcb", "--dev", "--dir", p("ca"), "--cn", "node2", "--out", p("tcb2")])
    ok([CA, "init", "--dir", p("ca2"), "--cn", "Tenant CA"])
    ok([CA, "issue", "--dir", p("ca2"), "--role", "station", "--cn", "rogue station",
        "--out", p("rogue")])
    ok([CA, "issue-tcb", "--dev", "--dir", p("ca2"), "--cn", "node1", "--out", p("rogue-tcb")])
    tiny_elf(p("tpgvm.elf"))
    return p


def package(p, out, station="station", tcb="tcb1-kex.pem", extra=(), allow_dev=True):
    """The TCBs of pki() are development ones: --allow-dev unless told not."""
    return [STATION, "package", "--station-key", p(station + ".key"),
            "--station-cert", p(station + ".pem"), "--tcb-cert", p(tcb),
            "--image", p("tpgvm.elf"), "--platform-id", "rack7-node1",
            "--tenant-ca", p("ca2", "root.pem"), "--out", p(out)] + \
        (["--allow-dev"] if allow_dev else []) + list(extra)


def open_cmd(p, env, tcb="tcb1", ca="ca"):
    return [STATION, "open", p(env), "--ca", p(ca, "root.der"),
            "--tcb-keys", p(tcb + "-keys.bin"), "--tcb-certs", p(tcb + "-certs.bin")]


# ---- custos-ca ----------------------------------------------------------------

def test_ca_issues_every_role_openssl_verifies(d):
    p = pki(d)
    root = p("ca", "root.pem")
    for leaf in ("station", "alice", "tls", "tcb1-sign", "tcb1-kex", "tcb2-kex"):
        out = ok(["openssl", "verify", "-CAfile", root, p(leaf + ".pem")])
        assert out.strip() == "%s: OK" % p(leaf + ".pem"), out
    # A leaf of one CA does not verify under the other.
    v = run(["openssl", "verify", "-CAfile", p("ca2", "root.pem"), p("station.pem")])
    assert v.returncode != 0
    # The role is the extendedKeyUsage OID under the Custos arc; the TCB's
    # are the development roles (.6, .7), never the production ones.
    arc = "2.25.112316499844282042489265998744696497416"
    for leaf, n in (("station", 1), ("tcb1-sign", 6), ("tcb1-kex", 7), ("alice", 4),
                    ("tls", 5)):
        text = ok(["openssl", "x509", "-in", p(leaf + ".pem"), "-noout", "-text"])
        assert "%s.%d" % (arc, n) in text, "%s lacks role .%d:\n%s" % (leaf, n, text)
        assert "CA:FALSE" in text
        if leaf.startswith("tcb"):
            assert "%s.2" % arc not in text and "%s.3" % arc not in text, text
    text = ok(["openssl", "x509", "-in", root, "-noout", "-text"])
    assert "CA:TRUE" in text and "Custos test CA" in text
    # PEM and DER hold the same certificate.
    ok(["openssl", "x509", "-in", p("station.pem"), "-outform", "DER", "-out",
        p("station.check.der")])
    assert read(p("station.check.der")) == read(p("station.der"))


def test_ca_key_permissions(d):
    p = pki(d)
    for key in ("ca/root.key", "station.key", "alice.key", "tls.key", "tcb1-sign.key",
                "tcb1-kex.key", "tcb1-keys.bin"):
        assert mode(p(key)) == 0o600, "%s has mode %o" % (key, mode(p(key)))
    for pub in ("ca/root.pem", "ca/root.der", "station.pem", "tcb1-kex.pem",
                "tcb1-certs.bin"):
        assert mode(p(pub)) & 0o077 in (0o044, 0o004, 0o040, 0), "%s: %o" % (pub, mode(p(pub)))
    assert mode(p("ca")) == 0o700
    # openssl reads the keys (SEC1 PEM) and they match the certificates.
    for name in ("station", "tcb1-kex"):
        k = ok(["openssl", "pkey", "-in", p(name + ".key"), "-pubout"])
        c = ok(["openssl", "x509", "-in", p(name + ".pem"), "-noout", "-pubkey"])
        assert k == c


def test_ca_tcb_modules(d):
    p = pki(d)
    keys = read(p("tcb1-keys.bin"))
    assert len(keys) == 108 and keys[:8] == b"CUSTKEY1"
    assert struct.unpack("<I", keys[8:12])[0] == 1
    # The scalars are the private keys of the two certificates.
    for off, name in ((12, "tcb1-sign"), (60, "tcb1-kex")):
        text = ok(["openssl", "ec", "-in", p(name + ".key"), "-noout", "-text"])
        hexpriv = "".join(re.search(r"priv:\s*\n((?:\s+[0-9a-f:]+\n)+)", text)
                          .group(1).split()).replace(":", "")
        assert int(hexpriv, 16) == int.from_bytes(keys[off:off + 48], "big"), name
    certs = read(p("tcb1-certs.bin"))
    assert certs[:8] == b"CUSTCRT1" and struct.unpack("<I", certs[8:12])[0] == 1
    n1 = struct.unpack("<I", certs[12:16])[0]
    n2 = struct.unpack("<I", certs[16 + n1:20 + n1])[0]
    assert certs[16:16 + n1] == read(p("tcb1-sign.der"))
    assert certs[20 + n1:] == read(p("tcb1-kex.der")) and len(certs) == 20 + n1 + n2


def test_ca_refuses_to_overwrite(d):
    p = pki(d)
    before = {f: read(p(f)) for f in ("ca/root.key", "ca/root.pem", "station.key",
                                      "tcb1-kex.key", "tcb1-keys.bin")}
    refused([CA, "init", "--dir", p("ca"), "--cn", "again"],
            r"^custos-ca: refusing to overwrite existing file '.*/ca/root\.key'$")
    refused([CA, "issue", "--dir", p("ca"), "--role", "station", "--cn", "again",
             "--out", p("station")],
            r"refusing to overwrite existing file '.*station\.key'")
    refused([CA, "issue-tcb", "--dev", "--dir", p("ca"), "--cn", "again", "--out", p("tcb1")],
            r"refusing to overwrite existing file '.*tcb1-sign\.key'")
    for f, data in before.items():
        assert read(p(f)) == data, "%s changed" % f
    # One existing output is enough to refuse, and nothing else is written.
    write(p("tcb3-certs.bin"), b"placeholder")
    refused([CA, "issue-tcb", "--dev", "--dir", p("ca"), "--cn", "n3", "--out", p("tcb3")],
            r"refusing to overwrite existing file '.*tcb3-certs\.bin'")
    assert sorted(f for f in os.listdir(d) if f.startswith("tcb3")) == ["tcb3-certs.bin"]
    # Nor is a symlink where a key would go followed.
    os.symlink(p("victim"), p("link.key"))
    refused([CA, "issue", "--dir", p("ca"), "--role", "tenant", "--cn", "x",
             "--out", p("link")], r"refusing to overwrite existing file '.*link\.key'")
    assert not os.path.exists(p("victim"))


def test_ca_sign_reference(d):
    """sign-reference signs only what the tenant CLI reads, never
    overwrites, and checks its usage (the signature itself: test_attest_host
    and tests/unit/test_reference_sig.c)."""
    p = lambda *a: os.path.join(d, *a)
    ok([CA, "init", "--dir", p("ca"), "--cn", "Reference CA"])
    ref = p("reference.json")
    with open(ref, "w") as f:
        f.write('{"format": "custos-reference-1", "platform_id": "x", "measurements": []}\n')
    out = ok([CA, "sign-reference", "--dir", p("ca"), ref, "--out", ref + ".sig"])
    assert re.search(r"^reference: .*reference.json \(platform id \"x\", 0 measurements, "
                     r"0 boot VMs\), sha384 [0-9a-f]{96}$", out, re.M), out
    with open(ref + ".sig", "rb") as f:
        sig = f.read()
    assert len(sig) == 156 and sig[:12] == b"CUSTRSG1\x01\0\0\0", sig[:12]
    assert oct(os.stat(ref + ".sig").st_mode & 0o777) == "0o644"
    refused([CA, "sign-reference", "--dir", p("ca"), ref, "--out", ref + ".sig"],
            r"refusing to overwrite existing file")
    bad = p("bad.json")
    with open(bad, "w") as f:
        f.write('{"format": "custos-reference-1", "platform_id": "x"}')
    refused([CA, "sign-reference", "--dir", p("ca"), bad, "--out", p("bad.sig")],
            r"'.*bad.json' is not a valid reference, not signed: the reference lacks "
            r"\"measurements\"")
    assert not os.path.exists(p("bad.sig"))
    refused([CA, "sign-reference", "--dir", p("ca"), p("none.json"), "--out", p("n.sig")],
            r"cannot read reference '.*none.json'")
    refused([CA, "sign-reference", "--dir", p("no-ca"), ref, "--out", p("n.sig")],
            r"CA root")
    refused([CA, "sign-reference", "--dir", p("ca"), "--out", p("n.sig")],
            r"sign-reference needs a REFERENCE file", status=2)
    refused([CA, "sign-reference", "--dir", p("ca"), ref], r"sign-reference needs --out",
            status=2)
    refused([CA, "sign-reference", "--dir", p("ca"), ref, ref, "--out", p("n.sig")],
            r"unexpected argument", status=2)
    refused([CA, "sign-reference", "--dir", p("ca"), ref, "--out", p("n.sig"), "--cn", "x"],
            r"sign-reference does not take --cn", status=2)
    refused([CA, "approve", "--dir", p("ca"), ref, "--out", p("n.sig")],
            r"unexpected argument", status=2)


def test_ca_usage_and_errors(d):
    p = lambda *a: os.path.join(d, *a)
    refused([CA], r"no command", status=2)
    refused([CA, "frobnicate"], r"unknown command 'frobnicate'", status=2)
    refused([CA, "init", "--dir", p("x")], r"init needs --cn", status=2)
    refused([CA, "init", "--cn", "x"], r"init needs --dir", status=2)
    refused([CA, "init", "--dir", p("x"), "--cn", "x", "--bogus"], r"unknown option '--bogus'",
            status=2)
    refused([CA, "init", "--dir", p("x"), "--cn", "x", "--days", "0"], r"--days", status=2)
    refused([CA, "init", "--dir", p("x"), "--cn", "x" * 65], r"--cn must be 1\.\.64", status=2)
    refused([CA, "init", "--dir", p("x"), "--cn", "bad\tname"], r"printable", status=2)
    refused([CA, "issue", "--dir", p("x"), "--role", "tcb-kex", "--cn", "x", "--out", p("o")],
            r"use 'custos-ca issue-tcb --dev'", status=2)
    refused([CA, "issue", "--dir", p("x"), "--role", "tcb-sign-dev", "--cn", "x",
             "--out", p("o")], r"use 'custos-ca issue-tcb --dev'", status=2)
    refused([CA, "issue", "--dev", "--dir", p("x"), "--role", "tenant", "--cn", "x",
             "--out", p("o")], r"issue does not take --dev", status=2)
    refused([CA, "issue", "--dir", p("x"), "--role", "admin", "--cn", "x", "--out", p("o")],
            r"unknown role 'admin'", status=2)
    # No CA there: a clear failure, nothing written.
    refused([CA, "issue", "--dir", p("nothere"), "--role", "tenant", "--cn", "x",
             "--out", p("o")], r"cannot read CA root key '.*nothere/root\.key': No such file")
    assert not os.path.exists(p("o.key"))
    help_text = ok([CA, "--help"])
    for word in ("init", "issue", "issue-tcb", "station", "tenant", "tpgvm-tls", "0600",
                 "--dev", "tcb-sign-dev", "enroll", "tcb-ak", "--ek-ca"):
        assert word in help_text, word


def test_ca_issues_no_production_tcb_identity(d):
    # Production TCB identities are certified by enroll, from the TPM's
    # evidence: issue-tcb without --dev refuses, and writes nothing.
    p = lambda *a: os.path.join(d, *a)
    ok([CA, "init", "--dir", p("ca"), "--cn", "Custos test CA"])
    refused([CA, "issue-tcb", "--dir", p("ca"), "--cn", "node1", "--out", p("tcb")],
            r"^custos-ca: issue-tcb issues development TCB identities only, with --dev: "
            r"production TCB identities are certified by 'custos-ca enroll', "
            r"for keys that never leave the platform's TPM$")
    assert sorted(os.listdir(d)) == ["ca"], os.listdir(d)


# ---- custos-ca enroll, with evidence made here ------------------------------------
#
# The report is the real one from OVMF + swtpm (tests/unit/data), whose
# attestation key's point is replaced by a software key's and whose TPM
# evidence gets the TCB keys field: two points and TPMS_ATTESTs of
# TPM2_Certify signed by that key. The policy, the templates and the Names
# are computed here from the TPM specification, independently of the C
# code (tcb/tpm2_tcb_key.c, tcb/tpm2_authorize.c). The EK chain is a test
# CA's. Nothing is ever activated: that takes a TPM (test_tpm.py).

REPORT = os.path.join(h.ROOT, "tests", "unit", "data", "report-ovmf-swtpm.rpt")
RPT_OFF_LENS, RPT_FIXED_LEN, RPT_SIG_LEN = 72, 92, 96  # include/custos/report.h
TCB_SIGN_ATTRS, TCB_AGREE_ATTRS = 0x00040032, 0x00020032
ALG_ECDSA, ALG_ECDH, ALG_SHA384, ALG_NULL, ALG_ECC, CURVE_P384 = \
    0x18, 0x19, 0x0C, 0x10, 0x23, 0x04
RH_ENDORSEMENT, RH_OWNER = 0x4000000B, 0x40000001


def sha384(*parts):
    return hashlib.sha384(b"".join(parts)).digest()


def tpm2b(data):
    return struct.pack(">H", len(data)) + data


def p384_point(key):
    from cryptography.hazmat.primitives import serialization
    return key.public_key().public_bytes(serialization.Encoding.X962,
                                         serialization.PublicFormat.UncompressedPoint)


def ecc_area(attrs, policy, scheme, point):
    """TPMT_PUBLIC of an ECC P-384 key with nameAlg SHA-384, no symmetric
    algorithm and no KDF; its Name."""
    area = struct.pack(">HHI", ALG_ECC, ALG_SHA384, attrs) + tpm2b(policy)
    area += struct.pack(">HHHHH", ALG_NULL, scheme, ALG_SHA384, CURVE_P384, ALG_NULL)
    area += tpm2b(point[1:49]) + tpm2b(point[49:])
    return b"\x00\x0c" + sha384(area)


def ca_policy(root_pem):
    """PolicyAuthorize(the CA root's key as LoadExternal names it,
    "custos-tcb-key"), as a trial session computes it."""
    from cryptography import x509
    point = p384_point(x509.load_pem_x509_certificate(read(root_pem)))
    signer = ecc_area(0x00040040, b"", ALG_ECDSA, point)
    d = sha384(bytes(48), struct.pack(">I", 0x16A), signer)
    return sha384(d, b"custos-tcb-key")


def certify_attest(name, hierarchy=RH_ENDORSEMENT, extra=b""):
    """TPMS_ATTEST of TPM2_Certify of the primary named name."""
    qn = b"\x00\x0c" + sha384(struct.pack(">I", hierarchy), name)
    return (struct.pack(">IH", 0xFF544347, 0x8017) + tpm2b(b"\x00\x0c" + bytes(48)) +
            tpm2b(extra) + bytes(17) + bytes(8) + tpm2b(name) + tpm2b(qn))


def ecdsa_sign(key, data):
    from cryptography.hazmat.primitives import hashes
    from cryptography.hazmat.primitives.asymmetric import ec, utils
    r, s = utils.decode_dss_signature(key.sign(data, ec.ECDSA(hashes.SHA384())))
    return r.to_bytes(48, "big") + s.to_bytes(48, "big")


def take(buf, off):
    n = struct.unpack("<I", buf[off:off + 4])[0]
    return off + 4 + n


def report_with_keys(ak, keys_field, ak_cert=b""):
    """The real report with ak's point in its AK, ak_cert as its AK
    certificate and keys_field (None: no TCB keys field) at the end of its
    TPM evidence."""
    rpt = bytearray(read(REPORT))
    lens = struct.unpack("<5I", rpt[RPT_OFF_LENS:RPT_FIXED_LEN])
    ev = RPT_FIXED_LEN + sum(lens[:4])
    end = ev + lens[4]
    point = p384_point(ak)
    # TPMT_PUBLIC at ev + 4: x at 22, y at 72 (tools/tpm_credential.c)
    rpt[ev + 4 + 22:ev + 4 + 70] = point[1:49]
    rpt[ev + 4 + 72:ev + 4 + 120] = point[49:]
    off = take(rpt, take(rpt, ev))                   # AK, quote
    mask = struct.unpack("<I", rpt[off + 96:off + 100])[0]
    off += 100 + 48 * bin(mask).count("1")            # signature, mask, values
    for _ in range(2):                                # firmware log, EK cert
        off = take(rpt, off)
    evidence = bytes(rpt[ev:off]) + struct.pack("<I", len(ak_cert)) + ak_cert
    if keys_field is not None:
        evidence += struct.pack("<I", len(keys_field)) + keys_field
    out = bytes(rpt[:RPT_OFF_LENS + 16]) + struct.pack("<I", len(evidence))
    return out + bytes(rpt[RPT_FIXED_LEN:ev]) + evidence + bytes(rpt[end:])


def tcb_key_entry(ak, point, name, **attest_opts):
    attest = certify_attest(name, **attest_opts)
    return point + struct.pack("<I", len(attest)) + attest + ecdsa_sign(ak, attest)


def ek_chain(d):
    """A test EK CA and an EK certificate from it in the TCG shape: RSA
    2048, e = 65537, keyEncipherment."""
    import datetime
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import rsa
    now = datetime.datetime(2020, 1, 1)
    later = datetime.datetime(9999, 12, 31)
    ca_key = rsa.generate_private_key(65537, 2048)
    ek_key = rsa.generate_private_key(65537, 2048)
    ca_name = x509.Name([x509.NameAttribute(x509.NameOID.COMMON_NAME, "test EK CA")])
    ca = (x509.CertificateBuilder().subject_name(ca_name).issuer_name(ca_name)
          .public_key(ca_key.public_key()).serial_number(1)
          .not_valid_before(now).not_valid_after(later)
          .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
          .sign(ca_key, hashes.SHA256()))
    ek = (x509.CertificateBuilder().subject_name(x509.Name([])).issuer_name(ca_name)
          .public_key(ek_key.public_key()).serial_number(2)
          .not_valid_before(now).not_valid_after(later)
          .add_extension(x509.KeyUsage(False, False, True, False, False, False, False,
                                       False, False), critical=True)
          .sign(ca_key, hashes.SHA256()))
    write(os.path.join(d, "ekca.pem"), ca.public_bytes(serialization.Encoding.PEM))
    write(os.path.join(d, "ek.der"), ek.public_bytes(serialization.Encoding.DER))


def enroll(p, report, out):
    return [CA, "enroll", "--dir", p("ca"), "--report", p(report), "--ek-cert", p("ek.der"),
            "--ek-ca", p("ekca.pem"), "--cn", "node1", "--out", p(out)]


def test_ca_enroll_certifies_tpm_resident_keys(d):
    from cryptography.hazmat.primitives.asymmetric import ec
    p = lambda *a: os.path.join(d, *a)
    ok([CA, "init", "--dir", p("ca"), "--cn", "Custos test CA"])
    ok([CA, "init", "--dir", p("ca2"), "--cn", "Another CA"])
    ek_chain(d)
    ak, other_ak = ec.generate_private_key(ec.SECP384R1()), ec.generate_private_key(ec.SECP384R1())
    sign, agree = p384_point(ec.generate_private_key(ec.SECP384R1())), \
        p384_point(ec.generate_private_key(ec.SECP384R1()))
    policy = ca_policy(p("ca", "root.pem"))
    sign_name = ecc_area(TCB_SIGN_ATTRS, policy, ALG_ECDSA, sign)
    agree_name = ecc_area(TCB_AGREE_ATTRS, policy, ALG_ECDH, agree)
    good = [tcb_key_entry(ak, sign, sign_name), tcb_key_entry(ak, agree, agree_name)]
    # First the AK alone: until the TPM has activated the credential (so
    # the AK is shown to be in the EK's TPM), its certifications of other
    # keys prove nothing, and the TCB keys get no certificates.
    write(p("first.rpt"), report_with_keys(ak, b"".join(good)))
    out = ok(enroll(p, "first.rpt", "n0"))
    assert "not certified: its attestation key has no tcb-ak certificate from this CA" in out, out
    assert sorted(f for f in os.listdir(d) if f.startswith("n0-")) == \
        ["n0-ak.der", "n0-ak.pem", "n0-enroll.bin"]
    # Then from a boot that recovered the AK certificate (here: put in).
    ak_cert = read(p("n0-ak.der"))
    write(p("good.rpt"), report_with_keys(ak, b"".join(good), ak_cert))

    out = ok(enroll(p, "good.rpt", "n1"))
    assert "tcb-sign" in out and "tcb-kex" in out and "not certified" not in out, out
    arc = "2.25.112316499844282042489265998744696497416"
    for name, role, point in (("n1-tcb-sign", ".2", sign), ("n1-tcb-kex", ".3", agree),
                              ("n1-ak", ".8", p384_point(ak))):
        ok(["openssl", "verify", "-CAfile", p("ca", "root.pem"), p(name + ".pem")])
        text = ok(["openssl", "x509", "-in", p(name + ".pem"), "-noout", "-text"])
        assert arc + role in text and "CN = node1" in text, (name, text)
        pub = ok(["openssl", "x509", "-in", p(name + ".pem"), "-noout", "-pubkey"])
        der = subprocess.run(["openssl", "pkey", "-pubin", "-outform", "DER"],
                             input=pub.encode(), capture_output=True, check=True).stdout
        assert der.endswith(point), name
        assert mode(p(name + ".pem")) == 0o644
    certs = read(p("n1-tcb-certs.bin"))
    n1 = struct.unpack("<I", certs[12:16])[0]
    assert certs[:8] == b"CUSTCRT1" and certs[16:16 + n1] == read(p("n1-tcb-sign.der"))
    assert certs[20 + n1:] == read(p("n1-tcb-kex.der"))
    assert not os.path.exists(p("n1-keys.bin")) and not os.path.exists(p("n1-tcb-keys.bin"))

    # A report without the field, or with an empty one: the AK alone, and
    # one line saying so.
    for i, field in enumerate((None, b"")):
        write(p("old%d.rpt" % i), report_with_keys(ak, field, ak_cert))
        out = ok(enroll(p, "old%d.rpt" % i, "old%d" % i))
        assert "the TCB's TPM-resident keys were not certified: the report carries none" \
            in out, out
        assert sorted(f for f in os.listdir(d) if f.startswith("old%d-" % i)) == \
            ["old%d-ak.der" % i, "old%d-ak.pem" % i, "old%d-enroll.bin" % i]

    # Refused whole, nothing written: keys signed by another key, another
    # CA's policy, swapped, a point off the curve, an owner-hierarchy key,
    # qualifying data, a flipped attest byte.
    other_policy = ca_policy(p("ca2", "root.pem"))
    off_curve = sign[:-1] + bytes([sign[-1] ^ 1])
    flipped = bytearray(good[1])
    flipped[97 + 4 + 10] ^= 1
    bad = {
        "other-ak": ([tcb_key_entry(other_ak, sign, sign_name), good[1]],
                     r"signing key: its certification is not signed by the attestation key"),
        "other-ca": ([good[0], tcb_key_entry(
            ak, agree, ecc_area(TCB_AGREE_ATTRS, other_policy, ALG_ECDH, agree))],
            r"key-agreement key is not the Custos key-agreement key usable under "
            r"this CA's approvals: .*attest\.certify\.name is not the key's"),
        "swapped": ([good[1], good[0]], r"signing key is not the Custos signing key"),
        "off-curve": ([tcb_key_entry(ak, off_curve, sign_name), good[1]],
                      r"signing key is not a point on P-384"),
        "owner": ([good[0], tcb_key_entry(ak, agree, agree_name, hierarchy=RH_OWNER)],
                  r"attest\.certify\.qualifiedName is not the key's"),
        "nonce": ([tcb_key_entry(ak, sign, sign_name, extra=b"n" * 16), good[1]],
                  r"attest\.extraData"),
        "flipped": ([good[0], bytes(flipped)], r"key-agreement key: its certification "
                    r"is not signed by the attestation key"),
    }
    for tag, (entries, why) in bad.items():
        write(p(tag + ".rpt"), report_with_keys(ak, b"".join(entries), ak_cert))
        refused(enroll(p, tag + ".rpt", tag), r"^custos-ca: report '.*%s\.rpt': .*%s" % (tag, why))
        assert not [f for f in os.listdir(d) if f.startswith(tag + "-")], tag
    # A key field of one key only does not parse.
    write(p("half.rpt"), report_with_keys(ak, good[0], ak_cert))
    refused(enroll(p, "half.rpt", "half"), r"TCB key")
    # An existing output, even one only the TCB keys need: nothing written.
    write(p("n2-tcb-certs.bin"), b"x")
    refused(enroll(p, "good.rpt", "n2"), r"refusing to overwrite existing file .*n2-tcb-certs")
    assert sorted(f for f in os.listdir(d) if f.startswith("n2-")) == ["n2-tcb-certs.bin"]


# ---- custos-station ------------------------------------------------------------

def test_station_package_inspect_open_round_trip(d):
    p = pki(d)
    out = ok(package(p, "env.bin"))
    fpr = hashlib.sha384(read(p("tcb1-kex.der"))).hexdigest()
    assert re.search(r"^wrote .*env\.bin: \d+ bytes, image 121 bytes, policy \d+ bytes, for TCB %s "
                     r"\(a DEVELOPMENT TCB identity" % fpr, out, re.M), out
    env = read(p("env.bin"))
    cert_len, payload_len = struct.unpack("<II", env[12:20])
    assert env[:8] == b"CUSTENV1" and len(env) == 177 + cert_len + payload_len + 16 + 96
    assert env[OFF_CERT:OFF_CERT + cert_len] == read(p("station.der"))
    # The image is not there in the clear.
    assert read(p("tpgvm.elf")) not in env
    info = ok([STATION, "inspect", p("env.bin")])
    for line in ("format version: 1",
                 "size: %d bytes (header %d, payload %d, tag 16, signature 96)"
                 % (len(env), 177 + cert_len, payload_len),
                 "TCB fingerprint: " + fpr,
                 "station certificate: %d bytes, subject CN=station one, issuer CN=Custos test CA, role station" % cert_len,
                 "station chain: not checked (no --ca)",
                 "signature: valid"):
        assert line in info.splitlines(), "%r not in:\n%s" % (line, info)
    info = ok([STATION, "inspect", p("env.bin"), "--ca", p("ca", "root.pem")])
    assert "station chain: valid (station role, signed by the CA root)" in info
    assert info.rstrip().endswith("signature: valid")
    opened = ok(open_cmd(p, "env.bin") + ["--image-out", p("img"), "--policy-out", p("pol")])
    assert "image: 121 bytes" in opened
    assert 'platform id "rack7-node1", 1 tenant CA certificate' in opened
    assert read(p("img")) == read(p("tpgvm.elf"))
    pol = read(p("pol"))
    assert pol[:8] == b"CUSTPOL1" and read(p("ca2", "root.der")) in pol
    # Two packagings of the same inputs differ (fresh ephemeral key and IV).
    ok(package(p, "env2.bin"))
    assert read(p("env2.bin")) != env and len(read(p("env2.bin"))) == len(env)


def test_station_development_tcb_needs_allow_dev(d):
    p = pki(d)
    fpr = hashlib.sha384(read(p("tcb1-kex.der"))).hexdigest()
    refused(package(p, "env.bin", allow_dev=False),
            r"^custos-station: TCB certificate '.*tcb1-kex\.pem' is a development TCB "
            r"identity \(tcb-kex-dev\): its private keys travel in the clear on the boot "
            r"media, so whoever holds the media can open this envelope; package for it "
            r"only with --allow-dev$")
    assert not os.path.exists(p("env.bin"))
    out = ok(package(p, "env.bin"))
    assert re.search(r"for TCB %s \(a DEVELOPMENT TCB identity, tcb-kex-dev: packaged "
                     r"with --allow-dev; its keys are on the boot media in the clear\)$"
                     % fpr, out, re.M), out
    refused([STATION, "inspect", p("env.bin"), "--allow-dev"],
            r"inspect only takes ENVELOPE and --ca", status=2)


def production_certs(d, sign_key, kex_key, root_pem, root_key):
    """A TCB certificate module for these two keys with the production roles
    (tcb-sign, tcb-kex), signed by the CA root with openssl: what custos-ca
    never issues, and what must never come with a plaintext key module.
    Returns its path (in d)."""
    arc = "2.25.112316499844282042489265998744696497416"
    mod = b"CUSTCRT1" + struct.pack("<I", 1)
    for name, key, role, usage in (("sign", sign_key, 2, "digitalSignature"),
                                   ("kex", kex_key, 3, "keyAgreement")):
        ext, csr, der = (os.path.join(d, "prod-%s.%s" % (name, x)) for x in ("cnf", "csr", "der"))
        write(ext, ("basicConstraints=CA:FALSE\nkeyUsage=%s\nextendedKeyUsage=%s.%d\n"
                    % (usage, arc, role)).encode())
        ok(["openssl", "req", "-new", "-key", key, "-subj", "/CN=node1", "-out", csr])
        ok(["openssl", "x509", "-req", "-in", csr, "-CA", root_pem, "-CAkey", root_key,
            "-set_serial", "9", "-days", "1", "-sha384", "-extfile", ext,
            "-outform", "DER", "-out", der])
        cert = read(der)
        mod += struct.pack("<I", len(cert)) + cert
    return write(os.path.join(d, "tcb-prod-certs.bin"), mod)


def test_open_refuses_production_roles_with_plaintext_keys(d):
    p = pki(d)
    ok(package(p, "env.bin"))
    certs = production_certs(d, p("tcb1-sign.key"), p("tcb1-kex.key"), p("ca", "root.pem"),
                             p("ca", "root.key"))
    args = open_cmd(p, "env.bin")
    args[args.index("--tcb-certs") + 1] = certs
    refused(args, r"TCB identity refused: the TCB signing certificate has the production "
                  r"role TCB-signing, but its private key came in the clear from the boot "
                  r"media: a production TCB identity never travels in the clear")
    # The development pair opens it (the control).
    assert "envelope: opened" in ok(open_cmd(p, "env.bin"))


def test_station_with_ca_checks_chains(d):
    p = pki(d)
    ok(package(p, "env.bin", extra=("--ca", p("ca", "root.pem"))))
    refused(package(p, "e.bin", tcb="rogue-tcb-kex.pem", extra=("--ca", p("ca", "root.pem"))),
            r"TCB certificate '.*rogue-tcb-kex\.pem' is not valid under the CA root: ")
    refused(package(p, "e.bin", station="rogue", extra=("--ca", p("ca", "root.pem"))),
            r"station certificate '.*rogue\.pem' is not valid under the CA root: ")
    assert not os.path.exists(p("e.bin"))
    # inspect --ca with the wrong root: the chain is INVALID, exit 1.
    r = run([STATION, "inspect", p("env.bin"), "--ca", p("ca2", "root.pem")])
    assert r.returncode == 1 and "station chain: INVALID (" in r.stdout, r.stdout + r.stderr
    assert "signature: valid" in r.stdout
    assert r.stderr.strip() == "custos-station: envelope '%s' is INVALID" % p("env.bin")


def flip(data, off):
    b = bytearray(data)
    b[off] ^= 0x01
    return bytes(b)


def test_inspect_detects_every_region_flipped_and_truncation(d):
    p = pki(d)
    ok(package(p, "env.bin"))
    env = read(p("env.bin"))
    cert_len, payload_len = struct.unpack("<II", env[12:20])
    hdr = OFF_CERT + cert_len
    regions = {
        "magic": 0, "version": OFF_VERSION, "cert length": OFF_CERT_LEN,
        "payload length": OFF_PAYLOAD_LEN, "fingerprint": OFF_FPR,
        "fingerprint end": OFF_EPH - 1, "ephemeral key form": OFF_EPH,
        "ephemeral key": OFF_EPH + 40, "IV": OFF_IV, "certificate start": OFF_CERT,
        "certificate body": OFF_CERT + cert_len // 2, "certificate end": hdr - 1,
        "ciphertext": hdr, "ciphertext middle": hdr + payload_len // 2,
        "tag": hdr + payload_len, "tag end": len(env) - SIG_LEN - 1,
        "signature": len(env) - SIG_LEN, "signature end": len(env) - 1,
    }
    for name, off in regions.items():
        path = write(p("flip.bin"), flip(env, off))
        r = run([STATION, "inspect", path])
        assert r.returncode == 1, "%s (byte %d) flipped: exit %d\n%s" % (
            name, off, r.returncode, r.stdout)
        structural = "is not a valid envelope" in r.stderr
        assert structural or "signature: INVALID" in r.stdout or "MALFORMED" in r.stdout, \
            "%s flipped: %s%s" % (name, r.stdout, r.stderr)
        if off in (0, OFF_VERSION, OFF_CERT_LEN, OFF_PAYLOAD_LEN, OFF_EPH, OFF_CERT):
            assert structural, "%s flipped: %s" % (name, r.stderr)
        # The TCB refuses it too.
        o = run(open_cmd(p, "flip.bin"))
        assert o.returncode == 1 and len(o.stderr.strip().splitlines()) == 1, o.stderr
        os.unlink(path)
    for n in (0, 7, 8, 176, 177, hdr, hdr + 1, len(env) - SIG_LEN, len(env) - 1):
        path = write(p("cut.bin"), env[:n])
        refused([STATION, "inspect", path], r"is not a valid envelope: ")
        os.unlink(path)
    refused([STATION, "inspect", write(p("long.bin"), env + b"\0")],
            r"is not a valid envelope: envelope has 1 trailing bytes after its signature")


def test_open_refuses_other_tcb_and_other_ca(d):
    p = pki(d)
    ok(package(p, "env.bin"))
    fpr1 = hashlib.sha384(read(p("tcb1-kex.der"))).hexdigest()[:16]
    fpr2 = hashlib.sha384(read(p("tcb2-kex.der"))).hexdigest()[:16]
    refused(open_cmd(p, "env.bin", tcb="tcb2"),
            r"^custos-station: envelope addressed to another TCB \(fingerprint %s\.\.\., "
            r"this TCB is %s\.\.\.\)$" % (fpr1, fpr2))
    # A station of another CA, packaging for our TCB (the station does not
    # know our root: without --ca it only checks roles).
    ok(package(p, "rogue.bin", station="rogue"))
    refused(open_cmd(p, "rogue.bin"), r"envelope signed by a certificate from another CA")
    # Ciphertext changed: the signature catches it first.
    env = read(p("env.bin"))
    write(p("bad.bin"), flip(env, len(env) - SIG_LEN - TAG_LEN - 1))
    refused(open_cmd(p, "bad.bin"),
            r"envelope signature does not verify with the station certificate's key")


def test_station_bad_inputs(d):
    p = pki(d)
    refused(package(p, "e.bin", tcb="nothere.pem"),
            r"cannot read TCB certificate '.*nothere\.pem': No such file or directory")
    refused(package(p, "e.bin", tcb="tcb1-sign.pem"),
            r"TCB certificate '.*tcb1-sign\.pem' has role tcb-sign-dev, not tcb-kex")
    refused(package(p, "e.bin", tcb="alice.pem"), r"has role tenant, not tcb-kex")
    refused(package(p, "e.bin", tcb="ca/root.pem"), r"is a CA certificate, not a tcb-kex")
    refused(package(p, "e.bin", station="alice"),
            r"station certificate '.*alice\.pem' has role tenant, not station")
    # Malformed PEM: a cut base64 body, garbage, an empty file.
    pem = read(p("tcb1-kex.pem")).decode()
    write(p("cut.pem"), (pem[:len(pem) // 2] + "\n-----END CERTIFICATE-----\n").encode())
    refused(package(p, "e.bin", tcb="cut.pem"), r"cut\.pem: not an X\.509 certificate")
    write(p("junk.pem"), b"hello\n")
    refused(package(p, "e.bin", tcb="junk.pem"), r"junk\.pem: not an X\.509 certificate")
    write(p("empty.pem"), b"")
    refused(package(p, "e.bin", tcb="empty.pem"), r"empty\.pem: not an X\.509 certificate")
    # A key that is not the certificate's, a key file that is no key.
    args = package(p, "e.bin")
    args[args.index("--station-key") + 1] = p("alice.key")
    refused(args, r"station key '.*alice\.key' does not match station certificate")
    args[args.index("--station-key") + 1] = p("station.pem")
    refused(args, r"station key: .*station\.pem: not a private key file")
    args = package(p, "e.bin")
    args[args.index("--image") + 1] = p("station.der")
    refused(args, r"TPGVM image '.*station\.der' is not a loadable ELF image: not an ELF file")
    args = package(p, "e.bin")
    args[args.index("--platform-id") + 1] = "has space"
    refused(args, r"platform id may only hold printable ASCII without spaces")
    args[args.index("--platform-id") + 1] = "x" * 65
    refused(args, r"platform id must be 1\.\.64 characters, not 65")
    args = package(p, "e.bin")
    args[args.index("--tenant-ca") + 1] = p("alice.pem")
    refused(args, r"tenant CA certificate '.*alice\.pem' is not a CA certificate")
    refused(package(p, "e.bin", extra=("--tenant-ca", p("ca2", "root.der"))),
            r"tenant CA certificate 2 repeats certificate 1")
    many = []
    for i in range(9):
        many += ["--tenant-ca", p("ca", "root.pem")]
    refused(package(p, "e.bin", extra=many), r"at most 8 --tenant-ca", status=2)
    args = package(p, "e.bin")
    del args[args.index("--image"):args.index("--image") + 2]
    refused(args, r"package needs --image", status=2)
    assert not os.path.exists(p("e.bin")), "a failed run left its output behind"
    # Never overwrite.
    write(p("taken.bin"), b"keep")
    refused(package(p, "taken.bin"), r"refusing to overwrite existing file '.*taken\.bin'")
    assert read(p("taken.bin")) == b"keep"
    refused([STATION, "inspect", p("nothere.bin")],
            r"cannot read envelope '.*nothere\.bin': No such file or directory")
    refused([STATION, "inspect"], r"inspect needs an ENVELOPE", status=2)
    refused([STATION, "inspect", p("tcb1-kex.pem")], r"not a Custos envelope")
    refused([STATION, "frob"], r"unknown command 'frob'", status=2)
    assert "package" in ok([STATION, "--help"])
