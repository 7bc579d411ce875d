"""Which data trains, calibrates and tests the default model, split by contiguous blocks.

Real smoke data (1 Hz) is sampled at the node interval from every phase
offset (as 30 nodes sampling the same air at different moments would), and
each split is a time range inside one unique block:
  train  smoke A rows 0-2199 (normal)            + synthetic forest, seeds 1000+
  calib  smoke A rows 2200-3177 (normal)         + synthetic forest, seeds 2000+
  test   smoke A rows 3178+ (alarm session), F, C (labels as given)
         + synthetic forest seeds 3000+, BME688 clean air, UCI occupancy, UCI street air
The duplicated blocks A_dup and C_dup are never used.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from training import real_data, synthetic
from training.csv_mapping import MappingError
from training.recordings import FeatureSeries, Recording, drop_missing, featurize, resample_indices

SMOKE_TRAIN_END_S = 2200
SMOKE_NORMAL_END_S = 3178  # block A turns to its alarm session here


@dataclass(frozen=True)
class SplitPlan:
    interval_s: int = 30
    phases: int = 30                 # phase offsets for 1 Hz real data (<= interval_s)
    train_nodes: int = 12
    calib_nodes: int = 12
    test_nodes: int = 12
    node_days: float = 2.0
    with_extra_real_normal: bool = True  # BME688, occupancy, street air in the test set

    def quick(self) -> SplitPlan:
        """Small plan for tests: minutes of CPU instead of the full run."""
        return SplitPlan(self.interval_s, 3, 2, 2, 2, 1.0, False)


@dataclass
class DataSplits:
    train: list[FeatureSeries] = field(default_factory=list)
    calib: list[FeatureSeries] = field(default_factory=list)
    test_labelled: list[FeatureSeries] = field(default_factory=list)   # real fire/smoke sessions
    test_normal: dict[str, list[FeatureSeries]] = field(default_factory=dict)  # group -> series
    provenance: list[str] = field(default_factory=list)


def rows_between(fs: FeatureSeries, start_s: float, stop_s: float, name: str) -> FeatureSeries:
    """Feature rows whose time falls in [start_s, stop_s): features keep their full history."""
    m = (fs.t_s >= start_s) & (fs.t_s < stop_s)
    label = None if fs.label is None else fs.label[m]
    return FeatureSeries(name, fs.t_s[m], fs.features[m], fs.readings[m], fs.dt_s[m], label)


def phase_offsets(plan: SplitPlan) -> list[float]:
    step = max(1, plan.interval_s // plan.phases)
    return [float(p) for p in range(0, plan.interval_s, step)][: plan.phases]


def _featurize_all(recs: list[Recording], interval_s: int) -> list[FeatureSeries]:
    return [featurize(r, interval_s) for r in recs]


def build_splits(data_dir: Path, plan: SplitPlan, progress=lambda *a: None) -> DataSplits:
    out = DataSplits()
    blocks = real_data.load_smoke_blocks(data_dir)
    out.provenance.append(f"{blocks['A'].provenance}: blocks A (rows 0-24993), F (49988-51146), "
                          "C (51147-56890); duplicates A_dup, C_dup unused")
    for i, phase in enumerate(phase_offsets(plan)):
        progress(f"featurizing smoke blocks, phase {phase:.0f} s", i + 1, plan.phases)
        a = featurize(blocks["A"], plan.interval_s, phase)
        out.train.append(rows_between(a, 0, SMOKE_TRAIN_END_S, f"smoke_A_train_p{phase:.0f}"))
        out.calib.append(rows_between(a, SMOKE_TRAIN_END_S, SMOKE_NORMAL_END_S, f"smoke_A_calib_p{phase:.0f}"))
        out.test_labelled.append(rows_between(a, SMOKE_NORMAL_END_S, 1e12, f"smoke_A_alarm_p{phase:.0f}"))
        for b in ("F", "C"):
            fs = featurize(blocks[b], plan.interval_s, phase)
            out.test_labelled.append(FeatureSeries(f"smoke_{b}_p{phase:.0f}", fs.t_s, fs.features, fs.readings,
                                                   fs.dt_s, fs.label))
    progress("generating synthetic forest nodes", 0, 1)
    days, iv = plan.node_days, plan.interval_s
    out.train += _featurize_all(synthetic.forest_nodes(1000, plan.train_nodes, days, iv), iv)
    out.calib += _featurize_all(synthetic.forest_nodes(2000, plan.calib_nodes, days, iv), iv)
    out.test_normal["synthetic forest"] = _featurize_all(synthetic.forest_nodes(3000, plan.test_nodes, days, iv), iv)
    out.provenance.append(f"synthetic forest background (training.synthetic), {plan.node_days:g} days per node: "
                          f"train seeds 1000-{999 + plan.train_nodes}, calib seeds 2000-{1999 + plan.calib_nodes}, "
                          f"test seeds 3000-{2999 + plan.test_nodes}")
    if plan.with_extra_real_normal:
        progress("featurizing extra real normal data", 1, 1)
        bme = real_data.load_bme688_clean_air(data_dir)
        out.test_normal["BME688 clean air"] = _featurize_all(bme, iv)
        occ = real_data.load_occupancy(data_dir)
        out.test_normal["UCI occupancy (indoor)"] = _featurize_all(occ, iv)
        out.test_normal["UCI street air (hourly)"] = _featurize_all([real_data.load_air_quality(data_dir)], iv)
        out.provenance += [bme[0].provenance + " (test only)", occ[0].provenance + " and 2 more files (test only)",
                           real_data.AIR_QUALITY_FILE + " (test only, -200 = missing)"]
    return out


USER_TRAIN_FRACTION = 0.7
USER_CALIB_FRACTION = 0.15
MIN_USER_SAMPLES = 20        # a recording added to the default data: a 70/15/15 split at all
MIN_ONLY_USER_SAMPLES = 120  # a recording that is all the model learns: 1 h at 30 s, so 15 % calibrates on 9 min


def user_length_problem(rec: Recording, interval_s: int, alone: bool) -> str | None:
    """Why the recording is too short to train on (None when it is long enough); cheap, before any heavy work."""
    n = len(resample_indices(drop_missing(rec).t_s, interval_s))  # featurize's row count, without running the node
    need = MIN_ONLY_USER_SAMPLES if alone else MIN_USER_SAMPLES
    if n >= need:
        return None
    span = float(rec.t_s[-1] - rec.t_s[0]) if len(rec.t_s) > 1 else 0.0
    text = (f"{rec.name}: {len(rec.t_s)} rows spanning {span:.0f} s give {n} node samples at {interval_s} s; "
            f"training needs at least {need} ({need * interval_s // 60} min)")
    if alone:
        return text + (" when it learns from this recording alone (--only-user-data); record longer, or add it "
                       "to the default data (drop --only-user-data, weigh it with --user-weight N)")
    return text + ", or a shorter --interval-s"


def user_phase_offsets(rec: Recording, plan: SplitPlan) -> list[float]:
    """Phase offsets at which a recording finer than the node interval is sampled, as the smoke blocks are.

    Rows at or coarser than the interval give one series (an offset would only drop the first row).
    """
    row_s = float(np.median(np.diff(rec.t_s))) if len(rec.t_s) > 1 else float(plan.interval_s)
    n = max(1, min(plan.phases, int(plan.interval_s // max(row_s, 1e-9))))
    return [plan.interval_s * i / n for i in range(n)]


def _normal_rows(fs: FeatureSeries) -> FeatureSeries:
    if fs.label is None:
        return fs
    m = fs.label == 0
    return FeatureSeries(fs.name, fs.t_s[m], fs.features[m], fs.readings[m], fs.dt_s[m], fs.label[m])


def add_user_recording(out: DataSplits, rec: Recording, plan: SplitPlan) -> None:
    """A user CSV splits in time: first 70 % trains, next 15 % calibrates (normal rows only), last 15 % tests.

    Each phase offset (user_phase_offsets) is one more series in every split, cut at the same times.
    """
    problem = user_length_problem(rec, plan.interval_s, alone=False)
    if problem:
        raise MappingError(problem)
    first = featurize(rec, plan.interval_s)
    t_a = first.t_s[int(USER_TRAIN_FRACTION * len(first))]
    t_b = first.t_s[int((USER_TRAIN_FRACTION + USER_CALIB_FRACTION) * len(first))]
    offsets = user_phase_offsets(rec, plan)
    for phase in offsets:
        fs = featurize(rec, plan.interval_s, phase) if phase else first
        tag = "" if len(offsets) == 1 else f"_p{phase:.0f}"
        out.train.append(_normal_rows(rows_between(fs, -1e18, t_a, f"{rec.name}_train{tag}")))
        out.calib.append(_normal_rows(rows_between(fs, t_a, t_b, f"{rec.name}_calib{tag}")))
        test = rows_between(fs, t_b, 1e18, f"{rec.name}_test{tag}")
        if test.label is not None and len(test) and test.label.max() > 0:
            out.test_labelled.append(test)
        else:
            out.test_normal.setdefault("user CSV", []).append(test)
    out.provenance.append(f"{rec.provenance}: rows before t={t_a:.0f} s train, to t={t_b:.0f} s calib, rest test"
                          f" ({len(offsets)} phase offset{'s' if len(offsets) > 1 else ''})")


def strong_event_subset(series: list[FeatureSeries]) -> list[FeatureSeries]:
    """Block F (the combustion signature) plus the quiet part of C, for an AUC the weak labels cannot blur."""
    picked = [s for s in series if s.name.startswith("smoke_F")]
    for s in series:
        if s.name.startswith("smoke_C"):
            m = s.t_s < real_data.UNLABELLED_EVENT_ROW_C - real_data.SMOKE_BLOCKS["C"][0]  # before C's unlabelled heat event
            picked.append(FeatureSeries(s.name + "_quiet", s.t_s[m], s.features[m], s.readings[m], s.dt_s[m],
                                        None if s.label is None else s.label[m]))
    return picked


def concat_labels(series: list[FeatureSeries]) -> tuple[np.ndarray, np.ndarray]:
    x = np.concatenate([s.features for s in series]) if series else np.zeros((0, 6), dtype=np.int64)
    y = np.concatenate([s.label for s in series]) if series else np.zeros(0, dtype=np.int64)
    return x, y
