"""Grafana provisioning (datasource, dashboards, alerting) parses and hangs together."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from tests.deploy.grafana_influxql import load_dashboards, panel_queries, panels

ROOT = Path(__file__).resolve().parents[2]
PROVISIONING = ROOT / "deploy" / "grafana" / "provisioning"
GRAFANA = yaml.safe_load((ROOT / "docker-compose.yml").read_text())["services"]["grafana"]
DATASOURCE = yaml.safe_load((PROVISIONING / "datasources" / "influxdb.yaml").read_text())["datasources"][0]
ALERTING = yaml.safe_load((PROVISIONING / "alerting" / "emberwatch.yaml").read_text())
BOARDS = load_dashboards()


def _env_refs(text: str) -> set[str]:
    return set(re.findall(r"(?<!\$)\$\{?([A-Z][A-Z0-9_]*)", text))


def test_committed_dashboards_are_what_the_generator_writes() -> None:
    result = subprocess.run([sys.executable, str(ROOT / "deploy/grafana/build_dashboards.py"), "--check"],
                            capture_output=True, text=True, check=False)
    assert result.returncode == 0, result.stdout + result.stderr


def test_provisioning_env_vars_are_all_given_to_grafana() -> None:
    given = set(GRAFANA["environment"])
    for path in PROVISIONING.rglob("*.yaml"):
        yaml.safe_load(path.read_text())  # parses
        if path.parent.name == "alerting":  # only contact-point settings expand env vars we use there
            refs = _env_refs(yaml.safe_dump(ALERTING["contactPoints"]))
        else:
            refs = _env_refs(yaml.safe_dump(yaml.safe_load(path.read_text())))  # values, not comments
        assert refs <= given, f"{path.name} needs {refs - given} in the grafana service environment"


def test_mounts_match_the_provisioning_paths() -> None:
    mounts = dict(m.rsplit(":", 1)[0].split(":", 1) for m in GRAFANA["volumes"] if m.startswith("."))
    assert mounts["./deploy/grafana/provisioning"] == "/etc/grafana/provisioning"
    provider = yaml.safe_load((PROVISIONING / "dashboards" / "emberwatch.yaml").read_text())["providers"][0]
    assert mounts["./deploy/grafana/dashboards"] == provider["options"]["path"]
    home = GRAFANA["environment"]["GF_DASHBOARDS_DEFAULT_HOME_DASHBOARD_PATH"]
    assert Path(home).name in BOARDS and home.startswith(provider["options"]["path"])


def test_datasource_speaks_influxql_to_the_compose_influxdb() -> None:
    assert DATASOURCE["type"] == "influxdb" and DATASOURCE["access"] == "proxy"
    assert "version" not in DATASOURCE.get("jsonData", {})  # Flux/SQL modes would not run these queries
    assert DATASOURCE["jsonData"]["dbName"] == "$GRAFANA_INFLUX_DB"
    assert set(DATASOURCE["secureJsonData"]) == {"password"}


@pytest.mark.parametrize("name", sorted(BOARDS))
def test_dashboard_structure(name: str) -> None:
    board = BOARDS[name]
    assert board["uid"] == Path(name).stem and len(board["uid"]) <= 40
    variables = {v["name"]: v for v in board["templating"]["list"]}
    assert variables["datasource"]["type"] == "datasource" and variables["datasource"]["query"] == "influxdb"
    for var in ("site", "node"):
        assert variables[var]["multi"] and variables[var]["includeAll"], var
        assert variables[var]["datasource"]["uid"] == "${datasource}"
    assert "$site" in variables["node"]["query"]  # nodes follow the chosen sites
    ids = [p["id"] for p in panels(board)]
    assert len(ids) == len(set(ids))
    cells: set[tuple[int, int]] = set()
    for p in panels(board):
        g = p["gridPos"]
        mine = {(x, y) for x in range(g["x"], g["x"] + g["w"]) for y in range(g["y"], g["y"] + g["h"])}
        assert not mine & cells, f"{p['title']} overlaps another panel"
        assert g["x"] + g["w"] <= 24
        cells |= mine
        assert p["datasource"]["uid"] == "${datasource}" and p["description"]
        for t in p["targets"]:
            assert t["rawQuery"] is True and t["resultFormat"] in ("table", "time_series")
            used = set(re.findall(r"\$\{?(\w+)", t["query"]))
            assert used <= set(variables) | {"timeFilter", "__interval", "__range_s"}, used


def test_every_panel_query_filters_on_site_and_node() -> None:
    for q in panel_queries():
        if '"rollup"."heartbeat_site_1h"' in q.query or '"fire_weather"' in q.query:  # per-site: no node to filter on
            assert '"site" =~ /^$site$/ AND ' in q.query, (q.panel, q.ref_id)
        else:
            assert '"site" =~ /^$site$/ AND "node" =~ /^$node$/' in q.query, (q.panel, q.ref_id)
        if "GROUP BY time(" in q.query and not any(daily in q.query for daily in ('"rollup"."heartbeat_node_1d"',
                                                                               '"fire_weather"')):
            assert "GROUP BY time($__interval)" in q.query, (q.panel, "buckets follow the zoom level")


def test_fleet_scale_safeguards() -> None:
    """At 10,000 nodes: "All" is one short regex, variable queries read one measurement, no free text."""
    for board in BOARDS.values():
        for v in board["templating"]["list"]:
            assert v["type"] in ("datasource", "query", "custom", "constant"), f"{v['name']} is free text"
            if v.get("includeAll"):
                assert v["allValue"] == ".*", v["name"]
            if v["type"] == "query":
                assert v["query"].startswith('SHOW TAG VALUES FROM "heartbeat"'), v["name"]
    for name in ("emberwatch-alerts.json", "emberwatch-fleet.json"):  # the boards bench_dashboards.py times
        for p in panels(BOARDS[name]):
            # A time series per node at fleet scale is 10,000 lines: per-node panels aggregate (last,
            # count, bottom) or read the rollups.
            for t in p["targets"]:
                if t["resultFormat"] == "time_series" and '"node"' in t["query"].split("GROUP BY")[-1]:
                    assert p["type"] in ("state-timeline", "timeseries") and "alert" in t["query"] \
                        or p["type"] == "state-timeline", p["title"]


def test_dashboard_covers_the_operator_views() -> None:
    kinds = {(name, p["type"], p["title"]) for name, b in BOARDS.items() for p in panels(b)}
    titles = {t for _, _, t in kinds}
    assert {"Alert history", "Alert rate", "Node map", "Battery by site", "Fewest days of battery left (20 nodes)",
            "Lowest batteries (20 nodes)", "Offline nodes", "Nodes offline", "Online / offline history"} <= titles
    assert ("emberwatch-alerts.json", "geomap", "Node map") in kinds
    (node_map,) = [p for p in panels(BOARDS["emberwatch-alerts.json"]) if p["type"] == "geomap"]
    layer = node_map["options"]["layers"][0]
    assert layer["location"] == {"mode": "coords", "latitude": "lat", "longitude": "lon"}
    assert layer["config"]["style"]["color"]["field"] == "online"
    assert [t["id"] for t in node_map["transformations"]] == ["organize", "merge"]


def test_alert_rule_is_complete_and_points_at_real_things() -> None:
    (group,) = ALERTING["groups"]
    (rule,) = group["rules"]
    refs = {d["refId"]: d for d in rule["data"]}
    assert rule["condition"] in refs
    assert refs["A"]["datasourceUid"] == DATASOURCE["uid"]
    assert refs["B"]["model"]["expression"] == "A" and refs["C"]["model"]["expression"] == "B"
    assert refs["C"]["model"]["conditions"][0]["evaluator"] == {"type": "gt", "params": [0]}
    assert rule["noDataState"] == "OK"  # no alert rows = a quiet forest, not a broken rule
    # Dashboards go to a folder made by uid; alert rules (title-only provisioning, grafana#125079) to a
    # folder of another title, so Grafana never holds two folders of one name.
    provider = yaml.safe_load((PROVISIONING / "dashboards" / "emberwatch.yaml").read_text())["providers"][0]
    assert provider["folderUid"] == "emberwatch" and group["folder"] != provider["folder"]
    # Labels are env-expanded by Grafana's provisioning; a $ there would silently vanish.
    assert not any("$" in str(v) for v in rule["labels"].values())
    board = BOARDS[rule["annotations"]["__dashboardUid__"] + ".json"]
    panel_ids = {str(p["id"]): p["title"] for p in panels(board)}
    assert "Incidents" in panel_ids.values()
    # One rule, keyed to incidents: a node alert alone never pages (issue #13).
    assert 'FROM "incident"' in refs["A"]["model"]["query"] and '"incident"' in refs["A"]["model"]["query"].split("GROUP BY")[-1]
    receivers = {cp["name"] for cp in ALERTING["contactPoints"]}
    assert {p["receiver"] for p in ALERTING["policies"]} <= receivers
    (receiver,) = ALERTING["contactPoints"][0]["receivers"]
    assert receiver["settings"]["url"] == "$GRAFANA_ALERT_WEBHOOK_URL"  # placeholder comes from .env
