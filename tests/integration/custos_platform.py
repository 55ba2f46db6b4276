"""A running Custos platform for tests and the demo: build/custos.iso (or
another ISO) in Bochs with its COM2 on a socket, and custos-relay in front
of it; tenants connect to `port`. Always stop() it (or use `with`)."""
import os
import threading
import time

import harness as h
import test_relay as relay_t

IPS = 2000000  # serial speed follows emulated time (HARNESS.md)


class Platform:
    def __init__(self, d, iso=h.ISO, echo=None, storage=None):
        """echo: a function given each new line of the hypervisor's serial
        console while the platform runs (the demo shows them). storage: the
        relay's directory for sealed blobs."""
        self.d = d
        self.storage = storage
        self.port, sport = relay_t.free_port(), relay_t.free_port()
        args = ["--listen", str(self.port), "--tpgvm-listen", str(sport)]
        if storage:
            args += ["--storage", storage]
        self.relay = relay_t.Relay(d, args)
        self.emu = None
        self._echo_stop = threading.Event()
        try:
            self.relay.wait_log(r"waiting for the tpgvm serial stream")
            self.emu = h.start_bochs(d, iso=iso, ips=IPS, com2_socket=sport)
            if echo:
                threading.Thread(target=self._echo, args=(echo,), daemon=True).start()
            self.relay.wait_log(r"tpgvm link up", timeout=30)
            # The TPGVM's HELLO: it has made its TLS key and serves.
            self.relay.wait_log(r"tpgvm hello \(it restarted\)", timeout=180)
        except BaseException:
            self.stop()
            raise

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
