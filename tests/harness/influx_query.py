"""Read back what the gateway stored: InfluxQL over the v1 /query API (every InfluxDB generation serves it)."""

from __future__ import annotations

import json
import urllib.parse
import urllib.request


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
