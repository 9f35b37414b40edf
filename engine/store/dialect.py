"""What differs between SQLite and PostgreSQL in the store's one SQL text, and nothing else.

Every query is written once, in the `?` and `:name` placeholders SQLite takes. PostgreSQL
numbers its parameters (`$1`, `$2`…), so `to_numbered` rewrites a statement once and caches it. The rest of the differences are facts a query asks for by name: the clause that lets
a second scheduler pass over rows another has locked, and how a database is named by its URL.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
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
def to_numbered(sql: str) -> tuple[bytes, tuple[int | str, ...]]:
    """Rewrite `?` and `:name` as the server's `$1`, `$2`… and say which value each number takes:
    the position of a `?` among them, or the name (a name used twice is one number)."""
    order: list[int | str] = []

    def number(name: str | None) -> str:
        if name is None:
            order.append(sum(1 for o in order if isinstance(o, int)))
        elif name in order:
            return f"${order.index(name) + 1}"
        else:
            order.append(name)
        return f"${len(order)}"

    return "".join(_pieces(sql, number)).encode(), tuple(order)


def _pieces(sql: str, place: Callable[[str | None], str]) -> Iterator[str]:
    """The statement in pieces, each placeholder as `place` writes it (None for a `?`); string
    literals and `::` casts untouched."""
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
            yield sql[i : end + 1]
            i = end + 1
        elif ch == "?":
            yield place(None)
            i += 1
        elif ch == ":" and i + 1 < n and sql[i + 1] == ":":  # a PostgreSQL cast, `::text`
            yield "::"
            i += 2
        elif ch == ":" and (match := _NAME.match(sql, i + 1)):
            yield place(match.group())
            i = match.end()
        else:
            yield ch
            i += 1
