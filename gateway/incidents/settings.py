"""Incident engine settings: defaults, and the EMBERWATCH_INCIDENT_* environment, checked before any I/O.

  EMBERWATCH_INCIDENTS              on (default) or off
  EMBERWATCH_NODE_REGISTRY          CSV or JSON file of site,node,lat,lon (positions without GPS heartbeats)
  EMBERWATCH_INCIDENT_NEAR_M        how close two nodes must be to agree (default: 1.6 x the site's
                                    median nearest-neighbour spacing, so a diagonal neighbour counts)
  EMBERWATCH_INCIDENT_QUIET_S       resolve an incident after this long without evidence (default 3600)
  EMBERWATCH_INCIDENT_SUSPECT_WINDOW_S   suspects this close in time may open one together (default 1800)
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass

from edge_node.core.detector import STRONGER_FACTOR
from gateway.config import ConfigError
from gateway.env_values import env_number


@dataclass(frozen=True, slots=True)
class IncidentSettings:
    enabled: bool = True
    registry_path: str | None = None
    near_m: float | None = None  # None: from the site's node spacing
    near_factor: float = 1.6
    near_fallback_m: float = 300.0  # until two positions are known
    near_min_m: float = 100.0
    quiet_ms: int = 3_600_000
    suspect_window_ms: int = 1_800_000
    persist_alerts: int = 3  # one node alone confirms after this many alerts ...
    persist_ms: int = 15 * 60_000  # ... spread over at least this long
    earliness_half_life_ms: int = 10 * 60_000  # the first nodes to smell smoke weigh most in the location
    upwind_shift: float = 1.25  # with wind, move the estimate this many node spacings upwind
    agree_window_ms: int = 10 * 60_000  # two nodes agree when their evidence is this close in time
    # Two agreeing nodes confirm when one's anomaly grew this much (0: never): a node re-alerts within its
    # cooldown only on a doubled score, so a repeat that strong is smoke still thickening, not a passing puff.
    grown_factor: float = float(STRONGER_FACTOR)
    weather_max_age_ms: int = 3_600_000
    min_wind_ms: float = 1.0  # below: no usable direction
    plume_cone_deg: float = 30.0
    plume_reach_factor: float = 4.0  # downwind agreement reaches this many near_m

    @classmethod
    def from_env(cls, environ: Mapping[str, str] = os.environ) -> IncidentSettings:
        problems: list[str] = []
        enabled_text = environ.get("EMBERWATCH_INCIDENTS", "on").strip().lower()
        if enabled_text not in ("on", "off", "1", "0", "true", "false"):
            problems.append(f"EMBERWATCH_INCIDENTS={enabled_text!r} must be on or off")
        registry = environ.get("EMBERWATCH_NODE_REGISTRY") or None
        if registry and not os.path.isfile(registry):
            problems.append(f"EMBERWATCH_NODE_REGISTRY={registry!r} is not a file")
        near = env_number(environ, "EMBERWATCH_INCIDENT_NEAR_M", None, 10.0, 20_000.0, problems)
        quiet_s = env_number(environ, "EMBERWATCH_INCIDENT_QUIET_S", 3600.0, 60.0, 7 * 86400.0, problems)
        window_s = env_number(environ, "EMBERWATCH_INCIDENT_SUSPECT_WINDOW_S", 1800.0, 60.0, 86400.0, problems)
        if problems:
            raise ConfigError(problems)
        return cls(enabled=enabled_text in ("on", "1", "true"), registry_path=registry, near_m=near,
                   quiet_ms=int(quiet_s * 1000), suspect_window_ms=int(window_s * 1000))

