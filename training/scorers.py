"""Every method compared in the report, behind one call: score each series row by row.

The int8 autoencoder and the rate-of-rise rule run the node's own core code;
the float autoencoder and the scikit-learn baselines see the same normalized,
clipped features the int8 model sees before quantization.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from edge_node.core.scoring import Int8Autoencoder, RiseRule
from training.quantize import INPUT_CLIP
from training.recordings import FeatureSeries

ScoreFn = Callable[[np.ndarray], np.ndarray]  # int feature rows (n, 6) -> scores (n,)


def normalize(features: np.ndarray, scales: np.ndarray) -> np.ndarray:
    return np.clip(features / scales, -INPUT_CLIP, INPUT_CLIP).astype(np.float32)


def feature_scales(train_features: np.ndarray, percentile: float = 99.5) -> np.ndarray:
    """Per-feature scale so normal data spans about [-1, 1]; at least 1 unit."""
    return np.maximum(1.0, np.percentile(np.abs(train_features), percentile, axis=0))


def int8_scorer(model: Int8Autoencoder) -> ScoreFn:
    return lambda f: np.array([model.score([int(v) for v in row]) for row in f], dtype=np.int64)


def rise_rule_scorer(rule: RiseRule | None = None) -> ScoreFn:
    rule = rule or RiseRule()
    return lambda f: np.array([rule.score([int(v) for v in row]) for row in f], dtype=np.int64)


def float_ae_scorer(model, scales: np.ndarray) -> ScoreFn:
    def score(f: np.ndarray) -> np.ndarray:
        x = normalize(f, scales)
        return np.mean((x - np.asarray(model(x, training=False))) ** 2, axis=1)
    return score


def baseline_scorers(x_train_norm: np.ndarray, scales: np.ndarray, seed: int) -> dict[str, ScoreFn]:
    """Classic unsupervised detectors fitted on the same normal training rows."""
    from sklearn.covariance import EllipticEnvelope
    from sklearn.decomposition import PCA
    from sklearn.ensemble import IsolationForest

    iso = IsolationForest(n_estimators=100, random_state=seed).fit(x_train_norm)
    pca = PCA(n_components=3, random_state=seed).fit(x_train_norm)
    env = EllipticEnvelope(random_state=seed, support_fraction=0.99).fit(x_train_norm)

    def pca_error(f: np.ndarray) -> np.ndarray:
        x = normalize(f, scales)
        return np.mean((x - pca.inverse_transform(pca.transform(x))) ** 2, axis=1)

    return {
        "IsolationForest": lambda f: -iso.score_samples(normalize(f, scales)),
        "PCA reconstruction (3 comp.)": pca_error,
        "Mahalanobis (EllipticEnvelope)": lambda f: env.mahalanobis(normalize(f, scales)),
    }


def memoized(fn: ScoreFn) -> ScoreFn:
    """Remember scores by feature content: slow pure-Python scorers are then run once per data set."""
    import hashlib

    cache: dict[bytes, np.ndarray] = {}

    def score(f: np.ndarray) -> np.ndarray:
        key = hashlib.sha1(np.ascontiguousarray(f).tobytes()).digest() + str(f.shape).encode()
        if key not in cache:
            cache[key] = fn(f)
        return cache[key]
    return score


def score_series(fn: ScoreFn, series: list[FeatureSeries]) -> list[np.ndarray]:
    """Score all series in one batch (fast for vectorized scorers), then split back per series."""
    if not series:
        return []
    allf = np.concatenate([s.features for s in series])
    scores = fn(allf)
    bounds = np.cumsum([len(s) for s in series])[:-1]
    return np.split(scores, bounds)
