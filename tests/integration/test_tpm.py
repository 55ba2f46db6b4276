"""The TPM 2.0 on QEMU (swtpm): the hypervisor finds it on the TIS and on
the CRB, starts it, mixes its randomness into the DRBG and extends every
measurement into the TPM's SHA-384 PCRs 12-15 before what it measured runs
(docs/tpm.md). Checked from outside the TCB: the test replays the
measurements the console lists and compares with the values the TPM
returned for PCR_Read. Bochs has no TPM (test_boot.py checks that the
platform then says so)."""
import hashlib
import json
import os
import re
import shutil
import struct
import subprocess

import harness as h
import test_attest
from custos_platform import Platform

MEASURE = r"^measure: (\S+(?: \S+)*) sha384:([0-9a-f]{96})$"
TPGVM_UP = r'^tpgvm: launched as vm 1 for platform "custos-dev"'
PCR_LINE = r"^tpm: PCR (\d+) sha384:([0-9a-f]{96}) (matches|DOES NOT match) the log$"
# Which PCR each measurement the console names goes to (docs/eventlog.md).
PCR_OF = {"hypervisor": 12, "cmdline": 12, "ca-root": 13,
          "tpgvm-image": 14, "tpgvm-policy": 14}


def replay(events):
    pcrs = {p: bytes(48) for p in range(12, 16)}
    for name, digest in events:
        p = 15 if name.startswith("boot vm ") else PCR_OF[name]
        pcrs[p] = hashlib.sha384(pcrs[p] + bytes.fromhex(digest)).digest()
    return pcrs


def boot_and_check(d, **hw):
    machine = h.MACHINES["qemu-svm"]
    r = machine.boot(d, timeout=120, stop_on=r"^tpm: PCR 15 |^custos: power off", **hw)
    assert not r.timed_out, r.serial[-3000:]
    iface = r.expect(h.TPM_FOUND).group(1)
    r.expect_absent(r"EXCEPTION|PANIC|BOOT FAILED|unusable")
    events = re.findall(MEASURE, r.serial, re.M)
    assert [n for n, _ in events] == ["hypervisor", "cmdline", "ca-root",
                                      "tpgvm-image", "tpgvm-policy"], events
    read = {int(p): (v, verdict) for p, v, verdict in re.findall(PCR_LINE, r.serial, re.M)}
    assert sorted(read) == [12, 13, 14, 15], r.serial[-3000:]
    want = replay(events)
    for p in range(12, 16):
        assert read[p] == (want[p].hex(), "matches"), (p, read[p], want[p].hex())
    # Nothing but the measurements: PCR 15 (boot VMs) was never extended.
    assert want[15] == bytes(48)
    return iface


def test_measurements_reach_the_tpm_through_the_tis(d):
    assert boot_and_check(d) == "TIS"


def test_measurements_reach_the_tpm_through_the_crb(d):
    assert boot_and_check(d, tpm_device="tpm-crb") == "CRB"


def test_a_tpm_without_a_sha384_bank_is_not_used(d):
    # Many hardware TPMs ship with SHA-1 and SHA-256 banks only. Extending
    # a bank that is not allocated succeeds and changes nothing, so the
    # hypervisor must look first, and then run without the TPM, saying why
    # (the platform is DEV either way: docs/tpm.md).
    state = os.path.join(d, "tpm-sha256-only")
    os.makedirs(state)
    p = subprocess.run(["swtpm_setup", "--tpm2", "--tpmstate", state, "--pcr-banks",
                        "sha256", "--overwrite"], capture_output=True, text=True, timeout=60)
    assert p.returncode == 0, p.stdout + p.stderr
    r = h.MACHINES["qemu-svm"].boot(d, timeout=120, tpm_state=state,
                                    stop_on=TPGVM_UP + r"|^custos: power off")
    assert not r.timed_out, r.serial[-3000:]
    r.expect(r"^tpm: TIS TPM unusable: no SHA-384 PCR bank for PCRs 12-15 \(SHA-384 bank "
             r"map 0x0\); this platform runs without it$")
    r.expect_absent(r"^tpm: PCR ")
    r.expect(TPGVM_UP)
    r.expect_absent(r"EXCEPTION|PANIC|BOOT FAILED")


def test_uefi_entry_copies_the_firmware_event_log(d):
    # OVMF with a TPM: GRUB keeps boot services (Multiboot2 tags 7 and 9),
    # the hypervisor copies the TCG2 event log, exits boot services itself
    # and appends what ExitBootServices logged (edk2's two PCR 5 events),
    # then boots as ever from the boot information it rebuilt.
    r = h.MACHINES["qemu-svm-uefi"].boot(
        d, timeout=150, stop_on=r"^tpm: PCR 15 |^custos: power off")
    assert not r.timed_out, r.serial[-3000:]
    m = r.expect(r"^boot: UEFI entry: TCG2 event log (\d+) bytes \((\d+) events "
                 r"after GetEventLog\), boot services exited by custos$")
    assert int(m.group(1)) > 0 and int(m.group(2)) >= 2, m.group(0)
    r.expect(r"^boot: ACPI RSDP v2 present$")
    r.expect(r"^tpm: TIS TPM 2\.0 at 0xfed40000, ")
    # The copy is whole and in order: replayed, it gives PCRs 0-9 as the
    # TPM holds them, GRUB's events for custos.elf, its modules and its
    # command line (PCRs 8 and 9) among them.
    m = r.expect(r"^tpm: the firmware's and GRUB's event log \((\d+) events, (\d+) bytes\) "
                 r"replays to the TPM's SHA-384 PCRs 0-9$")
    assert int(m.group(1)) > 20, m.group(0)
    r.expect(r'^tpgvm: launched as vm 1 for platform "custos-dev"')
    r.expect_absent(r"EXCEPTION|PANIC|BOOT FAILED|refused|TRUNCATED")


def test_a_report_carries_the_measured_launch(d):
    # OVMF, GRUB with its tpm module, swtpm: the report's quote covers PCRs
    # 0-15, and custos attest replays both logs to it - the firmware's and
    # GRUB's (custos.elf, its modules and command line in PCRs 8-9) and the
    # TCB's - before the reference values. tpm2_checkquote agrees.
    with Platform(d, h.MACHINES["qemu-svm-uefi"]) as pf:
        report = os.path.join(d, "report.bin")
        p = test_attest.attest(pf.port, "--save-report", report)
        test_attest.expect(p, test_attest.EXIT_VERIFIED, r"verified", "attest")
        m = re.search(r"^TPM quote: verified over this report by attestation key sha384 "
                      r"[0-9a-f]{16}\.\.\. \(NOT certified: the platform\'s TPM is not enrolled\); "
                      r"the measurement log replays to PCRs 12-15, the firmware's event log "
                      r"\((\d+) events\) to PCRs 0-11; in it GRUB loaded the reference's kernel "
                      r"and command line$", p.stdout, re.M)
        assert m and int(m.group(1)) > 20, p.stdout
        test_attest.check_quote_with_tpm2_checkquote(d, report)
        with open(report, "rb") as f:
            ak, _, _, mask, values, fw, _ = test_attest.report_evidence(f.read())
        assert mask == 0xffff and len(fw) > 1000, (hex(mask), len(fw))
        # GRUB measured custos.elf itself into PCR 9: its event is in the log.
        with open(h.ELF, "rb") as f:
            elf = hashlib.sha384(f.read()).digest()
        assert elf in fw, "no event with custos.elf's SHA-384 in the firmware log"
        # Reference values of another build of the hypervisor: GRUB's
        # measurement of custos.elf in the quoted log gives it away.
        with open(test_attest.REFERENCE) as f:
            ref = json.load(f)
        ref["launch"]["kernel_sha384"] = "00" * 48
        other = os.path.join(d, "other-launch.json")
        with open(other, "w") as f:
            json.dump(ref, f)
        p = test_attest.attest(pf.port, reference=other)
        test_attest.expect(p, test_attest.EXIT_FAILED, r"FAILED: GRUB measured /boot/custos\.elf "
                           r"with another SHA-384 than the reference's", "attest, other kernel")
        # The same TPM gives the same attestation key on the next boot.
        p = test_attest.attest(pf.port, "--json")
        first = json.loads(p.stdout)["tpm"]["ak_sha384"]
        assert first == hashlib.sha384(ak).hexdigest(), (first, ak.hex())


SWTPM_CA = "/var/lib/swtpm-localca"


def tpm_with_ek_cert(d, name):
    """A TPM state whose NV holds an RSA EK certificate from swtpm's local
    CA (the TPM vendor's, in tests), with a SHA-384 PCR bank."""
    state = os.path.join(d, name)
    os.makedirs(state)
    p = subprocess.run(["swtpm_setup", "--tpm2", "--tpmstate", state, "--create-ek-cert",
                        "--pcr-banks", "sha256,sha384", "--overwrite"],
                       capture_output=True, text=True, timeout=120)
    assert p.returncode == 0, p.stdout + p.stderr
    return state


def enrollment_iso(d, module, elf=h.ELF, name="enrolled"):
    """build/custos.iso's modules and the CA's tpm-enrollment module, on the
    measured launch (GRUB's tpm module loaded), with elf as custos.elf."""
    pki = test_attest.PKI
    mods = [("tcb-keys.bin", "tcb-keys"), ("tcb-certs.bin", "tcb-certs"),
            ("tpgvm.env", "tpgvm-envelope"), (os.path.basename(module), "tpm-enrollment")]
    files = [os.path.join(pki, "tcb-keys.bin"), os.path.join(pki, "tcb-certs.bin"),
             os.path.join(h.BUILD, "tpgvm.env"), module]
    sub = os.path.join(d, "iso-" + name)
    os.makedirs(sub)
    return h.make_iso(sub, modules=mods, module_files=files, elf=elf, measured=True)


def approve(ca, report, out, *files, drop=()):
    """custos-ca approve; its PCR lines as {pcr: bytes}."""
    args = [os.path.join(h.BUILD, "bin", "custos-ca"), "approve", "--dir", ca,
            "--report", report, "--out", out]
    for f in files:
        args += ["--file", f]
    for m in drop:
        args += ["--drop", m]
    p = subprocess.run(args, capture_output=True, text=True, timeout=60)
    pcrs = {int(m.group(1)): bytes.fromhex(m.group(2))
            for m in re.finditer(r"^PCR (\d) sha384:([0-9a-f]{96})$", p.stdout, re.M)}
    return p, pcrs


APPROVAL_INDEX = "0x1004355"


def host_writes_approval(d, state, approval):
    """What an operator does between boots: put the CA's approval into the
    TPM's NV (the index any host may write; the TPM checks the signature),
    and clear the dictionary-attack lockout. Every boot here ends with the
    emulator killed, which the TPM counts as a failure against its
    DA-protected objects (the attestation key among them): after a few,
    quotes would fail with TPM_RC_LOCKOUT until the lockout clears."""
    with h.host_tpm(state, os.path.join(d, "host-tpm.sock")) as env:
        p = subprocess.run(["tpm2_nvreadpublic", APPROVAL_INDEX], capture_output=True,
                           env=env, timeout=60)
        if p.returncode != 0:
            subprocess.run(["tpm2_nvdefine", APPROVAL_INDEX, "-C", "o", "-s", "592",
                            "-a", "authread|authwrite|no_da"], check=True, env=env, timeout=60)
        subprocess.run(["tpm2_nvwrite", APPROVAL_INDEX, "-C", APPROVAL_INDEX, "-i", approval],
                       check=True, env=env, timeout=60)
        subprocess.run(["tpm2_dictionarylockout", "--clear-lockout"], check=True, env=env,
                       timeout=60)


def production_iso(d, enroll_module, tcb_certs, envelope):
    """Media for the TPM-resident identity: no tcb-keys module; the
    production certificates enrollment issued, the envelope the station
    made for their tcb-kex, the enrollment module; measured."""
    mods = [("tcb-certs.bin", "tcb-certs"), ("tpgvm.env", "tpgvm-envelope"),
            (os.path.basename(enroll_module), "tpm-enrollment")]
    sub = os.path.join(d, "iso-production")
    os.makedirs(sub)
    shutil.copy(tcb_certs, os.path.join(sub, "tcb-certs.bin"))
    shutil.copy(envelope, os.path.join(sub, "tpgvm.env"))
    files = [os.path.join(sub, "tcb-certs.bin"), os.path.join(sub, "tpgvm.env"), enroll_module]
    return h.make_iso(sub, modules=mods, module_files=files, measured=True)


def quoted_pcrs_0_9(report):
    """PCRs 0-9 as the report's quote covers them."""
    with open(report, "rb") as f:
        ev = test_attest.report_evidence(f.read())
    mask, values = ev[3], ev[4]
    assert mask & 0x3ff == 0x3ff, hex(mask)
    return {i: values[48 * i:48 * i + 48] for i in range(10)}


def test_enrollment_certifies_the_attestation_key(d):
    # The Keylime registrar pattern, with custos-ca as the registrar: the
    # first boot's report carries the attestation key and the TPM's EK
    # certificate; custos-ca checks the EK certificate against the vendor's
    # CA and answers with a credential only that TPM can activate, holding
    # the key's tcb-ak certificate; the next boot, with that answer on its
    # boot media and the same TPM, recovers the certificate, and every
    # report then carries it. A TPM that is not the one enrolled gets
    # nothing from the same module. On the measured launch (OVMF, GRUB's
    # tpm module), so that the enrolled report also serves custos-ca
    # approve: the PCRs 0-9 it predicts for new media are the ones a boot
    # of that media then has.
    machine = h.MACHINES["qemu-svm-uefi"]
    state = tpm_with_ek_cert(d, "tpm")
    report = os.path.join(d, "first.rpt")
    for sub in ("first", "second", "third"):
        os.makedirs(os.path.join(d, sub))
    with Platform(os.path.join(d, "first"), machine, tpm_state=state) as pf:
        p = test_attest.attest(pf.port, "--save-report", report)
        test_attest.expect(p, test_attest.EXIT_VERIFIED, r"verified", "first attest")
        assert "NOT certified: the platform's TPM is not enrolled" in p.stdout, p.stdout
        pf.emu.wait_for(r"^tpm: attestation key not enrolled \(no tpm-enrollment module\)", 5)
    with open(report, "rb") as f:
        test_attest.report_evidence(f.read())
    ek_cert, ak_cert = test_attest.report_evidence.certs
    assert len(ek_cert) > 500 and not ak_cert, (len(ek_cert), len(ak_cert))
    ek = os.path.join(d, "ek.der")
    with open(ek, "wb") as f:
        f.write(ek_cert)
    # The CA: build/pki's development root (the one the ISO's TCB trusts).
    ca = os.path.join(d, "ca")
    os.makedirs(ca)
    for f in ("root.key", "root.pem", "root.der"):
        shutil.copy(os.path.join(test_attest.PKI, f), ca)
    p = subprocess.run([os.path.join(h.BUILD, "bin", "custos-ca"), "enroll", "--dir", ca,
                        "--report", report, "--ek-cert", ek,
                        "--ek-ca", os.path.join(SWTPM_CA, "swtpm-localca-rootca-cert.pem"),
                        "--ek-ca", os.path.join(SWTPM_CA, "issuercert.pem"),
                        "--cn", "platform-under-test", "--out", os.path.join(d, "p1")],
                       capture_output=True, text=True, timeout=60)
    assert p.returncode == 0, p.stdout + p.stderr
    assert "not certified: its attestation key has no tcb-ak certificate" in p.stdout, p.stdout
    module = os.path.join(d, "p1-enroll.bin")
    iso = enrollment_iso(d, module)

    # The same TPM: enrolled.
    with Platform(os.path.join(d, "second"), machine, iso=iso, tpm_state=state) as pf:
        pf.emu.wait_for(r"^tpm: attestation key enrolled: its tcb-ak certificate, recovered "
                        r"by credential activation, chains to the CA root; reports carry it$", 5)
        keys_line = pf.emu.wait_for(r"^tpm: TCB keys, TPM-resident \(endorsement hierarchy\), "
                                    r"usable only on a launch the CA approved: signing "
                                    r"sha384:([0-9a-f]{16})\.\.\., key agreement "
                                    r"sha384:([0-9a-f]{16})", 5)
        pf.emu.wait_for(r"^tpm: no launch approval in NV index 0x1004355 \(custos-ca approve\): "
                        r"the TPM-resident TCB keys stay unusable on this boot$", 5)
        p = test_attest.attest(pf.port, "--json")
        doc = json.loads(p.stdout)
        assert doc["result"] == "verified", doc
        assert doc["tpm"]["ak_certified"] is True, doc["tpm"]
        assert "tpm-key-uncertified" not in doc["dev_reasons"], doc["dev_reasons"]
        # Still DEV: the TCB's own keys are the development ones.
        assert doc["dev_reasons"] == ["dev-identity", "dev-claimed"], doc["dev_reasons"]
        enrolled = os.path.join(d, "enrolled.rpt")
        p = test_attest.attest(pf.port, "--save-report", enrolled)
        assert re.search(r"^TPM quote: verified over this report by attestation key sha384 "
                         r"[0-9a-f]{16}\.\.\. \(certified by the CA: tcb-ak, enrolled\)",
                         p.stdout, re.M), p.stdout

    # Its reports carry both TPM-resident keys as the attestation key
    # certified them, for the CA (signing key first).
    with open(enrolled, "rb") as f:
        test_attest.report_evidence(f.read())
    keys = test_attest.report_evidence.tcb_keys
    sign_point = keys[:97]
    at_len, = struct.unpack_from("<I", keys, 97)
    agree_point = keys[97 + 4 + at_len + 96:][:97]
    fingerprints = keys_line[0].group(1), keys_line[0].group(2)
    assert (hashlib.sha384(sign_point).hexdigest()[:16],
            hashlib.sha384(agree_point).hexdigest()[:16]) == fingerprints, keys.hex()

    # custos-ca approve believes a report only through an enrolled quote:
    # the first report's key has no certificate, and a report whose
    # firmware log says GRUB measured another custos.elf no longer replays
    # to its quote.
    p, _ = approve(ca, report, os.path.join(d, "a0.bin"))
    assert p.returncode == 1 and "no tcb-ak certificate from this CA" in p.stderr, p.stderr
    with open(enrolled, "rb") as f:
        forged = bytearray(f.read())
    with open(h.ELF, "rb") as f:
        at = bytes(forged).index(hashlib.sha384(f.read()).digest())
    forged[at] ^= 1
    with open(os.path.join(d, "forged.rpt"), "wb") as f:
        f.write(forged)
    p, _ = approve(ca, os.path.join(d, "forged.rpt"), os.path.join(d, "a1.bin"))
    assert p.returncode == 1 and "replay" in p.stderr, p.stderr
    assert not os.path.exists(os.path.join(d, "a1.bin"))
    # The media it booted: exactly the quoted PCRs.
    p, same = approve(ca, enrolled, os.path.join(d, "same.bin"))
    assert p.returncode == 0, p.stdout + p.stderr
    assert same == quoted_pcrs_0_9(enrolled), (same, quoted_pcrs_0_9(enrolled))
    with open(os.path.join(d, "same.bin"), "rb") as f:
        blob = f.read()
    assert len(blob) == 592 and blob[:8] == b"CUSTAPR1", blob[:16]
    # New media: another custos.elf. The prediction differs in PCR 9 only,
    # and a boot of that media has exactly the predicted PCRs.
    os.makedirs(os.path.join(d, "new"))
    elf = os.path.join(d, "new", "custos.elf")
    shutil.copy(h.ELF, elf)
    with open(elf, "ab") as f:
        f.write(b"\x01")
    p, new = approve(ca, enrolled, os.path.join(d, "new.bin"), "/boot/custos.elf=" + elf)
    assert p.returncode == 0, p.stdout + p.stderr
    assert [i for i in range(10) if new[i] != same[i]] == [9], (new, same)
    p, _ = approve(ca, enrolled, os.path.join(d, "none.bin"), "/boot/missing.elf=" + elf)
    assert p.returncode == 1 and "GRUB loaded no file '/boot/missing.elf'" in p.stderr, \
        p.stderr
    # The operator puts the new media's approval into the TPM: a boot of
    # that media may use the TPM-resident keys (the TPM itself checks the
    # prediction), and a boot of the old media may not.
    host_writes_approval(d, state, os.path.join(d, "new.bin"))
    os.makedirs(os.path.join(d, "fourth"))
    booted = os.path.join(d, "new.rpt")
    new_iso = enrollment_iso(d, module, elf, "new")
    with Platform(os.path.join(d, "fourth"), machine, iso=new_iso, tpm_state=state) as pf:
        pf.emu.wait_for(r"^tpm: the CA approved this launch \(PCRs 0-9\): the TPM let it sign "
                        r"with the TPM-resident TCB key \(the test signature verifies\)$", 5)
        # Refused (GRUB measured another custos.elf than the reference's),
        # but kept as received.
        p = test_attest.attest(pf.port, "--save-report", booted)
        assert "GRUB measured /boot/custos.elf with another SHA-384" in p.stdout + p.stderr, \
            p.stdout + p.stderr
    assert quoted_pcrs_0_9(booted) == new
    os.makedirs(os.path.join(d, "fifth"))
    r = machine.boot(os.path.join(d, "fifth"), iso=iso, tpm_state=state, timeout=120,
                     stop_on=r"^tpm: (the|no) .*TCB keys stay unusable|^tpm: the CA approved "
                             r"this launch|^custos: power off")
    r.expect(r"^tpm: the CA approved another launch: PCR 9 differs \(firmware, GRUB, grub.cfg, "
             r"the hypervisor or a boot module changed; it is sha384:%s\.\.\.\): the "
             r"TPM-resident TCB keys stay unusable on this boot$" % same[9].hex()[:16])
    r.expect_absent(r"EXCEPTION|PANIC|BOOT FAILED")

    # Another TPM (another endorsement seed, so another attestation key):
    # the module was not made for it, and it says so.
    other = tpm_with_ek_cert(d, "other-tpm")
    r = machine.boot(os.path.join(d, "third"), iso=iso, tpm_state=other, timeout=120,
                     stop_on=TPGVM_UP + r"|^custos: power off")
    r.expect(r"^tpm: tpm-enrollment module refused: it was made for another attestation "
             r"key \(another TPM, or a cleared one\)$")
    r.expect_absent(r"EXCEPTION|PANIC|BOOT FAILED")

    # Production: the TCB's keys are the TPM's. The first enroll did not
    # certify them (its AK was not yet shown to be in the EK's TPM); the
    # enrolled report, whose AK holds the tcb-ak certificate the TPM
    # recovered, carries the AK's certifications of both, and a second
    # enroll issues tcb-sign and tcb-kex for them (p2-tcb-certs.bin). The
    # station encrypts the TPGVM to that tcb-kex; the media has no key
    # module at all.
    p = subprocess.run([os.path.join(h.BUILD, "bin", "custos-ca"), "enroll", "--dir", ca,
                        "--report", enrolled, "--ek-cert", ek,
                        "--ek-ca", os.path.join(SWTPM_CA, "swtpm-localca-rootca-cert.pem"),
                        "--ek-ca", os.path.join(SWTPM_CA, "issuercert.pem"),
                        "--cn", "platform-under-test", "--out", os.path.join(d, "p2")],
                       capture_output=True, text=True, timeout=60)
    assert p.returncode == 0 and "tcb-kex" in p.stdout, p.stdout + p.stderr
    pki = test_attest.PKI
    prod_env = os.path.join(d, "prod.env")
    p = subprocess.run([os.path.join(h.BUILD, "bin", "custos-station"), "package",
                        "--ca", os.path.join(pki, "root.pem"),
                        "--station-key", os.path.join(pki, "station.key"),
                        "--station-cert", os.path.join(pki, "station.pem"),
                        "--tcb-cert", os.path.join(d, "p2-tcb-kex.pem"),
                        "--image", os.path.join(h.BUILD, "guests", "tpgvm.elf"),
                        "--platform-id", "custos-dev", "--tenant-ca", os.path.join(pki, "root.pem"),
                        "--out", prod_env, "--policy-out", prod_env + ".policy"],
                       capture_output=True, text=True, timeout=120)
    assert p.returncode == 0, p.stdout + p.stderr
    prod_iso = production_iso(d, module, os.path.join(d, "p2-tcb-certs.bin"), prod_env)
    # Its first boot: no approval for it yet (the one in NV is new.bin's),
    # so the keys stay locked, no TPGVM runs, and the console says which
    # PCRs differ (8: GRUB's commands, 9: its files) and what they are.
    os.makedirs(os.path.join(d, "sixth"))
    r = machine.boot(os.path.join(d, "sixth"), iso=prod_iso, tpm_state=state, timeout=120,
                     stop_on=r"^custos: no TPGVM|^custos: power off")
    r.expect(r"^tpgvm: the TPM-resident TCB keys are not usable on this launch")
    observed = {int(m.group(1)): bytes.fromhex(m.group(2)) for m in re.finditer(
        r"^tpm: PCR (\d) is sha384:([0-9a-f]{96}), the approval's", r.serial, re.M)}
    assert sorted(observed) == [8, 9], observed
    # The CA predicted exactly these: from the enrolled launch's log, with
    # the development key module dropped (its GRUB command, its file and its
    # line of the menuentry) and the new certificates and envelope in place.
    p, prod = approve(ca, enrolled, os.path.join(d, "prod.bin"), "/boot/tcb-certs.bin=" +
                      os.path.join(d, "p2-tcb-certs.bin"), "/boot/tpgvm.env=" + prod_env,
                      drop=["/boot/tcb-keys.bin"])
    assert p.returncode == 0, p.stdout + p.stderr
    assert {i: prod[i] for i in (8, 9)} == observed, (prod, observed)
    assert [prod[i] for i in range(8)] == [same[i] for i in range(8)]
    host_writes_approval(d, state, os.path.join(d, "prod.bin"))
    os.makedirs(os.path.join(d, "seventh"))
    with Platform(os.path.join(d, "seventh"), machine, iso=prod_iso, tpm_state=state) as pf:
        pf.emu.wait_for(r"^tpm: the CA approved this launch \(PCRs 0-9\)", 5)
        pf.emu.wait_for(r"^tpgvm: key protection: tpm \(no key module", 5)
        # No --allow-dev: the TCB's identity is a production one now.
        p = test_attest.attest(pf.port, "--json", allow_dev=False)
        doc = json.loads(p.stdout)
        assert doc["result"] == "verified", doc
        assert doc["dev"] is False and doc["dev_reasons"] == [], doc
        assert doc["tpm"]["tcb_keys_in_tpm"] is True, doc["tpm"]
        assert doc["claims"]["key_protection"] == "tpm", doc["claims"]
        assert doc["claims"]["backed_by_evidence"] is True, doc["claims"]
