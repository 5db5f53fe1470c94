"""What a monitoring run found: :class:`MonitorReport` with one :class:`WindowResult` per window."""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any, Literal

from seclearn.monitoring.performance import ChangePoint

Status = Literal["ok", "drift", "unhealthy"]
#: Exit codes of ``seclearn monitor`` per status (2 is taken by errors).
EXIT_CODES: dict[str, int] = {"ok": 0, "drift": 1, "unhealthy": 3}


def _num(v: Any) -> Any:
    """JSON-safe number: NaN and infinities become None."""
    if isinstance(v, float) and not math.isfinite(v):
        return None
    return v


@dataclass
class FeatureDrift:
    """One feature in one window."""

    name: str
    psi: float
    test: str
    statistic: float
    p_value: float
    significant: bool  # Benjamini-Hochberg at the run's q
    drifted: bool  # significant and psi >= min_psi
    missing: float

    def to_dict(self) -> dict[str, Any]:
        return {k: _num(v) for k, v in self.__dict__.items()}


@dataclass
class WindowResult:
    """One window: its health, feature drift, score drift, alert rate and performance."""

    index: int
    start: float
    end: float
    n_rows: int
    healthy: bool
    reasons: list[str] = field(default_factory=list)
    features: list[FeatureDrift] = field(default_factory=list)
    score_psi: float | None = None
    score_ks: float | None = None
    score_p_value: float | None = None
    score_drift: bool = False
    score_histogram: list[float] = field(default_factory=list)
    alerts: int = 0
    alert_rate: float | None = None
    alert_ratio: float | None = None
    alert_p_value: float | None = None
    alert_rate_change: bool = False
    performance: dict[str, Any] = field(default_factory=dict)

    @property
    def drifted_features(self) -> list[str]:
        return [f.name for f in self.features if f.drifted]

    @property
    def drift(self) -> bool:
        return self.healthy and bool(
            self.drifted_features or self.score_drift or self.alert_rate_change
        )

    def to_dict(self) -> dict[str, Any]:
        return {
            "index": self.index,
            "start": self.start,
            "end": self.end,
            "n_rows": self.n_rows,
            "healthy": self.healthy,
            "reasons": list(self.reasons),
            "drift": self.drift,
            "drifted_features": self.drifted_features,
            "score": {
                "psi": _num(self.score_psi),
                "ks": _num(self.score_ks),
                "p_value": _num(self.score_p_value),
                "drift": self.score_drift,
                "histogram": list(self.score_histogram),
            },
            "alert_rate": {
                "alerts": self.alerts,
                "rate": _num(self.alert_rate),
                "ratio": _num(self.alert_ratio),
                "p_value": _num(self.alert_p_value),
                "change": self.alert_rate_change,
            },
            "performance": {k: _num(v) for k, v in self.performance.items()},
            "features": [f.to_dict() for f in self.features],
        }


@dataclass
class MonitorReport:
    """The result of monitoring one model on one batch of data.

    ``status`` is ``"unhealthy"`` when no window could be looked at or any window is
    unhealthy (empty, too small, a required column missing, featurizing or scoring
    failed), else ``"drift"`` when any window shows feature, score or alert-rate drift
    or the labeled performance degraded, else ``"ok"``. Drift found in healthy windows
    is still listed when the status is ``"unhealthy"``.
    """

    model: str
    window: str
    settings: dict[str, Any]
    reference: dict[str, Any]
    windows: list[WindowResult]
    change_points: list[ChangePoint] = field(default_factory=list)
    reasons: list[str] = field(default_factory=list)  # run-level reasons it is unhealthy
    n_rows: int = 0
    data: dict[str, Any] = field(default_factory=dict)

    @property
    def healthy(self) -> bool:
        return not self.reasons and bool(self.windows) and all(w.healthy for w in self.windows)

    @property
    def performance_drift(self) -> bool:
        return any(c.degraded for c in self.change_points)

    @property
    def drift(self) -> bool:
        return self.performance_drift or any(w.drift for w in self.windows)

    @property
    def status(self) -> Status:
        if not self.healthy:
            return "unhealthy"
        return "drift" if self.drift else "ok"

    @property
    def exit_code(self) -> int:
        return EXIT_CODES[self.status]

    @property
    def drifted_features(self) -> list[str]:
        """Features flagged in any window, in the order they were first flagged."""
        seen: dict[str, None] = {}
        for w in self.windows:
            for name in w.drifted_features:
                seen.setdefault(name, None)
        return list(seen)

    @property
    def unhealthy_reasons(self) -> list[str]:
        out = list(self.reasons)
        out += [f"window {w.index}: {r}" for w in self.windows for r in w.reasons]
        if not self.windows and not out:
            out.append("no windows to monitor")
        return out

    def latest_healthy(self) -> WindowResult | None:
        return next((w for w in reversed(self.windows) if w.healthy), None)

    def to_dict(self) -> dict[str, Any]:
        return {
            "status": self.status,
            "exit_code": self.exit_code,
            "model": self.model,
            "window": self.window,
            "n_rows": self.n_rows,
            "n_windows": len(self.windows),
            "n_unhealthy_windows": sum(not w.healthy for w in self.windows),
            "unhealthy_reasons": self.unhealthy_reasons,
            "drifted_features": self.drifted_features,
            "score_drift_windows": [w.index for w in self.windows if w.score_drift],
            "alert_rate_change_windows": [w.index for w in self.windows if w.alert_rate_change],
            "performance_drift": self.performance_drift,
            "change_points": [
                {k: _num(v) for k, v in c.to_dict().items()} for c in self.change_points
            ],
            "settings": self.settings,
            "reference": self.reference,
            "data": self.data,
            "windows": [w.to_dict() for w in self.windows],
        }


__all__ = ["EXIT_CODES", "FeatureDrift", "MonitorReport", "Status", "WindowResult"]
