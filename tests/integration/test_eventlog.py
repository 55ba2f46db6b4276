"""The measurement log as a TCG crypto-agile event log, read by a standard
tool (host only, no emulator): build/tests/test_tcg_log --write encodes a
sample log with tcb/tcg_log.c (one event per measurement type, digest =
SHA-384 of the description) and prints its replayed PCRs; this test parses
the file itself, runs `tpm2_eventlog` (tpm2-tools) on it and checks the
events, digests, PCR indexes, event types and PCR values it reports against
values computed here with hashlib. A truncated log must make tpm2_eventlog
fail. docs/eventlog.md describes the format."""
import hashlib
import os
import re
import struct
import subprocess

import harness as h

WRITER = os.path.join(h.BUILD, "tests", "test_tcg_log")

# The sample of tests/unit/test_tcg_log.c: (PCR, description).
SAMPLE = [
    (12, "custos.elf text+rodata"),
    (12, "kernel command line"),
    (13, "compiled-in CA root"),
    (14, "tpgvm image"),
    (14, "tpgvm policy"),
    (15, "boot vm hello"),
]
EV_NO_ACTION, EV_IPL, TPM_ALG_SHA384 = 0x3, 0xD, 0x000C
HEADER_LEN = 65


def run(args):
    return subprocess.run(args, capture_output=True, text=True, timeout=60)


def write_sample(d):
    path = os.path.join(d, "log.bin")
    p = run([WRITER, "--write", path])
    assert p.returncode == 0, "%s --write failed (%d): %s%s" % (
        WRITER, p.returncode, p.stdout, p.stderr)
    pcrs = dict((int(m.group(1)), m.group(2))
                for m in re.finditer(r"^pcr(\d+) ([0-9a-f]{96})$", p.stdout, re.M))
    assert sorted(pcrs) == [12, 13, 14, 15], p.stdout
    with open(path, "rb") as f:
        return path, f.read(), pcrs


def digest(desc):
    return hashlib.sha384(desc.encode()).digest()


def expected_pcrs():
    """SHA-384 extend from 48 zero bytes, in log order."""
    pcrs = {}
    for pcr, desc in SAMPLE:
        pcrs[pcr] = hashlib.sha384(pcrs.get(pcr, bytes(48)) + digest(desc)).digest()
    return dict((k, v.hex()) for k, v in pcrs.items())


def parse(data):
    """The log by the profile's layout: the Spec ID event's fields, then each
    TCG_PCR_EVENT2 as (pcr, type, alg, digest, event data)."""
    pcr, etype = struct.unpack_from("<II", data, 0)
    size, = struct.unpack_from("<I", data, 28)
    spec = data[32:32 + size]
    header = (pcr, etype, data[8:28], size, spec[:16]) + struct.unpack_from(
        "<IBBBBIHHB", spec, 16)
    events, off = [], 32 + size
    while off < len(data):
        pcr, etype, count, alg = struct.unpack_from("<IIIH", data, off)
        assert count == 1, "event at %d has %d digests" % (off, count)
        dig = data[off + 14:off + 62]
        n, = struct.unpack_from("<I", data, off + 62)
        events.append((pcr, etype, alg, dig, data[off + 66:off + 66 + n]))
        off += 66 + n
    assert off == len(data), "log ends mid-event"
    return header, events


def test_log_layout(d):
    _, data, _ = write_sample(d)
    header, events = parse(data)
    assert header == (0, EV_NO_ACTION, bytes(20), 33, b"Spec ID Event03\0",
                      0, 0, 2, 0, 2, 1, TPM_ALG_SHA384, 48, 0), header
    assert len(data) == HEADER_LEN + sum(66 + len(desc) + 1 for _, desc in SAMPLE)
    want = [(pcr, EV_IPL, TPM_ALG_SHA384, digest(desc), desc.encode() + b"\0")
            for pcr, desc in SAMPLE]
    assert events == want, events


def test_tpm2_eventlog_reads_log(d):
    path, _, c_pcrs = write_sample(d)
    p = run(["tpm2_eventlog", path])
    assert p.returncode == 0, "tpm2_eventlog exit %d:\n%s%s" % (
        p.returncode, p.stdout, p.stderr)
    out = p.stdout
    # tpm2-tools 5.4 checks EV_IPL events against GRUB's conventions and
    # warns (docs/eventlog.md); warnings only, never an error.
    for line in p.stderr.splitlines():
        assert line.startswith("WARN:"), "tpm2_eventlog stderr: %r" % p.stderr
    nums = [int(n) for n in re.findall(r"^- EventNum: (\d+)$", out, re.M)]
    assert nums == list(range(len(SAMPLE) + 1)), out
    assert re.findall(r"^  PCRIndex: (\d+)$", out, re.M) == \
        ["0"] + [str(pcr) for pcr, _ in SAMPLE], out
    assert re.findall(r"^  EventType: (\S+)$", out, re.M) == \
        ["EV_NO_ACTION"] + ["EV_IPL"] * len(SAMPLE), out
    assert "Signature: Spec ID Event03" in out and "algorithmId: sha384" in out, out
    assert re.findall(r"^  - AlgorithmId: (\S+)$", out, re.M) == ["sha384"] * len(SAMPLE)
    digests = re.findall(r'^    Digest: "([0-9a-f]+)"$', out, re.M)
    assert digests == [digest(desc).hex() for _, desc in SAMPLE], out
    strings = re.findall(r'^      "(.*)\\0"$', out, re.M)
    assert strings == [desc for _, desc in SAMPLE], out
    # The PCR values tpm2_eventlog replays, hashlib's, and tcg_log_replay's.
    pcrs = dict((int(k), v) for k, v in
                re.findall(r"^    (\d+) *: 0x([0-9a-f]{96})$", out, re.M))
    want = expected_pcrs()
    assert pcrs == want, "tpm2_eventlog PCRs %r, want %r" % (pcrs, want)
    assert c_pcrs == want, "tcg_log_replay PCRs %r, want %r" % (c_pcrs, want)


def test_tpm2_eventlog_refuses_truncated_log(d):
    _, data, _ = write_sample(d)
    # Inside the Spec ID event, in the first event's header, inside its
    # digest, inside the last event's data, one byte short.
    for n in (10, HEADER_LEN - 1, HEADER_LEN + 1, HEADER_LEN + 30, len(data) - 5,
              len(data) - 1):
        path = os.path.join(d, "truncated-%d.bin" % n)
        with open(path, "wb") as f:
            f.write(data[:n])
        p = run(["tpm2_eventlog", path])
        assert p.returncode != 0, "tpm2_eventlog accepted a log cut to %d of %d bytes:\n%s" % (
            n, len(data), p.stdout)
        assert "ERROR" in p.stderr, "cut to %d: stderr %r" % (n, p.stderr)
