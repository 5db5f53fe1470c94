"""Every CLI command and setting is documented in docs/cli.md, and the README's commands exist."""

from __future__ import annotations

from pathlib import Path

import typer.main

from seclearn import config
from seclearn.cli.main import app

ROOT = Path(__file__).resolve().parents[1]


def _command_paths() -> list[str]:
    group = typer.main.get_command(app)
    paths: list[str] = []
    for name, cmd in group.commands.items():  # type: ignore[attr-defined]
        sub = getattr(cmd, "commands", None)
        if sub:
            paths.extend(f"seclearn {name} {s}" for s in sub)
        else:
            paths.append(f"seclearn {name}")
    return paths


def test_every_cli_command_is_documented():
    doc = (ROOT / "docs" / "cli.md").read_text()
    missing = [p for p in _command_paths() if f"`{p}" not in doc]
    assert not missing, f"add these commands to docs/cli.md: {missing}"


def test_every_environment_setting_is_documented():
    doc = (ROOT / "docs" / "cli.md").read_text()
    names = [getattr(config, n) for n in dir(config) if n.startswith("ENV_")]
    assert names
    assert all(f"`{n}`" in doc for n in names), names


def test_readme_opens_with_the_two_setup_commands():
    head = (ROOT / "README.md").read_text().split("\n\n", 3)[:3]
    text = "\n".join(head)
    assert "make demo" in text and "make test" in text


def test_ci_runs_the_readme_test_command():
    assert "make test" in (ROOT / ".ci" / "run").read_text()
