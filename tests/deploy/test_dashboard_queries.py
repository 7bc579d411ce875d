"""Every dashboard and variable query, expanded as Grafana does, on the InfluxDB the gateway filled.

The fleet in conftest.py sent known heartbeats, alerts and statuses through the
deployment-configured broker and the real gateway; each query must return exactly
the rows those messages imply, for several Site/Node selections.
"""

from __future__ import annotations

import time
from collections import defaultdict
from collections.abc import Callable
from itertools import pairwise

import pytest
import yaml

from tests.deploy.conftest import DAY_MS, FLEET, ROOT, Published
from tests.deploy.grafana_influxql import interpolate, panel_queries, variable_queries
from tests.harness.influx_query import influxql

pytestmark = pytest.mark.integration

INTERVAL = "1h"
INTERVAL_MS = 3_600_000
EMPTY_MV = 3300
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


def _run(pub: Published, port: int, query: str, selection: str) -> list[dict]:
    sites, nodes = SELECTIONS[selection]
    expanded = interpolate(query, from_ms=pub.t0_ms, to_ms=int(time.time() * 1000) + 60_000, interval=INTERVAL,
                           multi={"site": sites or ALL_SITES, "node": nodes or ALL_NODES},
                           text={"empty_mv": str(EMPTY_MV)})
    return influxql(port, expanded, pub.db)


def _bucket(t_ms: int) -> int:
    return t_ms - t_ms % INTERVAL_MS  # InfluxQL GROUP BY time() buckets are aligned to the epoch


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


def expect_positions(pub, ok):
    return [{"site": k[0], "node": k[1], "lat": hbs[-1]["lat"], "lon": hbs[-1]["lon"],
             "battery_mv": hbs[-1]["battery_mv"]} for k, hbs in pub.heartbeats.items() if ok(k) and hbs[-1]["lat"]]


def expect_last_state(pub, ok):
    return [{"site": k[0], "node": k[1], "state": s, "online": int(s == "online"), "reason": "status"}
            for k, s in pub.last_state.items() if ok(k)]


def expect_alerts_per_node(pub, ok):
    return [{"site": k[0], "node": k[1], "alerts": len(a)} for k, a in pub.alerts.items() if ok(k) and a]


def _count_state(state):
    return lambda pub, ok: [{"nodes": sum(1 for k, s in pub.last_state.items() if ok(k) and s == state)}]


def expect_lowest_battery(pub, ok):
    return [{"battery_mv": min(hbs[-1]["battery_mv"] for k, hbs in pub.heartbeats.items() if ok(k))}]


def expect_battery(pub, ok):
    return [{"site": k[0], "node": k[1], "time": t, "battery_mv": m}
            for k, hbs in pub.heartbeats.items() if ok(k) for t, m in _bucket_means(hbs)]


def expect_days_left(pub, ok):
    rows = []
    for key, hbs in pub.heartbeats.items():
        if not ok(key):
            continue
        means = _bucket_means(hbs)
        slopes = [(m1 - m0) / ((t1 - t0) / DAY_MS) for (t0, m0), (t1, m1) in pairwise(means)]
        slope = sum(slopes) / len(slopes)
        # InfluxQL defines x / 0 as 0: a node that is not draining shows 0, mapped to "not draining".
        days = (means[-1][1] - EMPTY_MV) / -slope if slope else 0
        rows.append({"site": key[0], "node": key[1], "battery_mv": means[-1][1], "mv_per_day": slope,
                     "days_left": days})
    return rows


def expect_last_heartbeat(pub, ok):
    return [{"site": k[0], "node": k[1], **{f: hbs[-1][f] for f in ("time", "seq", "battery_mv", "temp_c", "queued")}}
            for k, hbs in pub.heartbeats.items() if ok(k)]


def expect_heartbeat_rate(pub, ok):
    counts: dict[tuple[str, int], int] = defaultdict(int)
    for key, hbs in pub.heartbeats.items():
        if ok(key):
            for h in hbs:
                counts[(key[0], _bucket(h["time"]))] += 1
    return [{"site": s, "time": t, "heartbeats": c} for (s, t), c in counts.items()]


def expect_online_history(pub, ok):
    # Statuses are stamped on receipt (now); fill(previous) carries the last one to the range end.
    return [{"site": k[0], "node": k[1], "online": int(s == "online")} for k, s in pub.last_state.items() if ok(k)]


# (dashboard file, panel title, refId) -> (expected rows, how to compare)
EXPECTED = {
    ("emberwatch-alerts.json", "Fire alerts", "A"): (expect_alert_count, "values"),
    ("emberwatch-alerts.json", "Nodes alerting", "A"): (expect_nodes_alerting, "values"),
    ("emberwatch-alerts.json", "Alert rate", "A"): (expect_alert_rate, "nonzero:alerts"),
    ("emberwatch-alerts.json", "Alert history", "A"): (expect_alert_history, "newest_first"),
    ("emberwatch-alerts.json", "Node map", "A"): (expect_positions, "rows"),
    ("emberwatch-alerts.json", "Node map", "B"): (expect_last_state, "rows"),
    ("emberwatch-alerts.json", "Node map", "C"): (expect_alerts_per_node, "rows"),
    ("emberwatch-fleet.json", "Nodes online", "A"): (_count_state("online"), "values"),
    ("emberwatch-fleet.json", "Nodes offline", "A"): (_count_state("offline"), "values"),
    ("emberwatch-fleet.json", "Lowest battery", "A"): (expect_lowest_battery, "values"),
    ("emberwatch-fleet.json", "Heartbeats received", "A"): (expect_heartbeat_rate, "nonzero:heartbeats"),
    ("emberwatch-fleet.json", "Battery voltage", "A"): (expect_battery, "rows"),
    ("emberwatch-fleet.json", "Projected days of battery left", "A"): (expect_days_left, "rows"),
    ("emberwatch-fleet.json", "Last heartbeat per node", "A"): (expect_last_heartbeat, "rows"),
    ("emberwatch-fleet.json", "Connection state", "A"): (expect_last_state, "rows"),
    ("emberwatch-fleet.json", "Online / offline history", "A"): (expect_online_history, "last_per_node"),
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
    ok = _picked(selection)
    actual = _run(filled_influx, influx_server.port, panel_query.query, selection)
    check_rows(actual, expect(filled_influx, ok), how)


def test_fleet_covers_the_interesting_cases(filled_influx) -> None:
    """The expectations above only mean something if the data has alerts, an offline node, a drain."""
    pub = filled_influx
    assert sum(len(a) for a in pub.alerts.values()) == 6
    assert sorted(pub.last_state.values()).count("offline") == 1
    assert expect_days_left(pub, lambda k: k == ("ridge", "r2"))[0]["days_left"] == pytest.approx(
        (4020 - EMPTY_MV) / 40, rel=0.02)


@pytest.mark.parametrize("site_selection,expected_nodes", [
    (ALL_SITES, ALL_NODES), (["ridge"], ["r1", "r2", "r3"]), (["valley"], ["v1", "v2"])])
def test_template_variables_list_sites_and_their_nodes(site_selection, expected_nodes, filled_influx,
                                                       influx_server) -> None:
    queries = variable_queries()
    sites = influxql(influx_server.port, queries["site"], filled_influx.db)
    # Grafana shows each distinct value once, whichever measurement it came from.
    assert sorted({r["value"] for r in sites}) == ALL_SITES
    q = interpolate(queries["node"], from_ms=0, to_ms=0, multi={"site": site_selection})
    assert sorted({r["value"] for r in influxql(influx_server.port, q, filled_influx.db)}) == expected_nodes


def _alert_rule_query() -> tuple[str, int]:
    doc = yaml.safe_load((ROOT / "deploy/grafana/provisioning/alerting/emberwatch.yaml").read_text())
    rule = doc["groups"][0]["rules"][0]
    (query_a,) = [d for d in rule["data"] if d["refId"] == "A"]
    return query_a["model"]["query"], query_a["relativeTimeRange"]["from"] * 1000


def test_alert_rule_fires_only_for_nodes_with_a_new_alert(filled_influx, influx_server) -> None:
    pub = filled_influx
    query, lookback_ms = _alert_rule_query()

    def firing_at(now_ms: int) -> dict[Key, int]:
        rows = influxql(influx_server.port, interpolate(query, from_ms=now_ms - lookback_ms, to_ms=now_ms), pub.db)
        return {(r["site"], r["node"]): r["alerts"] for r in rows}

    assert firing_at(pub.end_ms) == {("ridge", "r2"): 1}  # its alert 2 minutes before
    assert firing_at(pub.end_ms - DAY_MS) == {("valley", "v1"): 2}
    assert firing_at(pub.end_ms - 10 * 60_000) == {}  # quiet: no data, which the rule maps to OK
