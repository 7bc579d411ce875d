"""Replay a sensor trace through the node pipeline and print every intermediate, one line per sample.

Runs unchanged on CPython and MicroPython; the parity tests run it on both and
require identical output: features, int8 model input and output, score,
alert decision and the exact payload bytes a node would send.
Trace CSV columns: t_s, temp_cc, rh_cp, gas_raw, gas_sign.
"""

from edge_node.core import int8, schema
from edge_node.core.detector import Detector
from edge_node.core.features import gas_index_q8
from edge_node.core.pipeline import NodePipeline, default_pipeline
from edge_node.core.scoring import Int8Autoencoder


def read_trace(path):
    rows = []
    with open(path) as f:
        f.readline()  # header
        for line in f:
            line = line.strip()
            if line:
                rows.append([int(v) for v in line.split(",")])
    return rows


def build_pipeline(weights):
    """weights: a generated weights module, or None for the firmware's default model."""
    if weights is None:
        return default_pipeline()
    return NodePipeline(Int8Autoencoder.from_module(weights),
                        Detector(weights.THRESHOLD, weights.DEBOUNCE_K, weights.DEBOUNCE_N,
                                 weights.COOLDOWN_S))


def replay(rows, pipeline, emit, node="n001"):
    scorer = pipeline.scorer
    has_model = hasattr(scorer, "layers")
    prev_t_s = None
    seq = 0
    for t_s, temp_cc, rh_cp, gas_raw, gas_sign in rows:
        dt_s = 1 if prev_t_s is None else t_s - prev_t_s
        prev_t_s = t_s
        gas_q8 = gas_index_q8(gas_raw, gas_sign)
        t_ms = t_s * 1000
        alert, score, feats = pipeline.step(t_ms, dt_s, temp_cc, rh_cp, gas_q8)
        x_q = scorer.quantize(feats) if has_model else []
        y_q = int8.forward(scorer.layers, x_q) if has_model else []
        seq += 1
        if alert:
            payload = schema.encode_alert(node, seq, t_ms, score, scorer.threshold, temp_cc, rh_cp,
                                          gas_raw, gas_q8, 3700)
        else:
            payload = schema.encode_heartbeat(node, seq, t_ms, 3700, temp_cc, rh_cp, gas_q8, 0,
                                              41901234, -6812345)
        emit(str(t_ms) + " " + str(feats) + " " + str(x_q) + " " + str(y_q) + " " + str(score)
             + " " + ("1" if alert else "0") + " " + payload.decode())
