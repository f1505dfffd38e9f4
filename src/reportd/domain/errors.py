"""Every error reportd raises, with a stable code and an HTTP status.

The tree::

    ReportdError
    ├── ValidationError (400 validation_error)
    │   ├── FilterSyntaxError (400 invalid_filter)
    │   ├── FormatInapplicable (400 format_inapplicable)
    │   ├── MissingMandatoryFields (400 missing_mandatory_fields)
    │   ├── TemplateInvalid (400 template_invalid): a tenant template, with every position
    │   ├── QueryNotAllowed (400 query_not_allowed): tenant SQL reportd cannot contain
    │   ├── InvalidUrl (400 invalid_url): not an http(s) URL reportd can send to
    │   ├── UrlNotAllowed (400 url_not_allowed): the outbound policy refuses its address
    │   ├── IdempotencyKeyReused (422 idempotency_key_reused)
    │   └── bounds (``domain/bounds.py``): PayloadTooLarge (413 payload_too_large),
    │       PayloadTooDeep (400 payload_too_deep), NumberOutOfRange (422 number_out_of_range),
    │       InvalidEncoding (400 invalid_encoding)
    ├── AuthenticationFailed (401 authentication_failed)
    ├── OAuthError (400/401 oauth_error): a refused token request, RFC 6749's ``error``
    ├── Forbidden (403 forbidden)
    │   ├── FeatureNotEnabled (403 feature_not_enabled)
    │   ├── SourceNotGranted (403 source_not_granted)
    │   ├── TemplateReadOnly (403 template_read_only): an operator's template file
    │   ├── LinkExpired (403 link_expired)
    │   └── InvalidSignature (403 invalid_signature)
    ├── NotFound (404 not_found)
    │   ├── RouteNotFound, ReportNotFound, TemplateNotFound, ArtifactNotFound, TenantNotFound,
    │   │   KeyNotFound, ScheduleNotFound, StorageNotFound, SourceNotFound, DestinationNotFound
    │   └── per-subject reports: MalformedSubjectKey (malformed_subject_key),
    │       SubjectNotFound (subject_not_found), NoSubjectReport (subject_report_not_found)
    ├── MethodNotAllowed (405 method_not_allowed)
    ├── Conflict (409 conflict)
    │   ├── ReportNotReady (409 report_not_ready)
    │   ├── InvalidStateTransition (409 invalid_state)
    │   ├── AlreadyExists (409 already_exists)
    │   └── VersionConflict (409 version_conflict)
    ├── ReportExpired (410 report_expired)
    ├── RangeNotSatisfiable (416 range_not_satisfiable)
    ├── RateLimited (429 rate_limited)
    ├── Unavailable (503 unavailable)
    │   ├── DatabaseUnavailable (503 unavailable)
    │   └── StorageUnavailable (503 storage_unavailable)
    ├── DeliveryFailed (502 delivery_failed): a destination refused or did not answer
    └── ReportFailure (500 report_failed): why a report run ended badly
        ├── SourceError (source_error)
        ├── ReportTimedOut (timeout)
        ├── ReportCanceled (canceled)
        └── AttemptsExhausted (attempts_exhausted)

The core raises these only; the API turns them into bodies in one place, each dialect
into its own documented body, and the SDK maps bodies back to the same classes.
The class docstring is the default message.

One file on purpose, though over ~400 lines (issue 10): it is one hierarchy read top to bottom
against the tree above, ``error_class_for`` finds a wire code's class by walking it (first defined
wins, so the order is the contract), and the SDK imports the tree alone.
"""

from __future__ import annotations

from typing import Any, ClassVar


class ReportdError(Exception):
    """Something went wrong in reportd."""

    code: ClassVar[str] = "internal_error"
    status: ClassVar[int] = 500

    def __init__(self, message: str | None = None, *, details: Any = None) -> None:
        self.message = message or (self.__doc__ or self.code).strip().splitlines()[0]
        self.details = details
        super().__init__(self.message)

    def to_dict(self) -> dict[str, Any]:
        body: dict[str, Any] = {"code": self.code, "message": self.message}
        if self.details is not None:
            body["details"] = self.details
        return body


class ValidationError(ReportdError):
    """The request is not valid."""

    code = "validation_error"
    status = 400


class FilterSyntaxError(ValidationError):
    """The filter or order expression is not valid."""

    code = "invalid_filter"

    def __init__(self, message: str, *, position: int, expression: str = "") -> None:
        self.position = position
        self.expression = expression
        super().__init__(
            f"{message} at position {position}",
            details={"position": position, "expression": expression},
        )


class FormatInapplicable(ValidationError):
    """The requested format is not offered for this report."""

    code = "format_inapplicable"


class MissingMandatoryFields(ValidationError):
    """A mandatory field is missing."""

    code = "missing_mandatory_fields"


class InvalidUrl(ValidationError):
    """The URL is not an absolute http or https URL reportd can send to."""

    code = "invalid_url"


class UrlNotAllowed(ValidationError):
    """The URL's host is an address reportd does not send to (refused by policy)."""

    code = "url_not_allowed"


class IdempotencyKeyReused(ValidationError):
    """This Idempotency-Key was already used with a different request."""

    code = "idempotency_key_reused"
    status = 422


class PayloadTooLarge(ValidationError):
    """The request is larger than reportd accepts."""

    code = "payload_too_large"
    status = 413


class PayloadTooDeep(ValidationError):
    """The request is nested deeper than reportd accepts."""

    code = "payload_too_deep"


class NumberOutOfRange(ValidationError):
    """A number in the request is out of range."""

    code = "number_out_of_range"
    status = 422


class InvalidEncoding(ValidationError):
    """The request is not valid UTF-8 text."""

    code = "invalid_encoding"


class TemplateInvalid(ValidationError):
    """The template is not valid."""

    code = "template_invalid"

    def __init__(self, errors: list[dict[str, str]]) -> None:
        first = errors[0] if errors else {"path": "", "message": "invalid"}
        where = f"{first['path']}: " if first.get("path") else ""
        super().__init__(f"{where}{first['message']}", details={"errors": errors})
        self.errors = errors


class QueryNotAllowed(ValidationError):
    """The template query does something a tenant's query may not do."""

    code = "query_not_allowed"

    def __init__(self, message: str, *, reason: str) -> None:
        super().__init__(message, details={"path": "query", "reason": reason})
        self.reason = reason


class AuthenticationFailed(ReportdError):
    """Missing or invalid API key."""

    code = "authentication_failed"
    status = 401


class OAuthError(ReportdError):
    """The OAuth 2.0 token request was refused (RFC 6749 section 5.2).

    ``error`` is the RFC's code (``invalid_request``, ``invalid_client``, ``invalid_grant``,
    ``invalid_scope``, ``unauthorized_client``, ``unsupported_grant_type``); the token
    endpoints render it as ``{"error", "error_description"}``, the other doors by ``code``.
    """

    code = "oauth_error"
    status = 400

    def __init__(self, error: str, message: str, *, status: int = 400) -> None:
        super().__init__(message, details={"error": error})
        self.error = error
        self.status = status  # type: ignore[misc]  # invalid_client is 401, the others 400


class Forbidden(ReportdError):
    """The API key lacks the scope this action needs."""

    code = "forbidden"
    status = 403


class FeatureNotEnabled(Forbidden):
    """This feature is not enabled for the tenant."""

    code = "feature_not_enabled"


class SourceNotGranted(Forbidden):
    """The operator has not granted this tenant that source."""

    code = "source_not_granted"


class TemplateReadOnly(Forbidden):
    """The template is the operator's (a file): it cannot be changed through the API."""

    code = "template_read_only"


class LinkExpired(Forbidden):
    """The download link has expired."""

    code = "link_expired"


class InvalidSignature(Forbidden):
    """The download link's signature is not valid."""

    code = "invalid_signature"


class NotFound(ReportdError):
    """Not found."""

    code = "not_found"
    status = 404


class RouteNotFound(NotFound):
    """No such route."""

    code = "not_found"


class ReportNotFound(NotFound):
    """Report not found."""

    code = "report_not_found"


class TemplateNotFound(NotFound):
    """Template not found."""

    code = "template_not_found"


class ArtifactNotFound(NotFound):
    """The report has no file in that format."""

    code = "artifact_not_found"


class TenantNotFound(NotFound):
    """Tenant not found."""

    code = "tenant_not_found"


class KeyNotFound(NotFound):
    """API key not found."""

    code = "key_not_found"


class ScheduleNotFound(NotFound):
    """Schedule not found."""

    code = "schedule_not_found"


class StorageNotFound(NotFound):
    """No storage is configured under that id."""

    code = "storage_not_found"


class SourceNotFound(NotFound):
    """No source is configured under that name."""

    code = "source_not_found"


class DestinationNotFound(NotFound):
    """Destination not found."""

    code = "destination_not_found"


class MalformedSubjectKey(NotFound):
    """The key is not an MD5, SHA1 or SHA256 hash."""

    code = "malformed_subject_key"


class SubjectNotFound(NotFound):
    """No row of the template has this key."""

    code = "subject_not_found"


class NoSubjectReport(NotFound):
    """No report about this subject is ready."""

    code = "subject_report_not_found"


class MethodNotAllowed(ReportdError):
    """Method not allowed on this route."""

    code = "method_not_allowed"
    status = 405


class Conflict(ReportdError):
    """The request conflicts with the object's current state."""

    code = "conflict"
    status = 409


class ReportNotReady(Conflict):
    """The report has not finished yet."""

    code = "report_not_ready"


class InvalidStateTransition(Conflict):
    """The report cannot go to that state from its current one."""

    code = "invalid_state"


class AlreadyExists(Conflict):
    """An object with that id already exists."""

    code = "already_exists"


class VersionConflict(Conflict):
    """The template changed since the version the edit was based on."""

    code = "version_conflict"


class ReportExpired(ReportdError):
    """The report has expired and its files were deleted."""

    code = "report_expired"
    status = 410


class RangeNotSatisfiable(ReportdError):
    """The requested byte range is outside the file."""

    code = "range_not_satisfiable"
    status = 416


class RateLimited(ReportdError):
    """Too many requests; retry later."""

    code = "rate_limited"
    status = 429

    def __init__(self, message: str | None = None, *, retry_after: int = 1) -> None:
        self.retry_after = retry_after
        super().__init__(message, details={"retry_after": retry_after})


class Unavailable(ReportdError):
    """The service is temporarily unavailable."""

    code = "unavailable"
    status = 503


class DatabaseUnavailable(Unavailable):
    """The metadata database is unavailable; retry shortly."""


class StorageUnavailable(Unavailable):
    """The artifact storage is unavailable."""

    code = "storage_unavailable"


class DeliveryFailed(ReportdError):
    """The destination did not take the file.

    ``message`` is the detail, for the operator's log only; ``shown`` is what the tenant's
    ``last_error`` says (``reportd.domain.destinations.SHOWN_REASONS``; None: ``"failed"``).
    The two differ because a tenant names the host: told what answered there, the delivery
    log would be a port scanner of the operator's network.
    """

    code = "delivery_failed"
    status = 502

    def __init__(
        self, message: str | None = None, *, shown: str | None = None, details: Any = None
    ) -> None:
        super().__init__(message, details=details)
        self.shown = shown


class ReportFailure(ReportdError):
    """The report could not be generated."""

    code = "report_failed"
    status = 500


class SourceError(ReportFailure):
    """The data source failed to run the report's query."""

    code = "source_error"


class ReportTimedOut(ReportFailure):
    """The report ran longer than its template's timeout."""

    code = "timeout"


class ReportCanceled(ReportFailure):
    """The report was canceled."""

    code = "canceled"


class AttemptsExhausted(ReportFailure):
    """The report's worker died too many times; it will not be retried."""

    code = "attempts_exhausted"


def all_error_classes() -> list[type[ReportdError]]:
    """Every concrete error class, for mapping wire codes back to classes (the SDK)."""
    seen: list[type[ReportdError]] = []
    stack: list[type[ReportdError]] = [ReportdError]
    while stack:
        cls = stack.pop()
        seen.append(cls)
        stack.extend(cls.__subclasses__())
    return seen


def error_class_for(code: str) -> type[ReportdError]:
    """The most specific class with that wire code (first defined wins)."""
    for cls in all_error_classes():
        if cls.code == code:
            return cls
    return ReportdError
