"""Destinations: checked per type, per tenant, secrets sealed and never shown again."""

from __future__ import annotations

import pytest

from reportd.domain.destinations import DestinationType
from reportd.domain.errors import DestinationNotFound, Forbidden, ValidationError
from tests.unit.app.conftest import World

HOST_KEY = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIOMqqnkVzrm0SdG6UOoqKLsabgH5C9okWi0dh2l9GKJl"


def _s3(world: World, **changes: object) -> dict[str, object]:
    fields: dict[str, object] = {
        "endpoint_url": "https://s3.example.com",
        "bucket": "acme-reports",
        "prefix": "/daily/",
        "access_key_id": "AKIAEXAMPLE",
        "secret_access_key": "s3cr3t-value",
    }
    fields.update(changes)
    return fields


def test_an_s3_destination_keeps_its_secret_sealed(world: World) -> None:
    caller = world.principal()
    created = world.app.destinations.create(caller, "s3", "Backups", _s3(world))
    stored = world.store.destinations.get(created.destination.id, "acme")
    assert stored.config == {
        "endpoint_url": "https://s3.example.com",
        "bucket": "acme-reports",
        "prefix": "daily",
        "region": "us-east-1",
        "access_key_id": "AKIAEXAMPLE",
    }
    assert stored.secret_names == ("secret_access_key",)
    assert stored.sealed_secrets and "s3cr3t-value" not in stored.sealed_secrets
    assert world.app.destinations.secrets_of(stored) == {"secret_access_key": "s3cr3t-value"}
    assert created.generated == {}  # nothing made up: the caller gave its secret


def test_another_tenants_destination_is_not_found(world: World) -> None:
    created = world.app.destinations.create(world.principal(), "email", None, {"to": ["a@b.io"]})
    other = world.principal("globex")
    with pytest.raises(DestinationNotFound):
        world.app.destinations.get(other, created.destination.id)
    with pytest.raises(DestinationNotFound):
        world.app.destinations.delete(other, created.destination.id)
    assert world.app.destinations.list(other) == []
    with pytest.raises(DestinationNotFound):
        world.create(other, destinations=(created.destination.id,))


def test_each_type_refuses_what_it_cannot_use(world: World) -> None:
    caller = world.principal()
    create = world.app.destinations.create
    bad: list[tuple[str, dict[str, object]]] = [
        ("ftp", {}),
        ("email", {"to": ["not-an-address"]}),
        ("email", {"to": []}),
        ("email", {"to": ["a@b.io"], "host": "smtp.tenant.example"}),  # never a tenant's server
        ("s3", _s3(world, secret_access_key=None)),
        ("s3", _s3(world, bucket="Not_A_Bucket")),
        ("sftp", {"host": "sftp.example.com", "username": "u", "host_key": HOST_KEY}),
        ("sftp", {"host": "sftp.example.com", "username": "u", "password": "p"}),  # no host key
        ("webhook", {"url": "ftp://example.com/"}),
    ]
    for type, fields in bad:
        with pytest.raises(ValidationError):
            create(caller, type, None, fields)
    with pytest.raises(Forbidden):
        create(world.principal(scopes=("reports:read",)), "email", None, {"to": ["a@b.io"]})
    assert world.app.destinations.list(caller) == []


def test_tenant_hosts_obey_the_outbound_policy(world: World) -> None:
    caller = world.principal()
    create = world.app.destinations.create
    with pytest.raises(ValidationError):
        create(caller, "s3", None, _s3(world, endpoint_url="http://minio.internal:9000"))
    with pytest.raises(ValidationError):
        create(caller, "webhook", None, {"url": "http://127.0.0.1:8000/steal"})
    sftp = {"host": "127.0.0.1", "username": "u", "password": "p", "host_key": HOST_KEY}
    with pytest.raises(ValidationError):
        create(caller, "sftp", None, sftp)


def test_a_webhook_destination_gets_a_secret_shown_once(world: World) -> None:
    caller = world.principal()
    created = world.app.destinations.create(caller, "webhook", "Hook", {"url": "https://h.io/in"})
    secret = created.generated["secret"]
    assert secret.startswith("whsec_")
    shown = world.app.destinations.get(caller, created.destination.id)
    assert shown.secret_names == ("secret",)
    assert secret not in repr(shown)
    assert world.app.destinations.secrets_of(shown) == {"secret": secret}


def test_an_update_keeps_secrets_not_given_and_checks_again(world: World) -> None:
    caller = world.principal()
    sftp = {"host": "sftp.example.com", "username": "u", "password": "pw", "host_key": HOST_KEY}
    created = world.app.destinations.create(caller, "sftp", None, sftp)
    changed = world.app.destinations.update(
        caller, created.destination.id, "Renamed", {"port": 2222, "path": "/in"}
    )
    assert changed.name == "Renamed" and changed.type is DestinationType.SFTP
    assert changed.config["port"] == 2222 and changed.config["path"] == "/in"
    assert world.app.destinations.secrets_of(changed) == {"password": "pw"}
    with pytest.raises(ValidationError):  # removing the only credential is refused
        world.app.destinations.update(caller, created.destination.id, None, {"password": None})
    with pytest.raises(ValidationError):
        world.app.destinations.update(caller, created.destination.id, None, {"port": 0})
