"""Events -> InfluxDB line protocol, shared by every Influx write path.

A point is identified by measurement + tags + timestamp, so the node's event
time and stable tags make a replay after an outage overwrite, not duplicate.
Times are written in microseconds: the node's millisecond, plus `t_sub_us`
when ingest saw the node's previous message in that same millisecond (derived
from the seq, so a redelivery is still the same point), so two messages of one
node in one millisecond are two points. Fixed-point wire units become human
units here (centi-degC -> degC).
"""

from __future__ import annotations

from gateway.incidents import records as incident_records
from gateway.ingest import Event

# Only the core schema's id alphabet reaches here, so tags need no escaping.


def _int(e: Event, key: str) -> int:
    value = e.fields[key]
    if not isinstance(value, int):  # the schema guarantees ints; a str here is a bug upstream
        raise TypeError(f"{key} is not an integer")
    return value


# wire field -> (stored field, divisor to human units; None keeps the integer).
# Fields a message does not carry (a faulty channel, a v1 node) are simply not written.
_STORED = {
    "score": ("score", None), "thr": ("threshold", None), "lvl": ("level", None),
    "boot": ("boot", None), "flt": ("faults", None),
    "temp_cc": ("temp_c", 100.0), "rh_cp": ("rh_pct", 100.0), "gas": ("gas", None),
    "gas_q8": ("gas_index", 256.0), "bat_mv": ("battery_mv", None), "bat_pct": ("battery_pct", None),
    "queued": ("queued", None), "lat_e6": ("lat", 1e6), "lon_e6": ("lon", 1e6),
    "wind_cms": ("wind_ms", 100.0), "wdir_deg": ("wind_dir_deg", None), "rain_um": ("rain_mm", 1000.0),
    # LoRaWAN radio metadata (gateway/lorawan), for fleet health
    "rssi_dbm": ("rssi_dbm", None), "snr_db10": ("snr_db", 10.0), "sf": ("sf", None), "gws": ("gateways", None),
    "fcnt": ("fcnt", None),
    # Set by ingest when the node's clock was unusable: the point then has the receive time.
    "t_node_ms": ("node_time_ms", None), "clock_bad": ("clock_suspect", None),
}


def time_us(event: Event, t_ms: int) -> int:
    """The point's time in microseconds (see the module docstring)."""
    sub_us = event.fields.get("t_sub_us", 0)
    return t_ms * 1000 + (sub_us if isinstance(sub_us, int) else 0)


def _stored_fields(e: Event) -> dict[str, int | float | str]:
    out: dict[str, int | float | str] = {"seq": e.seq or 0}
    for key, (name, divisor) in _STORED.items():
        if key in e.fields:
            value = _int(e, key)
            out[name] = value if divisor is None else value / divisor
    return out


def node_state_fields(state: str, reason: str) -> dict[str, int | float | str]:
    return {"state": state, "online": 1 if state == "online" else 0, "reason": reason}


def format_field(value: float | str) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return f"{value}i"
    if isinstance(value, float):
        return repr(value)
    return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'


def line(measurement: str, site: str, node: str, fields: dict[str, int | float | str], t_us: int) -> str:
    body = ",".join(f"{k}={format_field(v)}" for k, v in fields.items())
    return f"{measurement},site={site},node={node} {body} {t_us}"


def to_point(event: Event, received_ms: int) -> tuple[str, dict[str, int | float | str], int]:
    """(measurement, fields in human units, time ms).

    Status messages carry no time, so they use the gateway's receive time; the
    gateway's own liveness verdicts carry their time and a reason.
    """
    if event.kind in ("alert", "heartbeat", "weather"):
        return event.kind, _stored_fields(event), event.t_ms or received_ms
    if event.kind == incident_records.KIND:
        return incident_records.KIND, incident_records.sqlite_row(event), event.t_ms or received_ms
    if event.kind == "fire_weather":  # derived by gateway/fire_weather.py, already in human units
        return "fire_weather", dict(event.fields), event.t_ms or received_ms
    reason = str(event.fields.get("reason", "status"))
    return "node_state", node_state_fields(str(event.fields["state"]), reason), event.t_ms or received_ms


def event_to_line(event: Event, received_ms: int) -> str:
    """One line-protocol line, microsecond precision (see time_us)."""
    if event.kind == "alert" and event.t_ms and event.fields.keys() == _V2_ALERT_KEYS:
        return _alert_line(event)
    if event.kind == incident_records.KIND:  # tagged with its incident id too; its time is in ms
        head, t_ms_text = incident_records.incident_line(event).rsplit(" ", 1)
        return f"{head} {int(t_ms_text) * 1000}"
    measurement, fields, t_ms = to_point(event, received_ms)
    return line(measurement, event.site, event.node, fields, time_us(event, t_ms))


# A healthy v2 alert carries exactly these after ingest took seq and t_ms out.
_V2_ALERT_KEYS = {"score", "thr", "lvl", "boot", "bat_mv", "temp_cc", "rh_cp", "gas", "gas_q8"}


def _alert_line(e: Event) -> str:
    """The same line as the generic path, written out: alerts are the hot path (about 2x faster)."""
    return (f"alert,site={e.site},node={e.node} seq={e.seq or 0}i,score={_int(e, 'score')}i,"
            f"threshold={_int(e, 'thr')}i,level={_int(e, 'lvl')}i,boot={_int(e, 'boot')}i,"
            f"temp_c={_int(e, 'temp_cc') / 100.0!r},"
            f"rh_pct={_int(e, 'rh_cp') / 100.0!r},gas={_int(e, 'gas')}i,"
            f"gas_index={_int(e, 'gas_q8') / 256.0!r},battery_mv={_int(e, 'bat_mv')}i {e.t_ms}000")
