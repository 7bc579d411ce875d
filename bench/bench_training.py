"""Benchmark of the committed int8 model: size, MACs, CPython scoring speed, and an optional timed training run.

    .venv/bin/python bench/bench_training.py            # model figures + scoring speed (seconds)
    .venv/bin/python bench/bench_training.py --train    # adds a full `emberwatch train` into a temp dir (minutes)
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def scoring_speed_us(n: int = 20000) -> float:
    import random

    from edge_node.core import model_weights
    from edge_node.core.scoring import Int8Autoencoder

    model = Int8Autoencoder.from_module(model_weights)
    rng = random.Random(1)
    rows = [[rng.randint(-3000, 3000) for _ in range(6)] for _ in range(n)]
    t0 = time.perf_counter()
    for row in rows:
        model.score(row)
    return (time.perf_counter() - t0) / n * 1e6


def timed_training() -> float:
    with tempfile.TemporaryDirectory() as tmp:
        t0 = time.perf_counter()
        subprocess.run([str(ROOT / ".venv" / "bin" / "emberwatch"), "train", "--quiet", "--models-dir", tmp,
                        "--weights-module", f"{tmp}/w.py", "--no-report"], check=True, stdout=subprocess.DEVNULL,
                       stderr=subprocess.DEVNULL)
        return time.perf_counter() - t0


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--train", action="store_true")
    args = parser.parse_args()
    card = json.loads((ROOT / "models" / "model_card.json").read_text())
    deployed = card["metrics"]["int8 autoencoder (deployed)"]
    out = {"macs_per_inference": card["macs_per_inference"], "int8_weight_bytes": card["int8_weight_bytes"],
           "int32_bias_bytes": card["int32_bias_bytes"], "zlib9_bytes": card["entropy_coded_bytes_zlib9"],
           "tflite_bytes": card["tflite_bytes"], "roc_auc_labels_as_given": deployed["auc_labels_as_given"]["roc_auc"],
           "roc_auc_strong_event": deployed["auc_strong_event"]["roc_auc"],
           "cpython_score_us": round(scoring_speed_us(), 1)}
    if args.train:
        out["train_seconds"] = round(timed_training(), 1)
    print(json.dumps(out, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
