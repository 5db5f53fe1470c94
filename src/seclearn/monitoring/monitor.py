"""DriftMonitor: compare recent flows with a pipeline's training reference profile.

The whole frame is sorted by ``ts`` (when present), featurized and scored once (so
time-window context features see the same neighbouring flows as in scoring), then cut
into windows. Per healthy window and per feature: PSI against the training bins and a
p-value (KS for numeric features, chi-square for categorical and discrete ones); the
p-values of a window go through Benjamini-Hochberg at ``q``, and a feature is flagged
only when it is significant *and* its PSI is at least ``min_psi``, so that very large
windows do not flag trivial differences. The calibrated scores get the same pair (score
PSI and KS), the alert rate a binomial test against the reference alert rate with a
minimum ratio. Labeled events (a ``label`` column, or labels passed in) give per-window
precision and recall and ADWIN change points (:mod:`seclearn.monitoring.performance`).
"""

from __future__ import annotations

from typing import Any, ClassVar

import numpy as np
import pandas as pd

from seclearn.errors import ConfigError, ModelError, SeclearnError
from seclearn.features import InstanceOf, Interval, ReferenceProfile, validate_params
from seclearn.features.profile import score_cell_counts
from seclearn.monitoring.performance import (
    DEFAULT_DELTA,
    MIN_ERROR_CHANGE,
    change_points,
    window_performance,
)
from seclearn.monitoring.report import FeatureDrift, MonitorReport, WindowResult
from seclearn.monitoring.stats import (
    alert_rate_test,
    benjamini_hochberg,
    feature_test,
    score_test,
)
from seclearn.monitoring.windows import DEFAULT_WINDOW, assign_windows, parse_window
from seclearn.pipeline import DetectionPipeline

#: A column missing in at most this share of training rows must not vanish from a window.
REQUIRED_MAX_MISSING = 0.5


def _labels_of(frame: pd.DataFrame, labels: pd.Series | np.ndarray | None) -> np.ndarray:
    """1/0/NaN per row: ``labels`` (aligned with ``frame``) where known, else ``frame['label']``."""
    y = np.full(len(frame), np.nan)
    if "label" in frame.columns:
        y = pd.to_numeric(frame["label"], errors="coerce").to_numpy(
            dtype=np.float64, na_value=np.nan
        )
    if labels is not None:
        if len(labels) != len(frame):
            raise ConfigError(
                f"labels must hold one value per row of the frame ({len(frame)}); got {len(labels)}."
            )
        extra = pd.to_numeric(pd.Series(np.asarray(labels, dtype=object)), errors="coerce")
        extra_np = extra.to_numpy(dtype=np.float64, na_value=np.nan)
        y = np.where(np.isnan(extra_np), y, extra_np)
    y[(y != 0) & (y != 1)] = np.nan
    return y


class DriftMonitor:
    """Feature, score, alert-rate and performance drift of a pipeline on new data.

    Parameters: ``window`` (``"1d"``, ``"1h"``, ``"rows:5000"``, see
    :func:`~seclearn.monitoring.windows.parse_window`), ``q`` the false-discovery rate of
    the per-window feature tests, ``min_psi`` the practical PSI threshold of features
    and scores, ``min_rows`` the smallest healthy window, ``score_alpha`` the level of
    the score KS test, ``alert_alpha`` and ``min_alert_ratio`` for the alert rate
    (flagged when the binomial test rejects and the rate is at least ``min_alert_ratio``
    times the reference, or at most its inverse), ``adwin_delta`` ADWIN's confidence and
    ``min_error_change`` the rise of a miss or false-positive rate that counts as
    performance drift.
    """

    _parameter_constraints: ClassVar[dict] = {
        "window": [InstanceOf((str,), "a window spec such as '1d', '1h' or 'rows:5000'")],
        "q": [Interval(float, 0.0, 0.5, closed="right")],
        "min_psi": [Interval(float, 0.0, None)],
        "min_rows": [Interval(int, 1, None)],
        "score_alpha": [Interval(float, 0.0, 0.5, closed="right")],
        "alert_alpha": [Interval(float, 0.0, 0.5, closed="right")],
        "min_alert_ratio": [Interval(float, 1.0, None)],
        "adwin_delta": [Interval(float, 0.0, 1.0, closed="neither")],
        "min_error_change": [Interval(float, 0.0, 1.0)],
    }

    def __init__(
        self,
        *,
        window: str = DEFAULT_WINDOW,
        q: float = 0.01,
        min_psi: float = 0.1,
        min_rows: int = 200,
        score_alpha: float = 0.01,
        alert_alpha: float = 0.001,
        min_alert_ratio: float = 1.5,
        adwin_delta: float = DEFAULT_DELTA,
        min_error_change: float = MIN_ERROR_CHANGE,
    ) -> None:
        self.window = window
        self.q = q
        self.min_psi = min_psi
        self.min_rows = min_rows
        self.score_alpha = score_alpha
        self.alert_alpha = alert_alpha
        self.min_alert_ratio = min_alert_ratio
        self.adwin_delta = adwin_delta
        self.min_error_change = min_error_change

    def get_params(self) -> dict[str, Any]:
        return {k: getattr(self, k) for k in self._parameter_constraints}

    # ------------------------------------------------------------------ run
    def check(
        self,
        pipeline: DetectionPipeline,
        frame: pd.DataFrame,
        *,
        labels: pd.Series | np.ndarray | None = None,
        model: str = "model",
        reasons: list[str] | None = None,
        data: dict[str, Any] | None = None,
    ) -> MonitorReport:
        """Monitor ``frame`` against ``pipeline.profile_``; never raises on bad data.

        ``labels`` (1/0/NaN, aligned with ``frame``'s rows) override the frame's own
        ``label`` column where known. ``reasons`` are run-level problems found by the
        caller (e.g. records that could not be read) that make the run unhealthy.
        Raises :class:`ModelError` only when the pipeline has no reference profile.
        """
        params = self.get_params()
        validate_params(type(self).__name__, params, self._parameter_constraints)
        spec = parse_window(self.window)
        profile: ReferenceProfile | None = getattr(pipeline, "profile_", None)
        if profile is None:
            raise ModelError(
                f"model {model} has no training reference profile (it was trained by an older "
                "seclearn); retrain it with this version to monitor it."
            )
        report = MonitorReport(
            model=model,
            window=spec.text,
            settings=params,
            reference={
                "n_rows": profile.n_rows,
                "n_scores": profile.n_scores,
                "alert_rate": profile.alert_rate,
                "threshold": profile.threshold,
                "score_proportions": list(profile.score_proportions),
            },
            windows=[],
            reasons=list(reasons or []),
            n_rows=0 if frame is None else len(frame),
            data=dict(data or {}),
        )
        if frame is None or len(frame) == 0:
            report.reasons.append("no rows to monitor (the data is empty or nothing could be read)")
            return report
        y = _labels_of(frame, labels)
        if "ts" in frame.columns:
            order = np.argsort(
                pd.to_numeric(frame["ts"], errors="coerce").to_numpy(), kind="stable"
            )
            frame, y = frame.iloc[order], y[order]
        ts = (
            pd.to_numeric(frame["ts"], errors="coerce").to_numpy(dtype=np.float64)
            if "ts" in frame.columns
            else None
        )
        try:
            ids, bounds = assign_windows(spec, len(frame), ts)
        except SeclearnError as exc:
            report.reasons.append(str(exc))
            return report
        try:
            X = pipeline.transform_features(frame)
            scores = np.asarray(pipeline.score_features(X), dtype=np.float64)
        except (SeclearnError, ValueError, TypeError) as exc:  # bad data, not a bad monitor
            report.reasons.append(f"the data could not be featurized or scored: {exc}")
            report.windows = [
                WindowResult(i, b[0], b[1], int((ids == i).sum()), False, ["not scored"])
                for i, b in enumerate(bounds)
            ]
            return report
        if list(pipeline.feature_names_) != profile.feature_names:
            report.reasons.append(
                "the model's features do not match its reference profile; retrain the model"
            )
            return report
        decision = scores > pipeline.threshold_
        window_of = np.asarray(ids)
        starts = np.searchsorted(window_of, np.arange(len(bounds)), side="left")
        ends = np.searchsorted(window_of, np.arange(len(bounds)), side="right")
        for i, (lo, hi) in enumerate(bounds):
            rows = slice(int(starts[i]), int(ends[i]))
            result = WindowResult(i, lo, hi, int(ends[i] - starts[i]), True)
            result.reasons = self._health(profile, frame.iloc[rows], X[rows])
            result.healthy = not result.reasons
            if result.healthy:
                self._drift(profile, result, X[rows], scores[rows], decision[rows])
            if (~np.isnan(y[rows])).any():
                result.performance = window_performance(y[rows], decision[rows])
            report.windows.append(result)
        report.change_points = change_points(
            y,
            decision,
            ts=ts,
            window_ids=window_of,
            delta=self.adwin_delta,
            min_error_change=self.min_error_change,
        )
        return report

    # -------------------------------------------------------------- pieces
    def _health(self, profile: ReferenceProfile, rows: pd.DataFrame, X: np.ndarray) -> list[str]:
        n = len(rows)
        if n == 0:
            return ["no rows in this window"]
        reasons = []
        if n < self.min_rows:
            reasons.append(f"only {n} rows, fewer than min_rows={self.min_rows}")
        gone = [
            c
            for c, share in profile.input_missing.items()
            if share <= REQUIRED_MAX_MISSING and (c not in rows.columns or rows[c].isna().all())
        ]
        if gone:
            reasons.append(
                f"required column(s) {', '.join(gone)} missing or without values "
                f"(present in training)"
            )
        all_nan = np.isnan(X).all(axis=0)
        empty = [
            f.name
            for f, nan in zip(profile.features, all_nan, strict=True)
            if nan and f.missing <= REQUIRED_MAX_MISSING
        ]
        if empty and not gone:
            reasons.append(f"feature(s) {', '.join(empty[:10])} have no values in this window")
        return reasons

    def _drift(
        self,
        profile: ReferenceProfile,
        result: WindowResult,
        X: np.ndarray,
        scores: np.ndarray,
        decision: np.ndarray,
    ) -> None:
        tests = [feature_test(f, X[:, j]) for j, f in enumerate(profile.features)]
        significant = benjamini_hochberg(np.array([t.p_value for t in tests]), self.q)
        result.features = [
            FeatureDrift(
                name=f.name,
                psi=t.psi,
                test=t.test,
                statistic=t.statistic,
                p_value=t.p_value,
                significant=bool(sig),
                drifted=bool(sig and t.psi >= self.min_psi),
                missing=t.missing,
            )
            for f, t, sig in zip(profile.features, tests, significant, strict=True)
        ]
        st = score_test(
            np.asarray(profile.score_proportions),
            np.asarray(profile.score_quantiles),
            profile.n_scores,
            scores,
        )
        result.score_psi, result.score_ks, result.score_p_value = st.psi, st.statistic, st.p_value
        hist = score_cell_counts(scores)
        result.score_histogram = (hist / max(hist.sum(), 1)).tolist()
        result.score_drift = bool(st.p_value < self.score_alpha and st.psi >= self.min_psi)
        alerts = int(decision.sum())
        ratio, p = alert_rate_test(alerts, len(decision), profile.alert_rate)
        result.alerts, result.alert_rate = alerts, alerts / len(decision)
        result.alert_ratio, result.alert_p_value = ratio, p
        far = ratio >= self.min_alert_ratio or ratio <= 1 / self.min_alert_ratio
        result.alert_rate_change = bool(p < self.alert_alpha and far)


__all__ = ["REQUIRED_MAX_MISSING", "DriftMonitor"]
