"""Where the fire is: a weighted centroid of the nodes that smelt it, and how sure that is (a radius).

Weights favour the nodes that alerted first (they are nearest the ignition: smoke reaches farther
nodes later), strongly (score well above threshold) and at fire level. With a recent wind from a
weather station the estimate moves upwind: nodes smell a fire that lies upwind of them, so the
centroid of the smelling nodes sits downwind of the fire, by about a node spacing or more for the
first ones (rising smoke touches down farther downwind). Median error at confirmation on the
simulator (1,000 nodes, 200 m grid; python -m simulator.incident_study), by shift in node spacings:

    shift                                            0      0.5    0.75   1.0    1.25   1.5    1.75
    12 fires, before the Rothermel fire              326    228    179    132    -      -      -
    15 fires, seeds 1-5, Rothermel, no plume rise    169    116    125    175    -      160    -
    15 fires, seeds 1-5, rising smoke (main 17:45)   380    -      230    -      131    -      91

1.25 is the default: right for the current world without leaning on its last 40 m; the best value
follows the plume model, so it is a setting (IncidentSettings.upwind_shift).
"""

from __future__ import annotations

import math

from edge_node.core import schema
from gateway.incidents.geometry import Projection
from gateway.incidents.model import Member

SUSPECT_WEIGHT = 0.5
MAX_STRENGTH = 10.0


def member_weight(m: Member, first_ms: int, half_life_ms: int) -> float:
    strength = min(max(m.peak_strength, 1.0), MAX_STRENGTH)
    level = 1.0 if m.level >= schema.LEVEL_FIRE else SUSPECT_WEIGHT
    return strength * level * 0.5 ** (max(0, m.first_ms - first_ms) / half_life_ms)


def locate(members: list[Member], first_ms: int, proj: Projection, spacing_m: float, half_life_ms: int,
           wind_to: tuple[float, float] | None, upwind_shift: float = 1.25) -> tuple[float, float, float]:
    """(lat, lon, uncertainty radius in m) of the fire behind these members."""
    pts = [(proj.to_xy(m.lat, m.lon), member_weight(m, first_ms, half_life_ms)) for m in members]
    total = sum(w for _, w in pts)
    cx = sum(x * w for (x, _), w in pts) / total
    cy = sum(y * w for (_, y), w in pts) / total
    spread_m = math.sqrt(sum(((x - cx) ** 2 + (y - cy) ** 2) * w for (x, y), w in pts) / total)
    if wind_to is not None:
        cx -= wind_to[0] * spacing_m * upwind_shift
        cy -= wind_to[1] * spacing_m * upwind_shift
    lat, lon = proj.to_latlon(cx, cy)
    # One node cannot place a fire closer than about its spacing: the fire may be on any side of it.
    return lat, lon, spread_m + spacing_m / 2
