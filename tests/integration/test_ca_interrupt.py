"""custos-ca interrupted part-way leaves nothing behind (docs/pki.md,
"Never overwriting"): every output is written to a temporary file beside
it, fsync'd and renamed, and on SIGINT the run removes its temporary file
and every output it already made. The interruption is made deterministic
with the test hook CUSTOS_TEST_HOOK_INTERRUPT_WRITE=N (crypto/new_file.h):
the process raises SIGINT (N:TERM SIGTERM, N:HUP SIGHUP) at its Nth output, once that output's temporary
copy is written and before it is renamed. After each interruption the
directory holds exactly what it held before, and the same command run again
succeeds."""
import os
import signal
import subprocess

import harness as h

CA = os.path.join(h.BUILD, "bin", "custos-ca")
CUSTOS = os.path.join(h.BUILD, "bin", "custos")
HOOK = "CUSTOS_TEST_HOOK_INTERRUPT_WRITE"


def run(args, interrupt_at=None):
    env = dict(os.environ)
    env.pop(HOOK, None)
    if interrupt_at is not None:
        env[HOOK] = str(interrupt_at)
    return subprocess.run(args, capture_output=True, text=True, timeout=60, env=env)


def ok(args):
    p = run(args)
    assert p.returncode == 0, "%s: exit %d\n%s%s" % (" ".join(args), p.returncode,
                                                    p.stdout, p.stderr)
    return p


def listing(d):
    """Every file under d (hidden temporary files too), with its bytes."""
    out = {}
    for top, _dirs, files in os.walk(d):
        for f in files:
            path = os.path.join(top, f)
            with open(path, "rb") as fh:
                out[os.path.relpath(path, d)] = fh.read()
    return out


# The hook's signal for each suffix of CUSTOS_TEST_HOOK_INTERRUPT_WRITE.
SIGNALS = {"": signal.SIGINT, ":TERM": signal.SIGTERM, ":HUP": signal.SIGHUP}


def interrupted_then_retried(d, args, outputs, how=""):
    """Interrupt args at each of its outputs in turn (1..outputs) with the
    signal of how: killed by it, saying so, the directory unchanged; then
    args runs whole."""
    before = listing(d)
    for n in range(1, outputs + 1):
        p = run(args, interrupt_at="%d%s" % (n, how))
        assert p.returncode == -SIGNALS[how], "interrupt at %d: exit %d\n%s%s" % (
            n, p.returncode, p.stdout, p.stderr)
        assert "interrupted; this run's files were removed" in p.stderr, p.stderr
        assert listing(d) == before, "interrupt at %d left %s" % (
            n, sorted(set(listing(d)) - set(before)))
    ok(args)
    made = sorted(set(listing(d)) - set(before))
    assert len(made) == outputs, made
    assert not [f for f in made if ".tmp-" in f], made
    return made


def test_ca_interrupted_leaves_nothing_and_retry_works(d):
    ca = os.path.join(d, "ca")
    os.mkdir(ca, 0o700)
    made = interrupted_then_retried(d, [CA, "init", "--dir", ca, "--cn", "Test CA"], 3)
    assert made == ["ca/root.der", "ca/root.key", "ca/root.pem"], made
    assert os.stat(os.path.join(ca, "root.key")).st_mode & 0o777 == 0o600
    made = interrupted_then_retried(d, [CA, "issue", "--dir", ca, "--role", "station",
                                        "--cn", "station", "--out",
                                        os.path.join(d, "st")], 3)
    assert made == ["st.der", "st.key", "st.pem"], made
    interrupted_then_retried(d, [CA, "issue-tcb", "--dev", "--dir", ca, "--cn", "node",
                                 "--out", os.path.join(d, "tcb")], 8)
    # SIGTERM and SIGHUP as SIGINT.
    for how, name in ((":TERM", "term"), (":HUP", "hup")):
        made = interrupted_then_retried(d, [CA, "issue", "--dir", ca, "--role", "station",
                                            "--cn", "station", "--out",
                                            os.path.join(d, name)], 3, how)
        assert made == [name + ".der", name + ".key", name + ".pem"], made
    ok(["openssl", "verify", "-CAfile", os.path.join(ca, "root.pem"),
        os.path.join(d, "st.pem")])
