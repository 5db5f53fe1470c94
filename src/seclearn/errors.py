"""The one exception tree of seclearn.

Every error that library code raises on purpose is a subclass of :class:`SeclearnError`.
Messages say what was expected, what was received, and how to fix it. The CLI turns
these into one clean line and a non-zero exit code; nothing else escapes on purpose.

::

    SeclearnError
    ├── ConfigError                 bad settings or parameters (also a ValueError)
    │   └── ParameterError          an estimator parameter outside its constraints
    ├── SchemaError                 a frame does not match a record schema
    ├── IngestError                 a file could not be read at all
    │   ├── FormatDetectionError    no reader recognises the content
    │   ├── LimitExceededError      a hard limit (size, line length, fields) was hit
    │   └── EncodingError           the bytes are not text in any accepted encoding
    ├── WorkspaceError              the workspace or a dataset in it is missing/broken
    │   └── DatasetNotFoundError
    ├── NotFittedError              a method that needs a fitted object was called early
    ├── ModelError                  a model cannot be trained, scored or restored
    │   └── FeatureMismatchError    scoring input lacks what the model was fitted on
    ├── RegistryError               the model registry cannot do what was asked
    │   ├── ModelNotFoundError
    │   └── IntegrityError          bad signature, hash mismatch, unsigned or tampered model
    ├── EvaluationError             metrics cannot be computed on the given data
    ├── StoreError                  the state database cannot do what was asked
    │   ├── AuditChainError         the hash-chained audit log does not verify
    │   ├── RecordNotFoundError     no alert or outbox item with that id (also a KeyError)
    │   └── SchemaVersionError      the database was written by a newer seclearn
    └── DeliveryError               an alert could not be formatted or handed to a sink
        └── PermanentDeliveryError  retrying cannot help (refused by the receiver)
"""

from __future__ import annotations

__all__ = [
    "AuditChainError",
    "ConfigError",
    "DatasetNotFoundError",
    "DeliveryError",
    "EncodingError",
    "EvaluationError",
    "FeatureMismatchError",
    "FormatDetectionError",
    "IngestError",
    "IntegrityError",
    "LimitExceededError",
    "ModelError",
    "ModelNotFoundError",
    "NotFittedError",
    "ParameterError",
    "PermanentDeliveryError",
    "RecordNotFoundError",
    "RegistryError",
    "SchemaError",
    "SchemaVersionError",
    "SeclearnError",
    "StoreError",
    "WorkspaceError",
]


class SeclearnError(Exception):
    """Base of every error seclearn raises on purpose."""


class ConfigError(SeclearnError, ValueError):
    """Settings or parameters are invalid."""


class ParameterError(ConfigError):
    """An estimator parameter is outside its declared constraints."""


class SchemaError(SeclearnError, ValueError):
    """A frame does not match the record schema it was declared to follow."""


class IngestError(SeclearnError):
    """A file could not be read at all (as opposed to a bad record, which is quarantined)."""


class FormatDetectionError(IngestError):
    """No reader recognises the content of a file."""


class LimitExceededError(IngestError):
    """A hard input limit was exceeded (file size, line length, field count, decompression)."""


class EncodingError(IngestError):
    """The bytes cannot be decoded as text in any accepted encoding."""


class WorkspaceError(SeclearnError):
    """The workspace, or something in it, is missing or malformed."""


class DatasetNotFoundError(WorkspaceError, KeyError):
    """No dataset with the given name exists in the workspace."""

    def __str__(self) -> str:  # KeyError would otherwise repr() the message
        return str(self.args[0]) if self.args else ""


class NotFittedError(SeclearnError, AttributeError):
    """A method that needs a fitted object was called before ``fit``."""


class ModelError(SeclearnError):
    """A model cannot be trained, scored or restored."""


class FeatureMismatchError(ModelError, ValueError):
    """The input lacks columns the model was fitted on, or has incompatible types."""


class RegistryError(SeclearnError):
    """The model registry cannot do what was asked."""


class ModelNotFoundError(RegistryError, KeyError):
    """No model (or version) with the given name exists."""

    def __str__(self) -> str:
        return str(self.args[0]) if self.args else ""


class IntegrityError(RegistryError):
    """A model artifact is unsigned, signed with another key, or was modified after signing."""


class EvaluationError(SeclearnError, ValueError):
    """Metrics cannot be computed on the given data (for example only one class present)."""


class StoreError(SeclearnError):
    """The state database (alerts, verdicts, labels, audit log, outbox) cannot do what was asked."""


class AuditChainError(StoreError):
    """The hash-chained audit log does not verify: an entry was changed, removed or reordered."""


class RecordNotFoundError(StoreError, KeyError):
    """No alert (or outbox item) with the given id exists in the state database."""

    def __str__(self) -> str:  # KeyError would otherwise repr() the message
        return str(self.args[0]) if self.args else ""


class SchemaVersionError(StoreError):
    """The state database was written by a newer seclearn than this one."""


class DeliveryError(SeclearnError):
    """An alert could not be formatted for, or handed to, an incident-response sink."""


class PermanentDeliveryError(DeliveryError):
    """Sending this payload again to this sink cannot succeed; retrying is pointless."""
