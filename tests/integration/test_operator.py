"""The operator's path, on the host (no emulator): `make install` into a
staging DESTDIR, `--version` on the four tools, the tenant CLI's
configuration file and its precedence (option over CUSTOS_* variable over
the profile) against fake-tpgvm, a peer that is not a Custos relay (a plain
HTTP server) told apart from tampering, and `tests/run.py` refusing filters
that match nothing."""
import http.server
import os
import re
import socket
import stat
import subprocess
import sys
import threading

import harness as h
from test_attest_host import Fake, PKI, REFERENCE

BIN = os.path.join(h.BUILD, "bin")
TOOLS = ("custos", "custos-ca", "custos-station", "custos-relay")


def project_version():
    """The one version of the project (include/custos/version.h)."""
    with open(os.path.join(h.ROOT, "include", "custos", "version.h")) as f:
        return re.search(r'#define CUSTOS_VERSION "([^"]+)"', f.read()).group(1)


def test_version_on_every_tool(d):
    want = project_version()
    for tool in TOOLS:
        p = subprocess.run([os.path.join(BIN, tool), "--version"], capture_output=True,
                           text=True, timeout=30)
        assert p.returncode == 0 and p.stdout == "%s %s\n" % (tool, want), (tool, p)
        assert p.stderr == "", (tool, p.stderr)


def test_make_install_into_destdir(d):
    dest = os.path.join(d, "stage")
    p = subprocess.run(["make", "--no-print-directory", "-C", h.ROOT, "install",
                        "DESTDIR=" + dest, "PREFIX=/opt/custos"],
                       capture_output=True, text=True, timeout=600)
    assert p.returncode == 0, p.stdout + p.stderr
    bindir = os.path.join(dest, "opt", "custos", "bin")
    assert sorted(os.listdir(bindir)) == sorted(TOOLS), os.listdir(bindir)
    for tool in TOOLS:
        path = os.path.join(bindir, tool)
        assert stat.S_IMODE(os.stat(path).st_mode) == 0o755, path
        with open(path, "rb") as a, open(os.path.join(BIN, tool), "rb") as b:
            assert a.read() == b.read(), "%s differs from build/bin's" % tool
        # It runs from where it was installed (nothing points into the tree).
        out = subprocess.run([path, "--version"], capture_output=True, text=True,
                             timeout=30, cwd=d)
        assert out.returncode == 0 and out.stdout.startswith(tool + " "), out
    docdir = os.path.join(dest, "opt", "custos", "share", "doc", "custos")
    docs = sorted(f for f in os.listdir(os.path.join(h.ROOT, "docs")) if f.endswith(".md"))
    assert sorted(os.listdir(docdir)) == docs, os.listdir(docdir)
    for doc in docs:
        assert stat.S_IMODE(os.stat(os.path.join(docdir, doc)).st_mode) == 0o644, doc
    # Nothing outside DESTDIR/PREFIX.
    assert os.listdir(dest) == ["opt"] and os.listdir(os.path.join(dest, "opt")) == ["custos"]


def processes_naming(folder):
    """Pids of live processes that run in folder or name it on their
    command line (the emulator, swtpm, the relay)."""
    pids = []
    for pid in os.listdir("/proc"):
        if not pid.isdigit():
            continue
        try:
            with open("/proc/%s/cmdline" % pid, "rb") as f:
                named = folder.encode() in f.read()
            cwd = os.readlink("/proc/%s/cwd" % pid)
            with open("/proc/%s/stat" % pid) as f:
                zombie = f.read().rsplit(")", 1)[1].split()[0] == "Z"
        except OSError:
            continue
        if (named or cwd == folder or cwd.startswith(folder + "/")) and not zombie:
            pids.append(int(pid))
    return pids


@h.on("qemu-svm")
def test_make_run_serves_the_cli_by_hand_until_interrupted(d, machine):
    """tools/run_platform.py (make run): the platform comes up, the printed
    export lines (and the printed configuration file alone) are all the CLI
    needs, and SIGINT, as Ctrl-C sends it, stops everything it started."""
    run_dir = os.path.join(d, "run")
    p = subprocess.Popen([sys.executable, os.path.join(h.ROOT, "tools", "run_platform.py"),
                          "--emu", machine.name, "--dir", run_dir],
                         stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                         start_new_session=True)
    h._live_groups.add(p.pid)
    out = ""
    try:
        while "run: Ctrl-C stops the platform." not in out:
            line = p.stdout.readline()
            assert line, "run_platform.py ended before serving:\n" + out
            out += line
        exports = dict(re.findall(r"^export (CUSTOS_\w+)=(\S+)", out, re.M))
        assert sorted(exports) == sorted(["CUSTOS_RELAY", "CUSTOS_CA", "CUSTOS_CERT",
                                          "CUSTOS_KEY", "CUSTOS_REFERENCE",
                                          "CUSTOS_ALLOW_DEV"]), out
        assert re.search(r"^export CUSTOS_ALLOW_DEV=1 +# dev-only", out, re.M), out
        base = {k: v for k, v in os.environ.items() if not k.startswith("CUSTOS_")}
        custos = os.path.join(BIN, "custos")
        a = subprocess.run([custos, "attest"], env=dict(base, **exports),
                           capture_output=True, text=True, timeout=300)
        assert a.returncode == 0 and "VERIFIED (DEV platform" in a.stdout, (a, out)
        assert "all match" in a.stdout, a.stdout
        config = re.search(r"export CUSTOS_CONFIG=(\S+)\)", out).group(1)
        v = subprocess.run([custos, "vm", "list"], env=dict(base, CUSTOS_CONFIG=config),
                           capture_output=True, text=True, timeout=300)
        assert v.returncode == 0 and v.stdout.endswith("(no VMs)\n"), (v, out)
        port = int(exports["CUSTOS_RELAY"].rsplit(":", 1)[1])
        assert processes_naming(run_dir), "no emulator runs in %s" % run_dir
        os.kill(p.pid, 2)  # SIGINT, as Ctrl-C at a terminal
        rest, _ = p.communicate(timeout=120)
        out += rest
        assert p.returncode == 0, "exit %d:\n%s" % (p.returncode, out)
        assert "run: SIGINT: stopping the platform" in out and out.endswith("run: stopped\n"), out
        assert not processes_naming(run_dir), "left running: %s" % processes_naming(run_dir)
        with socket.socket() as s:
            assert s.connect_ex(("127.0.0.1", port)) != 0, "the relay still listens"
    finally:
        h._kill_group(p.pid)
        p.wait(timeout=30)


def test_run_py_refuses_filters_that_match_nothing(d):
    runner = [sys.executable, os.path.join(h.ROOT, "tests", "run.py")]
    p = subprocess.run(runner + ["no-such-test-xyzzy"], capture_output=True, text=True,
                       timeout=300)
    assert p.returncode == 2, (p.returncode, p.stdout, p.stderr)
    assert "run.py: no test ran: nothing matches 'no-such-test-xyzzy'" in p.stderr, p.stderr
    p = subprocess.run(runner + ["--list", "no-such-test-xyzzy"], capture_output=True,
                       text=True, timeout=300)
    assert p.returncode == 2 and p.stdout == "", (p.returncode, p.stdout, p.stderr)
    assert "no integration run matches 'no-such-test-xyzzy'" in p.stderr, p.stderr
    # A filter that selects something still runs it and succeeds.
    p = subprocess.run(runner + ["unit/test_tenant_config"], capture_output=True, text=True,
                       timeout=300)
    assert p.returncode == 0 and re.search(r"^[1-9]\d* passed, 0 failed$", p.stdout, re.M), (
        p.stdout, p.stderr)
