"""Prometheus gauges of a :class:`MonitorReport`, in the node_exporter textfile format.

Gauges (label ``model`` on all; ``feature`` where named):

- ``seclearn_monitor_healthy`` 1 when every window could be monitored, else 0;
- ``seclearn_drift_detected`` 1 when any window drifted or performance degraded;
- ``seclearn_monitor_status_code`` the exit code (0 ok, 1 drift, 3 unhealthy);
- ``seclearn_monitor_windows`` windows looked at; ``seclearn_monitor_unhealthy_windows``;
- ``seclearn_feature_psi{feature}`` PSI in the latest healthy window;
- ``seclearn_feature_drifted{feature}`` 1 when the feature was flagged in any window;
- ``seclearn_score_psi`` and ``seclearn_alert_rate`` in the latest healthy window;
- ``seclearn_reference_alert_rate`` the training (out-of-fold) alert rate;
- ``seclearn_performance_drift`` 1 when ADWIN found a degradation;
- ``seclearn_window_precision`` / ``seclearn_window_recall`` of the latest window with labels.
"""

from __future__ import annotations

from pathlib import Path

from prometheus_client import CollectorRegistry, Gauge, write_to_textfile

from seclearn.monitoring.report import MonitorReport


def report_registry(report: MonitorReport) -> CollectorRegistry:
    """A fresh :class:`CollectorRegistry` holding the gauges of ``report``."""
    registry = CollectorRegistry()
    model = report.model

    def gauge(name: str, doc: str, value: float | None) -> None:
        if value is not None:
            Gauge(name, doc, ["model"], registry=registry).labels(model=model).set(value)

    gauge("seclearn_monitor_healthy", "1 when every window could be monitored", report.healthy)
    gauge("seclearn_drift_detected", "1 when drift was found in any window", report.drift)
    gauge("seclearn_monitor_status_code", "0 ok, 1 drift, 3 unhealthy", report.exit_code)
    gauge("seclearn_monitor_windows", "windows in the run", len(report.windows))
    gauge(
        "seclearn_monitor_unhealthy_windows",
        "windows that could not be monitored",
        sum(not w.healthy for w in report.windows),
    )
    gauge(
        "seclearn_reference_alert_rate",
        "alert rate of the out-of-fold training scores",
        report.reference.get("alert_rate"),
    )
    gauge(
        "seclearn_performance_drift", "1 when ADWIN found a degradation", report.performance_drift
    )
    latest = report.latest_healthy()
    if latest is not None:
        gauge("seclearn_score_psi", "score PSI in the latest healthy window", latest.score_psi)
        gauge("seclearn_alert_rate", "alert rate in the latest healthy window", latest.alert_rate)
    labeled = next((w for w in reversed(report.windows) if w.performance), None)
    if labeled is not None:
        gauge(
            "seclearn_window_precision",
            "precision, latest labeled window",
            labeled.performance.get("precision"),
        )
        gauge(
            "seclearn_window_recall",
            "recall, latest labeled window",
            labeled.performance.get("recall"),
        )
    drifted = set(report.drifted_features)
    names = [f.name for f in latest.features] if latest is not None else sorted(drifted)
    if names:
        psi = Gauge(
            "seclearn_feature_psi",
            "feature PSI in the latest healthy window",
            ["model", "feature"],
            registry=registry,
        )
        flag = Gauge(
            "seclearn_feature_drifted",
            "1 when the feature was flagged in any window",
            ["model", "feature"],
            registry=registry,
        )
        for name in sorted(set(names) | drifted):
            flag.labels(model=model, feature=name).set(name in drifted)
        if latest is not None:
            for f in latest.features:
                psi.labels(model=model, feature=f.name).set(f.psi)
    return registry


def write_prometheus(report: MonitorReport, path: str | Path) -> Path:
    """Write the gauges of ``report`` to ``path`` atomically (textfile-collector format)."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    write_to_textfile(str(path), report_registry(report))
    return path


__all__ = ["report_registry", "write_prometheus"]
