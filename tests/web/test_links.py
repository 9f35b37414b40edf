"""Links in reminders lead to real pages: each role's case page as the scheduler writes it."""

from __future__ import annotations

from flask import Flask

from engine.scheduler.recipients import CASE_PAGES, case_link


def test_each_roles_case_link_is_a_page_of_the_web_app(app: Flask) -> None:
    adapter = app.url_map.bind("localhost")
    for role in CASE_PAGES:
        link = case_link("https://funding.example.org/", role, "LIV-000001")
        assert link.startswith("https://funding.example.org/")
        endpoint, values = adapter.match(link.removeprefix("https://funding.example.org"))
        assert endpoint.split(".")[0] in ("apply", "casework", "commission", "assess"), endpoint
        assert values == {"ref": "LIV-000001"}
