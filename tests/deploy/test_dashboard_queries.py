"""Every dashboard and variable query, expanded as Grafana does, on the InfluxDB the gateway filled.

The fleet in conftest.py sent known heartbeats, alerts and statuses through the
deployment-configured broker and the real gateway; each query must return exactly
the rows those messages imply, for several Site/Node selections.
"""

from __future__ import annotations

import time
from collections import defaultdict
from collections.abc import Callable

import pytest
import yaml

from tests.deploy.conftest import DAY_MS, FLEET, ROOT, Published
from tests.deploy.grafana_influxql import interpolate, panel_queries, variable_queries
from tests.harness.influx_query import influxql

pytestmark = pytest.mark.integration

INTERVAL = "1h"
INTERVAL_MS = 3_600_000
TOP_K = 20
ALL_SITES = sorted({n.site for n in FLEET})
ALL_NODES = sorted({n.node for n in FLEET})
Key = tuple[str, str]

# (sites, nodes) as a Grafana user would pick them; None = "All".
SELECTIONS = {
    "all": (None, None),
    "ridge": (["ridge"], None),
    "valley-v1": (["valley"], ["v1"]),
    "ridge-r1-r3": (["ridge"], ["r1", "r3"]),
}


def _picked(selection: str) -> Callable[[Key], bool]:
    sites, nodes = SELECTIONS[selection]
    return lambda key: (sites is None or key[0] in sites) and (nodes is None or key[1] in nodes)


def _site_picked(selection: str) -> Callable[[Key], bool]:
    """Panels on the per-site rollup follow the Site variable only."""
    sites, _ = SELECTIONS[selection]
    return lambda key: sites is None or key[0] in sites


def _range_end_ms() -> int:
    """The end of the range the queries run over: the next whole minute, so a test sees one value."""
    return (int(time.time() * 1000) // 60_000 + 1) * 60_000


def _run(pub: Published, port: int, query: str, selection: str) -> list[dict]:
    sites, nodes = SELECTIONS[selection]
    expanded = interpolate(query, from_ms=pub.t0_ms, to_ms=_range_end_ms(), interval=INTERVAL,
                           multi={"site": sites, "node": nodes})
    return influxql(port, expanded, pub.db)


def _bucket(t_ms: int, size_ms: int = INTERVAL_MS) -> int:
    return t_ms - t_ms % size_ms  # InfluxQL GROUP BY time() buckets are aligned to the epoch


def _by_key(rows: list[dict]) -> dict[Key, list[dict]]:
    out: dict[Key, list[dict]] = defaultdict(list)
    for r in rows:
        out[(r["site"], r["node"])].append(r)
    return dict(out)


def _bucket_means(hbs: list[dict]) -> list[tuple[int, float]]:
    sums: dict[int, list[int]] = defaultdict(list)
    for h in hbs:
        sums[_bucket(h["time"])].append(h["battery_mv"])
    return sorted((t, sum(v) / len(v)) for t, v in sums.items())


# --- expected rows, computed from what the fleet published ------------------------------------------

def expect_alert_count(pub, ok):
    return [{"alerts": sum(len(a) for k, a in pub.alerts.items() if ok(k))}]


def expect_nodes_alerting(pub, ok):
    return [{"nodes": sum(1 for k, a in pub.alerts.items() if ok(k) and a)}]


def expect_alert_rate(pub, ok):
    rows = []
    for key, alerts in pub.alerts.items():
        if ok(key) and alerts:
            counts: dict[int, int] = defaultdict(int)
            for a in alerts:
                counts[_bucket(a["time"])] += 1
            rows += [{"site": key[0], "node": key[1], "time": t, "alerts": c} for t, c in counts.items()]
    return rows


def expect_alert_history(pub, ok):
    return [{"site": k[0], "node": k[1], **a} for k, alerts in pub.alerts.items() if ok(k) for a in alerts]


def _day_means(hbs: list[dict], field: str, from_ms: int = 0) -> list[tuple[int, float]]:
    """Per-node daily rollup buckets (start >= from_ms, as $timeFilter picks them)."""
    days: dict[int, list[float]] = defaultdict(list)
    for h in hbs:
        days[_bucket(h["time"], DAY_MS)].append(h[field])
    return sorted((t, sum(v) / len(v)) for t, v in days.items() if t >= from_ms)


def expect_positions(pub, ok):
    return [{"site": k[0], "node": k[1], "lat": hbs[-1]["lat"], "lon": hbs[-1]["lon"]}
            for k, hbs in pub.heartbeats.items() if ok(k) and hbs[-1]["lat"]]


def expect_last_state(pub, ok):
    return [{"site": k[0], "node": k[1], "state": s, "online": int(s == "online"), "reason": "status"}
            for k, s in pub.last_state.items() if ok(k)]


def expect_offline_nodes(pub, ok):
    return [r for r in expect_last_state(pub, ok) if r["online"] == 0]


def expect_alerts_per_node(pub, ok):
    return [{"site": k[0], "node": k[1], "alerts": len(a)} for k, a in pub.alerts.items() if ok(k) and a]


def _count_state(state):
    return lambda pub, ok: [{"nodes": sum(1 for k, s in pub.last_state.items() if ok(k) and s == state)}]


def _recent(hbs: list[dict], window_ms: int) -> list[dict]:
    now_ms = int(time.time() * 1000)
    return [h for h in hbs if h["time"] > now_ms - window_ms]


def expect_lowest_battery(pub, ok):
    # The hourly site rollup's buckets that start within the last 2 hours.
    now_ms = int(time.time() * 1000)
    pcts = [h["battery_pct"] for k, hbs in pub.heartbeats.items() if ok(k) for h in hbs
            if _bucket(h["time"]) > now_ms - 2 * INTERVAL_MS]
    return [{"battery_pct": min(pcts) if pcts else 0}]


def expect_lowest_batteries(pub, ok):
    # battery_lowest_1h keeps each site's 20 lowest per hour bucket at their own heartbeat times; the
    # panel reads those of the last 2 hours and takes the lowest reading per node among them. Among
    # readings of equal percent InfluxDB may return either, so battery_mv is the set of those candidates.
    now_ms = int(time.time() * 1000)
    rows = []
    for k, hbs in pub.heartbeats.items():
        recent = [h for h in hbs if h["time"] > now_ms - 2 * INTERVAL_MS]
        if ok(k) and recent:
            low = min(h["battery_pct"] for h in recent)
            rows.append({"battery_pct": low, "site": k[0], "node": k[1],
                         "battery_mv": frozenset(h["battery_mv"] for h in recent if h["battery_pct"] == low)})
    return sorted(rows, key=lambda r: (r["battery_pct"], r["site"], r["node"]))[:TOP_K]


def expect_battery_by_site(pub, ok):
    hours: dict[tuple[str, int], list[int]] = defaultdict(list)
    for key, hbs in pub.heartbeats.items():
        if ok(key):
            for h in hbs:
                hours[(key[0], _bucket(h["time"]))].append(h["battery_pct"])
    # A rollup bucket starts on the hour, so the one holding t0 starts before $timeFilter's lower bound.
    return [{"site": s, "time": t, "lowest": min(v), "mean": sum(v) / len(v)} for (s, t), v in hours.items()
            if t >= pub.t0_ms]


def expect_days_left(pub, ok):
    rows = []
    for key, hbs in pub.heartbeats.items():
        if not ok(key):
            continue
        means = [m for _, m in _day_means(hbs, "battery_pct", pub.t0_ms)]
        first, last = means[0], means[-1]
        days_less_one = round((_range_end_ms() - pub.t0_ms) / 1000) / 86400 - 1  # ($__range_s / 86400.0 - 1)
        if first > last:  # only draining nodes (InfluxQL makes x / 0 a 0, filtered out)
            rows.append({"site": key[0], "node": key[1], "battery_pct": last,
                         "drain_pct_per_day": (first - last) / days_less_one,
                         "days_left": last * days_less_one / (first - last)})
    return sorted(rows, key=lambda r: r["days_left"])[:TOP_K]


def expect_heartbeat_rate(pub, ok):
    counts: dict[tuple[str, int], int] = defaultdict(int)
    for key, hbs in pub.heartbeats.items():
        if ok(key):
            for h in hbs:
                counts[(key[0], _bucket(h["time"]))] += 1
    return [{"site": s, "time": t, "heartbeats": c} for (s, t), c in counts.items() if t >= pub.t0_ms]


def expect_online_history(pub, ok):
    # Every status ever written, so a node that stayed online since before the range still shows.
    return [{"site": k[0], "node": k[1], "online": int(s == "online")} for k, states in pub.states.items() if ok(k)
            for s in states]


def _latest_ratings(pub, ok) -> dict[str, dict]:
    now_ms = int(time.time() * 1000)
    latest: dict[str, dict] = {}
    for r in pub.fire_weather:  # in rating order, so the last one per site wins
        if ok((r.site, "")) and r.t_ms > now_ms - 2 * DAY_MS:
            latest[r.site] = {"site": r.site, **r.fields}
    return latest


def expect_fwi_by_site(pub, ok):
    return list(_latest_ratings(pub, ok).values())


def expect_fwi_highest(pub, ok):
    latest = _latest_ratings(pub, ok)
    return [{"fwi": max(r["fwi"] for r in latest.values()) if latest else 0}]


def expect_fwi_daily(pub, ok):
    return [{"site": r.site, "fwi": r.fields["fwi"]} for r in pub.fire_weather if ok((r.site, "")) and r.t_ms >= pub.t0_ms]


# (dashboard file, panel title, refId) -> (expected rows, how to compare, which variables filter it)
EXPECTED = {
    ("emberwatch-alerts.json", "Fire alerts", "A"): (expect_alert_count, "values"),
    ("emberwatch-alerts.json", "Nodes alerting", "A"): (expect_nodes_alerting, "values"),
    ("emberwatch-alerts.json", "Alert rate", "A"): (expect_alert_rate, "nonzero:alerts"),
    ("emberwatch-alerts.json", "Alert history", "A"): (expect_alert_history, "newest_first"),
    ("emberwatch-alerts.json", "Node map", "A"): (expect_positions, "rows"),
    ("emberwatch-alerts.json", "Node map", "B"): (expect_last_state, "rows"),
    ("emberwatch-alerts.json", "Node map", "C"): (expect_alerts_per_node, "rows"),
    ("emberwatch-alerts.json", "Fire danger (FWI)", "A"): (expect_fwi_highest, "values:site"),
    ("emberwatch-alerts.json", "Fire weather by site", "A"): (expect_fwi_by_site, "rows:site"),
    ("emberwatch-alerts.json", "Fire weather index by site", "A"): (expect_fwi_daily, "rows:site"),
    ("emberwatch-fleet.json", "Nodes online", "A"): (_count_state("online"), "values"),
    ("emberwatch-fleet.json", "Nodes offline", "A"): (_count_state("offline"), "values"),
    ("emberwatch-fleet.json", "Lowest battery", "A"): (expect_lowest_battery, "values:site"),
    ("emberwatch-fleet.json", "Heartbeats received", "A"): (expect_heartbeat_rate, "nonzero:heartbeats:site"),
    ("emberwatch-fleet.json", "Battery by site", "A"): (expect_battery_by_site, "rows:site"),
    ("emberwatch-fleet.json", f"Lowest batteries ({TOP_K} nodes)", "A"): (expect_lowest_batteries, "rows"),
    ("emberwatch-fleet.json", f"Fewest days of battery left ({TOP_K} nodes)", "A"): (expect_days_left, "rows"),
    ("emberwatch-fleet.json", "Offline nodes", "A"): (expect_offline_nodes, "rows"),
    ("emberwatch-fleet.json", "Online / offline history", "A"): (expect_online_history, "rows"),
}


def _comparable(rows: list[dict], fields: list[str]) -> list[tuple]:
    return sorted(tuple(round(r[f], 6) if isinstance(r[f], float) else r[f] for f in fields) for r in rows)


def check_rows(actual: list[dict], expected: list[dict], how: str) -> None:
    if how == "values":  # one aggregate row; an empty selection gives no row at all
        assert [{k: r[k] for k in expected[0]} for r in actual] == (expected if any(expected[0].values()) else [])
        return
    fields = sorted({f for r in expected for f in r}) if expected else []
    if how.startswith("nonzero:"):  # fill(0) buckets: compare the non-zero ones
        actual = [r for r in actual if r[how.split(":")[1]]]
    elif how == "last_per_node":
        actual = [rows[-1] for rows in _by_key(actual).values()]
    elif how == "newest_first":
        for rows in _by_key(actual).values():
            assert [r["time"] for r in rows] == sorted((r["time"] for r in rows), reverse=True)
    if any(isinstance(v, frozenset) for r in expected for v in r.values()):  # one of several candidates
        expected = [{k: v for k, v in r.items()} for r in expected]
        by_key = {(r["site"], r["node"]): r for r in actual}
        for r in expected:
            for f, v in list(r.items()):
                if isinstance(v, frozenset):
                    got = by_key.get((r["site"], r["node"]), {}).get(f)
                    assert got in v, (r, got)
                    r[f] = got
    assert _comparable(actual, fields) == _comparable(expected, fields)


def _queries():  # the incidents dashboard has its own pipeline and checks: tests/deploy/test_incident_panels.py
    # ... and so has the LoRaWAN radio dashboard: tests/deploy/test_lorawan_panels.py
    return [q for q in panel_queries() if q.dashboard not in ("emberwatch-incidents.json", "emberwatch-lorawan.json")]


CASES = [(q, s) for q in _queries() for s in SELECTIONS]


def test_every_panel_query_has_an_expectation() -> None:
    keys = {(q.dashboard, q.panel, q.ref_id) for q in _queries()}
    assert keys == set(EXPECTED), "add the new panel's expected rows to EXPECTED"


@pytest.mark.parametrize("panel_query,selection", CASES,
                         ids=[f"{q.panel}-{q.ref_id}-{s}" for q, s in CASES])
def test_panel_query_returns_the_published_rows(panel_query, selection, filled_influx, influx_server) -> None:
    expect, how = EXPECTED[(panel_query.dashboard, panel_query.panel, panel_query.ref_id)]
    ok = _site_picked(selection) if how.endswith(":site") else _picked(selection)
    how = how.removesuffix(":site")
    actual = _run(filled_influx, influx_server.port, panel_query.query, selection)
    check_rows(actual, expect(filled_influx, ok), how)


def test_fleet_covers_the_interesting_cases(filled_influx) -> None:
    """The expectations above only mean something if the data has alerts, an offline node, a drain."""
    pub = filled_influx
    assert sum(len(a) for a in pub.alerts.values()) == 6
    assert sorted(pub.last_state.values()).count("offline") == 1
    # Two sites rated on each day whose noon window the fleet covered; ridge's shower wets its codes.
    assert len(pub.fire_weather) >= 2 and {r.site for r in pub.fire_weather} == {"ridge", "valley"}
    assert any(r.fields["rain_mm"] == 2.5 for r in pub.fire_weather if r.site == "ridge")
    # r2 loses 10 %/day from 90 %: 70 % left after two days, 7 days to go. The panel's trend runs over
    # daily means of UTC days, and how much of the last day has passed moves it (just after midnight
    # the last bucket holds minutes: 14 days): what matters here is that a drain is there to find.
    drain = expect_days_left(pub, lambda k: k == ("ridge", "r2"))[0]
    assert drain["drain_pct_per_day"] > 0 and 3 < drain["days_left"] < 30


@pytest.mark.parametrize("site_selection,expected_nodes", [
    (ALL_SITES, ALL_NODES), (["ridge"], ["r1", "r2", "r3"]), (["valley"], ["v1", "v2"])])
def test_template_variables_list_sites_and_their_nodes(site_selection, expected_nodes, filled_influx,
                                                       influx_server) -> None:
    queries = variable_queries()
    sites = influxql(influx_server.port, queries["site"], filled_influx.db)
    # Grafana shows each distinct value once, whichever measurement it came from.
    assert sorted({r["value"] for r in sites}) == ALL_SITES
    q = interpolate(queries["node"], from_ms=0, to_ms=0, multi={"site": site_selection})
    assert 'FROM "heartbeat"' in q  # not every series of the database
    assert sorted({r["value"] for r in influxql(influx_server.port, q, filled_influx.db)}) == expected_nodes


def _alert_rule_query() -> tuple[str, int]:
    doc = yaml.safe_load((ROOT / "deploy/grafana/provisioning/alerting/emberwatch.yaml").read_text())
    rule = doc["groups"][0]["rules"][0]
    (query_a,) = [d for d in rule["data"] if d["refId"] == "A"]
    return query_a["model"]["query"], query_a["relativeTimeRange"]["from"] * 1000


def test_alert_rule_window_outlasts_the_node_cooldown() -> None:
    """A node re-alerts at most once per cooldown; a shorter window would resolve and re-page mid-fire."""
    import json

    cooldown_s = json.loads((ROOT / "models" / "model_card.json").read_text())["cooldown_s"]
    _, lookback_ms = _alert_rule_query()
    assert lookback_ms > cooldown_s * 1000
