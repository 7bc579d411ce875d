"""The LoRaWAN source: a network server's MQTT feed in, schema-v2 messages out to the same ingest.

It is an `MqttSource` (same manual acks, same persistent session) on the network server's
topics; each uplink is decoded and translated (gateway/lorawan/translate.py) on arrival and
handed to the service exactly like a direct node message, so storing, de-duplication, the
spool and the ack-after-durable rule are the ones every message gets. What cannot be stored
(an unknown DevEUI, a foreign frame) is counted by reason, logged, and acked at once: the broker
would only send it again. With The Things Stack (QoS 0) each connection also backfills from
the Storage Integration (gateway/lorawan/storage.py).
"""

from __future__ import annotations

import logging
import os
import threading
import time
from collections import Counter
from collections.abc import Callable

import paho.mqtt.client as mqtt

from gateway.lorawan.registry import Registry, RegistryError, load_registry
from gateway.lorawan.settings import LorawanSettings
from gateway.lorawan.storage import HttpGet, StorageError, fetch_stored_uplinks, urllib_get
from gateway.lorawan.translate import Translator, load_state, save_state
from gateway.lorawan.uplinks import Uplink, UplinkError, parse_chirpstack, parse_ttn
from gateway.mqtt_source import MessageSource, MqttSource, Received

log = logging.getLogger("emberwatch.gateway.lorawan")

# Connection numbers of this source start here, so a combined source can tell its deliveries apart.
CONNECTION_BASE = 1 << 30
BACKFILL_OVERLAP_MS = 60_000
# The unwrap state is saved at most this often while uplinks arrive (and at stop): a crash loses at
# most a minute of it, which only matters to a node that passed a multiple of 65536 in that minute.
STATE_SAVE_S = 60.0  # network-server clocks and in-flight messages: ask a minute further back


class LorawanSource(MqttSource):
    def __init__(self, settings: LorawanSettings, deliver: Callable[[Received], object],
                 http_get: HttpGet = urllib_get) -> None:
        super().__init__(settings.mqtt, deliver)
        self.lorawan = settings
        self._registry_mtime_ns = os.stat(settings.registry_path).st_mtime_ns
        self.translator = Translator(load_registry(settings.registry_path), self._reload_registry)
        if settings.state_path:
            load_state(self.translator, settings.state_path)
        self._state_saved_s = time.monotonic()
        self.connection = CONNECTION_BASE
        self.rejected: Counter[str] = Counter()
        self.translated = 0
        self.backfilled = 0
        self.http_get = http_get
        self.last_uplink_ms: int | None = None
        self._lock = threading.Lock()  # live messages and a backfill thread share the translator

    def _reload_registry(self) -> Registry | None:
        """The registry again if its file changed since it was read (a bad edit keeps the old one)."""
        try:
            mtime_ns = os.stat(self.lorawan.registry_path).st_mtime_ns
            if mtime_ns == self._registry_mtime_ns:
                return None
            self._registry_mtime_ns = mtime_ns
            registry = load_registry(self.lorawan.registry_path)
        except (OSError, RegistryError) as exc:
            log.error("LoRaWAN registry not reloaded: %s", exc)
            return None
        log.info("LoRaWAN registry reloaded: %d devices", len(registry))
        return registry

    def _on_connect(self, client: mqtt.Client, userdata: object, flags: mqtt.ConnectFlags,
                    reason_code: mqtt.ReasonCode, properties: object) -> None:
        if reason_code.is_failure:
            log.error("LoRaWAN broker refused the connection: %s", reason_code)
            return
        self.connected = True
        self.connection += 1
        topic = self.lorawan.uplink_topic()
        # The Things Stack's MQTT server grants QoS 0 only; ChirpStack's publishes reach our broker at QoS 1.
        client.subscribe(topic, qos=0 if self.lorawan.server == "ttn" else 1)
        log.info("LoRaWAN source (%s) subscribed to %s", self.lorawan.server, topic)
        if self.lorawan.server == "ttn" and self.lorawan.ttn_api_url:
            threading.Thread(target=self.backfill, name="ttn-backfill", daemon=True).start()

    def _on_message(self, client: mqtt.Client, userdata: object, msg: mqtt.MQTTMessage) -> None:
        received_ms = int(time.time() * 1000)
        try:
            topic = msg.topic
        except UnicodeDecodeError:
            topic = "<undecodable topic>"
        try:
            if self.lorawan.server == "chirpstack":
                uplink = parse_chirpstack(topic, bytes(msg.payload))
            else:
                uplink = parse_ttn(bytes(msg.payload), topic)
            self._deliver(uplink, msg.mid, msg.qos, received_ms)
        except UplinkError as exc:
            self._reject(exc, topic)
            if msg.qos > 0:
                client.ack(msg.mid, msg.qos)

    def _deliver(self, uplink: Uplink, mid: int, qos: int, received_ms: int) -> None:
        with self._lock:
            topic, payload = self.translator.translate(uplink)
            self.translated += 1
            self.last_uplink_ms = max(uplink.received_ms, self.last_uplink_ms or 0)
            if self.lorawan.state_path and time.monotonic() - self._state_saved_s >= STATE_SAVE_S:
                self._save_state()
        self.deliver(Received(topic, payload, mid, qos, received_ms, self.connection))

    def _save_state(self) -> None:
        assert self.lorawan.state_path
        self._state_saved_s = time.monotonic()
        try:
            save_state(self.translator, self.lorawan.state_path)
        except OSError as exc:
            log.error("cannot save the LoRaWAN state to %s: %s", self.lorawan.state_path, exc)

    def stop(self) -> None:
        super().stop()
        if self.lorawan.state_path:
            with self._lock:
                self._save_state()

    def _reject(self, exc: UplinkError, topic: str) -> None:
        self.rejected[exc.reason] += 1
        log.warning("LoRaWAN uplink not stored", extra={"fields": {
            "topic": topic[:200], "reason": exc.reason, "detail": exc.detail}})

    def backfill(self, now_ms: int | None = None) -> int:
        """Fetch what the Storage Integration kept since the last uplink seen; returns how many came in."""
        settings = self.lorawan
        if not settings.ttn_api_url or not settings.ttn_api_key:
            return 0
        now_ms = int(time.time() * 1000) if now_ms is None else now_ms
        after_ms = (self.last_uplink_ms - BACKFILL_OVERLAP_MS if self.last_uplink_ms is not None
                    else now_ms - settings.backfill_s * 1000)
        try:
            stored = fetch_stored_uplinks(settings.ttn_api_url, settings.application, settings.ttn_api_key,
                                          after_ms, self.http_get)
        except StorageError as exc:
            log.error("Storage Integration backfill failed (uplinks missed while disconnected stay lost until "
                      "the next connection retries): %s", exc)
            return 0
        count = 0
        for result in stored:
            try:
                self._deliver(parse_ttn(result), 0, 0, now_ms)
                count += 1
            except UplinkError as exc:
                self._reject(exc, "storage-integration")
        self.backfilled += count
        log.info("backfilled %d uplinks from the Storage Integration", count)
        return count


class CombinedSource:
    """The direct node feed and the LoRaWAN feed as one MessageSource for the service."""

    def __init__(self, direct: MessageSource, lorawan: LorawanSource) -> None:
        self.direct = direct
        self.lorawan = lorawan
        self.subscribed = _BothSet(direct.subscribed, lorawan.subscribed)

    @property
    def connected(self) -> bool:
        return self.direct.connected and self.lorawan.connected

    @property
    def connection(self) -> int:
        return self.direct.connection

    @property
    def failed(self) -> bool:
        return self.direct.failed

    def start(self) -> None:
        self.direct.start()
        self.lorawan.start()

    def stop(self) -> None:
        self.lorawan.stop()
        self.direct.stop()

    def ack_all(self, items: list[Received]) -> None:
        self.direct.ack_all([i for i in items if i.connection < CONNECTION_BASE])
        self.lorawan.ack_all([i for i in items if i.connection >= CONNECTION_BASE])


class _BothSet:
    """Duck-typed threading.Event that is set while both underlying events are."""

    def __init__(self, a: threading.Event, b: threading.Event) -> None:
        self.a, self.b = a, b

    def is_set(self) -> bool:
        return self.a.is_set() and self.b.is_set()

    def wait(self, timeout: float | None = None) -> bool:
        deadline = None if timeout is None else time.monotonic() + timeout
        if not self.a.wait(timeout):
            return False
        remaining = None if deadline is None else max(0.0, deadline - time.monotonic())
        return self.b.wait(remaining)

    def set(self) -> None:
        self.a.set()
        self.b.set()

    def clear(self) -> None:
        self.a.clear()
        self.b.clear()
