"""Offline evaluation of detectors: leak-proof splits, metrics, reports and leaderboards.

- Splits that cannot leak (:mod:`seclearn.evaluation.splits`): :class:`RandomSplit`
  (stratified, after deduplication), :class:`TimeSplit` (train strictly before test,
  optional gap and label delay), :class:`GroupSplit` (no entity or capture on both
  sides), :class:`LeaveFamilyOut`; :func:`make_split` parses ``"time:0.3,gap=1h"``;
  :func:`check_no_leak` verifies a split against its promise, independently.
- :func:`evaluate_scores`: every metric of labels, scores and a threshold (confusion
  matrix, precision, recall, F1, accuracy, FPR, ROC-AUC, PR-AUC, detection rate at
  1%/0.1%/0.01% FPR read off the test ROC curve, Brier score, ECE, reliability bins,
  per-attack-type detection, alerts per day, optional bootstrap intervals).
- :func:`evaluate`: score a labeled frame with a pipeline at its own operating point.
- :func:`write_report`: the JSON and the self-contained HTML report.
- :func:`write_leaderboard`: several detectors on one split, as JSON and one HTML page.

One-class test sets give ``None`` for what needs the missing class, with the reason in
``metrics["not_available"]``; see :mod:`seclearn.evaluation._metrics`.
"""

from seclearn.evaluation._calibration import ECE_BINS
from seclearn.evaluation._curves import DETECTION_FPRS
from seclearn.evaluation._evaluate import EvaluationResult, evaluate
from seclearn.evaluation._leaderboard import (
    LEADERBOARD_COLUMNS,
    Leaderboard,
    build_leaderboard,
    leaderboard_entry,
    render_leaderboard_html,
    write_leaderboard,
)
from seclearn.evaluation._leaks import assert_no_leak, check_no_leak
from seclearn.evaluation._metrics import evaluate_scores
from seclearn.evaluation._report import render_html, write_report
from seclearn.evaluation._split_spec import SPLIT_FORMS, make_split
from seclearn.evaluation.splits import (
    DEFAULT_TEST_FRACTION,
    GroupSplit,
    LeaveFamilyOut,
    RandomSplit,
    Split,
    SplitResult,
    TimeSplit,
)

__all__ = [
    "DEFAULT_TEST_FRACTION",
    "DETECTION_FPRS",
    "ECE_BINS",
    "EvaluationResult",
    "GroupSplit",
    "LEADERBOARD_COLUMNS",
    "Leaderboard",
    "LeaveFamilyOut",
    "RandomSplit",
    "SPLIT_FORMS",
    "Split",
    "SplitResult",
    "TimeSplit",
    "assert_no_leak",
    "build_leaderboard",
    "check_no_leak",
    "evaluate",
    "evaluate_scores",
    "leaderboard_entry",
    "make_split",
    "render_html",
    "render_leaderboard_html",
    "write_leaderboard",
    "write_report",
]
