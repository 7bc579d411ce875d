"""Battery charge in percent for heartbeats that carry only millivolts (v1 nodes, older firmware).

Schema v2 nodes send `bat_pct` from their own chemistry's curve (edge_node/core/battery_state.py);
older ones send only `bat_mv`, so their battery panels stayed empty. The gateway fills `bat_pct`
in from `bat_mv` with the same curves and the chemistry the site is known to use, before the batch
is stored (stored as `battery_pct`, like a node's own). A node's own `bat_pct` is never replaced:
the node knows its battery better than a site-wide setting.

EMBERWATCH_BATTERY_CHEMISTRY: a chemistry for every site, per-site ones (`site=chemistry`), or
both, comma-separated: `li-ion-18650`, `north=2xAA,south=li-socl2-aa`, `3xAA,ridge=li-ion-18650`.
Unset: the node firmware's default battery (edge_node/config.py).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from edge_node import config as node_config
from edge_node.core import battery_state
from edge_node.core.schema import is_valid_id
from gateway.ingest import Event

ENV_NAME = "EMBERWATCH_BATTERY_CHEMISTRY"
# What a node assumes when its config.json names no battery; the gateway assumes the same.
NODE_DEFAULT_CHEMISTRY: str = node_config._OPTIONAL_TEXT["battery"]


class BatteryConfigError(ValueError):
    pass


@dataclass(frozen=True)
class BatterySettings:
    default: str = NODE_DEFAULT_CHEMISTRY
    per_site: dict[str, str] = field(default_factory=dict)

    def chemistry(self, site: str) -> str:
        return self.per_site.get(site, self.default)


def _checked(chemistry: str, item: str) -> str:
    if chemistry not in battery_state.CHEMISTRIES:
        raise BatteryConfigError(f"{ENV_NAME}: {item!r} names no known chemistry; one of "
                                 f"{', '.join(battery_state.CHEMISTRIES)}")
    return chemistry


def settings_from_env(env: Mapping[str, str]) -> BatterySettings:
    text = env.get(ENV_NAME, "").strip()
    default, per_site = NODE_DEFAULT_CHEMISTRY, {}
    seen_default = False
    for item in (part.strip() for part in text.split(",") if part.strip()):
        site, sep, chemistry = item.rpartition("=")
        if not sep:
            if seen_default:
                raise BatteryConfigError(f"{ENV_NAME}: two chemistries for every site ({item!r}); give one")
            default, seen_default = _checked(item, item), True
            continue
        site = site.strip()
        if not is_valid_id(site):
            raise BatteryConfigError(f"{ENV_NAME}: {item!r} needs a site id before '='")
        per_site[site] = _checked(chemistry.strip(), item)
    return BatterySettings(default, per_site)


class BatteryPercentProcessor:
    """An EventProcessor that completes heartbeats in place and derives no events of its own.

    Listed before the other processors, so they see the filled-in percentage too."""

    def __init__(self, settings: BatterySettings) -> None:
        self.settings = settings

    def observe(self, events: list[tuple[Event, int]], now_ms: int) -> list[Event]:
        for event, _ in events:
            fields = event.fields
            if event.kind != "heartbeat" or "bat_pct" in fields:
                continue
            mv = fields.get("bat_mv")
            if isinstance(mv, int) and not isinstance(mv, bool):
                fields["bat_pct"] = battery_state.percent(mv, self.settings.chemistry(event.site))
        return []

    def tick(self, now_ms: int) -> list[Event]:
        return []
