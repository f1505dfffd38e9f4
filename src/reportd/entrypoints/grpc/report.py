"""``spaceone.api.report.v1.Report`` over gRPC: parse, call ``spaceone_wire``, answer.

A call goes: the ``token`` metadata -> the caller (API keys, the same cache and rate limits as
HTTP); the request message -> a dict (``MessageToDict``, proto field names) -> the wire model
REST validates too; one function of ``reportd.entrypoints.spaceone_wire`` (one use case); its
ReportInfo-shaped dict -> the response message (``ParseDict``). An error becomes the status and
``"ERROR_...: message"`` details that ``spaceone.core.pygrpc.api`` aborts with, which
``spaceone.core.pygrpc.client`` splits back into its ``ERROR_`` classes.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from typing import Any, Final, TypeVar

import grpc
import pydantic
from google.protobuf import json_format
from google.protobuf.message import DecodeError

from reportd.app.ratelimits import Category
from reportd.app.tenancy import require_own_tenant
from reportd.bootstrap import App
from reportd.domain import bounds
from reportd.domain.errors import PayloadTooDeep, RateLimited, ReportdError, ValidationError
from reportd.domain.models import Principal
from reportd.entrypoints import spaceone_wire as wire
from reportd.entrypoints.grpc.descriptors import message_class, report_service

__all__ = ["ReportDoor"]

log = logging.getLogger("reportd.entrypoints.grpc")

Params = dict[str, Any]
M = TypeVar("M", bound=pydantic.BaseModel)
Call = Callable[[Principal, Params], Params]
CREATES: Final = frozenset({"create"})  # counted as writes by the rate limits
MAX_EXACT_FLOAT: Final = 2**53  # integral doubles below this are the integers a client sent


class ReportDoor:
    """The Report service's handlers over the composed use cases (``reportd.bootstrap.App``).

    ``base_url`` roots the download links of a local storage (the HTTP server's address: gRPC
    has no Host header to take it from). A create wakes the embedded workers by itself (the
    ``work_queued`` event of ``reportd.app.events``).
    """

    def __init__(self, core: App, *, base_url: str) -> None:
        self.core = core
        self.base_url = base_url
        self.calls: dict[str, Call] = {
            "get": self.get,
            "get_download_url": self.get_download_url,
            "list": self.list_reports,
            "create": self.create,
        }

    # -- the four methods ------------------------------------------------------------------

    def create(self, caller: Principal, params: Params) -> Params:
        report = wire.create(self.core, caller, _model(wire.CreateReportRequest, params))
        return wire.report_info(report)

    def get(self, caller: Principal, params: Params) -> Params:
        asked = _model(wire.GetReportRequest, params)
        return wire.get(self.core, caller, asked.domain_id, asked.report_id, asked.only)

    def get_download_url(self, caller: Principal, params: Params) -> Params:
        asked = _model(wire.GetDownloadURLRequest, params)
        return wire.get_download_url(
            self.core, caller, asked.domain_id, asked.report_id, self.base_url
        )

    def list_reports(self, caller: Principal, params: Params) -> Params:
        return wire.list_reports(self.core, caller, _model(wire.ReportQuery, params))

    # -- the gRPC side -----------------------------------------------------------------------

    def handler(self) -> grpc.GenericRpcHandler:
        """One generic handler serving every method the service descriptor lists."""
        descriptor = report_service()
        missing = [m.name for m in descriptor.methods if m.name not in self.calls]
        if missing:  # the door is built from the real descriptor: every method must be served
            raise RuntimeError(f"{descriptor.full_name} methods without a handler: {missing}")
        handlers = {
            method.name: grpc.unary_unary_rpc_method_handler(
                self._unary(method.name, message_class(method.output_type.full_name)),
                request_deserializer=_decoder(message_class(method.input_type.full_name)),
                response_serializer=lambda message: message.SerializeToString(),
            )
            for method in descriptor.methods
        }
        return grpc.method_handlers_generic_handler(descriptor.full_name, handlers)

    def _unary(self, name: str, response: Any) -> Callable[[Any, grpc.ServicerContext], Any]:
        call = self.calls[name]

        def handle(request: Any, context: grpc.ServicerContext) -> Any:
            try:
                caller, metadata = self._caller(context, name)
                if isinstance(request, Undecodable):
                    raise request.error
                params = _params(request, metadata)
                return _message(call(caller, params), response)
            except ReportdError as exc:
                fault = wire.fault_of(exc)
                if isinstance(exc, RateLimited):
                    context.set_trailing_metadata((("retry-after", str(exc.retry_after)),))
            except Exception:  # a bug: logged, answered as SpaceONE's ERROR_UNKNOWN
                log.exception("gRPC call failed", extra={"action": "crash", "method": name})
                fault = wire.SpaceoneFault("INTERNAL", "ERROR_UNKNOWN", "Internal server error.")
            context.abort(grpc.StatusCode[fault.status], f"{fault.code}: {fault.message}")
            return None  # not reached: abort raises

        return handle

    def _caller(self, context: grpc.ServicerContext, method: str) -> tuple[Principal, Params]:
        """The API key in ``token``; ``x_domain_id``, when sent, must be the key's tenant."""
        metadata = {key.lower(): value for key, value in context.invocation_metadata()}
        secret = str(metadata.get("token", "")).strip() or None
        # Read on every call (these run in grpcio's threads): a revoked key fails at once.
        caller = self.core.tenants.authenticate(secret)
        limiter = self.core.rate_limiter
        if limiter is not None:
            category = Category.CREATES if method in CREATES else Category.READS
            decision = limiter.check(caller.tenant_id, caller.key_id, category, time.time())
            if decision is not None and not decision.allowed:
                raise decision.error()
        domain = str(metadata.get("x_domain_id", "")).strip()
        if domain:
            require_own_tenant(caller, domain)
        return caller, metadata


class Undecodable:
    """A request protobuf could not parse (nested past its limit of 100, or not protobuf).

    grpcio answers a raising deserializer with INTERNAL "Exception deserializing request!";
    the handler turns this stand-in into the door's INVALID_ARGUMENT instead, after the
    caller is authenticated like any other call.
    """

    def __init__(self, reason: str) -> None:
        self.error = PayloadTooDeep(
            f"the request cannot be decoded: {reason}",
            details={"limit": "depth", "max": bounds.MAX_DEPTH},
        )


def _decoder(message: Any) -> Callable[[bytes], Any]:
    def decode(data: bytes) -> Any:
        try:
            return message.FromString(data)
        except DecodeError as exc:
            return Undecodable(str(exc)[:200])

    return decode


def _params(request: Any, metadata: Params) -> Params:
    """The request as the dict REST would have parsed; ``domain_id`` from ``x_domain_id`` if unset.

    proto3 cannot tell an unset field from its default, so ``""``, ``0`` and ``CREATED`` (the
    State enum's 0) are left out, as ``MessageToDict`` leaves them out.
    """
    params: Params = _integral(json_format.MessageToDict(request, preserving_proto_field_name=True))
    domain = str(metadata.get("x_domain_id", "")).strip()
    if domain and "domain_id" not in params:
        params["domain_id"] = domain
    return params


def _integral(value: Any) -> Any:
    """Struct and Value numbers are doubles: ``5`` arrives as ``5.0``; give back the integer."""
    if isinstance(value, dict):
        return {k: _integral(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_integral(v) for v in value]
    if isinstance(value, float) and value.is_integer() and abs(value) < MAX_EXACT_FLOAT:
        return int(value)
    return value


def _model(model: type[M], params: Params) -> M:
    """``params`` as ``model``; a refusal in the shape REST's request validation gives."""
    try:
        return model.model_validate(params)
    except pydantic.ValidationError as exc:
        details = [{"loc": list(e["loc"]), "message": e["msg"]} for e in exc.errors()]
        first = details[0]
        where = ".".join(str(p) for p in first["loc"])
        raise ValidationError(f"{where}: {first['message']}", details=details) from exc


def _message(result: Params, response: Any) -> Any:
    """The response message of a ReportInfo-shaped dict (``only`` may have left fields out)."""
    if "results" in result:
        result = {**result, "results": [_set_times(info) for info in result["results"]]}
    return json_format.ParseDict(_set_times(result), response())


def _set_times(info: Params) -> Params:
    """An unset time is ``""`` in the JSON form; a Timestamp message is left unset instead."""
    return {k: v for k, v in info.items() if not (k == "created_at" and v == "")}
