"""The node's weights module is the committed .tflite, read back through LiteRT.

Output parity is against TFLite Micro (tests/edge_node/test_tflm_parity.py), which also keeps
LiteRT BUILTIN_REF as a reference on the rows where its single rounding agrees with TFLM.
"""

from pathlib import Path

import pytest

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
