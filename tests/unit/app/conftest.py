"""A small world for the use-case tests: the composed app over an in-memory store.

No server, no HTTP: each test builds the app with ``bootstrap.compose`` over
``reportd.testing.InMemoryStore`` (the fake that passes the store contract suite), a
``MemoryStorage``, a generator that writes small files, and a source that knows a few rows.
Tenants and keys are made through the tenants use case, so principals are real.
"""

from __future__ import annotations

import contextlib
import hashlib
import ipaddress
import json
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from reportd.adapters.outbound import AddressGuard
from reportd.adapters.sql_guard import SqlGuard
from reportd.adapters.storage.memory import MemoryStorage
from reportd.adapters.storage.signing import LinkSigner
from reportd.app import ports
from reportd.app.catalog import Catalog
from reportd.app.deliveries import Parcel
from reportd.app.generator import OutputFile, RunControl, RunResult, RunSpec
from reportd.app.runs import RunOptions
from reportd.app.webhooks import DeliveryPolicy
from reportd.bootstrap import App, Delivery, compose
from reportd.domain.destinations import Destination, DestinationType
from reportd.domain.errors import AlreadyExists, SourceError, ValidationError
from reportd.domain.formats import FieldType, Format
from reportd.domain.models import Field, Principal, Report, ReportRequest, Template
from reportd.testing import InMemoryStore

SECRET = "unit-test-secret"
ORDERS = Template(
    id="orders",
    name="Orders",
    source="shop",
    query="SELECT order_id, customer, amount FROM orders WHERE tenant = :tenant_id",
    fields=(
        Field(name="order_id", type=FieldType.INTEGER, filterable=True, sortable=True),
        Field(name="customer", type=FieldType.STRING, filterable=True, sortable=True),
        Field(name="amount", type=FieldType.NUMBER, filterable=True, sortable=True),
    ),
    formats=(Format.CSV, Format.JSON),
    parameters={
        "type": "object",
        "properties": {"since": {"type": "string", "default": "2000-01-01"}},
        "additionalProperties": False,
    },
    retention=3600,
)
SAMPLES = Template(
    id="samples",
    name="Samples",
    source="shop",
    query="SELECT md5, sha1, sha256, name FROM samples WHERE tenant = :tenant_id",
    fields=(
        *(Field(name=n, type=FieldType.STRING, filterable=True) for n in ("md5", "sha1", "sha256")),
        Field(name="name", type=FieldType.STRING),
    ),
    formats=(Format.PDF, Format.CSV),
    subject={"keys": {"md5": "md5", "sha1": "sha1", "sha256": "sha256"}},
)
SAMPLE = b"an example sample"
MD5 = hashlib.md5(SAMPLE).hexdigest()
SHA1 = hashlib.sha1(SAMPLE).hexdigest()
SHA256 = hashlib.sha256(SAMPLE).hexdigest()


class Batch:
    def __init__(self, rows: int) -> None:
        self.num_rows = rows


class RowStream:
    def __init__(self, rows: int) -> None:
        self._rows = rows

    def __iter__(self) -> Iterator[Batch]:
        return iter([Batch(self._rows)] if self._rows else [])

    def __enter__(self) -> RowStream:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def interrupt(self) -> None:
        return None

    def count(self) -> int | None:
        return self._rows

    def close(self) -> None:
        return None


@dataclass
class FakeSource:
    """Knows a set of values (for subjects: the hashes of its one tenant's rows)."""

    name: str = "shop"
    tenant: str = "acme"
    known: set[str] = field(default_factory=lambda: {MD5, SHA1, SHA256})
    closed: bool = False
    # What a query's LIMIT 0 run answers (template validation), and what it was asked.
    result_columns: list[str] = field(default_factory=lambda: ["order_id", "customer", "amount"])
    planned: list[tuple[str, dict[str, object]]] = field(default_factory=list)

    def stream(self, sql: str, params: Mapping[str, object], *, batch_size: int) -> RowStream:
        found = params.get("tenant_id") == self.tenant and any(
            isinstance(v, str) and v in self.known for v in params.values()
        )
        return RowStream(1 if found else 0)

    def columns(self, sql: str, params: Mapping[str, object]) -> list[str]:
        self.planned.append((sql, dict(params)))
        if "nosuchtable" in sql:
            raise SourceError("no such table: nosuchtable")
        return list(self.result_columns)

    def close(self) -> None:
        self.closed = True


@dataclass
class FakeGenerator:
    """Writes one small text file per format; ``during`` runs inside the generation."""

    rows: int = 3
    during: Callable[[RunSpec, RunControl], None] | None = None
    runs: list[RunSpec] = field(default_factory=list)

    def available_formats(self) -> tuple[Format, ...]:
        return tuple(f for f in Format if not f.is_bundle)

    def new_password(self) -> str:
        return "generated-password"

    def generate(self, spec: RunSpec, source: Any, workdir: Path, control: RunControl) -> RunResult:
        return self._write(spec, workdir, control)

    def regenerate(
        self, spec: RunSpec, data: Path, workdir: Path, control: RunControl
    ) -> RunResult:
        return self._write(spec, workdir, control)

    def _write(self, spec: RunSpec, workdir: Path, control: RunControl) -> RunResult:
        self.runs.append(spec)
        if self.during is not None:
            self.during(spec, control)
        control.check()
        files = []
        for fmt in spec.formats:
            body = f"{spec.template.id} {fmt.value} {spec.tenant_id}\n".encode()
            if fmt is Format.JSON:  # the rows, as the JSON writer would (entries read them)
                body = json.dumps(
                    [{"order_id": n, "tenant": spec.tenant_id} for n in range(self.rows)]
                ).encode()
            path = workdir / f"{spec.template.id}.{fmt.extension}"
            path.write_bytes(body)
            files.append(
                OutputFile(
                    format=fmt,
                    packaging=spec.packaging,
                    path=path,
                    filename=path.name,
                    mime_type=fmt.mime_type,
                    rows=self.rows,
                    size=len(body),
                    sha256=hashlib.sha256(body).hexdigest(),
                    zip_password=spec.zip_password,
                )
            )
        control.rows = self.rows
        kept = None
        if spec.template.keep_data:
            kept = workdir / "rows.parquet"
            kept.write_bytes(b"kept rows")
        return RunResult(files=files, kept_data=kept)


class FakeSender:
    """Takes every parcel (or raises ``failure``); keeps what it was given."""

    def __init__(self) -> None:
        self.sent: list[tuple[Destination, dict[str, str], Parcel]] = []
        self.failure: Exception | None = None

    def send(self, destination: Destination, secrets: Mapping[str, str], parcel: Parcel) -> None:
        if self.failure is not None:
            raise self.failure
        self.sent.append((destination, dict(secrets), parcel))


class FakeGuard:
    """The outbound policy as a list: hosts under ``.internal`` and 127.0.0.1 are refused."""

    def check_host(self, host: str, what: str) -> None:
        if host.endswith(".internal") or host == "127.0.0.1":
            raise ValidationError(f"{what} points at an address reportd does not send to")


class FakePoster:
    """Answers every POST with ``status``; keeps what was sent."""

    def __init__(self, status: int = 204) -> None:
        self.status = status
        self.sent: list[tuple[str, bytes, dict[str, str]]] = []

    def post(self, url: str, body: bytes, headers: dict[str, str]) -> tuple[int | None, str | None]:
        self.sent.append((url, body, headers))
        ok = 200 <= self.status < 300
        return self.status, None if ok else f"HTTP {self.status}"

    def close(self) -> None:
        return None


# Names the unit tests may use, and what they resolve to (no DNS in a unit test).
HOSTS = {"example.com": ["93.184.215.14", "2606:2800:21f:cb07:6820:80da:af6b:8b2c"]}
HOSTS["internal.example"] = ["93.184.215.14", "10.0.0.5"]  # one public, one private


def static_resolver(host: str, port: int) -> list[str]:
    if host in HOSTS:
        return HOSTS[host]
    try:
        return [str(ipaddress.ip_address(host))]
    except ValueError:
        raise OSError(f"{host}: not known") from None


@dataclass
class World:
    app: App
    store: ports.Store
    storage: MemoryStorage
    generator: FakeGenerator
    source: FakeSource
    poster: FakePoster
    sender: FakeSender

    def principal(
        self, tenant: str = "acme", scopes: tuple[str, ...] = ("admin",), name: str = "alice"
    ) -> Principal:
        """A real key of ``tenant`` (made if missing), authenticated."""
        with contextlib.suppress(AlreadyExists):
            self.app.tenants.create_tenant(tenant, features=["custom_reports"])
        created = self.app.tenants.create_key(tenant, name, list(scopes))
        return self.app.tenants.authenticate(created.secret)

    def create(self, caller: Principal, **asked: Any) -> Report:
        asked.setdefault("template_id", "orders")
        asked.setdefault("formats", ("csv",))
        return self.app.reports.create(caller, ReportRequest(**asked))

    def run_next(self, worker: str = "w1") -> Report:
        """Claim the next report and run it to its end; the report as stored after."""
        claimed = self.app.runs.claim(worker)
        assert claimed is not None, "nothing to claim"
        self.app.runs.run_report(claimed, worker, RunControl())
        return self.store.reports.get(claimed.id)


@pytest.fixture
def world() -> Iterator[World]:
    with built_world() as made:
        yield made


@contextlib.contextmanager
def built_world(**composed: Any) -> Iterator[World]:
    """A world whose ``compose`` gets ``composed`` too (e.g. an operator's setting)."""
    store = InMemoryStore()
    storage = MemoryStorage("default")
    generator = FakeGenerator()
    source = FakeSource()
    poster = FakePoster()
    sender = FakeSender()
    catalog = Catalog(
        templates={t.id: t for t in (ORDERS, SAMPLES)},
        sources={"shop": source},
        storages={"default": storage},
    )
    app = compose(
        store,
        catalog,
        generator,
        signer=LinkSigner(SECRET),
        signing_secret=SECRET,
        public_url="https://reports.example",
        run_options=RunOptions(lease_seconds=30, max_attempts=2),
        outbound=AddressGuard(resolver=static_resolver),
        poster=lambda timeout: poster,
        delivery=Delivery(
            senders=dict.fromkeys(DestinationType, sender),
            guard=FakeGuard(),
            policy=DeliveryPolicy(retry_delays=(30.0, 60.0), max_attempts=3),
        ),
        query_guard=SqlGuard({"shop": "duckdb"}, max_rows=1000),
        **composed,
    )
    yield World(
        app=app,
        store=store,
        storage=storage,
        generator=generator,
        source=source,
        poster=poster,
        sender=sender,
    )
    app.close()
