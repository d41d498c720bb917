"""The pages' query strings and forms, fuzzed with extreme dates, numbers and texts (the crawl
of tests/security/page_fuzz.py): signed in as every role of the demo, then as a beneficiary
and anonymously, no answer of any page reached is a server error. A bounded version of the
pages pass of scripts/fuzz_api."""

from sqlalchemy import select
from werkzeug.datastructures import MultiDict

from tests.security.page_fuzz import Answer, Crawler, crawl_everyone, parse_page
from voucher.demo import load_demo
from voucher.extensions import db
from voucher.models import Voucher

DEMO_PASSWORD = "una-frase-per-la-demo"
FISCAL = {"q", "cf", "fiscal_code", "codice_fiscale", "codice-fiscale"}


def transport(client):
    """The crawl's `send`, through Flask's test client."""

    def send(method, url, pairs):
        response = client.open(url, method=method, data=MultiDict(pairs) if pairs else None)
        html = "html" in (response.content_type or "")
        return Answer(
            response.status_code,
            response.content_type or "",
            response.get_data(as_text=True) if html else "",
            response.headers.get("Location", ""),
        )

    return send


def redemption_pages(crawler: Crawler) -> None:
    """The provider's recording forms appear only for a voucher it may redeem: its card (the
    service date and amount), then the summary that confirms them."""
    codes = db.session.execute(select(Voucher.code).where(Voucher.status == "active")).scalars()
    for code in codes:
        card = crawler.send("POST", "/fornitore/", [("voucher", code)])
        if "/fornitore/anteprima" in card.text:
            break
    else:
        raise AssertionError("no demo voucher for the demo operator's provider")
    crawler.fuzz_page("/fornitore/", card)
    record = next(f for f in parse_page("/fornitore/", card.text)[1] if "anteprima" in f.action)
    pairs = [(n, v or ("1" if n in ("amount", "quantity") else v)) for n, _k, v in record.fields]
    crawler.fuzz_page("/fornitore/anteprima", crawler.send("POST", record.action, pairs))


def test_no_page_query_or_form_gives_a_server_error(app):
    logins = load_demo(password=DEMO_PASSWORD)
    db.session.commit()

    def then(role, crawler):
        if role == "provider":
            redemption_pages(crawler)

    report = crawl_everyone(lambda: transport(app.test_client()), logins, then=then)

    assert report.pages > 50 and len(report.seen_forms) > 40  # the crawl reached the pages
    assert not report.failures, "\n".join(map(str, report.failures))
    # No page asks for a codice fiscale, or a free search text, in its URL: only by POST.
    in_urls = [key for key in report.seen_forms if key[0] == "GET" and FISCAL.intersection(key[2])]
    assert not in_urls, in_urls
