"""FlowFeaturizer: canonical flow frames to a float32 feature matrix."""

from __future__ import annotations

import hashlib
from typing import Any, ClassVar

import numpy as np
import orjson
import pandas as pd
from sklearn.base import BaseEstimator, TransformerMixin

from seclearn.errors import FeatureMismatchError, NotFittedError
from seclearn.features._derived import DERIVED_NUMERIC, PORT_CLASS_COLUMN, port_class
from seclearn.features.constraints import Interval, Options, validate_params
from seclearn.features.context import (
    CONTEXT_PREFIX,
    DEFAULT_WINDOWS,
    KEY_COLUMNS,
    context_features,
    has_context_inputs,
)
from seclearn.features.spec import FeatureKind, FeatureSpec, Transform
from seclearn.schema import FLOW_SCHEMA, IDENTITY_FIELDS, LABEL_FIELDS, META_PREFIX

#: Canonical fields that are always encoded as categories.
CATEGORICAL_FIELDS = ("proto", "service", "conn_state")
MISSING = "__missing__"
OTHER = "__other__"
#: A non-negative numeric column is "count-like" (log1p with ``log_counts``) when its
#: training maximum exceeds this; rates and flags in [0, 1] are left alone.
COUNT_MIN_MAX = 10.0
#: A text extra column whose distinct values exceed this share of its non-missing rows
#: (and number more than ``_ID_MIN_DISTINCT``) looks like an identifier and is ignored.
_ID_DISTINCT_SHARE = 0.5
_ID_MIN_DISTINCT = 50


def excluded_column(name: str) -> bool:
    """True for columns that are never features: labels, identities, ``meta_*``."""
    return name in LABEL_FIELDS or name in IDENTITY_FIELDS or name.startswith(META_PREFIX)


def _as_float(col: pd.Series) -> np.ndarray:
    """A float64 array of a column (read-only: may share memory with the frame).

    Missing, unparseable and infinite values become NaN.
    """
    if not (pd.api.types.is_numeric_dtype(col) or pd.api.types.is_bool_dtype(col)):
        col = pd.to_numeric(col, errors="coerce")
    values = col.to_numpy(dtype="float64", na_value=np.nan)
    if not np.isfinite(values).all():
        values = np.where(np.isfinite(values), values, np.nan)
    return values


def _as_text(col: pd.Series | np.ndarray) -> pd.Series:
    """A column as pandas ``str`` values, missing values kept missing."""
    if isinstance(col, np.ndarray):
        col = pd.Series(col, dtype=object)
    return col if pd.api.types.is_string_dtype(col) and col.dtype != object else col.astype("str")


class FlowFeaturizer(TransformerMixin, BaseEstimator):
    """Turn canonical flow frames into a float32 matrix, learned on training data only.

    Columns used (decided in ``fit``): every numeric column that is not a label,
    identity or ``meta_*`` column (extras included); the categorical fields ``proto``,
    ``service``, ``conn_state`` and text extras that do not look like identifiers;
    derived features when their inputs exist (bytes per packet each way, the
    originator's share of bytes, packets and bytes per second, and ``dst_port_class``,
    a bucket of named service ports vs well-known/registered/ephemeral ranges); and,
    with ``context``, the time-window context features of
    :mod:`seclearn.features.context` (earlier flows of the same host pair, their
    regularity, the source's fan-out and failures in the last minute, ...).

    ``context="auto"`` turns context on when at least half the training rows carry
    ``ts``, ``src_ip`` and ``dst_ip`` (Zeek, NetFlow, the simulator), and off for
    datasets without usable times or addresses (NSL-KDD, UNSW-NB15 partitions);
    ``True`` requires those inputs, ``False`` never adds context. Context is computed
    from the frame being transformed itself, so score whole time ranges, not samples;
    a frame that already holds every ``ctx_*`` column (computed upstream with history,
    see :class:`~seclearn.features.context.ContextHistory`) is taken as given.
    Input columns named ``ctx_*`` are never plain numeric features.

    Categories: the ``max_categories`` most frequent values seen at least
    ``min_category_count`` times in training; others become ``__other__``, missing
    values ``__missing__``. ``encoding="ordinal"`` gives one code per column
    (0 = missing, 1 = other, 2.. = categories by frequency), for tree models;
    ``"onehot"`` gives one 0/1 column per category, for linear and anomaly models.
    With ``log_counts=True`` count-like columns (non-negative, training maximum above
    10, not a port) go through ``log1p``; negative values seen later are clipped to 0.

    At transform time missing fields give NaN (numeric) or ``__missing__``, unknown
    fields are ignored, column order does not matter, and the input is not modified.
    Only when none of the fitted fields is present is :class:`FeatureMismatchError`
    raised.

    >>> import pandas as pd
    >>> frame = pd.DataFrame({"proto": ["tcp", "udp", "tcp"], "src_bytes": [10.0, 2000.0, 5.0]})
    >>> fz = FlowFeaturizer(min_category_count=1).fit(frame)
    >>> fz.feature_names_out_
    ['src_bytes', 'proto']
    >>> fz.transform(pd.DataFrame({"proto": ["icmp"]})).tolist()
    [[nan, 1.0]]
    """

    name: ClassVar[str] = "flow"
    version: ClassVar[str] = "1"
    _parameter_constraints: ClassVar[dict] = {
        "encoding": [Options(("ordinal", "onehot"))],
        "log_counts": [Options((True, False))],
        "max_categories": [Interval(int, 1, 1000)],
        "min_category_count": [Interval(int, 1, None)],
        "derived": [Options((True, False))],
        "context": [Options(("auto", True, False))],
    }

    def __init__(
        self,
        *,
        encoding: str = "ordinal",
        log_counts: bool = False,
        max_categories: int = 32,
        min_category_count: int = 5,
        derived: bool = True,
        context: bool | str = "auto",
    ) -> None:
        self.encoding = encoding
        self.log_counts = log_counts
        self.max_categories = max_categories
        self.min_category_count = min_category_count
        self.derived = derived
        self.context = context

    # ------------------------------------------------------------------ fit
    def fit(self, X: pd.DataFrame, y: Any = None) -> FlowFeaturizer:
        """Learn columns, categories and count-like columns from the training frame ``X``."""
        self.fit_transform(X)
        return self

    def fit_transform(self, X: pd.DataFrame, y: Any = None, **fit_params: Any) -> np.ndarray:
        validate_params(type(self).__name__, self.get_params(), self._parameter_constraints)
        if not isinstance(X, pd.DataFrame) or len(X) == 0:
            raise FeatureMismatchError(
                f"FlowFeaturizer.fit expects a non-empty pandas DataFrame of flows, got "
                f"{type(X).__name__} with {len(X) if hasattr(X, '__len__') else '?'} rows."
            )
        canonical = {f: i for i, f in enumerate(FLOW_SCHEMA.names)}
        columns = sorted(
            (
                str(c)
                for c in X.columns
                if not excluded_column(str(c)) and not str(c).startswith(CONTEXT_PREFIX)
            ),
            key=lambda c: (canonical.get(c, len(canonical)), c),
        )
        numeric: list[str] = []
        categorical: list[str] = []
        ignored: list[str] = []
        for c in columns:
            col = X[c]
            is_num = pd.api.types.is_numeric_dtype(col) or pd.api.types.is_bool_dtype(col)
            if col.notna().sum() == 0:
                ignored.append(c)
            elif c in CATEGORICAL_FIELDS or not is_num:
                distinct = col.nunique(dropna=True)
                looks_like_id = (
                    distinct > _ID_MIN_DISTINCT
                    and distinct > _ID_DISTINCT_SHARE * col.notna().sum()
                )
                (ignored if c not in CATEGORICAL_FIELDS and looks_like_id else categorical).append(
                    c
                )
            else:
                numeric.append(c)
        present = set(numeric)
        derived = [d.name for d in DERIVED_NUMERIC if self.derived and set(d.sources) <= present]
        if self.derived and "dst_port" in present:
            categorical.append(PORT_CLASS_COLUMN)
        self.numeric_columns_ = numeric
        self.derived_columns_ = derived
        self.categorical_columns_ = categorical
        self.ignored_columns_ = ignored
        self.context_columns_ = self._fit_context(X)

        raw = {c: _as_float(X[c]) for c in numeric}
        for d in DERIVED_NUMERIC:
            if d.name in derived:
                raw[d.name] = d.compute(raw)
        raw.update(self._context_raw(X))
        self.log_columns_ = []
        if self.log_counts:
            for c in numeric + derived + self.context_columns_:
                v = raw[c]
                finite = v[np.isfinite(v)]
                if (
                    finite.size
                    and finite.min() >= 0
                    and finite.max() > COUNT_MIN_MAX
                    and not c.endswith("port")
                ):
                    self.log_columns_.append(c)
        self.categories_ = {}
        for c in categorical:
            values = _as_text(port_class(raw["dst_port"]) if c == PORT_CLASS_COLUMN else X[c])
            counts = values.value_counts(dropna=True)
            ranked = sorted(
                ((int(n), str(v)) for v, n in counts.items() if n >= self.min_category_count),
                key=lambda t: (-t[0], t[1]),
            )
            self.categories_[c] = [v for _, v in ranked[: self.max_categories]]
        self._build_layout()
        out = self._transform(X, raw)
        self.feature_specs_ = self._specs(out)
        return out

    def _fit_context(self, X: pd.DataFrame) -> list[str]:
        """Names of the context features to use (empty when context is off)."""
        names = DEFAULT_WINDOWS.names
        precomputed = all(c in X.columns for c in names)
        if self.context == "auto":
            return names if precomputed or has_context_inputs(X) else []
        if self.context is False:
            return []
        if not (precomputed or has_context_inputs(X, min_share=1 / len(X))):
            raise FeatureMismatchError(
                f"FlowFeaturizer(context=True) needs the columns {list(KEY_COLUMNS)} with values "
                f"(or precomputed {names[0]!r}, ...); got columns {[str(c) for c in X.columns][:30]}. "
                "Use context='auto' or False for data without times and addresses."
            )
        return names

    def _context_raw(self, X: pd.DataFrame) -> dict[str, np.ndarray]:
        """Context feature values of ``X``: its own ``ctx_*`` columns if all present, else computed."""
        names = self.context_columns_
        if not names:
            return {}
        if all(c in X.columns for c in names):
            return {c: _as_float(X[c]) for c in names}
        computed = context_features(X, DEFAULT_WINDOWS)
        return {c: computed[c].to_numpy(dtype="float64") for c in names}

    def _build_layout(self) -> None:
        names: list[str] = (
            list(self.numeric_columns_) + list(self.derived_columns_) + list(self.context_columns_)
        )
        for c in self.categorical_columns_:
            if self.encoding == "ordinal":
                names.append(c)
            else:
                names += [f"{c}={v}" for v in [*self.categories_[c], OTHER, MISSING]]
        self.feature_names_out_ = names
        self.n_features_out_ = len(names)
        sources = {d.name: d.sources for d in DERIVED_NUMERIC}
        inputs = set(self.numeric_columns_) | set(self.categorical_columns_) - {PORT_CLASS_COLUMN}
        for d in self.derived_columns_:
            inputs |= set(sources[d])
        if PORT_CLASS_COLUMN in self.categorical_columns_:
            inputs.add("dst_port")
        context_sources = {name: srcs for name, srcs, _ in DEFAULT_WINDOWS.features()}
        for c in self.context_columns_:
            inputs |= set(context_sources[c])
        self.input_columns_ = sorted(inputs)
        self._index = {
            c: pd.Index(self.categories_[c], dtype="str") for c in self.categorical_columns_
        }

    def _specs(self, out: np.ndarray) -> list[FeatureSpec]:
        sources = {d.name: d.sources for d in DERIVED_NUMERIC}
        context_sources = {name: srcs for name, srcs, _ in DEFAULT_WINDOWS.features()}
        specs = []
        finite = np.isfinite(out)
        with np.errstate(invalid="ignore"):
            lo = np.where(finite, out, np.inf).min(axis=0)
            hi = np.where(finite, out, -np.inf).max(axis=0)
            integral = np.all(~finite | (np.mod(np.where(finite, out, 0), 1) == 0), axis=0)
        for j, name in enumerate(self.feature_names_out_):
            has = bool(finite[:, j].any())
            kind: FeatureKind
            transform: Transform
            srcs: tuple[str, ...]
            category: str | None = None
            if name in self.numeric_columns_:
                kind, source, srcs = "numeric", name, (name,)
                transform = "log1p" if name in self.log_columns_ else "identity"
            elif name in self.derived_columns_:
                kind, source, srcs = "derived", name, sources[name]
                transform = "log1p" if name in self.log_columns_ else "identity"
            elif name in self.context_columns_:
                kind, source, srcs = "context", name, context_sources[name]
                transform = "log1p" if name in self.log_columns_ else "identity"
            else:
                column, _, value = name.partition("=")
                srcs = ("dst_port",) if column == PORT_CLASS_COLUMN else (column,)
                kind = "derived" if column == PORT_CLASS_COLUMN else "categorical"
                source = column
                transform = "onehot" if self.encoding == "onehot" else "ordinal"
                category = value if self.encoding == "onehot" else None
            specs.append(
                FeatureSpec(
                    name=name,
                    source=source,
                    kind=kind,
                    transform=transform,
                    sources=tuple(srcs),
                    min_seen=float(lo[j]) if has else None,
                    max_seen=float(hi[j]) if has else None,
                    integer=bool(integral[j]),
                    non_negative=bool(has and lo[j] >= 0),
                    category=category,
                )
            )
        return specs

    # ------------------------------------------------------------ transform
    def _check_fitted(self) -> None:
        if not hasattr(self, "feature_names_out_"):
            raise NotFittedError(
                "This FlowFeaturizer is not fitted yet. Call fit(frame) with training flows first."
            )

    def transform(self, X: pd.DataFrame) -> np.ndarray:
        """The float32 feature matrix of ``X`` (rows in the same order)."""
        self._check_fitted()
        if not isinstance(X, pd.DataFrame):
            raise FeatureMismatchError(
                f"FlowFeaturizer.transform expects a pandas DataFrame, got {type(X).__name__}."
            )
        if len(X) and not set(map(str, X.columns)) & set(self.input_columns_):
            raise FeatureMismatchError(
                f"None of the columns this featurizer was fitted on is present. Expected some of "
                f"{self.input_columns_}; got {[str(c) for c in X.columns][:30]}. Map your columns to "
                "the flow schema (seclearn.schema.FLOW_SCHEMA) or refit on data like this."
            )
        raw: dict[str, np.ndarray | None] = {
            c: _as_float(X[c]) if c in X.columns else None for c in self.numeric_columns_
        }
        for c in ("dst_port", *{s for d in DERIVED_NUMERIC for s in d.sources}):
            if c not in raw:
                raw[c] = _as_float(X[c]) if c in X.columns else None
        for d in DERIVED_NUMERIC:
            if d.name in self.derived_columns_:
                inputs = {s: raw[s] for s in d.sources}
                raw[d.name] = None if any(v is None for v in inputs.values()) else d.compute(inputs)  # type: ignore[arg-type]
        raw.update(self._context_raw(X))
        return self._transform(X, raw)

    def _transform(self, X: pd.DataFrame, raw: dict[str, Any]) -> np.ndarray:
        n = len(X)
        out = np.empty((n, self.n_features_out_), dtype=np.float32)
        logged = set(self.log_columns_)
        j = 0
        for c in [*self.numeric_columns_, *self.derived_columns_, *self.context_columns_]:
            v = raw.get(c)
            if v is None:
                out[:, j] = np.nan
            elif c in logged:
                out[:, j] = np.log1p(np.maximum(v, 0.0))
            else:
                out[:, j] = v
            j += 1
        for c in self.categorical_columns_:
            codes = self._codes(X, c, raw)
            width = len(self.categories_[c]) + 2
            if self.encoding == "ordinal":
                out[:, j] = codes
                j += 1
                continue
            block = out[:, j : j + width]
            block[:] = 0.0
            # codes: 0 missing, 1 other, 2.. categories -> columns: categories, other, missing
            position = np.where(codes >= 2, codes - 2, np.where(codes == 1, width - 2, width - 1))
            block[np.arange(n), position] = 1.0
            j += width
        return out

    def _codes(self, X: pd.DataFrame, column: str, raw: dict[str, Any]) -> np.ndarray:
        """0 = missing, 1 = other/unseen, 2 + rank for known categories."""
        if column == PORT_CLASS_COLUMN:
            ports = raw.get("dst_port")
            if ports is None:
                return np.zeros(len(X), dtype=np.int64)
            values = _as_text(port_class(ports))
        elif column in X.columns:
            values = _as_text(X[column])
        else:
            return np.zeros(len(X), dtype=np.int64)
        found = self._index[column].get_indexer(values)
        missing = values.isna().to_numpy()
        return np.where(missing, 0, np.where(found < 0, 1, found + 2))

    # ------------------------------------------------------------- metadata
    def get_feature_names_out(self, input_features: Any = None) -> np.ndarray:
        self._check_fitted()
        return np.asarray(self.feature_names_out_, dtype=object)

    def display_value(self, index: int, value: float) -> Any:
        """The human-readable input value behind ``value`` of output feature ``index``.

        Undoes ``log1p`` (rounded to an int for integer inputs), turns ordinal codes back
        into category names and one-hot columns into True/False; None for missing.
        """
        self._check_fitted()
        spec = self.feature_specs_[index]
        if value != value:  # NaN
            return None
        if spec.transform == "onehot":
            return bool(value >= 0.5)
        if spec.transform == "ordinal":
            code = int(value)
            if code <= 0:
                return MISSING
            return OTHER if code == 1 else self.categories_[spec.source][code - 2]
        if spec.transform == "log1p":  # float32 log values: snap back to whole numbers
            number = float(np.expm1(value))
            rounded = round(number)
            return (
                int(rounded)
                if abs(number - rounded) <= 1e-4 * max(1.0, abs(number))
                else float(f"{number:.6g}")
            )
        number = float(value)
        return int(number) if number.is_integer() else float(f"{number:.6g}")  # drop float32 noise

    def fingerprint(self) -> str:
        """Hash of name, version, parameters and the learned columns and categories."""
        self._check_fitted()
        state = self.to_dict()
        state.pop("specs", None)
        return hashlib.sha256(orjson.dumps(state, option=orjson.OPT_SORT_KEYS)).hexdigest()[:16]

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready learned state (what :meth:`from_dict` restores)."""
        self._check_fitted()
        return {
            "name": self.name,
            "version": self.version,
            "params": self.get_params(),
            "numeric_columns": self.numeric_columns_,
            "derived_columns": self.derived_columns_,
            "categorical_columns": self.categorical_columns_,
            "categories": self.categories_,
            "log_columns": self.log_columns_,
            "ignored_columns": self.ignored_columns_,
            "context_columns": self.context_columns_,
            "specs": [s.to_dict() for s in self.feature_specs_],
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> FlowFeaturizer:
        """Rebuild a fitted featurizer from :meth:`to_dict` output."""
        if data.get("name") != cls.name or data.get("version") != cls.version:
            raise FeatureMismatchError(
                f"Saved featurizer is {data.get('name')!r} version {data.get('version')!r}; this code reads "
                f"{cls.name!r} version {cls.version!r}. Retrain the model with this version of seclearn."
            )
        self = cls(**data["params"])
        self.numeric_columns_ = list(data["numeric_columns"])
        self.derived_columns_ = list(data["derived_columns"])
        self.categorical_columns_ = list(data["categorical_columns"])
        self.categories_ = {k: list(v) for k, v in data["categories"].items()}
        self.log_columns_ = list(data["log_columns"])
        self.ignored_columns_ = list(data["ignored_columns"])
        self.context_columns_ = list(data.get("context_columns", []))
        unknown = sorted(set(self.context_columns_) - set(DEFAULT_WINDOWS.names))
        if unknown:
            raise FeatureMismatchError(
                f"Saved featurizer uses context features {unknown} that this version of seclearn "
                f"does not compute (it computes {DEFAULT_WINDOWS.names}). Retrain the model."
            )
        self._build_layout()
        self.feature_specs_ = [FeatureSpec.from_dict(s) for s in data["specs"]]
        return self


FEATURIZERS: dict[str, type[FlowFeaturizer]] = {FlowFeaturizer.name: FlowFeaturizer}

__all__ = [
    "CATEGORICAL_FIELDS",
    "FEATURIZERS",
    "MISSING",
    "OTHER",
    "FlowFeaturizer",
    "excluded_column",
]
