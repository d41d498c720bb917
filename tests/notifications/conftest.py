"""A real SMTP server (aiosmtpd) receiving the e-mails, and the local App IO stand-in."""

import email
import email.policy
import socket
import threading

import pytest
from aiosmtpd.controller import Controller

from tests.notifications.io_server import FakeIo, IoServer


class Mailbox:
    """What the SMTP server received, as parsed e-mail messages."""

    def __init__(self):
        self.messages = []
        self.refuse = set()  # recipients the server refuses (550)
        self.lock = threading.Lock()

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        if address in self.refuse:
            return "550 5.1.1 No such user"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        with self.lock:
            self.messages.append(
                email.message_from_bytes(envelope.content, policy=email.policy.default)
            )
        return "250 Message accepted for delivery"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def smtp(app):
    mailbox = Mailbox()
    controller = Controller(mailbox, hostname="127.0.0.1", port=_free_port())
    controller.start()
    saved = {k: app.config.get(k) for k in ("SMTP_HOST", "SMTP_PORT")}
    app.config.update(SMTP_HOST="127.0.0.1", SMTP_PORT=controller.port)
    try:
        yield mailbox
    finally:
        controller.stop()
        app.config.update(saved)


@pytest.fixture
def io(app):
    fake = FakeIo()
    with IoServer(fake) as server:
        saved = {k: app.config.get(k) for k in ("IO_API_URL", "IO_API_KEY")}
        app.config.update(IO_API_URL=server.url, IO_API_KEY=fake.key)
        try:
            yield fake
        finally:
            app.config.update(saved)
