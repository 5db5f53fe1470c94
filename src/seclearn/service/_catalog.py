"""The models a service serves: which names, which version, loaded once and kept."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from seclearn.errors import ModelNotFoundError, RegistryError
from seclearn.registry import champion, check_name, list_models, load_model


@dataclass(frozen=True)
class ServedModel:
    """A loaded pipeline and the registry version it came from."""

    name: str
    version: int
    pipeline: Any


class ModelCatalog:
    """Registry models by name, each at its champion version (the newest until one is promoted).

    ``names`` restricts what is served (empty: every model in the registry). A model
    is verified and loaded on first use and kept; every ``refresh_s`` seconds the
    served version is checked against the signed stages file, so a promotion or a
    rollback takes effect without a restart.
    """

    def __init__(
        self,
        root: Path,
        key: Callable[[], bytes],
        names: tuple[str, ...] = (),
        loader: Callable[..., tuple[Any, dict[str, Any]]] = load_model,
        refresh_s: float = 5.0,
    ) -> None:
        self.root = root
        self.key = key
        self.names = names
        self.loader = loader
        self.refresh_s = refresh_s
        self._loaded: dict[str, ServedModel] = {}
        self._checked: dict[str, float] = {}
        self._lock = threading.Lock()

    def describe(self) -> list[dict[str, Any]]:
        """One row per served model: champion version, all versions, detector, threshold."""
        by_name: dict[str, list[dict[str, Any]]] = {}
        for row in list_models(self.root, key=self.key()):
            if not self.names or row["name"] in self.names:
                by_name.setdefault(row["name"], []).append(row)
        out = []
        for name, rows in sorted(by_name.items()):
            champ = [r for r in rows if r.get("stage") == "champion"]
            newest = champ[0] if champ else max(rows, key=lambda r: r["version"])
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
            served = self._loaded.get(name)
            now = time.monotonic()
            if served is not None and now - self._checked.get(name, 0.0) >= self.refresh_s:
                self._checked[name] = now
                if champion(name, root=self.root, key=self.key()) not in (None, served.version):
                    served = None  # promoted or rolled back since it was loaded
            if served is None:
                pipeline, manifest = self.loader(name, root=self.root, key=self.key())
                served = ServedModel(name, int(manifest["version"]), pipeline)
                self._loaded[name], self._checked[name] = served, now
            return served
