"""Evaluate any set of scoring methods on the same splits, the same way.

Used by `emberwatch train` (all methods, for the report) and by
`emberwatch evaluate` (the committed int8 model and the rule, no TensorFlow).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from training import metrics
from training.dataset import concat_labels, strong_event_subset
from training.recordings import FeatureSeries
from training.scorers import ScoreFn, score_series


@dataclass(frozen=True)
class Method:
    name: str
    score: ScoreFn
    settings: metrics.DetectorSettings


def evaluate_method(method: Method, labelled: list[FeatureSeries], normal: dict[str, list[FeatureSeries]],
                    event_prefixes: tuple[str, ...] = ("smoke_A_alarm", "smoke_F")) -> dict:
    scores = score_series(method.score, labelled)
    result: dict = {"threshold": method.settings.threshold, "debounce": [method.settings.k, method.settings.n],
                    "cooldown_s": method.settings.cooldown_s}
    if labelled:
        _, y = concat_labels(labelled)
        result["auc_labels_as_given"] = metrics.auc_scores(y, np.concatenate(scores))
        strong = strong_event_subset(labelled)
        if strong:
            _, ys = concat_labels(strong)
            result["auc_strong_event"] = metrics.auc_scores(ys, np.concatenate(score_series(method.score, strong)))
        events = [e for sc, fs in zip(scores, labelled) for e in metrics.event_delays(sc, fs, method.settings)]
        result["events"] = {p: metrics.summarize_delays(events, p) for p in event_prefixes}
    result["false_alerts_per_node_day"] = {
        group: metrics.false_alerts_per_node_day(score_series(method.score, series), series, method.settings)
        for group, series in normal.items()}
    result["node_days"] = {group: metrics.series_days(series) for group, series in normal.items()}
    return result


def roc_curves(methods: list[Method], labelled: list[FeatureSeries]) -> dict[str, tuple[np.ndarray, np.ndarray]]:
    from sklearn.metrics import roc_curve

    _, y = concat_labels(labelled)
    out = {}
    for m in methods:
        fpr, tpr, _ = roc_curve(y, np.concatenate(score_series(m.score, labelled)))
        out[m.name] = (fpr, tpr)
    return out
