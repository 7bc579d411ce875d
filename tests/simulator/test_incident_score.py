"""Incident scoring: the gateway's engine over a simulated forest, matched to the true ignitions."""

from pathlib import Path

from simulator.incident_score import IncidentReplay, incident_table, score, write_incident_report
from simulator.scenario import ScenarioConfig, run_scenario
from simulator.sensors import SensorConfig


def _run(tmp_path: Path | None = None, **overrides):
    settings = {"n_nodes": 25, "days": 0.75, "ignitions": 1, "seed": 1, "site": "demo",
                "ignition_plan": [(13 * 3600, 400.0, 400.0)]}
    settings.update(overrides)
    replay = IncidentReplay()
    result = run_scenario(ScenarioConfig(**settings), publish=replay)
    replay.finish(0)
    return result, replay


def test_a_fire_in_the_grid_becomes_one_confirmed_incident_near_it(tmp_path: Path) -> None:
    result, replay = _run()
    assert replay.wind_messages > 0  # the site weather station reports wind to the engine
    s = score(result, replay.transitions)
    (fire,) = s["per_ignition"]
    assert s["confirmed"] == 1 and fire["confirmed_after_s"] is not None
    first_alert_s = result.detection_latency_s()[0]
    assert first_alert_s is not None and fire["open_after_s"] >= first_alert_s - 1
    assert fire["confirmed_after_s"] >= fire["open_after_s"]
    assert fire["error_at_confirm_m"] < 600  # a 5 x 5 grid at 200 m: within a few spacings
    summary = write_incident_report(result, replay, tmp_path)
    assert summary["confirmed"] == 1
    for name in ("incidents.json", "incidents.md", "incident_map.png"):
        assert (tmp_path / name).stat().st_size > 0
    assert "1 of 1 ignitions became confirmed incidents" in (tmp_path / "incidents.md").read_text()


def test_without_fire_every_incident_is_false_and_labelled_by_its_alerts_cause() -> None:
    # Many sun flecks and exhaust puffs: lone suspects open nothing, but some land near each other.
    result, replay = _run(ignition_plan=[], ignitions=0, days=1.0, seed=4,
                          sensors=SensorConfig(nuisances_per_node_month=90))
    table = incident_table(result, replay.transitions)
    assert len(table) >= 3
    assert all(r["ignition"] == -1 and r["cause"] != "fire" for r in table)
    s = score(result, replay.transitions)
    assert s["confirmed"] == 0 and s["false_incidents"] == len(table)
    assert sum(s["false_incidents_per_1000_node_months_by_cause"].values()) * result.node_months() / 1000 \
        == __import__("pytest").approx(len(table))


@__import__("pytest").mark.slow
def test_demo_prints_the_incidents_the_gateway_stored() -> None:
    import subprocess
    import sys

    root = Path(__file__).resolve().parents[2]
    out = subprocess.run([sys.executable, "-m", "emberwatch.cli", "demo", "--nodes", "25", "--days", "1"], cwd=root,
                         capture_output=True, text=True, timeout=300)
    assert out.returncode == 0, out.stderr
    assert "incidents: 1 (1 confirmed)" in out.stdout
    assert "CONFIRMED FIRE" in out.stdout and "truth: ignition 0" in out.stdout and "m from where it started" in out.stdout


def test_study_pools_seeds_into_medians_and_rates() -> None:
    from simulator.incident_study import parse_seeds, pool

    assert parse_seeds("1-5") == [1, 2, 3, 4, 5] and parse_seeds("2,7") == [2, 7]

    def run(conf_s, err_m, false_rows):
        return {"node_months": 500.0, "table": false_rows,
                "per_ignition": [{"open_after_s": 60.0, "confirmed_after_s": conf_s, "error_at_confirm_m": err_m}]}

    pooled = pool([run(600.0, 100.0, [{"ignition": -1, "cause": "nuisance", "confirmed": True}]),
                   run(None, None, [{"ignition": 0, "cause": "fire", "confirmed": True},
                                    {"ignition": -1, "cause": "rain", "confirmed": False}])])
    assert pooled["ignitions"] == 2 and pooled["confirmed"] == 1
    assert pooled["confirmed_after_min_median"] == 10.0 and pooled["error_at_confirm_m_median"] == 100
    assert pooled["false_incidents_per_1000_node_months"] == 2.0  # 2 false in 1,000 node-months
    assert pooled["false_confirmed_per_1000_node_months"] == 1.0
    assert pooled["false_confirmed_by_cause"] == {"nuisance": 1, "rain": 0}
