"""Shared fixtures for the training tests: the real data folder, skipped with a reason when absent."""

from pathlib import Path

import pytest

from training.real_data import default_data_dir


@pytest.fixture(scope="session")
def data_dir() -> Path:
    path = default_data_dir()
    if not (path / "smoke_detection_iot").is_dir():
        pytest.skip(f"real data not found at {path} (../shared/data beside the project); "
                    "set EMBERWATCH_DATA_DIR to run the data-dependent training tests")
    return path
