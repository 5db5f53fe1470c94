"""Readers from bytes to schema-valid flow frames, under hard limits.

One module per input format (:mod:`~seclearn.ingest.nsl_kdd`, :mod:`~seclearn.ingest.unsw`,
:mod:`~seclearn.ingest.cicflowmeter`, :mod:`~seclearn.ingest.zeek`,
:mod:`~seclearn.ingest.zeek_json`, :mod:`~seclearn.ingest.table`); every record a reader
sees is counted as accepted, quarantined (malformed, kept with its reason) or rejected
(refused by policy), and ``accepted + quarantined + rejected`` is the number of records
in the file. Plain and ``.gz`` files are read in bounded memory under
:class:`~seclearn.config.Limits`; a file that cannot be read at all raises an
:class:`~seclearn.errors.IngestError` subclass, and nothing else escapes. An empty file
(0 bytes, or only blank lines) raises ``IngestError("... is empty")``; a file with a header
and no records gives an empty frame with zero counts.

>>> from seclearn.ingest import FORMATS
>>> "zeek-tsv" in FORMATS
True
"""

from seclearn.ingest._records import IngestChunk, IngestResult, IngestStats, QuarantinedRecord
from seclearn.ingest.detect import FORMATS, detect_format
from seclearn.ingest.flows import iter_flows, read_flows, reader_info
from seclearn.ingest.mapping import LabelMapping, TableMapping, load_mapping

__all__ = [
    "FORMATS",
    "IngestChunk",
    "IngestResult",
    "IngestStats",
    "LabelMapping",
    "QuarantinedRecord",
    "TableMapping",
    "detect_format",
    "iter_flows",
    "load_mapping",
    "read_flows",
    "reader_info",
]
