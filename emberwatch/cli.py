"""`emberwatch <command>`: each command lives in the package it belongs to.

A command module exposes `HELP` (one line), `add_arguments(parser)` and
`run(args) -> int`. Modules are imported only when their command runs, so
`emberwatch gateway` never pays for TensorFlow.
"""

import argparse
import importlib
import sys

COMMANDS = {
    "demo": "simulator.demo_command",
    "firmware": "edge_node.firmware_command",
    "train": "training.train_command",
    "evaluate": "training.evaluate_command",
    "calibrate": "training.calibrate_command",
    "compare": "training.compare_command",
    "gateway": "gateway.command",
    "influx-setup": "gateway.influx_setup_command",
    "alerts": "gateway.alerts_command",
    "incidents": "gateway.incidents.command",
    "battery": "simulator.energy.command",
    "simulate": "simulator.simulate_command",
    "plan": "simulator.plan.command",
    "node": "gateway.lorawan.node_command",
}


def version() -> str:
    """The installed distribution's version; a source checkout run without installing says so."""
    from importlib.metadata import PackageNotFoundError
    from importlib.metadata import version as dist_version

    try:
        return dist_version("emberwatch")
    except PackageNotFoundError:
        return "unknown (not installed)"


def _describe(module_name: str) -> str:
    return getattr(importlib.import_module(module_name), "HELP", "")


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    parser = argparse.ArgumentParser(prog="emberwatch", description="Emberwatch forest-fire early warning.")
    parser.add_argument("--version", action="version", version=f"emberwatch {version()}",
                        help="print the installed version and exit")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    if argv and argv[0] in COMMANDS:
        # Import only the module that will run; the others stay unloaded.
        module = importlib.import_module(COMMANDS[argv[0]])
        cmd = sub.add_parser(argv[0], help=module.HELP, description=module.HELP)
        module.add_arguments(cmd)
        args = parser.parse_args(argv)
        try:
            return int(module.run(args) or 0)
        except KeyboardInterrupt:
            return 130
    for name, module_name in COMMANDS.items():
        sub.add_parser(name, help=_describe(module_name))
    args = parser.parse_args(argv)
    parser.print_help()
    return 0 if args.command is None and not argv else 2


if __name__ == "__main__":
    sys.exit(main())
