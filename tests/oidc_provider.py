"""A real OpenID Connect provider on this machine for the staff sign-in tests (oidc-provider-mock).

It serves discovery, its signing keys, an authorize page and a token endpoint, and signs real ID
tokens, so the app's Authlib client does the whole protocol against it. A test says who a
subject is (their claims), then plays the person at the provider's authorize page.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote

import oidc_provider_mock
import requests

_TIMEOUT = 10


@dataclass(frozen=True)
class Provider:
    """The running provider: its issuer URL, and what a person does at it."""

    issuer: str

    def person(self, sub: str, **claims: Any) -> None:
        """Say who the subject `sub` is: the claims the provider will put in their ID token."""
        response = requests.put(
            f"{self.issuer}/users/{quote(sub, safe='')}", json=claims, timeout=_TIMEOUT
        )
        assert response.status_code == 204, response.text

    def sign_in_as(self, authorize_url: str, sub: str) -> str:
        """Sign in at the provider's page as `sub`; the address it sends the browser back to."""
        return self._answer(authorize_url, {"sub": sub})

    def cancel(self, authorize_url: str) -> str:
        """Press the provider's Deny button; the address it sends the browser back to."""
        return self._answer(authorize_url, {"action": "deny"})

    def _answer(self, authorize_url: str, form: dict[str, str]) -> str:
        assert authorize_url.startswith(f"{self.issuer}/"), authorize_url
        page = requests.get(authorize_url, timeout=_TIMEOUT)
        assert page.status_code == 200, page.text  # the provider accepted the request
        response = requests.post(authorize_url, data=form, allow_redirects=False, timeout=_TIMEOUT)
        assert response.status_code == 302, response.text
        return str(response.headers["Location"])


@contextmanager
def running_provider() -> Iterator[Provider]:
    """A provider on a free port for as long as the block runs; it insists on a nonce."""
    with oidc_provider_mock.run_server_in_thread(require_nonce=True) as server:
        yield Provider(f"http://localhost:{server.server_port}")
