"""The compose InfluxDB users (admin, gateway on its own database, read-only Grafana) on a real auth-enabled InfluxDB.

The influxdb 1.x image creates them from INFLUXDB_ADMIN_USER / INFLUXDB_USER /
INFLUXDB_READ_USER with CREATE USER + GRANT ALL ON <db> / GRANT READ; this does the same on
Debian's 1.6.7 with `auth-enabled = true` and checks each user can do its job and no more.
"""

from __future__ import annotations

import base64
import json
import os
import subprocess
import sys
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

from gateway.config import GatewayConfig
from gateway.influx_sink import open_influx_sink
from tests.deploy.grafana_influxql import interpolate, panel_queries, variable_queries
from tests.harness import servers

pytestmark = pytest.mark.integration

DB = "emberwatch"
ROOT = Path(__file__).resolve().parents[2]
USERS = {"admin": "admin-pw", "emberwatch_gateway": "writer-pw", "emberwatch_grafana": "reader-pw"}


def call(port: int, path: str, params: dict[str, str], user: str | None, body: bytes | None = None) -> int:
    url = f"http://127.0.0.1:{port}{path}?" + urllib.parse.urlencode(params)
    headers = {}
    if user:  # basic auth, as the gateway and Grafana send it
        headers["Authorization"] = "Basic " + base64.b64encode(f"{user}:{USERS[user]}".encode()).decode()
    request = urllib.request.Request(url, data=body, headers=headers, method="POST" if body is not None else "GET")
    try:
        with urllib.request.urlopen(request, timeout=10) as resp:
            payload = resp.read()
            if path == "/query" and b'"error"' in payload:
                raise AssertionError(json.loads(payload))
            return resp.status
    except urllib.error.HTTPError as exc:
        return exc.code


@pytest.fixture(scope="module")
def auth_influx(tmp_path_factory: pytest.TempPathFactory) -> Iterator[int]:
    server = servers.influxdb(Path(tmp_path_factory.mktemp("influx-auth")))
    conf = server.workdir / "influxdb.conf"
    conf.write_text(conf.read_text().replace("[http]\n", "[http]\n  auth-enabled = true\n", 1))
    server.start()
    port = server.port
    # With no user yet, 1.x lets the first admin be created anonymously (the image's init does this).
    setup = [(None, f"CREATE USER admin WITH PASSWORD '{USERS['admin']}' WITH ALL PRIVILEGES"),
             ("admin", f"CREATE DATABASE {DB}"),
             ("admin", f"CREATE USER emberwatch_gateway WITH PASSWORD '{USERS['emberwatch_gateway']}'"),
             ("admin", f"GRANT ALL ON {DB} TO emberwatch_gateway"),
             ("admin", f"CREATE USER emberwatch_grafana WITH PASSWORD '{USERS['emberwatch_grafana']}'"),
             ("admin", f"GRANT READ ON {DB} TO emberwatch_grafana")]
    for user, statement in setup:
        assert call(port, "/query", {"q": statement}, user, b"") == 200, statement
    # The compose stack's influxdb-init step: the rollups the dashboards read, made with the admin login.
    done = _influx_setup(port, "admin")
    assert done.returncode == 0, done.stderr
    yield port
    server.stop()


def _influx_setup(port: int, user: str) -> subprocess.CompletedProcess:
    env = {**os.environ, "EMBERWATCH_INFLUX_URL": f"http://127.0.0.1:{port}", "EMBERWATCH_INFLUX_DB": DB,
           "EMBERWATCH_INFLUX_ADMIN_USERNAME": user, "EMBERWATCH_INFLUX_ADMIN_PASSWORD": USERS[user]}
    return subprocess.run([sys.executable, "-m", "emberwatch.cli", "influx-setup"], cwd=ROOT, env=env,
                          capture_output=True, text=True, timeout=60, check=False)


def test_only_the_admin_can_make_the_rollups(auth_influx: int) -> None:
    refused = _influx_setup(auth_influx, "emberwatch_gateway")
    assert refused.returncode == 1 and "influx-setup:" in refused.stderr
    assert "InfluxDB answered 403" in refused.stderr or "authorized" in refused.stderr


def line(now_ms: int) -> bytes:
    return (f"heartbeat,site=s1,node=n1 seq=1i,battery_mv=3900i,temp_c=20.0,rh_pct=40.0,gas_index=-3.0,queued=0i,"
            f"lat=45.0,lon=6.0 {now_ms}\nnode_state,site=s1,node=n1 state=\"online\",online=1i,reason=\"status\" "
            f"{now_ms}\nalert,site=s1,node=n1 seq=2i,score=900i,threshold=500i,temp_c=60.0,rh_pct=10.0,gas=1i,"
            f"gas_index=-9.0,battery_mv=3900i {now_ms}").encode()


def test_each_user_can_do_its_job_and_no_more(auth_influx: int) -> None:
    now_ms = int(time.time() * 1000)
    write = {"db": DB, "precision": "ms"}
    select = {"db": DB, "q": "SELECT count(seq) FROM heartbeat"}
    assert call(auth_influx, "/write", write, None, line(now_ms)) == 401
    assert call(auth_influx, "/write", write, "emberwatch_grafana", line(now_ms)) == 403
    assert call(auth_influx, "/write", write, "emberwatch_gateway", line(now_ms)) == 204
    assert call(auth_influx, "/query", select, None) == 401
    # The gateway reads its own database back at start (open incidents, fire-weather codes), nothing else.
    assert call(auth_influx, "/query", select, "emberwatch_gateway") == 200
    assert call(auth_influx, "/query", {"db": "_internal", "q": "SHOW MEASUREMENTS"}, "emberwatch_gateway") == 403
    assert call(auth_influx, "/query", select, "emberwatch_grafana") == 200
    assert call(auth_influx, "/query", {"q": "CREATE DATABASE other"}, "emberwatch_gateway", b"") == 403


def test_grafana_read_only_user_can_run_every_dashboard_query(auth_influx: int) -> None:
    now_ms = int(time.time() * 1000)
    assert call(auth_influx, "/write", {"db": DB, "precision": "ms"}, "emberwatch_gateway", line(now_ms)) == 204
    queries = [q.query for q in panel_queries()] + list(variable_queries().values())
    for query in queries:
        expanded = interpolate(query, from_ms=now_ms - 3_600_000, to_ms=now_ms + 60_000,
                               multi={"site": ["s1"], "node": ["n1"]})
        assert call(auth_influx, "/query", {"db": DB, "q": expanded}, "emberwatch_grafana") == 200, expanded


def test_gateway_v1_sink_starts_with_the_write_only_user(auth_influx: int) -> None:
    config = GatewayConfig.from_env({
        "EMBERWATCH_INFLUX_URL": f"http://127.0.0.1:{auth_influx}", "EMBERWATCH_INFLUX_API": "v1",
        "EMBERWATCH_INFLUX_DB": DB, "EMBERWATCH_INFLUX_USERNAME": "emberwatch_gateway",
        "EMBERWATCH_INFLUX_PASSWORD": USERS["emberwatch_gateway"]})
    sink = open_influx_sink(config.store)  # its CREATE DATABASE gets 403 and must not stop it
    try:
        sink.write_lines(["alert,site=users,node=n1 seq=7i 1000"])
    finally:
        sink.close()
    url = f"http://127.0.0.1:{auth_influx}/query?" + urllib.parse.urlencode(
        {"db": DB, "q": "SELECT seq FROM alert WHERE site = 'users'"})
    auth = base64.b64encode(f"admin:{USERS['admin']}".encode()).decode()
    with urllib.request.urlopen(urllib.request.Request(url, headers={"Authorization": "Basic " + auth})) as resp:
        assert json.load(resp)["results"][0]["series"][0]["values"][0][1] == 7
