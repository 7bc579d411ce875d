"""The incident engine: accepted events in, incident transitions out. Pure: the clock is passed in.

- **open** on a fire-level alert from a trusted node, or when suspect-level alerts of two nodes
  near each other arrive within the suspect window;
- **confirm** when a third node near the first two (or downwind of the incident, with a recent wind)
  agrees, or a second one does and either is at fire level or its anomaly grew (a repeat alert at
  least grown_factor x its first), or one node's anomaly persists (several alerts over a quarter
  of an hour) or escalates from suspect to fire level;
- **merge** incidents that one piece of evidence, or their estimated positions, join;
- **resolve** after a quiet period without evidence (stamped at last evidence + quiet period, so
  the verdict does not depend on when the clock was looked at);
- a node whose sensor cannot be trusted (fault bits, dead or stuck readings) adds nothing.

Transitions are `incident` Events (see records.py); every evidence that changes an open incident
also writes an `updated` transition carrying the evidence, which is what a restarted gateway
rebuilds from.
"""

from __future__ import annotations

import math
from collections import Counter
from dataclasses import dataclass, field

from edge_node.core import schema
from gateway.incidents import records
from gateway.incidents.geometry import Projection, wind_to_unit
from gateway.incidents.locate import locate
from gateway.incidents.model import (
    ACKNOWLEDGED,
    CONFIRMED,
    LEVEL_CONFIRMED,
    MERGED,
    OPENED,
    RESOLVED,
    UPDATED,
    Incident,
    Member,
    incident_id,
)
from gateway.incidents.nodes import NodeBook
from gateway.incidents.settings import IncidentSettings
from gateway.ingest import Event

P_FIRE, P_SUSPECT, P_REPEAT = 0.5, 0.25, 0.15  # how much one node's evidence adds to the confidence
FUTURE_TOLERANCE_MS = 300_000


@dataclass(slots=True)
class Evidence:
    node: str
    lat: float
    lon: float
    t_ms: int
    strength: float  # score / threshold
    level: int


@dataclass
class SiteState:
    name: str
    book: NodeBook = field(default_factory=NodeBook)
    proj: Projection | None = None
    wind: tuple[float, float, float, int] | None = None  # (to east, to north, speed m/s, t_ms)
    incidents: dict[str, Incident] = field(default_factory=dict)  # open ones
    suspects: list[Evidence] = field(default_factory=list)
    clock_ms: int = 0  # the newest event time heard from the site (see IncidentEngine.tick)

    def projection(self, lat: float, lon: float) -> Projection:
        if self.proj is None:
            self.proj = Projection(lat, lon)
        return self.proj


class IncidentEngine:
    def __init__(self, settings: IncidentSettings | None = None) -> None:
        self.settings = settings or IncidentSettings()
        self.sites: dict[str, SiteState] = {}
        self.ignored: Counter[str] = Counter()  # alerts that were no evidence, by reason

    # --- inputs ----------------------------------------------------------------------------------

    def site(self, name: str) -> SiteState:
        state = self.sites.get(name)
        if state is None:
            state = self.sites[name] = SiteState(name)
        return state

    def place(self, site: str, node: str, lat: float, lon: float) -> None:
        """A position from a registry file (heartbeats with a fix override it)."""
        self.site(site).book.place(node, lat, lon)

    def restore(self, inc: Incident) -> None:
        """An open incident rebuilt from the store after a restart."""
        self.site(inc.site).incidents[inc.id] = inc

    def restore_suspect(self, site: str, node: str, t_ms: int, score: int, thr: int, faults: int) -> None:
        """A suspect-level alert stored before a restart that no incident took in: it waits for a
        neighbour again, as it did before (nothing is opened or written here)."""
        state = self.site(site)
        position = state.book.position(node)
        if (position is None or state.book.untrusted(node, {"flt": faults}, remember=False) is not None
                or any(node in inc.members for inc in state.incidents.values())
                or any(s.node == node and s.t_ms == t_ms for s in state.suspects)):
            return
        state.projection(*position)
        state.suspects.append(Evidence(node, position[0], position[1], t_ms, score / max(1, thr),
                                       schema.LEVEL_SUSPECT))
        state.clock_ms = max(state.clock_ms, t_ms)

    def observe(self, events: list[tuple[Event, int]], now_ms: int) -> list[Event]:
        out: list[Event] = []
        for event, _received_ms in events:
            if event.t_ms is not None:  # a clock running ahead of the gateway's does not move time on
                state = self.site(event.site)
                state.clock_ms = max(state.clock_ms, min(event.t_ms, now_ms + FUTURE_TOLERANCE_MS))
            if event.kind == "alert" and event.t_ms is not None:
                out += self._alert(event)
            elif event.kind == "heartbeat":
                self.site(event.site).book.heartbeat(event.node, event.fields)
            elif event.kind == "weather" and event.t_ms is not None:
                self._weather(event)
        return out + self.tick(now_ms)

    def tick(self, now_ms: int) -> list[Event]:
        """Resolve incidents quiet for the quiet period; forget suspects too old to cluster.

        Time here is each site's event clock (the newest event time its nodes sent), not the
        gateway's: a backlog delivered late, or a replay of a past day, resolves an incident only
        when the site's own messages show an hour went by without evidence. A site gone silent
        keeps its incidents open: no news is not the fire being out."""
        out = []
        quiet = self.settings.quiet_ms
        for state in self.sites.values():
            now_ms = state.clock_ms
            for inc in [i for i in state.incidents.values() if now_ms - i.last_ms >= quiet]:
                del state.incidents[inc.id]
                minutes = quiet // 60_000
                out.append(records.transition_event(inc, RESOLVED, inc.last_ms + quiet,
                                                    f"no evidence for {minutes} min"))
            if state.suspects:
                state.suspects = [s for s in state.suspects if now_ms - s.t_ms < self.settings.suspect_window_ms]
        return out

    def operator(self, site: str, incident: str, action: str, by: str, t_ms: int) -> list[Event]:
        """An operator acknowledged or resolved an incident (already stored by the command): apply it."""
        state = self.sites.get(site)
        inc = state.incidents.get(incident) if state else None
        if inc is None:
            return []
        inc.last_written_ms = max(inc.last_written_ms, t_ms)
        if action == RESOLVED:
            del state.incidents[incident]  # type: ignore[union-attr]
        elif action == ACKNOWLEDGED:
            inc.acked_by = by
        return []

    def open_incidents(self) -> list[Incident]:
        return [i for s in self.sites.values() for i in s.incidents.values()]

    # --- alerts ----------------------------------------------------------------------------------

    def _weather(self, event: Event) -> None:
        speed_ms = int(event.fields.get("wind_cms", 0)) / 100.0
        east, north = wind_to_unit(float(event.fields.get("wdir_deg", 0)))
        state = self.site(event.site)
        if state.wind is None or event.t_ms >= state.wind[3]:  # type: ignore[operator]
            state.wind = (east, north, speed_ms, int(event.t_ms))  # type: ignore[arg-type]

    def _alert(self, event: Event) -> list[Event]:
        state = self.site(event.site)
        why_not = state.book.untrusted(event.node, event.fields)
        if why_not is not None:
            self.ignored[why_not] += 1
            return []
        position = state.book.position(event.node)
        if position is None:
            self.ignored["node position unknown"] += 1
            return []
        thr = max(1, int(event.fields.get("thr", 1)))
        ev = Evidence(event.node, position[0], position[1], int(event.t_ms),  # type: ignore[arg-type]
                      int(event.fields.get("score", thr)) / thr,
                      int(event.fields.get("lvl", schema.LEVEL_FIRE)))
        state.projection(ev.lat, ev.lon)
        # The node's own earlier suspects are the start of the same anomaly: they go with it, so an
        # escalation from suspect to fire is seen as one (see _confirmation).
        own = [s for s in state.suspects if s.node == ev.node]
        others = [s for s in state.suspects if s.node != ev.node]
        matches = [inc for inc in state.incidents.values() if self._agrees(state, inc, ev)]
        if matches:
            state.suspects = others
            return self._join(state, matches, [*own, ev])
        if ev.level >= schema.LEVEL_FIRE:
            state.suspects = others
            return self._open(state, [*own, ev], f"fire-level alert from {ev.node}")
        near = self._near_m(state)
        cluster = [s for s in others if abs(ev.t_ms - s.t_ms) < self.settings.suspect_window_ms
                   and self._distance_m(state, s, ev) <= near]
        state.suspects.append(ev)
        if not cluster:
            return []
        nodes = {s.node for s in cluster} | {ev.node}
        state.suspects = [s for s in state.suspects if s.node not in nodes]
        return self._open(state, [*cluster, *own, ev], f"suspects from {len(nodes)} nodes within {near:.0f} m")

    def _open(self, state: SiteState, evidence: list[Evidence], reason: str) -> list[Event]:
        first = min(evidence, key=lambda e: (e.t_ms, e.node))
        inc = Incident(incident_id(state.name, first.node, first.t_ms), state.name, first.node, first.t_ms,
                       first.t_ms, opened_reason=reason)
        for ev in sorted(evidence, key=lambda e: e.t_ms):
            self._add(inc, ev)
        state.incidents[inc.id] = inc
        self._relocate(state, inc)
        decided_ms = max(e.t_ms for e in evidence)  # stamped when the evidence sufficed, not at its first piece
        out = [records.transition_event(inc, OPENED, decided_ms, reason)]
        return out + self._maybe_confirm(inc, decided_ms)

    def _join(self, state: SiteState, matches: list[Incident], evidence: list[Evidence]) -> list[Event]:
        # A confirmed incident has paged already: it keeps its id, so the merge pages nobody again.
        keep = min(matches, key=lambda i: (not i.confirmed, i.first_ms, i.id))
        ev = evidence[-1]
        out = []
        for other in matches:
            if other is not keep:
                out += self._merge(state, keep, other, ev.t_ms)
        for piece in evidence:
            self._add(keep, piece)
        self._relocate(state, keep)
        for other in [i for i in state.incidents.values() if i is not keep]:
            if self._distance_m(state, keep, other) <= self._near_m(state):  # the estimates met
                out += self._merge(state, keep, other, ev.t_ms)
                self._relocate(state, keep)
        confirmed = self._maybe_confirm(keep, ev.t_ms)
        if confirmed:
            return out + confirmed
        return out + [records.transition_event(keep, UPDATED, ev.t_ms, f"evidence from {ev.node}")]

    def _merge(self, state: SiteState, keep: Incident, other: Incident, t_ms: int) -> list[Event]:
        del state.incidents[other.id]
        for m in other.members.values():
            mine = keep.members.get(m.node)
            if mine is None:
                keep.members[m.node] = m
            else:
                mine.first_ms, mine.last_ms = min(mine.first_ms, m.first_ms), max(mine.last_ms, m.last_ms)
                mine.alerts += m.alerts
                mine.peak_strength = max(mine.peak_strength, m.peak_strength)
                mine.level = max(mine.level, m.level)
        keep.first_ms, keep.last_ms = min(keep.first_ms, other.first_ms), max(keep.last_ms, other.last_ms)
        if other.confirmed and not keep.confirmed:
            keep.level, keep.confirmed_ms = LEVEL_CONFIRMED, other.confirmed_ms
        return [records.transition_event(other, MERGED, t_ms, f"merged into {keep.id}", merged_into=keep.id)]

    def _add(self, inc: Incident, ev: Evidence) -> None:
        m = inc.members.get(ev.node)
        if m is None:
            inc.members[ev.node] = Member(ev.node, ev.lat, ev.lon, ev.t_ms, ev.t_ms, 1, ev.strength, ev.strength,
                                          ev.level)
        else:
            m.escalated = m.escalated or (ev.level > m.level and ev.t_ms > m.first_ms)
            m.first_ms, m.last_ms = min(m.first_ms, ev.t_ms), max(m.last_ms, ev.t_ms)
            m.alerts += 1
            m.peak_strength = max(m.peak_strength, ev.strength)
            m.level = max(m.level, ev.level)
        inc.first_ms, inc.last_ms = min(inc.first_ms, ev.t_ms), max(inc.last_ms, ev.t_ms)

    def _maybe_confirm(self, inc: Incident, t_ms: int) -> list[Event]:
        if inc.confirmed:
            return []
        reason = self._confirmation(inc)
        if reason is None:
            return []
        inc.level, inc.confirmed_ms = LEVEL_CONFIRMED, t_ms
        inc.confidence = max(inc.confidence, _confidence(inc))
        return [records.transition_event(inc, CONFIRMED, t_ms, reason)]

    def _confirmation(self, inc: Incident) -> str | None:
        """Why the incident is now confirmed, or None. Nodes agree only when their evidence is close
        in time too: smoke reaches a neighbour within minutes, two unrelated nuisances rarely do."""
        s = self.settings
        members = sorted(inc.members.values(), key=lambda m: m.first_ms)
        for m in members:
            peers = [o for o in members if o is not m and o.first_ms - m.last_ms <= s.agree_window_ms
                     and m.first_ms - o.last_ms <= s.agree_window_ms]
            if len(peers) >= 2 or (peers and max(p.level for p in [m, *peers]) >= schema.LEVEL_FIRE):
                return f"{len(peers) + 1} nodes agree within {s.agree_window_ms // 60_000} min"
            grown = next((p for p in [m, *peers] if _grew(p, s.grown_factor)), None) if peers else None
            if grown:
                return (f"2 nodes agree within {s.agree_window_ms // 60_000} min and {grown.node}'s anomaly "
                        f"grew {grown.peak_strength / grown.first_strength:.1f}x")
        for m in members:
            if m.escalated:
                return f"{m.node} escalated from suspect to fire"
            if m.alerts >= s.persist_alerts and m.last_ms - m.first_ms >= s.persist_ms:
                return f"{m.node} alerted {m.alerts} times over {(m.last_ms - m.first_ms) // 60_000} min"
        return None

    def _relocate(self, state: SiteState, inc: Incident) -> None:
        proj = state.proj
        if proj is None:  # a restored incident before any new evidence
            proj = state.projection(inc.lat, inc.lon)
        inc.lat, inc.lon, inc.radius_m = locate(list(inc.members.values()), inc.first_ms, proj,
                                                self._spacing_m(state), self.settings.earliness_half_life_ms,
                                                self._wind_to(state, inc.last_ms), self.settings.upwind_shift)
        inc.confidence = _confidence(inc)

    # --- geometry --------------------------------------------------------------------------------

    def _spacing_m(self, state: SiteState) -> float:
        spacing = state.book.spacing_m()
        if spacing is None:
            return self.settings.near_fallback_m / self.settings.near_factor
        return spacing

    def _near_m(self, state: SiteState) -> float:
        if self.settings.near_m is not None:
            return self.settings.near_m
        spacing = state.book.spacing_m()
        if spacing is None:
            return self.settings.near_fallback_m
        return max(self.settings.near_min_m, spacing * self.settings.near_factor)

    def _wind_to(self, state: SiteState, t_ms: int) -> tuple[float, float] | None:
        w = state.wind
        if w is None or w[2] < self.settings.min_wind_ms or abs(t_ms - w[3]) > self.settings.weather_max_age_ms:
            return None
        return w[0], w[1]

    def _distance_m(self, state: SiteState, a, b) -> float:
        assert state.proj is not None
        ax, ay = state.proj.to_xy(a.lat, a.lon)
        bx, by = state.proj.to_xy(b.lat, b.lon)
        return math.hypot(ax - bx, ay - by)

    def _agrees(self, state: SiteState, inc: Incident, ev: Evidence) -> bool:
        """Evidence belongs to an incident if it comes from a member, a member's neighbour, or
        (with a recent wind) from downwind of the incident, inside the plume's cone."""
        if ev.t_ms - inc.last_ms >= self.settings.quiet_ms:
            return False
        near = self._near_m(state)
        if any(self._distance_m(state, m, ev) <= near for m in inc.members.values()):
            return True
        wind = self._wind_to(state, ev.t_ms)
        if wind is None:
            return False
        assert state.proj is not None
        ix, iy = state.proj.to_xy(inc.lat, inc.lon)
        ex, ey = state.proj.to_xy(ev.lat, ev.lon)
        dx, dy = ex - ix, ey - iy
        along = dx * wind[0] + dy * wind[1]
        reach = near * self.settings.plume_reach_factor
        if along <= 0 or math.hypot(dx, dy) > reach:
            return False
        return math.degrees(math.atan2(abs(dx * wind[1] - dy * wind[0]), along)) <= self.settings.plume_cone_deg


def _grew(m: Member, factor: float) -> bool:
    """The node's anomaly grew while it lasted: a later alert at least `factor` x its first one."""
    return factor > 0 and m.alerts >= 2 and m.peak_strength >= factor * m.first_strength


def _confidence(inc: Incident) -> float:
    """1 - P(every node's evidence is a false alarm), each node counted as an independent witness."""
    doubt = 1.0
    for m in inc.members.values():
        doubt *= 1 - (P_FIRE if m.level >= schema.LEVEL_FIRE else P_SUSPECT)
        doubt *= (1 - P_REPEAT) ** min(m.alerts - 1, 3)
    return round(1 - doubt, 2)
