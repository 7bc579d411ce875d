"""The gateway's battery percentage for heartbeats that carry only millivolts (v1 nodes, old firmware)."""

from __future__ import annotations

import json
import time

import paho.mqtt.client as mqtt
import pytest

from edge_node import config as node_config
from edge_node.core import battery_state, schema
from gateway.battery_percent import (
    BatteryConfigError,
    BatteryPercentProcessor,
    BatterySettings,
    settings_from_env,
)
from gateway.ingest import Event
from gateway.points import event_to_line
from tests.harness.gateway_runner import running_gateway
from tests.harness.influx_query import influxql
from tests.harness.servers import wait_until


def test_settings_default_to_the_node_firmware_default_and_take_per_site_chemistries() -> None:
    assert settings_from_env({}).chemistry("any") == node_config._OPTIONAL_TEXT["battery"] == "2xAA"
    s = settings_from_env({"EMBERWATCH_BATTERY_CHEMISTRY": "li-ion-18650, north=3xAA ,south=li-socl2-aa"})
    assert (s.chemistry("north"), s.chemistry("south"), s.chemistry("ridge")) == ("3xAA", "li-socl2-aa", "li-ion-18650")
    assert settings_from_env({"EMBERWATCH_BATTERY_CHEMISTRY": "north=3xAA"}).chemistry("ridge") == "2xAA"


@pytest.mark.parametrize("text,message", [
    ("AA", "'AA' names no known chemistry; one of 2xAA, 3xAA"),
    ("north=lipo", "'north=lipo' names no known chemistry"),
    ("2xAA,3xAA", "two chemistries for every site"),
    ("=3xAA", "needs a site id"),
])
def test_settings_refuse_unknown_chemistries_naming_the_variable(text: str, message: str) -> None:
    with pytest.raises(BatteryConfigError, match="EMBERWATCH_BATTERY_CHEMISTRY") as err:
        settings_from_env({"EMBERWATCH_BATTERY_CHEMISTRY": text})
    assert message in str(err.value)


def _heartbeat(site: str, fields: dict[str, int | str]) -> Event:
    return Event("heartbeat", site, "n1", 1, 1_000, dict(fields))


def test_processor_fills_only_missing_percentages_from_the_sites_curve() -> None:
    proc = BatteryPercentProcessor(BatterySettings("2xAA", {"north": "li-ion-18650"}))
    v1 = _heartbeat("ridge", {"bat_mv": 2620, "queued": 0})
    lion = _heartbeat("north", {"bat_mv": 3700, "queued": 0})
    own = _heartbeat("ridge", {"bat_mv": 2620, "bat_pct": 77, "queued": 0})
    alert = Event("alert", "ridge", "n1", 2, 1_000, {"bat_mv": 2620, "score": 9, "thr": 5})
    assert proc.observe([(e, 1_000) for e in (v1, lion, own, alert)], 1_000) == []
    # the node's own curves (edge_node/core/battery_state.py): 2620 mV on 2xAA is 59 %, 3700 mV Li-ion 40 %
    assert v1.fields["bat_pct"] == battery_state.percent(2620, "2xAA") == 59
    assert lion.fields["bat_pct"] == battery_state.percent(3700, "li-ion-18650") == 40
    assert own.fields["bat_pct"] == 77  # the node knows its battery better than a site-wide setting
    assert "bat_pct" not in alert.fields  # dashboards read heartbeats' battery
    assert "battery_pct=59i" in event_to_line(v1, 1_000)


@pytest.mark.integration
def test_gateway_stores_a_percentage_for_every_node_in_influxdb(gateway_env, mosquitto_server, influx_server) -> None:
    site, db = gateway_env["EMBERWATCH_SITE"], gateway_env["EMBERWATCH_INFLUX_DB"]
    now_ms = int(time.time() * 1000)
    v1 = json.dumps({"v": 1, "k": "heartbeat", "node": "old", "seq": 1, "t_ms": now_ms, "bat_mv": 2620,
                     "queued": 0, "temp_cc": 1700, "rh_cp": 4200, "gas_q8": -1800}, separators=(",", ":"))
    with running_gateway(gateway_env, processors=[BatteryPercentProcessor(BatterySettings("3xAA"))]):
        client = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, client_id="battery-pct-test")
        client.connect("127.0.0.1", mosquitto_server.port)
        client.loop_start()
        infos = [client.publish(schema.topic(site, "old", "heartbeat"), v1.encode(), qos=1),
                 client.publish(schema.topic(site, "v2", "heartbeat"), schema.encode_heartbeat(
                     "v2", 1, now_ms, 3900, 1700, 4200, -1800), qos=1),
                 client.publish(schema.topic(site, "own", "heartbeat"), schema.encode_heartbeat(
                     "own", 1, now_ms, 3900, 1700, 4200, -1800, bat_pct=12), qos=1)]
        for info in infos:
            info.wait_for_publish(10)
        client.disconnect()
        client.loop_stop()

        def rows() -> dict[str, object]:
            try:
                found = influxql(influx_server.port, 'SELECT "battery_pct", "node" FROM "heartbeat"', db)
            except RuntimeError:
                return {}
            return {r["node"]: r["battery_pct"] for r in found}
        wait_until(lambda: len(rows()) == 3, 20, "three heartbeats with battery_pct")
    assert rows() == {"old": battery_state.percent(2620, "3xAA"), "v2": battery_state.percent(3900, "3xAA"),
                      "own": 12}
    assert rows()["old"] == 0 and rows()["v2"] == 56


def test_gateway_command_refuses_an_unknown_chemistry_before_any_io(tmp_path) -> None:
    import subprocess
    import sys
    from pathlib import Path

    root = Path(__file__).resolve().parents[2]
    result = subprocess.run([sys.executable, "-m", "emberwatch.cli", "gateway"], cwd=root, capture_output=True,
                            text=True, timeout=60, check=False,
                            env={"PATH": "/usr/bin:/bin", "EMBERWATCH_SITE": "ridge",
                                 "EMBERWATCH_SQLITE_PATH": str(tmp_path / "x.db"),
                                 "EMBERWATCH_BATTERY_CHEMISTRY": "lipo"})
    assert result.returncode == 2 and "EMBERWATCH_BATTERY_CHEMISTRY: 'lipo' names no known chemistry" in result.stderr
    assert not (tmp_path / "x.db").exists()
