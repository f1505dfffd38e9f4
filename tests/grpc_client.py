"""A plain grpcio client of reportd's gRPC door, knowing nothing but what reflection tells it.

``Reflected.of(channel)`` asks the server (grpc.reflection.v1alpha) for the file that defines
``spaceone.api.report.v1.Report`` and every file it depends on, builds a descriptor pool of
its own from them and makes the message classes from that pool: the way a generic client
(grpcurl, Postman) works, so the tests exercise reflection and never reportd's own descriptors.
``ReportClient`` calls the four methods with dicts and answers dicts (every field shown).
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import grpc
from google.protobuf import descriptor_pb2, descriptor_pool, json_format, message_factory
from grpc_reflection.v1alpha import reflection_pb2, reflection_pb2_grpc

SERVICE = "spaceone.api.report.v1.Report"


def reflection_request(channel: grpc.Channel, **request: Any) -> Any:
    """One ServerReflectionRequest (``list_services=""``, ``file_by_filename=...``...)."""
    stub = reflection_pb2_grpc.ServerReflectionStub(channel)
    asked: Iterator[Any] = iter([reflection_pb2.ServerReflectionRequest(**request)])
    [response] = list(stub.ServerReflectionInfo(asked, timeout=30))
    return response


@dataclass
class Reflected:
    files: list[Any]  # FileDescriptorProtos, the service's file first
    pool: Any

    @classmethod
    def of(cls, channel: grpc.Channel, symbol: str = SERVICE) -> Reflected:
        response = reflection_request(channel, file_containing_symbol=symbol)
        raw = response.file_descriptor_response.file_descriptor_proto
        files = [descriptor_pb2.FileDescriptorProto.FromString(b) for b in raw]
        pool = descriptor_pool.DescriptorPool()
        added: set[str] = set()
        while len(added) < len(files):  # dependencies first, whatever order they came in
            for file in files:
                if file.name not in added and set(file.dependency) <= added:
                    pool.AddSerializedFile(file.SerializeToString())
                    added.add(file.name)
        return cls(files=files, pool=pool)

    def message(self, full_name: str) -> Any:
        return message_factory.GetMessageClass(self.pool.FindMessageTypeByName(full_name))


class ReportClient:
    """``spaceone.api.report.v1.Report`` with a ``token`` (and maybe ``x_domain_id``)."""

    def __init__(
        self,
        channel: grpc.Channel,
        reflected: Reflected,
        token: str | None,
        *,
        domain_id: str | None = None,
        x_domain_id: str | None = None,
    ) -> None:
        self.channel = channel
        self.reflected = reflected
        self.domain_id = domain_id
        metadata = [("token", token)] if token is not None else []
        if x_domain_id is not None:
            metadata.append(("x_domain_id", x_domain_id))
        self.metadata = tuple(metadata)

    def __call__(self, method: str, body: dict[str, Any] | None = None, **fields: Any) -> Any:
        """Call ``method`` with ``body`` (default: ``domain_id`` plus ``fields``); a dict back."""
        service = self.reflected.pool.FindServiceByName(SERVICE)
        found = service.methods_by_name[method]
        request_class = self.reflected.message(found.input_type.full_name)
        response_class = self.reflected.message(found.output_type.full_name)
        if body is None:
            body = {"domain_id": self.domain_id, **fields} if self.domain_id else dict(fields)
        call = self.channel.unary_unary(
            f"/{SERVICE}/{method}",
            request_serializer=lambda message: message.SerializeToString(),
            response_deserializer=response_class.FromString,
        )
        reply = call(
            json_format.ParseDict(body, request_class()), metadata=self.metadata, timeout=30
        )
        return json_format.MessageToDict(
            reply, preserving_proto_field_name=True, always_print_fields_with_no_presence=True
        )


def refusal(error: grpc.RpcError) -> tuple[grpc.StatusCode, str, str]:
    """(status, ``ERROR_...`` code, message) of a refused call, as spaceone.core splits them."""
    details = str(error.details())  # type: ignore[attr-defined]
    code, _, message = details.partition(": ")
    return error.code(), code, message  # type: ignore[attr-defined]
