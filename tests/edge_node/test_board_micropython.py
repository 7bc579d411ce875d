"""edge_node.board, the ESP32 wiring, booted repeatedly on real MicroPython with fake
`machine`, `network` and `umqtt.simple` modules (tests/edge_node/board_fakes)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from edge_node.core import schema
from tests.edge_node.mp import helper_files, require_micropython, run_on_micropython

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[1]


def _board_files(config: dict | str) -> dict[str, str]:
    files = helper_files("fake_bme68x")
    for path in (HERE / "board_fakes").rglob("*.py"):
        files["/lib/" + path.relative_to(HERE / "board_fakes").as_posix()] = path.read_text()
    files["/config.json"] = config if isinstance(config, str) else json.dumps(config)
    return files


BOOTS = """
import machine, network
from umqtt import simple
from edge_node import board
# The RTC keeps counting through deep sleep; here sleep is instant, so add what was slept.
_now_ms = board.UnixClock.now_ms
board.UnixClock.now_ms = lambda self: _now_ms(self) + machine.slept_ms
for i in range(%(boots)d):
    network.reachable = i not in %(offline)r
    try:
        board.run()
    except machine.DeepSleep as sleep:
        pass
print(repr(machine.sleeps))
print(repr(simple.published))
print(repr(simple.wills))
try:
    print(open('error.log').read().strip().split(chr(10))[-1])
except OSError:
    print('no error log')
"""


def _boot(config: dict | str, boots: int, offline: tuple[int, ...] = ()) -> tuple[list, list, list, str]:
    require_micropython()
    script = BOOTS % {"boots": boots, "offline": list(offline)}
    lines = run_on_micropython(script, _board_files(config))
    sleeps, published, wills = (eval(line) for line in lines[-4:-1])  # reprs of ints, strs and bytes only
    return sleeps, published, wills, lines[-1]


def _config() -> dict:
    cfg = json.loads((ROOT / "edge_node" / "config.example.json").read_text())
    cfg.update({"site": "testsite", "node": "board1"})
    return cfg


@pytest.mark.slow
def test_boots_read_the_sensor_publish_and_sleep_until_the_next_sample() -> None:
    sleeps, published, wills, _ = _boot(_config(), boots=3)
    interval_ms = _config()["sample_interval_s"] * 1000
    assert len(sleeps) == 3 and all(interval_ms - 2000 <= ms <= interval_ms for ms in sleeps)
    status = "emberwatch/v1/testsite/board1/status"
    assert wills[0] == (status, schema.encode_status("board1", "offline"), True, 1)
    topics = [p[0] for p in published]
    assert topics == [status, "emberwatch/v1/testsite/board1/heartbeat"], "first boot: hello, then quiet"
    beat = schema.decode(published[1][0], published[1][1])
    assert beat["seq"] == 1 and beat["bat_mv"] == 3800  # 1.9 V on the pin through a 100k/100k divider
    assert beat["lat_e6"] == 41901234 and 1000 < beat["temp_cc"] < 4000


@pytest.mark.slow
def test_state_survives_deep_sleep_in_rtc_memory_and_outage_is_retried() -> None:
    cfg = _config()
    cfg["heartbeat_interval_s"] = cfg["sample_interval_s"] * 2  # a heartbeat every other wake
    sleeps, published, _, last_error = _boot(cfg, boots=7, offline=(2, 3))
    beats = [schema.decode(t, p) for t, p, _, _ in published if t.endswith("heartbeat")]
    assert [b["seq"] for b in beats] == [1, 2, 3, 4], "seq continues across boots via RTC memory"
    assert max(b["queued"] for b in beats) >= 1, "a heartbeat made during the outage reports the queue"
    assert "wifi: no connection" in last_error


@pytest.mark.slow
def test_bad_config_sleeps_an_hour_and_logs_every_problem() -> None:
    sleeps, published, _, last_error = _boot({"wifi_ssid": "ap", "node": "bad node"}, boots=1)
    assert sleeps == [3600 * 1000] and published == []
    assert "broker_host is required" in last_error and "node must be 1-32" in last_error


LORAWAN_BOOTS = """
import machine
from edge_node import board
_now_ms = board.UnixClock.now_ms
board.UnixClock.now_ms = lambda self: _now_ms(self) + machine.slept_ms
for i in range(%(boots)d):
    try:
        board.run()
    except machine.DeepSleep:
        pass
print(repr([c for c in machine.modem.commands if not c.startswith('AT+SEND')]))
print(repr([(p, d, c) for p, d, c, f in machine.modem.uplinks]))
"""


@pytest.mark.slow
def test_lorawan_node_joins_once_and_sends_codec_frames_through_the_modem() -> None:
    require_micropython()
    from edge_node.core import uplink_codec

    cfg = json.loads((ROOT / "edge_node" / "config.lorawan.example.json").read_text())
    cfg.update({"site": "testsite", "node": "lora1", "heartbeat_interval_s": cfg["sample_interval_s"] * 2})
    files = _board_files(cfg)
    files.update(helper_files("rak3172_standin"))
    lines = run_on_micropython(LORAWAN_BOOTS % {"boots": 3}, files)
    commands, uplinks = (eval(line) for line in lines[-2:])  # reprs of strs and ints only
    assert commands.count("AT+JOIN=1:0:10:8") == 1 and "AT+LPM=1" in commands
    frames = [uplink_codec.decode_uplink(bytes.fromhex(data)) for port, data, confirmed in uplinks]
    assert [f["k"] for f in frames] == ["heartbeat", "status", "heartbeat"]  # the status follows the news
    assert all(port == 10 and confirmed == 0 for port, data, confirmed in uplinks)
    assert frames[0]["seq16"] == 1 and frames[0]["bat_mv"] == 3800
