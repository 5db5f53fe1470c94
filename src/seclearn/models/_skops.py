"""skops persistence with a hard-coded trusted-type list per model class.

Loading never trusts every type in a file, and never trusts what ``get_untrusted_types``
reports: the file's untrusted types are compared with the caller's fixed list first,
and a file asking for anything else is refused before it is loaded.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from seclearn.errors import ModelError


def dump_skops(obj: Any, path: Path) -> Path:
    import skops.io as sio

    sio.dump(obj, path)
    return path


def load_skops(path: Path, *, trusted: tuple[str, ...], expected: type) -> Any:
    """Load ``path`` trusting only ``trusted`` types; the result must be an ``expected``."""
    import skops.io as sio

    if not path.is_file():
        raise ModelError(
            f"Missing model file {path}. The model folder is incomplete; save it again."
        )
    try:
        wanted = set(sio.get_untrusted_types(file=path))
    except Exception as exc:  # skops raises assorted errors on malformed archives
        raise ModelError(f"{path} is not a readable skops file ({type(exc).__name__}).") from exc
    unexpected = sorted(wanted - set(trusted))
    if unexpected:
        raise ModelError(
            f"{path} needs types {unexpected}, which a {expected.__name__} file never holds; refusing to load it. "
            "The file was not written by seclearn or was tampered with."
        )
    obj = sio.load(path, trusted=list(trusted))
    if not isinstance(obj, expected):
        raise ModelError(f"{path} holds a {type(obj).__name__}, expected a {expected.__name__}.")
    return obj


__all__ = ["dump_skops", "load_skops"]
