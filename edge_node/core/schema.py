"""Emberwatch wire schema, version 1: topics and compact JSON payloads.

One source of truth for nodes (MicroPython), the simulator and the gateway.
Every number on the wire is an integer in a named fixed-point unit so that
MicroPython (single-precision floats on ESP32) and CPython encode the same
bytes. Encoding is written by hand because MicroPython dicts do not keep
insertion order, so json.dumps would not give byte-identical payloads.
"""

try:
    import json
except ImportError:  # very old MicroPython ports
    import ujson as json  # type: ignore

SCHEMA_VERSION = 1
TOPIC_ROOT = "emberwatch"
TOPIC_PREFIX = "emberwatch/v1"
MAX_PAYLOAD_BYTES = 512
MAX_ID_LEN = 32

KIND_ALERT = "alert"
KIND_HEARTBEAT = "heartbeat"
KIND_STATUS = "status"
KINDS = (KIND_ALERT, KIND_HEARTBEAT, KIND_STATUS)

STATE_ONLINE = "online"
STATE_OFFLINE = "offline"

# Largest integer a node may send; keeps values inside int64 for InfluxDB.
_INT_LIMIT = 1 << 53

# field name -> (lowest, highest) accepted value, per message kind.
_ALERT_FIELDS = (
    ("seq", 0, _INT_LIMIT),
    ("t_ms", 0, _INT_LIMIT),
    ("score", 0, _INT_LIMIT),
    ("thr", 0, _INT_LIMIT),
    ("temp_cc", -10000, 30000),   # centi-degC: -100 .. 300 degC
    ("rh_cp", 0, 10000),          # centi-%RH
    ("gas", 0, _INT_LIMIT),       # raw sensor value (ohm, ppb or ppm)
    ("gas_q8", -32768, 32767),    # sensor-agnostic gas index, log2 x 256
    ("bat_mv", 0, 10000),
)
_HEARTBEAT_FIELDS = (
    ("seq", 0, _INT_LIMIT),
    ("t_ms", 0, _INT_LIMIT),
    ("bat_mv", 0, 10000),
    ("temp_cc", -10000, 30000),
    ("rh_cp", 0, 10000),
    ("gas_q8", -32768, 32767),
    ("queued", 0, 100000),
)
# Optional on heartbeats: where the node stands, micro-degrees.
_HEARTBEAT_OPTIONAL = (
    ("lat_e6", -90000000, 90000000),
    ("lon_e6", -180000000, 180000000),
)


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
    """Split `emberwatch/v1/<site>/<node>/<kind>` into (site, node, kind)."""
    known = _TOPIC_CACHE.get(name)
    if known is not None:
        return known
    parts = name.split("/")
    if len(parts) != 5 or parts[0] != TOPIC_ROOT:
        raise SchemaError("bad_topic", "expected emberwatch/v1/<site>/<node>/<kind>, got " + repr(name)[:80])
    if parts[1] != "v" + str(SCHEMA_VERSION):
        raise SchemaError("bad_version", "unsupported topic version " + repr(parts[1])[:20])
    _check_id("site", parts[2])
    _check_id("node", parts[3])
    if parts[4] not in KINDS:
        raise SchemaError("bad_kind", "unknown message kind " + repr(parts[4])[:40])
    if len(_TOPIC_CACHE) >= _TOPIC_CACHE_MAX:
        _TOPIC_CACHE.clear()
    known = _TOPIC_CACHE[name] = (parts[2], parts[3], parts[4])
    return known


def _encode(kind: str, node: str, fields, values: dict) -> bytes:
    _check_id("node", node)
    out = '{"v":' + str(SCHEMA_VERSION) + ',"k":"' + kind + '","node":"' + node + '"'
    for name, low, high in fields:
        value = values[name]
        _check_int(name, value, low, high)
        out += ',"' + name + '":' + str(value)
    return out.encode() + b"}"


def encode_alert(node: str, seq: int, t_ms: int, score: int, thr: int, temp_cc: int,
                 rh_cp: int, gas: int, gas_q8: int, bat_mv: int) -> bytes:
    return _encode(KIND_ALERT, node, _ALERT_FIELDS, {
        "seq": seq, "t_ms": t_ms, "score": score, "thr": thr, "temp_cc": temp_cc,
        "rh_cp": rh_cp, "gas": gas, "gas_q8": gas_q8, "bat_mv": bat_mv})


def encode_heartbeat(node: str, seq: int, t_ms: int, bat_mv: int, temp_cc: int, rh_cp: int,
                     gas_q8: int, queued: int = 0, lat_e6=None, lon_e6=None) -> bytes:
    values = {"seq": seq, "t_ms": t_ms, "bat_mv": bat_mv, "temp_cc": temp_cc,
              "rh_cp": rh_cp, "gas_q8": gas_q8, "queued": queued}
    fields = _HEARTBEAT_FIELDS  # type: tuple
    if lat_e6 is not None and lon_e6 is not None:
        values["lat_e6"] = lat_e6
        values["lon_e6"] = lon_e6
        fields = _HEARTBEAT_FIELDS + _HEARTBEAT_OPTIONAL
    return _encode(KIND_HEARTBEAT, node, fields, values)


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
    if version != SCHEMA_VERSION:
        raise SchemaError("bad_version", "schema version " + str(version) + " not supported")
    if msg.get("node") != node:
        raise SchemaError("node_mismatch", "payload node " + repr(msg.get("node"))[:40] + " != topic node " + node)
    if msg.get("k") != kind:
        raise SchemaError("kind_mismatch", "payload kind " + repr(msg.get("k"))[:20] + " != topic kind " + kind)
    if kind == KIND_ALERT:
        _check_fields(msg, _ALERT_FIELDS, ())
    elif kind == KIND_HEARTBEAT:
        _check_fields(msg, _HEARTBEAT_FIELDS, _HEARTBEAT_OPTIONAL)
    else:
        if msg.get("state") not in (STATE_ONLINE, STATE_OFFLINE):
            raise SchemaError("bad_field", "status state must be online or offline")
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
