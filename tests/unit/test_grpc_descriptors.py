"""The gRPC door's descriptors are SpaceONE's: the seed document's tables, field for field.

seeds/001_5d0cf8b6500dbae1.txt lists every message of ``spaceone.api.report.v1`` with its field
numbers, names and types, and the service's four methods; the descriptor set recovered from
spaceone-api 1.5.3 (``scripts/spaceone_descriptors.py``) must say the same, and the door must
serve every method it lists.
"""

from __future__ import annotations

import subprocess
import sys

import pytest
from google.protobuf import descriptor_pb2

from reportd.config import grpc_address
from reportd.entrypoints.grpc.descriptors import REPORT_SERVICE, pool, report_service

PACKAGE = "spaceone.api.report.v1"
STRING, ENUM, MESSAGE, INT32 = "string", "enum", "message", "int32"
# message -> [(number, name, type, repeated)], in the document's order.
DOCUMENTED = {
    "CreateReportRequest": [
        (1, "domain_id", STRING, False),
        (2, "template_id", STRING, False),
        (3, "name", STRING, False),
        (4, "template_options", "google.protobuf.Struct", False),
        (5, "storage_id", STRING, False),
    ],
    "GetDownloadURLRequest": [(1, "domain_id", STRING, False), (2, "report_id", STRING, False)],
    "GetReportRequest": [
        (1, "domain_id", STRING, False),
        (2, "report_id", STRING, False),
        (3, "only", STRING, True),
    ],
    "ReportDownloadInfo": [(1, "download_url", STRING, False)],
    "ReportError": [(1, "code", STRING, False), (2, "message", STRING, False)],
    "ReportInfo": [
        (1, "domain_id", STRING, False),
        (2, "report_id", STRING, False),
        (3, "template_id", STRING, False),
        (4, "storage_info", f"{PACKAGE}.StorageInfo", False),
        (5, "storage_path", STRING, False),
        (6, "template_options", "google.protobuf.Struct", False),
        (7, "state", f"{PACKAGE}.ReportInfo.State", False),
        (8, "created_by", STRING, False),
        (9, "schedule_id", STRING, False),
        (10, "created_at", "google.protobuf.Timestamp", False),
        (11, "error", f"{PACKAGE}.ReportError", False),
    ],
    "ReportQuery": [
        (1, "domain_id", STRING, False),
        (2, "query", "spaceone.api.core.v1.Query", False),
        (3, "report_id", STRING, False),
        (4, "template_id", STRING, False),
        (5, "storage_id", STRING, False),
        (6, "schedule_id", STRING, False),
        (7, "created_by", STRING, False),
        (8, "state", f"{PACKAGE}.ReportInfo.State", False),
    ],
    "ReportsInfo": [
        (1, "results", f"{PACKAGE}.ReportInfo", True),
        (2, "total_count", INT32, False),
    ],
}
METHODS = [
    ("get", "GetReportRequest", "ReportInfo"),
    ("get_download_url", "GetDownloadURLRequest", "ReportDownloadInfo"),
    ("list", "ReportQuery", "ReportsInfo"),
    ("create", "CreateReportRequest", "ReportInfo"),
]
STATES = ["CREATED", "IN_PROGRESS", "FAILURE", "TIMEOUT", "CANCELED", "FINISHED"]


def _kind(field: object) -> str:
    message_type = getattr(field, "message_type", None)
    enum_type = getattr(field, "enum_type", None)
    if message_type is not None:
        return str(message_type.full_name)
    if enum_type is not None:
        return str(enum_type.full_name)
    names = {descriptor_pb2.FieldDescriptorProto.TYPE_STRING: STRING}
    names[descriptor_pb2.FieldDescriptorProto.TYPE_INT32] = INT32
    return names[getattr(field, "type")]  # noqa: B009  (descriptors are untyped)


def _repeated(field: object) -> bool:
    return bool(getattr(field, "is_repeated"))  # noqa: B009


@pytest.mark.parametrize("message", sorted(DOCUMENTED))
def test_every_documented_message_field_for_field(message: str) -> None:
    descriptor = pool().FindMessageTypeByName(f"{PACKAGE}.{message}")
    found = [(f.number, f.name, _kind(f), _repeated(f)) for f in descriptor.fields]
    assert found == DOCUMENTED[message]


def test_the_service_has_the_documented_methods_and_states() -> None:
    service = report_service()
    assert service.full_name == REPORT_SERVICE
    found = [(m.name, m.input_type.name, m.output_type.name) for m in service.methods]
    assert found == METHODS
    state = pool().FindEnumTypeByName(f"{PACKAGE}.ReportInfo.State")
    assert [v.name for v in state.values] == STATES
    assert [v.number for v in state.values] == list(range(6))


def test_the_file_is_the_vendors_with_its_http_bindings() -> None:
    """The original file, HTTP annotations included (grpc-gateway's routes, as REST serves)."""
    proto = descriptor_pb2.FileDescriptorProto()
    pool().FindFileContainingSymbol(REPORT_SERVICE).CopyToProto(proto)
    assert proto.name == "spaceone/api/report/v1/report.proto"
    assert "google/api/annotations.proto" in proto.dependency
    options = proto.service[0].method[0].options.SerializeToString()
    assert b"/report/v1/report/{report_id}" in options


def test_importing_the_package_does_not_load_grpcio() -> None:
    """``reportd serve`` without ``[grpc] listen`` never imports grpcio (nor protobuf)."""
    code = (
        "import sys, reportd.entrypoints.grpc, reportd.entrypoints.api.app; "
        "print('grpc' in sys.modules, 'google.protobuf' in sys.modules)"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert done.stdout.split() == ["False", "False"]


@pytest.mark.parametrize(
    ("listen", "address"),
    [
        ("127.0.0.1:50051", ("127.0.0.1", 50051)),
        (":50051", ("127.0.0.1", 50051)),  # loopback when the host is left out
        ("[::1]:0", ("::1", 0)),
        ("0.0.0.0:9000", ("0.0.0.0", 9000)),
    ],
)
def test_listen_addresses(listen: str, address: tuple[str, int]) -> None:
    assert grpc_address(listen) == address


@pytest.mark.parametrize("listen", ["50051", "host:", "host:port", "h:70000"])
def test_bad_listen_addresses(listen: str) -> None:
    with pytest.raises(ValueError, match="HOST:PORT"):
        grpc_address(listen)
