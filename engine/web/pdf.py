"""HTML pages as PDF documents, with WeasyPrint (which needs Pango: .ci/run installs it)."""

from __future__ import annotations


def html_to_pdf(html: str) -> bytes:
    """The PDF of a self-contained HTML page (nothing outside it is fetched)."""
    import weasyprint  # Pango loads only when someone first asks for a PDF
    from weasyprint.urls import URLFetcher

    class NothingFetched(URLFetcher):  # type: ignore[misc]
        """Refuses every URL: the page is the service's own template with everything inline, so
        a URL in it came from an answer, and fetching it would let an applicant make the server
        request any address."""

        def fetch(self, url: str, headers: object = None) -> None:
            raise ValueError(f"the PDF does not load {url}")

    pdf: bytes = weasyprint.HTML(string=html, url_fetcher=NothingFetched()).write_pdf()
    return pdf
