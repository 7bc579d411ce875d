"""Read the provisioned dashboards and expand their InfluxQL the way Grafana does.

Grafana's InfluxDB datasource (public/app/plugins/datasource/influxdb/datasource.ts):
- `$timeFilter` -> `time >= <from>ms and time <= <to>ms` for an absolute range;
- `$__interval` -> the bucket width it picked (e.g. `1h`);
- a multi-value or include-All variable inside a regex -> its values regex-escaped and joined as
  `(a|b)` (a single value stays bare); "All" means the variable's custom all-value, as is, or
  without one every option joined the same way;
- `$__range_s` -> the range's length in seconds (a Grafana global variable);
- any other variable (textbox, constant) -> its text as is.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
DASHBOARD_DIR = ROOT / "deploy" / "grafana" / "dashboards"

_REGEX_SPECIAL = re.compile(r"([\\/^$.|?*+()\[\]{}])")


@dataclass(frozen=True)
class PanelQuery:
    dashboard: str
    panel: str
    ref_id: str
    query: str
    result_format: str


def load_dashboards() -> dict[str, dict]:
    return {p.name: json.loads(p.read_text()) for p in sorted(DASHBOARD_DIR.glob("*.json"))}


def panels(board: dict) -> Iterator[dict]:
    for p in board["panels"]:
        yield p
        yield from p.get("panels", [])  # panels inside collapsed rows


def panel_queries() -> list[PanelQuery]:
    out = []
    for name, board in load_dashboards().items():
        for p in panels(board):
            for t in p.get("targets", []):
                out.append(PanelQuery(name, p["title"], t["refId"], t["query"], t.get("resultFormat", "time_series")))
    return out


def variable_queries() -> dict[str, str]:
    """name -> query of every query-type template variable (identical across dashboards)."""
    out: dict[str, str] = {}
    for board in load_dashboards().values():
        for v in board["templating"]["list"]:
            if v["type"] == "query":
                assert out.setdefault(v["name"], v["query"]) == v["query"], f"variable {v['name']} differs"
    return out


def all_values() -> dict[str, str]:
    """name -> custom all-value of every variable that has one (identical across dashboards)."""
    out: dict[str, str] = {}
    for board in load_dashboards().values():
        for v in board["templating"]["list"]:
            if v.get("includeAll") and v.get("allValue"):
                assert out.setdefault(v["name"], v["allValue"]) == v["allValue"], f"variable {v['name']} differs"
    return out


def regex_value(values: list[str]) -> str:
    escaped = [_REGEX_SPECIAL.sub(r"\\\1", v) for v in values]
    return escaped[0] if len(escaped) == 1 else "(" + "|".join(escaped) + ")"


def interpolate(query: str, *, from_ms: int, to_ms: int, interval: str = "1m",
                multi: dict[str, list[str] | None] | None = None, text: dict[str, str] | None = None,
                options: dict[str, list[str]] | None = None) -> str:
    """Expand a dashboard query for one absolute time range and variable selection.

    A `multi` value of None is "All": the variable's all-value, else every one of its `options`.
    """
    out = query.replace("$timeFilter", f"time >= {from_ms}ms and time <= {to_ms}ms")
    out = out.replace("$__interval_ms", str(_interval_ms(interval))).replace("$__interval", interval)
    range_s = str(round((to_ms - from_ms) / 1000))  # Grafana's global $__range_s
    out = out.replace("${__range_s}", range_s).replace("$__range_s", range_s)
    # Longest names first so $node never eats the start of a $node_group.
    alls = all_values()
    values = {**{k: (regex_value(v) if v is not None else alls.get(k) or regex_value((options or {})[k]))
                 for k, v in (multi or {}).items()}, **(text or {})}
    for name in sorted(values, key=len, reverse=True):
        out = out.replace("${" + name + "}", values[name]).replace("$" + name, values[name])
    leftover = re.findall(r"\$\{?\w+", out)
    if leftover:
        raise ValueError(f"unexpanded variables {leftover} in {out!r}")
    return out


def _interval_ms(interval: str) -> int:
    number, unit = re.fullmatch(r"(\d+)(ms|s|m|h|d)", interval).groups()  # type: ignore[union-attr]
    return int(number) * {"ms": 1, "s": 1000, "m": 60_000, "h": 3_600_000, "d": 86_400_000}[unit]
