"""Which fuel grows where: one standard fuel model everywhere, or a map a user supplies.

Maps, in site metres (x east, y north, as node positions):
- GeoJSON: a FeatureCollection of Polygon / MultiPolygon features with a
  property "fuel" (a code such as "GR2", "SH5", "TL3", "FM8" or "NB" for
  non-burnable); later features win where they overlap; ground outside every
  polygon gets the scenario's `model`.
- ESRI ASCII grid (.asc): header ncols, nrows, xllcorner, yllcorner, cellsize
  [, NODATA_value], then rows north to south of LANDFIRE fuel numbers: 1-13
  (Anderson), 101-204 (Scott & Burgan), 91-99 non-burnable.
"""

import json
from pathlib import Path

import numpy as np

from simulator.fuel_models import FUEL_MODELS, NON_BURNABLE, WIND_ADJUSTMENT, fuel_model

# LANDFIRE FBFM40 numbers of the Scott & Burgan models this simulator carries
_FBFM40 = {101: "GR1", 102: "GR2", 103: "GR3", 104: "GR4", 122: "GS2", 142: "SH2", 145: "SH5", 147: "SH7",
           161: "TU1", 165: "TU5", 181: "TL1", 183: "TL3", 188: "TL8"}


class FuelMapError(ValueError):
    """A fuel setting or map that cannot be used; the message says where and why."""


class FuelConfig:
    # default: grass-shrub, as on the heath and broom slopes of a Mediterranean mountain park, in summer
    def __init__(self, model: str = "GS2", map_path: str | None = None, live_herb_moisture: float = 0.6,
                 live_woody_moisture: float = 0.9, wind_adjustment: float | None = None) -> None:
        self.model = model                # everywhere, or where the map says nothing
        self.map_path = map_path
        self.live_herb_moisture = live_herb_moisture  # fractions: ~0.3 cured summer grass, ~1.2+ green spring
        self.live_woody_moisture = live_woody_moisture
        self.wind_adjustment = wind_adjustment  # open wind to midflame wind; None: by fuel group

    def problems(self) -> list[str]:
        out = []
        if self.model.upper() != NON_BURNABLE and self.model.upper() not in FUEL_MODELS:
            out.append(f"fuel model {self.model!r} unknown; known: {', '.join(FUEL_MODELS)}")
        for name in ("live_herb_moisture", "live_woody_moisture"):
            value = getattr(self, name)
            if not (isinstance(value, (int, float)) and 0.3 <= value <= 3.0):
                out.append(f"{name} must be a fraction in 0.3..3.0, got {value!r}")
        if self.wind_adjustment is not None and not 0 < self.wind_adjustment <= 1:
            out.append(f"wind_adjustment must be in (0, 1], got {self.wind_adjustment!r}")
        if self.map_path and not Path(self.map_path).is_file():
            out.append(f"fuel map {self.map_path} not found")
        return out

    def midflame_factor(self, code: str) -> float:
        if self.wind_adjustment is not None:
            return self.wind_adjustment
        return WIND_ADJUSTMENT[fuel_model(code).group]


def _code(value) -> str:
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        number = int(value)
        if 1 <= number <= 13:
            return f"FM{number}"
        if number in _FBFM40:
            return _FBFM40[number]
        if 91 <= number <= 99:
            return NON_BURNABLE
        raise FuelMapError(f"fuel number {number} is not one this simulator carries")
    code = str(value).strip().upper()
    if code != NON_BURNABLE and code not in FUEL_MODELS:
        raise FuelMapError(f"fuel code {value!r} unknown; known: {', '.join(FUEL_MODELS)} or {NON_BURNABLE}")
    return code


def _inside(px: np.ndarray, py: np.ndarray, ring: list) -> np.ndarray:
    """Even-odd rule point-in-polygon for one ring, vectorised over points."""
    pts = np.asarray(ring, dtype=np.float64)
    inside = np.zeros(px.shape, dtype=bool)
    x0, y0 = pts[-1]
    for x1, y1 in pts:
        crosses = ((y1 > py) != (y0 > py)) & (px < (x0 - x1) * (py - y1) / ((y0 - y1) or 1e-12) + x1)
        inside ^= crosses
        x0, y0 = x1, y1
    return inside


def polygon_mask(px: np.ndarray, py: np.ndarray, geometry: dict) -> np.ndarray:
    """Points inside a GeoJSON Polygon or MultiPolygon (holes respected)."""
    kind, coords = geometry.get("type"), geometry.get("coordinates")
    polygons: list | None = [coords] if kind == "Polygon" else coords if kind == "MultiPolygon" else None
    if not polygons:
        raise FuelMapError(f"geometry type {kind!r} is not a Polygon or MultiPolygon")
    mask = np.zeros(px.shape, dtype=bool)
    for rings in polygons:  # a list here: the check above refused anything else
        part = _inside(px, py, rings[0])
        for hole in rings[1:]:
            part &= ~_inside(px, py, hole)
        mask |= part
    return mask


def fuel_codes_on_grid(config: FuelConfig, xx: np.ndarray, yy: np.ndarray) -> np.ndarray:
    """Fuel code (object array) at each grid point (cell centres xx, yy)."""
    codes = np.full(xx.shape, _code(config.model), dtype=object)
    if not config.map_path:
        return codes
    path = Path(config.map_path)
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise FuelMapError(f"cannot read fuel map {path}: {exc.strerror or exc}") from exc
    if path.suffix.lower() == ".asc":
        return _ascii_grid(text, path, xx, yy, codes)
    try:
        data = json.loads(text)
        features = data["features"] if data.get("type") == "FeatureCollection" else [data]
    except (json.JSONDecodeError, AttributeError, KeyError, TypeError) as exc:
        raise FuelMapError(f"{path}: not a GeoJSON FeatureCollection ({exc})") from exc
    for k, feature in enumerate(features):
        try:
            code = _code(feature["properties"]["fuel"])
            mask = polygon_mask(xx, yy, feature["geometry"])
        except (KeyError, TypeError, IndexError, ValueError) as exc:
            raise FuelMapError(f"{path}: feature {k} needs a polygon geometry and properties.fuel ({exc})") from exc
        codes[mask] = code
    return codes


def _ascii_grid(text: str, path: Path, xx: np.ndarray, yy: np.ndarray, codes: np.ndarray) -> np.ndarray:
    lines = text.split("\n")
    header: dict[str, float] = {}
    for line in lines[:6]:
        parts = line.split()
        if len(parts) == 2 and parts[0].lower() in ("ncols", "nrows", "xllcorner", "yllcorner", "cellsize",
                                                     "nodata_value"):
            header[parts[0].lower()] = float(parts[1])
    missing = [k for k in ("ncols", "nrows", "xllcorner", "yllcorner", "cellsize") if k not in header]
    if missing:
        raise FuelMapError(f"{path}: ASCII grid header lacks {', '.join(missing)}")
    try:
        grid = np.array([[float(v) for v in line.split()] for line in lines[len(header):] if line.strip()])
    except ValueError as exc:
        raise FuelMapError(f"{path}: grid values must be numbers ({exc})") from exc
    rows, cols = int(header["nrows"]), int(header["ncols"])
    if grid.shape != (rows, cols):
        raise FuelMapError(f"{path}: header says {rows} x {cols}, found {grid.shape[0]} x {grid.shape[-1]}")
    cell = header["cellsize"]
    col = np.floor((xx - header["xllcorner"]) / cell).astype(np.int64)
    row = rows - 1 - np.floor((yy - header["yllcorner"]) / cell).astype(np.int64)
    ok = (row >= 0) & (row < rows) & (col >= 0) & (col < cols)
    nodata = header.get("nodata_value")
    lookup = {value: _code(value) for value in np.unique(grid) if value != nodata}
    values = grid[np.clip(row, 0, rows - 1), np.clip(col, 0, cols - 1)]
    for value, code in lookup.items():
        codes[ok & (values == value)] = code
    return codes
