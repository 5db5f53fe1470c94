"""Batch scoring of files with a registered model (streaming and HTTP come later)."""

from seclearn.scoring.batch import PASSTHROUGH, ScoringSummary, score_files

__all__ = ["PASSTHROUGH", "ScoringSummary", "score_files"]
