"""`emberwatch simulate` end to end: event log, report directory, and a real Mosquitto broker."""

import json
import threading

import paho.mqtt.client as mqtt
import pytest

from edge_node.core import schema
from emberwatch.cli import main
from simulator.publishers import PublishError, parse_mqtt_url, read_event_log
from tests.harness.servers import wait_until

SMALL = ["simulate", "--nodes", "16", "--days", "0.5", "--seed", "3", "--ignite", "3,300,300", "--quiet"]


def test_event_log_and_report(tmp_path, capsys):
    log, report = tmp_path / "events.jsonl", tmp_path / "report"
    assert main(SMALL + ["--event-log", str(log), "--report", str(report)]) == 0
    out = capsys.readouterr().out
    assert "ignition 0 at (300, 300) m" in out
    events = read_event_log(log)
    decoded = [schema.decode(t, p) for t, p, _ in events]
    assert [m["k"] for m in decoded[:16]] == ["status"] * 16
    summary = json.loads((report / "summary.json").read_text())
    assert summary["nodes"] == 16 and summary["messages_published"] == len(events)
    first = summary["ignitions"][0]
    assert first["latency_s"] is not None  # the fire in the middle was seen
    assert first["fire_level_latency_s"] is not None  # and reached fire level, no sooner than the first alert
    assert first["fire_level_latency_s"] >= first["latency_s"]
    assert summary["fire_level_latency_s_median"] == first["fire_level_latency_s"]
    n_alerts = sum(1 for m in decoded if m["k"] == "alert")
    assert n_alerts == summary["alerts"] - summary["radio"]["lost"] or n_alerts <= summary["alerts"]
    for name in ("map.png", "detection.png", "battery.png"):
        assert (report / name).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert "time to first alert" in (report / "summary.md").read_text()
    assert (report / "alerts.csv").read_text().startswith("node,seq,t_ms")


def test_bad_arguments_exit_2_with_a_clear_message(capsys):
    assert main(["simulate", "--nodes", "0", "--quiet"]) == 2
    assert "--nodes must be a positive integer" in capsys.readouterr().err  # the flag, not the field
    assert main(["simulate", "--ignite", "noon,1,2", "--quiet"]) == 2
    assert "--ignite wants HOURS,X_M,Y_M" in capsys.readouterr().err


def test_mqtt_url_parsing_and_unreachable_broker(capsys):
    assert parse_mqtt_url("mqtt://sim:pw@host:1884") == ("host", 1884, "sim", "pw")
    with pytest.raises(PublishError, match="mqtt://"):
        parse_mqtt_url("http://host")
    from tests.harness.servers import free_port
    assert main(SMALL + ["--mqtt", f"mqtt://127.0.0.1:{free_port()}"]) == 1
    assert "cannot connect to MQTT broker" in capsys.readouterr().err


@pytest.mark.integration
def test_publishes_everything_to_a_real_broker_with_qos1(mosquitto_server, tmp_path):
    received: list[tuple[str, bytes, bool]] = []
    lock = threading.Lock()
    sub = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, client_id="sim-test-sub")

    def on_message(client, userdata, msg):
        with lock:
            received.append((msg.topic, msg.payload, msg.retain))

    sub.on_message = on_message
    sub.on_connect = lambda c, u, f, rc, p=None: c.subscribe("emberwatch/v1/simtest/#", qos=1)
    sub.connect("127.0.0.1", mosquitto_server.port)
    sub.loop_start()
    try:
        wait_until(sub.is_connected, 10, "subscriber connected")
        log = tmp_path / "events.jsonl"
        url = f"mqtt://127.0.0.1:{mosquitto_server.port}"
        assert main(SMALL + ["--site", "simtest", "--mqtt", url, "--event-log", str(log)]) == 0
        expected = read_event_log(log)
        wait_until(lambda: len(received) >= len(expected), 30, "all simulated messages at the subscriber")
    finally:
        sub.loop_stop()
        sub.disconnect()
    assert sorted((t, p) for t, p, _ in received) == sorted((t, p) for t, p, _ in expected)


def test_scenario_file_and_radio_options_reach_the_run(tmp_path, capsys):
    scenario = tmp_path / "scenario.json"
    scenario.write_text(json.dumps({"nodes": 9, "days": 0.1, "ignitions": 0, "radio": {"sf": 9, "channels": 8},
                                    "fuel": {"model": "GR2"}}))
    report = tmp_path / "report"
    assert main(["simulate", "--scenario", str(scenario), "--radio", "duty_cycle=0.1", "--radio", "sf=10",
                 "--quiet", "--report", str(report)]) == 0
    summary = json.loads((report / "summary.json").read_text())
    settings = summary["radio"]["settings"]
    assert summary["nodes"] == 9 and settings["channels"] == 8 and settings["duty_cycle"] == 0.1
    assert settings["sf"] == 10 and summary["radio"]["nodes_per_sf"] == {"sf10": 9}  # the command line wins
    assert len(summary["radio"]["gateway_xy_m"]) == summary["radio"]["gateways"] == 1  # the map draws them
    assert (report / "map.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    capsys.readouterr()
    scenario.write_text(json.dumps({"nodes": 9, "radio": {"sf": 13, "colour": "red"}}))
    assert main(["simulate", "--scenario", str(scenario), "--quiet"]) == 2
    assert "colour" in capsys.readouterr().err
    assert main(["simulate", "--nodes", "4", "--fuel", "XX1", "--quiet"]) == 2
    assert "fuel model 'XX1' unknown" in capsys.readouterr().err
