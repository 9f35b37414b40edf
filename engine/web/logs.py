"""Access logs without secrets: a password-reset link in a log is a way into someone's account."""

from __future__ import annotations

import logging
import re

# A reset link's token is the last part of its path; a token may also ride in a query string.
_SECRETS = re.compile(r"(/auth/reset/)[^\s\"?/]+|((?:^|[?&])(?:token|code)=)[^\s\"&]+")
ACCESS_LOGGERS = ("werkzeug", "gunicorn.access")


def redact(text: str) -> str:
    """The text with every reset token and token-like query value replaced by [redacted]."""
    return _SECRETS.sub(lambda m: (m.group(1) or m.group(2)) + "[redacted]", text)


class RedactSecrets(logging.Filter):
    """Rewrites each access-log record so no token reaches a log file or the console."""

    def filter(self, record: logging.LogRecord) -> bool:
        """Redact the message and any string arguments; always keep the record."""
        record.msg = redact(str(record.msg))
        if isinstance(record.args, tuple):
            record.args = tuple(redact(a) if isinstance(a, str) else a for a in record.args)
        elif isinstance(record.args, dict):  # gunicorn's access log passes a mapping of atoms
            record.args = {
                k: redact(v) if isinstance(v, str) else v for k, v in record.args.items()
            }
        return True


def redact_access_logs() -> None:
    """Attach the filter to the access loggers of Werkzeug's and gunicorn's servers, once."""
    for name in ACCESS_LOGGERS:
        logger = logging.getLogger(name)
        if not any(isinstance(f, RedactSecrets) for f in logger.filters):
            logger.addFilter(RedactSecrets())
