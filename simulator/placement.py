"""Where nodes stand: on a grid, at random, or from a CSV file of positions.

Positions are metres east (x) and north (y) of the site origin. Node ids follow
the wire schema (1-32 chars of [A-Za-z0-9_-]).
"""

import csv
import math
from pathlib import Path

import numpy as np

from edge_node.core.schema import is_valid_id


class PlacementError(ValueError):
    """A node layout that cannot be used; the message names every problem found."""


class Placement:
    """Node ids and positions (x_m, y_m as float64 arrays of equal length)."""

    def __init__(self, node_ids: list[str], x_m: np.ndarray, y_m: np.ndarray) -> None:
        self.node_ids = node_ids
        self.x_m = np.asarray(x_m, dtype=np.float64)
        self.y_m = np.asarray(y_m, dtype=np.float64)

    def __len__(self) -> int:
        return len(self.node_ids)

    def bounds_m(self) -> tuple[float, float, float, float]:
        return float(self.x_m.min()), float(self.y_m.min()), float(self.x_m.max()), float(self.y_m.max())


def node_ids_for(n_nodes: int) -> list[str]:
    width = max(4, len(str(n_nodes - 1)))
    return ["n" + str(i).zfill(width) for i in range(n_nodes)]


def grid_placement(n_nodes: int, spacing_m: float) -> Placement:
    """A square-ish grid filled row by row, origin at the south-west corner."""
    if n_nodes < 1:
        raise PlacementError("need at least one node")
    cols = math.ceil(math.sqrt(n_nodes))
    idx = np.arange(n_nodes)
    return Placement(node_ids_for(n_nodes), (idx % cols) * spacing_m, (idx // cols) * spacing_m)


def random_placement(n_nodes: int, spacing_m: float, rng: np.random.Generator) -> Placement:
    """Uniform over the square a grid of the same density would cover."""
    if n_nodes < 1:
        raise PlacementError("need at least one node")
    side_m = math.ceil(math.sqrt(n_nodes)) * spacing_m
    return Placement(node_ids_for(n_nodes), rng.uniform(0, side_m, n_nodes), rng.uniform(0, side_m, n_nodes))


def csv_placement(path: str | Path, max_extent_m: float = 100_000.0) -> Placement:
    """Read `node,x_m,y_m` rows (header required). Reports every bad row at once."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise PlacementError(f"cannot read node positions from {path}: {exc.strerror or exc}") from exc
    rows = list(csv.reader(text.splitlines()))
    if not rows:
        raise PlacementError(f"{path}: empty file, expected a header `node,x_m,y_m`")
    header = [h.strip() for h in rows[0]]
    missing = [c for c in ("node", "x_m", "y_m") if c not in header]
    if missing:
        raise PlacementError(f"{path}: header {header} lacks column(s) {', '.join(missing)}")
    col = {name: header.index(name) for name in ("node", "x_m", "y_m")}
    problems: list[str] = []
    ids: list[str] = []
    xs: list[float] = []
    ys: list[float] = []
    seen: dict[str, int] = {}
    for line_no, row in enumerate(rows[1:], start=2):
        if not any(cell.strip() for cell in row):
            continue
        if len(row) < len(header):
            problems.append(f"line {line_no}: expected {len(header)} columns, got {len(row)}")
            continue
        node = row[col["node"]].strip()
        if not is_valid_id(node):
            problems.append(f"line {line_no}: node id {node!r} must be 1-32 chars of [A-Za-z0-9_-]")
        elif node in seen:
            problems.append(f"line {line_no}: node id {node!r} already used on line {seen[node]}")
        else:
            seen[node] = line_no
        coords = []
        for name in ("x_m", "y_m"):
            cell = row[col[name]].strip()
            try:
                value = float(cell)
            except ValueError:
                problems.append(f"line {line_no}: {name} {cell!r} is not a number")
                continue
            if not math.isfinite(value) or abs(value) > max_extent_m:
                problems.append(f"line {line_no}: {name}={cell} outside +-{max_extent_m:g} m")
                continue
            coords.append(value)
        if len(coords) == 2:
            ids.append(node)
            xs.append(coords[0])
            ys.append(coords[1])
    if not ids and not problems:
        problems.append("no node rows after the header")
    if problems:
        shown = problems[:20] + ([f"... and {len(problems) - 20} more"] if len(problems) > 20 else [])
        raise PlacementError(f"{path}: {len(problems)} problem(s):\n  " + "\n  ".join(shown))
    return Placement(ids, np.array(xs), np.array(ys))


def write_placement_csv(placement: Placement, path: str | Path) -> None:
    with open(path, "w", newline="", encoding="utf-8") as fh:
        writer = csv.writer(fh)
        writer.writerow(["node", "x_m", "y_m"])
        for node, x, y in zip(placement.node_ids, placement.x_m, placement.y_m):
            writer.writerow([node, f"{x:.1f}", f"{y:.1f}"])
