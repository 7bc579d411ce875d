"""Integer-only int8 inference: requantization and the dense forward pass.

The dense layer reproduces TensorFlow Lite Micro's FULLY_CONNECTED bit for bit:
int32 accumulation, per-channel integer multiplier and shift, and TFLM's two
roundings (gemmlowp `SaturatingRoundingDoublingHighMul`, then
`RoundingDivideByPOT`), see `multiply_by_quantized_multiplier`. LiteRT's
reference kernels (BUILTIN_REF) round once instead, and differ from TFLM by up
to a few LSB on about 10 % of inputs; the node follows TFLM, the runtime the
exported C array is for (docs/model_report.md, tests/training/test_tflm_parity.py).

Integer-only on purpose: ESP32 MicroPython has single-precision floats,
CPython double, and an integer kernel gives the same answer on both.
"""


def multiply_by_quantized_multiplier(acc: int, multiplier: int, shift: int) -> int:
    """acc * multiplier * 2**(shift - 31) exactly as TFLM's MultiplyByQuantizedMultiplier rounds it.

    Two roundings. SaturatingRoundingDoublingHighMul adds a nudge of +2**30 (1 - 2**30 for a
    negative product) and divides by 2**31 truncating towards zero: for every product that is
    round-half-up, i.e. floor((p + 2**30) / 2**31), which Python's flooring >> gives directly (its
    saturation only bites for multiplier == -2**31, which quantize_multiplier never makes).
    RoundingDivideByPOT then rounds half away from zero. A positive shift is applied to the
    accumulator before the multiply, as TFLM does.
    """
    right = 0
    if shift > 0:
        acc <<= shift
    else:
        right = -shift
    x = (acc * multiplier + (1 << 30)) >> 31
    if right == 0:
        return x
    half = 1 << (right - 1)
    if x >= 0:
        return (x + half) >> right
    return -((half - x) >> right)


def requantize(acc: int, multiplier: int, shift: int) -> int:
    """acc * multiplier * 2**(shift - 31), rounded half up once.

    The node's own fixed-point rescaling (features into the model's int8 input, the model's
    output back into input units); not a TFLM op, so it keeps the simpler single rounding.
    """
    total_shift = 31 - shift
    return (acc * multiplier + (1 << (total_shift - 1))) >> total_shift


def quantize_multiplier(real: float):
    """Split a positive real scale into (int32 multiplier in [2**30, 2**31), shift).

    Runs at export time on CPython (it uses floats); nodes only see the integers.
    """
    if real <= 0.0:
        return 0, 0
    shift = 0
    while real >= 1.0:
        real /= 2.0
        shift += 1
    while real < 0.5:
        real *= 2.0
        shift -= 1
    multiplier = int(round(real * (1 << 31)))
    if multiplier == 1 << 31:
        multiplier //= 2
        shift += 1
    return multiplier, shift


class DenseLayer:
    """One fully connected int8 layer with per-output-channel requantization."""

    def __init__(self, n_in: int, n_out: int, weights, bias, input_zp: int, output_zp: int,
                 multipliers, shifts, act_min: int = -128, act_max: int = 127) -> None:
        # weights: n_out rows of n_in int8 values, row-major (TFLite's FULLY_CONNECTED layout)
        if len(weights) != n_in * n_out or len(bias) != n_out:
            raise ValueError("dense layer shape does not match its weights")
        if len(multipliers) != n_out or len(shifts) != n_out:
            raise ValueError("dense layer needs one multiplier and shift per output")
        self.n_in = n_in
        self.n_out = n_out
        self.weights = weights
        self.bias = bias
        self.input_zp = input_zp
        self.output_zp = output_zp
        self.multipliers = multipliers
        self.shifts = shifts
        self.act_min = act_min
        self.act_max = act_max

    def forward(self, x) -> list:
        n_in = self.n_in
        w = self.weights
        zp = self.input_zp
        xs = [v - zp for v in x]
        out = []
        for o in range(self.n_out):
            acc = self.bias[o]
            base = o * n_in
            for i in range(n_in):
                acc += xs[i] * w[base + i]
            y = multiply_by_quantized_multiplier(acc, self.multipliers[o], self.shifts[o]) + self.output_zp
            if y < self.act_min:
                y = self.act_min
            elif y > self.act_max:
                y = self.act_max
            out.append(y)
        return out

    def macs(self) -> int:
        return self.n_in * self.n_out


def forward(layers, x) -> list:
    for layer in layers:
        x = layer.forward(x)
    return x


def quantize_features(features, multipliers, shifts, zero_point: int) -> list:
    """Fixed-point features -> int8 model input, one multiplier per feature."""
    out = []
    for i in range(len(features)):
        q = requantize(features[i], multipliers[i], shifts[i]) + zero_point
        out.append(-128 if q < -128 else (127 if q > 127 else q))
    return out


def reconstruction_error(x_q, y_q, input_zp: int, output_zp: int, out_multiplier: int,
                         out_shift: int) -> int:
    """Sum of squared differences, with the output rescaled into the input's int8 units."""
    err = 0
    for i in range(len(x_q)):
        y_in_units = requantize(y_q[i] - output_zp, out_multiplier, out_shift)
        d = (x_q[i] - input_zp) - y_in_units
        err += d * d
    return err
