"""Feedback commands: ``seclearn review`` and ``seclearn labels import``."""

from __future__ import annotations
