"""Full-integer post-training quantization and the bridge from .tflite to the node kernel.

`convert_int8` runs the TFLite converter (int8 weights, activations, input and
output). `read_int8_model` reads the resulting flatbuffer back through LiteRT
and turns each FULLY_CONNECTED op into the integer constructor arguments of
`edge_node.core.int8.DenseLayer`, computing multipliers exactly the way
TFLite's reference kernel does (double-precision effective scale, then
`quantize_multiplier`). `run_litert` is the reference the parity test pins.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from edge_node.core import int8

INPUT_CLIP = 4.0  # normalized features saturate here; pins the int8 input range to [-4, 4]


@dataclass(frozen=True)
class Int8Model:
    layers: tuple                 # DenseLayer constructor argument tuples, in order
    input_scale: float
    input_zp: int
    output_scale: float
    output_zp: int
    layer_output_tensors: tuple   # LiteRT tensor index of each layer's output (for parity)


def representative_rows(x_norm: np.ndarray, max_rows: int = 2000) -> np.ndarray:
    """Evenly strided normal rows plus the two corners that pin the input range."""
    stride = max(1, len(x_norm) // max_rows)
    corners = np.array([[-INPUT_CLIP] * x_norm.shape[1], [INPUT_CLIP] * x_norm.shape[1]])
    return np.concatenate([x_norm[::stride], corners]).astype(np.float32)


def convert_int8(model, rep_x: np.ndarray) -> bytes:
    import tensorflow as tf

    converter = tf.lite.TFLiteConverter.from_keras_model(model)
    converter.optimizations = [tf.lite.Optimize.DEFAULT]

    def representative():
        for row in rep_x:
            yield [row[None, :]]

    converter.representative_dataset = representative
    converter.target_spec.supported_ops = [tf.lite.OpsSet.TFLITE_BUILTINS_INT8]
    converter.inference_input_type = tf.int8
    converter.inference_output_type = tf.int8
    return converter.convert()


def make_interpreter(tflite_model: bytes, batch: int = 1):
    """LiteRT with the reference kernels (integer requantization, single rounding)."""
    from ai_edge_litert.interpreter import Interpreter, OpResolverType

    interp = Interpreter(model_content=tflite_model, experimental_op_resolver_type=OpResolverType.BUILTIN_REF,
                         experimental_preserve_all_tensors=True)
    inp = interp.get_input_details()[0]
    if batch != inp["shape"][0]:
        interp.resize_tensor_input(inp["index"], [batch, inp["shape"][1]])
    interp.allocate_tensors()
    return interp


def read_int8_model(tflite_model: bytes, relu_after: tuple[bool, ...]) -> Int8Model:
    """Integer DenseLayer arguments for every FULLY_CONNECTED op, in graph order.

    relu_after[i] says whether layer i has a fused ReLU (its act_min is then
    the output zero point, as TFLite's CalculateActivationRangeQuantized does).
    """
    interp = make_interpreter(tflite_model)
    details = {d["index"]: d for d in interp.get_tensor_details()}
    ops = [op for op in interp._get_ops_details() if op["op_name"] == "FULLY_CONNECTED"]
    other = [op["op_name"] for op in interp._get_ops_details() if op["op_name"] != "FULLY_CONNECTED"]
    if other or len(ops) != len(relu_after):
        raise ValueError(f"expected {len(relu_after)} FULLY_CONNECTED ops only, got {len(ops)} and {other}")
    layers = []
    for op, relu in zip(ops, relu_after):
        x_t, w_t = details[op["inputs"][0]], details[op["inputs"][1]]
        has_bias = len(op["inputs"]) > 2 and op["inputs"][2] >= 0  # all-zero biases may be dropped
        y_t = details[op["outputs"][0]]
        x_scale = float(x_t["quantization_parameters"]["scales"][0])
        y_scale = float(y_t["quantization_parameters"]["scales"][0])
        x_zp = int(x_t["quantization_parameters"]["zero_points"][0])
        y_zp = int(y_t["quantization_parameters"]["zero_points"][0])
        w = interp.get_tensor(w_t["index"]).astype(np.int64)  # (n_out, n_in)
        b = interp.get_tensor(op["inputs"][2]).astype(np.int64) if has_bias else np.zeros(w.shape[0], np.int64)
        w_scales = np.asarray(w_t["quantization_parameters"]["scales"], dtype=np.float64)
        if len(w_scales) == 1:
            w_scales = np.repeat(w_scales, w.shape[0])
        mults, shifts = zip(*(int8.quantize_multiplier(x_scale * float(ws) / y_scale) for ws in w_scales))
        n_out, n_in = w.shape
        act_min = y_zp if relu else -128
        layers.append((n_in, n_out, tuple(int(v) for v in w.ravel()), tuple(int(v) for v in b), x_zp, y_zp,
                       tuple(mults), tuple(shifts), act_min, 127))
    inp = interp.get_input_details()[0]["quantization"]
    out = interp.get_output_details()[0]["quantization"]
    return Int8Model(tuple(layers), float(inp[0]), int(inp[1]), float(out[0]), int(out[1]),
                     tuple(op["outputs"][0] for op in ops))


def run_litert(tflite_model: bytes, x_q: np.ndarray, layer_tensors: tuple = ()) -> tuple[np.ndarray, list]:
    """Final int8 outputs for a batch of int8 inputs, plus each listed intermediate tensor."""
    interp = make_interpreter(tflite_model, batch=len(x_q))
    interp.set_tensor(interp.get_input_details()[0]["index"], x_q.astype(np.int8))
    interp.invoke()
    y = interp.get_tensor(interp.get_output_details()[0]["index"]).copy()
    return y, [interp.get_tensor(t).copy() for t in layer_tensors]


def entropy_coded_bytes(int8_model: Int8Model) -> int:
    """zlib (level 9) size of all weights (int8) and biases (int32, little endian)."""
    import zlib

    raw = b"".join(np.asarray(layer[2], dtype=np.int8).tobytes() + np.asarray(layer[3], dtype="<i4").tobytes()
                   for layer in int8_model.layers)
    return len(zlib.compress(raw, 9))


def raw_weight_bytes(int8_model: Int8Model) -> int:
    return sum(len(layer[2]) + 4 * len(layer[3]) for layer in int8_model.layers)
