"""A running Custos platform for tests and the demo: build/custos.iso (or
another ISO) on a machine (harness.Machine) with its COM2 on a socket, and
custos-relay in front of it; tenants connect to `port`. Always stop() it
(or use `with`)."""
import re
import threading
import time

import harness as h
import test_relay as relay_t

# Bochs: serial speed follows emulated time (harness.Machine, ips).
IPS = 2000000


class Platform:
    def __init__(self, d, machine, iso=h.ISO, echo=None, storage=None, port=None, **hw):
        """echo: a function given each new line of the hypervisor's serial
        console while the platform runs (the demo shows them). storage: the
        relay's directory for sealed blobs. port: where the relay listens
        for tenants (default: a free port). hw: more of the machine's
        hardware settings (harness.Machine), e.g. tpm_state. Fails at once, with the
        hypervisor's last lines, if the machine powers off before the TPGVM
        serves (a CPU it refuses, a boot that fails)."""
        self.d = d
        self.machine = machine
        self.storage = storage
        self.port, sport = relay_t.free_ports(2)
        if port:
            self.port = port
            sport = next(p for p in relay_t.free_ports(2) if p != port)
        args = ["--listen", str(self.port), "--tpgvm-listen", str(sport)]
        if storage:
            args += ["--storage", storage]
        self.relay = relay_t.Relay(d, args)
        self.emu = None
        self._echo_stop = threading.Event()
        try:
            self.relay.wait_log(r"waiting for the tpgvm serial stream")
            self.emu = machine.start(d, iso=iso, ips=IPS, com2_socket=sport, **hw)
            if echo:
                threading.Thread(target=self._echo, args=(echo,), daemon=True).start()
            self.wait_relay_log(r"tpgvm link up", 30)
            # The TPGVM's HELLO: it has made its TLS key and serves.
            self.wait_relay_log(r"tpgvm hello \(it restarted\)", 180)
        except BaseException:
            self.stop()
            raise

    def wait_relay_log(self, pattern, timeout):
        """Until the relay logs pattern; fails if the machine powers off."""
        end = time.monotonic() + timeout
        while not re.search(pattern, self.relay.log(), re.M):
            if not self.emu.running():
                lines = self.emu.serial().rstrip("\n").splitlines() or ["(nothing)"]
                said = lines[-2] if lines[-1].startswith("custos: power off") else lines[-1]
                raise AssertionError("%s stopped before the relay logged /%s/; the "
                                     "hypervisor said: %s\nits last lines:\n%s"
                                     % (self.machine.name, pattern, said, self.emu.tail()))
            assert self.relay.proc.poll() is None, "relay exited %d:\n%s" % (
                self.relay.proc.returncode, self.relay.log())
            assert time.monotonic() < end, "relay log lacks /%s/ after %d s:\n%s" % (
                pattern, timeout, self.relay.log())
            time.sleep(0.1)

    def backend_line(self):
        """The hypervisor's root-mode line ("vmx: VMX root mode on cpu0: ...")."""
        m = re.search(h.ROOT_MODE, self.emu.serial(), re.M)
        return m.group(0) if m else None

    def _echo(self, echo):
        shown = 0
        while not self._echo_stop.is_set():
            lines = self.emu.serial().splitlines(keepends=True)
            for line in lines[shown:]:
                if line.endswith("\n"):
                    echo(line)
                    shown += 1
                else:
                    break
            time.sleep(0.1)

    def stop(self):
        self._echo_stop.set()
        if self.emu:
            self.emu.stop()
        self.relay.kill()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.stop()
