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
