"""JSON renderings of an :class:`~seclearn.alerts.Alert`: ECS, OCSF, webhook and TheHive.

Each ``to_*`` function is pure (Alert in, dict out) and deterministic, so that a re-send
produces the same document; :func:`encode` turns any of them into compact UTF-8 JSON.
Text from data is cut to :data:`~seclearn.alerts.alert.MAX_TEXT_CHARS`; JSON escaping
(quotes, backslashes, control characters) is orjson's.
"""

from __future__ import annotations

import re
from typing import Any

import orjson

from seclearn.alerts.alert import (
    Alert,
    alert_dict,
    epoch_ms,
    idempotency_key,
    iso_ms,
    truncate,
)
from seclearn.errors import DeliveryError

#: Version of the Elastic Common Schema the ECS rendering follows.
ECS_VERSION = "8.11.0"
#: Version of the OCSF schema the Detection Finding rendering follows.
OCSF_VERSION = "1.3.0"
#: Product name and vendor written into every rendering.
PRODUCT = "seclearn"
VENDOR = "seclearn"
#: Version tag of the generic webhook payload.
WEBHOOK_SCHEMA = "seclearn.alert/1"

#: ECS ``event.severity`` per alert severity (the numbers Elastic Security rules use).
ECS_SEVERITY = {"low": 21, "medium": 47, "high": 73, "critical": 99}
#: OCSF ``severity_id`` (2 Low, 3 Medium, 4 High, 5 Critical).
OCSF_SEVERITY_ID = {"low": 2, "medium": 3, "high": 4, "critical": 5}
#: TheHive severity (1 low, 2 medium, 3 high, 4 critical).
THEHIVE_SEVERITY = {"low": 1, "medium": 2, "high": 3, "critical": 4}

_OCSF_CLASS_UID = 2004  # Detection Finding
_OCSF_CATEGORY_UID = 2  # Findings
_OCSF_ACTIVITY = {1: "Create", 2: "Update", 3: "Close"}
_OCSF_IP = 2  # observable type_id "IP Address"
_OCSF_ANALYTIC_LEARNING = 4  # analytic type_id "Learning (ML/DL)"
_IANA_PROTO = {"icmp": 1, "tcp": 6, "udp": 17, "ipv6-icmp": 58, "sctp": 132}


def encode(document: dict[str, Any]) -> bytes:
    """Compact UTF-8 JSON of one rendering (non-finite floats become null)."""
    try:
        return orjson.dumps(document)
    except TypeError as exc:  # pragma: no cover - renderings only hold JSON types
        raise DeliveryError(f"Could not encode the alert as JSON: {exc}.") from None


def _compact(value: Any) -> Any:
    """``value`` with None leaves and empty dicts or lists removed."""
    if isinstance(value, dict):
        kept = {k: _compact(v) for k, v in value.items() if v is not None}
        return {k: v for k, v in kept.items() if v not in ({}, [])}
    if isinstance(value, list):
        items = [_compact(v) for v in value if v is not None]
        return [v for v in items if v not in ({}, [])]
    return value


def _text(value: str | None) -> str | None:
    return None if value is None else truncate(value)


def _proto(alert: Alert) -> str | None:
    return None if alert.proto is None else truncate(alert.proto.lower(), 32)


def to_ecs(alert: Alert) -> dict[str, Any]:
    """The alert as an Elastic Common Schema document (``event.kind: alert``).

    Model details that ECS has no field for (entity, score, threshold, dedup count,
    incident, top features) sit under the custom top-level ``seclearn`` object, as ECS
    recommends for custom fields.
    """
    ips = [ip for ip in (alert.src_ip, alert.dst_ip) if ip is not None]
    doc = {
        "@timestamp": iso_ms(alert.event_time),
        "ecs": {"version": ECS_VERSION},
        "message": truncate(alert.reason),
        "event": {
            "kind": "alert",
            "category": ["network"],
            "type": ["connection"] if alert.src_ip or alert.dst_ip else ["info"],
            "id": alert.id,
            "severity": ECS_SEVERITY[alert.severity],
            "risk_score": round(100.0 * alert.score, 4),
            "risk_score_norm": round(100.0 * alert.score, 4),
            "start": iso_ms(alert.first_seen),
            "end": iso_ms(alert.last_seen),
            "reason": truncate(alert.reason),
            "dataset": "seclearn.alerts",
            "module": PRODUCT,
            "provider": PRODUCT,
        },
        "rule": {
            "name": truncate(alert.detector),
            "version": truncate(alert.detector_version),
            "ruleset": PRODUCT,
        },
        "observer": {"vendor": VENDOR, "product": PRODUCT, "type": "ids"},
        "source": {"ip": alert.src_ip, "port": alert.src_port, "bytes": alert.src_bytes},
        "destination": {"ip": alert.dst_ip, "port": alert.dst_port, "bytes": alert.dst_bytes},
        "network": {
            "transport": _proto(alert),
            "protocol": None if alert.service is None else truncate(alert.service.lower(), 64),
            "bytes": alert.total_bytes,
        },
        "related": {"ip": sorted(set(ips))},
        "seclearn": {
            "alert_id": alert.id,
            "idempotency_key": idempotency_key(alert),
            "entity": truncate(alert.entity),
            "score": float(alert.score),
            "threshold": float(alert.threshold),
            "severity": alert.severity,
            "count": alert.count,
            "incident_id": _text(alert.incident_id),
            "flow_uid": _text(alert.uid),
            "contributions": alert.top_contributions(),
        },
    }
    return _compact(doc)


def to_ocsf(alert: Alert, *, activity_id: int = 1) -> dict[str, Any]:
    """The alert as an OCSF Detection Finding (class 2004, category Findings).

    ``activity_id`` is 1 (Create) for a new alert, 2 (Update) when a dedup count grew,
    3 (Close) when it was resolved; ``type_uid`` is ``2004 * 100 + activity_id``.
    Times are milliseconds since the epoch. Model details without an OCSF attribute
    (threshold, top features) sit under ``unmapped``.
    """
    if activity_id not in _OCSF_ACTIVITY:
        raise DeliveryError(
            f"OCSF activity_id must be one of {sorted(_OCSF_ACTIVITY)}, got {activity_id!r}."
        )
    proto = _proto(alert)
    connection = None
    if proto is not None:
        connection = {"protocol_name": proto, "protocol_num": _IANA_PROTO.get(proto)}
    evidence = {
        "src_endpoint": {"ip": alert.src_ip, "port": alert.src_port},
        "dst_endpoint": {"ip": alert.dst_ip, "port": alert.dst_port},
        "connection_info": connection,
    }
    observables = [
        {"name": name, "type": "IP Address", "type_id": _OCSF_IP, "value": ip}
        for name, ip in (("src_endpoint.ip", alert.src_ip), ("dst_endpoint.ip", alert.dst_ip))
        if ip is not None
    ]
    doc = {
        "class_uid": _OCSF_CLASS_UID,
        "class_name": "Detection Finding",
        "category_uid": _OCSF_CATEGORY_UID,
        "category_name": "Findings",
        "activity_id": activity_id,
        "activity_name": _OCSF_ACTIVITY[activity_id],
        "type_uid": _OCSF_CLASS_UID * 100 + activity_id,
        "type_name": f"Detection Finding: {_OCSF_ACTIVITY[activity_id]}",
        "severity_id": OCSF_SEVERITY_ID[alert.severity],
        "severity": alert.severity.capitalize(),
        "status_id": 1,
        "status": "New",
        "time": epoch_ms(alert.event_time),
        "start_time": epoch_ms(alert.first_seen),
        "end_time": epoch_ms(alert.last_seen),
        "count": alert.count,
        "message": truncate(alert.reason),
        "confidence_score": round(100 * alert.score),
        "risk_score": round(100 * alert.score),
        "metadata": {
            "version": OCSF_VERSION,
            "uid": idempotency_key(alert),
            "correlation_uid": _text(alert.incident_id),
            "product": {"name": PRODUCT, "vendor_name": VENDOR},
        },
        "finding_info": {
            "uid": alert.id,
            "title": alert.title,
            "desc": truncate(alert.reason),
            "created_time": epoch_ms(alert.event_time),
            "first_seen_time": epoch_ms(alert.first_seen),
            "last_seen_time": epoch_ms(alert.last_seen),
            "analytic": {
                "uid": truncate(f"{alert.detector}@{alert.detector_version}"),
                "name": truncate(alert.detector),
                "version": truncate(alert.detector_version),
                "type_id": _OCSF_ANALYTIC_LEARNING,
                "type": "Learning (ML/DL)",
            },
        },
        "evidences": [evidence],
        "observables": observables,
        "unmapped": {
            "entity": truncate(alert.entity),
            "score": float(alert.score),
            "threshold": float(alert.threshold),
            "service": _text(alert.service),
            "flow_uid": _text(alert.uid),
            "src_bytes": alert.src_bytes,
            "dst_bytes": alert.dst_bytes,
            "contributions": alert.top_contributions(),
        },
    }
    return _compact(doc)


_MARKDOWN_SPECIAL = re.compile(r"([\\`*_{}\[\]()#+\-.!|<>~&])")
_LINE_BREAKS = re.compile(r"[\r\n\x0b\x0c\x85\u2028\u2029]+")


def markdown_escape(text: str) -> str:
    r"""``text`` cut to the limit, on one line, with every Markdown/HTML special escaped.

    TheHive renders an alert description as Markdown, so a value such as
    ``![x](http://evil/pixel)`` or ``<img src=...>`` must reach the analyst as text.

    >>> markdown_escape("![x](http://e/p) <b>")
    '\\!\\[x\\]\\(http://e/p\\) \\<b\\>'
    """
    return _MARKDOWN_SPECIAL.sub(r"\\\1", _LINE_BREAKS.sub(" ", truncate(text)))


def to_webhook(alert: Alert) -> dict[str, Any]:
    """The generic webhook payload: the whole alert plus its idempotency key."""
    return {
        "schema": WEBHOOK_SCHEMA,
        "idempotency_key": idempotency_key(alert),
        "alert": alert_dict(alert),
    }


def to_thehive(alert: Alert, *, tlp: int = 2, pap: int = 2) -> dict[str, Any]:
    """The body of TheHive 5 ``POST /api/v1/alert``.

    ``sourceRef`` is the idempotency key, so TheHive refuses a duplicate of an alert it
    already has (same ``type``, ``source`` and ``sourceRef``); ``date`` is in ms. Text
    from data in the Markdown ``description`` goes through :func:`markdown_escape`.
    """
    if tlp not in range(5) or pap not in range(4):
        raise DeliveryError(f"TheHive tlp must be 0-4 and pap 0-3, got tlp={tlp}, pap={pap}.")
    observables = [
        {"dataType": "ip", "data": ip, "message": f"{role} address", "tags": [f"seclearn:{role}"]}
        for role, ip in (("source", alert.src_ip), ("destination", alert.dst_ip))
        if ip is not None
    ]
    lines = [
        markdown_escape(alert.reason),
        "",
        f"- entity: {markdown_escape(alert.entity)}",
        f"- score: {alert.score:.4f} (threshold {alert.threshold:.4f})",
        f"- detections merged: {alert.count}",
    ]
    lines += [
        f"- {markdown_escape(str(c['feature']))} = {markdown_escape(str(c['value']))} "
        f"(contribution {c['contribution']})"
        for c in alert.top_contributions()
    ]
    tags = [
        f"seclearn:detector={truncate(alert.detector, 128)}",
        f"seclearn:severity={alert.severity}",
    ]
    if alert.incident_id is not None:
        tags.append(f"seclearn:incident={truncate(alert.incident_id, 128)}")
    doc: dict[str, Any] = {
        "type": "seclearn",
        "source": PRODUCT,
        "sourceRef": idempotency_key(alert),
        "title": alert.title,
        "description": "\n".join(lines),
        "severity": THEHIVE_SEVERITY[alert.severity],
        "date": epoch_ms(alert.event_time),
        "tags": tags,
        "tlp": tlp,
        "pap": pap,
        "observables": observables,
    }
    return doc
