"""The Detector contract: ``fit(X, y=None) -> self`` and ``risk_score(X)``, higher = more suspicious.

Every detector works on a featurized float matrix ``X`` (rows = records) and labels
``y`` with 1 = malicious, 0 = benign and NaN = unlabeled. Third-party models are wrapped
once, in their subclass, so that the score direction is converted in exactly one place.

A detector saves itself as a folder: ``detector.json`` (name, parameters, small learned
state) plus model files in non-executable formats only (LightGBM text, ``.npz`` read
with ``allow_pickle=False``, skops with a hard-coded trusted-type list).
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any, ClassVar, Literal

import numpy as np
import orjson
import pandas as pd
from sklearn.base import BaseEstimator, clone
from sklearn.model_selection import KFold, StratifiedKFold

from seclearn.errors import FeatureMismatchError, ModelError, NotFittedError
from seclearn.features import validate_params

#: How a detector uses labels: supervised and hybrid need both classes; anomaly trains on
#: rows not labeled malicious; semi_supervised takes labeled and unlabeled (NaN) rows.
Kind = Literal["supervised", "anomaly", "hybrid", "semi_supervised"]
DETECTOR_FILE = "detector.json"
FORMAT_VERSION = 1
#: Largest JSON state file a detector agrees to parse.
MAX_STATE_BYTES = 256 * 1024**2
#: Rows scored at a time by detectors that need temporary per-row copies (imputation).
CHUNK_ROWS = 65_536


def as_matrix(X: Any, *, where: str) -> np.ndarray:
    """``X`` as a 2-D float32/float64 array, without copying when it already is one."""
    arr = np.asarray(X)
    if arr.dtype not in (np.float32, np.float64):
        try:
            arr = arr.astype(np.float64)
        except (TypeError, ValueError) as exc:
            raise FeatureMismatchError(
                f"{where} expects a numeric feature matrix; got dtype {arr.dtype}."
            ) from exc
    if arr.ndim != 2:
        raise FeatureMismatchError(
            f"{where} expects a 2-D feature matrix (rows x features); got shape {arr.shape}."
        )
    return arr


def as_labels(y: Any, n_rows: int, *, where: str) -> np.ndarray | None:
    """Labels as float64 (1 malicious, 0 benign, NaN unlabeled), or None."""
    if y is None:
        return None
    try:
        arr = pd.Series(
            np.asarray(y, dtype=object)
            if not isinstance(y, pd.Series)
            else y.to_numpy(dtype=object)
        )
        arr = (
            pd.to_numeric(arr, errors="raise")
            .astype("Float64")
            .to_numpy(dtype="float64", na_value=np.nan)
        )
    except (TypeError, ValueError) as exc:
        raise ModelError(
            f"{where}: labels must be numbers (1 malicious, 0 benign) or missing."
        ) from exc
    if arr.shape != (n_rows,):
        raise ModelError(
            f"{where}: y must have one label per row ({n_rows}); got shape {arr.shape}."
        )
    bad = ~np.isnan(arr) & (arr != 0) & (arr != 1)
    if bad.any():
        raise ModelError(
            f"{where}: labels must be 1 (malicious), 0 (benign) or missing; got {np.unique(arr[bad])[:5]}."
        )
    return arr


def map_chunks(
    X: np.ndarray, fn: Callable[[np.ndarray], np.ndarray], chunk_rows: int = CHUNK_ROWS
) -> np.ndarray:
    """Apply a row-wise scoring ``fn`` to ``X`` in chunks, bounding temporary memory."""
    if len(X) <= chunk_rows:
        return np.asarray(fn(X), dtype=np.float64)
    return np.concatenate(
        [
            np.asarray(fn(X[i : i + chunk_rows]), dtype=np.float64)
            for i in range(0, len(X), chunk_rows)
        ]
    )


class Detector(BaseEstimator):
    """Base of every detector: a scorer whose output grows with suspicion.

    Subclasses set ``name`` and ``kind`` and implement ``_fit``, ``_risk`` and, for
    persistence, ``_state``/``_save_files``/``_restore``. ``preferred_encoding`` and
    ``prefers_log_counts`` tell the pipeline which featurizer settings suit the model.
    """

    name: ClassVar[str] = ""
    kind: ClassVar[Kind] = "supervised"
    preferred_encoding: ClassVar[str] = "onehot"
    prefers_log_counts: ClassVar[bool] = True
    _parameter_constraints: ClassVar[dict] = {}

    # ----------------------------------------------------------- contract
    def fit(self, X: Any, y: Any = None) -> Detector:
        """Learn from ``X`` (and ``y`` for supervised detectors); returns self.

        Anomaly detectors train on the rows that are not labeled malicious (benign or
        unlabeled); supervised and hybrid detectors need both classes.
        """
        validate_params(
            type(self).__name__, self.get_params(deep=False), self._parameter_constraints
        )
        X = as_matrix(X, where=f"{type(self).__name__}.fit")
        labels = as_labels(y, len(X), where=f"{type(self).__name__}.fit")
        if self.kind == "anomaly":
            rows = np.ones(len(X), dtype=bool) if labels is None else labels != 1
            if rows.sum() < 2:
                raise ModelError(
                    f"{type(self).__name__} needs at least 2 benign or unlabeled rows to fit; got {int(rows.sum())}."
                )
            self._fit(X[rows] if not rows.all() else X, None)
        else:
            self._fit(X, self._binary_labels(labels))
        self.n_features_in_ = X.shape[1]
        return self

    def risk_score(self, X: Any) -> np.ndarray:
        """Suspicion score per row of ``X`` (float64); higher means more suspicious."""
        return self._risk(self._check_input(X))

    # ---------------------------------------------------------- out-of-fold
    def fit_oof(
        self, X: Any, y: Any = None, *, cv_folds: int = 3, random_state: int = 0, groups: Any = None
    ) -> np.ndarray:
        """Fit on all of ``X`` and return out-of-fold raw scores for every row.

        Supervised: each row is scored by a copy trained on the other folds (stratified).
        Anomaly: benign/unlabeled rows likewise (K folds over them); malicious rows, which
        no anomaly model ever trains on, are scored by the model fitted on all of them.
        ``groups`` (attack family per row) is used by hybrids only.
        """
        X = as_matrix(X, where=f"{type(self).__name__}.fit_oof")
        labels = as_labels(y, len(X), where=f"{type(self).__name__}.fit_oof")
        oof = np.empty(len(X), dtype=np.float64)
        if self.kind == "anomaly":
            train = np.ones(len(X), dtype=bool) if labels is None else labels != 1
            rows = np.flatnonzero(train)
            folds = min(cv_folds, len(rows))
            if folds >= 2:
                for tr, va in KFold(folds, shuffle=True, random_state=random_state).split(rows):
                    part = clone(self).fit(X[rows[tr]])
                    oof[rows[va]] = part.risk_score(X[rows[va]])
            self.fit(X, labels)
            if folds < 2:
                oof[rows] = self.risk_score(X[rows])
            if (~train).any():
                oof[~train] = self.risk_score(X[~train])
            return oof
        y01 = self._binary_labels(labels)
        folds = min(cv_folds, int(np.bincount(y01.astype(np.int64)).min()))
        if folds < 2:
            raise ModelError(
                f"{type(self).__name__}: out-of-fold scores need at least 2 rows of each class."
            )
        splitter = StratifiedKFold(folds, shuffle=True, random_state=random_state)
        for tr, va in splitter.split(X, y01):
            oof[va] = clone(self).fit(X[tr], y01[tr]).risk_score(X[va])
        self.fit(X, y01)
        return oof

    # ------------------------------------------------------------ helpers
    def _binary_labels(self, labels: np.ndarray | None) -> np.ndarray:
        where = type(self).__name__
        if labels is None or np.isnan(labels).any():
            raise ModelError(
                f"{where} is a {self.kind} detector and needs a label (0 benign, 1 malicious) for every "
                "training row. Drop unlabeled rows, or use an anomaly detector (isolation_forest, ecod, hbos)."
            )
        counts = np.bincount(labels.astype(np.int64), minlength=2)
        if counts.min() == 0:
            raise ModelError(
                f"{where} needs both benign (0) and malicious (1) training rows; got {int(counts[0])} benign "
                f"and {int(counts[1])} malicious. Add labeled attacks, or use an anomaly detector."
            )
        return labels.astype(np.float64)

    def _check_fitted(self) -> None:
        if not hasattr(self, "n_features_in_"):
            raise NotFittedError(
                f"This {type(self).__name__} is not fitted yet. Call fit(X, y) first."
            )

    def _check_input(self, X: Any) -> np.ndarray:
        self._check_fitted()
        X = as_matrix(X, where=f"{type(self).__name__}.risk_score")
        if X.shape[1] != self.n_features_in_:
            raise FeatureMismatchError(
                f"{type(self).__name__} was fitted on {self.n_features_in_} features; got {X.shape[1]}. "
                "Featurize scoring data with the featurizer the detector was trained with."
            )
        return X

    # ------------------------------------------------------- subclass hooks
    def _fit(self, X: np.ndarray, y: np.ndarray | None) -> None:
        raise NotImplementedError

    def _risk(self, X: np.ndarray) -> np.ndarray:
        raise NotImplementedError

    def _state(self) -> dict[str, Any]:
        """Small JSON-ready learned state written into detector.json."""
        return {}

    def _save_files(self, folder: Path) -> list[Path]:
        """Write model files into ``folder``; return their paths."""
        return []

    def _restore(self, state: dict[str, Any], folder: Path) -> None:
        """Rebuild learned attributes from ``state`` and the files in ``folder``."""

    # --------------------------------------------------------- persistence
    def save(self, folder: Path | str) -> list[Path]:
        """Write the fitted detector into ``folder`` (created); return every file written."""
        self._check_fitted()
        folder = Path(folder)
        folder.mkdir(parents=True, exist_ok=True)
        files = self._save_files(folder)
        doc = {
            "format_version": FORMAT_VERSION,
            "detector": self.name,
            "params": params_to_json(self.get_params(deep=False)),
            "n_features_in": int(self.n_features_in_),
            "state": self._state(),
        }
        path = folder / DETECTOR_FILE
        path.write_bytes(orjson.dumps(doc, option=orjson.OPT_SERIALIZE_NUMPY | orjson.OPT_INDENT_2))
        return [path, *files]

    @classmethod
    def load(cls, folder: Path | str) -> Detector:
        """Restore a detector saved by :meth:`save`; no file is parsed by an executable format."""
        from seclearn.models.registry import DETECTORS  # the registry imports every subclass

        folder = Path(folder)
        doc = read_json(folder / DETECTOR_FILE)
        if doc.get("format_version") != FORMAT_VERSION:
            raise ModelError(
                f"{folder / DETECTOR_FILE}: format version {doc.get('format_version')!r} is not "
                f"{FORMAT_VERSION}; retrain the model with this version of seclearn."
            )
        target = DETECTORS.get(doc.get("detector"))
        if target is None or not issubclass(target, cls):
            raise ModelError(
                f"{folder / DETECTOR_FILE} holds detector {doc.get('detector')!r}, which is not a "
                f"known {cls.__name__}. Known detectors: {', '.join(sorted(DETECTORS))}."
            )
        detector = target(**params_from_json(doc["params"]))
        detector.n_features_in_ = int(doc["n_features_in"])
        detector._restore(doc.get("state") or {}, folder)
        return detector


def read_json(path: Path) -> Any:
    """Parse a JSON file of bounded size; ModelError when absent, too large or malformed."""
    try:
        size = path.stat().st_size
    except FileNotFoundError as exc:
        raise ModelError(
            f"Missing model file {path}. The model folder is incomplete; save it again."
        ) from exc
    if size > MAX_STATE_BYTES:
        raise ModelError(
            f"{path} is {size} bytes, above the {MAX_STATE_BYTES}-byte limit for model state."
        )
    try:
        return orjson.loads(path.read_bytes())
    except orjson.JSONDecodeError as exc:
        raise ModelError(
            f"{path} is not valid JSON ({exc}). The model folder is damaged; save it again."
        ) from exc


def params_to_json(params: dict[str, Any]) -> dict[str, Any]:
    """Estimator parameters as JSON values; nested detectors become ``{"__detector__": name, ...}``."""
    out: dict[str, Any] = {}
    for key, value in params.items():
        if isinstance(value, Detector):
            out[key] = {
                "__detector__": value.name,
                "params": params_to_json(value.get_params(deep=False)),
            }
        elif isinstance(value, tuple):  # e.g. an ensemble's members or weights
            out[key] = {"__tuple__": [params_to_json({"v": v})["v"] for v in value]}
        elif value is None or isinstance(value, str | bool | int | float):
            out[key] = value.item() if isinstance(value, np.generic) else value
        elif isinstance(value, np.generic):
            out[key] = value.item()
        else:
            raise ModelError(
                f"Parameter {key!r}={value!r} cannot be saved: use str, number, bool, None, "
                "Detector values or tuples of them."
            )
    return out


def params_from_json(params: dict[str, Any]) -> dict[str, Any]:
    """Inverse of :func:`params_to_json`."""
    from seclearn.models.registry import make_detector

    out: dict[str, Any] = {}
    for key, value in params.items():
        if isinstance(value, dict) and "__detector__" in value:
            out[key] = make_detector(
                value["__detector__"], **params_from_json(value.get("params", {}))
            )
        elif isinstance(value, dict) and "__tuple__" in value:
            out[key] = tuple(params_from_json({"v": v})["v"] for v in value["__tuple__"])
        else:
            out[key] = value
    return out


__all__ = [
    "CHUNK_ROWS",
    "DETECTOR_FILE",
    "Detector",
    "Kind",
    "as_labels",
    "as_matrix",
    "map_chunks",
    "params_from_json",
    "params_to_json",
    "read_json",
]
