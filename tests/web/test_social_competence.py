"""The Comune of competence on the pages: residence anywhere in Italy, the Comune chosen at
issue, a transfer from a date and the periods it may not reach, hours on euro vouchers."""

from decimal import Decimal

import pytest
from sqlalchemy import select

from tests import factories as f
from tests.web.provider_world import make_provider_world
from tests.web.social_world import form_token, make_social_world
from voucher.extensions import db
from voucher.models import Beneficiary, LedgerEntry, Voucher
from voucher.periods import Month
from voucher.services import SYSTEM, clock, redemption, statements


@pytest.fixture
def world(app):
    return make_social_world()


@pytest.fixture
def staff(client, world):
    user = f.make_user("social_worker")
    f.login(client, user)
    return user


def _register(client, other: str):
    code = f.fiscal_code_for(f.unique_birth_date(12), "M", "Rossi", "Luca")
    return client.post(
        "/servizi/beneficiari/nuovo",
        data={
            "fiscal_code": code,
            "first_name": "Luca",
            "last_name": "Rossi",
            "comune_istat": "altro",
            "comune_altro": other,
            "citizenship": "IT",
            "categories": ["minor"],
        },
    ), code


def test_a_person_living_outside_the_ente_is_registered_by_name(client, staff):
    response, code = _register(client, "Prato (PO)")
    assert response.status_code == 302, response.get_data(as_text=True)
    person = db.session.execute(
        select(Beneficiary).where(Beneficiary.fiscal_code == code)
    ).scalar_one()
    assert person.comune.istat_code == "100005" and person.comune.ente_id is None
    edit = client.get(f"/servizi/beneficiari/{person.id}/modifica").get_data(as_text=True)
    assert 'value="Prato (PO)"' in edit


@pytest.mark.parametrize(
    ("typed", "message"),
    [("Atlantide", "Nessun Comune italiano si chiama"), ("Castro", "aggiungere la provincia")],
)
def test_an_unknown_or_ambiguous_comune_is_explained(client, staff, typed, message):
    response, _code = _register(client, typed)
    assert response.status_code == 200
    assert message in response.get_data(as_text=True)


def test_issue_names_the_comune_in_charge(client, world, staff):
    scheme = f.make_scheme(residence_required=False)
    outsider = f.make_beneficiary(comune=f.PRATO)
    url = f"/servizi/beneficiari/{outsider.id}/emetti?misura={scheme.id}"
    html = client.get(url).get_data(as_text=True)
    assert "Comune di competenza" in html and 'value="048015"' in html
    client.post(
        f"/servizi/beneficiari/{outsider.id}/emetti",
        data={
            "scheme_id": scheme.id,
            "token": form_token(html),
            "comune_istat": "048015",
        },
    )
    voucher = db.session.execute(
        select(Voucher).where(Voucher.beneficiary_id == outsider.id)
    ).scalar_one()
    assert voucher.comune.istat_code == "048015"


def _transfer(client, voucher, istat: str, day):
    url = f"/servizi/buoni/{voucher.id}/trasferisci"
    assert client.get(url).status_code == 200
    return client.post(
        url,
        data={"comune_istat": istat, "from_date": day.isoformat()},
        follow_redirects=True,
    )


def test_a_transfer_from_the_voucher_page(client, world, staff):
    page = client.get(f"/servizi/buoni/{world.voucher.id}").get_data(as_text=True)
    assert "Comune di competenza" in page and "Trasferisci a un altro Comune" in page
    day = clock.today()
    html = _transfer(client, world.voucher, "048015", day).get_data(as_text=True)
    assert "Buono trasferito" in html and "Fiesole" in html
    assert world.entry.service_date == day
    entry = db.session.get(LedgerEntry, world.entry.id)
    db.session.refresh(entry)
    assert entry.comune.istat_code == "048015"


def test_a_transfer_into_an_approved_statement_is_refused_in_italian(client, world, staff):
    last_month = Month.of(clock.today()).previous()
    entry, _ = redemption.redeem(
        SYSTEM,
        world.provider.id,
        redemption.RedemptionRequest(
            world.voucher.code, "A1", last_month.start, quantity=Decimal("1")
        ),
        "competence-1",
    )
    statements.approve_statement(SYSTEM, world.provider, last_month)
    db.session.commit()
    html = _transfer(client, world.voucher, "048015", last_month.start).get_data(as_text=True)
    assert "rendiconto già approvato" in html
    db.session.expire_all()
    assert db.session.get(Voucher, world.voucher.id).comune.istat_code == "048017"


def test_hours_on_a_euro_voucher_from_the_provider_pages(client):
    pworld = make_provider_world(client)
    html = pworld.card(pworld.eur_voucher.code)
    assert 'name="hours"' in html
    assert 'name="hours"' not in pworld.card(pworld.voucher.code)
    data = pworld.form(pworld.eur_voucher, amount="40,00", hours="2,5")
    preview = client.post("/fornitore/anteprima", data=data).get_data(as_text=True)
    assert "2,5 ore" in preview
    receipt = client.post("/fornitore/conferma", data=data, follow_redirects=True)
    assert 'id="receipt-hours">2,5 ore' in receipt.get_data(as_text=True)
    entry = db.session.execute(
        select(LedgerEntry).where(LedgerEntry.voucher_id == pworld.eur_voucher.id)
    ).scalar_one()
    assert entry.hours == Decimal("2.5")
