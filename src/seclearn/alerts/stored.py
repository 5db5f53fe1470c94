"""From an alert as the state store keeps it to the alert that sinks format.

The store keeps integer ids, epoch-second times and the raw scored event; the formats
take :class:`~seclearn.alerts.Alert` (string id, aware datetimes, validated flow
fields). :func:`from_stored` converts one into the other, taking the flow fields from
the raw event where they are present and valid; :func:`renderer` gives the ``render``
callback that :meth:`seclearn.store.StateStore.record_alert` calls inside its
transaction, so that each sink's payload is queued in the outbox together with the
alert it carries.
"""

from __future__ import annotations

import contextlib
import ipaddress
import math
from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from typing import Any

from seclearn.alerts.alert import Alert, Contribution
from seclearn.alerts.render import FORMATS, render
from seclearn.errors import ConfigError
from seclearn.store import Alert as StoredAlert

_FLOW_TEXT = ("proto", "service", "uid")
_FLOW_PORTS = ("src_port", "dst_port")
_FLOW_BYTES = ("src_bytes", "dst_bytes")


def _when(seconds: float) -> datetime:
    return datetime.fromtimestamp(float(seconds), tz=UTC)


def _flow_fields(raw: Any) -> dict[str, Any]:
    """The valid flow fields of a raw event; anything malformed is left out, not guessed."""
    if not isinstance(raw, Mapping):
        return {}
    out: dict[str, Any] = {}
    for name in ("src_ip", "dst_ip"):
        value = raw.get(name)
        if isinstance(value, str):
            with contextlib.suppress(ValueError):
                out[name] = str(ipaddress.ip_address(value))
    for name in _FLOW_PORTS + _FLOW_BYTES:
        value = raw.get(name)
        if isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value):
            number = int(value)
            if number >= 0 and (name not in _FLOW_PORTS or number <= 65535):
                out[name] = number
    for name in _FLOW_TEXT:
        value = raw.get(name)
        if isinstance(value, str) and value:
            out[name] = value
    return out


def from_stored(alert: StoredAlert) -> Alert:
    """The formattable alert of a stored one (its flow fields from the raw event)."""
    return Alert(
        id=str(alert.id),
        detector=alert.detector,
        detector_version=alert.detector_version,
        entity=alert.entity,
        event_time=_when(alert.first_seen),
        first_seen=_when(alert.first_seen),
        last_seen=_when(alert.last_seen),
        score=alert.score,
        threshold=alert.threshold,
        severity=alert.severity,  # type: ignore[arg-type]  # the store checks the bands
        reason=alert.reason or "no reason recorded",
        count=alert.count,
        incident_id=str(alert.incident_id),
        contributions=tuple(
            Contribution.from_mapping(dict(f)) for f in alert.top_features if isinstance(f, Mapping)
        ),
        **_flow_fields(alert.raw_event),
    )


def renderer(formats: Mapping[str, str]) -> Callable[[StoredAlert, str], bytes]:
    """A ``render(alert, sink)`` that formats for each sink as ``formats[sink]`` says.

    >>> renderer({"siem": "cef"}).__name__
    'render_for_sink'
    """
    unknown = {sink: fmt for sink, fmt in formats.items() if fmt not in FORMATS}
    if unknown:
        raise ConfigError(
            f"Unknown alert formats {unknown}; each sink's format must be one of "
            f"{', '.join(FORMATS)}."
        )
    table = dict(formats)

    def render_for_sink(alert: StoredAlert, sink: str) -> bytes:
        if sink not in table:
            raise ConfigError(f"No format configured for sink {sink!r}; known: {sorted(table)}.")
        return render(from_stored(alert), table[sink])

    return render_for_sink


__all__ = ["from_stored", "renderer"]
