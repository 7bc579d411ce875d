"""`emberwatch firmware build|deploy`: compile the node firmware to .mpy and put it on a board.

build   mpy-cross every device module of edge_node/ into build/firmware/lib/edge_node/*.mpy
        (bytecode .mpy runs on any MicroPython >= 1.23 port) and copy main.py beside it.
deploy  check config.json, then copy build/firmware/ and config.json to the board with mpremote
        and reset it. `--dry-run` prints the mpremote commands instead of running them.

Runs on CPython only (never copied to a board).
"""

from __future__ import annotations

import argparse
import json
import shutil
import subprocess
import sys
from pathlib import Path

HELP = "Build the edge-node firmware (.mpy via mpy-cross) or deploy it to a board with mpremote."

PACKAGE_DIR = Path(__file__).resolve().parent
PROJECT_ROOT = PACKAGE_DIR.parent
DEFAULT_OUT = PROJECT_ROOT / "build" / "firmware"
# Modules that run on CPython only, or are copied as source rather than compiled.
HOST_ONLY = {"firmware_command.py", "main.py"}


class FirmwareError(RuntimeError):
    """A build or deploy step failed; the message says which and why."""


def device_sources(package_dir: Path = PACKAGE_DIR) -> list[Path]:
    return sorted(p for p in package_dir.rglob("*.py")
                  if "__pycache__" not in p.parts and p.relative_to(package_dir).as_posix() not in HOST_ONLY)


def build(out_dir: Path = DEFAULT_OUT, package_dir: Path = PACKAGE_DIR) -> list[Path]:
    """Compile into a fresh out_dir; return the files written (relative to out_dir)."""
    if out_dir.exists():
        shutil.rmtree(out_dir)
    lib = out_dir / "lib" / package_dir.name
    written = []
    for src in device_sources(package_dir):
        rel = src.relative_to(package_dir)
        target = lib / rel.with_suffix(".mpy")
        target.parent.mkdir(parents=True, exist_ok=True)
        # -s: the name tracebacks show, the path a developer will recognise.
        done = subprocess.run([sys.executable, "-m", "mpy_cross", "-s", package_dir.name + "/" + rel.as_posix(),
                               "-o", str(target), str(src)], capture_output=True, text=True)
        if done.returncode != 0:
            raise FirmwareError("mpy-cross failed on " + str(src) + ":\n" + done.stderr.strip())
        written.append(target.relative_to(out_dir))
    shutil.copyfile(package_dir / "main.py", out_dir / "main.py")
    written.append(Path("main.py"))
    return written


def deploy_commands(out_dir: Path, config_path: Path, port: str, with_umqtt: bool) -> list[list[str]]:
    mpremote = [sys.executable, "-m", "mpremote", "connect", port]
    commands = []
    if with_umqtt:
        commands.append(mpremote + ["mip", "install", "umqtt.simple"])
    # `cp -r <dir> :` recreates <dir> (lib/edge_node/...) under the board's root, where /lib is on sys.path.
    commands.append(mpremote + ["fs", "cp", "-r", str(out_dir / "lib"), ":",
                                "+", "fs", "cp", str(out_dir / "main.py"), ":main.py",
                                "+", "fs", "cp", str(config_path), ":config.json", "+", "reset"])
    return commands


def check_config(config_path: Path) -> None:
    """Refuse to deploy a config the node would reject at boot."""
    from edge_node.config import ConfigError, parse_config
    if not config_path.exists():
        raise FirmwareError(f"{config_path} not found: copy edge_node/config.example.json and fill it in")
    try:
        parse_config(json.loads(config_path.read_text()))
    except (ValueError, ConfigError) as exc:
        problems = exc.problems if isinstance(exc, ConfigError) else [f"not valid JSON: {exc}"]
        raise FirmwareError(f"{config_path} would be rejected by the node:\n  " + "\n  ".join(problems))


def add_arguments(parser: argparse.ArgumentParser) -> None:
    sub = parser.add_subparsers(dest="action", required=True, metavar="ACTION")
    b = sub.add_parser("build", help="compile edge_node/ to .mpy under build/firmware/")
    b.add_argument("--out", type=Path, default=DEFAULT_OUT, help="output folder (default build/firmware)")
    d = sub.add_parser("deploy", help="build, then copy firmware + config.json to a board with mpremote")
    d.add_argument("--port", default="auto", help="serial port, e.g. /dev/ttyUSB0 (default: mpremote's auto)")
    d.add_argument("--config", type=Path, default=PACKAGE_DIR / "config.json",
                   help="the node's config.json (default edge_node/config.json, git-ignored)")
    d.add_argument("--out", type=Path, default=DEFAULT_OUT, help="build folder (default build/firmware)")
    d.add_argument("--with-umqtt", action="store_true",
                   help="also `mip install umqtt.simple` (for firmware builds without it frozen in)")
    d.add_argument("--dry-run", action="store_true", help="print the mpremote commands, do not run them")


def run(args: argparse.Namespace) -> int:
    try:
        if args.action == "deploy":
            check_config(args.config)
        files = build(args.out)
        print(f"built {len(files)} files into {args.out}")
        if args.action == "build":
            return 0
        for command in deploy_commands(args.out, args.config, args.port, args.with_umqtt):
            print(" ".join(command))
            if not args.dry_run and subprocess.run(command).returncode != 0:
                raise FirmwareError("mpremote failed (is the board connected? try --port /dev/ttyUSB0)")
    except FirmwareError as exc:
        print(f"firmware {args.action}: {exc}", file=sys.stderr)
        return 1
    return 0
