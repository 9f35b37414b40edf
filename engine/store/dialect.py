"""What differs between SQLite and PostgreSQL in the store's one SQL text, and nothing else.

Every query is written once, in the `?` and `:name` placeholders SQLite takes. PostgreSQL's
driver (psycopg) wants `%s` and `%(name)s`, so `to_pyformat` rewrites a statement once and
caches it. The rest of the differences are facts a query asks for by name: the clause that lets
a second scheduler pass over rows another has locked, and how a database is named by its URL.
"""

from __future__ import annotations

import re
from functools import lru_cache
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

POSTGRES_SCHEMES = ("postgresql://", "postgres://")
_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")


def is_postgres(target: str | Path) -> bool:
    """Whether a database target is a PostgreSQL URL (anything else is an SQLite file path)."""
    return isinstance(target, str) and target.startswith(POSTGRES_SCHEMES)


def shown(target: str | Path) -> str:
    """A database target fit to print: a URL without its password."""
    text = str(target)
    if not is_postgres(text):
        return text
    parts = urlsplit(text)
    if parts.password is None:
        return text
    host = parts.hostname or ""
    netloc = f"{parts.username}:***@{host}" + (f":{parts.port}" if parts.port else "")
    return urlunsplit(parts._replace(netloc=netloc))


@lru_cache(maxsize=1024)
def to_pyformat(sql: str) -> str:
    """Rewrite `?` and `:name` placeholders as psycopg's `%s` and `%(name)s` (literals untouched)."""
    out: list[str] = []
    i, n = 0, len(sql)
    while i < n:
        ch = sql[i]
        if ch == "'":  # a string literal is copied whole, quotes doubled inside it included
            end = i + 1
            while end < n:
                if sql[end] == "'":
                    if end + 1 < n and sql[end + 1] == "'":
                        end += 2
                        continue
                    break
                end += 1
            out.append(sql[i : end + 1].replace("%", "%%"))
            i = end + 1
        elif ch == "?":
            out.append("%s")
            i += 1
        elif ch == ":" and i + 1 < n and sql[i + 1] == ":":  # a PostgreSQL cast, `::text`
            out.append("::")
            i += 2
        elif ch == ":" and (match := _NAME.match(sql, i + 1)):
            out.append(f"%({match.group()})s")
            i = match.end()
        elif ch == "%":
            out.append("%%")
            i += 1
        else:
            out.append(ch)
            i += 1
    return "".join(out)
