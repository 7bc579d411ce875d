"""`emberwatch alerts`: the same table from the SQLite store and from a real InfluxDB 1.6.7."""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import pytest

from edge_node.core import schema
from emberwatch.cli import main
from gateway import alerts_command
from gateway.config import store_from_env
from gateway.ingest import Ingest
from gateway.service import open_sink

NOW_S = time.time()


def stored_alerts(env: dict[str, str]) -> None:
    """Three alerts through the real ingest and sink: two recent at two sites, one two days old."""
    ingest = Ingest()
    events = []
    for site, node, seq, age_s in (("ridge", "n01", 1, 3600), ("ridge", "n02", 5, 600), ("valley", "n01", 2, 2 * 86400)):
        t_ms = int((NOW_S - age_s) * 1000)
        payload = schema.encode_alert(node, seq, t_ms, 900, 500, 4520, 1800, 12000, -3400, 3650)
        events.append((ingest.accept(schema.topic(site, node, "alert"), payload), t_ms))
    sink = open_sink(store_from_env(env))
    sink.write(events)
    sink.close()


def run(env: dict[str, str], monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str],
        *argv: str) -> tuple[int, list[str]]:
    for key in ("EMBERWATCH_INFLUX_URL", "EMBERWATCH_SQLITE_PATH", "EMBERWATCH_INFLUX_DB"):
        monkeypatch.delenv(key, raising=False)
    for key, value in env.items():
        monkeypatch.setenv(key, value)
    code = main(["alerts", *argv])
    out = capsys.readouterr()
    return code, (out.out + out.err).strip().splitlines()


def check_table(env: dict[str, str], monkeypatch, capsys) -> None:
    code, lines = run(env, monkeypatch, capsys, "--since", "24h")
    assert code == 0
    assert lines[0].split() == list(alerts_command.COLUMNS)
    assert [line.split()[2:5] for line in lines[1:-1]] == [["ridge", "n01", "1"], ["ridge", "n02", "5"]]
    assert lines[1].split()[5:] == ["900", "500", "45.20", "18.00", "-13.28", "3650"]
    assert lines[-1].startswith("2 alert(s) since")
    code, lines = run(env, monkeypatch, capsys, "--since", "3d", "--node", "n01")
    assert [line.split()[2:5] for line in lines[1:-1]] == [["valley", "n01", "2"], ["ridge", "n01", "1"]]
    code, lines = run(env, monkeypatch, capsys, "--since", "3d", "--site", "valley")
    assert len(lines) == 3 and lines[1].split()[2] == "valley"


def test_alert_table_from_sqlite(tmp_path: Path, monkeypatch, capsys) -> None:
    env = {"EMBERWATCH_SQLITE_PATH": str(tmp_path / "store.db")}
    stored_alerts(env)
    check_table(env, monkeypatch, capsys)


@pytest.mark.integration
def test_alert_table_from_influxdb(influx_server, monkeypatch, capsys) -> None:
    env = {"EMBERWATCH_INFLUX_URL": f"http://127.0.0.1:{influx_server.port}", "EMBERWATCH_INFLUX_DB": "alerts_cmd"}
    stored_alerts(env)
    check_table(env, monkeypatch, capsys)
    code, lines = run({**env, "EMBERWATCH_INFLUX_DB": "never_written"}, monkeypatch, capsys)
    assert code == 0 and lines[-1].startswith("0 alert(s)")


def test_bad_arguments_and_unreachable_store_are_clear_errors(tmp_path: Path, monkeypatch, capsys) -> None:
    with pytest.raises(argparse.ArgumentTypeError):
        alerts_command.parse_since_s("yesterday")
    assert alerts_command.parse_since_s("90m") == 5400
    with pytest.raises(SystemExit):
        run({}, monkeypatch, capsys, "--site", "a'; DROP")
    code, lines = run({"EMBERWATCH_SQLITE_PATH": str(tmp_path / "none.db")}, monkeypatch, capsys)
    assert code == 1 and "no SQLite store" in lines[-1]
    code, lines = run({"EMBERWATCH_INFLUX_URL": "http://127.0.0.1:9"}, monkeypatch, capsys)
    assert code == 1 and "cannot query InfluxDB" in lines[-1]
    code, lines = run({}, monkeypatch, capsys)
    text = "\n".join(lines)
    assert code == 2 and "EMBERWATCH_INFLUX_URL" in text and "--influx-url or --sqlite" in text
    assert "gateway" not in text  # this is not the gateway's configuration
    with pytest.raises(SystemExit):
        run({}, monkeypatch, capsys, "--format", "xml")
    assert "argument --format: invalid choice: 'xml'" in capsys.readouterr().err


def test_json_and_csv_for_tools(tmp_path: Path, monkeypatch, capsys) -> None:
    import csv
    import io
    import json

    env = {"EMBERWATCH_SQLITE_PATH": str(tmp_path / "store.db")}
    stored_alerts(env)
    for key in ("EMBERWATCH_INFLUX_URL", "EMBERWATCH_SQLITE_PATH"):
        monkeypatch.delenv(key, raising=False)
    monkeypatch.setenv("EMBERWATCH_SQLITE_PATH", env["EMBERWATCH_SQLITE_PATH"])
    assert main(["alerts", "--since", "24h", "--format", "json"]) == 0
    records = json.loads(capsys.readouterr().out)
    assert [(r["site"], r["node"], r["seq"], r["temp_c"], r["battery_mv"]) for r in records] == [
        ("ridge", "n01", 1, 45.2, 3650), ("ridge", "n02", 5, 45.2, 3650)]
    assert records[0]["time"].endswith("Z") and list(records[0]) == list(alerts_command.COLUMNS)
    assert main(["alerts", "--since", "24h", "--format", "csv"]) == 0
    rows = list(csv.DictReader(io.StringIO(capsys.readouterr().out)))
    assert [r["node"] for r in rows] == ["n01", "n02"] and rows[0]["gas_index"] == "-13.28125"


def test_a_sqlite_store_is_read_whole_by_default(tmp_path: Path, monkeypatch, capsys) -> None:
    """The demo's store holds simulated time (not today): without --since every alert shows."""
    env = {"EMBERWATCH_SQLITE_PATH": str(tmp_path / "store.db")}
    stored_alerts(env)
    code, lines = run(env, monkeypatch, capsys)
    assert code == 0 and lines[-1] == "3 alert(s) since the beginning"
    code, lines = run(env, monkeypatch, capsys, "--since", "all")
    assert lines[-1] == "3 alert(s) since the beginning"
