#!/usr/bin/env python3
"""`make bench`: how long the tenant-visible operations take on the real
platform in Bochs, and how large a sealed blob is; each step against the
VM's size (4, 64, 256 MiB) with the TCB's own instructions per VM page and
per blob byte for stop and resume (its log lines' TCB cycles: Bochs' TSC
counts instructions); the per-command floor
(N `custos vm status` on their own, each with its handshake and
attestation, against one `custos vm shell` of N lines); and a Linux VM's
upload, boot time to its init and its shell, stop and resume. Wall-clock figures under
emulation (Bochs runs a few tens of millions of instructions a second), so
they compare builds on one machine, not platforms; nothing here asserts a
time. Prints one line per measurement and a JSON summary at the end, also
written to build/bench/lifecycle.json (not kept in the tree: the numbers
depend on the machine; bench/compare.py compares two runs)."""
import json
import os
import re
import statistics
import subprocess
import sys
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(ROOT, "tests", "integration"))
import harness as h  # noqa: E402
from custos_platform import Platform  # noqa: E402

CUSTOS = os.path.join(h.BUILD, "bin", "custos")
PKI = os.path.join(h.BUILD, "pki")
ROUNDS = int(os.environ.get("CUSTOS_BENCH_ROUNDS", "3"))
# Status commands in the per-command floor's comparison (at least 2).
STATUS_N = max(2, int(os.environ.get("CUSTOS_BENCH_STATUS_N", "10")))


# A Linux VM's upload, stop and resume move megabytes over the TPGVM's
# serial line: the CLI is given this long (--timeout) for them.
LONG_S = 3000


def timed(env, *args, limit=600):
    start = time.monotonic()
    p = subprocess.run([CUSTOS] + list(args), capture_output=True, text=True,
                       env=env, timeout=limit + 60)
    took = time.monotonic() - start
    if p.returncode != 0:
        raise SystemExit("bench: %s failed (exit %d):\n%s%s" % (
            " ".join(args), p.returncode, p.stdout, p.stderr))
    return took


def linux_boot(env, storage, results):
    """A Linux VM (make linux-assets): its upload, and the time from start
    to its init's marker, then to the shell answering a command; the
    sealed blob of the booted VM. Once: each run takes minutes."""
    kernel = os.path.join(h.BUILD, "linux", "bzImage-tiny")
    initrd = os.path.join(h.BUILD, "linux", "initramfs.cpio.gz")
    if not (os.path.isfile(kernel) and os.path.isfile(initrd)):
        print("linux   not measured: no build/linux/ (make linux-assets)", flush=True)
        results["linux"] = "not measured: make linux-assets first"
        return
    size = os.path.getsize(kernel) + os.path.getsize(initrd)
    took = timed(env, "vm", "create", "tux", "--memory", "64M", "--kernel", kernel,
                 "--initrd", initrd, "--cmdline", "console=ttyS0 panic=-1 init_on_free=1",
                 "--timeout", str(LONG_S), limit=LONG_S)
    results["linux_upload_s"] = round(took, 1)
    results["linux_upload_bytes"] = size
    start = time.monotonic()
    timed(env, "vm", "start", "tux")
    seen, marker = "", None
    while time.monotonic() - start < 1200:
        seen += subprocess.run([CUSTOS, "vm", "console", "tux"], capture_output=True,
                               text=True, env=env, timeout=300).stdout
        if marker is None and "custos-linux: init ready" in seen:
            marker = time.monotonic() - start
            break
        time.sleep(1)
    if marker is None:
        raise SystemExit("bench: the Linux VM did not reach its init:\n" + seen[-2000:])
    results["linux_start_to_init_s"] = round(marker, 1)
    p = subprocess.run([CUSTOS, "vm", "console", "tux", "--interactive", "--idle", "5"],
                       input="echo bench-$((40+2))\n", capture_output=True, text=True,
                       env=env, timeout=600)
    results["linux_start_to_shell_answer_s"] = round(time.monotonic() - start, 1)
    if "bench-42" not in p.stdout:
        raise SystemExit("bench: the Linux VM's shell did not answer:\n" + p.stdout[-2000:])
    results["linux_stop_s"] = round(timed(env, "vm", "stop", "tux", "--timeout", str(LONG_S),
                                          limit=LONG_S), 1)
    # the one VM's blob (stored under an opaque name: tpgvm/storage.h)
    blob = [f for f in os.listdir(storage) if f.endswith(".sealed")][0]
    results["linux_sealed_blob_bytes_64M"] = os.path.getsize(os.path.join(storage, blob))
    results["linux_resume_s"] = round(timed(env, "vm", "start", "tux", "--timeout",
                                            str(LONG_S), limit=LONG_S), 1)
    timed(env, "vm", "destroy", "tux")
    print("linux   upload %.0f s for %d bytes (%.1f KiB/s); start to init %.1f s, to a "
          "shell answer %.1f s; stop %.1f s (blob %d bytes), resume %.1f s"
          % (results["linux_upload_s"], size, size / 1024 / max(took, 0.1),
             results["linux_start_to_init_s"], results["linux_start_to_shell_answer_s"],
             results["linux_stop_s"], results["linux_sealed_blob_bytes_64M"],
             results["linux_resume_s"]), flush=True)


def shell_run(env, lines, limit=600):
    """One `custos vm shell` over lines; its wall-clock seconds."""
    start = time.monotonic()
    p = subprocess.run([CUSTOS, "vm", "shell"], input=lines, capture_output=True,
                       text=True, env=env, timeout=limit + 60)
    took = time.monotonic() - start
    if p.returncode != 0:
        raise SystemExit("bench: custos vm shell failed (exit %d):\n%s%s" % (
            p.returncode, p.stdout, p.stderr))
    return took


def per_command_floor(env, image, results):
    """What one command costs beyond its own request: N `custos vm status`
    runs (a TLS handshake and an attestation each) against one `custos vm
    shell` of N status lines (one of each for all), and a shell of one line,
    so that (shell N - shell 1) / (N - 1) is a command's cost on an open
    session. The shells run three times each and count by their medians:
    one handshake more or less of the TPGVM's time (a busy host) would
    swamp a few further lines."""
    n = STATUS_N
    timed(env, "vm", "create", "floor", "--memory", "2M", "--image", image)
    alone = [timed(env, "vm", "status", "floor") for _ in range(n)]
    one = statistics.median(shell_run(env, "status floor\n") for _ in range(3))
    many = statistics.median(shell_run(env, "status floor\n" * n) for _ in range(3))
    timed(env, "vm", "destroy", "floor")
    results["status_n"] = n
    results["status_alone_s_per_command"] = round(sum(alone) / n, 2)
    results["status_shell_s_per_command"] = round(many / n, 2)
    results["status_shell_s_one_line"] = round(one, 2)
    results["status_shell_s_per_command_on_open_session"] = round((many - one) / (n - 1), 2)
    print("status  %d alone: %.2f s a command; one shell of %d lines: %.2f s (%.2f s a "
          "command; %.2f s for one line, %.2f s a further line)"
          % (n, sum(alone) / n, n, many, many / n, one, (many - one) / (n - 1)), flush=True)


SIZES_MIB = (4, 64, 256)


def tcb_cycles(serial, name, what):
    """The TCB's own TSC cycles for the last create, stop ('sealed'),
    resume or destroy of a VM, from its log line (docs/lifecycle.md, "Log lines"): in Bochs, whose
    TSC counts instructions, its instructions. Also the blob's bytes for a
    stop. The line names the VM by id only (the host must not learn the
    name its tenant chose), so this takes the latest line of that kind:
    the benchmark runs one step of one VM at a time, and asks right after
    it; `name` says whose step the caller means."""
    if what == "sealed":
        m = re.findall(r"^lifecycle: vm \d+ sealed v\d+ \((\d+) pages, (\d+) bytes\), "
                       r"\d+ frames free, (\d+) TCB cycles$", serial, re.M)
        assert m, "no seal of %s in the platform log" % name
        pages, blob, cycles = m[-1]
        return int(cycles), int(blob), int(pages)
    line = {"resumed": r"resumed from v\d+", "created": r"created \(\d+ MiB\)",
            "destroyed": "destroyed"}[what]
    m = re.findall(r"^lifecycle: vm \d+ %s, \d+ frames free, (\d+) TCB cycles$" % line,
                   serial, re.M)
    assert m, "no '%s' line of %s in the platform log" % (what, name)
    return int(m[-1]), None, None


def lifecycle_by_size(pf, env, image, results):
    """Each step against the VM's size (a counter VM of 4, 64 and 256 MiB:
    a few non-zero pages, the rest empty): wall time, and the TCB's
    instructions per 4 KiB page of the VM and per byte of the blob."""
    for mib in SIZES_MIB:
        name = "size%d" % mib
        t = {"create": timed(env, "vm", "create", name, "--memory", "%dM" % mib,
                             "--image", image),
             "start": timed(env, "vm", "start", name)}
        time.sleep(2)
        t["stop"] = timed(env, "vm", "stop", name)
        t["resume"] = timed(env, "vm", "start", name)
        t["destroy"] = timed(env, "vm", "destroy", name)
        serial = pf.emu.serial()
        stop_c, blob, pages = tcb_cycles(serial, name, "sealed")
        resume_c, _, _ = tcb_cycles(serial, name, "resumed")
        create_c, _, _ = tcb_cycles(serial, name, "created")
        destroy_c, _, _ = tcb_cycles(serial, name, "destroyed")
        vm_pages = mib * 256
        results["create_tcb_instructions_per_vm_page_%dM" % mib] = round(create_c / vm_pages, 1)
        results["destroy_tcb_instructions_per_vm_page_%dM" % mib] = round(destroy_c / vm_pages, 1)
        for k, v in t.items():
            results["%s_s_%dM" % (k, mib)] = round(v, 2)
        results["stop_tcb_instructions_per_vm_page_%dM" % mib] = round(stop_c / vm_pages, 1)
        results["resume_tcb_instructions_per_vm_page_%dM" % mib] = round(resume_c / vm_pages, 1)
        results["stop_tcb_instructions_per_blob_byte_%dM" % mib] = round(stop_c / blob, 2)
        results["resume_tcb_instructions_per_blob_byte_%dM" % mib] = round(resume_c / blob, 2)
        print("%3d MiB  create %.1f s, start %.1f s, stop %.1f s, resume %.1f s, destroy %.1f s; "
              "TCB instructions a VM page: create %.0f, destroy %.0f; stop %d (%.0f a VM page, %.2f a blob byte; %d pages sealed), "
              "resume %d (%.0f a VM page, %.2f a blob byte)"
              % (mib, t["create"], t["start"], t["stop"], t["resume"], t["destroy"],
                 create_c / vm_pages, destroy_c / vm_pages, stop_c, stop_c / vm_pages, stop_c / blob, pages,
                 resume_c, resume_c / vm_pages, resume_c / blob), flush=True)


def seal_cost(pf, env, image, d, results):
    """What sealing and opening cost a byte of blob in the TCB: a 4 MiB
    counter VM carrying 1 MiB of random init data (so the blob is mostly
    pages of it), its stop and resume in TCB instructions (Bochs) per blob
    byte, less what the same steps cost an empty VM of that size (the scan
    and scrub of every page, lifecycle_by_size). The smallest size keeps
    that part small: it depends on the frames a resume gets (zeroed
    already, or not: docs/lifecycle.md, "What a step costs, per page"), and with
    64 MiB it was larger than the 1 MiB's own cost."""
    data = os.path.join(d, "random-1M")
    with open(data, "wb") as f:
        f.write(os.urandom(1 << 20))
    name = "sealcost"
    timed(env, "vm", "create", name, "--memory", "4M", "--image", image,
          "--init-data", data, "--timeout", str(LONG_S), limit=LONG_S)
    timed(env, "vm", "start", name)
    time.sleep(2)
    timed(env, "vm", "stop", name, "--timeout", str(LONG_S), limit=LONG_S)
    timed(env, "vm", "start", name, "--timeout", str(LONG_S), limit=LONG_S)
    timed(env, "vm", "destroy", name)
    serial = pf.emu.serial()
    stop_c, blob, pages = tcb_cycles(serial, name, "sealed")
    resume_c, _, _ = tcb_cycles(serial, name, "resumed")
    base_stop = results.get("stop_tcb_instructions_per_vm_page_4M", 0) * 4 * 256
    base_resume = results.get("resume_tcb_instructions_per_vm_page_4M", 0) * 4 * 256
    results["seal_blob_bytes_1M_data"] = blob
    results["seal_tcb_instructions_per_byte"] = round((stop_c - base_stop) / blob, 2)
    results["open_tcb_instructions_per_byte"] = round((resume_c - base_resume) / blob, 2)
    print("seal    %d pages, blob %d bytes: stop %d TCB instructions, resume %d; less the "
          "empty 4 MiB VM's: %.2f a byte to seal, %.2f to open"
          % (pages, blob, stop_c, resume_c, results["seal_tcb_instructions_per_byte"],
             results["open_tcb_instructions_per_byte"]), flush=True)


def main():
    d = h.run_dir("bench_lifecycle")
    storage = os.path.join(d, "storage")
    os.makedirs(storage)
    results = {}
    start = time.monotonic()
    # Room for a 256 MiB VM beside the TPGVM (lifecycle_by_size).
    with Platform(d, h.BOCHS_VMX, storage=storage, megs=512) as pf:
        results["boot_to_tpgvm_serving_s"] = round(time.monotonic() - start, 1)
        env = dict(os.environ,
                   CUSTOS_RELAY="127.0.0.1:%d" % pf.port,
                   CUSTOS_CA=os.path.join(PKI, "root.pem"),
                   CUSTOS_CERT=os.path.join(PKI, "tenant-alice.pem"),
                   CUSTOS_KEY=os.path.join(PKI, "tenant-alice.key"),
                   CUSTOS_REFERENCE=os.path.join(h.BUILD, "reference.json"),
                   CUSTOS_ALLOW_DEV="1")
        steps = {k: [] for k in ("attest", "create", "start", "stop", "resume", "destroy")}
        image = os.path.join(h.BUILD, "guests", "counter.elf")
        for i in range(ROUNDS):
            steps["attest"].append(timed(env, "attest"))
            steps["create"].append(timed(env, "vm", "create", "bench", "--memory", "32M",
                                         "--image", image))
            steps["start"].append(timed(env, "vm", "start", "bench"))
            time.sleep(2)
            steps["stop"].append(timed(env, "vm", "stop", "bench"))
            blob = [f for f in os.listdir(storage) if f.endswith(".sealed")][0]
            results["sealed_blob_bytes_32M_counter"] = os.path.getsize(os.path.join(storage, blob))
            steps["resume"].append(timed(env, "vm", "start", "bench"))
            steps["destroy"].append(timed(env, "vm", "destroy", "bench"))
        for k, v in steps.items():
            results[k + "_s_median"] = round(statistics.median(v), 2)
            print("%-8s median %6.2f s  (%s)" % (k, statistics.median(v),
                                                 ", ".join("%.2f" % x for x in v)), flush=True)
        lifecycle_by_size(pf, env, image, results)
        seal_cost(pf, env, image, d, results)
        per_command_floor(env, image, results)
        linux_boot(env, storage, results)
    results["image_bytes_counter"] = os.path.getsize(image)
    results["rounds"] = ROUNDS
    print("blob    %d bytes for a 32 MiB counter VM" % results["sealed_blob_bytes_32M_counter"])
    print(json.dumps(results, sort_keys=True))
    out = os.path.join(h.BUILD, "bench", "lifecycle.json")
    os.makedirs(os.path.dirname(out), exist_ok=True)
    with open(out, "w") as f:
        json.dump(results, f, indent=1, sort_keys=True)
    print("written to %s (bench/compare.py compares two such files)" % out)
    return 0


if __name__ == "__main__":
    sys.exit(main())
