"""The Keras autoencoders: a larger teacher and the tiny student nodes run.

Trained on normal data only; the reconstruction error is the anomaly score.
Denoising (`corrupt_rows`): a share of the training rows (half by default) has one sensor
channel shifted off its usual relation to the others, with the clean row as the target, so the models
learn to give back the normal reading rather than echo any departure. A plain AE with a
3-unit bottleneck spends one of its units on the gas level (it varies in normal air) and
then reconstructs a steady smoky shift almost as well as clean air: +384 q8 of gas, a 65 %
resistance drop, scored under the threshold.
Distillation trains the student towards the teacher's reconstructions as
well as the data; magnitude pruning zeroes the smallest weights and
fine-tunes with the mask held (our own, because tensorflow-model-optimization
does not support Keras 3). Import this module only from training code: it
pulls in TensorFlow.
"""

from __future__ import annotations

import keras  # Keras 3, the same module as tf.keras in TensorFlow 2.21
import numpy as np
import tensorflow as tf

from training.quantize import INPUT_CLIP

STUDENT_UNITS = (8, 3, 8)   # 6-8-3-8-6: 144 MACs
TEACHER_UNITS = (32, 16, 3, 16, 32)


def set_determinism(seed: int) -> None:
    """Same seed, same weights: seeds Python, NumPy and TF, and pins deterministic TF ops."""
    keras.utils.set_random_seed(seed)
    tf.config.experimental.enable_op_determinism()


def build_autoencoder(n_features: int, hidden_units: tuple[int, ...], name: str) -> keras.Model:
    """Dense AE; ReLU on wide layers, linear bottleneck and output (no zero-point clipping there)."""
    inputs = keras.Input(shape=(n_features,), name="features")
    x = inputs
    bottleneck = hidden_units.index(min(hidden_units))
    for i, units in enumerate(hidden_units):
        x = keras.layers.Dense(units, activation=None if i == bottleneck else "relu", name=f"dense_{i}")(x)
    outputs = keras.layers.Dense(n_features, name="reconstruction")(x)
    return keras.Model(inputs, outputs, name=name)


CHANNELS = ((0, 1), (2, 3), (4, 5))  # (level, trend) feature columns of temp, rh, gas


def corrupt_rows(x: np.ndarray, scales: np.ndarray, fraction: float, seed: int) -> np.ndarray:
    """A copy of normalized rows in which `fraction` of them have one channel shifted.

    The shift is what an anomaly does to one channel: its level moves 0.5-3 x its normal span
    (either way) and its trend, in the same sensor units, by 0-1 x that: smoke or heat arriving
    from a steady baseline moves both alike (the fast average leaves the mid and slow ones
    behind together), a steady shift moves only the level. The trend's normal span is far
    narrower, so an arrival reads as a large trend. Same seed, same rows.
    """
    rng = np.random.default_rng(seed)
    out = x.copy()
    rows = np.flatnonzero(rng.random(len(x)) < fraction)
    channel = rng.integers(0, len(CHANNELS), len(rows))
    shift = rng.uniform(0.5, 3.0, len(rows)) * rng.choice((-1.0, 1.0), len(rows))
    trend_part = rng.uniform(0.0, 1.0, len(rows))
    for c, (level_col, trend_col) in enumerate(CHANNELS):
        pick = channel == c
        out[rows[pick], level_col] += shift[pick]
        out[rows[pick], trend_col] += shift[pick] * trend_part[pick] * scales[level_col] / scales[trend_col]
    return np.clip(out, -INPUT_CLIP, INPUT_CLIP).astype(np.float32)


def count_macs(model: keras.Model) -> int:
    return sum(int(np.prod(layer.kernel.shape)) for layer in model.layers if isinstance(layer, keras.layers.Dense))


def _fit(model: keras.Model, x: np.ndarray, y: np.ndarray, epochs: int, batch_size: int, lr: float,
         progress, label: str, callbacks: list | None = None) -> None:
    model.compile(optimizer=keras.optimizers.Adam(lr), loss="mse")
    n_val = max(1, len(x) // 10)  # last contiguous tenth watches for overfitting
    cb = list(callbacks or []) + [_ProgressCallback(progress, label, epochs)]
    model.fit(x[:-n_val], y[:-n_val], validation_data=(x[-n_val:], y[-n_val:]), epochs=epochs,
              batch_size=batch_size, shuffle=True, verbose=0, callbacks=cb)


class _ProgressCallback(keras.callbacks.Callback):
    def __init__(self, progress, label: str, epochs: int) -> None:
        super().__init__()
        self.progress, self.label, self.epochs = progress, label, epochs

    def on_epoch_end(self, epoch, logs=None):
        logs = logs or {}
        self.progress(f"{self.label} epoch {epoch + 1}/{self.epochs} loss {logs.get('loss', 0):.4f} "
                      f"val {logs.get('val_loss', 0):.4f}", epoch + 1, self.epochs)


def train_plain(x: np.ndarray, x_in: np.ndarray, hidden_units, epochs: int, progress, name: str,
                lr: float = 3e-3) -> keras.Model:
    """x_in: the inputs (corrupt_rows of x; x itself for a plain AE) whose targets are the rows of x."""
    model = build_autoencoder(x.shape[1], hidden_units, name)
    _fit(model, x_in, x, epochs, 256, lr, progress, name)
    return model


def train_distilled(x: np.ndarray, x_in: np.ndarray, teacher: keras.Model, epochs: int, progress,
                    alpha: float = 0.5, lr: float = 3e-3) -> keras.Model:
    """Student target = alpha * data + (1 - alpha) * teacher reconstruction (MSE to a blend = blend of MSEs + const).

    With corrupted inputs x_in the teacher sees them too: its denoised reading is what the student learns.
    """
    target = alpha * x + (1 - alpha) * np.asarray(teacher(x_in, training=False))
    model = build_autoencoder(x.shape[1], STUDENT_UNITS, "student_distilled")
    _fit(model, x_in, target.astype(np.float32), epochs, 256, lr, progress, "student (distilled)")
    return model


class _HoldMask(keras.callbacks.Callback):
    def __init__(self, masks: dict) -> None:
        super().__init__()
        self.masks = masks

    def _apply(self) -> None:
        for layer, mask in self.masks.items():
            kernel, bias = layer.get_weights()
            layer.set_weights([kernel * mask, bias])

    def on_train_batch_end(self, batch, logs=None):
        self._apply()


def prune_magnitude(model: keras.Model, x: np.ndarray, x_in: np.ndarray, sparsity: float, epochs: int,
                    progress) -> keras.Model:
    """Zero the smallest |w| per layer (keeping at least one weight per output), then fine-tune masked."""
    pruned = keras.models.clone_model(model)
    pruned.set_weights(model.get_weights())
    masks = {}
    for layer in pruned.layers:
        if not isinstance(layer, keras.layers.Dense):
            continue
        kernel, bias = layer.get_weights()
        k = round(sparsity * kernel.size)
        cutoff = np.sort(np.abs(kernel).ravel())[k - 1] if k > 0 else -1.0
        mask = (np.abs(kernel) > cutoff).astype(np.float32)
        strongest = np.argmax(np.abs(kernel), axis=0)
        mask[strongest, np.arange(kernel.shape[1])] = 1.0
        masks[layer] = mask
        layer.set_weights([kernel * mask, bias])
    _fit(pruned, x_in, x, epochs, 256, 1e-3, progress,
         f"pruned {sparsity:.0%}", [_HoldMask(masks)])
    _HoldMask(masks)._apply()
    return pruned


class _FakeQuantDense(keras.layers.Dense):
    """Dense whose kernel is seen through int8 per-channel rounding (straight-through gradient)."""

    def call(self, inputs):
        kernel = self.kernel
        scale = tf.maximum(tf.reduce_max(tf.abs(kernel), axis=0), 1e-8) / 127.0
        kernel_q = kernel + tf.stop_gradient(tf.round(kernel / scale) * scale - kernel)
        y = tf.matmul(inputs, kernel_q) + self.bias
        return self.activation(y) if self.activation is not None else y


def finetune_quantization_aware(model: keras.Model, x: np.ndarray, x_in: np.ndarray, epochs: int,
                                progress) -> keras.Model:
    """QAT-lite: fine-tune with int8-rounded weights and activations clamped to their float ranges,
    then hand back a plain Keras model (same layout) for the usual PTQ conversion."""
    ranges = [np.asarray(keras.Model(model.input, layer.output)(x_in, training=False))
              for layer in model.layers if isinstance(layer, keras.layers.Dense)]
    inputs = keras.Input(shape=(x.shape[1],), name="features")
    h = inputs
    dense_layers = [layer for layer in model.layers if isinstance(layer, keras.layers.Dense)]
    for layer, out in zip(dense_layers, ranges):
        fq = _FakeQuantDense(layer.units, activation=layer.activation, name=layer.name)
        h = fq(h)
        lo, hi = float(min(out.min(), 0.0)), float(max(out.max(), 1e-3))
        h = keras.layers.Lambda(lambda t, lo=lo, hi=hi: tf.quantization.fake_quant_with_min_max_args(
            t, min=lo, max=hi, num_bits=8))(h)
    qat = keras.Model(inputs, h, name="student_qat")
    for layer in dense_layers:
        qat.get_layer(layer.name).set_weights(layer.get_weights())
    _fit(qat, x_in, x, epochs, 256, 5e-4, progress, "QAT fine-tune")
    plain = keras.models.clone_model(model)
    for layer in dense_layers:
        plain.get_layer(layer.name).set_weights(qat.get_layer(layer.name).get_weights())
    return plain
