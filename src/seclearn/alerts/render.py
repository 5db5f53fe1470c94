"""One entry point from an alert to the bytes a sink sends: :func:`render`."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from seclearn.alerts.alert import Alert
from seclearn.alerts.cef import to_cef, to_syslog
from seclearn.alerts.formats import encode, to_ecs, to_ocsf, to_thehive, to_webhook
from seclearn.alerts.stix import to_stix_bundle
from seclearn.errors import DeliveryError

_JSON: dict[str, Callable[[Alert], dict[str, Any]]] = {
    "ecs": to_ecs,
    "ocsf": to_ocsf,
    "stix": to_stix_bundle,
    "thehive": to_thehive,
    "webhook": to_webhook,
}

#: The names :func:`render` accepts.
FORMATS: tuple[str, ...] = tuple(sorted([*_JSON, "cef", "syslog"]))


def render(alert: Alert, fmt: str) -> bytes:
    """``alert`` in format ``fmt`` as the bytes to hand to a sink.

    JSON formats are compact UTF-8 JSON; ``cef`` is the bare CEF line in UTF-8;
    ``syslog`` is that line in an RFC 5424 message (defaults of :func:`to_syslog`).
    """
    if fmt in _JSON:
        return encode(_JSON[fmt](alert))
    if fmt == "cef":
        return to_cef(alert).encode("utf-8")
    if fmt == "syslog":
        return to_syslog(alert)
    raise DeliveryError(f"Unknown alert format {fmt!r}; choose one of {', '.join(FORMATS)}.")
