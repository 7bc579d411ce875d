"""`emberwatch train`: real sensor data in, deployable int8 model out (one command).

With the default seed this reproduces the committed model: models/*.tflite,
the C array, models/model_card.json and edge_node/core/model_weights.py.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

HELP = "Train, quantize (int8), calibrate, evaluate and export the node autoencoder."

PROJECT_ROOT = Path(__file__).resolve().parent.parent
DEFAULT_SEED = 7


def add_arguments(parser: argparse.ArgumentParser) -> None:
    from training.csv_mapping import add_csv_arguments
    from training.real_data import default_data_dir

    parser.add_argument("--seed", type=int, default=DEFAULT_SEED,
                        help=f"random seed (default {DEFAULT_SEED} reproduces the committed model)")
    parser.add_argument("--data-dir", type=Path, default=default_data_dir(), help="the shared real data folder")
    parser.add_argument("--models-dir", type=Path, default=PROJECT_ROOT / "models",
                        help="where the trained model files go (default models/)")
    parser.add_argument("--weights-module", type=Path,
                        default=PROJECT_ROOT / "edge_node" / "core" / "model_weights.py",
                        help="generated weights module to write (default edge_node/core/model_weights.py)")
    parser.add_argument("--report", type=Path, default=PROJECT_ROOT / "docs" / "model_report.md",
                        help="markdown report path (ROC PNG beside it)")
    parser.add_argument("--no-report", action="store_true", help="skip writing the model report")
    parser.add_argument("--interval-s", type=int, default=30, help="node sampling interval the model is calibrated for")
    parser.add_argument("--deploy", choices=("plain", "distilled", "pruned", "qat"), default="distilled",
                        help="which student becomes the deployed int8 model")
    parser.add_argument("--no-qat", action="store_true",
                        help="skip the quantization-aware fine-tune of the distilled student (a table row)")
    parser.add_argument("--prune-sparsity", type=float, default=0.5, help="fraction of weights pruned (magnitude)")
    parser.add_argument("--teacher-epochs", type=int, default=30, help="teacher training epochs (default 30)")
    parser.add_argument("--student-epochs", type=int, default=60, help="student training epochs (default 60)")
    parser.add_argument("--target-false-alerts", type=float, default=0.05,
                        help="false alerts per node-day allowed on held-back normal data")
    parser.add_argument("--corrupt-fraction", type=float, default=0.5,
                        help="share of training rows with one channel shifted, the clean row as target "
                             "(denoising; 0 trains a plain autoencoder; default 0.5)")
    parser.add_argument("--debounce", default="2/3", help="k/n: alert when k of the last n samples are over")
    parser.add_argument("--cooldown-s", type=int, default=600, help="alert cooldown the calibration assumes, s (default 600)")
    add_csv_arguments(parser, "add your own recording (split in time: 70/15/15 %%)")
    parser.add_argument("--only-user-data", action="store_true",
                        help="train and calibrate on the --csv recording alone (the default sets still test)")
    parser.add_argument("--user-weight", type=int, default=1,
                        help="count the --csv recording's training rows this many times (default 1)")
    parser.add_argument("--quick", action="store_true", help="small data plan (for tests; not the committed model)")
    parser.add_argument("--quiet", action="store_true", help="no progress output")


def config_from_args(args: argparse.Namespace):
    from training.csv_mapping import MappingError
    from training.dataset import SplitPlan
    from training.train_pipeline import TrainConfig

    try:
        k, n = (int(v) for v in args.debounce.split("/"))
    except ValueError:
        raise SystemExit(f"--debounce must look like 2/3, got {args.debounce!r}") from None
    if not 1 <= k <= n <= 30:
        raise SystemExit("--debounce needs 1 <= k <= n <= 30")
    if not 0.0 <= args.prune_sparsity < 1.0:
        raise SystemExit("--prune-sparsity must be in [0, 1)")
    if not 0.0 <= args.corrupt_fraction <= 1.0:
        raise SystemExit("--corrupt-fraction must be in [0, 1]")
    plan = SplitPlan(interval_s=args.interval_s, phases=min(30, args.interval_s))
    if args.quick:
        plan = plan.quick()
    command = "emberwatch train" + ("" if args.seed == DEFAULT_SEED else f" --seed {args.seed}")
    command += " --quick" if args.quick else ""
    from training.csv_mapping import recording_from_args
    from training.dataset import user_length_problem

    user_recording = recording_from_args(args)
    if (args.only_user_data or args.user_weight != 1) and user_recording is None:
        raise MappingError("--only-user-data and --user-weight need --csv")
    if args.user_weight < 1:
        raise MappingError(f"--user-weight must be >= 1, got {args.user_weight}")
    if args.only_user_data and args.user_weight != 1:
        raise MappingError("--user-weight weighs the recording against the default data; "
                           "with --only-user-data there is none to weigh it against")
    if user_recording is not None:
        problem = user_length_problem(user_recording, plan.interval_s, alone=args.only_user_data)
        if problem:
            raise MappingError(problem)
        command += " " + " ".join(csv_options(args))
        command += " --only-user-data" if args.only_user_data else ""
        command += f" --user-weight {args.user_weight}" if args.user_weight != 1 else ""
    return TrainConfig(data_dir=args.data_dir, models_dir=args.models_dir, weights_module=args.weights_module,
                       report_path=None if args.no_report else args.report, seed=args.seed, plan=plan,
                       teacher_epochs=args.teacher_epochs, student_epochs=args.student_epochs,
                       prune_sparsity=args.prune_sparsity, deploy=args.deploy, qat=not args.no_qat,
                       target_false_alerts_per_node_day=args.target_false_alerts, debounce_k=k, debounce_n=n,
                       cooldown_s=args.cooldown_s, command=command,
                       user_recordings=() if user_recording is None else (user_recording,),
                       only_user_data=args.only_user_data, user_weight=args.user_weight,
                       corrupt_fraction=args.corrupt_fraction)


def csv_options(args: argparse.Namespace) -> list[str]:
    """The --csv options as given, for the `generated by` line of the files the run writes."""
    out = ["--csv", args.csv.name, "--map", args.column_map]
    for flag, value in (("--time", args.time), ("--label", args.label)):
        out += [flag, value] if value else []
    out += ["--time-unit", args.time_unit] if args.time_unit != "auto" else []
    out += ["--row-interval-s", f"{args.row_interval_s:g}"] if not args.time and args.row_interval_s != 1.0 else []
    out += [f"--missing {v:g}" for v in args.missing] + (["--sort"] if args.sort else [])
    return out + (["--delimiter", repr(args.delimiter)] if args.delimiter != "," else [])


def run(args: argparse.Namespace) -> int:
    import os

    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")  # keep TF's C++ chatter off the progress display
    from training.progress import Progress
    from training.real_data import DataMissing
    from training.sensor_table import InputError

    try:
        cfg = config_from_args(args)
    except InputError as exc:  # MappingError is one too
        print(f"emberwatch train: {exc}", file=sys.stderr)
        return 2
    progress = Progress(6, quiet=args.quiet)
    try:
        from training.train_pipeline import run_training
        card = run_training(cfg, progress)
    except (DataMissing, InputError) as exc:
        print(f"emberwatch train: {exc}", file=sys.stderr)
        return 2
    if card["calibration_node_days"] < 1:
        print(f"emberwatch train: warning: the threshold was calibrated on {card['calibration_node_days']:g} "
              "node-days of held-back normal data, too little to check a false-alert rate per day; set it from a "
              "longer clean recording with `emberwatch calibrate --csv`", file=sys.stderr)
    m = card["metrics"]["int8 autoencoder (deployed)"]
    print(json.dumps({"threshold": card["threshold"], "macs": card["macs_per_inference"],
                      "tflite_bytes": card["tflite_bytes"], "auc_labels_as_given": m["auc_labels_as_given"]["roc_auc"],
                      "auc_strong_event": m["auc_strong_event"]["roc_auc"],
                      "false_alerts_per_node_day": m["false_alerts_per_node_day"],
                      "events": m["events"], "parity": card["parity_tflite_micro"],
                      "calibration_node_days": card["calibration_node_days"],
                      "seconds": round(progress.elapsed_s(), 1), "written": card["written"]}, indent=2))
    return 0
