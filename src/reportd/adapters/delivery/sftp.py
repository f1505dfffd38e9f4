"""SFTP destinations over asyncssh: the host key pinned, a password or a private key.

Why asyncssh (not paramiko): one maintained library that is both the client here and the
real SFTP server the tests start on 127.0.0.1, with no C extension of its own (it rides on
``cryptography``, already here for the sealed secrets), and it takes the one host key a
destination pins directly, so no ``known_hosts`` file is read or written. Each delivery runs
its own short event loop in the dispatcher's thread.

The connection goes to an address the outbound policy checked (``PolicyHostGuard``), over a
socket reportd opened itself. Each file is written as ``.<name>.part`` and renamed into place
once complete, so the server never shows a partial file; a retry writes it again. What went
wrong is the operator's to read: the tenant's ``last_error`` says "failed", or "authentication
failed" for a login refused by the server that proved the pinned key (``SHOWN_REASONS``).
"""

from __future__ import annotations

import asyncio
import posixpath
import socket
from collections.abc import Mapping
from typing import Any

from reportd.adapters.delivery.hosts import PolicyHostGuard
from reportd.app.deliveries import Parcel
from reportd.app.downloads import Download
from reportd.domain.destinations import AUTHENTICATION_FAILED, Destination
from reportd.domain.errors import DeliveryFailed

__all__ = ["SftpSender"]


class SftpSender:
    def __init__(self, guard: PolicyHostGuard, timeout: float = 60.0) -> None:
        self.guard = guard
        self.timeout = timeout

    def send(self, destination: Destination, secrets: Mapping[str, str], parcel: Parcel) -> None:
        import asyncssh

        config = destination.config
        host, port = str(config["host"]).strip("[]"), int(config.get("port", 22))
        try:
            sock = self._connect(host, port)
        except OSError as exc:
            raise DeliveryFailed(f"SFTP {host}:{port}: {exc}") from exc
        try:
            asyncio.run(self._upload(sock, destination, secrets, parcel))
        except (TimeoutError, OSError, asyncssh.Error) as exc:
            reason = getattr(exc, "reason", None) or str(exc) or type(exc).__name__
            # The login is tried only after the server showed the pinned host key: a refusal
            # then comes from the tenant's own server, and says nothing of the network.
            shown = AUTHENTICATION_FAILED if isinstance(exc, asyncssh.PermissionDenied) else None
            raise DeliveryFailed(f"SFTP {host}:{port}: {reason}", shown=shown) from exc
        finally:
            sock.close()

    def _connect(self, host: str, port: int) -> socket.socket:
        error: OSError | None = None
        for address in self.guard.addresses(host, port, "host"):
            try:
                return socket.create_connection((address, port), timeout=self.timeout)
            except OSError as exc:
                error = exc
        raise error or OSError("no address")

    async def _upload(
        self,
        sock: socket.socket,
        destination: Destination,
        secrets: Mapping[str, str],
        parcel: Parcel,
    ) -> None:
        import asyncssh

        config = destination.config
        options: dict[str, Any] = {
            "username": str(config["username"]),
            "known_hosts": ([asyncssh.import_public_key(str(config["host_key"]))], [], []),
            "connect_timeout": self.timeout,
            "login_timeout": self.timeout,
            "agent_path": None,  # never the operator's own SSH agent or keys
            "client_keys": None,
            "password": secrets.get("password"),
        }
        if secrets.get("private_key"):
            options["client_keys"] = [asyncssh.import_private_key(secrets["private_key"])]
        sock.setblocking(False)
        folder = str(config.get("path") or ".")
        async with (
            asyncssh.connect(sock=sock, config=[], **options) as conn,
            conn.start_sftp_client() as sftp,
        ):
            for download in parcel.files:
                await asyncio.wait_for(self._put(sftp, folder, download), self.timeout * 10)

    async def _put(self, sftp: Any, folder: str, download: Download) -> None:
        name = download.artifact.filename
        final = posixpath.join(folder, name)
        partial = posixpath.join(folder, f".{name}.part")
        async with sftp.open(partial, "wb") as remote:
            for chunk in download.open():
                await remote.write(chunk)
        try:
            await sftp.posix_rename(partial, final)  # replaces an older copy atomically
        except Exception:  # a server without the posix-rename extension
            if await sftp.exists(final):
                await sftp.remove(final)
            await sftp.rename(partial, final)
