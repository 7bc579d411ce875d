"""`emberwatch plan`: how many nodes, how far apart, how many gateways, for an area and its fire season."""

import argparse
import shlex
import sys
import time

HELP = "Plan a deployment: Monte Carlo of ignitions and weather per node spacing (Dask), with a curve and a layout map"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--area", default="2000x2000",
                        help="WIDTHxHEIGHT in metres, or a GeoJSON Polygon file in site metres (default 2000x2000)")
    group = parser.add_mutually_exclusive_group()
    group.add_argument("--spacings", default="100,200,400", help="candidate node spacings in metres (default 100,200,400)")
    group.add_argument("--budget", help="candidate node budgets instead (comma-separated counts)")
    parser.add_argument("--scenarios", type=int, default=12, help="Monte Carlo scenarios per spacing (default 12)")
    parser.add_argument("--climate", metavar="FILE.json", help="seasonal weather ranges (default: a Mediterranean summer)")
    parser.add_argument("--fuel", default="GS2", help="fuel model of the area (default GS2, grass-shrub)")
    parser.add_argument("--radio", action="append", metavar="KEY=VALUE", default=[],
                        help="radio setting (repeatable), as for emberwatch simulate")
    parser.add_argument("--after-ignition-h", type=float, default=1.0,
                        help="simulated time after each ignition (default 1 h)")
    parser.add_argument("--target", type=float, default=0.9,
                        help="wanted probability of an alert within 10 min (default 0.9)")
    parser.add_argument("--workers", type=int, default=2,
                        help="local Dask worker processes (default 2; 0: no Dask, run here)")
    parser.add_argument("--scheduler", metavar="ADDRESS", help="a running Dask scheduler, e.g. tcp://10.0.0.5:8786")
    parser.add_argument("--seed", type=int, default=1, help="random seed (default 1)")
    parser.add_argument("--out", default="plan-out", help="directory for plan.json/.md, curve.png, layout.png")
    parser.add_argument("--quiet", action="store_true", help="no progress bar")


def _floats(text: str, what: str) -> list[float]:
    try:
        values = [float(v) for v in text.split(",") if v.strip()]
    except ValueError:
        raise ValueError(f"--{what} wants comma-separated numbers, got {text!r}") from None
    if not values or any(v <= 0 for v in values):
        raise ValueError(f"--{what} wants positive numbers, got {text!r}")
    return values


def build_specs(args: argparse.Namespace):
    """(area, spacings, specs, climate, radio dict): every scenario as plain values; ValueError when bad."""
    import numpy as np

    from simulator.fuel_map import FuelConfig
    from simulator.plan.area import Area, spacing_for_budget
    from simulator.plan.climate import Climatology
    from simulator.radio_config import RadioConfig
    from simulator.scenario_file import build_section, parse_setting

    area = Area.parse(args.area)
    if args.budget:
        spacings = [round(spacing_for_budget(area, int(b)), 1) for b in _floats(args.budget, "budget")]
    else:
        spacings = _floats(args.spacings, "spacings")
    if args.scenarios < 1:
        raise ValueError(f"--scenarios must be >= 1, got {args.scenarios}")
    if not 0 < args.target <= 1:
        raise ValueError(f"--target must be in (0, 1], got {args.target}")
    if args.workers < 0:
        raise ValueError(f"--workers must be >= 0, got {args.workers}")
    problems = FuelConfig(model=args.fuel).problems()
    if problems:
        raise ValueError("; ".join(problems))
    climate = Climatology.from_file(args.climate) if args.climate else Climatology()
    radio = build_section(RadioConfig, dict(parse_setting(t) for t in args.radio), "radio").to_dict()
    # the same ignitions and weather for every spacing (common random numbers): differences between
    # spacings are then the layout's, not the luck of the draw
    draws = [climate.draw(np.random.default_rng([args.seed, k]), args.fuel.upper()) for k in range(args.scenarios)]
    specs = [{"ring_m": area.ring_m, "spacing_m": s, "seed": args.seed * 100_000 + k, "drawn": draws[k],
              "radio": radio, "after_ignition_h": args.after_ignition_h} for s in spacings for k in range(args.scenarios)]
    return area, spacings, specs, climate, radio


def run(args: argparse.Namespace) -> int:
    from simulator.plan.report import recommend, summarise, write_plan
    from simulator.plan.runner import PlanRunError, run_trials, text_progress

    try:
        area, spacings, specs, climate, radio = build_specs(args)
    except ValueError as exc:  # AreaError, ClimateError, ScenarioFileError are ValueErrors
        print(f"error: {exc}", file=sys.stderr)
        return 2
    started = time.monotonic()
    try:
        results = run_trials(specs, args.workers, args.scheduler, text_progress(args.quiet))
    except PlanRunError as exc:
        print(f"\nerror: {exc}", file=sys.stderr)
        return 1
    wall_s = time.monotonic() - started
    rows = summarise(results)
    chosen = recommend(rows, args.target)
    command = "emberwatch plan " + " ".join(shlex.quote(a) for a in sys.argv[2:]) if len(sys.argv) > 2 else ""
    meta = {"command": command, "area_m2": area.area_m2(), "spacings_m": spacings,
            "scenarios_per_spacing": args.scenarios, "climate": climate.ranges, "fuel_model": args.fuel.upper(),
            "radio": radio, "target": args.target, "after_ignition_h": args.after_ignition_h, "wall_s": round(wall_s, 1),
            "scenarios_per_min": round(len(specs) / wall_s * 60, 2) if wall_s > 0 else None,
            "workers_label": args.scheduler or (f"{args.workers} local Dask worker(s)" if args.workers else "no Dask")}
    meta["recommended"] = chosen is not None
    write_plan(args.out, area, rows, results, chosen, meta)
    for r in rows:
        if not r.get("scenarios"):
            print(f"  {r['spacing_m']:g} m: no node fits in the area")
            continue
        print(f"  {r['spacing_m']:g} m: {r['nodes']} nodes, {r['gateways']} gateway(s), {r['fires']} of "
              f"{r['scenarios']} ignitions took hold; P(alert <= 5/10/30 min) "
              f"{r['p_alert_5min']:.2f}/{r['p_alert_10min']:.2f}/{r['p_alert_30min']:.2f}; false incidents/month "
              f"{r['false_incidents_per_month']}; battery {r['battery_life_days']} days")
    if chosen is None:
        print(f"no recommendation: no ignition took hold in {len(specs)} scenarios; report: {args.out}/plan.md")
    else:
        print(f"recommended: {chosen['spacing_m']:g} m ({chosen['nodes']} nodes); {len(specs)} scenarios in "
              f"{wall_s:.0f} s ({meta['scenarios_per_min']} per minute); report: {args.out}/plan.md")
    return 0
