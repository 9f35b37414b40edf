"""GOV.UK Notify's email endpoint on 127.0.0.1, as its API documents it, for the delivery tests.

Notify itself cannot be reached from here. This stands in for its `POST /v2/notifications/email`
only: it checks the client's signed token (the service id and secret from the API key) and the
request's fields, records each, and answers as Notify does (201, or 400 with its error shape).
"""

from __future__ import annotations

import json
import threading
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import jwt


@dataclass
class NotifyService:
    """One Notify service: its API key, and every email it was asked to send."""

    service_id: str = field(default_factory=lambda: str(uuid.uuid4()))
    secret: str = field(default_factory=lambda: str(uuid.uuid4()))
    refuse: set[str] = field(default_factory=set)
    sent: list[dict[str, Any]] = field(default_factory=list)

    @property
    def api_key(self) -> str:
        """The key as Notify issues it: name, service id, secret."""
        return f"test_key-{self.service_id}-{self.secret}"


def _handler(service: NotifyService) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def log_message(self, format: str, *args: Any) -> None:
            """Quiet: the tests read what was sent, not a log."""

        def _answer(self, status: int, body: dict[str, Any]) -> None:
            data = json.dumps(body).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def do_POST(self) -> None:
            """Check the token and fields; record the email or refuse it as Notify would."""
            token = self.headers.get("Authorization", "").removeprefix("Bearer ")
            try:
                claims = jwt.decode(token, service.secret, algorithms=["HS256"])
            except jwt.PyJWTError:
                return self._answer(403, {"status_code": 403, "errors": [{"error": "AuthError", "message": "Invalid token"}]})  # fmt: skip
            body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
            if self.path != "/v2/notifications/email" or claims.get("iss") != service.service_id:
                return self._answer(403, {"status_code": 403, "errors": [{"error": "AuthError", "message": "Invalid service"}]})  # fmt: skip
            if body["email_address"] in service.refuse:
                return self._answer(400, {"status_code": 400, "errors": [{"error": "BadRequestError", "message": "Can’t send to this recipient using a team-only API key"}]})  # fmt: skip
            service.sent.append(body)
            self._answer(201, {"id": str(uuid.uuid4()), "reference": body.get("reference"),
                               "content": {"subject": "", "body": ""}, "template": {"id": body["template_id"]}})  # fmt: skip

    return Handler


@contextmanager
def notify_api() -> Iterator[tuple[NotifyService, str]]:
    """A Notify service on 127.0.0.1 for the length of the block: (the service, its base URL)."""
    service = NotifyService()
    server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(service))
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield service, f"http://127.0.0.1:{server.server_port}"
    finally:
        server.shutdown()
        thread.join(timeout=10)
