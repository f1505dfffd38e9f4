"""The outbound policy (issue 11, failure 2): reportd never sends a tenant's request inside.

The forbidden target is a real listener on 127.0.0.1; the permitted one is the same listener
allow-listed. Names are resolved by the system resolver (``localhost``, numeric forms) or,
to stage DNS rebinding, by a resolver that changes its answer between two calls.
"""

from __future__ import annotations

import ipaddress
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest
from pydantic import ValidationError as SettingsError

from reportd.adapters.http_poster import HttpxPoster
from reportd.adapters.outbound import AddressGuard
from reportd.app.urls import check_url
from reportd.config import Settings
from reportd.domain.addresses import parse_networks, refusal
from reportd.domain.errors import InvalidUrl, UrlNotAllowed

FORBIDDEN_HOSTS = [
    "127.0.0.1",
    "localhost",  # an /etc/hosts name
    "[::1]",
    "[::ffff:127.0.0.1]",
    "[::ffff:7f00:1]",
    "0.0.0.0",
    "[::]",
    "2130706433",  # 127.0.0.1 as one decimal number
    "0x7f000001",  # ... in hex
    "017700000001",  # ... in octal
    "127.1",  # ... short form
    "169.254.169.254",  # the cloud metadata service
    "10.0.0.1",
    "172.16.0.1",
    "192.168.1.1",
    "100.64.0.1",  # shared address space (carrier NAT)
    "[fe80::1]",
    "[fc00::1]",
    "224.0.0.1",
    "[ff02::1]",
    "240.0.0.1",
    "255.255.255.255",
    "[64:ff9b::7f00:1]",  # NAT64 of 127.0.0.1
    "[2002:7f00:1::]",  # 6to4 of 127.0.0.1
    "[2001:db8::1]",  # documentation
    "[fe80::1%25eth0]",  # link-local with its zone
    "%31%32%37.0.0.1",  # percent-encoded
]


class Listener:
    """A loopback HTTP server that counts what reaches it; ``/redirect`` answers 302."""

    def __init__(self) -> None:
        self.seen: list[tuple[str, str]] = []  # (path, Host header)
        listener = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                self.rfile.read(int(self.headers.get("Content-Length", "0")))
                listener.seen.append((self.path, self.headers.get("Host", "")))
                redirect = self.path == "/redirect"
                self.send_response(302 if redirect else 200)
                if redirect:
                    self.send_header("Location", "/landed")
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, format: str, *args: Any) -> None:
                return

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.port = self.server.server_address[1]


@pytest.fixture(scope="module")
def listener() -> Iterator[Listener]:
    running = Listener()
    thread = threading.Thread(target=running.server.serve_forever, daemon=True)
    thread.start()
    yield running
    running.server.shutdown()
    running.server.server_close()
    thread.join(5)


@pytest.mark.parametrize("host", FORBIDDEN_HOSTS)
def test_every_inside_address_is_refused_at_creation(host: str) -> None:
    with pytest.raises(UrlNotAllowed) as caught:
        AddressGuard().check(f"http://{host}:8080/hook")
    assert caught.value.code == "url_not_allowed" and caught.value.status == 400


@pytest.mark.parametrize("host", FORBIDDEN_HOSTS)
def test_every_inside_address_is_refused_at_connect_time(host: str, listener: Listener) -> None:
    poster = HttpxPoster(5, guard=AddressGuard())
    before = len(listener.seen)
    with pytest.raises(UrlNotAllowed):
        poster.post(f"http://{host}:{listener.port}/x", b"{}", {})
    poster.close()
    assert len(listener.seen) == before


def test_public_addresses_pass() -> None:
    guard = AddressGuard()
    for host in ("8.8.8.8", "[2606:4700:4700::1111]", "93.184.215.14"):
        guard.check(f"https://{host}/hook")
    guard.check("https://no-such-host.invalid/hook")  # not resolvable now: checked at connect


def test_userinfo_control_characters_and_other_schemes_are_invalid_urls() -> None:
    for url in (
        "http://user:pass@127.0.0.1/",
        "http://user@example.com/",
        "http://example.com/a\r\nX-Injected: 1",
        "http://example.com/\n",
        " http://example.com/",
        "http://example.com/\x00",
        "http://exa mple.com/",
        "ftp://example.com/",
        "http:///path",
        "http://example.com:99999/",
        "http://example.com/" + "a" * 2000,
        "http://[::1/",  # urlsplit raised ValueError: a 500
        "http://a..b/",  # IDNA raised UnicodeError when resolving: a 500
        "http://" + "a" * 300 + "/",
    ):
        with pytest.raises(InvalidUrl) as caught:
            check_url(url, "callback_url")
        assert caught.value.code == "invalid_url", url
        assert "callback_url" in caught.value.message
    assert check_url("https://example.com/h?a=1#x") == "https://example.com/h?a=1#x"


def test_the_allow_list_permits_its_networks_only() -> None:
    allowed = parse_networks(["127.0.0.1", "10.1.2.0/24"])
    guard = AddressGuard(["127.0.0.1", "10.1.2.0/24"])
    for host in ("127.0.0.1", "[::ffff:127.0.0.1]", "10.1.2.7", "localhost"):
        guard.check(f"http://{host}/")
    for host in ("127.0.0.2", "10.1.3.1", "169.254.169.254", "0.0.0.0"):
        with pytest.raises(UrlNotAllowed):
            guard.check(f"http://{host}/")
    assert refusal(ipaddress.ip_address("0.0.0.0"), parse_networks(["0.0.0.0/0"])) is not None
    assert refusal(ipaddress.ip_address("10.1.2.9"), allowed) is None
    with pytest.raises(ValueError, match=r"10\.1\.2\.5/24"):
        parse_networks(["10.1.2.5/24"])  # host bits set: not what the operator meant


def test_a_name_with_one_private_address_among_public_ones_is_refused() -> None:
    guard = AddressGuard(resolver=lambda host, port: ["93.184.215.14", "10.0.0.5"])
    with pytest.raises(UrlNotAllowed):
        guard.check("https://hooks.example/x")


def test_dns_rebinding_is_refused_at_connect_time(listener: Listener) -> None:
    """Public when the webhook is made, 127.0.0.1 when it is sent: nothing reaches it."""
    answers = iter([["93.184.215.14"], ["127.0.0.1"]])
    guard = AddressGuard(resolver=lambda host, port: next(answers))
    url = f"http://rebind.example:{listener.port}/rebound"
    guard.check(url)  # the first answer is public
    poster = HttpxPoster(5, guard=guard)
    with pytest.raises(UrlNotAllowed):
        poster.post(url, b"{}", {})
    poster.close()
    assert "/rebound" not in {path for path, _ in listener.seen}


def test_a_permitted_target_is_reached_at_the_checked_address_by_its_name(
    listener: Listener, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The connection goes to the address checked; the request still names the host; an
    environment proxy is not used (it would connect past the check)."""
    monkeypatch.setenv("HTTP_PROXY", "http://127.0.0.1:9")
    monkeypatch.setenv("ALL_PROXY", "http://127.0.0.1:9")
    guard = AddressGuard(["127.0.0.1"], resolver=lambda host, port: ["127.0.0.1"])
    poster = HttpxPoster(5, guard=guard)
    status, error = poster.post(f"http://receiver.example:{listener.port}/named", b"{}", {})
    assert (status, error) == (200, None)
    assert ("/named", f"receiver.example:{listener.port}") in listener.seen
    # A redirect is an answer, not a path to follow.
    status, error = poster.post(f"http://receiver.example:{listener.port}/redirect", b"{}", {})
    poster.close()
    assert (status, error) == (302, "HTTP 302")
    assert "/landed" not in {path for path, _ in listener.seen}


def test_guarded_sockets_for_other_protocols(listener: Listener) -> None:
    """``connect`` is the same policy for clients that take a socket (SMTP, SFTP)."""
    with pytest.raises(UrlNotAllowed):
        AddressGuard().connect("localhost", listener.port, timeout=5)
    sock = AddressGuard(["127.0.0.0/8"]).connect("localhost", listener.port, timeout=5)
    assert sock.getpeername()[0] == "127.0.0.1"
    sock.close()


def test_the_allow_list_setting_refuses_what_is_not_a_network() -> None:
    assert Settings().webhooks.allow_private == []  # off by default
    allowed = Settings(webhooks={"allow_private": ["10.1.2.0/24", "::1"]})  # type: ignore[arg-type]
    assert allowed.webhooks.allow_private == ["10.1.2.0/24", "::1"]
    for bad in (["10.1.2.5/24"], ["intranet"], ["300.1.1.1"]):
        with pytest.raises(SettingsError, match="allow_private"):
            Settings(webhooks={"allow_private": bad})  # type: ignore[arg-type]
