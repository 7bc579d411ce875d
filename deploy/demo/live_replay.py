#!/usr/bin/env python3
"""Replay a simulated forest to a broker as if it were happening now, for the compose demo.

`emberwatch simulate --event-log FILE` computes days of forest in seconds, stamped
from 2026-07-01. A live demo needs the opposite: messages arriving while you watch,
stamped with the wall clock so Grafana's "last N hours" shows them. This script maps
simulated time onto wall time at `--speed` (60: one simulated hour per minute),
re-stamps each message's `t_ms` with the wall time it is sent at, and publishes it
with QoS 1 under a broker login (the `simulator` user from credentials.py).

    python3 deploy/demo/live_replay.py demo.jsonl --mqtt mqtt://simulator:PASSWORD@mosquitto:1883
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from collections.abc import Callable, Iterator
from urllib.parse import unquote, urlsplit

from edge_node.core import schema


class ReplayError(RuntimeError):
    """Bad event log or broker trouble; the message says which."""


def read_log(path: str) -> Iterator[tuple[str, bytes, bool]]:
    """(topic, payload, retain) per line of a simulator event log."""
    with open(path, encoding="utf-8") as fh:
        for number, line in enumerate(fh, start=1):
            try:
                row = json.loads(line)
                yield row["topic"], row["payload"].encode(), bool(row["retain"])
            except (ValueError, KeyError, AttributeError) as exc:
                raise ReplayError(f"{path}:{number}: not an event-log line ({exc})") from None


def restamp(topic: str, payload: bytes, t_ms: int) -> bytes:
    """The same message with event time t_ms (status messages carry none and pass unchanged).

    Only t_ms changes, whatever the kind (alert, heartbeat, weather, ...) and whichever optional
    fields it carries; the message is validated first, so nothing malformed is passed on.
    """
    msg = schema.decode(topic, payload)
    if msg["k"] == schema.KIND_STATUS:
        return payload
    body = json.loads(payload)
    body["t_ms"] = t_ms
    return json.dumps(body, separators=(",", ":")).encode()


def event_time_ms(topic: str, payload: bytes) -> int | None:
    return schema.decode(topic, payload).get("t_ms")


def replay(messages: Iterator[tuple[str, bytes, bool]], publish: Callable[[str, bytes, bool], None],
           speed: float, now_ms: Callable[[], int], sleep: Callable[[float], None]) -> int:
    """Publish in log order, each no earlier than its simulated time maps to; returns the count.

    The log is in delivery order: a message a node queued while its radio was down comes late
    and is sent at once, still stamped with the (mapped) time it was made. At high speeds two
    events of one node can map to the same millisecond; InfluxDB would keep only one of them
    (same tags + time), so the later one moves on to the next free millisecond.
    """
    start_wall_ms = now_ms()
    first_sim_ms: int | None = None
    used_ms: dict[str, set[int]] = {}
    count = 0
    for topic, payload, retain in messages:
        sim_ms = event_time_ms(topic, payload)
        if sim_ms is not None:
            if first_sim_ms is None:
                first_sim_ms = sim_ms
            wall_ms = start_wall_ms + round((sim_ms - first_sim_ms) / speed)
            used = used_ms.setdefault(topic.rsplit("/", 1)[0], set())
            while wall_ms in used:
                wall_ms += 1
            used.add(wall_ms)
            wait_s = (wall_ms - now_ms()) / 1000.0
            if wait_s > 0:
                sleep(wait_s)
            payload = restamp(topic, payload, wall_ms)
        publish(topic, payload, retain)
        count += 1
    return count


class MqttOut:
    """QoS 1 publisher that logs in with the user:password in the URL."""

    def __init__(self, url: str) -> None:
        import paho.mqtt.client as mqtt

        parts = urlsplit(url)
        if parts.scheme != "mqtt" or not parts.hostname:
            raise ReplayError(f"--mqtt must look like mqtt://user:password@host:1883, got {url!r}")
        self.client = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, client_id="emberwatch-demo-replay")
        if parts.username:
            self.client.username_pw_set(unquote(parts.username), unquote(parts.password or ""))
        self.client.max_inflight_messages_set(100)
        try:
            self.client.connect(parts.hostname, parts.port or 1883)
        except OSError as exc:
            raise ReplayError(f"cannot reach the broker at {parts.hostname}: {exc}") from exc
        self.client.loop_start()
        deadline = time.monotonic() + 10
        while not self.client.is_connected():
            if time.monotonic() > deadline:
                self.client.loop_stop()
                raise ReplayError("the broker refused the login (check MQTT_SIMULATOR_PASSWORD and credentials.py init)")
            time.sleep(0.05)
        self.pending: list = []

    def __call__(self, topic: str, payload: bytes, retain: bool) -> None:
        self.pending.append(self.client.publish(topic, payload, qos=1, retain=retain))
        if len(self.pending) >= 1000:
            self.flush()

    def flush(self) -> None:
        for info in self.pending:
            info.wait_for_publish(timeout=60)
            if not info.is_published():
                raise ReplayError("the broker did not acknowledge a message within 60 s")
        self.pending.clear()

    def close(self) -> None:
        try:
            self.flush()
        finally:
            self.client.disconnect()
            self.client.loop_stop()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("event_log", help="file written by `emberwatch simulate --event-log`")
    parser.add_argument("--mqtt", required=True, metavar="URL", help="mqtt://user:password@host:port")
    parser.add_argument("--speed", type=float, default=60.0, help="simulated seconds per wall second (default 60)")
    args = parser.parse_args(argv)
    if args.speed <= 0:
        parser.error("--speed must be > 0")
    try:
        out = MqttOut(args.mqtt)
        try:
            sent = replay(read_log(args.event_log), out, args.speed,
                          lambda: int(time.time() * 1000), time.sleep)
        finally:
            out.close()
    except (ReplayError, schema.SchemaError, OSError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    print(f"replayed {sent} messages from {args.event_log}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
