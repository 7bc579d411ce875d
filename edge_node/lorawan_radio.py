"""The node's LoRaWAN radio: an AT-command modem (edge_node/drivers/at_modem.py) behind the same
connect / publish / disconnect interface as the Wi-Fi radio, so the wake cycle does not change.

- The wake cycle hands over schema JSON (what a Wi-Fi node publishes); here it becomes an 11-byte
  uplink_codec frame, its age = now - the reading's time (the gateway subtracts it from the
  network server's receive time, so the node needs no synchronised clock).
- OTAA join once: the modem keeps the session (keys, frame counters) while it and the MCU sleep,
  and the MCU remembers on flash that it joined, so a wake costs no AT+NJS query; if the modem
  lost the session (brown-out), the send answers AT_NO_NETWORK_JOINED and the radio joins again.
- Alerts go confirmed (the modem retransmits; the outbox keeps an alert until it is acked),
  heartbeats unconfirmed. A busy or duty-cycle-restricted modem is retried until `send_budget_s`
  is spent; after that the message stays queued for the next wake.
- A downlink on the Emberwatch port is a config frame: applied only within bounds, answered by
  a status uplink saying applied or rejected.
Runs on MicroPython and CPython.
"""

try:
    import json
except ImportError:  # very old MicroPython ports
    import ujson as json  # type: ignore

from edge_node.core import uplink_codec as codec
from edge_node.drivers.at_modem import ModemError, parse_downlink
from edge_node.wake import RadioError

JOIN_COMMAND = "AT+JOIN=1:0:10:8"  # join now, no auto-join at modem boot, 10 s between 8 attempts
JOINED_MARK = b"joined"
_SEND_RESULTS = ("+EVT:TX_DONE", "+EVT:SEND_CONFIRMED_OK", "+EVT:SEND_CONFIRMED_FAILED")
_RETRY_LATER = ("AT_BUSY_ERROR", "AT_DUTYCYCLE_RESTRICTED", "AT_DUTYCYLE_RESTRICTED")


class LorawanRadio:
    def __init__(self, modem, clock, settings, session_store, ticks_ms, sleep_ms, ticks_diff,
                 join_timeout_s: int = 90, send_budget_s: int = 30, confirm_attempts: int = 2,
                 result_timeout_s: int = 60) -> None:
        """settings: the node's adjustable settings (edge_node/node_settings.py): boot, threshold,
        sample_interval_s, heartbeat_interval_s and apply(config) -> bool."""
        self.modem = modem
        self.clock = clock
        self.settings = settings
        self.session_store = session_store
        self.ticks_ms, self.sleep_ms, self.ticks_diff = ticks_ms, sleep_ms, ticks_diff
        self.join_timeout_ms = join_timeout_s * 1000
        self.send_budget_ms = send_budget_s * 1000
        self.confirm_attempts = confirm_attempts
        self.result_timeout_ms = result_timeout_s * 1000
        self.confirmed = -1    # the modem's AT+CFM setting once this wake has set it (-1: unknown)
        self.status_due = -1   # a status uplink to send (its reason), -1: none
        self.sent: list = []   # (kind, frame) the network acknowledged or took, this wake
        self.downlinks: list = []  # config frames received, decoded (or the error text)

    def connect(self) -> None:
        if self.session_store.load() != JOINED_MARK:
            self._join()  # its status frame follows the first message: news before housekeeping

    def publish(self, topic: str, payload: bytes, retain: bool, qos: int) -> None:
        kind = topic[topic.rfind("/") + 1:]
        if kind == "status":
            return  # the binary status frame goes out after each join instead
        try:
            msg = json.loads(payload)
            frame = codec.frame_from_message(kind, msg, self.clock.now_ms())
        except (ValueError, KeyError, TypeError) as exc:  # CodecError is a ValueError
            raise RadioError("cannot encode " + kind + " for LoRaWAN: " + repr(exc))
        if msg.get("boot"):
            self.settings.boot = msg["boot"]  # the status frame reports the boot the messages carry
        self._send(kind, frame, kind == "alert")

    def disconnect(self) -> None:
        pass  # AT+LPM=1: the modem sleeps by itself and keeps its session

    def _join(self) -> None:
        modem = self.modem
        try:
            modem.command("AT+NJM=1")  # OTAA
            modem.command("AT+LPM=1")  # sleep between commands, wake on UART
            modem.command(JOIN_COMMAND)
        except ModemError as exc:
            raise RadioError("lorawan join: " + str(exc))
        event = modem.wait_event(("+EVT:JOINED", "+EVT:JOIN_FAILED", "+EVT:JOIN FAILED"), self.join_timeout_ms)
        if event != "+EVT:JOINED":
            raise RadioError("lorawan join: " + (event or "no answer in " + str(self.join_timeout_ms // 1000) + " s"))
        self.session_store.save(JOINED_MARK)
        self.confirmed = -1
        self.status_due = codec.STATUS_BOOT

    def _send_status(self) -> None:
        s = self.settings
        frame = codec.encode_status(self.status_due, s.boot, s.threshold(), s.sample_interval_s(),
                                    s.heartbeat_interval_s())
        self.status_due = -1
        self._send("status", frame, False)

    def _send(self, kind: str, frame: bytes, confirmed: bool) -> None:
        started = self.ticks_ms()
        attempts = 0
        rejoined = False
        text = "AT+SEND=" + str(codec.FPORT) + ":" + "".join("%02x" % b for b in frame)
        while True:
            try:
                if self.confirmed != int(confirmed):
                    self.modem.command("AT+CFM=" + str(int(confirmed)))
                    self.confirmed = int(confirmed)
                self.modem.command(text)
            except ModemError as exc:
                if exc.status == "AT_NO_NETWORK_JOINED" and not rejoined:
                    self.session_store.save(b"")
                    self._join()
                    rejoined = True
                    continue
                if exc.status in _RETRY_LATER and self._budget_left(started):
                    self.sleep_ms(1000)
                    continue
                raise RadioError("lorawan send " + kind + ": " + exc.status)
            result = self.modem.wait_event(_SEND_RESULTS, self.result_timeout_ms)
            if result is None:
                raise RadioError("lorawan send " + kind + ": no TX_DONE from the modem")
            if result.startswith("+EVT:SEND_CONFIRMED_FAILED"):
                attempts += 1
                if attempts < self.confirm_attempts and self._budget_left(started):
                    continue
                raise RadioError("lorawan send " + kind + ": no ack after " + str(attempts) + " confirmed sends")
            break
        self.sent.append((kind, frame))
        self._apply_downlinks()

    def _budget_left(self, started: int) -> bool:
        return self.ticks_diff(self.ticks_ms(), started) < self.send_budget_ms

    def _apply_downlinks(self) -> None:
        for event in self.modem.drain_events(200):
            downlink = parse_downlink(event)
            if downlink is None or downlink[0] != codec.FPORT:
                continue
            try:
                config = codec.decode_config(downlink[1])
            except codec.CodecError as exc:
                self.downlinks.append(str(exc))
                self.status_due = codec.STATUS_CONFIG_REJECTED
                continue
            self.downlinks.append(config)
            if config["thr"] is None and config["sample_interval_s"] is None and config["heartbeat_interval_s"] is None:
                self.status_due = codec.STATUS_REQUESTED
            elif self.settings.apply(config):
                self.status_due = codec.STATUS_CONFIG_APPLIED
            else:
                self.status_due = codec.STATUS_CONFIG_REJECTED
        if self.status_due >= 0:
            self._send_status()
