"""Read back what the gateway stored: InfluxQL over the v1 /query API (every InfluxDB generation serves it)."""

from __future__ import annotations

import contextlib
import json
import urllib.parse
import urllib.request

from tests.harness.servers import wait_until


def influxql(port: int, query: str, db: str = "emberwatch") -> list[dict]:
    """Rows of the first statement's series, as dicts (time in epoch ms), tags merged in."""
    url = f"http://127.0.0.1:{port}/query?" + urllib.parse.urlencode({"db": db, "q": query, "epoch": "ms"})
    with urllib.request.urlopen(url, timeout=10) as resp:
        body = json.load(resp)
    result = body["results"][0]
    if "error" in result:
        raise RuntimeError(f"InfluxQL error for {query!r}: {result['error']}")
    rows: list[dict] = []
    for series in result.get("series", []):
        tags = series.get("tags", {})
        for values in series["values"]:
            rows.append({**tags, **dict(zip(series["columns"], values))})
    return rows


def stored_rows(port: int, query: str, db: str) -> list[dict]:
    """influxql, but no rows (instead of an error) while the gateway has not created the database yet."""
    try:
        return influxql(port, query, db)
    except RuntimeError as exc:
        if "database not found" in str(exc):
            return []
        raise


def stored_alert_keys(port: int, db: str) -> set[tuple[str, int]]:
    return {(r["node"], r["seq"]) for r in stored_rows(port, "SELECT seq, node FROM alert", db)}


def wait_all_stored(port: int, db: str, expected: set[tuple[str, int]], timeout_s: float) -> None:
    """Wait until the alerts stored are exactly these (node, seq); else say how many are missing."""
    last: set[tuple[str, int]] = set()

    def done() -> bool:
        nonlocal last
        last = stored_alert_keys(port, db)
        return last == expected

    try:
        wait_until(done, timeout_s, "every alert stored", interval_s=0.5)
    except TimeoutError:
        raise AssertionError(f"{len(expected - last)} alerts missing, {len(last - expected)} unexpected, "
                             f"e.g. missing {sorted(expected - last)[:5]}") from None


def wait_stored_but_for(port: int, db: str, expected: set[tuple[str, int]], may_lose: set[tuple[str, int]],
                        timeout_s: float, settle_s: float = 3.0) -> set[tuple[str, int]]:
    """Wait until every alert of expected outside may_lose is stored, then up to settle_s for the
    rest; assert nothing else and nothing twice is stored. Returns the alerts of may_lose still missing."""
    keys: list[tuple[str, int]] = []

    def stored_all(wanted: set[tuple[str, int]]) -> bool:
        nonlocal keys
        keys = [(r["node"], r["seq"]) for r in stored_rows(port, "SELECT seq, node FROM alert", db)]
        return wanted <= set(keys)

    required = expected - may_lose
    try:
        wait_until(lambda: stored_all(required), timeout_s, "every alert that may not be lost stored", interval_s=0.5)
    except TimeoutError:
        missing = required - set(keys)
        raise AssertionError(f"{len(missing)} alerts missing that may not be lost (of {len(required)}), "
                             f"e.g. {sorted(missing)[:5]}") from None
    with contextlib.suppress(TimeoutError):
        wait_until(lambda: stored_all(expected), settle_s, "the alerts that may be lost", interval_s=0.5)
    stored = set(keys)
    assert stored <= expected, f"{len(stored - expected)} unexpected alerts, e.g. {sorted(stored - expected)[:5]}"
    assert len(keys) == len(stored), f"{len(keys) - len(stored)} alerts stored twice"
    return expected - stored
