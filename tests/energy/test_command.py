"""`emberwatch battery`: tables, the plot file, and clear errors for bad names."""

import subprocess
import sys
from pathlib import Path

import pytest

from emberwatch.cli import main

PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


def test_default_run_prints_breakdown_comparison_and_headline(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["battery", "--mcu", "esp32", "--radio", "lora-sf9", "--battery", "2xAA",
                 "--interval", "60", "--policy", "alert-only"]) == 0
    out = capsys.readouterr().out
    for component in ("sleep", "wake", "sensor", "compute", "radio", "total"):
        assert f"\n{component} " in out
    assert "battery life:" in out and "years" in out
    assert "\nstream " in out and "\nalert-only " in out and "vs stream" in out
    assert "radio/compute =" in out


def test_comparison_shows_alert_only_outliving_stream(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["battery", "--interval", "60"]) == 0
    rows = {line.split()[0]: line.split() for line in capsys.readouterr().out.splitlines()
            if line.startswith(("stream ", "alert-only "))}
    assert float(rows["alert-only"][3]) > float(rows["stream"][3])


def test_plot_file_is_a_png(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    target = tmp_path / "battery.png"  # its folder exists: the command never creates one (--plot)
    assert main(["battery", "--radio", "sx1276-sf12", "--plot", str(target)]) == 0
    assert target.read_bytes()[:8] == PNG_MAGIC
    assert target.stat().st_size > 10_000
    assert str(target) in capsys.readouterr().out


@pytest.mark.parametrize("argv, expected", [
    (["--mcu", "esp33"], "unknown mcu 'esp33'; valid mcu names: casals2017-mbed, esp32,"),
    (["--radio", "lora-sf13"], "valid radio names: ble-adv,"),
    (["--battery", "AAA"], "valid battery names: 2xAA, 3xAA,"),
    (["--policy", "sometimes"], "valid policy names: alert-only, stream"),
    (["--node", "nope"], "valid node names: casals2017, default"),
    (["--interval", "0"], "--interval must be > 0 s"),
    (["--mcu", "rp2040", "--radio", "wifi-mqtt"], "needs mcu esp32"),
    (["--mcu", "nrf52840", "--radio", "ble-adv", "--payload-bytes", "64"], "carries 0..31 payload bytes"),
])
def test_bad_input_is_a_clear_error_and_nonzero_exit(argv: list[str], expected: str,
                                                     capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["battery", *argv]) == 2
    captured = capsys.readouterr()
    assert expected in captured.err
    assert captured.out == ""


def test_every_bad_name_is_reported_at_once(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["battery", "--mcu", "esp33", "--radio", "lora-sf13", "--interval", "-5"]) == 2
    err = capsys.readouterr().err
    assert "unknown mcu" in err and "unknown radio" in err and "--interval" in err


def test_list_names(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["battery", "--list"]) == 0
    out = capsys.readouterr().out
    assert "radios:" in out and "lora-sf9" in out and "batteries:" in out and "2xAA" in out


def test_duty_cycle_warning_for_streaming_at_sf12(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["battery", "--radio", "lora-sf12", "--policy", "stream", "--interval", "60"]) == 0
    assert "over the EU868 1 % duty-cycle limit" in capsys.readouterr().err


def test_console_script_exit_code() -> None:
    # The installed entry point, end to end, in a fresh interpreter.
    bad = subprocess.run([sys.executable, "-m", "emberwatch.cli", "battery", "--mcu", "esp33"],
                         check=False, capture_output=True, text=True, timeout=60)
    assert bad.returncode == 2 and "valid mcu names" in bad.stderr
    good = subprocess.run([sys.executable, "-m", "emberwatch.cli", "battery"],
                          check=False, capture_output=True, text=True, timeout=60)
    assert good.returncode == 0 and "battery life:" in good.stdout


def test_radio_comparison_table(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["battery", "--radios", "lora-sf7,lora-sf12,wifi-mqtt"]) == 0
    rows = {line.split()[0]: line.split() for line in capsys.readouterr().out.splitlines()
            if line.startswith(("lora-sf7 ", "lora-sf12 ", "wifi-mqtt "))}
    assert set(rows) == {"lora-sf7", "lora-sf12", "wifi-mqtt"}
    # A longer time on air costs more per alert and shortens streaming life.
    assert float(rows["lora-sf7"][1]) < float(rows["lora-sf12"][1])
    assert float(rows["lora-sf7"][4]) > float(rows["lora-sf12"][4])
