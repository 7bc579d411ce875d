"""One Monte Carlo scenario of a plan: a layout, one ignition, drawn weather; what the gateway saw.

Runs wherever the scheduler puts it (a Dask worker process or this one), so its input and output
are plain values. Detection is what an operator would see: the gateway's incident engine
(simulator.incident_score) on the messages the simulated radio delivered.
"""

import os
import tempfile
import time

import numpy as np

from simulator.clock import EPOCH_MS
from simulator.plan.area import Area
from simulator.plan.climate import weather_and_fuel
from simulator.radio_config import RadioConfig

WARMUP_H = 2.0  # the detector settles on the site's weather before anything can burn


def run_trial(spec: dict) -> dict:
    """spec: ring_m, spacing_m, seed, drawn (Climatology.draw), radio (dict), after_ignition_h, site."""
    from simulator.incident_score import IncidentReplay, score
    from simulator.scenario import ScenarioConfig, run_scenario

    cpu_started = time.process_time()
    area = Area(spec["ring_m"])
    x, y = area.grid(spec["spacing_m"])
    if len(x) == 0:
        return {"spacing_m": spec["spacing_m"], "seed": spec["seed"], "error": "no node fits in the area"}
    rng = np.random.default_rng(spec["seed"])
    ix, iy = area.random_points(rng, 1)
    hour = spec["drawn"]["ignition_hour"]
    ignite_s = WARMUP_H * 3600.0
    days = (ignite_s + spec["after_ignition_h"] * 3600.0) / 86400.0
    weather, fuel = weather_and_fuel(spec["drawn"])
    weather.start_hour = (hour - WARMUP_H) % 24.0  # the run starts two hours before its ignition
    with tempfile.NamedTemporaryFile("w", suffix=".csv", delete=False) as fh:
        fh.write("node,x_m,y_m\n")
        fh.writelines(f"n{i:05d},{a:.1f},{b:.1f}\n" for i, (a, b) in enumerate(zip(x.tolist(), y.tolist())))
        positions = fh.name
    try:
        config = ScenarioConfig(days=days, seed=spec["seed"], site=spec.get("site", "plan"), placement="csv",
                                positions_csv=positions, ignition_plan=[(ignite_s, float(ix[0]), float(iy[0]))],
                                weather=weather, fuel=fuel, radio_settings=RadioConfig.from_dict(spec["radio"]))
        replay = IncidentReplay()
        result = run_scenario(config, publish=replay)
        replay.finish(EPOCH_MS + int(result.sim_s * 1000))
    finally:
        os.unlink(positions)
    scored = score(result, replay.transitions)
    ignition = scored["per_ignition"][0]
    summary = result.summary()
    life = result.battery_life_days
    return {"spacing_m": spec["spacing_m"], "seed": spec["seed"], "nodes": len(x),
            "gateways": int(result.radio.get("gateways", 1)), "ignition_hour": round(hour, 2),
            "ignition_xy": [round(float(ix[0])), round(float(iy[0]))],
            "wind_ms": spec["drawn"]["weather"]["mean_wind_ms"],
            "confirmed_after_s": ignition["confirmed_after_s"], "open_after_s": ignition["open_after_s"],
            "first_alert_at_gateway_s": summary["ignitions"][0]["latency_at_gateway_s"],
            "burned_area_ha": summary["ignitions"][0]["burned_area_ha"],
            "false_incidents": scored["false_incidents"], "node_months": scored["node_months"],
            "battery_life_days_median": float(np.median(life[np.isfinite(life)])) if np.isfinite(life).any() else None,
            "radio_loss_rate": result.radio.get("loss_rate", 0.0),
            "out_of_range": result.radio.get("lost_out_of_range", 0), "wall_s": round(result.wall_s, 2),
            "cpu_s": round(time.process_time() - cpu_started, 2)}
