"""``reportd webhooks ...``: a tenant's webhook subscriptions on a running server, over the SDK.

The same server, key and exit codes as ``reportd report`` (``--url`` / ``REPORTD_URL``,
``--api-key`` / ``REPORTD_API_KEY``). ``create`` prints the signing secret: the only time it
is shown. ``--signature`` picks the headers deliveries carry: ``reportd``
(``Reportd-Signature``), ``standard`` (Standard Webhooks) or ``both`` (docs/webhooks.md).
"""

from __future__ import annotations

from enum import StrEnum
from typing import Annotated, Any

import typer

from reportd.entrypoints.cli.client_commands import (
    DEFAULT_URL,
    ApiKey,
    AsJson,
    Url,
    _print_json,
    _session,
    _split,
)

__all__ = ["webhooks_app"]

webhooks_app = typer.Typer(
    name="webhooks",
    help="Webhook subscriptions of your tenant on a running reportd server.",
    no_args_is_help=True,
    rich_markup_mode=None,
)


class Signature(StrEnum):
    reportd = "reportd"
    standard = "standard"
    both = "both"


WebhookId = Annotated[str, typer.Argument(help="The webhook id.", show_default=False)]


def _show(hook: dict[str, Any]) -> None:
    lines = [
        ("id", hook["id"]),
        ("url", hook["url"]),
        ("events", ", ".join(hook["events"])),
        ("signature", hook["signature"]),
        ("enabled", str(hook["enabled"]).lower()),
        ("created", hook.get("created_at") or ""),
    ]
    if "secret" in hook:
        lines.append(("secret", f"{hook['secret']}  (shown once: keep it now)"))
    for label, value in lines:
        typer.echo(f"{label + ':':<11}{value}")


@webhooks_app.command("list")
def list_(url: Url = DEFAULT_URL, api_key: ApiKey = None, as_json: AsJson = False) -> None:
    """Every subscription of the key's tenant."""
    with _session(url, api_key) as client:
        found = client.list_webhooks()
    if as_json:
        _print_json(found)
        return
    typer.echo(f"{'ID':<36}  {'SIGNATURE':<9}  {'EVENTS':<32}  URL")
    for hook in found["results"]:
        events = ",".join(hook["events"])
        typer.echo(f"{hook['id']:<36}  {hook['signature']:<9}  {events:<32}  {hook['url']}")


@webhooks_app.command()
def create(
    endpoint: Annotated[
        str, typer.Argument(help="Where deliveries are POSTed.", show_default=False)
    ],
    events: Annotated[
        list[str], typer.Option("--event", "-e", help="An event (repeatable, or a,b).")
    ],
    signature: Annotated[
        Signature | None,
        typer.Option("--signature", help="Signing scheme; the server's default (both) if unset."),
    ] = None,
    url: Url = DEFAULT_URL,
    api_key: ApiKey = None,
    as_json: AsJson = False,
) -> None:
    """Subscribe ENDPOINT (a URL) to events; prints the signing secret, once."""
    names = _split(events) or []
    with _session(url, api_key) as client:
        hook = client.create_webhook(
            endpoint, names, signature=None if signature is None else signature.value
        )
    if as_json:
        _print_json(hook)
    else:
        _show(hook)


@webhooks_app.command("set-signature")
def set_signature(
    webhook_id: WebhookId,
    signature: Annotated[Signature, typer.Argument(help="reportd, standard or both.")],
    url: Url = DEFAULT_URL,
    api_key: ApiKey = None,
    as_json: AsJson = False,
) -> None:
    """Switch a subscription's signing scheme; its secret stays the same."""
    with _session(url, api_key) as client:
        hook = client.update_webhook(webhook_id, signature=signature.value)
    if as_json:
        _print_json(hook)
    else:
        _show(hook)


@webhooks_app.command()
def delete(webhook_id: WebhookId, url: Url = DEFAULT_URL, api_key: ApiKey = None) -> None:
    """Remove a subscription and its delivery log."""
    with _session(url, api_key) as client:
        client.delete_webhook(webhook_id)
    typer.echo(f"deleted {webhook_id}")
