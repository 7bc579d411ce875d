"""`emberwatch influx-setup` on a real InfluxDB 1.6.7: rollups created once, idempotent, backfilled."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from gateway.influx_rollups import ROLLUP_RP, ROLLUPS, InfluxAdmin, continuous_query
from tests.harness import servers
from tests.harness.influx_query import influxql

pytestmark = pytest.mark.integration
ROOT = Path(__file__).resolve().parents[2]


def _setup(port: int, db: str, *extra: str) -> subprocess.CompletedProcess:
    env = {**os.environ, "EMBERWATCH_INFLUX_URL": f"http://127.0.0.1:{port}", "EMBERWATCH_INFLUX_DB": db}
    return subprocess.run([sys.executable, "-m", "emberwatch.cli", "influx-setup", *extra], cwd=ROOT, env=env,
                          capture_output=True, text=True, timeout=60, check=False)


def _cqs(port: int, db: str) -> dict[str, str]:
    rows = InfluxAdmin(f"http://127.0.0.1:{port}").query("SHOW CONTINUOUS QUERIES")[0].get("series", [])
    return {v[0]: v[1] for s in rows if s["name"] == db for v in s.get("values", [])}


def test_setup_creates_rollups_once_and_backfills(influx_server: servers.ManagedServer) -> None:
    port, db = influx_server.port, "setup_rollups"
    first = _setup(port, db)
    assert first.returncode == 0, first.stderr
    assert "continuous query heartbeat_site_1h" in first.stdout
    assert set(_cqs(port, db)) == {r.name for r in ROLLUPS}
    policies = {r["name"]: r for r in influxql(port, "SHOW RETENTION POLICIES", db)}
    assert policies[ROLLUP_RP]["duration"] == "43800h0m0s"

    # Again: nothing to change, so nothing is dropped and re-created.
    again = _setup(port, db)
    assert again.returncode == 0 and "continuous query" not in again.stdout, again.stdout

    # An outdated continuous query (an older release's) is replaced.
    admin = InfluxAdmin(f"http://127.0.0.1:{port}")
    admin.query(f'DROP CONTINUOUS QUERY "heartbeat_node_1d" ON "{db}"')
    admin.query(continuous_query(db, ROLLUPS[1]).replace('count("seq") AS "heartbeats", ', ""))
    assert "continuous query heartbeat_node_1d" in _setup(port, db).stdout
    assert 'count("seq")' in _cqs(port, db)["heartbeat_node_1d"] or "count(seq)" in _cqs(port, db)["heartbeat_node_1d"]

    # History written before the setup reaches the rollups with --backfill.
    hour_ms = 3_600_000
    t = (int(time.time() * 1000) // hour_ms - 3) * hour_ms
    lines = "\n".join(f"heartbeat,site=s1,node=n{i} seq=1i,battery_mv=2900i,battery_pct={40 + i}i {t + i}" for i in range(3))
    import urllib.request

    urllib.request.urlopen(urllib.request.Request(f"http://127.0.0.1:{port}/write?db={db}&precision=ms",
                                                  data=lines.encode(), method="POST"), timeout=10)
    done = _setup(port, db, "--backfill", "1d")
    assert done.returncode == 0, done.stderr
    rows = influxql(port, f'SELECT * FROM "{ROLLUP_RP}"."heartbeat_site_1h"', db)
    assert [(r["site"], r["heartbeats"], r["battery_pct_min"], r["time"]) for r in rows] == [("s1", 3, 40, t)]


def test_setup_errors_name_the_flag() -> None:
    bad = subprocess.run([sys.executable, "-m", "emberwatch.cli", "influx-setup", "--influx-url", "ftp://x"],
                         cwd=ROOT, env={k: v for k, v in os.environ.items() if not k.startswith("EMBERWATCH_")},
                         capture_output=True, text=True, timeout=60, check=False)
    assert bad.returncode == 2 and "--influx-url" in bad.stderr and not bad.stdout
    unreachable = subprocess.run([sys.executable, "-m", "emberwatch.cli", "influx-setup", "--influx-url",
                                  f"http://127.0.0.1:{servers.free_port()}"], cwd=ROOT, capture_output=True, text=True,
                                 timeout=60, check=False)
    assert unreachable.returncode == 1 and "cannot reach InfluxDB" in unreachable.stderr
