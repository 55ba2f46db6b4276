"""TPGVM delivery, on every backend: the hypervisor launches the TPGVM only from an
envelope that a station certified by the compiled-in CA root signed and
encrypted to this very TCB, with a development TCB identity (plaintext keys
never go with a production-role certificate), and refuses everything else
with its reason while staying up."""
import hashlib
import os
import re
import shutil
import struct
import subprocess

import harness as h
from test_tools import production_certs

PKI = os.path.join(h.BUILD, "pki")
BIN = os.path.join(h.BUILD, "bin")
ENVELOPE = os.path.join(h.BUILD, "tpgvm.env")
HELLO = os.path.join(h.BUILD, "guests", "hello.elf")
WAITING = r"^custos: no TPGVM; waiting for a valid envelope$"
REFUSED = r"^tpgvm: envelope refused: (.*)$"

# Envelope layout (docs/envelope.md).
FIXED_LEN, SIG_LEN, TAG_LEN = 177, 96, 16
OFF_CERT_LEN, OFF_PAYLOAD_LEN, OFF_EPH_PUB, OFF_IV = 12, 16, 68, 165


def regions(env):
    cert_len, payload_len = struct.unpack_from("<II", env, OFF_CERT_LEN)
    header_len = FIXED_LEN + cert_len
    return {
        "header": 8,                                  # the version field
        "ephemeral key": OFF_EPH_PUB + 40,            # the wrapped-key material
        "certificate": FIXED_LEN + cert_len // 2,
        "ciphertext": header_len + payload_len // 2,
        "tag": header_len + payload_len + 3,
        "signature": len(env) - SIG_LEN + 10,
    }


def iso_with(d, envelope, cmdline="", certs=os.path.join(PKI, "tcb-certs.bin")):
    mods = [("tcb-keys.bin", "tcb-keys"), (os.path.basename(certs), "tcb-certs"),
            ("tpgvm.env", "tpgvm-envelope")]
    env_copy = os.path.join(d, "tpgvm.env")
    if os.path.abspath(envelope) != env_copy:
        shutil.copy(envelope, env_copy)
    return h.make_iso(d, cmdline=cmdline, modules=mods,
                      module_files=[os.path.join(PKI, "tcb-keys.bin"), certs, env_copy])


def expect_refused(d, machine, envelope, reason_pattern, refused=REFUSED, **iso):
    r = machine.boot(d, iso=iso_with(d, envelope, **iso), stop_on=WAITING + r"|^custos: power off",
               timeout=180)
    assert not r.timed_out, "no verdict in time:\n" + r.tail()
    line = r.expect(refused, "a refusal line")
    assert re.search(reason_pattern, line.group(1)), \
        "refused for %r, expected /%s/" % (line.group(1), reason_pattern)
    r.expect(WAITING)
    r.expect_absent(r"^tpgvm: launched|^vm \d+ \(tpgvm\)")
    return r


def package(d, out, station_key, station_cert, tcb_cert, image=HELLO):
    subprocess.run([os.path.join(BIN, "custos-station"), "package",
                    "--station-key", station_key, "--station-cert", station_cert,
                    "--tcb-cert", tcb_cert, "--image", image,
                    "--platform-id", "custos-test",
                    "--tenant-ca", os.path.join(PKI, "root.pem"), "--out", out,
                    "--allow-dev"],
                   check=True, capture_output=True)
    return out


def der_sig_to_raw(der):
    """ECDSA-Sig-Value (SEQUENCE of two INTEGERs) -> r || s, 48 bytes each."""
    assert der[0] == 0x30
    i = 2 if der[1] < 0x80 else 2 + (der[1] & 0x7f)
    out = b""
    for _ in range(2):
        assert der[i] == 0x02
        n = der[i + 1]
        out += der[i + 2:i + 2 + n].lstrip(b"\0").rjust(48, b"\0")
        i += 2 + n
    return out


def resign(d, env, key):
    """Sign an altered envelope again, as a rogue holder of `key` would."""
    digest = os.path.join(d, "digest.bin")
    with open(digest, "wb") as f:
        f.write(hashlib.sha384(env[:-SIG_LEN]).digest())
    der = subprocess.run(["openssl", "pkeyutl", "-sign", "-inkey", key, "-in", digest],
                         check=True, capture_output=True).stdout
    return env[:-SIG_LEN] + der_sig_to_raw(der)


def write(d, name, data):
    path = os.path.join(d, name)
    with open(path, "wb") as f:
        f.write(data)
    return path


def read(path):
    with open(path, "rb") as f:
        return f.read()


@h.on(*h.BACKENDS)
def test_valid_envelope_launches_the_measured_tpgvm(d, machine):
    # The platform's own envelope: the TPGVM starts serving and stays up.
    r = machine.boot(d, iso=iso_with(d, ENVELOPE, "custos.debug=mirror-consoles"), timeout=180,
               stop_on=r"^\[vm1 tpgvm\] tpgvm: transport up on COM2|^custos: power off")
    assert not r.timed_out, "the TPGVM did not come up:\n" + r.serial[-3000:]
    r.expect(r"^crypto: self-test passed")
    r.expect(r"^tpgvm: key protection: dev \(plaintext key module; development TCB "
             r"identity required\)$")
    r.expect_absent(r"^tpgvm: TCB identity refused")
    r.expect(r"^measure: tpgvm-image sha384:[0-9a-f]{96}$")
    r.expect(r"^measure: tpgvm-policy sha384:[0-9a-f]{96}$")
    r.expect(r'^tpgvm: launched as vm 1 for platform "custos-dev" \(1 tenant CA root\)$')
    r.expect(r"^\[vm1 tpgvm\] tpgvm: policy for platform \"custos-dev\", 1 tenant CA root\(s\)$")
    # Its TLS key was made inside it: only the public half's hash is shown.
    r.expect(r"^\[vm1 tpgvm\] tpgvm: TLS key sha384:[0-9a-f]{96}$")
    r.expect_absent(REFUSED)


@h.on(*h.BACKENDS)
def test_station_from_another_ca_is_refused(d, machine):
    ca = os.path.join(d, "other-ca")
    run = lambda *a: subprocess.run([os.path.join(BIN, "custos-ca")] + list(a),
                                    check=True, capture_output=True)
    run("init", "--dir", ca, "--cn", "Some other CA")
    run("issue", "--dir", ca, "--role", "station", "--cn", "rogue station",
        "--out", os.path.join(d, "rogue"))
    env = package(d, os.path.join(d, "rogue.env"), os.path.join(d, "rogue.key"),
                  os.path.join(d, "rogue.pem"), os.path.join(PKI, "tcb-kex.pem"))
    expect_refused(d, machine, env, r"another CA")


@h.on(*h.BACKENDS)
def test_tenant_certificate_used_as_station_is_refused(d, machine):
    # The station tool will not sign with a tenant certificate, so splice
    # one in and sign with its key as a rogue tenant would.
    env = bytearray(read(ENVELOPE))
    cert_len = struct.unpack_from("<I", env, OFF_CERT_LEN)[0]
    tenant = read(os.path.join(PKI, "tenant-alice.der"))
    env = env[:FIXED_LEN] + tenant + env[FIXED_LEN + cert_len:]
    struct.pack_into("<I", env, OFF_CERT_LEN, len(tenant))
    env = resign(d, bytes(env), os.path.join(PKI, "tenant-alice.key"))
    expect_refused(d, machine, write(d, "tenant.env", env), r"tenant certificate, not a station")


@h.on(*h.BACKENDS)
def test_envelope_for_another_tcb_is_refused(d, machine):
    subprocess.run([os.path.join(BIN, "custos-ca"), "issue-tcb", "--dev", "--dir", PKI,
                    "--cn", "another platform", "--out", os.path.join(d, "other-tcb")],
                   check=True, capture_output=True)
    env = package(d, os.path.join(d, "other.env"), os.path.join(PKI, "station.key"),
                  os.path.join(PKI, "station.pem"), os.path.join(d, "other-tcb-kex.pem"))
    expect_refused(d, machine, env, r"addressed to another TCB")


@h.on(*h.BACKENDS)
def test_production_identity_with_plaintext_keys_is_refused(d, machine):
    # The development TCB's keys (plaintext, as the boot media carries
    # them) with certificates of the production roles, as if someone had
    # certified them for production: a production identity never travels in
    # the clear, so no TPGVM starts (docs/pki.md).
    certs = production_certs(d, os.path.join(PKI, "tcb-sign.key"),
                             os.path.join(PKI, "tcb-kex.key"),
                             os.path.join(PKI, "root.pem"), os.path.join(PKI, "root.key"))
    expect_refused(d, machine, ENVELOPE,
                   r"^the TCB signing certificate has the production role TCB-signing, but "
                   r"its private key came in the clear from the boot media: a production "
                   r"TCB identity never travels in the clear$",
                   refused=r"^tpgvm: TCB identity refused: (.*)$", certs=certs)


# One backend is enough: the envelope's checks are tcb/ code, the same on
# both; a TPGVM launched on VMX is test_valid_envelope_... on Bochs.
@h.on("qemu-svm")
def test_flipped_byte_in_each_region_is_refused(d, machine):
    env = read(ENVELOPE)
    expected = {
        "header": r"malformed envelope",
        "ephemeral key": r"signature does not verify",
        "certificate": r"another CA|malformed",
        "ciphertext": r"signature does not verify",
        "tag": r"signature does not verify",
        "signature": r"signature does not verify",
    }
    for region, offset in regions(env).items():
        bad = bytearray(env)
        bad[offset] ^= 0x01
        sub = os.path.join(d, region.replace(" ", "-"))
        os.makedirs(sub)
        expect_refused(sub, machine, write(sub, "bad.env", bytes(bad)), expected[region])


@h.on(*h.BACKENDS)
def test_resigned_tampered_payload_fails_authentication(d, machine):
    # A station key holder (or a bug) re-signing a tampered ciphertext still
    # cannot forge the AES-GCM tag, which only this TCB's key can check.
    env = bytearray(read(ENVELOPE))
    env[regions(env)["ciphertext"]] ^= 0x80
    env = resign(d, bytes(env), os.path.join(PKI, "station.key"))
    expect_refused(d, machine, write(d, "tampered.env", env), r"payload fails authentication")


@h.on(*h.BACKENDS)
def test_truncated_envelope_is_refused(d, machine):
    env = read(ENVELOPE)
    expect_refused(d, machine, write(d, "short.env", env[:len(env) - 1]), r"malformed envelope")


def package_image(d, image):
    """An envelope for this platform carrying another image as the TPGVM."""
    return package(d, os.path.join(d, "tpgvm.env"), os.path.join(PKI, "station.key"),
                   os.path.join(PKI, "station.pem"), os.path.join(PKI, "tcb-kex.pem"),
                   image=image)


@h.on(*h.BACKENDS)
def test_only_the_tpgvm_may_use_lifecycle_hypercalls(d, machine):
    # hcfuzz expects HC_E_DENIED (-3) for the lifecycle numbers. As a plain
    # VM it gets exactly that; delivered as the TPGVM its lifecycle calls get
    # past the privilege check and are decoded (random requests: refused
    # with one of the lifecycle errors, or an empty VM list).
    hcfuzz = os.path.join(h.BUILD, "guests", "hcfuzz.elf")
    env = package_image(d, hcfuzz)
    mods = [("tcb-keys.bin", "tcb-keys"), ("tcb-certs.bin", "tcb-certs"),
            ("tpgvm.env", "tpgvm-envelope"), ("hcfuzz.elf", "vm.plain mem=2M iterations=500")]
    iso = h.make_iso(d, cmdline="custos.debug=mirror-consoles", modules=mods,
                     module_files=[os.path.join(PKI, "tcb-keys.bin"),
                                   os.path.join(PKI, "tcb-certs.bin"), env, hcfuzz])
    r = machine.boot(d, iso=iso, timeout=300)
    r.expect_status(h.EXIT_OK)
    r.expect(r"^tpgvm: launched as vm 1 ")
    plain = r.expect(r"^\[vm2 plain\] hcfuzz: (\d+) hypercalls, (\d+) unexpected results$")
    assert plain.group(2) == "0", plain.group(0)
    r.expect(r"^\[vm1 tpgvm\] hcfuzz: \d+ hypercalls, [1-9]\d* unexpected results$")
    unexpected = re.findall(r"^\[vm1 tpgvm\] hcfuzz: UNEXPECTED nr=0x([0-9a-f]+) .* ret=(-?\d+) want=",
                            r.serial, re.M)
    assert unexpected, r.tail()
    for nr, ret in unexpected:
        # Lifecycle: never DENIED for the TPGVM. HC_REPORT (0x120): random
        # arguments, so out of range (-2) or outside its memory (-4).
        assert ((0x100 <= int(nr, 16) <= 0x109 and
                 ret in ("0", "-2", "-4", "-6", "-7", "-8", "-9", "-10")) or
                (int(nr, 16) == 0x120 and ret in ("-2", "-4"))), (nr, ret)


@h.on(*h.BACKENDS)
def test_com2_is_passed_through_to_the_tpgvm_only(d, machine):
    # The same guest as the TPGVM and as a plain VM: only the TPGVM's line
    # reaches the physical COM2 (the relay's side); the other is denied.
    image = os.path.join(h.BUILD, "guests", "com2hello.elf")
    env = package_image(d, image)
    mods = [("tcb-keys.bin", "tcb-keys"), ("tcb-certs.bin", "tcb-certs"),
            ("tpgvm.env", "tpgvm-envelope"), ("com2hello.elf", "vm.plain mem=2M")]
    iso = h.make_iso(d, cmdline="custos.debug=mirror-consoles", modules=mods,
                     module_files=[os.path.join(PKI, "tcb-keys.bin"),
                                   os.path.join(PKI, "tcb-certs.bin"), env, image])
    r = machine.boot(d, iso=iso, timeout=180, com2_file=True)
    r.expect_status(h.EXIT_OK)
    r.expect(r"^\[vm1 tpgvm\] com2hello: sent 26 bytes on COM2$")
    r.expect(r"^vm 2 \(plain\): denied write to port 0x2f")
    r.expect_absent(r"^vm 1 \(tpgvm\): denied")
    com2 = read(os.path.join(r.run_dir, "com2.log")).decode(errors="replace")
    assert com2 == "hello over COM2 from vm 1\n", repr(com2)
