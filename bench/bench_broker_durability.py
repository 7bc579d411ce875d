"""What a kill -9 of Mosquitto loses, and what each persistence setting costs in throughput.

For each setting, on a real Mosquitto 2.0.x started here with throwaway dirs:

1. loss: a persistent QoS 1 session (the gateway's) exists and is offline, a node publishes
   QoS 1 alerts at a steady rate, the broker is killed with SIGKILL mid-stream, restarted on
   the same data, and the session is drained. Lost = alerts the broker PUBACKed to the node
   that the session never got. Run twice: with the session offline (everything queued), and
   online and consuming (acking each message as it comes).
2. cost: N QoS 1 alerts published as fast as the broker acks them into an online session
   that acks at once, messages/s.

    .venv/bin/python bench/bench_broker_durability.py            # all settings, 3 repeats
    .venv/bin/python bench/bench_broker_durability.py --quick    # 1 repeat
"""

from __future__ import annotations

import argparse
import platform
import signal
import statistics
import sys
import tempfile
import threading
import time
from pathlib import Path

import paho.mqtt.client as mqtt

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from edge_node.core import schema
from tests.harness import servers
from tests.harness.servers import wait_until

SETTINGS = {
    "autosave_interval 60 (shipped before)": "autosave_interval 60\n",
    "autosave_interval 1": "autosave_interval 1\n",
    "autosave_on_changes, every 100 changes": "autosave_on_changes true\nautosave_interval 100\n",
    "autosave_on_changes, every 10 changes": "autosave_on_changes true\nautosave_interval 10\n",
    "autosave_on_changes, every change": "autosave_on_changes true\nautosave_interval 1\n",
}
TOPIC = "emberwatch/v1/bench/n001/alert"


def broker(workdir: Path, persistence: str, port: int | None = None) -> servers.ManagedServer:
    return servers.mosquitto(workdir, port=port, persistence_conf=persistence)


class Session:
    """The gateway's persistent session, acking as messages come; keeps the seqs it got."""

    def __init__(self, port: int) -> None:
        self.got: set[int] = set()
        self.subscribed = threading.Event()
        self.client = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, client_id="durability-gateway",
                                  clean_session=False)
        self.client.on_message = lambda c, u, m: self.got.add(int(m.payload.split(b'"seq":')[1].split(b",")[0]))
        self.client.on_connect = lambda c, u, f, rc, p: c.subscribe("emberwatch/v1/+/+/+", qos=1)
        self.client.on_subscribe = lambda *a: self.subscribed.set()
        self.client.connect("127.0.0.1", port)
        self.client.loop_start()
        if not self.subscribed.wait(10):
            raise RuntimeError("no subscription")

    def close(self) -> None:
        self.client.disconnect()
        self.client.loop_stop()


class Publisher:
    """A node publishing QoS 1 alerts seq 1..n on its own thread."""

    def __init__(self, port: int, n: int, rate_per_s: float | None) -> None:
        self.infos: list[tuple[int, mqtt.MQTTMessageInfo]] = []
        self.stop = threading.Event()
        self.client = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, client_id="durability-node")
        self.client.max_inflight_messages_set(100)
        self.client.connect("127.0.0.1", port)
        self.client.loop_start()
        self.thread = threading.Thread(target=self._run, args=(n, rate_per_s), daemon=True)
        self.thread.start()

    def acked(self) -> set[int]:
        """Seqs whose PUBACK arrived."""
        return {seq for seq, info in list(self.infos) if info._published}

    def _run(self, n: int, rate_per_s: float | None) -> None:
        start = time.monotonic()
        for seq in range(1, n + 1):
            if self.stop.is_set():
                return
            if rate_per_s:
                delay = start + seq / rate_per_s - time.monotonic()
                if delay > 0:
                    time.sleep(delay)
            payload = schema.encode_alert("n001", seq, 1_782_864_000_000 + seq, 900, 500, 2500, 3000, 1000,
                                          -3000, 3700)
            self.infos.append((seq, self.client.publish(TOPIC, payload, qos=1)))

    def close(self) -> None:
        self.stop.set()
        self.thread.join(10)
        self.client.loop_stop()


def loss_after_kill(persistence: str, session_online: bool, n: int = 3000, rate: int = 1000) -> tuple[int, int]:
    """(acked by the broker, of those lost) for one SIGKILL of the broker mid-stream."""
    with tempfile.TemporaryDirectory() as tmp:
        server = broker(Path(tmp), persistence)
        server.start()
        session = Session(server.port)
        if not session_online:
            session.close()
        publisher = Publisher(server.port, n, rate)
        wait_until(lambda: len(publisher.acked()) >= n // 2, 30, "half the stream acked")
        server.stop(signal.SIGKILL)
        acked_at_kill = publisher.acked()
        publisher.close()
        if session_online:
            session.close()
        server.start()
        again = Session(server.port)
        before = -1
        while before != len(again.got):  # drained once nothing more comes for a second
            before = len(again.got)
            time.sleep(1.0)
        again.close()
        got = again.got | (session.got if session_online else set())
        server.stop()
        return len(acked_at_kill), len(acked_at_kill - got)


def throughput(persistence: str, n: int, session_online: bool) -> float:
    """Alerts/s the broker acks to a node; offline, every save also rewrites the growing queue."""
    with tempfile.TemporaryDirectory() as tmp:
        server = broker(Path(tmp), persistence)
        server.start()
        session = Session(server.port)
        if not session_online:
            session.close()
        start = time.perf_counter()
        publisher = Publisher(server.port, n, None)
        wait_until(lambda: len(publisher.acked()) >= n and (len(session.got) >= n or not session_online), 300,
                   "all acked and delivered", interval_s=0.01)
        elapsed = time.perf_counter() - start
        publisher.close()
        session.close()
        server.stop()
        return n / elapsed


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true")
    args = parser.parse_args()
    repeats = 1 if args.quick else 3
    print(f"# {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}, {platform.node()}, "
          f"{platform.processor() or platform.machine()}, Python {platform.python_version()}")
    for name, conf in SETTINGS.items():
        offline = [loss_after_kill(conf, False) for _ in range(repeats)]
        online = [loss_after_kill(conf, True) for _ in range(repeats)]
        rates = [throughput(conf, 5000, True) for _ in range(repeats)]
        queued = [throughput(conf, 5000, False) for _ in range(repeats)]
        print(f"{name}: lost/acked session offline {[f'{lost}/{a}' for a, lost in offline]}, "
              f"online {[f'{lost}/{a}' for a, lost in online]}; "
              f"throughput into an online session median {statistics.median(rates):,.0f} msg/s "
              f"({', '.join(f'{r:,.0f}' for r in rates)}), queued for an offline one "
              f"{statistics.median(queued):,.0f} msg/s ({', '.join(f'{r:,.0f}' for r in queued)})", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
