"""Beneficiaries from the pages: search by POST, registration, editing, the person's page."""

from contextlib import nullcontext
from datetime import date

import pytest
from codicefiscale import codicefiscale
from sqlalchemy import func, select

from tests import factories as f
from tests.races import rival_unseen
from tests.web.social_world import assert_no_fiscal_code_in_urls, make_social_world
from voucher.extensions import db
from voucher.models import AuditEvent, Beneficiary, Household


@pytest.fixture
def world(app):
    return make_social_world()


@pytest.fixture
def staff(client, world):
    user = f.make_user("social_worker")
    f.login(client, user)
    return user


def registration(code: str, **overrides) -> dict:
    data = {
        "fiscal_code": code,
        "first_name": "Carla",
        "last_name": "Neri",
        "comune_istat": f.FIRENZE["istat_code"],
        "categories": ["elderly_dependent", "disabled"],
        "isee": "12.345,67",
        "isee_valid_until": "2099-12-31",
        "household_id": "",
        "new_household": "",
        "phone": "055 123456",
        "email": "carla@example.org",
        "address": "Via dei Servi 3",
    }
    data.update(overrides)
    return data


def test_search_by_fiscal_code_and_by_name_travels_in_a_post(client, world, staff):
    person = world.person
    page = client.get("/servizi/beneficiari").get_data(as_text=True)
    assert 'method="post" action="/servizi/beneficiari"' in page
    for text in (person.fiscal_code.lower(), person.last_name, f"{person.first_name[:3]}"):
        response = client.post("/servizi/beneficiari", data={"q": text})
        html = response.get_data(as_text=True)
        assert response.status_code == 200
        assert f'href="/servizi/beneficiari/{person.id}"' in html, text
        assert_no_fiscal_code_in_urls(html)
    html = client.post("/servizi/beneficiari", data={"q": "Zzzzzz"}).get_data(as_text=True)
    assert "Nessun beneficiario trovato" in html


def test_register_shows_what_the_fiscal_code_says_and_saves(client, world, staff):
    code = f.fiscal_code_for(date(1941, 3, 15), "F", "Neri", "Carla")
    check = client.post(
        "/servizi/beneficiari/nuovo", data={"fiscal_code": code.lower(), "action": "check"}
    )
    html = check.get_data(as_text=True)
    assert "nato/a il 15/03/1941, sesso Femmina" in html
    assert_no_fiscal_code_in_urls(html)

    response = client.post("/servizi/beneficiari/nuovo", data=registration(code))
    assert response.status_code == 302
    assert_no_fiscal_code_in_urls("", response.headers["Location"])
    person = db.session.execute(
        select(Beneficiary).where(Beneficiary.fiscal_code == code)
    ).scalar_one()
    assert response.headers["Location"].endswith(f"/servizi/beneficiari/{person.id}")
    assert (person.birth_date, person.sex) == (date(1941, 3, 15), "F")
    assert person.isee_cents == 1_234_567 and person.isee_valid_until == date(2099, 12, 31)
    assert person.categories == ["elderly_dependent", "disabled"]
    assert person.address == "Via dei Servi 3" and person.email == "carla@example.org"
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    for text in ("Carla Neri", "15/03/1941", "Femmina", "Anziano non autosufficiente",
                 "Persona con disabilità", "12.345,67 €", "Nessun buono emesso"):  # fmt: skip
        assert text in page, text


def test_register_accepts_omocodia_and_a_new_household(client, world, staff):
    base = f.fiscal_code_for(date(1950, 6, 2), "M", "Bruni", "Paolo")
    omocode = codicefiscale.decode(base)["omocodes"][1]
    response = client.post(
        "/servizi/beneficiari/nuovo",
        data=registration(omocode, first_name="Paolo", last_name="Bruni", new_household="Bruni"),
    )
    assert response.status_code == 302
    person = db.session.execute(
        select(Beneficiary).where(Beneficiary.fiscal_code == omocode)
    ).scalar_one()
    assert person.birth_date == date(1950, 6, 2) and person.sex == "M"
    assert person.household.label == "Bruni"


def test_register_refuses_an_invalid_or_duplicate_fiscal_code(client, world, staff):
    html = client.post(
        "/servizi/beneficiari/nuovo", data=registration("RSSMRA80A01D612C")
    ).get_data(as_text=True)
    assert "Codice fiscale non valido" in html
    assert "is-invalid" in html
    check = client.post(
        "/servizi/beneficiari/nuovo", data={"fiscal_code": "ABC", "action": "check"}
    ).get_data(as_text=True)
    assert "Codice fiscale non valido" in check

    duplicate = client.post(
        "/servizi/beneficiari/nuovo", data=registration(world.person.fiscal_code)
    ).get_data(as_text=True)
    assert "Beneficiario già registrato" in duplicate
    assert f'href="/servizi/beneficiari/{world.person.id}"' in duplicate
    assert_no_fiscal_code_in_urls(duplicate)


@pytest.mark.parametrize("race", [False, True], ids=["seen", "lost_race"])
def test_duplicate_fiscal_code_reads_the_same_when_the_race_is_lost(client, world, staff, race):
    """A rival registered between the service's check and its insert: the page shows the
    sentence the check would have shown, and nothing is half-written."""
    code = world.person.fiscal_code
    with rival_unseen(Beneficiary.fiscal_code) if race else nullcontext() as seen:
        response = client.post("/servizi/beneficiari/nuovo", data=registration(code))
    if race:
        seen.assert_lost_at_the_constraint()
    assert response.status_code < 500
    html = response.get_data(as_text=True)
    assert "Un beneficiario con questo codice fiscale è già registrato." in html
    same_code = select(func.count()).where(Beneficiary.fiscal_code == code)
    assert db.session.execute(same_code).scalar_one() == 1
    db.session.refresh(world.person)
    assert world.person.first_name != "Carla"


def test_register_reports_bad_amounts_next_to_the_field(client, world, staff):
    code = f.fiscal_code_for(date(1960, 1, 1), "F")
    html = client.post(
        "/servizi/beneficiari/nuovo", data=registration(code, isee="dodici")
    ).get_data(as_text=True)
    assert "Importo non valido" in html
    assert (
        db.session.execute(
            select(Beneficiary).where(Beneficiary.fiscal_code == code)
        ).scalar_one_or_none()
        is None
    )


def test_edit_is_saved_and_audited(client, world, staff):
    person = world.person
    household = Household(label="Famiglia Esempio")
    db.session.add(household)
    db.session.commit()
    url = f"/servizi/beneficiari/{person.id}/modifica"
    form = client.get(url).get_data(as_text=True)
    assert person.fiscal_code in form and 'name="fiscal_code"' not in form
    response = client.post(
        url,
        data=registration(
            "",
            first_name=person.first_name,
            last_name=person.last_name,
            categories=["elderly_self_sufficient", "minor"],
            isee="8.000",
            household_id=str(household.id),
        ),
    )
    assert response.status_code == 302
    db.session.refresh(person)
    assert person.isee_cents == 800_000 and person.household_id == household.id
    assert person.categories == ["elderly_self_sufficient", "minor"]
    event = db.session.execute(
        select(AuditEvent).where(AuditEvent.action == "beneficiary.updated")
    ).scalar_one()
    assert event.object_id == str(person.id) and "isee_cents" in event.data["fields"]


def test_beneficiary_page_lists_vouchers_and_active_schemes(client, world, staff):
    html = client.get(f"/servizi/beneficiari/{world.person.id}").get_data(as_text=True)
    assert world.voucher.code in html
    assert f'href="/servizi/buoni/{world.voucher.id}"' in html
    assert world.scheme.name in html and "Verifica i requisiti" in html
    assert_no_fiscal_code_in_urls(html)
