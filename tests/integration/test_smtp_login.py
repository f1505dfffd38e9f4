"""The operator's SMTP login ([smtp] username, password) against aiosmtpd with AUTH required."""

from __future__ import annotations

import pytest

from reportd.adapters.delivery.email import SmtpSender, SmtpServer
from tests.unit.test_delivery_parts import _mail, _parcel


@pytest.mark.filterwarnings("ignore:Requiring AUTH while not requiring TLS:UserWarning")
def test_the_operators_smtp_login_is_used_and_a_refused_one_is_a_delivery_failure() -> None:
    from aiosmtpd.controller import Controller
    from aiosmtpd.smtp import AuthResult, LoginPassword

    from reportd.domain.errors import DeliveryFailed
    from tests.delivery_servers import SmtpInbox

    inbox = SmtpInbox()
    logins: list[bytes] = []

    def authenticator(server: object, session: object, envelope: object, mechanism: str,
                      auth_data: object) -> AuthResult:  # fmt: skip
        ok = isinstance(auth_data, LoginPassword) and auth_data.password == b"op-secret"
        if isinstance(auth_data, LoginPassword):
            logins.append(auth_data.login)
        return AuthResult(success=ok)

    controller = Controller(
        inbox, hostname="127.0.0.1", port=inbox.port, authenticator=authenticator,
        auth_required=True, auth_require_tls=False,
    )  # fmt: skip
    controller.start()
    try:

        def sender(password: str) -> SmtpSender:
            server = SmtpServer(
                host="127.0.0.1", port=inbox.port, username="ops", password=password,
                starttls=False, timeout=10,
            )  # fmt: skip
            return SmtpSender(server)

        _, destination = _mail(10)
        sender("op-secret").send(destination, {}, _parcel(10, name="Q1"))
        assert len(inbox.messages) == 1 and logins == [b"ops"]
        with pytest.raises(DeliveryFailed):
            sender("wrong").send(destination, {}, _parcel(10, name="Q1"))
        assert len(inbox.messages) == 1
    finally:
        controller.stop()
