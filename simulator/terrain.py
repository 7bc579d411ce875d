"""Terrain grid: elevation (smooth hills) and fuel (a standard fuel model per cell), with lookups at any point.

Elevation cools nodes by the lapse rate and tilts fire spread upslope; the fuel
model sets how fast a fire spreads (simulator.rothermel) and its load how smoky
it burns. Outside the grid there is no fuel, so a fire stops at the edge of the
simulated forest.
"""

import numpy as np

from simulator.fuel_map import FuelConfig, fuel_codes_on_grid
from simulator.fuel_models import NON_BURNABLE, fuel_model

LAPSE_RATE_C_PER_M = -0.0065


class Terrain:
    def __init__(self, x0_m: float, y0_m: float, cell_m: float, elevation_m: np.ndarray,
                 fuel_kg_m2: np.ndarray, fuel_index: np.ndarray | None = None,
                 fuel_codes: list[str] | None = None, fuel: FuelConfig | None = None) -> None:
        self.x0_m = x0_m
        self.y0_m = y0_m
        self.cell_m = cell_m
        self.elevation_m = elevation_m
        self.fuel_kg_m2 = fuel_kg_m2  # load a passing surface fire consumes
        # index into fuel_codes per cell, -1 where nothing burns
        self.fuel_index = np.zeros(elevation_m.shape, dtype=np.int64) if fuel_index is None else fuel_index
        self.fuel = fuel or FuelConfig()
        self.fuel_codes = fuel_codes or [self.fuel.model.upper()]
        # slope as rise per metre, d(elevation)/dy and d/dx on the grid
        self.slope_y, self.slope_x = np.gradient(elevation_m, cell_m)

    @property
    def shape(self) -> tuple[int, int]:
        return self.elevation_m.shape

    def extent_m(self) -> tuple[float, float, float, float]:
        rows, cols = self.shape
        return self.x0_m, self.y0_m, self.x0_m + cols * self.cell_m, self.y0_m + rows * self.cell_m

    def _cells(self, x_m: np.ndarray, y_m: np.ndarray):
        col = np.floor((np.asarray(x_m) - self.x0_m) / self.cell_m).astype(np.int64)
        row = np.floor((np.asarray(y_m) - self.y0_m) / self.cell_m).astype(np.int64)
        rows, cols = self.shape
        inside = (row >= 0) & (row < rows) & (col >= 0) & (col < cols)
        return np.clip(row, 0, rows - 1), np.clip(col, 0, cols - 1), inside

    def elevation_at(self, x_m, y_m) -> np.ndarray:
        row, col, _ = self._cells(x_m, y_m)
        return self.elevation_m[row, col]

    def fuel_at(self, x_m, y_m) -> np.ndarray:
        row, col, inside = self._cells(x_m, y_m)
        return np.where(inside, self.fuel_kg_m2[row, col], 0.0)

    def fuel_index_at(self, x_m, y_m) -> np.ndarray:
        """Index into fuel_codes at each point; -1 outside the grid or on non-burnable ground."""
        row, col, inside = self._cells(x_m, y_m)
        return np.where(inside, self.fuel_index[row, col], -1)

    def slope_at(self, x_m, y_m) -> tuple[np.ndarray, np.ndarray]:
        row, col, _ = self._cells(x_m, y_m)
        return self.slope_x[row, col], self.slope_y[row, col]


def _smooth_field(rng: np.random.Generator, shape: tuple[int, int], n_bumps: int, width_cells: float) -> np.ndarray:
    """Sum of random Gaussian bumps: cheap, smooth, and fully seed-determined."""
    rows, cols = shape
    yy, xx = np.mgrid[0:rows, 0:cols].astype(np.float64)
    field = np.zeros(shape)
    for _ in range(n_bumps):
        cy, cx = rng.uniform(0, rows), rng.uniform(0, cols)
        w = width_cells * rng.uniform(0.5, 1.5)
        field += rng.uniform(-1, 1) * np.exp(-((xx - cx) ** 2 + (yy - cy) ** 2) / (2 * w * w))
    return field


def make_terrain(bounds_m: tuple[float, float, float, float], rng: np.random.Generator,
                 margin_m: float = 1000.0, cell_m: float = 50.0, relief_m: float = 150.0,
                 base_elevation_m: float = 700.0, fuel: FuelConfig | None = None) -> Terrain:
    """Hilly forest covering the node bounds plus a margin on every side, fuel from `fuel`."""
    x_min, y_min, x_max, y_max = bounds_m
    x0, y0 = x_min - margin_m, y_min - margin_m
    cols = int(np.ceil((x_max - x_min + 2 * margin_m) / cell_m)) + 1
    rows = int(np.ceil((y_max - y_min + 2 * margin_m) / cell_m)) + 1
    hills = _smooth_field(rng, (rows, cols), 12, max(rows, cols) / 6)
    span = float(np.ptp(hills)) or 1.0
    elevation = base_elevation_m + relief_m * (hills - hills.min()) / span
    fuel = fuel or FuelConfig()
    yy, xx = np.mgrid[0:rows, 0:cols].astype(np.float64)
    codes = fuel_codes_on_grid(fuel, x0 + (xx + 0.5) * cell_m, y0 + (yy + 0.5) * cell_m)
    names = sorted(set(codes.ravel().tolist()) - {NON_BURNABLE})
    index = np.full(codes.shape, -1, dtype=np.int64)
    load = np.zeros(codes.shape)
    for k, code in enumerate(names):
        where = codes == code
        index[where] = k
        load[where] = consumed_load_kg_m2(code)
    return Terrain(x0, y0, cell_m, elevation, load, index, names, fuel)


def consumed_load_kg_m2(code: str) -> float:
    """Fuel a surface fire burns: fine dead, 10-h, live, and half the 100-h (Albini 1976's burnout rule of thumb)."""
    w1, w10, w100, herb, woody = fuel_model(code).loads_t_ac
    return (w1 + w10 + 0.5 * w100 + herb + woody) * 0.2241702  # t/ac -> kg/m2
