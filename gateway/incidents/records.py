"""An incident transition as a gateway Event, its stored point, and back (for rebuilding after a restart).

Each transition is one point of measurement `incident`, tags site, node (the node whose evidence
opened it) and incident (its id); the point's time is the evidence time that caused it, made
strictly increasing per incident, so a replay overwrites and two transitions never collide.
The `members` field holds the evidence (JSON), so the engine can carry on from the newest point.
"""

from __future__ import annotations

import json

from gateway.incidents.model import CLOSING, Incident, Member
from gateway.ingest import Event

KIND = "incident"
MAX_MEMBERS_STORED = 200
# stored field -> (event field, divisor to human units; None keeps the value)
STORED_FIELDS = {
    "state": ("state", None), "level": ("level", None), "open": ("open", None), "alerting": ("alerting", None),
    "lat": ("lat_e6", 1e6), "lon": ("lon_e6", 1e6), "radius_m": ("radius_m", None), "nodes": ("nodes", None),
    "confidence": ("confidence_pct", 100.0), "first_evidence_ms": ("first_ms", None),
    "last_evidence_ms": ("last_ms", None), "confirmed_ms": ("confirmed_ms", None),
    "merged_into": ("merged_into", None), "acked_by": ("acked_by", None), "by": ("by", None),
    "reason": ("reason", None),
    "members": ("members", None),
}
SQLITE_COLUMNS = ("incident",) + tuple(STORED_FIELDS)


def transition_event(inc: Incident, state: str, t_ms: int, reason: str, by: str = "",
                     merged_into: str = "") -> Event:
    """The Event for one transition of `inc` (its time made later than the incident's previous one)."""
    closed = state in CLOSING
    members = sorted(inc.members.values(), key=lambda m: (m.first_ms, m.node))[:MAX_MEMBERS_STORED]
    fields: dict[str, int | str] = {
        "incident": inc.id, "state": state, "level": inc.level, "open": 0 if closed else 1,
        "alerting": int(not closed and inc.confirmed and inc.acked_by is None),
        "lat_e6": round(inc.lat * 1e6), "lon_e6": round(inc.lon * 1e6), "radius_m": round(inc.radius_m),
        "nodes": len(inc.members), "confidence_pct": round(inc.confidence * 100), "first_ms": inc.first_ms,
        "last_ms": inc.last_ms, "confirmed_ms": inc.confirmed_ms or 0, "merged_into": merged_into,
        "acked_by": inc.acked_by or "", "by": by, "reason": reason,
        "members": json.dumps([m.to_list() for m in members], separators=(",", ":")),
    }
    return Event(KIND, inc.site, inc.origin, inc.transitions + 1, inc.next_time(t_ms), fields)


def stored_fields(event: Event) -> dict[str, int | float | str]:
    out: dict[str, int | float | str] = {}
    for name, (key, divisor) in STORED_FIELDS.items():
        value = event.fields.get(key)
        if value is None:
            continue
        out[name] = value if divisor is None or not isinstance(value, int) else value / divisor
    return out


def incident_line(event: Event) -> str:
    from gateway.points import format_field

    body = ",".join(f"{k}={format_field(v)}" for k, v in stored_fields(event).items())
    return f"{KIND},site={event.site},node={event.node},incident={event.fields['incident']} {body} {event.t_ms}"


def sqlite_row(event: Event) -> dict[str, int | float | str]:
    return {"incident": str(event.fields["incident"]), **stored_fields(event)}


def incident_from_row(row: dict) -> Incident | None:
    """The engine's incident from its newest stored point, or None if that point closed it."""
    if row.get("state") in CLOSING or not row.get("open"):
        return None
    try:
        members = {m.node: m for m in (Member.from_list(r) for r in json.loads(row.get("members") or "[]"))}
    except (ValueError, TypeError):
        members = {}
    if not members:
        return None
    t_ms = int(row["time"])
    inc = Incident(id=str(row["incident"]), site=str(row["site"]), origin=str(row["node"]),
                   first_ms=int(row["first_evidence_ms"]), last_ms=int(row["last_evidence_ms"]), members=members,
                   level=int(row.get("level") or 1), confirmed_ms=int(row.get("confirmed_ms") or 0) or None,
                   acked_by=str(row.get("acked_by") or "") or None,
                   lat=float(row["lat"]), lon=float(row["lon"]), radius_m=float(row["radius_m"]),
                   confidence=float(row["confidence"]), last_written_ms=t_ms, transitions=0)
    return inc
