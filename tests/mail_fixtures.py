"""A real SMTP server on 127.0.0.1 (aiosmtpd) that keeps what it receives, and can refuse on cue."""
import email
import socket
from email.message import EmailMessage
from email.policy import default

import pytest
from aiosmtpd.controller import Controller


class Inbox:
    """The aiosmtpd handler: each accepted message, parsed; `answer` replaces "250 OK" when set."""

    def __init__(self):
        self.messages: list[EmailMessage] = []
        self.answer: str | None = None
        self.url = ""

    async def handle_DATA(self, server, session, envelope):
        if self.answer:
            return self.answer
        self.messages.append(email.message_from_bytes(envelope.content, policy=default))
        return "250 OK"

    def to(self, address: str) -> list[EmailMessage]:
        return [message for message in self.messages if address in message["To"]]


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.fixture
def smtp_server():
    """(Inbox, SMTP_URL) of a local mail server for this test."""
    inbox = Inbox()
    controller = Controller(inbox, hostname="127.0.0.1", port=free_port())
    controller.start()
    inbox.url = f"smtp://127.0.0.1:{controller.port}"
    try:
        yield inbox, inbox.url
    finally:
        controller.stop()


@pytest.fixture
def mail_on(app, smtp_server, monkeypatch):
    """The app sends notification mail to the local server; returns its Inbox."""
    inbox, url = smtp_server
    monkeypatch.setitem(app.config, "SMTP_URL", url)
    monkeypatch.setitem(app.config, "PUBLIC_URL", "http://tickets.test")
    return inbox
