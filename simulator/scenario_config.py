"""What a simulated deployment is made of: every setting, checked before a run starts."""

from edge_node.core import schema
from simulator.engines import ENGINES
from simulator.fuel_map import FuelConfig
from simulator.radio_config import RadioConfig
from simulator.sensors import SensorConfig
from simulator.weather import WeatherConfig


class ScenarioConfigError(ValueError):
    """Bad scenario settings; the message lists every problem."""


class ScenarioConfig:
    def __init__(self, n_nodes: int = 100, days: float = 1.0, ignitions: int = 1, seed: int = 1,
                 site: str = "sim", placement: str = "grid", spacing_m: float = 200.0,
                 positions_csv: str | None = None, engine: str = "fleet", sample_interval_s: int | None = None,
                 heartbeat_s: int = 3600, ignition_plan: list[tuple[float, float, float]] | None = None,
                 suppression_delay_s: float | None = 3 * 3600, stuck_per_node_month: float = 0.01,
                 dead_sensor_per_node_month: float = 0.01, dead_battery_per_node_month: float = 0.01,
                 wet_sensor_per_node_month: float = 0.0,
                 radio: bool = True, weather: WeatherConfig | None = None,
                 sensors: SensorConfig | None = None, radio_settings: RadioConfig | None = None,
                 fuel: FuelConfig | None = None) -> None:
        self.n_nodes = n_nodes
        self.days = days
        self.ignitions = ignitions
        self.seed = seed
        self.site = site
        self.placement = placement
        self.spacing_m = spacing_m
        self.positions_csv = positions_csv
        self.engine = engine
        self.sample_interval_s = sample_interval_s
        self.heartbeat_s = heartbeat_s
        self.ignition_plan = ignition_plan  # [(t_s after start, x_m, y_m)] replaces random ignitions
        self.suppression_delay_s = suppression_delay_s  # crews put a fire out this long after its first alert
        self.stuck_per_node_month = stuck_per_node_month
        self.dead_sensor_per_node_month = dead_sensor_per_node_month
        self.dead_battery_per_node_month = dead_battery_per_node_month
        self.wet_sensor_per_node_month = wet_sensor_per_node_month
        self.radio = radio
        self.weather = weather or WeatherConfig()
        self.sensors = sensors or SensorConfig()
        self.radio_settings = radio_settings or RadioConfig()
        self.fuel = fuel or FuelConfig()

    def problems(self) -> list[str]:
        out = []
        if self.positions_csv is None and not (isinstance(self.n_nodes, int) and self.n_nodes >= 1):
            out.append(f"n_nodes must be a positive integer, got {self.n_nodes!r}")
        if not self.days > 0:
            out.append(f"days must be > 0, got {self.days!r}")
        if self.ignition_plan is None and not (isinstance(self.ignitions, int) and self.ignitions >= 0):
            out.append(f"ignitions must be an integer >= 0, got {self.ignitions!r}")
        if not schema.is_valid_id(self.site):
            out.append(f"site {self.site!r} must be 1-32 chars of [A-Za-z0-9_-]")
        if self.placement not in ("grid", "random", "csv"):
            out.append(f"placement must be grid, random or csv, got {self.placement!r}")
        if self.placement == "csv" and not self.positions_csv:
            out.append("placement csv needs positions_csv")
        if not self.spacing_m > 0:
            out.append(f"spacing_m must be > 0, got {self.spacing_m!r}")
        if self.engine not in ENGINES:
            out.append(f"engine must be one of {', '.join(ENGINES)}, got {self.engine!r}")
        if self.sample_interval_s is not None and not (isinstance(self.sample_interval_s, int)
                                                       and self.sample_interval_s >= 1):
            out.append(f"sample_interval_s must be a positive integer, got {self.sample_interval_s!r}")
        if not (isinstance(self.heartbeat_s, int) and self.heartbeat_s >= 1):
            out.append(f"heartbeat_s must be a positive integer, got {self.heartbeat_s!r}")
        for rate_name in ("stuck_per_node_month", "dead_sensor_per_node_month", "dead_battery_per_node_month",
                          "wet_sensor_per_node_month"):
            if not getattr(self, rate_name) >= 0:
                out.append(f"{rate_name} must be >= 0")
        out.extend("radio: " + problem for problem in self.radio_settings.problems())
        out.extend("fuel: " + problem for problem in self.fuel.problems())
        return out


def model_sample_interval_s() -> int:
    """The interval the committed model was calibrated for (60 s without one)."""
    try:
        from edge_node.core import model_weights
    except ImportError:
        return 60
    return int(getattr(model_weights, "SAMPLE_INTERVAL_S", 60))
