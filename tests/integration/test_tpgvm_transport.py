"""The tenant transport end to end through the real hypervisor, in Bochs:
tenant TCP clients -> custos-relay -> Bochs COM2 (a socket) -> the TCB's
COM2 passthrough -> the skeleton TPGVM (tpgvm/main.c), which echoes every
session's bytes -> back the same way. The TPGVM is delivered in a station
envelope, as in production. Every socket operation has a timeout; the relay
and Bochs are killed in a finally."""
import hashlib
import os
import random
import re
import socket
import threading
import time

import harness as h
import test_relay as relay_t
import test_tpgvm as tpgvm_t

TPGVM_ELF = os.path.join(h.BUILD, "guests", "tpgvm.elf")
# Low ips: serial bytes move with emulated time (HARNESS.md); the VMX
# preemption timer counts instructions and is unaffected.
IPS = 2000000
TENANTS = 8
SIZE = 4096
SOCK_TIMEOUT = 20.0
VM = r"^\[vm1 tpgvm\] tpgvm: "


def tpgvm_iso(d):
    env = tpgvm_t.package_image(d, TPGVM_ELF)
    pki = tpgvm_t.PKI
    mods = [("tcb-keys.bin", "tcb-keys"), ("tcb-certs.bin", "tcb-certs"),
            ("tpgvm.env", "tpgvm-envelope")]
    return h.make_iso(d, cmdline="custos.debug=mirror-consoles", modules=mods,
                      module_files=[os.path.join(pki, "tcb-keys.bin"),
                                    os.path.join(pki, "tcb-certs.bin"), env])


def echo_one(port, k, failures):
    """One tenant: send its own bytes in odd pieces, expect exactly them."""
    rng = random.Random(1000 + k)
    data = (b"tenant %d:" % k) + bytes(rng.randrange(256) for _ in range(SIZE))
    try:
        with socket.create_connection(("127.0.0.1", port), SOCK_TIMEOUT) as s:
            s.settimeout(SOCK_TIMEOUT)
            off = 0
            while off < len(data):
                n = rng.randrange(1, 1500)
                s.sendall(data[off:off + n])
                off += n
            got = relay_t.recv_exactly(s, len(data))
            if got != data:
                failures.append("tenant %d: got %d of %d bytes, %s" % (
                    k, len(got), len(data),
                    "a prefix" if data.startswith(got) else "different"))
    except OSError as e:
        failures.append("tenant %d: %s" % (k, e))


def test_tpgvm_transport_echoes_tenant_sessions(d):
    iso = tpgvm_iso(d)
    tport, sport = relay_t.free_port(), relay_t.free_port()
    relay = relay_t.Relay(d, ["--listen", str(tport), "--tpgvm-listen", str(sport)])
    emu = None
    try:
        relay.wait_log(r"waiting for the tpgvm serial stream")
        emu = h.start_bochs(d, iso=iso, ips=IPS, com2_socket=sport)
        relay.wait_log(r"tpgvm link up", timeout=20)
        emu.wait_for(r'^tpgvm: launched as vm 1 for platform "custos-test"', 60)
        with open(TPGVM_ELF, "rb") as f:
            digest = hashlib.sha384(f.read()).hexdigest()
        emu.wait_for(r"^measure: tpgvm-image sha384:%s$" % digest, 1)
        emu.wait_for(VM + r"start \(vm 1, ", 30)
        # Its policy reached it as init data, as the station wrote it.
        emu.wait_for(VM + r'policy for platform "custos-test", 1 tenant CA root\(s\)', 30)
        emu.wait_for(VM + r"transport up on COM2", 30)
        # The TPGVM's HELLO drops whatever the relay holds: connect after it.
        relay.wait_log(r"tpgvm hello \(it restarted\)", timeout=30)

        start = time.monotonic()
        failures = []
        threads = [threading.Thread(target=echo_one, args=(tport, k, failures))
                   for k in range(TENANTS)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(3 * SOCK_TIMEOUT)
        assert not any(t.is_alive() for t in threads), "a tenant hung"
        echo_s = time.monotonic() - start
        assert not failures, "\n".join(failures) + "\n" + relay.log() + emu.tail()
        print("      %d tenants x %d bytes echoed in %.1f s"
              % (TENANTS, SIZE + 10, echo_s), flush=True)

        # Each tenant closed: the relay sent CLOSE, the TPGVM freed it.
        opened = emu.wait_for(VM + r"session (\d+) open$", 10, TENANTS)
        closed = emu.wait_for(VM + r"session (\d+) closed$", 30, TENANTS)
        sids = sorted(int(m.group(1)) for m in opened)
        assert len(set(sids)) == TENANTS, sids
        assert sorted(int(m.group(1)) for m in closed) == sids
        log = relay.log()
        assert len(re.findall(r"session \d+ closed: by tenant$", log, re.M)) == TENANTS, log
        assert "link down" not in log, log
        serial = emu.serial()
        assert not re.search(r"^vm \d+ \(tpgvm\): denied", serial, re.M), serial[-3000:]
        assert not re.search(VM + r"session \d+ refused", serial, re.M)
        assert not re.search(VM + r"frame for session \d+ dropped", serial, re.M)
    finally:
        if emu:
            emu.stop()
        relay.kill()


# ---- The TPGVM against a scripted relay ----------------------------------------

class Line:
    """This test as the relay: the serial stream from Bochs, framed with the
    Python codec of test_relay (written from docs/relay.md)."""

    def __init__(self, sock):
        self.sock = sock
        sock.settimeout(SOCK_TIMEOUT)
        self.buf = bytearray()
        self.frames = []

    def send(self, *chunks):
        self.sock.sendall(b"".join(chunks))

    def expect(self, want, timeout=SOCK_TIMEOUT):
        """Wait for the frame (type, sid, payload); return what came first."""
        end = time.monotonic() + timeout
        while want not in self.frames:
            left = end - time.monotonic()
            assert left > 0, "no %r from the TPGVM; got %r" % (want, self.frames)
            self.sock.settimeout(left)
            try:
                chunk = self.sock.recv(65536)
            except socket.timeout:
                continue
            assert chunk, "the serial stream closed; got %r" % self.frames
            self.buf += chunk
            self.frames += relay_t.decode(self.buf)
        seen, self.frames = self.frames[:self.frames.index(want)], \
            self.frames[self.frames.index(want) + 1:]
        return seen


def test_tpgvm_transport_noise_cut_frames_and_relay_hello(d):
    """Line noise between frames, DATA for a session never opened, a frame
    cut short followed by quiet, and a HELLO from a restarted relay: the
    TPGVM echoes exactly the good frames of its open sessions."""
    enc = relay_t.encode
    OPEN, DATA, CLOSE, HELLO = relay_t.OPEN, relay_t.DATA, relay_t.CLOSE, relay_t.HELLO
    rng = random.Random(5)
    iso = tpgvm_iso(d)
    listener = socket.socket()
    emu = conn = None
    try:
        listener.bind(("127.0.0.1", 0))
        listener.listen(1)
        listener.settimeout(SOCK_TIMEOUT)
        emu = h.start_bochs(d, iso=iso, ips=IPS, com2_socket=listener.getsockname()[1])
        conn, _ = listener.accept()
        line = Line(conn)
        line.expect((HELLO, 0, b""), 60)
        noise = lambda: relay_t.garbage(rng)
        line.send(noise(), enc(OPEN, 5), noise(), enc(DATA, 9, b"never opened"),
                  noise(), enc(DATA, 5, b"abc"), noise())
        assert line.expect((DATA, 5, b"abc")) == []
        emu.wait_for(VM + r"session 5 open$", 10)

        # A good header whose payload never comes, then a good frame: it is
        # found once the line has been quiet for a while.
        line.send(enc(DATA, 5, b"x" * 1000)[:40], enc(DATA, 5, b"after the cut"))
        assert line.expect((DATA, 5, b"after the cut")) == []

        # The relay restarted: session 5 is gone, then opened anew.
        line.send(noise(), enc(HELLO, 0), enc(DATA, 5, b"stale"), enc(OPEN, 5),
                  enc(DATA, 5, b"fresh"))
        assert line.expect((DATA, 5, b"fresh")) == []
        emu.wait_for(VM + r"relay hello: dropped 1 sessions$", 10)
        line.send(enc(CLOSE, 5), enc(DATA, 5, b"after close"), enc(OPEN, 6),
                  enc(DATA, 6, b"six"))
        assert line.expect((DATA, 6, b"six")) == []
        emu.wait_for(VM + r"session 5 closed$", 10)
    finally:
        for s in (conn, listener):
            if s:
                s.close()
        if emu:
            emu.stop()
