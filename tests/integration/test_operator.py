"""The operator's path, on the host (no emulator): `make install` into a
staging DESTDIR, `--version` on the four tools, the tenant CLI's
configuration file and its precedence (option over CUSTOS_* variable over
the profile) against fake-tpgvm, a peer that is not a Custos relay (a plain
HTTP server) told apart from tampering, and `tests/run.py` refusing filters
that match nothing."""
import http.server
import json
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


class HttpServer:
    """A plain HTTP server on an ephemeral port (what a wrong --relay may
    reach), serving in a thread until closed."""

    def __init__(self):
        class Quiet(http.server.BaseHTTPRequestHandler):
            def log_message(self, *args):
                pass
        self.server = http.server.HTTPServer(("127.0.0.1", 0), Quiet)
        self.port = self.server.server_address[1]
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.server.shutdown()
        self.server.server_close()


def tenant_args(relay):
    return ["--relay", relay, "--ca", os.path.join(PKI, "root.pem"),
            "--cert", os.path.join(PKI, "tenant-alice.pem"),
            "--key", os.path.join(PKI, "tenant-alice.key"), "--timeout", "30"]


def test_a_peer_that_is_not_a_custos_relay(d):
    """An HTTP server at --relay is named for what it is, with its own exit
    status (4), not as tampering (1); no mbedTLS error number is shown."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("CUSTOS_")}
    with HttpServer() as web:
        relay = "127.0.0.1:%d" % web.port
        want = (r"^custos (attest|vm \w+): ERROR: the peer at 127\.0\.0\.1:%d did not answer as "
                r"a Custos relay \(not TLS: it began '<!DOCTYPE HTML>'\)\n$" % web.port)
        for cmd in (["attest"], ["vm", "list"], ["vm", "status", "web"]):
            p = subprocess.run([os.path.join(BIN, "custos")] + cmd + tenant_args(relay),
                               capture_output=True, text=True, timeout=60, env=env)
            assert p.returncode == 4, (cmd, p.returncode, p.stdout, p.stderr)
            assert re.match(want, p.stderr), (cmd, p.stderr)
            assert "0x" not in p.stderr and p.stdout == "", (cmd, p.stdout, p.stderr)
            p = subprocess.run([os.path.join(BIN, "custos")] + cmd + tenant_args(relay) +
                               ["--json"], capture_output=True, text=True, timeout=60,
                               env=env)
            out = json.loads(p.stdout)
            assert p.returncode == 4 and out["result"] == "not-custos", (cmd, p.stdout)
            assert out["exit_status"] == 4 and "did not answer as a Custos relay" in out["reason"]
        # mbedTLS's number only where debugging asks for it.
        p = subprocess.run([os.path.join(BIN, "custos"), "attest"] + tenant_args(relay),
                           capture_output=True, text=True, timeout=60,
                           env=dict(env, CUSTOS_DEBUG="1"))
        assert p.returncode == 4 and re.search(
            r"^custos: debug: mbedTLS error -0x[0-9a-f]{4} in the TLS handshake$",
            p.stderr, re.M), p.stderr
    # A tampered but real TLS peer is still tampering (exit 1): fake-tpgvm's
    # flipped record (test_attest_host: "tamper").
    with Fake(d, "tamper") as f:
        p = subprocess.run([os.path.join(BIN, "custos"), "attest", "--allow-dev"] +
                           tenant_args(f.relay), capture_output=True, text=True, timeout=60,
                           env=env)
    assert p.returncode == 1 and "TLS channel integrity failure" in p.stderr, p.stderr
    assert "0x" not in p.stderr, p.stderr


def test_configuration_file_and_its_precedence(d):
    """The profile gives what neither an option nor a variable gives; a
    variable wins over it, an option over both; --profile and
    CUSTOS_PROFILE select; a malformed file is refused before any traffic."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("CUSTOS_")}
    custos = os.path.join(BIN, "custos")
    with socket.socket() as dead:
        dead.bind(("127.0.0.1", 0))
        dead_relay = "127.0.0.1:%d" % dead.getsockname()[1]  # bound, not listening
        with Fake(d, "ok", count=6) as f:
            config = os.path.join(d, "config")
            with open(config, "w") as c:
                c.write("# test\n[default]\nrelay = %s\nca = %s\ncert = tenant-alice.pem\n"
                        "key = tenant-alice.key\nreference = %s\nallow-dev = yes\n\n"
                        "[dead]\nrelay = %s\n" % (f.relay, os.path.join(PKI, "root.pem"),
                                                  REFERENCE, dead_relay))
            # Relative paths are taken from the file's folder: put it in PKI's.
            pki_config = os.path.join(PKI, "test-operator.config")
            os.replace(config, pki_config)
            try:
                run_env = dict(env, CUSTOS_CONFIG=pki_config)

                def run(*args, **more):
                    return subprocess.run([custos] + list(args), capture_output=True,
                                          text=True, timeout=60, env=dict(run_env, **more))
                # The profile alone.
                p = run("attest")
                assert p.returncode == 0 and "VERIFIED (DEV platform" in p.stdout, p
                assert "all match" in p.stdout, p.stdout
                # A variable wins over the profile.
                p = run("attest", CUSTOS_RELAY=dead_relay)
                assert p.returncode == 2 and "cannot connect to %s" % dead_relay in p.stderr, p
                # An option wins over the variable.
                p = run("attest", "--relay", f.relay, CUSTOS_RELAY=dead_relay)
                assert p.returncode == 0, p
                # A variable that says no to allow-dev wins over the file's yes.
                p = run("attest", CUSTOS_ALLOW_DEV="0")
                assert p.returncode == 1 and "platform is DEV" in p.stderr, p
                # --profile and CUSTOS_PROFILE select [dead]: its relay, and
                # nothing of [default] (ca is missing then).
                p = run("attest", "--profile", "dead")
                assert p.returncode == 2 and "needs --ca" in p.stderr, p
                p = run("attest", "--profile", "dead", "--ca", os.path.join(PKI, "root.pem"),
                        "--cert", os.path.join(PKI, "tenant-alice.pem"),
                        "--key", os.path.join(PKI, "tenant-alice.key"))
                assert p.returncode == 2 and "cannot connect to %s" % dead_relay in p.stderr, p
                p = run("vm", "list", CUSTOS_PROFILE="dead")
                assert p.returncode == 2 and "needs --ca" in p.stderr, p
                p = run("vm", "list", "--profile", "default", CUSTOS_PROFILE="dead")
                assert p.returncode == 0 and p.stdout.endswith("(no VMs)\n"), p
                p = run("attest", "--profile", "nope")
                assert p.returncode == 2 and "has no profile [nope]" in p.stderr, p
                # A line of the shell may not name another profile.
                p = subprocess.run([custos, "vm", "shell"], input="list --profile dead\n",
                                   capture_output=True, text=True, timeout=60, env=run_env)
                assert p.returncode == 2 and "--profile" in p.stderr, p
            finally:
                os.unlink(pki_config)
            # Malformed: exit 2, one line naming file and line, no traffic
            # (its relay listens here and must accept nothing).
            with socket.create_server(("127.0.0.1", 0)) as probe:
                with open(config, "w") as c:
                    c.write("[default]\nrelay = 127.0.0.1:%d\nrelais = secret-value\n"
                            % probe.getsockname()[1])
                p = subprocess.run([custos, "attest"], capture_output=True, text=True,
                                   timeout=60, env=dict(env, CUSTOS_CONFIG=config))
                assert p.returncode == 2, p
                assert p.stderr.splitlines()[0] == (
                    "custos attest: %s line 3: unknown setting 'relais' (relay, ca, cert, "
                    "key, reference, allow-dev)" % config), p.stderr
                assert "secret-value" not in p.stderr
                probe.setblocking(False)
                try:
                    probe.accept()
                    raise AssertionError("the CLI connected despite a bad file")
                except BlockingIOError:
                    pass


def test_per_command_help(d):
    """`TOOL COMMAND --help`: that command's usage, exit 0, shorter than
    the whole tool's --help and naming no other command's usage line."""
    cases = {
        "custos": [["vm", c] for c in ("create", "start", "stop", "destroy", "status",
                                       "console", "list")] + [["attest"], ["vm", "shell"]],
        "custos-ca": [[c] for c in ("init", "issue", "issue-tcb", "enroll", "approve")],
        "custos-station": [[c] for c in ("package", "inspect", "open")],
    }
    for tool, commands in cases.items():
        path = os.path.join(BIN, tool)
        whole = subprocess.run([path, "--help"], capture_output=True, text=True, timeout=30)
        assert whole.returncode == 0, whole
        for cmd in commands:
            p = subprocess.run([path] + cmd + ["--help"], capture_output=True, text=True,
                               timeout=30)
            assert p.returncode == 0 and p.stderr == "", (tool, cmd, p)
            head = "usage: %s %s" % (tool, " ".join(cmd))
            assert p.stdout.startswith(head + " ") or p.stdout.startswith(head + "\n"), (
                tool, cmd, p.stdout[:200])
            if tool == "custos" and cmd[0] == "vm" and cmd[1] != "shell":
                whole_vm = subprocess.run([path, "vm", "--help"], capture_output=True,
                                          text=True, timeout=30).stdout
                assert len(p.stdout) < len(whole_vm), (tool, cmd)
                assert "\n  %s " % cmd[1] in p.stdout, (tool, cmd, p.stdout)
            elif tool != "custos":
                assert len(p.stdout) < len(whole.stdout), (tool, cmd)
            if tool != "custos":
                others = [c[0] for c in commands if c[0] != cmd[0]]
                for other in others:
                    assert not re.search(r"^usage: %s %s " % (tool, other), p.stdout, re.M)


def test_secrets_from_stdin(d):
    """`--secret-file -`: the secrets piped in on stdin, exactly as a file's
    (the platform receives them, the launch measurement covers them, no
    value is printed); refused from a terminal, twice, or on a line of the
    shell, before anything is sent."""
    import test_vm_cli_host as vmt
    image, init = vmt.files(d)
    text = "# piped\nDB_PASSWORD=correct horse battery staple\nAPI_TOKEN=tok-9f8e7d6c5b4a\nEMPTY=\n"
    with vmt.Fake(d, "ok") as f:
        env = vmt.env_for(f.relay)
        p = subprocess.run([vmt.CUSTOS, "vm", "create", "web", "--memory", "32M", "--image",
                            image, "--init-data", init, "--secret-file", "-", "--json"],
                           input=text, capture_output=True, text=True, timeout=60, env=env)
        assert p.returncode == 0, (p.stdout, p.stderr)
        vmt.no_secrets(p.stdout, p.stderr, open(f.record).read())
        m = re.match(r"VM_CREATE name=web .* secrets=3 salt=([0-9a-f]{64})$", f.received()[1])
        assert m, f.received()
        got = f.received_bytes()
        assert all(v.encode() in got for v in vmt.SECRET_VALUES), "secrets not sent"
        with open(image, "rb") as a, open(init, "rb") as b:
            want = vmt.measurement("web", 32 << 20, a.read(), b.read(),
                                   bytes.fromhex(m.group(1)), vmt.SECRETS)
        assert json.loads(p.stdout)["measurement"] == want, p.stdout
    with vmt.Fake(d, "ok") as f:
        env = vmt.env_for(f.relay)
        base = [vmt.CUSTOS, "vm", "create", "web", "--memory", "32M", "--image", image]
        p = subprocess.run(base + ["--secret-file", "-", "--secret-file", "-"], input=text,
                           capture_output=True, text=True, timeout=60, env=env)
        assert p.returncode == 2 and "--secret-file - (stdin) is given twice" in p.stderr, p
        # A terminal: refused, nothing read or sent.
        import pty
        master, slave = pty.openpty()
        try:
            p = subprocess.run(base + ["--secret-file", "-"], stdin=slave,
                               capture_output=True, text=True, timeout=60, env=env)
        finally:
            os.close(slave)
            os.close(master)
        assert p.returncode == 2 and "stdin is a terminal" in p.stderr, p
        # Malformed piped secrets: the file's one-line errors, no value.
        p = subprocess.run(base + ["--secret-file", "-"], input="TOKEN=tok-9f8e7d6c5b4a\x1b\n",
                           capture_output=True, text=True, timeout=60, env=env)
        assert p.returncode == 2 and "--secret-file '-' line 1 (TOKEN): the value" in p.stderr, p
        assert "tok-9f8e" not in p.stderr
        # In the shell, stdin is the commands.
        p = subprocess.run([vmt.CUSTOS, "vm", "shell"], env=env, capture_output=True,
                           text=True, timeout=60,
                           input="create web --memory 32M --image %s --secret-file -\n" % image)
        assert p.returncode == 2 and "--secret-file - (stdin) is not for a line" in p.stderr, p
        assert not any(r.startswith("VM_CREATE") for r in f.received()), f.received()


def test_json_of_the_ca_station_and_relay(d):
    """--json on custos-ca, custos-station and custos-relay: one object of
    the tenant CLI's shape (result, exit_status, command) on success and on
    failure, usage errors included; the relay's log as JSON Lines."""
    ca, station, relay = (os.path.join(BIN, t) for t in ("custos-ca", "custos-station",
                                                          "custos-relay"))

    def js(args, status):
        p = subprocess.run(args + ["--json"], capture_output=True, text=True, timeout=60)
        assert p.returncode == status, (args, p.returncode, p.stdout, p.stderr)
        lines = p.stdout.splitlines()
        assert len(lines) == 1, (args, p.stdout)
        out = json.loads(lines[0])
        assert out["exit_status"] == status and out["result"] == (
            "done" if status == 0 else "failed" if status == 1 else "error"), out
        if status:
            assert p.stderr.splitlines()[0].endswith(out["reason"]), (p.stderr, out)
        return out

    cadir = os.path.join(d, "ca")
    out = js([ca, "init", "--dir", cadir, "--cn", "JSON CA"], 0)
    assert out["command"] == "init" and [o["path"] for o in out["outputs"]] == [
        os.path.join(cadir, f) for f in ("root.key", "root.pem", "root.der")], out
    prefix = os.path.join(d, "t1")
    out = js([ca, "issue", "--dir", cadir, "--role", "tenant", "--cn", "t1", "--out", prefix], 0)
    assert [o["path"] for o in out["outputs"]] == [prefix + e for e in (".key", ".pem", ".der")]
    out = js([ca, "issue", "--dir", cadir, "--role", "tenant", "--cn", "t1", "--out", prefix], 1)
    assert out["command"] == "issue" and "refusing to overwrite" in out["reason"], out
    out = js([ca, "issue", "--dir", cadir, "--role", "bogus", "--cn", "x", "--out", prefix], 2)
    assert "unknown role" in out["reason"], out

    env = os.path.join(h.BUILD, "tpgvm.env")
    out = js([station, "inspect", env, "--ca", os.path.join(PKI, "root.pem")], 0)
    assert out["command"] == "inspect" and out["signature_valid"] is True, out
    assert out["station_chain"] == "valid" and len(out["tcb_fingerprint"]) == 96, out
    out = js([station, "inspect", env, "--ca", os.path.join(cadir, "root.pem")], 1)
    assert out["station_chain"] == "invalid" and "INVALID" in out["reason"], out
    out = js([station, "inspect", "/etc/hostname"], 1)
    assert "not a valid envelope" in out["reason"], out
    envelope = os.path.join(d, "t.env")
    out = js([station, "package", "--ca", os.path.join(PKI, "root.pem"),
              "--station-key", os.path.join(PKI, "station.key"),
              "--station-cert", os.path.join(PKI, "station.pem"),
              "--tcb-cert", os.path.join(PKI, "tcb-kex.pem"),
              "--image", os.path.join(h.BUILD, "guests", "tpgvm.elf"),
              "--platform-id", "custos-dev", "--tenant-ca", os.path.join(PKI, "root.pem"),
              "--out", envelope, "--allow-dev"], 0)
    assert out["dev_tcb"] is True and out["outputs"][0]["path"] == envelope, out
    assert out["envelope_bytes"] == os.path.getsize(envelope), out

    out = js([relay, "--listen", "0", "--tpgvm-listen", "1"], 2)
    assert out["command"] == "relay" and "--listen" in out["reason"], out
    import test_relay
    ports = test_relay.free_ports(2)
    p = subprocess.Popen([relay, "--json", "--listen", str(ports[0]), "--tpgvm-listen",
                          str(ports[1])], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                         text=True, start_new_session=True)
    try:
        first = json.loads(p.stderr.readline())
        assert set(first) == {"time", "message"}, first
        assert first["message"].startswith("listening for tenants on 127.0.0.1:"), first
        os.kill(p.pid, 2)
        out, err = p.communicate(timeout=30)
    finally:
        if p.poll() is None:
            p.kill()
    assert p.returncode == 0 and json.loads(out) == {
        "result": "done", "exit_status": 0, "command": "relay", "outputs": []}, out
    for line in err.splitlines():
        assert set(json.loads(line)) == {"time", "message"}, line


def test_console_follow_until_interrupted(d):
    """`custos vm console NAME --follow`: what the VM wrote, sanitised, as
    it comes, on one attested session, until Ctrl-C (SIGINT): exit 0."""
    import test_vm_cli_host as vmt
    image, _ = vmt.files(d)
    with vmt.Fake(d, "ok", count=3) as f:
        env = vmt.env_for(f.relay)
        for cmd in (["create", "web", "--memory", "2M", "--image", image], ["start", "web"]):
            p = subprocess.run([vmt.CUSTOS, "vm"] + cmd, capture_output=True, text=True,
                               timeout=60, env=env)
            assert p.returncode == 0, (cmd, p.stdout, p.stderr)
        p = subprocess.Popen([vmt.CUSTOS, "vm", "console", "web", "--follow"], env=env,
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                             start_new_session=True)
        try:
            seen = b""
            while b"red\n" not in seen:
                chunk = os.read(p.stdout.fileno(), 4096)
                assert chunk, "console --follow ended by itself: %r %r" % (
                    seen, p.stderr.read())
                seen += chunk
            os.kill(p.pid, 2)
            rest, err = p.communicate(timeout=60)
        finally:
            if p.poll() is None:
                p.kill()
        assert p.returncode == 0, (p.returncode, seen + rest, err)
        # The escape sequences the fake's VM writes arrive defused (its CR
        # LF kept).
        assert seen + rest == b"guest: booting?[2J? ok\tready\r\n?31mred\n", seen + rest
        assert b"\x1b" not in seen + rest and err == b"", err
        assert f.received().count("ATTEST_REQ") == 3, f.received()
