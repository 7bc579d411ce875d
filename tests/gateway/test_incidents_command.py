"""`emberwatch incidents`: list, ack and resolve against the SQLite store and a real InfluxDB,
and a running engine honours an acknowledgement (it stops paging)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from gateway.config import StoreSettings
from gateway.incidents.engine import IncidentEngine
from gateway.incidents.processor import IncidentProcessor, rebuild
from gateway.incidents.store import open_store
from gateway.influx_sink import open_influx_sink
from gateway.sqlite_sink import SqliteSink
from tests.gateway.test_incident_engine import MIN, alert, feed, grid_engine
from tests.harness import servers

ROOT = Path(__file__).resolve().parents[2]


def cli(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "emberwatch.cli", "incidents", *args], cwd=ROOT,
                          capture_output=True, text=True, timeout=60)


def confirmed_incident(t0_ms: int) -> tuple[IncidentEngine, list]:
    engine = grid_engine()
    return engine, feed(engine, alert("n22", t0_ms), alert("n23", t0_ms + 2 * MIN))


def check_ack_and_resolve(store_args: list[str], settings: StoreSettings, sink, t0_ms: int) -> None:
    engine, transitions = confirmed_incident(t0_ms)
    sink.write([(t, t.t_ms) for t in transitions])
    inc_id = str(transitions[0].fields["incident"])
    listed = cli(*store_args, "--since", "3650d")
    assert listed.returncode == 0, listed.stderr
    assert inc_id in listed.stdout and "confirmed" in listed.stdout and "1 open, 0 closed" in listed.stdout

    assert cli(*store_args, "ack", inc_id).returncode == 2  # --by is required
    acked = cli(*store_args, "ack", inc_id[:8], "--by", "Ana Silva")
    assert acked.returncode == 0, acked.stderr
    assert f"incident {inc_id} acknowledged by Ana Silva" in acked.stdout

    # The running engine reads the acknowledgement and stops paging for this incident.
    processor = IncidentProcessor(engine, open_store(settings).operator_actions, since_ms=0)
    processor.tick(t0_ms + 3 * MIN)
    (update,) = processor.observe([(alert("n21", t0_ms + 4 * MIN), 0)], t0_ms + 4 * MIN)
    assert update.fields["incident"] == inc_id and update.fields["alerting"] == 0
    assert update.fields["acked_by"] == "Ana Silva"

    resolved = cli(*store_args, "resolve", inc_id, "--by", "Rui")
    assert resolved.returncode == 0, resolved.stderr
    again = cli(*store_args, "resolve", inc_id, "--by", "Rui")
    assert again.returncode == 1 and "already resolved" in again.stderr
    listed = cli(*store_args, "--since", "3650d")
    assert "resolved" in listed.stdout and "0 open, 1 closed" in listed.stdout and "Rui" in listed.stdout
    # A restarted gateway does not bring a resolved incident back.
    fresh = grid_engine()
    assert rebuild(fresh, open_store(settings), t0_ms + 5 * MIN) == 0


def test_ack_and_resolve_in_sqlite(tmp_path: Path) -> None:
    path = str(tmp_path / "store.sqlite")
    sink = SqliteSink(path)
    try:
        check_ack_and_resolve(["--sqlite", path], StoreSettings("sqlite", path), sink, 1_782_864_000_000)
    finally:
        sink.close()


@pytest.mark.integration
def test_ack_and_resolve_in_influxdb(influx_server: servers.ManagedServer) -> None:
    url, db = f"http://127.0.0.1:{influx_server.port}", "incidents_cli"
    settings = StoreSettings("influx", url, db, api="v1")
    sink = open_influx_sink(settings)
    try:
        check_ack_and_resolve(["--influx-url", url, "--influx-db", db], settings, sink, 1_782_864_000_000)
    finally:
        sink.close()


def test_unknown_incident_and_missing_store_are_clear_errors(tmp_path: Path) -> None:
    path = str(tmp_path / "empty.sqlite")
    SqliteSink(path).close()
    result = cli("--sqlite", path, "ack", "inc-nope", "--by", "x")
    assert result.returncode == 1 and "no incident with an id starting 'inc-nope'" in result.stderr
    result = cli("--sqlite", path, "resolve")
    assert result.returncode == 2 and "needs the incident id" in result.stderr
