"""Delivering the outbox: to files and the console by default, or by SMTP or GOV.UK Notify.

Messages are written to the outbox table in the same transaction as the reminder that caused
them; delivery happens after, and a message is marked delivered only once handed over. The file
backend names each file after the message, so delivering again after a crash rewrites the same
file rather than making a second one.
"""

from __future__ import annotations

import os
import smtplib
import sys
from dataclasses import dataclass
from datetime import UTC, datetime
from email.message import EmailMessage
from pathlib import Path
from typing import Any, Protocol

from engine.store import StoreContract


class Backend(Protocol):
    """Something that can hand a message to a person."""

    name: str

    def send(self, message: dict[str, Any]) -> None:
        """Deliver one outbox message; raise if it could not be handed over."""


def _recipient(message: dict[str, Any]) -> str:
    if message.get("to_address"):
        return str(message["to_address"])
    org = f" of {message['organisation_id']}" if message.get("organisation_id") else ""
    return f"{message['to_role']}{org}"


@dataclass
class FileBackend:
    """Writes each message to `<folder>/<id>.txt` (atomically) and prints a line to the console."""

    folder: Path
    echo: bool = True
    name: str = "file"

    def send(self, message: dict[str, Any]) -> None:
        """Write the message file; the same message always lands in the same file."""
        self.folder.mkdir(parents=True, exist_ok=True)
        target = self.folder / f"{message['id']:08d}.txt"
        text = (
            f"To: {_recipient(message)}\nSubject: {message['subject']}\n"
            f"Date: {message['created_at']}\n\n{message['body']}\n"
        )
        tmp = target.with_suffix(".tmp")
        tmp.write_text(text, "utf-8")
        os.replace(tmp, target)  # readers never see half a message
        if self.echo:
            print(f"[outbox] to {_recipient(message)}: {message['subject']}", file=sys.stderr)


@dataclass
class SmtpBackend:
    """Sends by SMTP (at-least-once: a crash after sending and before marking may resend)."""

    host: str
    port: int = 587
    username: str | None = None
    password: str | None = None
    sender: str = "no-reply@example.org"
    name: str = "smtp"

    def send(self, message: dict[str, Any]) -> None:
        """Send one message; only messages with an address are sent."""
        if not message.get("to_address"):
            raise ValueError(
                f"message {message['id']} has no email address for {_recipient(message)}"
            )
        email = EmailMessage()
        email["From"], email["To"], email["Subject"] = (
            self.sender,
            message["to_address"],
            message["subject"],
        )
        email.set_content(message["body"])
        with smtplib.SMTP(self.host, self.port, timeout=30) as smtp:
            smtp.starttls()
            if self.username:
                smtp.login(self.username, self.password or "")
            smtp.send_message(email)


@dataclass
class NotifyBackend:
    """Sends through GOV.UK Notify with one generic email template (subject and body as fields)."""

    api_key: str
    template_id: str
    name: str = "notify"

    def send(self, message: dict[str, Any]) -> None:
        """Send one message through Notify (needs the notifications-python-client package)."""
        from notifications_python_client.notifications import NotificationsAPIClient  # type: ignore[import-not-found]

        client = NotificationsAPIClient(self.api_key)
        client.send_email_notification(
            email_address=message["to_address"],
            template_id=self.template_id,
            personalisation={"subject": message["subject"], "body": message["body"]},
            reference=f"outbox-{message['id']}",
        )


def backend_from_env(outbox_dir: Path) -> Backend:
    """The backend the environment asks for: COMMISSION_NOTIFY=file (default), smtp or notify."""
    kind = os.environ.get("COMMISSION_NOTIFY", "file")
    if kind == "smtp":
        return SmtpBackend(os.environ["SMTP_HOST"], int(os.environ.get("SMTP_PORT", "587")),
                           os.environ.get("SMTP_USERNAME"), os.environ.get("SMTP_PASSWORD"),
                           os.environ.get("SMTP_SENDER", "no-reply@example.org"))  # fmt: skip
    if kind == "notify":
        return NotifyBackend(os.environ["NOTIFY_API_KEY"], os.environ["NOTIFY_TEMPLATE_ID"])
    return FileBackend(outbox_dir)


def deliver(store: StoreContract, backend: Backend, limit: int = 1000) -> int:
    """Hand every undelivered message to the backend; the number delivered."""
    sent = 0
    batch: list[int] = []

    def record() -> None:
        # marked in batches: a crash before marking only means the file is written again
        with store.transaction():
            stamp = datetime.now(UTC).isoformat()
            for message_id in batch:
                store.mark_delivered(message_id, backend.name, stamp)
        batch.clear()

    for message in store.undelivered(limit):
        try:
            backend.send(message)
        except Exception as exc:  # one bad address must not stop the others
            print(f"[outbox] message {message['id']} not delivered: {exc}", file=sys.stderr)
            continue
        batch.append(message["id"])
        sent += 1
        if len(batch) >= 200:
            record()
    if batch:
        record()
    return sent
