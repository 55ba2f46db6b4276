"""Sealed VMs survive a reboot; rollback does not (docs/seal.md, "Across
reboots"). On the measured launch (QEMU, OVMF, GRUB with its tpm module,
swtpm), the TCB keeps each sealed VM's record - key and latest version -
in TPM NV indices that only the same launch (PCRs 0-9) can read or write.
The swtpm state directory plays the TPM chip: the test keeps it across
power-offs, copies it, and puts an old copy back, as an administrator
with the host's storage could."""
import os
import re
import shutil
import subprocess

import harness as h
import test_lifecycle as lc
from custos_platform import Platform

MACHINE = "qemu-svm-uefi"
STORE_INDEX = 0x01004353
PKI = os.path.join(h.BUILD, "pki")
ISO_MODULES = [os.path.join(PKI, "tcb-keys.bin"), os.path.join(PKI, "tcb-certs.bin"),
               os.path.join(h.BUILD, "tpgvm.env")]


def boot(d, sub, state, storage, iso=h.ISO):
    os.makedirs(os.path.join(d, sub))
    return Platform(os.path.join(d, sub), h.MACHINES[MACHINE], iso=iso, storage=storage,
                    tpm_state=state)


def put_blob(pf, name, data):
    """The host puts a blob of its choice where the relay keeps name's."""
    with open(lc.blob_path(pf, name), "wb") as f:
        f.write(data)


def read_blob(pf, name):
    with open(lc.blob_path(pf, name), "rb") as f:
        return f.read()


def modified_hypervisor_iso(d):
    """build/custos.iso with custos.elf changed by one appended byte (GRUB
    loads it all the same, and measures another file into PCR 9)."""
    elf = os.path.join(d, "custos.elf")
    shutil.copy(h.ELF, elf)
    with open(elf, "ab") as f:
        f.write(b"\x01")
    iso = os.path.join(d, "modified.iso")
    subprocess.run([os.path.join(h.ROOT, "tools", "mkiso.sh"), iso,
                    os.path.join(h.ROOT, "boot", "grub.cfg"), elf] + ISO_MODULES,
                   check=True, timeout=120)
    return iso


def host_reads_nv(d, state):
    """What the administrator gets from the store with the swtpm state in
    hand: tpm2_nvread by owner and by the index's own (empty) auth."""
    out = []
    sub = os.path.join(d, "host-tpm")
    os.makedirs(sub)
    shutil.copytree(state, os.path.join(sub, "state"))
    with h.host_tpm(os.path.join(sub, "state"), os.path.join(sub, "tpm.sock")) as env:
        for auth in (["-C", "o"], ["-C", hex(STORE_INDEX)]):
            p = subprocess.run(["tpm2_nvread", hex(STORE_INDEX), "-s", "192"] + auth,
                               capture_output=True, env=env, timeout=60)
            out.append((p.returncode, p.stdout, p.stderr.decode(errors="replace")))
    return out


def test_sealed_vms_survive_a_reboot_and_rollback_is_refused(d):
    state, storage = os.path.join(d, "tpm"), os.path.join(d, "storage")
    os.makedirs(storage)

    # First boot: a fresh TPM. The store is made; c is sealed twice; the
    # TPM's state is copied after v1 (the administrator's old copy); d is
    # sealed and destroyed.
    with boot(d, "first", state, storage) as pf:
        pf.emu.wait_for(r"^vm-store: sealed VM records kept in TPM NV 0x1004353-0x1004354, "
                        r"bound to PCRs 0-9; 0 restored$", 5)
        lc.ok(lc.vm(pf, "create", "c", "--memory", "8M", "--image", lc.COUNTER), "create")
        lc.ok(lc.vm(pf, "start", "c"), "start")
        lc.wait_counter(pf, "c")
        lc.ok(lc.vm(pf, "stop", "c"), "stop (v1)")
        v1 = read_blob(pf, "c")
        shutil.copytree(state, os.path.join(d, "tpm-after-v1"))
        lc.ok(lc.vm(pf, "start", "c"), "start from v1")
        seen = lc.wait_counter(pf, "c")
        lc.ok(lc.vm(pf, "stop", "c"), "stop (v2)")
        last = max(seen + lc.counter_values(pf, "c"))
        v2 = read_blob(pf, "c")
        lc.ok(lc.vm(pf, "create", "d", "--memory", "4M", "--image", lc.COUNTER), "create d")
        lc.ok(lc.vm(pf, "start", "d"), "start d")
        lc.ok(lc.vm(pf, "stop", "d"), "stop d")
        lc.ok(lc.vm(pf, "destroy", "d"), "destroy d")

    # The administrator, with the TPM's state in hand, cannot read the
    # records: no owner or password reads, and the policy wants PCRs 0-9
    # of the measured launch.
    for rc, data, err in host_reads_nv(d, state):
        assert rc != 0 and len(data) < 192, (rc, data, err)

    # Power on again, same TPM: c is back, sealed at v2, and goes on from
    # where it stopped; its v1 blob is a rollback; d's blob opens nothing.
    with boot(d, "second", state, storage) as pf:
        pf.emu.wait_for(r"^vm-store: VM \d+ \(sealed v2\) kept across the reboot$", 5)
        pf.emu.wait_for(r"; 1 restored$", 5)
        st = lc.info(pf, "c")
        assert st["state"] == "sealed" and st["version"] == 2, st
        put_blob(pf, "c", v1)
        lc.fails(lc.vm(pf, "start", "c"), lc.EXIT_FAILED, r"rollback|older",
                 "start with v1 after the reboot")
        put_blob(pf, "c", v2)
        lc.ok(lc.vm(pf, "start", "c"), "start with v2 after the reboot")
        after = lc.wait_counter(pf, "c", above=last)
        assert min(v for v in after if v > 0) > 1, after[:3]
        lc.fails(lc.vm(pf, "status", "d"), lc.EXIT_REFUSED, r"not found", "d after the reboot")
        lc.fails(lc.vm(pf, "start", "d"), lc.EXIT_REFUSED, r"not found", "start d after the reboot")
        lc.ok(lc.vm(pf, "stop", "c"), "stop (v3)")
        v3 = read_blob(pf, "c")

    # The TPM's state set back to the copy taken after v1: its record says
    # v1, the stored blob is v3. Refused, and the console says why.
    rolled = os.path.join(d, "tpm-rolled-back")
    shutil.copytree(os.path.join(d, "tpm-after-v1"), rolled)
    with boot(d, "rolled-back", rolled, storage) as pf:
        pf.emu.wait_for(r"^vm-store: VM \d+ \(sealed v1\) kept across the reboot$", 5)
        put_blob(pf, "c", v3)
        lc.fails(lc.vm(pf, "start", "c"), lc.EXIT_FAILED, r"verif",
                 "start with v3 on a rolled-back TPM")
        pf.emu.wait_for(r"start refused: the blob's version is newer than the record's: "
                        r"not authentic, or the platform's records were rolled back$", 10)

    # A modified hypervisor on the real TPM: PCR 9 differs, the store does
    # not open, the console says so, and no VM comes back.
    with boot(d, "modified", state, storage, iso=modified_hypervisor_iso(d)) as pf:
        pf.emu.wait_for(r"^vm-store: PCRs 0-9 differ from the boot that kept the records: "
                        r"firmware, GRUB, grub\.cfg, the hypervisor or a boot module changed$", 5)
        pf.emu.wait_for(r"^vm-store: the records in NV index 0x1004353 were kept by another "
                        r"measured launch: they stay unopened; sealed VMs are kept in memory "
                        r"only on this boot$", 5)
        # The tenant's CLI does not even talk to it: the quoted log shows
        # another custos.elf than the reference's.
        lc.fails(lc.vm(pf, "status", "c"), lc.EXIT_FAILED,
                 r"GRUB measured /boot/custos\.elf with another SHA-384",
                 "c under a modified hypervisor")
        assert not re.search(r"kept across the reboot", pf.emu.serial())

    # And the genuine hypervisor again: everything is still there (v3).
    with boot(d, "again", state, storage) as pf:
        pf.emu.wait_for(r"^vm-store: VM \d+ \(sealed v3\) kept across the reboot$", 5)
        put_blob(pf, "c", v3)
        lc.ok(lc.vm(pf, "start", "c"), "start with v3 after the modified boot")
        lc.ok(lc.vm(pf, "destroy", "c"), "destroy c")
