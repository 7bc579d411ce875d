"""Scenario files: the settings of a simulated deployment as JSON, checked before a run.

    {"nodes": 400, "days": 2, "spacing_m": 150,
     "radio": {"sf": "adr", "channels": 8, "duty_cycle": 0.01, "capture_db": 6},
     "weather": {"mean_wind_ms": 5, "dew_point_c": 4},
     "fuel": {"model": "GR2"}}

Top-level keys are `emberwatch simulate` options (dashes or underscores);
"radio", "weather", "sensors" and "fuel" hold the settings of those parts.
"""

import json
from pathlib import Path
from typing import Any

from simulator.radio_config import RadioConfig, RadioConfigError

SECTIONS = ("radio", "weather", "sensors", "fuel")


class ScenarioFileError(ValueError):
    """A scenario file that cannot be used; the message says where and why."""


def read_scenario_file(path: str | Path) -> dict[str, Any]:
    """Top-level options (keys with underscores) plus the sections, as plain values."""
    path = Path(path)
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise ScenarioFileError(f"cannot read scenario file {path}: {exc.strerror or exc}") from exc
    except json.JSONDecodeError as exc:
        raise ScenarioFileError(f"{path}: not JSON ({exc.msg} at line {exc.lineno})") from exc
    if not isinstance(data, dict):
        raise ScenarioFileError(f"{path}: expected a JSON object of settings")
    out = {key.replace("-", "_"): value for key, value in data.items()}
    for section in SECTIONS:
        if section in out and not isinstance(out[section], dict):
            raise ScenarioFileError(f"{path}: {section!r} must be an object of settings")
    return out


def parse_setting(text: str) -> tuple[str, Any]:
    """KEY=VALUE from the command line; VALUE as JSON when it parses (numbers), else a string."""
    key, sep, value = text.partition("=")
    if not sep or not key.strip():
        raise ScenarioFileError(f"expected KEY=VALUE, got {text!r}")
    try:
        parsed = json.loads(value)
    except json.JSONDecodeError:
        parsed = value
    return key.strip().replace("-", "_"), parsed


def build_section(cls, settings: dict[str, Any], name: str):
    """cls(**settings) with unknown keys and bad values reported by name."""
    try:
        if cls is RadioConfig:
            return RadioConfig.from_dict(settings)
        return cls(**settings)
    except RadioConfigError as exc:
        raise ScenarioFileError(str(exc)) from exc
    except TypeError as exc:
        raise ScenarioFileError(f"{name}: {exc}".replace("__init__() ", "")) from exc
