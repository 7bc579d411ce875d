"""The whole training run as small verb-named steps: data -> models -> int8 -> calibrate -> evaluate -> export."""

from __future__ import annotations

import contextlib
import os
import zlib
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import numpy as np

from edge_node.core import features as core_features
from edge_node.core.scoring import Int8Autoencoder, RiseRule
from training import dataset, export, metrics, quantize, scorers
from training.evaluation import Method, evaluate_method, roc_curves
from training.progress import Progress
from training.recordings import stack_features

RELU_AFTER = (True, False, True, False)  # 6-8-3-8-6: ReLU, linear bottleneck, ReLU, linear output


@dataclass(frozen=True)
class TrainConfig:
    data_dir: Path
    models_dir: Path
    weights_module: Path
    report_path: Path | None
    seed: int = 7
    plan: dataset.SplitPlan = field(default_factory=dataset.SplitPlan)
    teacher_epochs: int = 30
    student_epochs: int = 60
    prune_sparsity: float = 0.5
    deploy: str = "distilled"  # plain | distilled | pruned | qat
    qat: bool = False  # also fine-tune the distilled student quantization-aware
    target_false_alerts_per_node_day: float = 0.05
    debounce_k: int = 2
    debounce_n: int = 3
    cooldown_s: int = 600
    command: str = export.GENERATED_BY
    user_recordings: tuple = ()  # Recordings from --csv, split in time like the real blocks
    only_user_data: bool = False  # train and calibrate on the user's recordings alone (test sets unchanged)
    user_weight: int = 1          # the user's training rows count this many times
    corrupt_fraction: float = 0.5  # share of training rows with one channel shifted (denoising; 0: plain AE)


@contextlib.contextmanager
def quiet_native_output():
    """The TFLite converter prints pages of notes (Python and C++); keep them off stdout and the progress display."""
    import io

    saved = [os.dup(1), os.dup(2)]
    with open(os.devnull, "w") as null:
        os.dup2(null.fileno(), 1)
        os.dup2(null.fileno(), 2)
        try:
            with contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(io.StringIO()):
                yield
        finally:
            os.dup2(saved[0], 1)
            os.dup2(saved[1], 2)
            for fd in saved:
                os.close(fd)


def quantize_student(model, x_norm: np.ndarray) -> tuple[bytes, quantize.Int8Model]:
    with quiet_native_output():
        tfl = quantize.convert_int8(model, quantize.representative_rows(x_norm))
    return tfl, quantize.read_int8_model(tfl, RELU_AFTER)


def int8_autoencoder(model: quantize.Int8Model, scales: np.ndarray, threshold: int = 0) -> Int8Autoencoder:
    d = export.deploy_settings(model, scales, threshold, 1, 1, 0, 1)
    from edge_node.core import int8
    return Int8Autoencoder([int8.DenseLayer(*spec) for spec in model.layers], d.input_multipliers,
                           d.input_shifts, model.input_zp, model.output_zp, d.output_to_input_multiplier,
                           d.output_to_input_shift, threshold)


def parity_mismatches(tfl: bytes, model: quantize.Int8Model, n_inputs: int, seed: int) -> dict:
    """Random int8 inputs through TFLite Micro and the core kernel: rows that differ.

    Also counts the rows where LiteRT's BUILTIN_REF (one rounding) disagrees with TFLM (two), so
    the model card says how far LiteRT can serve as a reference for this model.
    """
    from edge_node.core import int8
    from training.tflm import run_tflm
    x = np.random.default_rng(seed).integers(-128, 128, (n_inputs, model.layers[0][0]))
    y_tflm, _ = run_tflm(tfl, x)
    y_litert, _ = quantize.run_litert(tfl, x)
    layers = [int8.DenseLayer(*spec) for spec in model.layers]
    kernel = sum(int8.forward(layers, [int(v) for v in row]) != [int(v) for v in ref] for row, ref in zip(x, y_tflm))
    return {"random_inputs": n_inputs, "mismatching_outputs": int(kernel),
            "litert_builtin_ref_rows_differing": int(np.any(y_litert != y_tflm, axis=1).sum())}


def compression_row(name: str, params: int, float_bytes: int | None, zlib_bytes: int, tflite_bytes: int | None,
                    auc: dict, auc_strong: dict) -> dict:
    return {"step": name, "params": params, "float32_bytes": float_bytes, "tflite_bytes": tflite_bytes,
            "zlib_bytes": zlib_bytes, "roc_auc": auc["roc_auc"], "roc_auc_strong_event": auc_strong["roc_auc"]}


def _float_zlib(model) -> int:
    return len(zlib.compress(b"".join(np.asarray(w, "<f4").tobytes() for w in model.get_weights()), 9))


def run_training(cfg: TrainConfig, progress: Progress) -> dict:
    from training import autoencoder as ae

    progress.step("load real data and featurize with edge_node.core.features.FeatureState")
    splits = dataset.build_splits(cfg.data_dir, cfg.plan, progress)
    n_default_calib = len(splits.calib)
    user_train: list = []
    for rec in cfg.user_recordings:
        before = len(splits.train)
        dataset.add_user_recording(splits, rec, cfg.plan)
        user_train += splits.train[before:]
    if cfg.user_recordings and cfg.only_user_data:
        splits.train = list(user_train)
        splits.calib = splits.calib[n_default_calib:]
        splits.provenance.insert(0, "trained and calibrated on the user's recording alone; "
                                    "the default sets below only test")
    # ~71,000 default rows drown a 30-minute recording: repeating its rows is how it gets a say
    splits.train += user_train * (cfg.user_weight - 1)
    f_train = stack_features(splits.train)
    scales = scorers.feature_scales(f_train)
    x = scorers.normalize(f_train, scales)
    ae.set_determinism(cfg.seed)
    calib_days = metrics.series_days(splits.calib)
    progress(f"{len(x)} training rows, {len(splits.calib)} calibration series ({calib_days:.2f} node-days), "
             f"{len(splits.test_labelled)} labelled test series")

    progress.step("train teacher, plain student, distilled student, pruned student (Keras, normal data only)")
    x_in = ae.corrupt_rows(x, scales, cfg.corrupt_fraction, cfg.seed)
    teacher = ae.train_plain(x, x_in, ae.TEACHER_UNITS, cfg.teacher_epochs, progress, "teacher")
    plain = ae.train_plain(x, x_in, ae.STUDENT_UNITS, cfg.student_epochs, progress, "student")
    distilled = ae.train_distilled(x, x_in, teacher, cfg.student_epochs, progress)
    short_epochs = max(5, cfg.student_epochs // 3)
    pruned = ae.prune_magnitude(distilled, x, x_in, cfg.prune_sparsity, short_epochs, progress)
    students = {"plain": plain, "distilled": distilled, "pruned": pruned}
    if cfg.qat or cfg.deploy == "qat":
        students["qat"] = ae.finetune_quantization_aware(distilled, x, x_in, short_epochs, progress)

    progress.step("full-integer int8 PTQ (TFLite converter) and read back into the core kernel")
    labelled, strong = splits.test_labelled, dataset.strong_event_subset(splits.test_labelled)
    y_all = dataset.concat_labels(labelled)[1]
    y_strong = dataset.concat_labels(strong)[1]

    def aucs(fn):
        return (metrics.auc_scores(y_all, np.concatenate(scorers.score_series(fn, labelled))),
                metrics.auc_scores(y_strong, np.concatenate(scorers.score_series(fn, strong))))

    table = [compression_row(f"teacher float {'-'.join(map(str, (6,) + ae.TEACHER_UNITS + (6,)))}",
                             teacher.count_params(), 4 * teacher.count_params(), _float_zlib(teacher), None,
                             *aucs(scorers.float_ae_scorer(teacher, scales)))]
    int8_models = {}
    for name, model in students.items():
        table.append(compression_row(f"student float ({name})", model.count_params(), 4 * model.count_params(),
                                     _float_zlib(model), None, *aucs(scorers.float_ae_scorer(model, scales))))
        tfl, q = quantize_student(model, x)
        int8_models[name] = (tfl, q)
        label = "int8 after QAT fine-tune" if name == "qat" else f"int8 PTQ ({name})"
        table.append(compression_row(f"student {label}", model.count_params(), None,
                                     quantize.entropy_coded_bytes(q), len(tfl),
                                     *aucs(scorers.int8_scorer(int8_autoencoder(q, scales)))))
        progress(f"compressed {name}: {table[-1]}")
    tfl, q = int8_models[cfg.deploy]
    deployed_float = students[cfg.deploy]

    progress.step("calibrate thresholds on held-back normal data")
    k, n, cool = cfg.debounce_k, cfg.debounce_n, cfg.cooldown_s
    fns = {"int8 autoencoder (deployed)": scorers.memoized(scorers.int8_scorer(int8_autoencoder(q, scales))),
           "float autoencoder (same student)": scorers.float_ae_scorer(deployed_float, scales),
           "RiseRule (calibrated)": scorers.rise_rule_scorer()}
    fns.update(scorers.baseline_scorers(x, scales, cfg.seed))
    methods = []
    for name, fn in fns.items():
        s = metrics.calibrate_threshold(scorers.score_series(fn, splits.calib), splits.calib, k, n, cool,
                                        cfg.target_false_alerts_per_node_day, integer="int8" in name or "Rise" in name)
        methods.append(Method(name, fn, s))
        progress(f"{name}: threshold {s.threshold}")
    methods.append(Method("RiseRule (static, threshold 100)", fns["RiseRule (calibrated)"],
                          metrics.DetectorSettings(RiseRule().threshold, k, n, cool)))

    progress.step("evaluate every method on the test blocks")
    results = {}
    for m in methods:
        results[m.name] = evaluate_method(m, labelled, splits.test_normal, event_prefixes(cfg))
        progress(f"evaluated {m.name}")
    curves = {"labels as given": roc_curves(methods[:-1], labelled),
              "strong event F vs quiet C": roc_curves(methods[:-1], strong)}
    sensitivity = debounce_sensitivity(methods[0], splits, cfg)

    progress.step("parity check and export")
    mismatches = parity_mismatches(tfl, q, 10000, cfg.seed)
    threshold = int(methods[0].settings.threshold)
    d = export.deploy_settings(q, scales, threshold, k, n, cool, cfg.plan.interval_s)
    card = model_card(cfg, q, d, scales, tfl, results, table, splits.provenance, mismatches, len(x))
    card["calibration_node_days"] = round(calib_days, 3)
    card["debounce_sensitivity"] = sensitivity
    written = export.write_all(export.ExportPaths(cfg.models_dir, cfg.weights_module), tfl, q, d, card, cfg.command)
    if cfg.report_path is not None:
        from training import report
        written += report.write_report(cfg.report_path, card, curves)
    card["written"] = [str(p) for p in written]
    return card


def event_prefixes(cfg: TrainConfig) -> tuple[str, ...]:
    labelled = tuple(rec.name for rec in cfg.user_recordings if rec.label is not None and rec.label.max() > 0)
    return ("smoke_A_alarm", "smoke_F") + labelled


def trained_on(cfg: TrainConfig) -> str:
    user = "".join(f", plus the first 70 % of {r.name}" for r in cfg.user_recordings)
    if cfg.only_user_data:
        return "normal rows only: the first 70 % of " + " and ".join(r.name for r in cfg.user_recordings) + \
            f" (sampled every {cfg.plan.interval_s} s, at up to {cfg.plan.phases} phase offsets when finer)"
    weight = f" (counted {cfg.user_weight} times)" if cfg.user_recordings and cfg.user_weight > 1 else ""
    return ("normal rows only: smoke set block A rows 0-2199 (1 Hz, sampled every "
            f"{cfg.plan.interval_s} s at {cfg.plan.phases} phase offsets) and synthetic forest background"
            + user + weight)


DEBOUNCE_CANDIDATES = ((1, 1), (2, 3), (3, 5), (4, 6))


def debounce_sensitivity(deployed: Method, splits: dataset.DataSplits, cfg: TrainConfig) -> list[dict]:
    """Post-hoc view (not used to choose): each k-of-n with its own calibrated threshold, on the test data."""
    rows = []
    calib_scores = scorers.score_series(deployed.score, splits.calib)
    for k, n in DEBOUNCE_CANDIDATES:
        s = metrics.calibrate_threshold(calib_scores, splits.calib, k, n, cfg.cooldown_s,
                                        cfg.target_false_alerts_per_node_day)
        r = evaluate_method(Method(deployed.name, deployed.score, s), splits.test_labelled, splits.test_normal,
                            event_prefixes(cfg))
        rows.append({"k": k, "n": n, "threshold": s.threshold, "events": r["events"],
                     "false_alerts_per_node_day": r["false_alerts_per_node_day"]})
    return rows


def model_card(cfg: TrainConfig, q: quantize.Int8Model, d: export.DeploySettings, scales: np.ndarray,
               tfl: bytes, results: dict, table: list, provenance: list, mismatches: dict, n_train: int) -> dict:
    macs = sum(layer[0] * layer[1] for layer in q.layers)
    return {
        "model": "emberwatch int8 dense autoencoder 6-8-3-8-6",
        "generated_by": cfg.command,
        "date_utc": datetime.now(UTC).strftime("%Y-%m-%d"),
        "seed": cfg.seed,
        "deployed_variant": cfg.deploy,
        "features": list(core_features.FEATURE_NAMES),
        "feature_code": "edge_node.core.features.FeatureState (EMA tau fast/mid/slow "
                        f"{core_features.TAU_FAST_S}/{core_features.TAU_MID_S}/{core_features.TAU_SLOW_S} s)",
        "sample_interval_s": cfg.plan.interval_s,
        "feature_scales": [float(s) for s in scales],
        "input_clip_normalized": quantize.INPUT_CLIP,
        "input_scale": q.input_scale, "input_zero_point": q.input_zp,
        "output_scale": q.output_scale, "output_zero_point": q.output_zp,
        "input_multipliers": list(d.input_multipliers), "input_shifts": list(d.input_shifts),
        "output_to_input_multiplier": d.output_to_input_multiplier,
        "output_to_input_shift": d.output_to_input_shift,
        "layer_zero_points": [[layer[4], layer[5]] for layer in q.layers],
        "threshold": d.threshold, "debounce_k": d.debounce_k, "debounce_n": d.debounce_n,
        "cooldown_s": d.cooldown_s,
        "calibration": f"lowest threshold with <= {cfg.target_false_alerts_per_node_day} false alerts per "
                       f"node-day on held-back normal data (k={d.debounce_k} of n={d.debounce_n}, "
                       f"cooldown {d.cooldown_s} s; readings in wet air, edge_node.core.detector.wet_air, "
                       f"count as no evidence; the node's wider no_fire_evidence rule (air neither smoky nor "
                       f"warming) is left out here, so it only adds rejection and never loosens this threshold)",
        "macs_per_inference": macs,
        "int8_weight_bytes": sum(len(layer[2]) for layer in q.layers),
        "int32_bias_bytes": sum(4 * len(layer[3]) for layer in q.layers),
        "entropy_coded_bytes_zlib9": quantize.entropy_coded_bytes(q),
        "tflite_bytes": len(tfl),
        "parity_tflite_micro": mismatches,
        "training_rows": n_train,
        "training": {"teacher_epochs": cfg.teacher_epochs, "student_epochs": cfg.student_epochs,
                     "prune_sparsity": cfg.prune_sparsity, "plan": asdict(cfg.plan),
                     "denoising": f"{cfg.corrupt_fraction:.0%} of training rows with one channel shifted, "
                                  "the clean row as target (training/autoencoder.py corrupt_rows)"},
        "data_provenance": provenance,
        "trained_on": trained_on(cfg),
        "compression": table,
        "metrics": results,
    }
