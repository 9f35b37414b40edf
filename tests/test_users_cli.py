"""`commission users`: the first administrator of a fresh deployment, and staff at the command line."""

from __future__ import annotations

from click.testing import CliRunner, Result

from engine.cli import main
from engine.store import Store

from .conftest import ROOT

LIVERPOOL = "liverpool_life_rooms_2022"


def run(database: str, *args: str) -> Result:
    # no COMMISSION_SECRET_KEY in this shell: an operator's terminal often has none
    env = {"COMMISSION_DB": database, "COMMISSION_BASE_URL": "https://funding.example.gov.uk",
           "COMMISSION_NOW": "2022-01-20T10:00", "COMMISSION_SECRET_KEY": ""}  # fmt: skip
    return CliRunner().invoke(main, list(args), env=env)


def test_the_first_administrator_is_added_and_invited_on_an_empty_database(database: str) -> None:
    assert run(database, "publish", str(ROOT / "programmes" / "liverpool.yaml")).exit_code == 0
    added = run(database, "users", "add", "Root@Council.example", "--name", "Rhea Root", "--role", "admin", "--show-link")  # fmt: skip
    assert added.exit_code == 0, added.output
    assert "Added root@council.example and emailed an invitation" in added.output
    link = added.output.split("Invitation link (works once): ")[1].strip()
    assert link.startswith("https://funding.example.gov.uk/auth/reset/")
    store = Store(database)
    (message,) = store.outbox_for("root@council.example")
    assert link in message["body"] and "as administrator" in message["body"]
    listed = run(database, "users", "list")
    assert "Rhea Root <root@council.example> (invited): admin" in listed.output
    # the only administrator stays: switching them off would leave nobody to invite staff
    off = run(database, "users", "disable", "root@council.example")
    assert off.exit_code == 1
    assert "This is the only administrator: make someone else an administrator first" in off.output


def test_a_mistyped_programme_makes_no_account_and_says_what_was_meant(database: str) -> None:
    run(database, "publish", str(ROOT / "programmes" / "liverpool.yaml"))
    wrong = run(database, "users", "add", "cora@council.example", "--name", "Cora", "--role", "commissioner",
                "--programme", "liverpool_life_room")  # fmt: skip
    assert wrong.exit_code == 1
    assert (
        f'there is no programme "liverpool_life_room"; did you mean "{LIVERPOOL}"?' in wrong.output
    )
    assert Store(database).user_by_email("cora@council.example") is None  # nothing half-made
    right = run(database, "users", "add", "cora@council.example", "--name", "Cora", "--role", "commissioner",
                "--programme", LIVERPOOL)  # fmt: skip
    assert right.exit_code == 0, right.output
    assert "Cora <cora@council.example> (invited): commissioner of The Life Rooms" in run(database, "users", "list").output  # fmt: skip
    assert run(database, "users", "disable", "cora@council.example").output.strip() == "cora@council.example: switched off"  # fmt: skip
    again = run(database, "users", "invite", "nobody@council.example")
    assert (
        again.exit_code == 1
        and "there is no staff account for nobody@council.example" in again.output
    )
