"""The HTTP service: an app factory, bearer-token auth, hard limits, JSON errors, metrics.

:func:`create_app` builds a FastAPI app from :class:`ServiceSettings` (see
:func:`load_service_settings` for the ``SECLEARN_TOKENS`` format). Routes parse,
call one library function and render; no modelling logic lives here.
"""

from seclearn.service._app import create_app
from seclearn.service._catalog import ModelCatalog, ServedModel
from seclearn.service._guard import RateLimiter
from seclearn.service._settings import (
    ENV_MODELS,
    ENV_RATE,
    ENV_TOKENS,
    SCOPES,
    ServiceLimits,
    ServiceSettings,
    Token,
    load_service_settings,
    parse_tokens,
)

__all__ = [
    "ENV_MODELS",
    "ENV_RATE",
    "ENV_TOKENS",
    "ModelCatalog",
    "RateLimiter",
    "SCOPES",
    "ServedModel",
    "ServiceLimits",
    "ServiceSettings",
    "Token",
    "create_app",
    "load_service_settings",
    "parse_tokens",
]
