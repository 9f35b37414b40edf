"""In real Chromium: an applicant completes the Liverpool expression of interest, from creating an
account to the confirmation page — a validation error on the way, signing out and back in with the
answers kept, and uploading files."""

from __future__ import annotations

import re
from typing import Any

from .conftest import Site, go, sign_in

EMAIL = "bea@harbour.example"
NEW_PASSWORD = "a long and careful passphrase"
PDF = b"%PDF-1.4\n1 0 obj<</Type/Catalog>>endobj\ntrailer<</Root 1 0 R>>\n%%EOF\n"


def pdf(name: str) -> dict[str, Any]:
    """A small PDF, as the file chooser would give it."""
    return {"name": name, "mimeType": "application/pdf", "buffer": PDF}


def heading(page: Any) -> str:
    """The page's main heading."""
    return page.locator("h1").first.inner_text().strip()


def save_and_continue(page: Any) -> None:
    """The page's main button: save, then the next page (or this one again, with errors)."""
    go(page, page.get_by_role("button", name="Save and continue"))


def date(page: Any, question: str, day: str, month: str, year: str) -> None:
    """Fill a GOV.UK date input (day, month, year boxes)."""
    page.locator(f"#{question}-day").fill(day)
    page.locator(f"#{question}-month").fill(month)
    page.locator(f"#{question}-year").fill(year)


def open_section(page: Any, title: str) -> None:
    """From the task list, open a section by its title."""
    go(page, page.locator("main").get_by_role("link", name=title, exact=True))
    assert heading(page) == title


def test_an_applicant_completes_the_liverpool_eoi_in_the_browser(page: Any, site: Site) -> None:
    # sign up from the start page
    page.goto(site.url)
    go(page, page.get_by_role("link", name="Create an account").first)
    assert heading(page) == "Create an account for your organisation"
    page.get_by_label("Your full name").fill("Bea Harbour")
    page.get_by_label("Your organisation's name").fill("Harbour Community Kitchen")
    page.get_by_label("Email address").fill(EMAIL)
    page.get_by_label("Password", exact=True).fill(NEW_PASSWORD)
    page.get_by_label(re.compile("Confirm", re.I)).fill(NEW_PASSWORD)
    go(page, page.get_by_role("button", name="Create account"))
    assert heading(page) == "Check your email"
    page.goto(site.url + site.emailed_link(EMAIL))  # the link in the email confirms the address
    assert page.get_by_text(f"Signed in as Bea Harbour ({EMAIL})").is_visible()

    # find the round and start an application
    go(page, page.get_by_role("link", name="Funding rounds").first)
    go(page, page.get_by_role("link", name="The Life Rooms VCSE Micro-Commissioning Programme"))
    assert heading(page) == "The Life Rooms VCSE Micro-Commissioning Programme"
    assert page.get_by_text("5pm on Monday 31 January 2022").count()
    go(page, page.get_by_role("button", name="Start an application"))
    assert heading(page) == "Start an application"
    go(page, page.get_by_role("button", name="Start", exact=True))
    reference = re.search(r"[A-Z]+-\d{6}", heading(page)).group(0)
    go(page, page.get_by_role("link", name="Expression of interest"))
    assert heading(page) == "Expression of interest"
    assert page.get_by_text("You have completed 0 of 10 sections").is_visible()

    # first section
    open_section(page, "Your organisation")
    page.get_by_label("What is your organisation's name?").fill("Harbour Community Kitchen")
    page.get_by_label("What is your organisation's address?").fill("2 Water Street, Liverpool")
    page.get_by_label("What is your organisation's postcode?").fill("L2 0RD")
    save_and_continue(page)

    # a validation error: the summary at the top links to the field, which keeps what was typed
    assert heading(page) == "Contact for this application"
    page.get_by_label("Full name").fill("Bea Harbour")
    page.get_by_label("Job title or role").fill("Coordinator")
    page.get_by_label("Email address").fill("bea-at-harbour")
    page.get_by_label("Telephone number").fill("0151 222 3333")
    save_and_continue(page)
    assert page.title().startswith("Error:")
    summary = page.locator(".govuk-error-summary")
    assert summary.is_visible()
    assert summary.evaluate("e => e === document.activeElement"), "the error summary takes focus"
    link = summary.get_by_role("link", name=re.compile("email address in the correct format"))
    assert link.get_attribute("href") == "#contact_email"
    link.click()
    assert page.evaluate("document.activeElement.id") == "contact_email"
    assert page.locator("#contact_email-error").is_visible()
    assert page.locator("#contact_email").input_value() == "bea-at-harbour"
    assert page.get_by_label("Full name").input_value() == "Bea Harbour"
    page.locator("#contact_email").fill(EMAIL)
    save_and_continue(page)

    # save and come back: a half-done page is kept, through signing out and in again
    assert heading(page) == "Organisation type and governance"
    page.get_by_label("Registered charity", exact=True).check()
    go(page, page.get_by_role("button", name="Save and come back later"))
    assert page.get_by_text("Your answers have been saved").is_visible()
    go(page, page.get_by_role("button", name="Sign out"))
    assert not page.get_by_text("Signed in as").count()
    sign_in(page, site, EMAIL, NEW_PASSWORD)
    go(page, page.get_by_role("link", name="Your applications").first)
    go(page, page.get_by_role("link", name=re.compile(reference)).first)
    go(page, page.get_by_role("link", name="Expression of interest"))
    assert page.get_by_text("You have completed 2 of 10 sections").is_visible()
    open_section(page, "Organisation type and governance")
    assert page.get_by_label("Registered charity", exact=True).is_checked()

    # a yes reveals the follow-up questions; the constitution is uploaded
    upload = page.get_by_label("Upload your constitution or governing document")
    assert not upload.count()  # asked only once the organisation says it has one
    page.locator("#has_governing_document").check()  # the first radio: Yes
    save_and_continue(page)
    assert heading(page) == "Organisation type and governance"  # the follow-ups, on the same page
    page.locator("#has_charitable_objectives").check()
    upload.set_input_files(pdf("constitution.pdf"))
    save_and_continue(page)
    assert heading(page) == "Organisation type and governance"
    assert page.get_by_text("constitution.pdf").is_visible()  # the upload, kept
    page.get_by_label("What are your organisation's charitable objectives?").fill(
        "To relieve hunger in Liverpool."
    )
    save_and_continue(page)

    assert heading(page) == "When your organisation was established", page.content()
    date(page, "date_established", "1", "3", "2015")
    save_and_continue(page)

    assert heading(page) == "Income, accounts and bank account"
    page.get_by_label("What was your organisation's total income in its last accounts?").fill(
        "1,200,000"
    )
    date(page, "accounts_year_end", "31", "3", "2021")
    page.get_by_label("Annual accounts", exact=True).check()
    page.locator("#has_bank_account").check()
    save_and_continue(page)
    assert heading(page) == "Income, accounts and bank account"
    page.get_by_label("Upload your annual accounts").set_input_files(pdf("accounts.pdf"))
    page.get_by_label("How many signatories does the account have?").fill("2")
    save_and_continue(page)

    assert heading(page) == "Who benefits"
    page.get_by_label("What percentage of your beneficiaries live in Liverpool?").fill("90")
    page.get_by_label("How do you know this?").fill("Postcodes of everyone we feed.")
    save_and_continue(page)

    assert heading(page) == "Safeguarding"
    page.locator("#safeguarding_policy_up_to_date").check()
    save_and_continue(page)
    assert heading(page) == "Safeguarding"
    date(page, "safeguarding_policy_reviewed", "1", "10", "2021")
    page.get_by_label("Upload your safeguarding policy").set_input_files(pdf("safeguarding.pdf"))
    save_and_continue(page)

    assert heading(page) == "Starting activity"
    date(page, "mobilisation_date", "1", "3", "2022")
    save_and_continue(page)

    # a word limit with GOV.UK's live count, updated as the applicant types
    assert heading(page) == "Your project idea"
    page.get_by_label("Social isolation/improved relationships").check()
    outline = page.get_by_label("Briefly describe the project you would propose")
    outline.press_sequentially("A weekly community meal with cooking lessons.")
    count = page.locator(".govuk-character-count__status")
    count.get_by_text("You have 293 words remaining").wait_for()
    save_and_continue(page)

    assert heading(page) == "Declaration"
    page.locator("#eoi_declaration_confirmed").check()  # Yes
    save_and_continue(page)

    # check your answers, then submit
    assert heading(page) == "Check your answers", page.content()
    body = page.locator("main").inner_text()
    for seen in ("Harbour Community Kitchen", "£1,200,000", "1 March 2015", "constitution.pdf",
                 "accounts.pdf", "safeguarding.pdf", "90%"):  # fmt: skip
        assert seen in body, seen
    # a Change link comes back here once the page is saved, not on through the form
    go(page, page.get_by_role("link", name=re.compile("Change.*organisation's name", re.I)).first)
    page.locator("#organisation_name").fill("Harbour Community Kitchen CIC")
    save_and_continue(page)
    assert heading(page) == "Check your answers", page.content()
    assert "Harbour Community Kitchen CIC" in page.locator("main").inner_text()
    go(page, page.get_by_role("button", name=re.compile("Submit")))
    assert "submitted" in heading(page).lower()
    panel = page.locator(".govuk-panel").inner_text()
    assert f"Your reference number\n{reference}" in panel, panel
    # a copy of what was sent, as a PDF
    with page.expect_download() as download:
        page.get_by_role("link", name=re.compile(r"Download your application \(PDF\)")).click()
    with open(download.value.path(), "rb") as f:
        assert f.read(5) == b"%PDF-"
    assert download.value.suggested_filename.startswith(reference)
    # no page had a JavaScript error or a console error (a script the CSP refused, say)
    assert not page.context.errors, page.context.errors
