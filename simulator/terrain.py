"""Terrain grid: elevation (smooth hills) and fuel load, with lookups at any point.

Elevation cools nodes by the lapse rate and tilts fire spread upslope; fuel load
scales how fast and how smoky a fire burns. Outside the grid there is no fuel,
so a fire stops at the edge of the simulated forest.
"""

import numpy as np

LAPSE_RATE_C_PER_M = -0.0065


class Terrain:
    def __init__(self, x0_m: float, y0_m: float, cell_m: float, elevation_m: np.ndarray,
                 fuel_kg_m2: np.ndarray) -> None:
        self.x0_m = x0_m
        self.y0_m = y0_m
        self.cell_m = cell_m
        self.elevation_m = elevation_m
        self.fuel_kg_m2 = fuel_kg_m2
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
                 base_elevation_m: float = 700.0, fuel_mean_kg_m2: float = 1.0) -> Terrain:
    """Hilly forest covering the node bounds plus a margin on every side."""
    x_min, y_min, x_max, y_max = bounds_m
    x0, y0 = x_min - margin_m, y_min - margin_m
    cols = int(np.ceil((x_max - x_min + 2 * margin_m) / cell_m)) + 1
    rows = int(np.ceil((y_max - y_min + 2 * margin_m) / cell_m)) + 1
    hills = _smooth_field(rng, (rows, cols), 12, max(rows, cols) / 6)
    span = float(np.ptp(hills)) or 1.0
    elevation = base_elevation_m + relief_m * (hills - hills.min()) / span
    patches = _smooth_field(rng, (rows, cols), 20, max(rows, cols) / 10)
    fuel = fuel_mean_kg_m2 * np.clip(1.0 + 0.4 * patches / (np.abs(patches).max() or 1.0), 0.3, 1.7)
    return Terrain(x0, y0, cell_m, elevation, fuel)
