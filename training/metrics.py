"""What "good" means for a node: separation, false alerts per node-day, detection delay.

Scores are replayed through the core `Detector` (the node's own debounce and
cooldown, and its no-evidence rule), so alert counts are the ones a node would send.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import cast

import numpy as np

from edge_node.core.detector import Detector, no_fire_evidence, wet_air
from training.recordings import FeatureSeries

DAY_S = 86400.0


@dataclass(frozen=True)
class DetectorSettings:
    threshold: float
    k: int
    n: int
    cooldown_s: int


def alert_times(scores: np.ndarray, fs: FeatureSeries, s: DetectorSettings, rule=no_fire_evidence) -> np.ndarray:
    """Event times at which a node with these settings would publish an alert.

    rule: which readings count as no evidence; the node's own by default. Threshold calibration
    passes `wet_air` alone, so the factory threshold sits where the model is quiet on normal air
    itself and the node's wider rule only adds rejection to it.
    """
    # Baselines score in floats; the node's integer comparison works for them unchanged offline.
    det = Detector(cast(int, s.threshold), s.k, s.n, s.cooldown_s)
    evidence = np.where(rule(fs.features.T), 0, scores)
    out = []
    for score, t in zip(evidence, fs.t_s):
        if det.update(score, round(t * 1000)):
            out.append(t)
    return np.asarray(out)


def series_days(series: list[FeatureSeries]) -> float:
    return sum((s.t_s[-1] - s.t_s[0] + np.median(s.dt_s)) / DAY_S for s in series if len(s) > 1)


def false_alerts_per_node_day(scores_per_series: list[np.ndarray], series: list[FeatureSeries],
                              s: DetectorSettings, rule=no_fire_evidence) -> float:
    alerts = sum(len(alert_times(sc, fs, s, rule)) for sc, fs in zip(scores_per_series, series))
    days = series_days(series)
    return alerts / days if days > 0 else float("nan")


def events(label: np.ndarray) -> list[tuple[int, int]]:
    """Contiguous runs of label 1 as [start, stop) row ranges."""
    padded = np.concatenate([[0], label.astype(int), [0]])
    d = np.diff(padded)
    return list(zip(np.flatnonzero(d == 1), np.flatnonzero(d == -1)))


@dataclass(frozen=True)
class EventResult:
    series: str
    start_s: float
    duration_s: float
    delay_s: float | None  # None: missed (no alert before the event ended)
    alerts_before: int     # false alerts in the same series before the event began


def event_delays(scores: np.ndarray, fs: FeatureSeries, s: DetectorSettings, min_len: int = 3) -> list[EventResult]:
    """Start of each labelled event to the node's first alert inside it."""
    if fs.label is None:
        raise ValueError(f"{fs.name} has no labels: detection delay needs labelled events")
    alerts = alert_times(scores, fs, s)
    out = []
    for start, stop in events(fs.label):
        if stop - start < min_len:  # 2-3 s label flickers in the smoke set are not events
            continue
        t0, t1 = fs.t_s[start], fs.t_s[stop - 1]
        inside = alerts[(alerts >= t0) & (alerts <= t1)]
        out.append(EventResult(fs.name, float(t0), float(t1 - t0),
                               float(inside[0] - t0) if len(inside) else None,
                               int(np.sum(alerts < t0))))
    return out


def summarize_delays(results: list[EventResult], prefix: str) -> dict:
    """Median delay and misses over the phase copies of one event."""
    picked = [r for r in results if r.series.startswith(prefix)]
    delays = [r.delay_s for r in picked if r.delay_s is not None]
    return {"events": len(picked), "detected": len(delays),
            "median_delay_s": float(np.median(delays)) if delays else None,
            "max_delay_s": float(np.max(delays)) if delays else None}


def auc_scores(y: np.ndarray, score: np.ndarray) -> dict:
    from sklearn.metrics import average_precision_score, roc_auc_score

    if len(np.unique(y)) < 2:
        return {"roc_auc": None, "pr_auc": None, "positives": int(y.sum()), "n": len(y)}
    return {"roc_auc": float(roc_auc_score(y, score)), "pr_auc": float(average_precision_score(y, score)),
            "positives": int(y.sum()), "n": len(y)}


def calibrate_threshold(scores_per_series: list[np.ndarray], series: list[FeatureSeries], k: int, n: int,
                        cooldown_s: int, target_per_node_day: float, integer: bool = True) -> DetectorSettings:
    """Lowest threshold whose false alerts per node-day on held-back normal data stay at or under target."""
    allv = np.unique(np.concatenate(scores_per_series))
    lo, hi = 0, len(allv) - 1  # search over observed score values: above the max there are no alerts
    while lo < hi:
        mid = (lo + hi) // 2
        s = DetectorSettings(float(allv[mid]), k, n, cooldown_s)
        if false_alerts_per_node_day(scores_per_series, series, s, wet_air) <= target_per_node_day:
            hi = mid
        else:
            lo = mid + 1
    thr = allv[lo]
    return DetectorSettings(int(thr) if integer else float(thr), k, n, cooldown_s)
