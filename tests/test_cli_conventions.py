"""The `emberwatch` CLI as an operator meets it: help everywhere, fixed choices, errors on stderr naming the flag."""

from __future__ import annotations

import argparse
import csv
import importlib
import io
import json
from importlib.metadata import version
from pathlib import Path

import pytest

from emberwatch.cli import COMMANDS, main

# Options whose values are a fixed set: argparse must list and check them.
ENUMERATIONS = {("gateway", "--log-level"), ("gateway", "--log-format"), ("alerts", "--format"),
                ("battery", "--format"), ("simulate", "--placement"), ("simulate", "--engine")}


def _parsers() -> list[tuple[str, argparse.ArgumentParser]]:
    out = []
    for name, module in COMMANDS.items():
        parser = argparse.ArgumentParser(prog=f"emberwatch {name}")
        importlib.import_module(module).add_arguments(parser)
        out.append((name, parser))
        for action in parser._actions:
            if isinstance(action, argparse._SubParsersAction):
                out += [(f"{name} {sub}", p) for sub, p in action.choices.items()]
    return out


def test_every_option_of_every_command_has_help() -> None:
    missing = [(name, a.option_strings or a.dest) for name, parser in _parsers() for a in parser._actions
               if not a.help and not isinstance(a, (argparse._HelpAction, argparse._SubParsersAction))]
    assert missing == []


def test_enumerations_are_choices() -> None:
    options = {(name, opt): a for name, parser in _parsers() for a in parser._actions for opt in a.option_strings}
    for key in ENUMERATIONS:
        assert options[key].choices, key


def test_version_is_the_installed_distributions(capsys) -> None:
    with pytest.raises(SystemExit) as exit_info:
        main(["--version"])
    assert exit_info.value.code == 0
    assert capsys.readouterr().out.strip() == f"emberwatch {version('emberwatch')}"


def test_battery_prints_json_and_csv_for_tools(capsys) -> None:
    assert main(["battery", "--format", "csv"]) == 0
    rows = list(csv.DictReader(io.StringIO(capsys.readouterr().out)))
    assert {r["policy"] for r in rows} >= {"stream", "alert-only"} and float(rows[0]["life_days"]) > 0
    assert main(["battery", "--format", "json", "--policy", "stream"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert report["breakdown"]["policy"] == "stream" and report["node"] == "default"
    assert [p["policy"] for p in report["policies"]] == [r["policy"] for r in rows]


def test_output_paths_are_never_created_silently(tmp_path: Path, capsys) -> None:
    missing = tmp_path / "no-such-folder"
    assert main(["battery", "--plot", str(missing / "plot.png")]) == 2
    err = capsys.readouterr()
    assert "--plot: folder" in err.err and err.out == ""
    assert main(["simulate", "--nodes", "2", "--days", "0.01", "--quiet", "--event-log", str(missing / "e.jsonl")]) == 1
    err = capsys.readouterr()
    assert "--event-log: cannot write event log" in err.err
    assert not missing.exists()


def test_bad_values_are_errors_on_stderr_naming_the_flag(capsys) -> None:
    assert main(["demo", "--nodes", "0"]) == 2
    out = capsys.readouterr()
    assert out.out == "" and "--nodes must be >= 1" in out.err
    assert main(["simulate", "--nodes", "0", "--days", "0.01"]) == 2
    out = capsys.readouterr()
    assert out.out == "" and "--nodes must be a positive integer" in out.err and "n_nodes" not in out.err
