"""The wake cycle with fake hardware: queueing, retries, seq, persistence, heartbeats."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from edge_node.core import schema
from edge_node.core.pipeline import default_pipeline
from edge_node.persist import SEQ_BLOCK, unpack_state
from edge_node.wake import WakeCycle

sys.path.insert(0, str(Path(__file__).resolve().parent))  # wake_scenario imports `fakes` as on the board
import fakes
import wake_scenario

from tests.edge_node.mp import helper_files, require_micropython, run_on_micropython


@pytest.fixture(scope="module")
def scenario():
    lines: list[str] = []
    reports, radio, store, seq_store = wake_scenario.run(lines.append)
    return lines, reports, radio, store, seq_store


def _recovery(reports: list) -> object:
    """The first wake after the outage that reached the broker: within one heartbeat interval."""
    after = reports[wake_scenario.OUTAGE[1]:]
    first = next(i for i, r in enumerate(after) if r.radio_used)
    assert first <= 15, "backoff is capped at one heartbeat interval"
    assert after[first].sent and after[first].queued == 0
    return after[first]


def _decoded(radio: fakes.FakeRadio) -> list[dict]:
    return [schema.decode(topic, payload) for topic, payload, _, _ in radio.published]


def test_every_published_message_is_valid_and_acknowledged_with_qos1(scenario) -> None:
    _, _, radio, _, _ = scenario
    assert radio.published
    assert all(qos == 1 and retain is False for _, _, retain, qos in radio.published)
    assert all(msg["site"] == "montesinho" and msg["node"] == "n042" for msg in _decoded(radio))


def test_seq_is_unique_and_increasing_in_creation_order_across_alerts_and_heartbeats(scenario) -> None:
    _, _, radio, _, _ = scenario
    msgs = _decoded(radio)
    seqs = [m["seq"] for m in msgs]
    assert len(seqs) == len(set(seqs))
    by_time = sorted(msgs, key=lambda m: (m["t_ms"], m["k"] != "alert"))
    assert [m["seq"] for m in by_time] == sorted(seqs)


def test_fire_during_outage_is_delivered_after_it_alerts_first(scenario) -> None:
    _, reports, radio, _, _ = scenario
    fire_alerts = [r for r in reports[80:100] if r.alert]
    assert fire_alerts, "the fire should raise alerts"
    recovery = _recovery(reports)
    kinds = [schema.parse_topic(topic)[2] for topic, _ in recovery.sent]
    assert kinds[0] == "alert"
    assert kinds == sorted(kinds)  # "alert" < "heartbeat": every alert before any heartbeat
    sent_alert_times = {schema.decode(t, p)["t_ms"] for t, p in recovery.sent if "alert" in t}
    assert {r.t_ms for r in fire_alerts} <= sent_alert_times, "an alert was dropped while heartbeats queued"


def test_outage_keeps_queue_bounded_and_backs_off(scenario) -> None:
    _, reports, radio, _, _ = scenario
    outage = reports[wake_scenario.OUTAGE[0]:wake_scenario.OUTAGE[1]]
    assert max(r.queued for r in outage) <= 6
    tries = [r for r in outage if r.radio_used]
    assert outage[1].radio_used, "the first retry is at the very next wake"
    assert len(tries) < len(outage) // 2, "after repeated failures the node stops trying every wake"
    assert all("no access point" in r.error for r in tries)


def test_heartbeats_arrive_on_schedule_when_the_radio_is_up(scenario) -> None:
    _, reports, _, _, _ = scenario
    beats = [i for i, r in enumerate(reports[:wake_scenario.OUTAGE[0]]) if r.heartbeat]
    assert beats[0] == 0
    gaps = {b - a for a, b in zip(beats, beats[1:])}
    assert gaps <= {15, 16}, gaps  # 900 s heartbeats at ~61.5 s wakes


def test_quiet_wakes_leave_the_radio_off(scenario) -> None:
    _, reports, _, _, _ = scenario
    quiet = [r for r in reports[1:60] if not r.heartbeat and not r.alert and not r.error]
    assert quiet and not any(r.radio_used for r in quiet)


def test_sensor_fault_costs_one_sample_and_nothing_else(scenario) -> None:
    _, reports, _, _, _ = scenario
    fault = reports[wake_scenario.SENSOR_FAULT_AT]
    assert fault.error.startswith("sensor:") and fault.score == -1
    assert reports[wake_scenario.SENSOR_FAULT_AT + 1].error == ""


def test_corrupt_rtc_memory_starts_afresh_without_reusing_a_seq(scenario) -> None:
    _, reports, radio, store, seq_store = scenario
    corrupt = reports[wake_scenario.CORRUPT_AT]
    assert "checksum" in corrupt.state_reset
    seqs = [m["seq"] for m in _decoded(radio)]
    assert len(seqs) == len(set(seqs))
    assert corrupt.heartbeat, "a node that lost its memory says hello at once"
    assert unpack_state(store.blob).seq < int(seq_store.blob) + SEQ_BLOCK


def test_small_queue_drops_heartbeats_before_alerts() -> None:
    reports, radio, _, _ = wake_scenario.run(lambda line: None, heartbeat_interval_s=120, queue_capacity=3)
    recovery = _recovery(reports)
    kinds = [schema.parse_topic(t)[2] for t, _ in recovery.sent]
    assert len(kinds) == 3 and kinds.count("alert") >= 2


def _widest_queue(capacity: int) -> tuple[bytes, object]:
    """Radio down, an alert every wake, the widest ids and readings: the biggest state a node makes."""
    from edge_node.core.detector import Detector
    from edge_node.core.pipeline import NodePipeline
    from edge_node.core.scoring import RiseRule
    from edge_node.persist import pack_state

    cfg = fakes.make_config(node="n" * 32, site="s" * 32, queue_capacity=capacity, heartbeat_interval_s=60)
    radio, store, seq_store = fakes.FakeRadio(), fakes.MemoryStore(0), fakes.MemoryStore(0)
    radio.up = False
    clock = fakes.FakeClock(1780000000000)
    sensor = fakes.TraceSensor([(-9999 + 4000 * (i % 2), 9999, 101325, 987654321 - i) for i in range(3 * capacity)])
    class AlwaysFire(NodePipeline):
        def step(self, t_ms, dt_s, temp_cc, rh_cp, gas_q8):
            self.faults = 0
            return 2, 390150, [0] * 6  # a fire-level alert with the largest score, every wake

    for _ in range(3 * capacity):
        rule = RiseRule()
        pipeline = AlwaysFire(rule, Detector(0, 1, 1, 0))
        report = WakeCycle(cfg, pipeline, sensor, fakes.FixedBattery(9999), radio, clock, store, seq_store).run()
        clock.advance_ms(60000)
    state = unpack_state(store.blob)
    kinds = [entry[0] for entry in state.outbox[2]]
    assert kinds == ["alert"] * capacity and report.queued == capacity
    # held alerts (raised before NTP set the clock) share the queue's room: one beside a full queue,
    # or all of it with the queue empty
    held = [1780000000000, 390150, 390150, -9999, 9999, 987654321, -7654, 9999, 63, 2]
    state.held = [held]
    full_queue = pack_state(state)
    state.held, state.outbox = [held] * capacity, [0, 0, []]
    return max(full_queue, pack_state(state), key=len), report


def test_queue_capacity_bound_is_what_rtc_memory_holds() -> None:
    from edge_node.config import QUEUE_CAPACITY_MAX, ConfigError

    blob, _ = _widest_queue(QUEUE_CAPACITY_MAX)
    assert len(blob) <= 2048, f"a full queue of the widest alerts needs {len(blob)} B of 2048"
    with pytest.raises(ConfigError, match="queue_capacity"):
        fakes.make_config(queue_capacity=QUEUE_CAPACITY_MAX + 1)


def test_micropython_runs_the_same_scenario_identically(scenario) -> None:
    require_micropython()
    lines, _, _, _, _ = scenario
    files = helper_files("fakes", "wake_scenario")
    got = run_on_micropython("import wake_scenario\nwake_scenario.run(print)\n", files)
    assert got == lines


def test_scenario_lines_are_parseable(scenario) -> None:
    """Every line is `index flag score queued [payloads] errors|reset|sleep`, each payload a valid message."""
    lines, reports, _, _, _ = scenario
    assert len(lines) == wake_scenario.WAKES
    for i, (line, report) in enumerate(zip(lines, reports)):
        index, flag, score, queued, rest = line.split(" ", 4)
        assert (int(index), flag, int(score), int(queued)) == (i, "A" if report.alert else "-", report.score,
                                                               report.queued)
        payloads = eval(rest[:rest.rindex("]") + 1])  # a list of bytes reprs, as printed
        assert payloads == [p for _, p in report.sent]
        for topic, payload in report.sent:
            assert schema.decode(topic, payload)["node"] == "n042"
        assert rest.rsplit("|", 1)[1] == str(report.sleep_ms)


def _one_node(rows: list, **config):
    cfg = fakes.make_config(**config)
    parts = dict(clock=fakes.FakeClock(1780000000000), radio=fakes.FakeRadio(), store=fakes.MemoryStore(2048),
                 seq_store=fakes.MemoryStore(0), sensor=fakes.TraceSensor(rows))

    def wake():
        return WakeCycle(cfg, default_pipeline(), parts["sensor"], fakes.FixedBattery(3700), parts["radio"],
                         parts["clock"], parts["store"], parts["seq_store"]).run()
    return wake, parts


def test_reading_outside_the_wire_schema_is_reported_and_the_node_carries_on() -> None:
    wake, parts = _one_node([(2000, 5000, 101325, 100000), (2000, 12000, 101325, 100000)])
    assert wake().heartbeat
    parts["clock"].advance_ms(3600 * 1000)
    glitch = wake()  # humidity 120 %: the pipeline calls the channel faulty, the heartbeat leaves it out
    beat = schema.decode(*parts["radio"].published[-1][:2])
    assert glitch.heartbeat and beat["flt"] & schema.FAULT_RH and "rh_cp" not in beat and beat["temp_cc"] == 2000
    assert unpack_state(parts["store"].blob).wakes == 2, "state still saved"


def test_clock_going_backwards_does_not_silence_heartbeats_or_retries() -> None:
    wake, parts = _one_node([(2000, 5000, 101325, 100000)])
    parts["radio"].up = False
    wake()
    parts["clock"].advance_ms(-30 * 86400 * 1000)  # RTC fell back a month
    parts["radio"].up = True
    report = wake()
    assert report.heartbeat and report.radio_used and report.queued == 0
