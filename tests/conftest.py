"""Shared fixtures: the public datasets folder, a temporary workspace."""

from __future__ import annotations

from pathlib import Path

import pytest

from seclearn.config import shared_data_dir

#: Fixtures kept in their own modules: loopback receivers for alert delivery.
pytest_plugins = ["receivers"]


@pytest.fixture(scope="session")
def shared_data() -> Path:
    """The folder of public datasets; the test is skipped with a reason when it is absent."""
    root = shared_data_dir()
    if root is None:
        pytest.skip("public datasets not found: set SECLEARN_DATA or place them in ../shared/data")
    return root


@pytest.fixture
def data_file(shared_data: Path):
    """Return a function that gives a dataset file's path, or skips when it is missing."""

    def _get(relative: str) -> Path:
        path = shared_data / relative
        if not path.exists():
            pytest.skip(f"{relative} is not in {shared_data}")
        return path

    return _get


@pytest.fixture
def workspace(tmp_path: Path) -> Path:
    """An empty workspace folder."""
    root = tmp_path / "ws"
    root.mkdir()
    return root
