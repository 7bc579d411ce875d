"""The node's pure-integer kernel reproduces LiteRT (BUILTIN_REF) bit for bit on the committed model."""

from pathlib import Path

import numpy as np
import pytest

from edge_node.core import int8
from edge_node.core.scoring import Int8Autoencoder

ROOT = Path(__file__).resolve().parents[2]
TFLITE = ROOT / "models" / "emberwatch_ae.tflite"

pytest.importorskip("ai_edge_litert", reason="ai-edge-litert (train extra) is needed for the parity test")


@pytest.fixture(scope="module")
def committed():
    if not TFLITE.is_file():
        pytest.skip("no committed model yet: run `emberwatch train`")
    from edge_node.core import model_weights
    from training.quantize import read_int8_model
    from training.train_pipeline import RELU_AFTER

    tfl = TFLITE.read_bytes()
    return tfl, model_weights, read_int8_model(tfl, RELU_AFTER)


def test_weights_module_matches_the_tflite_file(committed):
    _, weights, q = committed
    assert len(weights.LAYERS) == len(q.layers)
    for mine, theirs in zip(weights.LAYERS, q.layers):
        assert list(mine[2]) == list(theirs[2])  # int8 weights
        assert tuple(mine[:2]) + tuple(mine[3:]) == tuple(theirs[:2]) + tuple(theirs[3:])
    assert (weights.INPUT_ZP, weights.OUTPUT_ZP) == (q.input_zp, q.output_zp)


def test_every_layer_bit_exact_on_10000_inputs(committed):
    from training.quantize import run_litert

    tfl, weights, q = committed
    rng = np.random.default_rng(2026)
    x = rng.integers(-128, 128, (10000, 6))
    x[:200] = rng.integers(-6, 7, (200, 6)) + weights.INPUT_ZP  # around zero, where normal data lives
    y_ref, per_layer_ref = run_litert(tfl, x, q.layer_output_tensors)
    model = Int8Autoencoder.from_module(weights)
    mismatched_layers = mismatched_scores = 0
    for i, row in enumerate(x):
        v = [int(a) for a in row]
        for li, layer in enumerate(model.layers):
            v = layer.forward(v)
            mismatched_layers += v != [int(a) for a in per_layer_ref[li][i]]
        ref_score = int8.reconstruction_error([int(a) for a in row], [int(a) for a in y_ref[i]], weights.INPUT_ZP,
                                              weights.OUTPUT_ZP, weights.OUTPUT_TO_INPUT_MULTIPLIER,
                                              weights.OUTPUT_TO_INPUT_SHIFT)
        mismatched_scores += model.score_quantized([int(a) for a in row]) != ref_score
    assert (mismatched_layers, mismatched_scores) == (0, 0)
