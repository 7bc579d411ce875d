"""Two ways to run every node's pipeline on one step of readings.

ReferenceEngine keeps one real `edge_node.core` NodePipeline per node: the
code the nodes flash, slow but unquestionable. FleetEngine runs the same
integer arithmetic on numpy int64 arrays for all nodes at once; on the same
readings it gives the same scores, alert levels, fault bits and thresholds
(tested), so large forests use it. Both take readings as int64 arrays and a
mask of nodes that are alive; `step` returns (levels, scores): level 0 is no
alert, else schema.LEVEL_SUSPECT or LEVEL_FIRE. After a step, `faults` holds
each node's schema.FAULT_* bits and `thresholds` the threshold each node uses.
"""

import numpy as np

from edge_node.core.calibration import threshold_in_force
from edge_node.core.detector import gas_evidence, no_fire_evidence, wet_air
from edge_node.core.pipeline import NodePipeline, default_pipeline
from edge_node.core.schema import FAULT_GAS, FAULT_RH, FAULT_TEMP
from edge_node.core.scoring import Int8Autoencoder, RiseRule
from simulator.fixed_point import (
    FleetAutoencoder,
    FleetCalibration,
    FleetDetector,
    FleetFaults,
    FleetFeatures,
    FleetHeater,
    FleetRiseRule,
    fire_persist_s,
)

ENGINES = ("fleet", "reference")


class ReferenceEngine:
    name = "reference"

    def __init__(self, n_nodes: int, make_pipeline=default_pipeline) -> None:
        self.pipelines: list[NodePipeline] = [make_pipeline() for _ in range(n_nodes)]
        self.threshold = self.pipelines[0].detector.threshold if n_nodes else 0
        self.faults = np.zeros(n_nodes, dtype=np.int64)
        self.thresholds = np.full(n_nodes, self.threshold, dtype=np.int64)

    def step(self, t_ms: np.ndarray, dt_s: int, temp_cc: np.ndarray, rh_cp: np.ndarray, gas_q8: np.ndarray,
             active: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        n = len(self.pipelines)
        levels = np.zeros(n, dtype=np.int64)
        scores = np.zeros(n, dtype=np.int64)
        self.faults = np.zeros(n, dtype=np.int64)
        for i in np.flatnonzero(active).tolist():
            pipeline = self.pipelines[i]
            level, score, _ = pipeline.step(int(t_ms[i]), dt_s, int(temp_cc[i]), int(rh_cp[i]), int(gas_q8[i]))
            levels[i] = level
            scores[i] = score
            self.faults[i] = pipeline.faults
            self.thresholds[i] = pipeline.threshold()
        return levels, scores


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
        self.sensor_faults = FleetFaults(n_nodes)
        self.heater = FleetHeater(n_nodes)
        self.calibration = FleetCalibration(template.detector.threshold, n_nodes)
        self.detector = FleetDetector(template.detector, n_nodes)
        self.threshold = template.detector.threshold
        self.faults = np.zeros(n_nodes, dtype=np.int64)
        self.thresholds = self.detector.threshold

    def step(self, t_ms: np.ndarray, dt_s: int, temp_cc: np.ndarray, rh_cp: np.ndarray, gas_q8: np.ndarray,
             active: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        faults = self.sensor_faults.update(temp_cc, rh_cp, gas_q8, active)
        self.faults = faults
        hold = faults & (FAULT_TEMP | FAULT_RH | FAULT_GAS)
        first: np.ndarray = ~np.any(self.features.started, axis=0)
        hold = hold | np.where(self.heater.update(dt_s, first, active), FAULT_GAS, 0)
        feats = self.features.update(temp_cc, rh_cp, gas_q8, dt_s, ~self.detector.anomalous, active, hold)
        scores = np.where(active, self.scorer.score(feats), 0)
        smoky = gas_evidence(feats)
        evidence = np.where(no_fire_evidence(feats, smoky), 0, scores)
        # as NodePipeline.step: calibration learns from every reading but wet air's
        learned = self.calibration.update(np.where(wet_air(feats), 0, scores), dt_s, self.detector.anomalous, active)
        in_force = threshold_in_force(learned, self.calibration.factory, smoky)
        self.detector.threshold = np.where(active, in_force, self.detector.threshold)  # a node that slept keeps its own
        self.thresholds = self.detector.threshold
        levels = self.detector.update(evidence, t_ms, active, fire_persist_s(feats, faults, smoky), feats[4])
        return levels, scores


def make_engine(name: str, n_nodes: int, make_pipeline=default_pipeline):
    if name == "fleet":
        return FleetEngine(n_nodes, make_pipeline)
    if name == "reference":
        return ReferenceEngine(n_nodes, make_pipeline)
    raise ValueError(f"unknown engine {name!r}; choose one of {', '.join(ENGINES)}")
