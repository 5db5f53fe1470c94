"""``seclearn attack``: adversarial evaluation of a model."""

from __future__ import annotations
