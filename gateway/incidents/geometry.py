"""Site-local flat coordinates: metres east (x) and north (y) of a site origin.

A forest site spans a few kilometres, so an equirectangular projection around the origin
is accurate to well under a metre there, and keeps every distance a cheap hypot.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

M_PER_DEG_LAT = 111_320.0


@dataclass(frozen=True, slots=True)
class Projection:
    lat0: float
    lon0: float

    @property
    def m_per_deg_lon(self) -> float:
        return M_PER_DEG_LAT * math.cos(math.radians(self.lat0))

    def to_xy(self, lat: float, lon: float) -> tuple[float, float]:
        return (lon - self.lon0) * self.m_per_deg_lon, (lat - self.lat0) * M_PER_DEG_LAT

    def to_latlon(self, x_m: float, y_m: float) -> tuple[float, float]:
        return self.lat0 + y_m / M_PER_DEG_LAT, self.lon0 + x_m / self.m_per_deg_lon


def wind_to_unit(wdir_from_deg: float) -> tuple[float, float]:
    """Unit vector (east, north) the wind blows TOWARDS, from the meteorological FROM direction."""
    to_rad = math.radians((wdir_from_deg + 180.0) % 360.0)
    return math.sin(to_rad), math.cos(to_rad)  # compass bearing: 0 = north, 90 = east
