"""The compose demo: `emberwatch simulate` + deploy/demo/live_replay.py, unit and end to end."""

from __future__ import annotations

import importlib.util
import json
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest
import yaml

from edge_node.core import schema
from tests.deploy.conftest import GATEWAY_PASSWORD, ROOT
from tests.deploy.grafana_influxql import interpolate, panel_queries
from tests.harness import servers
from tests.harness.gateway_runner import env_for_gateway, running_gateway
from tests.harness.influx_query import influxql

_spec = importlib.util.spec_from_file_location("live_replay", ROOT / "deploy" / "demo" / "live_replay.py")
live_replay = importlib.util.module_from_spec(_spec)  # type: ignore[arg-type]
_spec.loader.exec_module(live_replay)  # type: ignore[union-attr]

SIM_T0_MS = 1_782_864_000_000


class FakeClock:
    def __init__(self, start_ms: int) -> None:
        self.ms = start_ms
        self.slept: list[float] = []

    def now(self) -> int:
        return self.ms

    def sleep(self, s: float) -> None:
        self.slept.append(s)
        self.ms += round(s * 1000)


def test_replay_maps_simulated_time_onto_the_wall_clock() -> None:
    log = [
        (schema.topic("demo", "n1", "status"), schema.encode_status("n1", "online"), True),
        (schema.topic("demo", "n1", "heartbeat"), schema.encode_heartbeat("n1", 1, SIM_T0_MS, 3700, 1800, 5000, -900,
                                                                          0, 45_000_000, 7_000_000), False),
        (schema.topic("demo", "n1", "alert"), schema.encode_alert("n1", 2, SIM_T0_MS + 3_600_000, 900, 500, 6000,
                                                                  1500, 9000, -3000, 3699), False),
        # delivered late by the radio: made before the alert, sent after it
        (schema.topic("demo", "n1", "heartbeat"), schema.encode_heartbeat("n1", 3, SIM_T0_MS + 1_800_000, 3699, 1800,
                                                                          5000, -900), False),
    ]
    clock = FakeClock(1_800_000_000_000)
    sent: list[tuple[str, dict, bool]] = []
    count = live_replay.replay(iter(log), lambda t, p, r: sent.append((t, schema.decode(t, p), r)),
                               60.0, clock.now, clock.sleep)
    assert count == 4
    assert clock.slept == [60.0]  # one simulated hour at 60x; the late heartbeat waits for nothing
    start = 1_800_000_000_000
    assert [m.get("t_ms") for _, m, _ in sent] == [None, start, start + 60_000, start + 30_000]
    assert sent[0][2] is True and sent[0][1]["state"] == "online"
    hb, alert = sent[1][1], sent[2][1]
    assert (hb["lat_e6"], hb["lon_e6"], hb["bat_mv"], hb["seq"]) == (45_000_000, 7_000_000, 3700, 1)
    assert (alert["score"], alert["thr"], alert["gas"], alert["bat_mv"]) == (900, 500, 9000, 3699)
    assert "lat_e6" not in sent[3][1]


def test_replay_rejects_a_corrupt_log_line(tmp_path: Path) -> None:
    bad = tmp_path / "bad.jsonl"
    bad.write_text('{"topic": "emberwatch/v1/demo/n1/status"}\n')
    with pytest.raises(live_replay.ReplayError, match="bad.jsonl:1"):
        list(live_replay.read_log(str(bad)))


def demo_shell_command(event_log: Path, broker_port: int) -> str:
    """The simulator service's command, pointed at this checkout instead of the image's paths."""
    service = yaml.safe_load((ROOT / "docker-compose.yml").read_text())["services"]["simulator"]
    assert service["entrypoint"] == ["sh", "-c"]
    (command,) = service["command"]
    bindir = Path(sys.executable).parent
    return (command.replace("$$", "$")  # compose's escape for a literal $
            .replace("emberwatch simulate", f"{bindir / 'emberwatch'} simulate")
            .replace("python /opt/emberwatch-demo/", f"{sys.executable} {ROOT / 'deploy' / 'demo'}/")
            .replace("/tmp/demo.jsonl", str(event_log))
            .replace("@mosquitto:1883", f"@127.0.0.1:{broker_port}"))


@pytest.mark.integration
@pytest.mark.slow
def test_demo_service_command_fills_the_alert_dashboard(deploy_broker, influx_server, tmp_path: Path) -> None:
    """simulate -> replay (simulator login) -> broker with deployment auth -> gateway -> InfluxDB -> dashboard."""
    broker, _ = deploy_broker
    db = "deploy_demo"
    gateway_env = env_for_gateway(broker.port, influx_server.port, db, EMBERWATCH_MQTT_USERNAME="gateway",
                                  EMBERWATCH_MQTT_PASSWORD=GATEWAY_PASSWORD, EMBERWATCH_SITE="demo")
    env = {**os.environ, "DEMO_NODES": "30", "DEMO_DAYS": "1", "DEMO_IGNITIONS": "1", "DEMO_SEED": "3",
           "DEMO_SPEED": "1e9",  # no waiting in a test
           "DEMO_MQTT_PASSWORD": "sim-test-password"}
    event_log = tmp_path / "demo.jsonl"
    started_ms = int(time.time() * 1000)
    with running_gateway(gateway_env) as gateway:
        result = subprocess.run(["sh", "-c", demo_shell_command(event_log, broker.port)], env=env, capture_output=True,
                                text=True, timeout=300, check=False)
        assert result.returncode == 0, result.stderr[-3000:]
        lines = [json.loads(line) for line in event_log.read_text().splitlines()]
        servers.wait_until(lambda: gateway.stats.stored >= len(lines), 60, f"{len(lines)} demo messages stored")
        assert dict(gateway.ingest.rejected) == {}

    alerts = [json.loads(r["payload"]) for r in lines if r["topic"].endswith("/alert")]
    assert alerts, "the demo scenario should start a fire that nodes detect"
    (history,) = [q for q in panel_queries() if q.panel == "Alert history"]
    query = interpolate(history.query, from_ms=started_ms - 1000, to_ms=int(time.time() * 1000) + 1000,
                        multi={"site": ["demo"], "node": sorted({a["node"] for a in alerts})})
    rows = influxql(influx_server.port, query, db)
    assert sorted((r["node"], r["seq"], r["score"], r["threshold"], r["battery_mv"]) for r in rows) == sorted(
        (a["node"], a["seq"], a["score"], a["thr"], a["bat_mv"]) for a in alerts)


def test_demo_command_refuses_a_missing_or_placeholder_password(tmp_path: Path) -> None:
    for password in ("", "change-me"):
        result = subprocess.run(["sh", "-c", demo_shell_command(tmp_path / "x.jsonl", 1)], capture_output=True, text=True,
                                env={**os.environ, "DEMO_MQTT_PASSWORD": password}, timeout=30, check=False)
        assert result.returncode == 2 and "MQTT_SIMULATOR_PASSWORD" in result.stderr
        assert not (tmp_path / "x.jsonl").exists()  # refused before simulating anything


def test_restamp_changes_only_the_time_of_any_kind() -> None:
    """Schema v2 kinds and optional fields survive the replay (the simulator sends weather and levels)."""
    for topic, payload in (
            (schema.topic("demo", "ws1", "weather"), schema.encode_weather("ws1", 3, 1000, 420, 270, 1500, 1700, 4200)),
            (schema.topic("demo", "n1", "alert"), schema.encode_alert("n1", 4, 1000, 900, 500, 6000, 1500, 9000, -800,
                                                                       2900, lvl=schema.LEVEL_SUSPECT, boot=3, flt=4)),
            (schema.topic("demo", "n1", "heartbeat"), schema.encode_heartbeat("n1", 5, 1000, 2900, None, 4000, -800,
                                                                               boot=3, flt=1, bat_pct=61))):
        before, after = schema.decode(topic, payload), schema.decode(topic, live_replay.restamp(topic, payload, 2000))
        assert after == {**before, "t_ms": 2000}
