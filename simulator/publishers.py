"""Where simulated messages go: an MQTT broker (QoS 1) or a JSON-lines event log.

Both are callables `publish(topic, payload, retain)` with a `close()`; the
scenario never knows which one it has.
"""

import json
import time
from pathlib import Path
from urllib.parse import urlparse


class PublishError(RuntimeError):
    """The destination refused or lost messages; the message says which and why."""


def parse_mqtt_url(url: str) -> tuple[str, int, str | None, str | None]:
    """mqtt://[user:password@]host[:port] -> (host, port, user, password)."""
    parsed = urlparse(url)
    if parsed.scheme != "mqtt" or not parsed.hostname:
        raise PublishError(f"MQTT URL must look like mqtt://[user:password@]host:port, got {_redact(url)!r}")
    try:
        port = parsed.port or 1883
    except ValueError as exc:
        raise PublishError(f"bad port in MQTT URL {_redact(url)!r}") from exc
    return parsed.hostname, port, parsed.username, parsed.password


def _redact(url: str) -> str:
    parsed = urlparse(url)
    if parsed.password is None:
        return url
    return url.replace(":" + parsed.password + "@", ":***@", 1)


class EventLog:
    """One JSON object per line: {"topic", "retain", "payload"} with the payload text unchanged."""

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        try:
            self._fh = open(self.path, "w", encoding="utf-8")  # noqa: SIM115 - closed by close()
        except OSError as exc:
            raise PublishError(f"cannot write event log {self.path}: {exc.strerror or exc}") from exc
        self.count = 0

    def __call__(self, topic: str, payload: bytes, retain: bool = False) -> None:
        self._fh.write(json.dumps({"topic": topic, "retain": retain, "payload": payload.decode()}) + "\n")
        self.count += 1

    def close(self) -> None:
        self._fh.close()


def read_event_log(path: str | Path) -> list[tuple[str, bytes, bool]]:
    out = []
    with open(path, encoding="utf-8") as fh:
        for line in fh:
            row = json.loads(line)
            out.append((row["topic"], row["payload"].encode(), bool(row["retain"])))
    return out


class MqttPublisher:
    """paho-mqtt client publishing with QoS 1; close() waits until the broker has acknowledged all."""

    def __init__(self, url: str, client_id: str = "emberwatch-simulator", connect_timeout_s: float = 10.0) -> None:
        import paho.mqtt.client as mqtt

        host, port, user, password = parse_mqtt_url(url)
        self.url = _redact(url)
        self._client = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, client_id=client_id)
        if user is not None:
            self._client.username_pw_set(user, password)
        self._client.max_queued_messages_set(0)  # unbounded: the simulator outruns any broker
        self._client.max_inflight_messages_set(100)
        try:
            self._client.connect(host, port)
        except OSError as exc:
            raise PublishError(f"cannot connect to MQTT broker {self.url}: {exc}") from exc
        self._client.loop_start()
        deadline = time.monotonic() + connect_timeout_s
        while not self._client.is_connected():
            if time.monotonic() > deadline:
                self._client.loop_stop()
                raise PublishError(f"MQTT broker {self.url} did not accept the connection in "
                                   f"{connect_timeout_s:g} s (wrong credentials?)")
            time.sleep(0.01)
        self._pending: list = []
        self.count = 0

    def __call__(self, topic: str, payload: bytes, retain: bool = False) -> None:
        info = self._client.publish(topic, payload, qos=1, retain=retain)
        if info.rc != 0:
            raise PublishError(f"MQTT publish to {topic} failed with code {info.rc}")
        self._pending.append(info)
        self.count += 1
        if len(self._pending) >= 10000:  # keep memory flat on long runs
            self._wait(self._pending[:5000], 120.0)
            del self._pending[:5000]

    def _wait(self, infos: list, timeout_s: float) -> None:
        deadline = time.monotonic() + timeout_s
        for info in infos:
            info.wait_for_publish(timeout=max(0.0, deadline - time.monotonic()))
            if not info.is_published():
                raise PublishError(f"broker {self.url} did not acknowledge all messages within {timeout_s:g} s")

    def close(self, timeout_s: float = 120.0) -> None:
        try:
            self._wait(self._pending, timeout_s)
        finally:
            self._client.disconnect()
            self._client.loop_stop()
