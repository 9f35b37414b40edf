"""The fixed words of the programme language that both the checks and the reports rely on.

Which question types are choices and which can be banded, how bands are labelled, and what part
of a postcode may be shown. Imports nothing from the engine: the definition checks a file with
these rules and reporting counts with the same ones.
"""

from __future__ import annotations

import re
from itertools import pairwise
from typing import Any

CHOICE = frozenset({"radios", "select", "checkboxes", "yesno"})
BANDED = frozenset({"number", "decimal", "money", "percent", "scale", "date"})
COUNTABLE = CHOICE | BANDED | {"postcode"}


def band_labels(bands: list[float]) -> list[str]:
    """`[18, 25, 65]` → under 18, 18 to 24, 25 to 64, 65 and over."""
    labels = [f"under {_num(bands[0])}"]
    for lo, hi in pairwise(bands):
        upper = hi - 1 if float(lo).is_integer() and float(hi).is_integer() else hi
        labels.append(f"{_num(lo)} to {_num(upper)}" if upper != lo else _num(lo))
    labels.append(f"{_num(bands[-1])} and over")
    return labels


_POSTCODE = re.compile(r"^[A-Z]{1,2}[0-9][A-Z0-9]?$")


def postcode_district(value: Any) -> str | None:
    """The outward code (district) of a postcode or its first characters; None if it has none."""
    if not isinstance(value, str):
        return None
    text = value.strip().upper()
    if " " in text:
        text = text.split()[0]
    elif len(text) >= 5:  # a full postcode written without its space: drop the inward code
        text = text[:-3]
    return text if _POSTCODE.match(text) else None


def _num(x: float) -> str:
    return f"{x:g}"
