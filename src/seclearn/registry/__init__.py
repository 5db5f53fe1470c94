"""Signed model artifacts on disk.

A model is the folder ``<root>/models/<name>/<version>/`` (``root`` is the workspace;
versions are 1, 2, 3 ...) holding the files the pipeline wrote
(JSON, LightGBM text, ``.npz``, skops; never pickle), ``manifest.json`` and
``manifest.sig``.

``manifest.json`` records: ``format_version``, ``name``, ``version``, ``created_at``
(UTC, ISO 8601), ``stage`` (``"candidate"`` at save), ``seclearn_version``,
``python_version``, ``libraries`` (numpy, pandas, scikit-learn, lightgbm, pyod, skops
versions), ``pipeline`` (the pipeline's ``metadata()``: detector, featurizer, schema
and training-data fingerprints, class counts, out-of-fold metrics), ``operating_point``,
``metrics``, ``dataset`` (lineage), ``extra``, and ``files``: ``{relative path:
{"sha256": hex, "size_bytes": int}}`` for every file besides the manifest and signature.

``manifest.sig`` is ``hmac-sha256:<key id>:<hex HMAC-SHA256(key, manifest bytes)>``;
the key id is the first 8 hex digits of ``sha256(key)`` and only serves error messages.

Loading checks, in this order and before any parser sees any file: size-limited read
of the manifest and signature, HMAC over the raw manifest bytes, JSON parsing, safe
file names, no symlinks, no unlisted files, size and sha256 of every listed file.
Failures raise :class:`~seclearn.errors.IntegrityError`.

Stages (:mod:`seclearn.registry._stages`): ``<root>/models/<name>/stages.json``, signed
the same way, names the champion a bare name resolves to (the newest version until
one is promoted), the gate verdict of each candidate, the pinned trusted holdout, and
every promotion and rollback. :func:`promote` refuses a version whose gates did not
pass unless forced; :func:`rollback` restores the previous champion byte for byte.
"""

from seclearn.registry._manifest import library_versions
from seclearn.registry._promote import (
    champion,
    pin_holdout,
    promote,
    record_gates,
    rollback,
    stages,
)
from seclearn.registry._signing import key_id
from seclearn.registry._stages import StageChange, manifest_sha256
from seclearn.registry._store import (
    ModelRef,
    check_name,
    list_models,
    load_model,
    models_dir,
    save_model,
    show_model,
    sign_model,
    verify_model,
)
from seclearn.registry._verify import FORMAT_VERSION, MANIFEST_NAME

__all__ = [
    "FORMAT_VERSION",
    "MANIFEST_NAME",
    "ModelRef",
    "StageChange",
    "champion",
    "check_name",
    "key_id",
    "library_versions",
    "list_models",
    "load_model",
    "manifest_sha256",
    "models_dir",
    "pin_holdout",
    "promote",
    "record_gates",
    "rollback",
    "save_model",
    "show_model",
    "sign_model",
    "stages",
    "verify_model",
]
