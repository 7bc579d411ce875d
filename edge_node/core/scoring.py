"""Anomaly scorers: features in, one non-negative integer score out.

Two scorers share one interface (`score(features) -> int`, `threshold`):
the int8 autoencoder that nodes run by default, and a static rate-of-rise
rule that serves as a baseline and as a fallback with no model at all.
"""

from edge_node.core import int8


class Int8Autoencoder:
    """The int8 autoencoder: quantize features, run the dense stack, score the error."""

    def __init__(self, layers, input_multipliers, input_shifts, input_zp: int, output_zp: int,
                 output_to_input_multiplier: int, output_to_input_shift: int, threshold: int) -> None:
        self.layers = layers
        self.input_multipliers = input_multipliers
        self.input_shifts = input_shifts
        self.input_zp = input_zp
        self.output_zp = output_zp
        self.out_mult = output_to_input_multiplier
        self.out_shift = output_to_input_shift
        self.threshold = threshold

    @classmethod
    def from_module(cls, weights) -> "Int8Autoencoder":
        """Build from a generated weights module (see training/export)."""
        layers = [int8.DenseLayer(*spec) for spec in weights.LAYERS]
        return cls(layers, weights.INPUT_MULTIPLIERS, weights.INPUT_SHIFTS, weights.INPUT_ZP,
                   weights.OUTPUT_ZP, weights.OUTPUT_TO_INPUT_MULTIPLIER,
                   weights.OUTPUT_TO_INPUT_SHIFT, weights.THRESHOLD)

    def quantize(self, features) -> list:
        return int8.quantize_features(features, self.input_multipliers, self.input_shifts, self.input_zp)

    def score_quantized(self, x_q) -> int:
        y_q = int8.forward(self.layers, x_q)
        return int8.reconstruction_error(x_q, y_q, self.input_zp, self.output_zp,
                                         self.out_mult, self.out_shift)

    def score(self, features) -> int:
        return self.score_quantized(self.quantize(features))

    def macs(self) -> int:
        return sum(layer.macs() for layer in self.layers)


class RiseRule:
    """Static rate-of-rise rule, the way classic heat detectors work.

    Score is the largest of the temperature and gas trends, each as a
    percentage of its own limit, so threshold 100 means "one limit reached".
    """

    def __init__(self, temp_trend_limit_cc: int = 300, gas_trend_limit_q8: int = 128) -> None:
        self.temp_trend_limit_cc = temp_trend_limit_cc
        self.gas_trend_limit_q8 = gas_trend_limit_q8
        self.threshold = 100

    def score(self, features) -> int:
        temp = features[1] * 100 // self.temp_trend_limit_cc
        gas = features[5] * 100 // self.gas_trend_limit_q8
        best = temp if temp > gas else gas
        return best if best > 0 else 0
