from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from edge_node.core import schema

ids = st.text(alphabet="abcXYZ019_-", min_size=1, max_size=32)


@given(node=ids, site=ids, seq=st.integers(0, 2**40), t_ms=st.integers(0, 2**50),
       temp_cc=st.integers(-10000, 30000), gas_q8=st.integers(-32768, 32767))
def test_alert_round_trips(node: str, site: str, seq: int, t_ms: int, temp_cc: int, gas_q8: int) -> None:
    payload = schema.encode_alert(node, seq, t_ms, 99, 50, temp_cc, 4000, 12345, gas_q8, 3600)
    msg = schema.decode(schema.topic(site, node, "alert"), payload)
    assert (msg["node"], msg["site"], msg["seq"], msg["t_ms"], msg["temp_cc"], msg["gas_q8"]) == \
        (node, site, seq, t_ms, temp_cc, gas_q8)
    assert len(payload) <= schema.MAX_PAYLOAD_BYTES


def test_heartbeat_position_is_optional_and_kept() -> None:
    with_pos = schema.encode_heartbeat("n1", 3, 1000, 3700, 2000, 5000, -3000, 2, 45_123_456, -7_654_321)
    msg = schema.decode("emberwatch/v1/s/n1/heartbeat", with_pos)
    assert (msg["lat_e6"], msg["lon_e6"], msg["queued"]) == (45_123_456, -7_654_321, 2)
    assert "lat_e6" not in schema.decode("emberwatch/v1/s/n1/heartbeat",
                                         schema.encode_heartbeat("n1", 3, 1000, 3700, 2000, 5000, -3000))


def test_status_and_last_will() -> None:
    msg = schema.decode("emberwatch/v1/s/n1/status", schema.encode_status("n1", "offline"))
    assert msg["state"] == "offline"
    with pytest.raises(schema.SchemaError):
        schema.encode_status("n1", "sleeping")


GOOD = schema.encode_alert("n1", 1, 1000, 5, 3, 2000, 5000, 50000, -3000, 3700)


@pytest.mark.parametrize(("topic", "payload", "reason"), [
    ("emberwatch/v1/s/n1/alert", b"{oops", "malformed"),
    ("emberwatch/v1/s/n1/alert", b"[1,2]", "malformed"),
    ("emberwatch/v1/s/n1/alert", b"\xff\xfe", "malformed"),
    ("emberwatch/v1/s/n1/alert", b" " * 600, "oversized"),
    ("emberwatch/v1/s/n1/alert", GOOD.replace(b'"v":2', b'"v":3'), "bad_version"),
    ("emberwatch/v1/s/n1/weather", GOOD.replace(b'"v":2', b'"v":1').replace(b'"alert"', b'"weather"'), "bad_version"),
    ("emberwatch/v1/s/n1/alert", GOOD.replace(b'"v":2', b'"v":true'), "malformed"),
    ("emberwatch/v1/s/n1/alert", GOOD.replace(b'"lvl":2', b'"lvl":3'), "out_of_range"),
    ("emberwatch/v1/s/n1/alert", GOOD.replace(b',"boot":0', b''), "missing_field"),
    ("emberwatch/v1/s/n2/alert", GOOD, "node_mismatch"),
    ("emberwatch/v1/s/n1/heartbeat", GOOD, "kind_mismatch"),
    ("emberwatch/v1/s/n1/alert", GOOD.replace(b',"score":5', b''), "missing_field"),
    ("emberwatch/v1/s/n1/alert", GOOD.replace(b'"score":5', b'"score":"5"'), "bad_field"),
    ("emberwatch/v1/s/n1/alert", GOOD.replace(b'"score":5', b'"score":5.5'), "bad_field"),
    ("emberwatch/v1/s/n1/alert", GOOD.replace(b'"rh_cp":5000', b'"rh_cp":20000'), "out_of_range"),
    ("emberwatch/v1/s/n1/alert", GOOD.replace(b'"score":5', b'"score":NaN'), "bad_field"),
    ("emberwatch/v2/s/n1/alert", GOOD, "bad_version"),
    ("emberwatch/v1/s/n1", GOOD, "bad_topic"),
    ("emberwatch/v1/s/n 1/alert", GOOD, "bad_id"),
    ("emberwatch/v1/s/n1/telemetry", GOOD, "bad_kind"),
])
def test_bad_input_is_rejected_with_a_reason(topic: str, payload: bytes, reason: str) -> None:
    with pytest.raises(schema.SchemaError) as info:
        schema.decode(topic, payload)
    assert info.value.reason == reason


@given(st.binary(max_size=700))
def test_decode_never_raises_anything_but_schema_error(payload: bytes) -> None:
    try:
        schema.decode("emberwatch/v1/s/n1/alert", payload)
    except schema.SchemaError:
        pass


def test_encoding_refuses_values_the_gateway_would_reject() -> None:
    with pytest.raises(schema.SchemaError):
        schema.encode_alert("n1", -1, 0, 0, 0, 0, 0, 0, 0, 0)
    with pytest.raises(schema.SchemaError):
        schema.encode_alert("bad/id", 1, 0, 0, 0, 0, 0, 0, 0, 0)


V1_ALERT = (b'{"v":1,"k":"alert","node":"n1","seq":1,"t_ms":1000,"score":5,"thr":3,'
            b'"temp_cc":2000,"rh_cp":5000,"gas":50000,"gas_q8":-3000,"bat_mv":3700}')


def test_v1_alerts_still_decode_as_fire_level_without_boot() -> None:
    msg = schema.decode("emberwatch/v1/s/n1/alert", V1_ALERT)
    assert (msg["v"], msg["lvl"], "boot" in msg) == (1, schema.LEVEL_FIRE, False)


def test_v2_alert_carries_level_boot_and_leaves_out_a_faulty_channel() -> None:
    payload = schema.encode_alert("n1", 7, 1000, 900, 120, 4100, 1800, None, None, 3600,
                                  lvl=schema.LEVEL_SUSPECT, boot=3, flt=schema.FAULT_GAS)
    msg = schema.decode("emberwatch/v1/s/n1/alert", payload)
    assert (msg["v"], msg["lvl"], msg["boot"], msg["flt"]) == (2, 1, 3, schema.FAULT_GAS)
    assert "gas" not in msg and "gas_q8" not in msg and msg["temp_cc"] == 4100


def test_v2_heartbeat_always_says_its_faults_and_boot() -> None:
    msg = schema.decode("emberwatch/v1/s/n1/heartbeat",
                        schema.encode_heartbeat("n1", 3, 1000, 2950, None, None, None, boot=9,
                                                flt=schema.FAULT_SENSOR_BUS, bat_pct=64))
    assert (msg["flt"], msg["boot"], msg["bat_pct"]) == (schema.FAULT_SENSOR_BUS, 9, 64)
    assert "temp_cc" not in msg
    with pytest.raises(schema.SchemaError) as info:
        schema.decode("emberwatch/v1/s/n1/heartbeat",
                      schema.encode_heartbeat("n1", 3, 1000, 2950, 2000, 5000, 0).replace(b',"flt":0', b""))
    assert info.value.reason == "missing_field"


def test_weather_station_message_round_trips() -> None:
    payload = schema.encode_weather("ws1", 4, 5000, 694, 270, 1200, temp_cc=1700, rh_cp=4200)
    msg = schema.decode("emberwatch/v1/s/ws1/weather", payload)
    assert (msg["wind_cms"], msg["wdir_deg"], msg["rain_um"], msg["temp_cc"]) == (694, 270, 1200, 1700)
