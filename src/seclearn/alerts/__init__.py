"""Alerts for incident response: the :class:`Alert` value, its formats, sinks and delivery.

Formats (pure functions of an alert): ECS (:func:`to_ecs`), OCSF Detection Finding
(:func:`to_ocsf`), STIX 2.1 bundle (:func:`to_stix_bundle`), CEF (:func:`to_cef`) in
RFC 5424 syslog (:func:`to_syslog`), a generic webhook payload (:func:`to_webhook`)
and TheHive's alert API body (:func:`to_thehive`); :func:`render` gives the bytes.

Sinks share the one-method :class:`Sink` protocol: :class:`UDPSyslogSink`,
:class:`TCPSyslogSink` (RFC 6587 octet counting), :class:`WebhookSink` and
:class:`MemorySink`. :func:`deliver` moves outbox items to a sink, at least once;
:func:`from_stored` and :func:`renderer` turn the state store's alerts into payloads.
"""

from seclearn.alerts.alert import (
    MAX_TEXT_CHARS,
    SEVERITIES,
    TRUNCATION_MARKER,
    Alert,
    Contribution,
    Severity,
    alert_dict,
    idempotency_key,
    truncate,
)
from seclearn.alerts.cef import cef_header_escape, cef_value_escape, to_cef, to_syslog
from seclearn.alerts.delivery import GAVE_UP_PREFIX, GIVE_UP_AT, Backoff, DeliveryReport, deliver
from seclearn.alerts.formats import (
    encode,
    markdown_escape,
    to_ecs,
    to_ocsf,
    to_thehive,
    to_webhook,
)
from seclearn.alerts.render import FORMATS, render
from seclearn.alerts.sinks import (
    MemorySink,
    PermanentDeliveryError,
    Sink,
    TCPSyslogSink,
    UDPSyslogSink,
    WebhookSink,
)
from seclearn.alerts.stix import stix_pattern, to_stix_bundle
from seclearn.alerts.stored import from_stored, renderer

__all__ = [
    "Alert",
    "Backoff",
    "Contribution",
    "DeliveryReport",
    "FORMATS",
    "GAVE_UP_PREFIX",
    "GIVE_UP_AT",
    "MAX_TEXT_CHARS",
    "MemorySink",
    "PermanentDeliveryError",
    "SEVERITIES",
    "Severity",
    "Sink",
    "TCPSyslogSink",
    "TRUNCATION_MARKER",
    "UDPSyslogSink",
    "WebhookSink",
    "alert_dict",
    "cef_header_escape",
    "cef_value_escape",
    "deliver",
    "encode",
    "from_stored",
    "idempotency_key",
    "markdown_escape",
    "render",
    "renderer",
    "stix_pattern",
    "to_cef",
    "to_ecs",
    "to_ocsf",
    "to_stix_bundle",
    "to_syslog",
    "to_thehive",
    "to_webhook",
    "truncate",
]
