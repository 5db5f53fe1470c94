"""What a reader hands back: frames, and the count of every record it saw.

Every data record a reader sees ends up in exactly one of three counts:

* **accepted** – parsed and present in the frame;
* **quarantined** – malformed (wrong field count, unparseable value, undecodable bytes,
  over-long line), kept with its reason in :attr:`IngestStats.quarantine`;
* **rejected** – refused on purpose by policy (for example a CICFlowMeter header line
  repeated mid-file), counted by reason in :attr:`IngestStats.rejected_reasons`.

so that ``accepted + quarantined + rejected`` is the number of records in the file.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

#: How many quarantined records an :class:`IngestStats` keeps (the counts keep counting).
MAX_QUARANTINE_KEPT = 1000
#: How many characters of a bad record are kept for display.
RAW_PREVIEW_CHARS = 200


def printable_preview(raw: str | bytes) -> str:
    """The first characters of a record, with control characters escaped (safe to print)."""
    if isinstance(raw, bytes | bytearray):
        raw = bytes(raw[: RAW_PREVIEW_CHARS * 4]).decode("utf-8", errors="replace")
    text = raw[:RAW_PREVIEW_CHARS]
    if text.isprintable():
        return text
    return "".join(ch if ch.isprintable() else f"\\x{ord(ch):02x}" for ch in text)[
        :RAW_PREVIEW_CHARS
    ]


@dataclass(frozen=True)
class QuarantinedRecord:
    """One malformed record: where it was, why it was set aside, and what it looked like.

    ``line`` is the 1-based physical line of a text file (or the 1-based record index of a
    Parquet file); ``raw`` is at most the first 200 characters, with control characters
    escaped so that it is safe to print.
    """

    line: int
    reason: str
    raw: str


@dataclass
class IngestStats:
    """Counts of accepted, quarantined and rejected records, and bytes read (decompressed)."""

    accepted: int = 0
    quarantined: int = 0
    rejected: int = 0
    bytes_read: int = 0
    quarantine: list[QuarantinedRecord] = field(default_factory=list)
    rejected_reasons: dict[str, int] = field(default_factory=dict)

    @property
    def records(self) -> int:
        """Records seen: ``accepted + quarantined + rejected``."""
        return self.accepted + self.quarantined + self.rejected

    def add_quarantined(self, line: int, reason: str, raw: str | bytes) -> None:
        """Count one malformed record and keep it if fewer than 1000 are kept."""
        self.quarantined += 1
        if len(self.quarantine) < MAX_QUARANTINE_KEPT:
            self.quarantine.append(QuarantinedRecord(line, reason, printable_preview(raw)))

    def add_rejected(self, reason: str, count: int = 1) -> None:
        """Count ``count`` records refused on purpose for ``reason``."""
        if count:
            self.rejected += count
            self.rejected_reasons[reason] = self.rejected_reasons.get(reason, 0) + count

    def merge(self, other: IngestStats) -> None:
        """Add ``other``'s counts to these (quarantined records up to the 1000 kept)."""
        self.accepted += other.accepted
        self.quarantined += other.quarantined
        self.rejected += other.rejected
        self.bytes_read += other.bytes_read
        room = MAX_QUARANTINE_KEPT - len(self.quarantine)
        if room > 0:
            self.quarantine.extend(other.quarantine[:room])
        for reason, count in other.rejected_reasons.items():
            self.rejected_reasons[reason] = self.rejected_reasons.get(reason, 0) + count

    def to_dict(self) -> dict:
        """A JSON-ready summary (for manifests and reports)."""
        return {
            "accepted": self.accepted,
            "quarantined": self.quarantined,
            "rejected": self.rejected,
            "bytes_read": self.bytes_read,
            "quarantine": [
                {"line": q.line, "reason": q.reason, "raw": q.raw} for q in self.quarantine
            ],
            "rejected_reasons": dict(self.rejected_reasons),
        }


@dataclass
class IngestChunk:
    """A schema-valid frame of at most ``chunk_rows`` flows and the counts behind it."""

    frame: pd.DataFrame
    stats: IngestStats


@dataclass
class IngestResult:
    """A whole file read: the frame, its counts, and what read it (for lineage)."""

    frame: pd.DataFrame
    stats: IngestStats
    format: str
    reader: str
    reader_version: str
    source: Path


__all__ = ["IngestChunk", "IngestResult", "IngestStats", "QuarantinedRecord", "printable_preview"]
