"""The provider's history: its own entries only, filters, pages, this month's running total,
reversals as negative lines, and the CSV export."""

import csv
import io
from datetime import timedelta
from decimal import Decimal

import pytest

from tests.web.provider_world import FIRST_NAME, LAST_NAME, make_provider_world
from voucher.extensions import db
from voucher.models import Service
from voucher.services import SYSTEM, clock, redemption
from voucher.web.provider.history import PER_PAGE


@pytest.fixture
def world(client):
    return make_provider_world(client)


def page(world, query: str = "") -> str:
    response = world.client.get(f"/fornitore/prestazioni{query}")
    assert response.status_code == 200
    return response.get_data(as_text=True)


def csv_rows(world, query: str = "") -> list[list[str]]:
    response = world.client.get(f"/fornitore/prestazioni.csv{query}")
    assert response.status_code == 200
    assert response.mimetype == "text/csv"
    assert "attachment" in response.headers["Content-Disposition"]
    body = response.data
    assert body.startswith(b"\xef\xbb\xbf")  # the BOM that Excel needs for UTF-8
    return list(csv.reader(io.StringIO(body.decode("utf-8-sig")), delimiter=";"))


def test_only_the_providers_own_entries(world):
    mine = world.redeem_direct(world.voucher, quantity=Decimal("1"))
    theirs = world.redeem_direct(world.voucher, quantity=Decimal("3"), provider=world.other)
    html = page(world)
    assert f"/fornitore/prestazioni/{mine.id}/ricevuta" in html
    assert f"/fornitore/prestazioni/{theirs.id}/ricevuta" not in html
    assert "60,00 €" not in html  # their 3 hours
    ids = [row[0] for row in csv_rows(world)[1:-1]]
    assert ids == [str(mine.id)]


def test_the_month_total_and_reversals_as_negative_lines(world):
    first = world.redeem_direct(world.eur_voucher, service="A3", amount_cents=10_000)
    world.redeem_direct(world.eur_voucher, service="A3", amount_cents=2_000)
    redemption.reverse_redemption(SYSTEM, first.id, "registrata per errore")
    db.session.commit()
    html = page(world)
    # 100,00 € + 20,00 € - 100,00 € at 75%: 15,00 € public, 5,00 € from the families.
    assert 'id="month-public">15,00 €' in html
    assert 'id="month-copay">5,00 €' in html
    assert "Storno" in html and "-100,00 €" in html and "-75,00 €" in html
    rows = csv_rows(world)
    reversal = next(r for r in rows if r[1] == "Storno")
    assert reversal[2] == str(first.id)
    assert reversal[9:12] == ["-100,00", "-75,00", "-25,00"]
    assert rows[-1][0] == "Totale" and rows[-1][9:12] == ["20,00", "15,00", "5,00"]


def test_last_months_services_are_not_in_this_months_total(world):
    last_month = clock.today().replace(day=1) - timedelta(days=1)
    if last_month < world.voucher.valid_from:
        last_month = None  # in January the voucher was not valid last month
    entry, _ = redemption.redeem(
        SYSTEM,
        world.provider.id,
        redemption.RedemptionRequest(
            world.voucher.code, "A1", last_month or clock.today(), quantity=Decimal("1")
        ),
        "last-month",
    )
    db.session.commit()
    html = page(world)
    assert f'id="month-public">{"0,00" if last_month else "20,00"} €' in html
    assert f"/fornitore/prestazioni/{entry.id}/ricevuta" in html


def test_filters_by_voucher_service_and_dates(world):
    hour = world.redeem_direct(world.voucher, quantity=Decimal("1"))
    euro = world.redeem_direct(world.eur_voucher, service="A3", amount_cents=1_000)
    url = "/fornitore/prestazioni/{}/ricevuta"

    messy = world.voucher.code.lower().replace("-", "")
    html = page(world, f"?buono={messy}")
    assert url.format(hour.id) in html and url.format(euro.id) not in html

    html = page(world, "?servizio=A3")
    assert url.format(euro.id) in html and url.format(hour.id) not in html

    tomorrow = (clock.today() + timedelta(days=1)).isoformat()
    html = page(world, f"?dal={tomorrow}")
    assert "Nessun movimento." in html and "Prova a togliere qualche filtro." in html

    today = clock.today().isoformat()
    html = page(world, f"?dal={today}&al={today}&servizio=A1")
    assert url.format(hour.id) in html and url.format(euro.id) not in html
    # The export follows the same filters.
    assert [r[0] for r in csv_rows(world, "?servizio=A3")[1:-1]] == [str(euro.id)]
    assert 'href="/fornitore/prestazioni.csv?servizio=A3"' in page(world, "?servizio=A3")


@pytest.mark.parametrize(
    "query, message",
    [
        ("?buono=ABCD", "Questo non è un codice di buono valido."),
        ("?dal=domani", "Non è una data valida"),
        ("?dal=2026-05-02&al=2026-05-01", "La data finale precede quella iniziale."),
        ("?servizio=ZZ&pagina=-4", "Nessun movimento."),
        ("?servizio=%00&buono=%00&dal=%00", "Nessun movimento."),
        ("?pagina=999999999999", "Nessun movimento."),
    ],
)
def test_bad_filters_are_explained_never_an_error(world, query, message):
    assert message in page(world, query)
    csv_rows(world, query)


def test_pages_of_entries(world):
    for _ in range(PER_PAGE + 3):
        world.redeem_direct(world.voucher, quantity=Decimal("0.25"))
    first = page(world)
    assert first.count("/ricevuta") == PER_PAGE
    assert "Pagina 1 di 2" in first
    assert 'href="/fornitore/prestazioni?pagina=2"' in first
    second = page(world, "?pagina=2")
    assert second.count("/ricevuta") == 3 and "Pagina 2 di 2" in second
    assert f"Totale (movimenti selezionati: {PER_PAGE + 3})" in second
    assert len(csv_rows(world)) == PER_PAGE + 3 + 2  # header and totals


def test_the_csv_has_italian_headers_and_is_safe_in_a_spreadsheet(world):
    world.redeem_direct(world.voucher, quantity=Decimal("1.5"))
    service = db.session.get(Service, "A1")
    service.name_it = '=HYPERLINK("http://example.org","clic")'
    db.session.commit()
    rows = csv_rows(world)
    assert rows[0] == [
        "N. movimento",
        "Tipo",
        "Storna il movimento",
        "Data prestazione",
        "Registrata il",
        "Buono",
        "Codice servizio",
        "Servizio",
        "Quantità",
        "Costo",
        "Quota pubblica",
        "Compartecipazione",
        "Saldo residuo del buono",
    ]
    line = rows[1]
    assert line[5] == world.voucher.code and line[6] == "A1"
    assert line[7].startswith("'=")  # shown as text, never run as a formula
    assert line[8:12] == ["1,50", "30,00", "30,00", "0,00"]
    assert line[3] == clock.today().strftime("%d/%m/%Y")


def test_no_personal_data_in_the_history(world):
    world.redeem_direct(world.voucher, quantity=Decimal("1"))
    html = page(world)
    body = world.client.get("/fornitore/prestazioni.csv").get_data(as_text=True)
    for secret in (FIRST_NAME, LAST_NAME, world.person.fiscal_code):
        assert secret not in html and secret not in body
