"""A real SMTP server (aiosmtpd on 127.0.0.1) that keeps what it receives, for flows that send mail."""

from __future__ import annotations

import email
import email.policy
import socket
import time
from collections.abc import Iterator
from email.message import EmailMessage

import pytest
from aiosmtpd.controller import Controller


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class SmtpInbox:
    """The messages an aiosmtpd server on 127.0.0.1 has accepted."""

    def __init__(self) -> None:
        self.messages: list[EmailMessage] = []
        self.port = 0

    async def handle_DATA(self, server, session, envelope) -> str:
        self.messages.append(email.message_from_bytes(envelope.content, policy=email.policy.default))
        return "250 OK"

    @staticmethod
    def text(message: EmailMessage) -> str:
        """The plain-text body, also of a message with attachments."""
        return message.get_body(preferencelist=("plain",)).get_content()

    def wait_for(self, predicate, timeout: float = 90.0) -> list[EmailMessage]:
        """Messages matching `predicate`, waiting up to `timeout` seconds for the first one."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            found = [m for m in self.messages if predicate(m)]
            if found:
                return found
            time.sleep(0.5)
        return []


def _running_inbox() -> Iterator[SmtpInbox]:
    inbox = SmtpInbox()
    inbox.port = free_port()
    controller = Controller(inbox, hostname="127.0.0.1", port=inbox.port)
    controller.start()
    yield inbox
    controller.stop()


@pytest.fixture
def smtp_inbox(monkeypatch: pytest.MonkeyPatch) -> Iterator[SmtpInbox]:
    """A running SMTP server; FUPIN_SMTP_HOST/PORT point at it."""
    for inbox in _running_inbox():
        monkeypatch.setenv("FUPIN_SMTP_HOST", "127.0.0.1")
        monkeypatch.setenv("FUPIN_SMTP_PORT", str(inbox.port))
        yield inbox


@pytest.fixture(scope="module")
def module_smtp_inbox() -> Iterator[SmtpInbox]:
    """A running SMTP server for a whole module (e.g. one shared by a served worker); the environment is left alone."""
    yield from _running_inbox()


@pytest.fixture(scope="session")
def port_factory():
    """Returns a function giving a free TCP port on 127.0.0.1."""
    return free_port
