"""custos-relay on the host (no emulator), against a fake TPGVM written
here from docs/relay.md (so these tests check the spec as well as the
relay): concurrent tenants each get exactly their own bytes echoed, with
garbage injected on the serial side between frames; a tenant that never
reads is closed without holding up the others; a tenant disconnect sends
CLOSE; a HELLO from the TPGVM drops every session; a frame cut short on
the serial side is given up when the line goes quiet; a tenant that sends
nothing for --idle-timeout is closed; the relay connects to a
serial socket as well as listening for one; SIGTERM ends it cleanly; bad
arguments are usage errors (exit 2). Every socket operation has a timeout
and each relay is killed at the end of its test."""
import os
import random
import re
import select
import signal
import socket
import struct
import subprocess
import threading
import time

import harness as h

RELAY = os.path.join(h.BUILD, "bin", "custos-relay")
TIMEOUT = 5.0

# ---- The framing, from docs/relay.md ---------------------------------------

SYNC = b"\xc5\x7a"
HDR_LEN, MAX_PAYLOAD, VERSION = 15, 1024, 1
OPEN, DATA, CLOSE, HELLO, STORE, STORED = 1, 2, 3, 4, 5, 6


def _crc_table():
    table = []
    for i in range(256):
        c = i
        for _ in range(8):
            c = (c >> 1) ^ (0x82F63B78 if c & 1 else 0)
        table.append(c)
    return table


_CRC_TABLE = _crc_table()


def crc32c(data):
    c = 0xFFFFFFFF
    for b in data:
        c = _CRC_TABLE[(c ^ b) & 0xFF] ^ (c >> 8)
    return c ^ 0xFFFFFFFF


assert crc32c(b"123456789") == 0xE3069283


def encode(ftype, sid, payload=b""):
    assert len(payload) <= MAX_PAYLOAD
    head = SYNC + struct.pack("<BHHI", VERSION << 4 | ftype, sid, len(payload),
                              crc32c(payload))
    return head + struct.pack("<I", crc32c(head)) + payload


def decode(buf):
    """Take every whole good frame off the front of bytearray buf, skipping
    anything else one byte at a time; return [(type, sid, payload)]."""
    frames = []
    while True:
        i = buf.find(SYNC)
        if i < 0:
            del buf[:len(buf) - (1 if buf.endswith(SYNC[:1]) else 0)]
            return frames
        del buf[:i]
        if len(buf) < HDR_LEN:
            return frames
        vt, sid, n, pcrc, hcrc = struct.unpack("<BHHII", bytes(buf[2:HDR_LEN]))
        if (crc32c(bytes(buf[:11])) != hcrc or vt >> 4 != VERSION
                or not OPEN <= vt & 15 <= STORED or n > MAX_PAYLOAD):
            del buf[:1]
            continue
        if len(buf) < HDR_LEN + n:
            return frames
        payload = bytes(buf[HDR_LEN:HDR_LEN + n])
        if crc32c(payload) != pcrc:
            del buf[:1]
            continue
        frames.append((vt & 15, sid, payload))
        del buf[:HDR_LEN + n]


def garbage(rng):
    """Line noise, sync bytes and a broken header among it."""
    noise = bytes(rng.randrange(256) for _ in range(rng.randrange(1, 40)))
    return rng.choice([noise, SYNC + noise, noise + b"\xc5", SYNC + b"\x12\x01"])


# ---- The fake TPGVM ------------------------------------------------------------

class FakeTpgvm:
    """Echoes DATA per session; records OPEN and CLOSE; optional garbage
    before every frame it sends; a session whose first bytes are b"STALL"
    is flooded with data instead of echoed."""

    def __init__(self, sock, garbage_between=False):
        self.sock = sock
        sock.settimeout(TIMEOUT)
        self.rng = random.Random(7)
        self.garbage_between = garbage_between
        self.lock = threading.Lock()
        self.cond = threading.Condition()
        self.frames = []  # (type, sid, len) in arrival order
        self.stored = {}  # request id -> [STORED payloads]
        self.stop = False
        self.error = None
        self.thread = threading.Thread(target=self._loop, daemon=True)
        self.thread.start()

    def send(self, data):
        with self.lock:
            if self.garbage_between:
                data = garbage(self.rng) + data
            self.sock.sendall(data)

    def send_frame(self, ftype, sid, payload=b""):
        self.send(encode(ftype, sid, payload))

    def _loop(self):
        buf = bytearray()
        try:
            while not self.stop:
                ready, _, _ = select.select([self.sock], [], [], 0.1)
                if not ready:
                    continue
                chunk = self.sock.recv(65536)
                if not chunk:
                    return
                buf += chunk
                for ftype, sid, payload in decode(buf):
                    self._on_frame(ftype, sid, payload)
        except OSError as e:
            if not self.stop:
                self.error = e

    def _on_frame(self, ftype, sid, payload):
        with self.cond:
            self.frames.append((ftype, sid, len(payload)))
            if ftype == STORED:
                self.stored.setdefault(sid, []).append(payload)
            self.cond.notify_all()
        if ftype == DATA and payload.startswith(b"STALL"):
            threading.Thread(target=self._flood, args=(sid,), daemon=True).start()
        elif ftype == DATA:
            self.send_frame(DATA, sid, payload)

    def _flood(self, sid):
        """8 MiB to a tenant that never reads, until the relay closes it."""
        frame = encode(DATA, sid, bytes(MAX_PAYLOAD))
        try:
            for _ in range(8 * 1024 // 32):
                if self.seen(CLOSE, sid):
                    return
                with self.lock:
                    self.sock.sendall(frame * 32)
        except OSError:
            pass

    def seen(self, ftype, sid=None):
        with self.cond:
            return [f for f in self.frames if f[0] == ftype and sid in (None, f[1])]

    def wait_for(self, what, pred, timeout=TIMEOUT):
        end = time.monotonic() + timeout
        with self.cond:
            while not pred():
                left = end - time.monotonic()
                assert left > 0, "fake TPGVM: timed out waiting for %s; frames %r" % (
                    what, self.frames[-20:])
                self.cond.wait(left)

    def store(self, sid, op, name, offset=0, data=b"", raw=None):
        """One STORE (docs/relay.md, "Storage"), waiting for its STORED:
        (status, total, data)."""
        if isinstance(name, str):
            name = name.encode()
        payload = raw if raw is not None else (
            struct.pack("<BB", op, len(name)) + name + struct.pack("<I", offset) + data)
        with self.cond:
            self.stored.pop(sid, None)
        self.send_frame(STORE, sid, payload)
        self.wait_for("STORED for request %d" % sid, lambda: self.stored.get(sid))
        with self.cond:
            answers = self.stored.pop(sid)
        assert len(answers) == 1, answers
        status, total = struct.unpack("<BI", answers[0][:5])
        return status, total, answers[0][5:]

    def close(self):
        self.stop = True
        self.thread.join(TIMEOUT)
        self.sock.close()


# ---- Running the relay -------------------------------------------------------

def free_port():
    return free_ports(1)[0]


def free_ports(n):
    """n ports free now and distinct: the sockets are all bound before any
    is closed (closed one by one, the kernel may hand out the same port
    twice, and the relay's two listeners then collide)."""
    socks = [socket.socket() for _ in range(n)]
    try:
        for s in socks:
            s.bind(("127.0.0.1", 0))
        return [s.getsockname()[1] for s in socks]
    finally:
        for s in socks:
            s.close()


class Relay:
    def __init__(self, d, args):
        self.log_path = os.path.join(d, "relay.log")
        self.log_file = open(self.log_path, "w")
        self.proc = subprocess.Popen([RELAY] + args, stdout=subprocess.DEVNULL,
                                     stderr=self.log_file, start_new_session=True)

    def log(self):
        with open(self.log_path) as f:
            return f.read()

    def wait_log(self, pattern, timeout=TIMEOUT):
        end = time.monotonic() + timeout
        while not re.search(pattern, self.log(), re.M):
            assert self.proc.poll() is None, "relay exited %d:\n%s" % (
                self.proc.returncode, self.log())
            assert time.monotonic() < end, "relay log lacks /%s/:\n%s" % (
                pattern, self.log())
            time.sleep(0.02)

    def kill(self):
        if self.proc.poll() is None:
            try:
                os.killpg(self.proc.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
            self.proc.wait(TIMEOUT)
        self.log_file.close()


def start_listening(d, max_sessions=12, garbage_between=False, extra=()):
    """A relay waiting for the serial stream, and the fake TPGVM connected
    to it (after the relay's HELLO)."""
    tport, sport = free_ports(2)
    relay = Relay(d, ["--listen", str(tport), "--tpgvm-listen", str(sport),
                      "--max-sessions", str(max_sessions)] + list(extra))
    fake = None
    try:
        relay.wait_log(r"waiting for the tpgvm")
        fake = FakeTpgvm(socket.create_connection(("127.0.0.1", sport), TIMEOUT),
                         garbage_between)
        fake.wait_for("HELLO from the relay", lambda: fake.frames)
        assert fake.frames[0] == (HELLO, 0, 0), fake.frames
        return relay, fake, tport
    except BaseException:
        if fake:
            fake.close()
        relay.kill()
        raise


def tenant(port):
    s = socket.create_connection(("127.0.0.1", port), TIMEOUT)
    s.settimeout(TIMEOUT)
    return s


def recv_exactly(s, n):
    got = bytearray()
    while len(got) < n:
        chunk = s.recv(n - len(got))
        if not chunk:
            break
        got += chunk
    return bytes(got)


def assert_closed(s):
    """The relay closed this tenant (EOF or reset) within the timeout."""
    try:
        while s.recv(65536):
            pass
    except ConnectionResetError:
        pass


def echo_tenants(port, count, size, rng_seed):
    """count tenants at once, each sending its own bytes in odd pieces and
    reading them back; returns the list of failures."""
    failures = []

    def one(k):
        rng = random.Random(rng_seed + k)
        data = (b"tenant %d:" % k) + bytes(rng.randrange(256) for _ in range(size))
        try:
            with tenant(port) as s:
                got = bytearray()
                off = 0
                while off < len(data):
                    n = rng.randrange(1, 3000)
                    s.sendall(data[off:off + n])
                    off += n
                    got += s.recv(65536) if select.select([s], [], [], 0)[0] else b""
                got += recv_exactly(s, len(data) - len(got))
                if bytes(got) != data:
                    failures.append("tenant %d: got %d bytes, %s" % (
                        k, len(got), "a prefix" if data.startswith(got) else "different"))
        except OSError as e:
            failures.append("tenant %d: %s" % (k, e))

    threads = [threading.Thread(target=one, args=(k,)) for k in range(count)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(3 * TIMEOUT)
    return failures


# ---- Tests ----------------------------------------------------------------------

def test_relay_sessions_echo_with_line_noise(d):
    relay, fake, port = start_listening(d, garbage_between=True)
    try:
        failures = echo_tenants(port, 10, 20000, 100)
        assert not failures, "\n".join(failures) + "\n" + relay.log()
        fake.wait_for("10 OPEN and 10 CLOSE",
                      lambda: len(fake.seen(OPEN)) == 10 and len(fake.seen(CLOSE)) == 10)
        sids = sorted(f[1] for f in fake.seen(OPEN))
        assert len(set(sids)) == 10 and sorted(f[1] for f in fake.seen(CLOSE)) == sids
        log = relay.log()
        # Loopback unless told otherwise, for tenants and serial stream alike.
        assert re.search(r"listening for tenants on 127\.0\.0\.1:%d " % port, log), log
        assert re.search(r"waiting for the tpgvm serial stream on 127\.0\.0\.1:", log), log
        assert len(re.findall(r"^custos-relay: session \d+ open: tenant 127\.0\.0\.1:\d+$",
                              log, re.M)) == 10, log
        assert len(re.findall(r"session \d+ closed: by tenant$", log, re.M)) == 10, log
        assert "tenant 3:" not in log and fake.error is None
        relay.proc.send_signal(signal.SIGTERM)
        assert relay.proc.wait(TIMEOUT) == 0, relay.log()
        assert re.search(r"shutting down", relay.log()), relay.log()
    finally:
        fake.close()
        relay.kill()


def test_relay_stalled_tenant_does_not_block_others(d):
    """One tenant never reads while the TPGVM floods it: the relay closes
    it when its output buffer overflows. Another pauses with 40 KB of echo
    pending (within the limits): the others are served meanwhile, and it
    gets every byte when it reads again."""
    relay, fake, port = start_listening(d)
    stalled = slow = None
    try:
        slow = tenant(port)
        slow_data = bytes(random.Random(9).randrange(256) for _ in range(40000))
        slow.sendall(slow_data)
        stalled = socket.socket()
        stalled.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
        stalled.settimeout(TIMEOUT)
        stalled.connect(("127.0.0.1", port))
        stalled.sendall(b"STALL")  # and never read
        fake.wait_for("the flood to start", lambda: fake.seen(DATA))
        failures = echo_tenants(port, 8, 20000, 200)
        assert not failures, "\n".join(failures) + "\n" + relay.log()
        assert recv_exactly(slow, len(slow_data)) == slow_data
        relay.wait_log(r"session 2 closed: tenant not reading \(output buffer full\)")
        fake.wait_for("CLOSE of the stalled session", lambda: fake.seen(CLOSE, 2))
        assert_closed(stalled)
        # The relay still serves.
        assert not echo_tenants(port, 2, 5000, 300)
    finally:
        for s in (stalled, slow):
            if s:
                s.close()
        fake.close()
        relay.kill()


def test_relay_hello_from_tpgvm_drops_all_sessions(d):
    relay, fake, port = start_listening(d)
    tenants = []
    try:
        for k in range(3):
            tenants.append(tenant(port))
        fake.wait_for("3 OPEN", lambda: len(fake.seen(OPEN)) == 3)
        tenants[0].sendall(b"ping")
        assert recv_exactly(tenants[0], 4) == b"ping"
        fake.send(b"\xc5\x7a\x99garbage" + encode(HELLO, 0))
        for s in tenants:
            assert_closed(s)
        relay.wait_log(r"dropping 3 sessions: tpgvm restarted")
        assert not fake.seen(CLOSE), "a HELLO ends sessions without CLOSE frames"
        assert not echo_tenants(port, 2, 3000, 400)
    finally:
        for s in tenants:
            s.close()
        fake.close()
        relay.kill()


def test_relay_frame_cut_short_then_quiet_line(d):
    """A frame whose header is good but whose payload never comes, then a
    good frame, then silence: the relay gives up the cut frame after its
    quiet time (docs/relay.md, 500 ms) and delivers the good one."""
    relay, fake, port = start_listening(d)
    try:
        with tenant(port) as s:
            fake.wait_for("OPEN", lambda: fake.seen(OPEN))
            sid = fake.seen(OPEN)[0][1]
            start = time.monotonic()
            fake.send(encode(DATA, sid, b"x" * 1000)[:40] + encode(DATA, sid, b"after cut"))
            assert recv_exactly(s, 9) == b"after cut"
            assert time.monotonic() - start >= 0.4
            s.sendall(b"more")
            assert recv_exactly(s, 4) == b"more"
    finally:
        fake.close()
        relay.kill()


def test_relay_session_the_tpgvm_writes_to_is_not_idle(d):
    """--idle-timeout 1: a tenant that sends nothing but hears from the
    TPGVM (its PROTO_WAIT notes while a long start or stop runs) keeps its
    session; once both sides are silent it is closed."""
    relay, fake, port = start_listening(d, extra=["--idle-timeout", "1"])
    waiting = None
    try:
        waiting = tenant(port)
        fake.wait_for("OPEN of the waiting tenant", lambda: len(fake.seen(OPEN)) == 1)
        sid = fake.seen(OPEN)[0][1]
        for k in range(8):  # 2.4 s of notes, 0.3 s apart, none from the tenant
            fake.send_frame(DATA, sid, b"note %d" % k)
            assert recv_exactly(waiting, 6) == b"note %d" % k
            time.sleep(0.3)
        assert not fake.seen(CLOSE, sid), relay.log()
        relay.wait_log(r"session %d closed: idle" % sid)
        fake.wait_for("CLOSE of the session", lambda: fake.seen(CLOSE, sid))
        assert_closed(waiting)
    finally:
        if waiting:
            waiting.close()
        fake.close()


def test_relay_idle_timeout(d):
    """--idle-timeout 1: a tenant that sends nothing is closed after a
    second, with the reason in the log and a CLOSE to the TPGVM; one that
    keeps sending (more slowly than the timeout, in total far longer) stays
    and is served."""
    relay, fake, port = start_listening(d, extra=["--idle-timeout", "1"])
    quiet = busy = None
    try:
        assert re.search(r"at most 12 sessions, idle timeout 1 s\)", relay.log())
        busy = tenant(port)
        fake.wait_for("OPEN of the busy tenant", lambda: len(fake.seen(OPEN)) == 1)
        busy_sid = fake.seen(OPEN)[0][1]
        start = time.monotonic()
        quiet = tenant(port)
        fake.wait_for("OPEN of the quiet tenant", lambda: len(fake.seen(OPEN)) == 2)
        quiet_sid = fake.seen(OPEN)[1][1]
        for k in range(8):  # 2.4 s of traffic, 0.3 s apart
            busy.sendall(b"tick %d" % k)
            assert recv_exactly(busy, 6) == b"tick %d" % k
            time.sleep(0.3)
        relay.wait_log(r"^custos-relay: session %d closed: idle \(nothing sent for 1 s\)$"
                       % quiet_sid)
        fake.wait_for("CLOSE of the quiet session", lambda: fake.seen(CLOSE, quiet_sid))
        assert_closed(quiet)
        assert time.monotonic() - start >= 1.0  # not before its time
        assert not fake.seen(CLOSE, busy_sid), relay.log()
        busy.sendall(b"still")
        assert recv_exactly(busy, 5) == b"still"
        # Then the busy one goes quiet too.
        relay.wait_log(r"session %d closed: idle" % busy_sid)
        fake.wait_for("CLOSE of the busy session", lambda: fake.seen(CLOSE, busy_sid))
        assert_closed(busy)
    finally:
        for s in (quiet, busy):
            if s:
                s.close()
        fake.close()
        relay.kill()


def test_relay_limits_and_no_link(d):
    """No serial stream yet: tenants are refused. --max-sessions 2: the
    third tenant is refused while two are open. A second serial connection
    is refused and does not disturb the first."""
    tport, sport = free_ports(2)
    relay = Relay(d, ["--listen", "127.0.0.1:%d" % tport, "--tpgvm-listen", str(sport),
                      "--max-sessions", "2"])
    fake, tenants = None, []
    try:
        relay.wait_log(r"waiting for the tpgvm")
        with tenant(tport) as s:
            assert_closed(s)
        relay.wait_log(r"refused: no tpgvm link")
        fake = FakeTpgvm(socket.create_connection(("127.0.0.1", sport), TIMEOUT))
        fake.wait_for("HELLO", lambda: fake.seen(HELLO))
        with socket.create_connection(("127.0.0.1", sport), TIMEOUT) as second:
            second.settimeout(TIMEOUT)
            assert second.recv(100) == b""
        relay.wait_log(r"second tpgvm connection from 127\.0\.0\.1:\d+ refused")
        tenants = [tenant(tport), tenant(tport)]
        fake.wait_for("2 OPEN", lambda: len(fake.seen(OPEN)) == 2)
        with tenant(tport) as s:
            assert_closed(s)
        relay.wait_log(r"refused: all sessions in use")
        for s in tenants:
            s.sendall(b"still here")
            assert recv_exactly(s, 10) == b"still here"
    finally:
        for s in tenants:
            s.close()
        if fake:
            fake.close()
        relay.kill()


def test_relay_connects_to_serial_socket(d):
    """--tpgvm HOST:PORT: the relay connects (retrying until the serial
    socket listens), and reconnects after the stream drops."""
    tport = free_port()
    server = socket.socket()
    server.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    server.bind(("127.0.0.1", 0))
    sport = server.getsockname()[1]
    server.close()
    relay = Relay(d, ["--listen", str(tport), "--tpgvm", "localhost:%d" % sport])
    fake = None
    try:
        relay.wait_log(r"tpgvm localhost:%d: .* \(retrying\)" % sport)
        server = socket.socket()
        server.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        server.bind(("127.0.0.1", sport))
        server.listen(1)
        server.settimeout(TIMEOUT)
        conn, _ = server.accept()
        fake = FakeTpgvm(conn)
        fake.wait_for("HELLO", lambda: fake.seen(HELLO))
        assert not echo_tenants(tport, 3, 4000, 500)
        with tenant(tport) as s:
            fake.wait_for("OPEN", lambda: len(fake.seen(OPEN)) == 4)
            fake.close()  # the emulator went away
            assert_closed(s)
        relay.wait_log(r"tpgvm link down")
        conn, _ = server.accept()
        fake = FakeTpgvm(conn)
        fake.wait_for("HELLO again", lambda: fake.seen(HELLO))
        assert not echo_tenants(tport, 2, 1000, 600)
    finally:
        server.close()
        if fake:
            fake.close()
        relay.kill()


PUT, COMMIT, GET, DELETE = 1, 2, 3, 4
ST_OK, ST_NONE, ST_IO, ST_BAD = 0, 1, 2, 3
CHUNK = 900


def put_blob(fake, sid, name, blob, commit=True):
    for off in range(0, len(blob), CHUNK):
        assert fake.store(sid, PUT, name, off, blob[off:off + CHUNK]) == (ST_OK, 0, b"")
    if not blob:
        assert fake.store(sid, PUT, name, 0) == (ST_OK, 0, b"")
    if commit:
        assert fake.store(sid, COMMIT, name, len(blob)) == (ST_OK, 0, b"")


def get_blob(fake, sid, name):
    got = bytearray()
    while True:
        status, total, data = fake.store(sid, GET, name, len(got))
        assert status == ST_OK, status
        if not data:
            assert total == len(got), (total, len(got))
            return bytes(got)
        got += data


def test_relay_storage_round_trip_and_atomic_overwrite(d):
    store_dir = os.path.join(d, "blobs")  # created by the relay
    relay, fake, _ = start_listening(d, extra=["--storage", store_dir])
    try:
        assert (os.stat(store_dir).st_mode & 0o777) == 0o700
        rng = random.Random(11)
        a = bytes(rng.randrange(256) for _ in range(100 * 1024))
        b = bytes(rng.randrange(256) for _ in range(100 * 1024 + 123))
        name = "0123456789abcdef-web.sealed"
        put_blob(fake, 77, name, a)
        path = os.path.join(store_dir, name)
        with open(path, "rb") as f:
            assert f.read() == a
        assert get_blob(fake, 78, name) == a
        # Overwrite with b while a reader keeps reading the file: it sees a
        # or b whole, never a mix; GET still gives a until the COMMIT.
        seen, stop, bad = set(), threading.Event(), []

        def reader():
            while not stop.is_set():
                with open(path, "rb") as f:
                    data = f.read()
                if data == a:
                    seen.add("a")
                elif data == b:
                    seen.add("b")
                else:
                    bad.append(len(data))
        t = threading.Thread(target=reader, daemon=True)
        t.start()
        put_blob(fake, 79, name, b, commit=False)
        assert get_blob(fake, 80, name) == a
        assert os.path.exists(path + ".part")
        # COMMIT with a wrong size is refused and changes nothing.
        assert fake.store(79, COMMIT, name, len(b) - 1)[0] == ST_BAD
        assert fake.store(79, COMMIT, name, len(b)) == (ST_OK, 0, b"")
        time.sleep(0.2)
        stop.set()
        t.join(TIMEOUT)
        assert not bad, "reader saw %r" % bad[:5]
        assert seen == {"a", "b"}, seen
        assert not os.path.exists(path + ".part")
        assert get_blob(fake, 81, name) == b
        # GET at the end: empty data and the total; beyond the end: refused.
        assert fake.store(82, GET, name, len(b)) == (ST_OK, len(b), b"")
        assert fake.store(82, GET, name, len(b) + 1) == (ST_BAD, 0, b"")
        # A PUT beyond the end (the one before it lost on the line) leaves
        # a gap that the PUT sent again fills; COMMIT checks the size.
        assert fake.store(83, PUT, "x", 0, b"12") == (ST_OK, 0, b"")
        assert fake.store(83, PUT, "x", 3, b"4") == (ST_OK, 0, b"")
        assert fake.store(83, PUT, "x", 2, b"3") == (ST_OK, 0, b"")
        assert fake.store(83, COMMIT, "x", 4) == (ST_OK, 0, b"")
        assert get_blob(fake, 83, "x") == b"1234"
        # An empty blob.
        put_blob(fake, 84, "empty", b"")
        assert fake.store(84, GET, "empty", 0) == (ST_OK, 0, b"")
        # DELETE, then the blob is missing (status 1) for GET and DELETE.
        assert fake.store(85, DELETE, name) == (ST_OK, 0, b"")
        assert not os.path.exists(path)
        assert fake.store(86, GET, name) == (ST_NONE, 0, b"")
        assert fake.store(86, DELETE, name) == (ST_NONE, 0, b"")
        assert fake.store(86, COMMIT, "never-put", 0) == (ST_NONE, 0, b"")
        assert fake.store(86, PUT, "never-put", 5, b"x") == (ST_NONE, 0, b"")
        log = relay.log()
        assert re.search(r"storage: committed %s \(102400 bytes\)" % re.escape(name), log), log
        assert re.search(r"storage: committed %s \(102523 bytes\)" % re.escape(name), log), log
        assert re.search(r"storage: reading %s \(102400 bytes\)" % re.escape(name), log), log
        assert re.search(r"storage: deleted %s$" % re.escape(name), log, re.M), log
    finally:
        fake.close()
        relay.kill()


def test_relay_storage_refusals(d):
    store_dir = os.path.join(d, "blobs")
    os.mkdir(store_dir, 0o700)
    outside = os.path.join(d, "outside")
    with open(outside, "wb") as f:
        f.write(b"secret of the host")
    os.symlink(outside, os.path.join(store_dir, "link"))
    os.symlink(outside, os.path.join(store_dir, "link2.part"))
    relay, fake, _ = start_listening(d, extra=["--storage", store_dir])
    try:
        for bad in ["../x", ".hidden", "a/b", "x" * 65, "", "a\0b", "a b", "x.part",
                    "..", "/etc/passwd"]:
            for op in (PUT, COMMIT, GET, DELETE):
                data = b"1" if op == PUT else b""
                assert fake.store(5, op, bad, 0, data) == (ST_BAD, 0, b""), (bad, op)
        assert fake.store(5, PUT, "x" * 64, 0, b"ok") == (ST_OK, 0, b"")
        # Symlinks inside DIR are not followed, for reading or writing.
        assert fake.store(6, GET, "link")[0] in (ST_BAD, ST_IO)
        assert fake.store(6, PUT, "link2", 0, b"overwritten")[0] in (ST_BAD, ST_IO)
        with open(outside, "rb") as f:
            assert f.read() == b"secret of the host"
        # Malformed requests: unknown op, short, data where none belongs,
        # a PUT of more than 900 bytes, a name longer than the payload.
        for raw in [b"", b"\x03", b"\x09\x01a\0\0\0\0", b"\x03\x01a\0\0\0",
                    b"\x03\x01a\0\0\0\0x", b"\x02\x01a\0\0\0\0x",
                    b"\x01\x01a\0\0\0\0" + bytes(901), b"\x03\x09a\0\0\0\0"]:
            assert fake.store(7, 0, b"", raw=raw) == (ST_BAD, 0, b""), raw
        assert fake.store(8, PUT, "full", 0, bytes(900)) == (ST_OK, 0, b"")
        assert "secret" not in relay.log()
    finally:
        fake.close()
        relay.kill()
    # Without --storage every STORE is a bad request; sessions go on.
    relay, fake, port = start_listening(d)
    try:
        assert fake.store(9, PUT, "blob", 0, b"x") == (ST_BAD, 0, b"")
        assert fake.store(9, GET, "blob") == (ST_BAD, 0, b"")
        assert not echo_tenants(port, 2, 3000, 5)
        assert re.search(r"storage: request 9 refused \(no --storage\)", relay.log())
    finally:
        fake.close()
        relay.kill()


def test_relay_bad_arguments(d):
    bad = [
        ([], r"--listen \[ADDR:\]PORT is required"),
        (["--listen", "9"], r"give exactly one of --tpgvm"),
        (["--listen", "9", "--tpgvm", "h:1", "--tpgvm-listen", "2"], r"give exactly one of"),
        (["--listen", "0", "--tpgvm-listen", "2"], r"--listen: port must be a number from 1 to 65535, not '0'"),
        (["--listen", "70000", "--tpgvm-listen", "2"], r"port must be .* not '70000'"),
        (["--listen", "x:", "--tpgvm-listen", "2"], r"port must be .* not ''"),
        (["--listen", "9", "--tpgvm", "5"], r"--tpgvm needs HOST:PORT"),
        (["--listen", "9", "--tpgvm", ":5"], r"--tpgvm needs HOST:PORT"),
        (["--listen", "9", "--tpgvm-listen", "2", "--max-sessions", "0"], r"--max-sessions must be a number from 1 to 16, not '0'"),
        (["--listen", "9", "--tpgvm-listen", "2", "--max-sessions", "17"], r"not '17'"),
        (["--listen", "9", "--tpgvm-listen", "2", "--max-sessions", "-1"], r"not '-1'"),
        (["--listen", "9", "--tpgvm-listen", "2", "--idle-timeout", "-1"], r"--idle-timeout must be a number from 0 to 86400, not '-1'"),
        (["--listen", "9", "--tpgvm-listen", "2", "--idle-timeout", "86401"], r"not '86401'"),
        (["--listen", "9", "--tpgvm-listen", "2", "--idle-timeout", "5s"], r"not '5s'"),
        (["--listen", "9", "--listen", "8", "--tpgvm-listen", "2"], r"--listen given twice"),
        (["--listen", "9", "--tpgvm-listen", "2", "--storage", "a", "--storage", "b"], r"--storage given twice"),
        (["--listen", "9", "--tpgvm-listen", "2", "--storage", ""], r"--storage needs a directory"),
        (["--listen", "9", "--tpgvm-listen"], r"option '--tpgvm-listen' needs an argument"),
        (["--bogus"], r"unknown option '--bogus'"),
        (["--listen", "9", "--tpgvm-listen", "2", "extra"], r"unexpected argument 'extra'"),
        (["--listen", "no.such.host.invalid:9", "--tpgvm-listen", "2"], r"--listen: cannot resolve"),
    ]
    for args, pattern in bad:
        p = subprocess.run([RELAY] + args, capture_output=True, text=True, timeout=TIMEOUT)
        lines = p.stderr.strip("\n").split("\n")
        assert p.returncode == 2, "%r: exit %d, %r" % (args, p.returncode, p.stderr)
        assert len(lines) == 2 and lines[0].startswith("custos-relay: ") \
            and re.search(pattern, lines[0]), \
            "%r: stderr %r" % (args, p.stderr)
    p = subprocess.run([RELAY, "--help"], capture_output=True, text=True, timeout=TIMEOUT)
    assert p.returncode == 0 and "usage: custos-relay" in p.stdout
