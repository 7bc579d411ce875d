"""The fleet engine (numpy int64) must think exactly like the per-node reference (edge_node.core)."""

import numpy as np
import pytest

from edge_node.core.detector import Detector
from edge_node.core.features import log2_q8
from edge_node.core.pipeline import NodePipeline, default_pipeline
from edge_node.core.scoring import Int8Autoencoder, RiseRule
from simulator import fixed_point
from simulator.engines import FleetEngine, ReferenceEngine
from simulator.scenario import ScenarioConfig, run_scenario
from tests.edge_node.mp import module_from_source
from tests.edge_node.random_model import random_weights_source


def _random_autoencoder_pipeline(seed: int = 7, threshold: int | None = None):
    module = module_from_source("random_weights", random_weights_source(seed))
    if threshold is not None:
        module.THRESHOLD = threshold

    def make() -> NodePipeline:
        return NodePipeline(Int8Autoencoder.from_module(module),
                            Detector(module.THRESHOLD, module.DEBOUNCE_K, module.DEBOUNCE_N, module.COOLDOWN_S))
    return make


def _rise_rule_pipeline() -> NodePipeline:
    rule = RiseRule()
    return NodePipeline(rule, Detector(rule.threshold, 2, 3, 600))


def test_log2_q8_matches_core():
    rng = np.random.default_rng(3)
    values = np.concatenate([np.arange(0, 70000), rng.integers(1, 1 << 40, 20000),
                             [(1 << k) + d for k in range(1, 50) for d in (-1, 0, 1)]])
    expected = np.array([log2_q8(int(v)) for v in values])
    assert np.array_equal(fixed_point.log2_q8(values), expected)


def _readings(rng, n_nodes, n_steps):
    """Random walks with smoke bursts, rails and negative temperatures: every sign and branch."""
    temp = np.cumsum(rng.normal(0, 40, (n_steps, n_nodes)), axis=0).astype(np.int64) + 1500
    rh = np.clip(np.cumsum(rng.normal(0, 60, (n_steps, n_nodes)), axis=0) + 5000, 0, 10000).astype(np.int64)
    gas = np.cumsum(rng.normal(0, 30, (n_steps, n_nodes)), axis=0).astype(np.int64) - 4200
    burst = rng.random((n_steps, n_nodes)) < 0.01
    temp += np.where(burst, rng.integers(-3000, 6000, (n_steps, n_nodes)), 0)
    gas += np.where(burst, rng.integers(-1000, 3000, (n_steps, n_nodes)), 0)
    active = rng.random((n_steps, n_nodes)) > 0.05
    return temp, rh, gas, active


@pytest.mark.parametrize("make", [_rise_rule_pipeline, _random_autoencoder_pipeline(7),
                                  _random_autoencoder_pipeline(11, threshold=1500), default_pipeline],
                         ids=["rise-rule", "random-ae-7", "random-ae-11", "default"])
def test_engines_give_identical_scores_and_alerts(make):
    rng = np.random.default_rng(5)
    n_nodes, n_steps, dt_s = 40, 300, 60
    temp, rh, gas, active = _readings(rng, n_nodes, n_steps)
    ref, fleet = ReferenceEngine(n_nodes, make), FleetEngine(n_nodes, make)
    phase = rng.integers(0, 60000, n_nodes)
    n_alerts = 0
    for step in range(n_steps):
        t_ms = step * dt_s * 1000 + phase
        a_ref, s_ref = ref.step(t_ms, dt_s, temp[step], rh[step], gas[step], active[step])
        a_fleet, s_fleet = fleet.step(t_ms, dt_s, temp[step], rh[step], gas[step], active[step])
        assert np.array_equal(s_ref, s_fleet), f"scores differ at step {step}"
        assert np.array_equal(a_ref, a_fleet), f"alerts differ at step {step}"
        n_alerts += int(a_ref.sum())
    assert n_alerts > 0  # the comparison covered alerts, not just silence


@pytest.mark.parametrize("make", [None, _random_autoencoder_pipeline(7, threshold=2500)],
                         ids=["default", "random-ae"])
def test_scenario_engines_identical_on_same_seed(make):
    extra = {} if make is None else {"make_pipeline": make}
    runs = {}
    for engine in ("reference", "fleet"):
        messages: list = []
        config = ScenarioConfig(n_nodes=16, days=0.5, seed=4, site="parity", engine=engine,
                                ignition_plan=[(4 * 3600, 300.0, 300.0)], dead_sensor_per_node_month=2.0)
        result = run_scenario(config, publish=lambda t, p, r, out=messages: out.append((t, p, r)), **extra)
        runs[engine] = ([(a.node, a.seq, a.t_ms, a.score) for a in result.alert_records], messages)
    assert runs["reference"][0], "no alerts: the parity run proves nothing"
    assert runs["reference"] == runs["fleet"]


def test_fleet_autoencoder_matches_core_on_extreme_features():
    """Huge features take the int64 fallback, ordinary ones the exact float64 path: both must match."""
    model = _random_autoencoder_pipeline(3)().scorer
    fleet = fixed_point.FleetAutoencoder(model)
    rng = np.random.default_rng(9)
    for magnitude in (300, 40_000, 1 << 30):
        feats = rng.integers(-magnitude, magnitude, (6, 500))
        expected = [model.score([int(v) for v in feats[:, j]]) for j in range(feats.shape[1])]
        assert fleet.score(feats).tolist() == expected, magnitude


def test_engines_agree_on_levels_faults_gaps_and_self_calibration():
    """Varying intervals (gaps that hold the gas heater), dead and stuck channels, and long enough
    (7 h at 60 s) that every node finishes self-calibration: levels, faults and thresholds match."""
    rng = np.random.default_rng(12)
    n_nodes, n_steps = 30, 420
    temp, rh, gas, active = _readings(rng, n_nodes, n_steps)
    temp[200:, :4] = -4000                     # dead temperature rail on four nodes
    gas[100:, 4:8] = 0                         # dead gas heater on four more
    temp[150:, 8:10], rh[150:, 8:10], gas[150:, 8:10] = temp[150, 8:10], rh[150, 8:10], gas[150, 8:10]  # frozen chip
    ramp = np.clip(np.arange(n_steps) - 300, 0, None)[:, None]
    temp[:, 10:16] += 40 * ramp                # slow fires on six nodes: gas with heat
    gas[:, 10:16] += 25 * ramp
    gas[:, 16:19] += 25 * ramp                 # far fires on three: smoke without heat, growing
    puff = np.clip(np.arange(n_steps) - 320, 0, 1)[:, None] * np.clip(3000 - 60 * ramp, 0, None)
    gas[:, 19:21] += puff                      # a puff that decays: gas alone, falling
    make = _random_autoencoder_pipeline(7, threshold=2500)
    ref, fleet = ReferenceEngine(n_nodes, make), FleetEngine(n_nodes, make)
    t_s, seen = 0, set()
    for step in range(n_steps):
        dt_s = 300 if step % 97 == 50 else 60
        t_s += dt_s
        t_ms = np.full(n_nodes, t_s * 1000, dtype=np.int64)
        l_ref, s_ref = ref.step(t_ms, dt_s, temp[step], rh[step], gas[step], active[step])
        l_fleet, s_fleet = fleet.step(t_ms, dt_s, temp[step], rh[step], gas[step], active[step])
        assert np.array_equal(s_ref, s_fleet), f"scores differ at step {step}"
        assert np.array_equal(l_ref, l_fleet), f"levels differ at step {step}"
        act = active[step]
        assert np.array_equal(ref.faults[act], fleet.faults[act]), f"faults differ at step {step}"
        assert np.array_equal(ref.thresholds, fleet.thresholds), f"thresholds differ at step {step}"
        seen |= set(l_ref.tolist()) | {("fault", f) for f in ref.faults.tolist()}
        peaks = [p.detector.peak_gas_q8 for p in ref.pipelines]
        assert np.array_equal(peaks, fleet.detector.peak_gas_q8), f"gas peaks differ at step {step}"
    assert {1, 2, ("fault", 1), ("fault", 4), ("fault", 7)} <= seen, seen
    assert len(set(ref.thresholds.tolist())) > 1  # nodes calibrated themselves differently
