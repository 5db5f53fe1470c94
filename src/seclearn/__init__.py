"""seclearn: machine learning for security telemetry, from ingest to retraining."""

__version__ = "0.1.0"

__all__ = ["__version__"]
