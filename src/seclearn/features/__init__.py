"""Per-domain featurizers: scikit-learn transformers with a name, a version and a fingerprint."""

from seclearn.features._derived import DERIVED_NUMERIC, NAMED_PORTS, PORT_CLASS_COLUMN, port_class
from seclearn.features.constraints import InstanceOf, Interval, NoneOK, Options, validate_params
from seclearn.features.context import (
    CONTEXT_COLUMNS,
    CONTEXT_PREFIX,
    DEFAULT_WINDOWS,
    FAILED_STATES,
    ContextHistory,
    ContextWindows,
    context_features,
    has_context_inputs,
)
from seclearn.features.flow import (
    CATEGORICAL_FIELDS,
    FEATURIZERS,
    MISSING,
    OTHER,
    FlowFeaturizer,
    excluded_column,
)
from seclearn.features.profile import FeatureProfile, ReferenceProfile, build_profile
from seclearn.features.spec import FeatureSpec

__all__ = [
    "CATEGORICAL_FIELDS",
    "CONTEXT_COLUMNS",
    "CONTEXT_PREFIX",
    "ContextHistory",
    "ContextWindows",
    "DEFAULT_WINDOWS",
    "DERIVED_NUMERIC",
    "FAILED_STATES",
    "FEATURIZERS",
    "FeatureProfile",
    "FeatureSpec",
    "FlowFeaturizer",
    "InstanceOf",
    "Interval",
    "MISSING",
    "NAMED_PORTS",
    "NoneOK",
    "OTHER",
    "Options",
    "PORT_CLASS_COLUMN",
    "ReferenceProfile",
    "build_profile",
    "context_features",
    "excluded_column",
    "has_context_inputs",
    "port_class",
    "validate_params",
]
