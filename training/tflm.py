"""The TensorFlow Lite Micro interpreter (PyPI `tflite-micro`) as the int8 reference.

The exported C array is for TFLM, so TFLM's answers are the ones the node's
kernel must give. TFLM requantizes with two roundings where LiteRT's
BUILTIN_REF rounds once (edge_node/core/int8.py), so LiteRT is only a
reference on the rows where both runtimes agree.
"""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np


def interpreter(model_bytes: bytes, preserve_all_tensors: bool = False):
    from tflite_micro.python.tflite_micro import runtime

    config = (runtime.InterpreterConfig.kPreserveAllTensors if preserve_all_tensors
              else runtime.InterpreterConfig.kAllocationRecording)
    return runtime.Interpreter.from_bytes(model_bytes, intrepreter_config=config)


def run_tflm(model_bytes: bytes, x_q: np.ndarray, layer_tensors: tuple = ()) -> tuple[np.ndarray, list]:
    """Int8 outputs for a batch of int8 inputs (one invoke per row: TFLM runs batch 1), plus each
    listed intermediate tensor (tensor indices as LiteRT numbers them, see quantize.read_int8_model)."""
    interp = interpreter(model_bytes, preserve_all_tensors=bool(layer_tensors))
    x_q = np.asarray(x_q, dtype=np.int8)
    out = np.empty((len(x_q), int(interp.get_output_details(0)["shape"][-1])), dtype=np.int8)
    layers: list[list[np.ndarray]] = [[] for _ in layer_tensors]
    for i, row in enumerate(x_q):
        interp.set_input(row[None, :], 0)
        interp.invoke()
        out[i] = interp.get_output(0)[0]
        for j, t in enumerate(layer_tensors):
            layers[j].append(interp.GetTensor(int(t), 0)["tensor_data"][0].copy())
    return out, [np.array(rows, dtype=np.int8) for rows in layers]


_ARRAY = re.compile(r"\[\]\s*=\s*\{(.*?)\};", re.S)
_LEN = re.compile(r"_len\s*=\s*(\d+)\s*;")


def c_array_bytes(cc_source: str) -> bytes:
    """The model bytes held by an exported `.cc` C array (checked against its `_len` constant)."""
    body = _ARRAY.search(cc_source)
    if body is None:
        raise ValueError("no `unsigned char name[] = {...};` array in the C source")
    data = bytes(int(v, 16) for v in re.findall(r"0x([0-9a-fA-F]{2})", body.group(1)))
    length = _LEN.search(cc_source)
    if length is None or int(length.group(1)) != len(data):
        raise ValueError(f"C array holds {len(data)} bytes but its _len constant says "
                         f"{length.group(1) if length else 'nothing'}")
    return data


def read_c_array(path: Path) -> bytes:
    return c_array_bytes(Path(path).read_text())
