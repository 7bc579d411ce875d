"""Pure LoRaWAN pieces: the documented network-server messages parse, the translation to schema v2
(seq unwrapping across a rejoin, age, radio fields), the registry and the Storage Integration reader."""

from __future__ import annotations

import json

import pytest

from edge_node.core import schema
from edge_node.core import uplink_codec as codec
from gateway.lorawan.registry import RegistryError, parse_registry
from gateway.lorawan.storage import StorageError, fetch_stored_uplinks
from gateway.lorawan.translate import Translator, unwrap
from gateway.lorawan.uplinks import UplinkError, parse_chirpstack, parse_time_ms, parse_ttn
from tests.gateway.lorawan_messages import CHIRPSTACK_DOC, TTN_DOC, TTN_STORAGE_DOC, chirpstack_up

EUI = "0004A30B001C0530"
REGISTRY = parse_registry({"devices": [{"dev_eui": EUI, "site": "forest", "node": "n001"}]})


def test_documented_chirpstack_event_parses_field_by_field() -> None:
    up = parse_chirpstack("application/17c82e96-be03-4f38-aef3-f83d48582d97/device/0101010101010101/event/up",
                          CHIRPSTACK_DOC)
    assert (up.dev_eui, up.f_port, up.frame, up.f_cnt) == ("0101010101010101", 1, b"\xaa", 0)  # fCnt 0 is left out
    assert (up.rssi_dbm, up.snr_db10, up.sf, up.gateways) == (-36, 105, 11, 1)
    assert up.received_ms == parse_time_ms("2022-07-18T09:34:15.775Z") == 1658136855775


def test_documented_ttn_uplink_and_storage_results_parse() -> None:
    up = parse_ttn(TTN_DOC, "v3/app1@ttn/devices/dev1/up")
    assert (up.dev_eui, up.f_port, up.frame, up.f_cnt) == (EUI, 0, bytes.fromhex("8241de"), 1)
    assert (up.rssi_dbm, up.snr_db10, up.sf) == (-35, 50, 7)
    assert up.received_ms == parse_time_ms("2020-02-12T15:15:45.789Z")  # the Network Server's time
    stored = [json.loads(line)["result"] for line in TTN_STORAGE_DOC.splitlines()]
    ups = [parse_ttn(r) for r in stored]
    assert [(u.f_cnt, u.f_port, u.sf, u.rssi_dbm) for u in ups] == [(43, 10, 12, None), (44, 10, 12, None)]


def test_documented_messages_carry_foreign_payloads_and_are_refused_with_a_reason() -> None:
    translator = Translator(parse_registry({"devices": [{"dev_eui": "0101010101010101", "site": "s", "node": "n"}]}))
    up = parse_chirpstack("application/x/device/0101010101010101/event/up", CHIRPSTACK_DOC)
    with pytest.raises(UplinkError) as err:
        translator.translate(up)
    assert err.value.reason == "bad_port"
    with pytest.raises(UplinkError) as err:
        translator.translate(parse_ttn(TTN_DOC))
    assert err.value.reason == "unknown_device"


@pytest.mark.parametrize("topic,payload,reason", [
    ("application/a/device/0101010101010101/event/up", b"{", "malformed"),
    ("application/a/device/0101010101010101/event/up", b"[]", "malformed"),
    ("application/a/device/0202020202020202/event/up", CHIRPSTACK_DOC, "bad_dev_eui"),
    ("application/a/device/0101010101010101/event/join", CHIRPSTACK_DOC, "bad_topic"),
    ("application/a/device/0101010101010101/event/up", CHIRPSTACK_DOC.replace(b'"qg=="', b'"q!"'), "malformed"),
    ("application/a/device/0101010101010101/event/up", CHIRPSTACK_DOC.replace(b'"data": "qg==",', b""), "no_payload"),
    ("application/a/device/0101010101010101/event/up", CHIRPSTACK_DOC.replace(b"2022-07-18T", b"x"), "bad_time"),
    ("application/a/device/0101010101010101/event/up", b" " * 70000, "oversized"),
])
def test_bad_chirpstack_input_is_refused_with_a_reason(topic: str, payload: bytes, reason: str) -> None:
    with pytest.raises(UplinkError) as err:
        parse_chirpstack(topic, payload)
    assert err.value.reason == reason


def test_seq_unwraps_past_65535_and_survives_a_rejoin_that_restarts_the_frame_counter() -> None:
    translator = Translator(REGISTRY)
    seqs = []
    for i, (seq, f_cnt) in enumerate([(65534, 900), (65535, 901), (65536, 0), (65537, 1), (65536, 2)]):
        frame = codec.encode_heartbeat(seq, 0, 3, 3000)
        up = parse_chirpstack(*chirpstack_up(EUI, frame, f"2026-01-01T00:00:0{i}Z", f_cnt))
        topic, payload = translator.translate(up)
        msg = schema.decode(topic, payload)
        seqs.append((msg["seq"], msg["fcnt"]))
    assert seqs == [(65534, 900), (65535, 901), (65536, 0), (65537, 1), (65536, 2)]  # the last is a duplicate


def test_alert_time_is_the_receive_time_minus_its_age_and_radio_fields_are_kept() -> None:
    frame = codec.encode_alert(42, 95, 913, 120, 2, 11, 3710, 4120, 1830, -3671, 4)
    topic, payload = Translator(REGISTRY).translate(parse_chirpstack(*chirpstack_up(
        EUI, frame, "2026-01-01T00:10:00.250Z", 77, rssi=-118)))
    msg = schema.decode(topic, payload)
    assert topic == "emberwatch/v1/forest/n001/alert"
    assert msg["t_ms"] == parse_time_ms("2026-01-01T00:10:00.250Z") - 60_000  # age 95 s is sent as 60 s
    assert (msg["score"], msg["thr"], msg["lvl"], msg["boot"], msg["flt"]) == (1947, 256, 2, 3, 4)
    assert (msg["rssi_dbm"], msg["snr_db10"], msg["sf"], msg["gws"], msg["fcnt"]) == (-118, 105, 11, 1, 77)


def test_boot_counter_is_rebuilt_from_the_status_frame() -> None:
    translator = Translator(REGISTRY)
    status = codec.encode_status(codec.STATUS_BOOT, 1001, 5377, 30, 3600)
    topic, payload = translator.translate(parse_chirpstack(*chirpstack_up(EUI, status, "2026-01-01T00:00:00Z")))
    assert schema.decode(topic, payload)["state"] == "online"
    beat = codec.encode_heartbeat(5, 0, 1001, 3000)
    msg = schema.decode(*translator.translate(parse_chirpstack(*chirpstack_up(EUI, beat, "2026-01-01T00:00:01Z"))))
    assert msg["boot"] == 1001


def test_unwrap_picks_the_nearest() -> None:
    assert unwrap(5, 16, None) == 5
    assert unwrap(2, 16, 65535) == 65538
    assert unwrap(65535, 16, 65538) == 65535
    assert unwrap(65535, 16, 3) == 65535  # never below zero


def test_registry_reports_every_problem_at_once() -> None:
    with pytest.raises(RegistryError) as err:
        parse_registry({"devices": [{"dev_eui": "XYZ", "site": "s", "node": "n 1"},
                                    {"dev_eui": EUI, "site": "s", "node": "a", "colour": 1},
                                    {"dev_eui": EUI.lower(), "site": "s", "node": "b"},
                                    {"dev_eui": "0004A30B001C0531", "site": "s", "node": "b"}]})
    text = str(err.value)
    assert "dev_eui must be 16 hex" in text and "node must be 1-32" in text and "unknown keys" in text
    assert "listed twice" in text


def test_storage_reader_asks_the_documented_endpoint_and_reads_its_lines() -> None:
    asked = []

    def http_get(url: str, headers: dict[str, str]) -> tuple[int, bytes]:
        asked.append((url, headers))
        return 200, TTN_STORAGE_DOC

    results = fetch_stored_uplinks("https://eu1.example", "app1@ttn", "NNSXS.KEY", 1598263200000, http_get)
    assert len(results) == 2 and results[0]["uplink_message"]["f_cnt"] == 43
    url, headers = asked[0]
    assert url.startswith("https://eu1.example/api/v3/as/applications/app1/packages/storage/uplink_message?")
    assert "after=2020-08-24T10%3A00%3A00.000Z" in url and headers["Authorization"] == "Bearer NNSXS.KEY"
    with pytest.raises(StorageError):
        fetch_stored_uplinks("https://eu1.example", "app1@ttn", "bad", 0, lambda u, h: (401, b"unauthorized"))


def test_unwrap_state_survives_a_gateway_restart(tmp_path) -> None:
    from gateway.lorawan.translate import load_state, save_state

    before = Translator(REGISTRY)
    for i, seq in enumerate((65534, 65535, 65536)):
        before.translate(parse_chirpstack(*chirpstack_up(EUI, codec.encode_heartbeat(seq, 0, 9, 3000),
                                                         f"2026-01-01T00:00:0{i}Z")))
    path = str(tmp_path / "lorawan_state.json")
    save_state(before, path)
    after = Translator(REGISTRY)
    assert load_state(after, path) == 1
    msg = schema.decode(*after.translate(parse_chirpstack(*chirpstack_up(
        EUI, codec.encode_heartbeat(65537, 0, 9, 3000), "2026-01-01T00:00:09Z"))))
    assert (msg["seq"], msg["boot"]) == (65537, 1)  # boot 9 mod 8: no status frame gave its high bits
    (tmp_path / "bad.json").write_text("{not json")
    assert load_state(Translator(REGISTRY), str(tmp_path / "bad.json")) == 0  # a fresh start, not a crash
    assert load_state(Translator(REGISTRY), str(tmp_path / "absent.json")) == 0
