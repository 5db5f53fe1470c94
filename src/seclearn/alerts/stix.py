"""The alert as a STIX 2.1 bundle: identity, indicator, observables, observed-data, sighting.

Every id is deterministic. Domain and relationship objects use uuid5 of the alert id,
so re-sending an alert produces the same objects and a receiver stores them once;
cyber-observable objects (``ipv4-addr``, ``network-traffic``) use the STIX 2.1
deterministic-id rule (uuid5 in the STIX namespace over the canonical JSON of the
id-contributing properties), so they merge with the same observables from other tools.
"""

from __future__ import annotations

import ipaddress
import json
import re
import uuid
from typing import Any

from seclearn.alerts.alert import ALERT_NAMESPACE, Alert, iso_ms, truncate
from seclearn.errors import DeliveryError

#: The namespace STIX 2.1 (section 2.9) fixes for deterministic SCO identifiers.
STIX_SCO_NAMESPACE = uuid.UUID("00abedb4-aa42-466c-9c01-fed23315a9b7")
#: STIX integers for counts must stay at or below this.
_MAX_STIX_COUNT = 999_999_999
_IDENTITY_TIME = "2024-01-01T00:00:00.000Z"
_TOKEN = re.compile(r"^[a-z0-9][a-z0-9-]{0,31}$")


def _sdo_id(kind: str, alert: Alert) -> str:
    return f"{kind}--{uuid.uuid5(ALERT_NAMESPACE, f'{kind}:{alert.id}')}"


def _sco_id(kind: str, contributing: dict[str, Any]) -> str:
    canonical = json.dumps(contributing, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return f"{kind}--{uuid.uuid5(STIX_SCO_NAMESPACE, canonical)}"


def stix_string(value: str) -> str:
    """A STIX pattern string literal: single-quoted, with ``\\`` and ``'`` escaped.

    >>> stix_string("it's")
    "'it\\\\'s'"
    """
    return "'" + value.replace("\\", "\\\\").replace("'", "\\'") + "'"


def _address(ip: str) -> dict[str, Any]:
    kind = "ipv4-addr" if ipaddress.ip_address(ip).version == 4 else "ipv6-addr"
    return {"type": kind, "spec_version": "2.1", "id": _sco_id(kind, {"value": ip}), "value": ip}


def _protocols(alert: Alert, version: int) -> list[str]:
    protocols = [f"ipv{version}"]
    for name in (alert.proto, alert.service):
        token = None if name is None else name.lower()
        if token is not None and _TOKEN.match(token) and token not in protocols:
            protocols.append(token)
    return protocols


def stix_pattern(alert: Alert) -> str:
    """A STIX 2.1 pattern matching the alert's flow: one ``network-traffic`` observation.

    Every comparison refers to the same ``network-traffic`` object (so the AND can
    match one observation): its endpoints, destination port and transport.

    Raises :class:`~seclearn.errors.DeliveryError` when the alert carries no address.
    """
    terms = []
    if alert.src_ip is not None:
        terms.append(f"network-traffic:src_ref.value = {stix_string(alert.src_ip)}")
    if alert.dst_ip is not None:
        terms.append(f"network-traffic:dst_ref.value = {stix_string(alert.dst_ip)}")
    if not terms:
        raise DeliveryError(
            f"Alert {alert.id!r} has neither src_ip nor dst_ip, so it has no STIX pattern; "
            "send it in a format without observables (ECS, OCSF, webhook) instead."
        )
    if alert.dst_port is not None:
        terms.append(f"network-traffic:dst_port = {alert.dst_port}")
    if alert.proto is not None and _TOKEN.match(alert.proto.lower()):
        terms.append(f"network-traffic:protocols[*] = {stix_string(alert.proto.lower())}")
    return "[" + " AND ".join(terms) + "]"


def _identity() -> dict[str, Any]:
    return {
        "type": "identity",
        "spec_version": "2.1",
        "id": f"identity--{uuid.uuid5(ALERT_NAMESPACE, 'identity:seclearn')}",
        "created": _IDENTITY_TIME,
        "modified": _IDENTITY_TIME,
        "name": "seclearn",
        "identity_class": "system",
    }


def to_stix_bundle(alert: Alert) -> dict[str, Any]:
    """A STIX 2.1 bundle for ``alert``, the same every time it is rendered.

    It holds the seclearn ``identity``; an ``indicator`` with :func:`stix_pattern`;
    the ``ipv4-addr``/``ipv6-addr`` and ``network-traffic`` observables;
    ``observed-data`` referring to them; and a ``sighting`` of the indicator with
    ``observed_data_refs`` and ``count`` (the dedup count). ``created`` is the earlier
    of first-seen and event time, ``modified`` the later of last-seen and event time,
    so a grown dedup count is a new version of the same objects.
    """
    pattern = stix_pattern(alert)
    identity = _identity()
    created = iso_ms(min(alert.first_seen, alert.event_time))
    modified = iso_ms(max(alert.last_seen, alert.event_time))
    common = {
        "spec_version": "2.1",
        "created": created,
        "modified": modified,
        "created_by_ref": identity["id"],
    }
    observables: list[dict[str, Any]] = []
    traffic: dict[str, Any] = {"type": "network-traffic", "spec_version": "2.1"}
    version = 4
    for role, ip, port in (
        ("src", alert.src_ip, alert.src_port),
        ("dst", alert.dst_ip, alert.dst_port),
    ):
        if ip is None:
            continue
        address = _address(ip)
        version = ipaddress.ip_address(ip).version
        observables.append(address)
        traffic[f"{role}_ref"] = address["id"]
        if port is not None:
            traffic[f"{role}_port"] = port
    traffic["protocols"] = _protocols(alert, version)
    for role in ("src", "dst"):
        if getattr(alert, f"{role}_bytes") is not None:
            traffic[f"{role}_byte_count"] = getattr(alert, f"{role}_bytes")
    contributing: dict[str, Any] = {
        k: traffic[k]
        for k in ("src_ref", "dst_ref", "src_port", "dst_port", "protocols")
        if k in traffic
    }
    traffic = {"id": _sco_id("network-traffic", contributing), **traffic}
    observables.append(traffic)

    indicator = {
        "type": "indicator",
        "id": _sdo_id("indicator", alert),
        **common,
        "name": alert.title,
        "description": truncate(alert.reason),
        "indicator_types": ["anomalous-activity"],
        "pattern": pattern,
        "pattern_type": "stix",
        "pattern_version": "2.1",
        "valid_from": iso_ms(alert.first_seen),
        "confidence": round(100 * alert.score),
        "labels": [f"severity:{alert.severity}"],
    }
    observed = {
        "type": "observed-data",
        "id": _sdo_id("observed-data", alert),
        **common,
        "first_observed": iso_ms(alert.first_seen),
        "last_observed": iso_ms(alert.last_seen),
        "number_observed": min(alert.count, _MAX_STIX_COUNT),
        "object_refs": [o["id"] for o in observables],
    }
    sighting: dict[str, Any] = {
        "type": "sighting",
        "id": _sdo_id("sighting", alert),
        **common,
        "description": truncate(alert.reason),
        "first_seen": iso_ms(alert.first_seen),
        "last_seen": iso_ms(alert.last_seen),
        "count": min(alert.count, _MAX_STIX_COUNT),
        "sighting_of_ref": indicator["id"],
        "observed_data_refs": [observed["id"]],
        "where_sighted_refs": [identity["id"]],
        "confidence": round(100 * alert.score),
    }
    if alert.incident_id is not None:
        sighting["external_references"] = [
            {"source_name": "seclearn-incident", "external_id": truncate(alert.incident_id)}
        ]
    objects = [identity, indicator, *observables, observed, sighting]
    return {
        "type": "bundle",
        "id": _sdo_id("bundle", alert),
        "objects": objects,
    }
