"""The node's thinking gives bit-identical results on real MicroPython and on CPython.

For every sample of a trace: features, int8 model input and output, score,
alert decision and the encoded payload bytes must match exactly. Traces: a
committed synthetic one (always runs) and two derived from ../shared/data
(skipped with a message when it is absent).
"""

from __future__ import annotations

import importlib.util

import pytest

from tests.edge_node import traces
from tests.edge_node.mp import (
    helper_files,
    module_from_source,
    require_micropython,
    run_on_micropython,
)
from tests.edge_node.parity_run import build_pipeline, replay
from tests.edge_node.random_model import random_weights_source

HAS_TRAINED_MODEL = importlib.util.find_spec("edge_node.core.model_weights") is not None


def _cpython_lines(trace_csv: str, weights_source: str | None) -> list[str]:
    weights = module_from_source("random_weights", weights_source) if weights_source else None
    rows = [[int(v) for v in line.split(",")] for line in trace_csv.splitlines()[1:] if line.strip()]
    out: list[str] = []
    replay(rows, build_pipeline(weights), out.append)
    return out


def _micropython_lines(trace_csv: str, weights_source: str | None) -> list[str]:
    files = helper_files("parity_run")
    files["/data/trace.csv"] = trace_csv
    if weights_source:
        files["/lib/random_weights.py"] = weights_source
    script = (
        "import parity_run\n"
        + ("import random_weights as weights\n" if weights_source else "weights = None\n")
        + "parity_run.replay(parity_run.read_trace('/data/trace.csv'), parity_run.build_pipeline(weights), print)\n"
    )
    return run_on_micropython(script, files)


def _assert_identical(trace_csv: str, weights_source: str | None) -> list[str]:
    require_micropython()
    expected = _cpython_lines(trace_csv, weights_source)
    got = _micropython_lines(trace_csv, weights_source)
    assert len(got) == len(expected) == trace_csv.count("\n") - 1
    for i, (a, b) in enumerate(zip(expected, got)):
        assert a == b, f"sample {i} differs\nCPython:     {a}\nMicroPython: {b}"
    return expected


def _trace(name: str) -> str:
    text = {"synthetic": traces.synthetic, "bme688": traces.bme688_clean_air, "smoke": traces.smoke_session}[name]()
    if text is None:
        pytest.skip(f"../shared/data not found at {traces.SHARED_DATA}: real-data trace {name!r} skipped")
    return text


@pytest.mark.parametrize("trace_name", ["synthetic", "bme688", "smoke"])
def test_random_int8_model_matches_across_runtimes(trace_name: str) -> None:
    lines = _assert_identical(_trace(trace_name), random_weights_source(seed=7))
    scores = {line.split(" ")[-3] for line in lines}
    assert len(scores) > 10, "the model should see varied inputs, not one constant score"


@pytest.mark.parametrize("trace_name", ["synthetic", "bme688", "smoke"])
def test_default_pipeline_matches_across_runtimes(trace_name: str) -> None:
    """The firmware's default model (trained weights once committed, else the rise rule)."""
    _assert_identical(_trace(trace_name), None)


def test_default_pipeline_alerts_on_the_synthetic_fire() -> None:
    lines = _cpython_lines(traces.synthetic(), None)
    alerts = [i for i, line in enumerate(lines) if line.split(" ")[-2] == "1"]
    assert alerts, "no alert on the synthetic fire"
    assert min(alerts) >= 440 - 5, f"alert before the fire starts at sample 440: {alerts[:5]}"


@pytest.mark.skipif(not HAS_TRAINED_MODEL, reason="edge_node/core/model_weights.py not generated yet")
def test_trained_model_is_what_the_default_pipeline_runs() -> None:
    from edge_node.core import model_weights
    from edge_node.core.pipeline import default_pipeline

    pipeline = default_pipeline()
    assert pipeline.scorer.threshold == model_weights.THRESHOLD
    assert len(pipeline.scorer.layers) == len(model_weights.LAYERS)
