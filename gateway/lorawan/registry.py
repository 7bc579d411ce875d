"""Which LoRaWAN device is which Emberwatch node: a registry file, checked whole before use.

JSON, one entry per device:
    {"devices": [{"dev_eui": "0004A30B001C0530", "site": "montesinho", "node": "n001",
                  "device_id": "n001"}]}
`device_id` is the end device's id on The Things Stack (its topics and downlinks use it; default:
the node id); ChirpStack addresses devices by DevEUI alone. Every problem is reported at once.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

from edge_node.core.schema import is_valid_id


class RegistryError(ValueError):
    def __init__(self, problems: list[str]) -> None:
        super().__init__("LoRaWAN device registry: " + "; ".join(problems))
        self.problems = problems


@dataclass(frozen=True, slots=True)
class Device:
    dev_eui: str
    site: str
    node: str
    device_id: str


class Registry:
    def __init__(self, devices: list[Device]) -> None:
        self.by_eui = {d.dev_eui: d for d in devices}
        self.by_node = {(d.site, d.node): d for d in devices}

    def __len__(self) -> int:
        return len(self.by_eui)

    def device(self, dev_eui: str) -> Device | None:
        return self.by_eui.get(dev_eui.upper())

    def node(self, site: str, node: str) -> Device | None:
        return self.by_node.get((site, node))


def _is_eui(text: object) -> bool:
    return isinstance(text, str) and len(text) == 16 and all(c in "0123456789abcdefABCDEF" for c in text)


def parse_registry(raw: object) -> Registry:
    if not isinstance(raw, dict) or not isinstance(raw.get("devices"), list):
        raise RegistryError(['top level must be {"devices": [...]}'])
    problems: list[str] = []
    devices: list[Device] = []
    seen_eui: set[str] = set()
    seen_node: set[tuple[str, str]] = set()
    for i, entry in enumerate(raw["devices"]):
        where = f"devices[{i}]"
        if not isinstance(entry, dict):
            problems.append(f"{where} must be an object")
            continue
        eui, site, node = entry.get("dev_eui"), entry.get("site"), entry.get("node")
        device_id = entry.get("device_id", node)
        bad = False
        if not _is_eui(eui):
            problems.append(f"{where}.dev_eui must be 16 hex digits, got {str(eui)[:24]!r}")
            bad = True
        for name, value in (("site", site), ("node", node)):
            if not is_valid_id(value):
                problems.append(f"{where}.{name} must be 1-32 chars of [A-Za-z0-9_-], got {str(value)[:40]!r}")
                bad = True
        if not isinstance(device_id, str) or not 0 < len(device_id) <= 36:
            problems.append(f"{where}.device_id must be 1-36 characters")
            bad = True
        unknown = set(entry) - {"dev_eui", "site", "node", "device_id"} - {k for k in entry if k.startswith("_")}
        if unknown:
            problems.append(f"{where}: unknown keys {sorted(unknown)} (a typo?)")
            bad = True
        if bad:
            continue
        assert isinstance(eui, str) and isinstance(site, str) and isinstance(node, str) and isinstance(device_id, str)
        eui = eui.upper()
        if eui in seen_eui:
            problems.append(f"{where}: DevEUI {eui} listed twice")
        if (site, node) in seen_node:
            problems.append(f"{where}: node {site}/{node} listed twice")
        seen_eui.add(eui)
        seen_node.add((site, node))
        devices.append(Device(eui, site, node, device_id))
    if problems:
        raise RegistryError(problems)
    return Registry(devices)


def load_registry(path: str | Path) -> Registry:
    try:
        text = Path(path).read_text(encoding="utf-8")
    except OSError as exc:
        raise RegistryError([f"cannot read {path}: {exc.strerror or exc}"]) from exc
    try:
        raw = json.loads(text)
    except ValueError as exc:
        raise RegistryError([f"{path} is not valid JSON: {exc}"]) from exc
    return parse_registry(raw)
