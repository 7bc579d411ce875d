"""An incident and the evidence behind it (one Member per node that smelt it)."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field

OPENED = "opened"
CONFIRMED = "confirmed"
UPDATED = "updated"
MERGED = "merged"
RESOLVED = "resolved"
ACKNOWLEDGED = "acknowledged"
STATES = (OPENED, CONFIRMED, UPDATED, MERGED, RESOLVED, ACKNOWLEDGED)
CLOSING = (MERGED, RESOLVED)

LEVEL_OPENED = 1
LEVEL_CONFIRMED = 2


def incident_id(site: str, node: str, first_ms: int) -> str:
    """Stable: the same first evidence always names the same incident, so a rebuilt engine or a
    replayed batch can never reopen a fire under a new id."""
    digest = hashlib.sha1(f"{site}/{node}/{first_ms}".encode()).hexdigest()
    return "inc-" + digest[:10]


@dataclass(slots=True)
class Member:
    node: str
    lat: float
    lon: float
    first_ms: int
    last_ms: int
    alerts: int
    first_strength: float  # score / threshold of its first alert
    peak_strength: float
    level: int  # highest alert level seen (schema.LEVEL_*)
    escalated: bool = False  # it went from suspect to fire level while in this incident

    def to_list(self) -> list:
        return [self.node, round(self.lat, 7), round(self.lon, 7), self.first_ms, self.last_ms, self.alerts,
                round(self.first_strength, 3), round(self.peak_strength, 3), self.level, int(self.escalated)]

    @classmethod
    def from_list(cls, row: list) -> Member:
        node, lat, lon, first_ms, last_ms, alerts, first_s, peak_s, level, escalated = row
        return cls(str(node), float(lat), float(lon), int(first_ms), int(last_ms), int(alerts), float(first_s),
                   float(peak_s), int(level), bool(escalated))


@dataclass(slots=True)
class Incident:
    id: str
    site: str
    origin: str  # the node whose evidence opened it
    first_ms: int  # earliest evidence
    last_ms: int  # newest evidence
    members: dict[str, Member] = field(default_factory=dict)
    level: int = LEVEL_OPENED
    opened_reason: str = ""
    confirmed_ms: int | None = None  # evidence time of the confirmation
    acked_by: str | None = None
    lat: float = 0.0
    lon: float = 0.0
    radius_m: float = 0.0
    confidence: float = 0.0
    last_written_ms: int = 0  # time of its newest stored transition (they strictly increase)
    transitions: int = 0

    @property
    def confirmed(self) -> bool:
        return self.level >= LEVEL_CONFIRMED

    def next_time(self, t_ms: int) -> int:
        """A transition time after every earlier one of this incident, so none overwrites another."""
        t_ms = max(t_ms, self.last_written_ms + 1)
        self.last_written_ms = t_ms
        self.transitions += 1
        return t_ms
