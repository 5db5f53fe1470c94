"""The models a service serves: which names, which version, loaded once and kept."""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from seclearn.errors import ModelNotFoundError, RegistryError
from seclearn.registry import check_name, list_models, load_model


@dataclass(frozen=True)
class ServedModel:
    """A loaded pipeline and the registry version it came from."""

    name: str
    version: int
    pipeline: Any


class ModelCatalog:
    """Registry models by name, each at its newest version (the champion for now).

    ``names`` restricts what is served (empty: every model in the registry). A model
    is verified and loaded on first use and kept until the process restarts.
    """

    def __init__(
        self,
        root: Path,
        key: Callable[[], bytes],
        names: tuple[str, ...] = (),
        loader: Callable[..., tuple[Any, dict[str, Any]]] = load_model,
    ) -> None:
        self.root = root
        self.key = key
        self.names = names
        self.loader = loader
        self._loaded: dict[str, ServedModel] = {}
        self._lock = threading.Lock()

    def describe(self) -> list[dict[str, Any]]:
        """One row per served model: champion version, all versions, detector, threshold."""
        by_name: dict[str, list[dict[str, Any]]] = {}
        for row in list_models(self.root, key=self.key()):
            if not self.names or row["name"] in self.names:
                by_name.setdefault(row["name"], []).append(row)
        out = []
        for name, rows in sorted(by_name.items()):
            newest = max(rows, key=lambda r: r["version"])
            out.append(
                {
                    "name": name,
                    "champion": newest["version"],
                    "versions": sorted(r["version"] for r in rows),
                    "stage": newest.get("stage"),
                    "created_at": newest.get("created_at"),
                    "detector": newest.get("detector"),
                    "threshold": newest.get("threshold"),
                    "signature": newest.get("signature"),
                }
            )
        return out

    def get(self, name: str) -> ServedModel:
        """The served model ``name``; ModelNotFoundError if it is not served or not saved."""
        try:
            check_name(name)
        except RegistryError:
            raise ModelNotFoundError("model is not served") from None
        if self.names and name not in self.names:
            raise ModelNotFoundError("model is not served")
        with self._lock:
            if name not in self._loaded:
                pipeline, manifest = self.loader(name, root=self.root, key=self.key())
                self._loaded[name] = ServedModel(name, int(manifest["version"]), pipeline)
            return self._loaded[name]
