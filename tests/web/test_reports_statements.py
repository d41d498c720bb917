"""Provider statements on the pages: choose provider and month, read lines, subtotals and
totals, approve (the admin, with a confirmation), upload the month's FatturaPA invoices and
record the payment (the ragioneria, once nothing blocks it); refusals are messages; the
provider follows the status of its own statements and uploads its invoices."""

import io
import re

import pytest
from markupsafe import escape
from sqlalchemy import select
from werkzeug.datastructures import FileStorage
from werkzeug.test import encode_multipart

from tests import factories as f
from tests.fatturapa import invoice_xml, p7m
from tests.reports.world import make_payable
from tests.web.reports_world import MONTH, YEAR, build
from voucher.extensions import db
from voucher.models import Statement, StatementInvoice
from voucher.periods import Month
from voucher.reports.statement import statement_report
from voucher.services import SYSTEM, clock, payments
from voucher.services.money import format_euro
from voucher.web.labels import LEGAL_MODEL_LABELS, PAYMENT_BLOCK_LABELS


@pytest.fixture
def world(app, client):
    w = build(client)
    w.users["finance"] = f.make_user("finance")
    w.login("admin")
    return w


def _as(w, role):
    """Sign out, and in again as `role`."""
    w.client.post("/esci")
    return w.login(role)


def _to_invoice(w) -> list[dict]:
    return statement_report(w.provider, Month.parse(MONTH))["to_invoice"]


def _make_payable_and_invoiced(w):
    """What a payment needs: the provider's payment data and a matching invoice per CUP."""
    make_payable(w.provider)
    for n, item in enumerate(_to_invoice(w)):
        document = invoice_xml(
            w.provider.vat_number, total_cents=item["cents"], cup=item["cup"], number=f"F{n}"
        )
        payments.record_invoice(SYSTEM, w.provider, Month.parse(MONTH), document)
    db.session.commit()


def _upload(w, document: bytes | None, filename="fattura.xml", provider=None, **data):
    values = {"month": MONTH, **data}
    if document is not None:
        values["document"] = FileStorage(io.BytesIO(document), filename)
    # Encoded in memory: the test client would spool a large body to a file it never closes.
    boundary, body = encode_multipart(values)
    provider = provider or w.provider
    return w.client.post(
        f"/rendiconti/fornitori/{provider.id}/fatture",
        data=body,
        content_type=f"multipart/form-data; boundary={boundary}",
    )


def _words(*reasons) -> list[str]:
    """The reasons as the page writes them (HTML-escaped)."""
    return [str(escape(PAYMENT_BLOCK_LABELS[reason])) for reason in reasons]


def _statement(w):
    return db.session.execute(
        select(Statement).where(Statement.provider_id == w.provider.id, Statement.month == MONTH)
    ).scalar_one_or_none()


def _approve(w, month=MONTH):
    return w.client.post(f"/rendiconti/fornitori/{w.provider.id}/approva", data={"month": month})


def _pay(w, **data):
    body = {"month": MONTH, "reference": "Mandato 123/2025", "paid_on": clock.today().isoformat()}
    body.update(data)
    return w.client.post(f"/rendiconti/fornitori/{w.provider.id}/pagamento", data=body)


def test_choosing_provider_and_month_opens_the_statement(world):
    w = world
    html = w.client.get("/rendiconti/fornitori").get_data(as_text=True)
    assert f'<option value="{w.provider.id}">{w.provider.name}' in html
    assert "is-invalid" not in html  # nothing chosen yet is no error
    only_month = w.client.get(f"/rendiconti/fornitori?month={MONTH}")
    assert only_month.status_code == 400
    assert "Scegliere un fornitore" in only_month.get_data(as_text=True)
    response = w.client.get(f"/rendiconti/fornitori?provider={w.provider.id}&month={MONTH}")
    assert response.status_code == 302
    assert response.headers["Location"] == w.statement_url()


def test_statement_page_shows_lines_and_totals_of_the_report(world):
    w = world
    api = w.client.get(
        f"/api/v1/reports/providers/{w.provider.id}/statement?month={MONTH}",
        headers=f.api_token(w.client, w.users["admin"]),
    ).get_json()
    html = w.client.get(w.statement_url()).get_data(as_text=True)
    assert "Aperto" in html and "marzo" in html.lower()
    assert f'id="total-public">{format_euro(api["total_public_cents"])}<' in html
    assert f'id="total-copay">{format_euro(api["total_copay_cents"])}<' in html
    assert f'id="total-lines">{len(api["lines"])}<' in html
    assert html.count('<tr class="app-reversal">') == 2
    for line in api["lines"]:
        assert line["voucher_code"] in html
    assert 'data-confirm="Approvare il rendiconto' in html

    # Subtotals per fund, CUP and Comune, adding up to the totals; the lines say theirs too.
    subtotals = html.split('id="subtotals"')[1].split("</table>")[0]
    rows = statement_report(w.provider, Month.parse(MONTH))["subtotals"]
    assert len(rows) > 1 and len(rows) == len(api["subtotals"])
    for row in rows:
        assert f"{row['comune_name']} " in subtotals and row["fund_code"] in subtotals
        assert f"ISTAT {row['comune_istat']}" in subtotals
    public = sum(row["public_cents"] for row in rows)
    assert public == api["total_public_cents"]
    assert f'id="subtotals-public">{format_euro(public)}<' in html
    assert f'id="subtotals-copay">{format_euro(api["total_copay_cents"])}<' in html
    purchase = sum(row["purchase_cents"] for row in rows)
    assert f'id="subtotals-purchase">{format_euro(purchase)}<' in html
    assert html.count("Fondo, CUP e Comune") == 1
    lines = html.split('id="lines-title"')[1]
    assert all(row["comune_name"] in lines for row in rows)
    assert str(escape(LEGAL_MODEL_LABELS["purchase"])) in html.split('id="legal-models"')[1]
    # Nothing invoiced yet: the amount waits for its invoice, and the admin may upload it.
    assert "In attesa di fattura" in html and "Nessuna fattura registrata." in html
    assert 'enctype="multipart/form-data"' in html and 'accept=".xml,.p7m' in html


def test_approve_then_pay(world):
    w = world
    response = _approve(w)
    assert response.status_code == 302 and response.headers["Location"] == w.statement_url()
    statement = _statement(w)
    assert statement.status == "approved" and statement.approved_by_id == w.users["admin"].id
    html = w.client.get(w.statement_url()).get_data(as_text=True)
    assert "approvato: da ora non cambia più" in html
    assert "Approvato, da pagare" in html
    assert "Approva il rendiconto" not in html
    # The admin approves and the ragioneria pays: no payment form, a note in its place.
    assert "Registra il pagamento" not in html and "/pagamento" not in html
    assert "registrato dalla ragioneria" in html
    assert _pay(w).status_code == 403
    assert _statement(w).status == "approved"

    listed = w.client.get("/rendiconti/fornitori").get_data(as_text=True)
    approved = listed.split('id="approved-title"')[1].split('id="paid-title"')[0]
    assert w.provider.name in approved

    again = _approve(w)
    assert again.status_code == 302
    assert "già approvato" in w.client.get(w.statement_url()).get_data(as_text=True)

    _make_payable_and_invoiced(w)
    _as(w, "finance")
    html = w.client.get(w.statement_url()).get_data(as_text=True)
    assert "Registra il pagamento" in html and 'id="blocked-reasons"' not in html
    assert "IT60X0542811101000000123456" in html and "Corrisponde" in html
    response = _pay(w)
    assert response.status_code == 302
    db.session.refresh(statement)
    assert statement.status == "paid" and statement.payment_reference == "Mandato 123/2025"
    assert statement.paid_on == clock.today()
    html = w.client.get(w.statement_url()).get_data(as_text=True)
    assert "Pagamento registrato." in html
    assert re.search(r'id="statement-status"><span class="badge bg-success">Pagato<', html)
    assert "Mandato 123/2025" in html and "Registra il pagamento" not in html
    assert "Carica una fattura" not in html  # paid: nothing more to invoice
    listed = w.client.get("/rendiconti/fornitori").get_data(as_text=True)
    assert w.provider.name in listed.split('id="paid-title"')[1]

    twice = _pay(w)
    assert twice.status_code == 422
    assert "già pagato" in twice.get_data(as_text=True)

    # The Fondo Povertà report now counts the paid statement's public shares as liquidato.
    poverty = w.client.get(
        f"/api/v1/reports/fondo-poverta?year={YEAR}",
        headers=f.api_token(w.client, w.users["admin"]),
    ).get_json()
    assert poverty["totals"]["paid_cents"] > 0
    page = w.client.get(f"/rendiconti/fondo-poverta?year={YEAR}").get_data(as_text=True)
    assert f'id="total-paid">{format_euro(poverty["totals"]["paid_cents"])}<' in page

    # The provider follows it from its own area.
    w.client.post("/esci")
    w.login("provider")
    mine = w.client.get("/rendiconti/miei-rendiconti").get_data(as_text=True)
    assert MONTH in mine and "Pagato" in mine and "Mandato 123/2025" in mine
    own = w.client.get(w.statement_url()).get_data(as_text=True)
    assert "Pagato" in own and "Registra il pagamento" not in own


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"reference": ""}, "Indicare il riferimento del pagamento"),
        ({"reference": "x" * 101}, "Al massimo 100 caratteri"),
        ({"paid_on": ""}, "Indicare la data del pagamento"),
        ({"paid_on": "2026-02-30"}, "Non è una data valida"),
        ({"paid_on": "2999-01-01"}, "nel futuro"),
        ({"paid_on": f"{YEAR}-01-02"}, "precede l&#39;approvazione"),
    ],
)
def test_payment_errors_are_shown_next_to_the_fields(world, data, message):
    _approve(world)
    _make_payable_and_invoiced(world)
    _as(world, "finance")
    response = _pay(world, **data)
    html = response.get_data(as_text=True)
    assert response.status_code == 422
    assert message in html
    assert _statement(world).status == "approved"


def test_payment_needs_an_approved_statement(world):
    _as(world, "finance")
    response = _pay(world)
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    assert "non è ancora approvato" in html
    assert _statement(world) is None
    # Every reason at once, in words.
    reasons = html.split('id="blocked-reasons"')[1].split("</ul>")[0]
    for words in _words(*payments.REASONS):
        assert words in reasons


def test_finance_sees_what_blocks_the_payment(world):
    w = world
    _approve(w)
    _as(w, "finance")
    html = w.client.get(w.statement_url()).get_data(as_text=True)
    reasons = html.split('id="blocked-reasons"')[1].split("</ul>")[0]
    for words in _words("missing_iban", "durc_expired", "dedicated_account_missing"):
        assert words in reasons
    assert _words("invoice_missing")[0] in reasons and "approvato" not in reasons
    # The reasons come before the payment form, which stays: the DURC is read on its date.
    assert html.index('id="blocked-reasons"') < html.index("/pagamento")
    assert "Approva il rendiconto" not in html

    make_payable(w.provider, durc_valid_until=clock.today())
    response = _pay(w)
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    reasons = html.split('id="blocked-reasons"')[1].split("</ul>")[0]
    assert reasons.count("<li") == 1 and _words("invoice_missing")[0] in reasons
    assert "Pagamento del rendiconto di marzo" in html  # the refusal's own sentence
    assert _statement(w).status == "approved"
    assert _approve(w).status_code == 403  # approving is the admin's


def test_invoice_upload_on_the_statement_page(world):
    w = world
    _as(w, "finance")
    (item,) = _to_invoice(w)
    expected, vat = item["cents"], w.provider.vat_number
    assert item["cup"] is None and expected > 0

    refusals = [
        (_upload(w, None), "Scegliere il file della fattura."),
        (_upload(w, b""), "Il file caricato è vuoto"),
        (_upload(w, b"<" + b" " * (5 * 1024 * 1024)), "Il file supera i 5 MB"),
        (_upload(w, invoice_xml(vat, total_cents=expected), "fattura.pdf"), "(.p7m)"),
        (_upload(w, b"<?xml version='1.0'?><ordine><n>1</n></ordine>"), "non è una FatturaPA"),
        (
            _upload(w, invoice_xml(vat, total_cents=expected), sdi_id="12ab"),
            "identificativo SdI è un numero",
        ),
    ]
    # Past the application's limit on any request: the page that explains it, not a 5xx.
    huge = _upload(w, b"<" + b" " * (16 * 1024 * 1024))
    assert huge.status_code == 413 and "File troppo grande" in huge.get_data(as_text=True)
    for response, message in refusals:
        html = response.get_data(as_text=True)
        assert response.status_code == 422, message
        assert message in html.replace("&#39;", "'"), message
        assert "Carica una fattura" in html and "is-invalid" in html, message

    # Two cents off: refused, both figures side by side, in Italian.
    response = _upload(w, invoice_xml(vat, total_cents=expected + 2, number="A-1"))
    html = response.get_data(as_text=True)
    assert response.status_code == 422
    assert "La fattura non corrisponde al rendiconto" in html
    figures = html.split('id="invoice-mismatch"')[1].split("</dl>")[0]
    assert format_euro(expected + 2) in figures and format_euro(expected) in figures
    assert format_euro(2) in figures
    assert f"La fattura vale {format_euro(expected + 2)}" in html
    assert db.session.execute(select(StatementInvoice)).first() is None

    response = _upload(w, invoice_xml(vat, total_cents=expected, number="A-2"), sdi_id="4242")
    assert response.status_code == 302
    assert response.headers["Location"] == w.statement_url()
    html = w.client.get(w.statement_url()).get_data(as_text=True)
    assert "Fattura n. A-2 registrata: corrisponde al rendiconto." in html
    invoices = html.split('id="invoices"')[1].split("</table>")[0]
    assert "A-2" in invoices and "4242" in invoices and "Corrisponde" in invoices
    assert format_euro(expected) in invoices and "N4" in invoices
    assert "Fatturato" in html and "Carica una fattura" not in html

    again = _upload(w, invoice_xml(vat, total_cents=expected, number="A-3"))
    assert again.status_code == 409
    assert "già registrata la fattura n. A-2" in again.get_data(as_text=True)


def test_provider_uploads_on_its_own_statement_only(world):
    w = world
    _as(w, "provider")
    html = w.client.get(w.statement_url()).get_data(as_text=True)
    assert "Carica una fattura" in html and "Approvazione e pagamento" not in html
    (item,) = _to_invoice(w)
    signed = p7m(invoice_xml(w.provider.vat_number, total_cents=item["cents"], number="7"))
    response = _upload(w, signed, f"IT{w.provider.vat_number}_00007.xml.p7m")
    assert response.status_code == 302
    html = w.client.get(w.statement_url()).get_data(as_text=True)
    assert "Fattura n. 7 registrata: corrisponde al rendiconto." in html
    assert "Corrisponde" in html.split('id="invoices"')[1]
    recorded = db.session.execute(select(StatementInvoice)).scalar_one()
    assert recorded.content_type == "application/pkcs7-mime"
    assert recorded.uploaded_by_id == w.users["provider"].id

    other = _upload(w, invoice_xml(w.other.vat_number, total_cents=100), provider=w.other)
    assert other.status_code == 404


def test_an_unfinished_month_cannot_be_approved(world):
    w = world
    current = clock.today().strftime("%Y-%m")
    html = w.client.get(w.statement_url(month=current)).get_data(as_text=True)
    assert "Mese non concluso" in html and "Approva il rendiconto" not in html
    response = _approve(w, current)
    assert response.status_code == 302
    assert "non è ancora concluso" in w.client.get(response.headers["Location"]).get_data(
        as_text=True
    )


@pytest.mark.parametrize("month", ["", "2026-13", "marzo"])
def test_a_bad_posted_month_is_400(world, month):
    response = _approve(world, month)
    assert response.status_code == 400
    assert "Mese non valido" in response.get_data(as_text=True)


def test_late_entry_after_approval_goes_to_the_next_statement(world):
    w = world
    _approve(w)
    frozen = _statement(w).total_public_cents
    html = w.client.get(w.statement_url(month=f"{YEAR}-04")).get_data(as_text=True)
    assert "Nessuna prestazione in questo mese." in html
    html = w.client.get(w.statement_url()).get_data(as_text=True)
    assert f'id="total-public">{format_euro(frozen)}<' in html
