"""Alert formats, each checked against its published schema or field list.

- ECS: field names and types from the Elastic Common Schema 8.11 field reference,
  allowed values of ``event.kind``, ``event.category`` and ``event.type``.
- OCSF: the Detection Finding class (2004) of OCSF 1.3, as a JSON Schema written from
  the class page, and the ``py_ocsf_models`` pydantic models.
- STIX 2.1: the OASIS ``stix2`` library (parses every object, checks the pattern with
  ``stix2-patterns``) and the OASIS ``stix2-validator`` (the spec's MUST/SHOULD rules).
- CEF: a parser written from the ArcSight CEF spec (header pipes, extension escaping).
- Syslog: the RFC 5424 ABNF as a regular expression.
- TheHive: the ``InputAlert``/``InputObservable`` types of the official ``thehive4py``.
"""

from __future__ import annotations

import dataclasses
import doctest
import ipaddress
import re
import typing
from datetime import UTC, datetime, timedelta

import jsonschema
import numpy as np
import orjson
import pytest
import stix2
from hypothesis import given
from hypothesis import strategies as st
from py_ocsf_models.events.findings.detection_finding import DetectionFinding
from stix2patterns.validator import run_validator
from stix2validator import ValidationOptions, validate_instance
from thehive4py.types.alert import InputAlert
from thehive4py.types.observable import InputObservable

from seclearn.alerts import (
    FORMATS,
    MAX_TEXT_CHARS,
    SEVERITIES,
    TRUNCATION_MARKER,
    Alert,
    Contribution,
    alert_dict,
    cef_value_escape,
    idempotency_key,
    markdown_escape,
    render,
    stix_pattern,
    to_cef,
    to_ecs,
    to_ocsf,
    to_stix_bundle,
    to_syslog,
    to_thehive,
    to_webhook,
    truncate,
)
from seclearn.alerts import alert as alert_module
from seclearn.alerts import cef as cef_module
from seclearn.alerts import delivery as delivery_module
from seclearn.alerts import formats as formats_module
from seclearn.alerts import stix as stix_module
from seclearn.errors import ConfigError, DeliveryError


def validate_pattern(pattern: str) -> bool:
    errors = run_validator(pattern, stix_version="2.1")
    assert not errors, errors
    return True


T0 = datetime(2026, 3, 4, 5, 6, 7, 891000, tzinfo=UTC)
MEGA = "A" * 1_000_000
HOSTILE = "x|y=z\\w\n\r\"q'\x00]}" + "\u2028" + MEGA


def make_alert(**changes) -> Alert:
    fields = dict(
        id="alert-0001",
        detector="flow-iforest",
        detector_version="3",
        entity="10.0.0.5",
        event_time=T0,
        first_seen=T0 - timedelta(minutes=5),
        last_seen=T0,
        score=0.97,
        threshold=0.9,
        severity="high",
        reason="Alert (score 0.970 > threshold 0.900): dst_port=22 is unusual for benign traffic.",
        count=17,
        incident_id="inc-9",
        contributions=(Contribution("dst_port", 22, 1.2), Contribution("count", 417, 0.8)),
        src_ip="10.0.0.5",
        src_port=51514,
        dst_ip="203.0.113.7",
        dst_port=22,
        proto="tcp",
        service="ssh",
        uid="CabC1x",
        src_bytes=100,
        dst_bytes=2000,
    )
    fields.update(changes)
    return Alert(**fields)


def hostile_alert() -> Alert:
    return make_alert(
        detector=HOSTILE,
        detector_version=HOSTILE,
        entity=HOSTILE,
        reason=HOSTILE,
        incident_id=HOSTILE,
        service=HOSTILE,
        proto=HOSTILE,
        uid=HOSTILE,
        contributions=(Contribution(HOSTILE, HOSTILE, 1.0),) * 20,
    )


def cut(text: str, limit: int = MAX_TEXT_CHARS) -> str:
    return truncate(text, limit)


# --------------------------------------------------------------------------- the value


@pytest.mark.parametrize(
    "change",
    [
        {"score": 1.5},
        {"threshold": -0.1},
        {"event_time": datetime(2026, 1, 1)},  # naive
        {"first_seen": T0 + timedelta(seconds=1)},  # after last_seen
        {"severity": "urgent"},
        {"count": 0},
        {"src_ip": "10.0.0.5\nevil"},
        {"dst_port": 70000},
        {"src_bytes": -1},
        {"id": ""},
        {"contributions": [{"feature": "a", "value": 1, "contribution": 1.0}]},
    ],
)
def test_alert_refuses_invalid_fields(change):
    with pytest.raises(ConfigError):
        make_alert(**change)


def test_alert_normalises_numpy_and_pandas_values():
    alert = make_alert(
        score=np.float64(0.97),
        count=np.int64(3),
        src_port=np.int32(51514),
        dst_port=22.0,  # pandas upcasts an int column with gaps to float
        src_bytes=float("nan"),  # pandas' missing value
        service=float("nan"),
        dst_ip="2001:DB8:0:0::2",
    )
    assert type(alert.score) is float and type(alert.count) is int
    assert (alert.src_port, alert.dst_port) == (51514, 22) and type(alert.dst_port) is int
    assert alert.src_bytes is None and alert.service is None
    assert alert.dst_ip == "2001:db8::2"
    orjson.dumps(to_ecs(alert))  # plain Python values only
    with pytest.raises(ConfigError):
        make_alert(dst_port=22.5)
    with pytest.raises(ConfigError):
        make_alert(entity=None)


@pytest.mark.parametrize(
    "module", [alert_module, cef_module, delivery_module, formats_module, stix_module]
)
def test_docstring_examples_hold(module):
    result = doctest.testmod(module)
    assert result.failed == 0 and result.attempted > 0


def test_truncate_cuts_to_the_limit_with_a_marker():
    assert truncate("short") == "short"
    out = truncate(MEGA)
    assert len(out) == MAX_TEXT_CHARS and out.endswith(TRUNCATION_MARKER)
    assert truncate("x" * MAX_TEXT_CHARS) == "x" * MAX_TEXT_CHARS


def test_contribution_from_explain_mapping():
    c = Contribution.from_mapping({"feature": "service", "value": "ssh", "contribution": 0.5})
    assert c == Contribution("service", "ssh", 0.5)
    assert (
        Contribution.from_mapping({"feature": "f", "value": [1], "contribution": 1}).value == "[1]"
    )


@pytest.mark.parametrize("fmt", FORMATS)
def test_every_format_is_deterministic(fmt):
    assert render(make_alert(), fmt) == render(make_alert(), fmt)


def test_unknown_format_is_a_delivery_error():
    with pytest.raises(DeliveryError, match="choose one of"):
        render(make_alert(), "xml")


# --------------------------------------------------------------------------- ECS

#: Field -> ECS type, from the ECS 8.11 field reference (ecs_flat.yml).
ECS_FIELDS = {
    "@timestamp": "date",
    "message": "match_only_text",
    "ecs.version": "keyword",
    "event.kind": "keyword",
    "event.category": "keyword",
    "event.type": "keyword",
    "event.id": "keyword",
    "event.severity": "long",
    "event.risk_score": "float",
    "event.risk_score_norm": "float",
    "event.start": "date",
    "event.end": "date",
    "event.reason": "keyword",
    "event.dataset": "keyword",
    "event.module": "keyword",
    "event.provider": "keyword",
    "rule.name": "keyword",
    "rule.version": "keyword",
    "rule.ruleset": "keyword",
    "observer.vendor": "keyword",
    "observer.product": "keyword",
    "observer.type": "keyword",
    "source.ip": "ip",
    "source.port": "long",
    "source.bytes": "long",
    "destination.ip": "ip",
    "destination.port": "long",
    "destination.bytes": "long",
    "network.transport": "keyword",
    "network.protocol": "keyword",
    "network.bytes": "long",
    "related.ip": "ip",
}
ECS_KIND = {"alert", "asset", "enrichment", "event", "metric", "state", "pipeline_error", "signal"}
ECS_CATEGORY = {
    "api", "authentication", "configuration", "database", "driver", "email", "file",
    "host", "iam", "intrusion_detection", "library", "malware", "network", "package",
    "process", "registry", "session", "threat", "vulnerability", "web",
}  # fmt: skip
ECS_NETWORK_TYPES = {
    "access",
    "allowed",
    "connection",
    "denied",
    "end",
    "info",
    "protocol",
    "start",
}
ECS_KEYWORD_IGNORE_ABOVE = 1024


def _leaves(doc, prefix=""):
    for key, value in doc.items():
        path = f"{prefix}{key}"
        if isinstance(value, dict):
            yield from _leaves(value, path + ".")
        else:
            yield path, value


def _check_ecs_type(path, kind, value):
    for item in value if isinstance(value, list) else [value]:
        if kind == "date":
            assert datetime.fromisoformat(item.replace("Z", "+00:00")).tzinfo is not None, path
        elif kind == "ip":
            ipaddress.ip_address(item)
        elif kind == "long":
            assert isinstance(item, int) and not isinstance(item, bool), path
        elif kind == "float":
            assert isinstance(item, int | float), path
        else:
            assert isinstance(item, str), path
            if kind == "keyword":
                assert len(item) <= ECS_KEYWORD_IGNORE_ABOVE, path


@pytest.mark.parametrize("alert", [make_alert(), hostile_alert()], ids=["plain", "hostile"])
def test_ecs_fields_have_their_published_types(alert):
    doc = to_ecs(alert)
    for path, value in _leaves(doc):
        if path.startswith("seclearn."):  # the custom field set
            continue
        assert path in ECS_FIELDS, f"{path} is not an ECS field"
        _check_ecs_type(path, ECS_FIELDS[path], value)
    event = doc["event"]
    assert event["kind"] == "alert" and event["kind"] in ECS_KIND
    assert set(event["category"]) <= ECS_CATEGORY and event["category"] == ["network"]
    assert set(event["type"]) <= ECS_NETWORK_TYPES
    assert 0 <= event["risk_score_norm"] <= 100


def test_ecs_carries_the_flow_and_the_rule():
    doc = to_ecs(make_alert())
    assert doc["@timestamp"] == "2026-03-04T05:06:07.891Z"
    assert doc["source"] == {"ip": "10.0.0.5", "port": 51514, "bytes": 100}
    assert doc["destination"] == {"ip": "203.0.113.7", "port": 22, "bytes": 2000}
    assert doc["network"] == {"transport": "tcp", "protocol": "ssh", "bytes": 2100}
    assert doc["rule"]["name"] == "flow-iforest" and doc["event"]["severity"] == 73
    assert doc["seclearn"]["idempotency_key"] == idempotency_key(make_alert())
    assert doc["message"] == make_alert().reason


def test_ecs_omits_absent_flow_fields():
    doc = to_ecs(make_alert(src_ip=None, dst_ip=None, src_port=None, dst_port=None, proto=None))
    assert "source" not in doc or "ip" not in doc["source"]
    assert doc["event"]["type"] == ["info"] and "related" not in doc


# --------------------------------------------------------------------------- OCSF

_ENDPOINT = {
    "type": "object",
    "properties": {"ip": {"type": "string"}, "port": {"type": "integer", "maximum": 65535}},
    "additionalProperties": False,
}
#: OCSF 1.3 Detection Finding (class 2004), written from the class page: required
#: attributes, the enums used here, and the attribute names the class defines.
OCSF_DETECTION_FINDING = {
    "type": "object",
    "required": [
        "activity_id", "category_uid", "class_uid", "finding_info", "metadata",
        "severity_id", "time", "type_uid",
    ],
    "properties": {
        "activity_id": {"enum": [0, 1, 2, 3, 99]},
        "activity_name": {"type": "string"},
        "category_uid": {"const": 2},
        "category_name": {"const": "Findings"},
        "class_uid": {"const": 2004},
        "class_name": {"const": "Detection Finding"},
        "type_uid": {"enum": [200400, 200401, 200402, 200403, 200499]},
        "type_name": {"type": "string"},
        "severity_id": {"enum": [0, 1, 2, 3, 4, 5, 6, 99]},
        "severity": {"type": "string"},
        "status_id": {"enum": [0, 1, 2, 3, 4, 5, 6, 99]},
        "status": {"type": "string"},
        "time": {"type": "integer", "minimum": 10**12},
        "start_time": {"type": "integer"},
        "end_time": {"type": "integer"},
        "count": {"type": "integer", "minimum": 1},
        "message": {"type": "string"},
        "confidence_score": {"type": "integer", "minimum": 0, "maximum": 100},
        "risk_score": {"type": "integer"},
        "metadata": {
            "type": "object",
            "required": ["product", "version"],
            "properties": {
                "product": {
                    "type": "object",
                    "properties": {"name": {"type": "string"}, "vendor_name": {"type": "string"}},
                },
                "version": {"type": "string"},
                "uid": {"type": "string"},
                "correlation_uid": {"type": "string"},
            },
            "additionalProperties": False,
        },
        "finding_info": {
            "type": "object",
            "required": ["uid", "title"],
            "properties": {
                "uid": {"type": "string"},
                "title": {"type": "string"},
                "desc": {"type": "string"},
                "created_time": {"type": "integer"},
                "first_seen_time": {"type": "integer"},
                "last_seen_time": {"type": "integer"},
                "analytic": {
                    "type": "object",
                    "required": ["type_id"],
                    "properties": {"type_id": {"enum": [0, 1, 2, 3, 4, 5, 6, 99]}},
                },
            },
            "additionalProperties": False,
        },
        "evidences": {
            "type": "array",
            "minItems": 1,
            "items": {
                "type": "object",
                "properties": {
                    "src_endpoint": _ENDPOINT,
                    "dst_endpoint": _ENDPOINT,
                    "connection_info": {
                        "type": "object",
                        "properties": {
                            "protocol_name": {"type": "string"},
                            "protocol_num": {"type": "integer"},
                        },
                        "additionalProperties": False,
                    },
                },
                "additionalProperties": False,
            },
        },
        "observables": {
            "type": "array",
            "items": {
                "type": "object",
                "required": ["name", "type_id"],
                "properties": {"type_id": {"const": 2}, "value": {"type": "string"}},
            },
        },
        "unmapped": {"type": "object"},
    },
    "additionalProperties": False,
}  # fmt: skip


@pytest.mark.parametrize("alert", [make_alert(), hostile_alert()], ids=["plain", "hostile"])
def test_ocsf_is_a_valid_detection_finding(alert):
    doc = to_ocsf(alert)
    jsonschema.validate(doc, OCSF_DETECTION_FINDING)
    model = DetectionFinding.model_validate(doc)
    assert model.type_uid == doc["class_uid"] * 100 + doc["activity_id"]
    assert doc["time"] == 1772600767891  # milliseconds
    assert len(doc["finding_info"]["title"]) <= 256 and len(doc["message"]) <= MAX_TEXT_CHARS


@pytest.mark.parametrize("activity_id", [1, 2, 3])
def test_ocsf_type_uid_follows_the_activity(activity_id):
    assert to_ocsf(make_alert(), activity_id=activity_id)["type_uid"] == 200400 + activity_id
    with pytest.raises(DeliveryError):
        to_ocsf(make_alert(), activity_id=7)


def test_ocsf_severity_and_observables():
    ids = [to_ocsf(make_alert(severity=s))["severity_id"] for s in SEVERITIES]
    assert ids == [2, 3, 4, 5]
    doc = to_ocsf(make_alert())
    assert [o["value"] for o in doc["observables"]] == ["10.0.0.5", "203.0.113.7"]
    assert doc["evidences"][0]["connection_info"] == {"protocol_name": "tcp", "protocol_num": 6}


# --------------------------------------------------------------------------- STIX 2.1

STIX_OPTIONS = ValidationOptions(version="2.1")
#: The one SHOULD we knowingly break: ids are uuid5 of the alert id (for idempotent
#: re-sends), where STIX suggests uuid4 for domain objects.
ALLOWED_STIX_WARNINGS = {"{103}"}


def _stix_check(bundle, allowed=ALLOWED_STIX_WARNINGS):
    result = validate_instance(bundle, STIX_OPTIONS)
    assert result.is_valid, [str(e) for e in result.errors]
    codes = {re.search(r"\{\d+\}", str(w)).group(0) for w in result.warnings}
    assert codes <= allowed, [str(w) for w in result.warnings]
    return stix2.parse(bundle, allow_custom=False, version="2.1")


@pytest.mark.parametrize(
    "alert",
    [
        make_alert(),
        hostile_alert(),
        make_alert(src_ip="2001:db8::1", dst_ip="2001:db8::2", proto="udp", service=None),
        make_alert(src_ip=None, src_port=None, proto=None, count=10**10),
    ],
    ids=["plain", "hostile", "ipv6", "dst-only"],
)
def test_stix_bundle_passes_the_oasis_validator_and_library(alert):
    bundle = to_stix_bundle(alert)
    # {301}: network-traffic SHOULD have both ports; a flow record may lack one
    partial = alert.src_port is None or alert.dst_port is None
    parsed = _stix_check(bundle, ALLOWED_STIX_WARNINGS | ({"{301}"} if partial else set()))
    assert len(parsed.objects) == len(bundle["objects"])
    assert validate_pattern(stix_pattern(alert)) is True


def test_stix_refs_point_into_the_bundle():
    bundle = to_stix_bundle(make_alert())
    by_type = {}
    for obj in bundle["objects"]:
        by_type.setdefault(obj["type"], []).append(obj)
    ids = {o["id"] for o in bundle["objects"]}
    sighting, observed = by_type["sighting"][0], by_type["observed-data"][0]
    assert sighting["sighting_of_ref"] == by_type["indicator"][0]["id"]
    assert sighting["observed_data_refs"] == [observed["id"]]
    assert set(observed["object_refs"]) <= ids
    assert {r.split("--")[0] for r in observed["object_refs"]} == {"ipv4-addr", "network-traffic"}
    assert sighting["count"] == 17 and observed["number_observed"] == 17


def test_stix_ids_are_deterministic_and_scos_follow_the_spec():
    a, b = to_stix_bundle(make_alert()), to_stix_bundle(make_alert())
    assert a == b
    other = to_stix_bundle(make_alert(id="alert-0002"))
    assert a["id"] != other["id"]
    objects = {o["type"]: o for o in a["objects"]}
    # SCO ids are the STIX 2.1 deterministic ids, as the OASIS library computes them
    assert objects["ipv4-addr"]["id"] == stix2.IPv4Address(value="203.0.113.7").id
    traffic = {k: v for k, v in objects["network-traffic"].items() if k != "id"}
    assert objects["network-traffic"]["id"] == stix2.NetworkTraffic(**traffic).id


def test_stix_pattern_escapes_and_ignores_unsafe_protocols():
    pattern = stix_pattern(make_alert(proto="tcp' OR '1'='1"))
    assert "OR" not in pattern and validate_pattern(pattern) is True
    assert stix_pattern(make_alert()) == (
        "[network-traffic:src_ref.value = '10.0.0.5' AND network-traffic:dst_ref.value = "
        "'203.0.113.7' AND network-traffic:dst_port = 22 AND network-traffic:protocols[*] = 'tcp']"
    )


def test_stix_without_any_address_is_a_delivery_error():
    with pytest.raises(DeliveryError, match="no STIX pattern"):
        to_stix_bundle(make_alert(src_ip=None, dst_ip=None))


# --------------------------------------------------------------------------- CEF


def _unescape_header(text):
    return re.sub(r"\\([\\|])", r"\1", text)


def _split_header(line):
    """Split on unescaped pipes (ArcSight CEF spec): 7 header fields and the extension."""
    fields, current, i = [], "", 0
    while i < len(line) and len(fields) < 7:
        ch = line[i]
        if ch == "\\" and i + 1 < len(line):
            current += line[i : i + 2]
            i += 2
            continue
        if ch == "|":
            fields.append(current)
            current = ""
        else:
            current += ch
        i += 1
    return fields, line[i:]


def _parse_extension(ext):
    """Extension ``key=value`` pairs: a key starts after a space and ends at an unescaped ``=``."""
    marks = [
        m for m in re.finditer(r"(?:^| )([A-Za-z0-9_]+)=", ext) if not _escaped(ext, m.end() - 1)
    ]
    out = {}
    for n, m in enumerate(marks):
        end = marks[n + 1].start() if n + 1 < len(marks) else len(ext)
        raw = ext[m.end() : end]
        out[m.group(1)] = re.sub(
            r"\\(.)", lambda g: {"n": "\n", "r": "\r"}.get(g.group(1), g.group(1)), raw
        )
    return out


def _escaped(text, index):
    backslashes = 0
    while index - 1 - backslashes >= 0 and text[index - 1 - backslashes] == "\\":
        backslashes += 1
    return backslashes % 2 == 1


def _no_controls(text):
    return re.sub(r"[\x00-\x1f\x7f\x85\u2028\u2029]", " ", text)


def _expected_value(text):
    """What a CEF parser reads back: cut at 1023, line breaks kept, other controls as spaces."""
    return re.sub(r"[\x00-\x09\x0b\x0c\x0e-\x1f\x7f\x85\u2028\u2029]", " ", cut(text, 1023))


def test_cef_header_and_extension_follow_the_spec():
    line = to_cef(make_alert())
    header, ext = _split_header(line)
    assert header[0] == "CEF:0" and header[1:3] == ["seclearn", "seclearn"]
    assert header[4] == "flow-iforest" and header[6] == "8"
    fields = _parse_extension(ext)
    assert fields["src"] == "10.0.0.5" and fields["dst"] == "203.0.113.7"
    assert fields["spt"] == "51514" and fields["dpt"] == "22" and fields["proto"] == "TCP"
    assert fields["rt"] == "1772600767891" and fields["cnt"] == "17"
    assert fields["cs5"] == idempotency_key(make_alert()) and fields["cs5Label"] == "idempotencyKey"
    assert fields["msg"] == make_alert().reason


def test_cef_severity_is_in_0_to_10_and_grows():
    sevs = [int(_split_header(to_cef(make_alert(severity=s)))[0][6]) for s in SEVERITIES]
    assert sevs == sorted(sevs) and all(0 <= s <= 10 for s in sevs)


def test_cef_uses_ipv6_custom_fields():
    fields = _parse_extension(_split_header(to_cef(make_alert(src_ip="2001:db8::1")))[1])
    assert "src" not in fields and fields["c6a2"] == "2001:db8::1"


def test_cef_hostile_values_cannot_break_the_framing():
    line = to_cef(hostile_alert())
    assert "\n" not in line and "\r" not in line and "\x00" not in line
    assert len(line) < 20_000
    header, ext = _split_header(line)
    assert len(header) == 7 and header[6] == "8"
    assert _unescape_header(header[4]) == _no_controls(cut(HOSTILE, 255))
    fields = _parse_extension(ext)
    assert fields["msg"] == _expected_value(HOSTILE)
    assert fields["cs1"].endswith(TRUNCATION_MARKER)
    assert set(fields) >= {"rt", "cnt", "src", "dst", "cs1", "cs4", "msg"}


@given(st.text(max_size=200))
def test_cef_value_escaping_round_trips(text):
    ext = f"cs1={cef_value_escape(text)} msg=end"
    fields = _parse_extension(ext)
    assert set(fields) == {"cs1", "msg"} and fields["msg"] == "end"
    assert fields["cs1"] == _expected_value(text)


# --------------------------------------------------------------------------- syslog

#: RFC 5424 section 6 ABNF: HEADER SP STRUCTURED-DATA [SP MSG].
RFC5424 = re.compile(
    rb"^<(?P<pri>\d{1,3})>1 "
    rb"(?P<ts>\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(?:\.\d{1,6})?(?:Z|[+-]\d{2}:\d{2})) "
    rb"(?P<host>[\x21-\x7e]{1,255}) (?P<app>[\x21-\x7e]{1,48}) (?P<proc>[\x21-\x7e]{1,128}) "
    rb"(?P<msgid>[\x21-\x7e]{1,32}) (?P<sd>-|(?:\[[^\]]*\])+)(?: (?P<msg>.*))?$",
    re.DOTALL,
)


@pytest.mark.parametrize("alert", [make_alert(), hostile_alert()], ids=["plain", "hostile"])
def test_syslog_is_rfc5424_with_the_cef_line_as_msg(alert):
    message = to_syslog(alert, hostname="sensor-1.example")
    match = RFC5424.match(message)
    assert match, message[:200]
    assert int(match["pri"]) == 16 * 8 + 3  # local0, error for "high"
    assert match["host"] == b"sensor-1.example" and match["app"] == b"seclearn"
    assert match["msg"] == to_cef(alert).encode() and b"\n" not in message


def test_syslog_severity_follows_the_alert_and_bad_headers_are_refused():
    pris = [int(RFC5424.match(to_syslog(make_alert(severity=s)))["pri"]) for s in SEVERITIES]
    assert [p % 8 for p in pris] == [5, 4, 3, 2]
    for bad in ({"hostname": "two words"}, {"app_name": "x" * 49}, {"facility": 24}):
        with pytest.raises(ConfigError):
            to_syslog(make_alert(), **bad)


# --------------------------------------------------------------------------- webhook


def test_webhook_payload_is_the_whole_alert_and_its_key():
    payload = orjson.loads(render(make_alert(), "webhook"))
    assert payload["idempotency_key"] == idempotency_key(make_alert())
    assert set(payload["alert"]) == {f.name for f in dataclasses.fields(Alert)}
    assert payload["alert"] == orjson.loads(orjson.dumps(alert_dict(make_alert())))
    assert payload["alert"]["contributions"][0] == {
        "feature": "dst_port",
        "value": 22,
        "contribution": 1.2,
    }


def test_webhook_hostile_text_is_cut_and_escaped():
    raw = render(hostile_alert(), "webhook")
    assert len(raw) < 200_000
    alert = orjson.loads(raw)["alert"]
    assert alert["reason"] == cut(HOSTILE) and alert["entity"].endswith(TRUNCATION_MARKER)
    assert len(alert["contributions"]) == 10


# --------------------------------------------------------------------------- TheHive


def _check_typed(value, hint, path):
    """``value`` has type ``hint`` (a thehive4py TypedDict, list, union or plain class)."""
    origin = typing.get_origin(hint)
    if typing.is_typeddict(hint):
        assert isinstance(value, dict), path
        hints = typing.get_type_hints(hint)
        assert set(value) <= set(hints), (path, set(value) - set(hints))
        assert hint.__required_keys__ <= set(value), (path, hint.__required_keys__ - set(value))
        for key, item in value.items():
            _check_typed(item, hints[key], f"{path}.{key}")
    elif origin in (list, typing.List):  # noqa: UP006
        assert isinstance(value, list), path
        for n, item in enumerate(value):
            _check_typed(item, typing.get_args(hint)[0], f"{path}[{n}]")
    elif origin is typing.Union:
        errors = []
        for option in typing.get_args(hint):
            try:
                _check_typed(value, option, path)
                return
            except AssertionError as exc:
                errors.append(exc)
        raise AssertionError((path, errors))
    else:
        expected = origin or hint
        assert isinstance(value, expected), (path, type(value), hint)
        assert not (isinstance(value, bool) and expected is int), path


#: TheHive's built-in observable data types.
HIVE_DATA_TYPES = {
    "autonomous-system", "domain", "file", "filename", "fqdn", "hash", "hostname", "ip",
    "mail", "mail-subject", "other", "regexp", "registry", "uri_path", "url", "user-agent",
}  # fmt: skip


@pytest.mark.parametrize("alert", [make_alert(), hostile_alert()], ids=["plain", "hostile"])
def test_thehive_body_matches_the_official_input_alert_type(alert):
    doc = orjson.loads(render(alert, "thehive"))
    _check_typed(doc, InputAlert, "alert")
    assert doc["observables"]
    for observable in doc["observables"]:
        _check_typed(observable, InputObservable, "observable")
        assert observable["dataType"] in HIVE_DATA_TYPES
    assert doc["sourceRef"] == idempotency_key(alert) and doc["date"] == 1772600767891
    assert 1 <= doc["severity"] <= 4 and 0 <= doc["tlp"] <= 4


def test_thehive_description_escapes_markdown_from_data():
    evil = "![pixel](http://evil.example/p.png)\n# Title <img src=x onerror=alert(1)>"
    doc = to_thehive(
        make_alert(reason=evil, entity=evil, contributions=(Contribution(evil, evil, 1.0),))
    )
    description = doc["description"]
    assert not re.search(r"(?<!\\)[<>\[\]!]", description), description  # all escaped
    assert "\n#" not in description and "](" not in description
    assert markdown_escape("a_b") == "a\\_b"


def test_thehive_severity_mapping():
    assert [to_thehive(make_alert(severity=s))["severity"] for s in SEVERITIES] == [1, 2, 3, 4]
    with pytest.raises(DeliveryError):
        to_thehive(make_alert(), tlp=9)


# --------------------------------------------------------------------------- all formats


@pytest.mark.parametrize("fmt", FORMATS)
def test_hostile_fields_stay_bounded_in_every_format(fmt):
    raw = render(hostile_alert(), fmt)
    assert len(raw) < 200_000, len(raw)
    if fmt in {"cef", "syslog"}:
        assert b"\n" not in raw and b"\r" not in raw
    else:
        doc = orjson.loads(raw)
        assert isinstance(doc, dict)
    assert TRUNCATION_MARKER.encode() in raw


def test_json_formats_are_plain_json_data():
    for fn in (to_ecs, to_ocsf, to_stix_bundle, to_thehive, to_webhook):
        doc = fn(make_alert())
        assert orjson.loads(orjson.dumps(doc)) == doc
