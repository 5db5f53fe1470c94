"""Offline evaluation of detectors: metrics at the stored operating point, and reports.

- :func:`evaluate_scores`: every metric of labels, scores and a threshold (confusion
  matrix, precision, recall, F1, accuracy, FPR, ROC-AUC, PR-AUC, detection rate at
  1%/0.1%/0.01% FPR read off the test ROC curve, Brier score, ECE, reliability bins,
  per-attack-type detection, alerts per day, optional bootstrap intervals).
- :func:`evaluate`: score a labeled frame with a pipeline at its own operating point.
- :func:`write_report`: the JSON and the self-contained HTML report.

One-class test sets give ``None`` for what needs the missing class, with the reason in
``metrics["not_available"]``; see :mod:`seclearn.evaluation._metrics`.
"""

from seclearn.evaluation._calibration import ECE_BINS
from seclearn.evaluation._curves import DETECTION_FPRS
from seclearn.evaluation._evaluate import EvaluationResult, evaluate
from seclearn.evaluation._metrics import evaluate_scores
from seclearn.evaluation._report import render_html, write_report

__all__ = [
    "DETECTION_FPRS",
    "ECE_BINS",
    "EvaluationResult",
    "evaluate",
    "evaluate_scores",
    "render_html",
    "write_report",
]
