"""SpaceONE's ``spaceone.api.report.v1`` descriptors, in a descriptor pool of their own.

``spaceone_report_v1.binpb`` is a FileDescriptorSet of the vendor's own serialized descriptors,
recovered from spaceone-api 1.5.3 by ``scripts/spaceone_descriptors.py`` (run it again to make
it anew; its docstring says how and why). Message classes are made from them at run time, so
there is no generated ``_pb2`` module to keep in step with protobuf releases.

Why a private pool and not protobuf's default one: a process that also imports a current
``spaceone-api`` (whose ``spaceone/api/core/v1/query.proto`` differs from 1.5.3's) would see two
files of one name in the default pool. The pool also holds protobuf's well-known types and the
health and reflection protos, so server reflection can describe every service it serves.
"""

from __future__ import annotations

from functools import cache
from importlib import resources
from typing import Any, Final

from google.protobuf import (
    descriptor_pb2,
    descriptor_pool,
    empty_pb2,
    message_factory,
    struct_pb2,
    timestamp_pb2,
)
from grpc_health.v1 import health_pb2
from grpc_reflection.v1alpha import reflection_pb2

__all__ = ["REPORT_SERVICE", "message_class", "pool", "report_service"]

REPORT_SERVICE: Final = "spaceone.api.report.v1.Report"
DESCRIPTOR_SET: Final = "spaceone_report_v1.binpb"


def _serialized(module: Any) -> bytes:
    proto = descriptor_pb2.FileDescriptorProto()
    module.DESCRIPTOR.CopyToProto(proto)
    return bytes(proto.SerializeToString())


@cache
def pool() -> Any:
    """The pool: protobuf's own files first, then SpaceONE's in dependency order."""
    found = descriptor_pool.DescriptorPool()
    for module in (
        descriptor_pb2,
        struct_pb2,
        timestamp_pb2,
        empty_pb2,
        health_pb2,
        reflection_pb2,
    ):
        found.AddSerializedFile(_serialized(module))
    raw = resources.files(__package__).joinpath(DESCRIPTOR_SET).read_bytes()
    for file in descriptor_pb2.FileDescriptorSet.FromString(raw).file:
        found.AddSerializedFile(file.SerializeToString())
    return found


def report_service() -> Any:
    """The ServiceDescriptor of ``spaceone.api.report.v1.Report``: its methods, in order."""
    return pool().FindServiceByName(REPORT_SERVICE)


@cache
def message_class(full_name: str) -> Any:
    """The message class of ``full_name`` (``spaceone.api.report.v1.ReportInfo``, ...)."""
    return message_factory.GetMessageClass(pool().FindMessageTypeByName(full_name))
