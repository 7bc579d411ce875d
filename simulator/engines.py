"""Two ways to run every node's pipeline on one step of readings.

ReferenceEngine keeps one real `edge_node.core` NodePipeline per node: the
code the nodes flash, slow but unquestionable. FleetEngine runs the same
integer arithmetic on numpy int64 arrays for all nodes at once; on the same
readings it gives the same scores and alerts (tested), so large forests use it.
Both take readings as int64 arrays and a mask of nodes that are alive.
"""

import numpy as np

from edge_node.core.detector import wet_air
from edge_node.core.pipeline import NodePipeline, default_pipeline
from edge_node.core.scoring import Int8Autoencoder, RiseRule
from simulator.fixed_point import (
    FleetAutoencoder,
    FleetDetector,
    FleetFeatures,
    FleetRiseRule,
)

ENGINES = ("fleet", "reference")


class ReferenceEngine:
    name = "reference"

    def __init__(self, n_nodes: int, make_pipeline=default_pipeline) -> None:
        self.pipelines: list[NodePipeline] = [make_pipeline() for _ in range(n_nodes)]
        self.threshold = self.pipelines[0].detector.threshold if n_nodes else 0

    def step(self, t_ms: np.ndarray, dt_s: int, temp_cc: np.ndarray, rh_cp: np.ndarray, gas_q8: np.ndarray,
             active: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        n = len(self.pipelines)
        alerts = np.zeros(n, dtype=bool)
        scores = np.zeros(n, dtype=np.int64)
        for i in np.flatnonzero(active).tolist():
            alert, score, _ = self.pipelines[i].step(int(t_ms[i]), dt_s, int(temp_cc[i]), int(rh_cp[i]),
                                                     int(gas_q8[i]))
            alerts[i] = alert
            scores[i] = score
        return alerts, scores


class FleetEngine:
    name = "fleet"

    def __init__(self, n_nodes: int, make_pipeline=default_pipeline) -> None:
        template = make_pipeline()  # the same model and detector settings a node would get
        scorer = template.scorer
        self.scorer: FleetAutoencoder | FleetRiseRule
        if isinstance(scorer, Int8Autoencoder):
            self.scorer = FleetAutoencoder(scorer)
        elif isinstance(scorer, RiseRule):
            self.scorer = FleetRiseRule(scorer)
        else:
            raise TypeError(f"fleet engine has no numpy version of scorer {type(scorer).__name__}")
        self.features = FleetFeatures(n_nodes)
        self.detector = FleetDetector(template.detector, n_nodes)
        self.threshold = template.detector.threshold

    def step(self, t_ms: np.ndarray, dt_s: int, temp_cc: np.ndarray, rh_cp: np.ndarray, gas_q8: np.ndarray,
             active: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        feats = self.features.update(temp_cc, rh_cp, gas_q8, dt_s, ~self.detector.anomalous, active)
        scores = np.where(active, self.scorer.score(feats), 0)
        evidence = np.where(wet_air(feats), 0, scores)
        return self.detector.update(evidence, t_ms, active), scores


def make_engine(name: str, n_nodes: int, make_pipeline=default_pipeline):
    if name == "fleet":
        return FleetEngine(n_nodes, make_pipeline)
    if name == "reference":
        return ReferenceEngine(n_nodes, make_pipeline)
    raise ValueError(f"unknown engine {name!r}; choose one of {', '.join(ENGINES)}")
