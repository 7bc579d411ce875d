"""Numbers from the environment, checked against their allowed range.

Each reader appends a problem naming the variable, its value and the range instead of raising,
so a settings builder collects every mistake and reports them at once (ConfigError) before any
I/O. An unset or blank variable means the default; a bad one yields the default too, which only
matters to a caller that carries on to report more problems.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import overload


def env_int(env: Mapping[str, str], name: str, default: int, low: int, high: int, problems: list[str]) -> int:
    text = (env.get(name) or "").strip()
    if not text:
        return default
    try:
        value = int(text)
    except ValueError:
        problems.append(f"{name}={text!r} is not an integer (allowed: {low}..{high})")
        return default
    if not low <= value <= high:
        problems.append(f"{name}={value} must be between {low} and {high}")
        return default
    return value


@overload
def env_number(env: Mapping[str, str], name: str, default: float, low: float, high: float,
               problems: list[str]) -> float: ...
@overload
def env_number(env: Mapping[str, str], name: str, default: None, low: float, high: float,
               problems: list[str]) -> float | None: ...
def env_number(env: Mapping[str, str], name: str, default: float | None, low: float, high: float,
               problems: list[str]) -> float | None:
    text = (env.get(name) or "").strip()
    if not text:
        return default
    try:
        value = float(text)
    except ValueError:
        problems.append(f"{name}={text!r} is not a number (allowed: {low:g}..{high:g})")
        return default
    if not low <= value <= high:  # also refuses nan
        problems.append(f"{name}={text} must be between {low:g} and {high:g}")
        return default
    return value
