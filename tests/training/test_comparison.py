"""The comparison's baselines score what the libraries would, inside the node pipeline."""

import numpy as np

from training.compare_command import END, START, render
from training.comparison import Case, K, N, Series, calibrated_threshold, evaluate_case, fit_baselines
from training.node_replay import Event


def test_tree_walk_isolation_forest_matches_sklearn():
    from sklearn.ensemble import IsolationForest

    from training.comparison import _iforest_fn

    rng = np.random.default_rng(1)
    x = rng.normal(size=(400, 6))
    iso = IsolationForest(n_estimators=20, random_state=3).fit(x)
    probe = np.vstack([x[:5], rng.normal(0, 4, (5, 6))])
    ours = np.array([_iforest_fn(iso)(p) for p in probe])
    assert np.allclose(ours + 0.5, -iso.score_samples(probe))


def _series(fire_at: int | None) -> Series:
    n = 600
    t = np.arange(n) * 30.0
    temp = 1800 + (np.arange(n) % 5)
    rh = 6000 - (np.arange(n) % 3)
    gas = -4200 + (np.arange(n) % 7)
    events = []
    if fire_at is not None:
        ramp = np.clip(np.arange(n) - fire_at, 0, None)
        temp, rh, gas = temp + 60 * ramp, rh - 40 * ramp, gas + 30 * ramp
        events = [Event("fire", t[fire_at], t[-1], "ramp")]
    return Series("s", t, temp.astype(np.int64), rh.astype(np.int64), gas.astype(np.int64), events)


def test_every_baseline_detects_an_obvious_fire_and_stays_quiet_without_one():
    quiet, fire = Case("quiet", [_series(None)]), Case("fire", [_series(400)])
    clean = np.random.default_rng(2).normal(0, [30, 10, 60, 20, 20, 8], (500, 6))
    for name, scorer in fit_baselines(clean).items():
        thr = calibrated_threshold(scorer, [quiet])  # as the comparison does, on the design case
        q = evaluate_case(quiet, scorer, thr)
        f = evaluate_case(fire, scorer, thr)
        assert q["false_fire"] == 0 and q["false_suspect"] == 0, name
        assert f["detected"] == 1 and f["delays"][0] >= (K - 1) * 30, name
    text = render([("fire", "PCA", evaluate_case(fire, scorer, thr) | {"threshold": 1})], [], [fire], "x")
    assert text.startswith(START) and text.rstrip().endswith(END) and "| PCA | 1 | 1/1 (" in text
    assert N >= K


def test_sooner_than_compares_fire_events_one_by_one():
    from training.comparison import sooner_than
    deployed = {"per_fire": [("n1", "e", 60, 240), ("n2", "e", 90, None), ("n3", "e", None, None)]}
    slower = {"per_fire": [("n1", "e", 90, 300), ("n2", "e", None, None), ("n3", "e", None, None)]}
    at_fire_level = {"per_fire": [("n1", "e", 60, 210), ("n2", "e", 90, None), ("n3", "e", None, None)]}
    saw_more = {"per_fire": [("n1", "e", 60, 240), ("n2", "e", 120, 600), ("n3", "e", 900, None)]}
    assert sooner_than(deployed, slower) == 0
    assert sooner_than(deployed, at_fire_level) == 1  # its median could hide it; event by event it shows
    assert sooner_than(deployed, saw_more) == 2       # fire level where the deployed had none; a miss
    text = render([("fire", "deployed int8 autoencoder", deployed | _empty_totals()),
                   ("fire", "PCA", at_fire_level | _empty_totals())], [], [Case("fire", [])], "x")
    assert "alerted sooner than the deployed detector" in text and "PCA 1." in text


def _empty_totals() -> dict:
    return {"fires": 1, "detected": 1, "detected_fire_level": 1, "delays": [60], "fire_delays": [240],
            "near_delays": [], "far_delays": [], "nuisances": 0, "nuisance_fire_level": 0, "false_suspect": 0,
            "false_fire": 0, "node_days": 1.0, "threshold": 1}
