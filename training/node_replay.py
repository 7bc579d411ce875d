"""A recording replayed exactly as a node would live it, and judged per event.

`replay` keeps one reading per wake (the first row at or after each wake time, so
rows that arrive faster than the node's interval are skipped and gaps stay gaps,
with their real dt) and steps the real `edge_node.core` NodePipeline: the scores,
levels, fault bits and thresholds are the node's own, self-calibration included.
`judge` then counts per event: for a fire, the delay from its TRUE onset (the first
labelled row of the source, not the first row the node happened to sample) to the
first alert and to the first fire-level alert; for a nuisance, how many alerts it
raised at each level; outside every window, false alerts per node-day.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from edge_node.core import schema
from edge_node.core.features import gas_index_q8
from edge_node.core.pipeline import NodePipeline

NUISANCE_TAIL_S = 600   # alerts this soon after a window ends still belong to it (the averages still remember)
EVENT_KINDS = ("fire", "nuisance")


@dataclass(frozen=True)
class Sample:
    t_s: float
    line: int        # source line of the reading
    score: int
    threshold: int
    level: int       # 0: no alert sent; else schema.LEVEL_SUSPECT / LEVEL_FIRE
    anomalous: bool  # the debounced score was over threshold (alert or not, cooldown aside)
    faults: int


@dataclass(frozen=True)
class Event:
    kind: str        # fire or nuisance
    start_s: float   # true onset
    end_s: float
    name: str = ""


def wakes(t_s: np.ndarray, interval_s: int):
    """(row, time s, dt s) of the rows a node waking every interval_s reads: the first row at or after
    each wake, dt from the previous row read (a gap in the data is a gap for the node)."""
    next_wake, prev_t = -np.inf, None
    for i in range(len(t_s)):
        t = float(t_s[i])
        if t < next_wake:
            continue
        yield i, t, interval_s if prev_t is None else max(1, int(round(t - prev_t)))
        prev_t, next_wake = t, t + interval_s


def replay(pipeline: NodePipeline, t_s: np.ndarray, lines: np.ndarray, temp_c: np.ndarray, rh_pct: np.ndarray,
           gas_raw: np.ndarray, gas_sign: int, interval_s: int) -> list[Sample]:
    out: list[Sample] = []
    for i, t, dt_s in wakes(t_s, interval_s):
        gas_q8 = gas_index_q8(max(1, int(round(gas_raw[i]))), gas_sign)
        level, score, _ = pipeline.step(int(round(t * 1000)), dt_s, int(round(temp_c[i] * 100)),
                                        int(round(rh_pct[i] * 100)), gas_q8)
        out.append(Sample(t, int(lines[i]), score, pipeline.threshold(), int(level),
                          pipeline.detector.anomalous, pipeline.faults))
    return out


def events_from_label(t_s: np.ndarray, label: np.ndarray, kind: str = "fire") -> list[Event]:
    """Contiguous runs of label > 0 in the source rows: onset = the first labelled row's time."""
    on = np.asarray(label) > 0
    out = []
    i = 0
    while i < len(on):
        if on[i]:
            j = i
            while j + 1 < len(on) and on[j + 1]:
                j += 1
            out.append(Event(kind, float(t_s[i]), float(t_s[j]), f"label rows {i + 1}-{j + 1}"))
            i = j + 1
        else:
            i += 1
    return out


def judge(samples: list[Sample], events: list[Event], interval_s: int, k: int) -> dict:
    alerts = [s for s in samples if s.level]
    per_event = []
    claimed: set[int] = set()
    for ev in events:
        tail = NUISANCE_TAIL_S if ev.kind == "nuisance" else 0
        inside = [s for s in alerts if ev.start_s <= s.t_s <= ev.end_s + tail]
        claimed |= {id(s) for s in inside}
        row: dict = {"kind": ev.kind, "name": ev.name, "onset_s": ev.start_s, "end_s": ev.end_s,
                     "samples": sum(1 for s in samples if ev.start_s <= s.t_s <= ev.end_s)}
        first_sampled = next((s.t_s for s in samples if s.t_s >= ev.start_s), None)
        row["first_sample_after_onset_s"] = None if first_sampled is None else round(first_sampled - ev.start_s, 3)
        if ev.kind == "fire":
            first = next((s for s in inside), None)
            first_fire = next((s for s in inside if s.level == schema.LEVEL_FIRE), None)
            row["detected"] = first is not None
            row["delay_s"] = None if first is None else round(first.t_s - ev.start_s, 3)
            row["detected_at_fire_level"] = first_fire is not None
            row["fire_level_delay_s"] = None if first_fire is None else round(first_fire.t_s - ev.start_s, 3)
        else:
            row["fire_level_alerts"] = sum(1 for s in inside if s.level == schema.LEVEL_FIRE)
            row["suspect_alerts"] = sum(1 for s in inside if s.level == schema.LEVEL_SUSPECT)
        per_event.append(row)
    outside = [s for s in alerts if id(s) not in claimed
               and not any(ev.start_s <= s.t_s <= ev.end_s + NUISANCE_TAIL_S for ev in events)]
    span_s = samples[-1].t_s - samples[0].t_s if len(samples) > 1 else 0.0
    quiet_s = max(0.0, span_s - sum(min(ev.end_s + NUISANCE_TAIL_S, samples[-1].t_s) - max(ev.start_s, samples[0].t_s)
                                    for ev in events if ev.end_s + NUISANCE_TAIL_S > samples[0].t_s
                                    and ev.start_s < samples[-1].t_s)) if samples else 0.0
    days = quiet_s / 86400.0
    fires = [e for e in per_event if e["kind"] == "fire"]
    delays = [e["delay_s"] for e in fires if e["delay_s"] is not None]
    return {
        "samples": len(samples),
        "alerts": {"suspect": sum(1 for s in alerts if s.level == schema.LEVEL_SUSPECT),
                   "fire": sum(1 for s in alerts if s.level == schema.LEVEL_FIRE)},
        "delay_floor_s": (k - 1) * interval_s,
        "fires": len(fires),
        "fires_detected": sum(1 for e in fires if e["detected"]),
        "fires_detected_at_fire_level": sum(1 for e in fires if e["detected_at_fire_level"]),
        "median_delay_s": float(np.median(delays)) if delays else None,
        "nuisances": sum(1 for e in per_event if e["kind"] == "nuisance"),
        "nuisances_at_fire_level": sum(1 for e in per_event if e["kind"] == "nuisance" and e["fire_level_alerts"]),
        "false_alerts_outside_events": {"suspect": sum(1 for s in outside if s.level == schema.LEVEL_SUSPECT),
                                        "fire": sum(1 for s in outside if s.level == schema.LEVEL_FIRE)},
        "quiet_node_days": round(days, 4),
        "false_fire_alerts_per_node_day": (round(sum(1 for s in outside if s.level == schema.LEVEL_FIRE) / days, 4)
                                           if days > 0 else None),
        "faulty_samples": sum(1 for s in samples if s.faults),
        "events": per_event,
    }


def write_rows(path, samples: list[Sample]) -> None:
    """Per-sample output: what the node computed and decided at each wake."""
    with open(path, "w", encoding="utf-8") as f:
        f.write("time_s,line,score,threshold,anomalous,level,alert,faults\n")
        for s in samples:
            f.write(f"{s.t_s:.3f},{s.line},{s.score},{s.threshold},{int(s.anomalous)},{s.level},"
                    f"{1 if s.level else 0},{s.faults}\n")
