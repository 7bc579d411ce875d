"""docs/model_report.md and its ROC plot, from the model card of one training run."""

from __future__ import annotations

from pathlib import Path


def _fmt(v, digits: int = 3) -> str:
    if v is None:
        return "-"
    if isinstance(v, float):
        return f"{v:.{digits}f}"
    return str(v)


def plot_roc(path: Path, panels: dict) -> None:
    """One ROC panel per test view, e.g. {"labels as given": curves, "strong event F": curves}."""
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, len(panels), figsize=(6 * len(panels), 5), dpi=100, squeeze=False)
    for ax, (title, curves) in zip(axes[0], panels.items()):
        for name, (fpr, tpr) in curves.items():
            ax.plot(fpr, tpr, label=name, lw=1.5)
        ax.plot([0, 1], [0, 1], "k:", lw=0.8)
        ax.set_xlabel("false positive rate (per sample)")
        ax.set_ylabel("true positive rate (per sample)")
        ax.set_title(f"ROC, real smoke test data: {title}")
        ax.legend(fontsize=7, loc="lower right")
    fig.tight_layout()
    fig.savefig(path, metadata={"Software": None})
    plt.close(fig)


def method_table(metrics: dict) -> list[str]:
    groups = sorted({g for r in metrics.values() for g in r["false_alerts_per_node_day"]})
    head = ("| method | threshold | ROC-AUC (as given) | PR-AUC (as given) | ROC-AUC (strong event F) | "
            "delay F median s (detected) | A alarm session detected | ")
    lines = [head + " | ".join(f"false alerts/node-day: {g}" for g in groups) + " |",
             "|" + "---|" * (7 + len(groups))]
    for name, r in metrics.items():
        ev = r.get("events", {})
        f, a = ev.get("smoke_F", {}), ev.get("smoke_A_alarm", {})
        cells = (f"| {name} | {_fmt(r['threshold'], 4)} | {_fmt(r['auc_labels_as_given']['roc_auc'])} | "
                 f"{_fmt(r['auc_labels_as_given']['pr_auc'])} | {_fmt(r['auc_strong_event']['roc_auc'])} | "
                 f"{_fmt(f.get('median_delay_s'), 0)} ({f.get('detected', 0)}/{f.get('events', 0)}) | "
                 f"{a.get('detected', 0)}/{a.get('events', 0)} | ")
        lines.append(cells + " | ".join(_fmt(r["false_alerts_per_node_day"].get(g), 2) for g in groups) + " |")
    return lines


def compression_table(rows: list) -> list[str]:
    lines = [("| step | params | float32 bytes | .tflite bytes | zlib-9 bytes (weights+biases) | "
              "ROC-AUC (as given) | ROC-AUC (strong event) |"), "|---|---|---|---|---|---|---|"]
    for r in rows:
        lines.append(f"| {r['step']} | {r['params']} | {_fmt(r['float32_bytes'])} | {_fmt(r['tflite_bytes'])} | "
                     f"{r['zlib_bytes']} | {_fmt(r['roc_auc'])} | {_fmt(r['roc_auc_strong_event'])} |")
    return lines


def debounce_table(rows: list) -> list[str]:
    groups = list(rows[0]["false_alerts_per_node_day"])
    lines = [("| k of n | threshold | delay F median s (detected) | A alarm detected | "
              + " | ".join(f"false alerts/node-day: {g}" for g in groups) + " |"),
             "|" + "---|" * (4 + len(groups))]
    for r in rows:
        f, a = r["events"].get("smoke_F", {}), r["events"].get("smoke_A_alarm", {})
        lines.append(f"| {r['k']} of {r['n']} | {r['threshold']} | {_fmt(f.get('median_delay_s'), 0)} "
                     f"({f.get('detected', 0)}/{f.get('events', 0)}) | {a.get('detected', 0)}/{a.get('events', 0)} | "
                     + " | ".join(_fmt(r["false_alerts_per_node_day"][g], 2) for g in groups) + " |")
    return lines


CAVEATS = (
    ("The smoke set labels whole sessions, not events: block A's alarm session shows no clear combustion "
     "signal, so 'labels as given' AUCs are low for every method; the strong-event AUC uses block F "
     "against the quiet part of block C."),
    ("Block C (labelled normal) contains an unlabelled heat/eCO2 event (rows 54,788+); alerts there "
     "count as false positives in the 'as given' figures."),
    ("The BME688 clean-air file is the first 33 minutes after power-on, split into 80 (sensor, heater step) "
     "series of about 30 samples: resistance still doubles during heater burn-in, which the model flags. "
     "It is a warm-up test, not a field false-alert rate; a node should skip alerts for its first hour."),
    ("Offline evaluation keeps the slow baseline adapting during alerts (the node freezes it); up "
     "to the first alert of an event this is identical to the node."),
    ("Pruning (mask + masked fine-tune) and QAT (fake-quant fine-tune) are our own: tensorflow-model-optimization "
     "0.8 needs Keras 2 (tf_keras), and Keras 3 support is an open request (tensorflow/model-optimization#1119)."),
)


def _deployed_summary(card: dict) -> list[str]:
    parity = card["parity_tflite_micro"]
    return [
        (f"- {card['model']}, variant `{card['deployed_variant']}`: {card['macs_per_inference']} MACs, "
         f"{card['int8_weight_bytes']} B int8 weights + {card['int32_bias_bytes']} B int32 biases "
         f"({card['entropy_coded_bytes_zlib9']} B zlib-9), .tflite {card['tflite_bytes']} B."),
        f"- Node sampling interval: {card['sample_interval_s']} s. Features: `{card['feature_code']}`.",
        (f"- Threshold {card['threshold']} (int8 reconstruction error), debounce {card['debounce_k']} of "
         f"{card['debounce_n']}, cooldown {card['cooldown_s']} s; {card['calibration']}."),
        (f"- Parity: core integer kernel vs TFLite Micro (the `.tflite`) on {parity['random_inputs']} random int8 "
         f"inputs: {parity['mismatching_outputs']} mismatching outputs. LiteRT BUILTIN_REF, which requantizes "
         f"with one rounding where TFLM rounds twice, differs from TFLM on "
         f"{parity['litert_builtin_ref_rows_differing']} of them."),
        f"- Trained on {card['trained_on']} ({card['training_rows']} rows); denoising: "
        f"{card['training'].get('denoising', 'none')}.",
    ]


def write_report(path: Path, card: dict, roc_panels: dict) -> list[Path]:
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    png = path.with_name("model_roc.png")
    plot_roc(png, roc_panels)
    node_days = card["metrics"]["int8 autoencoder (deployed)"]["node_days"]
    lines = ["# Emberwatch model report", "",
             (f"Generated by `{card['generated_by']}` on {card['date_utc']} (seed {card['seed']}); machine: "
              "Debian bookworm container, 2 shared cores, tensorflow-cpu 2.21, ai-edge-litert."),
             "", "## The deployed model", ""]
    lines += _deployed_summary(card)
    lines += ["", "Data provenance:", ""] + [f"- {p}" for p in card["data_provenance"]]
    lines += ["", "## Methods compared", "",
              ("Every method gets the same features, the same debounce/cooldown and a threshold calibrated the "
               "same way on held-back normal data (except the static RiseRule). Delays run from the start of a "
               "labelled event to the first alert, median over the phase-offset copies of the event."), ""]
    lines += method_table(card["metrics"])
    lines += ["", f"![ROC]({png.name})", "", "## Compression steps", ""]
    lines += compression_table(card["compression"])
    if card.get("debounce_sensitivity"):
        lines += ["", "## Debounce sensitivity (post hoc, int8 model)", "",
                  ("Each k-of-n gets its own threshold calibrated on the held-back normal data; the deployed "
                   f"{card['debounce_k']}-of-{card['debounce_n']} was fixed before looking at these test figures."),
                  ""] + debounce_table(card["debounce_sensitivity"])
    lines += ["", "## Caveats", ""] + [f"- {c}" for c in CAVEATS]
    lines.append("- Node-days of normal data per group: "
                 + ", ".join(f"{g}: {v:.1f}" for g, v in node_days.items()))
    # `emberwatch compare` owns the section between its markers: a retrain keeps it (rerun compare
    # afterwards to refresh it with the new model).
    from training.compare_command import END, START
    old = path.read_text() if path.is_file() else ""
    kept = old[old.index(START):old.index(END) + len(END)] if START in old and END in old else ""
    path.write_text("\n".join(lines) + "\n" + ("\n" + kept + "\n" if kept else ""))
    return [path, png]
