"""``seclearn monitor``: drift of features, scores, alert rate and performance."""

from __future__ import annotations
