"""Security headers on every response, added as it leaves the app; the nonce of a page's script.

A WSGI wrapper rather than a Flask `after_request` hook: the headers are fixed text (bar the
nonce), so they are appended to the header list as they are, where Werkzeug would check and
copy each one again on every page; and a response that never reaches the hooks gets them too.
"""

from __future__ import annotations

import secrets
from collections.abc import Callable, Iterable
from typing import Any

from flask import request

NONCE = "commission.csp_nonce"
STYLE = "commission.csp_style"
CACHEABLE = "commission.cacheable"
_CSP = (
    "default-src 'self'; script-src 'self' 'nonce-{nonce}'; style-src {style}; "
    "img-src 'self' data:; font-src 'self'; connect-src 'self'; object-src 'none'; "
    "base-uri 'self'; form-action 'self'; frame-ancestors 'none'"
)
_FIXED = [
    ("X-Frame-Options", "DENY"),
    ("X-Content-Type-Options", "nosniff"),
    ("Referrer-Policy", "same-origin"),
    ("Cross-Origin-Opener-Policy", "same-origin"),
    ("Permissions-Policy", "camera=(), microphone=(), geolocation=()"),
]


class SecurityHeaders:
    """Wraps the app: a fresh nonce per request, and the security headers on its response."""

    def __init__(self, app: Callable[..., Iterable[bytes]]) -> None:
        self.app = app

    def __call__(
        self, environ: dict[str, Any], start_response: Callable[..., Any]
    ) -> Iterable[bytes]:
        """Serve one request, adding the headers as the response starts."""
        nonce = environ[NONCE] = secrets.token_urlsafe(16)

        def start(status: str, headers: list[tuple[str, str]], exc_info: Any = None) -> Any:
            style = environ.get(STYLE, "'self'")
            headers.append(("Content-Security-Policy", _CSP.format(nonce=nonce, style=style)))
            headers.extend(_FIXED)
            if not (environ.get(CACHEABLE) and status[:3] in ("200", "206", "304")):
                # pages hold personal data and answers: never kept by a shared browser or proxy
                # (nor is the error page of a static file that is not there: it is a page)
                headers[:] = [h for h in headers if h[0].lower() != "cache-control"]
                headers.append(("Cache-Control", "no-store"))
            return start_response(status, headers, exc_info)

        return self.app(environ, start)


def nonce() -> str:
    """This request's nonce for the page's inline script (one is made if the wrapper did not run)."""
    nonce = request.environ.get(NONCE)
    if nonce is None:
        nonce = request.environ[NONCE] = secrets.token_urlsafe(16)
    return nonce


def allow_inline_styles() -> None:
    """Loosen this response's styles (not scripts) to inline ones: a drawn diagram needs them."""
    request.environ[STYLE] = "'self' 'unsafe-inline'"


def allow_nonce_styles() -> None:
    """Let this response's scripts add style elements carrying its nonce (a code editor's own
    styles), and no other inline styles."""
    request.environ[STYLE] = f"'self' 'nonce-{nonce()}'"


def cacheable() -> None:
    """Let browsers keep this response (static files only: pages are never kept)."""
    request.environ[CACHEABLE] = True
