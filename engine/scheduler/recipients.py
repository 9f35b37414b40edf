"""Who a message reaches, worked out when it is sent, and the page each of them acts on.

A programme says who is told by role (`to: [applicant]`). The people behind a role are read at
send time, so a colleague added after the case started is told, and someone who left is not:
- `applicant`: the people of the case's organisation who apply for it;
- `caseworker`: the organisation's caseworkers in the programme;
- `commissioner` and `assessor`: the staff who hold that role in the programme (a switched-off
  account is told nothing).
"""

from __future__ import annotations

from typing import Any

from engine.store import StoreContract

ORGANISATION_ROLES = ("applicant", "caseworker")
# The page a person opens to act on a case, by role; the web app's routes (a test checks each
# one resolves to a page). The scheduler is not a web process, so it cannot ask Flask.
CASE_PAGES = {
    "applicant": "/apply/cases/{reference}",
    "caseworker": "/casework/cases/{reference}",
    "commissioner": "/commission/cases/{reference}",
    "assessor": "/assess/cases/{reference}",
}


def addresses(
    store: StoreContract, role: str, case: dict[str, Any] | None, programme_id: str
) -> tuple[list[str], str]:
    """The email addresses of the people a role means for this case, and why none if none."""
    if role in ORGANISATION_ROLES:
        organisation = case.get("organisation_id") if case else None
        if not organisation:
            return [], f"there is no organisation to tell ({role})"
        if role == "caseworker":  # the organisation's caseworkers in this programme
            found = store.role_addresses(role, programme_id, organisation)
        else:
            found = store.addresses(role, organisation)
        return found, "" if found else f"nobody at the organisation has the {role} role"
    # staff are told only about the programmes their role covers
    found = store.role_addresses(role, programme_id)
    return found, "" if found else f"nobody has the {role} role in this programme"


def case_link(base_url: str, role: str, reference: str) -> str:
    """The full address of the page where someone in `role` acts on the case."""
    path = CASE_PAGES.get(role, "/").format(reference=reference)
    return base_url.rstrip("/") + path
