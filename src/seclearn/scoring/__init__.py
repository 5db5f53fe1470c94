"""Scoring with a registered model: files in bounded memory, and live logs as they grow."""

from seclearn.scoring.batch import PASSTHROUGH, ScoringSummary, score_files
from seclearn.scoring.stream import Batch, WatchSummary, follow, read_batches, watch

__all__ = [
    "Batch",
    "PASSTHROUGH",
    "ScoringSummary",
    "WatchSummary",
    "follow",
    "read_batches",
    "score_files",
    "watch",
]
