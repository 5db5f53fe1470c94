"""DetectionPipeline: featurizer + detector + calibrator + threshold, fitted and saved as one unit."""

from __future__ import annotations

import warnings
from pathlib import Path
from typing import Any, ClassVar

import numpy as np
import orjson
import pandas as pd
from sklearn.base import BaseEstimator, clone

from seclearn.errors import ModelError, NotFittedError
from seclearn.explain import explain_matrix, mean_abs_contributions, method_of
from seclearn.features import (
    FlowFeaturizer,
    InstanceOf,
    Interval,
    Options,
    ReferenceProfile,
    build_profile,
    validate_params,
)
from seclearn.models import (
    BenignQuantileCalibrator,
    Detector,
    IdentityCalibrator,
    ProbabilityCalibrator,
    ThresholdPolicy,
    calibrator_from_dict,
    make_detector,
)
from seclearn.models.base import as_labels, params_from_json, params_to_json, read_json
from seclearn.pipeline._summary import (
    attack_type_counts,
    class_counts,
    frame_fingerprint,
    oof_metrics,
)
from seclearn.schema import FLOW_SCHEMA

PIPELINE_FILE = "pipeline.json"
FORMAT_VERSION = 1
CHOSEN_ON = "out-of-fold predictions on training data"
#: Rows sampled from training data to compute global importance (fewer for occlusion).
IMPORTANCE_ROWS = {"occlusion": 200, "default": 1000}
#: Benign rows used for the reference medians that explanations compare with.
REFERENCE_ROWS = 20_000

MEANINGS = {
    "probability": "calibrated probability that the record is malicious (fitted on out-of-fold training scores)",
    "benign_quantile": "fraction of benign training traffic (out-of-fold) whose score is lower",
    "identity": "the detector's own score in [0, 1]",
}


class DetectionPipeline(BaseEstimator):
    """A detector with its featurizer, calibration and threshold policy.

    ``fit(frame)`` featurizes the training flows, computes K-fold out-of-fold raw scores
    (anomaly detectors train on rows not labeled malicious: benign, or all rows when
    unlabeled; semi-supervised detectors get every row, labeled or not; supervised and
    hybrid ones the labeled rows), fits the calibrator on them (``calibration="auto"``:
    a probability, on the labeled rows, for supervised, hybrid and semi-supervised
    detectors trained on both classes, the benign quantile otherwise), chooses the
    threshold on the out-of-fold calibrated scores of benign training rows, and refits
    the detector on all training rows. Nothing but training data is looked at.

    ``risk_score``/``score_features`` return calibrated scores in [0, 1]; ``score``
    adds the decision (score above ``threshold_``) and, on request, explanations.

    >>> import numpy as np, pandas as pd
    >>> from sklearn.metrics import roc_auc_score
    >>> def flows(seed, n=600):
    ...     rng = np.random.default_rng(seed)
    ...     scan = rng.random(n) < 0.2
    ...     return pd.DataFrame({"dst_bytes": np.where(scan, 0.0, rng.lognormal(8, 1, n)),
    ...                          "conn_state": np.where(scan, "REJ", rng.choice(["SF", "S1"], n)),
    ...                          "label": scan.astype(int)})
    >>> pipe = DetectionPipeline(detector="logistic_regression").fit(flows(0))
    >>> test = flows(1)
    >>> bool(roc_auc_score(test["label"], pipe.risk_score(test)) > 0.99)
    True
    >>> pipe.operating_point_["policy"], pipe.operating_point_["target_fpr"]
    ('target_fpr', 0.01)
    """

    _parameter_constraints: ClassVar[dict] = {
        "featurizer": [InstanceOf((FlowFeaturizer, type(None)), "a FlowFeaturizer or None")],
        "detector": [InstanceOf((str, Detector), "a detector name or Detector instance")],
        "threshold": [InstanceOf((ThresholdPolicy, type(None)), "a ThresholdPolicy or None")],
        "calibration": [Options(("auto", "isotonic", "sigmoid", "benign_quantile", "none"))],
        "cv_folds": [Interval(int, 2, 20)],
        "random_state": [Interval(int, 0, None)],
    }

    def __init__(
        self,
        *,
        featurizer: FlowFeaturizer | None = None,
        detector: str | Detector = "lightgbm",
        threshold: ThresholdPolicy | None = None,
        calibration: str = "auto",
        cv_folds: int = 3,
        random_state: int = 0,
    ) -> None:
        self.featurizer = featurizer
        self.detector = detector
        self.threshold = threshold
        self.calibration = calibration
        self.cv_folds = cv_folds
        self.random_state = random_state

    # ----------------------------------------------------------------- fit
    def _new_detector(self) -> Detector:
        if isinstance(self.detector, str):
            detector = make_detector(self.detector)
            if "random_state" in detector.get_params(deep=False):
                detector.set_params(random_state=self.random_state)
            return detector
        return clone(self.detector)

    def _resolve_calibration(self, kind: str, y: np.ndarray) -> str:
        """``auto``: a probability when the detector learned from both classes, else a benign quantile."""
        if self.calibration == "auto":
            both = bool((y == 0).any() and (y == 1).any())
            learned = kind in ("supervised", "hybrid", "semi_supervised")
            return "isotonic" if learned and both else "benign_quantile"
        return self.calibration

    def fit(self, frame: pd.DataFrame, y: Any = None) -> DetectionPipeline:
        """Fit on a training frame of flows; ``label`` (1/0/missing) is read from the frame."""
        validate_params(
            type(self).__name__, self.get_params(deep=False), self._parameter_constraints
        )
        if not isinstance(frame, pd.DataFrame) or len(frame) == 0:
            raise ModelError(
                f"DetectionPipeline.fit expects a non-empty DataFrame of flows; got "
                f"{type(frame).__name__} with {len(frame) if hasattr(frame, '__len__') else '?'} rows."
            )
        labels = np.full(len(frame), np.nan)
        if "label" in frame.columns:
            labels = as_labels(frame["label"], len(frame), where="DetectionPipeline.fit")  # type: ignore[assignment]
        detector = self._new_detector()
        featurizer = (
            clone(self.featurizer)
            if self.featurizer is not None
            else FlowFeaturizer(
                encoding=detector.preferred_encoding, log_counts=detector.prefers_log_counts
            )
        )
        X_all = featurizer.fit_transform(frame)
        # anomaly and semi-supervised detectors also learn from unlabeled rows
        every_row = detector.kind in ("anomaly", "semi_supervised")
        rows = np.ones(len(frame), dtype=bool) if every_row else ~np.isnan(labels)
        X, y = X_all[rows], labels[rows]
        groups = (
            frame["attack_type"].to_numpy(dtype=object)[rows]
            if "attack_type" in frame.columns
            else None
        )
        raw_oof = detector.fit_oof(
            X, y, cv_folds=self.cv_folds, random_state=self.random_state, groups=groups
        )

        method = self._resolve_calibration(detector.kind, y)
        reference_rows = (y == 0) if (y == 0).any() else np.isnan(y)
        if method in ("isotonic", "sigmoid"):
            known = ~np.isnan(y)
            calibrator: Any = ProbabilityCalibrator(method=method).fit(raw_oof[known], y[known])
        elif method == "benign_quantile":
            calibrator = BenignQuantileCalibrator().fit(raw_oof[reference_rows])
        else:
            calibrator = IdentityCalibrator().fit(raw_oof)
        cal_oof = calibrator.transform(raw_oof)
        policy = clone(self.threshold) if self.threshold is not None else ThresholdPolicy()
        policy.fit(cal_oof[reference_rows])

        self.featurizer_, self.detector_, self.calibrator_, self.policy_ = (
            featurizer,
            detector,
            calibrator,
            policy,
        )
        self.threshold_ = float(policy.threshold_)
        self.calibration_ = "probability" if method in ("isotonic", "sigmoid") else method
        self.feature_names_ = list(featurizer.feature_names_out_)
        self.classes_ = np.array([0, 1])
        self.n_train_ = len(frame)
        self.class_counts_ = class_counts(labels)
        self.attack_type_counts_ = attack_type_counts(frame)
        self.training_fingerprint_ = frame_fingerprint(frame)
        self.oof_metrics_ = oof_metrics(cal_oof, y, self.threshold_, groups)
        # the drift monitor's reference: every training row, out-of-fold scores of rows used
        self.profile_: ReferenceProfile | None = build_profile(
            X_all,
            featurizer.feature_specs_,
            scores=cal_oof,
            threshold=self.threshold_,
            frame=frame,
            input_columns=featurizer.input_columns_,
        )
        self.operating_point_ = {
            **policy.describe(),
            "threshold": self.threshold_,
            "chosen_on": CHOSEN_ON,
            "oof_fpr": self.oof_metrics_.get(
                "fpr", float(np.mean(cal_oof[reference_rows] > self.threshold_))
            ),
            "oof_detection_rate": self.oof_metrics_.get("detection_rate"),
        }
        rng = np.random.default_rng(self.random_state)
        ref_idx = np.flatnonzero(reference_rows)
        if len(ref_idx) > REFERENCE_ROWS:
            ref_idx = np.sort(rng.choice(ref_idx, REFERENCE_ROWS, replace=False))
        with warnings.catch_warnings():  # all-NaN columns give NaN medians, on purpose
            warnings.simplefilter("ignore", RuntimeWarning)
            self.reference_ = np.nanmedian(X[ref_idx].astype(np.float64), axis=0)
        n_sample = IMPORTANCE_ROWS["occlusion" if method_of(detector) == "occlusion" else "default"]
        sample = np.sort(rng.choice(len(X), min(n_sample, len(X)), replace=False))
        importance = mean_abs_contributions(detector, X[sample], self.reference_)
        total = float(importance.sum()) or 1.0
        self.global_importance_ = [
            (name, float(v / total))
            for name, v in zip(self.feature_names_, importance, strict=True)
        ]
        return self

    # ------------------------------------------------------------- scoring
    def _check_fitted(self) -> None:
        if not hasattr(self, "detector_"):
            raise NotFittedError(
                "This DetectionPipeline is not fitted yet. Call fit(frame) with training flows first."
            )

    def transform_features(self, frame: pd.DataFrame) -> np.ndarray:
        """The float32 feature matrix of ``frame`` (what the detector scores)."""
        self._check_fitted()
        return self.featurizer_.transform(frame)

    def score_features(self, X: np.ndarray) -> np.ndarray:
        """Calibrated scores in [0, 1] from an already-featurized matrix."""
        self._check_fitted()
        return self.calibrator_.transform(self.detector_.risk_score(X))

    def risk_score(self, frame: pd.DataFrame) -> np.ndarray:
        """Calibrated score in [0, 1] per record of ``frame``; see ``metadata()['calibration']``."""
        return self.score_features(self.transform_features(frame))

    def score(self, frame: pd.DataFrame, *, explain_top_k: int = 0) -> pd.DataFrame:
        """Scores and alert decisions, index-aligned with ``frame``.

        Columns ``score`` (float64) and ``decision`` (bool); with ``explain_top_k > 0``
        also ``top_features`` (list of {"feature", "value", "contribution"} dicts) and
        ``reason`` (one sentence).
        """
        X = self.transform_features(frame)
        scores = self.score_features(X)
        out = pd.DataFrame(
            {"score": scores.astype(np.float64), "decision": scores > self.threshold_},
            index=frame.index,
        )
        if explain_top_k > 0:
            tops, reasons = explain_matrix(
                self.detector_,
                self.featurizer_,
                X,
                reference=self.reference_,
                scores=scores,
                threshold=self.threshold_,
                top_k=explain_top_k,
            )
            out["top_features"] = pd.Series(tops, index=frame.index, dtype=object)
            out["reason"] = pd.Series(reasons, index=frame.index, dtype="str")
        return out

    def global_importance(
        self, frame: pd.DataFrame, *, max_rows: int = 2000, random_state: int = 0
    ) -> dict[str, Any]:
        """Mean absolute feature contribution over a random sample of ``frame``'s rows.

        Unlike ``global_importance_`` (fixed at fit time, on training rows) this says
        what drives the scores of the data at hand, e.g. a test set in a model card.
        Contributions are in the detector's raw-score units (log-odds for TreeSHAP and
        linear models); ``share`` normalises them to sum to 1. Occlusion-explained
        detectors use at most ``IMPORTANCE_ROWS["occlusion"]`` rows (one scoring pass
        per feature). Returns ``{"method", "n_rows", "features": [{"feature",
        "mean_abs_contribution", "share"}, ...]}``, largest first.
        """
        self._check_fitted()
        if isinstance(max_rows, bool) or not isinstance(max_rows, int) or max_rows < 1:
            raise ModelError(f"max_rows must be a positive integer, got {max_rows!r}.")
        method = method_of(self.detector_)
        if method == "occlusion":
            max_rows = min(max_rows, IMPORTANCE_ROWS["occlusion"])
        rows = np.arange(len(frame))
        if len(rows) > max_rows:
            rows = np.sort(
                np.random.default_rng(random_state).choice(rows, max_rows, replace=False)
            )
        X = self.transform_features(frame.iloc[rows])
        importance = mean_abs_contributions(self.detector_, X, self.reference_)
        total = float(importance.sum()) or 1.0
        features: list[dict[str, Any]] = [
            {"feature": str(name), "mean_abs_contribution": float(v), "share": float(v) / total}
            for name, v in zip(self.feature_names_, importance, strict=True)
        ]
        features.sort(key=lambda f: (-f["mean_abs_contribution"], f["feature"]))
        return {"method": method, "n_rows": len(rows), "features": features}

    # ------------------------------------------------------------ metadata
    def metadata(self) -> dict[str, Any]:
        """JSON-ready description: detector, featurizer, schema, training data, calibration, metrics."""
        self._check_fitted()
        meta: dict[str, Any] = {
            "pipeline_format": FORMAT_VERSION,
            "detector": {
                "name": self.detector_.name,
                "kind": self.detector_.kind,
                "params": params_to_json(self.detector_.get_params(deep=False)),
            },
            "featurizer": {
                "name": self.featurizer_.name,
                "version": self.featurizer_.version,
                "fingerprint": self.featurizer_.fingerprint(),
                "params": self.featurizer_.get_params(),
                "n_features": len(self.feature_names_),
            },
            "schema": {
                "name": FLOW_SCHEMA.name,
                "version": FLOW_SCHEMA.version,
                "fingerprint": FLOW_SCHEMA.fingerprint(),
            },
            "training_data": {
                "fingerprint": self.training_fingerprint_,
                "n_rows": self.n_train_,
                "class_counts": self.class_counts_,
                "attack_type_counts": self.attack_type_counts_,
            },
            "calibration": {"type": self.calibration_, "meaning": MEANINGS[self.calibration_]},
            "operating_point": self.operating_point_,
            "oof_metrics": self.oof_metrics_,
            "cv_folds": self.cv_folds,
            "random_state": self.random_state,
        }
        if hasattr(self.detector_, "selection_"):
            meta["hybrid_selection"] = self.detector_.selection_
        return orjson.loads(orjson.dumps(meta, option=orjson.OPT_SERIALIZE_NUMPY))

    # --------------------------------------------------------- persistence
    def save(self, folder: Path | str) -> list[Path]:
        """Write the fitted pipeline into ``folder``: pipeline.json plus the detector's files."""
        self._check_fitted()
        folder = Path(folder)
        folder.mkdir(parents=True, exist_ok=True)
        files = self.detector_.save(folder / "detector")
        doc = {
            "format_version": FORMAT_VERSION,
            "params": {
                "detector": self.detector
                if isinstance(self.detector, str)
                else params_to_json({"d": self.detector})["d"],
                "featurizer": None if self.featurizer is None else self.featurizer.get_params(),
                "threshold": None if self.threshold is None else self.threshold.get_params(),
                "calibration": self.calibration,
                "cv_folds": self.cv_folds,
                "random_state": self.random_state,
            },
            "featurizer": self.featurizer_.to_dict(),
            "calibrator": self.calibrator_.to_dict(),
            "calibration": self.calibration_,
            "policy": self.policy_.to_dict(),
            "operating_point": self.operating_point_,
            "reference": [None if np.isnan(v) else float(v) for v in self.reference_],
            "global_importance": self.global_importance_,
            "metadata": {
                "n_train": self.n_train_,
                "class_counts": self.class_counts_,
                "attack_type_counts": self.attack_type_counts_,
                "training_fingerprint": self.training_fingerprint_,
                "oof_metrics": self.oof_metrics_,
            },
        }
        if getattr(self, "profile_", None) is not None:
            doc["profile"] = self.profile_.to_dict()  # type: ignore[union-attr]
        path = folder / PIPELINE_FILE
        path.write_bytes(orjson.dumps(doc, option=orjson.OPT_SERIALIZE_NUMPY | orjson.OPT_INDENT_2))
        return [path, *files]

    @classmethod
    def load(cls, folder: Path | str) -> DetectionPipeline:
        """Restore a pipeline saved by :meth:`save` (the registry verifies hashes and signature first)."""
        folder = Path(folder)
        doc = read_json(folder / PIPELINE_FILE)
        if doc.get("format_version") != FORMAT_VERSION:
            raise ModelError(
                f"{folder / PIPELINE_FILE}: pipeline format {doc.get('format_version')!r} is not "
                f"{FORMAT_VERSION}; retrain the model with this version of seclearn."
            )
        p = doc["params"]
        detector = (
            p["detector"]
            if isinstance(p["detector"], str)
            else params_from_json({"d": p["detector"]})["d"]
        )
        self = cls(
            featurizer=None if p["featurizer"] is None else FlowFeaturizer(**p["featurizer"]),
            detector=detector,
            threshold=None if p["threshold"] is None else ThresholdPolicy(**p["threshold"]),
            calibration=p["calibration"],
            cv_folds=p["cv_folds"],
            random_state=p["random_state"],
        )
        self.featurizer_ = FlowFeaturizer.from_dict(doc["featurizer"])
        self.detector_ = Detector.load(folder / "detector")
        self.calibrator_ = calibrator_from_dict(doc["calibrator"])
        self.calibration_ = doc["calibration"]
        self.policy_ = ThresholdPolicy.from_dict(doc["policy"])
        self.threshold_ = float(self.policy_.threshold_)
        self.operating_point_ = doc["operating_point"]
        self.reference_ = np.array(
            [np.nan if v is None else v for v in doc["reference"]], dtype=np.float64
        )
        self.global_importance_ = [(str(f), float(v)) for f, v in doc["global_importance"]]
        self.feature_names_ = list(self.featurizer_.feature_names_out_)
        self.classes_ = np.array([0, 1])
        meta = doc["metadata"]
        self.n_train_ = int(meta["n_train"])
        self.class_counts_ = meta["class_counts"]
        self.attack_type_counts_ = meta["attack_type_counts"]
        self.training_fingerprint_ = meta["training_fingerprint"]
        self.oof_metrics_ = meta["oof_metrics"]
        self.profile_ = ReferenceProfile.from_dict(doc["profile"]) if doc.get("profile") else None
        if self.detector_.n_features_in_ != len(self.feature_names_):
            raise ModelError(
                f"{folder}: the detector expects {self.detector_.n_features_in_} features but the "
                f"featurizer makes {len(self.feature_names_)}. The model folder is inconsistent."
            )
        return self


__all__ = ["CHOSEN_ON", "PIPELINE_FILE", "DetectionPipeline"]
