"""The canonical network-flow record.

Every flow reader (NSL-KDD, UNSW-NB15, CICFlowMeter, Zeek conn, generic tables) maps
its input to these names. Fields a format lacks are simply absent; dataset-specific
features (NSL-KDD's ``serror_rate``, CICFlowMeter's ``fwd_iat_mean``) are kept as extra
columns in snake_case.
"""

from __future__ import annotations

from seclearn.schema._base import Field, RecordSchema

FLOW_SCHEMA = RecordSchema(
    name="flow",
    version="1",
    fields=(
        Field("ts", "float", "flow start time", unit="epoch seconds (UTC)"),
        Field("src_ip", "str", "originator address"),
        Field("src_port", "int", "originator port"),
        Field("dst_ip", "str", "responder address"),
        Field("dst_port", "int", "responder port"),
        Field("proto", "str", "transport protocol, lower case (tcp, udp, icmp, ...)"),
        Field("service", "str", "application protocol, lower case; missing when unknown"),
        Field("duration_s", "float", "flow duration", unit="seconds"),
        Field("src_bytes", "float", "payload bytes from originator", unit="bytes"),
        Field("dst_bytes", "float", "payload bytes from responder", unit="bytes"),
        Field("src_pkts", "float", "packets from originator", unit="packets"),
        Field("dst_pkts", "float", "packets from responder", unit="packets"),
        Field(
            "conn_state", "str", "connection state or TCP flag summary (Zeek conn_state, KDD flag)"
        ),
        Field("label", "label", "1 = malicious, 0 = benign, missing = unlabeled"),
        Field("attack_type", "str", "attack family or name; 'benign' for benign records"),
    ),
    entity_fields=("src_ip", "dst_ip"),
)

#: Columns whose name starts with this prefix are metadata (row ids, NSL-KDD's difficulty,
#: attack categories): kept for reports and splits, never used as features.
META_PREFIX = "meta_"
#: Fields that describe the truth, never features.
LABEL_FIELDS = ("label", "attack_type")
#: Fields that identify entities or time; kept for splits, dedup and alerts, never features.
IDENTITY_FIELDS = ("ts", "src_ip", "dst_ip", "src_port", "uid", "flow_id", "record_id")

__all__ = ["FLOW_SCHEMA", "IDENTITY_FIELDS", "LABEL_FIELDS", "META_PREFIX"]
