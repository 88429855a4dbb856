"""A real SMTP server (aiosmtpd) on 127.0.0.1 for mail tests: captures messages, can demand login, can refuse."""

from __future__ import annotations

import email
import email.policy
import socket
import ssl
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass, field
from email.message import EmailMessage
from pathlib import Path

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword

USER, PASSWORD = "fupin", "test-only-smtp-password"


@dataclass
class Capture:
    """What the server received, and answers to give instead of 250 (popped one per DATA)."""

    messages: list[EmailMessage] = field(default_factory=list)
    raw: list[bytes] = field(default_factory=list)
    envelopes: list[list[str]] = field(default_factory=list)
    answers: list[str] = field(default_factory=list)
    logins: list[str] = field(default_factory=list)

    async def handle_DATA(self, server, session, envelope) -> str:
        if self.answers:
            return self.answers.pop(0)
        self.raw.append(envelope.content)
        self.envelopes.append(list(envelope.rcpt_tos))
        self.messages.append(email.message_from_bytes(envelope.content, policy=email.policy.default))
        return "250 OK queued"

    def authenticate(self, server, session, envelope, mechanism, auth_data) -> AuthResult:
        ok = isinstance(auth_data, LoginPassword) and (auth_data.login.decode(), auth_data.password.decode()) == (
            USER,
            PASSWORD,
        )
        if ok:
            self.logins.append(auth_data.login.decode())
        return AuthResult(success=ok)


@dataclass
class SmtpServer:
    host: str
    port: int
    capture: Capture


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _tls_context(folder: Path) -> ssl.SSLContext:
    key, cert = folder / "key.pem", folder / "cert.pem"
    subprocess.run(
        [
            "openssl",
            "req",
            "-x509",
            "-newkey",
            "rsa:2048",
            "-nodes",
            "-keyout",
            str(key),
            "-out",
            str(cert),
            "-days",
            "1",
            "-subj",
            "/CN=127.0.0.1",
        ],
        check=True,
        capture_output=True,
    )
    ctx = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    ctx.load_cert_chain(cert, key)
    return ctx


def _serve(capture: Capture, **kwargs) -> Iterator[SmtpServer]:
    port = _free_port()
    controller = Controller(capture, hostname="127.0.0.1", port=port, authenticator=capture.authenticate, **kwargs)
    controller.start()
    try:
        yield SmtpServer("127.0.0.1", port, capture)
    finally:
        controller.stop()


def plain_server() -> Iterator[SmtpServer]:
    """Plain SMTP, no login required (a fixture body: `yield from plain_server()`)."""
    yield from _serve(Capture(), auth_require_tls=False)


def tls_server(folder: Path) -> Iterator[SmtpServer]:
    """SMTP that offers STARTTLS and demands login, only after TLS (a fixture body)."""
    yield from _serve(Capture(), tls_context=_tls_context(folder), require_starttls=True, auth_required=True)
