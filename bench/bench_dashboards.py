#!/usr/bin/env python3
"""Time every Grafana panel query on a real InfluxDB 1.x holding a 10,000-node fleet.

Fills a throwaway influxd (started as the tests do, tests/harness/servers.py) with a week of a
synthetic fleet: N nodes over 10 sites, one heartbeat per node per hour (with battery percent and
position), node_state changes, 3 fires of alerts and hourly site weather. Then applies the rollups
(`emberwatch influx-setup`'s retention policy and continuous queries, backfilled over the week as
--backfill does), expands each panel query as Grafana does at the dashboard's default range with
Site = Node = All, and times it (wall time of the HTTP request including JSON decoding).

    .venv/bin/python bench/bench_dashboards.py                 # 10,000 nodes, ~1.7 M points
    .venv/bin/python bench/bench_dashboards.py --nodes 1000    # quicker
"""

from __future__ import annotations

import argparse
import http.client
import json
import platform
import random
import statistics
import sys
import tempfile
import time
import urllib.parse
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from gateway.fire_weather import STARTUP, DailyWeather, next_day  # noqa: E402
from gateway.influx_rollups import InfluxAdmin, apply_rollups, backfill  # noqa: E402
from tests.deploy.grafana_influxql import interpolate, load_dashboards, panels  # noqa: E402
from tests.harness import servers  # noqa: E402

DB = "bench"
HOUR_MS = 3_600_000
DAY_MS = 24 * HOUR_MS
SITES = 10
FIRES = 3
LIMIT_S = 2.0


def round_interval_ms(ms: float) -> int:
    """Grafana's rangeutil.roundInterval: the bucket $__interval becomes for range / max data points."""
    steps = [(15, 10), (35, 20), (75, 50), (150, 100), (350, 200), (750, 500), (1500, 1000), (3500, 2000),
             (7500, 5000), (12500, 10000), (17500, 15000), (25000, 20000), (45000, 30000), (90000, 60000),
             (180000, 120000), (450000, 300000), (1200000, 600000), (2700000, 1800000), (5400000, 3600000),
             (9000000, 7200000), (16200000, 10800000), (32400000, 21600000), (86400000, 43200000),
             (604800000, 86400000), (1814400000, 604800000), (3628800000, 2592000000)]
    return next((out for limit, out in steps if ms < limit), 31536000000)


def interval_text(ms: int) -> str:
    for unit, size in (("d", DAY_MS), ("h", HOUR_MS), ("m", 60_000), ("s", 1000)):
        if ms % size == 0:
            return f"{ms // size}{unit}"
    return f"{ms}ms"


def fleet_lines(n_nodes: int, now_ms: int, days: int, rng: random.Random):
    """Yield line-protocol batches (ms precision) for the synthetic fleet."""
    t0 = now_ms - days * DAY_MS
    batch: list[str] = []
    per_site = n_nodes // SITES
    fire_sites = {s * SITES // FIRES for s in range(FIRES)}
    for i in range(n_nodes):
        site, node = f"site{i // per_site:02d}", f"n{i:05d}"
        tags = f"site={site},node={node}"
        offset = rng.randrange(HOUR_MS)
        pct0, drain = rng.uniform(20, 100), rng.uniform(0.0, 1.5)  # percent, percent per day
        lat, lon = 44.0 + (i // per_site) * 0.1 + rng.random() * 0.05, 6.0 + rng.random() * 0.05
        dies_at = t0 + rng.randrange(days * DAY_MS) if i % 100 == 7 else None  # 1 % go silent
        batch.append(f"node_state,{tags} state=\"online\",online=1i,reason=\"status\" {t0}")
        seq = 0
        for t in range(t0 + offset, now_ms, HOUR_MS):
            if dies_at and t > dies_at:
                batch.append(f"node_state,{tags} state=\"offline\",online=0i,reason=\"heartbeat_missed\" "
                             f"{t + 2 * HOUR_MS}")
                break
            seq += 1
            pct = max(0.0, pct0 - drain * (t - t0) / DAY_MS)
            mv = int(2300 + 7 * pct)  # 2xAA alkaline: ~3.0 V full, cut-off 2.3 V
            batch.append(f"heartbeat,{tags} seq={seq}i,boot=1i,battery_mv={mv}i,battery_pct={int(pct)}i,queued=0i,"
                         f"faults=0i,temp_c={15 + rng.random() * 10:.2f},rh_pct={40 + rng.random() * 30:.2f},"
                         f"gas_index={-7 + rng.random():.3f},lat={lat:.6f},lon={lon:.6f} {t}")
        if i // per_site in fire_sites and i % per_site < 25:  # 25 nodes per fire, 3 h of alerts
            fire_t = now_ms - (2 + (i // per_site)) * HOUR_MS * 7
            for k in range(18):
                batch.append(f"alert,{tags} seq={10_000 + k}i,score={700 + k}i,threshold=500i,level=2i,boot=1i,"
                             f"temp_c={40 + k:.1f},rh_pct=12.0,gas=9000i,gas_index=-3.2,battery_mv=2900i "
                             f"{fire_t + k * 600_000}")
        if len(batch) >= 50_000:
            yield batch
            batch = []
    for s in range(SITES):  # one daily rating per site, as gateway/fire_weather.py stores them
        codes = STARTUP
        for day in range(t0 // DAY_MS, now_ms // DAY_MS):
            codes = next_day(codes, DailyWeather(20 + rng.random() * 10, 25 + rng.random() * 30, rng.random() * 30, 0.0,
                                                 time.gmtime(day * 86400).tm_mon))
            batch.append(f"fire_weather,site=site{s:02d},node=fwi fwi={codes.fwi:.3f},isi={codes.isi:.3f},"
                         f"bui={codes.bui:.3f},ffmc={codes.ffmc:.3f},dmc={codes.dmc:.3f},dc={codes.dc:.3f},temp_c=25.0,"
                         f"rh_pct=40.0,wind_kmh=12.0,rain_mm=0.0,nodes={per_site}i {day * DAY_MS + 12 * HOUR_MS}")
        for t in range(t0, now_ms, HOUR_MS):
            batch.append(f"weather,site=site{s:02d},node=ws{s} seq={t // HOUR_MS}i,wind_ms={rng.random() * 8:.2f},"
                         f"wind_dir_deg={rng.randrange(360)}i,rain_mm=0.0,temp_c={18 + rng.random() * 8:.2f},"
                         f"rh_pct={35 + rng.random() * 30:.2f} {t}")
    yield batch


def fill(port: int, n_nodes: int, now_ms: int, days: int) -> tuple[int, float]:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=600)
    conn.request("POST", "/query", urllib.parse.urlencode({"q": f"CREATE DATABASE {DB}"}),
                 {"Content-Type": "application/x-www-form-urlencoded"})
    conn.getresponse().read()
    points, start = 0, time.perf_counter()
    for batch in fleet_lines(n_nodes, now_ms, days, random.Random(17)):
        conn.request("POST", f"/write?db={DB}&precision=ms", "\n".join(batch).encode())
        resp = conn.getresponse()
        body = resp.read()
        if resp.status != 204:
            raise RuntimeError(f"write failed {resp.status}: {body[:300]!r}")
        points += len(batch)
    return points, time.perf_counter() - start


def run_query(port: int, q: str) -> tuple[float, int, int, int]:
    """(seconds, rows, series, response bytes)."""
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=600)
    start = time.perf_counter()
    conn.request("POST", "/query", urllib.parse.urlencode({"db": DB, "q": q, "epoch": "ms"}),
                 {"Content-Type": "application/x-www-form-urlencoded"})
    resp = conn.getresponse()
    raw = resp.read()
    body = json.loads(raw)
    elapsed = time.perf_counter() - start
    conn.close()
    result = body["results"][0]
    if "error" in result:
        raise RuntimeError(f"{result['error']} in {q}")
    series = result.get("series", [])
    return elapsed, sum(len(s["values"]) for s in series), len(series), len(raw)


def panel_cases(now_ms: int) -> list[tuple[str, str, str]]:
    """(dashboard, panel/refId, expanded query) at each dashboard's default range, All selected."""
    out = []
    for name, board in load_dashboards().items():
        for p in panels(board):
            span = p.get("timeFrom") or board["time"]["from"].removeprefix("now-")  # a panel's own range first
            range_ms = int(span[:-1]) * {"h": HOUR_MS, "d": DAY_MS}[span[-1]]
            # Grafana: range / panel width in px (~1,000 at full width), rounded, then the panel's min interval.
            width_px = max(300, p["gridPos"]["w"] * 1920 // 24)
            interval_ms = round_interval_ms(range_ms / width_px)
            if p.get("interval"):
                interval_ms = max(interval_ms, {"h": HOUR_MS, "m": 60_000, "d": DAY_MS}[p["interval"][-1]]
                                  * int(p["interval"][:-1]))
            for t in p.get("targets", []):
                q = interpolate(t["query"], from_ms=now_ms - range_ms, to_ms=now_ms,
                                interval=interval_text(interval_ms), multi={"site": None, "node": None})
                out.append((name.removesuffix(".json"), f"{p['title']} ({t['refId']})", q))
    for board in list(load_dashboards().values())[:1]:
        for v in board["templating"]["list"]:
            if v["type"] == "query":
                out.append(("variables", f"${v['name']}", interpolate(v["query"], from_ms=0, to_ms=0,
                                                                     multi={"site": None, "node": None})))
    return out


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--nodes", type=int, default=10_000, help="fleet size, a multiple of 10 (default 10000)")
    parser.add_argument("--days", type=int, default=7, help="days of hourly heartbeats (default 7)")
    parser.add_argument("--repeat", type=int, default=3, help="timed runs per query (default 3)")
    parser.add_argument("--data-dir", type=Path, metavar="DIR",
                        help="keep InfluxDB's files here and reuse them when DIR/filled.json exists "
                             "(its 'now' is then the fill time) instead of a throwaway folder")
    parser.add_argument("--panel", metavar="TEXT", default="",
                        help="time only the queries whose 'panel (query)' title contains TEXT, e.g. 'Node map'")
    parser.add_argument("--serve", action="store_true", help="after the table, keep InfluxDB up until Enter")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        workdir = args.data_dir or Path(tmp) / "influx"
        marker = workdir / "filled.json"
        server = servers.influxdb(workdir)
        server.start()
        try:
            if marker.exists():
                now_ms, points = json.loads(marker.read_text())
            else:
                now_ms = int(time.time() * 1000)
                points, fill_s = fill(server.port, args.nodes, now_ms, args.days)
                print(f"filled {points:,} points for {args.nodes:,} nodes in {fill_s:.0f} s", file=sys.stderr)
            admin = InfluxAdmin(f"http://127.0.0.1:{server.port}")
            apply_rollups(admin, DB)
            if not marker.exists():
                start = time.perf_counter()
                backfill(admin, DB, now_ms - (args.days + 1) * DAY_MS, now_ms + HOUR_MS)
                print(f"rollups backfilled in {time.perf_counter() - start:.0f} s", file=sys.stderr)
                marker.write_text(json.dumps([now_ms, points]))
            print(f"\n{args.nodes:,} nodes, {points:,} points; InfluxDB 1.6.7 (Debian influxd); "
                  f"{platform.processor() or platform.machine()}, {time.strftime('%Y-%m-%d')}\n")
            # The first run of a query after InfluxDB starts also loads its shards' series index ("cold");
            # Grafana refreshes a dashboard every minute, so it mostly meets the warm figures.
            cases = [c for c in panel_cases(now_ms) if args.panel in c[1]]
            cold = [run_query(server.port, q)[0] for _, _, q in cases]
            print("| dashboard | panel (query) | cold s | median s | max s | rows | series | bytes |")
            print("|---|---|---:|---:|---:|---:|---:|---:|")
            worst = 0.0
            for i, (board, title, q) in enumerate(cases):
                runs = [run_query(server.port, q) for _ in range(args.repeat)]
                times = [r[0] for r in runs]
                _, rows, series, size = runs[-1]
                worst = max(worst, max(times))
                print(f"| {board} | {title} | {cold[i]:.3f} | {statistics.median(times):.3f} | {max(times):.3f} | "
                      f"{rows:,} | {series:,} | {size:,} |", flush=True)
            print(f"\nslowest warm run: {worst:.3f} s (goal <= {LIMIT_S} s)")
            if args.serve:
                input(f"InfluxDB on port {server.port}, database {DB}; Enter stops it ")
            return 0 if worst <= LIMIT_S else 1
        finally:
            server.stop()


if __name__ == "__main__":
    sys.exit(main())
