"""The package import direction of ARCHITECTURE.md, and each package's public surface."""

from __future__ import annotations

import ast
import importlib
import pkgutil
from pathlib import Path

import pytest

import seclearn

SRC = Path(seclearn.__file__).parent

#: Direct dependencies allowed per package (docs/architecture.md); errors and config are
#: importable everywhere. A package may also import whatever its dependencies may import.
ALLOWED: dict[str, set[str]] = {
    "errors": set(),
    "config": set(),
    "plotting": set(),
    "schema": set(),
    "ingest": {"schema"},
    "datasets": {"schema", "ingest"},
    "features": {"schema"},
    "models": {"features"},
    "explain": {"models"},
    "pipeline": {"models", "explain"},
    "evaluation": {"pipeline", "plotting"},
    "registry": {"pipeline"},
    "scoring": {"ingest", "pipeline"},
    "store": {"schema"},
    "alerts": {"store", "explain"},
    "adversarial": {"pipeline"},
    "monitoring": {"pipeline", "store", "plotting"},
    "lifecycle": {
        "datasets",
        "evaluation",
        "registry",
        "scoring",
        "alerts",
        "adversarial",
        "monitoring",
    },
    "service": {"lifecycle", "store", "registry", "pipeline", "ingest"},
    "cli": {"lifecycle", "service"},
}
EVERYWHERE = {"errors", "config"}


def _closure(pkg: str) -> set[str]:
    seen: set[str] = set()
    todo = [pkg]
    while todo:
        for dep in ALLOWED.get(todo.pop(), set()):
            if dep not in seen:
                seen.add(dep)
                todo.append(dep)
    return seen | EVERYWHERE | {pkg}


def _imports(path: Path) -> set[str]:
    tree = ast.parse(path.read_text())
    found: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names = [a.name for a in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names = [node.module]
        else:
            continue
        for name in names:
            parts = name.split(".")
            if parts[0] == "seclearn" and len(parts) > 1:
                found.add(parts[1])
    return found


def _packages() -> list[str]:
    return sorted(
        p.name if p.is_dir() else p.stem
        for p in SRC.iterdir()
        if (p.is_dir() and (p / "__init__.py").exists())
        or (p.suffix == ".py" and p.stem != "__init__")
    )


def test_every_package_is_in_the_dependency_table():
    assert set(_packages()) <= set(ALLOWED), set(_packages()) - set(ALLOWED)


@pytest.mark.parametrize("package", _packages())
def test_package_imports_only_what_the_architecture_allows(package):
    allowed = _closure(package)
    root = SRC / package
    files = sorted(root.rglob("*.py")) if root.is_dir() else [SRC / f"{package}.py"]
    bad = {
        f"{f.relative_to(SRC)} imports seclearn.{dep}"
        for f in files
        for dep in _imports(f)
        if dep not in allowed
    }
    assert not bad, sorted(bad)


@pytest.mark.parametrize("package", [p for p in _packages() if (SRC / p).is_dir()])
def test_public_names_are_exported_in_a_sorted_all(package):
    module = importlib.import_module(f"seclearn.{package}")
    names = getattr(module, "__all__", None)
    assert names is not None, f"seclearn.{package} has no __all__"
    assert list(names) == sorted(names), f"seclearn.{package}.__all__ is not sorted"
    missing = [n for n in names if not hasattr(module, n)]
    assert not missing, missing


def test_no_module_loads_pickle():
    pattern = ("pickle.load", "joblib.load", "cloudpickle", "allow_pickle=True", "trusted=True")
    hits = [
        f"{p.relative_to(SRC)}: {pat}"
        for p in SRC.rglob("*.py")
        for pat in pattern
        if pat in p.read_text()
    ]
    assert not hits, hits


def test_modules_stay_small():
    big = [
        f"{p.relative_to(SRC)} ({n} lines)"
        for p in SRC.rglob("*.py")
        if (n := len(p.read_text().splitlines())) > 600
    ]
    assert not big, big


def test_all_submodules_import_without_side_effects(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    for info in pkgutil.walk_packages([str(SRC)], prefix="seclearn."):
        if not info.name.endswith("__main__"):
            importlib.import_module(info.name)
    assert list(tmp_path.iterdir()) == [], "importing seclearn wrote files"
