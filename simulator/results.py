"""What a scenario produced, and the figures derived from it."""

import math

import numpy as np

from simulator.clock import EPOCH_MS

TRUE_ALERT_WINDOW_MS = 30 * 60 * 1000  # an alert within 30 min of smelling a fire counts as a detection
S_PER_MONTH = 30 * 86400


class Ignition:
    def __init__(self, index: int, time_ms: int, x_m: float, y_m: float) -> None:
        self.index = index
        self.time_ms = time_ms
        self.x_m = x_m
        self.y_m = y_m

    @property
    def t_ms(self) -> int:
        return self.time_ms

    def __iter__(self):  # unpacks as (time_ms, x_m, y_m)
        return iter((self.time_ms, self.x_m, self.y_m))

    def __repr__(self) -> str:
        return f"Ignition({self.index}, t_ms={self.time_ms}, x_m={self.x_m:.0f}, y_m={self.y_m:.0f})"


CAUSES = ("fire", "sensor_fault", "nuisance", "rain", "other")


class AlertRecord:
    __slots__ = ("cause", "delivered_ms", "fault", "ignition", "level", "node", "score", "seq", "t_ms")

    def __init__(self, node: str, seq: int, t_ms: int, score: int, ignition: int, fault: str,
                 cause: str = "other", level: int = 2) -> None:
        self.node = node
        self.seq = seq
        self.t_ms = t_ms
        self.score = score
        self.ignition = ignition  # index of the fire the node was smelling, -1 for a false alert
        self.fault = fault        # the node's sensor fault at alert time ("none" when healthy)
        self.cause = cause        # what the simulator knows set it off, one of CAUSES
        self.level = level        # schema.LEVEL_SUSPECT or LEVEL_FIRE
        self.delivered_ms: int | None = None  # when a gateway received it; None: lost on the radio


class ScenarioResult:
    def __init__(self, config, node_ids: list[str], x_m: np.ndarray, y_m: np.ndarray) -> None:
        self.config = config
        self.node_ids = node_ids
        self.x_m = x_m
        self.y_m = y_m
        self.ignitions: list[Ignition] = []
        self.fires: list = []  # simulator.fire.Fire objects with their perimeter history
        self.alert_records: list[AlertRecord] = []
        self.first_alert_ms: dict[str, int] = {}
        self.first_smoke_ms: dict[str, int] = {}  # node -> when a fire's smoke or heat first reached it
        self.heartbeats = 0
        self.weather_messages = 0  # from the site weather station
        self.messages_published = 0
        self.node_steps = 0
        self.steps = 0
        self.wall_s = 0.0
        self.sim_s = 0.0
        self.dead_nodes: dict[str, tuple[int, str]] = {}  # node -> (t_ms, reason)
        self.fault_kinds: dict[str, str] = {}
        self.nuisance_events = 0  # sun flecks and exhaust puffs injected (not fires)
        # (node, start_ms, end_ms, "sun fleck" | "exhaust") of each injected nuisance, phase offsets aside
        self.nuisance_windows: list[tuple[str, int, int, str]] = []
        self.radio: dict = {}
        self.wind_log: list[tuple[float, float, float]] = []  # (t_s, wind_ms, wind_to_rad) every 15 min
        self.battery: dict = {}
        self.battery_life_days = np.zeros(0)  # projected life of each node alive at the end
        self.engine = ""
        self.scorer = ""

    @property
    def alerts(self) -> list[tuple[str, int, int]]:
        return [(a.node, a.seq, a.t_ms) for a in self.alert_records]

    def detection_latency_s(self, at_gateway: bool = False, min_level: int = 0) -> dict[int, float | None]:
        """Seconds from each ignition to the first alert about it (None: never detected).

        Node side by default (the alert's event time); at_gateway=True: the first such alert a
        gateway actually received, at its delivery time (radio losses and duty-cycle waits count).
        """
        out: dict[int, float | None] = {}
        for ign in self.ignitions:
            times: list[int] = []
            for a in self.alert_records:
                when = a.delivered_ms if at_gateway else a.t_ms
                if a.ignition == ign.index and when is not None and a.level >= min_level:
                    times.append(when)
            out[ign.index] = (min(times) - ign.time_ms) / 1000.0 if times else None
        return out

    def false_alerts(self) -> list[AlertRecord]:
        return [a for a in self.alert_records if a.ignition < 0]

    def node_months(self) -> float:
        return len(self.node_ids) * self.sim_s / S_PER_MONTH

    def false_alerts_per_node_month(self) -> float:
        months = self.node_months()
        return len(self.false_alerts()) / months if months > 0 else math.nan

    def summary(self) -> dict:
        latency = self.detection_latency_s()
        at_gateway = self.detection_latency_s(at_gateway=True)
        detected = [v for v in latency.values() if v is not None]
        false = self.false_alerts()
        healthy_false = [a for a in false if a.fault == "none"]
        fire_latency = self.detection_latency_s(min_level=2)  # schema.LEVEL_FIRE
        fire_detected = [v for v in fire_latency.values() if v is not None]
        healthy_false_fire = [a for a in healthy_false if a.level >= 2]
        return {
            "engine": self.engine,
            "scorer": self.scorer,
            "nodes": len(self.node_ids),
            "days": self.sim_s / 86400,
            "seed": self.config.seed,
            "epoch_ms": EPOCH_MS,
            "ignitions": [{"index": i.index, "time_ms": i.time_ms, "x_m": round(i.x_m, 1), "y_m": round(i.y_m, 1),
                           "latency_s": latency[i.index], "latency_at_gateway_s": at_gateway[i.index],
                           "fire_level_latency_s": fire_latency[i.index],
                           "burned_area_ha": round(self.fires[i.index].area_m2 / 1e4, 2) if self.fires else None,
                           "out_reason": self.fires[i.index].out_reason if self.fires else None}
                          for i in self.ignitions],
            "detected": len(detected),
            "latency_s_median": float(np.median(detected)) if detected else None,
            "latency_s_max": max(detected) if detected else None,
            "alerts": len(self.alert_records),
            "true_alerts": len(self.alert_records) - len(false),
            "false_alerts": len(false),
            "alerts_lost_on_radio": sum(1 for a in self.alert_records if a.delivered_ms is None),
            "false_alerts_healthy_nodes": len(healthy_false),
            "false_alerts_by_cause": {c: sum(1 for a in false if a.cause == c) for c in CAUSES[1:]},
            "nodes_with_false_alerts": len({a.node for a in false}),
            "false_alerts_per_node_month": self.false_alerts_per_node_month(),
            "false_alerts_per_node_month_healthy": (len(healthy_false) / self.node_months()
                                                    if self.node_months() > 0 else math.nan),
            "detected_at_fire_level": len(fire_detected),
            "fire_level_latency_s_median": float(np.median(fire_detected)) if fire_detected else None,
            "false_fire_alerts_healthy_nodes": len(healthy_false_fire),
            "false_fire_alerts_per_node_month_healthy": (len(healthy_false_fire) / self.node_months()
                                                         if self.node_months() > 0 else math.nan),
            "false_fire_alerts_on_faulty_sensors": sum(1 for a in false if a.fault != "none" and a.level >= 2),
            "heartbeats": self.heartbeats,
            "messages_published": self.messages_published,
            "dead_nodes": {reason: sum(1 for _, r in self.dead_nodes.values() if r == reason)
                           for reason in sorted({r for _, r in self.dead_nodes.values()})},
            "nuisance_events": self.nuisance_events,
            "sensor_faults": {kind: sum(1 for k in self.fault_kinds.values() if k == kind)
                              for kind in sorted(set(self.fault_kinds.values()))},
            "radio": self.radio,
            "battery": self.battery,
            "node_steps": self.node_steps,
            "wall_s": round(self.wall_s, 3),
            "speedup_vs_real_time": round(self.sim_s / self.wall_s, 1) if self.wall_s > 0 else None,
        }
