"""Per-alert and global feature contributions, and one-sentence reasons."""

from seclearn.explain.attribution import feature_contributions, mean_abs_contributions, method_of
from seclearn.explain.records import (
    explain_matrix,
    explain_records,
    global_importance,
    reason_sentence,
)

__all__ = [
    "explain_matrix",
    "explain_records",
    "feature_contributions",
    "global_importance",
    "mean_abs_contributions",
    "method_of",
    "reason_sentence",
]
