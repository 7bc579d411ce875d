"""The scenario API: decodable, time-ordered messages; determinism; detection end to end."""

import itertools

import pytest

from edge_node.core import schema
from simulator.clock import EPOCH_MS
from simulator.scenario import ScenarioConfig, ScenarioConfigError, run_scenario


def _run(**overrides):
    settings = {"n_nodes": 25, "days": 1.0, "ignitions": 1, "seed": 1, "site": "demo"}
    settings.update(overrides)
    messages = []
    result = run_scenario(ScenarioConfig(**settings), publish=lambda t, p, r: messages.append((t, p, r)))
    return result, messages


def test_messages_decode_in_time_order_with_one_seq_per_node():
    result, messages = _run()
    decoded = [(schema.decode(t, p), r) for t, p, r in messages]
    statuses = [m for m, _ in decoded[:25]]
    assert all(m["k"] == "status" and m["state"] == "online" for m in statuses)
    assert all(r for _, r in decoded[:25])  # online status is retained
    timed = [m for m, _ in decoded if "t_ms" in m]
    assert len(timed) == result.heartbeats + result.weather_messages + len(result.alerts) - result.radio["lost"]
    seqs: dict[str, list[int]] = {}
    for m in timed:
        assert m["t_ms"] >= EPOCH_MS
        seqs.setdefault(m["node"], []).append(m["seq"])
    for node, values in seqs.items():
        assert values == sorted(values) and len(set(values)) == len(values), node
    # delivery order is simulated time order: never more than one frame's airtime + jitter out of order
    times = [m["t_ms"] for m in timed]
    assert all(b >= a - 5000 for a, b in itertools.pairwise(times))
    kinds = {m["k"] for m in timed}
    assert "heartbeat" in kinds


def test_same_seed_same_messages_other_seed_different():
    _, first = _run(n_nodes=9, days=0.25)
    _, again = _run(n_nodes=9, days=0.25)
    _, other = _run(n_nodes=9, days=0.25, seed=2)
    assert first == again
    assert first != other


def test_scripted_ignition_inside_the_network_is_detected():
    # a fire in the middle of a 5 x 5 grid at 13:00, the hot dry afternoon
    result, messages = _run(ignition_plan=[(13 * 3600, 400.0, 400.0)], days=0.75)
    latency = result.detection_latency_s()[0]
    assert latency is not None and 0 < latency < 3 * 3600
    assert result.detection_latency_s(at_gateway=True)[0] >= latency
    alerts = [schema.decode(t, p) for t, p, _ in messages if t.endswith("/alert")]
    assert alerts and min(a["t_ms"] for a in alerts) >= result.ignitions[0].time_ms
    assert result.first_alert_ms
    assert result.summary()["detected"] == 1
    # each node's smoke onset (what `emberwatch compare` measures the simulator's delays from):
    # after the ignition, and before any alert the fire caused at that node
    ignition_ms = result.ignitions[0].time_ms
    assert result.first_smoke_ms and min(result.first_smoke_ms.values()) >= ignition_ms
    for a in result.alert_records:
        if a.ignition == 0:
            assert a.node in result.first_smoke_ms and a.t_ms >= result.first_smoke_ms[a.node]


def test_bad_config_lists_every_problem():
    with pytest.raises(ScenarioConfigError) as err:
        run_scenario(ScenarioConfig(n_nodes=0, days=-1, site="bad site", engine="gpu"))
    text = str(err.value)
    for word in ("n_nodes", "days", "site", "engine"):
        assert word in text


@pytest.mark.parametrize("rule_on", [True, False])
def test_rain_showers_raise_no_alerts_while_the_no_evidence_rule_is_on(rule_on, monkeypatch):
    """Rain makes every node's air unusual at once; the rule (wet air, or air neither smoky nor
    warming, is no evidence of fire), not luck, keeps the network quiet."""
    from edge_node.core import pipeline
    from simulator import engines
    from simulator.weather import WeatherConfig

    if not rule_on:
        def never(features, smoky=None):
            return features[1] != features[1]  # False for a node's list, all-False for a fleet array
        monkeypatch.setattr(pipeline, "no_fire_evidence", never)
        monkeypatch.setattr(engines, "no_fire_evidence", never)
    result, _ = _run(n_nodes=25, days=2.0, ignitions=0, seed=3, weather=WeatherConfig(rain_events_per_day=2.0),
                     stuck_per_node_month=0.0, dead_sensor_per_node_month=0.0)
    rain_alerts = [a for a in result.alert_records if a.cause == "rain"]
    if rule_on:
        assert rain_alerts == []
    else:
        assert len(rain_alerts) >= 10  # the same showers, the rule off: most nodes alert


def test_heartbeats_follow_the_node_policy_and_carry_what_a_node_sends():
    """The simulator's heartbeat timing is edge_node.core.policy's: one per heartbeat interval per node,
    each with boot, fault bits and bat_pct from the battery's chemistry, as the firmware sends."""
    from edge_node.core import policy

    result, messages = _run(ignitions=0, days=0.5)
    beats: dict[str, list[dict]] = {}
    for t, p, _ in messages:
        m = schema.decode(t, p)
        if m["k"] == "heartbeat":
            beats.setdefault(m["node"], []).append(m)
    hb_ms = result.config.heartbeat_s * 1000
    for node, got in beats.items():
        times = [m["t_ms"] for m in got]
        assert all(b - a == hb_ms for a, b in itertools.pairwise(times)), node
        assert not policy.heartbeat_due(times[-1], times[-1] + hb_ms - 60_000, result.config.heartbeat_s, 30)
        assert all(m["boot"] == 1 and m["flt"] == 0 and 0 <= m["bat_pct"] <= 100 for m in got), node
    assert len(beats) == 25
