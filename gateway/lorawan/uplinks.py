"""Network-server uplink JSON -> one `Uplink`: ChirpStack v4 and The Things Stack v3.

ChirpStack v4 (MQTT integration, JSON marshaler) publishes on
`application/<application_id>/device/<dev_eui>/event/up`; The Things Stack on
`v3/<app_id>@<tenant>/devices/<device_id>/up` (and its Storage Integration serves the same
object inside `{"result": ...}`). Both follow the protobuf JSON mapping, which leaves out
fields whose value is 0, "" or false: a missing `fCnt` is frame counter 0, not an error.
Pure: no I/O; anything that does not fit raises UplinkError with a reason token.
"""

from __future__ import annotations

import base64
import binascii
import json
from dataclasses import dataclass
from datetime import datetime

MAX_MESSAGE_BYTES = 64 * 1024  # a real uplink event is 1-3 KB; refuse to parse megabytes


class UplinkError(ValueError):
    def __init__(self, reason: str, detail: str) -> None:
        super().__init__(f"{reason}: {detail}")
        self.reason = reason
        self.detail = detail


@dataclass(frozen=True, slots=True)
class Uplink:
    server: str  # "chirpstack" or "ttn"
    dev_eui: str  # 16 upper-case hex digits
    f_port: int
    frame: bytes
    received_ms: int  # when the network server received it (the same on every redelivery)
    f_cnt: int
    rssi_dbm: int | None  # best gateway
    snr_db10: int | None  # SNR at that gateway, tenths of dB
    sf: int | None
    gateways: int


def parse_time_ms(text: object) -> int:
    """RFC 3339 with up to nanoseconds ("2022-07-18T09:34:15.775023242+00:00", "...Z") -> Unix ms."""
    if not isinstance(text, str) or "T" not in text:
        raise UplinkError("bad_time", f"not an RFC 3339 time: {str(text)[:40]!r}")
    head, sep, rest = text.partition(".")
    frac, zone = "", ""
    if sep:
        digits = len(rest) - len(rest.lstrip("0123456789"))
        frac, zone = rest[:digits], rest[digits:]
    else:
        for marker in ("Z", "+", "-"):
            at = head.rfind(marker)
            if at > 10:
                head, zone = head[:at], head[at:]
                break
    zone = "+00:00" if zone in ("Z", "") else zone
    try:
        whole = datetime.fromisoformat(head + zone)
    except ValueError as exc:
        raise UplinkError("bad_time", f"not an RFC 3339 time: {text[:40]!r}") from exc
    return int(whole.timestamp()) * 1000 + int((frac + "000")[:3])


def _load(payload: bytes) -> dict:
    if len(payload) > MAX_MESSAGE_BYTES:
        raise UplinkError("oversized", f"{len(payload)} bytes")
    try:
        msg = json.loads(payload)
    except (ValueError, UnicodeError) as exc:
        raise UplinkError("malformed", f"not JSON: {str(exc)[:80]}") from exc
    if not isinstance(msg, dict):
        raise UplinkError("malformed", "not a JSON object")
    return msg


def _b64(text: object) -> bytes:
    if not isinstance(text, str):
        raise UplinkError("no_payload", "no base64 frame payload (a MAC-only frame, or an unknown AppSKey)")
    try:
        return base64.b64decode(text, validate=True)
    except (binascii.Error, ValueError) as exc:
        raise UplinkError("malformed", f"frame payload is not base64: {exc}") from exc


def _int(value: object, default: int = 0) -> int:
    if value is None:
        return default
    if isinstance(value, bool) or not isinstance(value, int | float | str):
        raise UplinkError("malformed", f"expected a number, got {str(value)[:20]!r}")
    try:
        return int(value)
    except ValueError as exc:
        raise UplinkError("malformed", f"expected a number, got {str(value)[:20]!r}") from exc


def _dev_eui(text: object) -> str:
    if not isinstance(text, str) or len(text) != 16:
        raise UplinkError("bad_dev_eui", f"DevEUI must be 16 hex digits, got {str(text)[:24]!r}")
    try:
        bytes.fromhex(text)
    except ValueError as exc:
        raise UplinkError("bad_dev_eui", f"DevEUI must be 16 hex digits, got {text!r}") from exc
    return text.upper()


def _best(rx: list, rssi_key: str) -> tuple[int | None, int | None, int]:
    """(best RSSI, its SNR in tenths of dB, distinct gateways) over the receptions."""
    best: tuple[int | None, int | None] = (None, None)
    gateways = set()
    for item in rx if isinstance(rx, list) else []:
        if not isinstance(item, dict):
            continue
        ids = item.get("gateway_ids")
        gateways.add(str(ids.get("gateway_id") if isinstance(ids, dict) else item.get("gatewayId")))
        rssi = item.get(rssi_key, item.get("rssi"))
        if isinstance(rssi, int | float) and not isinstance(rssi, bool):
            snr = item.get("snr", 0)
            snr_db10 = round(float(snr) * 10) if isinstance(snr, int | float) else None
            if best[0] is None or rssi > best[0]:
                best = (round(rssi), snr_db10)
    return best[0], best[1], max(len(gateways), 1)


def parse_chirpstack(topic: str, payload: bytes) -> Uplink:
    """`application/<id>/device/<devEui>/event/up` -> Uplink."""
    parts = topic.split("/")
    if len(parts) != 6 or parts[0] != "application" or parts[2] != "device" or parts[4:] != ["event", "up"]:
        raise UplinkError("bad_topic", f"not a ChirpStack uplink topic: {topic[:80]!r}")
    msg = _load(payload)
    info = msg.get("deviceInfo")
    dev_eui = _dev_eui(info.get("devEui") if isinstance(info, dict) else None)
    if dev_eui != parts[3].upper():
        raise UplinkError("bad_dev_eui", f"topic DevEUI {parts[3][:20]} != payload DevEUI {dev_eui}")
    tx = msg.get("txInfo")
    lora = tx.get("modulation", {}).get("lora", {}) if isinstance(tx, dict) else {}
    sf = _int(lora.get("spreadingFactor")) if isinstance(lora, dict) else 0
    rssi, snr, gateways = _best(msg.get("rxInfo", []), "rssi")
    return Uplink("chirpstack", dev_eui, _int(msg.get("fPort")), _b64(msg.get("data")), parse_time_ms(msg.get("time")),
                  _int(msg.get("fCnt")), rssi, snr, sf or None, gateways)


def parse_ttn(payload: bytes | dict, topic: str | None = None) -> Uplink:
    """A The Things Stack uplink (MQTT `v3/.../devices/<id>/up`, or one Storage Integration result)."""
    if topic is not None:
        parts = topic.split("/")
        if len(parts) != 5 or parts[0] != "v3" or parts[2] != "devices" or parts[4] != "up":
            raise UplinkError("bad_topic", f"not a The Things Stack uplink topic: {topic[:80]!r}")
    msg = payload if isinstance(payload, dict) else _load(payload)
    ids = msg.get("end_device_ids")
    up = msg.get("uplink_message")
    if not isinstance(ids, dict) or not isinstance(up, dict):
        raise UplinkError("not_uplink", "no end_device_ids/uplink_message (a join or downlink event?)")
    settings = up.get("settings")
    data_rate = settings.get("data_rate", {}) if isinstance(settings, dict) else {}
    lora = data_rate.get("lora", {}) if isinstance(data_rate, dict) else {}
    sf = _int(lora.get("spreading_factor")) if isinstance(lora, dict) else 0
    rssi, snr, gateways = _best(up.get("rx_metadata", []), "rssi")
    # The Network Server's receive time when given, else the Application Server's.
    received = up.get("received_at") or msg.get("received_at")
    return Uplink("ttn", _dev_eui(ids.get("dev_eui")), _int(up.get("f_port")), _b64(up.get("frm_payload")),
                  parse_time_ms(received), _int(up.get("f_cnt")), rssi, snr, sf or None, gateways)
