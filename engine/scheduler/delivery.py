"""Delivering the outbox: to files and the console by default, or by SMTP or GOV.UK Notify.

Messages are written to the outbox table in the same transaction as the reminder that caused
them, one per recipient with their address. Delivery happens after, message by message: a
sender claims a message (a compare-and-set that commits before anything is sent), sends it,
then marks it delivered. Two schedulers therefore never send the same message, and a sender
killed mid-send leaves its claims behind: when they run out (`CLAIM_FOR`) another sender sends
them, and of those only the one that was in flight had already gone, so at most that one
message can arrive twice.
Each message carries its idempotency key (`message_key`): GOV.UK Notify's `reference` and the
email's `Message-ID`.
"""

from __future__ import annotations

import contextlib
import os
import smtplib
import socket
import ssl
import sys
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from email.message import EmailMessage
from email.utils import formatdate
from pathlib import Path
from typing import Any, Protocol

from engine.store import StoreContract

CLAIM_FOR = timedelta(minutes=5)  # far longer than one send; a dead sender's claim then lapses
MAX_ATTEMPTS = 5  # tries before a message is given up on and shown as not delivered
CLAIM_AT_ONCE = 25  # messages claimed in one transaction


class Backend(Protocol):
    """Something that can hand a message to a person."""

    name: str

    def send(self, message: dict[str, Any]) -> None:
        """Deliver one outbox message; raise if it could not be handed over."""


class Undeliverable(Exception):
    """The message can never be delivered as it is (no address, an address refused for good)."""


def message_key(message: dict[str, Any]) -> str:
    """The message's idempotency key: the same message always has the same key."""
    return f"commission-outbox-{message['id']}"


def _recipient(message: dict[str, Any]) -> str:
    if message.get("to_address"):
        return str(message["to_address"])
    org = f" of {message['organisation_id']}" if message.get("organisation_id") else ""
    return f"{message['to_role']}{org}"


def _address(message: dict[str, Any]) -> str:
    if not message.get("to_address"):
        raise Undeliverable(f"there is no email address for {_recipient(message)}")
    return str(message["to_address"])


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
            f"Date: {message['created_at']}\nMessage-ID: <{message_key(message)}>\n\n"
            f"{message['body']}\n"
        )
        tmp = target.with_suffix(f".{uuid.uuid4().hex}.tmp")  # two senders never share a temp
        tmp.write_text(text, "utf-8")
        os.replace(tmp, target)  # readers never see half a message
        if self.echo:
            print(f"[outbox] to {_recipient(message)}: {message['subject']}", file=sys.stderr)


@dataclass
class SmtpBackend:
    """Sends by SMTP, with STARTTLS (unless told the server has none) and a login if given."""

    host: str
    port: int = 587
    username: str | None = None
    password: str | None = None
    sender: str = "no-reply@example.org"
    starttls: bool = True
    ca_file: str | None = None  # a private CA the server's certificate is signed by, if not public
    name: str = "smtp"
    _smtp: smtplib.SMTP | None = field(default=None, repr=False)

    def _connection(self) -> smtplib.SMTP:
        """One connection for a run of messages (opened again if the server dropped it)."""
        if self._smtp is not None:
            try:
                self._smtp.noop()
                return self._smtp
            except smtplib.SMTPException:
                self._smtp = None
        smtp = smtplib.SMTP(self.host, self.port, timeout=30)
        if self.starttls:
            # verified: smtplib's own default would encrypt to any certificate at all
            smtp.starttls(context=ssl.create_default_context(cafile=self.ca_file))
        if self.username:
            smtp.login(self.username, self.password or "")
        self._smtp = smtp
        return smtp

    def send(self, message: dict[str, Any]) -> None:
        """Send one message to its one address, with its key as the Message-ID."""
        email = EmailMessage()
        email["From"] = self.sender
        email["To"] = _address(message)
        email["Subject"] = message["subject"]
        email["Date"] = formatdate(localtime=False)
        domain = self.sender.rpartition("@")[2] or socket.getfqdn()
        email["Message-ID"] = f"<{message_key(message)}@{domain}>"
        email.set_content(message["body"])
        try:
            self._connection().send_message(email)
        except smtplib.SMTPRecipientsRefused as exc:
            codes = [code for code, _text in exc.recipients.values()]
            if all(500 <= c < 600 for c in codes):  # 5xx: the address is refused for good
                raise Undeliverable(f"the mail server refused {email['To']}: {codes[0]}") from None
            raise
        except (smtplib.SMTPServerDisconnected, OSError):
            self._smtp = None
            raise

    def close(self) -> None:
        """Say goodbye to the server, if connected."""
        if self._smtp is not None:
            with contextlib.suppress(smtplib.SMTPException, OSError):  # it may be gone already
                self._smtp.quit()
            self._smtp = None


@dataclass
class NotifyBackend:
    """Sends through GOV.UK Notify with one email template whose fields are subject and body."""

    api_key: str
    template_id: str
    name: str = "notify"
    base_url: str | None = None  # Notify's API, unless a deployment points elsewhere

    def send(self, message: dict[str, Any]) -> None:
        """Send one message through Notify, with its key as Notify's `reference`."""
        from notifications_python_client.errors import HTTPError
        from notifications_python_client.notifications import NotificationsAPIClient

        kwargs = {"base_url": self.base_url} if self.base_url else {}
        client = NotificationsAPIClient(self.api_key, **kwargs)
        try:
            client.send_email_notification(
                email_address=_address(message),
                template_id=self.template_id,
                personalisation={"subject": message["subject"], "body": message["body"]},
                reference=message_key(message),
            )
        except HTTPError as exc:
            if exc.status_code == 400:  # Notify's "bad request": this message will never go
                raise Undeliverable(f"GOV.UK Notify refused it: {exc.message}") from None
            raise


def backend_from_env(outbox_dir: Path) -> Backend:
    """The backend the environment asks for: COMMISSION_NOTIFY=file (default), smtp or notify."""
    kind = os.environ.get("COMMISSION_NOTIFY", "file")
    if kind == "smtp":
        return SmtpBackend(os.environ["SMTP_HOST"], int(os.environ.get("SMTP_PORT", "587")),
                           os.environ.get("SMTP_USERNAME"), os.environ.get("SMTP_PASSWORD"),
                           os.environ.get("SMTP_SENDER", "no-reply@example.org"),
                           os.environ.get("SMTP_STARTTLS", "1") != "0",
                           os.environ.get("SMTP_CA_FILE"))  # fmt: skip
    if kind == "notify":
        return NotifyBackend(os.environ["NOTIFY_API_KEY"], os.environ["NOTIFY_TEMPLATE_ID"],
                             base_url=os.environ.get("NOTIFY_BASE_URL"))  # fmt: skip
    return FileBackend(outbox_dir)


def deliver(
    store: StoreContract,
    backend: Backend,
    *,
    clock: Any = None,
    sender: str | None = None,
    batch: int = 500,
) -> int:
    """Send every message that is due to go, each exactly once; the number delivered."""
    now_of = clock or (lambda: datetime.now(UTC))
    me = sender or f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"
    sent = 0
    tried: set[int] = set()  # a message that failed waits for the next run, not this one
    try:
        while True:
            moment = now_of().astimezone(UTC)
            waiting = [
                m for m in store.undelivered(batch, moment.isoformat()) if m["id"] not in tried
            ]
            if not waiting:
                return sent
            for start in range(0, len(waiting), CLAIM_AT_ONCE):
                chunk = waiting[start : start + CLAIM_AT_ONCE]
                tried.update(m["id"] for m in chunk)
                for message in _claim(store, chunk, me, now_of):
                    sent += _deliver_one(store, backend, message, now_of)
    finally:
        close = getattr(backend, "close", None)
        if close is not None:
            close()


def _claim(
    store: StoreContract, messages: list[dict[str, Any]], me: str, now_of: Any
) -> list[dict[str, Any]]:
    """The messages this sender won, claimed in one transaction committed before any is sent.

    Claiming a few at once costs one commit instead of one each; a sender that dies holding
    claims has sent none of the rest, so when the claims lapse they go once, not twice.
    """
    moment = now_of().astimezone(UTC)
    until = (moment + CLAIM_FOR).isoformat()
    with store.transaction(serial=False):  # rows locked one by one: no writer-wide lock needed
        won = store.claim_messages([m["id"] for m in messages], me, moment.isoformat(), until)
    return [m for m in messages if m["id"] in won]


def _deliver_one(
    store: StoreContract, backend: Backend, message: dict[str, Any], now_of: Any
) -> int:
    """Send one claimed message and mark it at once: 1 if delivered."""
    try:
        backend.send(message)
    except Undeliverable as exc:
        _failed(store, message, str(exc), now_of, give_up=True)
        return 0
    except Exception as exc:  # one bad message or a blip must not stop the others
        tries = int(message.get("attempts") or 0) + 1
        _failed(
            store, message, f"{type(exc).__name__}: {exc}", now_of, give_up=tries >= MAX_ATTEMPTS
        )
        return 0
    # marked on its own, straight after sending: a crash now can repeat only this one message
    with store.transaction(serial=False):
        store.mark_delivered(message["id"], backend.name, now_of().astimezone(UTC).isoformat())
    return 1


def _failed(store: StoreContract, message: dict[str, Any], error: str, now_of: Any, *, give_up: bool) -> None:  # fmt: skip
    print(f"[outbox] message {message['id']} to {_recipient(message)} not delivered: {error}", file=sys.stderr)  # fmt: skip
    with store.transaction(serial=False):
        store.mark_not_delivered(message["id"], error, now_of().astimezone(UTC).isoformat(), give_up=give_up)  # fmt: skip
