"""What the incident engine knows of each node: where it stands and whether its sensor can be trusted.

Positions come from heartbeats (lat_e6/lon_e6) or a registry file; faults from the `flt` bits of
heartbeats and alerts. Nodes that predate fault bits (schema v1) are also caught by their
readings: one the node's own checks (edge_node/core/faults.py) call dead or railing is no
evidence, and neither are readings that repeat the previous message's to the last digit (stuck).
The core's stuck rule counts consecutive readings, which the gateway never sees (messages are
minutes to an hour apart), so that one is the gateway's own: real air is never that still.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

from edge_node.core import schema
from edge_node.core.faults import SensorFaults

SENSOR_FAULTS = schema.FAULT_TEMP | schema.FAULT_RH | schema.FAULT_GAS | schema.FAULT_SENSOR_BUS
NN_SAMPLE = 200  # nodes sampled to estimate the typical spacing


@dataclass(slots=True)
class NodeInfo:
    lat: float | None = None
    lon: float | None = None
    faults: int = 0  # sensor fault bits from the newest heartbeat
    readings: tuple[int, ...] | None = None  # (temp_cc, rh_cp, gas_q8) of the newest message


@dataclass
class NodeBook:
    """Nodes of one site. `spacing_m` is the median distance to the nearest neighbour."""

    nodes: dict[str, NodeInfo] = field(default_factory=dict)
    _spacing_m: float | None = None

    def info(self, node: str) -> NodeInfo:
        found = self.nodes.get(node)
        if found is None:
            found = self.nodes[node] = NodeInfo()
        return found

    def place(self, node: str, lat: float, lon: float) -> None:
        info = self.info(node)
        if (info.lat, info.lon) != (lat, lon):
            info.lat, info.lon = lat, lon
            self._spacing_m = None

    def position(self, node: str) -> tuple[float, float] | None:
        info = self.nodes.get(node)
        if info is None or info.lat is None or info.lon is None:
            return None
        return info.lat, info.lon

    def spacing_m(self) -> float | None:
        if self._spacing_m is None:
            self._spacing_m = _median_nearest_m([(i.lat, i.lon) for i in self.nodes.values()
                                                 if i.lat is not None and i.lon is not None])
        return self._spacing_m

    def heartbeat(self, node: str, fields: dict) -> None:
        info = self.info(node)
        info.faults = int(fields.get("flt", 0)) & SENSOR_FAULTS
        if "lat_e6" in fields and "lon_e6" in fields:
            self.place(node, int(fields["lat_e6"]) / 1e6, int(fields["lon_e6"]) / 1e6)
        info.readings = _readings(fields)

    def untrusted(self, node: str, fields: dict, remember: bool = True) -> str | None:
        """Why an alert from this node is no evidence of fire, or None when it is.

        remember: keep the alert's readings for the next stuck-sensor check (False for an
        alert replayed from the store, which the node has sent on since).
        """
        info = self.info(node)
        readings = _readings(fields)
        previous = info.readings
        if remember:
            info.readings = readings
        if int(fields.get("flt", 0)) & SENSOR_FAULTS:
            return "alert reports a sensor fault"
        if info.faults:
            return "last heartbeat reports a sensor fault"
        if readings is not None and dead_reading_faults(readings):
            return "readings of a dead sensor"
        if readings is not None and readings == previous:
            return "readings stuck at the previous message's"
        return None


def dead_reading_faults(readings: tuple[int, ...]) -> int:
    """The fault bits the node itself gives one (temp_cc, rh_cp, gas_q8) reading: a channel at its rail.

    A fresh SensorFaults has seen no repeats (its stuck rule needs STUCK_READINGS of them), so
    only its dead/railing rules can fire."""
    temp_cc, rh_cp, gas_q8 = readings
    return SensorFaults().update(temp_cc, rh_cp, gas_q8)


def _readings(fields: dict) -> tuple[int, ...] | None:
    values = tuple(fields.get(k) for k in ("temp_cc", "rh_cp", "gas_q8"))
    return values if all(isinstance(v, int) for v in values) else None  # type: ignore[return-value]


def _median_nearest_m(points: list[tuple[float | None, float | None]]) -> float | None:
    pts = [(float(a), float(b)) for a, b in points if a is not None and b is not None]
    if len(pts) < 2:
        return None
    lat0 = pts[0][0]
    kx = 111_320.0 * math.cos(math.radians(lat0))
    xy = [((lon - pts[0][1]) * kx, (lat - lat0) * 111_320.0) for lat, lon in pts]
    step = max(1, len(xy) // NN_SAMPLE)
    nearest = []
    for i in range(0, len(xy), step):
        xi, yi = xy[i]
        best = min(math.hypot(xi - xj, yi - yj) for j, (xj, yj) in enumerate(xy) if j != i)
        if best > 0:
            nearest.append(best)
    if not nearest:
        return None
    nearest.sort()
    return nearest[len(nearest) // 2]
