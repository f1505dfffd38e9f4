"""What each destination type takes: its settings, its secrets, and the rules on both.

Why a table of kinds rather than four classes: the API, the store and the senders all need
the same two facts per type (which keys are settings and shown, which are secrets and never
shown again), and the checks are a few lines each. The hosts a tenant names (an S3 endpoint,
an SFTP server, a webhook URL) go through the outbound policy (``HostGuard``) here, when the
destination is saved, and again by the sender before each connection.
"""

from __future__ import annotations

import re
import secrets
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, Protocol
from urllib.parse import urlsplit

from reportd.app.urls import check_url
from reportd.domain.destinations import DestinationType
from reportd.domain.errors import ValidationError
from reportd.domain.webhook_signatures import check_scheme

__all__ = ["KINDS", "HostGuard", "Kind", "check_settings", "split_fields", "url_host"]

MAX_RECIPIENTS = 20
WEBHOOK_SECRET_PREFIX = "whsec_"  # noqa: S105 (a prefix, not a secret)
_ADDRESS = re.compile(r"^[^@\s<>,;\"]+@[^@\s<>,;\"]+\.[^@\s<>,;\"]+$")
_HOST_KEY = re.compile(r"^(ssh-ed25519|ssh-rsa|ecdsa-sha2-nistp(256|384|521)) [A-Za-z0-9+/=]+$")
_BUCKET = re.compile(r"^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$")
_HOSTNAME = re.compile(r"^[A-Za-z0-9.-]{1,253}$|^\[?[0-9A-Fa-f:.]+\]?$")


class HostGuard(Protocol):
    """The outbound policy: raises ``ValidationError`` (``url_not_allowed``) for a host
    reportd must not connect to (loopback, private, link-local, reserved, unless allowed)."""

    def check_host(self, host: str, what: str) -> None: ...


@dataclass(frozen=True, slots=True)
class Kind:
    """One type: its setting keys (shown) and secret keys (sealed, never shown)."""

    type: DestinationType
    settings: tuple[str, ...]
    secrets: tuple[str, ...]
    check: Callable[[dict[str, Any], dict[str, str], HostGuard], None]


def _text(config: Mapping[str, Any], key: str, *, required: bool = True, limit: int = 500) -> str:
    value = config.get(key)
    if value is None and not required:
        return ""
    if not isinstance(value, str) or not value.strip() or len(value) > limit:
        raise ValidationError(
            f"{key} must be a non-empty string of at most {limit} characters",
            details={"field": key},
        )
    return value.strip()


def _check_email(config: dict[str, Any], _secrets: dict[str, str], _guard: HostGuard) -> None:
    to = config.get("to")
    if isinstance(to, str):
        to = [to]
    if not isinstance(to, list) or not 1 <= len(to) <= MAX_RECIPIENTS:
        raise ValidationError(
            f"to must be a list of 1 to {MAX_RECIPIENTS} addresses", details={"field": "to"}
        )
    bad = [a for a in to if not isinstance(a, str) or not _ADDRESS.match(a)]
    if bad:
        raise ValidationError("to holds addresses that are not e-mail addresses", details=bad)
    config["to"] = list(dict.fromkeys(to))
    if config.get("subject") is not None:
        config["subject"] = _text(config, "subject", limit=200).replace("\n", " ")


def _check_s3(config: dict[str, Any], secret: dict[str, str], guard: HostGuard) -> None:
    endpoint = check_url(_text(config, "endpoint_url", limit=2000), "endpoint_url")
    guard.check_host(url_host(endpoint), "endpoint_url")
    config["endpoint_url"] = endpoint
    bucket = _text(config, "bucket", limit=63)
    if not _BUCKET.match(bucket):
        raise ValidationError("bucket is not a valid S3 bucket name", details={"field": "bucket"})
    config["prefix"] = _text(config, "prefix", required=False, limit=500).strip("/")
    config["region"] = _text(config, "region", required=False, limit=64) or "us-east-1"
    config["access_key_id"] = _text(config, "access_key_id", limit=200)
    secret["secret_access_key"] = _text(secret, "secret_access_key", limit=500)


def _check_sftp(config: dict[str, Any], secret: dict[str, str], guard: HostGuard) -> None:
    host = _text(config, "host", limit=253)
    if not _HOSTNAME.match(host):
        raise ValidationError("host is not a host name or address", details={"field": "host"})
    guard.check_host(host.strip("[]"), "host")
    port = config.get("port", 22)
    if not isinstance(port, int) or isinstance(port, bool) or not 0 < port < 65536:
        raise ValidationError("port must be a TCP port (1-65535)", details={"field": "port"})
    config.update(host=host, port=port, username=_text(config, "username", limit=200))
    config["path"] = _text(config, "path", required=False, limit=1000) or "."
    host_key = " ".join(_text(config, "host_key", limit=4000).split()[:2])
    if not _HOST_KEY.match(host_key):
        raise ValidationError(
            "host_key must be the server's public key as in known_hosts "
            "('ssh-ed25519 AAAA...'): reportd connects only to that key",
            details={"field": "host_key"},
        )
    config["host_key"] = host_key
    if not secret.get("password") and not secret.get("private_key"):
        raise ValidationError(
            "an sftp destination needs a password or a private_key",
            details={"field": "password"},
        )


def _check_webhook(config: dict[str, Any], secret: dict[str, str], guard: HostGuard) -> None:
    url = check_url(_text(config, "url", limit=2000), "url")
    guard.check_host(url_host(url), "url")
    config["url"] = url
    if config.get("signature") is not None:
        config["signature"] = check_scheme(str(config["signature"]))
    if not secret.get("secret"):
        secret["secret"] = WEBHOOK_SECRET_PREFIX + secrets.token_hex(32)


def url_host(url: str) -> str:
    return urlsplit(url).hostname or ""


KINDS: dict[DestinationType, Kind] = {
    DestinationType.EMAIL: Kind(DestinationType.EMAIL, ("to", "subject"), (), _check_email),
    DestinationType.S3: Kind(
        DestinationType.S3,
        ("endpoint_url", "bucket", "prefix", "region", "access_key_id"),
        ("secret_access_key",),
        _check_s3,
    ),
    DestinationType.SFTP: Kind(
        DestinationType.SFTP,
        ("host", "port", "username", "path", "host_key"),
        ("password", "private_key"),
        _check_sftp,
    ),
    DestinationType.WEBHOOK: Kind(
        DestinationType.WEBHOOK, ("url", "signature"), ("secret",), _check_webhook
    ),
}


def split_fields(kind: Kind, fields: Mapping[str, Any]) -> tuple[dict[str, Any], dict[str, Any]]:
    """A flat body's keys as (settings, secrets); a key of neither is refused."""
    unknown = sorted(set(fields) - set(kind.settings) - set(kind.secrets))
    if unknown:
        raise ValidationError(
            f"a {kind.type.value} destination takes {list(kind.settings + kind.secrets)}",
            details={"unknown_fields": unknown},
        )
    config = {k: v for k, v in fields.items() if k in kind.settings}
    return config, {k: v for k, v in fields.items() if k in kind.secrets}


def check_settings(
    kind: Kind, config: Mapping[str, Any], secret: Mapping[str, Any], guard: HostGuard
) -> tuple[dict[str, Any], dict[str, str]]:
    """The settings and secrets checked and normalised (``None`` values dropped)."""
    bad = [k for k, v in secret.items() if v is not None and not isinstance(v, str)]
    if bad:
        raise ValidationError("secrets must be strings", details={"fields": bad})
    settings = {k: v for k, v in config.items() if v is not None}
    sealed = {k: v for k, v in secret.items() if isinstance(v, str) and v}
    kind.check(settings, sealed, guard)
    return settings, sealed
