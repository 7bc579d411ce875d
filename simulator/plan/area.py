"""The ground to cover: a rectangle or a GeoJSON polygon in site metres, and node layouts inside it."""

import json
import math
from pathlib import Path

import numpy as np

from simulator.fuel_map import polygon_mask


class AreaError(ValueError):
    """An area that cannot be planned; the message says why."""


class Area:
    """A polygon (exterior ring, counter- or clockwise) in metres east/north of the site origin."""

    def __init__(self, ring_m: list[tuple[float, float]], name: str = "") -> None:
        if len(ring_m) < 3:
            raise AreaError("an area needs at least three corners")
        self.ring_m = [(float(x), float(y)) for x, y in ring_m]
        if self.ring_m[0] != self.ring_m[-1]:
            self.ring_m.append(self.ring_m[0])
        self.name = name
        if self.area_m2() <= 0:
            raise AreaError("the area's corners enclose no ground")

    @classmethod
    def rectangle(cls, width_m: float, height_m: float) -> "Area":
        if not (width_m > 0 and height_m > 0):
            raise AreaError(f"a rectangle needs positive sides, got {width_m} x {height_m}")
        return cls([(0, 0), (width_m, 0), (width_m, height_m), (0, height_m)], f"{width_m:g} m x {height_m:g} m")

    @classmethod
    def parse(cls, text: str) -> "Area":
        """'2000x2000' (metres) or a GeoJSON file holding one Polygon (coordinates in site metres)."""
        if "x" in text and not Path(text).exists():
            try:
                w, h = (float(v) for v in text.lower().split("x"))
            except ValueError:
                raise AreaError(f"--area wants WIDTHxHEIGHT in metres (e.g. 2000x2000) or a GeoJSON file, "
                                f"got {text!r}") from None
            return cls.rectangle(w, h)
        try:
            data = json.loads(Path(text).read_text(encoding="utf-8"))
        except OSError as exc:
            raise AreaError(f"cannot read area {text}: {exc.strerror or exc}") from exc
        except json.JSONDecodeError as exc:
            raise AreaError(f"{text}: not JSON ({exc.msg} at line {exc.lineno})") from exc
        geometry = data
        if data.get("type") == "FeatureCollection":
            geometry = (data.get("features") or [{}])[0].get("geometry") or {}
        elif data.get("type") == "Feature":
            geometry = data.get("geometry") or {}
        if geometry.get("type") != "Polygon":
            raise AreaError(f"{text}: expected a GeoJSON Polygon (site metres), got {geometry.get('type')!r}")
        try:
            return cls([(x, y) for x, y, *_ in geometry["coordinates"][0]], Path(text).name)
        except (KeyError, TypeError, ValueError, IndexError) as exc:
            raise AreaError(f"{text}: polygon coordinates must be [[x, y], ...] in metres ({exc})") from exc

    def bounds_m(self) -> tuple[float, float, float, float]:
        xs, ys = zip(*self.ring_m)
        return min(xs), min(ys), max(xs), max(ys)

    def area_m2(self) -> float:
        xs, ys = np.array(self.ring_m).T
        return float(abs(np.dot(xs[:-1], ys[1:]) - np.dot(xs[1:], ys[:-1])) / 2)

    def contains(self, x_m: np.ndarray, y_m: np.ndarray) -> np.ndarray:
        return polygon_mask(np.asarray(x_m, float), np.asarray(y_m, float),
                            {"type": "Polygon", "coordinates": [self.ring_m]})

    def grid(self, spacing_m: float) -> tuple[np.ndarray, np.ndarray]:
        """A square grid at spacing_m, offset half a spacing from the edges, clipped to the polygon."""
        x0, y0, x1, y1 = self.bounds_m()
        xs = np.arange(x0 + spacing_m / 2, x1, spacing_m)
        ys = np.arange(y0 + spacing_m / 2, y1, spacing_m)
        xx, yy = np.meshgrid(xs, ys)
        xx, yy = xx.ravel(), yy.ravel()
        inside = self.contains(xx, yy)
        return xx[inside], yy[inside]

    def random_points(self, rng: np.random.Generator, n: int) -> tuple[np.ndarray, np.ndarray]:
        """n points uniform over the polygon (rejection sampling from its bounding box)."""
        x0, y0, x1, y1 = self.bounds_m()
        out_x: list[float] = []
        out_y: list[float] = []
        while len(out_x) < n:
            k = max(16, 2 * (n - len(out_x)))
            x, y = rng.uniform(x0, x1, k), rng.uniform(y0, y1, k)
            keep = self.contains(x, y)
            out_x.extend(x[keep].tolist())
            out_y.extend(y[keep].tolist())
        return np.array(out_x[:n]), np.array(out_y[:n])


def spacing_for_budget(area: Area, nodes: int) -> float:
    """The grid spacing at which about `nodes` nodes cover the area."""
    if nodes < 1:
        raise AreaError(f"a node budget must be >= 1, got {nodes}")
    return math.sqrt(area.area_m2() / nodes)
