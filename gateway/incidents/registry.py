"""Node positions from a registry file: CSV with a `site,node,lat,lon` header, or JSON (a list of
objects with those keys). For nodes without GPS; a heartbeat's own position wins when it has one."""

from __future__ import annotations

import csv
import io
import json
import math
from pathlib import Path

from edge_node.core.schema import is_valid_id


class RegistryError(ValueError):
    """A registry file that cannot be used; the message names every problem."""


def load_registry(path: str | Path) -> list[tuple[str, str, float, float]]:
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise RegistryError(f"cannot read node registry {path}: {exc.strerror or exc}") from exc
    if text.lstrip().startswith(("[", "{")):
        try:
            data = json.loads(text)
        except ValueError as exc:
            raise RegistryError(f"{path}: not valid JSON: {exc}") from exc
        rows = data.get("nodes", []) if isinstance(data, dict) else data
        if not isinstance(rows, list) or not all(isinstance(r, dict) for r in rows):
            raise RegistryError(f"{path}: expected a list of {{site, node, lat, lon}} objects")
        numbered = [(i + 1, r) for i, r in enumerate(rows)]
        where = "entry"
    else:
        reader = csv.DictReader(io.StringIO(text))
        missing = [c for c in ("site", "node", "lat", "lon") if c not in (reader.fieldnames or [])]
        if missing:
            raise RegistryError(f"{path}: header lacks column(s) {', '.join(missing)}")
        numbered = [(i + 2, r) for i, r in enumerate(reader)]
        where = "line"
    out, problems = [], []
    for number, row in numbered:
        site, node = str(row.get("site", "")).strip(), str(row.get("node", "")).strip()
        try:
            lat, lon = float(row.get("lat")), float(row.get("lon"))  # type: ignore[arg-type]
        except (TypeError, ValueError):
            problems.append(f"{where} {number}: lat/lon must be numbers")
            continue
        if not (is_valid_id(site) and is_valid_id(node)):
            problems.append(f"{where} {number}: site and node must be 1-32 chars of [A-Za-z0-9_-]")
        elif not (math.isfinite(lat) and math.isfinite(lon) and -90 <= lat <= 90 and -180 <= lon <= 180):
            problems.append(f"{where} {number}: lat/lon outside the globe")
        else:
            out.append((site, node, lat, lon))
    if problems:
        shown = problems[:20] + ([f"... and {len(problems) - 20} more"] if len(problems) > 20 else [])
        raise RegistryError(f"{path}: {len(problems)} problem(s):\n  " + "\n  ".join(shown))
    return out
