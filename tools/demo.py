#!/usr/bin/env python3
"""`make demo`: the real platform end to end, saying each step in plain
words. Boots build/custos.iso on an emulated machine (`--emu`: qemu, QEMU
with an AMD CPU that has SVM; bochs, Bochs with an Intel CPU that has VMX;
or a machine's name from tests/integration/harness.py), showing what the
hypervisor prints on its serial console and naming the CPU backend it runs
on; starts custos-relay (with blob storage) in front of the TPGVM's serial
line; then tenant alice, with the tenant CLI (build/bin/custos): attest ->
create -> start -> console -> stop -> start (the counter continues) ->
destroy.

On a machine with UEFI and a TPM (qemu: qemu-svm-uefi with swtpm) the
platform first gets its production identity, with the project's own tools:
a development boot's report enrolls the TPM's attestation key (custos-ca
enroll), a boot with that enrollment certifies the TCB's TPM-resident keys
(enroll again), the signing station packages the TPGVM for them, the CA
approves the production media's PCRs (custos-ca approve), and the lifecycle
then runs on production media with no key module, which custos attest
verifies without --allow-dev (docs/tpm.md, "TPM-resident TCB keys"),
against the build's reference values as the CA signed them (custos-ca
sign-reference; docs/pki.md, "Signed reference values")."""
import argparse
import os
import re
import subprocess
import sys
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(ROOT, "tests", "integration"))
import harness as h  # noqa: E402
from custos_platform import Platform  # noqa: E402
import test_attest  # noqa: E402
import test_tpm  # noqa: E402

BIN = os.path.join(h.BUILD, "bin")
PKI = os.path.join(h.BUILD, "pki")

# make demo EMU=...: the emulator's name stands for its machine.
EMULATORS = {"qemu": "qemu-svm-uefi", "bochs": "bochs-vmx"}
# What the hypervisor's root-mode line (harness.ROOT_MODE) means, in words.
BACKENDS = {"vmx": "Intel VT-x: VMX root mode, guests under EPT",
            "svm": "AMD-V: SVM, guests under nested page tables (NPT)"}


def say(text):
    print("\n==> " + text, flush=True)


def console(line):
    print("    | " + line, end="", flush=True)


def custos(*args, env=None, timeout=400):
    """Run the tenant CLI, showing the command and its output."""
    cmd = [os.path.join(BIN, "custos")] + list(args)
    shown = ["custos"] + [os.path.relpath(a, ROOT) if a.startswith(ROOT) else a
                          for a in args]
    print("    $ " + " ".join(shown), flush=True)
    p = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout, env=env)
    for line in (p.stdout + p.stderr).splitlines():
        print("      " + line, flush=True)
    return p


def counter_values(text):
    """Values of whole lines only: a console read ends wherever the VM's
    output had got to, maybe inside a line ("counter: 717" of 717000000)."""
    return [int(v) for v in re.findall(r"^counter: (\d+)\n", text, re.M)]


def watch_counter(env, above=0, tries=30):
    """Read the VM's console until the counter shows a value above `above`."""
    seen = []
    for _ in range(tries):
        p = subprocess.run([os.path.join(BIN, "custos"), "vm", "console", "counter"],
                           capture_output=True, text=True, timeout=200, env=env)
        seen += counter_values(p.stdout)
        if seen and max(seen) > above:
            return seen
        time.sleep(2)
    return seen


class Failed(Exception):
    pass


def step(p, what):
    if p.returncode != 0:
        raise Failed("%s failed (exit %d)" % (what, p.returncode))


def lifecycle(pf, d, production, guest="counter"):
    env = dict(os.environ,
               CUSTOS_RELAY="127.0.0.1:%d" % pf.port,
               CUSTOS_CA=os.path.join(PKI, "root.pem"),
               CUSTOS_CERT=os.path.join(PKI, "tenant-alice.pem"),
               CUSTOS_KEY=os.path.join(PKI, "tenant-alice.key"),
               CUSTOS_REFERENCE=os.path.join(h.BUILD, "reference.json"))
    if production:
        # The reference values as a CA publishes them: signed by its root.
        signed = os.path.join(d, "reference.json")
        with open(os.path.join(h.BUILD, "reference.json"), "rb") as src, \
                open(signed, "wb") as dst:
            dst.write(src.read())
        say("The CA signs this build's reference values (custos-ca sign-reference);\n"
            "    the CLI checks the signature with the CA root before it uses them.")
        step(subprocess.run([os.path.join(BIN, "custos-ca"), "sign-reference", "--dir", PKI,
                             signed, "--out", signed + ".sig"], capture_output=True,
                            text=True, timeout=60), "sign-reference")
        env["CUSTOS_REFERENCE"] = signed
        say("Alice's connection settings go in CUSTOS_* variables: relay 127.0.0.1:%d,\n"
            "    CA root build/pki/root.pem, her certificate and key, the signed reference\n"
            "    values. No CUSTOS_ALLOW_DEV: every command attests the platform first and\n"
            "    would refuse a development one." % pf.port)
        say("1. Attest: a signed platform report over a fresh nonce, checked against the\n"
            "    CA root, bound to this TLS session's key, measurements = the signed copy of\n"
            "    build/reference.json; a TPM quote by the enrolled attestation key, and a signature by a TCB key\n"
            "    that key certified to live in the TPM: a production platform.")
    else:
        env["CUSTOS_ALLOW_DEV"] = "1"
        say("Alice's connection settings go in CUSTOS_* variables: relay 127.0.0.1:%d,\n"
            "    CA root build/pki/root.pem, her certificate and key, the reference values,\n"
            "    and CUSTOS_ALLOW_DEV=1 (every command attests the platform first). This\n"
            "    platform is DEV: its TCB keys are on the boot media in the clear (a\n"
            "    development identity; this machine has no TPM to hold them), so without\n"
            "    --allow-dev every command would refuse it and send nothing." % pf.port)
        say("1. Attest: a signed platform report over a fresh nonce, checked against the\n"
            "    CA root, bound to this TLS session's key, measurements = build/reference.json.\n"
            "    The output says DEV and why; what the report claims is shown as claims.")
    p = custos("attest", env=env)
    step(p, "attest")
    if production and not p.stdout.startswith("custos attest: VERIFIED\n"):
        raise Failed("attest did not verify a production platform")
    if production and "signed by the CA root" not in p.stdout:
        raise Failed("attest did not check the reference's signature")
    if not production and "VERIFIED (DEV platform" not in p.stdout:
        raise Failed("attest did not say DEV")
    if guest == "linux":
        linux_lifecycle(pf, d, env)
        return

    secrets = os.path.join(d, "counter.secrets")
    with open(os.open(secrets, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600), "w") as f:
        f.write("# the counter VM's secrets\nROOT_PASSWORD=correct-horse\n")
    say("2. Create a VM 'counter' (32 MiB) from build/guests/counter.elf with a secret\n"
        "    from a file (never on a command line). The image goes up in chunks; the TCB\n"
        "    takes and zeroes the memory, builds the VM's nested page tables, loads the\n"
        "    image, places the secret where only that VM can read it and measures it all\n"
        "    (the secret only as a salted hash); the CLI checks the measurement against\n"
        "    its own computation. The secret's value is never shown.")
    step(custos("vm", "create", "counter", "--memory", "32M",
                "--image", os.path.join(h.BUILD, "guests", "counter.elf"),
                "--secret-file", secrets, env=env), "create")

    say("3. Start it: it runs in the boot state the TCB built at load (nothing can change it\n"
        "    in between); this first start also stores that state sealed, its boot copy.")
    step(custos("vm", "start", "counter", env=env), "start")

    say("4. Its console (kept by the TCB for its owner only, read through the channel):")
    before = watch_counter(env)
    if not before:
        raise Failed("the counter printed nothing")
    print("      counter: %d ... counter: %d  (%d lines read)" % (min(before), max(before),
                                                                 len(before)), flush=True)

    say("5. Stop it: the TCB halts it, seals memory and vCPU state with AES-256-GCM under\n"
        "    the VM's own key, scrubs and frees its memory; the blob goes to the relay's\n"
        "    storage, which can keep it but not read, alter or roll it back.")
    step(custos("vm", "stop", "counter", env=env), "stop")
    for f in sorted(os.listdir(pf.storage)):
        print("      relay storage: %s (%d bytes)" % (f, os.path.getsize(os.path.join(pf.storage, f))),
              flush=True)
    p = subprocess.run([os.path.join(BIN, "custos"), "vm", "console", "counter"],
                       capture_output=True, text=True, timeout=200, env=env)
    last = max(before + counter_values(p.stdout))

    say("6. Start it again: the TCB authenticates the blob, checks VM, owner, measurement\n"
        "    and version, restores memory and CPU state, and the counter goes on from %d." % last)
    step(custos("vm", "start", "counter", env=env), "start from the sealed state")
    after = watch_counter(env, above=last)
    if not after or max(after) <= last:
        raise Failed("the counter did not go on after the restart")
    print("      counter: %d ... counter: %d  (it continued from %d, not from 0)" %
          (min(after), max(after), last), flush=True)

    say("7. Boot it afresh: stop it, then 'start --afresh' opens the boot copy its first\n"
        "    start stored (the VM as loaded and measured, sealed under its key): it starts\n"
        "    over, the counter from the beginning. (A VM that stops itself boots afresh\n"
        "    on a plain 'start'; 'start --resume' resumes it where it stopped.)")
    step(custos("vm", "stop", "counter", env=env), "stop")
    step(custos("vm", "start", "counter", "--afresh", env=env), "start --afresh")
    fresh = watch_counter(env)
    if not fresh or min(fresh) >= min(after):
        raise Failed("the counter did not start over after booting afresh")
    print("      counter: %d ... counter: %d  (it started over)" % (min(fresh), max(fresh)),
          flush=True)

    say("8. Destroy it: memory and vCPU state scrubbed, its key shredded (the stored blob\n"
        "    and boot copy can never be started again), frames freed.")
    step(custos("vm", "destroy", "counter", env=env), "destroy")
    step(custos("vm", "list", env=env), "list")


LINUX = os.path.join(h.BUILD, "linux")


def linux_shell(env, name, commands, want, timeout=300):
    """Type commands into the Linux VM's console (custos vm console
    --interactive, input piped) until `want` shows; print what came back."""
    shown = commands.strip().replace("\n", "; ")
    print("    $ printf '%s\\n' | custos vm console %s --interactive" % (shown, name),
          flush=True)
    end, seen = time.monotonic() + timeout, ""
    while time.monotonic() < end:
        p = subprocess.run([os.path.join(BIN, "custos"), "vm", "console", name,
                            "--interactive", "--idle", "10"], input=commands,
                           capture_output=True, text=True, timeout=400, env=env)
        step(p, "console --interactive")
        seen += p.stdout
        commands = ""
        m = re.search(want, seen, re.M)
        if m:
            # busybox's shell asks the terminal where its cursor is (ESC [6n;
            # the CLI shows the ESC as '?'): noise in a transcript.
            for line in seen.replace("\r", "").replace("?[6n", "").splitlines():
                if line.strip():
                    print("      " + line, flush=True)
            return m
    raise Failed("no %r from the Linux VM's shell" % want)


LINUX_READY = "custos-linux: init ready"  # what the initramfs's /init prints


def linux_boot_log(env, name, timeout=600):
    """Show the VM's console (its kernel's boot log, with quiet: little)
    until its /init says it is ready: what is typed before then is lost
    when the kernel's serial driver resets the UART's FIFO."""
    end, seen = time.monotonic() + timeout, ""
    while time.monotonic() < end:
        p = subprocess.run([os.path.join(BIN, "custos"), "vm", "console", name],
                           capture_output=True, text=True, timeout=200, env=env)
        step(p, "console")
        seen += p.stdout
        if LINUX_READY in seen:
            lines = [l for l in seen.replace("\r", "").replace("?[6n", "").splitlines()
                     if l.strip()]
            shown = [l for l in lines if "Linux version" in l][:1] + ["..."] + lines[-3:]
            for line in shown:
                print("      " + line, flush=True)
            return
        time.sleep(2)
    raise Failed("the Linux VM's /init did not say %r within %d s" % (LINUX_READY, timeout))


def linux_lifecycle(pf, d, env):
    """The same lifecycle with Debian's Linux (a tinyconfig kernel built
    from linux-source-6.1) and a busybox-static initramfs."""
    kernel = os.path.join(LINUX, "bzImage-tiny")
    initrd = os.path.join(LINUX, "initramfs.cpio.gz")
    say("2. Create a Linux VM 'web' (64 MiB): a tinyconfig Linux 6.1 bzImage built from\n"
        "    Debian's linux-source-6.1 (%d KiB) and a busybox-static initramfs (%d KiB),\n"
        "    with its command line. The TCB lays it out as Linux's 64-bit boot protocol\n"
        "    says and measures kernel, initrd and command line; the CLI predicted the\n"
        "    value. The upload crosses the TPGVM's serial line: minutes, not seconds."
        % (os.path.getsize(kernel) >> 10, os.path.getsize(initrd) >> 10))
    # init_on_free=1: the kernel zeroes what it frees (its boot leftovers
    # too), so its sealed blob holds about 11 MiB instead of 19.
    step(custos("vm", "create", "web", "--memory", "64M", "--kernel", kernel,
                "--initrd", initrd, "--cmdline", "console=ttyS0 panic=-1 init_on_free=1",
                "--timeout", "2400", env=env, timeout=2500), "create")
    say("3. Start it. Its kernel boots on the VM's own virtual platform (8259 PIC,\n"
        "    8254 PIT, 16550 console, RTC, i8042), idles in HLT between timer ticks.")
    step(custos("vm", "start", "web", env=env), "start")
    print("    $ custos vm console web   (until its /init is ready)", flush=True)
    linux_boot_log(env, "web")
    say("4. Its console, interactive (custos vm console web --interactive; here with\n"
        "    the commands piped in): a shell in the VM, reached only by its owner.")
    linux_shell(env, "web", "echo hello from $(uname -sr) > /tmp/greeting\n"
                "cat /tmp/greeting\n", r"^hello from Linux 6\.1")
    m = linux_shell(env, "web", "cut -d' ' -f1 /proc/uptime | sed 's/^/up=/'\n",
                    r"^up=(\d+)")
    up = int(m.group(1))
    say("5. Stop it: memory, CPU state, its devices' state and its TSC are sealed.\n"
        "    The blob (megabytes: its kernel and page cache) crosses the TPGVM's serial\n"
        "    line to the relay's storage: this takes minutes.")
    step(custos("vm", "stop", "web", "--timeout", "3000", env=env, timeout=3100), "stop")
    say("6. Start it again: the same shell, the same /tmp, its uptime goes on from %d s." % up)
    step(custos("vm", "start", "web", "--timeout", "3000", env=env, timeout=3100),
         "start from the sealed state")
    m = linux_shell(env, "web", "cat /tmp/greeting; cut -d' ' -f1 /proc/uptime | "
                    "sed 's/^/up=/'\n", r"^hello from Linux[^\n]*\n(?:.*\n)*?up=(\d+)")
    if int(m.group(1)) < up:
        raise Failed("the resumed VM's uptime went back from %d s to %s s" % (up, m.group(1)))
    say("7. Destroy it.")
    step(custos("vm", "destroy", "web", env=env), "destroy")


def attest_saving(pf, report, what):
    p = test_attest.attest(pf.port, "--save-report", report)
    step(p, what)


def ca_tool(*args):
    p = subprocess.run([os.path.join(BIN, "custos-ca")] + list(args), capture_output=True,
                       text=True, timeout=120)
    if p.returncode != 0:
        raise Failed("custos-ca %s failed: %s" % (args[0], p.stderr.strip()))
    return p.stdout


def enroll(ca, ek, report, out):
    return ca_tool("enroll", "--dir", ca, "--report", report, "--ek-cert", ek,
                   "--ek-ca", os.path.join(test_tpm.SWTPM_CA, "swtpm-localca-rootca-cert.pem"),
                   "--ek-ca", os.path.join(test_tpm.SWTPM_CA, "issuercert.pem"),
                   "--cn", "demo-platform", "--out", out)


def provision_production(machine, d):
    """The TPM-resident identity, with the project's tools; the production
    media's ISO."""
    say("Production identity. The TPM (swtpm, with an EK certificate from its\n"
        "    vendor's CA) gets the TCB's keys inside it; they never leave it. The CA here\n"
        "    is the development one in build/pki, whose root key lies in the build tree:\n"
        "    a demo stand-in. A real CA keeps its root key offline, and a production\n"
        "    build trusts only the root it names (make PRODUCTION=1 CA_ROOT=...).")
    state = test_tpm.tpm_with_ek_cert(d, "tpm")
    ca = os.path.join(d, "ca")
    os.makedirs(ca)
    for f in ("root.key", "root.pem", "root.der"):
        subprocess.run(["cp", os.path.join(PKI, f), ca], check=True)
    r1, r2 = os.path.join(d, "dev.rpt"), os.path.join(d, "enrolled.rpt")
    say("a. Boot the development media once: its report carries the TPM's attestation\n"
        "    key, its EK certificate, and the TCB keys the attestation key certified.")
    os.makedirs(os.path.join(d, "boot-a"))
    with Platform(os.path.join(d, "boot-a"), machine, tpm_state=state) as pf:
        attest_saving(pf, r1, "attest (development boot)")
    test_attest.report_evidence(open(r1, "rb").read())
    ek = os.path.join(d, "ek.der")
    with open(ek, "wb") as f:
        f.write(test_attest.report_evidence.certs[0])
    say("b. custos-ca enroll: the EK certificate checks out against the vendor's CA;\n"
        "    the CA answers with a credential only that TPM can activate.")
    print("      " + enroll(ca, ek, r1, os.path.join(d, "p1")).strip().replace("\n", "\n      "))
    module = os.path.join(d, "p1-enroll.bin")
    say("c. Boot with that answer: the TPM activates it; the next report proves the\n"
        "    attestation key is in that TPM, and custos-ca enroll certifies the TCB's\n"
        "    TPM-resident keys (tcb-sign, tcb-kex).")
    os.makedirs(os.path.join(d, "boot-c"))
    with Platform(os.path.join(d, "boot-c"), machine, iso=test_tpm.enrollment_iso(d, module),
                  tpm_state=state) as pf:
        attest_saving(pf, r2, "attest (enrolled boot)")
    enroll(ca, ek, r2, os.path.join(d, "p2"))
    say("d. custos-station packages the TPGVM for that tcb-kex; custos-ca approve\n"
        "    predicts the PCRs the production media (no key module) will give this\n"
        "    platform, and signs them; the approval goes into the TPM's NV.")
    env_file = os.path.join(d, "prod.env")
    p = subprocess.run([os.path.join(BIN, "custos-station"), "package",
                        "--ca", os.path.join(PKI, "root.pem"),
                        "--station-key", os.path.join(PKI, "station.key"),
                        "--station-cert", os.path.join(PKI, "station.pem"),
                        "--tcb-cert", os.path.join(d, "p2-tcb-kex.pem"),
                        "--image", os.path.join(h.BUILD, "guests", "tpgvm.elf"),
                        "--platform-id", "custos-dev",
                        "--tenant-ca", os.path.join(PKI, "root.pem"),
                        "--out", env_file, "--policy-out", env_file + ".policy"],
                       capture_output=True, text=True, timeout=120)
    step(p, "custos-station package")
    ca_tool("approve", "--dir", ca, "--report", r2, "--drop", "/boot/tcb-keys.bin",
            "--file", "/boot/tcb-certs.bin=" + os.path.join(d, "p2-tcb-certs.bin"),
            "--file", "/boot/tpgvm.env=" + env_file, "--out", os.path.join(d, "approval.bin"))
    test_tpm.host_writes_approval(d, state, os.path.join(d, "approval.bin"))
    iso = test_tpm.production_iso(d, module, os.path.join(d, "p2-tcb-certs.bin"), env_file)
    return iso, state


def machine_named(emu):
    name = EMULATORS.get(emu, emu)
    m = h.MACHINES.get(name)
    if not m or not m.backend:
        raise SystemExit("demo: no emulator or machine %r (emulators: %s; machines: %s)"
                         % (emu, ", ".join(EMULATORS), ", ".join(
                             n for n, m in h.MACHINES.items() if m.backend)))
    return m


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--emu", required=True,  # its default is make's EMU
                    help="qemu, bochs, or a machine of tests/integration/harness.py")
    ap.add_argument("--guest", default="counter", choices=("counter", "linux"),
                    help="the tenant's VM: the counter guest, or Linux")
    args = ap.parse_args()
    machine = machine_named(args.emu)
    start = time.monotonic()
    say("make built and provisioned a development platform in build/pki: an offline CA\n"
        "    (custos-ca), a signing station that packaged the TPGVM for this TCB\n"
        "    (custos-station -> build/tpgvm.env), the TCB's keys and certificates, and two\n"
        "    tenants, alice and bob. The CA root is compiled into the hypervisor.")
    say("Booting build/custos.iso on %s (%s, 256 MiB).\n"
        "    GRUB2 loads custos.elf via Multiboot2; lines marked | are its serial console.\n"
        "    It enters the CPU's virtualization mode (VMX on Intel, SVM on AMD), self-tests\n"
        "    its crypto, opens the signing station's envelope with its TCB key, measures\n"
        "    the TPGVM and launches it." % (machine.name, machine.description))
    d = h.run_dir("demo")
    storage = os.path.join(d, "storage")
    os.makedirs(storage)
    production = machine.name == "qemu-svm-uefi"
    iso, state = h.ISO, None
    if production:
        try:
            iso, state = provision_production(machine, d)
        except (Failed, AssertionError) as e:
            say("Provisioning the production identity failed: %s\n    (logs in %s)"
                % (str(e).splitlines()[0], os.path.relpath(d, ROOT)))
            return 1
        say("e. Boot the production media: no TCB key module; the envelope is opened by\n"
            "    ECDH inside the TPM, and reports are signed there.")
    hw = {"tpm_state": state} if state else {}
    os.makedirs(os.path.join(d, "platform"))
    try:
        pf = Platform(os.path.join(d, "platform"), machine, echo=console, storage=storage,
                      iso=iso, **hw)
    except AssertionError as e:
        say("The platform did not come up on %s: %s\n    (its console is above; logs in %s)"
            % (machine.name, str(e).splitlines()[0], os.path.relpath(d, ROOT)))
        return 1
    with pf:
        time.sleep(0.5)  # let the console catch up
        line = pf.backend_line()
        if not line:
            say("The hypervisor serves but never said which backend it runs: a bug.")
            return 1
        backend = re.match(h.ROOT_MODE, line).group(1)
        say("The hypervisor runs on %s's CPU backend, %s. It said:\n    %s"
            % (machine.name, BACKENDS[backend], line))
        fw = re.search(r"^tpm: the firmware's and GRUB's event log .*$", pf.emu.serial(), re.M)
        if fw:
            say("Measured launch: OVMF measured itself, GRUB measured custos.elf, its\n"
                "    modules and command line into PCRs 8-9; the hypervisor took the event\n"
                "    log before leaving UEFI's boot services and checked it against the TPM:\n"
                "    %s" % fw.group(0))
        tpm = re.search(r"^tpm: .*$", pf.emu.serial(), re.M)
        pcrs = re.findall(r"^tpm: PCR (\d+) \S+ matches the log$", pf.emu.serial(), re.M)
        if tpm and pcrs:
            say("This machine has a TPM 2.0 (swtpm). The hypervisor said:\n    %s\n"
                "    and extended every measurement into PCRs %s, which it read back:\n"
                "    they match its log. Every report carries a TPM quote over PCRs 0-15,\n"
                "    which custos attest checks (docs/tpm.md)."
                % (tpm.group(0), ", ".join(pcrs)))
        elif tpm:
            say("The hypervisor said:\n    %s" % tpm.group(0))
        say("The TPGVM made its TLS key inside itself and serves on COM2; custos-relay\n"
            "    (untrusted, on the host) carries tenant connections to it and stores\n"
            "    sealed blobs in %s." % os.path.relpath(storage, ROOT))
        try:
            lifecycle(pf, d, production, args.guest)
        except Failed as e:
            say("%s; transcript and logs in %s." % (e, os.path.relpath(d, ROOT)))
            return 1
    say("Done in %.0f s on %s (%s): attested, created, started, watched, sealed,\n"
        "    resumed%s and destroyed a VM without the host ever seeing its memory,\n"
        "    registers or secret." % (time.monotonic() - start, machine.name,
                                      BACKENDS[backend].split(":")[0],
                                      "" if args.guest == "linux" else ", booted afresh"))
    return 0


if __name__ == "__main__":
    sys.exit(main())
