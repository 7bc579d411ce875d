"""Run scripts on real MicroPython (the WebAssembly port, driven by node) from CPython tests.

`run_micropython(script, files)` writes the project's `edge_node` package into
the interpreter's /lib (the way it sits on a board) plus any extra files, runs
the script and returns what it printed. The port has no `machine`, 1 ms ticks
and double-precision floats; see ../shared/DESIGN.md.
"""

from __future__ import annotations

import base64
import json
import shutil
import subprocess
from pathlib import Path

RUNNER_DIR = Path(__file__).resolve().parent
PROJECT_ROOT = RUNNER_DIR.parents[2]
PACKAGE = "@micropython/micropython-webassembly-pyscript"


class MicroPythonError(RuntimeError):
    """The script raised on MicroPython; the message holds its traceback."""


def unavailable_reason() -> str | None:
    """Why MicroPython cannot run here (None when it can), installing the npm package if needed."""
    if shutil.which("node") is None:
        return "node is not installed (tests/harness/install_system_deps.sh installs it)"
    if not (RUNNER_DIR / "node_modules" / PACKAGE / "micropython.mjs").exists():
        if shutil.which("npm") is None:
            return "npm is not installed (tests/harness/install_system_deps.sh installs it)"
        done = subprocess.run(["npm", "ci", "--no-audit", "--no-fund"], cwd=RUNNER_DIR,
                              capture_output=True, text=True, timeout=300)
        if done.returncode != 0:
            return "npm ci failed in " + str(RUNNER_DIR) + ": " + done.stderr[-500:]
    return None


def package_files(root: Path = PROJECT_ROOT, package: str = "edge_node") -> dict[str, str]:
    """Every .py file of a package, keyed by its path under the board's /lib."""
    files = {}
    for path in sorted((root / package).rglob("*.py")):
        if "__pycache__" in path.parts:
            continue
        files["/lib/" + path.relative_to(root).as_posix()] = path.read_text()
    return files


def run_micropython(script: str | list[str], files: dict[str, str] | None = None, heapsize: int = 4 * 1024 * 1024,
                    timeout_s: float = 300, binary_files: dict[str, bytes] | None = None,
                    with_sources: bool = True) -> str:
    """Run `script` on MicroPython with edge_node's sources in /lib (unless with_sources is False)
    plus `files` (text) and `binary_files` (e.g. compiled .mpy); return its stdout.

    A list of scripts runs as consecutive top-level calls in one interpreter: the port frees
    memory only between such calls, never inside one (its GC cannot scan the wasm stack)."""
    all_files = package_files() if with_sources else {}
    all_files.update(files or {})
    encoded = {path: base64.b64encode(data).decode() for path, data in (binary_files or {}).items()}
    request = json.dumps({"files": all_files, "binary_files": encoded, "script": script, "heapsize": heapsize})
    done = subprocess.run(["node", str(RUNNER_DIR / "run.mjs")], input=request, capture_output=True,
                          text=True, cwd=RUNNER_DIR, timeout=timeout_s)
    if done.returncode != 0:
        raise MicroPythonError(done.stderr.strip() or "node exited with " + str(done.returncode))
    return done.stdout
