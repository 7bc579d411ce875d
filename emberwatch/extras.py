"""Optional dependencies: what a command needs beyond the gateway's base install, said before it fails.

The base install (`pip install emberwatch`, the gateway image) has no plotting library and no embedded
MQTT broker; `pip install 'emberwatch[demo]'` adds them (`make demo` does it).
"""

from __future__ import annotations

import importlib.util

DEMO_EXTRA = "pip install 'emberwatch[demo]'"
# import name -> what it is for
DEMO_MODULES = {"amqtt": "the embedded MQTT broker", "matplotlib": "plots"}


def missing(*modules: str) -> list[str]:
    return [m for m in modules if importlib.util.find_spec(m) is None]


def need(what: str, *modules: str) -> str | None:
    """None when every module is importable, else one line saying what to install for `what`."""
    absent = missing(*modules)
    if not absent:
        return None
    uses = ", ".join(f"{m} ({DEMO_MODULES.get(m, 'optional')})" for m in absent)
    return f"{what} needs {uses}, which the base install leaves out: {DEMO_EXTRA}"
