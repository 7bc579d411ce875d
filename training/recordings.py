"""A sensor recording in physical units, and how it becomes node features.

Every data source (real sets, user CSVs, the synthetic forest) produces a
`Recording`. `featurize` then turns it into exactly what a node computes:
integer temp_cc / rh_cp / gas_q8 fed with the real dt_s through the core
`NodePipeline` (fault checks, the gas heater held after a gap or a power-up,
the features), so training never sees a feature a node could not produce.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from edge_node.core.detector import Detector
from edge_node.core.features import N_FEATURES, gas_index_q8
from edge_node.core.pipeline import NodePipeline


@dataclass(frozen=True)
class Recording:
    """One continuous series from one sensor. Missing readings are NaN."""

    name: str
    t_s: np.ndarray
    temp_c: np.ndarray
    rh_pct: np.ndarray
    gas_raw: np.ndarray
    gas_sign: int
    label: np.ndarray | None = None  # 1 = fire/smoke, 0 = normal, per row
    provenance: str = ""
    extra: dict = field(default_factory=dict)

    def __len__(self) -> int:
        return len(self.t_s)

    def slice_rows(self, start: int, stop: int, name: str | None = None) -> Recording:
        label = None if self.label is None else self.label[start:stop]
        return Recording(name or f"{self.name}[{start}:{stop}]", self.t_s[start:stop],
                         self.temp_c[start:stop], self.rh_pct[start:stop], self.gas_raw[start:stop],
                         self.gas_sign, label, self.provenance)


@dataclass(frozen=True)
class FeatureSeries:
    """Node features for one recording, one row per node sample."""

    name: str
    t_s: np.ndarray
    features: np.ndarray  # int64, shape (n, 6)
    readings: np.ndarray  # int64 (temp_cc, rh_cp, gas_q8), shape (n, 3)
    dt_s: np.ndarray  # int64
    label: np.ndarray | None

    def __len__(self) -> int:
        return len(self.t_s)


def drop_missing(rec: Recording) -> Recording:
    """A node that fails a reading simply skips it: drop rows with any NaN (dt spans the gap)."""
    ok = np.isfinite(rec.temp_c) & np.isfinite(rec.rh_pct) & np.isfinite(rec.gas_raw) & np.isfinite(rec.t_s)
    if ok.all():
        return rec
    idx = np.flatnonzero(ok)
    label = None if rec.label is None else rec.label[idx]
    return Recording(rec.name, rec.t_s[idx], rec.temp_c[idx], rec.rh_pct[idx], rec.gas_raw[idx],
                     rec.gas_sign, label, rec.provenance)


def resample_indices(t_s: np.ndarray, interval_s: float, phase_s: float = 0.0) -> np.ndarray:
    """Rows a node sampling every interval_s would see: the first row at or after each tick.

    Series already coarser than the interval keep every row (their real dt is used).
    """
    if len(t_s) == 0:
        return np.zeros(0, dtype=np.int64)
    rel = t_s - t_s[0]  # epoch seconds (~1.8e9) resolve only ~2e-7 s: a 1e-9 tolerance on them lost the last row
    ticks = np.arange(phase_s, rel[-1] + 1e-6, interval_s)
    idx = np.searchsorted(rel, ticks - 1e-6, side="left")
    idx = idx[idx < len(t_s)]
    return np.unique(idx)


def feature_pipeline() -> NodePipeline:
    """The node's own pipeline for its `read_features` half only (fault checks, heater hold, features):
    no scorer, and its detector never sees a reading, so the slow baseline always adapts."""
    return NodePipeline(None, Detector(0, 1, 1, 0))


def featurize(rec: Recording, interval_s: float, phase_s: float = 0.0) -> FeatureSeries:
    """Run the node's own feature code over a recording sampled every interval_s."""
    rec = drop_missing(rec)
    idx = resample_indices(rec.t_s, interval_s, phase_s)
    n = len(idx)
    feats = np.zeros((n, N_FEATURES), dtype=np.int64)
    readings = np.zeros((n, 3), dtype=np.int64)
    dts = np.zeros(n, dtype=np.int64)
    node = feature_pipeline()
    t = rec.t_s[idx]
    temp_cc = np.rint(rec.temp_c[idx] * 100).astype(np.int64)
    rh_cp = np.rint(rec.rh_pct[idx] * 100).astype(np.int64)
    gas = np.maximum(1, np.rint(rec.gas_raw[idx])).astype(np.int64)
    prev_t = None
    for j in range(n):
        dt = round(interval_s) if prev_t is None else max(1, round(t[j] - prev_t))
        prev_t = t[j]
        gq = gas_index_q8(int(gas[j]), rec.gas_sign)
        feats[j] = node.read_features(dt, int(temp_cc[j]), int(rh_cp[j]), gq)
        readings[j] = (temp_cc[j], rh_cp[j], gq)
        dts[j] = dt
    label = None if rec.label is None else rec.label[idx].astype(np.int64)
    return FeatureSeries(rec.name, t, feats, readings, dts, label)


def stack_features(series: list[FeatureSeries], skip_warmup: int = 0) -> np.ndarray:
    """All feature rows of several series, optionally without each series' first rows."""
    parts = [s.features[skip_warmup:] for s in series if len(s) > skip_warmup]
    if not parts:
        return np.zeros((0, N_FEATURES), dtype=np.int64)
    return np.concatenate(parts)
