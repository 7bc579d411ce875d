"""Emberwatch wire schema: topics and compact JSON payloads (payload version 2; v1 still decoded).

One source of truth for nodes (MicroPython), the simulator and the gateway.
The topic layout `emberwatch/v1/<site>/<node>/<kind>` is unchanged by payload v2, so broker
ACLs and subscriptions keep working while a fleet is upgraded node by node.

Payload v2 adds to v1:
- alerts: `lvl` (1 suspect, 2 fire: see LEVEL_*), `boot` (the node's boot counter, so a
  gateway can tell a restarted node from a replay), optional `flt` (FAULT_* bits);
- heartbeats: `boot`, `flt` (sensor and storage faults, 0 when healthy), optional `bat_pct`;
- in both, a reading whose channel is faulty is left out rather than sent as a made-up number
  (`temp_cc`, `rh_cp`, `gas`, `gas_q8` are optional in v2; `flt` says which channel failed);
- a `weather` kind from a site's weather station (wind, rain) on the same topic layout.
A v1 alert decodes with `lvl` = LEVEL_FIRE (every v1 alert meant "fire") and no `boot`.
Every number on the wire is an integer in a named fixed-point unit so that
MicroPython (single-precision floats on ESP32) and CPython encode the same
bytes. Encoding is written by hand because MicroPython dicts do not keep
insertion order, so json.dumps would not give byte-identical payloads.
"""

try:
    import json
except ImportError:  # very old MicroPython ports
    import ujson as json  # type: ignore

SCHEMA_VERSION = 2
SUPPORTED_VERSIONS = (1, 2)
TOPIC_ROOT = "emberwatch"
TOPIC_PREFIX = "emberwatch/v1"
MAX_PAYLOAD_BYTES = 512
MAX_ID_LEN = 32

KIND_ALERT = "alert"
KIND_HEARTBEAT = "heartbeat"
KIND_STATUS = "status"
KIND_WEATHER = "weather"  # from a weather station: the <node> part of its topic is the station id
KINDS = (KIND_ALERT, KIND_HEARTBEAT, KIND_STATUS, KIND_WEATHER)

# Alert levels: a suspect is worth a look; fire means the anomaly persisted and grew.
LEVEL_SUSPECT = 1
LEVEL_FIRE = 2
LEVELS = (LEVEL_SUSPECT, LEVEL_FIRE)

# Fault bits (`flt`): which part of the node cannot be trusted. A faulty channel never counts as
# evidence of fire and its reading is left out of the payload.
FAULT_TEMP = 1        # temperature dead, stuck or railing
FAULT_RH = 2          # humidity dead, stuck or railing
FAULT_GAS = 4         # gas channel dead, stuck, railing or heater not reaching its target
FAULT_SENSOR_BUS = 8  # the sensor does not answer at all
FAULT_STORAGE = 16    # flash writes fail (seq floor, error log)
FAULT_CLOCK = 32      # the clock could not be synchronised recently
FAULT_MASK = 63

STATE_ONLINE = "online"
STATE_OFFLINE = "offline"

# Largest integer a node may send; keeps values inside int64 for InfluxDB.
_INT_LIMIT = 1 << 53

# field name -> (lowest, highest) accepted value, per message kind.
_TEMP = ("temp_cc", -10000, 30000)   # centi-degC: -100 .. 300 degC
_RH = ("rh_cp", 0, 10000)             # centi-%RH
_GAS = ("gas", 0, _INT_LIMIT)         # raw sensor value (ohm, ppb or ppm)
_GAS_Q8 = ("gas_q8", -32768, 32767)   # sensor-agnostic gas index, log2 x 256
_SEQ = ("seq", 0, _INT_LIMIT)
_T_MS = ("t_ms", 0, _INT_LIMIT)
_BAT = ("bat_mv", 0, 10000)
_BOOT = ("boot", 0, 0x7FFFFFFF)       # boot counter kept in flash, +1 per power-on
_FLT = ("flt", 0, FAULT_MASK)
_POSITION = (                          # where the node stands, micro-degrees
    ("lat_e6", -90000000, 90000000),
    ("lon_e6", -180000000, 180000000),
)

# Radio metadata a LoRaWAN network server adds (gateway/lorawan), for fleet health: best RSSI in
# dBm, its SNR in tenths of dB, spreading factor, gateways that heard the frame, LoRaWAN frame counter.
_RADIO = (("rssi_dbm", -200, 50), ("snr_db10", -400, 400), ("sf", 5, 12), ("gws", 1, 1000),
          ("fcnt", 0, 0xFFFFFFFF))

# (required, optional) fields per payload version and kind.
_ALERT_V1 = ((_SEQ, _T_MS, ("score", 0, _INT_LIMIT), ("thr", 0, _INT_LIMIT), _TEMP, _RH, _GAS, _GAS_Q8, _BAT), ())
_HEARTBEAT_V1 = ((_SEQ, _T_MS, _BAT, _TEMP, _RH, _GAS_Q8, ("queued", 0, 100000)), _POSITION)
_ALERT_V2 = ((_SEQ, _T_MS, ("score", 0, _INT_LIMIT), ("thr", 0, _INT_LIMIT), ("lvl", 1, 2), _BOOT, _BAT),
             (_TEMP, _RH, _GAS, _GAS_Q8, _FLT) + _RADIO)
_HEARTBEAT_V2 = ((_SEQ, _T_MS, _BOOT, _BAT, ("queued", 0, 100000), _FLT),
                 (_TEMP, _RH, _GAS_Q8, ("bat_pct", 0, 100)) + _POSITION + _RADIO)
# Weather station: wind speed cm/s, direction the wind blows FROM in degrees, rain since the
# station's previous message in micrometres (so a missed message loses no rain total).
_WEATHER_V2 = ((_SEQ, _T_MS, ("wind_cms", 0, 10000), ("wdir_deg", 0, 359), ("rain_um", 0, 1000000)),
               (_TEMP, _RH, _BAT))
_FIELDS = {
    (1, KIND_ALERT): _ALERT_V1, (1, KIND_HEARTBEAT): _HEARTBEAT_V1,
    (2, KIND_ALERT): _ALERT_V2, (2, KIND_HEARTBEAT): _HEARTBEAT_V2, (2, KIND_WEATHER): _WEATHER_V2,
}


class SchemaError(ValueError):
    """A topic or payload that does not follow the schema.

    `reason` is a short stable token for counting rejections by cause;
    `detail` is a human-readable explanation.
    """

    def __init__(self, reason: str, detail: str) -> None:
        super().__init__(reason + ": " + detail)
        self.reason = reason
        self.detail = detail


def is_valid_id(name) -> bool:
    """Site and node ids: 1-32 characters of [A-Za-z0-9_-] (safe in topics and JSON)."""
    if not isinstance(name, str) or not 0 < len(name) <= MAX_ID_LEN:
        return False
    for ch in name:
        if not (("a" <= ch <= "z") or ("A" <= ch <= "Z") or ("0" <= ch <= "9") or ch in "_-"):
            return False
    return True


def _check_id(what: str, name) -> None:
    if not is_valid_id(name):
        raise SchemaError("bad_id", what + " id must be 1-32 chars of [A-Za-z0-9_-], got " + repr(name)[:40])


def topic(site: str, node: str, kind: str) -> str:
    _check_id("site", site)
    _check_id("node", node)
    if kind not in KINDS:
        raise SchemaError("bad_kind", "unknown message kind " + repr(kind)[:40])
    return TOPIC_PREFIX + "/" + site + "/" + node + "/" + kind


# Topics already validated, so a gateway that hears the same few thousand node topics all day
# checks each one once. Bounded: cleared when full, so junk topics cannot grow it.
_TOPIC_CACHE = {}  # type: dict
_TOPIC_CACHE_MAX = 4096


def parse_topic(name: str):
    """Split `emberwatch/v1/<site>/<node>/<kind>` into (site, node, kind); v1 is the topic layout."""
    known = _TOPIC_CACHE.get(name)
    if known is not None:
        return known
    parts = name.split("/")
    if len(parts) != 5 or parts[0] != TOPIC_ROOT:
        raise SchemaError("bad_topic", "expected emberwatch/v1/<site>/<node>/<kind>, got " + repr(name)[:80])
    if parts[1] != "v1":
        raise SchemaError("bad_version", "unsupported topic version " + repr(parts[1])[:20])
    _check_id("site", parts[2])
    _check_id("node", parts[3])
    if parts[4] not in KINDS:
        raise SchemaError("bad_kind", "unknown message kind " + repr(parts[4])[:40])
    if len(_TOPIC_CACHE) >= _TOPIC_CACHE_MAX:
        _TOPIC_CACHE.clear()
    known = _TOPIC_CACHE[name] = (parts[2], parts[3], parts[4])
    return known


def _encode(kind: str, node: str, values: dict) -> bytes:
    """Required fields in schema order, then the optional ones that are not None."""
    _check_id("node", node)
    required, optional = _FIELDS[(SCHEMA_VERSION, kind)]
    out = '{"v":' + str(SCHEMA_VERSION) + ',"k":"' + kind + '","node":"' + node + '"'
    for name, low, high in required:
        value = values[name]
        _check_int(name, value, low, high)
        out += ',"' + name + '":' + str(value)
    for name, low, high in optional:
        value = values.get(name)
        if value is not None:
            _check_int(name, value, low, high)
            out += ',"' + name + '":' + str(value)
    return out.encode() + b"}"


def encode_alert(node: str, seq: int, t_ms: int, score: int, thr: int, temp_cc, rh_cp, gas, gas_q8,
                 bat_mv: int, lvl: int = LEVEL_FIRE, boot: int = 0, flt: int = 0) -> bytes:
    """A v2 alert. Readings of a faulty channel are None and left out (say which in `flt`)."""
    return _encode(KIND_ALERT, node, {
        "seq": seq, "t_ms": t_ms, "score": score, "thr": thr, "lvl": lvl, "boot": boot,
        "bat_mv": bat_mv, "temp_cc": temp_cc, "rh_cp": rh_cp, "gas": gas, "gas_q8": gas_q8,
        "flt": flt or None})


def encode_heartbeat(node: str, seq: int, t_ms: int, bat_mv: int, temp_cc, rh_cp, gas_q8,
                     queued: int = 0, lat_e6=None, lon_e6=None, boot: int = 0, flt: int = 0,
                     bat_pct=None) -> bytes:
    """A v2 heartbeat; `flt` is always sent so a healthy node says so (0)."""
    if (lat_e6 is None) != (lon_e6 is None):
        lat_e6 = lon_e6 = None
    return _encode(KIND_HEARTBEAT, node, {
        "seq": seq, "t_ms": t_ms, "boot": boot, "bat_mv": bat_mv, "queued": queued, "flt": flt,
        "temp_cc": temp_cc, "rh_cp": rh_cp, "gas_q8": gas_q8, "bat_pct": bat_pct,
        "lat_e6": lat_e6, "lon_e6": lon_e6})


def encode_weather(station: str, seq: int, t_ms: int, wind_cms: int, wdir_deg: int, rain_um: int,
                   temp_cc=None, rh_cp=None, bat_mv=None) -> bytes:
    return _encode(KIND_WEATHER, station, {
        "seq": seq, "t_ms": t_ms, "wind_cms": wind_cms, "wdir_deg": wdir_deg, "rain_um": rain_um,
        "temp_cc": temp_cc, "rh_cp": rh_cp, "bat_mv": bat_mv})


def encode_status(node: str, state: str) -> bytes:
    """Retained status; the `offline` payload doubles as the MQTT last will."""
    _check_id("node", node)
    if state not in (STATE_ONLINE, STATE_OFFLINE):
        raise SchemaError("bad_field", "status state must be online or offline")
    return ('{"v":' + str(SCHEMA_VERSION) + ',"k":"status","node":"' + node
            + '","state":"' + state + '"}').encode()


def _check_int(name: str, value, low: int, high: int) -> None:
    # bool is an int subclass on CPython; a JSON true is never a valid number here.
    if isinstance(value, bool) or not isinstance(value, int):
        raise SchemaError("bad_field", name + " must be an integer")
    if not low <= value <= high:
        raise SchemaError("out_of_range", name + "=" + str(value) + " outside " + str(low) + ".." + str(high))


def decode(topic_name: str, payload: bytes) -> dict:
    """Validate topic and payload; return the message as a dict with `site` added.

    Payload versions 1 and 2 are accepted (`v` is kept in the result).
    Raises SchemaError with a reason token for anything that does not fit:
    oversized, malformed, bad_version, node_mismatch, kind_mismatch, missing_field,
    bad_field, out_of_range, bad_topic, bad_id, bad_kind.
    """
    site, node, kind = parse_topic(topic_name)
    if len(payload) > MAX_PAYLOAD_BYTES:
        raise SchemaError("oversized", str(len(payload)) + " bytes > " + str(MAX_PAYLOAD_BYTES))
    try:
        msg = json.loads(payload)
    except (ValueError, UnicodeError) as exc:
        raise SchemaError("malformed", "not JSON: " + str(exc)[:80])
    if not isinstance(msg, dict):
        raise SchemaError("malformed", "payload must be a JSON object")
    version = msg.get("v")
    if isinstance(version, bool) or not isinstance(version, int):
        raise SchemaError("malformed", "missing integer schema version v")
    if version not in SUPPORTED_VERSIONS:
        raise SchemaError("bad_version", "schema version " + str(version) + " not supported")
    if msg.get("node") != node:
        raise SchemaError("node_mismatch", "payload node " + repr(msg.get("node"))[:40] + " != topic node " + node)
    if msg.get("k") != kind:
        raise SchemaError("kind_mismatch", "payload kind " + repr(msg.get("k"))[:20] + " != topic kind " + kind)
    if kind == KIND_STATUS:
        if msg.get("state") not in (STATE_ONLINE, STATE_OFFLINE):
            raise SchemaError("bad_field", "status state must be online or offline")
    else:
        fields = _FIELDS.get((version, kind))
        if fields is None:
            raise SchemaError("bad_version", kind + " messages need schema version 2")
        _check_fields(msg, fields[0], fields[1])
        if version == 1 and kind == KIND_ALERT:
            msg["lvl"] = LEVEL_FIRE
    msg["site"] = site
    return msg


def _check_fields(msg: dict, required, optional) -> None:
    # The common case inline (this runs for every message a gateway takes in); _check_int
    # only to raise the precise error. type() is int also refuses bool (true/false).
    for name, low, high in required:
        value = msg.get(name)
        if type(value) is not int or not low <= value <= high:
            if name not in msg:
                raise SchemaError("missing_field", name)
            _check_int(name, value, low, high)
    for name, low, high in optional:
        if name in msg:
            _check_int(name, msg[name], low, high)
