#!/usr/bin/env python3
"""Run every Custos test suite and print one closing line "N passed, M failed".

Suites: the cmocka unit tests (build/tests/test_*), a short smoke run of each
libFuzzer target (build/fuzz/fuzz_*), lint (cppcheck, gcc -fanalyzer), and the
integration tests in tests/integration/test_*.py, which boot the real ISO in
Bochs and QEMU. `make test` builds everything first; this script only runs.

    python3 tests/run.py [SUBSTRING ...]   run only tests whose name contains one
                                           (none matching: exit 2, not success)
    python3 tests/run.py --list [SUBSTRING ...]   list the integration runs

An integration test that boots the hypervisor runs once per machine it names
(harness.on) and that is switched on (harness.MACHINES_ON, or CUSTOS_MACHINES:
machine names, comma separated, or "all"), as MODULE.TEST[MACHINE]; runs on
machines switched off are listed at the end, never counted as passed.

Fuzz targets and integration tests run CUSTOS_TEST_JOBS at a time (default:
one per core); each integration test in a process of its own (`run.py --one
NAME`), so that one test's clean-up never touches another's emulator, the
longest (as they last took here) first.
"""
import glob
import importlib
import json
import os
import re
import shutil
import subprocess
import sys
import time
import traceback
from concurrent.futures import ThreadPoolExecutor, as_completed

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
BUILD = os.path.join(ROOT, "build")
FUZZ_SECONDS = int(os.environ.get("CUSTOS_FUZZ_SECONDS", "6"))
FUZZ_INPUT_SECONDS = 20  # one input longer than this fails the target
JOBS = max(1, int(os.environ.get("CUSTOS_TEST_JOBS", len(os.sched_getaffinity(0)))))
# One integration test may take this long, emulator timeouts included.
TEST_TIMEOUT = 2400

sys.path.insert(0, os.path.join(ROOT, "tests", "integration"))


class Tally:
    def __init__(self):
        self.passed = 0
        self.failed = []
        self.notes = []

    def not_run(self, what):
        """Tests that were not run, said at the end (never counted passed)."""
        self.notes.append(what)

    def record(self, name, ok, detail="", seconds=None):
        took = " (%.1fs)" % seconds if seconds is not None else ""
        if ok:
            self.passed += 1
            print("PASS  %s%s" % (name, took), flush=True)
        else:
            self.failed.append(name)
            print("FAIL  %s%s" % (name, took), flush=True)
            if detail:
                print("      " + detail.rstrip().replace("\n", "\n      "), flush=True)


def selected(name, filters):
    return not filters or any(f in name for f in filters)


def run_unit(tally, filters):
    """Each cmocka binary: count its own PASSED/FAILED lines."""
    for exe in sorted(glob.glob(os.path.join(BUILD, "tests", "test_*"))):
        if exe.endswith(".d") or not os.access(exe, os.X_OK):
            continue
        name = "unit/" + os.path.basename(exe)
        if not selected(name, filters):
            continue
        start = time.monotonic()
        try:
            p = subprocess.run([exe], capture_output=True, text=True, timeout=300)
            out, rc = p.stdout + p.stderr, p.returncode
        except subprocess.TimeoutExpired as e:
            out, rc = (e.stdout or b"").decode(errors="replace") + "\n(timeout)", -1
        seconds = time.monotonic() - start
        passed = sum(int(n) for n in re.findall(r"\[  PASSED  \] (\d+) test", out))
        failed_names = re.findall(r"\[  FAILED  \] (\S+)$", out, re.M)
        for _ in range(passed):
            tally.passed += 1
        for t in failed_names:
            tally.record("%s:%s" % (name, t), False, out[-3000:])
        if rc != 0 and not failed_names:
            tally.record(name, False, "exit status %d\n%s" % (rc, out[-3000:]))
        elif rc == 0 and passed == 0:
            tally.record(name, False, "ran no test\n" + out[-2000:])
        else:
            print("PASS  %s: %d passed, %d failed (%.1fs)"
                  % (name, passed, len(failed_names), seconds), flush=True)


def fuzz_one(exe):
    """One target's smoke run; returns (name, ok, detail, seconds)."""
    target = os.path.basename(exe)[len("fuzz_"):]
    work = os.path.join(BUILD, "test-runs", "fuzz", target)
    shutil.rmtree(work, ignore_errors=True)
    corpus = os.path.join(work, "corpus")
    seeds = os.path.join(ROOT, "tests", "fuzz", "corpus", target)
    if os.path.isdir(seeds):
        shutil.copytree(seeds, corpus)
    else:
        os.makedirs(corpus)
    start = time.monotonic()
    # -timeout: one input that runs FUZZ_INPUT_SECONDS is a failure that
    # libFuzzer reports and saves (timeout-* in the work folder), instead of
    # a run that outlasts max_total_time, which it checks between inputs.
    cmd = [exe, "-max_total_time=%d" % FUZZ_SECONDS, "-timeout=%d" % FUZZ_INPUT_SECONDS,
           "-artifact_prefix=%s/" % work, "-print_final_stats=1", corpus]
    try:
        p = subprocess.run(cmd, capture_output=True, text=True,
                           timeout=FUZZ_SECONDS + FUZZ_INPUT_SECONDS + 120)
    except subprocess.TimeoutExpired as e:
        out = "".join(x.decode("utf-8", "replace") if isinstance(x, bytes) else x
                      for x in (e.stdout, e.stderr) if x)
        return ("fuzz/%s (did not finish)" % target, False,
                "killed after %d s: %s\n%s" % (e.timeout, " ".join(cmd), out[-2000:]),
                time.monotonic() - start)
    out = p.stdout + p.stderr
    runs = re.search(r"stat::number_of_executed_units:\s*(\d+)", out)
    detail = "" if p.returncode == 0 else out[-3000:]
    if p.returncode == 0 and not runs:
        detail = "no run statistics\n" + out[-2000:]
    return ("fuzz/%s (%s runs)" % (target, runs.group(1) if runs else "?"),
            p.returncode == 0 and runs is not None, detail, time.monotonic() - start)


def run_fuzz(tally, filters):
    """A short libFuzzer run per target, from its seed corpus (copied, so the
    committed corpus is never modified). Any crash, leak or UB fails."""
    exes = [exe for exe in sorted(glob.glob(os.path.join(BUILD, "fuzz", "fuzz_*")))
            if not exe.endswith(".d") and os.access(exe, os.X_OK)
            and selected("fuzz/" + os.path.basename(exe)[len("fuzz_"):], filters)]
    with ThreadPoolExecutor(max_workers=JOBS) as pool:
        for name, ok, detail, seconds in pool.map(fuzz_one, exes):
            tally.record(name, ok, detail, seconds)


def run_lint(tally, filters):
    if not selected("lint", filters):
        return
    start = time.monotonic()
    p = subprocess.run(["make", "--no-print-directory", "-C", ROOT, "lint"],
                       capture_output=True, text=True, timeout=900)
    tally.record("lint (cppcheck, gcc -fanalyzer)", p.returncode == 0,
                 (p.stdout + p.stderr)[-4000:], time.monotonic() - start)


class IntegrationRun:
    """One run of an integration test: the test on one machine (named
    "integration/MODULE.TEST[MACHINE]"), or a test that names its own
    machines or boots none ("integration/MODULE.TEST")."""

    def __init__(self, module, fn, machine=None):
        self.fn, self.machine = fn, machine
        self.name = "integration/%s.%s" % (module.__name__, fn.__name__)
        self.dir_name = fn.__name__
        if machine:
            self.name += "[%s]" % machine.name
            self.dir_name += "." + machine.name

    def run(self, harness):
        d = harness.run_dir(self.dir_name)
        if self.machine:
            self.fn(d, self.machine)
        else:
            self.fn(d)


# Slow runs left out (harness.slow), with why: listed at the end.
SLOW_NOT_RUN = []


def integration_tests():
    """([IntegrationRun], [names of runs on machines switched off]) of every
    integration test, in file order, a run per machine it is @on that is
    switched on (harness.MACHINES_ON, CUSTOS_MACHINES)."""
    import harness
    on = harness.machines_on()
    runs, off = [], []
    slow = harness.slow_on()
    for path in sorted(glob.glob(os.path.join(ROOT, "tests", "integration", "test_*.py"))):
        mod = importlib.import_module(os.path.basename(path)[:-3])
        for attr in sorted(vars(mod), key=lambda a: getattr(getattr(mod, a), "__code__", None)
                           and getattr(mod, a).__code__.co_firstlineno or 0):
            fn = getattr(mod, attr)
            if not (attr.startswith("test_") and callable(fn)):
                continue
            if getattr(fn, "slow", None) and not slow:
                for name in getattr(fn, "machines", (None,)):
                    run = IntegrationRun(mod, fn, harness.MACHINES[name] if name else None)
                    SLOW_NOT_RUN.append((run.name, fn.slow))
                continue
            if not hasattr(fn, "machines"):
                runs.append(IntegrationRun(mod, fn))
                continue
            for name in fn.machines:
                run = IntegrationRun(mod, fn, harness.MACHINES[name])
                (runs if run.machine in on else off).append(run)
    return runs, [run.name for run in off]


def run_one(name):
    """Run one integration test in this process: exit 0 if it passed; what
    failed goes to stdout."""
    import harness
    for run in integration_tests()[0]:
        if run.name == name:
            try:
                run.run(harness)
                return 0
            except Exception as e:  # a failed assertion or a broken harness
                print(str(e) if isinstance(e, AssertionError) else traceback.format_exc())
                return 1
            finally:
                harness.kill_all()
    print("no integration test %s (on a machine switched on)" % name)
    return 2


def integration_child(name):
    """One test in a process of its own (and its own process group, killed
    whole if the test overruns); returns (name, ok, detail, seconds)."""
    start = time.monotonic()
    p = subprocess.Popen([sys.executable, os.path.abspath(__file__), "--one", name],
                         stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                         start_new_session=True)
    try:
        out, _ = p.communicate(timeout=TEST_TIMEOUT)
    except subprocess.TimeoutExpired:
        os.killpg(p.pid, 9)
        out, _ = p.communicate()
        out += "\n(the test overran %d s and was killed)" % TEST_TIMEOUT
    return name, p.returncode == 0, head_and_tail(out), time.monotonic() - start


def head_and_tail(out, head=1500, tail=2500):
    """A failure's first lines (an assertion says what failed first) and its
    last (the transcript's end)."""
    if len(out) <= head + tail:
        return out
    return out[:head] + "\n      [... %d characters ...]\n" % (len(out) - head - tail) + out[-tail:]


class Durations:
    """How long each integration run took when it last passed here
    (build/test-runs/durations.json, over the hints committed in
    tests/integration/durations.json), so that the longest start first and
    the cores finish together. Only the order depends on them."""
    HINTS = os.path.join(ROOT, "tests", "integration", "durations.json")
    PATH = os.path.join(BUILD, "test-runs", "durations.json")

    def __init__(self):
        self.seconds = {}
        for path in (self.HINTS, self.PATH):
            try:
                with open(path) as f:
                    self.seconds.update(json.load(f))
            except (OSError, ValueError):
                pass

    def estimate(self, name):
        """Its own last time; else the longest of the same test on another
        machine; else None (never run here)."""
        if name in self.seconds:
            return self.seconds[name]
        test = name.split("[")[0]
        others = [s for n, s in self.seconds.items() if n.split("[")[0] == test]
        return max(others) if others else None

    def longest_first(self, names):
        # Never run: first, as they may be long (the sort is stable: file
        # order among equals).
        def key(name):
            seconds = self.estimate(name)
            return -(float("inf") if seconds is None else seconds)
        return sorted(names, key=key)

    def record(self, name, seconds):
        self.seconds[name] = round(seconds, 1)

    def save(self):
        os.makedirs(os.path.dirname(self.PATH), exist_ok=True)
        tmp = self.PATH + ".%d" % os.getpid()
        with open(tmp, "w") as f:
            json.dump(self.seconds, f, indent=0, sort_keys=True)
        os.replace(tmp, self.PATH)


def run_integration(tally, filters):
    import harness
    runs, off = integration_tests()
    names = [run.name for run in runs if selected(run.name, filters)]
    if names:
        print("integration: %d runs, %d at a time; machines switched on: %s"
              % (len(names), JOBS, ", ".join(m.name for m in harness.machines_on())),
              flush=True)
    durations = Durations()
    with ThreadPoolExecutor(max_workers=JOBS) as pool:
        futures = [pool.submit(integration_child, name)
                   for name in durations.longest_first(names)]
        for future in as_completed(futures):
            name, ok, detail, seconds = future.result()
            tally.record(name, ok, detail, seconds)
            if ok:
                durations.record(name, seconds)
    durations.save()
    slow = sorted({(n, why) for n, why in SLOW_NOT_RUN if selected(n, filters)})
    if slow:
        tally.not_run("%d slow integration runs (CUSTOS_SLOW=1 runs them): %s" % (
            len(slow), "; ".join("%s (%s)" % (n, why) for n, why in slow)))
    off = [name for name in off if selected(name, filters)]
    if off:
        tally.not_run("%d integration runs on machines switched off (harness.MACHINES_ON, "
                      "CUSTOS_MACHINES): %s" % (len(off), ", ".join(
                          sorted({n[n.index("[") + 1:-1] for n in off}))))


def list_integration(filters):
    """The integration runs that would be made, one a line, and those on
    machines switched off, each prefixed "off ". Nothing is run."""
    runs, off = integration_tests()
    slow = sorted({"slow " + n for n, _ in SLOW_NOT_RUN})
    listed = 0
    for name in [run.name for run in runs] + ["off " + name for name in off] + slow:
        if selected(name, filters):
            print(name)
            listed += 1
    if filters and not listed:
        print("run.py: no integration run matches %s" % " or ".join(repr(f) for f in filters),
              file=sys.stderr)
        return 2
    return 0


def main():
    if len(sys.argv) == 3 and sys.argv[1] == "--one":
        sys.exit(run_one(sys.argv[2]))
    if sys.argv[1:2] == ["--list"]:
        sys.exit(list_integration(sys.argv[2:]))
    filters = sys.argv[1:]
    tally = Tally()
    start = time.monotonic()
    for suite in (run_unit, run_fuzz, run_lint, run_integration):
        suite(tally, filters)
    print()
    for note in tally.notes:
        print("Not run: " + note)
    if tally.failed:
        print("Failed:")
        for name in tally.failed:
            print("  " + name)
    print("(%.0f s)" % (time.monotonic() - start))
    print("%d passed, %d failed" % (tally.passed, len(tally.failed)))
    if filters and not tally.passed and not tally.failed and not tally.notes:
        # A typo in a filter must not read as success. (Runs that match but
        # are left out by choice, slow or on machines switched off, are
        # listed under "Not run" above: that is not a typo.)
        print("run.py: no test ran: nothing matches %s (names contain the words; "
              "'python3 tests/run.py --list WORD' lists the integration runs)"
              % " or ".join(repr(f) for f in filters), file=sys.stderr)
        sys.exit(2)
    sys.exit(1 if tally.failed else 0)


if __name__ == "__main__":
    main()
