#!/usr/bin/env python3
"""`make bench`: how long the tenant-visible operations take on the real
platform in Bochs, and how large a sealed blob is. Wall-clock figures under
emulation (Bochs runs a few tens of millions of instructions a second), so
they compare builds on one machine, not platforms; nothing here asserts a
time. Prints one line per measurement and a JSON summary at the end
(bench/results.json is not kept: the numbers depend on the machine)."""
import json
import os
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


def timed(env, *args):
    start = time.monotonic()
    p = subprocess.run([CUSTOS] + list(args), capture_output=True, text=True,
                       env=env, timeout=600)
    took = time.monotonic() - start
    if p.returncode != 0:
        raise SystemExit("bench: %s failed (exit %d):\n%s%s" % (
            " ".join(args), p.returncode, p.stdout, p.stderr))
    return took


def main():
    d = h.run_dir("bench_lifecycle")
    storage = os.path.join(d, "storage")
    os.makedirs(storage)
    results = {}
    start = time.monotonic()
    with Platform(d, h.BOCHS_VMX, storage=storage) as pf:
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
            blob = [f for f in os.listdir(storage) if f.endswith("-bench.sealed")][0]
            results["sealed_blob_bytes_32M_counter"] = os.path.getsize(os.path.join(storage, blob))
            steps["resume"].append(timed(env, "vm", "start", "bench"))
            steps["destroy"].append(timed(env, "vm", "destroy", "bench"))
        for k, v in steps.items():
            results[k + "_s_median"] = round(statistics.median(v), 2)
            print("%-8s median %6.2f s  (%s)" % (k, statistics.median(v),
                                                 ", ".join("%.2f" % x for x in v)), flush=True)
    results["image_bytes_counter"] = os.path.getsize(image)
    results["rounds"] = ROUNDS
    print("blob    %d bytes for a 32 MiB counter VM" % results["sealed_blob_bytes_32M_counter"])
    print(json.dumps(results, sort_keys=True))
    return 0


if __name__ == "__main__":
    sys.exit(main())
