"""What each applicant in the deadline rush (scripts/bench_rush.py) answers: varied values for
every page of Liverpool's expression of interest, all within the nine eligibility criteria, how
the engine keeps each kind, and a multipart body for pages with an upload.
"""

from __future__ import annotations

import random
import secrets
from typing import Any

# the answers vary by applicant, within what meets the nine eligibility criteria
KINDS_OF_ORGANISATION = ["registered_charity", "cio", "company_limited_by_guarantee", "community_benefit_society"]  # fmt: skip
PRIORITIES = ["parental_family_wellbeing", "social_isolation", "employability", "physical_activity", "marginalised_groups"]  # fmt: skip
PDF = (
    b"%PDF-1.4\n"
    + b"% padding to the size of a short scanned document\n" * 960
    + b"1 0 obj<</Type/Catalog/Pages 2 0 R>>endobj 2 0 obj<</Type/Pages/Kids[]/Count 0>>endobj\n"
    + b"trailer<</Root 1 0 R>>\n%%EOF\n"
)


# ---- what each applicant answers: (question, kind, value) per page, all eligible ----


def answers_for(i: int, rng: random.Random) -> dict[str, list[tuple[str, str, Any]]]:
    """Applicant i's answers to the expression of interest, page by page."""
    words = [
        "we",
        "run",
        "peer",
        "support",
        "groups",
        "and",
        "wellbeing",
        "cafes",
        "in",
        "the",
        "city",
    ]
    outline = " ".join(rng.choice(words) for _ in range(rng.randint(60, 160)))
    return {
        "organisation": [
            ("organisation_name", "text", f"Rush Organisation {i:03d}"),
            ("registration_number", "text", str(1_100_000 + i)),
            ("organisation_address", "text", f"{i + 1} Dale Street\nLiverpool"),
            ("organisation_postcode", "text", "L2 2DH"),
            ("website", "text", f"https://rush{i:03d}.example.org"),
        ],
        "contact": [
            ("contact_name", "text", f"Applicant {i:03d}"),
            ("contact_role", "text", rng.choice(["Director", "Chief Executive", "Trustee"])),
            ("contact_email", "text", email(i)),
            ("contact_phone", "text", f"0151 {100 + i:03d} {4000 + i:04d}"),
        ],
        "type_and_governance": [
            ("organisation_type", "text", rng.choice(KINDS_OF_ORGANISATION)),
            ("has_governing_document", "yesno", True),
            ("has_charitable_objectives", "yesno", True),
            (
                "charitable_objectives",
                "text",
                "To improve the mental health and wellbeing of people in Liverpool.",
            ),
            ("governing_document_upload", "file", "constitution.pdf"),
        ],
        "established": [("date_established", "date", day(rng, range(1990, 2020)))],
        "finances": [
            ("income", "number", 750_001 + rng.randint(0, 2_000_000)),
            ("accounts_year_end", "date", (31, 3, 2021)),
            ("accounts_type", "text", rng.choice(["annual_accounts", "income_expenditure"])),
            ("accounts_upload", "file", "accounts-2021.pdf"),
            ("has_bank_account", "yesno", True),
            ("bank_signatories", "number", rng.randint(2, 5)),
        ],
        "beneficiaries": [
            ("liverpool_beneficiaries_percent", "number", rng.randint(75, 100)),
            (
                "beneficiaries_evidence",
                "text",
                "Postcodes of everyone who used our services in 2021.",
            ),
        ],
        "safeguarding": [
            ("safeguarding_policy_up_to_date", "yesno", True),
            ("safeguarding_policy_reviewed", "date", day(rng, [2021])),
            ("safeguarding_policy_upload", "file", "safeguarding.pdf"),
        ],
        "mobilisation": [("mobilisation_date", "date", day(rng, [2022], months=(2, 3)))],
        "project_idea": [
            ("priorities_of_interest", "list", sorted(rng.sample(PRIORITIES, rng.randint(1, 3)))),
            ("project_outline", "text", outline),
        ],
        "declaration": [("eoi_declaration_confirmed", "yesno", True)],
    }


def day(rng: random.Random, years: Any, months: tuple[int, int] = (1, 12)) -> tuple[int, int, int]:
    """A date as the three boxes of a date input: day, month, year."""
    return rng.randint(1, 28), rng.randint(*months), rng.choice(list(years))


def email(i: int) -> str:
    return f"rush{i:03d}@example.org"


def stored(kind: str, value: Any) -> Any:
    """What the store should hold for an answer sent as this."""
    if kind == "date":
        day, month, year = value
        return f"{year:04d}-{month:02d}-{day:02d}"
    if kind == "file":
        return {"name": value, "size": len(PDF)}
    return value


def same(kind: str, expected: Any, held: Any) -> bool:
    if kind == "file":
        return isinstance(held, dict) and held.get("name") == expected["name"] and held.get("size") == expected["size"]  # fmt: skip
    if kind == "number":
        return isinstance(held, int | float) and float(held) == float(expected)
    return held == expected


def multipart(fields: list[tuple[str, str]], files: list[tuple[str, str, bytes]]) -> tuple[bytes, str]:  # fmt: skip
    """A multipart/form-data body, as a browser sends the page's form; and its content type."""
    boundary = f"----rush{secrets.token_hex(12)}"
    parts = [
        f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"\r\n\r\n{value}\r\n'.encode()
        for name, value in fields
    ]
    for name, filename, data in files:  # no file chosen: an empty part, as a browser sends
        kind = "application/pdf" if data else "application/octet-stream"
        parts.append(f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"; '
                     f'filename="{filename}"\r\nContent-Type: {kind}\r\n\r\n'.encode() + data + b"\r\n")  # fmt: skip
    parts.append(f"--{boundary}--\r\n".encode())
    return b"".join(parts), f"multipart/form-data; boundary={boundary}"
