"""config.json validation: every problem reported at once, clear messages, example file valid."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from edge_node.config import ConfigError, degrees_to_e6, load_config, parse_config

EXAMPLE = Path(__file__).resolve().parents[2] / "edge_node" / "config.example.json"


def test_committed_example_is_valid_and_complete() -> None:
    cfg = load_config(str(EXAMPLE))
    assert cfg.broker_port == 1883 and cfg.sample_interval_s > 0
    assert cfg.lat_e6 is not None and cfg.lon_e6 is not None


def test_defaults_fill_optional_settings() -> None:
    cfg = parse_config({"wifi_ssid": "ap", "broker_host": "h", "site": "s1", "node": "n1"})
    assert (cfg.broker_port, cfg.sample_interval_s, cfg.heartbeat_interval_s) == (1883, 30, 3600)
    assert cfg.lat_e6 is None and cfg.broker_user == ""


def test_every_problem_is_reported_together() -> None:
    with pytest.raises(ConfigError) as info:
        parse_config({"wifi_ssid": "", "broker_host": 5, "site": "bad site", "node": "n/1",
                      "broker_port": 70000, "sample_interval_s": True, "lat": "north",
                      "heartbeat_intervall_s": 60})
    text = " | ".join(info.value.problems)
    for expected in ("wifi_ssid is required", "broker_host is required", "site must be 1-32",
                     "node must be 1-32", "broker_port=70000 outside", "sample_interval_s must be an integer",
                     "lat must be a number", "unknown setting 'heartbeat_intervall_s'"):
        assert expected in text
    assert len(info.value.problems) >= 8


def test_heartbeat_shorter_than_sampling_is_rejected() -> None:
    with pytest.raises(ConfigError, match="heartbeat_interval_s must be >= sample_interval_s"):
        parse_config({"wifi_ssid": "ap", "broker_host": "h", "site": "s", "node": "n",
                      "sample_interval_s": 600, "heartbeat_interval_s": 300})


def test_lat_without_lon_is_rejected() -> None:
    with pytest.raises(ConfigError, match="together"):
        parse_config({"wifi_ssid": "ap", "broker_host": "h", "site": "s", "node": "n", "lat": 41.5})


@pytest.mark.parametrize("text,e6", [("41.901234", 41901234), ("-6.8", -6800000), ("+0.000001", 1),
                                     (".5", 500000), (12, 12000000), (41.901234, 41901234)])
def test_degrees_convert_exactly(text, e6) -> None:
    assert degrees_to_e6(text) == e6


@pytest.mark.parametrize("bad", ["1.2345678", "", "-", "1e5", "4 1", True, None])
def test_degrees_reject_garbage(bad) -> None:
    with pytest.raises(ValueError):
        degrees_to_e6(bad)


def test_missing_and_malformed_files_explain_themselves(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="not found: copy config.example.json"):
        load_config(str(tmp_path / "config.json"))
    broken = tmp_path / "broken.json"
    broken.write_text('{"wifi_ssid": "ap",')
    with pytest.raises(ConfigError, match="not valid JSON"):
        load_config(str(broken))
    listed = tmp_path / "list.json"
    listed.write_text(json.dumps([1, 2]))
    with pytest.raises(ConfigError, match="JSON object"):
        load_config(str(listed))


def test_default_sampling_matches_what_the_default_model_was_calibrated_for() -> None:
    weights = pytest.importorskip("edge_node.core.model_weights", reason="no trained model committed yet")
    default = parse_config({"wifi_ssid": "ap", "broker_host": "h", "site": "s", "node": "n"})
    assert default.sample_interval_s == weights.SAMPLE_INTERVAL_S
    assert load_config(str(EXAMPLE)).sample_interval_s == weights.SAMPLE_INTERVAL_S


def test_lorawan_example_config_parses_without_wifi_or_broker() -> None:
    raw = json.loads((Path(__file__).resolve().parents[2] / "edge_node" / "config.lorawan.example.json").read_text())
    cfg = parse_config(raw)
    assert (cfg.radio, cfg.uart_tx_pin, cfg.lorawan_send_budget_s) == ("lorawan", 17, 30)
    raw["radio"] = "carrier-pigeon"
    with pytest.raises(ConfigError) as err:
        parse_config(raw)
    assert "radio must be wifi or lorawan" in str(err.value) and "wifi_ssid is required" in str(err.value)
