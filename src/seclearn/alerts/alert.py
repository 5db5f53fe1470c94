"""The :class:`Alert` value that every output format renders, and its text limits.

An alert is immutable and validated once, when it is built: times are timezone-aware,
the score is a calibrated number in [0, 1], addresses parse as IP addresses and ports
fit in 16 bits. Free text (entity, reason, feature names and values, detector name,
service, uid) is *not* trusted: each format escapes it for its own framing and cuts it
to :data:`MAX_TEXT_CHARS` with :data:`TRUNCATION_MARKER` at the end.
"""

from __future__ import annotations

import ipaddress
import math
import numbers
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any, Literal

from seclearn.errors import ConfigError

Severity = Literal["low", "medium", "high", "critical"]

#: The severities an alert can carry, lowest first.
SEVERITIES: tuple[Severity, ...] = ("low", "medium", "high", "critical")

#: Longest free-text value (in characters) that any format emits; longer text is cut.
MAX_TEXT_CHARS = 1024

#: What replaces the end of a value cut at :data:`MAX_TEXT_CHARS`.
TRUNCATION_MARKER = "…[truncated]"

#: At most this many top contributing features travel with an alert.
MAX_CONTRIBUTIONS = 10

#: Namespace of every deterministic id derived from an alert id (uuid5).
ALERT_NAMESPACE = uuid.UUID("5d1c3f0e-6a3b-5c2e-9f41-8b7a2d9e0c11")

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_PORT_FIELDS = ("src_port", "dst_port")
_IP_FIELDS = ("src_ip", "dst_ip")
_BYTE_FIELDS = ("src_bytes", "dst_bytes")

_TEXT_FIELDS = ("id", "detector", "detector_version", "entity", "reason")
_OPTIONAL_TEXT_FIELDS = ("incident_id", "proto", "service", "uid")

Value = str | int | float | bool | None


def _missing_to_none(value: Any) -> Any:
    """None for None and for the NaN that pandas uses for a missing value."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return None
    return value


def _as_int(name: str, value: Any, lo: int, hi: int | None, *, optional: bool = True) -> Any:
    """``value`` as a plain int in [lo, hi]; numpy integers and integral floats are accepted."""
    value = _missing_to_none(value)
    if value is None and optional:
        return None
    ok = isinstance(value, numbers.Integral) and not isinstance(value, bool)
    if isinstance(value, float) and value.is_integer():
        ok = True
    if ok and value >= lo and (hi is None or value <= hi):
        return int(value)
    bound = f"[{lo}, {hi}]" if hi is not None else f"at least {lo}"
    raise ConfigError(f"Alert.{name} must be an integer {bound}, got {value!r}.")


def truncate(text: str, limit: int = MAX_TEXT_CHARS) -> str:
    """``text`` cut to at most ``limit`` characters, ending in :data:`TRUNCATION_MARKER` if cut.

    >>> truncate("x" * 2000).endswith(TRUNCATION_MARKER), len(truncate("x" * 2000))
    (True, 1024)
    >>> truncate("short")
    'short'
    """
    if len(text) <= limit:
        return text
    return text[: max(0, limit - len(TRUNCATION_MARKER))] + TRUNCATION_MARKER


def epoch_ms(when: datetime) -> int:
    """Milliseconds since the Unix epoch (UTC), exact (no float rounding)."""
    return (when - _EPOCH) // timedelta(milliseconds=1)


def iso_ms(when: datetime) -> str:
    """RFC 3339 UTC timestamp with milliseconds: ``2026-01-02T03:04:05.678Z``."""
    utc = when.astimezone(UTC)
    return utc.strftime("%Y-%m-%dT%H:%M:%S.") + f"{utc.microsecond // 1000:03d}Z"


@dataclass(frozen=True)
class Contribution:
    """One top feature behind an alert: its input value and signed push toward malicious."""

    feature: str
    value: Value
    contribution: float

    @classmethod
    def from_mapping(cls, item: dict[str, Any]) -> Contribution:
        """Build from one ``{"feature", "value", "contribution"}`` dict of :mod:`seclearn.explain`."""
        value = item.get("value")
        if not isinstance(value, str | int | float | bool) and value is not None:
            value = str(value)
        return cls(str(item["feature"]), value, float(item["contribution"]))

    def as_dict(self) -> dict[str, Value]:
        """The ``{"feature", "value", "contribution"}`` dict, text cut to the limit."""
        value = truncate(self.value) if isinstance(self.value, str) else self.value
        if isinstance(value, float) and not math.isfinite(value):
            value = str(value)
        return {
            "feature": truncate(self.feature),
            "value": value,
            "contribution": self.contribution,
        }


@dataclass(frozen=True)
class Alert:
    """One alert bound for incident response.

    ``score`` is the calibrated score in [0, 1] and ``threshold`` the operating point it
    crossed; ``count`` is how many raw detections were merged into this alert by dedup,
    between ``first_seen`` and ``last_seen``. The flow fields are optional and, when
    present, validated (IP addresses, ports 0-65535, non-negative byte counts) and
    normalised: numpy numbers become Python ones, pandas' NaN for a missing value
    becomes None, and addresses take their canonical text form (``2001:db8::1``).
    """

    id: str
    detector: str
    detector_version: str
    entity: str
    event_time: datetime
    first_seen: datetime
    last_seen: datetime
    score: float
    threshold: float
    severity: Severity
    reason: str
    count: int = 1
    incident_id: str | None = None
    contributions: tuple[Contribution, ...] = field(default_factory=tuple)
    src_ip: str | None = None
    src_port: int | None = None
    dst_ip: str | None = None
    dst_port: int | None = None
    proto: str | None = None
    service: str | None = None
    uid: str | None = None
    src_bytes: int | None = None
    dst_bytes: int | None = None

    def __post_init__(self) -> None:
        for name in _TEXT_FIELDS:
            if not isinstance(getattr(self, name), str):
                raise ConfigError(f"Alert.{name} must be a string, got {getattr(self, name)!r}.")
        for name in _OPTIONAL_TEXT_FIELDS:
            value = _missing_to_none(getattr(self, name))
            if value is not None and not isinstance(value, str):
                raise ConfigError(f"Alert.{name} must be a string or None, got {value!r}.")
            object.__setattr__(self, name, value)
        if not self.id or len(self.id) > 256:
            raise ConfigError(f"Alert.id must be 1 to 256 characters, got {len(self.id)}.")
        for name in ("event_time", "first_seen", "last_seen"):
            when = getattr(self, name)
            if not isinstance(when, datetime) or when.tzinfo is None:
                raise ConfigError(
                    f"Alert.{name} must be a timezone-aware datetime, got {when!r}. "
                    "Use datetime(..., tzinfo=timezone.utc)."
                )
        if self.first_seen > self.last_seen:
            raise ConfigError(
                f"Alert.first_seen ({self.first_seen}) is after last_seen ({self.last_seen})."
            )
        for name in ("score", "threshold"):
            value = getattr(self, name)
            if not (
                isinstance(value, numbers.Real)
                and not isinstance(value, bool)
                and 0.0 <= float(value) <= 1.0
            ):
                raise ConfigError(
                    f"Alert.{name} must be a calibrated number in [0, 1], got {value!r}."
                )
            object.__setattr__(self, name, float(value))
        if self.severity not in SEVERITIES:
            raise ConfigError(f"Alert.severity must be one of {SEVERITIES}, got {self.severity!r}.")
        object.__setattr__(self, "count", _as_int("count", self.count, 1, None, optional=False))
        if not isinstance(self.contributions, tuple) or not all(
            isinstance(c, Contribution) for c in self.contributions
        ):
            raise ConfigError(
                "Alert.contributions must be a tuple of Contribution; build them with "
                "Contribution.from_mapping(item) from seclearn.explain output."
            )
        for name in _IP_FIELDS:
            value = _missing_to_none(getattr(self, name))
            if value is not None:
                try:
                    value = str(ipaddress.ip_address(value))  # canonical text form
                except ValueError:
                    raise ConfigError(
                        f"Alert.{name} must be an IPv4 or IPv6 address, got {truncate(str(value), 64)!r}."
                    ) from None
            object.__setattr__(self, name, value)
        for name in _PORT_FIELDS:
            object.__setattr__(self, name, _as_int(name, getattr(self, name), 0, 65535))
        for name in _BYTE_FIELDS:
            object.__setattr__(self, name, _as_int(name, getattr(self, name), 0, None))

    @property
    def total_bytes(self) -> int | None:
        """``src_bytes + dst_bytes`` when either is known."""
        if self.src_bytes is None and self.dst_bytes is None:
            return None
        return (self.src_bytes or 0) + (self.dst_bytes or 0)

    @property
    def title(self) -> str:
        """A short human title: ``"<severity> <detector> alert on <entity>"``, cut to the limit."""
        return truncate(f"{self.severity.capitalize()} {self.detector} alert on {self.entity}", 256)

    def top_contributions(self) -> list[dict[str, Value]]:
        """Up to :data:`MAX_CONTRIBUTIONS` contributions as dicts, text cut to the limit."""
        return [c.as_dict() for c in self.contributions[:MAX_CONTRIBUTIONS]]


def idempotency_key(alert: Alert) -> str:
    """The key that travels with every rendering of ``alert``: stable across re-sends.

    A uuid5 of the alert id, so it is short, header-safe and the same every time.

    >>> from datetime import datetime, timezone
    >>> t = datetime(2026, 1, 1, tzinfo=timezone.utc)
    >>> a = Alert(id="a1", detector="d", detector_version="1", entity="e", event_time=t,
    ...           first_seen=t, last_seen=t, score=0.9, threshold=0.5, severity="high", reason="r")
    >>> idempotency_key(a) == idempotency_key(a), len(idempotency_key(a))
    (True, 36)
    """
    return str(uuid.uuid5(ALERT_NAMESPACE, alert.id))


def alert_dict(alert: Alert) -> dict[str, Any]:
    """Every field of ``alert`` as JSON-ready data (times as RFC 3339, text cut to the limit)."""
    out: dict[str, Any] = {
        "id": alert.id,
        "detector": truncate(alert.detector),
        "detector_version": truncate(alert.detector_version),
        "entity": truncate(alert.entity),
        "event_time": iso_ms(alert.event_time),
        "first_seen": iso_ms(alert.first_seen),
        "last_seen": iso_ms(alert.last_seen),
        "count": alert.count,
        "score": float(alert.score),
        "threshold": float(alert.threshold),
        "severity": alert.severity,
        "incident_id": None if alert.incident_id is None else truncate(alert.incident_id),
        "contributions": alert.top_contributions(),
        "reason": truncate(alert.reason),
    }
    for name in ("src_ip", "src_port", "dst_ip", "dst_port", "src_bytes", "dst_bytes"):
        out[name] = getattr(alert, name)
    for name in ("proto", "service", "uid"):
        value = getattr(alert, name)
        out[name] = None if value is None else truncate(value)
    return out
