"""reportd: a self-hosted, multi-tenant, asynchronous report service.

The SDK and the error classes are importable from here (``from reportd import Client``),
but loaded on first use: ``import reportd`` must stay light for the CLI, the worker and
the server, which do not need httpx.
"""

from __future__ import annotations

from importlib import import_module
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from reportd.client import AsyncClient, ChecksumMismatch, Client
    from reportd.domain.errors import (
        AlreadyExists,
        ArtifactNotFound,
        AttemptsExhausted,
        AuthenticationFailed,
        Conflict,
        DatabaseUnavailable,
        DeliveryFailed,
        DestinationNotFound,
        FeatureNotEnabled,
        FilterSyntaxError,
        Forbidden,
        FormatInapplicable,
        IdempotencyKeyReused,
        InvalidEncoding,
        InvalidSignature,
        InvalidStateTransition,
        InvalidUrl,
        KeyNotFound,
        LinkExpired,
        MalformedSubjectKey,
        MethodNotAllowed,
        MissingMandatoryFields,
        NoSubjectReport,
        NotFound,
        NumberOutOfRange,
        OAuthError,
        PayloadTooDeep,
        PayloadTooLarge,
        RangeNotSatisfiable,
        RateLimited,
        ReportCanceled,
        ReportdError,
        ReportExpired,
        ReportFailure,
        ReportNotFound,
        ReportNotReady,
        ReportTimedOut,
        RouteNotFound,
        ScheduleNotFound,
        SourceError,
        SourceNotFound,
        StorageNotFound,
        StorageUnavailable,
        SubjectNotFound,
        TemplateNotFound,
        TenantNotFound,
        Unavailable,
        UrlNotAllowed,
        ValidationError,
    )

__version__ = "0.1.0"

_CLIENT_NAMES = ("AsyncClient", "ChecksumMismatch", "Client")
_ERROR_NAMES = (
    "AlreadyExists",
    "ArtifactNotFound",
    "AttemptsExhausted",
    "AuthenticationFailed",
    "Conflict",
    "DatabaseUnavailable",
    "DeliveryFailed",
    "DestinationNotFound",
    "FeatureNotEnabled",
    "FilterSyntaxError",
    "Forbidden",
    "FormatInapplicable",
    "IdempotencyKeyReused",
    "InvalidEncoding",
    "InvalidSignature",
    "InvalidStateTransition",
    "InvalidUrl",
    "KeyNotFound",
    "LinkExpired",
    "MalformedSubjectKey",
    "MethodNotAllowed",
    "MissingMandatoryFields",
    "NoSubjectReport",
    "NotFound",
    "NumberOutOfRange",
    "OAuthError",
    "PayloadTooDeep",
    "PayloadTooLarge",
    "RangeNotSatisfiable",
    "RateLimited",
    "ReportCanceled",
    "ReportExpired",
    "ReportFailure",
    "ReportNotFound",
    "ReportNotReady",
    "RouteNotFound",
    "ReportTimedOut",
    "ReportdError",
    "ScheduleNotFound",
    "SourceError",
    "SourceNotFound",
    "StorageNotFound",
    "StorageUnavailable",
    "SubjectNotFound",
    "TemplateNotFound",
    "TenantNotFound",
    "Unavailable",
    "UrlNotAllowed",
    "ValidationError",
)
_LAZY = {
    **dict.fromkeys(_CLIENT_NAMES, "reportd.client"),
    **dict.fromkeys(_ERROR_NAMES, "reportd.domain.errors"),
}

__all__ = [
    "AlreadyExists",
    "ArtifactNotFound",
    "AsyncClient",
    "AttemptsExhausted",
    "AuthenticationFailed",
    "ChecksumMismatch",
    "Client",
    "Conflict",
    "DatabaseUnavailable",
    "DeliveryFailed",
    "DestinationNotFound",
    "FeatureNotEnabled",
    "FilterSyntaxError",
    "Forbidden",
    "FormatInapplicable",
    "IdempotencyKeyReused",
    "InvalidEncoding",
    "InvalidSignature",
    "InvalidStateTransition",
    "InvalidUrl",
    "KeyNotFound",
    "LinkExpired",
    "MalformedSubjectKey",
    "MethodNotAllowed",
    "MissingMandatoryFields",
    "NoSubjectReport",
    "NotFound",
    "NumberOutOfRange",
    "OAuthError",
    "PayloadTooDeep",
    "PayloadTooLarge",
    "RangeNotSatisfiable",
    "RateLimited",
    "ReportCanceled",
    "ReportExpired",
    "ReportFailure",
    "ReportNotFound",
    "ReportNotReady",
    "ReportTimedOut",
    "ReportdError",
    "RouteNotFound",
    "ScheduleNotFound",
    "SourceError",
    "SourceNotFound",
    "StorageNotFound",
    "StorageUnavailable",
    "SubjectNotFound",
    "TemplateNotFound",
    "TenantNotFound",
    "Unavailable",
    "UrlNotAllowed",
    "ValidationError",
    "__version__",
]


def __getattr__(name: str) -> object:
    """Import the SDK and the errors only when first asked for (PEP 562)."""
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'reportd' has no attribute {name!r}")
    value = getattr(import_module(module), name)
    globals()[name] = value  # later lookups skip this function
    return value


def __dir__() -> list[str]:
    """The public API, not the helpers and submodules that happen to be in the namespace."""
    return sorted(__all__)
