"""Drift monitoring: features, scores and alert rate against the training reference; performance on labels.

>>> from seclearn.monitoring import DriftMonitor, parse_window
>>> parse_window("rows:5000").kind
'rows'
"""

from seclearn.monitoring.html import render_html
from seclearn.monitoring.monitor import REQUIRED_MAX_MISSING, DriftMonitor
from seclearn.monitoring.performance import ChangePoint, change_points, window_performance
from seclearn.monitoring.prometheus import report_registry, write_prometheus
from seclearn.monitoring.report import (
    EXIT_CODES,
    FeatureDrift,
    MonitorReport,
    Status,
    WindowResult,
)
from seclearn.monitoring.stats import (
    StatResult,
    alert_rate_test,
    benjamini_hochberg,
    feature_test,
    psi,
    score_test,
)
from seclearn.monitoring.windows import DEFAULT_WINDOW, WindowSpec, assign_windows, parse_window

__all__ = [
    "ChangePoint",
    "DEFAULT_WINDOW",
    "DriftMonitor",
    "EXIT_CODES",
    "FeatureDrift",
    "MonitorReport",
    "REQUIRED_MAX_MISSING",
    "StatResult",
    "Status",
    "WindowResult",
    "WindowSpec",
    "alert_rate_test",
    "assign_windows",
    "benjamini_hochberg",
    "change_points",
    "feature_test",
    "parse_window",
    "psi",
    "render_html",
    "report_registry",
    "score_test",
    "window_performance",
    "write_prometheus",
]
