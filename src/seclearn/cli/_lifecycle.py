"""Lifecycle commands: ``retrain``, ``promote``, ``rollback`` and ``lifecycle run``."""

from __future__ import annotations
