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
import machine, network, ntptime, usocket
from umqtt import simple
from edge_node import board
# The fake RTC (machine.clock_ms) starts at 2000-01-01, runs through deep sleep, and NTP sets it.
board.UnixClock.now_ms = lambda self: machine.now_ms()
machine.reset_causes = [machine.PWRON_RESET]
usocket.broker = %(broker)r
ntptime.reachable = %(ntp)r
hangs = 0
for i in range(%(boots)d):
    network.reachable = i not in %(offline)r
    try:
        board.run()
    except machine.DeepSleep as sleep:
        pass
    except usocket.Hang as exc:
        hangs += 1
print(repr(machine.sleeps))
print(repr(simple.published))
print(repr(simple.wills))
print(repr([machine.watchdogs, hangs, sorted(set(t for t in usocket.timeouts_seen if t is not None)),
            simple.logins, network.ifconfigs, ntptime.calls]))
try:
    log = open('error.log').read().strip().split(chr(10))
    print(repr([len(log), log[-1]]))
except OSError:
    print(repr([0, 'no error log']))
"""


class Boots:
    def __init__(self, lines: list[str]) -> None:
        self.sleeps, self.published, self.wills, extra, log = (eval(line) for line in lines[-5:])
        self.watchdogs, self.hangs, self.socket_timeouts, self.logins, self.ifconfigs, self.ntp_calls = extra
        self.log_lines, self.last_error = log

    def messages(self) -> list[dict]:
        return [schema.decode(t, p) for t, p, _, _ in self.published if not t.endswith("status")]


def _run_boots(config: dict | str, boots: int, offline: tuple[int, ...] = (), broker: str = "ok",
               ntp: bool = True) -> Boots:
    require_micropython()
    script = BOOTS % {"boots": boots, "offline": list(offline), "broker": broker, "ntp": ntp}
    return Boots(run_on_micropython(script, _board_files(config)))


def _boot(config: dict | str, boots: int, offline: tuple[int, ...] = ()) -> tuple[list, list, list, str]:
    b = _run_boots(config, boots, offline)
    return b.sleeps, b.published, b.wills, b.last_error


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


@pytest.mark.slow
def test_silent_broker_times_out_instead_of_hanging_and_the_watchdog_covers_the_longest_wake() -> None:
    """A broker that accepts TCP and never answers, then one that never sends a PUBACK: every boot ends in
    deep sleep (no read without a timeout), the message stays queued for later."""
    from edge_node.config import parse_config
    from edge_node.core.policy import longest_wake_ms

    def watchdog_ms(c) -> int:  # board.watchdog_ms, which imports `machine`
        return 3000 + longest_wake_ms(2000, c.wifi_timeout_s, c.socket_timeout_s, c.queue_capacity, c.socket_timeout_s)

    cfg = _config()
    for broker in ("silent", "no_puback"):
        b = _run_boots(cfg, boots=2, broker=broker)
        assert b.hangs == 0 and len(b.sleeps) == 2, broker
        assert b.socket_timeouts == [cfg.get("socket_timeout_s", 5)]
        assert "mqtt" in b.last_error and "110" in b.last_error
        assert [m for m in b.messages()] == []
    assert b.watchdogs == [watchdog_ms(parse_config(cfg))] * 2
    assert watchdog_ms(parse_config(cfg)) >= 3000 + 1000 * (cfg["wifi_timeout_s"] + 5 * (cfg["queue_capacity"] + 4))


@pytest.mark.slow
def test_empty_broker_password_static_ip_and_ntp_settings_reach_the_network() -> None:
    cfg = _config()
    cfg.update({"broker_user": "n1", "broker_password": "", "static_ip": "10.0.0.9", "gateway_ip": "10.0.0.1",
                "ntp_host": "ntp.example.org"})
    b = _run_boots(cfg, boots=1)
    assert b.logins == [("n1", "")], "an empty password is sent as an empty string, not None"
    assert b.ifconfigs == [("10.0.0.9", "255.255.255.0", "10.0.0.1", "10.0.0.1")]
    assert b.ntp_calls and b.ntp_calls[0] == ("ntp.example.org", 5)
    assert [m["k"] for m in b.messages()] == ["heartbeat"]


@pytest.mark.slow
def test_first_heartbeat_waits_for_ntp_and_dead_sensor_still_beats() -> None:
    """NTP down for the first boots: nothing is sent stamped 2000-01-01; then the heartbeat goes out."""
    cfg = _config()
    cfg["sample_interval_s"] = cfg["heartbeat_interval_s"] = 60
    b = _run_boots(cfg, boots=3, ntp=False)
    assert b.messages() == [] and "ntp" in b.last_error
    b = _run_boots(cfg, boots=3)
    assert b.messages() and all(m["t_ms"] >= 1780000000000 for m in b.messages())
    cfg["bme_addr"] = 0x76  # nothing answers there: a dead sensor
    b = _run_boots(cfg, boots=4)
    beats = b.messages()
    assert len(beats) == 4 and all(m["flt"] == schema.FAULT_SENSOR_BUS and "temp_cc" not in m for m in beats)
    assert b.log_lines == 1, "a dead sensor is logged once, not rewritten on flash every wake"
